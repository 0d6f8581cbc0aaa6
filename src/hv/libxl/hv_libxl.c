/*
 * The libxl backend (hv_libxl.h): hv.h's port on libxenlight and
 * libxenstore, driven from the daemon's single-threaded poll loop.
 *
 * Event discipline (xen-notes §1.4, §9).  libxl runs completion callbacks
 * from inside any libxl call, even from the call that started the op.  So
 * every callback only records what happened and "kicks": it arms a
 * zero-delay timer on the loop.  The kick timer then advances the ops'
 * state machines, from the loop, never from inside libxl; events for the
 * core only go through hv_emit (followed by a kick, which is what wakes
 * the loop so its after hooks -- the engine -- run before it sleeps).
 *
 * Lifetimes (xen-notes §1.3, §8.6).  Every argument of an async libxl call
 * (the domain config, the domid out-parameter, restore params, file names,
 * fds) lives in the struct xop of that operation, which is freed only by
 * the kick timer after the op finished and libxl's callback has come.
 *
 * Domain configs (§3).  A domain's libxl config is what `xl create
 * --dryrun --quiet CFG` prints, run as a child through the loop (it takes
 * seconds in the lab) and parsed with libxl_domain_config_from_json, so
 * every xl key means what it means to xl.  The JSON is kept per domain
 * name and reused until the xl cfg file changes, so a restart re-creates
 * the domain from the same stored config with the same UUID, as xl's
 * monitor does.  For an adopted domain the stored config is libxl's own
 * "libxl-json" userdata of the running domain.
 *
 * Watching (§2, §5).  One XenStore watch on @releaseDomain; each firing
 * re-lists the domains and diffs the watched ones by domid+UUID
 * (libxl_domdiff.c).  That replaces libxl's death evgens, which report a
 * shutdown once per evgen only and stay silent for a state reached before
 * enabling.  @introduceDomain is not watched: the port has no event for a
 * domain appearing, and our own creates report their domid.
 */
#include "hv/libxl/hv_libxl.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "hv/libxl/libxl_api.h"
#include "hv/libxl/libxl_child.h"
#include "hv/libxl/libxl_domdiff.h"
#include "hv/libxl/libxl_osevent.h"
#include "hv/libxl/libxl_util.h"
#include "hv/savefile.h"
#include "util/log.h"

#define XLB_CONF "/etc/xen/xl.conf"
#define XLB_NO_DOMID ((uint32_t)INVALID_DOMID)
#define XLB_DRYRUN_OUT_MAX (1u << 20)     /* a config is a few KiB */
#define XLB_FETCH_PARALLEL 2              /* xl --dryrun children at once */
#define XLB_DOM0_MIN_KB (128 * 1024)      /* libxl's LIBXL_MIN_DOM0_MEM */
#define XLB_BALLOON_POLL_MS 1000
#define XLB_BALLOON_STALL_MS 10000        /* xl's freemem gives up like this */
#define XLB_BALLOON_MAX_MS 30000
#define XLB_KEY_MIN_GAP_MS 200            /* at most 5 KEY events/s per watch */

struct hv_libxl;

/* The stored libxl config of one domain (by name). */
struct cfgent {
	struct cfgent *next;
	struct hv_libxl *x;
	char name[XD_NAME_MAX];
	char *json;                      /* NULL until derived */
	char *json_path;                 /* the xl cfg it came from (NULL: the domain's) */
	struct timespec json_stamp;      /* when its derivation began */
	char *fetch_path;                /* the xl cfg being derived */
	struct timespec fetch_stamp;
	bool pins_uuid;                  /* the xl cfg sets uuid= */
	bool have_uuid;
	libxl_uuid uuid;                 /* the UUID this domain keeps */
	bool queued;                     /* waiting for a fetch slot */
	struct xlb_child *child;          /* xl --dryrun in flight */
	char err[HV_MSG_MAX];            /* why the last fetch failed */
};

enum op_kind { K_CREATE, K_RESTORE, K_UNPAUSE, K_SHUTDOWN, K_DESTROY, K_SAVE, K_CORE_DUMP };

enum op_phase {
	P_CONFIG,                        /* waiting for the libxl config */
	P_MEMORY,                        /* memory check, maybe ballooning dom0 */
	P_BUILD,                         /* create/restore ao */
	P_CLEANUP,                       /* destroying a half-built domain */
	P_SIMPLE,                        /* a one-call ao (unpause, destroy, ...) */
	P_SAVE_CONFIG,                   /* retrieving the running config */
	P_SAVE_STREAM,                   /* suspending into the file */
	P_RESUME,                        /* save failed: resuming the guest */
	P_FINISHED,
};

struct xop {
	struct xop *next;
	struct hv_libxl *x;
	enum op_kind kind;
	enum op_phase phase;
	uint64_t id;
	char name[XD_NAME_MAX];
	char *xl_path;
	bool fetch_requested;
	uint32_t domid;                  /* libxl writes it during create */
	libxl_asyncop_how how;
	bool ao_pending, ao_came;
	int ao_rc;
	bool cancelled;
	bool internal;                   /* ours alone: no OP_DONE for the core */
	bool marked;                     /* a creating marker exists for dc's UUID */
	libxl_domain_config dc;
	bool dc_live;
	char *json;                      /* restore: the image's config */
	libxl_domain_restore_params params;
	int fd;                          /* restore image */
	struct savefile_tx tx;           /* save */
	bool tx_open;
	char *file;                      /* core dump */
	uint64_t need_kb;
	struct xd_timer timer;           /* balloon polling */
	uint64_t balloon_since, progress_at, best_avail;
	uint64_t logmark;
	int fail_rc;                     /* kept across cleanup/resume */
	char fail_msg[HV_MSG_MAX];
};

struct keywatch {
	struct keywatch *next;
	struct hv_libxl *x;
	uint32_t domid;
	char rel[XD_KEY_MAX];
	char token[24];
	struct xd_timer timer;
	uint64_t last_ms;
	bool pending;
};

struct xlb_logger {
	xentoollog_logger vtable;        /* first: libxl sees only this */
	struct hv_libxl *x;
};

struct hv_libxl {
	struct hv hv;                    /* first: the port */
	struct xd_loop *loop;
	struct xd_timers *timers;
	struct xlb_logger lg;
	struct xlb_errlog errs;
	libxl_ctx *ctx;
	struct xlb_osev osev;
	libxl_childproc_hooks chld;
	struct xs_handle *xs;
	struct xd_io *xs_io;
	struct xlb_domdiff watched;
	struct keywatch *keys;
	unsigned key_seq;
	struct cfgent *cfgs;
	unsigned fetching;
	struct xop *ops;                 /* in start order */
	struct xd_timer kick;
	bool autoballoon;
	bool fatal;
	char *creating_dir;              /* markers of creates in flight */
};

static struct hv_libxl *X(struct hv *hv) { return (struct hv_libxl *)hv; }

/* ------------------------------------------------------------ events */

static void kick(struct hv_libxl *x)
{
	/* Deadline 0 is always due: the loop does not sleep before it. */
	xd_timer_arm(x->timers, &x->kick, 0);
}

static void emit(struct hv_libxl *x, const struct hv_event *ev)
{
	hv_emit(&x->hv, ev);
	kick(x);
}

static void emit_fatal(struct hv_libxl *x, const char *msg)
{
	if (x->fatal)
		return;
	x->fatal = true;
	struct hv_event ev = { .kind = HV_EV_FATAL };
	snprintf(ev.msg, sizeof(ev.msg), "%s", msg);
	emit(x, &ev);
}

static int hv_rc(int libxl_rc)
{
	switch (libxl_rc) {
	case 0: return 0;
	case ERROR_NOPARAVIRT: return HV_ENOPV;
	case ERROR_DOMAIN_NOTFOUND: return HV_ENOENT;
	case ERROR_NOMEM: return HV_ENOMEM;
	case ERROR_ABORTED: return HV_ECANCELED;
	default: return HV_EFAIL;
	}
}

/* ------------------------------------------------------------ logging */

