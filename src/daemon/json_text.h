/* SPDX-License-Identifier: ISC */
/* Text for the control protocol's JSON (control/, reload.c). */
#ifndef XD_DAEMON_JSON_TEXT_H
#define XD_DAEMON_JSON_TEXT_H

#include <jansson.h>

/* s as a JSON string, null for NULL.  UTF-8 text goes as it is (JSON
 * escapes its control characters; xendomctl escapes them again for a
 * terminal, ctl/safe.h); text that is not UTF-8 (a guest-written value,
 * words from a binary file) cannot be a JSON string and goes escaped as
 * util/escape.h does it: its printable UTF-8 kept, every other byte
 * \xNN. */
json_t *xd_json_text(const char *s);

#endif
