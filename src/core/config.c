/* SPDX-License-Identifier: ISC */
/* Helpers over the configuration model. */
#include "core/config.h"

#include <stdlib.h>
#include <string.h>

static const char *domain_name(const void *ctx, size_t i)
{
	return ((const struct xd_config *)ctx)->domains[i].name;
}

long xd_config_find(const struct xd_config *cfg, const char *name)
{
	long i = xd_index_find(&cfg->by_name, name);

	if (i >= 0)
		return i;
	for (size_t j = cfg->n_indexed; j < cfg->n_domains; j++)
		if (strcmp(cfg->domains[j].name, name) == 0)
			return (long)j;
	return -1;
}

static bool same_string(const char *a, const char *b)
{
	return strcmp(a ? a : "", b ? b : "") == 0;
}

static bool same_deps(const struct xd_config *ca, const size_t *a, size_t na,
		      const struct xd_config *cb, const size_t *b, size_t nb)
{
	if (na != nb)
		return false;
	for (size_t i = 0; i < na; i++)
		if (strcmp(ca->domains[a[i]].name, cb->domains[b[i]].name) != 0)
			return false;
	return true;
}

static bool same_ready(const struct xd_ready *a, const struct xd_ready *b)
{
	return a->kind == b->kind && same_string(a->path, b->path) &&
	       same_string(a->value, b->value) && a->has_value == b->has_value &&
	       a->delay_ms == b->delay_ms;
}

/* The xl cfg's values. */
static bool same_xl(const struct xd_domain_cfg *a, const struct xd_domain_cfg *b)
{
	return same_string(a->xl_path, b->xl_path) && a->memory_mb == b->memory_mb &&
	       a->maxmem_mb == b->maxmem_mb && a->hvm == b->hvm &&
	       a->on_poweroff == b->on_poweroff && a->on_reboot == b->on_reboot &&
	       a->on_crash == b->on_crash && a->on_watchdog == b->on_watchdog &&
	       a->on_soft_reset == b->on_soft_reset;
}

/* The [domain] section's policy. */
static bool same_policy(const struct xd_domain_cfg *a, const struct xd_domain_cfg *b)
{
	return a->autostart == b->autostart && same_ready(&a->ready, &b->ready) &&
	       a->ready_timeout_ms == b->ready_timeout_ms &&
	       a->start_delay_ms == b->start_delay_ms && a->start_retries == b->start_retries &&
	       a->retry_delay_ms == b->retry_delay_ms && a->restart_limit == b->restart_limit &&
	       a->restart_window_ms == b->restart_window_ms &&
	       a->on_host_shutdown == b->on_host_shutdown &&
	       a->shutdown_timeout_ms == b->shutdown_timeout_ms &&
	       a->save_timeout_ms == b->save_timeout_ms &&
	       same_string(a->migrate_to, b->migrate_to) &&
	       same_string(a->migrate_command, b->migrate_command) &&
	       a->migrate_timeout_ms == b->migrate_timeout_ms &&
	       a->migrate_live == b->migrate_live &&
	       same_string(a->exec_start_pre, b->exec_start_pre) &&
	       same_string(a->exec_stop_post, b->exec_stop_post) &&
	       a->hook_timeout_ms == b->hook_timeout_ms;
}

bool xd_domain_cfg_equal(const struct xd_config *ca, const struct xd_domain_cfg *a,
			 const struct xd_config *cb, const struct xd_domain_cfg *b)
{
	return same_xl(a, b) && same_policy(a, b) &&
	       same_string(a->config_error, b->config_error) &&
	       same_deps(ca, a->after, a->n_after, cb, b->after, b->n_after) &&
	       same_deps(ca, a->requires, a->n_requires, cb, b->requires, b->n_requires);
}

