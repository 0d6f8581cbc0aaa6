/* SPDX-License-Identifier: ISC */
/*
 * xendomd: the daemon (xendomd(8)).
 *
 *   xendomd [-f] [-c FILE] [-s PATH] [--backend libxl|sim:SCENARIO.ini] [-v]...
 *   xendomd --check [-c FILE]
 *   xendomd --plan [-c FILE] [--dot]
 *   xendomd --import-xendomains [FILE]   (config/import_xendomains.h)
 *   xendomd --halt-fallback [-c FILE]   (halt_fallback.h)
 *
 * Running, it wires the pieces together: the loop (loop.h), the backend
 * (one function, backend_new, knows them all), the engine (engine.h) with
 * its environment (hooks, log, state changes, milestones), the service
 * manager's notifications (service.h), the control socket (control.h)
 * and the stop signals.  Everything
 * lives in one struct daemon; the engine callbacks below fan out to the
 * log and to the control socket.
 *
 * xendomd never forks itself: under systemd it is Type=notify, elsewhere
 * the rc script puts it in the background.  -f only chooses where the log
 * goes (stderr, with the time since start, instead of the journal/syslog).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/import_xendomains.h"
#include "config/load.h"
#include "core/engine.h"
#include "core/plan.h"
#include "daemon/bootcfg.h"
#include "daemon/boottimes.h"
#include "daemon/control.h"
#include "daemon/engine_if.h"
#include "daemon/halt_fallback.h"
#include "daemon/hoststate.h"
#include "daemon/hooks.h"
#include "daemon/log.h"
#include "daemon/service.h"
#include "evloop/loop.h"
#include "hv/sim/hv_sim.h"
#include "util/alloc.h"
#include "xd_build.h"

#if HAVE_LIBXL
#include "hv/libxl/hv_libxl.h"
#endif

#define DEFAULT_CONFIG XD_SYSCONFDIR "/xendomd/xendomd.conf"
#define EXIT_USAGE 2             /* like --check: usage and configuration errors */

enum mode { MODE_RUN, MODE_CHECK, MODE_PLAN, MODE_IMPORT, MODE_HALT_FALLBACK };

struct options {
	enum mode mode;
	bool foreground;
	bool dot;
	bool halt_only;                  /* --halt-fallback: adopt, then the halt */
	int verbosity;
	const char *config;
	bool config_given;               /* -c: a missing file is an error */
	const char *socket;              /* -s: overrides the config's `socket` */
	const char *backend;
	/* SIGTERM/SIGINT always mean the host halts (the sim: tests, demos);
	 * else the host-state probe decides at each signal.  Set once, by
	 * backend_new, the one place that knows the backends. */
	bool stop_means_halt;
	const char *import_file;         /* --import-xendomains FILE, or NULL */
};

struct daemon {
	struct options opt;
	uint64_t started_ms;             /* xd_loop_clock() at start */
	struct xd_config *cfg;
	struct xd_loop *loop;
	struct hv *hv;
	struct xd_hooks *hooks;
	struct xd_engine *engine;
	struct xd_service *service;
	struct xd_control *control;
	struct xd_host_probe host_probe;  /* read once at setup (hoststate.h) */

	enum xd_state *last;             /* per engine slot, for "a -> b" lines */
	size_t n_last;

	uint64_t boot_started_ms;
	bool halting;                    /* the host-shutdown sequence runs */
	bool exit_when_down;             /* ... and the daemon exits at its end */
	uint64_t halt_started_ms;
	/* The backend's wait before the exit (libxl: its ops done, destroyed
	 * domains gone; bounded).  NULL: nothing to wait for. */
	void (*settle)(struct hv *hv, void (*done)(void *arg, bool settled), void *arg);
};

/* ------------------------------------------------------------ engine env */

static void on_engine_log(void *ctx, enum xd_log_level lvl, const char *domain, long domid,
			  const char *msg)
{
	(void)ctx;
	xd_log_msg(lvl, domain, domid, msg);
}

