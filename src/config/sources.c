/* SPDX-License-Identifier: ISC */
/*
 * Which files make a configuration, in order: the main file, include_dir's
 * *.conf files, then (once the sections' xl cfgs are read) auto_dir; and
 * the two entry points of load.h.
 */
#include "config/load_int.h"
#include "config/xlcfg.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

char *ld_join_path(const char *dir, const char *name)
{
	size_t l = strlen(dir);
	return xd_asprintf("%s%s%s", dir, l && dir[l - 1] == '/' ? "" : "/", name);
}

static int compare_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t ls = strlen(s), lx = strlen(suffix);
	return ls >= lx && strcmp(s + ls - lx, suffix) == 0;
}

/*
 * The names in dir that keep() accepts, in strcmp order (*n of them), or
 * NULL.  A missing dir is no error unless its key was set (key->line);
 * problems are reported at the key.
 */
static char **sorted_entries(struct loader *L, const char *dir, const struct xd_origin *key,
			     bool (*keep)(const char *), size_t *n)
{
	DIR *d = opendir(dir);       /* glibc opens directories O_CLOEXEC */
	char **names = NULL;
	struct dirent *e;

	*n = 0;
	if (!d) {
		if (errno != ENOENT || key->line)
			ld_err_at(L, key->file, key->line, "%s: %s", dir, strerror(errno));
		return NULL;
	}
	while ((e = readdir(d)) != NULL) {
		if (!keep(e->d_name))
			continue;
		names = xd_reallocarray(names, *n + 1, sizeof(*names));
		names[(*n)++] = xd_strdup(e->d_name);
	}
	closedir(d);
	if (*n)
		qsort(names, *n, sizeof(*names), compare_names);
	return names;
}

/* fn(L, path) for every regular file (or symlink to one) in dir whose name
 * keep() accepts, in strcmp order; entries that cannot be examined (broken
 * symlinks) are errors at themselves, other kinds are passed over. */
static void for_each_file(struct loader *L, const char *dir, const struct xd_origin *key,
			  bool (*keep)(const char *), void (*fn)(struct loader *, const char *))
{
	size_t n;
	char **names = sorted_entries(L, dir, key, keep, &n);

	for (size_t i = 0; i < n; i++) {
		char *path = ld_join_path(dir, names[i]);
		struct stat st;
		if (stat(path, &st) < 0)
			ld_err_at(L, path, 0, "cannot use: %s", strerror(errno));
		else if (S_ISREG(st.st_mode))
			fn(L, path);
		free(path);
	}
	ld_free_names(names, n);
}

/* Where a [global] directory key was set, or the main file if it was not. */
static struct xd_origin dir_key_origin(const struct loader *L, enum key_id id, const char *main_path)
{
	struct xd_origin o = L->gseen[id];
	if (!o.line)
		o.file = main_path;
	return o;
}

static bool is_include_name(const char *name)
{
	return name[0] != '.' && ends_with(name, ".conf");
}

static bool not_dotfile(const char *name)
{
	return name[0] != '.';
}

/* The pattern of backup and package-manager leftovers name matches, or
 * NULL.  "*.dpkg-*" and "*.ucf-*" match anywhere after the first byte. */
static const char *leftover_pattern(const char *name)
{
	static const char *const suffixes[][2] = {
		{ "~", "*~" }, { "#", "*#" }, { ".bak", "*.bak" }, { ".old", "*.old" },
		{ ".orig", "*.orig" }, { ".rej", "*.rej" }, { ".swp", "*.swp" },
		{ ".tmp", "*.tmp" }, { ".save", "*.save" }, { ".disabled", "*.disabled" },
		{ ".rpmnew", "*.rpmnew" }, { ".rpmsave", "*.rpmsave" }, { ".rpmorig", "*.rpmorig" },
	};
	for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++)
		if (ends_with(name, suffixes[i][0]))
			return suffixes[i][1];
	if (strstr(name + 1, ".dpkg-"))
		return "*.dpkg-*";
	if (strstr(name + 1, ".ucf-"))
		return "*.ucf-*";
	return NULL;
}

