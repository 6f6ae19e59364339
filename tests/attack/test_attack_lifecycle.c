/* SPDX-License-Identifier: MIT */
/*
 * Attacks on the guest's lifecycle: resets in the middle of a stream,
 * guests that vanish with commands in flight or are killed holding all
 * they can hold, connections left half-open, a guest that stops reading
 * its socket, and a guest that refills its command queue as fast as the
 * device drains it. The daemon's fds come back to where they were each
 * time, the guest's own accesses keep being answered, and SIGTERM still
 * ends the daemon promptly.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/virtio_config.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "atk.h"
#include "atk_ring.h"
#include "tap.h"
#include "vmedia/testbus_wire.h"
#include "vmedia/virtio_media_wire.h"

#define RAM_SIZE  (60ull << 20)
#define OTHER_RAM (20ull << 20)
#define SP	  0u /* vcam:unpaced */
#define MP	  1u /* vcam:mplane,unpaced */
/* A device may serve a batch before it looks at its socket again. */
#define MMIO_LATENCY_MAX_MS 2000
#define SIGTERM_EXIT_MAX_MS 3000
#define FLOOD_CTRLS	    4

static struct vg_media sp;

/* Streaming on both devices, MMAP and USERPTR, then STATUS = 0. */
static void test_reset_mid_stream(void)
{
	struct vg_capture_params p = { .fourcc = V4L2_PIX_FMT_YUYV,
				       .width = 320,
				       .height = 240,
				       .memory = V4L2_MEMORY_MMAP,
				       .nbufs = 4 };
	struct vg_capture c1, c2;
	struct vg_media mp;
	unsigned idx;
	uint32_t seq;
	uint64_t ts;

	TAP_EQ(atk_media_up(&mp, MP), 0);
	TAP_EQ(vg_capture_start(&c1, &sp, &p), 0);
	p.memory = V4L2_MEMORY_USERPTR;
	p.fourcc = V4L2_PIX_FMT_NV12;
	TAP_EQ(vg_capture_start(&c2, &mp, &p), 0);
	TAP_EQ(vg_capture_next(&c1, ATK_TIMEOUT_MS, &idx, &seq, &ts), 0);
	TAP_EQ(vg_capture_next(&c2, ATK_TIMEOUT_MS, &idx, &seq, &ts), 0);
	/* Buffers queued, mapped, events in flight: reset both devices. */
	TAP_EQ(vg_virtio_reset(&sp.dev), 0);
	TAP_EQ(vg_virtio_reset(&mp.dev), 0);
	for (unsigned i = 0; i < 4; i++)
		vg_ram_free(&atk_g.ram, &c2.user[i]);
	c1.m = c2.m = NULL; /* that driver state died with the reset */
	vg_media_fini(&sp);
	vg_media_fini(&mp);
	/* Reused: both devices stream again, big buffers fit again. */
	TAP_EQ(atk_media_up(&sp, SP), 0);
	TAP_EQ(atk_media_up(&mp, MP), 0);
	TAP_EQ(atk_capture_frames(&sp, V4L2_MEMORY_USERPTR, 4), 0);
	TAP_EQ(atk_capture_frames(&mp, V4L2_MEMORY_MMAP, 4), 0);
	{
		uint32_t s = atk_open(&sp);

		atk_set_fmt(&sp, s, 3840, 2160);
		TAP_EQ(atk_reqbufs(&sp, s, V4L2_MEMORY_MMAP, 32), 32);
		TAP_EQ(vg_media_close(&sp, s), 0);
	}
	vg_media_fini(&mp);
}

