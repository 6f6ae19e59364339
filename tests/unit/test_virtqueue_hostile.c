/* SPDX-License-Identifier: MIT */
/*
 * A hostile guest against the device side of a split virtqueue. Every case
 * writes one kind of broken ring state and checks:
 *   - the exact return value (see the error codes below),
 *   - that the refused chain was not consumed (popping again gives the
 *     same answer) and that no used element was published,
 *   - that nothing but the three rings stays mapped, no unmap was bogus,
 *   - and, where it makes sense, that once the guest repairs the ring the
 *     same chain is served normally.
 *
 * virtqueue.h promises only "a negative errno" for a broken ring contract.
 * The codes below are the ones src/virtio/virtqueue.c returns for each
 * class of violation; a map() error is passed through unchanged (gmem
 * promises -EFAULT for memory the guest does not own).
 */
#include <errno.h>
#include <linux/virtio_ring.h>
#include <stdint.h>
#include <string.h>

#include "fakes/fake_mem.h"
#include "fakes/ring_builder.h"
#include "tap.h"
#include "vmedia/virtqueue.h"

#define E_LOOP	   (-ELOOP)	/* loop, or chain longer than num */
#define E_BADDESC  (-EINVAL)	/* malformed descriptor or chain shape */
#define E_AVAILIDX (-EOVERFLOW) /* avail->idx more than num ahead */
#define E_TOOLONG  (-EMSGSIZE)	/* chain total above 4 GiB */
#define E_LAYOUT   (-EINVAL)	/* virtq_enable: num or alignment */
#define E_FAULT	   (-EFAULT)	/* memory the guest does not own */

#define RAM_BASE   0x40000000ull
#define RAM_SIZE   0x100000u /* 1 MiB */
#define RAM_END	   (RAM_BASE + RAM_SIZE)
#define RING	   (RAM_BASE + 0x1000)
#define TABLE	   (RAM_BASE + 0x10000)
#define BUF_AREA   (RAM_BASE + 0x20000)
#define BUF_SLOT   0x1000u
#define N_RINGMAP  3u

static struct fake_mem fm;
static struct ring_builder rb;
static struct virtq vq;
static struct virtq_chain chain;

static uint64_t buf(unsigned k)
{
	return BUF_AREA + (uint64_t)k * BUF_SLOT;
}

static bool setup_ram(uint64_t base, size_t size, uint16_t num, bool event_idx,
		      bool indirect)
{
	struct virtq_layout l;
	int rc = fake_mem_init(&fm, base, size);

	TAP_CHECK(rc == 0, "fake_mem_init: %d", rc);
	if (rc)
		return false;
	rb_init_at(&rb, &fm, num, base + 0x1000);
	virtq_init(&vq, &fm.gmem);
	rb_layout(&rb, &l, event_idx, indirect);
	rc = virtq_enable(&vq, &l);
	TAP_EQ(rc, 0);
	return rc == 0;
}

static bool setup(uint16_t num, bool indirect)
{
	return setup_ram(RAM_BASE, RAM_SIZE, num, false, indirect);
}

static void teardown(void)
{
	virtq_disable(&vq);
	TAP_EQ(fm.live, 0);
	TAP_EQ(fm.bad_unmaps, 0);
	TAP_EQ(fm.contract_violations, 0);
	fake_mem_fini(&fm);
}

/*
 * The next pop must fail with `want`: twice (the chain is not consumed),
 * leaving only the rings mapped and nothing published.
 */
static void expect_refused(int want)
{
	uint16_t used = rb_used_idx(&rb);

	for (int round = 0; round < 2; round++) {
		int rc = virtq_pop(&vq, &chain);

		TAP_CHECK(rc == want, "pop (try %d) returned %d, want %d",
			  round + 1, rc, want);
		TAP_EQ(fm.live, N_RINGMAP);
		TAP_EQ(rb_used_idx(&rb), used);
	}
	TAP_EQ(fm.bad_unmaps, 0);
	TAP_EQ(fm.contract_violations, 0);
}

/* The next pop serves chain `head` with this split; push it back. */
static void expect_served(uint16_t head, unsigned n_out, unsigned n_in)
{
	uint16_t used = rb_used_idx(&rb);
	int rc = virtq_pop(&vq, &chain);

	TAP_EQ(rc, 1);
	if (rc != 1)
		return;
	TAP_EQ(chain.head, head);
	TAP_EQ(chain.n_out, n_out);
	TAP_EQ(chain.n_in, n_in);
	TAP_EQ(fm.live, N_RINGMAP + n_out + n_in);
	virtq_push(&vq, &chain, 0);
	TAP_EQ(fm.live, N_RINGMAP);
	TAP_EQ(rb_used_idx(&rb), (uint16_t)(used + 1));
	{
		uint32_t id = 0xffff;

		rb_used_elem(&rb, used, &id, NULL);
		TAP_EQ(id, head);
	}
}

/* ---- descriptor chains ----------------------------------------------- */

static void test_loop_back_to_head(void)
{
	if (!setup(8, false))
		goto out;
	rb_set_desc(&rb, 0, buf(0), 8, VRING_DESC_F_NEXT, 1);
	rb_set_desc(&rb, 1, buf(1), 8, VRING_DESC_F_NEXT, 2);
	rb_set_desc(&rb, 2, buf(2), 8, VRING_DESC_F_NEXT, 0); /* back */
	rb_publish(&rb, 0);
	expect_refused(E_LOOP);
	rb_set_desc(&rb, 2, buf(2), 8, 0, 0);
	expect_served(0, 3, 0);
out:
	teardown();
}

