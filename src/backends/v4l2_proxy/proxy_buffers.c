/* SPDX-License-Identifier: MIT */
/*
 * Buffer memory translation. The guest's MMAP buffers live in the
 * device's shared memory (offsets the guest maps with CMD_MMAP), its
 * USERPTR buffers in its own pages; the host only knows its own buffers.
 * Per queue the cheapest pairing the host allows is chosen at REQBUFS /
 * first CREATE_BUFS (enum vp_mode):
 *
 *   host has USERPTR: it gets the guest's memory itself (SHM block, or the
 *     guest's pages when one segment covers the plane), else a bounce
 *     buffer that is copied;
 *   host has only MMAP: host buffers are mapped and copied.
 *
 * Copies go guest -> host at QBUF (output) and host -> guest at DQBUF
 * (capture, proxy_stream.c). Nothing the host says about its memory
 * (m.offset, m.userptr) ever reaches the guest: QUERYBUF and QBUF answer
 * with SHM offsets and the guest's own addresses.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "backends/v4l2_proxy/proxy.h"

/* What the guest may be told about a queue: both memories always work. */
#define VP_BUF_CAPS                                                   \
	(V4L2_BUF_CAP_SUPPORTS_MMAP | V4L2_BUF_CAP_SUPPORTS_USERPTR | \
	 V4L2_BUF_CAP_SUPPORTS_ORPHANED_BUFS)
/* Host capabilities that still mean something through the proxy. */
#define VP_BUF_CAPS_PASS V4L2_BUF_CAP_SUPPORTS_M2M_HOLD_CAPTURE_BUF

/* Output buffer flags the guest may set on a host buffer (no requests). */
#define VP_QBUF_FLAGS                                                         \
	(V4L2_BUF_FLAG_KEYFRAME | V4L2_BUF_FLAG_PFRAME |                      \
	 V4L2_BUF_FLAG_BFRAME | V4L2_BUF_FLAG_TIMECODE | V4L2_BUF_FLAG_LAST | \
	 V4L2_BUF_FLAG_M2M_HOLD_CAPTURE_BUF | V4L2_BUF_FLAG_TSTAMP_SRC_MASK)

/* Host flags the guest never sees: its own driver tracks these. */
#define VP_DQ_FLAGS_DROP                                   \
	(V4L2_BUF_FLAG_MAPPED | V4L2_BUF_FLAG_REQUEST_FD | \
	 V4L2_BUF_FLAG_IN_REQUEST)

#define PAGE_ALIGN_BYTES 4096u

static bool memory_ok(uint32_t memory)
{
	/* DMABUF has no carrier in virtio-media. */
	return memory == V4L2_MEMORY_MMAP || memory == V4L2_MEMORY_USERPTR;
}

static bool buf_type_ok(uint32_t type)
{
	return type >= V4L2_BUF_TYPE_VIDEO_CAPTURE &&
	       type <= V4L2_BUF_TYPE_META_OUTPUT &&
	       type != V4L2_BUF_TYPE_VIDEO_OVERLAY &&
	       type != V4L2_BUF_TYPE_VIDEO_OUTPUT_OVERLAY;
}

struct vp_queue *vp_queue_get(struct vp_session *s, uint32_t type, bool create)
{
	struct vp_queue *free_slot = NULL;

	if (!buf_type_ok(type))
		return NULL;
	for (unsigned i = 0; i < VP_MAX_QUEUES; i++) {
		if (s->q[i].type == type)
			return &s->q[i];
		if (!s->q[i].type && !free_slot)
			free_slot = &s->q[i];
	}
	/*
	 * v4l2-compliance tries REQBUFS on every buffer type: a slot whose
	 * queue holds nothing is free for another type.
	 */
	for (unsigned i = 0; i < VP_MAX_QUEUES && !free_slot; i++)
		if (!s->q[i].n_bufs && !s->q[i].streaming)
			free_slot = &s->q[i];
	if (!create || !free_slot)
		return NULL;
	memset(free_slot, 0, sizeof(*free_slot));
	free_slot->type = type;
	return free_slot;
}

