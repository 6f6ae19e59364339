/* SPDX-License-Identifier: MIT */
/*
 * The driver's buffer ioctls and its local DQBUF queue
 * (virtio_media_ioctls.c: reqbufs, create_bufs, querybuf, prepare_buf,
 * qbuf, dqbuf, streamon/off, clear_queue; virtio_media_driver.c:
 * process_dqbuf_event), behind the V4L2 core's check_fmt().
 *
 * The device answers QBUF at once and reports the buffer's completion
 * later with a DQBUF event; the event parks the buffer on its queue's
 * pending list, and DQBUF takes the oldest from there, sleeping (lock
 * dropped) while the list is empty.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "vg_core_priv.h"

/* ---- the pending list ---- */

static void pending_push(struct vg_queue *q, uint32_t i)
{
	q->bufs[i].pending = true;
	q->bufs[i].next = VG_NONE;
	if (q->tail == VG_NONE)
		q->head = i;
	else
		q->bufs[q->tail].next = i;
	q->tail = i;
}

static uint32_t pending_pop(struct vg_queue *q)
{
	uint32_t i = q->head;

	q->head = q->bufs[i].next;
	if (q->head == VG_NONE)
		q->tail = VG_NONE;
	q->bufs[i].pending = false;
	return i;
}

/* Forget what the device still had or had returned (REQBUFS, STREAMOFF). */
static void drop_buffers(struct vg_file *f, struct vg_queue *q)
{
	for (uint32_t i = 0; i < q->allocated; i++) {
		q->bufs[i].pending = false;
		q->bufs[i].b.flags = 0;
		vg_bounce_put(f->c, &q->bufs[i].bounce);
	}
	q->head = q->tail = VG_NONE;
	q->queued = 0;
}

void vg_buf_clear_queue(struct vg_file *f, struct vg_queue *q)
{
	drop_buffers(f, q);
	q->streaming = false;
	q->is_capture_last = false;
	vg_core_wake(f->c); /* a blocked DQBUF gives up */
}

void vg_buf_release(struct vg_file *f)
{
	for (unsigned t = 0; t < VG_NUM_QUEUES; t++) {
		vg_buf_clear_queue(f, &f->q[t]);
		free(f->q[t].bufs);
		f->q[t].bufs = NULL;
		f->q[t].allocated = 0;
	}
}

/* ---- sending a buffer (virtio_media_send_buffer_ioctl) ---- */

/* scatterlist_builder_add_buffer: a NULL user pointer has no length. */
static void userptr_fixup(struct v4l2_buffer *b)
{
	bool mp = vg_type_is_mplane(b->type);

	if (b->memory != V4L2_MEMORY_USERPTR)
		return;
	if (!mp && b->m.userptr == 0)
		b->length = 0;
	for (uint32_t i = 0; mp && b->m.planes && i < b->length; i++) {
		if (b->m.planes[i].m.userptr == 0)
			b->m.planes[i].length = 0;
	}
}

/*
 * The lengths the fixup may zero. Linux zeroes them in its copy of the
 * argument, and for multi-planar buffers that copy goes back to the
 * application even when the ioctl fails: a QBUF with a NULL plane
 * pointer then leaves the application's plane length at 0, which spoils
 * its next, valid QBUF of that buffer (v4l2-compliance's USERPTR test
 * does exactly this). We undo the fixup on failure: the device sees
 * what Linux sends, the application does not see the driver's scribble.
 */
struct lengths {
	uint32_t b, p[VIDEO_MAX_PLANES];
};

static unsigned nplanes(const struct v4l2_buffer *b)
{
	if (!vg_type_is_mplane(b->type) || !b->m.planes)
		return 0;
	return b->length < VIDEO_MAX_PLANES ? b->length : VIDEO_MAX_PLANES;
}

static void lengths_save(const struct v4l2_buffer *b, struct lengths *l)
{
	l->b = b->length;
	for (unsigned i = 0; i < nplanes(b); i++)
		l->p[i] = b->m.planes[i].length;
}

static void lengths_restore(struct v4l2_buffer *b, const struct lengths *l)
{
	b->length = l->b;
	for (unsigned i = 0; i < nplanes(b); i++)
		b->m.planes[i].length = l->p[i];
}

