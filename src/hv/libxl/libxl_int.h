/* SPDX-License-Identifier: ISC */
/*
 * The libxl backend's private header (the public one is hv_libxl.h):
 * core/hv_port.h's port on libxenlight and libxenstore, driven from the
 * daemon's single-threaded poll loop.  One file per concern:
 *
 *   backend.c   the ops table, hv_libxl_new and x_free, libxl's glue hooks
 *   logger.c    xentoollog into util/log.h and the recent-errors ring
 *   ops.c       the op records, their end, the kick, the one-call ops
 *   cfgstore.c  the stored libxl config of each domain (xl --dryrun)
 *   memory.c    memory admission and ballooning dom0, xl.conf autoballoon
 *   create.c    create and restore
 *   builder.c   the build helpers (xendomd-build) that run them, and core dumps
 *   build_helper.c, build_proto.c   the helper itself and its line protocol
 *   markers.c   create markers in state_dir; half-built domains of a dead daemon
 *   save.c      save (and resume after a failed save)
 *   migrate.c   live migration, run by a helper (migrate_helper.c)
 *   watches.c   @releaseDomain, readiness keys, the domain list
 *   settle.c    waiting for libxl and dying domains before the daemon exits
 * *
 * Event discipline (doc/xen-facts.md §1.4, §9).  libxl runs completion callbacks
 * from inside any libxl call, even from the call that started the op.  So
 * every callback only records what happened and "kicks": it arms a
 * zero-delay timer on the loop.  The kick timer then advances the ops'
 * state machines, from the loop, never from inside libxl; events for the
 * core only go through hv_emit (followed by a kick, which is what wakes
 * the loop so its after hooks -- the engine -- run before it sleeps).
 *
 * Lifetimes (doc/xen-facts.md §1.3, §8.6).  Every argument of an async libxl call
 * (the domain config, the domid out-parameter, restore params, file names,
 * fds) lives in the struct xop of that operation, which is freed only by
 * the kick timer after the op finished and libxl's callback has come.
 *
 * Domain configs (doc/xen-facts.md §3).  A domain's libxl config is what `xl create
 * --dryrun --quiet CFG` prints, run as a child through the loop (it takes
 * seconds in the lab) and parsed with libxl_domain_config_from_json, so
 * every xl key means what it means to xl.  The JSON is kept per domain
 * name and reused until the xl cfg file changes, so a restart re-creates
 * the domain from the same stored config with the same UUID, as xl's
 * monitor does.  For an adopted domain the stored config is libxl's own
 * "libxl-json" userdata of the running domain.
 *
 * Watching (doc/xen-facts.md §2, §5).  One XenStore watch on @releaseDomain; each firing
 * re-lists the domains and diffs the watched ones by domid+UUID
 * (libxl_domdiff.c).  That replaces libxl's death evgens, which report a
 * shutdown once per evgen only and stay silent for a state reached before
 * enabling.  @introduceDomain is not watched: the port has no event for a
 * domain appearing, and our own creates report their domid.
 */
#ifndef XD_LIBXL_INT_H
#define XD_LIBXL_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/config.h"
#include "core/hv_port.h"
#include "evloop/loop.h"
#include "hv/libxl/hv_libxl.h"
#include "util/callstat.h"
#include "hv/libxl/libxl_api.h"
#include "hv/libxl/libxl_child.h"
#include "hv/libxl/libxl_domdiff.h"
#include "hv/libxl/libxl_osevent.h"
#include "hv/libxl/libxl_util.h"
#include "hv/savefile.h"
#include "util/log.h"

#define XLB_CONF "/etc/xen/xl.conf"
#define XLB_NO_DOMID ((uint32_t)INVALID_DOMID)
#define XLB_DRYRUN_OUT_MAX (1u << 20)     /* a config is a few KiB */
#define XLB_FETCH_PARALLEL 2              /* xl --dryrun children at once */
#define XLB_DOM0_MIN_KB (128 * 1024)      /* libxl's LIBXL_MIN_DOM0_MEM */
#define XLB_BALLOON_POLL_MS 1000
#define XLB_BALLOON_STALL_MS 10000        /* xl's freemem gives up like this */
#define XLB_BALLOON_MAX_MS 30000
#define XLB_KEY_MIN_GAP_MS 200            /* at most 5 KEY events/s per watch */
#define XLB_PRE_MAX 8                     /* domains already holding a create's UUID */

