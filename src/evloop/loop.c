/* SPDX-License-Identifier: ISC */
/*
 * The daemon's poll() loop (loop.h).
 *
 * One iteration: fire due timers, deliver caught signals, dispatch the fds
 * poll() reported, fire timers again (callbacks may have taken a while),
 * run the "after" hooks, then sleep until the earliest timer -- or forever
 * when none is armed.  Because the after hooks run before the sleep and the
 * sleep time is computed from the timer queue as it is then, work queued
 * by any callback is done (or its timer is due) before the loop blocks.
 *
 * Registrations are heap objects referenced from a flat array.  Removing
 * one inside a callback only marks it dead; the array is compacted at the
 * end of the iteration, so the dispatch walk never sees freed memory.
 *
 * Signals: the handler only records the signal and writes one byte to a
 * non-blocking self-pipe.  The per-signal flag (not the byte) is what is
 * delivered, so a full pipe can never lose a signal.
 */
#include "evloop/loop.h"
#include "util/callstat.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct xd_io {
	int fd;
	short events;
	bool dead;
	xd_io_fn *fn;
	void *arg;
};

struct sig_handler {
	int signo;
	xd_signal_fn *fn;
	void *arg;
};

struct after_hook {
	xd_after_fn *fn;
	void *arg;
};

struct caught_signal {
	int signo;
	struct sigaction old;        /* restored by xd_loop_free */
};

struct xd_loop {
	struct xd_timers timers;

	struct xd_io **io;
	size_t n_io, cap_io;
	bool io_dead;                /* some registration awaits compaction */

	struct pollfd *pfd;          /* the last poll() set ... */
	struct xd_io **pfd_io;       /* ... and whom each entry belongs to */
	size_t n_pfd, cap_pfd;

	struct sig_handler *sigs;
	size_t n_sigs;
	struct caught_signal *caught;
	size_t n_caught;
	int sig_pipe[2];

	struct after_hook *after;
	size_t n_after;

	bool quit;
	int quit_code;
	struct xd_loop_stats stats;
};

/* The handler has no argument, so the pipe and flags are process-wide;
 * there is one loop per process. */
static int sig_wake_fd = -1;
static volatile sig_atomic_t sig_pending[NSIG];

static void on_signal_caught(int signo)
{
	int saved = errno;
	if (signo > 0 && signo < NSIG)
		sig_pending[signo] = 1;
	unsigned char b = (unsigned char)signo;
	/* EAGAIN (pipe full) is fine: a wake-up is already pending. */
	if (write(sig_wake_fd, &b, 1) < 0) {
	}
	errno = saved;
}

uint64_t xd_loop_clock(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

struct xd_loop *xd_loop_new(void)
{
	if (sig_wake_fd >= 0) {
		errno = EBUSY;
		return NULL;
	}
	struct xd_loop *l = calloc(1, sizeof(*l));
	if (!l)
		return NULL;
	if (pipe2(l->sig_pipe, O_CLOEXEC | O_NONBLOCK) < 0) {
		free(l);
		return NULL;
	}
	sig_wake_fd = l->sig_pipe[1];
	xd_timers_init(&l->timers, xd_loop_clock());
	/* Timers are armed from a fresh reading, not the time of the last
	 * wake-up: a callback may run long after it (or the caller arms
	 * before the loop runs at all). */
	xd_timers_set_clock(&l->timers, xd_loop_clock);
	return l;
}

static void restore_signals(struct xd_loop *l)
{
	for (size_t i = 0; i < l->n_caught; i++) {
		sigaction(l->caught[i].signo, &l->caught[i].old, NULL);
		sig_pending[l->caught[i].signo] = 0;
	}
}

void xd_loop_free(struct xd_loop *l)
{
	if (!l)
		return;
	restore_signals(l);
	sig_wake_fd = -1;
	close(l->sig_pipe[0]);
	close(l->sig_pipe[1]);
	for (size_t i = 0; i < l->n_io; i++)
		free(l->io[i]);
	free(l->io);
	free(l->pfd);
	free(l->pfd_io);
	free(l->sigs);
	free(l->caught);
	free(l->after);
	xd_timers_free(&l->timers);
	free(l);
}

struct xd_timers *xd_loop_timers(struct xd_loop *l)
{
	return &l->timers;
}

struct xd_io *xd_loop_add_io(struct xd_loop *l, int fd, short events, xd_io_fn *fn, void *arg)
{
	if (l->n_io == l->cap_io) {
		size_t cap = l->cap_io ? l->cap_io * 2 : 8;
		struct xd_io **v = realloc(l->io, cap * sizeof(*v));
		if (!v)
			return NULL;
		l->io = v;
		l->cap_io = cap;
	}
	struct xd_io *io = malloc(sizeof(*io));
	if (!io)
		return NULL;
	*io = (struct xd_io){ .fd = fd, .events = events, .fn = fn, .arg = arg };
	l->io[l->n_io++] = io;
	return io;
}

void xd_loop_mod_io(struct xd_loop *l, struct xd_io *io, short events)
{
	(void)l;
	io->events = events;
}

void xd_loop_del_io(struct xd_loop *l, struct xd_io *io)
{
	if (!io)
		return;
	io->dead = true;
	io->events = 0;
	l->io_dead = true;
}

static void compact_io(struct xd_loop *l)
{
	if (!l->io_dead)
		return;
	size_t j = 0;
	for (size_t i = 0; i < l->n_io; i++) {
		if (l->io[i]->dead)
			free(l->io[i]);
		else
			l->io[j++] = l->io[i];
	}
	l->n_io = j;
	l->io_dead = false;
}

static bool signal_caught(const struct xd_loop *l, int signo)
{
	for (size_t i = 0; i < l->n_caught; i++)
		if (l->caught[i].signo == signo)
			return true;
	return false;
}

static int catch_signal(struct xd_loop *l, int signo)
{
	struct caught_signal *c = realloc(l->caught, (l->n_caught + 1) * sizeof(*c));
	if (!c)
		return -1;
	l->caught = c;
	struct sigaction sa = { .sa_handler = on_signal_caught, .sa_flags = SA_RESTART };
	if (signo == SIGCHLD)
		sa.sa_flags |= SA_NOCLDSTOP;
	sigfillset(&sa.sa_mask);
	if (sigaction(signo, &sa, &c[l->n_caught].old) < 0)
		return -1;
	c[l->n_caught++].signo = signo;
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, signo);
	return sigprocmask(SIG_UNBLOCK, &set, NULL);
}

