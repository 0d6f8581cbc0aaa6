/*
 * Loading and validating xendomd.conf: see load.h for the rules.
 *
 * inih splits lines into sections and key/value pairs; our line reader
 * (given to ini_parse_stream) counts lines, so every message has FILE:LINE,
 * and also notices section headers itself: inih does not report a section
 * without keys, and it truncates long section names.
 */
#include "config/load.h"
#include "config/util.h"
#include "config/xlcfg.h"
#include "core/plan.h"

#include <dirent.h>
#include <errno.h>
#include <ini.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

enum key_kind {
	K_PATH,                  /* absolute path, required */
	K_PATH_OR_EMPTY,         /* absolute path, or "" = disabled */
	K_STRING,
	K_COUNT,                 /* unsigned integer in [min, max] */
	K_SECONDS,               /* seconds in [min, max], stored as ms */
	K_BOOL,
	K_ENUM,                  /* one of names[], stored as an int-sized enum */
	K_READY,
	K_RESTART_LIMIT,
	K_DEPS,                  /* domain names, resolved at the end */
	K_HOOK,                  /* absolute path of an executable file */
	K_XLCFG,                 /* path of the xl cfg, resolved at the end */
};

enum { IN_GLOBAL = 1, IN_DOMAIN = 2 };

struct key_def {
	const char *name;
	unsigned scope;
	enum key_kind kind;
	size_t goff, doff;       /* field offsets in xd_global / xd_domain_cfg */
	uint64_t min, max;
	const char *const *names;
};

static const char *const host_action_names[] = { "shutdown", "save", "destroy", "leave", NULL };
static const char *const fallback_names[] = { "destroy", "leave", NULL };
static const char *const restore_failure_names[] = { "fail", "boot", NULL };
static const char *const notify_names[] = { "after-boot", "immediately", NULL };
_Static_assert(sizeof(enum xd_host_action) == sizeof(int), "K_ENUM stores ints");
_Static_assert(sizeof(enum xd_fallback) == sizeof(int), "K_ENUM stores ints");
_Static_assert(sizeof(enum xd_restore_failure) == sizeof(int), "K_ENUM stores ints");
_Static_assert(sizeof(enum xd_notify_ready) == sizeof(int), "K_ENUM stores ints");

#define DAY 86400
#define G(f) offsetof(struct xd_global, f)
#define D(f) offsetof(struct xd_domain_cfg, f)

enum key_id {
	KEY_XEN_CONFIG_DIR, KEY_AUTO_DIR, KEY_INCLUDE_DIR, KEY_STATE_DIR, KEY_SAVE_DIR,
	KEY_SOCKET, KEY_SOCKET_GROUP, KEY_MAX_PARALLEL_STARTS, KEY_MAX_PARALLEL_STOPS,
	KEY_START_TIMEOUT, KEY_ON_HOST_SHUTDOWN, KEY_SHUTDOWN_TIMEOUT, KEY_SHUTDOWN_FALLBACK,
	KEY_STOP_UNMANAGED, KEY_RESTORE_ON_BOOT, KEY_ON_RESTORE_FAILURE, KEY_NOTIFY_READY,
	KEY_CONFIG, KEY_AUTOSTART, KEY_AFTER, KEY_REQUIRES, KEY_READY, KEY_READY_TIMEOUT,
	KEY_START_DELAY, KEY_START_RETRIES, KEY_RETRY_DELAY, KEY_RESTART_LIMIT,
	KEY_EXEC_START_PRE, KEY_EXEC_STOP_POST, KEY_HOOK_TIMEOUT,
	N_KEYS
};

