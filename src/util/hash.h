/* SPDX-License-Identifier: ISC */
/*
 * Name lookup in O(1): an open-addressing index from a string key to a
 * caller's element number.  The index stores only numbers; the key of
 * element i is read back through key(ctx, i), so the caller's array stays
 * the one copy of the names (and may be reallocated freely).
 */
#ifndef XD_UTIL_HASH_H
#define XD_UTIL_HASH_H

#include <stddef.h>

/* FNV-1a over a NUL-terminated string. */
size_t xd_hash_str(const char *s);

typedef const char *xd_index_key_fn(const void *ctx, size_t i);

struct xd_index {
	size_t *slot;            /* element + 1; 0 = empty */
	size_t cap, n;
	xd_index_key_fn *key;
	const void *ctx;
};

void xd_index_init(struct xd_index *ix, xd_index_key_fn *key, const void *ctx);
void xd_index_free(struct xd_index *ix);
/* Empty the index, keeping its memory. */
void xd_index_clear(struct xd_index *ix);
/* Add element i (its key must not be in the index yet). */
void xd_index_add(struct xd_index *ix, size_t i);
/* Element whose key is name, or -1. */
long xd_index_find(const struct xd_index *ix, const char *name);

#endif
