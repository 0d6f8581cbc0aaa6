/* SPDX-License-Identifier: ISC */
/*
 * exec_start_pre / exec_stop_post hooks (xendomd.conf(5)).
 *
 * A hook is exec'ed without a shell, in its own process group, with a
 * clean signal mask and default dispositions, stdin on /dev/null (all
 * evloop/child.h's rule for every child of the daemon), and the
 * daemon's environment plus XENDOMD_DOMAIN, XENDOMD_DOMID (when the request
 * has a domid: post hooks) and XENDOMD_REASON.  Its stdout and stderr go to
 * one pipe read by the loop and logged line by line with the domain name.
 * After the request's timeout the whole process group is killed.
 *
 * Children are reaped by pid on SIGCHLD (never waitpid(-1): libxl reaps
 * its own children).  The end of each hook is reported through the done
 * callback, from the loop, never from inside xd_hooks_run().
 */
#ifndef XD_HOOKS_H
#define XD_HOOKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/engine.h"         /* struct xd_hook_req */
#include "evloop/loop.h"

#define XD_HOOK_LINE_MAX 1024    /* longer output lines are cut */
#define XD_HOOK_LINES_MAX 200    /* per run; the rest is read and dropped */

struct xd_hooks;

/* ok = exited 0 before the timeout; msg e.g. "exited with status 3",
 * "killed by signal 9", "timed out after 30 s". */
typedef void xd_hook_done_fn(void *arg, uint64_t op, bool ok, const char *msg);

struct xd_hooks *xd_hooks_new(struct xd_loop *l, xd_hook_done_fn *done, void *arg);
/* Kills and reaps hooks still running (without reporting them).  Call
 * when the loop no longer runs, before xd_loop_free(). */
void xd_hooks_free(struct xd_hooks *h);

/* Start a hook; -1 (logged, with the domain) if it could not be started. */
int xd_hooks_run(struct xd_hooks *h, const struct xd_hook_req *req);
size_t xd_hooks_running(const struct xd_hooks *h);

#endif
