/* SPDX-License-Identifier: ISC */
/*
 * Live migration (hv_port.h's migrate) on the libxl backend: the whole
 * sending side of `xl migrate` runs in a helper, `xendomd-build migrate`
 * (migrate_helper.c), because each of its steps blocks -- the transport's
 * messages and libxl_domain_suspend, which copies the guest's memory for
 * seconds to minutes.  The loop only starts it, forwards its stderr to
 * the log and reads its result (build_proto.h):
 *
 *   ok     the target runs the guest; the copy here is a suspended husk
 *          named NAME--migratedaway, which the engine destroys;
 *   fail   it failed before the go and the helper resumed the guest;
 *   doubt  contact was lost after the go: HV_EINDOUBT, nothing touched.
 *
 * A cancel (migrate_timeout) is a SIGTERM to the helper, which cuts the
 * transport, so the step under way fails and the helper resumes the
 * guest (or, past the go, reports doubt).  A helper still there
 * XLB_MIGRATE_KILL_MS later is killed; a helper that ends without a
 * result (killed, crashed) is judged by its "go" line: said, the guest
 * may run on the target (doubt); not said, the target never had the
 * permission, so the daemon renames the domain back and resumes it.
 */
#include "hv/libxl/libxl_int.h"

#include <signal.h>
#include <stdlib.h>

#include "hv/libxl/build_proto.h"

#define XLB_MIGRATE_KILL_MS 15000        /* from the cancel to SIGKILL */

int xlb_migrate(struct hv *hv, uint32_t domid, const char *host, const char *command, bool live,
		uint64_t id)
{
	struct hv_libxl *x = X(hv);
	char err[HV_MSG_MAX];
	if (x->fatal)
		return HV_EFAIL;
	char *name = XLB_T(x, "libxl_domid_to_name", libxl_domid_to_name(x->ctx, domid));
	if (!name)
		return HV_ENOENT;
	struct xop *op = xlb_op_new(x, K_MIGRATE, id, domid);
	if (!op) {
		free(name);
		return HV_ENOMEM;
	}
	snprintf(op->name, sizeof(op->name), "%s", name);
	free(name);
	op->host = strdup(host);
	op->command = strdup(command);
	op->live = live;
	op->phase = P_MIGRATE;
	if (op->host && op->command && xlb_helper_start(op, err, sizeof(err)) == 0)
		return 0;
	xd_log(XD_LOG_ERR, op->name, domid, "migration: %s", op->host ? err : "out of memory");
	op->phase = P_FINISHED;
	xlb_kick(x);
	return HV_EFAIL;
}

/* migrate_timeout: the helper cuts its transport and ends by itself. */
void xlb_migrate_cancel(struct xop *op)
{
	xd_log(XD_LOG_WARNING, op->name, op->domid, "cancelling the migration to %s "
	       "(SIGTERM to its helper pid=%ld)", op->host, (long)op->helper_pid);
	kill(op->helper_pid, SIGTERM);
	op->kill_at = xd_loop_clock() + XLB_MIGRATE_KILL_MS;
	xd_timer_arm_in(op->x->timers, &op->timer, XLB_MIGRATE_KILL_MS);
}

/* From the kick: a cancelled helper that outstays its welcome. */
void xlb_migrate_step(struct xop *op)
{
	if (!op->helper || !op->kill_at || xd_loop_clock() < op->kill_at)
		return;
	op->kill_at = 0;
	xd_log(XD_LOG_ERR, op->name, op->domid, "the migration helper pid=%ld did not end after "
	       "the cancel; killing it", (long)op->helper_pid);
	xlb_child_kill(op->helper);
}

/* The helper died without a result and without the go: the target never
 * had the permission.  Give the domain back its name, and resume it if
 * it had suspended. */
static void rescue(struct xop *op, const char *why)
{
	char away[XD_NAME_MAX + 16], msg[HV_MSG_MAX];
	snprintf(away, sizeof(away), "%s--migratedaway", op->name);
	snprintf(msg, sizeof(msg), "%.200s before the permission to go", why);
	char *now = XLB_T(op->x, "libxl_domid_to_name", libxl_domid_to_name(op->x->ctx, op->domid));
	if (now && !strcmp(now, away) &&
	    XLB_T(op->x, "libxl_domain_rename", libxl_domain_rename(op->x->ctx, op->domid, away, op->name)))
		xd_log(XD_LOG_ERR, op->name, op->domid, "could not rename %s back", away);
	free(now);
	libxl_dominfo di;
	libxl_dominfo_init(&di);
	bool suspended = libxl_domain_info(op->x->ctx, &di, op->domid) == 0 && di.shutdown &&
			 di.shutdown_reason == LIBXL_SHUTDOWN_REASON_SUSPEND;
	libxl_dominfo_dispose(&di);
	int rc = op->cancelled ? HV_ECANCELED : HV_EFAIL;
	if (suspended) {
		xlb_resume_then_fail(op, rc, msg);
		return;
	}
	xlb_recheck_domain(op->x, op->domid);
	xlb_op_finish(op, rc, msg);
}

static void log_end(struct xop *op, const struct xlb_migrate_result *r, const char *how)
{
	static const char *const word[] = { "no result", "ok", "failed", "in doubt" };
	xd_log(r->outcome == XLB_MIG_OK ? XD_LOG_INFO : XD_LOG_WARNING, op->name, op->domid,
	       "build helper ended: pid=%ld mode=migrate ms=%llu result=%s%s%s running=%u",
	       (long)op->helper_pid, (unsigned long long)(xd_loop_clock() - op->helper_t0),
	       word[r->outcome], how[0] ? " " : "", how, op->x->helpers);
}

void xlb_migrate_done(struct xop *op, struct xlb_child *c)
{
	struct xlb_migrate_result r;
	char how[128], why[HV_MSG_MAX];
	xlb_migrate_parse(xlb_child_output(c, NULL, NULL), &r);
	xlb_child_describe(c, how, sizeof(how));
	op->helper = NULL;
	xlb_child_free(c);
	op->x->helpers--;
	op->kill_at = 0;
	xd_timer_disarm(op->x->timers, &op->timer);
	log_end(op, &r, how);
	switch (r.outcome) {
	case XLB_MIG_OK:
		xlb_op_finish(op, 0, NULL);
		return;
	case XLB_MIG_FAIL:
		xlb_recheck_domain(op->x, op->domid);   /* resumed: the next shutdown counts */
		xlb_op_finish(op, op->cancelled ? HV_ECANCELED : HV_EFAIL, r.msg);
		return;
	case XLB_MIG_DOUBT:
		xlb_op_finish(op, HV_EINDOUBT, r.msg);
		return;
	case XLB_MIG_NONE:
		break;
	}
	snprintf(why, sizeof(why), XLB_BUILD_NAME " %s", how[0] ? how : "gave no result");
	if (r.go) {
		xlb_op_finish(op, HV_EINDOUBT, "the migration helper died after the permission to go");
		return;
	}
	rescue(op, why);
}
