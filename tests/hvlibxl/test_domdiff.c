/* SPDX-License-Identifier: ISC */
/* Re-list-and-diff of watched domains (libxl_domdiff.h). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "hv/libxl/libxl_domdiff.h"

struct got {
	enum hv_ev_kind kind;
	uint32_t domid;
	enum hv_reason reason;
};
static struct got got[32];
static int n_got;

static void record(void *arg, enum hv_ev_kind kind, uint32_t domid, enum hv_reason reason)
{
	(void)arg;
	got[n_got++] = (struct got){ kind, domid, reason };
}

static struct xlb_domstate dom(uint32_t domid, uint8_t uuid_byte)
{
	struct xlb_domstate s = { .domid = domid, .reason = HV_SD_UNKNOWN };
	memset(s.uuid, uuid_byte, 16);
	return s;
}

static int setup(void **state)
{
	(void)state;
	n_got = 0;
	return 0;
}

static void test_shutdown_reported_once(void **state)
{
	(void)state;
	struct xlb_domdiff d = { 0 };
	assert_int_equal(xlb_domdiff_watch(&d, 5), 0);
	struct xlb_domstate cur[2] = { dom(5, 0xaa), dom(6, 0xbb) };
	xlb_domdiff_update(&d, cur, 2, record, NULL);
	assert_int_equal(n_got, 0);
	cur[0].shutdown = true;
	cur[0].reason = HV_SD_REBOOT;
	cur[1].shutdown = true;           /* not watched: silent */
	xlb_domdiff_update(&d, cur, 2, record, NULL);
	xlb_domdiff_update(&d, cur, 2, record, NULL);   /* spurious firing */
	assert_int_equal(n_got, 1);
	assert_int_equal(got[0].kind, HV_EV_SHUTDOWN);
	assert_int_equal(got[0].domid, 5);
	assert_int_equal(got[0].reason, HV_SD_REBOOT);
	xlb_domdiff_free(&d);
}

static void test_resumed_domain_reported_again(void **state)
{
	(void)state;
	struct xlb_domdiff d = { 0 };
	xlb_domdiff_watch(&d, 5);
	struct xlb_domstate s = dom(5, 1);
	s.shutdown = true;
	s.reason = HV_SD_SUSPEND;
	xlb_domdiff_check(&d, 5, &s, record, NULL);
	s.shutdown = false;               /* a failed save resumed it */
	xlb_domdiff_check(&d, 5, &s, record, NULL);
	s.shutdown = true;
	s.reason = HV_SD_POWEROFF;
	xlb_domdiff_check(&d, 5, &s, record, NULL);
	assert_int_equal(n_got, 2);
	assert_int_equal(got[0].reason, HV_SD_SUSPEND);
	assert_int_equal(got[1].reason, HV_SD_POWEROFF);
	xlb_domdiff_free(&d);
}

static void test_death_by_absence_dying_or_new_uuid(void **state)
{
	(void)state;
	struct xlb_domdiff d = { 0 };
	xlb_domdiff_watch(&d, 1);
	xlb_domdiff_watch(&d, 2);
	xlb_domdiff_watch(&d, 3);
	struct xlb_domstate cur[3] = { dom(1, 1), dom(2, 2), dom(3, 3) };
	xlb_domdiff_update(&d, cur, 3, record, NULL);
	assert_int_equal(n_got, 0);
	/* 1 is gone, 2 is dying, 3's domid now belongs to another domain */
	struct xlb_domstate later[2] = { dom(2, 2), dom(3, 9) };
	later[0].dying = true;
	xlb_domdiff_update(&d, later, 2, record, NULL);
	assert_int_equal(n_got, 3);
	for (int i = 0; i < 3; i++)
		assert_int_equal(got[i].kind, HV_EV_DEATH);
	assert_false(xlb_domdiff_watching(&d, 1));
	assert_false(xlb_domdiff_watching(&d, 2));
	assert_false(xlb_domdiff_watching(&d, 3));
	/* reported once: the entries are gone */
	xlb_domdiff_update(&d, later, 0, record, NULL);
	assert_int_equal(n_got, 3);
	xlb_domdiff_free(&d);
}

static void test_state_reached_before_watch(void **state)
{
	(void)state;
	struct xlb_domdiff d = { 0 };
	xlb_domdiff_watch(&d, 4);
	xlb_domdiff_check(&d, 4, NULL, record, NULL);      /* already gone */
	assert_int_equal(n_got, 1);
	assert_int_equal(got[0].kind, HV_EV_DEATH);
	xlb_domdiff_watch(&d, 7);
	struct xlb_domstate s = dom(7, 7);
	s.shutdown = true;
	s.reason = HV_SD_CRASH;
	xlb_domdiff_check(&d, 7, &s, record, NULL);         /* already crashed */
	assert_int_equal(n_got, 2);
	assert_int_equal(got[1].kind, HV_EV_SHUTDOWN);
	assert_int_equal(got[1].reason, HV_SD_CRASH);
	xlb_domdiff_free(&d);
}

static void test_unwatch_and_rewatch(void **state)
{
	(void)state;
	struct xlb_domdiff d = { 0 };
	for (uint32_t i = 1; i <= 40; i++)                  /* grows past one chunk */
		assert_int_equal(xlb_domdiff_watch(&d, i), 0);
	assert_int_equal(xlb_domdiff_watch(&d, 7), 0);       /* idempotent */
	assert_int_equal(d.n, 40);
	xlb_domdiff_unwatch(&d, 7);
	assert_false(xlb_domdiff_watching(&d, 7));
	struct xlb_domstate s = dom(7, 7);
	s.shutdown = true;
	xlb_domdiff_check(&d, 7, &s, record, NULL);
	assert_int_equal(n_got, 0);
	/* Re-watching re-arms SHUTDOWN (the engine does so after a failed save). */
	xlb_domdiff_watch(&d, 7);
	xlb_domdiff_check(&d, 7, &s, record, NULL);
	assert_int_equal(n_got, 1);
	xlb_domdiff_free(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_shutdown_reported_once, setup),
		cmocka_unit_test_setup(test_resumed_domain_reported_again, setup),
		cmocka_unit_test_setup(test_death_by_absence_dying_or_new_uuid, setup),
		cmocka_unit_test_setup(test_state_reached_before_watch, setup),
		cmocka_unit_test_setup(test_unwatch_and_rewatch, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
