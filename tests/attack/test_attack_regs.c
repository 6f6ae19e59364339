/* SPDX-License-Identifier: MIT */
/*
 * Attacks on the virtio-mmio register file: status written in every order
 * and every value, features changed behind the device's back, queue
 * selectors and sizes out of range, queues pulled away mid-flight, notify
 * and reset storms, accesses of every odd size. The register file must
 * never refuse an access, never break its invariants, stay usable after a
 * reset, and keep its log bounded.
 */
#include <errno.h>
#include <linux/virtio_config.h>
#include <linux/virtio_mmio.h>
#include <stdio.h>
#include <string.h>

#include "atk.h"
#include "atk_ring.h"
#include "tap.h"
#include "vmedia/virtio_media_wire.h"
#include "vmedia/virtio_mmio.h"

#define RAM_SIZE (80ull << 20)
#define DEV	 0u
#define ALL_OK                                                     \
	(VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |    \
	 VIRTIO_CONFIG_S_FEATURES_OK | VIRTIO_CONFIG_S_DRIVER_OK | \
	 VIRTIO_CONFIG_S_FAILED)
/* vm_ratelimit: 10 lines per 5 s window, per device. */
#define LOG_BURST     10u
#define LOG_WINDOW_MS 5000
#define NOTIFIES      50000u

static uint32_t rd(uint32_t off)
{
	return atk_reg(atk_g.t, DEV, off);
}

static void wr(uint32_t off, uint32_t val)
{
	atk_reg_write(atk_g.t, DEV, off, val);
}

static void reset(void)
{
	wr(VIRTIO_MMIO_STATUS, 0);
	TAP_EQ(rd(VIRTIO_MMIO_STATUS), 0);
}

/* The device is whole again: bring it up and capture a few frames. */
static void check_reusable(void)
{
	struct vg_media m;
	int r = atk_media_up(&m, DEV);

	TAP_CHECK(r == 0, "device does not come up again: %d", r);
	if (r == 0)
		TAP_EQ(atk_capture_frames(&m, V4L2_MEMORY_MMAP, 3), 0);
	vg_media_fini(&m);
}

/* What the driver may ever read back from STATUS. */
static void check_status_invariants(uint32_t written)
{
	uint32_t st = rd(VIRTIO_MMIO_STATUS);

	TAP_CHECK(!(st & ~ALL_OK), "status %#x has bits no driver sets", st);
	TAP_CHECK(!(st & VIRTIO_CONFIG_S_DRIVER_OK) ||
			  (st & VIRTIO_CONFIG_S_FEATURES_OK),
		  "DRIVER_OK without FEATURES_OK (%#x)", st);
	TAP_CHECK(!(st & ~written), "status %#x beyond what was written %#x",
		  st, written);
}

