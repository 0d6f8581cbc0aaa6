/* SPDX-License-Identifier: ISC */
/* The simulated operations: started by the port, completed from a timer. */
#include "hv/sim/sim_int.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/alloc.h"

/* ---- operations ---- */

static void op_fire(struct xd_timer *t, void *arg);

/* Ops that a domain's destruction or readiness acts on; they are counted
 * while undecided so that the common case (none) skips the list walk. */
static bool targets_domain(enum sim_op_kind kind)
{
	return kind == OP_SAVE || kind == OP_SHUTDOWN || kind == OP_CORE_DUMP || kind == OP_MIGRATE;
}

static void op_close(struct sim_op *op)
{
	if (!op->decided && targets_domain(op->kind))
		op->sim->n_open_targeted--;
	op->decided = true;
}

struct sim_op *op_new(struct hv_sim *s, enum sim_op_kind kind, uint64_t id, uint32_t domid)
{
	struct sim_op *op = xd_calloc(1, sizeof(*op));
	op->sim = s;
	op->kind = kind;
	op->id = id;
	op->domid = domid;
	op->tx.fd = -1;
	xd_timer_init(&op->t, op_fire, op);
	op->next = s->ops;
	if (s->ops)
		s->ops->pprev = &op->next;
	op->pprev = &s->ops;
	s->ops = op;
	if (targets_domain(kind))
		s->n_open_targeted++;
	return op;
}

void op_decide(struct sim_op *op, int rc, const char *fmt, ...)
{
	op_close(op);
	op->rc = rc;
	op->msg[0] = '\0';
	if (fmt) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(op->msg, sizeof(op->msg), fmt, ap);
		va_end(ap);
	}
	arm_in(op->sim, &op->t, 0);
}

void op_unlink(struct sim_op *op)
{
	*op->pprev = op->next;
	if (op->next)
		op->next->pprev = op->pprev;
}

void op_free(struct sim_op *op)
{
	op_close(op);
	xd_timer_disarm(op->sim->timers, &op->t);
	if (op->tx.fd >= 0)
		savefile_tx_abort(&op->tx);
	free(op->file);
	free(op);
}

void op_finish(struct sim_op *op, int rc, uint32_t domid, const char *msg)
{
	struct hv_event ev = { .kind = HV_EV_OP_DONE, .op = op->id, .rc = rc, .domid = domid };
	snprintf(ev.msg, sizeof(ev.msg), "%s", msg ? msg : "");
	op_unlink(op);
	emit(op->sim, &ev);
	op_free(op);
}

/* Operations on a domain being destroyed cannot succeed. */
void fail_ops_on(struct hv_sim *s, uint32_t domid)
{
	if (!s->n_open_targeted)
		return;
	for (struct sim_op *op = s->ops; op; op = op->next) {
		if (targets_domain(op->kind) && op->domid == domid && !op->decided)
			op_decide(op, HV_EFAIL, "domain %" PRIu32 " was destroyed", domid);
	}
}

bool name_in_use(struct hv_sim *s, const char *name)
{
	return dom_by_name(s, name) != NULL;
}

/* A failure the scenario asked for: the first N attempts. */
bool scripted_failure(unsigned *failed, unsigned limit, unsigned *k)
{
	if (*failed >= limit)
		return false;
	*k = ++*failed;
	return true;
}

/* Create or restore reaches its end: build the domain, or say why not. */
static void finish_build(struct sim_op *op)
{
	struct hv_sim *s = op->sim;
	struct sim_profile *p = op->prof;
	bool create = op->kind == OP_CREATE;
	unsigned k;
	char msg[HV_MSG_MAX];
	if (create ? scripted_failure(&p->failed_creates, p->fail_creates, &k)
		   : scripted_failure(&p->failed_restores, p->fail_restores, &k)) {
		snprintf(msg, sizeof(msg), "simulated %s failure (%u of %u)",
			 create ? "create" : "restore", k, create ? p->fail_creates : p->fail_restores);
		op_finish(op, HV_EFAIL, 0, msg);
		return;
	}
	if (name_in_use(s, op->name)) {
		snprintf(msg, sizeof(msg), "domain %s already exists", op->name);
		op_finish(op, HV_EFAIL, 0, msg);
		return;
	}
	if (s->free_kb < op->mem_kb) {
		snprintf(msg, sizeof(msg), "not enough memory for %s: need %" PRIu64 " MiB, free %"
			 PRIu64 " MiB", op->name, (op->mem_kb + 1023) / 1024, s->free_kb / 1024);
		op_finish(op, HV_ENOMEM, 0, msg);
		return;
	}
	struct sim_dom *d = dom_add(s, p, op->name, op->mem_kb, op->hvm);
	d->restored = !create;
	op_finish(op, 0, d->domid, NULL);
}

