/* SPDX-License-Identifier: ISC */
/*
 * xendomd-build migrate NAME DOMID HOST COMMAND live|suspended: the sending
 * side of a live migration, with the semantics of `xl migrate -s COMMAND
 * HOST NAME`
 * (xen tools/xl/xl_migrate.c; the protocol is xl's, so the other side is
 * a plain `xl migrate-receive`).  One process per migration, because
 * every step blocks: the transport's messages, and libxl_domain_suspend,
 * which copies the guest's memory for as long as it takes.
 *
 *  1. The transport: `sh -c 'exec COMMAND HOST xl migrate-receive'` (HOST
 *     single-quoted; it was checked to hold nothing a shell expands), our
 *     stream to its stdin, its stdout to us, in a process group of its
 *     own.
 *  2. Wait for the receiver's banner; send xl's save header with the
 *     domain's config (as `xl save` writes it: savefile.h).
 *  3. libxl_domain_suspend(LIBXL_SUSPEND_LIVE) into the stream, as xl
 *     (with "suspended", migrate_live = no: without LIVE, the guest
 *     suspended before the copy, for hypervisors without log-dirty
 *     tracking; the receiver cannot tell the difference).
 *  4. Wait for the receiver's "received" message; rename the domain
 *     NAME--migratedaway (the receiver takes NAME); say "go" on stdout,
 *     then give the receiver the permission to go: the point of no return.
 *  5. Read the receiver's report: 0, it runs the guest (we leave our copy
 *     suspended for the daemon to destroy); else it gave the guest back
 *     with its own permission, and we rename back and resume.
 *
 * A failure before step 4's permission resumes the guest here (a guest
 * that timed out suspending was never suspended).  A failure after it
 * leaves the copy here suspended and renamed: the guest may be running
 * on the target, and only an administrator can tell.  SIGTERM (the
 * daemon's cancel at migrate_timeout) kills the transport, so whichever
 * step is waiting fails as above.
 *
 * stdout carries "go" (before the permission is sent) and one result:
 *   ok DOMID | fail LIBXL_RC DOMID MESSAGE | doubt DOMID MESSAGE
 * This helper does not die with the daemon: a migration under way is
 * finished (and on success the copy here destroyed, if nobody is left to
 * do it), since a guest cut off in the middle would stay suspended.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "hv/libxl/build_helper.h"
#include "hv/libxl/build_proto.h"
#include "hv/libxl/libxl_api.h"
#include "hv/savefile.h"

/* xl's migration messages (the banner without its NUL, the others with). */
static const char banner[] = "xl migration receiver ready, send binary domain data.\n";
static const char received[] = "domain received, ready to unpause";
static const char permission[] = "domain is yours, you are cleared to unpause";
static const char report[] = "my copy unpause results are as follows";

#define TRANSPORT_REAP_MS 2000

static volatile sig_atomic_t cancelled;
static volatile sig_atomic_t transport_pgid;

static void on_term(int sig)
{
	(void)sig;
	cancelled = 1;
	if (transport_pgid > 0)
		kill(-(pid_t)transport_pgid, SIGKILL);
}

enum outcome { MIG_OK, MIG_FAIL, MIG_DOUBT };

struct mig {
	libxl_ctx *ctx;
	struct xlb_errlog *errs;
	uint32_t domid;
	const char *name, *host, *command;
	bool live;
	char away[XLB_BUILD_MSG_MAX];
	pid_t transport;
	int to, from;                    /* the receiver's stdin, stdout */
	char why[XLB_BUILD_MSG_MAX];
	int rc;                          /* libxl's, for "fail" */
};

