/* SPDX-License-Identifier: MIT */
#include "fakes/fake_v4l2_host.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#define FQ_MAX_BUFS 32
#define FQ_MAX_EVS  16
#define MAX_FAILS   8

enum fbuf_state { FB_DEQ, FB_PREPARED, FB_QUEUED, FB_DONE };

struct fplane {
	uint32_t length, bytesused, data_offset;
	uint8_t *mem;	       /* MMAP backing */
	unsigned long userptr; /* USERPTR as given */
};

struct fbuf {
	enum fbuf_state state;
	uint32_t order; /* queue order, for the oldest first */
	struct fplane p[FAKE_V4L2_MAXPLANES];
};

struct fqueue {
	uint32_t memory;
	unsigned n_bufs;
	bool streaming;
	uint32_t next_order, sequence;
	struct fbuf bufs[FQ_MAX_BUFS];
	uint32_t done[FQ_MAX_BUFS]; /* done FIFO of indexes */
	unsigned n_done;
};

struct ffd {
	bool open;
	int efd; /* a real fd for the event loop */
	uint32_t width, pixfmt;
	struct fqueue q[2]; /* [0] capture, [1] output */
	uint32_t subs[8];
	unsigned n_subs;
	struct v4l2_event evs[FQ_MAX_EVS];
	unsigned n_evs;
	int32_t brightness;
	uint8_t blob[16];
	bool gone; /* this open alone lost its device */
};

static struct {
	struct fake_v4l2_cfg cfg;
	struct ffd fds[FAKE_V4L2_MAX_FDS];
	bool gone;
	struct {
		unsigned long req;
		int err;
		unsigned n;
	} fail[MAX_FAILS];
	bool tamper_on;
	struct fake_v4l2_tamper tamper;
	unsigned calls[256], calls_total, live_maps;
} fk;

static void queue_free(struct fqueue *q)
{
	for (unsigned i = 0; i < q->n_bufs; i++)
		for (unsigned p = 0; p < FAKE_V4L2_MAXPLANES; p++)
			free(q->bufs[i].p[p].mem);
	memset(q, 0, sizeof(*q));
}

void fake_v4l2_reset(const struct fake_v4l2_cfg *cfg)
{
	for (unsigned i = 0; i < FAKE_V4L2_MAX_FDS; i++) {
		if (fk.fds[i].open)
			close(fk.fds[i].efd);
		queue_free(&fk.fds[i].q[0]);
		queue_free(&fk.fds[i].q[1]);
	}
	memset(&fk, 0, sizeof(fk));
	fk.cfg = *cfg;
	if (!fk.cfg.card)
		fk.cfg.card = "fake host camera";
}

/* ---- fds ---- */

static struct ffd *fd_get(int fd)
{
	for (unsigned i = 0; i < FAKE_V4L2_MAX_FDS; i++)
		if (fk.fds[i].open && fk.fds[i].efd == fd)
			return &fk.fds[i];
	return NULL;
}

static int f_open(const char *path)
{
	if (strcmp(path, FAKE_V4L2_PATH) != 0)
		return -ENOENT;
	if (fk.gone)
		return -ENODEV;
	for (unsigned i = 0; i < FAKE_V4L2_MAX_FDS; i++) {
		struct ffd *f = &fk.fds[i];

		if (f->open)
			continue;
		memset(f, 0, sizeof(*f));
		f->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (f->efd < 0)
			return -errno;
		f->open = true;
		f->width = 640;
		f->pixfmt = v4l2_fourcc('M', 'J', 'P', 'G');
		return f->efd;
	}
	return -EMFILE;
}

static void f_close(int fd)
{
	struct ffd *f = fd_get(fd);

	if (!f)
		abort(); /* the proxy closed what it never opened */
	queue_free(&f->q[0]);
	queue_free(&f->q[1]);
	close(f->efd);
	f->open = false;
}

/* ---- queues ---- */

static bool is_mplane(void)
{
	return fk.cfg.planes > 0;
}

static unsigned n_planes(void)
{
	return is_mplane() ? fk.cfg.planes : 1;
}

