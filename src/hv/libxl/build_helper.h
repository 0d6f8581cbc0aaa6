/* SPDX-License-Identifier: ISC */
/* Inside xendomd-build: the modes its main hands over (build_helper.c). */
#ifndef XD_BUILD_HELPER_H
#define XD_BUILD_HELPER_H

#include <sys/types.h>

#include "hv/libxl/libxl_api.h"
#include "hv/libxl/libxl_util.h"

/* `migrate NAME DOMID HOST COMMAND live|suspended` (migrate_helper.c): argv as main's,
 * parent the daemon's pid; prints the result (build_proto.h) and returns
 * the exit status. */
int xlb_migrate_main(libxl_ctx *ctx, struct xlb_errlog *errs, pid_t parent, int argc, char **argv);

#endif