static const struct key_def keys[N_KEYS] = {
	[KEY_XEN_CONFIG_DIR] = { "xen_config_dir", IN_GLOBAL, K_PATH, G(xen_config_dir), 0, 0, 0, NULL },
	[KEY_AUTO_DIR] = { "auto_dir", IN_GLOBAL, K_PATH_OR_EMPTY, G(auto_dir), 0, 0, 0, NULL },
	[KEY_INCLUDE_DIR] = { "include_dir", IN_GLOBAL, K_PATH_OR_EMPTY, G(include_dir), 0, 0, 0, NULL },
	[KEY_STATE_DIR] = { "state_dir", IN_GLOBAL, K_PATH, G(state_dir), 0, 0, 0, NULL },
	[KEY_SAVE_DIR] = { "save_dir", IN_GLOBAL, K_PATH, G(save_dir), 0, 0, 0, NULL },
	[KEY_SOCKET] = { "socket", IN_GLOBAL, K_PATH, G(socket), 0, 0, 0, NULL },
	[KEY_SOCKET_GROUP] = { "socket_group", IN_GLOBAL, K_STRING, G(socket_group), 0, 0, 0, NULL },
	[KEY_MAX_PARALLEL_STARTS] = { "max_parallel_starts", IN_GLOBAL, K_COUNT, G(max_parallel_starts), 0, 0, 1024, NULL },
	[KEY_MAX_PARALLEL_STOPS] = { "max_parallel_stops", IN_GLOBAL, K_COUNT, G(max_parallel_stops), 0, 0, 1024, NULL },
	[KEY_START_TIMEOUT] = { "start_timeout", IN_GLOBAL, K_SECONDS, G(start_timeout_ms), 0, 1, DAY, NULL },
	[KEY_ON_HOST_SHUTDOWN] = { "on_host_shutdown", IN_GLOBAL | IN_DOMAIN, K_ENUM, G(on_host_shutdown), D(on_host_shutdown), 0, 0, host_action_names },
	[KEY_SHUTDOWN_TIMEOUT] = { "shutdown_timeout", IN_GLOBAL | IN_DOMAIN, K_SECONDS, G(shutdown_timeout_ms), D(shutdown_timeout_ms), 1, DAY, NULL },
	[KEY_SHUTDOWN_FALLBACK] = { "shutdown_fallback", IN_GLOBAL, K_ENUM, G(shutdown_fallback), 0, 0, 0, fallback_names },
	[KEY_STOP_UNMANAGED] = { "stop_unmanaged", IN_GLOBAL, K_BOOL, G(stop_unmanaged), 0, 0, 0, NULL },
	[KEY_RESTORE_ON_BOOT] = { "restore_on_boot", IN_GLOBAL, K_BOOL, G(restore_on_boot), 0, 0, 0, NULL },
	[KEY_ON_RESTORE_FAILURE] = { "on_restore_failure", IN_GLOBAL, K_ENUM, G(on_restore_failure), 0, 0, 0, restore_failure_names },
	[KEY_NOTIFY_READY] = { "notify_ready", IN_GLOBAL, K_ENUM, G(notify_ready), 0, 0, 0, notify_names },
	[KEY_CONFIG] = { "config", IN_DOMAIN, K_XLCFG, 0, 0, 0, 0, NULL },
	[KEY_AUTOSTART] = { "autostart", IN_DOMAIN, K_BOOL, 0, D(autostart), 0, 0, NULL },
	[KEY_AFTER] = { "after", IN_DOMAIN, K_DEPS, 0, 0, 0, 0, NULL },
	[KEY_REQUIRES] = { "requires", IN_DOMAIN, K_DEPS, 0, 0, 0, 0, NULL },
	[KEY_READY] = { "ready", IN_DOMAIN, K_READY, 0, D(ready), 0, 0, NULL },
	[KEY_READY_TIMEOUT] = { "ready_timeout", IN_DOMAIN, K_SECONDS, 0, D(ready_timeout_ms), 1, DAY, NULL },
	[KEY_START_DELAY] = { "start_delay", IN_DOMAIN, K_SECONDS, 0, D(start_delay_ms), 0, DAY, NULL },
	[KEY_START_RETRIES] = { "start_retries", IN_DOMAIN, K_COUNT, 0, D(start_retries), 0, 100, NULL },
	[KEY_RETRY_DELAY] = { "retry_delay", IN_DOMAIN, K_SECONDS, 0, D(retry_delay_ms), 0, 300, NULL },
	[KEY_RESTART_LIMIT] = { "restart_limit", IN_DOMAIN, K_RESTART_LIMIT, 0, 0, 0, 0, NULL },
	[KEY_EXEC_START_PRE] = { "exec_start_pre", IN_DOMAIN, K_HOOK, 0, D(exec_start_pre), 0, 0, NULL },
	[KEY_EXEC_STOP_POST] = { "exec_stop_post", IN_DOMAIN, K_HOOK, 0, D(exec_stop_post), 0, 0, NULL },
	[KEY_HOOK_TIMEOUT] = { "hook_timeout", IN_DOMAIN, K_SECONDS, 0, D(hook_timeout_ms), 1, DAY, NULL },
};

/* A configuration file larger than this is a mistake, not a config. */
#define XD_CONF_MAX_BYTES (16 * 1024 * 1024)

/* restart_limit bounds: N restarts per SECONDS */
#define RESTART_LIMIT_MAX 1000

/* What the loader keeps about a domain beyond struct xd_domain_cfg. */
struct dom_src {
	struct xd_origin seen[N_KEYS];   /* where each key was set (line 0 = not) */
	char *config;                    /* config = as written */
	char **after, **requires;        /* names as written, resolved at the end */
	size_t n_after, n_requires;
};

