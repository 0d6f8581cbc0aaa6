/* SPDX-License-Identifier: ISC */
/*
 * The dependency planner (xendomd(8), Boot): cycle detection, the boot plan
 * (order and waves) and its human and Graphviz renderings for
 * `xendomd --plan [--dot]` and `xendomctl plan`.
 *
 * Pure computation over the resolved dependency index lists of
 * struct xd_domain_cfg (after, requires): no I/O, no Xen headers.
 * A domain i depends on j when j is in i's requires or after list.
 */
#ifndef XD_PLAN_H
#define XD_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/config.h"

struct xd_plan {
	size_t *order;           /* boot-plan domains in start order */
	size_t n;                /* entries in order */
	unsigned *wave;          /* indexed by domain; valid where in_boot */
	unsigned n_waves;
	bool *in_boot;           /* indexed by domain */
	size_t n_domains;
};

/* A dependency cycle: v[0] -> v[1] -> ... -> v[len-1], v[len-1] == v[0];
 * each arrow reads "depends on".  A self-loop has len 2. */
struct xd_cycle {
	size_t *v;
	size_t len;
};

/*
 * Boot plan: the autostart domains plus everything they require
 * (transitively; `after` alone pulls nothing in), in topological order with
 * ties going to config order.  Wave 0 = no dependency inside the plan;
 * wave k = 1 + the highest wave of its after/requires dependencies in the
 * plan.  Returns 0, or -1 with errno ELOOP if the configuration has a
 * cycle (anywhere, not only in the plan) or ENOMEM.
 */
int xd_plan_build(const struct xd_config *cfg, struct xd_plan *out);
void xd_plan_free(struct xd_plan *p);

/*
 * The first cycle met by a depth-first walk in config order (requires
 * before after): 1 and *cycle (malloc'ed, free it) / *len if found, 0 if
 * none, -1 on ENOMEM.  The cycle starts at the domain the walk reached
 * first; its last arrow is the dependency that closes it.
 */
int xd_plan_find_cycle(const struct xd_config *cfg, size_t **cycle, size_t *len);

/*
 * Every cycle, for reporting them all in one run: after each cycle found
 * its closing arrow is set aside and the search goes on, so each reported
 * cycle is a real one and none is reported twice.  Returns 0 (*out may be
 * NULL when *n is 0) or -1 on ENOMEM.
 */
int xd_plan_find_cycles(const struct xd_config *cfg, struct xd_cycle **out, size_t *n);
void xd_cycles_free(struct xd_cycle *c, size_t n);

/* "a -> b -> c -> a" (malloc'ed; NULL on ENOMEM). */
char *xd_plan_cycle_text(const struct xd_config *cfg, const size_t *cycle, size_t len);

/*
 * Render the plan (malloc'ed; NULL on ENOMEM).
 * Text: a header line, then each wave with its domains (readiness,
 * requires, after), then the domains not in the boot plan (on demand).
 * DOT (`dot` true): one node per domain (on-demand ones dashed and grey),
 * arrows from a dependency to its dependent ("starts before"): requires
 * solid, after-only dashed; boot domains of a wave share a rank.
 */
char *xd_plan_format(const struct xd_config *cfg, const struct xd_plan *p, bool dot);

/*
 * start_order = critical-path.  measured[i] is domain i's create-to-ready
 * time in ms from earlier boots, 0 when it has none (measured may be NULL:
 * none known).
 *
 * xd_plan_weights: the weights used, out[i] = measured[i], or for an
 * unmeasured domain the median of the measured ones (the lower middle
 * one of an even count), or 1 when nothing is measured.
 *
 * xd_plan_critical: out[i] = the longest weighted path from i through its
 * dependents (the domains whose requires or after list i, transitively),
 * i's own weight included, over the whole configuration.  Returns 0, or
 * -1 with errno ELOOP on a cycle (out is then meaningless).
 */
void xd_plan_weights(const uint64_t *measured, size_t n, uint64_t *out);
int xd_plan_critical(const struct xd_config *cfg, const uint64_t *measured, uint64_t *out);

/*
 * The expected boot makespan in ms: a list-scheduling simulation of the
 * boot plan with cfg's max_parallel_starts, each domain taking weights[i]
 * (from xd_plan_weights); the ready queue in (prio desc, config order) or,
 * with prio NULL, in config order.  The model is stated in plan_crit.c.
 */
uint64_t xd_plan_makespan(const struct xd_config *cfg, const struct xd_plan *p,
			  const uint64_t *weights, const uint64_t *prio);

/*
 * The `--plan` section for start_order = critical-path (malloc'ed; NULL
 * with errno ELOOP or ENOMEM): the expected makespan in both orders and
 * the weight of every boot domain, marked where it is the median.
 */
char *xd_plan_format_makespan(const struct xd_config *cfg, const struct xd_plan *p,
			      const uint64_t *measured);

#endif
