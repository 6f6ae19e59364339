/* SPDX-License-Identifier: MIT */
/*
 * The whole Xen data path over the fake Xen: the userspace guest driver
 * (tools/guest) inside a fake guest talks to vmediad's Xen transport
 * through ioreqs, guest RAM reached by foreign mapping, and SPIs. Then
 * INVALIDATE in the middle of it, and guests that die mid-request.
 */
#include <errno.h>
#include <linux/videodev2.h>
#include <stdio.h>
#include <string.h>

#include "backends/vcam/tpg.h"
#include "fakes/fake_xen_guest.h"
#include "tap.h"
#include "vg_media.h"
#include "fakes/fake_xen_harness.h"

#define RAM_PAGES 8192u /* 32 MiB */
#define WIDTH	  320u
#define HEIGHT	  240u
#define NBUFS	  3u
#define FRAMES	  6u
#define WAIT_MS	  5000

struct gdev {
	unsigned domid;
	struct vg_transport *t;
	struct vg_ram ram;
	struct vg_media m;
	bool ram_up, media_up;
};

static struct xh h;

/* A guest with one virtio-media device, served, and the driver up. */
static int guest_up(struct gdev *g, unsigned domid)
{
	uint64_t base = XH_BASE(0);
	unsigned irq = XH_IRQ(0);
	int r;

	memset(g, 0, sizeof(*g));
	g->domid = domid;
	r = fake_xen_domain_create(domid, "dp", 2, RAM_PAGES);
	if (r)
		return r;
	xh_add_device(domid, 0, base, irq, false);
	if (!xh_wait_state(domid, 0, "4", WAIT_MS))
		return -ETIMEDOUT;
	r = fake_xen_guest_open(domid, RAM_PAGES, &base, &irq, 1, &g->t);
	if (r == 0)
		r = vg_ram_init(&g->ram, g->t);
	g->ram_up = r == 0;
	if (r == 0)
		r = vg_media_init(&g->m, g->t, &g->ram, 0);
	g->media_up = r == 0;
	return r;
}

static void guest_down(struct gdev *g)
{
	if (g->media_up)
		vg_media_fini(&g->m);
	if (g->ram_up)
		vg_ram_fini(&g->ram);
	vg_transport_close(g->t);
	memset(g, 0, sizeof(*g));
}

static unsigned fpages(unsigned domid)
{
	struct fake_xen_counts c;

	fake_xen_counts(domid, &c);
	return c.fmem_pages;
}

static void test_probe(void)
{
	struct fake_xen_counts c;
	struct gdev g;
	int r = guest_up(&g, 30);

	TAP_CHECK(r == 0, "guest up: %s", strerror(-r));
	TAP_EQ(g.m.dev.device_id, 48);
	TAP_CHECK(g.m.dev.features & VG_F_ACCESS_PLATFORM,
		  "ACCESS_PLATFORM not negotiated");
	TAP_CHECK(g.m.dev.features & VG_F_VERSION_1, "VERSION_1");
	/* The rings are mapped from guest RAM. */
	fake_xen_counts(30, &c);
	TAP_CHECK(c.fmem_pages > 0, "no foreign mapping");
	guest_down(&g);
}

static void test_shm_absent(void)
{
	uint64_t lo = 0, hi = 0;
	struct gdev g;

	TAP_EQ(guest_up(&g, 31), 0);
	TAP_EQ(fake_xen_mmio_write(31, XH_BASE(0) + 0xac, 4, 0), 0);
	TAP_EQ(fake_xen_mmio_read(31, XH_BASE(0) + 0xb0, 4, &lo), 0);
	TAP_EQ(fake_xen_mmio_read(31, XH_BASE(0) + 0xb4, 4, &hi), 0);
	/* Linux takes only ~0 for "no region"; MMAP answers ENOTTY. */
	TAP_EQ(lo, 0xffffffff);
	TAP_EQ(hi, 0xffffffff);
	guest_down(&g);
}

static void test_session(void)
{
	struct v4l2_format f = { .type = V4L2_BUF_TYPE_VIDEO_CAPTURE };
	struct fake_xen_counts c0, c1;
	uint32_t s = 0;
	struct gdev g;

	TAP_EQ(guest_up(&g, 32), 0);
	fake_xen_counts(32, &c0);
	TAP_EQ(vg_media_open(&g.m, &s), 0);
	TAP_EQ(vg_media_ioctl(&g.m, s, _IOC_NR(VIDIOC_G_FMT), &f, sizeof(f),
			      sizeof(f)),
	       0);
	TAP_CHECK(f.fmt.pix.width > 0 && f.fmt.pix.sizeimage > 0,
		  "format %ux%u", f.fmt.pix.width, f.fmt.pix.height);
	TAP_EQ(vg_media_close(&g.m, s), 0);
	fake_xen_counts(32, &c1);
	/* Every answer came with an interrupt through set_irq_level. */
	TAP_CHECK(c1.irqs >= c0.irqs + 3, "irqs %u -> %u", c0.irqs, c1.irqs);
	guest_down(&g);
}

