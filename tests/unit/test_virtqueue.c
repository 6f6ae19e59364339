/* SPDX-License-Identifier: MIT */
/*
 * Normal behaviour of the device side of a split virtqueue: enable/disable,
 * pop/push of direct and indirect chains, the readable/writable split, the
 * byte cursor, notification suppression and 16-bit index wraparound.
 *
 * The driver side is played by tests/fakes/ring_builder over the fake guest
 * RAM of tests/fakes/fake_mem, which also checks that every mapping the
 * queue makes is released.
 */
#include <errno.h>
#include <linux/virtio_ring.h>
#include <stdint.h>
#include <string.h>

#include "fakes/fake_mem.h"
#include "fakes/ring_builder.h"
#include "tap.h"
#include "vmedia/virtqueue.h"

#define RAM_BASE  0x40000000ull
#define RAM_SIZE  0x100000u /* 1 MiB */
#define RAM_END	  (RAM_BASE + RAM_SIZE)
#define RING	  (RAM_BASE + 0x1000)  /* rings laid out from here */
#define TABLE	  (RAM_BASE + 0x10000) /* indirect tables */
#define BUF_AREA  (RAM_BASE + 0x20000) /* data buffers */
#define BUF_SLOT  0x1000u
#define N_RINGMAP 3u /* desc, avail, used */

static struct fake_mem fm;
static struct ring_builder rb;
static struct virtq vq;
static struct virtq_chain chain;
static struct virtq_chain chains[3];

static uint64_t buf(unsigned k)
{
	return BUF_AREA + (uint64_t)k * BUF_SLOT;
}

static bool ram_up(void)
{
	int rc = fake_mem_init(&fm, RAM_BASE, RAM_SIZE);

	TAP_CHECK(rc == 0, "fake_mem_init: %d", rc);
	return rc == 0;
}

/* RAM, a zeroed ring of num entries at RING, and the queue enabled. */
static bool setup(uint16_t num, bool event_idx, bool indirect)
{
	struct virtq_layout l;
	int rc;

	if (!ram_up())
		return false;
	rb_init_at(&rb, &fm, num, RING);
	virtq_init(&vq, &fm.gmem);
	rb_layout(&rb, &l, event_idx, indirect);
	rc = virtq_enable(&vq, &l);
	TAP_EQ(rc, 0);
	TAP_EQ(fm.live, N_RINGMAP);
	return rc == 0;
}

static void teardown(void)
{
	virtq_disable(&vq);
	TAP_EQ(fm.live, 0);
	TAP_EQ(fm.bad_unmaps, 0);
	TAP_EQ(fm.contract_violations, 0);
	fake_mem_fini(&fm);
}

/* iov[k] of c is exactly guest range [addr, addr + len). */
static void check_iov(const struct virtq_chain *c, unsigned k, uint64_t addr,
		      uint32_t len)
{
	void *want = fake_mem_ptr(&fm, addr, len);

	TAP_CHECK(c->iov[k].base == want, "iov[%u].base %p, want %p", k,
		  c->iov[k].base, want);
	TAP_EQ(c->iov[k].len, len);
}

/* The live mapping of guest address addr has exactly this access. */
static void check_access(uint64_t addr, unsigned want)
{
	unsigned access = 0;
	bool found = fake_mem_find_live(&fm, addr, NULL, &access);

	TAP_CHECK(found, "no live mapping at 0x%llx", (unsigned long long)addr);
	TAP_EQ(access, want);
}

static void check_used(uint16_t slot, uint32_t id, uint32_t len)
{
	uint32_t got_id = 0xdead, got_len = 0xdead;

	rb_used_elem(&rb, slot, &got_id, &got_len);
	TAP_EQ(got_id, id);
	TAP_EQ(got_len, len);
}

/* Readable one-descriptor chain at descriptor d, buffer k of len bytes. */
static void one_readable(uint16_t d, unsigned k, uint32_t len)
{
	rb_set_desc(&rb, d, buf(k), len, 0, 0);
}

/* ---- enable / disable ----------------------------------------------- */

static void test_init_disabled(void)
{
	int rc;

	if (!ram_up())
		return;
	virtq_init(&vq, &fm.gmem);
	TAP_CHECK(!vq.enabled, "queue enabled after init");
	TAP_CHECK(!virtq_has_avail(&vq), "has_avail on a disabled queue");
	rc = virtq_pop(&vq, &chain);
	TAP_EQ(rc, 0);
	TAP_EQ(fm.map_calls, 0);
	virtq_disable(&vq);
	virtq_disable(&vq);
	TAP_EQ(fm.unmaps, 0);
	teardown();
}

