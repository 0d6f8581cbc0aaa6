/* SPDX-License-Identifier: ISC */
/*
 * xd_domain_cfg_equal() (core/config.h): reload's "did this domain
 * change?".  Every field of struct xd_domain_cfg is in the table below,
 * either compared (changing it alone must make the domain differ) or
 * deliberately ignored (changing it must not).  The layout check fails
 * when the struct gains a field the table does not list, so a new setting
 * cannot be silently left out of the comparison.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "core/config.h"

enum kind {
	IGNORED,         /* not a setting: must not count as a change */
	SCALAR,          /* an integer, bool or enum: +1 (bools: flipped) */
	STRING,          /* a char *: another text */
	DEPS,            /* a size_t * of dependency indices: another domain */
	COUNT,           /* a dependency count: one more */
};

struct field {
	const char *name;
	size_t off, size, align;
	enum kind kind;
};

#define T struct xd_domain_cfg
#define F(m, k) { #m, offsetof(T, m), sizeof(((T *)0)->m), __alignof__(((T *)0)->m), k }
/* The first member of a nested struct starts at the struct's alignment. */
#define FA(m, k, a) { #m, offsetof(T, m), sizeof(((T *)0)->m), a, k }

static const struct field fields[] = {
	F(name, IGNORED),
	F(origin, IGNORED),
	F(xl_path, STRING),
	F(from_auto_dir, IGNORED),
	F(autostart, SCALAR),
	F(after, DEPS),
	F(n_after, COUNT),
	F(requires, DEPS),
	F(n_requires, COUNT),
	FA(ready.kind, SCALAR, __alignof__(struct xd_ready)),
	F(ready.path, STRING),
	F(ready.value, STRING),
	F(ready.has_value, SCALAR),
	F(ready.delay_ms, SCALAR),
	F(ready_timeout_ms, SCALAR),
	F(start_delay_ms, SCALAR),
	F(start_retries, SCALAR),
	F(retry_delay_ms, SCALAR),
	F(restart_limit, SCALAR),
	F(restart_window_ms, SCALAR),
	F(on_host_shutdown, SCALAR),
	F(shutdown_timeout_ms, SCALAR),
	F(save_timeout_ms, SCALAR),
	F(migrate_to, STRING),
	F(migrate_command, STRING),
	F(migrate_timeout_ms, SCALAR),
	F(migrate_live, SCALAR),
	F(exec_start_pre, STRING),
	F(exec_stop_post, STRING),
	F(hook_timeout_ms, SCALAR),
	F(memory_mb, SCALAR),
	F(maxmem_mb, SCALAR),
	F(hvm, SCALAR),
	F(on_poweroff, SCALAR),
	F(on_reboot, SCALAR),
	F(on_crash, SCALAR),
	F(on_watchdog, SCALAR),
	F(on_soft_reset, SCALAR),
	F(config_error, STRING),
};
#define N_FIELDS (sizeof(fields) / sizeof(fields[0]))

static size_t align_up(size_t x, size_t a)
{
	return (x + a - 1) / a * a;
}

/* The table, in declaration order, tiles the struct: each field starts
 * where the previous one ends (after alignment padding) and the struct
 * ends after the last.  A field added anywhere but inside existing
 * padding breaks this. */
static void test_table_covers_the_struct(void **state)
{
	(void)state;
	size_t end = 0;
	for (size_t i = 0; i < N_FIELDS; i++) {
		if (fields[i].off != align_up(end, fields[i].align))
			fail_msg("struct xd_domain_cfg has a field before %s that this test "
				 "(and maybe xd_domain_cfg_equal) does not know", fields[i].name);
		end = fields[i].off + fields[i].size;
	}
	assert_int_equal(sizeof(struct xd_domain_cfg), align_up(end, __alignof__(T)));
}

/* Two configurations with the same three domains in a different order,
 * so equal dependencies have different indices. */
struct pair {
	struct xd_config ca, cb;
	struct xd_domain_cfg da[3], db[3];
	size_t deps_a[2], deps_b[2], other_b[2];
};

