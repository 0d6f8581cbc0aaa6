/* SPDX-License-Identifier: ISC */
/*
 * The keys of xendomd.conf: one table says where each key may appear, how
 * its value is read and where it is stored; on_key applies one
 * `key = value` line (scope, duplicates, quotes) and hands the value to
 * values.c.
 */
#include "config/load_int.h"

#include <stdlib.h>
#include <string.h>

/* in enum xd_host_action order */
static const char *const host_action_names[] = { "shutdown", "save", "destroy", "leave", "migrate", NULL };
static const char *const fallback_names[] = { "destroy", "leave", NULL };
static const char *const restore_failure_names[] = { "fail", "boot", NULL };
static const char *const notify_names[] = { "after-boot", "immediately", NULL };
static const char *const start_order_names[] = { "config", "critical-path", NULL };
_Static_assert(sizeof(enum xd_host_action) == sizeof(int), "K_ENUM stores ints");
_Static_assert(sizeof(enum xd_fallback) == sizeof(int), "K_ENUM stores ints");
_Static_assert(sizeof(enum xd_restore_failure) == sizeof(int), "K_ENUM stores ints");
_Static_assert(sizeof(enum xd_notify_ready) == sizeof(int), "K_ENUM stores ints");
_Static_assert(sizeof(enum xd_start_order) == sizeof(int), "K_ENUM stores ints");

#define G(f) offsetof(struct xd_global, f)
#define D(f) offsetof(struct xd_domain_cfg, f)

const struct key_def ld_keys[N_KEYS] = {
	[KEY_XEN_CONFIG_DIR] = { "xen_config_dir", IN_GLOBAL, K_PATH, G(xen_config_dir), 0, 0, 0, NULL },
	[KEY_AUTO_DIR] = { "auto_dir", IN_GLOBAL, K_PATH_OR_EMPTY, G(auto_dir), 0, 0, 0, NULL },
	[KEY_INCLUDE_DIR] = { "include_dir", IN_GLOBAL, K_PATH_OR_EMPTY, G(include_dir), 0, 0, 0, NULL },
	[KEY_STATE_DIR] = { "state_dir", IN_GLOBAL, K_PATH, G(state_dir), 0, 0, 0, NULL },
	[KEY_SAVE_DIR] = { "save_dir", IN_GLOBAL, K_PATH, G(save_dir), 0, 0, 0, NULL },
	[KEY_SOCKET] = { "socket", IN_GLOBAL, K_PATH, G(socket), 0, 0, 0, NULL },
	[KEY_SOCKET_GROUP] = { "socket_group", IN_GLOBAL, K_STRING, G(socket_group), 0, 0, 0, NULL },
	[KEY_MAX_PARALLEL_STARTS] = { "max_parallel_starts", IN_GLOBAL, K_COUNT, G(max_parallel_starts), 0, 0, 1024, NULL },
	[KEY_MAX_PARALLEL_STOPS] = { "max_parallel_stops", IN_GLOBAL, K_COUNT, G(max_parallel_stops), 0, 0, 1024, NULL },
	[KEY_START_TIMEOUT] = { "start_timeout", IN_GLOBAL, K_SECONDS, G(start_timeout_ms), 0, 1, XD_DAY_S, NULL },
	[KEY_ON_HOST_SHUTDOWN] = { "on_host_shutdown", IN_GLOBAL | IN_DOMAIN, K_ENUM, G(on_host_shutdown), D(on_host_shutdown), 0, 0, host_action_names },
	[KEY_SHUTDOWN_TIMEOUT] = { "shutdown_timeout", IN_GLOBAL | IN_DOMAIN, K_SECONDS, G(shutdown_timeout_ms), D(shutdown_timeout_ms), 1, XD_DAY_S, NULL },
	[KEY_SAVE_TIMEOUT] = { "save_timeout", IN_GLOBAL | IN_DOMAIN, K_SECONDS, G(save_timeout_ms), D(save_timeout_ms), 0, XD_DAY_S, NULL },
	[KEY_MIGRATE_TO] = { "migrate_to", IN_GLOBAL | IN_DOMAIN, K_HOST, G(migrate_to), D(migrate_to), 0, 0, NULL },
	[KEY_MIGRATE_COMMAND] = { "migrate_command", IN_GLOBAL | IN_DOMAIN, K_COMMAND, G(migrate_command), D(migrate_command), 0, 0, NULL },
	[KEY_MIGRATE_TIMEOUT] = { "migrate_timeout", IN_GLOBAL | IN_DOMAIN, K_SECONDS, G(migrate_timeout_ms), D(migrate_timeout_ms), 1, XD_DAY_S, NULL },
	[KEY_MIGRATE_LIVE] = { "migrate_live", IN_GLOBAL | IN_DOMAIN, K_BOOL, G(migrate_live), D(migrate_live), 0, 0, NULL },
	[KEY_SHUTDOWN_FALLBACK] = { "shutdown_fallback", IN_GLOBAL, K_ENUM, G(shutdown_fallback), 0, 0, 0, fallback_names },
	[KEY_STOP_UNMANAGED] = { "stop_unmanaged", IN_GLOBAL, K_BOOL, G(stop_unmanaged), 0, 0, 0, NULL },
	[KEY_RESTORE_ON_BOOT] = { "restore_on_boot", IN_GLOBAL, K_BOOL, G(restore_on_boot), 0, 0, 0, NULL },
	[KEY_RESTORE_UNMANAGED] = { "restore_unmanaged", IN_GLOBAL, K_BOOL, G(restore_unmanaged), 0, 0, 0, NULL },
	[KEY_ON_RESTORE_FAILURE] = { "on_restore_failure", IN_GLOBAL, K_ENUM, G(on_restore_failure), 0, 0, 0, restore_failure_names },
	[KEY_NOTIFY_READY] = { "notify_ready", IN_GLOBAL, K_ENUM, G(notify_ready), 0, 0, 0, notify_names },
	[KEY_START_ORDER] = { "start_order", IN_GLOBAL, K_ENUM, G(start_order), 0, 0, 0, start_order_names },
	[KEY_CONFIG] = { "config", IN_DOMAIN, K_XLCFG, 0, 0, 0, 0, NULL },
	[KEY_AUTOSTART] = { "autostart", IN_DOMAIN, K_BOOL, 0, D(autostart), 0, 0, NULL },
	[KEY_AFTER] = { "after", IN_DOMAIN, K_DEPS, 0, 0, 0, 0, NULL },
	[KEY_REQUIRES] = { "requires", IN_DOMAIN, K_DEPS, 0, 0, 0, 0, NULL },
	[KEY_READY] = { "ready", IN_DOMAIN, K_READY, 0, D(ready), 0, 0, NULL },
	[KEY_READY_TIMEOUT] = { "ready_timeout", IN_DOMAIN, K_SECONDS, 0, D(ready_timeout_ms), 1, XD_DAY_S, NULL },
	[KEY_START_DELAY] = { "start_delay", IN_DOMAIN, K_SECONDS, 0, D(start_delay_ms), 0, XD_DAY_S, NULL },
	[KEY_START_RETRIES] = { "start_retries", IN_DOMAIN, K_COUNT, 0, D(start_retries), 0, 100, NULL },
	[KEY_RETRY_DELAY] = { "retry_delay", IN_DOMAIN, K_SECONDS, 0, D(retry_delay_ms), 0, 300, NULL },
	[KEY_RESTART_LIMIT] = { "restart_limit", IN_DOMAIN, K_RESTART_LIMIT, 0, 0, 0, 0, NULL },
	[KEY_EXEC_START_PRE] = { "exec_start_pre", IN_DOMAIN, K_HOOK, 0, D(exec_start_pre), 0, 0, NULL },
	[KEY_EXEC_STOP_POST] = { "exec_stop_post", IN_DOMAIN, K_HOOK, 0, D(exec_stop_post), 0, 0, NULL },
	[KEY_HOOK_TIMEOUT] = { "hook_timeout", IN_DOMAIN, K_SECONDS, 0, D(hook_timeout_ms), 1, XD_DAY_S, NULL },
};

