/* SPDX-License-Identifier: MIT */
/*
 * vcam streaming: the frame clock, drawing and completion.
 *
 * Paced (default): frame n ends at start + (n + 1) * timeperframe, with n
 * counted from CLOCK_MONOTONIC at STREAMON, never by summing sleeps. A
 * timerfd wakes the loop at the next frame's end; frames that end with no
 * buffer queued, or while the loop was late, are dropped but still counted
 * in the sequence, as vivid does.
 *
 * Unpaced ("unpaced"): a queued buffer is filled as soon as the loop comes
 * back to us, one per wakeup of an eventfd, so a frame is never completed
 * inside the QBUF that queued it and other work is never starved.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "backends/vcam/vcam.h"
#include "vmedia/log.h"

#define NSEC_PER_SEC 1000000000ull

uint64_t vcam_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

/* When frame `frame` ends; exact for any timeperframe, no drift. */
static uint64_t frame_end_ns(const struct vcam_dev *dev, uint32_t frame)
{
	uint64_t k = (uint64_t)(uint32_t)(frame - dev->q.base_frame) + 1;
	uint64_t num = dev->tpf.numerator, den = dev->tpf.denominator;

	return dev->q.start_ns + k / den * num * NSEC_PER_SEC +
	       k % den * num * NSEC_PER_SEC / den;
}

/* The first frame that has not ended by `now`. */
static uint32_t frames_ended(const struct vcam_dev *dev, uint64_t now)
{
	uint64_t per = dev->tpf.numerator * NSEC_PER_SEC;
	uint64_t den = dev->tpf.denominator;
	uint64_t el, n;

	if (now < dev->q.start_ns)
		return dev->q.base_frame;
	el = now - dev->q.start_ns;
	n = el / per * den + el % per * den / per;
	return dev->q.base_frame + (uint32_t)n;
}

static int timer_arm(struct vcam_dev *dev, uint64_t at_ns)
{
	struct itimerspec its = { 0 };

	/* 0 would disarm: a deadline of 0 means "now" here. */
	if (!at_ns)
		at_ns = 1;
	its.it_value.tv_sec = (time_t)(at_ns / NSEC_PER_SEC);
	its.it_value.tv_nsec = (long)(at_ns % NSEC_PER_SEC);
	if (timerfd_settime(dev->timer_fd, TFD_TIMER_ABSTIME, &its, NULL) < 0)
		return -errno;
	return 0;
}

static void timer_disarm(struct vcam_dev *dev)
{
	struct itimerspec its = { 0 };

	if (dev->timer_fd >= 0)
		(void)timerfd_settime(dev->timer_fd, 0, &its, NULL);
}

static void kick(struct vcam_dev *dev)
{
	uint64_t one = 1;

	if (dev->kick_pending)
		return;
	/* Cannot overflow: one write per drain. */
	if (write(dev->kick_fd, &one, sizeof(one)) == sizeof(one))
		dev->kick_pending = true;
}

/* Copy len bytes into the guest's segments, in order. */
static void scatter(const struct vmedia_userptr *up, const uint8_t *src,
		    size_t len)
{
	if (len > up->len)
		len = up->len;
	for (unsigned i = 0; i < up->n && len; i++) {
		size_t chunk =
			up->iov[i].iov_len < len ? up->iov[i].iov_len : len;

		if (!up->iov[i].iov_base)
			return;
		memcpy(up->iov[i].iov_base, src, chunk);
		src += chunk;
		len -= chunk;
	}
}

static uint8_t *scratch_get(struct vcam_dev *dev, size_t size)
{
	struct vcam_queue *q = &dev->q;

	if (q->scratch_size < size) {
		free(q->scratch);
		q->scratch = malloc(size);
		q->scratch_size = q->scratch ? size : 0;
	}
	return q->scratch;
}

/*
 * USERPTR: draw straight into the guest's memory when each plane is one
 * segment, else into the scratch frame and scatter it.
 */