static void test_self_loop(void)
{
	if (!setup(8, false))
		goto out;
	rb_set_desc(&rb, 4, buf(0), 8, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT,
		    4);
	rb_publish(&rb, 4);
	expect_refused(E_LOOP);
	rb_set_desc(&rb, 4, buf(0), 8, VRING_DESC_F_WRITE, 4);
	expect_served(4, 0, 1);
out:
	teardown();
}

/* Every descriptor of the ring, then back to the first: num + 1 long. */
static void test_chain_longer_than_num_next(void)
{
	if (!setup(4, false))
		goto out;
	for (unsigned i = 0; i < 4; i++)
		rb_set_desc(&rb, i, buf(i), 8, VRING_DESC_F_NEXT,
			    (uint16_t)((i + 1) % 4));
	rb_publish(&rb, 0);
	expect_refused(E_LOOP);
	rb_set_desc(&rb, 3, buf(3), 8, 0, 0);
	expect_served(0, 4, 0);
out:
	teardown();
}

static void test_next_out_of_range(void)
{
	if (!setup(8, false))
		goto out;
	rb_set_desc(&rb, 0, buf(0), 8, VRING_DESC_F_NEXT, 8);
	rb_publish(&rb, 0);
	expect_refused(E_BADDESC);
	rb_set_desc(&rb, 0, buf(0), 8, VRING_DESC_F_NEXT, 0xffff);
	expect_refused(E_BADDESC);
	rb_set_desc(&rb, 0, buf(0), 8, VRING_DESC_F_NEXT, 7);
	rb_set_desc(&rb, 7, buf(1), 8, VRING_DESC_F_WRITE, 0);
	expect_served(0, 1, 1);
out:
	teardown();
}

static void test_head_out_of_range(void)
{
	if (!setup(8, false))
		goto out;
	rb_set_desc(&rb, 0, buf(0), 8, 0, 0);
	rb_publish(&rb, 8);
	expect_refused(E_BADDESC);
	rb_avail_put(&rb, 0, 0xffff);
	expect_refused(E_BADDESC);
	rb_avail_put(&rb, 0, 0);
	expect_served(0, 1, 0);
out:
	teardown();
}

static void test_readable_after_writable(void)
{
	if (!setup(8, false))
		goto out;
	rb_set_desc(&rb, 0, buf(0), 8, VRING_DESC_F_NEXT, 1);
	rb_set_desc(&rb, 1, buf(1), 8, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT,
		    2);
	rb_set_desc(&rb, 2, buf(2), 8, 0, 0); /* readable after writable */
	rb_publish(&rb, 0);
	expect_refused(E_BADDESC);
	rb_set_desc(&rb, 2, buf(2), 8, VRING_DESC_F_WRITE, 0);
	expect_served(0, 1, 2);
out:
	teardown();
}

static void test_zero_length_buffer(void)
{
	if (!setup(8, false))
		goto out;
	rb_set_desc(&rb, 0, buf(0), 8, VRING_DESC_F_NEXT, 1);
	rb_set_desc(&rb, 1, buf(1), 0, VRING_DESC_F_WRITE, 0);
	rb_publish(&rb, 0);
	expect_refused(E_BADDESC);
	/* and the transport was never asked to map 0 bytes */
	TAP_EQ(fm.contract_violations, 0);
	rb_set_desc(&rb, 1, buf(1), 1, VRING_DESC_F_WRITE, 0);
	expect_served(0, 1, 1);
out:
	teardown();
}

static void test_buffer_addr_overflow(void)
{
	if (!setup(8, false))
		goto out;
	rb_set_desc(&rb, 0, buf(0), 8, VRING_DESC_F_NEXT, 1);
	rb_set_desc(&rb, 1, 0xffffffffffffff00ull, 0x200, VRING_DESC_F_WRITE,
		    0);
	rb_publish(&rb, 0);
	expect_refused(E_FAULT);
	rb_set_desc(&rb, 1, 0xffffffffffffffffull, 1, VRING_DESC_F_WRITE, 0);
	expect_refused(E_FAULT);
	rb_set_desc(&rb, 1, buf(1), 0x200, VRING_DESC_F_WRITE, 0);
	expect_served(0, 1, 1);
out:
	teardown();
}

static void test_buffer_outside_ram(void)
{
	if (!setup(8, false))
		goto out;
	rb_set_desc(&rb, 0, 0, 16, 0, 0); /* below RAM */
	rb_publish(&rb, 0);
	expect_refused(E_FAULT);
	rb_set_desc(&rb, 0, RAM_BASE - 8, 16, 0, 0); /* straddles start */
	expect_refused(E_FAULT);
	rb_set_desc(&rb, 0, RAM_END - 8, 16, 0, 0); /* straddles end */
	expect_refused(E_FAULT);
	rb_set_desc(&rb, 0, RAM_END, 1, 0, 0); /* just past end */
	expect_refused(E_FAULT);
	rb_set_desc(&rb, 0, RAM_END - 16, 16, 0, 0); /* last bytes: fine */
	expect_served(0, 1, 0);
out:
	teardown();
}

