/* SPDX-License-Identifier: MIT */
/*
 * fuzz_mmio: the virtio-mmio register file fed the guest's accesses, one
 * by one, with the deferred queue work run after each (as transports do),
 * over fake guest RAM the input also writes. Behind the register file is
 * either the real virtio-media device with vcam (so a input that sets up
 * the queues reaches the whole command path; seeds recorded from the
 * guest library do) or a trivial device whose shape the input chooses
 * (queue count and size, config length, features, SHM region), which
 * serves every chain by reading and writing it.
 *
 * Input:
 *   u8 mode      bit0 trivial device; else FG_DEV_* flags in bits 1-3
 *   trivial only: u8 queues, u16 queue_num_max, u16 config_len,
 *                 u64 features, u8 shm (bit0: region), u64 base, u64 len
 *   accesses until the input ends, u8 op (op % 8):
 *     0 write32  u8 register/4, u32 value      1 read32  u8 register/4
 *     2 raw      u16 offset, u8 size, u64 value (bit3 of op: write)
 *     3 RAM      u32 offset, u16 length, bytes
 *     4 frames   let vcam produce (op >> 4) + 1 frames
 *     5 notify   queue op >> 4
 *     6 status   write op >> 3
 *     7 queue    select op >> 4, u16 num, u16 desc, avail, used offsets,
 *                then READY
 */
#include <linux/virtio_config.h>
#include <linux/virtio_mmio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_guest.h"
#include "fuzz_input.h"
#include "vmedia/virtio_mmio.h"

#define MAX_ACCESSES 4096u

struct trivial {
	struct virtio_dev_info info;
	struct virtio_mmio *vm;
	bool has_shm;
	uint64_t shm_base, shm_len;
	struct virtq_chain chain;
	uint8_t buf[1u << 16];
};

static struct trivial triv;

static void triv_read_config(void *dev, uint32_t off, void *buf, uint32_t len)
{
	struct trivial *t = dev;

	/* The register file promised to check the range. */
	if (off > t->info.config_len || len > t->info.config_len - off ||
	    len > 8)
		fg_fail("config read [%u, +%u) of %u bytes", off, len,
			t->info.config_len);
	for (uint32_t i = 0; i < len; i++)
		((uint8_t *)buf)[i] = (uint8_t)(off + i);
}

/* Read everything, answer half the room: what any device does. */
static void triv_serve(struct trivial *t, struct virtq *vq)
{
	struct virtq_cursor rd, wr;
	size_t n;

	virtq_reader(&rd, &t->chain);
	virtq_writer(&wr, &t->chain);
	n = virtq_cursor_left(&rd);
	(void)virtq_read(&rd, t->buf, n < sizeof(t->buf) ? n : sizeof(t->buf));
	n = virtq_cursor_left(&wr) / 2;
	if (n > sizeof(t->buf))
		n = sizeof(t->buf);
	(void)virtq_write(&wr, memset(t->buf, 0x5a, n), n);
	virtq_push(vq, &t->chain, (uint32_t)wr.done);
}

static void triv_notify(void *dev, struct virtio_mmio *vm, unsigned q)
{
	struct trivial *t = dev;
	struct virtq *vq = virtio_mmio_queue(vm, q);
	int ret;

	if (q >= t->info.num_queues || !vq)
		fg_fail("notify of queue %u (of %u) not enabled", q,
			t->info.num_queues);
	while ((ret = virtq_pop(vq, &t->chain)) > 0)
		triv_serve(t, vq);
	if (ret < 0)
		virtio_mmio_fail(vm, "broken queue");
	virtio_mmio_notify_used(vm, q);
	if (q + 1u == t->info.num_queues)
		virtio_mmio_config_changed(vm);
}

static bool triv_shm(void *dev, unsigned id, uint64_t *base, uint64_t *len)
{
	struct trivial *t = dev;

	if (id != 0 || !t->has_shm)
		return false;
	*base = t->shm_base;
	*len = t->shm_len;
	return true;
}

static const struct virtio_dev_ops triv_ops = {
	.read_config = triv_read_config,
	.queue_notify = triv_notify,
	.shm_region = triv_shm,
};

static bool triv_create(struct fg_env *e, struct fz *f)
{
	struct virtio_mmio_params p = {
		.info = &triv.info,
		.ops = &triv_ops,
		.dev = &triv,
		.mem = &e->mem.gmem,
		.irq = &e->irq.line,
		.domid = 2,
	};

	triv.info =
		(struct virtio_dev_info){ .device_id = 1, .vendor_id = 0x1af4 };
	triv.info.num_queues = fz_u8(f);
	triv.info.queue_num_max = fz_u16(f);
	triv.info.config_len = fz_u16(f);
	triv.info.features = fz_u64(f);
	triv.has_shm = fz_u8(f) & 1;
	triv.shm_base = fz_u64(f);
	triv.shm_len = fz_u64(f);
	triv.vm = virtio_mmio_create(&p);
	/* Out-of-range shapes are refused; nothing to fuzz behind them. */
	return triv.vm != NULL;
}

