/* SPDX-License-Identifier: ISC */
/*
 * The engine's private header: the per-domain record, the engine itself
 * and the functions its files share.  Only src/core/engine/ includes it;
 * everyone else uses core/engine.h.
 *
 *   engine.c     construction, the pump, timer dispatch, queries
 *   state.c      states, reasons, the tally, the dirty list, timers, domids
 *   queue.c      run and stop queues, memory admission
 *   evaluate.c   dependency rules: may a domain be queued now
 *   start.c      start attempts, retries, restore, boot and start commands
 *   ready.c      readiness
 *   stop.c       shutdown, save, destroy, leave; stop/save; host shutdown
 *   migrate.c    live migration (at halt and on demand) and its outcomes
 *   lifecycle.c  guest shutdowns and crashes, restart_limit, death
 *   ops.c        backend op ids and completions, hooks
 *   adopt.c      adoption of running domains, reload
 *   images.c     restoring the save images of domains not configured
 */
#ifndef XD_ENGINE_INT_H
#define XD_ENGINE_INT_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/engine.h"
#include "util/alloc.h"

enum op_type {
	OP_CREATE = 1, OP_RESTORE, OP_UNPAUSE, OP_SHUTDOWN, OP_DESTROY, OP_SAVE, OP_DUMP, OP_HOOK,
	OP_MIGRATE,
};

#define OP_MAKE(seq, type, slot) (((uint64_t)(seq) << 32) | ((uint64_t)(type) << 24) | (uint64_t)(slot))
#define OP_TYPE(op) ((enum op_type)(((op) >> 24) & 0xff))
#define OP_SLOT(op) ((size_t)((op) & 0xffffff))

enum goal { GOAL_NONE, GOAL_UP, GOAL_DOWN };

enum stop_kind { STOP_SHUTDOWN, STOP_SAVE, STOP_DESTROY, STOP_LEAVE, STOP_MIGRATE };

/* What happens once the domain is gone. */
enum after_death {
	AD_UNEXPECTED,   /* nobody here destroyed it */
	AD_STOPPED,      /* -> inactive */
	AD_SAVED,        /* -> saved */
	AD_RESTART,      /* -> create again (lifecycle restart) */
	AD_RETRY,        /* a failed start attempt was cleaned up -> retry or fail */
	AD_FAILED,       /* -> failed with the pending reason */
};

enum wake_kind { WK_NONE, WK_START_DELAY, WK_RETRY, WK_READY_DELAY, WK_KEY_CHECK };

enum deadline_kind { DL_NONE, DL_START, DL_READY, DL_STOP, DL_MEMORY, DL_SAVE, DL_MIGRATE };

struct rdep {
	size_t slot;
	bool requires;
};

struct dom {
	struct xd_engine *e;
	size_t slot;
	const struct xd_domain_cfg *cfg;     /* NULL: unmanaged */
	size_t order;                        /* config index: priority, lower first */
	uint64_t weight_ms;                  /* measured start time, 0 = unknown */
	uint64_t prio;                       /* critical path through dependents (ms) */
	char name[XD_NAME_MAX];

	enum xd_state state;
	char *reason;                        /* NULL or a sentence, on the heap */
	uint64_t since;
	long domid;
	unsigned attempts;
	struct xd_timeline tl;

	/* dependencies (slots) and dependents */
	size_t *req, n_req;
	size_t *aft, n_aft;
	struct rdep *rdep;
	size_t n_rdep, cap_rdep;

	enum goal goal;
	enum xd_cause cause;

	struct {                             /* starting (start.c, queue.c) */
		bool queued;                 /* in the run queue */
		bool delay_done;             /* start_delay has passed */
		bool retry_wait;             /* backoff before the next attempt */
		bool holds_slot;             /* counts against max_parallel_starts */
		bool mem_waiting;            /* on the memory wait list */
		bool restoring;              /* this attempt restores restore_image */
	} start;
	uint64_t reserved_kb;                /* memory promised to our create in flight */
	uint64_t mem_wait_since;
	char *restore_image;                 /* restore instead of create */
	struct xd_domain_cfg *image_cfg;     /* unmanaged image: stands in for a cfg */

	struct {                             /* stopping and saving (stop.c) */
		enum stop_kind kind;
		bool queued;                 /* in the stop queue */
		bool holds_slot;             /* counts against max_parallel_stops */
		bool requested;              /* our shutdown/save/destroy is under way */
		bool left;                   /* left running at host shutdown */
		bool fallback;               /* host shutdown: a failed save or migration -> shutdown */
		bool cut;                    /* save_/migrate_timeout passed: cancelled; DL_STOP runs */
		char *host;                  /* STOP_MIGRATE: where to (heap) */
	} stop;

