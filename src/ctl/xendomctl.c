/* SPDX-License-Identifier: ISC */
/*
 * xendomctl: xendomd's control tool (xendomctl(8)).
 *
 * One connection, one JSON request line, one JSON reply line (or, for
 * `events`, a stream of them).  The protocol, the commands and the exit
 * codes are proto/proto.h's; the daemon's replies carry the code to use.
 */
#include <errno.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "ctl/safe.h"
#include "ctl/svg.h"
#include "ctl/table.h"
#include "proto/proto.h"
#include "util/escape.h"
#include "xd_build.h"

struct opts {
	const char *socket;
	bool json;
	bool wait;
	bool dot;
	const char *svg;
	const char *cmd;
	char **names;
	int n_names;
	const char *host;                /* migrate NAME HOST */
};

/* ------------------------------------------------------------------ */
/* Usage                                                               */

static void usage(FILE *out)
{
	fprintf(out,
		"usage: xendomctl [-s PATH] [--json] COMMAND [ARGS]\n"
		"  status [NAME...]       domains: state, domid, since, attempts, last error\n"
		"  start NAME... [--wait] start (and what they require); wait for ready/failed\n"
		"  stop NAME... [--wait]  clean shutdown; dependents are stopped first\n"
		"  restart NAME... [--wait]\n"
		"                         stop, then start again\n"
		"  save NAME... [--wait]  save to save_dir (restored at next boot)\n"
		"  migrate NAME HOST [--wait]\n"
		"                         live-migrate to HOST, as xl migrate does\n"
		"  reload                 re-read the configuration (a bad file is refused)\n"
		"  plan [--dot]           boot plan of the running configuration\n"
		"  timeline [--svg FILE]  what happened at the last boot\n"
		"  events                 stream state changes\n"
		"  shutdown-host [--wait] run the host-shutdown sequence now\n"
		"options: -s, --socket PATH (default %s); -j, --json; -h, --help; -V, --version\n"
		"exit: 0 done, 1 failed, 2 usage/config error, 3 daemon not reachable, "
		"4 permission denied\n", XD_PROTO_SOCKET_DEFAULT);
}

static int usage_error(const char *fmt, const char *arg)
{
	fputs("xendomctl: ", stderr);
	fprintf(stderr, fmt, arg);
	fputs(" (xendomctl --help lists the commands)\n", stderr);
	return XD_EXIT_USAGE;
}

/* ------------------------------------------------------------------ */
/* Arguments                                                           */

static bool is_opt(const char *a, const char *s, const char *l)
{
	return (s && strcmp(a, s) == 0) || strcmp(a, l) == 0;
}

/* Options may come before or after the command; "--" ends them. */
static int parse_args(int argc, char **argv, struct opts *o)
{
	bool options = true;
	o->socket = XD_PROTO_SOCKET_DEFAULT;
	o->names = calloc((size_t)argc, sizeof(*o->names));
	if (!o->names)
		return XD_EXIT_FAILED;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (options && strcmp(a, "--") == 0) {
			options = false;
		} else if (options && is_opt(a, "-s", "--socket")) {
			if (++i == argc)
				return usage_error("%s needs a path", a);
			o->socket = argv[i];
		} else if (options && strncmp(a, "--socket=", 9) == 0) {
			o->socket = a + 9;
		} else if (options && is_opt(a, "-j", "--json")) {
			o->json = true;
		} else if (options && is_opt(a, "-w", "--wait")) {
			o->wait = true;
		} else if (options && is_opt(a, NULL, "--dot")) {
			o->dot = true;
		} else if (options && is_opt(a, NULL, "--svg")) {
			if (++i == argc)
				return usage_error("%s needs a file name", a);
			o->svg = argv[i];
		} else if (options && is_opt(a, "-h", "--help")) {
			usage(stdout);
			exit(XD_EXIT_OK);
		} else if (options && is_opt(a, "-V", "--version")) {
			printf("xendomctl %s\n", XD_VERSION);
			exit(XD_EXIT_OK);
		} else if (options && a[0] == '-' && a[1]) {
			return usage_error("unknown option %s", a);
		} else if (!o->cmd) {
			o->cmd = a;
		} else {
			o->names[o->n_names++] = argv[i];
		}
	}
	return -1;
}