static void test_enable_maps_rings(void)
{
	struct virtq_layout l;
	size_t len = 0;
	unsigned access = 0;
	int rc;

	if (!setup(8, false, false))
		goto out;
	TAP_CHECK(vq.enabled, "queue not enabled");
	TAP_EQ(vq.num, 8);
	TAP_CHECK(!vq.event_idx && !vq.indirect, "features not from layout");

	TAP_CHECK(fake_mem_find_live(&fm, rb.desc, &len, &access),
		  "descriptor table not mapped");
	TAP_CHECK(len >= rb_desc_bytes(8), "desc map %zu bytes", len);
	TAP_CHECK(access & GMEM_READ, "desc access %u", access);
	TAP_CHECK(fake_mem_find_live(&fm, rb.avail, &len, &access),
		  "avail ring not mapped");
	TAP_CHECK(len >= 4 + 2 * 8, "avail map %zu bytes", len);
	TAP_CHECK(access & GMEM_READ, "avail access %u", access);
	TAP_CHECK(fake_mem_find_live(&fm, rb.used, &len, &access),
		  "used ring not mapped");
	TAP_CHECK(len >= 4 + 8 * 8, "used map %zu bytes", len);
	TAP_CHECK(access & GMEM_WRITE, "used access %u", access);

	virtq_disable(&vq);
	TAP_CHECK(!vq.enabled, "enabled after disable");
	TAP_EQ(fm.live, 0);
	TAP_EQ(fm.unmaps, 3);
	virtq_disable(&vq); /* idempotent */
	TAP_EQ(fm.unmaps, 3);
	TAP_EQ(fm.bad_unmaps, 0);

	/* With EVENT_IDX the rings include used_event / avail_event. */
	rb_layout(&rb, &l, true, true);
	rc = virtq_enable(&vq, &l);
	TAP_EQ(rc, 0);
	TAP_CHECK(vq.event_idx && vq.indirect, "features not from layout");
	TAP_CHECK(fake_mem_find_live(&fm, rb.avail, &len, NULL) &&
			  len >= rb_avail_bytes(8),
		  "avail map %zu bytes with EVENT_IDX", len);
	TAP_CHECK(fake_mem_find_live(&fm, rb.used, &len, NULL) &&
			  len >= rb_used_bytes(8),
		  "used map %zu bytes with EVENT_IDX", len);
out:
	teardown();
}

static void test_enable_rings_at_end_of_ram(void)
{
	struct virtq_layout l;
	int rc;

	if (!ram_up())
		return;
	virtq_init(&vq, &fm.gmem);

	/* Descriptor table ending on the last byte of RAM. */
	rb_init(&rb, &fm, 8, RAM_END - rb_desc_bytes(8), RING, RING + 0x100);
	rb_layout(&rb, &l, false, false);
	rc = virtq_enable(&vq, &l);
	TAP_EQ(rc, 0);
	virtq_disable(&vq);

	/* Avail ring with used_event ending on the last byte of RAM. */
	rb_init(&rb, &fm, 8, RING, RAM_END - rb_avail_bytes(8), RING + 0x100);
	rb_layout(&rb, &l, true, false);
	rc = virtq_enable(&vq, &l);
	TAP_EQ(rc, 0);
	virtq_disable(&vq);

	/*
	 * Used ring with avail_event (6 + 8 * num bytes, spec size) as close
	 * to the end as its 4-byte alignment allows.
	 */
	rb_init(&rb, &fm, 8, RING, RING + 0x100, RAM_END - 72);
	rb_layout(&rb, &l, true, false);
	rc = virtq_enable(&vq, &l);
	TAP_EQ(rc, 0);

	/* and the queue works there */
	one_readable(0, 0, 8);
	rb_publish(&rb, 0);
	TAP_EQ(virtq_pop(&vq, &chain), 1);
	virtq_push(&vq, &chain, 0);
	TAP_EQ(rb_used_idx(&rb), 1);
	teardown();
}

static void test_reenable_restarts(void)
{
	struct virtq_layout l;
	int rc;

	if (!setup(4, false, false))
		goto out;
	one_readable(0, 0, 8);
	for (unsigned i = 0; i < 3; i++) {
		rb_publish(&rb, 0);
		TAP_EQ(virtq_pop(&vq, &chain), 1);
		virtq_push(&vq, &chain, 0);
	}
	TAP_EQ(rb_used_idx(&rb), 3);
	virtq_disable(&vq);
	TAP_EQ(fm.live, 0);

	/* The driver sets the queue up again from scratch. */
	rb_init_at(&rb, &fm, 4, RING);
	one_readable(2, 1, 16);
	rb_publish(&rb, 2);
	rb_layout(&rb, &l, false, false);
	rc = virtq_enable(&vq, &l);
	TAP_EQ(rc, 0);
	TAP_EQ(virtq_pop(&vq, &chain), 1);
	TAP_EQ(chain.head, 2);
	check_iov(&chain, 0, buf(1), 16);
	virtq_push(&vq, &chain, 0);
	TAP_EQ(rb_used_idx(&rb), 1);
	check_used(0, 2, 0);
out:
	teardown();
}

/* ---- pop / push ----------------------------------------------------- */

static void test_empty_ring(void)
{
	if (!setup(8, false, false))
		goto out;
	TAP_CHECK(!virtq_has_avail(&vq), "has_avail on an empty ring");
	TAP_EQ(virtq_pop(&vq, &chain), 0);
	TAP_EQ(virtq_pop(&vq, &chain), 0);
	TAP_EQ(fm.live, N_RINGMAP);
	TAP_EQ(rb_used_idx(&rb), 0);
out:
	teardown();
}

static void test_single_readable(void)
{
	if (!setup(8, false, false))
		goto out;
	fake_mem_fill(&fm, buf(0), 0x5a, 100);
	one_readable(0, 0, 100);
	rb_publish(&rb, 0);
	TAP_CHECK(virtq_has_avail(&vq), "published chain not seen");

	TAP_EQ(virtq_pop(&vq, &chain), 1);
	TAP_EQ(chain.head, 0);
	TAP_EQ(chain.n_out, 1);
	TAP_EQ(chain.n_in, 0);
	check_iov(&chain, 0, buf(0), 100);
	check_access(buf(0), GMEM_READ);
	TAP_EQ(fm.live, N_RINGMAP + 1);
	TAP_CHECK(!virtq_has_avail(&vq), "has_avail after the only pop");
	TAP_EQ(rb_used_idx(&rb), 0); /* nothing published before push */

	virtq_push(&vq, &chain, 0);
	TAP_EQ(fm.live, N_RINGMAP);
	TAP_EQ(rb_used_idx(&rb), 1);
	check_used(0, 0, 0);
	TAP_EQ(virtq_pop(&vq, &chain), 0);
out:
	teardown();
}

