/* SPDX-License-Identifier: ISC */
/*
 * A timer queue on an abstract millisecond clock.  The daemon's poll loop
 * drives it with the monotonic clock; tests drive it with a virtual clock
 * that jumps straight to the next deadline, so a 300 s timeout costs
 * nothing and every run is deterministic.
 *
 * Timers are intrusive (embedded in their owner), so arming one never
 * allocates and disarming is O(log n).  Callbacks may arm and disarm any
 * timer, including their own.
 */
#ifndef XD_TIMER_H
#define XD_TIMER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define XD_NEVER UINT64_MAX

struct xd_timer;
typedef void xd_timer_fn(struct xd_timer *t, void *arg);

struct xd_timer {
	uint64_t at;             /* absolute ms */
	size_t slot;             /* heap index + 1; 0 = not armed */
	uint64_t seq;            /* FIFO order among equal deadlines */
	xd_timer_fn *fn;
	void *arg;
};

struct xd_timers {
	struct xd_timer **heap;
	size_t n, cap;
	uint64_t now;            /* the clock as of the last run or relative arm */
	uint64_t seq;
	/* Where relative arming reads the time; NULL: the cached now (the
	 * tests' virtual clock).  See xd_timer_arm_in. */
	uint64_t (*clock)(void);
};

void xd_timers_init(struct xd_timers *q, uint64_t now);
/* Give the queue a clock source (the daemon's loop: the monotonic clock). */
void xd_timers_set_clock(struct xd_timers *q, uint64_t (*clock)(void));
void xd_timers_free(struct xd_timers *q);

void xd_timer_init(struct xd_timer *t, xd_timer_fn *fn, void *arg);
/* (Re)arm t to fire at absolute time at; returns -1 only on ENOMEM. */
int xd_timer_arm(struct xd_timers *q, struct xd_timer *t, uint64_t at);
/* delay_ms from now: a fresh reading of the clock source when there is
 * one, so a timer armed long after the last run (a slow callback, a
 * caller outside the loop) never fires early. */
int xd_timer_arm_in(struct xd_timers *q, struct xd_timer *t, uint64_t delay_ms);
void xd_timer_disarm(struct xd_timers *q, struct xd_timer *t);
static inline bool xd_timer_armed(const struct xd_timer *t) { return t->slot != 0; }

static inline uint64_t xd_timers_now(const struct xd_timers *q) { return q->now; }
/* The time to stamp an event with: a fresh reading of the clock source
 * when there is one (a call on the loop may have taken long since the
 * last run), else the cached now (the tests' virtual clock). */
static inline uint64_t xd_timers_fresh(const struct xd_timers *q)
{
	return q->clock ? q->clock() : q->now;
}
/* Earliest deadline, or XD_NEVER. */
uint64_t xd_timers_next(const struct xd_timers *q);
/* Set the clock to now and fire every timer due by then, earliest first.
 * Returns how many fired. */
size_t xd_timers_run(struct xd_timers *q, uint64_t now);
/* The same, firing at most max timers (the rest stay due). */
size_t xd_timers_run_max(struct xd_timers *q, uint64_t now, size_t max);

#endif
