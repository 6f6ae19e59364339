/* SPDX-License-Identifier: MIT */
/*
 * vcam through its ops table, as the protocol layer calls it: create ->
 * open -> ioctls -> close -> destroy, with the fake protocol services
 * (tests/fakes/fake_session.c) recording events and shared memory.
 *
 * evloop_run() returns once per loop (its stop is final), so a test that
 * streams drives one run whose 1 ms ticker plays the guest: it requeues
 * done buffers and moves the scenario on, between vcam's own callbacks.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "backends/vcam/vcam.h"
#include "fakes/fake_session.h"
#include "tap.h"

#define SHM_SIZE (160u << 20)
#define MS	 1000000ull

struct rig {
	struct evloop *loop;
	void *dev;
	struct vmedia_identity id;
	const struct vmedia_ioctl_ops *io;
	uint32_t type;
	bool mp;
};

struct sess {
	struct vmedia_session *vs;
	void *priv;
};

static bool rig_up(struct rig *r, const char *args)
{
	char msg[160] = "";
	int ret;

	*r = (struct rig){ .io = vcam_backend_class.ops->ioctl };
	TAP_EQ(fake_session_reset(SHM_SIZE), 0);
	r->loop = evloop_create();
	ret = vcam_backend_class.create(args, r->loop, &r->dev, &r->id, msg,
					sizeof(msg));
	TAP_CHECK(ret == 0, "create(%s): %d %s", args, ret, msg);
	r->mp = r->id.device_caps & V4L2_CAP_VIDEO_CAPTURE_MPLANE;
	r->type = r->mp ? V4L2_BUF_TYPE_VIDEO_CAPTURE_MPLANE
			: V4L2_BUF_TYPE_VIDEO_CAPTURE;
	return ret == 0;
}

static void rig_down(struct rig *r)
{
	if (r->dev)
		vcam_backend_class.destroy(r->dev);
	evloop_destroy(r->loop);
	TAP_EQ(fake_shm_live(), 0);
	TAP_EQ(fake_shm_bad_puts(), 0);
	fake_events_set_hook(NULL, NULL);
}

static struct vcam_dev *DEV(struct rig *r)
{
	return r->dev;
}

static void sess_open(struct rig *r, struct sess *s, uint32_t id)
{
	s->vs = fake_session_new(id, 7);
	TAP_EQ(vcam_backend_class.ops->open(r->dev, s->vs, &s->priv), 0);
}

static void sess_close(struct sess *s)
{
	vcam_backend_class.ops->close(s->priv);
	fake_session_free(s->vs);
	s->vs = NULL;
}

/* ---- ioctl helpers ---- */

static int reqbufs(struct rig *r, struct sess *s, uint32_t mem, uint32_t n,
		   uint32_t *got)
{
	struct v4l2_requestbuffers rb = { .count = n,
					  .type = r->type,
					  .memory = mem };
	int ret = r->io->reqbufs(s->priv, &rb);

	if (got)
		*got = rb.count;
	if (!ret)
		TAP_EQ(rb.capabilities,
		       V4L2_BUF_CAP_SUPPORTS_MMAP |
			       V4L2_BUF_CAP_SUPPORTS_USERPTR |
			       V4L2_BUF_CAP_SUPPORTS_ORPHANED_BUFS);
	return ret;
}

static void buf_init(struct rig *r, struct vmedia_buffer *b, uint32_t mem,
		     uint32_t index)
{
	memset(b, 0, sizeof(*b));
	b->b.type = r->type;
	b->b.memory = mem;
	b->b.index = index;
	if (r->mp)
		b->b.length = b->num_planes = VIDEO_MAX_PLANES;
}

static int qbuf(struct rig *r, struct sess *s, uint32_t index)
{
	struct vmedia_buffer b;
	int ret;

	buf_init(r, &b, V4L2_MEMORY_MMAP, index);
	ret = r->io->qbuf(s->priv, &b);
	if (!ret)
		TAP_CHECK(b.b.flags & V4L2_BUF_FLAG_QUEUED,
			  "QUEUED after QBUF");
	return ret;
}

static uint32_t querybuf_flags(struct rig *r, struct sess *s, uint32_t index)
{
	struct vmedia_buffer b;

	buf_init(r, &b, V4L2_MEMORY_MMAP, index);
	TAP_EQ(r->io->querybuf(s->priv, &b), 0);
	return b.b.flags;
}

static int s_fmt(struct rig *r, struct sess *s, uint32_t fourcc, uint32_t w,
		 uint32_t h, struct v4l2_format *out)
{
	struct v4l2_format f = { .type = r->type };

	if (r->mp) {
		f.fmt.pix_mp.pixelformat = fourcc;
		f.fmt.pix_mp.width = w;
		f.fmt.pix_mp.height = h;
	} else {
		f.fmt.pix.pixelformat = fourcc;
		f.fmt.pix.width = w;
		f.fmt.pix.height = h;
	}
	int ret = r->io->s_fmt(s->priv, &f);
	if (out)
		*out = f;
	return ret;
}

static int s_ctrl(struct rig *r, struct sess *s, uint32_t id, int32_t *v)
{
	struct v4l2_control c = { .id = id, .value = *v };
	int ret = r->io->s_ctrl(s->priv, &c);

	*v = c.value;
	return ret;
}

static int32_t g_ctrl(struct rig *r, struct sess *s, uint32_t id)
{
	struct v4l2_control c = { .id = id };

	TAP_EQ(r->io->g_ctrl(s->priv, &c), 0);
	return c.value;
}

/* ---- the guest, played by a ticker inside the loop ---- */

struct drive {
	bool (*step)(struct drive *d); /* true: done */
	void *ctx;
	int tfd;
	struct evloop_source src;
	struct evloop *loop;
	uint64_t t0, limit;
	bool timed_out;
};

static void drive_tick(void *ctx, uint32_t events)
{
	struct drive *d = ctx;
	uint64_t n;

	(void)events;
	(void)!read(d->tfd, &n, sizeof(n));
	if (vcam_now_ns() - d->t0 > d->limit) {
		d->timed_out = true;
		evloop_stop(d->loop);
	} else if (d->step(d)) {
		evloop_stop(d->loop);
	}
}

/* Once per rig: a stopped loop stays stopped. */
static void drive(struct rig *r, bool (*step)(struct drive *), void *ctx,
		  unsigned timeout_ms)
{
	struct itimerspec its = { .it_interval.tv_nsec = 1000000,
				  .it_value.tv_nsec = 1000000 };
	struct drive d = { .step = step, .ctx = ctx, .loop = r->loop };

	d.tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	TAP_CHECK(d.tfd >= 0, "timerfd");
	TAP_EQ(timerfd_settime(d.tfd, 0, &its, NULL), 0);
	TAP_EQ(evloop_add(r->loop, &d.src, d.tfd, EPOLLIN, drive_tick, &d), 0);
	d.t0 = vcam_now_ns();
	d.limit = timeout_ms * MS;
	TAP_EQ(evloop_run(r->loop), 0);
	evloop_del(r->loop, &d.src);
	close(d.tfd);
	TAP_CHECK(!d.timed_out, "scenario timed out after %u ms", timeout_ms);
}

/*
 * USERPTR memory: one piece, or split in odd pieces laid out in reverse,
 * with guard bytes between them.
 */
struct uplane {
	uint8_t *pool;
	size_t pool_len, len;
	struct iovec iov[512];
	struct vmedia_userptr up;
};

#define GUARD 0xAA

static void uplane_make(struct uplane *u, size_t len, bool split)
{
	static const size_t pieces[] = { 1, 4095, 7, 10000, 3, 65536, 8 };
	size_t off = 0, pos;
	unsigned n = 0;

	u->len = len;
	u->pool_len = len + 16 * 513;
	u->pool = malloc(u->pool_len);
	memset(u->pool, GUARD, u->pool_len);
	pos = u->pool_len;
	while (off < len && n < 511) {
		size_t l = split ? pieces[n % ARRAY_SIZE(pieces)] : len;

		l = l > len - off ? len - off : l;
		pos -= l + 16;
		u->iov[n++] = (struct iovec){ u->pool + pos, l };
		off += l;
	}
	if (off < len) { /* the rest in one piece */
		pos -= len - off + 16;
		u->iov[n++] = (struct iovec){ u->pool + pos, len - off };
	}
	u->up = (struct vmedia_userptr){ u->iov, n, len };
}

/* Gather the plane back; false when a guard byte was touched. */
static bool uplane_gather(const struct uplane *u, uint8_t *out)
{
	size_t off = 0, guards = 0;

	for (unsigned i = 0; i < u->up.n; i++) {
		memcpy(out + off, u->iov[i].iov_base, u->iov[i].iov_len);
		off += u->iov[i].iov_len;
	}
	for (size_t i = 0; i < u->pool_len; i++)
		guards += u->pool[i] == GUARD;
	return guards >= u->pool_len - u->len;
}

