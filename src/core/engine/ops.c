/* SPDX-License-Identifier: ISC */
/*
 * Backend ops and hooks: an op id carries a sequence number, the op type and
 * the domain's slot, so a completion finds its domain in O(1) and a stale
 * one (of an op we gave up on) is recognised; completions are handed to the
 * concern that started the op.
 */
#include "core/engine/engine_int.h"

uint64_t eng_next_op(struct xd_engine *e, enum op_type type, const struct dom *d)
{
	if (++e->op_seq == 0)
		e->op_seq = 1;
	return OP_MAKE(e->op_seq, type, d->slot);
}

bool eng_op_started(struct xd_engine *e, struct dom *d, uint64_t op, int rc)
{
	if (rc < 0)
		return false;
	d->op = op;
	e->ops_inflight++;
	return true;
}

void eng_destroy_domain(struct xd_engine *e, struct dom *d, enum after_death ad)
{
	d->after_death = ad;
	uint64_t op = eng_next_op(e, OP_DESTROY, d);
	int rc = e->hv->ops->destroy(e->hv, (uint32_t)d->domid, op);
	if (!eng_op_started(e, d, op, rc))
		eng_log(e, XD_LOG_ERR, d, "destroy failed: %s", hv_strerror(rc));
}

bool eng_run_hook(struct xd_engine *e, struct dom *d, const char *path, bool post)
{
	if (!e->env.run_hook)
		return false;
	struct xd_hook_req req = {
		.path = path,
		.domain = d->name,
		.domid = d->domid,
		.cause = d->cause,
		.timeout_ms = d->cfg->hook_timeout_ms,
		.op = eng_next_op(e, OP_HOOK, d),
	};
	if (e->env.run_hook(e->env.ctx, &req) < 0)
		return false;
	d->hook.op = req.op;
	d->hook.post = post;
	e->hooks_inflight++;
	return true;
}

/* The completion of an op we no longer wait for. */
static void on_stale_op(struct xd_engine *e, struct dom *d, const struct hv_event *ev)
{
	enum op_type t = OP_TYPE(ev->op);
	if ((t == OP_CREATE || t == OP_RESTORE) && ev->rc == 0) {
		eng_log(e, XD_LOG_WARNING, d, "an abandoned create finished late (domid %u); destroying it",
			ev->domid);
		e->hv->ops->destroy(e->hv, ev->domid, eng_next_op(e, OP_DESTROY, d));
	}
}

void eng_on_op_done(struct xd_engine *e, const struct hv_event *ev)
{
	struct dom *d = slot_dom(e, OP_SLOT(ev->op));
	if (!d)
		return;
	if (d->op != ev->op) {
		on_stale_op(e, d, ev);
		return;
	}
	d->op = 0;
	e->ops_inflight--;
	switch (OP_TYPE(ev->op)) {
	case OP_CREATE:
	case OP_RESTORE:
		eng_on_create_done(e, d, ev);
		break;
	case OP_UNPAUSE:
		eng_on_unpause_done(e, d, ev);
		break;
	case OP_SAVE:
		eng_on_save_done(e, d, ev);
		break;
	case OP_SHUTDOWN:
		eng_on_shutdown_done(e, d, ev);
		break;
	case OP_MIGRATE:
		eng_on_migrate_done(e, d, ev);
		break;
	case OP_DESTROY:
		if (ev->rc < 0)
			eng_log(e, XD_LOG_ERR, d, "destroy failed: %s", ev->msg[0] ? ev->msg : hv_strerror(ev->rc));
		break;
	case OP_DUMP:
	case OP_HOOK:
		break;
	}
}

void xd_engine_hook_done(struct xd_engine *e, uint64_t op, bool ok, const char *msg)
{
	struct dom *d = slot_dom(e, OP_SLOT(op));
	if (!d || d->hook.op != op)
		return;
	d->hook.op = 0;
	e->hooks_inflight--;
	if (d->hook.post) {
		/* the domain is gone; log and move on */
		if (!ok)
			eng_log(e, XD_LOG_WARNING, d, "exec_stop_post: %s", msg);
		eng_finish_death(e, d);
	} else if (!ok) {
		eng_attempt_failed(e, d, "exec_start_pre: %s", msg);
	} else if (d->state == XD_STARTING && d->goal == GOAL_UP) {
		eng_do_create(e, d);
	} else {
		/* the start was abandoned while the hook ran */
		eng_release_start_slot(e, d);
		eng_disarm_timers(e, d);
		eng_set_state(e, d, XD_INACTIVE, "start abandoned");
		eng_mark_neighbours_dirty(e, d);
	}
	xd_engine_pump(e);
}
