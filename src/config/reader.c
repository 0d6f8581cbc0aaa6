/* SPDX-License-Identifier: ISC */
/*
 * Reading one file of xendomd.conf.
 *
 * inih splits lines into sections and key/value pairs; our line reader
 * (given to ini_parse_stream) counts lines, so every message has FILE:LINE,
 * and also notices section headers itself: inih does not report a section
 * without keys, and it truncates long section names.
 */
#include "config/load_int.h"

#include <errno.h>
#include <ini.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A configuration file larger than this is a mistake, not a config. */
#define XD_CONF_MAX_BYTES (16 * 1024 * 1024)

/* "FILE:LINE: message" of diagnostic g, as xd_diags_print shows an error. */
static char *diag_text(const struct xd_diag *g)
{
	if (g->line > 0)
		return xd_asprintf("%s:%d: %s", g->file, g->line, g->msg);
	return xd_asprintf("%s: %s", g->file, g->msg);
}

void ld_blame(struct loader *L, size_t dom, size_t first_diag)
{
	struct xd_domain_cfg *d = &L->cfg->domains[dom];

	for (size_t i = first_diag; i < L->diags->n && !d->config_error; i++)
		if (L->diags->v[i].severity == XD_DIAG_ERROR)
			d->config_error = diag_text(&L->diags->v[i]);
}

/* Errors belong to L->owner (a domain index) while it is >= 0. */
void ld_err_at(struct loader *L, const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	xd_diag_vadd(L->diags, file, line, fmt, ap);
	va_end(ap);
	if (L->owner >= 0)
		ld_blame(L, (size_t)L->owner, L->diags->n - 1);
}

void ld_warn_at(struct loader *L, const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	xd_diag_vadd_sev(L->diags, XD_DIAG_WARNING, file, line, fmt, ap);
	va_end(ap);
}

const char *ld_intern_file(struct loader *L, const char *path)
{
	struct xd_config *c = L->cfg;
	c->files = xd_reallocarray(c->files, c->n_files + 1, sizeof(*c->files));
	c->files[c->n_files] = xd_strdup(path);
	return c->files[c->n_files++];
}

static void unknown_section(struct loader *L, const char *inner)
{
	size_t wlen = strcspn(inner, " \t");
	char *word = xd_asprintf("%.*s", (int)wlen, inner);
	const char *rest = inner + wlen;
	const char *hint = NULL;

	if (xd_edit_distance(word, "global") <= 2 && !*rest)
		hint = "global";
	else if (xd_edit_distance(word, "domain") <= 2)
		hint = "domain";
	if (hint)
		ld_err(L, "unknown section [%s]; did you mean [%s%s]?", inner, hint, rest);
	else
		ld_err(L, "unknown section [%s]; expected [global] or [domain NAME]", inner);
	free(word);
	L->sec = SEC_IGNORED;
}

/* t points at '[' of a section line. */
static void section_line(struct loader *L, const char *t)
{
	const char *close = strchr(t, ']');

	L->sec = SEC_IGNORED;
	L->owner = -1;
	if (!close) {
		ld_err(L, "section header without ']'");
		return;
	}
	const char *after = close + 1 + strspn(close + 1, " \t");
	if (*after && *after != ';' && *after != '#') {
		ld_err(L, "unexpected text after the section header: %s", after);
		return;
	}
	const char *s = t + 1 + strspn(t + 1, " \t");
	size_t len = (size_t)(close - s);
	while (len && (s[len - 1] == ' ' || s[len - 1] == '\t'))
		len--;
	char *inner = xd_asprintf("%.*s", (int)len, s);
	if (strcmp(inner, "global") == 0) {
		L->sec = SEC_GLOBAL;
	} else if (strcmp(inner, "domain") == 0) {
		ld_err(L, "[domain] needs a name: [domain NAME]");
	} else if (strncmp(inner, "domain", 6) == 0 && (inner[6] == ' ' || inner[6] == '\t')) {
		ld_begin_domain(L, inner + 6 + strspn(inner + 6, " \t"));
	} else {
		unknown_section(L, inner);
	}
	free(inner);
}

struct reader {
	struct loader *L;
	FILE *f;
	char *buf;
	size_t cap;
};

/* Called before each new line and at the end: a line with text that inih
 * did not hand to on_key was not `key = value`. */
static void finish_line(struct loader *L)
{
	if (L->line_kind == LINE_KEY && !L->line_handled)
		ld_err(L, "expected 'key = value' (or a [section] header)");
	L->line_kind = LINE_BLANK;
	L->line_handled = false;
}