static void test_split_readable_writable(void)
{
	static const uint16_t idx[] = { 5, 2, 7, 0, 3 };
	const struct rb_seg segs[] = {
		{ buf(0), 16, false }, { buf(1), 32, false },
		{ buf(2), 8, true },   { buf(3), 64, true },
		{ buf(4), 4, true },
	};

	if (!setup(8, false, false))
		goto out;
	rb_publish(&rb, rb_chain(&rb, idx, segs, 5));
	TAP_EQ(virtq_pop(&vq, &chain), 1);
	TAP_EQ(chain.head, 5);
	TAP_EQ(chain.n_out, 2);
	TAP_EQ(chain.n_in, 3);
	for (unsigned k = 0; k < 5; k++)
		check_iov(&chain, k, segs[k].addr, segs[k].len);
	/* The device may not write what the driver gave it to read. */
	check_access(buf(0), GMEM_READ);
	check_access(buf(1), GMEM_READ);
	for (unsigned k = 2; k < 5; k++) {
		unsigned access = 0;

		TAP_CHECK(fake_mem_find_live(&fm, buf(k), NULL, &access) &&
				  (access & GMEM_WRITE),
			  "writable segment %u mapped with access %u", k,
			  access);
	}
	TAP_EQ(fm.live, N_RINGMAP + 5);
	virtq_push(&vq, &chain, 76);
	TAP_EQ(fm.live, N_RINGMAP);
	TAP_EQ(rb_used_idx(&rb), 1);
	check_used(0, 5, 76);
out:
	teardown();
}

static void test_indirect_chain(void)
{
	const struct rb_seg segs[] = {
		{ buf(0), 10, false },
		{ buf(1), 20, true },
		{ buf(2), 30, true },
	};

	if (!setup(8, false, true))
		goto out;
	rb_table_chain(&fm, TABLE, segs, 3);
	rb_set_indirect(&rb, 3, TABLE, 3 * 16);
	rb_publish(&rb, 3);
	TAP_EQ(virtq_pop(&vq, &chain), 1);
	TAP_EQ(chain.head, 3);
	TAP_EQ(chain.n_out, 1);
	TAP_EQ(chain.n_in, 2);
	for (unsigned k = 0; k < 3; k++)
		check_iov(&chain, k, segs[k].addr, segs[k].len);
	check_access(buf(0), GMEM_READ);
	virtq_push(&vq, &chain, 50);
	TAP_EQ(fm.live, N_RINGMAP);
	check_used(0, 3, 50);
out:
	teardown();
}

static void test_indirect_out_of_order(void)
{
	if (!setup(8, false, true))
		goto out;
	/* table order 0 -> 2 -> 1 */
	rb_table_set(&fm, TABLE, 0, buf(0), 5, VRING_DESC_F_NEXT, 2);
	rb_table_set(&fm, TABLE, 2, buf(1), 6, VRING_DESC_F_NEXT, 1);
	rb_table_set(&fm, TABLE, 1, buf(2), 7, VRING_DESC_F_WRITE, 0);
	rb_set_indirect(&rb, 0, TABLE, 3 * 16);
	rb_publish(&rb, 0);
	TAP_EQ(virtq_pop(&vq, &chain), 1);
	TAP_EQ(chain.n_out, 2);
	TAP_EQ(chain.n_in, 1);
	check_iov(&chain, 0, buf(0), 5);
	check_iov(&chain, 1, buf(1), 6);
	check_iov(&chain, 2, buf(2), 7);
	virtq_push(&vq, &chain, 7);
	check_used(0, 0, 7);
out:
	teardown();
}

/* virtio 1.2, 2.7.5.3.2: the device MUST ignore WRITE on an indirect desc. */
static void test_indirect_write_flag_ignored(void)
{
	const struct rb_seg segs[] = {
		{ buf(0), 12, false },
		{ buf(1), 24, true },
	};

	if (!setup(8, false, true))
		goto out;
	rb_table_chain(&fm, TABLE, segs, 2);
	rb_set_desc(&rb, 1, TABLE, 2 * 16,
		    VRING_DESC_F_INDIRECT | VRING_DESC_F_WRITE, 0);
	rb_publish(&rb, 1);
	TAP_EQ(virtq_pop(&vq, &chain), 1);
	TAP_EQ(chain.head, 1);
	TAP_EQ(chain.n_out, 1);
	TAP_EQ(chain.n_in, 1);
	check_iov(&chain, 0, buf(0), 12);
	check_iov(&chain, 1, buf(1), 24);
	virtq_push(&vq, &chain, 0);
out:
	teardown();
}

/* The spec puts no alignment on indirect tables: parse them bytewise. */
static void test_indirect_table_unaligned(void)
{
	const struct rb_seg segs[] = {
		{ buf(0), 3, false },
		{ buf(1), 9, true },
	};

	if (!setup(8, false, true))
		goto out;
	rb_table_chain(&fm, TABLE + 1, segs, 2);
	rb_set_indirect(&rb, 0, TABLE + 1, 2 * 16);
	rb_publish(&rb, 0);
	TAP_EQ(virtq_pop(&vq, &chain), 1);
	TAP_EQ(chain.n_out, 1);
	TAP_EQ(chain.n_in, 1);
	check_iov(&chain, 0, buf(0), 3);
	check_iov(&chain, 1, buf(1), 9);
	virtq_push(&vq, &chain, 9);
	check_used(0, 0, 9);
out:
	teardown();
}

