/* SPDX-License-Identifier: ISC */
/*
 * Live migration (engine/migrate.c) on the simulated hypervisor, on a
 * virtual clock: at halt (on_host_shutdown = migrate) and on demand
 * (xd_engine_migrate); success, failure before the go, migrate_timeout,
 * contact lost after the go, the parallel limit, dependents.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "harness.h"
#include "h_assert.h"
#include "hv/sim/hv_sim.h"

#define MIN 60000

/* A domain that migrates to host at halt. */
static void migrating(struct h *h, const char *name, const char *host)
{
	struct xd_domain_cfg *c = h_cfg(h, name);
	c->on_host_shutdown = XD_HOST_MIGRATE;
	free(c->migrate_to);
	c->migrate_to = host ? strdup(host) : NULL;
}

static struct h *booted(const char *scenario)
{
	struct h *h = h_new();
	h_dom(h, "m");
	if (scenario)
		h_sim(h, "%s", scenario);
	h_start(h);
	migrating(h, "m", "b.example");
	h_boot(h, MIN);
	assert_int_equal(h_state(h, "m"), XD_RUNNING);
	return h;
}

static void migration_at_halt_leaves_the_host(void **state)
{
	(void)state;
	struct h *h = booted("[domain m]\nmigrate_ms = 1500\n");
	uint64_t t0 = h->timers.now;
	halt_and_wait(h, MIN);
	assert_int_equal(h_state(h, "m"), XD_INACTIVE);
	assert_string_equal(h_reason(h, "m"), "migrated to b.example");
	assert_int_equal(h_domid(h, "m"), -1);
	assert_int_equal(h_count(h, "m", XD_MIGRATING), 1);
	assert_true(h_first(h, "m", XD_INACTIVE) - t0 >= 1500);
	/* the copy left here (renamed away) is destroyed; no shutdown asked */
	assert_int_equal(h_hv_count(h, "m"), 0);
	assert_int_equal(h_hv_count(h, "m--migratedaway"), 0);
	struct hv_sim_counts c = hv_sim_counts(h->hv, "m");
	assert_int_equal(c.migrates, 1);
	assert_int_equal(c.shutdowns, 0);
	assert_int_equal(c.destroys, 1);
	const char *host, *cmd;
	bool live;
	assert_true(hv_sim_last_migration(h->hv, "m", &host, &cmd, &live));
	assert_string_equal(host, "b.example");
	assert_string_equal(cmd, "ssh");
	assert_true(live);
	h_free(h);
}

static void the_domains_command_and_liveness_are_used(void **state)
{
	(void)state;
	struct h *h = h_new();
	h_dom(h, "m");
	h_start(h);
	migrating(h, "m", "root@[fd00::2]");
	h_cfg(h, "m")->migrate_command = strdup("ssh -p 2222");
	h_cfg(h, "m")->migrate_live = false;
	h_boot(h, MIN);
	halt_and_wait(h, MIN);
	const char *host, *cmd;
	bool live;
	assert_true(hv_sim_last_migration(h->hv, "m", &host, &cmd, &live));
	assert_string_equal(host, "root@[fd00::2]");
	assert_string_equal(cmd, "ssh -p 2222");
	assert_false(live);
	h_free(h);
}

static void failed_migration_at_halt_resumes_then_shuts_down(void **state)
{
	(void)state;
	struct h *h = booted("[domain m]\nfail_migrates = 1\n");
	halt_and_wait(h, MIN);
	/* resumed by the backend, then powered off by a clean shutdown (the
	 * sim refuses a shutdown request to a suspended guest) */
	assert_int_equal(h_state(h, "m"), XD_INACTIVE);
	assert_string_equal(h_reason(h, "m"), "stopped (poweroff)");
	assert_int_equal(h_count(h, "m", XD_MIGRATING), 1);
	assert_int_equal(h_count(h, "m", XD_STOPPING), 1);
	struct hv_sim_counts c = hv_sim_counts(h->hv, "m");
	assert_int_equal(c.shutdowns, 1);
	assert_int_equal(h_hv_count(h, "m"), 0);
	bool said = false;
	for (size_t i = 0; i < h->n_recs; i++)
		said |= h->recs[i].state == XD_STOPPING &&
			strstr(h->recs[i].reason, "migration to b.example failed (simulated") != NULL;
	assert_true(said);
	h_free(h);
}

