/* SPDX-License-Identifier: ISC */
/*
 * The orchestration engine (engine.h).
 *
 * Every domain has a goal (up, down, or none) and a state (engine.h).
 * Commands only set goals; evaluate() turns goals into work when the
 * dependency rules allow it, level-triggered, so the same code serves the
 * boot, on-demand commands, lifecycle restarts, reloads and the host
 * shutdown.  Whenever a domain changes in a way its neighbours care about,
 * they are marked dirty and re-evaluated in xd_engine_pump(); nothing scans
 * every domain per event, so 10,000 domains cost little.
 *
 * Domains live in stable slots: slot i is config domain i until a reload
 * appends new ones; domains that are running but not configured
 * ("unmanaged") get slots too.  An op id carries its slot and type, so a
 * completion finds its domain in O(1), and a stale completion (of an op we
 * gave up on) is recognised.
 *
 * This file: construction, the pump, timer dispatch and the queries; the
 * other concerns have a file each (engine_int.h lists them).
 */
#include "core/engine/engine_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *xd_state_name(enum xd_state s)
{
	static const char *const names[] = {
		"inactive", "waiting", "starting", "restoring", "booting", "running",
		"stopping", "saving", "saved", "failed", "restarting", "migrating",
	};
	return (unsigned)s < sizeof(names) / sizeof(names[0]) ? names[s] : "?";
}

const char *xd_cause_name(enum xd_cause c)
{
	switch (c) {
	case XD_CAUSE_BOOT: return "boot";
	case XD_CAUSE_ON_DEMAND: return "on-demand";
	case XD_CAUSE_RESTART: return "restart";
	case XD_CAUSE_HOST_SHUTDOWN: return "host-shutdown";
	}
	return "?";
}

static void on_hv_event(struct xd_engine *e, const struct hv_event *ev)
{
	struct dom *d;
	switch (ev->kind) {
	case HV_EV_OP_DONE:
		eng_on_op_done(e, ev);
		break;
	case HV_EV_SHUTDOWN:
		if ((d = eng_dom_by_domid(e, ev->domid)))
			eng_on_shutdown(e, d, ev->reason);
		break;
	case HV_EV_DEATH:
		if ((d = eng_dom_by_domid(e, ev->domid)))
			eng_domain_gone(e, d);
		break;
	case HV_EV_KEY:
		if ((d = eng_dom_by_domid(e, ev->domid)) && d->cfg && strcmp(ev->path, eng_ready_key(d)) == 0)
			eng_check_ready_key(e, d);
		break;
	case HV_EV_FATAL:
		eng_log(e, XD_LOG_ERR, NULL, "hypervisor backend: %s", ev->msg);
		break;
	}
}

void eng_check_milestones(struct xd_engine *e)
{
	if (e->booting && e->boot_pending == 0 && !eng_restore_images(e)) {
		e->booting = false;
		if (e->env.boot_settled)
			e->env.boot_settled(e->env.ctx);
	}
	if (e->halting && e->halt_pending == 0 && e->hooks_inflight == 0) {
		e->halting = false;
		e->host_shut = true;
		if (e->env.host_down)
			e->env.host_down(e->env.ctx);
	}
}

void xd_engine_pump(struct xd_engine *e)
{
	if (e->pumping)
		return;
	e->pumping = true;
	for (;;) {
		struct hv_event ev;
		bool worked = false;
		while (hv_next_event(e->hv, &ev)) {
			on_hv_event(e, &ev);
			worked = true;
		}
		while (e->n_dirty) {
			struct dom *d = e->doms[e->dirty[--e->n_dirty]];
			d->track.dirty = false;
			eng_evaluate(e, d);
			worked = true;
		}
		eng_dispatch_stops(e);
		eng_dispatch_starts(e);
		if (!worked && !e->n_dirty && !e->hv->q.n)
			break;
	}
	e->pumping = false;
	eng_check_milestones(e);
}

static void wake_fired(struct xd_timer *t, void *arg)
{
	(void)t;
	struct dom *d = arg;
	struct xd_engine *e = d->e;
	enum wake_kind k = d->wake;
	d->wake = WK_NONE;
	switch (k) {
	case WK_START_DELAY:
		d->start.delay_done = true;
		eng_mark_dirty(e, d);
		break;
	case WK_RETRY:
		d->start.retry_wait = false;
		eng_mark_dirty(e, d);
		break;
	case WK_READY_DELAY:
		if (d->state == XD_BOOTING)
			eng_become_ready(e, d);
		break;
	case WK_KEY_CHECK:
		eng_check_ready_key(e, d);
		break;
	case WK_NONE:
		break;
	}
	xd_engine_pump(e);
}

static void deadline_fired(struct xd_timer *t, void *arg)
{
	(void)t;
	struct dom *d = arg;
	struct xd_engine *e = d->e;
	enum deadline_kind k = d->deadline;
	d->deadline = DL_NONE;
	switch (k) {
	case DL_START:
		eng_start_timed_out(e, d);
		break;
	case DL_READY:
		eng_ready_timed_out(e, d);
		break;
	case DL_STOP:
		eng_stop_timed_out(e, d);
		break;
	case DL_MEMORY:
		eng_memory_timed_out(e, d);
		break;
	case DL_SAVE:
		eng_save_timed_out(e, d);
		break;
	case DL_MIGRATE:
		eng_migrate_timed_out(e, d);
		break;
	case DL_NONE:
		break;
	}
	xd_engine_pump(e);
}

