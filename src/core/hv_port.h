/* SPDX-License-Identifier: ISC */
/*
 * The hypervisor port.  The core drives every backend (hv_libxl.c on real
 * Xen, hv_sim.c for tests and demos) through these operations and never
 * knows which one it has.
 *
 * Rules every backend keeps (doc/xen-facts.md §1.4, §7):
 *  - Long operations are asynchronous: the call returns 0 ("started") or a
 *    negative HV_E* at once, and completion arrives later as one
 *    HV_EV_OP_DONE event carrying the caller's op id.
 *  - Events are only queued (hv_emit); the core drains the queue from its
 *    loop.  A backend never calls into the core, so nothing is re-entrant.
 *  - Guest-writable XenStore values are bounded by the caller's buffer.
 */
#ifndef XD_CORE_HV_PORT_H
#define XD_CORE_HV_PORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/config.h"

/* Error codes (negative). */
#define HV_EFAIL      (-1)   /* generic failure; see the event's msg */
#define HV_ENOPV      (-2)   /* no PV control: use the power button */
#define HV_ENOENT     (-3)   /* no such domain / key / file */
#define HV_ENOMEM     (-4)
#define HV_ECANCELED  (-5)   /* the op was cancelled */
#define HV_EBADIMG    (-6)   /* not a valid save image */
#define HV_ETOOBIG    (-7)   /* a value longer than the caller's bound */
#define HV_EINDOUBT   (-8)   /* migrate: contact lost after the go; the guest may run there */

/* Shutdown reasons, equal to SHUTDOWN_* of <xen/sched.h>. */
enum hv_reason {
	HV_SD_UNKNOWN = -1,
	HV_SD_POWEROFF = 0,
	HV_SD_REBOOT = 1,
	HV_SD_SUSPEND = 2,
	HV_SD_CRASH = 3,
	HV_SD_WATCHDOG = 4,
	HV_SD_SOFT_RESET = 5,
};

struct hv_dominfo {
	uint32_t domid;
	char name[XD_NAME_MAX];
	bool paused, shutdown, dying, hvm;
	enum hv_reason reason;   /* valid when shutdown */
	uint64_t cur_kb;
};

enum hv_ev_kind {
	HV_EV_OP_DONE,           /* op, rc, domid (create/restore), msg */
	HV_EV_SHUTDOWN,          /* domid, reason: the domain shut down (a husk until destroyed) */
	HV_EV_DEATH,             /* domid: the domain is gone */
	HV_EV_KEY,               /* domid, path: a watched key may have changed */
	HV_EV_FATAL,             /* msg: the backend cannot go on */
};

#define HV_MSG_MAX 256

struct hv_event {
	enum hv_ev_kind kind;
	uint64_t op;
	int rc;
	uint32_t domid;
	enum hv_reason reason;
	union {                      /* events are queued by the thousand: keep them small */
		char path[XD_KEY_MAX];   /* HV_EV_KEY */
		char msg[HV_MSG_MAX];    /* HV_EV_OP_DONE, HV_EV_FATAL */
	};
};

struct hv;