static enum xd_log_level xtl_level(xentoollog_level l)
{
	if (l >= XTL_ERROR) return XD_LOG_ERR;
	if (l == XTL_WARN) return XD_LOG_WARNING;
	if (l == XTL_NOTICE) return XD_LOG_NOTICE;
	return XD_LOG_INFO;
}

static void lg_vmessage(xentoollog_logger *l, xentoollog_level level, int errnoval,
			const char *context, const char *fmt, va_list ap)
{
	(void)context;
	struct hv_libxl *x = ((struct xlb_logger *)l)->x;
	/* Below INFO libxl narrates every XenStore access: not for a log. */
	if (level < XTL_INFO)
		return;
	char buf[HV_MSG_MAX];
	int n = vsnprintf(buf, sizeof(buf), fmt, ap);
	if (errnoval >= 0 && n >= 0 && (size_t)n < sizeof(buf))
		snprintf(buf + n, sizeof(buf) - (size_t)n, ": %s", strerror(errnoval));
	if (level >= XTL_ERROR)
		xlb_errlog_add(&x->errs, buf);
	xd_log_msg(xtl_level(level), NULL, xlb_errlog_domid(buf), buf);
}

static void lg_destroy(xentoollog_logger *l)
{
	(void)l;                 /* embedded in struct hv_libxl */
}

/* ------------------------------------------------------------ libxl glue */

static void osev_fd(void *ctx, void *for_libxl, int fd, short events, short revents)
{
	libxl_osevent_occurred_fd(ctx, for_libxl, fd, events, revents);
}

static void osev_timeout(void *ctx, void *for_libxl)
{
	libxl_osevent_occurred_timeout(ctx, for_libxl);
}

/* We never enable libxl evgens and every ao has a callback, so nothing
 * should arrive here; free whatever does. */
static void on_libxl_event(void *user, libxl_event *ev)
{
	struct hv_libxl *x = user;
	libxl_event_free(x->ctx, ev);
}

/* No libxl calls allowed here. */
static void on_libxl_disaster(void *user, libxl_event_type type, const char *msg, int errnoval)
{
	struct hv_libxl *x = user;
	char buf[HV_MSG_MAX];
	snprintf(buf, sizeof(buf), "libxl disaster (event type %d): %s%s%s", (int)type, msg,
		 errnoval > 0 ? ": " : "", errnoval > 0 ? strerror(errnoval) : "");
	emit_fatal(x, buf);
}

static const libxl_event_hooks event_hooks = {
	.event_occurs_mask = LIBXL_EVENTMASK_ALL,
	.event_occurs = on_libxl_event,
	.disaster = on_libxl_disaster,
};

static void on_sigchld(int signo, void *arg);

static void ao_callback(libxl_ctx *ctx, int rc, void *arg)
{
	(void)ctx;
	struct xop *op = arg;
	op->ao_came = true;
	op->ao_rc = rc;
	kick(op->x);
}

/* ------------------------------------------------------------ ops */

/* Balloon polling: the next look happens in the kick. */
static void op_timer_fired(struct xd_timer *t, void *arg)
{
	(void)t;
	struct xop *op = arg;
	kick(op->x);
}

static struct xop *op_new(struct hv_libxl *x, enum op_kind kind, uint64_t id, uint32_t domid)
{
	struct xop *op = calloc(1, sizeof(*op));
	if (!op)
		return NULL;
	op->x = x;
	op->kind = kind;
	op->id = id;
	op->domid = domid;
	op->fd = -1;
	op->how.callback = ao_callback;
	op->how.u.for_callback = op;
	op->logmark = xlb_errlog_mark(&x->errs);
	xd_timer_init(&op->timer, op_timer_fired, op);
	struct xop **p = &x->ops;
	while (*p)
		p = &(*p)->next;
	*p = op;
	return op;
}

static void marker_clear(struct xop *op);

static void op_release(struct xop *op)
{
	marker_clear(op);
	if (op->dc_live)
		libxl_domain_config_dispose(&op->dc);
	op->dc_live = false;
	if (op->kind == K_RESTORE)
		libxl_domain_restore_params_dispose(&op->params);
	if (op->fd >= 0)
		close(op->fd);
	op->fd = -1;
	if (op->tx_open)
		savefile_tx_abort(&op->tx);
	op->tx_open = false;
	xd_timer_disarm(op->x->timers, &op->timer);
}

static void op_free(struct xop *op)
{
	op_release(op);
	free(op->xl_path);
	free(op->json);
	free(op->file);
	free(op);
}

/* The op's failure reason: libxl's last error line about it, else rc's. */
static void op_reason(struct xop *op, int libxl_rc, char *out, size_t len)
{
	long domid = op->domid == XLB_NO_DOMID ? -1 : (long)op->domid;
	if (!xlb_errlog_pick(&op->x->errs, domid, op->logmark, out, len))
		snprintf(out, len, "libxl: %s", libxl_error_to_string(libxl_rc));
}

/* Report the op's end.  Never while libxl still holds the op's arguments. */
static void op_finish(struct xop *op, int rc, const char *msg)
{
	if (op->cancelled && rc < 0)
		rc = HV_ECANCELED;
	struct hv_event ev = { .kind = HV_EV_OP_DONE, .op = op->id, .rc = rc };
	if (rc == 0 && (op->kind == K_CREATE || op->kind == K_RESTORE))
		ev.domid = op->domid;
	snprintf(ev.msg, sizeof(ev.msg), "%s", msg ? msg : "");
	op_release(op);
	op->phase = P_FINISHED;
	if (op->internal) {
		if (rc < 0)
			xd_log(XD_LOG_ERR, NULL, op->domid, "%s", ev.msg);
		kick(op->x);
		return;
	}
	emit(op->x, &ev);
}

static void op_fail_libxl(struct xop *op, int libxl_rc, const char *what)
{
	char why[HV_MSG_MAX - 64], msg[HV_MSG_MAX];
	op_reason(op, libxl_rc, why, sizeof(why));
	snprintf(msg, sizeof(msg), "%s: %s", what, why);
	op_finish(op, hv_rc(libxl_rc), msg);
}

/* Enter an ao phase; the libxl call follows at once.  The callback may
 * come during the call: it only sets ao_came. */
static void ao_enter(struct xop *op, enum op_phase ph)
{
	op->phase = ph;
	op->ao_pending = true;
	op->ao_came = false;
}

/* The call returned rc: nonzero means the ao never started. */
static bool ao_started(struct xop *op, int rc)
{
	if (rc)
		op->ao_pending = false;
	return rc == 0;
}

static struct xop *op_find(struct hv_libxl *x, uint64_t id)
{
	for (struct xop *op = x->ops; op; op = op->next)
		if (op->id == id && !op->internal && op->phase != P_FINISHED)
			return op;
	return NULL;
}

/* ------------------------------------------------------------ stored configs */

static struct cfgent *cfg_find(struct hv_libxl *x, const char *name)
{
	for (struct cfgent *e = x->cfgs; e; e = e->next)
		if (!strcmp(e->name, name))
			return e;
	return NULL;
}

static struct cfgent *cfg_get(struct hv_libxl *x, const char *name)
{
	struct cfgent *e = cfg_find(x, name);
	if (e)
		return e;
	if (!(e = calloc(1, sizeof(*e))))
		return NULL;
	e->x = x;
	snprintf(e->name, sizeof(e->name), "%s", name);
	e->next = x->cfgs;
	x->cfgs = e;
	return e;
}

static bool cfg_fetching(const struct cfgent *e)
{
	return e->queued || e->child;
}

static int timespec_cmp(struct timespec a, struct timespec b)
{
	if (a.tv_sec != b.tv_sec)
		return a.tv_sec < b.tv_sec ? -1 : 1;
	return a.tv_nsec < b.tv_nsec ? -1 : a.tv_nsec > b.tv_nsec;
}

/* The stored JSON still says what xl_path says: the same file, not
 * modified since the derivation began. */
