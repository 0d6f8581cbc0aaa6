/* SPDX-License-Identifier: ISC */
/* Create and restore: config, memory, the build (by a helper: builder.c),
 * cleanup of a failed build (libxl_int.h). */
#include "hv/libxl/libxl_int.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

void xlb_step_config(struct xop *op)
{
	struct hv_libxl *x = op->x;
	const char *json = op->json;             /* restore: the image's */
	struct cfgent *e = xlb_cfg_find(x, op->name);
	if (!json) {
		if (e && (xlb_cfg_fresh(e, op->xl_path) || (op->fetch_requested && e->json &&
							  !xlb_cfg_fetching(e))))
			json = e->json;
		else if (!op->fetch_requested) {
			op->fetch_requested = true;
			int rc = xlb_fetch_request(x, op->name, op->xl_path);
			if (rc < 0)
				xlb_op_finish(op, rc, "cannot queue the config derivation");
			return;
		} else if (e && xlb_cfg_fetching(e)) {
			return;
		} else {
			xlb_op_finish(op, HV_EFAIL, e && e->err[0] ? e->err : "no config");
			return;
		}
	}
	int rc = xlb_cfg_to_dc(x, op->json ? NULL : e, json, &op->dc);
	if (rc) {
		xlb_op_fail_libxl(op, rc, "config");
		return;
	}
	op->dc_live = true;
	op->phase = P_MEMORY;
	xlb_step_memory(op);
}

/* The build itself runs in a helper process (builder.c). */
void xlb_start_build(struct xop *op)
{
	xd_log(XD_LOG_INFO, op->name, -1, "%s (needs %llu MiB)",
	      op->kind == K_RESTORE ? "restoring" : "creating",
	      (unsigned long long)xlb_kb_to_mib(op->need_kb));
	op->domid = XLB_NO_DOMID;
	xlb_marker_set(op);
	op->phase = P_BUILD;
	char err[HV_MSG_MAX];
	if (xlb_helper_start(op, err, sizeof(err)) < 0)
		xlb_build_failed(op, HV_EFAIL, err);
}

/* A restored domain keeps the image's config (and UUID) for restarts. */
static void remember_restored_config(struct xop *op)
{
	struct hv_libxl *x = op->x;
	struct cfgent *e = xlb_cfg_get(x, op->name);
	char err[HV_MSG_MAX];
	struct timespec now;
	if (!e)
		return;
	clock_gettime(CLOCK_REALTIME, &now);
	e->pins_uuid = false;
	e->have_uuid = false;
	char *json = op->json;
	op->json = NULL;
	if (xlb_cfg_store(x, e, json, NULL, now, err, sizeof(err)) < 0)
		xd_log(XD_LOG_WARNING, op->name, op->domid, "stored config: %s", err);
}

void xlb_build_done(struct xop *op)
{
	if (op->kind == K_RESTORE)
		remember_restored_config(op);
	xlb_op_finish(op, 0, NULL);
}

/* A failed create leaves a half-built domain behind (doc/xen-facts.md §9), as
 * may a helper that crashed or was killed: destroy it before reporting,
 * so a retry does not collide with it. */
void xlb_build_failed(struct xop *op, int hv_rc, const char *msg)
{
	op->fail_rc = hv_rc;
	snprintf(op->fail_msg, sizeof(op->fail_msg), "%s", msg);
	uint32_t left = xlb_helper_leftover(op);
	if (left != XLB_NO_DOMID) {
		op->domid = left;
		xd_log(XD_LOG_INFO, op->name, op->domid, "destroying the half-built domain");
		xlb_ao_enter(op, P_CLEANUP);
		if (xlb_ao_started(op, xlb_destroy_ao(op)))
			return;
	}
	xlb_op_finish(op, op->fail_rc, op->fail_msg);
}

static int start_create_op(struct hv_libxl *x, enum op_kind kind, const struct xd_domain_cfg *cfg,
			   uint64_t id, struct xop **out)
{
	if (x->fatal)
		return HV_EFAIL;
	struct xop *op = xlb_op_new(x, kind, id, XLB_NO_DOMID);
	if (!op || !(op->xl_path = strdup(cfg->xl_path))) {
		if (op)
			op->phase = P_FINISHED;   /* freed by the next kick */
		xlb_kick(x);
		return HV_ENOMEM;
	}
	snprintf(op->name, sizeof(op->name), "%s", cfg->name);
	op->phase = P_CONFIG;
	*out = op;
	xlb_kick(x);
	return 0;
}

int xlb_create(struct hv *hv, const struct xd_domain_cfg *cfg, uint64_t id)
{
	struct xop *op;
	return start_create_op(X(hv), K_CREATE, cfg, id, &op);
}

int xlb_restore(struct hv *hv, const struct xd_domain_cfg *cfg, const char *file, uint64_t id)
{
	struct hv_libxl *x = X(hv);
	struct savefile_info info;
	char msg[HV_MSG_MAX];
	int rc = savefile_read(file, &info, msg, sizeof(msg));
	if (rc < 0) {
		xd_log(XD_LOG_ERR, cfg->name, -1, "%s: %s", file, msg);
		return rc;
	}
	if (strcmp(info.name, cfg->name)) {
		xd_log(XD_LOG_ERR, cfg->name, -1, "%s holds domain %s", file, info.name);
		savefile_info_free(&info);
		return HV_EBADIMG;
	}
	/* The helper opens it; a file we cannot read fails here, at once. */
	int fd = open(file, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || lseek(fd, (off_t)info.stream_offset, SEEK_SET) < 0) {
		xd_log(XD_LOG_ERR, cfg->name, -1, "%s: %s", file, strerror(errno));
		if (fd >= 0)
			close(fd);
		savefile_info_free(&info);
		return HV_EFAIL;
	}
	close(fd);
	struct xop *op;
	rc = start_create_op(x, K_RESTORE, cfg, id, &op);
	if (rc == 0 && !(op->file = strdup(file))) {
		op->phase = P_FINISHED;
		rc = HV_ENOMEM;
	}
	if (rc < 0) {
		savefile_info_free(&info);
		return rc;
	}
	op->json = info.config;          /* ownership moves to the op */
	op->image_offset = info.stream_offset;
	op->stream_version = (info.mandatory_flags & SAVEFILE_FLAG_STREAMV2) ? 2 : 1;
	return 0;
}
