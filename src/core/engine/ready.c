/* SPDX-License-Identifier: ISC */
/*
 * Readiness: when a started domain counts as running -- at once, after a
 * delay, or when a XenStore key says so (reads of a busy key rate-limited).
 */
#include "core/engine/engine_int.h"

#include <string.h>

#define KEY_CHECK_INTERVAL_MS 100     /* at most 10 readiness reads/s per domain */

void eng_unwatch_key(struct xd_engine *e, struct dom *d)
{
	if (d->ready.watched && alive(d)) {
		const struct xd_ready *r = &d->cfg->ready;
		e->hv->ops->unwatch_key(e->hv, (uint32_t)d->domid,
				       r->kind == XD_READY_PV_DRIVERS ? "control/feature-poweroff" : r->path);
	}
	d->ready.watched = false;
}

void eng_become_ready(struct xd_engine *e, struct dom *d)
{
	eng_disarm_timers(e, d);
	eng_unwatch_key(e, d);
	d->tl.ready = now(e);
	eng_set_state(e, d, XD_RUNNING, d->life.paused_adopted ? "paused (adopted)" : NULL);
	eng_mark_neighbours_dirty(e, d);
}

const char *eng_ready_key(const struct dom *d)
{
	const struct xd_ready *r = &d->cfg->ready;
	return r->kind == XD_READY_PV_DRIVERS ? "control/feature-poweroff" : r->path;
}

/* The rule alone (engine.h), fed what the guest wrote: no I/O, so the
 * fuzzer and the tests reach it without a hypervisor. */
bool xd_ready_matches(const struct xd_ready *r, int rc, const char *value)
{
	if (rc != 0 && rc != HV_ETOOBIG)
		return false;            /* absent, or unreadable */
	if (r->kind == XD_READY_PV_DRIVERS)
		return rc == 0 && strcmp(value, "1") == 0;
	if (r->kind != XD_READY_XENSTORE)
		return false;
	if (!r->has_value)
		return true;             /* present: even a value too long to read */
	return rc == 0 && r->value && strcmp(value, r->value) == 0;
}

static bool key_says_ready(struct xd_engine *e, struct dom *d)
{
	char buf[XD_KEY_MAX];
	buf[0] = '\0';
	int rc = e->hv->ops->read_key(e->hv, (uint32_t)d->domid, eng_ready_key(d), buf, sizeof(buf));
	return xd_ready_matches(&d->cfg->ready, rc, buf);
}

void eng_check_ready_key(struct xd_engine *e, struct dom *d)
{
	if (d->state != XD_BOOTING || !d->ready.watched)
		return;
	uint64_t t = now(e);
	if (d->ready.last_check && t < d->ready.last_check + KEY_CHECK_INTERVAL_MS) {
		/* A guest writing in a loop gets at most one read per interval. */
		if (!xd_timer_armed(&d->t_wake))
			eng_arm_wake(e, d, WK_KEY_CHECK, d->ready.last_check + KEY_CHECK_INTERVAL_MS - t);
		return;
	}
	d->ready.last_check = t;
	if (key_says_ready(e, d))
		eng_become_ready(e, d);
}

void eng_start_readiness(struct xd_engine *e, struct dom *d)
{
	const struct xd_ready *r = &d->cfg->ready;
	eng_set_state(e, d, XD_BOOTING, NULL);
	switch (r->kind) {
	case XD_READY_RUNNING:
		eng_become_ready(e, d);
		return;
	case XD_READY_DELAY:
		eng_arm_wake(e, d, WK_READY_DELAY, r->delay_ms);
		eng_set_state(e, d, XD_BOOTING, "ready after %.1f s", (double)r->delay_ms / 1000);
		break;
	case XD_READY_PV_DRIVERS:
	case XD_READY_XENSTORE:
		d->ready.last_check = 0;
		if (e->hv->ops->watch_key(e->hv, (uint32_t)d->domid, eng_ready_key(d)) < 0) {
			eng_log(e, XD_LOG_ERR, d, "cannot watch %s", eng_ready_key(d));
			break;
		}
		d->ready.watched = true;
		eng_set_state(e, d, XD_BOOTING, "waiting for %s%s%s", eng_ready_key(d),
			      r->has_value ? " = " : "", r->has_value ? r->value : "");
		break;
	}
	eng_arm_deadline(e, d, DL_READY, d->cfg->ready_timeout_ms);
}

/* ready_timeout passed: the domain stays, but the start has failed. */
void eng_ready_timed_out(struct xd_engine *e, struct dom *d)
{
	eng_unwatch_key(e, d);
	xd_timer_disarm(e->timers, &d->t_wake);
	d->goal = GOAL_NONE;
	eng_set_state(e, d, XD_FAILED, "not ready after %llu s (ready_timeout); domain left running",
		      (unsigned long long)(d->cfg->ready_timeout_ms / 1000));
	eng_mark_neighbours_dirty(e, d);
}
