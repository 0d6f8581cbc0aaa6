/* SPDX-License-Identifier: ISC */
/*
 * Live migration, at host halt (on_host_shutdown = migrate) and on demand
 * (xendomctl migrate), with the semantics of `xl migrate`
 * (hv_port.h's migrate): the backend runs the protocol; here is what each
 * outcome means for the domain.
 *
 *  - success: the target runs the guest.  The copy left here (suspended,
 *    renamed NAME--migratedaway) is destroyed, as xl destroys it, and the
 *    domain is `inactive` ("migrated to HOST").
 *  - failure before the permission to go: the backend resumed the guest
 *    here.  At halt it is shut down instead (as a failed save is);
 *    on demand it runs on (`running`, "migration to HOST failed: ...").
 *  - contact lost after the go: the guest may be running on the target.
 *    Like xl, nothing resumes the copy here: it stays suspended as
 *    NAME--migratedaway, the domain is `failed` ("in doubt") and from then
 *    on xendomd neither starts, stops, migrates nor destroys it (a halt
 *    leaves it) until it is gone; the log says so at error level.
 *
 * migrate_timeout bounds one migration: it is cancelled then (before the
 * go the backend resumes the guest; after it the answer is "in doubt").
 * At halt, shutdown_timeout runs from the cut as for a cut save, so a
 * domain's share of the halt is at most migrate_timeout + shutdown_timeout.
 */
#include "core/engine/engine_int.h"

#include <stdio.h>
#include <stdlib.h>

static const char *host_of(const struct dom *d)
{
	return d->stop.host ? d->stop.host : "";
}

static const char *command_of(const struct dom *d)
{
	return d->cfg && d->cfg->migrate_command && *d->cfg->migrate_command
	       ? d->cfg->migrate_command : "ssh";
}

static uint64_t migrate_timeout(const struct xd_engine *e, const struct dom *d)
{
	return d->cfg ? d->cfg->migrate_timeout_ms : e->cfg->global.migrate_timeout_ms;
}

static void migrate_failed(struct xd_engine *e, struct dom *d, const char *why)
{
	char what[XD_HOST_MAX + 32];
	snprintf(what, sizeof(what), "migration to %s", host_of(d));
	eng_stop_failed(e, d, what, why);
}

void eng_begin_migrate(struct xd_engine *e, struct dom *d)
{
	const char *host = host_of(d);
	if (!*host || xd_migrate_host_problem(host)) {
		eng_log(e, XD_LOG_ERR, d, "cannot migrate: no usable migrate_to");
		migrate_failed(e, d, "no usable migrate_to");
		return;
	}
	uint64_t op = eng_next_op(e, OP_MIGRATE, d);
	eng_set_state(e, d, XD_MIGRATING, "migrating to %s", host);
	eng_log(e, XD_LOG_NOTICE, d, "%s to %s (migrate_command %s)",
		!d->cfg || d->cfg->migrate_live ? "live migration" : "migration (not live)", host,
		command_of(d));
	bool live = !d->cfg || d->cfg->migrate_live;
	int rc = e->hv->ops->migrate(e->hv, (uint32_t)d->domid, host, command_of(d), live, op);
	if (eng_op_started(e, d, op, rc)) {
		if (migrate_timeout(e, d))
			eng_arm_deadline(e, d, DL_MIGRATE, migrate_timeout(e, d));
		return;
	}
	eng_log(e, XD_LOG_ERR, d, "migration to %s failed: %s", host, hv_strerror(rc));
	migrate_failed(e, d, hv_strerror(rc));
}

