/* SPDX-License-Identifier: MIT */
#include "fakes/fake_irq.h"

#include <string.h>

static void fake_irq_raise(void *ctx)
{
	struct fake_irq *fi = ctx;

	fi->raised++;
	if (fi->on_raise)
		fi->on_raise(fi);
}

static const struct irq_ops fake_irq_ops = {
	.raise = fake_irq_raise,
};

void fake_irq_init(struct fake_irq *fi)
{
	memset(fi, 0, sizeof(*fi));
	fi->line.ops = &fake_irq_ops;
	fi->line.ctx = fi;
}

unsigned fake_irq_take(struct fake_irq *fi)
{
	unsigned n = fi->raised;

	fi->raised = 0;
	return n;
}
