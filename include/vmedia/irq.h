/* SPDX-License-Identifier: MIT */
/*
 * Interrupt line from a device to its guest. The register file sets the
 * interrupt status bits before it raises; the transport delivers the edge
 * (Xen: set_irq_level(irq, 1); test transport: an eventfd write).
 */
#ifndef VMEDIA_IRQ_H
#define VMEDIA_IRQ_H

struct irq_ops {
	void (*raise)(void *ctx);
};

struct irq_line {
	const struct irq_ops *ops;
	void *ctx;
};

static inline void irq_raise(const struct irq_line *irq)
{
	irq->ops->raise(irq->ctx);
}

#endif