static void test_map_failure_mid_chain(void)
{
	unsigned unmaps;

	if (!setup(8, false))
		goto out;
	for (unsigned i = 0; i < 4; i++)
		rb_set_desc(&rb, i, buf(i), 64,
			    (i >= 2 ? VRING_DESC_F_WRITE : 0) |
				    (i < 3 ? VRING_DESC_F_NEXT : 0),
			    (uint16_t)(i + 1));
	rb_publish(&rb, 0);
	unmaps = fm.unmaps;
	fake_mem_fail_nth(&fm, 3, -ENOMEM); /* the third buffer */
	TAP_EQ(virtq_pop(&vq, &chain), -ENOMEM);
	TAP_EQ(fm.live, N_RINGMAP);
	TAP_EQ(fm.unmaps - unmaps, 2); /* the two mapped before it */
	TAP_EQ(rb_used_idx(&rb), 0);
	/* a transient failure: the chain is still there */
	fake_mem_fail_nth(&fm, 1, -EAGAIN);
	TAP_EQ(virtq_pop(&vq, &chain), -EAGAIN);
	TAP_EQ(fm.live, N_RINGMAP);
	expect_served(0, 2, 2);
out:
	teardown();
}

/* ---- indirect descriptors -------------------------------------------- */

static void small_table(uint64_t table)
{
	rb_table_set(&fm, table, 0, buf(0), 8, VRING_DESC_F_NEXT, 1);
	rb_table_set(&fm, table, 1, buf(1), 8, VRING_DESC_F_WRITE, 0);
}

static void test_indirect_not_negotiated(void)
{
	if (!setup(8, false))
		goto out;
	small_table(TABLE);
	rb_set_indirect(&rb, 0, TABLE, 32);
	rb_publish(&rb, 0);
	expect_refused(E_BADDESC);
	TAP_EQ(fake_mem_live_overlapping(&fm, TABLE, 32), 0);
	/* the guest falls back to a direct chain */
	rb_set_desc(&rb, 0, buf(0), 8, VRING_DESC_F_NEXT, 1);
	rb_set_desc(&rb, 1, buf(1), 8, VRING_DESC_F_WRITE, 0);
	expect_served(0, 1, 1);
out:
	teardown();
}

static void test_indirect_with_next(void)
{
	if (!setup(8, true))
		goto out;
	small_table(TABLE);
	rb_set_desc(&rb, 0, TABLE, 32,
		    VRING_DESC_F_INDIRECT | VRING_DESC_F_NEXT, 1);
	rb_set_desc(&rb, 1, buf(2), 8, VRING_DESC_F_WRITE, 0);
	rb_publish(&rb, 0);
	expect_refused(E_BADDESC);
	rb_set_indirect(&rb, 0, TABLE, 32);
	expect_served(0, 1, 1);
out:
	teardown();
}

static void test_indirect_after_direct(void)
{
	if (!setup(8, true))
		goto out;
	small_table(TABLE);
	rb_set_desc(&rb, 0, buf(2), 8, VRING_DESC_F_NEXT, 1);
	rb_set_indirect(&rb, 1, TABLE, 32);
	rb_publish(&rb, 0);
	expect_refused(E_BADDESC);
	rb_set_desc(&rb, 1, buf(1), 8, VRING_DESC_F_WRITE, 0);
	expect_served(0, 1, 1);
out:
	teardown();
}

static void test_nested_indirect(void)
{
	if (!setup(8, true))
		goto out;
	small_table(TABLE + 0x100);
	rb_table_set(&fm, TABLE, 0, buf(3), 8, VRING_DESC_F_NEXT, 1);
	rb_table_set(&fm, TABLE, 1, TABLE + 0x100, 32, VRING_DESC_F_INDIRECT,
		     0);
	rb_set_indirect(&rb, 0, TABLE, 32);
	rb_publish(&rb, 0);
	expect_refused(E_BADDESC);
	rb_table_set(&fm, TABLE, 1, buf(1), 8, VRING_DESC_F_WRITE, 0);
	expect_served(0, 1, 1);
out:
	teardown();
}

static void test_indirect_len_not_multiple(void)
{
	if (!setup(8, true))
		goto out;
	small_table(TABLE);
	rb_set_indirect(&rb, 0, TABLE, 40);
	rb_publish(&rb, 0);
	expect_refused(E_BADDESC);
	rb_set_indirect(&rb, 0, TABLE, 17);
	expect_refused(E_BADDESC);
	rb_set_indirect(&rb, 0, TABLE, 15);
	expect_refused(E_BADDESC);
	rb_set_indirect(&rb, 0, TABLE, 32);
	expect_served(0, 1, 1);
out:
	teardown();
}

static void test_indirect_len_zero(void)
{
	if (!setup(8, true))
		goto out;
	small_table(TABLE);
	rb_set_indirect(&rb, 0, TABLE, 0);
	rb_publish(&rb, 0);
	expect_refused(E_BADDESC);
	TAP_EQ(fm.contract_violations, 0); /* no 0-byte map attempted */
	rb_set_indirect(&rb, 0, TABLE, 32);
	expect_served(0, 1, 1);
out:
	teardown();
}

static void test_indirect_loop(void)
{
	if (!setup(8, true))
		goto out;
	rb_table_set(&fm, TABLE, 0, buf(0), 8, VRING_DESC_F_NEXT, 1);
	rb_table_set(&fm, TABLE, 1, buf(1), 8, VRING_DESC_F_NEXT, 2);
	rb_table_set(&fm, TABLE, 2, buf(2), 8, VRING_DESC_F_NEXT, 0);
	rb_set_indirect(&rb, 0, TABLE, 48);
	rb_publish(&rb, 0);
	expect_refused(E_LOOP);
	rb_table_set(&fm, TABLE, 2, buf(2), 8, 0, 0);
	expect_served(0, 3, 0);
out:
	teardown();
}