struct hv_libxl;

/* The stored libxl config of one domain (by name). */
struct cfgent {
	struct cfgent *next;
	struct hv_libxl *x;
	char name[XD_NAME_MAX];
	char *json;                      /* NULL until derived */
	char *json_path;                 /* the xl cfg it came from (NULL: the domain's) */
	struct timespec json_stamp;      /* when its derivation began */
	char *fetch_path;                /* the xl cfg being derived */
	struct timespec fetch_stamp;
	bool pins_uuid;                  /* the xl cfg sets uuid= */
	bool have_uuid;
	libxl_uuid uuid;                 /* the UUID this domain keeps */
	bool queued;                     /* waiting for a fetch slot */
	struct xlb_child *child;          /* xl --dryrun in flight */
	char err[HV_MSG_MAX];            /* why the last fetch failed */
};

enum op_kind { K_CREATE, K_RESTORE, K_UNPAUSE, K_SHUTDOWN, K_DESTROY, K_SAVE, K_CORE_DUMP, K_MIGRATE };

enum op_phase {
	P_CONFIG,                        /* waiting for the libxl config */
	P_MEMORY,                        /* memory check, maybe ballooning dom0 */
	P_BUILD,                         /* create/restore: the build helper runs */
	P_CLEANUP,                       /* destroying a half-built domain */
	P_SIMPLE,                        /* a one-call ao (unpause, destroy, ...) */
	P_DESTROY_QUEUED,                /* a destroy waiting for its loop turn */
	P_SAVE_CONFIG,                   /* retrieving the running config */
	P_SAVE_STREAM,                   /* suspending into the file */
	P_RESUME,                        /* save failed: resuming the guest */
	P_MIGRATE,                       /* the migration helper runs */
	P_FINISHED,
};

struct xop {
	struct xop *next;
	struct hv_libxl *x;
	enum op_kind kind;
	enum op_phase phase;
	uint64_t id;
	char name[XD_NAME_MAX];
	char *xl_path;
	bool fetch_requested;
	uint32_t domid;                  /* libxl writes it during create */
	libxl_asyncop_how how;
	bool ao_pending, ao_came;
	int ao_rc;
	bool cancelled;
	bool internal;                   /* ours alone: no OP_DONE for the core */
	bool marked;                     /* a creating marker exists for dc's UUID */
	libxl_domain_config dc;
	bool dc_live;
	char *json;                      /* restore: the image's config */
	uint64_t image_offset;           /* restore: where the stream starts in file */
	unsigned stream_version;
	struct xlb_child *helper;        /* xendomd-build running for this op */
	pid_t helper_pid;
	uint64_t helper_t0;              /* loop clock at its start */
	uint32_t pre[XLB_PRE_MAX];       /* domids that had dc's UUID before the build */
	unsigned n_pre;
	int fd;
	struct savefile_tx tx;           /* save */
	bool tx_open;
	char *file;                      /* core dump; restore: the image */
	char *host, *command;            /* migrate */
	bool live;
	uint64_t kill_at;                /* migrate: cancelled; killed at this loop time */
	uint64_t need_kb;
	struct xd_timer timer;           /* balloon polling */
	uint64_t balloon_since, progress_at, best_avail;
	uint64_t logmark;
	int fail_rc;                     /* kept across cleanup/resume */
	char fail_msg[HV_MSG_MAX];
};

struct keywatch {
	struct keywatch *next;
	struct hv_libxl *x;
	uint32_t domid;
	char rel[XD_KEY_MAX];
	char token[24];
	struct xd_timer timer;
	uint64_t last_ms;
	bool pending;
};

struct xlb_logger {
	xentoollog_logger vtable;        /* first: libxl sees only this */
	struct hv_libxl *x;
};