static int send_buffer(struct vg_file *f, unsigned long cmd,
		       struct v4l2_buffer *b, const struct vg_media_sg *sg)
{
	struct vg_core *c = f->c;
	bool mp = vg_type_is_mplane(b->type);
	struct v4l2_plane *user = b->m.planes, none;
	struct v4l2_plane *planes = mp && b->length ? user : &none;
	struct lengths l;
	int r;

	if (b->type > VG_LAST_QUEUE || f->dead)
		return -EINVAL;
	lengths_save(b, &l);
	userptr_fixup(b);
	c->m->run_err = 0;
	r = vg_media_ioctl_buffer(c->m, f->session, _IOC_NR(cmd), b, planes,
				  sg);
	/* The device must not move our planes array. */
	if (mp)
		b->m.planes = user;
	if (r)
		lengths_restore(b, &l);
	return vg_core_check(c, r);
}

/* check_fmt, then a known queue. */
static struct vg_queue *queue_of(struct vg_call *k, uint32_t type, int *err)
{
	*err = vg_v4l2_check_fmt(k->c, type);
	if (!*err && type > VG_LAST_QUEUE)
		*err = -EINVAL;
	return *err ? NULL : &k->f->q[type];
}

/* ---- allocation ---- */

static int resize(struct vg_file *f, struct vg_queue *q, uint32_t n)
{
	struct vg_buf *bufs = NULL;

	if (n) {
		bufs = calloc(n, sizeof(*bufs));
		if (!bufs) {
			n = 0;
			free(q->bufs);
			q->bufs = NULL;
			q->allocated = 0;
			return -ENOMEM;
		}
		if (q->bufs)
			memcpy(bufs, q->bufs,
			       sizeof(*bufs) *
				       (q->allocated < n ? q->allocated : n));
	}
	/* Buffers past the end die; their pending entries must too. */
	for (uint32_t i = n; i < q->allocated; i++)
		vg_bounce_put(f->c, &q->bufs[i].bounce);
	free(q->bufs);
	q->bufs = bufs;
	q->allocated = n;
	return 0;
}

int vg_buf_reqbufs(struct vg_call *k)
{
	struct v4l2_requestbuffers *p = k->p;
	struct vg_queue *q;
	int r;

	q = queue_of(k, p->type, &r);
	if (!q)
		return r;
	memset(p->reserved, 0, sizeof(p->reserved)); /* memset_after(flags) */
	if (p->memory == V4L2_MEMORY_USERPTR && !k->c->allow_userptr)
		return -EINVAL;
	r = vg_send_ioctl(k->f, k->cmd, p, sizeof(*p), sizeof(*p));
	if (r)
		return r;
	/* REQBUFS(0) is an implicit STREAMOFF; other counts renew the array */
	if (p->count == 0)
		vg_buf_clear_queue(k->f, q);
	else
		drop_buffers(k->f, q);
	resize(k->f, q, 0);
	r = resize(k->f, q, p->count);
	if (r)
		return r;
	if (vg_type_is_mplane(p->type))
		k->f->uses_mplane = true;
	if (!k->c->allow_userptr)
		p->capabilities &= ~V4L2_BUF_CAP_SUPPORTS_USERPTR;
	p->capabilities &= ~V4L2_BUF_CAP_SUPPORTS_DMABUF;
	return 0;
}

int vg_buf_create_bufs(struct vg_call *k)
{
	struct v4l2_create_buffers *p = k->p;
	uint32_t type = p->format.type;
	struct vg_queue *q;
	uint64_t end;
	int r;

	q = queue_of(k, type, &r);
	if (!q)
		return r;
	memset(p->reserved, 0, sizeof(p->reserved)); /* memset_after(flags) */
	vg_v4l2_sanitize_format(&p->format);
	r = vg_send_ioctl(k->f, k->cmd, p, sizeof(*p), sizeof(*p));
	if (type == V4L2_BUF_TYPE_VIDEO_CAPTURE ||
	    type == V4L2_BUF_TYPE_VIDEO_OUTPUT)
		p->format.fmt.pix.priv = V4L2_PIX_FMT_PRIV_MAGIC;
	if (r || p->count == 0)
		return r; /* count 0: the format was only checked */
	/* Grow to index + count; a device answer below that shrinks none. */
	end = (uint64_t)p->index + p->count;
	if (end > UINT32_MAX / sizeof(struct vg_buf))
		return -ENOMEM;
	return end > q->allocated ? resize(k->f, q, (uint32_t)end) : 0;
}

