/* SPDX-License-Identifier: ISC */
/* libxl's xentoollog messages into util/log.h; error lines also feed the
 * recent-errors ring that failed ops take their reason from (libxl_int.h). */
#include "hv/libxl/libxl_int.h"

#include <stdarg.h>

static enum xd_log_level xtl_level(xentoollog_level l)
{
	if (l >= XTL_ERROR) return XD_LOG_ERR;
	if (l == XTL_WARN) return XD_LOG_WARNING;
	if (l == XTL_NOTICE) return XD_LOG_NOTICE;
	return XD_LOG_INFO;
}

static void lg_vmessage(xentoollog_logger *l, xentoollog_level level, int errnoval,
			const char *context, const char *fmt, va_list ap)
{
	(void)context;
	struct hv_libxl *x = ((struct xlb_logger *)l)->x;
	/* Below INFO libxl narrates every XenStore access: not for a log. */
	if (level < XTL_INFO)
		return;
	char buf[HV_MSG_MAX];
	int n = vsnprintf(buf, sizeof(buf), fmt, ap);
	if (errnoval >= 0 && n >= 0 && (size_t)n < sizeof(buf))
		snprintf(buf + n, sizeof(buf) - (size_t)n, ": %s", strerror(errnoval));
	if (level >= XTL_ERROR)
		xlb_errlog_add(&x->errs, buf);
	xd_log_msg(xtl_level(level), NULL, xlb_errlog_domid(buf), buf);
}

static void lg_destroy(xentoollog_logger *l)
{
	(void)l;                 /* embedded in struct hv_libxl */
}

xentoollog_logger *xlb_logger_init(struct hv_libxl *x)
{
	x->lg = (struct xlb_logger){ .vtable = { .vmessage = lg_vmessage, .destroy = lg_destroy },
				     .x = x };
	return &x->lg.vtable;
}