struct cap {
	struct rig *r;
	struct sess *s;
	uint32_t mem, tpg_fourcc, w, h;
	unsigned want, seen, next_ev, stamps, phase, n_bufs, events_at_off;
	int64_t last_seq;
	uint64_t last_us, t_off;
	struct uplane up[4][VCAM_MAX_PLANES];
	unsigned up_planes;
	uint32_t sizeimage[VCAM_MAX_PLANES];
	unsigned error_frames;
};

static int qbuf_userptr(struct cap *c, uint32_t index)
{
	struct vmedia_buffer b;

	buf_init(c->r, &b, V4L2_MEMORY_USERPTR, index);
	for (unsigned p = 0; p < c->up_planes; p++) {
		struct uplane *u = &c->up[index][p];
		unsigned long addr = 0x10000000ul + index * 0x1000000ul + p;

		b.userptr[p] = &u->up;
		if (c->r->mp) {
			b.planes[p].m.userptr = addr;
			b.planes[p].length = (uint32_t)u->len;
		} else {
			b.b.m.userptr = addr;
			b.b.length = (uint32_t)u->len;
		}
	}
	return c->r->io->qbuf(c->s->priv, &b);
}

static int cap_qbuf(struct cap *c, uint32_t index)
{
	if (c->mem == V4L2_MEMORY_USERPTR)
		return qbuf_userptr(c, index);
	return qbuf(c->r, c->s, index);
}

/* Gather a USERPTR plane into out; nothing written past bytesused. */
static void check_uplane(const struct uplane *u, uint32_t used, uint8_t *out)
{
	size_t past = 0;

	TAP_CHECK(uplane_gather(u, out), "USERPTR guard bytes touched");
	for (size_t i = used; i < u->len; i++)
		past += out[i] != GUARD;
	TAP_CHECK(!past, "%zu bytes written past bytesused", past);
}

/* The stamp in plane 0 of the reported buffer names its sequence. */
static void cap_check_stamp(struct cap *c, const struct fake_event *e)
{
	const struct v4l2_buffer *b = &e->b;
	struct tpg_format tf;
	uint8_t *luma = NULL, *tmp = NULL;
	uint32_t seq;
	uint64_t ts;

	TAP_EQ(tpg_format_init(&tf, c->tpg_fourcc, c->w, c->h), 0);
	if (c->mem == V4L2_MEMORY_MMAP) {
		luma = fake_shm_host(c->r->mp ? e->planes[0].m.mem_offset
					      : b->m.offset,
				     NULL);
	} else {
		luma = tmp = malloc(c->up[b->index][0].len);
		for (unsigned p = c->up_planes; p-- > 0;)
			check_uplane(&c->up[b->index][p], c->sizeimage[p], tmp);
	}
	TAP_CHECK(luma != NULL, "no memory for buffer %u", b->index);
	if (luma &&
	    tpg_read_stamp(&tf, (void *const[]){ luma }, &seq, &ts) == 0) {
		TAP_EQ(seq, b->sequence);
		TAP_EQ(ts / 1000, (uint64_t)b->timestamp.tv_sec * 1000000 +
					  (uint64_t)b->timestamp.tv_usec);
		c->stamps++;
	}
	free(tmp);
}

static void cap_check_buf(struct cap *c, const struct fake_event *e)
{
	const struct v4l2_buffer *b = &e->b;
	uint64_t us = (uint64_t)b->timestamp.tv_sec * 1000000 +
		      (uint64_t)b->timestamp.tv_usec;

	TAP_EQ(b->type, c->r->type);
	TAP_EQ(b->memory, c->mem);
	TAP_EQ(b->field, V4L2_FIELD_NONE);
	TAP_CHECK(b->flags & V4L2_BUF_FLAG_TIMESTAMP_MONOTONIC, "ts type");
	TAP_CHECK((int64_t)b->sequence > c->last_seq, "sequence %u after %lld",
		  b->sequence, (long long)c->last_seq);
	TAP_CHECK(us > c->last_us, "timestamp goes forward");
	if (c->r->mp) {
		TAP_EQ(e->n_planes, c->up_planes);
		for (unsigned p = 0; p < e->n_planes; p++)
			TAP_EQ(e->planes[p].bytesused, c->sizeimage[p]);
	} else {
		TAP_EQ(b->bytesused, c->sizeimage[0]);
	}
	if (b->flags & V4L2_BUF_FLAG_ERROR)
		c->error_frames++;
	c->last_seq = b->sequence;
	c->last_us = us;
	cap_check_stamp(c, e);
}

/* Phase 0: take frames and requeue; 1: STREAMOFF, then watch for quiet. */
static bool cap_step(struct drive *d)
{
	struct cap *c = d->ctx;
	const struct fake_event *e;

	if (c->phase == 1)
		return vcam_now_ns() - c->t_off > 60 * MS;
	while ((e = fake_event_nth(c->s->vs, FAKE_EV_DQBUF, c->next_ev))) {
		c->next_ev++;
		cap_check_buf(c, e);
		if (++c->seen >= c->want)
			break;
		TAP_EQ(cap_qbuf(c, e->b.index), 0);
	}
	if (c->seen < c->want)
		return false;
	TAP_EQ(c->r->io->streamoff(c->s->priv, c->r->type), 0);
	c->events_at_off = fake_events_count();
	c->t_off = vcam_now_ns();
	c->phase = 1;
	return false;
}

/* Allocate, map (USERPTR), queue all, stream `want` frames, stop. */
static void capture(struct rig *r, struct cap *c, uint32_t mem, unsigned n)
{
	struct sess s;
	struct v4l2_format f = { .type = r->type };
	uint32_t got;

	sess_open(r, &s, 1);
	c->r = r;
	c->s = &s;
	c->mem = mem;
	c->last_seq = -1;
	TAP_EQ(r->io->g_fmt(s.priv, &f), 0);
	c->w = r->mp ? f.fmt.pix_mp.width : f.fmt.pix.width;
	c->h = r->mp ? f.fmt.pix_mp.height : f.fmt.pix.height;
	c->up_planes = r->mp ? f.fmt.pix_mp.num_planes : 1;
	for (unsigned p = 0; p < c->up_planes; p++)
		c->sizeimage[p] = r->mp ? f.fmt.pix_mp.plane_fmt[p].sizeimage
					: f.fmt.pix.sizeimage;
	TAP_EQ(reqbufs(r, &s, mem, n, &got), 0);
	TAP_EQ(got, n);
	c->n_bufs = got;
	for (unsigned i = 0; i < n && mem == V4L2_MEMORY_USERPTR; i++)
		for (unsigned p = 0; p < c->up_planes; p++)
			uplane_make(&c->up[i][p], c->sizeimage[p] + 100, i & 1);
	if (mem == V4L2_MEMORY_MMAP)
		TAP_EQ(fake_shm_live(), n * c->up_planes);
	for (unsigned i = 0; i < n; i++)
		TAP_EQ(cap_qbuf(c, i), 0);
	TAP_EQ(r->io->streamon(s.priv, r->type), 0);
	drive(r, cap_step, c, 5000);
	TAP_EQ(c->seen, c->want);
	TAP_CHECK(c->stamps >= c->want, "stamps read back: %u of %u", c->stamps,
		  c->want);
	TAP_EQ(fake_events_count(), c->events_at_off); /* quiet after OFF */
	for (unsigned i = 0; i < n; i++)
		TAP_CHECK(!(querybuf_flags(r, &s, i) & V4L2_BUF_FLAG_QUEUED),
			  "buffer %u still queued after STREAMOFF", i);
	TAP_EQ(reqbufs(r, &s, mem, 0, NULL), 0);
	TAP_EQ(fake_shm_live(), 0);
	sess_close(&s);
	for (unsigned i = 0; i < n && mem == V4L2_MEMORY_USERPTR; i++)
		for (unsigned p = 0; p < c->up_planes; p++)
			free(c->up[i][p].pool);
}

/* ---- cases ---- */