int vg_buf_querybuf(struct vg_call *k)
{
	struct v4l2_buffer *b = k->p;
	int r = vg_v4l2_check_fmt(k->c, b->type);

	if (!r)
		r = send_buffer(k->f, k->cmd, b, NULL);
	if (r)
		return r;
	if (b->type > VG_LAST_QUEUE || b->index >= k->f->q[b->type].allocated)
		return -EINVAL;
	/* DONE: waiting in our own pending list. */
	b->flags |=
		k->f->q[b->type].bufs[b->index].b.flags & V4L2_BUF_FLAG_DONE;
	return 0;
}

/* Remember the user's `m` to give it back at DQBUF. */
static int keep_m(struct vg_buf *buf, const struct v4l2_buffer *b)
{
	buf->b.m = b->m;
	if (!vg_type_is_mplane(b->type))
		return 0;
	if (b->length > VIDEO_MAX_PLANES)
		return -EINVAL;
	for (uint32_t i = 0; i < b->length; i++)
		buf->planes[i].m = b->m.planes[i].m;
	return 0;
}

/*
 * USERPTR memory for QBUF/PREPARE_BUF. A QBUF of a prepared buffer that
 * brings none (user pointer 0: no SG list goes) leaves the device on the
 * prepared pages, as vb2 does; the application may have written its
 * output data since, which pinned pages would show, so it is copied again.
 */
static int userptr_memory(struct vg_call *k, struct vg_buf *buf,
			  struct v4l2_buffer *b, struct vg_bounce *nb,
			  struct vg_mem sgmem[VIDEO_MAX_PLANES],
			  struct vg_media_sg sg[VIDEO_MAX_PLANES])
{
	int r;

	userptr_fixup(b);
	r = vg_bounce_get(k->c, b, b->m.planes, nb, sgmem, sg);

	if (r || vg_bounce_has_mem(nb) || k->cmd != VIDIOC_QBUF ||
	    !(buf->b.flags & V4L2_BUF_FLAG_PREPARED) ||
	    !vg_type_is_output(b->type))
		return r;
	return vg_bounce_refill(&buf->bounce);
}

/* QBUF and PREPARE_BUF. */
int vg_buf_qbuf(struct vg_call *k)
{
	struct v4l2_buffer *b = k->p;
	bool prep = k->cmd == VIDIOC_PREPARE_BUF;
	struct vg_media_sg sg[VIDEO_MAX_PLANES];
	struct vg_mem sgmem[VIDEO_MAX_PLANES];
	struct vg_bounce nb = { 0 };
	struct lengths l;
	struct vg_queue *q;
	struct vg_buf *buf;
	uint32_t old_flags;
	int r;

	q = queue_of(k, b->type, &r);
	if (!q)
		return r;
	if (b->index >= q->allocated)
		return -EINVAL;
	buf = &q->bufs[b->index];
	if ((prep || !(buf->b.flags & V4L2_BUF_FLAG_PREPARED)) &&
	    keep_m(buf, b))
		return -EINVAL;
	lengths_save(b, &l);
	if (b->memory == V4L2_MEMORY_USERPTR) {
		r = userptr_memory(k, buf, b, &nb, sgmem, sg);
		if (r) {
			lengths_restore(b, &l);
			return r;
		}
	}
	old_flags = buf->b.flags;
	if (!prep)
		buf->b.flags = V4L2_BUF_FLAG_QUEUED;
	r = send_buffer(k->f, k->cmd, b,
			b->memory == V4L2_MEMORY_USERPTR ? sg : NULL);
	if (r) {
		/* Not queued after all: the previous flags stand. */
		if (!prep)
			buf->b.flags = old_flags;
		vg_bounce_put(k->c, &nb);
		lengths_restore(b, &l);
		return r;
	}
	/* The device moves to memory a QBUF brings, else keeps what it had. */
	if (vg_bounce_has_mem(&nb)) {
		vg_bounce_put(k->c, &buf->bounce);
		buf->bounce = nb;
	}
	if (prep)
		buf->b.flags = V4L2_BUF_FLAG_PREPARED;
	else
		q->queued++;
	return 0;
}

/* ---- DQBUF ---- */

struct dq_wait {
	struct vg_file *f;
	struct vg_queue *q;
};

/* Woken by a buffer, and (unlike Linux) by STREAMOFF or a dead session. */
static bool dq_ready(void *arg)
{
	const struct dq_wait *w = arg;

	return w->q->head != VG_NONE || !w->q->streaming || w->f->dead;
}

