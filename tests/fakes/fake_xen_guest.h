/* SPDX-License-Identifier: MIT */
/*
 * The userspace guest driver (tools/guest) inside a fake Xen guest: its
 * MMIO accesses become ioreqs from vCPU 0, its interrupts are the SPIs
 * the daemon raises, its RAM is the domain's memfd. So the whole data
 * path (IOREQ, foreign mapping, IRQ) runs as it would on Xen. A device
 * whose SHM region 0 is a window (SHM_LEN not ~0) gets shm_host, the
 * guest's view of its physical memory there (PROT_NONE where nothing is
 * populated), and shm_fd, its physical memory file (shm_fd_offset = the
 * window's base), as the real-guest transport maps /dev/mem.
 */
#ifndef VMEDIA_TESTS_FAKE_XEN_GUEST_H
#define VMEDIA_TESTS_FAKE_XEN_GUEST_H

#include <stdint.h>

#include "vg_transport.h"

/*
 * Devices at bases[i] with SPI irqs[i]; ram_pages as the domain was
 * created with. Reads each device's SHM registers, so the devices must
 * be served already. 0 with *out set, or a negative errno.
 */
int fake_xen_guest_open(unsigned domid, uint64_t ram_pages,
			const uint64_t *bases, const unsigned *irqs,
			unsigned ndev, struct vg_transport **out);

#endif
