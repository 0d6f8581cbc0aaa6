/* SPDX-License-Identifier: ISC */
/*
 * Reading the fields the core needs from a domain's xl cfg, with the same
 * libxlutil parser and the same defaults as `xl create` (xl_parse.c and
 * libxl's build-info defaults, Xen 4.17):
 *   - memory= sets the target, maxmem= the maximum; an absent maxmem is the
 *     target, an absent memory is the maximum, and with neither libxl uses
 *     32 MiB for both;
 *   - type= is matched the way xl does it (the value may be a prefix of
 *     "hvm", "pv" or "pvh", tried in that order); the deprecated builder=
 *     ("hvm" or "generic") must agree with it; neither means PV on x86;
 *   - on_poweroff/on_reboot/on_crash/on_watchdog/on_soft_reset take xl's
 *     action names exactly; defaults destroy, restart, destroy, destroy,
 *     soft-reset.
 * An unparsable memory= or maxmem= (xen-tools writes memory = '256M'):
 * libxlutil's xlu_cfg_get_long fails with "warning: parameter `memory' is
 * not a valid number" and xl boots as if the key were absent
 * (tools/xl/xl_parse.c parse_config_data); xendomd warns the same way, at
 * the key's line, and uses the same outcome.
 */
#define LIBXL_API_VERSION 0x041400
#include <libxlutil.h>

#include "config/xlcfg.h"
#include "config/util.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* 16 TiB in MiB: far above any real guest, far below overflow in KiB. */
#define MAX_GUEST_MB (16ULL * 1024 * 1024)
/* libxl__domain_build_info_setdefault: max_memkb = 32 * 1024 */
#define LIBXL_DEFAULT_MB 32

struct xl_file {
	const char *path;
	char *text;
	size_t len;
	XLU_Config *xlu;
	FILE *report_f;          /* xlu's report stream, kept while xlu lives */
	char *report;
	size_t report_len;
	struct xd_diags *diags;
	bool bad;
};

