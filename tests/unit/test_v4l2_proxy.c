/* SPDX-License-Identifier: MIT */
/*
 * The host V4L2 proxy through its ops table, over a fake host device:
 * identity, plain forwarding, every memory pairing (MMAP by import and by
 * copy, USERPTR in place, bounced and copied), output data, events, m2m
 * with both queues, poll interest. The hostile cases are in
 * test_v4l2_proxy_hostile.c.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "v4l2_proxy_rig.h"

static void test_identity(void)
{
	struct fake_v4l2_cfg cfg = cfg_camera(true);
	struct rig r;

	if (!rig_up(&r, &cfg))
		return;
	TAP_EQ(r.id.device_caps, V4L2_CAP_VIDEO_CAPTURE | V4L2_CAP_STREAMING |
					 V4L2_CAP_EXT_PIX_FORMAT);
	TAP_EQ(r.id.device_type, 0);
	TAP_CHECK(strcmp(r.id.card, "Fake Cam") == 0, "card %s", r.id.card);
	/* create() probed and closed; nothing is held until a guest opens. */
	TAP_EQ(fake_v4l2_open_fds(), 0);
	rig_down(&r);
}

static void test_create_errors(void)
{
	struct fake_v4l2_cfg cfg = cfg_camera(true);
	struct vmedia_identity id;
	struct evloop *loop = evloop_create();
	char msg[256] = "";
	void *dev = NULL;
	int ret;

	fake_v4l2_reset(&cfg);
	v4l2_proxy_use_host(&fake_v4l2_ops);
	ret = v4l2_proxy_backend_class.create("/dev/video3", loop, &dev, &id,
					      msg, sizeof(msg));
	TAP_EQ(ret, -ENOENT);
	TAP_CHECK(strcmp(msg, "cannot open /dev/video3: No such file or "
			      "directory (is the camera plugged in? ls "
			      "/dev/v4l/by-id)") == 0,
		  "msg: %s", msg);
	TAP_CHECK(!strchr(msg, '\n'), "one line");
	ret = v4l2_proxy_backend_class.create("", loop, &dev, &id, msg,
					      sizeof(msg));
	TAP_EQ(ret, -EINVAL);
	TAP_CHECK(strstr(msg, "v4l2:/dev/videoN") != NULL, "msg: %s", msg);
	ret = v4l2_proxy_backend_class.create("video0", loop, &dev, &id, msg,
					      sizeof(msg));
	TAP_EQ(ret, -EINVAL);
	/* A device that cannot stream cannot be served. */
	cfg.caps = V4L2_CAP_VIDEO_CAPTURE | V4L2_CAP_READWRITE;
	fake_v4l2_reset(&cfg);
	ret = v4l2_proxy_backend_class.create(FAKE_V4L2_PATH, loop, &dev, &id,
					      msg, sizeof(msg));
	TAP_EQ(ret, -ENODEV);
	TAP_CHECK(strstr(msg, "STREAMING") != NULL, "msg: %s", msg);
	TAP_EQ(fake_v4l2_open_fds(), 0);
	evloop_destroy(loop);
}

static void test_formats(void)
{
	struct fake_v4l2_cfg cfg = cfg_camera(true);
	struct v4l2_fmtdesc d = { .index = 0, .type = CAP };
	struct v4l2_format f = { .type = CAP };
	struct v4l2_streamparm p = { .type = CAP };
	v4l2_std_id std = 0;
	unsigned calls;
	struct rig r;
	struct sess s;

	if (!rig_up(&r, &cfg))
		return;
	sess_open(&r, &s, 1);
	/* The host's own format, compressed, not libv4lconvert's RGB. */
	TAP_EQ(r.io->enum_fmt(s.priv, &d), 0);
	TAP_EQ(d.pixelformat, v4l2_fourcc('M', 'J', 'P', 'G'));
	TAP_CHECK(d.flags & V4L2_FMT_FLAG_COMPRESSED, "compressed");
	f.fmt.pix.width = 1000;
	f.fmt.pix.pixelformat = v4l2_fourcc('Y', 'U', 'Y', 'V');
	TAP_EQ(r.io->s_fmt(s.priv, &f), 0);
	TAP_EQ(f.fmt.pix.width, 992); /* the host's rounding comes back */
	TAP_EQ(f.fmt.pix.sizeimage, SIZE_SP);
	memset(&f, 0, sizeof(f));
	f.type = CAP;
	TAP_EQ(r.io->g_fmt(s.priv, &f), 0);
	TAP_EQ(f.fmt.pix.width, 992);
	TAP_EQ(f.fmt.pix.pixelformat, v4l2_fourcc('Y', 'U', 'Y', 'V'));
	TAP_EQ(fake_v4l2_width(s.fd), 992);
	/* Overlay formats carry pointers: refused before the host. */
	calls = fake_v4l2_calls_total();
	f.type = V4L2_BUF_TYPE_VIDEO_OVERLAY;
	TAP_EQ(r.io->try_fmt(s.priv, &f), -EINVAL);
	/* ... and with the overlay capability stripped, so are its formats. */
	d = (struct v4l2_fmtdesc){ .type = V4L2_BUF_TYPE_VIDEO_OVERLAY };
	TAP_EQ(r.io->enum_fmt(s.priv, &d), -EINVAL);
	TAP_EQ(fake_v4l2_calls_total(), calls);
	/* No read(): no read buffers announced. */
	TAP_EQ(r.io->g_parm(s.priv, &p), 0);
	TAP_EQ(p.parm.capture.readbuffers, 0);
	TAP_EQ(p.parm.capture.timeperframe.denominator, 30);
	/* What the host lacks, the guest lacks, with the host's errno. */
	TAP_EQ(r.io->g_std(s.priv, &std), -ENOTTY);
	sess_close(&r, &s);
	rig_down(&r);
}

