/* SPDX-License-Identifier: MIT */
/*
 * Hostile guests against the protocol layer, through the real daemon:
 * each case asserts the exact errno and that the device keeps serving.
 */
#include "capture_hostile.h"

#include <errno.h>
#include <linux/videodev2.h>
#include <stdlib.h>
#include <string.h>

#include "backends/vcam/tpg.h"
#include "tap.h"

#define WAIT_MS	     10000
#define MAX_SESSIONS 256u /* the daemon's default per device */

static struct vg_media *sp;	   /* single-planar vcam */
static struct vg_media *mp;	   /* multi-planar vcam */
static struct vg_media *hungry[2]; /* posted no event buffers */
static struct test_guest *guest;

/* ---- helpers ------------------------------------------------------------ */

static uint32_t open_ok(struct vg_media *m)
{
	uint32_t s = 0;

	TAP_EQ(vg_media_open(m, &s), 0);
	return s;
}

static int g_fmt(struct vg_media *m, uint32_t s, uint32_t type)
{
	struct v4l2_format f = { .type = type };

	return vg_media_ioctl(m, s, _IOC_NR(VIDIOC_G_FMT), &f, sizeof(f),
			      sizeof(f));
}

/* The device still answers properly: a fresh session can G_FMT. */
static void check_alive(struct vg_media *m, uint32_t type)
{
	uint32_t s = open_ok(m);

	TAP_EQ(g_fmt(m, s, type), 0);
	TAP_EQ(vg_media_close(m, s), 0);
}

/* Send raw command bytes; the response status as a negative errno. */
static int raw_status(struct vg_media *m, const void *cmd, size_t len,
		      size_t resp_len)
{
	uint8_t resp[4096];
	struct virtio_media_resp_header h;
	uint32_t written = 0;
	int r = vg_media_raw(m, cmd, len, resp, resp_len, &written);

	if (r < 0)
		return r;
	if (written < sizeof(h))
		return -EIO;
	memcpy(&h, resp, sizeof(h));
	return -(int)h.status;
}

static size_t put_ioctl(uint8_t *buf, uint32_t session, uint32_t code)
{
	struct virtio_media_cmd_ioctl cmd = { .hdr.cmd = VIRTIO_MEDIA_CMD_IOCTL,
					      .session_id = session,
					      .code = code };

	memcpy(buf, &cmd, sizeof(cmd));
	return sizeof(cmd);
}

static int reqbufs(struct vg_media *m, uint32_t s, uint32_t type,
		   uint32_t memory, uint32_t count)
{
	struct v4l2_requestbuffers rb = { .count = count,
					  .type = type,
					  .memory = memory };

	return vg_media_ioctl(m, s, _IOC_NR(VIDIOC_REQBUFS), &rb, sizeof(rb),
			      sizeof(rb));
}

static int streamctl(struct vg_media *m, uint32_t s, uint32_t code,
		     uint32_t type)
{
	return vg_media_ioctl(m, s, code, &type, sizeof(type), 0);
}

/* 640x480 YUYV on the single-planar device: its sizeimage. */
static uint32_t set_yuyv(uint32_t s)
{
	struct v4l2_format f = { .type = V4L2_BUF_TYPE_VIDEO_CAPTURE };

	f.fmt.pix.width = 640;
	f.fmt.pix.height = 480;
	f.fmt.pix.pixelformat = V4L2_PIX_FMT_YUYV;
	TAP_EQ(vg_media_ioctl(sp, s, _IOC_NR(VIDIOC_S_FMT), &f, sizeof(f),
			      sizeof(f)),
	       0);
	return f.fmt.pix.sizeimage;
}

static int querybuf_offset(uint32_t s, uint32_t index, uint32_t *off)
{
	struct v4l2_buffer b = { .index = index,
				 .type = V4L2_BUF_TYPE_VIDEO_CAPTURE,
				 .memory = V4L2_MEMORY_MMAP };
	int r = vg_media_ioctl_buffer(sp, s, _IOC_NR(VIDIOC_QUERYBUF), &b, NULL,
				      NULL);

	*off = b.m.offset;
	return r;
}

static int qbuf_mmap(uint32_t s, uint32_t index)
{
	struct v4l2_buffer b = { .index = index,
				 .type = V4L2_BUF_TYPE_VIDEO_CAPTURE,
				 .memory = V4L2_MEMORY_MMAP };

	return vg_media_ioctl_buffer(sp, s, _IOC_NR(VIDIOC_QBUF), &b, NULL,
				     NULL);
}