/* Contact lost after the go: loud, and hands off. */
static void in_doubt(struct xd_engine *e, struct dom *d, const char *why)
{
	const char *host = host_of(d);
	eng_disarm_timers(e, d);
	eng_release_stop_slot(e, d);
	d->goal = GOAL_NONE;
	d->stop.requested = false;
	d->life.in_doubt = true;
	eng_log(e, XD_LOG_ERR, d, "MIGRATION TO %s IN DOUBT (%.120s): the guest may be running on %s. "
		"The copy here (domid %ld) is left suspended as %.40s--migratedaway and is not resumed: "
		"check both hosts and keep at most one copy (xl destroy the other)",
		host, why, host, d->domid, d->name);
	eng_set_state(e, d, XD_FAILED, "migration to %s in doubt (%.80s): it may run there; left "
		      "suspended here as %.40s--migratedaway; check both hosts", host, why, d->name);
	eng_halt_done(e, d);
	eng_mark_neighbours_dirty(e, d);
}

void eng_on_migrate_done(struct xd_engine *e, struct dom *d, const struct hv_event *ev)
{
	if (!alive(d))
		return;                  /* it died meanwhile: its death said so */
	const char *host = host_of(d);
	if (ev->rc == 0) {
		eng_disarm_timers(e, d);
		eng_log(e, XD_LOG_NOTICE, d, "migrated to %s; destroying the copy left here", host);
		eng_set_pending(d, "migrated to %s", host);
		eng_destroy_domain(e, d, AD_STOPPED);
		return;
	}
	char cut[64];
	snprintf(cut, sizeof(cut), "cancelled after %llu s (migrate_timeout)",
		 (unsigned long long)(migrate_timeout(e, d) / 1000));
	const char *msg = ev->msg[0] ? ev->msg : hv_strerror(ev->rc);
	if (ev->rc == HV_EINDOUBT) {
		in_doubt(e, d, d->stop.cut ? cut : msg);
		return;
	}
	if (d->deadline == DL_MIGRATE) {   /* a cut's DL_STOP runs on */
		xd_timer_disarm(e->timers, &d->t_deadline);
		d->deadline = DL_NONE;
	}
	const char *why = d->stop.cut ? cut : msg;
	eng_log(e, XD_LOG_ERR, d, "migration to %s failed: %s; the guest runs on here", host, why);
	/* Resumed after a suspend: the watch's one shutdown report is spent
	 * (as after a failed save): watch afresh. */
	e->hv->ops->unwatch_domain(e->hv, (uint32_t)d->domid);
	e->hv->ops->watch_domain(e->hv, (uint32_t)d->domid);
	migrate_failed(e, d, why);
}

void eng_migrate_timed_out(struct xd_engine *e, struct dom *d)
{
	unsigned long long secs = (unsigned long long)(migrate_timeout(e, d) / 1000);
	eng_log(e, XD_LOG_WARNING, d, "migration to %s did not finish within %llu s "
		"(migrate_timeout); cancelling it", host_of(d), secs);
	d->stop.cut = true;
	e->hv->ops->cancel(e->hv, d->op);
	eng_set_state(e, d, XD_MIGRATING, "migration to %s cancelled after %llu s (migrate_timeout)",
		      host_of(d), secs);
	if (d->stop.fallback)            /* the halt stays bounded */
		eng_arm_deadline(e, d, DL_STOP, eng_shutdown_timeout(e, d));
}

const char *xd_engine_migrate(struct xd_engine *e, size_t dom, const char *host)
{
	struct dom *d = e->doms[e->cfg_slot[dom]];
	if (d->life.in_doubt)
		return "in doubt after a migration: check both hosts first";
	if (!alive(d) || d->life.husk)
		return "not running";
	if (d->goal == GOAL_DOWN || d->after_death != AD_UNEXPECTED)
		return "already being stopped, saved or migrated";
	if (d->state == XD_STARTING || d->state == XD_RESTORING || d->state == XD_RESTARTING)
		return "still being started";
	if (xd_migrate_host_problem(host))
		return xd_migrate_host_problem(host);
	free(d->stop.host);
	d->stop.host = xd_strdup(host);
	eng_want_down(e, d, STOP_MIGRATE, XD_CAUSE_ON_DEMAND);
	xd_engine_pump(e);
	return NULL;
}