static void test_indirect_next_out_of_table(void)
{
	if (!setup(8, true))
		goto out;
	/* next 2 is a valid ring index but past the 2-entry table */
	rb_table_set(&fm, TABLE, 0, buf(0), 8, VRING_DESC_F_NEXT, 2);
	rb_table_set(&fm, TABLE, 1, buf(1), 8, VRING_DESC_F_WRITE, 0);
	rb_table_set(&fm, TABLE, 2, buf(2), 8, VRING_DESC_F_WRITE, 0);
	rb_set_indirect(&rb, 0, TABLE, 32);
	rb_publish(&rb, 0);
	expect_refused(E_BADDESC);
	rb_table_set(&fm, TABLE, 0, buf(0), 8, VRING_DESC_F_NEXT, 1);
	expect_served(0, 1, 1);
out:
	teardown();
}

static void test_indirect_readable_after_writable(void)
{
	if (!setup(8, true))
		goto out;
	rb_table_set(&fm, TABLE, 0, buf(0), 8,
		     VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 1);
	rb_table_set(&fm, TABLE, 1, buf(1), 8, 0, 0);
	rb_set_indirect(&rb, 0, TABLE, 32);
	rb_publish(&rb, 0);
	expect_refused(E_BADDESC);
	rb_table_set(&fm, TABLE, 1, buf(1), 8, VRING_DESC_F_WRITE, 0);
	expect_served(0, 0, 2);
out:
	teardown();
}

static void test_indirect_zero_length_entry(void)
{
	if (!setup(8, true))
		goto out;
	rb_table_set(&fm, TABLE, 0, buf(0), 8, VRING_DESC_F_NEXT, 1);
	rb_table_set(&fm, TABLE, 1, buf(1), 0, VRING_DESC_F_WRITE, 0);
	rb_set_indirect(&rb, 0, TABLE, 32);
	rb_publish(&rb, 0);
	expect_refused(E_BADDESC);
	rb_table_set(&fm, TABLE, 1, buf(1), 4, VRING_DESC_F_WRITE, 0);
	expect_served(0, 1, 1);
out:
	teardown();
}

/* num 4, a table of 5 entries: longer than the queue (virtio 2.7.5.3.1). */
static void test_chain_longer_than_num_indirect(void)
{
	struct rb_seg segs[5];

	if (!setup(4, true))
		goto out;
	for (unsigned k = 0; k < 5; k++)
		segs[k] = (struct rb_seg){ buf(k), 8, false };
	rb_table_chain(&fm, TABLE, segs, 5);
	rb_set_indirect(&rb, 0, TABLE, 5 * 16);
	rb_publish(&rb, 0);
	expect_refused(E_LOOP);
	/* the same table used with 4 entries is fine */
	rb_table_set(&fm, TABLE, 3, buf(3), 8, 0, 0);
	rb_set_indirect(&rb, 0, TABLE, 4 * 16);
	expect_served(0, 4, 0);
out:
	teardown();
}

/* The largest queue, a table of VIRTQ_NUM_MAX + 1 entries. */
static void test_indirect_beyond_num_max(void)
{
	struct rb_seg segs[VIRTQ_NUM_MAX + 1];

	if (!setup(VIRTQ_NUM_MAX, true))
		goto out;
	for (unsigned k = 0; k <= VIRTQ_NUM_MAX; k++)
		segs[k] = (struct rb_seg){ buf(k % 8) + k, 1, false };
	rb_table_chain(&fm, TABLE, segs, VIRTQ_NUM_MAX + 1);
	rb_set_indirect(&rb, 5, TABLE, (VIRTQ_NUM_MAX + 1) * 16);
	rb_publish(&rb, 5);
	expect_refused(E_LOOP);
	/* a table length near 4 GiB must not be mapped or walked */
	rb_set_indirect(&rb, 5, TABLE, 0xfffffff0u);
	expect_refused(E_LOOP);
	rb_set_indirect(&rb, 5, TABLE, VIRTQ_NUM_MAX * 16);
	rb_table_set(&fm, TABLE, VIRTQ_NUM_MAX - 1, segs[0].addr, 1, 0, 0);
	expect_served(5, VIRTQ_NUM_MAX, 0);
out:
	teardown();
}

static void test_indirect_table_outside_ram(void)
{
	if (!setup(8, true))
		goto out;
	rb_set_indirect(&rb, 0, RAM_END - 16, 32); /* straddles the end */
	rb_publish(&rb, 0);
	expect_refused(E_FAULT);
	rb_set_indirect(&rb, 0, 0x1000, 32); /* below RAM */
	expect_refused(E_FAULT);
	rb_set_indirect(&rb, 0, 0xfffffffffffffff0ull, 32); /* wraps */
	expect_refused(E_FAULT);
	small_table(RAM_END - 32); /* ends on the last byte */
	rb_set_indirect(&rb, 0, RAM_END - 32, 32);
	expect_served(0, 1, 1);
out:
	teardown();
}

static void test_indirect_map_failures(void)
{
	unsigned unmaps;

	if (!setup(8, true))
		goto out;
	rb_table_set(&fm, TABLE, 0, buf(0), 8, VRING_DESC_F_NEXT, 1);
	rb_table_set(&fm, TABLE, 1, buf(1), 8, VRING_DESC_F_NEXT, 2);
	rb_table_set(&fm, TABLE, 2, buf(2), 8, VRING_DESC_F_WRITE, 0);
	rb_set_indirect(&rb, 0, TABLE, 48);
	rb_publish(&rb, 0);
	/* the table itself cannot be mapped */
	fake_mem_fail_nth(&fm, 1, -ENOMEM);
	TAP_EQ(virtq_pop(&vq, &chain), -ENOMEM);
	TAP_EQ(fm.live, N_RINGMAP);
	/* the table and the first buffer map, the second buffer fails */
	unmaps = fm.unmaps;
	fake_mem_fail_nth(&fm, 3, -EAGAIN);
	TAP_EQ(virtq_pop(&vq, &chain), -EAGAIN);
	TAP_EQ(fm.live, N_RINGMAP);
	TAP_EQ(fm.unmaps - unmaps, 2);
	TAP_EQ(rb_used_idx(&rb), 0);
	expect_served(0, 2, 1);
out:
	teardown();
}