/* ---- our side of a buffer's memory --------------------------------------- */

static void plane_free(struct vp_session *s, struct vp_plane *p)
{
	if (p->hmap)
		s->dev->host->munmap(p->hmap, p->hmap_len);
	if (p->has_shm)
		vmedia_shm_put(s->vs, p->shm_offset);
	free(p->bounce);
	memset(p, 0, sizeof(*p));
}

void vp_queue_free(struct vp_session *s, struct vp_queue *q)
{
	for (unsigned i = 0; i < q->n_bufs; i++) {
		for (unsigned p = 0; p < q->bufs[i].n_planes; p++)
			plane_free(s, &q->bufs[i].p[p]);
		memset(&q->bufs[i], 0, sizeof(q->bufs[i]));
	}
	q->n_bufs = q->n_queued = 0;
	q->streaming = q->last = q->stalled = false;
	q->mode = VP_MODE_NONE;
	q->no_direct = false;
}

/* A host buffer ioctl's argument: the planes array for mplane types. */
static void host_buf_init(const struct vp_queue *q, unsigned index,
			  struct v4l2_buffer *hb, struct v4l2_plane *hp)
{
	memset(hb, 0, sizeof(*hb));
	memset(hp, 0, VIDEO_MAX_PLANES * sizeof(*hp));
	hb->index = index;
	hb->type = q->type;
	hb->memory = q->host_memory;
	if (vmedia_type_is_mplane(q->type)) {
		hb->m.planes = hp;
		hb->length = VIDEO_MAX_PLANES;
	}
}

/* Learn a new host buffer's planes and give it the memory of its mode. */
static int buf_setup(struct vp_session *s, struct vp_queue *q, unsigned index)
{
	struct v4l2_plane hp[VIDEO_MAX_PLANES];
	struct vp_buf *vb = &q->bufs[index];
	struct v4l2_buffer hb;
	bool mp = vmedia_type_is_mplane(q->type);
	int ret;

	host_buf_init(q, index, &hb, hp);
	ret = vp_ioctl(s, VIDIOC_QUERYBUF, &hb);
	if (ret)
		return ret;
	/* The host's answer sizes our arrays: check it before using it. */
	if (mp && (hb.length == 0 || hb.length > VIDEO_MAX_PLANES))
		return -EIO;
	vb->n_planes = mp ? hb.length : 1;
	for (unsigned i = 0; i < vb->n_planes; i++) {
		struct vp_plane *p = &vb->p[i];
		uint32_t off = mp ? hp[i].m.mem_offset : hb.m.offset;

		p->length = p->guest_length = mp ? hp[i].length : hb.length;
		if (!p->length)
			return -EIO;
		if (q->memory == V4L2_MEMORY_MMAP) {
			ret = vmedia_shm_alloc(s->vs, p->length, &p->shm_offset,
					       &p->shm);
			if (ret)
				return ret == -ENOTTY ? -EINVAL : -ENOMEM;
			p->has_shm = true;
		}
		if (q->host_memory != V4L2_MEMORY_MMAP)
			continue;
		p->hmap = s->dev->host->mmap(s->fd, p->length, (off_t)off);
		if (!p->hmap)
			return -ENOMEM;
		p->hmap_len = p->length;
		s->dev->stats.host_mmaps++;
	}
	return 0;
}

/* Set up buffers [first, first + count); all or nothing. */
static int bufs_setup(struct vp_session *s, struct vp_queue *q, unsigned first,
		      unsigned count)
{
	for (unsigned i = first; i < first + count; i++) {
		int ret = buf_setup(s, q, i);

		q->n_bufs = i + 1; /* so vp_queue_free sees this one too */
		if (ret) {
			vm_debug(vp_domid(s), "v4l2: buffer %u setup: %d", i,
				 ret);
			return ret;
		}
	}
	return 0;
}

/* ---- REQBUFS / CREATE_BUFS ------------------------------------------------
 */

static uint32_t caps_for_guest(uint32_t host_caps)
{
	return VP_BUF_CAPS | (host_caps & VP_BUF_CAPS_PASS);
}

