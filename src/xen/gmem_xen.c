/* SPDX-License-Identifier: MIT */
/*
 * Guest memory over foreign and grant mappings.
 *
 * Each foreign mapping covers whole 4 KiB frames [gfn, gfn + pages) and is
 * one entry: on a busy list while somebody holds a range of it, on the LRU
 * list once nobody does. Entries are found by their first frame, so a
 * request that starts in the same frame and fits reuses one. The cache is
 * bounded twice: idle pages (evicted oldest first) and all pages mapped
 * (past which a map fails with -ENOMEM instead of exhausting dom0).
 */
#include "xen/gmem_xen.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "vmedia/log.h"

#define HASH_BITS    10
#define HASH_BUCKETS (1u << HASH_BITS)
/* Frames mapped with arrays on the stack; larger requests allocate. */
#define STACK_FRAMES 16u

struct gx_entry {
	struct gx_entry *hnext;	      /* hash chain (not stale, not grant) */
	struct gx_entry *prev, *next; /* on busy or lru */
	uint8_t *base;
	uint64_t gfn; /* foreign: first frame */
	uint32_t pages;
	uint32_t refs;
	bool writable;
	bool grant;
	bool stale; /* dropped by INVALIDATE while in use */
};

struct gx_list {
	struct gx_entry *head, *tail;
};

struct gmem_xen {
	struct gmem mem;
	const struct xen_ops *ops;
	struct xen_fmem *fmem;
	struct xen_gnttab *gnttab;
	unsigned domid;
	unsigned cache_pages, max_pages, max_grants, max_maps;
	struct gx_entry *hash[HASH_BUCKETS];
	struct gx_list lru;  /* idle, most recent first */
	struct gx_list busy; /* held by somebody */
	struct gmem_xen_stats st;
	struct vm_ratelimit rl;
};

static void list_del(struct gx_list *l, struct gx_entry *e)
{
	if (e->prev)
		e->prev->next = e->next;
	else
		l->head = e->next;
	if (e->next)
		e->next->prev = e->prev;
	else
		l->tail = e->prev;
	e->prev = e->next = NULL;
}

static void list_push(struct gx_list *l, struct gx_entry *e)
{
	e->prev = NULL;
	e->next = l->head;
	if (l->head)
		l->head->prev = e;
	else
		l->tail = e;
	l->head = e;
}

static unsigned hash_of(uint64_t gfn)
{
	return (unsigned)((gfn * 0x9e3779b97f4a7c15ull) >> (64 - HASH_BITS));
}

static void hash_del(struct gmem_xen *gx, struct gx_entry *e)
{
	struct gx_entry **pp = &gx->hash[hash_of(e->gfn)];

	while (*pp && *pp != e)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = e->hnext;
	e->hnext = NULL;
}

/* An entry starting at gfn with at least `pages` frames and the access. */
static struct gx_entry *lookup(struct gmem_xen *gx, uint64_t gfn,
			       uint64_t pages, bool writable)
{
	struct gx_entry *e = gx->hash[hash_of(gfn)];

	for (; e; e = e->hnext)
		if (e->gfn == gfn && e->pages >= pages &&
		    (e->writable || !writable))
			return e;
	return NULL;
}

static void foreign_unmap(struct gmem_xen *gx, struct gx_entry *e)
{
	int r = gx->ops->fmem_unmap(gx->fmem, e->base, e->pages);

	if (r < 0 && vm_ratelimit_ok(&gx->rl))
		vm_warn((int)gx->domid,
			"cannot unmap guest frames %#llx+%u: %s",
			(unsigned long long)e->gfn, e->pages, strerror(-r));
	gx->st.mapped_pages -= e->pages;
	gx->st.maps--;
	free(e);
}

/* Unmap an idle entry. */
static void evict(struct gmem_xen *gx, struct gx_entry *e)
{
	list_del(&gx->lru, e);
	gx->st.idle_pages -= e->pages;
	if (!e->stale)
		hash_del(gx, e);
	gx->st.evictions++;
	foreign_unmap(gx, e);
}

static void trim_to(struct gmem_xen *gx, uint64_t idle_max)
{
	while (gx->lru.tail && gx->st.idle_pages > idle_max)
		evict(gx, gx->lru.tail);
}

static bool room_for(const struct gmem_xen *gx, uint64_t pages)
{
	return gx->st.mapped_pages + pages <= gx->max_pages &&
	       gx->st.maps < gx->max_maps;
}

/*
 * Room for one more mapping of `pages` frames, evicting idle ones if
 * needed (grants have no idle ones: pages = 0 checks the count only).
 */
static int make_room(struct gmem_xen *gx, uint64_t pages)
{
	while (!room_for(gx, pages) && gx->lru.tail)
		evict(gx, gx->lru.tail);
	return room_for(gx, pages) ? 0 : -ENOMEM;
}

