/* SPDX-License-Identifier: ISC */
/*
 * The simulated hypervisor: an in-process backend of the port in
 * core/hv_port.h for tests, demos and benchmarks.  It runs on the caller's
 * timer queue, so on a virtual clock it is fully deterministic.  The
 * scenario format and the exact semantics follow.
 *
 * The hv_sim_* functions below are the test-facing side: they let a test
 * inspect the simulated host and act as a guest would.  Each takes the
 * struct hv returned by hv_sim_new() and aborts if given another backend.
 *
 * Scenario file (INI, inih; `;` and `#` comments).  Unknown sections or
 * keys and bad values are errors reported as FILE:LINE: message.  A key
 * or section given again adds to / overrides what came before (the last
 * value wins), so a test can append overrides to a base scenario.
 * inih limits a [section] header to 48 characters (longer is an error).
 *
 *   [sim]
 *   free_memory_mb  = 65536  free host memory at start (MiB)
 *
 *   [domain NAME]            NAME as in its xl cfg; domains not listed
 *                            get every default
 *   create_ms       = 200    how long a create takes
 *   fail_creates    = 0      the first N create attempts fail
 *   ready_ms        = 0      after each unpause, when the guest writes
 *                            data/ready=1 and, with pv_drivers, its PV
 *                            driver keys control/feature-{poweroff,reboot,
 *                            suspend}=1 (the drivers are up from then on)
 *   pv_drivers      = yes    no: shutdown requests are refused with
 *                            HV_ENOPV (an HVM guest without drivers); only
 *                            the ACPI power button works
 *   shutdown_ms     = 100    time from an acknowledged shutdown request
 *                            (or the power button) to power-off;
 *                            -1 = the guest ignores them
 *   save_ms         = 100    how long a save takes; -1 = it never ends
 *                            (only cancel or a destroy end it)
 *   crash_after_ms  = 0      crash this long after every unpause (0 = never)
 *   reboot_after_ms = 0      ask for a reboot this long after every unpause
 *                            (0 = never)
 *   running         = no     yes: already running when the sim starts
 *                            (for adoption); memory from the xl cfg in the
 *                            configuration passed to hv_sim_new (128 MiB if
 *                            absent); domids in scenario order from 1
 *   arrive_ms       = 0      appear, running and ready, this long after the
 *                            start, as a guest created by hand or migrated
 *                            here would; no event tells the core (0 = never)
 *   Extensions, for failure paths:
 *   fail_saves      = 0      the first N saves fail (the guest is resumed)
 *   fail_restores   = 0      the first N restores fail
 *   restore_ms      = save_ms  how long a restore takes (100 when
 *                            save_ms = -1)
 *   migrate_ms      = 200    how long a live migration copies memory before
 *                            the guest suspends; -1 = it never ends (only
 *                            cancel or a destroy end it)
 *   fail_migrates   = 0      the first N migrations fail before the go
 *                            (the guest is resumed here)
 *   fail_migrates_after_go = 0  then the first N lose contact after the go
 *                            (HV_EINDOUBT: the domain stays suspended here)
 *   hvm             = ...    yes|no; default: the xl cfg's type, and always
 *                            yes when pv_drivers = no (a PV guest always
 *                            has PV control, so hvm = no with pv_drivers =
 *                            no is an error)
 *   A hostile or buggy guest, scripted XenStore writes (from every unpause
 *   until the guest shuts down, a `running` one from the start; a restored
 *   guest writes too):
 *   xs_write_key    = (none) PATH relative to /local/domain/<domid>/ (under
 *                            2048 bytes, no leading /): the key the guest
 *                            writes; needs xs_write_hz or xs_flap_ms
 *   xs_write_hz     = 0      rewrite the key N times a second (1..1000),
 *                            every 1000/N ms (integer division), the first
 *                            write one interval after the unpause
 *   xs_write_value  = (empty) the value written (at most 4096 bytes)
 *   xs_write_len    = 0      instead: a value of N bytes (at most 4096)
 *                            running through every byte value but NUL:
 *                            1, 2, ... 255, 1, 2, ...
 *   xs_flap_ms      = 0      the key appears and disappears: xs_flap_ms
 *                            after the unpause it is written, xs_flap_ms
 *                            later removed (with the keys below it; the
 *                            watches fire), and so on; with xs_write_hz
 *                            the rewrites happen only while it exists
 *   Each write is subject to XenStore's limits (hv_sim_guest_write) and
 *   counted in hv_sim_counts.xs_writes.
 *
 * Semantics, as real Xen/libxl show them through the port:
 *  - Nothing completes inside the call that starts it: every OP_DONE is
 *    queued from a timer, at +0 ms for the quick operations.  Events are
 *    only queued (hv_emit).  Equal deadlines fire in arming order, so a
 *    run on the virtual clock is deterministic.
 *  - create: after create_ms the domain exists, paused, with a new domid
 *    (1, 2, ... never reused; only successful builds use one) and takes its memory (memory_mb of the cfg)
 *    from the free pool.  It fails (OP_DONE rc < 0, nothing left behind)
 *    while fail_creates remain ("simulated create failure (k of N)"), when
 *    free memory is short then (HV_ENOMEM, "need X MiB, free Y MiB"), or
 *    when a domain of that name exists (at the start or at the end).
 *    libxl creates the guest-writable nodes empty: control/shutdown,
 *    control/feature-{poweroff,reboot,suspend}, control/sysrq, data (and
 *    control/feature-s3/s4 on HVM), so a key that "exists" is not a sign
 *    of readiness.  "name" holds the domain's name.
 *  - unpause: the guest runs from the call; OP_DONE at +0.  ready_ms,
 *    crash_after_ms and reboot_after_ms count from every unpause.
 *  - shutdown: libxl's PV control check: an HVM guest has PV control only
 *    once its drivers are up (so early in boot, or with pv_drivers = no,
 *    HV_ENOPV at once); a PV guest always has it.  libxl writes
 *    control/shutdown = "poweroff"; the guest acknowledges (writes "")
 *    once its drivers are up, and OP_DONE(0) follows; shutdown_ms after
 *    the acknowledgement the domain shuts down (POWEROFF), never with
 *    -1.  No acknowledgement within 60 s: OP_DONE(HV_EFAIL), as libxl's
 *    timeout.  OP_DONE means acknowledged, not down.
 *  - power_button (synchronous): HVM only (HV_EFAIL on PV); the guest
 *    powers off after shutdown_ms (never with -1).
 *  - A domain that shut down stays as a husk holding its memory until it
 *    is destroyed; nothing here destroys it.
 *  - destroy: the domain is dying at once; at +0 it is gone (memory back
 *    in the pool, watched keys fire, DEATH if watched) and then OP_DONE.
 *    Operations still running on it end with HV_EFAIL.
 *  - save: a non-live save, as xl's: the guest suspends first (at +0:
 *    shutdown with reason SUSPEND, reported like any shutdown), its image
 *    is written for save_ms and OP_DONE(0) leaves the domain shut down
 *    (SUSPEND) for the caller to destroy.  The image is a real xl save file
 *    (header + JSON config + a minimal libxl stream) written to FILE.tmp,
 *    fsync'ed and renamed (savefile.h).  A failure (fail_saves, an I/O
 *    error) or cancel removes FILE.tmp and resumes the guest: it runs on,
 *    but - as with libxl's evgen - the watch has already reported its one
 *    SHUTDOWN, so a later shutdown is only seen after unwatch_domain +
 *    watch_domain.  What the guest had scheduled (readiness, crash,
 *    reboot, power-off) was dropped by the suspend and does not resume.
 *  - restore: the image is checked in the call (HV_ENOENT / HV_EBADIMG at
 *    once); after restore_ms the domain exists paused, named as in the
 *    image's config, with the memory of its b_info.target_memkb (else the
 *    cfg's).  Same failure rules as create (fail_restores).  Keys under
 *    data/ do not survive a save: a restored guest does not write
 *    data/ready again, only its PV driver keys.
 *  - migrate: as `xl migrate` through the port (no target host is
 *    simulated; the host and command are recorded, see
 *    hv_sim_last_migration).  The guest runs on for migrate_ms (the live
 *    copy), then suspends (shutdown SUSPEND, reported like any shutdown)
 *    and at the same instant: a failure before the go (fail_migrates)
 *    resumes it (HV_EFAIL); otherwise it is renamed NAME--migratedaway and
 *    either loses contact (fail_migrates_after_go: HV_EINDOUBT, left
 *    suspended) or succeeds (0, left suspended for the caller to destroy:
 *    the domain leaves the host).  A cancel before then ends it at +0 with
 *    HV_ECANCELED, the guest running on.  Refused at once (no OP_DONE)
 *    for a domain that is not live; HV_EFAIL for one that is shut down.
 *  - core_dump: writes a small text file at +0.  rename: synchronous; the
 *    guest keeps its scenario behaviour and counts (hv_sim_counts) under
 *    the name it was built with.
 *  - cancel: a create, restore or save in flight ends at +0 with
 *    HV_ECANCELED; anything else is too late and completes normally.
 *  - watch_domain: SHUTDOWN at most once per watch, DEATH once; a domain
 *    already shut down is reported at once, and a domid that existed and
 *    is gone gets DEATH.  watch_key: one KEY event at once, then one per
 *    change of the key or a key below it (event path = the watched path).
 *  - read_key: HV_ENOENT, or HV_ETOOBIG when value + NUL exceed the buffer
 *    (nothing is written to it then).  Counted in hv_sim_counts.key_reads.
 *  - mem_need = memory_mb * 1024; mem_free = the free pool; list = every
 *    domain that exists, dying ones included, by domid.
 *  - data/ready is written at ready_ms even with pv_drivers = no (the
 *    scenario's simplification: a guest agent without PV drivers).
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
	unsigned destroys, saves, core_dumps, migrates;
	unsigned key_reads;              /* read_key calls on an existing domain */
	unsigned xs_writes;              /* the scenario's scripted writes done */
};
struct hv_sim_counts hv_sim_counts(struct hv *hv, const char *name);

/* The host, command and liveness of name's last migration (false if
 * none yet). */
bool hv_sim_last_migration(struct hv *hv, const char *name, const char **host,
			   const char **command, bool *live);

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

/* A domain called name appears, unpaused and ready, as one that `xl
 * create` or an incoming migration (`xl migrate-receive`) made behind the
 * core's back: no event tells the core.  Its domid, or HV_EFAIL when the
 * name is taken or memory is short. */
int hv_sim_arrive(struct hv *hv, const char *name, uint64_t mem_kb);

/* Set the free pool (what mem_free reports and creates take from). */
void hv_sim_set_free_kb(struct hv *hv, uint64_t kb);
/* Operations started and not yet completed (OP_DONE not yet queued). */
size_t hv_sim_ops_in_flight(struct hv *hv);

#endif
