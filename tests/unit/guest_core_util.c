/* SPDX-License-Identifier: MIT */
#include "guest_core_util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "backends/vcam/tpg.h"

#define RAM_SIZE (64ull << 20)
#define WIDTH	 640u
#define HEIGHT	 480u

static int write_conf(struct gc_env *e, const char *conf)
{
	int fd;

	e->conf[0] = 0;
	if (!conf)
		return 0;
	snprintf(e->conf, sizeof(e->conf), "/tmp/vmedia-gc.XXXXXX");
	fd = mkstemp(e->conf);
	if (fd < 0)
		return -errno;
	if (write(fd, conf, strlen(conf)) != (ssize_t)strlen(conf)) {
		close(fd);
		return -EIO;
	}
	close(fd);
	return 0;
}

int gc_start(struct gc_env *e, const char *device, const char *conf,
	     const struct vg_core_opts *o, unsigned event_bufs)
{
	const char *args[6] = { "--device", device, NULL, NULL, NULL };
	int r;

	memset(e, 0, sizeof(*e));
	r = write_conf(e, conf);
	if (r == 0 && e->conf[0]) {
		args[2] = "-c";
		args[3] = e->conf;
	}
	if (r == 0)
		r = daemon_start(&e->d, args);
	if (r == 0)
		r = guest_connect(&e->d, &e->g, RAM_SIZE);
	if (r == 0)
		r = vg_media_init_events(&e->m, e->g.t, &e->g.ram, 0,
					 event_bufs);
	if (r == 0)
		r = vg_core_create(&e->m, o, &e->c);
	return r;
}

void gc_stop(struct gc_env *e)
{
	if (e->c)
		vg_core_destroy(e->c);
	if (e->m.ram)
		vg_media_fini(&e->m);
	guest_disconnect(&e->g);
	daemon_cleanup(&e->d);
	if (e->conf[0])
		unlink(e->conf);
	memset(e, 0, sizeof(*e));
}

static int set_format(struct gc_stream *s)
{
	struct v4l2_format f = { .type = s->type };
	int r;

	if (s->mp) {
		f.fmt.pix_mp.width = WIDTH;
		f.fmt.pix_mp.height = HEIGHT;
		f.fmt.pix_mp.pixelformat = V4L2_PIX_FMT_NV12;
		f.fmt.pix_mp.num_planes = 1;
	} else {
		f.fmt.pix.width = WIDTH;
		f.fmt.pix.height = HEIGHT;
		f.fmt.pix.pixelformat = V4L2_PIX_FMT_YUYV;
	}
	r = vg_core_ioctl(s->f, VIDIOC_S_FMT, &f, 0);
	s->sizeimage = s->mp ? f.fmt.pix_mp.plane_fmt[0].sizeimage
			     : f.fmt.pix.sizeimage;
	return r;
}

static void init_buf(const struct gc_stream *s, unsigned i,
		     struct v4l2_buffer *b, struct v4l2_plane *p)
{
	memset(b, 0, sizeof(*b));
	memset(p, 0, sizeof(*p) * VIDEO_MAX_PLANES);
	b->index = i;
	b->type = s->type;
	b->memory = s->memory;
	if (s->mp) {
		b->length = 1;
		b->m.planes = p;
		p[0].length = s->sizeimage;
		p[0].m.userptr = (unsigned long)s->user[i];
	} else {
		b->length = s->sizeimage;
		b->m.userptr = (unsigned long)s->user[i];
	}
}

