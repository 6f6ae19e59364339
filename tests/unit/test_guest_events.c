/* SPDX-License-Identifier: MIT */
/*
 * The guest core, continued: V4L2 events (subscriptions, ordering,
 * blocking DQEVENT), EVT_ERROR, USERPTR bouncing, controls, the wait
 * API the shim's poll uses, and multi-planar capture; on the real
 * vmediad.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "guest_core_util.h"
#include "tap.h"
#include "vg_core_priv.h"

static struct gc_env env; /* vcam:unpaced, USERPTR allowed */

static int s_ctrl(struct vg_file *f, uint32_t id, int32_t v)
{
	struct v4l2_control c = { .id = id, .value = v };

	return vg_core_ioctl(f, VIDIOC_S_CTRL, &c, 0);
}

static int subscribe(struct vg_file *f, uint32_t id, uint32_t flags)
{
	struct v4l2_event_subscription s = { .type = V4L2_EVENT_CTRL,
					     .id = id,
					     .flags = flags };

	return vg_core_ioctl(f, VIDIOC_SUBSCRIBE_EVENT, &s, 0);
}

static uint64_t mono_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static void test_send_initial(void)
{
	struct v4l2_event ev;
	struct vg_file *f;
	uint64_t t0 = mono_ns(), ts;

	TAP_EQ(vg_core_open(env.c, &f), 0);
	TAP_EQ(vg_core_ioctl(f, VIDIOC_DQEVENT, &ev, O_NONBLOCK), -ENOENT);
	TAP_EQ(vg_core_poll(f, EPOLLPRI) & EPOLLPRI, 0);
	TAP_EQ(subscribe(f, V4L2_CID_BRIGHTNESS,
			 V4L2_EVENT_SUB_FL_SEND_INITIAL),
	       0);
	/* There as soon as SUBSCRIBE returned: no waiting for it. */
	TAP_EQ(vg_core_poll(f, EPOLLPRI) & EPOLLPRI, EPOLLPRI);
	TAP_EQ(vg_core_ioctl(f, VIDIOC_DQEVENT, &ev, O_NONBLOCK), 0);
	TAP_EQ(ev.type, V4L2_EVENT_CTRL);
	TAP_EQ(ev.id, V4L2_CID_BRIGHTNESS);
	TAP_EQ(ev.sequence, 0); /* the guest's own numbering */
	TAP_EQ(ev.pending, 0);
	ts = (uint64_t)ev.timestamp.tv_sec * 1000000000u +
	     (uint64_t)ev.timestamp.tv_nsec;
	TAP_CHECK(ts >= t0 && ts <= mono_ns(), "guest monotonic timestamp");
	vg_core_close(f);
}

static void test_event_order(void)
{
	struct vg_file *a, *b;
	struct v4l2_event ev;

	TAP_EQ(vg_core_open(env.c, &a), 0);
	TAP_EQ(vg_core_open(env.c, &b), 0);
	TAP_EQ(subscribe(a, V4L2_CID_BRIGHTNESS, 0), 0);
	TAP_EQ(subscribe(a, V4L2_CID_CONTRAST, 0), 0);
	TAP_EQ(s_ctrl(b, V4L2_CID_CONTRAST, 10), 0);
	TAP_EQ(s_ctrl(b, V4L2_CID_BRIGHTNESS, 20), 0);
	TAP_EQ(s_ctrl(b, V4L2_CID_CONTRAST, 30), 0);
	/* One slot per subscription: contrast's second event replaced its
	 * first and went to the back. */
	TAP_EQ(vg_core_ioctl(a, VIDIOC_DQEVENT, &ev, O_NONBLOCK), 0);
	TAP_EQ(ev.id, V4L2_CID_BRIGHTNESS);
	TAP_EQ(ev.sequence, 1);
	TAP_EQ(ev.pending, 1);
	TAP_EQ(vg_core_ioctl(a, VIDIOC_DQEVENT, &ev, O_NONBLOCK), 0);
	TAP_EQ(ev.id, V4L2_CID_CONTRAST);
	TAP_EQ(ev.sequence, 2);
	TAP_EQ(ev.u.ctrl.value, 30);
	TAP_EQ(ev.pending, 0);
	vg_core_close(a);
	vg_core_close(b);
}

