/* SPDX-License-Identifier: ISC */
/* JSON strings of untrusted text (json_text.h). */
#include "daemon/json_text.h"

#include <stdlib.h>

#include "util/escape.h"

json_t *xd_json_text(const char *s)
{
	if (!s)
		return json_null();
	json_t *j = json_string(s);      /* UTF-8: JSON escapes its controls */
	if (j)
		return j;
	char *safe = xd_escape(s);       /* printable UTF-8 and \xNN only */
	j = json_string(safe);
	free(safe);
	return j;
}
