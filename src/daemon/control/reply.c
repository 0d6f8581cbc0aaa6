/* SPDX-License-Identifier: ISC */
/* The control socket: the JSON objects of replies and events (control_int.h). */
#include "daemon/control/control_int.h"

#include <stdarg.h>
#include <stdio.h>

#include "daemon/json_text.h"
#include "util/escape.h"

/* Round to the millisecond and print without float noise. */
json_t *ctl_seconds(const struct xd_control *c, uint64_t ms)
{
	if (ms == XD_NEVER)
		return json_null();
	uint64_t rel = ms > c->env.started_ms ? ms - c->env.started_ms : 0;
	return json_real((double)rel / 1000.0);
}

json_t *ctl_error(int code, const char *fmt, ...)
{
	char raw[512], msg[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	xd_escape_into(msg, sizeof(msg), raw);   /* it may quote the request */
	return json_pack("{s:b, s:i, s:s}", "ok", 0, "code", code, "error", msg);
}

json_t *ctl_ok(void)
{
	return json_pack("{s:b}", "ok", 1);
}

static json_t *json_domid(long domid)
{
	return domid < 0 ? json_null() : json_integer(domid);
}

json_t *ctl_status_object(const struct xd_control *c, const struct xd_dom_status *st)
{
	return json_pack("{s:o, s:s, s:o, s:o, s:I, s:o, s:b}",
			 "name", xd_json_text(st->name),
			 "state", xd_state_name(st->state),
			 "domid", json_domid(st->domid),
			 "reason", xd_json_text(st->reason),
			 "attempts", (json_int_t)st->attempts,
			 "since", ctl_seconds(c, st->since_ms),
			 "managed", st->managed);
}

json_t *ctl_event_object(const struct xd_control *c, const struct xd_dom_status *st)
{
	return json_pack("{s:o, s:o, s:s, s:o, s:o}",
			 "time", ctl_seconds(c, st->since_ms),
			 "name", xd_json_text(st->name),
			 "state", xd_state_name(st->state),
			 "domid", json_domid(st->domid),
			 "reason", xd_json_text(st->reason));
}

json_t *ctl_timeline_object(const struct xd_control *c, const char *name,
			       const struct xd_timeline *tl)
{
	return json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:I}",
			 "name", xd_json_text(name),
			 "queued", ctl_seconds(c, tl->queued),
			 "started", ctl_seconds(c, tl->started),
			 "created", ctl_seconds(c, tl->created),
			 "ready", ctl_seconds(c, tl->ready),
			 "stopping", ctl_seconds(c, tl->stopping),
			 "stopped", ctl_seconds(c, tl->stopped),
			 "attempts", (json_int_t)tl->attempts);
}

json_t *ctl_name_list(const struct xd_config *cfg, const size_t *doms, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; a && i < n; i++)
		json_array_append_new(a, xd_json_text(cfg->domains[doms[i]].name));
	return a;
}

json_t *ctl_host_domains(const struct xd_control *c)
{
	json_t *a = json_array();
	size_t n = ctl_engine(c)->count(c->env.engine.e);
	for (size_t d = 0; a && d < n; d++) {
		struct xd_dom_status st;
		ctl_engine(c)->status(c->env.engine.e, d, &st);
		json_array_append_new(a, ctl_status_object(c, &st));
	}
	return a;
}

bool ctl_flag(json_t *req, const char *key)
{
	return json_is_true(json_object_get(req, key));
}