enum section { SEC_NONE, SEC_GLOBAL, SEC_DOMAIN, SEC_IGNORED };
enum line_kind { LINE_BLANK, LINE_SECTION, LINE_KEY };

struct loader {
	struct xd_config *cfg;
	struct xd_diags *diags;
	struct dom_src *src;             /* parallel to cfg->domains */
	struct xd_origin gseen[N_KEYS];  /* [global] keys */

	/* the file being read */
	const char *file;                /* interned in cfg->files */
	bool main_file;
	int line;
	enum line_kind line_kind;
	bool line_handled;               /* inih called us for this line */
	enum section sec;
	struct xd_domain_cfg *dom;       /* SEC_DOMAIN: where keys go */
	struct dom_src *dsrc;
	struct xd_domain_cfg scratch;    /* for a section that is an error: */
	struct dom_src scratch_src;      /* its keys are checked, then dropped */
	size_t cap_domains;
};

static void err_at(struct loader *L, const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void err_at(struct loader *L, const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	xd_diag_vadd(L->diags, file, line, fmt, ap);
	va_end(ap);
}

#define err(L, ...) err_at((L), (L)->file, (L)->line, __VA_ARGS__)

static const char *intern_file(struct loader *L, const char *path)
{
	struct xd_config *c = L->cfg;
	c->files = xd_reallocarray(c->files, c->n_files + 1, sizeof(*c->files));
	c->files[c->n_files] = xd_strdup(path);
	return c->files[c->n_files++];
}

static char *join_path(const char *dir, const char *name)
{
	size_t l = strlen(dir);
	return xd_asprintf("%s%s%s", dir, l && dir[l - 1] == '/' ? "" : "/", name);
}

/* ---- defaults ---------------------------------------------------------- */

static void global_defaults(struct xd_global *g)
{
	g->xen_config_dir = xd_strdup("/etc/xen");
	g->auto_dir = xd_strdup("/etc/xen/auto");
	g->include_dir = xd_strdup("/etc/xendomd/conf.d");
	g->state_dir = xd_strdup("/var/lib/xendomd");
	g->save_dir = xd_strdup("/var/lib/xen/save");
	g->socket = xd_strdup("/run/xendomd/control");
	g->socket_group = xd_strdup("");
	g->max_parallel_starts = 4;
	g->max_parallel_stops = 0;
	g->start_timeout_ms = 300 * 1000;
	g->on_host_shutdown = XD_HOST_SHUTDOWN;
	g->shutdown_timeout_ms = 120 * 1000;
	g->shutdown_fallback = XD_FALLBACK_DESTROY;
	g->stop_unmanaged = true;
	g->restore_on_boot = true;
	g->on_restore_failure = XD_RESTORE_FAIL;
	g->notify_ready = XD_NOTIFY_AFTER_BOOT;
}

/* Policy defaults; on_host_shutdown and shutdown_timeout come from
 * [global] at the end, and the xl cfg fields from the xl cfg. */
static void domain_defaults(struct xd_domain_cfg *d, const char *name, struct xd_origin origin)
{
	memset(d, 0, sizeof(*d));
	snprintf(d->name, sizeof(d->name), "%s", name);
	d->origin = origin;
	d->autostart = true;
	d->ready.kind = XD_READY_RUNNING;
	d->ready_timeout_ms = 300 * 1000;
	d->start_delay_ms = 0;
	d->start_retries = 2;
	d->retry_delay_ms = 5 * 1000;
	d->restart_limit = 5;
	d->restart_window_ms = 600 * 1000;
	d->hook_timeout_ms = 30 * 1000;
}

static void free_names(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static void dom_src_free(struct dom_src *s)
{
	free(s->config);
	free_names(s->after, s->n_after);
	free_names(s->requires, s->n_requires);
	memset(s, 0, sizeof(*s));
}

static void scratch_free(struct loader *L)
{
	free(L->scratch.exec_start_pre);
	free(L->scratch.exec_stop_post);
	memset(&L->scratch, 0, sizeof(L->scratch));
	dom_src_free(&L->scratch_src);
}

/* ---- values ------------------------------------------------------------ */

/* A decimal number without sign; false if not one or above max. */
static bool parse_u64(const char *v, uint64_t *out)
{
	uint64_t n = 0;

	if (!*v)
		return false;
	for (const char *p = v; *p; p++) {
		if (*p < '0' || *p > '9' || n > (UINT64_MAX - 9) / 10)
			return false;
		n = n * 10 + (uint64_t)(*p - '0');
	}
	*out = n;
	return true;
}

/* unit: "seconds", or NULL for a plain count */
static bool parse_number(struct loader *L, const struct key_def *k, const char *v,
			 const char *unit, uint64_t *out)
{
	if (!parse_u64(v, out)) {
		if (unit)
			err(L, "%s: \"%s\" is not a number of %s", k->name, v, unit);
		else
			err(L, "%s: \"%s\" is not a whole number", k->name, v);
		return false;
	}
	if (*out < k->min || *out > k->max) {
		err(L, "%s: %s is out of range (%llu to %llu%s%s)", k->name, v,
		    (unsigned long long)k->min, (unsigned long long)k->max,
		    unit ? " " : "", unit ? unit : "");
		return false;
	}
	return true;
}

static bool parse_bool(const char *v, bool *out)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };

	for (size_t i = 0; i < 4; i++) {
		if (strcasecmp(v, yes[i]) == 0 || strcasecmp(v, no[i]) == 0) {
			*out = strcasecmp(v, yes[i]) == 0;
			return true;
		}
	}
	return false;
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
	err(L, "%s: \"%s\" is not %s", k->name, v, accepted);
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
		if (!parse_u64(v + 6, &s) || s > DAY)
			err(L, "ready: \"%s\": delay takes 0 to %d seconds", v, DAY);
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
			err(L, "ready: \"%s\": %s", v, why);
			return;
		}
		r->path = xd_strdup(buf);
		r->has_value = eq != NULL;
		if (eq)
			r->value = xd_strdup(eq + 1);
	} else {
		err(L, "ready: \"%s\": %s", v, usage);
	}
}

