/* SPDX-License-Identifier: ISC */
#include "harness.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hv/sim/hv_sim.h"

static void *xcalloc(size_t n)
{
	void *p = calloc(1, n);
	if (!p)
		abort();
	return p;
}

struct h *h_new(void)
{
	struct h *h = xcalloc(sizeof(*h));
	strcpy(h->dir, "/tmp/xd-engine-XXXXXX");
	if (!mkdtemp(h->dir))
		abort();
	struct xd_config *c = xcalloc(sizeof(*c));
	struct xd_global *g = &c->global;
	g->xen_config_dir = strdup(h->dir);
	g->auto_dir = strdup("");
	g->include_dir = strdup("");
	g->state_dir = strdup(h->dir);
	g->save_dir = strdup(h->dir);
	g->socket = strdup("");
	g->socket_group = strdup("");
	g->max_parallel_starts = 4;
	g->max_parallel_stops = 0;
	g->start_timeout_ms = 300000;
	g->on_host_shutdown = XD_HOST_SHUTDOWN;
	g->shutdown_timeout_ms = 120000;
	g->save_timeout_ms = 600000;
	g->restore_unmanaged = true;
	g->shutdown_fallback = XD_FALLBACK_DESTROY;
	g->stop_unmanaged = true;
	g->restore_on_boot = true;
	g->on_restore_failure = XD_RESTORE_FAIL;
	g->notify_ready = XD_NOTIFY_AFTER_BOOT;
	h->cfg = c;
	h_sim(h, "[sim]\nfree_memory_mb = 65536\n");
	return h;
}

size_t h_dom(struct h *h, const char *name)
{
	struct xd_config *c = h->cfg;
	c->domains = realloc(c->domains, (c->n_domains + 1) * sizeof(*c->domains));
	if (!c->domains)
		abort();
	struct xd_domain_cfg *d = &c->domains[c->n_domains];
	memset(d, 0, sizeof(*d));
	snprintf(d->name, sizeof(d->name), "%s", name);
	d->autostart = true;
	d->ready.kind = XD_READY_RUNNING;
	d->ready_timeout_ms = 300000;
	d->start_retries = 2;
	d->retry_delay_ms = 5000;
	d->restart_limit = 5;
	d->restart_window_ms = 600000;
	d->on_host_shutdown = c->global.on_host_shutdown;
	d->shutdown_timeout_ms = c->global.shutdown_timeout_ms;
	d->save_timeout_ms = c->global.save_timeout_ms;
	d->migrate_timeout_ms = 600000;
	d->migrate_live = true;
	d->hook_timeout_ms = 30000;
	d->memory_mb = 128;
	d->maxmem_mb = 128;
	d->on_poweroff = XD_ACT_DESTROY;
	d->on_reboot = XD_ACT_RESTART;
	d->on_crash = XD_ACT_DESTROY;
	d->on_watchdog = XD_ACT_DESTROY;
	d->on_soft_reset = XD_ACT_SOFT_RESET;
	return c->n_domains++;
}

struct xd_domain_cfg *h_cfg(struct h *h, const char *name)
{
	long i = xd_config_find(h->cfg, name);
	if (i < 0)
		abort();
	return &h->cfg->domains[i];
}

static void add_index(size_t **v, size_t *n, size_t idx)
{
	*v = realloc(*v, (*n + 1) * sizeof(**v));
	if (!*v)
		abort();
	(*v)[(*n)++] = idx;
}

void h_requires(struct h *h, const char *dom, const char *on)
{
	struct xd_domain_cfg *d = h_cfg(h, dom);
	add_index(&d->requires, &d->n_requires, (size_t)xd_config_find(h->cfg, on));
}

void h_after(struct h *h, const char *dom, const char *on)
{
	struct xd_domain_cfg *d = h_cfg(h, dom);
	add_index(&d->after, &d->n_after, (size_t)xd_config_find(h->cfg, on));
}

void h_sim(struct h *h, const char *fmt, ...)
{
	size_t len = strlen(h->scenario);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(h->scenario + len, sizeof(h->scenario) - len, fmt, ap);
	va_end(ap);
}

static void on_changed(void *ctx, size_t slot, const struct xd_dom_status *st)
{
	struct h *h = ctx;
	if (h->n_recs == h->cap_recs) {
		h->cap_recs = h->cap_recs ? h->cap_recs * 2 : 256;
		h->recs = realloc(h->recs, h->cap_recs * sizeof(*h->recs));
		if (!h->recs)
			abort();
	}
	struct rec *r = &h->recs[h->n_recs++];
	r->t = xd_timers_now(&h->timers);
	r->slot = slot;
	snprintf(r->name, sizeof(r->name), "%s", st->name);
	r->state = st->state;
	r->domid = st->domid;
	snprintf(r->reason, sizeof(r->reason), "%s", st->reason ? st->reason : "");
	if (getenv("XD_TEST_VERBOSE"))
		fprintf(stderr, "[%8.3f] %s(%ld): %s %s\n", (double)r->t / 1000, r->name, r->domid,
			xd_state_name(r->state), r->reason);

	unsigned starting = 0, stopping = 0;
	size_t n = xd_engine_count(h->e);
	for (size_t i = 0; i < n; i++) {
		struct xd_dom_status s;
		xd_engine_status(h->e, i, &s);
		starting += s.state == XD_STARTING || s.state == XD_RESTORING;
		stopping += s.state == XD_STOPPING || s.state == XD_SAVING || s.state == XD_MIGRATING;
	}
	if (starting > h->max_starting)
		h->max_starting = starting;
	if (stopping > h->max_stopping)
		h->max_stopping = stopping;
}

