/* SPDX-License-Identifier: MIT */
#include "vg_capture.h"

#include <errno.h>
#include <string.h>

static int set_format(struct vg_capture *c)
{
	struct v4l2_format f = { .type = c->type };
	int r;

	if (c->mplane) {
		f.fmt.pix_mp.width = c->width;
		f.fmt.pix_mp.height = c->height;
		f.fmt.pix_mp.pixelformat = c->fourcc;
		f.fmt.pix_mp.num_planes = 1;
	} else {
		f.fmt.pix.width = c->width;
		f.fmt.pix.height = c->height;
		f.fmt.pix.pixelformat = c->fourcc;
	}
	r = vg_media_ioctl(c->m, c->session, _IOC_NR(VIDIOC_S_FMT), &f,
			   sizeof(f), sizeof(f));
	if (r)
		return r;
	if (c->mplane) {
		c->width = f.fmt.pix_mp.width;
		c->height = f.fmt.pix_mp.height;
		c->fourcc = f.fmt.pix_mp.pixelformat;
		c->sizeimage = f.fmt.pix_mp.plane_fmt[0].sizeimage;
	} else {
		c->width = f.fmt.pix.width;
		c->height = f.fmt.pix.height;
		c->fourcc = f.fmt.pix.pixelformat;
		c->sizeimage = f.fmt.pix.sizeimage;
	}
	return 0;
}

static int reqbufs(struct vg_capture *c, unsigned count)
{
	struct v4l2_requestbuffers rb = { .count = count,
					  .type = c->type,
					  .memory = c->memory };
	int r = vg_media_ioctl(c->m, c->session, _IOC_NR(VIDIOC_REQBUFS), &rb,
			       sizeof(rb), sizeof(rb));

	if (r == 0 && count && (rb.count == 0 || rb.count > count))
		return -EIO;
	if (r == 0)
		c->nbufs = rb.count;
	return r;
}

static void init_buf(struct vg_capture *c, unsigned i, struct v4l2_buffer *b,
		     struct v4l2_plane *p)
{
	memset(b, 0, sizeof(*b));
	memset(p, 0, sizeof(*p));
	b->index = i;
	b->type = c->type;
	b->memory = c->memory;
	if (c->mplane) {
		b->length = 1;
		p->length = c->sizeimage;
		p->m.userptr = (unsigned long)c->user[i].gpa;
	} else {
		b->length = c->sizeimage;
		b->m.userptr = (unsigned long)c->user[i].gpa;
	}
}

static int map_buffer(struct vg_capture *c, unsigned i)
{
	struct v4l2_buffer b;
	struct v4l2_plane p;
	uint64_t len;
	int r;

	if (c->memory == V4L2_MEMORY_USERPTR) {
		r = vg_ram_alloc(c->m->ram, c->sizeimage, &c->user[i]);
		c->frame[i] = c->user[i].host;
		return r;
	}
	init_buf(c, i, &b, &p);
	r = vg_media_ioctl_buffer(c->m, c->session, _IOC_NR(VIDIOC_QUERYBUF),
				  &b, &p, NULL);
	if (r == 0)
		r = vg_media_mmap(c->m, c->session, VIRTIO_MEDIA_MMAP_FLAG_RW,
				  c->mplane ? p.m.mem_offset : b.m.offset,
				  &c->shm_addr[i], &len);
	if (r)
		return r;
	c->frame[i] = vg_media_shm_ptr(c->m, c->shm_addr[i], c->sizeimage);
	return c->frame[i] ? 0 : -EIO;
}

int vg_capture_requeue(struct vg_capture *c, unsigned index)
{
	struct v4l2_buffer b;
	struct v4l2_plane p;
	/* Page-sized entries, as pinned user pages would be. */
	struct vg_media_sg sg = { .mem = &c->user[index],
				  .len = c->sizeimage,
				  .seg = 4096 };

	if (index >= c->nbufs)
		return -EINVAL;
	init_buf(c, index, &b, &p);
	return vg_media_ioctl_buffer(c->m, c->session, _IOC_NR(VIDIOC_QBUF), &b,
				     &p, &sg);
}

static int start_streaming(struct vg_capture *c)
{
	uint32_t type = c->type;
	int r = 0;

	for (unsigned i = 0; i < c->nbufs && r == 0; i++)
		r = map_buffer(c, i);
	for (unsigned i = 0; i < c->nbufs && r == 0; i++)
		r = vg_capture_requeue(c, i);
	if (r == 0)
		r = vg_media_ioctl(c->m, c->session, _IOC_NR(VIDIOC_STREAMON),
				   &type, sizeof(type), 0);
	c->streaming = r == 0;
	return r;
}

int vg_capture_start(struct vg_capture *c, struct vg_media *m,
		     const struct vg_capture_params *p)
{
	int r;

	memset(c, 0, sizeof(*c));
	memset(c->shm_addr, 0xff, sizeof(c->shm_addr));
	if (p->nbufs == 0 || p->nbufs > VG_CAPTURE_MAX_BUFS)
		return -EINVAL;
	c->m = m;
	c->memory = p->memory;
	c->mplane = m->config.device_caps & V4L2_CAP_VIDEO_CAPTURE_MPLANE;
	c->type = c->mplane ? V4L2_BUF_TYPE_VIDEO_CAPTURE_MPLANE
			    : V4L2_BUF_TYPE_VIDEO_CAPTURE;
	c->fourcc = p->fourcc;
	c->width = p->width;
	c->height = p->height;
	r = vg_media_open(m, &c->session);
	if (r)
		return r;
	r = set_format(c);
	if (r == 0)
		r = reqbufs(c, p->nbufs);
	if (r == 0)
		r = start_streaming(c);
	if (r)
		vg_capture_stop(c);
	return r;
}

int vg_capture_next(struct vg_capture *c, int timeout_ms, unsigned *index,
		    uint32_t *sequence, uint64_t *ts_ns)
{
	struct vg_media_event ev;

	for (;;) {
		int r = vg_media_next_event(c->m, timeout_ms, &ev);

		if (r <= 0)
			return r ? r : -ETIMEDOUT;
		if (ev.u.hdr.session_id != c->session)
			continue;
		if (ev.u.hdr.event == VIRTIO_MEDIA_EVT_ERROR)
			return -(int)ev.u.error.errno_value;
		if (ev.u.hdr.event != VIRTIO_MEDIA_EVT_DQBUF)
			continue;
		if (ev.u.dqbuf.b.index >= c->nbufs)
			return -EIO;
		*index = ev.u.dqbuf.b.index;
		*sequence = ev.u.dqbuf.b.sequence;
		*ts_ns = (uint64_t)ev.u.dqbuf.b.timestamp.tv_sec * 1000000000u +
			 (uint64_t)ev.u.dqbuf.b.timestamp.tv_usec * 1000u;
		return 0;
	}
}

void vg_capture_stop(struct vg_capture *c)
{
	uint32_t type = c->type;

	if (!c->m)
		return;
	if (c->streaming)
		vg_media_ioctl(c->m, c->session, _IOC_NR(VIDIOC_STREAMOFF),
			       &type, sizeof(type), 0);
	c->streaming = false;
	reqbufs(c, 0);
	for (unsigned i = 0; i < VG_CAPTURE_MAX_BUFS; i++) {
		if (c->shm_addr[i] != ~0ull)
			vg_media_munmap(c->m, c->shm_addr[i]);
		vg_ram_free(c->m->ram, &c->user[i]);
	}
	vg_media_close(c->m, c->session);
	c->m = NULL;
}
