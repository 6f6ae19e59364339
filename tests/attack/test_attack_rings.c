/* SPDX-License-Identifier: MIT */
/*
 * Attacks on the split virtqueue, written by hand into guest RAM: loops,
 * chains longer than the ring, wild addresses, lying lengths, malformed
 * indirect tables, rings that overlap or are rewritten while the device
 * reads them. The device must declare NEEDS_RESET, raise a config
 * interrupt, publish nothing, serve again after a reset, and never let any
 * of it reach the witness guest.
 */
#include <errno.h>
#include <linux/virtio_config.h>
#include <linux/virtio_mmio.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include "atk.h"
#include "atk_ring.h"
#include "tap.h"
#include "vmedia/testbus_wire.h"
#include "vmedia/virtio_media_wire.h"

#define RAM_SIZE (96ull << 20)
#define DEV	 0u
#define NUM	 16u
#define CMDQ	 VIRTIO_MEDIA_QUEUE_COMMAND
#define R_	 0		       /* readable */
#define W_	 VRING_DESC_F_WRITE    /* writable */
#define N_	 VRING_DESC_F_NEXT     /* chained */
#define I_	 VRING_DESC_F_INDIRECT /* indirect table */
#define TABLE	 8192u		       /* indirect tables in the buffer */

static struct atk_rdev R;

static struct atk_rq *cmdq(void)
{
	return &R.q[CMDQ];
}

static bool up(uint64_t features, uint16_t num)
{
	int r = atk_rdev_up(&R, atk_g.t, &atk_g.ram, DEV, features, num);

	TAP_CHECK(r == 0, "bring-up: %d", r);
	return r == 0;
}

/* An OPEN command at offset 0 of the buffer; its guest address. */
static uint64_t open_cmd(void)
{
	struct virtio_media_cmd_header h = { .cmd = VIRTIO_MEDIA_CMD_OPEN };

	memcpy(atk_rbuf(&R, 0), &h, sizeof(h));
	return atk_rbuf_gpa(&R, 0);
}

static uint64_t resp(void)
{
	return atk_rbuf_gpa(&R, 4096);
}

/* Post head on the commandq, kick, and expect the device to give up. */
static void fire(uint16_t head)
{
	uint16_t before = atk_rq_used_idx(cmdq());

	atk_rq_post(cmdq(), head);
	TAP_EQ(atk_rq_kick(cmdq()), 0);
	atk_expect_broken(&R, CMDQ, before);
}

/* An indirect table of n entries at TABLE; its descriptors. */
static struct vring_desc *table(void)
{
	return atk_rbuf(&R, TABLE);
}

static void tdesc(unsigned i, uint64_t addr, uint32_t len, uint16_t flags,
		  uint16_t next)
{
	table()[i] = (struct vring_desc){
		.addr = addr, .len = len, .flags = flags, .next = next
	};
}

/* ---- direct chains ------------------------------------------------------ */

static void test_self_loop(void)
{
	if (!up(0, NUM))
		return;
	atk_rq_desc(cmdq(), 0, open_cmd(), 8, N_, 0);
	fire(0);
}

static void test_two_cycle(void)
{
	if (!up(0, NUM))
		return;
	atk_rq_desc(cmdq(), 3, open_cmd(), 8, N_, 9);
	atk_rq_desc(cmdq(), 9, open_cmd(), 8, N_, 3);
	fire(3);
}

static void test_ring_long_cycle(void)
{
	if (!up(0, NUM))
		return;
	/* Every descriptor once, then round again: longer than the ring. */
	for (uint16_t i = 0; i < NUM; i++)
		atk_rq_desc(cmdq(), i, open_cmd(), 8, N_, (i + 1) % NUM);
	fire(5);
}

static void test_next_past_ring(void)
{
	if (!up(0, NUM))
		return;
	atk_rq_desc(cmdq(), 0, open_cmd(), 8, N_, NUM);
	fire(0);
	if (!up(0, NUM))
		return;
	atk_rq_desc(cmdq(), 0, open_cmd(), 8, N_, 0xffff);
	fire(0);
}

static void test_head_past_ring(void)
{
	if (!up(0, NUM))
		return;
	fire(NUM);
	if (!up(0, NUM))
		return;
	fire(0xffff);
}

static void test_avail_idx_ahead(void)
{
	uint16_t before;

	if (!up(0, NUM))
		return;
	atk_rq_desc(cmdq(), 0, open_cmd(), 8, N_, 1);
	atk_rq_desc(cmdq(), 1, resp(), 16, W_, 0);
	before = atk_rq_used_idx(cmdq());
	/* 17 new entries in a ring of 16: the driver lies. */
	atk_rq_set_avail_idx(cmdq(), NUM + 1);
	atk_rq_kick(cmdq());
	atk_expect_broken(&R, CMDQ, before);
}

