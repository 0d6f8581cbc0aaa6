/* SPDX-License-Identifier: ISC */
/*
 * The control server in-process: a real loop, a real socket, a real
 * configuration loaded from a temporary directory, and the fake engine
 * (fake_engine.h) behind the control layer's engine interface.  Test clients are non-blocking sockets registered on
 * the same loop, so "wait for the reply" means "run the loop until a line
 * arrived" and nothing here can deadlock or depend on thread timing.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <jansson.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config/load.h"
#include "daemon/control.h"
#include "daemon/log.h"
#include "fake_engine.h"
#include "proto/proto.h"
#include "xd_build.h"

static char root[64];

struct fixture {
	struct xd_loop *loop;
	struct xd_config *cfg;
	struct fake_engine *e;
	struct xd_service *svc;
	struct xd_control *ctl;
	char conf[256];
	char sock[100];
	struct xd_timer deadline;
	bool timed_out;
	bool (*until)(void *arg);
	void *until_arg;
	unsigned iterations;             /* loop wake-ups, for the no-spin test */
	unsigned host_downs;
};

struct tclient {
	struct fixture *f;
	int fd;
	struct xd_io *io;
	char *buf;
	size_t len, cap;
	bool eof;
};

/* ------------------------------------------------------------------ */
/* Files                                                               */

static void write_text(const char *rel, const char *text)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/%s", root, rel);
	FILE *f = fopen(path, "we");
	assert_non_null(f);
	for (const char *p = text; *p; p++) {
		if (*p == '@')
			fputs(root, f);
		else
			fputc(*p, f);
	}
	assert_int_equal(fclose(f), 0);
}

static void xl_cfg(const char *name)
{
	char rel[128], text[128];
	snprintf(rel, sizeof(rel), "%s.cfg", name);
	snprintf(text, sizeof(text), "name = \"%s\"\nmemory = 256\n", name);
	write_text(rel, text);
}

#define GLOBAL_SECTION \
	"[global]\n" \
	"xen_config_dir = @\n" \
	"auto_dir = \"\"\n" \
	"include_dir = @/conf.d\n" \
	"socket = @/run/control\n" \
	"socket_group = nogroup\n" \
	"save_dir = @/save\n" \
	"state_dir = @/state\n"

static const char base_conf[] = GLOBAL_SECTION
	"[domain storage]\n"
	"[domain db]\n"
	"requires = storage\n"
	"[domain web]\n"
	"requires = db\n"
	"[domain batch]\n"
	"autostart = no\n";

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* ------------------------------------------------------------------ */
/* The loop                                                            */

static void on_deadline(struct xd_timer *t, void *arg)
{
	(void)t;
	struct fixture *f = arg;
	f->timed_out = true;
	xd_loop_quit(f->loop, 0);
}

static void after_iteration(void *arg)
{
	struct fixture *f = arg;
	f->iterations++;
	if (f->until && f->until(f->until_arg))
		xd_loop_quit(f->loop, 0);
}

/* Run the loop until cond holds (true) or ms pass (false). */
static bool run_until(struct fixture *f, bool (*cond)(void *), void *arg, uint64_t ms)
{
	if (cond && cond(arg))
		return true;
	f->until = cond;
	f->until_arg = arg;
	f->timed_out = false;
	(void)xd_timer_arm_in(xd_loop_timers(f->loop), &f->deadline,
			      ms + (xd_loop_clock() - xd_timers_now(xd_loop_timers(f->loop))));
	xd_loop_run(f->loop);
	xd_timer_disarm(xd_loop_timers(f->loop), &f->deadline);
	f->until = NULL;
	return !f->timed_out || (cond && cond(arg));
}

static void run_for(struct fixture *f, uint64_t ms)
{
	run_until(f, NULL, NULL, ms);
}

/* ------------------------------------------------------------------ */
/* Engine callbacks, as main.c fans them out                           */

static void engine_changed(void *ctx, size_t dom, const struct xd_dom_status *st)
{
	struct fixture *f = ctx;
	if (f->ctl)
		xd_control_changed(f->ctl, dom, st);
	if (f->svc)
		xd_service_progress(f->svc);
}

static void engine_host_down(void *ctx)
{
	struct fixture *f = ctx;
	f->host_downs++;
	xd_control_host_down(f->ctl);
	xd_service_host_down(f->svc);
}

#define MANY_DOMS 60             /* xl cfgs d00..d59, for setup_many */

static size_t test_backlog_max;  /* setup_with's backlog_total_max (0 = default) */

static int setup_with(void **state, const char *conf, uint64_t idle_ms)
{
	struct fixture *f = calloc(1, sizeof(*f));
	snprintf(root, sizeof(root), "/tmp/xd-control-XXXXXX");
	assert_non_null(mkdtemp(root));
	assert_int_equal(chmod(root, 0755), 0);
	char sub[128];
	snprintf(sub, sizeof(sub), "%s/conf.d", root);
	assert_int_equal(mkdir(sub, 0755), 0);
	for (const char *const *n = (const char *const[]){ "storage", "db", "web", "batch",
							   "extra", NULL }; *n; n++)
		xl_cfg(*n);
	for (int i = 0; i < MANY_DOMS; i++) {
		char name[16];
		snprintf(name, sizeof(name), "d%02d", i);
		xl_cfg(name);
	}
	write_text("xendomd.conf", conf);
	snprintf(f->conf, sizeof(f->conf), "%s/xendomd.conf", root);
	snprintf(f->sock, sizeof(f->sock), "%s/run/control", root);
	struct xd_diags diags = { 0 };
	if (xd_config_load(f->conf, &f->cfg, &diags) < 0)
		xd_diags_print(&diags, stderr);
	assert_non_null(f->cfg);
	xd_diags_free(&diags);

	f->loop = xd_loop_new();
	assert_non_null(f->loop);
	xd_timer_init(&f->deadline, on_deadline, f);
	assert_int_equal(xd_loop_on_after(f->loop, after_iteration, f), 0);
	struct xd_engine_env env = { .timers = xd_loop_timers(f->loop), .ctx = f,
				     .changed = engine_changed, .host_down = engine_host_down };
	f->e = fake_engine_new(f->cfg, &env);
	f->svc = xd_service_new(xd_loop_timers(f->loop), fake_engine_if(f->e), &f->cfg);
	assert_non_null(f->svc);
	struct xd_control_env cenv = { .loop = f->loop, .engine = fake_engine_if(f->e),
				       .service = f->svc, .cfg = &f->cfg,
				       .config_path = f->conf, .started_ms = xd_loop_clock(),
				       .idle_timeout_ms = idle_ms,
				       .backlog_total_max = test_backlog_max };
	f->ctl = xd_control_new(&cenv);
	assert_non_null(f->ctl);
	*state = f;
	return 0;
}

static int setup(void **state)
{
	return setup_with(state, base_conf, 0);
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	xd_control_free(f->ctl);
	xd_service_free(f->svc);
	fake_engine_free(f->e);
	xd_loop_free(f->loop);
	xd_config_free(f->cfg);
	nftw(root, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(f);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Test clients                                                        */

static void on_tclient(struct xd_io *io, int fd, short revents, void *arg)
{
	(void)io;
	(void)revents;
	struct tclient *c = arg;
	for (;;) {
		if (c->len + 4096 > c->cap) {
			c->cap = c->cap ? c->cap * 2 : 65536;
			c->buf = realloc(c->buf, c->cap);
			assert_non_null(c->buf);
		}
		ssize_t n = recv(fd, c->buf + c->len, c->cap - c->len, 0);
		if (n > 0) {
			c->len += (size_t)n;
			continue;
		}
		if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
			c->eof = true;
			xd_loop_del_io(c->f->loop, c->io);
			c->io = NULL;
		}
		return;
	}
}

static int raw_connect(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	assert_true(strlen(path) < sizeof(sa.sun_path));
	memcpy(sa.sun_path, path, strlen(path) + 1);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int err = errno;
		close(fd);
		errno = err;
		return -1;
	}
	return fd;
}

static struct tclient *tclient_adopt(struct fixture *f, int fd)
{
	struct tclient *c = calloc(1, sizeof(*c));
	c->f = f;
	c->fd = fd;
	assert_int_equal(fcntl(fd, F_SETFL, O_NONBLOCK), 0);
	c->io = xd_loop_add_io(f->loop, fd, POLLIN, on_tclient, c);
	return c;
}

static struct tclient *tclient_new(struct fixture *f)
{
	int fd = raw_connect(f->sock);
	assert_true(fd >= 0);
	return tclient_adopt(f, fd);
}

static void tclient_free(struct tclient *c)
{
	if (c->io)
		xd_loop_del_io(c->f->loop, c->io);
	close(c->fd);
	free(c->buf);
	free(c);
}

