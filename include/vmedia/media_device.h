/* SPDX-License-Identifier: MIT */
/*
 * A virtio-media device: device ID 48 behind a virtio-mmio register file,
 * its 40-byte config space, and its two queues. Transports create one per
 * window they serve and feed its register file.
 */
#ifndef VMEDIA_MEDIA_DEVICE_H
#define VMEDIA_MEDIA_DEVICE_H

#include <stdint.h>

#include "vmedia/guest_mem.h"
#include "vmedia/irq.h"

struct media_device;
struct virtio_mmio;

struct media_device_params {
	const char *card;     /* shown to the guest as v4l2_capability.card */
	uint32_t device_caps; /* V4L2_CAP_* of the device node */
	uint32_t device_type; /* vfl_devnode_type; 0 = video */
	const struct gmem *mem;
	const struct irq_line *irq;
	int domid;
};

/* Returns NULL with errno set on failure. */
struct media_device *media_device_create(const struct media_device_params *p);
void media_device_destroy(struct media_device *md);
struct virtio_mmio *media_device_mmio(struct media_device *md);

#endif
