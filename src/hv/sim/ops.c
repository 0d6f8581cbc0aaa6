/* SPDX-License-Identifier: ISC */
/* The port: the hv_ops of the simulated hypervisor. */
#include "hv/sim/sim_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "util/alloc.h"
#include "util/parse.h"

static int sim_list(struct hv *hv, struct hv_dominfo **v, size_t *n)
{
	struct hv_sim *s = to_sim(hv);
	*v = NULL;
	*n = 0;
	if (!s->n_doms)
		return 0;
	*v = calloc(s->n_doms, sizeof(**v));
	if (!*v)
		return HV_ENOMEM;
	for (uint32_t domid = 1; domid < s->next_domid; domid++)
		if (s->by_id[domid])
			fill_info(s->by_id[domid], &(*v)[(*n)++]);
	return 0;
}

uint64_t cfg_mem_kb(const struct xd_domain_cfg *cfg)
{
	return (cfg && cfg->memory_mb ? cfg->memory_mb : DEFAULT_MEMORY_MB) * 1024;
}

static int sim_create(struct hv *hv, const struct xd_domain_cfg *cfg, uint64_t id)
{
	struct hv_sim *s = to_sim(hv);
	struct sim_profile *p = profile_get(s, cfg->name);
	p->counts.creates++;
	struct sim_op *op = op_new(s, OP_CREATE, id, 0);
	op->prof = p;
	snprintf(op->name, sizeof(op->name), "%s", cfg->name);
	op->mem_kb = cfg_mem_kb(cfg);
	op->hvm = profile_hvm(p, cfg->hvm);
	if (name_in_use(s, cfg->name))
		op_decide(op, HV_EFAIL, "domain %s already exists", cfg->name);
	else
		arm_in(s, &op->t, p->create_ms);
	return 0;
}

static bool image_hvm(const struct savefile_info *info)
{
	char type[16];
	return savefile_json_get(info->config, "c_info", "type", type, sizeof(type)) == 0 &&
	       strcmp(type, "hvm") == 0;
}

/* b_info.target_memkb of the image, else the cfg's memory. */
static uint64_t image_mem_kb(const struct savefile_info *info, const struct xd_domain_cfg *cfg)
{
	char num[32];
	uint64_t kb;
	if (savefile_json_get(info->config, "b_info", "target_memkb", num, sizeof(num)) == 0 &&
	    xd_parse_u64(num, &kb) && kb > 0)
		return kb;
	return cfg_mem_kb(cfg);
}

static int sim_restore(struct hv *hv, const struct xd_domain_cfg *cfg, const char *file, uint64_t id)
{
	struct hv_sim *s = to_sim(hv);
	struct savefile_info info;
	char msg[HV_MSG_MAX];
	int rc = savefile_image_check(file, msg, sizeof(msg));
	if (!rc)
		rc = savefile_read(file, &info, msg, sizeof(msg));
	if (rc)
		return rc;
	struct sim_profile *p = profile_get(s, info.name);
	p->counts.restores++;
	struct sim_op *op = op_new(s, OP_RESTORE, id, 0);
	op->prof = p;
	snprintf(op->name, sizeof(op->name), "%s", info.name);
	op->mem_kb = image_mem_kb(&info, cfg);
	op->hvm = profile_hvm(p, image_hvm(&info));
	savefile_info_free(&info);
	if (name_in_use(s, op->name))
		op_decide(op, HV_EFAIL, "domain %s already exists", op->name);
	else
		arm_in(s, &op->t, profile_restore_ms(p));
	return 0;
}

static int sim_unpause(struct hv *hv, uint32_t domid, uint64_t id)
{
	struct hv_sim *s = to_sim(hv);
	struct sim_dom *d = dom_live(s, domid);
	if (!d)
		return HV_ENOENT;
	d->prof->counts.unpauses++;
	struct sim_op *op = op_new(s, OP_UNPAUSE, id, domid);
	if (d->shutdown) {
		op_decide(op, HV_EFAIL, "domain %" PRIu32 " is shut down", domid);
		return 0;
	}
	arm_in(s, &op->t, 0);
	if (d->paused) {
		d->paused = false;
		guest_start(d);
	}
	return 0;
}

