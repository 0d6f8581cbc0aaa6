/* SPDX-License-Identifier: ISC */
/*
 * Starting: one attempt (exec_start_pre, create or restore, unpause), its
 * failure and the retry with backoff, a failed restore's policy, and the
 * boot and start commands, which only set goals.
 */
#include "core/engine/engine_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RETRY_DELAY_CAP_MS 300000

/* Give up on starting d; requires-dependents learn it when re-evaluated. */
void eng_fail_domain(struct xd_engine *e, struct dom *d, const char *fmt, ...)
{
	char reason[XD_REASON_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	eng_disarm_timers(e, d);
	eng_release_start_slot(e, d);
	d->goal = GOAL_NONE;
	d->start.retry_wait = false;
	eng_set_state(e, d, XD_FAILED, "%s", reason);
	eng_mark_neighbours_dirty(e, d);
}

static uint64_t retry_delay(const struct dom *d)
{
	uint64_t delay = d->cfg->retry_delay_ms;
	for (unsigned i = 1; i < d->attempts && delay < RETRY_DELAY_CAP_MS; i++)
		delay *= 2;
	return delay < RETRY_DELAY_CAP_MS ? delay : RETRY_DELAY_CAP_MS;
}

void eng_retry_or_fail(struct xd_engine *e, struct dom *d)
{
	if (d->goal != GOAL_UP) {
		eng_set_state(e, d, XD_INACTIVE, "start abandoned: %s", pending(d));
		eng_mark_neighbours_dirty(e, d);
		return;
	}
	if (d->attempts > d->cfg->start_retries) {
		eng_fail_domain(e, d, "%s (gave up after %u attempts)", pending(d), d->attempts);
		return;
	}
	uint64_t delay = retry_delay(d);
	d->start.retry_wait = true;
	eng_arm_wake(e, d, WK_RETRY, delay);
	eng_set_state(e, d, XD_WAITING, "retry in %.1f s after attempt %u of %u failed: %s",
		      (double)delay / 1000, d->attempts, d->cfg->start_retries + 1, pending(d));
}

void eng_attempt_failed(struct xd_engine *e, struct dom *d, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	eng_vset_pending(d, fmt, ap);
	va_end(ap);
	eng_log(e, XD_LOG_WARNING, d, "start attempt %u failed: %s", d->attempts, pending(d));
	eng_disarm_timers(e, d);
	eng_release_start_slot(e, d);
	eng_unwatch_key(e, d);
	d->op = 0;
	if (alive(d)) {
		/* A half-built domain holds the name; wait for it to go. */
		eng_destroy_domain(e, d, AD_RETRY);
		return;
	}
	eng_retry_or_fail(e, d);
}

static void restore_failed(struct xd_engine *e, struct dom *d, const char *why)
{
	if (e->cfg->global.on_restore_failure == XD_RESTORE_BOOT) {
		eng_log(e, XD_LOG_WARNING, d, "restore from %s failed (%s); booting instead, image set aside",
			d->restore_image, why);
		if (e->env.discard_image)
			e->env.discard_image(e->env.ctx, d->restore_image, true);
		free(d->restore_image);
		d->restore_image = NULL;
		d->attempts = 0;
		eng_retry_or_fail(e, d);   /* attempts 0 <= retries: queued again at once-ish */
		return;
	}
	eng_fail_domain(e, d, "restore from %s failed: %s (file kept; on_restore_failure=fail)",
			d->restore_image, why);
}

void eng_do_create(struct xd_engine *e, struct dom *d)
{
	int rc;
	uint64_t op;
	d->start.restoring = d->restore_image != NULL;
	if (d->start.restoring) {
		op = eng_next_op(e, OP_RESTORE, d);
		eng_set_state(e, d, XD_RESTORING, "restoring from %s", d->restore_image);
		rc = e->hv->ops->restore(e->hv, d->cfg, d->restore_image, op);
	} else {
		op = eng_next_op(e, OP_CREATE, d);
		eng_set_state(e, d, XD_STARTING, "attempt %u of %u", d->attempts, d->cfg->start_retries + 1);
		rc = e->hv->ops->create(e->hv, d->cfg, op);
	}
	if (eng_op_started(e, d, op, rc))
		return;
	if (d->start.restoring) {
		eng_release_start_slot(e, d);
		eng_disarm_timers(e, d);
		restore_failed(e, d, hv_strerror(rc));
	} else {
		eng_attempt_failed(e, d, "create: %s", hv_strerror(rc));
	}
}

void eng_start_attempt(struct xd_engine *e, struct dom *d, uint64_t need_kb)
{
	d->attempts++;
	d->tl.attempts = d->attempts;
	if (d->tl.started == XD_NEVER)
		d->tl.started = now(e);
	d->start.holds_slot = true;
	e->starts_inflight++;
	d->reserved_kb = need_kb;
	e->reserved_kb += need_kb;
	eng_arm_deadline(e, d, DL_START, e->cfg->global.start_timeout_ms);
	if (d->cfg->exec_start_pre) {
		eng_set_state(e, d, XD_STARTING, "running exec_start_pre (attempt %u)", d->attempts);
		if (!eng_run_hook(e, d, d->cfg->exec_start_pre, false))
			eng_attempt_failed(e, d, "exec_start_pre %s could not be run", d->cfg->exec_start_pre);
		return;
	}
	eng_do_create(e, d);
}

static void discard_restored_image(struct xd_engine *e, struct dom *d)
{
	if (!d->restore_image)
		return;
	if (e->env.discard_image && e->env.discard_image(e->env.ctx, d->restore_image, false) < 0)
		eng_log(e, XD_LOG_WARNING, d, "could not remove restored image %s", d->restore_image);
	free(d->restore_image);
	d->restore_image = NULL;
}

void eng_on_create_done(struct xd_engine *e, struct dom *d, const struct hv_event *ev)
{
	if (!d->cfg) {
		eng_image_restored(e, d, ev);
		return;
	}
	if (ev->rc < 0) {
		if (d->start.restoring) {
			eng_release_start_slot(e, d);
			eng_disarm_timers(e, d);
			restore_failed(e, d, ev->msg[0] ? ev->msg : hv_strerror(ev->rc));
		} else {
			eng_attempt_failed(e, d, "%s", ev->msg[0] ? ev->msg : hv_strerror(ev->rc));
		}
		eng_requeue_memory_waiters(e);
		return;
	}
	eng_map_domid(e, d, ev->domid);
	d->tl.created = now(e);
	e->hv->ops->watch_domain(e->hv, ev->domid);
	if (d->goal == GOAL_DOWN) {
		/* never ran: nothing to shut down cleanly */
		eng_release_start_slot(e, d);
		eng_disarm_timers(e, d);
		eng_set_state(e, d, XD_STOPPING, "created while being stopped; destroying");
		eng_destroy_domain(e, d, AD_STOPPED);
		return;
	}
	/* the memory is the domain's now, not a promise */
	e->reserved_kb -= d->reserved_kb;
	d->reserved_kb = 0;
	uint64_t op = eng_next_op(e, OP_UNPAUSE, d);
	int rc = e->hv->ops->unpause(e->hv, ev->domid, op);
	if (!eng_op_started(e, d, op, rc))
		eng_attempt_failed(e, d, "unpause: %s", hv_strerror(rc));
}

void eng_on_unpause_done(struct xd_engine *e, struct dom *d, const struct hv_event *ev)
{
	if (!d->cfg) {
		eng_image_unpaused(e, d, ev);
		return;
	}
	if (ev->rc < 0) {
		eng_attempt_failed(e, d, "unpause: %s", ev->msg[0] ? ev->msg : hv_strerror(ev->rc));
		return;
	}
	xd_timer_disarm(e->timers, &d->t_deadline);
	eng_release_start_slot(e, d);
	if (d->start.restoring) {
		/* Readiness was established before the save. */
		d->start.restoring = false;
		discard_restored_image(e, d);
		eng_become_ready(e, d);
		return;
	}
	eng_start_readiness(e, d);
}

/* start_timeout passed: the attempt (or the restore) has failed. */
void eng_start_timed_out(struct xd_engine *e, struct dom *d)
{
	if (!d->cfg) {
		eng_image_timed_out(e, d);
		return;
	}
	if (d->op) {
		e->hv->ops->cancel(e->hv, d->op);
		d->op = 0;
		e->ops_inflight--;
	}
	if (d->start.restoring) {
		eng_release_start_slot(e, d);
		restore_failed(e, d, "timed out");
	} else {
		eng_attempt_failed(e, d, "timed out after %llu s (start_timeout)",
				   (unsigned long long)(e->cfg->global.start_timeout_ms / 1000));
	}
}

static void find_restore_image(struct xd_engine *e, struct dom *d)
{
	if (!e->cfg->global.restore_on_boot || d->restore_image || alive(d))
		return;
	char file[4096], msg[256] = "";
	snprintf(file, sizeof(file), "%s/%s", e->cfg->global.save_dir, d->name);
	int rc = e->hv->ops->image_check(e->hv, file, msg, sizeof(msg));
	if (rc == HV_ENOENT)
		return;
	d->restore_image = xd_strdup(file);
	if (rc < 0) {
		/* A bad image goes through the same policy as a failed restore. */
		d->start.restoring = true;
		restore_failed(e, d, msg[0] ? msg : hv_strerror(rc));
		d->start.restoring = false;
	}
}

/* A domain whose own configuration is broken (degraded boot) is never
 * created: it is failed with the loader's "FILE:LINE: message". */
bool eng_config_broken(struct xd_engine *e, struct dom *d)
{
	if (!d->cfg || !d->cfg->config_error)
		return false;
	char reason[XD_REASON_MAX];
	snprintf(reason, sizeof(reason), "configuration: %s", d->cfg->config_error);
	if (d->state != XD_FAILED || !d->reason || strcmp(d->reason, reason) != 0) {
		eng_disarm_timers(e, d);
		eng_release_start_slot(e, d);
		d->goal = GOAL_NONE;
		eng_boot_done(e, d);
		eng_set_state(e, d, XD_FAILED, "%s", reason);
		eng_mark_neighbours_dirty(e, d);
	}
	return true;
}

/* Set d (and, transitively, what it requires) to be started. */
void eng_want_up(struct xd_engine *e, struct dom *d, enum xd_cause cause, bool boot)
{
	if (!d->cfg || d->goal == GOAL_UP || eng_config_broken(e, d))
		return;
	if (alive(d) && (d->state == XD_RUNNING || d->state == XD_BOOTING))
		return;
	if (alive(d) && (d->goal == GOAL_DOWN || d->after_death != AD_UNEXPECTED))
		return;   /* on its way down; a start afterwards is a new command */
	if (d->life.in_doubt) {
		/* It may run on the migration's target: a second copy would
		 * corrupt its disks.  Only its end (xl destroy) frees the name. */
		eng_log(e, XD_LOG_WARNING, d, "not started: in doubt after a migration (the copy "
			"here is %s--migratedaway); check both hosts first", d->name);
		return;
	}
	if (alive(d) && d->state == XD_FAILED) {
		d->goal = GOAL_UP;
		d->cause = cause;
		if (d->life.husk) {
			/* a preserved crashed domain: replace it */
			eng_set_pending(d, "replacing the preserved domain");
			eng_set_state(e, d, XD_RESTARTING, "%s", pending(d));
			eng_destroy_domain(e, d, AD_RESTART);
		} else {
			eng_start_readiness(e, d);   /* failed readiness: wait for it again */
		}
		return;
	}
	d->goal = GOAL_UP;
	d->cause = cause;
	d->attempts = 0;
	d->start.delay_done = false;
	d->start.retry_wait = false;
	d->tl = (struct xd_timeline){ now(e), XD_NEVER, XD_NEVER, XD_NEVER, XD_NEVER, XD_NEVER, 0 };
	if (boot && !d->track.in_boot) {
		d->track.in_boot = true;
		e->boot_pending++;
	}
	if (d->state == XD_FAILED || d->state == XD_SAVED || d->state == XD_INACTIVE)
		eng_set_state(e, d, XD_WAITING, "queued");
	eng_mark_dirty(e, d);
	for (size_t i = 0; i < d->n_req; i++)
		eng_want_up(e, e->doms[d->req[i]], cause, boot);
}

void xd_engine_boot(struct xd_engine *e)
{
	e->booting = true;
	for (size_t s = 0; s < e->n_doms; s++) {
		struct dom *d = e->doms[s];
		if (eng_config_broken(e, d))
			continue;
		if (d->cfg && !alive(d))
			find_restore_image(e, d);
		if (d->cfg && d->state == XD_BOOTING && !d->track.in_boot) {
			/* adopted, readiness not yet seen: part of this boot */
			d->track.in_boot = true;
			e->boot_pending++;
		}
	}
	for (size_t s = 0; s < e->n_doms; s++) {
		struct dom *d = e->doms[s];
		if (d->cfg && (d->cfg->autostart || d->restore_image) && d->state != XD_FAILED)
			eng_want_up(e, d, XD_CAUSE_BOOT, true);
	}
	xd_engine_pump(e);
}

void xd_engine_start(struct xd_engine *e, const size_t *doms, size_t n, enum xd_cause cause)
{
	/* one that arrived (by hand, by migration) is taken, not created again */
	bool any = false;
	for (size_t i = 0; i < n; i++) {
		struct dom *d = e->doms[e->cfg_slot[doms[i]]];
		d->life.pick = !alive(d);
		any |= d->life.pick;
	}
	if (any)
		eng_adopt_arrivals(e, false, true);
	for (size_t i = 0; i < n; i++)
		e->doms[e->cfg_slot[doms[i]]]->life.pick = false;
	for (size_t i = 0; i < n; i++) {
		struct dom *d = e->doms[e->cfg_slot[doms[i]]];
		if (d->goal == GOAL_DOWN && !alive(d))
			d->goal = GOAL_NONE;
		if (!d->cfg->config_error)
			find_restore_image(e, d);
		eng_want_up(e, d, cause, false);
	}
	xd_engine_pump(e);
}
