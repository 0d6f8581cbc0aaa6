/* SPDX-License-Identifier: ISC */
/*
 * One logging vocabulary for the whole program.  Every line has a level
 * and may name a domain (and its domid).  Where lines go is the sink's
 * business: the daemon installs one (daemon/log.c: stderr, the journal or
 * syslog); before that, and in the command-line modes, lines go to stderr.
 *
 * In the style of OpenBSD's log.c: the *_warn forms append ": " and
 * strerror(errno), the *x forms do not; fatal() and fatalx() log at
 * XD_LOG_ERR and exit(1).
 */
#ifndef XD_UTIL_LOG_H
#define XD_UTIL_LOG_H

#include <stdbool.h>

enum xd_log_level { XD_LOG_ERR, XD_LOG_WARNING, XD_LOG_NOTICE, XD_LOG_INFO, XD_LOG_DEBUG };

#define XD_LOG_LINE_MAX 2048     /* longer messages are cut */

/* domain may be NULL; domid < 0 = none. */
typedef void xd_log_sink_fn(void *ctx, enum xd_log_level lvl, const char *domain, long domid,
			    const char *msg);

/* Install a sink (NULL: back to plain stderr); debug lines pass only with
 * verbosity >= 1. */
void xd_log_set_sink(xd_log_sink_fn *sink, void *ctx, int verbosity);
bool xd_log_enabled(enum xd_log_level lvl);

void xd_log_msg(enum xd_log_level lvl, const char *domain, long domid, const char *msg);
void xd_log(enum xd_log_level lvl, const char *domain, long domid, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_notice(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
_Noreturn void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
_Noreturn void fatalx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
