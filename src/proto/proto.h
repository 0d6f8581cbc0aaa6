/* SPDX-License-Identifier: ISC */
/*
 * The control protocol between xendomd and xendomctl, one header for
 * both sides (as OpenBSD's vmd.h is shared by vmd and vmctl): where the
 * socket is, the commands and who may use them, the exit codes a reply
 * carries and the size limits of a request.
 *
 * On the wire: one JSON object per line in both directions.  A request
 * is {"cmd":"NAME", "names":[...], "wait":true, "dot":true, "host":"H"}
 * (the last four only where the command takes them); every request gets exactly
 * one reply, {"ok":true, ...} or {"ok":false,"code":N,"error":"..."}
 * where N is xendomctl's exit code.  After an `events` reply the
 * connection carries one object per state change until the client
 * closes.  xendomctl(8) documents every command.
 */
#ifndef XD_PROTO_H
#define XD_PROTO_H

#include <stdbool.h>
#include <stddef.h>

/* Where xendomctl looks for the daemon unless told (-s PATH). */
#define XD_PROTO_SOCKET_DEFAULT "/run/xendomd/control"

/* A request line is at most this many bytes (the newline excluded). */
#define XD_PROTO_REQUEST_MAX (64 * 1024)
/* Names in one request. */
#define XD_PROTO_NAMES_MAX 4096
/* The longest reply line xendomctl accepts. */
#define XD_PROTO_REPLY_MAX (16 * 1024 * 1024)

/* xendomctl's exit codes; a failed reply's "code" is one of 1, 2 or 4. */
enum xd_exit {
	XD_EXIT_OK = 0,
	XD_EXIT_FAILED = 1,              /* the operation failed */
	XD_EXIT_USAGE = 2,               /* usage or configuration error */
	XD_EXIT_UNREACHABLE = 3,         /* no daemon at the socket */
	XD_EXIT_PERM = 4,                /* permission denied */
};

enum xd_cmd {
	XD_CMD_STATUS,
	XD_CMD_TIMELINE,
	XD_CMD_PLAN,
	XD_CMD_EVENTS,
	XD_CMD_START,
	XD_CMD_STOP,
	XD_CMD_RESTART,
	XD_CMD_SAVE,
	XD_CMD_MIGRATE,
	XD_CMD_RELOAD,
	XD_CMD_SHUTDOWN_HOST,
	XD_CMD_COUNT
};

struct xd_cmd_spec {
	enum xd_cmd cmd;
	const char *name;
	bool writes;             /* root only; socket_group members may not */
	bool names;              /* takes domain names */
	bool need_name;          /* ... at least one */
	bool wait;               /* takes "wait" (--wait) */
	bool dot;                /* takes "dot" (--dot) */
	bool svg;                /* xendomctl's --svg FILE (not sent) */
	bool host;               /* exactly one name and a "host" (migrate NAME HOST) */
};

/* Every command, in enum xd_cmd order. */
extern const struct xd_cmd_spec xd_proto_commands[XD_CMD_COUNT];
/* The command called name, or NULL. */
const struct xd_cmd_spec *xd_proto_command(const char *name);

#endif
