/* SPDX-License-Identifier: ISC */
/*
 * The control socket's insides (control.h), one file per concern:
 *
 *   listener.c  the socket file, its permissions, accept() and its pause
 *               when descriptors run out; the control object's life
 *   peer.c      peer credentials and what they allow (socket_group)
 *   client.c    client buffers, line framing, the output budget, idle
 *               clients and the `events` stream
 *   outq.c      a client's unsent output in fixed-size chunks (outq.h)
 *   names.c     names to engine slots and configuration indices, by hash
 *   reply.c     the JSON objects of replies and events
 *   commands.c  request dispatch and each command
 *   jobs.c      --wait jobs (and restart's start phase)
 *
 * Re-entrancy: engine callbacks (changed, host_down) may arrive while we
 * are inside an engine command issued for a request.  They only buffer
 * output, mark jobs and arm a 0 ms timer; jobs are evaluated from that
 * timer, so the engine is never called from inside its own callback.
 * Clients are never freed where a caller may still hold them: a closed
 * client goes to a graveyard that a 0 ms timer empties.
 */
#ifndef XD_DAEMON_CONTROL_INT_H
#define XD_DAEMON_CONTROL_INT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "daemon/control.h"
#include "daemon/control/outq.h"
#include "proto/proto.h"
#include "util/hash.h"

#define PEER_GROUPS_MAX 256
#define CTL_JSON_FLAGS (JSON_COMPACT | JSON_REAL_PRECISION(15))

struct client {
	struct xd_control *ctl;
	struct client *next, *prev;      /* live list, or graveyard (next only) */
	int fd;
	struct xd_io *io;
	enum xd_access access;
	unsigned uid;
	long pid;                        /* -1 if unknown */
	size_t counted;                  /* out.mem, as counted in ctl->backlog */
	char *in;                        /* request bytes, up to REQUEST_MAX + 1 */
	size_t in_len, in_cap;           /* in is freed whenever it empties */
	struct outq out;                 /* output not yet sent (freed as it goes) */
	uint64_t progress;               /* ctl->n_events when its socket last took bytes */
	bool busy;                       /* a --wait job will reply */
	bool subscribed;                 /* `events` stream */
	bool closing;                    /* close once out is flushed */
	bool closed;
	struct xd_timer idle;
};

enum job_kind { JOB_START, JOB_STOP, JOB_SAVE, JOB_RESTART, JOB_HOST, JOB_MIGRATE };

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
	size_t n_subscribers;
	uint64_t n_events;               /* events broadcast so far */
	size_t backlog;                  /* memory of all clients' output queues */
	struct client *graveyard;
	struct xd_timer reap;            /* 0 ms: free the graveyard */

	struct job *jobs;
	struct xd_timer jobs_timer;      /* 0 ms: evaluate jobs outside callbacks */

	/* names.c: engine slots are append-only, so their index grows; the
	 * configuration's is rebuilt when the configuration changes. */
	struct xd_index slot_index;
	size_t n_slots_indexed;
	struct xd_index cfg_index;
	const struct xd_config *cfg_indexed;
};

static inline struct xd_config *ctl_cfg(const struct xd_control *c)
{
	return *c->env.cfg;
}

static inline struct xd_timers *ctl_timers(const struct xd_control *c)
{
	return xd_loop_timers(c->env.loop);
}

static inline const struct xd_engine_if_ops *ctl_engine(const struct xd_control *c)
{
	return c->env.engine.ops;
}

/* listener.c */
void ctl_resume_accept(struct xd_control *c);
/* A reload's `applied` hook (reload.h): socket moved, socket_group. */
void ctl_apply_global_changes(void *arg, const struct xd_config *old,
			      const struct xd_config *new);

/* peer.c: the peer's uid, gid and supplementary groups (into groups,
 * PEER_GROUPS_MAX of them at most). */
int ctl_peer_credentials(int fd, struct xd_peer *peer, unsigned *groups);
bool ctl_privileged(unsigned uid);

/* client.c */
void ctl_add_client(struct xd_control *c, int fd);
void ctl_client_close(struct client *cl);
/* From now on cl gets the `events` stream. */
void ctl_client_subscribe(struct client *cl);
void ctl_free_graveyard(struct xd_control *c);
void ctl_on_reap(struct xd_timer *t, void *arg);
void ctl_arm_idle(struct client *cl);
/* Answer what is buffered (pipelined requests) and set the poll events. */
void ctl_client_process(struct client *cl);
/* One reply line (reply is taken over; NULL closes the client). */
void ctl_send_json(struct client *cl, json_t *reply);
void ctl_broadcast_event(struct xd_control *c, const struct xd_dom_status *st);

/* names.c */
const char *ctl_dom_name(const struct xd_control *c, size_t slot);
/* The engine's slot of a domain it knows (managed or not), or -1. */
long ctl_engine_slot(struct xd_control *c, const char *name);
/* The configuration index of a managed domain, or -1. */
long ctl_config_index(struct xd_control *c, const char *name);
void ctl_names_forget_config(struct xd_control *c);
void ctl_names_free(struct xd_control *c);
/* The request's "names" (at least one if proto.h's cmd needs a name):
 * with slots, engine slots of any domain the engine knows; else
 * configuration indices of managed domains.  On error *err gets the
 * reply. */
size_t *ctl_request_domains(struct xd_control *c, json_t *req, enum xd_cmd cmd, bool slots,
			    size_t *n_out, json_t **err);

/* reply.c */
json_t *ctl_error(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
json_t *ctl_ok(void);
json_t *ctl_seconds(const struct xd_control *c, uint64_t ms);
json_t *ctl_status_object(const struct xd_control *c, const struct xd_dom_status *st);
json_t *ctl_event_object(const struct xd_control *c, const struct xd_dom_status *st);
json_t *ctl_timeline_object(const struct xd_control *c, const char *name,
			    const struct xd_timeline *tl);
json_t *ctl_name_list(const struct xd_config *cfg, const size_t *doms, size_t n);
/* Every domain the engine knows, as status objects. */
json_t *ctl_host_domains(const struct xd_control *c);
bool ctl_flag(json_t *req, const char *key);

/* commands.c: a complete request line (NUL-terminated at len). */
void ctl_handle_line(struct client *cl, char *line, size_t len);
/* Reload (reload.h) and its reply. */
json_t *ctl_reload_reply(struct xd_control *c);

/* jobs.c */
/* doms: configuration indices; reply: the fields the final reply
 * carries (taken over).  waiter NULL: nobody waits. */
struct job *ctl_job_new(struct xd_control *c, enum job_kind kind, const size_t *doms,
			size_t n, struct client *waiter, json_t *reply);
void ctl_job_free(struct xd_control *c, struct job *j);
void ctl_jobs_poke(struct xd_control *c);
void ctl_on_jobs_timer(struct xd_timer *t, void *arg);
void ctl_detach_jobs(struct xd_control *c, const struct client *cl);

#endif
