/* SPDX-License-Identifier: ISC */
/*
 * xendomd-labmon: the lab's status poller (scenarios/libxl-parallel.sh).
 *
 *   xendomd-labmon SOCKET INTERVAL_MS STOPFILE
 *
 * Every INTERVAL_MS until STOPFILE exists: one `status` request on
 * xendomd's control socket, timed from connect() to the reply's newline
 * (what any client of the daemon waits), and beside it one round trip to
 * an echo process of its own over a socketpair (what dom0's scheduler
 * costs any process that is woken up at that moment, the daemon's work
 * left out).  A C program, so that the poller itself does not load the
 * emulated dom0 with process starts.  Prints one line at the end:
 *   MON polls=N status_p99_ms=.. status_max_ms=.. echo_p99_ms=.. echo_max_ms=..
 * Requests before the daemon answers are not counted.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_SAMPLES 100000
#define REPLY_TIMEOUT_MS 120000

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

static void sleep_until(double t)
{
	double d = t - now_ms();
	if (d <= 0)
		return;
	struct timespec ts = { (time_t)(d / 1000), (long)((d - (double)(time_t)(d / 1000) * 1000) * 1e6) };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* Read until a newline; 0 on a complete line, -1 otherwise. */
static int read_line(int fd)
{
	char buf[4096];
	for (;;) {
		struct pollfd p = { fd, POLLIN, 0 };
		if (poll(&p, 1, REPLY_TIMEOUT_MS) <= 0)
			return -1;
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n <= 0)
			return -1;
		if (memchr(buf, '\n', (size_t)n))
			return 0;
	}
}

/* One status request; its time in ms, or -1 if the daemon did not answer. */
static double status_once(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	double t = now_ms();
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	static const char req[] = "{\"cmd\":\"status\"}\n";
	double r = -1;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
	    write(fd, req, sizeof(req) - 1) == (ssize_t)(sizeof(req) - 1) && read_line(fd) == 0)
		r = now_ms() - t;
	close(fd);
	return r;
}

static void echo_child(int fd)
{
	char c;
	while (read(fd, &c, 1) == 1)
		if (write(fd, &c, 1) != 1)
			break;
	_exit(0);
}

static double echo_once(int fd)
{
	char c = 'x';
	double t = now_ms();
	if (write(fd, &c, 1) != 1 || read(fd, &c, 1) != 1)
		return -1;
	return now_ms() - t;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double pct(double *v, size_t n, double q)
{
	if (!n)
		return -1;
	qsort(v, n, sizeof(*v), cmp);
	size_t i = (size_t)((double)n * q);
	return v[i < n ? i : n - 1];
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: xendomd-labmon SOCKET INTERVAL_MS STOPFILE\n");
		return 2;
	}
	double interval = atof(argv[2]);
	int sp[2];
	if (interval <= 0 || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0)
		return 2;
	signal(SIGPIPE, SIG_IGN);
	pid_t pid = fork();
	if (pid < 0)
		return 2;
	if (pid == 0) {
		close(sp[0]);
		echo_child(sp[1]);
	}
	close(sp[1]);
	static double st[MAX_SAMPLES], ec[MAX_SAMPLES];
	size_t ns = 0, ne = 0;
	double next = now_ms();
	while (access(argv[3], F_OK) != 0) {
		double s = status_once(argv[1]);
		if (s >= 0 && ns < MAX_SAMPLES)
			st[ns++] = s;
		double e = echo_once(sp[0]);
		if (e >= 0 && ne < MAX_SAMPLES)
			ec[ne++] = e;
		next += interval;
		if (next < now_ms())
			next = now_ms();
		sleep_until(next);
	}
	close(sp[0]);
	waitpid(pid, NULL, 0);
	double smax = ns ? (qsort(st, ns, sizeof(*st), cmp), st[ns - 1]) : -1;
	double emax = ne ? (qsort(ec, ne, sizeof(*ec), cmp), ec[ne - 1]) : -1;
	printf("MON polls=%zu status_p99_ms=%.0f status_max_ms=%.0f echo_p99_ms=%.0f echo_max_ms=%.0f\n",
	       ns, pct(st, ns, 0.99), smax, pct(ec, ne, 0.99), emax);
	return 0;
}