/* ---- the available ring ---------------------------------------------- */

static void test_avail_idx_jump(void)
{
	if (!setup(8, false))
		goto out;
	rb_set_desc(&rb, 0, buf(0), 8, 0, 0);
	for (unsigned s = 0; s < 8; s++)
		rb_avail_put(&rb, (uint16_t)s, 0);
	rb_avail_set_idx(&rb, 9); /* 9 entries in an 8-entry ring */
	expect_refused(E_AVAILIDX);
	rb_avail_set_idx(&rb, 0x8000);
	expect_refused(E_AVAILIDX);
	rb_avail_set_idx(&rb, 0xffff);
	expect_refused(E_AVAILIDX);
	TAP_EQ(fm.maps_ok, N_RINGMAP); /* no descriptor was even looked at */
	/* exactly num ahead is a full ring, which is fine */
	rb_avail_set_idx(&rb, 8);
	for (unsigned s = 0; s < 8; s++)
		expect_served(0, 1, 0);
	TAP_EQ(virtq_pop(&vq, &chain), 0);
out:
	teardown();
}

static void test_avail_idx_backwards(void)
{
	if (!setup(8, false))
		goto out;
	rb_set_desc(&rb, 0, buf(0), 8, 0, 0);
	rb_publish(&rb, 0);
	rb_publish(&rb, 0);
	expect_served(0, 1, 0);
	expect_served(0, 1, 0);
	rb_avail_set_idx(&rb, 1); /* we consumed 2 */
	expect_refused(E_AVAILIDX);
	rb_avail_set_idx(&rb, 2);
	TAP_EQ(virtq_pop(&vq, &chain), 0);
	rb_publish(&rb, 0);
	expect_served(0, 1, 0);
out:
	teardown();
}

/* ---- the guest rewriting memory under the device --------------------- */

static void test_desc_rewritten_after_pop(void)
{
	struct virtq_chain snap;

	if (!setup(8, false))
		goto out;
	rb_set_desc(&rb, 2, buf(0), 16, VRING_DESC_F_NEXT, 3);
	rb_set_desc(&rb, 3, buf(1), 32, VRING_DESC_F_WRITE, 0);
	rb_publish(&rb, 2);
	TAP_EQ(virtq_pop(&vq, &chain), 1);
	memcpy(&snap, &chain, sizeof(snap));
	/* The guest scribbles over the table and the consumed avail slot. */
	fake_mem_fill(&fm, rb.desc, 0xff, rb_desc_bytes(8));
	rb_avail_put(&rb, 0, 0xffff);
	TAP_EQ(chain.head, 2);
	TAP_EQ(chain.n_out, 1);
	TAP_EQ(chain.n_in, 1);
	TAP_CHECK(memcmp(chain.iov, snap.iov, 2 * sizeof(chain.iov[0])) == 0,
		  "popped chain changed with guest memory");
	/* push and release use what pop recorded, not the rings */
	virtq_push(&vq, &chain, 32);
	TAP_EQ(fm.live, N_RINGMAP);
	TAP_EQ(fm.bad_unmaps, 0);
	{
		uint32_t id = 0, len = 0;

		rb_used_elem(&rb, 0, &id, &len);
		TAP_EQ(id, 2);
		TAP_EQ(len, 32);
	}
	/* the scribbled table now breaks the next chain, not this one */
	rb_publish(&rb, 2);
	/* flags 0xffff: INDIRECT (not negotiated) with NEXT */
	expect_refused(E_BADDESC);
	rb_set_desc(&rb, 2, buf(0), 16, 0, 0);
	expect_served(2, 1, 0);
out:
	teardown();
}

static void test_desc_changed_between_pops(void)
{
	if (!setup(8, false))
		goto out;
	rb_set_desc(&rb, 0, buf(0), 8, VRING_DESC_F_NEXT, 1);
	rb_set_desc(&rb, 1, buf(1), 8, VRING_DESC_F_WRITE, 0);
	rb_publish(&rb, 0);
	rb_publish(&rb, 0);
	expect_served(0, 1, 1);
	/* between pops the guest turns descriptor 1 into a loop */
	rb_set_desc(&rb, 1, buf(1), 8, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT,
		    0);
	expect_refused(E_BADDESC); /* readable 0 after writable 1 */
	rb_set_desc(&rb, 1, buf(1), 8, VRING_DESC_F_NEXT, 0);
	expect_refused(E_LOOP);
	/* and back to a proper chain, now of a different shape */
	rb_set_desc(&rb, 1, buf(1), 8, VRING_DESC_F_NEXT, 2);
	rb_set_desc(&rb, 2, buf(2), 8, VRING_DESC_F_WRITE, 0);
	expect_served(0, 2, 1);
out:
	teardown();
}

/* The device keeps its own used index; the guest's scribbles are ignored. */
static void test_used_idx_scribbled(void)
{
	uint32_t id = 0;

	if (!setup(8, false))
		goto out;
	rb_set_desc(&rb, 6, buf(0), 8, 0, 0);
	rb_publish(&rb, 6);
	rb_publish(&rb, 6);
	expect_served(6, 1, 0);
	TAP_EQ(virtq_pop(&vq, &chain), 1);
	rb_used_set_idx(&rb, 0x1234);
	virtq_push(&vq, &chain, 0);
	TAP_EQ(rb_used_idx(&rb), 2);
	rb_used_elem(&rb, 1, &id, NULL);
	TAP_EQ(id, 6);
	/* nothing was written at the slot the scribbled index points to */
	rb_used_elem(&rb, 0x1234, &id, NULL);
	TAP_EQ(id, 0);
out:
	teardown();
}

