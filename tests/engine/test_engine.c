/* SPDX-License-Identifier: ISC */
/* Engine behaviour on the simulated hypervisor, on a virtual clock. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"
#include "h_assert.h"
#include "hv/sim/hv_sim.h"

#define MIN 60000

static bool file_exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0;
}

/* ---------------------------------------------------------------- start */

static void requires_and_after_order_the_start(void **state)
{
	(void)state;
	struct h *h = h_new();
	h_dom(h, "c");
	h_dom(h, "b");
	h_dom(h, "a");
	h_requires(h, "b", "a");
	h_after(h, "c", "b");
	h_sim(h, "[domain a]\ncreate_ms = 300\n[domain b]\ncreate_ms = 200\n[domain c]\ncreate_ms = 100\n");
	h_start(h);
	h_boot(h, 10 * MIN);
	assert_int_equal(h_state(h, "a"), XD_RUNNING);
	assert_int_equal(h_state(h, "b"), XD_RUNNING);
	assert_int_equal(h_state(h, "c"), XD_RUNNING);
	assert_true(h_first(h, "a", XD_RUNNING) <= h_first(h, "b", XD_STARTING));
	assert_true(h_first(h, "b", XD_RUNNING) <= h_first(h, "c", XD_STARTING));
	h_free(h);
}

static void independent_domains_start_in_parallel_up_to_the_limit(void **state)
{
	(void)state;
	struct h *h = h_new();
	char name[8];
	for (int i = 0; i < 10; i++) {
		snprintf(name, sizeof(name), "d%d", i);
		h_dom(h, name);
	}
	h->cfg->global.max_parallel_starts = 3;
	h_sim(h, "[domain d0]\ncreate_ms = 100\n");
	h_start(h);
	h_boot(h, 10 * MIN);
	assert_int_equal(h->max_starting, 3);
	for (int i = 0; i < 10; i++) {
		snprintf(name, sizeof(name), "d%d", i);
		assert_int_equal(h_state(h, name), XD_RUNNING);
	}
	struct xd_tally t;
	xd_engine_tally(h->e, &t);
	assert_int_equal(t.state[XD_RUNNING], 10);
	assert_int_equal(t.managed, 10);
	assert_int_equal(t.alive, 10);
	/* ties go to config order */
	assert_true(h_first(h, "d0", XD_STARTING) <= h_first(h, "d3", XD_STARTING));
	assert_true(h_first(h, "d3", XD_STARTING) <= h_first(h, "d9", XD_STARTING));
	h_free(h);
}

static void config_order_decides_with_one_slot(void **state)
{
	(void)state;
	struct h *h = h_new();
	h_dom(h, "z");
	h_dom(h, "m");
	h_dom(h, "a");
	h->cfg->global.max_parallel_starts = 1;
	h_start(h);
	h_boot(h, 10 * MIN);
	assert_true(h_first(h, "z", XD_RUNNING) <= h_first(h, "m", XD_STARTING));
	assert_true(h_first(h, "m", XD_RUNNING) <= h_first(h, "a", XD_STARTING));
	assert_int_equal(h->max_starting, 1);
	h_free(h);
}

static void failed_create_is_retried_with_doubling_backoff(void **state)
{
	(void)state;
	struct h *h = h_new();
	h_dom(h, "db");
	h_sim(h, "[domain db]\ncreate_ms = 100\nfail_creates = 2\n");
	h_start(h);
	h_cfg(h, "db")->retry_delay_ms = 1000;
	h_boot(h, 10 * MIN);
	assert_int_equal(h_state(h, "db"), XD_RUNNING);
	assert_int_equal(h_count(h, "db", XD_STARTING), 3);
	struct xd_dom_status st;
	xd_engine_status(h->e, h_index(h, "db"), &st);
	assert_int_equal(st.attempts, 3);
	/* 100 create, fail, 1 s, 100 create, fail, 2 s, 100 create */
	uint64_t started = h_last(h, "db", XD_STARTING);
	assert_int_equal(started, 100 + 1000 + 100 + 2000);
	h_free(h);
}

static void exhausted_retries_fail_requires_but_not_after_dependents(void **state)
{
	(void)state;
	struct h *h = h_new();
	h_dom(h, "storage");
	h_dom(h, "db");
	h_dom(h, "web");
	h_dom(h, "monitor");
	h_requires(h, "db", "storage");
	h_requires(h, "web", "db");
	h_after(h, "monitor", "storage");
	h_sim(h, "[domain storage]\ncreate_ms = 50\nfail_creates = 10\n");
	h_start(h);
	h_cfg(h, "storage")->start_retries = 1;
	h_cfg(h, "storage")->retry_delay_ms = 100;
	h_boot(h, 10 * MIN);
	assert_int_equal(h_state(h, "storage"), XD_FAILED);
	assert_int_equal(h_count(h, "storage", XD_STARTING), 2);
	assert_int_equal(h_state(h, "db"), XD_FAILED);
	assert_reason_has(h, "db", "dependency storage failed");
	assert_int_equal(h_state(h, "web"), XD_FAILED);
	assert_reason_has(h, "web", "dependency db failed");
	assert_int_equal(h_count(h, "db", XD_STARTING), 0);
	assert_int_equal(h_count(h, "web", XD_STARTING), 0);
	assert_int_equal(h_hv_count(h, "db"), 0);
	assert_int_equal(h_state(h, "monitor"), XD_RUNNING);
	assert_true(h_first(h, "monitor", XD_STARTING) >= h_first(h, "storage", XD_FAILED));
	assert_true(h_is_settled(h));
	h_free(h);
}

