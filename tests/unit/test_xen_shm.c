/* SPDX-License-Identifier: MIT */
/*
 * The SHM window on Xen (src/xen/shm_window.c, shm_layout.c) over the fake
 * hypervisor, which accounts guest memory as real Xen does
 * (research/shm-window-probe.md): where a window may go in an Arm guest's
 * layout; that a buffer's pages are populated at the window's base +
 * offset, zeroed, shared with the guest without a copy, scrubbed before
 * they go back, and that the guest's memory limit and page count return
 * exactly to where they were, through failures, an administrator's
 * `xl mem-max` and a guest that dies; and the fake itself where tests rely
 * on it behaving like Xen.
 */
#include <errno.h>
#include <linux/videodev2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "backends/vcam/tpg.h"
#include "fakes/fake_xen.h"
#include "fakes/fake_xen_guest.h"
#include "fakes/fake_xen_harness.h"
#include "tap.h"
#include "vg_media.h"
#include "xen/shm_window.h"

#define PG	  XEN_PAGE_SIZE
#define RAM_PAGES 1024u
#define DOM	  7u

static uint64_t gfn_of(uint64_t gpa)
{
	return gpa >> XEN_PAGE_SHIFT;
}

/* ---- (a) where a window may go ------------------------------------------ */

struct layout_case {
	const char *what;
	uint64_t base, size;
	const char *named; /* a word the message must hold; NULL = accepted */
};

static const struct layout_case layout_cases[] = {
	{ "default window", XEN_SHM_DEFAULT_BASE, XEN_SHM_DEFAULT_SIZE, NULL },
	{ "3 default windows fill the hole", XEN_SHM_DEFAULT_BASE,
	  3 * XEN_SHM_DEFAULT_SIZE, NULL },
	{ "ends right at RAM0", 0x3F000000ull, 0x1000000ull, NULL },
	{ "smallest", 0x3A000000ull, XEN_SHM_ALIGN, NULL },
	{ "past the 40-bit address space", 0x10000000000ull, 4ull << 30,
	  "40-bit" },
	{ "ends at 1 TiB", 0xFFFFFF0000ull, 0x10000ull, "RAM bank 1" },
	{ "runs into RAM0", 0x3F000000ull, 0x2000000ull, "RAM bank 0" },
	{ "4th default window is RAM0", XEN_SHM_DEFAULT_BASE,
	  4 * XEN_SHM_DEFAULT_SIZE, "RAM bank 0" },
	{ "inside RAM0", 0x40000000ull, 0x100000ull, "RAM bank 0" },
	{ "grant table", 0x38000000ull, 0x100000ull, "grant table" },
	{ "tail of grant table", 0x38FF0000ull, 0x20000ull, "grant table" },
	{ "magic pages", 0x39000000ull, 0x10000ull, "magic" },
	{ "last magic page", 0x39FF0000ull, 0x20000ull, "magic" },
	{ "virtio-mmio range", 0x2000000ull, 0x10000ull, "virtio-mmio" },
	{ "GIC distributor", 0x3000000ull, 0x10000ull, "GIC" },
	{ "GIC redistributors", 0x3100000ull, 0x10000ull, "GIC" },
	{ "RAM1", 0x800000000ull, 0x10000ull, "RAM bank 1" },
	{ "vPCI ECAM", 0x10000000ull, 0x10000ull, "ECAM" },
	{ "UART", 0x22000000ull, 0x10000ull, "UART" },
	{ "misaligned base", 0x3A001000ull, 0x10000ull, "64K" },
	{ "misaligned size", 0x3A000000ull, 0x11000ull, "64K" },
	{ "size 0", 0x3A000000ull, 0, "64K" },
	{ "size 4 GiB + 64K", 0x10000000000ull, (4ull << 30) + 0x10000ull,
	  "4G" },
	{ "base + size wraps", 0xFFFFFFFFFFFF0000ull, 0x20000ull, "64K" },
};

static void test_layout(void)
{
	for (size_t i = 0; i < sizeof(layout_cases) / sizeof(*layout_cases);
	     i++) {
		const struct layout_case *c = &layout_cases[i];
		char msg[256] = "";
		int r = xen_shm_layout_check(c->base, c->size, msg,
					     sizeof(msg));

		if (!c->named) {
			TAP_CHECK(r == 0, "%s refused: %s", c->what, msg);
			continue;
		}
		TAP_CHECK(r == -EINVAL, "%s accepted (%d)", c->what, r);
		TAP_CHECK(strstr(msg, c->named), "%s: '%s' does not name %s",
			  c->what, msg, c->named);
		TAP_CHECK(!strchr(msg, '\n'), "%s: more than one line",
			  c->what);
	}
}

/* A refused window is not created, and says why. */
static void test_create_refused(void)
{
	struct xen_shm_params p = { .ops = fake_xen_ops(),
				    .domid = DOM,
				    .base = 0x40000000ull,
				    .size = XEN_SHM_DEFAULT_SIZE };
	char msg[256] = "";

	errno = 0;
	TAP_CHECK(!xen_shm_window_create(&p, msg, sizeof(msg)),
		  "window on RAM0 created");
	TAP_EQ(errno, EINVAL);
	TAP_CHECK(strstr(msg, "RAM bank 0"), "message: %s", msg);
}

/* ---- (b) a window over the fake ----------------------------------------- */

struct rig {
	const struct xen_ops *o;
	struct xen_ctrl *xc;
	struct xen_fmem *fm;
	struct xen_shm_window *w;
	const struct shm_region *reg;
	uint64_t max0, tot0;
	unsigned domid;
};

static bool rig_up(struct rig *r, unsigned domid, uint64_t base, uint64_t size)
{
	struct xen_shm_params p = { .domid = domid,
				    .base = base,
				    .size = size };
	char msg[256] = "";

	memset(r, 0, sizeof(*r));
	r->domid = domid;
	r->o = fake_xen_ops();
	if (fake_xen_domain_create(domid, "shm", 1, RAM_PAGES))
		return false;
	r->xc = r->o->ctrl_open();
	r->fm = r->o->fmem_open();
	p.ops = r->o;
	p.ctrl = r->xc;
	p.fmem = r->fm;
	r->w = xen_shm_window_create(&p, msg, sizeof(msg));
	TAP_CHECK(r->w, "window refused: %s", msg);
	if (!r->w)
		return false;
	r->reg = xen_shm_window_region(r->w);
	fake_xen_mem_info(domid, &r->max0, &r->tot0);
	return r->reg && r->reg->base == base && r->reg->size == size;
}

