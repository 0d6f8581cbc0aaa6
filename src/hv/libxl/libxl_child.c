/* SPDX-License-Identifier: ISC */
/* Child processes of the libxl backend (libxl_child.h). */
#include "hv/libxl/libxl_child.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "evloop/child.h"

struct xlb_child {
	struct xd_loop *loop;
	pid_t pid;                       /* 0 once reaped */
	int status;
	struct stream {
		int fd;                  /* -1 at EOF */
		struct xd_io *io;
	} out, err;
	char *buf;                       /* stdout, NUL-terminated */
	size_t len, max;
	bool truncated;
	char errline[XLB_CHILD_ERR_MAX];  /* the last complete stderr line */
	char errpart[XLB_CHILD_ERR_MAX];  /* the line being read */
	size_t errpart_len;
	bool done_called;
	bool own_pgrp;
	pid_t started_pid;               /* the group to kill */
	xlb_child_line_fn *err_line;
	xlb_child_done_fn *done;
	void *arg;
};

static void stream_close(struct xlb_child *c, struct stream *s)
{
	if (s->fd < 0)
		return;
	xd_loop_del_io(c->loop, s->io);
	close(s->fd);
	s->fd = -1;
}

static void maybe_done(struct xlb_child *c)
{
	if (c->pid || c->out.fd >= 0 || c->err.fd >= 0 || c->done_called)
		return;
	c->done_called = true;
	c->done(c, c->arg);
}

/* Only records the exit: the caller decides when done may run. */
static void reap(struct xlb_child *c)
{
	if (!c->pid)
		return;
	int st;
	pid_t r = waitpid(c->pid, &st, WNOHANG);
	if (r == c->pid || (r < 0 && errno == ECHILD)) {
		c->status = r == c->pid ? st : (127 << 8);
		c->pid = 0;
	}
}

static void on_stdout(struct xd_io *io, int fd, short revents, void *arg)
{
	(void)io; (void)revents;
	struct xlb_child *c = arg;
	char tmp[4096];
	ssize_t n = read(fd, tmp, sizeof(tmp));
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		stream_close(c, &c->out);
		reap(c);
		maybe_done(c);
		return;
	}
	size_t keep = (size_t)n;
	if (keep > c->max - c->len) {
		keep = c->max - c->len;
		c->truncated = true;
	}
	memcpy(c->buf + c->len, tmp, keep);
	c->len += keep;
	c->buf[c->len] = '\0';
}

/* Keeps the last non-empty line (cut to the bound). */
static void err_feed(struct xlb_child *c, const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (p[i] == '\n') {
			if (c->errpart_len) {
				c->errpart[c->errpart_len] = '\0';
				memcpy(c->errline, c->errpart, c->errpart_len + 1);
				if (c->err_line)
					c->err_line(c->errline, c->arg);
			}
			c->errpart_len = 0;
		} else if (c->errpart_len < sizeof(c->errpart) - 1) {
			c->errpart[c->errpart_len++] = p[i];
		}
	}
}

static void on_stderr(struct xd_io *io, int fd, short revents, void *arg)
{
	(void)io; (void)revents;
	struct xlb_child *c = arg;
	char tmp[1024];
	ssize_t n = read(fd, tmp, sizeof(tmp));
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		err_feed(c, "\n", 1);           /* an unterminated last line */
		stream_close(c, &c->err);
		reap(c);
		maybe_done(c);
		return;
	}
	err_feed(c, tmp, (size_t)n);
}

void xlb_child_sigchld(struct xlb_child *c)
{
	reap(c);
	maybe_done(c);
}

static int spawn(pid_t *pid, char *const argv[], const struct xlb_child_opts *o, int out_w,
		 int err_w)
{
	struct xd_child_spec cs = { .path = o->path ? o->path : argv[0], .argv = argv,
				    .search_path = !o->path, .stdout_fd = out_w,
				    .stderr_fd = err_w, .stdin_fd = o->stdin_fd,
				    .own_pgrp = o->own_pgrp, .no_wait = o->no_wait };
	return xd_child_spawn(&cs, pid);
}

static int stream_open(struct xlb_child *c, struct stream *s, int fd, xd_io_fn *fn)
{
	s->fd = fd;
	s->io = xd_loop_add_io(c->loop, fd, POLLIN, fn, c);
	return s->io ? 0 : -1;
}