static bool cfg_fresh(const struct cfgent *e, const char *xl_path)
{
	struct stat st;
	if (!e->json || (e->json_path && strcmp(e->json_path, xl_path)))
		return false;
	return stat(xl_path, &st) == 0 && timespec_cmp(st.st_mtim, e->json_stamp) < 0;
}

/* Parse e's JSON into dc (initialised here), with the domain's UUID and
 * letting Xen choose the domid.  libxl rc. */
static int cfg_to_dc(struct hv_libxl *x, struct cfgent *e, const char *json,
		     libxl_domain_config *dc)
{
	libxl_domain_config_init(dc);
	int rc = libxl_domain_config_from_json(x->ctx, dc, json);
	if (rc) {
		libxl_domain_config_dispose(dc);
		return rc;
	}
	if (e && e->have_uuid && !e->pins_uuid)
		libxl_uuid_copy(x->ctx, &dc->c_info.uuid, &e->uuid);
	dc->c_info.domid = 0;
	return 0;
}

/* Keep json (derived from path at stamp) as e's stored config; the first
 * UUID seen stays the domain's. */
static int cfg_store(struct hv_libxl *x, struct cfgent *e, char *json, const char *path,
		     struct timespec stamp, char *err, size_t errlen)
{
	char *p = path ? strdup(path) : NULL;
	if (path && !p) {
		snprintf(err, errlen, "out of memory");
		free(json);
		return -1;
	}
	libxl_domain_config dc;
	int rc = cfg_to_dc(x, NULL, json, &dc);
	if (rc) {
		snprintf(err, errlen, "libxl cannot read the config: %s", libxl_error_to_string(rc));
		free(json);
		free(p);
		return -1;
	}
	if (!e->have_uuid || e->pins_uuid) {
		libxl_uuid_copy(x->ctx, &e->uuid, &dc.c_info.uuid);
		e->have_uuid = true;
	}
	libxl_domain_config_dispose(&dc);
	free(e->json);
	free(e->json_path);
	e->json = json;
	e->json_path = p;
	e->json_stamp = stamp;
	return 0;
}

/* A config that no longer derives must not be used in its place. */
static void cfg_forget(struct cfgent *e)
{
	free(e->json);
	free(e->json_path);
	e->json = e->json_path = NULL;
}

static bool xlcfg_sets_uuid(const char *path)
{
	FILE *devnull = fopen("/dev/null", "we");
	if (!devnull)
		return false;
	bool set = false;
	XLU_Config *c = xlu_cfg_init(devnull, path);
	if (c && xlu_cfg_readfile(c, path) == 0) {
		const char *v;
		set = xlu_cfg_get_string(c, "uuid", &v, 1) == 0;
	}
	if (c)
		xlu_cfg_destroy(c);
	fclose(devnull);
	return set;
}

static void fetch_done(struct xlb_child *c, void *arg)
{
	struct cfgent *e = arg;
	struct hv_libxl *x = e->x;
	size_t len;
	bool truncated;
	const char *out = xlb_child_output(c, &len, &truncated);
	char how[128];
	xlb_child_describe(c, how, sizeof(how));
	e->err[0] = '\0';
	if (how[0])
		snprintf(e->err, sizeof(e->err), "xl create --dryrun %s %s%s%s", e->fetch_path, how,
			 xlb_child_last_err(c)[0] ? ": " : "", xlb_child_last_err(c));
	else if (truncated)
		snprintf(e->err, sizeof(e->err), "xl create --dryrun %s printed more than %u bytes",
			 e->fetch_path, XLB_DRYRUN_OUT_MAX);
	else if (len == 0 || out[0] != '{')
		snprintf(e->err, sizeof(e->err), "xl create --dryrun %s did not print JSON "
			 "(xl.conf output_format must be json)", e->fetch_path);
	else {
		char *json = strdup(out);
		e->pins_uuid = xlcfg_sets_uuid(e->fetch_path);
		if (!json)
			snprintf(e->err, sizeof(e->err), "out of memory");
		else
			cfg_store(x, e, json, e->fetch_path, e->fetch_stamp, e->err, sizeof(e->err));
	}
	if (e->err[0]) {
		xd_log(XD_LOG_ERR, e->name, -1, "%s", e->err);
		cfg_forget(e);
	}
	xlb_child_free(c);
	e->child = NULL;
	x->fetching--;
	kick(x);
}

static void fetch_start(struct cfgent *e)
{
	struct hv_libxl *x = e->x;
	char *argv[] = { "xl", "create", "--dryrun", "--quiet", e->fetch_path, NULL };
	e->queued = false;
	clock_gettime(CLOCK_REALTIME, &e->fetch_stamp);
	e->child = xlb_child_spawn(x->loop, argv, XLB_DRYRUN_OUT_MAX, fetch_done, e,
				  e->err, sizeof(e->err));
	if (!e->child) {
		xd_log(XD_LOG_ERR, e->name, -1, "%s", e->err);
		cfg_forget(e);
		kick(x);
		return;
	}
	x->fetching++;
}

/* Queue a fresh derivation of name's config from xl_path. */
static int fetch_request(struct hv_libxl *x, const char *name, const char *xl_path)
{
	struct cfgent *e = cfg_get(x, name);
	if (!e)
		return HV_ENOMEM;
	if (cfg_fetching(e))
		return 0;
	char *p = strdup(xl_path);
	if (!p)
		return HV_ENOMEM;
	free(e->fetch_path);
	e->fetch_path = p;
	e->queued = true;
	kick(x);
	return 0;
}

/* Oldest queue first: the list is newest first, so take the last. */
static void fetch_dispatch(struct hv_libxl *x)
{
	while (x->fetching < XLB_FETCH_PARALLEL) {
		struct cfgent *pick = NULL;
		for (struct cfgent *e = x->cfgs; e; e = e->next)
			if (e->queued)
				pick = e;
		if (!pick)
			return;
		fetch_start(pick);
	}
}

/* An adopted domain's stored config is libxl's own record of it, and
 * its UUID stays the domain's even when the xl cfg is derived again. */
static void cfg_adopt(struct hv_libxl *x, uint32_t domid)
{
	char *name = libxl_domid_to_name(x->ctx, domid);
	struct cfgent *e = name ? cfg_get(x, name) : NULL;
	uint8_t *data = NULL;
	int len = 0;
	if (e && !e->have_uuid &&
	    libxl_userdata_retrieve(x->ctx, domid, "libxl-json", &data, &len) == 0 && len > 0) {
		char *json = strndup((const char *)data, (size_t)len);
		char err[HV_MSG_MAX];
		struct timespec now;
		clock_gettime(CLOCK_REALTIME, &now);
		if (json && cfg_store(x, e, json, NULL, now, err, sizeof(err)) < 0)
			xd_log(XD_LOG_WARNING, name, domid, "stored config: %s", err);
	}
	free(data);
	free(name);
}

/* ------------------------------------------------------------ memory */

/* What Xen can give a new domain now: free (and being scrubbed) memory
 * minus what earlier creates have claimed but not yet populated. */
static int host_avail_kb(struct hv_libxl *x, uint64_t *kb)
{
	libxl_physinfo pi;
	libxl_physinfo_init(&pi);
	int rc = libxl_get_physinfo(x->ctx, &pi);
	if (rc == 0) {
		uint64_t pages = pi.free_pages + pi.scrub_pages;
		pages = pages > pi.outstanding_pages ? pages - pi.outstanding_pages : 0;
		*kb = pages * 4;
	}
	libxl_physinfo_dispose(&pi);
	return rc;
}

static uint64_t dom0_balloonable_kb(struct hv_libxl *x)
{
	libxl_dominfo di;
	libxl_dominfo_init(&di);
	uint64_t kb = 0;
	if (libxl_domain_info(x->ctx, &di, 0) == 0 && di.current_memkb > XLB_DOM0_MIN_KB)
		kb = di.current_memkb - XLB_DOM0_MIN_KB;
	libxl_dominfo_dispose(&di);
	return kb;
}

/* Only the oldest op in P_MEMORY may take memory or balloon: creates are
 * admitted one at a time, so two of them never balloon for the same
 * shortage. */
