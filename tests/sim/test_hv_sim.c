/* SPDX-License-Identifier: ISC */
/* Unit tests of the simulated hypervisor on a virtual clock. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/timer.h"
#include "core/hv_port.h"
#include "hv/sim/hv_sim.h"
#include "hv/savefile.h"

#define T0 1000         /* the virtual clock starts here */

struct rig {
	struct xd_timers timers;
	struct hv *hv;
	char dir[64];
	char path[128];        /* scratch file name */
	struct xd_config cfg;
	struct xd_domain_cfg doms[4];
	uint64_t op;           /* last op id handed out */
};

static int rig_setup(void **state)
{
	struct rig *r = calloc(1, sizeof(*r));
	xd_timers_init(&r->timers, T0);
	snprintf(r->dir, sizeof(r->dir), "/tmp/xd-sim-XXXXXX");
	assert_non_null(mkdtemp(r->dir));
	const char *names[] = { "web", "db", "win", "big" };
	const uint64_t mem[] = { 256, 512, 1024, 4096 };
	for (size_t i = 0; i < 4; i++) {
		snprintf(r->doms[i].name, XD_NAME_MAX, "%s", names[i]);
		r->doms[i].memory_mb = mem[i];
	}
	r->doms[2].hvm = true;
	r->cfg.domains = r->doms;
	r->cfg.n_domains = 4;
	*state = r;
	return 0;
}

static int rig_teardown(void **state)
{
	struct rig *r = *state;
	if (r->hv) {
		assert_int_equal(hv_sim_ops_in_flight(r->hv), 0);
		r->hv->ops->free(r->hv);
	}
	xd_timers_free(&r->timers);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", r->dir);
	assert_int_equal(system(cmd), 0);
	free(r);
	return 0;
}

static const char *write_scenario(struct rig *r, const char *text)
{
	snprintf(r->path, sizeof(r->path), "%s/scenario.ini", r->dir);
	FILE *f = fopen(r->path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	return r->path;
}

static struct hv *sim(struct rig *r, const char *scenario)
{
	char err[512] = "";
	r->hv = hv_sim_new(scenario ? write_scenario(r, scenario) : NULL, &r->cfg, &r->timers,
			   err, sizeof(err));
	if (!r->hv)
		fail_msg("hv_sim_new: %s", err);
	return r->hv;
}

static const struct xd_domain_cfg *dom(struct rig *r, const char *name)
{
	long i = xd_config_find(&r->cfg, name);
	assert_true(i >= 0);
	return &r->doms[i];
}

static uint64_t now(struct rig *r)
{
	return xd_timers_now(&r->timers);
}

static bool queue_empty(struct rig *r)
{
	return r->hv->q.n == 0;
}

/* Fire the timers of the next deadline; false when none is left. */
static bool step(struct rig *r)
{
	uint64_t t = xd_timers_next(&r->timers);
	if (t == XD_NEVER)
		return false;
	xd_timers_run(&r->timers, t);
	return true;
}

/* Run every timer due up to at, then set the clock to at. */
static void run_until(struct rig *r, uint64_t at)
{
	while (xd_timers_next(&r->timers) <= at)
		step(r);
	xd_timers_run(&r->timers, at);
}

/* The next event, running the clock forward as far as needed. */
static struct hv_event next_event(struct rig *r)
{
	struct hv_event ev;
	while (!hv_next_event(r->hv, &ev))
		if (!step(r))
			fail_msg("no event is coming (clock at %" PRIu64 ")", now(r));
	return ev;
}

static void expect_op_done(struct rig *r, uint64_t op, int rc, uint64_t at)
{
	struct hv_event ev = next_event(r);
	assert_int_equal(ev.kind, HV_EV_OP_DONE);
	assert_int_equal(ev.op, op);
	if (ev.rc != rc)
		fail_msg("op %" PRIu64 ": rc %d (%s), expected %d", op, ev.rc, ev.msg, rc);
	assert_int_equal(now(r), at);
}

static void expect_kind(struct rig *r, enum hv_ev_kind kind, uint32_t domid, uint64_t at)
{
	struct hv_event ev = next_event(r);
	if (ev.kind != kind)
		fail_msg("event kind %d (path '%s', msg '%s'), expected %d", ev.kind, ev.path, ev.msg,
			 kind);
	assert_int_equal(ev.domid, domid);
	assert_int_equal(now(r), at);
}

static void expect_shutdown(struct rig *r, uint32_t domid, enum hv_reason why, uint64_t at)
{
	struct hv_event ev = next_event(r);
	assert_int_equal(ev.kind, HV_EV_SHUTDOWN);
	assert_int_equal(ev.domid, domid);
	assert_int_equal(ev.reason, why);
	assert_int_equal(now(r), at);
}

static void expect_key(struct rig *r, uint32_t domid, const char *path)
{
	struct hv_event ev = next_event(r);
	assert_int_equal(ev.kind, HV_EV_KEY);
	assert_int_equal(ev.domid, domid);
	assert_string_equal(ev.path, path);
}

/* No completion is queued (a call must not complete inside itself). */
static void expect_no_op_done_queued(struct rig *r)
{
	const struct hv_queue *q = &r->hv->q;
	for (size_t i = 0; i < q->n; i++)
		assert_int_not_equal(q->v[(q->head + i) % q->cap].kind, HV_EV_OP_DONE);
}

/* Nothing at all happens any more (all timers run out). */
static void expect_quiet(struct rig *r)
{
	struct hv_event ev;
	while (step(r))
		;
	if (hv_next_event(r->hv, &ev))
		fail_msg("unexpected event kind %d domid %u msg '%s'", ev.kind, ev.domid, ev.msg);
}

/* Nothing is queued from now up to at. */
static void expect_quiet_until(struct rig *r, uint64_t at)
{
	run_until(r, at);
	assert_true(queue_empty(r));
}

/* Create and wait for the domid; the call itself never completes. */
static uint32_t create(struct rig *r, const char *name)
{
	uint64_t op = ++r->op;
	assert_int_equal(r->hv->ops->create(r->hv, dom(r, name), op), 0);
	assert_true(queue_empty(r));
	struct hv_event ev = next_event(r);
	assert_int_equal(ev.kind, HV_EV_OP_DONE);
	assert_int_equal(ev.op, op);
	if (ev.rc)
		fail_msg("create %s: %s", name, ev.msg);
	return ev.domid;
}

static void unpause(struct rig *r, uint32_t domid)
{
	uint64_t op = ++r->op, t = now(r);
	assert_int_equal(r->hv->ops->unpause(r->hv, domid, op), 0);
	assert_true(queue_empty(r));
	expect_op_done(r, op, 0, t);
}

static uint32_t boot(struct rig *r, const char *name)
{
	uint32_t domid = create(r, name);
	assert_int_equal(r->hv->ops->watch_domain(r->hv, domid), 0);
	unpause(r, domid);
	return domid;
}

static void destroy(struct rig *r, uint32_t domid)
{
	uint64_t op = ++r->op, t = now(r);
	assert_int_equal(r->hv->ops->destroy(r->hv, domid, op), 0);
	assert_true(queue_empty(r));
	struct hv_event ev = next_event(r);
	while (ev.kind == HV_EV_KEY || ev.kind == HV_EV_DEATH)
		ev = next_event(r);
	assert_int_equal(ev.kind, HV_EV_OP_DONE);
	assert_int_equal(ev.op, op);
	assert_int_equal(now(r), t);
}

static struct hv_dominfo info(struct rig *r, const char *name)
{
	struct hv_dominfo di;
	assert_int_equal(hv_sim_find(r->hv, name, &di), 0);
	return di;
}

static uint64_t mem_free(struct rig *r)
{
	uint64_t kb;
	assert_int_equal(r->hv->ops->mem_free(r->hv, &kb), 0);
	return kb;
}

static void expect_key_value(struct rig *r, uint32_t domid, const char *path, const char *value)
{
	char buf[64];
	assert_int_equal(r->hv->ops->read_key(r->hv, domid, path, buf, sizeof(buf)), 0);
	assert_string_equal(buf, value);
}

static const char *save_path(struct rig *r, const char *name)
{
	snprintf(r->path, sizeof(r->path), "%s/%s", r->dir, name);
	return r->path;
}

static bool exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0;
}

/* ---- create, unpause, readiness ---- */

