/* SPDX-License-Identifier: ISC */
/* The op records and their end, the kick that advances them from the loop,
 * and the one-call ops (unpause, shutdown, destroy, ...) (libxl_int.h). */
#include "hv/libxl/libxl_int.h"

#include <stdlib.h>
#include <unistd.h>

void xlb_kick(struct hv_libxl *x)
{
	/* Deadline 0 is always due: the loop does not sleep before it. */
	xd_timer_arm(x->timers, &x->kick, 0);
}

void xlb_emit(struct hv_libxl *x, const struct hv_event *ev)
{
	hv_emit(&x->hv, ev);
	xlb_kick(x);
}

void xlb_emit_fatal(struct hv_libxl *x, const char *msg)
{
	if (x->fatal)
		return;
	x->fatal = true;
	struct hv_event ev = { .kind = HV_EV_FATAL };
	snprintf(ev.msg, sizeof(ev.msg), "%s", msg);
	xlb_emit(x, &ev);
}

int xlb_hv_rc(int libxl_rc)
{
	switch (libxl_rc) {
	case 0: return 0;
	case ERROR_NOPARAVIRT: return HV_ENOPV;
	case ERROR_DOMAIN_NOTFOUND: return HV_ENOENT;
	case ERROR_NOMEM: return HV_ENOMEM;
	case ERROR_ABORTED: return HV_ECANCELED;
	default: return HV_EFAIL;
	}
}

static void ao_callback(libxl_ctx *ctx, int rc, void *arg)
{
	(void)ctx;
	struct xop *op = arg;
	op->ao_came = true;
	op->ao_rc = rc;
	xlb_kick(op->x);
}

/* Balloon polling: the next look happens in the kick. */
static void op_timer_fired(struct xd_timer *t, void *arg)
{
	(void)t;
	struct xop *op = arg;
	xlb_kick(op->x);
}

struct xop *xlb_op_new(struct hv_libxl *x, enum op_kind kind, uint64_t id, uint32_t domid)
{
	struct xop *op = calloc(1, sizeof(*op));
	if (!op)
		return NULL;
	op->x = x;
	op->kind = kind;
	op->id = id;
	op->domid = domid;
	op->fd = -1;
	op->how.callback = ao_callback;
	op->how.u.for_callback = op;
	op->logmark = xlb_errlog_mark(&x->errs);
	xd_timer_init(&op->timer, op_timer_fired, op);
	struct xop **p = &x->ops;
	while (*p)
		p = &(*p)->next;
	*p = op;
	return op;
}

void xlb_op_release(struct xop *op)
{
	xlb_marker_clear(op);
	if (op->dc_live)
		libxl_domain_config_dispose(&op->dc);
	op->dc_live = false;
	if (op->helper && op->kind == K_MIGRATE) {
		/* The daemon is going: a migration cut off would leave the
		 * guest suspended, so its helper finishes on its own. */
		xd_log(XD_LOG_WARNING, op->name, op->domid, "leaving the migration to %s to its "
		       "helper pid=%ld", op->host, (long)op->helper_pid);
		xlb_child_detach(op->helper);
		op->helper = NULL;
		op->x->helpers--;
	} else if (op->helper) {
		xlb_child_free(op->helper);      /* kills it; the daemon is going */
		op->helper = NULL;
		op->x->helpers--;
	}
	if (op->fd >= 0)
		close(op->fd);
	op->fd = -1;
	if (op->tx_open)
		savefile_tx_abort(&op->tx);
	op->tx_open = false;
	xd_timer_disarm(op->x->timers, &op->timer);
}

void xlb_op_free(struct xop *op)
{
	xlb_op_release(op);
	free(op->xl_path);
	free(op->json);
	free(op->file);
	free(op->host);
	free(op->command);
	free(op);
}

/* The op's failure reason: libxl's last error line about it, else rc's. */
void xlb_op_reason(struct xop *op, int libxl_rc, char *out, size_t len)
{
	long domid = op->domid == XLB_NO_DOMID ? -1 : (long)op->domid;
	if (!xlb_errlog_pick(&op->x->errs, domid, op->logmark, out, len))
		snprintf(out, len, "libxl: %s", libxl_error_to_string(libxl_rc));
}

