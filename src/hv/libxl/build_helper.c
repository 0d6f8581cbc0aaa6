/* SPDX-License-Identifier: ISC */
/*
 * xendomd-build: one domain build (or core dump) for xendomd, in a process
 * of its own (the protocol: build_proto.h; why: builder.c).
 *
 * libxl builds a domain synchronously inside the process that asks: kernel
 * load, memory population, bootloader, device model and hotplug scripts
 * take seconds, during which that process does nothing else.  Here that
 * process is this one, with its own libxl context and libxl's own event
 * handling (synchronous calls, libxl owning SIGCHLD), so the daemon stays
 * responsive and several builds run at once.
 *
 * It dies with the daemon (PR_SET_PDEATHSIG): the daemon's create marker
 * then names the half-built domain, which the next daemon destroys.  A
 * migration (migrate_helper.c) is the exception: it runs to its end.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "hv/libxl/build_helper.h"
#include "hv/libxl/build_proto.h"
#include "hv/libxl/libxl_api.h"
#include "hv/libxl/libxl_util.h"

struct helper_log {
	xentoollog_logger vtable;        /* first: libxl sees only this */
	struct xlb_errlog errs;
};

static void hl_vmessage(xentoollog_logger *l, xentoollog_level level, int errnoval,
			const char *context, const char *fmt, va_list ap)
{
	(void)context;
	struct helper_log *h = (struct helper_log *)l;
	if (level < XTL_INFO)            /* libxl's narration of XenStore */
		return;
	char buf[XLB_BUILD_MSG_MAX];
	int n = vsnprintf(buf, sizeof(buf), fmt, ap);
	if (errnoval >= 0 && n >= 0 && (size_t)n < sizeof(buf))
		snprintf(buf + n, sizeof(buf) - (size_t)n, ": %s", strerror(errnoval));
	for (char *p = buf; *p; p++)
		if (*p == '\n')
			*p = ' ';
	if (level >= XTL_ERROR)
		xlb_errlog_add(&h->errs, buf);
	char lv = level >= XTL_ERROR ? 'E' : level == XTL_WARN ? 'W' : level == XTL_NOTICE ? 'N' : 'I';
	fprintf(stderr, "%c %s\n", lv, buf);
}

static void hl_destroy(xentoollog_logger *l) { (void)l; }

static _Noreturn void usage(void)
{
	fprintf(stderr, "E usage: " XLB_BUILD_NAME " create NAME | restore NAME FILE OFFSET "
		"STREAM_VERSION | dump NAME DOMID FILE (config JSON on stdin) | "
		"migrate NAME DOMID HOST COMMAND live|suspended\n");
	exit(2);
}

/* stdin to its end, bounded. */
static char *read_config(void)
{
	size_t len = 0, cap = 8192;
	char *buf = malloc(cap);
	ssize_t n;
	while (buf && (n = read(0, buf + len, cap - len - 1)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || (len += (size_t)n) + 1 >= XLB_BUILD_CONFIG_MAX)
			goto fail;
		if (cap - len - 1 == 0) {
			char *nb = realloc(buf, cap *= 2);
			if (!nb)
				goto fail;
			buf = nb;
		}
	}
	if (buf)
		buf[len] = '\0';
	return buf;
fail:
	free(buf);
	return NULL;
}

static int result(struct helper_log *h, int rc, uint32_t domid)
{
	long d = domid == (uint32_t)INVALID_DOMID ? -1 : (long)domid;
	if (rc == 0) {
		printf("ok %ld\n", d);
	} else {
		char why[XLB_BUILD_MSG_MAX];
		if (!xlb_errlog_pick(&h->errs, d, 0, why, sizeof(why)))
			snprintf(why, sizeof(why), "libxl: %s", libxl_error_to_string(rc));
		printf("fail %d %ld %s\n", rc, d, why);
	}
	return fflush(stdout) == 0 && rc == 0 ? 0 : 1;
}