static void test_eintr_eagain(void)
{
	struct fake_v4l2_cfg cfg = cfg_camera(true);
	struct v4l2_format f = { .type = CAP };
	struct rig r;
	struct sess s;

	if (!rig_up(&r, &cfg))
		return;
	sess_open(&r, &s, 1);
	fake_v4l2_fail(VIDIOC_G_FMT, EINTR, 2);
	TAP_EQ(r.io->g_fmt(s.priv, &f), 0);
	TAP_EQ(fake_v4l2_calls(VIDIOC_G_FMT), 3);
	fake_v4l2_fail(VIDIOC_S_FMT, EAGAIN, 1);
	TAP_EQ(r.io->s_fmt(s.priv, &f), -EAGAIN);
	TAP_EQ(fake_v4l2_calls(VIDIOC_S_FMT), 1);
	TAP_EQ(fake_events_count(), 0);
	sess_close(&r, &s);
	rig_down(&r);
}

/* Guest MMAP, host USERPTR: the host writes straight into shared memory. */
static void test_mmap_import(void)
{
	struct fake_v4l2_cfg cfg = cfg_camera(true);
	struct v4l2_proxy_stats st;
	const struct fake_event *e;
	struct vmedia_buffer b;
	struct rig r;
	struct sess s;
	uint8_t *shm;

	if (!rig_up(&r, &cfg))
		return;
	sess_open(&r, &s, 1);
	TAP_EQ(reqbufs(&r, &s, CAP, MMAP, 3), 3);
	TAP_EQ(fake_v4l2_memory(s.fd, CAP), UPTR);
	TAP_EQ(querybuf(&r, &s, CAP, 1, &b), 0);
	TAP_EQ(b.b.memory, MMAP);
	TAP_EQ(b.b.length, SIZE_SP);
	shm = fake_shm_host(b.b.m.offset, NULL);
	TAP_CHECK(shm != NULL, "QUERYBUF gives an SHM offset: %#x",
		  b.b.m.offset);
	TAP_EQ(qbuf(&r, &s, CAP, 1), 0);
	TAP_CHECK(fake_v4l2_plane_userptr(s.fd, CAP, 1, 0) ==
			  (unsigned long)shm,
		  "host got the SHM block itself");
	TAP_EQ(r.io->streamon(s.priv, CAP), 0);
	TAP_EQ(v4l2_proxy_interest(s.priv), EPOLLPRI | EPOLLIN);
	TAP_EQ(pump(&s), 0); /* nothing done yet: no wakeup */
	TAP_EQ(fake_v4l2_complete(s.fd, CAP, 0xab, 1000), 1);
	TAP_EQ(pump(&s), EPOLLIN);
	e = fake_event_nth(s.vs, FAKE_EV_DQBUF, 0);
	TAP_CHECK(e != NULL, "DQBUF event");
	if (e) {
		TAP_EQ(e->b.index, 1);
		TAP_EQ(e->b.bytesused, 1000);
		TAP_EQ(e->b.memory, MMAP);
		TAP_EQ(e->b.m.offset, b.b.m.offset);
	}
	TAP_CHECK(shm && all_bytes(shm, 1000, 0xab) && shm[1000] == 0,
		  "frame in shared memory");
	v4l2_proxy_get_stats(r.dev, &st);
	TAP_EQ(st.copies_to_guest, 0);
	TAP_EQ(st.zero_copy_qbufs, 0); /* capture: counted for output only */
	TAP_EQ(st.host_mmaps, 0);
	/* Nothing queued any more: readiness is not asked for. */
	TAP_EQ(v4l2_proxy_interest(s.priv), EPOLLPRI);
	sess_close(&r, &s);
	rig_down(&r);
}

