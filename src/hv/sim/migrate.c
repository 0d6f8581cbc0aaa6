/* SPDX-License-Identifier: ISC */
/* Live migration on the simulated host: the domain leaves it (hv_sim.h). */
#include "hv/sim/sim_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "util/alloc.h"

static void record(struct sim_profile *p, const char *host, const char *command)
{
	free(p->migrated_host);
	free(p->migrated_command);
	p->migrated_host = xd_strdup(host);
	p->migrated_command = xd_strdup(command);
}

static bool migration_running(struct hv_sim *s, uint32_t domid)
{
	for (struct sim_op *op = s->ops; op; op = op->next)
		if (op->kind == OP_MIGRATE && op->domid == domid && !op->decided)
			return true;
	return false;
}

int sim_migrate(struct hv *hv, uint32_t domid, const char *host, const char *command, bool live,
		uint64_t id)
{
	struct hv_sim *s = to_sim(hv);
	struct sim_dom *d = dom_live(s, domid);
	if (!d)
		return HV_ENOENT;
	d->prof->counts.migrates++;
	record(d->prof, host, command);
	d->prof->migrated_live = live;
	bool busy = migration_running(s, domid);
	struct sim_op *op = op_new(s, OP_MIGRATE, id, domid);
	if (d->shutdown)
		op_decide(op, HV_EFAIL, "domain %" PRIu32 " is shut down", domid);
	else if (busy)
		op_decide(op, HV_EFAIL, "a migration of domain %" PRIu32 " is already running", domid);
	else if (d->prof->migrate_ms != SAVE_NEVER)   /* else only cancel or destroy end it */
		arm_in(s, &op->t, d->prof->migrate_ms);
	return 0;
}

/* The live copy is done: the guest suspends, and the rest of the
 * protocol (ready, the go, the target's report) happens at once. */
void migrate_fire(struct sim_op *op)
{
	struct sim_dom *d = dom_live(op->sim, op->domid);
	struct sim_profile *p = d->prof;
	char msg[HV_MSG_MAX], away[XD_NAME_MAX];
	unsigned k;
	dom_shutdown(d, HV_SD_SUSPEND);
	if (scripted_failure(&p->failed_migrates, p->fail_migrates, &k)) {
		snprintf(msg, sizeof(msg), "simulated migration failure before the go (%u of %u)", k,
			 p->fail_migrates);
		dom_resume(d);
		op_finish(op, HV_EFAIL, 0, msg);
		return;
	}
	snprintf(away, sizeof(away), "%.49s--migratedaway", d->name);
	if (sim_rename(&op->sim->hv, d->domid, away) != 0) {
		dom_resume(d);
		op_finish(op, HV_EFAIL, 0, "cannot rename the domain away before the go");
		return;
	}
	if (scripted_failure(&p->failed_after_go, p->fail_migrates_after_go, &k)) {
		snprintf(msg, sizeof(msg), "simulated: contact lost after the go (%u of %u)", k,
			 p->fail_migrates_after_go);
		op_finish(op, HV_EINDOUBT, 0, msg);
		return;
	}
	op_finish(op, 0, 0, NULL);
}