/* The pairing for guest memory `memory` on a host reporting host_caps. */
static void choose_mode(struct vp_queue *q, uint32_t memory, uint32_t host_caps)
{
	bool host_up = host_caps & V4L2_BUF_CAP_SUPPORTS_USERPTR;

	q->memory = memory;
	q->host_memory = host_up ? V4L2_MEMORY_USERPTR : V4L2_MEMORY_MMAP;
	if (memory == V4L2_MEMORY_MMAP)
		q->mode = host_up ? VP_MODE_IMPORT : VP_MODE_MMAP_COPY;
	else
		q->mode = host_up ? VP_MODE_USERPTR : VP_MODE_UP_COPY;
}

/*
 * REQBUFS(0) frees the host's buffers and, since Linux 4.20, reports the
 * queue's capabilities. MMAP is asked first: nearly every driver has it.
 */
static int host_probe(struct vp_session *s, uint32_t type, uint32_t *caps)
{
	struct v4l2_requestbuffers r = { .type = type,
					 .memory = V4L2_MEMORY_MMAP };
	int ret = vp_ioctl(s, VIDIOC_REQBUFS, &r);

	if (ret == -EINVAL) {
		memset(&r, 0, sizeof(r));
		r.type = type;
		r.memory = V4L2_MEMORY_USERPTR;
		ret = vp_ioctl(s, VIDIOC_REQBUFS, &r);
	}
	if (ret)
		return ret;
	*caps = r.capabilities;
	/* Before 4.20: no report; MMAP works (asked above), assume no more. */
	if (!*caps)
		*caps = r.memory == V4L2_MEMORY_MMAP
				? V4L2_BUF_CAP_SUPPORTS_MMAP
				: V4L2_BUF_CAP_SUPPORTS_USERPTR;
	return 0;
}

/* Host REQBUFS(0) after a failed setup: the queue goes back to empty. */
static void queue_reset(struct vp_session *s, struct vp_queue *q)
{
	struct v4l2_requestbuffers r = { .type = q->type,
					 .memory = q->host_memory };

	(void)vp_ioctl(s, VIDIOC_REQBUFS, &r);
	vp_queue_free(s, q);
}

int vp_reqbufs(void *priv, struct v4l2_requestbuffers *r)
{
	struct vp_session *s = priv;
	struct vp_queue *q;
	struct v4l2_requestbuffers hr;
	uint32_t caps = 0;
	int ret;

	if (!memory_ok(r->memory) || !(q = vp_queue_get(s, r->type, true)))
		return -EINVAL;
	if (q->streaming)
		return -EBUSY;
	ret = host_probe(s, r->type, &caps);
	if (ret)
		return ret;
	/* The host let go of its buffers: now ours can go. */
	vp_queue_free(s, q);
	r->capabilities = caps_for_guest(caps);
	r->flags = 0;
	memset(r->reserved, 0, sizeof(r->reserved));
	if (r->count == 0)
		return 0;
	choose_mode(q, r->memory, caps);
	hr = (struct v4l2_requestbuffers){
		.count = r->count < VP_MAX_BUFFERS ? r->count : VP_MAX_BUFFERS,
		.type = r->type,
		.memory = q->host_memory,
	};
	ret = vp_ioctl(s, VIDIOC_REQBUFS, &hr);
	if (ret)
		return ret;
	if (hr.count > VP_MAX_BUFFERS) {
		queue_reset(s, q);
		return -ENOMEM;
	}
	ret = bufs_setup(s, q, 0, hr.count);
	if (ret) {
		queue_reset(s, q);
		return ret;
	}
	r->count = hr.count;
	return 0;
}

/* CREATE_BUFS(0) reports capabilities without touching the buffers. */
static int host_create_probe(struct vp_session *s,
			     struct v4l2_create_buffers *c, uint32_t *caps)
{
	struct v4l2_create_buffers hc = *c;
	int ret;

