/* SPDX-License-Identifier: ISC */
/* The engine stand-in of the control tests (fake_engine.h). */
#include "fake_engine.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void op_status(const void *ctx, size_t dom, struct xd_dom_status *st);

static uint64_t now(const struct fake_engine *e)
{
	return xd_timers_now(e->env.timers);
}

void fake_set(struct fake_engine *e, struct fake_dom *d, enum xd_state s, long domid,
	      const char *reason)
{
	d->state = s;
	d->domid = domid;
	snprintf(d->reason, sizeof(d->reason), "%s", reason ? reason : "");
	d->since = now(e);
	struct xd_dom_status st;
	op_status(e, (size_t)(d - e->doms), &st);
	if (e->env.changed)
		e->env.changed(e->env.ctx, (size_t)(d - e->doms), &st);
}

struct fake_dom *fake_dom(struct fake_engine *e, const char *name)
{
	for (size_t i = 0; i < e->n; i++)
		if (strcmp(e->doms[i].name, name) == 0)
			return &e->doms[i];
	return NULL;
}

static bool alive(const struct fake_dom *d)
{
	return d->domid >= 0;
}

static bool all_down(const struct fake_engine *e)
{
	for (size_t i = 0; i < e->n; i++)
		if (alive(&e->doms[i]) || e->doms[i].state == XD_STOPPING)
			return false;
	return true;
}

static void transition_done(struct xd_timer *t, void *arg)
{
	(void)t;
	struct fake_dom *d = arg;
	struct fake_engine *e = d->e;
	switch (d->next) {
	case XD_RUNNING:
		if (d->fail_start) {
			fake_set(e, d, XD_FAILED, -1, "create failed: fake");
			return;
		}
		d->tl.created = d->tl.ready = now(e);
		fake_set(e, d, XD_RUNNING, e->next_domid++, NULL);
		return;
	case XD_SAVED:
		if (d->fail_save) {
			fake_set(e, d, XD_RUNNING, d->domid, "save failed: fake");
			return;
		}
		fake_set(e, d, XD_SAVED, -1, NULL);
		return;
	case XD_MIGRATING: {
		char why[XD_REASON_MAX + 128];
		if (d->fail_migrate) {
			snprintf(why, sizeof(why), "migration to %s failed: fake", d->migrate_host);
			fake_set(e, d, XD_RUNNING, d->domid, why);
		} else if (d->migrate_in_doubt) {
			snprintf(why, sizeof(why), "migration to %s in doubt (fake)", d->migrate_host);
			fake_set(e, d, XD_FAILED, d->domid, why);
		} else {
			snprintf(why, sizeof(why), "migrated to %s", d->migrate_host);
			fake_set(e, d, XD_INACTIVE, -1, why);
		}
		return;
	}
	default:
		d->tl.stopped = now(e);
		fake_set(e, d, d->next, -1, NULL);
		if (e->halting && all_down(e) && e->env.host_down)
			e->env.host_down(e->env.ctx);
		return;
	}
}

static void begin(struct fake_engine *e, struct fake_dom *d, enum xd_state via, enum xd_state to)
{
	d->next = to;
	fake_set(e, d, via, d->domid, NULL);
	(void)xd_timer_arm_in(e->env.timers, &d->t, e->op_ms);
}

static struct fake_dom *add(struct fake_engine *e, const char *name, long cfg_index)
{
	struct fake_dom *d = &e->doms[e->n++];
	*d = (struct fake_dom){ .domid = -1, .managed = cfg_index >= 0, .cfg_index = cfg_index,
				.e = e, .since = now(e) };
	snprintf(d->name, sizeof(d->name), "%s", name);
	d->tl = (struct xd_timeline){ XD_NEVER, XD_NEVER, XD_NEVER, XD_NEVER, XD_NEVER, XD_NEVER, 0 };
	xd_timer_init(&d->t, transition_done, d);
	return d;
}

struct fake_engine *fake_engine_new(const struct xd_config *cfg, const struct xd_engine_env *env)
{
	struct fake_engine *e = calloc(1, sizeof(*e));
	e->cfg = cfg;
	e->env = *env;
	e->op_ms = 20;
	e->next_domid = 1;
	for (size_t i = 0; i < cfg->n_domains; i++)
		add(e, cfg->domains[i].name, (long)i);
	return e;
}

void fake_engine_free(struct fake_engine *e)
{
	for (size_t i = 0; i < e->n; i++)
		xd_timer_disarm(e->env.timers, &e->doms[i].t);
	free(e);
}

static struct fake_dom *by_cfg(struct fake_engine *e, size_t i)
{
	return fake_dom(e, e->cfg->domains[i].name);
}

static void start_one(struct fake_engine *e, size_t i)
{
	const struct xd_domain_cfg *c = &e->cfg->domains[i];
	for (size_t r = 0; r < c->n_requires; r++)
		start_one(e, c->requires[r]);
	struct fake_dom *d = by_cfg(e, i);
	if (alive(d) || xd_timer_armed(&d->t))
		return;
	d->attempts = 1;
	d->tl.queued = d->tl.started = now(e);
	begin(e, d, XD_WAITING, XD_RUNNING);
}