static enum line_kind classify_line(struct loader *L, const char *t)
{
	if (L->line == 1 && strncmp(t, "\xEF\xBB\xBF", 3) == 0)
		t += 3;
	t += strspn(t, " \t\r");
	if (!*t || *t == ';' || *t == '#')
		return LINE_BLANK;
	if (*t == '[') {
		section_line(L, t);
		return LINE_SECTION;
	}
	return LINE_KEY;
}

static char *read_line(char *str, int num, void *stream)
{
	struct reader *r = stream;
	struct loader *L = r->L;

	finish_line(L);
	ssize_t n = getline(&r->buf, &r->cap, r->f);
	if (n < 0) {
		if (ferror(r->f))
			ld_err_at(L, L->file, 0, "read error: %s", strerror(errno));
		return NULL;
	}
	L->line++;
	while (n > 0 && (r->buf[n - 1] == '\n' || r->buf[n - 1] == '\r'))
		r->buf[--n] = '\0';
	if (memchr(r->buf, '\0', (size_t)n)) {
		ld_err(L, "NUL byte in the line; is this a text file?");
		str[0] = '\0';
		return str;
	}
	if (n > XD_CONF_MAX_LINE || n >= num) {
		ld_err(L, "line longer than %d characters", XD_CONF_MAX_LINE);
		str[0] = '\0';
		return str;
	}
	L->line_kind = classify_line(L, r->buf);
	memcpy(str, r->buf, (size_t)n + 1);
	return str;
}

/* inih's settings are process globals: set ours, restore theirs after. */
struct ini_settings {
	bool multiline, inline_comments, stop_on_first_error, no_value, bom, use_stack, realloc;
	int max_line;
	char *inline_prefixes, *start_prefixes;
};

static struct ini_settings ini_swap(struct ini_settings s)
{
	struct ini_settings old = {
		ini_allow_multiline, ini_allow_inline_comments, ini_stop_on_first_error,
		ini_allow_no_value, ini_allow_bom, ini_use_stack, ini_allow_realloc, ini_max_line,
		ini_inline_comment_prefixes, ini_start_comment_prefixes,
	};
	ini_allow_multiline = s.multiline;
	ini_allow_inline_comments = s.inline_comments;
	ini_stop_on_first_error = s.stop_on_first_error;
	ini_allow_no_value = s.no_value;
	ini_allow_bom = s.bom;
	ini_use_stack = s.use_stack;
	ini_allow_realloc = s.realloc;
	ini_max_line = s.max_line;       /* Debian's inih sizes its VLA from this */
	ini_inline_comment_prefixes = s.inline_prefixes;
	ini_start_comment_prefixes = s.start_prefixes;
	return old;
}

/* The file at path, open for reading (see xd_conf_open), or NULL (reported). */
static FILE *open_conf(struct loader *L)
{
	const char *what, *why;
	struct stat st;
	int fd = xd_conf_open(L->file, &st, &what, &why);

	if (fd < 0) {
		ld_err_at(L, L->file, 0, "%s: %s", what, why);
		return NULL;
	}
	if (st.st_size > XD_CONF_MAX_BYTES) {
		ld_err_at(L, L->file, 0, "cannot use: larger than 16 MiB");
		close(fd);
		return NULL;
	}
	FILE *f = fdopen(fd, "r");
	if (!f)
		xd_oom();        /* fdopen of a valid descriptor fails only for memory */
	return f;
}

void ld_read_file(struct loader *L, const char *path, bool main_file)
{
	static char inline_prefixes[] = ";#", start_prefixes[] = ";#";

	L->file = ld_intern_file(L, path);
	L->owner = -1;
	FILE *f = open_conf(L);
	if (!f) {
		L->main_unreadable |= main_file;
		return;
	}
	L->main_file = main_file;
	L->line = 0;
	L->line_kind = LINE_BLANK;
	L->sec = SEC_NONE;
	struct reader r = { L, f, NULL, 0 };
	struct ini_settings old = ini_swap((struct ini_settings){
		.multiline = false, .inline_comments = true, .stop_on_first_error = false,
		.no_value = false, .bom = true, .use_stack = true, .realloc = false,
		.max_line = XD_CONF_MAX_LINE + 2,
		.inline_prefixes = inline_prefixes, .start_prefixes = start_prefixes });
	ini_parse_stream(read_line, &r, ld_on_key, L);
	ini_swap(old);
	finish_line(L);
	L->owner = -1;
	ld_scratch_free(L);
	free(r.buf);
	fclose(f);
}
