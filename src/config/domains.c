/* SPDX-License-Identifier: ISC */
/*
 * The domains of a configuration as the loader builds them: defaults,
 * [domain NAME] sections, the by-name index (xd_config_index), and what
 * the loader keeps about each domain until the end of the load.
 */
#include "config/load_int.h"

#include <stdlib.h>
#include <string.h>

void ld_global_defaults(struct xd_global *g)
{
	g->xen_config_dir = xd_strdup("/etc/xen");
	g->auto_dir = xd_strdup("/etc/xen/auto");
	g->include_dir = xd_strdup("/etc/xendomd/conf.d");
	g->state_dir = xd_strdup("/var/lib/xendomd");
	g->save_dir = xd_strdup("/var/lib/xen/save");
	g->socket = xd_strdup("/run/xendomd/control");
	g->socket_group = xd_strdup("");
	g->max_parallel_starts = 4;
	g->max_parallel_stops = 0;
	g->start_timeout_ms = 300 * 1000;
	g->on_host_shutdown = XD_HOST_SHUTDOWN;
	g->shutdown_timeout_ms = 120 * 1000;
	g->save_timeout_ms = 600 * 1000;
	g->migrate_to = xd_strdup("");
	g->migrate_command = xd_strdup("ssh");
	g->migrate_timeout_ms = 600 * 1000;
	g->migrate_live = true;
	g->shutdown_fallback = XD_FALLBACK_DESTROY;
	g->stop_unmanaged = true;
	g->restore_on_boot = true;
	g->restore_unmanaged = true;
	g->on_restore_failure = XD_RESTORE_FAIL;
	g->notify_ready = XD_NOTIFY_AFTER_BOOT;
	g->start_order = XD_ORDER_CONFIG;
}

/* Policy defaults; the halt keys (ld_inherit_global) come from
 * [global] at the end, and the xl cfg fields from the xl cfg. */
static void domain_defaults(struct xd_domain_cfg *d, const char *name, struct xd_origin origin)
{
	memset(d, 0, sizeof(*d));
	snprintf(d->name, sizeof(d->name), "%s", name);
	d->origin = origin;
	d->autostart = true;
	d->ready.kind = XD_READY_RUNNING;
	d->ready_timeout_ms = 300 * 1000;
	d->start_delay_ms = 0;
	d->start_retries = 2;
	d->retry_delay_ms = 5 * 1000;
	d->restart_limit = 5;
	d->restart_window_ms = 600 * 1000;
	d->hook_timeout_ms = 30 * 1000;
}

