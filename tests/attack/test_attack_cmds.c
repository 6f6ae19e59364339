/* SPDX-License-Identifier: MIT */
/*
 * Attacks on the command runner and the ioctl codecs: payloads shorter or
 * longer than the ioctl, every ioctl code with nothing and with garbage,
 * commands cut into 2-byte pieces, truncated command structs, buffer
 * structs with 9 to 2^32-1 planes, extended controls with absurd counts
 * and sizes, and commands that raise events while they are being served.
 */
#include <errno.h>
#include <linux/virtio_config.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "atk.h"
#include "atk_ring.h"
#include "protocol/ioctl_table.h"
#include "tap.h"
#include "vmedia/virtio_media_wire.h"

#define RAM_SIZE (72ull << 20)
#define SP	 0u /* vcam:unpaced */
#define MP	 1u /* vcam:mplane,unpaced */

static struct vg_media sp, mp;

static int ioctl_raw(struct vg_media *m, uint32_t s, uint32_t code,
		     const void *payload, size_t in_len, size_t out_len)
{
	static uint8_t cmd[65536];

	if (16 + in_len > sizeof(cmd))
		return -E2BIG;
	atk_put_ioctl(cmd, s, code);
	if (in_len)
		memcpy(cmd + 16, payload, in_len);
	return atk_raw_status(m, cmd, 16 + in_len, 8 + out_len);
}

/* ---- commands that raise events while they are served -------------------- */

static int subscribe(uint32_t s, uint32_t id, uint32_t flags)
{
	struct v4l2_event_subscription sub = { .type = V4L2_EVENT_CTRL,
					       .id = id,
					       .flags = flags };

	return vg_media_ioctl(&sp, s, _IOC_NR(VIDIOC_SUBSCRIBE_EVENT), &sub,
			      sizeof(sub), 0);
}

static void expect_ctrl_event(uint32_t s, uint32_t id)
{
	struct vg_media_event ev;

	TAP_EQ(vg_media_next_event(&sp, ATK_TIMEOUT_MS, &ev), 1);
	TAP_EQ(ev.u.hdr.event, VIRTIO_MEDIA_EVT_EVENT);
	TAP_EQ(ev.u.hdr.session_id, s);
	TAP_EQ(ev.u.event.ev.type, V4L2_EVENT_CTRL);
	TAP_EQ(ev.u.event.ev.id, id);
}

/*
 * A fresh driver on the device, so that one case's damage (a ring the
 * guest library gave up on, NEEDS_RESET) does not spill into the next.
 */
static void restore(struct vg_media *m, unsigned index)
{
	vg_media_fini(m);
	TAP_EQ(atk_media_up(m, index), 0);
}

static void test_subscribe_send_initial(void)
{
	uint32_t s = atk_open(&sp);

	/* The initial event goes out while SUBSCRIBE itself is served. */
	TAP_EQ(subscribe(s, V4L2_CID_BRIGHTNESS,
			 V4L2_EVENT_SUB_FL_SEND_INITIAL),
	       0);
	TAP_CHECK(!(atk_status(&sp) & VIRTIO_CONFIG_S_NEEDS_RESET),
		  "status %#x", atk_status(&sp));
	expect_ctrl_event(s, V4L2_CID_BRIGHTNESS);
	restore(&sp, SP);
	TAP_EQ(vg_media_close(&sp, s), 0);
	atk_check_alive(&sp);
}

static void test_s_ctrl_event_to_other(void)
{
	struct v4l2_control c = { .id = V4L2_CID_CONTRAST, .value = 77 };
	uint32_t a = atk_open(&sp), b = atk_open(&sp);

	TAP_EQ(subscribe(a, V4L2_CID_CONTRAST, 0), 0);
	/* b's S_CTRL queues a's event while b's command is in hand. */
	TAP_EQ(vg_media_ioctl(&sp, b, _IOC_NR(VIDIOC_S_CTRL), &c, sizeof(c),
			      sizeof(c)),
	       0);
	TAP_EQ(c.value, 77);
	expect_ctrl_event(a, V4L2_CID_CONTRAST);
	restore(&sp, SP);
	c.value = 128;
	vg_media_ioctl(&sp, b, _IOC_NR(VIDIOC_S_CTRL), &c, sizeof(c),
		       sizeof(c));
	(void)vg_media_next_event(&sp, 200, &(struct vg_media_event){ 0 });
	TAP_EQ(vg_media_close(&sp, b), 0);
	TAP_EQ(vg_media_close(&sp, a), 0);
}

