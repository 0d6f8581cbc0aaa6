/* SPDX-License-Identifier: ISC */
/* The poll loop: timers, fds by handle, signals, after hooks, idleness. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <sys/socket.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "evloop/loop.h"

struct counters {
	struct xd_loop *loop;
	int after, a, b, c, timer;
	short rev_a, rev_b;
	struct xd_io *io_b;
	struct xd_timer t;
	uint64_t t_armed_at, t_fired_at;
	int order[8];
	int n_order;
};

static void count_after(void *arg)
{
	((struct counters *)arg)->after++;
}

static void quit_timer(struct xd_timer *t, void *arg)
{
	(void)t;
	struct counters *c = arg;
	c->timer++;
	c->t_fired_at = xd_loop_clock();
	xd_loop_quit(c->loop, 7);
}

static int setup(void **state)
{
	struct counters *c = calloc(1, sizeof(*c));
	c->loop = xd_loop_new();
	assert_non_null(c->loop);
	*state = c;
	alarm(10);               /* a hung loop fails the test */
	return 0;
}

static int teardown(void **state)
{
	struct counters *c = *state;
	alarm(0);
	xd_timer_disarm(xd_loop_timers(c->loop), &c->t);
	xd_loop_free(c->loop);
	free(c);
	return 0;
}

static void timer_fires_on_time_and_quit_returns_code(void **state)
{
	struct counters *c = *state;
	xd_timer_init(&c->t, quit_timer, c);
	xd_timer_arm_in(xd_loop_timers(c->loop), &c->t, 150);
	c->t_armed_at = xd_timers_now(xd_loop_timers(c->loop));
	assert_int_equal(xd_loop_run(c->loop), 7);
	assert_int_equal(c->timer, 1);
	assert_true(c->t_fired_at - c->t_armed_at >= 150);
	assert_true(c->t_fired_at - c->t_armed_at < 400);
}

static void slow_quit_timer(struct xd_timer *t, void *arg)
{
	(void)t;
	struct counters *c = arg;
	usleep(30 * 1000);           /* a call that blocks the loop for 30 ms */
	xd_loop_quit(c->loop, 0);
}

static void loop_stats_measure_the_longest_turn(void **state)
{
	struct counters *c = *state;
	struct xd_loop_stats st;
	xd_loop_get_stats(c->loop, &st);
	assert_int_equal(st.turns, 0);
	xd_timer_init(&c->t, slow_quit_timer, c);
	c->t_armed_at = xd_loop_clock();
	xd_timer_arm_in(xd_loop_timers(c->loop), &c->t, 20);
	assert_int_equal(xd_loop_run(c->loop), 0);
	xd_loop_get_stats(c->loop, &st);
	assert_true(st.turns >= 1);
	assert_true(st.busy_max_us >= 30000);
	assert_true(st.over_10ms >= 1);
	assert_true(st.over_100ms <= st.over_10ms);
	assert_int_equal(st.worst_us[0], st.busy_max_us);
	for (size_t i = 1; i < XD_LOOP_WORST; i++)
		assert_true(st.worst_us[i] <= st.worst_us[i - 1]);
	assert_true(st.worst_at_ms[0] >= c->t_armed_at);
}

static void *write_later(void *arg)
{
	usleep(250 * 1000);
	int fd = *(int *)arg;
	if (write(fd, "x", 1) != 1)
		abort();
	return NULL;
}

static void quit_on_read(struct xd_io *io, int fd, short revents, void *arg)
{
	(void)io, (void)revents;
	struct counters *c = arg;
	char b;
	assert_int_equal(read(fd, &b, 1), 1);
	c->a++;
	xd_loop_quit(c->loop, 0);
}

/* With no timer armed the loop must sleep in poll() until something
 * happens: exactly one pass before the sleep and one after the wake-up. */
