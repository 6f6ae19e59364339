/* SPDX-License-Identifier: MIT */
/*
 * vcam buffers: the vb2 rules a guest's V4L2 stack expects of a capture
 * queue. MMAP memory comes from the device's shared memory region (one
 * allocation per plane, owned by the queue's owner session); USERPTR
 * memory is the guest's, mapped by the protocol layer for as long as the
 * buffer is prepared or queued.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "backends/vcam/vcam.h"
#include "vmedia/log.h"

/*
 * ORPHANED_BUFS as vb2 always sets it: REQBUFS(0) may free buffers the
 * guest still has mapped, since shared memory outlives our reference
 * until the guest unmaps it (vmedia_shm_alloc()).
 */
#define VCAM_BUF_CAPS                                                 \
	(V4L2_BUF_CAP_SUPPORTS_MMAP | V4L2_BUF_CAP_SUPPORTS_USERPTR | \
	 V4L2_BUF_CAP_SUPPORTS_ORPHANED_BUFS)

static bool memory_ok(uint32_t memory)
{
	/* DMABUF is a real memory type, but vcam (and virtio-media) lack it. */
	return memory == V4L2_MEMORY_MMAP || memory == V4L2_MEMORY_USERPTR;
}

static void buf_free(struct vcam_dev *dev, struct vcam_buf *b)
{
	for (unsigned p = 0; p < b->n_planes; p++)
		if (b->planes[p].has_shm && dev->q.owner)
			vmedia_shm_put(dev->q.owner->vs,
				       b->planes[p].mem_offset);
	memset(b, 0, sizeof(*b));
}

void vcam_queue_release(struct vcam_dev *dev)
{
	struct vcam_queue *q = &dev->q;

	for (unsigned i = 0; i < q->n_bufs; i++)
		buf_free(dev, &q->bufs[i]);
	q->n_bufs = 0;
	q->owner = NULL;
	q->memory = 0;
	q->fifo_head = q->fifo_len = 0;
	/* A 4K scratch frame is big; the next stream makes a new one. */
	free(q->scratch);
	q->scratch = NULL;
	q->scratch_size = 0;
}

static int buf_init(struct vcam_session *s, struct vcam_buf *b, uint32_t memory,
		    unsigned n_planes, const uint32_t sizes[])
{
	memset(b, 0, sizeof(*b));
	b->n_planes = n_planes;
	for (unsigned p = 0; p < n_planes; p++) {
		struct vcam_plane *pl = &b->planes[p];
		int ret;

		pl->length = pl->min_length = sizes[p];
		if (memory != V4L2_MEMORY_MMAP)
			continue;
		ret = vmedia_shm_alloc(s->vs, sizes[p], &pl->mem_offset,
				       &pl->host);
		if (ret) {
			/* Undo this buffer's planes; it never existed. */
			for (unsigned k = 0; k < p; k++)
				vmedia_shm_put(s->vs, b->planes[k].mem_offset);
			memset(b, 0, sizeof(*b));
			return ret;
		}
		pl->has_shm = true;
	}
	return 0;
}

/*
 * Append up to count buffers; returns how many were made (as vb2, a
 * partial allocation is a success). *err says why the last one failed.
 */
static unsigned bufs_alloc(struct vcam_dev *dev, struct vcam_session *s,
			   uint32_t memory, unsigned count, unsigned n_planes,
			   const uint32_t sizes[], int *err)
{
	unsigned made = 0;

	*err = 0;
	while (made < count && dev->q.n_bufs < VCAM_MAX_BUFFERS) {
		*err = buf_init(s, &dev->q.bufs[dev->q.n_bufs], memory,
				n_planes, sizes);
		if (*err)
			break;
		dev->q.n_bufs++;
		made++;
	}
	if (*err)
		vm_debug(vcam_domid(s),
			 "vcam: buffer memory: made %u of %u (%d)", made, count,
			 *err);
	/* No shared memory region: MMAP is not possible on this device. */
	if (*err == -ENOTTY)
		*err = -EINVAL;
	else if (*err)
		*err = -ENOMEM;
	return made;
}

int vcam_reqbufs(void *priv, struct v4l2_requestbuffers *r)
{
	struct vcam_session *s = priv;
	struct vcam_dev *dev = s->dev;
	unsigned made;
	int err;

	r->capabilities = VCAM_BUF_CAPS;
	r->flags = 0; /* no cache hints */
	memset(r->reserved, 0, sizeof(r->reserved));
	if (!memory_ok(r->memory) || r->type != dev->buf_type)
		return -EINVAL;
	if (vcam_busy_for(dev, s) || dev->q.streaming)
		return -EBUSY;
	if (dev->q.n_bufs) {
		vcam_stream_cancel(dev); /* prepared/queued, not streaming */
		vcam_queue_release(dev);
	}
	if (r->count == 0)
		return 0;
	made = bufs_alloc(dev, s, r->memory,
			  r->count > VCAM_MAX_BUFFERS ? VCAM_MAX_BUFFERS
						      : r->count,
			  dev->fmt.mem_planes, dev->fmt.sizeimage, &err);
	if (!made)
		return err;
	dev->q.owner = s;
	dev->q.memory = r->memory;
	r->count = made;
	return 0;
}

