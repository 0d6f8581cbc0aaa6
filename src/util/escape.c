/* SPDX-License-Identifier: ISC */
/* Untrusted text made safe for a terminal or a log (escape.h). */
#include "util/escape.h"

#include <string.h>

#include "util/alloc.h"

/*
 * Length of the well-formed UTF-8 sequence of a printable character at p
 * (2 to 4 bytes), or 0: a stray byte, an overlong form, a surrogate,
 * beyond U+10FFFF, or a C1 control (U+0080-U+009F, which terminals obey
 * like ESC).
 */
size_t xd_utf8_printable(const unsigned char *p)
{
	size_t n = p[0] >= 0xc2 && p[0] <= 0xdf ? 2 : p[0] >= 0xe0 && p[0] <= 0xef ? 3
		 : p[0] >= 0xf0 && p[0] <= 0xf4 ? 4 : 0;
	unsigned char lo = 0x80, hi = 0xbf;

	if (p[0] == 0xe0)
		lo = 0xa0;               /* overlong */
	else if (p[0] == 0xed)
		hi = 0x9f;               /* surrogates */
	else if (p[0] == 0xf0)
		lo = 0x90;               /* overlong */
	else if (p[0] == 0xf4)
		hi = 0x8f;               /* above U+10FFFF */
	else if (p[0] == 0xc2)
		lo = 0xa0;               /* C1 controls */
	if (!n || p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return n;
}

/* The escaped form of the character at p (at most 4 bytes, into piece);
 * *used gets how many input bytes it took. */
static size_t escape_one(const unsigned char *p, char *piece, size_t *used)
{
	size_t n = *p >= 0x80 ? xd_utf8_printable(p) : 0;
	*used = n ? n : 1;
	if (n) {
		memcpy(piece, p, n);
		return n;
	}
	if (*p == '\r' || *p == '\t') {
		piece[0] = '\\';
		piece[1] = *p == '\r' ? 'r' : 't';
		return 2;
	}
	if (*p < 0x20 || *p >= 0x7f) {
		static const char hex[] = "0123456789abcdef";
		piece[0] = '\\';
		piece[1] = 'x';
		piece[2] = hex[*p >> 4];
		piece[3] = hex[*p & 15];
		return 4;
	}
	piece[0] = (char)*p;
	return 1;
}

void xd_escape_into(char *out, size_t cap, const char *s)
{
	size_t len = 0, used;
	char piece[4];
	if (!cap)
		return;
	for (const unsigned char *p = (const unsigned char *)s; *p; p += used) {
		size_t n = escape_one(p, piece, &used);
		if (len + n >= cap)
			break;
		memcpy(out + len, piece, n);
		len += n;
	}
	out[len] = '\0';
}

char *xd_escape(const char *s)
{
	size_t cap = strlen(s) * 4 + 1;
	char *out = xd_calloc(cap, 1);
	xd_escape_into(out, cap, s);
	return out;
}
