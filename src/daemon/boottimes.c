/* SPDX-License-Identifier: ISC */
/* <state_dir>/boot-times (boottimes.h). */
#include "daemon/boottimes.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/alloc.h"
#include "util/parse.h"

static void parse_line(char *line, const struct xd_config *cfg, uint64_t *measured)
{
	char *save = NULL;
	const char *name = strtok_r(line, " \t\r\n", &save);
	const char *ms = strtok_r(NULL, " \t\r\n", &save);
	uint64_t v;
	if (!name || name[0] == '#' || !ms || strtok_r(NULL, " \t\r\n", &save))
		return;
	if (!xd_parse_u64(ms, &v) || v == 0 || v > XD_BOOTTIME_MAX_MS)
		return;
	long i = xd_config_find(cfg, name);
	if (i >= 0)
		measured[i] = v;
}

int xd_boottimes_read(const char *state_dir, const struct xd_config *cfg, uint64_t *measured)
{
	memset(measured, 0, cfg->n_domains * sizeof(*measured));
	char *path = xd_asprintf("%s/%s", state_dir, XD_BOOTTIMES_FILE);
	FILE *f = fopen(path, "re");
	free(path);
	if (!f)
		return errno == ENOENT ? 0 : -1;
	char *line = NULL;
	size_t cap = 0, bytes = 0;
	ssize_t len;
	for (unsigned n = 0; n < XD_BOOTTIMES_MAX && bytes < XD_BOOTTIMES_MAX_BYTES &&
	     (len = getline(&line, &cap, f)) >= 0; n++) {
		bytes += (size_t)len;
		parse_line(line, cfg, measured);
	}
	int rc = ferror(f) ? -1 : 0;
	free(line);
	fclose(f);
	return rc;
}

static int fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	int rc = fsync(fd);
	close(fd);
	return rc;
}

static int write_entries(FILE *f, const struct xd_config *cfg, const uint64_t *measured)
{
	unsigned n = 0;
	fprintf(f, "# xendomd boot-times: NAME MS (start to ready at the last boot that measured it)\n");
	for (size_t i = 0; i < cfg->n_domains && n < XD_BOOTTIMES_MAX; i++)
		if (measured[i]) {
			fprintf(f, "%s %llu\n", cfg->domains[i].name, (unsigned long long)measured[i]);
			n++;
		}
	return fflush(f) == 0 && fsync(fileno(f)) == 0 ? 0 : -1;
}

int xd_boottimes_write(const char *state_dir, const struct xd_config *cfg,
		       const uint64_t *measured)
{
	char *path = xd_asprintf("%s/%s", state_dir, XD_BOOTTIMES_FILE);
	char *tmp = xd_asprintf("%s.tmp", path);
	int rc = -1, fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (fd >= 0 && !f)
		close(fd);
	if (f) {
		rc = write_entries(f, cfg, measured);
		if (fclose(f) != 0)
			rc = -1;
		if (rc == 0)
			rc = rename(tmp, path);
		if (rc == 0)
			rc = fsync_dir(state_dir);
		else
			unlink(tmp);
	}
	int saved = errno;
	free(path);
	free(tmp);
	errno = saved;
	return rc;
}

char *xd_boottimes_plan_text(char *text, const struct xd_config *cfg, const struct xd_plan *p)
{
	uint64_t *ms = xd_calloc(cfg->n_domains + 1, sizeof(*ms));
	if (xd_boottimes_read(cfg->global.state_dir, cfg, ms) < 0)
		memset(ms, 0, cfg->n_domains * sizeof(*ms));
	char *more = xd_plan_format_makespan(cfg, p, ms);
	int saved = errno;
	char *all = more ? xd_asprintf("%s%s", text, more) : NULL;
	free(ms);
	free(more);
	free(text);
	errno = saved;
	return all;
}
