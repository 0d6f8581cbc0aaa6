/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer target: the readiness rule (xd_ready_matches, core/engine.h)
 * on guest-written XenStore values.
 *
 * Input: byte 0 picks the rule (pv-drivers, a path, a path = value) and
 * what read_key returned (a value, HV_ETOOBIG, HV_ENOENT); the rest is the
 * expected value and the guest's value, split at the first NUL, each cut
 * to XD_KEY_MAX - 1 bytes as the config loader and the port bound them.
 * Beyond not crashing, the rule's promises hold: nothing absent is ready,
 * a too-long value never equals an expected one, and a match means the
 * bytes are equal.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/engine.h"

static void take(char *dst, const uint8_t **p, size_t *n)
{
	size_t len = 0;
	while (len < *n && (*p)[len] != 0)
		len++;
	size_t keep = len < XD_KEY_MAX - 1 ? len : XD_KEY_MAX - 1;
	memcpy(dst, *p, keep);
	dst[keep] = '\0';
	size_t used = len < *n ? len + 1 : len;
	*p += used;
	*n -= used;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	static const int rcs[] = { 0, HV_ETOOBIG, HV_ENOENT };
	int rc = rcs[(data[0] >> 2) % 3];
	char expected[XD_KEY_MAX], value[XD_KEY_MAX];
	struct xd_ready r = { .path = "data/ready", .value = expected };
	switch (data[0] & 3) {
	case 0: r.kind = XD_READY_PV_DRIVERS; break;
	case 1: r.kind = XD_READY_XENSTORE; break;
	default: r.kind = XD_READY_XENSTORE; r.has_value = true; break;
	}
	const uint8_t *p = data + 1;
	size_t n = size - 1;
	take(expected, &p, &n);
	take(value, &p, &n);
	bool ready = xd_ready_matches(&r, rc, rc == 0 ? value : "");
	if (rc == HV_ENOENT && ready)
		abort();                     /* an absent key is never ready */
	if (ready && (r.kind == XD_READY_PV_DRIVERS || r.has_value) && rc != 0)
		abort();                     /* a value it could not read matched */
	if (ready && r.has_value && strcmp(value, expected) != 0)
		abort();
	if (ready && r.kind == XD_READY_PV_DRIVERS && strcmp(value, "1") != 0)
		abort();
	return 0;
}