static int render_userptr(struct vcam_dev *dev, struct vcam_buf *vb,
			  uint32_t seq, uint64_t ts)
{
	const struct vcam_format *f = &dev->fmt;
	void *planes[VCAM_MAX_PLANES];
	size_t sizes[VCAM_MAX_PLANES];
	bool direct = true;
	uint8_t *buf;
	int ret;

	for (unsigned p = 0; p < f->mem_planes; p++) {
		const struct vmedia_userptr *up = vb->planes[p].up;

		if (!up)
			return -EINVAL;
		planes[p] = up->iov[0].iov_base;
		sizes[p] = up->iov[0].iov_len < up->len ? up->iov[0].iov_len
							: up->len;
		if (up->n != 1 || !planes[p] || sizes[p] < f->sizeimage[p])
			direct = false;
	}
	if (direct)
		return tpg_fill(&dev->tpg, &f->tf, seq, ts, planes, sizes,
				f->mem_planes);
	buf = scratch_get(dev, f->tf.total_size);
	if (!buf)
		return -ENOMEM;
	planes[0] = buf;
	sizes[0] = f->tf.total_size;
	ret = tpg_fill(&dev->tpg, &f->tf, seq, ts, planes, sizes, 1);
	if (ret)
		return ret;
	for (unsigned p = 0; p < f->mem_planes; p++) {
		size_t off = f->mem_planes == 1 ? 0 : f->tf.offset[p];

		scatter(vb->planes[p].up, buf + off, f->sizeimage[p]);
	}
	return 0;
}

static int render(struct vcam_dev *dev, struct vcam_buf *vb, uint32_t seq,
		  uint64_t ts)
{
	const struct vcam_format *f = &dev->fmt;
	void *planes[VCAM_MAX_PLANES];
	size_t sizes[VCAM_MAX_PLANES];

	if (dev->q.memory == V4L2_MEMORY_USERPTR)
		return render_userptr(dev, vb, seq, ts);
	/* MMAP: straight into the shared memory, no copy. */
	for (unsigned p = 0; p < f->mem_planes; p++) {
		planes[p] = vb->planes[p].host;
		sizes[p] = vb->planes[p].length;
	}
	return tpg_fill(&dev->tpg, &f->tf, seq, ts, planes, sizes,
			f->mem_planes);
}

/* Report the buffer done to its owner; the guest owns it from now on. */
static void complete(struct vcam_dev *dev, unsigned index, bool error)
{
	struct vcam_buf *vb = &dev->q.bufs[index];
	struct v4l2_plane planes[VIDEO_MAX_PLANES];
	struct v4l2_buffer b;

	vcam_buf_to_v4l2(dev, index, &b, planes);
	if (error)
		b.flags |= V4L2_BUF_FLAG_ERROR;
	vmedia_session_dqbuf(dev->q.owner->vs, &b, planes,
			     dev->mplane ? vb->n_planes : 0);
	/* The guest's USERPTR mapping ends with the report. */
	for (unsigned p = 0; p < vb->n_planes; p++)
		vb->planes[p].up = NULL;
}

/* Frame `seq` ended at ts: fill the oldest queued buffer, or drop it. */
static void produce(struct vcam_dev *dev, uint32_t seq, uint64_t ts)
{
	struct vcam_queue *q = &dev->q;
	struct vcam_buf *vb;
	unsigned index;
	bool error;

	if (!q->fifo_len) {
		q->dropped++;
		return;
	}
	index = q->fifo[q->fifo_head];
	q->fifo_head = (q->fifo_head + 1) % VCAM_MAX_BUFFERS;
	q->fifo_len--;
	vb = &q->bufs[index];
	error = render(dev, vb, seq, ts) != 0;
	if (error)
		vm_warn(vcam_domid(q->owner), "vcam: cannot draw frame %u",
			seq);
	if (vcam_take_injection(dev, VCAM_INJECT_FRAME_ERROR))
		error = true;
	vb->state = VCAM_BUF_DEQUEUED;
	vb->sequence = seq;
	vb->ts_ns = ts;
	for (unsigned p = 0; p < vb->n_planes; p++)
		vb->planes[p].bytesused = dev->fmt.sizeimage[p];
	complete(dev, index, error);
}

static void on_timer(void *ctx, uint32_t events)
{
	struct vcam_dev *dev = ctx;
	struct vcam_queue *q = &dev->q;
	uint64_t expirations;
	uint32_t ended;

	(void)events;
	(void)!read(dev->timer_fd, &expirations, sizeof(expirations));
	if (!q->streaming || dev->unpaced)
		return;
	ended = frames_ended(dev, vcam_now_ns());
	if ((int32_t)(ended - q->next_frame) > 0) {
		uint32_t last = ended - 1;

		/* Frames that ended while we were not called are lost. */
		q->dropped += last - q->next_frame;
		produce(dev, last, frame_end_ns(dev, last));
		q->next_frame = ended;
	}
	if (timer_arm(dev, frame_end_ns(dev, q->next_frame)))
		vm_err(vcam_domid(q->owner), "vcam: cannot arm frame timer");
}

