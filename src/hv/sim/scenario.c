/* SPDX-License-Identifier: ISC */
/* The scenario file (its format is documented in hv_sim.h). */
#include "hv/sim/sim_int.h"

#include <errno.h>
#include <ini.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/alloc.h"
#include "util/parse.h"

/* ---- the scenario file ---- */

struct parse {
	struct hv_sim *sim;
	const char *file;
	FILE *f;
	int line;                        /* of the line being parsed */
	int header_line;                 /* of the last [section] header */
	bool at_line_start;
	char section[XD_NAME_MAX + 16];  /* the last one a key was seen in */
	struct sim_profile *prof;        /* its profile, for [domain] */
	char err[512];
};

static int parse_fail(struct parse *ps, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static int parse_fail(struct parse *ps, const char *fmt, ...)
{
	if (ps->err[0])
		return 0;        /* keep the first error */
	char msg[384];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(ps->err, sizeof(ps->err), "%s:%d: %s", ps->file, ps->line, msg);
	return 0;
}

/* inih reads line by line through this, so we know the line number of
 * every key (the Debian build has no INI_HANDLER_LINENO). */
static char *counting_reader(char *str, int num, void *stream)
{
	struct parse *ps = stream;
	char *r = fgets(str, num, ps->f);
	if (!r)
		return NULL;
	if (ps->at_line_start) {
		ps->line++;
		if (r[strspn(r, " \t")] == '[')
			ps->header_line = ps->line;
	}
	ps->at_line_start = strchr(r, '\n') != NULL;
	return r;
}

/* xd_parse_u64, and at most max. */
static bool parse_u64(const char *v, uint64_t max, uint64_t *out)
{
	uint64_t n;
	if (!xd_parse_u64(v, &n) || n > max)
		return false;
	*out = n;
	return true;
}

enum key_type { K_MS, K_COUNT, K_BOOL, K_SHUTDOWN_MS, K_SAVE_MS, K_HVM, K_HZ, K_LEN, K_PATH, K_STRING };
static const char *const key_type_expects[] = {
	[K_MS] = "milliseconds",
	[K_COUNT] = "a count",
	[K_BOOL] = "yes or no",
	[K_SHUTDOWN_MS] = "milliseconds or -1",
	[K_SAVE_MS] = "milliseconds or -1",
	[K_HVM] = "yes or no",
	[K_HZ] = "writes per second, at most 1000",
	[K_LEN] = "a length in bytes, at most 4096",
	[K_PATH] = "a path relative to the domain's XenStore directory, under 2048 bytes",
	[K_STRING] = "a value of at most 4096 bytes",
};

struct key_def {
	const char *name;
	enum key_type type;
	size_t off;
	bool in_script;          /* off is in struct sim_script, else sim_profile */
};

#define KEY(n, t) { #n, t, offsetof(struct sim_profile, n), false }
#define SKEY(n, t) { #n, t, offsetof(struct sim_script, n), true }
static const struct key_def domain_keys[] = {
	KEY(create_ms, K_MS),
	KEY(fail_creates, K_COUNT),
	KEY(ready_ms, K_MS),
	KEY(pv_drivers, K_BOOL),
	KEY(shutdown_ms, K_SHUTDOWN_MS),
	KEY(save_ms, K_SAVE_MS),
	KEY(crash_after_ms, K_MS),
	KEY(reboot_after_ms, K_MS),
	KEY(running, K_BOOL),
	KEY(arrive_ms, K_MS),
	KEY(fail_saves, K_COUNT),
	KEY(fail_restores, K_COUNT),
	KEY(migrate_ms, K_SAVE_MS),
	KEY(fail_migrates, K_COUNT),
	KEY(fail_migrates_after_go, K_COUNT),
	KEY(restore_ms, K_MS),
	KEY(hvm, K_HVM),
	SKEY(xs_write_key, K_PATH),
	SKEY(xs_write_hz, K_HZ),
	SKEY(xs_write_value, K_STRING),
	SKEY(xs_write_len, K_LEN),
	SKEY(xs_flap_ms, K_MS),
};
#undef KEY
#undef SKEY

/* The whole numbers: K_MS, K_HZ, K_LEN (uint64_t), K_COUNT (unsigned). */
static bool set_number(void *field, enum key_type type, const char *v)
{
	static const uint64_t max[] = {
		[K_MS] = SCENARIO_MS_MAX, [K_COUNT] = UINT32_MAX,
		[K_HZ] = XS_WRITE_HZ_MAX, [K_LEN] = GUEST_VALUE_MAX,
	};
	uint64_t n;
	if (!parse_u64(v, max[type], &n))
		return false;
	if (type == K_COUNT)
		*(unsigned *)field = (unsigned)n;
	else
		*(uint64_t *)field = n;
	return true;
}

static bool set_string(char **field, enum key_type type, const char *v)
{
	size_t n = strlen(v);
	if (type == K_PATH ? !n || n >= GUEST_PATH_MAX || v[0] == '/' : n > GUEST_VALUE_MAX)
		return false;
	free(*field);
	*field = xd_strdup(v);
	return true;
}

static bool set_value(struct sim_profile *p, const struct key_def *k, const char *v)
{
	if (k->in_script && !p->script)
		p->script = xd_calloc(1, sizeof(*p->script));
	void *field = (k->in_script ? (char *)p->script : (char *)p) + k->off;
	bool b;
	switch (k->type) {
	case K_MS:
	case K_COUNT:
	case K_HZ:
	case K_LEN:
		return set_number(field, k->type, v);
	case K_PATH:
	case K_STRING:
		return set_string(field, k->type, v);
	case K_BOOL:
	case K_HVM:
		if (!xd_parse_bool(v, &b))
			return false;
		if (k->type == K_BOOL)
			*(bool *)field = b;
		else
			*(int *)field = b;
		return true;
	case K_SHUTDOWN_MS:
		if (strcmp(v, "-1") == 0) {
			*(int64_t *)field = -1;
			return true;
		}
		return set_number(field, K_MS, v);
	case K_SAVE_MS:
		if (strcmp(v, "-1") == 0) {
			*(uint64_t *)field = SAVE_NEVER;
			return true;
		}
		return set_number(field, K_MS, v);
	}
	return false;
}

static int domain_key(struct parse *ps, const char *key, const char *value)
{
	for (size_t i = 0; i < sizeof(domain_keys) / sizeof(domain_keys[0]); i++) {
		const struct key_def *k = &domain_keys[i];
		if (strcmp(k->name, key) != 0)
			continue;
		if (!set_value(ps->prof, k, value))
			return parse_fail(ps, "%s: bad value '%s' (expected %s)", key, value,
					  key_type_expects[k->type]);
		return 1;
	}
	return parse_fail(ps, "unknown key '%s' in [domain %s]", key, ps->prof->name);
}

static int sim_key(struct parse *ps, const char *key, const char *value)
{
	uint64_t mb;
	if (strcmp(key, "free_memory_mb") != 0)
		return parse_fail(ps, "unknown key '%s' in [sim]", key);
	if (!parse_u64(value, SCENARIO_MB_MAX, &mb))
		return parse_fail(ps, "free_memory_mb: bad value '%s' (expected MiB)", value);
	ps->sim->free_kb = mb * 1024;
	return 1;
}

/* A [domain NAME] section begins (again): its profile. */
static int enter_domain(struct parse *ps, const char *section)
{
	const char *name = section + strlen("domain");
	name += strspn(name, " \t");
	if (!*name || strlen(name) >= XD_NAME_MAX || strpbrk(name, " \t"))
		return parse_fail(ps, "bad domain name in [%s]", section);
	struct sim_profile *p = profile_get(ps->sim, name);
	if (!p->line)
		p->line = ps->header_line;
	ps->prof = p;
	return 1;
}

static int on_key(void *user, const char *section, const char *key, const char *value)
{
	struct parse *ps = user;
	bool is_domain = strncmp(section, "domain", 6) == 0 &&
			 (section[6] == '\0' || section[6] == ' ' || section[6] == '\t');
	if (strlen(section) >= INIH_SECTION_MAX)
		return parse_fail(ps, "section header too long (at most %d characters)",
				  INIH_SECTION_MAX - 1);
	if (strcmp(section, ps->section) != 0) {
		snprintf(ps->section, sizeof(ps->section), "%s", section);
		ps->prof = NULL;
		if (is_domain && !enter_domain(ps, section))
			return 0;
	}
	if (strcmp(section, "sim") == 0)
		return sim_key(ps, key, value);
	if (is_domain)
		return ps->prof ? domain_key(ps, key, value) : 0;
	if (!section[0])
		return parse_fail(ps, "'%s' outside a section", key);
	return parse_fail(ps, "unknown section [%s]", section);
}

/* xs_write_len = N: N bytes running through every byte value but NUL
 * (1, 2, ... 255, 1, ...), as the port's values are C strings. */
static char *pattern_value(uint64_t len)
{
	char *v = xd_malloc0(len + 1);
	for (uint64_t i = 0; i < len; i++)
		v[i] = (char)(1 + i % 255);
	return v;
}

static int check_writer(struct parse *ps, struct sim_profile *p)
{
	struct sim_script *s = p->script;
	ps->line = p->line;
	if (!s)
		return 1;
	if (!s->xs_write_key)
		return parse_fail(ps, "[domain %s]: xs_write_* and xs_flap_ms need xs_write_key",
				  p->name);
	if (!s->xs_write_hz && !s->xs_flap_ms)
		return parse_fail(ps, "[domain %s]: xs_write_key needs xs_write_hz or xs_flap_ms",
				  p->name);
	if (s->xs_write_value && s->xs_write_len)
		return parse_fail(ps, "[domain %s]: xs_write_value and xs_write_len are "
				  "exclusive", p->name);
	if (!s->xs_write_value)
		s->xs_write_value = pattern_value(s->xs_write_len);
	return 1;
}

static int check_profiles(struct parse *ps)
{
	for (size_t i = 0; i < ps->sim->n_profs; i++) {
		struct sim_profile *p = ps->sim->profs[i];
		if (p->hvm == 0 && !p->pv_drivers) {
			ps->line = p->line;
			return parse_fail(ps, "[domain %s]: pv_drivers = no needs hvm = yes "
					  "(a PV guest always has PV control)", p->name);
		}
		if (!check_writer(ps, p))
			return 0;
	}
	return 1;
}

static void on_arrive_timer(struct xd_timer *t, void *arg)
{
	(void)t;
	struct sim_profile *p = arg;
	hv_sim_arrive(&p->arrive_sim->hv, p->name, p->arrive_kb);
}

/* arrive_ms = N: the guest appears by itself N ms after the start, as
 * one created by hand or migrated here. */
static void arm_arrival(struct hv_sim *s, struct sim_profile *p, uint64_t kb)
{
	p->arrive_kb = kb;
	p->arrive_sim = s;
	p->arrive_t = xd_malloc0(sizeof(*p->arrive_t));
	xd_timer_init(p->arrive_t, on_arrive_timer, p);
	arm_in(s, p->arrive_t, p->arrive_ms);
}

/* running = yes: the guest was there before us, up and unpaused. */
static int start_running(struct parse *ps, const struct xd_config *cfg)
{
	struct hv_sim *s = ps->sim;
	for (size_t i = 0; i < s->n_profs; i++) {
		struct sim_profile *p = s->profs[i];
		if (!p->running && !p->arrive_ms)
			continue;
		long at = cfg ? xd_config_find(cfg, p->name) : -1;
		const struct xd_domain_cfg *dc = at >= 0 ? &cfg->domains[at] : NULL;
		uint64_t kb = cfg_mem_kb(dc);
		if (!p->running) {
			arm_arrival(s, p, kb);
			continue;
		}
		if (kb > s->free_kb) {
			ps->line = p->line;
			return parse_fail(ps, "running domain %s needs %" PRIu64 " MiB, only %" PRIu64
					  " MiB free", p->name, kb / 1024, s->free_kb / 1024);
		}
		dom_add_running(s, p, kb, profile_hvm(p, dc && dc->hvm));
	}
	return 1;
}

static int load_scenario(struct parse *ps, const char *path)
{
	ps->file = path;
	ps->at_line_start = true;
	ps->f = fopen(path, "re");
	if (!ps->f) {
		snprintf(ps->err, sizeof(ps->err), "%s: %s", path, strerror(errno));
		return 0;
	}
	int rc = ini_parse_stream(counting_reader, ps, on_key, ps);
	fclose(ps->f);
	if (rc > 0 && !ps->err[0]) {
		ps->line = rc;
		parse_fail(ps, "syntax error (expected [section] or key = value)");
	} else if (rc < 0 && !ps->err[0]) {
		snprintf(ps->err, sizeof(ps->err), "%s: cannot parse (out of memory)", path);
	}
	return !ps->err[0] && check_profiles(ps);
}


bool sim_scenario_load(struct hv_sim *s, const char *path, const struct xd_config *cfg,
		       char *err, size_t errlen)
{
	struct parse ps = { .sim = s, .file = "(defaults)" };
	if ((path && !load_scenario(&ps, path)) || !start_running(&ps, cfg)) {
		snprintf(err, errlen, "%s", ps.err);
		return false;
	}
	return true;
}
