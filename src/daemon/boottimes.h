/* SPDX-License-Identifier: ISC */
/*
 * <state_dir>/boot-times: each domain's measured start-to-ready time from
 * the last boot that measured it, the weights of start_order =
 * critical-path.
 *
 * A small text file, one "NAME MS" line per configured domain (at most
 * XD_BOOTTIMES_MAX lines, read up to XD_BOOTTIMES_MAX_BYTES); lines
 * starting with '#', lines that do not parse, names not in the
 * configuration and times out of range are ignored, so a file written by
 * another version is read as far as it makes sense.  Written atomically
 * (a temporary file, fsync, rename, fsync of the directory).
 */
#ifndef XD_DAEMON_BOOTTIMES_H
#define XD_DAEMON_BOOTTIMES_H

#include <stdint.h>

#include "core/config.h"
#include "core/plan.h"

#define XD_BOOTTIMES_FILE "boot-times"
#define XD_BOOTTIMES_MAX 16384                     /* lines kept */
#define XD_BOOTTIMES_MAX_BYTES (1024 * 1024)       /* read at most */
#define XD_BOOTTIME_MAX_MS (24ull * 3600 * 1000)   /* longer: not a measurement */

/* measured[i] for cfg's domain i, 0 when the file has none.  A missing
 * file is no error (all 0); -1 with errno if it cannot be read. */
int xd_boottimes_read(const char *state_dir, const struct xd_config *cfg, uint64_t *measured);

/* Replace the file with the domains whose measured[i] is not 0. */
int xd_boottimes_write(const char *state_dir, const struct xd_config *cfg,
		       const uint64_t *measured);

/* `--plan` and `xendomctl plan` with start_order = critical-path: text
 * (consumed) followed by the expected makespan with the weights of the
 * file as it is now (an unreadable file: every domain unmeasured).
 * NULL with errno on failure. */
char *xd_boottimes_plan_text(char *text, const struct xd_config *cfg, const struct xd_plan *p);

#endif