/* Report the op's end.  Never while libxl still holds the op's arguments. */
void xlb_op_finish(struct xop *op, int rc, const char *msg)
{
	if (op->cancelled && rc < 0)
		rc = HV_ECANCELED;
	struct hv_event ev = { .kind = HV_EV_OP_DONE, .op = op->id, .rc = rc };
	if (rc == 0 && (op->kind == K_CREATE || op->kind == K_RESTORE))
		ev.domid = op->domid;
	snprintf(ev.msg, sizeof(ev.msg), "%s", msg ? msg : "");
	xlb_op_release(op);
	op->phase = P_FINISHED;
	if (op->internal) {
		if (rc < 0)
			xd_log(XD_LOG_ERR, NULL, op->domid, "%s", ev.msg);
		xlb_kick(op->x);
		return;
	}
	xlb_emit(op->x, &ev);
}

void xlb_op_fail_libxl(struct xop *op, int libxl_rc, const char *what)
{
	char why[HV_MSG_MAX - 64], msg[HV_MSG_MAX];
	xlb_op_reason(op, libxl_rc, why, sizeof(why));
	snprintf(msg, sizeof(msg), "%s: %s", what, why);
	xlb_op_finish(op, xlb_hv_rc(libxl_rc), msg);
}

/* Enter an ao phase; the libxl call follows at once.  The callback may
 * come during the call: it only sets ao_came. */
void xlb_ao_enter(struct xop *op, enum op_phase ph)
{
	op->phase = ph;
	op->ao_pending = true;
	op->ao_came = false;
}

/* The call returned rc: nonzero means the ao never started. */
bool xlb_ao_started(struct xop *op, int rc)
{
	if (rc)
		op->ao_pending = false;
	return rc == 0;
}

static struct xop *op_find(struct hv_libxl *x, uint64_t id)
{
	for (struct xop *op = x->ops; op; op = op->next)
		if (op->id == id && !op->internal && op->phase != P_FINISHED)
			return op;
	return NULL;
}

void xlb_simple_done(struct xop *op, int rc)
{
	static const char *const what[] = {
		[K_UNPAUSE] = "unpause", [K_SHUTDOWN] = "shutdown request",
		[K_DESTROY] = "destroy", [K_CORE_DUMP] = "core dump",
	};
	if (rc)
		xlb_op_fail_libxl(op, rc, what[op->kind]);
	else
		xlb_op_finish(op, 0, NULL);
}

/* libxl writes the dump inside the call: a helper does it (builder.c). */
static int core_dump(struct xop *op)
{
	char err[HV_MSG_MAX];
	op->ao_pending = false;
	if (xlb_helper_start(op, err, sizeof(err)) == 0)
		return 0;
	xd_log(XD_LOG_ERR, NULL, op->domid, "core dump: %s", err);
	return ERROR_FAIL;
}

/* Start a one-call ao.  Returns the port's rc: a call refused at once
 * reports no OP_DONE (the op is dropped quietly). */
static int simple_op(struct hv_libxl *x, enum op_kind kind, uint32_t domid, uint64_t id,
		     const char *file)
{
	if (x->fatal)
		return HV_EFAIL;
	struct xop *op = xlb_op_new(x, kind, id, domid);
	if (!op)
		return HV_ENOMEM;
	if (file && !(op->file = strdup(file))) {
		op->phase = P_FINISHED;
		xlb_kick(x);
		return HV_ENOMEM;
	}
	if (kind == K_DESTROY) {
		xlb_destroy_queue(op);           /* one per loop turn (settle.c) */
		return 0;
	}
	xlb_ao_enter(op, P_SIMPLE);
	int rc;
	switch (kind) {
	case K_UNPAUSE:
		rc = XLB_T(x, "libxl_domain_unpause", libxl_domain_unpause(x->ctx, domid, &op->how));
		break;
	case K_SHUTDOWN:
		rc = XLB_T(x, "libxl_domain_shutdown", libxl_domain_shutdown(x->ctx, domid, &op->how));
		break;
	default: rc = core_dump(op); break;
	}
	if (xlb_ao_started(op, rc))
		return 0;
	op->phase = P_FINISHED;
	xlb_kick(x);
	return xlb_hv_rc(rc);
}

int xlb_unpause(struct hv *hv, uint32_t domid, uint64_t id)
{
	return simple_op(X(hv), K_UNPAUSE, domid, id, NULL);
}