static struct fqueue *queue_of(struct ffd *f, uint32_t type)
{
	uint32_t c = fk.cfg.caps;
	bool cap_ok =
		c & (V4L2_CAP_VIDEO_CAPTURE | V4L2_CAP_VIDEO_CAPTURE_MPLANE |
		     V4L2_CAP_VIDEO_M2M | V4L2_CAP_VIDEO_M2M_MPLANE);
	bool out_ok =
		c & (V4L2_CAP_VIDEO_OUTPUT | V4L2_CAP_VIDEO_OUTPUT_MPLANE |
		     V4L2_CAP_VIDEO_M2M | V4L2_CAP_VIDEO_M2M_MPLANE);
	uint32_t cap_t = is_mplane() ? V4L2_BUF_TYPE_VIDEO_CAPTURE_MPLANE
				     : V4L2_BUF_TYPE_VIDEO_CAPTURE;
	uint32_t out_t = is_mplane() ? V4L2_BUF_TYPE_VIDEO_OUTPUT_MPLANE
				     : V4L2_BUF_TYPE_VIDEO_OUTPUT;

	if (type == cap_t && cap_ok)
		return &f->q[0];
	if (type == out_t && out_ok)
		return &f->q[1];
	return NULL;
}

static uint32_t buf_caps(void)
{
	if (fk.cfg.no_caps_report)
		return 0;
	return V4L2_BUF_CAP_SUPPORTS_MMAP |
	       (fk.cfg.userptr ? V4L2_BUF_CAP_SUPPORTS_USERPTR : 0) |
	       V4L2_BUF_CAP_SUPPORTS_ORPHANED_BUFS;
}

static bool memory_ok(uint32_t memory)
{
	return memory == V4L2_MEMORY_MMAP ||
	       (memory == V4L2_MEMORY_USERPTR && fk.cfg.userptr);
}

static uint32_t mmap_offset(unsigned qi, unsigned index, unsigned plane)
{
	return ((qi * FQ_MAX_BUFS + index) * FAKE_V4L2_MAXPLANES + plane) *
	       4096u;
}

static int bufs_add(struct fqueue *q, uint32_t memory, unsigned count)
{
	for (unsigned i = q->n_bufs; i < q->n_bufs + count; i++) {
		memset(&q->bufs[i], 0, sizeof(q->bufs[i]));
		for (unsigned p = 0; p < n_planes(); p++) {
			q->bufs[i].p[p].length = fk.cfg.plane_size[p];
			if (memory == V4L2_MEMORY_MMAP &&
			    !(q->bufs[i].p[p].mem =
				      calloc(1, fk.cfg.plane_size[p])))
				return -ENOMEM;
		}
	}
	q->n_bufs += count;
	q->memory = memory;
	return 0;
}

static int f_reqbufs(struct ffd *f, struct v4l2_requestbuffers *r)
{
	struct fqueue *q = queue_of(f, r->type);

	if (!q || !memory_ok(r->memory))
		return -EINVAL;
	r->capabilities = buf_caps();
	if (q->streaming)
		return -EBUSY;
	queue_free(q);
	if (!r->count)
		return 0;
	if (r->count > FQ_MAX_BUFS)
		r->count = FQ_MAX_BUFS;
	if (r->count < 2)
		r->count = 2; /* like a driver's min_buffers */
	return bufs_add(q, r->memory, r->count);
}

static int f_create_bufs(struct ffd *f, struct v4l2_create_buffers *c)
{
	struct fqueue *q = queue_of(f, c->format.type);

	if (!q || !memory_ok(c->memory))
		return -EINVAL;
	c->capabilities = buf_caps();
	c->index = q->n_bufs;
	if (!c->count)
		return 0;
	if (q->n_bufs && q->memory != c->memory)
		return -EINVAL;
	if (c->count > FQ_MAX_BUFS - q->n_bufs)
		c->count = FQ_MAX_BUFS - q->n_bufs;
	if (!c->count)
		return -ENOBUFS;
	return bufs_add(q, c->memory, c->count);
}