/* A save that does not complete: no image is left, and the guest (if
 * it still exists and had suspended) is resumed. */
static void save_undo(struct sim_op *op)
{
	if (op->tx.fd >= 0)
		savefile_tx_abort(&op->tx);
	struct sim_dom *d = dom_live(op->sim, op->domid);
	if (d && op->suspended)
		dom_resume(d);
}

/* The end of a save's copy phase. */
static void finish_save(struct sim_op *op)
{
	struct sim_profile *p = dom_live(op->sim, op->domid)->prof;
	unsigned k;
	char msg[HV_MSG_MAX];
	if (scripted_failure(&p->failed_saves, p->fail_saves, &k))
		snprintf(msg, sizeof(msg), "simulated save failure (%u of %u)", k, p->fail_saves);
	else if (savefile_write_fake_stream(op->tx.fd, SIM_IMAGE_MARKER, msg, sizeof(msg)) == 0 &&
		 savefile_tx_commit(&op->tx, msg, sizeof(msg)) == 0) {
		op_finish(op, 0, 0, NULL);
		return;
	}
	save_undo(op);
	op_finish(op, HV_EFAIL, 0, msg);
}

/* First step of a save: the guest suspends, then the copy takes save_ms. */
static void suspend_for_save(struct sim_op *op)
{
	struct sim_dom *d = dom_live(op->sim, op->domid);
	op->suspended = true;
	dom_shutdown(d, HV_SD_SUSPEND);
	if (d->prof->save_ms != SAVE_NEVER)   /* else only cancel or destroy end it */
		arm_in(op->sim, &op->t, d->prof->save_ms);
}

static void write_core(struct sim_op *op)
{
	struct sim_dom *d = dom_live(op->sim, op->domid);
	int fd = open(op->file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOCTTY, 0600);
	char msg[HV_MSG_MAX];
	if (fd < 0) {
		snprintf(msg, sizeof(msg), "%s: %s", op->file, strerror(errno));
		op_finish(op, HV_EFAIL, 0, msg);
		return;
	}
	dprintf(fd, "xendomd-sim core dump of %s (domid %" PRIu32 ", %" PRIu64 " KiB)\n",
		d->name, d->domid, d->mem_kb);
	if (close(fd) != 0) {
		snprintf(msg, sizeof(msg), "%s: %s", op->file, strerror(errno));
		op_finish(op, HV_EFAIL, 0, msg);
		return;
	}
	op_finish(op, 0, 0, NULL);
}

/* A decided outcome: undo what a save did, then report. */
static void finish_decided(struct sim_op *op)
{
	if (op->kind == OP_SAVE)
		save_undo(op);
	op_finish(op, op->rc, 0, op->msg);
}

static void op_fire(struct xd_timer *t, void *arg)
{
	(void)t;
	struct sim_op *op = arg;
	if (op->decided) {
		finish_decided(op);
		return;
	}
	switch (op->kind) {
	case OP_CREATE:
	case OP_RESTORE:
		finish_build(op);
		break;
	case OP_SAVE:
		if (op->suspended)
			finish_save(op);
		else
			suspend_for_save(op);
		break;
	case OP_SHUTDOWN:
		op_finish(op, HV_EFAIL, 0, "the guest did not acknowledge the shutdown request "
			  "within 60 s");
		break;
	case OP_DESTROY: {
		struct sim_dom *d = dom_by_id(op->sim, op->domid);
		if (d)
			dom_remove(d);
		op_finish(op, 0, 0, NULL);
		break;
	}
	case OP_CORE_DUMP:
		write_core(op);
		break;
	case OP_UNPAUSE:
		op_finish(op, 0, 0, NULL);
		break;
	case OP_MIGRATE:
		migrate_fire(op);
		break;
	}
}

