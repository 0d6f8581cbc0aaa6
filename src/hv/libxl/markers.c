/* SPDX-License-Identifier: ISC */
/* Create markers in state_dir, and the half-built domains a dead daemon
 * left (libxl_int.h). */
#include "hv/libxl/libxl_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

/*
 * A create in flight is marked by a file named after the domain's UUID in
 * <state_dir>/libxl-creating, removed when the create ends.  A marker left
 * by a daemon that died (SIGKILL) mid-create names a half-built domain,
 * still paused: the next daemon destroys it instead of adopting it, and
 * the engine creates the domain again (doc/xen-facts.md §8.7, issue 5 item 8).
 */
static void marker_path(const struct hv_libxl *x, const libxl_uuid *u, char *buf, size_t len)
{
	snprintf(buf, len, "%s/" LIBXL_UUID_FMT, x->creating_dir, LIBXL_UUID_BYTES(*u));
}

void xlb_marker_set(struct xop *op)
{
	char path[4096];
	if (!op->x->creating_dir)
		return;
	marker_path(op->x, &op->dc.c_info.uuid, path, sizeof(path));
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		xd_log(XD_LOG_WARNING, op->name, -1, "%s: %s", path, strerror(errno));
		return;
	}
	if (write(fd, op->name, strlen(op->name)) < 0)
		xd_log(XD_LOG_WARNING, op->name, -1, "%s: %s", path, strerror(errno));
	close(fd);
	op->marked = true;
}

void xlb_marker_clear(struct xop *op)
{
	char path[4096];
	if (!op->marked)
		return;
	marker_path(op->x, &op->dc.c_info.uuid, path, sizeof(path));
	unlink(path);
	op->marked = false;
}

static void discard_half_built(struct hv_libxl *x, const char *marker, const libxl_dominfo *l,
			       int nb)
{
	libxl_uuid u;
	if (libxl_uuid_from_string(&u, marker))
		return;
	for (int i = 0; i < nb; i++) {
		if (libxl_uuid_compare(&l[i].uuid, &u) || !l[i].paused)
			continue;
		xd_log(XD_LOG_WARNING, NULL, l[i].domid,
		      "destroying a domain a previous xendomd left half-built (create in flight)");
		struct xop *op = xlb_op_new(x, K_DESTROY, 0, l[i].domid);
		if (!op)
			return;
		op->internal = true;
		xlb_ao_enter(op, P_SIMPLE);
		if (!xlb_ao_started(op, xlb_destroy_ao(op)))
			op->phase = P_FINISHED;
	}
}

/* Markers of creates a dead daemon left in flight (see xlb_marker_set). */
void xlb_recover_creates(struct hv_libxl *x, const struct xd_config *cfg)
{
	if (!cfg || !cfg->global.state_dir)
		return;
	if (asprintf(&x->creating_dir, "%s/libxl-creating", cfg->global.state_dir) < 0) {
		x->creating_dir = NULL;
		return;
	}
	if (mkdir(x->creating_dir, 0700) < 0 && errno != EEXIST) {
		log_warn("%s", x->creating_dir);
		free(x->creating_dir);
		x->creating_dir = NULL;
		return;
	}
	DIR *d = opendir(x->creating_dir);
	int nb = 0;
	libxl_dominfo *l = d ? XLB_T(x, "libxl_list_domain", libxl_list_domain(x->ctx, &nb)) : NULL;
	struct dirent *de;
	while (l && (de = readdir(d))) {
		char path[4096];
		if (de->d_name[0] == '.')
			continue;
		discard_half_built(x, de->d_name, l, nb);
		snprintf(path, sizeof(path), "%s/%s", x->creating_dir, de->d_name);
		unlink(path);
	}
	if (l)
		libxl_dominfo_list_free(l, nb);
	if (d)
		closedir(d);
}
