/* SPDX-License-Identifier: MIT */
/*
 * Events wait here, in order, until the guest posts eventq buffers. None
 * is ever dropped: a session whose events pile up past the device's limit
 * is failed with EVT_ERROR instead, so the loss is never silent.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/media.h"
#include "vmedia/virtio_mmio.h"

static void fifo_remove_if(struct media_device *md, uint32_t session_id,
			   uint32_t buf_type)
{
	struct media_event **pp = &md->events.head;

	md->events.tail = &md->events.head;
	while (*pp) {
		struct media_event *ev = *pp;
		bool match = ev->session_id == session_id &&
			     (buf_type == 0 ||
			      (ev->u.hdr.event == VIRTIO_MEDIA_EVT_DQBUF &&
			       ev->buf_type == buf_type));

		if (match) {
			*pp = ev->next;
			md->events.count--;
			free(ev);
		} else {
			md->events.tail = &ev->next;
			pp = &ev->next;
		}
	}
}

/* buf_type 0: every event of the session; else its DQBUFs of that queue. */
void events_purge(struct media_device *md, uint32_t session_id,
		  uint32_t buf_type)
{
	if (md->events.tail)
		fifo_remove_if(md, session_id, buf_type);
}

void events_clear(struct media_device *md)
{
	while (md->events.head) {
		struct media_event *ev = md->events.head;

		md->events.head = ev->next;
		free(ev);
	}
	md->events.tail = &md->events.head;
	md->events.count = 0;
}

static void fifo_append(struct media_device *md, struct media_event *ev)
{
	if (!md->events.tail)
		md->events.tail = &md->events.head;
	ev->next = NULL;
	*md->events.tail = ev;
	md->events.tail = &ev->next;
	md->events.count++;
}

/* Put one event in one posted buffer; false when the eventq is empty. */
static bool deliver_one(struct media_device *md, struct virtq *vq)
{
	struct media_event *ev = md->events.head;
	struct virtq_cursor out;
	int ret = virtq_pop(vq, &md->event_chain);

	if (ret < 0) {
		virtio_mmio_fail(md->mmio, "broken event queue");
		return false;
	}
	if (ret == 0)
		return false;
	virtq_writer(&out, &md->event_chain);
	if (virtq_write(&out, ev->u.bytes, ev->len) < 0) {
		/* The guest posted a buffer too small for any event. */
		md_warn(md, "eventq buffer of %zu bytes is too small",
			virtq_cursor_left(&out));
		virtq_push(vq, &md->event_chain, 0);
		return true;
	}
	md->events.head = ev->next;
	if (!md->events.head)
		md->events.tail = &md->events.head;
	md->events.count--;
	virtq_push(vq, &md->event_chain, ev->len);
	free(ev);
	return true;
}

void events_flush(struct media_device *md)
{
	struct virtq *vq =
		virtio_mmio_queue(md->mmio, VIRTIO_MEDIA_QUEUE_EVENT);
	bool delivered = false;

	if (!vq)
		return;
	while (md->events.head && deliver_one(md, vq))
		delivered = true;
	if (delivered)
		virtio_mmio_notify_used(md->mmio, VIRTIO_MEDIA_QUEUE_EVENT);
}

static struct media_event *event_new(uint32_t session_id, uint32_t type,
				     uint32_t len)
{
	struct media_event *ev = calloc(1, sizeof(*ev));

	if (!ev)
		return NULL;
	ev->session_id = session_id;
	ev->len = len;
	ev->u.hdr.event = type;
	ev->u.hdr.session_id = session_id;
	return ev;
}

/* Fail a session: its pending events go, one ERROR event takes their place. */
static void session_fail(struct vmedia_session *s, int err)
{
	struct media_device *md = s->md;
	struct media_event *ev;
	struct virtio_media_event_error e;

	if (s->broken)
		return;
	s->broken = true;
	events_purge(md, s->id, 0);
	ev = event_new(s->id, VIRTIO_MEDIA_EVT_ERROR, sizeof(e));
	if (!ev)
		return; /* out of memory: the guest sees its ioctls fail */
	e = (struct virtio_media_event_error){ .hdr = ev->u.hdr,
					       .errno_value = (uint32_t)err };
	memcpy(ev->u.bytes, &e, sizeof(e));
	fifo_append(md, ev);
	events_flush(md);
}

