/* SPDX-License-Identifier: MIT */
#include "fakes/ring_builder.h"

#include <endian.h>
#include <linux/virtio_ring.h>
#include <stdlib.h>
#include <string.h>

static void put16(struct fake_mem *mem, uint64_t addr, uint16_t v)
{
	uint16_t le = htole16(v);

	fake_mem_write(mem, addr, &le, sizeof(le));
}

static void put32(struct fake_mem *mem, uint64_t addr, uint32_t v)
{
	uint32_t le = htole32(v);

	fake_mem_write(mem, addr, &le, sizeof(le));
}

static void put64(struct fake_mem *mem, uint64_t addr, uint64_t v)
{
	uint64_t le = htole64(v);

	fake_mem_write(mem, addr, &le, sizeof(le));
}

static uint16_t get16(struct fake_mem *mem, uint64_t addr)
{
	uint16_t le;

	fake_mem_read(mem, addr, &le, sizeof(le));
	return le16toh(le);
}

static uint32_t get32(struct fake_mem *mem, uint64_t addr)
{
	uint32_t le;

	fake_mem_read(mem, addr, &le, sizeof(le));
	return le32toh(le);
}

static uint64_t get64(struct fake_mem *mem, uint64_t addr)
{
	uint64_t le;

	fake_mem_read(mem, addr, &le, sizeof(le));
	return le64toh(le);
}

size_t rb_desc_bytes(uint16_t num)
{
	return sizeof(struct vring_desc) * (size_t)num;
}

size_t rb_avail_bytes(uint16_t num)
{
	return 6 + 2 * (size_t)num;
}

size_t rb_used_bytes(uint16_t num)
{
	return 6 + sizeof(struct vring_used_elem) * (size_t)num;
}

/*
 * Zero the part of an area that lies in RAM: a test may put a ring whose
 * optional trailing event word would fall just past the end of RAM.
 */
static void zero_area(struct fake_mem *mem, uint64_t addr, size_t len)
{
	while (len && !fake_mem_contains(mem, addr, len))
		len--;
	if (len)
		fake_mem_fill(mem, addr, 0, len);
}

void rb_init(struct ring_builder *rb, struct fake_mem *mem, uint16_t num,
	     uint64_t desc, uint64_t avail, uint64_t used)
{
	memset(rb, 0, sizeof(*rb));
	rb->mem = mem;
	rb->num = num;
	rb->desc = desc;
	rb->avail = avail;
	rb->used = used;
	zero_area(mem, desc, rb_desc_bytes(num));
	zero_area(mem, avail, rb_avail_bytes(num));
	zero_area(mem, used, rb_used_bytes(num));
}

void rb_init_at(struct ring_builder *rb, struct fake_mem *mem, uint16_t num,
		uint64_t base)
{
	uint64_t avail = base + rb_desc_bytes(num);
	uint64_t used = (avail + rb_avail_bytes(num) + 3) & ~(uint64_t)3;

	rb_init(rb, mem, num, base, avail, used);
}

uint64_t rb_end(const struct ring_builder *rb)
{
	uint64_t e = rb->desc + rb_desc_bytes(rb->num);

	if (rb->avail + rb_avail_bytes(rb->num) > e)
		e = rb->avail + rb_avail_bytes(rb->num);
	if (rb->used + rb_used_bytes(rb->num) > e)
		e = rb->used + rb_used_bytes(rb->num);
	return e;
}

void rb_layout(const struct ring_builder *rb, struct virtq_layout *l,
	       bool event_idx, bool indirect)
{
	memset(l, 0, sizeof(*l));
	l->num = rb->num;
	l->desc = rb->desc;
	l->avail = rb->avail;
	l->used = rb->used;
	l->event_idx = event_idx;
	l->indirect = indirect;
}

void rb_table_set(struct fake_mem *mem, uint64_t table, unsigned i,
		  uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
	uint64_t d = table + (uint64_t)i * sizeof(struct vring_desc);

	put64(mem, d + offsetof(struct vring_desc, addr), addr);
	put32(mem, d + offsetof(struct vring_desc, len), len);
	put16(mem, d + offsetof(struct vring_desc, flags), flags);
	put16(mem, d + offsetof(struct vring_desc, next), next);
}

void rb_table_get(struct fake_mem *mem, uint64_t table, unsigned i,
		  uint64_t *addr, uint32_t *len, uint16_t *flags,
		  uint16_t *next)
{
	uint64_t d = table + (uint64_t)i * sizeof(struct vring_desc);

	if (addr)
		*addr = get64(mem, d + offsetof(struct vring_desc, addr));
	if (len)
		*len = get32(mem, d + offsetof(struct vring_desc, len));
	if (flags)
		*flags = get16(mem, d + offsetof(struct vring_desc, flags));
	if (next)
		*next = get16(mem, d + offsetof(struct vring_desc, next));
}

