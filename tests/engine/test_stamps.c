/* SPDX-License-Identifier: ISC */
/*
 * State stamps and the timeline read the clock when the state changes,
 * not the time of the loop's last wake-up: on real Xen a call on the loop
 * can take long, and the log (which reads the clock) and `xendomctl
 * timeline` must agree.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "harness.h"

#define MIN 60000

static uint64_t fake_now;
static uint64_t fake_clock(void) { return fake_now; }

static void stamps_read_the_clock_not_the_last_wake_up(void **state)
{
	(void)state;
	struct h *h = h_new();
	h_dom(h, "late");
	h_start(h);
	h_cfg(h, "late")->autostart = false;
	h_boot(h, MIN);
	/* the loop woke up at T, then a call on it took 1.2 s */
	uint64_t woke = xd_timers_now(&h->timers);
	fake_now = woke + 1200;
	xd_timers_set_clock(&h->timers, fake_clock);
	size_t idx = h_index(h, "late");
	xd_engine_start(h->e, &idx, 1, XD_CAUSE_ON_DEMAND);
	struct xd_dom_status st;
	xd_engine_status(h->e, idx, &st);
	assert_int_equal(st.state, XD_STARTING);
	assert_int_equal(st.since_ms, woke + 1200);
	struct xd_timeline tl;
	xd_engine_timeline(h->e, idx, &tl);
	assert_int_equal(tl.queued, woke + 1200);
	assert_int_equal(tl.started, woke + 1200);
	h_free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(stamps_read_the_clock_not_the_last_wake_up),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
