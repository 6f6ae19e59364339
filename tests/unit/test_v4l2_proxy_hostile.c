/* SPDX-License-Identifier: MIT */
/*
 * The proxy against a hostile guest and a misbehaving host: bad indexes
 * never reach the host, and a host that dequeues what it was not given,
 * or claims more bytes than the memory holds, or vanishes, fails only its
 * own session, once, before anything reaches the guest.
 */
#include <errno.h>
#include <string.h>

#include "v4l2_proxy_rig.h"

static void test_guest_bad_index(void)
{
	struct fake_v4l2_cfg cfg = cfg_m2m_mplane(true);
	struct vmedia_buffer b;
	unsigned calls;
	struct rig r;
	struct sess s;

	if (!rig_up(&r, &cfg))
		return;
	sess_open(&r, &s, 1);
	calls = fake_v4l2_calls_total();
	/* No buffers yet. */
	TAP_EQ(qbuf(&r, &s, CAP_MP, 0), -EINVAL);
	TAP_EQ(querybuf(&r, &s, CAP_MP, 0, &b), -EINVAL);
	TAP_EQ(fake_v4l2_calls_total(), calls);
	TAP_EQ(reqbufs(&r, &s, CAP_MP, MMAP, 3), 3);
	calls = fake_v4l2_calls_total();
	TAP_EQ(qbuf(&r, &s, CAP_MP, 3), -EINVAL);
	TAP_EQ(qbuf(&r, &s, CAP_MP, 31), -EINVAL);
	TAP_EQ(querybuf(&r, &s, CAP_MP, 3, &b), -EINVAL);
	buf_init(&b, CAP_MP, MMAP, 7);
	TAP_EQ(r.io->prepare_buf(s.priv, &b), -EINVAL);
	/* Wrong memory, too few planes, a queue with no buffers. */
	buf_init(&b, CAP_MP, UPTR, 0);
	TAP_EQ(r.io->qbuf(s.priv, &b), -EINVAL);
	buf_init(&b, CAP_MP, MMAP, 0);
	b.b.length = b.num_planes = 1;
	TAP_EQ(r.io->qbuf(s.priv, &b), -EINVAL);
	TAP_EQ(qbuf(&r, &s, OUT_MP, 0), -EINVAL);
	TAP_EQ(fake_v4l2_calls_total(), calls);
	/* Queued twice: refused here, not left to the host. */
	TAP_EQ(qbuf(&r, &s, CAP_MP, 1), 0);
	calls = fake_v4l2_calls_total();
	TAP_EQ(qbuf(&r, &s, CAP_MP, 1), -EINVAL);
	TAP_EQ(fake_v4l2_calls_total(), calls);
	TAP_EQ(fake_events_count(), 0);
	sess_close(&r, &s);
	rig_down(&r);
}

/* A streaming session with buffers 0..n-1 queued (copy mode). */
static bool stream_up(struct rig *r, struct sess *s, uint32_t type, unsigned n)
{
	bool ok = reqbufs(r, s, type, MMAP, 4) == 4;

	for (unsigned i = 0; ok && i < n; i++)
		ok = qbuf(r, s, type, i) == 0;
	ok = ok && r->io->streamon(s->priv, type) == 0;
	TAP_CHECK(ok, "streaming set up");
	return ok;
}

/* The session failed once with err, out of the loop, calls refused. */
static void check_failed(struct rig *r, struct sess *s, int err)
{
	struct v4l2_format f = { .type = CAP };
	const struct fake_event *e;

	TAP_EQ(fake_events_count_kind(s->vs, FAKE_EV_ERROR), 1);
	e = fake_event_nth(s->vs, FAKE_EV_ERROR, 0);
	TAP_CHECK(e && e->err == err, "error %d", e ? e->err : 0);
	TAP_CHECK(!v4l2_proxy_in_loop(s->priv), "fd out of the loop");
	TAP_EQ(r->io->g_fmt(s->priv, &f), -err);
	TAP_EQ(qbuf(r, s, CAP, 0), -err);
	TAP_EQ(pump(s), 0);
	v4l2_proxy_poll(s->priv, EPOLLIN | EPOLLERR);
	TAP_EQ(fake_events_count_kind(s->vs, FAKE_EV_ERROR), 1);
}