static const char *closest_key(const char *name)
{
	struct xd_suggestion sg = XD_SUGGESTION_INIT(name);

	for (size_t i = 0; i < N_KEYS; i++)
		xd_suggest(&sg, ld_keys[i].name);
	return sg.best;
}

static long find_key(const char *name)
{
	for (size_t i = 0; i < N_KEYS; i++)
		if (strcmp(ld_keys[i].name, name) == 0)
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
		ld_err(L, "unknown key '%s' in %s; did you mean '%s'?", name, where, hint);
	else
		ld_err(L, "unknown key '%s' in %s", name, where);
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

int ld_on_key(void *user, const char *section, const char *name, const char *value)
{
	struct loader *L = user;
	(void)section;           /* our reader tracks sections (see top) */

	L->line_handled = true;
	if (L->sec == SEC_IGNORED)
		return 1;
	if (!*name) {
		ld_err(L, "missing key name before '='");
		return 1;
	}
	if (L->sec == SEC_NONE) {
		ld_err(L, "key '%s' is outside any section; put it under [global] or [domain NAME]", name);
		return 1;
	}
	long id = find_key(name);
	unsigned scope = L->sec == SEC_GLOBAL ? IN_GLOBAL : IN_DOMAIN;
	if (id < 0) {
		unknown_key(L, name);
		return 1;
	}
	if (!(ld_keys[id].scope & scope)) {
		ld_err(L, "'%s' belongs in %s, not in %s", name,
		       scope == IN_GLOBAL ? "a [domain NAME] section" : "[global]",
		       scope == IN_GLOBAL ? "[global]" : "a [domain] section");
		return 1;
	}
	if (id == KEY_INCLUDE_DIR && !L->main_file) {
		ld_err(L, "include_dir may only be set in the main configuration file");
		return 1;
	}
	struct xd_origin *seen = scope == IN_GLOBAL ? &L->gseen[id] : &L->dsrc->seen[id];
	if (seen->line) {
		ld_err(L, "duplicate key '%s' (first set at %s:%d)", name, seen->file, seen->line);
		return 1;
	}
	*seen = (struct xd_origin){ L->file, L->line };
	char *copy;
	ld_set_value(L, (enum key_id)id, unquote(value, &copy));
	free(copy);
	return 1;
}
