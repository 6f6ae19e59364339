/* SPDX-License-Identifier: MIT */
/* Test guests and the virtio-media commands the cases build on. */
#include <errno.h>
#include <linux/virtio_mmio.h>
#include <string.h>

#include "atk.h"
#include "tap.h"

int atk_guest_connect(struct atk_daemon *d, struct atk_guest *g,
		      uint64_t ram_size)
{
	int64_t deadline = atk_now_ms() + ATK_TIMEOUT_MS;
	int r;

	memset(g, 0, sizeof(*g));
	for (;;) {
		r = vg_testbus_connect(d->sock, ram_size, &g->t);
		if ((r != -ENOENT && r != -ECONNREFUSED) ||
		    atk_now_ms() > deadline || !atk_daemon_alive(d))
			break;
		atk_sleep_ms(10);
	}
	if (r == 0)
		r = vg_ram_init(&g->ram, g->t);
	if (r == 0)
		g->ram_size = ram_size;
	return r;
}

void atk_guest_close(struct atk_guest *g)
{
	if (!g->t)
		return;
	vg_ram_fini(&g->ram);
	vg_transport_close(g->t);
	memset(g, 0, sizeof(*g));
}

uint32_t atk_reg(struct vg_transport *t, unsigned index, uint32_t off)
{
	uint64_t v = 0;
	int r = vg_mmio_read(t, t->dev[index].mmio_base + off, 4, &v);

	TAP_CHECK(r == 0, "read of %#x: %d", off, r);
	return (uint32_t)v;
}

void atk_reg_write(struct vg_transport *t, unsigned index, uint32_t off,
		   uint32_t val)
{
	int r = vg_mmio_write(t, t->dev[index].mmio_base + off, 4, val);

	TAP_CHECK(r == 0, "write of %#x: %d", off, r);
}

uint32_t atk_status(struct vg_media *m)
{
	uint32_t st = 0;

	TAP_EQ(vg_virtio_status(&m->dev, &st), 0);
	return st;
}

uint32_t atk_wait_status(struct vg_media *m, uint32_t bits, int timeout_ms)
{
	int64_t deadline = atk_now_ms() + timeout_ms;
	uint32_t st = atk_status(m);

	while (!(st & bits) && atk_now_ms() < deadline) {
		atk_sleep_ms(2);
		st = atk_status(m);
	}
	return st;
}

uint32_t atk_buf_type(const struct vg_media *m)
{
	return m->config.device_caps & V4L2_CAP_VIDEO_CAPTURE_MPLANE
		       ? V4L2_BUF_TYPE_VIDEO_CAPTURE_MPLANE
		       : V4L2_BUF_TYPE_VIDEO_CAPTURE;
}

uint32_t atk_open(struct vg_media *m)
{
	uint32_t s = 0;

	TAP_EQ(vg_media_open(m, &s), 0);
	return s;
}

int atk_g_fmt(struct vg_media *m, uint32_t s, uint32_t type)
{
	struct v4l2_format f = { .type = type };

	return vg_media_ioctl(m, s, _IOC_NR(VIDIOC_G_FMT), &f, sizeof(f),
			      sizeof(f));
}

int atk_s_fmt(struct vg_media *m, uint32_t s, uint32_t w, uint32_t h,
	      uint32_t *sizeimage)
{
	struct v4l2_format f = { .type = atk_buf_type(m) };
	bool mp = f.type == V4L2_BUF_TYPE_VIDEO_CAPTURE_MPLANE;
	int r;

	if (mp) {
		f.fmt.pix_mp.width = w;
		f.fmt.pix_mp.height = h;
		f.fmt.pix_mp.pixelformat = V4L2_PIX_FMT_NV12;
		f.fmt.pix_mp.num_planes = 1;
	} else {
		f.fmt.pix.width = w;
		f.fmt.pix.height = h;
		f.fmt.pix.pixelformat = V4L2_PIX_FMT_YUYV;
	}
	r = vg_media_ioctl(m, s, _IOC_NR(VIDIOC_S_FMT), &f, sizeof(f),
			   sizeof(f));
	*sizeimage =
		mp ? f.fmt.pix_mp.plane_fmt[0].sizeimage : f.fmt.pix.sizeimage;
	return r;
}

uint32_t atk_set_fmt(struct vg_media *m, uint32_t s, uint32_t w, uint32_t h)
{
	uint32_t size = 0;

	TAP_EQ(atk_s_fmt(m, s, w, h, &size), 0);
	return size;
}

int atk_reqbufs(struct vg_media *m, uint32_t s, uint32_t memory, uint32_t count)
{
	struct v4l2_requestbuffers rb = { .count = count,
					  .type = atk_buf_type(m),
					  .memory = memory };
	int r = vg_media_ioctl(m, s, _IOC_NR(VIDIOC_REQBUFS), &rb, sizeof(rb),
			       sizeof(rb));

	return r ? r : (int)rb.count;
}

