/* SPDX-License-Identifier: ISC */
/*
 * The part of a domain's xl cfg (xl.cfg(5)) that the core needs, read with
 * libxlutil exactly as `xl create` reads it (works without Xen).
 */
#ifndef XD_CONFIG_XLCFG_H
#define XD_CONFIG_XLCFG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/diag.h"
#include "core/config.h"

struct xd_xlcfg {
	char *name;              /* name=; NULL if absent */
	int name_line;           /* its line, 0 if absent */
	uint64_t memory_mb;      /* memory=, else maxmem=, else 32 (libxl's default) */
	uint64_t maxmem_mb;      /* maxmem=, else memory */
	bool hvm;                /* type= / builder= as xl decides it */
	enum xd_action on_poweroff, on_reboot, on_crash, on_watchdog, on_soft_reset;
};

/* Largest xl cfg read: these are a few hundred bytes in practice. */
#define XD_XLCFG_MAX_BYTES (1024 * 1024)

/*
 * Read the xl cfg at path.  Returns 0 and fills *out, or -1 after adding
 * every problem found to diags as "PATH:LINE: message" (the line of the
 * offending key, or PATH alone when it has none).  *out must be freed with
 * xd_xlcfg_free() either way.
 */
int xd_xlcfg_read(const char *path, struct xd_xlcfg *out, struct xd_diags *diags);
void xd_xlcfg_free(struct xd_xlcfg *x);

/* Line of the last `key = ...` or `key += ...` statement in xl cfg text
 * (what xlu keeps), or 0 if there is none.  Knows xl's quoting, comments
 * and multi-line lists. */
int xd_xlcfg_key_line(const char *text, size_t len, const char *key);

#endif
