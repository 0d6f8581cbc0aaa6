/*
 * hv_sim: a simulated Xen host behind the hypervisor port (SPEC §7).
 *
 * Scenario file (INI, inih; `;` and `#` comments).  Unknown sections or
 * keys and bad values are errors reported as FILE:LINE: message.  A key
 * or section given again adds to / overrides what came before (the last
 * value wins), so a test can append overrides to a base scenario.
 * inih limits a [section] header to 48 characters (longer is an error).
 *
 *   [sim]
 *   free_memory_mb  = 65536  free host memory at start (MiB)
 *
 *   [domain NAME]            NAME as in its xl cfg; domains not listed
 *                            get every default
 *   create_ms       = 200    how long a create takes
 *   fail_creates    = 0      the first N create attempts fail
 *   ready_ms        = 0      after each unpause, when the guest writes
 *                            data/ready=1 and, with pv_drivers, its PV
 *                            driver keys control/feature-{poweroff,reboot,
 *                            suspend}=1 (the drivers are up from then on)
 *   pv_drivers      = yes    no: shutdown requests are refused with
 *                            HV_ENOPV (an HVM guest without drivers); only
 *                            the ACPI power button works
 *   shutdown_ms     = 100    time from an acknowledged shutdown request
 *                            (or the power button) to power-off;
 *                            -1 = the guest ignores them
 *   save_ms         = 100    how long a save takes
 *   crash_after_ms  = 0      crash this long after every unpause (0 = never)
 *   reboot_after_ms = 0      ask for a reboot this long after every unpause
 *                            (0 = never)
 *   running         = no     yes: already running when the sim starts
 *                            (for adoption); memory from the xl cfg in the
 *                            configuration passed to hv_sim_new (128 MiB if
 *                            absent); domids in scenario order from 1
 *   Extensions, for failure paths:
 *   fail_saves      = 0      the first N saves fail (the guest is resumed)
 *   fail_restores   = 0      the first N restores fail
 *   restore_ms      = save_ms  how long a restore takes
 *   hvm             = ...    yes|no; default: the xl cfg's type, and always
 *                            yes when pv_drivers = no (a PV guest always
 *                            has PV control, so hvm = no with pv_drivers =
 *                            no is an error)
 *
 * Semantics, as real Xen/libxl show them through hv.h (xen-notes §2, §4):
 *  - Nothing completes inside the call that starts it: every OP_DONE is
 *    queued from a timer, at +0 ms for the quick operations.  Events are
 *    only queued (hv_emit).  Equal deadlines fire in arming order, so a
 *    run on the virtual clock is deterministic.
 *  - create: after create_ms the domain exists, paused, with a new domid
 *    (1, 2, ... never reused; only successful builds use one) and takes its memory (memory_mb of the cfg)
 *    from the free pool.  It fails (OP_DONE rc < 0, nothing left behind)
 *    while fail_creates remain ("simulated create failure (k of N)"), when
 *    free memory is short then (HV_ENOMEM, "need X MiB, free Y MiB"), or
 *    when a domain of that name exists (at the start or at the end).
 *    libxl creates the guest-writable nodes empty: control/shutdown,
 *    control/feature-{poweroff,reboot,suspend}, control/sysrq, data (and
 *    control/feature-s3/s4 on HVM), so a key that "exists" is not a sign
 *    of readiness.  "name" holds the domain's name.
 *  - unpause: the guest runs from the call; OP_DONE at +0.  ready_ms,
 *    crash_after_ms and reboot_after_ms count from every unpause.
 *  - shutdown: libxl's PV control check: an HVM guest has PV control only
 *    once its drivers are up (so early in boot, or with pv_drivers = no,
 *    HV_ENOPV at once); a PV guest always has it.  libxl writes
 *    control/shutdown = "poweroff"; the guest acknowledges (writes "")
 *    once its drivers are up, and OP_DONE(0) follows; shutdown_ms after
 *    the acknowledgement the domain shuts down (POWEROFF), never with
 *    -1.  No acknowledgement within 60 s: OP_DONE(HV_EFAIL), as libxl's
 *    timeout.  OP_DONE means acknowledged, not down.
 *  - power_button (synchronous): HVM only (HV_EFAIL on PV); the guest
 *    powers off after shutdown_ms (never with -1).
 *  - A domain that shut down stays as a husk holding its memory until it
 *    is destroyed; nothing here destroys it.
 *  - destroy: the domain is dying at once; at +0 it is gone (memory back
 *    in the pool, watched keys fire, DEATH if watched) and then OP_DONE.
 *    Operations still running on it end with HV_EFAIL.
 *  - save: a non-live save, as xl's: the guest suspends first (at +0:
 *    shutdown with reason SUSPEND, reported like any shutdown), its image
 *    is written for save_ms and OP_DONE(0) leaves the domain shut down
 *    (SUSPEND) for the caller to destroy.  The image is a real xl save file
 *    (header + JSON config + a minimal libxl stream) written to FILE.tmp,
 *    fsync'ed and renamed (savefile.h).  A failure (fail_saves, an I/O
 *    error) or cancel removes FILE.tmp and resumes the guest: it runs on,
 *    but - as with libxl's evgen - the watch has already reported its one
 *    SHUTDOWN, so a later shutdown is only seen after unwatch_domain +
 *    watch_domain.  What the guest had scheduled (readiness, crash,
 *    reboot, power-off) was dropped by the suspend and does not resume.
 *  - restore: the image is checked in the call (HV_ENOENT / HV_EBADIMG at
 *    once); after restore_ms the domain exists paused, named as in the
 *    image's config, with the memory of its b_info.target_memkb (else the
 *    cfg's).  Same failure rules as create (fail_restores).  Keys under
 *    data/ do not survive a save: a restored guest does not write
 *    data/ready again, only its PV driver keys.
 *  - core_dump: writes a small text file at +0.  rename: synchronous; the
 *    guest keeps its scenario behaviour and counts (hv_sim_counts) under
 *    the name it was built with.
 *  - cancel: a create, restore or save in flight ends at +0 with
 *    HV_ECANCELED; anything else is too late and completes normally.
 *  - watch_domain: SHUTDOWN at most once per watch, DEATH once; a domain
 *    already shut down is reported at once, and a domid that existed and
 *    is gone gets DEATH.  watch_key: one KEY event at once, then one per
 *    change of the key or a key below it (event path = the watched path).
 *  - read_key: HV_ENOENT, or HV_ETOOBIG when value + NUL exceed the buffer.
 *  - mem_need = memory_mb * 1024; mem_free = the free pool; list = every
 *    domain that exists, dying ones included, by domid.
 *  - data/ready is written at ready_ms even with pv_drivers = no (the
 *    scenario's simplification: a guest agent without PV drivers).
 */
#include "hv/sim/hv_sim.h"

#include <errno.h>
#include <fcntl.h>
#include <ini.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "hv/savefile.h"

