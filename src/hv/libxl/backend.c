/* SPDX-License-Identifier: ISC */
/* The libxl backend: the ops table, opening libxl and XenStore, teardown
 * (libxl_int.h). */
#include "hv/libxl/libxl_int.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>

/* The osevent hooks get libxl's ctx, not the backend: their timings go
 * to the one libxl backend of the process. */
static struct hv_libxl *timed;

static void osev_fd(void *ctx, void *for_libxl, int fd, short events, short revents)
{
	uint64_t t0 = xd_callstat_clock_us();
	libxl_osevent_occurred_fd(ctx, for_libxl, fd, events, revents);
	if (timed)
		xd_callstat_add(&timed->calls, "libxl_osevent_occurred_fd", t0);
}

static void osev_timeout(void *ctx, void *for_libxl)
{
	uint64_t t0 = xd_callstat_clock_us();
	libxl_osevent_occurred_timeout(ctx, for_libxl);
	if (timed)
		xd_callstat_add(&timed->calls, "libxl_osevent_occurred_timeout", t0);
}

/* We never enable libxl evgens and every ao has a callback, so nothing
 * should arrive here; free whatever does. */
static void on_libxl_event(void *user, libxl_event *ev)
{
	struct hv_libxl *x = user;
	libxl_event_free(x->ctx, ev);
}

/* No libxl calls allowed here. */
static void on_libxl_disaster(void *user, libxl_event_type type, const char *msg, int errnoval)
{
	struct hv_libxl *x = user;
	char buf[HV_MSG_MAX];
	snprintf(buf, sizeof(buf), "libxl disaster (event type %d): %s%s%s", (int)type, msg,
		 errnoval > 0 ? ": " : "", errnoval > 0 ? strerror(errnoval) : "");
	xlb_emit_fatal(x, buf);
}

static const libxl_event_hooks event_hooks = {
	.event_occurs_mask = LIBXL_EVENTMASK_ALL,
	.event_occurs = on_libxl_event,
	.disaster = on_libxl_disaster,
};

static void on_sigchld(int signo, void *arg)
{
	(void)signo;
	struct hv_libxl *x = arg;
	XLB_TV(x, "libxl_childproc_sigchld_occurred", libxl_childproc_sigchld_occurred(x->ctx));
	for (struct cfgent *e = x->cfgs; e; e = e->next)
		if (e->child)
			xlb_child_sigchld(e->child);
	for (struct xop *op = x->ops; op; op = op->next)
		if (op->helper)
			xlb_child_sigchld(op->helper);
}

static void report_call(const char *line)
{
	log_info("libxl backend: %s", line);
}

static void x_free(struct hv *hv)
{
	struct hv_libxl *x = X(hv);
	bool busy = false;
	xd_callstats_report(&x->calls, report_call);
	if (timed == x)
		timed = NULL;
	while (x->keys)
		xlb_key_drop(x, x->keys);
	while (x->ops) {
		struct xop *op = x->ops;
		x->ops = op->next;
		if (op->ao_pending) {
			busy = true;     /* libxl still owns its arguments: leak it */
			continue;
		}
		if (op->helper) {
			/* Killed; its create marker stays, so the next daemon
			 * destroys what it half-built. */
			xlb_child_free(op->helper);
			op->helper = NULL;
			op->marked = false;
		}
		xlb_op_free(op);
	}
	while (x->cfgs) {
		struct cfgent *e = x->cfgs;
		x->cfgs = e->next;
		xlb_child_free(e->child);
		xlb_cfg_forget(e);
		free(e->fetch_path);
		free(e);
	}
	xd_timer_disarm(x->timers, &x->kick);
	xd_timer_disarm(x->timers, &x->destroy_turn);
	xd_timer_disarm(x->timers, &x->settle_timer);
	xlb_dying_free(&x->dying);
	if (x->xs_io)
		xd_loop_del_io(x->loop, x->xs_io);
	if (x->xs)
		xs_close(x->xs);
	if (busy)
		log_warnx("libxl operations still in flight at exit");
	else if (x->ctx)
		libxl_ctx_free(x->ctx);
	xlb_osev_fini(&x->osev);
	xlb_domdiff_free(&x->watched);
	free(x->creating_dir);
	free(x->helper_path);
	hv_fini(&x->hv);
	free(x);
}