/* ---- sizes ----------------------------------------------------------- */

/*
 * Overlapping readable buffers of 1.5 GiB and 4 GiB - 1: each is guest
 * RAM, but their sum does not fit used.len (virtio 1.2, 2.7.5.2: no chain
 * longer than 2^32 bytes). Needs 4 GiB of address space, never touched.
 */
static void test_total_length_over_4g(void)
{
	const uint32_t big = 0x60000000; /* 1.5 GiB */
	const uint64_t data = RAM_BASE + 0x100000;

	if (!setup_ram(RAM_BASE, 0x100200000ull, 8, false, false))
		goto out;
	rb_set_desc(&rb, 0, data, big, VRING_DESC_F_NEXT, 1);
	rb_set_desc(&rb, 1, data, big, VRING_DESC_F_NEXT, 2);
	rb_set_desc(&rb, 2, data, big, VRING_DESC_F_WRITE, 0);
	rb_publish(&rb, 0);
	expect_refused(E_TOOLONG); /* 4.5 GiB */
	/* two of them, 3 GiB, are fine */
	rb_set_desc(&rb, 1, data, big, VRING_DESC_F_WRITE, 0);
	expect_served(0, 1, 1);
	/* two of 4 GiB - 1 are refused, one alone is fine */
	rb_set_desc(&rb, 0, data, 0xffffffffu, VRING_DESC_F_NEXT, 1);
	rb_set_desc(&rb, 1, data, 0xffffffffu, 0, 0);
	rb_publish(&rb, 0);
	expect_refused(E_TOOLONG);
	rb_set_desc(&rb, 0, data, 0xffffffffu, 0, 0);
	expect_served(0, 1, 0);
out:
	teardown();
}

/* ---- the cursor -------------------------------------------------------- */

static bool cursor_setup(void)
{
	if (!setup(8, false))
		return false;
	fake_mem_fill(&fm, buf(0), 0x11, 4);
	fake_mem_fill(&fm, buf(1), 0x22, 6);
	fake_mem_fill(&fm, buf(2), 0xee, 16);
	fake_mem_fill(&fm, buf(3), 0xee, 16);
	rb_set_desc(&rb, 0, buf(0), 4, VRING_DESC_F_NEXT, 1);
	rb_set_desc(&rb, 1, buf(1), 6, VRING_DESC_F_NEXT, 2);
	rb_set_desc(&rb, 2, buf(2), 3, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT,
		    3);
	rb_set_desc(&rb, 3, buf(3), 5, VRING_DESC_F_WRITE, 0);
	rb_publish(&rb, 0);
	return virtq_pop(&vq, &chain) == 1;
}

static void test_cursor_read_past_end(void)
{
	struct virtq_cursor c;
	uint8_t out[32];

	if (!cursor_setup()) {
		TAP_CHECK(false, "setup");
		goto out;
	}
	virtq_reader(&c, &chain);
	memset(out, 0xa5, sizeof(out));
	TAP_EQ(virtq_read(&c, out, 11), -EMSGSIZE);
	for (unsigned j = 0; j < sizeof(out); j++)
		TAP_EQ(out[j], 0xa5);
	TAP_EQ(virtq_cursor_left(&c), 10);
	TAP_EQ(c.done, 0);
	TAP_EQ(virtq_read(&c, out, 3), 0);
	/* 7 left; 8 crosses into a segment that does not exist */
	memset(out, 0xa5, sizeof(out));
	TAP_EQ(virtq_read(&c, out, 8), -EMSGSIZE);
	TAP_EQ(out[0], 0xa5);
	TAP_EQ(virtq_cursor_left(&c), 7);
	TAP_EQ(c.done, 3);
	TAP_EQ(virtq_read(&c, out, SIZE_MAX), -EMSGSIZE);
	TAP_EQ(virtq_read(&c, out, 7), 0);
	TAP_EQ(out[0], 0x11);
	TAP_EQ(out[1], 0x22);
	TAP_EQ(out[6], 0x22);
	TAP_EQ(virtq_read(&c, out, 1), -EMSGSIZE);
	virtq_push(&vq, &chain, 0);
out:
	teardown();
}

static void test_cursor_write_past_end(void)
{
	struct virtq_cursor c;
	uint8_t in[16];
	const uint8_t *w0, *w1;

	if (!cursor_setup()) {
		TAP_CHECK(false, "setup");
		goto out;
	}
	memset(in, 0x5c, sizeof(in));
	virtq_writer(&c, &chain);
	TAP_EQ(virtq_write(&c, in, 9), -EMSGSIZE);
	w0 = fake_mem_ptr(&fm, buf(2), 16);
	w1 = fake_mem_ptr(&fm, buf(3), 16);
	for (unsigned j = 0; j < 16; j++) {
		TAP_EQ(w0[j], 0xee);
		TAP_EQ(w1[j], 0xee);
	}
	TAP_EQ(virtq_cursor_left(&c), 8);
	TAP_EQ(virtq_write(&c, in, 2), 0);
	TAP_EQ(virtq_write(&c, in, 7), -EMSGSIZE);
	TAP_EQ(w0[2], 0xee);
	TAP_EQ(virtq_write(&c, in, 6), 0);
	TAP_EQ(w0[2], 0x5c);
	TAP_EQ(w1[4], 0x5c);
	TAP_EQ(w1[5], 0xee); /* never past the segment */
	TAP_EQ(virtq_skip(&c, 1), -EMSGSIZE);
	TAP_EQ(virtq_cursor_left(&c), 0);
	virtq_push(&vq, &chain, 8);
out:
	teardown();
}

