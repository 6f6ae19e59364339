/* SPDX-License-Identifier: MIT */
/*
 * The real-guest transport (see vg_xenguest.h): this process is a driver
 * inside a Xen guest and vmediad, in dom0 or a driver domain, is the
 * device. Each register access is a load or store on the window mapped
 * from /dev/mem, which the hypervisor forwards to vmediad as an IOREQ.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/virtio_mmio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vg_xenguest.h"

#define XG_WINDOW     0x200u /* one virtio-mmio device's registers */
#define XG_RAM_BASE   VG_RAM_BASE
#define VIRTIO_MAGIC  0x74726976u /* "virt" */
#define SHM_NONE      (~0ull)
#define SHM_SEL_MEDIA 0u

static struct vg_xenguest *xg_of(struct vg_transport *t)
{
	return (struct vg_xenguest *)t;
}

/* The device an access falls in, with the offset; -1 if none. */
static int find_dev(struct vg_xenguest *g, uint64_t addr, unsigned size,
		    uint64_t *off)
{
	for (unsigned i = 0; i < g->t.num_devices; i++) {
		uint64_t base = g->t.dev[i].mmio_base;

		if (addr >= base && addr - base <= XG_WINDOW - size) {
			*off = addr - base;
			return (int)i;
		}
	}
	return -1;
}

static bool valid_size(unsigned size, uint64_t addr)
{
	return (size == 1 || size == 2 || size == 4 || size == 8) &&
	       addr % size == 0;
}

static int xg_mmio_read(struct vg_transport *t, uint64_t addr, unsigned size,
			uint64_t *val)
{
	struct vg_xenguest *g = xg_of(t);
	uint64_t off;
	int i = valid_size(size, addr) ? find_dev(g, addr, size, &off) : -1;
	volatile uint8_t *p;

	if (i < 0)
		return -EINVAL;
	p = g->dev[i].regs + off;
	switch (size) {
	case 1:
		*val = *p;
		break;
	case 2:
		*val = *(volatile uint16_t *)p;
		break;
	case 4:
		*val = *(volatile uint32_t *)p;
		break;
	default:
		*val = *(volatile uint64_t *)p;
	}
	return 0;
}

static int xg_mmio_write(struct vg_transport *t, uint64_t addr, unsigned size,
			 uint64_t val)
{
	struct vg_xenguest *g = xg_of(t);
	uint64_t off;
	int i = valid_size(size, addr) ? find_dev(g, addr, size, &off) : -1;
	volatile uint8_t *p;

	if (i < 0)
		return -EINVAL;
	/* The watcher must know a ring before the device may use it. */
	xg_irq_snoop(g, (unsigned)i, off, val);
	p = g->dev[i].regs + off;
	switch (size) {
	case 1:
		*p = (uint8_t)val;
		break;
	case 2:
		*(volatile uint16_t *)p = (uint16_t)val;
		break;
	case 4:
		*(volatile uint32_t *)p = (uint32_t)val;
		break;
	default:
		*(volatile uint64_t *)p = val;
	}
	return 0;
}

static int xg_irq_wait_op(struct vg_transport *t, unsigned dev, int timeout_ms)
{
	return xg_irq_wait(xg_of(t), dev, timeout_ms);
}

static void *xg_ram_ptr(struct vg_transport *t, uint64_t gpa, size_t len)
{
	return vg_ram_slice(t, xg_of(t)->ram.base, gpa, len);
}

static uint64_t xg_dma_addr(struct vg_transport *t, uint64_t gpa)
{
	struct vg_xenguest *g = xg_of(t);
	uint64_t off = gpa - t->ram_base;

	/* The driver only names its own RAM; anything else is its bug. */
	if (gpa < t->ram_base || off >= t->ram_size)
		return 0;
	return g->ram.dma[off / XG_PAGE] + off % XG_PAGE;
}

static void unmap_devices(struct vg_xenguest *g)
{
	for (unsigned i = 0; i < VG_MAX_DEVICES; i++) {
		struct vg_device *d = &g->t.dev[i];

		if (g->dev[i].map)
			munmap(g->dev[i].map, g->dev[i].map_len);
		if (d->shm_host)
			munmap(d->shm_host, d->shm_size);
		if (d->shm_fd >= 0)
			close(d->shm_fd);
		d->shm_host = NULL;
		d->shm_fd = -1;
		g->dev[i].map = NULL;
	}
}