static void test_args(void)
{
	struct evloop *loop = evloop_create();
	struct vmedia_identity id;
	char msg[160];
	void *dev = NULL;
	static const char *const bad[] = {
		"bogus",
		"mplane,nope",
		"fps=0",
		"fps=abc",
		"fps=1001",
		"card=",
		"card=0123456789abcdef0123456789abcdef"
	};

	TAP_EQ(vcam_backend_class.create("", loop, &dev, &id, msg, sizeof(msg)),
	       0);
	TAP_EQ(id.device_caps, V4L2_CAP_VIDEO_CAPTURE | V4L2_CAP_STREAMING);
	TAP_EQ(id.device_type, 0);
	TAP_CHECK(!strcmp(id.card, "vmedia virtual camera"), "card %s",
		  id.card);
	vcam_backend_class.destroy(dev);
	TAP_EQ(vcam_backend_class.create("card=Cam 2,unpaced,,fps=12,mplane",
					 loop, &dev, &id, msg, sizeof(msg)),
	       0);
	TAP_EQ(id.device_caps,
	       V4L2_CAP_VIDEO_CAPTURE_MPLANE | V4L2_CAP_STREAMING);
	TAP_CHECK(!strcmp(id.card, "Cam 2"), "card %s", id.card);
	vcam_backend_class.destroy(dev);
	for (unsigned i = 0; i < ARRAY_SIZE(bad); i++) {
		msg[0] = '\0';
		TAP_EQ(vcam_backend_class.create(bad[i], loop, &dev, &id, msg,
						 sizeof(msg)),
		       -EINVAL);
		TAP_CHECK(strstr(msg, "mplane, unpaced") && !strchr(msg, '\n'),
			  "message for '%s': %s", bad[i], msg);
	}
	TAP_CHECK(strstr(msg, "card=0123"), "names the bad word: %s", msg);
	evloop_destroy(loop);
}

static void check_enum(bool mp)
{
	struct rig r;
	struct sess s;
	struct v4l2_fmtdesc d;
	unsigned n = 0;

	if (!rig_up(&r, mp ? "mplane" : ""))
		return;
	sess_open(&r, &s, 1);
	for (;; n++) {
		memset(&d, 0xff, sizeof(d));
		d.index = n;
		d.type = r.type;
		if (r.io->enum_fmt(s.priv, &d))
			break;
		TAP_EQ(d.index, n);
		TAP_CHECK(d.description[0] && d.pixelformat && !d.flags &&
				  !d.reserved[0] && !d.mbus_code,
			  "fmtdesc %u", n);
	}
	TAP_EQ(n, mp ? 16 : 11);
	d = (struct v4l2_fmtdesc){
		.type = mp ? V4L2_BUF_TYPE_VIDEO_CAPTURE
			   : V4L2_BUF_TYPE_VIDEO_CAPTURE_MPLANE
	};
	TAP_EQ(r.io->enum_fmt(s.priv, &d), -EINVAL);
	d = (struct v4l2_fmtdesc){ .type = r.type, .index = 0x80000000 };
	TAP_EQ(r.io->enum_fmt(s.priv, &d), -EINVAL);
	sess_close(&s);
	rig_down(&r);
}

static void test_enum_fmt(void)
{
	check_enum(false);
	check_enum(true);
}

static void check_try(bool mp)
{
	struct rig r;
	struct sess s;
	struct v4l2_format g = { .type = 0 }, t;

	if (!rig_up(&r, mp ? "mplane" : ""))
		return;
	sess_open(&r, &s, 1);
	/* Garbage in: every field 0xff, as v4l2-compliance sends. */
	memset(&t, 0xff, sizeof(t));
	t.type = r.type;
	TAP_EQ(r.io->try_fmt(s.priv, &t), 0);
	g.type = r.type;
	TAP_EQ(r.io->g_fmt(s.priv, &g), 0);
	if (mp) {
		TAP_EQ(t.fmt.pix_mp.pixelformat, V4L2_PIX_FMT_YUYV);
		TAP_EQ(t.fmt.pix_mp.num_planes, 1);
		TAP_EQ(t.fmt.pix_mp.field, V4L2_FIELD_NONE);
		TAP_EQ(t.fmt.pix_mp.plane_fmt[1].sizeimage, 0);
	} else {
		TAP_EQ(t.fmt.pix.pixelformat, V4L2_PIX_FMT_YUYV);
		TAP_EQ(t.fmt.pix.field, V4L2_FIELD_NONE);
		TAP_EQ(t.fmt.pix.colorspace, V4L2_COLORSPACE_SRGB);
		TAP_EQ(t.fmt.pix.priv, V4L2_PIX_FMT_PRIV_MAGIC);
	}
	/* TRY(G_FMT) == G_FMT, byte for byte. */
	t = g;
	TAP_EQ(r.io->try_fmt(s.priv, &t), 0);
	TAP_CHECK(!memcmp(&t, &g, sizeof(t)), "TRY_FMT(G_FMT) != G_FMT");
	/* Sizes snap to the nearest supported; layout is computed. */
	TAP_EQ(s_fmt(&r, &s, V4L2_PIX_FMT_RGB24, 1000, 700, &t), 0);
	if (mp) {
		TAP_EQ(t.fmt.pix_mp.width, 1280);
		TAP_EQ(t.fmt.pix_mp.plane_fmt[0].bytesperline, 1280 * 3);
		TAP_EQ(t.fmt.pix_mp.plane_fmt[0].sizeimage, 1280 * 3 * 720);
		TAP_EQ(t.fmt.pix_mp.quantization, V4L2_QUANTIZATION_FULL_RANGE);
		TAP_EQ(s_fmt(&r, &s, V4L2_PIX_FMT_NV12M, 2, 2, &t), 0);
		TAP_EQ(t.fmt.pix_mp.width, 320);
		TAP_EQ(t.fmt.pix_mp.num_planes, 2);
		TAP_EQ(t.fmt.pix_mp.plane_fmt[0].sizeimage, 320 * 240);
		TAP_EQ(t.fmt.pix_mp.plane_fmt[1].sizeimage, 320 * 240 / 2);
	} else {
		TAP_EQ(t.fmt.pix.height, 720);
		TAP_EQ(t.fmt.pix.bytesperline, 1280 * 3);
		TAP_EQ(t.fmt.pix.sizeimage, 1280 * 3 * 720);
		TAP_EQ(s_fmt(&r, &s, V4L2_PIX_FMT_NV12M, 4000, 4000, &t), 0);
		TAP_EQ(t.fmt.pix.pixelformat,
		       V4L2_PIX_FMT_YUYV); /* mplane only */
		TAP_EQ(t.fmt.pix.width, 3840);
		TAP_EQ(s_fmt(&r, &s, V4L2_PIX_FMT_YUV420, 640, 480, &t), 0);
		TAP_EQ(t.fmt.pix.bytesperline, 640);
		TAP_EQ(t.fmt.pix.sizeimage, 640 * 480 * 3 / 2);
		TAP_EQ(t.fmt.pix.quantization, V4L2_QUANTIZATION_LIM_RANGE);
	}
	g = (struct v4l2_format){ .type = V4L2_BUF_TYPE_VIDEO_OUTPUT };
	TAP_EQ(r.io->g_fmt(s.priv, &g), -EINVAL);
	TAP_EQ(r.io->try_fmt(s.priv, &g), -EINVAL);
	/* Buffers pin the format, even for their owner. */
	TAP_EQ(reqbufs(&r, &s, V4L2_MEMORY_MMAP, 1, NULL), 0);
	TAP_EQ(s_fmt(&r, &s, V4L2_PIX_FMT_YUYV, 640, 480, NULL), -EBUSY);
	TAP_EQ(reqbufs(&r, &s, V4L2_MEMORY_MMAP, 0, NULL), 0);
	TAP_EQ(s_fmt(&r, &s, V4L2_PIX_FMT_YUYV, 640, 480, NULL), 0);
	sess_close(&s);
	rig_down(&r);
}

static void test_try_fmt(void)
{
	check_try(false);
	check_try(true);
}

