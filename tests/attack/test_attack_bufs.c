/* SPDX-License-Identifier: MIT */
/*
 * Attacks through buffers: USERPTR lists aimed at the SHM region, the MMIO
 * windows, the device's own rings or nothing at all; buffers aliasing each
 * other; queued buffers re-queued with other memory; MMAP and MUNMAP of
 * what is not the guest's; the SHM region filled with orphans.
 */
#include <errno.h>
#include <linux/virtio_config.h>
#include <stdio.h>
#include <string.h>

#include "atk.h"
#include "backends/vcam/tpg.h"
#include "tap.h"
#include "vmedia/testbus_wire.h"
#include "vmedia/virtio_media_wire.h"

#define RAM_SIZE (88ull << 20)
#define SP	 0u /* vcam:unpaced */
#define W	 320u
#define H	 240u

static struct vg_media sp;
static uint32_t frame_size; /* 320x240 YUYV */

struct sg {
	uint64_t start;
	uint32_t len, pad;
};

static void restore(void)
{
	vg_media_fini(&sp);
	TAP_EQ(atk_media_up(&sp, SP), 0);
}

/* A session with the small format and n USERPTR buffers. */
static uint32_t user_session(unsigned n)
{
	uint32_t s = atk_open(&sp);

	frame_size = atk_set_fmt(&sp, s, W, H);
	TAP_EQ(atk_reqbufs(&sp, s, V4L2_MEMORY_USERPTR, n), (int)n);
	return s;
}

/* Single-planar USERPTR QBUF/PREPARE_BUF with a hand-made SG list. */
static int qbuf_sg(uint32_t s, uint32_t code, uint32_t index, uint32_t length,
		   const struct sg *sg, unsigned n)
{
	static uint8_t cmd[16 + 88 + 1000 * 16];
	struct v4l2_buffer b = { .index = index,
				 .type = V4L2_BUF_TYPE_VIDEO_CAPTURE,
				 .memory = V4L2_MEMORY_USERPTR,
				 .length = length };

	if (n > 1000)
		return -E2BIG;
	b.m.userptr = n ? (unsigned long)sg[0].start : 0;
	atk_put_ioctl(cmd, s, code);
	memcpy(cmd + 16, &b, sizeof(b));
	if (n)
		memcpy(cmd + 16 + 88, sg, n * sizeof(*sg));
	return atk_raw_status(&sp, cmd, 16 + 88 + n * sizeof(*sg), 8 + 88);
}

static int qbuf_one(uint32_t s, uint32_t index, uint64_t start, uint32_t len)
{
	struct sg e = { start, len, 0 };

	return qbuf_sg(s, _IOC_NR(VIDIOC_QBUF), index, len, &e, 1);
}

/* The stamp in a frame at host memory p: its sequence, or ~0u. */
static uint32_t stamp_of(void *p)
{
	struct tpg_format f;
	void *planes[TPG_MAX_PLANES];
	size_t sizes[TPG_MAX_PLANES];
	uint32_t seq = ~0u;
	uint64_t ts;

	tpg_format_init(&f, V4L2_PIX_FMT_YUYV, W, H);
	tpg_split_buffer(&f, p, planes, sizes);
	if (tpg_read_stamp(&f, planes, &seq, &ts) != 0)
		return ~0u;
	return seq;
}

static int next_dqbuf(uint32_t s, struct vg_media_event *ev)
{
	for (;;) {
		int r = vg_media_next_event(&sp, ATK_TIMEOUT_MS, ev);

		if (r != 1)
			return r ? r : -ETIMEDOUT;
		if (ev->u.hdr.session_id == s &&
		    ev->u.hdr.event == VIRTIO_MEDIA_EVT_DQBUF)
			return 0;
	}
}

/* ---- USERPTR lists aimed where they must not go ---------------------------
 */

