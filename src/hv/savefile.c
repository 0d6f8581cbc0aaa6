/* SPDX-License-Identifier: ISC */
/* xl save files: header, config, stream sanity, atomic writing. */
#include "hv/savefile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/hv_port.h"
#include "util/alloc.h"

static const char savefile_magic[SAVEFILE_MAGIC_LEN] = "Xen saved domain, xl format\n \0 \r";

/* libxl migration stream v2 (docs/specs/libxl-migration-stream.pandoc):
 * a 16-byte big-endian header, then 8-byte-aligned records whose header
 * is (type, length) in the stream's byte order; the last is END (0, 0). */
#define LIBXL_STREAM_IDENT 0x4c6962786c466d74ull   /* "LibxlFmt" */
#define LIBXL_STREAM_VERSION 2u
#define LIBXL_STREAM_OPT_BIG_ENDIAN 1u
#define LIBXL_STREAM_HDR_LEN 16
#define LIBXL_REC_HDR_LEN 8
/* A record type outside libxl's range, for the simulator's marker. */
#define SIM_REC_MARKER 0x80584d44u

struct raw_header {
	char magic[SAVEFILE_MAGIC_LEN];
	uint32_t byteorder;
	uint32_t mandatory_flags;
	uint32_t optional_flags;
	uint32_t optional_data_len;
};
_Static_assert(sizeof(struct raw_header) == SAVEFILE_HEADER_LEN, "xl header layout");

static void say(char *msg, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void say(char *msg, size_t len, const char *fmt, ...)
{
	if (!msg || !len)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, len, fmt, ap);
	va_end(ap);
}

