/* SPDX-License-Identifier: MIT */
/*
 * USERPTR buffers: the guest sends, after the buffer and its planes, one
 * list of {u64 start, u32 len, u32 pad} entries per plane, guest-physical,
 * covering the plane's length. Each entry is checked and mapped; the map
 * lives until the buffer is done or its queue stops.
 */
#include <errno.h>
#include <stdlib.h>

#include "protocol/media.h"
#include "protocol/userptr.h"

struct sg_entry {
	uint64_t start;
	uint32_t len;
	uint32_t reserved;
};
_Static_assert(sizeof(struct sg_entry) == 16, "SG entry size");

/* The guest's shadow buffer holds 1024 entries; allow generous slack. */
#define USERPTR_MAX_SEGS 65536u
#define GUEST_PAGE	 4096u

void userptr_unmap(struct media_device *md, struct userptr_map **slot)
{
	struct userptr_map *m = *slot;

	if (!m)
		return;
	for (unsigned i = 0; i < m->n_segs; i++) {
		md->userptr_bytes -= m->maps[i].len;
		gmem_unmap(md->mem, &m->maps[i]);
	}
	free(m->iov);
	free(m->maps);
	free(m);
	*slot = NULL;
}

static int grow(struct userptr_map *m, unsigned *cap)
{
	unsigned ncap = *cap ? *cap * 2 : 16;
	struct iovec *iov;
	struct gmem_map *maps;

	if (ncap > USERPTR_MAX_SEGS)
		ncap = USERPTR_MAX_SEGS;
	if (ncap <= *cap)
		return -E2BIG;
	iov = realloc(m->iov, ncap * sizeof(*iov));
	if (!iov)
		return -ENOMEM;
	m->iov = iov;
	maps = realloc(m->maps, ncap * sizeof(*maps));
	if (!maps)
		return -ENOMEM;
	m->maps = maps;
	*cap = ncap;
	return 0;
}

/* Map one SG entry (the part of it the plane still needs). */
static int map_entry(struct media_device *md, struct userptr_map *m,
		     unsigned *cap, const struct sg_entry *e, size_t want)
{
	size_t len = e->len < want ? e->len : want;
	int ret;

	if (e->len == 0)
		return -EINVAL;
	if (md->userptr_bytes + len > md->limits.max_userptr_bytes) {
		md_limit_warn(md, 2,
			      "USERPTR mapping limit of %llu bytes reached",
			      (unsigned long long)md->limits.max_userptr_bytes);
		return -ENOMEM;
	}
	if (m->n_segs == *cap && (ret = grow(m, cap)))
		return ret;
	ret = gmem_map(md->mem, e->start, len, GMEM_READ | GMEM_WRITE,
		       &m->maps[m->n_segs]);
	if (ret)
		return ret;
	m->iov[m->n_segs] = (struct iovec){ .iov_base = m->maps[m->n_segs].ptr,
					    .iov_len = len };
	m->n_segs++;
	md->userptr_bytes += len;
	return 0;
}

static int map_plane(struct media_device *md, struct virtq_cursor *in,
		     struct userptr_map *m, unsigned *cap, size_t plane_len)
{
	/* The most entries pinned pages of this length can need. */
	size_t max_entries = plane_len / GUEST_PAGE + 2, n = 0;
	size_t left = plane_len;

	while (left) {
		struct sg_entry e;
		int ret;

		if (++n > max_entries)
			return -EINVAL;
		if (virtq_read(in, &e, sizeof(e)) < 0)
			return -EINVAL; /* the list stops short of the plane */
		ret = map_entry(md, m, cap, &e, left);
		if (ret)
			return ret;
		left -= m->iov[m->n_segs - 1].iov_len;
	}
	return 0;
}

int userptr_map_buffer(struct media_device *md, struct virtq_cursor *in,
		       const uint32_t *plane_len, unsigned n_planes,
		       struct userptr_map **out)
{
	struct userptr_map *m = calloc(1, sizeof(*m));
	unsigned first_seg[VIDEO_MAX_PLANES] = { 0 };
	unsigned cap = 0;
	int ret = 0;

	if (!m)
		return -ENOMEM;
	m->n_planes = n_planes;
	for (unsigned p = 0; p < n_planes && !ret; p++) {
		first_seg[p] = m->n_segs;
		if (plane_len[p])
			ret = map_plane(md, in, m, &cap, plane_len[p]);
		m->plane[p].n = m->n_segs - first_seg[p];
		m->plane[p].len = plane_len[p];
	}
	if (ret) {
		userptr_unmap(md, &m);
		return ret;
	}
	/* Only now: iov may have moved while it grew. */
	for (unsigned p = 0; p < n_planes; p++)
		m->plane[p].iov = m->plane[p].n ? m->iov + first_seg[p] : NULL;
	*out = m;
	return 0;
}
