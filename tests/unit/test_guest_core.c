/* SPDX-License-Identifier: MIT */
/*
 * The guest core (tools/guest/vg_core.h): the V4L2 core and virtio-media
 * guest driver semantics an application sees, on the real vmediad (vcam,
 * unpaced) over the test transport. One case per behaviour; the daemon
 * is shared where the cases do not disturb each other.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "guest_core_util.h"
#include "tap.h"
#include "vg_core_priv.h"

static struct gc_env env; /* vcam:unpaced, shared */

static void test_querycap(void)
{
	struct v4l2_capability cap;
	struct vg_file *f;

	TAP_EQ(vg_core_open(env.c, &f), 0);
	memset(&cap, 0xaa, sizeof(cap));
	TAP_EQ(vg_core_ioctl(f, VIDIOC_QUERYCAP, &cap, 0), 0);
	TAP_CHECK(!strcmp((char *)cap.driver, "virtio-media"), "driver %s",
		  cap.driver);
	TAP_CHECK(!strcmp((char *)cap.bus_info, "platform:virtio-media"),
		  "bus_info %s", cap.bus_info);
	TAP_CHECK(!memcmp(cap.card, env.m.config.card, sizeof(cap.card)),
		  "card from config space");
	TAP_EQ(cap.version, VG_CORE_DEFAULT_KERNEL);
	TAP_EQ(cap.device_caps,
	       env.m.config.device_caps | V4L2_CAP_EXT_PIX_FORMAT);
	TAP_EQ(cap.capabilities, env.m.config.device_caps |
					 V4L2_CAP_DEVICE_CAPS |
					 V4L2_CAP_EXT_PIX_FORMAT);
	vg_core_close(f);
}

static void test_enotty_untouched(void)
{
	/* Bogus numbers, and a TIME32 layout (another size): ENOTTY. */
	const unsigned long bogus[] = {
		_IOC(_IOC_READ | _IOC_WRITE, 'V', 0xff, 64),
		_IOC(_IOC_READ, 'V', 0, 0x3fff),
		_IOWR('V', 15, char[80]), /* QBUF's number, wrong size */
		0x5401,			  /* TCGETS: isatty() */
	};
	static uint8_t buf[0x4000];
	struct vg_file *f;

	TAP_EQ(vg_core_open(env.c, &f), 0);
	for (unsigned i = 0; i < sizeof(bogus) / sizeof(bogus[0]); i++) {
		memset(buf, 0x5a, sizeof(buf));
		TAP_EQ(vg_core_ioctl(f, bogus[i], buf, 0), -ENOTTY);
		for (size_t k = 0; k < sizeof(buf); k++) {
			if (buf[k] != 0x5a) {
				TAP_CHECK(0, "ioctl %lx touched byte %zu",
					  bogus[i], k);
				break;
			}
		}
	}
	/* Valid for no node: the driver has no op (EXPBUF, LOG_STATUS). */
	TAP_EQ(vg_core_ioctl(f, VIDIOC_LOG_STATUS, NULL, 0), -ENOTTY);
	vg_core_close(f);
}

static void test_efault(void)
{
	void *hole = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct vg_file *f;

	TAP_CHECK(hole != MAP_FAILED, "mmap");
	TAP_EQ(vg_core_open(env.c, &f), 0);
	TAP_EQ(vg_core_ioctl(f, VIDIOC_QUERYCAP, NULL, 0), -EFAULT);
	TAP_EQ(vg_core_ioctl(f, VIDIOC_QUERYCAP, (void *)16, 0), -EFAULT);
	TAP_EQ(vg_core_ioctl(f, VIDIOC_G_FMT, NULL, 0), -EFAULT);
	/* Readable, not writable: G_FMT runs, its answer cannot be stored. */
	((struct v4l2_format *)hole)->type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
	mprotect(hole, 4096, PROT_READ);
	TAP_EQ(vg_core_ioctl(f, VIDIOC_G_FMT, hole, 0), -EFAULT);
	TAP_EQ(vg_core_ioctl(f, VIDIOC_QUERYCAP, hole, 0), -EFAULT);
	munmap(hole, 4096);
	TAP_EQ(vg_core_ioctl(f, VIDIOC_G_FMT, hole, 0), -EFAULT);
	vg_core_close(f);
}

