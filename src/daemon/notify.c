/* SPDX-License-Identifier: ISC */
/* Service-manager notifications (notify.h). */
#include "daemon/notify.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xd_build.h"

#if HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

struct xd_notifier {
	struct xd_timers *timers;
	bool active;                 /* someone listens on NOTIFY_SOCKET */
	bool ready_sent;
	enum xd_phase phase;
	struct xd_timer keepalive;   /* EXTEND_TIMEOUT_USEC while booting/halting */
	struct xd_timer watchdog;
	uint64_t watchdog_ms;        /* 0 = no WatchdogSec= */
	char last_status[160];
};

static void send_message(const struct xd_notifier *n, const char *msg)
{
	if (!n->active)
		return;
#if HAVE_SYSTEMD
	/* A lost notification is not worth failing anything for: the
	 * manager's own timeouts are the fallback. */
	(void)sd_notify(0, msg);
#else
	(void)msg;
#endif
}

void xd_progress_format(enum xd_phase phase, const struct xd_progress *p,
			char *buf, size_t len)
{
	char failed[48] = "";
	if (p->failed)
		snprintf(failed, sizeof(failed), ", %zu failed", p->failed);
	switch (phase) {
	case XD_PHASE_BOOTING:
		snprintf(buf, len, "booting: %zu/%zu running%s", p->running, p->total, failed);
		return;
	case XD_PHASE_UP:
		snprintf(buf, len, "%zu/%zu running%s", p->running, p->total, failed);
		return;
	case XD_PHASE_HALTING:
		snprintf(buf, len, "shutting down: %zu still up", p->alive);
		return;
	case XD_PHASE_DOWN:
		snprintf(buf, len, "host shutdown done: %zu still up", p->alive);
		return;
	}
	snprintf(buf, len, "?");
}

static void send_keepalive(struct xd_notifier *n)
{
	char msg[64];
	snprintf(msg, sizeof(msg), "EXTEND_TIMEOUT_USEC=%llu",
		 (unsigned long long)XD_NOTIFY_EXTEND_USEC);
	send_message(n, msg);
}

static void on_keepalive(struct xd_timer *t, void *arg)
{
	struct xd_notifier *n = arg;
	send_keepalive(n);
	(void)xd_timer_arm_in(n->timers, t, XD_NOTIFY_KEEPALIVE_MS);
}

static void on_watchdog(struct xd_timer *t, void *arg)
{
	struct xd_notifier *n = arg;
	send_message(n, "WATCHDOG=1");
	(void)xd_timer_arm_in(n->timers, t, n->watchdog_ms);
}

/* Half the manager's interval, as sd_watchdog_enabled(3) recommends. */
static uint64_t watchdog_interval_ms(void)
{
#if HAVE_SYSTEMD
	uint64_t usec = 0;
	if (sd_watchdog_enabled(0, &usec) > 0 && usec >= 2000)
		return usec / 2000;
#endif
	return 0;
}

struct xd_notifier *xd_notifier_new(struct xd_timers *q)
{
	struct xd_notifier *n = calloc(1, sizeof(*n));
	if (!n)
		return NULL;
	n->timers = q;
	n->phase = XD_PHASE_BOOTING;
#if HAVE_SYSTEMD
	const char *sock = getenv("NOTIFY_SOCKET");
	n->active = sock && *sock;
#endif
	xd_timer_init(&n->keepalive, on_keepalive, n);
	xd_timer_init(&n->watchdog, on_watchdog, n);
	n->watchdog_ms = n->active ? watchdog_interval_ms() : 0;
	if (n->watchdog_ms)
		(void)xd_timer_arm_in(q, &n->watchdog, n->watchdog_ms);
	return n;
}

void xd_notifier_free(struct xd_notifier *n)
{
	if (!n)
		return;
	xd_timer_disarm(n->timers, &n->keepalive);
	xd_timer_disarm(n->timers, &n->watchdog);
	free(n);
}

bool xd_notifier_active(const struct xd_notifier *n)
{
	return n->active;
}

void xd_notifier_phase(struct xd_notifier *n, enum xd_phase phase, bool stopping)
{
	n->phase = phase;
	if (phase == XD_PHASE_HALTING && stopping)
		send_message(n, "STOPPING=1");
	bool sequence = phase == XD_PHASE_BOOTING || phase == XD_PHASE_HALTING;
	if (!n->active || !sequence) {
		xd_timer_disarm(n->timers, &n->keepalive);
		return;
	}
	send_keepalive(n);
	(void)xd_timer_arm_in(n->timers, &n->keepalive, XD_NOTIFY_KEEPALIVE_MS);
}

enum xd_phase xd_notifier_current_phase(const struct xd_notifier *n)
{
	return n->phase;
}

void xd_notifier_ready(struct xd_notifier *n)
{
	if (n->ready_sent)
		return;
	n->ready_sent = true;
	send_message(n, "READY=1");
}

void xd_notifier_reloading(struct xd_notifier *n, bool done)
{
	/* Before the first READY=1 the manager is still waiting for the
	 * boot; a reload then must not look like readiness. */
	if (n->ready_sent)
		send_message(n, done ? "READY=1" : "RELOADING=1");
}

void xd_notifier_progress(struct xd_notifier *n, const struct xd_progress *p)
{
	char text[sizeof(n->last_status)];
	xd_progress_format(n->phase, p, text, sizeof(text));
	if (strcmp(text, n->last_status) == 0)
		return;
	memcpy(n->last_status, text, sizeof(text));
	char msg[sizeof(text) + 8];
	snprintf(msg, sizeof(msg), "STATUS=%s", text);
	send_message(n, msg);
}