static void set_version1(void)
{
	wr(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	wr(VIRTIO_MMIO_DRIVER_FEATURES, 1); /* VERSION_1 is bit 32 */
	wr(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	wr(VIRTIO_MMIO_DRIVER_FEATURES, 0);
}

static void test_status_every_order(void)
{
	static const uint32_t bits[4] = { VIRTIO_CONFIG_S_ACKNOWLEDGE,
					  VIRTIO_CONFIG_S_DRIVER,
					  VIRTIO_CONFIG_S_FEATURES_OK,
					  VIRTIO_CONFIG_S_DRIVER_OK };

	for (unsigned perm = 0; perm < 24; perm++) {
		unsigned order[4] = { 0, 1, 2, 3 }, p = perm;

		/* The perm-th permutation (factorial number system). */
		for (unsigned i = 0; i < 3; i++) {
			unsigned j = i + p % (4 - i), t = order[i];

			p /= 4 - i;
			order[i] = order[j];
			order[j] = t;
		}
		for (unsigned features = 0; features < 2; features++) {
			uint32_t acc = 0;

			reset();
			if (features)
				set_version1();
			for (unsigned i = 0; i < 4; i++) {
				acc |= bits[order[i]];
				wr(VIRTIO_MMIO_STATUS, acc);
				check_status_invariants(acc);
			}
		}
	}
	reset();
	check_reusable();
}

static void test_status_every_value(void)
{
	for (uint32_t v = 1; v < 0x100; v++) {
		reset();
		set_version1();
		wr(VIRTIO_MMIO_STATUS, v);
		check_status_invariants(v & ALL_OK);
		/* Bits only accumulate: a write without them clears none. */
		wr(VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE);
		check_status_invariants((v & ALL_OK) |
					VIRTIO_CONFIG_S_ACKNOWLEDGE);
	}
	reset();
	wr(VIRTIO_MMIO_STATUS, 0xffffffffu);
	check_status_invariants(ALL_OK);
	TAP_CHECK(!(rd(VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_NEEDS_RESET),
		  "the driver set NEEDS_RESET");
	reset();
	check_reusable();
}

static void test_driver_ok_without_queues(void)
{
	reset();
	set_version1();
	wr(VIRTIO_MMIO_STATUS,
	   VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
		   VIRTIO_CONFIG_S_FEATURES_OK | VIRTIO_CONFIG_S_DRIVER_OK);
	/* Kicks of queues that were never set up are nobody's business. */
	for (uint32_t q = 0; q < 4; q++)
		wr(VIRTIO_MMIO_QUEUE_NOTIFY, q);
	check_status_invariants(ALL_OK);
	reset();
	check_reusable();
}

/* Features written after FEATURES_OK are ignored: no INDIRECT sneaks in. */
static void test_features_after_features_ok(void)
{
	struct atk_rdev r;
	struct vring_desc *t;
	uint16_t before;

	TAP_EQ(atk_rdev_up(&r, atk_g.t, &atk_g.ram, DEV, 0, 16), 0);
	wr(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	wr(VIRTIO_MMIO_DRIVER_FEATURES, 1u << 28); /* INDIRECT_DESC */
	wr(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	wr(VIRTIO_MMIO_DRIVER_FEATURES, 0); /* and no VERSION_1 */
	t = atk_rbuf(&r, 8192);
	t[0] = (struct vring_desc){ .addr = atk_rbuf_gpa(&r, 0), .len = 8 };
	atk_rq_desc(&r.q[0], 0, atk_rbuf_gpa(&r, 8192), 16,
		    VRING_DESC_F_INDIRECT, 0);
	before = atk_rq_used_idx(&r.q[0]);
	atk_rq_post(&r.q[0], 0);
	atk_rq_kick(&r.q[0]);
	atk_expect_broken(&r, 0, before);
}

static void negotiate_raw(uint32_t lo, uint32_t hi)
{
	reset();
	wr(VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE);
	wr(VIRTIO_MMIO_STATUS,
	   VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
	wr(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	wr(VIRTIO_MMIO_DRIVER_FEATURES, lo);
	wr(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	wr(VIRTIO_MMIO_DRIVER_FEATURES, hi);
	wr(VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE |
				       VIRTIO_CONFIG_S_DRIVER |
				       VIRTIO_CONFIG_S_FEATURES_OK);
}

static void test_features_refused(void)
{
	/* Every bit, unknown ones included: refused. */
	negotiate_raw(0xffffffffu, 0xffffffffu);
	TAP_CHECK(!(rd(VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_FEATURES_OK),
		  "unknown features accepted");
	wr(VIRTIO_MMIO_STATUS, ALL_OK & ~VIRTIO_CONFIG_S_FAILED);
	TAP_CHECK(!(rd(VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_DRIVER_OK),
		  "DRIVER_OK after refused features");
	/* Known bits without VERSION_1: refused. */
	negotiate_raw(3u << 28, 0);
	TAP_CHECK(!(rd(VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_FEATURES_OK),
		  "legacy (no VERSION_1) features accepted");
	/* Selectors out of range: reads 0, writes land nowhere. */
	wr(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 2);
	TAP_EQ(rd(VIRTIO_MMIO_DEVICE_FEATURES), 0);
	wr(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0xffffffffu);
	TAP_EQ(rd(VIRTIO_MMIO_DEVICE_FEATURES), 0);
	negotiate_raw(0, 1);
	wr(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0xffffffffu);
	wr(VIRTIO_MMIO_DRIVER_FEATURES, 0xffffffffu);
	TAP_CHECK(rd(VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_FEATURES_OK,
		  "VERSION_1 alone refused");
	reset();
	check_reusable();
}

static void test_queue_sel_out_of_range(void)
{
	static const uint32_t sel[] = { 2, 7, 8, 31, 32, 0x10000, 0xffffffffu };

	negotiate_raw(0, 1);
	for (unsigned i = 0; i < ARRAY_SIZE(sel); i++) {
		wr(VIRTIO_MMIO_QUEUE_SEL, sel[i]);
		TAP_EQ(rd(VIRTIO_MMIO_QUEUE_NUM_MAX), 0);
		wr(VIRTIO_MMIO_QUEUE_NUM, 16);
		wr(VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)VG_RAM_BASE);
		wr(VIRTIO_MMIO_QUEUE_READY, 1);
		TAP_EQ(rd(VIRTIO_MMIO_QUEUE_READY), 0);
		wr(VIRTIO_MMIO_QUEUE_NOTIFY, sel[i]);
	}
	/* The real queues were not touched by any of it. */
	for (uint32_t q = 0; q < 2; q++) {
		wr(VIRTIO_MMIO_QUEUE_SEL, q);
		TAP_EQ(rd(VIRTIO_MMIO_QUEUE_READY), 0);
		TAP_EQ(rd(VIRTIO_MMIO_QUEUE_NUM_MAX), 256);
	}
	reset();
	check_reusable();
}

/* Queue 0 set up with these values; does it read READY afterwards? */
static uint32_t try_queue(uint32_t num, uint64_t desc, uint64_t avail,
			  uint64_t used)
{
	negotiate_raw(0, 1);
	wr(VIRTIO_MMIO_QUEUE_SEL, 0);
	wr(VIRTIO_MMIO_QUEUE_NUM, num);
	wr(VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)desc);
	wr(VIRTIO_MMIO_QUEUE_DESC_HIGH, (uint32_t)(desc >> 32));
	wr(VIRTIO_MMIO_QUEUE_AVAIL_LOW, (uint32_t)avail);
	wr(VIRTIO_MMIO_QUEUE_AVAIL_HIGH, (uint32_t)(avail >> 32));
	wr(VIRTIO_MMIO_QUEUE_USED_LOW, (uint32_t)used);
	wr(VIRTIO_MMIO_QUEUE_USED_HIGH, (uint32_t)(used >> 32));
	wr(VIRTIO_MMIO_QUEUE_READY, 1);
	return rd(VIRTIO_MMIO_QUEUE_READY);
}

static void test_queue_bad_layouts(void)
{
	static const uint32_t nums[] = { 0,   3,       255,	   257,
					 512, 0x10000, 0xffffffffu };
	const uint64_t ram = VG_RAM_BASE + (40u << 20);
	const uint64_t end = VG_RAM_BASE + RAM_SIZE;

	for (unsigned i = 0; i < ARRAY_SIZE(nums); i++)
		TAP_EQ(try_queue(nums[i], ram, ram + 4096, ram + 8192), 0);
	/* Misaligned areas, areas outside RAM or hanging over its end. */
	TAP_EQ(try_queue(16, ram + 8, ram + 4096, ram + 8192), 0);
	TAP_EQ(try_queue(16, ram, ram + 4097, ram + 8192), 0);
	TAP_EQ(try_queue(16, ram, ram + 4096, ram + 8194), 0);
	TAP_EQ(try_queue(16, 0x1000, ram + 4096, ram + 8192), 0);
	TAP_EQ(try_queue(16, ram, ram + 4096, end - 16), 0);
	TAP_EQ(try_queue(256, end - 2048, ram + 4096, ram + 8192), 0);
	TAP_EQ(try_queue(16, ram, ~0ull - 15, ram + 8192), 0);
	/* And READY=1 before FEATURES_OK is ignored too. */
	reset();
	wr(VIRTIO_MMIO_QUEUE_SEL, 0);
	wr(VIRTIO_MMIO_QUEUE_NUM, 16);
	wr(VIRTIO_MMIO_QUEUE_READY, 1);
	TAP_EQ(rd(VIRTIO_MMIO_QUEUE_READY), 0);
	TAP_EQ(try_queue(16, ram, ram + 4096, ram + 8192), 1);
	reset();
	check_reusable();
}

static void test_queue_regs_while_ready(void)
{
	struct vg_media m;
	uint32_t s = 0;

	TAP_EQ(atk_media_up(&m, DEV), 0);
	for (uint32_t q = 0; q < 2; q++) {
		wr(VIRTIO_MMIO_QUEUE_SEL, q);
		wr(VIRTIO_MMIO_QUEUE_NUM, 2);
		wr(VIRTIO_MMIO_QUEUE_DESC_LOW, 0x1000);
		wr(VIRTIO_MMIO_QUEUE_DESC_HIGH, 0xffffffffu);
		wr(VIRTIO_MMIO_QUEUE_USED_LOW, 0);
		wr(VIRTIO_MMIO_QUEUE_READY, 1); /* already: a no-op */
	}
	/* The rings stayed where the driver first put them. */
	TAP_EQ(vg_media_open(&m, &s), 0);
	TAP_EQ(vg_media_close(&m, s), 0);
	TAP_EQ(atk_status(&m) & VIRTIO_CONFIG_S_NEEDS_RESET, 0);
	vg_media_fini(&m);
}

static void test_queue_ready_toggled_mid_flight(void)
{
	struct vg_capture_params p = { .fourcc = V4L2_PIX_FMT_YUYV,
				       .width = 320,
				       .height = 240,
				       .memory = V4L2_MEMORY_MMAP,
				       .nbufs = 4 };
	struct vg_capture c;
	struct vg_media m;
	uint32_t isr = 0;

	TAP_EQ(atk_media_up(&m, DEV), 0);
	TAP_EQ(vg_capture_start(&c, &m, &p), 0);
	/* Pull the event queue away while frames are coming. */
	wr(VIRTIO_MMIO_QUEUE_SEL, VIRTIO_MEDIA_QUEUE_EVENT);
	wr(VIRTIO_MMIO_QUEUE_READY, 0);
	TAP_CHECK(atk_status(&m) & VIRTIO_CONFIG_S_NEEDS_RESET, "status %#x",
		  atk_status(&m));
	TAP_EQ(vg_virtio_ack_irq(&m.dev, &isr), 0);
	TAP_CHECK(isr & VIRTIO_MMIO_INT_CONFIG, "isr %#x", isr);
	/* Commands are not served while the device needs a reset. */
	m.timeout_ms = 300;
	TAP_EQ(vg_media_open(&m, &c.session), -ETIMEDOUT);
	c.m = NULL; /* the driver's state is gone with the reset */
	vg_media_fini(&m);
	check_reusable();
	/* Before DRIVER_OK, taking a queue down is allowed and clean. */
	negotiate_raw(0, 1);
	TAP_EQ(try_queue(16, VG_RAM_BASE + (40u << 20),
			 VG_RAM_BASE + (40u << 20) + 4096,
			 VG_RAM_BASE + (40u << 20) + 8192),
	       1);
	wr(VIRTIO_MMIO_QUEUE_READY, 0);
	TAP_EQ(rd(VIRTIO_MMIO_QUEUE_READY), 0);
	TAP_EQ(rd(VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_NEEDS_RESET, 0);
	reset();
}

static unsigned dom_lines(const char *what)
{
	char dom[32];

	snprintf(dom, sizeof(dom), "dom%d:", atk_log_domid(&atk_d, RAM_SIZE));
	return atk_log_count(&atk_d, dom, what);
}

/* Lines a rate-limited message may take over elapsed_ms. */
static unsigned log_bound(int64_t elapsed_ms)
{
	return LOG_BURST * (unsigned)(1 + elapsed_ms / LOG_WINDOW_MS);
}

static void test_notify_storm(void)
{
	struct vg_media m;
	unsigned before = dom_lines("ignored notify");
	int64_t t0 = atk_now_ms();
	uint32_t s = 0;

	TAP_EQ(atk_media_up(&m, DEV), 0);
	for (unsigned i = 0; i < NOTIFIES; i++) {
		/* Valid kicks with nothing posted, and kicks of no queue. */
		wr(VIRTIO_MMIO_QUEUE_NOTIFY, i % 3 == 2 ? 5 + i : i % 2);
		if (i % 2000 == 0) {
			TAP_EQ(vg_media_open(&m, &s), 0);
			TAP_EQ(vg_media_close(&m, s), 0);
		}
	}
	TAP_CHECK(dom_lines("ignored notify") - before <=
			  log_bound(atk_now_ms() - t0),
		  "%u log lines for ignored notifies",
		  dom_lines("ignored notify") - before);
	TAP_EQ(atk_capture_frames(&m, V4L2_MEMORY_MMAP, 3), 0);
	vg_media_fini(&m);
}

static void test_odd_accesses(void)
{
	static const uint32_t shm_sel[] = { 1, 2, 0xffffffffu };
	struct vg_transport *t = atk_g.t;
	uint64_t base = t->dev[DEV].mmio_base, v = 1;
	struct vg_media m;

	TAP_EQ(atk_media_up(&m, DEV), 0);
	/* 1, 2 and 8-byte register accesses, misaligned ones: all ignored. */
	for (unsigned size = 1; size <= 8; size *= 2) {
		if (size == 4)
			continue;
		TAP_EQ(vg_mmio_write(t, base + VIRTIO_MMIO_STATUS, size, 0), 0);
		TAP_EQ(vg_mmio_read(t, base + VIRTIO_MMIO_MAGIC_VALUE, size,
				    &v),
		       0);
		TAP_EQ(v, 0);
	}
	TAP_EQ(vg_mmio_write(t, base + VIRTIO_MMIO_STATUS + 1, 4, 0), 0);
	TAP_EQ(vg_mmio_read(t, base + 2, 4, &v), 0);
	TAP_EQ(v, 0);
	TAP_EQ(vg_mmio_write(t, base + VIRTIO_MMIO_QUEUE_DESC_LOW, 8, 0), 0);
	/* Config space: read-only, and nothing past its 40 bytes. */
	TAP_EQ(vg_mmio_write(t, base + VIRTIO_MMIO_CONFIG, 4, 0x41414141), 0);
	TAP_EQ(vg_mmio_read(t, base + VIRTIO_MMIO_CONFIG + 36, 8, &v), 0);
	TAP_EQ(v, 0);
	TAP_EQ(vg_mmio_read(t, base + VIRTIO_MMIO_CONFIG + 40, 4, &v), 0);
	TAP_EQ(v, 0);
	TAP_EQ(vg_mmio_read(t, base + 0x1fc, 8, &v), 0); /* past the window */
	TAP_EQ(v, 0);
	/* Unknown and legacy registers, SHM selectors of no region. */
	wr(VIRTIO_MMIO_QUEUE_PFN, 0x1234);
	wr(VIRTIO_MMIO_GUEST_PAGE_SIZE, 1);
	wr(0x0c0, 0xffffffffu);
	wr(VIRTIO_MMIO_INTERRUPT_ACK, 0xffffffffu);
	for (unsigned i = 0; i < ARRAY_SIZE(shm_sel); i++) {
		wr(VIRTIO_MMIO_SHM_SEL, shm_sel[i]);
		TAP_EQ(rd(VIRTIO_MMIO_SHM_LEN_LOW), 0xffffffffu);
		TAP_EQ(rd(VIRTIO_MMIO_SHM_LEN_HIGH), 0xffffffffu);
	}
	TAP_EQ(rd(VIRTIO_MMIO_MAGIC_VALUE), VIRTIO_MMIO_MAGIC);
	TAP_EQ(atk_status(&m) & VIRTIO_CONFIG_S_NEEDS_RESET, 0);
	TAP_EQ(atk_capture_frames(&m, V4L2_MEMORY_MMAP, 3), 0);
	vg_media_fini(&m);
}

/* Break the device and reset it, again and again. */
static void test_break_reset_storm(void)
{
	unsigned before = dom_lines("needs reset");
	int64_t t0 = atk_now_ms();
	struct atk_rdev r;
	unsigned cycles = 0;

	while (cycles < 400 && atk_now_ms() - t0 < 8000) {
		if (atk_rdev_up(&r, atk_g.t, &atk_g.ram, DEV, 0, 16) != 0)
			break;
		atk_rq_desc(&r.q[0], 0, atk_rbuf_gpa(&r, 0), 8,
			    VRING_DESC_F_NEXT, 0);
		atk_rq_post(&r.q[0], 0);
		atk_rq_kick(&r.q[0]);
		cycles += !!(atk_rdev_status(&r) & VIRTIO_CONFIG_S_NEEDS_RESET);
		atk_rdev_down(&r);
	}
	TAP_CHECK(cycles >= 100, "only %u break/reset cycles", cycles);
	/* A guest must not be able to fill dom0's log: rate-limited. */
	TAP_CHECK(dom_lines("needs reset") - before <=
			  log_bound(atk_now_ms() - t0),
		  "%u \"needs reset\" lines for %u cycles in %lld ms",
		  dom_lines("needs reset") - before, cycles,
		  (long long)(atk_now_ms() - t0));
	check_reusable();
}

int main(void)
{
	static const char *const args[] = { "--device", "vcam:unpaced",
					    "--device", "vcam:mplane,unpaced",
					    NULL };

	atk_suite_start(args, RAM_SIZE);
	atk_run("status: the four driver bits in all 24 orders, with and "
		"without features",
		test_status_every_order);
	atk_run("status: every byte value; bits accumulate; driver never "
		"sets NEEDS_RESET",
		test_status_every_value);
	atk_run("status: DRIVER_OK with no queue set up, then kicks",
		test_driver_ok_without_queues);
	atk_run("features: changed after FEATURES_OK are ignored (indirect "
		"chain -> NEEDS_RESET)",
		test_features_after_features_ok);
	atk_run("features: unknown bits, no VERSION_1, selectors out of "
		"range -> FEATURES_OK refused / ignored",
		test_features_refused);
	atk_run("queues: QUEUE_SEL 2..2^32-1 reads 0, writes and kicks "
		"ignored",
		test_queue_sel_out_of_range);
	atk_run("queues: bad sizes, misaligned or non-RAM rings -> READY "
		"stays 0",
		test_queue_bad_layouts);
	atk_run("queues: layout registers written while ready are ignored",
		test_queue_regs_while_ready);
	atk_run("queues: QUEUE_READY=0 mid-stream -> NEEDS_RESET + config "
		"irq; reset and reuse",
		test_queue_ready_toggled_mid_flight);
	atk_run("notify storm: 50000 kicks of live and absent queues, log "
		"bounded",
		test_notify_storm);
	atk_run("odd accesses: 1/2/8-byte, misaligned, config writes, "
		"legacy registers, SHM_SEL",
		test_odd_accesses);
	atk_run("break/reset storm: NEEDS_RESET hundreds of times, log "
		"rate-limited",
		test_break_reset_storm);
	return atk_suite_end();
}
