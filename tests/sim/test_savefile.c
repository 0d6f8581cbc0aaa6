/* SPDX-License-Identifier: ISC */
/* Unit tests of the xl save-file module (src/hv/savefile.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/hv_port.h"
#include "hv/savefile.h"

static const char config_json[] =
	"{\"c_info\":{\"type\":\"pv\",\"name\":\"web\",\"uuid\":\"x\"},"
	"\"b_info\":{\"max_memkb\":262144,\"target_memkb\":262144,\"list\":[1,{\"name\":\"no\"}]}}";

struct dir {
	char path[64];
	char file[128];
};

static int dir_setup(void **state)
{
	struct dir *d = calloc(1, sizeof(*d));
	snprintf(d->path, sizeof(d->path), "/tmp/xd-savefile-XXXXXX");
	assert_non_null(mkdtemp(d->path));
	snprintf(d->file, sizeof(d->file), "%s/web.save", d->path);
	*state = d;
	return 0;
}

static int dir_teardown(void **state)
{
	struct dir *d = *state;
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", d->path);
	assert_int_equal(system(cmd), 0);
	free(d);
	return 0;
}

static bool exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0;
}

static void write_valid(const char *path, const char *json)
{
	struct savefile_tx tx;
	char msg[HV_MSG_MAX] = "";
	assert_int_equal(savefile_tx_begin(&tx, path, msg, sizeof(msg)), 0);
	assert_int_equal(savefile_write_header(tx.fd, json, msg, sizeof(msg)), 0);
	assert_int_equal(savefile_write_fake_stream(tx.fd, "xendomd!", msg, sizeof(msg)), 0);
	assert_int_equal(savefile_tx_commit(&tx, msg, sizeof(msg)), 0);
}

static off_t file_size(const char *path)
{
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	return st.st_size;
}

/* Overwrite a 32-bit field of the file at off. */
static void poke32(const char *path, off_t off, uint32_t v)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, &v, sizeof(v), off), (ssize_t)sizeof(v));
	close(fd);
}

static void expect_bad(const char *path, const char *reason)
{
	char msg[HV_MSG_MAX] = "";
	assert_int_equal(savefile_image_check(path, msg, sizeof(msg)), HV_EBADIMG);
	if (!strstr(msg, reason) || !strstr(msg, path))
		fail_msg("reason '%s' lacks '%s' or the file name", msg, reason);
}

static void round_trip(void **state)
{
	struct dir *d = *state;
	write_valid(d->file, config_json);
	char tmp[160];
	snprintf(tmp, sizeof(tmp), "%s.tmp", d->file);
	assert_false(exists(tmp));

	char msg[HV_MSG_MAX] = "";
	assert_int_equal(savefile_image_check(d->file, msg, sizeof(msg)), 0);
	struct savefile_info info;
	assert_int_equal(savefile_read(d->file, &info, msg, sizeof(msg)), 0);
	assert_string_equal(info.name, "web");
	assert_string_equal(info.config, config_json);
	assert_int_equal(info.config_len, sizeof(config_json));
	assert_int_equal(info.mandatory_flags, SAVEFILE_FLAG_JSON | SAVEFILE_FLAG_STREAMV2);
	assert_int_equal(info.stream_offset, SAVEFILE_HEADER_LEN + 4 + sizeof(config_json));
	assert_int_equal(info.size, (uint64_t)file_size(d->file));
	savefile_info_free(&info);

	/* The first 16 bytes are what Debian's xendomains greps for. */
	char head[17] = "";
	int fd = open(d->file, O_RDONLY | O_CLOEXEC);
	assert_int_equal(read(fd, head, 16), 16);
	close(fd);
	assert_string_equal(head, "Xen saved domain");
}

static void missing_file_is_enoent(void **state)
{
	struct dir *d = *state;
	char msg[HV_MSG_MAX] = "";
	assert_int_equal(savefile_image_check(d->file, msg, sizeof(msg)), HV_ENOENT);
	assert_non_null(strstr(msg, d->file));
	struct savefile_info info;
	assert_int_equal(savefile_read(d->file, &info, msg, sizeof(msg)), HV_ENOENT);
}

static void not_a_regular_file(void **state)
{
	struct dir *d = *state;
	assert_int_equal(mkfifo(d->file, 0600), 0);     /* would block a plain open() */
	expect_bad(d->file, "not a regular file");
	expect_bad(d->path, "not a regular file");
}