/* Map frames first..first+pages-1; every frame must be the guest's. */
static void *map_frames(struct gmem_xen *gx, uint64_t first, uint32_t pages,
			int prot, int *ret)
{
	uint64_t sgfn[STACK_FRAMES], *gfns = sgfn;
	int serr[STACK_FRAMES], *err = serr;
	void *p = NULL;

	if (pages > STACK_FRAMES) {
		gfns = malloc(pages * sizeof(*gfns));
		err = malloc(pages * sizeof(*err));
	}
	*ret = -ENOMEM;
	if (!gfns || !err)
		goto out;
	for (uint32_t i = 0; i < pages; i++) {
		gfns[i] = first + i;
		err[i] = 0;
	}
	errno = 0;
	p = gx->ops->fmem_map(gx->fmem, gx->domid, prot, pages, gfns, err);
	if (!p)
		*ret = errno == ENOMEM ? -ENOMEM : -EFAULT;
	else
		*ret = 0;
	for (uint32_t i = 0; p && i < pages; i++) {
		if (err[i]) {
			/* A frame that is not the guest's RAM. */
			gx->ops->fmem_unmap(gx->fmem, p, pages);
			p = NULL;
			*ret = -EFAULT;
		}
	}
out:
	if (gfns != sgfn)
		free(gfns);
	if (err != serr)
		free(err);
	return p;
}

static struct gx_entry *foreign_new(struct gmem_xen *gx, uint64_t first,
				    uint32_t pages, bool writable, int *ret)
{
	int prot = PROT_READ | (writable ? PROT_WRITE : 0);
	struct gx_entry *e;
	void *p;

	*ret = make_room(gx, pages);
	if (*ret)
		return NULL;
	e = calloc(1, sizeof(*e));
	if (!e) {
		*ret = -ENOMEM;
		return NULL;
	}
	p = map_frames(gx, first, pages, prot, ret);
	if (!p) {
		free(e);
		return NULL;
	}
	*e = (struct gx_entry){
		.base = p, .gfn = first, .pages = pages, .writable = writable
	};
	e->hnext = gx->hash[hash_of(first)];
	gx->hash[hash_of(first)] = e;
	gx->st.mapped_pages += pages;
	gx->st.maps++;
	gx->st.misses++;
	return e;
}

static int foreign_map(struct gmem_xen *gx, uint64_t addr, size_t len,
		       unsigned access, struct gmem_map *out)
{
	bool writable = access & GMEM_WRITE;
	uint64_t first, pages;
	struct gx_entry *e;
	int ret = 0;

	if (addr >= GMEM_XEN_GPA_LIMIT || len > GMEM_XEN_GPA_LIMIT - addr)
		return -EFAULT;
	first = addr >> XEN_PAGE_SHIFT;
	pages = ((addr + len - 1) >> XEN_PAGE_SHIFT) - first + 1;
	if (pages > gx->max_pages)
		return -ENOMEM;
	e = lookup(gx, first, pages, writable);
	if (e && e->refs == 0) {
		list_del(&gx->lru, e);
		gx->st.idle_pages -= e->pages;
		list_push(&gx->busy, e);
	}
	if (e)
		gx->st.hits++;
	if (!e) {
		e = foreign_new(gx, first, (uint32_t)pages, writable, &ret);
		if (!e)
			return ret;
		list_push(&gx->busy, e);
	}
	e->refs++;
	out->ptr = e->base + (addr & (XEN_PAGE_SIZE - 1));
	out->len = len;
	out->priv = e;
	return 0;
}

static int grant_map(struct gmem_xen *gx, uint64_t addr, size_t len,
		     unsigned access, struct gmem_map *out)
{
	uint64_t raw = addr & ~GMEM_XEN_GRANT_BIT;
	uint64_t off = raw & (XEN_PAGE_SIZE - 1), gref = raw >> XEN_PAGE_SHIFT;
	uint32_t refs[STACK_FRAMES], *r = refs;
	uint64_t pages;
	struct gx_entry *e;
	void *p;

	if (!gx->gnttab || len > UINT32_MAX)
		return -EFAULT;
	pages = (off + len + XEN_PAGE_SIZE - 1) >> XEN_PAGE_SHIFT;
	/* Consecutive refs gref..gref+pages-1 must all be grant refs. */
	if (gref > GMEM_XEN_MAX_GREF || pages - 1 > GMEM_XEN_MAX_GREF - gref)
		return -EFAULT;
	if (gx->st.grant_pages + pages > gx->max_grants || make_room(gx, 0) < 0)
		return -ENOMEM;
	e = calloc(1, sizeof(*e));
	if (pages > STACK_FRAMES)
		r = malloc(pages * sizeof(*r));
	if (!e || !r) {
		free(e);
		return -ENOMEM;
	}
	for (uint64_t i = 0; i < pages; i++)
		r[i] = (uint32_t)(gref + i);
	/* Read-only unless the device writes: the guest may grant so. */
	p = gx->ops->gnttab_map(gx->gnttab, gx->domid, (uint32_t)pages, r,
				PROT_READ |
					(access & GMEM_WRITE ? PROT_WRITE : 0));
	if (r != refs)
		free(r);
	if (!p) {
		free(e);
		return -EFAULT;
	}
	*e = (struct gx_entry){
		.base = p, .pages = (uint32_t)pages, .refs = 1, .grant = true
	};
	list_push(&gx->busy, e);
	gx->st.grant_pages += pages;
	gx->st.maps++;
	out->ptr = (uint8_t *)p + off;
	out->len = len;
	out->priv = e;
	return 0;
}

