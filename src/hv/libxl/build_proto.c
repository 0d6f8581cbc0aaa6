/* SPDX-License-Identifier: ISC */
/* The build helper's line protocol (build_proto.h). */
#include "hv/libxl/build_proto.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool parse_long(const char *s, char **end, long *v)
{
	errno = 0;
	*v = strtol(s, end, 10);
	return errno == 0 && *end != s;
}

static bool parse_line(const char *l, struct xlb_build_result *r)
{
	char *end;
	long rc, domid;
	memset(r, 0, sizeof(*r));
	if (!strncmp(l, "ok ", 3)) {
		if (!parse_long(l + 3, &end, &domid) || domid < 0 || (*end && *end != '\n'))
			return false;
		r->ok = true;
		r->domid = domid;
		return true;
	}
	if (strncmp(l, "fail ", 5) || !parse_long(l + 5, &end, &rc) || *end != ' ' ||
	    !parse_long(end + 1, &end, &domid) || domid < -1)
		return false;
	r->libxl_rc = (int)rc;
	r->domid = domid;
	if (*end == ' ')
		end++;
	size_t n = strcspn(end, "\n");
	if (n >= sizeof(r->msg))
		n = sizeof(r->msg) - 1;
	memcpy(r->msg, end, n);
	r->msg[n] = '\0';
	return true;
}

/* The last line that is a result wins (nothing else should be there). */
bool xlb_build_parse(const char *out, struct xlb_build_result *r)
{
	bool found = false;
	struct xlb_build_result tmp;
	for (const char *l = out; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		if (parse_line(l, &tmp)) {
			*r = tmp;
			found = true;
		}
	}
	return found;
}

char xlb_build_line_level(const char *line, const char **msg)
{
	if (line[0] && strchr("EWNI", line[0]) && line[1] == ' ') {
		*msg = line + 2;
		return line[0];
	}
	*msg = line;
	return 'I';
}

static void copy_msg(char *dst, size_t len, const char *src)
{
	size_t n = strcspn(src, "\n");
	if (n >= len)
		n = len - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* "doubt DOMID MESSAGE" */
static bool parse_doubt(const char *l, struct xlb_migrate_result *r)
{
	char *end;
	long domid;
	if (strncmp(l, "doubt ", 6) || !parse_long(l + 6, &end, &domid) || domid < 0 ||
	    (*end != ' ' && *end != '\n' && *end))
		return false;
	r->outcome = XLB_MIG_DOUBT;
	copy_msg(r->msg, sizeof(r->msg), *end == ' ' ? end + 1 : end);
	return true;
}

void xlb_migrate_parse(const char *out, struct xlb_migrate_result *r)
{
	struct xlb_build_result b;
	memset(r, 0, sizeof(*r));
	for (const char *l = out; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		if (!strncmp(l, "go\n", 3) || !strcmp(l, "go")) {
			r->go = true;
		} else if (parse_doubt(l, r)) {
			continue;
		} else if (parse_line(l, &b)) {
			r->outcome = b.ok ? XLB_MIG_OK : XLB_MIG_FAIL;
			r->libxl_rc = b.libxl_rc;
			snprintf(r->msg, sizeof(r->msg), "%s", b.ok ? "" : b.msg);
		}
	}
}
