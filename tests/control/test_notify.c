/* SPDX-License-Identifier: ISC */
/*
 * sd_notify messages (notify.h) read from a datagram socket posing as
 * $NOTIFY_SOCKET, on a virtual timer clock; and the SIGTERM decision of
 * hoststate.h with a fake SystemState source.  Built without libsystemd
 * the notifier must stay silent: the same tests check that instead.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "daemon/hoststate.h"
#include "daemon/notify.h"
#include "xd_build.h"

static char sock_path[108];
static int sock_fd = -1;
static struct xd_timers timers;

static int setup(void **state)
{
	(void)state;
	snprintf(sock_path, sizeof(sock_path), "/tmp/xd-notify-%d", (int)getpid());
	unlink(sock_path);
	sock_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(sock_fd >= 0);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	memcpy(sa.sun_path, sock_path, strlen(sock_path) + 1);
	assert_int_equal(bind(sock_fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	setenv("NOTIFY_SOCKET", sock_path, 1);
	unsetenv("WATCHDOG_USEC");
	unsetenv("WATCHDOG_PID");
	xd_timers_init(&timers, 0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	close(sock_fd);
	unlink(sock_path);
	xd_timers_free(&timers);
	return 0;
}

/* The next message, or "" when none is waiting. */
static const char *next_msg(void)
{
	static char buf[512];
	ssize_t n = recv(sock_fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);
	if (n < 0) {
		assert_true(errno == EAGAIN || errno == EWOULDBLOCK);
		n = 0;
	}
	buf[n] = '\0';
	return buf;
}

/* What a systemd build sends; a build without libsystemd sends nothing. */
static void expect(const char *msg)
{
	assert_string_equal(next_msg(), HAVE_SYSTEMD ? msg : "");
}

static void test_progress_text(void **state)
{
	(void)state;
	char buf[128];
	struct xd_progress p = { .total = 15, .running = 12, .failed = 1, .alive = 13 };
	xd_progress_format(XD_PHASE_UP, &p, buf, sizeof(buf));
	assert_string_equal(buf, "12/15 running, 1 failed");
	xd_progress_format(XD_PHASE_BOOTING, &p, buf, sizeof(buf));
	assert_string_equal(buf, "booting: 12/15 running, 1 failed");
	xd_progress_format(XD_PHASE_HALTING, &p, buf, sizeof(buf));
	assert_string_equal(buf, "shutting down: 13 still up");
	p.failed = 0;
	xd_progress_format(XD_PHASE_UP, &p, buf, sizeof(buf));
	assert_string_equal(buf, "12/15 running");
	xd_progress_format(XD_PHASE_DOWN, &(struct xd_progress){ 0 }, buf, sizeof(buf));
	assert_string_equal(buf, "host shutdown done: 0 still up");
}

static void test_boot_keepalive_status_ready(void **state)
{
	(void)state;
	struct xd_notifier *n = xd_notifier_new(&timers);
	assert_non_null(n);
	assert_int_equal(xd_notifier_active(n), HAVE_SYSTEMD);
	xd_notifier_phase(n, XD_PHASE_BOOTING, false);
	expect("EXTEND_TIMEOUT_USEC=30000000");
	struct xd_progress p = { .total = 3, .running = 1 };
	xd_notifier_progress(n, &p);
	expect("STATUS=booting: 1/3 running");
	xd_notifier_progress(n, &p);               /* unchanged: not repeated */
	assert_string_equal(next_msg(), "");
	/* The keep-alive repeats while the boot runs ... */
	xd_timers_run(&timers, XD_NOTIFY_KEEPALIVE_MS);
	expect("EXTEND_TIMEOUT_USEC=30000000");
	xd_timers_run(&timers, 2 * XD_NOTIFY_KEEPALIVE_MS);
	expect("EXTEND_TIMEOUT_USEC=30000000");
	/* ... and stops with it: an idle daemon has no timer. */
	xd_notifier_phase(n, XD_PHASE_UP, false);
	assert_int_equal(xd_timers_next(&timers), XD_NEVER);
	xd_notifier_reloading(n, false);           /* not ready yet: no RELOADING */
	assert_string_equal(next_msg(), "");
	xd_notifier_ready(n);
	expect("READY=1");
	xd_notifier_ready(n);
	assert_string_equal(next_msg(), "");
	p.running = 3;
	xd_notifier_progress(n, &p);
	expect("STATUS=3/3 running");
	xd_notifier_reloading(n, false);
	expect("RELOADING=1");
	xd_notifier_reloading(n, true);
	expect("READY=1");
	xd_notifier_free(n);
}

