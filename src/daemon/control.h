/* SPDX-License-Identifier: ISC */
/*
 * The control socket: xendomctl's requests, --wait jobs and the `events`
 * stream.  Only transport and dispatch: the commands act on the engine
 * through the interface it is given (engine_if.h), a reload is
 * daemon/reload.c's, the service manager is told by daemon/service.c.
 * The protocol (framing, commands, exit codes, limits) is proto/proto.h,
 * shared with xendomctl.
 *
 * Nothing a client does can block the daemon: sockets are non-blocking,
 * a client's next request is read only once its previous reply is
 * flushed (so each client holds at most one request and one reply),
 * event subscribers that stop reading are dropped, clients that send no
 * complete request for idle_timeout_ms are dropped, and accept() pauses
 * (instead of spinning) when the process runs out of descriptors.
 */
#ifndef XD_CONTROL_H
#define XD_CONTROL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/config.h"
#include "core/engine.h"
#include "daemon/engine_if.h"
#include "daemon/service.h"
#include "evloop/loop.h"

#define XD_CTL_IDLE_MS       30000                /* default idle timeout */
/* The memory one subscriber's unread events may hold before it is dropped. */
#define XD_CTL_EVENTS_MAX    (1024 * 1024)
/* The memory all clients' unsent output may hold together (their queues'
 * chunks, control/outq.h); past it the `events` subscribers furthest
 * behind are dropped first, then a reply that does not fit while others
 * hold output is refused with a short error (control/client.c). */
#define XD_CTL_BACKLOG_TOTAL (64 * 1024 * 1024)
#define XD_CTL_CLIENTS_MAX   1024                 /* connections at once */
/* Connections one uid other than root (and the daemon's own) may hold,
 * and the slots of XD_CTL_CLIENTS_MAX only root may take: a user cannot
 * lock root out of its own daemon. */
#define XD_CTL_CLIENTS_PER_UID 64
#define XD_CTL_ROOT_RESERVE    64

struct xd_control_env {
	struct xd_loop *loop;
	struct xd_engine_if engine;
	struct xd_service *service;      /* shutdown-host and reload tell it */
	/* The running configuration.  Reload replaces *cfg (after the engine
	 * switched to the new one) and frees the old one, so the owner must
	 * always read it through this pointer. */
	struct xd_config **cfg;
	const char *config_path;         /* re-read by reload */
	const char *socket_path;         /* -s PATH; NULL = cfg's `socket` */
	uint64_t started_ms;             /* daemon start, xd_loop_clock() */
	uint64_t idle_timeout_ms;        /* 0 = XD_CTL_IDLE_MS */
	size_t backlog_total_max;        /* 0 = XD_CTL_BACKLOG_TOTAL (tests lower it) */
};

struct xd_control;

/* Bind and listen (mode 0660, group socket_group, a stale socket file is
 * replaced, a live one is an error) and catch SIGHUP (reload).
 * Returns NULL with the reason logged. */
struct xd_control *xd_control_new(const struct xd_control_env *env);
/* Closes every client and removes the socket file. */
void xd_control_free(struct xd_control *c);

/* The engine's callbacks, fanned out by the daemon to us (events and
 * --wait jobs; the service manager hears them through service.h). */
void xd_control_changed(struct xd_control *c, size_t dom, const struct xd_dom_status *st);
void xd_control_host_down(struct xd_control *c);

/* Re-read config_path; on success switch the engine and free the old
 * configuration, else keep it.  What happened is logged; when report is
 * non-NULL it gets a malloc'ed JSON reply line (without newline).
 * Returns 0 when the new configuration is in use. */
int xd_control_reload(struct xd_control *c, char **report);

/* Access a peer gets from its credentials: root and the daemon's own
 * user do anything, members of socket_group (primary or supplementary)
 * only read.  Exposed for the tests. */
enum xd_access { XD_ACCESS_NONE, XD_ACCESS_READ, XD_ACCESS_ALL };
struct xd_peer {
	unsigned uid, gid;
	long pid;                        /* -1 when the system does not tell */
	const unsigned *groups;          /* supplementary groups */
	size_t n_groups;
};
enum xd_access xd_control_access(const struct xd_peer *peer, unsigned self_uid,
				 bool have_group, unsigned socket_gid);

/* What the control socket holds now.  Exposed for the tests. */
struct xd_control_stats {
	size_t clients;                  /* connected */
	size_t subscribers;              /* of those, on the `events` stream */
	size_t backlog;                  /* memory of all clients' unsent output */
};
void xd_control_stats(const struct xd_control *c, struct xd_control_stats *st);

#endif
