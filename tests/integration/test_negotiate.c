/* SPDX-License-Identifier: MIT */
/*
 * The real vmediad, driven by the userspace guest driver over the test
 * transport: probe, negotiate, queues, one command, several guests, and
 * guests that break the protocol or vanish. The daemon runs as a child
 * process ($VMEDIAD) and is always killed at the end.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/videodev2.h>
#include <linux/virtio_config.h>
#include <linux/virtio_mmio.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tap.h"
#include "vg_ram.h"
#include "vg_transport.h"
#include "vg_virtio.h"
#include "vg_vring.h"
#include "vmedia/testbus_wire.h"
#include "vmedia/virtio_media_wire.h"
#include "vmedia/virtio_mmio.h"

/* Generous: sanitizer builds of the daemon are slow to start and serve. */
#define TIMEOUT_MS  30000
#define RAM_SIZE    (4u << 20)
#define NUM_DEVICES 2u
#define QUEUE_SIZE  16u
#define MAX_GUESTS  4u
#define CARD	    "vmedia virtual camera"
#define CAPS	    (V4L2_CAP_VIDEO_CAPTURE | V4L2_CAP_STREAMING)

/* One guest driven through the library. */
struct tguest {
	struct vg_transport *t;
	struct vg_ram ram;
	struct vg_virtio dev;
	struct vg_vring vq[VIRTIO_MEDIA_NUM_QUEUES];
	unsigned nvq;
};

static pid_t daemon_pid = -1;
static char tmpdir[64];
static char sock_path[96];
static struct tguest g1; /* the guest the cases build up step by step */

