/* SPDX-License-Identifier: MIT */
/*
 * Seeded random walks through the whole command set, as a confused or
 * malicious guest would take them: sessions opened and closed at random,
 * formats changed, buffers of both memories made, queued, prepared,
 * mapped, unmapped and freed in any order, streams started and stopped,
 * controls and events, the event queue starved and refilled, device
 * resets. Nothing is asserted about single answers; every command must
 * be answered, the device must never need a reset, and (under the
 * sanitizers, or valgrind) the daemon must not touch a byte it should not.
 */
#include <errno.h>
#include <linux/virtio_config.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "atk.h"
#include "tap.h"
#include "vmedia/virtio_media_wire.h"

#define RAM_SIZE (100ull << 20)
#define NSESS	 3u
#define NMAP	 64u
#define NMEM	 4u
#define STEPS	 4000u

struct walk {
	struct vg_media m;
	unsigned index;
	uint32_t rng;
	uint32_t sess[NSESS]; /* 0: none */
	uint64_t mapped[NMAP];
	unsigned nmapped;
	struct vg_mem mem[NMEM];      /* USERPTR memory of assorted sizes */
	unsigned lost;		      /* commands without an answer */
	unsigned ok, refused, events; /* for the diagnostic line */
	unsigned op;		      /* the operation being done */
};

static uint32_t rnd(struct walk *w, uint32_t n)
{
	w->rng ^= w->rng << 13;
	w->rng ^= w->rng >> 17;
	w->rng ^= w->rng << 5;
	return w->rng % n;
}

/* A session of the walk, opening one if the slot is empty. */
static uint32_t session(struct walk *w)
{
	unsigned i = rnd(w, NSESS);

	if (!w->sess[i] && vg_media_open(&w->m, &w->sess[i]) != 0)
		w->sess[i] = 0;
	return w->sess[i];
}

/* An answer is anything but a transport failure or a silent device. */
static void answered(struct walk *w, int r)
{
	if (r == -ETIMEDOUT || r == -EPIPE || r == -ECONNRESET)
		w->lost++;
	else if (r < 0)
		w->refused++;
	else
		w->ok++;
}

static void op_format(struct walk *w, uint32_t s)
{
	static const uint32_t sizes[][2] = { { 320, 240 },
					     { 640, 480 },
					     { 3840, 2160 } };
	unsigned k = rnd(w, 3);
	uint32_t size;

	answered(w, atk_s_fmt(&w->m, s, sizes[k][0], sizes[k][1], &size));
}

static void op_reqbufs(struct walk *w, uint32_t s)
{
	uint32_t memory = rnd(w, 2) ? V4L2_MEMORY_MMAP : V4L2_MEMORY_USERPTR;

	answered(w, atk_reqbufs(&w->m, s, memory, rnd(w, 9)));
}

static void op_map(struct walk *w, uint32_t s)
{
	uint32_t off = 0;
	uint64_t addr, len;
	int r = atk_querybuf_off(&w->m, s, rnd(w, 9), &off);

	answered(w, r);
	if (r == 0 && w->nmapped < NMAP) {
		r = vg_media_mmap(&w->m, s, 0, off, &addr, &len);
		answered(w, r);
		if (r == 0)
			w->mapped[w->nmapped++] = addr;
	}
}

static void op_unmap(struct walk *w)
{
	unsigned i;

	if (!w->nmapped)
		return;
	i = rnd(w, w->nmapped);
	answered(w, vg_media_munmap(&w->m, w->mapped[i]));
	w->mapped[i] = w->mapped[--w->nmapped];
}

static void op_qbuf(struct walk *w, uint32_t s)
{
	static const uint32_t codes[] = { _IOC_NR(VIDIOC_QBUF),
					  _IOC_NR(VIDIOC_PREPARE_BUF) };
	const struct vg_mem *mem = &w->mem[rnd(w, NMEM)];
	struct vg_media_sg sg = { .mem = mem,
				  .len = mem->size,
				  .seg = rnd(w, 2) ? 4096 : 0 };
	uint32_t index = rnd(w, 9);

	if (rnd(w, 2))
		answered(w, atk_qbuf_mmap(&w->m, s, index));
	else
		answered(w, atk_qbuf_user(&w->m, s, codes[rnd(w, 2)], index,
					  (uint32_t)mem->size, &sg));
}