/* The previous state of slot, updated to now; slots appear as the engine
 * learns of domains (reload, unmanaged ones). */
static enum xd_state swap_last_state(struct daemon *d, size_t slot, enum xd_state now)
{
	if (slot >= d->n_last) {
		size_t n = slot + 16;
		enum xd_state *v = realloc(d->last, n * sizeof(*v));
		if (!v)
			return now;      /* the line then reads "x -> x": harmless */
		for (size_t i = d->n_last; i < n; i++)
			v[i] = XD_INACTIVE;
		d->last = v;
		d->n_last = n;
	}
	enum xd_state was = d->last[slot];
	d->last[slot] = now;
	return was;
}

/* "state booting -> running", with ": reason" when there is one; a new
 * reason in the same state reads "still waiting: waiting for db". */
static void on_engine_changed(void *ctx, size_t slot, const struct xd_dom_status *st)
{
	struct daemon *d = ctx;
	enum xd_state was = swap_last_state(d, slot, st->state);
	enum xd_log_level lvl = st->state == XD_FAILED ? XD_LOG_WARNING : XD_LOG_NOTICE;
	const char *sep = st->reason ? ": " : "", *reason = st->reason ? st->reason : "";
	if (was == st->state)
		xd_log(XD_LOG_INFO, st->name, st->domid, "still %s%s%s", xd_state_name(st->state),
		       sep, reason);
	else
		xd_log(lvl, st->name, st->domid, "state %s -> %s%s%s", xd_state_name(was),
		       xd_state_name(st->state), sep, reason);
	xd_control_changed(d->control, slot, st);
	xd_service_progress(d->service);
}

/* "7 running, 1 failed, 1 inactive" over the managed domains: running and
 * failed first (what the admin looks for), then the rest in state order. */
static void count_states(const struct daemon *d, char *buf, size_t len)
{
	struct xd_tally t;
	xd_engine_tally(d->engine, &t);
	const size_t *count = t.state;
	static const enum xd_state order[] = {
		XD_RUNNING, XD_FAILED, XD_INACTIVE, XD_WAITING, XD_STARTING, XD_RESTORING,
		XD_BOOTING, XD_STOPPING, XD_SAVING, XD_SAVED, XD_RESTARTING, XD_MIGRATING,
	};
	_Static_assert(sizeof(order) / sizeof(order[0]) == XD_MIGRATING + 1, "every state once");
	size_t used = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]) && used < len; i++) {
		enum xd_state s = order[i];
		if (!count[s])
			continue;
		int w = snprintf(buf + used, len - used, "%s%zu %s", used ? ", " : "", count[s],
				 xd_state_name(s));
		used += w > 0 ? (size_t)w : 0;
	}
	if (!buf[0])
		snprintf(buf, len, "no domains");
}

static double seconds_since(uint64_t ms)
{
	return (double)(xd_loop_clock() - ms) / 1000;
}

/* Keep each domain's start-to-ready time of this boot (the timeline's
 * first attempt to ready; adopted domains were not started, so have none)
 * in boot-times, with the older figures of domains not started this time. */
static void record_boot_times(struct daemon *d)
{
	const struct xd_config *cfg = d->cfg;
	uint64_t *ms = xd_calloc(cfg->n_domains + 1, sizeof(*ms));
	if (xd_boottimes_read(cfg->global.state_dir, cfg, ms) < 0)
		memset(ms, 0, cfg->n_domains * sizeof(*ms));
	for (size_t s = 0; s < xd_engine_count(d->engine); s++) {
		struct xd_dom_status st;
		struct xd_timeline tl;
		xd_engine_status(d->engine, s, &st);
		xd_engine_timeline(d->engine, s, &tl);
		long i = st.managed ? xd_config_find(cfg, st.name) : -1;
		if (i >= 0 && tl.started != XD_NEVER && tl.ready != XD_NEVER && tl.ready >= tl.started)
			ms[i] = tl.ready - tl.started ? tl.ready - tl.started : 1;
	}
	if (xd_boottimes_write(cfg->global.state_dir, cfg, ms) < 0)
		xd_log(XD_LOG_WARNING, NULL, -1, "cannot write %s/%s: %s", cfg->global.state_dir,
		       XD_BOOTTIMES_FILE, strerror(errno));
	free(ms);
}

