/* SPDX-License-Identifier: ISC */
/* The control socket: --wait jobs (and restart's start phase) (control_int.h). */
#include "daemon/control/control_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/json_text.h"
#include "util/escape.h"
#include "proto/proto.h"

/* doms: configuration indices; reply: the fields the final reply carries
 * (taken over). */
struct job *ctl_job_new(struct xd_control *c, enum job_kind kind, const size_t *doms,
			   size_t n, struct client *waiter, json_t *reply)
{
	struct job *j = calloc(1, sizeof(*j));
	if (!j || !(j->doms = calloc(n ? n : 1, sizeof(*j->doms)))) {
		free(j);
		return NULL;
	}
	j->kind = kind;
	j->n = n;
	j->reply = reply;
	for (size_t i = 0; i < n; i++) {
		snprintf(j->doms[i].name, sizeof(j->doms[i].name), "%s",
			 ctl_cfg(c)->domains[doms[i]].name);
		j->doms[i].slot = ctl_engine_slot(c, j->doms[i].name);
	}
	j->client = waiter;
	if (waiter) {
		waiter->busy = true;     /* not idle: waiting for us */
		xd_timer_disarm(ctl_timers(c), &waiter->idle);
	}
	j->next = c->jobs;
	c->jobs = j;
	ctl_jobs_poke(c);
	return j;
}

void ctl_job_free(struct xd_control *c, struct job *j)
{
	for (struct job **p = &c->jobs; *p; p = &(*p)->next)
		if (*p == j) {
			*p = j->next;
			break;
		}
	json_decref(j->reply);
	free(j->doms);
	free(j);
}

void ctl_detach_jobs(struct xd_control *c, const struct client *cl)
{
	for (struct job *j = c->jobs; j; j = j->next)
		if (j->client == cl)
			j->client = NULL;
}

static bool is_down(const struct xd_dom_status *st)
{
	return st->domid < 0 && (st->state == XD_INACTIVE || st->state == XD_SAVED ||
				 st->state == XD_FAILED);
}

static bool start_settled(const struct xd_dom_status *st, bool seen)
{
	if (st->state == XD_RUNNING)
		return true;
	return seen && (st->state == XD_FAILED || st->state == XD_INACTIVE ||
			st->state == XD_SAVED);
}

static bool save_settled(const struct xd_dom_status *st, bool seen)
{
	if (st->state == XD_SAVED)
		return true;
	return seen && st->state != XD_SAVING && st->state != XD_STOPPING;
}

/* Migrated: gone from here (the domain is inactive, "migrated to HOST");
 * failed: back to running here, or failed (in doubt). */
static bool migrate_settled(const struct xd_dom_status *st, bool seen)
{
	if (st->state == XD_INACTIVE && st->domid < 0)
		return true;
	return seen && st->state != XD_MIGRATING && st->state != XD_STOPPING;
}

/* Is this domain where the job (phase) wants it, and did it succeed? */
static bool dom_settled(const struct job *j, const struct xd_dom_status *st, bool seen,
			bool *success)
{
	bool starting = j->kind == JOB_START || (j->kind == JOB_RESTART && j->restart_started);
	if (starting) {
		*success = st->state == XD_RUNNING;
		return start_settled(st, seen);
	}
	if (j->kind == JOB_SAVE) {
		*success = st->state == XD_SAVED;
		return save_settled(st, seen);
	}
	if (j->kind == JOB_MIGRATE) {
		*success = st->state == XD_INACTIVE && st->domid < 0;
		return migrate_settled(st, seen);
	}
	*success = st->domid < 0;
	return is_down(st);
}

static bool job_status(struct xd_control *c, const struct job_dom *jd,
		       struct xd_dom_status *st)
{
	long d = jd->slot;
	if (d < 0 || (size_t)d >= ctl_engine(c)->count(c->env.engine.e) ||
	    strcmp(ctl_dom_name(c, (size_t)d), jd->name) != 0)
		d = ctl_engine_slot(c, jd->name);
	if (d < 0) {                 /* forgotten by the engine: it is gone */
		*st = (struct xd_dom_status){ .name = jd->name, .state = XD_INACTIVE,
					      .domid = -1 };
		return false;
	}
	ctl_engine(c)->status(c->env.engine.e, (size_t)d, st);
	return true;
}

/* Settled when every domain is; when the engine has nothing left in
 * flight nothing more will change, so what is there is the answer. */
