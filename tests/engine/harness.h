/* SPDX-License-Identifier: ISC */
/*
 * Test harness for the engine: a configuration built in C, the simulated
 * hypervisor, and a virtual clock that jumps from deadline to deadline, so
 * minutes of orchestration run in milliseconds and every run is the same.
 * Every state change is recorded for the assertions.
 */
#ifndef XD_TEST_HARNESS_H
#define XD_TEST_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/config.h"
#include "core/engine.h"
#include "core/timer.h"
#include "core/hv_port.h"

struct rec {
	uint64_t t;
	size_t slot;
	char name[XD_NAME_MAX];
	enum xd_state state;
	long domid;
	char reason[XD_REASON_MAX];
};

struct h {
	struct xd_config *cfg;
	struct xd_timers timers;
	struct hv *hv;
	struct xd_engine *e;
	struct rec *recs;
	size_t n_recs, cap_recs;
	unsigned settled, down;
	unsigned max_starting;       /* most domains in STARTING/RESTORING at once */
	unsigned max_stopping;       /* most in STOPPING/SAVING/MIGRATING at once */
	char dir[64];                /* temp dir: scenario, save_dir */
	char scenario[8192];         /* sim scenario text, written at h_start */
	size_t n_hooks;
};

/* Config building: defaults as the loader gives them. */
struct h *h_new(void);
size_t h_dom(struct h *h, const char *name);           /* add a domain; returns its index */
struct xd_domain_cfg *h_cfg(struct h *h, const char *name);
void h_requires(struct h *h, const char *dom, const char *on);
void h_after(struct h *h, const char *dom, const char *on);
void h_sim(struct h *h, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Create the sim and the engine (after all h_dom calls). */
void h_start(struct h *h);
/* Boot: adopt + boot, then run until settled (or limit_ms of virtual time). */
void h_boot(struct h *h, uint64_t limit_ms);
/* Run the clock until cond(h) holds or limit_ms of virtual time passes. */
bool h_run_until(struct h *h, bool (*cond)(struct h *), uint64_t limit_ms);
void h_run_for(struct h *h, uint64_t ms);
bool h_is_down(struct h *h);
bool h_is_settled(struct h *h);
void h_free(struct h *h);

/* Queries over the record. */
uint64_t h_first(const struct h *h, const char *name, enum xd_state s);   /* XD_NEVER if never */
uint64_t h_last(const struct h *h, const char *name, enum xd_state s);
unsigned h_count(const struct h *h, const char *name, enum xd_state s);
enum xd_state h_state(const struct h *h, const char *name);
const char *h_reason(const struct h *h, const char *name);
long h_domid(const struct h *h, const char *name);
size_t h_index(const struct h *h, const char *name);
/* Number of domains the hypervisor has with this name. */
unsigned h_hv_count(struct h *h, const char *name);

#endif