/* Guest MMAP, host MMAP only: copied at DQBUF, counted. */
static void test_mmap_copy(void)
{
	struct fake_v4l2_cfg cfg = cfg_camera(false);
	struct v4l2_proxy_stats st;
	struct rig r;
	struct sess s;
	uint8_t *shm;

	if (!rig_up(&r, &cfg))
		return;
	sess_open(&r, &s, 1);
	TAP_EQ(reqbufs(&r, &s, CAP, MMAP, 2), 2);
	TAP_EQ(fake_v4l2_memory(s.fd, CAP), MMAP);
	TAP_EQ(fake_v4l2_live_maps(), 2);
	shm = shm_of(&r, &s, CAP, 0, 0);
	TAP_EQ(qbuf(&r, &s, CAP, 0), 0);
	TAP_EQ(r.io->streamon(s.priv, CAP), 0);
	TAP_EQ(fake_v4l2_complete(s.fd, CAP, 0x5a, 3000), 0);
	TAP_CHECK(shm && shm[0] == 0, "not in SHM before DQBUF");
	TAP_EQ(pump(&s), EPOLLIN);
	TAP_EQ(fake_events_count_kind(s.vs, FAKE_EV_DQBUF), 1);
	TAP_CHECK(shm && all_bytes(shm, 3000, 0x5a) && shm[3000] == 0,
		  "bytesused copied, no more");
	v4l2_proxy_get_stats(r.dev, &st);
	TAP_EQ(st.copies_to_guest, 1);
	TAP_EQ(st.bytes_to_guest, 3000);
	TAP_EQ(st.host_mmaps, 2);
	/* REQBUFS(0) drops host mappings and SHM. */
	TAP_EQ(r.io->streamoff(s.priv, CAP), 0);
	TAP_EQ(reqbufs(&r, &s, CAP, MMAP, 0), 0);
	TAP_EQ(fake_v4l2_live_maps(), 0);
	TAP_EQ(fake_shm_live(), 0);
	sess_close(&r, &s);
	rig_down(&r);
}

static int qbuf_up(struct rig *r, struct sess *s, uint32_t index,
		   struct guest_mem *g, unsigned long addr)
{
	struct vmedia_buffer b;
	int ret;

	buf_init(&b, CAP, UPTR, index);
	b.b.m.userptr = addr;
	b.b.length = (uint32_t)g->up.len;
	b.userptr[0] = &g->up;
	ret = r->io->qbuf(s->priv, &b);
	if (!ret)
		TAP_EQ(b.b.m.userptr, addr); /* the guest's, never ours */
	return ret;
}

/* Guest USERPTR in one segment: the host uses the guest's pages. */
static void test_userptr_direct(void)
{
	struct fake_v4l2_cfg cfg = cfg_camera(true);
	struct v4l2_proxy_stats st;
	const struct fake_event *e;
	struct guest_mem g;
	struct rig r;
	struct sess s;

	if (!rig_up(&r, &cfg))
		return;
	gmem_init(&g, SIZE_SP, false);
	sess_open(&r, &s, 1);
	TAP_EQ(reqbufs(&r, &s, CAP, UPTR, 2), 2);
	TAP_EQ(qbuf_up(&r, &s, 0, &g, 0x7f0000001000ul), 0);
	TAP_CHECK(fake_v4l2_plane_userptr(s.fd, CAP, 0, 0) ==
			  (unsigned long)g.a,
		  "host got the guest's pages");
	TAP_EQ(r.io->streamon(s.priv, CAP), 0);
	TAP_EQ(fake_v4l2_complete(s.fd, CAP, 0x11, 500), 0);
	TAP_EQ(pump(&s), EPOLLIN);
	e = fake_event_nth(s.vs, FAKE_EV_DQBUF, 0);
	TAP_CHECK(e && e->b.m.userptr == 0x7f0000001000ul,
		  "guest address in the event");
	TAP_CHECK(all_bytes(g.a, 500, 0x11), "frame in guest memory");
	v4l2_proxy_get_stats(r.dev, &st);
	TAP_EQ(st.copies_to_guest, 0);
	TAP_EQ(st.bounce_allocs, 0);
	sess_close(&r, &s);
	gmem_free(&g);
	rig_down(&r);
}

