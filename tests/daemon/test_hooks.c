/* SPDX-License-Identifier: ISC */
/* Hooks: exec, environment, output to the log, timeouts, reaping by pid. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon/hooks.h"
#include "daemon/log.h"

struct done {
	uint64_t op;
	bool ok;
	char msg[128];
};

struct t {
	struct xd_loop *loop;
	struct xd_hooks *hooks;
	char dir[64];
	char log_path[128];
	int saved_stderr;
	struct done done[4];
	int n_done, want_done;
	struct xd_timer tick;
	int ticks;
};

static void on_done(void *arg, uint64_t op, bool ok, const char *msg)
{
	struct t *t = arg;
	assert_true(t->n_done < 4);
	struct done *d = &t->done[t->n_done++];
	d->op = op;
	d->ok = ok;
	snprintf(d->msg, sizeof(d->msg), "%s", msg);
	if (t->n_done == t->want_done)
		xd_loop_quit(t->loop, 0);
}

/* The log goes to stderr in the foreground: capture it in a file. */
static int setup(void **state)
{
	struct t *t = calloc(1, sizeof(*t));
	snprintf(t->dir, sizeof(t->dir), "/tmp/xd-hooks-XXXXXX");
	assert_non_null(mkdtemp(t->dir));
	snprintf(t->log_path, sizeof(t->log_path), "%s/log", t->dir);
	int fd = open(t->log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	fflush(stderr);
	t->saved_stderr = fcntl(2, F_DUPFD_CLOEXEC, 3);
	dup2(fd, 2);
	close(fd);
	t->loop = xd_loop_new();
	t->hooks = xd_hooks_new(t->loop, on_done, t);
	assert_non_null(t->hooks);
	xd_log_open(true, 1, xd_loop_clock());
	t->want_done = 1;
	alarm(20);
	*state = t;
	return 0;
}

static char *read_log(struct t *t)
{
	fflush(stderr);
	FILE *f = fopen(t->log_path, "re");
	assert_non_null(f);
	static char buf[1 << 20];
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

/* Shows the captured log (and any cmocka failure written to it). */
static int teardown(void **state)
{
	struct t *t = *state;
	alarm(0);
	xd_timer_disarm(xd_loop_timers(t->loop), &t->tick);
	xd_hooks_free(t->hooks);
	xd_loop_free(t->loop);
	char *log = read_log(t);
	dup2(t->saved_stderr, 2);
	close(t->saved_stderr);
	fputs(log, stderr);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", t->dir);
	assert_int_equal(system(cmd), 0);
	free(t);
	return 0;
}

static void script(struct t *t, const char *name, const char *body, char *path, size_t n)
{
	snprintf(path, n, "%s/%s", t->dir, name);
	FILE *f = fopen(path, "we");
	assert_non_null(f);
	fprintf(f, "#!/bin/sh\n%s\n", body);
	fclose(f);
	chmod(path, 0755);
}

static struct xd_hook_req request(const char *path, long domid, enum xd_cause cause, uint64_t op)
{
	return (struct xd_hook_req){ .path = path, .domain = "db", .domid = domid,
				     .cause = cause, .timeout_ms = 5000, .op = op };
}

static void run_until_done(struct t *t)
{
	assert_int_equal(xd_loop_run(t->loop), 0);
	assert_int_equal(xd_hooks_running(t->hooks), 0);
}

static void output_is_logged_with_the_domain_and_env_is_set(void **state)
{
	struct t *t = *state;
	char path[256];
	script(t, "pre", "echo \"domain=$XENDOMD_DOMAIN reason=$XENDOMD_REASON domid=${XENDOMD_DOMID-unset}\"\n"
	       "echo to stderr >&2\nprintf 'no newline at the end'", path, sizeof(path));
	/* a stale value in the daemon's environment must not leak in */
	setenv("XENDOMD_DOMID", "99", 1);
	struct xd_hook_req pre = request(path, -1, XD_CAUSE_BOOT, 11);
	assert_int_equal(xd_hooks_run(t->hooks, &pre), 0);
	run_until_done(t);
	struct xd_hook_req post = request(path, 5, XD_CAUSE_HOST_SHUTDOWN, 12);
	t->want_done = 2;
	assert_int_equal(xd_hooks_run(t->hooks, &post), 0);
	run_until_done(t);
	unsetenv("XENDOMD_DOMID");

	assert_int_equal(t->done[0].op, 11);
	assert_true(t->done[0].ok);
	assert_string_equal(t->done[0].msg, "exited with status 0");
	assert_int_equal(t->done[1].op, 12);
	assert_true(t->done[1].ok);
	char *log = read_log(t);
	assert_non_null(strstr(log, "] db: hook pre: domain=db reason=boot domid=unset\n"));
	assert_non_null(strstr(log, "] db: hook pre: to stderr\n"));
	assert_non_null(strstr(log, "] db: hook pre: no newline at the end\n"));
	assert_non_null(strstr(log, "] db(5): hook pre: domain=db reason=host-shutdown domid=5\n"));
}

static void exit_status_and_signal_fail_the_hook(void **state)
{
	struct t *t = *state;
	char p1[256], p2[256];
	script(t, "three", "exit 3", p1, sizeof(p1));
	script(t, "term", "kill -TERM $$", p2, sizeof(p2));
	struct xd_hook_req a = request(p1, -1, XD_CAUSE_RESTART, 1);
	struct xd_hook_req b = request(p2, -1, XD_CAUSE_ON_DEMAND, 2);
	t->want_done = 2;
	assert_int_equal(xd_hooks_run(t->hooks, &a), 0);
	assert_int_equal(xd_hooks_run(t->hooks, &b), 0);
	assert_int_equal(xd_hooks_running(t->hooks), 2);
	run_until_done(t);
	for (int i = 0; i < 2; i++) {
		struct done *d = &t->done[i];
		assert_false(d->ok);
		if (d->op == 1)
			assert_string_equal(d->msg, "exited with status 3");
		else
			assert_string_equal(d->msg, "killed by signal 15");
	}
	assert_int_not_equal(t->done[0].op, t->done[1].op);
}

static bool process_gone(pid_t pid)
{
	char path[64], buf[512];
	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	FILE *f = fopen(path, "re");
	if (!f)
		return true;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	char *p = strrchr(buf, ')');
	return p && (p[2] == 'Z' || p[2] == 'X');
}

/* The whole process group goes, not just the hook. */
static void timeout_kills_the_process_group(void **state)
{
	struct t *t = *state;
	char path[256], body[512];
	snprintf(body, sizeof(body), "sleep 30 &\necho $! > %s/bg\nsleep 30", t->dir);
	script(t, "slow", body, path, sizeof(path));
	struct xd_hook_req req = request(path, -1, XD_CAUSE_BOOT, 3);
	req.timeout_ms = 300;
	uint64_t t0 = xd_loop_clock();
	assert_int_equal(xd_hooks_run(t->hooks, &req), 0);
	run_until_done(t);
	uint64_t took = xd_loop_clock() - t0;
	assert_true(took >= 300 && took < 2000);
	assert_false(t->done[0].ok);
	assert_string_equal(t->done[0].msg, "timed out after 0.3 s");

	char bgpath[128];
	snprintf(bgpath, sizeof(bgpath), "%s/bg", t->dir);
	FILE *f = fopen(bgpath, "re");
	assert_non_null(f);
	long bg = 0;
	assert_int_equal(fscanf(f, "%ld", &bg), 1);
	fclose(f);
	for (int i = 0; i < 100 && !process_gone((pid_t)bg); i++)
		usleep(10 * 1000);
	assert_true(process_gone((pid_t)bg));
}

/* The daemon blocks and ignores signals; its hooks must not inherit that. */
static void hooks_get_a_clean_signal_state_and_null_stdin(void **state)
{
	struct t *t = *state;
	char path[256];
	script(t, "sig", "readlink /proc/$$/fd/0\nexec grep -E '^Sig(Blk|Ign)' /proc/self/status",
	       path, sizeof(path));
	sigset_t block, old;
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGUSR1);
	sigprocmask(SIG_BLOCK, &block, &old);
	struct sigaction ign = { .sa_handler = SIG_IGN }, old_int, old_pipe;
	sigaction(SIGINT, &ign, &old_int);
	sigaction(SIGPIPE, &ign, &old_pipe);
	struct xd_hook_req req = request(path, -1, XD_CAUSE_BOOT, 4);
	int rc = xd_hooks_run(t->hooks, &req);
	sigprocmask(SIG_SETMASK, &old, NULL);
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGPIPE, &old_pipe, NULL);
	assert_int_equal(rc, 0);
	run_until_done(t);
	assert_true(t->done[0].ok);
	char *log = read_log(t);
	assert_non_null(strstr(log, "db: hook sig: /dev/null\n"));
	assert_non_null(strstr(log, "db: hook sig: SigBlk:\t0000000000000000\n"));
	assert_non_null(strstr(log, "db: hook sig: SigIgn:\t0000000000000000\n"));
}