static void test_sizes_rates_parm(void)
{
	struct rig r;
	struct sess s;
	struct v4l2_frmsizeenum fs;
	struct v4l2_frmivalenum fi;
	struct v4l2_streamparm p;
	struct v4l2_input in = { .index = 0 };
	uint32_t i = 5;
	unsigned n;

	if (!rig_up(&r, "fps=12"))
		return;
	sess_open(&r, &s, 1);
	for (n = 0;; n++) {
		fs = (struct v4l2_frmsizeenum){ .index = n,
						.pixel_format =
							V4L2_PIX_FMT_NV12 };
		if (r.io->enum_framesizes(s.priv, &fs))
			break;
		TAP_EQ(fs.type, V4L2_FRMSIZE_TYPE_DISCRETE);
	}
	TAP_EQ(n, 5);
	fs = (struct v4l2_frmsizeenum){ .pixel_format = 0x20202020 };
	TAP_EQ(r.io->enum_framesizes(s.priv, &fs), -EINVAL);
	for (n = 0;; n++) {
		fi = (struct v4l2_frmivalenum){ .index = n,
						.width = 1920,
						.height = 1080,
						.pixel_format =
							V4L2_PIX_FMT_YUYV };
		if (r.io->enum_frameintervals(s.priv, &fi))
			break;
		TAP_EQ(fi.discrete.numerator, 1);
	}
	TAP_EQ(n, 8); /* 60 50 30 25 15 12 10 5 */
	fi.index = 0;
	fi.width = 1921;
	TAP_EQ(r.io->enum_frameintervals(s.priv, &fi), -EINVAL);
	p = (struct v4l2_streamparm){ .type = r.type };
	TAP_EQ(r.io->g_parm(s.priv, &p), 0);
	TAP_EQ(p.parm.capture.capability, V4L2_CAP_TIMEPERFRAME);
	TAP_EQ(p.parm.capture.timeperframe.denominator, 12);
	p.parm.capture.timeperframe = (struct v4l2_fract){ 1001, 30000 };
	TAP_EQ(r.io->s_parm(s.priv, &p), 0);
	TAP_EQ(p.parm.capture.timeperframe.denominator, 30);
	p.parm.capture.timeperframe = (struct v4l2_fract){ 0, 1 };
	TAP_EQ(r.io->s_parm(s.priv, &p), 0);
	TAP_EQ(p.parm.capture.timeperframe.denominator, 12);
	p.parm.capture.timeperframe = (struct v4l2_fract){ 1, 0 };
	TAP_EQ(r.io->s_parm(s.priv, &p), 0);
	p.type = V4L2_BUF_TYPE_VIDEO_CAPTURE_MPLANE;
	TAP_EQ(r.io->g_parm(s.priv, &p), -EINVAL);
	TAP_EQ(r.io->enuminput(s.priv, &in), 0);
	TAP_EQ(in.type, V4L2_INPUT_TYPE_CAMERA);
	in.index = 1;
	TAP_EQ(r.io->enuminput(s.priv, &in), -EINVAL);
	TAP_EQ(r.io->g_input(s.priv, &i), 0);
	TAP_EQ(i, 0);
	TAP_EQ(r.io->s_input(s.priv, &i), 0);
	i = 1;
	TAP_EQ(r.io->s_input(s.priv, &i), -EINVAL);
	sess_close(&s);
	rig_down(&r);
}

static void check_capture(const char *args, uint32_t mem, uint32_t fourcc,
			  uint32_t tpg_fourcc)
{
	struct rig r;
	struct sess s;
	struct cap *c = calloc(1, sizeof(*c));

	if (!rig_up(&r, args))
		return;
	sess_open(&r, &s, 9);
	TAP_EQ(s_fmt(&r, &s, fourcc, 640, 480, NULL), 0);
	sess_close(&s);
	c->want = 12;
	c->tpg_fourcc = tpg_fourcc;
	capture(&r, c, mem, 4);
	TAP_EQ(c->error_frames, 0);
	free(c);
	rig_down(&r);
}

static void test_mmap_splane(void)
{
	check_capture("unpaced", V4L2_MEMORY_MMAP, V4L2_PIX_FMT_YUYV,
		      V4L2_PIX_FMT_YUYV);
}

static void test_mmap_mplane(void)
{
	check_capture("unpaced,mplane", V4L2_MEMORY_MMAP, V4L2_PIX_FMT_NV12M,
		      V4L2_PIX_FMT_NV12);
}

static void test_userptr_splane(void)
{
	check_capture("unpaced", V4L2_MEMORY_USERPTR, V4L2_PIX_FMT_NV12,
		      V4L2_PIX_FMT_NV12);
}

static void test_userptr_mplane(void)
{
	check_capture("mplane,unpaced", V4L2_MEMORY_USERPTR,
		      V4L2_PIX_FMT_YUV420M, V4L2_PIX_FMT_YUV420);
}

static void test_paced(void)
{
	check_capture("fps=60", V4L2_MEMORY_MMAP, V4L2_PIX_FMT_YUYV,
		      V4L2_PIX_FMT_YUYV);
}

/* Paced: with no buffer queued for a while, frames go by uncaptured. */
struct drops {
	struct rig *r;
	struct sess *s;
	uint32_t seq[2];
	unsigned got;
	uint64_t requeue_at;
};

static bool drops_step(struct drive *d)
{
	struct drops *x = d->ctx;
	const struct fake_event *e =
		fake_event_nth(x->s->vs, FAKE_EV_DQBUF, x->got);

	if (e) {
		x->seq[x->got++] = e->b.sequence;
		x->requeue_at = vcam_now_ns() + 150 * MS;
	}
	if (x->got == 2)
		return true;
	if (x->requeue_at && vcam_now_ns() > x->requeue_at) {
		x->requeue_at = 0;
		TAP_EQ(qbuf(x->r, x->s, 0), 0);
	}
	return false;
}

static void test_paced_drops(void)
{
	struct rig r;
	struct sess s;
	struct drops x = { .r = &r, .s = &s };

	if (!rig_up(&r, "fps=60"))
		return;
	sess_open(&r, &s, 1);
	TAP_EQ(reqbufs(&r, &s, V4L2_MEMORY_MMAP, 1, NULL), 0);
	TAP_EQ(qbuf(&r, &s, 0), 0);
	TAP_EQ(r.io->streamon(s.priv, r.type), 0);
	drive(&r, drops_step, &x, 3000);
	/* 150 ms at 60 fps: about 9 frames had no buffer. */
	TAP_CHECK(x.seq[1] > x.seq[0] + 2, "sequence %u then %u", x.seq[0],
		  x.seq[1]);
	TAP_CHECK(DEV(&r)->q.dropped >= x.seq[1] - x.seq[0] - 1, "dropped %llu",
		  (unsigned long long)DEV(&r)->q.dropped);
	sess_close(&s);
	rig_down(&r);
}

static void test_controls(void)
{
	static const uint32_t order[] = {
		V4L2_CID_USER_CLASS,
		V4L2_CID_BRIGHTNESS,
		V4L2_CID_CONTRAST,
		V4L2_CID_SATURATION,
		V4L2_CID_HUE,
		VCAM_CID_INJECT_ERROR,
		V4L2_CID_IMAGE_PROC_CLASS,
		V4L2_CID_TEST_PATTERN,
	};
	struct rig r;
	struct sess s;
	struct v4l2_queryctrl q;
	struct v4l2_query_ext_ctrl qe;
	struct v4l2_querymenu m;
	uint32_t id = 0;
	int32_t v;

	if (!rig_up(&r, ""))
		return;
	sess_open(&r, &s, 1);
	for (unsigned i = 0; i < ARRAY_SIZE(order); i++) {
		memset(&q, 0xff, sizeof(q));
		q.id = id | V4L2_CTRL_FLAG_NEXT_CTRL;
		TAP_EQ(r.io->queryctrl(s.priv, &q), 0);
		TAP_EQ(q.id, order[i]);
		TAP_CHECK(!q.reserved[0] && !q.reserved[1], "reserved");
		id = q.id;
	}
	q.id = id | V4L2_CTRL_FLAG_NEXT_CTRL;
	TAP_EQ(r.io->queryctrl(s.priv, &q), -EINVAL);
	q.id = V4L2_CTRL_FLAG_NEXT_COMPOUND;
	TAP_EQ(r.io->queryctrl(s.priv, &q), -EINVAL);
	memset(&qe, 0xff, sizeof(qe));
	qe.id = V4L2_CID_HUE;
	TAP_EQ(r.io->query_ext_ctrl(s.priv, &qe), 0);
	TAP_CHECK(qe.minimum == -128 && qe.maximum == 127 && qe.step == 1 &&
			  qe.default_value == 0 && qe.elem_size == 4 &&
			  qe.elems == 1 && !qe.nr_of_dims && !qe.reserved[0] &&
			  qe.flags == V4L2_CTRL_FLAG_SLIDER,
		  "hue query");
	qe.id = V4L2_CID_USER_CLASS;
	TAP_EQ(r.io->query_ext_ctrl(s.priv, &qe), 0);
	TAP_EQ(qe.flags, V4L2_CTRL_FLAG_READ_ONLY | V4L2_CTRL_FLAG_WRITE_ONLY);
	/* Old-style private ids name the private user control. */
	q.id = V4L2_CID_PRIVATE_BASE;
	TAP_EQ(r.io->queryctrl(s.priv, &q), 0);
	TAP_EQ(q.id, V4L2_CID_PRIVATE_BASE);
	TAP_CHECK(!strcmp((char *)q.name, "Inject Error"), "%s", q.name);
	q.id = V4L2_CID_PRIVATE_BASE + 1;
	TAP_EQ(r.io->queryctrl(s.priv, &q), -EINVAL);
	/* Integers clamp, menus refuse with ERANGE (the kernel's rules). */
	TAP_EQ(g_ctrl(&r, &s, V4L2_CID_BRIGHTNESS), 128);
	v = 300;
	TAP_EQ(s_ctrl(&r, &s, V4L2_CID_BRIGHTNESS, &v), 0);
	TAP_EQ(v, 255);
	v = -200;
	TAP_EQ(s_ctrl(&r, &s, V4L2_CID_HUE, &v), 0);
	TAP_EQ(v, -128);
	TAP_EQ(DEV(&r)->tpg.s.hue, -128);
	v = TPG_PAT_COUNT;
	TAP_EQ(s_ctrl(&r, &s, V4L2_CID_TEST_PATTERN, &v), -ERANGE);
	v = -1;
	TAP_EQ(s_ctrl(&r, &s, V4L2_CID_TEST_PATTERN, &v), -ERANGE);
	v = TPG_PAT_CHECKERS;
	TAP_EQ(s_ctrl(&r, &s, V4L2_CID_TEST_PATTERN, &v), 0);
	TAP_EQ(DEV(&r)->tpg.s.pattern, TPG_PAT_CHECKERS);
	v = 0;
	TAP_EQ(s_ctrl(&r, &s, V4L2_CID_USER_CLASS, &v), -EACCES);
	struct v4l2_control c = { .id = V4L2_CID_USER_CLASS };
	TAP_EQ(r.io->g_ctrl(s.priv, &c), -EACCES);
	c.id = 0;
	TAP_EQ(r.io->g_ctrl(s.priv, &c), -EINVAL);
	TAP_EQ(r.io->s_ctrl(s.priv, &c), -EINVAL);
	for (uint32_t i = 0; i <= TPG_PAT_COUNT; i++) {
		m = (struct v4l2_querymenu){ .id = V4L2_CID_TEST_PATTERN,
					     .index = i,
					     .reserved = 7 };
		if (i == TPG_PAT_COUNT) {
			TAP_EQ(r.io->querymenu(s.priv, &m), -EINVAL);
			break;
		}
		TAP_EQ(r.io->querymenu(s.priv, &m), 0);
		TAP_CHECK(!strcmp((char *)m.name, tpg_pattern_name(i)) &&
				  !m.reserved && m.index == i,
			  "menu %u", i);
	}
	m = (struct v4l2_querymenu){ .id = V4L2_CID_BRIGHTNESS };
	TAP_EQ(r.io->querymenu(s.priv, &m), -EINVAL);
	sess_close(&s);
	rig_down(&r);
}

