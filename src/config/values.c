/* SPDX-License-Identifier: ISC */
/*
 * Reading one value of xendomd.conf into its field: numbers, durations,
 * booleans, enums, paths, hooks, ready=, restart_limit and dependency
 * lists.  Every refusal names the key and quotes the value.
 */
#include "config/load_int.h"
#include "util/parse.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* restart_limit bounds: N restarts per SECONDS */
#define RESTART_LIMIT_MAX 1000

/* unit: "seconds", or NULL for a plain count */
static bool parse_number(struct loader *L, const struct key_def *k, const char *v,
			 const char *unit, uint64_t *out)
{
	if (!xd_parse_u64(v, out)) {
		if (unit)
			ld_err(L, "%s: \"%s\" is not a number of %s", k->name, v, unit);
		else
			ld_err(L, "%s: \"%s\" is not a whole number", k->name, v);
		return false;
	}
	if (*out < k->min || *out > k->max) {
		ld_err(L, "%s: %s is out of range (%llu to %llu%s%s)", k->name, v,
		       (unsigned long long)k->min, (unsigned long long)k->max,
		       unit ? " " : "", unit ? unit : "");
		return false;
	}
	return true;
}

static void parse_enum(struct loader *L, const struct key_def *k, const char *v, int *out)
{
	char accepted[256] = "";

	for (int i = 0; k->names[i]; i++) {
		if (strcmp(v, k->names[i]) == 0) {
			*out = i;
			return;
		}
		snprintf(accepted + strlen(accepted), sizeof(accepted) - strlen(accepted), "%s%s",
			 i ? (k->names[i + 1] ? ", " : " or ") : "", k->names[i]);
	}
	ld_err(L, "%s: \"%s\" is not %s", k->name, v, accepted);
}

static const char *xenstore_value_problem(const char *v)
{
	if (!*v)
		return "the value after '=' is empty";
	if (strlen(v) > XD_KEY_MAX - 1)
		return "the value is longer than 255 characters";
	for (const char *c = v; *c; c++)
		if (*c < 0x20 || *c > 0x7e)
			return "the value must be printable ASCII";
	return NULL;
}

static void parse_ready(struct loader *L, const char *v, struct xd_ready *r)
{
	static const char usage[] = "expected running, pv-drivers, xenstore:PATH[=VALUE] or delay:SECONDS";
	uint64_t s;

	memset(r, 0, sizeof(*r));
	if (strcmp(v, "running") == 0) {
		r->kind = XD_READY_RUNNING;
	} else if (strcmp(v, "pv-drivers") == 0) {
		r->kind = XD_READY_PV_DRIVERS;
	} else if (strncmp(v, "delay:", 6) == 0) {
		r->kind = XD_READY_DELAY;
		if (!xd_parse_u64(v + 6, &s) || s > XD_DAY_S)
			ld_err(L, "ready: \"%s\": delay takes 0 to %d seconds", v, XD_DAY_S);
		else
			r->delay_ms = s * 1000;
	} else if (strncmp(v, "xenstore:", 9) == 0) {
		r->kind = XD_READY_XENSTORE;
		const char *path = v + 9, *eq = strchr(path, '=');
		char buf[XD_KEY_MAX * 2];
		snprintf(buf, sizeof(buf), "%.*s", eq ? (int)(eq - path) : (int)strlen(path), path);
		const char *why = xd_xenstore_relpath_problem(buf);
		if (!why && eq)
			why = xenstore_value_problem(eq + 1);
		if (why) {
			ld_err(L, "ready: \"%s\": %s", v, why);
			return;
		}
		r->path = xd_strdup(buf);
		r->has_value = eq != NULL;
		if (eq)
			r->value = xd_strdup(eq + 1);
	} else {
		ld_err(L, "ready: \"%s\": %s", v, usage);
	}
}

static void parse_restart_limit(struct loader *L, const char *v, struct xd_domain_cfg *d)
{
	const char *slash = strchr(v, '/');
	char count[32];
	uint64_t n, s;

	if (!slash || (size_t)(slash - v) >= sizeof(count)) {
		ld_err(L, "restart_limit: \"%s\" is not RESTARTS/SECONDS (e.g. 5/600)", v);
		return;
	}
	snprintf(count, sizeof(count), "%.*s", (int)(slash - v), v);
	if (!xd_parse_u64(count, &n) || !xd_parse_u64(slash + 1, &s)) {
		ld_err(L, "restart_limit: \"%s\" is not RESTARTS/SECONDS (e.g. 5/600)", v);
		return;
	}
	if (n > RESTART_LIMIT_MAX || s < 1 || s > XD_DAY_S) {
		ld_err(L, "restart_limit: \"%s\" is out of range (0 to %d restarts per 1 to %d seconds)",
		       v, RESTART_LIMIT_MAX, XD_DAY_S);
		return;
	}
	d->restart_limit = (unsigned)n;
	d->restart_window_ms = s * 1000;
}

