/* SPDX-License-Identifier: MIT */
/*
 * Capture through the whole stack: the real vmediad process serving vcam
 * over the test transport, driven by the userspace guest driver. Complete
 * sessions in MMAP and USERPTR memory with every frame's stamp checked,
 * then the protocol's hostile cases.
 */
#include <errno.h>
#include <linux/videodev2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "backends/vcam/tpg.h"
#include "capture_hostile.h"
#include "daemon_proc.h"
#include "tap.h"
#include "vg_media.h"

#define RAM_SIZE   (192ull << 20)
#define WIDTH	   640u
#define HEIGHT	   480u
#define NBUFS	   4u
#define FRAMES	   12u
#define EVENT_WAIT 10000

static struct daemon_proc vmediad;
static struct test_guest guest;
static struct vg_media dev[2]; /* 0: single-planar, 1: multi-planar */
/* Other guests, whose first device posted no event buffers. */
static struct test_guest starved_guest[2];
static struct vg_media starved[2];

struct capture {
	struct vg_media *m;
	bool mplane;
	uint32_t memory;
	uint32_t session;
	uint32_t type;
	struct tpg_format fmt;
	uint64_t shm_addr[NBUFS];
	struct vg_mem user[NBUFS];
	uint32_t length;
};

static int open_session(struct vg_media *m, uint32_t *s)
{
	int r = vg_media_open(m, s);

	TAP_EQ(r, 0);
	return r;
}

static int set_format(struct capture *c)
{
	struct v4l2_format f = { .type = c->type };
	uint32_t fourcc = c->mplane ? V4L2_PIX_FMT_NV12 : V4L2_PIX_FMT_YUYV;
	int r;

	if (c->mplane) {
		f.fmt.pix_mp.width = WIDTH;
		f.fmt.pix_mp.height = HEIGHT;
		f.fmt.pix_mp.pixelformat = fourcc;
		f.fmt.pix_mp.num_planes = 1;
	} else {
		f.fmt.pix.width = WIDTH;
		f.fmt.pix.height = HEIGHT;
		f.fmt.pix.pixelformat = fourcc;
	}
	r = vg_media_ioctl(c->m, c->session, _IOC_NR(VIDIOC_S_FMT), &f,
			   sizeof(f), sizeof(f));
	TAP_EQ(r, 0);
	if (r)
		return r;
	c->length = c->mplane ? f.fmt.pix_mp.plane_fmt[0].sizeimage
			      : f.fmt.pix.sizeimage;
	TAP_EQ(c->mplane ? f.fmt.pix_mp.pixelformat : f.fmt.pix.pixelformat,
	       fourcc);
	return tpg_format_init(&c->fmt, fourcc, WIDTH, HEIGHT);
}

static int reqbufs(struct capture *c, uint32_t count)
{
	struct v4l2_requestbuffers rb = { .count = count,
					  .type = c->type,
					  .memory = c->memory };
	int r = vg_media_ioctl(c->m, c->session, _IOC_NR(VIDIOC_REQBUFS), &rb,
			       sizeof(rb), sizeof(rb));

	TAP_EQ(r, 0);
	if (count)
		TAP_EQ(rb.count, count);
	return r;
}

static void init_buf(struct capture *c, unsigned i, struct v4l2_buffer *b,
		     struct v4l2_plane *p)
{
	memset(b, 0, sizeof(*b));
	memset(p, 0, sizeof(*p) * VIDEO_MAX_PLANES);
	b->index = i;
	b->type = c->type;
	b->memory = c->memory;
	if (c->mplane) {
		b->length = 1;
		p[0].length = c->length;
		p[0].m.userptr = (unsigned long)c->user[i].gpa;
	} else {
		b->length = c->length;
		b->m.userptr = (unsigned long)c->user[i].gpa;
	}
}

/* QUERYBUF and CMD_MMAP each buffer (MMAP memory). */
static int map_buffers(struct capture *c)
{
	for (unsigned i = 0; i < NBUFS; i++) {
		struct v4l2_buffer b;
		struct v4l2_plane p[VIDEO_MAX_PLANES];
		uint64_t len;
		uint32_t off;
		int r;

		init_buf(c, i, &b, p);
		r = vg_media_ioctl_buffer(c->m, c->session,
					  _IOC_NR(VIDIOC_QUERYBUF), &b, p,
					  NULL);
		TAP_EQ(r, 0);
		if (r)
			return r;
		off = c->mplane ? p[0].m.mem_offset : b.m.offset;
		TAP_CHECK(off % 4096 == 0, "offset %#x page-aligned", off);
		r = vg_media_mmap(c->m, c->session, VIRTIO_MEDIA_MMAP_FLAG_RW,
				  off, &c->shm_addr[i], &len);
		TAP_EQ(r, 0);
		if (r)
			return r;
		TAP_CHECK(len >= c->length, "mapping of %llu bytes",
			  (unsigned long long)len);
	}
	return 0;
}