static void truncated_anywhere_is_refused(void **state)
{
	struct dir *d = *state;
	write_valid(d->file, config_json);
	off_t size = file_size(d->file);
	off_t stream = SAVEFILE_HEADER_LEN + 4 + (off_t)sizeof(config_json);
	const struct { off_t at; const char *reason; } cuts[] = {
		{ 0, "truncated header" },
		{ 20, "truncated header" },
		{ SAVEFILE_HEADER_LEN, "truncated: optional data" },
		{ SAVEFILE_HEADER_LEN + 10, "truncated: optional data" },
		{ stream - 1, "truncated: optional data" },
		{ stream, "no room for a libxl stream" },
		{ stream + 20, "no room for a libxl stream" },
		{ size - 8, "cut off" },
		{ size - 1, "cut off" },
	};
	for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
		write_valid(d->file, config_json);
		assert_int_equal(truncate(d->file, cuts[i].at), 0);
		expect_bad(d->file, cuts[i].reason);
	}
}

static void bad_magic(void **state)
{
	struct dir *d = *state;
	write_valid(d->file, config_json);
	poke32(d->file, 0, 0x21212121);
	expect_bad(d->file, "bad magic");
}

static void wrong_byte_order(void **state)
{
	struct dir *d = *state;
	write_valid(d->file, config_json);
	poke32(d->file, 32, 0x04030201);
	expect_bad(d->file, "wrong byte order");
}

static void unknown_mandatory_flag(void **state)
{
	struct dir *d = *state;
	write_valid(d->file, config_json);
	poke32(d->file, 36, SAVEFILE_FLAG_JSON | SAVEFILE_FLAG_STREAMV2 | (1u << 2));
	expect_bad(d->file, "unknown mandatory flags 0x4");
}

static void unknown_optional_flag_is_ignored_like_xl(void **state)
{
	struct dir *d = *state;
	write_valid(d->file, config_json);
	poke32(d->file, 40, 0x80);
	char msg[HV_MSG_MAX] = "";
	assert_int_equal(savefile_image_check(d->file, msg, sizeof(msg)), 0);
}

static void config_not_json(void **state)
{
	struct dir *d = *state;
	write_valid(d->file, config_json);
	poke32(d->file, 36, SAVEFILE_FLAG_STREAMV2);
	expect_bad(d->file, "not JSON");
}

static void absurd_lengths(void **state)
{
	struct dir *d = *state;
	write_valid(d->file, config_json);
	poke32(d->file, 44, 0xffffffffu);          /* optional_data_len */
	expect_bad(d->file, "out of range");
	write_valid(d->file, config_json);
	poke32(d->file, 44, 2);
	expect_bad(d->file, "out of range");
	write_valid(d->file, config_json);
	poke32(d->file, 48, 0xfffffff0u);          /* config_len */
	expect_bad(d->file, "does not fit");
	write_valid(d->file, config_json);
	poke32(d->file, 48, 0);
	expect_bad(d->file, "does not fit");
	/* within the file but larger than any config */
	write_valid(d->file, config_json);
	assert_int_equal(truncate(d->file, SAVEFILE_OPTDATA_MAX + 4096), 0);
	poke32(d->file, 44, SAVEFILE_OPTDATA_MAX + 1);
	expect_bad(d->file, "out of range");
}

static void config_shape(void **state)
{
	struct dir *d = *state;
	write_valid(d->file, "{\"c_info\":{\"type\":\"pv\"}}");
	expect_bad(d->file, "no usable c_info.name");
	write_valid(d->file, "{\"c_info\":{\"name\":\"web\"");
	expect_bad(d->file, "no usable c_info.name");
	/* a NUL inside the config */
	write_valid(d->file, config_json);
	int fd = open(d->file, O_WRONLY | O_CLOEXEC);
	assert_int_equal(pwrite(fd, "", 1, SAVEFILE_HEADER_LEN + 4 + 3), 1);
	close(fd);
	expect_bad(d->file, "NUL-terminated");
}

