/* SPDX-License-Identifier: ISC */
/* Configuration diagnostics. */
#include "config/diag.h"
#include "config/util.h"
#include "util/escape.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void xd_diag_vadd_sev(struct xd_diags *d, enum xd_diag_severity sev, const char *file, int line,
		      const char *fmt, va_list ap)
{
	char *raw;

	if (vasprintf(&raw, fmt, ap) < 0)
		xd_oom();
	d->v = xd_reallocarray(d->v, d->n + 1, sizeof(*d->v));
	d->v[d->n++] = (struct xd_diag){ xd_escape(file), line, xd_escape(raw), sev,
	                                 sev != XD_DIAG_ERROR };
	free(raw);
}

void xd_diag_vadd(struct xd_diags *d, const char *file, int line, const char *fmt, va_list ap)
{
	xd_diag_vadd_sev(d, XD_DIAG_ERROR, file, line, fmt, ap);
}

void xd_diag_warn(struct xd_diags *d, const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	xd_diag_vadd_sev(d, XD_DIAG_WARNING, file, line, fmt, ap);
	va_end(ap);
}

void xd_diag_add_sev(struct xd_diags *d, enum xd_diag_severity sev, const char *file, int line,
		     const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	xd_diag_vadd_sev(d, sev, file, line, fmt, ap);
	va_end(ap);
}

size_t xd_diags_errors(const struct xd_diags *d)
{
	size_t n = 0;

	for (size_t i = 0; i < d->n; i++)
		n += d->v[i].severity == XD_DIAG_ERROR;
	return n;
}

void xd_diag_add(struct xd_diags *d, const char *file, int line,
		 const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	xd_diag_vadd(d, file, line, fmt, ap);
	va_end(ap);
}

void xd_diag_append(struct xd_diags *d, const char *more)
{
	struct xd_diag *last = &d->v[d->n - 1];
	char *tail = xd_escape(more);
	char *joined = xd_asprintf("%s; %s", last->msg, tail);

	free(tail);
	free(last->msg);
	last->msg = joined;
}

void xd_diags_print(const struct xd_diags *d, FILE *f)
{
	for (size_t i = 0; i < d->n; i++) {
		const struct xd_diag *g = &d->v[i];
		const char *sev = g->severity == XD_DIAG_WARNING ? "warning: "
				: g->severity == XD_DIAG_NOTICE ? "notice: " : "";
		if (g->line > 0)
			fprintf(f, "%s:%d: %s%s\n", g->file, g->line, sev, g->msg);
		else
			fprintf(f, "%s: %s%s\n", g->file, sev, g->msg);
	}
}

void xd_diags_free(struct xd_diags *d)
{
	for (size_t i = 0; i < d->n; i++) {
		free(d->v[i].file);
		free(d->v[i].msg);
	}
	free(d->v);
	d->v = NULL;
	d->n = 0;
}