static void test_priority(void)
{
	uint32_t prio = V4L2_PRIORITY_RECORD, got = 0, input = 0;
	struct vg_file *a, *b;

	TAP_EQ(vg_core_open(env.c, &a), 0);
	TAP_EQ(vg_core_open(env.c, &b), 0);
	TAP_EQ(vg_core_ioctl(a, VIDIOC_S_PRIORITY, &prio, 0), 0);
	TAP_EQ(vg_core_ioctl(b, VIDIOC_G_PRIORITY, &got, 0), 0);
	TAP_EQ(got, V4L2_PRIORITY_RECORD);
	TAP_EQ(vg_core_ioctl(b, VIDIOC_S_INPUT, &input, 0), -EBUSY);
	TAP_EQ(vg_core_ioctl(a, VIDIOC_S_INPUT, &input, 0), 0);
	/* Read-only ioctls need no priority. */
	TAP_EQ(vg_core_ioctl(b, VIDIOC_G_INPUT, &input, 0), 0);
	/* S_PRIORITY itself is priority-checked, then the value. */
	prio = V4L2_PRIORITY_BACKGROUND;
	TAP_EQ(vg_core_ioctl(b, VIDIOC_S_PRIORITY, &prio, 0), -EBUSY);
	prio = 0;
	TAP_EQ(vg_core_ioctl(a, VIDIOC_S_PRIORITY, &prio, 0), -EINVAL);
	vg_core_close(a);
	TAP_EQ(vg_core_ioctl(b, VIDIOC_G_PRIORITY, &got, 0), 0);
	TAP_EQ(got, V4L2_PRIORITY_INTERACTIVE);
	TAP_EQ(vg_core_ioctl(b, VIDIOC_S_INPUT, &input, 0), 0);
	vg_core_close(b);
}

static void test_fmtdesc_and_crop(void)
{
	struct v4l2_fmtdesc d = { .type = V4L2_BUF_TYPE_VIDEO_CAPTURE };
	struct v4l2_cropcap cc = { .type = V4L2_BUF_TYPE_VIDEO_CAPTURE };
	bool yuyv = false;
	struct vg_file *f;

	TAP_EQ(vg_core_open(env.c, &f), 0);
	for (d.index = 0; vg_core_ioctl(f, VIDIOC_ENUM_FMT, &d, 0) == 0;
	     d.index++) {
		if (d.pixelformat == V4L2_PIX_FMT_YUYV)
			yuyv = !strcmp((char *)d.description, "YUYV 4:2:2");
	}
	TAP_CHECK(yuyv, "YUYV described as the kernel does");
	/* The other planarity is refused by the core, not the device. */
	d.type = V4L2_BUF_TYPE_VIDEO_CAPTURE_MPLANE;
	d.index = 0;
	TAP_EQ(vg_core_ioctl(f, VIDIOC_ENUM_FMT, &d, 0), -EINVAL);
	/* vcam has no selection: CROPCAP (via G_SELECTION) says so. */
	TAP_EQ(vg_core_ioctl(f, VIDIOC_CROPCAP, &cc, 0), -ENOTTY);
	vg_core_close(f);
}

static void test_reqbufs_caps(void)
{
	struct v4l2_requestbuffers rb = { .count = 0,
					  .type = V4L2_BUF_TYPE_VIDEO_CAPTURE,
					  .memory = V4L2_MEMORY_MMAP };
	struct vg_file *f;

	TAP_EQ(vg_core_open(env.c, &f), 0);
	TAP_EQ(vg_core_ioctl(f, VIDIOC_REQBUFS, &rb, 0), 0);
	TAP_CHECK(rb.capabilities & V4L2_BUF_CAP_SUPPORTS_MMAP, "MMAP");
	TAP_CHECK(!(rb.capabilities & (V4L2_BUF_CAP_SUPPORTS_USERPTR |
				       V4L2_BUF_CAP_SUPPORTS_DMABUF)),
		  "USERPTR/DMABUF masked: %x", rb.capabilities);
	rb.memory = V4L2_MEMORY_USERPTR;
	TAP_EQ(vg_core_ioctl(f, VIDIOC_REQBUFS, &rb, 0), -EINVAL);
	vg_core_close(f);
}

static void wait_frame(struct gc_stream *s)
{
	for (int i = 0; i < 200 && !(vg_core_poll(s->f, EPOLLIN) & EPOLLIN);
	     i++)
		usleep(5000);
}

