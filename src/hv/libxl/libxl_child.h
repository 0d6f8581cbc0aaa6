/* SPDX-License-Identifier: ISC */
/*
 * Child processes of the libxl backend.
 *
 * xlb_child runs a helper (`xl create --dryrun`, which takes seconds in
 * the lab: doc/xen-facts.md §9) without blocking the loop: stdout is collected
 * up to a bound, the last stderr line is kept for messages, and the child
 * is reaped by pid when the owner forwards SIGCHLD (never waitpid(-1):
 * libxl reaps its own children).  The done callback runs from the loop
 * once the output has ended and the child is reaped.
 *
 * Both start children the one way of evloop/child.h: xlb_child_spawn
 * through xd_child_spawn (argv[0] looked up in PATH), and xlb_fork_clean,
 * libxl's fork_replacement (doc/xen-facts.md §1.5), is xd_child_fork: libxl's
 * children must not inherit the daemon's signal mask or handlers.
 */
#ifndef XD_LIBXL_CHILD_H
#define XD_LIBXL_CHILD_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "evloop/loop.h"

#define XLB_CHILD_ERR_MAX 256

struct xlb_child;
typedef void xlb_child_done_fn(struct xlb_child *c, void *arg);

typedef void xlb_child_line_fn(const char *line, void *arg);

/* What a child may have beyond argv and its stdout bound. */
struct xlb_child_opts {
	const char *path;                /* NULL: argv[0], looked up in PATH */
	int stdin_fd;                    /* > 0: the child's stdin (the caller keeps it) */
	bool own_pgrp;                   /* a group of its own: killed as one */
	bool no_wait;                    /* do not wait for the exec (evloop/child.h) */
	xlb_child_line_fn *err_line;     /* each complete stderr line, as it comes */
};

/* argv[0] is looked up in PATH.  NULL (err says why) if it could not be
 * started. */
struct xlb_child *xlb_child_spawn(struct xd_loop *loop, char *const argv[], size_t out_max,
				xlb_child_done_fn *done, void *arg, char *err, size_t errlen);
/* The same with opts (NULL: as xlb_child_spawn); err_line gets arg too. */
struct xlb_child *xlb_child_start(struct xd_loop *loop, char *const argv[], size_t out_max,
				const struct xlb_child_opts *opts, xlb_child_done_fn *done,
				void *arg, char *err, size_t errlen);
/* SIGKILL to a running child (its group with own_pgrp); done still
 * follows once it is reaped and its output has ended. */
void xlb_child_kill(struct xlb_child *c);
pid_t xlb_child_pid(const struct xlb_child *c);  /* 0 once reaped */
/* Call on every SIGCHLD. */
void xlb_child_sigchld(struct xlb_child *c);
/* Forget the child: a running one is killed and reaped without reporting.
 * Never call it from inside its own done callback's caller chain other
 * than the callback itself (where it is fine). */
void xlb_child_free(struct xlb_child *c);
/* Forget the child without killing it: it runs on, unreaped, with its
 * stdout and stderr closed (the daemon is going and it must finish). */
void xlb_child_detach(struct xlb_child *c);

/* Results, valid in and after done. */
/* NUL-terminated output; truncated = more than out_max was written. */
const char *xlb_child_output(const struct xlb_child *c, size_t *len, bool *truncated);
const char *xlb_child_last_err(const struct xlb_child *c);  /* "" if none */
/* "exited with status 3", "killed by signal 9", "" for status 0. */
void xlb_child_describe(const struct xlb_child *c, char *buf, size_t len);

pid_t xlb_fork_clean(void *user);

#endif
