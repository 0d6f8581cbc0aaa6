/*
 * The control socket (control.h).
 *
 * Layout of this file: the socket and its permissions; clients and their
 * buffers; request dispatch and the commands; --wait jobs; the engine's
 * callbacks (events, progress, jobs); reload.
 *
 * Re-entrancy: engine callbacks (changed, host_down) may arrive while we
 * are inside an engine command issued for a request.  They only buffer
 * output, mark jobs and arm a 0 ms timer; jobs are evaluated from that
 * timer, so the engine is never called from inside its own callback.
 * Clients are never freed where a caller may still hold them: a closed
 * client goes to a graveyard that the loop's after-hook empties.
 */
#include "daemon/control.h"

#include <errno.h>
#include <grp.h>
#include <jansson.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/un.h>
#include <unistd.h>

#include "config/diag.h"
#include "config/load.h"
#include "core/plan.h"
#include "daemon/log.h"
#include "daemon/notify.h"
#include "proto/proto.h"

#define ACCEPT_BATCH       64       /* connections taken per wake-up */
#define ACCEPT_RETRY_MS    250      /* after EMFILE & co. */
#define READ_CHUNK         16384

struct xd_control;

struct client {
	struct xd_control *ctl;
	struct client *next, *prev;      /* live list, or graveyard (next only) */
	int fd;
	struct xd_io *io;
	enum xd_access access;
	unsigned uid;
	char *in;                        /* request bytes, up to REQUEST_MAX + 1 */
	size_t in_len, in_cap;
	char *out;                       /* reply bytes not yet sent */
	size_t out_len, out_off, out_cap;
	bool busy;                       /* a --wait job will reply */
	bool subscribed;                 /* `events` stream */
	bool closing;                    /* close once out is flushed */
	bool closed;
	struct xd_timer idle;
};

enum job_kind { JOB_START, JOB_STOP, JOB_SAVE, JOB_RESTART, JOB_HOST };

struct job_dom {
	char name[XD_NAME_MAX];
	long slot;                       /* the engine's (stable) slot, -1 if unknown */
	bool seen;                       /* changed since the job began (or its phase) */
};

struct job {
	struct job *next;
	enum job_kind kind;
	bool restart_started;            /* RESTART: the start phase runs */
	bool host_done;                  /* HOST: host_down arrived */
	struct job_dom *doms;
	size_t n;
	struct client *client;           /* NULL: nobody waits for the reply */
	json_t *reply;                   /* what the request's reply says, plus "domains" */
};

struct xd_control {
	struct xd_control_env env;
	char *path;                      /* the socket file we created */
	int listen_fd;
	struct xd_io *listen_io;
	bool accept_paused;
	bool accept_starved;             /* out of descriptors (logged once) */
	struct xd_timer accept_retry;
	bool have_group;
	unsigned socket_gid;
	char *group_name;                /* as configured, "" = none */

	struct client *clients;
	size_t n_clients;
	struct client *graveyard;
	struct xd_timer reap;            /* 0 ms: free the graveyard */

	struct job *jobs;
	struct xd_timer jobs_timer;      /* 0 ms: evaluate jobs outside callbacks */

	struct xd_notifier *notifier;
	bool booting;                    /* between xd_control_booting and boot_settled */
	bool boot_done;                  /* boot_settled has arrived */
	bool exiting;                    /* the daemon ends with the sequence */
};

static void client_close(struct client *cl);
static void client_process(struct client *cl);
static void send_json(struct client *cl, json_t *reply);
static void jobs_poke(struct xd_control *c);

static struct xd_config *cfg_of(const struct xd_control *c)
{
	return *c->env.cfg;
}

static struct xd_timers *timers_of(const struct xd_control *c)
{
	return xd_loop_timers(c->env.loop);
}

/* ------------------------------------------------------------------ */
/* Access                                                              */

enum xd_access xd_control_access(const struct xd_peer *peer, unsigned self_uid,
				 bool have_group, unsigned socket_gid)
{
	if (peer->uid == 0 || peer->uid == self_uid)
		return XD_ACCESS_ALL;
	if (!have_group)
		return XD_ACCESS_NONE;
	if (peer->gid == socket_gid)
		return XD_ACCESS_READ;
	for (size_t i = 0; i < peer->n_groups; i++)
		if (peer->groups[i] == socket_gid)
			return XD_ACCESS_READ;
	return XD_ACCESS_NONE;
}

#define PEER_GROUPS_MAX 256

#if defined(SO_PEERCRED)
/* Linux: credentials and supplementary groups straight from the kernel,
 * no name-service lookups on the daemon's path. */
static int peer_credentials(int fd, struct xd_peer *peer, unsigned *groups)
{
	struct ucred uc;
	socklen_t len = sizeof(uc);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &len) < 0)
		return -1;
	peer->uid = uc.uid;
	peer->gid = uc.gid;
	peer->n_groups = 0;
	peer->groups = groups;
#ifdef SO_PEERGROUPS
	gid_t g[PEER_GROUPS_MAX];
	socklen_t glen = sizeof(g);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, g, &glen) == 0) {
		peer->n_groups = glen / sizeof(gid_t);
		for (size_t i = 0; i < peer->n_groups; i++)
			groups[i] = g[i];
	}
#endif
	return 0;
}
#else
/* NetBSD & co.: getpeereid(), supplementary groups from the group
 * database of the peer's user. */
static int peer_credentials(int fd, struct xd_peer *peer, unsigned *groups)
{
	uid_t uid;
	gid_t gid;
	if (getpeereid(fd, &uid, &gid) < 0)
		return -1;
	peer->uid = uid;
	peer->gid = gid;
	peer->groups = groups;
	peer->n_groups = 0;
	char buf[4096];
	struct passwd pw, *res = NULL;
	if (getpwuid_r(uid, &pw, buf, sizeof(buf), &res) != 0 || !res)
		return 0;
	gid_t g[PEER_GROUPS_MAX];
	int n = PEER_GROUPS_MAX;
	if (getgrouplist(pw.pw_name, gid, g, &n) < 0)
		n = PEER_GROUPS_MAX;
	for (int i = 0; i < n; i++)
		groups[i] = g[i];
	peer->n_groups = (size_t)n;
	return 0;
}
#endif

/* ------------------------------------------------------------------ */
/* The socket file                                                     */

static int lookup_group(struct xd_control *c, const char *name)
{
	c->have_group = false;
	free(c->group_name);
	c->group_name = strdup(name ? name : "");
	if (!c->group_name)
		return -1;
	if (!name || !*name)
		return 0;
	char buf[16384];
	struct group gr, *res = NULL;
	int r = getgrnam_r(name, &gr, buf, sizeof(buf), &res);
	if (r != 0 || !res) {
		xd_log(XD_LOG_WARNING, NULL, -1, "socket_group \"%s\": no such group; "
		       "only root may use %s", name, c->path);
		return 0;
	}
	c->have_group = true;
	c->socket_gid = res->gr_gid;
	return 0;
}

