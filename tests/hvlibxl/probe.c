/* SPDX-License-Identifier: ISC */
/*
 * xendomd-libxl-probe: drives the libxl backend alone (no engine) through
 * a whole guest life on real Xen, for the lab (scenarios/libxl-probe.sh):
 *
 *   probe SAVE_DIR [!]NAME=XL_CFG...
 *
 * Every NAME is created at once (several creates in flight), unpaused and
 * watched; readiness is data/ready=1 through a XenStore watch.  A "!"
 * domain must fail to create, with a reason, and leave nothing behind.
 * Once all are ready the first one is saved (SHUTDOWN suspend, destroy,
 * DEATH), its image checked and restored (running again, same name), then
 * every domain is shut down with a PV request, destroyed at SHUTDOWN, and
 * the probe ends when all are DEATH.  Results are "@@XT" marker lines on
 * stdout; exit 0 only if every step happened as the port promises.
 */
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "evloop/loop.h"
#include "hv/libxl/hv_libxl.h"
#include "util/log.h"

#define MAX_DOMS 8
#define PROBE_TIMEOUT_MS (600 * 1000)

enum step { S_CREATING, S_BOOTING, S_READY, S_SAVING, S_SAVED, S_RESTORING, S_RUNNING,
	    S_STOPPING, S_DESTROYING, S_GONE, S_FAILED_AS_EXPECTED };

struct dom {
	struct xd_domain_cfg cfg;
	bool must_fail;
	enum step step;
	uint32_t domid;
	uint64_t t_start, t_ready;
	bool saw_suspend;
};

static struct probe {
	struct xd_loop *loop;
	struct hv *hv;
	struct dom d[MAX_DOMS];
	size_t n;
	const char *save_dir;
	char image[4096];
	uint64_t t0, t_save, t_restore, t_halt;
	int failed;
	struct xd_timer deadline;
} P;

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void fail(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	printf("@@XT PROBE_FAIL ");
	vprintf(fmt, ap);
	printf("\n");
	va_end(ap);
	fflush(stdout);
	P.failed = 1;
	xd_loop_quit(P.loop, 1);
}