void xd_config_index(struct xd_config *cfg)
{
	if (!cfg->by_name.key)
		xd_index_init(&cfg->by_name, domain_name, cfg);
	for (; cfg->n_indexed < cfg->n_domains; cfg->n_indexed++)
		if (xd_index_find(&cfg->by_name, cfg->domains[cfg->n_indexed].name) < 0)
			xd_index_add(&cfg->by_name, cfg->n_indexed);
}

void xd_domain_cfg_free(struct xd_domain_cfg *d)
{
	free(d->xl_path);
	free(d->ready.path);
	free(d->ready.value);
	free(d->after);
	free(d->requires);
	free(d->migrate_to);
	free(d->migrate_command);
	free(d->exec_start_pre);
	free(d->exec_stop_post);
	free(d->config_error);
}

void xd_config_free(struct xd_config *cfg)
{
	if (!cfg)
		return;
	struct xd_global *g = &cfg->global;
	free(g->xen_config_dir);
	free(g->auto_dir);
	free(g->include_dir);
	free(g->state_dir);
	free(g->save_dir);
	free(g->socket);
	free(g->socket_group);
	free(g->migrate_to);
	free(g->migrate_command);
	for (size_t i = 0; i < cfg->n_domains; i++)
		xd_domain_cfg_free(&cfg->domains[i]);
	free(cfg->domains);
	for (size_t i = 0; i < cfg->n_files; i++)
		free(cfg->files[i]);
	free(cfg->files);
	xd_index_free(&cfg->by_name);
	free(cfg);
}

const char *xd_action_name(enum xd_action a)
{
	switch (a) {
	case XD_ACT_DESTROY: return "destroy";
	case XD_ACT_RESTART: return "restart";
	case XD_ACT_RENAME_RESTART: return "rename-restart";
	case XD_ACT_PRESERVE: return "preserve";
	case XD_ACT_COREDUMP_DESTROY: return "coredump-destroy";
	case XD_ACT_COREDUMP_RESTART: return "coredump-restart";
	case XD_ACT_SOFT_RESET: return "soft-reset";
	}
	return "?";
}

const char *xd_host_action_name(enum xd_host_action a)
{
	switch (a) {
	case XD_HOST_SHUTDOWN: return "shutdown";
	case XD_HOST_SAVE: return "save";
	case XD_HOST_DESTROY: return "destroy";
	case XD_HOST_LEAVE: return "leave";
	case XD_HOST_MIGRATE: return "migrate";
	}
	return "?";
}

/*
 * The characters are xenstored's own set (valid_chars(): letters, digits,
 * '-', '/', '_', '@') without '@', which marks special watch paths; '.' is
 * not in it, so no path with '.' (or '..') could ever exist.
 */
_Static_assert(XD_RELPATH_MAX == 235, "the message below names the limit");

const char *xd_xenstore_relpath_problem(const char *p)
{
	size_t len = strlen(p);

	if (len == 0)
		return "the path is empty";
	if (len > XD_RELPATH_MAX)
		return "the path is longer than 235 characters (the limit of a full XenStore path is 255)";
	if (p[0] == '/')
		return "the path must be relative to the guest's /local/domain/<domid>";
	if (strstr(p, ".."))
		return "the path may not contain '..'";
	if (strspn(p, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_/-") != len)
		return "the path may only contain letters, digits, '_', '/' and '-' (as in XenStore)";
	if (strstr(p, "//") || p[len - 1] == '/')
		return "the path has an empty component";
	return NULL;
}

const char *xd_migrate_host_problem(const char *h)
{
	static const char ok[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
				 "._-:@[]%+";
	size_t len = strlen(h);

	if (len == 0)
		return "the host is empty";
	if (len > XD_HOST_MAX)
		return "the host is longer than 255 characters";
	if (h[0] == '-')
		return "the host may not start with '-' (it would be an option of the migrate_command)";
	if (strspn(h, ok) != len)
		return "the host may only contain letters, digits and . _ - : @ [ ] % +";
	return NULL;
}
