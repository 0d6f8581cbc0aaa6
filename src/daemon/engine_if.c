/* SPDX-License-Identifier: ISC */
/* The real engine behind the control layer's interface (engine_if.h). */
#include "daemon/engine_if.h"

static void start(void *e, const size_t *doms, size_t n, enum xd_cause cause)
{
	xd_engine_start(e, doms, n, cause);
}

static void stop(void *e, const size_t *doms, size_t n, size_t **cascade, size_t *n_cascade)
{
	xd_engine_stop(e, doms, n, cascade, n_cascade);
}

static void save(void *e, const size_t *doms, size_t n)
{
	xd_engine_save(e, doms, n);
}

static const char *migrate(void *e, size_t dom, const char *host)
{
	return xd_engine_migrate(e, dom, host);
}

static void shutdown_host(void *e)
{
	xd_engine_shutdown_host(e);
}

static void reload(void *e, const struct xd_config *cfg)
{
	xd_engine_reload(e, cfg);
}

static size_t count(const void *e)
{
	return xd_engine_count(e);
}

static void status(const void *e, size_t slot, struct xd_dom_status *st)
{
	xd_engine_status(e, slot, st);
}

static void timeline(const void *e, size_t slot, struct xd_timeline *tl)
{
	xd_engine_timeline(e, slot, tl);
}

static bool idle(const void *e)
{
	return xd_engine_idle(e);
}

static void tally(const void *e, struct xd_tally *t)
{
	xd_engine_tally(e, t);
}

static const struct xd_engine_if_ops real_ops = {
	.start = start, .stop = stop, .save = save, .migrate = migrate, .shutdown_host = shutdown_host,
	.reload = reload, .count = count, .status = status, .timeline = timeline,
	.idle = idle, .tally = tally,
};

struct xd_engine_if xd_engine_if_real(struct xd_engine *e)
{
	return (struct xd_engine_if){ .ops = &real_ops, .e = e };
}
