/* SPDX-License-Identifier: ISC */
/* Small helpers shared by the configuration loader's files. */
#ifndef XD_CONFIG_UTIL_H
#define XD_CONFIG_UTIL_H

#include <stdbool.h>
#include <stddef.h>

#include "util/alloc.h"
#include "util/escape.h"

/* Xen domain names as xendomd accepts them: what xl accepts, except what
 * cannot be a file name in save_dir/state_dir or would be unsafe in logs
 * and JSON: 1-63 bytes of printable UTF-8 (no control character, C1
 * included), no '/', not "." or "..", and not "Domain-0" (the control
 * domain already has it).  Returns NULL if fine, else why not. */
const char *xd_domain_name_problem(const char *name);

/* Levenshtein distance, for "did you mean" suggestions. */
size_t xd_edit_distance(const char *a, const char *b);

/* "Did you mean": feed candidates to xd_suggest(); best is the closest
 * one within edit distance 2 (and shorter than the name), or NULL. */
struct xd_suggestion {
	const char *name;
	const char *best;
	size_t distance;
};
#define XD_SUGGESTION_INIT(n) { (n), NULL, 3 }
void xd_suggest(struct xd_suggestion *s, const char *candidate);

/*
 * Open a configuration file (main, include, xl cfg, auto_dir entry) for
 * reading.  O_NONBLOCK: a FIFO or a device named by mistake must not block
 * the load in open() (a FIFO without a writer would hang --check, the
 * start or a reload for good); O_CLOEXEC: no hook inherits it.  Anything
 * but a regular file is refused before a byte is read.  Returns the
 * descriptor with *st filled, or -1 with *what ("cannot open" or "cannot
 * use") and *why (the reason) set for a "what: why" message.
 */
struct stat;
int xd_conf_open(const char *path, struct stat *st, const char **what, const char **why);

#endif
