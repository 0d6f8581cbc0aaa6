/* SPDX-License-Identifier: ISC */
/*
 * xendomains settings -> xendomd.conf (import_xendomains.h).
 *
 * What each variable did is what the script that reads it did with it:
 * Debian's init.d/xendomains (xen-utils-common) for /etc/default, Xen's
 * tools/hotplug/Linux xendomains script for /etc/sysconfig, NetBSD's
 * rc.d/xendomains for rc.conf.  The two Linux scripts differ: Debian's
 * saves (or migrates) every domain and then shuts the rest down, and
 * restores whenever XENDOMAINS_RESTORE is not empty; upstream's has
 * XENDOMAINS_SHUTDOWN, _SHUTDOWN_ALL, _AUTO_ONLY, SysRq and a pause after
 * each create, and restores only when XENDOMAINS_RESTORE is "true".
 */
#include "config/import_xendomains.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "config/shvars.h"
#include "core/config.h"
#include "config/util.h"
#include "xd_build.h"

#define DEFAULT_AUTO_DIR "/etc/xen/auto"
#define MAX_SECONDS 86400        /* the longest timeout xendomd.conf takes */
#define MAX_FILE (1024 * 1024)

/* What XENDOMAINS_MIGRATE held: the words `xl migrate DOMID` got. */
struct migrate_words {
	bool usable;                     /* a host xendomd takes, nothing unknown */
	char host[XD_HOST_MAX + 1];
	char command[256];               /* -s WORD, else "" */
	char why[256];                   /* !usable: why not */
};

struct imp {
	FILE *o;
	const struct xd_shvars *vars;
	enum xd_import_kind kind;
	struct migrate_words mig;
	const char *halt_key;            /* ";" while on_host_shutdown is migrate's */
};

static const char *const upstream_only[] = {
	"XENDOMAINS_SHUTDOWN", "XENDOMAINS_SHUTDOWN_ALL", "XENDOMAINS_AUTO_ONLY",
	"XENDOMAINS_SYSRQ", "XENDOMAINS_USLEEP", "XENDOMAINS_CREATE_USLEEP", NULL,
};

/* Every variable of the Linux scripts, in the order the output takes them. */
static const char *const linux_vars[] = {
	"XENDOMAINS_AUTO", "XENDOMAINS_SAVE", "XENDOMAINS_SHUTDOWN", "XENDOMAINS_SHUTDOWN_ALL",
	"XENDOMAINS_RESTORE", "XENDOMAINS_AUTO_ONLY", "XENDOMAINS_STOP_MAXWAIT",
	"XENDOMAINS_MIGRATE", "XENDOMAINS_SYSRQ", "XENDOMAINS_USLEEP",
	"XENDOMAINS_CREATE_USLEEP", NULL,
};

static const char *const netbsd_vars[] = {
	"xendomains", "xendomains_config", "xendomains_prehook", "xendomains_posthook", NULL,
};

static bool listed(const char *const *list, const char *name)
{
	for (; *list; list++)
		if (strcmp(*list, name) == 0)
			return true;
	return false;
}

static const char *get(const struct imp *im, const char *name)
{
	const struct xd_shvar *v = xd_shvars_get(im->vars, name);
	return v ? v->value : NULL;
}

static bool set(const char *v)
{
	return v && *v;
}

static bool is_true(const char *v)
{
	return v && strcmp(v, "true") == 0;
}

/* A whole number of seconds (or microseconds); -1 if v is not one. */
static long long number(const char *v)
{
	if (!set(v) || strspn(v, "0123456789") != strlen(v) || strlen(v) > 15)
		return -1;
	return strtoll(v, NULL, 10);
}

/* A value that can be written into xendomd.conf as an absolute path. */
static bool path_ok(const char *v)
{
	return v[0] == '/' && !strpbrk(v, " \t;#\"");
}