#define DEFAULT_FREE_MB 65536
#define DEFAULT_MEMORY_MB 128
#define DEFAULT_CREATE_MS 200
#define DEFAULT_SAVE_MS 100
#define DEFAULT_SHUTDOWN_MS 100
#define PVCONTROL_ACK_TIMEOUT_MS 60000   /* libxl's wait for the guest's ack */
#define GUEST_PATH_MAX 2048              /* XENSTORE_REL_PATH_MAX */
#define GUEST_VALUE_MAX 4096             /* XENSTORE_PAYLOAD_MAX */
#define GUEST_KEYS_MAX 1000              /* xenstored's entries-per-domain quota */
#define SCENARIO_MS_MAX (UINT64_C(1) << 40)
#define SCENARIO_MB_MAX (UINT64_C(1) << 40)
#define RESTORE_LIKE_SAVE UINT64_MAX
/* 8 bytes, so the fake stream's last data byte sits right before END */
#define SIM_IMAGE_MARKER "xdsimimg"
#define INIH_SECTION_MAX 49              /* inih's MAX_SECTION - 1 */

/* Per domain name: the scenario's script and what happened so far. */
struct sim_profile {
	char name[XD_NAME_MAX];
	int line;                        /* its first [domain] header; 0 = defaults */
	uint64_t create_ms, ready_ms, save_ms;
	uint64_t restore_ms;             /* RESTORE_LIKE_SAVE unless given */
	uint64_t crash_after_ms, reboot_after_ms;
	int64_t shutdown_ms;             /* -1: ignores requests */
	unsigned fail_creates, fail_saves, fail_restores;
	bool pv_drivers, running;
	int hvm;                         /* -1: from the xl cfg / pv_drivers */
	unsigned failed_creates, failed_saves, failed_restores;
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
	size_t n_keys;
	char **watches;
	size_t n_watches;
	struct xd_timer ready_t, crash_t, reboot_t, poweroff_t;
};

enum sim_op_kind { OP_CREATE, OP_RESTORE, OP_UNPAUSE, OP_SHUTDOWN, OP_DESTROY, OP_SAVE, OP_CORE_DUMP };

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
	size_t n_profs;
	struct sim_profile **by_name;    /* open-addressing index of profs */
	size_t by_name_cap;              /* a power of two, > 2 * n_profs */
	struct sim_dom **by_id;          /* [domid], NULL once destroyed */
	size_t by_id_cap;
	size_t n_doms;
	struct sim_op *ops;
};

static const struct hv_ops sim_ops;

/* Like libxl, which exits on malloc failure: a simulated host that
 * silently lost state would make tests lie. */
static void die_oom(void)
{
	fputs("hv_sim: out of memory\n", stderr);
	abort();
}

static void *xmalloc_or_die(void *p)
{
	if (!p)
		die_oom();
	return p;
}

static char *xstrdup(const char *s)
{
	return xmalloc_or_die(strdup(s));
}

static void *grow(void *v, size_t n, size_t size)
{
	return xmalloc_or_die(realloc(v, (n + 1) * size));
}

static struct hv_sim *to_sim(struct hv *hv)
{
	if (!hv_is_sim(hv)) {
		fputs("hv_sim: called with another backend\n", stderr);
		abort();
	}
	return (struct hv_sim *)hv;
}

bool hv_is_sim(const struct hv *hv)
{
	return hv && hv->ops == &sim_ops;
}

/* ---- profiles ---- */

static void profile_defaults(struct sim_profile *p, const char *name)
{
	*p = (struct sim_profile){
		.create_ms = DEFAULT_CREATE_MS,
		.save_ms = DEFAULT_SAVE_MS,
		.restore_ms = RESTORE_LIKE_SAVE,
		.shutdown_ms = DEFAULT_SHUTDOWN_MS,
		.pv_drivers = true,
		.hvm = -1,
	};
	snprintf(p->name, sizeof(p->name), "%s", name);
}

/* FNV-1a: names are short and the index only needs to be fast enough
 * for benchmarks with 10,000 domains. */
static size_t name_hash(const char *name)
{
	uint64_t h = 0xcbf29ce484222325ull;
	for (const unsigned char *c = (const unsigned char *)name; *c; c++)
		h = (h ^ *c) * 0x100000001b3ull;
	return (size_t)h;
}

static struct sim_profile **index_slot(struct sim_profile **tab, size_t cap, const char *name)
{
	size_t i = name_hash(name) & (cap - 1);
	while (tab[i] && strcmp(tab[i]->name, name) != 0)
		i = (i + 1) & (cap - 1);
	return &tab[i];
}

static void index_add(struct hv_sim *s, struct sim_profile *p)
{
	if (2 * (s->n_profs + 1) >= s->by_name_cap) {
		size_t cap = s->by_name_cap ? 2 * s->by_name_cap : 64;
		struct sim_profile **tab = xmalloc_or_die(calloc(cap, sizeof(*tab)));
		for (size_t i = 0; i < s->n_profs; i++)
			*index_slot(tab, cap, s->profs[i]->name) = s->profs[i];
		free(s->by_name);
		s->by_name = tab;
		s->by_name_cap = cap;
	}
	*index_slot(s->by_name, s->by_name_cap, p->name) = p;
}

static struct sim_profile *profile_find(struct hv_sim *s, const char *name)
{
	return s->by_name_cap ? *index_slot(s->by_name, s->by_name_cap, name) : NULL;
}

/* Every name the sim meets gets a profile: the scenario's or defaults. */
static struct sim_profile *profile_get(struct hv_sim *s, const char *name)
{
	struct sim_profile *p = profile_find(s, name);
	if (p)
		return p;
	p = xmalloc_or_die(malloc(sizeof(*p)));
	profile_defaults(p, name);
	index_add(s, p);
	s->profs = grow(s->profs, s->n_profs, sizeof(*s->profs));
	s->profs[s->n_profs++] = p;
	return p;
}

static uint64_t profile_restore_ms(const struct sim_profile *p)
{
	return p->restore_ms == RESTORE_LIKE_SAVE ? p->save_ms : p->restore_ms;
}

static bool profile_hvm(const struct sim_profile *p, bool cfg_hvm)
{
	if (p->hvm >= 0)
		return p->hvm;
	return cfg_hvm || !p->pv_drivers;
}

/* ---- events ---- */

static void emit(struct hv_sim *s, const struct hv_event *ev)
{
	hv_emit(&s->hv, ev);
}

static void emit_key(struct sim_dom *d, const char *watch)
{
	struct hv_event ev = { .kind = HV_EV_KEY, .domid = d->domid };
	snprintf(ev.path, sizeof(ev.path), "%s", watch);
	emit(d->sim, &ev);
}

/* ---- the domain's XenStore directory ---- */

static struct sim_key *key_find(struct sim_dom *d, const char *path)
{
	for (size_t i = 0; i < d->n_keys; i++)
		if (strcmp(d->keys[i].path, path) == 0)
			return &d->keys[i];
	return NULL;
}

