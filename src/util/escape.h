/* SPDX-License-Identifier: ISC */
/*
 * Text quoted from untrusted input (a request's names, what a binary
 * file or a guest says) made safe for a terminal or a log: control
 * characters (C0, DEL, C1) and bytes that are not printable UTF-8 become
 * \xNN (\r and \t as such); printable UTF-8 passes unchanged.
 */
#ifndef XD_UTIL_ESCAPE_H
#define XD_UTIL_ESCAPE_H

#include <stddef.h>

/* A malloc'ed escaped copy (xd_oom on failure). */
/* Length (2-4) of the well-formed UTF-8 sequence of a printable character
 * at p, or 0 (a stray byte, an overlong form, a surrogate, beyond
 * U+10FFFF, or a C1 control). */
size_t xd_utf8_printable(const unsigned char *p);
char *xd_escape(const char *s);
/* The same into out (cap bytes, NUL included), cut before a partial
 * escape or character. */
void xd_escape_into(char *out, size_t cap, const char *s);

#endif