static void say(struct mig *m, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void say(struct mig *m, int rc, const char *fmt, ...)
{
	va_list ap;
	m->rc = rc;
	va_start(ap, fmt);
	vsnprintf(m->why, sizeof(m->why), fmt, ap);
	va_end(ap);
	fprintf(stderr, "E migration to %s: %s\n", m->host, m->why);
}

/* Exactly n bytes; a cancel ends the wait. */
static int io_exact(int fd, void *buf, size_t n, bool writing)
{
	size_t off = 0;
	while (off < n) {
		ssize_t r = writing ? write(fd, (char *)buf + off, n - off)
				    : read(fd, (char *)buf + off, n - off);
		if (r < 0 && errno == EINTR && !cancelled)
			continue;
		if (r <= 0) {
			if (r == 0)
				errno = EPIPE;
			return -1;
		}
		off += (size_t)r;
	}
	return 0;
}

/* The receiver says exactly msg (len bytes) next. */
static int expect(struct mig *m, const char *msg, size_t len, const char *what)
{
	char buf[128];
	if (io_exact(m->from, buf, len, false) < 0) {
		if (cancelled)
			say(m, ERROR_FAIL, "cancelled while waiting for the receiver's %s", what);
		else
			say(m, ERROR_FAIL, "the receiver ended before its %s", what);
		return -1;
	}
	if (memcmp(buf, msg, len)) {
		say(m, ERROR_FAIL, "the receiver sent something else instead of its %s "
		    "(is xl migrate-receive what migrate_command runs there?)", what);
		return -1;
	}
	return 0;
}

static _Noreturn void exec_transport(int to, int from, const char *rune)
{
	sigset_t none;
	sigemptyset(&none);
	setpgid(0, 0);
	signal(SIGPIPE, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (dup2(to, 0) < 0 || dup2(from, 1) < 0)
		_exit(127);
	execl("/bin/sh", "sh", "-c", rune, (char *)NULL);
	_exit(127);
}

static int start_transport(struct mig *m)
{
	int to[2], from[2];
	char rune[1024];
	if (snprintf(rune, sizeof(rune), "exec %s '%s' xl migrate-receive", m->command,
		     m->host) >= (int)sizeof(rune)) {
		say(m, ERROR_INVAL, "migrate_command is too long");
		return -1;
	}
	if (pipe2(to, O_CLOEXEC) < 0 || pipe2(from, O_CLOEXEC) < 0) {
		say(m, ERROR_FAIL, "pipe: %s", strerror(errno));
		return -1;
	}
	fprintf(stderr, "I migration to %s: running %s\n", m->host, rune);
	pid_t pid = fork();
	if (pid == 0)
		exec_transport(to[0], from[1], rune);
	close(to[0]);
	close(from[1]);
	m->to = to[1];
	m->from = from[0];
	if (pid < 0) {
		say(m, ERROR_FAIL, "fork: %s", strerror(errno));
		return -1;
	}
	setpgid(pid, pid);
	m->transport = pid;
	transport_pgid = pid;
	if (cancelled)
		kill(-pid, SIGKILL);
	return 0;
}

/* Step 2: the banner, then xl's header with the config. */
static int preamble(struct mig *m)
{
	libxl_domain_config dc;
	char msg[HV_MSG_MAX];
	if (expect(m, banner, sizeof(banner) - 1, "banner") < 0)
		return -1;
	libxl_domain_config_init(&dc);
	int rc = libxl_retrieve_domain_configuration(m->ctx, m->domid, &dc, NULL);
	char *json = NULL;
	if (rc == 0) {
		dc.c_info.domid = 0;             /* as xl migrate without -D */
		json = libxl_domain_config_to_json(m->ctx, &dc);
	}
	libxl_domain_config_dispose(&dc);
	if (!json) {
		say(m, rc ? rc : ERROR_NOMEM, "cannot read the domain's configuration");
		return -1;
	}
	rc = savefile_write_header(m->to, json, msg, sizeof(msg));
	free(json);
	if (rc < 0)
		say(m, ERROR_FAIL, "sending the header: %s", msg);
	return rc;
}

/* Steps 3 and 4 up to the rename; -1: failed, guest to resume (resume
 * false: it never suspended). */
static int transfer(struct mig *m, bool *resume)
{
	*resume = true;
	if (preamble(m) < 0)
		return -1;
	int rc = libxl_domain_suspend(m->ctx, m->domid, m->to, m->live ? LIBXL_SUSPEND_LIVE : 0, NULL);
	if (rc) {
		*resume = rc != ERROR_GUEST_TIMEDOUT;
		char why[XLB_BUILD_MSG_MAX - 32];
		if (!xlb_errlog_pick(m->errs, m->domid, 0, why, sizeof(why)))
			snprintf(why, sizeof(why), "%s", libxl_error_to_string(rc));
		if (cancelled)
			say(m, rc, "cancelled while sending the domain (%s)", why);
		else
			say(m, rc, "sending the domain failed: %s", why);
		return -1;
	}
	if (expect(m, received, sizeof(received), "message that it received the domain") < 0)
		return -1;
	snprintf(m->away, sizeof(m->away), "%s--migratedaway", m->name);
	rc = libxl_domain_rename(m->ctx, m->domid, m->name, m->away);
	if (rc) {
		m->away[0] = '\0';
		say(m, rc, "renaming it to %s--migratedaway failed", m->name);
		return -1;
	}
	return 0;
}

static bool suspended(struct mig *m)
{
	libxl_dominfo di;
	libxl_dominfo_init(&di);
	bool s = libxl_domain_info(m->ctx, &di, m->domid) == 0 && di.shutdown &&
		 di.shutdown_reason == LIBXL_SHUTDOWN_REASON_SUSPEND;
	libxl_dominfo_dispose(&di);
	return s;
}

/* Give the guest back to this host: its name, and running again (a
 * failure during the live copy never suspended it: nothing to resume). */
static void take_back(struct mig *m)
{
	if (m->away[0] && libxl_domain_rename(m->ctx, m->domid, m->away, m->name))
		fprintf(stderr, "E migration to %s: could not rename %s back to %s\n", m->host,
			m->away, m->name);
	int rc = suspended(m) ? libxl_domain_resume(m->ctx, m->domid, 1, NULL) : 0;
	fprintf(stderr, "%c migration to %s: %s\n", rc ? 'E' : 'N', m->host,
		rc ? "resuming the guest here failed" : "the guest runs on here");
}

/* Steps 4 (the permission) and 5. */
static enum outcome handover(struct mig *m)
{
	unsigned char code;
	printf("go\n");
	fflush(stdout);
	if (io_exact(m->to, (void *)permission, sizeof(permission), true) < 0) {
		say(m, ERROR_FAIL, "sending the permission to go failed: %s", strerror(errno));
		return MIG_DOUBT;
	}
	if (expect(m, report, sizeof(report), "report") < 0 ||
	    io_exact(m->from, &code, 1, false) < 0) {
		if (!m->why[0])
			say(m, ERROR_FAIL, "the receiver's report was cut off");
		return MIG_DOUBT;
	}
	if (code == 0)
		return MIG_OK;
	/* the target failed to start it and destroys its copy; its
	 * permission gives the guest back to us */
	if (expect(m, permission, sizeof(permission), "permission to resume here") < 0)
		return MIG_DOUBT;
	say(m, ERROR_FAIL, "the target could not start the domain (code %u) and gave it back", code);
	take_back(m);
	return MIG_FAIL;
}

/* The transport's end: a moment to exit by itself, then killed. */
static void reap_transport(struct mig *m)
{
	if (m->to >= 0)
		close(m->to);
	if (m->from >= 0)
		close(m->from);
	m->to = m->from = -1;
	if (m->transport <= 0)
		return;
	struct timespec tick = { 0, 10 * 1000 * 1000 };
	for (int waited = 0; waited < TRANSPORT_REAP_MS; waited += 10) {
		if (waitpid(m->transport, NULL, WNOHANG) == m->transport)
			return;
		nanosleep(&tick, NULL);
	}
	kill(-m->transport, SIGKILL);
	waitpid(m->transport, NULL, 0);
}

static enum outcome migrate(struct mig *m)
{
	bool resume = false;
	if (start_transport(m) < 0 || transfer(m, &resume) < 0) {
		reap_transport(m);
		if (resume)
			take_back(m);
		return MIG_FAIL;
	}
	enum outcome o = handover(m);
	reap_transport(m);
	return o;
}

static int parse_domid(const char *s, uint32_t *domid)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (errno || end == s || *end || v == 0 || v > 0x7fef)
		return -1;
	*domid = (uint32_t)v;
	return 0;
}

static void install_signals(void)
{
	struct sigaction sa = { .sa_handler = on_term };   /* no SA_RESTART: a wait ends */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);        /* a dead receiver is an error, not our end */
}