static void rig_down(struct rig *r)
{
	xen_shm_window_destroy(r->w);
	if (r->fm)
		r->o->fmem_close(r->fm);
	if (r->xc)
		r->o->ctrl_close(r->xc);
	fake_xen_domain_destroy(r->domid);
}

static struct fake_xen_counts counts(unsigned domid)
{
	struct fake_xen_counts c;

	fake_xen_counts(domid, &c);
	return c;
}

/* The domain's counters are (max0 + dmax, tot0 + dtot). */
#define CHECK_MEM(r, dmax, dtot)                                        \
	do {                                                            \
		uint64_t max_, tot_;                                    \
		TAP_EQ(fake_xen_mem_info((r)->domid, &max_, &tot_), 0); \
		TAP_EQ(max_, (r)->max0 + (uint64_t)(dmax));             \
		TAP_EQ(tot_, (r)->tot0 + (uint64_t)(dtot));             \
	} while (0)

static bool all_bytes(const void *p, size_t len, uint8_t v)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < len; i++)
		if (b[i] != v)
			return false;
	return true;
}

static int win_map(struct rig *r, uint64_t off, size_t len, void **host)
{
	return r->reg->ops->map(r->reg->ctx, off, len, host);
}

static void win_unmap(struct rig *r, uint64_t off, size_t len, void *host)
{
	r->reg->ops->unmap(r->reg->ctx, off, len, host);
}

static void test_fake_basics(void)
{
	const struct xen_ops *o = fake_xen_ops();
	struct xen_ctrl *xc;
	uint64_t max, tot, g = gfn_of(XEN_SHM_DEFAULT_BASE);
	uint64_t gfns[4] = { g, g + 1, g + 2, g + 3 };
	uint64_t ram = FAKE_XEN_RAM_GFN + 3;
	struct xen_fmem *fm;
	uint8_t *p, *gp;
	int err[4];

	TAP_EQ(fake_xen_domain_create(20, "basics", 1, RAM_PAGES), 0);
	xc = o->ctrl_open();
	fm = o->fmem_open();
	TAP_EQ(o->ctrl_mem_info(xc, 20, &max, &tot), 0);
	/* libxl's slack of 256 pages. */
	TAP_EQ(max, RAM_PAGES + FAKE_XEN_SLACK_PAGES);
	TAP_EQ(tot, RAM_PAGES);
	/* Over the limit: -ENOMEM and no change at all. */
	TAP_EQ(o->ctrl_set_max_pages(xc, 20, RAM_PAGES + 3), 0);
	TAP_EQ(o->ctrl_populate(xc, 20, 4, gfns), -ENOMEM);
	TAP_CHECK(!fake_xen_populated(20, g), "partly populated");
	TAP_EQ(o->ctrl_set_max_pages(xc, 20, RAM_PAGES + 4), 0);
	/* RAM is taken; so is a frame twice. */
	TAP_EQ(o->ctrl_populate(xc, 20, 1, &ram), -EEXIST);
	TAP_EQ(o->ctrl_populate(xc, 20, 4, gfns), 0);
	TAP_EQ(o->ctrl_populate(xc, 20, 1, gfns), -EEXIST);
	TAP_EQ(o->ctrl_mem_info(xc, 20, &max, &tot), 0);
	TAP_EQ(tot, RAM_PAGES + 4);
	/* Fresh pages are not zeroed. */
	gp = fake_xen_guest_page(20, g + 2);
	TAP_CHECK(gp && all_bytes(gp, PG, FAKE_XEN_GARBAGE), "fresh page");
	TAP_CHECK(!fake_xen_guest_page(20, g + 4), "unpopulated page seen");
	/* Foreign mapping shares the guest's page. */
	p = o->fmem_map(fm, 20, PROT_READ | PROT_WRITE, 4, gfns, err);
	TAP_CHECK(p && !err[0] && !err[3], "map");
	if (!p)
		return;
	memcpy(p + 2 * PG, "dom0", 4);
	TAP_CHECK(gp && !memcmp(gp, "dom0", 4), "not shared");
	/* Released while mapped: counted until unmapped, old bytes kept. */
	TAP_EQ(o->ctrl_release(xc, 20, 2, gfns + 2), 0);
	TAP_EQ(o->ctrl_release(xc, 20, 1, gfns + 2), -EINVAL);
	TAP_CHECK(!fake_xen_guest_page(20, g + 2), "released page seen");
	TAP_EQ(o->ctrl_mem_info(xc, 20, &max, &tot), 0);
	TAP_EQ(tot, RAM_PAGES + 4);
	TAP_EQ(counts(20).zombies, 2);
	TAP_CHECK(!memcmp(p + 2 * PG, "dom0", 4), "zombie lost its bytes");
	/* A new page at the same frame is not the zombie. */
	TAP_EQ(o->ctrl_populate(xc, 20, 1, gfns + 2), -ENOMEM);
	TAP_EQ(o->fmem_unmap(fm, p, 4), 0);
	TAP_EQ(o->ctrl_mem_info(xc, 20, &max, &tot), 0);
	TAP_EQ(tot, RAM_PAGES + 2);
	TAP_EQ(counts(20).zombies, 0);
	TAP_EQ(o->ctrl_populate(xc, 20, 1, gfns + 2), 0);
	gp = fake_xen_guest_page(20, g + 2);
	TAP_CHECK(gp && gp[0] == FAKE_XEN_GARBAGE, "re-populated page");
	TAP_EQ(o->ctrl_release(xc, 20, 3, gfns), 0);
	/* Releases of non-zero pages are seen. */
	TAP_EQ(counts(20).dirty_released, 5);
	/* xl mem-max below tot_pages is allowed, as on Xen. */
	TAP_EQ(o->ctrl_set_max_pages(xc, 20, 10), 0);
	TAP_EQ(o->ctrl_mem_info(xc, 20, &max, &tot), 0);
	TAP_EQ(max, 10);
	/* A dead domain fails everything. */
	fake_xen_domain_destroy(20);
	TAP_EQ(o->ctrl_mem_info(xc, 20, &max, &tot), -ESRCH);
	TAP_EQ(o->ctrl_set_max_pages(xc, 20, 5000), -ESRCH);
	TAP_EQ(o->ctrl_populate(xc, 20, 1, gfns), -ESRCH);
	TAP_EQ(o->ctrl_release(xc, 20, 1, gfns), -ESRCH);
	o->fmem_close(fm);
	o->ctrl_close(xc);
}

