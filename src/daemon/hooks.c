/* SPDX-License-Identifier: ISC */
/* exec_start_pre / exec_stop_post hooks (hooks.h). */
#include "daemon/hooks.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon/log.h"
#include "evloop/child.h"

extern char **environ;

/* One read per wake-up and hook: a hook spewing output shares the loop
 * fairly with everything else. */
#define READ_CHUNK 4096
/* After the hook is reaped, what is left in the pipe is read up to this
 * much; a grandchild still writing to it is not followed further. */
#define DRAIN_MAX (64 * 1024)

struct hook {
	struct xd_hooks *owner;
	struct hook *next;
	uint64_t op;
	pid_t pid;
	char domain[XD_NAME_MAX];
	long domid;
	char name[64];                   /* the executable's basename, for the log */
	uint64_t timeout_ms;
	bool timed_out;
	struct xd_timer timer;

	int out;                         /* read end of the output pipe, -1 once closed */
	struct xd_io *io;
	char line[XD_HOOK_LINE_MAX + 1];
	size_t len;
	bool cutting;                    /* dropping the rest of an overlong line */
	unsigned lines;
};

struct xd_hooks {
	struct xd_loop *loop;
	xd_hook_done_fn *done;
	void *arg;
	struct hook *list;
};

/* ---- output ---- */

static void log_line(struct hook *k, const char *suffix)
{
	k->lines++;
	if (k->lines <= XD_HOOK_LINES_MAX)
		xd_log(XD_LOG_INFO, k->domain, k->domid, "hook %s: %s%s", k->name, k->line, suffix);
	if (k->lines == XD_HOOK_LINES_MAX)
		xd_log(XD_LOG_WARNING, k->domain, k->domid,
		       "hook %s: more than %d lines of output, dropping the rest",
		       k->name, XD_HOOK_LINES_MAX);
}

static void flush_line(struct hook *k, const char *suffix)
{
	k->line[k->len] = '\0';
	log_line(k, suffix);
	k->len = 0;
}

static void take_output(struct hook *k, const char *buf, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char c = buf[i];
		if (c == '\n') {
			if (!k->cutting)
				flush_line(k, "");
			k->cutting = false;
		} else if (!k->cutting) {
			k->line[k->len++] = c;
			if (k->len == XD_HOOK_LINE_MAX) {
				flush_line(k, " [...]");
				k->cutting = true;
			}
		}
	}
}

static void close_output(struct hook *k)
{
	if (k->out < 0)
		return;
	if (k->len)
		flush_line(k, "");
	xd_loop_del_io(k->owner->loop, k->io);
	close(k->out);
	k->out = -1;
	k->io = NULL;
}

/* One read per wake-up; at EOF or on an error the pipe is closed. */
static void on_output(struct xd_io *io, int fd, short revents, void *arg)
{
	(void)io, (void)revents;
	struct hook *k = arg;
	char buf[READ_CHUNK];
	ssize_t n = read(fd, buf, sizeof(buf));
	if (n > 0)
		take_output(k, buf, (size_t)n);
	else if (n == 0 || (errno != EAGAIN && errno != EINTR))
		close_output(k);
}

static void drain_output(struct hook *k)
{
	char buf[READ_CHUNK];
	for (size_t total = 0; k->out >= 0 && total < DRAIN_MAX; total += READ_CHUNK) {
		ssize_t n = read(k->out, buf, sizeof(buf));
		if (n <= 0)
			break;
		take_output(k, buf, (size_t)n);
	}
	close_output(k);
}

/* ---- ending ---- */

/* "30 s", "0.25 s" */
static void format_seconds(char *buf, size_t n, uint64_t ms)
{
	if (ms % 1000 == 0)
		snprintf(buf, n, "%llu s", (unsigned long long)(ms / 1000));
	else
		snprintf(buf, n, "%g s", (double)ms / 1000);
}