/* Plane sizes CREATE_BUFS asks for: as many planes as the format, each
 * no smaller than the current format needs (vivid's queue_setup). */
static int create_sizes(const struct vcam_dev *dev, const struct v4l2_format *f,
			uint32_t sizes[VCAM_MAX_PLANES], unsigned *n)
{
	const struct vcam_format *cur = &dev->fmt;
	unsigned np = 1;

	if (dev->mplane) {
		np = f->fmt.pix_mp.num_planes;
		if (np == 0 || np > VIDEO_MAX_PLANES)
			return -EINVAL;
		for (unsigned p = 0; p < np; p++)
			if (!f->fmt.pix_mp.plane_fmt[p].sizeimage)
				return -EINVAL;
		if (np != cur->mem_planes)
			return -EINVAL;
		for (unsigned p = 0; p < np; p++)
			sizes[p] = f->fmt.pix_mp.plane_fmt[p].sizeimage;
	} else {
		sizes[0] = f->fmt.pix.sizeimage;
		if (!sizes[0] || cur->mem_planes != 1)
			return -EINVAL;
	}
	for (unsigned p = 0; p < np; p++)
		if (sizes[p] < cur->sizeimage[p])
			return -EINVAL;
	*n = np;
	return 0;
}

int vcam_create_bufs(void *priv, struct v4l2_create_buffers *c)
{
	struct vcam_session *s = priv;
	struct vcam_dev *dev = s->dev;
	uint32_t sizes[VCAM_MAX_PLANES];
	unsigned n_planes, made, room;
	int err;

	c->capabilities = VCAM_BUF_CAPS;
	c->flags = 0;
	memset(c->reserved, 0, sizeof(c->reserved));
	if (!memory_ok(c->memory) || c->format.type != dev->buf_type)
		return -EINVAL;
	c->index = dev->q.n_bufs;
	if (c->count == 0)
		return 0; /* a probe: index and capabilities only */
	if (vcam_busy_for(dev, s))
		return -EBUSY;
	if (dev->q.n_bufs && dev->q.memory != c->memory)
		return -EINVAL;
	err = create_sizes(dev, &c->format, sizes, &n_planes);
	if (err)
		return err;
	room = VCAM_MAX_BUFFERS - dev->q.n_bufs;
	if (!room)
		return -ENOBUFS;
	made = bufs_alloc(dev, s, c->memory, c->count < room ? c->count : room,
			  n_planes, sizes, &err);
	if (!made)
		return err;
	dev->q.owner = s;
	dev->q.memory = c->memory;
	c->count = made;
	return 0;
}

static void ns_to_timeval(uint64_t ns, struct timeval *tv)
{
	tv->tv_sec = (time_t)(ns / 1000000000u);
	tv->tv_usec = (suseconds_t)(ns % 1000000000u / 1000u);
}

void vcam_buf_to_v4l2(const struct vcam_dev *dev, unsigned index,
		      struct v4l2_buffer *b, struct v4l2_plane *planes)
{
	const struct vcam_buf *vb = &dev->q.bufs[index];
	const bool mmap = dev->q.memory == V4L2_MEMORY_MMAP;

	/* m.planes stays NULL: the protocol puts the guest's pointer back. */
	memset(b, 0, sizeof(*b));
	b->index = index;
	b->type = dev->buf_type;
	b->memory = dev->q.memory;
	b->field = V4L2_FIELD_NONE;
	b->sequence = vb->sequence;
	ns_to_timeval(vb->ts_ns, &b->timestamp);
	b->flags = V4L2_BUF_FLAG_TIMESTAMP_MONOTONIC |
		   V4L2_BUF_FLAG_TSTAMP_SRC_EOF;
	if (vb->state == VCAM_BUF_QUEUED)
		b->flags |= V4L2_BUF_FLAG_QUEUED;
	else if (vb->state == VCAM_BUF_PREPARED)
		b->flags |= V4L2_BUF_FLAG_PREPARED;
	if (!dev->mplane) {
		const struct vcam_plane *pl = &vb->planes[0];

		b->bytesused = pl->bytesused;
		b->length = pl->length;
		if (mmap)
			b->m.offset = pl->mem_offset;
		else
			b->m.userptr = pl->userptr;
		return;
	}
	b->length = vb->n_planes;
	for (unsigned p = 0; p < vb->n_planes; p++) {
		const struct vcam_plane *pl = &vb->planes[p];

		memset(&planes[p], 0, sizeof(planes[p]));
		planes[p].bytesused = pl->bytesused;
		planes[p].length = pl->length;
		if (mmap)
			planes[p].m.mem_offset = pl->mem_offset;
		else
			planes[p].m.userptr = pl->userptr;
	}
}

