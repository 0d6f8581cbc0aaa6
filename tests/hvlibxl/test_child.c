/* SPDX-License-Identifier: ISC */
/* Child processes of the libxl backend on the real loop: output capture
 * and its bound, the last stderr line, exit descriptions, reaping by pid
 * on SIGCHLD, and the clean signal state of children (doc/xen-facts.md §1.5). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
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

static void start_opts(struct run *r, char *const argv[], const struct xlb_child_opts *o)
{
	char err[256];
	memset(r, 0, sizeof(*r));
	r->loop = xd_loop_new();
	assert_non_null(r->loop);
	assert_int_equal(xd_loop_on_signal(r->loop, SIGCHLD, on_sigchld, r), 0);
	r->c = xlb_child_start(r->loop, argv, 1024, o, on_done, r, err, sizeof(err));
	assert_non_null(r->c);
	assert_true(xlb_child_pid(r->c) > 0);
}

/* The build helper's shape: an absolute path, its input on stdin, each
 * stderr line handed over as it comes. */
static void test_stdin_path_and_lines(void **state)
{
	(void)state;
	FILE *in = tmpfile();
	assert_non_null(in);
	fputs("{\"config\": 1}", in);
	fflush(in);
	rewind(in);
	struct run r;
	char *argv[] = { "helper", "-c", "cat; echo 'E one' >&2; echo 'W two' >&2", NULL };
	struct xlb_child_opts o = { .path = "/bin/sh", .stdin_fd = fileno(in) };
	start_opts(&r, argv, &o);
	assert_int_equal(xd_loop_run(r.loop), 0);
	assert_int_equal(r.done, 1);
	assert_string_equal(r.out, "{\"config\": 1}");
	assert_string_equal(r.err, "W two");
	xd_loop_free(r.loop);
	fclose(in);
}

static char lines_seen[256];
static void on_line_keep(const char *line, void *arg)
{
	(void)arg;
	size_t n = strlen(lines_seen);
	snprintf(lines_seen + n, sizeof(lines_seen) - n, "[%s]", line);
}

static void test_err_lines_each(void **state)
{
	(void)state;
	lines_seen[0] = '\0';
	struct run r;
	char *argv[] = { "sh", "-c", "echo 'E one' >&2; printf 'W tw' >&2; echo o >&2", NULL };
	struct xlb_child_opts o = { .err_line = on_line_keep };
	start_opts(&r, argv, &o);
	assert_int_equal(xd_loop_run(r.loop), 0);
	assert_string_equal(lines_seen, "[E one][W two]");
	xd_loop_free(r.loop);
}

/* A process of group pgid that is not a zombie (an orphan killed with
 * its group may wait a while for its reaper). */
static bool group_alive(pid_t pgid)
{
	DIR *d = opendir("/proc");
	struct dirent *de;
	bool alive = false;
	while (d && !alive && (de = readdir(d))) {
		char path[300], state;
		int pgrp;
		snprintf(path, sizeof(path), "/proc/%s/stat", de->d_name);
		FILE *f = fopen(path, "r");
		if (!f)
			continue;
		/* pid (comm) state ppid pgrp: comm is "sh" or "sleep" here */
		if (fscanf(f, "%*d (%*[^)]) %c %*d %d", &state, &pgrp) == 2)
			alive = pgrp == pgid && state != 'Z' && state != 'X';
		fclose(f);
	}
	if (d)
		closedir(d);
	return alive;
}

/* start_timeout: the helper is killed, as a group, and its end still
 * reported. */
static void test_kill_group(void **state)
{
	(void)state;
	struct run r;
	char *argv[] = { "sh", "-c", "sleep 30 & sleep 30; echo never", NULL };
	struct xlb_child_opts o = { .own_pgrp = true };
	start_opts(&r, argv, &o);
	pid_t pid = xlb_child_pid(r.c);
	usleep(100 * 1000);
	xlb_child_kill(r.c);
	assert_int_equal(xd_loop_run(r.loop), 0);
	assert_int_equal(r.done, 1);
	assert_string_equal(r.how, "killed by signal 9");
	assert_string_equal(r.out, "");
	/* the background sleep went with it: nothing alive in the group */
	assert_false(group_alive(pid));
	xd_loop_free(r.loop);
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
		cmocka_unit_test(test_stdin_path_and_lines),
		cmocka_unit_test(test_err_lines_each),
		cmocka_unit_test(test_kill_group),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