/* Guest USERPTR in pieces: a bounce buffer, scattered at DQBUF. */
static void test_userptr_bounce(void)
{
	struct fake_v4l2_cfg cfg = cfg_camera(true);
	struct v4l2_proxy_stats st;
	struct guest_mem g;
	unsigned long host;
	struct rig r;
	struct sess s;

	if (!rig_up(&r, &cfg))
		return;
	gmem_init(&g, SIZE_SP, true);
	sess_open(&r, &s, 1);
	TAP_EQ(reqbufs(&r, &s, CAP, UPTR, 2), 2);
	TAP_EQ(qbuf_up(&r, &s, 1, &g, 0x7f0000002000ul), 0);
	host = fake_v4l2_plane_userptr(s.fd, CAP, 1, 0);
	TAP_CHECK(host && host != (unsigned long)g.a &&
			  host != (unsigned long)g.b,
		  "host got a bounce buffer");
	TAP_EQ(r.io->streamon(s.priv, CAP), 0);
	TAP_EQ(fake_v4l2_complete(s.fd, CAP, 0x22, SIZE_SP), 1);
	TAP_EQ(pump(&s), EPOLLIN);
	TAP_CHECK(all_bytes(g.a, SIZE_SP / 2, 0x22) &&
			  all_bytes(g.b, SIZE_SP / 2, 0x22),
		  "both pieces filled");
	v4l2_proxy_get_stats(r.dev, &st);
	TAP_EQ(st.bounce_allocs, 1);
	TAP_EQ(st.copies_to_guest, 1);
	TAP_EQ(st.bytes_to_guest, SIZE_SP);
	sess_close(&r, &s);
	gmem_free(&g);
	rig_down(&r);
}

/* The host cannot pin the guest's pages (EFAULT): bounce from then on. */
static void test_userptr_fallback(void)
{
	struct fake_v4l2_cfg cfg = cfg_camera(true);
	struct v4l2_proxy_stats st;
	struct guest_mem g;
	struct rig r;
	struct sess s;

	if (!rig_up(&r, &cfg))
		return;
	gmem_init(&g, SIZE_SP, false);
	sess_open(&r, &s, 1);
	TAP_EQ(reqbufs(&r, &s, CAP, UPTR, 2), 2);
	fake_v4l2_fail(VIDIOC_QBUF, EFAULT, 1);
	TAP_EQ(qbuf_up(&r, &s, 0, &g, 0x7f0000001000ul), 0);
	TAP_CHECK(fake_v4l2_plane_userptr(s.fd, CAP, 0, 0) !=
			  (unsigned long)g.a,
		  "bounced after EFAULT");
	TAP_EQ(r.io->streamon(s.priv, CAP), 0);
	TAP_EQ(fake_v4l2_complete(s.fd, CAP, 0x44, 64), 0);
	TAP_EQ(pump(&s), EPOLLIN);
	TAP_CHECK(all_bytes(g.a, 64, 0x44), "frame reached the guest");
	v4l2_proxy_get_stats(r.dev, &st);
	TAP_EQ(st.bounce_allocs, 1);
	sess_close(&r, &s);
	gmem_free(&g);
	rig_down(&r);
}

/* Guest USERPTR, host without USERPTR: host MMAP and a copy. */
static void test_userptr_copy(void)
{
	struct fake_v4l2_cfg cfg = cfg_camera(false);
	struct v4l2_proxy_stats st;
	struct guest_mem g;
	struct rig r;
	struct sess s;

	if (!rig_up(&r, &cfg))
		return;
	gmem_init(&g, SIZE_SP, false);
	sess_open(&r, &s, 1);
	TAP_EQ(reqbufs(&r, &s, CAP, UPTR, 2), 2);
	TAP_EQ(fake_v4l2_memory(s.fd, CAP), MMAP);
	TAP_EQ(qbuf_up(&r, &s, 0, &g, 0x7f0000003000ul), 0);
	TAP_EQ(r.io->streamon(s.priv, CAP), 0);
	TAP_EQ(fake_v4l2_complete(s.fd, CAP, 0x33, 100), 0);
	TAP_EQ(pump(&s), EPOLLIN);
	TAP_CHECK(all_bytes(g.a, 100, 0x33) && ((uint8_t *)g.a)[100] == 0,
		  "copied into guest memory");
	v4l2_proxy_get_stats(r.dev, &st);
	TAP_EQ(st.copies_to_guest, 1);
	TAP_EQ(st.bytes_to_guest, 100);
	sess_close(&r, &s);
	gmem_free(&g);
	rig_down(&r);
}