static void tclient_send(struct tclient *c, const char *text)
{
	size_t len = strlen(text), off = 0;
	while (off < len) {
		ssize_t n = send(c->fd, text + off, len - off, MSG_NOSIGNAL);
		if (n < 0 && errno == EAGAIN) {
			run_for(c->f, 5);
			continue;
		}
		assert_true(n > 0);
		off += (size_t)n;
	}
}

static bool has_line(void *arg)
{
	struct tclient *c = arg;
	return c->eof || (c->len && memchr(c->buf, '\n', c->len));
}

static bool is_eof(void *arg)
{
	return ((struct tclient *)arg)->eof;
}

/* The next line from the daemon as JSON, NULL at EOF or after ms. */
static json_t *tclient_line(struct tclient *c, uint64_t ms)
{
	if (!run_until(c->f, has_line, c, ms))
		return NULL;
	char *nl = c->len ? memchr(c->buf, '\n', c->len) : NULL;
	if (!nl)
		return NULL;
	size_t n = (size_t)(nl - c->buf);
	json_error_t err;
	json_t *j = json_loadb(c->buf, n, 0, &err);
	if (!j)
		fail_msg("bad line from the daemon: %s", err.text);
	c->len -= n + 1;
	memmove(c->buf, nl + 1, c->len);
	return j;
}

static json_t *ask(struct tclient *c, const char *request, uint64_t ms)
{
	tclient_send(c, request);
	return tclient_line(c, ms);
}

static void assert_error(json_t *reply, int code)
{
	assert_non_null(reply);
	assert_true(json_is_false(json_object_get(reply, "ok")));
	assert_int_equal(json_integer_value(json_object_get(reply, "code")), code);
	assert_non_null(json_string_value(json_object_get(reply, "error")));
}

static void assert_ok(json_t *reply)
{
	assert_non_null(reply);
	if (!json_is_true(json_object_get(reply, "ok")))
		fail_msg("not ok: %s", json_string_value(json_object_get(reply, "error")));
}

static const char *str_at(json_t *array, size_t i)
{
	return json_string_value(json_array_get(array, i));
}

static json_t *dom_entry(json_t *reply, const char *name)
{
	size_t i;
	json_t *d;
	json_array_foreach(json_object_get(reply, "domains"), i, d)
		if (strcmp(json_string_value(json_object_get(d, "name")), name) == 0)
			return d;
	return NULL;
}

static const char *state_in(json_t *reply, const char *name)
{
	json_t *d = dom_entry(reply, name);
	return d ? json_string_value(json_object_get(d, "state")) : NULL;
}

/* ------------------------------------------------------------------ */
/* Tests: socket and requests                                          */