static unsigned enabled_queues(struct virtio_mmio *vm)
{
	unsigned n = 0;

	for (unsigned q = 0; q < VIRTIO_DEV_MAX_QUEUES; q++)
		n += virtio_mmio_queue(vm, q) != NULL;
	return n;
}

static void ram_write(struct fg_env *e, struct fz *f)
{
	uint32_t off = fz_u32(f) % FG_RAM_SIZE;
	size_t len = fz_u16(f), got;
	const uint8_t *p = fz_take(f, len, &got);

	if (got > FG_RAM_SIZE - off)
		got = FG_RAM_SIZE - off;
	memcpy(e->mem.fm.ram + off, p, got);
}

static void queue_setup(struct virtio_mmio *vm, uint8_t op, struct fz *f)
{
	uint32_t num = fz_u16(f);
	uint64_t desc = FG_RAM_BASE + fz_u16(f),
		 avail = FG_RAM_BASE + fz_u16(f);
	uint64_t used = FG_RAM_BASE + fz_u16(f);

	virtio_mmio_write(vm, VIRTIO_MMIO_QUEUE_SEL, 4, (op >> 4) & 7);
	virtio_mmio_write(vm, VIRTIO_MMIO_QUEUE_NUM, 4, num);
	virtio_mmio_write(vm, VIRTIO_MMIO_QUEUE_DESC_LOW, 4, (uint32_t)desc);
	virtio_mmio_write(vm, VIRTIO_MMIO_QUEUE_DESC_HIGH, 4, desc >> 32);
	virtio_mmio_write(vm, VIRTIO_MMIO_QUEUE_AVAIL_LOW, 4, (uint32_t)avail);
	virtio_mmio_write(vm, VIRTIO_MMIO_QUEUE_AVAIL_HIGH, 4, avail >> 32);
	virtio_mmio_write(vm, VIRTIO_MMIO_QUEUE_USED_LOW, 4, (uint32_t)used);
	virtio_mmio_write(vm, VIRTIO_MMIO_QUEUE_USED_HIGH, 4, used >> 32);
	virtio_mmio_write(vm, VIRTIO_MMIO_QUEUE_READY, 4, 1);
}

static void raw_access(struct virtio_mmio *vm, uint8_t op, struct fz *f)
{
	uint16_t off = fz_u16(f);
	uint8_t size = fz_u8(f);
	uint64_t val = fz_u64(f);

	if (op & 8)
		virtio_mmio_write(vm, off, size, val);
	else
		(void)virtio_mmio_read(vm, off, size);
}

static void do_access(struct fg_env *e, struct fg_media *g,
		      struct virtio_mmio *vm, struct fz *f)
{
	uint8_t op = fz_u8(f);

	switch (op % 8) {
	case 0:
		virtio_mmio_write(vm, (fz_u8(f) * 4u) % VIRTIO_MMIO_WINDOW, 4,
				  fz_u32(f));
		break;
	case 1:
		(void)virtio_mmio_read(vm, (fz_u8(f) * 4u) % VIRTIO_MMIO_WINDOW,
				       4);
		break;
	case 2:
		raw_access(vm, op, f);
		break;
	case 3:
		ram_write(e, f);
		break;
	case 4:
		if (g)
			fg_media_pump(g, (op >> 4) + 1u);
		break;
	case 5:
		virtio_mmio_write(vm, VIRTIO_MMIO_QUEUE_NOTIFY, 4, op >> 4);
		break;
	case 6:
		virtio_mmio_write(vm, VIRTIO_MMIO_STATUS, 4, op >> 3);
		break;
	case 7:
		queue_setup(vm, op, f);
		break;
	}
	/*
	 * The transport completed the access: deferred work runs now, and
	 * only it (and vcam's frames) touches guest RAM.
	 */
	if (virtio_mmio_has_pending(vm)) {
		fg_mem_guard(&e->mem, true);
		virtio_mmio_run_pending(vm);
		fg_mem_guard(&e->mem, false);
	}
}

static void check(struct fg_env *e, struct fg_media *g, struct virtio_mmio *vm)
{
	unsigned want;

	if (g) {
		fg_media_check_maps(g);
		return;
	}
	want = 3 * enabled_queues(vm);
	if (e->mem.fm.live != want || e->mem.fm.bad_unmaps)
		fg_fail("%u guest mappings live, %u expected; %u bad unmaps",
			e->mem.fm.live, want, e->mem.fm.bad_unmaps);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fg_env *e = fg_env();
	struct fg_media media, *g = NULL;
	struct virtio_mmio *vm;
	struct fz f;
	uint8_t mode;

	fz_init(&f, data, size);
	fg_env_reset(e);
	mode = fz_u8(&f);
	if (mode & 1) {
		if (!triv_create(e, &f))
			return 0;
		vm = triv.vm;
	} else {
		g = &media;
		fg_media_create(g, e, (mode >> 1) & 7);
		vm = g->vm;
	}
	/* Bounded: a recorded session is some 600 accesses. */
	for (unsigned i = 0; i < MAX_ACCESSES && !fz_empty(&f); i++) {
		do_access(e, g, vm, &f);
		check(e, g, vm);
	}
	if (g)
		fg_media_destroy(g);
	else
		virtio_mmio_destroy(vm);
	fg_env_check_clean(e);
	return 0;
}