static void test_userptr_into_shm(void)
{
	uint32_t s = user_session(1);

	/* The SHM region has a guest address, but it is not guest RAM. */
	TAP_CHECK(sp.shm_len > 0, "no SHM region");
	TAP_EQ(qbuf_one(s, 0, sp.shm_base, frame_size), -EFAULT);
	TAP_EQ(qbuf_one(s, 0, TESTBUS_SHM_BASE, frame_size), -EFAULT);
	TAP_EQ(qbuf_one(s, 0, sp.shm_base + sp.shm_len - 4096, frame_size),
	       -EFAULT);
	/* Nor are the MMIO windows, nor the bytes past the end of RAM. */
	TAP_EQ(qbuf_one(s, 0, TESTBUS_MMIO_BASE, frame_size), -EFAULT);
	TAP_EQ(qbuf_one(s, 0, VG_RAM_BASE + RAM_SIZE - 4096, frame_size),
	       -EFAULT);
	TAP_EQ(qbuf_one(s, 0, ~0ull - 4095, frame_size), -EFAULT);
	TAP_EQ(vg_media_close(&sp, s), 0);
}

static void test_userptr_bad_lists(void)
{
	static struct sg many[1000];
	uint32_t s = user_session(1);
	struct sg two[2] = { { VG_RAM_BASE + (60u << 20), 0, 0 },
			     { VG_RAM_BASE + (60u << 20), frame_size, 0 } };

	/* An entry of length 0 is no memory at all. */
	TAP_EQ(qbuf_sg(s, _IOC_NR(VIDIOC_QBUF), 0, frame_size, two, 2),
	       -EINVAL);
	/* 1-byte entries: more than pinned pages could ever need. */
	for (unsigned i = 0; i < 1000; i++)
		many[i] = (struct sg){ VG_RAM_BASE + (60u << 20) + i, 1, 0 };
	TAP_EQ(qbuf_sg(s, _IOC_NR(VIDIOC_QBUF), 0, frame_size, many, 1000),
	       -EINVAL);
	/* 512 MiB from the start of 88 MiB of RAM; 4 GiB - 1, list short. */
	TAP_EQ(qbuf_one(s, 0, VG_RAM_BASE, 512u << 20), -EFAULT);
	TAP_EQ(qbuf_sg(s, _IOC_NR(VIDIOC_QBUF), 0, 0xffffffffu, many, 16),
	       -EINVAL);
	TAP_EQ(vg_media_close(&sp, s), 0);
	atk_check_alive(&sp);
}

/* Frames rendered over the guest's own rings: it hurts only itself. */
static void userptr_into(uint64_t ring_gpa)
{
	uint32_t s = user_session(1);
	struct vg_mem rest;
	struct sg list[2];
	struct vg_media_event ev;

	TAP_EQ(vg_ram_alloc(&atk_g.ram, frame_size, &rest), 0);
	list[0] = (struct sg){ ring_gpa & ~4095ull, 4096, 0 };
	list[1] = (struct sg){ rest.gpa, frame_size - 4096, 0 };
	TAP_EQ(qbuf_sg(s, _IOC_NR(VIDIOC_QBUF), 0, frame_size, list, 2), 0);
	sp.timeout_ms = 500;
	(void)atk_stream(&sp, s, true);
	(void)vg_media_next_event(&sp, 300, &ev);
	sp.timeout_ms = VG_MEDIA_TIMEOUT_MS;
	restore();
	vg_ram_free(&atk_g.ram, &rest);
	atk_check_alive(&sp);
}

static void test_userptr_into_rings(void)
{
	userptr_into(sp.cmdq.mem.gpa);
	userptr_into(sp.evq.mem.gpa);
}

