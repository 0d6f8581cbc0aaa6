/* SPDX-License-Identifier: ISC */
/* A client's unsent output in fixed-size chunks (outq.h). */
#include "daemon/control/outq.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>

#define SEND_IOV 64                      /* chunks per sendmsg() */

_Static_assert(sizeof(struct outq_chunk) + 16 <= OUTQ_CHUNK_MEM,
	       "a chunk and malloc's header fit OUTQ_CHUNK_MEM");

static struct outq_chunk *chunk_new(void)
{
	struct outq_chunk *k = malloc(sizeof(*k));
	if (k) {
		k->next = NULL;
		k->off = k->len = 0;
	}
	return k;
}

/* Chunks for len more bytes beyond the tail's room, linked to each other
 * but not yet to q: on failure nothing changes. */
static int grow(struct outq *q, size_t len, struct outq_chunk **first, size_t *n)
{
	size_t room = q->tail ? OUTQ_CHUNK_DATA - q->tail->len : 0;
	struct outq_chunk *head = NULL, **link = &head;
	*n = 0;
	for (size_t have = room; have < len; have += OUTQ_CHUNK_DATA) {
		struct outq_chunk *k = chunk_new();
		if (!k) {
			while (head) {
				struct outq_chunk *next = head->next;
				free(head);
				head = next;
			}
			return -1;
		}
		*link = k;
		link = &k->next;
		(*n)++;
	}
	*first = head;
	return 0;
}

int outq_append(struct outq *q, const char *data, size_t len)
{
	struct outq_chunk *more;
	size_t n;
	if (len == 0)
		return 0;
	if (grow(q, len, &more, &n) < 0)
		return -1;
	struct outq_chunk *k = q->tail ? q->tail : more;
	if (q->tail)
		q->tail->next = more;
	else
		q->head = more;
	q->mem += n * OUTQ_CHUNK_MEM;
	q->bytes += len;
	for (;;) {
		size_t take = OUTQ_CHUNK_DATA - k->len;
		if (take > len)
			take = len;
		memcpy(k->data + k->len, data, take);
		k->len += (uint32_t)take;
		data += take;
		len -= take;
		if (!len)
			break;
		k = k->next;             /* grow() made enough of them */
	}
	q->tail = k;
	return 0;
}

void outq_splice(struct outq *dst, struct outq *src)
{
	if (!src->head)
		return;
	if (dst->tail)
		dst->tail->next = src->head;
	else
		dst->head = src->head;
	dst->tail = src->tail;
	dst->bytes += src->bytes;
	dst->mem += src->mem;
	*src = (struct outq){ 0 };
}

/* Drop n sent bytes from the front, freeing emptied chunks. */
static void consume(struct outq *q, size_t n)
{
	q->bytes -= n;
	while (n) {
		struct outq_chunk *k = q->head;
		size_t have = k->len - k->off;
		if (n < have) {
			k->off += (uint32_t)n;
			return;
		}
		n -= have;
		q->head = k->next;
		free(k);
		q->mem -= OUTQ_CHUNK_MEM;
	}
	if (!q->head)
		q->tail = NULL;
}

enum outq_sent outq_send(struct outq *q, int fd)
{
	while (q->bytes) {
		struct iovec iov[SEND_IOV];
		int n_iov = 0;
		for (struct outq_chunk *k = q->head; k && n_iov < SEND_IOV; k = k->next)
			iov[n_iov++] = (struct iovec){ k->data + k->off, k->len - k->off };
		struct msghdr msg = { .msg_iov = iov, .msg_iovlen = (size_t)n_iov };
		ssize_t n = sendmsg(fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n > 0) {
			consume(q, (size_t)n);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return OUTQ_FULL;
		return OUTQ_ERROR;
	}
	return OUTQ_EMPTY;
}

void outq_clear(struct outq *q)
{
	while (q->head) {
		struct outq_chunk *k = q->head;
		q->head = k->next;
		free(k);
	}
	*q = (struct outq){ 0 };
}
