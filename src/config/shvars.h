/* SPDX-License-Identifier: ISC */
/*
 * Reading shell variable files (/etc/default/xendomains, a sysconfig file,
 * rc.conf) without running them: one `NAME=value`, `NAME="value"` or
 * `NAME='value'` per line (optionally after `export `), comments and blank
 * lines.  A line that is anything else (a command, an expansion such as
 * $X or `cmd`, two assignments) is not guessed at: it is listed as
 * skipped, with why, so the caller can say so.
 */
#ifndef XD_CONFIG_SHVARS_H
#define XD_CONFIG_SHVARS_H

#include <stdbool.h>
#include <stddef.h>

struct xd_shvar {
	char *name;
	char *value;             /* quotes removed */
	unsigned line;           /* of the last assignment, which wins */
	unsigned times;          /* how many times the file assigns it */
};

struct xd_shskip {
	unsigned line;
	char *text;              /* the line as written (trimmed) */
	const char *why;
};

struct xd_shvars {
	struct xd_shvar *v;      /* in order of first assignment */
	size_t n;
	struct xd_shskip *skip;
	size_t n_skip;
	bool sysconfig_meta;     /* saw "## Type:" lines (a sysconfig template) */
};

/* Parses text; never fails (unreadable lines go to skip). */
void xd_shvars_parse(const char *text, struct xd_shvars *out);
/* The variable, or NULL when the file does not assign it. */
const struct xd_shvar *xd_shvars_get(const struct xd_shvars *s, const char *name);
void xd_shvars_free(struct xd_shvars *s);

#endif