/* A frame an ioreq server claims cannot be populated. */
static void test_fake_mmio_busy(void)
{
	const struct xen_ops *o = fake_xen_ops();
	struct xen_dmod *dm;
	struct xen_ctrl *xc;
	uint64_t g = gfn_of(0x2000000ull);
	uint16_t id = 0;

	TAP_EQ(fake_xen_domain_create(21, "mmio", 1, RAM_PAGES), 0);
	dm = o->dmod_open();
	xc = o->ctrl_open();
	TAP_EQ(o->dmod_create_server(dm, 21, &id), 0);
	TAP_EQ(o->dmod_map_mmio(dm, 21, id, 0x2000000ull, 0x20001ffull), 0);
	TAP_EQ(o->ctrl_populate(xc, 21, 1, &g), -EBUSY);
	TAP_EQ(o->dmod_destroy_server(dm, 21, id), 0);
	TAP_EQ(o->ctrl_populate(xc, 21, 1, &g), 0);
	TAP_EQ(o->ctrl_release(xc, 21, 1, &g), 0);
	o->ctrl_close(xc);
	o->dmod_close(dm);
	fake_xen_domain_destroy(21);
}

/* Checked by the fake as each page goes back: the guest sees zeros. */
static unsigned release_seen, release_dirty;

static void on_release(void *ctx, unsigned domid, uint64_t gfn,
		       const void *page)
{
	(void)ctx;
	(void)domid;
	(void)gfn;
	release_seen++;
	release_dirty += !all_bytes(page, PG, 0);
}

static void test_map_unmap(void)
{
	const uint64_t off = 0x30000, len = 0x20000, n = len / PG;
	struct fake_xen_counts c0, c;
	uint64_t g0 = gfn_of(XEN_SHM_DEFAULT_BASE + off);
	uint8_t *host = NULL, *gp;
	struct rig r;
	int ret;

	TAP_CHECK(rig_up(&r, DOM, XEN_SHM_DEFAULT_BASE, XEN_SHM_DEFAULT_SIZE),
		  "rig");
	c0 = counts(DOM);
	ret = win_map(&r, off, len, (void **)&host);
	TAP_EQ(ret, 0);
	if (ret)
		goto out;
	c = counts(DOM);
	/* Exactly the buffer's pages, at base + offset, in one call. */
	TAP_EQ(c.populates - c0.populates, 1);
	TAP_EQ(c.pages_populated - c0.pages_populated, n);
	TAP_EQ(c.populated, n);
	for (uint64_t i = 0; i < n; i++)
		TAP_CHECK(fake_xen_populated(DOM, g0 + i), "page %llu",
			  (unsigned long long)i);
	TAP_CHECK(!fake_xen_populated(DOM, g0 - 1), "page before");
	TAP_CHECK(!fake_xen_populated(DOM, g0 + n), "page after");
	TAP_EQ(xen_shm_window_pages(r.w), n);
	/* The limit went up by exactly those pages, and so did the count. */
	CHECK_MEM(&r, n, n);
	/* Zeroed, though the fake's fresh pages are 0xA5. */
	TAP_CHECK(all_bytes(host, len, 0), "fresh pages reach the guest");
	TAP_CHECK(fake_xen_map_prot(host) == (PROT_READ | PROT_WRITE),
		  "mapped %d", fake_xen_map_prot(host));
	/* Zero copy, both ways. */
	for (uint64_t i = 0; i < n; i++)
		memset(host + i * PG, (int)(0x10 + i), PG);
	for (uint64_t i = 0; i < n; i++) {
		gp = fake_xen_guest_page(DOM, g0 + i);
		TAP_CHECK(gp && all_bytes(gp, PG, (uint8_t)(0x10 + i)),
			  "guest page %llu", (unsigned long long)i);
	}
	gp = fake_xen_guest_page(DOM, g0 + n - 1);
	if (gp)
		memcpy(gp + 100, "guest", 5);
	TAP_CHECK(!memcmp(host + len - PG + 100, "guest", 5), "guest write");
	/* Unmap: scrubbed while the guest could still see it, released. */
	release_seen = release_dirty = 0;
	fake_xen_on_release(on_release, NULL);
	win_unmap(&r, off, len, host);
	fake_xen_on_release(NULL, NULL);
	TAP_EQ(release_seen, n);
	TAP_EQ(release_dirty, 0);
	c = counts(DOM);
	TAP_EQ(c.dirty_released - c0.dirty_released, 0);
	TAP_EQ(c.releases - c0.releases, 1);
	TAP_EQ(c.populated, 0);
	TAP_EQ(c.zombies, 0);
	TAP_EQ(c.fmem_pages, 0);
	TAP_EQ(xen_shm_window_pages(r.w), 0);
	TAP_CHECK(!fake_xen_guest_page(DOM, g0), "released page still seen");
	CHECK_MEM(&r, 0, 0);
out:
	rig_down(&r);
}

/* The probe's 20 cycles: both counters end where they started. */
static void test_cycles(void)
{
	struct rig r;
	int bad = 0;

	TAP_CHECK(
		rig_up(&r, DOM + 1, XEN_SHM_DEFAULT_BASE, XEN_SHM_DEFAULT_SIZE),
		"rig");
	for (unsigned i = 0; i < 20; i++) {
		uint64_t off = (uint64_t)(i % 5) * 0x40000;
		size_t len = (size_t)(1 + i % 3) * 0x10000;
		uint8_t *a = NULL, *b = NULL;

		bad += win_map(&r, off, len, (void **)&a) != 0;
		bad += win_map(&r, 0x1000000 + off, 0x10000, (void **)&b) != 0;
		if (a && b) {
			bad += !all_bytes(a, len, 0) ||
			       !all_bytes(b, 0x10000, 0);
			memset(a, 0x77, len);
			memset(b, 0x66, 0x10000);
			win_unmap(&r, 0x1000000 + off, 0x10000, b);
			win_unmap(&r, off, len, a);
		}
	}
	TAP_EQ(bad, 0);
	CHECK_MEM(&r, 0, 0);
	TAP_EQ(counts(DOM + 1).populated, 0);
	TAP_EQ(counts(DOM + 1).dirty_released, 0);
	TAP_EQ(counts(DOM + 1).fmem_pages, 0);
	rig_down(&r);
}

