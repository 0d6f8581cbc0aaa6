/* SPDX-License-Identifier: ISC */
/* Call timings (callstat.h). */
#include "util/callstat.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

uint64_t xd_callstat_clock_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static struct xd_callstat *slot(struct xd_callstats *s, const char *name)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->v[i].name == name || strcmp(s->v[i].name, name) == 0)
			return &s->v[i];
	if (s->n == XD_CALLSTAT_MAX)
		return NULL;
	s->v[s->n].name = name;
	return &s->v[s->n++];
}

void xd_callstat_add(struct xd_callstats *s, const char *name, uint64_t t0_us)
{
	uint64_t t = xd_callstat_clock_us(), d = t > t0_us ? t - t0_us : 0;
	struct xd_callstat *c = slot(s, name);
	if (!c)
		return;
	c->n++;
	c->total_us += d;
	if (d > c->max_us)
		c->max_us = d;
}

static int by_max_desc(const void *a, const void *b)
{
	const struct xd_callstat *x = a, *y = b;
	return x->max_us < y->max_us ? 1 : x->max_us > y->max_us ? -1 : strcmp(x->name, y->name);
}

void xd_callstats_report(const struct xd_callstats *s, void (*out)(const char *line))
{
	struct xd_callstat v[XD_CALLSTAT_MAX];
	memcpy(v, s->v, s->n * sizeof(*v));
	qsort(v, s->n, sizeof(*v), by_max_desc);
	for (size_t i = 0; i < s->n; i++) {
		char line[160];
		snprintf(line, sizeof(line), "call %s: n=%llu max_ms=%.1f mean_ms=%.2f", v[i].name,
			 (unsigned long long)v[i].n, (double)v[i].max_us / 1000.0,
			 (double)v[i].total_us / 1000.0 / (double)(v[i].n ? v[i].n : 1));
		out(line);
	}
}
