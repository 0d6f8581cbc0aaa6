/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer target: the control request parser and dispatcher on the
 * fake engine (tests/control/fake_engine.h).
 *
 * The input is what one connected client sends: any number of request
 * lines (or garbage), written into a socket pair whose other end the
 * control server adopted as a root client, then the write side is shut.
 * The loop runs until the server closed the client (every reply, --wait
 * job and events stream ends at EOF) or a deadline.  Every input starts
 * from a fresh loop, configuration, fake engine and control socket, so
 * a `shutdown-host` or a `reload` cannot leak into the next one.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../control/fake_engine.h"
#include "config/load.h"
#include "daemon/control.h"
#include "daemon/control/control_int.h"   /* ctl_add_client: a client as accept() makes it */
#include "util/log.h"

#define DEADLINE_MS 1000

static char dir[64];

struct run {
	struct xd_loop *loop;
	struct xd_config *cfg;
	struct fake_engine *e;
	struct xd_service *svc;
	struct xd_control *ctl;
	struct xd_io *peer_io;
	int peer;                        /* our end of the pair */
	const uint8_t *data;
	size_t size, sent;
	struct xd_timer deadline;
};

static void put(const char *rel, const char *text)
{
	char path[128];
	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	FILE *f = fopen(path, "w");
	if (!f)
		abort();
	for (const char *p = text; *p; p++) {
		if (*p == '@')
			fputs(dir, f);
		else
			fputc(*p, f);
	}
	fclose(f);
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return remove(path);
}

static void cleanup(void)
{
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void quiet(void *ctx, enum xd_log_level lvl, const char *domain, long domid,
		  const char *msg)
{
	(void)ctx, (void)lvl, (void)domain, (void)domid, (void)msg;
}

static void setup(void)
{
	if (dir[0])
		return;
	snprintf(dir, sizeof(dir), "/tmp/xd-fuzz-control.XXXXXX");
	if (!mkdtemp(dir))
		abort();
	atexit(cleanup);
	xd_log_set_sink(quiet, NULL, 0);
	static const char *const names[] = { "storage", "db", "web", "batch" };
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char rel[64], text[128];
		snprintf(rel, sizeof(rel), "%s.cfg", names[i]);
		snprintf(text, sizeof(text), "name = \"%s\"\nmemory = 256\n", names[i]);
		put(rel, text);
	}
	put("xendomd.conf", "[global]\nxen_config_dir = @\nauto_dir = \"\"\n"
	    "socket = @/control\nsave_dir = @\nstate_dir = @\n"
	    "[domain storage]\n[domain db]\nrequires = storage\n"
	    "[domain web]\nrequires = db\n[domain batch]\nautostart = no\n");
}

static void on_changed(void *ctx, size_t dom, const struct xd_dom_status *st)
{
	struct run *r = ctx;
	if (r->ctl)
		xd_control_changed(r->ctl, dom, st);
	xd_service_progress(r->svc);
}

static void on_host_down(void *ctx)
{
	struct run *r = ctx;
	xd_control_host_down(r->ctl);
	xd_service_host_down(r->svc);
}

/* Our end: send the input as the socket takes it, read every reply. */
static void on_peer(struct xd_io *io, int fd, short revents, void *arg)
{
	(void)io, (void)revents;
	struct run *r = arg;
	char buf[65536];
	while (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) > 0)
		;
	while (r->sent < r->size) {
		ssize_t n = send(fd, r->data + r->sent, r->size - r->sent,
				 MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n <= 0)
			break;
		r->sent += (size_t)n;
	}
	if (r->sent == r->size)
		shutdown(fd, SHUT_WR);
	xd_loop_mod_io(r->loop, r->peer_io, r->sent < r->size ? POLLIN | POLLOUT : POLLIN);
}

static void after(void *arg)
{
	struct run *r = arg;
	struct xd_control_stats st;
	xd_control_stats(r->ctl, &st);
	if (st.clients == 0)
		xd_loop_quit(r->loop, 0);
}

static void on_deadline(struct xd_timer *t, void *arg)
{
	(void)t;
	struct run *r = arg;
	xd_loop_quit(r->loop, 0);
}

static int start(struct run *r)
{
	char conf[128];
	snprintf(conf, sizeof(conf), "%s/xendomd.conf", dir);
	struct xd_diags diags = { 0 };
	int rc = xd_config_load(conf, &r->cfg, &diags);
	xd_diags_free(&diags);
	if (rc < 0 || !(r->loop = xd_loop_new()))
		abort();
	struct xd_engine_env env = { .timers = xd_loop_timers(r->loop), .ctx = r,
				     .changed = on_changed, .host_down = on_host_down };
	r->e = fake_engine_new(r->cfg, &env);
	r->e->op_ms = 1;
	r->svc = xd_service_new(xd_loop_timers(r->loop), fake_engine_if(r->e), &r->cfg);
	static char conf_path[128];
	snprintf(conf_path, sizeof(conf_path), "%s", conf);
	struct xd_control_env cenv = { .loop = r->loop, .engine = fake_engine_if(r->e),
				       .service = r->svc, .cfg = &r->cfg,
				       .config_path = conf_path, .started_ms = xd_loop_clock() };
	r->ctl = xd_control_new(&cenv);
	if (!r->svc || !r->ctl)
		abort();
	return xd_loop_on_after(r->loop, after, r);
}

static void stop(struct run *r)
{
	xd_timer_disarm(xd_loop_timers(r->loop), &r->deadline);
	if (r->peer_io)
		xd_loop_del_io(r->loop, r->peer_io);
	close(r->peer);
	xd_control_free(r->ctl);
	xd_service_free(r->svc);
	fake_engine_free(r->e);
	xd_loop_free(r->loop);
	xd_config_free(r->cfg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	setup();
	struct run r = { .data = data, .size = size, .peer = -1 };
	if (start(&r) < 0)
		abort();
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) < 0)
		abort();
	r.peer = sv[1];
	ctl_add_client(r.ctl, sv[0]);
	r.peer_io = xd_loop_add_io(r.loop, sv[1], POLLIN | POLLOUT, on_peer, &r);
	xd_timer_init(&r.deadline, on_deadline, &r);
	if (!r.peer_io || xd_timer_arm_in(xd_loop_timers(r.loop), &r.deadline, DEADLINE_MS) < 0)
		abort();
	xd_loop_run(r.loop);
	stop(&r);
	return 0;
}