static bool memory_turn(struct xop *op)
{
	for (struct xop *o = op->x->ops; o; o = o->next)
		if (o->phase == P_MEMORY)
			return o == op;
	return false;
}

static void start_build(struct xop *op);

static void memory_fail(struct xop *op, uint64_t avail, const char *why)
{
	char msg[HV_MSG_MAX];
	snprintf(msg, sizeof(msg), "need %llu MiB, free %llu MiB%s",
		 (unsigned long long)xlb_kb_to_mib(op->need_kb),
		 (unsigned long long)xlb_kb_to_mib(avail), why);
	op_finish(op, HV_ENOMEM, msg);
}

/* xl's freemem() without its sleeps: balloon dom0 down by the shortfall
 * once, then poll free memory with a timer until it suffices, stalls or
 * the credit runs out. */
static void step_memory(struct xop *op)
{
	struct hv_libxl *x = op->x;
	if (!memory_turn(op))
		return;
	int rc;
	if (!op->need_kb &&
	    (rc = libxl_domain_need_memory(x->ctx, &op->dc, XLB_NO_DOMID, &op->need_kb))) {
		op_fail_libxl(op, rc, "memory need");
		return;
	}
	uint64_t avail = 0;
	if ((rc = host_avail_kb(x, &avail))) {
		op_fail_libxl(op, rc, "free memory");
		return;
	}
	if (avail >= op->need_kb) {
		xd_timer_disarm(x->timers, &op->timer);
		start_build(op);
		return;
	}
	if (!x->autoballoon) {
		memory_fail(op, avail, " (xl.conf autoballoon is off)");
		return;
	}
	uint64_t now = xd_loop_clock();
	if (!op->balloon_since) {
		int64_t delta = -(int64_t)(op->need_kb - avail);
		xd_log(XD_LOG_NOTICE, op->name, -1, "ballooning dom0 down by %llu MiB",
		      (unsigned long long)xlb_kb_to_mib(op->need_kb - avail));
		if ((rc = libxl_set_memory_target(x->ctx, 0, delta, 1, 0))) {
			op_fail_libxl(op, rc, "ballooning dom0");
			return;
		}
		op->balloon_since = op->progress_at = now;
		op->best_avail = avail;
	} else if (avail > op->best_avail) {
		op->best_avail = avail;
		op->progress_at = now;
	} else if (now - op->progress_at >= XLB_BALLOON_STALL_MS ||
		   now - op->balloon_since >= XLB_BALLOON_MAX_MS) {
		memory_fail(op, avail, " after ballooning dom0");
		return;
	}
	xd_timer_arm_in(x->timers, &op->timer, XLB_BALLOON_POLL_MS);
}

/* ------------------------------------------------------------ create / restore */

static void step_config(struct xop *op)
{
	struct hv_libxl *x = op->x;
	const char *json = op->json;             /* restore: the image's */
	struct cfgent *e = cfg_find(x, op->name);
	if (!json) {
		if (e && (cfg_fresh(e, op->xl_path) || (op->fetch_requested && e->json &&
							  !cfg_fetching(e))))
			json = e->json;
		else if (!op->fetch_requested) {
			op->fetch_requested = true;
			int rc = fetch_request(x, op->name, op->xl_path);
			if (rc < 0)
				op_finish(op, rc, "cannot queue the config derivation");
			return;
		} else if (e && cfg_fetching(e)) {
			return;
		} else {
			op_finish(op, HV_EFAIL, e && e->err[0] ? e->err : "no config");
			return;
		}
	}
	int rc = cfg_to_dc(x, op->json ? NULL : e, json, &op->dc);
	if (rc) {
		op_fail_libxl(op, rc, "config");
		return;
	}
	op->dc_live = true;
	op->phase = P_MEMORY;
	step_memory(op);
}

/*
 * A create in flight is marked by a file named after the domain's UUID in
 * <state_dir>/libxl-creating, removed when the create ends.  A marker left
 * by a daemon that died (SIGKILL) mid-create names a half-built domain,
 * still paused: the next daemon destroys it instead of adopting it, and
 * the engine creates the domain again (xen-notes §8, issue 5 item 8).
 */
static void marker_path(const struct hv_libxl *x, const libxl_uuid *u, char *buf, size_t len)
{
	snprintf(buf, len, "%s/" LIBXL_UUID_FMT, x->creating_dir, LIBXL_UUID_BYTES(*u));
}

static void marker_set(struct xop *op)
{
	char path[4096];
	if (!op->x->creating_dir)
		return;
	marker_path(op->x, &op->dc.c_info.uuid, path, sizeof(path));
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		xd_log(XD_LOG_WARNING, op->name, -1, "%s: %s", path, strerror(errno));
		return;
	}
	if (write(fd, op->name, strlen(op->name)) < 0)
		xd_log(XD_LOG_WARNING, op->name, -1, "%s: %s", path, strerror(errno));
	close(fd);
	op->marked = true;
}

static void marker_clear(struct xop *op)
{
	char path[4096];
	if (!op->marked)
		return;
	marker_path(op->x, &op->dc.c_info.uuid, path, sizeof(path));
	unlink(path);
	op->marked = false;
}

static void start_build(struct xop *op)
{
	struct hv_libxl *x = op->x;
	xd_log(XD_LOG_INFO, op->name, -1, "%s (needs %llu MiB)",
	      op->kind == K_RESTORE ? "restoring" : "creating",
	      (unsigned long long)xlb_kb_to_mib(op->need_kb));
	op->domid = XLB_NO_DOMID;
	marker_set(op);
	ao_enter(op, P_BUILD);
	int rc = op->kind == K_RESTORE
		? libxl_domain_create_restore(x->ctx, &op->dc, &op->domid, op->fd, -1,
					      &op->params, &op->how, NULL)
		: libxl_domain_create_new(x->ctx, &op->dc, &op->domid, &op->how, NULL);
	if (!ao_started(op, rc))
		op_fail_libxl(op, rc, op->kind == K_RESTORE ? "restore" : "create");
}

/* Is domid still the domain this op built (and not someone's new one)? */
static bool built_domain_exists(struct xop *op)
{
	if (op->domid == XLB_NO_DOMID || op->domid == 0)
		return false;
	libxl_dominfo di;
	libxl_dominfo_init(&di);
	bool same = libxl_domain_info(op->x->ctx, &di, op->domid) == 0 &&
		    libxl_uuid_compare(&di.uuid, &op->dc.c_info.uuid) == 0;
	libxl_dominfo_dispose(&di);
	return same;
}

/* A restored domain keeps the image's config (and UUID) for restarts. */
static void remember_restored_config(struct xop *op)
{
	struct hv_libxl *x = op->x;
	struct cfgent *e = cfg_get(x, op->name);
	char err[HV_MSG_MAX];
	struct timespec now;
	if (!e)
		return;
	clock_gettime(CLOCK_REALTIME, &now);
	e->pins_uuid = false;
	e->have_uuid = false;
	char *json = op->json;
	op->json = NULL;
	if (cfg_store(x, e, json, NULL, now, err, sizeof(err)) < 0)
		xd_log(XD_LOG_WARNING, op->name, op->domid, "stored config: %s", err);
}

/* A failed create leaves a half-built domain behind (xen-notes §9):
 * destroy it before reporting, so a retry does not collide with it. */
static void build_done(struct xop *op, int rc)
{
	struct hv_libxl *x = op->x;
	if (rc == 0) {
		if (op->kind == K_RESTORE)
			remember_restored_config(op);
		op_finish(op, 0, NULL);
		return;
	}
	op->fail_rc = hv_rc(rc);
	char why[HV_MSG_MAX];
	op_reason(op, rc, why, sizeof(why));
	snprintf(op->fail_msg, sizeof(op->fail_msg), "%s", why);
	if (built_domain_exists(op)) {
		xd_log(XD_LOG_INFO, op->name, op->domid, "destroying the half-built domain");
		ao_enter(op, P_CLEANUP);
		if (ao_started(op, libxl_domain_destroy(x->ctx, op->domid, &op->how)))
			return;
	}
	op_finish(op, op->fail_rc, op->fail_msg);
}