static void start_delay_waits_after_requirements(void **state)
{
	(void)state;
	struct h *h = h_new();
	h_dom(h, "a");
	h_dom(h, "b");
	h_requires(h, "b", "a");
	h_sim(h, "[domain a]\ncreate_ms = 100\n[domain b]\ncreate_ms = 100\n");
	h_start(h);
	h_cfg(h, "b")->start_delay_ms = 5000;
	h_boot(h, 10 * MIN);
	assert_int_equal(h_first(h, "b", XD_STARTING) - h_first(h, "a", XD_RUNNING), 5000);
	h_free(h);
}

/* ---------------------------------------------------------------- readiness */

static void xenstore_readiness_holds_dependents(void **state)
{
	(void)state;
	struct h *h = h_new();
	h_dom(h, "a");
	h_dom(h, "b");
	h_requires(h, "b", "a");
	h_sim(h, "[domain a]\ncreate_ms = 100\nready_ms = 3000\n");
	h_start(h);
	struct xd_domain_cfg *a = h_cfg(h, "a");
	a->ready.kind = XD_READY_XENSTORE;
	a->ready.path = strdup("data/ready");
	a->ready.value = strdup("1");
	a->ready.has_value = true;
	h_boot(h, 10 * MIN);
	assert_int_equal(h_state(h, "a"), XD_RUNNING);
	uint64_t booting = h_first(h, "a", XD_BOOTING), ready = h_first(h, "a", XD_RUNNING);
	assert_true(ready - booting >= 3000 && ready - booting < 3200);
	assert_true(h_first(h, "b", XD_STARTING) >= ready);
	h_free(h);
}

static void pv_drivers_and_delay_readiness(void **state)
{
	(void)state;
	struct h *h = h_new();
	h_dom(h, "pv");
	h_dom(h, "slow");
	h_sim(h, "[domain pv]\ncreate_ms = 100\nready_ms = 700\n[domain slow]\ncreate_ms = 100\n");
	h_start(h);
	h_cfg(h, "pv")->ready.kind = XD_READY_PV_DRIVERS;
	h_cfg(h, "slow")->ready.kind = XD_READY_DELAY;
	h_cfg(h, "slow")->ready.delay_ms = 4000;
	h_boot(h, 10 * MIN);
	uint64_t t = h_first(h, "pv", XD_RUNNING) - h_first(h, "pv", XD_BOOTING);
	assert_true(t >= 700 && t < 900);
	assert_int_equal(h_first(h, "slow", XD_RUNNING) - h_first(h, "slow", XD_BOOTING), 4000);
	h_free(h);
}

static void readiness_timeout_fails_domain_but_leaves_it_running(void **state)
{
	(void)state;
	struct h *h = h_new();
	h_dom(h, "a");
	h_dom(h, "needs");
	h_dom(h, "later");
	h_requires(h, "needs", "a");
	h_after(h, "later", "a");
	h_sim(h, "[domain a]\ncreate_ms = 100\nready_ms = 100000\n");
	h_start(h);
	struct xd_domain_cfg *a = h_cfg(h, "a");
	a->ready.kind = XD_READY_XENSTORE;
	a->ready.path = strdup("data/ready");
	a->ready_timeout_ms = 10000;
	h_boot(h, 10 * MIN);
	assert_int_equal(h_state(h, "a"), XD_FAILED);
	assert_reason_has(h, "a", "not ready after 10 s");
	assert_true(h_domid(h, "a") > 0);
	assert_int_equal(h_hv_count(h, "a"), 1);
	assert_int_equal(h_state(h, "needs"), XD_FAILED);
	assert_int_equal(h_state(h, "later"), XD_RUNNING);
	h_free(h);
}

/* ---------------------------------------------------------------- memory */

static void memory_admission_waits_then_fails_with_figures(void **state)
{
	(void)state;
	struct h *h = h_new();
	h_dom(h, "big1");
	h_dom(h, "big2");
	h_dom(h, "small");
	h_sim(h, "[sim]\nfree_memory_mb = 1000\n");
	h_start(h);
	h_cfg(h, "big1")->memory_mb = 600;
	h_cfg(h, "big2")->memory_mb = 600;
	h_cfg(h, "small")->memory_mb = 100;
	h->cfg->global.start_timeout_ms = 20000;
	h_boot(h, 10 * MIN);
	assert_int_equal(h_state(h, "big1"), XD_RUNNING);
	assert_int_equal(h_state(h, "small"), XD_RUNNING);
	assert_int_equal(h_state(h, "big2"), XD_FAILED);
	assert_reason_has(h, "big2", "need 600 MiB, free 300 MiB");
	assert_int_equal(h_count(h, "big2", XD_STARTING), 0);
	assert_int_equal(h_first(h, "big2", XD_FAILED), 20000);
	h_free(h);
}

static void memory_freed_by_a_stop_admits_the_waiter(void **state)
{
	(void)state;
	struct h *h = h_new();
	h_dom(h, "old");
	h_dom(h, "new");
	h_sim(h, "[sim]\nfree_memory_mb = 1000\n");
	h_start(h);
	h_cfg(h, "old")->memory_mb = 600;
	h_cfg(h, "new")->memory_mb = 600;
	h_cfg(h, "new")->autostart = false;
	h_boot(h, MIN);
	size_t idx = 1;
	xd_engine_start(h->e, &idx, 1, XD_CAUSE_ON_DEMAND);
	h_run_for(h, 2000);
	assert_int_equal(h_state(h, "new"), XD_WAITING);
	assert_reason_has(h, "new", "memory");
	idx = 0;
	xd_engine_stop(h->e, &idx, 1, NULL, NULL);
	h_run_for(h, 10000);
	assert_int_equal(h_state(h, "old"), XD_INACTIVE);
	assert_int_equal(h_state(h, "new"), XD_RUNNING);
	h_free(h);
}

/* ---------------------------------------------------------------- lifecycle */

