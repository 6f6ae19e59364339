/* SPDX-License-Identifier: MIT */
#include "v4l2_proxy_rig.h"

#include <stdlib.h>
#include <string.h>

struct fake_v4l2_cfg cfg_camera(bool host_userptr)
{
	return (struct fake_v4l2_cfg){
		.caps = V4L2_CAP_VIDEO_CAPTURE | V4L2_CAP_STREAMING |
			V4L2_CAP_READWRITE | V4L2_CAP_EXT_PIX_FORMAT,
		.card = "Fake Cam",
		.userptr = host_userptr,
		.plane_size = { SIZE_SP },
	};
}

struct fake_v4l2_cfg cfg_m2m_mplane(bool host_userptr)
{
	return (struct fake_v4l2_cfg){
		.caps = V4L2_CAP_VIDEO_M2M_MPLANE | V4L2_CAP_STREAMING,
		.card = "Fake Codec",
		.userptr = host_userptr,
		.planes = 2,
		.plane_size = { SIZE_MP0, SIZE_MP1 },
	};
}

bool rig_up(struct rig *r, const struct fake_v4l2_cfg *cfg)
{
	int ret;

	memset(r, 0, sizeof(*r));
	r->io = v4l2_proxy_backend_class.ops->ioctl;
	TAP_EQ(fake_session_reset(RIG_SHM), 0);
	fake_v4l2_reset(cfg);
	v4l2_proxy_use_host(&fake_v4l2_ops);
	r->loop = evloop_create();
	ret = v4l2_proxy_backend_class.create(FAKE_V4L2_PATH, r->loop, &r->dev,
					      &r->id, r->msg, sizeof(r->msg));
	TAP_CHECK(ret == 0, "create: %d %s", ret, r->msg);
	return ret == 0;
}

void rig_down(struct rig *r)
{
	if (r->dev)
		v4l2_proxy_backend_class.destroy(r->dev);
	evloop_destroy(r->loop);
	TAP_EQ(fake_shm_live(), 0);
	TAP_EQ(fake_shm_bad_puts(), 0);
	TAP_EQ(fake_v4l2_open_fds(), 0);
	TAP_EQ(fake_v4l2_live_maps(), 0);
	fake_v4l2_gone(false);
}

void sess_open(struct rig *r, struct sess *s, uint32_t id)
{
	s->vs = fake_session_new(id, 3);
	TAP_EQ(v4l2_proxy_backend_class.ops->open(r->dev, s->vs, &s->priv), 0);
	s->fd = v4l2_proxy_host_fd(s->priv);
	TAP_CHECK(v4l2_proxy_in_loop(s->priv), "host fd in the loop");
	TAP_EQ(v4l2_proxy_interest(s->priv), EPOLLPRI);
}

void sess_close(struct rig *r, struct sess *s)
{
	(void)r;
	v4l2_proxy_backend_class.ops->close(s->priv);
	fake_session_free(s->vs);
	s->vs = NULL;
}

uint32_t pump(struct sess *s)
{
	uint32_t ev;

	if (!v4l2_proxy_in_loop(s->priv))
		return 0;
	/* epoll always reports ERR and HUP, whatever was asked. */
	ev = fake_v4l2_ready(s->fd, v4l2_proxy_interest(s->priv)) &
	     (v4l2_proxy_interest(s->priv) | EPOLLERR | EPOLLHUP);
	if (ev)
		v4l2_proxy_poll(s->priv, ev);
	return ev;
}

int reqbufs(struct rig *r, struct sess *s, uint32_t type, uint32_t mem,
	    uint32_t count)
{
	struct v4l2_requestbuffers rb = { .count = count,
					  .type = type,
					  .memory = mem };
	int ret = r->io->reqbufs(s->priv, &rb);

	if (ret == 0) {
		TAP_CHECK(rb.capabilities & V4L2_BUF_CAP_SUPPORTS_MMAP,
			  "MMAP offered");
		TAP_CHECK(rb.capabilities & V4L2_BUF_CAP_SUPPORTS_USERPTR,
			  "USERPTR offered");
		TAP_CHECK(!(rb.capabilities & V4L2_BUF_CAP_SUPPORTS_DMABUF),
			  "no DMABUF");
	}
	return ret ? ret : (int)rb.count;
}

void buf_init(struct vmedia_buffer *b, uint32_t type, uint32_t mem,
	      uint32_t index)
{
	memset(b, 0, sizeof(*b));
	b->b.type = type;
	b->b.memory = mem;
	b->b.index = index;
	if (vmedia_type_is_mplane(type))
		b->b.length = b->num_planes = VIDEO_MAX_PLANES;
}

int qbuf(struct rig *r, struct sess *s, uint32_t type, uint32_t index)
{
	struct vmedia_buffer b;

	buf_init(&b, type, MMAP, index);
	return r->io->qbuf(s->priv, &b);
}

int querybuf(struct rig *r, struct sess *s, uint32_t type, uint32_t index,
	     struct vmedia_buffer *b)
{
	buf_init(b, type, MMAP, index);
	return r->io->querybuf(s->priv, b);
}

uint8_t *shm_of(struct rig *r, struct sess *s, uint32_t type, uint32_t index,
		unsigned p)
{
	struct vmedia_buffer b;

	if (querybuf(r, s, type, index, &b))
		return NULL;
	return fake_shm_host(vmedia_type_is_mplane(type)
				     ? b.planes[p].m.mem_offset
				     : b.b.m.offset,
			     NULL);
}

void gmem_init(struct guest_mem *g, size_t len, bool split)
{
	memset(g, 0, sizeof(*g));
	if (!split) {
		g->a = calloc(1, len);
		g->iov[0] = (struct iovec){ g->a, len };
		g->up = (struct vmedia_userptr){ g->iov, 1, len };
		return;
	}
	g->a = calloc(1, len / 2);
	g->b = calloc(1, len - len / 2);
	g->iov[0] = (struct iovec){ g->a, len / 2 };
	g->iov[1] = (struct iovec){ g->b, len - len / 2 };
	g->up = (struct vmedia_userptr){ g->iov, 2, len };
}

void gmem_free(struct guest_mem *g)
{
	free(g->a);
	free(g->b);
}

bool all_bytes(const uint8_t *p, size_t n, uint8_t v)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != v)
			return false;
	return true;
}