/* Fill a v4l2_buffer from a fake buffer, as vb2's fill_user_buffer. */
static void buf_out(struct ffd *f, struct fqueue *q, uint32_t type,
		    unsigned index, struct v4l2_buffer *b)
{
	struct fbuf *fb = &q->bufs[index];
	struct v4l2_plane *pl = b->m.planes;
	unsigned qi = (unsigned)(q - f->q);

	b->index = index;
	b->type = type;
	b->memory = q->memory;
	b->field = V4L2_FIELD_NONE;
	b->flags = V4L2_BUF_FLAG_TIMESTAMP_MONOTONIC;
	if (fb->state == FB_QUEUED)
		b->flags |= V4L2_BUF_FLAG_QUEUED;
	else if (fb->state == FB_DONE)
		b->flags |= V4L2_BUF_FLAG_DONE;
	else if (fb->state == FB_PREPARED)
		b->flags |= V4L2_BUF_FLAG_PREPARED;
	if (!is_mplane()) {
		b->length = fb->p[0].length;
		b->bytesused = fb->p[0].bytesused;
		if (q->memory == V4L2_MEMORY_MMAP)
			b->m.offset = mmap_offset(qi, index, 0);
		else
			b->m.userptr = fb->p[0].userptr;
		return;
	}
	b->length = n_planes();
	for (unsigned p = 0; p < n_planes(); p++) {
		memset(&pl[p], 0, sizeof(pl[p]));
		pl[p].length = fb->p[p].length;
		pl[p].bytesused = fb->p[p].bytesused;
		pl[p].data_offset = fb->p[p].data_offset;
		if (q->memory == V4L2_MEMORY_MMAP)
			pl[p].m.mem_offset = mmap_offset(qi, index, p);
		else
			pl[p].m.userptr = fb->p[p].userptr;
	}
}

static int buf_lookup(struct ffd *f, struct v4l2_buffer *b, struct fqueue **qp)
{
	struct fqueue *q = queue_of(f, b->type);

	if (!q || b->index >= q->n_bufs)
		return -EINVAL;
	if (is_mplane() && (!b->m.planes || b->length < n_planes()))
		return -EINVAL;
	*qp = q;
	return 0;
}

static int f_querybuf(struct ffd *f, struct v4l2_buffer *b)
{
	struct fqueue *q;
	int ret = buf_lookup(f, b, &q);

	if (!ret)
		buf_out(f, q, b->type, b->index, b);
	return ret;
}

/* vb2's __prepare_userptr / __fill_vb2_buffer, reduced. */
static int buf_take(struct fqueue *q, struct fbuf *fb, struct v4l2_buffer *b,
		    bool output)
{
	for (unsigned p = 0; p < n_planes(); p++) {
		struct v4l2_plane *pl = is_mplane() ? &b->m.planes[p] : NULL;
		unsigned long up = pl ? pl->m.userptr : b->m.userptr;
		uint32_t len = pl ? pl->length : b->length;
		uint32_t used = pl ? pl->bytesused : b->bytesused;

		if (q->memory == V4L2_MEMORY_USERPTR) {
			if (!up || len < fk.cfg.plane_size[p])
				return -EINVAL;
			fb->p[p].userptr = up;
			fb->p[p].length = len;
		}
		if (output) {
			fb->p[p].bytesused = used ? used : fb->p[p].length;
			fb->p[p].data_offset = pl ? pl->data_offset : 0;
		}
	}
	return 0;
}

static int f_qbuf(struct ffd *f, struct v4l2_buffer *b, bool prepare)
{
	struct fqueue *q;
	struct fbuf *fb;
	int ret = buf_lookup(f, b, &q);

	if (ret)
		return ret;
	if (b->memory != q->memory)
		return -EINVAL;
	fb = &q->bufs[b->index];
	if (fb->state == FB_QUEUED || fb->state == FB_DONE ||
	    (prepare && fb->state == FB_PREPARED))
		return -EINVAL;
	if (fb->state != FB_PREPARED) {
		ret = buf_take(q, fb, b, q == &f->q[1]);
		if (ret)
			return ret;
	}
	if (prepare) {
		fb->state = FB_PREPARED;
	} else {
		fb->state = FB_QUEUED;
		fb->order = q->next_order++;
	}
	buf_out(f, q, b->type, b->index, b);
	return 0;
}

