/* SPDX-License-Identifier: ISC */
/* libxl's osevent hooks on the loop: duplicate fds, events 0, absolute
 * realtime timeouts, "fire now" modification, re-registration from inside
 * a fired timeout, teardown.  The loop is a fake behind evloop's public
 * interface (struct xd_loop_ops) with a virtual clock; the timer queue is
 * the real one. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hv/libxl/libxl_osevent.h"

/* ---- fake loop, behind evloop's public interface (struct xd_loop_ops) */

struct fake_io {
	int fd;
	short events;
	bool dead;
	xd_io_fn *fn;
	void *arg;
};

#define MAX_IO 16
static struct fake_io ios[MAX_IO];
static int n_io;
static struct xd_timers timers;
static uint64_t mono_now;

/* struct xd_io is an opaque handle: ours are fake_io records. */
static struct xd_io *handle(struct fake_io *f) { return (struct xd_io *)(void *)f; }
static struct fake_io *fake(struct xd_io *io) { return (struct fake_io *)(void *)io; }

static struct xd_io *fake_add_io(void *impl, int fd, short events, xd_io_fn *fn, void *arg)
{
	(void)impl;
	assert_true(n_io < MAX_IO);
	ios[n_io] = (struct fake_io){ .fd = fd, .events = events, .fn = fn, .arg = arg };
	return handle(&ios[n_io++]);
}

static void fake_mod_io(void *impl, struct xd_io *io, short events)
{
	(void)impl;
	assert_false(fake(io)->dead);
	fake(io)->events = events;
}

static void fake_del_io(void *impl, struct xd_io *io)
{
	(void)impl;
	assert_false(fake(io)->dead);
	fake(io)->dead = true;
}

static struct xd_timers *fake_timers(void *impl)
{
	(void)impl;
	return &timers;
}

static uint64_t fake_clock(void *impl)
{
	(void)impl;
	return mono_now;
}

static const struct xd_loop_ops fake_ops = {
	.add_io = fake_add_io, .mod_io = fake_mod_io, .del_io = fake_del_io,
	.timers = fake_timers, .clock = fake_clock,
};

/* What poll() would report for fd: every live registration whose events
 * match gets its callback. */
static void fake_ready(int fd, short revents)
{
	for (int i = 0; i < n_io; i++)
		if (!ios[i].dead && ios[i].fd == fd && (ios[i].events & revents))
			ios[i].fn(handle(&ios[i]), fd, ios[i].events & revents, ios[i].arg);
}

/* ---- fake libxl side */

struct seen {
	void *for_libxl;
	int fd;
	short events, revents;
};
static struct seen fd_seen[8];
static int n_fd_seen;
static void *to_seen[8];
static int n_to_seen;
static struct xlb_osev osev;
static void *reregister_from;        /* when this timeout fires, register another */
static void *reregistered_handle;
/* When an fd is delivered, cancel this timeout as libxl does when the
 * answer it waited for has come (time_deregister in
 * tools/libs/light/libxl_event.c): timeout_modify to {0,0} on the
 * registration it was given, from inside libxl_osevent_occurred_fd. */
static void **cancel_on_fd;
static void **deregister_on_fd;      /* the same with timeout_deregister */

static int order[16], n_order;      /* 'f' fd, 't' timeout, in call order */

static void on_fd(void *ctx, void *for_libxl, int fd, short events, short revents)
{
	(void)ctx;
	fd_seen[n_fd_seen++] = (struct seen){ for_libxl, fd, events, revents };
	order[n_order++] = 'f';
	if (cancel_on_fd) {
		void **h = cancel_on_fd;
		struct timeval asap = { 0, 0 };
		cancel_on_fd = NULL;
		assert_int_equal(xlb_osev_hooks.timeout_modify(&osev, h, asap), 0);
	}
	if (deregister_on_fd) {
		void **h = deregister_on_fd;
		deregister_on_fd = NULL;
		xlb_osev_hooks.timeout_deregister(&osev, *h);
	}
}