static void fill_subject(struct xd_domain_cfg *d, size_t *deps)
{
	snprintf(d->name, sizeof(d->name), "subject");
	d->origin = (struct xd_origin){ "xendomd.conf", 7 };
	d->xl_path = "/etc/xen/subject.cfg";
	d->autostart = true;
	d->after = d->requires = deps;
	d->n_after = d->n_requires = 1;
	d->ready = (struct xd_ready){ XD_READY_XENSTORE, "data/ready", "1", true, 500 };
	d->ready_timeout_ms = 60000;
	d->start_delay_ms = 10;
	d->start_retries = 3;
	d->retry_delay_ms = 2000;
	d->restart_limit = 5;
	d->restart_window_ms = 600000;
	d->on_host_shutdown = XD_HOST_SAVE;
	d->shutdown_timeout_ms = 120000;
	d->exec_start_pre = "/usr/local/bin/pre";
	d->exec_stop_post = "/usr/local/bin/post";
	d->hook_timeout_ms = 30000;
	d->memory_mb = 1024;
	d->maxmem_mb = 2048;
	d->on_poweroff = XD_ACT_DESTROY;
	d->on_reboot = XD_ACT_RESTART;
	d->on_crash = XD_ACT_PRESERVE;
	d->on_watchdog = XD_ACT_COREDUMP_DESTROY;
	d->on_soft_reset = XD_ACT_SOFT_RESET;
}

/* a: alpha, beta, subject; b: beta, alpha, subject; subject needs alpha. */
static void make_pair(struct pair *p)
{
	memset(p, 0, sizeof(*p));
	snprintf(p->da[0].name, XD_NAME_MAX, "alpha");
	snprintf(p->da[1].name, XD_NAME_MAX, "beta");
	snprintf(p->db[0].name, XD_NAME_MAX, "beta");
	snprintf(p->db[1].name, XD_NAME_MAX, "alpha");
	p->deps_a[0] = 0;
	p->deps_a[1] = 1;
	p->deps_b[0] = 1;
	p->deps_b[1] = 0;
	p->other_b[0] = 0;       /* beta in b */
	fill_subject(&p->da[2], p->deps_a);
	fill_subject(&p->db[2], p->deps_b);
	p->ca = (struct xd_config){ .domains = p->da, .n_domains = 3 };
	p->cb = (struct xd_config){ .domains = p->db, .n_domains = 3 };
}

static bool subject_equal(const struct pair *p)
{
	return xd_domain_cfg_equal(&p->ca, &p->da[2], &p->cb, &p->db[2]);
}

static void bump(unsigned char *at, size_t size)
{
	if (size == sizeof(bool)) {
		*at ^= 1;
	} else if (size == sizeof(uint32_t)) {
		uint32_t v;
		memcpy(&v, at, size);
		v++;
		memcpy(at, &v, size);
	} else {
		assert_int_equal(size, sizeof(uint64_t));
		uint64_t v;
		memcpy(&v, at, size);
		v++;
		memcpy(at, &v, size);
	}
}

static void change(struct pair *p, const struct field *f)
{
	unsigned char *at = (unsigned char *)&p->db[2] + f->off;
	const char *text = "something else";
	size_t *deps = p->other_b;
	switch (f->kind) {
	case IGNORED:
		if (f->size == sizeof(bool))
			bump(at, f->size);
		else
			memset(at, 'x', f->size - 1);    /* the name stays a string */
		break;
	case SCALAR:
		bump(at, f->size);
		break;
	case STRING:
		memcpy(at, &text, sizeof(text));
		break;
	case DEPS:
		memcpy(at, &deps, sizeof(deps));
		break;
	case COUNT:
		bump(at, f->size);       /* deps_b has room for a second one */
		break;
	}
}

static void test_same_settings_are_equal(void **state)
{
	(void)state;
	struct pair p;
	make_pair(&p);
	/* Dependencies at other indices but on the same names are the same. */
	assert_true(subject_equal(&p));
	p.da[2].ready.path = NULL;
	p.db[2].ready.path = "";                 /* unset either way */
	assert_true(subject_equal(&p));
}

static void test_every_field_is_compared_or_ignored(void **state)
{
	(void)state;
	for (size_t i = 0; i < N_FIELDS; i++) {
		struct pair p;
		make_pair(&p);
		change(&p, &fields[i]);
		bool equal = subject_equal(&p);
		if (fields[i].kind == IGNORED && !equal)
			fail_msg("%s is not a setting, yet changing it counts as a change",
				 fields[i].name);
		if (fields[i].kind != IGNORED && equal)
			fail_msg("xd_domain_cfg_equal does not notice a change of %s",
				 fields[i].name);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table_covers_the_struct),
		cmocka_unit_test(test_same_settings_are_equal),
		cmocka_unit_test(test_every_field_is_compared_or_ignored),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