static void test_chain_of_exactly_num(void)
{
	const struct rb_seg segs[] = {
		{ buf(0), 1, false },
		{ buf(1), 2, false },
		{ buf(2), 3, true },
		{ buf(3), 4, true },
	};

	if (!setup(4, false, false))
		goto out;
	rb_publish(&rb, rb_chain_seq(&rb, 2, segs, 4)); /* 2,3,0,1 */
	TAP_EQ(virtq_pop(&vq, &chain), 1);
	TAP_EQ(chain.head, 2);
	TAP_EQ(chain.n_out, 2);
	TAP_EQ(chain.n_in, 2);
	for (unsigned k = 0; k < 4; k++)
		check_iov(&chain, k, segs[k].addr, segs[k].len);
	virtq_push(&vq, &chain, 7);
	check_used(0, 2, 7);
out:
	teardown();
}

static void test_indirect_of_exactly_num(void)
{
	struct rb_seg segs[VIRTQ_NUM_MAX];
	struct virtq_layout l;
	int rc;

	if (!setup(4, false, true))
		goto out;
	for (unsigned k = 0; k < 4; k++)
		segs[k] = (struct rb_seg){ buf(k), 8 + k, k >= 2 };
	rb_table_chain(&fm, TABLE, segs, 4);
	rb_set_indirect(&rb, 0, TABLE, 4 * 16);
	rb_publish(&rb, 0);
	TAP_EQ(virtq_pop(&vq, &chain), 1);
	TAP_EQ(chain.n_out, 2);
	TAP_EQ(chain.n_in, 2);
	virtq_push(&vq, &chain, 0);
	virtq_disable(&vq);

	/* The largest queue and a table of VIRTQ_NUM_MAX entries. */
	rb_init_at(&rb, &fm, VIRTQ_NUM_MAX, RING);
	rb_layout(&rb, &l, false, true);
	rc = virtq_enable(&vq, &l);
	TAP_EQ(rc, 0);
	for (unsigned k = 0; k < VIRTQ_NUM_MAX; k++)
		segs[k] =
			(struct rb_seg){ buf(k % 16) + k, 1 + k % 7, k >= 100 };
	rb_table_chain(&fm, TABLE, segs, VIRTQ_NUM_MAX);
	rb_set_indirect(&rb, VIRTQ_NUM_MAX - 1, TABLE, VIRTQ_NUM_MAX * 16);
	rb_publish(&rb, VIRTQ_NUM_MAX - 1);
	TAP_EQ(virtq_pop(&vq, &chain), 1);
	TAP_EQ(chain.head, VIRTQ_NUM_MAX - 1);
	TAP_EQ(chain.n_out, 100);
	TAP_EQ(chain.n_in, VIRTQ_NUM_MAX - 100);
	check_iov(&chain, 0, segs[0].addr, segs[0].len);
	check_iov(&chain, 255, segs[255].addr, segs[255].len);
	TAP_EQ(fm.live, N_RINGMAP + VIRTQ_NUM_MAX);
	virtq_push(&vq, &chain, 1);
	TAP_EQ(fm.live, N_RINGMAP);
out:
	teardown();
}

static void test_chains_pushed_out_of_order(void)
{
	if (!setup(8, false, false))
		goto out;
	one_readable(0, 0, 10);
	rb_set_desc(&rb, 1, buf(1), 11, VRING_DESC_F_WRITE, 0);
	rb_set_desc(&rb, 2, buf(2), 12, VRING_DESC_F_WRITE, 0);
	rb_publish(&rb, 0);
	rb_publish(&rb, 1);
	rb_publish(&rb, 2);
	for (unsigned i = 0; i < 3; i++) {
		TAP_EQ(virtq_pop(&vq, &chains[i]), 1);
		TAP_EQ(chains[i].head, i);
	}
	TAP_EQ(virtq_pop(&vq, &chain), 0);
	TAP_EQ(fm.live, N_RINGMAP + 3);
	virtq_push(&vq, &chains[2], 12);
	virtq_push(&vq, &chains[0], 0);
	virtq_push(&vq, &chains[1], 5);
	TAP_EQ(rb_used_idx(&rb), 3);
	check_used(0, 2, 12);
	check_used(1, 0, 0);
	check_used(2, 1, 5);
	TAP_EQ(fm.live, N_RINGMAP);
out:
	teardown();
}

static void test_has_avail(void)
{
	if (!setup(8, false, false))
		goto out;
	one_readable(0, 0, 4);
	one_readable(1, 1, 4);
	TAP_CHECK(!virtq_has_avail(&vq), "has_avail on empty ring");
	rb_publish(&rb, 0);
	TAP_CHECK(virtq_has_avail(&vq), "has_avail missed one chain");
	TAP_EQ(virtq_pop(&vq, &chains[0]), 1);
	TAP_CHECK(!virtq_has_avail(&vq), "has_avail after popping all");
	rb_publish(&rb, 1);
	rb_publish(&rb, 0);
	TAP_CHECK(virtq_has_avail(&vq), "has_avail missed two chains");
	virtq_push(&vq, &chains[0], 0);
	TAP_EQ(virtq_pop(&vq, &chains[1]), 1);
	TAP_CHECK(virtq_has_avail(&vq), "has_avail lost the second chain");
	TAP_EQ(virtq_pop(&vq, &chains[2]), 1);
	TAP_CHECK(!virtq_has_avail(&vq), "has_avail after popping all");
	virtq_push(&vq, &chains[1], 0);
	virtq_push(&vq, &chains[2], 0);
	/* has_avail does not consume */
	TAP_EQ(rb_used_idx(&rb), 3);
out:
	teardown();
}

static void test_chain_release(void)
{
	if (!setup(8, false, false))
		goto out;
	one_readable(0, 0, 8);
	rb_set_desc(&rb, 1, buf(1), 8, VRING_DESC_F_WRITE, 0);
	rb_publish(&rb, 0);
	rb_publish(&rb, 1);
	TAP_EQ(virtq_pop(&vq, &chain), 1);
	TAP_EQ(fm.live, N_RINGMAP + 1);
	virtq_chain_release(&vq, &chain);
	TAP_EQ(fm.live, N_RINGMAP);
	TAP_EQ(rb_used_idx(&rb), 0); /* nothing returned to the driver */
	/* the released chain was consumed: the next pop is the next one */
	TAP_EQ(virtq_pop(&vq, &chain), 1);
	TAP_EQ(chain.head, 1);
	virtq_push(&vq, &chain, 8);
	TAP_EQ(rb_used_idx(&rb), 1);
	check_used(0, 1, 8);
out:
	teardown();
}