struct xlb_child *xlb_child_spawn(struct xd_loop *loop, char *const argv[], size_t out_max,
				xlb_child_done_fn *done, void *arg, char *err, size_t errlen)
{
	return xlb_child_start(loop, argv, out_max, NULL, done, arg, err, errlen);
}

struct xlb_child *xlb_child_start(struct xd_loop *loop, char *const argv[], size_t out_max,
				const struct xlb_child_opts *opts, xlb_child_done_fn *done,
				void *arg, char *err, size_t errlen)
{
	static const struct xlb_child_opts plain;
	const struct xlb_child_opts *o = opts ? opts : &plain;
	int out[2] = { -1, -1 }, errp[2] = { -1, -1 };
	struct xlb_child *c = calloc(1, sizeof(*c));
	if (!c || !(c->buf = malloc(out_max + 1))) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	*c = (struct xlb_child){ .loop = loop, .buf = c->buf, .max = out_max,
				.out.fd = -1, .err.fd = -1, .done = done, .arg = arg,
				.own_pgrp = o->own_pgrp, .err_line = o->err_line };
	c->buf[0] = '\0';
	if (pipe2(out, O_CLOEXEC | O_NONBLOCK) < 0 || pipe2(errp, O_CLOEXEC | O_NONBLOCK) < 0) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		goto fail;
	}
	int rc = spawn(&c->pid, argv, o, out[1], errp[1]);
	c->started_pid = c->pid;
	close(out[1]);
	close(errp[1]);
	out[1] = errp[1] = -1;
	if (rc) {
		snprintf(err, errlen, "cannot run %s: %s", o->path ? o->path : argv[0], strerror(rc));
		c->pid = 0;
		goto fail;
	}
	if (stream_open(c, &c->out, out[0], on_stdout) < 0 ||
	    stream_open(c, &c->err, errp[0], on_stderr) < 0) {
		snprintf(err, errlen, "out of memory");
		xlb_child_free(c);
		return NULL;
	}
	return c;
fail:
	for (int i = 0; i < 2; i++) {
		if (out[i] >= 0) close(out[i]);
		if (errp[i] >= 0) close(errp[i]);
	}
	if (c)
		free(c->buf);
	free(c);
	return NULL;
}

void xlb_child_kill(struct xlb_child *c)
{
	if (!c->pid)
		return;
	/* The group outlives the leader's reaping by a little (its own
	 * children, e.g. libxl's hotplug scripts), so kill it while the
	 * leader is unreaped: the pgid cannot have been reused yet. */
	kill(c->own_pgrp ? -c->started_pid : c->pid, SIGKILL);
}

pid_t xlb_child_pid(const struct xlb_child *c) { return c->pid; }

void xlb_child_free(struct xlb_child *c)
{
	if (!c)
		return;
	if (c->pid) {
		xlb_child_kill(c);
		waitpid(c->pid, NULL, 0);
	}
	stream_close(c, &c->out);
	stream_close(c, &c->err);
	free(c->buf);
	free(c);
}

void xlb_child_detach(struct xlb_child *c)
{
	if (!c)
		return;
	stream_close(c, &c->out);
	stream_close(c, &c->err);
	free(c->buf);
	free(c);
}

const char *xlb_child_output(const struct xlb_child *c, size_t *len, bool *truncated)
{
	if (len)
		*len = c->len;
	if (truncated)
		*truncated = c->truncated;
	return c->buf;
}

const char *xlb_child_last_err(const struct xlb_child *c) { return c->errline; }

void xlb_child_describe(const struct xlb_child *c, char *buf, size_t len)
{
	if (WIFEXITED(c->status) && WEXITSTATUS(c->status) == 0)
		snprintf(buf, len, "%s", "");
	else if (WIFEXITED(c->status))
		snprintf(buf, len, "exited with status %d", WEXITSTATUS(c->status));
	else if (WIFSIGNALED(c->status))
		snprintf(buf, len, "killed by signal %d", WTERMSIG(c->status));
	else
		snprintf(buf, len, "ended with wait status %#x", (unsigned)c->status);
}

pid_t xlb_fork_clean(void *user)
{
	(void)user;
	return xd_child_fork();
}
