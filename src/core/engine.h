/* SPDX-License-Identifier: ISC */
/*
 * The orchestration engine: per-domain state machines, the start and stop
 * schedulers, lifecycle policy and the host-shutdown sequence.
 *
 * No I/O and no Xen headers: the engine reaches the world only through
 * the hypervisor port (hv_port.h), the timer queue (timer.h) and the callbacks
 * of struct xd_engine_env.  The daemon's loop calls xd_engine_pump() after
 * every wake-up; tests do the same on a virtual clock.
 */
#ifndef XD_ENGINE_H
#define XD_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/config.h"
#include "core/timer.h"
#include "util/log.h"          /* enum xd_log_level */
#include "core/hv_port.h"

/* The states xendomd(8) lists, in the same order. */
enum xd_state {
	XD_INACTIVE,
	XD_WAITING,
	XD_STARTING,
	XD_RESTORING,
	XD_BOOTING,
	XD_RUNNING,
	XD_STOPPING,
	XD_SAVING,
	XD_SAVED,
	XD_FAILED,
	XD_RESTARTING,
	XD_MIGRATING,
};
const char *xd_state_name(enum xd_state s);

/* Why a domain is being started or stopped; hooks see it as XENDOMD_REASON. */
enum xd_cause {
	XD_CAUSE_BOOT,
	XD_CAUSE_ON_DEMAND,
	XD_CAUSE_RESTART,
	XD_CAUSE_HOST_SHUTDOWN,
};
const char *xd_cause_name(enum xd_cause c);

#define XD_REASON_MAX 256

struct xd_dom_status {
	const char *name;
	enum xd_state state;
	long domid;                      /* -1 when no domain exists */
	const char *reason;              /* NULL or a sentence */
	unsigned attempts;               /* create attempts in the current start */
	uint64_t since_ms;               /* when the state was entered (timer clock) */
	bool managed;                    /* in the configuration */
};

/* When things happened at the last start/stop, XD_NEVER if they did not. */
struct xd_timeline {
	uint64_t queued, started, created, ready, stopping, stopped;
	unsigned attempts;
};

struct xd_hook_req {
	const char *path;                /* absolute executable, run without a shell */
	const char *domain;
	long domid;                      /* -1 for pre hooks */
	enum xd_cause cause;
	uint64_t timeout_ms;
	uint64_t op;                     /* pass back to xd_engine_hook_done() */
};


struct xd_engine;

struct xd_engine_env {
	struct xd_timers *timers;
	struct hv *hv;
	void *ctx;                       /* passed to every callback */
	/* Start a hook; its end is reported with xd_engine_hook_done().
	 * Return -1 if it could not be started (the attempt fails). */
	int (*run_hook)(void *ctx, const struct xd_hook_req *req);
	/* Delete a restored save image, or (aside=true) rename it out of the
	 * way so it is never restored again but nothing is lost. */
	int (*discard_image)(void *ctx, const char *file, bool aside);
	/* A log line about one domain (domain may be NULL). */
	void (*log)(void *ctx, enum xd_log_level lvl, const char *domain, long domid,
		    const char *msg);
	/* A domain changed state (after the change). */
	void (*changed)(void *ctx, size_t dom, const struct xd_dom_status *st);
	/* The boot has settled (every boot domain running, failed or given
	 * up), or a host-shutdown sequence has finished. */
	void (*boot_settled)(void *ctx);
	void (*host_down)(void *ctx);
};

/* The engine keeps pointers into cfg; cfg must outlive it (or be replaced
 * with xd_engine_reload). */
struct xd_engine *xd_engine_new(const struct xd_config *cfg, const struct xd_engine_env *env);
void xd_engine_free(struct xd_engine *e);

/* Find managed domains already running and adopt them (no second create). */
int xd_engine_adopt(struct xd_engine *e);
/* Save images found in save_dir (any file name): before xd_engine_boot.
 * Those of domains that are neither configured nor running are restored,
 * as unmanaged domains, once the configured domains' boot has settled
 * (unless restore_on_boot or restore_unmanaged is off); the boot settles
 * after them.  A restored image is deleted, a failed one kept. */
void xd_engine_add_images(struct xd_engine *e, const char *const *files, size_t n);
/* Start every autostart domain (restoring saved ones). */
void xd_engine_boot(struct xd_engine *e);
/* On-demand start of doms (indices into cfg) and what they require. */
void xd_engine_start(struct xd_engine *e, const size_t *doms, size_t n, enum xd_cause cause);
/* Clean stop of doms; domains that require them stop first.  When
 * cascade is non-NULL it gets a malloc'ed list of those extra domains. */
void xd_engine_stop(struct xd_engine *e, const size_t *doms, size_t n,
		    size_t **cascade, size_t *n_cascade);
/* Save doms to save_dir (no fallback: a failed save leaves the guest running). */
void xd_engine_save(struct xd_engine *e, const size_t *doms, size_t n);
/* Live-migrate dom (an index into cfg) to host, as `xl migrate` does,
 * with the domain's migrate_command and migrate_timeout; no fallback: a
 * failed migration leaves the guest running here.  Dependents are not
 * stopped (the guest runs on, elsewhere).  NULL when it was started (or
 * queued for a stop slot), else why not. */
const char *xd_engine_migrate(struct xd_engine *e, size_t dom, const char *host);
/* Run the host-shutdown sequence now. */
void xd_engine_shutdown_host(struct xd_engine *e);

/* Switch to a new, already validated configuration (matched by domain
 * name; the engine keeps running state).  Added autostart domains start,
 * removed domains stay running but unmanaged, changed policies apply from
 * now on.  The old cfg may be freed after this returns. */
void xd_engine_reload(struct xd_engine *e, const struct xd_config *cfg);

/* start_order = critical-path: each configured domain's measured
 * create-to-ready time in ms from earlier boots (indexed like the engine's
 * configuration; 0 = not measured, counted as the median).  The engine
 * keeps them per domain, across reloads, and orders its run queue by the
 * longest weighted chain of dependents (core/plan.h), config order
 * breaking ties.  Until this call every domain weighs the same (1). */
void xd_engine_set_weights(struct xd_engine *e, const uint64_t *weight_ms);

/* Process every queued hypervisor event and pending decision.  Call after
 * each loop iteration (timers, fds, signals). */
void xd_engine_pump(struct xd_engine *e);
/* Report a hook's end: ok = exited 0 in time; msg says what happened. */
void xd_engine_hook_done(struct xd_engine *e, uint64_t op, bool ok, const char *msg);

/* Queries. */
size_t xd_engine_count(const struct xd_engine *e);   /* managed + unmanaged known */
void xd_engine_status(const struct xd_engine *e, size_t dom, struct xd_dom_status *st);
void xd_engine_timeline(const struct xd_engine *e, size_t dom, struct xd_timeline *tl);
/* True when nothing is in flight or pending (no op, no hook, no timer of ours). */
bool xd_engine_idle(const struct xd_engine *e);
/* How many managed domains are in each state, and how many domains (of
 * any kind) exist: kept up to date, O(1), for progress lines. */
struct xd_tally {
	size_t state[XD_MIGRATING + 1];
	size_t managed, alive;
};
void xd_engine_tally(const struct xd_engine *e, struct xd_tally *t);

/* The readiness rule on what a guest wrote: rc and value as the port's
 * read_key gave them (0 with a NUL-terminated value, HV_ETOOBIG, or an
 * error).  pv-drivers: the value is "1"; a XenStore path: it exists (even
 * too long to read), or, with a value, equals it byte for byte. */
bool xd_ready_matches(const struct xd_ready *r, int rc, const char *value);

#endif