/* "; NAME=value (line N)", or "; NAME is not set". */
static void quote(const struct imp *im, const char *name)
{
	const struct xd_shvar *v = xd_shvars_get(im->vars, name);
	if (!v) {
		fprintf(im->o, "; %s is not set\n", name);
		return;
	}
	bool plain = *v->value && !strpbrk(v->value, " \t\"'");
	fprintf(im->o, plain ? "; %s=%s (line %u%s)\n" : "; %s=\"%s\" (line %u%s)\n", name,
		v->value, v->line, v->times > 1 ? ", the last of its assignments" : "");
}

static void say(const struct imp *im, const char *text)
{
	fprintf(im->o, "; %s\n", text);
}

static enum xd_import_kind detect(const struct xd_shvars *v, const char *origin)
{
	bool linux_set = false, netbsd_set = false;
	for (size_t i = 0; i < v->n; i++) {
		linux_set |= strncmp(v->v[i].name, "XENDOMAINS_", 11) == 0;
		netbsd_set |= listed(netbsd_vars, v->v[i].name);
	}
	if (netbsd_set && !linux_set)
		return XD_IMPORT_NETBSD;
	if (v->sysconfig_meta || (origin && strstr(origin, "sysconfig")))
		return XD_IMPORT_UPSTREAM;
	for (size_t i = 0; upstream_only[i]; i++)
		if (xd_shvars_get(v, upstream_only[i]))
			return XD_IMPORT_UPSTREAM;
	return XD_IMPORT_DEBIAN;
}

static const char *kind_text(enum xd_import_kind k)
{
	switch (k) {
	case XD_IMPORT_DEBIAN:
		return "Debian's /etc/default/xendomains, as Debian's init.d/xendomains reads it";
	case XD_IMPORT_UPSTREAM:
		return "/etc/sysconfig/xendomains, as Xen's own xendomains script reads it";
	case XD_IMPORT_NETBSD:
		return "NetBSD's rc.conf, as rc.d/xendomains reads it";
	}
	return "?";
}

static void header(const struct imp *im, const char *origin)
{
	fprintf(im->o,
		"; xendomd.conf made by `xendomd --import-xendomains` from %s,\n"
		"; read as %s.\n"
		"; The file was read, never run.  Each setting is quoted, with what it\n"
		"; did and what does the same here; keys not written keep their defaults\n"
		"; (xendomd.conf(5)).  Check the result with `xendomd --check -c FILE`.\n"
		"\n[global]\n",
		origin, kind_text(im->kind));
}

/* ------------------------------------------------------------ Linux */

/* The directory exists now: --check requires an auto_dir that is set to
 * exist; a missing one started nothing under xendomains either. */
