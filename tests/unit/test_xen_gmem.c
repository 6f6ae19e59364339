/* SPDX-License-Identifier: MIT */
/*
 * Guest memory over the fake Xen: foreign mappings and their bounded LRU
 * cache, INVALIDATE, grant addresses and read-only grant mappings.
 */
#include <errno.h>
#include <linux/virtio_ring.h>
#include <string.h>
#include <sys/mman.h>

#include "fakes/fake_xen.h"
#include "tap.h"
#include "vmedia/virtqueue.h"
#include "xen/gmem_xen.h"

#define DOM   3u
#define PAGES 64u
#define RAM   (FAKE_XEN_RAM_GFN * XEN_PAGE_SIZE)

struct env {
	const struct xen_ops *ops;
	struct xen_fmem *fm;
	struct xen_gnttab *gt;
	struct gmem_xen *gx;
	const struct gmem *mem;
};

static void env_up_maps(struct env *e, unsigned cache, unsigned max,
			unsigned grants, bool with_gnttab, unsigned maps)
{
	struct gmem_xen_params p = { .domid = DOM,
				     .cache_pages = cache,
				     .max_pages = max,
				     .max_grants = grants,
				     .max_maps = maps };

	fake_xen_init();
	TAP_EQ(fake_xen_domain_create(DOM, "g", 1, PAGES), 0);
	e->ops = fake_xen_ops();
	e->fm = e->ops->fmem_open();
	e->gt = with_gnttab ? e->ops->gnttab_open() : NULL;
	p.ops = e->ops;
	p.fmem = e->fm;
	p.gnttab = e->gt;
	e->gx = gmem_xen_create(&p);
	e->mem = gmem_xen_gmem(e->gx);
}

static void env_up(struct env *e, unsigned cache, unsigned max, unsigned grants,
		   bool with_gnttab)
{
	env_up_maps(e, cache, max, grants, with_gnttab, 0);
}

static void env_down(struct env *e)
{
	struct fake_xen_counts c;

	gmem_xen_destroy(e->gx);
	fake_xen_counts(DOM, &c);
	TAP_EQ(c.fmem_pages, 0);
	TAP_EQ(c.grant_pages, 0);
	TAP_EQ(c.bad_unmaps, 0);
	if (e->gt)
		e->ops->gnttab_close(e->gt);
	e->ops->fmem_close(e->fm);
	fake_xen_fini();
}

static unsigned fpages(void)
{
	struct fake_xen_counts c;

	fake_xen_counts(DOM, &c);
	return c.fmem_pages;
}

static void test_foreign_rw(void)
{
	struct env e;
	struct gmem_map m = { 0 };
	uint8_t *ram;

	env_up(&e, 0, 0, 0, true);
	ram = fake_xen_ram(DOM, RAM + 0x1ff0, 0x20);
	memcpy(ram, "0123456789abcdefGHIJKLMNOPQRSTUV", 32);
	/* Crosses a page boundary: the two frames are contiguous for us. */
	TAP_EQ(gmem_map(e.mem, RAM + 0x1ff0, 0x20, GMEM_READ | GMEM_WRITE, &m),
	       0);
	TAP_CHECK(m.ptr && memcmp(m.ptr, ram, 32) == 0, "guest bytes");
	memcpy(m.ptr, "written by the device", 21);
	TAP_CHECK(memcmp(ram, "written by the device", 21) == 0,
		  "write reached guest RAM");
	TAP_EQ(fake_xen_map_prot(m.ptr), PROT_READ | PROT_WRITE);
	TAP_EQ(fpages(), 2);
	gmem_unmap(e.mem, &m);
	env_down(&e);
}

static void test_foreign_faults(void)
{
	struct env e;
	struct gmem_map m = { 0 };

	env_up(&e, 0, 0, 0, true);
	TAP_EQ(gmem_map(e.mem, 0x10000000, 16, GMEM_READ, &m), -EFAULT);
	/* Starts in RAM, ends past it: nothing may stay mapped. */
	TAP_EQ(gmem_map(e.mem, RAM + PAGES * XEN_PAGE_SIZE - 8, 16, GMEM_READ,
			&m),
	       -EFAULT);
	TAP_EQ(gmem_map(e.mem, GMEM_XEN_GPA_LIMIT - 8, 16, GMEM_READ, &m),
	       -EFAULT);
	TAP_EQ(gmem_map(e.mem, RAM, SIZE_MAX, GMEM_READ, &m), -EFAULT);
	TAP_EQ(gmem_map(e.mem, RAM, 0, GMEM_READ, &m), -EFAULT);
	TAP_CHECK(m.ptr == NULL, "out untouched");
	TAP_EQ(fpages(), 0);
	env_down(&e);
}

