/* SPDX-License-Identifier: ISC */
/* Text for the control protocol's JSON (control/, reload.c). */
#ifndef XD_DAEMON_JSON_TEXT_H
#define XD_DAEMON_JSON_TEXT_H

#include <jansson.h>

/* s as a JSON string, null for NULL; text that is not UTF-8 (a
 * guest-written value, a name from a binary file) becomes printable
 * ASCII with '?' for the rest, cut at 511 bytes. */
json_t *xd_json_text(const char *s);

#endif
