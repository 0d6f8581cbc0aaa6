/* SPDX-License-Identifier: ISC */
/* cmocka assertions and steps on the engine harness (harness.h), shared
 * by the engine's test programs.  Include after <cmocka.h> and harness.h. */
#ifndef XD_TEST_H_ASSERT_H
#define XD_TEST_H_ASSERT_H

#include <string.h>

static inline void assert_reason_has(const struct h *h, const char *dom, const char *text)
{
	const char *r = h_reason(h, dom);
	if (!strstr(r, text))
		fail_msg("%s: reason \"%s\" lacks \"%s\"", dom, r, text);
}

/* Run the host-shutdown sequence and wait until it is down. */
static inline void halt_and_wait(struct h *h, uint64_t limit_ms)
{
	xd_engine_shutdown_host(h->e);
	assert_true(h_run_until(h, h_is_down, limit_ms));
}

#endif
