/* SPDX-License-Identifier: ISC */
/*
 * The configuration model: what xendomd.conf(5) and each domain's
 * xl cfg say, after parsing and validation.  Pure data, no I/O; built by
 * src/config/ and consumed by the core.  All durations are milliseconds.
 */
#ifndef XD_CONFIG_H
#define XD_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/hash.h"

#define XD_NAME_MAX 64           /* Xen domain names, including the NUL */
#define XD_KEY_MAX 256           /* readiness XenStore path/value bound */

enum xd_host_action {            /* on_host_shutdown */
	XD_HOST_SHUTDOWN,
	XD_HOST_SAVE,
	XD_HOST_DESTROY,
	XD_HOST_LEAVE,
	XD_HOST_MIGRATE,         /* live migration to migrate_to, as `xl migrate` */
};

enum xd_fallback {               /* shutdown_fallback */
	XD_FALLBACK_DESTROY,
	XD_FALLBACK_LEAVE,
};

enum xd_restore_failure {        /* on_restore_failure */
	XD_RESTORE_FAIL,
	XD_RESTORE_BOOT,
};

enum xd_notify_ready {
	XD_NOTIFY_AFTER_BOOT,
	XD_NOTIFY_IMMEDIATELY,
};

enum xd_start_order {           /* start_order */
	XD_ORDER_CONFIG,         /* among startable domains, config order */
	XD_ORDER_CRITICAL_PATH,  /* longest weighted chain of dependents first */
};

enum xd_ready_kind {
	XD_READY_RUNNING,        /* created and unpaused */
	XD_READY_PV_DRIVERS,     /* control/feature-poweroff == "1" */
	XD_READY_XENSTORE,       /* key exists (and equals value) */
	XD_READY_DELAY,          /* fixed delay after unpause */
};

struct xd_ready {
	enum xd_ready_kind kind;
	char *path;              /* XENSTORE: guest-relative path (< XD_KEY_MAX) */
	char *value;             /* XENSTORE: expected value (< XD_KEY_MAX), or NULL */
	bool has_value;          /* XENSTORE: compare against value */
	uint64_t delay_ms;       /* DELAY */
};

/* xl cfg lifecycle actions (xl.cfg(5) on_poweroff & co.) */
enum xd_action {
	XD_ACT_DESTROY,
	XD_ACT_RESTART,
	XD_ACT_RENAME_RESTART,
	XD_ACT_PRESERVE,
	XD_ACT_COREDUMP_DESTROY,
	XD_ACT_COREDUMP_RESTART,
	XD_ACT_SOFT_RESET,
};

/* Where a setting came from, for FILE:LINE messages. */
struct xd_origin {
	const char *file;        /* interned in xd_config.files */
	int line;
};

struct xd_domain_cfg {
	char name[XD_NAME_MAX];
	struct xd_origin origin;         /* the [domain NAME] header, or the auto file */
	char *xl_path;                   /* resolved xl cfg path */
	bool from_auto_dir;
	bool autostart;

	/* dependencies, as indices into xd_config.domains (resolved) */
	size_t *after, n_after;
	size_t *requires, n_requires;

	struct xd_ready ready;
	uint64_t ready_timeout_ms;
	uint64_t start_delay_ms;
	unsigned start_retries;
	uint64_t retry_delay_ms;
	unsigned restart_limit;          /* restarts ... */
	uint64_t restart_window_ms;      /* ... per this window */
	enum xd_host_action on_host_shutdown;
	uint64_t shutdown_timeout_ms;
	uint64_t save_timeout_ms;        /* a save at halt; 0 = no deadline */
	char *migrate_to;                /* host for on_host_shutdown = migrate; "" = none */
	char *migrate_command;           /* as `xl migrate -s`: runs `CMD HOST xl migrate-receive` */
	uint64_t migrate_timeout_ms;     /* one migration, at halt or on demand */
	bool migrate_live;               /* false: suspend first, then copy (no log-dirty) */
	char *exec_start_pre;            /* NULL = none */
	char *exec_stop_post;
	uint64_t hook_timeout_ms;

