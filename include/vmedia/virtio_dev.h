/* SPDX-License-Identifier: MIT */
/*
 * The shape of a device behind the virtio-mmio register file. The register
 * file owns transport state (status, features, queues, interrupts); the
 * device owns its config space and what happens when a queue is kicked.
 */
#ifndef VMEDIA_VIRTIO_DEV_H
#define VMEDIA_VIRTIO_DEV_H

#include <stdbool.h>
#include <stdint.h>

#define VIRTIO_DEV_MAX_QUEUES 8u
#define VIRTIO_DEV_CONFIG_MAX 0x100u /* config space: 0x100..0x1ff */

/* What the device offers; constant for the device's lifetime. */
struct virtio_dev_info {
	uint32_t device_id;
	uint32_t vendor_id;
	uint64_t features;	/* device and transport feature bits offered */
	uint16_t num_queues;	/* <= VIRTIO_DEV_MAX_QUEUES */
	uint16_t queue_num_max; /* <= VIRTQ_NUM_MAX */
	uint32_t config_len;	/* <= VIRTIO_DEV_CONFIG_MAX */
};

struct virtio_mmio;

struct virtio_dev_ops {
	/*
	 * Copy config bytes [off, off + len) into buf. The register file has
	 * already checked the range against config_len.
	 */
	void (*read_config)(void *dev, uint32_t off, void *buf, uint32_t len);
	/*
	 * The driver kicked queue q (q < num_queues, queue enabled). Called on
	 * the guest's thread after the MMIO access completed, never inside it.
	 */
	void (*queue_notify)(void *dev, struct virtio_mmio *vm, unsigned q);
	/* The driver set DRIVER_OK: queues are live. Optional. */
	void (*driver_ok)(void *dev, struct virtio_mmio *vm);
	/*
	 * The device is being reset (status 0 written, or torn down): drop
	 * every chain and all per-driver state. Queues are disabled after.
	 */
	void (*reset)(void *dev, struct virtio_mmio *vm);
	/*
	 * Shared memory region `id`: fill base (guest address) and len and
	 * return true, or return false when there is no such region.
	 * Optional (NULL = no regions).
	 */
	bool (*shm_region)(void *dev, unsigned id, uint64_t *base,
			   uint64_t *len);
};

#endif