struct cap {
	struct gdev *g;
	uint32_t s;
	uint32_t length;
	struct tpg_format fmt;
	struct vg_mem user[NBUFS];
};

static int cap_setup(struct cap *c)
{
	struct v4l2_format f = { .type = V4L2_BUF_TYPE_VIDEO_CAPTURE };
	struct v4l2_requestbuffers rb = { .count = NBUFS,
					  .type = V4L2_BUF_TYPE_VIDEO_CAPTURE,
					  .memory = V4L2_MEMORY_USERPTR };
	int r;

	f.fmt.pix.width = WIDTH;
	f.fmt.pix.height = HEIGHT;
	f.fmt.pix.pixelformat = V4L2_PIX_FMT_YUYV;
	r = vg_media_open(&c->g->m, &c->s);
	if (r == 0)
		r = vg_media_ioctl(&c->g->m, c->s, _IOC_NR(VIDIOC_S_FMT), &f,
				   sizeof(f), sizeof(f));
	c->length = f.fmt.pix.sizeimage;
	if (r == 0)
		r = tpg_format_init(&c->fmt, V4L2_PIX_FMT_YUYV, WIDTH, HEIGHT);
	if (r == 0)
		r = vg_media_ioctl(&c->g->m, c->s, _IOC_NR(VIDIOC_REQBUFS), &rb,
				   sizeof(rb), sizeof(rb));
	for (unsigned i = 0; r == 0 && i < NBUFS; i++)
		r = vg_ram_alloc(&c->g->ram, c->length, &c->user[i]);
	return r;
}

static int cap_qbuf(struct cap *c, unsigned i)
{
	struct v4l2_buffer b = { .index = i,
				 .type = V4L2_BUF_TYPE_VIDEO_CAPTURE,
				 .memory = V4L2_MEMORY_USERPTR,
				 .length = c->length };
	struct v4l2_plane p[VIDEO_MAX_PLANES] = { 0 };
	/* Page-sized SG entries of guest-physical memory. */
	struct vg_media_sg sg = { .mem = &c->user[i],
				  .len = c->length,
				  .seg = 4096 };

	b.m.userptr = (unsigned long)c->user[i].gpa;
	return vg_media_ioctl_buffer(&c->g->m, c->s, _IOC_NR(VIDIOC_QBUF), &b,
				     p, &sg);
}

static int cap_frame(struct cap *c, uint32_t want, unsigned *index)
{
	struct vg_media_event ev;
	void *planes[3];
	size_t sizes[3];
	uint32_t seq = 0;
	uint64_t ts;
	int r = vg_media_next_event(&c->g->m, WAIT_MS, &ev);

	if (r != 1)
		return r < 0 ? r : -ETIMEDOUT;
	TAP_EQ(ev.u.hdr.event, VIRTIO_MEDIA_EVT_DQBUF);
	TAP_EQ(ev.u.dqbuf.b.sequence, want);
	if (ev.u.dqbuf.b.index >= NBUFS)
		return -EIO;
	*index = ev.u.dqbuf.b.index;
	/* The camera wrote straight into the guest's pages. */
	tpg_split_buffer(&c->fmt, c->user[*index].host, planes, sizes);
	r = tpg_read_stamp(&c->fmt, planes, &seq, &ts);
	TAP_EQ(r, 0);
	TAP_EQ(seq, want);
	return 0;
}

static int cap_stream(struct cap *c, uint32_t code)
{
	uint32_t type = V4L2_BUF_TYPE_VIDEO_CAPTURE;

	return vg_media_ioctl(&c->g->m, c->s, code, &type, sizeof(type), 0);
}

static void cap_teardown(struct cap *c)
{
	struct v4l2_requestbuffers rb = { .count = 0,
					  .type = V4L2_BUF_TYPE_VIDEO_CAPTURE,
					  .memory = V4L2_MEMORY_USERPTR };

	cap_stream(c, _IOC_NR(VIDIOC_STREAMOFF));
	vg_media_ioctl(&c->g->m, c->s, _IOC_NR(VIDIOC_REQBUFS), &rb, sizeof(rb),
		       sizeof(rb));
	for (unsigned i = 0; i < NBUFS; i++)
		vg_ram_free(&c->g->ram, &c->user[i]);
	vg_media_close(&c->g->m, c->s);
}

