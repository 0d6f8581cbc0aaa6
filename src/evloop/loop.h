/* SPDX-License-Identifier: ISC */
/*
 * The daemon's main loop: one poll() over registered fds, the timer queue
 * of core/timer.h on CLOCK_MONOTONIC, and signals turned into ordinary
 * events through a self-pipe.  After every wake-up the "after" hooks run
 * (the engine's pump), so work queued by callbacks is done before the loop
 * sleeps again.  An idle loop sleeps in poll() with no timeout: no
 * wake-ups at all.
 *
 * fds are registered by handle, not by fd, so one fd may be registered
 * several times with different events (libxl does that, doc/xen-facts.md §1.2).
 */
#ifndef XD_LOOP_H
#define XD_LOOP_H

#include <stdbool.h>
#include <stdint.h>

#include "core/timer.h"

struct xd_loop;
struct xd_io;

typedef void xd_io_fn(struct xd_io *io, int fd, short revents, void *arg);
typedef void xd_signal_fn(int signo, void *arg);
typedef void xd_after_fn(void *arg);

struct xd_loop *xd_loop_new(void);
void xd_loop_free(struct xd_loop *l);

struct xd_timers *xd_loop_timers(struct xd_loop *l);
/* Milliseconds on CLOCK_MONOTONIC (what the timers use). */
uint64_t xd_loop_clock(void);

/* events: POLLIN/POLLOUT; 0 = registered but disabled. */
struct xd_io *xd_loop_add_io(struct xd_loop *l, int fd, short events, xd_io_fn *fn, void *arg);
void xd_loop_mod_io(struct xd_loop *l, struct xd_io *io, short events);
void xd_loop_del_io(struct xd_loop *l, struct xd_io *io);

/* Several handlers may share a signal; they all run, in the loop, in
 * registration order.  The signal is caught for the life of the loop. */
int xd_loop_on_signal(struct xd_loop *l, int signo, xd_signal_fn *fn, void *arg);
int xd_loop_on_after(struct xd_loop *l, xd_after_fn *fn, void *arg);

/*
 * The loop as an interface: what a component needs that only registers
 * fds and timers (libxl's osevent hooks), so its tests can give it a
 * loop of their own (a virtual clock, fds made ready by hand) instead of
 * knowing this one's insides.  struct xd_io is an opaque handle here: an
 * implementation may hand out any object of its own as one.
 */
struct xd_loop_ops {
	struct xd_io *(*add_io)(void *impl, int fd, short events, xd_io_fn *fn, void *arg);
	void (*mod_io)(void *impl, struct xd_io *io, short events);
	void (*del_io)(void *impl, struct xd_io *io);
	struct xd_timers *(*timers)(void *impl);
	uint64_t (*clock)(void *impl);          /* ms, what the timers run on */
};

struct xd_loop_if {
	const struct xd_loop_ops *ops;
	void *impl;
};

/* This loop behind the interface. */
struct xd_loop_if xd_loop_interface(struct xd_loop *l);

/* Run until xd_loop_quit(); returns the code given to it. */
int xd_loop_run(struct xd_loop *l);

/* Turns of the loop (wake-up to the next poll) and how long the longest
 * kept it busy: the daemon's deafness, measured. */
#define XD_LOOP_WORST 4
struct xd_loop_stats {
	uint64_t turns, busy_max_us, over_10ms, over_100ms;
	/* the longest turns: when they began (xd_loop_clock) and how long */
	uint64_t worst_at_ms[XD_LOOP_WORST], worst_us[XD_LOOP_WORST];
};
void xd_loop_get_stats(const struct xd_loop *l, struct xd_loop_stats *st);
void xd_loop_quit(struct xd_loop *l, int code);

#endif
