/* SPDX-License-Identifier: MIT */
/*
 * Streaming: STREAMON/OFF, the host fd in the guest thread's event loop,
 * and what comes back from the host (DQBUF, DQEVENT).
 *
 * The fd is always polled for POLLPRI (V4L2 events). POLLIN (capture) and
 * POLLOUT (output; an m2m device has both) are asked for only while that
 * queue streams with at least one buffer queued: otherwise vb2 answers
 * POLLERR at once and the loop would spin. A queue whose POLLERR led
 * nowhere, or that ended with a LAST buffer (DQBUF: EPIPE), is left alone
 * until the guest changes something (QBUF, STREAMON, a codec command).
 *
 * Host results are distrusted like guest input: a dequeued buffer must be
 * one we queued, with no more planes than it has and no more bytes than
 * its memory holds. Anything else fails the session with EIO before a
 * byte reaches the guest.
 */
#include <errno.h>
#include <string.h>
#include <sys/epoll.h>

#include "backends/v4l2_proxy/proxy.h"

/* POLLERR wakeups in a row with nothing to do before we give up. */
#define VP_MAX_ERR_SPINS 64
/* Events taken per wakeup; the rest come with the next one. */
#define VP_EVENTS_PER_WAKEUP 64

void vp_update_interest(struct vp_session *s)
{
	uint32_t want = EPOLLPRI;

	if (s->dead || !s->src.added)
		return;
	for (unsigned i = 0; i < VP_MAX_QUEUES; i++) {
		const struct vp_queue *q = &s->q[i];

		if (!q->type || !q->streaming || !q->n_queued || q->last ||
		    q->stalled)
			continue;
		want |= V4L2_TYPE_IS_OUTPUT(q->type) ? EPOLLOUT : EPOLLIN;
	}
	if (want == s->interest)
		return;
	if (evloop_mod(s->dev->loop, &s->src, want) == 0)
		s->interest = want;
}

void vp_queue_cancel(struct vp_queue *q)
{
	for (unsigned i = 0; i < q->n_bufs; i++) {
		struct vp_buf *vb = &q->bufs[i];

		vb->state = VP_BUF_IDLE;
		/* The guest's pages are unmapped once STREAMOFF returns. */
		for (unsigned p = 0; p < vb->n_planes; p++)
			vb->p[p].up = NULL;
	}
	q->n_queued = 0;
	q->last = q->stalled = false;
}

int vp_streamon(void *priv, uint32_t type)
{
	struct vp_session *s = priv;
	struct vp_queue *q;
	int ret = vp_ioctl(s, VIDIOC_STREAMON, &type);

	if (ret)
		return ret;
	q = vp_queue_get(s, type, true);
	if (q) {
		q->streaming = true;
		q->last = q->stalled = false;
	}
	vp_update_interest(s);
	return 0;
}

int vp_streamoff(void *priv, uint32_t type)
{
	struct vp_session *s = priv;
	struct vp_queue *q;
	int ret = vp_ioctl(s, VIDIOC_STREAMOFF, &type);

	if (ret)
		return ret;
	/* As vb2: every queued or prepared buffer returns, unreported. */
	q = vp_queue_get(s, type, false);
	if (q) {
		vp_queue_cancel(q);
		q->streaming = false;
	}
	vp_update_interest(s);
	return 0;
}

void vp_clear_last(struct vp_session *s)
{
	for (unsigned i = 0; i < VP_MAX_QUEUES; i++)
		s->q[i].last = s->q[i].stalled = false;
	vp_update_interest(s);
}

/* ---- events ----------------------------------------------------------------
 */

void vp_drain_events(struct vp_session *s)
{
	for (unsigned n = 0; n < VP_EVENTS_PER_WAKEUP && !s->dead; n++) {
		struct v4l2_event ev;
		int ret;

		memset(&ev, 0, sizeof(ev));
		ret = vp_ioctl(s, VIDIOC_DQEVENT, &ev);
		if (ret == -ENOENT || ret == -EAGAIN)
			return;
		if (ret == -EIO) {
			vp_fail(s, EIO, "host DQEVENT failed");
			return;
		}
		if (ret)
			return; /* ENODEV already failed the session */
		vmedia_session_event(s->vs, &ev);
	}
}

/* ---- DQBUF -----------------------------------------------------------------
 */

/* Is this dequeued buffer one we can believe? NULL if so, else why not. */
static const char *check_dq(const struct vp_queue *q,
			    const struct v4l2_buffer *hb,
			    const struct v4l2_plane *hp)
{
	const struct vp_buf *vb;

	if (hb->type != q->type || hb->memory != q->host_memory)
		return "buffer of another queue";
	if (hb->index >= q->n_bufs)
		return "buffer index out of range";
	vb = &q->bufs[hb->index];
	if (vb->state != VP_BUF_QUEUED)
		return "buffer that was not queued";
	if (!vmedia_type_is_mplane(q->type))
		return hb->bytesused > vp_plane_capacity(&vb->p[0])
			       ? "bytesused beyond the buffer"
			       : NULL;
	if (hb->length == 0 || hb->length > vb->n_planes)
		return "wrong plane count";
	for (unsigned i = 0; i < hb->length; i++) {
		if (hp[i].bytesused > vp_plane_capacity(&vb->p[i]))
			return "bytesused beyond the plane";
		if (hp[i].data_offset > hp[i].bytesused)
			return "data_offset beyond bytesused";
	}
	return NULL;
}

