/* SPDX-License-Identifier: ISC */
/* Save into a save file, and resume the guest when the save (or a
 * migration) failed (libxl_int.h). */
#include "hv/libxl/libxl_int.h"

#include <errno.h>
#include <stdlib.h>

void xlb_resume_then_fail(struct xop *op, int fail_rc, const char *msg)
{
	op->fail_rc = fail_rc;
	snprintf(op->fail_msg, sizeof(op->fail_msg), "%s", msg);
	xlb_ao_enter(op, P_RESUME);
	int rc = XLB_T(op->x, "libxl_domain_resume", libxl_domain_resume(op->x->ctx, op->domid, 1, &op->how));
	if (!xlb_ao_started(op, rc)) {
		xd_log(XD_LOG_ERR, NULL, op->domid, "resume after a failed %s: %s",
		       op->kind == K_MIGRATE ? "migration" : "save", libxl_error_to_string(rc));
		xlb_op_finish(op, op->fail_rc, op->fail_msg);
	}
}

void xlb_save_config_done(struct xop *op, int rc)
{
	struct hv_libxl *x = op->x;
	char msg[HV_MSG_MAX];
	if (rc) {
		xlb_op_fail_libxl(op, rc, "save: reading the domain's config");
		return;
	}
	op->dc.c_info.domid = 0;                 /* as xl save writes it */
	char *json = libxl_domain_config_to_json(x->ctx, &op->dc);
	if (!json) {
		xlb_op_finish(op, HV_ENOMEM, "save: cannot serialise the config");
		return;
	}
	int wr = savefile_write_header(op->tx.fd, json, msg, sizeof(msg));
	free(json);
	if (wr < 0) {
		xlb_op_finish(op, HV_EFAIL, msg);
		return;
	}
	xlb_ao_enter(op, P_SAVE_STREAM);
	rc = XLB_T(x, "libxl_domain_suspend", libxl_domain_suspend(x->ctx, op->domid, op->tx.fd, 0, &op->how));
	if (!xlb_ao_started(op, rc))
		xlb_op_fail_libxl(op, rc, "save");
}

/* On success the domain is a SUSPEND husk for the caller to destroy.  The
 * commit fsyncs the image in the loop: seconds at worst, once per save. */
void xlb_save_stream_done(struct xop *op, int rc)
{
	char msg[HV_MSG_MAX], why[HV_MSG_MAX - 64];
	if (rc) {
		xlb_op_reason(op, rc, why, sizeof(why));
		snprintf(msg, sizeof(msg), "save: %s", why);
		savefile_tx_abort(&op->tx);
		op->tx_open = false;
		xlb_resume_then_fail(op, xlb_hv_rc(rc), msg);
		return;
	}
	op->tx_open = false;
	if (savefile_tx_commit(&op->tx, msg, sizeof(msg)) < 0) {
		xlb_resume_then_fail(op, HV_EFAIL, msg);
		return;
	}
	xlb_op_finish(op, 0, NULL);
}

void xlb_resume_done(struct xop *op, int rc)
{
	if (rc)
		xd_log(XD_LOG_ERR, NULL, op->domid, "resume after a failed %s: %s",
		       op->kind == K_MIGRATE ? "migration" : "save", libxl_error_to_string(rc));
	/* The SUSPEND shutdown is over: let the next shutdown be seen. */
	xlb_recheck_domain(op->x, op->domid);
	xlb_op_finish(op, op->fail_rc, op->fail_msg);
}

int xlb_save(struct hv *hv, uint32_t domid, const char *file, uint64_t id)
{
	struct hv_libxl *x = X(hv);
	char msg[HV_MSG_MAX];
	if (x->fatal)
		return HV_EFAIL;
	struct xop *op = xlb_op_new(x, K_SAVE, id, domid);
	if (!op)
		return HV_ENOMEM;
	if (savefile_tx_begin(&op->tx, file, msg, sizeof(msg)) < 0) {
		xd_log(XD_LOG_ERR, NULL, domid, "save: %s", msg);
		op->phase = P_FINISHED;
		xlb_kick(x);
		return HV_EFAIL;
	}
	op->tx_open = true;
	libxl_domain_config_init(&op->dc);
	op->dc_live = true;
	xlb_ao_enter(op, P_SAVE_CONFIG);
	int rc = XLB_T(x, "libxl_retrieve_domain_configuration",
		       libxl_retrieve_domain_configuration(x->ctx, domid, &op->dc, &op->how));
	if (xlb_ao_started(op, rc))
		return 0;
	xlb_op_release(op);
	op->phase = P_FINISHED;
	xlb_kick(x);
	return xlb_hv_rc(rc);
}

int xlb_image_check(struct hv *hv, const char *file, char *msg, size_t msglen)
{
	(void)hv;
	return savefile_image_check(file, msg, msglen);
}

int xlb_image_name(struct hv *hv, const char *file, char *name, size_t namelen, char *msg,
		   size_t msglen)
{
	(void)hv;
	return savefile_image_name(file, name, namelen, msg, msglen);
}
