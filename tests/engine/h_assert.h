/* SPDX-License-Identifier: ISC */
/* cmocka assertions on the engine harness (harness.h), shared by the
 * engine's test programs.  Include after <cmocka.h> and harness.h. */
#ifndef XD_TEST_H_ASSERT_H
#define XD_TEST_H_ASSERT_H

#include <string.h>

static inline void assert_reason_has(const struct h *h, const char *dom, const char *text)
{
	const char *r = h_reason(h, dom);
	if (!strstr(r, text))
		fail_msg("%s: reason \"%s\" lacks \"%s\"", dom, r, text);
}

#endif
