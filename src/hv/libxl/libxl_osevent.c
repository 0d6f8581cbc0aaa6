/* SPDX-License-Identifier: ISC */
/* libxl's osevent hooks on the daemon loop (libxl_osevent.h). */
#include "hv/libxl/libxl_osevent.h"

#include <poll.h>
#include <stdlib.h>

struct xlb_osev_fd {
	struct xlb_osev *o;
	struct xd_io *io;
	int fd;
	short events;
	void *for_libxl;
	struct xlb_osev_fd *prev, *next;
};

struct xlb_osev_timeout {
	struct xlb_osev *o;
	struct xd_timer timer;
	void *for_libxl;
	bool deregistered;                   /* by libxl, while it was firing */
	struct xlb_osev_timeout *prev, *next;
};

/* Intrusive doubly linked lists, so deregistration is O(1). */
#define LIST_LINK(head, e) do {                         \
		(e)->prev = NULL;                       \
		(e)->next = (head);                     \
		if (head)                               \
			(head)->prev = (e);             \
		(head) = (e);                           \
	} while (0)
#define LIST_UNLINK(head, e) do {                       \
		if ((e)->prev)                          \
			(e)->prev->next = (e)->next;    \
		else                                    \
			(head) = (e)->next;             \
		if ((e)->next)                          \
			(e)->next->prev = (e)->prev;    \
	} while (0)

static struct xd_timers *timers_of(struct xlb_osev *o)
{
	return o->loop.ops->timers(o->loop.impl);
}

uint64_t xlb_osev_abs_to_mono(struct timeval abs, struct timeval now_real, uint64_t now_mono)
{
	int64_t delta_us = ((int64_t)abs.tv_sec - (int64_t)now_real.tv_sec) * 1000000
		+ ((int64_t)abs.tv_usec - (int64_t)now_real.tv_usec);
	if (delta_us <= 0)
		return now_mono;
	return now_mono + (uint64_t)(delta_us + 999) / 1000;
}

static void on_fd(struct xd_io *io, int fd, short revents, void *arg)
{
	(void)io;
	struct xlb_osev_fd *r = arg;
	/* libxl may deregister r inside this call: do not touch r after it. */
	r->o->fd_occurred(r->o->ctx, r->for_libxl, fd, r->events, revents);
}

static int fd_register(void *user, int fd, void **for_app, short events, void *for_libxl)
{
	struct xlb_osev *o = user;
	struct xlb_osev_fd *r = calloc(1, sizeof(*r));
	if (!r)
		return ERROR_NOMEM;
	*r = (struct xlb_osev_fd){ .o = o, .fd = fd, .events = events, .for_libxl = for_libxl };
	r->io = o->loop.ops->add_io(o->loop.impl, fd, events, on_fd, r);
	if (!r->io) {
		free(r);
		return ERROR_NOMEM;
	}
	LIST_LINK(o->fds, r);
	*for_app = r;
	return 0;
}

static int fd_modify(void *user, int fd, void **for_app, short events)
{
	(void)fd;
	struct xlb_osev *o = user;
	struct xlb_osev_fd *r = *for_app;
	r->events = events;
	o->loop.ops->mod_io(o->loop.impl, r->io, events);
	return 0;
}

static void fd_drop(struct xlb_osev *o, struct xlb_osev_fd *r)
{
	LIST_UNLINK(o->fds, r);
	o->loop.ops->del_io(o->loop.impl, r->io);
	free(r);
}

static void fd_deregister(void *user, int fd, void *for_app)
{
	(void)fd;
	fd_drop(user, for_app);
}

static void timeout_drop(struct xlb_osev *o, struct xlb_osev_timeout *r)
{
	LIST_UNLINK(o->timeouts, r);
	xd_timer_disarm(timers_of(o), &r->timer);
	free(r);
}

/*
 * libxl's own loop handles ready fds before due timeouts.  Ours runs
 * timers first, and a timeout may be late because the loop was blocked
 * (a synchronous domain build takes seconds, doc/xen-facts.md §9): what libxl
 * waits for (xenconsoled writing console/tty, say) may have arrived
 * meanwhile, and firing the timeout first fails the create.  So before a
 * timeout is delivered, every fd libxl registered is polled without
 * waiting and the ready ones are delivered first.  The values are copied
 * first because libxl may deregister anything from inside a call; libxl
 * re-polls the fd itself and ignores stale registrations.
 */
