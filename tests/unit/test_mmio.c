/* SPDX-License-Identifier: MIT */
/*
 * The virtio-mmio v2 register file (virtio 1.2, 4.2.2) as a guest driver
 * sees it, with a fake device behind it that records every callback.
 *
 * Where virtio_mmio.h is silent, the expectations are those of the spec
 * for a version 2 device, or what src/virtio/mmio.c documents in its
 * comments (each such case says so).
 */
#include <errno.h>
#include <linux/virtio_config.h>
#include <linux/virtio_mmio.h>
#include <linux/virtio_ring.h>
#include <stdint.h>
#include <string.h>

#include "fakes/fake_irq.h"
#include "fakes/fake_mem.h"
#include "fakes/ring_builder.h"
#include "tap.h"
#include "vmedia/virtio_mmio.h"

/* RAM above 4 GiB, so that the _HIGH halves of queue addresses matter. */
#define RAM_BASE    0x100000000ull
#define RAM_SIZE    0x100000u
#define RAM_END	    (RAM_BASE + RAM_SIZE)
#define Q0_RING	    (RAM_BASE + 0x1000)
#define Q1_RING	    (RAM_BASE + 0x4000)
#define BUF_AREA    (RAM_BASE + 0x20000)

#define BIT(n)	    (1ull << (n))
#define F_DEV0	    BIT(0)
#define F_DEV3	    BIT(3)
#define F_INDIRECT  BIT(VIRTIO_RING_F_INDIRECT_DESC)
#define F_EVENT	    BIT(VIRTIO_RING_F_EVENT_IDX)
#define F_V1	    BIT(VIRTIO_F_VERSION_1)
#define OFFERED	    (F_DEV0 | F_DEV3 | F_INDIRECT | F_EVENT | F_V1)

#define S_ACK	    VIRTIO_CONFIG_S_ACKNOWLEDGE
#define S_DRIVER    VIRTIO_CONFIG_S_DRIVER
#define S_FEAT_OK   VIRTIO_CONFIG_S_FEATURES_OK
#define S_DRIVER_OK VIRTIO_CONFIG_S_DRIVER_OK
#define S_NEEDS_RST VIRTIO_CONFIG_S_NEEDS_RESET
#define S_FAILED    VIRTIO_CONFIG_S_FAILED
#define S_ALL	    (S_ACK | S_DRIVER | S_FEAT_OK | S_DRIVER_OK)
#define CONFIG_LEN  0x20u
#define QUEUE_MAX   64u
#define N_QUEUES    2u
#define INT_VRING   VIRTIO_MMIO_INT_VRING
#define INT_CONFIG  VIRTIO_MMIO_INT_CONFIG

static const struct virtio_dev_info info = {
	.device_id = 48, /* virtio-media */
	.vendor_id = 0x564d4544,
	.features = OFFERED,
	.num_queues = N_QUEUES,
	.queue_num_max = QUEUE_MAX,
	.config_len = CONFIG_LEN,
};

/* ---- the fake device ------------------------------------------------- */

struct fdev {
	uint8_t config[VIRTIO_DEV_CONFIG_MAX];
	unsigned config_reads;
	unsigned config_bad; /* read_config beyond config_len */

	unsigned notify[VIRTIO_DEV_MAX_QUEUES];
	unsigned notify_calls;
	unsigned notify_bad;	   /* q out of range or queue not enabled */
	unsigned notify_in_access; /* called inside an MMIO access */
	bool in_access;		   /* set by the driver helpers */
	bool serve;		   /* pop + push everything, notify_used */
	bool hold;		   /* pop one chain and keep it */
	bool fail_in_notify;	   /* virtio_mmio_fail() from the handler */
	bool holding;
	unsigned held_q;
	struct virtq_chain held;

	unsigned resets;
	unsigned reset_queue_missing; /* held chain's queue gone in reset */
	unsigned driver_oks;

	bool shm;
	uint64_t shm_base, shm_len;
	unsigned shm_calls;
};

static struct fake_mem fm;
static struct fake_irq irq;
static struct fdev dev;
static struct virtio_mmio *vm;
static struct ring_builder rq[N_QUEUES];
static struct virtq_chain chain;

static void dev_read_config(void *d, uint32_t off, void *out, uint32_t len)
{
	struct fdev *f = d;

	f->config_reads++;
	if (off > CONFIG_LEN || len > CONFIG_LEN - off) {
		f->config_bad++;
		return;
	}
	memcpy(out, f->config + off, len);
}

static void dev_queue_notify(void *d, struct virtio_mmio *m, unsigned q)
{
	struct fdev *f = d;
	struct virtq *vq = virtio_mmio_queue(m, q);

	f->notify_calls++;
	if (f->in_access)
		f->notify_in_access++;
	if (q >= N_QUEUES || !vq) {
		f->notify_bad++;
		return;
	}
	f->notify[q]++;
	if (f->fail_in_notify)
		virtio_mmio_fail(m, "test: handler failed");
	if (f->hold && !f->holding && virtq_pop(vq, &f->held) == 1) {
		f->holding = true;
		f->held_q = q;
	}
	if (f->serve) {
		while (virtq_pop(vq, &chain) == 1)
			virtq_push(vq, &chain, 0);
		virtio_mmio_notify_used(m, q);
	}
}

static void dev_driver_ok(void *d, struct virtio_mmio *m)
{
	struct fdev *f = d;

	(void)m;
	f->driver_oks++;
}

static void dev_reset(void *d, struct virtio_mmio *m)
{
	struct fdev *f = d;

	f->resets++;
	if (f->holding) {
		struct virtq *vq = virtio_mmio_queue(m, f->held_q);
		struct virtq tmp;

		if (!vq) {
			/* queues must still be there during reset */
			f->reset_queue_missing++;
			virtq_init(&tmp, &fm.gmem);
			vq = &tmp;
		}
		virtq_chain_release(vq, &f->held);
		f->holding = false;
	}
}

static bool dev_shm_region(void *d, unsigned id, uint64_t *base, uint64_t *len)
{
	struct fdev *f = d;

	f->shm_calls++;
	if (!f->shm || id != 0)
		return false;
	*base = f->shm_base;
	*len = f->shm_len;
	return true;
}

static const struct virtio_dev_ops ops = {
	.read_config = dev_read_config,
	.queue_notify = dev_queue_notify,
	.driver_ok = dev_driver_ok,
	.reset = dev_reset,
	.shm_region = dev_shm_region,
};

static const struct virtio_dev_ops ops_no_shm = {
	.read_config = dev_read_config,
	.queue_notify = dev_queue_notify,
	.driver_ok = dev_driver_ok,
	.reset = dev_reset,
};

/* ---- fixture and driver helpers -------------------------------------- */

static bool setup_with(const struct virtio_dev_ops *o)
{
	struct virtio_mmio_params p;
	int rc = fake_mem_init(&fm, RAM_BASE, RAM_SIZE);

	TAP_CHECK(rc == 0, "fake_mem_init: %d", rc);
	if (rc)
		return false;
	fake_irq_init(&irq);
	memset(&dev, 0, sizeof(dev));
	for (unsigned i = 0; i < CONFIG_LEN; i++)
		dev.config[i] = (uint8_t)(0x10 + i);
	p = (struct virtio_mmio_params){
		.info = &info,
		.ops = o,
		.dev = &dev,
		.mem = &fm.gmem,
		.irq = &irq.line,
		.domid = 7,
	};
	vm = virtio_mmio_create(&p);
	TAP_CHECK(vm != NULL, "virtio_mmio_create failed: %d", errno);
	if (!vm)
		fake_mem_fini(&fm);
	return vm != NULL;
}

static bool setup(void)
{
	return setup_with(&ops);
}

static void teardown(void)
{
	virtio_mmio_destroy(vm);
	vm = NULL;
	TAP_CHECK(!dev.holding, "held chain not released");
	TAP_EQ(fm.live, 0);
	TAP_EQ(fm.bad_unmaps, 0);
	TAP_EQ(fm.contract_violations, 0);
	TAP_EQ(dev.config_bad, 0);
	TAP_EQ(dev.notify_bad, 0);
	TAP_EQ(dev.notify_in_access, 0);
	TAP_EQ(dev.reset_queue_missing, 0);
	fake_mem_fini(&fm);
}

static uint32_t rd(uint32_t off)
{
	return (uint32_t)virtio_mmio_read(vm, off, 4);
}