static void migration_that_never_ends_is_cut_at_migrate_timeout(void **state)
{
	(void)state;
	struct h *h = booted("[domain m]\nmigrate_ms = -1\n");
	h_cfg(h, "m")->migrate_timeout_ms = 30000;
	uint64_t t0 = h->timers.now;
	halt_and_wait(h, 10 * MIN);
	assert_int_equal(h_state(h, "m"), XD_INACTIVE);
	assert_string_equal(h_reason(h, "m"), "stopped (poweroff)");
	uint64_t cut = h_first(h, "m", XD_STOPPING) - t0;
	assert_true(cut >= 30000 && cut < 31000);
	assert_int_equal(hv_sim_counts(h->hv, "m").shutdowns, 1);
	assert_true(xd_engine_idle(h->e));
	h_free(h);
}

/* A cut migration whose guest then ignores the shutdown: the halt is
 * still bounded by migrate_timeout + shutdown_timeout. */
static void cut_migration_is_bounded_by_shutdown_timeout(void **state)
{
	(void)state;
	struct h *h = booted("[domain m]\nmigrate_ms = -1\nshutdown_ms = -1\n");
	h_cfg(h, "m")->migrate_timeout_ms = 20000;
	h_cfg(h, "m")->shutdown_timeout_ms = 10000;
	uint64_t t0 = h->timers.now;
	halt_and_wait(h, 10 * MIN);
	assert_int_equal(h_state(h, "m"), XD_INACTIVE);
	assert_int_equal(h_hv_count(h, "m"), 0);
	uint64_t down = h_last(h, "m", XD_INACTIVE) - t0;
	assert_true(down >= 30000 && down < 31000);
	h_free(h);
}

static void contact_lost_after_the_go_leaves_it_suspended(void **state)
{
	(void)state;
	struct h *h = booted("[domain m]\nfail_migrates_after_go = 1\n");
	halt_and_wait(h, MIN);
	assert_int_equal(h_state(h, "m"), XD_FAILED);
	assert_reason_has(h, "m", "in doubt");
	assert_reason_has(h, "m", "m--migratedaway");
	/* left alone: still there, suspended, renamed; never resumed,
	 * shut down or destroyed */
	struct hv_dominfo info;
	assert_int_equal(hv_sim_find(h->hv, "m--migratedaway", &info), 0);
	assert_true(info.shutdown);
	assert_int_equal(info.reason, HV_SD_SUSPEND);
	assert_int_equal(h_domid(h, "m"), (long)info.domid);
	struct hv_sim_counts c = hv_sim_counts(h->hv, "m");
	assert_int_equal(c.shutdowns, 0);
	assert_int_equal(c.destroys, 0);
	/* a start would run a second copy: refused; a stop touches nothing */
	size_t idx = 0;
	xd_engine_start(h->e, &idx, 1, XD_CAUSE_ON_DEMAND);
	xd_engine_stop(h->e, &idx, 1, NULL, NULL);
	assert_non_null(xd_engine_migrate(h->e, 0, "c.example"));
	h_run_for(h, MIN);
	assert_int_equal(h_state(h, "m"), XD_FAILED);
	c = hv_sim_counts(h->hv, "m");
	assert_int_equal(c.creates, 1);
	assert_int_equal(c.shutdowns + c.destroys + c.migrates - 1, 0);
	/* the admin destroys the copy here: the name is free again */
	assert_int_equal(h->hv->ops->destroy(h->hv, info.domid, 0), 0);
	h_run_for(h, MIN);
	assert_int_equal(h_state(h, "m"), XD_INACTIVE);
	assert_int_equal(h_domid(h, "m"), -1);
	h_free(h);
}

