/* SPDX-License-Identifier: MIT */
/*
 * Interrupt injection over the device model. The register file has set
 * the ISR bits (atomically) before it raises, so a raise that races the
 * guest's ACK is covered by the next edge.
 */
#include "xen/irq_xen.h"

#include <string.h>

static void irq_xen_raise(void *ctx)
{
	struct irq_xen *x = ctx;
	int r = x->ops->dmod_set_irq_level(x->dm, x->domid, x->irq, 1);

	if (r == 0) {
		x->raised++;
		return;
	}
	/* A dying domain fails every DM op: say so, but not per raise. */
	x->failed++;
	if (vm_ratelimit_ok(&x->rl))
		vm_warn((int)x->domid, "cannot raise SPI %u: %s", x->irq,
			strerror(-r));
}

const struct irq_ops irq_xen_ops = {
	.raise = irq_xen_raise,
};

void irq_xen_init(struct irq_xen *x, const struct xen_ops *ops,
		  struct xen_dmod *dm, unsigned domid, unsigned irq)
{
	*x = (struct irq_xen){
		.ops = ops, .dm = dm, .domid = domid, .irq = irq
	};
}

struct irq_line irq_xen_line(struct irq_xen *x)
{
	return (struct irq_line){ .ops = &irq_xen_ops, .ctx = x };
}