/* The weights of start_order = critical-path, from earlier boots. */
static void load_boot_times(struct daemon *d)
{
	uint64_t *ms = xd_calloc(d->cfg->n_domains + 1, sizeof(*ms));
	if (xd_boottimes_read(d->cfg->global.state_dir, d->cfg, ms) < 0)
		xd_log(XD_LOG_WARNING, NULL, -1, "cannot read %s/%s: %s; every domain weighs the same",
		       d->cfg->global.state_dir, XD_BOOTTIMES_FILE, strerror(errno));
	xd_engine_set_weights(d->engine, ms);
	free(ms);
}

static void on_boot_settled(void *ctx)
{
	struct daemon *d = ctx;
	record_boot_times(d);
	char counts[256];
	count_states(d, counts, sizeof(counts));
	xd_log(XD_LOG_NOTICE, NULL, -1, "boot done in %.1f s: %s",
	       seconds_since(d->boot_started_ms), counts);
	xd_service_boot_settled(d->service);
}

static void host_down(void *ctx, bool settled)
{
	(void)settled;           /* the backend logged why not */
	struct daemon *d = ctx;
	char counts[256];
	count_states(d, counts, sizeof(counts));
	if (d->halting)
		xd_log(XD_LOG_NOTICE, NULL, -1, "host shutdown done in %.1f s: %s",
		       seconds_since(d->halt_started_ms), counts);
	else     /* started elsewhere (xendomctl shutdown-host) */
		xd_log(XD_LOG_NOTICE, NULL, -1, "host shutdown done: %s", counts);
	d->halting = false;
	xd_control_host_down(d->control);
	xd_service_host_down(d->service);
	if (d->exit_when_down) {
		xd_halt_marker_write(d->cfg->global.state_dir, XD_BOOT_ID_PATH);
		xd_loop_quit(d->loop, 0);
	}
}

/* Before the daemon exits, the backend settles: then "host shutdown
 * done" means it. */
static void on_host_down(void *ctx)
{
	struct daemon *d = ctx;
	if (d->exit_when_down && d->settle)
		d->settle(d->hv, host_down, d);
	else
		host_down(d, true);
}

static int run_hook(void *ctx, const struct xd_hook_req *req)
{
	struct daemon *d = ctx;
	return xd_hooks_run(d->hooks, req);
}

static void hook_done(void *arg, uint64_t op, bool ok, const char *msg)
{
	struct daemon *d = arg;
	xd_engine_hook_done(d->engine, op, ok, msg);
}

/* A restored image is deleted; one that cannot be restored is renamed
 * aside (<file>.unrestorable) so it is never tried again, nor lost. */
static int discard_image(void *ctx, const char *file, bool aside)
{
	(void)ctx;
	if (!aside) {
		if (unlink(file) < 0 && errno != ENOENT) {
			xd_log(XD_LOG_ERR, NULL, -1, "cannot remove save image %s: %s", file, strerror(errno));
			return -1;
		}
		xd_log(XD_LOG_INFO, NULL, -1, "removed save image %s", file);
		return 0;
	}
	char dst[4096];
	if (snprintf(dst, sizeof(dst), "%s.unrestorable", file) >= (int)sizeof(dst)) {
		xd_log(XD_LOG_ERR, NULL, -1, "cannot set aside save image %s: path too long", file);
		return -1;
	}
	if (rename(file, dst) < 0) {
		xd_log(XD_LOG_ERR, NULL, -1, "cannot rename save image %s to %s: %s", file, dst,
		       strerror(errno));
		return -1;
	}
	xd_log(XD_LOG_WARNING, NULL, -1, "save image %s set aside as %s", file, dst);
	return 0;
}