/* One readable descriptor at addr/len (the command is whatever is there). */
static void fire_buffer(uint64_t addr, uint32_t len)
{
	if (!up(0, NUM))
		return;
	atk_rq_desc(cmdq(), 0, addr, len, N_, 1);
	atk_rq_desc(cmdq(), 1, resp(), 16, W_, 0);
	fire(0);
}

static void test_addr_below_ram(void)
{
	fire_buffer(0x1000, 8);
	fire_buffer(0, 8);
}

static void test_addr_not_ram(void)
{
	/* The MMIO windows and the SHM region are not the guest's RAM. */
	fire_buffer(TESTBUS_MMIO_BASE, 8);
	fire_buffer(TESTBUS_SHM_BASE, 8);
	fire_buffer(VG_RAM_BASE + RAM_SIZE, 8);
}

static void test_addr_len_overflow(void)
{
	fire_buffer(~0ull - 7, 64);
	fire_buffer(VG_RAM_BASE, 0xffffffffu);
}

static void test_past_ram_end(void)
{
	fire_buffer(VG_RAM_BASE + RAM_SIZE - 4, 8);
}

static void test_zero_length(void)
{
	if (!up(0, NUM))
		return;
	atk_rq_desc(cmdq(), 0, open_cmd(), 0, N_, 1);
	atk_rq_desc(cmdq(), 1, resp(), 16, W_, 0);
	fire(0);
}

static void test_readable_after_writable(void)
{
	if (!up(0, NUM))
		return;
	atk_rq_desc(cmdq(), 0, resp(), 16, W_ | N_, 1);
	atk_rq_desc(cmdq(), 1, open_cmd(), 8, R_, 0);
	fire(0);
}

/* ---- indirect tables ---------------------------------------------------- */

/* The ring's descriptor 0 points at the table, len bytes. */
static void fire_table(uint32_t len, uint64_t addr, uint16_t flags)
{
	atk_rq_desc(cmdq(), 0, addr, len, flags, 1);
	atk_rq_desc(cmdq(), 1, resp(), 16, W_, 0);
	fire(0);
}

static void good_table(void)
{
	tdesc(0, open_cmd(), 8, N_, 1);
	tdesc(1, resp(), 16, W_, 0);
}

static void test_indirect_bad_sizes(void)
{
	static const uint32_t lens[] = { 0, 8, 24, 33, 0xfffffff0u };

	for (unsigned i = 0; i < ARRAY_SIZE(lens); i++) {
		if (!up(VG_F_INDIRECT_DESC, NUM))
			return;
		good_table();
		fire_table(lens[i], atk_rbuf_gpa(&R, TABLE), I_);
	}
}

static void test_indirect_longer_than_ring(void)
{
	if (!up(VG_F_INDIRECT_DESC, NUM))
		return;
	/* NUM + 1 readable entries in a straight line. */
	for (unsigned i = 0; i <= NUM; i++)
		tdesc(i, open_cmd(), 8, i < NUM ? N_ : 0, (uint16_t)(i + 1));
	fire_table((NUM + 1) * 16, atk_rbuf_gpa(&R, TABLE), I_);
}

static void test_indirect_outside_ram(void)
{
	if (!up(VG_F_INDIRECT_DESC, NUM))
		return;
	fire_table(32, 0x1000, I_);
	if (!up(VG_F_INDIRECT_DESC, NUM))
		return;
	fire_table(32, ~0ull - 15, I_);
}

static void test_indirect_nested(void)
{
	if (!up(VG_F_INDIRECT_DESC, NUM))
		return;
	tdesc(0, atk_rbuf_gpa(&R, TABLE), 32, I_, 0);
	fire_table(32, atk_rbuf_gpa(&R, TABLE), I_);
}

static void test_indirect_with_next(void)
{
	if (!up(VG_F_INDIRECT_DESC, NUM))
		return;
	good_table();
	fire_table(32, atk_rbuf_gpa(&R, TABLE), I_ | N_);
}

static void test_indirect_not_first(void)
{
	if (!up(VG_F_INDIRECT_DESC, NUM))
		return;
	good_table();
	atk_rq_desc(cmdq(), 0, open_cmd(), 8, N_, 1);
	atk_rq_desc(cmdq(), 1, atk_rbuf_gpa(&R, TABLE), 32, I_, 0);
	fire(0);
}

static void test_indirect_not_negotiated(void)
{
	if (!up(0, NUM))
		return;
	good_table();
	fire_table(32, atk_rbuf_gpa(&R, TABLE), I_);
}