static void on_kick(void *ctx, uint32_t events)
{
	struct vcam_dev *dev = ctx;
	struct vcam_queue *q = &dev->q;
	uint64_t v;

	(void)events;
	(void)!read(dev->kick_fd, &v, sizeof(v));
	dev->kick_pending = false;
	if (!q->streaming || !q->fifo_len)
		return;
	produce(dev, q->next_frame++, vcam_now_ns());
	/* One frame per wakeup; come back for the next after other work. */
	if (q->streaming && q->fifo_len)
		kick(dev);
}

int vcam_stream_init(struct vcam_dev *dev)
{
	int fd, ret;

	dev->timer_fd = dev->kick_fd = -1;
	if (dev->unpaced)
		fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	else
		fd = timerfd_create(CLOCK_MONOTONIC,
				    TFD_NONBLOCK | TFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (dev->unpaced) {
		dev->kick_fd = fd;
		ret = evloop_add(dev->loop, &dev->kick_src, fd, EPOLLIN,
				 on_kick, dev);
	} else {
		dev->timer_fd = fd;
		ret = evloop_add(dev->loop, &dev->timer_src, fd, EPOLLIN,
				 on_timer, dev);
	}
	if (ret) {
		close(fd);
		dev->timer_fd = dev->kick_fd = -1;
	}
	return ret;
}

void vcam_stream_fini(struct vcam_dev *dev)
{
	evloop_del(dev->loop, &dev->timer_src);
	evloop_del(dev->loop, &dev->kick_src);
	if (dev->timer_fd >= 0)
		close(dev->timer_fd);
	if (dev->kick_fd >= 0)
		close(dev->kick_fd);
	dev->timer_fd = dev->kick_fd = -1;
}

static void clock_start(struct vcam_dev *dev, uint32_t first_frame)
{
	dev->q.start_ns = vcam_now_ns();
	dev->q.base_frame = first_frame;
	dev->q.next_frame = first_frame;
}

int vcam_streamon(void *priv, uint32_t type)
{
	struct vcam_session *s = priv;
	struct vcam_dev *dev = s->dev;
	struct vcam_queue *q = &dev->q;
	int ret;

	if (type != dev->buf_type)
		return -EINVAL;
	if (vcam_busy_for(dev, s))
		return -EBUSY;
	if (q->streaming)
		return 0;
	if (!q->n_bufs)
		return -EINVAL;
	clock_start(dev, 0);
	q->dropped = 0;
	q->streaming = true;
	if (dev->unpaced) {
		if (q->fifo_len)
			kick(dev);
		return 0;
	}
	ret = timer_arm(dev, frame_end_ns(dev, 0));
	if (ret)
		q->streaming = false;
	return ret;
}

void vcam_stream_cancel(struct vcam_dev *dev)
{
	struct vcam_queue *q = &dev->q;

	if (q->streaming)
		vm_debug(vcam_domid(q->owner),
			 "vcam: stream off after %u frames, %llu dropped",
			 q->next_frame, (unsigned long long)q->dropped);
	q->streaming = false;
	timer_disarm(dev);
	/* As vb2: queued and prepared buffers go back to the guest unseen. */
	for (unsigned i = 0; i < q->n_bufs; i++) {
		struct vcam_buf *vb = &q->bufs[i];

		vb->state = VCAM_BUF_DEQUEUED;
		for (unsigned p = 0; p < vb->n_planes; p++)
			vb->planes[p].up = NULL;
	}
	q->fifo_head = q->fifo_len = 0;
}

int vcam_streamoff(void *priv, uint32_t type)
{
	struct vcam_session *s = priv;
	struct vcam_dev *dev = s->dev;

	if (type != dev->buf_type)
		return -EINVAL;
	if (vcam_busy_for(dev, s))
		return -EBUSY;
	vcam_stream_cancel(dev);
	return 0;
}

void vcam_stream_buffer_queued(struct vcam_dev *dev)
{
	if (dev->q.streaming && dev->unpaced)
		kick(dev);
}

void vcam_stream_rate_changed(struct vcam_dev *dev)
{
	struct vcam_queue *q = &dev->q;

	if (!q->streaming || dev->unpaced)
		return;
	/* Keep the sequence; the new period starts now. */
	clock_start(dev, q->next_frame);
	if (timer_arm(dev, frame_end_ns(dev, q->next_frame)))
		vm_err(vcam_domid(q->owner), "vcam: cannot arm frame timer");
}
