/* SPDX-License-Identifier: MIT */
/*
 * Byte-stream access to a mapped descriptor chain. The guest driver splits
 * payloads wherever it likes (direct pages, vmalloc pieces, a shadow
 * buffer), so readers and writers never see segment boundaries.
 */
#include <errno.h>
#include <string.h>

#include "vmedia/virtqueue.h"

void virtq_reader(struct virtq_cursor *c, const struct virtq_chain *chain)
{
	*c = (struct virtq_cursor){ .iov = chain->iov, .n = chain->n_out };
}

void virtq_writer(struct virtq_cursor *c, const struct virtq_chain *chain)
{
	*c = (struct virtq_cursor){ .iov = chain->iov + chain->n_out,
				    .n = chain->n_in };
}

size_t virtq_cursor_left(const struct virtq_cursor *c)
{
	size_t left = 0;

	for (unsigned i = c->i; i < c->n; i++)
		left += c->iov[i].len;
	return left - (c->i < c->n ? c->off : 0);
}

/*
 * Move len bytes between buf and the chain (or just advance when buf is
 * NULL). The caller has checked that len bytes are left.
 */
static void cursor_move(struct virtq_cursor *c, void *buf, size_t len,
			bool to_chain)
{
	char *p = buf;

	while (len) {
		const struct virtq_iov *v = &c->iov[c->i];
		size_t chunk = v->len - c->off;

		if (chunk > len)
			chunk = len;
		if (p && to_chain)
			memcpy((char *)v->base + c->off, p, chunk);
		else if (p)
			memcpy(p, (const char *)v->base + c->off, chunk);
		if (p)
			p += chunk;
		c->off += chunk;
		c->done += chunk;
		len -= chunk;
		if (c->off == v->len) {
			c->i++;
			c->off = 0;
		}
	}
}

int virtq_read(struct virtq_cursor *c, void *buf, size_t len)
{
	if (virtq_cursor_left(c) < len)
		return -EMSGSIZE;
	cursor_move(c, buf, len, false);
	return 0;
}

int virtq_write(struct virtq_cursor *c, const void *buf, size_t len)
{
	if (virtq_cursor_left(c) < len)
		return -EMSGSIZE;
	cursor_move(c, (void *)buf, len, true);
	return 0;
}

int virtq_skip(struct virtq_cursor *c, size_t len)
{
	if (virtq_cursor_left(c) < len)
		return -EMSGSIZE;
	cursor_move(c, NULL, len, false);
	return 0;
}
