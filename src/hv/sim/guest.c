/* SPDX-License-Identifier: ISC */
/* The simulated domains and what a guest does by itself. */
#include "hv/sim/sim_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/alloc.h"

/* ---- domains ---- */

struct sim_dom *dom_by_id(struct hv_sim *s, uint32_t domid)
{
	return domid && domid < s->next_domid ? s->by_id[domid] : NULL;
}

/* A domain the port may act on: exists and is not being destroyed. */
struct sim_dom *dom_live(struct hv_sim *s, uint32_t domid)
{
	struct sim_dom *d = dom_by_id(s, domid);
	return d && !d->dying ? d : NULL;
}

struct sim_dom *dom_by_name(struct hv_sim *s, const char *name)
{
	struct sim_profile *p = profile_find(s, name);
	return p ? p->holder : NULL;
}

void guest_timers_disarm(struct sim_dom *d)
{
	xd_timer_disarm(d->sim->timers, &d->ready_t);
	xd_timer_disarm(d->sim->timers, &d->crash_t);
	xd_timer_disarm(d->sim->timers, &d->reboot_t);
	xd_timer_disarm(d->sim->timers, &d->poweroff_t);
	writer_stop(d);
}

void arm_in(struct hv_sim *s, struct xd_timer *t, uint64_t ms)
{
	if (xd_timer_arm_in(s->timers, t, ms) != 0)
		xd_oom();
}

void dom_shutdown(struct sim_dom *d, enum hv_reason reason)
{
	if (d->shutdown || d->dying)
		return;
	d->shutdown = true;
	d->reason = reason;
	guest_timers_disarm(d);
	if (d->watched && !d->shutdown_reported) {
		d->shutdown_reported = true;
		emit(d->sim, &(struct hv_event){ .kind = HV_EV_SHUTDOWN, .domid = d->domid,
						 .reason = reason });
	}
}

/* libxl_domain_resume(suspend_cancel): the guest runs on.  The watch's
 * one SHUTDOWN report stays spent, as with libxl's evgen. */
void dom_resume(struct sim_dom *d)
{
	d->shutdown = false;
	d->reason = HV_SD_UNKNOWN;
}

static void on_poweroff_timer(struct xd_timer *t, void *arg)
{
	(void)t;
	dom_shutdown(arg, HV_SD_POWEROFF);
}

static void on_crash_timer(struct xd_timer *t, void *arg)
{
	(void)t;
	dom_shutdown(arg, HV_SD_CRASH);
}

static void on_reboot_timer(struct xd_timer *t, void *arg)
{
	(void)t;
	dom_shutdown(arg, HV_SD_REBOOT);
}

/* The guest powers off shutdown_ms from now, unless it ignores requests
 * or is already due to power off sooner. */
void schedule_poweroff(struct sim_dom *d)
{
	if (d->prof->shutdown_ms < 0)
		return;
	uint64_t at = xd_timers_now(d->sim->timers) + (uint64_t)d->prof->shutdown_ms;
	if (xd_timer_armed(&d->poweroff_t) && d->poweroff_t.at <= at)
		return;
	arm_in(d->sim, &d->poweroff_t, (uint64_t)d->prof->shutdown_ms);
}

/* The guest acknowledges a pending shutdown request. */
void ack_shutdown(struct sim_dom *d, struct sim_op *op)
{
	key_set(d, "control/shutdown", "");
	op_decide(op, 0, NULL);
	schedule_poweroff(d);
}

static void ack_pending_shutdowns(struct sim_dom *d)
{
	if (!d->sim->n_open_targeted)
		return;
	for (struct sim_op *op = d->sim->ops; op; op = op->next)
		if (op->kind == OP_SHUTDOWN && op->domid == d->domid && !op->decided)
			ack_shutdown(d, op);
}

/* The guest's drivers and agent are up. */
void guest_ready(struct sim_dom *d)
{
	if (!d->restored)
		key_set(d, "data/ready", "1");
	if (!d->prof->pv_drivers)
		return;
	d->drivers_up = true;
	key_set(d, "control/feature-poweroff", "1");
	key_set(d, "control/feature-reboot", "1");
	key_set(d, "control/feature-suspend", "1");
	ack_pending_shutdowns(d);
}

