/* SPDX-License-Identifier: ISC */
/*
 * Stopping: a clean shutdown, a save, a destroy or leaving it running (a
 * migration is migrate.c's); the stop and save commands (dependents stop
 * first) and the host-shutdown sequence.
 */
#include "core/engine/engine_int.h"

#include <stdio.h>
#include <stdlib.h>

uint64_t eng_shutdown_timeout(const struct xd_engine *e, const struct dom *d)
{
	return d->cfg ? d->cfg->shutdown_timeout_ms : e->cfg->global.shutdown_timeout_ms;
}

void eng_request_shutdown(struct xd_engine *e, struct dom *d, const char *why)
{
	uint64_t op = eng_next_op(e, OP_SHUTDOWN, d);
	int rc = e->hv->ops->shutdown(e->hv, (uint32_t)d->domid, op);
	if (rc == HV_ENOPV) {
		rc = e->hv->ops->power_button(e->hv, (uint32_t)d->domid);
		eng_set_state(e, d, XD_STOPPING, "%sACPI power button (no PV drivers)", why);
		if (rc < 0)
			eng_log(e, XD_LOG_WARNING, d, "power button: %s", hv_strerror(rc));
	} else if (eng_op_started(e, d, op, rc)) {
		eng_set_state(e, d, XD_STOPPING, "%sshutdown requested", why);
	} else {
		eng_set_state(e, d, XD_STOPPING, "%sshutdown request failed: %s", why, hv_strerror(rc));
	}
	if (!d->stop.cut)   /* else the deadline armed at the cut runs on */
		eng_arm_deadline(e, d, DL_STOP, eng_shutdown_timeout(e, d));
}

static uint64_t save_timeout(const struct xd_engine *e, const struct dom *d)
{
	return d->cfg ? d->cfg->save_timeout_ms : e->cfg->global.save_timeout_ms;
}

/* A save or a migration (what) failed and the guest runs on here.  A
 * host shutdown still needs it gone: a clean shutdown instead
 * (stop.fallback).  Otherwise it stays running, and whatever waited for
 * the stop (the halt, its neighbours) learns it: one rule whether the
 * backend refused at once or reported the failure later. */
void eng_stop_failed(struct xd_engine *e, struct dom *d, const char *what, const char *why)
{
	if (d->stop.fallback) {
		char prefix[XD_REASON_MAX];
		snprintf(prefix, sizeof(prefix), "%.80s failed (%.150s); ", what, why);
		eng_request_shutdown(e, d, prefix);
		return;
	}
	eng_release_stop_slot(e, d);
	d->goal = GOAL_NONE;
	d->stop.requested = false;
	eng_set_state(e, d, XD_RUNNING, "%s failed: %s", what, why);
	eng_halt_done(e, d);
	eng_mark_neighbours_dirty(e, d);
}

static void save_failed(struct xd_engine *e, struct dom *d, const char *why)
{
	eng_stop_failed(e, d, "save", why);
}

static void start_save(struct xd_engine *e, struct dom *d)
{
	char file[4096];
	snprintf(file, sizeof(file), "%s/%s", e->cfg->global.save_dir, d->name);
	uint64_t op = eng_next_op(e, OP_SAVE, d);
	eng_set_state(e, d, XD_SAVING, "saving to %s", file);
	int rc = e->hv->ops->save(e->hv, (uint32_t)d->domid, file, op);
	if (eng_op_started(e, d, op, rc)) {
		/* the halt is bounded: a save at halt has a deadline */
		if (d->stop.fallback && save_timeout(e, d))
			eng_arm_deadline(e, d, DL_SAVE, save_timeout(e, d));
		return;
	}
	eng_log(e, XD_LOG_ERR, d, "save to %s failed: %s", file, hv_strerror(rc));
	save_failed(e, d, hv_strerror(rc));
}

void eng_begin_stop(struct xd_engine *e, struct dom *d)
{
	d->stop.requested = true;
	d->tl.stopping = now(e);
	switch (d->stop.kind) {
	case STOP_LEAVE:
		eng_release_stop_slot(e, d);
		d->stop.left = true;
		d->goal = GOAL_NONE;
		eng_set_state(e, d, d->state, "left running (on_host_shutdown=leave)");
		eng_halt_done(e, d);
		eng_mark_neighbours_dirty(e, d);
		return;
	case STOP_DESTROY:
		eng_set_state(e, d, XD_STOPPING, "destroying");
		eng_destroy_domain(e, d, AD_STOPPED);
		return;
	case STOP_MIGRATE:
		eng_begin_migrate(e, d);
		return;
	case STOP_SAVE:
	case STOP_SHUTDOWN:
		break;
	}
	if (d->life.husk) {
		/* already shut down (preserved): nothing left to ask it */
		eng_set_state(e, d, XD_STOPPING, "destroying the preserved domain");
		eng_destroy_domain(e, d, AD_STOPPED);
		return;
	}
	if (d->stop.kind == STOP_SAVE)
		start_save(e, d);
	else
		eng_request_shutdown(e, d, "");
}

