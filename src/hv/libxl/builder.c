/* SPDX-License-Identifier: ISC */
/*
 * Build helpers: each create, restore and core dump runs in a process of
 * its own, xendomd-build (build_helper.c, protocol in build_proto.h).
 *
 * Why.  libxl builds a domain synchronously inside the process that asks
 * (libxl_domain_create_new and _restore do their work inside the call
 * even with an ao_how; so does libxl_domain_core_dump), for seconds per
 * guest.  In the daemon that serialized the builds and left the loop deaf
 * meanwhile: no control socket, no death events, no readiness.  A helper
 * has its own libxl context, builds the domain paused, reports the domid
 * and exits; the daemon then unpauses and owns the domain as it owns an
 * adopted one.  Everything before the build (the stored config, memory
 * admission and ballooning, the create marker) and after it (unpause,
 * watches, cleanup of a half-built domain) stays here, on the loop.
 *
 * A helper that crashes, aborts inside libxl or is killed (start_timeout)
 * fails that attempt only: the domain it may have left, paused and with
 * the create's UUID, is destroyed before the failure is reported, as for
 * a failed in-process create.  Each helper's start and end are logged
 * (pid, duration) so the concurrency can be read from the log.
 */
#include "hv/libxl/libxl_int.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "hv/libxl/build_proto.h"
#include "xd_build.h"

#define XLB_HELPER_OUT_MAX 4096

static const char *const helper_mode[] = {
	[K_CREATE] = "create", [K_RESTORE] = "restore", [K_CORE_DUMP] = "dump",
	[K_MIGRATE] = "migrate",
};

/* Next to the daemon's own executable first (the build tree, the lab),
 * then where meson installs it. */
int xlb_helper_locate(struct hv_libxl *x)
{
	char self[4096];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		self[n] = '\0';
		char *slash = strrchr(self, '/');
		if (slash && asprintf(&x->helper_path, "%.*s/" XLB_BUILD_NAME,
				      (int)(slash - self), self) >= 0) {
			if (access(x->helper_path, X_OK) == 0)
				return 0;
			free(x->helper_path);
		}
	}
	x->helper_path = strdup(XD_LIBEXECDIR "/" XLB_BUILD_NAME);
	return x->helper_path ? 0 : -1;
}

/* The domain config on a memfd: the helper's stdin, never a blocking
 * write for the loop. */
