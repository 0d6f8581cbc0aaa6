/* SPDX-License-Identifier: ISC */
/* Pure helpers of the libxl backend (libxl_util.h). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "hv/libxl/libxl_util.h"

static void test_errlog_domid(void **state)
{
	(void)state;
	assert_int_equal(xlb_errlog_domid("libxl_create.c:1196:initiate_domain_create: "
					 "Domain 12:cannot make domain: -3"), 12);
	assert_int_equal(xlb_errlog_domid("Domain 0:x"), 0);
	assert_int_equal(xlb_errlog_domid("no domain here"), -1);
	assert_int_equal(xlb_errlog_domid("Domain foo:1 then Domain 3:y"), 3);
	assert_int_equal(xlb_errlog_domid("Domain 7 without colon"), -1);
	assert_int_equal(xlb_errlog_domid("Domain 99999:reserved ids are not guests"), -1);
}

static void test_errlog_pick(void **state)
{
	(void)state;
	static struct xlb_errlog l;
	char out[HV_MSG_MAX];
	xlb_errlog_add(&l, "old: Domain 4:before the op");
	uint64_t mark = xlb_errlog_mark(&l);
	assert_false(xlb_errlog_pick(&l, 4, mark, out, sizeof(out)));
	xlb_errlog_add(&l, "Domain 4:kernel not found");
	xlb_errlog_add(&l, "Domain 9:someone else's trouble");
	xlb_errlog_add(&l, "unattributed failure");
	assert_true(xlb_errlog_pick(&l, 4, mark, out, sizeof(out)));
	assert_string_equal(out, "Domain 4:kernel not found");
	/* Unknown domid: the newest line that names no domain. */
	assert_true(xlb_errlog_pick(&l, -1, mark, out, sizeof(out)));
	assert_string_equal(out, "unattributed failure");
	/* A domain with no line of its own gets the unattributed one, never
	 * another domain's. */
	assert_true(xlb_errlog_pick(&l, 5, mark, out, sizeof(out)));
	assert_string_equal(out, "unattributed failure");
	/* The cause comes first: libxl's failed kernel load, as seen in the lab. */
	uint64_t mark2 = xlb_errlog_mark(&l);
	xlb_errlog_add(&l, "failed to open file '/nonexistent/vmlinuz'");
	xlb_errlog_add(&l, "xc_dom_kernel_file failed");
	xlb_errlog_add(&l, "Domain 3:cannot (re-)build domain: -3");
	assert_true(xlb_errlog_pick(&l, 3, mark2, out, sizeof(out)));
	assert_string_equal(out, "failed to open file '/nonexistent/vmlinuz' "
			    "(Domain 3:cannot (re-)build domain: -3)");
	/* ... but never a line from before the op started */
	uint64_t mark3 = xlb_errlog_mark(&l);
	xlb_errlog_add(&l, "Domain 3:again");
	assert_true(xlb_errlog_pick(&l, 3, mark3, out, sizeof(out)));
	assert_string_equal(out, "Domain 3:again");
}

static void test_errlog_ring_wraps(void **state)
{
	(void)state;
	static struct xlb_errlog l;
	char out[HV_MSG_MAX], line[64];
	xlb_errlog_add(&l, "Domain 1:lost in the wrap");
	for (int i = 0; i < XLB_ERRLOG_N; i++) {
		snprintf(line, sizeof(line), "Domain 2:line %d", i);
		xlb_errlog_add(&l, line);
	}
	assert_false(xlb_errlog_pick(&l, 1, 0, out, sizeof(out)));
	assert_true(xlb_errlog_pick(&l, 2, 0, out, sizeof(out)));
	snprintf(line, sizeof(line), "Domain 2:line %d", XLB_ERRLOG_N - 1);
	assert_string_equal(out, line);
	/* long messages are cut, not overflowed */
	char big[HV_MSG_MAX * 2];
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	xlb_errlog_add(&l, big);
	assert_true(xlb_errlog_pick(&l, -1, 0, out, sizeof(out)));
	assert_int_equal(strlen(out), HV_MSG_MAX - 1);
}