static void create_takes_create_ms_and_leaves_domain_paused(void **state)
{
	struct rig *r = *state;
	sim(r, NULL);
	uint64_t need;
	assert_int_equal(r->hv->ops->mem_need(r->hv, dom(r, "web"), &need), 0);
	assert_int_equal(need, 256 * 1024);
	uint64_t free0 = mem_free(r);
	assert_int_equal(free0, 65536ull * 1024);

	assert_int_equal(r->hv->ops->create(r->hv, dom(r, "web"), 7), 0);
	assert_true(queue_empty(r));
	run_until(r, T0 + 199);
	assert_true(queue_empty(r));
	assert_int_equal(mem_free(r), free0);      /* taken when the create completes */
	assert_int_equal(hv_sim_find(r->hv, "web", &(struct hv_dominfo){ 0 }), HV_ENOENT);

	struct hv_event ev = next_event(r);
	assert_int_equal(ev.kind, HV_EV_OP_DONE);
	assert_int_equal(ev.op, 7);
	assert_int_equal(ev.rc, 0);
	assert_int_equal(ev.domid, 1);
	assert_int_equal(now(r), T0 + 200);
	struct hv_dominfo di = info(r, "web");
	assert_int_equal(di.domid, 1);
	assert_true(di.paused);
	assert_false(di.shutdown);
	assert_false(di.hvm);
	assert_int_equal(di.cur_kb, 256 * 1024);
	assert_int_equal(mem_free(r), free0 - 256 * 1024);
	assert_int_equal(hv_sim_counts(r->hv, "web").creates, 1);
}

static void libxl_leaves_guest_nodes_empty_until_the_guest_writes(void **state)
{
	struct rig *r = *state;
	sim(r, "[domain web]\nready_ms = 500\n");
	uint32_t d = create(r, "web");
	char buf[8];
	expect_key_value(r, d, "name", "web");
	expect_key_value(r, d, "control/feature-poweroff", "");
	assert_int_equal(r->hv->ops->read_key(r->hv, d, "data/ready", buf, sizeof(buf)), HV_ENOENT);

	assert_int_equal(r->hv->ops->watch_key(r->hv, d, "data/ready"), 0);
	assert_int_equal(r->hv->ops->watch_key(r->hv, d, "control/feature-poweroff"), 0);
	expect_key(r, d, "data/ready");                 /* once at once */
	expect_key(r, d, "control/feature-poweroff");
	assert_true(queue_empty(r));

	uint64_t t = now(r);
	unpause(r, d);
	assert_false(info(r, "web").paused);
	expect_quiet_until(r, t + 499);
	expect_key(r, d, "data/ready");
	assert_int_equal(now(r), t + 500);
	expect_key(r, d, "control/feature-poweroff");
	expect_key_value(r, d, "data/ready", "1");
	expect_key_value(r, d, "control/feature-poweroff", "1");
	expect_quiet(r);
}

static void domids_increase_and_are_never_reused(void **state)
{
	struct rig *r = *state;
	sim(r, "[domain db]\ncreate_ms = 50\n");
	assert_int_equal(create(r, "web"), 1);
	assert_int_equal(now(r), T0 + 200);
	assert_int_equal(create(r, "db"), 2);
	assert_int_equal(now(r), T0 + 250);
	destroy(r, 1);
	destroy(r, 2);
	assert_int_equal(create(r, "web"), 3);
	assert_int_equal(mem_free(r), (65536ull - 256) * 1024);
}

static void fail_creates_fails_the_first_n_attempts(void **state)
{
	struct rig *r = *state;
	sim(r, "[domain web]\nfail_creates = 2\ncreate_ms = 10\n");
	uint64_t free0 = mem_free(r);
	for (unsigned k = 1; k <= 2; k++) {
		assert_int_equal(r->hv->ops->create(r->hv, dom(r, "web"), k), 0);
		struct hv_event ev = next_event(r);
		assert_int_equal(ev.kind, HV_EV_OP_DONE);
		assert_int_equal(ev.rc, HV_EFAIL);
		char want[64];
		snprintf(want, sizeof(want), "simulated create failure (%u of 2)", k);
		assert_string_equal(ev.msg, want);
		assert_int_equal(now(r), T0 + 10 * k);
		assert_int_equal(mem_free(r), free0);
		assert_int_equal(hv_sim_find(r->hv, "web", &(struct hv_dominfo){ 0 }), HV_ENOENT);
	}
	r->op = 2;
	assert_int_equal(create(r, "web"), 1);
	assert_int_equal(hv_sim_counts(r->hv, "web").creates, 3);
}

static void create_fails_when_memory_is_short_at_completion(void **state)
{
	struct rig *r = *state;
	sim(r, "[sim]\nfree_memory_mb = 1000\n");
	/* two creates admitted together: the second finds the memory gone */
	assert_int_equal(r->hv->ops->create(r->hv, dom(r, "db"), 1), 0);
	assert_int_equal(r->hv->ops->create(r->hv, dom(r, "db"), 2), 0);
	expect_op_done(r, 1, 0, T0 + 200);
	struct hv_event ev = next_event(r);
	assert_int_equal(ev.op, 2);
	assert_int_equal(ev.rc, HV_EFAIL);      /* the name is taken first */
	assert_non_null(strstr(ev.msg, "db already exists"));

	assert_int_equal(r->hv->ops->create(r->hv, dom(r, "win"), 3), 0);
	ev = next_event(r);
	assert_int_equal(ev.rc, HV_ENOMEM);
	assert_non_null(strstr(ev.msg, "need 1024 MiB, free 488 MiB"));
	assert_non_null(strstr(ev.msg, "win"));
	assert_int_equal(mem_free(r), 488 * 1024);

	hv_sim_set_free_kb(r->hv, 2048 * 1024);
	r->op = 3;
	assert_true(create(r, "win") > 0);
	assert_int_equal(mem_free(r), 1024 * 1024);
}

static void create_of_an_existing_name_fails_at_once(void **state)
{
	struct rig *r = *state;
	sim(r, NULL);
	create(r, "web");
	uint64_t t = now(r);
	assert_int_equal(r->hv->ops->create(r->hv, dom(r, "web"), 50), 0);
	assert_true(queue_empty(r));
	struct hv_event ev = next_event(r);
	assert_int_equal(ev.op, 50);
	assert_int_equal(ev.rc, HV_EFAIL);
	assert_string_equal(ev.msg, "domain web already exists");
	assert_int_equal(now(r), t);
}

static void unpause_of_a_shut_down_domain_fails(void **state)
{
	struct rig *r = *state;
	sim(r, NULL);
	uint32_t d = boot(r, "web");
	assert_int_equal(hv_sim_guest_shutdown(r->hv, d, HV_SD_POWEROFF), 0);
	expect_shutdown(r, d, HV_SD_POWEROFF, now(r));
	assert_int_equal(r->hv->ops->unpause(r->hv, d, 9), 0);
	assert_true(queue_empty(r));
	expect_op_done(r, 9, HV_EFAIL, now(r));
	assert_int_equal(r->hv->ops->unpause(r->hv, 99, 10), HV_ENOENT);
	destroy(r, d);
}

/* ---- shutdown, power button, husks ---- */

static void pv_shutdown_is_acknowledged_then_powers_off(void **state)
{
	struct rig *r = *state;
	sim(r, "[domain web]\nshutdown_ms = 300\n");
	uint32_t d = boot(r, "web");
	run_until(r, now(r) + 1);                        /* drivers up at +0 */
	assert_int_equal(r->hv->ops->watch_key(r->hv, d, "control/shutdown"), 0);
	expect_key(r, d, "control/shutdown");
	uint64_t free_up = mem_free(r), t = now(r);

	assert_int_equal(r->hv->ops->shutdown(r->hv, d, 20), 0);
	expect_no_op_done_queued(r);
	expect_key(r, d, "control/shutdown");            /* libxl writes "poweroff" */
	expect_key(r, d, "control/shutdown");            /* the guest acks with "" */
	expect_op_done(r, 20, 0, t);
	expect_shutdown(r, d, HV_SD_POWEROFF, t + 300);

	struct hv_dominfo di = info(r, "web");          /* a husk, still holding memory */
	assert_true(di.shutdown);
	assert_int_equal(di.reason, HV_SD_POWEROFF);
	assert_int_equal(mem_free(r), free_up);
	expect_quiet_until(r, now(r) + 3600 * 1000);
	assert_true(info(r, "web").shutdown);

	assert_int_equal(r->hv->ops->destroy(r->hv, d, 21), 0);
	assert_true(info(r, "web").dying);
	assert_true(queue_empty(r));
	expect_key(r, d, "control/shutdown");            /* the directory goes */
	expect_kind(r, HV_EV_DEATH, d, now(r));
	expect_op_done(r, 21, 0, now(r));
	assert_int_equal(mem_free(r), free_up + 256 * 1024);
	assert_int_equal(hv_sim_find(r->hv, "web", &di), HV_ENOENT);
	assert_int_equal(hv_sim_counts(r->hv, "web").shutdowns, 1);
	assert_int_equal(hv_sim_counts(r->hv, "web").destroys, 1);
	expect_quiet(r);
}

