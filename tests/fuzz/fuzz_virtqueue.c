/* SPDX-License-Identifier: MIT */
/*
 * fuzz_virtqueue: the device side of the split ring over guest memory the
 * fuzzer writes. The fuzzer chooses the ring size, features and the three
 * areas' addresses, fills RAM, and then drives the device: pop, push,
 * release, byte-stream reads and writes through cursors, rewrites of RAM
 * between steps and during a walk (a second vCPU), failing maps, queue
 * reset, notification checks.
 *
 * After every step: exactly the ring's three mappings plus those of the
 * chains the device holds are live, nothing was unmapped twice, and every
 * popped chain lies in RAM with the shape the spec allows. While the
 * device runs, RAM it has not mapped is poisoned (fuzz_mem.h).
 *
 * Input:
 *   u8  size     num = 1 << (size % 9); bit 7: num = the next u16, raw
 *   u8  flags    bit0 EVENT_IDX, bit1 INDIRECT_DESC
 *   u16 desc, avail, used   offsets of the areas from the RAM base
 *   u16 image length, then that many bytes of RAM from offset 0
 *   steps until the input ends: u8 op (op % 12), then its arguments
 */
#include <errno.h>
#include <linux/virtio_ring.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_input.h"
#include "fuzz_mem.h"
#include "vmedia/virtqueue.h"

#define RAM_BASE  0x1000ull
#define RAM_SIZE  0x8000u
#define SLOTS	  4u
#define MAX_STEPS 512u

enum op {
	OP_POP,
	OP_PUSH,
	OP_RELEASE,
	OP_READ,
	OP_WRITE,
	OP_SKIP,
	OP_POKE,
	OP_NOTIFY,
	OP_RESET,
	OP_TAMPER,
	OP_FAIL,
	OP_SERVE,
	OP_COUNT
};

struct slot {
	bool held;
	struct virtq_chain chain;
	struct virtq_cursor rd, wr;
};

static struct fg_mem mem;
static struct virtq vq;
static struct virtq_layout layout;
static struct slot slots[SLOTS];
static uint8_t scratch[1u << 16];

static unsigned held_segments(void)
{
	unsigned n = 0;

	for (unsigned i = 0; i < SLOTS; i++)
		if (slots[i].held)
			n += slots[i].chain.n_out + slots[i].chain.n_in;
	return n;
}

/* The mappings promise: the rings' own and the held chains', no more. */
static void check_maps(void)
{
	unsigned want = (vq.enabled ? 3u : 0u) + held_segments();

	if (mem.fm.live != want)
		fg_fail("%u guest mappings live, %u expected", mem.fm.live,
			want);
	if (mem.fm.bad_unmaps || mem.fm.contract_violations)
		fg_fail("%u bad unmaps, %u gmem contract violations",
			mem.fm.bad_unmaps, mem.fm.contract_violations);
}

/* A popped chain: in RAM, mapped as described, a shape the spec allows. */
static void check_chain(const struct virtq_chain *c)
{
	unsigned n = c->n_out + c->n_in;
	uint64_t total = 0;

	if (n == 0 || n > vq.num || c->head >= vq.num)
		fg_fail("chain of %u segments, head %u, ring of %u", n, c->head,
			vq.num);
	for (unsigned i = 0; i < n; i++) {
		const uint8_t *p = c->iov[i].base;

		if (!c->iov[i].len || c->map[i].ptr != p ||
		    c->map[i].len != c->iov[i].len)
			fg_fail("segment %u: len %u, not as mapped", i,
				c->iov[i].len);
		if (p < mem.fm.ram || p + c->iov[i].len > mem.fm.ram + RAM_SIZE)
			fg_fail("segment %u outside guest RAM", i);
		total += c->iov[i].len;
	}
	if (total > UINT32_MAX)
		fg_fail("chain of %llu bytes", (unsigned long long)total);
}

static struct slot *slot_of(uint8_t op)
{
	return &slots[(op >> 4) % SLOTS];
}

