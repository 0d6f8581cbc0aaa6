/* SPDX-License-Identifier: ISC */
/*
 * Private to src/hv/sim: the simulated host's state and the calls its
 * files make into each other.
 *
 *   sim.c       new/free, the per-name profiles and their index, the
 *               test-facing queries
 *   scenario.c  the scenario .ini parser (and `running = yes` domains)
 *   xenstore.c  each domain's simulated XenStore directory and watches
 *   guest.c     the domains and what a guest does by itself: readiness,
 *               acknowledging shutdown, crash, reboot, power-off
 *   writer.c    the scenario's scripted (hostile) XenStore writes
 *   op.c        the asynchronous operations and their completion
 *   migrate.c   live migration (the domain leaves the host)
 *   ops.c       the hv_ops table (the port)
 */
#ifndef XD_HV_SIM_INT_H
#define XD_HV_SIM_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hv/savefile.h"
#include "hv/sim/hv_sim.h"
#include "util/hash.h"

#define DEFAULT_FREE_MB 65536
#define DEFAULT_MEMORY_MB 128
#define DEFAULT_CREATE_MS 200
#define DEFAULT_SAVE_MS 100
#define DEFAULT_SHUTDOWN_MS 100
#define DEFAULT_MIGRATE_MS 200
#define PVCONTROL_ACK_TIMEOUT_MS 60000   /* libxl's wait for the guest's ack */
#define GUEST_PATH_MAX 2048              /* XENSTORE_REL_PATH_MAX */
#define GUEST_VALUE_MAX 4096             /* XENSTORE_PAYLOAD_MAX */
#define GUEST_KEYS_MAX 1000              /* xenstored's entries-per-domain quota */
#define SCENARIO_MS_MAX (UINT64_C(1) << 40)
#define SCENARIO_MB_MAX (UINT64_C(1) << 40)
#define RESTORE_LIKE_SAVE UINT64_MAX
#define SAVE_NEVER (UINT64_MAX - 1)          /* save_ms = -1: the copy never ends */
/* 8 bytes, so the fake stream's last data byte sits right before END */
#define SIM_IMAGE_MARKER "xdsimimg"
#define INIH_SECTION_MAX 49              /* inih's MAX_SECTION - 1 */
#define XS_WRITE_HZ_MAX 1000             /* the clock counts milliseconds */

/* The scripted (hostile) XenStore writes of a profile; allocated only
 * for the few that have them (the bench has 10,000 profiles).  After the
 * scenario is loaded xs_write_value is the value, made from xs_write_len
 * if need be. */
struct sim_script {
	char *xs_write_key, *xs_write_value;
	uint64_t xs_write_hz, xs_write_len, xs_flap_ms;
};

/* Per domain name: the scenario's script and what happened so far. */
struct sim_profile {
	char name[XD_NAME_MAX];
	int line;                        /* its first [domain] header; 0 = defaults */
	uint64_t create_ms, ready_ms, save_ms;
	uint64_t migrate_ms;             /* SAVE_NEVER: the live copy never ends */
	uint64_t restore_ms;             /* RESTORE_LIKE_SAVE unless given */
	uint64_t crash_after_ms, reboot_after_ms;
	int64_t shutdown_ms;             /* -1: ignores requests */
	unsigned fail_creates, fail_saves, fail_restores;
	unsigned fail_migrates, fail_migrates_after_go;
	bool pv_drivers, running;
	uint64_t arrive_ms;              /* appears by itself then (0 = never) */
	uint64_t arrive_kb;
	struct xd_timer *arrive_t;       /* allocated only for arrive_ms */
	struct hv_sim *arrive_sim;
	int hvm;                         /* -1: from the xl cfg / pv_drivers */
	unsigned failed_creates, failed_saves, failed_restores;
	unsigned failed_migrates, failed_after_go;
	char *migrated_host, *migrated_command;   /* of the last migration */
	bool migrated_live;
	struct sim_script *script;       /* NULL unless an xs_* key is given */
	struct hv_sim_counts counts;
	struct sim_dom *holder;          /* the live domain now called name */
};

struct sim_key {
	char *path, *value;
};

struct hv_sim;

struct sim_dom {
	struct hv_sim *sim;
	struct sim_profile *prof;
	uint32_t domid;
	char name[XD_NAME_MAX];
	uint64_t mem_kb;
	bool paused, shutdown, dying, hvm;
	bool drivers_up, restored;
	enum hv_reason reason;
	bool watched, shutdown_reported;
	struct sim_key *keys;
	size_t n_keys, cap_keys;
	char **watches;
	size_t n_watches, cap_watches;
	struct xd_timer ready_t, crash_t, reboot_t, poweroff_t;
	struct sim_writer *writer;       /* with xs_write_key, else NULL */
};

/* The scripted writer of one running guest (writer.c). */
struct sim_writer {
	struct xd_timer write_t, flap_t;
	bool present;                    /* flapping: the key exists now */
};

enum sim_op_kind {
	OP_CREATE, OP_RESTORE, OP_UNPAUSE, OP_SHUTDOWN, OP_DESTROY, OP_SAVE, OP_CORE_DUMP, OP_MIGRATE,
};