static void pump_engine(void *arg)
{
	struct daemon *d = arg;
	xd_engine_pump(d->engine);
	xd_log_flush();
}

/* ------------------------------------------------------------ stopping */

/* What SIGTERM/SIGINT means: the host halting when the daemon's option
 * says so, else whatever the host-state probe (hoststate.h) says now. */
static bool stop_means_halt(const struct daemon *d)
{
	if (d->opt.stop_means_halt)
		return true;
	char why[256] = "";
	bool halting = xd_host_halting(&d->host_probe, why, sizeof(why));
	if (why[0])
		xd_log(XD_LOG_INFO, NULL, -1, "host state: %s", why);
	return halting;
}

static void start_host_shutdown(struct daemon *d, bool daemon_exits)
{
	d->halting = true;
	d->exit_when_down = daemon_exits;
	d->halt_started_ms = xd_loop_clock();
	xd_service_shutdown_host(d->service, daemon_exits);
}

static void on_stop_signal(int signo, void *arg)
{
	struct daemon *d = arg;
	const char *sig = signo == SIGINT ? "SIGINT" : "SIGTERM";
	if (d->halting) {
		xd_log(XD_LOG_WARNING, NULL, -1,
		       "%s during the host shutdown: ignored (the sequence bounds itself; SIGKILL stops it)",
		       sig);
		return;
	}
	if (!stop_means_halt(d)) {
		xd_log(XD_LOG_NOTICE, NULL, -1, "%s: the host is not halting; exiting, guests keep running", sig);
		xd_loop_quit(d->loop, 0);
		return;
	}
	xd_log(XD_LOG_NOTICE, NULL, -1, "%s: the host is halting", sig);
	start_host_shutdown(d, true);
}

/* ------------------------------------------------------------ setup */

/* The one place that knows the backends. */
static struct hv *backend_new(struct daemon *d, char *err, size_t errlen)
{
	const char *b = d->opt.backend;
	if (strncmp(b, "sim:", 4) == 0 && b[4]) {
		d->opt.stop_means_halt = true;
		return hv_sim_new(b + 4, d->cfg, xd_loop_timers(d->loop), err, errlen);
	}
	if (strcmp(b, "libxl") == 0) {
#if HAVE_LIBXL
		d->settle = hv_libxl_settle;
		return hv_libxl_new(d->loop, d->cfg, err, errlen);
#else
		snprintf(err, errlen, "built without the libxl backend");
#endif
		return NULL;
	}
	snprintf(err, errlen, "unknown backend \"%s\" (libxl or sim:SCENARIO.ini)", b);
	return NULL;
}

/* A daemon start boots what it can (degraded boot, bootcfg.h); --check,
 * --plan and reload stay strict. */
static int load_config(struct daemon *d)
{
	return xd_boot_config_load(d->opt.config, d->opt.config_given, xd_config_load_flags, &d->cfg);
}

static int start_engine(struct daemon *d)
{
	struct xd_engine_env env = {
		.timers = xd_loop_timers(d->loop),
		.hv = d->hv,
		.ctx = d,
		.run_hook = run_hook,
		.discard_image = discard_image,
		.log = on_engine_log,
		.changed = on_engine_changed,
		.boot_settled = on_boot_settled,
		.host_down = on_host_down,
	};
	d->engine = xd_engine_new(d->cfg, &env);
	if (!d->engine)
		return -1;
	load_boot_times(d);
	if (xd_loop_on_after(d->loop, pump_engine, d) < 0 ||
	    xd_loop_on_signal(d->loop, SIGTERM, on_stop_signal, d) < 0 ||
	    xd_loop_on_signal(d->loop, SIGINT, on_stop_signal, d) < 0)
		return -1;
	return 0;
}

