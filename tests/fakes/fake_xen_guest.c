/* SPDX-License-Identifier: MIT */
/* A vg_transport over the fake Xen (see fake_xen_guest.h). */
#include "fakes/fake_xen_guest.h"

#include <errno.h>
#include <linux/virtio_mmio.h>
#include <stdlib.h>
#include <unistd.h>

#include "fakes/fake_xen.h"
#include "vmedia/virtio_mmio.h"

struct fxg {
	struct vg_transport t;
	unsigned domid;
	unsigned irq[VG_MAX_DEVICES];
};

static struct fxg *fxg_of(struct vg_transport *t)
{
	return (struct fxg *)t;
}

static int fxg_read(struct vg_transport *t, uint64_t addr, unsigned size,
		    uint64_t *val)
{
	return fake_xen_mmio_read(fxg_of(t)->domid, addr, size, val);
}

static int fxg_write(struct vg_transport *t, uint64_t addr, unsigned size,
		     uint64_t val)
{
	return fake_xen_mmio_write(fxg_of(t)->domid, addr, size, val);
}

static int fxg_irq_wait(struct vg_transport *t, unsigned dev, int timeout_ms)
{
	struct fxg *g = fxg_of(t);

	if (dev >= t->num_devices)
		return -EINVAL;
	return fake_xen_irq_wait(g->domid, g->irq[dev],
				 timeout_ms < 0 ? 60000 : timeout_ms);
}

static void *fxg_ram_ptr(struct vg_transport *t, uint64_t gpa, size_t len)
{
	return fake_xen_ram(fxg_of(t)->domid, gpa, len);
}

static void fxg_close(struct vg_transport *t)
{
	for (unsigned i = 0; i < t->num_devices; i++)
		if (t->dev[i].shm_fd >= 0)
			close(t->dev[i].shm_fd);
	free(fxg_of(t));
}

static int reg64(unsigned domid, uint64_t base, unsigned lo, unsigned hi,
		 uint64_t *val)
{
	uint64_t l = 0, h = 0;
	int r = fake_xen_mmio_read(domid, base + lo, 4, &l);

	if (r == 0)
		r = fake_xen_mmio_read(domid, base + hi, 4, &h);
	*val = h << 32 | (l & 0xffffffffu);
	return r;
}

/*
 * SHM region 0, as the real-guest transport finds it (vg_xenguest.c):
 * SHMSel 0, then SHM_LEN and SHM_BASE; a window is then the guest's own
 * physical memory there (the fake's /dev/mem: PROT_NONE where nothing is
 * populated), and its file for process mappings at offset = base.
 */
static int find_shm(unsigned domid, struct vg_device *d)
{
	uint64_t len = 0, base = 0;
	int r = fake_xen_mmio_write(domid, d->mmio_base + VIRTIO_MMIO_SHM_SEL,
				    4, 0);

	if (r == 0)
		r = reg64(domid, d->mmio_base, VIRTIO_MMIO_SHM_LEN_LOW,
			  VIRTIO_MMIO_SHM_LEN_HIGH, &len);
	if (r == 0)
		r = reg64(domid, d->mmio_base, VIRTIO_MMIO_SHM_BASE_LOW,
			  VIRTIO_MMIO_SHM_BASE_HIGH, &base);
	if (r < 0)
		return r;
	if (len == UINT64_MAX || len == 0)
		return 0; /* no region */
	d->shm_host = fake_xen_guest_view(domid, base, len);
	if (!d->shm_host)
		return -ERANGE; /* beyond what the fake models */
	d->shm_fd = fake_xen_phys_fd(domid);
	if (d->shm_fd < 0) {
		r = d->shm_fd;
		d->shm_fd = -1;
		d->shm_host = NULL;
		return r;
	}
	d->shm_size = len;
	d->shm_fd_offset = base;
	return 0;
}

static const struct vg_transport_ops fxg_ops = {
	.mmio_read = fxg_read,
	.mmio_write = fxg_write,
	.irq_wait = fxg_irq_wait,
	.ram_ptr = fxg_ram_ptr,
	.close = fxg_close,
};

int fake_xen_guest_open(unsigned domid, uint64_t ram_pages,
			const uint64_t *bases, const unsigned *irqs,
			unsigned ndev, struct vg_transport **out)
{
	struct fxg *g;

	if (ndev == 0 || ndev > VG_MAX_DEVICES)
		return -EINVAL;
	g = calloc(1, sizeof(*g));
	if (!g)
		return -ENOMEM;
	g->t.ops = &fxg_ops;
	g->t.ram_base = FAKE_XEN_RAM_GFN * XEN_PAGE_SIZE;
	g->t.ram_size = ram_pages * XEN_PAGE_SIZE;
	g->t.num_devices = ndev;
	g->domid = domid;
	for (unsigned i = 0; i < ndev; i++) {
		g->t.dev[i].mmio_base = bases[i];
		g->t.dev[i].mmio_size = VIRTIO_MMIO_WINDOW;
		g->t.dev[i].shm_fd = -1;
		g->t.dev[i].irq_fd = -1; /* interrupts through irq_wait only */
		g->irq[i] = irqs[i];
	}
	for (unsigned i = 0; i < ndev; i++) {
		int r = find_shm(domid, &g->t.dev[i]);

		if (r < 0) {
			fxg_close(&g->t);
			return r;
		}
	}
	*out = &g->t;
	return 0;
}