static void test_autoballoon(void **state)
{
	(void)state;
	assert_int_equal(xlb_autoballoon(NULL, "console=com1"), 1);
	assert_int_equal(xlb_autoballoon(NULL, "dom0_mem=1024M,max:1024M console=com1"), 0);
	assert_int_equal(xlb_autoballoon("auto", "console=com1 dom0_mem=2G"), 0);
	assert_int_equal(xlb_autoballoon("auto", "xdom0_mem=2G"), 1);
	assert_int_equal(xlb_autoballoon("auto", NULL), 1);
	assert_int_equal(xlb_autoballoon("on", "dom0_mem=1G"), 1);
	assert_int_equal(xlb_autoballoon("1", NULL), 1);
	assert_int_equal(xlb_autoballoon("off", NULL), 0);
	assert_int_equal(xlb_autoballoon("0", NULL), 0);
	assert_int_equal(xlb_autoballoon("maybe", NULL), -1);
}

static void test_relpath(void **state)
{
	(void)state;
	assert_true(xlb_relpath_ok("data/ready"));
	assert_true(xlb_relpath_ok("control/feature-poweroff"));
	assert_true(xlb_relpath_ok("attr/vif/0/ipv4_0"));
	assert_false(xlb_relpath_ok(""));
	assert_false(xlb_relpath_ok("/local/domain/0/name"));
	assert_false(xlb_relpath_ok("data/"));
	assert_false(xlb_relpath_ok("data//ready"));
	assert_false(xlb_relpath_ok("../0/name"));
	assert_false(xlb_relpath_ok("data/re ady"));
	assert_false(xlb_relpath_ok("@releaseDomain"));
	/* The same limit as --check (core/config.c): 235 characters. */
	char p[300];
	memset(p, 'k', 235);
	p[235] = '\0';
	assert_true(xlb_relpath_ok(p));
	p[235] = 'k';
	p[236] = '\0';
	assert_false(xlb_relpath_ok(p));
	char longp[XD_KEY_MAX];
	memset(longp, 'a', sizeof(longp) - 1);
	longp[sizeof(longp) - 1] = '\0';
	assert_false(xlb_relpath_ok(longp));
}

/* A fake Xen for the dying-domain tracker: domid -> UUID byte 0 (0 = none,
 * 0xff = cannot tell). */
static uint8_t xen[8];
static int n_lookups;

static int lookup(void *arg, uint32_t domid, uint8_t uuid[16])
{
	(void)arg;
	n_lookups++;
	if (domid >= 8 || !xen[domid])
		return 0;
	if (xen[domid] == 0xff)
		return -1;
	memset(uuid, 0, 16);
	uuid[0] = xen[domid];
	return 1;
}

static void test_dying(void **state)
{
	(void)state;
	struct xlb_dying d = { 0 };
	uint8_t u[16] = { 0 };
	memset(xen, 0, sizeof(xen));
	for (uint32_t id = 1; id <= 5; id++) {
		u[0] = (uint8_t)(0x10 + id);
		xen[id] = u[0];                  /* still dying */
		xlb_dying_add(&d, id, u);
	}
	assert_int_equal(xlb_dying_prune(&d, lookup, NULL), 5);
	xen[2] = 0;                              /* gone */
	xen[3] = 0x77;                           /* domid 3 reused by another domain */
	xen[4] = 0xff;                           /* libxl cannot tell: kept */
	assert_int_equal(xlb_dying_prune(&d, lookup, NULL), 3);
	assert_int_equal(d.v[0].domid, 1);
	assert_int_equal(d.v[1].domid, 4);
	assert_int_equal(d.v[2].domid, 5);
	/* the same domid again: one entry, the new UUID */
	u[0] = 0x55;
	xlb_dying_add(&d, 5, u);
	assert_int_equal(d.n, 3);
	assert_int_equal(xlb_dying_prune(&d, lookup, NULL), 2);   /* 5 has UUID 0x15 in Xen */
	xen[1] = xen[4] = 0;
	n_lookups = 0;
	assert_int_equal(xlb_dying_prune(&d, lookup, NULL), 0);
	assert_int_equal(n_lookups, 2);
	xlb_dying_free(&d);
	assert_null(d.v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_errlog_domid),
		cmocka_unit_test(test_errlog_pick),
		cmocka_unit_test(test_errlog_ring_wraps),
		cmocka_unit_test(test_autoballoon),
		cmocka_unit_test(test_relpath),
		cmocka_unit_test(test_dying),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