static void test_indirect_loop(void)
{
	if (!up(VG_F_INDIRECT_DESC, NUM))
		return;
	tdesc(0, open_cmd(), 8, N_, 1);
	tdesc(1, open_cmd(), 8, N_, 0);
	fire_table(32, atk_rbuf_gpa(&R, TABLE), I_);
}

static void test_indirect_next_outside(void)
{
	if (!up(VG_F_INDIRECT_DESC, NUM))
		return;
	tdesc(0, open_cmd(), 8, N_, 2); /* the table has 2 entries */
	tdesc(1, resp(), 16, W_, 0);
	fire_table(32, atk_rbuf_gpa(&R, TABLE), I_);
}

static void test_chain_over_4g(void)
{
	const unsigned n = 64;
	uint32_t seg = (uint32_t)(RAM_SIZE - (1u << 20));

	if (!up(VG_F_INDIRECT_DESC, n))
		return;
	/* Overlapping segments of all RAM: 64 x 95 MiB > 4 GiB in total. */
	for (unsigned i = 0; i < n; i++)
		tdesc(i, VG_RAM_BASE, seg, i + 1 < n ? N_ : 0,
		      (uint16_t)(i + 1));
	fire_table(n * 16, atk_rbuf_gpa(&R, TABLE), I_);
}

/* ---- rings that hurt only their guest ----------------------------------- */

static void test_overlapping_rings(void)
{
	struct vg_transport *t = atk_g.t;
	struct vg_virtio d;
	struct vg_mem m;
	uint32_t st;

	TAP_EQ(vg_virtio_open(&d, t, DEV), 0);
	TAP_EQ(vg_virtio_negotiate(&d, VG_F_VERSION_1), 0);
	TAP_EQ(vg_ram_alloc(&atk_g.ram, 4096, &m), 0);
	/* Descriptors, avail and used rings all on the same bytes. */
	memset(m.host, 0x01, 4096);
	for (unsigned q = 0; q < 2; q++)
		TAP_EQ(vg_virtio_queue_setup(&d, q, NUM, m.gpa, m.gpa, m.gpa),
		       0);
	TAP_EQ(vg_virtio_driver_ok(&d), 0);
	TAP_EQ(vg_virtio_notify(&d, CMDQ), 0);
	TAP_EQ(vg_virtio_notify(&d, VIRTIO_MEDIA_QUEUE_EVENT), 0);
	TAP_EQ(vg_virtio_status(&d, &st), 0);
	/* avail->idx reads 0x0101: more than a ring ahead. */
	TAP_CHECK(st & VIRTIO_CONFIG_S_NEEDS_RESET, "status %#x", st);
	TAP_EQ(vg_virtio_reset(&d), 0);
	vg_ram_free(&atk_g.ram, &m);
	if (up(VG_F_INDIRECT_DESC, NUM))
		TAP_EQ(atk_rdev_roundtrip(&R), 0);
	atk_rdev_down(&R);
}

/* An OPEN whose answer lands on `where` (a ring of the device's own). */
static void answer_into(uint64_t where)
{
	struct vring_used_elem e;

	atk_rq_desc(cmdq(), 0, open_cmd(), 8, N_, 1);
	atk_rq_desc(cmdq(), 1, where, 16, W_, 0);
	atk_rq_post(cmdq(), 0);
	atk_rq_kick(cmdq());
	/* Whatever the guest made of its ring, the device went on. */
	(void)atk_rq_wait(cmdq(), 200, &e);
	(void)atk_rdev_status(&R);
	atk_rdev_down(&R);
	if (up(VG_F_INDIRECT_DESC, NUM))
		TAP_EQ(atk_rdev_roundtrip(&R), 0);
	atk_rdev_down(&R);
}

static void test_answer_into_rings(void)
{
	if (up(0, NUM))
		answer_into(cmdq()->used_gpa);
	if (up(0, NUM))
		answer_into(cmdq()->avail_gpa);
	if (up(0, NUM))
		answer_into(cmdq()->desc_gpa);
}

/* ---- a second vCPU rewriting the ring while the device reads it ---------- */

static atomic_bool flip_stop;

static void *flipper(void *arg)
{
	struct atk_rq *q = arg;
	uint32_t x = 1;

	while (!atomic_load(&flip_stop)) {
		/* xorshift: lengths, flags and links all over the place */
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		__atomic_store_n(&q->desc[x % 4].len, x & 0xfff,
				 __ATOMIC_RELAXED);
		__atomic_store_n(&q->desc[(x >> 8) % 4].flags,
				 (uint16_t)(x >> 16) & 7, __ATOMIC_RELAXED);
		__atomic_store_n(&q->desc[(x >> 4) % 4].next,
				 (uint16_t)(x >> 20) % 5, __ATOMIC_RELAXED);
	}
	return NULL;
}