static void test_socket_mode_and_group(void **state)
{
	struct fixture *f = *state;
	struct stat st;
	assert_int_equal(lstat(f->sock, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0660);
	struct group *gr = getgrnam("nogroup");
	assert_non_null(gr);
	assert_int_equal(st.st_gid, gr->gr_gid);
	/* Made under a temporary name and renamed once listening: the file
	 * never exists before the socket accepts, and nothing is left over. */
	char tmp[512];
	snprintf(tmp, sizeof(tmp), "%s.new", f->sock);
	assert_int_equal(lstat(tmp, &st), -1);
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", f->sock);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(fd);
}

static void test_second_daemon_refused_stale_socket_replaced(void **state)
{
	struct fixture *f = *state;
	struct xd_control_env env = { .loop = f->loop, .engine = fake_engine_if(f->e),
				      .service = f->svc, .cfg = &f->cfg, .config_path = f->conf };
	assert_null(xd_control_new(&env));    /* the socket is alive */
	/* Kill ours without unlinking: a stale file stays behind. */
	xd_control_free(f->ctl);
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	memcpy(sa.sun_path, f->sock, strlen(f->sock) + 1);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(fd);
	f->ctl = xd_control_new(&env);
	assert_non_null(f->ctl);
	struct tclient *c = tclient_new(f);
	json_t *r = ask(c, "{\"cmd\":\"status\"}\n", 2000);
	assert_ok(r);
	json_decref(r);
	tclient_free(c);
}

static void test_status_shape(void **state)
{
	struct fixture *f = *state;
	struct tclient *c = tclient_new(f);
	json_t *r = ask(c, "{\"cmd\":\"status\"}\n", 2000);
	assert_ok(r);
	json_t *doms = json_object_get(r, "domains");
	assert_int_equal(json_array_size(doms), 4);
	json_t *d = json_array_get(doms, 1);
	assert_string_equal(json_string_value(json_object_get(d, "name")), "db");
	assert_string_equal(json_string_value(json_object_get(d, "state")), "inactive");
	assert_true(json_is_null(json_object_get(d, "domid")));
	assert_true(json_is_null(json_object_get(d, "reason")));
	assert_true(json_is_integer(json_object_get(d, "attempts")));
	assert_true(json_is_number(json_object_get(d, "since")));
	assert_true(json_is_true(json_object_get(d, "managed")));
	assert_true(json_is_number(json_object_get(r, "uptime")));
	json_decref(r);

	r = ask(c, "{\"cmd\":\"status\",\"names\":[\"web\"]}\n", 2000);
	assert_ok(r);
	assert_int_equal(json_array_size(json_object_get(r, "domains")), 1);
	assert_string_equal(state_in(r, "web"), "inactive");
	json_decref(r);

	r = ask(c, "{\"cmd\":\"status\",\"names\":[\"nosuch\"]}\n", 2000);
	assert_error(r, 2);
	assert_non_null(strstr(json_string_value(json_object_get(r, "error")), "nosuch"));
	json_decref(r);
	tclient_free(c);
}

/* 60 domains, the last one named 4096 times: each name is one hash
 * lookup, not a scan of every domain (which would be 4096 * 60 engine
 * queries). */
static int setup_many(void **state)
{
	char conf[4096] = GLOBAL_SECTION;
	for (int i = 0; i < MANY_DOMS; i++)
		snprintf(conf + strlen(conf), sizeof(conf) - strlen(conf),
			 "[domain d%02d]\nautostart = no\n", i);
	return setup_with(state, conf, 0);
}

static void test_many_names_cost_one_lookup_each(void **state)
{
	struct fixture *f = *state;
	size_t len = 64 + 6 * XD_PROTO_NAMES_MAX;
	char *req = malloc(len);
	assert_non_null(req);
	strcpy(req, "{\"cmd\":\"status\",\"names\":[");
	for (int i = 0; i < XD_PROTO_NAMES_MAX; i++)
		strcat(req, i ? ",\"d59\"" : "\"d59\"");
	strcat(req, "]}\n");
	struct tclient *c = tclient_new(f);
	f->e->status_calls = 0;
	json_t *r = ask(c, req, 5000);
	assert_ok(r);
	assert_int_equal(json_array_size(json_object_get(r, "domains")), XD_PROTO_NAMES_MAX);
	assert_string_equal(state_in(r, "d59"), "inactive");
	/* One query per name for the reply, a few per lookup, the index once. */
	assert_true(f->e->status_calls < 8 * XD_PROTO_NAMES_MAX + MANY_DOMS);
	json_decref(r);
	tclient_free(c);
	free(req);
}

static void test_bad_requests_get_errors(void **state)
{
	struct fixture *f = *state;
	struct tclient *c = tclient_new(f);
	static const char *const bad[] = {
		"this is not json\n",
		"[1,2,3]\n",
		"{\"names\":[]}\n",
		"{\"cmd\":\"launch-missiles\"}\n",
		"{\"cmd\":\"start\"}\n",
		"{\"cmd\":\"start\",\"names\":\"db\"}\n",
		"{\"cmd\":\"start\",\"names\":[42]}\n",
		"{\"cmd\":\"stop\",\"names\":[\"nosuch\"]}\n",
		"{\"cmd\":1}\n",
		"\xff\xfe\x01garbage\n",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		json_t *r = ask(c, bad[i], 2000);
		assert_error(r, 2);
		json_decref(r);
	}
	/* The connection is still good. */
	json_t *r = ask(c, "{\"cmd\":\"status\"}\n", 2000);
	assert_ok(r);
	json_decref(r);
	assert_int_equal(f->e->starts + f->e->stops, 0);
	tclient_free(c);
}

static void test_oversized_request_refused_and_closed(void **state)
{
	struct fixture *f = *state;
	struct tclient *c = tclient_new(f);
	size_t n = XD_PROTO_REQUEST_MAX + 5000;
	char *big = malloc(n + 1);
	assert_non_null(big);
	memset(big, 'x', n);
	big[n] = '\0';
	tclient_send(c, big);
	json_t *r = tclient_line(c, 2000);
	assert_error(r, 2);
	assert_non_null(strstr(json_string_value(json_object_get(r, "error")), "65536"));
	json_decref(r);
	assert_true(run_until(f, is_eof, c, 2000));
	free(big);
	tclient_free(c);

	/* Exactly the limit is fine. */
	c = tclient_new(f);
	static const char head[] = "{\"cmd\":\"status\",\"pad\":\"";
	size_t hl = sizeof(head) - 1, body = XD_PROTO_REQUEST_MAX - hl - 2;
	static char exact[XD_PROTO_REQUEST_MAX + 2];
	memcpy(exact, head, hl);
	memset(exact + hl, 'y', body);
	memcpy(exact + hl + body, "\"}\n", 4);
	assert_int_equal(strlen(exact), XD_PROTO_REQUEST_MAX + 1);
	r = ask(c, exact, 2000);
	assert_ok(r);
	json_decref(r);
	tclient_free(c);
}

static void test_pipelined_requests_answered_in_order(void **state)
{
	struct fixture *f = *state;
	struct tclient *c = tclient_new(f);
	tclient_send(c, "{\"cmd\":\"status\",\"names\":[\"db\"]}\n"
			"{\"cmd\":\"nope\"}\n"
			"{\"cmd\":\"status\",\"names\":[\"web\"]}\n");
	json_t *r1 = tclient_line(c, 2000), *r2 = tclient_line(c, 2000), *r3 = tclient_line(c, 2000);
	assert_ok(r1);
	assert_non_null(dom_entry(r1, "db"));
	assert_error(r2, 2);
	assert_ok(r3);
	assert_non_null(dom_entry(r3, "web"));
	json_decref(r1);
	json_decref(r2);
	json_decref(r3);
	tclient_free(c);
}

/* ------------------------------------------------------------------ */
/* Tests: commands and --wait                                          */

static void test_start_reports_requirements(void **state)
{
	struct fixture *f = *state;
	struct tclient *c = tclient_new(f);
	json_t *r = ask(c, "{\"cmd\":\"start\",\"names\":[\"web\"]}\n", 2000);
	assert_ok(r);
	assert_string_equal(str_at(json_object_get(r, "names"), 0), "web");
	json_t *also = json_object_get(r, "also");
	assert_int_equal(json_array_size(also), 2);
	assert_string_equal(str_at(also, 0), "storage");
	assert_string_equal(str_at(also, 1), "db");
	/* Not waited for: still on its way. */
	assert_string_equal(xd_state_name(fake_dom(f->e, "web")->state), "waiting");
	json_decref(r);
	tclient_free(c);
}

static void test_start_wait_replies_when_ready(void **state)
{
	struct fixture *f = *state;
	struct tclient *c = tclient_new(f);
	f->e->op_ms = 150;
	uint64_t t0 = xd_loop_clock();
	json_t *r = ask(c, "{\"cmd\":\"start\",\"names\":[\"web\"],\"wait\":true}\n", 5000);
	uint64_t took = xd_loop_clock() - t0;
	assert_ok(r);
	assert_true(took >= 150);
	assert_int_equal(json_array_size(json_object_get(r, "domains")), 3);
	assert_string_equal(state_in(r, "storage"), "running");
	assert_string_equal(state_in(r, "db"), "running");
	assert_string_equal(state_in(r, "web"), "running");
	assert_true(json_is_integer(json_object_get(dom_entry(r, "web"), "domid")));
	json_decref(r);
	tclient_free(c);
}

static void test_start_wait_reports_failure(void **state)
{
	struct fixture *f = *state;
	struct tclient *c = tclient_new(f);
	fake_dom(f->e, "db")->fail_start = true;
	json_t *r = ask(c, "{\"cmd\":\"start\",\"names\":[\"db\"],\"wait\":true}\n", 5000);
	assert_error(r, 1);
	const char *err = json_string_value(json_object_get(r, "error"));
	assert_non_null(strstr(err, "db is failed"));
	assert_non_null(strstr(err, "create failed: fake"));
	assert_null(strstr(err, "storage"));
	assert_string_equal(state_in(r, "storage"), "running");
	json_decref(r);
	tclient_free(c);
}

static void start_all(struct tclient *c)
{
	json_t *r = ask(c, "{\"cmd\":\"start\",\"names\":[\"web\",\"batch\"],\"wait\":true}\n", 5000);
	assert_ok(r);
	json_decref(r);
}

static void test_stop_stops_dependents_first(void **state)
{
	struct fixture *f = *state;
	struct tclient *c = tclient_new(f);
	start_all(c);
	json_t *r = ask(c, "{\"cmd\":\"stop\",\"names\":[\"db\"],\"wait\":true}\n", 5000);
	assert_ok(r);
	assert_int_equal(json_array_size(json_object_get(r, "domains")), 2);
	assert_string_equal(state_in(r, "web"), "inactive");
	assert_string_equal(state_in(r, "db"), "inactive");
	json_decref(r);
	assert_string_equal(xd_state_name(fake_dom(f->e, "storage")->state), "running");

	/* Without --wait the reply names the dependents stopped first. */
	r = ask(c, "{\"cmd\":\"stop\",\"names\":[\"storage\"]}\n", 2000);
	assert_ok(r);
	json_t *also = json_object_get(r, "also");
	assert_int_equal(json_array_size(also), 0);  /* db and web are down already */
	json_decref(r);
	tclient_free(c);
}

static void test_stop_reply_names_cascade(void **state)
{
	struct fixture *f = *state;
	struct tclient *c = tclient_new(f);
	start_all(c);
	json_t *r = ask(c, "{\"cmd\":\"stop\",\"names\":[\"storage\"]}\n", 2000);
	assert_ok(r);
	json_t *also = json_object_get(r, "also");
	assert_int_equal(json_array_size(also), 2);
	assert_string_equal(str_at(also, 0), "web");
	assert_string_equal(str_at(also, 1), "db");
	json_decref(r);
	tclient_free(c);
}

static bool all_running(void *arg)
{
	struct fixture *f = arg;
	for (size_t i = 0; i < 3; i++)
		if (f->e->doms[i].state != XD_RUNNING)
			return false;
	return true;
}

static void test_restart_without_wait_still_restarts(void **state)
{
	struct fixture *f = *state;
	struct tclient *c = tclient_new(f);
	start_all(c);
	long old_domid = fake_dom(f->e, "db")->domid;
	json_t *r = ask(c, "{\"cmd\":\"restart\",\"names\":[\"db\"]}\n", 2000);
	assert_ok(r);
	assert_string_equal(str_at(json_object_get(r, "also"), 0), "web");
	json_decref(r);
	tclient_free(c);                  /* nobody waits any more */
	assert_string_equal(xd_state_name(fake_dom(f->e, "db")->state), "stopping");
	assert_true(run_until(f, all_running, f, 5000));
	assert_true(fake_dom(f->e, "db")->domid != old_domid);
	assert_int_equal(f->e->starts, 2);
}

static void test_restart_wait(void **state)
{
	struct fixture *f = *state;
	struct tclient *c = tclient_new(f);
	start_all(c);
	json_t *r = ask(c, "{\"cmd\":\"restart\",\"names\":[\"db\"],\"wait\":true}\n", 5000);
	assert_ok(r);
	assert_string_equal(state_in(r, "db"), "running");
	assert_string_equal(state_in(r, "web"), "running");
	json_decref(r);
	tclient_free(c);
}

static void test_save_wait_success_and_failure(void **state)
{
	struct fixture *f = *state;
	struct tclient *c = tclient_new(f);
	start_all(c);
	json_t *r = ask(c, "{\"cmd\":\"save\",\"names\":[\"batch\"],\"wait\":true}\n", 5000);
	assert_ok(r);
	assert_string_equal(state_in(r, "batch"), "saved");
	json_decref(r);
	fake_dom(f->e, "web")->fail_save = true;
	r = ask(c, "{\"cmd\":\"save\",\"names\":[\"web\"],\"wait\":true}\n", 5000);
	assert_error(r, 1);
	assert_non_null(strstr(json_string_value(json_object_get(r, "error")), "save failed"));
	assert_string_equal(state_in(r, "web"), "running");
	json_decref(r);
	tclient_free(c);
}

static void test_migrate_wait_success_and_failures(void **state)
{
	struct fixture *f = *state;
	struct tclient *c = tclient_new(f);
	start_all(c);
	json_t *r = ask(c, "{\"cmd\":\"migrate\",\"names\":[\"batch\"],\"host\":\"b.example\","
			"\"wait\":true}\n", 5000);
	assert_ok(r);
	assert_string_equal(json_string_value(json_object_get(r, "host")), "b.example");
	assert_string_equal(state_in(r, "batch"), "inactive");
	assert_string_equal(fake_dom(f->e, "batch")->migrate_host, "b.example");
	json_decref(r);
	/* failed before the go: running here again, exit code 1 */
	fake_dom(f->e, "web")->fail_migrate = true;
	r = ask(c, "{\"cmd\":\"migrate\",\"names\":[\"web\"],\"host\":\"b\",\"wait\":true}\n", 5000);
	assert_error(r, 1);
	assert_non_null(strstr(json_string_value(json_object_get(r, "error")),
			       "web is running: migration to b failed"));
	assert_string_equal(state_in(r, "web"), "running");
	json_decref(r);
	/* in doubt: failed, with its domid */
	fake_dom(f->e, "db")->migrate_in_doubt = true;
	r = ask(c, "{\"cmd\":\"migrate\",\"names\":[\"db\"],\"host\":\"b\",\"wait\":true}\n", 5000);
	assert_error(r, 1);
	assert_non_null(strstr(json_string_value(json_object_get(r, "error")), "in doubt"));
	assert_string_equal(state_in(r, "db"), "failed");
	json_decref(r);
	/* without --wait: the reply says it started */
	fake_dom(f->e, "web")->fail_migrate = false;
	r = ask(c, "{\"cmd\":\"migrate\",\"names\":[\"web\"],\"host\":\"c\"}\n", 2000);
	assert_ok(r);
	assert_null(json_object_get(r, "domains"));
	assert_string_equal(xd_state_name(fake_dom(f->e, "web")->state), "migrating");
	json_decref(r);
	tclient_free(c);
}

static void test_migrate_refusals(void **state)
{
	struct fixture *f = *state;
	struct tclient *c = tclient_new(f);
	/* not running: refused at once, code 1, naming the domain */
	json_t *r = ask(c, "{\"cmd\":\"migrate\",\"names\":[\"db\"],\"host\":\"b\",\"wait\":true}\n", 2000);
	assert_error(r, 1);
	assert_string_equal(json_string_value(json_object_get(r, "error")),
			    "db: cannot migrate: not running");
	json_decref(r);
	static const char *const usage[] = {
		"{\"cmd\":\"migrate\",\"names\":[\"db\"]}\n",
		"{\"cmd\":\"migrate\",\"names\":[\"db\"],\"host\":7}\n",
		"{\"cmd\":\"migrate\",\"names\":[\"db\"],\"host\":\"-oProxyCommand=x\"}\n",
		"{\"cmd\":\"migrate\",\"names\":[\"db\"],\"host\":\"h;reboot\"}\n",
		"{\"cmd\":\"migrate\",\"names\":[\"db\",\"web\"],\"host\":\"b\"}\n",
		"{\"cmd\":\"migrate\",\"names\":[\"nosuch\"],\"host\":\"b\"}\n",
		"{\"cmd\":\"migrate\",\"host\":\"b\"}\n",
	};
	for (size_t i = 0; i < sizeof(usage) / sizeof(usage[0]); i++) {
		r = ask(c, usage[i], 2000);
		assert_error(r, 2);
		json_decref(r);
	}
	assert_int_equal(f->e->migrates, 0);
	tclient_free(c);
}

static void test_wait_on_settled_domain_replies_at_once(void **state)
{
	struct fixture *f = *state;
	struct tclient *c = tclient_new(f);
	json_t *r = ask(c, "{\"cmd\":\"stop\",\"names\":[\"db\"],\"wait\":true}\n", 2000);
	assert_ok(r);
	assert_string_equal(state_in(r, "db"), "inactive");
	json_decref(r);
	tclient_free(c);
}

static void test_events_stream(void **state)
{
	struct fixture *f = *state;
	struct tclient *ev = tclient_new(f), *c = tclient_new(f);
	/* What follows `events` on the same connection is not a request. */
	json_t *r = ask(ev, "{\"cmd\":\"events\"}\n{\"cmd\":\"stop\",\"names\":[\"db\"]}\n", 2000);
	assert_ok(r);
	json_decref(r);
	run_for(f, 20);
	assert_int_equal(f->e->stops, 0);
	r = ask(c, "{\"cmd\":\"start\",\"names\":[\"storage\"],\"wait\":true}\n", 5000);
	assert_ok(r);
	json_decref(r);
	json_t *e1 = tclient_line(ev, 2000), *e2 = tclient_line(ev, 2000);
	assert_non_null(e1);
	assert_non_null(e2);
	assert_string_equal(json_string_value(json_object_get(e1, "name")), "storage");
	assert_string_equal(json_string_value(json_object_get(e1, "state")), "waiting");
	assert_true(json_is_null(json_object_get(e1, "domid")));
	assert_true(json_is_null(json_object_get(e1, "reason")));
	assert_string_equal(json_string_value(json_object_get(e2, "state")), "running");
	assert_true(json_is_integer(json_object_get(e2, "domid")));
	assert_true(json_number_value(json_object_get(e2, "time")) >=
		    json_number_value(json_object_get(e1, "time")));
	json_decref(e1);
	json_decref(e2);
	tclient_free(ev);
	tclient_free(c);
}

static void test_shutdown_host_wait(void **state)
{
	struct fixture *f = *state;
	struct tclient *c = tclient_new(f);
	start_all(c);
	json_t *r = ask(c, "{\"cmd\":\"shutdown-host\",\"wait\":true}\n", 5000);
	assert_ok(r);
	assert_int_equal(f->host_downs, 1);
	size_t i;
	json_t *d;
	json_array_foreach(json_object_get(r, "domains"), i, d)
		assert_true(json_is_null(json_object_get(d, "domid")));
	json_decref(r);
	tclient_free(c);
}

/* Nothing running: the sequence is over inside the command itself (the
 * engine reports the host down before it returns).  The wait must still
 * be answered, not hang (it did: the job was made after the report). */
static void test_shutdown_host_wait_nothing_running(void **state)
{
	struct fixture *f = *state;
	struct tclient *c = tclient_new(f);
	json_t *r = ask(c, "{\"cmd\":\"shutdown-host\",\"wait\":true}\n", 5000);
	assert_ok(r);
	assert_int_equal(f->host_downs, 1);
	assert_non_null(json_object_get(r, "domains"));
	json_decref(r);
	tclient_free(c);
}

static void test_plan(void **state)
{
	struct fixture *f = *state;
	struct tclient *c = tclient_new(f);
	json_t *r = ask(c, "{\"cmd\":\"plan\"}\n", 2000);
	assert_ok(r);
	assert_string_equal(json_string_value(json_object_get(r, "format")), "text");
	assert_true(strlen(json_string_value(json_object_get(r, "text"))) > 0);
	json_t *order = json_object_get(r, "order");
	assert_int_equal(json_array_size(order), 3);  /* batch is on demand */
	for (size_t i = 0; i < 3; i++)
		assert_int_equal(json_integer_value(json_object_get(json_array_get(order, i),
								    "wave")), i);
	json_decref(r);
	r = ask(c, "{\"cmd\":\"plan\",\"dot\":true}\n", 2000);
	assert_ok(r);
	assert_non_null(strstr(json_string_value(json_object_get(r, "text")), "digraph"));
	json_decref(r);
	tclient_free(c);
}

static void test_timeline(void **state)
{
	struct fixture *f = *state;
	struct tclient *c = tclient_new(f);
	json_t *r = ask(c, "{\"cmd\":\"start\",\"names\":[\"storage\"],\"wait\":true}\n", 5000);
	json_decref(r);
	r = ask(c, "{\"cmd\":\"timeline\"}\n", 2000);
	assert_ok(r);
	json_t *s = dom_entry(r, "storage"), *w = dom_entry(r, "web");
	static const char *const keys[] = { "queued", "started", "created", "ready" };
	for (size_t i = 0; i < 4; i++) {
		assert_true(json_is_number(json_object_get(s, keys[i])));
		assert_true(json_is_null(json_object_get(w, keys[i])));
	}
	assert_true(json_is_null(json_object_get(s, "stopped")));
	assert_true(json_number_value(json_object_get(s, "ready")) >=
		    json_number_value(json_object_get(s, "queued")));
	json_decref(r);
	tclient_free(c);
}

/* ------------------------------------------------------------------ */
/* Tests: reload                                                       */

static void test_reload_applies_good_config(void **state)
{
	struct fixture *f = *state;
	struct tclient *c = tclient_new(f);
	const struct xd_config *before = f->cfg;
	write_text("xendomd.conf", GLOBAL_SECTION
		   "[domain storage]\n"
		   "[domain db]\n"
		   "requires = storage\n"
		   "start_delay = 3\n"
		   "[domain web]\n"
		   "requires = db\n"
		   "[domain extra]\n");
	json_t *r = ask(c, "{\"cmd\":\"reload\"}\n", 5000);
	assert_ok(r);
	assert_string_equal(str_at(json_object_get(r, "added"), 0), "extra");
	assert_string_equal(str_at(json_object_get(r, "starting"), 0), "extra");
	assert_string_equal(str_at(json_object_get(r, "removed"), 0), "batch");
	assert_int_equal(json_array_size(json_object_get(r, "changed")), 1);
	assert_string_equal(str_at(json_object_get(r, "changed"), 0), "db");
	json_decref(r);
	assert_int_equal(f->e->reloads, 1);
	assert_ptr_not_equal(f->cfg, before);
	assert_ptr_equal(f->e->cfg, f->cfg);
	assert_true(xd_config_find(f->cfg, "extra") >= 0);

	/* batch is now unmanaged: known to status, not startable. */
	r = ask(c, "{\"cmd\":\"status\",\"names\":[\"batch\"]}\n", 2000);
	assert_ok(r);
	assert_true(json_is_false(json_object_get(dom_entry(r, "batch"), "managed")));
	json_decref(r);
	r = ask(c, "{\"cmd\":\"start\",\"names\":[\"batch\"]}\n", 2000);
	assert_error(r, 2);
	assert_non_null(strstr(json_string_value(json_object_get(r, "error")), "not managed"));
	json_decref(r);
	/* extra got a slot after the others: start uses config indices. */
	r = ask(c, "{\"cmd\":\"start\",\"names\":[\"extra\"],\"wait\":true}\n", 5000);
	assert_ok(r);
	assert_string_equal(state_in(r, "extra"), "running");
	json_decref(r);
	tclient_free(c);
}

static void test_reload_refuses_bad_config(void **state)
{
	struct fixture *f = *state;
	struct tclient *c = tclient_new(f);
	const struct xd_config *before = f->cfg;
	write_text("xendomd.conf", GLOBAL_SECTION
		   "[domain storage]\n"
		   "bogus_key = 1\n"
		   "[domain db]\n"
		   "requires = nowhere\n");
	json_t *r = ask(c, "{\"cmd\":\"reload\"}\n", 5000);
	assert_error(r, 2);
	json_t *errors = json_object_get(r, "errors");
	assert_true(json_array_size(errors) >= 2);
	char want[300];
	snprintf(want, sizeof(want), "%s:10:", f->conf);
	assert_non_null(strstr(str_at(errors, 0), want));
	json_decref(r);
	assert_int_equal(f->e->reloads, 0);
	assert_ptr_equal(f->cfg, before);
	assert_int_equal(f->cfg->n_domains, 4);
	/* Still serving with the old configuration. */
	r = ask(c, "{\"cmd\":\"start\",\"names\":[\"batch\"],\"wait\":true}\n", 5000);
	assert_ok(r);
	json_decref(r);
	tclient_free(c);
}

static void test_sighup_reloads(void **state)
{
	struct fixture *f = *state;
	write_text("xendomd.conf", GLOBAL_SECTION "[domain storage]\n");
	raise(SIGHUP);
	run_for(f, 50);
	assert_int_equal(f->e->reloads, 1);
	assert_int_equal(f->cfg->n_domains, 1);
}

/* ------------------------------------------------------------------ */
/* Tests: misbehaving clients                                          */

static void test_idle_and_partial_clients_dropped(void **state)
{
	struct fixture *f = *state;
	struct tclient *silent = tclient_new(f), *partial = tclient_new(f);
	struct tclient *busy = tclient_new(f);
	tclient_send(partial, "{\"cmd\":\"sta");
	run_for(f, 50);
	json_t *r = ask(busy, "{\"cmd\":\"events\"}\n", 1000);
	assert_ok(r);
	json_decref(r);
	assert_true(run_until(f, is_eof, silent, 2000));
	assert_true(run_until(f, is_eof, partial, 2000));
	/* Event subscribers are not idle. */
	run_for(f, 300);
	assert_false(busy->eof);
	tclient_free(silent);
	tclient_free(partial);
	tclient_free(busy);
}

/* Every field of every request with every wrong JSON type: a code-2
 * error that names the field, and nothing done. */
static void test_wrong_field_types_are_errors(void **state)
{
	struct fixture *f = *state;
	struct tclient *c = tclient_new(f);
	static const char *const bad_bool[] = { "\"yes\"", "1", "0", "null", "[]", "{}",
						"\"true\"" };
	static const char *const bad_names[] = { "\"db\"", "1", "true", "null", "{}",
						 "[1]", "[\"db\",null]", "[[\"db\"]]" };
	static const char *const bad_cmd[] = { "1", "true", "null", "[\"status\"]", "{}" };
	char req[256], want[16];
	for (size_t k = 0; k < XD_CMD_COUNT; k++) {
		const char *cmd = xd_proto_commands[k].name;
		for (int field = 0; field < 3; field++) {
			const char *key = field == 0 ? "names" : field == 1 ? "wait" : "dot";
			const char *const *vals = field == 0 ? bad_names : bad_bool;
			size_t n = field == 0 ? sizeof(bad_names) / sizeof(*bad_names)
					      : sizeof(bad_bool) / sizeof(*bad_bool);
			snprintf(want, sizeof(want), "\"%s\"", key);
			for (size_t v = 0; v < n; v++) {
				snprintf(req, sizeof(req), "{\"cmd\":\"%s\",\"names\":[\"db\"],"
					 "\"%s\":%s}\n", cmd, key, vals[v]);
				if (field == 0)
					snprintf(req, sizeof(req), "{\"cmd\":\"%s\",\"names\":%s}\n",
						 cmd, vals[v]);
				json_t *r = ask(c, req, 1000);
				assert_error(r, XD_EXIT_USAGE);
				const char *msg = json_string_value(json_object_get(r, "error"));
				if (!strstr(msg, want))
					fail_msg("%s: error \"%s\" does not name %s", req, msg, want);
				json_decref(r);
			}
		}
	}
	for (size_t v = 0; v < sizeof(bad_cmd) / sizeof(*bad_cmd); v++) {
		snprintf(req, sizeof(req), "{\"cmd\":%s}\n", bad_cmd[v]);
		json_t *r = ask(c, req, 1000);
		assert_error(r, XD_EXIT_USAGE);
		assert_non_null(strstr(json_string_value(json_object_get(r, "error")), "\"cmd\""));
		json_decref(r);
	}
	assert_int_equal(f->e->starts + f->e->stops + f->e->saves + f->e->reloads, 0);
	assert_int_equal(f->host_downs, 0);
	assert_false(f->e->halting);
	tclient_free(c);
}

static bool has_control_bytes(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return true;
	return false;
}

/* A name with control bytes comes back escaped, never raw. */
static void test_control_bytes_escaped_in_replies(void **state)
{
	struct fixture *f = *state;
	struct tclient *c = tclient_new(f);
	json_t *r = ask(c, "{\"cmd\":\"status\",\"names\":[\"a\\u0007\\u001b[2Jb\"]}\n", 1000);
	assert_error(r, XD_EXIT_USAGE);
	const char *msg = json_string_value(json_object_get(r, "error"));
	assert_false(has_control_bytes(msg));
	assert_non_null(strstr(msg, "a\\x07\\x1b[2Jb"));
	json_decref(r);
	r = ask(c, "{\"cmd\":\"st\\u0007tus\"}\n", 1000);
	assert_error(r, XD_EXIT_USAGE);
	assert_non_null(strstr(json_string_value(json_object_get(r, "error")), "st\\x07tus"));
	json_decref(r);
	/* A configuration value echoed back by a refused reload. */
	write_text("xendomd.conf", GLOBAL_SECTION "[domain stor\007age]\n"
		   "[domain db]\nrequires = ev\033il\n");
	r = ask(c, "{\"cmd\":\"reload\"}\n", 2000);
	assert_error(r, XD_EXIT_USAGE);
	size_t i;
	json_t *e;
	json_t *errors = json_object_get(r, "errors");
	assert_true(json_array_size(errors) > 0);
	bool quoted = false;
	json_array_foreach(errors, i, e) {
		assert_false(has_control_bytes(json_string_value(e)));
		quoted |= strstr(json_string_value(e), "\\x") != NULL;
	}
	assert_true(quoted);
	json_decref(r);
	tclient_free(c);
}

static int setup_short_idle(void **state)
{
	return setup_with(state, base_conf, 150);
}

static void test_subscriber_that_never_reads_is_dropped(void **state)
{
	struct fixture *f = *state;
	int lazy_fd = raw_connect(f->sock);
	assert_true(lazy_fd >= 0);
	const char *req = "{\"cmd\":\"events\"}\n";
	assert_int_equal(send(lazy_fd, req, strlen(req), 0), (ssize_t)strlen(req));
	run_for(f, 50);
	/* ~300 bytes per event, more than XD_CTL_EVENTS_MAX plus socket buffers. */
	char reason[240];
	memset(reason, 'r', sizeof(reason) - 1);
	reason[sizeof(reason) - 1] = '\0';
	struct fake_dom *d = fake_dom(f->e, "batch");
	struct tclient *other = tclient_new(f);
	for (int i = 0; i < 8000; i++)
		fake_set(f->e, d, i % 2 ? XD_WAITING : XD_INACTIVE, -1, reason);
	run_for(f, 50);
	/* The daemon dropped it and still answers others at once. */
	json_t *r = ask(other, "{\"cmd\":\"status\"}\n", 1000);
	assert_ok(r);
	json_decref(r);
	char buf[65536];
	ssize_t n;
	size_t total = 0;
	while ((n = recv(lazy_fd, buf, sizeof(buf), MSG_DONTWAIT)) > 0)
		total += (size_t)n;
	assert_int_equal(n, 0);           /* EOF: the daemon closed it */
	assert_true(total < (size_t)8000 * 300);
	close(lazy_fd);
	tclient_free(other);
}

static void test_access_classification(void **state)
{
	/* The classification the server applies to each peer. */
	(void)state;
	unsigned groups[] = { 27, 100 };
	struct xd_peer root = { .uid = 0, .gid = 0 };
	struct xd_peer self = { .uid = 1000, .gid = 1000 };
	struct xd_peer primary = { .uid = 500, .gid = 100 };
	struct xd_peer supp = { .uid = 501, .gid = 501, .groups = groups, .n_groups = 2 };
	struct xd_peer stranger = { .uid = 502, .gid = 502, .groups = groups, .n_groups = 1 };
	assert_int_equal(xd_control_access(&root, 1000, false, 0), XD_ACCESS_ALL);
	assert_int_equal(xd_control_access(&self, 1000, false, 0), XD_ACCESS_ALL);
	assert_int_equal(xd_control_access(&primary, 0, true, 100), XD_ACCESS_READ);
	assert_int_equal(xd_control_access(&supp, 0, true, 100), XD_ACCESS_READ);
	assert_int_equal(xd_control_access(&stranger, 0, true, 100), XD_ACCESS_NONE);
	assert_int_equal(xd_control_access(&primary, 0, false, 100), XD_ACCESS_NONE);
}

/* A child that drops to uid/gid and asks: the exit status is the code. */
static int ask_as(const char *sock, unsigned uid, unsigned gid, const char *req)
{
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (setgroups(0, NULL) < 0 || setgid(gid) < 0 || setuid(uid) < 0)
			_exit(100);
		int fd = raw_connect(sock);
		if (fd < 0)
			_exit(errno == EACCES ? 4 : 3);
		if (send(fd, req, strlen(req), 0) < 0)
			_exit(101);
		char buf[4096];
		ssize_t n = recv(fd, buf, sizeof(buf) - 1, 0);
		if (n <= 0)
			_exit(102);
		buf[n] = '\0';
		json_t *r = json_loads(buf, 0, NULL);
		if (json_is_true(json_object_get(r, "ok")))
			_exit(0);
		_exit((int)json_integer_value(json_object_get(r, "code")));
	}
	return pid;
}