struct hv_libxl {
	struct hv hv;                    /* first: the port */
	struct xd_loop *loop;
	struct xd_timers *timers;
	struct xlb_logger lg;
	struct xlb_errlog errs;
	libxl_ctx *ctx;
	struct xlb_osev osev;
	libxl_childproc_hooks chld;
	struct xs_handle *xs;
	struct xd_io *xs_io;
	struct xlb_domdiff watched;
	struct keywatch *keys;
	unsigned key_seq;
	struct cfgent *cfgs;
	unsigned fetching;
	struct xop *ops;                 /* in start order */
	struct xd_timer kick;
	bool autoballoon;
	bool fatal;
	char *creating_dir;              /* markers of creates in flight */
	char *helper_path;               /* xendomd-build */
	unsigned helpers;                /* running */
	struct xlb_dying dying;          /* destroyed, maybe not gone yet */
	unsigned stranger_aos;           /* settle.c: destroys of nameless husks */
	struct xd_callstats calls;       /* XLB_T: the synchronous calls, timed */
	struct xd_timer destroy_turn;    /* settle.c: starts one queued destroy */
	struct xd_timer settle_timer;    /* settle.c */
	hv_settled_fn *settle_cb;
	void *settle_arg;
	uint64_t settle_start;
};

static inline struct hv_libxl *X(struct hv *hv) { return (struct hv_libxl *)hv; }

/* A synchronous libxl or libxenstore call on the loop, timed into
 * x->calls (reported when the backend is freed; doc/libxl-calls.md has
 * the lab's figures).  XLB_TV for a call whose value is not used. */
#define XLB_T(x, name, expr) __extension__({ \
		uint64_t t0_ = xd_callstat_clock_us(); \
		__typeof__(expr) r_ = (expr); \
		xd_callstat_add(&(x)->calls, name, t0_); \
		r_; })
#define XLB_TV(x, name, expr) do { \
		uint64_t t0_ = xd_callstat_clock_us(); \
		(void)(expr); \
		xd_callstat_add(&(x)->calls, name, t0_); \
	} while (0)

/* logger.c: the logger libxl_ctx_alloc takes (lives in x) */
xentoollog_logger *xlb_logger_init(struct hv_libxl *x);

/* ops.c */
void xlb_kick(struct hv_libxl *x);
void xlb_emit(struct hv_libxl *x, const struct hv_event *ev);
void xlb_emit_fatal(struct hv_libxl *x, const char *msg);
int xlb_hv_rc(int libxl_rc);
struct xop *xlb_op_new(struct hv_libxl *x, enum op_kind kind, uint64_t id, uint32_t domid);
void xlb_op_release(struct xop *op);
void xlb_op_free(struct xop *op);
void xlb_op_reason(struct xop *op, int libxl_rc, char *out, size_t len);
void xlb_op_finish(struct xop *op, int rc, const char *msg);
void xlb_op_fail_libxl(struct xop *op, int libxl_rc, const char *what);
void xlb_ao_enter(struct xop *op, enum op_phase ph);
bool xlb_ao_started(struct xop *op, int rc);
int xlb_unpause(struct hv *hv, uint32_t domid, uint64_t id);
int xlb_shutdown(struct hv *hv, uint32_t domid, uint64_t id);
int xlb_destroy(struct hv *hv, uint32_t domid, uint64_t id);
int xlb_core_dump(struct hv *hv, uint32_t domid, const char *file, uint64_t id);
int xlb_power_button(struct hv *hv, uint32_t domid);
int xlb_rename(struct hv *hv, uint32_t domid, const char *new_name);
void xlb_cancel(struct hv *hv, uint64_t id);
void xlb_on_kick(struct xd_timer *t, void *arg);

/* cfgstore.c */
struct cfgent *xlb_cfg_find(struct hv_libxl *x, const char *name);
struct cfgent *xlb_cfg_get(struct hv_libxl *x, const char *name);
bool xlb_cfg_fetching(const struct cfgent *e);
bool xlb_cfg_fresh(const struct cfgent *e, const char *xl_path);
int xlb_cfg_to_dc(struct hv_libxl *x, struct cfgent *e, const char *json,
		     libxl_domain_config *dc);