/* ---- payload sizes ------------------------------------------------------- */

static void test_payload_longer(void)
{
	uint8_t pay[208 + 1000];
	uint32_t s = atk_open(&sp);

	memset(pay, 0xa5, sizeof(pay));
	memset(pay, 0, 208);
	pay[0] = V4L2_BUF_TYPE_VIDEO_CAPTURE;
	/* The bytes past the ioctl's size are not the device's business. */
	TAP_EQ(ioctl_raw(&sp, s, _IOC_NR(VIDIOC_G_FMT), pay, sizeof(pay), 208),
	       0);
	memset(pay, 0, 4);
	pay[0] = V4L2_BUF_TYPE_VIDEO_CAPTURE;
	TAP_EQ(ioctl_raw(&sp, s, _IOC_NR(VIDIOC_STREAMOFF), pay, 100, 0), 0);
	memset(pay, 0, 8);
	TAP_EQ(ioctl_raw(&sp, s, _IOC_NR(VIDIOC_S_INPUT), pay, 1000, 4), 0);
	TAP_EQ(vg_media_close(&sp, s), 0);
}

/* Every code with `cut` bytes of its payload missing (all if 0). */
static void every_code_short(uint32_t s, unsigned cut)
{
	static const uint8_t zeros[4096];

	for (uint32_t code = 0; code < 256; code++) {
		const struct ioctl_desc *d = ioctl_lookup(code);
		size_t len = d && cut ? d->size - cut : 0;
		int r = ioctl_raw(&sp, s, code, zeros, len, 4096);

		if (!d)
			TAP_CHECK(r == -ENOTTY, "code %u: %d", code, r);
		else if (d->cls != IOCTL_R)
			TAP_CHECK(r == -EINVAL, "%s, %zu of %u bytes: %d",
				  d->name, len, d->size, r);
		else
			TAP_CHECK(r <= 0 && r != -EIO, "%s: %d", d->name, r);
	}
}

static void test_every_code_empty(void)
{
	uint32_t s = atk_open(&sp);

	every_code_short(s, 0);
	every_code_short(s, 1);
	/* Codes past the table, as _IOC_NR never gives but a guest may. */
	TAP_EQ(ioctl_raw(&sp, s, 256, NULL, 0, 8), -ENOTTY);
	TAP_EQ(ioctl_raw(&sp, s, 0xffffffffu, NULL, 0, 8), -ENOTTY);
	TAP_EQ(vg_media_close(&sp, s), 0);
	atk_check_alive(&sp);
}

static void test_every_code_garbage(void)
{
	static uint8_t pay[4096];
	uint32_t x = 0x9e3779b9u;

	for (unsigned round = 0; round < 3; round++) {
		uint32_t s = atk_open(&sp), t = atk_open(&mp);

		for (uint32_t code = 0; code < 256; code++) {
			for (size_t i = 0; i < sizeof(pay); i++) {
				x ^= x << 13;
				x ^= x >> 17;
				x ^= x << 5;
				pay[i] = (uint8_t)x;
			}
			/* Whatever the answer, it is an answer. */
			TAP_CHECK(ioctl_raw(&sp, s, code, pay, sizeof(pay),
					    4096) != -EIO,
				  "sp code %u: no answer", code);
			TAP_CHECK(ioctl_raw(&mp, t, code, pay, sizeof(pay),
					    4096) != -EIO,
				  "mp code %u: no answer", code);
		}
		TAP_EQ(vg_media_close(&sp, s), 0);
		TAP_EQ(vg_media_close(&mp, t), 0);
	}
	restore(&sp, SP);
	restore(&mp, MP);
	atk_check_alive(&sp);
	atk_check_alive(&mp);
}

/* ---- commands cut into pieces, or cut short ------------------------------ */

