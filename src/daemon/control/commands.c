/* SPDX-License-Identifier: ISC */
/* The control socket: request dispatch and each command (control_int.h). */
#include "daemon/control/control_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/plan.h"
#include "daemon/boottimes.h"
#include "daemon/reload.h"
#include "daemon/json_text.h"
#include "proto/proto.h"
#include "util/alloc.h"
#include "util/log.h"

static json_t *cmd_status(struct xd_control *c, struct client *cl, json_t *req)
{
	(void)cl;
	size_t n;
	json_t *err;
	size_t *doms = ctl_request_domains(c, req, XD_CMD_STATUS, true, &n, &err);
	if (!doms)
		return err;
	json_t *list = json_array();
	if (n == 0) {
		json_decref(list);
		list = ctl_host_domains(c);
	}
	for (size_t i = 0; list && i < n; i++) {
		struct xd_dom_status st;
		ctl_engine(c)->status(c->env.engine.e, doms[i], &st);
		json_array_append_new(list, ctl_status_object(c, &st));
	}
	free(doms);
	json_t *reply = ctl_ok();
	json_object_set_new(reply, "uptime", ctl_seconds(c, xd_timers_fresh(ctl_timers(c))));
	json_object_set_new(reply, "domains", list);
	return reply;
}

static json_t *cmd_timeline(struct xd_control *c, struct client *cl, json_t *req)
{
	(void)cl;
	(void)req;
	json_t *list = json_array();
	size_t n = ctl_engine(c)->count(c->env.engine.e);
	for (size_t d = 0; list && d < n; d++) {
		struct xd_timeline tl;
		ctl_engine(c)->timeline(c->env.engine.e, d, &tl);
		json_array_append_new(list, ctl_timeline_object(c, ctl_dom_name(c, d), &tl));
	}
	json_t *reply = ctl_ok();
	json_object_set_new(reply, "uptime", ctl_seconds(c, xd_timers_fresh(ctl_timers(c))));
	json_object_set_new(reply, "domains", list);
	return reply;
}

static json_t *plan_order(const struct xd_config *cfg, const struct xd_plan *p)
{
	json_t *a = json_array();
	for (size_t i = 0; a && i < p->n; i++) {
		size_t d = p->order[i];
		json_array_append_new(a, json_pack("{s:o, s:I}", "name",
						   xd_json_text(cfg->domains[d].name),
						   "wave", (json_int_t)p->wave[d]));
	}
	return a;
}

static json_t *cmd_plan(struct xd_control *c, struct client *cl, json_t *req)
{
	(void)cl;
	const struct xd_config *cfg = ctl_cfg(c);
	struct xd_plan plan;
	if (xd_plan_build(cfg, &plan) < 0)
		return ctl_error(XD_EXIT_FAILED, "cannot build the plan: %s", strerror(errno));
	bool dot = ctl_flag(req, "dot");
	char *text = xd_plan_format(cfg, &plan, dot);
	if (text && !dot && cfg->global.start_order == XD_ORDER_CRITICAL_PATH)
		text = xd_boottimes_plan_text(text, cfg, &plan);
	json_t *reply = text ? ctl_ok() : ctl_error(XD_EXIT_FAILED, "out of memory");
	if (text) {
		json_object_set_new(reply, "format", json_string(dot ? "dot" : "text"));
		json_object_set_new(reply, "text", xd_json_text(text));
		json_object_set_new(reply, "order", plan_order(cfg, &plan));
	}
	free(text);
	xd_plan_free(&plan);
	return reply;
}

static json_t *cmd_events(struct xd_control *c, struct client *cl, json_t *req)
{
	(void)c;
	(void)req;
	ctl_client_subscribe(cl);
	xd_timer_disarm(ctl_timers(c), &cl->idle);
	return json_pack("{s:b, s:b}", "ok", 1, "events", 1);
}

/* doms and everything they require, transitively, in config order. */
static size_t *with_requirements(const struct xd_config *cfg, const size_t *doms, size_t n,
				 size_t *n_out)
{
	bool *in = calloc(cfg->n_domains ? cfg->n_domains : 1, sizeof(*in));
	size_t *stack = malloc((cfg->n_domains ? cfg->n_domains : 1) * sizeof(*stack));
	size_t *out = malloc((cfg->n_domains ? cfg->n_domains : 1) * sizeof(*out));
	size_t top = 0, m = 0;
	if (!in || !stack || !out) {
		free(in);
		free(stack);
		free(out);
		return NULL;
	}
	for (size_t i = 0; i < n; i++)
		if (!in[doms[i]]) {
			in[doms[i]] = true;
			stack[top++] = doms[i];
		}
	while (top) {
		const struct xd_domain_cfg *d = &cfg->domains[stack[--top]];
		for (size_t r = 0; r < d->n_requires; r++)
			if (!in[d->requires[r]]) {
				in[d->requires[r]] = true;
				stack[top++] = d->requires[r];
			}
	}
	for (size_t i = 0; i < cfg->n_domains; i++)
		if (in[i])
			out[m++] = i;
	free(in);
	free(stack);
	*n_out = m;
	return out;
}

