/* SPDX-License-Identifier: MIT */
/*
 * The real-guest transport's RAM: a locked pool of this process's pages.
 *
 * Foreign-mapping mode: the device gets each page's guest-physical address
 * from /proc/self/pagemap (root only: others read frame number 0). The
 * pages are locked so they stay put; the kernel could still migrate a
 * locked page during compaction unless vm.compact_unevictable_allowed is
 * 0, which a guest running this driver should set.
 *
 * Grant mode: /dev/xen/gntalloc allocates the pages and grants each one to
 * the backend's domain; the device gets (1 << 63) | gref << 12 per page,
 * the address Linux's grant-DMA layer would put in a descriptor. gntalloc
 * refuses more grants than its `limit` module parameter (1024 by default):
 * load it with a limit above the pool's page count.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <xen/gntalloc.h>

#include "vg_xenguest.h"

#define PAGEMAP_PRESENT (1ull << 63)
#define PAGEMAP_PFN	((1ull << 55) - 1)
#define GRANT_ADDR_BIT	(1ull << 63)

static int fail(char *msg, size_t len, int err, const char *what)
{
	snprintf(msg, len, "%s: %s", what, strerror(-err));
	return err;
}

/* Each page's frame address from /proc/self/pagemap. */
static int read_frames(struct xg_ram *r, char *msg, size_t msg_len)
{
	int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	uint64_t first = (uintptr_t)r->base / XG_PAGE;
	int err = 0;

	if (fd < 0)
		return fail(msg, msg_len, -errno,
			    "cannot open /proc/self/pagemap");
	for (uint64_t i = 0; i < r->pages && !err; i++) {
		uint64_t e;

		if (pread(fd, &e, sizeof(e), (off_t)((first + i) * 8)) !=
		    sizeof(e))
			err = fail(msg, msg_len, -EIO,
				   "cannot read /proc/self/pagemap");
		else if (!(e & PAGEMAP_PRESENT) || !(e & PAGEMAP_PFN))
			err = fail(msg, msg_len, -EPERM,
				   "no frame numbers in /proc/self/pagemap "
				   "(run as root: the driver needs "
				   "CAP_SYS_ADMIN)");
		else
			r->dma[i] = (e & PAGEMAP_PFN) * XG_PAGE;
	}
	close(fd);
	return err;
}

static int open_frames(struct xg_ram *r, char *msg, size_t msg_len)
{
	void *p = mmap(NULL, r->pages * XG_PAGE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_LOCKED | MAP_POPULATE,
		       -1, 0);

	if (p == MAP_FAILED)
		return fail(msg, msg_len, -errno,
			    "cannot lock the driver's memory pool "
			    "(RLIMIT_MEMLOCK? run as root)");
	r->base = p;
	return read_frames(r, msg, msg_len);
}

static int open_grants(struct xg_ram *r, uint16_t domid, char *msg,
		       size_t msg_len)
{
	size_t sz = sizeof(struct ioctl_gntalloc_alloc_gref) +
		    r->pages * sizeof(uint32_t);
	struct ioctl_gntalloc_alloc_gref *a = calloc(1, sz);
	void *p;
	int err = 0;

	if (!a)
		return fail(msg, msg_len, -ENOMEM, "grant pool");
	r->gnt_fd = open("/dev/xen/gntalloc", O_RDWR | O_CLOEXEC);
	if (r->gnt_fd < 0) {
		err = fail(msg, msg_len, -errno,
			   "cannot open /dev/xen/gntalloc (modprobe "
			   "xen-gntalloc limit=N)");
		goto out;
	}
	a->domid = domid;
	a->flags = GNTALLOC_FLAG_WRITABLE;
	a->count = (uint32_t)r->pages;
	if (ioctl(r->gnt_fd, IOCTL_GNTALLOC_ALLOC_GREF, a) < 0) {
		err = fail(msg, msg_len, -errno,
			   "cannot grant the driver's pool (is xen-gntalloc's "
			   "limit above the pool's pages?)");
		goto out;
	}
	r->gnt_index = a->index;
	p = mmap(NULL, r->pages * XG_PAGE, PROT_READ | PROT_WRITE, MAP_SHARED,
		 r->gnt_fd, (off_t)a->index);
	if (p == MAP_FAILED) {
		err = fail(msg, msg_len, -errno, "cannot map the granted pool");
		goto out;
	}
	r->base = p;
	for (uint64_t i = 0; i < r->pages; i++)
		r->dma[i] = GRANT_ADDR_BIT | (uint64_t)a->gref_ids[i] * XG_PAGE;
out:
	free(a);
	return err;
}

int xg_ram_open(struct xg_ram *r, uint64_t size, bool grants,
		uint16_t backend_domid, char *msg, size_t msg_len)
{
	int err;

	memset(r, 0, sizeof(*r));
	r->gnt_fd = -1;
	if (sysconf(_SC_PAGESIZE) != XG_PAGE)
		return fail(msg, msg_len, -ENOTSUP,
			    "the guest kernel's page size is not 4 KiB");
	r->pages = size / XG_PAGE;
	if (r->pages == 0 || r->pages > (UINT32_MAX / XG_PAGE))
		return fail(msg, msg_len, -EINVAL, "bad pool size");
	r->dma = calloc(r->pages, sizeof(*r->dma));
	if (!r->dma)
		return fail(msg, msg_len, -ENOMEM, "pool table");
	err = grants ? open_grants(r, backend_domid, msg, msg_len)
		     : open_frames(r, msg, msg_len);
	if (err)
		xg_ram_close(r);
	return err;
}

void xg_ram_close(struct xg_ram *r)
{
	if (r->base)
		munmap(r->base, r->pages * XG_PAGE);
	if (r->gnt_fd >= 0) {
		/* Ends the grants; gntalloc keeps pages the backend still maps.
		 */
		struct ioctl_gntalloc_dealloc_gref d = {
			.index = r->gnt_index,
			.count = (uint32_t)r->pages,
		};

		if (r->base)
			ioctl(r->gnt_fd, IOCTL_GNTALLOC_DEALLOC_GREF, &d);
		close(r->gnt_fd);
	}
	free(r->dma);
	memset(r, 0, sizeof(*r));
	r->gnt_fd = -1;
}

void *xg_ram_host_of(const struct xg_ram *r, uint64_t dma)
{
	uint64_t page = dma & ~(uint64_t)(XG_PAGE - 1);

	for (uint64_t i = 0; i < r->pages; i++) {
		if (r->dma[i] == page)
			return r->base + i * XG_PAGE + (dma - page);
	}
	return NULL;
}
