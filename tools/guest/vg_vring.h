/* SPDX-License-Identifier: MIT */
/*
 * The driver side of a virtio split ring in guest RAM: add chains of
 * (guest address, length, device-writable) segments, directly or as an
 * indirect table, kick, and reap used elements, waiting on the device's
 * interrupt. With EVENT_IDX it keeps used_event and honours avail_event.
 *
 * One thread at a time per ring.
 */
#ifndef VMEDIA_VG_VRING_H
#define VMEDIA_VG_VRING_H

#include <stdbool.h>
#include <stdint.h>

#include "vg_ram.h"
#include "vg_virtio.h"

struct vg_seg {
	uint64_t gpa;
	uint32_t len;
	bool writable; /* the device writes it; these come last */
};

struct vg_used {
	uint16_t id;  /* head returned by vg_vring_add() */
	uint32_t len; /* bytes the device says it wrote */
	void *token;  /* what the caller passed to vg_vring_add() */
};

struct vg_vring_slot {
	void *token;
	uint16_t ndesc; /* descriptors the chain takes in the ring */
	bool busy;
	struct vg_mem indirect; /* its indirect table, if any */
};

struct vg_vring {
	struct vg_virtio *dev;
	struct vg_ram *ram;
	unsigned q;
	uint16_t num;
	bool event_idx;
	bool indirect;
	struct vg_mem mem;
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
	uint16_t free_head;
	uint16_t num_free;
	uint16_t avail_idx;  /* the avail->idx we published last */
	uint16_t kicked_idx; /* avail_idx when we last decided on a kick */
	uint16_t last_used;  /* next used slot to reap */
	struct vg_vring_slot *slot; /* per head */
};

/*
 * Allocate queue q's rings (num entries, a power of two) in guest RAM and
 * program the device; features come from the negotiated set.
 */
int vg_vring_init(struct vg_vring *vr, struct vg_virtio *dev,
		  struct vg_ram *ram, unsigned q, uint16_t num);
/* Free the rings; reset the device first so it stops using them. */
void vg_vring_destroy(struct vg_vring *vr);

#define VG_ADD_INDIRECT 1u

/*
 * Make a chain of n segments available (readable ones first). Returns
 * the head (>= 0), or -EINVAL (bad chain), -ENOSPC (ring full),
 * -ENOTSUP (indirect not negotiated), -ENOMEM.
 */
int vg_vring_add(struct vg_vring *vr, const struct vg_seg *segs, unsigned n,
		 unsigned flags, void *token);

/* Notify the device, unless it said it does not need it. */
int vg_vring_kick(struct vg_vring *vr);

/*
 * Take one used element: 1 with *out, 0 when none, -EIO when the device
 * returned something it was never given.
 */
int vg_vring_reap(struct vg_vring *vr, struct vg_used *out);

/*
 * Reap one used element, waiting up to timeout_ms for the interrupt.
 * 1 with *out, or -ETIMEDOUT, or another negative errno.
 */
int vg_vring_wait(struct vg_vring *vr, int timeout_ms, struct vg_used *out);

/*
 * One request/response exchange on an otherwise idle ring: add, kick and
 * wait for that very chain. 0 with *out, or a negative errno (-EIO when
 * the device returned another chain).
 */
int vg_vring_call(struct vg_vring *vr, const struct vg_seg *segs, unsigned n,
		  unsigned flags, int timeout_ms, struct vg_used *out);

#endif