static int ext(struct rig *r, struct sess *s, int op, uint32_t which,
	       struct v4l2_ext_control *x, uint32_t n, uint32_t *err_idx)
{
	struct v4l2_ext_controls c = {
		.which = which, .count = n, .controls = x, .error_idx = 99
	};
	int ret = op == 0   ? r->io->g_ext_ctrls(s->priv, &c)
		  : op == 1 ? r->io->try_ext_ctrls(s->priv, &c)
			    : r->io->s_ext_ctrls(s->priv, &c);

	TAP_EQ(c.which, which);
	*err_idx = c.error_idx;
	return ret;
}

static void test_ext_controls(void)
{
	const uint32_t user = V4L2_CTRL_CLASS_USER,
		       def = V4L2_CTRL_WHICH_DEF_VAL;
	struct v4l2_ext_control x[3];
	struct rig r;
	struct sess s;
	uint32_t ei;

	if (!rig_up(&r, ""))
		return;
	sess_open(&r, &s, 1);
	TAP_EQ(ext(&r, &s, 0, 0, NULL, 0, &ei), 0);
	TAP_EQ(ext(&r, &s, 1, user, NULL, 0, &ei), 0);
	TAP_EQ(ext(&r, &s, 0, 0x0f020000 /* MIN_VAL */, NULL, 0, &ei), -EINVAL);
	memset(x, 0, sizeof(x));
	x[0].id = V4L2_CID_BRIGHTNESS;
	x[1].id = V4L2_CID_TEST_PATTERN;
	TAP_EQ(ext(&r, &s, 0, 0, x, 2, &ei), 0);
	TAP_CHECK(x[0].value == 128 && x[1].value == 0, "get");
	x[0].value = 999;
	TAP_EQ(ext(&r, &s, 1, 0, x, 2, &ei), 0);
	TAP_EQ(x[0].value, 255); /* tried and clamped, not set */
	TAP_EQ(g_ctrl(&r, &s, V4L2_CID_BRIGHTNESS), 128);
	x[0].value = 10;
	x[1].value = 99;
	TAP_EQ(ext(&r, &s, 1, 0, x, 2, &ei), -ERANGE);
	TAP_EQ(ei, 1);
	TAP_EQ(ext(&r, &s, 2, 0, x, 2, &ei), -ERANGE);
	TAP_EQ(ei, 2);
	TAP_EQ(g_ctrl(&r, &s, V4L2_CID_BRIGHTNESS), 128); /* all or nothing */
	x[1].value = 2;
	TAP_EQ(ext(&r, &s, 2, 0, x, 2, &ei), 0);
	TAP_EQ(DEV(&r)->tpg.s.brightness, 10);
	/* One class asked for, two given. */
	TAP_EQ(ext(&r, &s, 1, user, x, 2, &ei), -EINVAL);
	TAP_EQ(ei, 1);
	TAP_EQ(ext(&r, &s, 2, user, x, 2, &ei), -EINVAL);
	TAP_EQ(ei, 2);
	TAP_EQ(ext(&r, &s, 0, user, x, 2, &ei), -EINVAL);
	TAP_EQ(ei, 2);
	TAP_EQ(ext(&r, &s, 0, user, x, 1, &ei), 0);
	TAP_EQ(ext(&r, &s, 0, def, x, 2, &ei), 0);
	TAP_CHECK(x[0].value == 128 && x[1].value == 0, "defaults");
	TAP_EQ(ext(&r, &s, 2, def, x, 2, &ei), -EINVAL);
	TAP_EQ(ext(&r, &s, 1, def, x, 2, &ei), -EINVAL);
	TAP_EQ(ei, 2);
	/* Class controls: write-only to G, read-only to TRY and S. */
	x[2] = (struct v4l2_ext_control){ .id = V4L2_CID_USER_CLASS };
	TAP_EQ(ext(&r, &s, 0, 0, &x[2], 1, &ei), -EACCES);
	TAP_EQ(ei, 1);
	TAP_EQ(ext(&r, &s, 1, 0, &x[2], 1, &ei), -EACCES);
	TAP_EQ(ei, 0);
	TAP_EQ(ext(&r, &s, 2, 0, &x[2], 1, &ei), -EACCES);
	TAP_EQ(ei, 1);
	x[2].id = V4L2_CID_PRIVATE_BASE;
	TAP_EQ(ext(&r, &s, 1, 0, &x[2], 1, &ei), -EINVAL);
	x[2].id = 0;
	TAP_EQ(ext(&r, &s, 1, 0, &x[2], 1, &ei), -EINVAL);
	TAP_EQ(ei, 0);
	sess_close(&s);
	rig_down(&r);
}

static int subscribe(struct rig *r, struct sess *s, uint32_t type, uint32_t id,
		     uint32_t flags)
{
	struct v4l2_event_subscription sub = { .type = type,
					       .id = id,
					       .flags = flags };

	return r->io->subscribe_event(s->priv, &sub);
}

static unsigned evs(struct sess *s)
{
	return fake_events_count_kind(s->vs, FAKE_EV_EVENT);
}