/* A watch fires for its own path and everything below it. */
static bool watch_covers(const char *watch, const char *path)
{
	size_t n = strlen(watch);
	return strncmp(watch, path, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

static void key_set(struct sim_dom *d, const char *path, const char *value)
{
	struct sim_key *k = key_find(d, path);
	if (k) {
		free(k->value);
	} else {
		d->keys = grow(d->keys, d->n_keys, sizeof(*d->keys));
		k = &d->keys[d->n_keys++];
		k->path = xstrdup(path);
	}
	k->value = xstrdup(value);
	for (size_t i = 0; i < d->n_watches; i++)
		if (watch_covers(d->watches[i], path))
			emit_key(d, d->watches[i]);
}

/* What libxl writes at creation: the name, and the guest-writable nodes
 * left empty for the guest to fill. */
static void keys_init(struct sim_dom *d)
{
	static const char *const empty[] = {
		"control/shutdown", "control/feature-poweroff", "control/feature-reboot",
		"control/feature-suspend", "control/sysrq", "data",
	};
	key_set(d, "name", d->name);
	for (size_t i = 0; i < sizeof(empty) / sizeof(empty[0]); i++)
		key_set(d, empty[i], "");
	if (d->hvm) {
		key_set(d, "control/feature-s3", "");
		key_set(d, "control/feature-s4", "");
	}
}

/* ---- domains ---- */

static struct sim_dom *dom_by_id(struct hv_sim *s, uint32_t domid)
{
	return domid && domid < s->next_domid ? s->by_id[domid] : NULL;
}

/* A domain the port may act on: exists and is not being destroyed. */
static struct sim_dom *dom_live(struct hv_sim *s, uint32_t domid)
{
	struct sim_dom *d = dom_by_id(s, domid);
	return d && !d->dying ? d : NULL;
}

static struct sim_dom *dom_by_name(struct hv_sim *s, const char *name)
{
	struct sim_profile *p = profile_find(s, name);
	return p ? p->holder : NULL;
}

static void guest_timers_disarm(struct sim_dom *d)
{
	xd_timer_disarm(d->sim->timers, &d->ready_t);
	xd_timer_disarm(d->sim->timers, &d->crash_t);
	xd_timer_disarm(d->sim->timers, &d->reboot_t);
	xd_timer_disarm(d->sim->timers, &d->poweroff_t);
}

static void arm_in(struct hv_sim *s, struct xd_timer *t, uint64_t ms)
{
	if (xd_timer_arm_in(s->timers, t, ms) != 0)
		die_oom();
}

static void dom_shutdown(struct sim_dom *d, enum hv_reason reason)
{
	if (d->shutdown || d->dying)
		return;
	d->shutdown = true;
	d->reason = reason;
	guest_timers_disarm(d);
	if (d->watched && !d->shutdown_reported) {
		d->shutdown_reported = true;
		emit(d->sim, &(struct hv_event){ .kind = HV_EV_SHUTDOWN, .domid = d->domid,
						 .reason = reason });
	}
}

/* libxl_domain_resume(suspend_cancel): the guest runs on.  The watch's
 * one SHUTDOWN report stays spent, as with libxl's evgen. */
static void dom_resume(struct sim_dom *d)
{
	d->shutdown = false;
	d->reason = HV_SD_UNKNOWN;
}

static void on_poweroff_timer(struct xd_timer *t, void *arg)
{
	(void)t;
	dom_shutdown(arg, HV_SD_POWEROFF);
}

static void on_crash_timer(struct xd_timer *t, void *arg)
{
	(void)t;
	dom_shutdown(arg, HV_SD_CRASH);
}

static void on_reboot_timer(struct xd_timer *t, void *arg)
{
	(void)t;
	dom_shutdown(arg, HV_SD_REBOOT);
}

/* The guest powers off shutdown_ms from now, unless it ignores requests
 * or is already due to power off sooner. */
static void schedule_poweroff(struct sim_dom *d)
{
	if (d->prof->shutdown_ms < 0)
		return;
	uint64_t at = xd_timers_now(d->sim->timers) + (uint64_t)d->prof->shutdown_ms;
	if (xd_timer_armed(&d->poweroff_t) && d->poweroff_t.at <= at)
		return;
	arm_in(d->sim, &d->poweroff_t, (uint64_t)d->prof->shutdown_ms);
}

static void op_decide(struct sim_op *op, int rc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The guest acknowledges a pending shutdown request. */
static void ack_shutdown(struct sim_dom *d, struct sim_op *op)
{
	key_set(d, "control/shutdown", "");
	op_decide(op, 0, NULL);
	schedule_poweroff(d);
}

static void ack_pending_shutdowns(struct sim_dom *d)
{
	if (!d->sim->n_open_targeted)
		return;
	for (struct sim_op *op = d->sim->ops; op; op = op->next)
		if (op->kind == OP_SHUTDOWN && op->domid == d->domid && !op->decided)
			ack_shutdown(d, op);
}

/* The guest's drivers and agent are up. */
static void guest_ready(struct sim_dom *d)
{
	if (!d->restored)
		key_set(d, "data/ready", "1");
	if (!d->prof->pv_drivers)
		return;
	d->drivers_up = true;
	key_set(d, "control/feature-poweroff", "1");
	key_set(d, "control/feature-reboot", "1");
	key_set(d, "control/feature-suspend", "1");
	ack_pending_shutdowns(d);
}

static void on_ready_timer(struct xd_timer *t, void *arg)
{
	(void)t;
	guest_ready(arg);
}

/* What the guest will do by itself: crash or ask for a reboot. */
static void guest_arm_fate(struct sim_dom *d)
{
	struct hv_sim *s = d->sim;
	if (d->prof->crash_after_ms)
		arm_in(s, &d->crash_t, d->prof->crash_after_ms);
	if (d->prof->reboot_after_ms)
		arm_in(s, &d->reboot_t, d->prof->reboot_after_ms);
}

/* After an unpause the guest boots: ready after ready_ms. */
static void guest_start(struct sim_dom *d)
{
	arm_in(d->sim, &d->ready_t, d->prof->ready_ms);
	guest_arm_fate(d);
}

static struct sim_dom *dom_add(struct hv_sim *s, struct sim_profile *prof, const char *name,
			       uint64_t mem_kb, bool hvm)
{
	struct sim_dom *d = xmalloc_or_die(calloc(1, sizeof(*d)));
	d->sim = s;
	d->prof = prof;
	d->domid = s->next_domid++;
	if (d->domid >= s->by_id_cap) {
		s->by_id_cap = s->by_id_cap ? 2 * s->by_id_cap : 64;
		s->by_id = xmalloc_or_die(realloc(s->by_id, s->by_id_cap * sizeof(*s->by_id)));
	}
	s->by_id[d->domid] = d;
	s->n_doms++;
	snprintf(d->name, sizeof(d->name), "%s", name);
	d->mem_kb = mem_kb;
	d->paused = true;
	d->hvm = hvm;
	d->reason = HV_SD_UNKNOWN;
	xd_timer_init(&d->ready_t, on_ready_timer, d);
	xd_timer_init(&d->crash_t, on_crash_timer, d);
	xd_timer_init(&d->reboot_t, on_reboot_timer, d);
	xd_timer_init(&d->poweroff_t, on_poweroff_timer, d);
	s->free_kb -= mem_kb;
	profile_get(s, name)->holder = d;
	keys_init(d);
	return d;
}

static void dom_free(struct sim_dom *d)
{
	guest_timers_disarm(d);
	for (size_t i = 0; i < d->n_keys; i++) {
		free(d->keys[i].path);
		free(d->keys[i].value);
	}
	free(d->keys);
	for (size_t i = 0; i < d->n_watches; i++)
		free(d->watches[i]);
	free(d->watches);
	free(d);
}

/* The end of a destroy: the domain and its XenStore directory vanish. */
static void dom_remove(struct sim_dom *d)
{
	struct hv_sim *s = d->sim;
	for (size_t i = 0; i < d->n_watches; i++)
		emit_key(d, d->watches[i]);
	if (d->watched)
		emit(s, &(struct hv_event){ .kind = HV_EV_DEATH, .domid = d->domid });
	s->free_kb += d->mem_kb;
	profile_find(s, d->name)->holder = NULL;
	s->by_id[d->domid] = NULL;
	s->n_doms--;
	dom_free(d);
}

/* ---- operations ---- */

static void op_fire(struct xd_timer *t, void *arg);

/* Ops that a domain's destruction or readiness acts on; they are counted
 * while undecided so that the common case (none) skips the list walk. */
static bool targets_domain(enum sim_op_kind kind)
{
	return kind == OP_SAVE || kind == OP_SHUTDOWN || kind == OP_CORE_DUMP;
}

static void op_close(struct sim_op *op)
{
	if (!op->decided && targets_domain(op->kind))
		op->sim->n_open_targeted--;
	op->decided = true;
}

static struct sim_op *op_new(struct hv_sim *s, enum sim_op_kind kind, uint64_t id, uint32_t domid)
{
	struct sim_op *op = xmalloc_or_die(calloc(1, sizeof(*op)));
	op->sim = s;
	op->kind = kind;
	op->id = id;
	op->domid = domid;
	op->tx.fd = -1;
	xd_timer_init(&op->t, op_fire, op);
	op->next = s->ops;
	if (s->ops)
		s->ops->pprev = &op->next;
	op->pprev = &s->ops;
	s->ops = op;
	if (targets_domain(kind))
		s->n_open_targeted++;
	return op;
}

/* Fix the outcome and complete at +0 (never inside the caller's call). */
static void op_decide(struct sim_op *op, int rc, const char *fmt, ...)
{
	op_close(op);
	op->rc = rc;
	op->msg[0] = '\0';
	if (fmt) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(op->msg, sizeof(op->msg), fmt, ap);
		va_end(ap);
	}
	arm_in(op->sim, &op->t, 0);
}

static void op_unlink(struct sim_op *op)
{
	*op->pprev = op->next;
	if (op->next)
		op->next->pprev = op->pprev;
}

static void op_free(struct sim_op *op)
{
	op_close(op);
	xd_timer_disarm(op->sim->timers, &op->t);
	if (op->tx.fd >= 0)
		savefile_tx_abort(&op->tx);
	free(op->file);
	free(op);
}

static void op_finish(struct sim_op *op, int rc, uint32_t domid, const char *msg)
{
	struct hv_event ev = { .kind = HV_EV_OP_DONE, .op = op->id, .rc = rc, .domid = domid };
	snprintf(ev.msg, sizeof(ev.msg), "%s", msg ? msg : "");
	op_unlink(op);
	emit(op->sim, &ev);
	op_free(op);
}

/* Operations on a domain being destroyed cannot succeed. */
static void fail_ops_on(struct hv_sim *s, uint32_t domid)
{
	if (!s->n_open_targeted)
		return;
	for (struct sim_op *op = s->ops; op; op = op->next) {
		bool targets = op->kind == OP_SAVE || op->kind == OP_SHUTDOWN ||
			       op->kind == OP_CORE_DUMP;
		if (targets && op->domid == domid && !op->decided)
			op_decide(op, HV_EFAIL, "domain %" PRIu32 " was destroyed", domid);
	}
}

static bool name_in_use(struct hv_sim *s, const char *name)
{
	return dom_by_name(s, name) != NULL;
}

/* A failure the scenario asked for: the first N attempts. */
static bool scripted_failure(unsigned *failed, unsigned limit, unsigned *k)
{
	if (*failed >= limit)
		return false;
	*k = ++*failed;
	return true;
}

/* Create or restore reaches its end: build the domain, or say why not. */
static void finish_build(struct sim_op *op)
{
	struct hv_sim *s = op->sim;
	struct sim_profile *p = op->prof;
	bool create = op->kind == OP_CREATE;
	unsigned k;
	char msg[HV_MSG_MAX];
	if (create ? scripted_failure(&p->failed_creates, p->fail_creates, &k)
		   : scripted_failure(&p->failed_restores, p->fail_restores, &k)) {
		snprintf(msg, sizeof(msg), "simulated %s failure (%u of %u)",
			 create ? "create" : "restore", k, create ? p->fail_creates : p->fail_restores);
		op_finish(op, HV_EFAIL, 0, msg);
		return;
	}
	if (name_in_use(s, op->name)) {
		snprintf(msg, sizeof(msg), "domain %s already exists", op->name);
		op_finish(op, HV_EFAIL, 0, msg);
		return;
	}
	if (s->free_kb < op->mem_kb) {
		snprintf(msg, sizeof(msg), "not enough memory for %s: need %" PRIu64 " MiB, free %"
			 PRIu64 " MiB", op->name, (op->mem_kb + 1023) / 1024, s->free_kb / 1024);
		op_finish(op, HV_ENOMEM, 0, msg);
		return;
	}
	struct sim_dom *d = dom_add(s, p, op->name, op->mem_kb, op->hvm);
	d->restored = !create;
	op_finish(op, 0, d->domid, NULL);
}

/* A save that does not complete: no image is left, and the guest (if
 * it still exists and had suspended) is resumed. */
static void save_undo(struct sim_op *op)
{
	if (op->tx.fd >= 0)
		savefile_tx_abort(&op->tx);
	struct sim_dom *d = dom_live(op->sim, op->domid);
	if (d && op->suspended)
		dom_resume(d);
}

/* The end of a save's copy phase. */
static void finish_save(struct sim_op *op)
{
	struct sim_profile *p = dom_live(op->sim, op->domid)->prof;
	unsigned k;
	char msg[HV_MSG_MAX];
	if (scripted_failure(&p->failed_saves, p->fail_saves, &k))
		snprintf(msg, sizeof(msg), "simulated save failure (%u of %u)", k, p->fail_saves);
	else if (savefile_write_fake_stream(op->tx.fd, SIM_IMAGE_MARKER, msg, sizeof(msg)) == 0 &&
		 savefile_tx_commit(&op->tx, msg, sizeof(msg)) == 0) {
		op_finish(op, 0, 0, NULL);
		return;
	}
	save_undo(op);
	op_finish(op, HV_EFAIL, 0, msg);
}

/* First step of a save: the guest suspends, then the copy takes save_ms. */
static void suspend_for_save(struct sim_op *op)
{
	struct sim_dom *d = dom_live(op->sim, op->domid);
	op->suspended = true;
	dom_shutdown(d, HV_SD_SUSPEND);
	arm_in(op->sim, &op->t, d->prof->save_ms);
}

static void write_core(struct sim_op *op)
{
	struct sim_dom *d = dom_live(op->sim, op->domid);
	int fd = open(op->file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOCTTY, 0600);
	char msg[HV_MSG_MAX];
	if (fd < 0) {
		snprintf(msg, sizeof(msg), "%s: %s", op->file, strerror(errno));
		op_finish(op, HV_EFAIL, 0, msg);
		return;
	}
	dprintf(fd, "xendomd-sim core dump of %s (domid %" PRIu32 ", %" PRIu64 " KiB)\n",
		d->name, d->domid, d->mem_kb);
	if (close(fd) != 0) {
		snprintf(msg, sizeof(msg), "%s: %s", op->file, strerror(errno));
		op_finish(op, HV_EFAIL, 0, msg);
		return;
	}
	op_finish(op, 0, 0, NULL);
}

/* A decided outcome: undo what a save did, then report. */
static void finish_decided(struct sim_op *op)
{
	if (op->kind == OP_SAVE)
		save_undo(op);
	op_finish(op, op->rc, 0, op->msg);
}

static void op_fire(struct xd_timer *t, void *arg)
{
	(void)t;
	struct sim_op *op = arg;
	if (op->decided) {
		finish_decided(op);
		return;
	}
	switch (op->kind) {
	case OP_CREATE:
	case OP_RESTORE:
		finish_build(op);
		break;
	case OP_SAVE:
		if (op->suspended)
			finish_save(op);
		else
			suspend_for_save(op);
		break;
	case OP_SHUTDOWN:
		op_finish(op, HV_EFAIL, 0, "the guest did not acknowledge the shutdown request "
			  "within 60 s");
		break;
	case OP_DESTROY: {
		struct sim_dom *d = dom_by_id(op->sim, op->domid);
		if (d)
			dom_remove(d);
		op_finish(op, 0, 0, NULL);
		break;
	}
	case OP_CORE_DUMP:
		write_core(op);
		break;
	case OP_UNPAUSE:
		op_finish(op, 0, 0, NULL);
		break;
	}
}

/* ---- the port ---- */

static void fill_info(const struct sim_dom *d, struct hv_dominfo *o)
{
	*o = (struct hv_dominfo){
		.domid = d->domid,
		.paused = d->paused,
		.shutdown = d->shutdown,
		.dying = d->dying,
		.hvm = d->hvm,
		.reason = d->shutdown ? d->reason : HV_SD_UNKNOWN,
		.cur_kb = d->mem_kb,
	};
	snprintf(o->name, sizeof(o->name), "%s", d->name);
}

static int sim_list(struct hv *hv, struct hv_dominfo **v, size_t *n)
{
	struct hv_sim *s = to_sim(hv);
	*v = NULL;
	*n = 0;
	if (!s->n_doms)
		return 0;
	*v = calloc(s->n_doms, sizeof(**v));
	if (!*v)
		return HV_ENOMEM;
	for (uint32_t domid = 1; domid < s->next_domid; domid++)
		if (s->by_id[domid])
			fill_info(s->by_id[domid], &(*v)[(*n)++]);
	return 0;
}

static uint64_t cfg_mem_kb(const struct xd_domain_cfg *cfg)
{
	return (cfg && cfg->memory_mb ? cfg->memory_mb : DEFAULT_MEMORY_MB) * 1024;
}

static int sim_create(struct hv *hv, const struct xd_domain_cfg *cfg, uint64_t id)
{
	struct hv_sim *s = to_sim(hv);
	struct sim_profile *p = profile_get(s, cfg->name);
	p->counts.creates++;
	struct sim_op *op = op_new(s, OP_CREATE, id, 0);
	op->prof = p;
	snprintf(op->name, sizeof(op->name), "%s", cfg->name);
	op->mem_kb = cfg_mem_kb(cfg);
	op->hvm = profile_hvm(p, cfg->hvm);
	if (name_in_use(s, cfg->name))
		op_decide(op, HV_EFAIL, "domain %s already exists", cfg->name);
	else
		arm_in(s, &op->t, p->create_ms);
	return 0;
}

static bool image_hvm(const struct savefile_info *info)
{
	char type[16];
	return savefile_json_get(info->config, "c_info", "type", type, sizeof(type)) == 0 &&
	       strcmp(type, "hvm") == 0;
}

/* b_info.target_memkb of the image, else the cfg's memory. */
static uint64_t image_mem_kb(const struct savefile_info *info, const struct xd_domain_cfg *cfg)
{
	char num[32], *end;
	if (savefile_json_get(info->config, "b_info", "target_memkb", num, sizeof(num)) == 0) {
		errno = 0;
		unsigned long long kb = strtoull(num, &end, 10);
		if (!errno && *end == '\0' && kb > 0 && num[0] != '-')
			return kb;
	}
	return cfg_mem_kb(cfg);
}

static int sim_restore(struct hv *hv, const struct xd_domain_cfg *cfg, const char *file, uint64_t id)
{
	struct hv_sim *s = to_sim(hv);
	struct savefile_info info;
	char msg[HV_MSG_MAX];
	int rc = savefile_image_check(file, msg, sizeof(msg));
	if (!rc)
		rc = savefile_read(file, &info, msg, sizeof(msg));
	if (rc)
		return rc;
	struct sim_profile *p = profile_get(s, info.name);
	p->counts.restores++;
	struct sim_op *op = op_new(s, OP_RESTORE, id, 0);
	op->prof = p;
	snprintf(op->name, sizeof(op->name), "%s", info.name);
	op->mem_kb = image_mem_kb(&info, cfg);
	op->hvm = profile_hvm(p, image_hvm(&info));
	savefile_info_free(&info);
	if (name_in_use(s, op->name))
		op_decide(op, HV_EFAIL, "domain %s already exists", op->name);
	else
		arm_in(s, &op->t, profile_restore_ms(p));
	return 0;
}

static int sim_unpause(struct hv *hv, uint32_t domid, uint64_t id)
{
	struct hv_sim *s = to_sim(hv);
	struct sim_dom *d = dom_live(s, domid);
	if (!d)
		return HV_ENOENT;
	d->prof->counts.unpauses++;
	struct sim_op *op = op_new(s, OP_UNPAUSE, id, domid);
	if (d->shutdown) {
		op_decide(op, HV_EFAIL, "domain %" PRIu32 " is shut down", domid);
		return 0;
	}
	arm_in(s, &op->t, 0);
	if (d->paused) {
		d->paused = false;
		guest_start(d);
	}
	return 0;
}

/* libxl__domain_pvcontrol_available: PV always, HVM once drivers are up. */
static bool pvcontrol_available(const struct sim_dom *d)
{
	return !d->hvm || d->drivers_up;
}

static int sim_shutdown(struct hv *hv, uint32_t domid, uint64_t id)
{
	struct hv_sim *s = to_sim(hv);
	struct sim_dom *d = dom_live(s, domid);
	if (!d)
		return HV_ENOENT;
	d->prof->counts.shutdowns++;
	if (!pvcontrol_available(d))
		return HV_ENOPV;
	struct sim_op *op = op_new(s, OP_SHUTDOWN, id, domid);
	if (d->shutdown) {
		op_decide(op, HV_EFAIL, "domain %" PRIu32 " is already shut down", domid);
		return 0;
	}
	key_set(d, "control/shutdown", "poweroff");
	if (d->drivers_up)
		ack_shutdown(d, op);
	else
		arm_in(s, &op->t, PVCONTROL_ACK_TIMEOUT_MS);
	return 0;
}

static int sim_power_button(struct hv *hv, uint32_t domid)
{
	struct hv_sim *s = to_sim(hv);
	struct sim_dom *d = dom_live(s, domid);
	if (!d)
		return HV_ENOENT;
	d->prof->counts.power_buttons++;
	if (!d->hvm)
		return HV_EFAIL;   /* the trigger means nothing to a PV guest */
	if (!d->shutdown)
		schedule_poweroff(d);
	return 0;
}

static int sim_destroy(struct hv *hv, uint32_t domid, uint64_t id)
{
	struct hv_sim *s = to_sim(hv);
	struct sim_dom *d = dom_by_id(s, domid);
	if (!d)
		return HV_ENOENT;
	d->prof->counts.destroys++;
	struct sim_op *op = op_new(s, OP_DESTROY, id, domid);
	if (!d->dying) {
		d->dying = true;
		guest_timers_disarm(d);
		fail_ops_on(s, domid);
	}
	arm_in(s, &op->t, 0);
	return 0;
}

/* The saved config, as xl writes it (the parts anyone reads back). */
static int begin_image(struct sim_op *op, struct sim_dom *d, char *msg, size_t msglen)
{
	char name[XD_NAME_MAX * 6 + 3], json[HV_MSG_MAX + sizeof(name)];
	savefile_json_quote(d->name, name, sizeof(name));
	snprintf(json, sizeof(json),
		 "{\"c_info\":{\"type\":\"%s\",\"name\":%s},"
		 "\"b_info\":{\"max_memkb\":%" PRIu64 ",\"target_memkb\":%" PRIu64 "}}",
		 d->hvm ? "hvm" : "pv", name, d->mem_kb, d->mem_kb);
	if (savefile_tx_begin(&op->tx, op->file, msg, msglen) != 0)
		return -1;
	if (savefile_write_header(op->tx.fd, json, msg, msglen) != 0) {
		savefile_tx_abort(&op->tx);
		return -1;
	}
	return 0;
}

static bool save_running(struct hv_sim *s, uint32_t domid)
{
	for (struct sim_op *op = s->ops; op; op = op->next)
		if (op->kind == OP_SAVE && op->domid == domid && op->file && op->tx.fd >= 0)
			return true;
	return false;
}

static int sim_save(struct hv *hv, uint32_t domid, const char *file, uint64_t id)
{
	struct hv_sim *s = to_sim(hv);
	struct sim_dom *d = dom_live(s, domid);
	if (!d)
		return HV_ENOENT;
	d->prof->counts.saves++;
	struct sim_op *op = op_new(s, OP_SAVE, id, domid);
	op->file = xstrdup(file);
	char msg[HV_MSG_MAX];
	if (d->shutdown)
		op_decide(op, HV_EFAIL, "domain %" PRIu32 " is shut down", domid);
	else if (save_running(s, domid))
		op_decide(op, HV_EFAIL, "a save of domain %" PRIu32 " is already running", domid);
	else if (begin_image(op, d, msg, sizeof(msg)) != 0)
		op_decide(op, HV_EFAIL, "%s", msg);
	else
		arm_in(s, &op->t, 0);
	return 0;
}

static int sim_core_dump(struct hv *hv, uint32_t domid, const char *file, uint64_t id)
{
	struct hv_sim *s = to_sim(hv);
	struct sim_dom *d = dom_live(s, domid);
	if (!d)
		return HV_ENOENT;
	d->prof->counts.core_dumps++;
	struct sim_op *op = op_new(s, OP_CORE_DUMP, id, domid);
	op->file = xstrdup(file);
	arm_in(s, &op->t, 0);
	return 0;
}

static int sim_rename(struct hv *hv, uint32_t domid, const char *new_name)
{
	struct hv_sim *s = to_sim(hv);
	struct sim_dom *d = dom_live(s, domid);
	if (!d)
		return HV_ENOENT;
	if (!new_name[0] || strlen(new_name) >= XD_NAME_MAX || name_in_use(s, new_name))
		return HV_EFAIL;
	profile_find(s, d->name)->holder = NULL;
	snprintf(d->name, sizeof(d->name), "%s", new_name);
	profile_get(s, new_name)->holder = d;
	key_set(d, "name", new_name);
	return 0;
}

static void sim_cancel(struct hv *hv, uint64_t id)
{
	struct hv_sim *s = to_sim(hv);
	for (struct sim_op *op = s->ops; op; op = op->next) {
		bool long_op = op->kind == OP_CREATE || op->kind == OP_RESTORE || op->kind == OP_SAVE;
		if (op->id == id && long_op && !op->decided)
			op_decide(op, HV_ECANCELED, "cancelled");
	}
}

static int sim_watch_domain(struct hv *hv, uint32_t domid)
{
	struct hv_sim *s = to_sim(hv);
	struct sim_dom *d = dom_by_id(s, domid);
	if (!d) {
		if (domid == 0 || domid >= s->next_domid)
			return HV_ENOENT;
		/* It existed and is gone: that state is reported too. */
		emit(s, &(struct hv_event){ .kind = HV_EV_DEATH, .domid = domid });
		return 0;
	}
	d->watched = true;
	d->shutdown_reported = false;
	if (d->shutdown && !d->dying) {      /* dying: only DEATH is left to say */
		d->shutdown_reported = true;
		emit(s, &(struct hv_event){ .kind = HV_EV_SHUTDOWN, .domid = domid,
					    .reason = d->reason });
	}
	return 0;
}

static void sim_unwatch_domain(struct hv *hv, uint32_t domid)
{
	struct sim_dom *d = dom_by_id(to_sim(hv), domid);
	if (d)
		d->watched = false;
}

static int sim_watch_key(struct hv *hv, uint32_t domid, const char *relpath)
{
	if (xd_xenstore_relpath_problem(relpath))
		return HV_EFAIL;          /* as the libxl backend: one rule for both */
	struct sim_dom *d = dom_live(to_sim(hv), domid);
	if (!d)
		return HV_ENOENT;
	bool known = false;
	for (size_t i = 0; i < d->n_watches; i++)
		known |= strcmp(d->watches[i], relpath) == 0;
	if (!known) {
		d->watches = grow(d->watches, d->n_watches, sizeof(*d->watches));
		d->watches[d->n_watches++] = xstrdup(relpath);
	}
	emit_key(d, relpath);     /* xs_watch fires once at once */
	return 0;
}

static void sim_unwatch_key(struct hv *hv, uint32_t domid, const char *relpath)
{
	struct sim_dom *d = dom_by_id(to_sim(hv), domid);
	if (!d)
		return;
	for (size_t i = 0; i < d->n_watches; i++) {
		if (strcmp(d->watches[i], relpath) == 0) {
			free(d->watches[i]);
			d->watches[i] = d->watches[--d->n_watches];
			return;
		}
	}
}

static int sim_read_key(struct hv *hv, uint32_t domid, const char *relpath, char *buf, size_t len)
{
	if (xd_xenstore_relpath_problem(relpath) || !len)
		return HV_EFAIL;
	struct sim_dom *d = dom_live(to_sim(hv), domid);
	struct sim_key *k = d ? key_find(d, relpath) : NULL;
	if (!k)
		return HV_ENOENT;
	size_t n = strlen(k->value);
	if (n + 1 > len)
		return HV_ETOOBIG;
	memcpy(buf, k->value, n + 1);
	return 0;
}

static int sim_mem_need(struct hv *hv, const struct xd_domain_cfg *cfg, uint64_t *kb)
{
	(void)to_sim(hv);
	*kb = cfg_mem_kb(cfg);
	return 0;
}

static int sim_mem_free(struct hv *hv, uint64_t *kb)
{
	*kb = to_sim(hv)->free_kb;
	return 0;
}

static int sim_image_check(struct hv *hv, const char *file, char *msg, size_t msglen)
{
	(void)to_sim(hv);
	return savefile_image_check(file, msg, msglen);
}

static void sim_free(struct hv *hv)
{
	if (!hv)
		return;
	struct hv_sim *s = to_sim(hv);
	while (s->ops) {
		struct sim_op *op = s->ops;
		op_unlink(op);
		op_free(op);
	}
	for (uint32_t domid = 1; domid < s->next_domid; domid++)
		if (s->by_id[domid])
			dom_free(s->by_id[domid]);
	free(s->by_id);
	for (size_t i = 0; i < s->n_profs; i++)
		free(s->profs[i]);
	free(s->profs);
	free(s->by_name);
	hv_fini(&s->hv);
	free(s);
}

static const struct hv_ops sim_ops = {
	.name = "sim",
	.list = sim_list,
	.create = sim_create,
	.restore = sim_restore,
	.unpause = sim_unpause,
	.shutdown = sim_shutdown,
	.power_button = sim_power_button,
	.destroy = sim_destroy,
	.save = sim_save,
	.core_dump = sim_core_dump,
	.rename = sim_rename,
	.cancel = sim_cancel,
	.watch_domain = sim_watch_domain,
	.unwatch_domain = sim_unwatch_domain,
	.watch_key = sim_watch_key,
	.unwatch_key = sim_unwatch_key,
	.read_key = sim_read_key,
	.mem_need = sim_mem_need,
	.mem_free = sim_mem_free,
	.image_check = sim_image_check,
	.free = sim_free,
};

/* ---- the scenario file ---- */

struct parse {
	struct hv_sim *sim;
	const char *file;
	FILE *f;
	int line;                        /* of the line being parsed */
	int header_line;                 /* of the last [section] header */
	bool at_line_start;
	char section[XD_NAME_MAX + 16];  /* the last one a key was seen in */
	struct sim_profile *prof;        /* its profile, for [domain] */
	char err[512];
};

static int parse_fail(struct parse *ps, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static int parse_fail(struct parse *ps, const char *fmt, ...)
{
	if (ps->err[0])
		return 0;        /* keep the first error */
	char msg[384];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(ps->err, sizeof(ps->err), "%s:%d: %s", ps->file, ps->line, msg);
	return 0;
}

/* inih reads line by line through this, so we know the line number of
 * every key (the Debian build has no INI_HANDLER_LINENO). */
static char *counting_reader(char *str, int num, void *stream)
{
	struct parse *ps = stream;
	char *r = fgets(str, num, ps->f);
	if (!r)
		return NULL;
	if (ps->at_line_start) {
		ps->line++;
		if (r[strspn(r, " \t")] == '[')
			ps->header_line = ps->line;
	}
	ps->at_line_start = strchr(r, '\n') != NULL;
	return r;
}

static bool parse_u64(const char *v, uint64_t max, uint64_t *out)
{
	if (!*v || *v < '0' || *v > '9')
		return false;
	char *end;
	errno = 0;
	unsigned long long n = strtoull(v, &end, 10);
	if (errno || *end || n > max)
		return false;
	*out = n;
	return true;
}

static bool parse_bool(const char *v, bool *out)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };
	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcasecmp(v, yes[i]) == 0 || strcasecmp(v, no[i]) == 0) {
			*out = strcasecmp(v, yes[i]) == 0;
			return true;
		}
	}
	return false;
}

