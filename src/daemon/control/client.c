/* SPDX-License-Identifier: ISC */
/*
 * The control socket: client buffers, line framing, the output backlog,
 * idle clients and the `events` stream (control_int.h).
 */
#include "daemon/control/control_int.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "proto/proto.h"
#include "util/log.h"

#define READ_CHUNK 16384

static void on_idle(struct xd_timer *t, void *arg)
{
	(void)t;
	struct client *cl = arg;
	xd_log(XD_LOG_DEBUG, NULL, -1, "control: dropping idle client (uid %u)", cl->uid);
	ctl_client_close(cl);
}

void ctl_arm_idle(struct client *cl)
{
	const struct xd_control *c = cl->ctl;
	uint64_t ms = c->env.idle_timeout_ms ? c->env.idle_timeout_ms : XD_CTL_IDLE_MS;
	(void)xd_timer_arm_in(ctl_timers(c), &cl->idle, ms);
}

static void on_client_io(struct xd_io *io, int fd, short revents, void *arg);

/* Why uid may not take one more slot, or NULL.  Root (and the daemon's
 * own user) may take any free slot; everyone else stays out of the last
 * XD_CTL_ROOT_RESERVE and holds XD_CTL_CLIENTS_PER_UID at most. */
static const char *admission_problem(const struct xd_control *c, unsigned uid)
{
	if (ctl_privileged(uid))
		return NULL;
	if (c->n_clients >= XD_CTL_CLIENTS_MAX - XD_CTL_ROOT_RESERVE)
		return "the free connection slots are reserved for root";
	size_t mine = 0;
	for (const struct client *cl = c->clients; cl; cl = cl->next)
		mine += cl->uid == uid;
	if (mine >= XD_CTL_CLIENTS_PER_UID)
		return "too many connections from this uid";
	return NULL;
}

/* One best-effort line (the socket is new: its buffer is empty), then
 * close: the refused peer learns why instead of hanging. */
static void refuse(int fd, const struct xd_peer *peer, const char *why)
{
	char line[256];
	int n = snprintf(line, sizeof(line), "{\"ok\":false,\"code\":%d,\"error\":"
			 "\"connection refused: %s (uid %u, max %d per uid)\"}\n",
			 XD_EXIT_FAILED, why, peer->uid, XD_CTL_CLIENTS_PER_UID);
	if (n > 0 && (size_t)n < sizeof(line))
		(void)send(fd, line, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT);
	xd_log(XD_LOG_DEBUG, NULL, -1, "control: connection of uid %u (pid %ld) refused: %s",
	       peer->uid, peer->pid, why);
	close(fd);
}

void ctl_add_client(struct xd_control *c, int fd)
{
	unsigned groups[PEER_GROUPS_MAX];
	struct xd_peer peer;
	if (ctl_peer_credentials(fd, &peer, groups) < 0) {
		close(fd);
		return;
	}
	const char *why = admission_problem(c, peer.uid);
	if (why) {
		refuse(fd, &peer, why);
		return;
	}
	struct client *cl = calloc(1, sizeof(*cl));
	if (!cl) {
		close(fd);
		return;
	}
	cl->ctl = c;
	cl->fd = fd;
	cl->uid = peer.uid;
	cl->pid = peer.pid;
	cl->access = xd_control_access(&peer, geteuid(), c->have_group, c->socket_gid);
	cl->io = xd_loop_add_io(c->env.loop, fd, POLLIN, on_client_io, cl);
	if (!cl->io) {
		free(cl);
		close(fd);
		return;
	}
	xd_timer_init(&cl->idle, on_idle, cl);
	ctl_arm_idle(cl);
	cl->next = c->clients;
	if (c->clients)
		c->clients->prev = cl;
	c->clients = cl;
	c->n_clients++;
}

static void client_set_events(struct client *cl)
{
	short ev = 0;
	if (cl->out.bytes)
		ev |= POLLOUT;
	else if (cl->subscribed || (!cl->busy && !cl->closing))
		ev |= POLLIN;
	if (cl->subscribed)
		ev |= POLLIN;       /* notice the subscriber leaving */
	xd_loop_mod_io(cl->ctl->env.loop, cl->io, ev);
}

