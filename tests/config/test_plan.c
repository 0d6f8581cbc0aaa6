/* SPDX-License-Identifier: ISC */
/*
 * The dependency planner on in-memory configurations: boot set, order,
 * waves, cycles and the --plan / --dot renderings.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/plan.h"

static struct xd_config *new_config(void)
{
	struct xd_config *c = calloc(1, sizeof(*c));
	assert_non_null(c);
	return c;
}

static size_t add(struct xd_config *c, const char *name, bool autostart)
{
	c->domains = reallocarray(c->domains, c->n_domains + 1, sizeof(*c->domains));
	assert_non_null(c->domains);
	struct xd_domain_cfg *d = &c->domains[c->n_domains];
	memset(d, 0, sizeof(*d));
	snprintf(d->name, sizeof(d->name), "%s", name);
	d->autostart = autostart;
	return c->n_domains++;
}

static void push(size_t **v, size_t *n, size_t x)
{
	*v = reallocarray(*v, *n + 1, sizeof(**v));
	assert_non_null(*v);
	(*v)[(*n)++] = x;
}

static void requires(struct xd_config *c, size_t from, size_t to)
{
	push(&c->domains[from].requires, &c->domains[from].n_requires, to);
}

static void after(struct xd_config *c, size_t from, size_t to)
{
	push(&c->domains[from].after, &c->domains[from].n_after, to);
}

static void assert_order(const struct xd_config *c, const struct xd_plan *p, const char *want)
{
	char got[512] = "";
	for (size_t k = 0; k < p->n; k++)
		snprintf(got + strlen(got), sizeof(got) - strlen(got), "%s%s", k ? " " : "",
			 c->domains[p->order[k]].name);
	assert_string_equal(got, want);
}

static char *cycle_text(const struct xd_config *c)
{
	size_t *cycle, len;
	assert_int_equal(xd_plan_find_cycle(c, &cycle, &len), 1);
	char *t = xd_plan_cycle_text(c, cycle, len);
	free(cycle);
	return t;
}

static void order_respects_dependencies(void **state)
{
	(void)state;
	struct xd_config *c = new_config();
	size_t web = add(c, "web", true), db = add(c, "db", true);
	size_t storage = add(c, "storage", true);
	add(c, "mail", true);
	requires(c, web, db);
	after(c, db, storage);
	struct xd_plan p;
	assert_int_equal(xd_plan_build(c, &p), 0);
	/* at each step the earliest ready domain in config order goes next:
	 * mail is ready from the start, yet web comes first in the config */
	assert_order(c, &p, "storage db web mail");
	assert_int_equal(p.wave[storage], 0);
	assert_int_equal(p.wave[db], 1);
	assert_int_equal(p.wave[web], 2);
	assert_int_equal(p.wave[3], 0);
	assert_int_equal(p.n_waves, 3);
	xd_plan_free(&p);
	xd_config_free(c);
}

static void ties_go_to_config_order(void **state)
{
	(void)state;
	struct xd_config *c = new_config();
	add(c, "c", true);
	add(c, "b", true);
	add(c, "a", true);
	struct xd_plan p;
	assert_int_equal(xd_plan_build(c, &p), 0);
	assert_order(c, &p, "c b a");
	assert_int_equal(p.n_waves, 1);
	xd_plan_free(&p);
	xd_config_free(c);
}

static void waves_take_the_longest_chain(void **state)
{
	(void)state;
	struct xd_config *c = new_config();
	size_t a = add(c, "a", true), b = add(c, "b", true), x = add(c, "x", true);
	size_t d = add(c, "d", true);
	after(c, b, a);
	requires(c, d, b);
	requires(c, d, x);
	struct xd_plan p;
	assert_int_equal(xd_plan_build(c, &p), 0);
	assert_order(c, &p, "a b x d");
	assert_int_equal(p.wave[a], 0);
	assert_int_equal(p.wave[b], 1);
	assert_int_equal(p.wave[x], 0);
	assert_int_equal(p.wave[d], 2);
	xd_plan_free(&p);
	xd_config_free(c);
}