/* Why the auto_dir entry at path is no xl cfg to read (NULL: read it);
 * *why_buf is freed by the caller. */
static const char *auto_skip_reason(const char *name, const char *path, char **why_buf)
{
	const char *pattern = leftover_pattern(name);
	struct stat st, lst;

	*why_buf = NULL;
	if (pattern) {
		*why_buf = xd_asprintf("a backup or package-manager leftover (%s)", pattern);
		return *why_buf;
	}
	if (stat(path, &st) < 0) {
		if (errno == ENOENT && lstat(path, &lst) == 0 && S_ISLNK(lst.st_mode))
			return "a dangling symbolic link";
		*why_buf = xd_asprintf("cannot use: %s", strerror(errno));
		return *why_buf;
	}
	if (S_ISDIR(st.st_mode))
		return "a directory";
	if (!S_ISREG(st.st_mode))
		return "not a regular file";
	return NULL;
}

static void read_include(struct loader *L, const char *path)
{
	ld_read_file(L, path, false);
}

static void read_includes(struct loader *L, const char *main_path)
{
	struct xd_origin key = dir_key_origin(L, KEY_INCLUDE_DIR, main_path);

	if (*L->cfg->global.include_dir)
		for_each_file(L, L->cfg->global.include_dir, &key, is_include_name, read_include);
}

/* A new auto_dir domain from the xl cfg at path (x), with default policy;
 * errors of that xl cfg (diags from first on) are its config_error. */
static void append_auto_domain(struct loader *L, const char *path, const struct xd_xlcfg *x,
			       int rc, size_t first)
{
	struct xd_origin origin = { ld_intern_file(L, path), 0 };
	size_t i = ld_append_domain(L, x->name, origin);   /* reallocates domains */
	struct xd_domain_cfg *d = &L->cfg->domains[i];

	d->from_auto_dir = true;
	d->xl_path = xd_strdup(path);
	ld_inherit_global(d, &L->cfg->global, NULL);
	if (rc == 0)
		ld_apply_xlcfg(d, x);
	ld_blame(L, i, first);
}

/* An auto_dir file: a domain with default policy, unless a [domain]
 * section already defines it (the section wins) or an earlier entry does
 * (the first wins, with a warning).  Without a usable name= it names no
 * domain: its errors are in diags, and it is left out. */
static void add_auto_domain(struct loader *L, const char *path)
{
	struct xd_xlcfg x;
	size_t first = L->diags->n;
	int rc = xd_xlcfg_read(path, &x, L->diags);
	long known = x.name ? xd_config_find(L->cfg, x.name) : -1;

	if (known >= 0 && !L->cfg->domains[known].from_auto_dir) {
		/* the [domain] section wins */
	} else if (known >= 0) {
		ld_warn_at(L, path, x.name_line, "skipped: domain %s is already defined by %s "
		           "(the first file in name order wins)", x.name, L->cfg->domains[known].xl_path);
	} else if (x.name && !xd_domain_name_problem(x.name)) {
		append_auto_domain(L, path, &x, rc, first);
	}
	xd_xlcfg_free(&x);
}

/* Every entry not starting with '.', in name order, as Debian's xendomains
 * takes them; what cannot be an xl cfg is skipped with one warning. */
static void read_auto_dir(struct loader *L, const char *main_path)
{
	struct xd_origin key = dir_key_origin(L, KEY_AUTO_DIR, main_path);
	const char *dir = L->cfg->global.auto_dir;
	size_t n;

	if (!*dir)
		return;
	char **names = sorted_entries(L, dir, &key, not_dotfile, &n);
	for (size_t i = 0; i < n; i++) {
		char *path = ld_join_path(dir, names[i]), *buf;
		const char *why = auto_skip_reason(names[i], path, &buf);
		if (why)
			ld_warn_at(L, path, 0, "skipped: %s", why);
		else
			add_auto_domain(L, path);
		free(buf);
		free(path);
	}
	ld_free_names(names, n);
}