/* REQBUFS(MMAP) n, QUERYBUF, CMD_MMAP each; addresses into addr[]. */
static int setup_mmap(uint32_t s, unsigned n, uint64_t *addr)
{
	for (unsigned i = 0; i < n; i++)
		addr[i] = ~0ull;
	if (reqbufs(sp, s, V4L2_BUF_TYPE_VIDEO_CAPTURE, V4L2_MEMORY_MMAP, n))
		return -1;
	for (unsigned i = 0; i < n; i++) {
		uint32_t off;
		uint64_t len;

		if (querybuf_offset(s, i, &off) ||
		    vg_media_mmap(sp, s, VIRTIO_MEDIA_MMAP_FLAG_RW, off,
				  &addr[i], &len))
			return -1;
	}
	return 0;
}

static void munmap_all(uint64_t *addr, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (addr[i] != ~0ull)
			TAP_EQ(vg_media_munmap(sp, addr[i]), 0);
}

/* Nothing arrives on the eventq for a while. */
static void expect_quiet(struct vg_media *m)
{
	struct vg_media_event ev;
	int r = vg_media_next_event(m, 300, &ev);

	TAP_CHECK(r == 0, "unexpected event %u", r == 1 ? ev.u.hdr.event : 0);
}

/* ---- sessions ----------------------------------------------------------- */

static void test_unknown_session(void)
{
	TAP_EQ(g_fmt(sp, 0xdeadbeef, V4L2_BUF_TYPE_VIDEO_CAPTURE), -EINVAL);
	check_alive(sp, V4L2_BUF_TYPE_VIDEO_CAPTURE);
}

static void test_closed_session(void)
{
	uint32_t s = open_ok(sp);

	TAP_EQ(vg_media_close(sp, s), 0);
	TAP_EQ(g_fmt(sp, s, V4L2_BUF_TYPE_VIDEO_CAPTURE), -EINVAL);
	/* A second CLOSE of it is ignored, as CLOSE has no answer. */
	TAP_EQ(vg_media_close(sp, s), 0);
	check_alive(sp, V4L2_BUF_TYPE_VIDEO_CAPTURE);
}

static void test_foreign_session(void)
{
	uint32_t s = open_ok(sp);

	/* The other device has no session of that id open. */
	TAP_EQ(g_fmt(mp, s + 1000, V4L2_BUF_TYPE_VIDEO_CAPTURE_MPLANE),
	       -EINVAL);
	TAP_EQ(vg_media_close(sp, s), 0);
}

static void test_open_until_cap(void)
{
	uint32_t s[MAX_SESSIONS + 1];
	unsigned n = 0;
	int r = 0;

	while (n <= MAX_SESSIONS && (r = vg_media_open(sp, &s[n])) == 0)
		n++;
	TAP_EQ(n, MAX_SESSIONS);
	TAP_EQ(r, -EMFILE);
	if (n) {
		TAP_EQ(vg_media_close(sp, s[--n]), 0);
		TAP_EQ(vg_media_open(sp, &s[n]), 0);
		n++;
	}
	while (n)
		TAP_EQ(vg_media_close(sp, s[--n]), 0);
	check_alive(sp, V4L2_BUF_TYPE_VIDEO_CAPTURE);
}

/* ---- malformed commands ------------------------------------------------- */

static void test_unknown_command(void)
{
	struct virtio_media_cmd_header cmd = { .cmd = 99 };

	TAP_EQ(raw_status(sp, &cmd, sizeof(cmd), 8), -ENOTTY);
}

static void test_guest_side_ioctl(void)
{
	uint32_t s = open_ok(sp);
	struct v4l2_capability cap;

	/* QUERYCAP (and DQBUF...) are the guest's business. */
	TAP_EQ(vg_media_ioctl(sp, s, _IOC_NR(VIDIOC_QUERYCAP), &cap,
			      sizeof(cap), sizeof(cap)),
	       -ENOTTY);
	TAP_EQ(vg_media_ioctl(sp, s, 255, &cap, 4, 4), -ENOTTY);
	TAP_EQ(vg_media_close(sp, s), 0);
}

static void test_short_payload(void)
{
	uint32_t s = open_ok(sp);
	uint8_t cmd[16 + 100] = { 0 };

	put_ioctl(cmd, s, _IOC_NR(VIDIOC_G_FMT));
	cmd[16] = V4L2_BUF_TYPE_VIDEO_CAPTURE;
	TAP_EQ(raw_status(sp, cmd, sizeof(cmd), 8 + 208), -EINVAL);
	TAP_EQ(vg_media_close(sp, s), 0);
}

