/* SPDX-License-Identifier: ISC */
/*
 * xendomd --halt-fallback's decision (halt_fallback.h) with a fake
 * SystemState source and a fake boot id: runs only when the host halts
 * and no marker of this boot says the daemon completed the sequence.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "daemon/halt_fallback.h"
#include "daemon/log.h"

struct lab {
	char dir[256];
	char boot_id[300];
	char marker[300];
	const char *state;               /* the fake SystemState; NULL: unreadable */
	struct xd_host_probe probe;
	struct xd_fallback_check check;
};

static int read_state(void *arg, char *buf, size_t len)
{
	struct lab *l = arg;
	snprintf(buf, len, "%s", l->state ? l->state : "connection refused");
	return l->state ? 0 : -1;
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static int setup(void **state)
{
	struct lab *l = calloc(1, sizeof(*l));
	snprintf(l->dir, sizeof(l->dir), "/tmp/xd-halt-fallback-XXXXXX");
	assert_non_null(mkdtemp(l->dir));
	snprintf(l->boot_id, sizeof(l->boot_id), "%s/boot_id", l->dir);
	snprintf(l->marker, sizeof(l->marker), "%s/%s", l->dir, XD_HALT_MARKER);
	write_file(l->boot_id, "1111-this-boot\n");
	l->probe = (struct xd_host_probe){ .systemd = true, .read = read_state, .arg = l };
	l->check = (struct xd_fallback_check){
		.probe = &l->probe, .state_dir = l->dir, .boot_id_path = l->boot_id,
	};
	xd_log_open(true, 0, 0);
	*state = l;
	return 0;
}

static int teardown(void **state)
{
	struct lab *l = *state;
	unlink(l->marker);
	unlink(l->boot_id);
	rmdir(l->dir);
	free(l);
	return 0;
}

static bool needed(struct lab *l, const char *want_in_why)
{
	char why[512];
	bool r = xd_halt_fallback_needed(&l->check, why, sizeof(why));
	if (!strstr(why, want_in_why))
		fail_msg("\"%s\" not in \"%s\"", want_in_why, why);
	return r;
}

static void test_host_running_nothing_to_do(void **state)
{
	struct lab *l = *state;
	static const char *const states[] = { "running", "degraded", "starting", "maintenance" };
	for (size_t i = 0; i < sizeof(states) / sizeof(states[0]); i++) {
		l->state = states[i];
		assert_false(needed(l, "nothing to do"));
	}
}

static void test_halting_without_marker_runs(void **state)
{
	struct lab *l = *state;
	l->state = "stopping";
	assert_true(needed(l, "did not complete"));
	l->state = NULL;             /* unknown: assumed halting, as for SIGTERM */
	assert_true(needed(l, "running it now"));
}

static void test_marker_of_this_boot_skips(void **state)
{
	struct lab *l = *state;
	l->state = "stopping";
	assert_int_equal(xd_halt_marker_write(l->dir, l->boot_id), 0);
	assert_false(needed(l, "completed the host-shutdown sequence"));
	/* the next boot: the same marker does not count */
	write_file(l->boot_id, "2222-next-boot\n");
	assert_true(needed(l, "did not complete"));
	xd_halt_marker_clear(l->dir);
	assert_int_equal(access(l->marker, F_OK), -1);
	xd_halt_marker_clear(l->dir);        /* already gone: fine */
}

static void test_sim_assumes_halting(void **state)
{
	struct lab *l = *state;
	l->state = "running";
	l->check.assume_halting = true;
	assert_true(needed(l, "simulated"));
}

static void test_bound_counts_every_domain(void **state)
{
	(void)state;
	struct xd_domain_cfg doms[3] = { 0 };
	doms[0].shutdown_timeout_ms = 120000;
	doms[1].shutdown_timeout_ms = 10000;
	doms[2].shutdown_timeout_ms = 500;
	struct xd_config cfg = { .domains = doms, .n_domains = 3 };
	unsigned b = xd_halt_fallback_bound_s(&cfg);
	assert_true(b >= 130);
	assert_true(b < 130 + 3 * 60 + 60);
	cfg.n_domains = 0;
	assert_true(xd_halt_fallback_bound_s(&cfg) > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_host_running_nothing_to_do, setup, teardown),
		cmocka_unit_test_setup_teardown(test_halting_without_marker_runs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_marker_of_this_boot_skips, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sim_assumes_halting, setup, teardown),
		cmocka_unit_test(test_bound_counts_every_domain),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
