/*
 * libxl's osevent hooks (xen-notes §1.2) on the daemon's poll loop.
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

typedef void xl_osev_fd_fn(void *ctx, void *for_libxl, int fd, short events, short revents);
typedef void xl_osev_timeout_fn(void *ctx, void *for_libxl);

struct xl_osev_fd;
struct xl_osev_timeout;

struct xl_osev {
	struct xd_loop *loop;
	void *ctx;                           /* libxl_ctx *, set once allocated */
	xl_osev_fd_fn *fd_occurred;
	xl_osev_timeout_fn *timeout_occurred;
	struct xl_osev_fd *fds;              /* live registrations, for teardown */
	struct xl_osev_timeout *timeouts;
};

/* Pass with the struct xl_osev as user to libxl_osevent_register_hooks. */
extern const libxl_osevent_hooks xl_osev_hooks;

void xl_osev_init(struct xl_osev *o, struct xd_loop *loop,
		  xl_osev_fd_fn *fd_fn, xl_osev_timeout_fn *timeout_fn);
/* Drop every registration still live (after libxl_ctx_free). */
void xl_osev_fini(struct xl_osev *o);

/* Absolute gettimeofday() time abs, seen at real time now_real and
 * monotonic ms now_mono, as monotonic ms (never before now_mono; rounded
 * up so a timer never fires early). */
uint64_t xl_osev_abs_to_mono(struct timeval abs, struct timeval now_real, uint64_t now_mono);

#endif