	hc.count = 0;
	hc.memory = V4L2_MEMORY_MMAP;
	ret = vp_ioctl(s, VIDIOC_CREATE_BUFS, &hc);
	if (ret == -EINVAL) {
		hc.memory = V4L2_MEMORY_USERPTR;
		ret = vp_ioctl(s, VIDIOC_CREATE_BUFS, &hc);
	}
	if (ret)
		return ret;
	*caps = hc.capabilities ? hc.capabilities
				: (hc.memory == V4L2_MEMORY_MMAP
					   ? V4L2_BUF_CAP_SUPPORTS_MMAP
					   : V4L2_BUF_CAP_SUPPORTS_USERPTR);
	c->index = hc.index;
	c->format = hc.format;
	return 0;
}

static int create_more(struct vp_session *s, struct vp_queue *q,
		       struct v4l2_create_buffers *c)
{
	struct v4l2_create_buffers hc = *c;
	unsigned room = VP_MAX_BUFFERS - q->n_bufs;
	int ret;

	if (!room)
		return -ENOBUFS;
	hc.memory = q->host_memory;
	hc.count = c->count < room ? c->count : room;
	hc.flags = 0;
	ret = vp_ioctl(s, VIDIOC_CREATE_BUFS, &hc);
	if (ret)
		return ret;
	/* The host's numbering must continue ours, or indexes would lie. */
	if (hc.index != q->n_bufs || hc.count > room) {
		vp_fail(s, EIO, "host CREATE_BUFS returned impossible indexes");
		return -EIO;
	}
	ret = bufs_setup(s, q, hc.index, hc.count);
	if (ret) {
		queue_reset(s, q);
		return ret;
	}
	c->index = hc.index;
	c->count = hc.count;
	c->format = hc.format;
	c->capabilities = caps_for_guest(hc.capabilities);
	return 0;
}

int vp_create_bufs(void *priv, struct v4l2_create_buffers *c)
{
	struct vp_session *s = priv;
	struct vp_queue *q;
	uint32_t caps = 0;
	int ret;

	if (!memory_ok(c->memory) ||
	    !(q = vp_queue_get(s, c->format.type, true)))
		return -EINVAL;
	c->flags = 0;
	memset(c->reserved, 0, sizeof(c->reserved));
	if (q->n_bufs && q->memory != c->memory)
		return -EINVAL;
	if (!q->n_bufs || c->count == 0) {
		ret = host_create_probe(s, c, &caps);
		if (ret)
			return ret;
		c->capabilities = caps_for_guest(caps);
		if (c->count == 0)
			return 0;
		choose_mode(q, c->memory, caps);
	}
	return create_more(s, q, c);
}

/* ---- the guest's view of a buffer ---------------------------------------- */

void vp_to_guest(const struct vp_queue *q, unsigned index,
		 const struct v4l2_buffer *hb, const struct v4l2_plane *hp,
		 struct v4l2_buffer *gb, struct v4l2_plane *gp)
{
	const struct vp_buf *vb = &q->bufs[index];
	bool mmap = q->memory == V4L2_MEMORY_MMAP;

	*gb = *hb;
	gb->index = index;
	gb->memory = q->memory;
	gb->flags &= ~VP_DQ_FLAGS_DROP;
	gb->request_fd = 0;
	memset(&gb->m, 0, sizeof(gb->m));
	if (!vmedia_type_is_mplane(q->type)) {
		gb->length = vb->p[0].guest_length;
		if (mmap)
			gb->m.offset = vb->p[0].shm_offset;
		else
			gb->m.userptr = vb->p[0].guest_userptr;
		return;
	}
	gb->length = vb->n_planes;
	for (unsigned i = 0; i < vb->n_planes; i++) {
		gp[i] = hp[i];
		gp[i].length = vb->p[i].guest_length;
		memset(&gp[i].m, 0, sizeof(gp[i].m));
		if (mmap)
			gp[i].m.mem_offset = vb->p[i].shm_offset;
		else
			gp[i].m.userptr = vb->p[i].guest_userptr;
	}
}

static void answer(const struct vp_queue *q, const struct v4l2_buffer *hb,
		   const struct v4l2_plane *hp, struct vmedia_buffer *b)
{
	unsigned index = b->b.index;

	vp_to_guest(q, index, hb, hp, &b->b, b->planes);
	b->num_planes =
		vmedia_type_is_mplane(q->type) ? q->bufs[index].n_planes : 0;
}