/* PREPARE_BUF then QBUF without memory: the prepared address is echoed. */
static void test_prepared_userptr(void)
{
	struct fake_v4l2_cfg cfg = cfg_camera(true);
	struct vmedia_buffer b;
	struct guest_mem g;
	struct rig r;
	struct sess s;

	if (!rig_up(&r, &cfg))
		return;
	gmem_init(&g, SIZE_SP, false);
	sess_open(&r, &s, 1);
	TAP_EQ(reqbufs(&r, &s, CAP, UPTR, 2), 2);
	buf_init(&b, CAP, UPTR, 0);
	b.b.m.userptr = 0x7f0000004000ul;
	b.b.length = SIZE_SP;
	b.userptr[0] = &g.up;
	TAP_EQ(r.io->prepare_buf(s.priv, &b), 0);
	TAP_CHECK(b.b.flags & V4L2_BUF_FLAG_PREPARED, "prepared");
	buf_init(&b, CAP, UPTR, 0);
	TAP_EQ(r.io->qbuf(s.priv, &b), 0);
	TAP_EQ(b.b.m.userptr, 0x7f0000004000ul);
	TAP_CHECK(b.b.flags & V4L2_BUF_FLAG_QUEUED, "queued");
	sess_close(&r, &s);
	gmem_free(&g);
	rig_down(&r);
}

/* Output: the guest's data is in host memory when the host runs. */
static void test_output_copy(void)
{
	struct fake_v4l2_cfg cfg = cfg_camera(false);
	struct v4l2_proxy_stats st;
	struct vmedia_buffer b;
	struct rig r;
	struct sess s;
	uint8_t *shm, *host;

	cfg.caps = V4L2_CAP_VIDEO_OUTPUT | V4L2_CAP_STREAMING;
	if (!rig_up(&r, &cfg))
		return;
	sess_open(&r, &s, 1);
	TAP_EQ(reqbufs(&r, &s, OUT, MMAP, 2), 2);
	shm = shm_of(&r, &s, OUT, 1, 0);
	if (shm)
		memset(shm, 0x66, 200);
	buf_init(&b, OUT, MMAP, 1);
	b.b.bytesused = 100;
	TAP_EQ(r.io->qbuf(s.priv, &b), 0);
	host = fake_v4l2_plane_mem(s.fd, OUT, 1, 0);
	TAP_CHECK(host && all_bytes(host, 100, 0x66) && host[100] == 0,
		  "bytesused copied to the host");
	v4l2_proxy_get_stats(r.dev, &st);
	TAP_EQ(st.copies_to_host, 1);
	TAP_EQ(st.bytes_to_host, 100);
	TAP_EQ(r.io->streamon(s.priv, OUT), 0);
	TAP_EQ(v4l2_proxy_interest(s.priv), EPOLLPRI | EPOLLOUT);
	TAP_EQ(fake_v4l2_complete(s.fd, OUT, 0, 0), 1);
	TAP_EQ(pump(&s), EPOLLOUT);
	TAP_EQ(fake_events_count_kind(s.vs, FAKE_EV_DQBUF), 1);
	sess_close(&r, &s);
	rig_down(&r);
}

static void test_events(void)
{
	struct fake_v4l2_cfg cfg = cfg_camera(true);
	struct v4l2_event_subscription sub = {
		.type = V4L2_EVENT_CTRL,
		.id = V4L2_CID_BRIGHTNESS,
		.flags = V4L2_EVENT_SUB_FL_SEND_INITIAL,
	};
	const struct fake_event *e;
	struct rig r;
	struct sess s;

	if (!rig_up(&r, &cfg))
		return;
	sess_open(&r, &s, 1);
	TAP_EQ(r.io->subscribe_event(s.priv, &sub), 0);
	/* The initial event is queued before SUBSCRIBE returns. */
	TAP_EQ(fake_events_count_kind(s.vs, FAKE_EV_EVENT), 1);
	fake_v4l2_event(s.fd, V4L2_EVENT_CTRL, V4L2_CID_BRIGHTNESS);
	fake_v4l2_event(s.fd, V4L2_EVENT_CTRL, V4L2_CID_BRIGHTNESS);
	TAP_EQ(pump(&s), EPOLLPRI);
	TAP_EQ(fake_events_count_kind(s.vs, FAKE_EV_EVENT), 3);
	e = fake_event_nth(s.vs, FAKE_EV_EVENT, 2);
	TAP_CHECK(e && e->ev.type == V4L2_EVENT_CTRL &&
			  e->ev.id == V4L2_CID_BRIGHTNESS,
		  "control event forwarded");
	TAP_EQ(pump(&s), 0);
	sess_close(&r, &s);
	rig_down(&r);
}