	/* from the xl cfg */
	uint64_t memory_mb;              /* memory= (else maxmem=, else xl's 32) */
	uint64_t maxmem_mb;              /* maxmem=, else memory */
	bool hvm;                        /* type="hvm" or builder="hvm" */
	enum xd_action on_poweroff, on_reboot, on_crash, on_watchdog, on_soft_reset;

	/* Degraded boot: "FILE:LINE: message" when this domain's own
	 * configuration is broken (only a daemon start keeps such a domain;
	 * --check and reload refuse the whole file).  The engine never
	 * creates it and shows it failed with this reason. */
	char *config_error;
};

struct xd_global {
	char *xen_config_dir;
	char *auto_dir;                  /* "" = disabled */
	char *include_dir;
	char *state_dir;
	char *save_dir;
	char *socket;
	char *socket_group;              /* "" = none */
	unsigned max_parallel_starts;    /* 0 = unlimited */
	unsigned max_parallel_stops;     /* 0 = unlimited */
	uint64_t start_timeout_ms;
	enum xd_host_action on_host_shutdown;
	uint64_t shutdown_timeout_ms;
	uint64_t save_timeout_ms;
	char *migrate_to;                /* "" = none */
	char *migrate_command;
	uint64_t migrate_timeout_ms;
	bool migrate_live;
	enum xd_fallback shutdown_fallback;
	bool stop_unmanaged;
	bool restore_on_boot;
	bool restore_unmanaged;          /* restore images of unconfigured domains too */
	enum xd_restore_failure on_restore_failure;
	enum xd_notify_ready notify_ready;
	enum xd_start_order start_order;
};

struct xd_config {
	struct xd_global global;
	struct xd_domain_cfg *domains;   /* in boot order: sections, then auto_dir */
	size_t n_domains;
	char **files;                    /* every file read, for xd_origin */
	size_t n_files;
	struct xd_index by_name;         /* domains[0 .. n_indexed - 1] by name */
	size_t n_indexed;
};

/* Does anything xendomd acts on differ between two versions of a domain
 * (a in configuration ca, b in cb)?  Dependencies are indices into their
 * own configuration, so they are compared by name.  The name, origin and
 * from_auto_dir are not settings: a domain that only moved is unchanged.
 * Every new field of struct xd_domain_cfg must be compared here (or be
 * listed as ignored); tests/core/test_config_equal.c fails until it is. */
bool xd_domain_cfg_equal(const struct xd_config *ca, const struct xd_domain_cfg *a,
			 const struct xd_config *cb, const struct xd_domain_cfg *b);

/*
 * Lookup by name; returns the index or -1.  O(1) for the domains that
 * xd_config_index() has seen (every domain of a loaded configuration:
 * reload looks up each domain of both configurations); domains appended
 * since are found by a scan of the tail, so a configuration built by hand,
 * with or without an index, is always searched correctly.  Indexed domains
 * must keep their names and places; more may be appended.
 */
long xd_config_find(const struct xd_config *cfg, const char *name);
/* Index domains[n_indexed .. n_domains - 1]; a repeated name keeps the
 * first one, as the scan does. */
void xd_config_index(struct xd_config *cfg);
void xd_config_free(struct xd_config *cfg);
/* Free what a domain owns (not d itself); the one list of its pointers. */
void xd_domain_cfg_free(struct xd_domain_cfg *d);

const char *xd_action_name(enum xd_action a);

/* The guest-relative XenStore path rule, one for `--check` and every
 * backend: NULL if p is usable, else why not.  The full path
 * "/local/domain/<domid>/" + p must fit XD_KEY_MAX with the largest domid,
 * so p may have at most XD_RELPATH_MAX characters. */
#define XD_RELPATH_MAX (XD_KEY_MAX - 1 - (sizeof("/local/domain/65535/") - 1))
const char *xd_xenstore_relpath_problem(const char *p);
const char *xd_host_action_name(enum xd_host_action a);

/* The host of a migration (migrate_to, `xendomctl migrate NAME HOST`), one
 * rule for the configuration and the control socket: NULL if h is usable,
 * else why not.  It is one word for the migrate_command (ssh's [USER@]HOST,
 * an IPv6 address in brackets), never an option and never anything a
 * shell would expand. */
#define XD_HOST_MAX 255
const char *xd_migrate_host_problem(const char *h);

#endif