static int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	while (len) {
		ssize_t w = write(fd, p, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

/* Bytes read (fewer only at end of file), or -1. */
static ssize_t pread_full(int fd, void *buf, size_t len, off_t off)
{
	size_t got = 0;
	while (got < len) {
		ssize_t r = pread(fd, (char *)buf + got, len - got, off + (off_t)got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0)
			break;
		got += (size_t)r;
	}
	return (ssize_t)got;
}

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t be64(const unsigned char *p)
{
	return (uint64_t)be32(p) << 32 | be32(p + 4);
}

static void put_be32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

/* ---- minimal JSON walking: enough to find c_info.name ---- */

#define JSON_DEPTH_MAX 64

struct jp {
	const char *s;
};

static void jp_ws(struct jp *p)
{
	while (*p->s == ' ' || *p->s == '\t' || *p->s == '\n' || *p->s == '\r')
		p->s++;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Append one byte to out (NULL = just validate); *fits goes false when
 * out is too small. */
static void put_byte(char *out, size_t outlen, size_t *n, bool *fits, char c)
{
	if (out && *n + 1 < outlen)
		out[*n] = c;
	else
		*fits = false;
	(*n)++;
}

static bool jp_escape(struct jp *p, char *out, size_t outlen, size_t *n, bool *fits)
{
	char c = *p->s++;
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	const char *e = c ? strchr(from, c) : NULL;
	if (e) {
		put_byte(out, outlen, n, fits, to[e - from]);
		return true;
	}
	if (c != 'u')
		return false;
	unsigned cp = 0;
	for (int i = 0; i < 4; i++) {
		int h = hexval(*p->s++);
		if (h < 0)
			return false;
		cp = cp << 4 | (unsigned)h;
	}
	if (cp == 0 || (cp >= 0xd800 && cp <= 0xdfff))
		return false;          /* NUL or a surrogate: not a name */
	if (cp < 0x80) {
		put_byte(out, outlen, n, fits, (char)cp);
	} else if (cp < 0x800) {
		put_byte(out, outlen, n, fits, (char)(0xc0 | cp >> 6));
		put_byte(out, outlen, n, fits, (char)(0x80 | (cp & 0x3f)));
	} else {
		put_byte(out, outlen, n, fits, (char)(0xe0 | cp >> 12));
		put_byte(out, outlen, n, fits, (char)(0x80 | ((cp >> 6) & 0x3f)));
		put_byte(out, outlen, n, fits, (char)(0x80 | (cp & 0x3f)));
	}
	return true;
}

/* A string at p->s; unescaped into out (NUL-terminated) when out is given. */
static bool jp_string(struct jp *p, char *out, size_t outlen, bool *fits)
{
	if (*p->s != '"')
		return false;
	p->s++;
	size_t n = 0;
	*fits = true;
	for (;;) {
		unsigned char c = (unsigned char)*p->s;
		if (c == '"')
			break;
		if (c < 0x20)
			return false;  /* raw control character or end of input */
		p->s++;
		if (c == '\\') {
			if (!jp_escape(p, out, outlen, &n, fits))
				return false;
		} else {
			put_byte(out, outlen, &n, fits, (char)c);
		}
	}
	p->s++;
	if (out && outlen)
		out[*fits ? n : 0] = '\0';
	return true;
}

static bool jp_value(struct jp *p, int depth);

/* Walk an object's members; at each key, call at(key, p) which must
 * consume the value.  Keys longer than a name never match anything. */
typedef bool jp_member_fn(const char *key, struct jp *p, int depth, void *arg);

static bool jp_object(struct jp *p, int depth, jp_member_fn *at, void *arg)
{
	if (*p->s != '{' || depth > JSON_DEPTH_MAX)
		return false;
	p->s++;
	jp_ws(p);
	if (*p->s == '}') {
		p->s++;
		return true;
	}
	for (;;) {
		char key[XD_NAME_MAX];
		bool fits;
		jp_ws(p);
		if (!jp_string(p, key, sizeof(key), &fits))
			return false;
		jp_ws(p);
		if (*p->s++ != ':')
			return false;
		jp_ws(p);
		if (!(fits ? at(key, p, depth, arg) : jp_value(p, depth + 1)))
			return false;
		jp_ws(p);
		if (*p->s == '}') {
			p->s++;
			return true;
		}
		if (*p->s++ != ',')
			return false;
	}
}

static bool skip_member(const char *key, struct jp *p, int depth, void *arg)
{
	(void)key;
	(void)arg;
	return jp_value(p, depth + 1);
}

static bool jp_array(struct jp *p, int depth)
{
	if (depth > JSON_DEPTH_MAX)
		return false;
	p->s++;
	jp_ws(p);
	if (*p->s == ']') {
		p->s++;
		return true;
	}
	for (;;) {
		jp_ws(p);
		if (!jp_value(p, depth + 1))
			return false;
		jp_ws(p);
		if (*p->s == ']') {
			p->s++;
			return true;
		}
		if (*p->s++ != ',')
			return false;
	}
}

/* A number or true/false/null: the span of its characters. */
static bool jp_scalar(struct jp *p, const char **start, size_t *len)
{
	*start = p->s;
	while (*p->s && strchr("+-.0123456789eEtruefalsn", *p->s))
		p->s++;
	*len = (size_t)(p->s - *start);
	return *len > 0;
}

static bool jp_value(struct jp *p, int depth)
{
	const char *start;
	size_t len;
	bool fits;
	switch (*p->s) {
	case '{': return jp_object(p, depth, skip_member, NULL);
	case '[': return jp_array(p, depth);
	case '"': return jp_string(p, NULL, 0, &fits);
	default: return jp_scalar(p, &start, &len);
	}
}

struct jp_query {
	const char *object, *key;
	char *out;
	size_t outlen;
	bool found;
};

/* A value we want: copy it out. */
static bool take_value(struct jp *p, struct jp_query *q)
{
	if (*p->s == '"') {
		bool fits;
		if (!jp_string(p, q->out, q->outlen, &fits))
			return false;
		q->found = fits;
		return true;
	}
	if (*p->s == '{' || *p->s == '[')
		return jp_value(p, 1);
	const char *start;
	size_t len;
	if (!jp_scalar(p, &start, &len))
		return false;
	if (len < q->outlen) {
		memcpy(q->out, start, len);
		q->out[len] = '\0';
		q->found = true;
	}
	return true;
}

static bool inner_member(const char *key, struct jp *p, int depth, void *arg)
{
	struct jp_query *q = arg;
	if (!q->found && strcmp(key, q->key) == 0)
		return take_value(p, q);
	return jp_value(p, depth + 1);
}

static bool outer_member(const char *key, struct jp *p, int depth, void *arg)
{
	struct jp_query *q = arg;
	if (strcmp(key, q->object) == 0 && *p->s == '{')
		return jp_object(p, depth + 1, inner_member, q);
	return jp_value(p, depth + 1);
}

int savefile_json_get(const char *json, const char *object, const char *key,
		      char *out, size_t outlen)
{
	struct jp p = { .s = json };
	struct jp_query q = { .object = object, .key = key, .out = out, .outlen = outlen };
	if (!outlen)
		return -1;
	jp_ws(&p);
	if (!jp_object(&p, 0, outer_member, &q))
		return -1;
	jp_ws(&p);
	return q.found && *p.s == '\0' ? 0 : -1;
}

int savefile_json_quote(const char *s, char *out, size_t outlen)
{
	size_t n = 0;
	bool fits = true;
	put_byte(out, outlen, &n, &fits, '"');
	for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
		char esc[8];
		if (*c == '"' || *c == '\\') {
			put_byte(out, outlen, &n, &fits, '\\');
			put_byte(out, outlen, &n, &fits, (char)*c);
		} else if (*c < 0x20) {
			snprintf(esc, sizeof(esc), "\\u%04x", *c);
			for (char *e = esc; *e; e++)
				put_byte(out, outlen, &n, &fits, *e);
		} else {
			put_byte(out, outlen, &n, &fits, (char)*c);
		}
	}
	put_byte(out, outlen, &n, &fits, '"');
	if (!fits)
		return -1;
	out[n] = '\0';
	return (int)n;
}

/* ---- reading ---- */

void savefile_info_free(struct savefile_info *info)
{
	free(info->config);
	info->config = NULL;
}

static int check_header(const struct raw_header *h, uint64_t size, char *msg, size_t msglen)
{
	if (memcmp(h->magic, savefile_magic, sizeof(h->magic)) != 0) {
		say(msg, msglen, "not an xl save file (bad magic)");
		return HV_EBADIMG;
	}
	if (h->byteorder != SAVEFILE_BYTEORDER) {
		say(msg, msglen, "wrong byte order 0x%08x (saved on a host of another endianness?)",
		    h->byteorder);
		return HV_EBADIMG;
	}
	if (h->mandatory_flags & ~SAVEFILE_FLAGS_KNOWN) {
		say(msg, msglen, "unknown mandatory flags 0x%x (saved by a newer xl?)",
		    h->mandatory_flags & ~SAVEFILE_FLAGS_KNOWN);
		return HV_EBADIMG;
	}
	if (!(h->mandatory_flags & SAVEFILE_FLAG_JSON)) {
		say(msg, msglen, "config is not JSON (saved by an old xl; restore it with xl)");
		return HV_EBADIMG;
	}
	if (h->optional_data_len < 4 || h->optional_data_len > SAVEFILE_OPTDATA_MAX) {
		say(msg, msglen, "optional data length %u out of range (4..%u)",
		    h->optional_data_len, SAVEFILE_OPTDATA_MAX);
		return HV_EBADIMG;
	}
	if (h->optional_data_len > size - SAVEFILE_HEADER_LEN) {
		say(msg, msglen, "truncated: optional data of %u bytes, file has %llu after the header",
		    h->optional_data_len, (unsigned long long)(size - SAVEFILE_HEADER_LEN));
		return HV_EBADIMG;
	}
	return 0;
}

/* The optional data: config_len, then the NUL-terminated JSON config. */
static int parse_optdata(const unsigned char *opt, uint32_t optlen, struct savefile_info *info,
			 char *msg, size_t msglen)
{
	uint32_t config_len;
	memcpy(&config_len, opt, sizeof(config_len));
	if (config_len == 0 || config_len > optlen - 4) {
		say(msg, msglen, "config length %u does not fit the optional data (%u bytes)",
		    config_len, optlen - 4);
		return HV_EBADIMG;
	}
	const char *json = (const char *)opt + 4;
	if (memchr(json, '\0', config_len) != json + config_len - 1) {
		say(msg, msglen, "config is not a single NUL-terminated string");
		return HV_EBADIMG;
	}
	if (savefile_json_get(json, "c_info", "name", info->name, sizeof(info->name)) != 0 ||
	    !info->name[0]) {
		say(msg, msglen, "config has no usable c_info.name");
		return HV_EBADIMG;
	}
	info->config = xd_malloc0(config_len);
	memcpy(info->config, json, config_len);
	info->config_len = config_len;
	return 0;
}

static int read_open(int fd, struct savefile_info *info, char *msg, size_t msglen)
{
	struct stat st;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		say(msg, msglen, "not a regular file");
		return HV_EBADIMG;
	}
	info->size = (uint64_t)st.st_size;
	struct raw_header h;
	ssize_t got = pread_full(fd, &h, sizeof(h), 0);
	if (got < 0) {
		say(msg, msglen, "read: %s", strerror(errno));
		return HV_EBADIMG;
	}
	if ((size_t)got < sizeof(h)) {
		say(msg, msglen, "truncated header (%zd of %d bytes)", got, SAVEFILE_HEADER_LEN);
		return HV_EBADIMG;
	}
	int rc = check_header(&h, info->size, msg, msglen);
	if (rc)
		return rc;
	unsigned char *opt = xd_malloc0(h.optional_data_len);   /* <= SAVEFILE_OPTDATA_MAX */
	got = pread_full(fd, opt, h.optional_data_len, SAVEFILE_HEADER_LEN);
	if (got != (ssize_t)h.optional_data_len) {
		say(msg, msglen, "truncated optional data");
		rc = HV_EBADIMG;
	} else {
		rc = parse_optdata(opt, h.optional_data_len, info, msg, msglen);
	}
	free(opt);
	info->mandatory_flags = h.mandatory_flags;
	info->stream_offset = SAVEFILE_HEADER_LEN + (uint64_t)h.optional_data_len;
	return rc;
}

static int open_image(const char *path, char *msg, size_t msglen)
{
	/* O_NONBLOCK: a FIFO planted in the save directory must not hang us
	 * before fstat() refuses it; regular files ignore the flag. */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		say(msg, msglen, "%s: %s", path, strerror(errno));
		return errno == ENOENT ? HV_ENOENT : HV_EBADIMG;
	}
	return fd;
}