int xd_loop_on_signal(struct xd_loop *l, int signo, xd_signal_fn *fn, void *arg)
{
	if (signo <= 0 || signo >= NSIG) {
		errno = EINVAL;
		return -1;
	}
	struct sig_handler *s = realloc(l->sigs, (l->n_sigs + 1) * sizeof(*s));
	if (!s)
		return -1;
	l->sigs = s;
	if (!signal_caught(l, signo) && catch_signal(l, signo) < 0)
		return -1;
	s[l->n_sigs++] = (struct sig_handler){ .signo = signo, .fn = fn, .arg = arg };
	return 0;
}

int xd_loop_on_after(struct xd_loop *l, xd_after_fn *fn, void *arg)
{
	struct after_hook *a = realloc(l->after, (l->n_after + 1) * sizeof(*a));
	if (!a)
		return -1;
	l->after = a;
	a[l->n_after++] = (struct after_hook){ .fn = fn, .arg = arg };
	return 0;
}

static struct xd_io *if_add_io(void *impl, int fd, short events, xd_io_fn *fn, void *arg)
{
	return xd_loop_add_io(impl, fd, events, fn, arg);
}

static void if_mod_io(void *impl, struct xd_io *io, short events)
{
	xd_loop_mod_io(impl, io, events);
}

static void if_del_io(void *impl, struct xd_io *io)
{
	xd_loop_del_io(impl, io);
}

static struct xd_timers *if_timers(void *impl)
{
	return xd_loop_timers(impl);
}

static uint64_t if_clock(void *impl)
{
	(void)impl;
	return xd_loop_clock();
}

static const struct xd_loop_ops loop_ops = {
	.add_io = if_add_io, .mod_io = if_mod_io, .del_io = if_del_io,
	.timers = if_timers, .clock = if_clock,
};

struct xd_loop_if xd_loop_interface(struct xd_loop *l)
{
	return (struct xd_loop_if){ .ops = &loop_ops, .impl = l };
}

void xd_loop_quit(struct xd_loop *l, int code)
{
	l->quit = true;
	l->quit_code = code;
}

/* Timers fire in batches: between two batches the after hooks (the
 * engine) drain what the fired timers queued, and fds and signals get
 * their turn, so ten thousand timers due at once neither pile up ten
 * thousand events nor keep the control socket waiting. */
#define TIMER_BATCH 256

static void run_timers(struct xd_loop *l)
{
	xd_timers_run_max(&l->timers, xd_loop_clock(), TIMER_BATCH);
}

static void drain_sig_pipe(struct xd_loop *l)
{
	unsigned char buf[64];
	while (read(l->sig_pipe[0], buf, sizeof(buf)) > 0)
		;
}

