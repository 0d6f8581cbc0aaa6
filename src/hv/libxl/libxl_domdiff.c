/* SPDX-License-Identifier: ISC */
/* Re-list-and-diff of watched domains (libxl_domdiff.h). */
#include "hv/libxl/libxl_domdiff.h"

#include <stdlib.h>
#include <string.h>

static long find(const struct xlb_domdiff *d, uint32_t domid)
{
	for (size_t i = 0; i < d->n; i++)
		if (d->v[i].domid == domid)
			return (long)i;
	return -1;
}

bool xlb_domdiff_watching(const struct xlb_domdiff *d, uint32_t domid)
{
	return find(d, domid) >= 0;
}

int xlb_domdiff_watch(struct xlb_domdiff *d, uint32_t domid)
{
	if (find(d, domid) >= 0)
		return 0;
	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 16;
		struct xlb_watched *v = realloc(d->v, cap * sizeof(*v));
		if (!v)
			return -1;
		d->v = v;
		d->cap = cap;
	}
	d->v[d->n++] = (struct xlb_watched){ .domid = domid };
	return 0;
}

static void drop(struct xlb_domdiff *d, size_t i)
{
	d->v[i] = d->v[--d->n];
}

void xlb_domdiff_unwatch(struct xlb_domdiff *d, uint32_t domid)
{
	long i = find(d, domid);
	if (i >= 0)
		drop(d, (size_t)i);
}

void xlb_domdiff_free(struct xlb_domdiff *d)
{
	free(d->v);
	*d = (struct xlb_domdiff){ 0 };
}

/* Returns false when w died (and must be dropped). */
static bool apply(struct xlb_watched *w, const struct xlb_domstate *st,
		  xlb_domdiff_emit_fn *emit, void *arg)
{
	bool same = st && !(w->uuid_known && memcmp(w->uuid, st->uuid, 16) != 0);
	if (!same || st->dying) {
		emit(arg, HV_EV_DEATH, w->domid, HV_SD_UNKNOWN);
		return false;
	}
	if (!w->uuid_known) {
		memcpy(w->uuid, st->uuid, 16);
		w->uuid_known = true;
	}
	if (st->shutdown && !w->shutdown_reported) {
		w->shutdown_reported = true;
		emit(arg, HV_EV_SHUTDOWN, w->domid, st->reason);
	} else if (!st->shutdown) {
		w->shutdown_reported = false;
	}
	return true;
}

void xlb_domdiff_check(struct xlb_domdiff *d, uint32_t domid, const struct xlb_domstate *st,
		      xlb_domdiff_emit_fn *emit, void *arg)
{
	long i = find(d, domid);
	if (i >= 0 && !apply(&d->v[i], st, emit, arg))
		drop(d, (size_t)i);
}

static const struct xlb_domstate *lookup(const struct xlb_domstate *cur, size_t n, uint32_t domid)
{
	for (size_t i = 0; i < n; i++)
		if (cur[i].domid == domid)
			return &cur[i];
	return NULL;
}

void xlb_domdiff_update(struct xlb_domdiff *d, const struct xlb_domstate *cur, size_t n,
		       xlb_domdiff_emit_fn *emit, void *arg)
{
	for (size_t i = 0; i < d->n;) {
		if (apply(&d->v[i], lookup(cur, n, d->v[i].domid), emit, arg))
			i++;
		else
			drop(d, i);
	}
}