static void crash_restarts_until_restart_limit(void **state)
{
	(void)state;
	struct h *h = h_new();
	h_dom(h, "flaky");
	h_sim(h, "[domain flaky]\ncreate_ms = 100\ncrash_after_ms = 1000\n");
	h_start(h);
	h_cfg(h, "flaky")->on_crash = XD_ACT_RESTART;
	h_cfg(h, "flaky")->restart_limit = 3;
	h_cfg(h, "flaky")->restart_window_ms = 600000;
	h_boot(h, MIN);
	h_run_for(h, 5 * MIN);
	assert_int_equal(h_state(h, "flaky"), XD_FAILED);
	assert_reason_has(h, "flaky", "restart limit");
	assert_int_equal(h_count(h, "flaky", XD_RESTARTING), 3);
	assert_int_equal(h_count(h, "flaky", XD_STARTING), 4);
	assert_int_equal(h_hv_count(h, "flaky"), 0);
	h_free(h);
}

static void reboot_recreates_with_same_name_and_new_domid(void **state)
{
	(void)state;
	struct h *h = h_new();
	h_dom(h, "r");
	h_sim(h, "[domain r]\ncreate_ms = 100\nreboot_after_ms = 30000\n");
	h_start(h);
	h_boot(h, MIN);
	long first = h_domid(h, "r");
	h_run_for(h, 31000);
	assert_int_equal(h_count(h, "r", XD_RESTARTING), 1);
	assert_int_equal(h_state(h, "r"), XD_RUNNING);
	assert_true(h_domid(h, "r") > first);
	assert_int_equal(h_hv_count(h, "r"), 1);
	h_free(h);
}

static void crash_with_destroy_policy_marks_failed(void **state)
{
	(void)state;
	struct h *h = h_new();
	h_dom(h, "c");
	h_sim(h, "[domain c]\ncreate_ms = 100\ncrash_after_ms = 500\n");
	h_start(h);
	h_boot(h, MIN);
	h_run_for(h, 2000);
	assert_int_equal(h_state(h, "c"), XD_FAILED);
	assert_reason_has(h, "c", "crash");
	assert_int_equal(h_hv_count(h, "c"), 0);
	h_free(h);
}

static void preserve_keeps_the_crashed_domain(void **state)
{
	(void)state;
	struct h *h = h_new();
	h_dom(h, "p");
	h_sim(h, "[domain p]\ncreate_ms = 100\ncrash_after_ms = 500\n");
	h_start(h);
	h_cfg(h, "p")->on_crash = XD_ACT_PRESERVE;
	h_boot(h, MIN);
	h_run_for(h, 2000);
	assert_int_equal(h_state(h, "p"), XD_FAILED);
	assert_reason_has(h, "p", "preserved");
	assert_int_equal(h_hv_count(h, "p"), 1);
	/* the husk is still stopped at host shutdown */
	halt_and_wait(h, MIN);
	assert_int_equal(h_hv_count(h, "p"), 0);
	h_free(h);
}

static void guest_poweroff_is_inactive_not_restarted(void **state)
{
	(void)state;
	struct h *h = h_new();
	h_dom(h, "g");
	h_start(h);
	h_boot(h, MIN);
	assert_int_equal(hv_sim_guest_shutdown(h->hv, (uint32_t)h_domid(h, "g"), HV_SD_POWEROFF), 0);
	h_run_for(h, 5000);
	assert_int_equal(h_state(h, "g"), XD_INACTIVE);
	assert_int_equal(h_count(h, "g", XD_STARTING), 1);
	h_free(h);
}

/* ---------------------------------------------------------------- stop */

static void host_shutdown_goes_in_reverse_dependency_order(void **state)
{
	(void)state;
	struct h *h = h_new();
	h_dom(h, "net");
	h_dom(h, "db");
	h_dom(h, "web");
	h_dom(h, "other");
	h_requires(h, "db", "net");
	h_after(h, "web", "db");
	h_sim(h, "[domain net]\nshutdown_ms = 500\n[domain db]\nshutdown_ms = 700\n"
		 "[domain web]\nshutdown_ms = 300\n[domain other]\nshutdown_ms = 2000\n");
	h_start(h);
	h_boot(h, MIN);
	halt_and_wait(h, 10 * MIN);
	assert_true(h_first(h, "web", XD_INACTIVE) <= h_first(h, "db", XD_STOPPING));
	assert_true(h_first(h, "db", XD_INACTIVE) <= h_first(h, "net", XD_STOPPING));
	/* independent domains stop in parallel */
	assert_int_equal(h_first(h, "other", XD_STOPPING), h_first(h, "web", XD_STOPPING));
	struct xd_tally t;
	xd_engine_tally(h->e, &t);
	assert_int_equal(t.alive, 0);
	assert_int_equal(t.state[XD_INACTIVE], 4);
	for (const char **n = (const char *[]){ "net", "db", "web", "other", NULL }; *n; n++) {
		assert_int_equal(h_state(h, *n), XD_INACTIVE);
		assert_int_equal(h_hv_count(h, *n), 0);
	}
	h_free(h);
}

static void max_parallel_stops_is_respected(void **state)
{
	(void)state;
	struct h *h = h_new();
	char name[8];
	for (int i = 0; i < 6; i++) {
		snprintf(name, sizeof(name), "s%d", i);
		h_dom(h, name);
	}
	h->cfg->global.max_parallel_stops = 2;
	h_start(h);
	h_boot(h, MIN);
	halt_and_wait(h, 10 * MIN);
	assert_int_equal(h->max_stopping, 2);
	h_free(h);
}

static void hvm_without_pv_drivers_gets_the_power_button(void **state)
{
	(void)state;
	struct h *h = h_new();
	h_dom(h, "win");
	h_sim(h, "[domain win]\npv_drivers = no\nshutdown_ms = 1500\n");
	h_start(h);
	h_cfg(h, "win")->hvm = true;
	h_boot(h, MIN);
	halt_and_wait(h, MIN);
	bool saw_button = false;
	for (size_t i = 0; i < h->n_recs; i++)
		saw_button |= strstr(h->recs[i].reason, "power button") != NULL;
	assert_true(saw_button);
	assert_int_equal(h_state(h, "win"), XD_INACTIVE);
	assert_reason_has(h, "win", "stopped");
	h_free(h);
}