enum key_type { K_MS, K_COUNT, K_BOOL, K_SHUTDOWN_MS, K_HVM };
static const char *const key_type_expects[] = {
	[K_MS] = "milliseconds",
	[K_COUNT] = "a count",
	[K_BOOL] = "yes or no",
	[K_SHUTDOWN_MS] = "milliseconds or -1",
	[K_HVM] = "yes or no",
};

struct key_def {
	const char *name;
	enum key_type type;
	size_t off;
};

#define KEY(n, t) { #n, t, offsetof(struct sim_profile, n) }
static const struct key_def domain_keys[] = {
	KEY(create_ms, K_MS),
	KEY(fail_creates, K_COUNT),
	KEY(ready_ms, K_MS),
	KEY(pv_drivers, K_BOOL),
	KEY(shutdown_ms, K_SHUTDOWN_MS),
	KEY(save_ms, K_MS),
	KEY(crash_after_ms, K_MS),
	KEY(reboot_after_ms, K_MS),
	KEY(running, K_BOOL),
	KEY(fail_saves, K_COUNT),
	KEY(fail_restores, K_COUNT),
	KEY(restore_ms, K_MS),
	KEY(hvm, K_HVM),
};
#undef KEY

static bool set_value(struct sim_profile *p, const struct key_def *k, const char *v)
{
	void *field = (char *)p + k->off;
	uint64_t n;
	bool b;
	switch (k->type) {
	case K_MS:
		if (!parse_u64(v, SCENARIO_MS_MAX, &n))
			return false;
		*(uint64_t *)field = n;
		return true;
	case K_COUNT:
		if (!parse_u64(v, UINT32_MAX, &n))
			return false;
		*(unsigned *)field = (unsigned)n;
		return true;
	case K_BOOL:
	case K_HVM:
		if (!parse_bool(v, &b))
			return false;
		if (k->type == K_BOOL)
			*(bool *)field = b;
		else
			*(int *)field = b;
		return true;
	case K_SHUTDOWN_MS:
		if (strcmp(v, "-1") == 0) {
			*(int64_t *)field = -1;
			return true;
		}
		if (!parse_u64(v, SCENARIO_MS_MAX, &n))
			return false;
		*(int64_t *)field = (int64_t)n;
		return true;
	}
	return false;
}