static void on_ready_timer(struct xd_timer *t, void *arg)
{
	(void)t;
	guest_ready(arg);
}

/* What the guest will do by itself: crash or ask for a reboot, and the
 * scenario's scripted XenStore writes. */
void guest_arm_fate(struct sim_dom *d)
{
	struct hv_sim *s = d->sim;
	writer_start(d);
	if (d->prof->crash_after_ms)
		arm_in(s, &d->crash_t, d->prof->crash_after_ms);
	if (d->prof->reboot_after_ms)
		arm_in(s, &d->reboot_t, d->prof->reboot_after_ms);
}

/* After an unpause the guest boots: ready after ready_ms. */
void guest_start(struct sim_dom *d)
{
	arm_in(d->sim, &d->ready_t, d->prof->ready_ms);
	guest_arm_fate(d);
}

struct sim_dom *dom_add(struct hv_sim *s, struct sim_profile *prof, const char *name,
			       uint64_t mem_kb, bool hvm)
{
	struct sim_dom *d = xd_calloc(1, sizeof(*d));
	d->sim = s;
	d->prof = prof;
	d->domid = s->next_domid++;
	if (d->domid >= s->by_id_cap) {
		s->by_id_cap = s->by_id_cap ? 2 * s->by_id_cap : 64;
		s->by_id = xd_reallocarray(s->by_id, s->by_id_cap, sizeof(*s->by_id));
	}
	s->by_id[d->domid] = d;
	s->n_doms++;
	snprintf(d->name, sizeof(d->name), "%s", name);
	d->mem_kb = mem_kb;
	d->paused = true;
	d->hvm = hvm;
	d->reason = HV_SD_UNKNOWN;
	xd_timer_init(&d->ready_t, on_ready_timer, d);
	xd_timer_init(&d->crash_t, on_crash_timer, d);
	xd_timer_init(&d->reboot_t, on_reboot_timer, d);
	xd_timer_init(&d->poweroff_t, on_poweroff_timer, d);
	s->free_kb -= mem_kb;
	profile_get(s, name)->holder = d;
	keys_init(d);
	return d;
}

/* A domain already up: unpaused, ready, its fate (crash, reboot, scripted
 * writes) armed. */
struct sim_dom *dom_add_running(struct hv_sim *s, struct sim_profile *prof, uint64_t mem_kb,
				bool hvm)
{
	struct sim_dom *d = dom_add(s, prof, prof->name, mem_kb, hvm);
	d->paused = false;
	guest_ready(d);
	guest_arm_fate(d);
	return d;
}

void dom_free(struct sim_dom *d)
{
	guest_timers_disarm(d);
	free(d->writer);
	for (size_t i = 0; i < d->n_keys; i++) {
		free(d->keys[i].path);
		free(d->keys[i].value);
	}
	free(d->keys);
	for (size_t i = 0; i < d->n_watches; i++)
		free(d->watches[i]);
	free(d->watches);
	free(d);
}

/* The end of a destroy: the domain and its XenStore directory vanish. */
void dom_remove(struct sim_dom *d)
{
	struct hv_sim *s = d->sim;
	for (size_t i = 0; i < d->n_watches; i++)
		emit_key(d, d->watches[i]);
	if (d->watched)
		emit(s, &(struct hv_event){ .kind = HV_EV_DEATH, .domid = d->domid });
	s->free_kb += d->mem_kb;
	profile_find(s, d->name)->holder = NULL;
	s->by_id[d->domid] = NULL;
	s->n_doms--;
	dom_free(d);
}

/* ---- the port ---- */

void fill_info(const struct sim_dom *d, struct hv_dominfo *o)
{
	*o = (struct hv_dominfo){
		.domid = d->domid,
		.paused = d->paused,
		.shutdown = d->shutdown,
		.dying = d->dying,
		.hvm = d->hvm,
		.reason = d->shutdown ? d->reason : HV_SD_UNKNOWN,
		.cur_kb = d->mem_kb,
	};
	snprintf(o->name, sizeof(o->name), "%s", d->name);
}

