/* SPDX-License-Identifier: ISC */
/*
 * compat-load CONF: load CONF as the daemon's start does
 * (xd_config_load_degraded) and print, one line each, tab-separated:
 *   start PATH NAME          a domain that boots (autostart, no error)
 *   manual PATH NAME         a domain kept but not started at boot
 *   fail PATH NAME: ERROR    a domain kept, failed (configuration)
 *   skip FILE MESSAGE        a warning: the entry is passed over
 *   warning PATH MESSAGE     a warning about a domain's xl cfg (it still loads)
 *   error FILE LINE: MESSAGE an error that names no domain (entry left out)
 *   notice FILE MESSAGE
 * PATH is the domain's xl cfg.  Exit status: 0, or 1 if the daemon would
 * not start at all.  Used by tests/compat and tests/compat/list-entries.
 */
#include <stdio.h>
#include <string.h>

#include "config/load.h"

static int is_domain_file(const struct xd_config *c, const char *file)
{
	for (size_t i = 0; i < c->n_domains; i++)
		if (c->domains[i].xl_path && strcmp(c->domains[i].xl_path, file) == 0)
			return 1;
	return 0;
}

static void print_domains(const struct xd_config *c)
{
	for (size_t i = 0; i < c->n_domains; i++) {
		const struct xd_domain_cfg *d = &c->domains[i];
		const char *path = d->xl_path ? d->xl_path : "-";
		if (d->config_error)
			printf("fail\t%s\t%s: %s\n", path, d->name, d->config_error);
		else
			printf("%s\t%s\t%s\n", d->autostart ? "start" : "manual", path, d->name);
	}
}

static void print_diags(const struct xd_config *c, const struct xd_diags *diags)
{
	for (size_t i = 0; i < diags->n; i++) {
		const struct xd_diag *g = &diags->v[i];
		if (g->severity == XD_DIAG_WARNING)
			printf("%s\t%s\t%s\n", is_domain_file(c, g->file) ? "warning" : "skip", g->file,
			       g->msg);
		else if (g->severity == XD_DIAG_NOTICE)
			printf("notice\t%s\t%s\n", g->file, g->msg);
		else if (!is_domain_file(c, g->file))
			printf("error\t%s\t%d: %s\n", g->file, g->line, g->msg);
	}
}

int main(int argc, char **argv)
{
	struct xd_diags diags = { 0 };
	struct xd_config *cfg;
	unsigned flags = XD_LOAD_DEGRADED;

	if (argc == 3 && strcmp(argv[1], "--missing-ok") == 0) {
		flags |= XD_LOAD_MISSING_OK;
		argv++;
		argc--;
	}
	if (argc != 2) {
		fprintf(stderr, "usage: compat-load [--missing-ok] CONF\n");
		return 2;
	}
	if (xd_config_load_flags(argv[1], flags, &cfg, &diags) < 0) {
		xd_diags_print(&diags, stderr);
		xd_diags_free(&diags);
		return 1;
	}
	print_domains(cfg);
	print_diags(cfg, &diags);
	xd_diags_free(&diags);
	xd_config_free(cfg);
	return 0;
}