static void parse_restart_limit(struct loader *L, const char *v, struct xd_domain_cfg *d)
{
	const char *slash = strchr(v, '/');
	char count[32];
	uint64_t n, s;

	if (!slash || (size_t)(slash - v) >= sizeof(count)) {
		err(L, "restart_limit: \"%s\" is not RESTARTS/SECONDS (e.g. 5/600)", v);
		return;
	}
	snprintf(count, sizeof(count), "%.*s", (int)(slash - v), v);
	if (!parse_u64(count, &n) || !parse_u64(slash + 1, &s)) {
		err(L, "restart_limit: \"%s\" is not RESTARTS/SECONDS (e.g. 5/600)", v);
		return;
	}
	if (n > RESTART_LIMIT_MAX || s < 1 || s > DAY) {
		err(L, "restart_limit: \"%s\" is out of range (0 to %d restarts per 1 to %d seconds)",
		    v, RESTART_LIMIT_MAX, DAY);
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
		err(L, "%s: \"%s\" is not an absolute path", k->name, v);
		return;
	}
	if (stat(v, &st) < 0) {
		err(L, "%s: %s: %s", k->name, v, strerror(errno));
		return;
	}
	if (!S_ISREG(st.st_mode)) {
		err(L, "%s: %s is not a regular file", k->name, v);
		return;
	}
	if (!(st.st_mode & 0111)) {
		err(L, "%s: %s is not executable", k->name, v);
		return;
	}
	*out = xd_strdup(v);
}

static void parse_path(struct loader *L, const struct key_def *k, const char *v, char **out)
{
	if (v[0] == '\0' && k->kind == K_PATH_OR_EMPTY) {
		/* "" = disabled */
	} else if (v[0] != '/') {
		err(L, "%s: \"%s\" is not an absolute path%s", k->name, v,
		    k->kind == K_PATH_OR_EMPTY ? " (or \"\" to disable)" : "");
		return;
	}
	free(*out);
	*out = xd_strdup(v);
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

static void set_value(struct loader *L, enum key_id id, const char *v)
{
	const struct key_def *k = &keys[id];
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
		free(*(char **)field);
		*(char **)field = xd_strdup(v);
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
		if (parse_bool(v, &b))
			*(bool *)field = b;
		else
			err(L, "%s: \"%s\" is not a boolean (yes/no, true/false, on/off, 1/0)", k->name, v);
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
			err(L, "config: empty path");
		break;
	}
}

/* ---- keys and sections --------------------------------------------------- */

static const char *closest_key(const char *name)
{
	struct xd_suggestion sg = XD_SUGGESTION_INIT(name);

	for (size_t i = 0; i < N_KEYS; i++)
		xd_suggest(&sg, keys[i].name);
	return sg.best;
}

static long find_key(const char *name)
{
	for (size_t i = 0; i < N_KEYS; i++)
		if (strcmp(keys[i].name, name) == 0)
			return (long)i;
	return -1;
}

static void unknown_key(struct loader *L, const char *name)
{
	char *where;

	if (L->sec == SEC_GLOBAL)
		where = xd_strdup("[global]");
	else if (!L->dom->name[0])      /* a rejected section */
		where = xd_strdup("[domain]");
	else
		where = xd_asprintf("[domain %s]", L->dom->name);
	const char *hint = closest_key(name);
	if (hint)
		err(L, "unknown key '%s' in %s; did you mean '%s'?", name, where, hint);
	else
		err(L, "unknown key '%s' in %s", name, where);
	free(where);
}