static void shutdown_timeout_falls_back_to_destroy(void **state)
{
	(void)state;
	struct h *h = h_new();
	h_dom(h, "stuck");
	h_dom(h, "fine");
	h_sim(h, "[domain stuck]\nshutdown_ms = -1\n");
	h_start(h);
	h_cfg(h, "stuck")->shutdown_timeout_ms = 7000;
	h_boot(h, MIN);
	uint64_t t0 = xd_timers_now(&h->timers);
	halt_and_wait(h, MIN);
	assert_int_equal(h_state(h, "stuck"), XD_INACTIVE);
	assert_reason_has(h, "stuck", "did not stop within 7 s");
	assert_true(h_first(h, "stuck", XD_INACTIVE) - t0 >= 7000);
	assert_reason_has(h, "fine", "stopped");
	assert_int_equal(h_hv_count(h, "stuck"), 0);
	h_free(h);
}

static void shutdown_fallback_leave_leaves_it_running(void **state)
{
	(void)state;
	struct h *h = h_new();
	h_dom(h, "stuck");
	h_sim(h, "[domain stuck]\nshutdown_ms = -1\n");
	h_start(h);
	h->cfg->global.shutdown_fallback = XD_FALLBACK_LEAVE;
	h_cfg(h, "stuck")->shutdown_timeout_ms = 3000;
	h_boot(h, MIN);
	halt_and_wait(h, MIN);
	assert_int_equal(h_hv_count(h, "stuck"), 1);
	assert_reason_has(h, "stuck", "left running");
	h_free(h);
}

static void on_demand_stop_stops_requiring_domains_first(void **state)
{
	(void)state;
	struct h *h = h_new();
	h_dom(h, "storage");
	h_dom(h, "db");
	h_dom(h, "app");
	h_dom(h, "unrelated");
	h_requires(h, "db", "storage");
	h_requires(h, "app", "db");
	h_start(h);
	h_boot(h, MIN);
	size_t idx = 0, *cascade = NULL, n = 0;
	xd_engine_stop(h->e, &idx, 1, &cascade, &n);
	assert_int_equal(n, 2);
	free(cascade);
	h_run_for(h, MIN);
	assert_int_equal(h_state(h, "storage"), XD_INACTIVE);
	assert_int_equal(h_state(h, "db"), XD_INACTIVE);
	assert_int_equal(h_state(h, "app"), XD_INACTIVE);
	assert_int_equal(h_state(h, "unrelated"), XD_RUNNING);
	assert_true(h_first(h, "app", XD_INACTIVE) <= h_first(h, "db", XD_STOPPING));
	assert_true(h_first(h, "db", XD_INACTIVE) <= h_first(h, "storage", XD_STOPPING));
	/* and an on-demand start brings back what is required */
	size_t app = 2;
	xd_engine_start(h->e, &app, 1, XD_CAUSE_ON_DEMAND);
	h_run_for(h, MIN);
	assert_int_equal(h_state(h, "storage"), XD_RUNNING);
	assert_int_equal(h_state(h, "db"), XD_RUNNING);
	assert_int_equal(h_state(h, "app"), XD_RUNNING);
	h_free(h);
}

/* ---------------------------------------------------------------- save/restore */

static void save_at_halt_then_restore_at_next_boot(void **state)
{
	(void)state;
	struct h *h = h_new();
	h_dom(h, "db");
	h_dom(h, "web");
	h_requires(h, "web", "db");
	h_start(h);
	h_cfg(h, "db")->on_host_shutdown = XD_HOST_SAVE;
	h_cfg(h, "web")->on_host_shutdown = XD_HOST_SAVE;
	h_boot(h, MIN);
	halt_and_wait(h, MIN);
	assert_int_equal(h_state(h, "db"), XD_SAVED);
	assert_int_equal(h_state(h, "web"), XD_SAVED);
	assert_true(h_first(h, "web", XD_SAVED) <= h_first(h, "db", XD_SAVING));
	char file[128];
	snprintf(file, sizeof(file), "%s/db", h->dir);
	assert_true(file_exists(file));

	/* next boot: same save_dir, a fresh hypervisor */
	struct h *h2 = h_new();
	free(h2->cfg->global.save_dir);
	h2->cfg->global.save_dir = strdup(h->dir);
	h_dom(h2, "db");
	h_dom(h2, "web");
	h_requires(h2, "web", "db");
	h_start(h2);
	h_boot(h2, MIN);
	assert_int_equal(h_state(h2, "db"), XD_RUNNING);
	assert_int_equal(h_state(h2, "web"), XD_RUNNING);
	assert_int_equal(h_count(h2, "db", XD_RESTORING), 1);
	assert_int_equal(h_count(h2, "db", XD_STARTING), 0);
	assert_true(h_first(h2, "db", XD_RUNNING) <= h_first(h2, "web", XD_RESTORING));
	assert_false(file_exists(file));
	h_free(h2);
	h_free(h);
}

static void failed_save_at_halt_falls_back_to_shutdown(void **state)
{
	(void)state;
	struct h *h = h_new();
	h_dom(h, "s");
	h_sim(h, "[domain s]\nfail_saves = 1\n");
	h_start(h);
	h_cfg(h, "s")->on_host_shutdown = XD_HOST_SAVE;
	h_boot(h, MIN);
	halt_and_wait(h, MIN);
	assert_int_equal(h_state(h, "s"), XD_INACTIVE);
	assert_int_equal(h_count(h, "s", XD_SAVING), 1);
	assert_int_equal(h_count(h, "s", XD_STOPPING), 1);
	h_free(h);
}

