/* SPDX-License-Identifier: MIT */
/*
 * The virtio-mmio v2 driver of the userspace guest: probe, reset, feature
 * negotiation, queue setup, config space, SHM regions, interrupts. It
 * knows nothing of virtio-media; vg_vring drives the rings.
 *
 * Functions return 0 or a negative errno. A failed MMIO access (the
 * transport broke) is sticky: every later call returns it too.
 */
#ifndef VMEDIA_VG_VIRTIO_H
#define VMEDIA_VG_VIRTIO_H

#include <stdint.h>

#include "vg_transport.h"

/* The feature bits this driver can use. */
#define VG_F_INDIRECT_DESC   (1ull << 28)
#define VG_F_EVENT_IDX	     (1ull << 29)
#define VG_F_VERSION_1	     (1ull << 32)
#define VG_F_ACCESS_PLATFORM (1ull << 33)
#define VG_F_KNOWN                                              \
	(VG_F_INDIRECT_DESC | VG_F_EVENT_IDX | VG_F_VERSION_1 | \
	 VG_F_ACCESS_PLATFORM)

struct vg_virtio {
	struct vg_transport *t;
	unsigned index; /* device index in the transport */
	uint64_t base;	/* MMIO window */
	uint32_t version;
	uint32_t device_id;
	uint32_t vendor_id;
	uint64_t device_features; /* offered */
	uint64_t features;	  /* negotiated */
	int err;		  /* first transport failure, sticky */
};

/*
 * Probe device `index`: magic, version 2, a device behind the window.
 * -ENODEV when the window holds no virtio-mmio v2 device.
 */
int vg_virtio_open(struct vg_virtio *d, struct vg_transport *t, unsigned index);

/* Write 0 to status and wait until the device reads back 0. */
int vg_virtio_reset(struct vg_virtio *d);

/*
 * Reset, ACKNOWLEDGE, DRIVER, then accept the offered features that are
 * also wanted and known, and set FEATURES_OK (read back). -ENOTSUP when
 * VERSION_1 is not offered or the device refuses the set (the device is
 * then left in FAILED).
 */
int vg_virtio_negotiate(struct vg_virtio *d, uint64_t wanted);

/* QUEUE_NUM_MAX of queue q (0: no such queue). */
int vg_virtio_queue_max(struct vg_virtio *d, unsigned q, uint16_t *num_max);

/* Program queue q and set it READY. Guest addresses of the three areas. */
int vg_virtio_queue_setup(struct vg_virtio *d, unsigned q, uint16_t num,
			  uint64_t desc, uint64_t driver, uint64_t device);

int vg_virtio_driver_ok(struct vg_virtio *d);
int vg_virtio_status(struct vg_virtio *d, uint32_t *status);

/*
 * Read config bytes [off, off + len), retrying until the config
 * generation is stable (-EAGAIN if it never is).
 */
int vg_virtio_read_config(struct vg_virtio *d, uint32_t off, void *buf,
			  uint32_t len);

/* SHM region id: 1 with *base and *len, 0 when absent (len reads ~0). */
int vg_virtio_shm(struct vg_virtio *d, unsigned id, uint64_t *base,
		  uint64_t *len);

/* QUEUE_NOTIFY. */
int vg_virtio_notify(struct vg_virtio *d, unsigned q);

/* Read INTERRUPT_STATUS and acknowledge what it shows. */
int vg_virtio_ack_irq(struct vg_virtio *d, uint32_t *status);

/*
 * Wait up to timeout_ms for the device's interrupt and acknowledge it:
 * 1 = interrupt (*status, may be NULL, has its bits), 0 = timeout.
 */
int vg_virtio_wait_irq(struct vg_virtio *d, int timeout_ms, uint32_t *status);

/* Name of feature bit `bit` this driver knows, or NULL. */
const char *vg_virtio_feature_name(unsigned bit);

#endif
