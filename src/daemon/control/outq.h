/* SPDX-License-Identifier: ISC */
/*
 * A client's unsent output as a queue of fixed-size chunks (client.c).
 *
 * Every chunk is the same allocation, OUTQ_CHUNK_MEM bytes with malloc's
 * header, so what a queue holds in memory is exactly its number of chunks
 * times that (`mem`, what the control socket's budget counts), chunks
 * freed by one client fit any other's next one (no holes of odd sizes in
 * the heap), and a queue that drains holds nothing.
 */
#ifndef XD_DAEMON_CONTROL_OUTQ_H
#define XD_DAEMON_CONTROL_OUTQ_H

#include <stddef.h>
#include <stdint.h>

/* The memory one chunk takes, malloc's header included (glibc: 8 bytes,
 * rounded to 16), and the bytes of output it holds. */
#define OUTQ_CHUNK_MEM  4096
#define OUTQ_CHUNK_DATA (OUTQ_CHUNK_MEM - 32)

struct outq_chunk {
	struct outq_chunk *next;
	uint32_t off, len;               /* unsent: data[off, len) */
	char data[OUTQ_CHUNK_DATA];
};

struct outq {
	struct outq_chunk *head, *tail;
	size_t bytes;                    /* unsent */
	size_t mem;                      /* chunks x OUTQ_CHUNK_MEM */
};

enum outq_sent { OUTQ_EMPTY, OUTQ_FULL, OUTQ_ERROR };

/* Append len bytes; -1 (nothing appended) if out of memory. */
int outq_append(struct outq *q, const char *data, size_t len);
/* Move everything of src to the end of dst (src is left empty). */
void outq_splice(struct outq *dst, struct outq *src);
/* Send to fd (non-blocking, no SIGPIPE) until the queue is empty (chunks
 * are freed as they go), the socket is full, or an error (errno). */
enum outq_sent outq_send(struct outq *q, int fd);
void outq_clear(struct outq *q);

#endif
