/* SPDX-License-Identifier: ISC */
/*
 * Death and shutdown detection for the domains the engine watches, by
 * re-listing and diffing (doc/xen-facts.md §2, §5): @releaseDomain carries no
 * domid, so on every firing the backend lists all domains and feeds the
 * list here.  Pure logic, no Xen calls, so it is tested off-Xen.
 *
 * A watched domain is keyed by domid and the UUID seen first: a domid
 * that comes back with another UUID is a new domain, and the old one is
 * dead.  SHUTDOWN is reported once per shutdown transition (a domain that
 * is resumed, e.g. after a failed save, and shuts down again is reported
 * again); DEATH once, after which the entry is dropped.
 */
#ifndef XD_LIBXL_DOMDIFF_H
#define XD_LIBXL_DOMDIFF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/hv_port.h"

struct xlb_domstate {
	uint32_t domid;
	uint8_t uuid[16];
	bool shutdown, dying;
	enum hv_reason reason;           /* valid when shutdown */
};

struct xlb_watched {
	uint32_t domid;
	uint8_t uuid[16];
	bool uuid_known;
	bool shutdown_reported;
};

struct xlb_domdiff {
	struct xlb_watched *v;
	size_t n, cap;
};

/* kind is HV_EV_SHUTDOWN (with reason) or HV_EV_DEATH. */
typedef void xlb_domdiff_emit_fn(void *arg, enum hv_ev_kind kind, uint32_t domid,
				enum hv_reason reason);

/* 0, or -1 on ENOMEM.  Watching a watched domid again changes nothing. */
int xlb_domdiff_watch(struct xlb_domdiff *d, uint32_t domid);
void xlb_domdiff_unwatch(struct xlb_domdiff *d, uint32_t domid);
bool xlb_domdiff_watching(const struct xlb_domdiff *d, uint32_t domid);
void xlb_domdiff_free(struct xlb_domdiff *d);

/* One domain's current state (NULL: it does not exist). */
void xlb_domdiff_check(struct xlb_domdiff *d, uint32_t domid, const struct xlb_domstate *st,
		      xlb_domdiff_emit_fn *emit, void *arg);
/* The complete current domain list. */
void xlb_domdiff_update(struct xlb_domdiff *d, const struct xlb_domstate *cur, size_t n,
		       xlb_domdiff_emit_fn *emit, void *arg);

#endif