/* requires pulls a non-autostart domain into the boot plan, after does not;
 * an after dependency outside the plan does not delay anything. */
static void boot_set(void **state)
{
	(void)state;
	struct xd_config *c = new_config();
	size_t app = add(c, "app", true), lib = add(c, "lib", false);
	size_t base = add(c, "base", false), opt = add(c, "opt", false);
	size_t tool = add(c, "tool", false);
	requires(c, app, lib);
	requires(c, lib, base);
	after(c, app, opt);
	requires(c, tool, app);
	struct xd_plan p;
	assert_int_equal(xd_plan_build(c, &p), 0);
	assert_true(p.in_boot[app]);
	assert_true(p.in_boot[lib]);
	assert_true(p.in_boot[base]);
	assert_false(p.in_boot[opt]);
	assert_false(p.in_boot[tool]);
	assert_order(c, &p, "base lib app");
	assert_int_equal(p.wave[app], 2);
	xd_plan_free(&p);
	xd_config_free(c);
}

static void cycle_of_two(void **state)
{
	(void)state;
	struct xd_config *c = new_config();
	size_t a = add(c, "a", true), b = add(c, "b", true);
	requires(c, a, b);
	after(c, b, a);
	char *t = cycle_text(c);
	assert_string_equal(t, "a -> b -> a");
	free(t);
	struct xd_plan p;
	errno = 0;
	assert_int_equal(xd_plan_build(c, &p), -1);
	assert_int_equal(errno, ELOOP);
	xd_config_free(c);
}

static void cycle_of_three_found_where_it_is(void **state)
{
	(void)state;
	struct xd_config *c = new_config();
	size_t top = add(c, "top", true), x = add(c, "x", true), y = add(c, "y", true);
	size_t z = add(c, "z", true);
	requires(c, top, x);      /* leads into the cycle but is not part of it */
	after(c, x, y);
	requires(c, y, z);
	requires(c, z, x);
	char *t = cycle_text(c);
	assert_string_equal(t, "x -> y -> z -> x");
	free(t);
	xd_config_free(c);
}

static void self_loop(void **state)
{
	(void)state;
	struct xd_config *c = new_config();
	add(c, "ok", true);
	size_t s = add(c, "selfish", true);
	requires(c, s, s);
	size_t *cycle, len;
	assert_int_equal(xd_plan_find_cycle(c, &cycle, &len), 1);
	assert_int_equal(len, 2);
	assert_int_equal(cycle[0], s);
	assert_int_equal(cycle[1], s);
	char *t = xd_plan_cycle_text(c, cycle, len);
	assert_string_equal(t, "selfish -> selfish");
	free(t);
	free(cycle);
	xd_config_free(c);
}

static void no_cycle(void **state)
{
	(void)state;
	struct xd_config *c = new_config();
	size_t a = add(c, "a", true), b = add(c, "b", true), d = add(c, "d", true);
	requires(c, d, a);
	requires(c, d, b);
	after(c, b, a);
	size_t *cycle = NULL, len = 0;
	assert_int_equal(xd_plan_find_cycle(c, &cycle, &len), 0);
	struct xd_cycle *all;
	size_t n;
	assert_int_equal(xd_plan_find_cycles(c, &all, &n), 0);
	assert_int_equal(n, 0);
	xd_cycles_free(all, n);
	xd_config_free(c);
}

static void every_cycle_once(void **state)
{
	(void)state;
	struct xd_config *c = new_config();
	size_t a = add(c, "a", true), b = add(c, "b", true);
	size_t p = add(c, "p", true), q = add(c, "q", true), r = add(c, "r", true);
	requires(c, a, b);
	requires(c, b, a);
	after(c, b, a);           /* same arrow again: still one cycle */
	after(c, p, q);
	after(c, q, r);
	after(c, r, p);
	struct xd_cycle *all;
	size_t n;
	assert_int_equal(xd_plan_find_cycles(c, &all, &n), 0);
	assert_int_equal(n, 2);
	char *t0 = xd_plan_cycle_text(c, all[0].v, all[0].len);
	char *t1 = xd_plan_cycle_text(c, all[1].v, all[1].len);
	assert_string_equal(t0, "a -> b -> a");
	assert_string_equal(t1, "p -> q -> r -> p");
	free(t0);
	free(t1);
	xd_cycles_free(all, n);
	xd_config_free(c);
}