/* Prefix a reason with the file's name. */
static int name_reason(const char *path, int rc, char *msg, size_t msglen)
{
	if (rc && msg && msglen) {
		char reason[HV_MSG_MAX];
		snprintf(reason, sizeof(reason), "%s", msg);
		say(msg, msglen, "%s: %s", path, reason);
	}
	return rc;
}

int savefile_read(const char *path, struct savefile_info *info, char *msg, size_t msglen)
{
	*info = (struct savefile_info){ 0 };
	int fd = open_image(path, msg, msglen);
	if (fd < 0)
		return fd;
	int rc = read_open(fd, info, msg, msglen);
	close(fd);
	if (rc)
		savefile_info_free(info);
	return name_reason(path, rc, msg, msglen);
}

/* A v2 file holds a libxl stream whose last record is END: eight zero
 * bytes.  A cut-off save almost never ends that way. */
static int check_stream(int fd, const struct savefile_info *info, char *msg, size_t msglen)
{
	if (!(info->mandatory_flags & SAVEFILE_FLAG_STREAMV2))
		return 0;      /* a legacy stream: nothing we can check */
	if (info->size < info->stream_offset + LIBXL_STREAM_HDR_LEN + LIBXL_REC_HDR_LEN) {
		say(msg, msglen, "truncated: no room for a libxl stream after the config");
		return HV_EBADIMG;
	}
	unsigned char hdr[LIBXL_STREAM_HDR_LEN], tail[LIBXL_REC_HDR_LEN];
	if (pread_full(fd, hdr, sizeof(hdr), (off_t)info->stream_offset) != (ssize_t)sizeof(hdr) ||
	    pread_full(fd, tail, sizeof(tail), (off_t)(info->size - sizeof(tail))) != (ssize_t)sizeof(tail)) {
		say(msg, msglen, "read: %s", strerror(errno));
		return HV_EBADIMG;
	}
	if (be64(hdr) != LIBXL_STREAM_IDENT) {
		say(msg, msglen, "no libxl stream after the config");
		return HV_EBADIMG;
	}
	if (be32(hdr + 8) != LIBXL_STREAM_VERSION) {
		say(msg, msglen, "unsupported libxl stream version %u", be32(hdr + 8));
		return HV_EBADIMG;
	}
	static const unsigned char end_record[LIBXL_REC_HDR_LEN];
	if (memcmp(tail, end_record, sizeof(tail)) != 0) {
		say(msg, msglen, "stream does not end with an END record (the save was cut off)");
		return HV_EBADIMG;
	}
	return 0;
}