static void test_cache_hit(void)
{
	struct env e;
	struct gmem_map a = { 0 }, b = { 0 };
	struct gmem_xen_stats st;
	struct fake_xen_counts c;

	env_up(&e, 8, 0, 0, true);
	TAP_EQ(gmem_map(e.mem, RAM + 0x100, 64, GMEM_READ, &a), 0);
	gmem_unmap(e.mem, &a);
	TAP_EQ(gmem_map(e.mem, RAM + 0x200, 64, GMEM_READ, &b), 0);
	gmem_unmap(e.mem, &b);
	fake_xen_counts(DOM, &c);
	TAP_EQ(c.fmem_maps, 1);
	gmem_xen_get_stats(e.gx, &st);
	TAP_EQ(st.hits, 1);
	TAP_EQ(st.idle_pages, 1);
	env_down(&e);
}

static void test_readonly_upgrade(void)
{
	struct env e;
	struct gmem_map r = { 0 }, w = { 0 };

	env_up(&e, 8, 0, 0, true);
	TAP_EQ(gmem_map(e.mem, RAM, 64, GMEM_READ, &r), 0);
	TAP_EQ(fake_xen_map_prot(r.ptr), PROT_READ);
	/* A read-only mapping never serves a device write. */
	TAP_EQ(gmem_map(e.mem, RAM, 64, GMEM_WRITE, &w), 0);
	TAP_EQ(fake_xen_map_prot(w.ptr), PROT_READ | PROT_WRITE);
	TAP_CHECK(r.ptr != w.ptr, "separate mappings");
	gmem_unmap(e.mem, &r);
	gmem_unmap(e.mem, &w);
	env_down(&e);
}

static void test_cache_bound(void)
{
	struct env e;
	struct gmem_map held[8], m = { 0 };
	struct fake_xen_counts c;

	env_up(&e, 4, 8, 0, true);
	for (unsigned i = 0; i < 20; i++) {
		TAP_EQ(gmem_map(e.mem, RAM + i * XEN_PAGE_SIZE, 8, GMEM_READ,
				&m),
		       0);
		gmem_unmap(e.mem, &m);
		TAP_CHECK(fpages() <= 4, "idle cache above bound: %u",
			  fpages());
	}
	/* In use, up to the hard bound; then -ENOMEM, not more mappings. */
	for (unsigned i = 0; i < 8; i++)
		TAP_EQ(gmem_map(e.mem, RAM + (20 + i) * XEN_PAGE_SIZE, 8,
				GMEM_READ, &held[i]),
		       0);
	TAP_EQ(gmem_map(e.mem, RAM + 40 * XEN_PAGE_SIZE, 8, GMEM_READ, &m),
	       -ENOMEM);
	TAP_EQ(gmem_map(e.mem, RAM, 9 * XEN_PAGE_SIZE, GMEM_READ, &m), -ENOMEM);
	fake_xen_counts(DOM, &c);
	TAP_CHECK(c.fmem_peak <= 8, "peak %u above the bound", c.fmem_peak);
	gmem_unmap(e.mem, &held[0]);
	TAP_EQ(gmem_map(e.mem, RAM + 40 * XEN_PAGE_SIZE, 8, GMEM_READ, &m), 0);
	gmem_unmap(e.mem, &m);
	for (unsigned i = 1; i < 8; i++)
		gmem_unmap(e.mem, &held[i]);
	TAP_CHECK(fpages() <= 4, "idle cache above bound: %u", fpages());
	env_down(&e);
}

static uint64_t grant_addr(uint32_t ref, unsigned off);

/*
 * The mapping count is bounded apart from pages: single-page ranges
 * scattered over guest RAM would otherwise use up vmediad's VMAs
 * (vm.max_map_count), which every guest shares.
 */
