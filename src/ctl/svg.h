/* SPDX-License-Identifier: ISC */
/*
 * `xendomctl timeline --svg FILE`: a Gantt chart of the last boot, one
 * row per domain with three segments -- waiting (queued -> started),
 * creating (started -> created), booting (created -> ready) -- on a
 * common time axis, as a standalone SVG file any browser shows.
 */
#ifndef XD_CTL_SVG_H
#define XD_CTL_SVG_H

#include <jansson.h>
#include <stdio.h>

/* domains: the "domains" array of a timeline reply.  Domains never
 * queued are left out.  Returns 0, or -1 on a write error. */
int svg_timeline(json_t *domains, FILE *out);

#endif