static void op_start(void *ctx, const size_t *doms, size_t n, enum xd_cause cause)
{
	struct fake_engine *e = ctx;
	(void)cause;
	e->starts++;
	for (size_t i = 0; i < n; i++)
		start_one(e, doms[i]);
}

static bool requires_dom(const struct xd_domain_cfg *c, size_t target)
{
	for (size_t r = 0; r < c->n_requires; r++)
		if (c->requires[r] == target)
			return true;
	return false;
}

/* Dependents first, as the real engine does; cascade gets their slots. */
static void stop_one(struct fake_engine *e, size_t i, size_t **cascade, size_t *n_cascade,
		     bool named)
{
	for (size_t k = 0; k < e->cfg->n_domains; k++)
		if (requires_dom(&e->cfg->domains[k], i))
			stop_one(e, k, cascade, n_cascade, false);
	struct fake_dom *d = by_cfg(e, i);
	if (!alive(d) || d->state == XD_STOPPING)
		return;
	if (!named && cascade) {
		*cascade = realloc(*cascade, (*n_cascade + 1) * sizeof(**cascade));
		(*cascade)[(*n_cascade)++] = (size_t)(d - e->doms);
	}
	d->tl.stopping = now(e);
	begin(e, d, XD_STOPPING, XD_INACTIVE);
}

static void op_stop(void *ctx, const size_t *doms, size_t n, size_t **cascade,
		    size_t *n_cascade)
{
	struct fake_engine *e = ctx;
	e->stops++;
	if (cascade) {
		*cascade = NULL;
		*n_cascade = 0;
	}
	for (size_t i = 0; i < n; i++)
		stop_one(e, doms[i], cascade, n_cascade, true);
}

static void op_save(void *ctx, const size_t *doms, size_t n)
{
	struct fake_engine *e = ctx;
	e->saves++;
	for (size_t i = 0; i < n; i++) {
		struct fake_dom *d = by_cfg(e, doms[i]);
		if (alive(d))
			begin(e, d, XD_SAVING, XD_SAVED);
	}
}

static const char *op_migrate(void *ctx, size_t dom, const char *host)
{
	struct fake_engine *e = ctx;
	struct fake_dom *d = by_cfg(e, dom);
	if (!alive(d))
		return "not running";
	e->migrates++;
	snprintf(d->migrate_host, sizeof(d->migrate_host), "%s", host);
	begin(e, d, XD_MIGRATING, XD_MIGRATING);
	return NULL;
}

static void op_shutdown_host(void *ctx)
{
	struct fake_engine *e = ctx;
	e->halting = true;
	for (size_t i = 0; i < e->n; i++)
		if (alive(&e->doms[i]))
			begin(e, &e->doms[i], XD_STOPPING, XD_INACTIVE);
	if (all_down(e) && e->env.host_down)
		e->env.host_down(e->env.ctx);
}

static void op_reload(void *ctx, const struct xd_config *cfg)
{
	struct fake_engine *e = ctx;
	e->reloads++;
	for (size_t i = 0; i < e->n; i++) {
		long k = xd_config_find(cfg, e->doms[i].name);
		e->doms[i].managed = k >= 0;
		e->doms[i].cfg_index = k;
	}
	for (size_t i = 0; i < cfg->n_domains; i++)
		if (!fake_dom(e, cfg->domains[i].name))
			add(e, cfg->domains[i].name, (long)i);
	e->cfg = cfg;
}

static size_t op_count(const void *ctx)
{
	const struct fake_engine *e = ctx;
	return e->n;
}

static void op_status(const void *ctx, size_t dom, struct xd_dom_status *st)
{
	const struct fake_engine *e = ctx;
	((struct fake_engine *)e)->status_calls++;
	const struct fake_dom *d = &e->doms[dom];
	*st = (struct xd_dom_status){
		.name = d->name, .state = d->state, .domid = d->domid,
		.reason = d->reason[0] ? d->reason : NULL, .attempts = d->attempts,
		.since_ms = d->since, .managed = d->managed,
	};
}

static void op_timeline(const void *ctx, size_t dom, struct xd_timeline *tl)
{
	const struct fake_engine *e = ctx;
	*tl = e->doms[dom].tl;
}

static bool op_idle(const void *ctx)
{
	const struct fake_engine *e = ctx;
	for (size_t i = 0; i < e->n; i++)
		if (xd_timer_armed(&e->doms[i].t))
			return false;
	return true;
}

static void op_tally(const void *ctx, struct xd_tally *t)
{
	const struct fake_engine *e = ctx;
	*t = (struct xd_tally){ 0 };
	for (size_t i = 0; i < e->n; i++) {
		const struct fake_dom *d = &e->doms[i];
		t->alive += alive(d);
		if (d->managed) {
			t->managed++;
			t->state[d->state]++;
		}
	}
}

static const struct xd_engine_if_ops fake_ops = {
	.start = op_start, .stop = op_stop, .save = op_save, .migrate = op_migrate,
	.shutdown_host = op_shutdown_host,
	.reload = op_reload, .count = op_count, .status = op_status, .timeline = op_timeline,
	.idle = op_idle, .tally = op_tally,
};

struct xd_engine_if fake_engine_if(struct fake_engine *e)
{
	return (struct xd_engine_if){ .ops = &fake_ops, .e = e };
}