static bool describe_end(const struct hook *k, int status, char *msg, size_t n)
{
	if (k->timed_out) {
		char t[32];
		format_seconds(t, sizeof(t), k->timeout_ms);
		snprintf(msg, n, "timed out after %s", t);
		return false;
	}
	if (WIFEXITED(status)) {
		snprintf(msg, n, "exited with status %d", WEXITSTATUS(status));
		return WEXITSTATUS(status) == 0;
	}
	snprintf(msg, n, "killed by signal %d", WTERMSIG(status));
	return false;
}

static void unlink_hook(struct xd_hooks *h, struct hook *k)
{
	for (struct hook **p = &h->list; *p; p = &(*p)->next) {
		if (*p == k) {
			*p = k->next;
			return;
		}
	}
}

static void free_hook(struct hook *k)
{
	xd_timer_disarm(xd_loop_timers(k->owner->loop), &k->timer);
	close_output(k);
	free(k);
}

/* The hook is reaped: log its last output, then report it. */
static void finish(struct xd_hooks *h, struct hook *k, int status)
{
	char msg[96];
	drain_output(k);
	bool ok = describe_end(k, status, msg, sizeof(msg));
	/* debug only: the engine logs what a failure means for the domain */
	xd_log(XD_LOG_DEBUG, k->domain, k->domid, "hook %s (pid %ld) %s", k->name, (long)k->pid, msg);
	uint64_t op = k->op;
	unlink_hook(h, k);
	free_hook(k);
	h->done(h->arg, op, ok, msg);
}

/* SIGCHLD: reap ours, by pid.  The done callback may start new hooks, so
 * the walk restarts after each one. */
static void on_sigchld(int signo, void *arg)
{
	(void)signo;
	struct xd_hooks *h = arg;
	bool again = true;
	while (again) {
		again = false;
		for (struct hook *k = h->list; k; k = k->next) {
			int status;
			if (waitpid(k->pid, &status, WNOHANG) == k->pid) {
				finish(h, k, status);
				again = true;
				break;
			}
		}
	}
}

static void on_timeout(struct xd_timer *t, void *arg)
{
	(void)t;
	struct hook *k = arg;
	k->timed_out = true;
	kill(-k->pid, SIGKILL);
}

/* ---- starting ---- */

static bool ours(const char *entry)
{
	return strncmp(entry, "XENDOMD_", 8) == 0 || strncmp(entry, "NOTIFY_SOCKET=", 14) == 0;
}

/* The daemon's environment without our own variables (nor NOTIFY_SOCKET:
 * a hook must not speak to systemd for the daemon), plus vars.  The
 * strings are borrowed; free only the array. */
static char **hook_environment(char *const vars[], size_t n_vars)
{
	size_t n = 0;
	while (environ[n])
		n++;
	char **env = calloc(n + n_vars + 1, sizeof(*env));
	if (!env)
		return NULL;
	size_t j = 0;
	for (size_t i = 0; i < n; i++)
		if (!ours(environ[i]))
			env[j++] = environ[i];
	for (size_t i = 0; i < n_vars; i++)
		env[j++] = vars[i];
	return env;
}

/* Returns 0 or an errno value. */
static int spawn(const struct xd_hook_req *req, int w, pid_t *pid)
{
	char domain[XD_NAME_MAX + 16], reason[48], domid[48];
	snprintf(domain, sizeof(domain), "XENDOMD_DOMAIN=%s", req->domain);
	snprintf(reason, sizeof(reason), "XENDOMD_REASON=%s", xd_cause_name(req->cause));
	snprintf(domid, sizeof(domid), "XENDOMD_DOMID=%ld", req->domid);
	char *vars[] = { domain, reason, domid };
	char **env = hook_environment(vars, req->domid >= 0 ? 3 : 2);
	if (!env)
		return ENOMEM;
	char *argv[] = { (char *)req->path, NULL };
	struct xd_child_spec cs = { .path = req->path, .argv = argv, .envp = env,
				    .stdout_fd = w, .stderr_fd = w, .own_pgrp = true };
	int rc = xd_child_spawn(&cs, pid);
	free(env);
	return rc;
}