static int check_args(struct opts *o)
{
	if (!o->cmd)
		return usage_error("%s", "no command given");
	const struct xd_cmd_spec *s = xd_proto_command(o->cmd);
	if (!s)
		return usage_error("unknown command \"%s\"", o->cmd);
	if (s->host && o->n_names != 2)
		return usage_error("%s takes a domain name and a host", o->cmd);
	if (s->host)
		o->host = o->names[--o->n_names];
	if (o->n_names && !s->names)
		return usage_error("%s takes no domain names", o->cmd);
	if (!o->n_names && s->need_name)
		return usage_error("%s needs at least one domain name", o->cmd);
	if (o->wait && !s->wait)
		return usage_error("--wait does not apply to %s", o->cmd);
	if (o->dot && !s->dot)
		return usage_error("--dot does not apply to %s", o->cmd);
	if (o->svg && !s->svg)
		return usage_error("--svg does not apply to %s", o->cmd);
	return -1;
}

/* ------------------------------------------------------------------ */
/* Talking to the daemon                                               */

struct conn {
	int fd;
	char *buf;
	size_t len, cap;
};

static int connect_daemon(const char *path, struct conn *c)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "xendomctl: socket path too long: %s\n", path);
		return XD_EXIT_USAGE;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		fprintf(stderr, "xendomctl: socket: %s\n", strerror(errno));
		return XD_EXIT_FAILED;
	}
	if (connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
		return -1;
	int err = errno;
	close(c->fd);
	c->fd = -1;
	if (err == EACCES || err == EPERM) {
		fprintf(stderr, "xendomctl: permission denied: %s (root or socket_group "
			"members only)\n", path);
		return XD_EXIT_PERM;
	}
	fprintf(stderr, "xendomctl: xendomd not reachable at %s: %s\n", path, strerror(err));
	return XD_EXIT_UNREACHABLE;
}

static int send_request(struct conn *c, json_t *req)
{
	char *text = json_dumps(req, JSON_COMPACT);
	if (!text)
		return -1;
	size_t len = strlen(text), off = 0;
	text[len++] = '\n';
	while (off < len) {
		ssize_t n = send(c->fd, text + off, len - off, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			free(text);
			return -1;
		}
		off += (size_t)n;
	}
	free(text);
	return 0;
}