static int start_create_op(struct hv_libxl *x, enum op_kind kind, const struct xd_domain_cfg *cfg,
			   uint64_t id, struct xop **out)
{
	if (x->fatal)
		return HV_EFAIL;
	struct xop *op = op_new(x, kind, id, XLB_NO_DOMID);
	if (!op || !(op->xl_path = strdup(cfg->xl_path))) {
		if (op)
			op->phase = P_FINISHED;   /* freed by the next kick */
		kick(x);
		return HV_ENOMEM;
	}
	snprintf(op->name, sizeof(op->name), "%s", cfg->name);
	op->phase = P_CONFIG;
	*out = op;
	kick(x);
	return 0;
}

static int x_create(struct hv *hv, const struct xd_domain_cfg *cfg, uint64_t id)
{
	struct xop *op;
	return start_create_op(X(hv), K_CREATE, cfg, id, &op);
}

static int x_restore(struct hv *hv, const struct xd_domain_cfg *cfg, const char *file, uint64_t id)
{
	struct hv_libxl *x = X(hv);
	struct savefile_info info;
	char msg[HV_MSG_MAX];
	int rc = savefile_read(file, &info, msg, sizeof(msg));
	if (rc < 0) {
		xd_log(XD_LOG_ERR, cfg->name, -1, "%s: %s", file, msg);
		return rc;
	}
	if (strcmp(info.name, cfg->name)) {
		xd_log(XD_LOG_ERR, cfg->name, -1, "%s holds domain %s", file, info.name);
		savefile_info_free(&info);
		return HV_EBADIMG;
	}
	int fd = open(file, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || lseek(fd, (off_t)info.stream_offset, SEEK_SET) < 0) {
		xd_log(XD_LOG_ERR, cfg->name, -1, "%s: %s", file, strerror(errno));
		if (fd >= 0)
			close(fd);
		savefile_info_free(&info);
		return HV_EFAIL;
	}
	struct xop *op;
	rc = start_create_op(x, K_RESTORE, cfg, id, &op);
	if (rc < 0) {
		close(fd);
		savefile_info_free(&info);
		return rc;
	}
	op->fd = fd;
	op->json = info.config;          /* ownership moves to the op */
	libxl_domain_restore_params_init(&op->params);
	op->params.checkpointed_stream = LIBXL_CHECKPOINTED_STREAM_NONE;
	op->params.stream_version = (info.mandatory_flags & SAVEFILE_FLAG_STREAMV2) ? 2 : 1;
	return 0;
}

/* ------------------------------------------------------------ one-call ops */

static void simple_done(struct xop *op, int rc)
{
	static const char *const what[] = {
		[K_UNPAUSE] = "unpause", [K_SHUTDOWN] = "shutdown request",
		[K_DESTROY] = "destroy", [K_CORE_DUMP] = "core dump",
	};
	if (rc)
		op_fail_libxl(op, rc, what[op->kind]);
	else
		op_finish(op, 0, NULL);
}

/* Start a one-call ao.  Returns the port's rc: a call refused at once
 * reports no OP_DONE (the op is dropped quietly). */
static int simple_op(struct hv_libxl *x, enum op_kind kind, uint32_t domid, uint64_t id,
		     const char *file)
{
	if (x->fatal)
		return HV_EFAIL;
	struct xop *op = op_new(x, kind, id, domid);
	if (!op)
		return HV_ENOMEM;
	if (file && !(op->file = strdup(file))) {
		op->phase = P_FINISHED;
		kick(x);
		return HV_ENOMEM;
	}
	ao_enter(op, P_SIMPLE);
	int rc;
	switch (kind) {
	case K_UNPAUSE: rc = libxl_domain_unpause(x->ctx, domid, &op->how); break;
	case K_SHUTDOWN: rc = libxl_domain_shutdown(x->ctx, domid, &op->how); break;
	case K_DESTROY: rc = libxl_domain_destroy(x->ctx, domid, &op->how); break;
	default: rc = libxl_domain_core_dump(x->ctx, domid, op->file, &op->how); break;
	}
	if (ao_started(op, rc))
		return 0;
	op->phase = P_FINISHED;
	kick(x);
	return hv_rc(rc);
}

static int x_unpause(struct hv *hv, uint32_t domid, uint64_t id)
{
	return simple_op(X(hv), K_UNPAUSE, domid, id, NULL);
}

/* ERROR_NOPARAVIRT comes back at once as HV_ENOPV (xen-notes §4.1). */
static int x_shutdown(struct hv *hv, uint32_t domid, uint64_t id)
{
	return simple_op(X(hv), K_SHUTDOWN, domid, id, NULL);
}

static int x_destroy(struct hv *hv, uint32_t domid, uint64_t id)
{
	return simple_op(X(hv), K_DESTROY, domid, id, NULL);
}

static int x_core_dump(struct hv *hv, uint32_t domid, const char *file, uint64_t id)
{
	return simple_op(X(hv), K_CORE_DUMP, domid, id, file);
}

static int x_power_button(struct hv *hv, uint32_t domid)
{
	return hv_rc(libxl_send_trigger(X(hv)->ctx, domid, LIBXL_TRIGGER_POWER, 0, NULL));
}

/* rename-restart: xl keeps the old domain under a new name and a new
 * UUID (libxl_domain_preserve), so the restarted one keeps the UUID. */
static int x_rename(struct hv *hv, uint32_t domid, const char *new_name)
{
	struct hv_libxl *x = X(hv);
	char *old = libxl_domid_to_name(x->ctx, domid);
	if (!old)
		return HV_ENOENT;
	size_t n = strlen(old);
	int rc;
	if (!strncmp(new_name, old, n) && new_name[n]) {
		libxl_domain_create_info ci;
		libxl_domain_create_info_init(&ci);
		ci.name = old;                   /* dispose frees it */
		old = NULL;
		libxl_uuid fresh;
		libxl_uuid_generate(&fresh);
		rc = libxl_domain_preserve(x->ctx, domid, &ci, new_name + n, fresh);
		libxl_domain_create_info_dispose(&ci);
	} else {
		rc = libxl_domain_rename(x->ctx, domid, old, new_name);
	}
	free(old);
	return hv_rc(rc);
}

/* ------------------------------------------------------------ save */

static void save_resume(struct xop *op, int fail_rc, const char *msg)
{
	op->fail_rc = fail_rc;
	snprintf(op->fail_msg, sizeof(op->fail_msg), "%s", msg);
	ao_enter(op, P_RESUME);
	int rc = libxl_domain_resume(op->x->ctx, op->domid, 1, &op->how);
	if (!ao_started(op, rc)) {
		xd_log(XD_LOG_ERR, NULL, op->domid, "resume after failed save: %s",
		      libxl_error_to_string(rc));
		op_finish(op, op->fail_rc, op->fail_msg);
	}
}

static void save_config_done(struct xop *op, int rc)
{
	struct hv_libxl *x = op->x;
	char msg[HV_MSG_MAX];
	if (rc) {
		op_fail_libxl(op, rc, "save: reading the domain's config");
		return;
	}
	op->dc.c_info.domid = 0;                 /* as xl save writes it */
	char *json = libxl_domain_config_to_json(x->ctx, &op->dc);
	if (!json) {
		op_finish(op, HV_ENOMEM, "save: cannot serialise the config");
		return;
	}
	int wr = savefile_write_header(op->tx.fd, json, msg, sizeof(msg));
	free(json);
	if (wr < 0) {
		op_finish(op, HV_EFAIL, msg);
		return;
	}
	ao_enter(op, P_SAVE_STREAM);
	rc = libxl_domain_suspend(x->ctx, op->domid, op->tx.fd, 0, &op->how);
	if (!ao_started(op, rc))
		op_fail_libxl(op, rc, "save");
}

/* On success the domain is a SUSPEND husk for the caller to destroy.  The
 * commit fsyncs the image in the loop: seconds at worst, once per save. */
