/* SPDX-License-Identifier: ISC */
/* Memory admission for creates and ballooning dom0; xl.conf's autoballoon
 * (libxl_int.h). */
#include "hv/libxl/libxl_int.h"

#include <unistd.h>

/* What Xen can give a new domain now: free (and being scrubbed) memory
 * minus what earlier creates have claimed but not yet populated. */
static int host_avail_kb(struct hv_libxl *x, uint64_t *kb)
{
	libxl_physinfo pi;
	libxl_physinfo_init(&pi);
	int rc = XLB_T(x, "libxl_get_physinfo", libxl_get_physinfo(x->ctx, &pi));
	if (rc == 0) {
		uint64_t pages = pi.free_pages + pi.scrub_pages;
		pages = pages > pi.outstanding_pages ? pages - pi.outstanding_pages : 0;
		*kb = pages * 4;
	}
	libxl_physinfo_dispose(&pi);
	return rc;
}

static uint64_t dom0_balloonable_kb(struct hv_libxl *x)
{
	libxl_dominfo di;
	libxl_dominfo_init(&di);
	uint64_t kb = 0;
	if (XLB_T(x, "libxl_domain_info", libxl_domain_info(x->ctx, &di, 0)) == 0 &&
	    di.current_memkb > XLB_DOM0_MIN_KB)
		kb = di.current_memkb - XLB_DOM0_MIN_KB;
	libxl_dominfo_dispose(&di);
	return kb;
}

/* Only the oldest op in P_MEMORY may take memory or balloon: creates are
 * admitted one at a time, so two of them never balloon for the same
 * shortage.  Builds in flight (helpers) count for what they have not
 * populated yet. */
static bool memory_turn(struct xop *op)
{
	for (struct xop *o = op->x->ops; o; o = o->next)
		if (o->phase == P_MEMORY)
			return o == op;
	return false;
}

static void memory_fail(struct xop *op, uint64_t avail, const char *why)
{
	char msg[HV_MSG_MAX];
	snprintf(msg, sizeof(msg), "need %llu MiB, free %llu MiB%s",
		 (unsigned long long)xlb_kb_to_mib(op->need_kb),
		 (unsigned long long)xlb_kb_to_mib(avail), why);
	xlb_op_finish(op, HV_ENOMEM, msg);
}

/* xl's freemem() without its sleeps: balloon dom0 down by the shortfall
 * once, then poll free memory with a timer until it suffices, stalls or
 * the credit runs out. */
void xlb_step_memory(struct xop *op)
{
	struct hv_libxl *x = op->x;
	if (!memory_turn(op))
		return;
	int rc;
	if (!op->need_kb &&
	    (rc = XLB_T(x, "libxl_domain_need_memory",
			libxl_domain_need_memory(x->ctx, &op->dc, XLB_NO_DOMID, &op->need_kb)))) {
		xlb_op_fail_libxl(op, rc, "memory need");
		return;
	}
	uint64_t avail = 0, held, pending;
	if ((rc = host_avail_kb(x, &avail))) {
		xlb_op_fail_libxl(op, rc, "free memory");
		return;
	}
	xlb_builds_memory(x, &held, &pending);
	avail = avail > pending ? avail - pending : 0;
	if (avail >= op->need_kb) {
		xd_timer_disarm(x->timers, &op->timer);
		xlb_start_build(op);
		return;
	}
	if (!x->autoballoon) {
		memory_fail(op, avail, " (xl.conf autoballoon is off)");
		return;
	}
	uint64_t now = xd_loop_clock();
	if (!op->balloon_since) {
		int64_t delta = -(int64_t)(op->need_kb - avail);
		xd_log(XD_LOG_NOTICE, op->name, -1, "ballooning dom0 down by %llu MiB",
		      (unsigned long long)xlb_kb_to_mib(op->need_kb - avail));
		if ((rc = XLB_T(x, "libxl_set_memory_target", libxl_set_memory_target(x->ctx, 0, delta, 1, 0)))) {
			xlb_op_fail_libxl(op, rc, "ballooning dom0");
			return;
		}
		op->balloon_since = op->progress_at = now;
		op->best_avail = avail;
	} else if (avail > op->best_avail) {
		op->best_avail = avail;
		op->progress_at = now;
	} else if (now - op->progress_at >= XLB_BALLOON_STALL_MS ||
		   now - op->balloon_since >= XLB_BALLOON_MAX_MS) {
		memory_fail(op, avail, " after ballooning dom0");
		return;
	}
	xd_timer_arm_in(x->timers, &op->timer, XLB_BALLOON_POLL_MS);
}

/* Exact with a stored config.  Before the first derivation has finished,
 * libxl's formula with xl's defaults and one vCPU: the target plus 1 MiB
 * (PV), or plus 2 MiB, 8 MiB of video RAM and the shadow pool (1 MiB per
 * vCPU + 8 KiB per MiB of maxmem) for HVM, rounded up to 2 MiB. */
int xlb_mem_need(struct hv *hv, const struct xd_domain_cfg *cfg, uint64_t *kb)
{
	struct hv_libxl *x = X(hv);
	struct cfgent *e = xlb_cfg_find(x, cfg->name);
	if (e && xlb_cfg_fresh(e, cfg->xl_path)) {
		libxl_domain_config dc;
		if (xlb_cfg_to_dc(x, e, e->json, &dc) == 0) {
			int rc = XLB_T(x, "libxl_domain_need_memory",
				       libxl_domain_need_memory(x->ctx, &dc, XLB_NO_DOMID, kb));
			libxl_domain_config_dispose(&dc);
			if (rc == 0)
				return 0;
		}
	}
	uint64_t target = cfg->memory_mb * 1024;
	uint64_t extra = cfg->hvm ? 2048 + 8192 + 1024 + cfg->maxmem_mb * 8 : 1024;
	*kb = (target + extra + 2047) / 2048 * 2048;
	return 0;
}

int xlb_mem_free(struct hv *hv, uint64_t *kb)
{
	struct hv_libxl *x = X(hv);
	uint64_t held, pending;
	if (host_avail_kb(x, kb))
		return HV_EFAIL;
	/* The engine counts a start's whole need as promised until its
	 * create is done; what a build already holds is in that promise. */
	xlb_builds_memory(x, &held, &pending);
	*kb += held;
	if (x->autoballoon)
		*kb += dom0_balloonable_kb(x);
	return 0;
}

/* xl.conf's autoballoon, as xl reads it (doc/xen-facts.md §4.4). */
int xlb_read_autoballoon(struct hv_libxl *x, char *err, size_t errlen)
{
	const char *value = NULL;
	FILE *devnull = fopen("/dev/null", "we");
	XLU_Config *c = devnull ? xlu_cfg_init(devnull, XLB_CONF) : NULL;
	bool have = c && access(XLB_CONF, F_OK) == 0 && xlu_cfg_readfile(c, XLB_CONF) == 0;
	if (have)
		xlu_cfg_get_string(c, "autoballoon", &value, 1);
	libxl_version_info const *vi = libxl_get_version_info(x->ctx);
	int ab = xlb_autoballoon(value, vi ? vi->commandline : NULL);
	if (ab < 0)
		snprintf(err, errlen, "%s: autoballoon=\"%s\" is not on, off or auto", XLB_CONF, value);
	if (c)
		xlu_cfg_destroy(c);
	if (devnull)
		fclose(devnull);
	if (ab < 0)
		return -1;
	x->autoballoon = ab;
	return 0;
}
