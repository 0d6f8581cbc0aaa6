/* SPDX-License-Identifier: ISC */
/*
 * Domains that appear while the daemon runs (engine/adopt.c): a
 * configured guest created by hand or migrated here from another host is
 * adopted when the host shuts down (and shut down with it) and when it is
 * started on demand (and not created a second time; a start takes only
 * the names it asked for); domains of other names stay alone unless
 * stop_unmanaged says otherwise.
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
#define KB (256 * 1024)

/* "here" boots; "guest" is configured with autostart = no. */
static struct h *booted(bool stop_unmanaged)
{
	struct h *h = h_new();
	h_dom(h, "here");
	h_dom(h, "guest");
	h_start(h);
	h_cfg(h, "guest")->autostart = false;
	h_cfg(h, "guest")->on_crash = XD_ACT_RESTART;
	h->cfg->global.stop_unmanaged = stop_unmanaged;
	h_boot(h, MIN);
	assert_int_equal(h_state(h, "guest"), XD_INACTIVE);
	return h;
}

static void arrived_guest_is_shut_down_with_the_host(void **state)
{
	(void)state;
	struct h *h = booted(false);
	int domid = hv_sim_arrive(h->hv, "guest", KB);
	assert_true(domid > 0);
	h_run_for(h, 1000);
	halt_and_wait(h, MIN);
	assert_int_equal(hv_sim_counts(h->hv, "guest").shutdowns, 1);
	assert_int_equal(hv_sim_counts(h->hv, "guest").creates, 0);
	assert_int_equal(h_hv_count(h, "guest"), 0);
	assert_int_equal(h_state(h, "guest"), XD_INACTIVE);
	h_free(h);
}

static void on_demand_start_adopts_an_arrived_guest(void **state)
{
	(void)state;
	struct h *h = booted(false);
	int domid = hv_sim_arrive(h->hv, "guest", KB);
	assert_true(domid > 0);
	size_t idx = h_index(h, "guest");
	xd_engine_start(h->e, &idx, 1, XD_CAUSE_ON_DEMAND);
	h_run_for(h, 2000);
	assert_int_equal(h_state(h, "guest"), XD_RUNNING);
	assert_int_equal(h_domid(h, "guest"), domid);
	assert_int_equal(hv_sim_counts(h->hv, "guest").creates, 0);
	assert_int_equal(h_hv_count(h, "guest"), 1);
	/* and it is ours now: a crash is handled (on_crash restart) */
	assert_int_equal(hv_sim_guest_shutdown(h->hv, (uint32_t)domid, HV_SD_CRASH), 0);
	h_run_for(h, 10000);
	assert_int_equal(h_state(h, "guest"), XD_RUNNING);
	assert_int_equal(hv_sim_counts(h->hv, "guest").creates, 1);
	h_free(h);
}

/* A start takes only the names it asked for: another configured guest
 * that arrived stays as it is until the halt (or its own start). */
static void start_adopts_only_the_names_it_asked_for(void **state)
{
	(void)state;
	struct h *h = booted(false);
	assert_true(hv_sim_arrive(h->hv, "guest", KB) > 0);
	size_t idx = h_index(h, "here");
	xd_engine_stop(h->e, &idx, 1, NULL, NULL);
	h_run_for(h, 2000);
	xd_engine_start(h->e, &idx, 1, XD_CAUSE_ON_DEMAND);
	h_run_for(h, 2000);
	assert_int_equal(h_state(h, "here"), XD_RUNNING);
	assert_int_equal(h_state(h, "guest"), XD_INACTIVE);
	assert_int_equal(h_hv_count(h, "guest"), 1);
	h_free(h);
}

static void stranger_is_left_alone_without_stop_unmanaged(void **state)
{
	(void)state;
	struct h *h = booted(false);
	assert_true(hv_sim_arrive(h->hv, "stranger", KB) > 0);
	size_t idx = h_index(h, "guest");
	xd_engine_start(h->e, &idx, 1, XD_CAUSE_ON_DEMAND);
	h_run_for(h, 2000);
	assert_int_equal(hv_sim_counts(h->hv, "guest").creates, 1);
	halt_and_wait(h, MIN);
	assert_int_equal(h_hv_count(h, "stranger"), 1);
	assert_int_equal(hv_sim_counts(h->hv, "stranger").shutdowns, 0);
	h_free(h);
}

static void stranger_is_stopped_with_stop_unmanaged(void **state)
{
	(void)state;
	struct h *h = booted(true);
	assert_true(hv_sim_arrive(h->hv, "stranger", KB) > 0);
	assert_true(hv_sim_arrive(h->hv, "guest", KB) > 0);
	halt_and_wait(h, MIN);
	assert_int_equal(h_hv_count(h, "stranger"), 0);
	assert_int_equal(h_hv_count(h, "guest"), 0);
	assert_int_equal(hv_sim_counts(h->hv, "guest").shutdowns, 1);
	h_free(h);
}

/* A start of ours in flight is not mistaken for an arrival: the domain
 * it is building has the name already. */
static void own_create_in_flight_is_not_adopted(void **state)
{
	(void)state;
	struct h *h = h_new();
	h_dom(h, "slow");
	h_dom(h, "other");
	h_sim(h, "[domain slow]\ncreate_ms = 5000\n");
	h_start(h);
	h_cfg(h, "other")->autostart = false;
	xd_engine_adopt(h->e);
	xd_engine_boot(h->e);
	h_run_for(h, 1000);
	assert_int_equal(h_state(h, "slow"), XD_STARTING);
	size_t idx = h_index(h, "other");
	xd_engine_start(h->e, &idx, 1, XD_CAUSE_ON_DEMAND);
	halt_and_wait(h, MIN);
	assert_int_equal(hv_sim_counts(h->hv, "slow").creates, 1);
	assert_int_equal(h_hv_count(h, "slow"), 0);
	h_free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(arrived_guest_is_shut_down_with_the_host),
		cmocka_unit_test(on_demand_start_adopts_an_arrived_guest),
		cmocka_unit_test(start_adopts_only_the_names_it_asked_for),
		cmocka_unit_test(stranger_is_left_alone_without_stop_unmanaged),
		cmocka_unit_test(stranger_is_stopped_with_stop_unmanaged),
		cmocka_unit_test(own_create_in_flight_is_not_adopted),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