/* libxl__domain_pvcontrol_available: PV always, HVM once drivers are up. */
static bool pvcontrol_available(const struct sim_dom *d)
{
	return !d->hvm || d->drivers_up;
}

static int sim_shutdown(struct hv *hv, uint32_t domid, uint64_t id)
{
	struct hv_sim *s = to_sim(hv);
	struct sim_dom *d = dom_live(s, domid);
	if (!d)
		return HV_ENOENT;
	d->prof->counts.shutdowns++;
	if (!pvcontrol_available(d))
		return HV_ENOPV;
	struct sim_op *op = op_new(s, OP_SHUTDOWN, id, domid);
	if (d->shutdown) {
		op_decide(op, HV_EFAIL, "domain %" PRIu32 " is already shut down", domid);
		return 0;
	}
	key_set(d, "control/shutdown", "poweroff");
	if (d->drivers_up)
		ack_shutdown(d, op);
	else
		arm_in(s, &op->t, PVCONTROL_ACK_TIMEOUT_MS);
	return 0;
}

static int sim_power_button(struct hv *hv, uint32_t domid)
{
	struct hv_sim *s = to_sim(hv);
	struct sim_dom *d = dom_live(s, domid);
	if (!d)
		return HV_ENOENT;
	d->prof->counts.power_buttons++;
	if (!d->hvm)
		return HV_EFAIL;   /* the trigger means nothing to a PV guest */
	if (!d->shutdown)
		schedule_poweroff(d);
	return 0;
}

static int sim_destroy(struct hv *hv, uint32_t domid, uint64_t id)
{
	struct hv_sim *s = to_sim(hv);
	struct sim_dom *d = dom_by_id(s, domid);
	if (!d)
		return HV_ENOENT;
	d->prof->counts.destroys++;
	struct sim_op *op = op_new(s, OP_DESTROY, id, domid);
	if (!d->dying) {
		d->dying = true;
		guest_timers_disarm(d);
		fail_ops_on(s, domid);
	}
	arm_in(s, &op->t, 0);
	return 0;
}

/* The saved config, as xl writes it (the parts anyone reads back). */
static int begin_image(struct sim_op *op, struct sim_dom *d, char *msg, size_t msglen)
{
	char name[XD_NAME_MAX * 6 + 3], json[HV_MSG_MAX + sizeof(name)];
	savefile_json_quote(d->name, name, sizeof(name));
	snprintf(json, sizeof(json),
		 "{\"c_info\":{\"type\":\"%s\",\"name\":%s},"
		 "\"b_info\":{\"max_memkb\":%" PRIu64 ",\"target_memkb\":%" PRIu64 "}}",
		 d->hvm ? "hvm" : "pv", name, d->mem_kb, d->mem_kb);
	if (savefile_tx_begin(&op->tx, op->file, msg, msglen) != 0)
		return -1;
	if (savefile_write_header(op->tx.fd, json, msg, msglen) != 0) {
		savefile_tx_abort(&op->tx);
		return -1;
	}
	return 0;
}

static bool save_running(struct hv_sim *s, uint32_t domid)
{
	for (struct sim_op *op = s->ops; op; op = op->next)
		if (op->kind == OP_SAVE && op->domid == domid && op->file && op->tx.fd >= 0)
			return true;
	return false;
}

static int sim_save(struct hv *hv, uint32_t domid, const char *file, uint64_t id)
{
	struct hv_sim *s = to_sim(hv);
	struct sim_dom *d = dom_live(s, domid);
	if (!d)
		return HV_ENOENT;
	d->prof->counts.saves++;
	struct sim_op *op = op_new(s, OP_SAVE, id, domid);
	op->file = xd_strdup(file);
	char msg[HV_MSG_MAX];
	if (d->shutdown)
		op_decide(op, HV_EFAIL, "domain %" PRIu32 " is shut down", domid);
	else if (save_running(s, domid))
		op_decide(op, HV_EFAIL, "a save of domain %" PRIu32 " is already running", domid);
	else if (begin_image(op, d, msg, sizeof(msg)) != 0)
		op_decide(op, HV_EFAIL, "%s", msg);
	else
		arm_in(s, &op->t, 0);
	return 0;
}