static int domain_key(struct parse *ps, const char *key, const char *value)
{
	for (size_t i = 0; i < sizeof(domain_keys) / sizeof(domain_keys[0]); i++) {
		const struct key_def *k = &domain_keys[i];
		if (strcmp(k->name, key) != 0)
			continue;
		if (!set_value(ps->prof, k, value))
			return parse_fail(ps, "%s: bad value '%s' (expected %s)", key, value,
					  key_type_expects[k->type]);
		return 1;
	}
	return parse_fail(ps, "unknown key '%s' in [domain %s]", key, ps->prof->name);
}

static int sim_key(struct parse *ps, const char *key, const char *value)
{
	uint64_t mb;
	if (strcmp(key, "free_memory_mb") != 0)
		return parse_fail(ps, "unknown key '%s' in [sim]", key);
	if (!parse_u64(value, SCENARIO_MB_MAX, &mb))
		return parse_fail(ps, "free_memory_mb: bad value '%s' (expected MiB)", value);
	ps->sim->free_kb = mb * 1024;
	return 1;
}

/* A [domain NAME] section begins (again): its profile. */
static int enter_domain(struct parse *ps, const char *section)
{
	const char *name = section + strlen("domain");
	name += strspn(name, " \t");
	if (!*name || strlen(name) >= XD_NAME_MAX || strpbrk(name, " \t"))
		return parse_fail(ps, "bad domain name in [%s]", section);
	struct sim_profile *p = profile_get(ps->sim, name);
	if (!p->line)
		p->line = ps->header_line;
	ps->prof = p;
	return 1;
}