/* Checks every buffer ioctl makes before the host hears of it. */
static int buf_lookup(struct vp_session *s, const struct vmedia_buffer *b,
		      bool check_memory, struct vp_queue **qp)
{
	struct vp_queue *q = vp_queue_get(s, b->b.type, false);

	if (!q || b->b.index >= q->n_bufs)
		return -EINVAL;
	if (check_memory && b->b.memory != q->memory)
		return -EINVAL;
	/* The guest must give room for every plane of the buffer. */
	if (vmedia_type_is_mplane(q->type) &&
	    b->num_planes < q->bufs[b->b.index].n_planes)
		return -EINVAL;
	*qp = q;
	return 0;
}

int vp_querybuf(void *priv, struct vmedia_buffer *b)
{
	struct vp_session *s = priv;
	struct v4l2_plane hp[VIDEO_MAX_PLANES];
	struct v4l2_buffer hb;
	struct vp_queue *q;
	int ret = s->dead ? -s->dead : buf_lookup(s, b, false, &q);

	if (ret)
		return ret;
	host_buf_init(q, b->b.index, &hb, hp);
	ret = vp_ioctl(s, VIDIOC_QUERYBUF, &hb);
	if (ret)
		return ret;
	answer(q, &hb, hp, b);
	return 0;
}

/* ---- QBUF / PREPARE_BUF: where the host's memory for a plane is ---------- */

static int bounce_get(struct vp_session *s, struct vp_plane *p, size_t len)
{
	void *m;

	if (p->bounce_len >= len)
		return 0;
	if (posix_memalign(&m, PAGE_ALIGN_BYTES, len))
		return -ENOMEM;
	free(p->bounce);
	p->bounce = m;
	p->bounce_len = len;
	s->dev->stats.bounce_allocs++;
	return 0;
}

/* The guest's pages usable in place: one segment covering the plane. */
static bool up_direct(const struct vmedia_userptr *up, size_t len)
{
	return up && up->n == 1 && up->iov && up->iov[0].iov_base &&
	       up->iov[0].iov_len >= len;
}

/* Take a USERPTR plane from the guest: checked before anything changes. */
static int take_userptr(const struct vp_plane *p,
			const struct vmedia_userptr *up, uint32_t len)
{
	if (!up || !up->n || !up->iov || up->len < len)
		return -EINVAL;
	/* As vb2: the memory must hold what the format needs. */
	if (len < p->length)
		return -EINVAL;
	return 0;
}

/*
 * vb2 keeps a USERPTR plane's pages pinned and skips pinning again when
 * QBUF brings the same address and length. Our view of the guest's pages
 * is mapped anew for every QBUF and may land at the address an earlier,
 * different guest buffer had: then the host would fill the old pages.
 * Another guest address at our old address goes through a bounce.
 */
static bool stale_pin(const struct vp_plane *p)
{
	return p->last_direct == p->up->iov[0].iov_base &&
	       p->last_guest != p->guest_userptr;
}

static int plane_place(struct vp_session *s, struct vp_queue *q,
		       struct vp_plane *p, bool try_direct)
{
	size_t need = p->guest_length;

	p->copy = false;
	switch (q->mode) {
	case VP_MODE_IMPORT:
		if (try_direct) {
			p->host_ptr = p->shm;
			p->host_cap = p->length;
			return 0;
		}
		need = p->length;
		break;
	case VP_MODE_USERPTR:
		if (try_direct && up_direct(p->up, need) && !stale_pin(p)) {
			p->host_ptr = p->up->iov[0].iov_base;
			p->host_cap = need;
			p->last_direct = p->host_ptr;
			p->last_guest = p->guest_userptr;
			return 0;
		}
		break;
	case VP_MODE_MMAP_COPY:
	case VP_MODE_UP_COPY:
		p->host_ptr = p->hmap;
		p->host_cap = p->hmap_len;
		p->copy = true;
		return 0;
	default:
		return -EINVAL;
	}
	if (bounce_get(s, p, need))
		return -ENOMEM;
	p->host_ptr = p->bounce;
	p->host_cap = need;
	p->copy = true;
	return 0;
}