static void test_ext_ctrls(void)
{
	struct fake_v4l2_cfg cfg = cfg_camera(true);
	uint8_t blob[16], back[16];
	struct v4l2_ext_control c = { .id = FAKE_CID_BLOB,
				      .size = sizeof(blob),
				      .ptr = blob };
	struct v4l2_ext_controls cs = { .count = 1, .controls = &c };
	unsigned calls;
	struct rig r;
	struct sess s;

	if (!rig_up(&r, &cfg))
		return;
	sess_open(&r, &s, 1);
	memset(blob, 0x5c, sizeof(blob));
	TAP_EQ(r.io->s_ext_ctrls(s.priv, &cs), 0);
	memset(back, 0, sizeof(back));
	c.ptr = back;
	TAP_EQ(r.io->g_ext_ctrls(s.priv, &cs), 0);
	TAP_CHECK(all_bytes(back, sizeof(back), 0x5c), "payload round trip");
	/* A payload on a plain control would hand the host our pointer. */
	calls = fake_v4l2_calls(VIDIOC_S_EXT_CTRLS);
	c.id = V4L2_CID_BRIGHTNESS;
	TAP_EQ(r.io->s_ext_ctrls(s.priv, &cs), -EINVAL);
	TAP_EQ(fake_v4l2_calls(VIDIOC_S_EXT_CTRLS), calls);
	/* Requests name fds of ours. */
	c.size = 0;
	cs.which = V4L2_CTRL_WHICH_REQUEST_VAL;
	TAP_EQ(r.io->s_ext_ctrls(s.priv, &cs), -EINVAL);
	TAP_EQ(fake_v4l2_calls(VIDIOC_S_EXT_CTRLS), calls);
	sess_close(&r, &s);
	rig_down(&r);
}

/* m2m, multi-planar, both queues streaming through one host fd. */
static void test_m2m(void)
{
	struct fake_v4l2_cfg cfg = cfg_m2m_mplane(true);
	struct vmedia_buffer b;
	const struct fake_event *e;
	struct rig r;
	struct sess s;
	uint8_t *shm_out, *shm_cap;

	if (!rig_up(&r, &cfg))
		return;
	TAP_EQ(r.id.device_caps,
	       V4L2_CAP_VIDEO_M2M_MPLANE | V4L2_CAP_STREAMING);
	sess_open(&r, &s, 1);
	TAP_EQ(reqbufs(&r, &s, OUT_MP, MMAP, 2), 2);
	TAP_EQ(reqbufs(&r, &s, CAP_MP, MMAP, 2), 2);
	TAP_EQ(querybuf(&r, &s, CAP_MP, 0, &b), 0);
	TAP_EQ(b.num_planes, 2);
	TAP_EQ(b.planes[0].length, SIZE_MP0);
	TAP_EQ(b.planes[1].length, SIZE_MP1);
	TAP_CHECK(b.planes[0].m.mem_offset != b.planes[1].m.mem_offset,
		  "one SHM block per plane");
	shm_out = shm_of(&r, &s, OUT_MP, 0, 1);
	shm_cap = shm_of(&r, &s, CAP_MP, 0, 1);
	buf_init(&b, OUT_MP, MMAP, 0);
	b.planes[0].bytesused = 10;
	b.planes[1].bytesused = 20;
	TAP_EQ(r.io->qbuf(s.priv, &b), 0);
	TAP_EQ(qbuf(&r, &s, CAP_MP, 0), 0);
	TAP_EQ(v4l2_proxy_interest(s.priv), EPOLLPRI);
	TAP_EQ(r.io->streamon(s.priv, OUT_MP), 0);
	TAP_EQ(v4l2_proxy_interest(s.priv), EPOLLPRI | EPOLLOUT);
	TAP_EQ(r.io->streamon(s.priv, CAP_MP), 0);
	TAP_EQ(v4l2_proxy_interest(s.priv), EPOLLPRI | EPOLLIN | EPOLLOUT);
	TAP_EQ(fake_v4l2_complete(s.fd, OUT_MP, 0, 0), 0);
	TAP_EQ(fake_v4l2_complete(s.fd, CAP_MP, 0x9c, 4000), 0);
	TAP_EQ(pump(&s), EPOLLIN | EPOLLOUT);
	e = fake_event_nth(s.vs, FAKE_EV_DQBUF, 0);
	TAP_CHECK(e && e->b.type == CAP_MP && e->n_planes == 2 &&
			  e->planes[0].bytesused == 4000 &&
			  e->planes[1].bytesused == 4000,
		  "capture done, 2 planes");
	e = fake_event_nth(s.vs, FAKE_EV_DQBUF, 1);
	TAP_CHECK(e && e->b.type == OUT_MP && e->planes[1].bytesused == 20,
		  "output done");
	TAP_CHECK(shm_cap && all_bytes(shm_cap, 4000, 0x9c),
		  "decoded data in plane 1");
	TAP_CHECK(shm_out != shm_cap, "queues have their own memory");
	TAP_EQ(v4l2_proxy_interest(s.priv), EPOLLPRI);
	sess_close(&r, &s);
	rig_down(&r);
}

