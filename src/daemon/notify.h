/* SPDX-License-Identifier: ISC */
/*
 * Telling the service manager how the daemon is doing (sd_notify(3)):
 * READY=1 once, STATUS= progress lines, EXTEND_TIMEOUT_USEC= keep-alives
 * while a boot or a host shutdown is under way (so systemd never kills
 * the sequence half-way, doc/behaviour.md §3.6), WATCHDOG=1 when WatchdogSec= is set.
 *
 * Built without libsystemd (-Dsystemd=disabled) every message is dropped
 * and no timer is ever armed: nothing else changes (doc/behaviour.md §5).
 */
#ifndef XD_NOTIFY_H
#define XD_NOTIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/timer.h"

/* What the daemon is doing, for STATUS= and the keep-alive. */
enum xd_phase {
	XD_PHASE_BOOTING,        /* the boot sequence runs */
	XD_PHASE_UP,             /* settled: serving requests */
	XD_PHASE_HALTING,        /* the host-shutdown sequence runs */
	XD_PHASE_DOWN,           /* the host-shutdown sequence has finished */
};

/* Domain counts behind a STATUS= line. */
struct xd_progress {
	size_t total;            /* managed domains */
	size_t running;
	size_t failed;
	size_t alive;            /* domains that exist (domid >= 0) */
};

/* "12/15 running, 1 failed", prefixed by the phase ("booting: ...",
 * "shutting down: 3 still up"); always NUL-terminated. */
void xd_progress_format(enum xd_phase phase, const struct xd_progress *p,
			char *buf, size_t len);

/* While booting or halting, EXTEND_TIMEOUT_USEC= of this much is sent
 * every XD_NOTIFY_KEEPALIVE_MS, so the manager's timeout only fires if
 * the daemon stops making rounds (the engine bounds every step itself). */
#define XD_NOTIFY_EXTEND_USEC   (30ULL * 1000 * 1000)
#define XD_NOTIFY_KEEPALIVE_MS  10000

struct xd_notifier;

/* Reads $NOTIFY_SOCKET and $WATCHDOG_USEC once; arms the watchdog timer
 * on q when the service has WatchdogSec=.  Returns NULL on ENOMEM. */
struct xd_notifier *xd_notifier_new(struct xd_timers *q);
void xd_notifier_free(struct xd_notifier *n);

/* True when a service manager listens (NOTIFY_SOCKET set, systemd build). */
bool xd_notifier_active(const struct xd_notifier *n);

/* Enter a phase: arms the keep-alive in BOOTING/HALTING, disarms it
 * otherwise.  HALTING also sends STOPPING=1 when stopping is true (the
 * daemon exits at the end of it). */
void xd_notifier_phase(struct xd_notifier *n, enum xd_phase phase, bool stopping);
enum xd_phase xd_notifier_current_phase(const struct xd_notifier *n);
/* READY=1, sent at most once per daemon life. */
void xd_notifier_ready(struct xd_notifier *n);
/* RELOADING=1 before a reload, READY=1 after it. */
void xd_notifier_reloading(struct xd_notifier *n, bool done);
/* STATUS= line for the current phase; repeated identical lines are not sent. */
void xd_notifier_progress(struct xd_notifier *n, const struct xd_progress *p);

#endif