static void mark(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void mark(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	printf("@@XT ");
	vprintf(fmt, ap);
	printf(" t=%.2f\n", (double)(xd_loop_clock() - P.t0) / 1000.0);
	va_end(ap);
	fflush(stdout);
}

static double secs(uint64_t ms) { return (double)ms / 1000.0; }

/* The backend's log (util/log.h) on stderr; debug lines are not sunk. */
static void log_line(void *ctx, enum xd_log_level lvl, const char *domain, long domid,
		     const char *msg)
{
	(void)ctx;
	fprintf(stderr, "libxl[%d] %s(%ld): %s\n", (int)lvl, domain ? domain : "-", domid, msg);
}

/* op ids: domain index * 16 + what, so an event names its domain and op */
enum what { W_CREATE = 1, W_UNPAUSE, W_SAVE, W_DESTROY_SAVED, W_SHUTDOWN, W_RESTORE, W_DESTROY };
static uint64_t op_of(size_t i, enum what w) { return (uint64_t)i * 16 + w; }
static struct dom *dom_of_op(uint64_t op) { return &P.d[op / 16]; }
static enum what what_of_op(uint64_t op) { return (enum what)(op % 16); }

static struct dom *dom_of_domid(uint32_t domid)
{
	for (size_t i = 0; i < P.n; i++)
		if (P.d[i].domid == domid && P.d[i].step != S_GONE)
			return &P.d[i];
	return NULL;
}

static size_t idx(const struct dom *d) { return (size_t)(d - P.d); }

static bool all_in(enum step s)
{
	for (size_t i = 0; i < P.n; i++)
		if (!P.d[i].must_fail && P.d[i].step != s)
			return false;
	return true;
}

static void check(int rc, const char *what, const struct dom *d)
{
	if (rc < 0)
		fail("%s %s: %s", what, d->cfg.name, hv_strerror(rc));
}

static bool listed(const char *name)
{
	struct hv_dominfo *v;
	size_t n;
	bool found = false;
	if (P.hv->ops->list(P.hv, &v, &n) < 0)
		return false;
	for (size_t i = 0; i < n; i++)
		found |= !strcmp(v[i].name, name);
	free(v);
	return found;
}

static void start_halt(void)
{
	P.t_halt = xd_loop_clock();
	mark("PROBE_HALT_START");
	for (size_t i = 0; i < P.n; i++) {
		struct dom *d = &P.d[i];
		if (d->must_fail)
			continue;
		d->step = S_STOPPING;
		check(P.hv->ops->shutdown(P.hv, d->domid, op_of(i, W_SHUTDOWN)), "shutdown", d);
	}
}

static void all_ready(void)
{
	mark("PROBE_ALL_READY");
	struct dom *d = P.d;
	while (d->must_fail)
		d++;
	snprintf(P.image, sizeof(P.image), "%s/%s", P.save_dir, d->cfg.name);
	d->step = S_SAVING;
	P.t_save = xd_loop_clock();
	check(P.hv->ops->save(P.hv, d->domid, P.image, op_of(idx(d), W_SAVE)), "save", d);
}

static void became_ready(struct dom *d)
{
	d->step = S_READY;
	d->t_ready = xd_loop_clock();
	P.hv->ops->unwatch_key(P.hv, d->domid, "data/ready");
	mark("PROBE_READY name=%s domid=%u create_to_ready_s=%.2f", d->cfg.name, d->domid,
	     secs(d->t_ready - d->t_start));
	if (all_in(S_READY))
		all_ready();
}

static void on_key(const struct hv_event *ev)
{
	struct dom *d = dom_of_domid(ev->domid);
	char v[8];
	if (!d || d->step != S_BOOTING)
		return;
	int rc = P.hv->ops->read_key(P.hv, d->domid, "data/ready", v, sizeof(v));
	if (rc == 0 && !strcmp(v, "1"))
		became_ready(d);
}

static void restored_running(struct dom *d)
{
	struct hv_dominfo *v;
	size_t n;
	bool running = false;
	check(P.hv->ops->list(P.hv, &v, &n), "list", d);
	for (size_t i = 0; i < n; i++)
		if (v[i].domid == d->domid)
			running = !v[i].paused && !v[i].shutdown && !strcmp(v[i].name, d->cfg.name);
	free(v);
	if (!running) {
		fail("restored %s is not running under its name", d->cfg.name);
		return;
	}
	d->step = S_READY;
	mark("PROBE_RESTORED name=%s domid=%u restore_s=%.2f", d->cfg.name, d->domid,
	     secs(xd_loop_clock() - P.t_restore));
	start_halt();
}

static void on_created(struct dom *d, const struct hv_event *ev)
{
	if (d->must_fail) {
		if (ev->rc == 0 || !ev->msg[0] || listed(d->cfg.name)) {
			fail("%s: create must fail with a reason and leave nothing (rc %d, msg '%s')",
			     d->cfg.name, ev->rc, ev->msg);
			return;
		}
		d->step = S_FAILED_AS_EXPECTED;
		mark("PROBE_CREATE_FAILED_AS_EXPECTED name=%s", d->cfg.name);
		printf("probe: reason: %s\n", ev->msg);
		return;
	}
	if (ev->rc < 0) {
		fail("%s %s: %s", d->step == S_CREATING ? "create" : "restore", d->cfg.name,
		     ev->msg[0] ? ev->msg : hv_strerror(ev->rc));
		return;
	}
	d->domid = ev->domid;
	d->step = S_BOOTING;
	mark("PROBE_CREATED name=%s domid=%u", d->cfg.name, d->domid);
	check(P.hv->ops->watch_domain(P.hv, d->domid), "watch_domain", d);
	check(P.hv->ops->unpause(P.hv, d->domid, op_of(idx(d), W_UNPAUSE)), "unpause", d);
}

static void on_done(const struct hv_event *ev)
{
	struct dom *d = dom_of_op(ev->op);
	if (ev->rc < 0 && what_of_op(ev->op) != W_CREATE && what_of_op(ev->op) != W_RESTORE) {
		fail("op %d of %s: %s", (int)what_of_op(ev->op), d->cfg.name,
		     ev->msg[0] ? ev->msg : hv_strerror(ev->rc));
		return;
	}
	switch (what_of_op(ev->op)) {
	case W_CREATE:
	case W_RESTORE:
		on_created(d, ev);
		break;
	case W_UNPAUSE:
		if (d->t_ready)                  /* the restored one */
			restored_running(d);
		else
			check(P.hv->ops->watch_key(P.hv, d->domid, "data/ready"), "watch_key", d);
		break;
	case W_SAVE:
		d->step = S_SAVED;
		mark("PROBE_SAVED name=%s save_s=%.2f", d->cfg.name, secs(xd_loop_clock() - P.t_save));
		check(P.hv->ops->destroy(P.hv, d->domid, op_of(idx(d), W_DESTROY_SAVED)), "destroy", d);
		break;
	default:                                 /* shutdown acked, destroys done */
		break;
	}
}

static void restore_saved(struct dom *d)
{
	char msg[HV_MSG_MAX];
	int rc = P.hv->ops->image_check(P.hv, P.image, msg, sizeof(msg));
	if (rc < 0) {
		fail("image_check %s: %s", P.image, msg);
		return;
	}
	if (!d->saw_suspend) {
		fail("no SHUTDOWN(suspend) for %s during its save", d->cfg.name);
		return;
	}
	d->step = S_RESTORING;
	P.t_restore = xd_loop_clock();
	check(P.hv->ops->restore(P.hv, &d->cfg, P.image, op_of(idx(d), W_RESTORE)), "restore", d);
}

static void on_shutdown(const struct hv_event *ev)
{
	struct dom *d = dom_of_domid(ev->domid);
	if (!d)
		return;
	mark("PROBE_SHUTDOWN name=%s domid=%u reason=%s", d->cfg.name, d->domid,
	     hv_reason_name(ev->reason));
	if ((d->step == S_SAVING || d->step == S_SAVED) && ev->reason == HV_SD_SUSPEND) {
		d->saw_suspend = true;
		return;
	}
	if (d->step != S_STOPPING || ev->reason != HV_SD_POWEROFF) {
		fail("unexpected SHUTDOWN(%s) of %s", hv_reason_name(ev->reason), d->cfg.name);
		return;
	}
	d->step = S_DESTROYING;
	check(P.hv->ops->destroy(P.hv, d->domid, op_of(idx(d), W_DESTROY)), "destroy", d);
}

static void on_death(const struct hv_event *ev)
{
	struct dom *d = dom_of_domid(ev->domid);
	if (!d)
		return;
	mark("PROBE_DEATH name=%s domid=%u", d->cfg.name, d->domid);
	P.hv->ops->unwatch_domain(P.hv, d->domid);
	if (d->step == S_SAVED) {
		d->step = S_GONE;
		restore_saved(d);
		return;
	}
	if (d->step != S_DESTROYING) {
		fail("unexpected DEATH of %s", d->cfg.name);
		return;
	}
	d->step = S_GONE;
	if (all_in(S_GONE)) {
		mark("PROBE_DONE");
		printf("@@XT FIGURE probe_halt_s=%.2f\n", secs(xd_loop_clock() - P.t_halt));
		xd_loop_quit(P.loop, 0);
	}
}

static void pump(void *arg)
{
	(void)arg;
	struct hv_event ev;
	while (!P.failed && hv_next_event(P.hv, &ev)) {
		switch (ev.kind) {
		case HV_EV_OP_DONE: on_done(&ev); break;
		case HV_EV_SHUTDOWN: on_shutdown(&ev); break;
		case HV_EV_DEATH: on_death(&ev); break;
		case HV_EV_KEY: on_key(&ev); break;
		case HV_EV_FATAL: fail("backend: %s", ev.msg); break;
		}
	}
}

static void timed_out(struct xd_timer *t, void *arg)
{
	(void)t; (void)arg;
	fail("timed out after %d s", PROBE_TIMEOUT_MS / 1000);
}

static int parse_dom(struct dom *d, char *spec)
{
	d->must_fail = spec[0] == '!';
	if (d->must_fail)
		spec++;
	char *eq = strchr(spec, '=');
	if (!eq || eq == spec || (size_t)(eq - spec) >= sizeof(d->cfg.name))
		return -1;
	*eq = '\0';
	snprintf(d->cfg.name, sizeof(d->cfg.name), "%s", spec);
	d->cfg.xl_path = eq + 1;
	d->cfg.memory_mb = 128;
	d->cfg.maxmem_mb = 128;
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 3 || argc - 2 > MAX_DOMS) {
		fprintf(stderr, "usage: %s SAVE_DIR [!]NAME=XL_CFG... (at most %d)\n", argv[0], MAX_DOMS);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	P.save_dir = argv[1];
	struct xd_domain_cfg cfgs[MAX_DOMS];
	for (int i = 2; i < argc; i++) {
		if (parse_dom(&P.d[P.n], argv[i]) < 0) {
			fprintf(stderr, "bad domain spec '%s'\n", argv[i]);
			return 2;
		}
		cfgs[P.n] = P.d[P.n].cfg;
		P.n++;
	}
	struct xd_config config = { .domains = cfgs, .n_domains = P.n };
	char err[256];
	P.loop = xd_loop_new();
	P.t0 = xd_loop_clock();
	xd_log_set_sink(log_line, NULL, 0);
	P.hv = hv_libxl_new(P.loop, &config, err, sizeof(err));
	if (!P.hv) {
		printf("@@XT PROBE_FAIL hv_libxl_new: %s\n", err);
		return 1;
	}
	mark("PROBE_BACKEND_UP");
	xd_loop_on_after(P.loop, pump, NULL);
	xd_timer_init(&P.deadline, timed_out, NULL);
	xd_timer_arm_in(xd_loop_timers(P.loop), &P.deadline, PROBE_TIMEOUT_MS);
	for (size_t i = 0; i < P.n; i++) {
		uint64_t need = 0, free_kb = 0;
		struct dom *d = &P.d[i];
		P.hv->ops->mem_need(P.hv, &d->cfg, &need);
		P.hv->ops->mem_free(P.hv, &free_kb);
		printf("probe: %s needs %llu KiB, %llu KiB free\n", d->cfg.name,
		       (unsigned long long)need, (unsigned long long)free_kb);
		d->t_start = xd_loop_clock();
		check(P.hv->ops->create(P.hv, &d->cfg, op_of(i, W_CREATE)), "create", d);
	}
	int rc = xd_loop_run(P.loop);
	xd_timer_disarm(xd_loop_timers(P.loop), &P.deadline);
	P.hv->ops->free(P.hv);
	xd_loop_free(P.loop);
	if (rc == 0)
		printf("@@XT PROBE_PASS\n");
	return rc;
}
