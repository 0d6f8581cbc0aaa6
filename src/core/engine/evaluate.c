/* SPDX-License-Identifier: ISC */
/*
 * Goals into work: the dependency rules deciding whether a domain may be
 * queued to start or to stop now.  Level-triggered: re-run whenever the
 * domain or a neighbour changes, never by scanning every domain.
 */
#include "core/engine/engine_int.h"

static bool requirement_ready(const struct dom *r)
{
	return r->state == XD_RUNNING && alive(r);
}

/* An `after` dependency holds us back only while it is part of the same
 * start and not yet settled. */
static bool after_settled(const struct dom *a)
{
	if (a->goal != GOAL_UP)
		return true;
	return a->state == XD_RUNNING || a->state == XD_FAILED;
}

static void evaluate_start(struct xd_engine *e, struct dom *d)
{
	if (d->state != XD_INACTIVE && d->state != XD_WAITING && d->state != XD_SAVED &&
	    d->state != XD_FAILED)
		return;
	if (d->start.retry_wait || d->start.mem_waiting || d->start.queued)
		return;
	for (size_t i = 0; i < d->n_req; i++) {
		struct dom *r = e->doms[d->req[i]];
		if (r->cfg && r->cfg->config_error) {
			eng_fail_domain(e, d, "dependency %s has a configuration error", r->name);
			return;
		}
		if (r->state == XD_FAILED) {
			eng_fail_domain(e, d, "dependency %s failed", r->name);
			return;
		}
		if (!requirement_ready(r)) {
			if (r->goal != GOAL_UP && !alive(r) && r->state != XD_WAITING) {
				eng_fail_domain(e, d, "dependency %s is not running", r->name);
				return;
			}
			eng_set_state(e, d, XD_WAITING, "waiting for %s", r->name);
			return;
		}
	}
	for (size_t i = 0; i < d->n_aft; i++) {
		struct dom *a = e->doms[d->aft[i]];
		if (!after_settled(a)) {
			eng_set_state(e, d, XD_WAITING, "waiting for %s", a->name);
			return;
		}
	}
	if (d->cfg->start_delay_ms && !d->start.delay_done) {
		if (d->wake != WK_START_DELAY) {
			eng_arm_wake(e, d, WK_START_DELAY, d->cfg->start_delay_ms);
			eng_set_state(e, d, XD_WAITING, "start delay %.1f s",
				      (double)d->cfg->start_delay_ms / 1000);
		}
		return;
	}
	eng_set_state(e, d, XD_WAITING, "queued");
	eng_queue_start(e, d);
}

static bool stops_before(const struct dom *dep)
{
	/* a dependent that is still alive and on its way down holds us */
	return alive(dep) && dep->goal == GOAL_DOWN && !dep->stop.left;
}

static void evaluate_stop(struct xd_engine *e, struct dom *d)
{
	if (!alive(d)) {
		if (d->state == XD_WAITING) {
			eng_disarm_timers(e, d);
			d->start.retry_wait = false;
			d->goal = GOAL_NONE;
			eng_set_state(e, d, XD_INACTIVE, "start cancelled");
			eng_halt_done(e, d);
			eng_mark_neighbours_dirty(e, d);
		}
		return;
	}
	if (d->stop.requested || d->stop.queued || d->after_death != AD_UNEXPECTED)
		return;
	if (d->state == XD_STARTING || d->state == XD_RESTORING)
		return;   /* created but not yet unpaused: stop once it is */
	for (size_t i = 0; i < d->n_rdep; i++) {
		struct dom *x = e->doms[d->rdep[i].slot];
		if (stops_before(x)) {
			if (d->state != XD_STOPPING)
				eng_set_state(e, d, d->state, "stops after %s", x->name);
			return;
		}
	}
	eng_queue_stop(e, d);
}

void eng_evaluate(struct xd_engine *e, struct dom *d)
{
	if (d->after_death != AD_UNEXPECTED || d->hook.op)
		return;   /* something of ours is under way; its end re-evaluates */
	if (d->goal == GOAL_UP && d->cfg)
		evaluate_start(e, d);
	else if (d->goal == GOAL_DOWN)
		evaluate_stop(e, d);
}