static void test_two_byte_pieces(void)
{
	struct atk_rdev r;
	struct vring_desc *t;
	struct vring_used_elem e;
	struct virtio_media_resp_open ro;
	struct v4l2_format f;
	uint8_t cmd[16 + 208] = { 0 };
	unsigned n = 0;

	vg_media_fini(&sp);
	TAP_EQ(atk_rdev_up(&r, atk_g.t, &atk_g.ram, SP, VG_F_INDIRECT_DESC,
			   256),
	       0);
	TAP_EQ(atk_rdev_roundtrip(&r), 0);
	/* An OPEN as before, then G_FMT in 2-byte pieces both ways. */
	cmd[0] = VIRTIO_MEDIA_CMD_OPEN;
	memcpy(atk_rbuf(&r, 0), cmd, 8);
	atk_rq_desc(&r.q[0], 0, atk_rbuf_gpa(&r, 0), 8, VRING_DESC_F_NEXT, 1);
	atk_rq_desc(&r.q[0], 1, atk_rbuf_gpa(&r, 4096), 16, VRING_DESC_F_WRITE,
		    0);
	atk_rq_post(&r.q[0], 0);
	atk_rq_kick(&r.q[0]);
	TAP_EQ(atk_rq_wait(&r.q[0], ATK_TIMEOUT_MS, &e), 1);
	memcpy(&ro, atk_rbuf(&r, 4096), sizeof(ro));
	atk_put_ioctl(cmd, ro.session_id, _IOC_NR(VIDIOC_G_FMT));
	cmd[16] = V4L2_BUF_TYPE_VIDEO_CAPTURE;
	memcpy(atk_rbuf(&r, 0), cmd, sizeof(cmd));
	memset(atk_rbuf(&r, 4096), 0xee, 216);
	t = atk_rbuf(&r, 65536);
	for (unsigned off = 0; off < sizeof(cmd); off += 2, n++)
		t[n] = (struct vring_desc){ atk_rbuf_gpa(&r, off), 2,
					    VRING_DESC_F_NEXT,
					    (uint16_t)(n + 1) };
	for (unsigned off = 0; off < 216; off += 2, n++)
		t[n] = (struct vring_desc){ atk_rbuf_gpa(&r, 4096 + off), 2,
					    VRING_DESC_F_NEXT |
						    VRING_DESC_F_WRITE,
					    (uint16_t)(n + 1) };
	t[n - 1].flags &= (uint16_t)~VRING_DESC_F_NEXT;
	atk_rq_desc(&r.q[0], 2, atk_rbuf_gpa(&r, 65536), n * 16,
		    VRING_DESC_F_INDIRECT, 0);
	atk_rq_post(&r.q[0], 2);
	atk_rq_kick(&r.q[0]);
	TAP_EQ(atk_rq_wait(&r.q[0], ATK_TIMEOUT_MS, &e), 1);
	TAP_EQ(e.id, 2);
	TAP_EQ(e.len, 216);
	TAP_EQ(*(uint32_t *)atk_rbuf(&r, 4096), 0);
	memcpy(&f, atk_rbuf(&r, 4096 + 8), sizeof(f));
	TAP_EQ(f.fmt.pix.width, 640);
	TAP_EQ(f.fmt.pix.pixelformat, V4L2_PIX_FMT_YUYV);
	atk_rdev_down(&r);
	TAP_EQ(atk_media_up(&sp, SP), 0);
}

static void test_truncated_commands(void)
{
	struct virtio_media_cmd_mmap mm = { .hdr.cmd = VIRTIO_MEDIA_CMD_MMAP };
	struct virtio_media_cmd_munmap mu = { .hdr.cmd =
						      VIRTIO_MEDIA_CMD_MUNMAP };
	struct virtio_media_cmd_close cl = { .hdr.cmd =
						     VIRTIO_MEDIA_CMD_CLOSE };
	struct virtio_media_cmd_header h = { .cmd = VIRTIO_MEDIA_CMD_IOCTL };
	uint8_t resp[64];
	uint32_t written = 99, s = atk_open(&sp);

	/* A header of 4 bytes, an ioctl of 12, MMAP of the draft's 16. */
	TAP_EQ(atk_raw_status(&sp, &h, 4, 64), -EINVAL);
	TAP_EQ(atk_raw_status(&sp, &h, 8, 64), -EINVAL);
	mm.session_id = s;
	TAP_EQ(atk_raw_status(&sp, &mm, 16, 64), -EINVAL);
	TAP_EQ(atk_raw_status(&sp, &mu, 12, 64), -EINVAL);
	/* CLOSE cut short is ignored (it has no answer): s stays open. */
	cl.session_id = s;
	TAP_EQ(vg_media_raw(&sp, &cl, 12, resp, sizeof(resp), &written), 0);
	TAP_EQ(written, 0);
	TAP_EQ(atk_g_fmt(&sp, s, V4L2_BUF_TYPE_VIDEO_CAPTURE), 0);
	/* Commands 0 and 2^32-1 are nobody's. */
	h.cmd = 0;
	TAP_EQ(atk_raw_status(&sp, &h, sizeof(h), 8), -ENOTTY);
	h.cmd = 0xffffffffu;
	TAP_EQ(atk_raw_status(&sp, &h, sizeof(h), 8), -ENOTTY);
	/* No writable part at all: nothing written, nothing broken. */
	atk_put_ioctl(resp, s, _IOC_NR(VIDIOC_G_FMT));
	TAP_EQ(vg_media_raw(&sp, resp, 16 + 4, NULL, 0, &written), 0);
	TAP_EQ(written, 0);
	TAP_EQ(vg_media_close(&sp, s), 0);
	atk_check_alive(&sp);
}

