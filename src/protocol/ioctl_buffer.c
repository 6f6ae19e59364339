/* SPDX-License-Identifier: MIT */
/*
 * Buffer ioctls. The guest sends
 *   v4l2_buffer (88) | planes (length x 64, multi-planar) |
 *   USERPTR only: one SG list per plane of nonzero length
 * and receives v4l2_buffer and planes back in the same descriptors. The
 * guest's own pointer values (m.planes, m.userptr) are echoed unchanged:
 * host pointers never reach the guest.
 */
#include <errno.h>
#include <string.h>

#include "protocol/commands.h"
#include "protocol/userptr.h"

/* Types the guest driver accepts: VIDEO_CAPTURE .. META_OUTPUT. */
#define LAST_BUF_TYPE V4L2_BUF_TYPE_META_OUTPUT

/* The guest's pointer values, to put back after the backend ran. */
struct guest_ptrs {
	uint64_t m;
	uint64_t plane_m[VIDEO_MAX_PLANES];
};

static int read_buffer(struct virtq_cursor *in, struct vmedia_buffer *vb)
{
	struct v4l2_buffer *b = &vb->b;

	memset(vb, 0, sizeof(*vb));
	if (virtq_read(in, b, sizeof(*b)) < 0)
		return -EINVAL;
	if (b->type == 0 || b->type > LAST_BUF_TYPE ||
	    b->index >= SESSION_MAX_BUFFERS)
		return -EINVAL;
	if (!vmedia_type_is_mplane(b->type))
		return 0;
	if (b->length > VIDEO_MAX_PLANES)
		return -EINVAL;
	vb->num_planes = b->length;
	if (virtq_read(in, vb->planes, b->length * sizeof(vb->planes[0])) < 0)
		return -EINVAL;
	return 0;
}

static void save_ptrs(const struct vmedia_buffer *vb, struct guest_ptrs *g)
{
	memcpy(&g->m, &vb->b.m, sizeof(g->m));
	for (unsigned i = 0; i < vb->num_planes; i++)
		memcpy(&g->plane_m[i], &vb->planes[i].m, sizeof(g->plane_m[i]));
}

/*
 * A USERPTR address goes back as the guest sent it; when the guest sent
 * none (QBUF of a PREPARED buffer), as the backend reports it, which is
 * the address the guest prepared the buffer with (as vb2 answers).
 * Backends keep guest addresses there, never host pointers.
 */
static void restore_userptr(void *m, const uint64_t *guest)
{
	if (*guest)
		memcpy(m, guest, sizeof(*guest));
}

/*
 * Put the guest's pointers back. MMAP offsets are the backend's answer
 * and stay; the planes pointer and USERPTR addresses are the guest's.
 */
static void restore_ptrs(struct vmedia_buffer *vb, const struct guest_ptrs *g,
			 unsigned guest_planes)
{
	bool userptr = vb->b.memory == V4L2_MEMORY_USERPTR;

	if (vmedia_type_is_mplane(vb->b.type)) {
		memcpy(&vb->b.m, &g->m, sizeof(g->m));
		for (unsigned i = 0; i < guest_planes; i++)
			if (userptr)
				restore_userptr(&vb->planes[i].m,
						&g->plane_m[i]);
	} else if (userptr) {
		restore_userptr(&vb->b.m, &g->m);
	}
}

/* QBUF and PREPARE_BUF hand the backend guest memory; QUERYBUF does not. */
static bool takes_userptr(uint32_t code, const struct vmedia_buffer *vb)
{
	return vb->b.memory == V4L2_MEMORY_USERPTR &&
	       code != _IOC_NR(VIDIOC_QUERYBUF);
}

static int map_userptr(struct vmedia_session *s, struct virtq_cursor *in,
		       struct vmedia_buffer *vb, struct userptr_map **map)
{
	uint32_t len[VIDEO_MAX_PLANES];
	unsigned n = vb->num_planes ? vb->num_planes : 1;
	int ret;

	if (vb->num_planes)
		for (unsigned i = 0; i < n; i++)
			len[i] = vb->planes[i].length;
	else
		len[0] = vb->b.length;
	ret = userptr_map_buffer(s->md, in, len, n, map);
	if (ret)
		return ret;
	for (unsigned i = 0; i < n; i++)
		vb->userptr[i] = (*map)->plane[i].n ? &(*map)->plane[i] : NULL;
	return 0;
}

/* A queued USERPTR buffer keeps its pages mapped until it is done. */
static void keep_userptr(struct vmedia_session *s, uint32_t type,
			 uint32_t index, struct userptr_map **map)
{
	struct session_queue *q = session_queue(s, type, true);

	if (!q) {
		userptr_unmap(s->md, map);
		return;
	}
	userptr_unmap(s->md, &q->userptr[index]);
	q->userptr[index] = *map;
	*map = NULL;
}

static void respond_buffer(struct virtq_cursor *out, struct vmedia_buffer *vb,
			   unsigned guest_planes)
{
	struct virtio_media_resp_header ok = { 0 };
	unsigned planes = 0;

	if (vmedia_type_is_mplane(vb->b.type)) {
		/* Never more planes than the guest gave room for. */
		planes = vb->b.length < guest_planes ? vb->b.length
						     : guest_planes;
		vb->b.length = planes;
	}
	if (virtq_cursor_left(out) <
	    sizeof(ok) + sizeof(vb->b) + planes * sizeof(vb->planes[0])) {
		respond_status(out, EINVAL);
		return;
	}
	(void)virtq_write(out, &ok, sizeof(ok));
	(void)virtq_write(out, &vb->b, sizeof(vb->b));
	(void)virtq_write(out, vb->planes, planes * sizeof(vb->planes[0]));
}

void ioctl_buffer(struct vmedia_session *s, const struct ioctl_desc *d,
		  uint32_t code, struct virtq_cursor *in,
		  struct virtq_cursor *out)
{
	const struct vmedia_ioctl_ops *ops = s->md->backend->ops->ioctl;
	struct userptr_map *map = NULL;
	struct vmedia_buffer vb;
	struct guest_ptrs g;
	unsigned guest_planes;
	uint32_t type, index;
	int ret;

	ret = read_buffer(in, &vb);
	if (ret == 0 && takes_userptr(code, &vb))
		ret = map_userptr(s, in, &vb, &map);
	if (ret) {
		respond_status(out, -ret);
		return;
	}
	guest_planes = vb.num_planes;
	type = vb.b.type;
	index = vb.b.index;
	save_ptrs(&vb, &g);
	ret = d->call(ops, s->priv, &vb);
	/*
	 * A map of nothing (QBUF of a PREPARED buffer: the guest sends no SG
	 * list) must not replace the pages the buffer was prepared with.
	 */
	if (ret == 0 && map && map->n_segs)
		keep_userptr(s, type, index, &map);
	userptr_unmap(s->md, &map);
	if (ret) {
		respond_status(out, -ret);
		return;
	}
	restore_ptrs(&vb, &g, guest_planes);
	respond_buffer(out, &vb, guest_planes);
}