static void test_cursor_skip_past_end(void)
{
	struct virtq_cursor c;

	if (!cursor_setup()) {
		TAP_CHECK(false, "setup");
		goto out;
	}
	virtq_reader(&c, &chain);
	TAP_EQ(virtq_skip(&c, 11), -EMSGSIZE);
	TAP_EQ(virtq_cursor_left(&c), 10);
	TAP_EQ(virtq_skip(&c, SIZE_MAX), -EMSGSIZE);
	TAP_EQ(virtq_cursor_left(&c), 10);
	TAP_EQ(virtq_skip(&c, 10), 0);
	TAP_EQ(virtq_cursor_left(&c), 0);
	virtq_push(&vq, &chain, 0);
out:
	teardown();
}

/* ---- virtq_enable ---------------------------------------------------- */

/*
 * Enabling with this layout must fail with want, leave the queue disabled
 * with nothing mapped; a correct layout afterwards works.
 */
static void expect_enable_fails(uint16_t num, uint64_t desc, uint64_t avail,
				uint64_t used, int want)
{
	struct virtq_layout l = {
		.num = num, .desc = desc, .avail = avail, .used = used
	};
	int rc;

	rc = virtq_enable(&vq, &l);
	TAP_CHECK(rc == want,
		  "enable(num %u, %#llx, %#llx, %#llx) = %d, "
		  "want %d",
		  num, (unsigned long long)desc, (unsigned long long)avail,
		  (unsigned long long)used, rc, want);
	TAP_CHECK(!vq.enabled, "queue enabled after a failed enable");
	TAP_EQ(fm.live, 0);
	TAP_EQ(virtq_pop(&vq, &chain), 0);
	TAP_CHECK(!virtq_has_avail(&vq), "has_avail on a failed queue");
	TAP_EQ(fm.live, 0);
}

static bool enable_setup(void)
{
	int rc = fake_mem_init(&fm, RAM_BASE, RAM_SIZE);

	TAP_CHECK(rc == 0, "fake_mem_init: %d", rc);
	if (rc)
		return false;
	rb_init_at(&rb, &fm, 8, RING);
	virtq_init(&vq, &fm.gmem);
	/* something the queue would find if it wrongly went live */
	rb_set_desc(&rb, 0, buf(0), 8, 0, 0);
	rb_publish(&rb, 0);
	return true;
}

static void enable_works(void)
{
	struct virtq_layout l;

	rb_layout(&rb, &l, false, false);
	TAP_EQ(virtq_enable(&vq, &l), 0);
	TAP_EQ(fm.live, N_RINGMAP);
	expect_served(0, 1, 0);
}

static void test_enable_unaligned_desc(void)
{
	if (!enable_setup())
		return;
	expect_enable_fails(8, rb.desc + 8, rb.avail, rb.used, E_LAYOUT);
	expect_enable_fails(8, rb.desc + 1, rb.avail, rb.used, E_LAYOUT);
	enable_works();
	teardown();
}

static void test_enable_unaligned_avail(void)
{
	if (!enable_setup())
		return;
	expect_enable_fails(8, rb.desc, rb.avail + 1, rb.used, E_LAYOUT);
	enable_works();
	teardown();
}

static void test_enable_unaligned_used(void)
{
	if (!enable_setup())
		return;
	expect_enable_fails(8, rb.desc, rb.avail, rb.used + 2, E_LAYOUT);
	expect_enable_fails(8, rb.desc, rb.avail, rb.used + 1, E_LAYOUT);
	enable_works();
	teardown();
}

static void test_enable_num_not_power_of_two(void)
{
	if (!enable_setup())
		return;
	expect_enable_fails(6, rb.desc, rb.avail, rb.used, E_LAYOUT);
	expect_enable_fails(255, rb.desc, rb.avail, rb.used, E_LAYOUT);
	expect_enable_fails(3, rb.desc, rb.avail, rb.used, E_LAYOUT);
	enable_works();
	teardown();
}

static void test_enable_num_zero(void)
{
	if (!enable_setup())
		return;
	expect_enable_fails(0, rb.desc, rb.avail, rb.used, E_LAYOUT);
	enable_works();
	teardown();
}

static void test_enable_num_too_large(void)
{
	if (!enable_setup())
		return;
	expect_enable_fails(VIRTQ_NUM_MAX * 2, rb.desc, rb.avail, rb.used,
			    E_LAYOUT);
	expect_enable_fails(0x8000, rb.desc, rb.avail, rb.used, E_LAYOUT);
	enable_works();
	teardown();
}

static void test_enable_rings_outside_ram(void)
{
	if (!enable_setup())
		return;
	/* each ring in turn outside RAM: the ones mapped first are released */
	expect_enable_fails(8, 0x1000, rb.avail, rb.used, E_FAULT);
	expect_enable_fails(8, rb.desc, RAM_END, rb.used, E_FAULT);
	expect_enable_fails(8, rb.desc, rb.avail, RAM_END - 64, E_FAULT);
	expect_enable_fails(8, rb.desc, rb.avail, RAM_BASE - 4, E_FAULT);
	expect_enable_fails(8, RAM_END - 64, rb.avail, rb.used, E_FAULT);
	TAP_CHECK(fm.unmaps == fm.maps_ok, "maps %u, unmaps %u", fm.maps_ok,
		  fm.unmaps);
	enable_works();
	teardown();
}