/*
 * Devices must let go of this process's pages before the kernel reuses
 * them: unlike a kernel driver, this one dies with its process, and a
 * device still streaming would write frames into somebody else's memory.
 * A reset (status 0, read back as 0) makes vmediad drop every session,
 * ring and buffer first. Nothing can do this after SIGKILL.
 */
static void reset_devices(struct vg_xenguest *g)
{
	for (unsigned i = 0; i < g->t.num_devices; i++) {
		volatile uint32_t *status =
			(volatile uint32_t *)(g->dev[i].regs +
					      VIRTIO_MMIO_STATUS);

		*status = 0;
		for (unsigned tries = 0; *status && tries < 1000; tries++)
			usleep(1000);
	}
}

static pthread_mutex_t live_lock = PTHREAD_MUTEX_INITIALIZER;
static struct vg_xenguest *live;
static pthread_once_t exit_once = PTHREAD_ONCE_INIT;

/* exit() without closing the transport (a program that just returns). */
static void reset_at_exit(void)
{
	pthread_mutex_lock(&live_lock);
	for (struct vg_xenguest *g = live; g; g = g->next)
		if (g->owner == getpid()) /* not a forked child's to reset */
			reset_devices(g);
	pthread_mutex_unlock(&live_lock);
}

static void register_exit(void)
{
	atexit(reset_at_exit);
}

static void track_live(struct vg_xenguest *g, bool on)
{
	pthread_mutex_lock(&live_lock);
	if (on) {
		g->next = live;
		live = g;
	} else {
		for (struct vg_xenguest **pp = &live; *pp; pp = &(*pp)->next)
			if (*pp == g) {
				*pp = g->next;
				break;
			}
	}
	pthread_mutex_unlock(&live_lock);
}

static void xg_close(struct vg_transport *t)
{
	struct vg_xenguest *g = xg_of(t);

	track_live(g, false);
	if (g->owner == getpid())
		reset_devices(g);
	xg_irq_stop(g);
	unmap_devices(g);
	xg_ram_close(&g->ram);
	if (g->mem_fd >= 0)
		close(g->mem_fd);
	pthread_mutex_destroy(&g->lock);
	free(g);
}

static const struct vg_transport_ops xg_ops = {
	.mmio_read = xg_mmio_read,
	.mmio_write = xg_mmio_write,
	.irq_wait = xg_irq_wait_op,
	.ram_ptr = xg_ram_ptr,
	.dma_addr = xg_dma_addr,
	.close = xg_close,
};

static uint32_t reg32(struct xg_dev *d, unsigned off)
{
	return *(volatile uint32_t *)(d->regs + off);
}

/* Map device i's window and check it is a virtio-mmio device. */
static int map_window(struct vg_xenguest *g, unsigned i, uint64_t base,
		      char *msg, size_t msg_len)
{
	uint64_t page = base & ~(uint64_t)(XG_PAGE - 1);
	size_t len = (size_t)(base - page) + XG_WINDOW;
	struct xg_dev *d = &g->dev[i];
	void *p;

	len = (len + XG_PAGE - 1) & ~(size_t)(XG_PAGE - 1);
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, g->mem_fd,
		 (off_t)page);
	if (p == MAP_FAILED) {
		snprintf(msg, msg_len,
			 "cannot map the device window at 0x%" PRIx64
			 " through /dev/mem: %s (is virtio_mmio loaded and "
			 "holding it? unload it)",
			 base, strerror(errno));
		return -errno;
	}
	d->map = p;
	d->map_len = len;
	d->regs = (volatile uint8_t *)p + (base - page);
	if (reg32(d, VIRTIO_MMIO_MAGIC_VALUE) != VIRTIO_MAGIC) {
		snprintf(msg, msg_len,
			 "no virtio-mmio device at 0x%" PRIx64
			 " (magic 0x%08x; is vmediad serving this guest?)",
			 base, reg32(d, VIRTIO_MMIO_MAGIC_VALUE));
		return -ENODEV;
	}
	g->t.dev[i].mmio_base = base;
	g->t.dev[i].mmio_size = XG_WINDOW;
	return 0;
}

/*
 * The device's SHM region 0, if it has one: map it through /dev/mem so
 * that MMAP buffers can be reached, and hand the same file to processes
 * that map one buffer each (shm_fd_offset = the region's base).
 */
