/* SPDX-License-Identifier: ISC */
/* Is the host halting? (hoststate.h) */
#include "daemon/hoststate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xd_build.h"

#if HAVE_SYSTEMD
#include <systemd/sd-bus.h>
#include <systemd/sd-daemon.h>

#define SYSTEMD_PRIVATE_BUS "unix:path=/run/systemd/private"
#define BUS_TIMEOUT_USEC (5ULL * 1000 * 1000)

static int open_private_bus(sd_bus **out)
{
	sd_bus *bus = NULL;
	int r = sd_bus_new(&bus);
	if (r >= 0)
		r = sd_bus_set_address(bus, SYSTEMD_PRIVATE_BUS);
	if (r >= 0)
		r = sd_bus_start(bus);
	if (r < 0) {
		sd_bus_unref(bus);
		return r;
	}
	*out = bus;
	return 0;
}

static int read_system_state(sd_bus *bus, char *buf, size_t len)
{
	sd_bus_error err = SD_BUS_ERROR_NULL;
	char *state = NULL;
	(void)sd_bus_set_method_call_timeout(bus, BUS_TIMEOUT_USEC);
	int r = sd_bus_get_property_string(bus, "org.freedesktop.systemd1",
					   "/org/freedesktop/systemd1",
					   "org.freedesktop.systemd1.Manager",
					   "SystemState", &err, &state);
	if (r < 0) {
		snprintf(buf, len, "reading SystemState: %s",
			 err.message ? err.message : strerror(-r));
		sd_bus_error_free(&err);
		return -1;
	}
	snprintf(buf, len, "%s", state);
	free(state);
	return 0;
}

int xd_system_state_dbus(void *arg, char *buf, size_t len)
{
	(void)arg;
	sd_bus *bus = NULL;
	int r = open_private_bus(&bus);
	if (r < 0)
		r = sd_bus_open_system(&bus);
	if (r < 0) {
		snprintf(buf, len, "no connection to systemd: %s", strerror(-r));
		return -1;
	}
	r = read_system_state(bus, buf, len);
	sd_bus_flush_close_unref(bus);
	return r;
}

void xd_host_probe_default(struct xd_host_probe *p)
{
	*p = (struct xd_host_probe){
		.systemd = sd_booted() > 0,
		.read = xd_system_state_dbus,
	};
}

#else /* !HAVE_SYSTEMD */

int xd_system_state_dbus(void *arg, char *buf, size_t len)
{
	(void)arg;
	snprintf(buf, len, "built without libsystemd");
	return -1;
}

void xd_host_probe_default(struct xd_host_probe *p)
{
	*p = (struct xd_host_probe){ .systemd = false, .read = xd_system_state_dbus };
}

#endif

bool xd_host_halting(const struct xd_host_probe *p, char *why, size_t len)
{
	if (!p->systemd) {
		snprintf(why, len, "no systemd: SIGTERM comes from the rc script at halt");
		return true;
	}
	char state[64];
	if (p->read(p->arg, state, sizeof(state)) < 0) {
		snprintf(why, len, "systemd state unknown (%s): assuming the host halts", state);
		return true;
	}
	if (strcmp(state, "stopping") == 0) {
		snprintf(why, len, "systemd SystemState is \"stopping\": the host halts");
		return true;
	}
	snprintf(why, len, "systemd SystemState is \"%.32s\": only the service stops, "
		 "guests are left running", state);
	return false;
}