static void idle_loop_does_not_wake_up(void **state)
{
	struct counters *c = *state;
	int p[2];
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	assert_non_null(xd_loop_add_io(c->loop, p[0], POLLIN, quit_on_read, c));
	assert_int_equal(xd_loop_on_after(c->loop, count_after, c), 0);
	pthread_t th;
	pthread_create(&th, NULL, write_later, &p[1]);
	uint64_t t0 = xd_loop_clock();
	assert_int_equal(xd_loop_run(c->loop), 0);
	pthread_join(th, NULL);
	assert_true(xd_loop_clock() - t0 >= 250);
	assert_int_equal(c->a, 1);
	assert_int_equal(c->after, 2);
	close(p[0]);
	close(p[1]);
}

/* Work queued by an after hook (a timer due now) is done before the loop
 * sleeps, although nothing else would ever wake it. */
static void arm_now_once(void *arg)
{
	struct counters *c = arg;
	if (c->after++ == 0)
		xd_timer_arm_in(xd_loop_timers(c->loop), &c->t, 0);
}

static void after_hook_work_runs_before_sleeping(void **state)
{
	struct counters *c = *state;
	xd_timer_init(&c->t, quit_timer, c);
	assert_int_equal(xd_loop_on_after(c->loop, arm_now_once, c), 0);
	uint64_t t0 = xd_loop_clock();
	assert_int_equal(xd_loop_run(c->loop), 7);
	assert_int_equal(c->timer, 1);
	assert_true(xd_loop_clock() - t0 < 100);
}

static void on_a(struct xd_io *io, int fd, short revents, void *arg)
{
	(void)io, (void)fd;
	struct counters *c = arg;
	c->a++;
	c->rev_a = revents;
}

static void on_b(struct xd_io *io, int fd, short revents, void *arg)
{
	(void)io, (void)fd;
	struct counters *c = arg;
	c->b++;
	c->rev_b = revents;
}

static void on_disabled(struct xd_io *io, int fd, short revents, void *arg)
{
	(void)io, (void)fd, (void)revents;
	((struct counters *)arg)->c++;
}

/* One fd, registered for reading and for writing separately, plus a
 * disabled (events 0) registration that must never fire. */
static void same_fd_registered_twice(void **state)
{
	struct counters *c = *state;
	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	assert_int_equal(write(sv[1], "x", 1), 1);
	assert_non_null(xd_loop_add_io(c->loop, sv[0], POLLIN, on_a, c));
	assert_non_null(xd_loop_add_io(c->loop, sv[0], POLLOUT, on_b, c));
	assert_non_null(xd_loop_add_io(c->loop, sv[0], 0, on_disabled, c));
	struct xd_timer t;
	xd_timer_init(&t, quit_timer, c);
	xd_timer_arm_in(xd_loop_timers(c->loop), &t, 50);
	assert_int_equal(xd_loop_run(c->loop), 7);
	assert_true(c->a >= 1);
	assert_true(c->b >= 1);
	assert_int_equal(c->rev_a, POLLIN);
	assert_int_equal(c->rev_b, POLLOUT);
	assert_int_equal(c->c, 0);
	close(sv[0]);
	close(sv[1]);
}

static void on_a_removes_b_adds_c(struct xd_io *io, int fd, short revents, void *arg)
{
	(void)io, (void)revents;
	struct counters *c = arg;
	c->a++;
	if (c->a == 1) {
		xd_loop_del_io(c->loop, c->io_b);
		assert_non_null(xd_loop_add_io(c->loop, fd, POLLIN, on_disabled, c));
	} else {
		xd_loop_quit(c->loop, 0);
	}
}

/* A registration removed by an earlier callback of the same wake-up is
 * not called; one added is polled from the next iteration on. */