static void test_no_room_for_answer(void)
{
	uint32_t s = open_ok(sp);
	uint8_t cmd[16 + 208] = { 0 };
	uint32_t written = 99;

	put_ioctl(cmd, s, _IOC_NR(VIDIOC_G_FMT));
	cmd[16] = V4L2_BUF_TYPE_VIDEO_CAPTURE;
	TAP_EQ(vg_media_raw(sp, cmd, sizeof(cmd), NULL, 0, &written), 0);
	TAP_EQ(written, 0);
	/* Room for the header only: the payload does not fit, EINVAL. */
	TAP_EQ(raw_status(sp, cmd, sizeof(cmd), 8), -EINVAL);
	TAP_EQ(vg_media_close(sp, s), 0);
}

static void test_nine_planes(void)
{
	uint32_t s = open_ok(mp);
	static uint8_t cmd[16 + 88 + 9 * 64];
	struct v4l2_buffer b = { .type = V4L2_BUF_TYPE_VIDEO_CAPTURE_MPLANE,
				 .memory = V4L2_MEMORY_MMAP,
				 .length = 9 };

	TAP_EQ(reqbufs(mp, s, b.type, V4L2_MEMORY_MMAP, 1), 0);
	put_ioctl(cmd, s, _IOC_NR(VIDIOC_QBUF));
	memcpy(cmd + 16, &b, sizeof(b));
	TAP_EQ(raw_status(mp, cmd, sizeof(cmd), 8 + 88 + 9 * 64), -EINVAL);
	put_ioctl(cmd, s, _IOC_NR(VIDIOC_QUERYBUF));
	TAP_EQ(raw_status(mp, cmd, sizeof(cmd), 8 + 88 + 9 * 64), -EINVAL);
	TAP_EQ(reqbufs(mp, s, b.type, V4L2_MEMORY_MMAP, 0), 0);
	TAP_EQ(vg_media_close(mp, s), 0);
}

static void test_huge_ext_ctrl_count(void)
{
	uint32_t s = open_ok(sp);
	uint8_t cmd[16 + 32] = { 0 };
	struct v4l2_ext_controls c = { .which = V4L2_CTRL_WHICH_CUR_VAL,
				       .count = 0xffffffffu };

	put_ioctl(cmd, s, _IOC_NR(VIDIOC_G_EXT_CTRLS));
	memcpy(cmd + 16, &c, sizeof(c));
	TAP_EQ(raw_status(sp, cmd, sizeof(cmd), 8 + 32), -EINVAL);
	/* A count the array does not back: the controls are missing. */
	c.count = 1000;
	memcpy(cmd + 16, &c, sizeof(c));
	TAP_EQ(raw_status(sp, cmd, sizeof(cmd), 8 + 32), -EINVAL);
	TAP_EQ(vg_media_close(sp, s), 0);
}

/* ---- USERPTR ------------------------------------------------------------ */

static int qbuf_user(uint32_t s, const struct vg_mem *mem, uint32_t length,
		     size_t sg_len)
{
	struct v4l2_buffer b = { .type = V4L2_BUF_TYPE_VIDEO_CAPTURE,
				 .memory = V4L2_MEMORY_USERPTR,
				 .length = length };
	struct vg_media_sg sg = { .mem = mem, .len = sg_len, .seg = 4096 };

	b.m.userptr = (unsigned long)mem->gpa;
	return vg_media_ioctl_buffer(sp, s, _IOC_NR(VIDIOC_QBUF), &b, NULL,
				     &sg);
}

static void test_short_sg_list(void)
{
	uint32_t s = open_ok(sp), size = set_yuyv(s);
	struct vg_mem mem = { 0 };

	TAP_EQ(reqbufs(sp, s, V4L2_BUF_TYPE_VIDEO_CAPTURE, V4L2_MEMORY_USERPTR,
		       1),
	       0);
	TAP_EQ(vg_ram_alloc(&guest->ram, size, &mem), 0);
	TAP_EQ(qbuf_user(s, &mem, size, size / 2), -EINVAL);
	TAP_EQ(qbuf_user(s, &mem, size, size), 0); /* the session is fine */
	TAP_EQ(reqbufs(sp, s, V4L2_BUF_TYPE_VIDEO_CAPTURE, V4L2_MEMORY_USERPTR,
		       0),
	       0);
	TAP_EQ(vg_media_close(sp, s), 0);
	vg_ram_free(&guest->ram, &mem);
}