static void test_host_bytesused(void)
{
	struct fake_v4l2_cfg cfg = cfg_camera(false);
	struct fake_v4l2_tamper t = { -1, SIZE_SP + 1, -1, -1 };
	struct v4l2_proxy_stats st;
	struct rig r;
	struct sess s;
	uint8_t *shm;

	if (!rig_up(&r, &cfg))
		return;
	sess_open(&r, &s, 1);
	if (stream_up(&r, &s, CAP, 1)) {
		shm = shm_of(&r, &s, CAP, 0, 0);
		TAP_EQ(fake_v4l2_complete(s.fd, CAP, 0x77, SIZE_SP), 0);
		fake_v4l2_tamper(&t);
		TAP_EQ(pump(&s), EPOLLIN);
		TAP_EQ(fake_events_count_kind(s.vs, FAKE_EV_DQBUF), 0);
		TAP_CHECK(shm && all_bytes(shm, SIZE_SP, 0),
			  "nothing copied into guest memory");
		v4l2_proxy_get_stats(r.dev, &st);
		TAP_EQ(st.copies_to_guest, 0);
		TAP_EQ(st.bad_host_buffers, 1);
		check_failed(&r, &s, EIO);
	}
	sess_close(&r, &s);
	rig_down(&r);
}

static void test_host_index(int index, unsigned queued, unsigned done_first)
{
	struct fake_v4l2_cfg cfg = cfg_camera(true);
	struct fake_v4l2_tamper t = { index, -1, -1, -1 };
	struct rig r;
	struct sess s;

	if (!rig_up(&r, &cfg))
		return;
	sess_open(&r, &s, 1);
	if (stream_up(&r, &s, CAP, queued)) {
		for (unsigned i = 0; i < done_first; i++) {
			TAP_EQ(fake_v4l2_complete(s.fd, CAP, 1, 10), (int)i);
			TAP_EQ(pump(&s), EPOLLIN);
		}
		TAP_EQ(fake_events_count_kind(s.vs, FAKE_EV_DQBUF), done_first);
		TAP_CHECK(fake_v4l2_complete(s.fd, CAP, 2, 10) >= 0, "done");
		fake_v4l2_tamper(&t);
		TAP_EQ(pump(&s), EPOLLIN);
		TAP_EQ(fake_events_count_kind(s.vs, FAKE_EV_DQBUF), done_first);
		check_failed(&r, &s, EIO);
	}
	sess_close(&r, &s);
	rig_down(&r);
}

static void test_host_never_queued(void)
{
	/* Only buffer 0 was queued; the host says buffer 2 is done. */
	test_host_index(2, 1, 0);
}

static void test_host_double_dequeue(void)
{
	/* Buffer 0 came back already; the host returns it again. */
	test_host_index(0, 2, 1);
}

static void test_host_index_range(void)
{
	test_host_index(99, 1, 0);
}

static void test_host_planes(bool data_offset)
{
	struct fake_v4l2_cfg cfg = cfg_m2m_mplane(true);
	struct fake_v4l2_tamper t = { -1, -1, -1, -1 };
	struct rig r;
	struct sess s;

	if (data_offset) {
		t.bytesused = 100;
		t.data_offset = 101;
	} else {
		t.n_planes = 3;
	}
	if (!rig_up(&r, &cfg))
		return;
	sess_open(&r, &s, 1);
	if (stream_up(&r, &s, CAP_MP, 1)) {
		TAP_EQ(fake_v4l2_complete(s.fd, CAP_MP, 3, 100), 0);
		fake_v4l2_tamper(&t);
		TAP_EQ(pump(&s), EPOLLIN);
		TAP_EQ(fake_events_count_kind(s.vs, FAKE_EV_DQBUF), 0);
		check_failed(&r, &s, EIO);
	}
	sess_close(&r, &s);
	rig_down(&r);
}