static void stream_checks(void **state)
{
	struct dir *d = *state;
	off_t stream = SAVEFILE_HEADER_LEN + 4 + (off_t)sizeof(config_json);
	write_valid(d->file, config_json);
	char msg[HV_MSG_MAX] = "";
	poke32(d->file, stream, 0x12345678);
	expect_bad(d->file, "no libxl stream");
	write_valid(d->file, config_json);
	poke32(d->file, stream + 8, 0x03000000);      /* version 3, big-endian */
	expect_bad(d->file, "unsupported libxl stream version 3");
	/* A legacy (v1) stream cannot be checked; the header alone decides. */
	write_valid(d->file, config_json);
	poke32(d->file, 36, SAVEFILE_FLAG_JSON);
	assert_int_equal(truncate(d->file, stream + 3), 0);
	assert_int_equal(savefile_image_check(d->file, msg, sizeof(msg)), 0);
}

static void cut_off_save_leaves_no_valid_file(void **state)
{
	struct dir *d = *state;
	char tmp[160], msg[HV_MSG_MAX] = "";
	snprintf(tmp, sizeof(tmp), "%s.tmp", d->file);
	struct savefile_tx tx;

	/* Aborted half-way: nothing at all is left. */
	assert_int_equal(savefile_tx_begin(&tx, d->file, msg, sizeof(msg)), 0);
	assert_int_equal(savefile_write_header(tx.fd, config_json, msg, sizeof(msg)), 0);
	assert_true(exists(tmp));
	savefile_tx_abort(&tx);
	assert_false(exists(tmp));
	assert_false(exists(d->file));

	/* The process dies half-way: only the temporary name exists, and it
	 * is not a valid image either. */
	assert_int_equal(savefile_tx_begin(&tx, d->file, msg, sizeof(msg)), 0);
	assert_int_equal(savefile_write_header(tx.fd, config_json, msg, sizeof(msg)), 0);
	close(tx.fd);
	assert_int_equal(savefile_image_check(d->file, msg, sizeof(msg)), HV_ENOENT);
	assert_int_equal(savefile_image_check(tmp, msg, sizeof(msg)), HV_EBADIMG);

	/* Its leftover blocks the next save rather than being clobbered. */
	struct savefile_tx tx2;
	assert_int_equal(savefile_tx_begin(&tx2, d->file, msg, sizeof(msg)), -1);
	assert_non_null(strstr(msg, "exists"));
	assert_non_null(strstr(msg, tmp));
	savefile_tx_abort(&tx);    /* frees the first tx and removes tmp */
	assert_false(exists(tmp));

	/* A save replacing an older image leaves the old one until commit. */
	write_valid(d->file, config_json);
	assert_int_equal(savefile_tx_begin(&tx, d->file, msg, sizeof(msg)), 0);
	assert_int_equal(savefile_write_header(tx.fd, "{\"c_info\":{\"name\":\"new\"}}", msg,
					       sizeof(msg)), 0);
	struct savefile_info info;
	assert_int_equal(savefile_read(d->file, &info, msg, sizeof(msg)), 0);
	assert_string_equal(info.name, "web");
	savefile_info_free(&info);
	assert_int_equal(savefile_write_fake_stream(tx.fd, "m", msg, sizeof(msg)), 0);
	assert_int_equal(savefile_tx_commit(&tx, msg, sizeof(msg)), 0);
	assert_int_equal(savefile_read(d->file, &info, msg, sizeof(msg)), 0);
	assert_string_equal(info.name, "new");
	savefile_info_free(&info);
}

static void tx_begin_in_missing_dir_fails(void **state)
{
	struct dir *d = *state;
	char path[192], msg[HV_MSG_MAX] = "";
	snprintf(path, sizeof(path), "%s/nodir/x.save", d->path);
	struct savefile_tx tx;
	assert_int_equal(savefile_tx_begin(&tx, path, msg, sizeof(msg)), -1);
	assert_non_null(strstr(msg, "nodir/x.save.tmp"));
	assert_non_null(strstr(msg, "No such file"));
	assert_int_equal(tx.fd, -1);
}

static void too_large_config_is_refused_when_writing(void **state)
{
	(void)state;
	size_t n = SAVEFILE_CONFIG_MAX + 1;
	char *big = malloc(n);
	memset(big, 'a', n - 1);
	big[n - 1] = '\0';
	int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	char msg[HV_MSG_MAX] = "";
	assert_int_equal(savefile_write_header(fd, big, msg, sizeof(msg)), -1);
	assert_non_null(strstr(msg, "too large"));
	close(fd);
	free(big);
}

