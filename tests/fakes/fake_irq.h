/* SPDX-License-Identifier: MIT */
/*
 * A test double for struct irq_line: counts raises, and optionally calls a
 * hook at the moment of each raise (e.g. to read the interrupt status the
 * register file set before raising).
 */
#ifndef VMEDIA_TESTS_FAKE_IRQ_H
#define VMEDIA_TESTS_FAKE_IRQ_H

#include "vmedia/irq.h"

struct fake_irq {
	struct irq_line line; /* hand &fi->line to the code under test */
	unsigned raised;      /* raises since init or the last reset */
	void (*on_raise)(struct fake_irq *fi);
	void *user; /* for on_raise */
};

void fake_irq_init(struct fake_irq *fi);
/* Raises since the last call (or init), and reset the counter to 0. */
unsigned fake_irq_take(struct fake_irq *fi);

#endif