/* Gather guest data into the host's memory (output queues). */
static size_t copy_in(const struct vp_queue *q, const struct vp_plane *p,
		      size_t len)
{
	uint8_t *dst = p->host_ptr;
	size_t done = 0;

	if (len > p->host_cap)
		len = p->host_cap;
	if (q->memory == V4L2_MEMORY_MMAP) {
		if (len > p->length)
			len = p->length;
		memcpy(dst, p->shm, len);
		return len;
	}
	for (unsigned i = 0; p->up && i < p->up->n && done < len; i++) {
		size_t chunk = p->up->iov[i].iov_len;

		if (chunk > len - done)
			chunk = len - done;
		memcpy(dst + done, p->up->iov[i].iov_base, chunk);
		done += chunk;
	}
	return done;
}

/* The host buffer for a QBUF/PREPARE_BUF, from the guest's and our state. */
static void host_buf_fill(const struct vp_queue *q, unsigned index,
			  const struct vmedia_buffer *b, struct v4l2_buffer *hb,
			  struct v4l2_plane *hp)
{
	const struct vp_buf *vb = &q->bufs[index];
	bool mp = vmedia_type_is_mplane(q->type);

	host_buf_init(q, index, hb, hp);
	hb->field = b->b.field;
	hb->flags = b->b.flags & VP_QBUF_FLAGS;
	if (V4L2_TYPE_IS_OUTPUT(q->type)) {
		hb->timestamp = b->b.timestamp;
		hb->timecode = b->b.timecode;
		hb->bytesused = b->b.bytesused;
	}
	if (mp)
		hb->length = vb->n_planes;
	for (unsigned i = 0; i < vb->n_planes; i++) {
		const struct vp_plane *p = &vb->p[i];
		uint32_t len = q->host_memory == V4L2_MEMORY_MMAP
				       ? p->length
				       : (uint32_t)p->host_cap;

		if (!mp) {
			hb->length = len;
			if (q->host_memory == V4L2_MEMORY_USERPTR)
				hb->m.userptr = (unsigned long)p->host_ptr;
			continue;
		}
		hp[i].length = len;
		if (q->host_memory == V4L2_MEMORY_USERPTR)
			hp[i].m.userptr = (unsigned long)p->host_ptr;
		if (V4L2_TYPE_IS_OUTPUT(q->type)) {
			hp[i].bytesused = b->planes[i].bytesused;
			hp[i].data_offset = b->planes[i].data_offset;
		}
	}
}

/* Output: the guest's data goes to the host's memory before it runs. */
static void output_copy(struct vp_session *s, struct vp_queue *q,
			struct vp_buf *vb, const struct v4l2_buffer *hb,
			const struct v4l2_plane *hp)
{
	bool mp = vmedia_type_is_mplane(q->type);

	for (unsigned i = 0; i < vb->n_planes; i++) {
		struct vp_plane *p = &vb->p[i];
		size_t used = mp ? hp[i].bytesused : hb->bytesused;

		if (!p->copy) {
			s->dev->stats.zero_copy_qbufs++;
			continue;
		}
		/* bytesused 0 means "all of it" to vb2. */
		if (!used || used > p->guest_length)
			used = p->guest_length;
		used = copy_in(q, p, used);
		s->dev->stats.copies_to_host++;
		s->dev->stats.bytes_to_host += used;
	}
}

/* Take the guest's USERPTR planes, or keep the prepared ones. */
static int take_planes(struct vp_queue *q, struct vp_buf *vb,
		       const struct vmedia_buffer *b)
{
	bool mp = vmedia_type_is_mplane(q->type), any = false;

	if (q->memory != V4L2_MEMORY_USERPTR)
		return 0;
	for (unsigned i = 0; i < vb->n_planes; i++)
		any |= b->userptr[i] != NULL;
	/* QBUF of a PREPARED buffer brings no memory: the prepared stays. */
	if (!any && vb->state == VP_BUF_PREPARED)
		return 0;
	for (unsigned i = 0; i < vb->n_planes; i++) {
		uint32_t len = mp ? b->planes[i].length : b->b.length;
		int ret = take_userptr(&vb->p[i], b->userptr[i], len);

		if (ret)
			return ret;
	}
	for (unsigned i = 0; i < vb->n_planes; i++) {
		vb->p[i].up = b->userptr[i];
		vb->p[i].guest_length = mp ? b->planes[i].length : b->b.length;
		vb->p[i].guest_userptr =
			mp ? b->planes[i].m.userptr : b->b.m.userptr;
	}
	return 0;
}