/* ---- the daemon process ------------------------------------------------ */

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void pause_ms(long ms)
{
	struct timespec ts = { .tv_sec = ms / 1000,
			       .tv_nsec = (ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

static bool daemon_alive(void)
{
	int status;

	return daemon_pid > 0 && waitpid(daemon_pid, &status, WNOHANG) == 0;
}

/* Wait for the daemon to exit; its wait status, or -1 on timeout. */
static int daemon_wait_exit(int timeout_ms)
{
	int64_t deadline = now_ms() + timeout_ms;
	int status;

	while (now_ms() < deadline) {
		pid_t r = waitpid(daemon_pid, &status, WNOHANG);

		if (r == daemon_pid) {
			daemon_pid = -1;
			return status;
		}
		if (r < 0)
			return -1;
		pause_ms(10);
	}
	return -1;
}

static void cleanup(void)
{
	if (daemon_pid > 0) {
		kill(daemon_pid, SIGKILL);
		waitpid(daemon_pid, NULL, 0);
		daemon_pid = -1;
	}
	if (sock_path[0])
		unlink(sock_path);
	if (tmpdir[0])
		rmdir(tmpdir);
}

static void start_daemon(const char *vmediad)
{
	char devices[8], max[8];

	snprintf(devices, sizeof(devices), "%u", NUM_DEVICES);
	snprintf(max, sizeof(max), "%u", MAX_GUESTS);
	tap_diag("%s --test-socket %s --foreground --devices %s "
		 "--max-guests %s",
		 vmediad, sock_path, devices, max);
	daemon_pid = fork();
	if (daemon_pid == 0) {
		/* Never outlive the test, whatever happens to it. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		execl(vmediad, "vmediad", "--test-socket", sock_path,
		      "--foreground", "--devices", devices, "--max-guests", max,
		      (char *)NULL);
		fprintf(stderr, "cannot run %s: %s\n", vmediad,
			strerror(errno));
		_exit(127);
	}
}

/* ---- guests through the library ---------------------------------------- */

/* Connect, retrying while the daemon is still creating its socket. */
static int connect_guest(struct tguest *g)
{
	int64_t deadline = now_ms() + TIMEOUT_MS;
	int r;

	memset(g, 0, sizeof(*g));
	for (;;) {
		r = vg_testbus_connect(sock_path, RAM_SIZE, &g->t);
		if ((r != -ENOENT && r != -ECONNREFUSED) ||
		    now_ms() > deadline || !daemon_alive())
			break;
		pause_ms(10);
	}
	if (r == 0)
		r = vg_ram_init(&g->ram, g->t);
	return r;
}

static void close_guest(struct tguest *g)
{
	if (!g->t)
		return;
	for (unsigned q = 0; q < g->nvq; q++)
		vg_vring_destroy(&g->vq[q]);
	vg_ram_fini(&g->ram);
	vg_transport_close(g->t);
	memset(g, 0, sizeof(*g));
}

static int setup_queues(struct tguest *g)
{
	for (unsigned q = 0; q < VIRTIO_MEDIA_NUM_QUEUES; q++) {
		int r = vg_vring_init(&g->vq[q], &g->dev, &g->ram, q,
				      QUEUE_SIZE);

		if (r < 0)
			return r;
		g->nvq++;
	}
	return vg_virtio_driver_ok(&g->dev);
}

/* Everything up to DRIVER_OK on device `index`, with these features. */
static int bring_up(struct tguest *g, unsigned index, uint64_t wanted)
{
	int r = connect_guest(g);

	if (r == 0)
		r = vg_virtio_open(&g->dev, g->t, index);
	if (r == 0)
		r = vg_virtio_negotiate(&g->dev, wanted);
	if (r == 0)
		r = setup_queues(g);
	return r;
}

static uint32_t reg(struct tguest *g, unsigned dev, uint32_t off)
{
	uint64_t v = 0;
	int r = vg_mmio_read(g->t, g->t->dev[dev].mmio_base + off, 4, &v);

	TAP_CHECK(r == 0, "read of %#x: %s", off, strerror(-r));
	return (uint32_t)v;
}

/*
 * Send command `cmd` on the commandq and wait for the used element and
 * the interrupt. Returns the response status, or -1 after a failed check.
 */
static int command(struct tguest *g, uint32_t cmd, unsigned flags)
{
	struct virtio_media_cmd_header hdr = { .cmd = cmd };
	struct virtio_media_resp_header *resp;
	struct vg_mem buf;
	struct vg_seg segs[2];
	struct vg_used used;
	uint32_t isr = 0;
	int head, r;

	if (vg_ram_alloc(&g->ram, VG_PAGE_SIZE, &buf) < 0)
		return -1;
	memcpy(buf.host, &hdr, sizeof(hdr));
	resp = (void *)((char *)buf.host + 256);
	segs[0] = (struct vg_seg){ .gpa = buf.gpa, .len = sizeof(hdr) };
	segs[1] = (struct vg_seg){ .gpa = buf.gpa + 256,
				   .len = 64,
				   .writable = true };
	head = vg_vring_add(&g->vq[0], segs, 2, flags, NULL);
	TAP_CHECK(head >= 0, "add: %s", strerror(-head));
	r = head < 0 ? head : vg_vring_kick(&g->vq[0]);
	TAP_EQ(r, 0);
	/* The interrupt itself, before looking at the ring. */
	r = r < 0 ? r : vg_virtio_wait_irq(&g->dev, TIMEOUT_MS, &isr);
	TAP_CHECK(r == 1, "no interrupt: %d", r);
	TAP_CHECK(isr & VIRTIO_MMIO_INT_VRING, "isr %#x", isr);
	r = r < 0 ? r : vg_vring_reap(&g->vq[0], &used);
	TAP_CHECK(r == 1, "no used element: %d", r);
	if (r == 1) {
		TAP_EQ(used.id, head);
		TAP_EQ(used.len, sizeof(*resp));
	}
	r = r == 1 ? (int)resp->status : -1;
	vg_ram_free(&g->ram, &buf);
	return r;
}

/* ---- raw peers that break the protocol -------------------------------- */

static int raw_connect(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timeval tv = { .tv_sec = TIMEOUT_MS / 1000 };
	int s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock_path);
	if (s < 0)
		return -1;
	if (setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
	    connect(s, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(s);
		return -1;
	}
	return s;
}

static int raw_send(int s, const void *buf, size_t len, int fd)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} cbuf;
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

	if (fd >= 0) {
		struct cmsghdr *c;

		memset(&cbuf, 0, sizeof(cbuf));
		mh.msg_control = cbuf.buf;
		mh.msg_controllen = sizeof(cbuf.buf);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(fd));
	}
	return sendmsg(s, &mh, MSG_NOSIGNAL) == (ssize_t)len ? 0 : -1;
}

/* One message; the bytes read (0 at EOF, -1 on error). Fds are closed. */
static ssize_t raw_recv(int s, struct testbus_msg *m)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * 4)];
		struct cmsghdr align;
	} cbuf;
	struct iovec iov = { .iov_base = m, .iov_len = sizeof(*m) };
	struct msghdr mh = { .msg_iov = &iov,
			     .msg_iovlen = 1,
			     .msg_control = cbuf.buf,
			     .msg_controllen = sizeof(cbuf.buf) };
	ssize_t n = recvmsg(s, &mh, MSG_CMSG_CLOEXEC);

	for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); n >= 0 && c;
	     c = CMSG_NXTHDR(&mh, c)) {
		size_t nfd = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);

		for (size_t i = 0; i < nfd; i++) {
			int fd;

			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(fd));
			close(fd);
		}
	}
	return n;
}

