/* Configuration diagnostics. */
#include "config/diag.h"
#include "config/util.h"

#include <stdarg.h>
#include <stdlib.h>

void xd_diag_add(struct xd_diags *d, const char *file, int line,
		 const char *fmt, ...)
{
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		xd_oom();
	va_end(ap);
	d->v = xd_reallocarray(d->v, d->n + 1, sizeof(*d->v));
	d->v[d->n++] = (struct xd_diag){ xd_strdup(file), line, msg };
}

void xd_diags_print(const struct xd_diags *d, FILE *f)
{
	for (size_t i = 0; i < d->n; i++) {
		const struct xd_diag *g = &d->v[i];
		if (g->line > 0)
			fprintf(f, "%s:%d: %s\n", g->file, g->line, g->msg);
		else
			fprintf(f, "%s: %s\n", g->file, g->msg);
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