static void pv_shutdown_before_drivers_waits_for_them(void **state)
{
	struct rig *r = *state;
	sim(r, "[domain web]\nready_ms = 1000\n");
	uint32_t d = boot(r, "web");
	uint64_t t = now(r);
	assert_int_equal(r->hv->ops->shutdown(r->hv, d, 30), 0);
	expect_quiet_until(r, t + 999);
	expect_op_done(r, 30, 0, t + 1000);
	expect_shutdown(r, d, HV_SD_POWEROFF, t + 1100);
	destroy(r, d);
}

static void unacknowledged_shutdown_times_out_after_60s(void **state)
{
	struct rig *r = *state;
	sim(r, NULL);
	uint32_t d = create(r, "web");          /* paused: the guest never runs */
	uint64_t t = now(r);
	assert_int_equal(r->hv->ops->shutdown(r->hv, d, 40), 0);
	expect_op_done(r, 40, HV_EFAIL, t + 60000);
	assert_false(info(r, "web").shutdown);
	destroy(r, d);
}

static void guest_that_ignores_shutdown_never_goes_down(void **state)
{
	struct rig *r = *state;
	sim(r, "[domain web]\nshutdown_ms = -1\n");
	uint32_t d = boot(r, "web");
	run_until(r, now(r) + 1);
	uint64_t t = now(r);
	assert_int_equal(r->hv->ops->shutdown(r->hv, d, 41), 0);
	expect_op_done(r, 41, 0, t);          /* acknowledged ... */
	expect_quiet_until(r, t + 24 * 3600 * 1000ull);
	assert_false(info(r, "web").shutdown); /* ... and ignored */
	destroy(r, d);
}

static void hvm_without_pv_drivers_needs_the_power_button(void **state)
{
	struct rig *r = *state;
	sim(r, "[domain web]\npv_drivers = no\nshutdown_ms = 700\n");
	uint32_t d = boot(r, "web");
	assert_true(info(r, "web").hvm);
	run_until(r, now(r) + 5000);
	struct hv_event ev;
	while (hv_next_event(r->hv, &ev))
		;
	assert_int_equal(r->hv->ops->shutdown(r->hv, d, 50), HV_ENOPV);
	assert_true(queue_empty(r));
	char buf[8];
	expect_key_value(r, d, "control/feature-poweroff", "");  /* no drivers to write it */
	assert_int_equal(r->hv->ops->read_key(r->hv, d, "data/ready", buf, sizeof(buf)), 0);

	uint64_t t = now(r);
	assert_int_equal(r->hv->ops->power_button(r->hv, d), 0);
	assert_true(queue_empty(r));
	expect_shutdown(r, d, HV_SD_POWEROFF, t + 700);
	assert_int_equal(hv_sim_counts(r->hv, "web").power_buttons, 1);
	destroy(r, d);
}

static void hvm_has_pv_control_only_once_its_drivers_are_up(void **state)
{
	struct rig *r = *state;
	sim(r, "[domain win]\nready_ms = 2000\n");
	uint32_t d = boot(r, "win");             /* type hvm in its xl cfg */
	assert_true(info(r, "win").hvm);
	expect_key_value(r, d, "control/feature-s3", "");
	assert_int_equal(r->hv->ops->shutdown(r->hv, d, 60), HV_ENOPV);
	run_until(r, now(r) + 2000);
	uint64_t t = now(r);
	assert_int_equal(r->hv->ops->shutdown(r->hv, d, 61), 0);
	expect_op_done(r, 61, 0, t);
	expect_shutdown(r, d, HV_SD_POWEROFF, t + 100);
	destroy(r, d);
}

static void power_button_fails_on_pv(void **state)
{
	struct rig *r = *state;
	sim(r, "[domain db]\nhvm = no\n");
	uint32_t d = boot(r, "db");
	assert_int_equal(r->hv->ops->power_button(r->hv, d), HV_EFAIL);
	assert_int_equal(r->hv->ops->power_button(r->hv, 77), HV_ENOENT);
	expect_quiet_until(r, now(r) + 10000);
	assert_false(info(r, "db").shutdown);
	destroy(r, d);
}

static void crash_and_reboot_come_after_every_unpause(void **state)
{
	struct rig *r = *state;
	sim(r, "[domain web]\ncrash_after_ms = 5000\n[domain db]\nreboot_after_ms = 3000\n");
	uint32_t w = boot(r, "web");
	uint64_t tw = now(r);
	uint32_t b = boot(r, "db");
	uint64_t tb = now(r);
	expect_shutdown(r, b, HV_SD_REBOOT, tb + 3000);
	expect_shutdown(r, w, HV_SD_CRASH, tw + 5000);
	destroy(r, b);
	b = boot(r, "db");
	assert_int_equal(b, 3);
	expect_shutdown(r, b, HV_SD_REBOOT, now(r) + 3000);
	destroy(r, b);
	destroy(r, w);
	expect_quiet(r);
}

static void shutdown_is_reported_once_per_watch(void **state)
{
	struct rig *r = *state;
	sim(r, NULL);
	uint32_t d = boot(r, "web");
	assert_true(hv_sim_watched(r->hv, d));
	assert_int_equal(hv_sim_guest_shutdown(r->hv, d, HV_SD_WATCHDOG), 0);
	expect_shutdown(r, d, HV_SD_WATCHDOG, now(r));
	assert_int_equal(hv_sim_guest_shutdown(r->hv, d, HV_SD_CRASH), HV_ENOENT);
	expect_quiet(r);
	/* A new watch on a domain already shut down reports it at once. */
	r->hv->ops->unwatch_domain(r->hv, d);
	assert_false(hv_sim_watched(r->hv, d));
	assert_int_equal(r->hv->ops->watch_domain(r->hv, d), 0);
	expect_shutdown(r, d, HV_SD_WATCHDOG, now(r));
	destroy(r, d);
	/* A domain that is gone: DEATH; one that never was: ENOENT. */
	assert_int_equal(r->hv->ops->watch_domain(r->hv, d), 0);
	expect_kind(r, HV_EV_DEATH, d, now(r));
	assert_int_equal(r->hv->ops->watch_domain(r->hv, 42), HV_ENOENT);
	expect_quiet(r);
}

static void unwatched_domains_report_nothing(void **state)
{
	struct rig *r = *state;
	sim(r, "[domain web]\ncrash_after_ms = 10\n");
	uint32_t d = create(r, "web");
	unpause(r, d);
	run_until(r, now(r) + 10);
	assert_true(info(r, "web").shutdown);
	assert_int_equal(info(r, "web").reason, HV_SD_CRASH);
	assert_int_equal(r->hv->ops->destroy(r->hv, d, 5), 0);
	expect_op_done(r, 5, 0, now(r));       /* no DEATH before it */
	expect_quiet(r);
}

/* ---- save and restore ---- */