static int sim_core_dump(struct hv *hv, uint32_t domid, const char *file, uint64_t id)
{
	struct hv_sim *s = to_sim(hv);
	struct sim_dom *d = dom_live(s, domid);
	if (!d)
		return HV_ENOENT;
	d->prof->counts.core_dumps++;
	struct sim_op *op = op_new(s, OP_CORE_DUMP, id, domid);
	op->file = xd_strdup(file);
	arm_in(s, &op->t, 0);
	return 0;
}

int sim_rename(struct hv *hv, uint32_t domid, const char *new_name)
{
	struct hv_sim *s = to_sim(hv);
	struct sim_dom *d = dom_live(s, domid);
	if (!d)
		return HV_ENOENT;
	if (!new_name[0] || strlen(new_name) >= XD_NAME_MAX || name_in_use(s, new_name))
		return HV_EFAIL;
	profile_find(s, d->name)->holder = NULL;
	snprintf(d->name, sizeof(d->name), "%s", new_name);
	profile_get(s, new_name)->holder = d;
	key_set(d, "name", new_name);
	return 0;
}

static void sim_cancel(struct hv *hv, uint64_t id)
{
	struct hv_sim *s = to_sim(hv);
	for (struct sim_op *op = s->ops; op; op = op->next) {
		bool long_op = op->kind == OP_CREATE || op->kind == OP_RESTORE || op->kind == OP_SAVE ||
			       op->kind == OP_MIGRATE;
		if (op->id == id && long_op && !op->decided)
			op_decide(op, HV_ECANCELED, "cancelled");
	}
}

static int sim_watch_domain(struct hv *hv, uint32_t domid)
{
	struct hv_sim *s = to_sim(hv);
	struct sim_dom *d = dom_by_id(s, domid);
	if (!d) {
		if (domid == 0 || domid >= s->next_domid)
			return HV_ENOENT;
		/* It existed and is gone: that state is reported too. */
		emit(s, &(struct hv_event){ .kind = HV_EV_DEATH, .domid = domid });
		return 0;
	}
	d->watched = true;
	d->shutdown_reported = false;
	if (d->shutdown && !d->dying) {      /* dying: only DEATH is left to say */
		d->shutdown_reported = true;
		emit(s, &(struct hv_event){ .kind = HV_EV_SHUTDOWN, .domid = domid,
					    .reason = d->reason });
	}
	return 0;
}

static void sim_unwatch_domain(struct hv *hv, uint32_t domid)
{
	struct sim_dom *d = dom_by_id(to_sim(hv), domid);
	if (d)
		d->watched = false;
}

static int sim_mem_need(struct hv *hv, const struct xd_domain_cfg *cfg, uint64_t *kb)
{
	(void)to_sim(hv);
	*kb = cfg_mem_kb(cfg);
	return 0;
}

static int sim_mem_free(struct hv *hv, uint64_t *kb)
{
	*kb = to_sim(hv)->free_kb;
	return 0;
}

static int sim_image_check(struct hv *hv, const char *file, char *msg, size_t msglen)
{
	(void)to_sim(hv);
	return savefile_image_check(file, msg, msglen);
}

static int sim_image_name(struct hv *hv, const char *file, char *name, size_t namelen, char *msg,
			  size_t msglen)
{
	(void)to_sim(hv);
	return savefile_image_name(file, name, namelen, msg, msglen);
}

const struct hv_ops hv_sim_ops = {
	.name = "sim",
	.list = sim_list,
	.create = sim_create,
	.restore = sim_restore,
	.unpause = sim_unpause,
	.shutdown = sim_shutdown,
	.power_button = sim_power_button,
	.destroy = sim_destroy,
	.save = sim_save,
	.core_dump = sim_core_dump,
	.migrate = sim_migrate,
	.rename = sim_rename,
	.cancel = sim_cancel,
	.watch_domain = sim_watch_domain,
	.unwatch_domain = sim_unwatch_domain,
	.watch_key = sim_watch_key,
	.unwatch_key = sim_unwatch_key,
	.read_key = sim_read_key,
	.mem_need = sim_mem_need,
	.mem_free = sim_mem_free,
	.image_check = sim_image_check,
	.image_name = sim_image_name,
	.free = sim_free,
};