struct ev_thread {
	struct vg_file *f;
	struct v4l2_event ev;
	int r;
	volatile bool done;
};

static void *ev_main(void *arg)
{
	struct ev_thread *t = arg;

	t->r = vg_core_ioctl(t->f, VIDIOC_DQEVENT, &t->ev, 0);
	t->done = true;
	return NULL;
}

static void test_blocking_dqevent(void)
{
	struct ev_thread t = { 0 };
	struct vg_file *b;
	pthread_t th;

	TAP_EQ(vg_core_open(env.c, &t.f), 0);
	TAP_EQ(vg_core_open(env.c, &b), 0);
	TAP_EQ(subscribe(t.f, V4L2_CID_SATURATION, 0), 0);
	TAP_EQ(pthread_create(&th, NULL, ev_main, &t), 0);
	usleep(100000);
	TAP_CHECK(!t.done, "DQEVENT should block");
	TAP_EQ(s_ctrl(b, V4L2_CID_SATURATION, 99), 0);
	pthread_join(th, NULL);
	TAP_EQ(t.r, 0);
	TAP_EQ(t.ev.id, V4L2_CID_SATURATION);
	vg_core_close(t.f);
	vg_core_close(b);
}

static void test_ctrl_emulation(void)
{
	struct v4l2_control c = { .id = V4L2_CID_BRIGHTNESS, .value = 300 };
	struct v4l2_ext_control xc[2] = { { .id = V4L2_CID_BRIGHTNESS },
					  { .id = V4L2_CID_TEST_PATTERN } };
	struct v4l2_ext_controls x = { .which = V4L2_CTRL_CLASS_USER,
				       .count = 2,
				       .controls = xc };
	struct vg_file *f;

	TAP_EQ(vg_core_open(env.c, &f), 0);
	/* S_CTRL gives back the value as set (the device clamps). */
	TAP_EQ(vg_core_ioctl(f, VIDIOC_S_CTRL, &c, 0), 0);
	TAP_EQ(c.value, 255);
	c.value = 0;
	TAP_EQ(vg_core_ioctl(f, VIDIOC_G_CTRL, &c, 0), 0);
	TAP_EQ(c.value, 255);
	/* Two classes in one call: the core refuses before the device. */
	TAP_EQ(vg_core_ioctl(f, VIDIOC_G_EXT_CTRLS, &x, 0), -EINVAL);
	TAP_EQ(x.error_idx, 2);
	TAP_EQ(vg_core_ioctl(f, VIDIOC_TRY_EXT_CTRLS, &x, 0), -EINVAL);
	TAP_EQ(x.error_idx, 1);
	x.count = 1;
	TAP_EQ(vg_core_ioctl(f, VIDIOC_G_EXT_CTRLS, &x, 0), 0);
	TAP_EQ(xc[0].value, 255);
	TAP_EQ(s_ctrl(f, V4L2_CID_BRIGHTNESS, 128), 0);
	vg_core_close(f);
}