static struct hook *new_hook(struct xd_hooks *h, const struct xd_hook_req *req)
{
	struct hook *k = calloc(1, sizeof(*k));
	if (!k)
		return NULL;
	k->owner = h;
	k->op = req->op;
	k->domid = req->domid;
	k->timeout_ms = req->timeout_ms;
	k->out = -1;
	snprintf(k->domain, sizeof(k->domain), "%s", req->domain);
	const char *base = strrchr(req->path, '/');
	snprintf(k->name, sizeof(k->name), "%s", base ? base + 1 : req->path);
	xd_timer_init(&k->timer, on_timeout, k);
	return k;
}

/* Output pipe: the read end non-blocking for the loop, the write end
 * blocking (it becomes the hook's stdout), both close-on-exec here. */
static int open_pipe(int p[2])
{
	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	if (fcntl(p[0], F_SETFL, O_NONBLOCK) < 0) {
		close(p[0]);
		close(p[1]);
		return -1;
	}
	return 0;
}

int xd_hooks_run(struct xd_hooks *h, const struct xd_hook_req *req)
{
	struct hook *k = new_hook(h, req);
	int p[2];
	if (!k || open_pipe(p) < 0) {
		xd_log(XD_LOG_ERR, req->domain, req->domid, "hook %s: %s", req->path, strerror(errno));
		free(k);
		return -1;
	}
	k->out = p[0];
	int rc = spawn(req, p[1], &k->pid);
	close(p[1]);
	if (rc) {
		xd_log(XD_LOG_ERR, req->domain, req->domid, "hook %s: cannot run: %s",
		       req->path, strerror(rc));
		free_hook(k);
		return -1;
	}
	k->io = xd_loop_add_io(h->loop, k->out, POLLIN, on_output, k);
	if (!k->io)
		xd_log(XD_LOG_WARNING, k->domain, k->domid,
		       "hook %s: out of memory, its output is read only at its end", k->name);
	/* Arming fails only on ENOMEM.  A hook without a deadline could
	 * hang a start forever: kill it now (it is reported as timed out). */
	if (xd_timer_arm_in(xd_loop_timers(h->loop), &k->timer, req->timeout_ms) < 0)
		on_timeout(&k->timer, k);
	k->next = h->list;
	h->list = k;
	xd_log(XD_LOG_DEBUG, k->domain, k->domid, "hook %s (pid %ld) started, reason %s",
	       k->name, (long)k->pid, xd_cause_name(req->cause));
	return 0;
}

size_t xd_hooks_running(const struct xd_hooks *h)
{
	size_t n = 0;
	for (const struct hook *k = h->list; k; k = k->next)
		n++;
	return n;
}

struct xd_hooks *xd_hooks_new(struct xd_loop *l, xd_hook_done_fn *done, void *arg)
{
	struct xd_hooks *h = calloc(1, sizeof(*h));
	if (!h)
		return NULL;
	*h = (struct xd_hooks){ .loop = l, .done = done, .arg = arg };
	if (xd_loop_on_signal(l, SIGCHLD, on_sigchld, h) < 0) {
		free(h);
		return NULL;
	}
	return h;
}

void xd_hooks_free(struct xd_hooks *h)
{
	if (!h)
		return;
	while (h->list) {
		struct hook *k = h->list;
		h->list = k->next;
		xd_log(XD_LOG_WARNING, k->domain, k->domid,
		       "hook %s (pid %ld) killed: the daemon is exiting", k->name, (long)k->pid);
		kill(-k->pid, SIGKILL);
		while (waitpid(k->pid, NULL, 0) < 0 && errno == EINTR)
			;
		free_hook(k);
	}
	free(h);
}
