/* SPDX-License-Identifier: ISC */
/* The simulated host: new/free, the per-name profiles, the test-facing queries. */
#include "hv/sim/sim_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/alloc.h"

struct hv_sim *to_sim(struct hv *hv)
{
	if (!hv_is_sim(hv)) {
		fputs("hv_sim: called with another backend\n", stderr);
		abort();
	}
	return (struct hv_sim *)hv;
}

bool hv_is_sim(const struct hv *hv)
{
	return hv && hv->ops == &hv_sim_ops;
}

/* ---- profiles ---- */

static void profile_defaults(struct sim_profile *p, const char *name)
{
	*p = (struct sim_profile){
		.create_ms = DEFAULT_CREATE_MS,
		.save_ms = DEFAULT_SAVE_MS,
		.migrate_ms = DEFAULT_MIGRATE_MS,
		.restore_ms = RESTORE_LIKE_SAVE,
		.shutdown_ms = DEFAULT_SHUTDOWN_MS,
		.pv_drivers = true,
		.hvm = -1,
	};
	snprintf(p->name, sizeof(p->name), "%s", name);
}

static const char *profile_key(const void *ctx, size_t i)
{
	const struct hv_sim *s = ctx;
	return s->profs[i]->name;
}

struct sim_profile *profile_find(struct hv_sim *s, const char *name)
{
	long i = xd_index_find(&s->by_name, name);
	return i >= 0 ? s->profs[i] : NULL;
}

struct sim_profile *profile_get(struct hv_sim *s, const char *name)
{
	struct sim_profile *p = profile_find(s, name);
	if (p)
		return p;
	p = xd_malloc0(sizeof(*p));
	profile_defaults(p, name);
	XD_GROW(s->profs, s->n_profs, s->cap_profs);
	s->profs[s->n_profs] = p;
	xd_index_add(&s->by_name, s->n_profs++);
	return p;
}

uint64_t profile_restore_ms(const struct sim_profile *p)
{
	if (p->restore_ms != RESTORE_LIKE_SAVE)
		return p->restore_ms;
	return p->save_ms == SAVE_NEVER ? DEFAULT_SAVE_MS : p->save_ms;
}

bool profile_hvm(const struct sim_profile *p, bool cfg_hvm)
{
	if (p->hvm >= 0)
		return p->hvm;
	return cfg_hvm || !p->pv_drivers;
}

void sim_free(struct hv *hv)
{
	if (!hv)
		return;
	struct hv_sim *s = to_sim(hv);
	while (s->ops) {
		struct sim_op *op = s->ops;
		op_unlink(op);
		op_free(op);
	}
	for (uint32_t domid = 1; domid < s->next_domid; domid++)
		if (s->by_id[domid])
			dom_free(s->by_id[domid]);
	free(s->by_id);
	for (size_t i = 0; i < s->n_profs; i++) {
		if (s->profs[i]->script) {
			free(s->profs[i]->script->xs_write_key);
			free(s->profs[i]->script->xs_write_value);
			free(s->profs[i]->script);
		}
		if (s->profs[i]->arrive_t) {
			xd_timer_disarm(s->timers, s->profs[i]->arrive_t);
			free(s->profs[i]->arrive_t);
		}
		free(s->profs[i]->migrated_host);
		free(s->profs[i]->migrated_command);
		free(s->profs[i]);
	}
	free(s->profs);
	xd_index_free(&s->by_name);
	hv_fini(&s->hv);
	free(s);
}

struct hv *hv_sim_new(const char *scenario_path, const struct xd_config *cfg,
		      struct xd_timers *timers, char *err, size_t errlen)
{
	struct hv_sim *s = xd_calloc(1, sizeof(*s));
	hv_init(&s->hv, &hv_sim_ops);
	s->timers = timers;
	s->free_kb = (uint64_t)DEFAULT_FREE_MB * 1024;
	s->next_domid = 1;
	xd_index_init(&s->by_name, profile_key, s);
	if (!sim_scenario_load(s, scenario_path, cfg, err, errlen)) {
		sim_free(&s->hv);
		return NULL;
	}
	return &s->hv;
}

/* ---- the test-facing side ---- */

struct hv_sim_counts hv_sim_counts(struct hv *hv, const char *name)
{
	struct sim_profile *p = profile_find(to_sim(hv), name);
	return p ? p->counts : (struct hv_sim_counts){ 0 };
}

bool hv_sim_last_migration(struct hv *hv, const char *name, const char **host,
			   const char **command, bool *live)
{
	struct sim_profile *p = profile_find(to_sim(hv), name);
	if (!p || !p->migrated_host)
		return false;
	*host = p->migrated_host;
	*command = p->migrated_command;
	*live = p->migrated_live;
	return true;
}

int hv_sim_find(struct hv *hv, const char *name, struct hv_dominfo *out)
{
	struct sim_dom *d = dom_by_name(to_sim(hv), name);
	if (!d)
		return HV_ENOENT;
	fill_info(d, out);
	return 0;
}

bool hv_sim_watched(struct hv *hv, uint32_t domid)
{
	struct sim_dom *d = dom_by_id(to_sim(hv), domid);
	return d && d->watched;
}

int hv_sim_guest_shutdown(struct hv *hv, uint32_t domid, enum hv_reason reason)
{
	struct sim_dom *d = dom_live(to_sim(hv), domid);
	if (!d || d->shutdown)
		return HV_ENOENT;
	dom_shutdown(d, reason);
	return 0;
}

void hv_sim_set_free_kb(struct hv *hv, uint64_t kb)
{
	to_sim(hv)->free_kb = kb;
}

size_t hv_sim_ops_in_flight(struct hv *hv)
{
	size_t n = 0;
	for (struct sim_op *op = to_sim(hv)->ops; op; op = op->next)
		n++;
	return n;
}

int hv_sim_arrive(struct hv *hv, const char *name, uint64_t mem_kb)
{
	struct hv_sim *s = to_sim(hv);
	struct sim_dom *old = dom_by_name(s, name);
	if (old || mem_kb > s->free_kb)
		return HV_EFAIL;
	return (int)dom_add_running(s, profile_get(s, name), mem_kb, false)->domid;
}