static void save_that_never_ends_is_cut_at_save_timeout(void **state)
{
	(void)state;
	struct h *h = h_new();
	h_dom(h, "s");
	h_dom(h, "t");
	h_sim(h, "[domain s]\nsave_ms = -1\n[domain t]\nsave_ms = -1\nshutdown_ms = -1\n");
	h_start(h);
	h_cfg(h, "s")->on_host_shutdown = XD_HOST_SAVE;
	h_cfg(h, "s")->save_timeout_ms = 30000;
	h_cfg(h, "t")->on_host_shutdown = XD_HOST_SAVE;
	h_cfg(h, "t")->save_timeout_ms = 20000;
	h_cfg(h, "t")->shutdown_timeout_ms = 10000;
	h_boot(h, MIN);
	uint64_t t0 = h->timers.now;
	halt_and_wait(h, 10 * MIN);
	/* s: cut at 30 s, resumed and shut down cleanly */
	assert_int_equal(h_state(h, "s"), XD_INACTIVE);
	assert_true(h_first(h, "s", XD_STOPPING) - t0 >= 30000);
	assert_true(h_first(h, "s", XD_STOPPING) - t0 < 31000);
	assert_int_equal(hv_sim_counts(h->hv, "s").shutdowns, 1);
	assert_int_equal(hv_sim_counts(h->hv, "s").destroys, 1);
	/* t ignores the shutdown too: destroyed at save_timeout + shutdown_timeout */
	assert_int_equal(h_state(h, "t"), XD_INACTIVE);
	assert_int_equal(h_hv_count(h, "t"), 0);
	uint64_t t_down = h_last(h, "t", XD_INACTIVE) - t0;
	assert_true(t_down >= 30000 && t_down < 31000);
	assert_true(h->timers.now - t0 < 31000);
	char file[128];
	snprintf(file, sizeof(file), "%s/s", h->dir);
	assert_false(file_exists(file));
	assert_true(xd_engine_idle(h->e));
	h_free(h);
}

static void failed_on_demand_save_keeps_the_guest_running(void **state)
{
	(void)state;
	struct h *h = h_new();
	h_dom(h, "s");
	h_sim(h, "[domain s]\nfail_saves = 1\n");
	h_start(h);
	h_boot(h, MIN);
	size_t idx = 0;
	xd_engine_save(h->e, &idx, 1);
	h_run_for(h, MIN);
	assert_int_equal(h_state(h, "s"), XD_RUNNING);
	assert_reason_has(h, "s", "save failed");
	assert_int_equal(h_hv_count(h, "s"), 1);
	h_free(h);
}

static void bad_image_keeps_the_file_and_fails(void **state)
{
	(void)state;
	struct h *h = h_new();
	h_dom(h, "x");
	char file[128];
	snprintf(file, sizeof(file), "%s/x", h->dir);
	FILE *f = fopen(file, "w");
	fputs("Xen saved domain, but cut off", f);
	fclose(f);
	h_start(h);
	h_boot(h, MIN);
	assert_int_equal(h_state(h, "x"), XD_FAILED);
	assert_reason_has(h, "x", "file kept");
	assert_true(file_exists(file));
	assert_int_equal(h_count(h, "x", XD_STARTING), 0);
	h_free(h);
}

static void bad_image_with_boot_policy_sets_it_aside_and_boots(void **state)
{
	(void)state;
	struct h *h = h_new();
	h_dom(h, "x");
	char file[128], aside[160];
	snprintf(file, sizeof(file), "%s/x", h->dir);
	snprintf(aside, sizeof(aside), "%s.unrestorable", file);
	FILE *f = fopen(file, "w");
	fputs("garbage", f);
	fclose(f);
	h->cfg->global.on_restore_failure = XD_RESTORE_BOOT;
	h_start(h);
	h_boot(h, MIN);
	assert_int_equal(h_state(h, "x"), XD_RUNNING);
	assert_false(file_exists(file));
	assert_true(file_exists(aside));
	h_free(h);
}

/* An image of domain name in a fresh temp dir (saved at a halt). */
static struct h *halt_with_saved(const char *name)
{
	struct h *h = h_new();
	h_dom(h, name);
	h_start(h);
	h_cfg(h, name)->on_host_shutdown = XD_HOST_SAVE;
	h_boot(h, MIN);
	halt_and_wait(h, MIN);
	return h;
}

static struct h *boot_with_images(const char *save_dir, const char *const *files, size_t n,
				  bool restore_unmanaged, const char *scenario)
{
	struct h *h2 = h_new();
	free(h2->cfg->global.save_dir);
	h2->cfg->global.save_dir = strdup(save_dir);
	h2->cfg->global.restore_unmanaged = restore_unmanaged;
	h_dom(h2, "conf");
	if (scenario)
		h_sim(h2, "%s", scenario);
	h_start(h2);
	xd_engine_add_images(h2->e, files, n);
	h_boot(h2, 10 * MIN);
	return h2;
}

static void unconfigured_images_are_restored_after_the_configured(void **state)
{
	(void)state;
	struct h *h = halt_with_saved("ghost");
	char file[128], bad[128];
	snprintf(file, sizeof(file), "%s/ghost", h->dir);
	snprintf(bad, sizeof(bad), "%s/junk", h->dir);
	FILE *f = fopen(bad, "w");
	fputs("not an image", f);
	fclose(f);
	const char *files[] = { bad, file };
	struct h *h2 = boot_with_images(h->dir, files, 2, true, NULL);
	assert_true(h_is_settled(h2));
	assert_int_equal(h_state(h2, "conf"), XD_RUNNING);
	assert_int_equal(h_state(h2, "ghost"), XD_RUNNING);
	assert_reason_has(h2, "ghost", "not managed by xendomd (restored from");
	assert_int_equal(hv_sim_counts(h2->hv, "ghost").restores, 1);
	assert_int_equal(h_hv_count(h2, "ghost"), 1);
	assert_true(h_first(h2, "conf", XD_RUNNING) <= h_first(h2, "ghost", XD_RESTORING));
	assert_false(file_exists(file));
	assert_true(file_exists(bad));        /* not an image: kept */
	struct xd_tally t;
	xd_engine_tally(h2->e, &t);
	assert_int_equal(t.managed, 1);
	assert_int_equal(t.alive, 2);
	/* an unmanaged domain at halt: stopped (stop_unmanaged) */
	xd_engine_shutdown_host(h2->e);
	assert_true(h_run_until(h2, h_is_down, MIN));
	assert_int_equal(h_hv_count(h2, "ghost"), 0);
	h_free(h2);
	h_free(h);
}

