/* SPDX-License-Identifier: ISC */
/* Shell variable files, read and never run (shvars.h). */
#include "config/shvars.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "config/util.h"

struct buf {
	char *s;
	size_t n, cap;
};

static void buf_add(struct buf *b, char c)
{
	if (b->n + 1 >= b->cap) {
		b->cap = b->cap ? b->cap * 2 : 64;
		b->s = xd_reallocarray(b->s, b->cap, 1);
	}
	b->s[b->n++] = c;
	b->s[b->n] = '\0';
}

static bool name_start(char c)
{
	return c == '_' || isalpha((unsigned char)c);
}

static bool name_char(char c)
{
	return c == '_' || isalnum((unsigned char)c);
}

/* Characters that make an unquoted word more than a literal. */
static const char *unquoted_problem(char c)
{
	if (c == '$' || c == '`')
		return "uses an expansion (the file is read, not run)";
	if (strchr("\\;&|<>()~", c))
		return "uses shell syntax beyond a plain assignment";
	return NULL;
}

/* '...': literal up to the next quote.  Returns the char after it. */
static const char *single_quoted(const char *p, struct buf *b, const char **why)
{
	for (p++; *p && *p != '\''; p++)
		buf_add(b, *p);
	if (!*p) {
		*why = "has an unterminated quote (values spanning lines are not read)";
		return NULL;
	}
	return p + 1;
}

/* "...": \" \\ \$ \` are escapes; $ and ` expand, so are refused. */
static const char *double_quoted(const char *p, struct buf *b, const char **why)
{
	for (p++; *p && *p != '"'; p++) {
		if (*p == '$' || *p == '`') {
			*why = "uses an expansion (the file is read, not run)";
			return NULL;
		}
		if (*p == '\\' && p[1] && strchr("\"\\$`", p[1]))
			p++;
		buf_add(b, *p);
	}
	if (!*p) {
		*why = "has an unterminated quote (values spanning lines are not read)";
		return NULL;
	}
	return p + 1;
}

/* The value after '=': words and quoted parts up to blank or end.
 * Returns where it stopped, or NULL with *why. */
static const char *parse_value(const char *p, struct buf *b, const char **why)
{
	buf_add(b, '\0');        /* an empty value is "" not NULL */
	b->n = 0;
	while (*p && *p != ' ' && *p != '\t') {
		if (*p == '\'')
			p = single_quoted(p, b, why);
		else if (*p == '"')
			p = double_quoted(p, b, why);
		else if ((*why = unquoted_problem(*p)) != NULL)
			return NULL;
		else
			buf_add(b, *p++);
		if (!p)
			return NULL;
	}
	return p;
}

static void add_var(struct xd_shvars *s, const char *name, size_t len, char *value, unsigned line)
{
	for (size_t i = 0; i < s->n; i++) {
		struct xd_shvar *v = &s->v[i];
		if (strlen(v->name) == len && strncmp(v->name, name, len) == 0) {
			free(v->value);
			v->value = value;
			v->line = line;
			v->times++;
			return;
		}
	}
	s->v = xd_reallocarray(s->v, s->n + 1, sizeof(*s->v));
	char *n = xd_calloc(len + 1, 1);
	memcpy(n, name, len);
	s->v[s->n++] = (struct xd_shvar){ .name = n, .value = value, .line = line, .times = 1 };
}

static void add_skip(struct xd_shvars *s, const char *text, unsigned line, const char *why)
{
	s->skip = xd_reallocarray(s->skip, s->n_skip + 1, sizeof(*s->skip));
	s->skip[s->n_skip++] = (struct xd_shskip){ .line = line, .text = xd_strdup(text), .why = why };
}

/* One trimmed, non-empty, non-comment line.  Returns NULL if it is an
 * assignment (recorded), else why not. */
static const char *parse_line(struct xd_shvars *s, const char *p, unsigned line)
{
	if (strncmp(p, "export", 6) == 0 && (p[6] == ' ' || p[6] == '\t'))
		for (p += 6; *p == ' ' || *p == '\t'; p++)
			;
	if (!name_start(*p))
		return "is not a variable assignment";
	const char *name = p;
	while (name_char(*p))
		p++;
	if (*p != '=')
		return "is not a variable assignment";
	size_t len = (size_t)(p - name);
	struct buf b = { 0 };
	const char *why = NULL;
	p = parse_value(p + 1, &b, &why);
	if (p) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p && *p != '#')
			why = "is more than one assignment (or a command with a variable)";
	}
	if (why) {
		free(b.s);
		return why;
	}
	add_var(s, name, len, b.s, line);
	return NULL;
}

void xd_shvars_parse(const char *text, struct xd_shvars *out)
{
	*out = (struct xd_shvars){ 0 };
	unsigned line = 0;
	for (const char *p = text; *p;) {
		const char *end = strchr(p, '\n');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		char *l = xd_calloc(len + 1, 1);
		memcpy(l, p, len);
		line++;
		p += len + (end ? 1 : 0);
		char *t = l, *e = l + len;
		while (*t == ' ' || *t == '\t')
			t++;
		while (e > t && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
			*--e = '\0';
		if (strncmp(t, "## Type:", 8) == 0)
			out->sysconfig_meta = true;
		const char *why = *t && *t != '#' ? parse_line(out, t, line) : NULL;
		if (why)
			add_skip(out, t, line, why);
		free(l);
	}
}

const struct xd_shvar *xd_shvars_get(const struct xd_shvars *s, const char *name)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->v[i].name, name) == 0)
			return &s->v[i];
	return NULL;
}

void xd_shvars_free(struct xd_shvars *s)
{
	for (size_t i = 0; i < s->n; i++) {
		free(s->v[i].name);
		free(s->v[i].value);
	}
	for (size_t i = 0; i < s->n_skip; i++)
		free(s->skip[i].text);
	free(s->v);
	free(s->skip);
	*s = (struct xd_shvars){ 0 };
}