/* Strip one pair of surrounding double quotes. */
static const char *unquote(const char *v, char **copy)
{
	size_t len = strlen(v);

	*copy = NULL;
	if (len >= 2 && v[0] == '"' && v[len - 1] == '"') {
		*copy = xd_asprintf("%.*s", (int)(len - 2), v + 1);
		return *copy;
	}
	return v;
}

static int on_key(void *user, const char *section, const char *name, const char *value)
{
	struct loader *L = user;
	(void)section;           /* our reader tracks sections (see top) */

	L->line_handled = true;
	if (L->sec == SEC_IGNORED)
		return 1;
	if (!*name) {
		err(L, "missing key name before '='");
		return 1;
	}
	if (L->sec == SEC_NONE) {
		err(L, "key '%s' is outside any section; put it under [global] or [domain NAME]", name);
		return 1;
	}
	long id = find_key(name);
	unsigned scope = L->sec == SEC_GLOBAL ? IN_GLOBAL : IN_DOMAIN;
	if (id < 0) {
		unknown_key(L, name);
		return 1;
	}
	if (!(keys[id].scope & scope)) {
		err(L, "'%s' belongs in %s, not in %s", name,
		    scope == IN_GLOBAL ? "a [domain NAME] section" : "[global]",
		    scope == IN_GLOBAL ? "[global]" : "a [domain] section");
		return 1;
	}
	if (id == KEY_INCLUDE_DIR && !L->main_file) {
		err(L, "include_dir may only be set in the main configuration file");
		return 1;
	}
	struct xd_origin *seen = scope == IN_GLOBAL ? &L->gseen[id] : &L->dsrc->seen[id];
	if (seen->line) {
		err(L, "duplicate key '%s' (first set at %s:%d)", name, seen->file, seen->line);
		return 1;
	}
	*seen = (struct xd_origin){ L->file, L->line };
	char *copy;
	set_value(L, (enum key_id)id, unquote(value, &copy));
	free(copy);
	return 1;
}

/* A new domain with default policy; returns its index. */
static size_t append_domain(struct loader *L, const char *name, struct xd_origin origin)
{
	struct xd_config *c = L->cfg;

	if (c->n_domains == L->cap_domains) {
		L->cap_domains = L->cap_domains ? 2 * L->cap_domains : 16;
		c->domains = xd_reallocarray(c->domains, L->cap_domains, sizeof(*c->domains));
		L->src = xd_reallocarray(L->src, L->cap_domains, sizeof(*L->src));
	}
	domain_defaults(&c->domains[c->n_domains], name, origin);
	memset(&L->src[c->n_domains], 0, sizeof(*L->src));
	c->n_domains++;
	xd_config_index(c);      /* lookups are a hash, not a scan: hosts have thousands */
	return c->n_domains - 1;
}

static void begin_domain(struct loader *L, const char *name)
{
	const char *why = xd_domain_name_problem(name);
	long dup = xd_config_find(L->cfg, name);
	struct xd_origin here = { L->file, L->line };

	scratch_free(L);
	L->sec = SEC_DOMAIN;
	if (why || dup >= 0) {
		if (why)
			err(L, "bad domain name '%s': %s", name, why);
		else
			err(L, "duplicate domain %s (first defined at %s:%d)", name,
			    L->cfg->domains[dup].origin.file, L->cfg->domains[dup].origin.line);
		domain_defaults(&L->scratch, "", here);
		L->dom = &L->scratch;
		L->dsrc = &L->scratch_src;
		return;
	}
	size_t i = append_domain(L, name, here);
	L->dom = &L->cfg->domains[i];
	L->dsrc = &L->src[i];
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
		err(L, "unknown section [%s]; did you mean [%s%s]?", inner, hint, rest);
	else
		err(L, "unknown section [%s]; expected [global] or [domain NAME]", inner);
	free(word);
	L->sec = SEC_IGNORED;
}

/* t points at '[' of a section line. */
static void section_line(struct loader *L, const char *t)
{
	const char *close = strchr(t, ']');

	L->sec = SEC_IGNORED;
	if (!close) {
		err(L, "section header without ']'");
		return;
	}
	const char *after = close + 1 + strspn(close + 1, " \t");
	if (*after && *after != ';' && *after != '#') {
		err(L, "unexpected text after the section header: %s", after);
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
		err(L, "[domain] needs a name: [domain NAME]");
	} else if (strncmp(inner, "domain", 6) == 0 && (inner[6] == ' ' || inner[6] == '\t')) {
		begin_domain(L, inner + 6 + strspn(inner + 6, " \t"));
	} else {
		unknown_section(L, inner);
	}
	free(inner);
}