static unsigned unmap_seen;
static unsigned unmap_after_publish;

static void record_unmap(struct fake_mem *m, uint64_t addr, size_t len,
			 unsigned access)
{
	struct ring_builder *r = m->user;

	(void)len;
	(void)access;
	if (addr < BUF_AREA)
		return; /* a ring */
	unmap_seen++;
	if (rb_used_idx(r) != 0)
		unmap_after_publish++;
}

/* Grant mappings must be gone before the driver can see the used entry. */
static void test_push_unmaps_before_publish(void)
{
	const struct rb_seg segs[] = {
		{ buf(0), 8, false },
		{ buf(1), 8, true },
		{ buf(2), 8, true },
	};

	unmap_seen = unmap_after_publish = 0;
	if (!setup(8, false, false))
		goto out;
	rb_publish(&rb, rb_chain_seq(&rb, 0, segs, 3));
	TAP_EQ(virtq_pop(&vq, &chain), 1);
	fm.user = &rb;
	fm.on_unmap = record_unmap;
	virtq_push(&vq, &chain, 16);
	fm.on_unmap = NULL;
	TAP_EQ(unmap_seen, 3);
	TAP_EQ(unmap_after_publish, 0);
	TAP_EQ(rb_used_idx(&rb), 1);
out:
	teardown();
}

/* ---- cursor --------------------------------------------------------- */

/*
 * Readable segments of 3, 1 and 5 bytes holding bytes 0..8; writable
 * segments of 2 and 4 bytes. RAM around the buffers is 0xee.
 */
static bool cursor_chain(void)
{
	const struct rb_seg segs[] = {
		{ buf(0), 3, false }, { buf(1), 1, false },
		{ buf(2), 5, false }, { buf(3), 2, true },
		{ buf(4), 4, true },
	};
	uint8_t b = 0;

	if (!setup(8, false, false))
		return false;
	fake_mem_fill(&fm, buf(0), 0xee, 5 * BUF_SLOT);
	for (unsigned k = 0; k < 3; k++) {
		for (unsigned j = 0; j < segs[k].len; j++, b++)
			fake_mem_write(&fm, segs[k].addr + j, &b, 1);
	}
	rb_publish(&rb, rb_chain_seq(&rb, 0, segs, 5));
	return virtq_pop(&vq, &chain) == 1;
}

static void test_cursor_read_across_segments(void)
{
	struct virtq_cursor c;
	uint8_t out[16];

	if (!cursor_chain()) {
		TAP_CHECK(false, "setup");
		goto out;
	}
	virtq_reader(&c, &chain);
	TAP_EQ(virtq_cursor_left(&c), 9);
	TAP_EQ(virtq_read(&c, out, 2), 0);
	TAP_EQ(out[0], 0);
	TAP_EQ(out[1], 1);
	TAP_EQ(virtq_cursor_left(&c), 7);
	TAP_EQ(c.done, 2);
	/* 2 | 3 | 4 5: crosses two segment boundaries */
	memset(out, 0xaa, sizeof(out));
	TAP_EQ(virtq_read(&c, out, 4), 0);
	for (unsigned j = 0; j < 4; j++)
		TAP_EQ(out[j], 2 + j);
	TAP_EQ(out[4], 0xaa);
	TAP_EQ(virtq_cursor_left(&c), 3);
	TAP_EQ(virtq_read(&c, out, 3), 0);
	TAP_EQ(out[0], 6);
	TAP_EQ(out[2], 8);
	TAP_EQ(virtq_cursor_left(&c), 0);
	TAP_EQ(c.done, 9);
	/* Reading does not touch guest memory. */
	TAP_EQ(((uint8_t *)fake_mem_ptr(&fm, buf(0), 1))[0], 0);
	virtq_push(&vq, &chain, 0);
out:
	teardown();
}

static void test_cursor_write_across_segments(void)
{
	struct virtq_cursor c;
	uint8_t *w0, *w1;

	if (!cursor_chain()) {
		TAP_CHECK(false, "setup");
		goto out;
	}
	virtq_writer(&c, &chain);
	TAP_EQ(virtq_cursor_left(&c), 6);
	TAP_EQ(virtq_write(&c, "ABC", 3), 0);
	TAP_EQ(virtq_cursor_left(&c), 3);
	TAP_EQ(virtq_write(&c, "DEF", 3), 0);
	TAP_EQ(virtq_cursor_left(&c), 0);
	TAP_EQ(c.done, 6);
	w0 = fake_mem_ptr(&fm, buf(3), 3);
	w1 = fake_mem_ptr(&fm, buf(4), 5);
	TAP_CHECK(memcmp(w0, "AB", 2) == 0, "first writable segment");
	TAP_EQ(w0[2], 0xee); /* not past the segment */
	TAP_CHECK(memcmp(w1, "CDEF", 4) == 0, "second writable segment");
	TAP_EQ(w1[4], 0xee);
	/* the readable part is untouched */
	TAP_EQ(((uint8_t *)fake_mem_ptr(&fm, buf(2), 1))[0], 4);
	virtq_push(&vq, &chain, (uint32_t)c.done);
	check_used(0, 0, 6);
out:
	teardown();
}