static int raw_memfd(uint64_t size, bool seal)
{
	int fd = memfd_create("hostile-ram", MFD_CLOEXEC | MFD_ALLOW_SEALING);

	if (fd < 0 || ftruncate(fd, (off_t)size) < 0 ||
	    (seal && fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK) < 0)) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static int raw_hello_fd(int s, uint64_t base, uint64_t size, int fd)
{
	struct testbus_msg m = { .type = TESTBUS_HELLO,
				 .addr = base,
				 .value = size,
				 .version = TESTBUS_VERSION };

	return raw_send(s, &m, sizeof(m), fd);
}

static int raw_hello(int s, uint64_t base, uint64_t size, bool seal)
{
	int fd = raw_memfd(size, seal);
	int r = fd < 0 ? -1 : raw_hello_fd(s, base, size, fd);

	if (fd >= 0)
		close(fd);
	return r;
}

/* A good HELLO, then DEVICE messages up to READY. */
static bool raw_handshake(int s)
{
	struct testbus_msg m;

	if (raw_hello(s, VG_RAM_BASE, RAM_SIZE, true) < 0)
		return false;
	while (raw_recv(s, &m) == (ssize_t)sizeof(m)) {
		if (m.type == TESTBUS_READY)
			return true;
		if (m.type != TESTBUS_DEVICE)
			return false;
	}
	return false;
}

/* The daemon answers ERROR {err} (any errno when err is 0), then closes. */
static void expect_error(int s, int err, const char *what)
{
	struct testbus_msg m = { 0 };
	ssize_t n = raw_recv(s, &m);

	TAP_CHECK(n == (ssize_t)sizeof(m) && m.type == TESTBUS_ERROR,
		  "%s: no ERROR (n=%zd type=%u)", what, n, m.type);
	if (err)
		TAP_CHECK(m.value == (uint64_t)err, "%s: errno %llu, not %d",
			  what, (unsigned long long)m.value, err);
	else
		TAP_CHECK(m.value != 0, "%s: ERROR without errno", what);
	n = raw_recv(s, &m);
	TAP_CHECK(n == 0, "%s: connection not closed after ERROR (%zd)", what,
		  n);
}

/* The reference guest still gets its commands answered. */
static void check_g1_served(const char *after)
{
	TAP_CHECK(daemon_alive(), "daemon died after %s", after);
	TAP_CHECK(command(&g1, 99, 0) == ENOTTY, "g1 not served after %s",
		  after);
}

/* ---- cases ------------------------------------------------------------- */

static void test_connect(void)
{
	int r = connect_guest(&g1);

	TAP_CHECK(r == 0, "connect: %s", strerror(-r));
	if (r < 0)
		return;
	TAP_EQ(g1.t->num_devices, NUM_DEVICES);
	for (unsigned i = 0; i < g1.t->num_devices; i++) {
		TAP_EQ(g1.t->dev[i].mmio_base,
		       TESTBUS_MMIO_BASE + i * VIRTIO_MMIO_WINDOW);
		TAP_EQ(g1.t->dev[i].mmio_size, VIRTIO_MMIO_WINDOW);
	}
}