static void long_lines_are_cut_and_floods_are_bounded(void **state)
{
	struct t *t = *state;
	char path[256];
	script(t, "flood", "head -c 5000 /dev/zero | tr '\\0' a\necho\n"
	       "i=0; while [ $i -lt 500 ]; do echo line $i; i=$((i+1)); done", path, sizeof(path));
	struct xd_hook_req req = request(path, -1, XD_CAUSE_BOOT, 5);
	assert_int_equal(xd_hooks_run(t->hooks, &req), 0);
	run_until_done(t);
	assert_true(t->done[0].ok);
	char *log = read_log(t);
	char cut[XD_HOOK_LINE_MAX + 16];
	memset(cut, 'a', XD_HOOK_LINE_MAX);
	strcpy(cut + XD_HOOK_LINE_MAX, " [...]\n");
	assert_non_null(strstr(log, cut));
	/* the cut line is line 1, so echo lines 0..198 make the 200 */
	assert_non_null(strstr(log, "hook flood: line 198\n"));
	assert_null(strstr(log, "hook flood: line 199\n"));
	assert_non_null(strstr(log, "more than 200 lines of output"));
	/* the rest of the overlong line is not logged as a line of its own */
	assert_null(strstr(log, "hook flood: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n"));
}

static void tick(struct xd_timer *tm, void *arg)
{
	struct t *t = arg;
	t->ticks++;
	xd_timer_arm_in(xd_loop_timers(t->loop), tm, 20);
}