/* The next reply line as JSON; NULL at EOF or on a bad line. */
static json_t *read_reply(struct conn *c)
{
	for (;;) {
		char *nl = c->len ? memchr(c->buf, '\n', c->len) : NULL;
		if (nl) {
			size_t n = (size_t)(nl - c->buf);
			json_t *j = json_loadb(c->buf, n, 0, NULL);
			c->len -= n + 1;
			memmove(c->buf, nl + 1, c->len);
			if (!j)
				fprintf(stderr, "xendomctl: malformed reply from xendomd\n");
			return j;
		}
		if (c->len == XD_PROTO_REPLY_MAX) {
			fprintf(stderr, "xendomctl: reply longer than %d bytes\n", XD_PROTO_REPLY_MAX);
			return NULL;
		}
		if (c->len + 65536 > c->cap) {
			size_t cap = c->cap ? c->cap * 2 : 65536;
			char *b = realloc(c->buf, cap > XD_PROTO_REPLY_MAX ? XD_PROTO_REPLY_MAX : cap);
			if (!b)
				return NULL;
			c->buf = b;
			c->cap = cap > XD_PROTO_REPLY_MAX ? XD_PROTO_REPLY_MAX : cap;
		}
		ssize_t n = recv(c->fd, c->buf + c->len, c->cap - c->len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return NULL;
		c->len += (size_t)n;
	}
}

static json_t *build_request(const struct opts *o)
{
	json_t *req = json_pack("{s:s}", "cmd", o->cmd);
	if (!req)
		return NULL;
	if (o->n_names) {
		json_t *names = json_array();
		for (int i = 0; i < o->n_names; i++)
			json_array_append_new(names, json_string(o->names[i]));
		json_object_set_new(req, "names", names);
	}
	if (o->wait)
		json_object_set_new(req, "wait", json_true());
	if (o->dot)
		json_object_set_new(req, "dot", json_true());
	if (o->host)
		json_object_set_new(req, "host", json_string(o->host));
	return req;
}

/* ------------------------------------------------------------------ */
/* Human output                                                        */

static const char *str(json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

static void print_json(json_t *j)
{
	char *text = safe_json_dumps(j, JSON_COMPACT | JSON_REAL_PRECISION(15));
	if (text)
		puts(text);
	free(text);
}

/* "12s", "3m05s", "2h03m", "4d02h". */
static void format_duration(double secs, char *buf, size_t len)
{
	long s = secs < 0 ? 0 : (long)secs;
	if (s < 60)
		snprintf(buf, len, "%lds", s);
	else if (s < 3600)
		snprintf(buf, len, "%ldm%02lds", s / 60, s % 60);
	else if (s < 86400)
		snprintf(buf, len, "%ldh%02ldm", s / 3600, s % 3600 / 60);
	else
		snprintf(buf, len, "%ldd%02ldh", s / 86400, s % 86400 / 3600);
}

static void format_time(json_t *v, char *buf, size_t len)
{
	if (json_is_number(v))
		snprintf(buf, len, "%.3fs", json_number_value(v));
	else
		snprintf(buf, len, "-");
}

static void format_int(json_t *v, char *buf, size_t len)
{
	if (json_is_integer(v))
		snprintf(buf, len, "%lld", (long long)json_integer_value(v));
	else
		snprintf(buf, len, "-");
}

static void status_row(struct table *t, json_t *d, double uptime)
{
	char domid[24], since[48], attempts[24], ago[32];
	format_int(json_object_get(d, "domid"), domid, sizeof(domid));
	format_int(json_object_get(d, "attempts"), attempts, sizeof(attempts));
	format_duration(uptime - json_number_value(json_object_get(d, "since")), ago, sizeof(ago));
	snprintf(since, sizeof(since), "%s ago", ago);
	const char *reason = str(d, "reason");
	if (!json_is_true(json_object_get(d, "managed")))
		reason = reason ? reason : "(not managed: not in the configuration)";
	const char *row[] = { str(d, "name"), str(d, "state"), domid, since, attempts, reason };
	table_add(t, row);
}

static void print_domain_table(json_t *reply)
{
	static const char *const header[] = { "NAME", "STATE", "DOMID", "SINCE", "ATTEMPTS",
					      "REASON" };
	struct table t;
	double uptime = json_number_value(json_object_get(reply, "uptime"));
	size_t i;
	json_t *d;
	if (table_init(&t, 6, header) < 0)
		return;
	json_array_foreach(json_object_get(reply, "domains"), i, d)
		status_row(&t, d, uptime);
	table_print(&t, stdout);
	table_free(&t);
}

static void timeline_row(struct table *t, json_t *d)
{
	char q[24], s[24], c[24], r[24], took[24], att[24];
	format_time(json_object_get(d, "queued"), q, sizeof(q));
	format_time(json_object_get(d, "started"), s, sizeof(s));
	format_time(json_object_get(d, "created"), c, sizeof(c));
	format_time(json_object_get(d, "ready"), r, sizeof(r));
	format_int(json_object_get(d, "attempts"), att, sizeof(att));
	json_t *jq = json_object_get(d, "queued"), *jr = json_object_get(d, "ready");
	if (json_is_number(jq) && json_is_number(jr))
		snprintf(took, sizeof(took), "%.3fs", json_number_value(jr) - json_number_value(jq));
	else
		snprintf(took, sizeof(took), "-");
	const char *row[] = { str(d, "name"), q, s, c, r, took, att };
	table_add(t, row);
}

static void print_timeline(json_t *reply)
{
	static const char *const header[] = { "NAME", "QUEUED", "STARTED", "CREATED", "READY",
					      "TOOK", "ATTEMPTS" };
	struct table t;
	size_t i;
	json_t *d;
	if (table_init(&t, 7, header) < 0)
		return;
	json_array_foreach(json_object_get(reply, "domains"), i, d)
		timeline_row(&t, d);
	table_print(&t, stdout);
	table_free(&t);
}

/* "a, b, c" of a JSON array of strings (each escaped), or NULL when it
 * is empty. */
static char *joined(json_t *names)
{
	size_t n = json_array_size(names), len = 1, i;
	json_t *v;
	if (!n)
		return NULL;
	char **parts = calloc(n, sizeof(*parts));
	if (!parts)
		return NULL;
	json_array_foreach(names, i, v) {
		parts[i] = xd_escape(json_string_value(v) ? json_string_value(v) : "");
		len += strlen(parts[i]) + 2;
	}
	char *out = calloc(1, len);
	for (i = 0; i < n; i++) {
		if (out && i)
			strcat(out, ", ");
		if (out)
			strcat(out, parts[i]);
		free(parts[i]);
	}
	free(parts);
	return out;
}

static void print_list_line(const char *fmt, json_t *names)
{
	char *list = joined(names);
	if (list)
		printf(fmt, list);
	free(list);
}

static void print_action(const struct opts *o, json_t *reply)
{
	json_t *names = json_object_get(reply, "names"), *also = json_object_get(reply, "also");
	if (strcmp(o->cmd, "start") == 0) {
		print_list_line("starting %s\n", names);
		print_list_line("also starting (required): %s\n", also);
		return;
	}
	if (strcmp(o->cmd, "migrate") == 0) {
		char *list = joined(names);
		const char *host = str(reply, "host");
		if (list)
			printf("migrating %s to %s\n", list, host ? host : "?");
		free(list);
		return;
	}
	print_list_line("stopping first (they require a domain being stopped): %s\n", also);
	const char *verb = strcmp(o->cmd, "save") == 0 ? "saving"
			 : strcmp(o->cmd, "restart") == 0 ? "restarting" : "stopping";
	char fmt[32];
	snprintf(fmt, sizeof(fmt), "%s %%s\n", verb);
	print_list_line(fmt, names);
}

static void print_reload(json_t *reply)
{
	json_t *added = json_object_get(reply, "added"), *removed = json_object_get(reply, "removed");
	json_t *changed = json_object_get(reply, "changed");
	json_t *starting = json_object_get(reply, "starting");
	printf("configuration reloaded\n");
	print_list_line("added: %s\n", added);
	print_list_line("starting (autostart): %s\n", starting);
	print_list_line("removed: %s (left as they are, no longer managed)\n", removed);
	print_list_line("changed: %s (new settings apply from now on)\n", changed);
	if (!json_array_size(added) && !json_array_size(removed) && !json_array_size(changed))
		printf("no domain changed\n");
}

static void print_event(json_t *ev)
{
	char domid[24];
	format_int(json_object_get(ev, "domid"), domid, sizeof(domid));
	const char *reason = str(ev, "reason");
	char *name = xd_escape(str(ev, "name") ? str(ev, "name") : "?");
	char *state = xd_escape(str(ev, "state") ? str(ev, "state") : "?");
	printf("%10.3f  %-20s %-10s domid %-5s%s", json_number_value(json_object_get(ev, "time")),
	       name, state, domid, reason ? "  " : "");
	safe_put(stdout, reason);
	putchar('\n');
	free(name);
	free(state);
}

/* ------------------------------------------------------------------ */
/* Commands                                                            */

static int write_svg(const char *path, json_t *reply)
{
	FILE *f = fopen(path, "we");
	if (!f) {
		fprintf(stderr, "xendomctl: %s: %s\n", path, strerror(errno));
		return XD_EXIT_FAILED;
	}
	int r = svg_timeline(json_object_get(reply, "domains"), f);
	if (fclose(f) != 0 || r < 0) {
		fprintf(stderr, "xendomctl: writing %s failed\n", path);
		return XD_EXIT_FAILED;
	}
	return XD_EXIT_OK;
}

static void print_human(const struct opts *o, json_t *reply)
{
	const char *cmd = o->cmd;
	bool waited = o->wait && json_object_get(reply, "domains");
	if (strcmp(cmd, "status") == 0) {
		print_domain_table(reply);
	} else if (strcmp(cmd, "timeline") == 0) {
		print_timeline(reply);
	} else if (strcmp(cmd, "plan") == 0) {
		const char *text = str(reply, "text");
		safe_put_lines(stdout, text);
		if (text && *text && text[strlen(text) - 1] != '\n')
			putchar('\n');
	} else if (strcmp(cmd, "reload") == 0) {
		print_reload(reply);
	} else if (strcmp(cmd, "shutdown-host") == 0) {
		printf("host-shutdown sequence %s\n", waited ? "done" : "started");
	} else {
		print_action(o, reply);
	}
	if (waited)
		print_domain_table(reply);
}

/* Errors: the message (and a refused config's lines) on stderr. */
static int report_error(const struct opts *o, json_t *reply)
{
	json_int_t code = json_integer_value(json_object_get(reply, "code"));
	if (code < XD_EXIT_FAILED || code > XD_EXIT_PERM || code == XD_EXIT_UNREACHABLE)
		code = XD_EXIT_FAILED;
	if (o->json) {
		print_json(reply);
		return (int)code;
	}
	const char *msg = str(reply, "error");
	fprintf(stderr, "xendomctl: %s: ", o->cmd);
	safe_put(stderr, msg ? msg : "failed");
	fputc('\n', stderr);
	size_t i;
	json_t *v;
	json_array_foreach(json_object_get(reply, "errors"), i, v) {
		safe_put(stderr, json_string_value(v) ? json_string_value(v) : "?");
		fputc('\n', stderr);
	}
	if (json_object_get(reply, "domains"))
		print_domain_table(reply);
	return (int)code;
}

static int stream_events(const struct opts *o, struct conn *c)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	json_t *ev;
	while ((ev = read_reply(c))) {
		if (o->json)
			print_json(ev);
		else
			print_event(ev);
		json_decref(ev);
	}
	return XD_EXIT_OK;
}

static int run(const struct opts *o)
{
	struct conn c = { .fd = -1 };
	int rc = connect_daemon(o->socket, &c);
	if (rc >= 0)
		return rc;
	json_t *req = build_request(o), *reply = NULL;
	if (!req || send_request(&c, req) < 0 || !(reply = read_reply(&c))) {
		fprintf(stderr, "xendomctl: no reply from xendomd at %s\n", o->socket);
		rc = XD_EXIT_UNREACHABLE;
	} else if (!json_is_true(json_object_get(reply, "ok"))) {
		rc = report_error(o, reply);
	} else if (strcmp(o->cmd, "events") == 0) {
		rc = stream_events(o, &c);
	} else {
		rc = o->svg ? write_svg(o->svg, reply) : XD_EXIT_OK;
		if (o->json)
			print_json(reply);
		else if (o->svg && rc == XD_EXIT_OK)
			printf("wrote %s\n", o->svg);
		else if (!o->svg)
			print_human(o, reply);
	}
	json_decref(req);
	json_decref(reply);
	free(c.buf);
	close(c.fd);
	return rc;
}

int main(int argc, char **argv)
{
	struct opts o = { 0 };
	int rc = parse_args(argc, argv, &o);
	if (rc < 0)
		rc = check_args(&o);
	if (rc < 0)
		rc = run(&o);
	free(o.names);
	return rc;
}
