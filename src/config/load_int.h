/* SPDX-License-Identifier: ISC */
/*
 * Private to src/config/: the state the loader's files share while one
 * configuration is loaded (see load.h for the rules it enforces).
 *   keys.c     the key table and `key = value` lines
 *   values.c   reading each kind of value
 *   reader.c   reading one file with inih, FILE:LINE, section headers
 *   domains.c  defaults, [domain NAME] sections, the by-name index
 *   sources.c  main file, include_dir, auto_dir; xd_config_load/check
 *   resolve.c  xl cfgs of sections, after/requires, cycles
 */
#ifndef XD_CONFIG_LOAD_INT_H
#define XD_CONFIG_LOAD_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/load.h"
#include "config/util.h"

#define XD_DAY_S 86400

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
	K_HOST,                  /* a migration host (xd_migrate_host_problem), or "" */
	K_COMMAND,               /* a shell command line, not empty (migrate_command) */
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

enum key_id {
	KEY_XEN_CONFIG_DIR, KEY_AUTO_DIR, KEY_INCLUDE_DIR, KEY_STATE_DIR, KEY_SAVE_DIR,
	KEY_SOCKET, KEY_SOCKET_GROUP, KEY_MAX_PARALLEL_STARTS, KEY_MAX_PARALLEL_STOPS,
	KEY_START_TIMEOUT, KEY_ON_HOST_SHUTDOWN, KEY_SHUTDOWN_TIMEOUT, KEY_SAVE_TIMEOUT,
	KEY_MIGRATE_TO, KEY_MIGRATE_COMMAND, KEY_MIGRATE_TIMEOUT, KEY_MIGRATE_LIVE,
	KEY_SHUTDOWN_FALLBACK, KEY_STOP_UNMANAGED, KEY_RESTORE_ON_BOOT, KEY_RESTORE_UNMANAGED, KEY_ON_RESTORE_FAILURE, KEY_NOTIFY_READY,
	KEY_START_ORDER,
	KEY_CONFIG, KEY_AUTOSTART, KEY_AFTER, KEY_REQUIRES, KEY_READY, KEY_READY_TIMEOUT,
	KEY_START_DELAY, KEY_START_RETRIES, KEY_RETRY_DELAY, KEY_RESTART_LIMIT,
	KEY_EXEC_START_PRE, KEY_EXEC_STOP_POST, KEY_HOOK_TIMEOUT,
	N_KEYS
};

extern const struct key_def ld_keys[N_KEYS];

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
	unsigned flags;                  /* XD_LOAD_* */
	bool main_unreadable;            /* the main file could not be read */
	long owner;                      /* domain the errors reported now are
	                                  * about (config_error), or -1 */
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

/* reader.c */
void ld_err_at(struct loader *L, const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void ld_warn_at(struct loader *L, const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* The first error in diags from first_diag on becomes domain dom's
 * config_error, unless it has one. */
void ld_blame(struct loader *L, size_t dom, size_t first_diag);
/* An error at the line being read. */
#define ld_err(L, ...) ld_err_at((L), (L)->file, (L)->line, __VA_ARGS__)
const char *ld_intern_file(struct loader *L, const char *path);
void ld_read_file(struct loader *L, const char *path, bool main_file);

/* keys.c: inih's handler for one `key = value` */
int ld_on_key(void *user, const char *section, const char *name, const char *value);

/* values.c */
void ld_set_value(struct loader *L, enum key_id id, const char *v);

/* domains.c */
void ld_global_defaults(struct xd_global *g);
void ld_free_names(char **v, size_t n);
void ld_dom_src_free(struct dom_src *s);
void ld_scratch_free(struct loader *L);
size_t ld_append_domain(struct loader *L, const char *name, struct xd_origin origin);
void ld_begin_domain(struct loader *L, const char *name);
void ld_inherit_global(struct xd_domain_cfg *d, const struct xd_global *g,
		       const struct xd_origin *seen);
void ld_apply_global_defaults(struct loader *L);

/* sources.c */
char *ld_join_path(const char *dir, const char *name);

/* resolve.c */
struct xd_xlcfg;
void ld_apply_xlcfg(struct xd_domain_cfg *d, const struct xd_xlcfg *x);
void ld_read_section_xlcfgs(struct loader *L);
void ld_resolve_deps(struct loader *L);
void ld_report_cycles(struct loader *L);

#endif
