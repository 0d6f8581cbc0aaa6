/* SPDX-License-Identifier: ISC */
/* The configuration a daemon start boots with (daemon/bootcfg.h), with
 * stub loaders: which failures stop the daemon, what is logged. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/load.h"
#include "daemon/bootcfg.h"
#include "util/alloc.h"
#include "util/log.h"

static char logbuf[8192];
static unsigned loads, last_flags;

static void sink(void *ctx, enum xd_log_level lvl, const char *domain, long domid, const char *msg)
{
	(void)ctx, (void)lvl, (void)domain, (void)domid;
	size_t n = strlen(logbuf);
	snprintf(logbuf + n, sizeof(logbuf) - n, "%s\n", msg);
}

static unsigned occurrences(const char *hay, const char *needle)
{
	unsigned n = 0;
	for (const char *p = hay; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

/* One good domain, one broken, two diagnostics (an error and a warning). */
static int degraded_stub(const char *path, unsigned flags, struct xd_config **out,
			 struct xd_diags *diags)
{
	loads++;
	last_flags = flags;
	if ((flags & XD_LOAD_MISSING_OK) && access(path, F_OK) < 0)
		xd_diag_add_sev(diags, XD_DIAG_NOTICE, path, 0, "not found: running on the defaults");
	struct xd_config *c = xd_malloc0(sizeof(*c));
	c->domains = xd_calloc(2, sizeof(*c->domains));
	c->n_domains = 2;
	strcpy(c->domains[0].name, "good");
	strcpy(c->domains[1].name, "bad");
	c->domains[1].config_error = xd_strdup("/etc/x.conf:4: unknown key \"memroy\"");
	xd_diag_add(diags, "/etc/x.conf", 4, "unknown key \"memroy\"");
	xd_diag_warn(diags, "/etc/xen/auto/web.cfg~", 0, "skipped: a backup file");
	*out = c;
	return 0;
}

static int unreadable_stub(const char *path, unsigned flags, struct xd_config **out,
			   struct xd_diags *diags)
{
	(void)flags;
	loads++;
	*out = NULL;
	xd_diag_add(diags, path, 0, "Permission denied");
	return -1;
}

static int setup(void **state)
{
	(void)state;
	logbuf[0] = '\0';
	loads = last_flags = 0;
	xd_log_set_sink(sink, NULL, 0);
	return 0;
}

static void per_domain_errors_never_stop_the_daemon(void **state)
{
	(void)state;
	struct xd_config *cfg = NULL;
	assert_int_equal(xd_boot_config_load("/proc/self/status", true, degraded_stub, &cfg), 0);
	assert_non_null(cfg);
	assert_int_equal(cfg->n_domains, 2);
	assert_non_null(strstr(logbuf, "/etc/x.conf:4: unknown key \"memroy\""));
	assert_non_null(strstr(logbuf, "/etc/xen/auto/web.cfg~: skipped: a backup file"));
	assert_non_null(strstr(logbuf, "1 error in the configuration"));
	assert_non_null(strstr(logbuf, "1 domain will not start"));
	assert_null(strstr(logbuf, "running on the defaults"));
	assert_int_equal(last_flags, XD_LOAD_DEGRADED);
	xd_config_free(cfg);
}

static void explicit_missing_file_is_an_error(void **state)
{
	(void)state;
	struct xd_config *cfg = NULL;
	assert_int_equal(xd_boot_config_load("/nonexistent/xendomd.conf", true, degraded_stub, &cfg), -1);
	assert_null(cfg);
	assert_int_equal(loads, 0);
	assert_non_null(strstr(logbuf, "no such configuration file"));
}

static void default_missing_file_runs_on_defaults_and_says_so_once(void **state)
{
	(void)state;
	struct xd_config *cfg = NULL;
	assert_int_equal(xd_boot_config_load("/nonexistent/xendomd.conf", false, degraded_stub, &cfg), 0);
	assert_non_null(cfg);
	assert_int_equal(loads, 1);
	assert_int_equal(last_flags, XD_LOAD_DEGRADED | XD_LOAD_MISSING_OK);
	assert_int_equal(occurrences(logbuf, "running on the defaults"), 1);
	xd_config_free(cfg);
}

static void unreadable_main_file_stops_the_daemon(void **state)
{
	(void)state;
	struct xd_config *cfg = (struct xd_config *)1;
	assert_int_equal(xd_boot_config_load("/proc/self/status", false, unreadable_stub, &cfg), -1);
	assert_null(cfg);
	assert_non_null(strstr(logbuf, "/proc/self/status: Permission denied"));
	assert_non_null(strstr(logbuf, "cannot read the configuration"));
}

static void default_path_can_be_redirected_from_the_environment(void **state)
{
	(void)state;
	unsetenv("XENDOMD_DEFAULT_CONFIG");
	assert_string_equal(xd_boot_default_path("/etc/a.conf"), "/etc/a.conf");
	setenv("XENDOMD_DEFAULT_CONFIG", "", 1);
	assert_string_equal(xd_boot_default_path("/etc/a.conf"), "/etc/a.conf");
	setenv("XENDOMD_DEFAULT_CONFIG", "/tmp/b.conf", 1);
	assert_string_equal(xd_boot_default_path("/etc/a.conf"), "/tmp/b.conf");
	unsetenv("XENDOMD_DEFAULT_CONFIG");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(per_domain_errors_never_stop_the_daemon, setup),
		cmocka_unit_test_setup(explicit_missing_file_is_an_error, setup),
		cmocka_unit_test_setup(default_missing_file_runs_on_defaults_and_says_so_once, setup),
		cmocka_unit_test_setup(unreadable_main_file_stops_the_daemon, setup),
		cmocka_unit_test_setup(default_path_can_be_redirected_from_the_environment, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