static void tamper(struct v4l2_buffer *b)
{
	struct fake_v4l2_tamper *t = &fk.tamper;

	fk.tamper_on = false;
	if (t->index >= 0)
		b->index = (uint32_t)t->index;
	if (t->n_planes >= 0 && is_mplane())
		b->length = (uint32_t)t->n_planes;
	if (t->bytesused >= 0) {
		if (is_mplane())
			b->m.planes[0].bytesused = (uint32_t)t->bytesused;
		else
			b->bytesused = (uint32_t)t->bytesused;
	}
	if (t->data_offset >= 0 && is_mplane())
		b->m.planes[0].data_offset = (uint32_t)t->data_offset;
}

static int f_dqbuf(struct ffd *f, struct v4l2_buffer *b)
{
	struct fqueue *q = queue_of(f, b->type);
	unsigned index;

	if (!q || b->memory != q->memory)
		return -EINVAL;
	if (is_mplane() && (!b->m.planes || b->length < n_planes()))
		return -EINVAL;
	if (!q->streaming)
		return -EINVAL;
	if (!q->n_done)
		return -EAGAIN;
	index = q->done[0];
	memmove(q->done, q->done + 1, --q->n_done * sizeof(q->done[0]));
	q->bufs[index].state = FB_DEQ;
	buf_out(f, q, b->type, index, b);
	b->sequence = q->sequence++;
	if (fk.tamper_on)
		tamper(b);
	return 0;
}

static int f_stream(struct ffd *f, uint32_t *type, bool on)
{
	struct fqueue *q = queue_of(f, *type);

	if (!q)
		return -EINVAL;
	if (on) {
		if (!q->n_bufs)
			return -EINVAL;
		q->streaming = true;
		return 0;
	}
	q->streaming = false;
	q->n_done = 0;
	for (unsigned i = 0; i < q->n_bufs; i++)
		q->bufs[i].state = FB_DEQ;
	return 0;
}

/* ---- formats ---- */

static const uint32_t sp_fmts[] = { v4l2_fourcc('M', 'J', 'P', 'G'),
				    v4l2_fourcc('Y', 'U', 'Y', 'V') };

static int f_enum_fmt(struct v4l2_fmtdesc *d)
{
	if (d->index >= (is_mplane() ? 1u : 2u))
		return -EINVAL;
	d->pixelformat = is_mplane() ? v4l2_fourcc('N', 'M', '1', '2')
				     : sp_fmts[d->index];
	d->flags = d->index == 0 && !is_mplane() ? V4L2_FMT_FLAG_COMPRESSED : 0;
	strcpy((char *)d->description, "fake format");
	return 0;
}

static int f_fmt(struct ffd *f, struct v4l2_format *fmt, bool set, bool get)
{
	uint32_t w;

	if (!queue_of(f, fmt->type))
		return -EINVAL;
	if (is_mplane()) {
		struct v4l2_pix_format_mplane *mp = &fmt->fmt.pix_mp;

		w = get ? f->width : mp->width;
		memset(mp, 0, sizeof(*mp));
		mp->width = w < 16 ? 16 : w > 1920 ? 1920 : w & ~15u;
		mp->height = 480;
		mp->pixelformat = v4l2_fourcc('N', 'M', '1', '2');
		mp->num_planes = (uint8_t)n_planes();
		for (unsigned p = 0; p < n_planes(); p++)
			mp->plane_fmt[p].sizeimage = fk.cfg.plane_size[p];
		if (set)
			f->width = mp->width;
		return 0;
	}
	w = get ? f->width : fmt->fmt.pix.width;
	fmt->fmt.pix.width = w < 16 ? 16 : w > 1920 ? 1920 : w & ~15u;
	fmt->fmt.pix.height = 480;
	if (get)
		fmt->fmt.pix.pixelformat = f->pixfmt;
	else if (fmt->fmt.pix.pixelformat != sp_fmts[1])
		fmt->fmt.pix.pixelformat = sp_fmts[0];
	fmt->fmt.pix.sizeimage = fk.cfg.plane_size[0];
	if (set) {
		f->width = fmt->fmt.pix.width;
		f->pixfmt = fmt->fmt.pix.pixelformat;
	}
	return 0;
}

/* ---- controls and events ---- */

