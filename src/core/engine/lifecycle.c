/* SPDX-License-Identifier: ISC */
/*
 * Lifecycle: a guest that shut itself down or crashed gets its xl cfg
 * policy (on_poweroff, on_reboot, on_crash, on_watchdog, on_soft_reset),
 * bounded by restart_limit; and a domain's death, with exec_stop_post.
 * Decide, then act: the action is computed first (action_for), then
 * performed, as xl does in tools/xl/xl_vmcontrol.c handle_domain_death.
 */
#include "core/engine/engine_int.h"

#include <stdio.h>

#define DUMP_DIR "/var/lib/xen/dump"  /* where xl's coredump-* actions write */

static enum xd_action action_for(const struct dom *d, enum hv_reason r)
{
	const struct xd_domain_cfg *c = d->cfg;
	switch (r) {
	case HV_SD_POWEROFF: return c->on_poweroff;
	case HV_SD_REBOOT: return c->on_reboot;
	case HV_SD_CRASH: return c->on_crash;
	case HV_SD_WATCHDOG: return c->on_watchdog;
	case HV_SD_SOFT_RESET: return c->on_soft_reset;
	default: return XD_ACT_DESTROY;
	}
}

void eng_finish_death(struct xd_engine *e, struct dom *d)
{
	d->tl.stopped = now(e);
	d->stop.requested = false;
	eng_release_stop_slot(e, d);
	enum after_death ad = d->after_death;
	d->after_death = AD_UNEXPECTED;
	switch (ad) {
	case AD_RETRY:
		eng_retry_or_fail(e, d);
		break;
	case AD_RESTART:
		if (d->goal == GOAL_UP && !e->halting) {
			d->attempts = 0;
			d->start.delay_done = true;
			eng_set_state(e, d, XD_WAITING, "%s", pending(d));
			eng_mark_dirty(e, d);
			break;
		}
		d->goal = GOAL_NONE;
		eng_set_state(e, d, XD_INACTIVE, "restart cancelled");
		break;
	case AD_FAILED:
		d->goal = GOAL_NONE;
		eng_set_state(e, d, XD_FAILED, "%s", pending(d));
		break;
	case AD_SAVED:
		d->goal = GOAL_NONE;
		eng_set_state(e, d, XD_SAVED, "%s", pending(d));
		break;
	case AD_STOPPED:
		d->goal = GOAL_NONE;
		eng_set_state(e, d, XD_INACTIVE, "%s", d->pending ? d->pending : "stopped");
		break;
	case AD_UNEXPECTED:
		d->goal = GOAL_NONE;
		eng_set_state(e, d, XD_INACTIVE, "destroyed outside xendomd");
		break;
	}
	eng_set_pending(d, NULL);
	eng_halt_done(e, d);
	eng_mark_neighbours_dirty(e, d);
	eng_requeue_memory_waiters(e);
}

void eng_domain_gone(struct xd_engine *e, struct dom *d)
{
	long old = d->domid;
	eng_unwatch_key(e, d);
	e->hv->ops->unwatch_domain(e->hv, (uint32_t)old);
	eng_map_domid(e, d, -1);
	eng_disarm_timers(e, d);
	eng_release_start_slot(e, d);
	d->life.paused_adopted = false;
	d->life.husk = false;
	d->life.in_doubt = false;        /* the copy in doubt is gone: ours again */
	if (!d->cfg && d->state == XD_RESTORING && d->restore_image) {
		eng_image_failed(e, d, "the domain died while being restored");
		return;
	}
	if (d->state == XD_STARTING || d->state == XD_RESTORING) {
		/* died under our create/unpause: count it as a failed attempt */
		if (d->after_death == AD_UNEXPECTED) {
			eng_set_pending(d, "domain died while starting");
			d->after_death = AD_RETRY;
		}
	}
	if (d->cfg && d->cfg->exec_stop_post) {
		d->domid = old;   /* the hook gets the old domid */
		bool ok = eng_run_hook(e, d, d->cfg->exec_stop_post, true);
		d->domid = -1;
		if (ok)
			return;
		eng_log(e, XD_LOG_ERR, d, "exec_stop_post %s could not be run", d->cfg->exec_stop_post);
	}
	eng_finish_death(e, d);
}

static bool restart_allowed(struct xd_engine *e, struct dom *d)
{
	unsigned limit = d->cfg->restart_limit;
	uint64_t t = now(e), window = d->cfg->restart_window_ms;
	size_t kept = 0;
	for (size_t i = 0; i < d->n_restarts; i++)
		if (t - d->restarts[i] < window)
			d->restarts[kept++] = d->restarts[i];
	d->n_restarts = kept;
	if (kept >= limit)
		return false;
	d->restarts = xd_reallocarray(d->restarts, kept + 1, sizeof(*d->restarts));
	d->restarts[d->n_restarts++] = t;
	return true;
}