static void test_identity(void)
{
	for (unsigned i = 0; g1.t && i < g1.t->num_devices; i++) {
		struct vg_virtio d;

		TAP_EQ(reg(&g1, i, VIRTIO_MMIO_MAGIC_VALUE), VIRTIO_MMIO_MAGIC);
		TAP_EQ(reg(&g1, i, VIRTIO_MMIO_VERSION), 2);
		TAP_EQ(reg(&g1, i, VIRTIO_MMIO_DEVICE_ID), VIRTIO_ID_MEDIA);
		TAP_EQ(vg_virtio_open(&d, g1.t, i), 0);
	}
	TAP_EQ(vg_virtio_open(&g1.dev, g1.t, 0), 0);
	TAP_EQ(g1.dev.device_id, 48);
}

static void test_outside_windows(void)
{
	const uint64_t base = TESTBUS_MMIO_BASE;
	const uint64_t past = base + NUM_DEVICES * VIRTIO_MMIO_WINDOW;
	uint64_t v = 1;

	TAP_EQ(vg_mmio_read(g1.t, past, 4, &v), 0);
	TAP_EQ(v, 0);
	TAP_EQ(vg_mmio_read(g1.t, 0, 8, &v), 0);
	TAP_EQ(v, 0);
	/* Straddling a window's end is nobody's access, as on Xen. */
	TAP_EQ(vg_mmio_read(g1.t, base + VIRTIO_MMIO_WINDOW - 2, 4, &v), 0);
	TAP_EQ(v, 0);
	TAP_EQ(vg_mmio_write(g1.t, past, 4, 0xdead), 0);
	TAP_EQ(reg(&g1, 0, VIRTIO_MMIO_MAGIC_VALUE), VIRTIO_MMIO_MAGIC);
}

static void test_config(void)
{
	struct virtio_media_config cfg, bytes;
	uint8_t *b = (uint8_t *)&bytes;

	memset(&cfg, 0xff, sizeof(cfg));
	TAP_EQ(vg_virtio_read_config(&g1.dev, 0, &cfg, sizeof(cfg)), 0);
	TAP_EQ(cfg.device_caps, CAPS);
	TAP_EQ(cfg.device_type, 0);
	TAP_CHECK(memchr(cfg.card, 0, sizeof(cfg.card)) &&
			  strcmp((char *)cfg.card, CARD) == 0,
		  "card \"%.32s\"", (char *)cfg.card);
	/* Byte by byte, through the raw transport, it reads the same. */
	for (uint32_t i = 0; i < sizeof(bytes); i++) {
		uint64_t v = 0;

		vg_mmio_read(g1.t, g1.dev.base + VIRTIO_MMIO_CONFIG + i, 1, &v);
		b[i] = (uint8_t)v;
	}
	TAP_CHECK(memcmp(&cfg, &bytes, sizeof(cfg)) == 0, "byte reads differ");
}

static void test_features(void)
{
	uint32_t status = 0;

	TAP_EQ(vg_virtio_negotiate(&g1.dev, VG_F_KNOWN), 0);
	TAP_CHECK(g1.dev.device_features & VG_F_VERSION_1, "no VERSION_1");
	TAP_CHECK(g1.dev.device_features & VG_F_ACCESS_PLATFORM,
		  "no ACCESS_PLATFORM offered");
	TAP_CHECK(g1.dev.features & VG_F_VERSION_1, "VERSION_1 not taken");
	TAP_EQ(vg_virtio_status(&g1.dev, &status), 0);
	TAP_EQ(status, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
			       VIRTIO_CONFIG_S_FEATURES_OK);
}