/* Every failure on the way in leaves nothing behind. */
static void test_rollback(void)
{
	struct fake_xen_faults f = { 0 };
	const uint64_t len = 0x40000;
	struct fake_xen_counts c;
	void *host = NULL;
	struct rig r;

	TAP_CHECK(
		rig_up(&r, DOM + 2, XEN_SHM_DEFAULT_BASE, XEN_SHM_DEFAULT_SIZE),
		"rig");
	/* populate fails (the host is out of memory). */
	f.populate = ENOMEM;
	fake_xen_set_faults(&f);
	TAP_EQ(win_map(&r, 0, len, &host), -ENOMEM);
	CHECK_MEM(&r, 0, 0);
	c = counts(DOM + 2);
	TAP_EQ(c.populated, 0);
	TAP_EQ(c.fmem_pages, 0);
	TAP_EQ(xen_shm_window_pages(r.w), 0);
	/* Mapping the fresh pages fails (err[] per page). */
	f.populate = 0;
	f.map_populated = EFAULT;
	fake_xen_set_faults(&f);
	TAP_EQ(win_map(&r, 0, len, &host), -EFAULT);
	CHECK_MEM(&r, 0, 0);
	c = counts(DOM + 2);
	TAP_EQ(c.populated, 0);
	TAP_EQ(c.fmem_pages, 0);
	/*
	 * Pages that could not be mapped cannot be scrubbed: they go back
	 * holding what Xen handed out (and whatever the guest wrote).
	 */
	TAP_EQ(c.dirty_released, len / PG);
	/* Raising the limit fails: nothing populated. */
	f.map_populated = 0;
	f.set_max_pages = EPERM;
	fake_xen_set_faults(&f);
	TAP_EQ(win_map(&r, 0, len, &host), -EPERM);
	f.set_max_pages = 0;
	fake_xen_set_faults(&f);
	CHECK_MEM(&r, 0, 0);
	TAP_EQ(counts(DOM + 2).populated, 0);
	/* Outside the window: refused before anything happens. */
	TAP_CHECK(win_map(&r, XEN_SHM_DEFAULT_SIZE - 0x10000, 0x20000, &host) <
			  0,
		  "range past the window's end accepted");
	CHECK_MEM(&r, 0, 0);
	/* And it still works afterwards. */
	TAP_EQ(win_map(&r, 0, len, &host), 0);
	CHECK_MEM(&r, len / PG, len / PG);
	win_unmap(&r, 0, len, host);
	CHECK_MEM(&r, 0, 0);
	rig_down(&r);
}

/* A guest already over its limit (xl mem-max below tot): -ENOMEM, limit
 * back where the administrator put it. */
static void test_over_limit(void)
{
	void *host = NULL;
	struct rig r;

	TAP_CHECK(
		rig_up(&r, DOM + 3, XEN_SHM_DEFAULT_BASE, XEN_SHM_DEFAULT_SIZE),
		"rig");
	TAP_EQ(fake_xen_set_max_pages(DOM + 3, r.tot0 - 10), 0);
	TAP_EQ(win_map(&r, 0, 0x10000, &host), -ENOMEM);
	CHECK_MEM(&r, (int64_t)(r.tot0 - 10) - (int64_t)r.max0, 0);
	TAP_EQ(counts(DOM + 3).populated, 0);
	rig_down(&r);
}

/* An administrator's `xl mem-max` between map and unmap is kept. */
static void test_concurrent_mem_max(void)
{
	const uint64_t len = 0x20000, n = len / PG;
	void *a = NULL, *b = NULL;
	struct rig r;

	TAP_CHECK(
		rig_up(&r, DOM + 4, XEN_SHM_DEFAULT_BASE, XEN_SHM_DEFAULT_SIZE),
		"rig");
	TAP_EQ(win_map(&r, 0, len, &a), 0);
	CHECK_MEM(&r, n, n);
	TAP_EQ(fake_xen_set_max_pages(DOM + 4, r.max0 + n + 1000), 0);
	TAP_EQ(win_map(&r, len, len, &b), 0);
	CHECK_MEM(&r, 1000 + 2 * n, 2 * n);
	win_unmap(&r, 0, len, a);
	CHECK_MEM(&r, 1000 + n, n);
	/* ... and lowered again. */
	TAP_EQ(fake_xen_set_max_pages(DOM + 4, r.max0 + n - 100), 0);
	win_unmap(&r, len, len, b);
	CHECK_MEM(&r, -100, 0);
	TAP_EQ(counts(DOM + 4).populated, 0);
	rig_down(&r);
}

/* Two devices' windows in one guest each add and take their own pages. */
static void test_two_windows(void)
{
	struct xen_shm_params p = { 0 };
	struct xen_shm_window *w2;
	const struct shm_region *reg2;
	void *a = NULL, *b = NULL;
	char msg[256] = "";
	struct rig r;

	TAP_CHECK(
		rig_up(&r, DOM + 5, XEN_SHM_DEFAULT_BASE, XEN_SHM_DEFAULT_SIZE),
		"rig");
	p = (struct xen_shm_params){ .ops = r.o,
				     .ctrl = r.xc,
				     .fmem = r.fm,
				     .domid = DOM + 5,
				     .base = XEN_SHM_DEFAULT_BASE +
					     XEN_SHM_DEFAULT_SIZE,
				     .size = XEN_SHM_DEFAULT_SIZE };
	w2 = xen_shm_window_create(&p, msg, sizeof(msg));
	TAP_CHECK(w2, "second window: %s", msg);
	if (!w2) {
		rig_down(&r);
		return;
	}
	reg2 = xen_shm_window_region(w2);
	TAP_EQ(win_map(&r, 0, 0x10000, &a), 0);
	TAP_EQ(reg2->ops->map(reg2->ctx, 0, 0x30000, &b), 0);
	TAP_CHECK(fake_xen_populated(DOM + 5, gfn_of(p.base)),
		  "second window's page 0");
	CHECK_MEM(&r, 64, 64);
	win_unmap(&r, 0, 0x10000, a);
	CHECK_MEM(&r, 48, 48);
	reg2->ops->unmap(reg2->ctx, 0, 0x30000, b);
	CHECK_MEM(&r, 0, 0);
	xen_shm_window_destroy(w2);
	rig_down(&r);
}