static void on_timeout(void *ctx, void *for_libxl)
{
	(void)ctx;
	to_seen[n_to_seen++] = for_libxl;
	order[n_order++] = 't';
	if (for_libxl == reregister_from) {
		struct timeval abs = { .tv_sec = 0, .tv_usec = 0 };
		assert_int_equal(xlb_osev_hooks.timeout_register(&osev, &reregistered_handle, abs,
								  (void *)"again"), 0);
	}
}

static int setup(void **state)
{
	(void)state;
	n_io = n_fd_seen = n_to_seen = n_order = 0;
	mono_now = 1000;
	xd_timers_init(&timers, mono_now);
	xlb_osev_init(&osev, (struct xd_loop_if){ .ops = &fake_ops }, on_fd, on_timeout);
	reregister_from = NULL;
	cancel_on_fd = deregister_on_fd = NULL;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	xlb_osev_fini(&osev);
	xd_timers_free(&timers);
	return 0;
}

static void test_duplicate_fd(void **state)
{
	(void)state;
	void *a, *b;
	int tag_a, tag_b;
	assert_int_equal(xlb_osev_hooks.fd_register(&osev, 7, &a, POLLOUT, &tag_a), 0);
	assert_int_equal(xlb_osev_hooks.fd_register(&osev, 7, &b, POLLIN, &tag_b), 0);
	assert_ptr_not_equal(a, b);
	assert_int_equal(n_io, 2);

	fake_ready(7, POLLIN);
	assert_int_equal(n_fd_seen, 1);
	assert_ptr_equal(fd_seen[0].for_libxl, &tag_b);
	assert_int_equal(fd_seen[0].events, POLLIN);
	assert_int_equal(fd_seen[0].revents, POLLIN);

	fake_ready(7, POLLIN | POLLOUT);
	assert_int_equal(n_fd_seen, 3);

	/* Removing one registration leaves the other working. */
	xlb_osev_hooks.fd_deregister(&osev, 7, a);
	fake_ready(7, POLLIN | POLLOUT);
	assert_int_equal(n_fd_seen, 4);
	assert_ptr_equal(fd_seen[3].for_libxl, &tag_b);
}

static void test_modify_to_zero_disables(void **state)
{
	(void)state;
	void *a;
	int tag;
	assert_int_equal(xlb_osev_hooks.fd_register(&osev, 3, &a, 0, &tag), 0);
	fake_ready(3, POLLIN);
	assert_int_equal(n_fd_seen, 0);
	assert_int_equal(xlb_osev_hooks.fd_modify(&osev, 3, &a, POLLIN), 0);
	fake_ready(3, POLLIN);
	assert_int_equal(n_fd_seen, 1);
	assert_int_equal(fd_seen[0].events, POLLIN);
	assert_int_equal(xlb_osev_hooks.fd_modify(&osev, 3, &a, 0), 0);
	fake_ready(3, POLLIN);
	assert_int_equal(n_fd_seen, 1);
}

static void test_abs_to_mono(void **state)
{
	(void)state;
	struct timeval now = { .tv_sec = 1700000000, .tv_usec = 500000 };
	struct timeval past = { .tv_sec = 1699999999, .tv_usec = 0 };
	struct timeval zero = { 0, 0 };
	struct timeval plus_1_5ms = { .tv_sec = 1700000000, .tv_usec = 501500 };
	struct timeval plus_10s = { .tv_sec = 1700000010, .tv_usec = 500000 };
	struct timeval plus_999us = { .tv_sec = 1700000001, .tv_usec = 499 };
	assert_int_equal(xlb_osev_abs_to_mono(past, now, 42), 42);
	assert_int_equal(xlb_osev_abs_to_mono(zero, now, 42), 42);
	assert_int_equal(xlb_osev_abs_to_mono(now, now, 42), 42);
	assert_int_equal(xlb_osev_abs_to_mono(plus_1_5ms, now, 42), 44);   /* rounded up */
	assert_int_equal(xlb_osev_abs_to_mono(plus_10s, now, 42), 10042);
	assert_int_equal(xlb_osev_abs_to_mono(plus_999us, now, 0), 501);    /* 500.999 ms */
}