static void test_queues(void)
{
	uint32_t status = 0;

	TAP_EQ(setup_queues(&g1), 0);
	TAP_EQ(g1.nvq, VIRTIO_MEDIA_NUM_QUEUES);
	for (unsigned q = 0; q < VIRTIO_MEDIA_NUM_QUEUES; q++) {
		TAP_EQ(vg_mmio_write(g1.t, g1.dev.base + VIRTIO_MMIO_QUEUE_SEL,
				     4, q),
		       0);
		TAP_EQ(reg(&g1, 0, VIRTIO_MMIO_QUEUE_READY), 1);
		TAP_CHECK(reg(&g1, 0, VIRTIO_MMIO_QUEUE_NUM_MAX) >= QUEUE_SIZE,
			  "queue %u too small", q);
	}
	TAP_EQ(vg_virtio_status(&g1.dev, &status), 0);
	TAP_CHECK(status & VIRTIO_CONFIG_S_DRIVER_OK, "status %#x", status);
	TAP_CHECK(!(status & VIRTIO_CONFIG_S_NEEDS_RESET), "status %#x",
		  status);
}

static void test_command(void)
{
	TAP_EQ(g1.nvq, VIRTIO_MEDIA_NUM_QUEUES);
	if (g1.nvq != VIRTIO_MEDIA_NUM_QUEUES)
		return;
	TAP_EQ(command(&g1, 99, 0), ENOTTY);
	/* More than the ring size, so the ring's indices wrap. */
	for (unsigned i = 0; i < 2 * QUEUE_SIZE + 1; i++)
		TAP_EQ(command(&g1, 99, 0), ENOTTY);
}

static void test_indirect(void)
{
	TAP_CHECK(g1.dev.features & VG_F_INDIRECT_DESC, "not negotiated");
	if (g1.dev.features & VG_F_INDIRECT_DESC)
		TAP_EQ(command(&g1, 99, VG_ADD_INDIRECT), ENOTTY);
}

static void test_two_guests(void)
{
	struct tguest g2;
	/*
	 * The other device, and neither EVENT_IDX nor indirect: the ring's
	 * plain flags path and the second window's routing.
	 */
	int r = bring_up(&g2, 1, VG_F_VERSION_1);

	TAP_CHECK(r == 0, "second guest: %s", strerror(-r));
	TAP_EQ(g2.dev.features, VG_F_VERSION_1);
	if (r == 0) {
		TAP_EQ(command(&g2, 99, 0), ENOTTY);
		TAP_EQ(command(&g1, 99, 0), ENOTTY);
		TAP_EQ(command(&g2, 99, 0), ENOTTY);
	}
	close_guest(&g2);
	check_g1_served("a second guest left");
}

static void test_unsealed_hello(void)
{
	int s = raw_connect();
	int p[2] = { -1, -1 };

	TAP_CHECK(s >= 0, "connect");
	if (s >= 0) {
		TAP_EQ(raw_hello(s, VG_RAM_BASE, RAM_SIZE, false), 0);
		expect_error(s, EPERM, "unsealed memfd");
		close(s);
	}
	/* Not a memfd at all: the same refusal, without touching it. */
	s = raw_connect();
	TAP_CHECK(s >= 0 && pipe(p) == 0, "connect, pipe");
	if (s >= 0 && p[0] >= 0) {
		TAP_EQ(raw_hello_fd(s, VG_RAM_BASE, RAM_SIZE, p[0]), 0);
		expect_error(s, EPERM, "a pipe as RAM");
	}
	for (unsigned i = 0; i < 2; i++) {
		if (p[i] >= 0)
			close(p[i]);
	}
	if (s >= 0)
		close(s);
	check_g1_served("an unsealed HELLO");
}

struct violation {
	const char *what;
	bool handshake; /* send a good HELLO first */
	struct testbus_msg msg;
	size_t len; /* 0: the whole message */
	int err;
};