/* Another guest posts commands, kicks, and closes at once. */
static void test_close_with_commands_in_flight(void)
{
	long fds0 = atk_daemon_fds();
	struct virtio_media_cmd_header open = { .cmd = VIRTIO_MEDIA_CMD_OPEN };

	for (unsigned round = 0; round < 20; round++) {
		struct atk_guest g2;
		struct atk_rdev r;
		struct atk_rq *q = &r.q[0];

		TAP_EQ(atk_guest_connect(&atk_d, &g2, OTHER_RAM), 0);
		TAP_EQ(atk_rdev_up(&r, g2.t, &g2.ram, round % 2, 0, 64), 0);
		memcpy(atk_rbuf(&r, 0), &open, sizeof(open));
		for (uint16_t i = 0; i < 32; i++) {
			atk_rq_desc(q, 2 * i, atk_rbuf_gpa(&r, 0), 8,
				    VRING_DESC_F_NEXT, 2 * i + 1);
			atk_rq_desc(q, 2 * i + 1,
				    atk_rbuf_gpa(&r, 4096 + 16u * i), 16,
				    VRING_DESC_F_WRITE, 0);
			atk_rq_post(q, 2 * i);
		}
		/* Half the rounds kick first: the batch is being served. */
		if (round % 2)
			atk_rq_kick(q);
		atk_guest_close(&g2); /* without a reset: just gone */
	}
	atk_check_fds_back(fds0, "20 guests gone with commands in flight");
}

/* A child process: everything a guest can hold, then SIGKILL. */
static void hold_everything(int ready_fd)
{
	struct atk_guest g;
	struct vg_media m, hungry;
	struct vg_capture c;
	struct vg_capture_params p = { .fourcc = V4L2_PIX_FMT_YUYV,
				       .width = 640,
				       .height = 480,
				       .memory = V4L2_MEMORY_USERPTR,
				       .nbufs = 8 };
	uint32_t s;
	char ok = 1;

	if (atk_guest_connect(&atk_d, &g, OTHER_RAM) ||
	    vg_media_init(&m, g.t, &g.ram, MP) ||
	    vg_media_init_events(&hungry, g.t, &g.ram, SP, 0))
		_exit(1);
	p.fourcc = V4L2_PIX_FMT_NV12;
	if (vg_capture_start(&c, &m, &p))
		_exit(2);
	/* Orphaned mappings and piled-up events on the other device. */
	s = atk_open(&hungry);
	if (atk_reqbufs(&hungry, s, V4L2_MEMORY_MMAP, 4) != 4)
		_exit(3);
	for (uint32_t i = 0; i < 4; i++) {
		uint32_t off = 0;
		uint64_t addr, len;

		atk_querybuf_off(&hungry, s, i, &off);
		vg_media_mmap(&hungry, s, 0, off, &addr, &len);
		atk_qbuf_mmap(&hungry, s, i);
	}
	atk_stream(&hungry, s, true);
	(void)!write(ready_fd, &ok, 1);
	for (;;) {
		unsigned idx;
		uint32_t seq;
		uint64_t ts;

		if (vg_capture_next(&c, ATK_TIMEOUT_MS, &idx, &seq, &ts) == 0)
			vg_capture_requeue(&c, idx);
	}
}

static void test_killed_holding_everything(void)
{
	long fds0 = atk_daemon_fds();

	for (unsigned round = 0; round < 5; round++) {
		int p[2];
		char ok = 0;
		pid_t child;

		TAP_EQ(pipe(p), 0);
		child = fork();
		if (child == 0) {
			close(p[0]);
			hold_everything(p[1]);
		}
		close(p[1]);
		TAP_CHECK(read(p[0], &ok, 1) == 1 && ok == 1,
			  "child guest did not come up");
		close(p[0]);
		atk_sleep_ms(round * 7);
		kill(child, SIGKILL);
		waitpid(child, NULL, 0);
	}
	atk_check_fds_back(fds0, "5 guests killed holding everything");
}

static int raw_connect(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", atk_d.sock);
	if (s >= 0 && connect(s, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(s);
		return -1;
	}
	return s;
}

#define MAX_SEND_FDS 250 /* SCM_MAX_FD is 253 */

/* One message with n fds attached; true when it went. */
static bool send_fds(int s, const struct testbus_msg *m, const int *fds,
		     unsigned n)
{
	static union {
		char buf[CMSG_SPACE(sizeof(int) * MAX_SEND_FDS)];
		struct cmsghdr align;
	} cbuf;
	struct iovec iov = { .iov_base = (void *)m, .iov_len = sizeof(*m) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *c;

	if (n) {
		mh.msg_control = cbuf.buf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * n);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * n);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * n);
	}
	return sendmsg(s, &mh, MSG_NOSIGNAL) == sizeof(*m);
}