static void test_timeout_fires_at_converted_time(void **state)
{
	(void)state;
	void *h;
	struct timeval abs;
	gettimeofday(&abs, NULL);
	abs.tv_sec += 5;
	assert_int_equal(xlb_osev_hooks.timeout_register(&osev, &h, abs, (void *)"t"), 0);
	uint64_t due = xd_timers_next(&timers);
	/* 5 s from "now", allowing for the test's own run time */
	assert_true(due >= mono_now + 4900 && due <= mono_now + 5001);
	xd_timers_run(&timers, due - 1);
	assert_int_equal(n_to_seen, 0);
	xd_timers_run(&timers, due);
	assert_int_equal(n_to_seen, 1);
	assert_string_equal((char *)to_seen[0], "t");
	/* fired = deregistered: nothing left to free, nothing fires again */
	assert_null(osev.timeouts);
	xd_timers_run(&timers, due + 100000);
	assert_int_equal(n_to_seen, 1);
}

static void test_modify_means_fire_now(void **state)
{
	(void)state;
	void *h;
	struct timeval abs;
	gettimeofday(&abs, NULL);
	abs.tv_sec += 60;
	assert_int_equal(xlb_osev_hooks.timeout_register(&osev, &h, abs, (void *)"ack"), 0);
	struct timeval asap = { 0, 0 };
	assert_int_equal(xlb_osev_hooks.timeout_modify(&osev, &h, asap), 0);
	xd_timers_run(&timers, mono_now);
	assert_int_equal(n_to_seen, 1);
	assert_string_equal((char *)to_seen[0], "ack");
}

static void test_register_from_inside_fired_timeout(void **state)
{
	(void)state;
	void *h;
	struct timeval asap = { 0, 0 };
	reregister_from = (void *)"first";
	assert_int_equal(xlb_osev_hooks.timeout_register(&osev, &h, asap, reregister_from), 0);
	xd_timers_run(&timers, mono_now);
	/* The new one (also due now) fires in the same run. */
	assert_int_equal(n_to_seen, 2);
	assert_string_equal((char *)to_seen[1], "again");
	assert_null(osev.timeouts);
}

/* A timeout that is due while its answer already waits on an fd (the loop
 * was blocked meanwhile): the fd goes to libxl first, as libxl's own loop
 * would do it; fds with nothing to read, or disabled, are not delivered. */
static void test_ready_fds_before_a_due_timeout(void **state)
{
	(void)state;
	int ready[2], idle[2];
	assert_int_equal(pipe(ready), 0);
	assert_int_equal(pipe(idle), 0);
	assert_int_equal(write(ready[1], "x", 1), 1);
	void *fr, *fi, *fd0, *h;
	int tag_r, tag_i, tag_0;
	assert_int_equal(xlb_osev_hooks.fd_register(&osev, ready[0], &fr, POLLIN, &tag_r), 0);
	assert_int_equal(xlb_osev_hooks.fd_register(&osev, idle[0], &fi, POLLIN, &tag_i), 0);
	assert_int_equal(xlb_osev_hooks.fd_register(&osev, ready[0], &fd0, 0, &tag_0), 0);
	struct timeval asap = { 0, 0 };
	assert_int_equal(xlb_osev_hooks.timeout_register(&osev, &h, asap, (void *)"console"), 0);
	xd_timers_run(&timers, mono_now);
	assert_int_equal(n_order, 2);
	assert_int_equal(order[0], 'f');
	assert_int_equal(order[1], 't');
	assert_ptr_equal(fd_seen[0].for_libxl, &tag_r);
	assert_int_equal(fd_seen[0].revents, POLLIN);
	for (int i = 0; i < 2; i++) {
		close(ready[i]);
		close(idle[i]);
	}
}

/* The same, when the fd's answer makes the timeout moot: libxl cancels
 * the very timeout being delivered (timeout_modify on its registration)
 * from inside the fd's delivery.  The registration must still exist
 * then, and the timeout is still delivered exactly once (libxl frees
 * its side of it in that call).  A registration freed before the fds
 * went out left the cancel writing into freed memory and a dangling
 * timer in the queue (the daemon's "segfault at 0 ip 0" in the lab). */
