/* SPDX-License-Identifier: MIT */
/*
 * A device's shared-memory window on Xen: SHM region 0, where MMAP
 * buffers live, as a range of the guest's own physical address space
 * that nothing else uses (research: shm-window-probe.md).
 *
 * A buffer's pages are added to the guest at the buffer's offset when the
 * backend allocates it (populate_physmap, the guest's memory limit raised
 * by as many pages), mapped into vmediad by foreign mapping and zeroed:
 * fresh pages hold whatever their last owner left. The backend renders
 * straight into them and the guest maps the same pages (its driver maps
 * SHM_BASE + offset), so nothing is copied. When the protocol layer drops
 * the buffer (the backend let go AND the guest unmapped it: a guest that
 * touches a released page is killed), the pages are scrubbed, unmapped,
 * taken back (decrease_reservation) and the limit restored.
 *
 * INVALIDATE (the guest's memory map changed) needs nothing here: these
 * mappings are not a cache, and they hold a reference on every page, so
 * even a page the guest balloons out stays valid until we unmap it.
 *
 * One window per device; used on the guest's thread only.
 */
#ifndef VMEDIA_XEN_SHM_WINDOW_H
#define VMEDIA_XEN_SHM_WINDOW_H

#include <stddef.h>
#include <stdint.h>

#include "vmedia/shm_region.h"
#include "xen/xen_ops.h"

/* Where windows go by default: the hole below Arm guests' RAM0. */
#define XEN_SHM_DEFAULT_BASE 0x3A000000ull
#define XEN_SHM_DEFAULT_SIZE (32ull << 20)
/* Window bases and sizes are multiples of this (64 KiB guest pages). */
#define XEN_SHM_ALIGN 0x10000ull

struct xen_shm_params {
	const struct xen_ops *ops;
	struct xen_ctrl *ctrl; /* the guest thread's handles */
	struct xen_fmem *fmem;
	unsigned domid;
	uint64_t base; /* guest-physical */
	uint64_t size;
};

struct xen_shm_window;

/*
 * NULL with errno set and one line in msg when the window is refused
 * (bad alignment, overlaps the guest's layout: xen_shm_layout_check).
 */
struct xen_shm_window *xen_shm_window_create(const struct xen_shm_params *p,
					     char *msg, size_t msg_len);
/*
 * Release whatever is still populated (normally nothing: the media
 * device released every block first) and free the window.
 */
void xen_shm_window_destroy(struct xen_shm_window *w);
/* What the media device serves SHM region 0 from. */
const struct shm_region *xen_shm_window_region(struct xen_shm_window *w);
/* Pages populated right now (tests, logs). */
uint64_t xen_shm_window_pages(const struct xen_shm_window *w);

/*
 * Is [base, base + size) free in every Arm guest's physical layout (the
 * GUEST_* ranges of Xen's public arch-arm.h: RAM banks, grant table,
 * magic pages, GIC, UART, virtio-mmio and vPCI windows, ACPI)? 0, or
 * -EINVAL with one line in msg naming what it overlaps.
 */
int xen_shm_layout_check(uint64_t base, uint64_t size, char *msg,
			 size_t msg_len);

#endif
