/* SPDX-License-Identifier: ISC */
/*
 * The control socket: names to engine slots and configuration indices
 * (control_int.h).  Both go through a hash index, so a request naming
 * 4096 domains costs 4096 lookups, not 4096 scans of every domain.
 */
#include "daemon/control/control_int.h"

#include <stdlib.h>
#include <string.h>

#include "proto/proto.h"
#include "util/alloc.h"

const char *ctl_dom_name(const struct xd_control *c, size_t slot)
{
	struct xd_dom_status st;
	ctl_engine(c)->status(c->env.engine.e, slot, &st);
	return st.name;
}

static const char *slot_key(const void *ctx, size_t i)
{
	return ctl_dom_name(ctx, i);
}

static const char *cfg_key(const void *ctx, size_t i)
{
	const struct xd_config *cfg = ctx;
	return cfg->domains[i].name;
}

/* Slots are only ever added, so only the new ones need indexing; the
 * first slot of a name wins, as a scan from slot 0 would find it. */
long ctl_engine_slot(struct xd_control *c, const char *name)
{
	size_t n = ctl_engine(c)->count(c->env.engine.e);
	if (!c->slot_index.key || n < c->n_slots_indexed) {
		xd_index_free(&c->slot_index);
		xd_index_init(&c->slot_index, slot_key, c);
		c->n_slots_indexed = 0;
	}
	for (; c->n_slots_indexed < n; c->n_slots_indexed++)
		if (xd_index_find(&c->slot_index, ctl_dom_name(c, c->n_slots_indexed)) < 0)
			xd_index_add(&c->slot_index, c->n_slots_indexed);
	return xd_index_find(&c->slot_index, name);
}

/* Slots are the engine's own numbering (queries and events); commands
 * take indices into the configuration, which differ after a reload. */
long ctl_config_index(struct xd_control *c, const char *name)
{
	const struct xd_config *cfg = ctl_cfg(c);
	if (c->cfg_indexed != cfg) {
		xd_index_free(&c->cfg_index);
		xd_index_init(&c->cfg_index, cfg_key, cfg);
		for (size_t i = 0; i < cfg->n_domains; i++)
			if (xd_index_find(&c->cfg_index, cfg->domains[i].name) < 0)
				xd_index_add(&c->cfg_index, i);
		c->cfg_indexed = cfg;
	}
	return xd_index_find(&c->cfg_index, name);
}

/* After a reload: the next lookup indexes the new configuration (a new
 * one may even sit at the old one's address). */
void ctl_names_forget_config(struct xd_control *c)
{
	c->cfg_indexed = NULL;
}

void ctl_names_free(struct xd_control *c)
{
	xd_index_free(&c->slot_index);
	xd_index_free(&c->cfg_index);
}

static json_t *name_error(struct xd_control *c, const char *name, long d)
{
	if (!name)
		return ctl_error(XD_EXIT_USAGE, "\"names\" must be an array of strings");
	if (d < 0 && ctl_engine_slot(c, name) >= 0)
		return ctl_error(XD_EXIT_USAGE, "%.64s: not managed (no longer in the "
				 "configuration)", name);
	if (d < 0)
		return ctl_error(XD_EXIT_USAGE, "%.64s: unknown domain", name);
	return NULL;
}

static json_t *names_array(json_t *req, bool need_one, size_t *n)
{
	json_t *names = json_object_get(req, "names");
	if (names && !json_is_array(names))
		return ctl_error(XD_EXIT_USAGE, "\"names\" must be an array of strings");
	*n = names ? json_array_size(names) : 0;
	if (*n == 0 && need_one)
		return ctl_error(XD_EXIT_USAGE, "no domain named");
	if (*n > XD_PROTO_NAMES_MAX)
		return ctl_error(XD_EXIT_USAGE, "too many names (max %d)", XD_PROTO_NAMES_MAX);
	return NULL;
}

size_t *ctl_request_domains(struct xd_control *c, json_t *req, enum xd_cmd cmd, bool slots,
			    size_t *n_out, json_t **err)
{
	size_t n = 0;
	*n_out = 0;
	*err = names_array(req, xd_proto_commands[cmd].need_name, &n);
	if (*err)
		return NULL;
	json_t *names = json_object_get(req, "names");
	size_t *doms = xd_calloc(n ? n : 1, sizeof(*doms));
	for (size_t i = 0; i < n; i++) {
		const char *name = json_string_value(json_array_get(names, i));
		long d = name ? (slots ? ctl_engine_slot(c, name) : ctl_config_index(c, name)) : -1;
		*err = name_error(c, name, d);
		if (*err) {
			free(doms);
			return NULL;
		}
		doms[i] = (size_t)d;
	}
	*n_out = n;
	return doms;
}