/* Keep ctl->backlog the sum of every open client's output memory. */
static void account(struct client *cl)
{
	size_t mem = cl->closed ? 0 : cl->out.mem;
	cl->ctl->backlog = cl->ctl->backlog - cl->counted + mem;
	cl->counted = mem;
}

static void free_input(struct client *cl)
{
	free(cl->in);
	cl->in = NULL;
	cl->in_len = cl->in_cap = 0;
}

void ctl_client_close(struct client *cl)
{
	if (cl->closed)
		return;
	struct xd_control *c = cl->ctl;
	cl->closed = true;
	outq_clear(&cl->out);            /* now: the budget counts it no more */
	free_input(cl);
	account(cl);
	c->n_subscribers -= cl->subscribed;
	xd_loop_del_io(c->env.loop, cl->io);
	close(cl->fd);
	xd_timer_disarm(ctl_timers(c), &cl->idle);
	ctl_detach_jobs(c, cl);
	if (cl->prev)
		cl->prev->next = cl->next;
	else
		c->clients = cl->next;
	if (cl->next)
		cl->next->prev = cl->prev;
	c->n_clients--;
	cl->next = c->graveyard;
	c->graveyard = cl;
	(void)xd_timer_arm_in(ctl_timers(c), &c->reap, 0);
	if (c->accept_paused)
		ctl_resume_accept(c);
}

/* What the kernel may hold of one subscriber's unread stream (it
 * doubles the value for its own bookkeeping): the rest waits in the
 * daemon's queue, under the budget.  The default, about 200 KB, would let
 * 1000 subscribers that never read pin 200 MB of kernel memory, and take
 * some 300 events each, one sendmsg() apiece, before their sockets fill. */
#define EVENTS_SNDBUF (16 * 1024)