int xlb_migrate_main(libxl_ctx *ctx, struct xlb_errlog *errs, pid_t parent, int argc, char **argv)
{
	static const libxl_childproc_hooks hooks = {
		.chldowner = libxl_sigchld_owner_libxl_always_selective_reap,
	};
	struct mig m = { .ctx = ctx, .errs = errs, .to = -1, .from = -1 };
	if (argc != 7 || parse_domid(argv[3], &m.domid) < 0 || !argv[4][0] || !argv[5][0] ||
	    (strcmp(argv[6], "live") && strcmp(argv[6], "suspended"))) {
		fprintf(stderr, "E usage: " XLB_BUILD_NAME " migrate NAME DOMID HOST COMMAND "
			"live|suspended\n");
		return 2;
	}
	m.live = !strcmp(argv[6], "live");
	libxl_childproc_setmode(ctx, &hooks, NULL);   /* we reap the transport ourselves */
	m.name = argv[2];
	m.host = argv[4];
	m.command = argv[5];
	install_signals();
	enum outcome o = migrate(&m);
	if (o == MIG_OK && getppid() != parent) {
		fprintf(stderr, "N migration to %s: xendomd is gone; destroying the copy here\n",
			m.host);
		libxl_domain_destroy(ctx, m.domid, NULL);
	}
	if (o == MIG_OK)
		printf("ok %u\n", m.domid);
	else if (o == MIG_DOUBT)
		printf("doubt %u %s\n", m.domid, m.why);
	else
		printf("fail %d %u %s\n", m.rc, m.domid, m.why);
	return fflush(stdout) == 0 && o == MIG_OK ? 0 : 1;
}