static void wr(uint32_t off, uint32_t val)
{
	dev.in_access = true;
	virtio_mmio_write(vm, off, 4, val);
	dev.in_access = false;
}

static void wr_sized(uint32_t off, unsigned size, uint64_t val)
{
	dev.in_access = true;
	virtio_mmio_write(vm, off, size, val);
	dev.in_access = false;
}

static void set_driver_features(uint64_t f)
{
	wr(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	wr(VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)f);
	wr(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	wr(VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(f >> 32));
}

/* Steps 1-6 of 3.1.1; true when the device kept FEATURES_OK. */
static bool negotiate(uint64_t f)
{
	wr(VIRTIO_MMIO_STATUS, S_ACK);
	wr(VIRTIO_MMIO_STATUS, S_ACK | S_DRIVER);
	set_driver_features(f);
	wr(VIRTIO_MMIO_STATUS, S_ACK | S_DRIVER | S_FEAT_OK);
	return (rd(VIRTIO_MMIO_STATUS) & S_FEAT_OK) != 0;
}

static void queue_regs(unsigned q, uint32_t num, uint64_t desc, uint64_t avail,
		       uint64_t used)
{
	wr(VIRTIO_MMIO_QUEUE_SEL, q);
	wr(VIRTIO_MMIO_QUEUE_NUM, num);
	wr(VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)desc);
	wr(VIRTIO_MMIO_QUEUE_DESC_HIGH, (uint32_t)(desc >> 32));
	wr(VIRTIO_MMIO_QUEUE_AVAIL_LOW, (uint32_t)avail);
	wr(VIRTIO_MMIO_QUEUE_AVAIL_HIGH, (uint32_t)(avail >> 32));
	wr(VIRTIO_MMIO_QUEUE_USED_LOW, (uint32_t)used);
	wr(VIRTIO_MMIO_QUEUE_USED_HIGH, (uint32_t)(used >> 32));
}

/* Lay out queue q's rings, program them, set QUEUE_READY; ready? */
static bool setup_queue(unsigned q, uint16_t num)
{
	struct ring_builder *r = &rq[q];

	rb_init_at(r, &fm, num, q ? Q1_RING : Q0_RING);
	queue_regs(q, num, r->desc, r->avail, r->used);
	wr(VIRTIO_MMIO_QUEUE_READY, 1);
	return rd(VIRTIO_MMIO_QUEUE_READY) == 1;
}

static void driver_ok(void)
{
	wr(VIRTIO_MMIO_STATUS, S_ALL);
}

/* Features f, queue 0 (16) and queue 1 (8) ready, DRIVER_OK. */
static bool bring_up(uint64_t f)
{
	bool ok = negotiate(f);

	TAP_CHECK(ok, "FEATURES_OK refused for %#llx", (unsigned long long)f);
	ok = ok && setup_queue(0, 16);
	ok = ok && setup_queue(1, 8);
	TAP_CHECK(ok, "queues did not become ready");
	driver_ok();
	ok = ok && rd(VIRTIO_MMIO_STATUS) == S_ALL;
	TAP_CHECK(ok, "bring-up failed, status %#x", rd(VIRTIO_MMIO_STATUS));
	return ok;
}

/* Publish a one-buffer chain on queue q (descriptor d, buffer d). */
static void publish(unsigned q, uint16_t d, bool writable)
{
	rb_set_desc(&rq[q], d, BUF_AREA + 0x1000 * (uint64_t)(q * 16 + d), 64,
		    writable ? VRING_DESC_F_WRITE : 0, 0);
	rb_publish(&rq[q], d);
}

static uint32_t isr_at_raise;

static void record_isr(struct fake_irq *fi)
{
	(void)fi;
	isr_at_raise =
		(uint32_t)virtio_mmio_read(vm, VIRTIO_MMIO_INTERRUPT_STATUS, 4);
}

/* ---- identity and features ------------------------------------------- */

static void test_identity(void)
{
	if (!setup())
		return;
	TAP_EQ(rd(VIRTIO_MMIO_MAGIC_VALUE), 0x74726976);
	TAP_EQ(rd(VIRTIO_MMIO_VERSION), 2);
	TAP_EQ(rd(VIRTIO_MMIO_DEVICE_ID), 48);
	TAP_EQ(rd(VIRTIO_MMIO_VENDOR_ID), 0x564d4544);
	TAP_EQ(rd(VIRTIO_MMIO_STATUS), 0);
	TAP_EQ(rd(VIRTIO_MMIO_INTERRUPT_STATUS), 0);
	TAP_EQ(virtio_mmio_status(vm), 0);
	TAP_CHECK(!virtio_mmio_broken(vm), "broken at creation");
	TAP_EQ(dev.resets, 0);
	teardown();
}

