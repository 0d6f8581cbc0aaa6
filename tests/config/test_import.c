/* SPDX-License-Identifier: ISC */
/*
 * xendomd --import-xendomains: the shell-variable reader (never runs a
 * line, refuses what it cannot read literally) and the mapping of each
 * xendomains setting to xendomd.conf keys, key by key, for Debian's,
 * upstream's and NetBSD's scripts.  Directories the mapping looks at are
 * made in a temporary directory.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/import_xendomains.h"
#include "config/shvars.h"

/* ------------------------------------------------------------ helpers */

/* The value of the first uncommented "key = value" line of section
 * ("global" or "domain NAME"), or NULL.  Static buffer. */
static const char *key_in(const char *conf, const char *section, const char *key)
{
	static char val[512];
	char want[128], sect[512] = "";
	snprintf(want, sizeof(want), "[%s]", section);
	for (const char *p = conf; *p;) {
		const char *e = strchr(p, '\n');
		size_t len = e ? (size_t)(e - p) : strlen(p);
		char line[512];
		snprintf(line, sizeof(line), "%.*s", (int)len, p);
		p += len + (e ? 1 : 0);
		if (line[0] == '[') {
			snprintf(sect, sizeof(sect), "%s", line);
			continue;
		}
		size_t kl = strlen(key);
		if (strcmp(sect, want) == 0 && strncmp(line, key, kl) == 0 &&
		    strncmp(line + kl, " = ", 3) == 0) {
			snprintf(val, sizeof(val), "%s", line + kl + 3);
			return val;
		}
	}
	return NULL;
}

static const char *gkey(const char *conf, const char *key)
{
	return key_in(conf, "global", key);
}

static char *import(const char *text, const char *origin, enum xd_import_kind want)
{
	enum xd_import_kind kind;
	size_t unread = 99;
	char *out = xd_import_xendomains(text, origin, &kind, &unread);
	assert_non_null(out);
	assert_int_equal(kind, want);
	return out;
}

static char dir[PATH_MAX];