static void on_settled(void *ctx) { ((struct h *)ctx)->settled++; }
static void on_down(void *ctx) { ((struct h *)ctx)->down++; }

static int discard_image(void *ctx, const char *file, bool aside)
{
	(void)ctx;
	if (!aside)
		return unlink(file);
	char to[4200];
	snprintf(to, sizeof(to), "%s.unrestorable", file);
	return rename(file, to);
}

static void on_log(void *ctx, enum xd_log_level lvl, const char *dom, long domid, const char *msg)
{
	(void)ctx;
	if (getenv("XD_TEST_VERBOSE"))
		fprintf(stderr, "  log %d %s(%ld): %s\n", lvl, dom ? dom : "-", domid, msg);
}

void h_start(struct h *h)
{
	char path[128], err[512];
	snprintf(path, sizeof(path), "%s/scenario.ini", h->dir);
	FILE *f = fopen(path, "w");
	if (!f)
		abort();
	fputs(h->scenario, f);
	fclose(f);
	xd_timers_init(&h->timers, 0);
	h->hv = hv_sim_new(path, h->cfg, &h->timers, err, sizeof(err));
	if (!h->hv) {
		fprintf(stderr, "hv_sim_new: %s\n", err);
		abort();
	}
	struct xd_engine_env env = {
		.timers = &h->timers,
		.hv = h->hv,
		.ctx = h,
		.discard_image = discard_image,
		.log = on_log,
		.changed = on_changed,
		.boot_settled = on_settled,
		.host_down = on_down,
	};
	h->e = xd_engine_new(h->cfg, &env);
}

bool h_run_until(struct h *h, bool (*cond)(struct h *), uint64_t limit_ms)
{
	uint64_t limit = xd_timers_now(&h->timers) + limit_ms;
	for (;;) {
		xd_engine_pump(h->e);
		if (cond && cond(h))
			return true;
		uint64_t next = xd_timers_next(&h->timers);
		if (next == XD_NEVER || next > limit) {
			if (!cond)
				xd_timers_run(&h->timers, limit);
			return cond ? cond(h) : true;
		}
		xd_timers_run(&h->timers, next);
	}
}

void h_run_for(struct h *h, uint64_t ms)
{
	h_run_until(h, NULL, ms);
}

bool h_is_settled(struct h *h) { return h->settled > 0; }
bool h_is_down(struct h *h) { return h->down > 0; }

void h_boot(struct h *h, uint64_t limit_ms)
{
	xd_engine_adopt(h->e);
	xd_engine_boot(h->e);
	h_run_until(h, h_is_settled, limit_ms);
}

void h_free(struct h *h)
{
	xd_engine_free(h->e);
	h->hv->ops->free(h->hv);
	xd_timers_free(&h->timers);
	xd_config_free(h->cfg);
	free(h->recs);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", h->dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", h->dir);
	free(h);
}

uint64_t h_first(const struct h *h, const char *name, enum xd_state s)
{
	for (size_t i = 0; i < h->n_recs; i++)
		if (h->recs[i].state == s && strcmp(h->recs[i].name, name) == 0)
			return h->recs[i].t;
	return XD_NEVER;
}

uint64_t h_last(const struct h *h, const char *name, enum xd_state s)
{
	for (size_t i = h->n_recs; i-- > 0;)
		if (h->recs[i].state == s && strcmp(h->recs[i].name, name) == 0)
			return h->recs[i].t;
	return XD_NEVER;
}

/* Entries into state s (consecutive records in s count once). */
unsigned h_count(const struct h *h, const char *name, enum xd_state s)
{
	unsigned n = 0;
	enum xd_state prev = XD_INACTIVE;
	bool first = true;
	for (size_t i = 0; i < h->n_recs; i++) {
		if (strcmp(h->recs[i].name, name) != 0)
			continue;
		if (h->recs[i].state == s && (first || prev != s))
			n++;
		prev = h->recs[i].state;
		first = false;
	}
	return n;
}

size_t h_index(const struct h *h, const char *name)
{
	size_t n = xd_engine_count(h->e);
	for (size_t i = 0; i < n; i++) {
		struct xd_dom_status s;
		xd_engine_status(h->e, i, &s);
		if (strcmp(s.name, name) == 0)
			return i;
	}
	abort();
}

enum xd_state h_state(const struct h *h, const char *name)
{
	struct xd_dom_status s;
	xd_engine_status(h->e, h_index(h, name), &s);
	return s.state;
}

const char *h_reason(const struct h *h, const char *name)
{
	struct xd_dom_status s;
	xd_engine_status(h->e, h_index(h, name), &s);
	return s.reason ? s.reason : "";
}

long h_domid(const struct h *h, const char *name)
{
	struct xd_dom_status s;
	xd_engine_status(h->e, h_index(h, name), &s);
	return s.domid;
}

unsigned h_hv_count(struct h *h, const char *name)
{
	struct hv_dominfo *v = NULL;
	size_t n = 0;
	unsigned count = 0;
	if (h->hv->ops->list(h->hv, &v, &n) < 0)
		abort();
	for (size_t i = 0; i < n; i++)
		count += strcmp(v[i].name, name) == 0;
	free(v);
	return count;
}