static int alloc_user(struct capture *c)
{
	for (unsigned i = 0; i < NBUFS; i++) {
		int r = vg_ram_alloc(&guest.ram, c->length, &c->user[i]);

		TAP_EQ(r, 0);
		if (r)
			return r;
	}
	return 0;
}

static int qbuf(struct capture *c, unsigned i)
{
	struct v4l2_buffer b;
	struct v4l2_plane p[VIDEO_MAX_PLANES];
	/* Page-sized SG entries, as pinned user pages would be. */
	struct vg_media_sg sg = { .mem = &c->user[i],
				  .len = c->length,
				  .seg = 4096 };
	int r;

	init_buf(c, i, &b, p);
	r = vg_media_ioctl_buffer(c->m, c->session, _IOC_NR(VIDIOC_QBUF), &b, p,
				  &sg);
	TAP_EQ(r, 0);
	TAP_CHECK(b.flags & V4L2_BUF_FLAG_QUEUED, "QUEUED after QBUF");
	return r;
}

static int stream(struct capture *c, uint32_t code)
{
	uint32_t type = c->type;
	int r = vg_media_ioctl(c->m, c->session, code, &type, sizeof(type), 0);

	TAP_EQ(r, 0);
	return r;
}

static void *frame_memory(struct capture *c, unsigned i)
{
	if (c->memory == V4L2_MEMORY_MMAP)
		return vg_media_shm_ptr(c->m, c->shm_addr[i], c->length);
	return c->user[i].host;
}

/* Take one DQBUF event and check it against the picture. */
static int check_frame(struct capture *c, uint32_t want_seq, unsigned *index)
{
	struct vg_media_event ev;
	void *planes[3];
	size_t sizes[3];
	uint32_t seq = 0;
	uint64_t ts;
	int r = vg_media_next_event(c->m, EVENT_WAIT, &ev);

	TAP_EQ(r, 1);
	if (r != 1)
		return -ETIMEDOUT;
	TAP_EQ(ev.u.hdr.event, VIRTIO_MEDIA_EVT_DQBUF);
	TAP_EQ(ev.u.hdr.session_id, c->session);
	TAP_EQ(ev.len, VIRTIO_MEDIA_EVENT_MAX_SIZE);
	TAP_EQ(ev.u.dqbuf.b.sequence, want_seq);
	TAP_CHECK(ev.u.dqbuf.b.index < NBUFS, "index %u", ev.u.dqbuf.b.index);
	if (ev.u.dqbuf.b.index >= NBUFS)
		return -EIO;
	TAP_EQ(c->mplane ? ev.u.dqbuf.planes[0].bytesused
			 : ev.u.dqbuf.b.bytesused,
	       c->length);
	TAP_CHECK(!(ev.u.dqbuf.b.flags & V4L2_BUF_FLAG_QUEUED), "not QUEUED");
	*index = ev.u.dqbuf.b.index;
	tpg_split_buffer(&c->fmt, frame_memory(c, *index), planes, sizes);
	r = tpg_read_stamp(&c->fmt, planes, &seq, &ts);
	TAP_EQ(r, 0);
	TAP_EQ(seq, want_seq);
	return 0;
}

/* No event for this long: nothing is pending. */
static void expect_no_event(struct vg_media *m, int ms)
{
	struct vg_media_event ev;
	int r = vg_media_next_event(m, ms, &ev);

	TAP_CHECK(r == 0, "unexpected event type %u",
		  r == 1 ? ev.u.hdr.event : 0);
}

static void teardown_capture(struct capture *c)
{
	for (unsigned i = 0; i < NBUFS; i++) {
		if (c->memory == V4L2_MEMORY_MMAP && c->shm_addr[i] != ~0ull)
			TAP_EQ(vg_media_munmap(c->m, c->shm_addr[i]), 0);
		vg_ram_free(&guest.ram, &c->user[i]);
	}
	TAP_EQ(vg_media_close(c->m, c->session), 0);
}

static void run_capture(bool mplane, uint32_t memory)
{
	struct capture c = {
		.m = &dev[mplane],
		.mplane = mplane,
		.memory = memory,
		.type = mplane ? V4L2_BUF_TYPE_VIDEO_CAPTURE_MPLANE
			       : V4L2_BUF_TYPE_VIDEO_CAPTURE,
	};
	unsigned index;

	memset(c.shm_addr, 0xff, sizeof(c.shm_addr));
	if (open_session(c.m, &c.session) || set_format(&c) ||
	    reqbufs(&c, NBUFS))
		return;
	if (memory == V4L2_MEMORY_MMAP ? map_buffers(&c) : alloc_user(&c))
		goto out;
	for (unsigned i = 0; i < NBUFS; i++)
		if (qbuf(&c, i))
			goto out;
	if (stream(&c, _IOC_NR(VIDIOC_STREAMON)))
		goto out;
	for (uint32_t seq = 0; seq < FRAMES; seq++) {
		if (check_frame(&c, seq, &index))
			break;
		if (seq + NBUFS < FRAMES && qbuf(&c, index))
			break;
	}
	stream(&c, _IOC_NR(VIDIOC_STREAMOFF));
	expect_no_event(c.m, 200);
	reqbufs(&c, 0);
out:
	teardown_capture(&c);
}