static bool is_dir(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static void auto_missing(const struct imp *im, const char *v)
{
	say(im, "That directory does not exist on this host, so xendomains started");
	say(im, "nothing from it; nor does xendomd.  Uncomment this once it exists:");
	fprintf(im->o, ";auto_dir = %s\n", v);
	if (strcmp(v, DEFAULT_AUTO_DIR) != 0)
		fprintf(im->o, "auto_dir = \"\"\n");
	else
		say(im, "(It is xendomd's default too: a missing default directory is no error.)");
}

static void block_auto(const struct imp *im)
{
	const char *v = get(im, "XENDOMAINS_AUTO");
	fputc('\n', im->o);
	quote(im, "XENDOMAINS_AUTO");
	if (!set(v)) {
		say(im, "No directory: xendomains started no domain by itself.");
		fprintf(im->o, "auto_dir = \"\"\n");
	} else if (!path_ok(v)) {
		say(im, "Not an absolute path that xendomd.conf can hold: auto_dir keeps its");
		say(im, "default, " DEFAULT_AUTO_DIR ".  Set it (or write [domain] sections) by hand.");
	} else {
		say(im, "Each xl cfg there was created at boot; it is an autostart domain here,");
		say(im, "started in parallel and in dependency order (give it a [domain] section");
		say(im, "for after=, requires=, ready=).");
		if (is_dir(v))
			fprintf(im->o, "auto_dir = %s\n", v);
		else
			auto_missing(im, v);
	}
}

/* Upstream: did a shutdown request go out at all, and was it waited for? */
static bool upstream_shuts_down(const struct imp *im)
{
	return set(get(im, "XENDOMAINS_SHUTDOWN")) || set(get(im, "XENDOMAINS_SHUTDOWN_ALL"));
}

static void halt_save(const struct imp *im, const char *save)
{
	say(im, "At halt each guest was saved (xl save) into that directory, and a guest");
	say(im, "whose save failed was shut down instead; so it is here.");
	if (im->kind == XD_IMPORT_UPSTREAM && !upstream_shuts_down(im)) {
		say(im, "(With XENDOMAINS_SHUTDOWN and _SHUTDOWN_ALL empty xendomains left a guest");
		say(im, "whose save failed running; xendomd always shuts it down then.)");
	}
	fprintf(im->o, "%son_host_shutdown = save\n", im->halt_key);
	if (path_ok(save))
		fprintf(im->o, "save_dir = %s\n", save);
	else
		say(im, "Not an absolute path xendomd.conf can hold: save_dir keeps its default.");
}

static void halt_no_save(const struct imp *im)
{
	const char *sd = get(im, "XENDOMAINS_SHUTDOWN"), *all = get(im, "XENDOMAINS_SHUTDOWN_ALL");
	if (im->kind == XD_IMPORT_DEBIAN || upstream_shuts_down(im)) {
		say(im, "No saving: at halt each guest was asked to shut down; so it is here.");
		if (im->kind == XD_IMPORT_UPSTREAM && set(sd) && !strstr(sd, "-w") && !set(all)) {
			say(im, "(xendomains did not wait for it; xendomd waits up to shutdown_timeout,");
			say(im, "then applies shutdown_fallback.)");
		}
		fprintf(im->o, "%son_host_shutdown = shutdown\n", im->halt_key);
		return;
	}
	say(im, "No saving and no shutdown: xendomains left the guests running and they");
	say(im, "went down with the host; so it is here.");
	fprintf(im->o, "%son_host_shutdown = leave\n", im->halt_key);
}

static void block_halt(const struct imp *im)
{
	const char *save = get(im, "XENDOMAINS_SAVE");
	fputc('\n', im->o);
	quote(im, "XENDOMAINS_SAVE");
	if (im->kind == XD_IMPORT_UPSTREAM) {
		quote(im, "XENDOMAINS_SHUTDOWN");
		quote(im, "XENDOMAINS_SHUTDOWN_ALL");
	}
	if (im->mig.usable) {
		say(im, "XENDOMAINS_MIGRATE is set: this is what happened to a guest whose");
		say(im, "migration failed; on_host_shutdown = migrate follows below.");
	}
	if (set(save))
		halt_save(im, save);
	else
		halt_no_save(im);
}

static bool restores(const struct imp *im)
{
	const char *r = get(im, "XENDOMAINS_RESTORE");
	if (!set(get(im, "XENDOMAINS_SAVE")))
		return false;
	return im->kind == XD_IMPORT_DEBIAN ? set(r) : is_true(r);
}

static void restore_no(const struct imp *im)
{
	const char *r = get(im, "XENDOMAINS_RESTORE");
	if (!set(get(im, "XENDOMAINS_SAVE")))
		say(im, "Without XENDOMAINS_SAVE there was no directory to restore from.");
	else if (im->kind == XD_IMPORT_UPSTREAM && set(r))
		say(im, "Only \"true\" made xendomains restore; this value did not.");
	if (set(get(im, "XENDOMAINS_SAVE")))
		say(im, "Images saved at halt were not restored at boot: the guests booted cold.");
	fprintf(im->o, "restore_on_boot = no\n");
}

static void block_restore(const struct imp *im)
{
	const char *r = get(im, "XENDOMAINS_RESTORE");
	fputc('\n', im->o);
	quote(im, "XENDOMAINS_RESTORE");
	if (!restores(im)) {
		restore_no(im);
		return;
	}
	if (im->kind == XD_IMPORT_DEBIAN && !is_true(r)) {
		say(im, "Debian's script restores whenever this is not empty, even for \"false\";");
		say(im, "that is what it did, so it is kept.  Write no if you meant no.");
	}
	say(im, "At boot a saved guest was restored instead of booted, its image deleted;");
	say(im, "one that failed to restore was not booted and its image was kept.");
	say(im, "xendomains restored every image in the directory; xendomd restores those");
	say(im, "of the domains it manages (auto_dir and [domain] sections): give any other");
	say(im, "saved guest a [domain] section.");
	fprintf(im->o, "restore_on_boot = yes\non_restore_failure = fail\n");
}

/* Were domains xendomd does not manage (not in auto_dir) stopped at halt? */
static bool stops_others(const struct imp *im)
{
	if (im->kind == XD_IMPORT_DEBIAN)
		return true;
	if (set(get(im, "XENDOMAINS_SHUTDOWN_ALL")))
		return true;
	if (is_true(get(im, "XENDOMAINS_AUTO_ONLY")))
		return false;
	return set(get(im, "XENDOMAINS_SAVE")) || set(get(im, "XENDOMAINS_SHUTDOWN"));
}

static void block_unmanaged(const struct imp *im)
{
	bool others = stops_others(im);
	bool saved = set(get(im, "XENDOMAINS_SAVE")) &&
		     (im->kind == XD_IMPORT_DEBIAN || !is_true(get(im, "XENDOMAINS_AUTO_ONLY")));
	fputc('\n', im->o);
	if (im->kind == XD_IMPORT_UPSTREAM)
		quote(im, "XENDOMAINS_AUTO_ONLY");
	if (others) {
		say(im, "At halt xendomains also stopped the domains it had not started (not in");
		say(im, "XENDOMAINS_AUTO); xendomd does with stop_unmanaged, by a shutdown.");
		if (saved) {
			say(im, "xendomains saved those too; xendomd never saves a domain it does not");
			say(im, "manage: give each one a [domain] section to have it saved.");
		}
		fprintf(im->o, "stop_unmanaged = yes\n");
	} else {
		say(im, "At halt xendomains left alone the domains it had not started (not in");
		say(im, "XENDOMAINS_AUTO); so does xendomd with stop_unmanaged = no.");
		fprintf(im->o, "stop_unmanaged = no\n");
	}
}

/* Debian waits about a second with 0 and not at all when it is empty;
 * upstream's watchdog is off for both: it waited as long as it took. */
static void maxwait_unbounded(const struct imp *im, long long n)
{
	if (im->kind == XD_IMPORT_DEBIAN) {
		say(im, n == 0 ? "0: Debian's script waited about a second for each domain to shut down."
			       : "Empty or not a number: Debian's script did not wait for the domains.");
		say(im, "The shortest wait xendomd takes is 1 s.");
		fprintf(im->o, "shutdown_timeout = 1\n");
		return;
	}
	say(im, "No watchdog: xendomains waited as long as each step took.  xendomd bounds");
	say(im, "every step of a halt; the longest it takes is one day.");
	fprintf(im->o, "shutdown_timeout = %d\n", MAX_SECONDS);
}

static void block_maxwait(const struct imp *im)
{
	long long n = number(get(im, "XENDOMAINS_STOP_MAXWAIT"));
	fputc('\n', im->o);
	quote(im, "XENDOMAINS_STOP_MAXWAIT");
	if (n >= 1) {
		say(im, "How long a domain had to shut down at halt.");
		if (n > MAX_SECONDS)
			say(im, "(More than xendomd takes: one day.)");
		fprintf(im->o, "shutdown_timeout = %lld\n", n > MAX_SECONDS ? MAX_SECONDS : n);
	} else {
		maxwait_unbounded(im, n);
	}
	say(im, "After it xendomains gave up and let the halt go on, which ended the guest");
	say(im, "with the host.  destroy ends it then too, but before dom0's storage and");
	say(im, "network go down (leave is xendomains' way exactly).");
	fprintf(im->o, "shutdown_fallback = destroy\n");
	say(im, "xendomains also cut off a save (and a migration) after this time; here");
	say(im, "save_timeout bounds a save (its default, 600 s, is kept) and");
	say(im, "migrate_timeout a migration (see XENDOMAINS_MIGRATE).");
}

/* The seconds XENDOMAINS_STOP_MAXWAIT gave each step, as xendomd takes them. */
static long long maxwait_seconds(const struct imp *im)
{
	long long n = number(get(im, "XENDOMAINS_STOP_MAXWAIT"));
	if (n >= 1)
		return n > MAX_SECONDS ? MAX_SECONDS : n;
	return im->kind == XD_IMPORT_DEBIAN ? 1 : MAX_SECONDS;
}

static void migrate_unusable(struct migrate_words *m, const char *fmt, const char *word)
{
	m->usable = false;
	snprintf(m->why, sizeof(m->why), fmt, word);
}

/* `xl migrate DOMID $XENDOMAINS_MIGRATE`: the host, -s CMD (one word, as
 * the shell split it), --live (xl ignores it); anything else is not
 * carried over. */
static void parse_migrate(const char *v, struct migrate_words *m)
{
	char *copy = xd_strdup(v ? v : ""), *save = NULL;
	*m = (struct migrate_words){ .usable = true };
	for (char *w = strtok_r(copy, " \t", &save); w && m->usable;
	     w = strtok_r(NULL, " \t", &save)) {
		if (!strcmp(w, "--live"))
			continue;
		if (!strcmp(w, "-s")) {
			char *c = strtok_r(NULL, " \t", &save);
			if (c)
				snprintf(m->command, sizeof(m->command), "%s", c);
			else
				migrate_unusable(m, "%s has no command after it", w);
		} else if (w[0] == '-') {
			migrate_unusable(m, "xl migrate's option %s has no equivalent here", w);
		} else if (m->host[0]) {
			migrate_unusable(m, "a second host, %s", w);
		} else if (xd_migrate_host_problem(w)) {
			migrate_unusable(m, "%s is not a host xendomd takes", w);
		} else {
			snprintf(m->host, sizeof(m->host), "%s", w);
		}
	}
	if (m->usable && !m->host[0])
		migrate_unusable(m, "%s", "no host in it");
	free(copy);
}

static void migrate_fallback(const struct imp *im)
{
	if (set(get(im, "XENDOMAINS_SAVE"))) {
		say(im, "xendomains saved a guest whose migration failed; xendomd resumes it and");
		say(im, "shuts it down instead (a failed migration never falls back to a save).");
	} else {
		say(im, "A guest whose migration fails is resumed and shut down, as there.");
	}
}

static void block_migrate(const struct imp *im)
{
	fputc('\n', im->o);
	quote(im, "XENDOMAINS_MIGRATE");
	if (!set(get(im, "XENDOMAINS_MIGRATE"))) {
		say(im, "Empty: no guest was migrated at halt.  Nothing to carry over.");
		return;
	}
	if (!im->mig.usable) {
		fprintf(im->o, "; Not carried over: %s.  At halt each guest was migrated\n",
			im->mig.why);
		say(im, "with `xl migrate DOMID` and these words; set on_host_shutdown = migrate");
		say(im, "and migrate_to = HOST by hand (xendomd.conf(5)).");
		return;
	}
	say(im, "At halt each guest was live-migrated there first, with `xl migrate`");
	say(im, "(neither saved nor shut down when that worked); so it is here, in");
	say(im, "parallel up to max_parallel_stops, each cut off after migrate_timeout");
	say(im, "(XENDOMAINS_STOP_MAXWAIT's time).");
	migrate_fallback(im);
	fprintf(im->o, "on_host_shutdown = migrate\nmigrate_to = %s\n", im->mig.host);
	if (im->mig.command[0])
		fprintf(im->o, "migrate_command = %s\n", im->mig.command);
	fprintf(im->o, "migrate_timeout = %lld\n", maxwait_seconds(im));
}

static void block_sysrq(const struct imp *im)
{
	if (im->kind != XD_IMPORT_UPSTREAM)
		return;
	fputc('\n', im->o);
	quote(im, "XENDOMAINS_SYSRQ");
	quote(im, "XENDOMAINS_USLEEP");
	if (!set(get(im, "XENDOMAINS_SYSRQ"))) {
		say(im, "Empty: no SysRq was sent at halt (XENDOMAINS_USLEEP, the pause after");
		say(im, "each one, did nothing).  Nothing to carry over.");
		return;
	}
	say(im, "At halt these SysRq keys were sent to each guest, XENDOMAINS_USLEEP");
	say(im, "microseconds apart.  xendomd has no equivalent: it asks a guest to shut");
	say(im, "down (PV request, or the ACPI power button), which syncs its disks too.");
	say(im, "For something to run before a guest stops, see exec_stop_post and hooks.");
}

static void block_create_usleep(const struct imp *im)
{
	if (im->kind != XD_IMPORT_UPSTREAM)
		return;
	long long us = number(get(im, "XENDOMAINS_CREATE_USLEEP"));
	fputc('\n', im->o);
	quote(im, "XENDOMAINS_CREATE_USLEEP");
	if (us <= 0) {
		say(im, "No pause after each create.  Nothing to carry over.");
		return;
	}
	fprintf(im->o, "; xendomains paused %g s after each create so that booting\n",
		(double)us / 1e6);
	say(im, "guests did not all hit the disks at once.  xendomd has no pause: it");
	say(im, "starts max_parallel_starts domains at once and a domain's dependents when");
	say(im, "it is ready (ready=, start_delay= per domain).  To start one at a time:");
	fprintf(im->o, ";max_parallel_starts = 1\n");
}

/* Debian's script reads five variables; say what became of the others. */
static void block_debian_only(const struct imp *im)
{
	if (im->kind != XD_IMPORT_DEBIAN)
		return;
	fputc('\n', im->o);
	say(im, "Debian's script has no XENDOMAINS_SHUTDOWN, _SHUTDOWN_ALL, _AUTO_ONLY,");
	say(im, "_SYSRQ, _USLEEP or _CREATE_USLEEP: it saved (or migrated) every domain at");
	say(im, "halt, then asked every remaining one to shut down, and at boot created the");
	say(im, "domains one after the other without a pause.  xendomd starts them in");
	say(im, "parallel, max_parallel_starts at once.");
}

static void block_others(const struct imp *im, const char *const *known)
{
	if (im->kind == XD_IMPORT_NETBSD) {    /* rc.conf: everything else */
		size_t n = 0;
		for (size_t i = 0; i < im->vars->n; i++)
			n += !listed(known, im->vars->v[i].name);
		if (n)
			fprintf(im->o, "\n; %zu other rc.conf setting%s: not about xendomains, ignored.\n",
				n, n == 1 ? "" : "s");
		return;
	}
	bool first = true;
	for (size_t i = 0; i < im->vars->n; i++) {
		const struct xd_shvar *v = &im->vars->v[i];
		if (listed(known, v->name))
			continue;
		if (first)
			fputc('\n', im->o);
		first = false;
		quote(im, v->name);
		say(im, "  not read by xendomains: ignored.");
	}
}

/* Lines that were not read and matter: all of them in a xendomains file,
 * in rc.conf those that mention xendomains. */
static bool skip_matters(const struct imp *im, const struct xd_shskip *s)
{
	return im->kind != XD_IMPORT_NETBSD || strstr(s->text, "xendomains");
}

static size_t unread_lines(const struct imp *im)
{
	size_t n = 0;
	for (size_t i = 0; i < im->vars->n_skip; i++)
		n += skip_matters(im, &im->vars->skip[i]);
	return n;
}

static void block_skipped(const struct imp *im)
{
	size_t n = unread_lines(im), others = im->vars->n_skip - n;
	if (others)
		fprintf(im->o, "\n; %zu other rc.conf line%s, not plain assignments, do not mention\n"
			       "; xendomains: ignored.\n", others, others == 1 ? "" : "s");
	if (!n)
		return;
	fputc('\n', im->o);
	say(im, "NOT READ - these lines are not plain assignments; see what they did and");
	say(im, "carry it over by hand:");
	for (size_t i = 0; i < im->vars->n_skip; i++) {
		const struct xd_shskip *s = &im->vars->skip[i];
		if (skip_matters(im, s))
			fprintf(im->o, ";   line %u %s: %s\n", s->line, s->why, s->text);
	}
}

static void import_linux(const struct imp *im)
{
	block_auto(im);
	block_halt(im);
	block_restore(im);
	block_unmanaged(im);
	block_maxwait(im);
	block_migrate(im);
	block_sysrq(im);
	block_create_usleep(im);
	block_debian_only(im);
	block_others(im, linux_vars);
}

/* ------------------------------------------------------------ NetBSD */

#define NETBSD_CFG XD_SYSCONFDIR "/xen/%s"

/* xendomains_config with its one "%s" replaced by name; NULL if it has
 * no "%s", more than one, or another '%'. */
static char *netbsd_path(const char *fmt, const char *name)
{
	const char *s = strstr(fmt, "%s");
	if (!s || strchr(s + 2, '%') || memchr(fmt, '%', (size_t)(s - fmt)))
		return NULL;
	return xd_asprintf("%.*s%s%s", (int)(s - fmt), fmt, name, s + 2);
}

static bool netbsd_fmt_ok(const char *fmt)
{
	char *p = set(fmt) ? netbsd_path(fmt, "x") : NULL;
	free(p);
	return p != NULL;
}

static void netbsd_global(const struct imp *im)
{
	fputc('\n', im->o);
	say(im, "rc.d/xendomains started only the listed domains (below), never restored");
	say(im, "a saved guest, and shut the listed ones down at halt.");
	fprintf(im->o, "auto_dir = \"\"\nrestore_on_boot = no\non_host_shutdown = shutdown\n"
		       "stop_unmanaged = no\n");
	fputc('\n', im->o);
	quote(im, "xendomains_prehook");
	quote(im, "xendomains_posthook");
	say(im, "rc.d/xendomains ran these per domain (\"%s\" its name), when they existed,");
	say(im, "before the create and after the shutdown.  xendomd runs exec_start_pre");
	say(im, "and exec_stop_post; they are shown, commented out, in each section: enable");
	say(im, "the ones that exist.  (A pre-hook here never skips the create.)");
}

static void netbsd_domain(const struct imp *im, const char *name, const char *cfg_fmt)
{
	const char *why = xd_domain_name_problem(name);
	fputc('\n', im->o);
	if (why) {
		fprintf(im->o, "; \"%s\" in xendomains: not a domain name xendomd takes (%s)\n", name, why);
		return;
	}
	char *cfg = netbsd_path(cfg_fmt, name);
	const char *pre = get(im, "xendomains_prehook"), *post = get(im, "xendomains_posthook");
	char *p1 = netbsd_path(set(pre) ? pre : XD_SYSCONFDIR "/xen/%s-pre", name);
	char *p2 = netbsd_path(set(post) ? post : XD_SYSCONFDIR "/xen/%s-post", name);
	fprintf(im->o, "[domain %s]\n", name);
	if (cfg && path_ok(cfg))
		fprintf(im->o, "config = %s\n", cfg);
	else
		fprintf(im->o, "; xendomains_config gives no usable path: config is the default\n");
	if (p1)
		fprintf(im->o, ";exec_start_pre = %s\n", p1);
	if (p2)
		fprintf(im->o, ";exec_stop_post = %s\n", p2);
	free(cfg);
	free(p1);
	free(p2);
}

static void import_netbsd(const struct imp *im)
{
	netbsd_global(im);
	const char *list = get(im, "xendomains"), *fmt = get(im, "xendomains_config");
	fputc('\n', im->o);
	quote(im, "xendomains");
	quote(im, "xendomains_config");
	say(im, "Each listed domain, in list order, with its xl cfg.  rc.d/xendomd still");
	say(im, "reads this list, but skips a domain that has its own [domain] section, as");
	say(im, "these are: the list in rc.conf can go.");
	if (!netbsd_fmt_ok(fmt))
		fmt = NETBSD_CFG;
	char *copy = xd_strdup(list ? list : ""), *save = NULL;
	for (char *w = strtok_r(copy, " \t", &save); w; w = strtok_r(NULL, " \t", &save))
		netbsd_domain(im, w, fmt);
	free(copy);
}

/* ------------------------------------------------------------ entry points */

char *xd_import_xendomains(const char *text, const char *origin, enum xd_import_kind *kind,
			   size_t *unread)
{
	struct xd_shvars vars;
	xd_shvars_parse(text, &vars);
	char *out = NULL;
	size_t len = 0;
	struct imp im = { .vars = &vars, .kind = detect(&vars, origin), .halt_key = "" };
	if (im.kind != XD_IMPORT_NETBSD && set(get(&im, "XENDOMAINS_MIGRATE")))
		parse_migrate(get(&im, "XENDOMAINS_MIGRATE"), &im.mig);
	if (im.mig.usable)
		im.halt_key = ";";
	im.o = open_memstream(&out, &len);
	if (!im.o) {
		xd_shvars_free(&vars);
		return NULL;
	}
	header(&im, origin ? origin : "standard input");
	if (im.kind == XD_IMPORT_NETBSD) {
		import_netbsd(&im);
		block_others(&im, netbsd_vars);
	} else {
		import_linux(&im);
	}
	block_skipped(&im);
	if (kind)
		*kind = im.kind;
	if (unread)
		*unread = unread_lines(&im);
	xd_shvars_free(&vars);
	if (fclose(im.o) != 0) {
		free(out);
		return NULL;
	}
	return out;
}

/* The whole file, NUL-terminated; NULL with errno. */
static char *slurp(FILE *f)
{
	char *buf = xd_calloc(MAX_FILE + 1, 1);
	size_t n = fread(buf, 1, MAX_FILE + 1, f);
	if (ferror(f) || n > MAX_FILE) {
		free(buf);
		errno = ferror(f) ? EIO : EFBIG;
		return NULL;
	}
	buf[n] = '\0';
	if (memchr(buf, '\0', n)) {
		free(buf);
		errno = EINVAL;      /* not a text file */
		return NULL;
	}
	return buf;
}

static const char *default_path(void)
{
	static const char *const where[] = {
		"/etc/default/xendomains", "/etc/sysconfig/xendomains", "/etc/rc.conf", NULL,
	};
	for (size_t i = 0; where[i]; i++) {
		FILE *f = fopen(where[i], "re");
		if (f) {
			fclose(f);
			return where[i];
		}
	}
	return NULL;
}

int xd_import_xendomains_main(const char *path, FILE *out, FILE *err)
{
	if (!path && !(path = default_path())) {
		fprintf(err, "xendomd: no xendomains settings found (/etc/default/xendomains, "
			     "/etc/sysconfig/xendomains, /etc/rc.conf); name the file\n");
		return 2;
	}
	bool in = strcmp(path, "-") == 0;
	FILE *f = in ? stdin : fopen(path, "re");
	char *text = f ? slurp(f) : NULL;
	int e = errno;
	if (f && !in)
		fclose(f);
	if (!text) {
		fprintf(err, "xendomd: %s: %s\n", path, strerror(e));
		return 2;
	}
	size_t unread = 0;
	enum xd_import_kind kind;
	char *conf = xd_import_xendomains(text, in ? NULL : path, &kind, &unread);
	free(text);
	if (!conf || fputs(conf, out) < 0 || fflush(out) != 0) {
		fprintf(err, "xendomd: cannot write the configuration: %s\n", strerror(errno));
		free(conf);
		return 1;
	}
	free(conf);
	if (unread)
		fprintf(err, "xendomd: %s: %zu line%s not read (listed at the end of the output); "
			     "carry %s over by hand\n", path, unread, unread == 1 ? "" : "s",
			unread == 1 ? "it" : "them");
	return unread ? 1 : 0;
}
