/* SPDX-License-Identifier: MIT */
/*
 * The test transport, guest side: this process is the guest. Its RAM is a
 * sealed memfd shared with vmediad, each MMIO access is a message answered
 * by DONE (include/vmedia/testbus_wire.h), and each device's interrupt is
 * an eventfd the daemon writes.
 */
#include "vg_transport.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "vmedia/fdmsg.h"
#include "vmedia/testbus_wire.h"

/* How long one answer may take: generous, sanitizer builds are slow. */
#define TB_TIMEOUT_S 30
#define TB_PAGE	     4096u

struct vg_testbus {
	struct vg_transport t;
	int sock;
	int memfd;
	uint8_t *ram;
	int irq_fd[VG_MAX_DEVICES];
	/* One access at a time: a request and its DONE are a pair. */
	pthread_mutex_t lock;
	bool broken;
};

struct tb_rx {
	struct testbus_msg msg;
	struct fdmsg_fds fds;
};

/* One whole message; 0 or a negative errno (-ETIMEDOUT, -ECONNRESET). */
static int tb_recv(int sock, struct tb_rx *rx)
{
	/* The socket has a receive timeout: "nothing there" means it ran out.
	 */
	int r = fdmsg_recv(sock, &rx->msg, sizeof(rx->msg), 0, &rx->fds);

	return r == 1 ? 0 : r == 0 ? -ETIMEDOUT : r;
}

static int tb_send(int sock, const struct testbus_msg *m, int fd)
{
	int r = fdmsg_send(sock, m, sizeof(*m), &fd, fd >= 0 ? 1 : 0, 0);

	return r == -EAGAIN ? -ETIMEDOUT : r;
}

/* The errno an ERROR message carries, kept in errno's range. */
static int tb_error_of(const struct testbus_msg *m)
{
	return m->value > 0 && m->value < 4096 ? -(int)m->value : -EPROTO;
}

static int tb_access(struct vg_testbus *tb, struct testbus_msg *m)
{
	struct tb_rx rx;
	int r;

	if (tb->broken)
		return -EPIPE;
	r = tb_send(tb->sock, m, -1);
	if (r == 0)
		r = tb_recv(tb->sock, &rx);
	if (r == 0) {
		fdmsg_close(&rx.fds);
		if (rx.msg.type == TESTBUS_DONE)
			m->value = rx.msg.value;
		else
			r = rx.msg.type == TESTBUS_ERROR ? tb_error_of(&rx.msg)
							 : -EPROTO;
	}
	/* After a lost answer the pairing is gone for good. */
	if (r < 0)
		tb->broken = true;
	return r;
}

static bool valid_size(unsigned size)
{
	return size == 1 || size == 2 || size == 4 || size == 8;
}

static int tb_mmio_read(struct vg_transport *t, uint64_t addr, unsigned size,
			uint64_t *val)
{
	struct vg_testbus *tb = (struct vg_testbus *)t;
	struct testbus_msg m = { .type = TESTBUS_READ,
				 .size = size,
				 .addr = addr };
	int r;

	if (!valid_size(size))
		return -EINVAL;
	pthread_mutex_lock(&tb->lock);
	r = tb_access(tb, &m);
	pthread_mutex_unlock(&tb->lock);
	*val = r == 0 ? m.value : 0;
	return r;
}

static int tb_mmio_write(struct vg_transport *t, uint64_t addr, unsigned size,
			 uint64_t val)
{
	struct vg_testbus *tb = (struct vg_testbus *)t;
	struct testbus_msg m = {
		.type = TESTBUS_WRITE, .size = size, .addr = addr, .value = val
	};
	int r;

	if (!valid_size(size))
		return -EINVAL;
	pthread_mutex_lock(&tb->lock);
	r = tb_access(tb, &m);
	pthread_mutex_unlock(&tb->lock);
	return r;
}

int vg_eventfd_take(int fd, int timeout_ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	uint64_t count;
	int n;

	do {
		n = poll(&pfd, 1, timeout_ms);
	} while (n < 0 && errno == EINTR);
	if (n <= 0)
		return n < 0 ? -errno : 0;
	/* The eventfd is non-blocking; another thread may have taken it. */
	if (read(fd, &count, sizeof(count)) != sizeof(count))
		return errno == EAGAIN ? 0 : -errno;
	return 1;
}