static void xl_error(struct xl_file *f, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void xl_error(struct xl_file *f, const char *key, const char *fmt, ...)
{
	va_list ap;
	int line = key ? xd_xlcfg_key_line(f->text, f->len, key) : 0;

	va_start(ap, fmt);
	xd_diag_vadd(f->diags, f->path, line, fmt, ap);
	va_end(ap);
	f->bad = true;
}

static bool is_ident_start(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool is_ident(char c)
{
	return is_ident_start(c) || (c >= '0' && c <= '9') || c == '.';
}

int xd_xlcfg_key_line(const char *text, size_t len, const char *key)
{
	size_t keylen = strlen(key);
	int line = 1, found = 0, depth = 0;
	bool stmt_start = true;

	for (size_t i = 0; i < len; i++) {
		char c = text[i];
		if (c == '\n') {
			line++;
			stmt_start = stmt_start || depth == 0;
		} else if (c == '#') {
			while (i + 1 < len && text[i + 1] != '\n')
				i++;
		} else if (c == '"' || c == '\'') {
			for (i++; i < len && text[i] != c && text[i] != '\n'; i++)
				if (text[i] == '\\' && i + 1 < len && text[i + 1] != '\n')
					i++;
			if (i < len && text[i] == '\n')
				i--;            /* unterminated: let the newline count */
			stmt_start = false;
		} else if (c == '[') {
			depth++;
			stmt_start = false;
		} else if (c == ']') {
			depth -= depth > 0;
			stmt_start = false;
		} else if (c == ';' && depth == 0) {
			stmt_start = true;
		} else if (c == ' ' || c == '\t' || c == '\r') {
			continue;
		} else if (stmt_start && is_ident_start(c)) {
			size_t start = i;
			while (i + 1 < len && is_ident(text[i + 1]))
				i++;
			size_t j = i + 1;
			while (j < len && (text[j] == ' ' || text[j] == '\t'))
				j++;
			bool assigns = j < len && (text[j] == '=' ||
						   (text[j] == '+' && j + 1 < len && text[j + 1] == '='));
			if (assigns && i + 1 - start == keylen && memcmp(text + start, key, keylen) == 0)
				found = line;
			stmt_start = false;
		} else {
			stmt_start = false;
		}
	}
	return found;
}

/* Bounded read of the whole file (opened as xd_conf_open says). */
static int slurp(struct xl_file *f)
{
	const char *what, *why;
	struct stat st;
	int fd = xd_conf_open(f->path, &st, &what, &why);

	if (fd < 0) {
		xl_error(f, NULL, "%s: %s", what, why);
		return -1;
	}
	if (st.st_size > XD_XLCFG_MAX_BYTES) {
		xl_error(f, NULL, "larger than %d bytes; not an xl cfg?", XD_XLCFG_MAX_BYTES);
		close(fd);
		return -1;
	}
	f->text = xd_calloc((size_t)st.st_size + 1, 1);
	while (f->len < (size_t)st.st_size) {
		ssize_t r = read(fd, f->text + f->len, (size_t)st.st_size - f->len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			xl_error(f, NULL, "cannot read: %s", strerror(errno));
			close(fd);
			return -1;
		}
		if (r == 0)
			break;
		f->len += (size_t)r;
	}
	close(fd);
	return 0;
}

/*
 * libxlutil's lexer takes a NUL inside a quoted string into the token and
 * then fails an assertion on it (xlu__cfgl_dequote, tools/libs/util/
 * libxlu_cfg.c): the whole process aborts, a running daemon included.  No
 * xl cfg has a NUL, so one is refused at its line before xlu sees the
 * text.  Every other byte value, inside quotes or out, xlu either takes
 * or reports as a syntax error (tests/config tries each of the 255).
 */
static int refuse_nul(struct xl_file *f)
{
	const char *nul = memchr(f->text, '\0', f->len);
	int line = 1;

	if (!nul)
		return 0;
	for (const char *p = f->text; p < nul; p++)
		line += *p == '\n';
	xd_diag_add(f->diags, f->path, line, "NUL byte in the line; is this a text file?");
	f->bad = true;
	return -1;
}

/*
 * xlu reports to a FILE as "PATH:LINE: message" (its report name is our
 * path); turn each line into a diagnostic, folding lines without that
 * prefix into the previous one.
 */
static void report_to_diags(struct xl_file *f, const char *report_text)
{
	size_t plen = strlen(f->path), before = f->diags->n;
	char *report = xd_strdup(report_text);

	for (char *save = NULL, *l = strtok_r(report, "\n", &save); l;
	     l = strtok_r(NULL, "\n", &save)) {
		char *rest = l, *end;
		long line = 0;
		if (strncmp(l, f->path, plen) == 0 && l[plen] == ':') {
			rest = l + plen + 1;
			line = strtol(rest, &end, 10);
			if (end != rest && *end == ':')
				rest = end + 1;
			else
				line = 0;
			rest += *rest == ' ';
		} else if (f->diags->n > before) {
			xd_diag_append(f->diags, l);
			continue;
		}
		xd_diag_add(f->diags, f->path, (int)line, "%s", rest);
	}
	free(report);
}

static int parse_with_xlu(struct xl_file *f)
{
	f->report_f = open_memstream(&f->report, &f->report_len);
	if (!f->report_f)
		xd_oom();
	f->xlu = xlu_cfg_init(f->report_f, f->path);
	if (!f->xlu)
		xd_oom();
	int rc = xlu_cfg_readdata(f->xlu, f->text, (int)f->len);
	if (rc == 0)
		return 0;
	fflush(f->report_f);
	if (f->report_len)
		report_to_diags(f, f->report);
	else
		xl_error(f, NULL, "xl cannot parse it: %s", strerror(rc));
	f->bad = true;
	return -1;
}

/* A string setting; ESRCH if absent, EINVAL (reported) if a list. */
static int get_string(struct xl_file *f, const char *key, const char **v)
{
	int rc = xlu_cfg_get_string(f->xlu, key, v, 1);
	if (rc == EINVAL)
		xl_error(f, key, "%s must be a single value, not a list", key);
	return rc;
}

/* memory=/maxmem=: a number of MiB as xl reads it (strtol base 0). */
static bool get_mib(struct xl_file *f, const char *key, uint64_t *mb)
{
	const char *raw;
	long l;

	if (get_string(f, key, &raw) != 0)
		return false;
	if (xlu_cfg_get_long(f->xlu, key, &l, 1) != 0) {
		xd_diag_add_sev(f->diags, XD_DIAG_WARNING, f->path, xd_xlcfg_key_line(f->text, f->len, key),
		                "parameter `%s' is not a valid number (\"%s\"); as xl, it is ignored",
		                key, raw);
		return false;
	}
	if (l < 1 || (unsigned long)l > MAX_GUEST_MB) {
		xl_error(f, key, "%s = %ld is out of range (1 to %llu MiB)", key, l,
			 (unsigned long long)MAX_GUEST_MB);
		return false;
	}
	*mb = (uint64_t)l;
	return true;
}

static void read_memory(struct xl_file *f, struct xd_xlcfg *x)
{
	bool has_mem = get_mib(f, "memory", &x->memory_mb);
	bool has_max = get_mib(f, "maxmem", &x->maxmem_mb);

	if (!has_mem)
		x->memory_mb = has_max ? x->maxmem_mb : LIBXL_DEFAULT_MB;
	if (!has_max)
		x->maxmem_mb = x->memory_mb;
	if (has_mem && has_max && x->maxmem_mb < x->memory_mb)
		xl_error(f, "maxmem", "maxmem = %llu is below memory = %llu",
			 (unsigned long long)x->maxmem_mb, (unsigned long long)x->memory_mb);
}

/* xl's own test: the value is a prefix of the word (so "" matches too). */
static bool xl_prefix_of(const char *v, const char *word)
{
	return strncmp(v, word, strlen(v)) == 0;
}

enum xl_type { XL_TYPE_NONE, XL_TYPE_HVM, XL_TYPE_PV, XL_TYPE_PVH };

static void read_type(struct xl_file *f, struct xd_xlcfg *x)
{
	enum xl_type type = XL_TYPE_NONE, builder = XL_TYPE_NONE;
	const char *v;

	if (get_string(f, "type", &v) == 0) {
		if (xl_prefix_of(v, "hvm"))
			type = XL_TYPE_HVM;
		else if (xl_prefix_of(v, "pv"))
			type = XL_TYPE_PV;
		else if (xl_prefix_of(v, "pvh"))
			type = XL_TYPE_PVH;
		else
			xl_error(f, "type", "type = \"%s\" is not a domain type (pv, pvh or hvm)", v);
	}
	if (get_string(f, "builder", &v) == 0) {
		if (xl_prefix_of(v, "hvm"))
			builder = XL_TYPE_HVM;
		else if (xl_prefix_of(v, "generic"))
			builder = XL_TYPE_PV;
		else
			xl_error(f, "builder", "builder = \"%s\" is not hvm or generic", v);
		if (builder != XL_TYPE_NONE && type != XL_TYPE_NONE && builder != type)
			xl_error(f, "builder", "builder = \"%s\" contradicts type = \"%s\"", v,
				 type == XL_TYPE_HVM ? "hvm" : type == XL_TYPE_PV ? "pv" : "pvh");
	}
	x->hvm = (type == XL_TYPE_NONE ? builder : type) == XL_TYPE_HVM;
}

static const char *const action_names[] = {
	[XD_ACT_DESTROY] = "destroy",
	[XD_ACT_RESTART] = "restart",
	[XD_ACT_RENAME_RESTART] = "rename-restart",
	[XD_ACT_PRESERVE] = "preserve",
	[XD_ACT_COREDUMP_DESTROY] = "coredump-destroy",
	[XD_ACT_COREDUMP_RESTART] = "coredump-restart",
	[XD_ACT_SOFT_RESET] = "soft-reset",
};

static void read_action(struct xl_file *f, const char *key, enum xd_action dflt,
			enum xd_action *out)
{
	const char *v;

	*out = dflt;
	if (get_string(f, key, &v) != 0)
		return;
	for (size_t i = 0; i < sizeof(action_names) / sizeof(action_names[0]); i++)
		if (strcmp(v, action_names[i]) == 0) {
			*out = (enum xd_action)i;
			return;
		}
	xl_error(f, key, "%s = \"%s\" is not an xl action (destroy, restart, rename-restart, "
		 "preserve, coredump-destroy, coredump-restart, soft-reset)", key, v);
}

static void read_name(struct xl_file *f, struct xd_xlcfg *x)
{
	const char *v;
	int rc = get_string(f, "name", &v);

	if (rc == ESRCH) {
		xl_error(f, NULL, "no name= setting (xl requires one)");
		return;
	}
	if (rc != 0)
		return;
	x->name = xd_strdup(v);
	x->name_line = xd_xlcfg_key_line(f->text, f->len, "name");
	const char *why = xd_domain_name_problem(v);
	if (why)
		xl_error(f, "name", "name = \"%s\" is not a usable domain name: %s", v, why);
}

int xd_xlcfg_read(const char *path, struct xd_xlcfg *out, struct xd_diags *diags)
{
	struct xl_file f = { .path = path, .diags = diags };

	memset(out, 0, sizeof(*out));
	if (slurp(&f) == 0 && refuse_nul(&f) == 0 && parse_with_xlu(&f) == 0) {
		read_name(&f, out);
		read_memory(&f, out);
		read_type(&f, out);
		read_action(&f, "on_poweroff", XD_ACT_DESTROY, &out->on_poweroff);
		read_action(&f, "on_reboot", XD_ACT_RESTART, &out->on_reboot);
		read_action(&f, "on_crash", XD_ACT_DESTROY, &out->on_crash);
		read_action(&f, "on_watchdog", XD_ACT_DESTROY, &out->on_watchdog);
		read_action(&f, "on_soft_reset", XD_ACT_SOFT_RESET, &out->on_soft_reset);
	}
	if (f.xlu)
		xlu_cfg_destroy(f.xlu);
	if (f.report_f)
		fclose(f.report_f);
	free(f.report);
	free(f.text);
	return f.bad ? -1 : 0;
}

void xd_xlcfg_free(struct xd_xlcfg *x)
{
	free(x->name);
	x->name = NULL;
}