static struct xd_config *sample(void)
{
	struct xd_config *c = new_config();
	size_t storage = add(c, "storage", true), db = add(c, "db", true);
	size_t web = add(c, "web", true), dns = add(c, "dns", true);
	size_t backup = add(c, "backup", false), lib = add(c, "lib", false);
	c->domains[storage].ready.kind = XD_READY_PV_DRIVERS;
	c->domains[db].ready.kind = XD_READY_XENSTORE;
	c->domains[db].ready.path = strdup("data/ready");
	c->domains[db].ready.value = strdup("1");
	c->domains[db].ready.has_value = true;
	c->domains[backup].ready.kind = XD_READY_DELAY;
	c->domains[backup].ready.delay_ms = 30000;
	requires(c, db, storage);
	requires(c, web, db);
	after(c, web, dns);
	requires(c, backup, db);
	requires(c, dns, lib);
	return c;
}

static void text_format(void **state)
{
	(void)state;
	struct xd_config *c = sample();
	struct xd_plan p;
	assert_int_equal(xd_plan_build(c, &p), 0);
	char *s = xd_plan_format(c, &p, false);
	assert_string_equal(s,
		"Boot plan: 5 domains in 3 waves\n"
		"\n"
		"Wave 0:\n"
		"  storage  ready pv-drivers\n"
		"  lib      ready running\n"
		"\n"
		"Wave 1:\n"
		"  db       ready xenstore:data/ready=1; requires storage\n"
		"  dns      ready running; requires lib\n"
		"\n"
		"Wave 2:\n"
		"  web      ready running; requires db; after dns\n"
		"\n"
		"Started at boot only because required (autostart = no):\n"
		"  lib\n"
		"\n"
		"On demand (not started at boot):\n"
		"  backup   ready delay:30; requires db\n");
	free(s);
	xd_plan_free(&p);
	xd_config_free(c);
}

static void dot_format(void **state)
{
	(void)state;
	struct xd_config *c = sample();
	struct xd_plan p;
	assert_int_equal(xd_plan_build(c, &p), 0);
	char *s = xd_plan_format(c, &p, true);
	assert_non_null(strstr(s, "digraph xendomd {\n"));
	assert_non_null(strstr(s, "\t\"storage\" -> \"db\";\n"));
	assert_non_null(strstr(s, "\t\"db\" -> \"web\";\n"));
	assert_non_null(strstr(s, "\t\"dns\" -> \"web\" [style=dashed];\n"));
	assert_non_null(strstr(s, "\t\"db\" -> \"backup\";\n"));
	assert_non_null(strstr(s, "\t\"backup\" [label=\"backup\\non demand\", style=dashed, color=grey];\n"));
	assert_non_null(strstr(s, "\t{ rank=same; \"storage\"; \"lib\"; }\n"));
	assert_non_null(strstr(s, "\t\"web\" [label=\"web\\nwave 2\"];\n"));
	assert_string_equal(s + strlen(s) - 2, "}\n");
	free(s);
	xd_plan_free(&p);
	xd_config_free(c);
}

static void empty_config(void **state)
{
	(void)state;
	struct xd_config *c = new_config();
	struct xd_plan p;
	assert_int_equal(xd_plan_build(c, &p), 0);
	assert_int_equal(p.n, 0);
	assert_int_equal(p.n_waves, 0);
	char *s = xd_plan_format(c, &p, false);
	assert_string_equal(s, "Boot plan: 0 domains in 0 waves\n");
	free(s);
	xd_plan_free(&p);
	xd_config_free(c);
}

