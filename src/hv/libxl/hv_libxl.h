/* SPDX-License-Identifier: ISC */
/*
 * The production backend: libxenlight + libxenstore (xendomd(8); doc/xen-facts.md),
 * in src/hv/libxl/ (libxl_int.h has the map of its files).
 *
 * hv_libxl_new() must run before any child process is started by anyone
 * else and after the loop exists: it allocates the libxl context (which
 * fails off-Xen: "cannot open libxc handle"), wires libxl's fds and
 * timers into the loop (osevent hooks), takes SIGCHLD in mainloop mode
 * (doc/xen-facts.md §1.5: libxl then reaps only its own children; every other
 * child of the daemon must be reaped by pid), opens its own XenStore
 * connection for @releaseDomain and readiness keys, reads xl.conf's
 * autoballoon, and starts fetching the libxl config of every domain in
 * cfg (`xl create --dryrun`, a few seconds each) so creates need not wait.
 *
 * libxl's messages (xentoollog) and the backend's own go to util/log.h,
 * with the domain and domid when a line names them.
 */
#ifndef XD_HV_LIBXL_H
#define XD_HV_LIBXL_H

#include <stdbool.h>
#include <stddef.h>

#include "core/config.h"
#include "evloop/loop.h"
#include "core/hv_port.h"

/* NULL with err set on failure.  cfg is only read during the call. */
struct hv *hv_libxl_new(struct xd_loop *loop, const struct xd_config *cfg,
			char *err, size_t errlen);

/*
 * Before the daemon exits after a host shutdown: wait until no libxl
 * operation of the backend is in flight (a destroy's forked child would
 * outlive the daemon) and every domain it destroyed is gone from Xen, at
 * most HV_LIBXL_SETTLE_MAX_MS; logged when there is anything to wait for
 * and when it gave up.  cb runs once, from the loop (settled = false: the
 * bound ran out, or libxl had reported a disaster).
 */
#define HV_LIBXL_SETTLE_MAX_MS 30000
typedef void hv_settled_fn(void *arg, bool settled);
void hv_libxl_settle(struct hv *hv, hv_settled_fn *cb, void *arg);

#endif