static bool job_settled(struct xd_control *c, const struct job *j, bool *all_ok)
{
	if (j->kind == JOB_HOST) {
		*all_ok = true;
		return j->host_done;
	}
	bool settled = true, ok = true;
	for (size_t i = 0; i < j->n; i++) {
		struct xd_dom_status st;
		bool success;
		job_status(c, &j->doms[i], &st);
		settled &= dom_settled(j, &st, j->doms[i].seen, &success);
		ok &= success;
	}
	*all_ok = ok;
	return settled || ctl_engine(c)->idle(c->env.engine.e);
}

static json_t *job_domains(struct xd_control *c, const struct job *j, char *err,
			   size_t errlen)
{
	json_t *a = json_array();
	size_t used = 0;
	err[0] = '\0';
	for (size_t i = 0; a && i < j->n; i++) {
		struct xd_dom_status st;
		bool success;
		job_status(c, &j->doms[i], &st);
		dom_settled(j, &st, true, &success);
		json_array_append_new(a, ctl_status_object(c, &st));
		if (!success && used < errlen) {
			int w = snprintf(err + used, errlen - used, "%s%s is %s%s%s",
					 used ? "; " : "", st.name, xd_state_name(st.state),
					 st.reason ? ": " : "", st.reason ? st.reason : "");
			used += w > 0 ? (size_t)w : 0;
		}
	}
	return a;
}

static void job_reply(struct xd_control *c, struct job *j, bool ok)
{
	struct client *cl = j->client;
	if (!cl)
		return;
	char err[1024];
	json_t *doms = j->kind == JOB_HOST ? ctl_host_domains(c) : job_domains(c, j, err, sizeof(err));
	json_t *reply = j->reply ? j->reply : ctl_ok();
	j->reply = NULL;
	if (!ok) {
		json_object_set_new(reply, "ok", json_false());
		json_object_set_new(reply, "code", json_integer(XD_EXIT_FAILED));
		char safe[4096];
		xd_escape_into(safe, sizeof(safe), err);
		json_object_set_new(reply, "error", xd_json_text(safe));
	}
	json_object_set_new(reply, "domains", doms);
	cl->busy = false;
	ctl_send_json(cl, reply);
	if (!cl->closed) {
		ctl_arm_idle(cl);
		ctl_client_process(cl);
	}
}

static void start_domains_of(struct xd_control *c, struct job *j)
{
	size_t *doms = malloc((j->n ? j->n : 1) * sizeof(*doms));
	size_t n = 0;
	for (size_t i = 0; doms && i < j->n; i++) {
		long d = ctl_config_index(c, j->doms[i].name);
		if (d >= 0)
			doms[n++] = (size_t)d;
		j->doms[i].seen = false;
	}
	if (n)
		ctl_engine(c)->start(c->env.engine.e, doms, n, XD_CAUSE_ON_DEMAND);
	free(doms);
}

static void evaluate_job(struct xd_control *c, struct job *j)
{
	bool ok;
	if (!job_settled(c, j, &ok))
		return;
	if (j->kind == JOB_RESTART && !j->restart_started) {
		/* Everything is down (or will not go down): start them again. */
		j->restart_started = true;
		start_domains_of(c, j);
		ctl_jobs_poke(c);
		return;
	}
	job_reply(c, j, ok);
	ctl_job_free(c, j);
}

void ctl_on_jobs_timer(struct xd_timer *t, void *arg)
{
	(void)t;
	struct xd_control *c = arg;
	struct job *next;
	for (struct job *j = c->jobs; j; j = next) {
		next = j->next;
		evaluate_job(c, j);
	}
}

void ctl_jobs_poke(struct xd_control *c)
{
	if (c->jobs && !xd_timer_armed(&c->jobs_timer))
		(void)xd_timer_arm_in(ctl_timers(c), &c->jobs_timer, 0);
}

static void jobs_mark_seen(struct xd_control *c, size_t slot)
{
	for (struct job *j = c->jobs; j; j = j->next)
		for (size_t i = 0; i < j->n; i++)
			if (j->doms[i].slot == (long)slot)
				j->doms[i].seen = true;
}

void xd_control_changed(struct xd_control *c, size_t dom, const struct xd_dom_status *st)
{
	ctl_broadcast_event(c, st);
	jobs_mark_seen(c, dom);
	ctl_jobs_poke(c);
}

void xd_control_host_down(struct xd_control *c)
{
	for (struct job *j = c->jobs; j; j = j->next)
		if (j->kind == JOB_HOST)
			j->host_done = true;
	ctl_jobs_poke(c);
}