static int f_query_ext_ctrl(struct v4l2_query_ext_ctrl *q)
{
	if (q->id == V4L2_CID_BRIGHTNESS) {
		q->type = V4L2_CTRL_TYPE_INTEGER;
		q->maximum = 255;
		q->step = 1;
		q->elem_size = 4;
		q->elems = 1;
		return 0;
	}
	if (q->id == FAKE_CID_BLOB) {
		q->type = V4L2_CTRL_TYPE_U8;
		q->flags = V4L2_CTRL_FLAG_HAS_PAYLOAD;
		q->maximum = 255;
		q->step = 1;
		q->elem_size = 1;
		q->elems = 16;
		q->nr_of_dims = 1;
		q->dims[0] = 16;
		return 0;
	}
	return -EINVAL;
}

static int f_ext_ctrls(struct ffd *f, struct v4l2_ext_controls *c, bool set)
{
	for (uint32_t i = 0; i < c->count; i++) {
		struct v4l2_ext_control *x = &c->controls[i];

		if (x->id == V4L2_CID_BRIGHTNESS) {
			if (set)
				f->brightness = x->value;
			else
				x->value = f->brightness;
		} else if (x->id == FAKE_CID_BLOB) {
			if (x->size < sizeof(f->blob)) {
				x->size = sizeof(f->blob);
				return -ENOSPC;
			}
			if (set)
				memcpy(f->blob, x->ptr, sizeof(f->blob));
			else
				memcpy(x->ptr, f->blob, sizeof(f->blob));
		} else {
			c->error_idx = i;
			return -EINVAL;
		}
	}
	return 0;
}

static bool subscribed(struct ffd *f, uint32_t type)
{
	for (unsigned i = 0; i < f->n_subs; i++)
		if (f->subs[i] == type)
			return true;
	return false;
}

static int f_subscribe(struct ffd *f, struct v4l2_event_subscription *s)
{
	if (s->type != V4L2_EVENT_CTRL && s->type != V4L2_EVENT_EOS &&
	    s->type != V4L2_EVENT_SOURCE_CHANGE)
		return -EINVAL;
	if (!subscribed(f, s->type) && f->n_subs < 8)
		f->subs[f->n_subs++] = s->type;
	/* SEND_INITIAL: a control event with the current value at once. */
	if (s->type == V4L2_EVENT_CTRL &&
	    (s->flags & V4L2_EVENT_SUB_FL_SEND_INITIAL))
		fake_v4l2_event(f->efd, V4L2_EVENT_CTRL, s->id);
	return 0;
}

static int f_dqevent(struct ffd *f, struct v4l2_event *ev)
{
	if (!f->n_evs)
		return -ENOENT;
	*ev = f->evs[0];
	memmove(f->evs, f->evs + 1, --f->n_evs * sizeof(f->evs[0]));
	ev->pending = f->n_evs;
	return 0;
}

/* ---- dispatch ---- */

static bool take_fail(unsigned long req, int *err)
{
	for (unsigned i = 0; i < MAX_FAILS; i++) {
		if (fk.fail[i].n && fk.fail[i].req == req) {
			fk.fail[i].n--;
			*err = fk.fail[i].err;
			return true;
		}
	}
	return false;
}

static int f_querycap(struct v4l2_capability *cap)
{
	memset(cap, 0, sizeof(*cap));
	strcpy((char *)cap->driver, "fake");
	strncpy((char *)cap->card, fk.cfg.card, sizeof(cap->card) - 1);
	cap->device_caps = fk.cfg.caps;
	cap->capabilities = fk.cfg.caps | V4L2_CAP_DEVICE_CAPS;
	return 0;
}