static void test_device_features_select(void)
{
	if (!setup())
		return;
	TAP_EQ(rd(VIRTIO_MMIO_DEVICE_FEATURES), (uint32_t)OFFERED);
	wr(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	TAP_EQ(rd(VIRTIO_MMIO_DEVICE_FEATURES), (uint32_t)(OFFERED >> 32));
	wr(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 2);
	TAP_EQ(rd(VIRTIO_MMIO_DEVICE_FEATURES), 0);
	wr(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0xffffffff);
	TAP_EQ(rd(VIRTIO_MMIO_DEVICE_FEATURES), 0);
	wr(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	TAP_EQ(rd(VIRTIO_MMIO_DEVICE_FEATURES), (uint32_t)OFFERED);
	teardown();
}

static void test_features_unoffered_refused(void)
{
	if (!setup())
		return;
	TAP_CHECK(!negotiate(F_V1 | BIT(5)), "FEATURES_OK kept, bit 5");
	TAP_EQ(rd(VIRTIO_MMIO_STATUS), S_ACK | S_DRIVER);
	/* DRIVER_OK cannot follow a refused FEATURES_OK */
	driver_ok();
	TAP_EQ(rd(VIRTIO_MMIO_STATUS) & (S_FEAT_OK | S_DRIVER_OK), 0);
	TAP_EQ(dev.driver_oks, 0);
	/* an unoffered bit in the high word */
	wr(VIRTIO_MMIO_STATUS, 0);
	TAP_CHECK(!negotiate(F_V1 | F_DEV0 | BIT(40)),
		  "FEATURES_OK kept, bit 40");
	/* a retry with an acceptable set works */
	wr(VIRTIO_MMIO_STATUS, 0);
	TAP_CHECK(negotiate(F_V1 | F_DEV0), "FEATURES_OK refused for a subset");
	teardown();
}

static void test_features_subset_frozen(void)
{
	if (!setup())
		return;
	TAP_CHECK(negotiate(F_V1 | F_EVENT | F_DEV3), "FEATURES_OK refused");
	TAP_EQ(virtio_mmio_driver_features(vm), F_V1 | F_EVENT | F_DEV3);
	/* frozen once FEATURES_OK is set (mmio.c, virtio 1.2 3.1.1) */
	set_driver_features(F_V1);
	TAP_EQ(virtio_mmio_driver_features(vm), F_V1 | F_EVENT | F_DEV3);
	wr(VIRTIO_MMIO_STATUS, S_ACK | S_DRIVER | S_FEAT_OK);
	TAP_EQ(rd(VIRTIO_MMIO_STATUS), S_ACK | S_DRIVER | S_FEAT_OK);
	teardown();
}

/* A device MAY refuse a driver that does not accept VERSION_1 (6.1). */
static void test_features_need_version_1(void)
{
	if (!setup())
		return;
	TAP_CHECK(!negotiate(F_DEV0 | F_EVENT), "FEATURES_OK without V1");
	TAP_EQ(rd(VIRTIO_MMIO_STATUS) & S_FEAT_OK, 0);
	teardown();
}

static void test_driver_features_sel_out_of_range(void)
{
	if (!setup())
		return;
	wr(VIRTIO_MMIO_STATUS, S_ACK | S_DRIVER);
	set_driver_features(F_V1 | F_DEV0);
	wr(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 2);
	wr(VIRTIO_MMIO_DRIVER_FEATURES, 0xffffffff);
	wr(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0xffffffff);
	wr(VIRTIO_MMIO_DRIVER_FEATURES, 0xffffffff);
	TAP_EQ(virtio_mmio_driver_features(vm), F_V1 | F_DEV0);
	wr(VIRTIO_MMIO_STATUS, S_ACK | S_DRIVER | S_FEAT_OK);
	TAP_EQ(rd(VIRTIO_MMIO_STATUS) & S_FEAT_OK, S_FEAT_OK);
	teardown();
}

/* ---- status ---------------------------------------------------------- */

static void test_driver_ok_needs_features_ok(void)
{
	if (!setup())
		return;
	wr(VIRTIO_MMIO_STATUS, S_ACK | S_DRIVER);
	set_driver_features(F_V1);
	wr(VIRTIO_MMIO_STATUS, S_ACK | S_DRIVER | S_DRIVER_OK);
	TAP_EQ(rd(VIRTIO_MMIO_STATUS), S_ACK | S_DRIVER);
	TAP_EQ(dev.driver_oks, 0);
	teardown();
}

static void test_driver_ok_op_once(void)
{
	if (!setup())
		return;
	if (!bring_up(F_V1))
		goto out;
	TAP_EQ(dev.driver_oks, 1);
	driver_ok();
	TAP_EQ(dev.driver_oks, 1);
	TAP_EQ(virtio_mmio_status(vm), S_ALL);
out:
	teardown();
}

/*
 * mmio.c: "other bits only accumulate". The driver MUST NOT clear status
 * bits (2.1.2); if it writes a smaller value, FEATURES_OK and DRIVER_OK
 * must not drop, or features unfreeze under live queues.
 */
static void test_status_bits_accumulate(void)
{
	if (!setup())
		return;
	if (!bring_up(F_V1))
		goto out;
	wr(VIRTIO_MMIO_STATUS, S_ACK);
	TAP_EQ(rd(VIRTIO_MMIO_STATUS), S_ALL);
	/* features stay frozen: the queues were set up for F_V1 only */
	set_driver_features(F_V1 | F_EVENT);
	TAP_EQ(virtio_mmio_driver_features(vm), F_V1);
	driver_ok();
	TAP_EQ(dev.driver_oks, 1);
	TAP_EQ(virtio_mmio_driver_features(vm), F_V1);
out:
	teardown();
}

static void test_driver_cannot_set_needs_reset(void)
{
	if (!setup())
		return;
	wr(VIRTIO_MMIO_STATUS, S_ACK | S_NEEDS_RST);
	TAP_EQ(rd(VIRTIO_MMIO_STATUS), S_ACK);
	TAP_CHECK(!virtio_mmio_broken(vm), "driver made the device broken");
	teardown();
}

static void test_failed_status(void)
{
	if (!setup())
		return;
	TAP_CHECK(negotiate(F_V1), "negotiate");
	wr(VIRTIO_MMIO_STATUS, S_ACK | S_DRIVER | S_FEAT_OK | S_FAILED);
	TAP_EQ(rd(VIRTIO_MMIO_STATUS) & S_FAILED, S_FAILED);
	TAP_EQ(dev.driver_oks, 0);
	wr(VIRTIO_MMIO_STATUS, 0);
	TAP_EQ(rd(VIRTIO_MMIO_STATUS), 0);
	TAP_EQ(dev.resets, 1);
	TAP_CHECK(bring_up(F_V1), "bring-up after FAILED + reset");
	teardown();
}

/* ---- queues ---------------------------------------------------------- */

static void test_queue_num_max(void)
{
	static const uint32_t bad_sel[] = { 2, 7, 8, 31, 32, 0xffffffff };

	if (!setup())
		return;
	wr(VIRTIO_MMIO_QUEUE_SEL, 0);
	TAP_EQ(rd(VIRTIO_MMIO_QUEUE_NUM_MAX), QUEUE_MAX);
	wr(VIRTIO_MMIO_QUEUE_SEL, 1);
	TAP_EQ(rd(VIRTIO_MMIO_QUEUE_NUM_MAX), QUEUE_MAX);
	for (unsigned i = 0; i < sizeof(bad_sel) / sizeof(bad_sel[0]); i++) {
		wr(VIRTIO_MMIO_QUEUE_SEL, bad_sel[i]);
		TAP_EQ(rd(VIRTIO_MMIO_QUEUE_NUM_MAX), 0);
		TAP_EQ(rd(VIRTIO_MMIO_QUEUE_READY), 0);
	}
	teardown();
}

static void test_queue_sel_out_of_range(void)
{
	static const uint32_t bad_sel[] = { 2, 8, 0xffffffff };

	if (!setup())
		return;
	TAP_CHECK(negotiate(F_V1), "negotiate");
	rb_init_at(&rq[0], &fm, 16, Q0_RING);
	for (unsigned i = 0; i < sizeof(bad_sel) / sizeof(bad_sel[0]); i++) {
		queue_regs(bad_sel[i], 16, rq[0].desc, rq[0].avail, rq[0].used);
		wr(VIRTIO_MMIO_QUEUE_READY, 1);
		TAP_EQ(rd(VIRTIO_MMIO_QUEUE_READY), 0);
		TAP_EQ(fm.live, 0);
	}
	TAP_CHECK(virtio_mmio_queue(vm, 2) == NULL, "queue 2 exists");
	/* the stray writes did not land in queue 0 */
	wr(VIRTIO_MMIO_QUEUE_SEL, 0);
	wr(VIRTIO_MMIO_QUEUE_READY, 1);
	TAP_EQ(rd(VIRTIO_MMIO_QUEUE_READY), 0);
	TAP_EQ(fm.live, 0);
	TAP_CHECK(setup_queue(0, 16), "queue 0 after stray writes");
	TAP_EQ(virtio_mmio_status(vm) & S_NEEDS_RST, 0);
	teardown();
}

static void test_queue_num_invalid(void)
{
	/* 0x10010: a power of two in its low 16 bits only */
	static const uint32_t bad[] = { 0,	   3,	24,	 QUEUE_MAX * 2,
					256,	   512, 0x10000, 0x10010,
					0xffffffff };

	if (!setup())
		return;
	TAP_CHECK(negotiate(F_V1), "negotiate");
	rb_init_at(&rq[0], &fm, QUEUE_MAX, Q0_RING);
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		queue_regs(0, bad[i], rq[0].desc, rq[0].avail, rq[0].used);
		wr(VIRTIO_MMIO_QUEUE_READY, 1);
		TAP_CHECK(rd(VIRTIO_MMIO_QUEUE_READY) == 0,
			  "QUEUE_NUM %#x accepted", bad[i]);
		TAP_EQ(fm.live, 0);
		TAP_CHECK(virtio_mmio_queue(vm, 0) == NULL, "queue 0 live");
	}
	queue_regs(0, QUEUE_MAX, rq[0].desc, rq[0].avail, rq[0].used);
	wr(VIRTIO_MMIO_QUEUE_READY, 1);
	TAP_EQ(rd(VIRTIO_MMIO_QUEUE_READY), 1);
	TAP_EQ(virtio_mmio_queue(vm, 0)->num, QUEUE_MAX);
	TAP_EQ(virtio_mmio_status(vm) & S_NEEDS_RST, 0);
	teardown();
}

static void test_queue_ready_bad_addresses(void)
{
	struct ring_builder *r = &rq[0];

	if (!setup())
		return;
	TAP_CHECK(negotiate(F_V1), "negotiate");
	rb_init_at(r, &fm, 16, Q0_RING);
	struct {
		uint64_t desc, avail, used;
	} bad[] = {
		{ r->desc + 8, r->avail, r->used },	  /* desc unaligned */
		{ r->desc, r->avail + 1, r->used },	  /* avail unaligned */
		{ r->desc, r->avail, r->used + 2 },	  /* used unaligned */
		{ (uint32_t)r->desc, r->avail, r->used }, /* below RAM */
		{ r->desc, r->avail, RAM_END - 64 },	  /* straddles end */
		{ r->desc, RAM_END, r->used },		  /* past the end */
		{ r->desc | BIT(63), r->avail, r->used }, /* far away */
	};
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		queue_regs(0, 16, bad[i].desc, bad[i].avail, bad[i].used);
		wr(VIRTIO_MMIO_QUEUE_READY, 1);
		TAP_CHECK(rd(VIRTIO_MMIO_QUEUE_READY) == 0,
			  "bad layout %u made the queue ready", i);
		TAP_EQ(fm.live, 0);
		TAP_CHECK(virtio_mmio_queue(vm, 0) == NULL, "queue 0 live");
	}
	TAP_CHECK(setup_queue(0, 16), "good layout refused");
	teardown();
}