/* Owner root (when we are root), group socket_group, mode 0660. */
static void apply_socket_permissions(struct xd_control *c)
{
	gid_t gid = c->have_group ? (gid_t)c->socket_gid : getegid();
	if (chown(c->path, geteuid(), gid) < 0)
		xd_log(XD_LOG_WARNING, NULL, -1, "chown %s: %s", c->path, strerror(errno));
	if (chmod(c->path, 0660) < 0)
		xd_log(XD_LOG_WARNING, NULL, -1, "chmod %s: %s", c->path, strerror(errno));
}

static int make_parent_dirs(const char *path)
{
	char *dup = strdup(path);
	if (!dup)
		return -1;
	for (char *p = dup + 1; (p = strchr(p, '/')); p++) {
		*p = '\0';
		if (mkdir(dup, 0755) < 0 && errno != EEXIST) {
			xd_log(XD_LOG_ERR, NULL, -1, "mkdir %s: %s", dup, strerror(errno));
			free(dup);
			return -1;
		}
		*p = '/';
	}
	free(dup);
	return 0;
}

static int fill_address(struct sockaddr_un *sa, const char *path)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa->sun_path)) {
		xd_log(XD_LOG_ERR, NULL, -1, "socket path too long (max %zu bytes): %s",
		       sizeof(sa->sun_path) - 1, path);
		return -1;
	}
	memcpy(sa->sun_path, path, strlen(path) + 1);
	return 0;
}

/* A socket file left by a dead daemon is removed; one a daemon still
 * listens on is not ours to take. */
