/* SPDX-License-Identifier: ISC */
/* Each simulated domain's XenStore directory: keys, watches, the guest's writes. */
#include "hv/sim/sim_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "util/alloc.h"

/* ---- events ---- */

void emit(struct hv_sim *s, const struct hv_event *ev)
{
	hv_emit(&s->hv, ev);
}

void emit_key(struct sim_dom *d, const char *watch)
{
	struct hv_event ev = { .kind = HV_EV_KEY, .domid = d->domid };
	snprintf(ev.path, sizeof(ev.path), "%s", watch);
	emit(d->sim, &ev);
}

/* ---- the domain's XenStore directory ---- */

/* Room for one more key or watch.  Not XD_GROW: 10,000 domains with
 * about 8 keys and 1 watch each would spend more than a MiB on its
 * initial 16. */
static void *room_for_one(void *arr, size_t n, size_t *cap, size_t first, size_t size)
{
	if (n < *cap)
		return arr;
	*cap = *cap ? 2 * *cap : first;
	return xd_reallocarray(arr, *cap, size);
}

struct sim_key *key_find(struct sim_dom *d, const char *path)
{
	for (size_t i = 0; i < d->n_keys; i++)
		if (strcmp(d->keys[i].path, path) == 0)
			return &d->keys[i];
	return NULL;
}

/* A watch fires for its own path and everything below it. */
static bool watch_covers(const char *watch, const char *path)
{
	size_t n = strlen(watch);
	return strncmp(watch, path, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

void key_set(struct sim_dom *d, const char *path, const char *value)
{
	struct sim_key *k = key_find(d, path);
	if (k) {
		free(k->value);
	} else {
		d->keys = room_for_one(d->keys, d->n_keys, &d->cap_keys, 8, sizeof(*d->keys));
		k = &d->keys[d->n_keys++];
		k->path = xd_strdup(path);
	}
	k->value = xd_strdup(value);
	for (size_t i = 0; i < d->n_watches; i++)
		if (watch_covers(d->watches[i], path))
			emit_key(d, d->watches[i]);
}

void key_remove(struct sim_dom *d, const char *path)
{
	bool gone = false;
	for (size_t i = 0; i < d->n_keys;) {
		struct sim_key *k = &d->keys[i];
		if (!watch_covers(path, k->path)) {   /* not path nor below it */
			i++;
			continue;
		}
		free(k->path);
		free(k->value);
		*k = d->keys[--d->n_keys];
		gone = true;
	}
	for (size_t i = 0; gone && i < d->n_watches; i++)
		if (watch_covers(d->watches[i], path) || watch_covers(path, d->watches[i]))
			emit_key(d, d->watches[i]);
}

/* What libxl writes at creation: the name, and the guest-writable nodes
 * left empty for the guest to fill. */
void keys_init(struct sim_dom *d)
{
	static const char *const empty[] = {
		"control/shutdown", "control/feature-poweroff", "control/feature-reboot",
		"control/feature-suspend", "control/sysrq", "data",
	};
	key_set(d, "name", d->name);
	for (size_t i = 0; i < sizeof(empty) / sizeof(empty[0]); i++)
		key_set(d, empty[i], "");
	if (d->hvm) {
		key_set(d, "control/feature-s3", "");
		key_set(d, "control/feature-s4", "");
	}
}

int sim_watch_key(struct hv *hv, uint32_t domid, const char *relpath)
{
	if (xd_xenstore_relpath_problem(relpath))
		return HV_EFAIL;          /* as the libxl backend: one rule for both */
	struct sim_dom *d = dom_live(to_sim(hv), domid);
	if (!d)
		return HV_ENOENT;
	bool known = false;
	for (size_t i = 0; i < d->n_watches; i++)
		known |= strcmp(d->watches[i], relpath) == 0;
	if (!known) {
		d->watches = room_for_one(d->watches, d->n_watches, &d->cap_watches, 1,
					  sizeof(*d->watches));
		d->watches[d->n_watches++] = xd_strdup(relpath);
	}
	emit_key(d, relpath);     /* xs_watch fires once at once */
	return 0;
}

void sim_unwatch_key(struct hv *hv, uint32_t domid, const char *relpath)
{
	struct sim_dom *d = dom_by_id(to_sim(hv), domid);
	if (!d)
		return;
	for (size_t i = 0; i < d->n_watches; i++) {
		if (strcmp(d->watches[i], relpath) == 0) {
			free(d->watches[i]);
			d->watches[i] = d->watches[--d->n_watches];
			return;
		}
	}
}

int sim_read_key(struct hv *hv, uint32_t domid, const char *relpath, char *buf, size_t len)
{
	struct sim_dom *d = dom_live(to_sim(hv), domid);
	if (d)
		d->prof->counts.key_reads++;
	if (xd_xenstore_relpath_problem(relpath) || !len)
		return HV_EFAIL;
	struct sim_key *k = d ? key_find(d, relpath) : NULL;
	if (!k)
		return HV_ENOENT;
	size_t n = strlen(k->value);
	if (n + 1 > len)
		return HV_ETOOBIG;
	memcpy(buf, k->value, n + 1);
	return 0;
}

int hv_sim_guest_write(struct hv *hv, uint32_t domid, const char *relpath, const char *value)
{
	struct sim_dom *d = dom_live(to_sim(hv), domid);
	return d ? guest_write(d, relpath, value) : HV_ENOENT;
}

int guest_write(struct sim_dom *d, const char *relpath, const char *value)
{
	if (!relpath[0] || strlen(relpath) >= GUEST_PATH_MAX || strlen(value) > GUEST_VALUE_MAX ||
	    (!key_find(d, relpath) && d->n_keys >= GUEST_KEYS_MAX))
		return HV_ETOOBIG;
	key_set(d, relpath, value);
	return 0;
}

