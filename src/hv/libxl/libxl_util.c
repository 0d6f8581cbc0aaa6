/* SPDX-License-Identifier: ISC */
/* Pure helpers of the libxl backend (libxl_util.h). */
#include "hv/libxl/libxl_util.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "util/alloc.h"

long xlb_errlog_domid(const char *msg)
{
	for (const char *p = strstr(msg, "Domain "); p; p = strstr(p + 1, "Domain ")) {
		char *end;
		const char *num = p + strlen("Domain ");
		if (!isdigit((unsigned char)*num))
			continue;
		unsigned long v = strtoul(num, &end, 10);
		if (*end == ':' && v < 0x7ff0)       /* DOMID_FIRST_RESERVED */
			return (long)v;
	}
	return -1;
}

void xlb_errlog_add(struct xlb_errlog *l, const char *msg)
{
	l->seq++;
	size_t slot = l->seq % XLB_ERRLOG_N;
	l->e[slot].seq = l->seq;
	l->e[slot].domid = xlb_errlog_domid(msg);
	snprintf(l->e[slot].msg, sizeof(l->e[slot].msg), "%s", msg);
}

/* The oldest of the unattributed lines logged just before seq (after
 * since): libxl's first word on a failure is usually its cause, the line
 * naming the domain only its generic consequence. */
static long cause_before(const struct xlb_errlog *l, uint64_t seq, uint64_t since)
{
	long cause = -1;
	for (uint64_t s = seq - 1; s > since && s + XLB_ERRLOG_N > l->seq; s--) {
		size_t slot = s % XLB_ERRLOG_N;
		if (l->e[slot].seq != s || l->e[slot].domid >= 0)
			break;
		cause = (long)slot;
	}
	return cause;
}

bool xlb_errlog_pick(const struct xlb_errlog *l, long domid, uint64_t since, char *out, size_t len)
{
	long fallback = -1;
	for (uint64_t s = l->seq; s > since && s + XLB_ERRLOG_N > l->seq; s--) {
		size_t slot = s % XLB_ERRLOG_N;
		if (l->e[slot].seq != s)
			break;
		if (domid >= 0 && l->e[slot].domid == domid) {
			long cause = cause_before(l, s, since);
			if (cause >= 0)
				snprintf(out, len, "%s (%s)", l->e[cause].msg, l->e[slot].msg);
			else
				snprintf(out, len, "%s", l->e[slot].msg);
			return true;
		}
		if (fallback < 0 && l->e[slot].domid < 0)
			fallback = (long)slot;
	}
	if (fallback < 0)
		return false;
	snprintf(out, len, "%s", l->e[fallback].msg);
	return true;
}

static bool cmdline_pins_dom0_mem(const char *cmdline)
{
	for (const char *p = cmdline ? strstr(cmdline, "dom0_mem=") : NULL; p;
	     p = strstr(p + 1, "dom0_mem="))
		if (p == cmdline || p[-1] == ' ')
			return true;
	return false;
}

int xlb_autoballoon(const char *value, const char *xen_cmdline)
{
	if (!value || !strcmp(value, "auto"))
		return !cmdline_pins_dom0_mem(xen_cmdline);
	if (!strcmp(value, "on") || !strcmp(value, "1"))
		return 1;
	if (!strcmp(value, "off") || !strcmp(value, "0"))
		return 0;
	return -1;
}

bool xlb_relpath_ok(const char *p)
{
	return xd_xenstore_relpath_problem(p) == NULL;
}

void xlb_dying_add(struct xlb_dying *d, uint32_t domid, const uint8_t uuid[16])
{
	for (size_t i = 0; i < d->n; i++) {
		if (d->v[i].domid == domid) {
			memcpy(d->v[i].uuid, uuid, 16);
			return;
		}
	}
	XD_GROW(d->v, d->n, d->cap);
	d->v[d->n].domid = domid;
	memcpy(d->v[d->n++].uuid, uuid, 16);
}

size_t xlb_dying_prune(struct xlb_dying *d, xlb_dying_lookup_fn *lookup, void *arg)
{
	size_t j = 0;
	for (size_t i = 0; i < d->n; i++) {
		uint8_t now[16];
		int r = lookup(arg, d->v[i].domid, now);
		bool gone = r == 0 || (r == 1 && memcmp(now, d->v[i].uuid, 16) != 0);
		if (!gone)
			d->v[j++] = d->v[i];
	}
	d->n = j;
	return j;
}

void xlb_dying_free(struct xlb_dying *d)
{
	free(d->v);
	*d = (struct xlb_dying){ 0 };
}