static int reap_while_serving(struct fixture *f, pid_t pid)
{
	int status;
	for (int i = 0; i < 400; i++) {
		run_for(f, 5);
		if (waitpid(pid, &status, WNOHANG) == pid)
			return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
	}
	fail_msg("child did not finish");
	return -1;
}

static void test_group_member_reads_only_stranger_cannot_connect(void **state)
{
	struct fixture *f = *state;
	if (geteuid() != 0)
		fail_msg("this test needs root (it drops to nobody)");
	struct group *gr = getgrnam("nogroup");
	assert_non_null(gr);
	unsigned nobody = 65534, nogroup = gr->gr_gid;
	assert_int_equal(reap_while_serving(f, ask_as(f->sock, nobody, nogroup,
						      "{\"cmd\":\"status\"}\n")), 0);
	assert_int_equal(reap_while_serving(f, ask_as(f->sock, nobody, nogroup,
						      "{\"cmd\":\"start\",\"names\":[\"db\"]}\n")), 4);
	assert_int_equal(f->e->starts, 0);
	/* Not in the group: mode 0660 keeps it out before any request. */
	assert_int_equal(reap_while_serving(f, ask_as(f->sock, 4242, 4242,
						      "{\"cmd\":\"status\"}\n")), 4);
}

/* ------------------------------------------------------------------ */
/* Tests: limits on what clients may hold                              */

