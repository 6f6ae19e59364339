/* SPDX-License-Identifier: MIT */
/*
 * Rings the test writes by hand. vg_vring only makes well-formed chains;
 * an attack needs loops, wild addresses and lying lengths, so here the
 * descriptor table, avail ring and used ring are plain guest RAM the cases
 * poke directly.
 */
#ifndef VMEDIA_TESTS_ATTACK_ATK_RING_H
#define VMEDIA_TESTS_ATTACK_ATK_RING_H

#include <linux/virtio_ring.h>
#include <stdbool.h>
#include <stdint.h>

#include "vg_ram.h"
#include "vg_virtio.h"

struct atk_rq {
	struct vg_virtio *dev;
	struct vg_ram *ram;
	unsigned q;
	uint16_t num;
	struct vg_mem mem;
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
	uint64_t desc_gpa, avail_gpa, used_gpa;
	uint16_t avail_idx; /* next avail->idx we publish */
	uint16_t last_used; /* next used element to read */
};

/* A device brought up by hand: both queues raw, a scratch buffer. */
struct atk_rdev {
	struct vg_virtio dev;
	struct vg_ram *ram;
	struct atk_rq q[2];
	struct vg_mem buf; /* ATK_RBUF bytes for commands and answers */
	bool up;
};

#define ATK_RBUF (1u << 20)

/*
 * Reset device `index`, negotiate `features` (VERSION_1 is added), set
 * both queues up with `num` entries and set DRIVER_OK.
 */
int atk_rdev_up(struct atk_rdev *r, struct vg_transport *t, struct vg_ram *ram,
		unsigned index, uint64_t features, uint16_t num);
/* Reset the device and free its memory. */
void atk_rdev_down(struct atk_rdev *r);

/* Write descriptor i. */
void atk_rq_desc(struct atk_rq *q, uint16_t i, uint64_t addr, uint32_t len,
		 uint16_t flags, uint16_t next);
/* Put head in the next avail slot and publish it. */
void atk_rq_post(struct atk_rq *q, uint16_t head);
/* Publish avail->idx = idx as is (for lies about the index). */
void atk_rq_set_avail_idx(struct atk_rq *q, uint16_t idx);
int atk_rq_kick(struct atk_rq *q);
uint16_t atk_rq_used_idx(const struct atk_rq *q);
/* The next used element: 1 with *e, 0 when none yet. */
int atk_rq_take(struct atk_rq *q, struct vring_used_elem *e);
int atk_rq_wait(struct atk_rq *q, int timeout_ms, struct vring_used_elem *e);

/* Guest address and host view of offset off in the scratch buffer. */
uint64_t atk_rbuf_gpa(const struct atk_rdev *r, uint32_t off);
void *atk_rbuf(const struct atk_rdev *r, uint32_t off);

/*
 * One command on descriptors 0 (len readable bytes at buffer offset 0)
 * and 1 (resp_len writable bytes at offset 4096), head 0; waits for the
 * used element. 1 with *e, or a negative errno.
 */
int atk_rdev_call(struct atk_rdev *r, const void *cmd, uint32_t len,
		  uint32_t resp_len, struct vring_used_elem *e);

/*
 * A good OPEN on the raw commandq, then CLOSE: the device serves. Returns
 * 0, or a negative errno / -EIO for a wrong answer.
 */
int atk_rdev_roundtrip(struct atk_rdev *r);

/* STATUS read; ISR read and acknowledged. */
uint32_t atk_rdev_status(struct atk_rdev *r);
uint32_t atk_rdev_isr(struct atk_rdev *r);

/*
 * Case helper: after the attack was kicked, the device says NEEDS_RESET,
 * raised a config interrupt and published nothing on queue q; then a
 * reset and a fresh bring-up serve a command again.
 */
void atk_expect_broken(struct atk_rdev *r, unsigned q, uint16_t used_before);

#endif
