/* SPDX-License-Identifier: ISC */
/* The stored libxl config of each domain, derived by `xl create --dryrun`
 * (libxl_int.h). */
#include "hv/libxl/libxl_int.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>

struct cfgent *xlb_cfg_find(struct hv_libxl *x, const char *name)
{
	for (struct cfgent *e = x->cfgs; e; e = e->next)
		if (!strcmp(e->name, name))
			return e;
	return NULL;
}

struct cfgent *xlb_cfg_get(struct hv_libxl *x, const char *name)
{
	struct cfgent *e = xlb_cfg_find(x, name);
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

bool xlb_cfg_fetching(const struct cfgent *e)
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
bool xlb_cfg_fresh(const struct cfgent *e, const char *xl_path)
{
	struct stat st;
	if (!e->json || (e->json_path && strcmp(e->json_path, xl_path)))
		return false;
	return stat(xl_path, &st) == 0 && timespec_cmp(st.st_mtim, e->json_stamp) < 0;
}

/* Parse e's JSON into dc (initialised here), with the domain's UUID and
 * letting Xen choose the domid.  libxl rc. */
int xlb_cfg_to_dc(struct hv_libxl *x, struct cfgent *e, const char *json,
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
int xlb_cfg_store(struct hv_libxl *x, struct cfgent *e, char *json, const char *path,
		     struct timespec stamp, char *err, size_t errlen)
{
	char *p = path ? strdup(path) : NULL;
	if (path && !p) {
		snprintf(err, errlen, "out of memory");
		free(json);
		return -1;
	}
	libxl_domain_config dc;
	int rc = xlb_cfg_to_dc(x, NULL, json, &dc);
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
void xlb_cfg_forget(struct cfgent *e)
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
			xlb_cfg_store(x, e, json, e->fetch_path, e->fetch_stamp, e->err, sizeof(e->err));
	}
	if (e->err[0]) {
		xd_log(XD_LOG_ERR, e->name, -1, "%s", e->err);
		xlb_cfg_forget(e);
	}
	xlb_child_free(c);
	e->child = NULL;
	x->fetching--;
	xlb_kick(x);
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
		xlb_cfg_forget(e);
		xlb_kick(x);
		return;
	}
	x->fetching++;
}

/* Queue a fresh derivation of name's config from xl_path. */
int xlb_fetch_request(struct hv_libxl *x, const char *name, const char *xl_path)
{
	struct cfgent *e = xlb_cfg_get(x, name);
	if (!e)
		return HV_ENOMEM;
	if (xlb_cfg_fetching(e))
		return 0;
	char *p = strdup(xl_path);
	if (!p)
		return HV_ENOMEM;
	free(e->fetch_path);
	e->fetch_path = p;
	e->queued = true;
	xlb_kick(x);
	return 0;
}

/* Oldest queue first: the list is newest first, so take the last. */
void xlb_fetch_dispatch(struct hv_libxl *x)
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
void xlb_cfg_adopt(struct hv_libxl *x, uint32_t domid)
{
	char *name = XLB_T(x, "libxl_domid_to_name", libxl_domid_to_name(x->ctx, domid));
	struct cfgent *e = name ? xlb_cfg_get(x, name) : NULL;
	uint8_t *data = NULL;
	int len = 0;
	if (e && !e->have_uuid &&
	    XLB_T(x, "libxl_userdata_retrieve",
		  libxl_userdata_retrieve(x->ctx, domid, "libxl-json", &data, &len)) == 0 && len > 0) {
		char *json = strndup((const char *)data, (size_t)len);
		char err[HV_MSG_MAX];
		struct timespec now;
		clock_gettime(CLOCK_REALTIME, &now);
		if (json && xlb_cfg_store(x, e, json, NULL, now, err, sizeof(err)) < 0)
			xd_log(XD_LOG_WARNING, name, domid, "stored config: %s", err);
	}
	free(data);
	free(name);
}
