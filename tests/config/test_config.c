/* SPDX-License-Identifier: ISC */
/*
 * Loading xendomd.conf and xl cfgs: every error with its exact FILE:LINE
 * and message, and the values of good configurations.  Each test works in
 * its own temporary directory; no test reads /etc.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/load.h"
#include "config/xlcfg.h"
#include "config/util.h"

static char root[PATH_MAX];

/* "@" in text stands for the test's directory. */
static char *expand(const char *text)
{
	size_t n = 1;
	for (const char *p = text; *p; p++)
		n += *p == '@' ? strlen(root) : 1;
	char *out = malloc(n), *o = out;
	assert_non_null(out);
	for (const char *p = text; *p; p++) {
		if (*p == '@') {
			strcpy(o, root);
			o += strlen(root);
		} else {
			*o++ = *p;
		}
	}
	*o = '\0';
	return out;
}

static char *path_of(const char *rel)
{
	char *p;
	assert_true(asprintf(&p, "%s/%s", root, rel) > 0);
	return p;
}

static void write_file_mode(const char *rel, const char *text, mode_t mode)
{
	char *path = path_of(rel);
	char *body = expand(text);
	FILE *f = fopen(path, "we");
	assert_non_null(f);
	fputs(body, f);
	fclose(f);
	assert_int_equal(chmod(path, mode), 0);
	free(body);
	free(path);
}

static void write_file(const char *rel, const char *text)
{
	write_file_mode(rel, text, 0644);
}

static void make_dir(const char *rel)
{
	char *path = path_of(rel);
	assert_int_equal(mkdir(path, 0755), 0);
	free(path);
}

/* An xl cfg <xen_config_dir>/<name>.cfg that only names the domain. */
static void xl(const char *name)
{
	char rel[128], text[128];
	snprintf(rel, sizeof(rel), "xen/%s.cfg", name);
	snprintf(text, sizeof(text), "name = \"%s\"\n", name);
	write_file(rel, text);
}