static void run_capture(struct gdev *g)
{
	struct cap c = { .g = g };
	unsigned index = 0;
	int r = cap_setup(&c);

	TAP_CHECK(r == 0, "setup: %s", strerror(-r));
	for (unsigned i = 0; r == 0 && i < NBUFS; i++)
		r = cap_qbuf(&c, i);
	TAP_CHECK(r == 0, "qbuf: %s", strerror(-r));
	if (r == 0)
		r = cap_stream(&c, _IOC_NR(VIDIOC_STREAMON));
	for (uint32_t seq = 0; r == 0 && seq < FRAMES; seq++) {
		r = cap_frame(&c, seq, &index);
		if (r == 0 && seq + NBUFS < FRAMES)
			r = cap_qbuf(&c, index);
	}
	TAP_CHECK(r == 0, "capture: %s", strerror(-r));
	cap_teardown(&c);
}

static void test_userptr_capture(void)
{
	struct gdev g;

	TAP_EQ(guest_up(&g, 33), 0);
	run_capture(&g);
	guest_down(&g);
}

static void test_invalidate(void)
{
	struct fake_ioreq inv = { .type = XEN_IOREQ_TYPE_INVALIDATE,
				  .size = 4,
				  .count = 1,
				  .data = ~0ull };
	unsigned before, after;
	struct gdev g;

	TAP_EQ(guest_up(&g, 34), 0);
	run_capture(&g); /* leaves the USERPTR pages in the idle cache */
	before = fpages(34);
	/* Xen removed RAM from the guest's p2m: drop what is cached. */
	TAP_EQ(fake_xen_vcpu_request(34, 1, &inv, NULL, WAIT_MS), 0);
	after = fpages(34);
	TAP_CHECK(after < before, "cache not dropped: %u -> %u pages", before,
		  after);
	/* Only the rings, still in use, stay mapped... */
	TAP_CHECK(after > 0 && after <= 4, "%u pages after INVALIDATE", after);
	/* ...and the device goes on working. */
	run_capture(&g);
	guest_down(&g);
	/* The driver's reset unmapped the rings: nothing stale is kept. */
	TAP_EQ(fake_xen_vcpu_request(34, 0, &inv, NULL, WAIT_MS), 0);
	TAP_EQ(fpages(34), 0);
}

/* The domain dies inside the daemon's handling of one request. */
static void die_mid_request(unsigned domid, bool at_irq)
{
	struct fake_xen_faults f = { 0 };
	uint32_t s = 0;
	struct gdev g;
	int r;

	TAP_EQ(guest_up(&g, domid), 0);
	g.m.timeout_ms = 1000;
	if (at_irq)
		f.die_on_irq_domid = domid;
	else
		f.die_on_notify_domid = domid;
	fake_xen_set_faults(&f);
	r = vg_media_open(&g.m, &s);
	/* Dead at the completion: the guest never saw its answer. */
	TAP_CHECK(at_irq || r != 0, "OPEN answered by a dead guest's device");
	TAP_CHECK(xh_wait_servers(domid, 0, WAIT_MS), "server left");
	TAP_CHECK(xh_wait_clean(domid, WAIT_MS), "dead guest still held");
	guest_down(&g);
}

static void test_die_at_irq(void)
{
	die_mid_request(35, true);
}

static void test_die_at_completion(void)
{
	die_mid_request(36, false);
}

static void test_stop(void)
{
	xh_stop(&h);
	TAP_CHECK(xh_wait_clean(FAKE_XEN_ALL, 0), "left behind");
}

int main(void)
{
	struct xen_config cfg = { .default_backend = "vcam:unpaced" };

	fake_xen_init();
	cfg.ops = fake_xen_ops();
	if (!xh_start(&h, &cfg)) {
		printf("Bail out! the Xen transport did not start\n");
		return 1;
	}
	tap_run("guest driver probes and negotiates over ioreqs", test_probe);
	tap_run("SHM region reads as absent (~0)", test_shm_absent);
	tap_run("OPEN, G_FMT, CLOSE: foreign-mapped rings, an SPI per answer",
		test_session);
	tap_run("USERPTR capture into foreign-mapped guest pages",
		test_userptr_capture);
	tap_run("INVALIDATE mid-stream drops the map cache, device goes on",
		test_invalidate);
	tap_run("domain dies mid-request (at its interrupt)", test_die_at_irq);
	tap_run("domain dies mid-request (at its completion)",
		test_die_at_completion);
	tap_run("daemon stop leaves nothing mapped", test_stop);
	fake_xen_fini();
	return tap_done();
}