/* Destroy with buffers still there gives them all back. */
static void test_destroy_populated(void)
{
	void *a = NULL, *b = NULL;
	struct fake_xen_counts c;
	struct rig r;

	TAP_CHECK(
		rig_up(&r, DOM + 6, XEN_SHM_DEFAULT_BASE, XEN_SHM_DEFAULT_SIZE),
		"rig");
	TAP_EQ(win_map(&r, 0, 0x10000, &a), 0);
	TAP_EQ(win_map(&r, 0x100000, 0x50000, &b), 0);
	if (a && b) {
		memset(a, 1, 0x10000);
		memset(b, 2, 0x50000);
	}
	CHECK_MEM(&r, 96, 96);
	xen_shm_window_destroy(r.w);
	r.w = NULL;
	c = counts(DOM + 6);
	TAP_EQ(c.populated, 0);
	TAP_EQ(c.fmem_pages, 0);
	TAP_EQ(c.zombies, 0);
	TAP_EQ(c.dirty_released, 0);
	CHECK_MEM(&r, 0, 0);
	rig_down(&r);
}

/* The guest dies with buffers populated: unmap and destroy still clean up
 * what is ours (the mappings) and do not fail on the rest. */
static void test_dead_guest(void)
{
	void *a = NULL, *b = NULL;
	struct rig r;

	TAP_CHECK(
		rig_up(&r, DOM + 7, XEN_SHM_DEFAULT_BASE, XEN_SHM_DEFAULT_SIZE),
		"rig");
	TAP_EQ(win_map(&r, 0, 0x10000, &a), 0);
	TAP_EQ(win_map(&r, 0x10000, 0x10000, &b), 0);
	fake_xen_domain_destroy(DOM + 7);
	TAP_CHECK(win_map(&r, 0x20000, 0x10000, &a) < 0 || !a,
		  "map on a dead guest");
	win_unmap(&r, 0x10000, 0x10000, b);
	xen_shm_window_destroy(r.w);
	r.w = NULL;
	TAP_EQ(counts(DOM + 7).fmem_pages, 0);
	rig_down(&r);
}

/* ---- (c) end to end: the daemon's Xen layer and the guest driver -------- */

#define E2E_RAM_PAGES 8192u /* 32 MiB */
#define WIDTH	      320u
#define HEIGHT	      240u
#define NBUFS	      3u
#define FRAMES	      8u
#define WAIT_MS	      5000
/* Device 3's window, base + 3 * 32 MiB, is guest RAM0: refused. */
#define BAD_DEVID 3u

static struct xh h;

struct gdev {
	unsigned domid, devid;
	struct vg_transport *t;
	struct vg_ram ram;
	struct vg_media m;
	bool ram_up, media_up;
	uint64_t max0, tot0; /* before the device was served */
};

static int guest_up(struct gdev *g, unsigned domid, unsigned devid)
{
	uint64_t base = XH_BASE(devid);
	unsigned irq = XH_IRQ(devid);
	int r;

	memset(g, 0, sizeof(*g));
	g->domid = domid;
	g->devid = devid;
	r = fake_xen_domain_create(domid, "shm-e2e", 2, E2E_RAM_PAGES);
	if (r)
		return r;
	fake_xen_mem_info(domid, &g->max0, &g->tot0);
	xh_add_device(domid, devid, base, irq, false);
	if (!xh_wait_state(domid, devid, "4", WAIT_MS))
		return -ETIMEDOUT;
	r = fake_xen_guest_open(domid, E2E_RAM_PAGES, &base, &irq, 1, &g->t);
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
	g->t = NULL;
	g->media_up = g->ram_up = false;
}

#define CHECK_DOM_MEM(g, dmax, dtot)                                    \
	do {                                                            \
		uint64_t max_, tot_;                                    \
		TAP_EQ(fake_xen_mem_info((g)->domid, &max_, &tot_), 0); \
		TAP_EQ(max_, (g)->max0 + (uint64_t)(dmax));             \
		TAP_EQ(tot_, (g)->tot0 + (uint64_t)(dtot));             \
	} while (0)

struct mcap {
	struct gdev *g;
	uint32_t s;
	uint32_t length;
	struct tpg_format fmt;
	uint64_t shm_addr[NBUFS];
	uint8_t *frame[NBUFS]; /* the guest's view of each buffer */
	uint8_t *proc[NBUFS];  /* a guest process's mapping (shm_fd) */
	size_t proc_len;
};

static int mcap_setup(struct mcap *c)
{
	struct v4l2_format f = { .type = V4L2_BUF_TYPE_VIDEO_CAPTURE };
	struct v4l2_requestbuffers rb = { .count = NBUFS,
					  .type = V4L2_BUF_TYPE_VIDEO_CAPTURE,
					  .memory = V4L2_MEMORY_MMAP };
	struct vg_device *d = &c->g->t->dev[0];
	int r;

	f.fmt.pix.width = WIDTH;
	f.fmt.pix.height = HEIGHT;
	f.fmt.pix.pixelformat = V4L2_PIX_FMT_YUYV;
	r = vg_media_open(&c->g->m, &c->s);
	if (r == 0)
		r = vg_media_ioctl(&c->g->m, c->s, _IOC_NR(VIDIOC_S_FMT), &f,
				   sizeof(f), sizeof(f));
	c->length = f.fmt.pix.sizeimage;
	c->proc_len = (c->length + PG - 1) & ~(size_t)(PG - 1);
	if (r == 0)
		r = tpg_format_init(&c->fmt, V4L2_PIX_FMT_YUYV, WIDTH, HEIGHT);
	if (r == 0)
		r = vg_media_ioctl(&c->g->m, c->s, _IOC_NR(VIDIOC_REQBUFS), &rb,
				   sizeof(rb), sizeof(rb));
	if (r == 0 && rb.count != NBUFS)
		r = -ENOBUFS;
	for (unsigned i = 0; r == 0 && i < NBUFS; i++) {
		struct v4l2_buffer b = { .index = i,
					 .type = V4L2_BUF_TYPE_VIDEO_CAPTURE,
					 .memory = V4L2_MEMORY_MMAP };
		struct v4l2_plane p[VIDEO_MAX_PLANES] = { 0 };
		uint64_t len = 0;
		void *pm;

		r = vg_media_ioctl_buffer(
			&c->g->m, c->s, _IOC_NR(VIDIOC_QUERYBUF), &b, p, NULL);
		if (r == 0)
			r = vg_media_mmap(&c->g->m, c->s,
					  VIRTIO_MEDIA_MMAP_FLAG_RW, b.m.offset,
					  &c->shm_addr[i], &len);
		if (r)
			break;
		c->frame[i] =
			vg_media_shm_ptr(&c->g->m, c->shm_addr[i], c->length);
		/* As the guest core maps it into a process: shm_fd. */
		pm = mmap(NULL, c->proc_len, PROT_READ, MAP_SHARED, d->shm_fd,
			  (off_t)(d->shm_fd_offset + c->shm_addr[i]));
		c->proc[i] = pm == MAP_FAILED ? NULL : pm;
		if (!c->frame[i] || !c->proc[i])
			r = -EIO;
	}
	return r;
}