/* Log, loop, backend, hooks, engine.  Returns an exit code, 0 = go on. */
static int daemon_setup(struct daemon *d)
{
	if (load_config(d) < 0)
		return EXIT_USAGE;
	/* Writes to a vanished peer (control socket, a closed stderr) must
	 * fail with EPIPE, not kill the daemon; hooks get SIGPIPE back. */
	signal(SIGPIPE, SIG_IGN);
	d->loop = xd_loop_new();
	if (!d->loop) {
		xd_log(XD_LOG_ERR, NULL, -1, "cannot create the main loop: %s", strerror(errno));
		return 1;
	}
	char err[512];
	d->hv = backend_new(d, err, sizeof(err));
	xd_host_probe_default(&d->host_probe);
	if (!d->hv) {
		xd_log(XD_LOG_ERR, NULL, -1, "backend %s: %s", d->opt.backend, err);
		return 1;
	}
	d->hooks = xd_hooks_new(d->loop, hook_done, d);
	if (!d->hooks || start_engine(d) < 0) {
		xd_log(XD_LOG_ERR, NULL, -1, "cannot start: %s", strerror(errno));
		return 1;
	}
	struct xd_engine_if engine = xd_engine_if_real(d->engine);
	d->service = xd_service_new(xd_loop_timers(d->loop), engine, &d->cfg);
	if (!d->service)
		return 1;
	struct xd_control_env cenv = {
		.loop = d->loop, .engine = engine, .service = d->service, .cfg = &d->cfg,
		.config_path = d->opt.config, .socket_path = d->opt.socket,
		.started_ms = d->started_ms,
	};
	d->control = xd_control_new(&cenv);
	return d->control ? 0 : 1;
}

static void daemon_teardown(struct daemon *d)
{
	xd_control_free(d->control);
	xd_service_free(d->service);
	xd_engine_free(d->engine);
	xd_hooks_free(d->hooks);
	if (d->hv)
		d->hv->ops->free(d->hv);
	xd_loop_free(d->loop);
	xd_config_free(d->cfg);
	free(d->last);
	xd_log_close();
}

static void boot(struct daemon *d)
{
	xd_log(XD_LOG_NOTICE, NULL, -1, "xendomd %s: %zu domain%s in %s, backend %s", XD_VERSION,
	       d->cfg->n_domains, d->cfg->n_domains == 1 ? "" : "s", d->opt.config, d->hv->ops->name);
	d->boot_started_ms = xd_loop_clock();
	if (xd_engine_adopt(d->engine) < 0)
		xd_log(XD_LOG_ERR, NULL, -1, "cannot list the running domains; none adopted");
	if (d->opt.halt_only) {
		xd_log(XD_LOG_NOTICE, NULL, -1, "halt fallback: the host-shutdown sequence on the running domains");
		start_host_shutdown(d, true);
		return;
	}
	xd_halt_marker_clear(d->cfg->global.state_dir);
	char **images;
	size_t n_images;
	xd_boot_list_images(d->cfg->global.save_dir, &images, &n_images);
	xd_engine_add_images(d->engine, (const char *const *)images, n_images);
	xd_boot_images_free(images, n_images);
	xd_engine_boot(d->engine);
	xd_service_booting(d->service);
}

/* A daemon started with 0, 1 or 2 closed would hand those numbers to the
 * next open() (a socket, a pipe) and then write log lines into it. */
static void ensure_std_fds(void)
{
	for (int fd = 0; fd <= 2; fd++) {
		if (fcntl(fd, F_GETFD) >= 0)
			continue;
		int n = open("/dev/null", O_RDWR);
		if (n > 2)
			close(n);
	}
}

/* The signals the daemon handles.  Blocked from the first line of main
 * until the loop catches each (xd_loop_on_signal unblocks it), and again
 * before teardown: xd_loop_free puts the default actions back, and a
 * SIGHUP then (or before the handlers exist) would kill the daemon. */
static void block_handled_signals(sigset_t *old)
{
	static const int handled[] = { SIGTERM, SIGINT, SIGHUP, SIGCHLD };
	sigset_t set;
	sigemptyset(&set);
	for (size_t i = 0; i < sizeof(handled) / sizeof(handled[0]); i++)
		sigaddset(&set, handled[i]);
	sigprocmask(SIG_BLOCK, &set, old);
}