	struct {                             /* lifecycle (lifecycle.c, adopt.c) */
		bool husk;                   /* a preserved shut-down domain */
		bool paused_adopted;         /* adopted paused: not ours to unpause */
		bool in_doubt;               /* a migration lost contact after the go */
		bool pick;                   /* adopt.c: among the names a start asked for */
	} life;

	struct {                             /* readiness (ready.c) */
		bool watched;                /* the readiness key is watched */
		uint64_t last_check;
	} ready;

	struct {                             /* the hook we wait for (ops.c) */
		uint64_t op;
		bool post;                   /* exec_stop_post (else exec_start_pre) */
	} hook;

	struct {                             /* bookkeeping (state.c, engine.c) */
		bool dirty;                  /* on the list to re-evaluate */
		bool in_boot, in_halt;       /* counted in boot_pending/halt_pending */
	} track;

	uint64_t op;                         /* the op we wait for (0 = none) */
	enum after_death after_death;
	char *pending;                       /* the reason for the state after death */

	struct xd_timer t_wake, t_deadline;
	enum wake_kind wake;
	enum deadline_kind deadline;

	uint64_t *restarts;                  /* ring of restart times */
	size_t n_restarts;
};

struct slot_heap {
	size_t *v;
	size_t n, cap;
};

struct xd_engine {
	const struct xd_config *cfg;
	struct xd_engine_env env;
	struct xd_timers *timers;
	struct hv *hv;

	struct dom **doms;
	size_t n_doms, cap_doms;
	struct xd_index by_name;             /* name -> slot, every slot */
	size_t *cfg_slot;                    /* config index -> slot */

	uint32_t *by_domid;                  /* domid -> slot + 1 */
	size_t n_by_domid;

	size_t *dirty;
	size_t n_dirty, cap_dirty;
	struct slot_heap runq, stopq;
	size_t *memq;
	size_t n_memq, cap_memq;
	struct xd_timer mem_timer;

	size_t *imgq;                        /* unmanaged images, restored after the boot */
	size_t n_imgq, cap_imgq;

	struct xd_tally tally;
	unsigned starts_inflight, stops_inflight;
	uint64_t reserved_kb;
	uint32_t op_seq;
	unsigned ops_inflight, hooks_inflight;

	bool booting;
	size_t boot_pending;
	bool halting;
	bool host_shut;                      /* a host shutdown has completed */
	size_t halt_pending;
	bool pumping;
};

/* Small helpers every file uses. */

/* Fresh, so that state stamps and the timeline agree with the log's
 * clock even after a long call on the loop. */
static inline uint64_t now(const struct xd_engine *e)
{
	return xd_timers_fresh(e->timers);
}

static inline const char *pending(const struct dom *d)
{
	return d->pending ? d->pending : "";
}

static inline struct dom *slot_dom(const struct xd_engine *e, size_t slot)
{
	return slot < e->n_doms ? e->doms[slot] : NULL;
}

static inline bool alive(const struct dom *d)
{
	return d->domid >= 0;
}

/* engine.c */
void eng_check_milestones(struct xd_engine *e);
struct dom *eng_add_dom(struct xd_engine *e, const char *name, const struct xd_domain_cfg *cfg,
			size_t order);
void eng_build_graph(struct xd_engine *e);
struct dom *eng_find_by_name(const struct xd_engine *e, const char *name);

/* state.c */
void eng_log(struct xd_engine *e, enum xd_log_level lvl, const struct dom *d,
	     const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void eng_vset_pending(struct dom *d, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));
