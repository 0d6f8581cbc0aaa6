/* SPDX-License-Identifier: ISC */
/* JSON strings of untrusted text (json_text.h). */
#include "daemon/json_text.h"

json_t *xd_json_text(const char *s)
{
	if (!s)
		return json_null();
	json_t *j = json_string(s);
	if (j)
		return j;
	char buf[512];
	size_t i = 0;
	for (; s[i] && i < sizeof(buf) - 1; i++)
		buf[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
	buf[i] = '\0';
	return json_string(buf);
}