static void restore_unmanaged_no_leaves_images_alone(void **state)
{
	(void)state;
	struct h *h = halt_with_saved("ghost");
	char file[128];
	snprintf(file, sizeof(file), "%s/ghost", h->dir);
	const char *files[] = { file };
	struct h *h2 = boot_with_images(h->dir, files, 1, false, NULL);
	assert_int_equal(h_state(h2, "conf"), XD_RUNNING);
	assert_int_equal(hv_sim_counts(h2->hv, "ghost").restores, 0);
	assert_int_equal(h_hv_count(h2, "ghost"), 0);
	assert_int_equal(h_count(h2, "ghost", XD_RESTORING), 0);
	assert_true(file_exists(file));
	h_free(h2);
	h_free(h);
}

static void unmanaged_image_that_fails_to_restore_is_kept(void **state)
{
	(void)state;
	struct h *h = halt_with_saved("ghost");
	char file[128];
	snprintf(file, sizeof(file), "%s/ghost", h->dir);
	const char *files[] = { file };
	struct h *h2 = boot_with_images(h->dir, files, 1, true, "[domain ghost]\nfail_restores = 1\n");
	assert_true(h_is_settled(h2));
	assert_int_equal(h_state(h2, "ghost"), XD_FAILED);
	assert_reason_has(h2, "ghost", "(file kept)");
	assert_int_equal(h_hv_count(h2, "ghost"), 0);
	assert_true(file_exists(file));
	h_free(h2);
	h_free(h);
}

/* ---------------------------------------------------------------- adoption */

static void running_domains_are_adopted_not_created(void **state)
{
	(void)state;
	struct h *h = h_new();
	h_dom(h, "old");
	h_dom(h, "fresh");
	h_requires(h, "fresh", "old");
	h_sim(h, "[domain old]\nrunning = yes\n[domain stranger]\nrunning = yes\n");
	h_start(h);
	h_boot(h, MIN);
	assert_int_equal(h_state(h, "old"), XD_RUNNING);
	assert_int_equal(h_count(h, "old", XD_STARTING), 0);
	assert_int_equal(h_hv_count(h, "old"), 1);
	assert_int_equal(h_state(h, "fresh"), XD_RUNNING);
	/* the unmanaged domain is known, and stopped at halt (stop_unmanaged) */
	assert_int_equal(h_state(h, "stranger"), XD_RUNNING);
	halt_and_wait(h, MIN);
	assert_int_equal(h_hv_count(h, "stranger"), 0);
	h_free(h);
}

/* ---------------------------------------------------------------- reload */

static void reload_starts_added_and_releases_removed(void **state)
{
	(void)state;
	struct h *h = h_new();
	h_dom(h, "keep");
	h_dom(h, "drop");
	h_start(h);
	h_boot(h, MIN);

	/* the new config is independent of the old one, which is freed right
	 * after the reload: the engine must not keep pointers into it */
	struct xd_config *c2 = calloc(1, sizeof(*c2));
	struct xd_global *g = &c2->global, *og = &h->cfg->global;
	*g = *og;
	g->xen_config_dir = strdup(og->xen_config_dir);
	g->auto_dir = strdup(og->auto_dir);
	g->include_dir = strdup(og->include_dir);
	g->state_dir = strdup(og->state_dir);
	g->save_dir = strdup(og->save_dir);
	g->socket = strdup(og->socket);
	g->socket_group = strdup(og->socket_group);
	c2->domains = calloc(2, sizeof(*c2->domains));
	c2->domains[0] = h->cfg->domains[0];
	c2->domains[1] = h->cfg->domains[0];
	strcpy(c2->domains[1].name, "added");
	c2->n_domains = 2;
	xd_engine_reload(h->e, c2);
	xd_config_free(h->cfg);
	h->cfg = c2;
	h_run_for(h, MIN);
	assert_int_equal(h_state(h, "added"), XD_RUNNING);
	assert_int_equal(h_state(h, "drop"), XD_RUNNING);
	assert_reason_has(h, "drop", "not managed");
	assert_int_equal(h_hv_count(h, "drop"), 1);
	assert_int_equal(h_count(h, "keep", XD_STARTING), 1);
	struct xd_tally t;
	xd_engine_tally(h->e, &t);
	assert_int_equal(t.managed, 2);
	assert_int_equal(t.state[XD_RUNNING], 2);
	assert_int_equal(t.alive, 3);
	h_free(h);
}

/* strcmp() as the engine and util call it, counted (meson.build links
 * this test with --wrap=strcmp): the cost of finding domains by name. */
static unsigned long strcmp_calls;
int __real_strcmp(const char *a, const char *b);
int __wrap_strcmp(const char *a, const char *b);
int __wrap_strcmp(const char *a, const char *b)
{
	strcmp_calls++;
	return __real_strcmp(a, b);
}

/* A reload of n domains (none autostarted) onto the same n plus one:
 * the name comparisons it makes. */