static const struct violation violations[] = {
	{ "access before HELLO",
	  false,
	  { .type = TESTBUS_READ, .size = 4, .addr = TESTBUS_MMIO_BASE },
	  0,
	  EPROTO },
	{ "unknown message type", true, { .type = 99 }, 0, EPROTO },
	{ "access of size 3",
	  true,
	  { .type = TESTBUS_READ, .size = 3, .addr = TESTBUS_MMIO_BASE },
	  0,
	  EINVAL },
	{ "second HELLO",
	  true,
	  { .type = TESTBUS_HELLO, .version = TESTBUS_VERSION },
	  0,
	  EPROTO },
	{ "DONE from the guest", true, { .type = TESTBUS_DONE }, 0, EPROTO },
	{ "short message", true, { .type = TESTBUS_READ, .size = 4 }, 20, 0 },
	{ "HELLO of another version",
	  false,
	  { .type = TESTBUS_HELLO, .version = 99 },
	  0,
	  EPROTONOSUPPORT },
};

static void test_violations(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(violations); i++) {
		const struct violation *v = &violations[i];
		int s = raw_connect();
		bool ok = s >= 0 && (!v->handshake || raw_handshake(s));

		TAP_CHECK(ok, "%s: setup", v->what);
		if (ok) {
			TAP_EQ(raw_send(s, &v->msg,
					v->len ? v->len : sizeof(v->msg), -1),
			       0);
			expect_error(s, v->err, v->what);
		}
		if (s >= 0)
			close(s);
	}
	check_g1_served("protocol violations");
}

static void test_bad_layouts(void)
{
	static const struct {
		const char *what;
		uint64_t base, size;
	} bad[] = {
		{ "RAM over the MMIO windows", TESTBUS_MMIO_BASE - 4096, 8192 },
		{ "RAM size 0", VG_RAM_BASE, 0 },
		{ "RAM not page-aligned", VG_RAM_BASE + 1, RAM_SIZE },
		{ "RAM base + size overflows", ~0ull & ~4095ull, RAM_SIZE },
	};

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		int s = raw_connect();
		int r = s < 0 ? -1
			      : raw_hello(s, bad[i].base, bad[i].size, true);

		TAP_CHECK(r == 0, "%s: send", bad[i].what);
		if (r == 0)
			expect_error(s, EINVAL, bad[i].what);
		if (s >= 0)
			close(s);
	}
	check_g1_served("bad RAM layouts");
}

/* The peer leaves with an access outstanding, or without a word. */
static void test_vanishing_guest(void)
{
	struct testbus_msg rd = { .type = TESTBUS_READ,
				  .size = 4,
				  .addr = TESTBUS_MMIO_BASE };
	int s = raw_connect();
	int pipefd[2];
	pid_t child;

	TAP_CHECK(s >= 0 && raw_handshake(s), "handshake");
	if (s >= 0)
		TAP_EQ(raw_send(s, &rd, sizeof(rd), -1), 0);
	if (s >= 0)
		close(s);
	check_g1_served("a guest left mid-access");

	/* A whole guest process killed mid-session, its command in flight. */
	TAP_EQ(pipe(pipefd), 0);
	child = fork();
	if (child == 0) {
		struct tguest gc;
		struct vg_seg seg;
		char ok = 1;

		if (bring_up(&gc, 0, VG_F_KNOWN) < 0)
			_exit(1);
		seg = (struct vg_seg){ .gpa = gc.vq[0].mem.gpa, .len = 8 };
		vg_vring_add(&gc.vq[0], &seg, 1, 0, NULL);
		vg_vring_kick(&gc.vq[0]);
		(void)!write(pipefd[1], &ok, 1);
		pause();
		_exit(0);
	}
	close(pipefd[1]);
	{
		char ok = 0;

		TAP_CHECK(read(pipefd[0], &ok, 1) == 1 && ok == 1,
			  "child guest did not come up");
	}
	close(pipefd[0]);
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	check_g1_served("a guest process was killed");
}

/*
 * Beyond --max-guests, connections are closed at once. Guests that ended
 * are reaped asynchronously, so count refusals, not exact admissions.
 */
