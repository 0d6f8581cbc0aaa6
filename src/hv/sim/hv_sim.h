/*
 * The simulated hypervisor: an in-process backend of the port in hv.h
 * for tests, demos and benchmarks.  It runs on the caller's timer queue,
 * so on a virtual clock it is fully deterministic.  The scenario format
 * and the exact semantics are documented at the top of hv_sim.c.
 *
 * The hv_sim_* functions below are the test-facing side: they let a test
 * inspect the simulated host and act as a guest would.  Each takes the
 * struct hv returned by hv_sim_new() and aborts if given another backend.
 */
#ifndef XD_HV_SIM_H
#define XD_HV_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/config.h"
#include "core/timer.h"
#include "core/hv_port.h"

/* scenario_path NULL = every default.  cfg (may be NULL) gives the memory
 * of `running = yes` domains.  Returns NULL with "FILE:LINE: message" in
 * err on a bad scenario.  Free with hv->ops->free(hv); the timers must
 * outlive the sim. */
struct hv *hv_sim_new(const char *scenario_path, const struct xd_config *cfg,
		      struct xd_timers *timers, char *err, size_t errlen);

bool hv_is_sim(const struct hv *hv);

/* Port calls made so far for a domain name (all zero for a name never
 * seen), failed ones included.  A restore counts under the name in the
 * image (one refused as unreadable has none); a renamed domain keeps
 * counting under the name it was built with. */
struct hv_sim_counts {
	unsigned creates, restores, unpauses, shutdowns, power_buttons;
	unsigned destroys, saves, core_dumps;
};
struct hv_sim_counts hv_sim_counts(struct hv *hv, const char *name);

/* The domain called name that exists now (not yet destroyed). */
int hv_sim_find(struct hv *hv, const char *name, struct hv_dominfo *out);
/* Whether the core has a domain watch on domid. */
bool hv_sim_watched(struct hv *hv, uint32_t domid);

/* Act as the guest: write a key under /local/domain/<domid>/ (watches
 * fire).  HV_ENOENT without such a domain, HV_ETOOBIG beyond XenStore's
 * limits (path 2048, value 4096 bytes, 1000 keys per domain). */
int hv_sim_guest_write(struct hv *hv, uint32_t domid, const char *relpath, const char *value);
/* Act as the guest: shut down now with reason (crash, reboot, poweroff,
 * watchdog, soft_reset).  HV_ENOENT without such a running domain. */
int hv_sim_guest_shutdown(struct hv *hv, uint32_t domid, enum hv_reason reason);

/* Set the free pool (what mem_free reports and creates take from). */
void hv_sim_set_free_kb(struct hv *hv, uint64_t kb);
/* Operations started and not yet completed (OP_DONE not yet queued). */
size_t hv_sim_ops_in_flight(struct hv *hv);

#endif