void eng_on_save_done(struct xd_engine *e, struct dom *d, const struct hv_event *ev)
{
	if (ev->rc == 0) {
		eng_disarm_timers(e, d);   /* DL_SAVE, or a cut's DL_STOP: too late, it is saved */
		eng_set_pending(d, "saved to %s/%s", e->cfg->global.save_dir, d->name);
		eng_destroy_domain(e, d, AD_SAVED);
		return;
	}
	if (d->deadline == DL_SAVE) {   /* a cut's DL_STOP runs on */
		xd_timer_disarm(e->timers, &d->t_deadline);
		d->deadline = DL_NONE;
	}
	char cut[64];
	snprintf(cut, sizeof(cut), "cancelled after %llu s (save_timeout)",
		 (unsigned long long)(save_timeout(e, d) / 1000));
	const char *why = d->stop.cut ? cut : ev->msg[0] ? ev->msg : hv_strerror(ev->rc);
	eng_log(e, XD_LOG_ERR, d, "save failed: %s", why);
	/* The guest was resumed; a death watch reports one shutdown only
	 * (libxl evgen), and the suspend used it up: watch afresh. */
	e->hv->ops->unwatch_domain(e->hv, (uint32_t)d->domid);
	e->hv->ops->watch_domain(e->hv, (uint32_t)d->domid);
	save_failed(e, d, why);
}

void eng_on_shutdown_done(struct xd_engine *e, struct dom *d, const struct hv_event *ev)
{
	if (ev->rc == HV_ENOPV) {
		int rc = e->hv->ops->power_button(e->hv, (uint32_t)d->domid);
		eng_set_state(e, d, XD_STOPPING, "ACPI power button (no PV drivers)%s",
			      rc < 0 ? ": failed" : "");
	} else if (ev->rc < 0) {
		eng_log(e, XD_LOG_WARNING, d, "shutdown request: %s",
			ev->msg[0] ? ev->msg : hv_strerror(ev->rc));
	}
}

/* save_timeout passed at halt: cancel the save (the backend resumes the
 * guest and reports the cancel as a failed save, so save_failed's
 * shutdown follows).  From now on shutdown_timeout runs: if the backend
 * never answers the cancel, or the guest does not stop, shutdown_fallback
 * applies then, so the domain's share of the halt is at most
 * save_timeout + shutdown_timeout. */
void eng_save_timed_out(struct xd_engine *e, struct dom *d)
{
	unsigned long long secs = (unsigned long long)(save_timeout(e, d) / 1000);
	eng_log(e, XD_LOG_WARNING, d, "save did not finish within %llu s (save_timeout); cancelling it",
		secs);
	d->stop.cut = true;
	e->hv->ops->cancel(e->hv, d->op);
	eng_set_state(e, d, XD_SAVING, "save cancelled after %llu s (save_timeout); resuming the guest",
		      secs);
	eng_arm_deadline(e, d, DL_STOP, eng_shutdown_timeout(e, d));
}

/* shutdown_timeout passed: leave it or destroy it (shutdown_fallback). */
void eng_stop_timed_out(struct xd_engine *e, struct dom *d)
{
	unsigned long long secs = (unsigned long long)(eng_shutdown_timeout(e, d) / 1000);
	if (d->op && (OP_TYPE(d->op) == OP_SAVE || OP_TYPE(d->op) == OP_MIGRATE)) {
		/* a cancelled save or migration the backend never answered: forget it */
		d->op = 0;
		e->ops_inflight--;
	}
	if (e->cfg->global.shutdown_fallback == XD_FALLBACK_LEAVE) {
		eng_release_stop_slot(e, d);
		d->stop.left = true;
		d->stop.requested = false;
		d->goal = GOAL_NONE;
		eng_set_state(e, d, XD_RUNNING, "did not stop within %llu s; left running (shutdown_fallback=leave)",
			      secs);
		eng_halt_done(e, d);
		eng_mark_neighbours_dirty(e, d);
		return;
	}
	eng_set_pending(d, "destroyed: did not stop within %llu s", secs);
	eng_set_state(e, d, XD_STOPPING, "did not stop within %llu s; destroying", secs);
	eng_destroy_domain(e, d, AD_STOPPED);
}

void eng_want_down(struct xd_engine *e, struct dom *d, enum stop_kind kind, enum xd_cause cause)
{
	if (d->goal == GOAL_DOWN || d->life.in_doubt)
		return;   /* in doubt: it may run elsewhere; nothing here touches it */
	bool pending_start = d->state == XD_WAITING || d->state == XD_STARTING ||
			     d->state == XD_RESTORING || d->state == XD_RESTARTING;
	if (!alive(d) && !pending_start)
		return;
	d->goal = GOAL_DOWN;
	d->cause = cause;
	d->stop.kind = kind;
	d->stop.fallback = false;
	d->stop.cut = false;
	d->stop.left = false;
	if (d->state == XD_STARTING || d->state == XD_RESTORING) {
		/* let the create finish or time out; the stop follows */
		if (d->op && (OP_TYPE(d->op) == OP_CREATE || OP_TYPE(d->op) == OP_RESTORE))
			e->hv->ops->cancel(e->hv, d->op);
	}
	if (cause == XD_CAUSE_HOST_SHUTDOWN && !d->track.in_halt) {
		d->track.in_halt = true;
		e->halt_pending++;
	}
	eng_mark_dirty(e, d);
	eng_mark_neighbours_dirty(e, d);
}