static void test_sg_outside_ram(void)
{
	uint32_t s = open_ok(sp), size = set_yuyv(s);
	/* Below the guest's RAM, and wrapping the address space. */
	struct vg_mem below = { .gpa = 0x1000 };
	struct vg_mem wrap = { .gpa = ~0ull - 4095 };

	TAP_EQ(reqbufs(sp, s, V4L2_BUF_TYPE_VIDEO_CAPTURE, V4L2_MEMORY_USERPTR,
		       1),
	       0);
	TAP_EQ(qbuf_user(s, &below, size, size), -EFAULT);
	TAP_EQ(qbuf_user(s, &wrap, size, size), -EFAULT);
	TAP_EQ(vg_media_close(sp, s), 0);
	check_alive(sp, V4L2_BUF_TYPE_VIDEO_CAPTURE);
}

/* ---- shared memory ------------------------------------------------------ */

static void test_munmap_random(void)
{
	static const uint64_t offsets[] = { 0, 0x12345000, 0xfff, ~0ull,
					    1ull << 40 };

	for (unsigned i = 0; i < sizeof(offsets) / sizeof(offsets[0]); i++)
		TAP_EQ(vg_media_munmap(sp, offsets[i]), -EINVAL);
	check_alive(sp, V4L2_BUF_TYPE_VIDEO_CAPTURE);
}

static void test_mmap_foreign_buffer(void)
{
	uint32_t a = open_ok(sp), b = open_ok(sp), off = 0;
	uint64_t addr, len;

	TAP_EQ(reqbufs(sp, a, V4L2_BUF_TYPE_VIDEO_CAPTURE, V4L2_MEMORY_MMAP, 1),
	       0);
	TAP_EQ(querybuf_offset(a, 0, &off), 0);
	TAP_EQ(vg_media_mmap(sp, b, VIRTIO_MEDIA_MMAP_FLAG_RW, off, &addr,
			     &len),
	       -EINVAL);
	TAP_EQ(vg_media_mmap(sp, a, 0, off + 4096, &addr, &len), -EINVAL);
	TAP_EQ(vg_media_close(sp, b), 0);
	TAP_EQ(vg_media_close(sp, a), 0);
}

static bool all_zero(const uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (p[i])
			return false;
	return true;
}

static void test_close_while_streaming(void)
{
	uint32_t s = open_ok(sp), size = set_yuyv(s), seq = ~0u;
	struct tpg_format f;
	struct vg_media_event ev;
	uint64_t addr[2], ts;
	void *planes[3];
	size_t sizes[3];
	uint8_t *mem;

	tpg_format_init(&f, V4L2_PIX_FMT_YUYV, 640, 480);
	if (setup_mmap(s, 2, addr) || qbuf_mmap(s, 0) ||
	    streamctl(sp, s, _IOC_NR(VIDIOC_STREAMON),
		      V4L2_BUF_TYPE_VIDEO_CAPTURE)) {
		TAP_CHECK(false, "stream setup failed");
		return;
	}
	TAP_EQ(vg_media_next_event(sp, WAIT_MS, &ev), 1);
	TAP_EQ(ev.u.dqbuf.b.index, 0);
	TAP_EQ(vg_media_close(sp, s), 0);
	expect_quiet(sp);
	/* The guest still has the buffer mapped: it must still be there. */
	mem = vg_media_shm_ptr(sp, addr[0], size);
	tpg_split_buffer(&f, mem, planes, sizes);
	TAP_EQ(tpg_read_stamp(&f, planes, &seq, &ts), 0);
	TAP_EQ(seq, 0);
	munmap_all(addr, 2);
	TAP_EQ(vg_media_munmap(sp, addr[0]), -EINVAL);
	/* Released memory is scrubbed before anyone can get it again. */
	TAP_CHECK(all_zero(mem, size), "released buffer not scrubbed");
}

/* ---- events ------------------------------------------------------------- */

/*
 * On a device of a guest that posted no event buffers: 4 MMAP buffers
 * queued and streaming, so 4 DQBUF events wait in the device. The
 * helpers above work on sp, which points at that device until
 * stop_starved() puts the previous one back.
 */