static int mcap_qbuf(struct mcap *c, unsigned i)
{
	struct v4l2_buffer b = { .index = i,
				 .type = V4L2_BUF_TYPE_VIDEO_CAPTURE,
				 .memory = V4L2_MEMORY_MMAP };
	struct v4l2_plane p[VIDEO_MAX_PLANES] = { 0 };

	return vg_media_ioctl_buffer(&c->g->m, c->s, _IOC_NR(VIDIOC_QBUF), &b,
				     p, NULL);
}

static int stamp_of(struct mcap *c, uint8_t *buf, uint32_t *seq)
{
	void *planes[3];
	size_t sizes[3];
	uint64_t ts;

	tpg_split_buffer(&c->fmt, buf, planes, sizes);
	return tpg_read_stamp(&c->fmt, planes, seq, &ts);
}

static int mcap_frame(struct mcap *c, uint32_t want, unsigned *index)
{
	struct vg_media_event ev;
	uint32_t seq = ~0u;
	int r = vg_media_next_event(&c->g->m, WAIT_MS, &ev);

	if (r != 1)
		return r < 0 ? r : -ETIMEDOUT;
	TAP_EQ(ev.u.hdr.event, VIRTIO_MEDIA_EVT_DQBUF);
	TAP_EQ(ev.u.dqbuf.b.sequence, want);
	if (ev.u.dqbuf.b.index >= NBUFS)
		return -EIO;
	*index = ev.u.dqbuf.b.index;
	/* The camera drew straight into the window's pages. */
	TAP_EQ(stamp_of(c, c->frame[*index], &seq), 0);
	TAP_EQ(seq, want);
	seq = ~0u;
	TAP_EQ(stamp_of(c, c->proc[*index], &seq), 0);
	TAP_EQ(seq, want);
	return 0;
}

static int mcap_stream(struct mcap *c, uint32_t code)
{
	uint32_t type = V4L2_BUF_TYPE_VIDEO_CAPTURE;

	return vg_media_ioctl(&c->g->m, c->s, code, &type, sizeof(type), 0);
}

/* Pages of one buffer as the device allocates it (64 KiB aligned). */
static uint64_t buf_pages(uint32_t length)
{
	return ((length + 0xffffull) & ~0xffffull) / PG;
}

/* Count the populated pages of the device's window. */
static uint64_t window_populated(unsigned domid, unsigned devid)
{
	uint64_t g0 =
		gfn_of(XEN_SHM_DEFAULT_BASE + devid * XEN_SHM_DEFAULT_SIZE);
	uint64_t n = 0;

	for (uint64_t i = 0; i < XEN_SHM_DEFAULT_SIZE / PG; i++)
		n += fake_xen_populated(domid, g0 + i);
	return n;
}

static void test_e2e_mmap(void)
{
	struct v4l2_requestbuffers rb0 = { .count = 0,
					   .type = V4L2_BUF_TYPE_VIDEO_CAPTURE,
					   .memory = V4L2_MEMORY_MMAP };
	uint64_t lo = 0, hi = 0, n = 0, len = 0, base = 0;
	struct mcap c = { 0 };
	unsigned index = 0;
	struct gdev g;
	int r = guest_up(&g, 40, 0);

	TAP_CHECK(r == 0, "guest up: %s", strerror(-r));
	if (r)
		goto out;
	/* SHM region 0 is the window. */
	TAP_EQ(fake_xen_mmio_write(40, XH_BASE(0) + 0xac, 4, 0), 0);
	TAP_EQ(fake_xen_mmio_read(40, XH_BASE(0) + 0xb0, 4, &lo), 0);
	TAP_EQ(fake_xen_mmio_read(40, XH_BASE(0) + 0xb4, 4, &hi), 0);
	len = hi << 32 | lo;
	TAP_EQ(fake_xen_mmio_read(40, XH_BASE(0) + 0xb8, 4, &lo), 0);
	TAP_EQ(fake_xen_mmio_read(40, XH_BASE(0) + 0xbc, 4, &hi), 0);
	base = hi << 32 | lo;
	TAP_EQ(len, XEN_SHM_DEFAULT_SIZE);
	TAP_EQ(base, XEN_SHM_DEFAULT_BASE);
	TAP_EQ(g.m.shm_len, XEN_SHM_DEFAULT_SIZE);
	TAP_CHECK(g.m.shm_host, "guest driver has no SHM view");
	/* Nothing populated before a buffer exists. */
	TAP_EQ(counts(40).populated, 0);
	CHECK_DOM_MEM(&g, 0, 0);

	c.g = &g;
	r = mcap_setup(&c);
	TAP_CHECK(r == 0, "MMAP setup: %s", strerror(-r));
	if (r)
		goto close;
	n = NBUFS * buf_pages(c.length);
	/* Exactly the buffers' pages are in the guest, and counted. */
	TAP_EQ(window_populated(40, 0), n);
	TAP_EQ(counts(40).populated, n);
	CHECK_DOM_MEM(&g, n, n);
	/* Zeroed before the guest could map them. */
	for (unsigned i = 0; i < NBUFS; i++)
		TAP_CHECK(all_bytes(c.frame[i], c.length, 0),
			  "buffer %u not zeroed", i);
	for (unsigned i = 0; r == 0 && i < NBUFS; i++)
		r = mcap_qbuf(&c, i);
	TAP_CHECK(r == 0, "qbuf: %s", strerror(-r));
	if (r == 0)
		r = mcap_stream(&c, _IOC_NR(VIDIOC_STREAMON));
	for (uint32_t seq = 0; r == 0 && seq < FRAMES; seq++) {
		r = mcap_frame(&c, seq, &index);
		if (r == 0 && seq + NBUFS < FRAMES)
			r = mcap_qbuf(&c, index);
	}
	TAP_CHECK(r == 0, "capture: %s", strerror(-r));
	/* Zero copy: the buffers were never mapped twice by the daemon. */
	TAP_EQ(counts(40).pages_populated, n);
	mcap_stream(&c, _IOC_NR(VIDIOC_STREAMOFF));
	TAP_EQ(vg_media_ioctl(&g.m, c.s, _IOC_NR(VIDIOC_REQBUFS), &rb0,
			      sizeof(rb0), sizeof(rb0)),
	       0);
	TAP_EQ(vg_media_close(&g.m, c.s), 0);
	/* The guest still maps them: they must stay. */
	TAP_EQ(counts(40).populated, n);
	CHECK_DOM_MEM(&g, n, n);
	for (unsigned i = 0; i < NBUFS; i++) {
		if (c.proc[i])
			munmap(c.proc[i], c.proc_len);
		TAP_EQ(vg_media_munmap(&g.m, c.shm_addr[i]), 0);
		TAP_EQ(counts(40).populated, n - (i + 1) * buf_pages(c.length));
	}
	/* All back: limit, count, mappings; scrubbed before release. */
	CHECK_DOM_MEM(&g, 0, 0);
	TAP_EQ(counts(40).dirty_released, 0);
	TAP_EQ(counts(40).zombies, 0);
	TAP_EQ(window_populated(40, 0), 0);
	goto down;
close:
	vg_media_close(&g.m, c.s);
down:
	guest_down(&g);
	TAP_EQ(counts(40).populated, 0);
	CHECK_DOM_MEM(&g, 0, 0);
out:
	TAP_CHECK(xh_remove_device(40, 0) >= 0, "device removal");
	TAP_CHECK(xh_wait_clean(40, WAIT_MS), "left behind");
	fake_xen_domain_destroy(40);
}