static void save_stream_done(struct xop *op, int rc)
{
	char msg[HV_MSG_MAX], why[HV_MSG_MAX - 64];
	if (rc) {
		op_reason(op, rc, why, sizeof(why));
		snprintf(msg, sizeof(msg), "save: %s", why);
		savefile_tx_abort(&op->tx);
		op->tx_open = false;
		save_resume(op, hv_rc(rc), msg);
		return;
	}
	op->tx_open = false;
	if (savefile_tx_commit(&op->tx, msg, sizeof(msg)) < 0) {
		save_resume(op, HV_EFAIL, msg);
		return;
	}
	op_finish(op, 0, NULL);
}

static void recheck_domain(struct hv_libxl *x, uint32_t domid);

static void resume_done(struct xop *op, int rc)
{
	if (rc)
		xd_log(XD_LOG_ERR, NULL, op->domid, "resume after failed save: %s",
		      libxl_error_to_string(rc));
	/* The SUSPEND shutdown is over: let the next shutdown be seen. */
	recheck_domain(op->x, op->domid);
	op_finish(op, op->fail_rc, op->fail_msg);
}

static int x_save(struct hv *hv, uint32_t domid, const char *file, uint64_t id)
{
	struct hv_libxl *x = X(hv);
	char msg[HV_MSG_MAX];
	if (x->fatal)
		return HV_EFAIL;
	struct xop *op = op_new(x, K_SAVE, id, domid);
	if (!op)
		return HV_ENOMEM;
	if (savefile_tx_begin(&op->tx, file, msg, sizeof(msg)) < 0) {
		xd_log(XD_LOG_ERR, NULL, domid, "save: %s", msg);
		op->phase = P_FINISHED;
		kick(x);
		return HV_EFAIL;
	}
	op->tx_open = true;
	libxl_domain_config_init(&op->dc);
	op->dc_live = true;
	ao_enter(op, P_SAVE_CONFIG);
	int rc = libxl_retrieve_domain_configuration(x->ctx, domid, &op->dc, &op->how);
	if (ao_started(op, rc))
		return 0;
	op_release(op);
	op->phase = P_FINISHED;
	kick(x);
	return hv_rc(rc);
}

/* ------------------------------------------------------------ cancel */

static void x_cancel(struct hv *hv, uint64_t id)
{
	struct hv_libxl *x = X(hv);
	struct xop *op = op_find(x, id);
	if (!op)
		return;
	op->cancelled = true;
	if (op->ao_pending)
		libxl_ao_abort(x->ctx, &op->how);      /* the callback follows */
	else
		op_finish(op, HV_ECANCELED, "cancelled");
}

/* ------------------------------------------------------------ the kick */

static void ao_finished(struct xop *op)
{
	int rc = op->ao_rc;
	op->ao_pending = op->ao_came = false;
	switch (op->phase) {
	case P_BUILD: build_done(op, rc); break;
	case P_CLEANUP: op_finish(op, op->fail_rc, op->fail_msg); break;
	case P_SIMPLE: simple_done(op, rc); break;
	case P_SAVE_CONFIG: save_config_done(op, rc); break;
	case P_SAVE_STREAM: save_stream_done(op, rc); break;
	case P_RESUME: resume_done(op, rc); break;
	default: break;
	}
}

static void step(struct xop *op)
{
	if (op->ao_pending) {
		if (op->ao_came)
			ao_finished(op);
		return;
	}
	if (op->phase == P_CONFIG)
		step_config(op);
	else if (op->phase == P_MEMORY)
		step_memory(op);
}

static void reap_finished_ops(struct hv_libxl *x)
{
	for (struct xop **p = &x->ops; *p;) {
		struct xop *op = *p;
		if (op->phase == P_FINISHED && !op->ao_pending) {
			*p = op->next;
			op_free(op);
		} else {
			p = &op->next;
		}
	}
}

/* Each op moves at most one phase per pass; any transition that needs
 * another pass kicks again, so the timer loop runs until quiet. */
static void on_kick(struct xd_timer *t, void *arg)
{
	(void)t;
	struct hv_libxl *x = arg;
	fetch_dispatch(x);
	for (struct xop *op = x->ops; op; op = op->next)
		step(op);
	reap_finished_ops(x);
}

/* ------------------------------------------------------------ watching */

static void to_state(const libxl_dominfo *d, struct xlb_domstate *s)
{
	s->domid = d->domid;
	memcpy(s->uuid, libxl_uuid_bytearray_const(&d->uuid), 16);
	s->shutdown = d->shutdown;
	s->dying = d->dying;
	s->reason = (enum hv_reason)d->shutdown_reason;
}

static void diff_emit(void *arg, enum hv_ev_kind kind, uint32_t domid, enum hv_reason reason)
{
	struct hv_libxl *x = arg;
	struct hv_event ev = { .kind = kind, .domid = domid, .reason = reason };
	emit(x, &ev);
}

static void recheck_domain(struct hv_libxl *x, uint32_t domid)
{
	libxl_dominfo di;
	libxl_dominfo_init(&di);
	int rc = libxl_domain_info(x->ctx, &di, domid);
	struct xlb_domstate st;
	if (rc == 0)
		to_state(&di, &st);
	if (rc == 0 || rc == ERROR_DOMAIN_NOTFOUND)
		xlb_domdiff_check(&x->watched, domid, rc == 0 ? &st : NULL, diff_emit, x);
	libxl_dominfo_dispose(&di);
}

static void relist(struct hv_libxl *x)
{
	if (!x->watched.n)
		return;
	int nb = 0;
	libxl_dominfo *l = libxl_list_domain(x->ctx, &nb);
	if (!l) {
		xd_log(XD_LOG_ERR, NULL, -1, "cannot list domains");
		return;
	}
	struct xlb_domstate *cur = calloc((size_t)nb + 1, sizeof(*cur));
	if (cur) {
		for (int i = 0; i < nb; i++)
			to_state(&l[i], &cur[i]);
		xlb_domdiff_update(&x->watched, cur, (size_t)nb, diff_emit, x);
	}
	free(cur);
	libxl_dominfo_list_free(l, nb);
}

static int x_watch_domain(struct hv *hv, uint32_t domid)
{
	struct hv_libxl *x = X(hv);
	if (xlb_domdiff_watching(&x->watched, domid))
		return 0;
	if (xlb_domdiff_watch(&x->watched, domid) < 0)
		return HV_ENOMEM;
	cfg_adopt(x, domid);
	/* A state reached before the watch must be reported too. */
	recheck_domain(x, domid);
	return 0;
}

static void x_unwatch_domain(struct hv *hv, uint32_t domid)
{
	xlb_domdiff_unwatch(&X(hv)->watched, domid);
}

static void key_emit(struct keywatch *k)
{
	k->pending = false;
	k->last_ms = xd_loop_clock();
	struct hv_event ev = { .kind = HV_EV_KEY, .domid = k->domid };
	snprintf(ev.path, sizeof(ev.path), "%s", k->rel);
	emit(k->x, &ev);
}

static void key_timer_fired(struct xd_timer *t, void *arg)
{
	(void)t;
	key_emit(arg);
}

/* Guests may write their keys as fast as they like: at most one event
 * per XLB_KEY_MIN_GAP_MS per watch, the rest coalesced. */
static void key_fired(struct keywatch *k)
{
	uint64_t now = xd_loop_clock();
	if (k->pending)
		return;
	if (!k->last_ms || now - k->last_ms >= XLB_KEY_MIN_GAP_MS) {
		key_emit(k);
		return;
	}
	k->pending = true;
	xd_timer_arm(k->x->timers, &k->timer, k->last_ms + XLB_KEY_MIN_GAP_MS);
}

static struct keywatch *key_find(struct hv_libxl *x, uint32_t domid, const char *rel)
{
	for (struct keywatch *k = x->keys; k; k = k->next)
		if (k->domid == domid && !strcmp(k->rel, rel))
			return k;
	return NULL;
}

static struct keywatch *key_by_token(struct hv_libxl *x, const char *token)
{
	for (struct keywatch *k = x->keys; k; k = k->next)
		if (!strcmp(k->token, token))
			return k;
	return NULL;
}