static void save_suspends_writes_an_xl_image_and_leaves_a_husk(void **state)
{
	struct rig *r = *state;
	sim(r, "[domain web]\nsave_ms = 400\n");
	uint32_t d = boot(r, "web");
	const char *file = save_path(r, "web.save");
	char tmp[160];
	snprintf(tmp, sizeof(tmp), "%s.tmp", file);
	uint64_t t = now(r), free_up = mem_free(r);

	assert_int_equal(r->hv->ops->save(r->hv, d, file, 70), 0);
	assert_true(queue_empty(r));
	expect_shutdown(r, d, HV_SD_SUSPEND, t);           /* non-live: suspend first */
	assert_true(exists(tmp));
	assert_false(exists(file));
	expect_op_done(r, 70, 0, t + 400);
	assert_false(exists(tmp));
	char msg[HV_MSG_MAX];
	assert_int_equal(r->hv->ops->image_check(r->hv, file, msg, sizeof(msg)), 0);
	struct savefile_info si;
	assert_int_equal(savefile_read(file, &si, msg, sizeof(msg)), 0);
	assert_string_equal(si.name, "web");
	char kb[32];
	assert_int_equal(savefile_json_get(si.config, "b_info", "target_memkb", kb, sizeof(kb)), 0);
	assert_string_equal(kb, "262144");
	savefile_info_free(&si);

	struct hv_dominfo di = info(r, "web");
	assert_true(di.shutdown);
	assert_int_equal(di.reason, HV_SD_SUSPEND);
	assert_int_equal(mem_free(r), free_up);
	assert_int_equal(hv_sim_counts(r->hv, "web").saves, 1);
	destroy(r, d);
}

static void failed_save_resumes_the_guest_and_the_watch_stays_spent(void **state)
{
	struct rig *r = *state;
	sim(r, "[domain web]\nfail_saves = 1\n");
	uint32_t d = boot(r, "web");
	const char *file = save_path(r, "web.save");
	char tmp[160];
	snprintf(tmp, sizeof(tmp), "%s.tmp", file);
	uint64_t t = now(r);
	assert_int_equal(r->hv->ops->save(r->hv, d, file, 80), 0);
	expect_shutdown(r, d, HV_SD_SUSPEND, t);
	struct hv_event ev = next_event(r);
	assert_int_equal(ev.kind, HV_EV_OP_DONE);
	assert_int_equal(ev.rc, HV_EFAIL);
	assert_string_equal(ev.msg, "simulated save failure (1 of 1)");
	assert_int_equal(now(r), t + 100);
	assert_false(exists(file));
	assert_false(exists(tmp));
	assert_false(info(r, "web").shutdown);               /* resumed, runs on */

	/* libxl's evgen reported its one SHUTDOWN: a crash now goes unseen
	 * until the watch is renewed. */
	assert_int_equal(hv_sim_guest_shutdown(r->hv, d, HV_SD_CRASH), 0);
	expect_quiet(r);
	assert_int_equal(r->hv->ops->watch_domain(r->hv, d), 0);
	expect_shutdown(r, d, HV_SD_CRASH, now(r));
	destroy(r, d);

	/* The second save succeeds: only the first one was scripted to fail. */
	d = boot(r, "web");
	assert_int_equal(r->hv->ops->save(r->hv, d, file, 81), 0);
	expect_shutdown(r, d, HV_SD_SUSPEND, now(r));
	expect_op_done(r, 81, 0, now(r) + 100);
	assert_true(exists(file));
	destroy(r, d);
}

static void cancelled_save_removes_the_temporary_file(void **state)
{
	struct rig *r = *state;
	sim(r, "[domain web]\nsave_ms = 10000\n");
	uint32_t d = boot(r, "web");
	const char *file = save_path(r, "web.save");
	char tmp[160];
	snprintf(tmp, sizeof(tmp), "%s.tmp", file);
	assert_int_equal(r->hv->ops->save(r->hv, d, file, 90), 0);
	expect_shutdown(r, d, HV_SD_SUSPEND, now(r));
	run_until(r, now(r) + 5000);
	assert_true(exists(tmp));
	uint64_t t = now(r);
	r->hv->ops->cancel(r->hv, 90);
	assert_true(queue_empty(r));
	expect_op_done(r, 90, HV_ECANCELED, t);
	assert_false(exists(tmp));
	assert_false(exists(file));
	assert_false(info(r, "web").shutdown);
	destroy(r, d);
}

static void save_ms_minus_one_never_ends_until_cancelled(void **state)
{
	struct rig *r = *state;
	sim(r, "[domain web]\nsave_ms = -1\n");
	uint32_t d = boot(r, "web");
	const char *file = save_path(r, "web.save");
	assert_int_equal(r->hv->ops->save(r->hv, d, file, 91), 0);
	expect_shutdown(r, d, HV_SD_SUSPEND, now(r));
	expect_quiet_until(r, now(r) + 3600000);
	assert_int_equal(hv_sim_ops_in_flight(r->hv), 1);
	assert_true(info(r, "web").shutdown);
	uint64_t t = now(r);
	r->hv->ops->cancel(r->hv, 91);
	expect_op_done(r, 91, HV_ECANCELED, t);
	assert_false(exists(file));
	assert_false(info(r, "web").shutdown);      /* resumed */
	destroy(r, d);
}

static void save_to_a_missing_directory_fails_without_suspending(void **state)
{
	struct rig *r = *state;
	sim(r, NULL);
	uint32_t d = boot(r, "web");
	const char *file = save_path(r, "nodir/web.save");
	assert_int_equal(r->hv->ops->save(r->hv, d, file, 91), 0);
	struct hv_event ev = next_event(r);
	assert_int_equal(ev.kind, HV_EV_OP_DONE);
	assert_int_equal(ev.rc, HV_EFAIL);
	assert_non_null(strstr(ev.msg, "nodir/web.save.tmp"));
	assert_false(info(r, "web").shutdown);
	assert_int_equal(r->hv->ops->save(r->hv, 99, file, 92), HV_ENOENT);
	destroy(r, d);
}

static void destroy_during_a_save_fails_the_save(void **state)
{
	struct rig *r = *state;
	sim(r, NULL);
	uint32_t d = boot(r, "web");
	const char *file = save_path(r, "web.save");
	char tmp[160];
	snprintf(tmp, sizeof(tmp), "%s.tmp", file);
	assert_int_equal(r->hv->ops->save(r->hv, d, file, 93), 0);
	expect_shutdown(r, d, HV_SD_SUSPEND, now(r));
	assert_int_equal(r->hv->ops->destroy(r->hv, d, 94), 0);
	struct hv_event ev = next_event(r);
	assert_int_equal(ev.op, 93);
	assert_int_equal(ev.rc, HV_EFAIL);
	assert_non_null(strstr(ev.msg, "destroyed"));
	expect_kind(r, HV_EV_DEATH, d, now(r));
	expect_op_done(r, 94, 0, now(r));
	assert_false(exists(tmp));
	assert_false(exists(file));
	expect_quiet(r);
}

static void restore_brings_the_domain_back_paused(void **state)
{
	struct rig *r = *state;
	sim(r, "[domain web]\nsave_ms = 100\nrestore_ms = 900\nfail_restores = 1\n");
	uint32_t d = boot(r, "web");
	char file[160];
	snprintf(file, sizeof(file), "%s", save_path(r, "web.save"));
	assert_int_equal(r->hv->ops->save(r->hv, d, file, 100), 0);
	expect_shutdown(r, d, HV_SD_SUSPEND, now(r));
	expect_op_done(r, 100, 0, now(r) + 100);
	destroy(r, d);
	uint64_t free0 = mem_free(r);

	uint64_t t = now(r);
	assert_int_equal(r->hv->ops->restore(r->hv, dom(r, "web"), file, 101), 0);
	assert_true(queue_empty(r));
	struct hv_event ev = next_event(r);
	assert_int_equal(ev.rc, HV_EFAIL);
	assert_string_equal(ev.msg, "simulated restore failure (1 of 1)");
	assert_int_equal(now(r), t + 900);
	assert_int_equal(mem_free(r), free0);

	t = now(r);
	assert_int_equal(r->hv->ops->restore(r->hv, dom(r, "web"), file, 102), 0);
	ev = next_event(r);
	assert_int_equal(ev.op, 102);
	assert_int_equal(ev.rc, 0);
	assert_int_equal(ev.domid, 2);
	assert_int_equal(now(r), t + 900);
	struct hv_dominfo di = info(r, "web");
	assert_true(di.paused);
	assert_int_equal(di.cur_kb, 256 * 1024);
	assert_int_equal(mem_free(r), free0 - 256 * 1024);
	assert_int_equal(hv_sim_counts(r->hv, "web").restores, 2);

	/* data/ did not survive the save; the PV drivers come back. */
	assert_int_equal(r->hv->ops->watch_domain(r->hv, 2), 0);
	unpause(r, 2);
	run_until(r, now(r) + 1);
	char buf[8];
	assert_int_equal(r->hv->ops->read_key(r->hv, 2, "data/ready", buf, sizeof(buf)), HV_ENOENT);
	expect_key_value(r, 2, "control/feature-poweroff", "1");
	destroy(r, 2);
}

