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
 * fn(L, path) for every regular file (or symlink to one) in dir whose name
 * keep() accepts, in strcmp order of names.  A missing dir is no error
 * unless its key was set (key->line); problems are reported at the key,
 * entries that cannot be examined (broken symlinks) at themselves.
 */
static void for_each_file(struct loader *L, const char *dir, const struct xd_origin *key,
			  bool (*keep)(const char *), void (*fn)(struct loader *, const char *))
{
	DIR *d = opendir(dir);       /* glibc opens directories O_CLOEXEC */
	char **names = NULL;
	size_t n = 0;
	struct dirent *e;

	if (!d) {
		if (errno != ENOENT || key->line)
			ld_err_at(L, key->file, key->line, "%s: %s", dir, strerror(errno));
		return;
	}
	while ((e = readdir(d)) != NULL) {
		if (!keep(e->d_name))
			continue;
		names = xd_reallocarray(names, n + 1, sizeof(*names));
		names[n++] = xd_strdup(e->d_name);
	}
	closedir(d);
	if (n)
		qsort(names, n, sizeof(*names), compare_names);
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

/* Editor backups, package-manager leftovers and dotfiles in auto_dir. */
static bool is_auto_name(const char *name)
{
	static const char *const skip[] = {
		"~", "#", ".bak", ".old", ".orig", ".rej", ".swp", ".tmp",
		".rpmnew", ".rpmsave", ".rpmorig", ".dpkg-old", ".dpkg-new", ".dpkg-dist",
		".dpkg-bak", ".dpkg-tmp", ".ucf-old", ".ucf-new", ".ucf-dist",
	};
	if (name[0] == '.')
		return false;
	for (size_t i = 0; i < sizeof(skip) / sizeof(skip[0]); i++)
		if (ends_with(name, skip[i]))
			return false;
	return true;
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

/* An auto_dir file: a domain with default policy, unless a [domain]
 * section already defines it (the section wins). */
static void add_auto_domain(struct loader *L, const char *path)
{
	struct xd_xlcfg x;
	int rc = xd_xlcfg_read(path, &x, L->diags);
	long known = x.name ? xd_config_find(L->cfg, x.name) : -1;

	if (known >= 0 && !L->cfg->domains[known].from_auto_dir) {
		/* the [domain] section wins */
	} else if (known >= 0) {
		ld_err_at(L, path, x.name_line, "domain %s is also defined by %s (auto_dir)", x.name,
		          L->cfg->domains[known].xl_path);
	} else if (x.name && !xd_domain_name_problem(x.name)) {
		struct xd_origin origin = { ld_intern_file(L, path), 0 };
		size_t i = ld_append_domain(L, x.name, origin);   /* reallocates domains */
		struct xd_domain_cfg *d = &L->cfg->domains[i];
		d->from_auto_dir = true;
		d->xl_path = xd_strdup(path);
		d->on_host_shutdown = L->cfg->global.on_host_shutdown;
		d->shutdown_timeout_ms = L->cfg->global.shutdown_timeout_ms;
		if (rc == 0)
			ld_apply_xlcfg(d, &x);
	}
	xd_xlcfg_free(&x);
}

static void read_auto_dir(struct loader *L, const char *main_path)
{
	struct xd_origin key = dir_key_origin(L, KEY_AUTO_DIR, main_path);

	if (*L->cfg->global.auto_dir)
		for_each_file(L, L->cfg->global.auto_dir, &key, is_auto_name, add_auto_domain);
}

/* Everything that can be loaded, with every problem in diags. */
static struct xd_config *load_all(const char *path, struct xd_diags *diags)
{
	struct loader L = { .diags = diags };

	L.cfg = xd_calloc(1, sizeof(*L.cfg));
	ld_global_defaults(&L.cfg->global);
	ld_read_file(&L, path, true);
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

int xd_config_load(const char *path, struct xd_config **out, struct xd_diags *diags)
{
	size_t before = diags->n;
	struct xd_config *cfg = load_all(path, diags);

	if (diags->n > before) {
		xd_config_free(cfg);
		*out = NULL;
		return -1;
	}
	*out = cfg;
	return 0;
}

int xd_config_check(const char *path, FILE *out)
{
	struct xd_diags diags = { 0 };
	struct xd_config *cfg = load_all(path, &diags);
	size_t n = cfg->n_domains;

	xd_diags_print(&diags, out);
	fprintf(out, "%zu domain%s, %zu error%s\n", n, n == 1 ? "" : "s", diags.n,
		diags.n == 1 ? "" : "s");
	int rc = diags.n ? 2 : 0;
	xd_diags_free(&diags);
	xd_config_free(cfg);
	return rc;
}
