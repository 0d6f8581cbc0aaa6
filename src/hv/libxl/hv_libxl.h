/*
 * The production backend: libxenlight + libxenstore (SPEC §7, xen-notes).
 *
 * hv_libxl_new() must run before any child process is started by anyone
 * else and after the loop exists: it allocates the libxl context (which
 * fails off-Xen: "cannot open libxc handle"), wires libxl's fds and
 * timers into the loop (osevent hooks), takes SIGCHLD in mainloop mode
 * (xen-notes §1.5: libxl then reaps only its own children; every other
 * child of the daemon must be reaped by pid), opens its own XenStore
 * connection for @releaseDomain and readiness keys, reads xl.conf's
 * autoballoon, and starts fetching the libxl config of every domain in
 * cfg (`xl create --dryrun`, a few seconds each) so creates need not wait.
 *
 * log receives libxl's messages (xentoollog) and the backend's own, at
 * syslog priorities (LOG_ERR ... LOG_DEBUG); domain may be NULL and
 * domid -1.
 */
#ifndef XD_HV_LIBXL_H
#define XD_HV_LIBXL_H

#include <stddef.h>

#include "core/config.h"
#include "evloop/loop.h"
#include "core/hv_port.h"

typedef void hv_libxl_log_fn(void *ctx, int priority, const char *domain, long domid,
			     const char *msg);

/* NULL with err set on failure.  cfg is only read during the call. */
struct hv *hv_libxl_new(struct xd_loop *loop, const struct xd_config *cfg,
			hv_libxl_log_fn *log, void *log_ctx, char *err, size_t errlen);

#endif
