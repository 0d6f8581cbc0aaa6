/* SPDX-License-Identifier: ISC */
/*
 * The line protocol between the daemon and its build helper,
 * xendomd-build (build_helper.c; the daemon's side is builder.c).
 *
 *   xendomd-build create NAME                            < CONFIG_JSON
 *   xendomd-build restore NAME FILE OFFSET STREAM_VERSION < CONFIG_JSON
 *   xendomd-build dump NAME DOMID FILE                   < /dev/null
 *   xendomd-build migrate NAME DOMID HOST COMMAND live|suspended  < /dev/null
 *
 * stdin carries the libxl domain config (libxl_domain_config_to_json of
 * what the daemon would have built itself, UUID included).  The helper
 * builds the domain paused (or dumps a domain's core) and ends with one
 * line on stdout:
 *
 *   ok DOMID
 *   fail LIBXL_RC DOMID MESSAGE       (DOMID -1: libxl made none)
 *
 * Its stderr carries libxl's messages, one a line, each led by its level
 * (E, W, N or I and a space).  A helper that ends without a line failed
 * (it crashed, or was killed).
 *
 * A migration (migrate_helper.c) says "go" on a line of its own right
 * before it gives the target the permission to go, and ends with
 *
 *   ok DOMID                          the target runs it
 *   fail LIBXL_RC DOMID MESSAGE       failed before the go; resumed here
 *   doubt DOMID MESSAGE               contact lost after the go
 */
#ifndef XD_BUILD_PROTO_H
#define XD_BUILD_PROTO_H

#include <stdbool.h>
#include <stddef.h>

#define XLB_BUILD_NAME "xendomd-build"
#define XLB_BUILD_CONFIG_MAX (1u << 20)  /* as xl --dryrun's output */
#define XLB_BUILD_MSG_MAX 256

struct xlb_build_result {
	bool ok;
	int libxl_rc;                    /* fail: libxl's code */
	long domid;                      /* -1: none */
	char msg[XLB_BUILD_MSG_MAX];     /* fail: libxl's reason */
};

/* Parse the helper's stdout; false if it holds no result line. */
bool xlb_build_parse(const char *out, struct xlb_build_result *r);

enum xlb_migrate_outcome { XLB_MIG_NONE, XLB_MIG_OK, XLB_MIG_FAIL, XLB_MIG_DOUBT };

struct xlb_migrate_result {
	enum xlb_migrate_outcome outcome;    /* NONE: no result line */
	bool go;                             /* "go" was said */
	int libxl_rc;                        /* fail */
	char msg[XLB_BUILD_MSG_MAX];         /* fail, doubt */
};

/* Parse a migration helper's stdout. */
void xlb_migrate_parse(const char *out, struct xlb_migrate_result *r);

/* A stderr line "L message": the level letter, and the message in *msg. */
char xlb_build_line_level(const char *line, const char **msg);

#endif
