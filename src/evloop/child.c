/* SPDX-License-Identifier: ISC */
/* Starting child processes (child.h). */
#include "evloop/child.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static void reset_signals(void)
{
	struct sigaction dfl = { .sa_handler = SIG_DFL };
	for (int sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			sigaction(sig, &dfl, NULL);      /* EINVAL for glibc's own: fine */
}

pid_t xd_child_fork(void)
{
	sigset_t all, none, old;
	sigfillset(&all);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &all, &old);
	pid_t pid = fork();
	if (pid == 0) {
		reset_signals();
		sigprocmask(SIG_SETMASK, &none, NULL);
		return 0;
	}
	int saved = errno;
	sigprocmask(SIG_SETMASK, &old, NULL);
	errno = saved;
	return pid;
}

/* stdin from in (else /dev/null), stdout and stderr onto 1 and 2.
 * F_SETFD because dup2 onto itself would keep close-on-exec. */
static int redirect_stdio(int in, int out, int err)
{
	if (in <= 0)
		in = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (in < 0 || (in != 0 && dup2(in, 0) < 0))
		return -1;
	if (dup2(out, 1) < 0 || dup2(err, 2) < 0)
		return -1;
	for (int fd = 0; fd <= 2; fd++)
		if (fcntl(fd, F_SETFD, 0) < 0)
			return -1;
	return 0;
}

/* In the child: never returns.  errno goes back through report. */
static _Noreturn void exec_child(const struct xd_child_spec *s, int report)
{
	char *const *env = s->envp ? s->envp : environ;
	if ((!s->own_pgrp || setpgid(0, 0) == 0) &&
	    redirect_stdio(s->stdin_fd, s->stdout_fd, s->stderr_fd) == 0) {
		if (s->search_path)
			execvpe(s->path, s->argv, env);
		else
			execve(s->path, s->argv, env);
	}
	int e = errno;
	if (report >= 0 && write(report, &e, sizeof(e)) < 0) {
	}
	_exit(127);
}

/* The exec's errno if it failed (the child then reaped), else 0. */
static int exec_result(int report, pid_t pid)
{
	int e;
	ssize_t n;
	while ((n = read(report, &e, sizeof(e))) < 0 && errno == EINTR)
		;
	if (n != sizeof(e))
		return 0;
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
	return e;
}

int xd_child_spawn(const struct xd_child_spec *s, pid_t *pid)
{
	int report[2];
	if (pipe2(report, O_CLOEXEC) < 0)
		return errno;
	*pid = xd_child_fork();
	if (*pid == 0)
		exec_child(s, s->no_wait ? -1 : report[1]);
	int rc = *pid < 0 ? errno : 0;
	close(report[1]);
	if (*pid > 0 && !s->no_wait)
		rc = exec_result(report[0], *pid);
	close(report[0]);
	return rc;
}