static void test_map_count(void)
{
	struct env e;
	struct gmem_map held[4], m = { 0 };
	struct gmem_xen_stats st;

	env_up_maps(&e, 64, 1024, 64, true, 4);
	TAP_EQ(fake_xen_grant(DOM, 30, FAKE_XEN_RAM_GFN + 60, false), 0);
	for (unsigned i = 0; i < 4; i++)
		TAP_EQ(gmem_map(e.mem, RAM + 2 * i * XEN_PAGE_SIZE, 8,
				GMEM_WRITE, &held[i]),
		       0);
	gmem_xen_get_stats(e.gx, &st);
	TAP_EQ(st.maps, 4);
	/* Pages to spare, but no mapping left: foreign and grant refused. */
	TAP_EQ(gmem_map(e.mem, RAM + 40 * XEN_PAGE_SIZE, 8, GMEM_READ, &m),
	       -ENOMEM);
	TAP_EQ(gmem_map(e.mem, grant_addr(30, 0), 8, GMEM_WRITE, &m), -ENOMEM);
	/* An idle one is evicted to make room. */
	gmem_unmap(e.mem, &held[0]);
	TAP_EQ(gmem_map(e.mem, grant_addr(30, 0), 8, GMEM_WRITE, &m), 0);
	gmem_xen_get_stats(e.gx, &st);
	TAP_EQ(st.maps, 4);
	TAP_EQ(st.evictions, 1);
	gmem_unmap(e.mem, &m);
	for (unsigned i = 1; i < 4; i++)
		gmem_unmap(e.mem, &held[i]);
	env_down(&e);
}

static void test_invalidate(void)
{
	struct env e;
	struct gmem_map held = { 0 }, m = { 0 }, again = { 0 };
	struct gmem_xen_stats st;
	uint8_t *ram = NULL;

	env_up(&e, 16, 0, 0, true);
	for (unsigned i = 0; i < 3; i++) {
		TAP_EQ(gmem_map(e.mem, RAM + i * XEN_PAGE_SIZE, 8, GMEM_READ,
				&m),
		       0);
		gmem_unmap(e.mem, &m);
	}
	TAP_EQ(gmem_map(e.mem, RAM + 5 * XEN_PAGE_SIZE, 8, GMEM_READ, &held),
	       0);
	TAP_EQ(fpages(), 4);
	gmem_xen_invalidate(e.gx);
	/* Idle ones gone; the one in use stays valid until released. */
	TAP_EQ(fpages(), 1);
	ram = fake_xen_ram(DOM, RAM + 5 * XEN_PAGE_SIZE, 8);
	ram[0] = 0x5a;
	TAP_EQ(((uint8_t *)held.ptr)[0], 0x5a);
	/* ...but it is never handed out again. */
	TAP_EQ(gmem_map(e.mem, RAM + 5 * XEN_PAGE_SIZE, 8, GMEM_READ, &again),
	       0);
	TAP_CHECK(again.ptr != held.ptr, "stale mapping reused");
	gmem_unmap(e.mem, &held);
	TAP_EQ(fpages(), 1);
	gmem_unmap(e.mem, &again);
	gmem_xen_get_stats(e.gx, &st);
	TAP_EQ(st.invalidations, 1);
	gmem_xen_trim(e.gx);
	TAP_EQ(fpages(), 0);
	env_down(&e);
}

static uint64_t grant_addr(uint32_t ref, unsigned off)
{
	return GMEM_XEN_GRANT_BIT | ((uint64_t)ref << XEN_PAGE_SHIFT) | off;
}

static void test_grant_decode(void)
{
	struct env e;
	struct gmem_map m = { 0 };
	struct fake_xen_counts c;
	uint8_t *ram;

	env_up(&e, 0, 0, 0, true);
	/* refs 10 and 11 grant frames 7 and 3: not contiguous in RAM. */
	TAP_EQ(fake_xen_grant(DOM, 10, FAKE_XEN_RAM_GFN + 7, true), 0);
	TAP_EQ(fake_xen_grant(DOM, 11, FAKE_XEN_RAM_GFN + 3, true), 0);
	ram = fake_xen_ram(DOM, RAM + 7 * XEN_PAGE_SIZE + 0xff8, 8);
	memcpy(ram, "ABCDEFGH", 8);
	ram = fake_xen_ram(DOM, RAM + 3 * XEN_PAGE_SIZE, 8);
	memcpy(ram, "IJKLMNOP", 8);
	TAP_EQ(gmem_map(e.mem, grant_addr(10, 0xff8), 16, GMEM_READ, &m), 0);
	TAP_CHECK(m.ptr && memcmp(m.ptr, "ABCDEFGHIJKLMNOP", 16) == 0,
		  "two consecutive grefs, one view");
	/* Device-readable: mapped read-only. */
	TAP_EQ(fake_xen_grant_prot(DOM, 10), PROT_READ);
	TAP_EQ(fake_xen_grant_prot(DOM, 11), PROT_READ);
	fake_xen_counts(DOM, &c);
	TAP_EQ(c.grant_pages, 2);
	TAP_EQ(c.fmem_pages, 0);
	/* Released at once: nothing of a grant is cached. */
	gmem_unmap(e.mem, &m);
	TAP_EQ(fake_xen_grant_prot(DOM, 10), -1);
	fake_xen_counts(DOM, &c);
	TAP_EQ(c.grant_pages, 0);
	env_down(&e);
}

