/* SPDX-License-Identifier: MIT */
/*
 * The test guest's RAM and interrupt lines: the daemon-side ends of the
 * shared memfd and the irq eventfds. Everything here checks guest values:
 * the memfd, its seals and the layout come from a hostile peer.
 */
#include "testbus/testbus.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "vmedia/testbus_wire.h"
#include "vmedia/virtio_mmio.h"

/* The guest-physical range the MMIO windows may occupy. */
#define MMIO_SPAN ((uint64_t)TESTBUS_MAX_DEVICES * VIRTIO_MMIO_WINDOW)

static int check_layout(uint64_t base, uint64_t size, const char **why)
{
	if (size == 0 || size > TESTBUS_RAM_MAX) {
		*why = "RAM size is 0 or above the 64 GiB cap";
		return -EINVAL;
	}
	if (size % TESTBUS_PAGE_SIZE || base % TESTBUS_PAGE_SIZE) {
		*why = "RAM base or size is not page-aligned";
		return -EINVAL;
	}
	if (base > UINT64_MAX - size) {
		*why = "RAM base + size overflows";
		return -EINVAL;
	}
	/* Accesses to the windows must never be mistaken for RAM. */
	if (base < TESTBUS_MMIO_BASE + MMIO_SPAN &&
	    TESTBUS_MMIO_BASE < base + size) {
		*why = "RAM overlaps the MMIO windows";
		return -EINVAL;
	}
	if (base + size > TESTBUS_SHM_BASE) {
		*why = "RAM reaches the SHM regions";
		return -EINVAL;
	}
	return 0;
}

static int check_memfd(int memfd, uint64_t size, const char **why)
{
	struct statfs fs;
	struct stat st;
	int seals;

	/*
	 * Seals first: F_GET_SEALS fails on anything but a memfd-like file
	 * without asking its filesystem, so the fstat below cannot block on
	 * a file system the guest serves (FUSE). Without F_SEAL_SHRINK the
	 * guest could truncate the file under our mapping and every later
	 * access would SIGBUS the whole daemon.
	 */
	seals = fcntl(memfd, F_GET_SEALS);
	if (seals < 0 || !(seals & F_SEAL_SHRINK)) {
		*why = "RAM fd is not a memfd sealed with F_SEAL_SHRINK";
		return -EPERM;
	}
	/*
	 * Only plain memfds: a hugetlbfs one can lose its pages to a hole
	 * punched by the guest, and a fault there is a SIGBUS too.
	 */
	if (fstatfs(memfd, &fs) < 0 || fs.f_type != TMPFS_MAGIC) {
		*why = "RAM fd is not a plain (non-hugetlb) memfd";
		return -EINVAL;
	}
	if (fstat(memfd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size < 0 ||
	    (uint64_t)st.st_size < size) {
		*why = "RAM memfd is smaller than the RAM size";
		return -EINVAL;
	}
	return 0;
}

int testbus_ram_map(struct testbus_ram *ram, int memfd, uint64_t base,
		    uint64_t size, const char **why)
{
	void *p;
	int r;

	r = check_layout(base, size, why);
	if (r == 0)
		r = check_memfd(memfd, size, why);
	if (r < 0)
		return r;
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
	if (p == MAP_FAILED) {
		r = -errno;
		*why = "cannot map the RAM memfd";
		return r;
	}
	ram->host = p;
	ram->base = base;
	ram->size = size;
	return 0;
}

void testbus_ram_unmap(struct testbus_ram *ram)
{
	if (ram->host)
		munmap(ram->host, ram->size);
	ram->host = NULL;
	ram->size = 0;
}

static int ram_map(void *ctx, uint64_t addr, size_t len, unsigned access,
		   struct gmem_map *out)
{
	const struct testbus_ram *ram = ctx;
	uint64_t off;

	(void)access; /* the mapping is read-write */
	if (!ram->host || len == 0 || addr < ram->base)
		return -EFAULT;
	/* Written so nothing can overflow: off <= size before the sub. */
	off = addr - ram->base;
	if (off > ram->size || len > ram->size - off)
		return -EFAULT;
	out->ptr = ram->host + off;
	out->len = len;
	out->priv = NULL;
	return 0;
}

static void ram_unmap(void *ctx, struct gmem_map *m)
{
	/* The whole RAM stays mapped for the guest's life: nothing to do. */
	(void)ctx;
	(void)m;
}

const struct gmem_ops testbus_gmem_ops = {
	.map = ram_map,
	.unmap = ram_unmap,
};

static void irq_eventfd_raise(void *ctx)
{
	const struct testbus_irq *irq = ctx;
	uint64_t one = 1;
	ssize_t n;

	/*
	 * The eventfd is non-blocking; it only fails with EAGAIN when the
	 * counter is about to overflow, and then an interrupt is pending
	 * anyway.
	 */
	do {
		n = write(irq->fd, &one, sizeof(one));
	} while (n < 0 && errno == EINTR);
}

const struct irq_ops testbus_irq_ops = {
	.raise = irq_eventfd_raise,
};