/* ---- reading one file ---------------------------------------------------- */

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
		err(L, "expected 'key = value' (or a [section] header)");
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
			err_at(L, L->file, 0, "read error: %s", strerror(errno));
		return NULL;
	}
	L->line++;
	while (n > 0 && (r->buf[n - 1] == '\n' || r->buf[n - 1] == '\r'))
		r->buf[--n] = '\0';
	if (memchr(r->buf, '\0', (size_t)n)) {
		err(L, "NUL byte in the line; is this a text file?");
		str[0] = '\0';
		return str;
	}
	if (n > XD_CONF_MAX_LINE || n >= num) {
		err(L, "line longer than %d characters", XD_CONF_MAX_LINE);
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

static void read_file(struct loader *L, const char *path, bool main_file)
{
	static char inline_prefixes[] = ";#", start_prefixes[] = ";#";
	FILE *f = fopen(path, "re");

	struct stat st;

	L->file = intern_file(L, path);
	if (!f) {
		err_at(L, L->file, 0, "cannot open: %s", strerror(errno));
		return;
	}
	const char *why = fstat(fileno(f), &st) < 0 ? strerror(errno)
		: !S_ISREG(st.st_mode) ? "not a regular file"
		: st.st_size > XD_CONF_MAX_BYTES ? "larger than 16 MiB" : NULL;
	if (why) {
		err_at(L, L->file, 0, "cannot use: %s", why);
		fclose(f);
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
	ini_parse_stream(read_line, &r, on_key, L);
	ini_swap(old);
	finish_line(L);
	scratch_free(L);
	free(r.buf);
	fclose(f);
}

/* ---- directories --------------------------------------------------------- */

static int compare_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t ls = strlen(s), lx = strlen(suffix);
	return ls >= lx && strcmp(s + ls - lx, suffix) == 0;
}

/*
 * fn(L, path) for every regular file (or symlink to one) in dir whose name
 * keep() accepts, in strcmp order of names.  A missing dir is no error
 * unless its key was set (key->line); problems are reported at the key,
 * entries that cannot be examined (broken symlinks) at themselves.
 */
static void for_each_file(struct loader *L, const char *dir, const struct xd_origin *key,
			  bool (*keep)(const char *), void (*fn)(struct loader *, const char *))
{
	DIR *d = opendir(dir);       /* glibc opens directories O_CLOEXEC */
	char **names = NULL;
	size_t n = 0;
	struct dirent *e;

	if (!d) {
		if (errno != ENOENT || key->line)
			err_at(L, key->file, key->line, "%s: %s", dir, strerror(errno));
		return;
	}
	while ((e = readdir(d)) != NULL) {
		if (!keep(e->d_name))
			continue;
		names = xd_reallocarray(names, n + 1, sizeof(*names));
		names[n++] = xd_strdup(e->d_name);
	}
	closedir(d);
	if (n)
		qsort(names, n, sizeof(*names), compare_names);
	for (size_t i = 0; i < n; i++) {
		char *path = join_path(dir, names[i]);
		struct stat st;
		if (stat(path, &st) < 0)
			err_at(L, path, 0, "cannot use: %s", strerror(errno));
		else if (S_ISREG(st.st_mode))
			fn(L, path);
		free(path);
	}
	free_names(names, n);
}

/* Where a [global] directory key was set, or the main file if it was not. */
static struct xd_origin dir_key_origin(const struct loader *L, enum key_id id, const char *main_path)
{
	struct xd_origin o = L->gseen[id];
	if (!o.line)
		o.file = main_path;
	return o;
}

static bool is_include_name(const char *name)
{
	return name[0] != '.' && ends_with(name, ".conf");
}

/* Editor backups, package-manager leftovers and dotfiles in auto_dir. */
static bool is_auto_name(const char *name)
{
	static const char *const skip[] = {
		"~", "#", ".bak", ".old", ".orig", ".rej", ".swp", ".tmp",
		".rpmnew", ".rpmsave", ".rpmorig", ".dpkg-old", ".dpkg-new", ".dpkg-dist",
		".dpkg-bak", ".dpkg-tmp", ".ucf-old", ".ucf-new", ".ucf-dist",
	};
	if (name[0] == '.')
		return false;
	for (size_t i = 0; i < sizeof(skip) / sizeof(skip[0]); i++)
		if (ends_with(name, skip[i]))
			return false;
	return true;
}

static void read_include(struct loader *L, const char *path)
{
	read_file(L, path, false);
}

static void read_includes(struct loader *L, const char *main_path)
{
	struct xd_origin key = dir_key_origin(L, KEY_INCLUDE_DIR, main_path);

	if (*L->cfg->global.include_dir)
		for_each_file(L, L->cfg->global.include_dir, &key, is_include_name, read_include);
}

/* ---- xl cfgs --------------------------------------------------------------- */

static void apply_xlcfg(struct xd_domain_cfg *d, const struct xd_xlcfg *x)
{
	d->memory_mb = x->memory_mb;
	d->maxmem_mb = x->maxmem_mb;
	d->hvm = x->hvm;
	d->on_poweroff = x->on_poweroff;
	d->on_reboot = x->on_reboot;
	d->on_crash = x->on_crash;
	d->on_watchdog = x->on_watchdog;
	d->on_soft_reset = x->on_soft_reset;
}

/* config =, else <dir>/<name>.cfg, else <dir>/<name>; NULL (reported) if
 * there is no such file. */
static char *find_xlcfg(struct loader *L, struct xd_domain_cfg *d, struct dom_src *s)
{
	const char *dir = L->cfg->global.xen_config_dir;
	struct stat st;

	if (s->config) {
		const struct xd_origin *o = &s->seen[KEY_CONFIG];
		char *path = s->config[0] == '/' ? xd_strdup(s->config) : join_path(dir, s->config);
		if (stat(path, &st) == 0)
			return path;
		err_at(L, o->file, o->line, "config: %s: %s", path, strerror(errno));
		free(path);
		return NULL;
	}
	char *name_cfg = xd_asprintf("%s.cfg", d->name);
	char *tried[2] = { join_path(dir, name_cfg), join_path(dir, d->name) };
	free(name_cfg);
	for (int i = 0; i < 2; i++)
		if (stat(tried[i], &st) == 0) {
			free(tried[1 - i]);
			return tried[i];
		}
	err_at(L, d->origin.file, d->origin.line,
	       "no xl cfg for domain %s: tried %s and %s (set config = to name it)",
	       d->name, tried[0], tried[1]);
	free(tried[0]);
	free(tried[1]);
	return NULL;
}

static void read_section_xlcfgs(struct loader *L)
{
	for (size_t i = 0; i < L->cfg->n_domains; i++) {
		struct xd_domain_cfg *d = &L->cfg->domains[i];
		struct xd_xlcfg x;

		d->xl_path = find_xlcfg(L, d, &L->src[i]);
		if (!d->xl_path)
			continue;
		if (xd_xlcfg_read(d->xl_path, &x, L->diags) == 0)
			apply_xlcfg(d, &x);
		if (x.name && strcmp(x.name, d->name) != 0)
			err_at(L, d->xl_path, x.name_line, "name = \"%s\" does not match [domain %s] at %s:%d",
			       x.name, d->name, d->origin.file, d->origin.line);
		xd_xlcfg_free(&x);
	}
}

/* An auto_dir file: a domain with default policy, unless a [domain]
 * section already defines it (the section wins). */
static void add_auto_domain(struct loader *L, const char *path)
{
	struct xd_xlcfg x;
	int rc = xd_xlcfg_read(path, &x, L->diags);
	long known = x.name ? xd_config_find(L->cfg, x.name) : -1;

	if (known >= 0 && !L->cfg->domains[known].from_auto_dir) {
		/* the [domain] section wins */
	} else if (known >= 0) {
		err_at(L, path, x.name_line, "domain %s is also defined by %s (auto_dir)", x.name,
		       L->cfg->domains[known].xl_path);
	} else if (x.name && !xd_domain_name_problem(x.name)) {
		struct xd_origin origin = { intern_file(L, path), 0 };
		size_t i = append_domain(L, x.name, origin);   /* reallocates domains */
		struct xd_domain_cfg *d = &L->cfg->domains[i];
		d->from_auto_dir = true;
		d->xl_path = xd_strdup(path);
		d->on_host_shutdown = L->cfg->global.on_host_shutdown;
		d->shutdown_timeout_ms = L->cfg->global.shutdown_timeout_ms;
		if (rc == 0)
			apply_xlcfg(d, &x);
	}
	xd_xlcfg_free(&x);
}

static void read_auto_dir(struct loader *L, const char *main_path)
{
	struct xd_origin key = dir_key_origin(L, KEY_AUTO_DIR, main_path);

	if (*L->cfg->global.auto_dir)
		for_each_file(L, L->cfg->global.auto_dir, &key, is_auto_name, add_auto_domain);
}

/* ---- dependencies ---------------------------------------------------------- */

static const char *closest_domain(const struct xd_config *c, const char *name)
{
	struct xd_suggestion sg = XD_SUGGESTION_INIT(name);

	for (size_t i = 0; i < c->n_domains; i++)
		xd_suggest(&sg, c->domains[i].name);
	return sg.best;
}

static void resolve_list(struct loader *L, const struct xd_origin *o, const char *key,
			 char **names, size_t n_names, size_t **out, size_t *n_out)
{
	*out = xd_calloc(n_names, sizeof(**out));
	*n_out = 0;
	for (size_t k = 0; k < n_names; k++) {
		long j = xd_config_find(L->cfg, names[k]);
		if (j >= 0) {
			(*out)[(*n_out)++] = (size_t)j;
			continue;
		}
		const char *hint = closest_domain(L->cfg, names[k]);
		if (hint)
			err_at(L, o->file, o->line, "%s: unknown domain '%s'; did you mean '%s'?", key,
			       names[k], hint);
		else
			err_at(L, o->file, o->line, "%s: unknown domain '%s'", key, names[k]);
	}
}

static void resolve_deps(struct loader *L)
{
	for (size_t i = 0; i < L->cfg->n_domains; i++) {
		struct xd_domain_cfg *d = &L->cfg->domains[i];
		struct dom_src *s = &L->src[i];
		resolve_list(L, &s->seen[KEY_AFTER], "after", s->after, s->n_after, &d->after, &d->n_after);
		resolve_list(L, &s->seen[KEY_REQUIRES], "requires", s->requires, s->n_requires,
			     &d->requires, &d->n_requires);
	}
}

static bool index_listed(const size_t *v, size_t n, size_t x)
{
	for (size_t i = 0; i < n; i++)
		if (v[i] == x)
			return true;
	return false;
}

/* Each cycle at the after/requires key holding its closing arrow. */
static void report_cycles(struct loader *L)
{
	struct xd_cycle *cycles;
	size_t n;

	if (xd_plan_find_cycles(L->cfg, &cycles, &n) < 0)
		xd_oom();
	for (size_t i = 0; i < n; i++) {
		size_t from = cycles[i].v[cycles[i].len - 2], to = cycles[i].v[cycles[i].len - 1];
		const struct xd_domain_cfg *d = &L->cfg->domains[from];
		enum key_id key = index_listed(d->requires, d->n_requires, to) ? KEY_REQUIRES : KEY_AFTER;
		const struct xd_origin *o = &L->src[from].seen[key];
		char *text = xd_plan_cycle_text(L->cfg, cycles[i].v, cycles[i].len);
		if (!text)
			xd_oom();
		err_at(L, o->file, o->line, "dependency cycle: %s", text);
		free(text);
	}
	xd_cycles_free(cycles, n);
}

/* ---- the whole load ------------------------------------------------------- */

static void apply_global_defaults(struct loader *L)
{
	for (size_t i = 0; i < L->cfg->n_domains; i++) {
		struct xd_domain_cfg *d = &L->cfg->domains[i];
		if (!L->src[i].seen[KEY_ON_HOST_SHUTDOWN].line)
			d->on_host_shutdown = L->cfg->global.on_host_shutdown;
		if (!L->src[i].seen[KEY_SHUTDOWN_TIMEOUT].line)
			d->shutdown_timeout_ms = L->cfg->global.shutdown_timeout_ms;
	}
}

/* Everything that can be loaded, with every problem in diags. */
static struct xd_config *load_all(const char *path, struct xd_diags *diags)
{
	struct loader L = { .diags = diags };

	L.cfg = xd_calloc(1, sizeof(*L.cfg));
	global_defaults(&L.cfg->global);
	read_file(&L, path, true);
	read_includes(&L, path);
	apply_global_defaults(&L);
	read_section_xlcfgs(&L);
	read_auto_dir(&L, path);
	resolve_deps(&L);
	report_cycles(&L);
	for (size_t i = 0; i < L.cfg->n_domains; i++)
		dom_src_free(&L.src[i]);
	free(L.src);
	return L.cfg;
}

int xd_config_load(const char *path, struct xd_config **out, struct xd_diags *diags)
{
	size_t before = diags->n;
	struct xd_config *cfg = load_all(path, diags);

	if (diags->n > before) {
		xd_config_free(cfg);
		*out = NULL;
		return -1;
	}
	*out = cfg;
	return 0;
}

int xd_config_check(const char *path, FILE *out)
{
	struct xd_diags diags = { 0 };
	struct xd_config *cfg = load_all(path, &diags);
	size_t n = cfg->n_domains;

	xd_diags_print(&diags, out);
	fprintf(out, "%zu domain%s, %zu error%s\n", n, n == 1 ? "" : "s", diags.n,
		diags.n == 1 ? "" : "s");
	int rc = diags.n ? 2 : 0;
	xd_diags_free(&diags);
	xd_config_free(cfg);
	return rc;
}
