/* SPDX-License-Identifier: ISC */
/*
 * Adoption and reload: managed domains found running are adopted instead
 * of created again, at start and whenever they appear later (listed again
 * before a host shutdown and before an on-demand start); a reload switches to a new
 * configuration and keeps running state.
 */
#include "core/engine/engine_int.h"

#include <stdlib.h>
#include <string.h>

static void adopt_one(struct xd_engine *e, const struct hv_dominfo *info)
{
	struct dom *d = eng_find_by_name(e, info->name);
	if (d && alive(d))
		return;
	if (!d)
		d = eng_add_dom(e, info->name, NULL, SIZE_MAX / 2 + e->n_doms);
	eng_map_domid(e, d, info->domid);
	e->hv->ops->watch_domain(e->hv, info->domid);
	d->tl.created = now(e);
	if (!d->cfg) {
		eng_set_state(e, d, XD_RUNNING, "not managed by xendomd");
		return;
	}
	eng_log(e, XD_LOG_NOTICE, d, "adopted running domain %u", info->domid);
	if (eng_config_broken(e, d))
		return;   /* left running, never restarted or re-created by us */
	d->goal = GOAL_UP;
	d->cause = XD_CAUSE_BOOT;
	if (info->shutdown) {
		/* watch_domain reports the shutdown; the lifecycle policy handles it */
		eng_set_state(e, d, XD_RUNNING, "adopted (shut down)");
		return;
	}
	if (info->paused) {
		/* Paused by an admin, or a create we did not see finish: either
		 * way, unpausing it is not ours to decide. */
		d->life.paused_adopted = true;
		eng_become_ready(e, d);
		return;
	}
	/* Readiness is re-checked: its keys persist in XenStore. */
	eng_start_readiness(e, d);
}

/* A domain the hypervisor has that we do not know by domid, and that is
 * ours to take: a configured domain we are not running, with nothing of
 * ours under way for it (an `xl create` by hand, a guest migrated here by
 * another host's xendomd or by Pacemaker), and with picked_only one that
 * a start asked for; with unmanaged_too, any domain whose name we do not
 * know (stop_unmanaged). */
static bool takeable(struct xd_engine *e, const struct hv_dominfo *info, bool unmanaged_too,
		     bool picked_only)
{
	if (info->dying || eng_dom_by_domid(e, info->domid))
		return false;
	struct dom *d = eng_find_by_name(e, info->name);
	if (!d)
		return unmanaged_too;
	return d->cfg && !alive(d) && d->op == 0 && !d->life.in_doubt &&
	       (!picked_only || d->life.pick);
}

/* Domains that appeared since we started: listed again before a host
 * shutdown (all of them) and before an on-demand start (the picked
 * ones), so that an arrived guest is shut down with the host and never
 * created a second time. */
void eng_adopt_arrivals(struct xd_engine *e, bool unmanaged_too, bool picked_only)
{
	struct hv_dominfo *v = NULL;
	size_t n = 0;
	if (e->hv->ops->list(e->hv, &v, &n) == 0)
		for (size_t i = 0; i < n; i++)
			if (takeable(e, &v[i], unmanaged_too, picked_only))
				adopt_one(e, &v[i]);
	free(v);
}

int xd_engine_adopt(struct xd_engine *e)
{
	struct hv_dominfo *v = NULL;
	size_t n = 0;
	int rc = e->hv->ops->list(e->hv, &v, &n);
	if (rc < 0) {
		eng_log(e, XD_LOG_ERR, NULL, "cannot list domains: %s", hv_strerror(rc));
		return rc;
	}
	for (size_t i = 0; i < n; i++)
		adopt_one(e, &v[i]);
	free(v);
	xd_engine_pump(e);
	return 0;
}

/* Removed from the configuration: left as it is, but no longer ours to manage. */
static void unmanage(struct xd_engine *e, struct dom *d)
{
	eng_log(e, XD_LOG_NOTICE, d, "removed from the configuration; left %s and unmanaged",
		alive(d) ? "running" : "alone");
	eng_disarm_timers(e, d);
	eng_unwatch_key(e, d);
	eng_release_start_slot(e, d);
	eng_set_cfg(e, d, NULL);
	d->goal = GOAL_NONE;
	d->order = SIZE_MAX / 2 + d->slot;
	eng_boot_done(e, d);
	if (!alive(d))
		eng_set_state(e, d, XD_INACTIVE, "removed from the configuration");
	else
		eng_set_state(e, d, XD_RUNNING, "not managed by xendomd");
}

void xd_engine_reload(struct xd_engine *e, const struct xd_config *cfg)
{
	size_t *slots = xd_calloc(cfg->n_domains, sizeof(*slots));
	for (size_t i = 0; i < cfg->n_domains; i++) {
		struct dom *d = eng_find_by_name(e, cfg->domains[i].name);
		if (!d) {
			d = eng_add_dom(e, cfg->domains[i].name, NULL, i);
			eng_log(e, XD_LOG_NOTICE, d, "added to the configuration");
		} else if (!d->cfg) {
			eng_log(e, XD_LOG_NOTICE, d, "now managed by xendomd");
		}
		eng_set_cfg(e, d, &cfg->domains[i]);
		d->order = i;
		slots[i] = d->slot;
	}
	for (size_t s = 0; s < e->n_doms; s++) {
		struct dom *d = e->doms[s];
		if (d->cfg && xd_config_find(cfg, d->name) < 0)
			unmanage(e, d);
	}
	free(e->cfg_slot);
	e->cfg_slot = slots;
	e->cfg = cfg;
	eng_build_graph(e);
	eng_update_priorities(e);   /* new dependencies; also re-sorts the queues */
	for (size_t i = 0; i < cfg->n_domains; i++) {
		struct dom *d = e->doms[slots[i]];
		if (eng_config_broken(e, d))
			continue;
		if (d->state == XD_INACTIVE && d->goal == GOAL_NONE && d->cfg->autostart &&
		    d->tl.queued == XD_NEVER && !e->halting && !e->host_shut)
			eng_want_up(e, d, XD_CAUSE_ON_DEMAND, false);
		eng_mark_dirty(e, d);
	}
	xd_engine_pump(e);
}