#define SMALL_BUDGET (2 * 1024 * 1024)

static int setup_small_budget(void **state)
{
	test_backlog_max = SMALL_BUDGET;
	int r = setup_with(state, base_conf, 0);
	test_backlog_max = 0;
	return r;
}

static int subscribe_raw(struct fixture *f)
{
	int fd = raw_connect(f->sock);
	assert_true(fd >= 0);
	const char *req = "{\"cmd\":\"events\"}\n";
	assert_int_equal(send(fd, req, strlen(req), 0), (ssize_t)strlen(req));
	return fd;
}

static size_t want_subscribers;

static bool has_subscribers(void *arg)
{
	struct xd_control_stats st;
	xd_control_stats(((struct fixture *)arg)->ctl, &st);
	return st.subscribers == want_subscribers;
}

/* Until the daemon has taken n `events` requests (a loaded machine may
 * take longer than any fixed wait). */
static void wait_subscribers(struct fixture *f, size_t n)
{
	want_subscribers = n;
	assert_true(run_until(f, has_subscribers, f, 10000));
}

/* Drain what is there; true at EOF (the daemon closed us). */
static bool closed_by_daemon(int fd)
{
	char buf[65536];
	ssize_t n;
	while ((n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT)) > 0)
		;
	return n == 0;
}

