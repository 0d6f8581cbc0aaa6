/* SPDX-License-Identifier: ISC */
/*
 * The control socket: the socket file, its permissions, accept() and its
 * pause when descriptors run out; the control object's life
 * (control_int.h).
 */
#include "daemon/control/control_int.h"

#include <errno.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/un.h>
#include <unistd.h>

#include "proto/proto.h"
#include "util/log.h"

#define ACCEPT_BATCH       64       /* connections taken per wake-up */
#define ACCEPT_RETRY_MS    250      /* after EMFILE & co. */

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
static void apply_socket_permissions(const struct xd_control *c, const char *path)
{
	gid_t gid = c->have_group ? (gid_t)c->socket_gid : getegid();
	if (!path)      /* never; tells gcc so (UBSan's nonnull check on chown made a NULL path) */
		return;
	if (chown(path, geteuid(), gid) < 0)
		xd_log(XD_LOG_WARNING, NULL, -1, "chown %s: %s", path, strerror(errno));
	if (chmod(path, 0660) < 0)
		xd_log(XD_LOG_WARNING, NULL, -1, "chmod %s: %s", path, strerror(errno));
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

/* Bind and listen on tmp (umask 0177: nobody but us until the chmod). */
static int bind_and_listen(const char *tmp)
{
	struct sockaddr_un sa;
	if (fill_address(&sa, tmp) < 0)
		return -1;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		xd_log(XD_LOG_ERR, NULL, -1, "socket: %s", strerror(errno));
		return -1;
	}
	unlink(tmp);
	mode_t old = umask(0177);
	int r = bind(fd, (const struct sockaddr *)&sa, sizeof(sa));
	int err = errno;
	umask(old);
	if (r < 0 || listen(fd, SOMAXCONN) < 0) {
		xd_log(XD_LOG_ERR, NULL, -1, "%s %s: %s", r < 0 ? "bind" : "listen", tmp,
		       strerror(r < 0 ? err : errno));
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * The socket is made under a temporary name and renamed into place once it
 * listens with its final owner and mode: a client that sees the file can
 * connect at once (a socket that exists before listen() refuses).  A path
 * too long for the temporary name is bound in place.
 */
static int open_listener(struct xd_control *c)
{
	const char *path = c->path;
	struct sockaddr_un sa;
	if (fill_address(&sa, path) < 0 || make_parent_dirs(path) < 0 ||
	    clear_stale_socket(path, &sa) < 0)
		return -1;
	char tmp[sizeof(sa.sun_path) + 8];
	int n = snprintf(tmp, sizeof(tmp), "%s.new", path);
	bool in_place = n < 0 || (size_t)n >= sizeof(sa.sun_path);
	int fd = bind_and_listen(in_place ? path : tmp);
	if (fd < 0)
		return -1;
	apply_socket_permissions(c, in_place ? path : tmp);
	if (!in_place && rename(tmp, path) < 0) {
		xd_log(XD_LOG_ERR, NULL, -1, "rename %s to %s: %s", tmp, path, strerror(errno));
		unlink(tmp);
		close(fd);
		return -1;
	}
	return fd;
}

static void pause_accept(struct xd_control *c)
{
	if (c->accept_paused)
		return;
	c->accept_paused = true;
	xd_loop_mod_io(c->env.loop, c->listen_io, 0);
	(void)xd_timer_arm_in(ctl_timers(c), &c->accept_retry, ACCEPT_RETRY_MS);
}

void ctl_resume_accept(struct xd_control *c)
{
	if (!c->accept_paused)
		return;
	c->accept_paused = false;
	xd_timer_disarm(ctl_timers(c), &c->accept_retry);
	xd_loop_mod_io(c->env.loop, c->listen_io, POLLIN);
}

static void on_accept_retry(struct xd_timer *t, void *arg)
{
	(void)t;
	struct xd_control *c = arg;
	if (c->n_clients < XD_CTL_CLIENTS_MAX)
		ctl_resume_accept(c);
	else
		(void)xd_timer_arm_in(ctl_timers(c), &c->accept_retry, ACCEPT_RETRY_MS);
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
			ctl_add_client(c, cfd);
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

static bool same_string(const char *a, const char *b)
{
	return strcmp(a ? a : "", b ? b : "") == 0;
}

/* A reload's part for the socket (the reload's `applied` hook). */
void ctl_apply_global_changes(void *arg, const struct xd_config *old,
			      const struct xd_config *new)
{
	struct xd_control *c = arg;
	ctl_names_forget_config(c);
	if (!c->env.socket_path && !same_string(old->global.socket, new->global.socket))
		xd_log(XD_LOG_WARNING, NULL, -1, "reload: socket moved to %s; the daemon "
		       "keeps listening on %s until it restarts", new->global.socket, c->path);
	if (!same_string(old->global.socket_group, new->global.socket_group)) {
		if (lookup_group(c, new->global.socket_group) == 0)
			apply_socket_permissions(c, c->path);
		/* Connected clients keep the access they had. */
	}
}

int xd_control_reload(struct xd_control *c, char **report)
{
	json_t *reply = ctl_reload_reply(c);
	int r = json_is_true(json_object_get(reply, "ok")) ? 0 : -1;
	if (report)
		*report = reply ? json_dumps(reply, CTL_JSON_FLAGS) : NULL;
	json_decref(reply);
	return r;
}

static void on_sighup(int signo, void *arg)
{
	(void)signo;
	xd_log(XD_LOG_NOTICE, NULL, -1, "SIGHUP: reloading the configuration");
	(void)xd_control_reload(arg, NULL);
}

struct xd_control *xd_control_new(const struct xd_control_env *env)
{
	struct xd_control *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->env = *env;
	c->listen_fd = -1;
	const struct xd_global *g = &ctl_cfg(c)->global;
	c->path = strdup(env->socket_path ? env->socket_path : g->socket);
	xd_timer_init(&c->accept_retry, on_accept_retry, c);
	xd_timer_init(&c->jobs_timer, ctl_on_jobs_timer, c);
	xd_timer_init(&c->reap, ctl_on_reap, c);
	if (!c->path || lookup_group(c, g->socket_group) < 0)
		goto fail;
	c->listen_fd = open_listener(c);
	if (c->listen_fd < 0)
		goto fail;
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
		ctl_client_close(c->clients);
	ctl_free_graveyard(c);
	while (c->jobs)
		ctl_job_free(c, c->jobs);
	struct xd_timers *q = ctl_timers(c);
	xd_timer_disarm(q, &c->accept_retry);
	xd_timer_disarm(q, &c->jobs_timer);
	xd_timer_disarm(q, &c->reap);
	if (c->listen_fd >= 0) {
		xd_loop_del_io(c->env.loop, c->listen_io);
		close(c->listen_fd);
		unlink(c->path);
	}
	ctl_names_free(c);
	free(c->group_name);
	free(c->path);
	free(c);
}
