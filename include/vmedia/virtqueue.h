/* SPDX-License-Identifier: MIT */
/*
 * The device side of a virtio split virtqueue.
 *
 * Everything in the rings is guest-written and may change while we read it:
 * each value is read once into a local, checked, then used. Any violation of
 * the ring contract makes virtq_pop() return a negative errno; the caller
 * then marks the device NEEDS_RESET. Nothing here asserts or loops on guest
 * input.
 */
#ifndef VMEDIA_VIRTQUEUE_H
#define VMEDIA_VIRTQUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmedia/guest_mem.h"

/* Largest queue we offer; also the bound on one chain's segments. */
#define VIRTQ_NUM_MAX 256u

struct virtq_iov {
	void *base;
	uint32_t len;
};

/*
 * One popped descriptor chain, mapped. Segments the device may read come
 * first (n_out of them), then those it may write (n_in). "out"/"in" are
 * from the driver's point of view, as in the virtio spec.
 */
struct virtq_chain {
	uint16_t head;
	uint16_t n_out;
	uint16_t n_in;
	struct virtq_iov iov[VIRTQ_NUM_MAX];
	struct gmem_map map[VIRTQ_NUM_MAX];
};

struct virtq {
	const struct gmem *mem;
	bool enabled;
	bool event_idx;		 /* VIRTIO_RING_F_EVENT_IDX negotiated */
	bool indirect;		 /* VIRTIO_RING_F_INDIRECT_DESC negotiated */
	uint16_t num;		 /* ring size, a power of two */
	uint16_t last_avail;	 /* next avail ring slot we will consume */
	uint16_t used_idx;	 /* our private copy of used->idx */
	uint16_t signalled_used; /* used_idx when the driver was last told */
	bool signalled_valid;
	struct gmem_map desc_map, avail_map, used_map;
	/* host views of the rings (inside the maps above) */
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
};

struct virtq_layout {
	uint16_t num;
	uint64_t desc; /* guest addresses of the three areas */
	uint64_t avail;
	uint64_t used;
	bool event_idx;
	bool indirect;
};

void virtq_init(struct virtq *vq, const struct gmem *mem);

/*
 * Map the rings and start serving. num must be a power of two no larger
 * than VIRTQ_NUM_MAX; the areas must be aligned (16/2/4) and mapped.
 * Returns 0 or a negative errno (the queue stays disabled).
 */
int virtq_enable(struct virtq *vq, const struct virtq_layout *layout);

/* Unmap the rings; the queue forgets all state. Idempotent. */
void virtq_disable(struct virtq *vq);

/*
 * Take the next available chain and map its buffers.
 * Returns 1 with *chain filled, 0 when the driver has made nothing
 * available, or a negative errno when the driver broke the ring contract
 * (the chain is not consumed and nothing stays mapped).
 */
int virtq_pop(struct virtq *vq, struct virtq_chain *chain);

/*
 * Return a chain to the driver: unmap its buffers (before publishing, as
 * grant mappings require), then publish a used element saying the device
 * wrote `written` bytes.
 */
void virtq_push(struct virtq *vq, struct virtq_chain *chain, uint32_t written);

/* Unmap a popped chain without returning it (used on device reset). */
void virtq_chain_release(struct virtq *vq, struct virtq_chain *chain);

/*
 * After one or more pushes: does the driver want an interrupt now?
 * Honours VRING_AVAIL_F_NO_INTERRUPT, or used_event with EVENT_IDX.
 */
bool virtq_should_notify(struct virtq *vq);

/* Does the avail ring hold chains we have not popped? */
bool virtq_has_avail(struct virtq *vq);

/*
 * Byte-stream access to a chain, ignoring segment boundaries (the guest
 * driver splits payloads anywhere).
 */
struct virtq_cursor {
	const struct virtq_iov *iov;
	unsigned n;  /* segments */
	unsigned i;  /* current segment */
	size_t off;  /* offset in it */
	size_t done; /* bytes moved so far */
};

/* A cursor over the device-readable part of the chain. */
void virtq_reader(struct virtq_cursor *c, const struct virtq_chain *chain);
/* A cursor over the device-writable part of the chain. */
void virtq_writer(struct virtq_cursor *c, const struct virtq_chain *chain);
/* Bytes left after the cursor. */
size_t virtq_cursor_left(const struct virtq_cursor *c);
/* Copy exactly len bytes out; -EMSGSIZE (and nothing copied) if short. */
int virtq_read(struct virtq_cursor *c, void *buf, size_t len);
/* Copy exactly len bytes in; -EMSGSIZE (and nothing written) if short. */
int virtq_write(struct virtq_cursor *c, const void *buf, size_t len);
/* Skip len bytes; -EMSGSIZE if short. */
int virtq_skip(struct virtq_cursor *c, size_t len);

#endif