static void test_userptr_aliasing(void)
{
	uint32_t s = user_session(4);
	struct vg_mem mem;
	struct sg twice[2];
	struct vg_media_event ev;
	uint32_t seen = 0;

	TAP_EQ(vg_ram_alloc(&atk_g.ram, frame_size, &mem), 0);
	/* Four buffers on the same memory; the first lists a half twice. */
	twice[0] = (struct sg){ mem.gpa, frame_size / 2, 0 };
	twice[1] = twice[0];
	TAP_EQ(qbuf_sg(s, _IOC_NR(VIDIOC_QBUF), 0, frame_size, twice, 2), 0);
	for (uint32_t i = 1; i < 4; i++)
		TAP_EQ(qbuf_one(s, i, mem.gpa, frame_size), 0);
	TAP_EQ(atk_stream(&sp, s, true), 0);
	for (uint32_t i = 0; i < 4; i++) {
		TAP_EQ(next_dqbuf(s, &ev), 0);
		TAP_EQ(ev.u.dqbuf.b.sequence, i);
		TAP_EQ(ev.u.dqbuf.b.flags & V4L2_BUF_FLAG_ERROR, 0);
		seen++;
	}
	TAP_EQ(seen, 4);
	TAP_EQ(stamp_of(mem.host), 3);
	TAP_EQ(atk_stream(&sp, s, false), 0);
	TAP_EQ(vg_media_close(&sp, s), 0);
	vg_ram_free(&atk_g.ram, &mem);
}

static void test_requeue_other_memory(void)
{
	uint32_t s = user_session(2);
	struct vg_mem a, b, c;
	struct vg_media_event ev;

	TAP_EQ(vg_ram_alloc(&atk_g.ram, frame_size, &a), 0);
	TAP_EQ(vg_ram_alloc(&atk_g.ram, frame_size, &b), 0);
	TAP_EQ(vg_ram_alloc(&atk_g.ram, frame_size, &c), 0);
	/* Queued with a; queued again with b while still queued: refused. */
	TAP_EQ(qbuf_one(s, 0, a.gpa, frame_size), 0);
	TAP_EQ(qbuf_one(s, 0, b.gpa, frame_size), -EINVAL);
	/* Prepared with b, queued with c: the newer memory is the one. */
	TAP_EQ(qbuf_sg(s, _IOC_NR(VIDIOC_PREPARE_BUF), 1, frame_size,
		       &(struct sg){ b.gpa, frame_size, 0 }, 1),
	       0);
	TAP_EQ(qbuf_one(s, 1, c.gpa, frame_size), 0);
	TAP_EQ(atk_stream(&sp, s, true), 0);
	TAP_EQ(next_dqbuf(s, &ev), 0);
	TAP_EQ(next_dqbuf(s, &ev), 0);
	TAP_EQ(stamp_of(a.host), 0);
	TAP_EQ(stamp_of(c.host), 1);
	TAP_EQ(stamp_of(b.host), ~0u);
	TAP_EQ(atk_stream(&sp, s, false), 0);
	TAP_EQ(vg_media_close(&sp, s), 0);
	vg_ram_free(&atk_g.ram, &a);
	vg_ram_free(&atk_g.ram, &b);
	vg_ram_free(&atk_g.ram, &c);
}

/* ---- MMAP and MUNMAP ------------------------------------------------------
 */

static uint64_t map_buffer(uint32_t s, uint32_t index)
{
	uint32_t off = 0;
	uint64_t addr = ~0ull, len;

	TAP_EQ(atk_querybuf_off(&sp, s, index, &off), 0);
	TAP_EQ(vg_media_mmap(&sp, s, VIRTIO_MEDIA_MMAP_FLAG_RW, off, &addr,
			     &len),
	       0);
	return addr;
}

