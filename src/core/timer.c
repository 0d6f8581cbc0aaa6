/* SPDX-License-Identifier: ISC */
/* Timer queue: a binary min-heap of intrusive timers, ordered by deadline
 * and then by arming order, so equal deadlines fire first-armed-first. */
#include "core/timer.h"

#include <stdlib.h>

void xd_timers_init(struct xd_timers *q, uint64_t now)
{
	*q = (struct xd_timers){ .now = now };
}

void xd_timers_set_clock(struct xd_timers *q, uint64_t (*clock)(void))
{
	q->clock = clock;
}

void xd_timers_free(struct xd_timers *q)
{
	for (size_t i = 0; i < q->n; i++)
		q->heap[i]->slot = 0;
	free(q->heap);
	q->heap = NULL;
	q->n = q->cap = 0;
}

void xd_timer_init(struct xd_timer *t, xd_timer_fn *fn, void *arg)
{
	*t = (struct xd_timer){ .fn = fn, .arg = arg };
}

static bool earlier(const struct xd_timer *a, const struct xd_timer *b)
{
	return a->at < b->at || (a->at == b->at && a->seq < b->seq);
}

static void place(struct xd_timers *q, size_t i, struct xd_timer *t)
{
	q->heap[i] = t;
	t->slot = i + 1;
}

static void sift_up(struct xd_timers *q, size_t i)
{
	struct xd_timer *t = q->heap[i];
	while (i > 0) {
		size_t parent = (i - 1) / 2;
		if (!earlier(t, q->heap[parent]))
			break;
		place(q, i, q->heap[parent]);
		i = parent;
	}
	place(q, i, t);
}

static void sift_down(struct xd_timers *q, size_t i)
{
	struct xd_timer *t = q->heap[i];
	for (;;) {
		size_t child = 2 * i + 1;
		if (child >= q->n)
			break;
		if (child + 1 < q->n && earlier(q->heap[child + 1], q->heap[child]))
			child++;
		if (!earlier(q->heap[child], t))
			break;
		place(q, i, q->heap[child]);
		i = child;
	}
	place(q, i, t);
}

void xd_timer_disarm(struct xd_timers *q, struct xd_timer *t)
{
	if (!t->slot)
		return;
	size_t i = t->slot - 1;
	t->slot = 0;
	q->n--;
	if (i == q->n)
		return;
	struct xd_timer *moved = q->heap[q->n];
	place(q, i, moved);
	sift_down(q, i);
	sift_up(q, moved->slot - 1);
}

int xd_timer_arm(struct xd_timers *q, struct xd_timer *t, uint64_t at)
{
	xd_timer_disarm(q, t);
	if (q->n == q->cap) {
		size_t cap = q->cap ? q->cap * 2 : 16;
		struct xd_timer **h = realloc(q->heap, cap * sizeof(*h));
		if (!h)
			return -1;
		q->heap = h;
		q->cap = cap;
	}
	t->at = at;
	t->seq = q->seq++;
	place(q, q->n++, t);
	sift_up(q, q->n - 1);
	return 0;
}

int xd_timer_arm_in(struct xd_timers *q, struct xd_timer *t, uint64_t delay_ms)
{
	if (q->clock) {
		uint64_t now = q->clock();
		if (now > q->now)
			q->now = now;        /* the clock never runs backwards */
	}
	uint64_t at = q->now + delay_ms;
	return xd_timer_arm(q, t, at < q->now ? XD_NEVER : at);
}

uint64_t xd_timers_next(const struct xd_timers *q)
{
	return q->n ? q->heap[0]->at : XD_NEVER;
}

size_t xd_timers_run(struct xd_timers *q, uint64_t now)
{
	return xd_timers_run_max(q, now, SIZE_MAX);
}

size_t xd_timers_run_max(struct xd_timers *q, uint64_t now, size_t max)
{
	size_t fired = 0;
	if (now > q->now)
		q->now = now;
	while (fired < max && q->n && q->heap[0]->at <= q->now) {
		struct xd_timer *t = q->heap[0];
		xd_timer_disarm(q, t);
		t->fn(t, t->arg);
		fired++;
	}
	return fired;
}