static int on_key(void *user, const char *section, const char *key, const char *value)
{
	struct parse *ps = user;
	bool is_domain = strncmp(section, "domain", 6) == 0 &&
			 (section[6] == '\0' || section[6] == ' ' || section[6] == '\t');
	if (strlen(section) >= INIH_SECTION_MAX)
		return parse_fail(ps, "section header too long (at most %d characters)",
				  INIH_SECTION_MAX - 1);
	if (strcmp(section, ps->section) != 0) {
		snprintf(ps->section, sizeof(ps->section), "%s", section);
		ps->prof = NULL;
		if (is_domain && !enter_domain(ps, section))
			return 0;
	}
	if (strcmp(section, "sim") == 0)
		return sim_key(ps, key, value);
	if (is_domain)
		return ps->prof ? domain_key(ps, key, value) : 0;
	if (!section[0])
		return parse_fail(ps, "'%s' outside a section", key);
	return parse_fail(ps, "unknown section [%s]", section);
}

static int check_profiles(struct parse *ps)
{
	for (size_t i = 0; i < ps->sim->n_profs; i++) {
		struct sim_profile *p = ps->sim->profs[i];
		if (p->hvm == 0 && !p->pv_drivers) {
			ps->line = p->line;
			return parse_fail(ps, "[domain %s]: pv_drivers = no needs hvm = yes "
					  "(a PV guest always has PV control)", p->name);
		}
	}
	return 1;
}

