/* SPDX-License-Identifier: ISC */
/*
 * Small pure helpers of the libxl backend, kept apart so they are tested
 * off-Xen: the recent-errors ring that turns libxl's log into failure
 * reasons, xl.conf's autoballoon rule, and the XenStore path check.
 */
#ifndef XD_LIBXL_UTIL_H
#define XD_LIBXL_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/hv_port.h"

/*
 * libxl reports why an operation failed only in its log (an ao completes
 * with a bare ERROR_FAIL, doc/xen-facts.md §9).  The logger keeps the last error
 * lines here with the domid libxl names in them ("Domain 7:..."), and a
 * failed op picks the newest line about its domain, or else the newest
 * line logged since it started.
 */
#define XLB_ERRLOG_N 32

struct xlb_errlog {
	struct {
		uint64_t seq;            /* 0 = empty */
		long domid;              /* -1 = not named */
		char msg[HV_MSG_MAX];
	} e[XLB_ERRLOG_N];
	uint64_t seq;                    /* of the newest entry */
};

void xlb_errlog_add(struct xlb_errlog *l, const char *msg);
/* The seq to remember when an op starts. */
static inline uint64_t xlb_errlog_mark(const struct xlb_errlog *l) { return l->seq; }
/* Newest line after since about domid, preceded by its cause (the oldest
 * of the unattributed lines logged right before it) when there is one;
 * else the newest line after since that names no domain.  false if none. */
bool xlb_errlog_pick(const struct xlb_errlog *l, long domid, uint64_t since, char *out, size_t len);
/* The domid in "...Domain 12:..." of a libxl log line, or -1. */
long xlb_errlog_domid(const char *msg);

/* xl.conf autoballoon="on|off|auto|1|0" (NULL = absent = auto).  auto
 * balloons unless the Xen command line pins dom0_mem=.  -1 if value is
 * none of those. */
int xlb_autoballoon(const char *value, const char *xen_cmdline);

/* A guest-relative XenStore path we are willing to watch and read: not
 * empty, relative, no empty or dot components, XenStore's characters
 * only, and short enough to fit XD_KEY_MAX with the /local/domain/N/
 * prefix. */
bool xlb_relpath_ok(const char *p);

/*
 * The domains the backend destroyed, until Xen has let go of them: a
 * destroy's ao may end while the domain is still dying (holding memory),
 * and the daemon's exit after a host shutdown waits for them (settle.c).
 * A domain is gone when no domain has its domid, or one with another UUID
 * (the domid was reused).
 */
struct xlb_dying {
	struct xlb_dying_dom {
		uint32_t domid;
		uint8_t uuid[16];
	} *v;
	size_t n, cap;
};

/* 1: a domain with this domid exists (uuid filled in); 0: none; -1: cannot tell. */
typedef int xlb_dying_lookup_fn(void *arg, uint32_t domid, uint8_t uuid[16]);

/* A domid already there gets the new UUID. */
void xlb_dying_add(struct xlb_dying *d, uint32_t domid, const uint8_t uuid[16]);
/* Forget the gone ones; returns how many are left (cannot-tell ones stay). */
size_t xlb_dying_prune(struct xlb_dying *d, xlb_dying_lookup_fn *lookup, void *arg);
void xlb_dying_free(struct xlb_dying *d);

/* MiB for messages, rounded up. */
static inline uint64_t xlb_kb_to_mib(uint64_t kb) { return (kb + 1023) / 1024; }

#endif