static void test_enable_ring_addr_overflow(void)
{
	if (!enable_setup())
		return;
	expect_enable_fails(8, 0xfffffffffffffff0ull, rb.avail, rb.used,
			    E_FAULT);
	expect_enable_fails(8, rb.desc, rb.avail, 0xfffffffffffffffcull,
			    E_FAULT);
	enable_works();
	teardown();
}

static void test_enable_map_failure(void)
{
	if (!enable_setup())
		return;
	fake_mem_fail_nth(&fm, 3, -ENOMEM); /* the third ring */
	expect_enable_fails(8, rb.desc, rb.avail, rb.used, -ENOMEM);
	fake_mem_fail_nth(&fm, 2, -EAGAIN); /* the second ring */
	expect_enable_fails(8, rb.desc, rb.avail, rb.used, -EAGAIN);
	TAP_EQ(fm.unmaps, fm.maps_ok);
	enable_works();
	teardown();
}

/* A live queue re-enabled with a bad layout ends up disabled, unmapped. */
static void test_reenable_bad_layout(void)
{
	struct virtq_layout l;

	if (!enable_setup())
		return;
	rb_layout(&rb, &l, false, false);
	TAP_EQ(virtq_enable(&vq, &l), 0);
	TAP_EQ(fm.live, N_RINGMAP);
	expect_enable_fails(8, rb.desc, rb.avail, rb.used + 1, E_LAYOUT);
	rb_avail_set_idx(&rb, 0);
	rb.avail_idx = 0;
	rb_publish(&rb, 0);
	enable_works();
	teardown();
}

int main(void)
{
	tap_run("descriptor loop: next points back to the head",
		test_loop_back_to_head);
	tap_run("descriptor self-loop: next points to itself", test_self_loop);
	tap_run("chain longer than num via NEXT (whole ring, then back)",
		test_chain_longer_than_num_next);
	tap_run("next index >= num (num and 0xffff)", test_next_out_of_range);
	tap_run("head index >= num in the avail ring (num and 0xffff)",
		test_head_out_of_range);
	tap_run("readable descriptor after a writable one",
		test_readable_after_writable);
	tap_run("zero-length buffer descriptor", test_zero_length_buffer);
	tap_run("buffer addr + len overflows 2^64", test_buffer_addr_overflow);
	tap_run("buffer outside guest RAM (below, straddling, past end)",
		test_buffer_outside_ram);
	tap_run("map failure mid-chain releases the earlier maps",
		test_map_failure_mid_chain);
	tap_run("INDIRECT flag when indirect was not negotiated",
		test_indirect_not_negotiated);
	tap_run("INDIRECT and NEXT on the same descriptor",
		test_indirect_with_next);
	tap_run("indirect descriptor after a direct one in a chain",
		test_indirect_after_direct);
	tap_run("indirect descriptor inside an indirect table",
		test_nested_indirect);
	tap_run("indirect table len not a multiple of 16 (40, 17, 15)",
		test_indirect_len_not_multiple);
	tap_run("indirect table of len 0", test_indirect_len_zero);
	tap_run("loop inside an indirect table", test_indirect_loop);
	tap_run("next beyond the indirect table's entries",
		test_indirect_next_out_of_table);
	tap_run("readable after writable inside an indirect table",
		test_indirect_readable_after_writable);
	tap_run("zero-length entry inside an indirect table",
		test_indirect_zero_length_entry);
	tap_run("chain longer than num via indirect (5 entries, num 4)",
		test_chain_longer_than_num_indirect);
	tap_run("indirect table of VIRTQ_NUM_MAX + 1 entries, and len ~4 GiB",
		test_indirect_beyond_num_max);
	tap_run("indirect table outside guest RAM or wrapping 2^64",
		test_indirect_table_outside_ram);
	tap_run("map failure of an indirect table and inside it",
		test_indirect_map_failures);
	tap_run("avail->idx more than num ahead", test_avail_idx_jump);
	tap_run("avail->idx moved backwards", test_avail_idx_backwards);
	tap_run("guest rewrites desc table after pop: chain and push intact",
		test_desc_rewritten_after_pop);
	tap_run("guest changes desc memory between pop calls",
		test_desc_changed_between_pops);
	tap_run("guest scribbles used->idx: device keeps its own index",
		test_used_idx_scribbled);
	tap_run("total chain length above 4 GiB", test_total_length_over_4g);
	tap_run("cursor read past end: -EMSGSIZE, nothing copied",
		test_cursor_read_past_end);
	tap_run("cursor write past end: -EMSGSIZE, nothing written",
		test_cursor_write_past_end);
	tap_run("cursor skip past end: -EMSGSIZE, position kept",
		test_cursor_skip_past_end);
	tap_run("enable: unaligned descriptor table",
		test_enable_unaligned_desc);
	tap_run("enable: unaligned avail ring", test_enable_unaligned_avail);
	tap_run("enable: unaligned used ring", test_enable_unaligned_used);
	tap_run("enable: num not a power of two",
		test_enable_num_not_power_of_two);
	tap_run("enable: num 0", test_enable_num_zero);
	tap_run("enable: num > VIRTQ_NUM_MAX", test_enable_num_too_large);
	tap_run("enable: rings outside guest RAM release earlier ring maps",
		test_enable_rings_outside_ram);
	tap_run("enable: ring address + size overflows 2^64",
		test_enable_ring_addr_overflow);
	tap_run("enable: ring map failure releases earlier ring maps",
		test_enable_map_failure);
	tap_run("enable: live queue re-enabled with bad layout ends disabled",
		test_reenable_bad_layout);
	return tap_done();
}
