/* SPDX-License-Identifier: MIT */
/*
 * A device's interrupt on Arm: one set_irq_level(irq, 1) per raise. The
 * SPI is edge-triggered in the guest's device tree, so level 0 would be a
 * no-op for the vGIC and is never sent.
 */
#ifndef VMEDIA_XEN_IRQ_XEN_H
#define VMEDIA_XEN_IRQ_XEN_H

#include "vmedia/irq.h"
#include "vmedia/log.h"
#include "xen/xen_ops.h"

struct irq_xen {
	const struct xen_ops *ops;
	struct xen_dmod *dm;
	unsigned domid;
	unsigned irq; /* absolute SPI number */
	unsigned long raised, failed;
	struct vm_ratelimit rl;
};

/* ctx of irq_xen_ops is a struct irq_xen. */
extern const struct irq_ops irq_xen_ops;

void irq_xen_init(struct irq_xen *x, const struct xen_ops *ops,
		  struct xen_dmod *dm, unsigned domid, unsigned irq);
/* The irq_line for the device. */
struct irq_line irq_xen_line(struct irq_xen *x);

#endif
