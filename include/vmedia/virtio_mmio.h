/* SPDX-License-Identifier: MIT */
/*
 * The virtio-mmio v2 register file of one device: what the guest sees in
 * the device's 0x200-byte window. Transports feed it the guest's accesses;
 * the device behind it is described by virtio_dev.h.
 *
 * Accesses are never refused: a bad one reads as 0 or is ignored (and
 * logged, rate-limited), as hardware would. A broken ring contract sets
 * DEVICE_NEEDS_RESET and raises a config interrupt.
 */
#ifndef VMEDIA_VIRTIO_MMIO_H
#define VMEDIA_VIRTIO_MMIO_H

#include <stdbool.h>
#include <stdint.h>

#include "vmedia/guest_mem.h"
#include "vmedia/irq.h"
#include "vmedia/virtio_dev.h"
#include "vmedia/virtqueue.h"

#define VIRTIO_MMIO_WINDOW 0x200u
#define VIRTIO_MMIO_MAGIC  0x74726976u /* "virt" */

struct virtio_mmio;

struct virtio_mmio_params {
	const struct virtio_dev_info *info;
	const struct virtio_dev_ops *ops;
	void *dev;
	const struct gmem *mem;
	const struct irq_line *irq;
	int domid; /* for log lines */
};

/* Returns NULL (errno set) on allocation failure. */
struct virtio_mmio *virtio_mmio_create(const struct virtio_mmio_params *p);
/* Resets the device (ops->reset) and frees. NULL is accepted. */
void virtio_mmio_destroy(struct virtio_mmio *vm);

/*
 * One guest access at `off` within the window, of `size` 1, 2, 4 or 8
 * bytes. Reads return the value zero-extended.
 */
uint64_t virtio_mmio_read(struct virtio_mmio *vm, uint32_t off, unsigned size);
void virtio_mmio_write(struct virtio_mmio *vm, uint32_t off, unsigned size,
		       uint64_t val);

/*
 * Work an access deferred: queue kicks are recorded by the write and
 * handled here, after the transport has completed the guest's access.
 */
void virtio_mmio_run_pending(struct virtio_mmio *vm);
bool virtio_mmio_has_pending(const struct virtio_mmio *vm);
/* A handler stopped with work left on q: run it again next time. */
void virtio_mmio_rekick(struct virtio_mmio *vm, unsigned q);

/* Queue q if it exists and the driver enabled it, else NULL. */
struct virtq *virtio_mmio_queue(struct virtio_mmio *vm, unsigned q);

/* After pushing used elements on q: interrupt the guest if it wants. */
void virtio_mmio_notify_used(struct virtio_mmio *vm, unsigned q);

/* The device's config changed: bump the generation, config interrupt. */
void virtio_mmio_config_changed(struct virtio_mmio *vm);

/* The driver broke the contract: NEEDS_RESET, config interrupt, log why. */
void virtio_mmio_fail(struct virtio_mmio *vm, const char *why);

uint32_t virtio_mmio_status(const struct virtio_mmio *vm);
uint64_t virtio_mmio_driver_features(const struct virtio_mmio *vm);
bool virtio_mmio_broken(const struct virtio_mmio *vm);

#endif