static void test_control_events(void)
{
	const uint32_t init = V4L2_EVENT_SUB_FL_SEND_INITIAL;
	const struct fake_event *e;
	struct rig r;
	struct sess a, b;
	int32_t v;

	if (!rig_up(&r, ""))
		return;
	sess_open(&r, &a, 1);
	sess_open(&r, &b, 2);
	TAP_EQ(subscribe(&r, &a, V4L2_EVENT_CTRL, V4L2_CID_BRIGHTNESS, init),
	       0);
	TAP_EQ(evs(&a), 1); /* queued before the ioctl returned */
	e = fake_event_nth(a.vs, FAKE_EV_EVENT, 0);
	TAP_CHECK(e && e->ev.type == V4L2_EVENT_CTRL &&
			  e->ev.id == V4L2_CID_BRIGHTNESS &&
			  e->ev.u.ctrl.changes == (V4L2_EVENT_CTRL_CH_VALUE |
						   V4L2_EVENT_CTRL_CH_FLAGS) &&
			  e->ev.u.ctrl.value == 128 &&
			  e->ev.u.ctrl.maximum == 255,
		  "initial event");
	TAP_EQ(subscribe(&r, &a, V4L2_EVENT_CTRL, V4L2_CID_USER_CLASS, init),
	       0);
	TAP_EQ(subscribe(&r, &a, V4L2_EVENT_CTRL, V4L2_CID_BRIGHTNESS, init),
	       0);
	TAP_EQ(evs(&a), 1); /* no event for classes, none when resubscribing */
	TAP_EQ(subscribe(&r, &b, V4L2_EVENT_CTRL, V4L2_CID_BRIGHTNESS, 0), 0);
	TAP_EQ(evs(&b), 0);
	v = 50;
	TAP_EQ(s_ctrl(&r, &a, V4L2_CID_BRIGHTNESS, &v), 0);
	TAP_EQ(evs(&a), 1); /* the changer hears nothing */
	TAP_EQ(evs(&b), 1);
	e = fake_event_nth(b.vs, FAKE_EV_EVENT, 0);
	TAP_CHECK(e && e->ev.u.ctrl.value == 50 &&
			  e->ev.u.ctrl.changes == V4L2_EVENT_CTRL_CH_VALUE,
		  "change event");
	TAP_EQ(s_ctrl(&r, &a, V4L2_CID_BRIGHTNESS, &v), 0);
	TAP_EQ(evs(&b), 1); /* same value: no change */
	TAP_EQ(subscribe(&r, &a, V4L2_EVENT_CTRL, V4L2_CID_CONTRAST,
			 V4L2_EVENT_SUB_FL_ALLOW_FEEDBACK),
	       0);
	v = 7;
	TAP_EQ(s_ctrl(&r, &a, V4L2_CID_CONTRAST, &v), 0);
	TAP_EQ(evs(&a), 2); /* feedback asked for */
	struct v4l2_event_subscription sub = { .type = V4L2_EVENT_CTRL,
					       .id = V4L2_CID_BRIGHTNESS };
	TAP_EQ(r.io->unsubscribe_event(b.priv, &sub), 0);
	v = 51;
	TAP_EQ(s_ctrl(&r, &a, V4L2_CID_BRIGHTNESS, &v), 0);
	TAP_EQ(evs(&b), 1);
	TAP_EQ(subscribe(&r, &a, V4L2_EVENT_EOS, 0, 0), -EINVAL);
	TAP_EQ(subscribe(&r, &a, V4L2_EVENT_SOURCE_CHANGE, 0, 0), -EINVAL);
	TAP_EQ(subscribe(&r, &a, V4L2_EVENT_CTRL, 0, init), -EINVAL);
	sub.type = V4L2_EVENT_ALL;
	TAP_EQ(r.io->unsubscribe_event(a.priv, &sub), 0);
	v = 9;
	TAP_EQ(s_ctrl(&r, &b, V4L2_CID_CONTRAST, &v), 0);
	TAP_EQ(evs(&a), 2);
	sess_close(&a);
	sess_close(&b);
	rig_down(&r);
}

static void test_inject_qbuf(void)
{
	struct rig r;
	struct sess s;
	int32_t v = VCAM_INJECT_QBUF_EIO;

	if (!rig_up(&r, "unpaced"))
		return;
	sess_open(&r, &s, 1);
	TAP_EQ(subscribe(&r, &s, V4L2_EVENT_CTRL, VCAM_CID_INJECT_ERROR,
			 V4L2_EVENT_SUB_FL_ALLOW_FEEDBACK),
	       0);
	TAP_EQ(s_ctrl(&r, &s, VCAM_CID_INJECT_ERROR, &v), 0);
	TAP_EQ(reqbufs(&r, &s, V4L2_MEMORY_MMAP, 2, NULL), 0);
	TAP_EQ(qbuf(&r, &s, 0), -EIO);
	TAP_CHECK(!(querybuf_flags(&r, &s, 0) & V4L2_BUF_FLAG_QUEUED),
		  "failed QBUF left the buffer queued");
	TAP_EQ(g_ctrl(&r, &s, VCAM_CID_INJECT_ERROR), VCAM_INJECT_NONE);
	TAP_EQ(evs(&s), 2); /* armed, then disarmed by the fault */
	TAP_EQ(qbuf(&r, &s, 0), 0);
	sess_close(&s);
	rig_down(&r);
}

static void test_inject_frame(void)
{
	struct rig r;
	struct sess s;
	struct cap *c = calloc(1, sizeof(*c));
	int32_t v = VCAM_INJECT_FRAME_ERROR;

	if (!rig_up(&r, "unpaced"))
		return;
	sess_open(&r, &s, 1);
	TAP_EQ(s_ctrl(&r, &s, VCAM_CID_INJECT_ERROR, &v), 0);
	sess_close(&s);
	c->want = 4;
	c->tpg_fourcc = V4L2_PIX_FMT_YUYV;
	capture(&r, c, V4L2_MEMORY_MMAP, 2);
	TAP_EQ(c->error_frames, 1);
	sess_open(&r, &s, 2);
	TAP_EQ(g_ctrl(&r, &s, VCAM_CID_INJECT_ERROR), VCAM_INJECT_NONE);
	sess_close(&s);
	free(c);
	rig_down(&r);
}

static void test_owner(void)
{
	struct v4l2_create_buffers cb = { 0 };
	struct vmedia_buffer b;
	struct rig r;
	struct sess a, b2;

	if (!rig_up(&r, ""))
		return;
	sess_open(&r, &a, 1);
	sess_open(&r, &b2, 2);
	TAP_EQ(reqbufs(&r, &a, V4L2_MEMORY_MMAP, 2, NULL), 0);
	TAP_EQ(reqbufs(&r, &b2, V4L2_MEMORY_MMAP, 1, NULL), -EBUSY);
	TAP_EQ(reqbufs(&r, &b2, V4L2_MEMORY_MMAP, 0, NULL), -EBUSY);
	cb.memory = V4L2_MEMORY_MMAP;
	cb.format.type = r.type;
	TAP_EQ(r.io->create_bufs(b2.priv, &cb), 0); /* count 0: a probe */
	TAP_EQ(cb.index, 2);
	TAP_EQ(r.io->g_fmt(b2.priv, &cb.format), 0);
	cb.count = 1;
	TAP_EQ(r.io->create_bufs(b2.priv, &cb), -EBUSY);
	TAP_EQ(qbuf(&r, &b2, 0), -EBUSY);
	buf_init(&r, &b, V4L2_MEMORY_MMAP, 0);
	TAP_EQ(r.io->prepare_buf(b2.priv, &b), -EBUSY);
	TAP_EQ(r.io->streamon(b2.priv, r.type), -EBUSY);
	TAP_EQ(r.io->streamoff(b2.priv, r.type), -EBUSY);
	TAP_EQ(querybuf_flags(&r, &b2, 1), V4L2_BUF_FLAG_TIMESTAMP_MONOTONIC);
	TAP_EQ(s_fmt(&r, &b2, V4L2_PIX_FMT_YUYV, 640, 480, NULL), -EBUSY);
	TAP_EQ(reqbufs(&r, &a, V4L2_MEMORY_MMAP, 0, NULL), 0);
	TAP_EQ(reqbufs(&r, &b2, V4L2_MEMORY_USERPTR, 3, NULL), 0);
	TAP_EQ(reqbufs(&r, &a, V4L2_MEMORY_MMAP, 1, NULL), -EBUSY);
	sess_close(&a); /* not the owner: b2 keeps its buffers */
	TAP_EQ(DEV(&r)->q.n_bufs, 3);
	TAP_EQ(reqbufs(&r, &b2, V4L2_MEMORY_MMAP, 2, NULL), 0);
	TAP_EQ(fake_shm_live_for(b2.vs), 2);
	sess_close(&b2);
	TAP_EQ(fake_shm_live(), 0);
	TAP_EQ(DEV(&r)->q.n_bufs, 0);
	rig_down(&r);
}

/* The owner closes mid-stream: buffers freed, no event for it after. */
struct closing {
	struct sess *s;
	unsigned events_at_close;
	uint64_t closed_at;
};

static bool closing_step(struct drive *d)
{
	struct closing *x = d->ctx;

	if (x->closed_at)
		return vcam_now_ns() - x->closed_at > 100 * MS;
	if (!fake_events_count_kind(x->s->vs, FAKE_EV_DQBUF))
		return false;
	sess_close(x->s);
	TAP_EQ(fake_shm_live(), 0);
	x->events_at_close = fake_events_count();
	x->closed_at = vcam_now_ns();
	return false;
}

