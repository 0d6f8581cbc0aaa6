/* SPDX-License-Identifier: ISC */
/*
 * Settling before the daemon exits after a host shutdown (hv_libxl.h).
 *
 * The engine calls the host down when every domain is stopped as far as
 * the port tells; libxl may still be at work then: a destroy's ao ends
 * only after libxl's forked destroyer child, which would otherwise
 * outlive the daemon (and its unit), and a destroyed domain stays dying,
 * holding its memory, until Xen has let go of it.  So the exit waits,
 * bounded, until no op of ours is in flight and every domain we destroyed
 * is gone; "host shutdown done" then means it (libxl_int.h).
 */
#include "hv/libxl/libxl_int.h"

#define XLB_SETTLE_POLL_MS 100
#define XLB_DYING_PRUNE_AT 32            /* keep the list short at run time */

static int lookup(void *arg, uint32_t domid, uint8_t uuid[16])
{
	struct hv_libxl *x = arg;
	libxl_dominfo di;
	libxl_dominfo_init(&di);
	int rc = libxl_domain_info(x->ctx, &di, domid);
	if (rc == 0)
		memcpy(uuid, libxl_uuid_bytearray_const(&di.uuid), 16);
	libxl_dominfo_dispose(&di);
	return rc == 0 ? 1 : rc == ERROR_DOMAIN_NOTFOUND ? 0 : -1;
}

int xlb_destroy_ao(struct xop *op)
{
	struct hv_libxl *x = op->x;
	uint8_t uuid[16];
	if (x->dying.n >= XLB_DYING_PRUNE_AT)
		xlb_dying_prune(&x->dying, lookup, x);
	if (lookup(x, op->domid, uuid) == 1)
		xlb_dying_add(&x->dying, op->domid, uuid);
	return libxl_domain_destroy(x->ctx, op->domid, &op->how);
}

/* Finished ops not yet reaped are done: libxl has let go of them. */
static size_t ops_in_flight(const struct hv_libxl *x)
{
	size_t n = 0;
	for (const struct xop *op = x->ops; op; op = op->next)
		n += op->phase != P_FINISHED || op->ao_pending;
	return n;
}

static void what_is_left(char *buf, size_t len, size_t ops, size_t dying)
{
	snprintf(buf, len, "%zu operation%s in flight, %zu destroyed domain%s not gone",
		 ops, ops == 1 ? "" : "s", dying, dying == 1 ? "" : "s");
}

static void settle_end(struct hv_libxl *x, bool settled)
{
	hv_settled_fn *cb = x->settle_cb;
	x->settle_cb = NULL;
	xd_timer_disarm(x->timers, &x->settle_timer);
	cb(x->settle_arg, settled);
}

void xlb_settle_check(struct xd_timer *t, void *arg)
{
	(void)t;
	struct hv_libxl *x = arg;
	if (x->fatal) {                  /* libxl's context is gone: nothing will end */
		log_warnx("libxl failed: not waiting for its operations");
		settle_end(x, false);
		return;
	}
	size_t ops = ops_in_flight(x);
	size_t dying = xlb_dying_prune(&x->dying, lookup, x);
	uint64_t waited = xd_loop_clock() - x->settle_start;
	if (!ops && !dying) {
		if (waited)
			log_info("libxl settled in %.1f s", (double)waited / 1000);
		settle_end(x, true);
	} else if (waited >= HV_LIBXL_SETTLE_MAX_MS) {
		char left[128];
		what_is_left(left, sizeof(left), ops, dying);
		log_warnx("libxl not settled after %d s: %s; exiting anyway",
			  HV_LIBXL_SETTLE_MAX_MS / 1000, left);
		settle_end(x, false);
	} else {
		xd_timer_arm_in(x->timers, &x->settle_timer, XLB_SETTLE_POLL_MS);
	}
}

void hv_libxl_settle(struct hv *hv, hv_settled_fn *cb, void *arg)
{
	struct hv_libxl *x = X(hv);
	if (x->settle_cb)
		return;                  /* already settling: one report */
	x->settle_cb = cb;
	x->settle_arg = arg;
	x->settle_start = xd_loop_clock();
	size_t ops = ops_in_flight(x);
	size_t dying = x->fatal ? 0 : xlb_dying_prune(&x->dying, lookup, x);
	if (!x->fatal && (ops || dying)) {
		char left[128];
		what_is_left(left, sizeof(left), ops, dying);
		log_notice("waiting up to %d s for libxl: %s", HV_LIBXL_SETTLE_MAX_MS / 1000, left);
	}
	/* From the loop, never from inside this call. */
	xd_timer_arm(x->timers, &x->settle_timer, 0);
}
