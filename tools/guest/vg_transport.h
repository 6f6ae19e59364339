/* SPDX-License-Identifier: MIT */
/*
 * How the userspace guest driver reaches its devices: MMIO accesses,
 * interrupts and its own RAM. Today over the test transport (a socket to
 * vmediad); later from inside a real Xen guest over /dev/mem. Everything
 * above this header is the same for both.
 */
#ifndef VMEDIA_VG_TRANSPORT_H
#define VMEDIA_VG_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VG_MAX_DEVICES 16u

/* RAM base of test guests: where Arm guests have theirs. */
#define VG_RAM_BASE 0x40000000ull

/* One virtio-mmio device the transport found. */
struct vg_device {
	uint64_t mmio_base;
	uint64_t mmio_size;
	/* The SHM region's backing, when the transport hands one over. */
	void *shm_host;
	uint64_t shm_size;
	/*
	 * The same backing as a file (offset = SHM offset), so that a guest
	 * process can map one buffer's range itself, as the Linux driver
	 * maps it into the process; -1 when absent. Owned by the transport.
	 */
	int shm_fd;
	/*
	 * A file that polls readable while the device's interrupt is
	 * pending (the test transport's eventfd), so that waiters can sleep
	 * in poll() next to their own files; -1 when the transport has none.
	 * Owned by the transport; consume interrupts with irq_wait only.
	 */
	int irq_fd;
	/* Where SHM offset 0 is in shm_fd (a /dev/mem file: the base). */
	uint64_t shm_fd_offset;
};

struct vg_transport;

struct vg_transport_ops {
	/* One access of size 1, 2, 4 or 8. 0 or a negative errno. */
	int (*mmio_read)(struct vg_transport *t, uint64_t addr, unsigned size,
			 uint64_t *val);
	int (*mmio_write)(struct vg_transport *t, uint64_t addr, unsigned size,
			  uint64_t val);
	/*
	 * Wait up to timeout_ms (0: just check, -1: forever) for an
	 * interrupt of device dev and consume it. 1 = interrupt, 0 = none,
	 * or a negative errno.
	 */
	int (*irq_wait)(struct vg_transport *t, unsigned dev, int timeout_ms);
	/*
	 * Host pointer to the guest RAM range [gpa, gpa + len), or NULL when
	 * any byte of it is not the guest's RAM.
	 */
	void *(*ram_ptr)(struct vg_transport *t, uint64_t gpa, size_t len);
	/*
	 * The address the device must be given for the driver's RAM at gpa
	 * (what Linux's DMA API returns): a guest-physical address, or a
	 * grant address. NULL when the RAM is one contiguous range the
	 * device sees as is (the test transport). Otherwise only the byte
	 * range up to the end of gpa's page is contiguous for the device,
	 * so everything handed to the device is split at page boundaries.
	 */
	uint64_t (*dma_addr)(struct vg_transport *t, uint64_t gpa);
	/* Disconnect and free t. */
	void (*close)(struct vg_transport *t);
};

struct vg_transport {
	const struct vg_transport_ops *ops;
	uint64_t ram_base;
	uint64_t ram_size;
	unsigned num_devices;
	struct vg_device dev[VG_MAX_DEVICES];
};

static inline int vg_mmio_read(struct vg_transport *t, uint64_t addr,
			       unsigned size, uint64_t *val)
{
	return t->ops->mmio_read(t, addr, size, val);
}

static inline int vg_mmio_write(struct vg_transport *t, uint64_t addr,
				unsigned size, uint64_t val)
{
	return t->ops->mmio_write(t, addr, size, val);
}

static inline int vg_irq_wait(struct vg_transport *t, unsigned dev,
			      int timeout_ms)
{
	return t->ops->irq_wait(t, dev, timeout_ms);
}

static inline void *vg_ram_ptr(struct vg_transport *t, uint64_t gpa, size_t len)
{
	return t->ops->ram_ptr(t, gpa, len);
}

