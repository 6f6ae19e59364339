/* SPDX-License-Identifier: MIT */
/*
 * The fuzz_virtqueue seed: the first recorded commandq chains, moved into
 * the target's small RAM (32 KiB at guest address 0x1000) with the same
 * shapes (segment lengths, directions, indirect tables) and the same
 * readable bytes, then the steps a device takes to serve them. Writable
 * segments all share one zeroed area past the image, so a seed holds
 * little more than the guest's own bytes.
 */
#include <linux/virtio_ring.h>
#include <string.h>

#include "fuzz_input.h"
#include "fuzz_record.h"

#define VQ_BASE	  0x1000u /* the target's RAM_BASE */
#define VQ_NUM	  64u
#define VQ_AVAIL  0x400u
#define VQ_USED	  0x600u
#define VQ_DATA	  0x810u  /* after the used ring */
#define VQ_WRITE  0x7000u /* writable segments share this, past the image */
#define VQ_CHAINS 12u

/* Steps of fuzz_virtqueue (its enum op). */
enum { OP_POP = 0, OP_PUSH = 1, OP_READ = 3, OP_WRITE = 4, OP_NOTIFY = 7 };

void vq_image_init(struct vq_image *v)
{
	memset(v->ram, 0, sizeof(v->ram));
	v->data_end = VQ_DATA;
	v->next_desc = 0;
	v->chains = 0;
	v->full = false;
	v->ops = (struct seed_buf){ 0 };
}

static void put_desc(uint8_t *at, uint64_t addr, uint32_t len, uint16_t flags,
		     uint16_t next)
{
	fz_put64(at, addr);
	fz_put32(at + 8, len);
	fz_put16(at + 12, flags);
	fz_put16(at + 14, next);
}

static size_t align16(size_t n)
{
	return (n + 15) & ~(size_t)15;
}

/* Room for the chain's buffers (and table); false when the image is full. */
static bool fits(const struct vq_image *v, const struct rec_chain *c)
{
	size_t need = c->indirect ? align16(c->n * 16u) : 0;
	unsigned descs = c->indirect ? 1 : c->n;

	for (unsigned i = 0; i < c->n; i++) {
		if (c->seg[i].writable &&
		    c->seg[i].len > sizeof(v->ram) - VQ_WRITE)
			return false;
		if (!c->seg[i].writable)
			need += align16(c->seg[i].len);
	}
	return v->chains < VQ_CHAINS && v->next_desc + descs <= VQ_NUM &&
	       need <= VQ_WRITE - v->data_end;
}

static uint16_t desc_flags(const struct rec_chain *c, unsigned i)
{
	return (uint16_t)((c->seg[i].writable ? VRING_DESC_F_WRITE : 0) |
			  (i + 1 < c->n ? VRING_DESC_F_NEXT : 0));
}

static void add_ops(struct vq_image *v, const struct rec_chain *c)
{
	uint64_t rd = 0, wr = 0;

	for (unsigned i = 0; i < c->n; i++) {
		if (c->seg[i].writable)
			wr += c->seg[i].len;
		else
			rd += c->seg[i].len;
	}
	seed_u8(&v->ops, OP_POP);
	seed_u8(&v->ops, OP_READ);
	seed_u16(&v->ops, (uint16_t)(rd > 0xffff ? 0xffff : rd));
	seed_u8(&v->ops, OP_WRITE);
	seed_u16(&v->ops, (uint16_t)(wr > 0xffff ? 0xffff : wr));
	seed_u8(&v->ops, OP_PUSH);
	seed_u32(&v->ops, (uint32_t)wr);
}

void vq_image_add(struct vq_image *v, struct vg_transport *t,
		  const struct rec_chain *c)
{
	uint64_t addr[REC_MAX_SEGS];
	uint16_t head = v->next_desc;
	size_t table = 0;

	if (v->full || c->n == 0 || !fits(v, c)) {
		v->full = true;
		return;
	}
	if (c->indirect) {
		table = v->data_end;
		v->data_end += align16(c->n * 16u);
	}
	for (unsigned i = 0; i < c->n; i++) {
		const void *p = vg_ram_ptr(t, c->seg[i].gpa, c->seg[i].len);

		if (c->seg[i].writable) {
			addr[i] = VQ_BASE + VQ_WRITE;
			continue;
		}
		addr[i] = VQ_BASE + v->data_end;
		if (p)
			memcpy(v->ram + v->data_end, p, c->seg[i].len);
		v->data_end += align16(c->seg[i].len);
	}
	for (unsigned i = 0; i < c->n; i++) {
		uint8_t *at = c->indirect ? v->ram + table + i * 16u
					  : v->ram + (head + i) * 16u;

		put_desc(at, addr[i], c->seg[i].len, desc_flags(c, i),
			 (uint16_t)(c->indirect ? i + 1 : head + i + 1));
	}
	if (c->indirect)
		put_desc(v->ram + head * 16u, VQ_BASE + table, c->n * 16u,
			 VRING_DESC_F_INDIRECT, 0);
	v->next_desc += c->indirect ? 1 : c->n;
	fz_put16(v->ram + VQ_AVAIL + 4 + 2u * v->chains, head);
	v->chains++;
	add_ops(v, c);
}

int vq_image_write(struct vq_image *v, struct seed_buf *out)
{
	int e;

	fz_put16(v->ram + VQ_AVAIL + 2, v->chains);
	/* size 6: 64 entries; flags: EVENT_IDX and INDIRECT_DESC */
	e = seed_u8(out, 6) | seed_u8(out, 3) | seed_u16(out, 0) |
	    seed_u16(out, VQ_AVAIL) | seed_u16(out, VQ_USED) |
	    seed_u16(out, (uint16_t)v->data_end) |
	    seed_put(out, v->ram, v->data_end);
	if (v->ops.len)
		e |= seed_put(out, v->ops.p, v->ops.len);
	e |= seed_u8(out, OP_NOTIFY);
	return e ? -1 : 0;
}