int savefile_image_name(const char *path, char *name, size_t namelen, char *msg, size_t msglen)
{
	struct savefile_info info = { 0 };
	int fd = open_image(path, msg, msglen);
	if (fd < 0)
		return fd;
	int rc = read_open(fd, &info, msg, msglen);
	if (!rc)
		rc = check_stream(fd, &info, msg, msglen);
	close(fd);
	if (!rc && name)
		snprintf(name, namelen, "%s", info.name);
	savefile_info_free(&info);
	return name_reason(path, rc, msg, msglen);
}

int savefile_image_check(const char *path, char *msg, size_t msglen)
{
	return savefile_image_name(path, NULL, 0, msg, msglen);
}

/* ---- writing ---- */

int savefile_write_header(int fd, const char *json, char *msg, size_t msglen)
{
	size_t len = strlen(json) + 1;
	if (len > SAVEFILE_CONFIG_MAX) {
		say(msg, msglen, "config of %zu bytes is too large for a save file", len);
		return -1;
	}
	uint32_t config_len = (uint32_t)len;
	struct raw_header h = {
		.byteorder = SAVEFILE_BYTEORDER,
		.mandatory_flags = SAVEFILE_FLAG_JSON | SAVEFILE_FLAG_STREAMV2,
		.optional_data_len = (uint32_t)sizeof(config_len) + config_len,
	};
	memcpy(h.magic, savefile_magic, sizeof(h.magic));
	if (write_all(fd, &h, sizeof(h)) || write_all(fd, &config_len, sizeof(config_len)) ||
	    write_all(fd, json, len)) {
		say(msg, msglen, "write: %s", strerror(errno));
		return -1;
	}
	return 0;
}