static int config_fd(struct xop *op, char *err, size_t errlen)
{
	char *json = libxl_domain_config_to_json(op->x->ctx, &op->dc);
	bool printed = json != NULL;
	int fd = json ? memfd_create("xendomd-build-config", MFD_CLOEXEC) : -1;
	size_t len = json ? strlen(json) : 0, off = 0;
	while (fd >= 0 && off < len) {
		ssize_t w = write(fd, json + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			close(fd);
			fd = -1;
			break;
		}
		off += (size_t)w;
	}
	free(json);
	if (fd < 0 || lseek(fd, 0, SEEK_SET) < 0) {
		snprintf(err, errlen, "cannot pass the config to " XLB_BUILD_NAME ": %s",
			 printed ? strerror(errno) : "libxl cannot write it");
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static void on_helper_line(const char *line, void *arg)
{
	struct xop *op = arg;
	const char *msg;
	char lv = xlb_build_line_level(line, &msg);
	enum xd_log_level l = lv == 'E' ? XD_LOG_ERR : lv == 'W' ? XD_LOG_WARNING
			      : lv == 'N' ? XD_LOG_NOTICE : XD_LOG_INFO;
	xd_log_msg(l, op->name, xlb_errlog_domid(msg), msg);
}

/* Domains that already carry the create's UUID (a restart's dying
 * predecessor) are not the helper's: never destroy them for it. */
static void note_preexisting(struct xop *op)
{
	int nb = 0;
	libxl_dominfo *l = XLB_T(op->x, "libxl_list_domain", libxl_list_domain(op->x->ctx, &nb));
	op->n_pre = 0;
	for (int i = 0; l && i < nb && op->n_pre < XLB_PRE_MAX; i++)
		if (!libxl_uuid_compare(&l[i].uuid, &op->dc.c_info.uuid))
			op->pre[op->n_pre++] = l[i].domid;
	if (l)
		libxl_dominfo_list_free(l, nb);
}

static bool preexisting(const struct xop *op, uint32_t domid)
{
	for (unsigned i = 0; i < op->n_pre; i++)
		if (op->pre[i] == domid)
			return true;
	return false;
}

/* The domain a failed or killed helper left: its reported domid, else
 * the one with the create's UUID that was not there before. */
uint32_t xlb_helper_leftover(struct xop *op)
{
	int nb = 0;
	uint32_t found = XLB_NO_DOMID;
	libxl_dominfo *l = XLB_T(op->x, "libxl_list_domain", libxl_list_domain(op->x->ctx, &nb));
	for (int i = 0; l && i < nb; i++) {
		if (libxl_uuid_compare(&l[i].uuid, &op->dc.c_info.uuid) || l[i].domid == 0 ||
		    preexisting(op, l[i].domid))
			continue;
		if (found == XLB_NO_DOMID || l[i].domid == op->domid)
			found = l[i].domid;
	}
	if (l)
		libxl_dominfo_list_free(l, nb);
	return found;
}

static void build_argv(struct xop *op, char *buf, size_t len, char *argv[8])
{
	int n = 0;
	argv[n++] = (char *)XLB_BUILD_NAME;
	argv[n++] = (char *)helper_mode[op->kind];
	argv[n++] = op->name;
	if (op->kind == K_RESTORE) {
		snprintf(buf, len, "%llu%c%u", (unsigned long long)op->image_offset, '\0',
			 op->stream_version);
		argv[n++] = op->file;
		argv[n++] = buf;
		argv[n++] = buf + strlen(buf) + 1;
	} else if (op->kind == K_CORE_DUMP) {
		snprintf(buf, len, "%u", op->domid);
		argv[n++] = buf;
		argv[n++] = op->file;
	} else if (op->kind == K_MIGRATE) {
		snprintf(buf, len, "%u", op->domid);
		argv[n++] = buf;
		argv[n++] = op->host;
		argv[n++] = op->command;
		argv[n++] = (char *)(op->live ? "live" : "suspended");
	}
	argv[n] = NULL;
}

static void helper_done(struct xlb_child *c, void *arg);

int xlb_helper_start(struct xop *op, char *err, size_t errlen)
{
	struct hv_libxl *x = op->x;
	int in = -1;
	if (op->kind == K_CREATE || op->kind == K_RESTORE) {
		note_preexisting(op);
		if ((in = config_fd(op, err, errlen)) < 0)
			return -1;
	}
	char nums[64], *argv[8];
	build_argv(op, nums, sizeof(nums), argv);
	/* no_wait: the loop does not wait for the helper to be scheduled;
	 * a helper that cannot be run ends with status 127 like any failed
	 * build. */
	struct xlb_child_opts o = { .path = x->helper_path, .stdin_fd = in, .own_pgrp = true,
				    .no_wait = true, .err_line = on_helper_line };
	op->helper = xlb_child_start(x->loop, argv, XLB_HELPER_OUT_MAX, &o, helper_done, op,
				     err, errlen);
	if (in >= 0)
		close(in);
	if (!op->helper)
		return -1;
	op->helper_pid = xlb_child_pid(op->helper);
	op->helper_t0 = xd_loop_clock();
	x->helpers++;
	bool has_domid = op->kind == K_CORE_DUMP || op->kind == K_MIGRATE;
	xd_log(XD_LOG_INFO, op->name, has_domid ? (long)op->domid : -1,
	       "build helper started: pid=%ld mode=%s running=%u", (long)op->helper_pid,
	       helper_mode[op->kind], x->helpers);
	return 0;
}

/* What the helper's end means: its result line, else how it died. */
static void helper_outcome(struct xop *op, struct xlb_child *c, struct xlb_build_result *r)
{
	char how[128];
	xlb_child_describe(c, how, sizeof(how));
	if (xlb_build_parse(xlb_child_output(c, NULL, NULL), r))
		return;                  /* even if it died after saying it */
	memset(r, 0, sizeof(*r));
	r->libxl_rc = op->cancelled ? ERROR_ABORTED : ERROR_FAIL;
	r->domid = -1;
	const char *last = xlb_child_last_err(c);
	if (last[0])
		xlb_build_line_level(last, &last);
	snprintf(r->msg, sizeof(r->msg), XLB_BUILD_NAME " %s%s%s%s", how[0] ? how : "gave no result",
		 op->cancelled ? " (killed: start_timeout or cancel)" : "", last[0] ? "; last: " : "",
		 last);
}

static void helper_done(struct xlb_child *c, void *arg)
{
	struct xop *op = arg;
	struct hv_libxl *x = op->x;
	struct xlb_build_result r;
	if (op->kind == K_MIGRATE) {
		xlb_migrate_done(op, c);
		xlb_kick(x);
		return;
	}
	helper_outcome(op, c, &r);
	op->helper = NULL;
	xlb_child_free(c);
	x->helpers--;
	if (r.domid >= 0)
		op->domid = (uint32_t)r.domid;
	xd_log(XD_LOG_INFO, op->name, r.domid, "build helper ended: pid=%ld mode=%s ms=%llu "
	       "result=%s running=%u", (long)op->helper_pid, helper_mode[op->kind],
	       (unsigned long long)(xd_loop_clock() - op->helper_t0), r.ok ? "ok" : "failed",
	       x->helpers);
	if (op->kind == K_CORE_DUMP) {
		if (r.ok)
			xlb_op_finish(op, 0, NULL);
		else
			xlb_op_finish(op, xlb_hv_rc(r.libxl_rc), r.msg);
		return;
	}
	if (r.ok)
		xlb_build_done(op);
	else
		xlb_build_failed(op, xlb_hv_rc(r.libxl_rc), r.msg);
	xlb_kick(x);
}

/* start_timeout or a cancel: kill it; helper_done follows. */
void xlb_helper_cancel(struct xop *op)
{
	xd_log(XD_LOG_WARNING, op->name, -1, "killing build helper pid=%ld",
	       (long)op->helper_pid);
	xlb_child_kill(op->helper);
}

/* Memory held so far by the domains that helpers are building, and
 * what they still need beyond it (admission must count both: a build
 * populates its memory over seconds). */
void xlb_builds_memory(struct hv_libxl *x, uint64_t *held_kb, uint64_t *pending_kb)
{
	*held_kb = *pending_kb = 0;
	int nb = 0;
	libxl_dominfo *l = NULL;
	for (struct xop *op = x->ops; op; op = op->next) {
		if (!op->helper || op->kind == K_CORE_DUMP)
			continue;
		if (!l && !(l = XLB_T(x, "libxl_list_domain", libxl_list_domain(x->ctx, &nb))))
			nb = 0;
		uint64_t held = 0;
		for (int i = 0; i < nb; i++)
			if (!libxl_uuid_compare(&l[i].uuid, &op->dc.c_info.uuid) &&
			    !preexisting(op, l[i].domid))
				held += l[i].current_memkb + l[i].outstanding_memkb;
		if (held > op->need_kb)
			held = op->need_kb;
		*held_kb += held;
		*pending_kb += op->need_kb - held;
	}
	if (l)
		libxl_dominfo_list_free(l, nb);
}
