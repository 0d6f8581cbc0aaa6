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
 * (or found dying) is gone; "host shutdown done" then means it
 * (libxl_int.h).
 */
#include "hv/libxl/libxl_int.h"

#include <stdlib.h>

#define XLB_SETTLE_POLL_MS 100
#define XLB_DYING_PRUNE_AT 32            /* keep the list short at run time */

static int lookup(void *arg, uint32_t domid, uint8_t uuid[16])
{
	struct hv_libxl *x = arg;
	libxl_dominfo di;
	libxl_dominfo_init(&di);
	int rc = XLB_T(x, "libxl_domain_info", libxl_domain_info(x->ctx, &di, domid));
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
	return XLB_T(x, "libxl_domain_destroy", libxl_domain_destroy(x->ctx, op->domid, &op->how));
}

/* libxl_domain_destroy starts the teardown inside the call (XenStore
 * writes for every device; 100-130 ms each in the lab while builds load
 * xenstored): several guests powering off together would keep the loop
 * from the control socket for the sum.  So destroys wait in a queue and
 * start one per loop turn, with the loop's I/O between them. */
void xlb_destroy_queue(struct xop *op)
{
	op->phase = P_DESTROY_QUEUED;
	if (!xd_timer_armed(&op->x->destroy_turn))
		xd_timer_arm_in(op->x->timers, &op->x->destroy_turn, 0);
}

void xlb_destroy_turn(struct xd_timer *t, void *arg)
{
	(void)t;
	struct hv_libxl *x = arg;
	struct xop *op = x->ops, *more = NULL;
	while (op && op->phase != P_DESTROY_QUEUED)
		op = op->next;
	if (!op)
		return;
	for (more = op->next; more && more->phase != P_DESTROY_QUEUED; more = more->next)
		;
	xlb_ao_enter(op, P_SIMPLE);
	int rc = xlb_destroy_ao(op);
	if (!xlb_ao_started(op, rc))
		xlb_simple_done(op, rc);         /* OP_DONE with libxl's error */
	if (more)   /* armed from a fresh reading: due in the next turn, not this one */
		xd_timer_arm_in(x->timers, &x->destroy_turn, 0);
}

/* Finished ops not yet reaped are done: libxl has let go of them. */
static size_t ops_in_flight(const struct hv_libxl *x)
{
	size_t n = x->stranger_aos;
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

static void stranger_destroyed(libxl_ctx *ctx, int rc, void *arg)
{
	(void)ctx;
	struct hv_libxl *x = arg;
	x->stranger_aos--;
	if (rc)
		log_warnx("destroying a half-destroyed domain failed: libxl error %d", rc);
}

/* Domains we did not destroy ourselves count too.  A dying one: its
 * destroy was started by a daemon killed during the halt (whose destroyer
 * child lives on) or by another tool.  A shut-down one without a name: a
 * destroy cut short after libxl had removed its XenStore entries and
 * before it forked the child that ends the domain (the killed daemon's);
 * nothing else will ever end it, so it is destroyed here, by domid, as
 * `xl destroy` would.  Neither has a name, so list() never shows them;
 * xl list does, as "(null)". */
static void add_strangers(struct hv_libxl *x)
{
	int nb = 0;
	libxl_dominfo *l = libxl_list_domain(x->ctx, &nb);
	if (!l)
		return;
	for (int i = 0; i < nb; i++) {
		uint32_t domid = l[i].domid;
		if (domid == 0 || l[i].never_stop || !(l[i].dying || l[i].shutdown))
			continue;
		char *name = l[i].dying ? NULL : libxl_domid_to_name(x->ctx, domid);
		if (name) {
			free(name);
			continue;        /* a husk with its name: the engine's */
		}
		xlb_dying_add(&x->dying, domid, libxl_uuid_bytearray_const(&l[i].uuid));
		if (l[i].dying)
			continue;
		log_notice("domain %u: shut down, its XenStore entries gone, never destroyed; "
			   "destroying it", domid);
		libxl_asyncop_how how = { .callback = stranger_destroyed, .u.for_callback = x };
		if (libxl_domain_destroy(x->ctx, domid, &how) == 0)
			x->stranger_aos++;
	}
	libxl_dominfo_list_free(l, nb);
}

void hv_libxl_settle(struct hv *hv, hv_settled_fn *cb, void *arg)
{
	struct hv_libxl *x = X(hv);
	if (x->settle_cb)
		return;                  /* already settling: one report */
	x->settle_cb = cb;
	x->settle_arg = arg;
	x->settle_start = xd_loop_clock();
	if (!x->fatal)
		add_strangers(x);
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