int savefile_write_fake_stream(int fd, const char *marker, char *msg, size_t msglen)
{
	size_t mlen = strlen(marker);
	size_t padded = (mlen + 7) & ~(size_t)7;
	if (mlen > 4096) {
		say(msg, msglen, "marker too long");
		return -1;
	}
	unsigned char hdr[LIBXL_STREAM_HDR_LEN] = { 0 };
	put_be32(hdr, (uint32_t)(LIBXL_STREAM_IDENT >> 32));
	put_be32(hdr + 4, (uint32_t)LIBXL_STREAM_IDENT);
	put_be32(hdr + 8, LIBXL_STREAM_VERSION);
	/* options: the byte order of the record headers that follow */
	put_be32(hdr + 12, __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__ ? LIBXL_STREAM_OPT_BIG_ENDIAN : 0);
	uint32_t rec[2] = { SIM_REC_MARKER, (uint32_t)mlen };
	unsigned char body[4096 + 8] = { 0 };
	memcpy(body, marker, mlen);
	static const unsigned char end_record[LIBXL_REC_HDR_LEN];
	if (write_all(fd, hdr, sizeof(hdr)) || write_all(fd, rec, sizeof(rec)) ||
	    write_all(fd, body, padded) || write_all(fd, end_record, sizeof(end_record))) {
		say(msg, msglen, "write: %s", strerror(errno));
		return -1;
	}
	return 0;
}

static void tx_release(struct savefile_tx *tx)
{
	free(tx->path);
	free(tx->tmp);
	*tx = (struct savefile_tx){ .fd = -1 };
}

int savefile_tx_begin(struct savefile_tx *tx, const char *path, char *msg, size_t msglen)
{
	*tx = (struct savefile_tx){ .fd = -1 };
	tx->path = xd_strdup(path);
	tx->tmp = xd_asprintf("%s.tmp", path);
	tx->fd = open(tx->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOCTTY, 0600);
	if (tx->fd < 0) {
		if (errno == EEXIST)
			say(msg, msglen, "%s exists: another save is running, or a crashed one left it "
			    "(remove it)", tx->tmp);
		else
			say(msg, msglen, "%s: %s", tx->tmp, strerror(errno));
		tx_release(tx);
		return -1;
	}
	return 0;
}

void savefile_tx_abort(struct savefile_tx *tx)
{
	if (tx->fd >= 0)
		close(tx->fd);
	if (tx->tmp)
		unlink(tx->tmp);
	tx_release(tx);
}

static int fsync_parent_dir(const char *path)
{
	char *dir = xd_strdup(path);
	char *slash = strrchr(dir, '/');
	if (!slash)
		strcpy(dir, ".");
	else if (slash == dir)
		dir[1] = '\0';
	else
		*slash = '\0';
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	free(dir);
	if (fd < 0)
		return -1;
	int rc = fsync(fd);
	int saved = errno;
	close(fd);
	errno = saved;
	return rc;
}

int savefile_tx_commit(struct savefile_tx *tx, char *msg, size_t msglen)
{
	if (fsync(tx->fd) != 0) {
		say(msg, msglen, "fsync %s: %s", tx->tmp, strerror(errno));
		savefile_tx_abort(tx);
		return -1;
	}
	int rc = close(tx->fd);
	tx->fd = -1;
	if (rc != 0) {
		say(msg, msglen, "close %s: %s", tx->tmp, strerror(errno));
		savefile_tx_abort(tx);
		return -1;
	}
	if (rename(tx->tmp, tx->path) != 0) {
		say(msg, msglen, "rename %s: %s", tx->tmp, strerror(errno));
		savefile_tx_abort(tx);
		return -1;
	}
	if (fsync_parent_dir(tx->path) != 0) {
		/* The name may not survive a crash: a save that failed must not
		 * leave an image to be restored later over a guest that ran on. */
		say(msg, msglen, "fsync of the directory of %s: %s", tx->path, strerror(errno));
		unlink(tx->path);
		tx_release(tx);
		return -1;
	}
	tx_release(tx);
	return 0;
}
