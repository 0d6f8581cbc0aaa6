/* SPDX-License-Identifier: ISC */
/* The daemon's log (log.h). */
#include "daemon/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "core/config.h"         /* XD_NAME_MAX */
#include "evloop/loop.h"
#include "xd_build.h"

#if HAVE_SYSTEMD
#include <sys/uio.h>
#include <systemd/sd-journal.h>
#endif

static struct {
	bool foreground;
	uint64_t start_ms;
	bool syslog_open;
} lg = { .foreground = true };

static void log_sink(void *ctx, enum xd_log_level lvl, const char *domain, long domid,
		     const char *msg);

void xd_log_open(bool foreground, int verbosity, uint64_t start_ms)
{
	lg.foreground = foreground;
	lg.start_ms = start_ms;
	xd_log_set_sink(log_sink, NULL, verbosity);
	/* Into a file or pipe, lines are written a loop iteration at a time
	 * (xd_log_flush), not one write(2) each: at 10,000 domains that is
	 * the difference between a few writes and sixty thousand. */
	if (foreground && !isatty(STDERR_FILENO))
		setvbuf(stderr, NULL, _IOFBF, 1 << 16);
}

void xd_log_flush(void)
{
	if (lg.foreground)
		fflush(stderr);
}

void xd_log_close(void)
{
	xd_log_flush();
	xd_log_set_sink(NULL, NULL, 0);
	if (lg.syslog_open)
		closelog();
	lg.syslog_open = false;
}

static int syslog_priority(enum xd_log_level lvl)
{
	switch (lvl) {
	case XD_LOG_ERR: return LOG_ERR;
	case XD_LOG_WARNING: return LOG_WARNING;
	case XD_LOG_NOTICE: return LOG_NOTICE;
	case XD_LOG_INFO: return LOG_INFO;
	case XD_LOG_DEBUG: return LOG_DEBUG;
	}
	return LOG_INFO;
}

static const char *level_prefix(enum xd_log_level lvl)
{
	switch (lvl) {
	case XD_LOG_ERR: return "error: ";
	case XD_LOG_WARNING: return "warning: ";
	case XD_LOG_DEBUG: return "debug: ";
	default: return "";
	}
}

/* Copy src into dst (size n) as one printable line. */
static void sanitize(char *dst, size_t n, const char *src)
{
	size_t i = 0;
	for (; src[i] && i + 1 < n; i++) {
		unsigned char c = (unsigned char)src[i];
		dst[i] = (c < 0x20 && c != '\t') || c == 0x7f ? '?' : (char)c;
	}
	dst[i] = '\0';
}

/* "db(5): ", "db: " or "". */
static void subject(char *buf, size_t n, const char *domain, long domid)
{
	if (!domain)
		buf[0] = '\0';
	else if (domid >= 0)
		snprintf(buf, n, "%s(%ld): ", domain, domid);
	else
		snprintf(buf, n, "%s: ", domain);
}

static void log_stderr(enum xd_log_level lvl, const char *subj, const char *line)
{
	uint64_t ms = xd_loop_clock() - lg.start_ms;
	fprintf(stderr, "[%4llu.%03llu] %s%s%s\n", (unsigned long long)(ms / 1000),
		(unsigned long long)(ms % 1000), subj, level_prefix(lvl), line);
}

static void log_syslog(enum xd_log_level lvl, const char *subj, const char *line)
{
	if (!lg.syslog_open) {
		openlog("xendomd", LOG_PID | LOG_NDELAY, LOG_DAEMON);
		lg.syslog_open = true;
	}
	syslog(syslog_priority(lvl), "%s%s", subj, line);
}

#if HAVE_SYSTEMD
/* One journal field; the buffers are sized so nothing is ever cut. */
__attribute__((format(printf, 4, 5)))
static void field(struct iovec *iov, char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	iov->iov_base = buf;
	iov->iov_len = n < 0 ? 0 : (size_t)n < size ? (size_t)n : size - 1;
}

static int log_journal(enum xd_log_level lvl, const char *domain, long domid,
		       const char *subj, const char *line)
{
	char msg[XD_LOG_LINE_MAX + 128], prio[32], dom[XD_NAME_MAX + 16], id[48];
	struct iovec iov[5];
	int n = 0;
	field(&iov[n++], msg, sizeof(msg), "MESSAGE=%s%s", subj, line);
	field(&iov[n++], prio, sizeof(prio), "PRIORITY=%d", syslog_priority(lvl));
	iov[n++] = (struct iovec){ .iov_base = "SYSLOG_IDENTIFIER=xendomd", .iov_len = 25 };
	if (domain)
		field(&iov[n++], dom, sizeof(dom), "DOMAIN=%s", domain);
	if (domid >= 0)
		field(&iov[n++], id, sizeof(id), "DOMID=%ld", domid);
	return sd_journal_sendv(iov, n);
}
#endif

/* The daemon's sink for util/log.h. */
static void log_sink(void *ctx, enum xd_log_level lvl, const char *domain, long domid,
		     const char *msg)
{
	(void)ctx;
	char line[XD_LOG_LINE_MAX], dom[XD_NAME_MAX], subj[XD_NAME_MAX + 32];
	sanitize(line, sizeof(line), msg);
	if (domain)
		sanitize(dom, sizeof(dom), domain);
	subject(subj, sizeof(subj), domain ? dom : NULL, domid);
	if (lg.foreground) {
		log_stderr(lvl, subj, line);
		return;
	}
#if HAVE_SYSTEMD
	/* Not under systemd (no journal socket): fall back to syslog. */
	if (log_journal(lvl, domain ? dom : NULL, domid, subj, line) >= 0)
		return;
#endif
	log_syslog(lvl, subj, line);
}
