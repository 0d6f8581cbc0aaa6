/* SPDX-License-Identifier: ISC */
/*
 * libxl's osevent hooks (doc/xen-facts.md §1.2) on the daemon's poll loop.
 *
 * libxl registers fds (possibly the same fd twice, with different events;
 * the loop registers by handle, so that just works) and absolute
 * CLOCK_REALTIME timeouts, converted here to the loop's monotonic
 * milliseconds.  The hooks never call libxl: they only touch the loop.
 * When an fd is ready or a timeout is due, the loop calls back and we
 * forward to libxl_osevent_occurred_* through the two function pointers
 * (tests substitute their own).
 */
#ifndef XD_LIBXL_OSEVENT_H
#define XD_LIBXL_OSEVENT_H

#include <stdint.h>
#include <sys/time.h>

#include "evloop/loop.h"
#include "hv/libxl/libxl_api.h"

typedef void xlb_osev_fd_fn(void *ctx, void *for_libxl, int fd, short events, short revents);
typedef void xlb_osev_timeout_fn(void *ctx, void *for_libxl);

struct xlb_osev_fd;
struct xlb_osev_timeout;

struct xlb_osev {
	struct xd_loop_if loop;
	void *ctx;                           /* libxl_ctx *, set once allocated */
	xlb_osev_fd_fn *fd_occurred;
	xlb_osev_timeout_fn *timeout_occurred;
	struct xlb_osev_fd *fds;              /* live registrations, for teardown */
	struct xlb_osev_timeout *timeouts;
	struct xlb_osev_timeout *firing;      /* being delivered (on_timeout) */
};

/* Pass with the struct xlb_osev as user to libxl_osevent_register_hooks. */
extern const libxl_osevent_hooks xlb_osev_hooks;

void xlb_osev_init(struct xlb_osev *o, struct xd_loop_if loop,
		  xlb_osev_fd_fn *fd_fn, xlb_osev_timeout_fn *timeout_fn);
/* Drop every registration still live (after libxl_ctx_free). */
void xlb_osev_fini(struct xlb_osev *o);

/* Absolute gettimeofday() time abs, seen at real time now_real and
 * monotonic ms now_mono, as monotonic ms (never before now_mono; rounded
 * up so a timer never fires early). */
uint64_t xlb_osev_abs_to_mono(struct timeval abs, struct timeval now_real, uint64_t now_mono);

#endif