static int parse_uint(const char *s, unsigned long long max, unsigned long long *v)
{
	char *end;
	errno = 0;
	*v = strtoull(s, &end, 10);
	return errno || end == s || *end || *v > max ? -1 : 0;
}

static int open_image(const char *file, const char *offset)
{
	unsigned long long off;
	if (parse_uint(offset, (unsigned long long)INT64_MAX, &off) < 0)
		usage();
	int fd = open(file, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || lseek(fd, (off_t)off, SEEK_SET) < 0) {
		fprintf(stderr, "E %s: %s\n", file, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* create / restore: the domain is left paused (libxl's create does not
 * unpause; the daemon does once it owns the domain). */
static int build(libxl_ctx *ctx, int argc, char **argv, uint32_t *domid)
{
	bool restore = !strcmp(argv[1], "restore");
	if (argc != (restore ? 6 : 3))
		usage();
	char *json = read_config();
	if (!json) {
		fprintf(stderr, "E cannot read the domain config from stdin\n");
		return ERROR_INVAL;
	}
	libxl_domain_config dc;
	libxl_domain_config_init(&dc);
	int rc = libxl_domain_config_from_json(ctx, &dc, json);
	free(json);
	if (rc == 0 && !restore) {
		rc = libxl_domain_create_new(ctx, &dc, domid, NULL, NULL);
	} else if (rc == 0) {
		unsigned long long v;
		int fd = open_image(argv[3], argv[4]);
		libxl_domain_restore_params params;
		libxl_domain_restore_params_init(&params);
		params.checkpointed_stream = LIBXL_CHECKPOINTED_STREAM_NONE;
		if (parse_uint(argv[5], 2, &v) < 0 || v < 1)
			usage();
		params.stream_version = (uint32_t)v;
		rc = fd < 0 ? ERROR_FAIL
			    : libxl_domain_create_restore(ctx, &dc, domid, fd, -1, &params, NULL, NULL);
		libxl_domain_restore_params_dispose(&params);
		if (fd >= 0)
			close(fd);
	}
	libxl_domain_config_dispose(&dc);
	return rc;
}

static int dump(libxl_ctx *ctx, int argc, char **argv, uint32_t *domid)
{
	unsigned long long v;
	if (argc != 5 || parse_uint(argv[3], INVALID_DOMID - 1, &v) < 0)
		usage();
	*domid = (uint32_t)v;
	return libxl_domain_core_dump(ctx, *domid, argv[4], NULL);
}

int main(int argc, char **argv)
{
	if (argc < 3)
		usage();
	bool migrating = !strcmp(argv[1], "migrate");
	pid_t parent = getppid();
	/* Die with the daemon; and if it is gone already, do not start. */
	if ((!migrating && prctl(PR_SET_PDEATHSIG, SIGKILL) < 0) || parent == 1)
		return 1;
	/* Not niced: in the lab, builds at nice 10 starved past
	 * start_timeout behind a client polling the daemon 20 times a
	 * second on a CPU-bound dom0. */
	struct helper_log h = { .vtable = { .vmessage = hl_vmessage, .destroy = hl_destroy } };
	libxl_ctx *ctx;
	uint32_t domid = INVALID_DOMID;
	int rc = libxl_ctx_alloc(&ctx, LIBXL_VERSION, 0, &h.vtable);
	if (rc)
		return result(&h, rc, domid);
	if (migrating) {
		int st = xlb_migrate_main(ctx, &h.errs, parent, argc, argv);
		libxl_ctx_free(ctx);
		return st;
	}
	if (!strcmp(argv[1], "create") || !strcmp(argv[1], "restore"))
		rc = build(ctx, argc, argv, &domid);
	else if (!strcmp(argv[1], "dump"))
		rc = dump(ctx, argc, argv, &domid);
	else
		usage();
	int st = result(&h, rc, domid);
	libxl_ctx_free(ctx);
	return st;
}