static void test_halting_sends_stopping_and_keepalive(void **state)
{
	(void)state;
	struct xd_notifier *n = xd_notifier_new(&timers);
	xd_notifier_phase(n, XD_PHASE_HALTING, true);
	expect("STOPPING=1");
	expect("EXTEND_TIMEOUT_USEC=30000000");
	xd_notifier_progress(n, &(struct xd_progress){ .total = 2, .alive = 2 });
	expect("STATUS=shutting down: 2 still up");
	xd_notifier_phase(n, XD_PHASE_DOWN, false);
	xd_notifier_progress(n, &(struct xd_progress){ .total = 2 });
	expect("STATUS=host shutdown done: 0 still up");
	assert_int_equal(xd_timers_next(&timers), XD_NEVER);
	/* shutdown-host on demand: the daemon stays, no STOPPING=1. */
	xd_notifier_phase(n, XD_PHASE_HALTING, false);
	expect("EXTEND_TIMEOUT_USEC=30000000");
	xd_notifier_free(n);
}

static void test_watchdog(void **state)
{
	(void)state;
	char pid[32];
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	setenv("WATCHDOG_PID", pid, 1);
	setenv("WATCHDOG_USEC", "4000000", 1);
	struct xd_notifier *n = xd_notifier_new(&timers);
	if (!HAVE_SYSTEMD) {
		assert_int_equal(xd_timers_next(&timers), XD_NEVER);
		xd_notifier_free(n);
		return;
	}
	assert_int_equal(xd_timers_next(&timers), 2000);   /* half the interval */
	xd_timers_run(&timers, 2000);
	expect("WATCHDOG=1");
	xd_timers_run(&timers, 4000);
	expect("WATCHDOG=1");
	xd_notifier_free(n);
	assert_int_equal(xd_timers_next(&timers), XD_NEVER);
}

static void test_no_manager_no_messages_no_timers(void **state)
{
	(void)state;
	unsetenv("NOTIFY_SOCKET");
	struct xd_notifier *n = xd_notifier_new(&timers);
	assert_false(xd_notifier_active(n));
	xd_notifier_phase(n, XD_PHASE_BOOTING, false);
	xd_notifier_ready(n);
	assert_int_equal(xd_timers_next(&timers), XD_NEVER);
	assert_string_equal(next_msg(), "");
	xd_notifier_free(n);
}

/* ------------------------------------------------------------------ */
/* hoststate                                                           */

struct fake_state {
	const char *answer;              /* NULL: the read fails */
	int calls;
};

static int read_fake(void *arg, char *buf, size_t len)
{
	struct fake_state *f = arg;
	f->calls++;
	snprintf(buf, len, "%s", f->answer ? f->answer : "connection refused");
	return f->answer ? 0 : -1;
}

static bool halting(bool systemd, struct fake_state *f, char *why, size_t len)
{
	struct xd_host_probe p = { .systemd = systemd, .read = read_fake, .arg = f };
	return xd_host_halting(&p, why, len);
}

static void test_sigterm_means_halt_only_when_stopping(void **state)
{
	(void)state;
	char why[256];
	struct fake_state f = { .answer = "stopping" };
	assert_true(halting(true, &f, why, sizeof(why)));
	assert_non_null(strstr(why, "\"stopping\""));
	static const char *const not_halting[] = { "running", "degraded", "starting",
						   "maintenance", "initializing" };
	for (size_t i = 0; i < sizeof(not_halting) / sizeof(not_halting[0]); i++) {
		f.answer = not_halting[i];
		assert_false(halting(true, &f, why, sizeof(why)));
		assert_non_null(strstr(why, not_halting[i]));
		assert_non_null(strstr(why, "guests are left running"));
	}
}

static void test_unknown_state_assumes_halt(void **state)
{
	(void)state;
	char why[256];
	struct fake_state f = { .answer = NULL };
	assert_true(halting(true, &f, why, sizeof(why)));
	assert_non_null(strstr(why, "unknown"));
	assert_non_null(strstr(why, "connection refused"));
}

static void test_without_systemd_sigterm_is_halt(void **state)
{
	(void)state;
	char why[256];
	struct fake_state f = { .answer = "running" };
	assert_true(halting(false, &f, why, sizeof(why)));
	assert_int_equal(f.calls, 0);               /* nothing to ask */
	assert_non_null(strstr(why, "rc script"));
}

static void test_default_probe(void **state)
{
	(void)state;
	struct xd_host_probe p;
	xd_host_probe_default(&p);
	assert_non_null(p.read);
	if (!HAVE_SYSTEMD) {
		char buf[128];
		assert_false(p.systemd);
		assert_int_equal(p.read(p.arg, buf, sizeof(buf)), -1);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_progress_text),
		cmocka_unit_test_setup_teardown(test_boot_keepalive_status_ready, setup, teardown),
		cmocka_unit_test_setup_teardown(test_halting_sends_stopping_and_keepalive, setup, teardown),
		cmocka_unit_test_setup_teardown(test_watchdog, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_manager_no_messages_no_timers, setup, teardown),
		cmocka_unit_test(test_sigterm_means_halt_only_when_stopping),
		cmocka_unit_test(test_unknown_state_assumes_halt),
		cmocka_unit_test(test_without_systemd_sigterm_is_halt),
		cmocka_unit_test(test_default_probe),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