static void test_due_timeout_cancelled_by_a_ready_fd(void **state)
{
	(void)state;
	int ready[2];
	assert_int_equal(pipe(ready), 0);
	assert_int_equal(write(ready[1], "x", 1), 1);
	void *fr, *h;
	int tag_r;
	assert_int_equal(xlb_osev_hooks.fd_register(&osev, ready[0], &fr, POLLIN, &tag_r), 0);
	struct timeval asap = { 0, 0 };
	assert_int_equal(xlb_osev_hooks.timeout_register(&osev, &h, asap, (void *)"console"), 0);
	cancel_on_fd = &h;
	xd_timers_run(&timers, mono_now);
	assert_null(cancel_on_fd);                   /* the fd went first and cancelled */
	assert_int_equal(n_order, 2);
	assert_int_equal(order[0], 'f');
	assert_int_equal(order[1], 't');
	assert_int_equal(n_to_seen, 1);
	assert_string_equal((char *)to_seen[0], "console");
	assert_null(osev.timeouts);
	assert_int_equal(timers.n, 0);
	xd_timers_run(&timers, mono_now + 100000);
	assert_int_equal(n_to_seen, 1);
	xlb_osev_hooks.fd_deregister(&osev, ready[0], fr);
	for (int i = 0; i < 2; i++)
		close(ready[i]);
}

/* libxl 4.17 never deregisters a timeout (libxl_event.h), but if it did
 * so from inside the fds' delivery the registration goes once, undelivered. */
static void test_due_timeout_deregistered_by_a_ready_fd(void **state)
{
	(void)state;
	int ready[2];
	assert_int_equal(pipe(ready), 0);
	assert_int_equal(write(ready[1], "x", 1), 1);
	void *fr, *h;
	int tag_r;
	assert_int_equal(xlb_osev_hooks.fd_register(&osev, ready[0], &fr, POLLIN, &tag_r), 0);
	struct timeval asap = { 0, 0 };
	assert_int_equal(xlb_osev_hooks.timeout_register(&osev, &h, asap, (void *)"gone"), 0);
	deregister_on_fd = &h;
	xd_timers_run(&timers, mono_now);
	assert_null(deregister_on_fd);
	assert_int_equal(n_order, 1);
	assert_int_equal(n_to_seen, 0);
	assert_null(osev.timeouts);
	assert_int_equal(timers.n, 0);
	xlb_osev_hooks.fd_deregister(&osev, ready[0], fr);
	for (int i = 0; i < 2; i++)
		close(ready[i]);
}

static void test_deregister_and_fini_free_everything(void **state)
{
	(void)state;
	void *h1, *h2, *f1;
	struct timeval abs;
	gettimeofday(&abs, NULL);
	abs.tv_sec += 100;
	assert_int_equal(xlb_osev_hooks.timeout_register(&osev, &h1, abs, NULL), 0);
	assert_int_equal(xlb_osev_hooks.timeout_register(&osev, &h2, abs, NULL), 0);
	assert_int_equal(xlb_osev_hooks.fd_register(&osev, 9, &f1, POLLIN, NULL), 0);
	xlb_osev_hooks.timeout_deregister(&osev, h1);
	assert_int_equal(timers.n, 1);
	xlb_osev_fini(&osev);       /* h2 and f1: ASan reports a leak otherwise */
	assert_int_equal(timers.n, 0);
	assert_true(ios[0].dead);
	assert_null(osev.fds);
	assert_null(osev.timeouts);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_duplicate_fd, setup, teardown),
		cmocka_unit_test_setup_teardown(test_modify_to_zero_disables, setup, teardown),
		cmocka_unit_test_setup_teardown(test_abs_to_mono, setup, teardown),
		cmocka_unit_test_setup_teardown(test_timeout_fires_at_converted_time, setup, teardown),
		cmocka_unit_test_setup_teardown(test_modify_means_fire_now, setup, teardown),
		cmocka_unit_test_setup_teardown(test_register_from_inside_fired_timeout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ready_fds_before_a_due_timeout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_due_timeout_cancelled_by_a_ready_fd, setup, teardown),
		cmocka_unit_test_setup_teardown(test_due_timeout_deregistered_by_a_ready_fd, setup, teardown),
		cmocka_unit_test_setup_teardown(test_deregister_and_fini_free_everything, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