struct sim_op {
	struct hv_sim *sim;
	struct sim_op *next, **pprev;    /* in sim->ops; O(1) unlink */
	uint64_t id;
	enum sim_op_kind kind;
	struct xd_timer t;
	uint32_t domid;                  /* the target */
	struct sim_profile *prof;        /* create/restore: the domain to build */
	char name[XD_NAME_MAX];
	uint64_t mem_kb;
	bool hvm;
	char *file;                      /* save, core_dump */
	struct savefile_tx tx;           /* save: fd >= 0 while open */
	bool suspended;                  /* save: the guest has suspended */
	bool decided;                    /* outcome fixed: rc/msg below */
	int rc;
	char msg[HV_MSG_MAX];
};

struct hv_sim {
	struct hv hv;                    /* first: what the port sees */
	struct xd_timers *timers;
	size_t n_open_targeted;          /* undecided save/shutdown/core-dump ops */
	uint64_t free_kb;
	uint32_t next_domid;
	struct sim_profile **profs;      /* in order of appearance */
	size_t n_profs, cap_profs;
	struct xd_index by_name;         /* name -> profs[] */
	struct sim_dom **by_id;          /* [domid], NULL once destroyed */
	size_t by_id_cap;
	size_t n_doms;
	struct sim_op *ops;
};

extern const struct hv_ops hv_sim_ops;

/* sim.c */
struct hv_sim *to_sim(struct hv *hv);
struct sim_profile *profile_find(struct hv_sim *s, const char *name);
/* Every name the sim meets gets a profile: the scenario's or defaults. */
struct sim_profile *profile_get(struct hv_sim *s, const char *name);
uint64_t profile_restore_ms(const struct sim_profile *p);
bool profile_hvm(const struct sim_profile *p, bool cfg_hvm);
void sim_free(struct hv *hv);

/* scenario.c: load path (NULL = every default) and start the `running`
 * domains; false with "FILE:LINE: message" in err. */
bool sim_scenario_load(struct hv_sim *s, const char *path, const struct xd_config *cfg,
		       char *err, size_t errlen);

/* xenstore.c */
void emit(struct hv_sim *s, const struct hv_event *ev);
void emit_key(struct sim_dom *d, const char *watch);
struct sim_key *key_find(struct sim_dom *d, const char *path);
/* Set a key (watches covering it fire). */
void key_set(struct sim_dom *d, const char *path, const char *value);
void keys_init(struct sim_dom *d);
/* Remove a key and those below it (watches covering it fire). */
void key_remove(struct sim_dom *d, const char *path);
/* A guest's own write, within XenStore's limits (else HV_ETOOBIG). */
int guest_write(struct sim_dom *d, const char *relpath, const char *value);
int sim_watch_key(struct hv *hv, uint32_t domid, const char *relpath);
void sim_unwatch_key(struct hv *hv, uint32_t domid, const char *relpath);
int sim_read_key(struct hv *hv, uint32_t domid, const char *relpath, char *buf, size_t len);

/* guest.c */
struct sim_dom *dom_by_id(struct hv_sim *s, uint32_t domid);
/* A domain the port may act on: exists and is not being destroyed. */
struct sim_dom *dom_live(struct hv_sim *s, uint32_t domid);
struct sim_dom *dom_by_name(struct hv_sim *s, const char *name);
struct sim_dom *dom_add(struct hv_sim *s, struct sim_profile *prof, const char *name,
			uint64_t mem_kb, bool hvm);
struct sim_dom *dom_add_running(struct hv_sim *s, struct sim_profile *prof, uint64_t mem_kb,
				bool hvm);
void dom_free(struct sim_dom *d);
void dom_remove(struct sim_dom *d);
void fill_info(const struct sim_dom *d, struct hv_dominfo *o);
void arm_in(struct hv_sim *s, struct xd_timer *t, uint64_t ms);
void guest_timers_disarm(struct sim_dom *d);
void dom_shutdown(struct sim_dom *d, enum hv_reason reason);
void dom_resume(struct sim_dom *d);
void schedule_poweroff(struct sim_dom *d);
void ack_shutdown(struct sim_dom *d, struct sim_op *op);
void guest_ready(struct sim_dom *d);
void guest_arm_fate(struct sim_dom *d);
void guest_start(struct sim_dom *d);

/* writer.c: the scripted writer starts with the guest (every unpause)
 * and stops when it shuts down or is destroyed. */
void writer_start(struct sim_dom *d);
void writer_stop(struct sim_dom *d);

/* op.c */
struct sim_op *op_new(struct hv_sim *s, enum sim_op_kind kind, uint64_t id, uint32_t domid);
/* Fix the outcome and complete at +0 (never inside the caller's call). */
void op_decide(struct sim_op *op, int rc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void op_unlink(struct sim_op *op);
void op_free(struct sim_op *op);
/* Operations on a domain being destroyed cannot succeed. */
void fail_ops_on(struct hv_sim *s, uint32_t domid);
bool name_in_use(struct hv_sim *s, const char *name);

/* Did the scenario ask for this failure (the first N attempts)?  k: which. */
bool scripted_failure(unsigned *failed, unsigned limit, unsigned *k);
void op_finish(struct sim_op *op, int rc, uint32_t domid, const char *msg);

/* ops.c */
uint64_t cfg_mem_kb(const struct xd_domain_cfg *cfg);
int sim_rename(struct hv *hv, uint32_t domid, const char *new_name);

/* migrate.c */
int sim_migrate(struct hv *hv, uint32_t domid, const char *host, const char *command, bool live,
		uint64_t id);
void migrate_fire(struct sim_op *op);

#endif
