/* SPDX-License-Identifier: ISC */
/*
 * xl's save-file format (xen tools/xl/xl_saverestore.c), shared by every backend so a
 * file saved by one is restored by the other and by `xl restore`:
 *
 *   struct header (48 bytes, host byte order)
 *     char     magic[32]          "Xen saved domain, xl format\n \0 \r"
 *     uint32_t byteorder          0x01020304
 *     uint32_t mandatory_flags    JSON | STREAMv2 (unknown bits: refuse)
 *     uint32_t optional_flags     0 (xl ignores them, so do we)
 *     uint32_t optional_data_len  4 + config_len
 *   optional data
 *     uint32_t config_len         including the trailing NUL
 *     char     config[config_len] libxl_domain_config as JSON
 *   the libxl v2 migration stream
 *     "LibxlFmt" ident, version 2 (big-endian), records ..., END record
 *
 * Reading is bounded: a hostile or corrupt file never makes us allocate
 * more than SAVEFILE_OPTDATA_MAX.
 *
 * Writing follows one discipline (savefile_tx_*): the image goes to
 * "<file>.tmp" (O_EXCL), is fsync'ed, renamed over <file>, and the
 * directory is fsync'ed; any failure removes the temporary file.  So a
 * cut-off save never leaves a file under the final name.
 */
#ifndef XD_SAVEFILE_H
#define XD_SAVEFILE_H

#include <stddef.h>
#include <stdint.h>

#include "core/config.h"

#define SAVEFILE_MAGIC_LEN 32
#define SAVEFILE_HEADER_LEN 48
#define SAVEFILE_BYTEORDER 0x01020304u
#define SAVEFILE_FLAG_JSON (1u << 0)
#define SAVEFILE_FLAG_STREAMV2 (1u << 1)
#define SAVEFILE_FLAGS_KNOWN (SAVEFILE_FLAG_JSON | SAVEFILE_FLAG_STREAMV2)

/* Real configs are a few KiB; anything near this is corrupt. */
#define SAVEFILE_CONFIG_MAX (1u << 20)
#define SAVEFILE_OPTDATA_MAX (SAVEFILE_CONFIG_MAX + 4u)

/* What a valid header says. */
struct savefile_info {
	uint32_t mandatory_flags;
	char *config;                /* malloc'ed JSON, NUL-terminated */
	size_t config_len;           /* strlen(config) + 1 */
	char name[XD_NAME_MAX];      /* c_info.name */
	uint64_t stream_offset;      /* where the libxl stream begins */
	uint64_t size;               /* of the whole file */
};

/* Read and validate the header and config of path.  Returns 0, HV_ENOENT
 * (no such file) or HV_EBADIMG; msg gets the reason either way.  On
 * success free the info with savefile_info_free(). */
int savefile_read(const char *path, struct savefile_info *info, char *msg, size_t msglen);
void savefile_info_free(struct savefile_info *info);

/* The check every backend's image_check() is: the header and config as
 * above, plus (v2 streams) a libxl stream header after the config and an
 * END record (8 zero bytes) as the file's last 8 bytes, which a cut-off
 * `xl save` almost always lacks - not when the cut falls just after a run
 * of zero bytes, so the atomic writing below stays the real protection.
 * 0, HV_ENOENT or HV_EBADIMG with the reason in msg. */
int savefile_image_check(const char *path, char *msg, size_t msglen);
/* The same check; a valid image's domain name (c_info.name) in name. */
int savefile_image_name(const char *path, char *name, size_t namelen, char *msg, size_t msglen);

/* Write the header and json (config incl. its NUL) at fd's position.
 * 0, or -1 with msg. */
int savefile_write_header(int fd, const char *json, char *msg, size_t msglen);

/* A minimal libxl v2 stream: header, one private record carrying marker,
 * END.  Passes savefile_image_check(); real Xen cannot restore it.  Used
 * by the simulator and by tests. */
int savefile_write_fake_stream(int fd, const char *marker, char *msg, size_t msglen);

/* Find the value of "key" inside the top-level object "object" of a JSON
 * document (e.g. "c_info", "name").  Strings are unescaped; numbers and
 * literals are copied as written.  0, or -1 when absent, malformed or
 * longer than outlen - 1. */
int savefile_json_get(const char *json, const char *object, const char *key,
		      char *out, size_t outlen);
/* Write s as a JSON string literal (quotes included) into out.  Returns
 * the length, or -1 if it does not fit. */
int savefile_json_quote(const char *s, char *out, size_t outlen);

/* Atomic writing of a save image. */
struct savefile_tx {
	int fd;                      /* write the image here */
	char *path, *tmp;
};
int savefile_tx_begin(struct savefile_tx *tx, const char *path, char *msg, size_t msglen);
/* fsync, rename, fsync the directory.  0, or -1 with msg (then nothing is
 * left behind).  Either way the tx is finished. */
int savefile_tx_commit(struct savefile_tx *tx, char *msg, size_t msglen);
/* Give up: close and remove the temporary file. */
void savefile_tx_abort(struct savefile_tx *tx);

#endif
