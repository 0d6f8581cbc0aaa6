/* SPDX-License-Identifier: ISC */
/*
 * A small stand-in for the engine (core/engine.h) behind the control
 * server's unit tests: every command moves domains through the xendomd(8)
 * states on the loop's timers, reporting each change through the env's
 * `changed` callback as the real engine does, with knobs to make a
 * start or a save fail.  The control layer gets it through the same
 * interface as the real engine (daemon/engine_if.h): fake_engine_if().
 */
#ifndef XD_TEST_FAKE_ENGINE_H
#define XD_TEST_FAKE_ENGINE_H

#include "core/engine.h"
#include "daemon/engine_if.h"

#define FAKE_DOMS_MAX 64

struct fake_dom {
	char name[XD_NAME_MAX];
	enum xd_state state;
	long domid;
	char reason[XD_REASON_MAX];
	unsigned attempts;
	uint64_t since;
	bool managed;
	long cfg_index;                  /* -1 when unmanaged */
	struct xd_timeline tl;
	struct xd_timer t;               /* the transition under way */
	enum xd_state next;              /* where t leads */
	bool fail_start, fail_save;      /* knobs */
	bool fail_migrate, migrate_in_doubt;
	char migrate_host[128];          /* the last migration's */
	struct fake_engine *e;
};

struct fake_engine {
	const struct xd_config *cfg;
	struct xd_engine_env env;
	struct fake_dom doms[FAKE_DOMS_MAX];
	size_t n;
	uint64_t op_ms;                  /* how long every transition takes */
	bool halting;
	unsigned reloads, starts, stops, saves, migrates;
	unsigned long status_calls;      /* queries, to bound a request's cost */
	long next_domid;
};

struct fake_engine *fake_engine_new(const struct xd_config *cfg,
				   const struct xd_engine_env *env);
void fake_engine_free(struct fake_engine *e);
/* The fake behind the control layer's engine interface. */
struct xd_engine_if fake_engine_if(struct fake_engine *e);

/* The fake domain called name (managed or not), or NULL. */
struct fake_dom *fake_dom(struct fake_engine *e, const char *name);
/* Put a domain in a state right now, telling `changed`. */
void fake_set(struct fake_engine *e, struct fake_dom *d, enum xd_state s, long domid,
	      const char *reason);

#endif