static void grant_unmap(struct gmem_xen *gx, struct gx_entry *e)
{
	int r = gx->ops->gnttab_unmap(gx->gnttab, e->base, e->pages);

	if (r < 0 && vm_ratelimit_ok(&gx->rl))
		vm_warn((int)gx->domid, "cannot unmap %u granted pages: %s",
			e->pages, strerror(-r));
	gx->st.grant_pages -= e->pages;
	gx->st.maps--;
	free(e);
}

static int gx_map(void *ctx, uint64_t addr, size_t len, unsigned access,
		  struct gmem_map *out)
{
	struct gmem_xen *gx = ctx;

	if (len == 0)
		return -EFAULT;
	if (addr & GMEM_XEN_GRANT_BIT)
		return grant_map(gx, addr, len, access, out);
	return foreign_map(gx, addr, len, access, out);
}

static void gx_unmap(void *ctx, struct gmem_map *m)
{
	struct gmem_xen *gx = ctx;
	struct gx_entry *e = m->priv;

	if (!e || --e->refs > 0)
		return;
	list_del(&gx->busy, e);
	if (e->grant) {
		grant_unmap(gx, e);
	} else if (e->stale) {
		foreign_unmap(gx, e);
	} else {
		list_push(&gx->lru, e);
		gx->st.idle_pages += e->pages;
		trim_to(gx, gx->cache_pages);
	}
}

static const struct gmem_ops gmem_xen_ops = {
	.map = gx_map,
	.unmap = gx_unmap,
};

struct gmem_xen *gmem_xen_create(const struct gmem_xen_params *p)
{
	struct gmem_xen *gx = calloc(1, sizeof(*gx));

	if (!gx)
		return NULL;
	gx->mem = (struct gmem){ .ops = &gmem_xen_ops, .ctx = gx };
	gx->ops = p->ops;
	gx->fmem = p->fmem;
	gx->gnttab = p->gnttab;
	gx->domid = p->domid;
	gx->cache_pages =
		p->cache_pages ? p->cache_pages : GMEM_XEN_DEFAULT_CACHE_PAGES;
	gx->max_pages =
		p->max_pages ? p->max_pages : GMEM_XEN_DEFAULT_MAX_PAGES;
	gx->max_grants =
		p->max_grants ? p->max_grants : GMEM_XEN_DEFAULT_MAX_GRANTS;
	gx->max_maps = p->max_maps ? p->max_maps : GMEM_XEN_DEFAULT_MAX_MAPS;
	/* The idle cache can never be larger than what may be mapped. */
	if (gx->cache_pages > gx->max_pages)
		gx->cache_pages = gx->max_pages;
	return gx;
}

const struct gmem *gmem_xen_gmem(struct gmem_xen *gx)
{
	return &gx->mem;
}

void gmem_xen_invalidate(struct gmem_xen *gx)
{
	trim_to(gx, 0);
	for (struct gx_entry *e = gx->busy.head; e; e = e->next) {
		if (e->grant || e->stale)
			continue;
		hash_del(gx, e);
		e->stale = true;
	}
	gx->st.invalidations++;
}

void gmem_xen_trim(struct gmem_xen *gx)
{
	trim_to(gx, 0);
}

void gmem_xen_get_stats(const struct gmem_xen *gx, struct gmem_xen_stats *st)
{
	*st = gx->st;
}

void gmem_xen_destroy(struct gmem_xen *gx)
{
	unsigned held = 0;

	if (!gx)
		return;
	trim_to(gx, 0);
	while (gx->busy.head) {
		struct gx_entry *e = gx->busy.head;

		held++;
		list_del(&gx->busy, e);
		if (e->grant)
			grant_unmap(gx, e);
		else
			foreign_unmap(gx, e);
	}
	if (held)
		vm_warn((int)gx->domid,
			"%u guest memory range(s) still held at teardown",
			held);
	free(gx);
}