static void test_cursor_skip(void)
{
	struct virtq_cursor c;
	uint8_t b = 0xff;

	if (!cursor_chain()) {
		TAP_CHECK(false, "setup");
		goto out;
	}
	virtq_reader(&c, &chain);
	TAP_EQ(virtq_skip(&c, 4), 0); /* 3 | 1 */
	TAP_EQ(virtq_cursor_left(&c), 5);
	TAP_EQ(virtq_read(&c, &b, 1), 0);
	TAP_EQ(b, 4);
	TAP_EQ(virtq_skip(&c, 0), 0);
	TAP_EQ(virtq_cursor_left(&c), 4);
	TAP_EQ(virtq_skip(&c, 4), 0);
	TAP_EQ(virtq_cursor_left(&c), 0);
	TAP_EQ(c.done, 9);

	virtq_writer(&c, &chain);
	TAP_EQ(virtq_skip(&c, 3), 0); /* 2 | 1 */
	TAP_EQ(virtq_write(&c, "Z", 1), 0);
	TAP_EQ(((uint8_t *)fake_mem_ptr(&fm, buf(4), 2))[1], 'Z');
	TAP_EQ(((uint8_t *)fake_mem_ptr(&fm, buf(4), 2))[0], 0xee);
	virtq_push(&vq, &chain, 0);
out:
	teardown();
}

static void test_cursor_zero_length(void)
{
	struct virtq_cursor c;
	uint8_t b = 0x77;

	if (!cursor_chain()) {
		TAP_CHECK(false, "setup");
		goto out;
	}
	virtq_reader(&c, &chain);
	TAP_EQ(virtq_read(&c, &b, 0), 0);
	TAP_EQ(b, 0x77);
	TAP_EQ(virtq_skip(&c, 0), 0);
	TAP_EQ(virtq_cursor_left(&c), 9);
	TAP_EQ(c.done, 0);
	virtq_writer(&c, &chain);
	TAP_EQ(virtq_write(&c, &b, 0), 0);
	TAP_EQ(virtq_cursor_left(&c), 6);
	TAP_EQ(((uint8_t *)fake_mem_ptr(&fm, buf(3), 1))[0], 0xee);
	virtq_push(&vq, &chain, 0);
out:
	teardown();
}

static void test_cursor_sides(void)
{
	struct virtq_cursor c;
	uint8_t b = 0x11;

	if (!setup(8, false, false))
		goto out;
	/* only writable */
	rb_set_desc(&rb, 0, buf(0), 8, VRING_DESC_F_WRITE, 0);
	rb_publish(&rb, 0);
	TAP_EQ(virtq_pop(&vq, &chain), 1);
	virtq_reader(&c, &chain);
	TAP_EQ(virtq_cursor_left(&c), 0);
	TAP_EQ(virtq_read(&c, &b, 1), -EMSGSIZE);
	TAP_EQ(b, 0x11);
	virtq_writer(&c, &chain);
	TAP_EQ(virtq_cursor_left(&c), 8);
	virtq_push(&vq, &chain, 0);

	/* only readable */
	one_readable(1, 1, 8);
	rb_publish(&rb, 1);
	TAP_EQ(virtq_pop(&vq, &chain), 1);
	virtq_writer(&c, &chain);
	TAP_EQ(virtq_cursor_left(&c), 0);
	TAP_EQ(virtq_write(&c, &b, 1), -EMSGSIZE);
	TAP_EQ(((uint8_t *)fake_mem_ptr(&fm, buf(1), 1))[0], 0);
	virtq_reader(&c, &chain);
	TAP_EQ(virtq_cursor_left(&c), 8);
	virtq_push(&vq, &chain, 0);
out:
	teardown();
}

/* A payload split into 64 pieces of 1..7 bytes reads back in one go. */
static void test_cursor_many_segments(void)
{
	struct rb_seg segs[64];
	uint8_t want[64 * 7], got[64 * 7 + 1];
	size_t total = 0;
	struct virtq_cursor c;

	if (!setup(64, false, true))
		goto out;
	for (unsigned k = 0; k < 64; k++) {
		segs[k] = (struct rb_seg){ buf(k % 8) + 64 * (k / 8), 1 + k % 7,
					   false };
		for (unsigned j = 0; j < segs[k].len; j++) {
			want[total] = (uint8_t)(total * 7 + 3);
			fake_mem_write(&fm, segs[k].addr + j, &want[total], 1);
			total++;
		}
	}
	rb_table_chain(&fm, TABLE, segs, 64);
	rb_set_indirect(&rb, 9, TABLE, 64 * 16);
	rb_publish(&rb, 9);
	TAP_EQ(virtq_pop(&vq, &chain), 1);
	TAP_EQ(chain.n_out, 64);
	virtq_reader(&c, &chain);
	TAP_EQ(virtq_cursor_left(&c), total);
	TAP_EQ(virtq_read(&c, got, total + 1), -EMSGSIZE);
	TAP_EQ(virtq_read(&c, got, total), 0);
	TAP_CHECK(memcmp(got, want, total) == 0, "payload differs");
	virtq_push(&vq, &chain, 0);
out:
	teardown();
}

/* ---- notifications -------------------------------------------------- */

/* Pop descriptor 0 (a readable chain) and push it. */
static void cycle(void)
{
	int rc;

	rb_publish(&rb, 0);
	rc = virtq_pop(&vq, &chain);
	TAP_EQ(rc, 1);
	if (rc == 1)
		virtq_push(&vq, &chain, 0);
}