/* Domains of all that are not in named (configuration indices); one
 * mark per domain, not a scan of named per domain. */
static json_t *extra_names(const struct xd_config *cfg, const size_t *all, size_t n_all,
			   const size_t *named, size_t n_named)
{
	bool *listed = xd_calloc(cfg->n_domains ? cfg->n_domains : 1, sizeof(*listed));
	for (size_t k = 0; k < n_named; k++)
		listed[named[k]] = true;
	json_t *a = json_array();
	for (size_t i = 0; a && i < n_all; i++)
		if (!listed[all[i]])
			json_array_append_new(a, xd_json_text(cfg->domains[all[i]].name));
	free(listed);
	return a;
}

/* Reply now, or (wait) let a job reply when the domains settle. */
static json_t *reply_or_wait(struct xd_control *c, struct client *cl, enum job_kind kind,
			     const size_t *doms, size_t n, bool wait, json_t *reply)
{
	if (!wait)
		return reply;
	if (!ctl_job_new(c, kind, doms, n, cl, reply)) {
		json_decref(reply);
		return ctl_error(XD_EXIT_FAILED, "out of memory");
	}
	return NULL;
}

static json_t *cmd_start(struct xd_control *c, struct client *cl, json_t *req)
{
	size_t n, n_all;
	json_t *err;
	size_t *doms = ctl_request_domains(c, req, XD_CMD_START, false, &n, &err);
	if (!doms)
		return err;
	const struct xd_config *cfg = ctl_cfg(c);
	size_t *all = with_requirements(cfg, doms, n, &n_all);
	if (!all) {
		free(doms);
		return ctl_error(XD_EXIT_FAILED, "out of memory");
	}
	ctl_engine(c)->start(c->env.engine.e, doms, n, XD_CAUSE_ON_DEMAND);
	json_t *reply = ctl_ok();
	json_object_set_new(reply, "names", ctl_name_list(cfg, doms, n));
	json_object_set_new(reply, "also", extra_names(cfg, all, n_all, doms, n));
	reply = reply_or_wait(c, cl, JOB_START, all, n_all, ctl_flag(req, "wait"), reply);
	free(all);
	free(doms);
	return reply;
}

/* Stop doms and, first, what requires them (the engine logs those);
 * *all gets both as configuration indices, *also the dependents' names. */
static size_t *stop_with_dependents(struct xd_control *c, const size_t *doms, size_t n,
				    size_t *n_all, json_t **also)
{
	size_t *cascade = NULL, n_cascade = 0;   /* engine slots */
	ctl_engine(c)->stop(c->env.engine.e, doms, n, &cascade, &n_cascade);
	size_t *all = malloc((n + n_cascade + 1) * sizeof(*all));
	*also = json_array();
	*n_all = 0;
	for (size_t i = 0; all && i < n_cascade; i++) {
		const char *name = ctl_dom_name(c, cascade[i]);
		long d = ctl_config_index(c, name);
		json_array_append_new(*also, xd_json_text(name));
		if (d >= 0)
			all[(*n_all)++] = (size_t)d;
	}
	if (all) {
		memcpy(all + *n_all, doms, n * sizeof(*all));
		*n_all += n;
	}
	free(cascade);
	return all;
}

static json_t *cmd_stop_or_restart(struct xd_control *c, struct client *cl, json_t *req,
				   enum job_kind kind)
{
	size_t n, n_all = 0;
	json_t *err, *also = NULL;
	enum xd_cmd cmd = kind == JOB_STOP ? XD_CMD_STOP : XD_CMD_RESTART;
	size_t *doms = ctl_request_domains(c, req, cmd, false, &n, &err);
	if (!doms)
		return err;
	size_t *all = stop_with_dependents(c, doms, n, &n_all, &also);
	if (!all) {
		free(doms);
		json_decref(also);
		return ctl_error(XD_EXIT_FAILED, "out of memory");
	}
	json_t *reply = ctl_ok();
	json_object_set_new(reply, "names", ctl_name_list(ctl_cfg(c), doms, n));
	json_object_set_new(reply, "also", also);
	bool wait = ctl_flag(req, "wait");
	if (kind == JOB_RESTART && !wait) {
		/* The start phase needs a job even when nobody waits. */
		if (!ctl_job_new(c, JOB_RESTART, all, n_all, NULL, NULL)) {
			json_decref(reply);
			reply = ctl_error(XD_EXIT_FAILED, "out of memory");
		}
	} else {
		reply = reply_or_wait(c, cl, kind, all, n_all, wait, reply);
	}
	free(all);
	free(doms);
	return reply;
}