static void migrations_at_halt_run_up_to_max_parallel_stops(void **state)
{
	(void)state;
	struct h *h = h_new();
	const char *names[] = { "m1", "m2", "m3", "m4", "m5" };
	for (size_t i = 0; i < 5; i++) {
		h_dom(h, names[i]);
		h_sim(h, "[domain %s]\nmigrate_ms = 1000\n", names[i]);
	}
	h->cfg->global.max_parallel_stops = 2;
	h_start(h);
	for (size_t i = 0; i < 5; i++)
		migrating(h, names[i], "b.example");
	h_boot(h, MIN);
	uint64_t t0 = h->timers.now;
	halt_and_wait(h, MIN);
	assert_int_equal(h->max_stopping, 2);
	for (size_t i = 0; i < 5; i++) {
		assert_int_equal(h_state(h, names[i]), XD_INACTIVE);
		assert_string_equal(h_reason(h, names[i]), "migrated to b.example");
	}
	/* three rounds of one second */
	assert_true(h->timers.now - t0 >= 3000 && h->timers.now - t0 < 3500);
	h_free(h);
}

static void dependents_stop_before_their_requirement_migrates(void **state)
{
	(void)state;
	struct h *h = h_new();
	h_dom(h, "m");
	h_dom(h, "app");
	h_requires(h, "app", "m");
	h_start(h);
	migrating(h, "m", "b.example");
	h_boot(h, MIN);
	halt_and_wait(h, MIN);
	assert_string_equal(h_reason(h, "m"), "migrated to b.example");
	assert_int_equal(h_state(h, "app"), XD_INACTIVE);
	assert_true(h_first(h, "app", XD_INACTIVE) <= h_first(h, "m", XD_MIGRATING));
	h_free(h);
}

static void migrate_without_a_host_at_halt_shuts_down(void **state)
{
	(void)state;
	struct h *h = h_new();
	h_dom(h, "m");
	h_start(h);
	migrating(h, "m", NULL);
	h_boot(h, MIN);
	halt_and_wait(h, MIN);
	assert_int_equal(h_state(h, "m"), XD_INACTIVE);
	assert_int_equal(hv_sim_counts(h->hv, "m").migrates, 0);
	assert_int_equal(hv_sim_counts(h->hv, "m").shutdowns, 1);
	h_free(h);
}

/* ---------------------------------------------------------------- on demand */

static void on_demand_migration_succeeds(void **state)
{
	(void)state;
	struct h *h = h_new();
	h_dom(h, "m");
	h_dom(h, "app");
	h_requires(h, "app", "m");
	h_start(h);
	h_boot(h, MIN);
	assert_null(xd_engine_migrate(h->e, 0, "c.example"));
	assert_int_equal(h_state(h, "m"), XD_MIGRATING);
	assert_reason_has(h, "m", "migrating to c.example");
	h_run_for(h, MIN);
	assert_int_equal(h_state(h, "m"), XD_INACTIVE);
	assert_string_equal(h_reason(h, "m"), "migrated to c.example");
	/* it runs on, elsewhere: what requires it is not stopped */
	assert_int_equal(h_state(h, "app"), XD_RUNNING);
	/* not running any more: nothing to migrate */
	assert_string_equal(xd_engine_migrate(h->e, 0, "c.example"), "not running");
	h_free(h);
}

static void failed_on_demand_migration_keeps_the_guest_running(void **state)
{
	(void)state;
	struct h *h = h_new();
	h_dom(h, "m");
	h_sim(h, "[domain m]\nfail_migrates = 1\n");
	h_start(h);
	h_boot(h, MIN);
	long domid = h_domid(h, "m");
	assert_null(xd_engine_migrate(h->e, 0, "c.example"));
	h_run_for(h, MIN);
	assert_int_equal(h_state(h, "m"), XD_RUNNING);
	assert_reason_has(h, "m", "migration to c.example failed: simulated migration failure");
	assert_int_equal(h_domid(h, "m"), domid);
	struct hv_dominfo info;
	assert_int_equal(hv_sim_find(h->hv, "m", &info), 0);
	assert_false(info.shutdown);
	/* resumed and watched afresh: a later guest poweroff is still seen */
	assert_true(hv_sim_watched(h->hv, info.domid));
	assert_int_equal(hv_sim_guest_shutdown(h->hv, info.domid, HV_SD_POWEROFF), 0);
	h_run_for(h, MIN);
	assert_int_equal(h_state(h, "m"), XD_INACTIVE);
	h_free(h);
}

