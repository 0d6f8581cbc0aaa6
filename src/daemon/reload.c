/* SPDX-License-Identifier: ISC */
/* Configuration reload (reload.h). */
#include "daemon/reload.h"

#include <stdio.h>

#include "config/diag.h"
#include "config/load.h"
#include "daemon/json_text.h"
#include "util/hash.h"
#include "util/log.h"

static const char *domain_key(const void *ctx, size_t i)
{
	const struct xd_config *cfg = ctx;
	return cfg->domains[i].name;
}

static void index_config(struct xd_index *ix, const struct xd_config *cfg)
{
	xd_index_init(ix, domain_key, cfg);
	for (size_t i = 0; i < cfg->n_domains; i++)
		if (xd_index_find(ix, cfg->domains[i].name) < 0)
			xd_index_add(ix, i);
}

/* Names matched through an index each way: O(domains), not O(domains²). */
static void diff_configs(const struct xd_config *old, const struct xd_config *new,
			 struct xd_reload_report *r)
{
	struct xd_index in_old, in_new;
	index_config(&in_old, old);
	index_config(&in_new, new);
	for (size_t i = 0; i < new->n_domains; i++) {
		const struct xd_domain_cfg *nd = &new->domains[i];
		long o = xd_index_find(&in_old, nd->name);
		if (o < 0) {
			json_array_append_new(r->added, xd_json_text(nd->name));
			if (nd->autostart)
				json_array_append_new(r->starting, xd_json_text(nd->name));
		} else if (!xd_domain_cfg_equal(old, &old->domains[o], new, nd)) {
			json_array_append_new(r->changed, xd_json_text(nd->name));
		}
	}
	for (size_t i = 0; i < old->n_domains; i++)
		if (xd_index_find(&in_new, old->domains[i].name) < 0)
			json_array_append_new(r->removed, xd_json_text(old->domains[i].name));
	xd_index_free(&in_old);
	xd_index_free(&in_new);
}

static void log_names(const char *what, json_t *names)
{
	size_t i;
	json_t *v;
	json_array_foreach(names, i, v)
		xd_log(XD_LOG_NOTICE, json_string_value(v), -1, "reload: %s", what);
}

static void diag_lines(const struct xd_diags *diags, json_t *out)
{
	for (size_t i = 0; i < diags->n; i++) {
		const struct xd_diag *d = &diags->v[i];
		char line[1024];
		if (d->line > 0)
			snprintf(line, sizeof(line), "%s:%d: %s", d->file, d->line, d->msg);
		else
			snprintf(line, sizeof(line), "%s: %s", d->file, d->msg);
		xd_log(XD_LOG_ERR, NULL, -1, "reload: %s", line);
		json_array_append_new(out, xd_json_text(line));
	}
}

static void switch_to(const struct xd_reload_env *env, struct xd_config *new,
		      const struct xd_reload_report *r)
{
	struct xd_config *old = *env->cfg;
	env->engine.ops->reload(env->engine.e, new);
	*env->cfg = new;
	if (env->applied)
		env->applied(env->arg, old, new);
	xd_config_free(old);
	log_names("added", r->added);
	log_names("removed from the configuration: left as it is, no longer managed",
		  r->removed);
	log_names("changed: new settings apply from now on", r->changed);
	xd_log(XD_LOG_NOTICE, NULL, -1, "reloaded %s", env->config_path);
}

enum xd_reload_result xd_reload(const struct xd_reload_env *env, struct xd_reload_report *r)
{
	*r = (struct xd_reload_report){ json_array(), json_array(), json_array(), json_array(),
					json_array() };
	if (!r->added || !r->starting || !r->removed || !r->changed || !r->errors)
		return XD_RELOAD_NOMEM;
	struct xd_config *new = NULL;
	struct xd_diags diags = { 0 };
	enum xd_reload_result res = XD_RELOAD_APPLIED;
	xd_service_reloading(env->service, false);
	if (xd_config_load(env->config_path, &new, &diags) < 0 || !new) {
		diag_lines(&diags, r->errors);
		xd_config_free(new);
		res = XD_RELOAD_REFUSED;
	} else {
		diff_configs(*env->cfg, new, r);
		switch_to(env, new, r);
	}
	xd_diags_free(&diags);
	xd_service_reloading(env->service, true);
	return res;
}

void xd_reload_report_free(struct xd_reload_report *r)
{
	json_decref(r->added);
	json_decref(r->starting);
	json_decref(r->removed);
	json_decref(r->changed);
	json_decref(r->errors);
	*r = (struct xd_reload_report){ 0 };
}