static void test_host_too_many_planes(void)
{
	test_host_planes(false);
}

static void test_host_data_offset(void)
{
	test_host_planes(true);
}

/* One session's device vanishes mid-stream; the other keeps streaming. */
static void test_vanish_dqbuf(void)
{
	struct fake_v4l2_cfg cfg = cfg_m2m_mplane(true);
	struct rig r;
	struct sess s1, s2;

	if (!rig_up(&r, &cfg))
		return;
	sess_open(&r, &s1, 1);
	sess_open(&r, &s2, 2);
	if (stream_up(&r, &s1, CAP_MP, 2) && stream_up(&r, &s2, CAP_MP, 2)) {
		TAP_EQ(fake_v4l2_complete(s1.fd, CAP_MP, 1, 10), 0);
		TAP_EQ(pump(&s1), EPOLLIN);
		fake_v4l2_fd_gone(s1.fd);
		TAP_EQ(pump(&s1), EPOLLERR | EPOLLHUP);
		check_failed(&r, &s1, ENODEV);
		TAP_EQ(fake_v4l2_complete(s2.fd, CAP_MP, 1, 10), 0);
		TAP_EQ(pump(&s2), EPOLLIN);
		TAP_EQ(fake_events_count_kind(s2.vs, FAKE_EV_DQBUF), 1);
		TAP_EQ(fake_events_count_kind(s2.vs, FAKE_EV_ERROR), 0);
		TAP_CHECK(v4l2_proxy_in_loop(s2.priv), "s2 still served");
	}
	sess_close(&r, &s1);
	sess_close(&r, &s2);
	rig_down(&r);
}

/* ENODEV from an ordinary ioctl fails the session the same way. */
static void test_vanish_ioctl(void)
{
	struct fake_v4l2_cfg cfg = cfg_camera(true);
	struct v4l2_format f = { .type = CAP };
	struct rig r;
	struct sess s1, s2;

	if (!rig_up(&r, &cfg))
		return;
	sess_open(&r, &s1, 1);
	sess_open(&r, &s2, 2);
	if (stream_up(&r, &s1, CAP, 1)) {
		fake_v4l2_fd_gone(s1.fd);
		TAP_EQ(r.io->g_fmt(s1.priv, &f), -ENODEV);
		check_failed(&r, &s1, ENODEV);
		TAP_EQ(r.io->g_fmt(s2.priv, &f), 0);
		TAP_EQ(fake_events_count_kind(s2.vs, FAKE_EV_ERROR), 0);
	}
	/* The whole device goes: every session hears it exactly once. */
	fake_v4l2_gone(true);
	TAP_EQ(pump(&s2), EPOLLERR | EPOLLHUP);
	TAP_EQ(fake_events_count_kind(s2.vs, FAKE_EV_ERROR), 1);
	TAP_EQ(fake_events_count_kind(s1.vs, FAKE_EV_ERROR), 1);
	sess_close(&r, &s1);
	sess_close(&r, &s2);
	rig_down(&r);
}

static void test_dqbuf_eio(void)
{
	struct fake_v4l2_cfg cfg = cfg_camera(true);
	struct rig r;
	struct sess s;

	if (!rig_up(&r, &cfg))
		return;
	sess_open(&r, &s, 1);
	if (stream_up(&r, &s, CAP, 1)) {
		TAP_EQ(fake_v4l2_complete(s.fd, CAP, 1, 10), 0);
		fake_v4l2_fail(VIDIOC_DQBUF, EIO, 1);
		TAP_EQ(pump(&s), EPOLLIN);
		check_failed(&r, &s, EIO);
	}
	sess_close(&r, &s);
	rig_down(&r);
}