/* Readiness is asked for only while it can come; STREAMOFF stops it. */
static void test_interest(void)
{
	struct fake_v4l2_cfg cfg = cfg_camera(true);
	struct rig r;
	struct sess s;

	if (!rig_up(&r, &cfg))
		return;
	sess_open(&r, &s, 1);
	TAP_EQ(reqbufs(&r, &s, CAP, MMAP, 2), 2);
	TAP_EQ(r.io->streamon(s.priv, CAP), 0);
	/* Streaming, nothing queued: vb2 would say POLLERR; not asked. */
	TAP_EQ(v4l2_proxy_interest(s.priv), EPOLLPRI);
	TAP_EQ(pump(&s), 0);
	TAP_EQ(qbuf(&r, &s, CAP, 0), 0);
	TAP_EQ(v4l2_proxy_interest(s.priv), EPOLLPRI | EPOLLIN);
	TAP_EQ(r.io->streamoff(s.priv, CAP), 0);
	TAP_EQ(v4l2_proxy_interest(s.priv), EPOLLPRI);
	TAP_EQ(pump(&s), 0);
	/* STREAMOFF returned buffer 0: it can be queued again. */
	TAP_EQ(qbuf(&r, &s, CAP, 0), 0);
	TAP_EQ(v4l2_proxy_interest(s.priv), EPOLLPRI);
	TAP_EQ(fake_events_count(), 0);
	sess_close(&r, &s);
	rig_down(&r);
}

/* Two guests' sessions: their own host fds and SHM blocks. */
static void test_two_sessions(void)
{
	struct fake_v4l2_cfg cfg = cfg_m2m_mplane(true);
	struct vmedia_buffer a, b;
	struct rig r;
	struct sess s1, s2;

	if (!rig_up(&r, &cfg))
		return;
	sess_open(&r, &s1, 1);
	sess_open(&r, &s2, 2);
	TAP_CHECK(s1.fd != s2.fd, "one host fd per session");
	TAP_EQ(reqbufs(&r, &s1, CAP_MP, MMAP, 4), 4);
	TAP_EQ(reqbufs(&r, &s2, CAP_MP, MMAP, 4), 4);
	TAP_EQ(querybuf(&r, &s1, CAP_MP, 0, &a), 0);
	TAP_EQ(querybuf(&r, &s2, CAP_MP, 0, &b), 0);
	TAP_CHECK(a.planes[0].m.mem_offset != b.planes[0].m.mem_offset,
		  "offsets never collide");
	TAP_EQ(fake_shm_live_for(s1.vs), 8);
	TAP_EQ(fake_shm_live_for(s2.vs), 8);
	sess_close(&r, &s1);
	TAP_EQ(fake_shm_live_for(s2.vs), 8);
	TAP_EQ(fake_v4l2_open_fds(), 1);
	sess_close(&r, &s2);
	rig_down(&r);
}

/* CREATE_BUFS adds buffers after REQBUFS ones, host numbering kept. */
static void test_create_bufs(void)
{
	struct fake_v4l2_cfg cfg = cfg_camera(true);
	struct v4l2_create_buffers c = { .count = 3, .memory = MMAP };
	struct vmedia_buffer b;
	struct rig r;
	struct sess s;

	if (!rig_up(&r, &cfg))
		return;
	sess_open(&r, &s, 1);
	c.format.type = CAP;
	TAP_EQ(r.io->g_fmt(s.priv, &c.format), 0);
	TAP_EQ(reqbufs(&r, &s, CAP, MMAP, 2), 2);
	TAP_EQ(r.io->create_bufs(s.priv, &c), 0);
	TAP_EQ(c.index, 2);
	TAP_EQ(c.count, 3);
	TAP_CHECK(c.capabilities & V4L2_BUF_CAP_SUPPORTS_USERPTR, "caps");
	TAP_EQ(querybuf(&r, &s, CAP, 4, &b), 0);
	TAP_CHECK(fake_shm_host(b.b.m.offset, NULL) != NULL, "SHM offset");
	TAP_EQ(querybuf(&r, &s, CAP, 5, &b), -EINVAL);
	c.memory = UPTR;
	TAP_EQ(r.io->create_bufs(s.priv, &c), -EINVAL); /* memory differs */
	sess_close(&r, &s);
	rig_down(&r);
}