static void test_close_streaming(void)
{
	struct rig r;
	struct sess s;
	struct closing x = { .s = &s };

	if (!rig_up(&r, "fps=120"))
		return;
	sess_open(&r, &s, 1);
	TAP_EQ(reqbufs(&r, &s, V4L2_MEMORY_MMAP, 4, NULL), 0);
	for (uint32_t i = 0; i < 4; i++)
		TAP_EQ(qbuf(&r, &s, i), 0);
	TAP_EQ(r.io->streamon(s.priv, r.type), 0);
	drive(&r, closing_step, &x, 3000);
	TAP_EQ(fake_events_count(), x.events_at_close);
	TAP_CHECK(!DEV(&r)->q.streaming && !DEV(&r)->q.owner, "queue idle");
	rig_down(&r);
}

static void test_close_unpaced(void)
{
	struct rig r;
	struct sess s;
	struct closing x = { 0 };

	if (!rig_up(&r, "unpaced"))
		return;
	sess_open(&r, &s, 1);
	TAP_EQ(reqbufs(&r, &s, V4L2_MEMORY_MMAP, 4, NULL), 0);
	for (uint32_t i = 0; i < 4; i++)
		TAP_EQ(qbuf(&r, &s, i), 0);
	TAP_EQ(r.io->streamon(s.priv, r.type), 0);
	sess_close(&s); /* a frame is pending in the loop */
	x.closed_at = vcam_now_ns();
	drive(&r, closing_step, &x, 3000);
	TAP_EQ(fake_events_count(), 0);
	rig_down(&r);
}

static void test_buffer_checks(void)
{
	struct vmedia_buffer b;
	struct rig r;
	struct sess s;
	uint32_t got, off[32];

	if (!rig_up(&r, "unpaced"))
		return;
	sess_open(&r, &s, 1);
	TAP_EQ(r.io->streamon(s.priv, r.type), -EINVAL); /* no buffers */
	TAP_EQ(r.io->streamoff(s.priv, r.type), 0);
	TAP_EQ(reqbufs(&r, &s, V4L2_MEMORY_DMABUF, 1, NULL), -EINVAL);
	TAP_EQ(reqbufs(&r, &s, 0, 1, NULL), -EINVAL);
	r.type = V4L2_BUF_TYPE_VIDEO_OUTPUT;
	TAP_EQ(reqbufs(&r, &s, V4L2_MEMORY_MMAP, 1, NULL), -EINVAL);
	r.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
	TAP_EQ(reqbufs(&r, &s, V4L2_MEMORY_MMAP, 100, &got), 0);
	TAP_EQ(got, 32);
	TAP_EQ(reqbufs(&r, &s, V4L2_MEMORY_MMAP, 4, &got), 0);
	TAP_EQ(got, 4);
	TAP_EQ(fake_shm_live(), 4);
	for (uint32_t i = 0; i < 4; i++) {
		buf_init(&r, &b, 0, i);
		TAP_EQ(r.io->querybuf(s.priv, &b), 0);
		off[i] = b.b.m.offset;
		TAP_EQ(off[i] % FAKE_SHM_PAGE, 0);
		TAP_EQ(b.b.length, 640 * 480 * 2);
		TAP_CHECK(!b.b.sequence && !b.b.timestamp.tv_sec &&
				  b.b.memory == V4L2_MEMORY_MMAP,
			  "fresh buffer");
		for (uint32_t k = 0; k < i; k++)
			TAP_CHECK(off[k] != off[i], "offsets %u and %u", k, i);
	}
	buf_init(&r, &b, V4L2_MEMORY_MMAP, 4);
	TAP_EQ(r.io->querybuf(s.priv, &b), -EINVAL);
	TAP_EQ(r.io->qbuf(s.priv, &b), -EINVAL);
	b.b.index = 0;
	b.b.type = V4L2_BUF_TYPE_VIDEO_CAPTURE_MPLANE;
	TAP_EQ(r.io->qbuf(s.priv, &b), -EINVAL);
	TAP_EQ(r.io->querybuf(s.priv, &b), -EINVAL);
	buf_init(&r, &b, V4L2_MEMORY_USERPTR, 0);
	TAP_EQ(r.io->qbuf(s.priv, &b), -EINVAL);
	TAP_EQ(qbuf(&r, &s, 0), 0);
	TAP_EQ(qbuf(&r, &s, 0), -EINVAL); /* already queued */
	buf_init(&r, &b, V4L2_MEMORY_MMAP, 0);
	TAP_EQ(r.io->prepare_buf(s.priv, &b), -EINVAL);
	b.b.index = 1;
	TAP_EQ(r.io->prepare_buf(s.priv, &b), 0);
	TAP_EQ(b.b.flags,
	       V4L2_BUF_FLAG_PREPARED | V4L2_BUF_FLAG_TIMESTAMP_MONOTONIC);
	TAP_EQ(r.io->prepare_buf(s.priv, &b), -EINVAL);
	TAP_EQ(qbuf(&r, &s, 1), 0);
	/* STREAMOFF hands queued buffers back without a word. */
	TAP_EQ(r.io->streamoff(s.priv, r.type), 0);
	TAP_EQ(querybuf_flags(&r, &s, 0), V4L2_BUF_FLAG_TIMESTAMP_MONOTONIC);
	TAP_EQ(querybuf_flags(&r, &s, 1), V4L2_BUF_FLAG_TIMESTAMP_MONOTONIC);
	TAP_EQ(qbuf(&r, &s, 0), 0);
	TAP_EQ(r.io->streamon(s.priv, V4L2_BUF_TYPE_VIDEO_OUTPUT), -EINVAL);
	TAP_EQ(r.io->streamon(s.priv, r.type), 0);
	TAP_EQ(r.io->streamon(s.priv, r.type), 0);
	TAP_EQ(reqbufs(&r, &s, V4L2_MEMORY_MMAP, 0, NULL), -EBUSY);
	TAP_EQ(reqbufs(&r, &s, V4L2_MEMORY_MMAP, 2, NULL), -EBUSY);
	TAP_EQ(r.io->streamoff(s.priv, r.type), 0);
	TAP_EQ(r.io->streamoff(s.priv, r.type), 0);
	TAP_EQ(reqbufs(&r, &s, V4L2_MEMORY_MMAP, 0, NULL), 0);
	TAP_EQ(fake_shm_live(), 0);
	TAP_EQ(fake_events_count(), 0); /* the loop never ran */
	sess_close(&s);
	rig_down(&r);
}

static void test_mplane_planes(void)
{
	struct vmedia_buffer b;
	struct rig r;
	struct sess s;

	if (!rig_up(&r, "mplane"))
		return;
	sess_open(&r, &s, 1);
	TAP_EQ(s_fmt(&r, &s, V4L2_PIX_FMT_YUV420M, 320, 240, NULL), 0);
	TAP_EQ(reqbufs(&r, &s, V4L2_MEMORY_MMAP, 2, NULL), 0);
	TAP_EQ(fake_shm_live(), 6);
	buf_init(&r, &b, V4L2_MEMORY_MMAP, 1);
	TAP_EQ(r.io->querybuf(s.priv, &b), 0);
	TAP_EQ(b.b.length, 3);
	TAP_EQ(b.num_planes, 3);
	TAP_CHECK(b.planes[0].length == 320 * 240 &&
			  b.planes[1].length == 320 * 240 / 4 &&
			  b.planes[2].m.mem_offset % FAKE_SHM_PAGE == 0,
		  "plane layout");
	b.num_planes = b.b.length = 2; /* room for fewer planes than needed */
	TAP_EQ(r.io->querybuf(s.priv, &b), -EINVAL);
	TAP_EQ(r.io->qbuf(s.priv, &b), -EINVAL);
	sess_close(&s);
	rig_down(&r);
}

static int create(struct rig *r, struct sess *s, uint32_t mem, uint32_t n,
		  const struct v4l2_format *f, uint32_t *index)
{
	struct v4l2_create_buffers cb = { .count = n, .memory = mem };
	int ret;

	memset(cb.reserved, 0xff, sizeof(cb.reserved));
	cb.format = *f;
	ret = r->io->create_bufs(s->priv, &cb);
	TAP_CHECK(!cb.reserved[0] && !cb.flags, "reserved, flags cleared");
	if (index)
		*index = cb.index;
	return ret ? ret : (int)cb.count;
}

/* plane_fmt is packed: no pointers into it. */
static uint32_t size_of(const struct rig *r, const struct v4l2_format *f)
{
	return r->mp ? f->fmt.pix_mp.plane_fmt[0].sizeimage
		     : f->fmt.pix.sizeimage;
}

static void size_set(const struct rig *r, struct v4l2_format *f, uint32_t v)
{
	if (r->mp)
		f->fmt.pix_mp.plane_fmt[0].sizeimage = v;
	else
		f->fmt.pix.sizeimage = v;
}

