/*
 * The run and stop queues (heaps in configuration order, stops in reverse)
 * and memory admission: as many starts and stops as the parallelism limits
 * allow, a start only when the hypervisor has the memory for it.
 */
#include "core/engine/engine_int.h"

#define MEM_RECHECK_MS 1000           /* free memory can change behind our back */

static uint64_t run_key(const struct xd_engine *e, size_t slot)
{
	return e->doms[slot]->order;
}

static uint64_t stop_key(const struct xd_engine *e, size_t slot)
{
	return UINT64_MAX - e->doms[slot]->order;   /* reverse config order */
}

typedef uint64_t heap_key_fn(const struct xd_engine *, size_t);

static void heap_push(struct xd_engine *e, struct slot_heap *h, heap_key_fn *key, size_t slot)
{
	XD_GROW(h->v, h->n, h->cap);
	size_t i = h->n++;
	while (i > 0) {
		size_t p = (i - 1) / 2;
		if (key(e, h->v[p]) <= key(e, slot))
			break;
		h->v[i] = h->v[p];
		i = p;
	}
	h->v[i] = slot;
}

static size_t heap_pop(struct xd_engine *e, struct slot_heap *h, heap_key_fn *key)
{
	size_t top = h->v[0], last = h->v[--h->n], i = 0;
	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= h->n)
			break;
		if (c + 1 < h->n && key(e, h->v[c + 1]) < key(e, h->v[c]))
			c++;
		if (key(e, last) <= key(e, h->v[c]))
			break;
		h->v[i] = h->v[c];
		i = c;
	}
	if (h->n)
		h->v[i] = last;
	return top;
}

/* Queue d to start (or stop) once a slot is free. */
void eng_queue_start(struct xd_engine *e, struct dom *d)
{
	d->start.queued = true;
	heap_push(e, &e->runq, run_key, d->slot);
}

void eng_queue_stop(struct xd_engine *e, struct dom *d)
{
	d->stop.queued = true;
	heap_push(e, &e->stopq, stop_key, d->slot);
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

/* Start as many queued domains as slots and memory allow, config order
 * first; a domain that does not fit in memory waits and lets smaller
 * ones past (nothing frees memory at boot, so holding the line would only
 * stall everyone until start_timeout). */
void eng_dispatch_starts(struct xd_engine *e)
{
	while (e->runq.n && start_slot_free(e)) {
		struct dom *d = e->doms[heap_pop(e, &e->runq, run_key)];
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
		struct dom *d = e->doms[heap_pop(e, &e->stopq, stop_key)];
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