static void test_userptr(void)
{
	struct v4l2_buffer b;
	struct gc_stream s;
	uint8_t *before;

	TAP_EQ(gc_stream_setup(&env, &s, V4L2_MEMORY_USERPTR, 2), 0);
	for (unsigned i = 0; i < 2; i++)
		memset(s.alloc[i], 0xa5, s.sizeimage + 3 * 4096u);
	TAP_EQ(gc_stream_on(&s, true), 0);
	TAP_EQ(gc_qbuf(&s, 0), 0);
	TAP_EQ(gc_dqbuf(&s, 0, &b), 0);
	TAP_EQ(b.m.userptr, (unsigned long)s.user[0]);
	TAP_EQ(gc_stamp(&s, 0), (long)b.sequence);
	before = s.user[0];
	TAP_CHECK(before[-1] == 0xa5 && before[s.sizeimage] == 0xa5,
		  "bytes around the buffer untouched");
	/* Memory the application cannot hand over: EINVAL, as Linux. */
	s.user[1] = (void *)(0x0eadb000ul + s.sizeimage);
	TAP_EQ(gc_qbuf(&s, 1), -EINVAL);
	s.user[1] = (void *)before; /* overlaps buffer 0: still fine */
	TAP_EQ(gc_qbuf(&s, 1), 0);
	TAP_EQ(gc_stream_on(&s, false), 0);
	gc_stream_close(&s);
}

/* vb2: a QBUF bringing no memory keeps what PREPARE_BUF took. */
static void test_userptr_prepared(void)
{
	struct v4l2_plane p[VIDEO_MAX_PLANES] = { { 0 } };
	struct v4l2_buffer b = { .index = 0, .memory = V4L2_MEMORY_USERPTR };
	struct gc_stream s;
	void *mem;

	TAP_EQ(gc_stream_setup(&env, &s, V4L2_MEMORY_USERPTR, 2), 0);
	mem = s.user[0];
	b.type = s.type;
	if (s.mp) {
		b.length = 1;
		b.m.planes = p;
		p[0].length = s.sizeimage;
		p[0].m.userptr = (unsigned long)mem;
	} else {
		b.length = s.sizeimage;
		b.m.userptr = (unsigned long)mem;
	}
	TAP_EQ(vg_core_ioctl(s.f, VIDIOC_PREPARE_BUF, &b, 0), 0);
	s.user[0] = NULL; /* the QBUF brings no memory */
	TAP_EQ(gc_qbuf(&s, 0), 0);
	TAP_EQ(gc_stream_on(&s, true), 0);
	TAP_EQ(gc_dqbuf(&s, 0, &b), 0);
	s.user[0] = mem;
	TAP_EQ(gc_stamp(&s, 0), (long)b.sequence);
	TAP_EQ(gc_stream_on(&s, false), 0);
	gc_stream_close(&s);
}

static void test_wait_api(void)
{
	struct vg_core_wait w = { 0 };
	int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	struct pollfd pfd[2];
	struct gc_stream s;
	int n;

	TAP_EQ(gc_stream_setup(&env, &s, V4L2_MEMORY_MMAP, 2), 0);
	TAP_EQ(gc_stream_on(&s, true), 0);
	vg_core_wait_arm(env.c, &w, efd);
	TAP_EQ(vg_core_poll(s.f, EPOLLIN), EPOLLERR);
	TAP_EQ(gc_qbuf(&s, 0), 0); /* its answer may bring the event */
	pfd[0] = (struct pollfd){ .fd = efd, .events = POLLIN };
	pfd[1] = (struct pollfd){ .fd = vg_core_irq_fd(env.c),
				  .events = POLLIN };
	n = poll(pfd, 2, 5000);
	vg_core_wait_disarm(&w);
	TAP_CHECK(n > 0, "woken before the timeout");
	TAP_EQ(vg_core_poll(s.f, EPOLLIN), EPOLLIN | EPOLLRDNORM);
	TAP_EQ(gc_stream_on(&s, false), 0);
	gc_stream_close(&s);
	close(efd);
}