/* Types the host refuses do not use up the session's queue slots. */
static void test_queue_slots(void)
{
	struct fake_v4l2_cfg cfg = cfg_camera(true);
	struct rig r;
	struct sess s;

	if (!rig_up(&r, &cfg))
		return;
	sess_open(&r, &s, 1);
	for (uint32_t t = V4L2_BUF_TYPE_VIDEO_OUTPUT;
	     t <= V4L2_BUF_TYPE_META_OUTPUT; t++)
		if (t != V4L2_BUF_TYPE_VIDEO_OVERLAY &&
		    t != V4L2_BUF_TYPE_VIDEO_OUTPUT_OVERLAY)
			TAP_EQ(reqbufs(&r, &s, t, MMAP, 2), -EINVAL);
	TAP_EQ(reqbufs(&r, &s, CAP, MMAP, 2), 2);
	sess_close(&r, &s);
	rig_down(&r);
}

/*
 * vb2 does not pin again for the same address: another guest buffer whose
 * mapping lands where the last one was must not get the old pages.
 */
static void test_userptr_stale_pin(void)
{
	struct fake_v4l2_cfg cfg = cfg_camera(true);
	struct v4l2_proxy_stats st;
	struct guest_mem g;
	struct rig r;
	struct sess s;

	if (!rig_up(&r, &cfg))
		return;
	gmem_init(&g, SIZE_SP, false);
	sess_open(&r, &s, 1);
	TAP_EQ(reqbufs(&r, &s, CAP, UPTR, 2), 2);
	TAP_EQ(qbuf_up(&r, &s, 0, &g, 0x7f0000001000ul), 0);
	TAP_EQ(r.io->streamon(s.priv, CAP), 0);
	TAP_EQ(fake_v4l2_complete(s.fd, CAP, 1, 10), 0);
	TAP_EQ(pump(&s), EPOLLIN);
	/* Same guest buffer again: in place. */
	TAP_EQ(qbuf_up(&r, &s, 0, &g, 0x7f0000001000ul), 0);
	TAP_CHECK(fake_v4l2_plane_userptr(s.fd, CAP, 0, 0) ==
			  (unsigned long)g.a,
		  "same buffer in place");
	TAP_EQ(fake_v4l2_complete(s.fd, CAP, 1, 10), 0);
	TAP_EQ(pump(&s), EPOLLIN);
	/* Another guest buffer mapped at the same place: bounced. */
	TAP_EQ(qbuf_up(&r, &s, 0, &g, 0x7f0000009000ul), 0);
	TAP_CHECK(fake_v4l2_plane_userptr(s.fd, CAP, 0, 0) !=
			  (unsigned long)g.a,
		  "other buffer not pinned by address");
	TAP_EQ(fake_v4l2_complete(s.fd, CAP, 0x3e, 10), 0);
	TAP_EQ(pump(&s), EPOLLIN);
	TAP_CHECK(all_bytes(g.a, 10, 0x3e), "its frame still arrives");
	v4l2_proxy_get_stats(r.dev, &st);
	TAP_EQ(st.bounce_allocs, 1);
	sess_close(&r, &s);
	gmem_free(&g);
	rig_down(&r);
}

int main(void)
{
	tap_run("identity from the host's QUERYCAP", test_identity);
	tap_run("create: missing device, bad args, no streaming",
		test_create_errors);
	tap_run("formats pass through unconverted", test_formats);
	tap_run("EINTR retried, EAGAIN passed", test_eintr_eagain);
	tap_run("MMAP by USERPTR import (zero copy)", test_mmap_import);
	tap_run("MMAP by host MMAP and copy", test_mmap_copy);
	tap_run("USERPTR in place", test_userptr_direct);
	tap_run("USERPTR split: bounce buffer", test_userptr_bounce);
	tap_run("USERPTR: host refuses pages, bounce", test_userptr_fallback);
	tap_run("USERPTR on a host without USERPTR", test_userptr_copy);
	tap_run("prepared USERPTR echoed at QBUF", test_prepared_userptr);
	tap_run("output data copied to the host at QBUF", test_output_copy);
	tap_run("events: initial and POLLPRI", test_events);
	tap_run("extended controls and payloads", test_ext_ctrls);
	tap_run("m2m multi-planar, both queues", test_m2m);
	tap_run("poll interest follows the queues", test_interest);
	tap_run("sessions are independent", test_two_sessions);
	tap_run("CREATE_BUFS", test_create_bufs);
	tap_run("refused types free their queue slot", test_queue_slots);
	tap_run("USERPTR: no stale vb2 pin by address", test_userptr_stale_pin);
	proxy_hostile_tests();
	return tap_done();
}