static int tb_irq_wait(struct vg_transport *t, unsigned dev, int timeout_ms)
{
	struct vg_testbus *tb = (struct vg_testbus *)t;

	if (dev >= t->num_devices)
		return -EINVAL;
	return vg_eventfd_take(tb->irq_fd[dev], timeout_ms);
}

static void *tb_ram_ptr(struct vg_transport *t, uint64_t gpa, size_t len)
{
	return vg_ram_slice(t, ((struct vg_testbus *)t)->ram, gpa, len);
}

/* Scattered RAM: pages swapped in pairs, so no two neighbours stay. */
static uint64_t perm(uint64_t page)
{
	return page ^ 1;
}

static uint64_t tb_dma_addr(struct vg_transport *t, uint64_t gpa)
{
	uint64_t off = gpa - t->ram_base;

	return t->ram_base + perm(off / TB_PAGE) * TB_PAGE + off % TB_PAGE;
}

static void tb_close(struct vg_transport *t)
{
	struct vg_testbus *tb = (struct vg_testbus *)t;

	for (unsigned i = 0; i < t->num_devices; i++) {
		close(tb->irq_fd[i]);
		if (t->dev[i].shm_host)
			munmap(t->dev[i].shm_host, t->dev[i].shm_size);
		if (t->dev[i].shm_fd >= 0)
			close(t->dev[i].shm_fd);
	}
	if (tb->sock >= 0)
		close(tb->sock);
	if (tb->ram)
		munmap(tb->ram, t->ram_size);
	if (tb->memfd >= 0)
		close(tb->memfd);
	pthread_mutex_destroy(&tb->lock);
	free(tb);
}

static const struct vg_transport_ops tb_ops = {
	.mmio_read = tb_mmio_read,
	.mmio_write = tb_mmio_write,
	.irq_wait = tb_irq_wait,
	.ram_ptr = tb_ram_ptr,
	.close = tb_close,
};

/* The same, with the driver's view of RAM scattered (tb_dma_addr). */
static const struct vg_transport_ops tb_scattered_ops = {
	.mmio_read = tb_mmio_read,
	.mmio_write = tb_mmio_write,
	.irq_wait = tb_irq_wait,
	.ram_ptr = tb_ram_ptr,
	.dma_addr = tb_dma_addr,
	.close = tb_close,
};

/*
 * Map RAM page by page in perm() order: the driver's view is contiguous,
 * but its pages are not neighbours in the guest's physical RAM, as in a
 * real guest whose driver has only locked user pages (vg_xenguest).
 * Replaces the linear mapping.
 */
static int tb_scatter_ram(struct vg_testbus *tb)
{
	uint64_t pages = tb->t.ram_size / TB_PAGE;

	if (pages % 2)
		return -EINVAL;
	for (uint64_t i = 0; i < pages; i++) {
		void *p = mmap(tb->ram + i * TB_PAGE, TB_PAGE,
			       PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED,
			       tb->memfd, (off_t)(perm(i) * TB_PAGE));

		if (p == MAP_FAILED)
			return -errno;
	}
	tb->t.ops = &tb_scattered_ops;
	return 0;
}

/* RAM the daemon can map but never shrink under its feet. */
static int tb_make_ram(struct vg_testbus *tb, uint64_t size)
{
	void *p;

	tb->memfd = memfd_create("vmedia-guest-ram",
				 MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (tb->memfd < 0)
		return -errno;
	if (ftruncate(tb->memfd, (off_t)size) < 0 ||
	    fcntl(tb->memfd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW) < 0)
		return -errno;
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, tb->memfd, 0);
	if (p == MAP_FAILED)
		return -errno;
	tb->ram = p;
	return 0;
}