static int map_shm(struct vg_xenguest *g, unsigned i, char *msg, size_t msg_len)
{
	struct xg_dev *d = &g->dev[i];
	struct vg_device *vd = &g->t.dev[i];
	uint64_t len, base;
	void *p;

	*(volatile uint32_t *)(d->regs + VIRTIO_MMIO_SHM_SEL) = SHM_SEL_MEDIA;
	len = (uint64_t)reg32(d, VIRTIO_MMIO_SHM_LEN_HIGH) << 32 |
	      reg32(d, VIRTIO_MMIO_SHM_LEN_LOW);
	base = (uint64_t)reg32(d, VIRTIO_MMIO_SHM_BASE_HIGH) << 32 |
	       reg32(d, VIRTIO_MMIO_SHM_BASE_LOW);
	if (len == SHM_NONE || len == 0)
		return 0;
	vd->shm_fd = dup(g->mem_fd);
	if (vd->shm_fd < 0)
		return -errno;
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, vd->shm_fd,
		 (off_t)base);
	if (p == MAP_FAILED) {
		snprintf(msg, msg_len,
			 "cannot map the SHM window 0x%" PRIx64 "+0x%" PRIx64
			 " through /dev/mem: %s",
			 base, len, strerror(errno));
		return -errno;
	}
	vd->shm_host = p;
	vd->shm_size = len;
	vd->shm_fd_offset = base;
	return 0;
}

static int open_devices(struct vg_xenguest *g, const struct vg_xenguest_opts *o,
			char *msg, size_t msg_len)
{
	int r;

	g->mem_fd = open("/dev/mem", O_RDWR | O_SYNC | O_CLOEXEC);
	if (g->mem_fd < 0) {
		snprintf(msg, msg_len, "cannot open /dev/mem: %s (run as root)",
			 strerror(errno));
		return -errno;
	}
	for (unsigned i = 0; i < o->num_devices; i++) {
		r = map_window(g, i, o->mmio_base[i], msg, msg_len);
		if (r == 0)
			r = map_shm(g, i, msg, msg_len);
		if (r < 0)
			return r;
		g->t.num_devices = i + 1;
	}
	return 0;
}

int vg_xenguest_connect(const struct vg_xenguest_opts *o,
			struct vg_transport **out, char *msg, size_t msg_len)
{
	struct vg_xenguest *g;
	int r;

	if (o->num_devices == 0 || o->num_devices > VG_MAX_DEVICES) {
		snprintf(msg, msg_len, "need 1 to %u device windows",
			 VG_MAX_DEVICES);
		return -EINVAL;
	}
	g = calloc(1, sizeof(*g));
	if (!g)
		return -ENOMEM;
	g->t.ops = &xg_ops;
	g->mem_fd = -1;
	pthread_mutex_init(&g->lock, NULL);
	for (unsigned i = 0; i < VG_MAX_DEVICES; i++)
		g->t.dev[i].shm_fd = g->t.dev[i].irq_fd = g->dev[i].irq_fd = -1;
	g->ram.gnt_fd = -1;
	r = xg_ram_open(&g->ram, o->ram_size, o->grants, o->backend_domid, msg,
			msg_len);
	if (r == 0) {
		g->t.ram_base = XG_RAM_BASE;
		g->t.ram_size = g->ram.pages * XG_PAGE;
		r = open_devices(g, o, msg, msg_len);
	}
	if (r == 0)
		r = xg_irq_start(g);
	if (r < 0) {
		xg_close(&g->t);
		return r;
	}
	g->owner = getpid();
	pthread_once(&exit_once, register_exit);
	track_live(g, true);
	*out = &g->t;
	return 0;
}

int vg_xenguest_parse_bases(const char *text, struct vg_xenguest_opts *o)
{
	const char *p = text;

	o->num_devices = 0;
	while (p && *p) {
		char *end;
		unsigned long long v;

		errno = 0;
		v = strtoull(p, &end, 0);
		if (errno || end == p || (*end && *end != ',') ||
		    o->num_devices == VG_MAX_DEVICES || v % 4 != 0)
			return -EINVAL;
		o->mmio_base[o->num_devices++] = v;
		p = *end ? end + 1 : end;
	}
	return o->num_devices ? 0 : -EINVAL;
}
