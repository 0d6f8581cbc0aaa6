/* SPDX-License-Identifier: ISC */
/*
 * The daemon as the service manager sees it (sd_notify(3) through
 * notify.h): the boot phase with READY=1 at its end (or at once with
 * notify_ready = immediately), STATUS= progress after every change,
 * EXTEND_TIMEOUT_USEC= keep-alives while a boot or a host shutdown runs,
 * STOPPING=1 when the daemon ends with the host-shutdown sequence, and
 * RELOADING=1/READY=1 around a reload.
 *
 * The daemon calls these from its engine callbacks; the control layer
 * from `shutdown-host` and `reload`.
 */
#ifndef XD_DAEMON_SERVICE_H
#define XD_DAEMON_SERVICE_H

#include <stdbool.h>

#include "core/config.h"
#include "core/timer.h"
#include "daemon/engine_if.h"

struct xd_service;

/* cfg: the running configuration, read through the pointer (reload
 * replaces it).  Returns NULL on ENOMEM. */
struct xd_service *xd_service_new(struct xd_timers *q, struct xd_engine_if engine,
				  struct xd_config *const *cfg);
void xd_service_free(struct xd_service *s);

/* After xd_engine_boot(): the boot phase (READY=1 now if notify_ready =
 * immediately, or if the boot has settled already). */
void xd_service_booting(struct xd_service *s);
/* The engine's boot_settled: READY=1, phase UP. */
void xd_service_boot_settled(struct xd_service *s);
/* Run the host-shutdown sequence: SIGTERM at halt passes daemon_exits =
 * true (STOPPING=1), `xendomctl shutdown-host` false. */
void xd_service_shutdown_host(struct xd_service *s, bool daemon_exits);
/* The engine's host_down: phase DOWN when the daemon exits, else UP. */
void xd_service_host_down(struct xd_service *s);
/* A domain changed: a new STATUS= line when the counts moved. */
void xd_service_progress(struct xd_service *s);
/* Around a reload: RELOADING=1 (done = false), then READY=1. */
void xd_service_reloading(struct xd_service *s, bool done);

#endif