struct hv_ops {
	const char *name;
	/* Every domain but dom0; *v is malloc'ed, caller frees. */
	int (*list)(struct hv *, struct hv_dominfo **v, size_t *n);
	/* Build the domain, left paused.  OP_DONE carries the domid. */
	int (*create)(struct hv *, const struct xd_domain_cfg *, uint64_t op);
	/* Restore from a save image, left paused.  OP_DONE carries the domid. */
	int (*restore)(struct hv *, const struct xd_domain_cfg *, const char *file, uint64_t op);
	int (*unpause)(struct hv *, uint32_t domid, uint64_t op);
	/* PV shutdown request; HV_ENOPV at once when the guest has no PV
	 * control.  OP_DONE means the request was delivered/acknowledged, not
	 * that the domain is down: that is HV_EV_SHUTDOWN. */
	int (*shutdown)(struct hv *, uint32_t domid, uint64_t op);
	/* ACPI power button (synchronous). */
	int (*power_button)(struct hv *, uint32_t domid);
	/* OP_DONE and HV_EV_DEATH both follow, in either order. */
	int (*destroy)(struct hv *, uint32_t domid, uint64_t op);
	/* Save to file (xl format, written to a temporary name, fsync'ed and
	 * renamed).  On success the domain is left shut down (SUSPEND) for the
	 * caller to destroy; on failure the guest is resumed and runs on. */
	int (*save)(struct hv *, uint32_t domid, const char *file, uint64_t op);
	int (*core_dump)(struct hv *, uint32_t domid, const char *file, uint64_t op);
	/* Live-migrate to host exactly as `xl migrate -s command host` does
	 * (the receiver runs as `command host xl migrate-receive`; libxl's
	 * live suspend stream goes into it).  OP_DONE:
	 *   0            the target runs the guest; the domain here is left
	 *                suspended, renamed NAME--migratedaway, for the caller
	 *                to destroy;
	 *   HV_EINDOUBT  the permission to go was (or may have been) given and
	 *                the target's report never came: the guest may run
	 *                there.  The domain here is left suspended as
	 *                NAME--migratedaway and must not be resumed blindly;
	 *   other < 0    it failed before the go, or the target could not
	 *                start it and gave it back: the guest was resumed here
	 *                under its name and runs on.
	 * cancel: before the go the transport is cut and the guest resumed
	 * (HV_ECANCELED); after it the answer is HV_EINDOUBT.  live false:
	 * the guest is suspended before its memory is copied (no log-dirty
	 * tracking; longer downtime), the stream and protocol are the same. */
	int (*migrate)(struct hv *, uint32_t domid, const char *host, const char *command,
		       bool live, uint64_t op);
	/* rename-restart: rename the shut-down domain out of the way (sync). */
	int (*rename)(struct hv *, uint32_t domid, const char *new_name);
	/* Abort an op in flight; its OP_DONE still comes (HV_ECANCELED, or
	 * success if it was too late). */
	void (*cancel)(struct hv *, uint64_t op);
	/* Deliver SHUTDOWN/DEATH for domid, including a state already reached. */
	int (*watch_domain)(struct hv *, uint32_t domid);
	void (*unwatch_domain)(struct hv *, uint32_t domid);
	/* KEY events for /local/domain/<domid>/<relpath>; fires once at once. */
	int (*watch_key)(struct hv *, uint32_t domid, const char *relpath);
	void (*unwatch_key)(struct hv *, uint32_t domid, const char *relpath);
	/* 0 with a NUL-terminated value, HV_ENOENT, or HV_ETOOBIG. */
	int (*read_key)(struct hv *, uint32_t domid, const char *relpath, char *buf, size_t len);
	int (*mem_need)(struct hv *, const struct xd_domain_cfg *, uint64_t *kb);
	int (*mem_free)(struct hv *, uint64_t *kb);
	/* Save images: 0 valid, HV_ENOENT absent, HV_EBADIMG (msg says why). */
	int (*image_check)(struct hv *, const char *file, char *msg, size_t msglen);
	/* The same check; a valid image's domain name in name (restoring the
	 * images of domains that are not configured). */
	int (*image_name)(struct hv *, const char *file, char *name, size_t namelen, char *msg,
			  size_t msglen);
	void (*free)(struct hv *);
};

/* The event queue every backend embeds (a ring that grows). */
struct hv_queue {
	struct hv_event *v;
	size_t head, n, cap;
};

struct hv {
	const struct hv_ops *ops;
	struct hv_queue q;
};

void hv_init(struct hv *hv, const struct hv_ops *ops);
void hv_fini(struct hv *hv);        /* frees the queue */
void hv_emit(struct hv *hv, const struct hv_event *ev);
bool hv_next_event(struct hv *hv, struct hv_event *out);
const char *hv_strerror(int rc);
const char *hv_reason_name(enum hv_reason r);

#endif