static void registrations_change_inside_callbacks(void **state)
{
	struct counters *c = *state;
	int p[2];
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	assert_int_equal(write(p[1], "x", 1), 1);
	assert_non_null(xd_loop_add_io(c->loop, p[0], POLLIN, on_a_removes_b_adds_c, c));
	c->io_b = xd_loop_add_io(c->loop, p[0], POLLIN, on_b, c);
	assert_non_null(c->io_b);
	assert_int_equal(xd_loop_run(c->loop), 0);
	assert_int_equal(c->a, 2);
	assert_int_equal(c->b, 0);
	assert_int_equal(c->c, 1);
	close(p[0]);
	close(p[1]);
}

static void disabled_then_enabled(struct xd_io *io, int fd, short revents, void *arg)
{
	(void)io, (void)fd, (void)revents;
	struct counters *c = arg;
	c->a++;
	xd_loop_quit(c->loop, 0);
}

static void enable_io(struct xd_timer *t, void *arg)
{
	(void)t;
	struct counters *c = arg;
	c->timer++;
	xd_loop_mod_io(c->loop, c->io_b, POLLIN);
}

static void mod_io_enables_a_disabled_registration(void **state)
{
	struct counters *c = *state;
	int p[2];
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	assert_int_equal(write(p[1], "x", 1), 1);
	c->io_b = xd_loop_add_io(c->loop, p[0], 0, disabled_then_enabled, c);
	xd_timer_init(&c->t, enable_io, c);
	xd_timer_arm_in(xd_loop_timers(c->loop), &c->t, 100);
	uint64_t t0 = xd_timers_now(xd_loop_timers(c->loop));
	assert_int_equal(xd_loop_run(c->loop), 0);
	assert_true(xd_loop_clock() - t0 >= 100);
	assert_int_equal(c->timer, 1);
	assert_int_equal(c->a, 1);
	close(p[0]);
	close(p[1]);
}

static void record_first(int signo, void *arg)
{
	struct counters *c = arg;
	c->order[c->n_order++] = signo == SIGUSR1 ? 1 : 3;
}

static void record_second(int signo, void *arg)
{
	struct counters *c = arg;
	(void)signo;
	c->order[c->n_order++] = 2;
	xd_loop_quit(c->loop, 0);
}

static void raise_signals(struct xd_timer *t, void *arg)
{
	(void)t, (void)arg;
	/* Far more than the self-pipe holds: none may be lost. */
	for (int i = 0; i < 100000; i++)
		raise(SIGUSR2);
	raise(SIGUSR1);
}

/* Handlers run in the loop, in registration order, once per wake-up
 * however many times the signal came; a full self-pipe loses nothing. */
static void signals_are_delivered_in_the_loop(void **state)
{
	struct counters *c = *state;
	assert_int_equal(xd_loop_on_signal(c->loop, SIGUSR2, record_first, c), 0);
	assert_int_equal(xd_loop_on_signal(c->loop, SIGUSR1, record_first, c), 0);
	assert_int_equal(xd_loop_on_signal(c->loop, SIGUSR1, record_second, c), 0);
	xd_timer_init(&c->t, raise_signals, c);
	xd_timer_arm_in(xd_loop_timers(c->loop), &c->t, 10);
	assert_int_equal(xd_loop_run(c->loop), 0);
	/* SIGUSR2 (registered first) once, then SIGUSR1's two handlers */
	assert_int_equal(c->n_order, 3);
	assert_int_equal(c->order[0], 3);
	assert_int_equal(c->order[1], 1);
	assert_int_equal(c->order[2], 2);
}

static void arm_from_io(struct xd_io *io, int fd, short revents, void *arg)
{
	(void)io, (void)revents;
	struct counters *c = arg;
	char b;
	assert_int_equal(read(fd, &b, 1), 1);
	c->t_armed_at = xd_loop_clock();
	xd_timer_arm_in(xd_loop_timers(c->loop), &c->t, 200);
}

/* After a long sleep, a timer armed relative to "now" from an fd callback
 * must count from the wake-up, not from before the sleep. */
