/* SPDX-License-Identifier: ISC */
/*
 * Allocation with one out-of-memory policy for the whole program: xendomd
 * gives up.  A daemon that silently dropped a domain, an event or a reply
 * would desynchronise itself from the hypervisor; libxl itself exits on
 * allocation failure for the same reason.
 */
#ifndef XD_UTIL_ALLOC_H
#define XD_UTIL_ALLOC_H

#include <stdarg.h>
#include <stddef.h>

/* Print "xendomd: out of memory" and abort. */
_Noreturn void xd_oom(void);
/* Zeroed memory; n == 0 still returns a unique pointer. */
void *xd_calloc(size_t n, size_t size);
void *xd_malloc0(size_t size);
void *xd_reallocarray(void *p, size_t n, size_t size);
char *xd_strdup(const char *s);
char *xd_strndup(const char *s, size_t n);
char *xd_asprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *xd_vasprintf(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));

/* Make room for one more element of arr (n used, cap allocated). */
#define XD_GROW(arr, n, cap) do {                                               \
		if ((n) == (cap)) {                                             \
			(cap) = (cap) ? (cap) * 2 : 16;                         \
			(arr) = xd_reallocarray((arr), (cap), sizeof(*(arr)));  \
		}                                                               \
	} while (0)

#endif