static void op_ctrl(struct walk *w, uint32_t s)
{
	struct v4l2_event_subscription sub = {
		.type = V4L2_EVENT_CTRL,
		.id = V4L2_CID_BRIGHTNESS,
		.flags = rnd(w, 2) ? V4L2_EVENT_SUB_FL_SEND_INITIAL : 0
	};
	/* The inject-error menu too: failed QBUFs and frames. */
	struct v4l2_control c = { .id = rnd(w, 2) ? V4L2_CID_BRIGHTNESS
						  : V4L2_CID_USER_BASE + 0x1000,
				  .value = (int32_t)rnd(w, 3) };
	uint32_t code = rnd(w, 2) ? _IOC_NR(VIDIOC_SUBSCRIBE_EVENT)
				  : _IOC_NR(VIDIOC_UNSUBSCRIBE_EVENT);

	if (rnd(w, 2))
		answered(w,
			 vg_media_ioctl(&w->m, s, code, &sub, sizeof(sub), 0));
	else
		answered(w, vg_media_ioctl(&w->m, s, _IOC_NR(VIDIOC_S_CTRL), &c,
					   sizeof(c), sizeof(c)));
}

static void op_events(struct walk *w)
{
	struct vg_media_event ev;

	if (rnd(w, 2)) {
		(void)vg_media_set_event_buffers(&w->m, rnd(w, 17));
		return;
	}
	while (vg_media_next_event(&w->m, 0, &ev) == 1)
		w->events++;
}

static void op_reset(struct walk *w)
{
	vg_media_fini(&w->m);
	memset(w->sess, 0, sizeof(w->sess));
	w->nmapped = 0;
	TAP_EQ(atk_media_up(&w->m, w->index), 0);
}

static void step(struct walk *w)
{
	uint32_t s = session(w);

	w->op = rnd(w, 20);
	switch (w->op) {
	case 0:
		answered(w, vg_media_close(&w->m, s));
		w->sess[rnd(w, NSESS)] = 0; /* maybe it, maybe not: ids lie */
		break;
	case 1:
		op_format(w, s);
		break;
	case 2:
	case 3:
		op_reqbufs(w, s);
		break;
	case 4:
	case 5:
		op_map(w, s);
		break;
	case 6:
		op_unmap(w);
		break;
	case 7:
	case 8:
	case 9:
	case 10:
		op_qbuf(w, s);
		break;
	case 11:
	case 12:
		answered(w, atk_stream(&w->m, s, rnd(w, 3) != 0));
		break;
	case 13:
	case 14:
		op_ctrl(w, s);
		break;
	case 15:
	case 16:
	case 17:
		op_events(w);
		break;
	case 18:
		answered(w, atk_g_fmt(&w->m, s, atk_buf_type(&w->m)));
		break;
	default:
		if (rnd(w, 10) == 0)
			op_reset(w);
	}
}

static void walk(unsigned index, uint32_t seed)
{
	static const size_t sizes[NMEM] = { 4096, 153600, 614400, 1u << 20 };
	static struct walk w;
	unsigned broken = 0;

	memset(&w, 0, sizeof(w));
	w.index = index;
	w.rng = seed;
	for (unsigned i = 0; i < NMEM; i++)
		TAP_EQ(vg_ram_alloc(&atk_g.ram, sizes[i], &w.mem[i]), 0);
	TAP_EQ(atk_media_up(&w.m, index), 0);
	w.m.timeout_ms = 3000;
	for (unsigned i = 0; i < STEPS && !w.lost && !broken; i++) {
		step(&w);
		broken = atk_status(&w.m) & VIRTIO_CONFIG_S_NEEDS_RESET;
		TAP_CHECK(!w.lost && !broken, "seed %#x step %u (op %u): %s",
			  seed, i, w.op,
			  broken ? "NEEDS_RESET" : "a command went unanswered");
	}
	tap_diag("seed %#x: %u commands done, %u refused, %u events", seed,
		 w.ok, w.refused, w.events);
	vg_media_fini(&w.m);
	for (unsigned i = 0; i < NMEM; i++)
		vg_ram_free(&atk_g.ram, &w.mem[i]);
	TAP_EQ(atk_media_up(&w.m, index), 0);
	atk_check_alive(&w.m);
	vg_media_fini(&w.m);
}

/* ATTACK_WALK_SEEDS=N walks N seeds per device instead of 3 (exploring). */
static unsigned seeds(void)
{
	const char *n = getenv("ATTACK_WALK_SEEDS");

	return n && atoi(n) > 0 ? (unsigned)atoi(n) : 3;
}

static void test_walk_single_planar(void)
{
	for (uint32_t i = 0; i < seeds(); i++)
		walk(0, 0x5eed0000u + 2 * i + 1);
}

static void test_walk_multi_planar(void)
{
	for (uint32_t i = 0; i < seeds(); i++)
		walk(1, 0x5eed0000u + 2 * i + 2);
}

int main(void)
{
	static const char *const args[] = { "--device", "vcam:unpaced",
					    "--device", "vcam:mplane,fps=120",
					    NULL };

	atk_suite_start(args, RAM_SIZE);
	atk_run("random walks of 3 x 4000 operations, single-planar unpaced "
		"camera: all answered, never NEEDS_RESET",
		test_walk_single_planar);
	atk_run("random walks of 3 x 4000 operations, multi-planar paced "
		"camera: all answered, never NEEDS_RESET",
		test_walk_multi_planar);
	return atk_suite_end();
}