int xlb_cfg_store(struct hv_libxl *x, struct cfgent *e, char *json, const char *path,
		     struct timespec stamp, char *err, size_t errlen);
void xlb_cfg_forget(struct cfgent *e);
int xlb_fetch_request(struct hv_libxl *x, const char *name, const char *xl_path);
void xlb_fetch_dispatch(struct hv_libxl *x);
void xlb_cfg_adopt(struct hv_libxl *x, uint32_t domid);

/* memory.c */
void xlb_step_memory(struct xop *op);
int xlb_mem_need(struct hv *hv, const struct xd_domain_cfg *cfg, uint64_t *kb);
int xlb_mem_free(struct hv *hv, uint64_t *kb);
int xlb_read_autoballoon(struct hv_libxl *x, char *err, size_t errlen);

/* create.c */
void xlb_step_config(struct xop *op);
void xlb_start_build(struct xop *op);
void xlb_build_done(struct xop *op);
void xlb_build_failed(struct xop *op, int hv_rc, const char *msg);
int xlb_create(struct hv *hv, const struct xd_domain_cfg *cfg, uint64_t id);
int xlb_restore(struct hv *hv, const struct xd_domain_cfg *cfg, const char *file, uint64_t id);

/* builder.c */
int xlb_helper_locate(struct hv_libxl *x);
/* Start op's helper (create, restore or core dump); -1 and err if not. */
int xlb_helper_start(struct xop *op, char *err, size_t errlen);
void xlb_helper_cancel(struct xop *op);
uint32_t xlb_helper_leftover(struct xop *op);
void xlb_builds_memory(struct hv_libxl *x, uint64_t *held_kb, uint64_t *pending_kb);

/* markers.c */
void xlb_marker_set(struct xop *op);
void xlb_marker_clear(struct xop *op);
void xlb_recover_creates(struct hv_libxl *x, const struct xd_config *cfg);

/* save.c */
void xlb_save_config_done(struct xop *op, int rc);
void xlb_save_stream_done(struct xop *op, int rc);
void xlb_resume_done(struct xop *op, int rc);
/* Resume op->domid (suspend cancelled), then finish op with fail_rc, msg. */
void xlb_resume_then_fail(struct xop *op, int fail_rc, const char *msg);
int xlb_save(struct hv *hv, uint32_t domid, const char *file, uint64_t id);
int xlb_image_check(struct hv *hv, const char *file, char *msg, size_t msglen);
int xlb_image_name(struct hv *hv, const char *file, char *name, size_t namelen, char *msg,
		   size_t msglen);

/* migrate.c */
int xlb_migrate(struct hv *hv, uint32_t domid, const char *host, const char *command, bool live,
		uint64_t id);
void xlb_migrate_cancel(struct xop *op);
void xlb_migrate_step(struct xop *op);
void xlb_migrate_done(struct xop *op, struct xlb_child *c);

/* watches.c */
void xlb_recheck_domain(struct hv_libxl *x, uint32_t domid);
int xlb_watch_domain(struct hv *hv, uint32_t domid);
void xlb_unwatch_domain(struct hv *hv, uint32_t domid);
int xlb_watch_key(struct hv *hv, uint32_t domid, const char *rel);
void xlb_key_drop(struct hv_libxl *x, struct keywatch *k);
void xlb_unwatch_key(struct hv *hv, uint32_t domid, const char *rel);
int xlb_read_key(struct hv *hv, uint32_t domid, const char *rel, char *buf, size_t len);
void xlb_on_xenstore(struct xd_io *io, int fd, short revents, void *arg);
int xlb_list(struct hv *hv, struct hv_dominfo **v, size_t *n);

/* settle.c */
/* Start destroying op->domid (the ao), remembering the domain until Xen
 * has let go of it. */
int xlb_destroy_ao(struct xop *op);
void xlb_destroy_queue(struct xop *op);
void xlb_destroy_turn(struct xd_timer *t, void *arg);
void xlb_simple_done(struct xop *op, int rc);     /* ops.c */
/* The settle timer's callback. */
void xlb_settle_check(struct xd_timer *t, void *arg);

#endif