static int run_daemon(const struct options *opt)
{
	struct daemon d = { .opt = *opt, .started_ms = xd_loop_clock() };
	ensure_std_fds();
	xd_log_open(opt->foreground, opt->verbosity, d.started_ms);
	int rc = daemon_setup(&d);
	if (rc == 0) {
		boot(&d);
		rc = xd_loop_run(d.loop);
		if (rc < 0) {
			xd_log(XD_LOG_ERR, NULL, -1, "main loop failed: %s", strerror(errno));
			rc = 1;
		}
		struct xd_loop_stats st;
		xd_loop_get_stats(d.loop, &st);
		xd_log(XD_LOG_INFO, NULL, -1, "event loop: %llu turns, the longest %.1f ms, %llu over "
		       "10 ms, %llu over 100 ms", (unsigned long long)st.turns,
		       (double)st.busy_max_us / 1000.0, (unsigned long long)st.over_10ms,
		       (unsigned long long)st.over_100ms);
		for (size_t i = 0; i < XD_LOOP_WORST && st.worst_us[i]; i++)
			xd_log(XD_LOG_INFO, NULL, -1, "event loop: a turn of %.1f ms at %.3f s",
			       (double)st.worst_us[i] / 1000.0,
			       (double)(st.worst_at_ms[i] - d.started_ms) / 1000.0);
	}
	block_handled_signals(NULL);     /* until exit: what comes now waits */
	daemon_teardown(&d);
	return rc;
}

/* ------------------------------------------------------------ --plan */

static int print_plan(const struct options *opt)
{
	struct xd_config *cfg = NULL;
	struct xd_diags diags = { 0 };
	if (xd_config_load(opt->config, &cfg, &diags) < 0) {
		xd_diags_print(&diags, stderr);
		xd_diags_free(&diags);
		return EXIT_USAGE;
	}
	xd_diags_free(&diags);
	struct xd_plan plan;
	char *text = NULL;
	if (xd_plan_build(cfg, &plan) == 0) {
		text = xd_plan_format(cfg, &plan, opt->dot);
		if (text && !opt->dot && cfg->global.start_order == XD_ORDER_CRITICAL_PATH)
			text = xd_boottimes_plan_text(text, cfg, &plan);
		xd_plan_free(&plan);
	}
	int rc = 0;
	if (!text) {
		fprintf(stderr, "xendomd: %s: cannot build the plan: %s\n", opt->config, strerror(errno));
		rc = errno == ELOOP ? EXIT_USAGE : 1;
	} else if (fputs(text, stdout) < 0 || fflush(stdout) != 0) {
		rc = 1;
	}
	free(text);
	xd_config_free(cfg);
	return rc;
}

/* ------------------------------------------------------------ options */

static void usage(FILE *f)
{
	fprintf(f,
		"usage: xendomd [-f] [-c FILE] [-s PATH] [--backend libxl|sim:SCENARIO.ini] [-v]...\n"
		"       xendomd --check [-c FILE]\n"
		"       xendomd --plan [-c FILE] [--dot]\n"
		"       xendomd --import-xendomains [FILE]\n"
		"       xendomd --halt-fallback [-c FILE]\n"
		"\n"
		"  -f, --foreground     log to stderr (time since start, one line each)\n"
		"                       instead of the journal or syslog\n"
		"  -c, --config FILE    configuration (default " DEFAULT_CONFIG ")\n"
		"  -s, --socket PATH    control socket (default: the configuration's socket)\n"
		"      --backend B      libxl (default) or sim:SCENARIO.ini (simulated Xen;\n"
		"                       SIGTERM/SIGINT then mean the host halts)\n"
		"  -v, --verbose        debug messages too\n"
		"      --check          validate the configuration and every xl cfg it names;\n"
		"                       exit 0 if valid, 2 if not\n"
		"      --plan [--dot]   print the boot plan (order and waves), or Graphviz\n"
		"      --import-xendomains [FILE]\n"
		"                       print a xendomd.conf doing what xendomains' settings\n"
		"                       did (default /etc/default/xendomains, then\n"
		"                       /etc/sysconfig/xendomains, then /etc/rc.conf)\n"
		"      --halt-fallback  (the unit's ExecStopPost) if the host is halting and\n"
		"                       the daemon did not finish the host-shutdown sequence,\n"
		"                       run it now; else do nothing\n"
		"  -h, --help           this text\n"
		"      --version        the version\n");
}