static void test_mmap_single(void)
{
	run_capture(false, V4L2_MEMORY_MMAP);
}

static void test_mmap_mplane(void)
{
	run_capture(true, V4L2_MEMORY_MMAP);
}

static void test_userptr_single(void)
{
	run_capture(false, V4L2_MEMORY_USERPTR);
}

static void test_userptr_mplane(void)
{
	run_capture(true, V4L2_MEMORY_USERPTR);
}

/*
 * SUBSCRIBE_EVENT with SEND_INITIAL: the initial event is delivered while
 * the command is being answered; both must arrive intact.
 */
static void test_initial_control_event(void)
{
	struct v4l2_event_subscription sub = {
		.type = V4L2_EVENT_CTRL,
		.id = V4L2_CID_BRIGHTNESS,
		.flags = V4L2_EVENT_SUB_FL_SEND_INITIAL,
	};
	struct v4l2_control ctrl = { .id = V4L2_CID_BRIGHTNESS, .value = 99 };
	struct vg_media_event ev;
	uint32_t s;

	if (open_session(&dev[0], &s))
		return;
	TAP_EQ(vg_media_ioctl(&dev[0], s, _IOC_NR(VIDIOC_SUBSCRIBE_EVENT), &sub,
			      sizeof(sub), 0),
	       0);
	TAP_EQ(vg_media_next_event(&dev[0], EVENT_WAIT, &ev), 1);
	TAP_EQ(ev.u.hdr.event, VIRTIO_MEDIA_EVT_EVENT);
	TAP_EQ(ev.u.event.ev.type, V4L2_EVENT_CTRL);
	TAP_EQ(ev.u.event.ev.id, V4L2_CID_BRIGHTNESS);
	/* A change from this session is not fed back without ALLOW_FEEDBACK;
	 * the command stream must still be in step. */
	TAP_EQ(vg_media_ioctl(&dev[0], s, _IOC_NR(VIDIOC_S_CTRL), &ctrl,
			      sizeof(ctrl), sizeof(ctrl)),
	       0);
	TAP_EQ(ctrl.value, 99);
	TAP_EQ(vg_media_close(&dev[0], s), 0);
}

static void test_clean_exit(void)
{
	int status = daemon_stop(&vmediad, 20000);

	TAP_CHECK(status == 0, "vmediad wait status %#x", status);
}

int main(void)
{
	static const char *const args[] = { "--device",	  "vcam:unpaced",
					    "--device",	  "vcam:mplane,unpaced",
					    "--shm-size", "256M",
					    NULL };
	int r = daemon_start(&vmediad, args);

	if (r == 0)
		r = guest_connect(&vmediad, &guest, RAM_SIZE);
	for (unsigned i = 0; r == 0 && i < 2; i++)
		r = vg_media_init(&dev[i], guest.t, &guest.ram, i);
	for (unsigned i = 0; r == 0 && i < 2; i++) {
		r = guest_connect(&vmediad, &starved_guest[i], 32ull << 20);
		if (r == 0)
			r = vg_media_init_events(&starved[i],
						 starved_guest[i].t,
						 &starved_guest[i].ram, 0, 0);
	}
	if (r) {
		printf("Bail out! cannot bring the devices up: %s\n",
		       strerror(-r));
		daemon_cleanup(&vmediad);
		return 1;
	}
	tap_run("capture, MMAP, single-planar: stamps in order",
		test_mmap_single);
	tap_run("capture, MMAP, multi-planar: stamps in order",
		test_mmap_mplane);
	tap_run("capture, USERPTR, single-planar: stamps in order",
		test_userptr_single);
	tap_run("capture, USERPTR, multi-planar: stamps in order",
		test_userptr_mplane);
	tap_run("control event with SEND_INITIAL arrives with the answer "
		"intact",
		test_initial_control_event);
	capture_hostile_cases(dev, &guest, starved);
	for (unsigned i = 0; i < 2; i++) {
		vg_media_fini(&dev[i]);
		vg_media_fini(&starved[i]);
		guest_disconnect(&starved_guest[i]);
	}
	guest_disconnect(&guest);
	tap_run("vmediad exits 0 on SIGTERM after all this", test_clean_exit);
	daemon_cleanup(&vmediad);
	return tap_done();
}