/* xd_config_find: a config built by hand (no index), one indexed, one
 * indexed and then appended to (the engine harness and the loader both
 * append), and a repeated name, which finds the first as a scan would. */
static void find_by_name(void **state)
{
	(void)state;
	struct xd_config *c = new_config();
	char name[16];
	assert_int_equal(xd_config_find(c, "a"), -1);
	for (int i = 0; i < 300; i++) {
		snprintf(name, sizeof(name), "d%d", i);
		add(c, name, true);
	}
	assert_int_equal(xd_config_find(c, "d0"), 0);
	assert_int_equal(xd_config_find(c, "d299"), 299);
	assert_int_equal(c->n_indexed, 0);
	xd_config_index(c);
	assert_int_equal(c->n_indexed, 300);
	for (int i = 0; i < 300; i++) {
		snprintf(name, sizeof(name), "d%d", i);
		assert_int_equal(xd_config_find(c, name), i);
	}
	add(c, "late", true);
	add(c, "d7", true);             /* a repeat of an indexed name */
	assert_int_equal(xd_config_find(c, "late"), 300);
	assert_int_equal(xd_config_find(c, "d7"), 7);
	assert_int_equal(xd_config_find(c, "d300"), -1);
	assert_int_equal(xd_config_find(c, ""), -1);
	xd_config_index(c);
	assert_int_equal(c->n_indexed, 302);
	assert_int_equal(xd_config_find(c, "late"), 300);
	assert_int_equal(xd_config_find(c, "d7"), 7);
	assert_int_equal(xd_config_find(c, "nope"), -1);
	xd_config_free(c);
}


/* ------------------------------------------------- start_order = critical-path */

static void weights_fill_the_unmeasured_with_the_median(void **state)
{
	(void)state;
	uint64_t measured[] = { 0, 5, 3, 9, 7 }, out[5];
	xd_plan_weights(measured, 5, out);
	/* known 3 5 7 9: the lower middle one */
	assert_int_equal(out[0], 5);
	assert_int_equal(out[1], 5);
	assert_int_equal(out[2], 3);
	assert_int_equal(out[4], 7);
	uint64_t odd[] = { 40, 0, 10, 20 };
	xd_plan_weights(odd, 4, out);
	assert_int_equal(out[1], 20);
	uint64_t none[] = { 0, 0 };
	xd_plan_weights(none, 2, out);
	assert_int_equal(out[0], 1);
	assert_int_equal(out[1], 1);
	xd_plan_weights(NULL, 2, out);
	assert_int_equal(out[1], 1);
}

static void critical_priority_is_the_longest_weighted_chain_of_dependents(void **state)
{
	(void)state;
	struct xd_config *c = new_config();
	size_t a = add(c, "a", true), b = add(c, "b", true), cc = add(c, "c", false);
	size_t d = add(c, "d", true), e = add(c, "e", true);
	requires(c, b, a);
	after(c, cc, b);        /* c is on demand: still counted (the whole DAG) */
	requires(c, e, a);
	uint64_t measured[] = { 10, 20, 30, 0, 100 }, prio[5];
	assert_int_equal(xd_plan_critical(c, measured, prio), 0);
	/* d is unmeasured: median of 10 20 30 100 = 20 */
	assert_int_equal(prio[cc], 30);
	assert_int_equal(prio[b], 50);
	assert_int_equal(prio[e], 100);
	assert_int_equal(prio[a], 110);      /* through e, not through b and c */
	assert_int_equal(prio[d], 20);
	xd_config_free(c);
}

static void critical_priority_refuses_a_cycle(void **state)
{
	(void)state;
	struct xd_config *c = new_config();
	size_t a = add(c, "a", true), b = add(c, "b", true);
	requires(c, a, b);
	after(c, b, a);
	uint64_t prio[2];
	errno = 0;
	assert_int_equal(xd_plan_critical(c, NULL, prio), -1);
	assert_int_equal(errno, ELOOP);
	xd_config_free(c);
}