static int tb_connect_socket(struct vg_testbus *tb, const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timeval tv = { .tv_sec = TB_TIMEOUT_S };

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	tb->sock = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (tb->sock < 0)
		return -errno;
	/* A daemon that stops answering must not hang the guest forever. */
	if (setsockopt(tb->sock, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) <
		    0 ||
	    setsockopt(tb->sock, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0)
		return -errno;
	if (connect(tb->sock, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return -errno;
	return 0;
}

/* The device's SHM region memfd, when the daemon sends one. */
static int tb_map_shm(struct vg_device *d, int fd, uint64_t size)
{
	struct stat st;
	void *p;

	if (size == 0 || size > SIZE_MAX || fstat(fd, &st) < 0 ||
	    st.st_size < 0 || (uint64_t)st.st_size < size)
		return -EPROTO;
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return -errno;
	d->shm_host = p;
	d->shm_size = size;
	d->shm_fd = fd;
	return 0;
}

static int tb_add_device(struct vg_testbus *tb, struct tb_rx *rx)
{
	const struct testbus_msg *m = &rx->msg;
	unsigned i = tb->t.num_devices;
	bool shm = m->flags & TESTBUS_F_SHM;
	int r = 0;

	if (m->version != TESTBUS_VERSION || m->size != i ||
	    i >= VG_MAX_DEVICES || rx->fds.n != (shm ? 2u : 1u) ||
	    m->value < 0x100 || m->value > UINT32_MAX)
		r = -EPROTO;
	if (r == 0 && shm)
		r = tb_map_shm(&tb->t.dev[i], rx->fds.fd[1], m->value2);
	if (r < 0) {
		fdmsg_close(&rx->fds);
		return r;
	}
	/* The SHM fd now belongs to dev[i] (tb_map_shm kept it). */
	tb->irq_fd[i] = rx->fds.fd[0];
	tb->t.dev[i].irq_fd = rx->fds.fd[0];
	tb->t.dev[i].mmio_base = m->addr;
	tb->t.dev[i].mmio_size = m->value;
	tb->t.num_devices++;
	return 0;
}

/* HELLO, then DEVICE messages until READY (or ERROR). */
static int tb_handshake(struct vg_testbus *tb)
{
	struct testbus_msg hello = { .type = TESTBUS_HELLO,
				     .addr = tb->t.ram_base,
				     .value = tb->t.ram_size,
				     .version = TESTBUS_VERSION };
	struct tb_rx rx;
	int r = tb_send(tb->sock, &hello, tb->memfd);

	while (r == 0) {
		r = tb_recv(tb->sock, &rx);
		if (r < 0)
			break;
		if (rx.msg.type == TESTBUS_DEVICE) {
			r = tb_add_device(tb, &rx);
			continue;
		}
		fdmsg_close(&rx.fds);
		if (rx.msg.type == TESTBUS_READY)
			return rx.msg.size == tb->t.num_devices ? 0 : -EPROTO;
		r = rx.msg.type == TESTBUS_ERROR ? tb_error_of(&rx.msg)
						 : -EPROTO;
	}
	return r;
}

int vg_testbus_connect(const char *path, uint64_t ram_size,
		       struct vg_transport **out)
{
	return vg_testbus_connect2(path, ram_size, false, out);
}

int vg_testbus_connect2(const char *path, uint64_t ram_size, bool scatter,
			struct vg_transport **out)
{
	struct vg_testbus *tb;
	int r;

	if (ram_size == 0 || ram_size % TB_PAGE || ram_size > SIZE_MAX)
		return -EINVAL;
	tb = calloc(1, sizeof(*tb));
	if (!tb)
		return -ENOMEM;
	tb->t.ops = &tb_ops;
	tb->t.ram_base = VG_RAM_BASE;
	tb->t.ram_size = ram_size;
	tb->sock = -1;
	tb->memfd = -1;
	for (unsigned i = 0; i < VG_MAX_DEVICES; i++)
		tb->t.dev[i].shm_fd = tb->t.dev[i].irq_fd = -1;
	pthread_mutex_init(&tb->lock, NULL);
	r = tb_make_ram(tb, ram_size);
	if (r == 0 && scatter)
		r = tb_scatter_ram(tb);
	if (r == 0)
		r = tb_connect_socket(tb, path);
	if (r == 0)
		r = tb_handshake(tb);
	if (r < 0) {
		tb_close(&tb->t);
		return r;
	}
	*out = &tb->t;
	return 0;
}