/* The device fails a session that does not read its events. */
static void test_evt_error(void)
{
	struct vg_core_opts o = { 0 };
	struct v4l2_capability cap;
	struct gc_env e;
	struct gc_stream s;
	struct v4l2_buffer b;
	uint32_t input;

	if (gc_start(&e, "vcam:unpaced", "[limits]\nmax-events = 16\n", &o,
		     0)) {
		TAP_CHECK(0, "cannot start vmediad");
		gc_stop(&e);
		return;
	}
	TAP_EQ(gc_stream_setup(&e, &s, V4L2_MEMORY_MMAP, 8), 0);
	TAP_EQ(gc_stream_on(&s, true), 0);
	/*
	 * 24 frames nobody reads: the device fails the session past 16.
	 * A completed buffer is the guest's again for the device, so it
	 * can be queued again before its event was read.
	 */
	for (unsigned round = 0; round < 3; round++) {
		for (unsigned i = 0; i < 8; i++)
			gc_qbuf(&s, i);
		usleep(50000);
	}
	vg_core_lock(e.c);
	TAP_EQ(vg_media_set_event_buffers(&e.m, VG_MEDIA_EVENT_BUFS), 0);
	vg_core_unlock(e.c);
	usleep(100000);
	TAP_EQ(vg_core_poll(s.f, EPOLLIN), EPOLLERR);
	TAP_EQ(vg_core_ioctl(s.f, VIDIOC_G_INPUT, &input, 0), -EINVAL);
	TAP_EQ(gc_dqbuf(&s, 0, &b), -EINVAL);
	TAP_EQ(vg_core_ioctl(s.f, VIDIOC_QUERYCAP, &cap, 0), 0);
	gc_stream_close(&s);
	gc_stop(&e);
}

static void test_mplane(void)
{
	struct vg_core_opts o = { 0 };
	struct v4l2_plane p[VIDEO_MAX_PLANES];
	struct v4l2_buffer b;
	struct gc_stream s;
	struct gc_env e;

	TAP_EQ(gc_start(&e, "vcam:mplane,unpaced", NULL, &o,
			VG_MEDIA_EVENT_BUFS),
	       0);
	TAP_EQ(gc_stream_setup(&e, &s, V4L2_MEMORY_MMAP, 2), 0);
	TAP_EQ(gc_qbuf(&s, 0), 0);
	TAP_EQ(gc_stream_on(&s, true), 0);
	memset(&b, 0, sizeof(b));
	memset(p, 0, sizeof(p));
	b.type = s.type;
	b.memory = V4L2_MEMORY_MMAP;
	b.length = VIDEO_MAX_PLANES;
	b.m.planes = p;
	TAP_EQ(vg_core_ioctl(s.f, VIDIOC_DQBUF, &b, 0), 0);
	TAP_EQ(b.length, 1);
	TAP_CHECK(b.m.planes == p, "our planes array kept");
	TAP_EQ(p[0].bytesused, s.sizeimage);
	TAP_EQ(gc_stamp(&s, 0), (long)b.sequence);
	TAP_EQ(gc_stream_on(&s, false), 0);
	gc_stream_close(&s);
	gc_stop(&e);
}

int main(void)
{
	struct vg_core_opts o = { .allow_userptr = true };

	alarm(300); /* a lost wakeup must not hang make check */
	if (!getenv("VMEDIAD"))
		tap_skip_all("VMEDIAD is not set (run through make check)");
	if (gc_start(&env, "vcam:unpaced", NULL, &o, VG_MEDIA_EVENT_BUFS)) {
		printf("# cannot start vmediad\n");
		return 1;
	}
	tap_run("SUBSCRIBE(SEND_INITIAL): the event is there on return",
		test_send_initial);
	tap_run("events: one slot per subscription, guest sequence",
		test_event_order);
	tap_run("blocking DQEVENT woken by another file's S_CTRL",
		test_blocking_dqevent);
	tap_run("G/S_CTRL through ext controls; class check, error_idx",
		test_ctrl_emulation);
	tap_run("USERPTR bounced: frame in user memory, bad pointer EINVAL",
		test_userptr);
	tap_run("USERPTR: QBUF without memory keeps the prepared pages",
		test_userptr_prepared);
	tap_run("wait API: an armed waiter wakes for a DQBUF event",
		test_wait_api);
	gc_stop(&env);
	tap_run("EVT_ERROR closes the session; later ioctls fail",
		test_evt_error);
	tap_run("multi-planar capture through the core", test_mplane);
	return tap_done();
}