static void do_pop(struct slot *s)
{
	uint16_t before = vq.last_avail;
	int ret;

	if (s->held)
		return;
	fg_mem_guard(&mem, true);
	ret = virtq_pop(&vq, &s->chain);
	fg_mem_guard(&mem, false);
	if (ret < 0 || ret == 0) {
		if (vq.last_avail != before || s->chain.n_out || s->chain.n_in)
			fg_fail("pop returned %d but consumed or kept a chain",
				ret);
		return;
	}
	if (ret != 1 || vq.last_avail != (uint16_t)(before + 1))
		fg_fail("pop returned %d, avail %u -> %u", ret, before,
			vq.last_avail);
	check_chain(&s->chain);
	s->held = true;
	virtq_reader(&s->rd, &s->chain);
	virtq_writer(&s->wr, &s->chain);
}

static uint64_t writable_len(const struct virtq_chain *c)
{
	uint64_t n = 0;

	for (unsigned i = c->n_out; i < (unsigned)c->n_out + c->n_in; i++)
		n += c->iov[i].len;
	return n;
}

/* After a push: the element the device published names the chain. */
static void check_used(uint16_t head, uint64_t room, uint16_t idx_before)
{
	uint16_t idx;
	uint32_t id, len;
	const uint8_t *used = (const uint8_t *)vq.used;
	unsigned slot = (uint16_t)(vq.used_idx - 1) % vq.num;

	if (vq.used_idx != (uint16_t)(idx_before + 1))
		fg_fail("push moved used_idx %u -> %u", idx_before,
			vq.used_idx);
	memcpy(&idx, used + 2, sizeof(idx));
	memcpy(&id, used + 4 + 8 * slot, sizeof(id));
	memcpy(&len, used + 8 + 8 * slot, sizeof(len));
	if (idx != vq.used_idx || id != head || len > room)
		fg_fail("used idx %u (want %u), id %u (want %u), len %u of "
			"%llu",
			idx, vq.used_idx, id, head, len,
			(unsigned long long)room);
}

static void do_push(struct slot *s, uint32_t written)
{
	uint16_t head = s->chain.head, before = vq.used_idx;
	uint64_t room = writable_len(&s->chain);

	if (!s->held)
		return;
	fg_mem_guard(&mem, true);
	virtq_push(&vq, &s->chain, written);
	fg_mem_guard(&mem, false);
	s->held = false;
	if (vq.enabled)
		check_used(head, room, before);
}

static void do_release(struct slot *s)
{
	if (!s->held)
		return;
	virtq_chain_release(&vq, &s->chain);
	s->held = false;
}

/* Cursor moves: exactly len bytes or nothing, and the counts agree. */
static void do_cursor(struct slot *s, enum op op, size_t len)
{
	struct virtq_cursor *c = op == OP_WRITE ? &s->wr : &s->rd;
	size_t left, done;
	int ret;

	if (!s->held)
		return;
	left = virtq_cursor_left(c);
	done = c->done;
	fg_mem_guard(&mem, true);
	if (op == OP_READ)
		ret = virtq_read(c, scratch, len);
	else if (op == OP_WRITE)
		ret = virtq_write(c, memset(scratch, 0xa5, len), len);
	else
		ret = virtq_skip(c, len);
	fg_mem_guard(&mem, false);
	if ((len <= left) != (ret == 0) ||
	    c->done != done + (ret == 0 ? len : 0) ||
	    virtq_cursor_left(c) != left - (ret == 0 ? len : 0))
		fg_fail("cursor op %d of %zu with %zu left: ret %d, done %zu",
			op, len, left, ret, c->done);
}

static void do_poke(struct fz *f)
{
	uint16_t off = fz_u16(f) % RAM_SIZE;
	uint8_t len = fz_u8(f);
	uint8_t buf[256];

	fz_copy(f, buf, len);
	if (len > RAM_SIZE - off)
		len = (uint8_t)(RAM_SIZE - off);
	memcpy(mem.fm.ram + off, buf, len);
}

