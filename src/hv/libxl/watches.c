/* SPDX-License-Identifier: ISC */
/* Watching: @releaseDomain and the domain list diff, readiness keys,
 * listing domains (libxl_int.h). */
#include "hv/libxl/libxl_int.h"

#include <errno.h>
#include <stdlib.h>

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
	xlb_emit(x, &ev);
}

void xlb_recheck_domain(struct hv_libxl *x, uint32_t domid)
{
	libxl_dominfo di;
	libxl_dominfo_init(&di);
	int rc = XLB_T(x, "libxl_domain_info", libxl_domain_info(x->ctx, &di, domid));
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
	libxl_dominfo *l = XLB_T(x, "libxl_list_domain", libxl_list_domain(x->ctx, &nb));
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

int xlb_watch_domain(struct hv *hv, uint32_t domid)
{
	struct hv_libxl *x = X(hv);
	if (xlb_domdiff_watching(&x->watched, domid))
		return 0;
	if (xlb_domdiff_watch(&x->watched, domid) < 0)
		return HV_ENOMEM;
	xlb_cfg_adopt(x, domid);
	/* A state reached before the watch must be reported too. */
	xlb_recheck_domain(x, domid);
	return 0;
}

void xlb_unwatch_domain(struct hv *hv, uint32_t domid)
{
	xlb_domdiff_unwatch(&X(hv)->watched, domid);
}

static void key_emit(struct keywatch *k)
{
	k->pending = false;
	k->last_ms = xd_loop_clock();
	struct hv_event ev = { .kind = HV_EV_KEY, .domid = k->domid };
	snprintf(ev.path, sizeof(ev.path), "%s", k->rel);
	xlb_emit(k->x, &ev);
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

int xlb_watch_key(struct hv *hv, uint32_t domid, const char *rel)
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
	if (!XLB_T(x, "xs_watch", xs_watch(x->xs, path, k->token))) {
		xd_log(XD_LOG_ERR, NULL, domid, "xs_watch %s: %s", path, strerror(errno));
		free(k);
		return HV_EFAIL;
	}
	k->next = x->keys;
	x->keys = k;
	return 0;
}

void xlb_key_drop(struct hv_libxl *x, struct keywatch *k)
{
	char path[XD_KEY_MAX + 32];
	key_path(k, path, sizeof(path));
	XLB_TV(x, "xs_unwatch", xs_unwatch(x->xs, path, k->token));
	xd_timer_disarm(x->timers, &k->timer);
	for (struct keywatch **p = &x->keys; *p; p = &(*p)->next)
		if (*p == k) {
			*p = k->next;
			break;
		}
	free(k);
}

void xlb_unwatch_key(struct hv *hv, uint32_t domid, const char *rel)
{
	struct hv_libxl *x = X(hv);
	struct keywatch *k = key_find(x, domid, rel);
	if (k)
		xlb_key_drop(x, k);
}

/* Guest-writable: XenStore bounds a value to 4 KiB, the caller to len. */
int xlb_read_key(struct hv *hv, uint32_t domid, const char *rel, char *buf, size_t len)
{
	struct hv_libxl *x = X(hv);
	if (!xlb_relpath_ok(rel) || !len)
		return HV_EFAIL;
	char path[XD_KEY_MAX + 32];
	snprintf(path, sizeof(path), "/local/domain/%u/%s", domid, rel);
	unsigned int n = 0;
	char *v = XLB_T(x, "xs_read", xs_read(x->xs, XBT_NULL, path, &n));
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

void xlb_on_xenstore(struct xd_io *io, int fd, short revents, void *arg)
{
	(void)io; (void)fd; (void)revents;
	struct hv_libxl *x = arg;
	bool released = false;
	char **w;
	while ((w = XLB_T(x, "xs_check_watch", xs_check_watch(x->xs)))) {
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
		xlb_emit_fatal(x, msg);
		return;
	}
	if (released)
		relist(x);
}

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
	       !XLB_T(x, "libxl_is_stubdom", libxl_is_stubdom(x->ctx, d->domid, NULL));
}

int xlb_list(struct hv *hv, struct hv_dominfo **v, size_t *n)
{
	struct hv_libxl *x = X(hv);
	int nb = 0;
	libxl_dominfo *l = XLB_T(x, "libxl_list_domain", libxl_list_domain(x->ctx, &nb));
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
		if (!listable(x, &l[i]) ||
		    !(name = XLB_T(x, "libxl_domid_to_name", libxl_domid_to_name(x->ctx, l[i].domid))))
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