static void restore_refuses_bad_images_at_once(void **state)
{
	struct rig *r = *state;
	sim(r, NULL);
	const char *file = save_path(r, "bad.save");
	assert_int_equal(r->hv->ops->restore(r->hv, dom(r, "web"), file, 1), HV_ENOENT);
	FILE *f = fopen(file, "w");
	fputs("Xen saved domain, but not really\n", f);
	fclose(f);
	assert_int_equal(r->hv->ops->restore(r->hv, dom(r, "web"), file, 2), HV_EBADIMG);
	char msg[HV_MSG_MAX];
	assert_int_equal(r->hv->ops->image_check(r->hv, file, msg, sizeof(msg)), HV_EBADIMG);
	assert_non_null(strstr(msg, "bad.save"));
	assert_true(queue_empty(r));
	assert_int_equal(hv_sim_counts(r->hv, "web").restores, 0);
}

static void restore_takes_name_and_memory_from_the_image(void **state)
{
	struct rig *r = *state;
	sim(r, NULL);
	const char *file = save_path(r, "other.save");
	struct savefile_tx tx;
	char msg[HV_MSG_MAX];
	assert_int_equal(savefile_tx_begin(&tx, file, msg, sizeof(msg)), 0);
	assert_int_equal(savefile_write_header(tx.fd, "{\"c_info\":{\"type\":\"hvm\",\"name\":\"legacy\"},"
					       "\"b_info\":{\"target_memkb\":524288}}", msg, sizeof(msg)), 0);
	assert_int_equal(savefile_write_fake_stream(tx.fd, "x", msg, sizeof(msg)), 0);
	assert_int_equal(savefile_tx_commit(&tx, msg, sizeof(msg)), 0);
	assert_int_equal(r->hv->ops->restore(r->hv, dom(r, "web"), file, 1), 0);
	expect_op_done(r, 1, 0, T0 + 100);
	struct hv_dominfo di = info(r, "legacy");
	assert_int_equal(di.cur_kb, 524288);
	assert_true(di.hvm);
	assert_int_equal(hv_sim_counts(r->hv, "legacy").restores, 1);
	destroy(r, di.domid);
}

/* ---- cancel ---- */

static void cancel_ends_a_create_at_once(void **state)
{
	struct rig *r = *state;
	sim(r, "[domain web]\ncreate_ms = 5000\n");
	uint64_t free0 = mem_free(r);
	assert_int_equal(r->hv->ops->create(r->hv, dom(r, "web"), 1), 0);
	run_until(r, T0 + 1000);
	r->hv->ops->cancel(r->hv, 1);
	assert_true(queue_empty(r));
	expect_op_done(r, 1, HV_ECANCELED, T0 + 1000);
	r->hv->ops->cancel(r->hv, 1);                  /* gone: nothing happens */
	expect_quiet(r);
	assert_int_equal(mem_free(r), free0);
	assert_int_equal(hv_sim_find(r->hv, "web", &(struct hv_dominfo){ 0 }), HV_ENOENT);

	/* Too late for an unpause: it completes normally. */
	r->op = 1;
	uint32_t d = create(r, "web");
	assert_int_equal(r->hv->ops->unpause(r->hv, d, 2), 0);
	r->hv->ops->cancel(r->hv, 2);
	expect_op_done(r, 2, 0, now(r));
	destroy(r, d);
}

static void pending_and_late_shutdown_requests_fail(void **state)
{
	struct rig *r = *state;
	sim(r, "[domain web]\nready_ms = 10000\n");
	uint32_t d = boot(r, "web");
	assert_int_equal(r->hv->ops->shutdown(r->hv, d, 1), 0);
	run_until(r, now(r) + 500);
	assert_int_equal(r->hv->ops->destroy(r->hv, d, 2), 0);
	struct hv_event ev = next_event(r);
	assert_int_equal(ev.op, 1);                      /* never acknowledged */
	assert_int_equal(ev.rc, HV_EFAIL);
	assert_non_null(strstr(ev.msg, "destroyed"));
	expect_kind(r, HV_EV_DEATH, d, now(r));
	expect_op_done(r, 2, 0, now(r));

	d = boot(r, "web");
	assert_int_equal(hv_sim_guest_shutdown(r->hv, d, HV_SD_CRASH), 0);
	expect_shutdown(r, d, HV_SD_CRASH, now(r));
	/* a husk being destroyed: a new watch hears only of its death */
	r->hv->ops->unwatch_domain(r->hv, d);
	assert_int_equal(r->hv->ops->shutdown(r->hv, d, 3), 0);
	expect_no_op_done_queued(r);
	expect_op_done(r, 3, HV_EFAIL, now(r));
	assert_int_equal(r->hv->ops->save(r->hv, d, save_path(r, "x.save"), 4), 0);
	expect_op_done(r, 4, HV_EFAIL, now(r));
	assert_false(exists(r->path));
	assert_int_equal(r->hv->ops->destroy(r->hv, d, 5), 0);
	assert_int_equal(r->hv->ops->watch_domain(r->hv, d), 0);
	expect_kind(r, HV_EV_DEATH, d, now(r));
	expect_op_done(r, 5, 0, now(r));
	expect_quiet(r);
}

static void unknown_domids_are_enoent(void **state)
{
	struct rig *r = *state;
	sim(r, NULL);
	const struct hv_ops *o = r->hv->ops;
	char buf[8];
	for (uint32_t domid = 0; domid < 3; domid += 2) {
		assert_int_equal(o->unpause(r->hv, domid, 1), HV_ENOENT);
		assert_int_equal(o->shutdown(r->hv, domid, 1), HV_ENOENT);
		assert_int_equal(o->power_button(r->hv, domid), HV_ENOENT);
		assert_int_equal(o->destroy(r->hv, domid, 1), HV_ENOENT);
		assert_int_equal(o->save(r->hv, domid, save_path(r, "x"), 1), HV_ENOENT);
		assert_int_equal(o->core_dump(r->hv, domid, save_path(r, "x"), 1), HV_ENOENT);
		assert_int_equal(o->rename(r->hv, domid, "x"), HV_ENOENT);
		assert_int_equal(o->watch_domain(r->hv, domid), HV_ENOENT);
		assert_int_equal(o->watch_key(r->hv, domid, "data"), HV_ENOENT);
		assert_int_equal(o->read_key(r->hv, domid, "data", buf, sizeof(buf)), HV_ENOENT);
		o->unwatch_domain(r->hv, domid);
		o->unwatch_key(r->hv, domid, "data");
	}
	assert_true(queue_empty(r));
	assert_int_equal(hv_sim_ops_in_flight(r->hv), 0);
	/* a dying domain takes no new work, but a second destroy is fine */
	uint32_t d = create(r, "web");
	assert_int_equal(o->destroy(r->hv, d, 10), 0);
	assert_int_equal(o->unpause(r->hv, d, 11), HV_ENOENT);
	assert_int_equal(o->watch_key(r->hv, d, "data"), HV_ENOENT);
	assert_int_equal(o->destroy(r->hv, d, 12), 0);
	assert_int_equal(o->watch_domain(r->hv, d), 0);
	expect_kind(r, HV_EV_DEATH, d, now(r));
	expect_op_done(r, 10, 0, now(r));
	expect_op_done(r, 12, 0, now(r));
	expect_quiet(r);
}

/* ---- keys ---- */