/* ---- buffer structs -------------------------------------------------------
 */

static void test_planes_out_of_range(void)
{
	static const uint32_t counts[] = { 9, 64, 255, 0x10000, 0xffffffffu };
	static uint8_t pay[88 + 255 * 64];
	struct v4l2_buffer b = { .type = V4L2_BUF_TYPE_VIDEO_CAPTURE_MPLANE };
	uint32_t s = atk_open(&mp);
	static const uint32_t codes[] = { _IOC_NR(VIDIOC_QBUF),
					  _IOC_NR(VIDIOC_PREPARE_BUF),
					  _IOC_NR(VIDIOC_QUERYBUF) };

	TAP_EQ(atk_reqbufs(&mp, s, V4L2_MEMORY_USERPTR, 2), 2);
	for (unsigned i = 0; i < ARRAY_SIZE(counts); i++) {
		for (unsigned c = 0; c < ARRAY_SIZE(codes); c++) {
			b.length = counts[i];
			b.memory =
				c % 2 ? V4L2_MEMORY_USERPTR : V4L2_MEMORY_MMAP;
			memcpy(pay, &b, sizeof(b));
			TAP_EQ(ioctl_raw(&mp, s, codes[c], pay, sizeof(pay),
					 sizeof(pay)),
			       -EINVAL);
		}
	}
	TAP_EQ(atk_reqbufs(&mp, s, V4L2_MEMORY_USERPTR, 0), 0);
	TAP_EQ(vg_media_close(&mp, s), 0);
	atk_check_alive(&mp);
}

static void test_buffer_fields_out_of_range(void)
{
	static const struct {
		uint32_t index, type, memory;
	} bad[] = {
		{ 32, V4L2_BUF_TYPE_VIDEO_CAPTURE, V4L2_MEMORY_MMAP },
		{ 0xffffffffu, V4L2_BUF_TYPE_VIDEO_CAPTURE, V4L2_MEMORY_MMAP },
		{ 0, 0, V4L2_MEMORY_MMAP },
		{ 0, 15, V4L2_MEMORY_MMAP },
		{ 0, 0xffffffffu, V4L2_MEMORY_MMAP },
		{ 0, V4L2_BUF_TYPE_VIDEO_CAPTURE, 0 },
		{ 0, V4L2_BUF_TYPE_VIDEO_CAPTURE, 0xffffffffu },
		{ 0, V4L2_BUF_TYPE_VIDEO_OUTPUT, V4L2_MEMORY_MMAP },
	};
	uint8_t pay[88];
	uint32_t s = atk_open(&sp);

	TAP_EQ(atk_reqbufs(&sp, s, V4L2_MEMORY_MMAP, 2), 2);
	for (unsigned i = 0; i < ARRAY_SIZE(bad); i++) {
		struct v4l2_buffer b = { .index = bad[i].index,
					 .type = bad[i].type,
					 .memory = bad[i].memory };

		memcpy(pay, &b, sizeof(b));
		TAP_EQ(ioctl_raw(&sp, s, _IOC_NR(VIDIOC_QBUF), pay, 88, 88),
		       -EINVAL);
		TAP_EQ(ioctl_raw(&sp, s, _IOC_NR(VIDIOC_QUERYBUF), pay, 88, 88),
		       bad[i].memory == 0 || bad[i].memory == 0xffffffffu
			       ? 0
			       : -EINVAL);
	}
	TAP_EQ(atk_reqbufs(&sp, s, V4L2_MEMORY_MMAP, 0), 0);
	/* REQBUFS of 2^32-1: as many as a queue holds. */
	TAP_EQ(atk_reqbufs(&sp, s, V4L2_MEMORY_MMAP, 0xffffffffu), 32);
	TAP_EQ(atk_reqbufs(&sp, s, V4L2_MEMORY_MMAP, 0), 0);
	TAP_EQ(vg_media_close(&sp, s), 0);
}