static int map_one(struct gc_stream *s, unsigned i)
{
	struct v4l2_plane p[VIDEO_MAX_PLANES];
	struct v4l2_buffer b;
	int r;

	if (s->memory == V4L2_MEMORY_USERPTR) {
		/* At a page's last 8 bytes, as v4l2-compliance places them. */
		s->alloc[i] = malloc(s->sizeimage + 3 * 4096u);
		if (!s->alloc[i])
			return -ENOMEM;
		s->user[i] = (void *)((((uintptr_t)s->alloc[i] + 4096) &
				       ~(uintptr_t)0xfff) |
				      0xff8);
		return 0;
	}
	init_buf(s, i, &b, p);
	r = vg_core_ioctl(s->f, VIDIOC_QUERYBUF, &b, 0);
	if (r == 0)
		r = vg_core_mmap(s->f, NULL, s->sizeimage,
				 PROT_READ | PROT_WRITE, MAP_SHARED,
				 s->mp ? p[0].m.mem_offset : b.m.offset,
				 &s->map[i]);
	return r;
}

int gc_stream_setup(struct gc_env *e, struct gc_stream *s, uint32_t memory,
		    unsigned n)
{
	struct v4l2_requestbuffers rb = { .count = n, .memory = memory };
	int r;

	memset(s, 0, sizeof(*s));
	s->e = e;
	s->memory = memory;
	s->mp = e->m.config.device_caps & V4L2_CAP_VIDEO_CAPTURE_MPLANE;
	s->type = s->mp ? V4L2_BUF_TYPE_VIDEO_CAPTURE_MPLANE
			: V4L2_BUF_TYPE_VIDEO_CAPTURE;
	rb.type = s->type;
	r = vg_core_open(e->c, &s->f);
	if (r == 0)
		r = set_format(s);
	if (r == 0)
		r = vg_core_ioctl(s->f, VIDIOC_REQBUFS, &rb, 0);
	if (r == 0 && (rb.count < 1 || rb.count > GC_MAX_BUFS))
		r = -ERANGE;
	s->n = r == 0 ? rb.count : 0;
	for (unsigned i = 0; r == 0 && i < s->n; i++)
		r = map_one(s, i);
	return r;
}

void gc_stream_close(struct gc_stream *s)
{
	for (unsigned i = 0; i < GC_MAX_BUFS; i++) {
		if (s->map[i])
			vg_core_munmap(s->e->c, s->map[i], s->sizeimage);
		free(s->alloc[i]);
	}
	if (s->f)
		vg_core_close(s->f);
	memset(s, 0, sizeof(*s));
}

int gc_qbuf(struct gc_stream *s, unsigned i)
{
	struct v4l2_plane p[VIDEO_MAX_PLANES];
	struct v4l2_buffer b;

	init_buf(s, i, &b, p);
	return vg_core_ioctl(s->f, VIDIOC_QBUF, &b, 0);
}

int gc_dqbuf(struct gc_stream *s, int fflags, struct v4l2_buffer *b)
{
	static struct v4l2_plane p[VIDEO_MAX_PLANES];

	init_buf(s, 0, b, p);
	return vg_core_ioctl(s->f, VIDIOC_DQBUF, b, fflags);
}

int gc_stream_on(struct gc_stream *s, bool on)
{
	uint32_t type = s->type;

	return vg_core_ioctl(s->f, on ? VIDIOC_STREAMON : VIDIOC_STREAMOFF,
			     &type, 0);
}

void *gc_frame(const struct gc_stream *s, unsigned i)
{
	return s->memory == V4L2_MEMORY_MMAP ? s->map[i] : s->user[i];
}

long gc_stamp(const struct gc_stream *s, unsigned i)
{
	struct tpg_format f;
	void *planes[TPG_MAX_PLANES] = { gc_frame(s, i) };
	size_t sizes[TPG_MAX_PLANES];
	uint64_t ts;
	uint32_t seq;
	int r = tpg_format_init(&f,
				s->mp ? V4L2_PIX_FMT_NV12 : V4L2_PIX_FMT_YUYV,
				WIDTH, HEIGHT);

	if (r)
		return r;
	tpg_split_buffer(&f, gc_frame(s, i), planes, sizes);
	r = tpg_read_stamp(&f, planes, &seq, &ts);
	return r ? r : (long)seq;
}