static void json_get(void **state)
{
	(void)state;
	char out[64];
	assert_int_equal(savefile_json_get(config_json, "c_info", "name", out, sizeof(out)), 0);
	assert_string_equal(out, "web");
	assert_int_equal(savefile_json_get(config_json, "b_info", "target_memkb", out, sizeof(out)), 0);
	assert_string_equal(out, "262144");
	/* only the named top-level object counts */
	assert_int_equal(savefile_json_get("{\"b_info\":{\"c_info\":{\"name\":\"x\"}}}", "c_info",
					   "name", out, sizeof(out)), -1);
	assert_int_equal(savefile_json_get(config_json, "c_info", "nope", out, sizeof(out)), -1);
	/* escapes */
	assert_int_equal(savefile_json_get("{ \"c_info\" : { \"name\" : \"a\\\"b\\\\c\\u0041\\u00e9\" } }",
					   "c_info", "name", out, sizeof(out)), 0);
	assert_string_equal(out, "a\"b\\cA\xc3\xa9");
	/* hostile or malformed input */
	assert_int_equal(savefile_json_get("{\"c_info\":{\"name\":\"a\\u0000\"}}", "c_info", "name",
					   out, sizeof(out)), -1);
	assert_int_equal(savefile_json_get("{\"c_info\":{\"name\":\"ab\"}} trailing", "c_info", "name",
					   out, sizeof(out)), -1);
	assert_int_equal(savefile_json_get("{\"c_info\":{\"name\":\"a\nb\"}}", "c_info", "name",
					   out, sizeof(out)), -1);
	assert_int_equal(savefile_json_get("{\"c_info\":{\"name\":\"abcdef\"}}", "c_info", "name",
					   out, 4), -1);
	assert_int_equal(savefile_json_get("", "c_info", "name", out, sizeof(out)), -1);
	/* deep nesting is refused, not recursed into without bound */
	size_t depth = 100000;
	char *deep = malloc(2 * depth + 64);
	char *p = deep + sprintf(deep, "{\"x\":");
	memset(p, '[', depth);
	memset(p + depth, ']', depth);
	strcpy(p + 2 * depth, ",\"c_info\":{\"name\":\"w\"}}");
	assert_int_equal(savefile_json_get(deep, "c_info", "name", out, sizeof(out)), -1);
	free(deep);
}

static void json_quote(void **state)
{
	(void)state;
	char q[64], json[128], out[64];
	assert_int_equal(savefile_json_quote("we\"b\\\x01", q, sizeof(q)), 15);
	assert_string_equal(q, "\"we\\\"b\\\\\\u0001\"");
	snprintf(json, sizeof(json), "{\"c_info\":{\"name\":%s}}", q);
	assert_int_equal(savefile_json_get(json, "c_info", "name", out, sizeof(out)), 0);
	assert_string_equal(out, "we\"b\\\x01");
	assert_int_equal(savefile_json_quote("abcdef", q, 9), 8);
	assert_int_equal(savefile_json_quote("abcdef", q, 8), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(round_trip, dir_setup, dir_teardown),
		cmocka_unit_test_setup_teardown(missing_file_is_enoent, dir_setup, dir_teardown),
		cmocka_unit_test_setup_teardown(not_a_regular_file, dir_setup, dir_teardown),
		cmocka_unit_test_setup_teardown(truncated_anywhere_is_refused, dir_setup, dir_teardown),
		cmocka_unit_test_setup_teardown(bad_magic, dir_setup, dir_teardown),
		cmocka_unit_test_setup_teardown(wrong_byte_order, dir_setup, dir_teardown),
		cmocka_unit_test_setup_teardown(unknown_mandatory_flag, dir_setup, dir_teardown),
		cmocka_unit_test_setup_teardown(unknown_optional_flag_is_ignored_like_xl, dir_setup, dir_teardown),
		cmocka_unit_test_setup_teardown(config_not_json, dir_setup, dir_teardown),
		cmocka_unit_test_setup_teardown(absurd_lengths, dir_setup, dir_teardown),
		cmocka_unit_test_setup_teardown(config_shape, dir_setup, dir_teardown),
		cmocka_unit_test_setup_teardown(stream_checks, dir_setup, dir_teardown),
		cmocka_unit_test_setup_teardown(cut_off_save_leaves_no_valid_file, dir_setup, dir_teardown),
		cmocka_unit_test_setup_teardown(tx_begin_in_missing_dir_fails, dir_setup, dir_teardown),
		cmocka_unit_test(too_large_config_is_refused_when_writing),
		cmocka_unit_test(json_get),
		cmocka_unit_test(json_quote),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
