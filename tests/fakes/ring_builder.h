/* SPDX-License-Identifier: MIT */
/*
 * The driver's side of a split virtqueue, written straight into fake guest
 * RAM. Nothing is checked: a test can write anything a hostile guest could
 * (loops, bogus indices, overlapping areas, indices that jump). Guest
 * addresses only need to lie inside the fake RAM, since the builder itself
 * writes there (it aborts on a test bug otherwise).
 *
 * Values are stored little-endian, as virtio 1.x requires.
 */
#ifndef VMEDIA_TESTS_RING_BUILDER_H
#define VMEDIA_TESTS_RING_BUILDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fakes/fake_mem.h"
#include "vmedia/virtqueue.h"

/* One buffer of a chain, as the driver describes it. */
struct rb_seg {
	uint64_t addr;
	uint32_t len;
	bool write; /* device-writable (VRING_DESC_F_WRITE) */
};

struct ring_builder {
	struct fake_mem *mem;
	uint16_t num;
	uint64_t desc, avail, used; /* guest addresses of the three areas */
	uint16_t avail_idx;	    /* the driver's next avail->idx */
	uint16_t used_seen;	    /* used elements the driver consumed */
};

/* Spec sizes of the three areas (including used_event / avail_event). */
size_t rb_desc_bytes(uint16_t num);
size_t rb_avail_bytes(uint16_t num);
size_t rb_used_bytes(uint16_t num);

/*
 * Use the areas at the given guest addresses; zero them (the part of each
 * that lies inside RAM).
 */
void rb_init(struct ring_builder *rb, struct fake_mem *mem, uint16_t num,
	     uint64_t desc, uint64_t avail, uint64_t used);
/*
 * Lay the three areas out one after another from base: desc at base,
 * avail right after it, used at the next 4-byte boundary. Zeroes them.
 */
void rb_init_at(struct ring_builder *rb, struct fake_mem *mem, uint16_t num,
		uint64_t base);
/* End (exclusive guest address) of the highest of the three areas. */
uint64_t rb_end(const struct ring_builder *rb);
/* The layout to hand to virtq_enable(). */
void rb_layout(const struct ring_builder *rb, struct virtq_layout *l,
	       bool event_idx, bool indirect);

/* ---- descriptors --------------------------------------------------------*/

/* Write entry i of a descriptor table at guest address `table`. */
void rb_table_set(struct fake_mem *mem, uint64_t table, unsigned i,
		  uint64_t addr, uint32_t len, uint16_t flags, uint16_t next);
/* Read it back (any argument but mem/table/i may be NULL). */
void rb_table_get(struct fake_mem *mem, uint64_t table, unsigned i,
		  uint64_t *addr, uint32_t *len, uint16_t *flags,
		  uint16_t *next);
/*
 * Write segs[0..n) as a chain into entries 0..n-1 of the table at `table`,
 * linked in order with VRING_DESC_F_NEXT (the last has no NEXT).
 */
void rb_table_chain(struct fake_mem *mem, uint64_t table,
		    const struct rb_seg *segs, unsigned n);

/* Write descriptor i of the ring's table (i is not reduced modulo num). */
void rb_set_desc(struct ring_builder *rb, unsigned i, uint64_t addr,
		 uint32_t len, uint16_t flags, uint16_t next);
void rb_get_desc(struct ring_builder *rb, unsigned i, uint64_t *addr,
		 uint32_t *len, uint16_t *flags, uint16_t *next);
/*
 * Write segs[0..n) into descriptors idx[0..n), linked idx[k] -> idx[k+1].
 * Returns idx[0], the head.
 */
uint16_t rb_chain(struct ring_builder *rb, const uint16_t *idx,
		  const struct rb_seg *segs, unsigned n);
/* Same, using the descriptors head, head + 1, ... (modulo num). */
uint16_t rb_chain_seq(struct ring_builder *rb, uint16_t head,
		      const struct rb_seg *segs, unsigned n);
/* Make descriptor i an indirect descriptor for the table [table, +len). */
void rb_set_indirect(struct ring_builder *rb, unsigned i, uint64_t table,
		     uint32_t len);

/* ---- available ring ----------------------------------------------------*/

/* Put head in the next slot and publish it (avail->idx + 1). */
void rb_publish(struct ring_builder *rb, uint16_t head);
/* Write avail->ring[slot % num] without publishing. */
void rb_avail_put(struct ring_builder *rb, uint16_t slot, uint16_t head);
/* Write avail->idx (and the builder's copy) to any value. */
void rb_avail_set_idx(struct ring_builder *rb, uint16_t idx);
uint16_t rb_avail_get_idx(struct ring_builder *rb);
void rb_avail_set_flags(struct ring_builder *rb, uint16_t flags);
/* used_event: avail->ring[num] (read by the device with EVENT_IDX). */
void rb_set_used_event(struct ring_builder *rb, uint16_t v);

/* ---- used ring ---------------------------------------------------------*/

uint16_t rb_used_idx(struct ring_builder *rb);
uint16_t rb_used_flags(struct ring_builder *rb);
/* avail_event: the u16 after used->ring[num - 1]. */
uint16_t rb_avail_event(struct ring_builder *rb);
/* Element used->ring[slot % num]. */
void rb_used_elem(struct ring_builder *rb, uint16_t slot, uint32_t *id,
		  uint32_t *len);
/*
 * Consume the next used element the driver has not seen: returns false
 * when used->idx == the builder's count, else fills id/len and advances.
 */
bool rb_take_used(struct ring_builder *rb, uint32_t *id, uint32_t *len);
/* Scribble on used->idx / used->flags as a hostile driver could. */
void rb_used_set_idx(struct ring_builder *rb, uint16_t v);

#endif
