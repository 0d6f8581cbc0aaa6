/* SPDX-License-Identifier: ISC */
/* xendomd --halt-fallback (halt_fallback.h) */
#include "daemon/halt_fallback.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "config/load.h"
#include "daemon/log.h"

#define BOOT_ID_MAX 64
#define BOUND_PER_DOMAIN_S 15   /* a destroy after the timeout, a save's tail */
#define BOUND_BASE_S 30

static int marker_path(const char *state_dir, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s/%s", state_dir, XD_HALT_MARKER);
	return n > 0 && (size_t)n < len ? 0 : -1;
}

/* The boot id, newline stripped; -1 if unreadable. */
static int read_boot_id(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "re");
	if (!f)
		return -1;
	char *s = fgets(buf, (int)len, f);
	fclose(f);
	if (!s)
		return -1;
	buf[strcspn(buf, "\n")] = '\0';
	return buf[0] ? 0 : -1;
}

void xd_halt_marker_clear(const char *state_dir)
{
	char p[4096];
	if (marker_path(state_dir, p, sizeof(p)) < 0)
		return;
	if (unlink(p) < 0 && errno != ENOENT)
		xd_log(XD_LOG_WARNING, NULL, -1, "cannot remove %s: %s", p, strerror(errno));
}

int xd_halt_marker_write(const char *state_dir, const char *boot_id_path)
{
	char p[4096], id[BOOT_ID_MAX];
	if (marker_path(state_dir, p, sizeof(p)) < 0 || read_boot_id(boot_id_path, id, sizeof(id)) < 0) {
		xd_log(XD_LOG_WARNING, NULL, -1, "cannot record the host shutdown as done: no boot id");
		return -1;
	}
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		xd_log(XD_LOG_WARNING, NULL, -1, "cannot write %s: %s", p, strerror(errno));
		return -1;
	}
	int n = dprintf(fd, "%s\n", id);
	int rc = n > 0 && fsync(fd) == 0 ? 0 : -1;
	close(fd);
	if (rc < 0)
		xd_log(XD_LOG_WARNING, NULL, -1, "cannot write %s", p);
	return rc;
}

/* Whether the marker says this boot's halt was completed. */
static bool marker_is_this_boot(const char *state_dir, const char *boot_id_path)
{
	char p[4096], want[BOOT_ID_MAX], got[BOOT_ID_MAX];
	if (marker_path(state_dir, p, sizeof(p)) < 0 || read_boot_id(p, got, sizeof(got)) < 0)
		return false;
	return read_boot_id(boot_id_path, want, sizeof(want)) == 0 && strcmp(got, want) == 0;
}

bool xd_halt_fallback_needed(const struct xd_fallback_check *c, char *why, size_t len)
{
	char state[256] = "";
	bool halting = c->assume_halting || xd_host_halting(c->probe, state, sizeof(state));
	if (c->assume_halting)
		snprintf(state, sizeof(state), "simulated host: a stop is a halt");
	if (!halting) {
		snprintf(why, len, "%s: nothing to do", state);
		return false;
	}
	if (marker_is_this_boot(c->state_dir, c->boot_id_path)) {
		snprintf(why, len, "%s; the daemon completed the host-shutdown sequence: nothing to do",
			 state);
		return false;
	}
	snprintf(why, len, "%s; the daemon did not complete the host-shutdown sequence: "
		 "running it now", state);
	return true;
}

unsigned xd_halt_fallback_bound_s(const struct xd_config *cfg)
{
	uint64_t s = BOUND_BASE_S;
	for (size_t i = 0; i < cfg->n_domains; i++)
		s += cfg->domains[i].shutdown_timeout_ms / 1000 + BOUND_PER_DOMAIN_S;
	return s > 86400 ? 86400 : (unsigned)s;
}

int xd_halt_fallback_prepare(const char *config_path, bool explicit_path, bool sim)
{
	struct xd_config *cfg = NULL;
	struct xd_diags diags = { 0 };
	unsigned flags = XD_LOAD_DEGRADED | (explicit_path ? 0 : XD_LOAD_MISSING_OK);
	if (xd_config_load_flags(config_path, flags, &cfg, &diags) < 0 || !cfg) {
		xd_diags_print(&diags, stderr);
		xd_diags_free(&diags);
		fprintf(stderr, "xendomd --halt-fallback: cannot read %s: guests are left as they are\n",
			config_path);
		return 2;
	}
	xd_diags_free(&diags);
	struct xd_host_probe probe;
	xd_host_probe_default(&probe);
	struct xd_fallback_check c = {
		.probe = &probe, .assume_halting = sim,
		.state_dir = cfg->global.state_dir, .boot_id_path = XD_BOOT_ID_PATH,
	};
	char why[512];
	bool run = xd_halt_fallback_needed(&c, why, sizeof(why));
	unsigned bound = xd_halt_fallback_bound_s(cfg);
	xd_config_free(cfg);
	if (!run) {
		fprintf(stderr, "xendomd --halt-fallback: %s\n", why);
		return 0;
	}
	fprintf(stderr, "xendomd --halt-fallback: %s (bounded at %u s)\n", why, bound);
	fflush(stderr);
	alarm(bound);
	return -1;
}