/* Handlers may register more handlers, so index (not pointer) walk. */
static void deliver_signals(struct xd_loop *l)
{
	drain_sig_pipe(l);
	for (size_t c = 0; c < l->n_caught; c++) {
		int signo = l->caught[c].signo;
		if (!sig_pending[signo])
			continue;
		sig_pending[signo] = 0;
		for (size_t i = 0; i < l->n_sigs; i++)
			if (l->sigs[i].signo == signo)
				l->sigs[i].fn(signo, l->sigs[i].arg);
	}
}

/* pfd and pfd_io are parallel arrays of one capacity. */
static int grow_pollset(struct xd_loop *l, size_t need)
{
	if (need <= l->cap_pfd)
		return 0;
	size_t cap = need * 2;
	struct pollfd *p = realloc(l->pfd, cap * sizeof(*p));
	if (!p)
		return -1;
	l->pfd = p;
	struct xd_io **o = realloc(l->pfd_io, cap * sizeof(*o));
	if (!o)
		return -1;
	l->pfd_io = o;
	l->cap_pfd = cap;
	return 0;
}

/* Entry 0 is always the signal pipe. */
static int build_pollset(struct xd_loop *l)
{
	if (grow_pollset(l, l->n_io + 1) < 0)
		return -1;
	l->pfd[0] = (struct pollfd){ .fd = l->sig_pipe[0], .events = POLLIN };
	l->pfd_io[0] = NULL;
	size_t n = 1;
	for (size_t i = 0; i < l->n_io; i++) {
		struct xd_io *io = l->io[i];
		if (io->dead || !io->events)
			continue;
		l->pfd[n] = (struct pollfd){ .fd = io->fd, .events = io->events };
		l->pfd_io[n++] = io;
	}
	l->n_pfd = n;
	return 0;
}

static void dispatch_io(struct xd_loop *l)
{
	for (size_t i = 1; i < l->n_pfd; i++) {
		struct xd_io *io = l->pfd_io[i];
		short rev = l->pfd[i].revents;
		if (!rev)
			continue;
		/* A callback earlier in this walk may have removed or
		 * disabled this registration: honour that. */
		rev &= (short)(io->events | POLLERR | POLLHUP | POLLNVAL);
		if (io->dead || !io->events || !rev)
			continue;
		io->fn(io, io->fd, rev, io->arg);
	}
	l->n_pfd = 0;
}

static void run_after_hooks(struct xd_loop *l)
{
	for (size_t i = 0; i < l->n_after; i++)
		l->after[i].fn(l->after[i].arg);
}

/* -1 (sleep until an fd or signal) when no timer is armed. */
static int poll_timeout(struct xd_loop *l)
{
	uint64_t next = xd_timers_next(&l->timers);
	if (next == XD_NEVER)
		return -1;
	uint64_t now = xd_loop_clock();
	if (next <= now)
		return 0;
	return next - now > INT_MAX ? INT_MAX : (int)(next - now);
}

/* How long one turn kept the loop from poll(): what a request that
 * arrived at its start waited at most for the loop alone. */
static void count_turn(struct xd_loop *l, uint64_t woke_us)
{
	uint64_t d = xd_callstat_clock_us() - woke_us;
	l->stats.turns++;
	if (d > l->stats.busy_max_us)
		l->stats.busy_max_us = d;
	l->stats.over_10ms += d > 10000;
	l->stats.over_100ms += d > 100000;
	size_t i = XD_LOOP_WORST;
	while (i > 0 && d > l->stats.worst_us[i - 1])
		i--;
	if (i == XD_LOOP_WORST)
		return;
	for (size_t j = XD_LOOP_WORST - 1; j > i; j--) {
		l->stats.worst_us[j] = l->stats.worst_us[j - 1];
		l->stats.worst_at_ms[j] = l->stats.worst_at_ms[j - 1];
	}
	l->stats.worst_us[i] = d;
	l->stats.worst_at_ms[i] = woke_us / 1000;
}

void xd_loop_get_stats(const struct xd_loop *l, struct xd_loop_stats *st)
{
	*st = l->stats;
}

int xd_loop_run(struct xd_loop *l)
{
	l->quit = false;
	for (;;) {
		uint64_t woke = xd_callstat_clock_us();
		run_timers(l);
		deliver_signals(l);
		dispatch_io(l);
		run_timers(l);
		run_after_hooks(l);
		compact_io(l);
		count_turn(l, woke);
		if (l->quit)
			return l->quit_code;
		if (build_pollset(l) < 0)
			return -1;
		int timeout = poll_timeout(l);
		if (poll(l->pfd, l->n_pfd, timeout) < 0) {
			if (errno != EINTR)
				return -1;
			l->n_pfd = 0;      /* revents are undefined */
		}
	}
}