static void test_format_extremes(void)
{
	static const uint32_t dims[][2] = { { 0, 0 },
					    { 0xffffffffu, 0xffffffffu },
					    { 1, 0xffffffffu },
					    { 0x80000000u, 2 } };
	uint32_t s = atk_open(&sp);
	struct v4l2_streamparm p = { .type = V4L2_BUF_TYPE_VIDEO_CAPTURE };

	for (unsigned i = 0; i < ARRAY_SIZE(dims); i++) {
		struct v4l2_format f = { .type = V4L2_BUF_TYPE_VIDEO_CAPTURE };

		f.fmt.pix.width = dims[i][0];
		f.fmt.pix.height = dims[i][1];
		f.fmt.pix.pixelformat = 0xdeadbeef;
		f.fmt.pix.sizeimage = 1;
		f.fmt.pix.bytesperline = 0xffffffffu;
		TAP_EQ(vg_media_ioctl(&sp, s, _IOC_NR(VIDIOC_S_FMT), &f,
				      sizeof(f), sizeof(f)),
		       0);
		/* Adjusted to something the camera makes, sized right. */
		TAP_CHECK(f.fmt.pix.width >= 320 && f.fmt.pix.width <= 3840,
			  "width %u", f.fmt.pix.width);
		TAP_CHECK(f.fmt.pix.sizeimage >=
				  f.fmt.pix.width * f.fmt.pix.height,
			  "sizeimage %u", f.fmt.pix.sizeimage);
	}
	p.parm.capture.timeperframe.numerator = 0xffffffffu;
	p.parm.capture.timeperframe.denominator = 1;
	TAP_EQ(vg_media_ioctl(&sp, s, _IOC_NR(VIDIOC_S_PARM), &p, sizeof(p),
			      sizeof(p)),
	       0);
	TAP_CHECK(p.parm.capture.timeperframe.numerator != 0 &&
			  p.parm.capture.timeperframe.denominator != 0,
		  "timeperframe %u/%u", p.parm.capture.timeperframe.numerator,
		  p.parm.capture.timeperframe.denominator);
	TAP_EQ(vg_media_close(&sp, s), 0);
}

/* ---- extended controls ----------------------------------------------------
 */

static int ext_raw(uint32_t s, uint32_t count,
		   const struct v4l2_ext_control *ctrls, uint32_t n,
		   const void *sg, size_t sg_len)
{
	static uint8_t pay[32 + 1100 * 20 + 4096];
	struct v4l2_ext_controls c = { .which = V4L2_CTRL_WHICH_CUR_VAL,
				       .count = count };
	size_t len = 32 + (size_t)n * 20;

	memcpy(pay, &c, sizeof(c));
	if (n)
		memcpy(pay + 32, ctrls, (size_t)n * 20);
	if (sg_len)
		memcpy(pay + len, sg, sg_len);
	return ioctl_raw(&sp, s, _IOC_NR(VIDIOC_G_EXT_CTRLS), pay, len + sg_len,
			 len);
}

static void test_ext_ctrl_counts(void)
{
	static struct v4l2_ext_control ctrls[1025];
	static const uint32_t counts[] = { 1025, 0x10000, 0x80000000u,
					   0xffffffffu };
	uint32_t s = atk_open(&sp);

	for (unsigned i = 0; i < 1025; i++)
		ctrls[i].id = V4L2_CID_BRIGHTNESS;
	/* The kernel's own maximum, all present: served. */
	TAP_EQ(ext_raw(s, 1024, ctrls, 1024, NULL, 0), 0);
	for (unsigned i = 0; i < ARRAY_SIZE(counts); i++)
		TAP_EQ(ext_raw(s, counts[i], ctrls, 1025, NULL, 0), -EINVAL);
	TAP_EQ(vg_media_close(&sp, s), 0);
}

struct sg {
	uint64_t start;
	uint32_t len, pad;
};

