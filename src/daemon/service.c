/* SPDX-License-Identifier: ISC */
/* The service manager's view of the daemon (service.h). */
#include "daemon/service.h"

#include "daemon/notify.h"
#include "util/alloc.h"

#include <stdlib.h>

struct xd_service {
	struct xd_engine_if engine;
	struct xd_config *const *cfg;
	struct xd_notifier *notifier;
	bool booting;                    /* between booting and boot_settled */
	bool boot_done;                  /* boot_settled has arrived */
	bool exiting;                    /* the daemon ends with the sequence */
};

struct xd_service *xd_service_new(struct xd_timers *q, struct xd_engine_if engine,
				  struct xd_config *const *cfg)
{
	struct xd_service *s = xd_calloc(1, sizeof(*s));
	s->engine = engine;
	s->cfg = cfg;
	s->notifier = xd_notifier_new(q);
	if (!s->notifier) {
		free(s);
		return NULL;
	}
	return s;
}

void xd_service_free(struct xd_service *s)
{
	if (!s)
		return;
	xd_notifier_free(s->notifier);
	free(s);
}

void xd_service_progress(struct xd_service *s)
{
	struct xd_tally t;
	s->engine.ops->tally(s->engine.e, &t);
	struct xd_progress p = {
		.total = (*s->cfg)->n_domains,
		.alive = t.alive,
		.running = t.state[XD_RUNNING],
		.failed = t.state[XD_FAILED],
	};
	xd_notifier_progress(s->notifier, &p);
}

void xd_service_booting(struct xd_service *s)
{
	if (s->boot_done) {          /* settled inside xd_engine_boot() already */
		xd_notifier_phase(s->notifier, XD_PHASE_UP, false);
		xd_notifier_ready(s->notifier);
		xd_service_progress(s);
		return;
	}
	s->booting = true;
	xd_notifier_phase(s->notifier, XD_PHASE_BOOTING, false);
	if ((*s->cfg)->global.notify_ready == XD_NOTIFY_IMMEDIATELY)
		xd_notifier_ready(s->notifier);
	xd_service_progress(s);
}

void xd_service_boot_settled(struct xd_service *s)
{
	s->boot_done = true;
	if (!s->booting)
		return;
	s->booting = false;
	if (xd_notifier_current_phase(s->notifier) == XD_PHASE_BOOTING)
		xd_notifier_phase(s->notifier, XD_PHASE_UP, false);
	xd_notifier_ready(s->notifier);
	xd_service_progress(s);
}

void xd_service_shutdown_host(struct xd_service *s, bool daemon_exits)
{
	/* A halt during the boot ends the boot: READY=1 is not owed any more. */
	s->booting = false;
	s->exiting |= daemon_exits;
	xd_notifier_phase(s->notifier, XD_PHASE_HALTING, daemon_exits);
	s->engine.ops->shutdown_host(s->engine.e);
	xd_service_progress(s);
}

void xd_service_host_down(struct xd_service *s)
{
	/* After `xendomctl shutdown-host` the daemon serves on: back to UP. */
	xd_notifier_phase(s->notifier, s->exiting ? XD_PHASE_DOWN : XD_PHASE_UP, false);
	xd_service_progress(s);
}

void xd_service_reloading(struct xd_service *s, bool done)
{
	xd_notifier_reloading(s->notifier, done);
}