void eng_set_pending(struct dom *d, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void eng_map_domid(struct xd_engine *e, struct dom *d, long domid);
struct dom *eng_dom_by_domid(const struct xd_engine *e, uint32_t domid);
void eng_boot_done(struct xd_engine *e, struct dom *d);
void eng_halt_done(struct xd_engine *e, struct dom *d);
void eng_set_state(struct xd_engine *e, struct dom *d, enum xd_state s, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void eng_mark_dirty(struct xd_engine *e, struct dom *d);
void eng_mark_neighbours_dirty(struct xd_engine *e, struct dom *d);
void eng_arm_wake(struct xd_engine *e, struct dom *d, enum wake_kind k, uint64_t in_ms);
void eng_arm_deadline(struct xd_engine *e, struct dom *d, enum deadline_kind k, uint64_t in_ms);
void eng_disarm_timers(struct xd_engine *e, struct dom *d);
void eng_set_cfg(struct xd_engine *e, struct dom *d, const struct xd_domain_cfg *cfg);

/* queue.c */
void eng_queue_start(struct xd_engine *e, struct dom *d);
void eng_queue_stop(struct xd_engine *e, struct dom *d);
void eng_release_start_slot(struct xd_engine *e, struct dom *d);
void eng_release_stop_slot(struct xd_engine *e, struct dom *d);
void eng_requeue_memory_waiters(struct xd_engine *e);
void eng_mem_timer_fired(struct xd_timer *t, void *arg);
void eng_dispatch_starts(struct xd_engine *e);
void eng_dispatch_stops(struct xd_engine *e);
void eng_memory_timed_out(struct xd_engine *e, struct dom *d);
void eng_update_priorities(struct xd_engine *e);

/* evaluate.c */
void eng_evaluate(struct xd_engine *e, struct dom *d);

/* start.c */
void eng_fail_domain(struct xd_engine *e, struct dom *d, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void eng_retry_or_fail(struct xd_engine *e, struct dom *d);
void eng_attempt_failed(struct xd_engine *e, struct dom *d, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void eng_do_create(struct xd_engine *e, struct dom *d);
void eng_start_attempt(struct xd_engine *e, struct dom *d, uint64_t need_kb);
void eng_on_create_done(struct xd_engine *e, struct dom *d, const struct hv_event *ev);
void eng_on_unpause_done(struct xd_engine *e, struct dom *d, const struct hv_event *ev);
void eng_start_timed_out(struct xd_engine *e, struct dom *d);
void eng_want_up(struct xd_engine *e, struct dom *d, enum xd_cause cause, bool boot);
bool eng_config_broken(struct xd_engine *e, struct dom *d);

/* ready.c */
void eng_unwatch_key(struct xd_engine *e, struct dom *d);
void eng_become_ready(struct xd_engine *e, struct dom *d);
const char *eng_ready_key(const struct dom *d);
void eng_check_ready_key(struct xd_engine *e, struct dom *d);
void eng_start_readiness(struct xd_engine *e, struct dom *d);
void eng_ready_timed_out(struct xd_engine *e, struct dom *d);

/* stop.c */
void eng_want_down(struct xd_engine *e, struct dom *d, enum stop_kind kind, enum xd_cause cause);
uint64_t eng_shutdown_timeout(const struct xd_engine *e, const struct dom *d);
void eng_request_shutdown(struct xd_engine *e, struct dom *d, const char *why);
void eng_stop_failed(struct xd_engine *e, struct dom *d, const char *what, const char *why);
void eng_begin_stop(struct xd_engine *e, struct dom *d);
void eng_on_save_done(struct xd_engine *e, struct dom *d, const struct hv_event *ev);
void eng_on_shutdown_done(struct xd_engine *e, struct dom *d, const struct hv_event *ev);
void eng_stop_timed_out(struct xd_engine *e, struct dom *d);
void eng_save_timed_out(struct xd_engine *e, struct dom *d);

/* migrate.c */
void eng_begin_migrate(struct xd_engine *e, struct dom *d);
void eng_on_migrate_done(struct xd_engine *e, struct dom *d, const struct hv_event *ev);
void eng_migrate_timed_out(struct xd_engine *e, struct dom *d);

/* lifecycle.c */
void eng_finish_death(struct xd_engine *e, struct dom *d);
void eng_domain_gone(struct xd_engine *e, struct dom *d);
void eng_on_shutdown(struct xd_engine *e, struct dom *d, enum hv_reason r);

/* ops.c */
uint64_t eng_next_op(struct xd_engine *e, enum op_type type, const struct dom *d);
bool eng_op_started(struct xd_engine *e, struct dom *d, uint64_t op, int rc);
void eng_destroy_domain(struct xd_engine *e, struct dom *d, enum after_death ad);
bool eng_run_hook(struct xd_engine *e, struct dom *d, const char *path, bool post);
void eng_on_op_done(struct xd_engine *e, const struct hv_event *ev);

/* adopt.c */
void eng_adopt_arrivals(struct xd_engine *e, bool unmanaged_too, bool picked_only);

/* images.c */
bool eng_restore_images(struct xd_engine *e);
void eng_image_failed(struct xd_engine *e, struct dom *d, const char *why);
void eng_image_restored(struct xd_engine *e, struct dom *d, const struct hv_event *ev);
void eng_image_unpaused(struct xd_engine *e, struct dom *d, const struct hv_event *ev);
void eng_image_timed_out(struct xd_engine *e, struct dom *d);

#endif
