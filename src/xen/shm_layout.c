/* SPDX-License-Identifier: MIT */
/*
 * Where an SHM window may go: nowhere an Arm guest already has something.
 * The ranges come from Xen's public arch-arm.h (the GUEST_* layout every
 * Arm guest gets from libxl), so a build against another Xen release
 * checks against that release's layout.
 */
#define __XEN_TOOLS__ 1 /* the GUEST_* layout is a tools-only part */

#include <errno.h>
#include <stdint.h>
#include <stdio.h>

#ifndef xen_mk_ullong /* xen.h defines it; arch-arm.h alone needs it */
#define xen_mk_ullong(x) x##ULL
#endif
#include <xen/arch-arm.h>

#include "vmedia/compiler.h"
#include "xen/shm_window.h"

struct guest_range {
	const char *what;
	uint64_t base, size;
};

static const struct guest_range arm_layout[] = {
	{ "the virtio-mmio device windows", GUEST_VIRTIO_MMIO_BASE,
	  GUEST_VIRTIO_MMIO_SIZE },
	{ "the GICv2 distributor", GUEST_GICD_BASE, GUEST_GICD_SIZE },
	{ "the GICv2 CPU interface", GUEST_GICC_BASE, GUEST_GICC_SIZE },
	{ "the GICv3 distributor", GUEST_GICV3_GICD_BASE,
	  GUEST_GICV3_GICD_SIZE },
	{ "the GICv3 redistributors", GUEST_GICV3_GICR0_BASE,
	  GUEST_GICV3_GICR0_SIZE },
	{ "the vPCI ECAM window", GUEST_VPCI_ECAM_BASE, GUEST_VPCI_ECAM_SIZE },
	{ "the ACPI tables", GUEST_ACPI_BASE, GUEST_ACPI_SIZE },
	{ "the emulated UART", GUEST_PL011_BASE, GUEST_PL011_SIZE },
	{ "the vPCI memory window", GUEST_VPCI_MEM_ADDR, GUEST_VPCI_MEM_SIZE },
	{ "the grant table", GUEST_GNTTAB_BASE, GUEST_GNTTAB_SIZE },
	{ "the magic pages (xenstore, console)", GUEST_MAGIC_BASE,
	  GUEST_MAGIC_SIZE },
	{ "guest RAM bank 0", GUEST_RAM0_BASE, GUEST_RAM0_SIZE },
	{ "the vPCI prefetchable window", GUEST_VPCI_PREFETCH_MEM_ADDR,
	  GUEST_VPCI_PREFETCH_MEM_SIZE },
	{ "guest RAM bank 1", GUEST_RAM1_BASE, GUEST_RAM1_SIZE },
};

/* V4L2 offsets (what QUERYBUF reports) are 32-bit. */
#define SHM_MAX_SIZE (4ull << 30)
/* libxl gives Arm guests 40 address bits (the probe read gpaddr_bits). */
#define GUEST_PHYS_LIMIT (1ull << 40)

static bool overlaps(uint64_t base, uint64_t size, const struct guest_range *r)
{
	return base < r->base + r->size && r->base < base + size;
}

int xen_shm_layout_check(uint64_t base, uint64_t size, char *msg,
			 size_t msg_len)
{
	if (size == 0 || size > SHM_MAX_SIZE || base % XEN_SHM_ALIGN ||
	    size % XEN_SHM_ALIGN || base + size < base) {
		snprintf(msg, msg_len,
			 "SHM window %#llx+%#llx: base and size must be "
			 "multiples of 64K, size 64K..4G",
			 (unsigned long long)base, (unsigned long long)size);
		return -EINVAL;
	}
	if (base + size > GUEST_PHYS_LIMIT) {
		snprintf(msg, msg_len,
			 "SHM window %#llx+%#llx ends past the guest's 40-bit "
			 "physical address space",
			 (unsigned long long)base, (unsigned long long)size);
		return -EINVAL;
	}
	for (size_t i = 0; i < ARRAY_SIZE(arm_layout); i++) {
		const struct guest_range *r = &arm_layout[i];

		if (!overlaps(base, size, r))
			continue;
		snprintf(msg, msg_len,
			 "SHM window %#llx+%#llx overlaps %s (%#llx+%#llx); "
			 "the hole at 0x3A000000..0x40000000 is free",
			 (unsigned long long)base, (unsigned long long)size,
			 r->what, (unsigned long long)r->base,
			 (unsigned long long)r->size);
		return -EINVAL;
	}
	return 0;
}