/* running = yes: the guest was there before us, up and unpaused. */
static int start_running(struct parse *ps, const struct xd_config *cfg)
{
	struct hv_sim *s = ps->sim;
	for (size_t i = 0; i < s->n_profs; i++) {
		struct sim_profile *p = s->profs[i];
		if (!p->running)
			continue;
		long at = cfg ? xd_config_find(cfg, p->name) : -1;
		const struct xd_domain_cfg *dc = at >= 0 ? &cfg->domains[at] : NULL;
		uint64_t kb = cfg_mem_kb(dc);
		if (kb > s->free_kb) {
			ps->line = p->line;
			return parse_fail(ps, "running domain %s needs %" PRIu64 " MiB, only %" PRIu64
					  " MiB free", p->name, kb / 1024, s->free_kb / 1024);
		}
		struct sim_dom *d = dom_add(s, p, p->name, kb, profile_hvm(p, dc && dc->hvm));
		d->paused = false;
		guest_ready(d);
		guest_arm_fate(d);
	}
	return 1;
}

static int load_scenario(struct parse *ps, const char *path)
{
	ps->file = path;
	ps->at_line_start = true;
	ps->f = fopen(path, "re");
	if (!ps->f) {
		snprintf(ps->err, sizeof(ps->err), "%s: %s", path, strerror(errno));
		return 0;
	}
	int rc = ini_parse_stream(counting_reader, ps, on_key, ps);
	fclose(ps->f);
	if (rc > 0 && !ps->err[0]) {
		ps->line = rc;
		parse_fail(ps, "syntax error (expected [section] or key = value)");
	} else if (rc < 0 && !ps->err[0]) {
		snprintf(ps->err, sizeof(ps->err), "%s: cannot parse (out of memory)", path);
	}
	return !ps->err[0] && check_profiles(ps);
}