/* POLLERR with nothing to dequeue: readiness is dropped, no busy loop. */
static void test_pollerr_no_spin(void)
{
	struct fake_v4l2_cfg cfg = cfg_camera(true);
	unsigned calls;
	struct rig r;
	struct sess s;

	if (!rig_up(&r, &cfg))
		return;
	sess_open(&r, &s, 1);
	if (stream_up(&r, &s, CAP, 1)) {
		TAP_EQ(v4l2_proxy_interest(s.priv), EPOLLPRI | EPOLLIN);
		v4l2_proxy_poll(s.priv, EPOLLERR);
		TAP_EQ(v4l2_proxy_interest(s.priv), EPOLLPRI);
		calls = fake_v4l2_calls(VIDIOC_DQBUF);
		TAP_EQ(pump(&s), 0);
		TAP_EQ(fake_v4l2_calls(VIDIOC_DQBUF), calls);
		/* The guest queues again: readiness is asked for again. */
		TAP_EQ(qbuf(&r, &s, CAP, 1), 0);
		TAP_EQ(v4l2_proxy_interest(s.priv), EPOLLPRI | EPOLLIN);
		/* EPIPE (a LAST buffer was taken): stop asking as well. */
		fake_v4l2_fail(VIDIOC_DQBUF, EPIPE, 1);
		v4l2_proxy_poll(s.priv, EPOLLIN);
		TAP_EQ(v4l2_proxy_interest(s.priv), EPOLLPRI);
		TAP_EQ(fake_events_count(), 0);
	}
	sess_close(&r, &s);
	rig_down(&r);
}

/* A USERPTR plane shorter than the format, or not mapped: refused. */
static void test_userptr_short(void)
{
	struct fake_v4l2_cfg cfg = cfg_camera(true);
	struct vmedia_buffer b;
	struct guest_mem g;
	unsigned calls;
	struct rig r;
	struct sess s;

	if (!rig_up(&r, &cfg))
		return;
	gmem_init(&g, SIZE_SP / 2, false);
	sess_open(&r, &s, 1);
	TAP_EQ(reqbufs(&r, &s, CAP, UPTR, 2), 2);
	calls = fake_v4l2_calls_total();
	buf_init(&b, CAP, UPTR, 0);
	b.b.m.userptr = 0x1000;
	b.b.length = SIZE_SP / 2;
	b.userptr[0] = &g.up;
	TAP_EQ(r.io->qbuf(s.priv, &b), -EINVAL);
	buf_init(&b, CAP, UPTR, 0);
	b.b.m.userptr = 0x1000;
	b.b.length = SIZE_SP;
	TAP_EQ(r.io->qbuf(s.priv, &b), -EINVAL); /* no mapping given */
	TAP_EQ(fake_v4l2_calls_total(), calls);
	sess_close(&r, &s);
	gmem_free(&g);
	rig_down(&r);
}

void proxy_hostile_tests(void)
{
	tap_run("hostile guest: bad index, memory, planes, double QBUF",
		test_guest_bad_index);
	tap_run("hostile guest: short or missing USERPTR", test_userptr_short);
	tap_run("host: bytesused > length", test_host_bytesused);
	tap_run("host: index never queued", test_host_never_queued);
	tap_run("host: double dequeue", test_host_double_dequeue);
	tap_run("host: index out of range", test_host_index_range);
	tap_run("host: more planes than the format", test_host_too_many_planes);
	tap_run("host: data_offset > bytesused", test_host_data_offset);
	tap_run("host: vanishes mid-stream (DQBUF)", test_vanish_dqbuf);
	tap_run("host: vanishes (ioctl), whole device", test_vanish_ioctl);
	tap_run("host: DQBUF EIO", test_dqbuf_eio);
	tap_run("host: POLLERR/EPIPE do not spin", test_pollerr_no_spin);
}