static void test_grant_write(void)
{
	struct env e;
	struct gmem_map m = { 0 };

	env_up(&e, 0, 0, 0, true);
	TAP_EQ(fake_xen_grant(DOM, 20, FAKE_XEN_RAM_GFN + 9, false), 0);
	TAP_EQ(fake_xen_grant(DOM, 21, FAKE_XEN_RAM_GFN + 10, true), 0);
	TAP_EQ(gmem_map(e.mem, grant_addr(20, 0), 64, GMEM_WRITE, &m), 0);
	TAP_EQ(fake_xen_grant_prot(DOM, 20), PROT_READ | PROT_WRITE);
	memcpy(m.ptr, "used", 4);
	TAP_CHECK(memcmp(fake_xen_ram(DOM, RAM + 9 * XEN_PAGE_SIZE, 4), "used",
			 4) == 0,
		  "write reached the granted frame");
	gmem_unmap(e.mem, &m);
	/* The guest granted 21 read-only: a device write must fail. */
	TAP_EQ(gmem_map(e.mem, grant_addr(21, 0), 64, GMEM_WRITE, &m), -EFAULT);
	TAP_EQ(gmem_map(e.mem, grant_addr(99, 0), 64, GMEM_READ, &m), -EFAULT);
	env_down(&e);
}

static void test_grant_limits(void)
{
	struct env e;
	struct gmem_map m = { 0 };

	env_up(&e, 0, 0, 2, true);
	for (uint32_t r = 0; r < 4; r++)
		TAP_EQ(fake_xen_grant(DOM, r, FAKE_XEN_RAM_GFN + r, false), 0);
	/* A gref beyond 32 bits, and a run that would wrap past it. */
	TAP_EQ(gmem_map(e.mem, GMEM_XEN_GRANT_BIT | (1ull << 45), 8, GMEM_READ,
			&m),
	       -EFAULT);
	TAP_EQ(gmem_map(e.mem, grant_addr(UINT32_MAX, 0xff0), 0x20, GMEM_READ,
			&m),
	       -EFAULT);
	/* Three pages with a budget of two. */
	TAP_EQ(gmem_map(e.mem, grant_addr(0, 0x10), 2 * XEN_PAGE_SIZE,
			GMEM_READ, &m),
	       -ENOMEM);
	TAP_EQ(gmem_map(e.mem, grant_addr(0, 0), 2 * XEN_PAGE_SIZE, GMEM_READ,
			&m),
	       0);
	gmem_unmap(e.mem, &m);
	env_down(&e);
	/* Without /dev/xen/gntdev a grant address simply faults. */
	env_up(&e, 0, 0, 0, false);
	TAP_EQ(gmem_map(e.mem, grant_addr(1, 0), 8, GMEM_READ, &m), -EFAULT);
	env_down(&e);
}

static void test_destroy_releases(void)
{
	struct env e;
	struct gmem_map f = { 0 }, g = { 0 };

	env_up(&e, 0, 0, 0, true);
	TAP_EQ(fake_xen_grant(DOM, 5, FAKE_XEN_RAM_GFN + 1, false), 0);
	TAP_EQ(gmem_map(e.mem, RAM, 8, GMEM_READ, &f), 0);
	TAP_EQ(gmem_map(e.mem, grant_addr(5, 0), 8, GMEM_READ, &g), 0);
	/* Leaked by a caller: destroy still unmaps (env_down checks). */
	env_down(&e);
}

/* A grant-mode guest's ring, as Linux's grant DMA lays it out. */
enum { REF_DESC = 100, REF_AVAIL, REF_USED, REF_OUT = 110, REF_IN };

struct unmap_watch {
	volatile uint16_t *used_idx; /* the guest's view of used->idx */
	unsigned unmaps;
	bool late; /* a buffer was unmapped after used->idx moved */
};