void ld_free_names(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void ld_dom_src_free(struct dom_src *s)
{
	free(s->config);
	ld_free_names(s->after, s->n_after);
	ld_free_names(s->requires, s->n_requires);
	memset(s, 0, sizeof(*s));
}

void ld_scratch_free(struct loader *L)
{
	xd_domain_cfg_free(&L->scratch);  /* all it owns: ready= too */
	memset(&L->scratch, 0, sizeof(L->scratch));
	ld_dom_src_free(&L->scratch_src);
}

/* A new domain with default policy; returns its index. */
size_t ld_append_domain(struct loader *L, const char *name, struct xd_origin origin)
{
	struct xd_config *c = L->cfg;

	if (c->n_domains == L->cap_domains) {
		L->cap_domains = L->cap_domains ? 2 * L->cap_domains : 16;
		c->domains = xd_reallocarray(c->domains, L->cap_domains, sizeof(*c->domains));
		L->src = xd_reallocarray(L->src, L->cap_domains, sizeof(*L->src));
	}
	domain_defaults(&c->domains[c->n_domains], name, origin);
	memset(&L->src[c->n_domains], 0, sizeof(*L->src));
	c->n_domains++;
	xd_config_index(c);      /* lookups are a hash, not a scan: hosts have thousands */
	return c->n_domains - 1;
}

void ld_begin_domain(struct loader *L, const char *name)
{
	const char *why = xd_domain_name_problem(name);
	long dup = xd_config_find(L->cfg, name);
	struct xd_origin here = { L->file, L->line };

	ld_scratch_free(L);
	L->sec = SEC_DOMAIN;
	if (why || dup >= 0) {
		if (why)
			ld_err(L, "bad domain name '%s': %s", name, why);
		else
			ld_err(L, "duplicate domain %s (first defined at %s:%d)", name,
			       L->cfg->domains[dup].origin.file, L->cfg->domains[dup].origin.line);
		if (dup >= 0)    /* which of the two was meant is unknown: fail the domain */
			ld_blame(L, (size_t)dup, L->diags->n - 1);
		domain_defaults(&L->scratch, "", here);
		L->dom = &L->scratch;
		L->dsrc = &L->scratch_src;
		return;
	}
	size_t i = ld_append_domain(L, name, here);
	L->dom = &L->cfg->domains[i];
	L->dsrc = &L->src[i];
	L->owner = (long)i;
}

/* What a domain without its own halt keys takes from [global]: each key
 * the domain's section does not set (seen NULL: none). */
void ld_inherit_global(struct xd_domain_cfg *d, const struct xd_global *g,
		       const struct xd_origin *seen)
{
	if (!seen || !seen[KEY_ON_HOST_SHUTDOWN].line)
		d->on_host_shutdown = g->on_host_shutdown;
	if (!seen || !seen[KEY_SHUTDOWN_TIMEOUT].line)
		d->shutdown_timeout_ms = g->shutdown_timeout_ms;
	if (!seen || !seen[KEY_SAVE_TIMEOUT].line)
		d->save_timeout_ms = g->save_timeout_ms;
	if (!seen || !seen[KEY_MIGRATE_TIMEOUT].line)
		d->migrate_timeout_ms = g->migrate_timeout_ms;
	if (!seen || !seen[KEY_MIGRATE_LIVE].line)
		d->migrate_live = g->migrate_live;
	if (!d->migrate_to)      /* a string is NULL until set */
		d->migrate_to = xd_strdup(g->migrate_to);
	if (!d->migrate_command)
		d->migrate_command = xd_strdup(g->migrate_command);
}

/* on_host_shutdown = migrate needs a host.  [global]'s is checked alone
 * (and falls back to shutdown, as any [global] error does); a domain's
 * at its own on_host_shutdown (or its empty migrate_to) and is the
 * domain's error. */
static void check_global_migrate(struct loader *L)
{
	struct xd_global *g = &L->cfg->global;
	const struct xd_origin *o = &L->gseen[KEY_ON_HOST_SHUTDOWN];

	if (g->on_host_shutdown != XD_HOST_MIGRATE || *g->migrate_to)
		return;
	ld_err_at(L, o->file, o->line, "on_host_shutdown = migrate needs migrate_to = HOST in [global]");
	g->on_host_shutdown = XD_HOST_SHUTDOWN;
}

static void check_domain_migrate(struct loader *L, size_t i)
{
	const struct xd_domain_cfg *d = &L->cfg->domains[i];
	const struct xd_origin *seen = L->src[i].seen;
	const struct xd_origin *o = seen[KEY_ON_HOST_SHUTDOWN].line ? &seen[KEY_ON_HOST_SHUTDOWN]
								     : &seen[KEY_MIGRATE_TO];

	if (d->on_host_shutdown != XD_HOST_MIGRATE || *d->migrate_to)
		return;
	ld_err_at(L, o->file, o->line, "on_host_shutdown = migrate needs migrate_to = HOST "
		  "(in [domain %s] or [global])", d->name);
	ld_blame(L, i, L->diags->n - 1);
}

void ld_apply_global_defaults(struct loader *L)
{
	L->owner = -1;
	check_global_migrate(L);
	for (size_t i = 0; i < L->cfg->n_domains; i++) {
		ld_inherit_global(&L->cfg->domains[i], &L->cfg->global, L->src[i].seen);
		check_domain_migrate(L, i);
	}
}
