/* SPDX-License-Identifier: ISC */
/* Parsing of the plain values every configuration file of ours uses. */
#ifndef XD_UTIL_PARSE_H
#define XD_UTIL_PARSE_H

#include <stdbool.h>
#include <stdint.h>

/* A decimal whole number: digits only (no sign, no space), no overflow. */
bool xd_parse_u64(const char *v, uint64_t *out);
/* yes/true/on/1 or no/false/off/0, any case. */
bool xd_parse_bool(const char *v, bool *out);

#endif