static void test_ext_ctrl_payloads(void)
{
	static const uint32_t sizes[] = { 0xffffffffu, (1u << 20) + 1 };
	struct v4l2_ext_control c[5] = { { .id = V4L2_CID_BRIGHTNESS } };
	struct vg_mem mem;
	struct sg sg[5];
	uint32_t s = atk_open(&sp);

	TAP_EQ(vg_ram_alloc(&atk_g.ram, 1u << 20, &mem), 0);
	for (unsigned i = 0; i < ARRAY_SIZE(sizes); i++) {
		c[0].size = sizes[i];
		sg[0] = (struct sg){ mem.gpa, sizes[i], 0 };
		TAP_EQ(ext_raw(s, 1, c, 1, sg, sizeof(sg[0])), -ENOMEM);
	}
	/* Five payloads of 1 MiB: more than the 4 MiB a call may carry. */
	for (unsigned i = 0; i < 5; i++) {
		c[i] = (struct v4l2_ext_control){ .id = V4L2_CID_BRIGHTNESS,
						  .size = 1u << 20 };
		sg[i] = (struct sg){ mem.gpa, 1u << 20, 0 };
	}
	TAP_EQ(ext_raw(s, 5, c, 5, sg, sizeof(sg)), -ENOMEM);
	/* Payloads outside RAM, or whose list stops short. */
	c[0].size = 64;
	sg[0] = (struct sg){ 0x1000, 64, 0 };
	TAP_EQ(ext_raw(s, 1, c, 1, sg, sizeof(sg[0])), -EFAULT);
	sg[0] = (struct sg){ ~0ull - 31, 64, 0 };
	TAP_EQ(ext_raw(s, 1, c, 1, sg, sizeof(sg[0])), -EFAULT);
	TAP_EQ(ext_raw(s, 1, c, 1, sg, 8), -EINVAL);
	/* A payload list aimed at the device's own commandq ring. */
	sg[0] = (struct sg){ sp.cmdq.mem.gpa, 64, 0 };
	(void)ext_raw(s, 1, c, 1, sg, sizeof(sg[0]));
	restore(&sp, SP);
	vg_ram_free(&atk_g.ram, &mem);
	vg_media_close(&sp, s);
	atk_check_alive(&sp);
}

int main(void)
{
	static const char *const args[] = { "--device", "vcam:unpaced",
					    "--device", "vcam:mplane,unpaced",
					    NULL };

	atk_suite_start(args, RAM_SIZE);
	if (atk_media_up(&sp, SP) || atk_media_up(&mp, MP)) {
		printf("Bail out! attacker devices did not come up\n");
		return 1;
	}
	atk_run("SUBSCRIBE_EVENT(SEND_INITIAL) with event buffers posted: "
		"answered, initial event delivered",
		test_subscribe_send_initial);
	atk_run("S_CTRL raising another session's control event: answered, "
		"event delivered",
		test_s_ctrl_event_to_other);
	atk_run("ioctl payload longer than the ioctl: extra bytes ignored",
		test_payload_longer);
	atk_run("every ioctl code 0..255 (and 256, 2^32-1) with no payload "
		"and one byte short: ENOTTY/EINVAL",
		test_every_code_empty);
	atk_run("every ioctl code with 4 KiB of garbage, 3 rounds, both "
		"devices: always answered",
		test_every_code_garbage);
	atk_run("G_FMT cut into 2-byte segments both ways: byte-exact answer",
		test_two_byte_pieces);
	atk_run("commands cut short (4/8/12/16 bytes), cmd 0 and 2^32-1, no "
		"writable part",
		test_truncated_commands);
	atk_run("QBUF/PREPARE_BUF/QUERYBUF with 9, 64, 255, 2^16, 2^32-1 "
		"planes: EINVAL",
		test_planes_out_of_range);
	atk_run("buffer index 32/2^32-1, type 0/15/2^32-1/OUTPUT, bad memory: "
		"EINVAL; REQBUFS 2^32-1 -> 32",
		test_buffer_fields_out_of_range);
	atk_run("S_FMT 0x0, 2^32-1 squared, bad fourcc; S_PARM 2^32-1/1: "
		"adjusted",
		test_format_extremes);
	atk_run("ext controls: 1024 served; 1025, 2^16, 2^31, 2^32-1 -> "
		"EINVAL",
		test_ext_ctrl_counts);
	atk_run("ext control payloads: 2^32-1, 1 MiB+1, 5 MiB total -> "
		"ENOMEM; outside RAM -> EFAULT; at the ring",
		test_ext_ctrl_payloads);
	vg_media_fini(&sp);
	vg_media_fini(&mp);
	return atk_suite_end();
}
