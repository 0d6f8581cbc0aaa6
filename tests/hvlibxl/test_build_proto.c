/* SPDX-License-Identifier: ISC */
/* The build helper's line protocol (hv/libxl/build_proto.h): what the
 * daemon reads from xendomd-build's stdout and stderr. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "hv/libxl/build_proto.h"

static void test_ok(void **state)
{
	(void)state;
	struct xlb_build_result r;
	assert_true(xlb_build_parse("ok 7\n", &r));
	assert_true(r.ok);
	assert_int_equal(r.domid, 7);
}

static void test_fail_with_message(void **state)
{
	(void)state;
	struct xlb_build_result r;
	assert_true(xlb_build_parse("fail -3 12 Domain 12:bootloader failed\n", &r));
	assert_false(r.ok);
	assert_int_equal(r.libxl_rc, -3);
	assert_int_equal(r.domid, 12);
	assert_string_equal(r.msg, "Domain 12:bootloader failed");
	assert_true(xlb_build_parse("fail -3 -1 no domain\n", &r));
	assert_int_equal(r.domid, -1);
}

/* A helper that died before its result said nothing usable. */
static void test_no_result(void **state)
{
	(void)state;
	struct xlb_build_result r;
	assert_false(xlb_build_parse("", &r));
	assert_false(xlb_build_parse("ok\n", &r));
	assert_false(xlb_build_parse("ok 3x\n", &r));
	assert_false(xlb_build_parse("ok -1\n", &r));
	assert_false(xlb_build_parse("fail -3\n", &r));
	assert_false(xlb_build_parse("okay 3\n", &r));
}

/* A migration helper's stdout: "go", then one result. */
static void test_migrate_results(void **state)
{
	(void)state;
	struct xlb_migrate_result r;
	xlb_migrate_parse("go\nok 9\n", &r);
	assert_int_equal(r.outcome, XLB_MIG_OK);
	assert_true(r.go);
	xlb_migrate_parse("fail -3 9 the receiver ended before its banner\n", &r);
	assert_int_equal(r.outcome, XLB_MIG_FAIL);
	assert_false(r.go);
	assert_int_equal(r.libxl_rc, -3);
	assert_string_equal(r.msg, "the receiver ended before its banner");
	xlb_migrate_parse("go\ndoubt 9 the receiver's report was cut off\n", &r);
	assert_int_equal(r.outcome, XLB_MIG_DOUBT);
	assert_true(r.go);
	assert_string_equal(r.msg, "the receiver's report was cut off");
	/* died: after the go, or before it */
	xlb_migrate_parse("go\n", &r);
	assert_int_equal(r.outcome, XLB_MIG_NONE);
	assert_true(r.go);
	xlb_migrate_parse("", &r);
	assert_int_equal(r.outcome, XLB_MIG_NONE);
	assert_false(r.go);
	xlb_migrate_parse("gone\ndoubt x\nok\n", &r);
	assert_int_equal(r.outcome, XLB_MIG_NONE);
	assert_false(r.go);
}

static void test_last_result_wins(void **state)
{
	(void)state;
	struct xlb_build_result r;
	assert_true(xlb_build_parse("noise\nfail -3 -1 x\nok 4\n", &r));
	assert_true(r.ok);
	assert_int_equal(r.domid, 4);
}

static void test_long_message_cut(void **state)
{
	(void)state;
	char line[1024] = "fail -3 1 ";
	size_t n = strlen(line);
	memset(line + n, 'x', sizeof(line) - n - 2);
	line[sizeof(line) - 2] = '\n';
	line[sizeof(line) - 1] = '\0';
	struct xlb_build_result r;
	assert_true(xlb_build_parse(line, &r));
	assert_int_equal(strlen(r.msg), XLB_BUILD_MSG_MAX - 1);
}

static void test_levels(void **state)
{
	(void)state;
	const char *m;
	assert_int_equal(xlb_build_line_level("E bad", &m), 'E');
	assert_string_equal(m, "bad");
	assert_int_equal(xlb_build_line_level("W careful", &m), 'W');
	assert_int_equal(xlb_build_line_level("unprefixed", &m), 'I');
	assert_string_equal(m, "unprefixed");
	assert_int_equal(xlb_build_line_level("Eno space", &m), 'I');
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ok),
		cmocka_unit_test(test_fail_with_message),
		cmocka_unit_test(test_no_result),
		cmocka_unit_test(test_last_result_wins),
		cmocka_unit_test(test_migrate_results),
		cmocka_unit_test(test_long_message_cut),
		cmocka_unit_test(test_levels),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