/* The rings are sized by the features: no queue before FEATURES_OK. */
static void test_queue_ready_before_features_ok(void)
{
	if (!setup())
		return;
	wr(VIRTIO_MMIO_STATUS, S_ACK | S_DRIVER);
	set_driver_features(F_V1 | F_EVENT);
	TAP_CHECK(!setup_queue(0, 16), "queue ready before FEATURES_OK");
	TAP_EQ(fm.live, 0);
	wr(VIRTIO_MMIO_STATUS, S_ACK | S_DRIVER | S_FEAT_OK);
	wr(VIRTIO_MMIO_QUEUE_READY, 1);
	TAP_EQ(rd(VIRTIO_MMIO_QUEUE_READY), 1);
	TAP_CHECK(virtio_mmio_queue(vm, 0) &&
			  virtio_mmio_queue(vm, 0)->event_idx,
		  "EVENT_IDX not passed to the queue");
	teardown();
}

static void test_queue_enable_64bit(void)
{
	struct virtq *vq;

	if (!setup())
		return;
	TAP_CHECK(negotiate(F_V1 | F_EVENT | F_INDIRECT), "negotiate");
	TAP_CHECK(virtio_mmio_queue(vm, 0) == NULL, "queue 0 before READY");
	TAP_CHECK(setup_queue(0, 16), "queue 0 not ready");
	vq = virtio_mmio_queue(vm, 0);
	TAP_CHECK(vq != NULL, "no queue 0");
	if (vq) {
		TAP_EQ(vq->num, 16);
		TAP_CHECK(vq->event_idx, "EVENT_IDX negotiated but not used");
		TAP_CHECK(vq->indirect, "INDIRECT negotiated but not used");
		TAP_CHECK(vq->desc == fake_mem_ptr(&fm, rq[0].desc, 1),
			  "descriptor table at the wrong address");
	}
	TAP_EQ(fm.live, 3);
	TAP_CHECK(fake_mem_find_live(&fm, rq[0].desc, NULL, NULL) &&
			  fake_mem_find_live(&fm, rq[0].avail, NULL, NULL) &&
			  fake_mem_find_live(&fm, rq[0].used, NULL, NULL),
		  "rings mapped at the wrong addresses");
	TAP_CHECK(virtio_mmio_queue(vm, 1) == NULL, "queue 1 never set up");
	TAP_CHECK(virtio_mmio_queue(vm, 2) == NULL, "queue 2 exists");
	TAP_CHECK(virtio_mmio_queue(vm, 100) == NULL, "queue 100 exists");
	TAP_CHECK(virtio_mmio_queue(vm, ~0u) == NULL, "queue ~0 exists");
	teardown();
}

/* mmio.c: queue layout registers are writable only while not ready. */
static void test_queue_regs_frozen_while_ready(void)
{
	struct virtq *vq;

	if (!setup())
		return;
	TAP_CHECK(negotiate(F_V1), "negotiate");
	TAP_CHECK(setup_queue(0, 16), "queue 0 not ready");
	/* before DRIVER_OK: scribble, then READY 0 / READY 1 */
	wr(VIRTIO_MMIO_QUEUE_NUM, 3);
	wr(VIRTIO_MMIO_QUEUE_DESC_LOW, 0x8);
	wr(VIRTIO_MMIO_QUEUE_USED_HIGH, 0x7fff);
	wr(VIRTIO_MMIO_QUEUE_READY, 0);
	TAP_EQ(rd(VIRTIO_MMIO_QUEUE_READY), 0);
	TAP_EQ(fm.live, 0);
	wr(VIRTIO_MMIO_QUEUE_READY, 1);
	TAP_EQ(rd(VIRTIO_MMIO_QUEUE_READY), 1);
	TAP_EQ(fm.live, 3);
	/* after DRIVER_OK */
	TAP_CHECK(setup_queue(1, 8), "queue 1 not ready");
	driver_ok();
	wr(VIRTIO_MMIO_QUEUE_SEL, 0);
	wr(VIRTIO_MMIO_QUEUE_NUM, 8);
	wr(VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)rq[0].desc + 0x100);
	wr(VIRTIO_MMIO_QUEUE_AVAIL_LOW, 0);
	vq = virtio_mmio_queue(vm, 0);
	TAP_CHECK(vq != NULL, "queue 0 gone");
	if (vq) {
		TAP_EQ(vq->num, 16);
		TAP_CHECK(vq->desc == fake_mem_ptr(&fm, rq[0].desc, 1),
			  "descriptor table moved while ready");
	}
	TAP_EQ(virtio_mmio_status(vm), S_ALL);
	teardown();
}

static void test_queue_ready_zero_before_driver_ok(void)
{
	if (!setup())
		return;
	TAP_CHECK(negotiate(F_V1), "negotiate");
	TAP_CHECK(setup_queue(0, 16), "queue 0 not ready");
	wr(VIRTIO_MMIO_QUEUE_READY, 0);
	TAP_EQ(rd(VIRTIO_MMIO_QUEUE_READY), 0);
	TAP_EQ(fm.live, 0);
	TAP_CHECK(virtio_mmio_queue(vm, 0) == NULL, "queue 0 still live");
	TAP_CHECK(!virtio_mmio_broken(vm), "device failed");
	teardown();
}

/* mmio.c: disabling a live queue without RING_RESET breaks the device. */
static void test_queue_ready_zero_after_driver_ok(void)
{
	if (!setup())
		return;
	if (!bring_up(F_V1))
		goto out;
	wr(VIRTIO_MMIO_QUEUE_SEL, 0);
	wr(VIRTIO_MMIO_QUEUE_READY, 0);
	TAP_CHECK(virtio_mmio_broken(vm), "not failed");
	TAP_EQ(rd(VIRTIO_MMIO_STATUS), S_ALL | S_NEEDS_RST);
	TAP_EQ(rd(VIRTIO_MMIO_INTERRUPT_STATUS), INT_CONFIG);
	TAP_EQ(irq.raised, 1);
	wr(VIRTIO_MMIO_STATUS, 0);
	TAP_EQ(fm.live, 0);
	TAP_EQ(rd(VIRTIO_MMIO_STATUS), 0);
out:
	teardown();
}

/* ---- notifications --------------------------------------------------- */

