/* SPDX-License-Identifier: ISC */
/*
 * Call timings: how often a named call ran and how long it took at most,
 * for the synchronous calls an event loop makes (the libxl backend's
 * libxl and libxenstore calls), so that their worst case is measured
 * where they run (the lab), not guessed.  Names are string literals.
 */
#ifndef XD_UTIL_CALLSTAT_H
#define XD_UTIL_CALLSTAT_H

#include <stddef.h>
#include <stdint.h>

#define XD_CALLSTAT_MAX 64

struct xd_callstat {
	const char *name;
	uint64_t n, total_us, max_us;
};

struct xd_callstats {
	struct xd_callstat v[XD_CALLSTAT_MAX];
	size_t n;
};

/* Monotonic microseconds. */
uint64_t xd_callstat_clock_us(void);
/* Count one call of name that started at t0_us (from xd_callstat_clock_us). */
void xd_callstat_add(struct xd_callstats *s, const char *name, uint64_t t0_us);
/* One line per name, longest worst case first, through out(). */
void xd_callstats_report(const struct xd_callstats *s, void (*out)(const char *line));

#endif