static void on_demand_migration_is_cut_at_migrate_timeout(void **state)
{
	(void)state;
	struct h *h = booted("[domain m]\nmigrate_ms = -1\n");
	h_cfg(h, "m")->migrate_timeout_ms = 45000;
	assert_null(xd_engine_migrate(h->e, 0, "c.example"));
	h_run_for(h, 10 * MIN);
	assert_int_equal(h_state(h, "m"), XD_RUNNING);
	assert_reason_has(h, "m", "cancelled after 45 s (migrate_timeout)");
	assert_int_equal(hv_sim_counts(h->hv, "m").shutdowns, 0);
	assert_true(xd_engine_idle(h->e));
	h_free(h);
}

static void bad_hosts_are_refused(void **state)
{
	(void)state;
	struct h *h = booted(NULL);
	assert_non_null(xd_engine_migrate(h->e, 0, ""));
	assert_non_null(xd_engine_migrate(h->e, 0, "-oProxyCommand=x"));
	assert_non_null(xd_engine_migrate(h->e, 0, "a b"));
	assert_non_null(xd_engine_migrate(h->e, 0, "a;reboot"));
	assert_non_null(xd_engine_migrate(h->e, 0, "$(x)"));
	assert_int_equal(hv_sim_counts(h->hv, "m").migrates, 0);
	assert_int_equal(h_state(h, "m"), XD_RUNNING);
	h_free(h);
}

/* On demand, in doubt: a stop of it touches neither it nor what requires it. */
static void on_demand_in_doubt_stops_nothing(void **state)
{
	(void)state;
	struct h *h = h_new();
	h_dom(h, "m");
	h_dom(h, "app");
	h_requires(h, "app", "m");
	h_sim(h, "[domain m]\nfail_migrates_after_go = 1\n");
	h_start(h);
	h_boot(h, MIN);
	assert_null(xd_engine_migrate(h->e, 0, "c.example"));
	h_run_for(h, MIN);
	assert_int_equal(h_state(h, "m"), XD_FAILED);
	assert_reason_has(h, "m", "in doubt");
	size_t idx = 0, *cascade = NULL, n_cascade = 9;
	xd_engine_stop(h->e, &idx, 1, &cascade, &n_cascade);
	h_run_for(h, MIN);
	assert_int_equal(n_cascade, 0);
	free(cascade);
	assert_int_equal(h_state(h, "app"), XD_RUNNING);
	assert_int_equal(h_state(h, "m"), XD_FAILED);
	assert_int_equal(hv_sim_counts(h->hv, "m").shutdowns, 0);
	h_free(h);
}

/* An on-demand migration under way when the halt begins: if it fails,
 * the halt still needs the guest down. */
static void halt_during_on_demand_migration_falls_back(void **state)
{
	(void)state;
	struct h *h = h_new();
	h_dom(h, "m");
	h_sim(h, "[domain m]\nfail_migrates = 1\nmigrate_ms = 2000\n");
	h_start(h);
	h_boot(h, MIN);
	assert_null(xd_engine_migrate(h->e, 0, "c.example"));
	h_run_for(h, 500);
	halt_and_wait(h, MIN);
	assert_int_equal(h_state(h, "m"), XD_INACTIVE);
	assert_int_equal(hv_sim_counts(h->hv, "m").migrates, 1);
	assert_int_equal(hv_sim_counts(h->hv, "m").shutdowns, 1);
	h_free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(migration_at_halt_leaves_the_host),
		cmocka_unit_test(the_domains_command_and_liveness_are_used),
		cmocka_unit_test(failed_migration_at_halt_resumes_then_shuts_down),
		cmocka_unit_test(migration_that_never_ends_is_cut_at_migrate_timeout),
		cmocka_unit_test(cut_migration_is_bounded_by_shutdown_timeout),
		cmocka_unit_test(contact_lost_after_the_go_leaves_it_suspended),
		cmocka_unit_test(migrations_at_halt_run_up_to_max_parallel_stops),
		cmocka_unit_test(dependents_stop_before_their_requirement_migrates),
		cmocka_unit_test(migrate_without_a_host_at_halt_shuts_down),
		cmocka_unit_test(on_demand_migration_succeeds),
		cmocka_unit_test(failed_on_demand_migration_keeps_the_guest_running),
		cmocka_unit_test(on_demand_migration_is_cut_at_migrate_timeout),
		cmocka_unit_test(bad_hosts_are_refused),
		cmocka_unit_test(halt_during_on_demand_migration_falls_back),
		cmocka_unit_test(on_demand_in_doubt_stops_nothing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
