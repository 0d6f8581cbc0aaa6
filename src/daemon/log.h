/* SPDX-License-Identifier: ISC */
/*
 * The daemon's log.  Every line may name a domain (and its domid).
 *
 * Foreground (-f): one line per entry on stderr, prefixed with the time
 * since the daemon started, e.g. "[   2.153] db(5): state booting -> running".
 * Otherwise: the journal, with DOMAIN=, DOMID= and PRIORITY= fields (when
 * built with libsystemd), else syslog(3).
 *
 * Messages are made single-line and printable here (control characters
 * become '?'): they may carry hook output or guest-written values.
 */
#ifndef XD_LOG_H
#define XD_LOG_H

#include <stdbool.h>
#include <stdint.h>

#include "util/log.h"

/* start_ms: the daemon's start on xd_loop_clock(); verbosity >= 1 shows
 * debug lines. */
void xd_log_open(bool foreground, int verbosity, uint64_t start_ms);
void xd_log_close(void);
/* Write out buffered foreground lines (called after every loop iteration). */
void xd_log_flush(void);

#endif