static void test_notify_flags(void)
{
	if (!setup(4, false, false))
		goto out;
	one_readable(0, 0, 4);
	cycle();
	TAP_CHECK(virtq_should_notify(&vq), "flags 0 must notify");
	rb_avail_set_flags(&rb, VRING_AVAIL_F_NO_INTERRUPT);
	cycle();
	TAP_CHECK(!virtq_should_notify(&vq), "NO_INTERRUPT ignored");
	cycle();
	cycle();
	TAP_CHECK(!virtq_should_notify(&vq), "NO_INTERRUPT ignored (batch)");
	rb_avail_set_flags(&rb, 0);
	cycle();
	TAP_CHECK(virtq_should_notify(&vq), "flags 0 must notify again");
	/* used_event is not looked at without EVENT_IDX */
	rb_set_used_event(&rb, 100);
	cycle();
	TAP_CHECK(virtq_should_notify(&vq),
		  "used_event used without EVENT_IDX");
out:
	teardown();
}

static void test_notify_event_idx(void)
{
	if (!setup(8, true, false))
		goto out;
	one_readable(0, 0, 4);
	rb_set_used_event(&rb, 0);
	cycle(); /* used idx 0 -> 1: entry 0 written, used_event 0 */
	TAP_CHECK(virtq_should_notify(&vq), "entry at used_event not notified");
	cycle(); /* 1 -> 2, used_event still 0: already signalled */
	TAP_CHECK(!virtq_should_notify(&vq), "notified past used_event");
	rb_set_used_event(&rb, 2);
	cycle(); /* 2 -> 3 writes entry 2 */
	TAP_CHECK(virtq_should_notify(&vq), "entry 2 == used_event missed");
	rb_set_used_event(&rb, 3);
	cycle();
	cycle(); /* 3 -> 5 in one batch crosses used_event 3 */
	TAP_CHECK(virtq_should_notify(&vq), "batch crossing used_event missed");
	rb_set_used_event(&rb, 10);
	cycle(); /* 5 -> 6 */
	TAP_CHECK(!virtq_should_notify(&vq), "notified before used_event");
	cycle();
	cycle();
	cycle(); /* 6 -> 9 */
	TAP_CHECK(!virtq_should_notify(&vq), "notified before used_event");
	cycle();
	cycle(); /* 9 -> 11 writes entry 10 */
	TAP_CHECK(virtq_should_notify(&vq), "entry 10 == used_event missed");
out:
	teardown();
}

/* virtio 1.2, 2.7.10: with EVENT_IDX the device ignores avail->flags. */
static void test_notify_event_idx_ignores_flags(void)
{
	if (!setup(8, true, false))
		goto out;
	one_readable(0, 0, 4);
	rb_avail_set_flags(&rb, VRING_AVAIL_F_NO_INTERRUPT);
	rb_set_used_event(&rb, 0);
	cycle();
	(void)virtq_should_notify(&vq);
	rb_set_used_event(&rb, 1);
	cycle(); /* entry 1 */
	TAP_CHECK(virtq_should_notify(&vq),
		  "NO_INTERRUPT must be ignored with EVENT_IDX");
out:
	teardown();
}

/* With EVENT_IDX the driver kicks only when avail->idx passes avail_event. */
static void test_avail_event_published(void)
{
	if (!setup(8, true, false))
		goto out;
	one_readable(0, 0, 4);
	rb_publish(&rb, 0);
	rb_publish(&rb, 0);
	rb_publish(&rb, 0);
	for (unsigned i = 0; i < 3; i++) {
		TAP_EQ(virtq_pop(&vq, &chains[i]), 1);
	}
	TAP_EQ(virtq_pop(&vq, &chain), 0);
	/* Kick me when you make entry 3 available. */
	TAP_EQ(rb_avail_event(&rb), 3);
	for (unsigned i = 0; i < 3; i++)
		virtq_push(&vq, &chains[i], 0);
out:
	teardown();
}

/* ---- 16-bit index wraparound ---------------------------------------- */

/* n rounds of: publish one of descriptors 0..2, pop it, push it. */
static bool rounds(unsigned n, unsigned *count)
{
	for (unsigned i = 0; i < n; i++, (*count)++) {
		uint16_t head = (uint16_t)(*count % 3);

		rb_publish(&rb, head);
		if (!virtq_has_avail(&vq) || virtq_pop(&vq, &chain) != 1 ||
		    chain.head != head) {
			TAP_CHECK(false, "round %u: pop failed", *count);
			return false;
		}
		virtq_push(&vq, &chain, *count % BUF_SLOT);
		if (rb_used_idx(&rb) != (uint16_t)(*count + 1)) {
			TAP_CHECK(false, "round %u: used idx %u", *count,
				  rb_used_idx(&rb));
			return false;
		}
	}
	return true;
}

/* A device bug must not make the driver read past its buffer. */
static void test_push_clamps_used_len(void)
{
	if (!setup(4, false, false))
		goto out;
	rb_set_desc(&rb, 0, buf(0), 16, VRING_DESC_F_NEXT, 1);
	rb_set_desc(&rb, 1, buf(1), 8, VRING_DESC_F_WRITE, 0);
	rb_publish(&rb, 0);
	TAP_EQ(virtq_pop(&vq, &chain), 1);
	virtq_push(&vq, &chain, 1000);
	check_used(0, 0, 8);
	one_readable(2, 2, 4);
	rb_publish(&rb, 2);
	TAP_EQ(virtq_pop(&vq, &chain), 1);
	virtq_push(&vq, &chain, 4);
	check_used(1, 2, 0);
out:
	teardown();
}

