/* SPDX-License-Identifier: ISC */
/*
 * Is the host halting?  Decides what a SIGTERM means (xendomd(8), Host halt):
 *
 *  - under systemd, SIGTERM arrives both at host halt and at
 *    `systemctl stop/restart xendomd`.  Only the first may touch guests,
 *    so the manager's SystemState is read over sd-bus: "stopping" means
 *    the host is going down; anything else means only the service stops
 *    and the guests are left running (the next instance adopts them);
 *  - without systemd (NetBSD rc.d, sysvinit) the rc script's `stop` is
 *    the halt path, as it was for xendomains: SIGTERM means halt;
 *  - when the state cannot be read the host is assumed to be halting:
 *    a needless clean shutdown of the guests is recoverable, guests
 *    killed by a power-off are not.  The reason says so in the log.
 *
 * The state source is a function so tests can feed any answer.
 */
#ifndef XD_HOSTSTATE_H
#define XD_HOSTSTATE_H

#include <stdbool.h>
#include <stddef.h>

/* Write the manager's SystemState ("running", "stopping", ...) into buf.
 * Returns 0, or -1 with a sentence in buf saying why it is unknown. */
typedef int xd_system_state_fn(void *arg, char *buf, size_t len);

struct xd_host_probe {
	bool systemd;                /* the host runs systemd as its manager */
	xd_system_state_fn *read;    /* used when systemd is true */
	void *arg;
};

/* The probe of this host: systemd when this is a systemd build and
 * sd_booted(), reading SystemState over D-Bus. */
void xd_host_probe_default(struct xd_host_probe *p);

/* The D-Bus reader itself: systemd's private socket
 * (/run/systemd/private, root only, alive until the very end of a
 * shutdown), then the system bus.  -1 without libsystemd. */
int xd_system_state_dbus(void *arg, char *buf, size_t len);

/* True when a SIGTERM now means "the host halts: run the host-shutdown
 * sequence"; why gets a sentence for the log either way. */
bool xd_host_halting(const struct xd_host_probe *p, char *why, size_t len);

#endif