void ctl_client_subscribe(struct client *cl)
{
	if (cl->subscribed)
		return;
	cl->ctl->n_subscribers++;
	cl->subscribed = true;
	cl->progress = cl->ctl->n_events;
	int size = EVENTS_SNDBUF;
	(void)setsockopt(cl->fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
}

void ctl_free_graveyard(struct xd_control *c)
{
	while (c->graveyard) {
		struct client *cl = c->graveyard;
		c->graveyard = cl->next;
		free(cl);
	}
}

void ctl_on_reap(struct xd_timer *t, void *arg)
{
	(void)t;
	ctl_free_graveyard(arg);
}

/* Send what the socket takes now; the rest waits for POLLOUT.  Called
 * only when the queue was empty before (a socket known to be full is not
 * tried again until poll says it has room) or on POLLOUT. */
static void client_flush(struct client *cl)
{
	size_t before = cl->out.bytes;
	if (outq_send(&cl->out, cl->fd) == OUTQ_ERROR) {
		ctl_client_close(cl);
		return;
	}
	if (cl->out.bytes < before || !cl->out.bytes)
		cl->progress = cl->ctl->n_events;   /* it reads */
	if (!cl->out.bytes && cl->closing) {
		ctl_client_close(cl);
		return;
	}
	account(cl);
	client_set_events(cl);
}

static size_t backlog_budget(const struct xd_control *c)
{
	return c->env.backlog_total_max ? c->env.backlog_total_max : XD_CTL_BACKLOG_TOTAL;
}

/* The subscriber furthest behind: the one whose socket took nothing for
 * the most events; of those, the one holding the most; of those, the
 * longest connected (the list is newest first).  Memory alone would pick
 * a subscriber that reads as readily as one that never does whenever a
 * burst of events fills both queues alike. */
static struct client *slowest_subscriber(struct xd_control *c)
{
	struct client *worst = NULL;
	for (struct client *cl = c->clients; cl; cl = cl->next) {
		if (!cl->subscribed || !cl->counted)
			continue;
		if (!worst || cl->progress < worst->progress ||
		    (cl->progress == worst->progress && cl->counted >= worst->counted))
			worst = cl;
	}
	return worst;
}

/* Drop the subscribers furthest behind until all clients' output and
 * `more` fit the budget; false if they do not even without any. */
static bool make_room(struct xd_control *c, size_t more)
{
	while (c->backlog + more > backlog_budget(c)) {
		struct client *cl = slowest_subscriber(c);
		if (!cl)
			return false;
		xd_log(XD_LOG_NOTICE, NULL, -1, "control: events client (uid %u, pid %ld) "
		       "dropped: %zu bytes unread, nothing read for %llu events, while all "
		       "clients' output exceeds the budget of %zu bytes", cl->uid, cl->pid,
		       cl->out.bytes, (unsigned long long)(c->n_events - cl->progress),
		       backlog_budget(c));
		ctl_client_close(cl);
	}
	return true;
}

/* Queue q's bytes (taken over) for cl; try to send them if nothing was
 * waiting for the socket to drain already. */
static void client_enqueue(struct client *cl, struct outq *q)
{
	bool idle = cl->out.bytes == 0;
	outq_splice(&cl->out, q);
	if (idle)
		client_flush(cl);
	else
		account(cl);
}

static int dump_to_queue(const char *buf, size_t size, void *arg)
{
	return outq_append(arg, buf, size);
}

/* A reply that would take the output past the budget while other
 * clients' output holds memory (one alone may be larger) is refused with
 * a short error instead: the requests of users who do not read their
 * replies cannot add up. */
static void refuse_reply(struct client *cl, struct outq *q)
{
	struct xd_control *c = cl->ctl;
	xd_log(XD_LOG_NOTICE, NULL, -1, "control: reply of %zu bytes to uid %u (pid %ld) "
	       "refused: all clients' unsent output holds %zu bytes, the budget is %zu",
	       q->bytes, cl->uid, cl->pid, c->backlog, backlog_budget(c));
	char line[256];
	int n = snprintf(line, sizeof(line), "{\"ok\":false,\"code\":%d,\"error\":\"the reply "
			 "(%zu bytes) does not fit the daemon's output budget now: other "
			 "clients have not read theirs; try again\"}\n", XD_EXIT_FAILED, q->bytes);
	outq_clear(q);
	if (n > 0 && (size_t)n < sizeof(line) && outq_append(q, line, (size_t)n) == 0)
		return;
	ctl_client_close(cl);
}

void ctl_send_json(struct client *cl, json_t *reply)
{
	struct outq q = { 0 };
	if (cl->closed) {
		json_decref(reply);
		return;
	}
	int r = reply ? json_dump_callback(reply, dump_to_queue, &q, CTL_JSON_FLAGS) : -1;
	json_decref(reply);
	if (r < 0 || outq_append(&q, "\n", 1) < 0) {
		outq_clear(&q);
		ctl_client_close(cl);
		return;
	}
	if (!make_room(cl->ctl, q.mem) && q.mem > OUTQ_CHUNK_MEM &&
	    cl->ctl->backlog > cl->counted)
		refuse_reply(cl, &q);
	if (!cl->closed)
		client_enqueue(cl, &q);
	outq_clear(&q);
}

static void take_lines(struct client *cl)
{
	while (!cl->closed && !cl->busy && !cl->closing && !cl->subscribed &&
	       !cl->out.bytes && cl->in_len) {
		char *nl = memchr(cl->in, '\n', cl->in_len);
		if (!nl)
			break;
		size_t len = (size_t)(nl - cl->in);
		*nl = '\0';
		ctl_handle_line(cl, cl->in, len);
		if (cl->closed)
			return;
		cl->in_len -= len + 1;
		memmove(cl->in, nl + 1, cl->in_len);
		if (!cl->busy && !cl->subscribed)
			ctl_arm_idle(cl);
	}
	if (cl->subscribed)              /* the stream is one-way from here */
		free_input(cl);
	if (cl->in_len > XD_PROTO_REQUEST_MAX && !cl->closing && !cl->busy) {
		/* No way to find the next request's start: answer, then close. */
		cl->in_len = 0;
		cl->closing = true;
		ctl_send_json(cl, ctl_error(XD_EXIT_USAGE, "request longer than %d bytes",
					  XD_PROTO_REQUEST_MAX));
	}
}

/* Room in cl->in for the next read: a request is at most REQUEST_MAX
 * bytes and its newline, so that is all a client's input may take. */
static int input_room(struct client *cl)
{
	size_t most = XD_PROTO_REQUEST_MAX + 1;
	size_t need = cl->in_len + READ_CHUNK < most ? cl->in_len + READ_CHUNK : most;
	if (need <= cl->in_cap)
		return 0;
	size_t ncap = cl->in_cap ? 2 * cl->in_cap : READ_CHUNK;
	ncap = ncap < need ? need : ncap > most ? most : ncap;
	char *n = realloc(cl->in, ncap);
	if (!n)
		return -1;
	cl->in = n;
	cl->in_cap = ncap;
	return 0;
}

/* Read until EAGAIN, a full buffer, or a request to answer.  An empty
 * input buffer is freed: an idle client holds no memory for it. */
static void client_read(struct client *cl)
{
	for (;;) {
		if (cl->subscribed) {    /* the stream is one-way: discard input */
			char junk[512];
			ssize_t n = recv(cl->fd, junk, sizeof(junk), 0);
			if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
				ctl_client_close(cl);
			if (n <= 0)
				return;
			continue;
		}
		if (input_room(cl) < 0) {
			ctl_client_close(cl);
			return;
		}
		size_t room = XD_PROTO_REQUEST_MAX + 1 - cl->in_len;
		if (room > READ_CHUNK)
			room = READ_CHUNK;
		ssize_t n = recv(cl->fd, cl->in + cl->in_len, room, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (!cl->in_len)
				free_input(cl);
			return;
		}
		if (n <= 0) {
			ctl_client_close(cl);
			return;
		}
		cl->in_len += (size_t)n;
		ctl_client_process(cl);
		if (cl->closed || cl->busy || cl->closing || cl->out.bytes)
			return;
	}
}

void ctl_client_process(struct client *cl)
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
		ctl_client_process(cl);
		if (cl->closed)
			return;
	}
	if (revents & (POLLIN | POLLHUP | POLLERR | POLLNVAL))
		client_read(cl);
}