static void do_reset(void)
{
	/* Chains held across a reset are released by their push. */
	virtq_disable(&vq);
	(void)virtq_enable(&vq, &layout);
}

static void do_tamper(struct fz *f)
{
	uint8_t nth = fz_u8(f), len = fz_u8(f) % 9, bytes[8];
	uint16_t off = fz_u16(f);

	fz_copy(f, bytes, len);
	fg_mem_tamper(&mem, nth, off, bytes, len);
}

/* Segments may all map the same RAM: a chain can be larger than it. */
static size_t cap(size_t len)
{
	return len < sizeof(scratch) ? len : sizeof(scratch);
}

/* What a device's queue handler does: serve until empty or broken. */
static void do_serve(void)
{
	struct slot *s = &slots[0];

	for (unsigned i = 0; i < vq.num + 1u && !s->held; i++) {
		do_pop(s);
		if (!s->held)
			return;
		do_cursor(s, OP_READ, cap(virtq_cursor_left(&s->rd)));
		do_cursor(s, OP_WRITE, cap(virtq_cursor_left(&s->wr) / 2));
		do_push(s, (uint32_t)s->wr.done);
	}
}

static void step(struct fz *f)
{
	uint8_t op = fz_u8(f);
	struct slot *s = slot_of(op);

	switch (op % OP_COUNT) {
	case OP_POP:
		do_pop(s);
		break;
	case OP_PUSH:
		do_push(s, fz_u32(f));
		break;
	case OP_RELEASE:
		do_release(s);
		break;
	case OP_READ:
	case OP_WRITE:
	case OP_SKIP:
		do_cursor(s, (enum op)(op % OP_COUNT), fz_u16(f));
		break;
	case OP_POKE:
		do_poke(f);
		break;
	case OP_NOTIFY:
		fg_mem_guard(&mem, true);
		(void)virtq_should_notify(&vq);
		(void)virtq_has_avail(&vq);
		fg_mem_guard(&mem, false);
		break;
	case OP_RESET:
		do_reset();
		break;
	case OP_TAMPER:
		do_tamper(f);
		break;
	case OP_FAIL:
		fake_mem_fail_nth(&mem.fm, fz_u8(f) % 8 + 1,
				  op & 0x10 ? -ENOMEM : -EFAULT);
		break;
	case OP_SERVE:
		do_serve();
		break;
	}
	check_maps();
}

static void read_header(struct fz *f)
{
	uint8_t size = fz_u8(f), flags = fz_u8(f);
	size_t got;
	const uint8_t *image;

	memset(&layout, 0, sizeof(layout));
	layout.num = size & 0x80 ? fz_u16(f) : (uint16_t)(1u << (size % 9));
	layout.event_idx = flags & 1;
	layout.indirect = flags & 2;
	layout.desc = RAM_BASE + fz_u16(f);
	layout.avail = RAM_BASE + fz_u16(f);
	layout.used = RAM_BASE + fz_u16(f);
	image = fz_take(f, fz_u16(f), &got);
	memcpy(mem.fm.ram, image, got < RAM_SIZE ? got : RAM_SIZE);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool made;
	struct fz f;

	if (!made) {
		fg_log_init();
		fg_mem_init(&mem, RAM_BASE, RAM_SIZE);
		made = true;
	}
	fg_mem_reset(&mem);
	memset(slots, 0, sizeof(slots));
	fz_init(&f, data, size);
	read_header(&f);
	virtq_init(&vq, &mem.gmem);
	(void)virtq_enable(&vq, &layout);
	check_maps();
	/* Bounded: a long input is not more interesting, only slower. */
	for (unsigned i = 0; i < MAX_STEPS && !fz_empty(&f); i++)
		step(&f);
	for (unsigned i = 0; i < SLOTS; i++)
		do_release(&slots[i]);
	virtq_disable(&vq);
	fg_mem_check_clean(&mem);
	return 0;
}