static int sealed_memfd(void)
{
	int fd = memfd_create("raw-ram", MFD_CLOEXEC | MFD_ALLOW_SEALING);

	if (fd >= 0 && (ftruncate(fd, 1u << 20) < 0 ||
			fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK) < 0)) {
		close(fd);
		fd = -1;
	}
	return fd;
}

static const struct testbus_msg hello = { .type = TESTBUS_HELLO,
					  .addr = VG_RAM_BASE,
					  .value = 1u << 20,
					  .version = TESTBUS_VERSION };

/* HELLO with a sealed memfd, DEVICE messages (fds closed) up to READY. */
static bool raw_handshake(int s)
{
	struct testbus_msg m;
	union {
		char buf[CMSG_SPACE(sizeof(int) * 4)];
		struct cmsghdr align;
	} cbuf;
	struct iovec iov = { .iov_base = &m, .iov_len = sizeof(m) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	int fd = sealed_memfd();
	struct cmsghdr *c;
	bool ok = fd >= 0 && send_fds(s, &hello, &fd, 1);

	if (fd >= 0)
		close(fd);
	mh.msg_control = cbuf.buf;
	while (ok) {
		mh.msg_controllen = sizeof(cbuf.buf);
		ok = recvmsg(s, &mh, MSG_CMSG_CLOEXEC) == sizeof(m);
		for (c = CMSG_FIRSTHDR(&mh); ok && c; c = CMSG_NXTHDR(&mh, c))
			for (size_t i = 0;
			     i < (c->cmsg_len - CMSG_LEN(0)) / sizeof(int); i++)
				close(((int *)CMSG_DATA(c))[i]);
		if (ok && m.type == TESTBUS_READY)
			return true;
		ok = ok && m.type == TESTBUS_DEVICE;
	}
	return false;
}

/* Connections that stop half-way, and a guest that never reads. */
static void test_half_open_and_deaf_guests(void)
{
	struct testbus_msg rd = { .type = TESTBUS_READ,
				  .size = 4,
				  .addr = TESTBUS_MMIO_BASE };
	long fds0 = atk_daemon_fds();
	struct atk_guest g2;
	int s[40];
	int deaf;

	for (unsigned i = 0; i < 40; i++)
		s[i] = raw_connect();
	for (unsigned i = 0; i < 40; i++)
		if (s[i] >= 0)
			close(s[i]);
	/* A real guest that floods accesses and never reads an answer. */
	TAP_EQ(atk_guest_connect(&atk_d, &g2, OTHER_RAM), 0);
	deaf = raw_connect();
	TAP_CHECK(deaf >= 0 && raw_handshake(deaf), "deaf guest handshake");
	for (unsigned i = 0; deaf >= 0 && i < 20000; i++)
		if (send(deaf, &rd, sizeof(rd), MSG_DONTWAIT | MSG_NOSIGNAL) <
		    0)
			break;
	atk_sleep_ms(200);
	if (deaf >= 0)
		close(deaf);
	atk_guest_close(&g2);
	atk_check_fds_back(fds0, "40 half-open and one deaf guest");
}

/* Peers that hand the daemon fds it never asked for: none may stick. */
static void test_messages_carrying_fds(void)
{
	static int fds[MAX_SEND_FDS];
	struct testbus_msg rd = { .type = TESTBUS_READ,
				  .size = 4,
				  .addr = TESTBUS_MMIO_BASE };
	long fds0 = atk_daemon_fds();
	int s;

	fds[0] = sealed_memfd();
	for (unsigned i = 1; i < MAX_SEND_FDS; i++)
		fds[i] = open("/dev/null", O_RDONLY | O_CLOEXEC);
	for (unsigned round = 0; round < 20; round++) {
		/* HELLO with 8 fds, with 250 (more than the daemon reads)... */
		s = raw_connect();
		TAP_CHECK(s >= 0 && send_fds(s, &hello, fds, 8), "send 8");
		close(s);
		s = raw_connect();
		TAP_CHECK(s >= 0 && send_fds(s, &hello, fds, MAX_SEND_FDS),
			  "send 250");
		close(s);
		/* ...and an access with 3 fds after a good HELLO. */
		s = raw_connect();
		TAP_CHECK(s >= 0 && raw_handshake(s) &&
				  send_fds(s, &rd, fds, 3),
			  "access with fds");
		atk_sleep_ms(1);
		close(s);
	}
	for (unsigned i = 0; i < MAX_SEND_FDS; i++)
		close(fds[i]);
	atk_check_fds_back(fds0, "60 peers sent 5220 fds");
}

/* ---- a guest that never lets its command queue run dry ------------------ */

struct flood {
	struct atk_rdev r;
	struct vg_mem payload;
	pthread_t thread;
	atomic_bool stop;
	int64_t until;
	_Atomic unsigned long posted;
};

static struct flood fl;

/*
 * G_EXT_CTRLS of four 1 MiB payloads: milliseconds of copying for the
 * device, nanoseconds of refilling for the guest.
 */
static int flood_setup(void)
{
	struct virtio_media_cmd_header open = { .cmd = VIRTIO_MEDIA_CMD_OPEN };
	struct virtio_media_cmd_ioctl cmd = { .hdr.cmd = VIRTIO_MEDIA_CMD_IOCTL,
					      .code = _IOC_NR(
						      VIDIOC_G_EXT_CTRLS) };
	struct v4l2_ext_controls c = { .which = V4L2_CTRL_WHICH_CUR_VAL,
				       .count = FLOOD_CTRLS };
	struct vring_used_elem e;
	uint8_t *p;
	int r = atk_rdev_up(&fl.r, atk_g.t, &atk_g.ram, SP, 0, 16);

	if (r == 0)
		r = vg_ram_alloc(&atk_g.ram, 1u << 20, &fl.payload);
	if (r == 0)
		r = atk_rdev_call(&fl.r, &open, sizeof(open), 16, &e);
	if (r < 0)
		return r;
	memcpy(&cmd.session_id, (uint8_t *)atk_rbuf(&fl.r, 4096) + 8, 4);
	p = atk_rbuf(&fl.r, 0);
	memcpy(p, &cmd, 16);
	memcpy(p + 16, &c, 32);
	for (unsigned i = 0; i < FLOOD_CTRLS; i++) {
		struct v4l2_ext_control x = { .id = V4L2_CID_BRIGHTNESS,
					      .size = 1u << 20 };
		struct {
			uint64_t start;
			uint32_t len, pad;
		} sg = { fl.payload.gpa, 1u << 20, 0 };

		memcpy(p + 48 + 20 * i, &x, 20);
		memcpy(p + 48 + 20 * FLOOD_CTRLS + 16 * i, &sg, 16);
	}
	atk_rq_desc(&fl.r.q[0], 0, atk_rbuf_gpa(&fl.r, 0),
		    48 + 36 * FLOOD_CTRLS, VRING_DESC_F_NEXT, 1);
	atk_rq_desc(&fl.r.q[0], 1, atk_rbuf_gpa(&fl.r, 4096),
		    8 + 32 + 20 * FLOOD_CTRLS, VRING_DESC_F_WRITE, 0);
	return 0;
}

/* Another vCPU: the ring stays full until `until` (or stop). */
static void *refiller(void *arg)
{
	struct atk_rq *q = &fl.r.q[0];

	(void)arg;
	while (!atomic_load(&fl.stop) && atk_now_ms() < fl.until) {
		uint16_t used = atk_rq_used_idx(q);

		while ((uint16_t)(q->avail_idx - used) < q->num) {
			atk_rq_post(q, 0);
			atomic_fetch_add(&fl.posted, 1);
		}
	}
	return NULL;
}

static bool flood_start(int ms)
{
	memset(&fl, 0, sizeof(fl));
	if (flood_setup() != 0)
		return false;
	fl.until = atk_now_ms() + ms;
	if (pthread_create(&fl.thread, NULL, refiller, NULL) != 0)
		return false;
	/* One kick, once the ring is full: the device takes it from there. */
	while (atomic_load(&fl.posted) < fl.r.q[0].num)
		atk_sleep_ms(1);
	atk_rq_kick(&fl.r.q[0]);
	return true;
}

static void flood_end(void)
{
	atomic_store(&fl.stop, true);
	pthread_join(fl.thread, NULL);
	vg_ram_free(&atk_g.ram, &fl.payload);
}

static void test_flood_mmio_latency(void)
{
	int64_t t0, latency;
	uint32_t st;

	TAP_CHECK(flood_start(6000), "flood setup");
	atk_sleep_ms(300);
	/* The guest's own next access must not wait for the flood's end. */
	t0 = atk_now_ms();
	st = atk_rdev_status(&fl.r);
	latency = atk_now_ms() - t0;
	tap_diag("STATUS %#x read in %lld ms, %lu commands posted, %u done", st,
		 (long long)latency, atomic_load(&fl.posted),
		 atk_rq_used_idx(&fl.r.q[0]));
	TAP_CHECK(latency < MMIO_LATENCY_MAX_MS,
		  "an MMIO access waited %lld ms behind the command queue",
		  (long long)latency);
	flood_end();
	atk_rdev_down(&fl.r);
	TAP_EQ(atk_rdev_up(&fl.r, atk_g.t, &atk_g.ram, SP, 0, 16), 0);
	TAP_EQ(atk_rdev_roundtrip(&fl.r), 0);
	atk_rdev_down(&fl.r);
}

/* Last case: SIGTERM while a guest floods; the daemon must still go. */
static void test_sigterm_during_flood(void)
{
	struct atk_mark m;
	int64_t t0;
	int status;

	atk_witness_mark(&m);
	TAP_CHECK(flood_start(10000), "flood setup");
	atk_sleep_ms(300);
	atk_witness_check(&m, "while a guest floods its command queue");
	atk_witness_stop();
	t0 = atk_now_ms();
	status = atk_daemon_stop(&atk_d, SIGTERM_EXIT_MAX_MS);
	tap_diag("SIGTERM to exit: %lld ms", (long long)(atk_now_ms() - t0));
	TAP_CHECK(status != -1, "vmediad still running %d ms after SIGTERM",
		  SIGTERM_EXIT_MAX_MS);
	flood_end();
	if (status == -1) /* let it finish, for the final check */
		atk_daemon_stop(&atk_d, ATK_TIMEOUT_MS);
}

int main(void)
{
	static const char *const args[] = { "--device", "vcam:unpaced",
					    "--device", "vcam:mplane,unpaced",
					    NULL };

	atk_suite_start(args, RAM_SIZE);
	if (atk_media_up(&sp, SP)) {
		printf("Bail out! attacker device did not come up\n");
		return 1;
	}
	atk_run("reset mid-stream (MMAP + USERPTR, two devices), then reuse",
		test_reset_mid_stream);
	atk_run("20 guests close their socket with 32 commands in flight: "
		"fds back",
		test_close_with_commands_in_flight);
	atk_run("5 guest processes SIGKILLed holding streams, orphans, "
		"pending events: fds back",
		test_killed_holding_everything);
	atk_run("40 half-open connections and a guest that never reads its "
		"answers: fds back",
		test_half_open_and_deaf_guests);
	atk_run("HELLOs with 8 and 250 fds, an access with 3 fds, 20 times: "
		"every fd closed",
		test_messages_carrying_fds);
	vg_media_fini(&sp);
	atk_run("command queue kept full by another vCPU: the guest's MMIO "
		"access is answered within 2 s",
		test_flood_mmio_latency);
	atk_run("SIGTERM while a guest keeps its command queue full: vmediad "
		"exits within 3 s",
		test_sigterm_during_flood);
	return atk_suite_end();
}
