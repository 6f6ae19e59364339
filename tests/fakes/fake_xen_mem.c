/* SPDX-License-Identifier: MIT */
/*
 * The fake's memory side: foreign mappings of guest frames and grant
 * mappings, both real mmaps of the guest's memfd with exactly the
 * protection asked for (a write through a read-only mapping faults, as
 * it would on Xen), and the mapped ioreq pages. Every mapping is tracked
 * so tests can check bounds, protections and leaks.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "fakes/fake_xen_int.h"

/*
 * Map each frame of gfns: guest RAM (the RAM memfd) or a populated frame
 * (the physical memory file), else err[i] = -EINVAL. The block, or NULL.
 */
static void *map_frames(struct fx_dom *d, const uint64_t *gfns, size_t pages,
			int prot, int *err)
{
	uint8_t *base =
		mmap(NULL, pages * XEN_PAGE_SIZE, PROT_NONE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	if (base == MAP_FAILED)
		return NULL;
	for (size_t i = 0; i < pages; i++) {
		uint64_t g = gfns[i];
		bool ram = g >= FAKE_XEN_RAM_GFN &&
			   g - FAKE_XEN_RAM_GFN < d->ram_pages;
		void *p = MAP_FAILED;

		err[i] = -EINVAL;
		if (ram) {
			p = mmap(base + i * XEN_PAGE_SIZE, XEN_PAGE_SIZE, prot,
				 MAP_SHARED | MAP_FIXED, d->memfd,
				 (off_t)((g - FAKE_XEN_RAM_GFN) *
					 XEN_PAGE_SIZE));
		} else if (fx_populated_locked(d, g)) {
			if (fx.faults.map_populated) {
				err[i] = -fx.faults.map_populated;
				continue;
			}
			p = mmap(base + i * XEN_PAGE_SIZE, XEN_PAGE_SIZE, prot,
				 MAP_SHARED | MAP_FIXED, d->physfd,
				 (off_t)(g * XEN_PAGE_SIZE));
		}
		if (p != MAP_FAILED)
			err[i] = 0;
	}
	return base;
}

static void track(void *addr, size_t pages, unsigned domid, int prot,
		  bool grant, uint32_t ref, const uint64_t *gfns)
{
	struct fx_map *m = calloc(1, sizeof(*m));
	unsigned now;

	*m = (struct fx_map){ .addr = addr,
			      .pages = pages,
			      .domid = domid,
			      .prot = prot,
			      .grant = grant,
			      .ref = ref };
	/* The frames, so that a release under the mapping can be modelled. */
	m->gfns = calloc(pages, sizeof(*m->gfns));
	m->zslot = calloc(pages, sizeof(*m->zslot));
	for (size_t i = 0; i < pages; i++) {
		if (m->gfns)
			m->gfns[i] = gfns[i];
		if (m->zslot)
			m->zslot[i] = -1;
	}
	m->next = fx.maps;
	fx.maps = m;
	if (grant)
		return;
	fx.fmem_maps++;
	now = fx_fmem_pages_locked(FAKE_XEN_ALL);
	if (now > fx.fmem_peak)
		fx.fmem_peak = now;
}

static void free_map(struct fx_map *m)
{
	struct fx_dom *d = fx_dom(m->domid);

	munmap(m->addr, m->pages * XEN_PAGE_SIZE);
	for (size_t i = 0; d && m->zslot && i < m->pages; i++)
		if (m->zslot[i] >= 0)
			fx_zombie_put_locked(d, m->zslot[i]);
	free(m->gfns);
	free(m->zslot);
	free(m);
}

/* Forget and unmap a tracked mapping; -EINVAL if there is none. */
static int untrack(void *addr, size_t pages, bool grant)
{
	for (struct fx_map **pp = &fx.maps; *pp; pp = &(*pp)->next) {
		struct fx_map *m = *pp;

		if (m->addr != addr || m->pages != pages || m->grant != grant)
			continue;
		*pp = m->next;
		free_map(m);
		return 0;
	}
	fx.bad_unmaps++;
	return -EINVAL;
}

void fx_free_maps_locked(void)
{
	while (fx.maps) {
		struct fx_map *m = fx.maps;

		fx.maps = m->next;
		free_map(m);
	}
}

unsigned fx_fmem_pages_locked(unsigned domid)
{
	unsigned n = 0;

	for (struct fx_map *m = fx.maps; m; m = m->next)
		if (!m->grant && (domid == FAKE_XEN_ALL || m->domid == domid))
			n += (unsigned)m->pages;
	return n;
}

/* ---- foreign memory ------------------------------------------------------ */

static struct xen_fmem *f_fmem_open(void)
{
	struct xen_fmem *fm = calloc(1, 1);

	pthread_mutex_lock(&fx.lock);
	fx.handles++;
	pthread_mutex_unlock(&fx.lock);
	return fm;
}

static void f_fmem_close(struct xen_fmem *fm)
{
	pthread_mutex_lock(&fx.lock);
	fx.handles--;
	pthread_mutex_unlock(&fx.lock);
	free(fm);
}

static void *f_fmem_map(struct xen_fmem *fm, unsigned domid, int prot,
			size_t pages, const uint64_t *gfns, int *err)
{
	struct fx_dom *d;
	void *p = NULL;

	(void)fm;
	pthread_mutex_lock(&fx.lock);
	d = fx_live_dom(domid);
	errno = d ? EINVAL : ESRCH;
	if (d && pages && err)
		p = map_frames(d, gfns, pages, prot, err);
	if (p)
		track(p, pages, domid, prot, false, 0, gfns);
	pthread_mutex_unlock(&fx.lock);
	return p;
}

static int f_fmem_unmap(struct xen_fmem *fm, void *addr, size_t pages)
{
	int r;

	(void)fm;
	pthread_mutex_lock(&fx.lock);
	r = untrack(addr, pages, false);
	pthread_mutex_unlock(&fx.lock);
	return r;
}

static struct xen_fres *f_fmem_map_ioreq(struct xen_fmem *fm, unsigned domid,
					 unsigned id, unsigned nr_frames,
					 void **addr)
{
	struct xen_fres *res = NULL;

	(void)fm;
	pthread_mutex_lock(&fx.lock);
	errno = ENOENT;
	for (struct fx_server *s = fx.servers; s; s = s->next) {
		if (s->domid != domid || s->id != id || s->destroyed ||
		    !fx_live_dom(domid))
			continue;
		if (nr_frames != 1) {
			errno = EINVAL;
			break;
		}
		res = calloc(1, sizeof(*res));
		res->srv = s;
		s->res_maps++;
		*addr = s->page;
		break;
	}
	pthread_mutex_unlock(&fx.lock);
	return res;
}

static int f_fmem_unmap_ioreq(struct xen_fmem *fm, struct xen_fres *res)
{
	(void)fm;
	pthread_mutex_lock(&fx.lock);
	res->srv->res_maps--;
	fx_server_put_locked(res->srv);
	pthread_mutex_unlock(&fx.lock);
	free(res);
	return 0;
}

/* ---- grant tables -------------------------------------------------------- */

static struct xen_gnttab *f_gnttab_open(void)
{
	return (struct xen_gnttab *)f_fmem_open();
}

static void f_gnttab_close(struct xen_gnttab *gt)
{
	f_fmem_close((struct xen_fmem *)gt);
}

static int f_gnttab_set_max_grants(struct xen_gnttab *gt, uint32_t count)
{
	(void)gt;
	return count ? 0 : -EINVAL;
}

static struct fx_grant *grant_of(struct fx_dom *d, uint32_t ref)
{
	for (unsigned i = 0; i < FX_MAX_GRANTS; i++)
		if (d->grants[i].used && d->grants[i].ref == ref)
			return &d->grants[i];
	return NULL;
}

/* The frames of refs, checking each grant allows prot. */
static int grant_frames(struct fx_dom *d, uint32_t count, const uint32_t *refs,
			int prot, uint64_t *gfns)
{
	for (uint32_t i = 0; i < count; i++) {
		struct fx_grant *g = grant_of(d, refs[i]);

		if (!g)
			return -ENOENT;
		if (g->ro && (prot & PROT_WRITE))
			return -EPERM;
		gfns[i] = g->gfn;
	}
	return 0;
}

static void *f_gnttab_map(struct xen_gnttab *gt, unsigned domid, uint32_t count,
			  const uint32_t *refs, int prot)
{
	uint64_t *gfns = calloc(count ? count : 1, sizeof(*gfns));
	int *err = calloc(count ? count : 1, sizeof(*err));
	struct fx_dom *d;
	void *p = NULL;
	int r = -ENOMEM;

	(void)gt;
	pthread_mutex_lock(&fx.lock);
	d = fx_live_dom(domid);
	if (!d)
		r = -ESRCH;
	else if (gfns && err && count)
		r = grant_frames(d, count, refs, prot, gfns);
	if (r == 0)
		p = map_frames(d, gfns, count, prot, err);
	for (uint32_t i = 0; p && i < count; i++)
		if (err[i])
			r = -EINVAL;
	if (p && r) {
		munmap(p, count * XEN_PAGE_SIZE);
		p = NULL;
	}
	if (p)
		track(p, count, domid, prot, true, refs[0], gfns);
	pthread_mutex_unlock(&fx.lock);
	free(gfns);
	free(err);
	if (!p)
		errno = -r;
	return p;
}

static void (*unmap_hook)(void *ctx, uint32_t ref);
static void *unmap_hook_ctx;

void fake_xen_on_grant_unmap(void (*fn)(void *ctx, uint32_t ref), void *ctx)
{
	unmap_hook = fn;
	unmap_hook_ctx = ctx;
}

static int f_gnttab_unmap(struct xen_gnttab *gt, void *addr, uint32_t count)
{
	uint32_t ref = 0;
	bool found = false;
	int r;

	(void)gt;
	pthread_mutex_lock(&fx.lock);
	for (struct fx_map *m = fx.maps; m && !found; m = m->next) {
		found = m->grant && m->addr == addr;
		ref = m->ref;
	}
	pthread_mutex_unlock(&fx.lock);
	/* Outside the lock: the hook may look at guest RAM. */
	if (found && unmap_hook)
		unmap_hook(unmap_hook_ctx, ref);
	pthread_mutex_lock(&fx.lock);
	r = untrack(addr, count, true);
	pthread_mutex_unlock(&fx.lock);
	return r;
}

int fake_xen_grant(unsigned domid, uint32_t ref, uint64_t gfn, bool readonly)
{
	struct fx_dom *d;
	int r = -ENOSPC;

	pthread_mutex_lock(&fx.lock);
	d = fx_dom(domid);
	for (unsigned i = 0; d && i < FX_MAX_GRANTS; i++) {
		if (d->grants[i].used)
			continue;
		d->grants[i] = (struct fx_grant){
			.used = true, .ro = readonly, .ref = ref, .gfn = gfn
		};
		r = 0;
		break;
	}
	pthread_mutex_unlock(&fx.lock);
	return d ? r : -ESRCH;
}

int fake_xen_grant_prot(unsigned domid, uint32_t ref)
{
	int prot = -1;

	pthread_mutex_lock(&fx.lock);
	for (struct fx_map *m = fx.maps; m; m = m->next)
		if (m->grant && m->domid == domid && ref >= m->ref &&
		    ref - m->ref < m->pages)
			prot = m->prot;
	pthread_mutex_unlock(&fx.lock);
	return prot;
}

int fake_xen_map_prot(const void *ptr)
{
	const uint8_t *p = ptr;
	int prot = -1;

	pthread_mutex_lock(&fx.lock);
	for (struct fx_map *m = fx.maps; m; m = m->next) {
		const uint8_t *a = m->addr;

		if (p >= a && p < a + m->pages * XEN_PAGE_SIZE)
			prot = m->prot;
	}
	pthread_mutex_unlock(&fx.lock);
	return prot;
}

void fx_mem_ops(struct xen_ops *o)
{
	o->fmem_open = f_fmem_open;
	o->fmem_close = f_fmem_close;
	o->fmem_map = f_fmem_map;
	o->fmem_unmap = f_fmem_unmap;
	o->fmem_map_ioreq = f_fmem_map_ioreq;
	o->fmem_unmap_ioreq = f_fmem_unmap_ioreq;
	o->gnttab_open = f_gnttab_open;
	o->gnttab_close = f_gnttab_close;
	o->gnttab_set_max_grants = f_gnttab_set_max_grants;
	o->gnttab_map = f_gnttab_map;
	o->gnttab_unmap = f_gnttab_unmap;
}