struct hv *hv_sim_new(const char *scenario_path, const struct xd_config *cfg,
		      struct xd_timers *timers, char *err, size_t errlen)
{
	struct hv_sim *s = xmalloc_or_die(calloc(1, sizeof(*s)));
	hv_init(&s->hv, &sim_ops);
	s->timers = timers;
	s->free_kb = (uint64_t)DEFAULT_FREE_MB * 1024;
	s->next_domid = 1;
	struct parse ps = { .sim = s, .file = "(defaults)" };
	if ((scenario_path && !load_scenario(&ps, scenario_path)) || !start_running(&ps, cfg)) {
		snprintf(err, errlen, "%s", ps.err);
		sim_free(&s->hv);
		return NULL;
	}
	return &s->hv;
}

/* ---- the test-facing side ---- */

struct hv_sim_counts hv_sim_counts(struct hv *hv, const char *name)
{
	struct sim_profile *p = profile_find(to_sim(hv), name);
	return p ? p->counts : (struct hv_sim_counts){ 0 };
}

int hv_sim_find(struct hv *hv, const char *name, struct hv_dominfo *out)
{
	struct sim_dom *d = dom_by_name(to_sim(hv), name);
	if (!d)
		return HV_ENOENT;
	fill_info(d, out);
	return 0;
}

bool hv_sim_watched(struct hv *hv, uint32_t domid)
{
	struct sim_dom *d = dom_by_id(to_sim(hv), domid);
	return d && d->watched;
}

int hv_sim_guest_write(struct hv *hv, uint32_t domid, const char *relpath, const char *value)
{
	struct sim_dom *d = dom_live(to_sim(hv), domid);
	if (!d)
		return HV_ENOENT;
	if (!relpath[0] || strlen(relpath) >= GUEST_PATH_MAX || strlen(value) > GUEST_VALUE_MAX ||
	    (!key_find(d, relpath) && d->n_keys >= GUEST_KEYS_MAX))
		return HV_ETOOBIG;
	key_set(d, relpath, value);
	return 0;
}

int hv_sim_guest_shutdown(struct hv *hv, uint32_t domid, enum hv_reason reason)
{
	struct sim_dom *d = dom_live(to_sim(hv), domid);
	if (!d || d->shutdown)
		return HV_ENOENT;
	dom_shutdown(d, reason);
	return 0;
}

void hv_sim_set_free_kb(struct hv *hv, uint64_t kb)
{
	to_sim(hv)->free_kb = kb;
}

size_t hv_sim_ops_in_flight(struct hv *hv)
{
	size_t n = 0;
	for (struct sim_op *op = to_sim(hv)->ops; op; op = op->next)
		n++;
	return n;
}