static unsigned long reload_cost(size_t n)
{
	struct h *h = h_new();
	for (size_t i = 0; i < n; i++) {
		char name[16];
		snprintf(name, sizeof(name), "d%06zu", i);
		size_t d = h_dom(h, name);     /* it may move domains[] */
		h->cfg->domains[d].autostart = false;
	}
	h_start(h);
	h_boot(h, MIN);
	struct xd_config *c2 = calloc(1, sizeof(*c2));
	struct xd_global *g = &c2->global, *og = &h->cfg->global;
	*g = *og;
	g->xen_config_dir = strdup(og->xen_config_dir);
	g->auto_dir = strdup(og->auto_dir);
	g->include_dir = strdup(og->include_dir);
	g->state_dir = strdup(og->state_dir);
	g->save_dir = strdup(og->save_dir);
	g->socket = strdup(og->socket);
	g->socket_group = strdup(og->socket_group);
	c2->domains = calloc(n + 1, sizeof(*c2->domains));
	memcpy(c2->domains, h->cfg->domains, n * sizeof(*c2->domains));  /* no pointers */
	c2->domains[n] = c2->domains[0];
	strcpy(c2->domains[n].name, "added");
	c2->n_domains = n + 1;
	xd_config_index(c2);             /* as the loader leaves it */
	strcmp_calls = 0;
	xd_engine_reload(h->e, c2);
	unsigned long cost = strcmp_calls;
	xd_config_free(h->cfg);
	h->cfg = c2;
	h_free(h);
	return cost;
}

/* Reload finds each domain by hash: ten times the domains, about ten
 * times the comparisons (it was a scan per domain: a hundred times). */
static void reload_cost_grows_linearly(void **state)
{
	(void)state;
	unsigned long small = reload_cost(1000), big = reload_cost(10000);
	print_message("reload: %lu name comparisons for 1000 domains, %lu for 10000\n", small,
		      big);
	assert_true(small >= 1000);
	assert_true(big <= 15 * small);
}

/* ---------------------------------------------------------------- degraded boot */

static void configuration_error_fails_only_that_domain(void **state)
{
	(void)state;
	struct h *h = h_new();
	h_dom(h, "good");
	h_dom(h, "broken");
	h_dom(h, "needs");
	h_dom(h, "later");
	h_dom(h, "deep");
	h_requires(h, "needs", "broken");
	h_requires(h, "deep", "needs");
	h_after(h, "later", "broken");
	h_cfg(h, "broken")->config_error = strdup("/etc/xendomd.conf:7: unknown key \"memroy\"");
	h_start(h);
	h_boot(h, MIN);
	assert_true(h_is_settled(h));
	assert_int_equal(h_state(h, "good"), XD_RUNNING);
	assert_int_equal(h_state(h, "later"), XD_RUNNING);
	assert_int_equal(h_state(h, "broken"), XD_FAILED);
	assert_string_equal(h_reason(h, "broken"),
			    "configuration: /etc/xendomd.conf:7: unknown key \"memroy\"");
	assert_int_equal(h_state(h, "needs"), XD_FAILED);
	assert_string_equal(h_reason(h, "needs"), "dependency broken has a configuration error");
	assert_int_equal(h_state(h, "deep"), XD_FAILED);
	assert_reason_has(h, "deep", "dependency needs failed");
	assert_int_equal(hv_sim_counts(h->hv, "broken").creates, 0);
	assert_int_equal(hv_sim_counts(h->hv, "needs").creates, 0);
	assert_int_equal(hv_sim_counts(h->hv, "deep").creates, 0);
	struct xd_tally t;
	xd_engine_tally(h->e, &t);
	assert_int_equal(t.state[XD_FAILED], 3);
	assert_int_equal(t.state[XD_RUNNING], 2);

	/* an on-demand start fails at once, with the same reason */
	size_t idx[2] = { h_index(h, "broken"), h_index(h, "needs") };
	xd_engine_start(h->e, idx, 2, XD_CAUSE_ON_DEMAND);
	h_run_for(h, MIN);
	assert_int_equal(h_state(h, "broken"), XD_FAILED);
	assert_reason_has(h, "broken", "configuration: /etc/xendomd.conf:7:");
	assert_string_equal(h_reason(h, "needs"), "dependency broken has a configuration error");
	assert_int_equal(hv_sim_counts(h->hv, "broken").creates, 0);
	assert_int_equal(hv_sim_counts(h->hv, "needs").creates, 0);

	/* and the halt is not held by it */
	halt_and_wait(h, MIN);
	h_free(h);
}

static void configuration_error_domain_found_running_is_left_alone(void **state)
{
	(void)state;
	struct h *h = h_new();
	h_dom(h, "broken");
	h_cfg(h, "broken")->config_error = strdup("a.cfg:1: no name=");
	h_sim(h, "[domain broken]\nrunning = yes\n");
	h_start(h);
	h_boot(h, MIN);
	assert_int_equal(h_state(h, "broken"), XD_FAILED);
	assert_string_equal(h_reason(h, "broken"), "configuration: a.cfg:1: no name=");
	assert_int_equal(h_hv_count(h, "broken"), 1);
	assert_true(h_domid(h, "broken") > 0);
	assert_int_equal(hv_sim_counts(h->hv, "broken").creates, 0);
	h_free(h);
}

/* ------------------------------------------------- start_order = critical-path */

/* Four independent domains listed first, a chain of four listed last,
 * every create 100 ms, two start slots. */
static struct h *chain_listed_last(enum xd_start_order order)
{
	struct h *h = h_new();
	char name[8], prev[8] = "";
	for (int i = 0; i < 4; i++) {
		snprintf(name, sizeof(name), "i%d", i);
		h_dom(h, name);
		h_sim(h, "[domain %s]\ncreate_ms = 100\n", name);
	}
	for (int i = 0; i < 4; i++) {
		snprintf(name, sizeof(name), "c%d", i);
		h_dom(h, name);
		h_sim(h, "[domain %s]\ncreate_ms = 100\n", name);
		if (prev[0])
			h_requires(h, name, prev);
		snprintf(prev, sizeof(prev), "%s", name);
	}
	h->cfg->global.max_parallel_starts = 2;
	h->cfg->global.start_order = order;
	h_start(h);
	return h;
}