static void test_poll_masks(void)
{
	struct gc_stream s;

	TAP_EQ(gc_stream_setup(&env, &s, V4L2_MEMORY_MMAP, 2), 0);
	/* Not streaming: POLLERR for capture, and for the (absent) output. */
	TAP_EQ(vg_core_poll(s.f, EPOLLIN | EPOLLERR), EPOLLERR);
	TAP_EQ(vg_core_poll(s.f, EPOLLOUT | EPOLLERR), EPOLLERR);
	/* Nothing asked: nothing reported (epoll with events 0). */
	TAP_EQ(vg_core_poll(s.f, EPOLLERR | EPOLLHUP), 0);
	TAP_EQ(gc_stream_on(&s, true), 0);
	/* Streaming with nothing queued or pending: still POLLERR. */
	TAP_EQ(vg_core_poll(s.f, EPOLLIN), EPOLLERR);
	TAP_EQ(gc_qbuf(&s, 0), 0);
	wait_frame(&s);
	TAP_EQ(vg_core_poll(s.f, EPOLLIN), EPOLLIN | EPOLLRDNORM);
	TAP_EQ(gc_stream_on(&s, false), 0);
	TAP_EQ(vg_core_poll(s.f, EPOLLIN), EPOLLERR);
	gc_stream_close(&s);
}

static void test_dqbuf_bookkeeping(void)
{
	struct v4l2_buffer b;
	struct gc_stream s;

	TAP_EQ(gc_stream_setup(&env, &s, V4L2_MEMORY_MMAP, 4), 0);
	/* Not streaming: blocking DQBUF refuses, non-blocking says EAGAIN. */
	TAP_EQ(gc_dqbuf(&s, 0, &b), -EINVAL);
	TAP_EQ(gc_dqbuf(&s, O_NONBLOCK, &b), -EAGAIN);
	for (unsigned i = 0; i < 4; i++)
		TAP_EQ(gc_qbuf(&s, i), 0);
	TAP_EQ(s.f->q[s.type].queued, 4);
	TAP_EQ(gc_stream_on(&s, true), 0);
	for (unsigned i = 0; i < 4; i++) {
		long seq;

		TAP_EQ(gc_dqbuf(&s, 0, &b), 0);
		/* Completion order, DONE cleared, the frame in our map. */
		TAP_EQ(b.index, i);
		TAP_CHECK(!(b.flags &
			    (V4L2_BUF_FLAG_DONE | V4L2_BUF_FLAG_QUEUED)),
			  "flags %x", b.flags);
		seq = gc_stamp(&s, b.index);
		TAP_EQ(seq, (long)b.sequence);
	}
	TAP_EQ(s.f->q[s.type].queued, 0);
	TAP_EQ(gc_dqbuf(&s, O_NONBLOCK, &b), -EAGAIN);
	TAP_EQ(gc_stream_on(&s, false), 0);
	gc_stream_close(&s);
}

static void test_querybuf_done(void)
{
	struct v4l2_buffer b = { .index = 0, .memory = V4L2_MEMORY_MMAP };
	struct v4l2_plane p[VIDEO_MAX_PLANES] = { { 0 } };
	struct gc_stream s;

	TAP_EQ(gc_stream_setup(&env, &s, V4L2_MEMORY_MMAP, 2), 0);
	b.type = s.type;
	b.length = s.mp ? 1 : 0;
	b.m.planes = s.mp ? p : NULL;
	TAP_EQ(gc_stream_on(&s, true), 0);
	TAP_EQ(gc_qbuf(&s, 0), 0);
	wait_frame(&s);
	/* Waiting in our pending list: DONE, not QUEUED. */
	TAP_EQ(vg_core_ioctl(s.f, VIDIOC_QUERYBUF, &b, 0), 0);
	TAP_CHECK((b.flags & V4L2_BUF_FLAG_DONE) &&
			  !(b.flags & V4L2_BUF_FLAG_QUEUED),
		  "flags %x", b.flags);
	TAP_EQ(gc_stream_on(&s, false), 0);
	gc_stream_close(&s);
}

/* ---- blocking DQBUF from another thread ---- */

struct dq_thread {
	struct gc_stream *s;
	int r;
	struct v4l2_buffer b;
	volatile bool done;
};

static void *dq_main(void *arg)
{
	struct dq_thread *t = arg;

	t->r = gc_dqbuf(t->s, 0, &t->b);
	t->done = true;
	return NULL;
}

static void on_usr1(int sig)
{
	(void)sig;
}

