/* SPDX-License-Identifier: ISC */
#include "util/hash.h"
#include "util/alloc.h"

#include <stdlib.h>
#include <string.h>

size_t xd_hash_str(const char *s)
{
	unsigned long long h = 0xcbf29ce484222325ull;
	for (const unsigned char *c = (const unsigned char *)s; *c; c++)
		h = (h ^ *c) * 0x100000001b3ull;
	return (size_t)h;
}

void xd_index_init(struct xd_index *ix, xd_index_key_fn *key, const void *ctx)
{
	*ix = (struct xd_index){ .key = key, .ctx = ctx };
}

void xd_index_free(struct xd_index *ix)
{
	free(ix->slot);
	ix->slot = NULL;
	ix->cap = ix->n = 0;
}

void xd_index_clear(struct xd_index *ix)
{
	if (ix->slot)
		memset(ix->slot, 0, ix->cap * sizeof(*ix->slot));
	ix->n = 0;
}

static void place(size_t *slot, size_t cap, size_t h, size_t v)
{
	size_t i = h & (cap - 1);
	while (slot[i])
		i = (i + 1) & (cap - 1);
	slot[i] = v;
}

/* Keep the load at most one half, so probes stay short. */
static void grow(struct xd_index *ix)
{
	size_t cap = ix->cap ? 2 * ix->cap : 64;
	size_t *slot = xd_calloc(cap, sizeof(*slot));
	for (size_t i = 0; i < ix->cap; i++)
		if (ix->slot[i])
			place(slot, cap, xd_hash_str(ix->key(ix->ctx, ix->slot[i] - 1)), ix->slot[i]);
	free(ix->slot);
	ix->slot = slot;
	ix->cap = cap;
}

void xd_index_add(struct xd_index *ix, size_t i)
{
	if (2 * (ix->n + 1) > ix->cap)
		grow(ix);
	place(ix->slot, ix->cap, xd_hash_str(ix->key(ix->ctx, i)), i + 1);
	ix->n++;
}

long xd_index_find(const struct xd_index *ix, const char *name)
{
	if (!ix->cap)
		return -1;
	for (size_t i = xd_hash_str(name) & (ix->cap - 1);; i = (i + 1) & (ix->cap - 1)) {
		size_t v = ix->slot[i];
		if (!v)
			return -1;
		if (strcmp(ix->key(ix->ctx, v - 1), name) == 0)
			return (long)(v - 1);
	}
}
