/* Child processes of the libxl backend on the real loop: output capture
 * and its bound, the last stderr line, exit descriptions, reaping by pid
 * on SIGCHLD, and the clean signal state of children (xen-notes §1.5). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hv/libxl/libxl_child.h"

struct run {
	struct xd_loop *loop;
	struct xlb_child *c;
	int done;
	char out[4096];
	bool truncated;
	char err[XLB_CHILD_ERR_MAX];
	char how[128];
};

static void on_done(struct xlb_child *c, void *arg)
{
	struct run *r = arg;
	size_t len;
	const char *out = xlb_child_output(c, &len, &r->truncated);
	snprintf(r->out, sizeof(r->out), "%s", out);
	snprintf(r->err, sizeof(r->err), "%s", xlb_child_last_err(c));
	xlb_child_describe(c, r->how, sizeof(r->how));
	r->done++;
	xlb_child_free(c);
	r->c = NULL;
	xd_loop_quit(r->loop, 0);
}

static void on_sigchld(int signo, void *arg)
{
	(void)signo;
	struct run *r = arg;
	if (r->c)
		xlb_child_sigchld(r->c);
}

static void run_child(struct run *r, char *const argv[], size_t out_max)
{
	char err[256];
	memset(r, 0, sizeof(*r));
	r->loop = xd_loop_new();
	assert_non_null(r->loop);
	assert_int_equal(xd_loop_on_signal(r->loop, SIGCHLD, on_sigchld, r), 0);
	r->c = xlb_child_spawn(r->loop, argv, out_max, on_done, r, err, sizeof(err));
	assert_non_null(r->c);
	assert_int_equal(xd_loop_run(r->loop), 0);
	assert_int_equal(r->done, 1);
	xd_loop_free(r->loop);
}

static void test_output_and_status(void **state)
{
	(void)state;
	struct run r;
	char *argv[] = { "sh", "-c", "printf '{\"c_info\": 1}'; echo first >&2; "
			 "printf 'last words' >&2; exit 3", NULL };
	run_child(&r, argv, 1024);
	assert_string_equal(r.out, "{\"c_info\": 1}");
	assert_false(r.truncated);
	assert_string_equal(r.err, "last words");
	assert_string_equal(r.how, "exited with status 3");
}

static void test_success_describes_as_empty(void **state)
{
	(void)state;
	struct run r;
	char *argv[] = { "true", NULL };
	run_child(&r, argv, 16);
	assert_string_equal(r.how, "");
	assert_string_equal(r.out, "");
}

static void test_output_is_bounded(void **state)
{
	(void)state;
	struct run r;
	char *argv[] = { "sh", "-c", "head -c 100000 /dev/zero | tr '\\0' x", NULL };
	run_child(&r, argv, 1000);
	assert_true(r.truncated);
	assert_int_equal(strlen(r.out), 1000);
}

static void test_killed(void **state)
{
	(void)state;
	struct run r;
	char *argv[] = { "sh", "-c", "kill -9 $$", NULL };
	run_child(&r, argv, 16);
	assert_string_equal(r.how, "killed by signal 9");
}

/* The daemon blocks and catches signals; its children must not inherit
 * that (libxl's hotplug scripts and helpers, xl). */
static void test_child_signal_state_is_clean(void **state)
{
	(void)state;
	sigset_t block, old;
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGUSR1);
	sigprocmask(SIG_BLOCK, &block, &old);
	signal(SIGUSR2, SIG_IGN);
	struct run r;
	char *argv[] = { "sh", "-c", "grep -E '^Sig(Blk|Ign)' /proc/self/status", NULL };
	run_child(&r, argv, 1024);
	sigprocmask(SIG_SETMASK, &old, NULL);
	signal(SIGUSR2, SIG_DFL);
	assert_non_null(strstr(r.out, "SigBlk:\t0000000000000000"));
	const char *ign = strstr(r.out, "SigIgn:\t");
	assert_non_null(ign);
	/* Started like every child of the daemon (evloop/child.h): nothing
	 * ignored, not even glibc's internal signals 32 and 33 that its
	 * posix_spawn would leave ignored. */
	unsigned long long mask = strtoull(ign + strlen("SigIgn:\t"), NULL, 16);
	assert_int_equal(mask, 0);
}

static void test_fork_clean(void **state)
{
	(void)state;
	sigset_t block, old;
	sigemptyset(&block);
	sigaddset(&block, SIGCHLD);
	sigprocmask(SIG_BLOCK, &block, &old);
	signal(SIGUSR1, SIG_IGN);
	pid_t pid = xlb_fork_clean(NULL);
	if (pid == 0) {
		sigset_t now;
		struct sigaction sa;
		sigprocmask(SIG_SETMASK, NULL, &now);
		sigaction(SIGUSR1, NULL, &sa);
		_exit(sigismember(&now, SIGCHLD) || sa.sa_handler != SIG_DFL ? 1 : 0);
	}
	assert_true(pid > 0);
	/* the parent's own mask is back as it was */
	sigset_t now;
	sigprocmask(SIG_SETMASK, NULL, &now);
	assert_true(sigismember(&now, SIGCHLD));
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	sigprocmask(SIG_SETMASK, &old, NULL);
	signal(SIGUSR1, SIG_DFL);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

static void test_missing_program(void **state)
{
	(void)state;
	struct xd_loop *loop = xd_loop_new();
	char err[256];
	char *argv[] = { "/nonexistent/xl", NULL };
	struct xlb_child *c = xlb_child_spawn(loop, argv, 16, on_done, NULL, err, sizeof(err));
	assert_null(c);
	assert_non_null(strstr(err, "/nonexistent/xl"));
	xd_loop_free(loop);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_output_and_status),
		cmocka_unit_test(test_success_describes_as_empty),
		cmocka_unit_test(test_output_is_bounded),
		cmocka_unit_test(test_killed),
		cmocka_unit_test(test_child_signal_state_is_clean),
		cmocka_unit_test(test_fork_clean),
		cmocka_unit_test(test_missing_program),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