static void timers_armed_after_a_sleep_use_the_current_time(void **state)
{
	struct counters *c = *state;
	int p[2];
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	assert_non_null(xd_loop_add_io(c->loop, p[0], POLLIN, arm_from_io, c));
	xd_timer_init(&c->t, quit_timer, c);
	pthread_t th;
	pthread_create(&th, NULL, write_later, &p[1]);
	assert_int_equal(xd_loop_run(c->loop), 7);
	pthread_join(th, NULL);
	assert_true(c->t_fired_at - c->t_armed_at >= 200);
	close(p[0]);
	close(p[1]);
}

/* A timer armed before the loop ever ran, long after the loop was made,
 * counts from the arming (the hooks' timeouts are armed like this). */
static void timers_armed_before_the_first_run_count_from_the_arming(void **state)
{
	struct counters *c = *state;
	usleep(300 * 1000);
	xd_timer_init(&c->t, quit_timer, c);
	c->t_armed_at = xd_loop_clock();
	xd_timer_arm_in(xd_loop_timers(c->loop), &c->t, 200);
	assert_int_equal(xd_loop_run(c->loop), 7);
	assert_true(c->t_fired_at - c->t_armed_at >= 200);
}

static void slow_then_arm(struct xd_timer *t, void *arg)
{
	(void)t;
	struct counters *c = arg;
	usleep(300 * 1000);               /* a callback that takes its time */
	xd_timer_init(&c->t, quit_timer, c);
	c->t_armed_at = xd_loop_clock();
	xd_timer_arm_in(xd_loop_timers(c->loop), &c->t, 200);
}

/* A timer armed by a slow callback counts from the arming, not from the
 * wake-up before the callback ran. */
static void timers_armed_by_a_slow_callback_count_from_the_arming(void **state)
{
	struct counters *c = *state;
	struct xd_timer first;
	xd_timer_init(&first, slow_then_arm, c);
	xd_timer_arm_in(xd_loop_timers(c->loop), &first, 0);
	assert_int_equal(xd_loop_run(c->loop), 7);
	assert_true(c->t_fired_at - c->t_armed_at >= 200);
}

static void ready_through_the_interface(struct xd_io *io, int fd, short revents, void *arg)
{
	struct counters *c = arg;
	assert_int_equal(revents, POLLIN);
	c->a++;
	struct xd_loop_if lif = xd_loop_interface(c->loop);
	lif.ops->del_io(lif.impl, io);
	char b;
	assert_int_equal(read(fd, &b, 1), 1);
	xd_timer_arm_in(lif.ops->timers(lif.impl), &c->t, 0);
}

/* The loop behind its interface (what libxl's osevent hooks use): the
 * same registrations, timers and clock as the loop itself. */
static void the_interface_drives_this_loop(void **state)
{
	struct counters *c = *state;
	struct xd_loop_if lif = xd_loop_interface(c->loop);
	assert_ptr_equal(lif.impl, c->loop);
	assert_ptr_equal(lif.ops->timers(lif.impl), xd_loop_timers(c->loop));
	uint64_t before = xd_loop_clock();
	uint64_t now = lif.ops->clock(lif.impl);
	assert_true(now >= before && now <= xd_loop_clock());
	int p[2];
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	struct xd_io *io = lif.ops->add_io(lif.impl, p[0], 0, ready_through_the_interface, c);
	assert_non_null(io);
	lif.ops->mod_io(lif.impl, io, POLLIN);
	assert_int_equal(write(p[1], "xx", 2), 2);
	xd_timer_init(&c->t, quit_timer, c);
	assert_int_equal(xd_loop_run(c->loop), 7);
	assert_int_equal(c->a, 1);        /* deleted after the first byte */
	close(p[0]);
	close(p[1]);
}

/* fds open now, as a bitmap over 0..1023 */
static void open_fds(unsigned char open[1024])
{
	memset(open, 0, 1024);
	DIR *d = opendir("/proc/self/fd");
	assert_non_null(d);
	struct dirent *e;
	while ((e = readdir(d))) {
		int fd = atoi(e->d_name);
		if (e->d_name[0] != '.' && fd != dirfd(d) && fd < 1024)
			open[fd] = 1;
	}
	closedir(d);
}