static void key_watches_and_reads_are_bounded(void **state)
{
	struct rig *r = *state;
	sim(r, NULL);
	uint32_t d = create(r, "web");
	assert_int_equal(r->hv->ops->watch_key(r->hv, d, "data"), 0);
	expect_key(r, d, "data");
	assert_int_equal(hv_sim_guest_write(r->hv, d, "data/agent/state", "up"), 0);
	expect_key(r, d, "data");                         /* a key below fires it */
	assert_int_equal(hv_sim_guest_write(r->hv, d, "database", "x"), 0);
	assert_true(queue_empty(r));                      /* a sibling does not */

	char big[5000];
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(hv_sim_guest_write(r->hv, d, "data/big", big), HV_ETOOBIG);
	big[4096] = '\0';
	assert_int_equal(hv_sim_guest_write(r->hv, d, "data/big", big), 0);
	expect_key(r, d, "data");
	char buf[16];
	assert_int_equal(r->hv->ops->read_key(r->hv, d, "data/big", buf, sizeof(buf)), HV_ETOOBIG);
	assert_int_equal(r->hv->ops->read_key(r->hv, d, "data/agent/state", buf, 3), 0);
	assert_string_equal(buf, "up");
	assert_int_equal(r->hv->ops->read_key(r->hv, d, "data/agent/state", buf, 2), HV_ETOOBIG);
	assert_int_equal(r->hv->ops->read_key(r->hv, d, "data/nope", buf, sizeof(buf)), HV_ENOENT);
	assert_int_equal(r->hv->ops->read_key(r->hv, 99, "data", buf, sizeof(buf)), HV_ENOENT);
	assert_int_equal(hv_sim_guest_write(r->hv, 99, "data/x", "1"), HV_ENOENT);

	int rc = 0;
	for (int i = 0; i < 1100 && rc == 0; i++) {
		char path[32];
		snprintf(path, sizeof(path), "data/flood/%d", i);
		rc = hv_sim_guest_write(r->hv, d, path, "x");
	}
	assert_int_equal(rc, HV_ETOOBIG);                 /* xenstored's quota */
	assert_int_equal(hv_sim_guest_write(r->hv, d, "data/flood/1", "y"), 0);
	struct hv_event ev;
	while (hv_next_event(r->hv, &ev))
		;
	r->hv->ops->unwatch_key(r->hv, d, "data");
	assert_int_equal(hv_sim_guest_write(r->hv, d, "data/agent/state", "down"), 0);
	assert_true(queue_empty(r));
	destroy(r, d);
}

/* ---- adoption ---- */