static void lifecycle_restart(struct xd_engine *e, struct dom *d, enum hv_reason r, enum xd_action a)
{
	if (e->halting) {
		eng_set_pending(d, "%s during host shutdown", hv_reason_name(r));
		eng_set_state(e, d, XD_STOPPING, "%s", pending(d));
		eng_destroy_domain(e, d, AD_STOPPED);
		return;
	}
	if (!restart_allowed(e, d)) {
		eng_set_pending(d, "restart limit reached (%u in %llu s) after %s", d->cfg->restart_limit,
				(unsigned long long)(d->cfg->restart_window_ms / 1000), hv_reason_name(r));
		eng_set_state(e, d, XD_STOPPING, "%s", pending(d));
		eng_destroy_domain(e, d, AD_FAILED);
		return;
	}
	d->goal = GOAL_UP;
	d->cause = XD_CAUSE_RESTART;
	eng_set_pending(d, "restarting after %s (%s)", hv_reason_name(r), xd_action_name(a));
	eng_set_state(e, d, XD_RESTARTING, "%s", pending(d));
	if (a == XD_ACT_RENAME_RESTART) {
		char renamed[XD_NAME_MAX];
		snprintf(renamed, sizeof(renamed), "%.40s--%ld", d->name, d->domid);
		if (e->hv->ops->rename(e->hv, (uint32_t)d->domid, renamed) == 0) {
			eng_log(e, XD_LOG_NOTICE, d, "kept the old domain as %s", renamed);
			e->hv->ops->unwatch_domain(e->hv, (uint32_t)d->domid);
			eng_map_domid(e, d, -1);
			d->after_death = AD_RESTART;
			eng_finish_death(e, d);
			return;
		}
		eng_log(e, XD_LOG_WARNING, d, "rename to %s failed; destroying instead", renamed);
	}
	eng_destroy_domain(e, d, AD_RESTART);
}

static void core_dump(struct xd_engine *e, struct dom *d)
{
	char file[4096];
	snprintf(file, sizeof(file), "%s/%s", DUMP_DIR, d->name);
	uint64_t op = eng_next_op(e, OP_DUMP, d);
	int rc = e->hv->ops->core_dump(e->hv, (uint32_t)d->domid, file, op);
	if (rc < 0)
		eng_log(e, XD_LOG_ERR, d, "core dump to %s failed: %s", file, hv_strerror(rc));
	else
		eng_log(e, XD_LOG_NOTICE, d, "core dump to %s", file);
}

/* The guest shut itself down (or crashed): apply its xl cfg policy, as
 * xl's per-domain monitor would (tools/xl/xl_vmcontrol.c handle_domain_death). */
static void apply_lifecycle(struct xd_engine *e, struct dom *d, enum hv_reason r)
{
	enum xd_action a = action_for(d, r);
	bool failure = r == HV_SD_CRASH || r == HV_SD_WATCHDOG;
	eng_log(e, failure ? XD_LOG_WARNING : XD_LOG_NOTICE, d, "guest %s; on_%s=%s",
		r == HV_SD_CRASH ? "crashed" : r == HV_SD_REBOOT ? "asked to reboot" :
		r == HV_SD_POWEROFF ? "powered off" : hv_reason_name(r),
		r == HV_SD_SOFT_RESET ? "soft_reset" : hv_reason_name(r), xd_action_name(a));
	eng_disarm_timers(e, d);
	eng_unwatch_key(e, d);
	eng_boot_done(e, d);
	if (a == XD_ACT_COREDUMP_DESTROY || a == XD_ACT_COREDUMP_RESTART)
		core_dump(e, d);
	switch (a) {
	case XD_ACT_PRESERVE:
		d->goal = GOAL_NONE;
		d->life.husk = true;
		eng_set_state(e, d, XD_FAILED, "%s; preserved for inspection (on_%s=preserve)",
			      hv_reason_name(r), hv_reason_name(r));
		eng_mark_neighbours_dirty(e, d);
		return;
	case XD_ACT_RESTART:
	case XD_ACT_RENAME_RESTART:
	case XD_ACT_COREDUMP_RESTART:
	case XD_ACT_SOFT_RESET:
		lifecycle_restart(e, d, r, a);
		return;
	case XD_ACT_DESTROY:
	case XD_ACT_COREDUMP_DESTROY:
		eng_set_pending(d, "%s", r == HV_SD_POWEROFF ? "powered off by the guest" : hv_reason_name(r));
		eng_set_state(e, d, XD_STOPPING, "%s", pending(d));
		eng_destroy_domain(e, d, failure ? AD_FAILED : AD_STOPPED);
		return;
	}
}

void eng_on_shutdown(struct xd_engine *e, struct dom *d, enum hv_reason r)
{
	if (d->after_death != AD_UNEXPECTED)
		return;                       /* already on its way out */
	if (r == HV_SD_SUSPEND)
		return;                       /* a save (ours or xl's): the domain goes next */
	if (d->stop.requested && d->state == XD_STOPPING) {
		xd_timer_disarm(e->timers, &d->t_deadline);
		eng_set_pending(d, "stopped (%s)", hv_reason_name(r));
		eng_destroy_domain(e, d, AD_STOPPED);
		return;
	}
	if (!d->cfg) {
		/* Unmanaged: it may have its own xl monitor; never double-handle. */
		return;
	}
	if (d->state == XD_STARTING || d->state == XD_RESTORING) {
		eng_attempt_failed(e, d, "domain shut down (%s) while starting", hv_reason_name(r));
		return;
	}
	apply_lifecycle(e, d, r);
}
