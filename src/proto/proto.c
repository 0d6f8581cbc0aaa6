/* SPDX-License-Identifier: ISC */
/* The command table of the control protocol (proto.h). */
#include "proto/proto.h"

#include <string.h>

const struct xd_cmd_spec xd_proto_commands[XD_CMD_COUNT] = {
	/* cmd, name, writes, names, need_name, wait, dot, svg, host */
	{ XD_CMD_STATUS, "status", false, true, false, false, false, false, false },
	{ XD_CMD_TIMELINE, "timeline", false, false, false, false, false, true, false },
	{ XD_CMD_PLAN, "plan", false, false, false, false, true, false, false },
	{ XD_CMD_EVENTS, "events", false, false, false, false, false, false, false },
	{ XD_CMD_START, "start", true, true, true, true, false, false, false },
	{ XD_CMD_STOP, "stop", true, true, true, true, false, false, false },
	{ XD_CMD_RESTART, "restart", true, true, true, true, false, false, false },
	{ XD_CMD_SAVE, "save", true, true, true, true, false, false, false },
	{ XD_CMD_MIGRATE, "migrate", true, true, true, true, false, false, true },
	{ XD_CMD_RELOAD, "reload", true, false, false, false, false, false, false },
	{ XD_CMD_SHUTDOWN_HOST, "shutdown-host", true, false, false, true, false, false, false },
};

const struct xd_cmd_spec *xd_proto_command(const char *name)
{
	for (size_t i = 0; i < XD_CMD_COUNT; i++)
		if (strcmp(xd_proto_commands[i].name, name) == 0)
			return &xd_proto_commands[i];
	return NULL;
}