static int setup(void **state)
{
	(void)state;
	const char *tmp = getenv("TMPDIR");
	snprintf(root, sizeof(root), "%s/xd-config-test.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(root))
		return -1;
	make_dir("xen");
	make_dir("conf.d");
	return 0;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int teardown(void **state)
{
	(void)state;
	return nftw(root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* Four lines every test config starts with, so no test touches /etc. */
#define HDR "[global]\nxen_config_dir = @/xen\nauto_dir = \"\"\ninclude_dir = @/conf.d\n"
#define HDR_LINES 4

static int load(const char *text, struct xd_config **cfg, struct xd_diags *d)
{
	write_file("xendomd.conf", text);
	char *path = path_of("xendomd.conf");
	int rc = xd_config_load(path, cfg, d);
	free(path);
	return rc;
}

/* A strict load with no error; the warnings are left in *d. */
static struct xd_config *load_warned(const char *text, struct xd_diags *d)
{
	struct xd_config *cfg = NULL;
	int rc = load(text, &cfg, d);
	if (rc != 0)
		xd_diags_print(d, stderr);
	assert_int_equal(rc, 0);
	assert_int_equal(xd_diags_errors(d), 0);
	assert_non_null(cfg);
	return cfg;
}

static struct xd_config *load_ok(const char *text)
{
	struct xd_diags d = { 0 };
	struct xd_config *cfg = load_warned(text, &d);
	assert_int_equal(d.n, 0);
	return cfg;
}

static void assert_diag(const struct xd_diag *g, const char *file_rel, int line, const char *msg);

static void assert_warning(const struct xd_diag *g, const char *file_rel, int line, const char *msg)
{
	assert_int_equal(g->severity, XD_DIAG_WARNING);
	assert_true(g->warning);
	assert_diag(g, file_rel, line, msg);
}

static void assert_diag(const struct xd_diag *g, const char *file_rel, int line, const char *msg)
{
	char *file = path_of(file_rel ? file_rel : "xendomd.conf");
	char *want = expand(msg);
	if (strcmp(g->file, file) || g->line != line || strcmp(g->msg, want))
		fprintf(stderr, "got  %s:%d: %s\nwant %s:%d: %s\n", g->file, g->line, g->msg,
			file, line, want);
	assert_string_equal(g->file, file);
	assert_int_equal(g->line, line);
	assert_string_equal(g->msg, want);
	free(file);
	free(want);
}

/* The config has exactly this one error. */
static void expect_error(const char *text, const char *file_rel, int line, const char *msg)
{
	struct xd_config *cfg = (void *)1;
	struct xd_diags d = { 0 };

	assert_int_equal(load(text, &cfg, &d), -1);
	assert_null(cfg);
	if (d.n != 1)
		xd_diags_print(&d, stderr);
	assert_int_equal(d.n, 1);
	assert_diag(&d.v[0], file_rel, line, msg);
	xd_diags_free(&d);
}

/* ---- errors in xendomd.conf --------------------------------------------- */

static void unknown_section(void **state)
{
	(void)state;
	expect_error(HDR "[options]\n", NULL, HDR_LINES + 1,
		     "unknown section [options]; expected [global] or [domain NAME]");
}

static void misspelt_section(void **state)
{
	(void)state;
	xl("db");
	expect_error(HDR "[domian db]\n", NULL, HDR_LINES + 1,
		     "unknown section [domian db]; did you mean [domain db]?");
}

static void unknown_key_suggested(void **state)
{
	(void)state;
	xl("db");
	expect_error(HDR "[domain db]\nautostrat = no\n", NULL, HDR_LINES + 2,
		     "unknown key 'autostrat' in [domain db]; did you mean 'autostart'?");
}

static void unknown_key_plain(void **state)
{
	(void)state;
	expect_error(HDR "colour = blue\n", NULL, HDR_LINES + 1, "unknown key 'colour' in [global]");
}

static void start_order_values(void **state)
{
	(void)state;
	expect_error(HDR "start_order = fastest\n", NULL, HDR_LINES + 1,
		     "start_order: \"fastest\" is not config or critical-path");
	xl("db");
	expect_error(HDR "[domain db]\nstart_order = config\n", NULL, HDR_LINES + 2,
		     "'start_order' belongs in [global], not in a [domain] section");
	struct xd_config *cfg = load_ok(HDR "start_order = config\n[domain db]\n");
	assert_int_equal(cfg->global.start_order, XD_ORDER_CONFIG);
	xd_config_free(cfg);
}

static void domain_key_in_global(void **state)
{
	(void)state;
	expect_error(HDR "autostart = no\n", NULL, HDR_LINES + 1,
		     "'autostart' belongs in a [domain NAME] section, not in [global]");
}

static void global_key_in_domain(void **state)
{
	(void)state;
	xl("db");
	expect_error(HDR "[domain db]\nsocket = /run/x\n", NULL, HDR_LINES + 2,
		     "'socket' belongs in [global], not in a [domain] section");
}

static void key_outside_section(void **state)
{
	(void)state;
	expect_error("socket = /run/x\n" HDR, NULL, 1,
		     "key 'socket' is outside any section; put it under [global] or [domain NAME]");
}

static void not_key_value(void **state)
{
	(void)state;
	xl("db");
	expect_error(HDR "[domain db]\n\n   autostart\n", NULL, HDR_LINES + 3,
		     "expected 'key = value' (or a [section] header)");
}

static void unterminated_section(void **state)
{
	(void)state;
	expect_error(HDR "[domain db\n", NULL, HDR_LINES + 1, "section header without ']'");
}

static void bad_boolean(void **state)
{
	(void)state;
	expect_error(HDR "stop_unmanaged = maybe\n", NULL, HDR_LINES + 1,
		     "stop_unmanaged: \"maybe\" is not a boolean (yes/no, true/false, on/off, 1/0)");
}

static void bad_enum(void **state)
{
	(void)state;
	expect_error(HDR "on_host_shutdown = suspend\n", NULL, HDR_LINES + 1,
		     "on_host_shutdown: \"suspend\" is not shutdown, save, destroy, leave or migrate");
}

static void bad_number(void **state)
{
	(void)state;
	expect_error(HDR "start_timeout = 5m\n", NULL, HDR_LINES + 1,
		     "start_timeout: \"5m\" is not a number of seconds");
}

static void negative_number(void **state)
{
	(void)state;
	xl("db");
	expect_error(HDR "[domain db]\nretry_delay = -1\n", NULL, HDR_LINES + 2,
		     "retry_delay: \"-1\" is not a number of seconds");
}

static void number_out_of_range(void **state)
{
	(void)state;
	xl("db");
	expect_error(HDR "[domain db]\nstart_retries = 101\n", NULL, HDR_LINES + 2,
		     "start_retries: 101 is out of range (0 to 100)");
}

static void zero_timeout(void **state)
{
	(void)state;
	expect_error(HDR "shutdown_timeout = 0\n", NULL, HDR_LINES + 1,
		     "shutdown_timeout: 0 is out of range (1 to 86400 seconds)");
}

static void relative_dir(void **state)
{
	(void)state;
	expect_error(HDR "state_dir = var/lib/xendomd\n", NULL, HDR_LINES + 1,
		     "state_dir: \"var/lib/xendomd\" is not an absolute path");
}

static void duplicate_key(void **state)
{
	(void)state;
	xl("db");
	expect_error(HDR "[domain db]\nready = running\nautostart = no\nready = pv-drivers\n", NULL,
		     HDR_LINES + 4, "duplicate key 'ready' (first set at @/xendomd.conf:6)");
}

static void duplicate_key_across_files(void **state)
{
	(void)state;
	write_file("conf.d/50-site.conf", "; site overrides\n[global]\nmax_parallel_starts = 8\n");
	expect_error(HDR "max_parallel_starts = 2\n", "conf.d/50-site.conf", 3,
		     "duplicate key 'max_parallel_starts' (first set at @/xendomd.conf:5)");
}

static void duplicate_domain(void **state)
{
	(void)state;
	xl("db");
	write_file("conf.d/10-db.conf", "\n[domain db]\nautostart = no\n");
	expect_error(HDR "[domain db]\n", "conf.d/10-db.conf", 2,
		     "duplicate domain db (first defined at @/xendomd.conf:5)");
}

static void bad_domain_name_slash(void **state)
{
	(void)state;
	expect_error(HDR "[domain web/1]\n", NULL, HDR_LINES + 1,
		     "bad domain name 'web/1': '/' cannot be part of a file name in save_dir and "
		     "state_dir");
}

static void bad_domain_name_long(void **state)
{
	(void)state;
	char name[65], text[256], msg[256];
	memset(name, 'n', 64);
	name[64] = '\0';
	snprintf(text, sizeof(text), HDR "[domain %s]\n", name);
	snprintf(msg, sizeof(msg), "bad domain name '%s': it is longer than 63 bytes", name);
	expect_error(text, NULL, HDR_LINES + 1, msg);
}

/* xl accepts these names, so xendomd does (issue 9): only what cannot be a
 * file name in save_dir, or is unsafe in logs and JSON, is refused. */
static void domain_names_as_xl(void **state)
{
	(void)state;
	static const char *const good[] = {
		"42", "a&b", "c+d", "me@host", "my web", "caf\xc3\xa9", "x.y", "...",
		"\xe6\x97\xa5\xe6\x9c\xac",
	};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		assert_null(xd_domain_name_problem(good[i]));
	char longest[64];
	memset(longest, 'n', 63);
	longest[63] = '\0';
	assert_null(xd_domain_name_problem(longest));
	assert_non_null(xd_domain_name_problem("."));
	assert_non_null(xd_domain_name_problem(".."));
	assert_non_null(xd_domain_name_problem(""));
	assert_non_null(xd_domain_name_problem("a/b"));
	assert_non_null(xd_domain_name_problem("a\tb"));
	assert_non_null(xd_domain_name_problem("a\x7f"));
	assert_non_null(xd_domain_name_problem("\xc2\x85"));      /* C1 NEL */
	assert_non_null(xd_domain_name_problem("caf\xe9"));        /* Latin-1, not UTF-8 */
	assert_non_null(xd_domain_name_problem("Domain-0"));
	/* and such a name loads from a section and from an xl cfg */
	write_file("xen/a&b +c.cfg", "name = \"a&b +c\"\n");   /* '@' means root here */
	struct xd_config *cfg = load_ok(HDR "[domain a&b +c]\n");
	assert_string_equal(cfg->domains[0].name, "a&b +c");
	xd_config_free(cfg);
}

static void bad_domain_name_dotdot(void **state)
{
	(void)state;
	expect_error(HDR "[domain ..]\n", NULL, HDR_LINES + 1,
		     "bad domain name '..': '.' and '..' cannot be file names in save_dir and state_dir");
}

static void domain_without_name(void **state)
{
	(void)state;
	expect_error(HDR "[domain]\n", NULL, HDR_LINES + 1, "[domain] needs a name: [domain NAME]");
}

static void missing_xlcfg_default(void **state)
{
	(void)state;
	expect_error(HDR "\n[domain db]\n", NULL, HDR_LINES + 2,
		     "no xl cfg for domain db: tried @/xen/db.cfg and @/xen/db (set config = to name it)");
}

static void missing_xlcfg_explicit(void **state)
{
	(void)state;
	expect_error(HDR "[domain db]\nconfig = guests/db.cfg\n", NULL, HDR_LINES + 2,
		     "config: @/xen/guests/db.cfg: No such file or directory");
}

static void unknown_dependency(void **state)
{
	(void)state;
	xl("db");
	xl("storage");
	expect_error(HDR "[domain storage]\n[domain db]\nrequires = storag\n", NULL, HDR_LINES + 3,
		     "requires: unknown domain 'storag'; did you mean 'storage'?");
}

static void cycle_of_two(void **state)
{
	(void)state;
	xl("a");
	xl("b");
	expect_error(HDR "[domain a]\nrequires = b\n[domain b]\nafter = a\n", NULL, HDR_LINES + 4,
		     "dependency cycle: a -> b -> a");
}

static void cycle_of_three(void **state)
{
	(void)state;
	xl("a");
	xl("b");
	xl("c");
	expect_error(HDR "[domain a]\nafter = b\n[domain b]\nrequires = c\n[domain c]\nrequires = a\n",
		     NULL, HDR_LINES + 6, "dependency cycle: a -> b -> c -> a");
}

static void self_loop(void **state)
{
	(void)state;
	xl("a");
	expect_error(HDR "[domain a]\nautostart = yes\nafter = a\n", NULL, HDR_LINES + 3,
		     "dependency cycle: a -> a");
}

static void bad_ready_kind(void **state)
{
	(void)state;
	xl("db");
	expect_error(HDR "[domain db]\nready = up\n", NULL, HDR_LINES + 2,
		     "ready: \"up\": expected running, pv-drivers, xenstore:PATH[=VALUE] or delay:SECONDS");
}

static void bad_ready_dotdot(void **state)
{
	(void)state;
	xl("db");
	expect_error(HDR "[domain db]\nready = xenstore:data/../../0/x=1\n", NULL, HDR_LINES + 2,
		     "ready: \"xenstore:data/../../0/x=1\": the path may not contain '..'");
}

static void bad_ready_absolute(void **state)
{
	(void)state;
	xl("db");
	expect_error(HDR "[domain db]\nready = xenstore:/local/domain/0/x\n", NULL, HDR_LINES + 2,
		     "ready: \"xenstore:/local/domain/0/x\": the path must be relative to the guest's "
		     "/local/domain/<domid>");
}

static void bad_ready_charset(void **state)
{
	(void)state;
	xl("db");
	expect_error(HDR "[domain db]\nready = xenstore:data/re ady\n", NULL, HDR_LINES + 2,
		     "ready: \"xenstore:data/re ady\": the path may only contain letters, digits, '_', "
		     "'/' and '-' (as in XenStore)");
}

static void bad_ready_dot(void **state)
{
	(void)state;
	xl("db");
	expect_error(HDR "[domain db]\nready = xenstore:data/ready.1\n", NULL, HDR_LINES + 2,
		     "ready: \"xenstore:data/ready.1\": the path may only contain letters, digits, '_', "
		     "'/' and '-' (as in XenStore)");
}

static void bad_ready_empty_component(void **state)
{
	(void)state;
	xl("db");
	expect_error(HDR "[domain db]\nready = xenstore:data//ready=1\n", NULL, HDR_LINES + 2,
		     "ready: \"xenstore:data//ready=1\": the path has an empty component");
}

static void bad_ready_value(void **state)
{
	(void)state;
	xl("db");
	expect_error(HDR "[domain db]\nready = xenstore:data/ready=\n", NULL, HDR_LINES + 2,
		     "ready: \"xenstore:data/ready=\": the value after '=' is empty");
}

/* One rule for --check and both backends: /local/domain/65535/ + the path
 * must fit XenStore's 255 characters, so 235 pass and 236 do not. */
static void bad_ready_long_path(void **state)
{
	(void)state;
	char text[1024], msg[1024], path[300];
	xl("db");
	memset(path, 'k', 236);
	path[236] = '\0';
	snprintf(text, sizeof(text), HDR "[domain db]\nready = xenstore:%s\n", path);
	snprintf(msg, sizeof(msg), "ready: \"xenstore:%s\": the path is longer than 235 "
		 "characters (the limit of a full XenStore path is 255)", path);
	expect_error(text, NULL, HDR_LINES + 2, msg);
}

static void ready_path_at_the_limit(void **state)
{
	(void)state;
	char text[1024], path[300];
	xl("db");
	memset(path, 'k', 235);
	path[235] = '\0';
	snprintf(text, sizeof(text), HDR "[domain db]\nready = xenstore:%s\n", path);
	struct xd_config *cfg = load_ok(text);
	assert_int_equal(strlen(cfg->domains[0].ready.path), 235);
	assert_null(xd_xenstore_relpath_problem(cfg->domains[0].ready.path));
	xd_config_free(cfg);
}

static void bad_ready_delay(void **state)
{
	(void)state;
	xl("db");
	expect_error(HDR "[domain db]\nready = delay:soon\n", NULL, HDR_LINES + 2,
		     "ready: \"delay:soon\": delay takes 0 to 86400 seconds");
}

static void bad_restart_limit(void **state)
{
	(void)state;
	xl("db");
	expect_error(HDR "[domain db]\nrestart_limit = 5 per 600\n", NULL, HDR_LINES + 2,
		     "restart_limit: \"5 per 600\" is not RESTARTS/SECONDS (e.g. 5/600)");
}

static void restart_limit_zero_window(void **state)
{
	(void)state;
	xl("db");
	expect_error(HDR "[domain db]\nrestart_limit = 5/0\n", NULL, HDR_LINES + 2,
		     "restart_limit: \"5/0\" is out of range (0 to 1000 restarts per 1 to 86400 seconds)");
}

static void hook_relative(void **state)
{
	(void)state;
	xl("db");
	expect_error(HDR "[domain db]\nexec_start_pre = hooks/db-pre\n", NULL, HDR_LINES + 2,
		     "exec_start_pre: \"hooks/db-pre\" is not an absolute path");
}

static void hook_not_executable(void **state)
{
	(void)state;
	xl("db");
	write_file_mode("db-post", "#!/bin/sh\n", 0644);
	expect_error(HDR "[domain db]\nexec_stop_post = @/db-post\n", NULL, HDR_LINES + 2,
		     "exec_stop_post: @/db-post is not executable");
}

static void hook_missing(void **state)
{
	(void)state;
	xl("db");
	expect_error(HDR "[domain db]\nexec_start_pre = @/nope\n", NULL, HDR_LINES + 2,
		     "exec_start_pre: @/nope: No such file or directory");
}

static void hook_directory(void **state)
{
	(void)state;
	xl("db");
	expect_error(HDR "[domain db]\nexec_start_pre = @/xen\n", NULL, HDR_LINES + 2,
		     "exec_start_pre: @/xen is not a regular file");
}

static void include_dir_in_include(void **state)
{
	(void)state;
	write_file("conf.d/a.conf", "[global]\ninclude_dir = /tmp\n");
	expect_error(HDR, "conf.d/a.conf", 2,
		     "include_dir may only be set in the main configuration file");
}

static void include_dir_missing(void **state)
{
	(void)state;
	expect_error("[global]\nxen_config_dir = @/xen\nauto_dir = \"\"\ninclude_dir = @/nowhere\n",
		     NULL, 4, "@/nowhere: No such file or directory");
}

static void include_broken_link(void **state)
{
	(void)state;
	char *link = path_of("conf.d/20-gone.conf"), *target = path_of("gone.conf");
	assert_int_equal(symlink(target, link), 0);
	expect_error(HDR, "conf.d/20-gone.conf", 0, "cannot use: No such file or directory");
	free(link);
	free(target);
}

static void auto_dir_missing(void **state)
{
	(void)state;
	expect_error("[global]\nxen_config_dir = @/xen\nauto_dir = @/noauto\ninclude_dir = @/conf.d\n",
		     NULL, 3, "@/noauto: No such file or directory");
}

/* The keys of a rejected section are still checked. */
static void errors_inside_rejected_section(void **state)
{
	(void)state;
	struct xd_config *cfg = (void *)1;
	struct xd_diags d = { 0 };
	assert_int_equal(load(HDR "[domain a/b]\nautostrat = no\nready = xenstore:/x\n", &cfg, &d), -1);
	assert_int_equal(d.n, 3);
	assert_diag(&d.v[0], NULL, 5,
		    "bad domain name 'a/b': '/' cannot be part of a file name in save_dir and state_dir");
	assert_diag(&d.v[1], NULL, 6, "unknown key 'autostrat' in [domain]; did you mean 'autostart'?");
	assert_diag(&d.v[2], NULL, 7,
		    "ready: \"xenstore:/x\": the path must be relative to the guest's /local/domain/<domid>");
	xd_diags_free(&d);
}

static void line_too_long(void **state)
{
	(void)state;
	size_t n = strlen(HDR) + XD_CONF_MAX_LINE + 64;
	char *text = malloc(n);
	assert_non_null(text);
	int len = snprintf(text, n, HDR "socket_group = ");
	memset(text + len, 'g', XD_CONF_MAX_LINE + 1 - strlen("socket_group = "));
	strcpy(text + len + XD_CONF_MAX_LINE + 1 - strlen("socket_group = "), "\n");
	expect_error(text, NULL, HDR_LINES + 1, "line longer than 4095 characters");
	free(text);
}

static void longest_line_accepted(void **state)
{
	(void)state;
	size_t n = strlen(HDR) + XD_CONF_MAX_LINE + 64;
	char *text = malloc(n);
	assert_non_null(text);
	int len = snprintf(text, n, HDR "socket_group = ");
	size_t value = XD_CONF_MAX_LINE - strlen("socket_group = ");
	memset(text + len, 'g', value);
	strcpy(text + len + value, "\n");
	struct xd_config *cfg = load_ok(text);
	assert_int_equal(strlen(cfg->global.socket_group), value);
	xd_config_free(cfg);
	free(text);
}

/* ---- errors in xl cfgs ------------------------------------------------------ */

static void xl_parse_error(void **state)
{
	(void)state;
	write_file("xen/db.cfg", "name = \"db\"\n# memory\nmemory = 1 2\n");
	expect_error(HDR "[domain db]\n", "xen/db.cfg", 3,
		     "config parsing error near `2': syntax error, unexpected NUMBER, expecting $end");
}

/* xl itself refuses DOS line endings; the CR is shown escaped. */
static void xl_dos_line_endings(void **state)
{
	(void)state;
	write_file("xen/db.cfg", "name = \"db\"\r\n");
	expect_error(HDR "[domain db]\n", "xen/db.cfg", 1,
		     "config parsing error near `\\r': lexical error");
}

/* xlu's extra report lines (its Python hint) stay with the error they follow. */
static void xl_python_code(void **state)
{
	(void)state;
	write_file("xen/db.cfg", "name = \"db\"\nmemory = -5\n");
	expect_error(HDR "[domain db]\n", "xen/db.cfg", 2,
		     "config parsing error near `-5': lexical error; "
		     "warning: Config file looks like it contains Python code.; warning:  Arbitrary "
		     "Python is no longer supported.; warning:  See https://wiki.xen.org/wiki/PythonInXlConfig");
}

static void xl_name_mismatch(void **state)
{
	(void)state;
	write_file("xen/db.cfg", "memory = 512\n\nname = \"database\"\n");
	expect_error(HDR "[domain db]\n", "xen/db.cfg", 3,
		     "name = \"database\" does not match [domain db] at @/xendomd.conf:5");
}

static void xl_without_name(void **state)
{
	(void)state;
	write_file("xen/db.cfg", "memory = 512\n");
	expect_error(HDR "[domain db]\n", "xen/db.cfg", 0, "no name= setting (xl requires one)");
}

/* xen-tools writes memory = '256M': xl warns and ignores the key. */
static void xl_bad_memory(void **state)
{
	(void)state;
	write_file("xen/db.cfg", "name = \"db\"\nvcpus = 2\nmemory = \"1.5G\"\n");
	write_file("xen/web.cfg", "name = \"web\"\nmemory = '256M'\nmaxmem = 512\n");
	struct xd_diags d = { 0 };
	struct xd_config *cfg = load_warned(HDR "[domain db]\n[domain web]\n", &d);
	assert_int_equal(d.n, 2);
	assert_warning(&d.v[0], "xen/db.cfg", 3,
		       "parameter `memory' is not a valid number (\"1.5G\"); as xl, it is ignored");
	assert_warning(&d.v[1], "xen/web.cfg", 2,
		       "parameter `memory' is not a valid number (\"256M\"); as xl, it is ignored");
	assert_int_equal(cfg->domains[0].memory_mb, 32);      /* libxl's default */
	assert_int_equal(cfg->domains[0].maxmem_mb, 32);
	assert_int_equal(cfg->domains[1].memory_mb, 512);     /* absent memory = maxmem */
	assert_null(cfg->domains[0].config_error);
	xd_config_free(cfg);
	xd_diags_free(&d);
}

/* ---- degraded load (the daemon's start) ---------------------------------- */

static struct xd_config *load_degraded(const char *text, struct xd_diags *d)
{
	write_file("xendomd.conf", text);
	char *path = path_of("xendomd.conf");
	struct xd_config *cfg = NULL;
	assert_int_equal(xd_config_load_degraded(path, &cfg, d), 0);
	assert_non_null(cfg);
	/* the strict loader refuses the same file whenever there is an error */
	struct xd_diags strict = { 0 };
	struct xd_config *s = (void *)1;
	int rc = xd_config_load(path, &s, &strict);
	assert_int_equal(rc, xd_diags_errors(d) ? -1 : 0);
	assert_int_equal(strict.n, d->n);
	xd_config_free(s);
	xd_diags_free(&strict);
	free(path);
	return cfg;
}

static const struct xd_domain_cfg *dom(const struct xd_config *c, const char *name)
{
	long i = xd_config_find(c, name);
	assert_true(i >= 0);
	return &c->domains[i];
}

static void assert_config_error(const struct xd_domain_cfg *d, const char *text)
{
	char *want = expand(text);
	assert_non_null(d->config_error);
	assert_string_equal(d->config_error, want);
	free(want);
}

/* Each domain's own error fails only that domain, with its first error. */
static void degraded_per_domain(void **state)
{
	(void)state;
	xl("good");
	xl("typo");
	xl("dep");
	write_file("xen/other.cfg", "name = \"someone\"\n");
	write_file("xen/broken.cfg", "name = \"broken\"\nmemory = [\n");
	struct xd_diags d = { 0 };
	struct xd_config *cfg = load_degraded(HDR "[domain good]\n"
		"[domain typo]\nautostrat = yes\nready = nope\n"          /* 6, 7, 8 */
		"[domain nocfg]\n"                                          /* 9 */
		"[domain mismatch]\nconfig = other.cfg\n"                  /* 10 */
		"[domain broken]\n"                                         /* 12 */
		"[domain dep]\nrequires = typo, ghost\nafter = nocfg\n", &d); /* 13, 14 */
	assert_int_equal(cfg->n_domains, 6);
	assert_null(dom(cfg, "good")->config_error);
	assert_config_error(dom(cfg, "typo"), "@/xendomd.conf:7: unknown key 'autostrat' in "
			    "[domain typo]; did you mean 'autostart'?");
	assert_config_error(dom(cfg, "nocfg"), "@/xendomd.conf:9: no xl cfg for domain nocfg: "
			    "tried @/xen/nocfg.cfg and @/xen/nocfg (set config = to name it)");
	assert_config_error(dom(cfg, "mismatch"), "@/xen/other.cfg:1: name = \"someone\" does not "
			    "match [domain mismatch] at @/xendomd.conf:10");
	assert_non_null(dom(cfg, "broken")->config_error);
	assert_int_equal(strncmp(dom(cfg, "broken")->config_error, root, strlen(root)), 0);
	assert_config_error(dom(cfg, "dep"), "@/xendomd.conf:14: requires: unknown domain 'ghost'");
	/* edges to failed domains stay: the engine decides what they mean */
	const struct xd_domain_cfg *dep = dom(cfg, "dep");
	assert_int_equal(dep->n_requires, 1);
	assert_int_equal(dep->requires[0], (size_t)xd_config_find(cfg, "typo"));
	assert_int_equal(dep->n_after, 1);
	assert_int_equal(dep->after[0], (size_t)xd_config_find(cfg, "nocfg"));
	assert_int_equal(xd_diags_errors(&d), 6);   /* every error, as --check lists them */
	xd_config_free(cfg);
	xd_diags_free(&d);
}

/* A cycle fails exactly its members, each naming the cycle. */
static void degraded_cycle(void **state)
{
	(void)state;
	xl("a");
	xl("b");
	xl("c");
	xl("d");
	struct xd_diags d = { 0 };
	struct xd_config *cfg = load_degraded(HDR "[domain a]\nafter = b\n[domain b]\nrequires = a\n"
					      "[domain c]\nrequires = a\n[domain d]\n", &d);
	assert_int_equal(d.n, 1);
	const char *text = d.v[0].msg;
	assert_non_null(strstr(text, "dependency cycle: "));
	char *want = xd_asprintf("%s:%d: %s", d.v[0].file, d.v[0].line, text);
	assert_string_equal(dom(cfg, "a")->config_error, want);
	assert_string_equal(dom(cfg, "b")->config_error, want);
	assert_null(dom(cfg, "c")->config_error);
	assert_null(dom(cfg, "d")->config_error);
	free(want);
	xd_config_free(cfg);
	xd_diags_free(&d);
}

/* A [global] error keeps the key's default; a duplicate section fails the
 * domain (which of the two was meant is unknown); a bad name names none. */
static void degraded_global_and_sections(void **state)
{
	(void)state;
	xl("a");
	xl("b");
	struct xd_diags d = { 0 };
	struct xd_config *cfg = load_degraded(HDR "shutdown_timeout = soon\nmax_parallel_starts = 9999\n"
		"save_timeout = 30\nstray = 1\n[domain a]\n[domain b]\n[domain a]\n[domain x/y]\n", &d);
	assert_int_equal(xd_diags_errors(&d), 5);
	assert_int_equal(cfg->global.shutdown_timeout_ms, 120 * 1000);
	assert_int_equal(cfg->global.max_parallel_starts, 4);
	assert_int_equal(cfg->global.save_timeout_ms, 30 * 1000);
	assert_int_equal(cfg->n_domains, 2);
	assert_config_error(dom(cfg, "a"), "@/xendomd.conf:11: duplicate domain a (first defined at "
			    "@/xendomd.conf:9)");
	assert_null(dom(cfg, "b")->config_error);
	assert_int_equal(dom(cfg, "b")->save_timeout_ms, 30 * 1000);
	assert_int_equal(dom(cfg, "b")->shutdown_timeout_ms, 120 * 1000);
	xd_config_free(cfg);
	xd_diags_free(&d);
}

/* Only a main file that exists and cannot be read stops the daemon; a
 * missing one is defaults + auto_dir when the daemon asks for that. */
static void degraded_main_file(void **state)
{
	(void)state;
	struct xd_diags d = { 0 };
	struct xd_config *cfg = (void *)1;
	char *absent = path_of("absent.conf"), *dir = path_of("xen");
	assert_int_equal(xd_config_load_degraded(absent, &cfg, &d), -1);
	assert_null(cfg);
	xd_diags_free(&d);
	assert_int_equal(xd_config_load_flags(dir, XD_LOAD_DEGRADED | XD_LOAD_MISSING_OK, &cfg, &d), -1);
	xd_diags_free(&d);
	assert_int_equal(xd_config_load_flags(absent, XD_LOAD_DEGRADED | XD_LOAD_MISSING_OK, &cfg, &d), 0);
	assert_non_null(cfg);
	assert_int_equal(d.n, 1);
	assert_int_equal(d.v[0].severity, XD_DIAG_NOTICE);
	assert_diag(&d.v[0], "absent.conf", 0, "not found: running on the defaults (the domains of "
		    "auto_dir)");
	assert_string_equal(cfg->global.auto_dir, "/etc/xen/auto");
	assert_int_equal(cfg->global.save_timeout_ms, 600 * 1000);
	assert_true(cfg->global.restore_unmanaged);
	xd_config_free(cfg);
	xd_diags_free(&d);
	free(absent);
	free(dir);
}

/* auto_dir entries that are not xl cfgs are left out; one with a name but
 * a bad value is kept, failed. */
static void degraded_auto_dir(void **state)
{
	(void)state;
	make_dir("auto");
	write_file("auto/README", "This directory holds the domains started at boot.\n");
	write_file("auto/empty", "");
	write_file("auto/ok.cfg", "name = \"ok\"\n");
	write_file("auto/badact.cfg", "name = \"badact\"\non_crash = \"explode\"\n");
	char *link = path_of("auto/gone"), *nowhere = path_of("nowhere");
	assert_int_equal(symlink(nowhere, link), 0);
	struct xd_diags d = { 0 };
	struct xd_config *cfg = load_degraded("[global]\nxen_config_dir = @/xen\nauto_dir = @/auto\n"
					      "include_dir = @/conf.d\n", &d);
	assert_int_equal(cfg->n_domains, 2);
	assert_string_equal(cfg->domains[0].name, "badact");
	assert_config_error(&cfg->domains[0], "@/auto/badact.cfg:2: on_crash = \"explode\" is not an xl "
			    "action (destroy, restart, rename-restart, preserve, coredump-destroy, "
			    "coredump-restart, soft-reset)");
	assert_string_equal(cfg->domains[1].name, "ok");
	assert_null(cfg->domains[1].config_error);
	size_t warnings = 0;
	for (size_t i = 0; i < d.n; i++)
		warnings += d.v[i].warning;
	assert_int_equal(warnings, 1);
	assert_int_equal(xd_diags_errors(&d), 3);   /* badact, empty (no name=), README */
	xd_config_free(cfg);
	xd_diags_free(&d);
	free(link);
	free(nowhere);
}

static void xl_memory_list(void **state)
{
	(void)state;
	write_file("xen/db.cfg", "name = \"db\"\nmemory = [ 1,\n  2 ]\n");
	expect_error(HDR "[domain db]\n", "xen/db.cfg", 2, "memory must be a single value, not a list");
}

static void xl_zero_memory(void **state)
{
	(void)state;
	write_file("xen/db.cfg", "name = \"db\"\nmemory = 0\n");
	expect_error(HDR "[domain db]\n", "xen/db.cfg", 2,
		     "memory = 0 is out of range (1 to 16777216 MiB)");
}

static void xl_maxmem_below_memory(void **state)
{
	(void)state;
	write_file("xen/db.cfg", "name = \"db\"\nmaxmem = 512\nmemory = 1024\n");
	expect_error(HDR "[domain db]\n", "xen/db.cfg", 2, "maxmem = 512 is below memory = 1024");
}

static void xl_bad_action(void **state)
{
	(void)state;
	write_file("xen/db.cfg", "name = \"db\"\non_crash = \"reboot\"\n");
	expect_error(HDR "[domain db]\n", "xen/db.cfg", 2,
		     "on_crash = \"reboot\" is not an xl action (destroy, restart, rename-restart, "
		     "preserve, coredump-destroy, coredump-restart, soft-reset)");
}

static void xl_bad_type(void **state)
{
	(void)state;
	write_file("xen/db.cfg", "name = \"db\"\ntype = \"kvm\"\n");
	expect_error(HDR "[domain db]\n", "xen/db.cfg", 2,
		     "type = \"kvm\" is not a domain type (pv, pvh or hvm)");
}

static void xl_type_builder_conflict(void **state)
{
	(void)state;
	write_file("xen/db.cfg", "name = \"db\"\ntype = \"pv\"\nbuilder = \"hvm\"\n");
	expect_error(HDR "[domain db]\n", "xen/db.cfg", 3,
		     "builder = \"hvm\" contradicts type = \"pv\"");
}

static void xl_bad_name(void **state)
{
	(void)state;
	write_file("xen/db.cfg", "name = \"db/x\"\n");
	make_dir("auto");
	write_file("auto/db", "name = \"db/x\"\n");
	expect_error("[global]\nxen_config_dir = @/xen\nauto_dir = @/auto\ninclude_dir = @/conf.d\n",
		     "auto/db", 1,
		     "name = \"db/x\" is not a usable domain name: '/' cannot be part of a file name in "
		     "save_dir and state_dir");
}

static void auto_duplicate(void **state)
{
	(void)state;
	make_dir("auto");
	write_file("auto/a.cfg", "name = \"web\"\n");
	write_file("auto/b.cfg", "\nname = \"web\"\n");
	struct xd_diags d = { 0 };
	struct xd_config *cfg = load_warned("[global]\nxen_config_dir = @/xen\nauto_dir = @/auto\n"
					    "include_dir = @/conf.d\n", &d);
	assert_int_equal(d.n, 1);
	assert_warning(&d.v[0], "auto/b.cfg", 2, "skipped: domain web is already defined by "
		       "@/auto/a.cfg (the first file in name order wins)");
	assert_int_equal(cfg->n_domains, 1);
	char *first = path_of("auto/a.cfg");
	assert_string_equal(cfg->domains[0].xl_path, first);
	free(first);
	xd_config_free(cfg);
	xd_diags_free(&d);
}

/* ---- all errors in one run ------------------------------------------------ */

static void every_error_reported(void **state)
{
	(void)state;
	struct xd_config *cfg = (void *)1;
	struct xd_diags d = { 0 };
	xl("a");
	write_file("xen/b.cfg", "name = \"b\"\non_reboot = \"reboot\"\n");
	int rc = load(HDR "max_parallel_starts = x\n[domain a]\nrequires = b, ghost\n"
		      "ready = nope\n[domain b]\nafter = a\n[bogus]\nfoo = bar\n", &cfg, &d);
	assert_int_equal(rc, -1);
	assert_null(cfg);
	assert_int_equal(d.n, 6);
	assert_diag(&d.v[0], NULL, 5, "max_parallel_starts: \"x\" is not a whole number");
	assert_diag(&d.v[1], NULL, 8,
		    "ready: \"nope\": expected running, pv-drivers, xenstore:PATH[=VALUE] or delay:SECONDS");
	assert_diag(&d.v[2], NULL, 11, "unknown section [bogus]; expected [global] or [domain NAME]");
	assert_diag(&d.v[3], "xen/b.cfg", 2,
		    "on_reboot = \"reboot\" is not an xl action (destroy, restart, rename-restart, "
		    "preserve, coredump-destroy, coredump-restart, soft-reset)");
	assert_diag(&d.v[4], NULL, 7, "requires: unknown domain 'ghost'");
	assert_diag(&d.v[5], NULL, 10, "dependency cycle: a -> b -> a");
	xd_diags_free(&d);
}

static void check_output(void **state)
{
	(void)state;
	xl("a");
	write_file("xendomd.conf", HDR "[domain a]\n[domain b]\nautostart = perhaps\n");
	char *path = path_of("xendomd.conf");
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);
	assert_int_equal(xd_config_check(path, out), 2);
	fclose(out);
	char *want = expand("@/xendomd.conf:7: autostart: \"perhaps\" is not a boolean (yes/no, "
			    "true/false, on/off, 1/0)\n"
			    "@/xendomd.conf:6: no xl cfg for domain b: tried @/xen/b.cfg and @/xen/b "
			    "(set config = to name it)\n"
			    "2 domains, 2 errors\n"
			    "at boot: 1 domain would start, 1 would fail (configuration)\n");
	assert_string_equal(buf, want);
	free(want);
	free(buf);

	xl("b");
	write_file("xendomd.conf", HDR "[domain a]\n[domain b]\n");
	out = open_memstream(&buf, &len);
	assert_int_equal(xd_config_check(path, out), 0);
	fclose(out);
	assert_string_equal(buf, "2 domains, 0 errors\n"
			    "at boot: 2 domains would start, 0 would fail (configuration)\n");
	free(buf);
	free(path);
}

static void missing_main_file(void **state)
{
	(void)state;
	struct xd_config *cfg = (void *)1;
	struct xd_diags d = { 0 };
	char *path = path_of("absent.conf");
	assert_int_equal(xd_config_load(path, &cfg, &d), -1);
	assert_null(cfg);
	assert_int_equal(d.n, 1);
	assert_diag(&d.v[0], "absent.conf", 0, "cannot open: No such file or directory");
	xd_diags_free(&d);
	free(path);
}

static void main_file_is_directory(void **state)
{
	(void)state;
	struct xd_config *cfg = (void *)1;
	struct xd_diags d = { 0 };
	char *path = path_of("conf.d");
	assert_int_equal(xd_config_load(path, &cfg, &d), -1);
	assert_null(cfg);
	assert_int_equal(d.n, 1);
	assert_diag(&d.v[0], "conf.d", 0, "cannot use: not a regular file (a directory)");
	xd_diags_free(&d);
	free(path);
}

/* ---- good configurations ----------------------------------------------------- */

static void defaults(void **state)
{
	(void)state;
	xl("db");
	struct xd_config *cfg = load_ok(HDR "[domain db]\n");
	const struct xd_global *g = &cfg->global;
	char *xen = path_of("xen"), *confd = path_of("conf.d");
	assert_string_equal(g->xen_config_dir, xen);
	assert_string_equal(g->auto_dir, "");
	assert_string_equal(g->include_dir, confd);
	assert_string_equal(g->state_dir, "/var/lib/xendomd");
	assert_string_equal(g->save_dir, "/var/lib/xen/save");
	assert_string_equal(g->socket, "/run/xendomd/control");
	assert_string_equal(g->socket_group, "");
	assert_int_equal(g->max_parallel_starts, 4);
	assert_int_equal(g->max_parallel_stops, 0);
	assert_int_equal(g->start_timeout_ms, 300000);
	assert_int_equal(g->on_host_shutdown, XD_HOST_SHUTDOWN);
	assert_int_equal(g->shutdown_timeout_ms, 120000);
	assert_int_equal(g->shutdown_fallback, XD_FALLBACK_DESTROY);
	assert_true(g->stop_unmanaged);
	assert_true(g->restore_on_boot);
	assert_int_equal(g->on_restore_failure, XD_RESTORE_FAIL);
	assert_int_equal(g->notify_ready, XD_NOTIFY_AFTER_BOOT);
	assert_int_equal(g->start_order, XD_ORDER_CONFIG);

	assert_int_equal(cfg->n_domains, 1);
	const struct xd_domain_cfg *d = &cfg->domains[0];
	char *xlp = path_of("xen/db.cfg"), *main_path = path_of("xendomd.conf");
	assert_string_equal(d->name, "db");
	assert_string_equal(d->xl_path, xlp);
	assert_string_equal(d->origin.file, main_path);
	assert_int_equal(d->origin.line, 5);
	assert_false(d->from_auto_dir);
	assert_true(d->autostart);
	assert_int_equal(d->n_after + d->n_requires, 0);
	assert_int_equal(d->ready.kind, XD_READY_RUNNING);
	assert_int_equal(d->ready_timeout_ms, 300000);
	assert_int_equal(d->start_delay_ms, 0);
	assert_int_equal(d->start_retries, 2);
	assert_int_equal(d->retry_delay_ms, 5000);
	assert_int_equal(d->restart_limit, 5);
	assert_int_equal(d->restart_window_ms, 600000);
	assert_int_equal(d->on_host_shutdown, XD_HOST_SHUTDOWN);
	assert_int_equal(d->shutdown_timeout_ms, 120000);
	assert_null(d->exec_start_pre);
	assert_null(d->exec_stop_post);
	assert_int_equal(d->hook_timeout_ms, 30000);
	/* xl cfg defaults: libxl's 32 MiB, PV, xl's actions */
	assert_int_equal(d->memory_mb, 32);
	assert_int_equal(d->maxmem_mb, 32);
	assert_false(d->hvm);
	assert_int_equal(d->on_poweroff, XD_ACT_DESTROY);
	assert_int_equal(d->on_reboot, XD_ACT_RESTART);
	assert_int_equal(d->on_crash, XD_ACT_DESTROY);
	assert_int_equal(d->on_watchdog, XD_ACT_DESTROY);
	assert_int_equal(d->on_soft_reset, XD_ACT_SOFT_RESET);
	free(xen);
	free(confd);
	free(xlp);
	free(main_path);
	xd_config_free(cfg);
}

static void overrides(void **state)
{
	(void)state;
	xl("storage");
	write_file("xen/db.cfg", "name = \"db\"\nmemory = 0x400 # hex, as xl allows\nmaxmem = 2048\n"
		   "type = \"hvm\"\non_poweroff = \"preserve\"\non_reboot = 'rename-restart'\n"
		   "on_crash = \"coredump-restart\"\non_watchdog = \"coredump-destroy\"\n"
		   "on_soft_reset = \"destroy\"\n");
	write_file_mode("pre", "#!/bin/sh\n", 0755);
	write_file_mode("post", "#!/bin/sh\n", 0700);
	struct xd_config *cfg = load_ok(
		"[global]\n"
		"xen_config_dir = \"@/xen\"   ; quoted\n"
		"auto_dir = \"\"\n"
		"include_dir = @/conf.d\n"
		"state_dir = /srv/xendomd\n"
		"save_dir = /srv/save\n"
		"socket = /run/x.sock\n"
		"socket_group = xenadm\n"
		"max_parallel_starts = 0\n"
		"max_parallel_stops = 3\n"
		"start_timeout = 60\n"
		"on_host_shutdown = save\n"
		"shutdown_timeout = 30\n"
		"shutdown_fallback = leave\n"
		"stop_unmanaged = off\n"
		"restore_on_boot = 0\n"
		"on_restore_failure = boot\n"
		"notify_ready = immediately\n"
		"start_order = critical-path\n"
		"# a comment line\n"
		"[domain storage]\n"
		"[domain db]\n"
		"  autostart = False\n"
		"requires = storage\n"
		"after = storage, storage\n"
		"ready = xenstore:data/ready=yes please\n"
		"ready_timeout = 90\n"
		"start_delay = 3\n"
		"start_retries = 0\n"
		"retry_delay = 300\n"
		"restart_limit = 0/60\n"
		"on_host_shutdown = destroy\n"
		"shutdown_timeout = 10\n"
		"exec_start_pre = @/pre\n"
		"exec_stop_post = @/post\n"
		"hook_timeout = 5\n");
	const struct xd_global *g = &cfg->global;
	assert_string_equal(g->state_dir, "/srv/xendomd");
	assert_string_equal(g->save_dir, "/srv/save");
	assert_string_equal(g->socket, "/run/x.sock");
	assert_string_equal(g->socket_group, "xenadm");
	assert_int_equal(g->max_parallel_starts, 0);
	assert_int_equal(g->max_parallel_stops, 3);
	assert_int_equal(g->start_timeout_ms, 60000);
	assert_int_equal(g->on_host_shutdown, XD_HOST_SAVE);
	assert_int_equal(g->shutdown_timeout_ms, 30000);
	assert_int_equal(g->shutdown_fallback, XD_FALLBACK_LEAVE);
	assert_false(g->stop_unmanaged);
	assert_false(g->restore_on_boot);
	assert_int_equal(g->on_restore_failure, XD_RESTORE_BOOT);
	assert_int_equal(g->notify_ready, XD_NOTIFY_IMMEDIATELY);
	assert_int_equal(g->start_order, XD_ORDER_CRITICAL_PATH);

	assert_int_equal(cfg->n_domains, 2);
	const struct xd_domain_cfg *s = &cfg->domains[0], *d = &cfg->domains[1];
	/* storage inherits the [global] host-shutdown policy */
	assert_int_equal(s->on_host_shutdown, XD_HOST_SAVE);
	assert_int_equal(s->shutdown_timeout_ms, 30000);
	assert_false(d->autostart);
	assert_int_equal(d->n_requires, 1);
	assert_int_equal(d->requires[0], 0);
	assert_int_equal(d->n_after, 1);
	assert_int_equal(d->after[0], 0);
	assert_int_equal(d->ready.kind, XD_READY_XENSTORE);
	assert_string_equal(d->ready.path, "data/ready");
	assert_true(d->ready.has_value);
	assert_string_equal(d->ready.value, "yes please");
	assert_int_equal(d->ready_timeout_ms, 90000);
	assert_int_equal(d->start_delay_ms, 3000);
	assert_int_equal(d->start_retries, 0);
	assert_int_equal(d->retry_delay_ms, 300000);
	assert_int_equal(d->restart_limit, 0);
	assert_int_equal(d->restart_window_ms, 60000);
	assert_int_equal(d->on_host_shutdown, XD_HOST_DESTROY);
	assert_int_equal(d->shutdown_timeout_ms, 10000);
	char *pre = path_of("pre"), *post = path_of("post");
	assert_string_equal(d->exec_start_pre, pre);
	assert_string_equal(d->exec_stop_post, post);
	assert_int_equal(d->hook_timeout_ms, 5000);
	assert_int_equal(d->memory_mb, 1024);
	assert_int_equal(d->maxmem_mb, 2048);
	assert_true(d->hvm);
	assert_int_equal(d->on_poweroff, XD_ACT_PRESERVE);
	assert_int_equal(d->on_reboot, XD_ACT_RENAME_RESTART);
	assert_int_equal(d->on_crash, XD_ACT_COREDUMP_RESTART);
	assert_int_equal(d->on_watchdog, XD_ACT_COREDUMP_DESTROY);
	assert_int_equal(d->on_soft_reset, XD_ACT_DESTROY);
	free(pre);
	free(post);
	xd_config_free(cfg);
}

static void ready_forms(void **state)
{
	(void)state;
	xl("a");
	xl("b");
	xl("c");
	struct xd_config *cfg = load_ok(HDR "[domain a]\nready = pv-drivers\n[domain b]\nready = delay:45\n"
					"[domain c]\nready = xenstore:data/agent-1_ready\n");
	assert_int_equal(cfg->domains[0].ready.kind, XD_READY_PV_DRIVERS);
	assert_int_equal(cfg->domains[1].ready.kind, XD_READY_DELAY);
	assert_int_equal(cfg->domains[1].ready.delay_ms, 45000);
	assert_int_equal(cfg->domains[2].ready.kind, XD_READY_XENSTORE);
	assert_string_equal(cfg->domains[2].ready.path, "data/agent-1_ready");
	assert_false(cfg->domains[2].ready.has_value);
	xd_config_free(cfg);
}

static void dependency_lists(void **state)
{
	(void)state;
	const char *names[] = { "a", "b", "c", "d", "e" };
	for (size_t i = 0; i < 5; i++)
		xl(names[i]);
	struct xd_config *cfg = load_ok(HDR "[domain a]\n[domain b]\n[domain c]\n[domain d]\n"
					"[domain e]\nrequires = d,c  b ,\tc\nafter =\n");
	const struct xd_domain_cfg *e = &cfg->domains[4];
	assert_int_equal(e->n_requires, 3);
	assert_int_equal(e->requires[0], 3);
	assert_int_equal(e->requires[1], 2);
	assert_int_equal(e->requires[2], 1);
	assert_int_equal(e->n_after, 0);
	xd_config_free(cfg);
}

/* Per-domain shutdown policy defaults to [global] even when [global] is
 * set later (here in an include file), and xen_config_dir likewise. */
static void global_values_set_late(void **state)
{
	(void)state;
	make_dir("guests");
	write_file("guests/db.cfg", "name = \"db\"\n");
	write_file("conf.d/zz.conf", "[global]\non_host_shutdown = leave\nshutdown_timeout = 7\n"
		   "xen_config_dir = @/guests\n");
	struct xd_config *cfg = load_ok("[global]\nauto_dir = \"\"\ninclude_dir = @/conf.d\n[domain db]\n");
	char *xlp = path_of("guests/db.cfg");
	assert_string_equal(cfg->domains[0].xl_path, xlp);
	assert_int_equal(cfg->domains[0].on_host_shutdown, XD_HOST_LEAVE);
	assert_int_equal(cfg->domains[0].shutdown_timeout_ms, 7000);
	free(xlp);
	xd_config_free(cfg);
}

static void include_order(void **state)
{
	(void)state;
	xl("main");
	xl("first");
	xl("second");
	xl("third");
	write_file("conf.d/20-b.conf", "[domain third]\n");
	write_file("conf.d/10-a.conf", "[domain first]\n[domain second]\nafter = first\n");
	write_file("conf.d/05-notes.txt", "[domain ignored-not-conf]\n");
	write_file("conf.d/.00-hidden.conf", "[domain ignored-hidden]\n");
	make_dir("conf.d/30-dir.conf");
	struct xd_config *cfg = load_ok(HDR "[domain main]\n");
	assert_int_equal(cfg->n_domains, 4);
	assert_string_equal(cfg->domains[0].name, "main");
	assert_string_equal(cfg->domains[1].name, "first");
	assert_string_equal(cfg->domains[2].name, "second");
	assert_string_equal(cfg->domains[3].name, "third");
	char *inc = path_of("conf.d/10-a.conf");
	assert_string_equal(cfg->domains[2].origin.file, inc);
	assert_int_equal(cfg->domains[2].origin.line, 2);
	free(inc);
	xd_config_free(cfg);
}

static void auto_dir_domains(void **state)
{
	(void)state;
	make_dir("auto");
	xl("db");
	write_file("auto/20-web", "name = \"web\"\nmemory = 256\n");
	write_file("auto/10-dns.cfg", "name = \"dns\"\n");
	write_file("auto/db.cfg", "name = \"db\"\nmemory = 4096\n");   /* the section wins */
	write_file("auto/30-old.cfg~", "name = \"old1\"\n");
	write_file("auto/40-old.dpkg-old", "name = \"old2\"\n");
	write_file("auto/.hidden", "name = \"old3\"\n");
	write_file("auto/50-x.bak", "name = \"old4\"\n");
	make_dir("auto/60-subdir");
	char *target = path_of("xen/cache.cfg"), *link = path_of("auto/70-cache");
	write_file("xen/cache.cfg", "name = \"cache\"\n");
	assert_int_equal(symlink(target, link), 0);
	struct xd_diags d = { 0 };
	struct xd_config *cfg = load_warned("[global]\nxen_config_dir = @/xen\nauto_dir = @/auto\n"
					    "include_dir = @/conf.d\n[domain db]\nautostart = no\n", &d);
	assert_int_equal(d.n, 4);   /* one line per skipped entry, in name order */
	assert_warning(&d.v[0], "auto/30-old.cfg~", 0,
		       "skipped: a backup or package-manager leftover (*~)");
	assert_warning(&d.v[1], "auto/40-old.dpkg-old", 0,
		       "skipped: a backup or package-manager leftover (*.dpkg-*)");
	assert_warning(&d.v[2], "auto/50-x.bak", 0,
		       "skipped: a backup or package-manager leftover (*.bak)");
	assert_warning(&d.v[3], "auto/60-subdir", 0, "skipped: a directory");
	xd_diags_free(&d);
	assert_int_equal(cfg->n_domains, 4);
	assert_string_equal(cfg->domains[0].name, "db");
	assert_false(cfg->domains[0].autostart);
	assert_int_equal(cfg->domains[0].memory_mb, 32);
	assert_string_equal(cfg->domains[1].name, "dns");
	assert_string_equal(cfg->domains[2].name, "web");
	assert_string_equal(cfg->domains[3].name, "cache");
	const struct xd_domain_cfg *w = &cfg->domains[2];
	char *wp = path_of("auto/20-web");
	assert_true(w->from_auto_dir);
	assert_true(w->autostart);
	assert_string_equal(w->xl_path, wp);
	assert_string_equal(w->origin.file, wp);
	assert_int_equal(w->origin.line, 0);
	assert_int_equal(w->memory_mb, 256);
	assert_int_equal(w->ready.kind, XD_READY_RUNNING);
	assert_string_equal(cfg->domains[3].xl_path, link);
	/* the loaded configuration is indexed by name, auto_dir domains too */
	assert_int_equal(cfg->n_indexed, 4);
	assert_int_equal(xd_config_find(cfg, "cache"), 3);
	assert_int_equal(xd_config_find(cfg, "db"), 0);
	assert_int_equal(xd_config_find(cfg, "old1"), -1);
	free(wp);
	free(target);
	free(link);
	xd_config_free(cfg);
}

/* Sections may name auto_dir domains in their dependencies. */
static void depend_on_auto_domain(void **state)
{
	(void)state;
	make_dir("auto");
	xl("app");
	write_file("auto/net", "name = \"net\"\n");
	struct xd_config *cfg = load_ok("[global]\nxen_config_dir = @/xen\nauto_dir = @/auto\n"
					"include_dir = @/conf.d\n[domain app]\nrequires = net\n");
	assert_int_equal(cfg->n_domains, 2);
	assert_int_equal(cfg->domains[0].n_requires, 1);
	assert_int_equal(cfg->domains[0].requires[0], 1);
	xd_config_free(cfg);
}

static void xlcfg_paths(void **state)
{
	(void)state;
	make_dir("xen/sub");
	make_dir("elsewhere");
	write_file("xen/sub/rel.cfg", "name = \"rel\"\n");
	write_file("elsewhere/abs.cfg", "name = \"abs\"\n");
	write_file("xen/bare", "name = \"bare\"\n");
	write_file("xen/both.cfg", "name = \"both\"\n");
	write_file("xen/both", "name = \"wrong\"\n");
	struct xd_config *cfg = load_ok(HDR "[domain rel]\nconfig = sub/rel.cfg\n"
					"[domain abs]\nconfig = @/elsewhere/abs.cfg\n"
					"[domain bare]\n[domain both]\n");
	char *p0 = path_of("xen/sub/rel.cfg"), *p1 = path_of("elsewhere/abs.cfg");
	char *p2 = path_of("xen/bare"), *p3 = path_of("xen/both.cfg");
	assert_string_equal(cfg->domains[0].xl_path, p0);
	assert_string_equal(cfg->domains[1].xl_path, p1);
	assert_string_equal(cfg->domains[2].xl_path, p2);
	assert_string_equal(cfg->domains[3].xl_path, p3);
	free(p0);
	free(p1);
	free(p2);
	free(p3);
	xd_config_free(cfg);
}

static void xl_memory_rules(void **state)
{
	(void)state;
	write_file("xen/a.cfg", "name = \"a\"\nmaxmem = 2048\n");
	write_file("xen/b.cfg", "name = \"b\"\nmemory = 512\n");
	write_file("xen/c.cfg", "name = \"c\"\nbuilder = \"hvm\"\n");
	write_file("xen/d.cfg", "name = \"d\"\ntype = \"pvh\"\n");
	struct xd_config *cfg = load_ok(HDR "[domain a]\n[domain b]\n[domain c]\n[domain d]\n");
	assert_int_equal(cfg->domains[0].memory_mb, 2048);
	assert_int_equal(cfg->domains[0].maxmem_mb, 2048);
	assert_int_equal(cfg->domains[1].memory_mb, 512);
	assert_int_equal(cfg->domains[1].maxmem_mb, 512);
	assert_true(cfg->domains[2].hvm);
	assert_false(cfg->domains[3].hvm);
	xd_config_free(cfg);
}

static void key_line_scan(void **state)
{
	(void)state;
	static const char text[] =
		"# name = \"comment\"\n"
		"disk = [ 'phy:/dev/vg/x,xvda,w',\n"
		"         'name = inside a string' ]\n"
		"kernel = \"/boot/vmlinuz\"; memory = 512\n"
		"extra = \"memory = 7\"\n"
		"memory += 0\n"
		"vif = [ 'bridge=br0' ]\n";
	assert_int_equal(xd_xlcfg_key_line(text, strlen(text), "memory"), 6);
	assert_int_equal(xd_xlcfg_key_line(text, strlen(text), "kernel"), 4);
	assert_int_equal(xd_xlcfg_key_line(text, strlen(text), "vif"), 7);
	assert_int_equal(xd_xlcfg_key_line(text, strlen(text), "name"), 0);
	assert_int_equal(xd_xlcfg_key_line(text, strlen(text), "bridge"), 0);
}

/* ---- hostile input ------------------------------------------------------------ */

/* Bytes, NULs included, to a file in the test directory. */
static void write_bytes(const char *rel, const char *bytes, size_t len)
{
	char *path = path_of(rel);
	FILE *f = fopen(path, "we");
	assert_non_null(f);
	assert_int_equal(fwrite(bytes, 1, len, f), len);
	fclose(f);
	free(path);
}

static void make_fifo(const char *rel)
{
	char *path = path_of(rel);
	assert_int_equal(mkfifo(path, 0644), 0);
	free(path);
}

/* A message fit for a terminal: no control byte and only well-formed
 * UTF-8 without C1 controls (each rejected byte is shown as \xNN). */
static void assert_printable(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p >= 0x20 && *p < 0x7f)
			continue;
		if (*p == 0xc3 && p[1] >= 0x80 && p[1] <= 0xbf) {
			p++;                /* Latin-1 letters, as the tests write them */
			continue;
		}
		fail_msg("unescaped byte 0x%02x in \"%s\"", *p, s);
	}
}

static void assert_all_printable(const struct xd_diags *d)
{
	for (size_t i = 0; i < d->n; i++) {
		assert_printable(d->v[i].file);
		assert_printable(d->v[i].msg);
	}
}

/* libxlutil aborts on a NUL inside a quoted string; xendomd must refuse it
 * first, at its line, from a section's xl cfg and from an auto_dir one. */
static void xl_nul_in_string(void **state)
{
	(void)state;
	static const char text[] = "name = \"db\"\nmemory = 512\ndisk = [\"\0\"]\n";
	write_bytes("xen/db.cfg", text, sizeof(text) - 1);
	expect_error(HDR "[domain db]\n", "xen/db.cfg", 3, "NUL byte in the line; is this a text file?");
	make_dir("auto");
	write_bytes("auto/web", "name = 'web'\0'\n", 14);
	expect_error("[global]\nxen_config_dir = @/xen\nauto_dir = @/auto\ninclude_dir = @/conf.d\n",
		     "auto/web", 1, "NUL byte in the line; is this a text file?");
}

/* Every other byte inside quotes, and outside: xlu takes it or reports a
 * syntax error, the load never aborts, and no message carries it raw. */
static void xl_every_byte(void **state)
{
	(void)state;
	for (int b = 1; b < 256; b++) {
		char text[64];
		int n = snprintf(text, sizeof(text), "name = \"db\"\nextra = \"a%cb\"\nx%c = 1\n", b, b);
		write_bytes("xen/db.cfg", text, (size_t)n);
		struct xd_config *cfg = NULL;
		struct xd_diags d = { 0 };
		int rc = load(HDR "[domain db]\n", &cfg, &d);
		assert_true(rc == 0 || d.n > 0);
		assert_all_printable(&d);
		xd_config_free(cfg);
		xd_diags_free(&d);
	}
}

/* Raw bytes quoted back from a binary file are escaped: control bytes,
 * stray bytes and C1 controls, while printable UTF-8 is kept. */
static void hostile_bytes_escaped(void **state)
{
	(void)state;
	expect_error(HDR "caf\xc3\xa9\x1b[2J\xff\xc2\x9b\xed\xa0\x80 = 1\n", NULL, 5,
		     "unknown key 'caf\xc3\xa9\\x1b[2J\\xff\\xc2\\x9b\\xed\\xa0\\x80' in [global]");
	write_bytes("xen/db.cfg", "name = \"db\"\n\x1b]0;pwned\x07\xff = 1\n", 26);
	struct xd_config *cfg = (void *)1;
	struct xd_diags d = { 0 };
	assert_int_equal(load(HDR "[domain db]\n", &cfg, &d), -1);
	assert_true(d.n > 0);
	assert_all_printable(&d);
	assert_non_null(strstr(d.v[0].msg, "\\x1b]0;pwned\\x07\\xff"));
	xd_diags_free(&d);
}

/* A FIFO (or a device) named as a configuration file is refused without
 * being opened for a blocking read; the alarm turns a hang into a failure. */
static void fifo_main_file(void **state)
{
	(void)state;
	make_fifo("fifo.conf");
	alarm(20);
	struct xd_config *cfg = (void *)1;
	struct xd_diags d = { 0 };
	char *path = path_of("fifo.conf");
	assert_int_equal(xd_config_load(path, &cfg, &d), -1);
	assert_int_equal(d.n, 1);
	assert_diag(&d.v[0], "fifo.conf", 0, "cannot use: not a regular file (a FIFO)");
	xd_diags_free(&d);
	assert_int_equal(xd_config_load("/dev/null", &cfg, &d), -1);
	assert_int_equal(d.n, 1);
	assert_string_equal(d.v[0].msg, "cannot use: not a regular file (a character device)");
	xd_diags_free(&d);
	alarm(0);
	free(path);
}

static void fifo_xlcfg(void **state)
{
	(void)state;
	make_fifo("xen/db.cfg");
	make_fifo("xen/pipe");
	xl("web");
	alarm(20);
	struct xd_config *cfg = (void *)1;
	struct xd_diags d = { 0 };
	assert_int_equal(load(HDR "[domain db]\n[domain web]\nconfig = pipe\n", &cfg, &d), -1);
	assert_int_equal(d.n, 2);
	assert_diag(&d.v[0], "xen/db.cfg", 0, "cannot use: not a regular file (a FIFO)");
	assert_diag(&d.v[1], "xen/pipe", 0, "cannot use: not a regular file (a FIFO)");
	xd_diags_free(&d);
	alarm(0);
}

/* In include_dir and auto_dir only regular files count, so a FIFO there
 * is passed over, and the load neither blocks nor fails. */
static void fifo_in_directories(void **state)
{
	(void)state;
	make_dir("auto");
	make_fifo("auto/web");
	make_fifo("conf.d/10-x.conf");
	xl("db");
	alarm(20);
	struct xd_diags d = { 0 };
	struct xd_config *cfg = load_warned("[global]\nxen_config_dir = @/xen\nauto_dir = @/auto\n"
					    "include_dir = @/conf.d\n[domain db]\n", &d);
	alarm(0);
	assert_int_equal(d.n, 1);
	assert_warning(&d.v[0], "auto/web", 0, "skipped: not a regular file");
	xd_diags_free(&d);
	assert_int_equal(cfg->n_domains, 1);
	xd_config_free(cfg);
}

/* ---- live migration keys ------------------------------------------------- */

static void migrate_defaults_and_inheritance(void **state)
{
	(void)state;
	xl("a");
	xl("b");
	xl("c");
	struct xd_config *cfg = load_ok(HDR "on_host_shutdown = migrate\nmigrate_to = b.example\n"
		"migrate_timeout = 90\n[domain a]\n[domain b]\nmigrate_to = [fd00::2]\n"
		"migrate_command = ssh -p 2222\nmigrate_timeout = 30\nmigrate_live = no\n[domain c]\n"
		"on_host_shutdown = save\n");
	assert_int_equal(cfg->global.on_host_shutdown, XD_HOST_MIGRATE);
	assert_string_equal(cfg->global.migrate_command, "ssh");
	assert_int_equal(dom(cfg, "a")->on_host_shutdown, XD_HOST_MIGRATE);
	assert_string_equal(dom(cfg, "a")->migrate_to, "b.example");
	assert_string_equal(dom(cfg, "a")->migrate_command, "ssh");
	assert_int_equal(dom(cfg, "a")->migrate_timeout_ms, 90 * 1000);
	assert_string_equal(dom(cfg, "b")->migrate_to, "[fd00::2]");
	assert_string_equal(dom(cfg, "b")->migrate_command, "ssh -p 2222");
	assert_int_equal(dom(cfg, "b")->migrate_timeout_ms, 30 * 1000);
	assert_false(dom(cfg, "b")->migrate_live);
	assert_true(dom(cfg, "a")->migrate_live);
	assert_int_equal(dom(cfg, "c")->on_host_shutdown, XD_HOST_SAVE);
	xd_config_free(cfg);
	cfg = load_ok(HDR "[domain a]\n");
	assert_string_equal(cfg->global.migrate_to, "");
	assert_string_equal(dom(cfg, "a")->migrate_command, "ssh");
	assert_int_equal(dom(cfg, "a")->migrate_timeout_ms, 600 * 1000);
	xd_config_free(cfg);
}

static void migrate_needs_a_host(void **state)
{
	(void)state;
	xl("db");
	expect_error(HDR "on_host_shutdown = migrate\n", NULL, HDR_LINES + 1,
		     "on_host_shutdown = migrate needs migrate_to = HOST in [global]");
	expect_error(HDR "[domain db]\nshutdown_timeout = 5\non_host_shutdown = migrate\n", NULL,
		     HDR_LINES + 3, "on_host_shutdown = migrate needs migrate_to = HOST (in [domain db] "
		     "or [global])");
	/* an empty migrate_to in the domain overrides [global]'s */
	expect_error(HDR "on_host_shutdown = migrate\nmigrate_to = b\n[domain db]\nmigrate_to =\n", NULL,
		     HDR_LINES + 4, "on_host_shutdown = migrate needs migrate_to = HOST (in [domain db] "
		     "or [global])");
	struct xd_config *cfg = load_ok(HDR "migrate_to = b\n[domain db]\non_host_shutdown = migrate\n");
	assert_string_equal(dom(cfg, "db")->migrate_to, "b");
	xd_config_free(cfg);
}

static void migrate_bad_values(void **state)
{
	(void)state;
	expect_error(HDR "migrate_to = -oProxyCommand=sh\n", NULL, HDR_LINES + 1,
		     "migrate_to: \"-oProxyCommand=sh\": the host may not start with '-' (it would be "
		     "an option of the migrate_command)");
	/* ("@" stands for the test's directory in expect_error) */
	static const char *const bad[] = { "\"a b\"", "host;reboot", "$(id)", "`id`", "h'x", "h\\\"x" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char text[256];
		struct xd_config *cfg = (void *)1;
		struct xd_diags d = { 0 };
		snprintf(text, sizeof(text), HDR "migrate_to = %s\n", bad[i]);
		assert_int_equal(load(text, &cfg, &d), -1);
		assert_int_equal(d.n, 1);
		assert_int_equal(d.v[0].line, HDR_LINES + 1);
		assert_non_null(strstr(d.v[0].msg, "the host may only contain letters, digits and"));
		xd_diags_free(&d);
	}
	expect_error(HDR "migrate_command =\n", NULL, HDR_LINES + 1,
		     "migrate_command: empty (the default is ssh)");
	expect_error(HDR "migrate_timeout = 0\n", NULL, HDR_LINES + 1,
		     "migrate_timeout: 0 is out of range (1 to 86400 seconds)");
}

/* Degraded: the domain's own mistake fails that domain; [global]'s falls
 * back to on_host_shutdown = shutdown for everyone. */
static void migrate_degraded(void **state)
{
	(void)state;
	xl("a");
	xl("b");
	struct xd_diags d = { 0 };
	struct xd_config *cfg = load_degraded(HDR "on_host_shutdown = migrate\n[domain a]\n"
		"[domain b]\non_host_shutdown = migrate\n", &d);
	assert_int_equal(xd_diags_errors(&d), 2);
	assert_int_equal(cfg->global.on_host_shutdown, XD_HOST_SHUTDOWN);
	assert_null(dom(cfg, "a")->config_error);
	assert_int_equal(dom(cfg, "a")->on_host_shutdown, XD_HOST_SHUTDOWN);
	assert_config_error(dom(cfg, "b"), "@/xendomd.conf:8: on_host_shutdown = migrate needs "
			    "migrate_to = HOST (in [domain b] or [global])");
	xd_config_free(cfg);
	xd_diags_free(&d);
}

/* A refused section's keys are checked, then dropped: everything they
 * allocated too (run under ASan: a leak fails the test). */
static void rejected_section_frees_its_values(void **state)
{
	(void)state;
	write_file_mode("hook", "#!/bin/sh\n", 0755);
	expect_error(HDR "[domain a/b]\nready = xenstore:data/ready=1\nexec_start_pre = @/hook\n"
		     "exec_stop_post = @/hook\nrequires = x y\nafter = z\nconfig = a.cfg\n", NULL, 5,
		     "bad domain name 'a/b': '/' cannot be part of a file name in save_dir and state_dir");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(unknown_section), T(misspelt_section), T(unknown_key_suggested),
		T(unknown_key_plain), T(start_order_values), T(domain_key_in_global), T(global_key_in_domain),
		T(key_outside_section), T(not_key_value), T(unterminated_section),
		T(bad_boolean), T(bad_enum), T(bad_number), T(negative_number),
		T(number_out_of_range), T(zero_timeout), T(relative_dir), T(duplicate_key),
		T(duplicate_key_across_files), T(duplicate_domain), T(bad_domain_name_slash),
		T(bad_domain_name_long), T(domain_names_as_xl), T(bad_domain_name_dotdot), T(domain_without_name),
		T(missing_xlcfg_default), T(missing_xlcfg_explicit), T(unknown_dependency),
		T(cycle_of_two), T(cycle_of_three), T(self_loop), T(bad_ready_kind),
		T(bad_ready_dotdot), T(bad_ready_absolute), T(bad_ready_charset), T(bad_ready_dot),
		T(bad_ready_empty_component), T(bad_ready_value),
		T(bad_ready_long_path), T(ready_path_at_the_limit), T(bad_ready_delay), T(bad_restart_limit),
		T(restart_limit_zero_window), T(hook_relative), T(hook_not_executable),
		T(hook_missing), T(hook_directory), T(include_dir_in_include),
		T(include_dir_missing), T(include_broken_link), T(auto_dir_missing),
		T(errors_inside_rejected_section), T(line_too_long), T(longest_line_accepted),
		T(xl_parse_error), T(xl_dos_line_endings), T(xl_python_code), T(xl_name_mismatch), T(xl_without_name), T(xl_bad_memory),
		T(xl_memory_list), T(xl_zero_memory), T(xl_maxmem_below_memory), T(xl_bad_action),
		T(xl_bad_type), T(xl_type_builder_conflict), T(xl_bad_name), T(auto_duplicate), T(degraded_per_domain), T(degraded_cycle),
		T(degraded_global_and_sections), T(degraded_main_file), T(degraded_auto_dir),
		T(every_error_reported), T(check_output), T(missing_main_file), T(main_file_is_directory),
		T(defaults), T(overrides), T(ready_forms), T(dependency_lists), T(global_values_set_late),
		T(include_order), T(auto_dir_domains), T(depend_on_auto_domain), T(xlcfg_paths),
		T(xl_memory_rules), T(key_line_scan),
		T(xl_nul_in_string), T(xl_every_byte), T(hostile_bytes_escaped), T(fifo_main_file),
		T(fifo_xlcfg), T(fifo_in_directories), T(rejected_section_frees_its_values),
		T(migrate_defaults_and_inheritance), T(migrate_needs_a_host), T(migrate_bad_values),
		T(migrate_degraded),
#undef T
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
