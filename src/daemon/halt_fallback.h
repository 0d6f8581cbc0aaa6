/* SPDX-License-Identifier: ISC */
/*
 * xendomd --halt-fallback: the unit's ExecStopPost.  If the daemon died
 * while the host was halting (kill -9, a crash), or never ran, the guests
 * would be killed by the power-off.  This mode finishes the host-shutdown
 * sequence instead: a fresh daemon that adopts the running domains and
 * stops them as the configuration says, bounded in time.  It does nothing
 * when the host is not halting (systemctl stop/restart, package removal:
 * guests stay), or when the daemon completed the sequence this boot.
 *
 * Completion is recorded in a marker file, <state_dir>/host-shutdown-done,
 * holding the kernel's boot id: the daemon removes it when it starts and
 * writes it when "host shutdown done" ends a halt.  A marker from an
 * earlier boot (state_dir persists) does not count.
 */
#ifndef XD_HALT_FALLBACK_H
#define XD_HALT_FALLBACK_H

#include <stdbool.h>
#include <stddef.h>

#include "core/config.h"
#include "daemon/hoststate.h"

#define XD_HALT_MARKER "host-shutdown-done"
#define XD_BOOT_ID_PATH "/proc/sys/kernel/random/boot_id"

/* The daemon's side: clear at start, write when the halt's sequence is
 * done.  They log (xd_log) what fails; a failed write only means the
 * fallback will run the (by then empty) sequence again. */
void xd_halt_marker_clear(const char *state_dir);
int xd_halt_marker_write(const char *state_dir, const char *boot_id_path);

struct xd_fallback_check {
	const struct xd_host_probe *probe;
	bool assume_halting;         /* the sim backend: a stop is always a halt */
	const char *state_dir;
	const char *boot_id_path;    /* XD_BOOT_ID_PATH; tests give another */
};

/* Whether the fallback must run the sequence; why gets a sentence. */
bool xd_halt_fallback_needed(const struct xd_fallback_check *c, char *why, size_t len);

/* How long the fallback may take, in seconds: every domain's
 * shutdown_timeout one after the other, plus room for destroys. */
unsigned xd_halt_fallback_bound_s(const struct xd_config *cfg);

/* The --halt-fallback entry point before the daemon runs: loads config
 * as the daemon's start does (degraded: a domain with a configuration
 * error fails alone, the others are still stopped; explicit_path: -c was
 * given, so a missing file is an error), decides (messages on stderr,
 * which the journal keeps for ExecStopPost).  Returns -1 when the
 * sequence must run (an alarm(2) then bounds the process), else the exit
 * code: 0 nothing to do, 1 error, 2 the configuration cannot be read. */
int xd_halt_fallback_prepare(const char *config_path, bool explicit_path, bool sim);

#endif