static void check_create_bufs(bool mp)
{
	struct v4l2_format f = { .type = 0 }, g;
	struct vmedia_buffer b;
	struct rig r;
	struct sess s;
	uint32_t idx;

	if (!rig_up(&r, mp ? "mplane" : ""))
		return;
	sess_open(&r, &s, 1);
	f.type = r.type;
	TAP_EQ(r.io->g_fmt(s.priv, &f), 0);
	g = f;
	size_set(&r, &f, size_of(&r, &g) / 2);
	TAP_EQ(create(&r, &s, V4L2_MEMORY_MMAP, 1, &f, NULL), -EINVAL);
	size_set(&r, &f, 0);
	TAP_EQ(create(&r, &s, V4L2_MEMORY_MMAP, 1, &f, NULL), -EINVAL);
	if (mp) {
		f = g;
		f.fmt.pix_mp.num_planes = 0;
		TAP_EQ(create(&r, &s, V4L2_MEMORY_MMAP, 1, &f, NULL), -EINVAL);
		f.fmt.pix_mp.num_planes = 2;
		f.fmt.pix_mp.plane_fmt[1].sizeimage = 65536;
		TAP_EQ(create(&r, &s, V4L2_MEMORY_MMAP, 1, &f, NULL), -EINVAL);
	}
	f = g;
	size_set(&r, &f, size_of(&r, &g) + (1 << 20));
	TAP_EQ(create(&r, &s, V4L2_MEMORY_MMAP, 2, &f, &idx), 2);
	TAP_EQ(idx, 0);
	buf_init(&r, &b, V4L2_MEMORY_MMAP, 1);
	TAP_EQ(r.io->querybuf(s.priv, &b), 0);
	TAP_EQ(mp ? b.planes[0].length : b.b.length, size_of(&r, &f));
	TAP_EQ(create(&r, &s, V4L2_MEMORY_USERPTR, 1, &g, NULL), -EINVAL);
	TAP_EQ(create(&r, &s, V4L2_MEMORY_MMAP, 40, &g, &idx), 30);
	TAP_EQ(idx, 2);
	TAP_EQ(create(&r, &s, V4L2_MEMORY_MMAP, 1, &g, NULL), -ENOBUFS);
	TAP_EQ(create(&r, &s, V4L2_MEMORY_MMAP, 0, &g, &idx), 0);
	TAP_EQ(idx, 32);
	TAP_EQ(reqbufs(&r, &s, V4L2_MEMORY_MMAP, 0, NULL), 0);
	sess_close(&s);
	rig_down(&r);
}

static void test_create_bufs(void)
{
	check_create_bufs(false);
	check_create_bufs(true);
}

static void test_shm_failures(void)
{
	struct rig r;
	struct sess a, b;
	uint32_t got;

	if (!rig_up(&r, ""))
		return;
	sess_open(&r, &a, 1);
	sess_open(&r, &b, 2);
	fake_shm_fail_after(2);
	TAP_EQ(reqbufs(&r, &a, V4L2_MEMORY_MMAP, 4, &got), 0);
	TAP_EQ(got, 2); /* fewer than asked is a success */
	TAP_EQ(fake_shm_live(), 2);
	fake_shm_fail_after(0);
	TAP_EQ(reqbufs(&r, &a, V4L2_MEMORY_MMAP, 4, NULL), -ENOMEM);
	TAP_EQ(fake_shm_live(), 0);
	TAP_EQ(reqbufs(&r, &b, V4L2_MEMORY_USERPTR, 1, NULL), 0); /* no owner */
	TAP_EQ(reqbufs(&r, &b, V4L2_MEMORY_USERPTR, 0, NULL), 0);
	fake_shm_fail_after(-1);
	fake_shm_set_enabled(false);
	TAP_EQ(reqbufs(&r, &a, V4L2_MEMORY_MMAP, 1, NULL), -EINVAL);
	TAP_EQ(reqbufs(&r, &a, V4L2_MEMORY_USERPTR, 1, NULL), 0);
	fake_shm_set_enabled(true);
	sess_close(&a);
	sess_close(&b);
	rig_down(&r);
}

static void test_userptr_checks(void)
{
	struct vmedia_buffer b;
	struct uplane u, shortu;
	struct rig r;
	struct sess s;
	const uint32_t size = 640 * 480 * 2;

	if (!rig_up(&r, ""))
		return;
	sess_open(&r, &s, 1);
	uplane_make(&u, size, true);
	uplane_make(&shortu, size - 1, false);
	TAP_EQ(reqbufs(&r, &s, V4L2_MEMORY_USERPTR, 2, NULL), 0);
	buf_init(&r, &b, V4L2_MEMORY_USERPTR, 0);
	b.b.length = size; /* no mapping: the guest passed userptr 0 */
	TAP_EQ(r.io->qbuf(s.priv, &b), -EINVAL);
	b.userptr[0] = &shortu.up;
	TAP_EQ(r.io->prepare_buf(s.priv, &b), -EINVAL);
	b.userptr[0] = &u.up;
	b.b.length = size - 1;
	TAP_EQ(r.io->qbuf(s.priv, &b), -EINVAL);
	b.b.length = size;
	b.b.m.userptr = 0x5000;
	TAP_EQ(r.io->prepare_buf(s.priv, &b), 0);
	/* A prepared buffer is queued as prepared, whatever QBUF carries. */
	buf_init(&r, &b, V4L2_MEMORY_USERPTR, 0);
	TAP_EQ(r.io->qbuf(s.priv, &b), 0);
	TAP_CHECK(b.b.m.userptr == 0x5000 && b.b.length == size &&
			  (b.b.flags & V4L2_BUF_FLAG_QUEUED),
		  "prepared userptr reported");
	/* ... but moves to the memory a QBUF brings (the newer mapping). */
	b.b.index = 1;
	b.b.length = size;
	b.b.m.userptr = 0x6000;
	b.userptr[0] = &u.up;
	TAP_EQ(r.io->prepare_buf(s.priv, &b), 0);
	b.userptr[0] = &shortu.up;
	TAP_EQ(r.io->qbuf(s.priv, &b), -EINVAL); /* too short, still prepared */
	TAP_EQ(querybuf_flags(&r, &s, 1) & V4L2_BUF_FLAG_PREPARED,
	       V4L2_BUF_FLAG_PREPARED);
	b.userptr[0] = &u.up;
	b.b.m.userptr = 0x7000;
	TAP_EQ(r.io->qbuf(s.priv, &b), 0);
	TAP_EQ(b.b.m.userptr, 0x7000);
	TAP_CHECK(DEV(&r)->q.bufs[1].planes[0].up == &u.up, "newer mapping");
	TAP_EQ(r.io->streamoff(s.priv, r.type), 0);
	TAP_CHECK(!DEV(&r)->q.bufs[0].planes[0].up, "mapping dropped");
	sess_close(&s);
	free(u.pool);
	free(shortu.pool);
	rig_down(&r);
}

int main(void)
{
	tap_run("create: arguments and identity", test_args);
	tap_run("formats: ENUM_FMT, both variants", test_enum_fmt);
	tap_run("formats: TRY/S_FMT adjust like a driver, EBUSY with buffers",
		test_try_fmt);
	tap_run("formats: frame sizes, intervals, G/S_PARM, input",
		test_sizes_rates_parm);
	tap_run("capture: MMAP unpaced, single-planar YUYV", test_mmap_splane);
	tap_run("capture: MMAP unpaced, multi-planar NV12M", test_mmap_mplane);
	tap_run("capture: USERPTR scattered, single-planar NV12",
		test_userptr_splane);
	tap_run("capture: USERPTR scattered, multi-planar YUV420M",
		test_userptr_mplane);
	tap_run("capture: paced at 60 fps", test_paced);
	tap_run("capture: paced, frames without buffers are dropped",
		test_paced_drops);
	tap_run("controls: enumeration, ranges, clamping, menus",
		test_controls);
	tap_run("controls: extended, which, error_idx", test_ext_controls);
	tap_run("controls: events, SEND_INITIAL, feedback",
		test_control_events);
	tap_run("inject: QBUF fails with EIO once", test_inject_qbuf);
	tap_run("inject: one frame flagged ERROR", test_inject_frame);
	tap_run("sessions: queue owner, EBUSY for others", test_owner);
	tap_run("sessions: close while streaming (paced)",
		test_close_streaming);
	tap_run("sessions: close with a frame pending (unpaced)",
		test_close_unpaced);
	tap_run("buffers: index, type, memory, states, STREAMON/OFF",
		test_buffer_checks);
	tap_run("buffers: multi-planar plane counts", test_mplane_planes);
	tap_run("buffers: CREATE_BUFS sizes and limits", test_create_bufs);
	tap_run("buffers: shared memory failures", test_shm_failures);
	tap_run("buffers: USERPTR validation and PREPARE_BUF",
		test_userptr_checks);
	fake_session_reset(0);
	return tap_done();
}