void rb_table_chain(struct fake_mem *mem, uint64_t table,
		    const struct rb_seg *segs, unsigned n)
{
	unsigned k;

	for (k = 0; k < n; k++) {
		uint16_t flags = segs[k].write ? VRING_DESC_F_WRITE : 0;

		if (k + 1 < n)
			flags |= VRING_DESC_F_NEXT;
		rb_table_set(mem, table, k, segs[k].addr, segs[k].len, flags,
			     k + 1 < n ? (uint16_t)(k + 1) : 0);
	}
}

void rb_set_desc(struct ring_builder *rb, unsigned i, uint64_t addr,
		 uint32_t len, uint16_t flags, uint16_t next)
{
	rb_table_set(rb->mem, rb->desc, i, addr, len, flags, next);
}

void rb_get_desc(struct ring_builder *rb, unsigned i, uint64_t *addr,
		 uint32_t *len, uint16_t *flags, uint16_t *next)
{
	rb_table_get(rb->mem, rb->desc, i, addr, len, flags, next);
}

uint16_t rb_chain(struct ring_builder *rb, const uint16_t *idx,
		  const struct rb_seg *segs, unsigned n)
{
	unsigned k;

	for (k = 0; k < n; k++) {
		uint16_t flags = segs[k].write ? VRING_DESC_F_WRITE : 0;
		uint16_t next = 0;

		if (k + 1 < n) {
			flags |= VRING_DESC_F_NEXT;
			next = idx[k + 1];
		}
		rb_set_desc(rb, idx[k], segs[k].addr, segs[k].len, flags, next);
	}
	return idx[0];
}

uint16_t rb_chain_seq(struct ring_builder *rb, uint16_t head,
		      const struct rb_seg *segs, unsigned n)
{
	uint16_t idx[VIRTQ_NUM_MAX + 8];
	unsigned k;

	if (n > VIRTQ_NUM_MAX + 8)
		abort(); /* test bug */
	for (k = 0; k < n; k++)
		idx[k] = (uint16_t)((head + k) % rb->num);
	return rb_chain(rb, idx, segs, n);
}

void rb_set_indirect(struct ring_builder *rb, unsigned i, uint64_t table,
		     uint32_t len)
{
	rb_set_desc(rb, i, table, len, VRING_DESC_F_INDIRECT, 0);
}

static uint64_t avail_ring(const struct ring_builder *rb, unsigned slot)
{
	return rb->avail + 4 + 2 * (uint64_t)slot;
}

void rb_avail_put(struct ring_builder *rb, uint16_t slot, uint16_t head)
{
	put16(rb->mem, avail_ring(rb, slot % rb->num), head);
}

void rb_avail_set_idx(struct ring_builder *rb, uint16_t idx)
{
	rb->avail_idx = idx;
	put16(rb->mem, rb->avail + 2, idx);
}

uint16_t rb_avail_get_idx(struct ring_builder *rb)
{
	return get16(rb->mem, rb->avail + 2);
}

void rb_publish(struct ring_builder *rb, uint16_t head)
{
	rb_avail_put(rb, rb->avail_idx, head);
	rb_avail_set_idx(rb, (uint16_t)(rb->avail_idx + 1));
}

void rb_avail_set_flags(struct ring_builder *rb, uint16_t flags)
{
	put16(rb->mem, rb->avail, flags);
}

void rb_set_used_event(struct ring_builder *rb, uint16_t v)
{
	put16(rb->mem, avail_ring(rb, rb->num), v);
}

uint16_t rb_used_idx(struct ring_builder *rb)
{
	return get16(rb->mem, rb->used + 2);
}

uint16_t rb_used_flags(struct ring_builder *rb)
{
	return get16(rb->mem, rb->used);
}

uint16_t rb_avail_event(struct ring_builder *rb)
{
	return get16(rb->mem,
		     rb->used + 4 + sizeof(struct vring_used_elem) * rb->num);
}

void rb_used_elem(struct ring_builder *rb, uint16_t slot, uint32_t *id,
		  uint32_t *len)
{
	uint64_t e =
		rb->used + 4 +
		sizeof(struct vring_used_elem) * (uint64_t)(slot % rb->num);

	if (id)
		*id = get32(rb->mem, e + offsetof(struct vring_used_elem, id));
	if (len)
		*len = get32(rb->mem,
			     e + offsetof(struct vring_used_elem, len));
}

bool rb_take_used(struct ring_builder *rb, uint32_t *id, uint32_t *len)
{
	if (rb_used_idx(rb) == rb->used_seen)
		return false;
	rb_used_elem(rb, rb->used_seen, id, len);
	rb->used_seen++;
	return true;
}

void rb_used_set_idx(struct ring_builder *rb, uint16_t v)
{
	put16(rb->mem, rb->used + 2, v);
}