static void start_blocked(struct gc_stream *s, struct dq_thread *t,
			  pthread_t *th)
{
	*t = (struct dq_thread){ .s = s };
	TAP_EQ(pthread_create(th, NULL, dq_main, t), 0);
	usleep(100000);
	TAP_CHECK(!t->done, "DQBUF should block");
}

static void test_blocking_dqbuf_event(void)
{
	struct dq_thread t;
	struct gc_stream s;
	pthread_t th;

	TAP_EQ(gc_stream_setup(&env, &s, V4L2_MEMORY_MMAP, 2), 0);
	TAP_EQ(gc_stream_on(&s, true), 0);
	start_blocked(&s, &t, &th);
	/* The lock is free while it sleeps: QBUF goes through. */
	TAP_EQ(gc_qbuf(&s, 1), 0);
	pthread_join(th, NULL);
	TAP_EQ(t.r, 0);
	TAP_EQ(t.b.index, 1);
	TAP_EQ(gc_stream_on(&s, false), 0);
	gc_stream_close(&s);
}

static void test_blocking_dqbuf_eintr(void)
{
	struct sigaction sa = { .sa_handler = on_usr1 }, old;
	struct dq_thread t;
	struct gc_stream s;
	pthread_t th;

	sigaction(SIGUSR1, &sa, &old); /* no SA_RESTART */
	TAP_EQ(gc_stream_setup(&env, &s, V4L2_MEMORY_MMAP, 2), 0);
	TAP_EQ(gc_stream_on(&s, true), 0);
	start_blocked(&s, &t, &th);
	pthread_kill(th, SIGUSR1);
	pthread_join(th, NULL);
	TAP_EQ(t.r, -EINTR);
	TAP_EQ(gc_stream_on(&s, false), 0);
	gc_stream_close(&s);
	sigaction(SIGUSR1, &old, NULL);
}

static void test_blocking_dqbuf_streamoff(void)
{
	struct dq_thread t;
	struct gc_stream s;
	pthread_t th;

	TAP_EQ(gc_stream_setup(&env, &s, V4L2_MEMORY_MMAP, 2), 0);
	TAP_EQ(gc_stream_on(&s, true), 0);
	start_blocked(&s, &t, &th);
	TAP_EQ(gc_stream_on(&s, false), 0);
	pthread_join(th, NULL);
	TAP_EQ(t.r, -EINVAL);
	gc_stream_close(&s);
}

/* A LAST buffer (injected: vcam never sends one) makes DQBUF EPIPE. */
static void test_epipe_after_last(void)
{
	struct v4l2_buffer b;
	struct v4l2_plane planes[VIDEO_MAX_PLANES] = { { 0 } };
	struct gc_stream s;

	TAP_EQ(gc_stream_setup(&env, &s, V4L2_MEMORY_MMAP, 2), 0);
	TAP_EQ(gc_qbuf(&s, 0), 0); /* queued, not streaming: kept */
	b = (struct v4l2_buffer){ .index = 0,
				  .type = s.type,
				  .memory = V4L2_MEMORY_MMAP,
				  .flags = V4L2_BUF_FLAG_LAST,
				  .length = s.mp ? 1 : s.sizeimage };
	vg_core_lock(env.c);
	vg_buf_event(s.f, &b, planes);
	vg_core_unlock(env.c);
	TAP_EQ(gc_dqbuf(&s, O_NONBLOCK, &b), 0);
	TAP_CHECK(b.flags & V4L2_BUF_FLAG_LAST, "LAST kept");
	TAP_EQ(gc_dqbuf(&s, O_NONBLOCK, &b), -EPIPE);
	TAP_EQ(gc_dqbuf(&s, 0, &b), -EPIPE);
	/* STREAMOFF clears it. */
	TAP_EQ(gc_stream_on(&s, false), 0);
	TAP_EQ(gc_dqbuf(&s, O_NONBLOCK, &b), -EAGAIN);
	/* An event for a buffer that is not queued is dropped. */
	b.flags = 0;
	vg_core_lock(env.c);
	vg_buf_event(s.f, &b, planes);
	vg_core_unlock(env.c);
	TAP_EQ(gc_dqbuf(&s, O_NONBLOCK, &b), -EAGAIN);
	gc_stream_close(&s);
}

