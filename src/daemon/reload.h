/* SPDX-License-Identifier: ISC */
/*
 * Configuration reload (SIGHUP or `xendomctl reload`): load the file
 * again, compare it with the running configuration, and switch the
 * engine to it, or keep the running one when the new file has errors.
 * What happened is logged; the caller gets it as JSON lists of names
 * for its reply.
 */
#ifndef XD_DAEMON_RELOAD_H
#define XD_DAEMON_RELOAD_H

#include <jansson.h>

#include "core/config.h"
#include "daemon/engine_if.h"
#include "daemon/service.h"

struct xd_reload_env {
	const char *config_path;
	struct xd_config **cfg;          /* replaced on success, the old one freed */
	struct xd_engine_if engine;
	struct xd_service *service;      /* RELOADING=1 ... READY=1 */
	/* Called between the switch and freeing old (the control socket's
	 * own settings: socket, socket_group). */
	void (*applied)(void *arg, const struct xd_config *old, const struct xd_config *cfg);
	void *arg;
};

/* Domain names (JSON arrays of strings) of a reload's outcome. */
struct xd_reload_report {
	json_t *added, *starting, *removed, *changed;
	json_t *errors;                  /* refused: "FILE:LINE: message" lines */
};

enum xd_reload_result {
	XD_RELOAD_APPLIED,               /* the new configuration is in use */
	XD_RELOAD_REFUSED,               /* it has errors (r->errors) */
	XD_RELOAD_NOMEM,
};

/* Every list of r is set (possibly empty); free them with
 * xd_reload_report_free. */
enum xd_reload_result xd_reload(const struct xd_reload_env *env, struct xd_reload_report *r);
void xd_reload_report_free(struct xd_reload_report *r);

#endif
