/* SPDX-License-Identifier: ISC */
/*
 * The engine as the control layer, the service notifications and reload
 * see it: an explicit seam instead of a link-time one.  The daemon fills
 * it with the real engine (xd_engine_if_real); the control tests give a
 * fake (tests/control/fake_engine.c) behind the same operations.
 *
 * Slots are the engine's own, stable numbering (queries and events);
 * start/stop/save take indices into the configuration the engine runs.
 */
#ifndef XD_DAEMON_ENGINE_IF_H
#define XD_DAEMON_ENGINE_IF_H

#include <stdbool.h>
#include <stddef.h>

#include "core/config.h"
#include "core/engine.h"

struct xd_engine_if_ops {
	void (*start)(void *e, const size_t *doms, size_t n, enum xd_cause cause);
	void (*stop)(void *e, const size_t *doms, size_t n, size_t **cascade,
		     size_t *n_cascade);
	void (*save)(void *e, const size_t *doms, size_t n);
	/* NULL when the migration was started, else why not. */
	const char *(*migrate)(void *e, size_t dom, const char *host);
	void (*shutdown_host)(void *e);
	void (*reload)(void *e, const struct xd_config *cfg);
	size_t (*count)(const void *e);
	void (*status)(const void *e, size_t slot, struct xd_dom_status *st);
	void (*timeline)(const void *e, size_t slot, struct xd_timeline *tl);
	bool (*idle)(const void *e);
	void (*tally)(const void *e, struct xd_tally *t);
};

struct xd_engine_if {
	const struct xd_engine_if_ops *ops;
	void *e;                         /* passed to every operation */
};

/* core/engine.h's engine behind the interface. */
struct xd_engine_if xd_engine_if_real(struct xd_engine *e);

#endif