static void buf_report(const struct vcam_dev *dev, unsigned index,
		       struct vmedia_buffer *b)
{
	vcam_buf_to_v4l2(dev, index, &b->b, b->planes);
	if (dev->mplane)
		b->num_planes = dev->q.bufs[index].n_planes;
}

/* Checks shared by QUERYBUF, QBUF and PREPARE_BUF (vb2_queue_or_prepare). */
static int buf_lookup(const struct vcam_dev *dev, const struct vmedia_buffer *b,
		      bool check_memory)
{
	const struct vcam_buf *vb;

	if (b->b.type != dev->buf_type || b->b.index >= dev->q.n_bufs)
		return -EINVAL;
	if (check_memory && b->b.memory != dev->q.memory)
		return -EINVAL;
	vb = &dev->q.bufs[b->b.index];
	/* The guest must pass room for every plane of the buffer. */
	if (dev->mplane &&
	    (b->num_planes < vb->n_planes || b->num_planes > VIDEO_MAX_PLANES))
		return -EINVAL;
	return 0;
}

int vcam_querybuf(void *priv, struct vmedia_buffer *b)
{
	const struct vcam_dev *dev = vcam_dev_of(priv);
	int ret = buf_lookup(dev, b, false);

	if (ret)
		return ret;
	buf_report(dev, b->b.index, b);
	return 0;
}

/*
 * Take the guest's USERPTR planes: each must be mapped and at least as
 * long as the buffer was set up for. Nothing changes unless all are good.
 */
static int buf_prepare(struct vcam_dev *dev, struct vcam_buf *vb,
		       const struct vmedia_buffer *b)
{
	unsigned long addr[VCAM_MAX_PLANES];
	uint32_t len[VCAM_MAX_PLANES];

	if (dev->q.memory != V4L2_MEMORY_USERPTR)
		return 0;
	for (unsigned p = 0; p < vb->n_planes; p++) {
		const struct vmedia_userptr *up = b->userptr[p];

		addr[p] = dev->mplane ? b->planes[p].m.userptr : b->b.m.userptr;
		len[p] = dev->mplane ? b->planes[p].length : b->b.length;
		if (!up || !up->n || !up->iov ||
		    len[p] < vb->planes[p].min_length ||
		    up->len < vb->planes[p].min_length)
			return -EINVAL;
	}
	for (unsigned p = 0; p < vb->n_planes; p++) {
		vb->planes[p].userptr = addr[p];
		vb->planes[p].length = len[p];
		vb->planes[p].up = b->userptr[p];
	}
	return 0;
}

/*
 * A prepared buffer keeps what PREPARE_BUF took, as in vb2, unless QBUF
 * brings memory again: the protocol then keeps only the newer mapping, so
 * the buffer must move to it (vb2 would ignore it; apps pass the same).
 */
static bool has_userptr(const struct vcam_buf *vb,
			const struct vmedia_buffer *b)
{
	for (unsigned p = 0; p < vb->n_planes; p++)
		if (b->userptr[p])
			return true;
	return false;
}

static int buf_begin(struct vcam_session *s, struct vmedia_buffer *b,
		     struct vcam_buf **vbp)
{
	struct vcam_dev *dev = s->dev;
	int ret;

	if (vcam_busy_for(dev, s))
		return -EBUSY;
	ret = buf_lookup(dev, b, true);
	if (ret)
		return ret;
	*vbp = &dev->q.bufs[b->b.index];
	return 0;
}

int vcam_prepare_buf(void *priv, struct vmedia_buffer *b)
{
	struct vcam_session *s = priv;
	struct vcam_buf *vb;
	int ret = buf_begin(s, b, &vb);

	if (ret)
		return ret;
	if (vb->state != VCAM_BUF_DEQUEUED)
		return -EINVAL; /* already prepared or queued */
	ret = buf_prepare(s->dev, vb, b);
	if (ret)
		return ret;
	vb->state = VCAM_BUF_PREPARED;
	buf_report(s->dev, b->b.index, b);
	return 0;
}

int vcam_qbuf(void *priv, struct vmedia_buffer *b)
{
	struct vcam_session *s = priv;
	struct vcam_dev *dev = s->dev;
	struct vcam_queue *q = &dev->q;
	struct vcam_buf *vb;
	int ret = buf_begin(s, b, &vb);

	if (ret)
		return ret;
	if (vb->state == VCAM_BUF_QUEUED)
		return -EINVAL;
	if (vcam_take_injection(dev, VCAM_INJECT_QBUF_EIO))
		return -EIO;
	if (vb->state == VCAM_BUF_DEQUEUED || has_userptr(vb, b)) {
		ret = buf_prepare(dev, vb, b);
		if (ret)
			return ret;
	}
	vb->state = VCAM_BUF_QUEUED;
	vb->ts_ns = 0;
	vb->sequence = 0;
	q->fifo[(q->fifo_head + q->fifo_len) % VCAM_MAX_BUFFERS] =
		(uint8_t)b->b.index;
	q->fifo_len++;
	buf_report(dev, b->b.index, b);
	vcam_stream_buffer_queued(dev);
	return 0;
}