/* Stop d and, first, every domain that requires it (transitively). */
static void stop_with_dependents(struct xd_engine *e, struct dom *d, size_t **cascade,
				 size_t *n_cascade, size_t *cap, bool named)
{
	if (d->goal == GOAL_DOWN || d->life.in_doubt)
		return;   /* in doubt: not stopped, so nothing stops first */
	bool was = alive(d) || d->state == XD_WAITING || d->state == XD_STARTING ||
		   d->state == XD_RESTORING || d->state == XD_RESTARTING;
	eng_want_down(e, d, STOP_SHUTDOWN, XD_CAUSE_ON_DEMAND);
	if (!named && was && cascade) {
		XD_GROW(*cascade, *n_cascade, *cap);
		(*cascade)[(*n_cascade)++] = d->slot;
	}
	for (size_t i = 0; i < d->n_rdep; i++)
		if (d->rdep[i].requires)
			stop_with_dependents(e, e->doms[d->rdep[i].slot], cascade, n_cascade, cap, false);
}

void xd_engine_stop(struct xd_engine *e, const size_t *doms, size_t n, size_t **cascade,
		    size_t *n_cascade)
{
	size_t cap = 0;
	if (cascade) {
		*cascade = NULL;
		*n_cascade = 0;
	}
	for (size_t i = 0; i < n; i++)
		stop_with_dependents(e, e->doms[e->cfg_slot[doms[i]]], cascade, n_cascade, &cap, true);
	if (cascade)
		for (size_t i = 0; i < *n_cascade; i++)
			eng_log(e, XD_LOG_NOTICE, e->doms[(*cascade)[i]], "stopping first: it requires a domain being stopped");
	xd_engine_pump(e);
}

void xd_engine_save(struct xd_engine *e, const size_t *doms, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct dom *d = e->doms[e->cfg_slot[doms[i]]];
		if (alive(d))
			eng_want_down(e, d, STOP_SAVE, XD_CAUSE_ON_DEMAND);
	}
	xd_engine_pump(e);
}

static enum stop_kind host_stop_kind(const struct dom *d)
{
	enum xd_host_action a = d->cfg ? d->cfg->on_host_shutdown : XD_HOST_SHUTDOWN;
	switch (a) {
	case XD_HOST_SAVE: return STOP_SAVE;
	case XD_HOST_DESTROY: return STOP_DESTROY;
	case XD_HOST_LEAVE: return STOP_LEAVE;
	case XD_HOST_MIGRATE: return STOP_MIGRATE;
	case XD_HOST_SHUTDOWN: break;
	}
	return STOP_SHUTDOWN;
}

void xd_engine_shutdown_host(struct xd_engine *e)
{
	if (e->halting)
		return;
	e->halting = true;
	e->booting = false;
	eng_adopt_arrivals(e, e->cfg->global.stop_unmanaged, false);
	eng_log(e, XD_LOG_NOTICE, NULL, "host shutdown: stopping domains in reverse dependency order");
	for (size_t s = 0; s < e->n_doms; s++) {
		struct dom *d = e->doms[s];
		if (!d->cfg && !e->cfg->global.stop_unmanaged)
			continue;
		if (d->goal == GOAL_DOWN && !d->track.in_halt && (alive(d) || d->state == XD_WAITING)) {
			d->track.in_halt = true;   /* an on-demand stop already under way */
			e->halt_pending++;
			/* a failed save or migration must not leave it running now */
			d->stop.fallback = d->stop.kind == STOP_SAVE || d->stop.kind == STOP_MIGRATE;
			continue;
		}
		if (d->life.in_doubt) {
			eng_log(e, XD_LOG_WARNING, d, "left as it is (%s--migratedaway): in doubt after a "
				"migration", d->name);
			continue;
		}
		d->goal = GOAL_NONE;
		enum stop_kind k = host_stop_kind(d);
		if (k == STOP_MIGRATE) {
			free(d->stop.host);
			d->stop.host = xd_strdup(d->cfg->migrate_to ? d->cfg->migrate_to : "");
		}
		eng_want_down(e, d, k, XD_CAUSE_HOST_SHUTDOWN);
		d->stop.fallback = d->stop.kind == STOP_SAVE || d->stop.kind == STOP_MIGRATE;
	}
	xd_engine_pump(e);
	eng_check_milestones(e);
}
