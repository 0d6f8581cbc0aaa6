/* SPDX-License-Identifier: ISC */
/* Small helpers shared by the configuration loader's files. */
#include "config/util.h"
#include "core/config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char *xd_domain_name_problem(const char *name)
{
	size_t len = strlen(name);

	if (len == 0)
		return "it is empty";
	if (len > XD_NAME_MAX - 1)
		return "it is longer than 63 bytes";
	if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return "'.' and '..' cannot be file names in save_dir and state_dir";
	for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
		size_t n = *p >= 0x80 ? xd_utf8_printable(p) : 1;
		if (*p == '/')
			return "'/' cannot be part of a file name in save_dir and state_dir";
		if (*p < 0x20 || *p == 0x7f || n == 0)
			return "control characters and bytes that are not UTF-8 are not allowed";
		p += n - 1;
	}
	if (strcmp(name, "Domain-0") == 0)
		return "Domain-0 is the control domain";
	return NULL;
}

size_t xd_edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	size_t *row = xd_calloc(lb + 1, sizeof(*row));

	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t diag = row[0];
		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t up = row[j];
			size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
			size_t best = diag + cost;
			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	size_t d = row[lb];
	free(row);
	return d;
}

void xd_suggest(struct xd_suggestion *s, const char *candidate)
{
	size_t d = xd_edit_distance(s->name, candidate);

	if (d < s->distance && d < strlen(s->name)) {
		s->best = candidate;
		s->distance = d;
	}
}

static const char *not_regular(mode_t mode)
{
	if (S_ISDIR(mode))
		return "not a regular file (a directory)";
	if (S_ISFIFO(mode))
		return "not a regular file (a FIFO)";
	if (S_ISCHR(mode))
		return "not a regular file (a character device)";
	if (S_ISBLK(mode))
		return "not a regular file (a block device)";
	if (S_ISSOCK(mode))
		return "not a regular file (a socket)";
	return "not a regular file";
}

int xd_conf_open(const char *path, struct stat *st, const char **what, const char **why)
{
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);

	if (fd < 0) {
		*what = "cannot open";
		*why = strerror(errno);
		return -1;
	}
	*what = "cannot use";
	if (fstat(fd, st) < 0) {
		*why = strerror(errno);
		close(fd);
		return -1;
	}
	if (!S_ISREG(st->st_mode)) {
		*why = not_regular(st->st_mode);
		close(fd);
		return -1;
	}
	return fd;
}
