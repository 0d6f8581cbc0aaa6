/* SPDX-License-Identifier: ISC */
/*
 * The run and stop queues (heaps in configuration order, stops in reverse;
 * with start_order = critical-path, starts by the longest weighted chain
 * of dependents first) and memory admission: as many starts and stops as
 * the parallelism limits allow, a start only when the hypervisor has the
 * memory for it.
 */
#include "core/engine/engine_int.h"

#include <stdlib.h>

#include "core/plan.h"

#define MEM_RECHECK_MS 1000           /* free memory can change behind our back */

/* Does slot a start before slot b? */
static bool run_before(const struct xd_engine *e, size_t a, size_t b)
{
	const struct dom *x = e->doms[a], *y = e->doms[b];
	if (e->cfg->global.start_order == XD_ORDER_CRITICAL_PATH && x->prio != y->prio)
		return x->prio > y->prio;
	return x->order < y->order;
}

static bool stop_before(const struct xd_engine *e, size_t a, size_t b)
{
	return e->doms[a]->order > e->doms[b]->order;   /* reverse config order */
}

typedef bool heap_before_fn(const struct xd_engine *, size_t, size_t);

static void sift_down(struct xd_engine *e, struct slot_heap *h, heap_before_fn *before,
		      size_t i, size_t slot)
{
	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= h->n)
			break;
		if (c + 1 < h->n && before(e, h->v[c + 1], h->v[c]))
			c++;
		if (!before(e, h->v[c], slot))
			break;
		h->v[i] = h->v[c];
		i = c;
	}
	h->v[i] = slot;
}

static void heap_push(struct xd_engine *e, struct slot_heap *h, heap_before_fn *before, size_t slot)
{
	XD_GROW(h->v, h->n, h->cap);
	size_t i = h->n++;
	while (i > 0) {
		size_t p = (i - 1) / 2;
		if (!before(e, slot, h->v[p]))
			break;
		h->v[i] = h->v[p];
		i = p;
	}
	h->v[i] = slot;
}

static size_t heap_pop(struct xd_engine *e, struct slot_heap *h, heap_before_fn *before)
{
	size_t top = h->v[0], last = h->v[--h->n];
	if (h->n)
		sift_down(e, h, before, 0, last);
	return top;
}

/* The keys changed under the heap (priorities, config order): rebuild it. */
static void heapify(struct xd_engine *e, struct slot_heap *h, heap_before_fn *before)
{
	for (size_t i = h->n / 2; i-- > 0;)
		sift_down(e, h, before, i, h->v[i]);
}

/* Recompute every configured domain's priority from the weights it
 * keeps (a cycle, which a loaded configuration never has, leaves them
 * all equal: config order). */
void eng_update_priorities(struct xd_engine *e)
{
	size_t n = e->cfg->n_domains;
	uint64_t *w = xd_calloc(n + 1, sizeof(*w)), *prio = xd_calloc(n + 1, sizeof(*prio));
	for (size_t i = 0; i < n; i++)
		w[i] = e->doms[e->cfg_slot[i]]->weight_ms;
	bool ok = xd_plan_critical(e->cfg, w, prio) == 0;
	for (size_t s = 0; s < e->n_doms; s++)
		e->doms[s]->prio = 0;
	for (size_t i = 0; ok && i < n; i++)
		e->doms[e->cfg_slot[i]]->prio = prio[i];
	free(w);
	free(prio);
	heapify(e, &e->runq, run_before);
	heapify(e, &e->stopq, stop_before);
}

void xd_engine_set_weights(struct xd_engine *e, const uint64_t *weight_ms)
{
	for (size_t i = 0; i < e->cfg->n_domains; i++)
		e->doms[e->cfg_slot[i]]->weight_ms = weight_ms[i];
	eng_update_priorities(e);
}

/* Queue d to start (or stop) once a slot is free. */
void eng_queue_start(struct xd_engine *e, struct dom *d)
{
	d->start.queued = true;
	heap_push(e, &e->runq, run_before, d->slot);
}

void eng_queue_stop(struct xd_engine *e, struct dom *d)
{
	d->stop.queued = true;
	heap_push(e, &e->stopq, stop_before, d->slot);
}

void eng_release_start_slot(struct xd_engine *e, struct dom *d)
{
	if (d->start.holds_slot) {
		d->start.holds_slot = false;
		e->starts_inflight--;
	}
	e->reserved_kb -= d->reserved_kb;
	d->reserved_kb = 0;
}

void eng_release_stop_slot(struct xd_engine *e, struct dom *d)
{
	if (d->stop.holds_slot) {
		d->stop.holds_slot = false;
		e->stops_inflight--;
	}
}