static void report_done(struct vp_session *s, struct vp_queue *q,
			const struct v4l2_buffer *hb,
			const struct v4l2_plane *hp)
{
	struct vp_buf *vb = &q->bufs[hb->index];
	struct v4l2_plane gp[VIDEO_MAX_PLANES];
	struct v4l2_buffer gb;

	if (!V4L2_TYPE_IS_OUTPUT(q->type))
		vp_copy_to_guest(s, q, vb, hb, hp);
	vb->state = VP_BUF_IDLE;
	q->n_queued--;
	memset(gp, 0, sizeof(gp));
	vp_to_guest(q, hb->index, hb, hp, &gb, gp);
	if (vmedia_type_is_mplane(q->type))
		gb.length = hb->length;
	/* The protocol unmaps the guest's pages with this report. */
	for (unsigned i = 0; i < vb->n_planes; i++)
		vb->p[i].up = NULL;
	vmedia_session_dqbuf(s->vs, &gb,
			     vmedia_type_is_mplane(q->type) ? gp : NULL,
			     vmedia_type_is_mplane(q->type) ? hb->length : 0);
}

/* One DQBUF: 1 = a buffer came, 0 = nothing (more) for now. */
static int dq_one(struct vp_session *s, struct vp_queue *q)
{
	struct v4l2_plane hp[VIDEO_MAX_PLANES];
	struct v4l2_buffer hb;
	const char *bad;
	int ret;

	memset(&hb, 0, sizeof(hb));
	memset(hp, 0, sizeof(hp));
	hb.type = q->type;
	hb.memory = q->host_memory;
	if (vmedia_type_is_mplane(q->type)) {
		hb.m.planes = hp;
		hb.length = VIDEO_MAX_PLANES;
	}
	ret = vp_ioctl(s, VIDIOC_DQBUF, &hb);
	if (ret == -EPIPE)
		q->last = true; /* drained: EPIPE until restarted */
	else if (ret == -EIO)
		vp_fail(s, EIO, "host DQBUF failed");
	if (ret)
		return 0;
	bad = check_dq(q, &hb, hp);
	if (bad) {
		s->dev->stats.bad_host_buffers++;
		vp_fail(s, EIO, bad);
		return 0;
	}
	report_done(s, q, &hb, hp);
	return 1;
}

/* Dequeue every done buffer of the queues of one direction. */
static bool drain_queues(struct vp_session *s, bool output)
{
	bool progress = false;

	for (unsigned i = 0; i < VP_MAX_QUEUES && !s->dead; i++) {
		struct vp_queue *q = &s->q[i];

		if (!q->type || !q->streaming ||
		    (bool)V4L2_TYPE_IS_OUTPUT(q->type) != output)
			continue;
		/* Bounded: each success must be one of our queued buffers. */
		for (unsigned n = 0; n <= VP_MAX_BUFFERS && !s->dead; n++) {
			if (!dq_one(s, q))
				break;
			progress = true;
		}
	}
	return progress;
}

static void stall_all(struct vp_session *s)
{
	for (unsigned i = 0; i < VP_MAX_QUEUES; i++)
		s->q[i].stalled = true;
}

void vp_on_host(void *ctx, uint32_t events)
{
	struct vp_session *s = ctx;
	bool progress = false;

	if (s->dead)
		return;
	if (events & EPOLLPRI)
		vp_drain_events(s);
	if (events & (EPOLLIN | EPOLLERR | EPOLLHUP))
		progress |= drain_queues(s, false);
	if (events & (EPOLLOUT | EPOLLERR | EPOLLHUP))
		progress |= drain_queues(s, true);
	if (s->dead)
		return;
	if (events & EPOLLHUP) {
		vp_fail(s, ENODEV, "host device hung up");
		return;
	}
	if ((events & EPOLLERR) && !progress) {
		/* Not streaming any more, or broken: stop asking. */
		stall_all(s);
		if (++s->err_spins >= VP_MAX_ERR_SPINS) {
			vp_fail(s, EIO, "host device keeps signalling errors");
			return;
		}
	} else {
		s->err_spins = 0;
	}
	vp_update_interest(s);
}

/* ---- DQBUF: capture data back to the guest ------------------------------ */

size_t vp_plane_capacity(const struct vp_plane *p)
{
	return p->host_cap;
}

static size_t scatter(const struct vmedia_userptr *up, const uint8_t *src,
		      size_t len)
{
	size_t done = 0;

	if (len > up->len)
		len = up->len;
	for (unsigned i = 0; i < up->n && done < len; i++) {
		size_t chunk = up->iov[i].iov_len;

		if (!up->iov[i].iov_base)
			break;
		if (chunk > len - done)
			chunk = len - done;
		memcpy(up->iov[i].iov_base, src + done, chunk);
		done += chunk;
	}
	return done;
}

void vp_copy_to_guest(struct vp_session *s, struct vp_queue *q,
		      struct vp_buf *vb, const struct v4l2_buffer *hb,
		      const struct v4l2_plane *hp)
{
	bool mp = vmedia_type_is_mplane(q->type);
	unsigned n = mp ? hb->length : 1;

	for (unsigned i = 0; i < n; i++) {
		struct vp_plane *p = &vb->p[i];
		size_t used = mp ? hp[i].bytesused : hb->bytesused, done;

		if (!p->copy || !used)
			continue;
		if (q->memory == V4L2_MEMORY_MMAP) {
			done = used <= p->length ? used : p->length;
			memcpy(p->shm, p->host_ptr, done);
		} else if (p->up) {
			done = scatter(p->up, p->host_ptr, used);
		} else {
			continue;
		}
		s->dev->stats.copies_to_guest++;
		s->dev->stats.bytes_to_guest += done;
	}
}