static const struct hv_ops libxl_ops = {
	.name = "libxl",
	.list = xlb_list,
	.create = xlb_create,
	.restore = xlb_restore,
	.unpause = xlb_unpause,
	.shutdown = xlb_shutdown,
	.power_button = xlb_power_button,
	.destroy = xlb_destroy,
	.save = xlb_save,
	.core_dump = xlb_core_dump,
	.migrate = xlb_migrate,
	.rename = xlb_rename,
	.cancel = xlb_cancel,
	.watch_domain = xlb_watch_domain,
	.unwatch_domain = xlb_unwatch_domain,
	.watch_key = xlb_watch_key,
	.unwatch_key = xlb_unwatch_key,
	.read_key = xlb_read_key,
	.mem_need = xlb_mem_need,
	.mem_free = xlb_mem_free,
	.image_check = xlb_image_check,
	.image_name = xlb_image_name,
	.free = x_free,
};

static int open_libxl(struct hv_libxl *x, char *err, size_t errlen)
{
	xlb_osev_init(&x->osev, xd_loop_interface(x->loop), osev_fd, osev_timeout);
	timed = x;
	int rc = libxl_ctx_alloc(&x->ctx, LIBXL_VERSION, 0, xlb_logger_init(x));
	if (rc) {
		snprintf(err, errlen, "cannot open libxl (is this a Xen dom0?): %s",
			 libxl_error_to_string(rc));
		x->ctx = NULL;
		return -1;
	}
	x->osev.ctx = x->ctx;
	libxl_osevent_register_hooks(x->ctx, &xlb_osev_hooks, &x->osev);
	x->chld = (libxl_childproc_hooks){ .chldowner = libxl_sigchld_owner_mainloop,
					   .fork_replacement = xlb_fork_clean };
	libxl_childproc_setmode(x->ctx, &x->chld, x);
	libxl_event_register_callbacks(x->ctx, &event_hooks, x);
	return 0;
}

static int open_xenstore(struct hv_libxl *x, char *err, size_t errlen)
{
	x->xs = xs_open(XS_UNWATCH_FILTER);
	if (!x->xs) {
		snprintf(err, errlen, "cannot connect to XenStore: %s", strerror(errno));
		return -1;
	}
	int fd = xs_fileno(x->xs);
	if (fd < 0 || !(x->xs_io = xd_loop_add_io(x->loop, fd, POLLIN, xlb_on_xenstore, x))) {
		snprintf(err, errlen, "cannot watch XenStore");
		return -1;
	}
	if (!xs_watch(x->xs, "@releaseDomain", "R")) {
		snprintf(err, errlen, "cannot watch @releaseDomain: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* Not for a domain with a configuration error (degraded boot): it is
 * never created, and its xl cfg may be the error. */
static void prefetch_configs(struct hv_libxl *x, const struct xd_config *cfg)
{
	for (size_t i = 0; cfg && i < cfg->n_domains; i++) {
		const struct xd_domain_cfg *d = &cfg->domains[i];
		if (d->config_error)
			continue;
		if (d->xl_path && xlb_fetch_request(x, d->name, d->xl_path) < 0)
			xd_log(XD_LOG_WARNING, d->name, -1, "cannot queue the config derivation");
	}
}

struct hv *hv_libxl_new(struct xd_loop *loop, const struct xd_config *cfg,
			char *err, size_t errlen)
{
	err[0] = '\0';
	struct hv_libxl *x = calloc(1, sizeof(*x));
	if (!x) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	hv_init(&x->hv, &libxl_ops);
	x->loop = loop;
	x->timers = xd_loop_timers(loop);
	xd_timer_init(&x->kick, xlb_on_kick, x);
	xd_timer_init(&x->destroy_turn, xlb_destroy_turn, x);
	xd_timer_init(&x->settle_timer, xlb_settle_check, x);
	/* SIGCHLD last: the loop cannot unregister it, so it must only ever
	 * point at a backend that lives as long as the loop. */
	if (xlb_helper_locate(x) < 0) {
		snprintf(err, errlen, "out of memory");
		x_free(&x->hv);
		return NULL;
	}
	if (open_libxl(x, err, errlen) < 0 || xlb_read_autoballoon(x, err, errlen) < 0 ||
	    open_xenstore(x, err, errlen) < 0 ||
	    xd_loop_on_signal(loop, SIGCHLD, on_sigchld, x) < 0) {
		if (!err[0])
			snprintf(err, errlen, "cannot catch SIGCHLD");
		x_free(&x->hv);
		return NULL;
	}
	xlb_recover_creates(x, cfg);
	prefetch_configs(x, cfg);
	return &x->hv;
}
