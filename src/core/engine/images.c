/* SPDX-License-Identifier: ISC */
/*
 * Save images of domains that are not configured (restore_unmanaged, as
 * xendomains restores every image in its save directory): named by the
 * image itself, restored once the configured domains' boot has settled,
 * as unmanaged domains.  A restored image is deleted; one that cannot be
 * restored is kept, and the domain shown failed with the reason.
 */
#include "core/engine/engine_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Whether an image naming this domain is someone else's business: a
 * configured domain restores its own image, a running one is not
 * restored over. */
static bool image_taken(const struct xd_engine *e, const char *name)
{
	const struct dom *d = eng_find_by_name(e, name);
	return d && (d->cfg || alive(d) || d->restore_image);
}

static void add_image(struct xd_engine *e, const char *file)
{
	char name[XD_NAME_MAX] = "", msg[HV_MSG_MAX] = "";
	int rc = e->hv->ops->image_name(e->hv, file, name, sizeof(name), msg, sizeof(msg));
	if (rc < 0) {
		eng_log(e, XD_LOG_WARNING, NULL, "save image %s not restored: %s (file kept)", file,
			msg[0] ? msg : hv_strerror(rc));
		return;
	}
	if (image_taken(e, name)) {
		eng_log(e, XD_LOG_INFO, NULL, "save image %s holds domain %s, which is configured or "
			"running: not restored as an unmanaged domain", file, name);
		return;
	}
	struct dom *d = eng_find_by_name(e, name);
	if (!d)
		d = eng_add_dom(e, name, NULL, SIZE_MAX / 2 + e->n_doms);
	d->restore_image = xd_strdup(file);
	eng_set_state(e, d, XD_WAITING, "unmanaged save image %s: restored after the configured domains",
		      file);
	XD_GROW(e->imgq, e->n_imgq, e->cap_imgq);
	e->imgq[e->n_imgq++] = d->slot;
}

void xd_engine_add_images(struct xd_engine *e, const char *const *files, size_t n)
{
	const struct xd_global *g = &e->cfg->global;
	if (!n)
		return;
	if (!g->restore_on_boot || !g->restore_unmanaged) {
		eng_log(e, XD_LOG_NOTICE, NULL, "%zu save image%s in %s left alone (%s = no)", n,
			n == 1 ? "" : "s", g->save_dir,
			g->restore_on_boot ? "restore_unmanaged" : "restore_on_boot");
		return;
	}
	for (size_t i = 0; i < n; i++)
		add_image(e, files[i]);
}

void eng_image_failed(struct xd_engine *e, struct dom *d, const char *why)
{
	if (!d->restore_image)
		return;   /* already failed (it died, then its restore reported) */
	eng_disarm_timers(e, d);
	eng_log(e, XD_LOG_WARNING, d, "restore of the unmanaged save image %s failed: %s (file kept)",
		d->restore_image, why);
	eng_set_state(e, d, XD_FAILED, "restore from %s failed: %s (file kept)", d->restore_image, why);
	free(d->restore_image);
	d->restore_image = NULL;
}

static void restore_image(struct xd_engine *e, struct dom *d)
{
	/* The backend builds the domain from the image's own config; this
	 * stands in for the configuration the domain does not have. */
	if (!d->image_cfg) {
		d->image_cfg = xd_malloc0(sizeof(*d->image_cfg));
		snprintf(d->image_cfg->name, sizeof(d->image_cfg->name), "%s", d->name);
		d->image_cfg->xl_path = xd_strdup(d->restore_image);
	}
	d->track.in_boot = true;
	e->boot_pending++;
	uint64_t op = eng_next_op(e, OP_RESTORE, d);
	eng_set_state(e, d, XD_RESTORING, "restoring unmanaged domain from %s", d->restore_image);
	eng_log(e, XD_LOG_NOTICE, d, "restoring from %s (not configured: unmanaged)", d->restore_image);
	int rc = e->hv->ops->restore(e->hv, d->image_cfg, d->restore_image, op);
	if (!eng_op_started(e, d, op, rc)) {
		eng_image_failed(e, d, hv_strerror(rc));
		return;
	}
	eng_arm_deadline(e, d, DL_START, e->cfg->global.start_timeout_ms);
}

/* Called when the configured domains' boot has settled: true if restores
 * of unmanaged images were started (the boot then settles after them). */
bool eng_restore_images(struct xd_engine *e)
{
	if (!e->n_imgq)
		return false;
	size_t n = e->n_imgq;
	e->n_imgq = 0;
	for (size_t i = 0; i < n; i++) {
		struct dom *d = e->doms[e->imgq[i]];
		if (d->restore_image && !alive(d) && !d->cfg && d->state == XD_WAITING)
			restore_image(e, d);
	}
	return e->boot_pending > 0;
}

static void unpause_failed(struct xd_engine *e, struct dom *d, const char *why)
{
	eng_disarm_timers(e, d);
	eng_set_state(e, d, XD_FAILED, "restored from %s but unpause failed: %s (left paused, file kept)",
		      d->restore_image, why);
}

void eng_image_restored(struct xd_engine *e, struct dom *d, const struct hv_event *ev)
{
	if (ev->rc < 0) {
		eng_image_failed(e, d, ev->msg[0] ? ev->msg : hv_strerror(ev->rc));
		return;
	}
	eng_map_domid(e, d, ev->domid);
	d->tl.created = now(e);
	e->hv->ops->watch_domain(e->hv, ev->domid);
	uint64_t op = eng_next_op(e, OP_UNPAUSE, d);
	int rc = e->hv->ops->unpause(e->hv, ev->domid, op);
	if (!eng_op_started(e, d, op, rc))
		unpause_failed(e, d, hv_strerror(rc));
}

void eng_image_unpaused(struct xd_engine *e, struct dom *d, const struct hv_event *ev)
{
	if (ev->rc < 0) {
		unpause_failed(e, d, ev->msg[0] ? ev->msg : hv_strerror(ev->rc));
		return;
	}
	eng_disarm_timers(e, d);
	char file[4096];
	snprintf(file, sizeof(file), "%s", d->restore_image);
	if (e->env.discard_image && e->env.discard_image(e->env.ctx, file, false) < 0)
		eng_log(e, XD_LOG_WARNING, d, "could not remove restored image %s", file);
	free(d->restore_image);
	d->restore_image = NULL;
	d->tl.ready = now(e);
	eng_set_state(e, d, XD_RUNNING, "not managed by xendomd (restored from %s)", file);
}

/* start_timeout passed during the restore. */
void eng_image_timed_out(struct xd_engine *e, struct dom *d)
{
	if (d->op) {
		e->hv->ops->cancel(e->hv, d->op);
		d->op = 0;
		e->ops_inflight--;
	}
	eng_image_failed(e, d, "timed out (start_timeout)");
}