static void deliver_ready_fds(struct xlb_osev *o)
{
	size_t n = 0;
	for (struct xlb_osev_fd *r = o->fds; r; r = r->next)
		n += r->events != 0;
	if (!n)
		return;
	struct pollfd *p = calloc(n, sizeof(*p));
	void **for_libxl = calloc(n, sizeof(*for_libxl));
	if (p && for_libxl) {
		size_t i = 0;
		for (struct xlb_osev_fd *r = o->fds; r; r = r->next)
			if (r->events) {
				p[i] = (struct pollfd){ .fd = r->fd, .events = r->events };
				for_libxl[i++] = r->for_libxl;
			}
		if (poll(p, n, 0) > 0)
			for (i = 0; i < n; i++)
				if (p[i].revents)
					o->fd_occurred(o->ctx, for_libxl[i], p[i].fd, p[i].events,
						       p[i].revents);
	}
	free(p);
	free(for_libxl);
}

/*
 * A due timeout: the ready fds first (above), then the timeout.  The
 * registration must outlive the fds' delivery: when an fd brings what
 * libxl waited for, libxl cancels this very timeout from inside
 * libxl_osevent_occurred_fd (time_deregister in
 * tools/libs/light/libxl_event.c calls timeout_modify on our
 * registration), and that call must find it alive.  Freeing it before
 * the fds went out let the cancel re-arm a freed timer: the queue then
 * ran whatever the reused memory held as its callback (the daemon's
 * "segfault at 0 ip 0" under load).  Only then is the timeout
 * implicitly deregistered, freed before libxl is told, because libxl may
 * register a new one from inside that call.  A cancelled one is still
 * delivered: libxl releases its side of the registration only there.
 */
static void on_timeout(struct xd_timer *t, void *arg)
{
	(void)t;
	struct xlb_osev_timeout *r = arg;
	struct xlb_osev *o = r->o;
	o->firing = r;
	deliver_ready_fds(o);
	o->firing = NULL;
	void *for_libxl = r->for_libxl;
	bool deregistered = r->deregistered;
	timeout_drop(o, r);
	if (!deregistered)
		o->timeout_occurred(o->ctx, for_libxl);
}

static uint64_t mono_deadline(struct xlb_osev *o, struct timeval abs)
{
	struct timeval now;
	gettimeofday(&now, NULL);
	return xlb_osev_abs_to_mono(abs, now, o->loop.ops->clock(o->loop.impl));
}

static int timeout_register(void *user, void **for_app, struct timeval abs, void *for_libxl)
{
	struct xlb_osev *o = user;
	struct xlb_osev_timeout *r = calloc(1, sizeof(*r));
	if (!r)
		return ERROR_NOMEM;
	r->o = o;
	r->for_libxl = for_libxl;
	xd_timer_init(&r->timer, on_timeout, r);
	if (xd_timer_arm(timers_of(o), &r->timer, mono_deadline(o, abs)) < 0) {
		free(r);
		return ERROR_NOMEM;
	}
	LIST_LINK(o->timeouts, r);
	*for_app = r;
	return 0;
}

/* libxl only ever passes {0,0} here: "fire as soon as possible", which
 * is also how it cancels a timeout.  Deadline 0 is always due. */
static int timeout_modify(void *user, void **for_app, struct timeval abs)
{
	struct xlb_osev *o = user;
	struct xlb_osev_timeout *r = *for_app;
	uint64_t at = (abs.tv_sec == 0 && abs.tv_usec == 0) ? 0 : mono_deadline(o, abs);
	return xd_timer_arm(timers_of(o), &r->timer, at) < 0 ? ERROR_NOMEM : 0;
}

/* libxl 4.17 never calls it (libxl_event.h).  One deregistered while
 * its own delivery is under way is freed by that delivery, not here. */
static void timeout_deregister(void *user, void *for_app)
{
	struct xlb_osev *o = user;
	struct xlb_osev_timeout *r = for_app;
	if (r == o->firing) {
		r->deregistered = true;
		xd_timer_disarm(timers_of(o), &r->timer);
		return;
	}
	timeout_drop(o, r);
}

const libxl_osevent_hooks xlb_osev_hooks = {
	.fd_register = fd_register,
	.fd_modify = fd_modify,
	.fd_deregister = fd_deregister,
	.timeout_register = timeout_register,
	.timeout_modify = timeout_modify,
	.timeout_deregister = timeout_deregister,
};

void xlb_osev_init(struct xlb_osev *o, struct xd_loop_if loop,
		  xlb_osev_fd_fn *fd_fn, xlb_osev_timeout_fn *timeout_fn)
{
	*o = (struct xlb_osev){ .loop = loop, .fd_occurred = fd_fn, .timeout_occurred = timeout_fn };
}

void xlb_osev_fini(struct xlb_osev *o)
{
	while (o->fds)
		fd_drop(o, o->fds);
	while (o->timeouts)
		timeout_drop(o, o->timeouts);
}