static int clear_stale_socket(const char *path, const struct sockaddr_un *sa)
{
	struct stat st;
	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISSOCK(st.st_mode)) {
		xd_log(XD_LOG_ERR, NULL, -1, "%s exists and is not a socket", path);
		return -1;
	}
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	int r = connect(fd, (const struct sockaddr *)sa, sizeof(*sa));
	int err = errno;
	close(fd);
	if (r == 0) {
		xd_log(XD_LOG_ERR, NULL, -1, "another xendomd is listening on %s", path);
		return -1;
	}
	if (err != ECONNREFUSED && err != ENOENT) {
		xd_log(XD_LOG_ERR, NULL, -1, "probing %s: %s", path, strerror(err));
		return -1;
	}
	if (unlink(path) < 0 && errno != ENOENT) {
		xd_log(XD_LOG_ERR, NULL, -1, "removing stale %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

static int open_listener(const char *path)
{
	struct sockaddr_un sa;
	if (fill_address(&sa, path) < 0 || make_parent_dirs(path) < 0 ||
	    clear_stale_socket(path, &sa) < 0)
		return -1;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		xd_log(XD_LOG_ERR, NULL, -1, "socket: %s", strerror(errno));
		return -1;
	}
	/* Nobody but us between bind() and the chmod to 0660. */
	mode_t old = umask(0177);
	int r = bind(fd, (const struct sockaddr *)&sa, sizeof(sa));
	int err = errno;
	umask(old);
	if (r < 0 || listen(fd, SOMAXCONN) < 0) {
		xd_log(XD_LOG_ERR, NULL, -1, "%s %s: %s", r < 0 ? "bind" : "listen", path,
		       strerror(r < 0 ? err : errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* ------------------------------------------------------------------ */
/* Accepting                                                           */

static void on_listen(struct xd_io *io, int fd, short revents, void *arg);

static void pause_accept(struct xd_control *c)
{
	if (c->accept_paused)
		return;
	c->accept_paused = true;
	xd_loop_mod_io(c->env.loop, c->listen_io, 0);
	(void)xd_timer_arm_in(timers_of(c), &c->accept_retry, ACCEPT_RETRY_MS);
}

static void resume_accept(struct xd_control *c)
{
	if (!c->accept_paused)
		return;
	c->accept_paused = false;
	xd_timer_disarm(timers_of(c), &c->accept_retry);
	xd_loop_mod_io(c->env.loop, c->listen_io, POLLIN);
}

static void on_accept_retry(struct xd_timer *t, void *arg)
{
	(void)t;
	struct xd_control *c = arg;
	if (c->n_clients < XD_CTL_CLIENTS_MAX)
		resume_accept(c);
	else
		(void)xd_timer_arm_in(timers_of(c), &c->accept_retry, ACCEPT_RETRY_MS);
}

static void on_idle(struct xd_timer *t, void *arg)
{
	(void)t;
	struct client *cl = arg;
	xd_log(XD_LOG_DEBUG, NULL, -1, "control: dropping idle client (uid %u)", cl->uid);
	client_close(cl);
}

static void arm_idle(struct client *cl)
{
	const struct xd_control *c = cl->ctl;
	uint64_t ms = c->env.idle_timeout_ms ? c->env.idle_timeout_ms : XD_CTL_IDLE_MS;
	(void)xd_timer_arm_in(timers_of(c), &cl->idle, ms);
}

static void on_client_io(struct xd_io *io, int fd, short revents, void *arg);

static void add_client(struct xd_control *c, int fd)
{
	unsigned groups[PEER_GROUPS_MAX];
	struct xd_peer peer;
	struct client *cl = calloc(1, sizeof(*cl));
	if (!cl || peer_credentials(fd, &peer, groups) < 0) {
		free(cl);
		close(fd);
		return;
	}
	cl->ctl = c;
	cl->fd = fd;
	cl->uid = peer.uid;
	cl->access = xd_control_access(&peer, geteuid(), c->have_group, c->socket_gid);
	cl->io = xd_loop_add_io(c->env.loop, fd, POLLIN, on_client_io, cl);
	if (!cl->io) {
		free(cl);
		close(fd);
		return;
	}
	xd_timer_init(&cl->idle, on_idle, cl);
	arm_idle(cl);
	cl->next = c->clients;
	if (c->clients)
		c->clients->prev = cl;
	c->clients = cl;
	c->n_clients++;
}

static bool out_of_descriptors(int err)
{
	return err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM;
}

static void on_listen(struct xd_io *io, int fd, short revents, void *arg)
{
	(void)io;
	(void)revents;
	struct xd_control *c = arg;
	for (int i = 0; i < ACCEPT_BATCH; i++) {
		if (c->n_clients >= XD_CTL_CLIENTS_MAX) {
			pause_accept(c);
			return;
		}
		int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (cfd >= 0) {
			c->accept_starved = false;
			add_client(c, cfd);
			continue;
		}
		if (errno == EINTR || errno == ECONNABORTED)
			continue;
		if (out_of_descriptors(errno)) {
			/* The pending connection stays queued; polling again
			 * now would only spin.  A closing client or the
			 * retry timer resumes accepting. */
			if (!c->accept_starved)
				xd_log(XD_LOG_WARNING, NULL, -1, "control: accept: %s; "
				       "pausing new connections", strerror(errno));
			c->accept_starved = true;
			pause_accept(c);
		}
		return;
	}
}

/* ------------------------------------------------------------------ */
/* Clients                                                             */

static void client_set_events(struct client *cl)
{
	short ev = 0;
	if (cl->out_len > cl->out_off)
		ev |= POLLOUT;
	else if (cl->subscribed || (!cl->busy && !cl->closing))
		ev |= POLLIN;
	if (cl->subscribed)
		ev |= POLLIN;       /* notice the subscriber leaving */
	xd_loop_mod_io(cl->ctl->env.loop, cl->io, ev);
}

static void detach_jobs(struct xd_control *c, const struct client *cl)
{
	for (struct job *j = c->jobs; j; j = j->next)
		if (j->client == cl)
			j->client = NULL;
}

static void client_close(struct client *cl)
{
	if (cl->closed)
		return;
	struct xd_control *c = cl->ctl;
	cl->closed = true;
	xd_loop_del_io(c->env.loop, cl->io);
	close(cl->fd);
	xd_timer_disarm(timers_of(c), &cl->idle);
	detach_jobs(c, cl);
	if (cl->prev)
		cl->prev->next = cl->next;
	else
		c->clients = cl->next;
	if (cl->next)
		cl->next->prev = cl->prev;
	c->n_clients--;
	cl->next = c->graveyard;
	c->graveyard = cl;
	(void)xd_timer_arm_in(timers_of(c), &c->reap, 0);
	if (c->accept_paused)
		resume_accept(c);
}

static void free_graveyard(struct xd_control *c)
{
	while (c->graveyard) {
		struct client *cl = c->graveyard;
		c->graveyard = cl->next;
		free(cl->in);
		free(cl->out);
		free(cl);
	}
}

static void on_reap(struct xd_timer *t, void *arg)
{
	(void)t;
	free_graveyard(arg);
}

/* Send what we can now; the rest waits for POLLOUT. */
static void client_flush(struct client *cl)
{
	while (cl->out_off < cl->out_len) {
		ssize_t n = send(cl->fd, cl->out + cl->out_off, cl->out_len - cl->out_off,
				 MSG_NOSIGNAL);
		if (n > 0) {
			cl->out_off += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		client_close(cl);
		return;
	}
	if (cl->out_off == cl->out_len) {
		cl->out_off = cl->out_len = 0;
		if (cl->closing) {
			client_close(cl);
			return;
		}
	}
	client_set_events(cl);
}

static int reserve(char **buf, size_t *cap, size_t need)
{
	if (need <= *cap)
		return 0;
	size_t ncap = *cap ? *cap : 1024;
	while (ncap < need)
		ncap *= 2;
	char *n = realloc(*buf, ncap);
	if (!n)
		return -1;
	*buf = n;
	*cap = ncap;
	return 0;
}

static void client_write(struct client *cl, const char *data, size_t len)
{
	if (cl->closed)
		return;
	size_t pending = cl->out_len - cl->out_off;
	if (cl->subscribed && pending + len > XD_CTL_EVENTS_MAX) {
		xd_log(XD_LOG_NOTICE, NULL, -1, "control: events client (uid %u) "
		       "does not read; dropped", cl->uid);
		client_close(cl);
		return;
	}
	if (cl->out_off) {           /* compact before growing */
		memmove(cl->out, cl->out + cl->out_off, pending);
		cl->out_off = 0;
		cl->out_len = pending;
	}
	if (reserve(&cl->out, &cl->out_cap, cl->out_len + len) < 0) {
		client_close(cl);
		return;
	}
	memcpy(cl->out + cl->out_len, data, len);
	cl->out_len += len;
	client_flush(cl);
}

/* Round to the millisecond and print without float noise. */
static json_t *seconds_since(const struct xd_control *c, uint64_t ms)
{
	if (ms == XD_NEVER)
		return json_null();
	uint64_t rel = ms > c->env.started_ms ? ms - c->env.started_ms : 0;
	return json_real((double)rel / 1000.0);
}

#define JSON_FLAGS (JSON_COMPACT | JSON_REAL_PRECISION(15))

static void send_json(struct client *cl, json_t *reply)
{
	char *text = reply ? json_dumps(reply, JSON_FLAGS) : NULL;
	json_decref(reply);
	if (!text) {
		client_close(cl);
		return;
	}
	size_t len = strlen(text);
	text[len] = '\n';                /* replaces the NUL; length is known */
	client_write(cl, text, len + 1);
	free(text);
}

static json_t *error_reply(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static json_t *error_reply(int code, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return json_pack("{s:b, s:i, s:s}", "ok", 0, "code", code, "error", msg);
}

static json_t *ok_reply(void)
{
	return json_pack("{s:b}", "ok", 1);
}

/* The request line is complete: answer it.  The client reads its next
 * request only after this one's reply is out. */
static void handle_line(struct client *cl, char *line, size_t len);

static void take_lines(struct client *cl)
{
	while (!cl->closed && !cl->busy && !cl->closing && !cl->subscribed &&
	       cl->out_len == cl->out_off) {
		char *nl = memchr(cl->in, '\n', cl->in_len);
		if (!nl)
			break;
		size_t len = (size_t)(nl - cl->in);
		*nl = '\0';
		handle_line(cl, cl->in, len);
		if (cl->closed)
			return;
		cl->in_len -= len + 1;
		memmove(cl->in, nl + 1, cl->in_len);
		if (!cl->busy && !cl->subscribed)
			arm_idle(cl);
	}
	if (cl->subscribed)              /* the stream is one-way from here */
		cl->in_len = 0;
	if (cl->in_len > XD_PROTO_REQUEST_MAX && !cl->closing && !cl->busy) {
		/* No way to find the next request's start: answer, then close. */
		cl->in_len = 0;
		cl->closing = true;
		send_json(cl, error_reply(XD_EXIT_USAGE, "request longer than %d bytes",
					  XD_PROTO_REQUEST_MAX));
	}
}

/* Read until EAGAIN, a full buffer, or a request to answer. */
static void client_read(struct client *cl)
{
	for (;;) {
		if (cl->subscribed) {    /* the stream is one-way: discard input */
			char junk[512];
			ssize_t n = recv(cl->fd, junk, sizeof(junk), 0);
			if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
				client_close(cl);
			if (n <= 0)
				return;
			continue;
		}
		if (reserve(&cl->in, &cl->in_cap, cl->in_len + READ_CHUNK) < 0) {
			client_close(cl);
			return;
		}
		size_t room = XD_PROTO_REQUEST_MAX + 1 - cl->in_len;
		if (room > READ_CHUNK)
			room = READ_CHUNK;
		ssize_t n = recv(cl->fd, cl->in + cl->in_len, room, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n <= 0) {
			client_close(cl);
			return;
		}
		cl->in_len += (size_t)n;
		client_process(cl);
		if (cl->closed || cl->busy || cl->closing || cl->out_len > cl->out_off)
			return;
	}
}

static void client_process(struct client *cl)
{
	take_lines(cl);
	if (!cl->closed)
		client_set_events(cl);
}

static void on_client_io(struct xd_io *io, int fd, short revents, void *arg)
{
	(void)io;
	(void)fd;
	struct client *cl = arg;
	if (revents & POLLOUT) {
		client_flush(cl);
		if (cl->closed)
			return;
		/* Pipelined requests already buffered go on now. */
		client_process(cl);
		if (cl->closed)
			return;
	}
	if (revents & (POLLIN | POLLHUP | POLLERR | POLLNVAL))
		client_read(cl);
}

/* ------------------------------------------------------------------ */
/* Domains and JSON                                                    */

static json_t *json_text(const char *s)
{
	if (!s)
		return json_null();
	json_t *j = json_string(s);
	if (j)
		return j;
	/* Not UTF-8 (e.g. a guest-written value): keep it printable ASCII. */
	char buf[XD_REASON_MAX * 2];
	size_t i = 0;
	for (; s[i] && i < sizeof(buf) - 1; i++)
		buf[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
	buf[i] = '\0';
	return json_string(buf);
}

static json_t *json_domid(long domid)
{
	return domid < 0 ? json_null() : json_integer(domid);
}

static const char *dom_name(const struct xd_control *c, size_t slot)
{
	struct xd_dom_status st;
	xd_engine_status(c->env.engine, slot, &st);
	return st.name;
}

/* The engine's slot of a domain it knows (managed or not), or -1.
 * Slots are the engine's own numbering (queries and events); commands
 * take indices into the configuration, which differ after a reload. */
static long engine_slot(const struct xd_control *c, const char *name)
{
	size_t n = xd_engine_count(c->env.engine);
	for (size_t s = 0; s < n; s++)
		if (strcmp(dom_name(c, s), name) == 0)
			return (long)s;
	return -1;
}

static json_t *status_object(const struct xd_control *c, const struct xd_dom_status *st)
{
	return json_pack("{s:o, s:s, s:o, s:o, s:I, s:o, s:b}",
			 "name", json_text(st->name),
			 "state", xd_state_name(st->state),
			 "domid", json_domid(st->domid),
			 "reason", json_text(st->reason),
			 "attempts", (json_int_t)st->attempts,
			 "since", seconds_since(c, st->since_ms),
			 "managed", st->managed);
}

static json_t *event_object(const struct xd_control *c, const struct xd_dom_status *st)
{
	return json_pack("{s:o, s:o, s:s, s:o, s:o}",
			 "time", seconds_since(c, st->since_ms),
			 "name", json_text(st->name),
			 "state", xd_state_name(st->state),
			 "domid", json_domid(st->domid),
			 "reason", json_text(st->reason));
}

static json_t *name_list(const struct xd_config *cfg, const size_t *doms, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; a && i < n; i++)
		json_array_append_new(a, json_text(cfg->domains[doms[i]].name));
	return a;
}

/* The request's "names": with slots, engine slots of any domain the
 * engine knows; else configuration indices of managed domains.  On
 * error *err gets the reply. */
static size_t *request_domains(const struct xd_control *c, json_t *req, bool slots,
			       bool need_one, size_t *n_out, json_t **err)
{
	json_t *names = json_object_get(req, "names");
	*n_out = 0;
	*err = NULL;
	if (names && !json_is_array(names)) {
		*err = error_reply(XD_EXIT_USAGE, "\"names\" must be an array of strings");
		return NULL;
	}
	size_t n = names ? json_array_size(names) : 0;
	if (n == 0 && need_one) {
		*err = error_reply(XD_EXIT_USAGE, "no domain named");
		return NULL;
	}
	if (n > XD_PROTO_NAMES_MAX) {
		*err = error_reply(XD_EXIT_USAGE, "too many names (max %d)", XD_PROTO_NAMES_MAX);
		return NULL;
	}
	size_t *doms = malloc((n ? n : 1) * sizeof(*doms));
	if (!doms) {
		*err = error_reply(XD_EXIT_FAILED, "out of memory");
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		const char *name = json_string_value(json_array_get(names, i));
		long d = name ? (slots ? engine_slot(c, name)
				: xd_config_find(cfg_of(c), name)) : -1;
		if (!name)
			*err = error_reply(XD_EXIT_USAGE, "\"names\" must be an array of strings");
		else if (d < 0 && engine_slot(c, name) >= 0)
			*err = error_reply(XD_EXIT_USAGE, "%.64s: not managed (no longer in the "
					   "configuration)", name);
		else if (d < 0)
			*err = error_reply(XD_EXIT_USAGE, "%.64s: unknown domain", name);
		if (*err) {
			free(doms);
			return NULL;
		}
		doms[i] = (size_t)d;
	}
	*n_out = n;
	return doms;
}

static bool flag(json_t *req, const char *key)
{
	return json_is_true(json_object_get(req, key));
}

/* ------------------------------------------------------------------ */
/* Jobs (--wait and restart)                                           */

/* doms: configuration indices; reply: the fields the final reply carries
 * (taken over). */
static struct job *job_new(struct xd_control *c, enum job_kind kind, const size_t *doms,
			   size_t n, struct client *waiter, json_t *reply)
{
	struct job *j = calloc(1, sizeof(*j));
	if (!j || !(j->doms = calloc(n ? n : 1, sizeof(*j->doms)))) {
		free(j);
		return NULL;
	}
	j->kind = kind;
	j->n = n;
	j->reply = reply;
	for (size_t i = 0; i < n; i++) {
		snprintf(j->doms[i].name, sizeof(j->doms[i].name), "%s",
			 cfg_of(c)->domains[doms[i]].name);
		j->doms[i].slot = engine_slot(c, j->doms[i].name);
	}
	j->client = waiter;
	if (waiter) {
		waiter->busy = true;     /* not idle: waiting for us */
		xd_timer_disarm(timers_of(c), &waiter->idle);
	}
	j->next = c->jobs;
	c->jobs = j;
	jobs_poke(c);
	return j;
}

static void job_free(struct xd_control *c, struct job *j)
{
	for (struct job **p = &c->jobs; *p; p = &(*p)->next)
		if (*p == j) {
			*p = j->next;
			break;
		}
	json_decref(j->reply);
	free(j->doms);
	free(j);
}

static bool is_down(const struct xd_dom_status *st)
{
	return st->domid < 0 && (st->state == XD_INACTIVE || st->state == XD_SAVED ||
				 st->state == XD_FAILED);
}

static bool start_settled(const struct xd_dom_status *st, bool seen)
{
	if (st->state == XD_RUNNING)
		return true;
	return seen && (st->state == XD_FAILED || st->state == XD_INACTIVE ||
			st->state == XD_SAVED);
}

static bool save_settled(const struct xd_dom_status *st, bool seen)
{
	if (st->state == XD_SAVED)
		return true;
	return seen && st->state != XD_SAVING && st->state != XD_STOPPING;
}

/* Is this domain where the job (phase) wants it, and did it succeed? */
static bool dom_settled(const struct job *j, const struct xd_dom_status *st, bool seen,
			bool *success)
{
	bool starting = j->kind == JOB_START || (j->kind == JOB_RESTART && j->restart_started);
	if (starting) {
		*success = st->state == XD_RUNNING;
		return start_settled(st, seen);
	}
	if (j->kind == JOB_SAVE) {
		*success = st->state == XD_SAVED;
		return save_settled(st, seen);
	}
	*success = st->domid < 0;
	return is_down(st);
}

static bool job_status(const struct xd_control *c, const struct job_dom *jd,
		       struct xd_dom_status *st)
{
	long d = jd->slot;
	if (d < 0 || (size_t)d >= xd_engine_count(c->env.engine) ||
	    strcmp(dom_name(c, (size_t)d), jd->name) != 0)
		d = engine_slot(c, jd->name);
	if (d < 0) {                 /* forgotten by the engine: it is gone */
		*st = (struct xd_dom_status){ .name = jd->name, .state = XD_INACTIVE,
					      .domid = -1 };
		return false;
	}
	xd_engine_status(c->env.engine, (size_t)d, st);
	return true;
}

/* Settled when every domain is; when the engine has nothing left in
 * flight nothing more will change, so what is there is the answer. */
static bool job_settled(const struct xd_control *c, const struct job *j, bool *all_ok)
{
	if (j->kind == JOB_HOST) {
		*all_ok = true;
		return j->host_done;
	}
	bool settled = true, ok = true;
	for (size_t i = 0; i < j->n; i++) {
		struct xd_dom_status st;
		bool success;
		job_status(c, &j->doms[i], &st);
		settled &= dom_settled(j, &st, j->doms[i].seen, &success);
		ok &= success;
	}
	*all_ok = ok;
	return settled || xd_engine_idle(c->env.engine);
}

static json_t *job_domains(const struct xd_control *c, const struct job *j, char *err,
			   size_t errlen)
{
	json_t *a = json_array();
	size_t used = 0;
	err[0] = '\0';
	for (size_t i = 0; a && i < j->n; i++) {
		struct xd_dom_status st;
		bool success;
		job_status(c, &j->doms[i], &st);
		dom_settled(j, &st, true, &success);
		json_array_append_new(a, status_object(c, &st));
		if (!success && used < errlen) {
			int w = snprintf(err + used, errlen - used, "%s%s is %s%s%s",
					 used ? "; " : "", st.name, xd_state_name(st.state),
					 st.reason ? ": " : "", st.reason ? st.reason : "");
			used += w > 0 ? (size_t)w : 0;
		}
	}
	return a;
}

static json_t *host_domains(const struct xd_control *c)
{
	json_t *a = json_array();
	size_t n = xd_engine_count(c->env.engine);
	for (size_t d = 0; a && d < n; d++) {
		struct xd_dom_status st;
		xd_engine_status(c->env.engine, d, &st);
		json_array_append_new(a, status_object(c, &st));
	}
	return a;
}

static void job_reply(struct xd_control *c, struct job *j, bool ok)
{
	struct client *cl = j->client;
	if (!cl)
		return;
	char err[1024];
	json_t *doms = j->kind == JOB_HOST ? host_domains(c) : job_domains(c, j, err, sizeof(err));
	json_t *reply = j->reply ? j->reply : ok_reply();
	j->reply = NULL;
	if (!ok) {
		json_object_set_new(reply, "ok", json_false());
		json_object_set_new(reply, "code", json_integer(XD_EXIT_FAILED));
		json_object_set_new(reply, "error", json_text(err));
	}
	json_object_set_new(reply, "domains", doms);
	cl->busy = false;
	send_json(cl, reply);
	if (!cl->closed) {
		arm_idle(cl);
		client_process(cl);
	}
}

static void start_domains_of(struct xd_control *c, struct job *j)
{
	size_t *doms = malloc((j->n ? j->n : 1) * sizeof(*doms));
	size_t n = 0;
	for (size_t i = 0; doms && i < j->n; i++) {
		long d = xd_config_find(cfg_of(c), j->doms[i].name);
		if (d >= 0)
			doms[n++] = (size_t)d;
		j->doms[i].seen = false;
	}
	if (n)
		xd_engine_start(c->env.engine, doms, n, XD_CAUSE_ON_DEMAND);
	free(doms);
}

static void evaluate_job(struct xd_control *c, struct job *j)
{
	bool ok;
	if (!job_settled(c, j, &ok))
		return;
	if (j->kind == JOB_RESTART && !j->restart_started) {
		/* Everything is down (or will not go down): start them again. */
		j->restart_started = true;
		start_domains_of(c, j);
		jobs_poke(c);
		return;
	}
	job_reply(c, j, ok);
	job_free(c, j);
}

static void on_jobs_timer(struct xd_timer *t, void *arg)
{
	(void)t;
	struct xd_control *c = arg;
	struct job *next;
	for (struct job *j = c->jobs; j; j = next) {
		next = j->next;
		evaluate_job(c, j);
	}
}

static void jobs_poke(struct xd_control *c)
{
	if (c->jobs && !xd_timer_armed(&c->jobs_timer))
		(void)xd_timer_arm_in(timers_of(c), &c->jobs_timer, 0);
}

static void jobs_mark_seen(struct xd_control *c, size_t slot)
{
	for (struct job *j = c->jobs; j; j = j->next)
		for (size_t i = 0; i < j->n; i++)
			if (j->doms[i].slot == (long)slot)
				j->doms[i].seen = true;
}

/* ------------------------------------------------------------------ */
/* Commands                                                            */

typedef json_t *command_fn(struct xd_control *c, struct client *cl, json_t *req);

static json_t *cmd_status(struct xd_control *c, struct client *cl, json_t *req)
{
	(void)cl;
	size_t n;
	json_t *err;
	size_t *doms = request_domains(c, req, true, false, &n, &err);
	if (!doms)
		return err;
	json_t *list = json_array();
	if (n == 0) {
		json_decref(list);
		list = host_domains(c);
	}
	for (size_t i = 0; list && i < n; i++) {
		struct xd_dom_status st;
		xd_engine_status(c->env.engine, doms[i], &st);
		json_array_append_new(list, status_object(c, &st));
	}
	free(doms);
	json_t *reply = ok_reply();
	json_object_set_new(reply, "uptime", seconds_since(c, xd_timers_now(timers_of(c))));
	json_object_set_new(reply, "domains", list);
	return reply;
}

static json_t *timeline_object(const struct xd_control *c, const char *name,
			       const struct xd_timeline *tl)
{
	return json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:I}",
			 "name", json_text(name),
			 "queued", seconds_since(c, tl->queued),
			 "started", seconds_since(c, tl->started),
			 "created", seconds_since(c, tl->created),
			 "ready", seconds_since(c, tl->ready),
			 "stopping", seconds_since(c, tl->stopping),
			 "stopped", seconds_since(c, tl->stopped),
			 "attempts", (json_int_t)tl->attempts);
}

static json_t *cmd_timeline(struct xd_control *c, struct client *cl, json_t *req)
{
	(void)cl;
	(void)req;
	json_t *list = json_array();
	size_t n = xd_engine_count(c->env.engine);
	for (size_t d = 0; list && d < n; d++) {
		struct xd_timeline tl;
		xd_engine_timeline(c->env.engine, d, &tl);
		json_array_append_new(list, timeline_object(c, dom_name(c, d), &tl));
	}
	json_t *reply = ok_reply();
	json_object_set_new(reply, "uptime", seconds_since(c, xd_timers_now(timers_of(c))));
	json_object_set_new(reply, "domains", list);
	return reply;
}

static json_t *plan_order(const struct xd_config *cfg, const struct xd_plan *p)
{
	json_t *a = json_array();
	for (size_t i = 0; a && i < p->n; i++) {
		size_t d = p->order[i];
		json_array_append_new(a, json_pack("{s:o, s:I}", "name",
						   json_text(cfg->domains[d].name),
						   "wave", (json_int_t)p->wave[d]));
	}
	return a;
}

static json_t *cmd_plan(struct xd_control *c, struct client *cl, json_t *req)
{
	(void)cl;
	const struct xd_config *cfg = cfg_of(c);
	struct xd_plan plan;
	if (xd_plan_build(cfg, &plan) < 0)
		return error_reply(XD_EXIT_FAILED, "cannot build the plan: %s", strerror(errno));
	bool dot = flag(req, "dot");
	char *text = xd_plan_format(cfg, &plan, dot);
	json_t *reply = text ? ok_reply() : error_reply(XD_EXIT_FAILED, "out of memory");
	if (text) {
		json_object_set_new(reply, "format", json_string(dot ? "dot" : "text"));
		json_object_set_new(reply, "text", json_text(text));
		json_object_set_new(reply, "order", plan_order(cfg, &plan));
	}
	free(text);
	xd_plan_free(&plan);
	return reply;
}

static json_t *cmd_events(struct xd_control *c, struct client *cl, json_t *req)
{
	(void)c;
	(void)req;
	cl->subscribed = true;
	xd_timer_disarm(timers_of(c), &cl->idle);
	return json_pack("{s:b, s:b}", "ok", 1, "events", 1);
}

/* doms and everything they require, transitively, in config order. */
static size_t *with_requirements(const struct xd_config *cfg, const size_t *doms, size_t n,
				 size_t *n_out)
{
	bool *in = calloc(cfg->n_domains ? cfg->n_domains : 1, sizeof(*in));
	size_t *stack = malloc((cfg->n_domains ? cfg->n_domains : 1) * sizeof(*stack));
	size_t *out = malloc((cfg->n_domains ? cfg->n_domains : 1) * sizeof(*out));
	size_t top = 0, m = 0;
	if (!in || !stack || !out) {
		free(in);
		free(stack);
		free(out);
		return NULL;
	}
	for (size_t i = 0; i < n; i++)
		if (!in[doms[i]]) {
			in[doms[i]] = true;
			stack[top++] = doms[i];
		}
	while (top) {
		const struct xd_domain_cfg *d = &cfg->domains[stack[--top]];
		for (size_t r = 0; r < d->n_requires; r++)
			if (!in[d->requires[r]]) {
				in[d->requires[r]] = true;
				stack[top++] = d->requires[r];
			}
	}
	for (size_t i = 0; i < cfg->n_domains; i++)
		if (in[i])
			out[m++] = i;
	free(in);
	free(stack);
	*n_out = m;
	return out;
}

/* Domains of all that are not in named. */
static json_t *extra_names(const struct xd_config *cfg, const size_t *all, size_t n_all,
			   const size_t *named, size_t n_named)
{
	json_t *a = json_array();
	for (size_t i = 0; a && i < n_all; i++) {
		bool listed = false;
		for (size_t k = 0; k < n_named && !listed; k++)
			listed = named[k] == all[i];
		if (!listed)
			json_array_append_new(a, json_text(cfg->domains[all[i]].name));
	}
	return a;
}

/* Reply now, or (wait) let a job reply when the domains settle. */
static json_t *reply_or_wait(struct xd_control *c, struct client *cl, enum job_kind kind,
			     const size_t *doms, size_t n, bool wait, json_t *reply)
{
	if (!wait)
		return reply;
	if (!job_new(c, kind, doms, n, cl, reply)) {
		json_decref(reply);
		return error_reply(XD_EXIT_FAILED, "out of memory");
	}
	return NULL;
}

static json_t *cmd_start(struct xd_control *c, struct client *cl, json_t *req)
{
	size_t n, n_all;
	json_t *err;
	size_t *doms = request_domains(c, req, false, true, &n, &err);
	if (!doms)
		return err;
	const struct xd_config *cfg = cfg_of(c);
	size_t *all = with_requirements(cfg, doms, n, &n_all);
	if (!all) {
		free(doms);
		return error_reply(XD_EXIT_FAILED, "out of memory");
	}
	xd_engine_start(c->env.engine, doms, n, XD_CAUSE_ON_DEMAND);
	json_t *reply = ok_reply();
	json_object_set_new(reply, "names", name_list(cfg, doms, n));
	json_object_set_new(reply, "also", extra_names(cfg, all, n_all, doms, n));
	reply = reply_or_wait(c, cl, JOB_START, all, n_all, flag(req, "wait"), reply);
	free(all);
	free(doms);
	return reply;
}

/* Stop doms and, first, what requires them (the engine logs those);
 * *all gets both as configuration indices, *also the dependents' names. */
static size_t *stop_with_dependents(struct xd_control *c, const size_t *doms, size_t n,
				    size_t *n_all, json_t **also)
{
	size_t *cascade = NULL, n_cascade = 0;   /* engine slots */
	xd_engine_stop(c->env.engine, doms, n, &cascade, &n_cascade);
	size_t *all = malloc((n + n_cascade + 1) * sizeof(*all));
	*also = json_array();
	*n_all = 0;
	for (size_t i = 0; all && i < n_cascade; i++) {
		const char *name = dom_name(c, cascade[i]);
		long d = xd_config_find(cfg_of(c), name);
		json_array_append_new(*also, json_text(name));
		if (d >= 0)
			all[(*n_all)++] = (size_t)d;
	}
	if (all) {
		memcpy(all + *n_all, doms, n * sizeof(*all));
		*n_all += n;
	}
	free(cascade);
	return all;
}

static json_t *cmd_stop_or_restart(struct xd_control *c, struct client *cl, json_t *req,
				   enum job_kind kind)
{
	size_t n, n_all = 0;
	json_t *err, *also = NULL;
	size_t *doms = request_domains(c, req, false, true, &n, &err);
	if (!doms)
		return err;
	size_t *all = stop_with_dependents(c, doms, n, &n_all, &also);
	if (!all) {
		free(doms);
		json_decref(also);
		return error_reply(XD_EXIT_FAILED, "out of memory");
	}
	json_t *reply = ok_reply();
	json_object_set_new(reply, "names", name_list(cfg_of(c), doms, n));
	json_object_set_new(reply, "also", also);
	bool wait = flag(req, "wait");
	if (kind == JOB_RESTART && !wait) {
		/* The start phase needs a job even when nobody waits. */
		if (!job_new(c, JOB_RESTART, all, n_all, NULL, NULL)) {
			json_decref(reply);
			reply = error_reply(XD_EXIT_FAILED, "out of memory");
		}
	} else {
		reply = reply_or_wait(c, cl, kind, all, n_all, wait, reply);
	}
	free(all);
	free(doms);
	return reply;
}

static json_t *cmd_stop(struct xd_control *c, struct client *cl, json_t *req)
{
	return cmd_stop_or_restart(c, cl, req, JOB_STOP);
}

static json_t *cmd_restart(struct xd_control *c, struct client *cl, json_t *req)
{
	return cmd_stop_or_restart(c, cl, req, JOB_RESTART);
}

static json_t *cmd_save(struct xd_control *c, struct client *cl, json_t *req)
{
	size_t n;
	json_t *err;
	size_t *doms = request_domains(c, req, false, true, &n, &err);
	if (!doms)
		return err;
	xd_engine_save(c->env.engine, doms, n);
	json_t *reply = ok_reply();
	json_object_set_new(reply, "names", name_list(cfg_of(c), doms, n));
	reply = reply_or_wait(c, cl, JOB_SAVE, doms, n, flag(req, "wait"), reply);
	free(doms);
	return reply;
}

static json_t *cmd_shutdown_host(struct xd_control *c, struct client *cl, json_t *req)
{
	xd_log(XD_LOG_NOTICE, NULL, -1, "host-shutdown sequence requested by uid %u", cl->uid);
	xd_control_shutdown_host(c, false);
	return reply_or_wait(c, cl, JOB_HOST, NULL, 0, flag(req, "wait"), ok_reply());
}

static json_t *reload_now(struct xd_control *c);

static json_t *cmd_reload(struct xd_control *c, struct client *cl, json_t *req)
{
	(void)req;
	xd_log(XD_LOG_NOTICE, NULL, -1, "reload requested by uid %u", cl->uid);
	return reload_now(c);
}

/* The handlers, by proto.h's command; who may run what is proto.h's. */
static command_fn *const handlers[XD_CMD_COUNT] = {
	[XD_CMD_STATUS] = cmd_status,
	[XD_CMD_TIMELINE] = cmd_timeline,
	[XD_CMD_PLAN] = cmd_plan,
	[XD_CMD_EVENTS] = cmd_events,
	[XD_CMD_START] = cmd_start,
	[XD_CMD_STOP] = cmd_stop,
	[XD_CMD_RESTART] = cmd_restart,
	[XD_CMD_SAVE] = cmd_save,
	[XD_CMD_RELOAD] = cmd_reload,
	[XD_CMD_SHUTDOWN_HOST] = cmd_shutdown_host,
};

static json_t *dispatch(struct xd_control *c, struct client *cl, json_t *req)
{
	if (cl->access == XD_ACCESS_NONE)
		return error_reply(XD_EXIT_PERM, "permission denied: uid %u is neither root nor "
				   "in socket_group", cl->uid);
	if (!json_is_object(req))
		return error_reply(XD_EXIT_USAGE, "a request is a JSON object");
	const char *name = json_string_value(json_object_get(req, "cmd"));
	if (!name)
		return error_reply(XD_EXIT_USAGE, "the request has no \"cmd\" string");
	const struct xd_cmd_spec *cmd = xd_proto_command(name);
	if (!cmd || !handlers[cmd->cmd])
		return error_reply(XD_EXIT_USAGE, "unknown command \"%.64s\"", name);
	if (cmd->writes && cl->access != XD_ACCESS_ALL)
		return error_reply(XD_EXIT_PERM, "permission denied: %s needs root "
				   "(socket_group members may only read)", name);
	return handlers[cmd->cmd](c, cl, req);
}

static void handle_line(struct client *cl, char *line, size_t len)
{
	json_error_t jerr;
	json_t *req = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
	json_t *reply;
	if (!req)
		reply = error_reply(XD_EXIT_USAGE, "malformed request: %s", jerr.text);
	else
		reply = dispatch(cl->ctl, cl, req);
	json_decref(req);
	if (cl->access == XD_ACCESS_NONE)
		cl->closing = true;      /* one answer is all a stranger gets */
	if (reply || !cl->busy)
		send_json(cl, reply ? reply : error_reply(XD_EXIT_FAILED, "internal error"));
}

/* ------------------------------------------------------------------ */
/* Engine callbacks                                                    */

static void count_progress(const struct xd_control *c, struct xd_progress *p)
{
	struct xd_tally t;
	xd_engine_tally(c->env.engine, &t);
	*p = (struct xd_progress){
		.total = cfg_of(c)->n_domains,
		.alive = t.alive,
		.running = t.state[XD_RUNNING],
		.failed = t.state[XD_FAILED],
	};
}

static void report_progress(struct xd_control *c)
{
	struct xd_progress p;
	count_progress(c, &p);
	xd_notifier_progress(c->notifier, &p);
}

static bool anyone_subscribed(const struct xd_control *c)
{
	for (const struct client *cl = c->clients; cl; cl = cl->next)
		if (cl->subscribed)
			return true;
	return false;
}

static void broadcast_event(struct xd_control *c, const struct xd_dom_status *st)
{
	if (!anyone_subscribed(c))
		return;          /* no JSON to build for nobody */
	char *text = NULL;
	json_t *ev = event_object(c, st);
	if (ev)
		text = json_dumps(ev, JSON_FLAGS);
	json_decref(ev);
	if (!text)
		return;
	size_t len = strlen(text);
	text[len] = '\n';
	struct client *next;
	for (struct client *cl = c->clients; cl; cl = next) {
		next = cl->next;
		if (cl->subscribed)
			client_write(cl, text, len + 1);
	}
	free(text);
}

void xd_control_changed(struct xd_control *c, size_t dom, const struct xd_dom_status *st)
{
	broadcast_event(c, st);
	jobs_mark_seen(c, dom);
	jobs_poke(c);
	report_progress(c);
}

void xd_control_booting(struct xd_control *c)
{
	if (c->boot_done) {          /* settled inside xd_engine_boot() already */
		xd_notifier_phase(c->notifier, XD_PHASE_UP, false);
		xd_notifier_ready(c->notifier);
		report_progress(c);
		return;
	}
	c->booting = true;
	xd_notifier_phase(c->notifier, XD_PHASE_BOOTING, false);
	if (cfg_of(c)->global.notify_ready == XD_NOTIFY_IMMEDIATELY)
		xd_notifier_ready(c->notifier);
	report_progress(c);
}

void xd_control_boot_settled(struct xd_control *c)
{
	c->boot_done = true;
	if (!c->booting)
		return;
	c->booting = false;
	if (xd_notifier_current_phase(c->notifier) == XD_PHASE_BOOTING)
		xd_notifier_phase(c->notifier, XD_PHASE_UP, false);
	xd_notifier_ready(c->notifier);
	report_progress(c);
}

void xd_control_host_down(struct xd_control *c)
{
	for (struct job *j = c->jobs; j; j = j->next)
		if (j->kind == JOB_HOST)
			j->host_done = true;
	jobs_poke(c);
	/* After `xendomctl shutdown-host` the daemon serves on: back to UP. */
	xd_notifier_phase(c->notifier, c->exiting ? XD_PHASE_DOWN : XD_PHASE_UP, false);
	report_progress(c);
}

void xd_control_shutdown_host(struct xd_control *c, bool daemon_exits)
{
	/* A halt during the boot ends the boot: READY=1 is not owed any more. */
	c->booting = false;
	c->exiting |= daemon_exits;
	xd_notifier_phase(c->notifier, XD_PHASE_HALTING, daemon_exits);
	xd_engine_shutdown_host(c->env.engine);
	report_progress(c);
}

/* ------------------------------------------------------------------ */
/* Reload                                                              */

static bool same_string(const char *a, const char *b)
{
	return strcmp(a ? a : "", b ? b : "") == 0;
}

struct reload_diff {
	json_t *added, *starting, *removed, *changed;
};

static int diff_configs(const struct xd_config *old, const struct xd_config *new,
			struct reload_diff *d)
{
	d->added = json_array();
	d->starting = json_array();
	d->removed = json_array();
	d->changed = json_array();
	if (!d->added || !d->starting || !d->removed || !d->changed)
		return -1;
	for (size_t i = 0; i < new->n_domains; i++) {
		const struct xd_domain_cfg *nd = &new->domains[i];
		long o = xd_config_find(old, nd->name);
		if (o < 0) {
			json_array_append_new(d->added, json_text(nd->name));
			if (nd->autostart)
				json_array_append_new(d->starting, json_text(nd->name));
		} else if (!xd_domain_cfg_equal(old, &old->domains[o], new, nd)) {
			json_array_append_new(d->changed, json_text(nd->name));
		}
	}
	for (size_t i = 0; i < old->n_domains; i++)
		if (xd_config_find(new, old->domains[i].name) < 0)
			json_array_append_new(d->removed, json_text(old->domains[i].name));
	return 0;
}

static void log_names(const char *what, json_t *names)
{
	size_t i;
	json_t *v;
	json_array_foreach(names, i, v)
		xd_log(XD_LOG_NOTICE, json_string_value(v), -1, "reload: %s", what);
}

static json_t *diag_lines(const struct xd_diags *diags)
{
	json_t *a = json_array();
	for (size_t i = 0; a && i < diags->n; i++) {
		const struct xd_diag *d = &diags->v[i];
		char line[1024];
		if (d->line > 0)
			snprintf(line, sizeof(line), "%s:%d: %s", d->file, d->line, d->msg);
		else
			snprintf(line, sizeof(line), "%s: %s", d->file, d->msg);
		xd_log(XD_LOG_ERR, NULL, -1, "reload: %s", line);
		json_array_append_new(a, json_text(line));
	}
	return a;
}

static void apply_global_changes(struct xd_control *c, const struct xd_config *old,
				 const struct xd_config *new)
{
	if (!c->env.socket_path && !same_string(old->global.socket, new->global.socket))
		xd_log(XD_LOG_WARNING, NULL, -1, "reload: socket moved to %s; the daemon "
		       "keeps listening on %s until it restarts", new->global.socket, c->path);
	if (!same_string(old->global.socket_group, new->global.socket_group)) {
		if (lookup_group(c, new->global.socket_group) == 0)
			apply_socket_permissions(c);
		/* Connected clients keep the access they had. */
	}
}

static json_t *refused_reply(const struct xd_control *c, const struct xd_diags *diags)
{
	json_t *reply = error_reply(XD_EXIT_USAGE, "%s has errors; the running configuration "
				    "stays", c->env.config_path);
	if (reply)
		json_object_set_new(reply, "errors", diag_lines(diags));
	return reply;
}

static json_t *reload_now(struct xd_control *c)
{
	struct xd_config *new = NULL;
	struct xd_diags diags = { 0 };
	xd_notifier_reloading(c->notifier, false);
	int r = xd_config_load(c->env.config_path, &new, &diags);
	json_t *reply;
	struct reload_diff d = { 0 };
	if (r < 0 || !new) {
		reply = refused_reply(c, &diags);
		xd_config_free(new);
	} else if (diff_configs(cfg_of(c), new, &d) < 0) {
		reply = error_reply(XD_EXIT_FAILED, "out of memory");
		xd_config_free(new);
	} else {
		struct xd_config *old = cfg_of(c);
		xd_engine_reload(c->env.engine, new);
		*c->env.cfg = new;
		apply_global_changes(c, old, new);
		xd_config_free(old);
		log_names("added", d.added);
		log_names("removed from the configuration: left as it is, no longer managed",
			  d.removed);
		log_names("changed: new settings apply from now on", d.changed);
		xd_log(XD_LOG_NOTICE, NULL, -1, "reloaded %s", c->env.config_path);
		reply = ok_reply();
		json_object_set(reply, "added", d.added);
		json_object_set(reply, "starting", d.starting);
		json_object_set(reply, "removed", d.removed);
		json_object_set(reply, "changed", d.changed);
	}
	json_decref(d.added);
	json_decref(d.starting);
	json_decref(d.removed);
	json_decref(d.changed);
	xd_diags_free(&diags);
	xd_notifier_reloading(c->notifier, true);
	return reply;
}

int xd_control_reload(struct xd_control *c, char **report)
{
	json_t *reply = reload_now(c);
	int r = json_is_true(json_object_get(reply, "ok")) ? 0 : -1;
	if (report)
		*report = reply ? json_dumps(reply, JSON_FLAGS) : NULL;
	json_decref(reply);
	return r;
}

static void on_sighup(int signo, void *arg)
{
	(void)signo;
	xd_log(XD_LOG_NOTICE, NULL, -1, "SIGHUP: reloading the configuration");
	(void)xd_control_reload(arg, NULL);
}

/* ------------------------------------------------------------------ */
/* Life                                                                */

struct xd_control *xd_control_new(const struct xd_control_env *env)
{
	struct xd_control *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->env = *env;
	c->listen_fd = -1;
	const struct xd_global *g = &cfg_of(c)->global;
	c->path = strdup(env->socket_path ? env->socket_path : g->socket);
	xd_timer_init(&c->accept_retry, on_accept_retry, c);
	xd_timer_init(&c->jobs_timer, on_jobs_timer, c);
	xd_timer_init(&c->reap, on_reap, c);
	if (!c->path || lookup_group(c, g->socket_group) < 0)
		goto fail;
	c->notifier = xd_notifier_new(timers_of(c));
	if (!c->notifier)
		goto fail;
	c->listen_fd = open_listener(c->path);
	if (c->listen_fd < 0)
		goto fail;
	apply_socket_permissions(c);
	c->listen_io = xd_loop_add_io(env->loop, c->listen_fd, POLLIN, on_listen, c);
	if (!c->listen_io || xd_loop_on_signal(env->loop, SIGHUP, on_sighup, c) < 0)
		goto fail;
	return c;
fail:
	xd_control_free(c);
	return NULL;
}

void xd_control_free(struct xd_control *c)
{
	if (!c)
		return;
	while (c->clients)
		client_close(c->clients);
	free_graveyard(c);
	while (c->jobs)
		job_free(c, c->jobs);
	struct xd_timers *q = timers_of(c);
	xd_timer_disarm(q, &c->accept_retry);
	xd_timer_disarm(q, &c->jobs_timer);
	xd_timer_disarm(q, &c->reap);
	if (c->listen_fd >= 0) {
		xd_loop_del_io(c->env.loop, c->listen_io);
		close(c->listen_fd);
		unlink(c->path);
	}
	xd_notifier_free(c->notifier);
	free(c->group_name);
	free(c->path);
	free(c);
}