static bool start_slot_free(const struct xd_engine *e)
{
	unsigned max = e->cfg->global.max_parallel_starts;
	return max == 0 || e->starts_inflight < max;
}

/* What d needs, and what is free for it: the hypervisor's free memory less
 * what our creates in flight were promised.  -1 if the hypervisor cannot
 * say (the figures it could not give are 0). */
static int memory_figures(struct xd_engine *e, const struct dom *d, uint64_t *need, uint64_t *free_kb)
{
	*need = *free_kb = 0;
	if (e->hv->ops->mem_need(e->hv, d->cfg, need) < 0 ||
	    e->hv->ops->mem_free(e->hv, free_kb) < 0)
		return -1;
	*free_kb = *free_kb > e->reserved_kb ? *free_kb - e->reserved_kb : 0;
	return 0;
}

static void wait_for_memory(struct xd_engine *e, struct dom *d, uint64_t need_kb, uint64_t free_kb)
{
	if (!d->mem_wait_since) {
		d->mem_wait_since = now(e) ? now(e) : 1;
		eng_arm_deadline(e, d, DL_MEMORY, e->cfg->global.start_timeout_ms);
	}
	d->start.mem_waiting = true;
	XD_GROW(e->memq, e->n_memq, e->cap_memq);
	e->memq[e->n_memq++] = d->slot;
	eng_set_state(e, d, XD_WAITING, "memory: need %llu MiB, free %llu MiB",
		      (unsigned long long)(need_kb / 1024), (unsigned long long)(free_kb / 1024));
	if (!xd_timer_armed(&e->mem_timer))
		xd_timer_arm_in(e->timers, &e->mem_timer, MEM_RECHECK_MS);
}

/* Memory may have been freed: give every memory waiter another go. */
void eng_requeue_memory_waiters(struct xd_engine *e)
{
	for (size_t i = 0; i < e->n_memq; i++) {
		struct dom *d = e->doms[e->memq[i]];
		d->start.mem_waiting = false;
		eng_mark_dirty(e, d);
	}
	e->n_memq = 0;
}

void eng_mem_timer_fired(struct xd_timer *t, void *arg)
{
	(void)t;
	eng_requeue_memory_waiters(arg);
}

/* Start as many queued domains as slots and memory allow, in the run
 * queue's order; a domain that does not fit in memory waits and lets smaller
 * ones past (nothing frees memory at boot, so holding the line would only
 * stall everyone until start_timeout). */
void eng_dispatch_starts(struct xd_engine *e)
{
	while (e->runq.n && start_slot_free(e)) {
		struct dom *d = e->doms[heap_pop(e, &e->runq, run_before)];
		d->start.queued = false;
		if (d->state != XD_WAITING || d->goal != GOAL_UP || d->start.retry_wait || d->start.mem_waiting)
			continue;
		uint64_t need, free_kb;
		if (memory_figures(e, d, &need, &free_kb) < 0) {
			eng_attempt_failed(e, d, "cannot read memory figures from the hypervisor");
			continue;
		}
		if (need > free_kb) {
			wait_for_memory(e, d, need, free_kb);
			continue;
		}
		if (d->mem_wait_since) {
			d->mem_wait_since = 0;
			xd_timer_disarm(e->timers, &d->t_deadline);
		}
		eng_start_attempt(e, d, need);
	}
}

static bool stop_slot_free(const struct xd_engine *e)
{
	unsigned max = e->cfg->global.max_parallel_stops;
	return max == 0 || e->stops_inflight < max;
}

void eng_dispatch_stops(struct xd_engine *e)
{
	while (e->stopq.n && stop_slot_free(e)) {
		struct dom *d = e->doms[heap_pop(e, &e->stopq, stop_before)];
		d->stop.queued = false;
		if (d->goal != GOAL_DOWN || !alive(d) || d->stop.requested)
			continue;
		d->stop.holds_slot = true;
		e->stops_inflight++;
		eng_begin_stop(e, d);
	}
}

/* Waited start_timeout for memory: the start fails. */
void eng_memory_timed_out(struct xd_engine *e, struct dom *d)
{
	uint64_t need, free_kb;
	memory_figures(e, d, &need, &free_kb);
	d->mem_wait_since = 0;
	d->start.mem_waiting = false;
	for (size_t i = 0; i < e->n_memq; i++)
		if (e->memq[i] == d->slot)
			e->memq[i] = e->memq[--e->n_memq];
	eng_fail_domain(e, d, "need %llu MiB, free %llu MiB", (unsigned long long)(need / 1024),
			(unsigned long long)(free_kb / 1024));
}
