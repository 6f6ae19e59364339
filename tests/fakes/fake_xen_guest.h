/* SPDX-License-Identifier: MIT */
/*
 * The userspace guest driver (tools/guest) inside a fake Xen guest: its
 * MMIO accesses become ioreqs from vCPU 0, its interrupts are the SPIs
 * the daemon raises, its RAM is the domain's memfd. So the whole data
 * path (IOREQ, foreign mapping, IRQ) runs as it would on Xen.
 */
#ifndef VMEDIA_TESTS_FAKE_XEN_GUEST_H
#define VMEDIA_TESTS_FAKE_XEN_GUEST_H

#include <stdint.h>

#include "vg_transport.h"

/*
 * Devices at bases[i] with SPI irqs[i]; ram_pages as the domain was
 * created with. 0 with *out set, or a negative errno.
 */
int fake_xen_guest_open(unsigned domid, uint64_t ram_pages,
			const uint64_t *bases, const unsigned *irqs,
			unsigned ndev, struct vg_transport **out);

#endif
