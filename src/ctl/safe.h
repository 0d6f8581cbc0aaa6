/* SPDX-License-Identifier: ISC */
/*
 * What xendomctl prints of the daemon's replies, safe for a terminal.
 * Names, reasons and errors quote input the daemon does not control (a
 * configuration file, a save image's file name, libxl's and a guest's
 * words): in human output every control character and byte that is not
 * printable UTF-8 shows as \xNN (util/escape.h); in --json output the
 * JSON escapes that jansson leaves raw (DEL and the C1 controls, which
 * some terminals obey like ESC) are written as \u escapes too.
 */
#ifndef XD_CTL_SAFE_H
#define XD_CTL_SAFE_H

#include <jansson.h>
#include <stdio.h>

/* s escaped, to out (nothing for NULL). */
void safe_put(FILE *out, const char *s);
/* Multi-line text (plan, dot): escaped but for its newlines and tabs. */
void safe_put_lines(FILE *out, const char *text);
/* The JSON text of j with no control character raw in it (malloc'ed,
 * NULL on failure). */
char *safe_json_dumps(const json_t *j, size_t flags);
/* Display width of escaped text: its characters, not its bytes. */
size_t safe_width(const char *s);

#endif