static int setup(void **state)
{
	(void)state;
	const char *tmp = getenv("TMPDIR");
	snprintf(dir, sizeof(dir), "%s/xd-import-test.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	return rmdir(dir);
}

/* ------------------------------------------------------------ the reader */

static void reader_forms(void **state)
{
	(void)state;
	struct xd_shvars v;
	xd_shvars_parse("# comment\n\n  A=plain\nB=\"double quoted\" # trailing\n"
			"export C='single $x'\nD=\nE=\"\"\nF=a\"b c\"'d'\r\n"
			"G=\"esc \\\" \\\\ \\$\"\n",
			&v);
	assert_int_equal(v.n_skip, 0);
	assert_int_equal(v.n, 7);
	assert_string_equal(xd_shvars_get(&v, "A")->value, "plain");
	assert_int_equal(xd_shvars_get(&v, "A")->line, 3);
	assert_string_equal(xd_shvars_get(&v, "B")->value, "double quoted");
	assert_string_equal(xd_shvars_get(&v, "C")->value, "single $x");
	assert_string_equal(xd_shvars_get(&v, "D")->value, "");
	assert_string_equal(xd_shvars_get(&v, "E")->value, "");
	assert_string_equal(xd_shvars_get(&v, "F")->value, "ab cd");
	assert_string_equal(xd_shvars_get(&v, "G")->value, "esc \" \\ $");
	assert_null(xd_shvars_get(&v, "H"));
	assert_false(v.sysconfig_meta);
	xd_shvars_free(&v);
}

static void reader_refuses_what_it_cannot_read(void **state)
{
	(void)state;
	struct xd_shvars v;
	xd_shvars_parse(". /etc/other\nA=$HOME\nB=\"x${Y}\"\nC=`date`\nD=1 E=2\n"
			"F=\"open\nG=ok\nH=a;rm -rf /\nrun_something\nI=x y\n",
			&v);
	assert_int_equal(v.n, 1);
	assert_string_equal(xd_shvars_get(&v, "G")->value, "ok");
	assert_int_equal(v.n_skip, 9);
	static const unsigned lines[] = { 1, 2, 3, 4, 5, 6, 8, 9, 10 };
	for (size_t i = 0; i < 9; i++)
		assert_int_equal(v.skip[i].line, lines[i]);
	assert_string_equal(v.skip[0].text, ". /etc/other");
	assert_non_null(strstr(v.skip[1].why, "expansion"));
	assert_non_null(strstr(v.skip[3].why, "expansion"));
	assert_non_null(strstr(v.skip[5].why, "unterminated"));
	xd_shvars_free(&v);
}

static void reader_last_assignment_wins(void **state)
{
	(void)state;
	struct xd_shvars v;
	xd_shvars_parse("## Type: string\nA=1\nB=2\nA=3\n", &v);
	assert_int_equal(v.n, 2);
	assert_string_equal(xd_shvars_get(&v, "A")->value, "3");
	assert_int_equal(xd_shvars_get(&v, "A")->line, 4);
	assert_int_equal(xd_shvars_get(&v, "A")->times, 2);
	assert_true(v.sysconfig_meta);
	xd_shvars_free(&v);
}

/* ------------------------------------------------------------ Debian */

/* The values Debian's /etc/default/xendomains ships (the real file is fed
 * to the binary by test_import_xendomains.py). */
#define DEBIAN_SHIPPED                                                                 \
	"XENDOMAINS_MIGRATE=\"\"\nXENDOMAINS_SAVE=/var/lib/xen/save\nXENDOMAINS_RESTORE=true\n" \
	"XENDOMAINS_AUTO=/etc/xen/auto\nXENDOMAINS_STOP_MAXWAIT=300\n"

static void debian_shipped(void **state)
{
	(void)state;
	char *c = import(DEBIAN_SHIPPED, "/etc/default/xendomains", XD_IMPORT_DEBIAN);
	assert_string_equal(gkey(c, "on_host_shutdown"), "save");
	assert_string_equal(gkey(c, "save_dir"), "/var/lib/xen/save");
	assert_string_equal(gkey(c, "restore_on_boot"), "yes");
	assert_string_equal(gkey(c, "on_restore_failure"), "fail");
	assert_string_equal(gkey(c, "stop_unmanaged"), "yes");
	assert_string_equal(gkey(c, "shutdown_timeout"), "300");
	assert_string_equal(gkey(c, "shutdown_fallback"), "destroy");
	/* Nothing the loader does not know. */
	assert_null(gkey(c, "migrate_to"));
	assert_null(gkey(c, "save_timeout"));
	assert_null(gkey(c, "restore_unmanaged"));
	/* Every variable is quoted, with its line. */
	assert_non_null(strstr(c, "; XENDOMAINS_MIGRATE=\"\" (line 1)"));
	assert_non_null(strstr(c, "; XENDOMAINS_STOP_MAXWAIT=300 (line 5)"));
	assert_non_null(strstr(c, "save_timeout bounds a save"));
	assert_non_null(strstr(c, "Debian's script has no XENDOMAINS_SHUTDOWN"));
	free(c);
}

static void debian_auto_dir(void **state)
{
	(void)state;
	char text[PATH_MAX + 64];
	/* An existing directory is taken as it is. */
	snprintf(text, sizeof(text), "XENDOMAINS_AUTO=%s\n", dir);
	char *c = import(text, "x", XD_IMPORT_DEBIAN);
	assert_string_equal(gkey(c, "auto_dir"), dir);
	free(c);
	/* A missing one started nothing: disabled (a set auto_dir must exist). */
	snprintf(text, sizeof(text), "XENDOMAINS_AUTO=%s/none\n", dir);
	c = import(text, "x", XD_IMPORT_DEBIAN);
	assert_string_equal(gkey(c, "auto_dir"), "\"\"");
	free(c);
	/* Empty: no autostart directory. */
	c = import("XENDOMAINS_AUTO=\n", "x", XD_IMPORT_DEBIAN);
	assert_string_equal(gkey(c, "auto_dir"), "\"\"");
	free(c);
	/* Relative: not carried over, the default stays. */
	c = import("XENDOMAINS_AUTO=etc/auto\n", "x", XD_IMPORT_DEBIAN);
	assert_null(gkey(c, "auto_dir"));
	assert_non_null(strstr(c, "Not an absolute path"));
	free(c);
}

static void debian_no_save(void **state)
{
	(void)state;
	char *c = import("XENDOMAINS_SAVE=\nXENDOMAINS_RESTORE=true\n", "x", XD_IMPORT_DEBIAN);
	assert_string_equal(gkey(c, "on_host_shutdown"), "shutdown");
	assert_null(gkey(c, "save_dir"));
	assert_string_equal(gkey(c, "restore_on_boot"), "no");
	assert_non_null(strstr(c, "no directory to restore from"));
	free(c);
}

/* Debian's script tests [ -n "$XENDOMAINS_RESTORE" ]: "false" restores. */
static void debian_restore_false_restores(void **state)
{
	(void)state;
	char *c = import("XENDOMAINS_SAVE=/srv/save\nXENDOMAINS_RESTORE=false\n", "x",
			 XD_IMPORT_DEBIAN);
	assert_string_equal(gkey(c, "save_dir"), "/srv/save");
	assert_string_equal(gkey(c, "restore_on_boot"), "yes");
	assert_non_null(strstr(c, "even for \"false\""));
	free(c);
	c = import("XENDOMAINS_SAVE=/srv/save\nXENDOMAINS_RESTORE=\n", "x", XD_IMPORT_DEBIAN);
	assert_string_equal(gkey(c, "restore_on_boot"), "no");
	assert_non_null(strstr(c, "booted cold"));
	free(c);
}

static void debian_maxwait(void **state)
{
	(void)state;
	char *c = import("XENDOMAINS_STOP_MAXWAIT=0\n", "x", XD_IMPORT_DEBIAN);
	assert_string_equal(gkey(c, "shutdown_timeout"), "1");
	free(c);
	c = import("XENDOMAINS_STOP_MAXWAIT=999999\n", "x", XD_IMPORT_DEBIAN);
	assert_string_equal(gkey(c, "shutdown_timeout"), "86400");
	free(c);
	c = import("", "x", XD_IMPORT_DEBIAN);
	assert_string_equal(gkey(c, "shutdown_timeout"), "1");
	assert_non_null(strstr(c, "; XENDOMAINS_STOP_MAXWAIT is not set"));
	/* Unset SAVE and RESTORE: shut down, nothing restored. */
	assert_string_equal(gkey(c, "on_host_shutdown"), "shutdown");
	assert_string_equal(gkey(c, "restore_on_boot"), "no");
	free(c);
}

/* XENDOMAINS_MIGRATE: the words `xl migrate DOMID` got. */
static void migrate_maps_to_on_host_shutdown(void **state)
{
	(void)state;
	char *c = import("XENDOMAINS_MIGRATE=\"otherhost --live\"\nXENDOMAINS_SAVE=\n"
			 "XENDOMAINS_STOP_MAXWAIT=300\n", "x", XD_IMPORT_DEBIAN);
	assert_non_null(strstr(c, "; XENDOMAINS_MIGRATE=\"otherhost --live\" (line 1)"));
	assert_string_equal(gkey(c, "on_host_shutdown"), "migrate");
	assert_string_equal(gkey(c, "migrate_to"), "otherhost");
	assert_string_equal(gkey(c, "migrate_timeout"), "300");
	assert_null(gkey(c, "migrate_command"));
	/* what a failed migration came to: a shutdown, shown, not set twice */
	assert_non_null(strstr(c, "\n;on_host_shutdown = shutdown\n"));
	assert_non_null(strstr(c, "resumed and shut down, as there"));
	free(c);
	c = import("XENDOMAINS_MIGRATE=\"-s ssh2 10.0.0.2\"\nXENDOMAINS_SAVE=/var/lib/xen/save\n",
		   "x", XD_IMPORT_DEBIAN);
	assert_string_equal(gkey(c, "on_host_shutdown"), "migrate");
	assert_string_equal(gkey(c, "migrate_to"), "10.0.0.2");
	assert_string_equal(gkey(c, "migrate_command"), "ssh2");
	assert_string_equal(gkey(c, "migrate_timeout"), "1");   /* Debian, no MAXWAIT */
	assert_string_equal(gkey(c, "save_dir"), "/var/lib/xen/save");
	assert_non_null(strstr(c, "\n;on_host_shutdown = save\n"));
	assert_non_null(strstr(c, "never falls back to a save"));
	free(c);
	/* upstream: no watchdog, no bound; but a day */
	c = import("XENDOMAINS_MIGRATE=b.example\nXENDOMAINS_SHUTDOWN=\"--wait\"\n", "/etc/sysconfig/x",
		   XD_IMPORT_UPSTREAM);
	assert_string_equal(gkey(c, "migrate_to"), "b.example");
	assert_string_equal(gkey(c, "migrate_timeout"), "86400");
	free(c);
}

static void migrate_not_carried_over(void **state)
{
	(void)state;
	static const struct {
		const char *value, *why;
	} bad[] = {
		{ "-e otherhost", "xl migrate's option -e has no equivalent here" },
		{ "one two", "a second host, two" },
		{ "--live", "no host in it" },
		{ "otherhost -s", "-s has no command after it" },
		{ "-bad;host", "xl migrate's option -bad;host has no equivalent here" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char text[128], why[160];
		snprintf(text, sizeof(text), "XENDOMAINS_MIGRATE=\"%s\"\nXENDOMAINS_SAVE=\n", bad[i].value);
		char *c = import(text, "x", XD_IMPORT_DEBIAN);
		snprintf(why, sizeof(why), "; Not carried over: %s.", bad[i].why);
		if (!strstr(c, why))
			fail_msg("%s: no \"%s\" in\n%s", bad[i].value, why, c);
		assert_string_equal(gkey(c, "on_host_shutdown"), "shutdown");
		assert_null(gkey(c, "migrate_to"));
		free(c);
	}
}

static void unread_lines_are_listed(void **state)
{
	(void)state;
	size_t unread = 0;
	char *c = xd_import_xendomains("XENDOMAINS_SAVE=$SAVEDIR\n. /etc/other\n", "x", NULL, &unread);
	assert_int_equal(unread, 2);
	assert_non_null(strstr(c, "NOT READ"));
	assert_non_null(strstr(c, "line 1 uses an expansion (the file is read, not run): "
				  "XENDOMAINS_SAVE=$SAVEDIR"));
	assert_non_null(strstr(c, "line 2 is not a variable assignment: . /etc/other"));
	/* The unread SAVE counts as unset. */
	assert_string_equal(gkey(c, "on_host_shutdown"), "shutdown");
	free(c);
	c = xd_import_xendomains("XENDOMAINS_LOCKFILE=/x\n", "x", NULL, &unread);
	assert_int_equal(unread, 0);
	assert_non_null(strstr(c, "; XENDOMAINS_LOCKFILE=/x (line 1)\n;   not read by xendomains"));
	free(c);
}

/* ------------------------------------------------------------ upstream */

/* The assignments of Xen's tools/hotplug/Linux/init.d/sysconfig.xendomains. */
#define UPSTREAM_TEMPLATE                                                          \
	"XENDOMAINS_SYSRQ=\"\"\nXENDOMAINS_USLEEP=100000\nXENDOMAINS_CREATE_USLEEP=5000000\n" \
	"XENDOMAINS_MIGRATE=\"\"\nXENDOMAINS_SAVE=/var/lib/xen/save\n"                    \
	"XENDOMAINS_SHUTDOWN=\"--wait\"\nXENDOMAINS_SHUTDOWN_ALL=\"--all --wait\"\n"      \
	"XENDOMAINS_RESTORE=true\nXENDOMAINS_AUTO=/etc/xen/auto\nXENDOMAINS_AUTO_ONLY=true\n" \
	"XENDOMAINS_STOP_MAXWAIT=300\n"

static void upstream_template(void **state)
{
	(void)state;
	char *c = import(UPSTREAM_TEMPLATE, "/etc/sysconfig/xendomains", XD_IMPORT_UPSTREAM);
	assert_string_equal(gkey(c, "on_host_shutdown"), "save");
	assert_string_equal(gkey(c, "save_dir"), "/var/lib/xen/save");
	assert_string_equal(gkey(c, "restore_on_boot"), "yes");
	/* AUTO_ONLY, but SHUTDOWN_ALL hits every domain. */
	assert_string_equal(gkey(c, "stop_unmanaged"), "yes");
	assert_string_equal(gkey(c, "shutdown_timeout"), "300");
	assert_string_equal(gkey(c, "shutdown_fallback"), "destroy");
	assert_null(gkey(c, "max_parallel_starts"));
	assert_non_null(strstr(c, ";max_parallel_starts = 1\n"));
	assert_non_null(strstr(c, "paused 5 s after each create"));
	assert_non_null(strstr(c, "; XENDOMAINS_SYSRQ=\"\" (line 1)"));
	assert_non_null(strstr(c, "; XENDOMAINS_USLEEP=100000 (line 2)"));
	assert_non_null(strstr(c, "; XENDOMAINS_SHUTDOWN_ALL=\"--all --wait\" (line 7)"));
	assert_non_null(strstr(c, "; XENDOMAINS_AUTO_ONLY=true (line 10)"));
	assert_null(strstr(c, "Debian's script"));
	free(c);
}

/* Upstream is recognised by its variables, not only by its path. */
static void upstream_detected(void **state)
{
	(void)state;
	char *c = import("XENDOMAINS_SYSRQ=s\n", "/root/copy", XD_IMPORT_UPSTREAM);
	assert_non_null(strstr(c, "SysRq keys were sent"));
	free(c);
	c = import("## Type: string\nXENDOMAINS_SAVE=\n", "/root/copy", XD_IMPORT_UPSTREAM);
	free(c);
}

static void upstream_restore_only_true(void **state)
{
	(void)state;
	char *c = import("XENDOMAINS_SAVE=/s\nXENDOMAINS_RESTORE=yes\n", "/etc/sysconfig/xendomains",
			 XD_IMPORT_UPSTREAM);
	assert_string_equal(gkey(c, "restore_on_boot"), "no");
	assert_non_null(strstr(c, "Only \"true\""));
	free(c);
}

static void upstream_leave_and_auto_only(void **state)
{
	(void)state;
	char *c = import("XENDOMAINS_SAVE=\nXENDOMAINS_SHUTDOWN=\nXENDOMAINS_SHUTDOWN_ALL=\n"
			 "XENDOMAINS_AUTO_ONLY=true\nXENDOMAINS_STOP_MAXWAIT=0\n",
			 "/etc/sysconfig/xendomains", XD_IMPORT_UPSTREAM);
	assert_string_equal(gkey(c, "on_host_shutdown"), "leave");
	assert_string_equal(gkey(c, "stop_unmanaged"), "no");
	/* No watchdog: waited without bound; the longest xendomd takes. */
	assert_string_equal(gkey(c, "shutdown_timeout"), "86400");
	free(c);
	c = import("XENDOMAINS_SAVE=\nXENDOMAINS_SHUTDOWN=--wait\nXENDOMAINS_SHUTDOWN_ALL=\n"
		   "XENDOMAINS_AUTO_ONLY=false\n",
		   "/etc/sysconfig/xendomains", XD_IMPORT_UPSTREAM);
	assert_string_equal(gkey(c, "on_host_shutdown"), "shutdown");
	assert_string_equal(gkey(c, "stop_unmanaged"), "yes");
	free(c);
	c = import("XENDOMAINS_SAVE=/s\nXENDOMAINS_SHUTDOWN=\nXENDOMAINS_SHUTDOWN_ALL=\n"
		   "XENDOMAINS_AUTO_ONLY=true\n",
		   "/etc/sysconfig/xendomains", XD_IMPORT_UPSTREAM);
	assert_string_equal(gkey(c, "on_host_shutdown"), "save");
	assert_string_equal(gkey(c, "stop_unmanaged"), "no");
	assert_non_null(strstr(c, "whose save failed running"));
	free(c);
}

/* ------------------------------------------------------------ NetBSD */

static void netbsd_list(void **state)
{
	(void)state;
	char *c = import("hostname=dom0\nxencommons=YES\nxendomains=\"web  db Domain-0\"\n"
			 "xendomains_config=\"/usr/pkg/etc/xen/%s.cfg\"\n",
			 "/etc/rc.conf", XD_IMPORT_NETBSD);
	assert_string_equal(gkey(c, "auto_dir"), "\"\"");
	assert_string_equal(gkey(c, "restore_on_boot"), "no");
	assert_string_equal(gkey(c, "on_host_shutdown"), "shutdown");
	assert_string_equal(gkey(c, "stop_unmanaged"), "no");
	assert_string_equal(key_in(c, "domain web", "config"), "/usr/pkg/etc/xen/web.cfg");
	assert_string_equal(key_in(c, "domain db", "config"), "/usr/pkg/etc/xen/db.cfg");
	assert_null(strstr(c, "[domain Domain-0]"));
	assert_non_null(strstr(c, "\"Domain-0\" in xendomains: not a domain name"));
	assert_true(strstr(c, "[domain web]") < strstr(c, "[domain db]"));
	/* The hooks rc.d/xendomains ran when they existed: shown, not enabled. */
	assert_non_null(strstr(c, "[domain web]\nconfig = /usr/pkg/etc/xen/web.cfg\n;exec_start_pre = /"));
	assert_non_null(strstr(c, "/web-pre\n;exec_stop_post = /"));
	assert_null(key_in(c, "domain web", "exec_start_pre"));
	assert_non_null(strstr(c, "2 other rc.conf settings"));
	free(c);
}

static void netbsd_hooks_and_default_config(void **state)
{
	(void)state;
	char *c = import("xendomains=web\nxendomains_prehook=\"/hooks/%s-up\"\n"
			 "xendomains_config=\"/bad/%d\"\n",
			 "/etc/rc.conf", XD_IMPORT_NETBSD);
	assert_non_null(strstr(c, "[domain web]\nconfig = "));
	assert_non_null(strstr(c, "/xen/web\n;exec_start_pre = /hooks/web-up\n"));
	assert_null(key_in(c, "domain web", "exec_start_pre"));
	free(c);
}

/* ------------------------------------------------------------ the option */

static void main_reads_file_and_reports(void **state)
{
	(void)state;
	char path[PATH_MAX + 16];
	snprintf(path, sizeof(path), "%s/xendomains", dir);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs("XENDOMAINS_SAVE=/s\nsource /x\n", f);
	fclose(f);
	char *out = NULL, *err = NULL;
	size_t ol = 0, el = 0;
	FILE *o = open_memstream(&out, &ol), *e = open_memstream(&err, &el);
	assert_int_equal(xd_import_xendomains_main(path, o, e), 1);
	fclose(o);
	fclose(e);
	assert_string_equal(gkey(out, "save_dir"), "/s");
	assert_non_null(strstr(err, "1 line not read"));
	free(out);
	free(err);
	unlink(path);
	o = open_memstream(&out, &ol);
	e = open_memstream(&err, &el);
	assert_int_equal(xd_import_xendomains_main(path, o, e), 2);
	fclose(o);
	fclose(e);
	assert_int_equal(ol, 0);
	assert_non_null(strstr(err, "No such file"));
	free(out);
	free(err);
}

#define T(f) cmocka_unit_test(f)
int main(void)
{
	const struct CMUnitTest tests[] = {
		T(reader_forms), T(reader_refuses_what_it_cannot_read), T(reader_last_assignment_wins),
		T(debian_shipped), T(debian_auto_dir), T(debian_no_save),
		T(debian_restore_false_restores), T(debian_maxwait), T(migrate_maps_to_on_host_shutdown),
		T(migrate_not_carried_over),
		T(unread_lines_are_listed), T(upstream_template), T(upstream_detected),
		T(upstream_restore_only_true), T(upstream_leave_and_auto_only), T(netbsd_list),
		T(netbsd_hooks_and_default_config), T(main_reads_file_and_reports),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
