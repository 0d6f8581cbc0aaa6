/* SPDX-License-Identifier: ISC */
/* What every backend shares: the event queue and the names of things. */
#include "core/hv_port.h"

#include <stdlib.h>

#include "util/alloc.h"

void hv_init(struct hv *hv, const struct hv_ops *ops)
{
	*hv = (struct hv){ .ops = ops };
}

void hv_fini(struct hv *hv)
{
	free(hv->q.v);
	hv->q = (struct hv_queue){ 0 };
}

void hv_emit(struct hv *hv, const struct hv_event *ev)
{
	struct hv_queue *q = &hv->q;
	if (q->n == q->cap) {
		size_t cap = q->cap ? q->cap * 2 : 64;
		/* Losing an event would desynchronise the core from the
		 * hypervisor: out of memory here is the program's one policy. */
		struct hv_event *v = xd_reallocarray(NULL, cap, sizeof(*v));
		for (size_t i = 0; i < q->n; i++)
			v[i] = q->v[(q->head + i) % q->cap];
		free(q->v);
		q->v = v;
		q->head = 0;
		q->cap = cap;
	}
	q->v[(q->head + q->n) % q->cap] = *ev;
	q->n++;
}

bool hv_next_event(struct hv *hv, struct hv_event *out)
{
	struct hv_queue *q = &hv->q;
	if (!q->n)
		return false;
	*out = q->v[q->head];
	q->head = (q->head + 1) % q->cap;
	q->n--;
	return true;
}

const char *hv_strerror(int rc)
{
	switch (rc) {
	case 0: return "success";
	case HV_ENOPV: return "no PV control (guest drivers not up)";
	case HV_ENOENT: return "no such domain, key or file";
	case HV_ENOMEM: return "not enough memory";
	case HV_ECANCELED: return "cancelled";
	case HV_EBADIMG: return "not a valid save image";
	case HV_ETOOBIG: return "value too long";
	case HV_EINDOUBT: return "in doubt: contact lost after the permission to go";
	default: return "failed";
	}
}

const char *hv_reason_name(enum hv_reason r)
{
	switch (r) {
	case HV_SD_POWEROFF: return "poweroff";
	case HV_SD_REBOOT: return "reboot";
	case HV_SD_SUSPEND: return "suspend";
	case HV_SD_CRASH: return "crash";
	case HV_SD_WATCHDOG: return "watchdog";
	case HV_SD_SOFT_RESET: return "soft_reset";
	default: return "unknown";
	}
}