/* four short independent domains first, a chain of four listed last */
static struct xd_config *chain_last(unsigned slots)
{
	struct xd_config *c = new_config();
	char name[8];
	for (int i = 0; i < 4; i++) {
		snprintf(name, sizeof(name), "i%d", i);
		add(c, name, true);
	}
	for (int i = 0; i < 4; i++) {
		snprintf(name, sizeof(name), "c%d", i);
		size_t k = add(c, name, true);
		if (i)
			requires(c, k, k - 1);
	}
	add(c, "ondemand", false);
	c->global.max_parallel_starts = slots;
	return c;
}

static void makespan_simulates_the_run_queue_order(void **state)
{
	(void)state;
	struct xd_config *c = chain_last(2);
	struct xd_plan p;
	assert_int_equal(xd_plan_build(c, &p), 0);
	uint64_t w[9], prio[9];
	for (int i = 0; i < 9; i++)
		w[i] = 100;
	w[8] = 100000;                       /* not in the boot plan: not counted */
	assert_int_equal(xd_plan_critical(c, w, prio), 0);
	/* config order: i0 i1 | i2 i3 | c0 | c1 | c2 | c3 */
	assert_int_equal(xd_plan_makespan(c, &p, w, NULL), 600);
	/* critical path: c0 i0 | c1 i1 | c2 i2 | c3 i3 */
	assert_int_equal(xd_plan_makespan(c, &p, w, prio), 400);
	c->global.max_parallel_starts = 1;   /* one slot: the sum either way */
	assert_int_equal(xd_plan_makespan(c, &p, w, prio), 800);
	c->global.max_parallel_starts = 0;   /* unlimited: the chain either way */
	assert_int_equal(xd_plan_makespan(c, &p, w, NULL), 400);
	w[0] = 1000;                         /* a long independent one */
	assert_int_equal(xd_plan_makespan(c, &p, w, NULL), 1000);
	xd_plan_free(&p);
	xd_config_free(c);
}

static void makespan_text_names_both_orders_and_the_weights(void **state)
{
	(void)state;
	struct xd_config *c = chain_last(2);
	struct xd_plan p;
	assert_int_equal(xd_plan_build(c, &p), 0);
	uint64_t measured[9] = { 100, 100, 100, 0, 100, 100, 100, 100, 0 };
	char *text = xd_plan_format_makespan(c, &p, measured);
	assert_non_null(text);
	assert_non_null(strstr(text, "Expected makespan: 400 ms with start_order = critical-path, "
				     "600 ms in config order (max_parallel_starts = 2)\n"));
	assert_non_null(strstr(text, "\n  i3  100 median  path 100\n"));
	assert_non_null(strstr(text, "\n  c0  100  path 400\n"));
	assert_null(strstr(text, "ondemand"));
	free(text);
	xd_plan_free(&p);
	xd_config_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(order_respects_dependencies),
		cmocka_unit_test(ties_go_to_config_order),
		cmocka_unit_test(waves_take_the_longest_chain),
		cmocka_unit_test(boot_set),
		cmocka_unit_test(cycle_of_two),
		cmocka_unit_test(cycle_of_three_found_where_it_is),
		cmocka_unit_test(self_loop),
		cmocka_unit_test(no_cycle),
		cmocka_unit_test(every_cycle_once),
		cmocka_unit_test(text_format),
		cmocka_unit_test(dot_format),
		cmocka_unit_test(empty_config),
		cmocka_unit_test(find_by_name),
		cmocka_unit_test(weights_fill_the_unmeasured_with_the_median),
		cmocka_unit_test(critical_priority_is_the_longest_weighted_chain_of_dependents),
		cmocka_unit_test(critical_priority_refuses_a_cycle),
		cmocka_unit_test(makespan_simulates_the_run_queue_order),
		cmocka_unit_test(makespan_text_names_both_orders_and_the_weights),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