/* Queue an event for s, or fail s when the device's limit is reached. */
static void session_event(struct vmedia_session *s, struct media_event *ev)
{
	struct media_device *md = s->md;

	if (md->events.count >= md->limits.max_events) {
		free(ev);
		md_limit_warn(
			md, 1,
			"session %u: %u events waiting, guest not reading",
			s->id, md->events.count);
		session_fail(s, ENOSPC);
		return;
	}
	fifo_append(md, ev);
	events_flush(md);
}

void events_push(struct media_device *md, struct media_event *ev)
{
	fifo_append(md, ev);
	events_flush(md);
}

/* ---- services for backends ---------------------------------------------- */

void vmedia_session_dqbuf(struct vmedia_session *s, const struct v4l2_buffer *b,
			  const struct v4l2_plane *planes, unsigned n_planes)
{
	struct virtio_media_event_dqbuf_layout {
		struct virtio_media_event_header hdr;
		struct v4l2_buffer b;
		struct v4l2_plane planes[VIDEO_MAX_PLANES];
	} e;
	struct session_queue *q = session_queue(s, b->type, false);
	struct media_event *ev;

	_Static_assert(sizeof(e) == VIRTIO_MEDIA_EVENT_MAX_SIZE, "dqbuf size");
	/* No DQBUF once the queue stopped: the guest already dropped it. */
	if (s->broken || !q || !q->streaming || b->index >= SESSION_MAX_BUFFERS)
		return;
	ev = event_new(s->id, VIRTIO_MEDIA_EVT_DQBUF, sizeof(e));
	if (!ev)
		return;
	ev->buf_type = b->type;
	memset(&e, 0, sizeof(e));
	e.hdr = ev->u.hdr;
	e.b = *b;
	e.b.flags &= ~V4L2_BUF_FLAG_QUEUED;
	e.b.flags |= V4L2_BUF_FLAG_DONE;
	/* Host pointers stay home; the guest restores its own m. */
	if (vmedia_type_is_mplane(b->type) || b->memory == V4L2_MEMORY_USERPTR)
		memset(&e.b.m, 0, sizeof(e.b.m));
	if (vmedia_type_is_mplane(b->type)) {
		if (n_planes > VIDEO_MAX_PLANES)
			n_planes = VIDEO_MAX_PLANES;
		memcpy(e.planes, planes, n_planes * sizeof(*planes));
		for (unsigned i = 0; i < n_planes; i++)
			if (b->memory == V4L2_MEMORY_USERPTR)
				memset(&e.planes[i].m, 0,
				       sizeof(e.planes[i].m));
		e.b.length = n_planes;
	}
	memcpy(ev->u.bytes, &e, sizeof(e));
	/* The backend is done with the buffer: its guest pages can go. */
	userptr_unmap(s->md, &q->userptr[b->index]);
	session_event(s, ev);
}

void vmedia_session_event(struct vmedia_session *s, const struct v4l2_event *v)
{
	struct {
		struct virtio_media_event_header hdr;
		struct v4l2_event ev;
	} e;
	struct media_event *ev;

	_Static_assert(sizeof(e) == 144, "event size");
	if (s->broken)
		return;
	ev = event_new(s->id, VIRTIO_MEDIA_EVT_EVENT, sizeof(e));
	if (!ev)
		return;
	memset(&e, 0, sizeof(e));
	e.hdr = ev->u.hdr;
	e.ev = *v;
	memcpy(ev->u.bytes, &e, sizeof(e));
	session_event(s, ev);
}

void vmedia_session_error(struct vmedia_session *s, int err)
{
	md_warn(s->md, "session %u failed: %s", s->id, strerror(err));
	session_fail(s, err);
}