static void fds_are_cloexec_and_nonblocking(void **state)
{
	(void)state;
	unsigned char before[1024], after[1024];
	open_fds(before);
	struct xd_loop *l = xd_loop_new();
	assert_non_null(l);
	open_fds(after);
	int n = 0;
	for (int fd = 0; fd < 1024; fd++) {
		if (!after[fd] || before[fd])
			continue;
		assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
		assert_true(fcntl(fd, F_GETFL) & O_NONBLOCK);
		n++;
	}
	xd_loop_free(l);
	assert_int_equal(n, 2);
}

/* Only one loop per process: the signal handler has no argument. */
/* Many timers due at once fire in batches with the after hooks between
 * them, so what they queue is drained batch by batch. */
#define MANY 2000
struct batch {
	struct counters *c;
	struct xd_timer t[MANY];
	int fired, most_between_afters, since_after;
};

static void batch_timer(struct xd_timer *t, void *arg)
{
	(void)t;
	struct batch *b = arg;
	b->fired++;
	if (++b->since_after > b->most_between_afters)
		b->most_between_afters = b->since_after;
	if (b->fired == MANY)
		xd_loop_quit(b->c->loop, 3);
}

static void batch_after(void *arg)
{
	((struct batch *)arg)->since_after = 0;
}

static void due_timers_fire_in_batches_between_after_hooks(void **state)
{
	struct batch *b = calloc(1, sizeof(*b));
	b->c = *state;
	struct xd_timers *q = xd_loop_timers(b->c->loop);
	uint64_t now = xd_loop_clock();
	for (int i = 0; i < MANY; i++) {
		xd_timer_init(&b->t[i], batch_timer, b);
		xd_timer_arm(q, &b->t[i], now);
	}
	assert_int_equal(xd_loop_on_after(b->c->loop, batch_after, b), 0);
	assert_int_equal(xd_loop_run(b->c->loop), 3);
	assert_int_equal(b->fired, MANY);
	assert_true(b->most_between_afters <= 2 * 256);
	free(b);
}

static void a_second_loop_is_refused(void **state)
{
	(void)state;
	struct xd_loop *l = xd_loop_new();
	assert_non_null(l);
	assert_null(xd_loop_new());
	xd_loop_free(l);
	l = xd_loop_new();
	assert_non_null(l);
	xd_loop_free(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(timer_fires_on_time_and_quit_returns_code, setup, teardown),
		cmocka_unit_test_setup_teardown(loop_stats_measure_the_longest_turn, setup, teardown),
		cmocka_unit_test_setup_teardown(idle_loop_does_not_wake_up, setup, teardown),
		cmocka_unit_test_setup_teardown(after_hook_work_runs_before_sleeping, setup, teardown),
		cmocka_unit_test_setup_teardown(due_timers_fire_in_batches_between_after_hooks, setup, teardown),
		cmocka_unit_test_setup_teardown(same_fd_registered_twice, setup, teardown),
		cmocka_unit_test_setup_teardown(registrations_change_inside_callbacks, setup, teardown),
		cmocka_unit_test_setup_teardown(mod_io_enables_a_disabled_registration, setup, teardown),
		cmocka_unit_test_setup_teardown(signals_are_delivered_in_the_loop, setup, teardown),
		cmocka_unit_test_setup_teardown(timers_armed_after_a_sleep_use_the_current_time, setup, teardown),
		cmocka_unit_test_setup_teardown(timers_armed_before_the_first_run_count_from_the_arming,
						setup, teardown),
		cmocka_unit_test_setup_teardown(timers_armed_by_a_slow_callback_count_from_the_arming,
						setup, teardown),
		cmocka_unit_test_setup_teardown(the_interface_drives_this_loop, setup, teardown),
		cmocka_unit_test(fds_are_cloexec_and_nonblocking),
		cmocka_unit_test(a_second_loop_is_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