static int dispatch(struct ffd *f, unsigned long req, void *arg)
{
	switch (req) {
	case VIDIOC_QUERYCAP:
		return f_querycap(arg);
	case VIDIOC_ENUM_FMT:
		return f_enum_fmt(arg);
	case VIDIOC_G_FMT:
		return f_fmt(f, arg, false, true);
	case VIDIOC_S_FMT:
		return f_fmt(f, arg, true, false);
	case VIDIOC_TRY_FMT:
		return f_fmt(f, arg, false, false);
	case VIDIOC_REQBUFS:
		return f_reqbufs(f, arg);
	case VIDIOC_CREATE_BUFS:
		return f_create_bufs(f, arg);
	case VIDIOC_QUERYBUF:
		return f_querybuf(f, arg);
	case VIDIOC_QBUF:
		return f_qbuf(f, arg, false);
	case VIDIOC_PREPARE_BUF:
		return f_qbuf(f, arg, true);
	case VIDIOC_DQBUF:
		return f_dqbuf(f, arg);
	case VIDIOC_STREAMON:
		return f_stream(f, arg, true);
	case VIDIOC_STREAMOFF:
		return f_stream(f, arg, false);
	case VIDIOC_QUERY_EXT_CTRL:
		return f_query_ext_ctrl(arg);
	case VIDIOC_G_EXT_CTRLS:
		return f_ext_ctrls(f, arg, false);
	case VIDIOC_S_EXT_CTRLS:
		return f_ext_ctrls(f, arg, true);
	case VIDIOC_SUBSCRIBE_EVENT:
		return f_subscribe(f, arg);
	case VIDIOC_UNSUBSCRIBE_EVENT:
		f->n_subs = 0;
		return 0;
	case VIDIOC_DQEVENT:
		return f_dqevent(f, arg);
	case VIDIOC_G_PARM: {
		struct v4l2_streamparm *p = arg;

		p->parm.capture.readbuffers = 2; /* the proxy must hide it */
		p->parm.capture.timeperframe =
			(struct v4l2_fract){ .numerator = 1,
					     .denominator = 30 };
		return 0;
	}
	default:
		return -ENOTTY;
	}
}

static int f_ioctl(int fd, unsigned long req, void *arg)
{
	struct ffd *f = fd_get(fd);
	int err;

	if (!f)
		abort(); /* an ioctl on an fd the proxy does not hold */
	fk.calls[_IOC_NR(req) & 0xff]++;
	fk.calls_total++;
	if (fk.gone || f->gone)
		return -ENODEV;
	if (take_fail(req, &err))
		return -err;
	return dispatch(f, req, arg);
}

static void *f_mmap(int fd, size_t len, off_t offset)
{
	struct ffd *f = fd_get(fd);
	uint32_t off = (uint32_t)offset / 4096u;
	unsigned p = off % FAKE_V4L2_MAXPLANES;
	unsigned idx = off / FAKE_V4L2_MAXPLANES % FQ_MAX_BUFS;
	unsigned qi = off / FAKE_V4L2_MAXPLANES / FQ_MAX_BUFS;
	struct fqueue *q;

	if (!f || fk.gone || qi > 1)
		return NULL;
	q = &f->q[qi];
	if (q->memory != V4L2_MEMORY_MMAP || idx >= q->n_bufs ||
	    !q->bufs[idx].p[p].mem || len > q->bufs[idx].p[p].length)
		return NULL;
	fk.live_maps++;
	return q->bufs[idx].p[p].mem;
}

static void f_munmap(void *addr, size_t len)
{
	(void)addr;
	(void)len;
	fk.live_maps--;
}

const struct v4l2_host_ops fake_v4l2_ops = {
	.open = f_open,
	.close = f_close,
	.ioctl = f_ioctl,
	.mmap = f_mmap,
	.munmap = f_munmap,
};

/* ---- test controls ---- */

static uint8_t *plane_mem(struct fqueue *q, struct fbuf *fb, unsigned p)
{
	return q->memory == V4L2_MEMORY_MMAP ? fb->p[p].mem
					     : (uint8_t *)fb->p[p].userptr;
}

int fake_v4l2_complete(int fd, uint32_t type, uint8_t fill, uint32_t bytesused)
{
	struct ffd *f = fd_get(fd);
	struct fqueue *q = f ? queue_of(f, type) : NULL;
	struct fbuf *best = NULL;

	if (!q || !q->streaming)
		return -1;
	for (unsigned i = 0; i < q->n_bufs; i++) {
		struct fbuf *fb = &q->bufs[i];

		if (fb->state == FB_QUEUED &&
		    (!best || fb->order < best->order))
			best = fb;
	}
	if (!best)
		return -1;
	for (unsigned p = 0; p < n_planes() && q == &f->q[0]; p++) {
		uint32_t n = bytesused < best->p[p].length ? bytesused
							   : best->p[p].length;

		memset(plane_mem(q, best, p), fill, n);
		best->p[p].bytesused = n;
	}
	best->state = FB_DONE;
	q->done[q->n_done++] = (uint32_t)(best - q->bufs);
	return (int)(best - q->bufs);
}

