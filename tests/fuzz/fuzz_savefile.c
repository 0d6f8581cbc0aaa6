/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer target: the save-image reader (hv/savefile.c) on hostile
 * files: savefile_read() and savefile_image_check() must answer 0,
 * HV_ENOENT or HV_EBADIMG with a reason, never crash, leak or allocate
 * past SAVEFILE_OPTDATA_MAX.  The JSON helpers are fed the same bytes.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/hv_port.h"
#include "hv/savefile.h"

static char path[64];

static void cleanup(void)
{
	unlink(path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!path[0]) {
		snprintf(path, sizeof(path), "/tmp/xd-fuzz-save.XXXXXX");
		int fd = mkstemp(path);
		if (fd < 0)
			abort();
		close(fd);
		atexit(cleanup);
	}
	FILE *f = fopen(path, "w");
	if (!f)
		abort();
	fwrite(data, 1, size, f);
	fclose(f);

	char msg[256] = "";
	struct savefile_info info;
	int rc = savefile_read(path, &info, msg, sizeof(msg));
	if (rc == 0) {
		if (!info.config || strlen(info.config) + 1 != info.config_len)
			abort();
		savefile_info_free(&info);
	} else if (rc != HV_EBADIMG || !msg[0]) {
		abort();
	}
	rc = savefile_image_check(path, msg, sizeof(msg));
	if (rc != 0 && rc != HV_EBADIMG)
		abort();

	char *json = malloc(size + 1);
	if (!json)
		abort();
	memcpy(json, data, size);
	json[size] = '\0';
	char out[64];
	(void)savefile_json_get(json, "c_info", "name", out, sizeof(out));
	char q[128];
	(void)savefile_json_quote(json, q, sizeof(q));
	free(json);
	return 0;
}