/*
 * For transports whose RAM is one host mapping at ram (ram_ptr): the host
 * view of [gpa, gpa + len), or NULL outside the RAM.
 */
static inline void *vg_ram_slice(const struct vg_transport *t, uint8_t *ram,
				 uint64_t gpa, size_t len)
{
	uint64_t off = gpa - t->ram_base;

	if (gpa < t->ram_base || off > t->ram_size || len > t->ram_size - off)
		return NULL;
	return ram + off;
}

/*
 * For transports whose interrupt is an eventfd (irq_wait): wait up to
 * timeout_ms for it and consume it. 1, 0 (none, or another thread took
 * it) or a negative errno.
 */
int vg_eventfd_take(int fd, int timeout_ms);

/* True when device addresses are contiguous only within a page. */
static inline bool vg_dma_paged(const struct vg_transport *t)
{
	return t->ops->dma_addr != NULL;
}

static inline uint64_t vg_dma(struct vg_transport *t, uint64_t gpa)
{
	return t->ops->dma_addr ? t->ops->dma_addr(t, gpa) : gpa;
}

/*
 * The device address of gpa and how many of the len bytes from there are
 * contiguous for the device: pages whose device addresses follow each
 * other (consecutive frames, consecutive grant refs) make one run, so
 * the device maps them at once.
 */
static inline size_t vg_dma_run(struct vg_transport *t, uint64_t gpa,
				size_t len, uint64_t *addr)
{
	const uint64_t page = 4096;
	size_t run;

	*addr = vg_dma(t, gpa);
	if (!vg_dma_paged(t))
		return len;
	run = (size_t)(page - gpa % page);
	while (run < len && vg_dma(t, gpa + run) == *addr + run)
		run += (size_t)page;
	return run < len ? run : len;
}

static inline void vg_transport_close(struct vg_transport *t)
{
	if (t)
		t->ops->close(t);
}

/*
 * The test transport: connect to vmediad's socket at path with ram_size
 * bytes of guest RAM (a page multiple) at VG_RAM_BASE. Returns 0 with *out
 * set, or a negative errno: the connect's own errno when the socket is not
 * there, or the errno the daemon sent with ERROR.
 */
int vg_testbus_connect(const char *path, uint64_t ram_size,
		       struct vg_transport **out);
/*
 * The same; with scatter, the driver's view of its RAM has every page
 * away from its neighbours (swapped in pairs), so everything the driver
 * hands the device is split at page boundaries as inside a real guest
 * (see vg_transport_ops.dma_addr). Each page is a mapping of its own:
 * keep ram_size small (64 MiB = 16384 mappings).
 */
int vg_testbus_connect2(const char *path, uint64_t ram_size, bool scatter,
			struct vg_transport **out);

/* The real-guest transport: a userspace driver inside a Xen guest. */
struct vg_xenguest_opts {
	uint64_t mmio_base[VG_MAX_DEVICES]; /* the devices' windows */
	unsigned num_devices;
	uint64_t ram_size; /* bytes of locked memory for rings and buffers */
	/*
	 * false: hand the device guest-physical addresses (the backend maps
	 * them by foreign mapping, xenstore grant_usage=0). true: grant every
	 * page to backend_domid and hand out grant addresses (bit 63 set,
	 * gref << 12), as Linux's grant-DMA layer does (grant_usage=1).
	 */
	bool grants;
	uint16_t backend_domid;
};

/*
 * Open the real-guest transport: registers through /dev/mem, RAM from
 * locked pages (addresses from /proc/self/pagemap, or grants through
 * /dev/xen/gntalloc), interrupts emulated by watching the used rings.
 * Needs root. 0 with *out, or a negative errno with one line in msg.
 */
int vg_xenguest_connect(const struct vg_xenguest_opts *o,
			struct vg_transport **out, char *msg, size_t msg_len);

/*
 * Parse VMEDIA_DEVMEM-style text: comma-separated MMIO bases (0x...).
 * 0 or -EINVAL.
 */
int vg_xenguest_parse_bases(const char *text, struct vg_xenguest_opts *o);

#endif