static void on_unmap(void *ctx, uint32_t ref)
{
	struct unmap_watch *w = ctx;

	if (ref != REF_OUT && ref != REF_IN)
		return;
	w->unmaps++;
	if (*w->used_idx != 0)
		w->late = true;
}

static void *page_of(unsigned frame)
{
	return fake_xen_ram(DOM, RAM + frame * XEN_PAGE_SIZE, XEN_PAGE_SIZE);
}

static void build_grant_ring(void)
{
	struct vring_desc *desc = page_of(1);
	struct vring_avail *avail = page_of(2);
	static const unsigned frames[] = { 1, 2, 3, 4, 5 };
	static const uint32_t refs[] = { REF_DESC, REF_AVAIL, REF_USED, REF_OUT,
					 REF_IN };

	for (unsigned i = 0; i < 5; i++)
		TAP_EQ(fake_xen_grant(DOM, refs[i],
				      FAKE_XEN_RAM_GFN + frames[i],
				      i == 0 || i == 1 || i == 3),
		       0);
	/* A command: 16 bytes the device reads, 16 it writes. */
	desc[0] = (struct vring_desc){ .addr = grant_addr(REF_OUT, 0x10),
				       .len = 16,
				       .flags = VRING_DESC_F_NEXT,
				       .next = 1 };
	desc[1] = (struct vring_desc){ .addr = grant_addr(REF_IN, 0x20),
				       .len = 16,
				       .flags = VRING_DESC_F_WRITE };
	avail->ring[0] = 0;
	avail->idx = 1;
}

static void test_grant_chain(void)
{
	struct virtq_layout l = { .num = 4,
				  .desc = grant_addr(REF_DESC, 0),
				  .avail = grant_addr(REF_AVAIL, 0),
				  .used = grant_addr(REF_USED, 0) };
	static struct virtq_chain chain;
	struct vring_used *used;
	struct unmap_watch w = { 0 };
	struct env e;
	struct virtq vq;

	env_up(&e, 0, 0, 0, true);
	build_grant_ring();
	used = page_of(3);
	w.used_idx = &used->idx;
	virtq_init(&vq, e.mem);
	TAP_EQ(virtq_enable(&vq, &l), 0);
	TAP_EQ(fake_xen_grant_prot(DOM, REF_DESC), PROT_READ);
	TAP_EQ(fake_xen_grant_prot(DOM, REF_USED), PROT_READ | PROT_WRITE);
	TAP_EQ(virtq_pop(&vq, &chain), 1);
	/* The guest granted the readable buffer read-only: so is our map. */
	TAP_EQ(fake_xen_grant_prot(DOM, REF_OUT), PROT_READ);
	TAP_EQ(fake_xen_grant_prot(DOM, REF_IN), PROT_READ | PROT_WRITE);
	fake_xen_on_grant_unmap(on_unmap, &w);
	virtq_push(&vq, &chain, 16);
	fake_xen_on_grant_unmap(NULL, NULL);
	/* Both unmapped, and before the used element was published. */
	TAP_EQ(w.unmaps, 2);
	TAP_CHECK(!w.late, "a grant was still mapped when used->idx moved");
	TAP_EQ(used->idx, 1);
	TAP_EQ(fake_xen_grant_prot(DOM, REF_OUT), -1);
	virtq_disable(&vq);
	env_down(&e);
}

int main(void)
{
	tap_run("foreign: guest RAM read and written across a page",
		test_foreign_rw);
	tap_run("foreign: outside RAM, overflow, zero length fault",
		test_foreign_faults);
	tap_run("foreign: a cached frame is not mapped twice", test_cache_hit);
	tap_run("foreign: device-readable mapped read-only, writes remap",
		test_readonly_upgrade);
	tap_run("map cache: idle and total bounds respected", test_cache_bound);
	tap_run("mappings bounded in number, idle ones evicted first",
		test_map_count);
	tap_run("INVALIDATE drops the map cache, keeps ranges in use",
		test_invalidate);
	tap_run("grant: bit 63, consecutive grefs, read-only for readable",
		test_grant_decode);
	tap_run("grant: writable mapping; read-only grant refused for writes",
		test_grant_write);
	tap_run("grant: gref range and budget limits", test_grant_limits);
	tap_run("grant chain: read-only readable buffers, unmapped before "
		"the used element is published",
		test_grant_chain);
	tap_run("teardown unmaps ranges still held", test_destroy_releases);
	return tap_done();
}