static void running_domains_are_there_from_the_start(void **state)
{
	struct rig *r = *state;
	sim(r, "[sim]\nfree_memory_mb = 8192\n"
	       "[domain db]\nrunning = yes\ncrash_after_ms = 2000\n"
	       "[domain orphan]\nrunning = yes\n");
	struct hv_dominfo *v;
	size_t n;
	assert_int_equal(r->hv->ops->list(r->hv, &v, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(v[0].domid, 1);
	assert_string_equal(v[0].name, "db");
	assert_false(v[0].paused);
	assert_false(v[0].shutdown);
	assert_int_equal(v[0].cur_kb, 512 * 1024);       /* from its xl cfg */
	assert_int_equal(v[1].domid, 2);
	assert_string_equal(v[1].name, "orphan");
	assert_int_equal(v[1].cur_kb, 128 * 1024);       /* not configured: xl's default */
	free(v);
	assert_int_equal(mem_free(r), (8192ull - 512 - 128) * 1024);
	expect_key_value(r, 1, "data/ready", "1");
	expect_key_value(r, 1, "control/feature-poweroff", "1");
	assert_int_equal(hv_sim_counts(r->hv, "db").creates, 0);

	assert_int_equal(r->hv->ops->watch_domain(r->hv, 1), 0);
	expect_shutdown(r, 1, HV_SD_CRASH, T0 + 2000);
	destroy(r, 1);
	destroy(r, 2);
	assert_int_equal(create(r, "web"), 3);
}

/* ---- rename, core dump ---- */

static void rename_and_core_dump(void **state)
{
	struct rig *r = *state;
	sim(r, NULL);
	uint32_t w = boot(r, "web");
	uint32_t b = create(r, "db");
	assert_int_equal(r->hv->ops->rename(r->hv, w, "db"), HV_EFAIL);
	assert_int_equal(r->hv->ops->rename(r->hv, w, "web--1"), 0);
	expect_key_value(r, w, "name", "web--1");
	assert_int_equal(info(r, "web--1").domid, w);
	assert_int_equal(r->hv->ops->rename(r->hv, 99, "x"), HV_ENOENT);

	const char *file = save_path(r, "web.core");
	assert_int_equal(r->hv->ops->core_dump(r->hv, w, file, 5), 0);
	assert_true(queue_empty(r));
	expect_op_done(r, 5, 0, now(r));
	FILE *f = fopen(file, "r");
	assert_non_null(f);
	char line[128] = "";
	assert_non_null(fgets(line, sizeof(line), f));
	fclose(f);
	assert_non_null(strstr(line, "web--1"));
	assert_int_equal(r->hv->ops->core_dump(r->hv, w, save_path(r, "no/dir"), 6), 0);
	expect_op_done(r, 6, HV_EFAIL, now(r));
	destroy(r, w);
	destroy(r, b);
}

/* Thousands of domains: names and domids stay indexed correctly. */
static void many_domains(void **state)
{
	struct rig *r = *state;
	enum { N = 3000 };
	size_t len = 64 * N + 64, at = 0;
	char *text = malloc(len);
	at += (size_t)snprintf(text + at, len - at, "[sim]\nfree_memory_mb = %d\n", N * 128);
	for (int i = 0; i < N; i++)
		at += (size_t)snprintf(text + at, len - at, "[domain g%d]\ncreate_ms = %d\n", i, 1 + i % 7);
	sim(r, text);
	free(text);
	struct xd_domain_cfg *cfgs = calloc(N, sizeof(*cfgs));
	for (int i = 0; i < N; i++) {
		snprintf(cfgs[i].name, XD_NAME_MAX, "g%d", i);
		cfgs[i].memory_mb = 128;
		assert_int_equal(r->hv->ops->create(r->hv, &cfgs[i], (uint64_t)i + 1), 0);
	}
	for (int i = 0; i < N; i++) {
		struct hv_event ev = next_event(r);
		assert_int_equal(ev.rc, 0);
	}
	assert_int_equal(mem_free(r), 0);
	/* destroy every other one, rename a survivor */
	for (int i = 0; i < N; i += 2) {
		struct hv_dominfo di = info(r, cfgs[i].name);
		assert_int_equal(r->hv->ops->destroy(r->hv, di.domid, 100000 + (uint64_t)i), 0);
	}
	while (step(r))
		;
	struct hv_event ev;
	while (hv_next_event(r->hv, &ev))
		;
	struct hv_dominfo g1 = info(r, "g1");
	assert_int_equal(r->hv->ops->rename(r->hv, g1.domid, "g0"), 0);   /* g0 is gone */
	assert_int_equal(info(r, "g0").domid, g1.domid);
	assert_int_equal(hv_sim_find(r->hv, "g1", &g1), HV_ENOENT);
	struct hv_dominfo *v;
	size_t n;
	assert_int_equal(r->hv->ops->list(r->hv, &v, &n), 0);
	assert_int_equal(n, N / 2);
	for (size_t i = 1; i < n; i++)
		assert_true(v[i - 1].domid < v[i].domid);
	free(v);
	assert_int_equal(mem_free(r), (uint64_t)N / 2 * 128 * 1024);
	assert_int_equal(r->hv->ops->create(r->hv, &cfgs[2], 1), 0);
	expect_op_done(r, 1, 0, now(r) + 1 + 2 % 7);
	free(cfgs);
}

/* ---- scenario errors ---- */

static void scenario_errors_name_file_and_line(void **state)
{
	struct rig *r = *state;
	const struct { const char *text, *want; } cases[] = {
		{ "[sim]\nfree_memory_mb = lots\n", ":2: free_memory_mb: bad value 'lots'" },
		{ "[sim]\nswap_mb = 1\n", ":2: unknown key 'swap_mb' in [sim]" },
		{ "; c\n\n[domain web]\ncreate_ms = -5\n", ":4: create_ms: bad value '-5'" },
		{ "[domain web]\ncreate_ms = 10ms\n", ":2: create_ms: bad value '10ms'" },
		{ "[domain web]\nshutdown_ms = -2\n", ":2: shutdown_ms: bad value '-2'" },
		{ "[domain web]\npv_drivers = maybe\n", ":2: pv_drivers: bad value 'maybe' (expected yes or no)" },
		{ "[domain web]\ncolour = red\n", ":2: unknown key 'colour' in [domain web]" },
		{ "[domain web]\nready_ms = 1\n[domain]\nready_ms = 1\n", ":4: bad domain name in [domain]" },
		{ "[domain a b]\nready_ms = 1\n", ":2: bad domain name in [domain a b]" },
		{ "[host]\nx = 1\n", ":2: unknown section [host]" },
		{ "x = 1\n", ":1: 'x' outside a section" },
		{ "[sim]\nfree_memory_mb 5\n", ":2: syntax error" },
		{ "[domain web]\npv_drivers = no\nhvm = no\n", ":1: [domain web]: pv_drivers = no needs hvm = yes" },
		{ "[sim]\nfree_memory_mb = 100\n[domain big]\nrunning = yes\n",
		  ":3: running domain big needs 4096 MiB, only 100 MiB free" },
		{ "[domain aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa]\nready_ms = 1\n",
		  ":2: section header too long" },
		{ "[domain web]\nxs_write_key = d\nxs_write_hz = 1001\n",
		  ":3: xs_write_hz: bad value '1001' (expected writes per second, at most 1000)" },
		{ "[domain web]\nxs_write_key = d\nxs_write_hz = 1\nxs_write_len = 4097\n",
		  ":4: xs_write_len: bad value '4097'" },
		{ "[domain web]\nxs_write_key = /local/domain/1/d\n", ":2: xs_write_key: bad value" },
		{ "[domain web]\nxs_write_key = data/x\n",
		  ":1: [domain web]: xs_write_key needs xs_write_hz or xs_flap_ms" },
		{ "[domain web]\nxs_write_hz = 5\n",
		  ":1: [domain web]: xs_write_* and xs_flap_ms need xs_write_key" },
		{ "[domain web]\nxs_write_key = d\nxs_flap_ms = 9\nxs_write_value = a\nxs_write_len = 3\n",
		  ":1: [domain web]: xs_write_value and xs_write_len are exclusive" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char err[512] = "", want[600];
		const char *path = write_scenario(r, cases[i].text);
		assert_null(hv_sim_new(path, &r->cfg, &r->timers, err, sizeof(err)));
		snprintf(want, sizeof(want), "%s%s", path, cases[i].want);
		if (strncmp(err, want, strlen(want)) != 0)
			fail_msg("case %zu: got '%s', want '%s'", i, err, want);
	}
	char err[512] = "";
	assert_null(hv_sim_new(save_path(r, "none.ini"), &r->cfg, &r->timers, err, sizeof(err)));
	assert_non_null(strstr(err, "none.ini: No such file"));
	assert_int_equal(xd_timers_next(&r->timers), XD_NEVER);   /* nothing left armed */
}

static void scenario_accepts_every_documented_key(void **state)
{
	struct rig *r = *state;
	sim(r, "# all keys\n[sim]\nfree_memory_mb = 4096\n"
	       "[domain web]   ; the web server\n"
	       "create_ms = 1\nfail_creates = 0\nready_ms = 2\npv_drivers = yes\n"
	       "shutdown_ms = -1\nsave_ms = 3\ncrash_after_ms = 0\nreboot_after_ms = 0\n"
	       "running = no\nfail_saves = 0\nfail_restores = 0\nrestore_ms = 4\nhvm = yes\n"
	       "[domain db]\nxs_write_key = data/x\nxs_write_hz = 1\nxs_write_value = v\n"
	       "xs_flap_ms = 5000\n"
	       "[domain win]\nxs_write_key = data/y\nxs_write_hz = 1000\nxs_write_len = 4096\n");
	assert_int_equal(mem_free(r), 4096ull * 1024);
	assert_int_equal(create(r, "web"), 1);
	assert_int_equal(now(r), T0 + 1);
	assert_true(info(r, "web").hvm);
	destroy(r, 1);
}

static void later_scenario_values_override_earlier_ones(void **state)
{
	struct rig *r = *state;
	sim(r, "[sim]\nfree_memory_mb = 65536\n[domain web]\ncreate_ms = 10\nready_ms = 5\n"
	       "[sim]\nfree_memory_mb = 1000\n[domain web]\ncreate_ms = 30\n");
	assert_int_equal(mem_free(r), 1000ull * 1024);
	uint32_t d = create(r, "web");
	assert_int_equal(now(r), T0 + 30);
	assert_int_equal(r->hv->ops->watch_key(r->hv, d, "data/ready"), 0);
	expect_key(r, d, "data/ready");
	unpause(r, d);
	uint64_t t = now(r);
	expect_key(r, d, "data/ready");          /* ready_ms = 5 still holds */
	assert_int_equal(now(r), t + 5);
	destroy(r, d);
}

/* ---- determinism ---- */

struct trace_entry {
	uint64_t at;
	struct hv_event ev;
};

static size_t run_script(struct rig *r, struct trace_entry *out, size_t max)
{
	size_t n = 0;
	struct hv *hv = r->hv;
	const char *names[] = { "web", "db", "win" };
	for (size_t i = 0; i < 3; i++)
		hv->ops->create(hv, dom(r, names[i]), i + 1);
	for (;;) {
		struct hv_event ev;
		while (hv_next_event(hv, &ev)) {
			assert_true(n < max);
			out[n++] = (struct trace_entry){ now(r), ev };
			if (ev.kind == HV_EV_OP_DONE && ev.op <= 3 && ev.rc == 0) {
				hv->ops->watch_domain(hv, ev.domid);
				hv->ops->watch_key(hv, ev.domid, "data/ready");
				hv->ops->unpause(hv, ev.domid, ev.op + 10);
			}
			if (ev.kind == HV_EV_SHUTDOWN)
				hv->ops->destroy(hv, ev.domid, 100 + ev.domid);
		}
		if (!step(r))
			return n;
	}
}

static void runs_are_deterministic(void **state)
{
	struct rig *r = *state;
	static const char scenario[] =
		"[domain web]\ncreate_ms = 300\nready_ms = 50\ncrash_after_ms = 700\n"
		"[domain db]\ncreate_ms = 300\nready_ms = 50\nreboot_after_ms = 700\n"
		"[domain win]\ncreate_ms = 300\nfail_creates = 1\n";
	static struct trace_entry a[256], b[256];
	sim(r, scenario);
	size_t na = run_script(r, a, 256);
	r->hv->ops->free(r->hv);
	xd_timers_free(&r->timers);
	xd_timers_init(&r->timers, T0);
	sim(r, scenario);
	size_t nb = run_script(r, b, 256);
	assert_int_equal(na, nb);
	assert_true(na > 12);
	for (size_t i = 0; i < na; i++) {
		assert_int_equal(a[i].at, b[i].at);
		assert_int_equal(a[i].ev.kind, b[i].ev.kind);
		assert_int_equal(a[i].ev.op, b[i].ev.op);
		assert_int_equal(a[i].ev.rc, b[i].ev.rc);
		assert_int_equal(a[i].ev.domid, b[i].ev.domid);
		assert_int_equal(a[i].ev.reason, b[i].ev.reason);
		assert_string_equal(a[i].ev.path, b[i].ev.path);
		assert_string_equal(a[i].ev.msg, b[i].ev.msg);
	}
	/* equal deadlines keep call order: web's create completes first */
	assert_int_equal(a[0].ev.op, 1);
	assert_int_equal(a[0].at, T0 + 300);
}

/* ---- hostile guests: scripted XenStore writes ---- */

static unsigned key_events_until(struct rig *r, uint64_t at)
{
	unsigned n = 0;
	struct hv_event ev;
	while (xd_timers_next(&r->timers) <= at) {
		step(r);
		while (hv_next_event(r->hv, &ev))
			n += ev.kind == HV_EV_KEY;
	}
	xd_timers_run(&r->timers, at);
	while (hv_next_event(r->hv, &ev))
		n += ev.kind == HV_EV_KEY;
	return n;
}

static void scripted_writes_come_at_xs_write_hz_until_shutdown(void **state)
{
	struct rig *r = *state;
	sim(r, "[domain web]\nready_ms = 3600000\n"
	       "xs_write_key = data/ready\nxs_write_hz = 100\nxs_write_value = not yet\n");
	uint32_t d = boot(r, "web");
	uint64_t t = now(r);
	char buf[64];
	assert_int_equal(r->hv->ops->watch_key(r->hv, d, "data/ready"), 0);
	expect_key(r, d, "data/ready");                          /* the watch's first event */
	assert_int_equal(r->hv->ops->read_key(r->hv, d, "data/ready", buf, sizeof(buf)), HV_ENOENT);
	assert_int_equal(key_events_until(r, t + 9), 0);        /* first write after 10 ms */
	assert_int_equal(key_events_until(r, t + 1000), 100);
	assert_int_equal(hv_sim_counts(r->hv, "web").xs_writes, 100);
	assert_int_equal(r->hv->ops->read_key(r->hv, d, "data/ready", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "not yet");
	assert_int_equal(hv_sim_counts(r->hv, "web").key_reads, 2);
	assert_int_equal(hv_sim_guest_shutdown(r->hv, d, HV_SD_POWEROFF), 0);
	expect_shutdown(r, d, HV_SD_POWEROFF, t + 1000);
	assert_int_equal(key_events_until(r, t + 5000), 0);     /* a shut-down guest writes nothing */
	assert_int_equal(hv_sim_counts(r->hv, "web").xs_writes, 100);
	destroy(r, d);
}

/* Fill buf with 0xa5, read key into its first len bytes. */
static int read_guarded(struct rig *r, uint32_t d, const char *key, unsigned char *buf,
			size_t size, size_t len)
{
	memset(buf, 0xa5, size);
	return r->hv->ops->read_key(r->hv, d, key, (char *)buf, len);
}

static void assert_untouched(const unsigned char *buf, size_t from, size_t to)
{
	for (size_t i = from; i < to; i++)
		if (buf[i] != 0xa5)
			fail_msg("byte %zu written (0x%02x)", i, buf[i]);
}

/* A value of any length and bytes: it fits the reader's buffer with its
 * NUL, or the read is HV_ETOOBIG and the buffer is not written at all. */
static void long_values_are_etoobig_never_an_overrun(void **state)
{
	struct rig *r = *state;
	sim(r, "[domain web]\nxs_write_key = data/v\nxs_write_hz = 1\nxs_write_len = 255\n"
	       "[domain db]\nxs_write_key = data/v\nxs_write_hz = 1\nxs_write_len = 256\n"
	       "[domain win]\nxs_write_key = data/v\nxs_write_hz = 1\nxs_write_len = 4096\n");
	uint32_t web = boot(r, "web"), db = boot(r, "db"), win = boot(r, "win");
	run_until(r, now(r) + 1000);
	while (hv_next_event(r->hv, &(struct hv_event){ 0 }))
		;
	static unsigned char buf[4096 + 64];
	assert_int_equal(read_guarded(r, web, "data/v", buf, sizeof(buf), 256), 0);
	for (size_t i = 0; i < 255; i++)
		assert_int_equal(buf[i], 1 + i % 255);           /* every byte value but NUL */
	assert_int_equal(buf[255], 0);
	assert_untouched(buf, 256, sizeof(buf));
	assert_int_equal(read_guarded(r, db, "data/v", buf, sizeof(buf), 256), HV_ETOOBIG);
	assert_untouched(buf, 0, sizeof(buf));
	assert_int_equal(read_guarded(r, db, "data/v", buf, sizeof(buf), 257), 0);
	assert_int_equal(buf[255], 1);                           /* the pattern wraps after 255 */
	assert_int_equal(buf[256], 0);
	assert_int_equal(read_guarded(r, win, "data/v", buf, sizeof(buf), 256), HV_ETOOBIG);
	assert_untouched(buf, 0, sizeof(buf));
	assert_int_equal(read_guarded(r, win, "data/v", buf, sizeof(buf), 4096), HV_ETOOBIG);
	assert_int_equal(read_guarded(r, win, "data/v", buf, sizeof(buf), 4097), 0);
	assert_int_equal(strlen((char *)buf), 4096);
	assert_untouched(buf, 4097, sizeof(buf));
	/* Past XenStore's payload limit a guest's write is refused. */
	memset(buf, 'x', 4097);
	buf[4097] = 0;
	assert_int_equal(hv_sim_guest_write(r->hv, win, "data/v", (char *)buf), HV_ETOOBIG);
	destroy(r, web);
	destroy(r, db);
	destroy(r, win);
}

static void a_flapping_key_appears_and_disappears(void **state)
{
	struct rig *r = *state;
	sim(r, "[domain web]\nxs_write_key = data/up\nxs_flap_ms = 50\nxs_write_value = 1\n");
	uint32_t d = boot(r, "web");
	uint64_t t = now(r);
	char buf[8];
	assert_int_equal(r->hv->ops->watch_key(r->hv, d, "data"), 0);
	expect_key(r, d, "data");
	for (unsigned i = 1; i <= 6; i++) {
		assert_int_equal(key_events_until(r, t + 50 * i - 1), 0);
		assert_int_equal(key_events_until(r, t + 50 * i), 1);   /* the parent's watch fires */
		int rc = r->hv->ops->read_key(r->hv, d, "data/up", buf, sizeof(buf));
		assert_int_equal(rc, i % 2 ? 0 : HV_ENOENT);
	}
	assert_int_equal(hv_sim_counts(r->hv, "web").xs_writes, 3);
	destroy(r, d);
}

/* With xs_write_hz too, the rewrites happen only while the key exists. */
static void flapping_and_rewriting_together(void **state)
{
	struct rig *r = *state;
	sim(r, "[domain web]\nxs_write_key = data/up\nxs_flap_ms = 100\nxs_write_hz = 100\n");
	uint32_t d = boot(r, "web");
	uint64_t t = now(r);
	run_until(r, t + 1000);
	/* Present in [100, 200), [300, 400), ... [900, 1000): each time one
	 * write as it appears and the ten rewrites at 100, 110, ... 190 (at a
	 * shared tick the flap, armed earlier, goes first). */
	assert_int_equal(hv_sim_counts(r->hv, "web").xs_writes, 5 * 11);
	destroy(r, d);
}

/* A guest running before the sim started writes from the start. */
static void a_running_guest_writes_from_the_start(void **state)
{
	struct rig *r = *state;
	sim(r, "[domain web]\nrunning = yes\nxs_write_key = data/x\nxs_write_hz = 10\n");
	run_until(r, T0 + 999);
	assert_int_equal(hv_sim_counts(r->hv, "web").xs_writes, 9);
	run_until(r, T0 + 1000);
	assert_int_equal(hv_sim_counts(r->hv, "web").xs_writes, 10);
	destroy(r, 1);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, rig_setup, rig_teardown)
	const struct CMUnitTest tests[] = {
		T(create_takes_create_ms_and_leaves_domain_paused),
		T(libxl_leaves_guest_nodes_empty_until_the_guest_writes),
		T(domids_increase_and_are_never_reused),
		T(fail_creates_fails_the_first_n_attempts),
		T(create_fails_when_memory_is_short_at_completion),
		T(create_of_an_existing_name_fails_at_once),
		T(unpause_of_a_shut_down_domain_fails),
		T(pv_shutdown_is_acknowledged_then_powers_off),
		T(pv_shutdown_before_drivers_waits_for_them),
		T(unacknowledged_shutdown_times_out_after_60s),
		T(guest_that_ignores_shutdown_never_goes_down),
		T(hvm_without_pv_drivers_needs_the_power_button),
		T(hvm_has_pv_control_only_once_its_drivers_are_up),
		T(power_button_fails_on_pv),
		T(crash_and_reboot_come_after_every_unpause),
		T(shutdown_is_reported_once_per_watch),
		T(unwatched_domains_report_nothing),
		T(save_suspends_writes_an_xl_image_and_leaves_a_husk),
		T(failed_save_resumes_the_guest_and_the_watch_stays_spent),
		T(save_ms_minus_one_never_ends_until_cancelled),
		T(cancelled_save_removes_the_temporary_file),
		T(save_to_a_missing_directory_fails_without_suspending),
		T(destroy_during_a_save_fails_the_save),
		T(restore_brings_the_domain_back_paused),
		T(restore_refuses_bad_images_at_once),
		T(restore_takes_name_and_memory_from_the_image),
		T(cancel_ends_a_create_at_once),
		T(pending_and_late_shutdown_requests_fail),
		T(unknown_domids_are_enoent),
		T(key_watches_and_reads_are_bounded),
		T(running_domains_are_there_from_the_start),
		T(rename_and_core_dump),
		T(many_domains),
		T(scenario_errors_name_file_and_line),
		T(scenario_accepts_every_documented_key),
		T(later_scenario_values_override_earlier_ones),
		T(runs_are_deterministic),
		T(scripted_writes_come_at_xs_write_hz_until_shutdown),
		T(long_values_are_etoobig_never_an_overrun),
		T(a_flapping_key_appears_and_disappears),
		T(flapping_and_rewriting_together),
		T(a_running_guest_writes_from_the_start),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
