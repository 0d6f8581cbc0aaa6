/*
 * Configuration diagnostics: every problem found while loading, each with
 * the file and line it is about, so `xendomd --check` can list them all in
 * one run ("FILE:LINE: message", or "FILE: message" for a whole file).
 */
#ifndef XD_CONFIG_DIAG_H
#define XD_CONFIG_DIAG_H

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

struct xd_diag {
	char *file;
	int line;                /* 0 = about the whole file */
	char *msg;
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

/* Continue the last diagnostic's message with "; more" (needs d->n > 0). */
void xd_diag_append(struct xd_diags *d, const char *more);

/* "FILE:LINE: message" (or "FILE: message") lines, in the order found. */
void xd_diags_print(const struct xd_diags *d, FILE *f);
void xd_diags_free(struct xd_diags *d);

#endif