static uint64_t makespan(const struct h *h)
{
	uint64_t end = 0;
	for (size_t i = 0; i < h->cfg->n_domains; i++) {
		uint64_t t = h_first(h, h->cfg->domains[i].name, XD_RUNNING);
		assert_true(t != XD_NEVER);
		end = t > end ? t : end;
	}
	return end;
}

static void critical_path_starts_a_long_chain_listed_last_first(void **state)
{
	(void)state;
	struct h *h = chain_listed_last(XD_ORDER_CONFIG);
	h_boot(h, 10 * MIN);
	uint64_t config_makespan = makespan(h);
	assert_true(h_first(h, "c0", XD_STARTING) >= h_first(h, "i3", XD_STARTING));
	h_free(h);

	h = chain_listed_last(XD_ORDER_CRITICAL_PATH);
	h_boot(h, 10 * MIN);
	assert_true(h_first(h, "c0", XD_STARTING) < h_first(h, "i1", XD_STARTING));
	assert_true(h_first(h, "c1", XD_STARTING) < h_first(h, "i2", XD_STARTING));
	assert_int_equal(h->max_starting, 2);                /* the limit holds */
	uint64_t cp_makespan = makespan(h);
	assert_true(cp_makespan < config_makespan);
	assert_true(cp_makespan + 150 <= config_makespan);   /* ~400 against ~600 ms */
	h_free(h);
}

static void critical_path_weights_put_the_slowest_first(void **state)
{
	(void)state;
	struct h *h = h_new();
	h_dom(h, "quick");
	h_dom(h, "unknown");
	h_dom(h, "slow");
	h->cfg->global.max_parallel_starts = 1;
	h->cfg->global.start_order = XD_ORDER_CRITICAL_PATH;
	h_start(h);
	/* unknown counts as the median of 10 and 900: 10 (the lower middle),
	 * so it ties with quick and config order decides */
	uint64_t w[] = { 10, 0, 900 };
	xd_engine_set_weights(h->e, w);
	h_boot(h, 10 * MIN);
	assert_true(h_first(h, "slow", XD_RUNNING) <= h_first(h, "quick", XD_STARTING));
	assert_true(h_first(h, "quick", XD_RUNNING) <= h_first(h, "unknown", XD_STARTING));
	h_free(h);

	h = h_new();                        /* the same weights with config order */
	h_dom(h, "quick");
	h_dom(h, "unknown");
	h_dom(h, "slow");
	h->cfg->global.max_parallel_starts = 1;
	h_start(h);
	xd_engine_set_weights(h->e, w);
	h_boot(h, 10 * MIN);
	assert_true(h_first(h, "unknown", XD_RUNNING) <= h_first(h, "slow", XD_STARTING));
	h_free(h);
}

/* ---------------------------------------------------------------- hooks */

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(requires_and_after_order_the_start),
		cmocka_unit_test(independent_domains_start_in_parallel_up_to_the_limit),
		cmocka_unit_test(config_order_decides_with_one_slot),
		cmocka_unit_test(critical_path_starts_a_long_chain_listed_last_first),
		cmocka_unit_test(critical_path_weights_put_the_slowest_first),
		cmocka_unit_test(failed_create_is_retried_with_doubling_backoff),
		cmocka_unit_test(exhausted_retries_fail_requires_but_not_after_dependents),
		cmocka_unit_test(start_delay_waits_after_requirements),
		cmocka_unit_test(xenstore_readiness_holds_dependents),
		cmocka_unit_test(pv_drivers_and_delay_readiness),
		cmocka_unit_test(readiness_timeout_fails_domain_but_leaves_it_running),
		cmocka_unit_test(memory_admission_waits_then_fails_with_figures),
		cmocka_unit_test(memory_freed_by_a_stop_admits_the_waiter),
		cmocka_unit_test(crash_restarts_until_restart_limit),
		cmocka_unit_test(reboot_recreates_with_same_name_and_new_domid),
		cmocka_unit_test(crash_with_destroy_policy_marks_failed),
		cmocka_unit_test(preserve_keeps_the_crashed_domain),
		cmocka_unit_test(guest_poweroff_is_inactive_not_restarted),
		cmocka_unit_test(host_shutdown_goes_in_reverse_dependency_order),
		cmocka_unit_test(max_parallel_stops_is_respected),
		cmocka_unit_test(hvm_without_pv_drivers_gets_the_power_button),
		cmocka_unit_test(shutdown_timeout_falls_back_to_destroy),
		cmocka_unit_test(shutdown_fallback_leave_leaves_it_running),
		cmocka_unit_test(on_demand_stop_stops_requiring_domains_first),
		cmocka_unit_test(save_at_halt_then_restore_at_next_boot),
		cmocka_unit_test(failed_save_at_halt_falls_back_to_shutdown),
		cmocka_unit_test(save_that_never_ends_is_cut_at_save_timeout),
		cmocka_unit_test(failed_on_demand_save_keeps_the_guest_running),
		cmocka_unit_test(bad_image_keeps_the_file_and_fails),
		cmocka_unit_test(bad_image_with_boot_policy_sets_it_aside_and_boots),
		cmocka_unit_test(unconfigured_images_are_restored_after_the_configured),
		cmocka_unit_test(restore_unmanaged_no_leaves_images_alone),
		cmocka_unit_test(unmanaged_image_that_fails_to_restore_is_kept),
		cmocka_unit_test(running_domains_are_adopted_not_created),
		cmocka_unit_test(reload_starts_added_and_releases_removed),
		cmocka_unit_test(reload_cost_grows_linearly),
		cmocka_unit_test(configuration_error_fails_only_that_domain),
		cmocka_unit_test(configuration_error_domain_found_running_is_left_alone),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