static json_t *cmd_stop(struct xd_control *c, struct client *cl, json_t *req)
{
	return cmd_stop_or_restart(c, cl, req, JOB_STOP);
}

static json_t *cmd_restart(struct xd_control *c, struct client *cl, json_t *req)
{
	return cmd_stop_or_restart(c, cl, req, JOB_RESTART);
}

static json_t *cmd_save(struct xd_control *c, struct client *cl, json_t *req)
{
	size_t n;
	json_t *err;
	size_t *doms = ctl_request_domains(c, req, XD_CMD_SAVE, false, &n, &err);
	if (!doms)
		return err;
	ctl_engine(c)->save(c->env.engine.e, doms, n);
	json_t *reply = ctl_ok();
	json_object_set_new(reply, "names", ctl_name_list(ctl_cfg(c), doms, n));
	reply = reply_or_wait(c, cl, JOB_SAVE, doms, n, ctl_flag(req, "wait"), reply);
	free(doms);
	return reply;
}

/* migrate NAME HOST: one domain, one host; refused at once (code 1) when
 * the engine cannot start it (not running, in doubt, being stopped). */
static json_t *cmd_migrate(struct xd_control *c, struct client *cl, json_t *req)
{
	size_t n;
	json_t *err;
	size_t *doms = ctl_request_domains(c, req, XD_CMD_MIGRATE, false, &n, &err);
	if (!doms)
		return err;
	const char *host = json_string_value(json_object_get(req, "host"));
	const char *bad = !host ? "migrate needs a \"host\"" : n != 1 ? "migrate takes one domain"
			  : xd_migrate_host_problem(host);
	const struct xd_config *cfg = ctl_cfg(c);
	if (bad) {
		free(doms);
		return ctl_error(XD_EXIT_USAGE, "%s", bad);
	}
	const char *why = ctl_engine(c)->migrate(c->env.engine.e, doms[0], host);
	if (why) {
		err = ctl_error(XD_EXIT_FAILED, "%s: cannot migrate: %s", cfg->domains[doms[0]].name, why);
		free(doms);
		return err;
	}
	xd_log(XD_LOG_NOTICE, cfg->domains[doms[0]].name, -1, "migration to %s requested by uid %u",
	       host, cl->uid);
	json_t *reply = ctl_ok();
	json_object_set_new(reply, "names", ctl_name_list(cfg, doms, n));
	json_object_set_new(reply, "host", xd_json_text(host));
	reply = reply_or_wait(c, cl, JOB_MIGRATE, doms, n, ctl_flag(req, "wait"), reply);
	free(doms);
	return reply;
}

/* The wait is registered first: with nothing left to stop the sequence
 * ends inside xd_service_shutdown_host, and its host_down must find it. */
static json_t *cmd_shutdown_host(struct xd_control *c, struct client *cl, json_t *req)
{
	xd_log(XD_LOG_NOTICE, NULL, -1, "host-shutdown sequence requested by uid %u", cl->uid);
	json_t *reply = reply_or_wait(c, cl, JOB_HOST, NULL, 0, ctl_flag(req, "wait"), ctl_ok());
	xd_service_shutdown_host(c->env.service, false);
	return reply;
}

static json_t *refused_reply(const struct xd_control *c, json_t *errors)
{
	json_t *reply = ctl_error(XD_EXIT_USAGE, "%s has errors; the running configuration "
				  "stays", c->env.config_path);
	json_object_set(reply, "errors", errors);
	return reply;
}

json_t *ctl_reload_reply(struct xd_control *c)
{
	struct xd_reload_env env = {
		.config_path = c->env.config_path, .cfg = c->env.cfg, .engine = c->env.engine,
		.service = c->env.service, .applied = ctl_apply_global_changes, .arg = c,
	};
	struct xd_reload_report r;
	json_t *reply;
	switch (xd_reload(&env, &r)) {
	case XD_RELOAD_APPLIED:
		reply = ctl_ok();
		json_object_set(reply, "added", r.added);
		json_object_set(reply, "starting", r.starting);
		json_object_set(reply, "removed", r.removed);
		json_object_set(reply, "changed", r.changed);
		break;
	case XD_RELOAD_REFUSED:
		reply = refused_reply(c, r.errors);
		break;
	default:
		reply = ctl_error(XD_EXIT_FAILED, "out of memory");
		break;
	}
	xd_reload_report_free(&r);
	return reply;
}