/* A hook writing as fast as it can does not starve timers. */
static void a_spewing_hook_does_not_starve_the_loop(void **state)
{
	struct t *t = *state;
	char path[256];
	script(t, "yes", "exec yes spam", path, sizeof(path));
	struct xd_hook_req req = request(path, -1, XD_CAUSE_BOOT, 6);
	req.timeout_ms = 600;
	xd_timer_init(&t->tick, tick, t);
	xd_timer_arm_in(xd_loop_timers(t->loop), &t->tick, 20);
	assert_int_equal(xd_hooks_run(t->hooks, &req), 0);
	run_until_done(t);
	assert_string_equal(t->done[0].msg, "timed out after 0.6 s");
	/* 30 ticks of 20 ms fit in 600 ms; allow for a loaded machine */
	assert_true(t->ticks >= 15);
}

static void a_missing_executable_is_refused_at_once(void **state)
{
	struct t *t = *state;
	char path[256];
	snprintf(path, sizeof(path), "%s/nonexistent", t->dir);
	struct xd_hook_req req = request(path, -1, XD_CAUSE_BOOT, 7);
	assert_int_equal(xd_hooks_run(t->hooks, &req), -1);
	assert_int_equal(xd_hooks_running(t->hooks), 0);
	assert_non_null(strstr(read_log(t), "db: error: hook "));
	assert_non_null(strstr(read_log(t), "nonexistent: cannot run: No such file or directory"));
}

/* Children that are not hooks (libxl's, later) are left for their owner. */
static void other_children_are_not_reaped(void **state)
{
	struct t *t = *state;
	pid_t other = fork();
	assert_true(other >= 0);
	if (other == 0) {
		usleep(50 * 1000);
		_exit(42);
	}
	char path[256];
	script(t, "nap", "sleep 0.3", path, sizeof(path));
	struct xd_hook_req req = request(path, -1, XD_CAUSE_BOOT, 8);
	assert_int_equal(xd_hooks_run(t->hooks, &req), 0);
	run_until_done(t);
	assert_true(t->done[0].ok);
	int status;
	assert_int_equal(waitpid(other, &status, 0), other);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 42);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(output_is_logged_with_the_domain_and_env_is_set, setup, teardown),
		cmocka_unit_test_setup_teardown(exit_status_and_signal_fail_the_hook, setup, teardown),
		cmocka_unit_test_setup_teardown(timeout_kills_the_process_group, setup, teardown),
		cmocka_unit_test_setup_teardown(hooks_get_a_clean_signal_state_and_null_stdin, setup, teardown),
		cmocka_unit_test_setup_teardown(long_lines_are_cut_and_floods_are_bounded, setup, teardown),
		cmocka_unit_test_setup_teardown(a_spewing_hook_does_not_starve_the_loop, setup, teardown),
		cmocka_unit_test_setup_teardown(a_missing_executable_is_refused_at_once, setup, teardown),
		cmocka_unit_test_setup_teardown(other_children_are_not_reaped, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
