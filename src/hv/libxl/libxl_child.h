/*
 * Child processes of the libxl backend.
 *
 * xl_child runs a helper (`xl create --dryrun`, which takes seconds in
 * the lab: xen-notes §9) without blocking the loop: stdout is collected
 * up to a bound, the last stderr line is kept for messages, and the child
 * is reaped by pid when the owner forwards SIGCHLD (never waitpid(-1):
 * libxl reaps its own children).  The done callback runs from the loop
 * once the output has ended and the child is reaped.
 *
 * xl_fork_clean is libxl's fork_replacement (xen-notes §1.5): libxl's
 * children must not inherit the daemon's signal mask or handlers.
 */
#ifndef XD_LIBXL_CHILD_H
#define XD_LIBXL_CHILD_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "evloop/loop.h"

#define XL_CHILD_ERR_MAX 256

struct xl_child;
typedef void xl_child_done_fn(struct xl_child *c, void *arg);

/* argv[0] is looked up in PATH.  NULL (err says why) if it could not be
 * started. */
struct xl_child *xl_child_spawn(struct xd_loop *loop, char *const argv[], size_t out_max,
				xl_child_done_fn *done, void *arg, char *err, size_t errlen);
/* Call on every SIGCHLD. */
void xl_child_sigchld(struct xl_child *c);
/* SIGTERM; done still follows. */
void xl_child_kill(struct xl_child *c);
/* Forget the child: a running one is killed and reaped without reporting.
 * Never call it from inside its own done callback's caller chain other
 * than the callback itself (where it is fine). */
void xl_child_free(struct xl_child *c);

/* Results, valid in and after done. */
int xl_child_status(const struct xl_child *c);          /* waitpid status */
/* NUL-terminated output; truncated = more than out_max was written. */
const char *xl_child_output(const struct xl_child *c, size_t *len, bool *truncated);
const char *xl_child_last_err(const struct xl_child *c);  /* "" if none */
/* "exited with status 3", "killed by signal 9", "" for status 0. */
void xl_child_describe(const struct xl_child *c, char *buf, size_t len);

pid_t xl_fork_clean(void *user);

#endif
