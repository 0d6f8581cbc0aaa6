/* SPDX-License-Identifier: ISC */
/* xendomctl's output made safe for a terminal (safe.h). */
#include "ctl/safe.h"

#include <stdlib.h>
#include <string.h>

#include "util/escape.h"

void safe_put(FILE *out, const char *s)
{
	if (!s)
		return;
	char *e = xd_escape(s);
	fputs(e, out);
	free(e);
}

void safe_put_lines(FILE *out, const char *text)
{
	while (text && *text) {
		size_t len = strcspn(text, "\n\t");
		char *piece = strndup(text, len);
		if (!piece)
			return;
		safe_put(out, piece);
		free(piece);
		if (text[len])
			fputc(text[len++], out);  /* the layout's own newline or tab */
		text += len;
	}
}

/* Length of a raw DEL or C1 control at p (1 or 2 bytes), else 0.  In
 * JSON text they can only be inside strings (the rest is ASCII), where
 * \u007f and \u0080-\u009f mean the same characters. */
static size_t raw_control(const unsigned char *p, unsigned *cp)
{
	if (p[0] == 0x7f) {
		*cp = 0x7f;
		return 1;
	}
	if (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f) {
		*cp = p[1];
		return 2;
	}
	return 0;
}

char *safe_json_dumps(const json_t *j, size_t flags)
{
	char *text = json_dumps(j, flags);
	if (!text)
		return NULL;
	size_t len = strlen(text);
	char *out = malloc(len * 6 + 1);     /* a byte becomes 6 at most */
	if (!out) {
		free(text);
		return NULL;
	}
	size_t o = 0, n;
	unsigned cp;
	for (const unsigned char *p = (const unsigned char *)text; *p; p += n ? n : 1) {
		n = raw_control(p, &cp);
		if (n)
			o += (size_t)sprintf(out + o, "\\u%04x", cp);
		else
			out[o++] = (char)*p;
	}
	out[o] = '\0';
	free(text);
	return out;
}

size_t safe_width(const char *s)
{
	size_t w = 0;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		w += (*p & 0xc0) != 0x80;        /* not a continuation byte */
	return w;
}
