/* SPDX-License-Identifier: ISC */
/*
 * What is resolved once everything is read: each section's xl cfg (so
 * xen_config_dir may be set anywhere), after/requires names to domain
 * indices, and dependency cycles.
 */
#include "config/load_int.h"
#include "config/xlcfg.h"
#include "core/plan.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

void ld_apply_xlcfg(struct xd_domain_cfg *d, const struct xd_xlcfg *x)
{
	d->memory_mb = x->memory_mb;
	d->maxmem_mb = x->maxmem_mb;
	d->hvm = x->hvm;
	d->on_poweroff = x->on_poweroff;
	d->on_reboot = x->on_reboot;
	d->on_crash = x->on_crash;
	d->on_watchdog = x->on_watchdog;
	d->on_soft_reset = x->on_soft_reset;
}

/* config =, else <dir>/<name>.cfg, else <dir>/<name>; NULL (reported) if
 * there is no such file. */
static char *find_xlcfg(struct loader *L, struct xd_domain_cfg *d, struct dom_src *s)
{
	const char *dir = L->cfg->global.xen_config_dir;
	struct stat st;

	if (s->config) {
		const struct xd_origin *o = &s->seen[KEY_CONFIG];
		char *path = s->config[0] == '/' ? xd_strdup(s->config) : ld_join_path(dir, s->config);
		if (stat(path, &st) == 0)
			return path;
		ld_err_at(L, o->file, o->line, "config: %s: %s", path, strerror(errno));
		free(path);
		return NULL;
	}
	char *name_cfg = xd_asprintf("%s.cfg", d->name);
	char *tried[2] = { ld_join_path(dir, name_cfg), ld_join_path(dir, d->name) };
	free(name_cfg);
	for (int i = 0; i < 2; i++)
		if (stat(tried[i], &st) == 0) {
			free(tried[1 - i]);
			return tried[i];
		}
	ld_err_at(L, d->origin.file, d->origin.line,
	          "no xl cfg for domain %s: tried %s and %s (set config = to name it)",
	          d->name, tried[0], tried[1]);
	free(tried[0]);
	free(tried[1]);
	return NULL;
}

void ld_read_section_xlcfgs(struct loader *L)
{
	for (size_t i = 0; i < L->cfg->n_domains; i++) {
		struct xd_domain_cfg *d = &L->cfg->domains[i];
		struct xd_xlcfg x;
		size_t first = L->diags->n;

		d->xl_path = find_xlcfg(L, d, &L->src[i]);
		if (d->xl_path) {
			if (xd_xlcfg_read(d->xl_path, &x, L->diags) == 0)
				ld_apply_xlcfg(d, &x);
			if (x.name && strcmp(x.name, d->name) != 0)
				ld_err_at(L, d->xl_path, x.name_line,
				          "name = \"%s\" does not match [domain %s] at %s:%d",
				          x.name, d->name, d->origin.file, d->origin.line);
			xd_xlcfg_free(&x);
		}
		ld_blame(L, i, first);
	}
}

static const char *closest_domain(const struct xd_config *c, const char *name)
{
	struct xd_suggestion sg = XD_SUGGESTION_INIT(name);

	for (size_t i = 0; i < c->n_domains; i++)
		xd_suggest(&sg, c->domains[i].name);
	return sg.best;
}

static void resolve_list(struct loader *L, const struct xd_origin *o, const char *key,
			 char **names, size_t n_names, size_t **out, size_t *n_out)
{
	*out = xd_calloc(n_names, sizeof(**out));
	*n_out = 0;
	for (size_t k = 0; k < n_names; k++) {
		long j = xd_config_find(L->cfg, names[k]);
		if (j >= 0) {
			(*out)[(*n_out)++] = (size_t)j;
			continue;
		}
		const char *hint = closest_domain(L->cfg, names[k]);
		if (hint)
			ld_err_at(L, o->file, o->line, "%s: unknown domain '%s'; did you mean '%s'?", key,
			          names[k], hint);
		else
			ld_err_at(L, o->file, o->line, "%s: unknown domain '%s'", key, names[k]);
	}
}

void ld_resolve_deps(struct loader *L)
{
	for (size_t i = 0; i < L->cfg->n_domains; i++) {
		struct xd_domain_cfg *d = &L->cfg->domains[i];
		struct dom_src *s = &L->src[i];
		L->owner = (long)i;
		resolve_list(L, &s->seen[KEY_AFTER], "after", s->after, s->n_after, &d->after, &d->n_after);
		resolve_list(L, &s->seen[KEY_REQUIRES], "requires", s->requires, s->n_requires,
			     &d->requires, &d->n_requires);
	}
	L->owner = -1;
}

static bool index_listed(const size_t *v, size_t n, size_t x)
{
	for (size_t i = 0; i < n; i++)
		if (v[i] == x)
			return true;
	return false;
}

/* Each cycle at the after/requires key holding its closing arrow. */
void ld_report_cycles(struct loader *L)
{
	struct xd_cycle *cycles;
	size_t n;

	if (xd_plan_find_cycles(L->cfg, &cycles, &n) < 0)
		xd_oom();
	for (size_t i = 0; i < n; i++) {
		size_t from = cycles[i].v[cycles[i].len - 2], to = cycles[i].v[cycles[i].len - 1];
		const struct xd_domain_cfg *d = &L->cfg->domains[from];
		enum key_id key = index_listed(d->requires, d->n_requires, to) ? KEY_REQUIRES : KEY_AFTER;
		const struct xd_origin *o = &L->src[from].seen[key];
		char *text = xd_plan_cycle_text(L->cfg, cycles[i].v, cycles[i].len);
		if (!text)
			xd_oom();
		ld_err_at(L, o->file, o->line, "dependency cycle: %s", text);
		free(text);
		for (size_t k = 0; k + 1 < cycles[i].len; k++)   /* v ends where it starts */
			ld_blame(L, cycles[i].v[k], L->diags->n - 1);
	}
	xd_cycles_free(cycles, n);
}