static size_t churn(struct fixture *f, int events, size_t *peak)
{
	static char reason[200];
	memset(reason, 'r', sizeof(reason) - 1);
	struct fake_dom *d = fake_dom(f->e, "batch");
	struct xd_control_stats st = { 0 };
	for (int i = 0; i < events; i++) {
		fake_set(f->e, d, i % 2 ? XD_WAITING : XD_INACTIVE, -1, reason);
		xd_control_stats(f->ctl, &st);
		if (st.backlog > *peak)
			*peak = st.backlog;
	}
	return st.subscribers;
}

/* Subscribers that never read: all their backlogs together stay under
 * the budget, and the one furthest behind goes first. */
static void test_backlog_budget_drops_slowest_first(void **state)
{
	struct fixture *f = *state;
	enum { LATE = 6 };
	size_t peak = 0;
	int early = subscribe_raw(f);
	wait_subscribers(f, 1);
	assert_int_equal(churn(f, 2000, &peak), 1);  /* ~600 KB head start */
	int late[LATE];
	for (int i = 0; i < LATE; i++)
		late[i] = subscribe_raw(f);
	wait_subscribers(f, 1 + LATE);
	size_t left = 1 + LATE;
	for (int i = 0; i < 4000 && left == 1 + LATE; i++)
		left = churn(f, 1, &peak);
	assert_int_equal(left, LATE);                /* one dropped ... */
	run_for(f, 20);
	assert_true(closed_by_daemon(early));       /* ... the slowest */
	for (int i = 0; i < LATE; i++)
		assert_false(closed_by_daemon(late[i]));
	/* Without the budget six full per-client backlogs (6 MiB) pile up. */
	(void)churn(f, 20000, &peak);
	assert_true(peak <= SMALL_BUDGET);
	assert_true(peak > SMALL_BUDGET / 2);        /* the budget, not another limit */
	struct tclient *other = tclient_new(f);
	json_t *r = ask(other, "{\"cmd\":\"status\"}\n", 1000);
	assert_ok(r);
	json_decref(r);
	tclient_free(other);
	close(early);
	for (int i = 0; i < LATE; i++)
		close(late[i]);
}

/* sendmsg() as the control layer calls it, counted (meson.build links
 * this test with --wrap=sendmsg). */
static unsigned long sendmsg_calls;
ssize_t __real_sendmsg(int fd, const struct msghdr *msg, int flags);
ssize_t __wrap_sendmsg(int fd, const struct msghdr *msg, int flags);
ssize_t __wrap_sendmsg(int fd, const struct msghdr *msg, int flags)
{
	sendmsg_calls++;
	return __real_sendmsg(fd, msg, flags);
}

static bool subscriber_blocked(void *arg)
{
	struct fixture *f = arg;
	struct xd_control_stats st;
	xd_control_stats(f->ctl, &st);
	return st.backlog > 0;
}

/* Once a subscriber's socket is full, events are queued without another
 * system call until poll() says it has room; when it has read them all
 * the queue's memory is given back (the budget counts memory, not only
 * unsent bytes). */
