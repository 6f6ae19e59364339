/* SPDX-License-Identifier: MIT */
/*
 * Shared memory region 0: MMAP buffers. Offsets are device-global (MUNMAP
 * names no session), aligned for guests with up to 64 KiB pages. A block
 * lives while its backend holds it or the guest has it mapped: buffers
 * freed by REQBUFS(0) or CLOSE stay until the guest's MUNMAP, because the
 * guest may still touch them and on Xen touching a released page kills it.
 */
#include <errno.h>
#include <stdlib.h>

#include "protocol/media.h"

#define SHM_ALIGN 0x10000ull

static uint64_t align_up(uint64_t v)
{
	return (v + SHM_ALIGN - 1) & ~(SHM_ALIGN - 1);
}

struct shm_block *shm_find(struct media_device *md, uint64_t offset)
{
	for (struct shm_block *b = md->blocks; b; b = b->next)
		if (b->offset == offset)
			return b;
	return NULL;
}

/* First fit in the gaps between blocks (sorted by offset). */
static struct shm_block **find_gap(struct media_device *md, uint64_t len,
				   uint64_t *offset)
{
	struct shm_block **pp = &md->blocks;
	uint64_t start = 0;

	for (; *pp; pp = &(*pp)->next) {
		if ((*pp)->offset - start >= len)
			break;
		start = align_up((*pp)->offset + (*pp)->len);
	}
	if (start > md->shm->size || md->shm->size - start < len)
		return NULL;
	*offset = start;
	return pp;
}

int vmedia_shm_alloc(struct vmedia_session *s, size_t len, uint32_t *offset,
		     void **host)
{
	struct media_device *md = s->md;
	struct shm_block **pp, *b;
	uint64_t off, size;
	int ret;

	if (!md->shm)
		return -ENOTTY;
	if (len == 0 || len > md->shm->size)
		return -EINVAL;
	size = align_up(len);
	pp = find_gap(md, size, &off);
	if (!pp) {
		md_limit_warn(md, 3, "shared memory region of %llu bytes full",
			      (unsigned long long)md->shm->size);
		return -ENOMEM;
	}
	b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	ret = md->shm->ops->map(md->shm->ctx, off, size, &b->host);
	if (ret) {
		free(b);
		return ret;
	}
	b->offset = off;
	b->len = size;
	b->owner = s;
	b->next = *pp;
	*pp = b;
	*offset = (uint32_t)off;
	*host = b->host;
	return 0;
}

void shm_release_if_unused(struct media_device *md, struct shm_block *b)
{
	if (b->owner || b->guest_maps)
		return;
	for (struct shm_block **pp = &md->blocks; *pp; pp = &(*pp)->next) {
		if (*pp == b) {
			*pp = b->next;
			break;
		}
	}
	md->shm->ops->unmap(md->shm->ctx, b->offset, b->len, b->host);
	free(b);
}

void vmedia_shm_put(struct vmedia_session *s, uint32_t offset)
{
	struct shm_block *b = shm_find(s->md, offset);

	if (!b || b->owner != s) {
		md_warn(s->md, "backend put unknown SHM offset %#x", offset);
		return;
	}
	b->owner = NULL;
	shm_release_if_unused(s->md, b);
}

/* A backend must put its blocks on close; this catches one that did not. */
void shm_session_closed(struct media_device *md, struct vmedia_session *s)
{
	struct shm_block *b = md->blocks, *next;

	for (; b; b = next) {
		next = b->next;
		if (b->owner != s)
			continue;
		b->owner = NULL;
		shm_release_if_unused(md, b);
	}
}

/* Device reset: the guest's mappings went with its driver. */
void shm_clear(struct media_device *md)
{
	while (md->blocks) {
		struct shm_block *b = md->blocks;

		b->owner = NULL;
		b->guest_maps = 0;
		shm_release_if_unused(md, b);
	}
}