static int place_all(struct vp_session *s, struct vp_queue *q,
		     struct vp_buf *vb, bool try_direct)
{
	for (unsigned i = 0; i < vb->n_planes; i++) {
		int ret = plane_place(s, q, &vb->p[i], try_direct);

		if (ret)
			return ret;
	}
	return 0;
}

static bool any_in_place(const struct vp_buf *vb)
{
	for (unsigned i = 0; i < vb->n_planes; i++)
		if (!vb->p[i].copy)
			return true;
	return false;
}

/*
 * Hand the buffer to the host (QBUF or PREPARE_BUF). The guest's memory
 * is tried in place first; a host that cannot pin it (Xen foreign pages,
 * a contiguous-memory driver) says EFAULT or EINVAL, and from then on the
 * queue uses bounce buffers.
 */
static int host_submit(struct vp_session *s, struct vp_queue *q,
		       struct vp_buf *vb, const struct vmedia_buffer *b,
		       unsigned long req, struct v4l2_buffer *hb,
		       struct v4l2_plane *hp)
{
	bool reuse = vb->state == VP_BUF_PREPARED;
	int ret = reuse ? 0 : place_all(s, q, vb, !q->no_direct);

	if (ret)
		return ret;
	host_buf_fill(q, b->b.index, b, hb, hp);
	if (req == VIDIOC_QBUF && V4L2_TYPE_IS_OUTPUT(q->type))
		output_copy(s, q, vb, hb, hp);
	ret = vp_ioctl(s, req, hb);
	if ((ret != -EFAULT && ret != -EINVAL) || reuse || !any_in_place(vb))
		return ret;
	vm_debug(vp_domid(s),
		 "v4l2: host refused guest memory in place (%d); "
		 "bouncing",
		 ret);
	q->no_direct = true;
	ret = place_all(s, q, vb, false);
	if (ret)
		return ret;
	host_buf_fill(q, b->b.index, b, hb, hp);
	if (req == VIDIOC_QBUF && V4L2_TYPE_IS_OUTPUT(q->type))
		output_copy(s, q, vb, hb, hp);
	return vp_ioctl(s, req, hb);
}

static int buf_submit(struct vp_session *s, struct vmedia_buffer *b,
		      unsigned long req)
{
	struct v4l2_plane hp[VIDEO_MAX_PLANES];
	struct v4l2_buffer hb;
	struct vp_queue *q;
	struct vp_buf *vb;
	int ret = s->dead ? -s->dead : buf_lookup(s, b, true, &q);

	if (ret)
		return ret;
	vb = &q->bufs[b->b.index];
	if (vb->state == VP_BUF_QUEUED ||
	    (req == VIDIOC_PREPARE_BUF && vb->state != VP_BUF_IDLE))
		return -EINVAL;
	ret = take_planes(q, vb, b);
	if (ret)
		return ret;
	ret = host_submit(s, q, vb, b, req, &hb, hp);
	if (ret)
		return ret;
	if (req == VIDIOC_PREPARE_BUF) {
		vb->state = VP_BUF_PREPARED;
	} else {
		vb->state = VP_BUF_QUEUED;
		q->n_queued++;
		q->stalled = false;
	}
	answer(q, &hb, hp, b);
	vp_update_interest(s);
	return 0;
}

int vp_qbuf(void *priv, struct vmedia_buffer *b)
{
	return buf_submit(priv, b, VIDIOC_QBUF);
}

int vp_prepare_buf(void *priv, struct vmedia_buffer *b)
{
	return buf_submit(priv, b, VIDIOC_PREPARE_BUF);
}