/* The main file, or (XD_LOAD_MISSING_OK) nothing when it does not exist. */
static void read_main(struct loader *L, const char *path)
{
	struct stat st;

	if ((L->flags & XD_LOAD_MISSING_OK) && lstat(path, &st) < 0 && errno == ENOENT) {
		const char *file = ld_intern_file(L, path);
		xd_diag_add_sev(L->diags, XD_DIAG_NOTICE, file, 0,
		                "not found: running on the defaults (the domains of auto_dir)");
		return;
	}
	ld_read_file(L, path, true);
}

/* Everything that can be loaded, with every problem in diags. */
static struct xd_config *load_all(const char *path, unsigned flags, struct xd_diags *diags,
				  bool *main_unreadable)
{
	struct loader L = { .diags = diags, .flags = flags, .owner = -1 };

	L.cfg = xd_calloc(1, sizeof(*L.cfg));
	ld_global_defaults(&L.cfg->global);
	read_main(&L, path);
	*main_unreadable = L.main_unreadable;
	read_includes(&L, path);
	ld_apply_global_defaults(&L);
	ld_read_section_xlcfgs(&L);
	read_auto_dir(&L, path);
	ld_resolve_deps(&L);
	ld_report_cycles(&L);
	for (size_t i = 0; i < L.cfg->n_domains; i++)
		ld_dom_src_free(&L.src[i]);
	free(L.src);
	return L.cfg;
}

int xd_config_load_flags(const char *path, unsigned flags, struct xd_config **out,
			 struct xd_diags *diags)
{
	size_t before = xd_diags_errors(diags);
	bool main_unreadable;
	struct xd_config *cfg = load_all(path, flags, diags, &main_unreadable);
	bool refuse = (flags & XD_LOAD_DEGRADED) ? main_unreadable
	                                          : xd_diags_errors(diags) > before;

	if (refuse) {
		xd_config_free(cfg);
		*out = NULL;
		return -1;
	}
	*out = cfg;
	return 0;
}

int xd_config_load(const char *path, struct xd_config **out, struct xd_diags *diags)
{
	return xd_config_load_flags(path, 0, out, diags);
}

int xd_config_load_degraded(const char *path, struct xd_config **out, struct xd_diags *diags)
{
	return xd_config_load_flags(path, XD_LOAD_DEGRADED, out, diags);
}

/* "at boot: N domains would start, M would fail (configuration)" */
static void boot_summary(const char *path, FILE *out)
{
	struct xd_diags diags = { 0 };
	struct xd_config *cfg;
	size_t ok = 0, bad = 0;

	if (xd_config_load_degraded(path, &cfg, &diags) < 0) {
		fprintf(out, "at boot: the daemon would not start (%s cannot be read)\n", path);
	} else {
		for (size_t i = 0; i < cfg->n_domains; i++) {
			const struct xd_domain_cfg *d = &cfg->domains[i];
			if (d->config_error)
				bad++;
			else if (d->autostart)
				ok++;
		}
		fprintf(out, "at boot: %zu domain%s would start, %zu would fail (configuration)\n",
		        ok, ok == 1 ? "" : "s", bad);
		xd_config_free(cfg);
	}
	xd_diags_free(&diags);
}

int xd_config_check(const char *path, FILE *out)
{
	struct xd_diags diags = { 0 };
	bool main_unreadable;
	struct xd_config *cfg = load_all(path, 0, &diags, &main_unreadable);
	size_t n = cfg->n_domains, errors = xd_diags_errors(&diags);

	xd_diags_print(&diags, out);
	fprintf(out, "%zu domain%s, %zu error%s\n", n, n == 1 ? "" : "s", errors,
		errors == 1 ? "" : "s");
	boot_summary(path, out);
	int rc = errors ? 2 : 0;
	xd_diags_free(&diags);
	xd_config_free(cfg);
	return rc;
}