static void test_full_subscriber_costs_no_syscall_per_event(void **state)
{
	struct fixture *f = *state;
	size_t peak = 0;
	int fd = subscribe_raw(f);
	wait_subscribers(f, 1);
	unsigned long first = sendmsg_calls;
	int taken = 0;
	for (; taken < 20000 && !subscriber_blocked(f); taken++)
		(void)churn(f, 1, &peak);
	assert_true(subscriber_blocked(f));
	/* A small socket buffer: the kernel holds little of a stream nobody
	 * reads (the default, net.core.wmem_default, took 167 here). */
	print_message("the socket took %d events (%lu sendmsg) before it was full\n", taken,
		      sendmsg_calls - first);
	assert_true(taken < 80);
	unsigned long before = sendmsg_calls;
	assert_int_equal(churn(f, 1000, &peak), 1);
	assert_int_equal(sendmsg_calls, before);     /* queued, not tried */
	struct xd_control_stats st;
	xd_control_stats(f->ctl, &st);
	assert_true(st.backlog >= 100 * 1000);       /* ~200 bytes an event */
	assert_int_equal(st.backlog % 4096, 0);      /* whole chunks */
	struct tclient *c = tclient_adopt(f, fd);    /* now it reads */
	for (int i = 0; i < 200 && st.backlog; i++) {
		run_for(f, 10);
		xd_control_stats(f->ctl, &st);
	}
	assert_int_equal(st.backlog, 0);
	assert_int_equal(st.subscribers, 1);
	assert_true(sendmsg_calls > before);
	assert_false(c->eof);
	tclient_free(c);
}

#define TINY_BUDGET (128 * 1024)

static int setup_tiny_budget(void **state)
{
	test_backlog_max = TINY_BUDGET;
	int r = setup_with(state, base_conf, 0);
	test_backlog_max = 0;
	return r;
}

/* Two subscribers whose sockets filled at the same event hold the same:
 * the one connected first goes first.  (Dropping the first of equals in
 * the newest-first list dropped, in stress-subscribers on a loaded
 * machine, the one subscriber that reads: it connects last, and a burst
 * while its reader thread waited for a CPU made its queue equal.) */
static void test_budget_ties_drop_the_oldest_subscriber(void **state)
{
	struct fixture *f = *state;
	size_t peak = 0;
	int older = subscribe_raw(f);
	int newer = subscribe_raw(f);
	wait_subscribers(f, 2);
	size_t left = 2;
	for (int i = 0; i < 40000 && left == 2; i++)
		left = churn(f, 1, &peak);
	assert_int_equal(left, 1);
	run_for(f, 20);
	assert_true(closed_by_daemon(older));
	assert_false(closed_by_daemon(newer));
	close(older);
	close(newer);
}

/* A status naming "db" 4096 times: a reply of several hundred KB. */
static char *big_status_request(void)
{
	size_t cap = 16 * XD_PROTO_NAMES_MAX + 64, len = 0;
	char *req = malloc(cap);
	assert_non_null(req);
	len += (size_t)snprintf(req, cap, "{\"cmd\":\"status\",\"names\":[");
	for (int i = 0; i < XD_PROTO_NAMES_MAX; i++)
		len += (size_t)snprintf(req + len, cap - len, "%s\"db\"", i ? "," : "");
	snprintf(req + len, cap - len, "]}\n");
	return req;
}

static size_t backlog_of(struct fixture *f)
{
	struct xd_control_stats st;
	xd_control_stats(f->ctl, &st);
	return st.backlog;
}

/* Replies count against the budget too: a subscriber holding output goes
 * first; then a reply that does not fit while another client's unread
 * reply holds memory is refused with a short error (one reply alone may
 * be larger than the budget); once read, everything is answered again. */
static void test_budget_bounds_unread_replies(void **state)
{
	struct fixture *f = *state;
	size_t peak = 0;
	int sub = subscribe_raw(f);
	wait_subscribers(f, 1);
	for (int i = 0; i < 20000 && !subscriber_blocked(f); i++)
		(void)churn(f, 1, &peak);
	assert_true(subscriber_blocked(f) && backlog_of(f) < TINY_BUDGET);
	char *req = big_status_request();
	int a = raw_connect(f->sock);
	assert_true(a >= 0);
	assert_int_equal(send(a, req, strlen(req), MSG_NOSIGNAL), (ssize_t)strlen(req));
	run_for(f, 100);
	assert_true(closed_by_daemon(sub));          /* dropped for the reply */
	size_t held = backlog_of(f);
	assert_true(held > TINY_BUDGET);             /* alone, it may be larger */
	struct tclient *b = tclient_new(f);
	json_t *r = ask(b, req, 2000);
	assert_error(r, 1);
	assert_non_null(strstr(json_string_value(json_object_get(r, "error")),
			       "output budget"));
	json_decref(r);
	assert_int_equal(backlog_of(f), held);       /* nothing added */
	struct tclient *ra = tclient_adopt(f, a);
	r = tclient_line(ra, 5000);
	assert_ok(r);
	assert_int_equal(json_array_size(json_object_get(r, "domains")), XD_PROTO_NAMES_MAX);
	json_decref(r);
	assert_int_equal(backlog_of(f), 0);
	r = ask(b, req, 5000);
	assert_ok(r);
	json_decref(r);
	tclient_free(ra);
	tclient_free(b);
	free(req);
}

enum { UIDS = 16, TRIES = 70 };     /* 1120 attempts > XD_CTL_CLIENTS_MAX */

/* A child as uid (group nogroup): TRIES connections held open until
 * the parent closes go; the exit status is how many were refused with
 * a reason. */
static void hog_child(const char *sock, unsigned uid, unsigned gid, int ready, int go)
{
	if (setgroups(0, NULL) < 0 || setgid(gid) < 0 || setuid(uid) < 0)
		_exit(100);
	int fds[TRIES];
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	memcpy(sa.sun_path, sock, strlen(sock) + 1);
	for (int i = 0; i < TRIES; i++) {
		/* No cmocka assertion here: it would jump into the parent's
		 * copy of the test runner. */
		fds[i] = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fds[i] < 0 || connect(fds[i], (struct sockaddr *)&sa, sizeof(sa)) < 0)
			_exit(101);
	}
	char b = 'r';
	if (write(ready, &b, 1) != 1)
		_exit(102);
	while (read(go, &b, 1) > 0)          /* hold them until the parent is done */
		;
	int refused = 0;
	for (int i = 0; i < TRIES; i++) {
		char buf[512];
		ssize_t n = recv(fds[i], buf, sizeof(buf) - 1, MSG_DONTWAIT);
		if (n > 0) {
			buf[n] = '\0';
			refused += strstr(buf, "connection refused") != NULL;
		}
	}
	_exit(refused);
}

static bool holds_clients(void *arg)
{
	struct fixture *f = arg;
	struct xd_control_stats st;
	xd_control_stats(f->ctl, &st);
	return st.clients >= XD_CTL_CLIENTS_MAX - XD_CTL_ROOT_RESERVE;
}

/* Sixteen users fill every slot they may: each holds at most
 * XD_CTL_CLIENTS_PER_UID, together they leave XD_CTL_ROOT_RESERVE, and
 * root is answered at once. */
static void test_uid_quota_and_root_reserve(void **state)
{
	struct fixture *f = *state;
	if (geteuid() != 0)
		fail_msg("this test needs root (it drops to other uids)");
	struct rlimit rl;
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &rl), 0);
	rl.rlim_cur = rl.rlim_max < 4096 ? rl.rlim_max : 4096;
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &rl), 0);
	struct group *gr = getgrnam("nogroup");
	assert_non_null(gr);
	int ready[2], go[2];
	assert_int_equal(pipe2(ready, O_NONBLOCK), 0);
	assert_int_equal(pipe(go), 0);
	pid_t pids[UIDS];
	for (int u = 0; u < UIDS; u++) {
		pids[u] = fork();
		assert_true(pids[u] >= 0);
		if (pids[u] == 0 && close(go[1]) == 0)  /* EOF on go is the parent's */
			hog_child(f->sock, 60000 + (unsigned)u, gr->gr_gid, ready[1], go[0]);
	}
	close(go[0]);
	unsigned char b[UIDS];
	size_t got = 0;
	for (int i = 0; i < 4000 && got < UIDS; i++) {
		ssize_t r = read(ready[0], b + got, UIDS - got);
		if (r > 0)
			got += (size_t)r;
		else
			run_for(f, 5);
	}
	assert_true(run_until(f, holds_clients, f, 10000));
	run_for(f, 100);                     /* nothing more gets in */
	struct xd_control_stats st;
	xd_control_stats(f->ctl, &st);
	assert_int_equal(got, UIDS);
	assert_int_equal(st.clients, XD_CTL_CLIENTS_MAX - XD_CTL_ROOT_RESERVE);
	struct tclient *root_client = tclient_new(f);
	json_t *r = ask(root_client, "{\"cmd\":\"status\"}\n", 1000);
	assert_ok(r);
	json_decref(r);
	close(go[1]);
	int refused = 0;
	for (int u = 0; u < UIDS; u++) {
		int n = reap_while_serving(f, pids[u]);
		assert_true(n >= TRIES - XD_CTL_CLIENTS_PER_UID && n <= TRIES);
		refused += n;
	}
	assert_int_equal(refused, UIDS * TRIES - (XD_CTL_CLIENTS_MAX - XD_CTL_ROOT_RESERVE));
	tclient_free(root_client);
	close(ready[0]);
	close(ready[1]);
}

