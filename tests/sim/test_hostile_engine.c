/* SPDX-License-Identifier: ISC */
/*
 * The engine against hostile guests on the simulated hypervisor (the
 * scenario's xs_write_* keys), on the virtual clock: a guest that rewrites
 * its readiness key a thousand times a second gets at most ten reads a
 * second, and values of any length are bounded by the engine's 256-byte
 * buffer (HV_ETOOBIG, never an overrun: the ASan build checks that).
 * Uses the engine tests' harness as it is.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "hv/sim/hv_sim.h"

static unsigned reads(struct h *h)
{
	return hv_sim_counts(h->hv, "a").key_reads;
}

static unsigned writes(struct h *h)
{
	return hv_sim_counts(h->hv, "a").xs_writes;
}

static bool a_booting(struct h *h)
{
	return h_state(h, "a") == XD_BOOTING;
}

/* Domain a waits for data/ready (= value, if not NULL) for timeout_ms. */
static struct h *hostile(const char *value, uint64_t timeout_ms, const char *scenario)
{
	struct h *h = h_new();
	h_dom(h, "a");
	struct xd_domain_cfg *a = h_cfg(h, "a");
	a->ready.kind = XD_READY_XENSTORE;
	a->ready.path = strdup("data/ready");
	a->ready.has_value = value != NULL;
	a->ready.value = value ? strdup(value) : NULL;
	a->ready_timeout_ms = timeout_ms;
	/* The well-behaved guest agent (data/ready = 1) never comes. */
	h_sim(h, "[domain a]\nready_ms = 3600000\nxs_write_key = data/ready\n%s", scenario);
	h_start(h);
	xd_engine_adopt(h->e);
	xd_engine_boot(h->e);
	assert_true(h_run_until(h, a_booting, 60000));
	return h;
}

static void a_flood_of_writes_gets_ten_reads_a_second(void **state)
{
	(void)state;
	struct h *h = hostile("1", 20000, "xs_write_hz = 1000\nxs_write_value = 0\n");
	for (unsigned s = 0; s < 19; s++) {
		unsigned r0 = reads(h), w0 = writes(h);
		for (unsigned tick = 0; tick < 10; tick++) {
			unsigned before = reads(h);
			h_run_for(h, 100);
			/* reads are at least 100 ms apart: one per 100 ms, at most */
			if (reads(h) - before > 1)
				fail_msg("second %u, tick %u: %u reads in 100 ms", s, tick,
					 reads(h) - before);
		}
		unsigned r = reads(h) - r0, w = writes(h) - w0;
		if (w < 999 || r > 10 || r < 9)     /* and it still looks ten times a second */
			fail_msg("second %u: %u writes, %u reads", s, w, r);
	}
	assert_true(h_run_until(h, h_is_settled, 2000));
	assert_int_equal(h_state(h, "a"), XD_FAILED);
	assert_non_null(strstr(h_reason(h, "a"), "not ready after 20 s"));
	unsigned r = reads(h);
	h_run_for(h, 5000);          /* the guest writes on; nobody reads */
	assert_int_equal(reads(h), r);
	assert_true(r <= 2 + 20 * 10);
	h_free(h);
}

/* The right value among the flood is seen within one read interval. */
static void a_flood_of_the_right_value_is_ready_within_100_ms(void **state)
{
	(void)state;
	struct h *h = hostile("1", 20000, "xs_write_hz = 1000\nxs_write_value = 1\n");
	assert_true(h_run_until(h, h_is_settled, 20000));
	assert_int_equal(h_state(h, "a"), XD_RUNNING);
	uint64_t waited = h_first(h, "a", XD_RUNNING) - h_first(h, "a", XD_BOOTING);
	if (waited > 101)
		fail_msg("ready %llu ms after booting", (unsigned long long)waited);
	assert_true(reads(h) <= 3);
	h_free(h);
}

/* cfg value: the 255 bytes 1, 2, ... 255, what xs_write_len = 255 writes. */
static char *pattern(size_t n)
{
	char *v = calloc(1, n + 1);
	for (size_t i = 0; i < n; i++)
		v[i] = (char)(1 + i % 255);
	return v;
}

static void ready_value_fits_the_256_byte_buffer_exactly(void **state)
{
	(void)state;
	char *v = pattern(255);
	struct h *h = hostile(v, 10000, "xs_write_hz = 10\nxs_write_len = 255\n");
	assert_true(h_run_until(h, h_is_settled, 20000));
	assert_int_equal(h_state(h, "a"), XD_RUNNING);
	h_free(h);
	free(v);
}

/* One byte more, or 4096: the read is HV_ETOOBIG, never the value. */
static void longer_values_never_match(void **state)
{
	(void)state;
	const char *lens[] = { "256", "4096" };
	char *v = pattern(255);
	for (size_t i = 0; i < 2; i++) {
		char scen[128];
		snprintf(scen, sizeof(scen), "xs_write_hz = 100\nxs_write_len = %s\n", lens[i]);
		struct h *h = hostile(v, 10000, scen);
		assert_true(h_run_until(h, h_is_settled, 20000));
		assert_int_equal(h_state(h, "a"), XD_FAILED);
		assert_non_null(strstr(h_reason(h, "a"), "not ready after 10 s"));
		assert_true(writes(h) >= 999 && reads(h) >= 90 && reads(h) <= 102);
		h_free(h);
	}
	free(v);
}

/* Without a value the key only has to exist: too long to read still is. */
static void an_over_long_key_still_exists(void **state)
{
	(void)state;
	struct h *h = hostile(NULL, 10000, "xs_write_hz = 10\nxs_write_len = 4096\n");
	assert_true(h_run_until(h, h_is_settled, 20000));
	assert_int_equal(h_state(h, "a"), XD_RUNNING);
	h_free(h);
}

/* A key that appears after a quiet second is read at once. */
static void a_key_that_appears_is_read_at_once(void **state)
{
	(void)state;
	struct h *h = hostile(NULL, 10000, "xs_flap_ms = 1000\nxs_write_value = up\n");
	assert_true(h_run_until(h, h_is_settled, 20000));
	assert_int_equal(h_state(h, "a"), XD_RUNNING);
	uint64_t waited = h_first(h, "a", XD_RUNNING) - h_first(h, "a", XD_BOOTING);
	if (waited < 999 || waited > 1001)
		fail_msg("ready %llu ms after booting", (unsigned long long)waited);
	assert_int_equal(reads(h), 2);       /* the watch's first event, the appearance */
	h_free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(a_flood_of_writes_gets_ten_reads_a_second),
		cmocka_unit_test(a_flood_of_the_right_value_is_ready_within_100_ms),
		cmocka_unit_test(ready_value_fits_the_256_byte_buffer_exactly),
		cmocka_unit_test(longer_values_never_match),
		cmocka_unit_test(an_over_long_key_still_exists),
		cmocka_unit_test(a_key_that_appears_is_read_at_once),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