static json_t *cmd_reload(struct xd_control *c, struct client *cl, json_t *req)
{
	(void)req;
	xd_log(XD_LOG_NOTICE, NULL, -1, "reload requested by uid %u", cl->uid);
	return ctl_reload_reply(c);
}

typedef json_t *command_fn(struct xd_control *c, struct client *cl, json_t *req);

/* The handlers, by proto.h's command; who may run what is proto.h's. */
static command_fn *const handlers[XD_CMD_COUNT] = {
	[XD_CMD_STATUS] = cmd_status,
	[XD_CMD_TIMELINE] = cmd_timeline,
	[XD_CMD_PLAN] = cmd_plan,
	[XD_CMD_EVENTS] = cmd_events,
	[XD_CMD_START] = cmd_start,
	[XD_CMD_STOP] = cmd_stop,
	[XD_CMD_RESTART] = cmd_restart,
	[XD_CMD_SAVE] = cmd_save,
	[XD_CMD_MIGRATE] = cmd_migrate,
	[XD_CMD_RELOAD] = cmd_reload,
	[XD_CMD_SHUTDOWN_HOST] = cmd_shutdown_host,
};

/* Every field a request may carry has one JSON type: a wrong one is an
 * error naming the field, never a silent false or an empty list. */
static json_t *field_type_error(json_t *req)
{
	static const struct {
		const char *key;
		json_type type;              /* JSON_TRUE: a boolean */
		const char *what;
	} fields[] = {
		{ "names", JSON_ARRAY, "an array of strings" },
		{ "wait", JSON_TRUE, "true or false" },
		{ "dot", JSON_TRUE, "true or false" },
		{ "host", JSON_STRING, "a string" },
	};
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		json_t *v = json_object_get(req, fields[i].key);
		if (!v)
			continue;
		bool ok = fields[i].type == JSON_TRUE ? json_is_boolean(v)
						      : json_typeof(v) == fields[i].type;
		size_t k;
		json_t *e;
		if (ok && fields[i].type == JSON_ARRAY)
			json_array_foreach(v, k, e)
				ok &= json_is_string(e);
		if (!ok)
			return ctl_error(XD_EXIT_USAGE, "\"%s\" must be %s", fields[i].key,
					 fields[i].what);
	}
	return NULL;
}

static json_t *dispatch(struct xd_control *c, struct client *cl, json_t *req)
{
	if (cl->access == XD_ACCESS_NONE)
		return ctl_error(XD_EXIT_PERM, "permission denied: uid %u is neither root nor "
				   "in socket_group", cl->uid);
	if (!json_is_object(req))
		return ctl_error(XD_EXIT_USAGE, "a request is a JSON object");
	json_t *cmd_field = json_object_get(req, "cmd");
	const char *name = json_string_value(cmd_field);
	if (!name)
		return ctl_error(XD_EXIT_USAGE, cmd_field ? "\"cmd\" must be a string"
					     : "the request has no \"cmd\" string");
	const struct xd_cmd_spec *cmd = xd_proto_command(name);
	if (!cmd || !handlers[cmd->cmd])
		return ctl_error(XD_EXIT_USAGE, "unknown command \"%.64s\"", name);
	if (cmd->writes && cl->access != XD_ACCESS_ALL)
		return ctl_error(XD_EXIT_PERM, "permission denied: %s needs root "
				   "(socket_group members may only read)", name);
	json_t *err = field_type_error(req);
	if (err)
		return err;
	return handlers[cmd->cmd](c, cl, req);
}

void ctl_handle_line(struct client *cl, char *line, size_t len)
{
	json_error_t jerr;
	json_t *req = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
	json_t *reply;
	if (!req)
		reply = ctl_error(XD_EXIT_USAGE, "malformed request: %s", jerr.text);
	else
		reply = dispatch(cl->ctl, cl, req);
	json_decref(req);
	if (cl->access == XD_ACCESS_NONE)
		cl->closing = true;      /* one answer is all a stranger gets */
	if (reply || !cl->busy)
		ctl_send_json(cl, reply ? reply : ctl_error(XD_EXIT_FAILED, "internal error"));
}