static void test_mmap_orphan_and_foreign_guest(void)
{
	struct atk_guest g2;
	struct vg_media m2;
	uint32_t a = atk_open(&sp), b = atk_open(&sp), c;
	uint64_t addr, len;
	uint32_t off;

	TAP_EQ(atk_reqbufs(&sp, a, V4L2_MEMORY_MMAP, 1), 1);
	TAP_EQ(atk_querybuf_off(&sp, a, 0, &off), 0);
	addr = map_buffer(a, 0);
	/* Another guest, whose session ids overlap ours, asks for it. */
	TAP_EQ(atk_guest_connect(&atk_d, &g2, 12ull << 20), 0);
	TAP_EQ(vg_media_init(&m2, g2.t, &g2.ram, SP), 0);
	c = atk_open(&m2);
	TAP_EQ(vg_media_mmap(&m2, c, 0, off, &addr, &len), -EINVAL);
	TAP_EQ(vg_media_mmap(&m2, a, 0, off, &addr, &len), -EINVAL);
	TAP_EQ(vg_media_munmap(&m2, addr), -EINVAL);
	vg_media_fini(&m2);
	atk_guest_close(&g2);
	/* Its owner gone, the buffer lives on mapped: nobody may map it. */
	TAP_EQ(vg_media_close(&sp, a), 0);
	TAP_EQ(vg_media_mmap(&sp, b, 0, off, &addr, &len), -EINVAL);
	TAP_EQ(vg_media_munmap(&sp, addr), 0);
	TAP_EQ(vg_media_munmap(&sp, addr), -EINVAL);
	TAP_EQ(vg_media_close(&sp, b), 0);
}

static void test_munmap_wrong_offsets(void)
{
	uint32_t s = atk_open(&sp), off = 0;
	uint64_t addr;
	uint32_t x = 12345;
	int64_t t0 = atk_now_ms();
	unsigned wrong = 0;

	TAP_EQ(atk_reqbufs(&sp, s, V4L2_MEMORY_MMAP, 2), 2);
	TAP_EQ(atk_querybuf_off(&sp, s, 1, &off), 0);
	addr = map_buffer(s, 0);
	/* Allocated but never mapped; inside a mapped block; twice. */
	TAP_EQ(vg_media_munmap(&sp, off), -EINVAL);
	TAP_EQ(vg_media_munmap(&sp, addr + 4096), -EINVAL);
	TAP_EQ(vg_media_munmap(&sp, addr + 1), -EINVAL);
	for (unsigned i = 0; i < 5000; i++) {
		uint64_t o;

		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		o = ((uint64_t)x << 12) ^ ((uint64_t)i << 40);
		if (o != addr && o != off)
			wrong += vg_media_munmap(&sp, o) == -EINVAL;
		else
			wrong++;
	}
	TAP_EQ(wrong, 5000);
	tap_diag("5000 MUNMAPs of random offsets in %lld ms",
		 (long long)(atk_now_ms() - t0));
	/* The real mapping survived all of it. */
	TAP_EQ(vg_media_munmap(&sp, addr), 0);
	TAP_EQ(vg_media_munmap(&sp, addr), -EINVAL);
	TAP_EQ(atk_reqbufs(&sp, s, V4L2_MEMORY_MMAP, 0), 0);
	TAP_EQ(vg_media_close(&sp, s), 0);
}

/* Map every buffer, free them all: orphans hold the region. */
static unsigned fill_with_orphans(uint32_t s, uint64_t *addr, unsigned n,
				  unsigned max)
{
	unsigned rounds = 0;
	int r;

	while ((r = atk_reqbufs(&sp, s, V4L2_MEMORY_MMAP, 32)) > 0 &&
	       rounds++ < 16) {
		for (int i = 0; i < r && n < max; i++)
			addr[n++] = map_buffer(s, (uint32_t)i);
		TAP_EQ(atk_reqbufs(&sp, s, V4L2_MEMORY_MMAP, 0), 0);
	}
	TAP_EQ(r, -ENOMEM);
	return n;
}