static void test_max_guests(void)
{
	int s[MAX_GUESTS + 2];
	unsigned admitted = 0, refused = 0;
	struct tguest g;
	int r;

	for (unsigned i = 0; i < ARRAY_SIZE(s); i++) {
		s[i] = raw_connect();
		if (s[i] >= 0 && raw_handshake(s[i]))
			admitted++;
		else
			refused++;
	}
	TAP_CHECK(admitted <= MAX_GUESTS - 1, "%u admitted besides g1",
		  admitted);
	TAP_CHECK(refused >= 3, "only %u refused", refused);
	for (unsigned i = 0; i < ARRAY_SIZE(s); i++) {
		if (s[i] >= 0)
			close(s[i]);
	}
	check_g1_served("refused connections");
	/* Room again once the daemon has reaped them. */
	for (int64_t end = now_ms() + TIMEOUT_MS;; pause_ms(10)) {
		r = bring_up(&g, 0, VG_F_KNOWN);
		if (r == 0 || now_ms() > end)
			break;
		close_guest(&g);
	}
	TAP_CHECK(r == 0, "no guest served after the others left: %s",
		  strerror(-r));
	if (r == 0)
		TAP_EQ(command(&g, 99, 0), ENOTTY);
	close_guest(&g);
}

static void test_probe_tool(void)
{
	const char *probe = getenv("VMEDIA_PROBE");
	char cmd[512], line[256];
	bool seen = false;
	FILE *f;

	if (!probe) {
		tap_diag("VMEDIA_PROBE not set; probe tool not run");
		return;
	}
	snprintf(cmd, sizeof(cmd), "'%s' --socket '%s'", probe, sock_path);
	f = popen(cmd, "r");
	TAP_CHECK(f != NULL, "popen");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f))
		seen |= strstr(line, "device id: 48 (virtio-media)") != NULL;
	TAP_EQ(pclose(f), 0);
	TAP_CHECK(seen, "probe did not report device 48");
}

static void test_sigterm(void)
{
	int status;

	/* g1 stays connected: the daemon must stop its guests itself. */
	TAP_EQ(kill(daemon_pid, SIGTERM), 0);
	status = daemon_wait_exit(TIMEOUT_MS);
	TAP_CHECK(status != -1, "daemon did not exit on SIGTERM");
	TAP_CHECK(status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0,
		  "daemon wait status %#x", status);
	close_guest(&g1);
}

int main(void)
{
	const char *vmediad = getenv("VMEDIAD");

	if (!vmediad)
		tap_skip_all("VMEDIAD not set (run through make check)");
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/vmedia-test-XXXXXX");
	if (!mkdtemp(tmpdir))
		tap_skip_all("cannot make a temporary directory");
	snprintf(sock_path, sizeof(sock_path), "%s/test.sock", tmpdir);
	atexit(cleanup);
	signal(SIGPIPE, SIG_IGN);
	start_daemon(vmediad);

	tap_run("a guest connects and sees its devices", test_connect);
	if (!g1.t) {
		tap_diag("no guest: remaining cases skipped");
		return tap_done();
	}
	tap_run("device ID reads 48 and magic/version are right",
		test_identity);
	tap_run("accesses outside every window read 0 and are ignored",
		test_outside_windows);
	tap_run("the 40-byte config space reads back", test_config);
	tap_run("feature negotiation sets FEATURES_OK with VERSION_1",
		test_features);
	tap_run("both queues set up and DRIVER_OK", test_queues);
	tap_run("a command chain gets a used element and an interrupt "
		"(ENOTTY for cmd 99)",
		test_command);
	tap_run("a command through an indirect table is answered",
		test_indirect);
	tap_run("two guests connected at once are both served",
		test_two_guests);
	tap_run("a HELLO without a sealed memfd is refused, others served",
		test_unsealed_hello);
	tap_run("protocol violations get ERROR and end only that guest",
		test_violations);
	tap_run("bad RAM layouts are refused", test_bad_layouts);
	tap_run("a guest that vanishes mid-session does not disturb another",
		test_vanishing_guest);
	tap_run("connections beyond --max-guests are refused", test_max_guests);
	tap_run("vmedia-probe reports the device", test_probe_tool);
	tap_run("the daemon exits 0 on SIGTERM", test_sigterm);
	return tap_done();
}
