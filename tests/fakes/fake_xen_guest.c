/* SPDX-License-Identifier: MIT */
/* A vg_transport over the fake Xen (see fake_xen_guest.h). */
#include "fakes/fake_xen_guest.h"

#include <errno.h>
#include <stdlib.h>

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
	free(fxg_of(t));
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
		g->t.dev[i].shm_fd = -1; /* no SHM region on Xen yet */
		g->t.dev[i].irq_fd = -1; /* interrupts through irq_wait only */
		g->irq[i] = irqs[i];
	}
	*out = &g->t;
	return 0;
}
