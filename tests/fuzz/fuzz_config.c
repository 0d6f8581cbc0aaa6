/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer target: the configuration loader on hostile files.
 *
 * The input is split at lines "@@@@" into up to four files in a scratch
 * directory: xendomd.conf, conf.d/10.conf (include_dir), xen/d.cfg (the xl
 * cfg of domain "d" and of an auto_dir entry) and auto/e (an auto_dir
 * entry of its own).  The main file gets a fixed [global] prefix pointing
 * every directory into the scratch directory, so the fuzzer's text decides
 * the rest.  Every load must end in 0 or -1 with diagnostics: never a
 * crash, a leak, an abort inside libxlutil, or a hang.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <ftw.h>
#include <unistd.h>

#include "config/load.h"

static char dir[64];

static void put(const char *rel, const uint8_t *data, size_t n, const char *prefix)
{
	char path[128];
	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	FILE *f = fopen(path, "w");
	if (!f)
		abort();
	if (prefix)
		fputs(prefix, f);
	fwrite(data, 1, n, f);
	fclose(f);
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return remove(path);
}

static void cleanup(void)
{
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void setup(void)
{
	if (dir[0])
		return;
	snprintf(dir, sizeof(dir), "/tmp/xd-fuzz-config.XXXXXX");
	if (!mkdtemp(dir))
		abort();
	atexit(cleanup);
	static const char *const sub[] = { "conf.d", "xen", "auto", "state", "save" };
	for (size_t i = 0; i < sizeof(sub) / sizeof(sub[0]); i++) {
		char p[128];
		snprintf(p, sizeof(p), "%s/%s", dir, sub[i]);
		mkdir(p, 0755);
	}
}

/* Parts are separated by a line "@@@@". */
static const uint8_t *next_part(const uint8_t *p, const uint8_t *end, size_t *len)
{
	static const char sep[] = "@@@@\n";
	for (const uint8_t *s = p; (size_t)(end - s) >= sizeof(sep) - 1; s++) {
		if ((s == p || s[-1] == '\n') && memcmp(s, sep, sizeof(sep) - 1) == 0) {
			*len = (size_t)(s - p);
			return s + sizeof(sep) - 1;
		}
	}
	*len = (size_t)(end - p);
	return end;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	setup();
	char prefix[1024];
	snprintf(prefix, sizeof(prefix),
		 "[global]\nxen_config_dir = %s/xen\ninclude_dir = %s/conf.d\n"
		 "auto_dir = %s/auto\nstate_dir = %s/state\nsave_dir = %s/save\n",
		 dir, dir, dir, dir, dir);
	static const char *const files[] = { "xendomd.conf", "conf.d/10.conf", "xen/d.cfg", "auto/e" };
	const uint8_t *p = data, *end = data + size;
	for (size_t i = 0; i < 4; i++) {
		size_t n;
		const uint8_t *at = p;
		p = next_part(p, end, &n);
		put(files[i], at, n, i == 0 ? prefix : NULL);
	}
	char main_path[128];
	snprintf(main_path, sizeof(main_path), "%s/xendomd.conf", dir);
	struct xd_config *cfg = NULL;
	struct xd_diags diags = { 0 };
	int rc = xd_config_load(main_path, &cfg, &diags);
	if (getenv("XD_FUZZ_VERBOSE"))
		xd_diags_print(&diags, stderr);
	if ((rc == 0) != (cfg != NULL) || (rc != 0 && diags.n == 0))
		abort();                 /* an error must say what it is */
	xd_config_free(cfg);
	xd_diags_free(&diags);
	return 0;
}