static void test_shm_filled_with_orphans(void)
{
	static uint64_t addr[256];
	uint32_t s = atk_open(&sp);
	unsigned n;

	atk_set_fmt(&sp, s, 3840, 2160);
	n = fill_with_orphans(s, addr, 0, 256);
	TAP_CHECK(n >= 32, "only %u buffers fitted", n);
	atk_set_fmt(&sp, s, W, H);
	n = fill_with_orphans(s, addr, n, 256);
	/* Even one 320x240 buffer: the region is full. */
	TAP_EQ(atk_reqbufs(&sp, s, V4L2_MEMORY_MMAP, 1), -ENOMEM);
	for (unsigned i = 0; i < n; i++)
		TAP_EQ(vg_media_munmap(&sp, addr[i]), 0);
	TAP_EQ(atk_reqbufs(&sp, s, V4L2_MEMORY_MMAP, 32), 32);
	TAP_EQ(atk_reqbufs(&sp, s, V4L2_MEMORY_MMAP, 0), 0);
	TAP_EQ(vg_media_close(&sp, s), 0);
}

static void test_create_bufs_huge(void)
{
	struct v4l2_create_buffers cb = { .count = 0xffffffffu,
					  .memory = V4L2_MEMORY_MMAP };
	uint32_t s = atk_open(&sp);

	cb.format.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
	TAP_EQ(vg_media_ioctl(&sp, s, _IOC_NR(VIDIOC_G_FMT), &cb.format,
			      sizeof(cb.format), sizeof(cb.format)),
	       0);
	cb.format.fmt.pix.sizeimage = 0xffffffffu;
	TAP_EQ(vg_media_ioctl(&sp, s, _IOC_NR(VIDIOC_CREATE_BUFS), &cb,
			      sizeof(cb), sizeof(cb)),
	       -ENOMEM);
	/* USERPTR of 4 GiB - 1: made, but no memory can ever back it. */
	cb.memory = V4L2_MEMORY_USERPTR;
	cb.count = 1;
	TAP_EQ(vg_media_ioctl(&sp, s, _IOC_NR(VIDIOC_CREATE_BUFS), &cb,
			      sizeof(cb), sizeof(cb)),
	       0);
	TAP_EQ(qbuf_one(s, 0, VG_RAM_BASE, frame_size), -EINVAL);
	/* The USERPTR cap (1 GiB) refuses it before it is even looked up. */
	TAP_EQ(qbuf_one(s, 0, VG_RAM_BASE, 0xffffffffu), -ENOMEM);
	TAP_EQ(vg_media_close(&sp, s), 0);
	atk_check_alive(&sp);
}

int main(void)
{
	static const char *const args[] = { "--device", "vcam:unpaced", NULL };

	atk_suite_start(args, RAM_SIZE);
	if (atk_media_up(&sp, SP)) {
		printf("Bail out! attacker device did not come up\n");
		return 1;
	}
	atk_run("USERPTR into the SHM region, MMIO window, past RAM, "
		"wrapping: EFAULT",
		test_userptr_into_shm);
	atk_run("USERPTR lists: zero-length entry, 1000 1-byte entries, "
		"4 GiB plane: EINVAL/EFAULT",
		test_userptr_bad_lists);
	atk_run("USERPTR over the guest's own commandq and eventq rings: "
		"only the guest is hurt",
		test_userptr_into_rings);
	atk_run("USERPTR: four buffers on the same pages, a list naming a "
		"page twice",
		test_userptr_aliasing);
	atk_run("USERPTR: re-QBUF of a queued buffer refused; QBUF after "
		"PREPARE_BUF takes the new memory",
		test_requeue_other_memory);
	atk_run("MMAP of an orphaned buffer, of another guest's offset; "
		"MUNMAP from another guest: EINVAL",
		test_mmap_orphan_and_foreign_guest);
	atk_run("MUNMAP of unmapped, mid-block and 5000 random offsets: "
		"EINVAL; the real mapping survives",
		test_munmap_wrong_offsets);
	atk_run("SHM region filled with mapped orphans: ENOMEM until MUNMAP",
		test_shm_filled_with_orphans);
	atk_run("CREATE_BUFS of 2^32-1 buffers of 4 GiB-1: ENOMEM; USERPTR "
		"made but unbackable",
		test_create_bufs_huge);
	vg_media_fini(&sp);
	return atk_suite_end();
}