static void key_path(const struct keywatch *k, char *buf, size_t len)
{
	snprintf(buf, len, "/local/domain/%u/%s", k->domid, k->rel);
}

static int x_watch_key(struct hv *hv, uint32_t domid, const char *rel)
{
	struct hv_libxl *x = X(hv);
	if (!xlb_relpath_ok(rel))
		return HV_EFAIL;
	if (key_find(x, domid, rel))
		return 0;
	struct keywatch *k = calloc(1, sizeof(*k));
	if (!k)
		return HV_ENOMEM;
	k->x = x;
	k->domid = domid;
	snprintf(k->rel, sizeof(k->rel), "%s", rel);
	snprintf(k->token, sizeof(k->token), "K%u", ++x->key_seq);
	xd_timer_init(&k->timer, key_timer_fired, k);
	char path[XD_KEY_MAX + 32];
	key_path(k, path, sizeof(path));
	/* The watch fires once at once: that is the port's first KEY. */
	if (!xs_watch(x->xs, path, k->token)) {
		xd_log(XD_LOG_ERR, NULL, domid, "xs_watch %s: %s", path, strerror(errno));
		free(k);
		return HV_EFAIL;
	}
	k->next = x->keys;
	x->keys = k;
	return 0;
}

static void key_drop(struct hv_libxl *x, struct keywatch *k)
{
	char path[XD_KEY_MAX + 32];
	key_path(k, path, sizeof(path));
	xs_unwatch(x->xs, path, k->token);
	xd_timer_disarm(x->timers, &k->timer);
	for (struct keywatch **p = &x->keys; *p; p = &(*p)->next)
		if (*p == k) {
			*p = k->next;
			break;
		}
	free(k);
}

static void x_unwatch_key(struct hv *hv, uint32_t domid, const char *rel)
{
	struct hv_libxl *x = X(hv);
	struct keywatch *k = key_find(x, domid, rel);
	if (k)
		key_drop(x, k);
}

/* Guest-writable: XenStore bounds a value to 4 KiB, the caller to len. */
static int x_read_key(struct hv *hv, uint32_t domid, const char *rel, char *buf, size_t len)
{
	struct hv_libxl *x = X(hv);
	if (!xlb_relpath_ok(rel) || !len)
		return HV_EFAIL;
	char path[XD_KEY_MAX + 32];
	snprintf(path, sizeof(path), "/local/domain/%u/%s", domid, rel);
	unsigned int n = 0;
	char *v = xs_read(x->xs, XBT_NULL, path, &n);
	if (!v)
		return errno == ENOENT ? HV_ENOENT : HV_EFAIL;
	int rc = 0;
	if (n >= len) {
		rc = HV_ETOOBIG;
		n = (unsigned int)len - 1;
	}
	memcpy(buf, v, n);
	buf[n] = '\0';
	free(v);
	return rc;
}

static void on_xenstore(struct xd_io *io, int fd, short revents, void *arg)
{
	(void)io; (void)fd; (void)revents;
	struct hv_libxl *x = arg;
	bool released = false;
	char **w;
	while ((w = xs_check_watch(x->xs))) {
		const char *token = w[XS_WATCH_TOKEN];
		struct keywatch *k;
		if (!strcmp(token, "R"))
			released = true;
		else if ((k = key_by_token(x, token)))
			key_fired(k);
		free(w);
	}
	if (errno != EAGAIN) {
		char msg[HV_MSG_MAX];
		snprintf(msg, sizeof(msg), "XenStore connection lost: %s", strerror(errno));
		xd_loop_del_io(x->loop, x->xs_io);
		x->xs_io = NULL;
		emit_fatal(x, msg);
		return;
	}
	if (released)
		relist(x);
}

/* ------------------------------------------------------------ queries */

/* A half-built domain being destroyed is not there for the core. */
static bool being_discarded(struct hv_libxl *x, uint32_t domid)
{
	for (struct xop *op = x->ops; op; op = op->next)
		if (op->internal && op->domid == domid && op->phase != P_FINISHED)
			return true;
	return false;
}

static bool listable(struct hv_libxl *x, const libxl_dominfo *d)
{
	return d->domid != 0 && !d->never_stop && !being_discarded(x, d->domid) &&
	       !libxl_is_stubdom(x->ctx, d->domid, NULL);
}

static int x_list(struct hv *hv, struct hv_dominfo **v, size_t *n)
{
	struct hv_libxl *x = X(hv);
	int nb = 0;
	libxl_dominfo *l = libxl_list_domain(x->ctx, &nb);
	if (!l)
		return HV_EFAIL;
	struct hv_dominfo *out = calloc((size_t)nb + 1, sizeof(*out));
	if (!out) {
		libxl_dominfo_list_free(l, nb);
		return HV_ENOMEM;
	}
	size_t k = 0;
	for (int i = 0; i < nb; i++) {
		char *name;
		if (!listable(x, &l[i]) || !(name = libxl_domid_to_name(x->ctx, l[i].domid)))
			continue;        /* a stub domain, or gone meanwhile */
		struct hv_dominfo *o = &out[k++];
		o->domid = l[i].domid;
		snprintf(o->name, sizeof(o->name), "%s", name);
		free(name);
		o->paused = l[i].paused;
		o->shutdown = l[i].shutdown;
		o->dying = l[i].dying;
		o->hvm = l[i].domain_type == LIBXL_DOMAIN_TYPE_HVM;
		o->reason = l[i].shutdown ? (enum hv_reason)l[i].shutdown_reason : HV_SD_UNKNOWN;
		o->cur_kb = l[i].current_memkb;
	}
	libxl_dominfo_list_free(l, nb);
	*v = out;
	*n = k;
	return 0;
}

/* Exact with a stored config.  Before the first derivation has finished,
 * libxl's formula with xl's defaults and one vCPU: the target plus 1 MiB
 * (PV), or plus 2 MiB, 8 MiB of video RAM and the shadow pool (1 MiB per
 * vCPU + 8 KiB per MiB of maxmem) for HVM, rounded up to 2 MiB. */
static int x_mem_need(struct hv *hv, const struct xd_domain_cfg *cfg, uint64_t *kb)
{
	struct hv_libxl *x = X(hv);
	struct cfgent *e = cfg_find(x, cfg->name);
	if (e && cfg_fresh(e, cfg->xl_path)) {
		libxl_domain_config dc;
		if (cfg_to_dc(x, e, e->json, &dc) == 0) {
			int rc = libxl_domain_need_memory(x->ctx, &dc, XLB_NO_DOMID, kb);
			libxl_domain_config_dispose(&dc);
			if (rc == 0)
				return 0;
		}
	}
	uint64_t target = cfg->memory_mb * 1024;
	uint64_t extra = cfg->hvm ? 2048 + 8192 + 1024 + cfg->maxmem_mb * 8 : 1024;
	*kb = (target + extra + 2047) / 2048 * 2048;
	return 0;
}

static int x_mem_free(struct hv *hv, uint64_t *kb)
{
	struct hv_libxl *x = X(hv);
	if (host_avail_kb(x, kb))
		return HV_EFAIL;
	if (x->autoballoon)
		*kb += dom0_balloonable_kb(x);
	return 0;
}

static int x_image_check(struct hv *hv, const char *file, char *msg, size_t msglen)
{
	(void)hv;
	return savefile_image_check(file, msg, msglen);
}

/* ------------------------------------------------------------ life */

static void on_sigchld(int signo, void *arg)
{
	(void)signo;
	struct hv_libxl *x = arg;
	libxl_childproc_sigchld_occurred(x->ctx);
	for (struct cfgent *e = x->cfgs; e; e = e->next)
		if (e->child)
			xlb_child_sigchld(e->child);
}

