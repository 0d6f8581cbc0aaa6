/* SPDX-License-Identifier: ISC */
#include "util/log.h"
#include "util/escape.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct {
	xd_log_sink_fn *sink;
	void *ctx;
	int verbosity;
} lg;

void xd_log_set_sink(xd_log_sink_fn *sink, void *ctx, int verbosity)
{
	lg.sink = sink;
	lg.ctx = ctx;
	lg.verbosity = verbosity;
}

bool xd_log_enabled(enum xd_log_level lvl)
{
	return lvl != XD_LOG_DEBUG || lg.verbosity > 0;
}

/* Nothing to escape: printable ASCII, or a tab (a hook's output keeps
 * its columns). */
static bool plain_ascii(const char *s)
{
	for (; s && *s; s++)
		if (((unsigned char)*s < 0x20 && *s != '\t') || (unsigned char)*s >= 0x7f)
			return false;
	return true;
}

/* Lines quote names, values and guest-written text: whatever control
 * bytes they carry are escaped here, before any sink sees them. */
void xd_log_msg(enum xd_log_level lvl, const char *domain, long domid, const char *msg)
{
	if (!xd_log_enabled(lvl))
		return;
	char *safe_msg = NULL, *safe_dom = NULL;
	if (!plain_ascii(msg))
		msg = safe_msg = xd_escape(msg);
	if (!plain_ascii(domain))
		domain = safe_dom = xd_escape(domain);
	if (lg.sink)
		lg.sink(lg.ctx, lvl, domain, domid, msg);
	else if (domain)
		fprintf(stderr, "xendomd: %s: %s\n", domain, msg);
	else
		fprintf(stderr, "xendomd: %s\n", msg);
	free(safe_msg);
	free(safe_dom);
}

static void vlog(enum xd_log_level lvl, int errnum, const char *fmt, va_list ap)
{
	if (!xd_log_enabled(lvl))
		return;
	char buf[XD_LOG_LINE_MAX];
	int n = vsnprintf(buf, sizeof(buf), fmt, ap);
	if (errnum && n >= 0 && (size_t)n < sizeof(buf))
		snprintf(buf + n, sizeof(buf) - (size_t)n, ": %s", strerror(errnum));
	xd_log_msg(lvl, NULL, -1, buf);
}

void xd_log(enum xd_log_level lvl, const char *domain, long domid, const char *fmt, ...)
{
	if (!xd_log_enabled(lvl))
		return;
	char buf[XD_LOG_LINE_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	xd_log_msg(lvl, domain, domid, buf);
}

#define XD_LOG_FORM(fn, lvl, with_errno)                    \
	void fn(const char *fmt, ...)                       \
	{                                                   \
		int e = errno;                              \
		va_list ap;                                 \
		va_start(ap, fmt);                          \
		vlog(lvl, (with_errno) ? e : 0, fmt, ap);   \
		va_end(ap);                                 \
		errno = e;                                  \
	}

XD_LOG_FORM(log_warn, XD_LOG_WARNING, 1)
XD_LOG_FORM(log_warnx, XD_LOG_WARNING, 0)
XD_LOG_FORM(log_notice, XD_LOG_NOTICE, 0)
XD_LOG_FORM(log_info, XD_LOG_INFO, 0)
XD_LOG_FORM(log_debug, XD_LOG_DEBUG, 0)

void fatal(const char *fmt, ...)
{
	int e = errno;
	va_list ap;
	va_start(ap, fmt);
	vlog(XD_LOG_ERR, e, fmt, ap);
	va_end(ap);
	exit(1);
}

void fatalx(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vlog(XD_LOG_ERR, 0, fmt, ap);
	va_end(ap);
	exit(1);
}
