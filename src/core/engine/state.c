/* SPDX-License-Identifier: ISC */
/*
 * State bookkeeping: the one place where a domain's state, its reason and
 * the tally change, the dirty list that drives re-evaluation, the per-domain
 * timers, the domid map and the log lines about a domain.
 */
#include "core/engine/engine_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void eng_log(struct xd_engine *e, enum xd_log_level lvl, const struct dom *d,
	     const char *fmt, ...)
{
	if (!e->env.log)
		return;
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	e->env.log(e->env.ctx, lvl, d ? d->name : NULL, d ? d->domid : -1, msg);
}

/* The pending reason lives on the heap: most domains never have one. */
void eng_vset_pending(struct dom *d, const char *fmt, va_list ap)
{
	free(d->pending);
	d->pending = fmt ? xd_vasprintf(fmt, ap) : NULL;
}

void eng_set_pending(struct dom *d, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	eng_vset_pending(d, fmt, ap);
	va_end(ap);
}

void eng_map_domid(struct xd_engine *e, struct dom *d, long domid)
{
	e->tally.alive += (domid >= 0) - (d->domid >= 0);
	if (d->domid >= 0 && (size_t)d->domid < e->n_by_domid &&
	    e->by_domid[d->domid] == d->slot + 1)
		e->by_domid[d->domid] = 0;
	d->domid = domid;
	if (domid < 0)
		return;
	if ((size_t)domid >= e->n_by_domid) {
		size_t n = e->n_by_domid ? e->n_by_domid : 1024;
		while (n <= (size_t)domid)
			n *= 2;
		e->by_domid = xd_reallocarray(e->by_domid, n, sizeof(*e->by_domid));
		memset(e->by_domid + e->n_by_domid, 0, (n - e->n_by_domid) * sizeof(*e->by_domid));
		e->n_by_domid = n;
	}
	e->by_domid[domid] = (uint32_t)(d->slot + 1);
}

struct dom *eng_dom_by_domid(const struct xd_engine *e, uint32_t domid)
{
	if (domid >= e->n_by_domid || !e->by_domid[domid])
		return NULL;
	return e->doms[e->by_domid[domid] - 1];
}

static bool settled_for_boot(enum xd_state s)
{
	return s == XD_RUNNING || s == XD_FAILED || s == XD_INACTIVE || s == XD_SAVED;
}

void eng_boot_done(struct xd_engine *e, struct dom *d)
{
	if (!d->track.in_boot)
		return;
	d->track.in_boot = false;
	e->boot_pending--;
}

void eng_halt_done(struct xd_engine *e, struct dom *d)
{
	if (!d->track.in_halt)
		return;
	d->track.in_halt = false;
	e->halt_pending--;
}

void eng_set_state(struct xd_engine *e, struct dom *d, enum xd_state s, const char *fmt, ...)
{
	char reason[XD_REASON_MAX] = "";
	if (fmt) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(reason, sizeof(reason), fmt, ap);
		va_end(ap);
	}
	if (d->state == s && strcmp(d->reason ? d->reason : "", reason) == 0)
		return;
	if (d->state != s)
		d->since = now(e);
	if (d->cfg) {
		e->tally.state[d->state]--;
		e->tally.state[s]++;
	}
	d->state = s;
	free(d->reason);
	d->reason = reason[0] ? xd_strdup(reason) : NULL;
	if (settled_for_boot(s))
		eng_boot_done(e, d);
	if (!alive(d) && (s == XD_INACTIVE || s == XD_SAVED || s == XD_FAILED))
		eng_halt_done(e, d);
	if (d->goal == GOAL_DOWN)
		eng_mark_dirty(e, d);   /* a stop may have been waiting for this */
	if (e->env.changed) {
		struct xd_dom_status st;
		xd_engine_status(e, d->slot, &st);
		e->env.changed(e->env.ctx, d->slot, &st);
	}
}

void eng_mark_dirty(struct xd_engine *e, struct dom *d)
{
	if (d->track.dirty)
		return;
	d->track.dirty = true;
	XD_GROW(e->dirty, e->n_dirty, e->cap_dirty);
	e->dirty[e->n_dirty++] = d->slot;
}

void eng_mark_neighbours_dirty(struct xd_engine *e, struct dom *d)
{
	for (size_t i = 0; i < d->n_req; i++)
		eng_mark_dirty(e, e->doms[d->req[i]]);
	for (size_t i = 0; i < d->n_aft; i++)
		eng_mark_dirty(e, e->doms[d->aft[i]]);
	for (size_t i = 0; i < d->n_rdep; i++)
		eng_mark_dirty(e, e->doms[d->rdep[i].slot]);
}

void eng_arm_wake(struct xd_engine *e, struct dom *d, enum wake_kind k, uint64_t in_ms)
{
	d->wake = k;
	xd_timer_arm_in(e->timers, &d->t_wake, in_ms);
}

void eng_arm_deadline(struct xd_engine *e, struct dom *d, enum deadline_kind k, uint64_t in_ms)
{
	d->deadline = k;
	xd_timer_arm_in(e->timers, &d->t_deadline, in_ms);
}

void eng_disarm_timers(struct xd_engine *e, struct dom *d)
{
	xd_timer_disarm(e->timers, &d->t_wake);
	xd_timer_disarm(e->timers, &d->t_deadline);
	d->wake = WK_NONE;
	d->deadline = DL_NONE;
}

/* Managed or not changes with reloads; the tally follows. */
void eng_set_cfg(struct xd_engine *e, struct dom *d, const struct xd_domain_cfg *cfg)
{
	if (d->cfg) {
		e->tally.state[d->state]--;
		e->tally.managed--;
	}
	d->cfg = cfg;
	if (cfg) {
		e->tally.state[d->state]++;
		e->tally.managed++;
	}
}