static void test_wraparound(void)
{
	unsigned count = 0;

	if (!setup(4, false, false))
		goto out;
	/* Writable buffers big enough for every used length pushed below. */
	for (unsigned d = 0; d < 4; d++)
		rb_set_desc(&rb, d, buf(d), BUF_SLOT, VRING_DESC_F_WRITE, 0);
	if (!rounds(0xfffe, &count))
		goto out;
	TAP_EQ(rb_used_idx(&rb), 0xfffe);

	/* A full ring published across the wrap of avail->idx. */
	for (unsigned i = 0; i < 4; i++)
		rb_publish(&rb, (uint16_t)i);
	TAP_EQ(rb_avail_get_idx(&rb), 2);
	TAP_CHECK(virtq_has_avail(&vq), "has_avail across the wrap");
	for (unsigned i = 0; i < 4; i++) {
		TAP_EQ(virtq_pop(&vq, &chains[i % 3]), 1);
		TAP_EQ(chains[i % 3].head, i);
		virtq_push(&vq, &chains[i % 3], 100 + i);
	}
	TAP_EQ(virtq_pop(&vq, &chain), 0);
	TAP_EQ(rb_used_idx(&rb), 2);
	check_used(0xfffe, 0, 100);
	check_used(0xffff, 1, 101);
	check_used(0, 2, 102);
	check_used(1, 3, 103);
	count += 4;

	/* and on, one more lap around the used ring */
	if (!rounds(9, &count))
		goto out;
	TAP_EQ(rb_used_idx(&rb), 11);
	check_used(10, (count - 1) % 3, (count - 1) % BUF_SLOT);
	TAP_EQ(fm.live, N_RINGMAP);
out:
	teardown();
}

static void test_wraparound_event_idx(void)
{
	if (!setup(8, true, false))
		goto out;
	one_readable(0, 0, 4);
	/* Run the used index up to 0xfffe, notifying as we go. */
	rb_set_used_event(&rb, 0);
	for (unsigned i = 0; i < 0xfffe; i++) {
		cycle();
		(void)virtq_should_notify(&vq);
	}
	TAP_EQ(rb_used_idx(&rb), 0xfffe);
	rb_set_used_event(&rb, 0); /* entry 0 of the next lap */
	cycle();		   /* 0xfffe -> 0xffff */
	TAP_CHECK(!virtq_should_notify(&vq), "notified early before wrap");
	cycle(); /* 0xffff -> 0 */
	TAP_CHECK(!virtq_should_notify(&vq), "notified early at wrap");
	cycle(); /* 0 -> 1 writes entry 0 */
	TAP_CHECK(virtq_should_notify(&vq), "entry 0 after wrap missed");
	rb_set_used_event(&rb, 0xffff);
	for (unsigned i = 0; i < 0xfffd; i++) {
		cycle();
		(void)virtq_should_notify(&vq);
	}
	TAP_EQ(rb_used_idx(&rb), 0xfffe);
	cycle(); /* 0xfffe -> 0xffff */
	TAP_CHECK(!virtq_should_notify(&vq), "entry 0xfffe notified");
	cycle(); /* writes entry 0xffff */
	TAP_CHECK(virtq_should_notify(&vq), "entry 0xffff missed");
out:
	teardown();
}

int main(void)
{
	tap_run("init: queue disabled, pop returns 0 and maps nothing",
		test_init_disabled);
	tap_run("enable maps desc/avail/used, disable unmaps (idempotent)",
		test_enable_maps_rings);
	tap_run("enable accepts rings at the very end of RAM",
		test_enable_rings_at_end_of_ram);
	tap_run("disable + re-enable restarts the ring at index 0",
		test_reenable_restarts);
	tap_run("empty ring: pop returns 0, has_avail false", test_empty_ring);
	tap_run("single readable descriptor: pop, push, used element",
		test_single_readable);
	tap_run("readable-then-writable split, chain in shuffled indices",
		test_split_readable_writable);
	tap_run("indirect chain: readable and writable entries",
		test_indirect_chain);
	tap_run("indirect table linked out of order (0 -> 2 -> 1)",
		test_indirect_out_of_order);
	tap_run("WRITE flag on an indirect descriptor is ignored",
		test_indirect_write_flag_ignored);
	tap_run("indirect table at an odd guest address",
		test_indirect_table_unaligned);
	tap_run("direct chain of exactly num descriptors wrapping the table",
		test_chain_of_exactly_num);
	tap_run("indirect table of exactly num entries (4 and VIRTQ_NUM_MAX)",
		test_indirect_of_exactly_num);
	tap_run("chains popped in order, pushed out of order",
		test_chains_pushed_out_of_order);
	tap_run("has_avail follows avail->idx and does not consume",
		test_has_avail);
	tap_run("chain_release unmaps without publishing, chain consumed",
		test_chain_release);
	tap_run("push unmaps every buffer before publishing used->idx",
		test_push_unmaps_before_publish);
	tap_run("cursor: read across segment boundaries",
		test_cursor_read_across_segments);
	tap_run("cursor: write across segment boundaries lands in guest RAM",
		test_cursor_write_across_segments);
	tap_run("cursor: skip across segments", test_cursor_skip);
	tap_run("cursor: zero-length read/write/skip move nothing",
		test_cursor_zero_length);
	tap_run("cursor: reader sees readable part only, writer writable only",
		test_cursor_sides);
	tap_run("cursor: 64 small segments read in one call",
		test_cursor_many_segments);
	tap_run("notify: flags 0 notifies, NO_INTERRUPT suppresses",
		test_notify_flags);
	tap_run("notify: EVENT_IDX notifies exactly when used_event is passed",
		test_notify_event_idx);
	tap_run("notify: EVENT_IDX ignores VRING_AVAIL_F_NO_INTERRUPT",
		test_notify_event_idx_ignores_flags);
	tap_run("EVENT_IDX: avail_event names the next entry to kick for",
		test_avail_event_published);
	tap_run("push clamps the used length to the writable bytes",
		test_push_clamps_used_len);
	tap_run("16-bit avail/used index wraparound, full ring across the wrap",
		test_wraparound);
	tap_run("EVENT_IDX used_event comparisons across the 16-bit wrap",
		test_wraparound_event_idx);
	return tap_done();
}