void fake_v4l2_event(int fd, uint32_t type, uint32_t id)
{
	struct ffd *f = fd_get(fd);

	if (!f || !subscribed(f, type) || f->n_evs == FQ_MAX_EVS)
		return;
	memset(&f->evs[f->n_evs], 0, sizeof(f->evs[0]));
	f->evs[f->n_evs].type = type;
	f->evs[f->n_evs].id = id;
	f->evs[f->n_evs].u.ctrl.value = f->brightness;
	f->n_evs++;
}

uint32_t fake_v4l2_ready(int fd, uint32_t interest)
{
	struct ffd *f = fd_get(fd);
	uint32_t ev = 0;

	if (!f)
		return 0;
	if (fk.gone || f->gone)
		return EPOLLERR | EPOLLHUP;
	if ((interest & EPOLLPRI) && f->n_evs)
		ev |= EPOLLPRI;
	for (unsigned qi = 0; qi < 2; qi++) {
		struct fqueue *q = &f->q[qi];
		uint32_t dir = qi ? EPOLLOUT : EPOLLIN;
		bool any = false;

		if (!(interest & dir))
			continue;
		for (unsigned i = 0; i < q->n_bufs; i++)
			any |= q->bufs[i].state == FB_QUEUED ||
			       q->bufs[i].state == FB_DONE;
		/* vb2_core_poll: nothing to wait for is an error. */
		if (!q->streaming || !any)
			ev |= EPOLLERR;
		else if (q->n_done)
			ev |= dir;
	}
	return ev;
}

void fake_v4l2_gone(bool gone)
{
	fk.gone = gone;
}

void fake_v4l2_fd_gone(int fd)
{
	struct ffd *f = fd_get(fd);

	if (f)
		f->gone = true;
}

void fake_v4l2_fail(unsigned long request, int err, unsigned n)
{
	for (unsigned i = 0; i < MAX_FAILS; i++) {
		if (!fk.fail[i].n) {
			fk.fail[i].req = request;
			fk.fail[i].err = err;
			fk.fail[i].n = n;
			return;
		}
	}
}

void fake_v4l2_tamper(const struct fake_v4l2_tamper *t)
{
	fk.tamper = *t;
	fk.tamper_on = true;
}

unsigned fake_v4l2_calls(unsigned long request)
{
	return fk.calls[_IOC_NR(request) & 0xff];
}

unsigned fake_v4l2_calls_total(void)
{
	return fk.calls_total;
}

unsigned fake_v4l2_open_fds(void)
{
	unsigned n = 0;

	for (unsigned i = 0; i < FAKE_V4L2_MAX_FDS; i++)
		n += fk.fds[i].open;
	return n;
}

unsigned fake_v4l2_live_maps(void)
{
	return fk.live_maps;
}

uint8_t *fake_v4l2_plane_mem(int fd, uint32_t type, unsigned index,
			     unsigned plane)
{
	struct ffd *f = fd_get(fd);
	struct fqueue *q = f ? queue_of(f, type) : NULL;

	if (!q || index >= q->n_bufs || plane >= n_planes())
		return NULL;
	return plane_mem(q, &q->bufs[index], plane);
}

unsigned long fake_v4l2_plane_userptr(int fd, uint32_t type, unsigned index,
				      unsigned plane)
{
	struct ffd *f = fd_get(fd);
	struct fqueue *q = f ? queue_of(f, type) : NULL;

	if (!q || index >= q->n_bufs || plane >= n_planes())
		return 0;
	return q->bufs[index].p[plane].userptr;
}

uint32_t fake_v4l2_memory(int fd, uint32_t type)
{
	struct ffd *f = fd_get(fd);
	struct fqueue *q = f ? queue_of(f, type) : NULL;

	return q ? q->memory : 0;
}

uint32_t fake_v4l2_width(int fd)
{
	struct ffd *f = fd_get(fd);

	return f ? f->width : 0;
}