static void test_mmap(void)
{
	struct v4l2_buffer b = { .index = 0, .memory = V4L2_MEMORY_MMAP };
	struct v4l2_plane p[VIDEO_MAX_PLANES] = { { 0 } };
	struct gc_stream s;
	uint32_t off;
	void *m;

	TAP_EQ(gc_stream_setup(&env, &s, V4L2_MEMORY_MMAP, 2), 0);
	b.type = s.type;
	b.length = s.mp ? 1 : 0;
	b.m.planes = s.mp ? p : NULL;
	TAP_EQ(vg_core_ioctl(s.f, VIDIOC_QUERYBUF, &b, 0), 0);
	off = s.mp ? p[0].m.mem_offset : b.m.offset;
	TAP_EQ(vg_core_mmap(s.f, NULL, s.sizeimage, PROT_READ, MAP_PRIVATE, off,
			    &m),
	       -EINVAL);
	TAP_EQ(vg_core_mmap(s.f, NULL, s.sizeimage, PROT_READ, MAP_SHARED,
			    off + 0xdeadbeef, &m),
	       -EINVAL);
	TAP_EQ(vg_core_mmap(s.f, NULL, s.sizeimage + (1u << 20), PROT_READ,
			    MAP_SHARED, off, &m),
	       -EINVAL);
	TAP_EQ(gc_stream_on(&s, true), 0);
	TAP_EQ(gc_qbuf(&s, 0), 0);
	TAP_EQ(gc_dqbuf(&s, 0, &b), 0);
	TAP_EQ(gc_stamp(&s, 0), (long)b.sequence);
	/* A range that is not ours is left alone. */
	TAP_EQ(vg_core_munmap(env.c, &b, sizeof(b)), 0);
	TAP_EQ(vg_core_munmap(env.c, s.map[0], s.sizeimage), 1);
	s.map[0] = NULL;
	TAP_EQ(gc_stream_on(&s, false), 0);
	gc_stream_close(&s);
}

static void test_fork_fences(void)
{
	struct vg_file *f;
	uint32_t input;
	pid_t pid;
	int status = -1;

	TAP_EQ(vg_core_open(env.c, &f), 0);
	pid = fork();
	if (pid == 0)
		_exit(vg_core_ioctl(f, VIDIOC_G_INPUT, &input, 0) == -EIO ? 0
									  : 1);
	TAP_CHECK(pid > 0, "fork");
	waitpid(pid, &status, 0);
	TAP_CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		  "the child's ioctl must fail with EIO");
	/* The parent goes on. */
	TAP_EQ(vg_core_ioctl(f, VIDIOC_G_INPUT, &input, 0), 0);
	vg_core_close(f);
}

int main(void)
{
	struct vg_core_opts o = { .verbose = false };
	int r;

	alarm(300); /* a lost wakeup must not hang make check */
	if (!getenv("VMEDIAD"))
		tap_skip_all("VMEDIAD is not set (run through make check)");
	r = gc_start(&env, "vcam:unpaced", NULL, &o, VG_MEDIA_EVENT_BUFS);
	if (r) {
		printf("# cannot start vmediad: %s\n", strerror(-r));
		return 1;
	}
	tap_run("QUERYCAP comes from the config space", test_querycap);
	tap_run("unknown ioctls: ENOTTY, argument untouched",
		test_enotty_untouched);
	tap_run("NULL, wild and read-only pointers: EFAULT", test_efault);
	tap_run("priority: RECORD holds off the others", test_priority);
	tap_run("ENUM_FMT descriptions are the kernel's; CROPCAP via selection",
		test_fmtdesc_and_crop);
	tap_run("REQBUFS masks USERPTR and DMABUF by default",
		test_reqbufs_caps);
	tap_run("poll masks follow virtio_media_device_poll", test_poll_masks);
	tap_run("DQBUF: completion order, DONE, queued count",
		test_dqbuf_bookkeeping);
	tap_run("QUERYBUF shows DONE for a pending buffer", test_querybuf_done);
	tap_run("blocking DQBUF woken by an event, lock free meanwhile",
		test_blocking_dqbuf_event);
	tap_run("blocking DQBUF: EINTR on a signal", test_blocking_dqbuf_eintr);
	tap_run("blocking DQBUF: STREAMOFF wakes it with EINVAL",
		test_blocking_dqbuf_streamoff);
	tap_run("EPIPE after a LAST buffer until STREAMOFF",
		test_epipe_after_last);
	tap_run("mmap through CMD_MMAP, munmap through CMD_MUNMAP", test_mmap);
	tap_run("fork: the child's calls fail with EIO", test_fork_fences);
	gc_stop(&env);
	return tap_done();
}
