/* SPDX-License-Identifier: ISC */
/*
 * The scenario's scripted XenStore writes: a guest that rewrites one of
 * its keys at xs_write_hz, with a value of any length and bytes, and/or
 * makes it appear and disappear every xs_flap_ms.  It tests how much a
 * hostile or buggy guest can make the daemon work, on the virtual clock.
 */
#include "hv/sim/sim_int.h"

#include <stdlib.h>

#include "util/alloc.h"

static uint64_t write_interval_ms(const struct sim_script *p)
{
	uint64_t ms = 1000 / p->xs_write_hz;
	return ms ? ms : 1;
}

static void write_once(struct sim_dom *d)
{
	const struct sim_script *p = d->prof->script;
	if (guest_write(d, p->xs_write_key, p->xs_write_value) == 0)
		d->prof->counts.xs_writes++;
}

static void on_write_timer(struct xd_timer *t, void *arg)
{
	struct sim_dom *d = arg;
	if (!d->prof->script->xs_flap_ms || d->writer->present)
		write_once(d);
	arm_in(d->sim, t, write_interval_ms(d->prof->script));
}

/* Every xs_flap_ms the key appears (written once) or disappears. */
static void on_flap_timer(struct xd_timer *t, void *arg)
{
	struct sim_dom *d = arg;
	d->writer->present = !d->writer->present;
	if (d->writer->present)
		write_once(d);
	else
		key_remove(d, d->prof->script->xs_write_key);
	arm_in(d->sim, t, d->prof->script->xs_flap_ms);
}

void writer_start(struct sim_dom *d)
{
	const struct sim_script *p = d->prof->script;
	if (!p)
		return;
	if (!d->writer) {
		d->writer = xd_calloc(1, sizeof(*d->writer));
		xd_timer_init(&d->writer->write_t, on_write_timer, d);
		xd_timer_init(&d->writer->flap_t, on_flap_timer, d);
	}
	writer_stop(d);
	d->writer->present = false;
	if (p->xs_write_hz)
		arm_in(d->sim, &d->writer->write_t, write_interval_ms(p));
	if (p->xs_flap_ms)
		arm_in(d->sim, &d->writer->flap_t, p->xs_flap_ms);
}

void writer_stop(struct sim_dom *d)
{
	if (!d->writer)
		return;
	xd_timer_disarm(d->sim->timers, &d->writer->write_t);
	xd_timer_disarm(d->sim->timers, &d->writer->flap_t);
}
