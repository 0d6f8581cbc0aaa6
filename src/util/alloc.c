/* SPDX-License-Identifier: ISC */
#include "util/alloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void xd_oom(void)
{
	fputs("xendomd: out of memory\n", stderr);
	abort();
}

void *xd_calloc(size_t n, size_t size)
{
	void *r = calloc(n ? n : 1, size ? size : 1);
	if (!r)
		xd_oom();
	return r;
}

void *xd_malloc0(size_t size)
{
	return xd_calloc(1, size);
}

void *xd_reallocarray(void *p, size_t n, size_t size)
{
	void *r = reallocarray(p, n ? n : 1, size ? size : 1);
	if (!r)
		xd_oom();
	return r;
}

char *xd_strdup(const char *s)
{
	char *r = strdup(s);
	if (!r)
		xd_oom();
	return r;
}

char *xd_strndup(const char *s, size_t n)
{
	char *r = strndup(s, n);
	if (!r)
		xd_oom();
	return r;
}

char *xd_vasprintf(const char *fmt, va_list ap)
{
	char *r;
	if (vasprintf(&r, fmt, ap) < 0)
		xd_oom();
	return r;
}

char *xd_asprintf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *r = xd_vasprintf(fmt, ap);
	va_end(ap);
	return r;
}
