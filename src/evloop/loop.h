/*
 * The daemon's main loop: one poll() over registered fds, the timer queue
 * of core/timer.h on CLOCK_MONOTONIC, and signals turned into ordinary
 * events through a self-pipe.  After every wake-up the "after" hooks run
 * (the engine's pump), so work queued by callbacks is done before the loop
 * sleeps again.  An idle loop sleeps in poll() with no timeout: no
 * wake-ups at all.
 *
 * fds are registered by handle, not by fd, so one fd may be registered
 * several times with different events (libxl does that, xen-notes §1.2).
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

/* Run until xd_loop_quit(); returns the code given to it. */
int xd_loop_run(struct xd_loop *l);
void xd_loop_quit(struct xd_loop *l, int code);

#endif
