/* SPDX-License-Identifier: ISC */
/* util/callstat: call counts, worst and mean times, and the report order. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "util/callstat.h"

static char lines[8][160];
static size_t n_lines;

static void collect(const char *line)
{
	if (n_lines < 8)
		snprintf(lines[n_lines++], sizeof(lines[0]), "%s", line);
}

static void counts_worst_case_and_reports_longest_first(void **state)
{
	(void)state;
	static struct xd_callstats s;
	uint64_t t = xd_callstat_clock_us();
	xd_callstat_add(&s, "fast", t);
	xd_callstat_add(&s, "slow", t - 5000);      /* began 5 ms ago */
	xd_callstat_add(&s, "slow", t - 1000);
	char other[] = "fast";                      /* the same name, another pointer */
	xd_callstat_add(&s, other, t);
	assert_int_equal(s.n, 2);
	assert_int_equal(s.v[1].n, 2);
	assert_true(s.v[1].max_us >= 5000);
	assert_true(s.v[1].total_us >= 6000);
	assert_int_equal(s.v[0].n, 2);
	xd_callstats_report(&s, collect);
	assert_int_equal(n_lines, 2);
	assert_non_null(strstr(lines[0], "call slow: n=2 max_ms=5."));
	assert_non_null(strstr(lines[1], "call fast: n=2"));
}

static void a_full_table_drops_new_names(void **state)
{
	(void)state;
	static struct xd_callstats s;
	static char names[XD_CALLSTAT_MAX + 1][8];
	uint64_t t = xd_callstat_clock_us();
	for (size_t i = 0; i <= XD_CALLSTAT_MAX; i++) {
		snprintf(names[i], sizeof(names[i]), "c%zu", i);
		xd_callstat_add(&s, names[i], t);
	}
	assert_int_equal(s.n, XD_CALLSTAT_MAX);
	xd_callstat_add(&s, "c0", t);
	assert_int_equal(s.v[0].n, 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(counts_worst_case_and_reports_longest_first),
		cmocka_unit_test(a_full_table_drops_new_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