int atk_stream(struct vg_media *m, uint32_t s, bool on)
{
	uint32_t type = atk_buf_type(m);

	return vg_media_ioctl(
		m, s, on ? _IOC_NR(VIDIOC_STREAMON) : _IOC_NR(VIDIOC_STREAMOFF),
		&type, sizeof(type), 0);
}

int atk_querybuf_off(struct vg_media *m, uint32_t s, uint32_t index,
		     uint32_t *off)
{
	struct v4l2_plane p[VIDEO_MAX_PLANES] = { 0 };
	struct v4l2_buffer b = { .index = index,
				 .type = atk_buf_type(m),
				 .memory = V4L2_MEMORY_MMAP };
	bool mp = b.type == V4L2_BUF_TYPE_VIDEO_CAPTURE_MPLANE;
	int r;

	if (mp)
		b.length = 1;
	r = vg_media_ioctl_buffer(m, s, _IOC_NR(VIDIOC_QUERYBUF), &b, p, NULL);
	*off = mp ? p[0].m.mem_offset : b.m.offset;
	return r;
}

int atk_qbuf_mmap(struct vg_media *m, uint32_t s, uint32_t index)
{
	struct v4l2_plane p[VIDEO_MAX_PLANES] = { 0 };
	struct v4l2_buffer b = { .index = index,
				 .type = atk_buf_type(m),
				 .memory = V4L2_MEMORY_MMAP };

	if (b.type == V4L2_BUF_TYPE_VIDEO_CAPTURE_MPLANE)
		b.length = 1;
	return vg_media_ioctl_buffer(m, s, _IOC_NR(VIDIOC_QBUF), &b, p, NULL);
}

int atk_qbuf_user(struct vg_media *m, uint32_t s, uint32_t code, uint32_t index,
		  uint32_t length, const struct vg_media_sg *sg)
{
	struct v4l2_plane p[VIDEO_MAX_PLANES] = { 0 };
	struct v4l2_buffer b = { .index = index,
				 .type = atk_buf_type(m),
				 .memory = V4L2_MEMORY_USERPTR };
	uint64_t gpa = sg && sg->mem ? sg->mem->gpa : 0;

	if (b.type == V4L2_BUF_TYPE_VIDEO_CAPTURE_MPLANE) {
		b.length = 1;
		p[0].length = length;
		p[0].m.userptr = (unsigned long)gpa;
	} else {
		b.length = length;
		b.m.userptr = (unsigned long)gpa;
	}
	return vg_media_ioctl_buffer(m, s, code, &b, p, sg);
}

int atk_raw_status(struct vg_media *m, const void *cmd, size_t len,
		   size_t resp_len)
{
	static uint8_t resp[65536];
	struct virtio_media_resp_header h;
	uint32_t written = 0;
	int r;

	if (resp_len > sizeof(resp))
		return -E2BIG;
	r = vg_media_raw(m, cmd, len, resp, resp_len, &written);
	if (r < 0)
		return r;
	if (written < sizeof(h))
		return -EIO;
	memcpy(&h, resp, sizeof(h));
	return -(int)h.status;
}

size_t atk_put_ioctl(uint8_t *buf, uint32_t session, uint32_t code)
{
	struct virtio_media_cmd_ioctl cmd = { .hdr.cmd = VIRTIO_MEDIA_CMD_IOCTL,
					      .session_id = session,
					      .code = code };

	memcpy(buf, &cmd, sizeof(cmd));
	return sizeof(cmd);
}

void atk_check_alive(struct vg_media *m)
{
	uint32_t s = 0;
	int r = vg_media_open(m, &s);

	TAP_CHECK(r == 0, "device no longer opens sessions: %d", r);
	if (r)
		return;
	TAP_EQ(atk_g_fmt(m, s, atk_buf_type(m)), 0);
	TAP_EQ(vg_media_close(m, s), 0);
}

int atk_media_up(struct vg_media *m, unsigned index)
{
	return vg_media_init(m, atk_g.t, &atk_g.ram, index);
}

int atk_capture_frames(struct vg_media *m, uint32_t memory, unsigned n)
{
	struct vg_capture_params p = { .fourcc = V4L2_PIX_FMT_YUYV,
				       .width = 320,
				       .height = 240,
				       .memory = memory,
				       .nbufs = 4 };
	struct vg_capture c;
	int r;

	if (m->config.device_caps & V4L2_CAP_VIDEO_CAPTURE_MPLANE)
		p.fourcc = V4L2_PIX_FMT_NV12;
	r = vg_capture_start(&c, m, &p);
	for (unsigned i = 0; r == 0 && i < n; i++) {
		unsigned index;
		uint32_t seq;
		uint64_t ts;

		r = vg_capture_next(&c, ATK_TIMEOUT_MS, &index, &seq, &ts);
		if (r == 0 && seq != i)
			r = -EILSEQ;
		if (r == 0)
			r = vg_capture_requeue(&c, index);
	}
	vg_capture_stop(&c);
	return r;
}