static void test_ring_rewritten_concurrently(void)
{
	pthread_t th;
	unsigned broken = 0;

	for (unsigned round = 0; round < 20; round++) {
		if (!up(0, NUM))
			return;
		atomic_store(&flip_stop, false);
		TAP_EQ(pthread_create(&th, NULL, flipper, cmdq()), 0);
		for (unsigned i = 0; i < 200; i++) {
			atk_rq_desc(cmdq(), 0, open_cmd(), 8, N_, 1);
			atk_rq_desc(cmdq(), 1, resp(), 16, W_, 0);
			atk_rq_post(cmdq(), 0);
			atk_rq_kick(cmdq());
		}
		atomic_store(&flip_stop, true);
		pthread_join(th, NULL);
		broken += !!(atk_rdev_status(&R) & VIRTIO_CONFIG_S_NEEDS_RESET);
		atk_rdev_down(&R);
	}
	tap_diag("%u of 20 rounds ended in NEEDS_RESET", broken);
	if (up(VG_F_INDIRECT_DESC, NUM))
		TAP_EQ(atk_rdev_roundtrip(&R), 0);
	atk_rdev_down(&R);
}

int main(void)
{
	static const char *const args[] = { "--device", "vcam:unpaced",
					    "--device", "vcam:mplane,unpaced",
					    NULL };

	atk_suite_start(args, RAM_SIZE);
	atk_run("ring: descriptor chained to itself -> NEEDS_RESET",
		test_self_loop);
	atk_run("ring: two descriptors chained to each other -> NEEDS_RESET",
		test_two_cycle);
	atk_run("ring: chain through every descriptor and round again "
		"(longer than the ring) -> NEEDS_RESET",
		test_ring_long_cycle);
	atk_run("ring: next index past the ring (16, 0xffff) -> NEEDS_RESET",
		test_next_past_ring);
	atk_run("ring: avail head past the ring (16, 0xffff) -> NEEDS_RESET",
		test_head_past_ring);
	atk_run("ring: avail->idx more than a ring ahead -> NEEDS_RESET",
		test_avail_idx_ahead);
	atk_run("ring: buffer below guest RAM (0, 0x1000) -> NEEDS_RESET",
		test_addr_below_ram);
	atk_run("ring: buffer at MMIO window, SHM region, RAM end -> "
		"NEEDS_RESET",
		test_addr_not_ram);
	atk_run("ring: addr+len overflows 64 bits / 4 GiB len -> NEEDS_RESET",
		test_addr_len_overflow);
	atk_run("ring: buffer straddling the end of RAM -> NEEDS_RESET",
		test_past_ram_end);
	atk_run("ring: zero-length descriptor -> NEEDS_RESET",
		test_zero_length);
	atk_run("ring: readable descriptor after a writable one -> "
		"NEEDS_RESET",
		test_readable_after_writable);
	atk_run("indirect: table of 0, 8, 24, 33, 2^32-16 bytes -> "
		"NEEDS_RESET",
		test_indirect_bad_sizes);
	atk_run("indirect: table longer than the queue -> NEEDS_RESET",
		test_indirect_longer_than_ring);
	atk_run("indirect: table outside RAM / wrapping -> NEEDS_RESET",
		test_indirect_outside_ram);
	atk_run("indirect: indirect inside an indirect table -> NEEDS_RESET",
		test_indirect_nested);
	atk_run("indirect: indirect descriptor with NEXT -> NEEDS_RESET",
		test_indirect_with_next);
	atk_run("indirect: indirect descriptor second in a chain -> "
		"NEEDS_RESET",
		test_indirect_not_first);
	atk_run("indirect: used without INDIRECT_DESC negotiated -> "
		"NEEDS_RESET",
		test_indirect_not_negotiated);
	atk_run("indirect: table entries chained in a loop -> NEEDS_RESET",
		test_indirect_loop);
	atk_run("indirect: next beyond the table -> NEEDS_RESET",
		test_indirect_next_outside);
	atk_run("ring: chain of overlapping segments over 4 GiB -> "
		"NEEDS_RESET",
		test_chain_over_4g);
	atk_run("ring: descriptor, avail and used rings on the same bytes",
		test_overlapping_rings);
	atk_run("ring: an answer written over the device's own used, avail "
		"and descriptor rings",
		test_answer_into_rings);
	atk_run("ring: descriptors rewritten by another vCPU while read",
		test_ring_rewritten_concurrently);
	return atk_suite_end();
}