/* A driver reset with buffers mapped: the guest's mappings went with it. */
static void test_e2e_reset(void)
{
	struct mcap c = { 0 };
	struct gdev g;
	int r = guest_up(&g, 41, 0);

	TAP_CHECK(r == 0, "guest up: %s", strerror(-r));
	c.g = &g;
	if (r == 0)
		r = mcap_setup(&c);
	TAP_CHECK(r == 0, "MMAP setup: %s", strerror(-r));
	TAP_CHECK(counts(41).populated > 0, "nothing populated");
	for (unsigned i = 0; i < NBUFS; i++)
		if (c.proc[i])
			munmap(c.proc[i], c.proc_len);
	guest_down(&g); /* resets the device without MUNMAP */
	TAP_EQ(counts(41).populated, 0);
	TAP_EQ(counts(41).dirty_released, 0);
	CHECK_DOM_MEM(&g, 0, 0);
	TAP_CHECK(xh_remove_device(41, 0) >= 0, "device removal");
	TAP_CHECK(xh_wait_clean(41, WAIT_MS), "left behind");
	fake_xen_domain_destroy(41);
}

/* The guest dies with MMAP buffers mapped: nothing of it is kept. */
static void test_e2e_dies(void)
{
	struct mcap c = { 0 };
	struct gdev g;
	int r = guest_up(&g, 42, 0);

	TAP_CHECK(r == 0, "guest up: %s", strerror(-r));
	c.g = &g;
	if (r == 0)
		r = mcap_setup(&c);
	TAP_CHECK(r == 0, "MMAP setup: %s", strerror(-r));
	for (unsigned i = 0; i < NBUFS; i++)
		if (c.proc[i])
			munmap(c.proc[i], c.proc_len);
	fake_xen_domain_destroy(42);
	TAP_CHECK(xh_wait_servers(42, 0, WAIT_MS), "server left");
	TAP_CHECK(xh_wait_clean(42, WAIT_MS), "dead guest still held");
	TAP_EQ(counts(42).zombies, 0);
	guest_down(&g);
}

/* A USERPTR capture of FRAMES frames into guest RAM. */
static void run_userptr(struct gdev *g)
{
	struct v4l2_format f = { .type = V4L2_BUF_TYPE_VIDEO_CAPTURE };
	struct v4l2_requestbuffers rb = { .count = NBUFS,
					  .type = V4L2_BUF_TYPE_VIDEO_CAPTURE,
					  .memory = V4L2_MEMORY_USERPTR };
	struct tpg_format fmt;
	struct vg_mem user[NBUFS] = { 0 };
	uint32_t s = 0, length = 0;
	int r;

	f.fmt.pix.width = WIDTH;
	f.fmt.pix.height = HEIGHT;
	f.fmt.pix.pixelformat = V4L2_PIX_FMT_YUYV;
	r = vg_media_open(&g->m, &s);
	if (r == 0)
		r = vg_media_ioctl(&g->m, s, _IOC_NR(VIDIOC_S_FMT), &f,
				   sizeof(f), sizeof(f));
	length = f.fmt.pix.sizeimage;
	if (r == 0)
		r = tpg_format_init(&fmt, V4L2_PIX_FMT_YUYV, WIDTH, HEIGHT);
	if (r == 0)
		r = vg_media_ioctl(&g->m, s, _IOC_NR(VIDIOC_REQBUFS), &rb,
				   sizeof(rb), sizeof(rb));
	for (unsigned i = 0; r == 0 && i < NBUFS; i++)
		r = vg_ram_alloc(&g->ram, length, &user[i]);
	for (unsigned i = 0; r == 0 && i < NBUFS; i++) {
		struct v4l2_buffer b = { .index = i,
					 .type = V4L2_BUF_TYPE_VIDEO_CAPTURE,
					 .memory = V4L2_MEMORY_USERPTR,
					 .length = length };
		struct v4l2_plane p[VIDEO_MAX_PLANES] = { 0 };
		struct vg_media_sg sg = { .mem = &user[i],
					  .len = length,
					  .seg = 4096 };

		b.m.userptr = (unsigned long)user[i].gpa;
		r = vg_media_ioctl_buffer(&g->m, s, _IOC_NR(VIDIOC_QBUF), &b, p,
					  &sg);
	}
	TAP_CHECK(r == 0, "USERPTR setup: %s", strerror(-r));
	if (r == 0) {
		uint32_t type = V4L2_BUF_TYPE_VIDEO_CAPTURE;

		r = vg_media_ioctl(&g->m, s, _IOC_NR(VIDIOC_STREAMON), &type,
				   sizeof(type), 0);
	}
	for (uint32_t want = 0; r == 0 && want < NBUFS; want++) {
		struct vg_media_event ev;
		void *planes[3];
		size_t sizes[3];
		uint32_t seq = ~0u;
		uint64_t ts;

		r = vg_media_next_event(&g->m, WAIT_MS, &ev);
		r = r == 1 ? 0 : (r < 0 ? r : -ETIMEDOUT);
		if (r || ev.u.hdr.event != VIRTIO_MEDIA_EVT_DQBUF ||
		    ev.u.dqbuf.b.index >= NBUFS) {
			r = r ? r : -EIO;
			break;
		}
		tpg_split_buffer(&fmt, user[ev.u.dqbuf.b.index].host, planes,
				 sizes);
		TAP_EQ(tpg_read_stamp(&fmt, planes, &seq, &ts), 0);
		TAP_EQ(seq, want);
	}
	TAP_CHECK(r == 0, "USERPTR capture: %s", strerror(-r));
	rb.count = 0;
	{
		uint32_t type = V4L2_BUF_TYPE_VIDEO_CAPTURE;

		vg_media_ioctl(&g->m, s, _IOC_NR(VIDIOC_STREAMOFF), &type,
			       sizeof(type), 0);
	}
	vg_media_ioctl(&g->m, s, _IOC_NR(VIDIOC_REQBUFS), &rb, sizeof(rb),
		       sizeof(rb));
	for (unsigned i = 0; i < NBUFS; i++)
		vg_ram_free(&g->ram, &user[i]);
	vg_media_close(&g->m, s);
}