struct dom *eng_add_dom(struct xd_engine *e, const char *name, const struct xd_domain_cfg *cfg,
			size_t order)
{
	if (e->n_doms >= (1u << 24)) {
		fputs("xendomd: too many domains\n", stderr);
		abort();
	}
	struct dom *d = xd_malloc0(sizeof(*d));
	d->e = e;
	d->slot = e->n_doms;
	d->order = order;
	snprintf(d->name, sizeof(d->name), "%s", name);
	d->domid = -1;
	d->since = now(e);
	d->tl = (struct xd_timeline){ XD_NEVER, XD_NEVER, XD_NEVER, XD_NEVER, XD_NEVER, XD_NEVER, 0 };
	xd_timer_init(&d->t_wake, wake_fired, d);
	xd_timer_init(&d->t_deadline, deadline_fired, d);
	eng_set_cfg(e, d, cfg);
	XD_GROW(e->doms, e->n_doms, e->cap_doms);
	e->doms[e->n_doms++] = d;
	xd_index_add(&e->by_name, d->slot);
	return d;
}

static const char *slot_name(const void *ctx, size_t slot)
{
	const struct xd_engine *e = ctx;
	return e->doms[slot]->name;
}

/* O(1): a reload looks up every domain of the new configuration. */
struct dom *eng_find_by_name(const struct xd_engine *e, const char *name)
{
	long s = xd_index_find(&e->by_name, name);
	return s < 0 ? NULL : e->doms[s];
}

static void add_rdep(struct dom *on, size_t slot, bool requires)
{
	XD_GROW(on->rdep, on->n_rdep, on->cap_rdep);
	on->rdep[on->n_rdep++] = (struct rdep){ slot, requires };
}

static size_t *map_indices(const struct xd_engine *e, const size_t *idx, size_t n)
{
	size_t *v = xd_calloc(n, sizeof(*v));
	for (size_t i = 0; i < n; i++)
		v[i] = e->cfg_slot[idx[i]];
	return v;
}

/* (Re)build the dependency edges of every managed slot from e->cfg. */
void eng_build_graph(struct xd_engine *e)
{
	for (size_t s = 0; s < e->n_doms; s++) {
		struct dom *d = e->doms[s];
		free(d->req);
		free(d->aft);
		d->req = d->aft = NULL;
		d->n_req = d->n_aft = d->n_rdep = 0;
	}
	for (size_t s = 0; s < e->n_doms; s++) {
		struct dom *d = e->doms[s];
		if (!d->cfg)
			continue;
		d->req = map_indices(e, d->cfg->requires, d->cfg->n_requires);
		d->n_req = d->cfg->n_requires;
		d->aft = map_indices(e, d->cfg->after, d->cfg->n_after);
		d->n_aft = d->cfg->n_after;
		for (size_t i = 0; i < d->n_req; i++)
			add_rdep(e->doms[d->req[i]], s, true);
		for (size_t i = 0; i < d->n_aft; i++)
			add_rdep(e->doms[d->aft[i]], s, false);
	}
}

struct xd_engine *xd_engine_new(const struct xd_config *cfg, const struct xd_engine_env *env)
{
	struct xd_engine *e = xd_malloc0(sizeof(*e));
	e->cfg = cfg;
	e->env = *env;
	e->timers = env->timers;
	e->hv = env->hv;
	xd_timer_init(&e->mem_timer, eng_mem_timer_fired, e);
	xd_index_init(&e->by_name, slot_name, e);
	e->cfg_slot = xd_calloc(cfg->n_domains, sizeof(*e->cfg_slot));
	for (size_t i = 0; i < cfg->n_domains; i++)
		e->cfg_slot[i] = eng_add_dom(e, cfg->domains[i].name, &cfg->domains[i], i)->slot;
	eng_build_graph(e);
	eng_update_priorities(e);   /* equal weights until xd_engine_set_weights */
	return e;
}

void xd_engine_free(struct xd_engine *e)
{
	if (!e)
		return;
	for (size_t s = 0; s < e->n_doms; s++) {
		struct dom *d = e->doms[s];
		eng_disarm_timers(e, d);
		free(d->req);
		free(d->aft);
		free(d->rdep);
		free(d->restarts);
		free(d->restore_image);
		free(d->stop.host);
		if (d->image_cfg)
			xd_domain_cfg_free(d->image_cfg);
		free(d->image_cfg);
		free(d->pending);
		free(d->reason);
		free(d);
	}
	xd_timer_disarm(e->timers, &e->mem_timer);
	xd_index_free(&e->by_name);
	free(e->doms);
	free(e->cfg_slot);
	free(e->by_domid);
	free(e->dirty);
	free(e->runq.v);
	free(e->stopq.v);
	free(e->memq);
	free(e->imgq);
	free(e);
}

size_t xd_engine_count(const struct xd_engine *e)
{
	return e->n_doms;
}

void xd_engine_status(const struct xd_engine *e, size_t slot, struct xd_dom_status *st)
{
	const struct dom *d = e->doms[slot];
	*st = (struct xd_dom_status){
		.name = d->name,
		.state = d->state,
		.domid = d->domid,
		.reason = d->reason,
		.attempts = d->attempts,
		.since_ms = d->since,
		.managed = d->cfg != NULL,
	};
}

void xd_engine_timeline(const struct xd_engine *e, size_t slot, struct xd_timeline *tl)
{
	*tl = e->doms[slot]->tl;
}

bool xd_engine_idle(const struct xd_engine *e)
{
	if (e->ops_inflight || e->hooks_inflight || e->n_dirty || e->runq.n || e->n_memq)
		return false;
	for (size_t s = 0; s < e->n_doms; s++) {
		const struct dom *d = e->doms[s];
		if (xd_timer_armed(&d->t_wake) || xd_timer_armed(&d->t_deadline))
			return false;
	}
	return true;
}

void xd_engine_tally(const struct xd_engine *e, struct xd_tally *t)
{
	*t = e->tally;
}
