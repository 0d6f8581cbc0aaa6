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

#include "core/engine.h"         /* enum xd_log_level */

#define XD_LOG_LINE_MAX 2048     /* longer messages are cut */

/* start_ms: the daemon's start on xd_loop_clock(); verbosity >= 1 shows
 * debug lines. */
void xd_log_open(bool foreground, int verbosity, uint64_t start_ms);
void xd_log_close(void);
/* Write out buffered foreground lines (called after every loop iteration). */
void xd_log_flush(void);

bool xd_log_enabled(enum xd_log_level lvl);
/* domain may be NULL; domid < 0 = none. */
void xd_log_msg(enum xd_log_level lvl, const char *domain, long domid, const char *msg);
void xd_log(enum xd_log_level lvl, const char *domain, long domid, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#endif