static void x_free(struct hv *hv)
{
	struct hv_libxl *x = X(hv);
	bool busy = false;
	while (x->keys)
		key_drop(x, x->keys);
	while (x->ops) {
		struct xop *op = x->ops;
		x->ops = op->next;
		if (op->ao_pending) {
			busy = true;     /* libxl still owns its arguments: leak it */
			continue;
		}
		op_free(op);
	}
	while (x->cfgs) {
		struct cfgent *e = x->cfgs;
		x->cfgs = e->next;
		xlb_child_free(e->child);
		cfg_forget(e);
		free(e->fetch_path);
		free(e);
	}
	xd_timer_disarm(x->timers, &x->kick);
	if (x->xs_io)
		xd_loop_del_io(x->loop, x->xs_io);
	if (x->xs)
		xs_close(x->xs);
	if (busy)
		xd_log(XD_LOG_WARNING, NULL, -1, "libxl operations still in flight at exit");
	else if (x->ctx)
		libxl_ctx_free(x->ctx);
	xlb_osev_fini(&x->osev);
	xlb_domdiff_free(&x->watched);
	free(x->creating_dir);
	hv_fini(&x->hv);
	free(x);
}

static const struct hv_ops libxl_ops = {
	.name = "libxl",
	.list = x_list,
	.create = x_create,
	.restore = x_restore,
	.unpause = x_unpause,
	.shutdown = x_shutdown,
	.power_button = x_power_button,
	.destroy = x_destroy,
	.save = x_save,
	.core_dump = x_core_dump,
	.rename = x_rename,
	.cancel = x_cancel,
	.watch_domain = x_watch_domain,
	.unwatch_domain = x_unwatch_domain,
	.watch_key = x_watch_key,
	.unwatch_key = x_unwatch_key,
	.read_key = x_read_key,
	.mem_need = x_mem_need,
	.mem_free = x_mem_free,
	.image_check = x_image_check,
	.free = x_free,
};

/* xl.conf's autoballoon, as xl reads it (xen-notes §4.4). */
static int read_autoballoon(struct hv_libxl *x, char *err, size_t errlen)
{
	const char *value = NULL;
	FILE *devnull = fopen("/dev/null", "we");
	XLU_Config *c = devnull ? xlu_cfg_init(devnull, XLB_CONF) : NULL;
	bool have = c && access(XLB_CONF, F_OK) == 0 && xlu_cfg_readfile(c, XLB_CONF) == 0;
	if (have)
		xlu_cfg_get_string(c, "autoballoon", &value, 1);
	libxl_version_info const *vi = libxl_get_version_info(x->ctx);
	int ab = xlb_autoballoon(value, vi ? vi->commandline : NULL);
	if (ab < 0)
		snprintf(err, errlen, "%s: autoballoon=\"%s\" is not on, off or auto", XLB_CONF, value);
	if (c)
		xlu_cfg_destroy(c);
	if (devnull)
		fclose(devnull);
	if (ab < 0)
		return -1;
	x->autoballoon = ab;
	return 0;
}

static int open_libxl(struct hv_libxl *x, char *err, size_t errlen)
{
	x->lg = (struct xlb_logger){ .vtable = { .vmessage = lg_vmessage, .destroy = lg_destroy },
				    .x = x };
	xlb_osev_init(&x->osev, x->loop, osev_fd, osev_timeout);
	int rc = libxl_ctx_alloc(&x->ctx, LIBXL_VERSION, 0, &x->lg.vtable);
	if (rc) {
		snprintf(err, errlen, "cannot open libxl (is this a Xen dom0?): %s",
			 libxl_error_to_string(rc));
		x->ctx = NULL;
		return -1;
	}
	x->osev.ctx = x->ctx;
	libxl_osevent_register_hooks(x->ctx, &xlb_osev_hooks, &x->osev);
	x->chld = (libxl_childproc_hooks){ .chldowner = libxl_sigchld_owner_mainloop,
					   .fork_replacement = xlb_fork_clean };
	libxl_childproc_setmode(x->ctx, &x->chld, x);
	libxl_event_register_callbacks(x->ctx, &event_hooks, x);
	return 0;
}

static int open_xenstore(struct hv_libxl *x, char *err, size_t errlen)
{
	x->xs = xs_open(XS_UNWATCH_FILTER);
	if (!x->xs) {
		snprintf(err, errlen, "cannot connect to XenStore: %s", strerror(errno));
		return -1;
	}
	int fd = xs_fileno(x->xs);
	if (fd < 0 || !(x->xs_io = xd_loop_add_io(x->loop, fd, POLLIN, on_xenstore, x))) {
		snprintf(err, errlen, "cannot watch XenStore");
		return -1;
	}
	if (!xs_watch(x->xs, "@releaseDomain", "R")) {
		snprintf(err, errlen, "cannot watch @releaseDomain: %s", strerror(errno));
		return -1;
	}
	return 0;
}

static void discard_half_built(struct hv_libxl *x, const char *marker, const libxl_dominfo *l,
			       int nb)
{
	libxl_uuid u;
	if (libxl_uuid_from_string(&u, marker))
		return;
	for (int i = 0; i < nb; i++) {
		if (libxl_uuid_compare(&l[i].uuid, &u) || !l[i].paused)
			continue;
		xd_log(XD_LOG_WARNING, NULL, l[i].domid,
		      "destroying a domain a previous xendomd left half-built (create in flight)");
		struct xop *op = op_new(x, K_DESTROY, 0, l[i].domid);
		if (!op)
			return;
		op->internal = true;
		ao_enter(op, P_SIMPLE);
		if (!ao_started(op, libxl_domain_destroy(x->ctx, op->domid, &op->how)))
			op->phase = P_FINISHED;
	}
}

/* Markers of creates a dead daemon left in flight (see marker_set). */
static void recover_creates(struct hv_libxl *x, const struct xd_config *cfg)
{
	if (!cfg || !cfg->global.state_dir)
		return;
	if (asprintf(&x->creating_dir, "%s/libxl-creating", cfg->global.state_dir) < 0) {
		x->creating_dir = NULL;
		return;
	}
	if (mkdir(x->creating_dir, 0700) < 0 && errno != EEXIST) {
		xd_log(XD_LOG_WARNING, NULL, -1, "%s: %s", x->creating_dir, strerror(errno));
		free(x->creating_dir);
		x->creating_dir = NULL;
		return;
	}
	DIR *d = opendir(x->creating_dir);
	int nb = 0;
	libxl_dominfo *l = d ? libxl_list_domain(x->ctx, &nb) : NULL;
	struct dirent *de;
	while (l && (de = readdir(d))) {
		char path[4096];
		if (de->d_name[0] == '.')
			continue;
		discard_half_built(x, de->d_name, l, nb);
		snprintf(path, sizeof(path), "%s/%s", x->creating_dir, de->d_name);
		unlink(path);
	}
	if (l)
		libxl_dominfo_list_free(l, nb);
	if (d)
		closedir(d);
}

static void prefetch_configs(struct hv_libxl *x, const struct xd_config *cfg)
{
	for (size_t i = 0; cfg && i < cfg->n_domains; i++) {
		const struct xd_domain_cfg *d = &cfg->domains[i];
		if (d->xl_path && fetch_request(x, d->name, d->xl_path) < 0)
			xd_log(XD_LOG_WARNING, d->name, -1, "cannot queue the config derivation");
	}
}

struct hv *hv_libxl_new(struct xd_loop *loop, const struct xd_config *cfg,
			char *err, size_t errlen)
{
	err[0] = '\0';
	struct hv_libxl *x = calloc(1, sizeof(*x));
	if (!x) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	hv_init(&x->hv, &libxl_ops);
	x->loop = loop;
	x->timers = xd_loop_timers(loop);
	xd_timer_init(&x->kick, on_kick, x);
	/* SIGCHLD last: the loop cannot unregister it, so it must only ever
	 * point at a backend that lives as long as the loop. */
	if (open_libxl(x, err, errlen) < 0 || read_autoballoon(x, err, errlen) < 0 ||
	    open_xenstore(x, err, errlen) < 0 ||
	    xd_loop_on_signal(loop, SIGCHLD, on_sigchld, x) < 0) {
		if (!err[0])
			snprintf(err, errlen, "cannot catch SIGCHLD");
		x_free(&x->hv);
		return NULL;
	}
	recover_creates(x, cfg);
	prefetch_configs(x, cfg);
	return &x->hv;
}