enum { OPT_BACKEND = 256, OPT_CHECK, OPT_PLAN, OPT_DOT, OPT_VERSION, OPT_IMPORT,
       OPT_HALT_FALLBACK };

/* Returns -1 to go on, else the exit code. */
static int parse_options(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{ "foreground", no_argument, NULL, 'f' },
		{ "config", required_argument, NULL, 'c' },
		{ "socket", required_argument, NULL, 's' },
		{ "backend", required_argument, NULL, OPT_BACKEND },
		{ "verbose", no_argument, NULL, 'v' },
		{ "check", no_argument, NULL, OPT_CHECK },
		{ "plan", no_argument, NULL, OPT_PLAN },
		{ "dot", no_argument, NULL, OPT_DOT },
		{ "import-xendomains", no_argument, NULL, OPT_IMPORT },
		{ "halt-fallback", no_argument, NULL, OPT_HALT_FALLBACK },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ NULL, 0, NULL, 0 },
	};
	*o = (struct options){ .config = xd_boot_default_path(DEFAULT_CONFIG), .backend = "libxl" };
	int c;
	while ((c = getopt_long(argc, argv, "fc:s:vh", longopts, NULL)) != -1) {
		switch (c) {
		case 'f': o->foreground = true; break;
		case 'c': o->config = optarg; o->config_given = true; break;
		case 's': o->socket = optarg; break;
		case OPT_BACKEND: o->backend = optarg; break;
		case 'v': o->verbosity++; break;
		case OPT_CHECK: o->mode = MODE_CHECK; break;
		case OPT_PLAN: o->mode = MODE_PLAN; break;
		case OPT_DOT: o->dot = true; break;
		case OPT_IMPORT: o->mode = MODE_IMPORT; break;
		case OPT_HALT_FALLBACK: o->mode = MODE_HALT_FALLBACK; break;
		case 'h': usage(stdout); return 0;
		case OPT_VERSION: printf("xendomd %s\n", XD_VERSION); return 0;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	if (o->mode == MODE_IMPORT && optind < argc)
		o->import_file = argv[optind++];
	if (optind < argc) {
		fprintf(stderr, "xendomd: unexpected argument \"%s\"\n", argv[optind]);
		return EXIT_USAGE;
	}
	if (o->dot && o->mode != MODE_PLAN) {
		fprintf(stderr, "xendomd: --dot goes with --plan\n");
		return EXIT_USAGE;
	}
	return -1;
}

int main(int argc, char **argv)
{
	sigset_t orig_mask;
	block_handled_signals(&orig_mask);
	struct options opt;
	int rc = parse_options(argc, argv, &opt);
	if (rc >= 0)
		return rc;
	if (opt.mode != MODE_RUN)        /* the one-shot modes keep the defaults */
		sigprocmask(SIG_SETMASK, &orig_mask, NULL);
	switch (opt.mode) {
	case MODE_CHECK:
		return xd_config_check(opt.config, stdout);
	case MODE_PLAN:
		return print_plan(&opt);
	case MODE_IMPORT:
		return xd_import_xendomains_main(opt.import_file, stdout, stderr);
	case MODE_HALT_FALLBACK:
		rc = xd_halt_fallback_prepare(opt.config, opt.config_given,
					      strncmp(opt.backend, "sim:", 4) == 0);
		if (rc >= 0)
			return rc;
		opt.halt_only = true;
		break;
	case MODE_RUN:
		break;
	}
	return run_daemon(&opt);
}
