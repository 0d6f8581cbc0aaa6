/* SPDX-License-Identifier: ISC */
/* The configuration a daemon start boots with (bootcfg.h). */
#include "daemon/bootcfg.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "config/load.h"
#include "util/alloc.h"
#include "util/log.h"

const char *xd_boot_default_path(const char *built_in)
{
	const char *env = getenv("XENDOMD_DEFAULT_CONFIG");
	return env && env[0] ? env : built_in;
}

/* Every diagnostic, at its own level; an error here fails one domain
 * (or falls back to a default), it does not stop the daemon. */
static void log_diags(const struct xd_diags *diags)
{
	for (size_t i = 0; i < diags->n; i++) {
		const struct xd_diag *g = &diags->v[i];
		enum xd_log_level lvl = g->severity == XD_DIAG_ERROR ? XD_LOG_ERR
				      : g->severity == XD_DIAG_WARNING ? XD_LOG_WARNING
				      : XD_LOG_NOTICE;
		if (g->line > 0)
			xd_log(lvl, NULL, -1, "%s:%d: %s", g->file, g->line, g->msg);
		else
			xd_log(lvl, NULL, -1, "%s: %s", g->file, g->msg);
	}
}

static size_t count_broken(const struct xd_config *cfg)
{
	size_t n = 0;
	for (size_t i = 0; i < cfg->n_domains; i++)
		n += cfg->domains[i].config_error != NULL;
	return n;
}

int xd_boot_config_load(const char *path, bool explicit_path, xd_boot_load_fn *load,
			struct xd_config **out)
{
	struct stat st;
	bool absent = stat(path, &st) < 0 && errno == ENOENT;
	if (absent && explicit_path) {
		xd_log(XD_LOG_ERR, NULL, -1, "%s: no such configuration file", path);
		return -1;
	}
	unsigned flags = XD_LOAD_DEGRADED | (explicit_path ? 0 : XD_LOAD_MISSING_OK);
	struct xd_diags diags = { 0 };
	int rc = load(path, flags, out, &diags);
	log_diags(&diags);
	if (rc < 0) {
		xd_log(XD_LOG_ERR, NULL, -1, "%s: cannot read the configuration", path);
		xd_diags_free(&diags);
		*out = NULL;
		return -1;
	}
	size_t broken = count_broken(*out), errors = xd_diags_errors(&diags);
	if (errors)
		xd_log(XD_LOG_WARNING, NULL, -1,
		       "%s: %zu error%s in the configuration; %zu domain%s will not start "
		       "(configuration), the rest boots", path, errors, errors == 1 ? "" : "s",
		       broken, broken == 1 ? "" : "s");
	xd_diags_free(&diags);
	return 0;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && strcmp(s + n - m, suffix) == 0;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void xd_boot_list_images(const char *dir, char ***files, size_t *n)
{
	size_t cap = 0;
	*files = NULL;
	*n = 0;
	DIR *dh = opendir(dir);
	if (!dh) {
		if (errno != ENOENT)
			xd_log(XD_LOG_WARNING, NULL, -1, "save_dir %s: %s", dir, strerror(errno));
		return;
	}
	struct dirent *de;
	while ((de = readdir(dh))) {
		const char *nm = de->d_name;
		struct stat st;
		if (nm[0] == '.' || ends_with(nm, ".tmp") || ends_with(nm, ".unrestorable") ||
		    fstatat(dirfd(dh), nm, &st, 0) < 0 || !S_ISREG(st.st_mode))
			continue;
		XD_GROW(*files, *n, cap);
		(*files)[(*n)++] = xd_asprintf("%s/%s", dir, nm);
	}
	closedir(dh);
	if (*n)
		qsort(*files, *n, sizeof(**files), by_name);
}

void xd_boot_images_free(char **files, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(files[i]);
	free(files);
}
