/* SPDX-License-Identifier: ISC */
/*
 * Configuration diagnostics: every problem found while loading, each with
 * the file and line it is about, so `xendomd --check` can list them all in
 * one run ("FILE:LINE: message", or "FILE: message" for a whole file).
 */
#ifndef XD_CONFIG_DIAG_H
#define XD_CONFIG_DIAG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* An error refuses the configuration in strict loads (--check, reload) and
 * fails its domain in degraded ones; a warning or notice never does. */
enum xd_diag_severity { XD_DIAG_ERROR, XD_DIAG_WARNING, XD_DIAG_NOTICE };

struct xd_diag {
	char *file;
	int line;                /* 0 = about the whole file */
	char *msg;
	enum xd_diag_severity severity;
	bool warning;            /* severity != XD_DIAG_ERROR */
};

struct xd_diags {
	struct xd_diag *v;
	size_t n;
};

/* Append one diagnostic (printf-style message).  Aborts on ENOMEM, like
 * every allocation in the loader: a config daemon without memory has no
 * better option. */
void xd_diag_add(struct xd_diags *d, const char *file, int line,
		 const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void xd_diag_vadd(struct xd_diags *d, const char *file, int line, const char *fmt, va_list ap)
	__attribute__((format(printf, 4, 0)));

/* The same, as a warning ("FILE: warning: message") or a notice. */
void xd_diag_warn(struct xd_diags *d, const char *file, int line,
		  const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void xd_diag_add_sev(struct xd_diags *d, enum xd_diag_severity sev, const char *file, int line,
		     const char *fmt, ...) __attribute__((format(printf, 5, 6)));
void xd_diag_vadd_sev(struct xd_diags *d, enum xd_diag_severity sev, const char *file, int line,
		      const char *fmt, va_list ap) __attribute__((format(printf, 5, 0)));

/* How many of d are errors (not warnings or notices). */
size_t xd_diags_errors(const struct xd_diags *d);

/* Continue the last diagnostic's message with "; more" (needs d->n > 0). */
void xd_diag_append(struct xd_diags *d, const char *more);

/* "FILE:LINE: message" (or "FILE: message") lines, in the order found;
 * warnings and notices as "FILE:LINE: warning: message" ("notice: "). */
void xd_diags_print(const struct xd_diags *d, FILE *f);
void xd_diags_free(struct xd_diags *d);

#endif
