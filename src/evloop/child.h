/* SPDX-License-Identifier: ISC */
/*
 * Starting child processes: the one way for every child of the daemon --
 * the exec_start_pre/exec_stop_post hooks (daemon/hooks.c), the libxl
 * backend's helpers (`xl create --dryrun`, hv/libxl/libxl_child.c) and
 * libxl's own children (its fork_replacement).
 *
 * Why.  The daemon catches signals through the loop and blocks some; a
 * child must start with every disposition at its default and an empty
 * signal mask, or it ignores the SIGTERM a halt sends it.  So signals
 * are blocked across fork() (no handler of the daemon runs in the child
 * before the reset), reset in the child, then unblocked.  fork + exec
 * rather than posix_spawn: glibc's posix_spawn leaves its internal
 * signals (32, 33) ignored in the child.  Between fork and exec only
 * async-signal-safe calls.  The exec's errno comes back through a
 * close-on-exec pipe, so "cannot run" is an error of the start, not an
 * exit status 127.
 *
 * Reaping is the caller's, by pid (never waitpid(-1): libxl reaps its
 * own children in the SIGCHLD mode the backend sets).
 */
#ifndef XD_EVLOOP_CHILD_H
#define XD_EVLOOP_CHILD_H

#include <stdbool.h>
#include <sys/types.h>

/* fork() with a clean signal state in the child; returns as fork(). */
pid_t xd_child_fork(void);

struct xd_child_spec {
	const char *path;            /* executable; a bare name with search_path */
	char *const *argv;
	char *const *envp;           /* NULL: the daemon's environment */
	bool search_path;            /* look path up in PATH */
	int stdout_fd, stderr_fd;    /* become the child's 1 and 2 */
	int stdin_fd;                /* > 0: becomes the child's 0; 0: /dev/null */
	bool own_pgrp;               /* a process group of its own, killed as one */
	bool no_wait;                /* return at once: a failed exec is then exit
				      * status 127, not an error of the start */
};

/* Start a child; 0 (pid set) or an errno value, the fork's or the
 * exec's (the failed child is then reaped already).  Waiting for the
 * exec costs the caller a scheduling round of the child: on a starved
 * host, seconds; no_wait skips it. */
int xd_child_spawn(const struct xd_child_spec *s, pid_t *pid);

#endif