static int dq_wait(struct vg_call *k, struct vg_queue *q)
{
	struct dq_wait w = { k->f, q };
	int r;

	if (k->fflags & O_NONBLOCK)
		return q->head == VG_NONE ? -EAGAIN : 0;
	if (q->allocated == 0 || !q->streaming)
		return -EINVAL;
	r = vg_core_wait_until(k->c, dq_ready, &w);
	if (r)
		return r;
	return q->head == VG_NONE ? -EINVAL : 0;
}

int vg_buf_dqbuf(struct vg_call *k)
{
	struct v4l2_buffer *b = k->p;
	bool mp = vg_type_is_mplane(b->type);
	struct v4l2_plane *user_planes = b->m.planes;
	uint32_t nplanes = mp && b->length ? b->length : 0;
	struct vg_queue *q;
	struct vg_buf *buf;
	int r;

	q = queue_of(k, b->type, &r);
	if (!q)
		return r;
	/* After a LAST buffer: EPIPE until STREAMOFF or DECODER_CMD START. */
	if (q->is_capture_last)
		return -EPIPE;
	if (k->f->dead)
		return -EINVAL;
	r = dq_wait(k, q);
	if (r)
		return r;
	buf = &q->bufs[pending_pop(q)];
	buf->b.flags &= ~V4L2_BUF_FLAG_DONE;
	if (buf->bounce.n && !vg_type_is_output(buf->b.type))
		vg_bounce_copy_out(k->c, &buf->bounce, &buf->b, buf->planes);
	vg_bounce_put(k->c, &buf->bounce);
	if (nplanes)
		memcpy(user_planes, buf->planes,
		       sizeof(*user_planes) * nplanes);
	*b = buf->b;
	if (mp)
		b->m.planes = user_planes;
	if (!vg_type_is_output(b->type) && (b->flags & V4L2_BUF_FLAG_LAST))
		q->is_capture_last = true;
	return 0;
}

/* The device finished a buffer (virtio_media_process_dqbuf_event). */
void vg_buf_event(struct vg_file *f, const struct v4l2_buffer *eb,
		  const struct v4l2_plane *ep)
{
	struct v4l2_buffer old;
	struct vg_queue *q;
	struct vg_buf *buf;

	if (eb->type > VG_LAST_QUEUE || eb->index >= f->q[eb->type].allocated ||
	    (vg_type_is_mplane(eb->type) && eb->length > VIDEO_MAX_PLANES)) {
		vg_core_warn(f->c, "bad DQBUF event (type %u, index %u)",
			     eb->type, eb->index);
		return;
	}
	q = &f->q[eb->type];
	buf = &q->bufs[eb->index];
	/* Not ours to take: never queued, or reported twice. */
	if (!(buf->b.flags & V4L2_BUF_FLAG_QUEUED) || buf->pending) {
		vg_core_warn(f->c, "DQBUF event for buffer %u not queued",
			     eb->index);
		return;
	}
	/* Keep the `m` the application gave at QBUF. */
	old = buf->b;
	buf->b = *eb;
	buf->b.m = old.m;
	for (uint32_t i = 0; vg_type_is_mplane(eb->type) && i < eb->length;
	     i++) {
		struct v4l2_plane op = buf->planes[i];

		buf->planes[i] = ep[i];
		buf->planes[i].m = op.m;
	}
	buf->b.flags |= V4L2_BUF_FLAG_DONE;
	pending_push(q, eb->index);
	if (q->queued)
		q->queued--;
}

/* ---- streaming ---- */

int vg_buf_streamon(struct vg_call *k)
{
	uint32_t type = *(uint32_t *)k->p;
	int r;

	if (type > VG_LAST_QUEUE)
		return -EINVAL;
	r = vg_send_ioctl(k->f, k->cmd, &type, sizeof(type), 0);
	if (r == 0)
		k->f->q[type].streaming = true;
	return r;
}

int vg_buf_streamoff(struct vg_call *k)
{
	uint32_t type = *(uint32_t *)k->p;
	int r;

	if (type > VG_LAST_QUEUE)
		return -EINVAL;
	r = vg_send_ioctl(k->f, k->cmd, &type, sizeof(type), 0);
	if (r == 0)
		vg_buf_clear_queue(k->f, &k->f->q[type]);
	return r;
}