static void test_notify_deferred(void)
{
	if (!setup())
		return;
	if (!bring_up(F_V1))
		goto out;
	wr(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	TAP_EQ(dev.notify_calls, 0);
	TAP_CHECK(virtio_mmio_has_pending(vm), "kick not recorded");
	virtio_mmio_run_pending(vm);
	TAP_EQ(dev.notify[0], 1);
	TAP_EQ(dev.notify_calls, 1);
	TAP_CHECK(!virtio_mmio_has_pending(vm), "still pending");
	virtio_mmio_run_pending(vm);
	TAP_EQ(dev.notify_calls, 1);
	/* kicks of both queues; a repeated kick may be coalesced */
	wr(VIRTIO_MMIO_QUEUE_NOTIFY, 1);
	wr(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	wr(VIRTIO_MMIO_QUEUE_NOTIFY, 1);
	TAP_EQ(dev.notify_calls, 1);
	virtio_mmio_run_pending(vm);
	TAP_EQ(dev.notify[0], 2);
	TAP_CHECK(dev.notify[1] == 1 || dev.notify[1] == 2,
		  "queue 1 handled %u times for 2 kicks", dev.notify[1]);
	TAP_CHECK(!virtio_mmio_has_pending(vm), "still pending");
out:
	teardown();
}

static void test_notify_ignored(void)
{
	static const uint32_t bad_q[] = { 1, 2, 7, 8, 31, 32, 0xffffffff };

	if (!setup())
		return;
	TAP_CHECK(negotiate(F_V1), "negotiate");
	TAP_CHECK(setup_queue(0, 16), "queue 0 not ready");
	driver_ok(); /* queue 1 never made ready */
	for (unsigned i = 0; i < sizeof(bad_q) / sizeof(bad_q[0]); i++)
		wr(VIRTIO_MMIO_QUEUE_NOTIFY, bad_q[i]);
	TAP_CHECK(!virtio_mmio_has_pending(vm), "bad kick recorded");
	virtio_mmio_run_pending(vm);
	TAP_EQ(dev.notify_calls, 0);
	TAP_CHECK(!virtio_mmio_broken(vm), "device failed by a bad kick");
	TAP_EQ(rd(VIRTIO_MMIO_STATUS), S_ALL);
	TAP_EQ(irq.raised, 0);
	wr(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	virtio_mmio_run_pending(vm);
	TAP_EQ(dev.notify[0], 1);
	teardown();
}

/* 3.1.2: nothing is consumed before DRIVER_OK. */
static void test_notify_before_driver_ok(void)
{
	if (!setup())
		return;
	TAP_CHECK(negotiate(F_V1), "negotiate");
	TAP_CHECK(setup_queue(0, 16), "queue 0 not ready");
	wr(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	virtio_mmio_run_pending(vm);
	TAP_EQ(dev.notify_calls, 0);
	TAP_CHECK(!virtio_mmio_broken(vm), "device failed");
	teardown();
}

static void test_used_interrupt(void)
{
	if (!setup())
		return;
	irq.on_raise = record_isr;
	isr_at_raise = 0xdead;
	if (!bring_up(F_V1))
		goto out;
	dev.serve = true;
	publish(0, 0, false);
	publish(0, 1, true);
	wr(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	TAP_EQ(irq.raised, 0);
	virtio_mmio_run_pending(vm);
	TAP_EQ(rb_used_idx(&rq[0]), 2);
	TAP_EQ(irq.raised, 1);
	TAP_EQ(isr_at_raise, INT_VRING); /* ISR set before the edge */
	TAP_EQ(rd(VIRTIO_MMIO_INTERRUPT_STATUS), INT_VRING);
	wr(VIRTIO_MMIO_INTERRUPT_ACK, INT_VRING);
	TAP_EQ(rd(VIRTIO_MMIO_INTERRUPT_STATUS), 0);
	TAP_EQ(fm.live, 6);
out:
	teardown();
}

static void test_used_interrupt_suppressed(void)
{
	if (!setup())
		return;
	if (!bring_up(F_V1))
		goto out;
	dev.serve = true;
	rb_avail_set_flags(&rq[0], VRING_AVAIL_F_NO_INTERRUPT);
	publish(0, 0, true);
	wr(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	virtio_mmio_run_pending(vm);
	TAP_EQ(rb_used_idx(&rq[0]), 1);
	TAP_EQ(irq.raised, 0);
	TAP_EQ(rd(VIRTIO_MMIO_INTERRUPT_STATUS), 0);
	/* notify_used on an unready or absent queue does nothing */
	wr(VIRTIO_MMIO_STATUS, 0);
	TAP_CHECK(bring_up(F_V1), "bring-up");
	virtio_mmio_notify_used(vm, 2);
	virtio_mmio_notify_used(vm, 9);
	TAP_EQ(irq.raised, 0);
out:
	teardown();
}

static void test_used_interrupt_event_idx(void)
{
	if (!setup())
		return;
	if (!bring_up(F_V1 | F_EVENT))
		goto out;
	dev.serve = true;
	rb_set_used_event(&rq[0], 0);
	publish(0, 0, true);
	wr(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	virtio_mmio_run_pending(vm); /* entry 0 == used_event */
	TAP_EQ(irq.raised, 1);
	publish(0, 0, true);
	wr(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	virtio_mmio_run_pending(vm); /* entry 1, used_event 0 */
	TAP_EQ(irq.raised, 1);
	rb_set_used_event(&rq[0], 2);
	publish(0, 0, true);
	wr(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	virtio_mmio_run_pending(vm); /* entry 2 */
	TAP_EQ(irq.raised, 2);
	TAP_EQ(rd(VIRTIO_MMIO_INTERRUPT_STATUS), INT_VRING);
out:
	teardown();
}

static void test_interrupt_ack_partial(void)
{
	if (!setup())
		return;
	if (!bring_up(F_V1))
		goto out;
	dev.serve = true;
	publish(0, 0, true);
	wr(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	virtio_mmio_run_pending(vm);
	virtio_mmio_config_changed(vm);
	TAP_EQ(irq.raised, 2);
	TAP_EQ(rd(VIRTIO_MMIO_INTERRUPT_STATUS), INT_VRING | INT_CONFIG);
	wr(VIRTIO_MMIO_INTERRUPT_ACK, 0);
	TAP_EQ(rd(VIRTIO_MMIO_INTERRUPT_STATUS), INT_VRING | INT_CONFIG);
	wr(VIRTIO_MMIO_INTERRUPT_ACK, INT_CONFIG);
	TAP_EQ(rd(VIRTIO_MMIO_INTERRUPT_STATUS), INT_VRING);
	wr(VIRTIO_MMIO_INTERRUPT_ACK, 0xfffffffc);
	TAP_EQ(rd(VIRTIO_MMIO_INTERRUPT_STATUS), INT_VRING);
	wr(VIRTIO_MMIO_INTERRUPT_ACK, INT_VRING);
	TAP_EQ(rd(VIRTIO_MMIO_INTERRUPT_STATUS), 0);
	/* writing INTERRUPT_STATUS is not an ack and sets nothing */
	virtio_mmio_config_changed(vm);
	wr(VIRTIO_MMIO_INTERRUPT_STATUS, 0);
	TAP_EQ(rd(VIRTIO_MMIO_INTERRUPT_STATUS), INT_CONFIG);
	wr(VIRTIO_MMIO_INTERRUPT_STATUS, 0xffffffff);
	TAP_EQ(rd(VIRTIO_MMIO_INTERRUPT_STATUS), INT_CONFIG);
out:
	teardown();
}

/* ---- reset ----------------------------------------------------------- */

static void test_reset_clears_everything(void)
{
	struct virtq *vq;

	if (!setup())
		return;
	if (!bring_up(F_V1 | F_EVENT | F_INDIRECT))
		goto out;
	dev.serve = true;
	publish(0, 0, true);
	wr(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	virtio_mmio_run_pending(vm);
	virtio_mmio_config_changed(vm);
	TAP_EQ(rd(VIRTIO_MMIO_INTERRUPT_STATUS), INT_VRING | INT_CONFIG);
	wr(VIRTIO_MMIO_QUEUE_NOTIFY, 1); /* pending across the reset */
	TAP_EQ(fm.live, 6);

	wr(VIRTIO_MMIO_STATUS, 0);
	TAP_EQ(dev.resets, 1);
	TAP_EQ(rd(VIRTIO_MMIO_STATUS), 0);
	TAP_EQ(virtio_mmio_status(vm), 0);
	TAP_EQ(rd(VIRTIO_MMIO_INTERRUPT_STATUS), 0);
	TAP_EQ(virtio_mmio_driver_features(vm), 0);
	TAP_EQ(fm.live, 0);
	TAP_CHECK(!virtio_mmio_has_pending(vm), "kick survived the reset");
	virtio_mmio_run_pending(vm);
	TAP_EQ(dev.notify[1], 0);
	for (unsigned q = 0; q < N_QUEUES; q++) {
		wr(VIRTIO_MMIO_QUEUE_SEL, q);
		TAP_EQ(rd(VIRTIO_MMIO_QUEUE_READY), 0);
		TAP_CHECK(virtio_mmio_queue(vm, q) == NULL, "queue %u live", q);
	}
	/* the old queue registers are forgotten too */
	TAP_CHECK(negotiate(F_V1), "renegotiate");
	wr(VIRTIO_MMIO_QUEUE_SEL, 0);
	wr(VIRTIO_MMIO_QUEUE_READY, 1);
	TAP_EQ(rd(VIRTIO_MMIO_QUEUE_READY), 0);
	/* and a new driver starts from scratch, without EVENT_IDX now */
	TAP_CHECK(setup_queue(0, 16), "queue 0 after reset");
	vq = virtio_mmio_queue(vm, 0);
	TAP_CHECK(vq && !vq->event_idx && !vq->indirect,
		  "features of the old driver kept");
	TAP_EQ(dev.resets, 1);
out:
	teardown();
}

static void test_reset_mid_chain(void)
{
	if (!setup())
		return;
	if (!bring_up(F_V1))
		goto out;
	dev.hold = true;
	rb_set_desc(&rq[0], 0, BUF_AREA, 32, VRING_DESC_F_NEXT, 1);
	rb_set_desc(&rq[0], 1, BUF_AREA + 0x1000, 32, VRING_DESC_F_WRITE, 0);
	rb_publish(&rq[0], 0);
	wr(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	virtio_mmio_run_pending(vm);
	TAP_CHECK(dev.holding, "device did not take the chain");
	TAP_EQ(fm.live, 6 + 2);
	wr(VIRTIO_MMIO_STATUS, 0);
	TAP_EQ(dev.resets, 1);
	TAP_CHECK(!dev.holding, "reset op did not run");
	TAP_EQ(dev.reset_queue_missing, 0);
	TAP_EQ(fm.live, 0);
	TAP_EQ(fm.bad_unmaps, 0);
	TAP_EQ(rb_used_idx(&rq[0]), 0); /* dropped, not returned */
out:
	teardown();
}

static void test_destroy_mid_chain(void)
{
	if (!setup())
		return;
	virtio_mmio_destroy(NULL);
	if (!bring_up(F_V1))
		goto out;
	dev.hold = true;
	publish(1, 3, true);
	wr(VIRTIO_MMIO_QUEUE_NOTIFY, 1);
	virtio_mmio_run_pending(vm);
	TAP_CHECK(dev.holding, "device did not take the chain");
	TAP_EQ(fm.live, 7);
out:
	teardown(); /* destroy: reset op releases it, teardown checks */
	TAP_EQ(dev.resets, 1);
}

/* ---- device failure -------------------------------------------------- */

static void test_fail_needs_reset(void)
{
	if (!setup())
		return;
	irq.on_raise = record_isr;
	if (!bring_up(F_V1))
		goto out;
	virtio_mmio_fail(vm, "test: broken ring");
	TAP_CHECK(virtio_mmio_broken(vm), "not broken");
	TAP_EQ(rd(VIRTIO_MMIO_STATUS), S_ALL | S_NEEDS_RST);
	TAP_EQ(rd(VIRTIO_MMIO_INTERRUPT_STATUS), INT_CONFIG);
	TAP_EQ(irq.raised, 1);
	TAP_EQ(isr_at_raise, INT_CONFIG);
	/* kicks are ignored until reset */
	wr(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	virtio_mmio_run_pending(vm);
	TAP_EQ(dev.notify_calls, 0);
	virtio_mmio_fail(vm, "test: again");
	TAP_EQ(irq.raised, 1);
	/* the driver cannot clear NEEDS_RESET other than by a reset */
	driver_ok();
	TAP_EQ(rd(VIRTIO_MMIO_STATUS) & S_NEEDS_RST, S_NEEDS_RST);
	wr(VIRTIO_MMIO_STATUS, 0);
	TAP_EQ(rd(VIRTIO_MMIO_STATUS), 0);
	TAP_CHECK(!virtio_mmio_broken(vm), "broken after reset");
	TAP_EQ(rd(VIRTIO_MMIO_INTERRUPT_STATUS), 0);
	TAP_EQ(fm.live, 0);
	TAP_CHECK(bring_up(F_V1), "bring-up after reset");
	wr(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	virtio_mmio_run_pending(vm);
	TAP_EQ(dev.notify[0], 1);
out:
	teardown();
}

/* 2.1.2: the config notification is due only once DRIVER_OK is set. */
static void test_fail_before_driver_ok(void)
{
	if (!setup())
		return;
	TAP_CHECK(negotiate(F_V1), "negotiate");
	virtio_mmio_fail(vm, "test: early");
	TAP_EQ(rd(VIRTIO_MMIO_STATUS) & S_NEEDS_RST, S_NEEDS_RST);
	TAP_CHECK(virtio_mmio_broken(vm), "not broken");
	TAP_EQ(irq.raised, 0);
	teardown();
}

static void test_fail_in_handler_drops_pending(void)
{
	if (!setup())
		return;
	if (!bring_up(F_V1))
		goto out;
	dev.fail_in_notify = true;
	wr(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	wr(VIRTIO_MMIO_QUEUE_NOTIFY, 1);
	virtio_mmio_run_pending(vm);
	TAP_EQ(dev.notify_calls, 1);
	TAP_EQ(dev.notify[0], 1);
	TAP_CHECK(!virtio_mmio_has_pending(vm), "kicks kept after failure");
	TAP_CHECK(virtio_mmio_broken(vm), "not broken");
out:
	teardown();
}

/* ---- config space ---------------------------------------------------- */

static void test_config_generation(void)
{
	uint32_t g0, g1, g2;

	if (!setup())
		return;
	irq.on_raise = record_isr;
	g0 = rd(VIRTIO_MMIO_CONFIG_GENERATION);
	TAP_EQ(rd(VIRTIO_MMIO_CONFIG_GENERATION), g0); /* stable */
	virtio_mmio_config_changed(vm);
	g1 = rd(VIRTIO_MMIO_CONFIG_GENERATION);
	TAP_CHECK(g1 != g0, "generation unchanged before DRIVER_OK");
	if (!bring_up(F_V1))
		goto out;
	fake_irq_take(&irq);
	virtio_mmio_config_changed(vm);
	g2 = rd(VIRTIO_MMIO_CONFIG_GENERATION);
	TAP_CHECK(g2 != g1, "generation unchanged");
	TAP_EQ(irq.raised, 1);
	TAP_EQ(isr_at_raise & INT_CONFIG, INT_CONFIG);
	TAP_EQ(rd(VIRTIO_MMIO_INTERRUPT_STATUS), INT_CONFIG);
	/* reading config does not change it */
	(void)virtio_mmio_read(vm, VIRTIO_MMIO_CONFIG, 4);
	TAP_EQ(rd(VIRTIO_MMIO_CONFIG_GENERATION), g2);
out:
	teardown();
}

static void test_config_reads(void)
{
	if (!setup())
		return;
	TAP_EQ(virtio_mmio_read(vm, VIRTIO_MMIO_CONFIG + 5, 1), 0x15);
	TAP_EQ(virtio_mmio_read(vm, VIRTIO_MMIO_CONFIG + 2, 2), 0x1312);
	TAP_EQ(virtio_mmio_read(vm, VIRTIO_MMIO_CONFIG + 4, 4), 0x17161514);
	TAP_CHECK(virtio_mmio_read(vm, VIRTIO_MMIO_CONFIG + 8, 8) ==
			  0x1f1e1d1c1b1a1918ull,
		  "8-byte config read");
	/* the last bytes of config */
	TAP_EQ(virtio_mmio_read(vm, VIRTIO_MMIO_CONFIG + 0x1f, 1), 0x2f);
	TAP_EQ(virtio_mmio_read(vm, VIRTIO_MMIO_CONFIG + 0x1c, 4), 0x2f2e2d2c);
	TAP_CHECK(virtio_mmio_read(vm, VIRTIO_MMIO_CONFIG + 0x18, 8) ==
			  0x2f2e2d2c2b2a2928ull,
		  "8-byte read of the last config bytes");
	TAP_EQ(dev.config_reads, 7);
	teardown();
}

static void test_config_out_of_range(void)
{
	if (!setup())
		return;
	TAP_EQ(virtio_mmio_read(vm, VIRTIO_MMIO_CONFIG + CONFIG_LEN, 1), 0);
	TAP_EQ(virtio_mmio_read(vm, VIRTIO_MMIO_CONFIG + CONFIG_LEN, 4), 0);
	TAP_EQ(virtio_mmio_read(vm, VIRTIO_MMIO_CONFIG + CONFIG_LEN, 8), 0);
	TAP_EQ(virtio_mmio_read(vm, VIRTIO_MMIO_CONFIG + 0x40, 4), 0);
	TAP_EQ(virtio_mmio_read(vm, 0x1ff, 1), 0);
	TAP_EQ(virtio_mmio_read(vm, 0x1fc, 4), 0);
	TAP_EQ(virtio_mmio_read(vm, 0x1f8, 8), 0);
	TAP_EQ(virtio_mmio_read(vm, 0x200, 4), 0);
	TAP_EQ(virtio_mmio_read(vm, 0x10000, 4), 0);
	TAP_EQ(virtio_mmio_read(vm, 0xfffffffc, 4), 0);
	TAP_EQ(virtio_mmio_read(vm, 0xfffffff8, 8), 0);
	TAP_EQ(dev.config_reads, 0); /* never reached the device */
	TAP_EQ(dev.config_bad, 0);
	teardown();
}

static void test_config_unaligned(void)
{
	if (!setup())
		return;
	TAP_EQ(virtio_mmio_read(vm, VIRTIO_MMIO_CONFIG + 1, 2), 0);
	TAP_EQ(virtio_mmio_read(vm, VIRTIO_MMIO_CONFIG + 2, 4), 0);
	TAP_EQ(virtio_mmio_read(vm, VIRTIO_MMIO_CONFIG + 4, 8), 0);
	TAP_EQ(virtio_mmio_read(vm, VIRTIO_MMIO_CONFIG + 0x1f, 2), 0);
	TAP_EQ(virtio_mmio_read(vm, VIRTIO_MMIO_CONFIG, 3), 0);
	TAP_EQ(virtio_mmio_read(vm, VIRTIO_MMIO_CONFIG, 0), 0);
	TAP_EQ(virtio_mmio_read(vm, VIRTIO_MMIO_CONFIG, 16), 0);
	TAP_EQ(dev.config_reads, 0);
	teardown();
}

/* mmio.c: virtio-media's config space is read-only to the driver. */
static void test_config_writes_ignored(void)
{
	if (!setup())
		return;
	wr_sized(VIRTIO_MMIO_CONFIG, 4, 0xffffffff);
	wr_sized(VIRTIO_MMIO_CONFIG + 1, 1, 0);
	wr_sized(0x1f8, 8, 0);
	wr_sized(0x1ff, 1, 0);
	TAP_EQ(virtio_mmio_read(vm, VIRTIO_MMIO_CONFIG, 4), 0x13121110);
	TAP_EQ(dev.config[1], 0x11);
	TAP_EQ(rd(VIRTIO_MMIO_STATUS), 0);
	teardown();
}

/* ---- shared memory regions ------------------------------------------- */

static void test_shm_no_region(void)
{
	if (!setup_with(&ops_no_shm))
		return;
	for (uint32_t sel = 0; sel < 3; sel++) {
		wr(VIRTIO_MMIO_SHM_SEL, sel);
		TAP_EQ(rd(VIRTIO_MMIO_SHM_LEN_LOW), 0xffffffff);
		TAP_EQ(rd(VIRTIO_MMIO_SHM_LEN_HIGH), 0xffffffff);
	}
	teardown();
	/* an op that has no region 0 either */
	if (!setup())
		return;
	wr(VIRTIO_MMIO_SHM_SEL, 0);
	TAP_EQ(rd(VIRTIO_MMIO_SHM_LEN_LOW), 0xffffffff);
	TAP_EQ(rd(VIRTIO_MMIO_SHM_LEN_HIGH), 0xffffffff);
	TAP_CHECK(dev.shm_calls > 0, "shm_region op not asked");
	teardown();
}

static void test_shm_region(void)
{
	if (!setup())
		return;
	dev.shm = true;
	dev.shm_base = 0x200001000ull;
	dev.shm_len = 0x100002000ull;
	wr(VIRTIO_MMIO_SHM_SEL, 0);
	TAP_EQ(rd(VIRTIO_MMIO_SHM_LEN_LOW), 0x2000);
	TAP_EQ(rd(VIRTIO_MMIO_SHM_LEN_HIGH), 1);
	TAP_EQ(rd(VIRTIO_MMIO_SHM_BASE_LOW), 0x1000);
	TAP_EQ(rd(VIRTIO_MMIO_SHM_BASE_HIGH), 2);
	wr(VIRTIO_MMIO_SHM_SEL, 1);
	TAP_EQ(rd(VIRTIO_MMIO_SHM_LEN_LOW), 0xffffffff);
	TAP_EQ(rd(VIRTIO_MMIO_SHM_LEN_HIGH), 0xffffffff);
	wr(VIRTIO_MMIO_SHM_SEL, 0xffffffff);
	TAP_EQ(rd(VIRTIO_MMIO_SHM_LEN_LOW), 0xffffffff);
	/* read-only: writes change nothing */
	wr(VIRTIO_MMIO_SHM_SEL, 0);
	wr(VIRTIO_MMIO_SHM_LEN_LOW, 0);
	wr(VIRTIO_MMIO_SHM_BASE_HIGH, 0);
	TAP_EQ(rd(VIRTIO_MMIO_SHM_LEN_LOW), 0x2000);
	TAP_EQ(rd(VIRTIO_MMIO_SHM_BASE_HIGH), 2);
	teardown();
}

/* ---- bad accesses ---------------------------------------------------- */

static void test_bad_access_sizes(void)
{
	static const unsigned sizes[] = { 1, 2, 8 };

	if (!setup())
		return;
	for (unsigned i = 0; i < 3; i++) {
		TAP_EQ(virtio_mmio_read(vm, VIRTIO_MMIO_MAGIC_VALUE, sizes[i]),
		       0);
		TAP_EQ(virtio_mmio_read(vm, VIRTIO_MMIO_STATUS, sizes[i]), 0);
	}
	TAP_EQ(virtio_mmio_read(vm, VIRTIO_MMIO_MAGIC_VALUE + 1, 4), 0);
	TAP_EQ(virtio_mmio_read(vm, VIRTIO_MMIO_MAGIC_VALUE + 2, 4), 0);
	TAP_EQ(virtio_mmio_read(vm, VIRTIO_MMIO_MAGIC_VALUE, 3), 0);
	TAP_EQ(virtio_mmio_read(vm, VIRTIO_MMIO_MAGIC_VALUE, 0), 0);
	TAP_EQ(virtio_mmio_read(vm, VIRTIO_MMIO_MAGIC_VALUE, 16), 0);
	TAP_EQ(virtio_mmio_read(vm, VIRTIO_MMIO_MAGIC_VALUE, 0xffffffff), 0);
	TAP_EQ(virtio_mmio_read(vm, 0x0fe, 4), 0);

	wr(VIRTIO_MMIO_STATUS, S_ACK | S_DRIVER);
	/* a reset written with the wrong size or alignment is not a reset */
	wr_sized(VIRTIO_MMIO_STATUS, 1, 0);
	wr_sized(VIRTIO_MMIO_STATUS, 2, 0);
	wr_sized(VIRTIO_MMIO_STATUS, 8, 0);
	wr_sized(VIRTIO_MMIO_STATUS, 3, 0);
	wr_sized(VIRTIO_MMIO_STATUS, 0, 0);
	wr_sized(VIRTIO_MMIO_STATUS + 1, 4, 0);
	wr_sized(VIRTIO_MMIO_STATUS + 2, 2, 0);
	wr_sized(0xfffffffc, 4, 0);
	wr_sized(VIRTIO_MMIO_WINDOW, 4, 0);
	TAP_EQ(rd(VIRTIO_MMIO_STATUS), S_ACK | S_DRIVER);
	TAP_EQ(dev.resets, 0);
	/* an 8-byte write over QUEUE_SEL + QUEUE_NUM_MAX selects nothing */
	wr_sized(VIRTIO_MMIO_QUEUE_SEL, 8, 0xffffffffffffffffull);
	TAP_EQ(rd(VIRTIO_MMIO_QUEUE_NUM_MAX), QUEUE_MAX);
	teardown();
}

static void test_readonly_writes_ignored(void)
{
	static const uint32_t ro[] = {
		VIRTIO_MMIO_MAGIC_VALUE,
		VIRTIO_MMIO_VERSION,
		VIRTIO_MMIO_DEVICE_ID,
		VIRTIO_MMIO_VENDOR_ID,
		VIRTIO_MMIO_DEVICE_FEATURES,
		VIRTIO_MMIO_QUEUE_NUM_MAX,
		VIRTIO_MMIO_CONFIG_GENERATION,
		VIRTIO_MMIO_INTERRUPT_STATUS,
		0x0f8,
		0x0c0,
	};
	uint32_t before[sizeof(ro) / sizeof(ro[0])];

	if (!setup())
		return;
	for (unsigned i = 0; i < sizeof(ro) / sizeof(ro[0]); i++)
		before[i] = rd(ro[i]);
	for (unsigned i = 0; i < sizeof(ro) / sizeof(ro[0]); i++) {
		wr(ro[i], 0);
		wr(ro[i], 0xffffffff);
	}
	for (unsigned i = 0; i < sizeof(ro) / sizeof(ro[0]); i++)
		TAP_CHECK(rd(ro[i]) == before[i], "register %#x changed",
			  ro[i]);
	TAP_EQ(rd(VIRTIO_MMIO_MAGIC_VALUE), 0x74726976);
	TAP_EQ(rd(VIRTIO_MMIO_DEVICE_FEATURES), (uint32_t)OFFERED);
	TAP_EQ(rd(VIRTIO_MMIO_STATUS), 0);
	TAP_EQ(dev.resets, 0);
	teardown();
}

static void test_writeonly_and_legacy_read_zero(void)
{
	static const uint32_t wo[] = {
		VIRTIO_MMIO_DEVICE_FEATURES_SEL,
		VIRTIO_MMIO_DRIVER_FEATURES,
		VIRTIO_MMIO_DRIVER_FEATURES_SEL,
		VIRTIO_MMIO_GUEST_PAGE_SIZE,
		VIRTIO_MMIO_QUEUE_SEL,
		VIRTIO_MMIO_QUEUE_NUM,
		VIRTIO_MMIO_QUEUE_ALIGN,
		VIRTIO_MMIO_QUEUE_PFN,
		VIRTIO_MMIO_QUEUE_NOTIFY,
		VIRTIO_MMIO_INTERRUPT_ACK,
		VIRTIO_MMIO_QUEUE_DESC_LOW,
		VIRTIO_MMIO_QUEUE_DESC_HIGH,
		VIRTIO_MMIO_QUEUE_AVAIL_LOW,
		VIRTIO_MMIO_QUEUE_AVAIL_HIGH,
		VIRTIO_MMIO_QUEUE_USED_LOW,
		VIRTIO_MMIO_QUEUE_USED_HIGH,
		VIRTIO_MMIO_SHM_SEL,
	};

	if (!setup())
		return;
	TAP_CHECK(negotiate(F_V1 | F_DEV0), "negotiate");
	wr(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	/* legacy (version 1) queue setup does nothing on a v2 device */
	wr(VIRTIO_MMIO_GUEST_PAGE_SIZE, 4096);
	wr(VIRTIO_MMIO_QUEUE_SEL, 0);
	wr(VIRTIO_MMIO_QUEUE_NUM, 16);
	wr(VIRTIO_MMIO_QUEUE_ALIGN, 4096);
	wr(VIRTIO_MMIO_QUEUE_PFN, (uint32_t)(Q0_RING >> 12));
	TAP_EQ(rd(VIRTIO_MMIO_QUEUE_READY), 0);
	TAP_EQ(fm.live, 0);
	TAP_CHECK(setup_queue(0, 16), "queue 0");
	for (unsigned i = 0; i < sizeof(wo) / sizeof(wo[0]); i++)
		TAP_CHECK(rd(wo[i]) == 0, "register %#x reads %#x", wo[i],
			  rd(wo[i]));
	teardown();
}

/* ---- creation -------------------------------------------------------- */

static void test_create_rejects_bad_info(void)
{
	struct virtio_dev_info bad;
	struct virtio_mmio_params p = {
		.info = &bad,
		.ops = &ops,
		.dev = &dev,
		.mem = &fm.gmem,
		.irq = &irq.line,
		.domid = 7,
	};
	struct virtio_mmio *m;

	if (!setup())
		return;
	bad = info;
	bad.num_queues = VIRTIO_DEV_MAX_QUEUES + 1;
	errno = 0;
	m = virtio_mmio_create(&p);
	TAP_CHECK(m == NULL && errno == EINVAL, "num_queues 9: %p %d",
		  (void *)m, errno);
	virtio_mmio_destroy(m);
	bad = info;
	bad.queue_num_max = VIRTQ_NUM_MAX * 2;
	errno = 0;
	m = virtio_mmio_create(&p);
	TAP_CHECK(m == NULL && errno == EINVAL, "queue_num_max 512: %p %d",
		  (void *)m, errno);
	virtio_mmio_destroy(m);
	bad = info;
	bad.config_len = VIRTIO_DEV_CONFIG_MAX + 1;
	errno = 0;
	m = virtio_mmio_create(&p);
	TAP_CHECK(m == NULL && errno == EINVAL, "config_len 0x101: %p %d",
		  (void *)m, errno);
	virtio_mmio_destroy(m);
	TAP_EQ(dev.resets, 0);
	teardown();
}

int main(void)
{
	tap_run("identity: magic, version 2, device id, vendor id",
		test_identity);
	tap_run("device features: 32-bit words by select, 0 beyond",
		test_device_features_select);
	tap_run("FEATURES_OK refused with unoffered bits; no DRIVER_OK then",
		test_features_unoffered_refused);
	tap_run("FEATURES_OK kept for an offered subset; features frozen",
		test_features_subset_frozen);
	tap_run("FEATURES_OK refused without VERSION_1",
		test_features_need_version_1);
	tap_run("driver feature select beyond word 1 is ignored",
		test_driver_features_sel_out_of_range);
	tap_run("DRIVER_OK without FEATURES_OK is refused",
		test_driver_ok_needs_features_ok);
	tap_run("driver_ok op called once", test_driver_ok_op_once);
	tap_run("status bits accumulate: FEATURES_OK/DRIVER_OK not cleared",
		test_status_bits_accumulate);
	tap_run("driver cannot set NEEDS_RESET",
		test_driver_cannot_set_needs_reset);
	tap_run("FAILED status kept; reset recovers", test_failed_status);
	tap_run("QUEUE_NUM_MAX per queue, 0 for QUEUE_SEL out of range",
		test_queue_num_max);
	tap_run("QUEUE_SEL out of range: queue writes ignored, no crash",
		test_queue_sel_out_of_range);
	tap_run("QUEUE_NUM invalid (0, non-power-of-2, > max, > 16 bits)",
		test_queue_num_invalid);
	tap_run("QUEUE_READY with bad ring addresses: queue not ready",
		test_queue_ready_bad_addresses);
	tap_run("QUEUE_READY before FEATURES_OK: queue not ready",
		test_queue_ready_before_features_ok);
	tap_run("queue enable: 64-bit addresses, features, rings mapped",
		test_queue_enable_64bit);
	tap_run("queue layout registers ignored while the queue is ready",
		test_queue_regs_frozen_while_ready);
	tap_run("QUEUE_READY 0 before DRIVER_OK disables and unmaps",
		test_queue_ready_zero_before_driver_ok);
	tap_run("QUEUE_READY 0 after DRIVER_OK sets NEEDS_RESET",
		test_queue_ready_zero_after_driver_ok);
	tap_run("notify deferred until virtio_mmio_run_pending, per queue",
		test_notify_deferred);
	tap_run("notify of unready or out-of-range queue ignored",
		test_notify_ignored);
	tap_run("notify before DRIVER_OK ignored",
		test_notify_before_driver_ok);
	tap_run("used-buffer interrupt: ISR bit 0 set before raise, ACK",
		test_used_interrupt);
	tap_run("used-buffer interrupt suppressed by NO_INTERRUPT",
		test_used_interrupt_suppressed);
	tap_run("used-buffer interrupt follows used_event with EVENT_IDX",
		test_used_interrupt_event_idx);
	tap_run("INTERRUPT_ACK clears only the acked bits",
		test_interrupt_ack_partial);
	tap_run("status 0 resets queues, features, ISR, kicks; calls reset",
		test_reset_clears_everything);
	tap_run("reset mid-chain: reset op releases the chain, nothing mapped",
		test_reset_mid_chain);
	tap_run("destroy mid-chain releases everything; destroy(NULL) ok",
		test_destroy_mid_chain);
	tap_run("virtio_mmio_fail: NEEDS_RESET, config irq, kicks ignored",
		test_fail_needs_reset);
	tap_run("virtio_mmio_fail before DRIVER_OK: no interrupt",
		test_fail_before_driver_ok);
	tap_run("failure inside a queue handler drops the other kicks",
		test_fail_in_handler_drops_pending);
	tap_run("config generation changes on virtio_mmio_config_changed",
		test_config_generation);
	tap_run("device config: 1/2/4/8-byte reads at 0x100",
		test_config_reads);
	tap_run("device config: reads beyond config_len return 0",
		test_config_out_of_range);
	tap_run("device config: unaligned or odd-size reads return 0",
		test_config_unaligned);
	tap_run("device config: writes ignored", test_config_writes_ignored);
	tap_run("SHM: no region reads LEN 0xffffffff in both halves",
		test_shm_no_region);
	tap_run("SHM: selected region's 64-bit base and length",
		test_shm_region);
	tap_run("register accesses of wrong size or alignment ignored",
		test_bad_access_sizes);
	tap_run("writes to read-only registers ignored",
		test_readonly_writes_ignored);
	tap_run("write-only and legacy registers read 0, legacy setup inert",
		test_writeonly_and_legacy_read_zero);
	tap_run("create refuses info beyond the limits (EINVAL)",
		test_create_rejects_bad_info);
	return tap_done();
}