/* Descriptors run out: accept() pauses (the loop sleeps, it does not
 * spin) and resumes when descriptors free up. */
static void test_emfile_pauses_accept_without_spinning(void **state)
{
	struct fixture *f = *state;
	enum { N = 12 };
	int fds[N];
	for (int i = 0; i < N; i++) {
		fds[i] = raw_connect(f->sock);  /* queued in the backlog */
		assert_true(fds[i] >= 0);
	}
	struct rlimit old, low;
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &old), 0);
	int probe = dup(0);                 /* the lowest free descriptor */
	close(probe);
	low = old;
	low.rlim_cur = (rlim_t)probe + 3;   /* room for three accepts */
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
	f->iterations = 0;
	run_for(f, 600);
	unsigned spins = f->iterations;
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &old), 0);
	/* Spinning would be thousands of wake-ups; a paused accept retries
	 * every 250 ms. */
	assert_true(spins < 50);
	/* With descriptors back, every queued client is served. */
	struct tclient *c[N];
	for (int i = 0; i < N; i++)
		c[i] = tclient_adopt(f, fds[i]);
	for (int i = 0; i < N; i++) {
		json_t *r = ask(c[i], "{\"cmd\":\"status\"}\n", 3000);
		assert_ok(r);
		json_decref(r);
	}
	for (int i = 0; i < N; i++)
		tclient_free(c[i]);
}

/* ------------------------------------------------------------------ */
/* Tests: what the service manager hears                               */

static int notify_fd = -1;
static char notify_path[100];

static void listen_as_manager(void)
{
	snprintf(notify_path, sizeof(notify_path), "/tmp/xd-ctl-notify-%d", (int)getpid());
	unlink(notify_path);
	notify_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	memcpy(sa.sun_path, notify_path, strlen(notify_path) + 1);
	assert_int_equal(bind(notify_fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	setenv("NOTIFY_SOCKET", notify_path, 1);
}

static int setup_notify(void **state)
{
	listen_as_manager();
	return setup(state);
}

static int setup_notify_immediately(void **state)
{
	listen_as_manager();
	static const char conf[] = GLOBAL_SECTION "notify_ready = immediately\n"
		"[domain storage]\n";
	return setup_with(state, conf, 0);
}

static int teardown_notify(void **state)
{
	unsetenv("NOTIFY_SOCKET");
	close(notify_fd);
	unlink(notify_path);
	return teardown(state);
}

/* Every message the manager got so far, one per line. */
static char *manager_heard(void)
{
	static char all[4096];
	char msg[512];
	ssize_t n;
	all[0] = '\0';
	while ((n = recv(notify_fd, msg, sizeof(msg) - 1, MSG_DONTWAIT)) > 0) {
		msg[n] = '\0';
		strncat(all, msg, sizeof(all) - strlen(all) - 2);
		strcat(all, "\n");
	}
	return all;
}

static void test_ready_after_boot_and_status_lines(void **state)
{
	struct fixture *f = *state;
	xd_service_booting(f->svc);
	char *heard = manager_heard();
	if (!HAVE_SYSTEMD) {
		assert_string_equal(heard, "");
		return;
	}
	assert_non_null(strstr(heard, "EXTEND_TIMEOUT_USEC="));
	assert_non_null(strstr(heard, "STATUS=booting: 0/4 running\n"));
	assert_null(strstr(heard, "READY=1"));
	struct tclient *c = tclient_new(f);
	fake_dom(f->e, "web")->fail_start = true;
	json_t *r = ask(c, "{\"cmd\":\"start\",\"names\":[\"web\"],\"wait\":true}\n", 5000);
	json_decref(r);
	heard = manager_heard();
	assert_non_null(strstr(heard, "STATUS=booting: 2/4 running, 1 failed\n"));
	assert_null(strstr(heard, "READY=1"));
	xd_service_boot_settled(f->svc);
	heard = manager_heard();
	assert_non_null(strstr(heard, "READY=1\n"));
	assert_non_null(strstr(heard, "STATUS=2/4 running, 1 failed\n"));
	/* shutdown-host on demand: progress, no STOPPING=1, back to normal. */
	r = ask(c, "{\"cmd\":\"shutdown-host\",\"wait\":true}\n", 5000);
	assert_ok(r);
	json_decref(r);
	heard = manager_heard();
	assert_non_null(strstr(heard, "STATUS=shutting down: 2 still up\n"));
	assert_null(strstr(heard, "STOPPING=1"));
	assert_non_null(strstr(heard, "STATUS=0/4 running, 1 failed\n"));
	tclient_free(c);
}

static void test_ready_immediately(void **state)
{
	struct fixture *f = *state;
	xd_service_booting(f->svc);
	assert_true(strstr(manager_heard(), "READY=1\n") || !HAVE_SYSTEMD);
	xd_service_boot_settled(f->svc);
	assert_null(strstr(manager_heard(), "READY=1"));    /* once only */
}

static void test_halt_sends_stopping(void **state)
{
	struct fixture *f = *state;
	struct tclient *c = tclient_new(f);
	start_all(c);
	manager_heard();
	xd_service_shutdown_host(f->svc, true);
	assert_true(strstr(manager_heard(), "STOPPING=1\n") || !HAVE_SYSTEMD);
	tclient_free(c);
}

/* ------------------------------------------------------------------ */

int main(void)
{
	xd_log_open(true, 0, xd_loop_clock());
	signal(SIGPIPE, SIG_IGN);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_socket_mode_and_group, setup, teardown),
		cmocka_unit_test_setup_teardown(test_second_daemon_refused_stale_socket_replaced, setup, teardown),
		cmocka_unit_test_setup_teardown(test_status_shape, setup, teardown),
		cmocka_unit_test_setup_teardown(test_many_names_cost_one_lookup_each, setup_many, teardown),
		cmocka_unit_test_setup_teardown(test_bad_requests_get_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_oversized_request_refused_and_closed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pipelined_requests_answered_in_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_start_reports_requirements, setup, teardown),
		cmocka_unit_test_setup_teardown(test_start_wait_replies_when_ready, setup, teardown),
		cmocka_unit_test_setup_teardown(test_start_wait_reports_failure, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stop_stops_dependents_first, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stop_reply_names_cascade, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restart_without_wait_still_restarts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restart_wait, setup, teardown),
		cmocka_unit_test_setup_teardown(test_save_wait_success_and_failure, setup, teardown),
		cmocka_unit_test_setup_teardown(test_migrate_wait_success_and_failures, setup, teardown),
		cmocka_unit_test_setup_teardown(test_migrate_refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wait_on_settled_domain_replies_at_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_events_stream, setup, teardown),
		cmocka_unit_test_setup_teardown(test_shutdown_host_wait, setup, teardown),
		cmocka_unit_test_setup_teardown(test_shutdown_host_wait_nothing_running, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_plan, setup, teardown),
		cmocka_unit_test_setup_teardown(test_timeline, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reload_applies_good_config, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reload_refuses_bad_config, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sighup_reloads, setup, teardown),
		cmocka_unit_test_setup_teardown(test_idle_and_partial_clients_dropped, setup_short_idle, teardown),
		cmocka_unit_test_setup_teardown(test_subscriber_that_never_reads_is_dropped, setup, teardown),
		cmocka_unit_test(test_access_classification),
		cmocka_unit_test_setup_teardown(test_group_member_reads_only_stranger_cannot_connect, setup, teardown),
		cmocka_unit_test_setup_teardown(test_emfile_pauses_accept_without_spinning, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wrong_field_types_are_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_control_bytes_escaped_in_replies, setup, teardown),
		cmocka_unit_test_setup_teardown(test_backlog_budget_drops_slowest_first, setup_small_budget, teardown),
		cmocka_unit_test_setup_teardown(test_budget_ties_drop_the_oldest_subscriber,
						setup_tiny_budget, teardown),
		cmocka_unit_test_setup_teardown(test_full_subscriber_costs_no_syscall_per_event,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_budget_bounds_unread_replies,
						setup_tiny_budget, teardown),
		cmocka_unit_test_setup_teardown(test_uid_quota_and_root_reserve, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ready_after_boot_and_status_lines, setup_notify, teardown_notify),
		cmocka_unit_test_setup_teardown(test_ready_immediately, setup_notify_immediately, teardown_notify),
		cmocka_unit_test_setup_teardown(test_halt_sends_stopping, setup_notify, teardown_notify),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