/* Hooks run without a shell, so they must be absolute executable files. */
static void parse_hook(struct loader *L, const struct key_def *k, const char *v, char **out)
{
	struct stat st;

	if (v[0] != '/') {
		ld_err(L, "%s: \"%s\" is not an absolute path", k->name, v);
		return;
	}
	if (stat(v, &st) < 0) {
		ld_err(L, "%s: %s: %s", k->name, v, strerror(errno));
		return;
	}
	if (!S_ISREG(st.st_mode)) {
		ld_err(L, "%s: %s is not a regular file", k->name, v);
		return;
	}
	if (!(st.st_mode & 0111)) {
		ld_err(L, "%s: %s is not executable", k->name, v);
		return;
	}
	*out = xd_strdup(v);
}

static void parse_path(struct loader *L, const struct key_def *k, const char *v, char **out)
{
	if (v[0] == '\0' && k->kind == K_PATH_OR_EMPTY) {
		/* "" = disabled */
	} else if (v[0] != '/') {
		ld_err(L, "%s: \"%s\" is not an absolute path%s", k->name, v,
		       k->kind == K_PATH_OR_EMPTY ? " (or \"\" to disable)" : "");
		return;
	}
	free(*out);
	*out = xd_strdup(v);
}

static void parse_host(struct loader *L, const struct key_def *k, const char *v, char **out)
{
	const char *why = *v ? xd_migrate_host_problem(v) : NULL;   /* "" = none */

	if (why) {
		ld_err(L, "%s: \"%s\": %s", k->name, v, why);
		return;
	}
	free(*out);
	*out = xd_strdup(v);
}

/* As xl's -s: words for sh, which gets "exec CMD HOST xl migrate-receive". */
static void parse_command(struct loader *L, const struct key_def *k, const char *v, char **out)
{
	if (!v[strspn(v, " \t")]) {
		ld_err(L, "%s: empty (the default is ssh)", k->name);
		return;
	}
	for (const char *c = v; *c; c++)
		if ((unsigned char)*c < 0x20 && *c != '\t') {
			ld_err(L, "%s: \"%s\" contains a control character", k->name, v);
			return;
		}
	free(*out);
	*out = xd_strdup(v);
}

static void parse_text(struct loader *L, const struct key_def *k, const char *v, char **out)
{
	if (k->kind == K_HOST) {
		parse_host(L, k, v, out);
	} else if (k->kind == K_COMMAND) {
		parse_command(L, k, v, out);
	} else {
		free(*out);
		*out = xd_strdup(v);
	}
}

static bool name_listed(char **v, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i], name) == 0)
			return true;
	return false;
}

/* "a b,c" -> names; a repeated name counts once. */
static void parse_deps(const char *v, char ***names, size_t *n)
{
	static const char seps[] = " \t,";

	for (const char *p = v + strspn(v, seps); *p; p += strspn(p, seps)) {
		size_t len = strcspn(p, seps);
		char *name = xd_asprintf("%.*s", (int)len, p);
		p += len;
		if (name_listed(*names, *n, name)) {
			free(name);
			continue;
		}
		*names = xd_reallocarray(*names, *n + 1, sizeof(**names));
		(*names)[(*n)++] = name;
	}
}

void ld_set_value(struct loader *L, enum key_id id, const char *v)
{
	const struct key_def *k = &ld_keys[id];
	bool global = L->sec == SEC_GLOBAL;
	char *base = global ? (char *)&L->cfg->global : (char *)L->dom;
	void *field = base + (global ? k->goff : k->doff);
	uint64_t n;
	bool b;

	switch (k->kind) {
	case K_PATH:
	case K_PATH_OR_EMPTY:
		parse_path(L, k, v, field);
		break;
	case K_STRING:
	case K_HOST:
	case K_COMMAND:
		parse_text(L, k, v, field);
		break;
	case K_COUNT:
		if (parse_number(L, k, v, NULL, &n))
			*(unsigned *)field = (unsigned)n;
		break;
	case K_SECONDS:
		if (parse_number(L, k, v, "seconds", &n))
			*(uint64_t *)field = n * 1000;
		break;
	case K_BOOL:
		if (xd_parse_bool(v, &b))
			*(bool *)field = b;
		else
			ld_err(L, "%s: \"%s\" is not a boolean (yes/no, true/false, on/off, 1/0)", k->name, v);
		break;
	case K_ENUM:
		parse_enum(L, k, v, field);
		break;
	case K_READY:
		parse_ready(L, v, field);
		break;
	case K_RESTART_LIMIT:
		parse_restart_limit(L, v, L->dom);
		break;
	case K_DEPS:
		if (id == KEY_AFTER)
			parse_deps(v, &L->dsrc->after, &L->dsrc->n_after);
		else
			parse_deps(v, &L->dsrc->requires, &L->dsrc->n_requires);
		break;
	case K_HOOK:
		parse_hook(L, k, v, field);
		break;
	case K_XLCFG:
		if (v[0])
			L->dsrc->config = xd_strdup(v);
		else
			ld_err(L, "config: empty path");
		break;
	}
}