/* One event for one subscriber: dropped past its own limit, else queued
 * and, if nothing was waiting for the socket to drain, sent at once.  A
 * socket found full is not tried again before poll() says it has room:
 * a subscriber that does not read costs no system call per event. */
static void write_event(struct client *cl, const char *text, size_t len)
{
	if (cl->out.mem + OUTQ_CHUNK_MEM > XD_CTL_EVENTS_MAX) {
		xd_log(XD_LOG_NOTICE, NULL, -1, "control: events client (uid %u, pid %ld) "
		       "does not read; dropped with %zu bytes unread", cl->uid, cl->pid,
		       cl->out.bytes);
		ctl_client_close(cl);
		return;
	}
	bool idle = cl->out.bytes == 0;
	if (outq_append(&cl->out, text, len) < 0) {
		ctl_client_close(cl);
		return;
	}
	if (idle)
		client_flush(cl);
	else
		account(cl);
}

void ctl_broadcast_event(struct xd_control *c, const struct xd_dom_status *st)
{
	if (!c->n_subscribers)
		return;          /* no JSON to build for nobody */
	char *text = NULL;
	json_t *ev = ctl_event_object(c, st);
	if (ev)
		text = json_dumps(ev, CTL_JSON_FLAGS);
	json_decref(ev);
	if (!text)
		return;
	size_t len = strlen(text);
	text[len] = '\n';
	c->n_events++;
	/* No client but the one written to may close inside the fan-out
	 * (next must stay valid): the budget is enforced after it. */
	struct client *next;
	for (struct client *cl = c->clients; cl; cl = next) {
		next = cl->next;
		if (cl->subscribed && !cl->closed)
			write_event(cl, text, len + 1);
	}
	free(text);
	(void)make_room(c, 0);
}

void xd_control_stats(const struct xd_control *c, struct xd_control_stats *st)
{
	*st = (struct xd_control_stats){ .clients = c->n_clients, .backlog = c->backlog,
					 .subscribers = c->n_subscribers };
}