static struct vg_media *start_starved(struct vg_media *m, uint32_t *s,
				      uint64_t *addr)
{
	struct vg_media *keep = sp;

	sp = m;
	*s = open_ok(sp);
	set_yuyv(*s);
	TAP_EQ(vg_media_set_event_buffers(sp, 0), 0);
	if (setup_mmap(*s, 4, addr) == 0) {
		for (unsigned i = 0; i < 4; i++)
			TAP_EQ(qbuf_mmap(*s, i), 0);
		TAP_EQ(streamctl(sp, *s, _IOC_NR(VIDIOC_STREAMON),
				 V4L2_BUF_TYPE_VIDEO_CAPTURE),
		       0);
	}
	expect_quiet(sp);
	return keep;
}

static void stop_starved(struct vg_media *keep, uint32_t s, uint64_t *addr)
{
	vg_media_set_event_buffers(sp, 0);
	TAP_EQ(vg_media_close(sp, s), 0);
	munmap_all(addr, 4);
	sp = keep;
}

static void test_starved_eventq(void)
{
	struct vg_media_event ev;
	uint64_t addr[4];
	uint32_t s;
	struct vg_media *keep = start_starved(hungry[0], &s, addr);

	TAP_EQ(vg_media_set_event_buffers(sp, VG_MEDIA_EVENT_BUFS), 0);
	for (uint32_t seq = 0; seq < 4; seq++) {
		TAP_EQ(vg_media_next_event(sp, WAIT_MS, &ev), 1);
		TAP_EQ(ev.u.hdr.event, VIRTIO_MEDIA_EVT_DQBUF);
		TAP_EQ(ev.u.dqbuf.b.sequence, seq);
	}
	TAP_EQ(streamctl(sp, s, _IOC_NR(VIDIOC_STREAMOFF),
			 V4L2_BUF_TYPE_VIDEO_CAPTURE),
	       0);
	stop_starved(keep, s, addr);
}

static void test_streamoff_purges(void)
{
	uint64_t addr[4];
	uint32_t s;
	struct vg_media *keep = start_starved(hungry[1], &s, addr);

	TAP_EQ(streamctl(sp, s, _IOC_NR(VIDIOC_STREAMOFF),
			 V4L2_BUF_TYPE_VIDEO_CAPTURE),
	       0);
	/* The frames done before STREAMOFF must never reach the guest. */
	TAP_EQ(vg_media_set_event_buffers(sp, VG_MEDIA_EVENT_BUFS), 0);
	expect_quiet(sp);
	stop_starved(keep, s, addr);
}

void capture_hostile_cases(struct vg_media *dev, struct test_guest *g,
			   struct vg_media starved[2])
{
	hungry[0] = &starved[0];
	hungry[1] = &starved[1];
	sp = &dev[0];
	mp = &dev[1];
	guest = g;
	tap_run("ioctl on a session id never opened: EINVAL",
		test_unknown_session);
	tap_run("ioctl on a closed session: EINVAL", test_closed_session);
	tap_run("session id of another device: EINVAL", test_foreign_session);
	tap_run("OPEN until the cap: EMFILE; CLOSE frees a slot",
		test_open_until_cap);
	tap_run("unknown command: ENOTTY", test_unknown_command);
	tap_run("ioctls the guest handles itself: ENOTTY",
		test_guest_side_ioctl);
	tap_run("payload shorter than the ioctl needs: EINVAL",
		test_short_payload);
	tap_run("no room for an answer: nothing written, device fine",
		test_no_room_for_answer);
	tap_run("QBUF/QUERYBUF with 9 planes: EINVAL", test_nine_planes);
	tap_run("ext controls with count 2^32-1 or unbacked: EINVAL",
		test_huge_ext_ctrl_count);
	tap_run("USERPTR SG list shorter than the plane: EINVAL",
		test_short_sg_list);
	tap_run("USERPTR SG entries outside guest RAM: EFAULT",
		test_sg_outside_ram);
	tap_run("MUNMAP of random offsets: EINVAL", test_munmap_random);
	tap_run("MMAP of another session's buffer: EINVAL",
		test_mmap_foreign_buffer);
	tap_run("eventq starved, then refilled: every DQBUF, in order",
		test_starved_eventq);
	tap_run("STREAMOFF purges DQBUF events not yet delivered",
		test_streamoff_purges);
	tap_run("CLOSE while streaming: mapping lives until MUNMAP, then "
		"scrubbed",
		test_close_while_streaming);
}