/* Device 3's window would be guest RAM: refused, USERPTR still works. */
static void test_e2e_refused(void)
{
	struct v4l2_requestbuffers rb = { .count = 2,
					  .type = V4L2_BUF_TYPE_VIDEO_CAPTURE,
					  .memory = V4L2_MEMORY_MMAP };
	uint64_t lo = 0, hi = 0, addr = 0, len = 0;
	uint32_t s = 0;
	struct gdev g;
	char *log;
	int r;

	xh_log_begin();
	r = guest_up(&g, 43, BAD_DEVID);
	log = xh_log_end();
	TAP_CHECK(r == 0, "guest up: %s", strerror(-r));
	TAP_EQ(xh_count(log, "no MMAP buffers"), 1);
	TAP_CHECK(strstr(log, "RAM bank 0"), "log does not say why: %s", log);
	free(log);
	TAP_EQ(fake_xen_mmio_write(43, XH_BASE(BAD_DEVID) + 0xac, 4, 0), 0);
	TAP_EQ(fake_xen_mmio_read(43, XH_BASE(BAD_DEVID) + 0xb0, 4, &lo), 0);
	TAP_EQ(fake_xen_mmio_read(43, XH_BASE(BAD_DEVID) + 0xb4, 4, &hi), 0);
	TAP_EQ(lo, 0xffffffff);
	TAP_EQ(hi, 0xffffffff);
	TAP_CHECK(!g.t || !g.t->dev[0].shm_host, "guest got a window");
	if (r == 0) {
		TAP_EQ(vg_media_open(&g.m, &s), 0);
		r = vg_media_ioctl(&g.m, s, _IOC_NR(VIDIOC_REQBUFS), &rb,
				   sizeof(rb), sizeof(rb));
		TAP_CHECK(r < 0, "REQBUFS(MMAP) answered %d", r);
		TAP_EQ(vg_media_mmap(&g.m, s, VIRTIO_MEDIA_MMAP_FLAG_RW, 0,
				     &addr, &len),
		       -ENOTTY);
		TAP_EQ(vg_media_close(&g.m, s), 0);
		run_userptr(&g);
	}
	TAP_EQ(counts(43).populates, 0);
	TAP_EQ(counts(43).set_max_calls, 0);
	CHECK_DOM_MEM(&g, 0, 0);
	guest_down(&g);
	TAP_CHECK(xh_remove_device(43, BAD_DEVID) >= 0, "device removal");
	TAP_CHECK(xh_wait_clean(43, WAIT_MS), "left behind");
	fake_xen_domain_destroy(43);
}

static void test_e2e_stop(void)
{
	xh_stop(&h);
	TAP_CHECK(xh_wait_clean(FAKE_XEN_ALL, 0), "left behind");
	TAP_EQ(counts(FAKE_XEN_ALL).populated, 0);
	TAP_EQ(counts(FAKE_XEN_ALL).zombies, 0);
	TAP_EQ(counts(FAKE_XEN_ALL).ctrl_handles, 0);
}

int main(void)
{
	struct xen_config cfg = { .default_backend = "vcam:unpaced",
				  .shm_base = XEN_SHM_DEFAULT_BASE,
				  .shm_size = XEN_SHM_DEFAULT_SIZE };

	fake_xen_init();
	tap_run("layout: default accepted, overlaps and bad sizes refused "
		"naming the range",
		test_layout);
	tap_run("window on guest RAM is not created", test_create_refused);
	tap_run("fake: limit, -ENOMEM/-EEXIST, garbage, release under a "
		"mapping, -ESRCH",
		test_fake_basics);
	tap_run("fake: frames an ioreq server claims are -EBUSY",
		test_fake_mmio_busy);
	tap_run("map populates the buffer's pages, zeroed, zero copy; unmap "
		"scrubs, releases, restores the limit",
		test_map_unmap);
	tap_run("20 map/unmap cycles leave max_pages and tot_pages unchanged",
		test_cycles);
	tap_run("populate/map/limit failures roll back", test_rollback);
	tap_run("guest over its limit: -ENOMEM, limit kept", test_over_limit);
	tap_run("xl mem-max between map and unmap is respected",
		test_concurrent_mem_max);
	tap_run("two windows in one guest", test_two_windows);
	tap_run("destroy with buffers populated releases them",
		test_destroy_populated);
	tap_run("guest dies with buffers populated", test_dead_guest);

	cfg.ops = fake_xen_ops();
	if (!xh_start(&h, &cfg)) {
		printf("Bail out! the Xen transport did not start\n");
		return 1;
	}
	tap_run("e2e: MMAP capture from vcam into the window, frames checked "
		"in the guest; REQBUFS(0)/close keep, MUNMAP releases; "
		"counters back",
		test_e2e_mmap);
	tap_run("e2e: driver reset with MMAP buffers mapped releases them",
		test_e2e_reset);
	tap_run("e2e: guest dies with MMAP buffers mapped", test_e2e_dies);
	tap_run("e2e: window on guest RAM refused with one line; SHM_LEN ~0, "
		"MMAP ENOTTY, USERPTR works",
		test_e2e_refused);
	tap_run("e2e: daemon stop leaves nothing", test_e2e_stop);
	fake_xen_fini();
	return tap_done();
}