/* ERROR_NOPARAVIRT comes back at once as HV_ENOPV (doc/xen-facts.md §4.1). */
int xlb_shutdown(struct hv *hv, uint32_t domid, uint64_t id)
{
	return simple_op(X(hv), K_SHUTDOWN, domid, id, NULL);
}

int xlb_destroy(struct hv *hv, uint32_t domid, uint64_t id)
{
	return simple_op(X(hv), K_DESTROY, domid, id, NULL);
}

int xlb_core_dump(struct hv *hv, uint32_t domid, const char *file, uint64_t id)
{
	return simple_op(X(hv), K_CORE_DUMP, domid, id, file);
}

int xlb_power_button(struct hv *hv, uint32_t domid)
{
	return xlb_hv_rc(XLB_T(X(hv), "libxl_send_trigger",
			       libxl_send_trigger(X(hv)->ctx, domid, LIBXL_TRIGGER_POWER, 0, NULL)));
}

/* rename-restart: xl keeps the old domain under a new name and a new
 * UUID (libxl_domain_preserve), so the restarted one keeps the UUID. */
int xlb_rename(struct hv *hv, uint32_t domid, const char *new_name)
{
	struct hv_libxl *x = X(hv);
	char *old = XLB_T(x, "libxl_domid_to_name", libxl_domid_to_name(x->ctx, domid));
	if (!old)
		return HV_ENOENT;
	size_t n = strlen(old);
	int rc;
	if (!strncmp(new_name, old, n) && new_name[n]) {
		libxl_domain_create_info ci;
		libxl_domain_create_info_init(&ci);
		ci.name = old;                   /* dispose frees it */
		old = NULL;
		libxl_uuid fresh;
		libxl_uuid_generate(&fresh);
		rc = XLB_T(x, "libxl_domain_preserve",
			   libxl_domain_preserve(x->ctx, domid, &ci, new_name + n, fresh));
		libxl_domain_create_info_dispose(&ci);
	} else {
		rc = XLB_T(x, "libxl_domain_rename", libxl_domain_rename(x->ctx, domid, old, new_name));
	}
	free(old);
	return xlb_hv_rc(rc);
}

void xlb_cancel(struct hv *hv, uint64_t id)
{
	struct hv_libxl *x = X(hv);
	struct xop *op = op_find(x, id);
	if (!op)
		return;
	op->cancelled = true;
	if (op->kind == K_MIGRATE && op->helper)
		xlb_migrate_cancel(op);                /* it resumes, or it is in doubt */
	else if (op->helper)
		xlb_helper_cancel(op);                 /* its end follows */
	else if (op->ao_pending)
		libxl_ao_abort(x->ctx, &op->how);      /* the callback follows */
	else
		xlb_op_finish(op, HV_ECANCELED, "cancelled");
}

static void ao_finished(struct xop *op)
{
	int rc = op->ao_rc;
	op->ao_pending = op->ao_came = false;
	switch (op->phase) {
	case P_CLEANUP: xlb_op_finish(op, op->fail_rc, op->fail_msg); break;
	case P_SIMPLE: xlb_simple_done(op, rc); break;
	case P_SAVE_CONFIG: xlb_save_config_done(op, rc); break;
	case P_SAVE_STREAM: xlb_save_stream_done(op, rc); break;
	case P_RESUME: xlb_resume_done(op, rc); break;
	default: break;
	}
}

static void step(struct xop *op)
{
	if (op->ao_pending) {
		if (op->ao_came)
			ao_finished(op);
		return;
	}
	if (op->phase == P_CONFIG)
		xlb_step_config(op);
	else if (op->phase == P_MEMORY)
		xlb_step_memory(op);
	else if (op->phase == P_MIGRATE)
		xlb_migrate_step(op);
}

static void reap_finished_ops(struct hv_libxl *x)
{
	for (struct xop **p = &x->ops; *p;) {
		struct xop *op = *p;
		if (op->phase == P_FINISHED && !op->ao_pending) {
			*p = op->next;
			xlb_op_free(op);
		} else {
			p = &op->next;
		}
	}
}

/* Each op moves at most one phase per pass; any transition that needs
 * another pass kicks again, so the timer loop runs until quiet. */
void xlb_on_kick(struct xd_timer *t, void *arg)
{
	(void)t;
	struct hv_libxl *x = arg;
	xlb_fetch_dispatch(x);
	for (struct xop *op = x->ops; op; op = op->next)
		step(op);
	reap_finished_ops(x);
}
