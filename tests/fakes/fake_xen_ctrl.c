/* SPDX-License-Identifier: MIT */
/*
 * The fake's guest memory reservation (libxenctrl's populate_physmap,
 * decrease_reservation, setmaxmem, getinfolist), behaving as measured on
 * real Xen (research/shm-window-probe.md):
 *
 * - max_pages starts at the RAM pages + 256 (libxl's slack); tot_pages is
 *   the RAM pages + the populated ones. Populate fails with -ENOMEM, and
 *   changes nothing, when tot_pages + n > max_pages; setmaxmem accepts any
 *   value, even below tot_pages.
 * - A fresh page is not zeroed: it holds FAKE_XEN_GARBAGE, so that a
 *   window that forgets to clear it is caught.
 * - A page released while still foreign-mapped stays the domain's (and in
 *   tot_pages) until unmapped; the mapping keeps the old bytes, which the
 *   guest no longer sees.
 * - A dead domain fails every operation with -ESRCH.
 *
 * Populated frames live in a sparse memfd at offset gpa (the guest's
 * /dev/mem); the test's view of it (the guest's) is one mapping that is
 * PROT_NONE except on populated pages, so a guest access to a page that
 * is not there crashes the test as it would kill the guest.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fakes/fake_xen_int.h"

#define PHYS_PAGES (FAKE_XEN_PHYS_LIMIT / XEN_PAGE_SIZE)

int fx_phys_init(struct fx_dom *d)
{
	void *p;

	d->physfd = memfd_create("fake-xen-phys", MFD_CLOEXEC);
	d->zfd = memfd_create("fake-xen-released", MFD_CLOEXEC);
	if (d->physfd < 0 || d->zfd < 0)
		return -errno;
	if (ftruncate(d->physfd, (off_t)FAKE_XEN_PHYS_LIMIT) < 0 ||
	    ftruncate(d->zfd, (off_t)FAKE_XEN_PHYS_LIMIT) < 0)
		return -errno;
	p = mmap(NULL, FAKE_XEN_PHYS_LIMIT, PROT_NONE,
		 MAP_SHARED | MAP_NORESERVE, d->physfd, 0);
	if (p == MAP_FAILED)
		return -errno;
	d->phys = p;
	return 0;
}

void fx_phys_free(struct fx_dom *d)
{
	if (d->phys)
		munmap(d->phys, FAKE_XEN_PHYS_LIMIT);
	if (d->physfd >= 0)
		close(d->physfd);
	if (d->zfd >= 0)
		close(d->zfd);
	free(d->pop);
	free(d->zrefs);
	d->phys = NULL;
	d->physfd = d->zfd = -1;
	d->pop = NULL;
	d->zrefs = NULL;
}

static int cmp_gfn(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static uint64_t *find_pop(struct fx_dom *d, uint64_t gfn)
{
	if (!d->npop)
		return NULL;
	return bsearch(&gfn, d->pop, d->npop, sizeof(gfn), cmp_gfn);
}

bool fx_populated_locked(struct fx_dom *d, uint64_t gfn)
{
	return find_pop(d, gfn) != NULL;
}

static uint64_t tot_pages(const struct fx_dom *d)
{
	return d->ram_pages + d->npop + d->zombies;
}

static uint8_t *page_of(struct fx_dom *d, uint64_t gfn)
{
	return d->phys + gfn * XEN_PAGE_SIZE;
}

/* Is any byte of [gfn's page] in an MMIO range an ioreq server claims? */
static bool in_mmio(unsigned domid, uint64_t gfn)
{
	uint64_t lo = gfn * XEN_PAGE_SIZE, hi = lo + XEN_PAGE_SIZE - 1;

	for (struct fx_server *s = fx.servers; s; s = s->next) {
		if (s->domid != domid || s->destroyed)
			continue;
		for (unsigned i = 0; i < s->nranges; i++)
			if (lo <= s->end[i] && s->start[i] <= hi)
				return true;
	}
	return false;
}

/* Why gfns cannot be populated, or 0. */
static int populate_check(struct fx_dom *d, size_t n, const uint64_t *gfns)
{
	for (size_t i = 0; i < n; i++) {
		uint64_t g = gfns[i];

		if (g >= PHYS_PAGES)
			return -EINVAL;
		if (g >= FAKE_XEN_RAM_GFN &&
		    g - FAKE_XEN_RAM_GFN < d->ram_pages)
			return -EEXIST;
		if (fx_populated_locked(d, g))
			return -EEXIST;
		if (in_mmio(d->domid, g))
			return -EBUSY;
		for (size_t j = 0; j < i; j++)
			if (gfns[j] == g)
				return -EEXIST;
	}
	if (tot_pages(d) + n > d->max_pages)
		return -ENOMEM;
	return 0;
}

/*
 * A page the daemon maps is being released: point those mappings at a
 * copy of the page (a "zombie" slot), which stays counted in tot_pages
 * until the last of them is unmapped, as on Xen.
 */
static void zombify(struct fx_dom *d, uint64_t gfn)
{
	int64_t slot = -1;

	for (struct fx_map *m = fx.maps; m; m = m->next) {
		if (m->domid != d->domid || !m->gfns || !m->zslot)
			continue;
		for (size_t i = 0; i < m->pages; i++) {
			void *p;

			if (m->gfns[i] != gfn || m->zslot[i] >= 0)
				continue;
			if (slot < 0) {
				unsigned *z = realloc(
					d->zrefs, (d->zslots + 1) * sizeof(*z));

				if (!z || d->zslots >= PHYS_PAGES)
					abort(); /* a test's fake ran out */
				d->zrefs = z;
				slot = (int64_t)d->zslots++;
				d->zrefs[slot] = 0;
				d->zombies++;
				if (pwrite(d->zfd, page_of(d, gfn),
					   XEN_PAGE_SIZE,
					   (off_t)slot * XEN_PAGE_SIZE) !=
				    XEN_PAGE_SIZE)
					abort();
			}
			p = mmap((uint8_t *)m->addr + i * XEN_PAGE_SIZE,
				 XEN_PAGE_SIZE, m->prot, MAP_SHARED | MAP_FIXED,
				 d->zfd, (off_t)slot * XEN_PAGE_SIZE);
			if (p == MAP_FAILED)
				abort();
			m->zslot[i] = slot;
			d->zrefs[slot]++;
		}
	}
}

void fx_zombie_put_locked(struct fx_dom *d, int64_t slot)
{
	if (slot < 0 || (uint64_t)slot >= d->zslots || !d->zrefs[slot])
		return;
	if (--d->zrefs[slot])
		return;
	d->zombies--;
	fallocate(d->zfd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
		  (off_t)slot * XEN_PAGE_SIZE, XEN_PAGE_SIZE);
}

static bool page_dirty(const uint8_t *p)
{
	for (size_t i = 0; i < XEN_PAGE_SIZE; i++)
		if (p[i])
			return true;
	return false;
}

/* ---- the ops ------------------------------------------------------------- */

static struct xen_ctrl *f_ctrl_open(void)
{
	struct xen_ctrl *xc = NULL;

	pthread_mutex_lock(&fx.lock);
	if (fx.faults.ctrl_open) {
		errno = fx.faults.ctrl_open;
	} else {
		xc = calloc(1, 1);
		fx.handles++;
		fx.ctrl_handles++;
	}
	pthread_mutex_unlock(&fx.lock);
	return xc;
}

static void f_ctrl_close(struct xen_ctrl *xc)
{
	if (!xc)
		return;
	pthread_mutex_lock(&fx.lock);
	fx.handles--;
	fx.ctrl_handles--;
	pthread_mutex_unlock(&fx.lock);
	free(xc);
}

static int f_ctrl_mem_info(struct xen_ctrl *xc, unsigned domid,
			   uint64_t *max_pages, uint64_t *tot_pages_out)
{
	struct fx_dom *d;

	(void)xc;
	pthread_mutex_lock(&fx.lock);
	d = fx_live_dom(domid);
	if (d) {
		*max_pages = d->max_pages;
		*tot_pages_out = tot_pages(d);
	}
	pthread_mutex_unlock(&fx.lock);
	return d ? 0 : -ESRCH;
}

static int f_ctrl_set_max_pages(struct xen_ctrl *xc, unsigned domid,
				uint64_t max_pages)
{
	struct fx_dom *d;
	int r = 0;

	(void)xc;
	pthread_mutex_lock(&fx.lock);
	d = fx_live_dom(domid);
	if (!d) {
		r = -ESRCH;
	} else {
		d->set_max_calls++;
		if (fx.faults.set_max_pages)
			r = -fx.faults.set_max_pages;
		else
			d->max_pages = max_pages; /* even below tot_pages */
	}
	pthread_mutex_unlock(&fx.lock);
	return r;
}

static int f_ctrl_populate(struct xen_ctrl *xc, unsigned domid, size_t n,
			   const uint64_t *gfns)
{
	struct fx_dom *d;
	uint64_t *pop;
	int r;

	(void)xc;
	pthread_mutex_lock(&fx.lock);
	d = fx_live_dom(domid);
	if (!d) {
		pthread_mutex_unlock(&fx.lock);
		return -ESRCH;
	}
	r = fx.faults.populate ? -fx.faults.populate
			       : populate_check(d, n, gfns);
	if (r == 0 && d->npop + n > d->pop_cap) {
		size_t cap = d->npop + n + 64;

		pop = realloc(d->pop, cap * sizeof(*pop));
		if (pop) {
			d->pop = pop;
			d->pop_cap = cap;
		} else {
			r = -ENOMEM;
		}
	}
	if (r) {
		d->populate_fails++;
		pthread_mutex_unlock(&fx.lock);
		return r;
	}
	for (size_t i = 0; i < n; i++) {
		uint8_t *p = page_of(d, gfns[i]);

		mprotect(p, XEN_PAGE_SIZE, PROT_READ | PROT_WRITE);
		/* Whatever the page held before: not zero. */
		memset(p, FAKE_XEN_GARBAGE, XEN_PAGE_SIZE);
		d->pop[d->npop++] = gfns[i];
	}
	qsort(d->pop, d->npop, sizeof(*d->pop), cmp_gfn);
	d->populates++;
	d->pages_populated += (unsigned)n;
	pthread_mutex_unlock(&fx.lock);
	return 0;
}

static void (*release_hook)(void *ctx, unsigned domid, uint64_t gfn,
			    const void *page);
static void *release_hook_ctx;

void fake_xen_on_release(void (*fn)(void *ctx, unsigned domid, uint64_t gfn,
				    const void *page),
			 void *ctx)
{
	pthread_mutex_lock(&fx.lock);
	release_hook = fn;
	release_hook_ctx = ctx;
	pthread_mutex_unlock(&fx.lock);
}

/* Remove gfns (distinct, all populated) from the sorted populated set. */
static void drop_pop(struct fx_dom *d, size_t n, const uint64_t *gfns)
{
	uint64_t *gone = malloc((n ? n : 1) * sizeof(*gone));
	size_t kept = 0, j = 0;

	if (!gone)
		abort();
	memcpy(gone, gfns, n * sizeof(*gone));
	qsort(gone, n, sizeof(*gone), cmp_gfn);
	for (size_t i = 0; i < d->npop; i++) {
		while (j < n && gone[j] < d->pop[i])
			j++;
		if (j < n && gone[j] == d->pop[i])
			continue;
		d->pop[kept++] = d->pop[i];
	}
	d->npop = kept;
	free(gone);
}

static int release_check(struct fx_dom *d, size_t n, const uint64_t *gfns)
{
	for (size_t i = 0; i < n; i++) {
		if (!fx_populated_locked(d, gfns[i]))
			return -EINVAL;
		for (size_t j = 0; j < i; j++)
			if (gfns[j] == gfns[i])
				return -EINVAL;
	}
	return 0;
}

static int f_ctrl_release(struct xen_ctrl *xc, unsigned domid, size_t n,
			  const uint64_t *gfns)
{
	struct fx_dom *d;
	int r;

	(void)xc;
	pthread_mutex_lock(&fx.lock);
	d = fx_live_dom(domid);
	if (!d) {
		pthread_mutex_unlock(&fx.lock);
		return -ESRCH;
	}
	r = fx.faults.release ? -fx.faults.release : release_check(d, n, gfns);
	if (r) {
		d->release_fails++;
		pthread_mutex_unlock(&fx.lock);
		return r;
	}
	for (size_t i = 0; i < n; i++) {
		uint8_t *p = page_of(d, gfns[i]);

		if (release_hook)
			release_hook(release_hook_ctx, domid, gfns[i], p);
		/* Xen does not scrub what a live domain gives back. */
		d->dirty_released += page_dirty(p);
		zombify(d, gfns[i]);
		mprotect(p, XEN_PAGE_SIZE, PROT_NONE);
		fallocate(d->physfd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			  (off_t)(gfns[i] * XEN_PAGE_SIZE), XEN_PAGE_SIZE);
	}
	drop_pop(d, n, gfns);
	d->releases++;
	d->pages_released += (unsigned)n;
	pthread_mutex_unlock(&fx.lock);
	return 0;
}

/* ---- the test's side ----------------------------------------------------- */

int fake_xen_mem_info(unsigned domid, uint64_t *max_pages,
		      uint64_t *tot_pages_out)
{
	struct fx_dom *d;

	pthread_mutex_lock(&fx.lock);
	d = fx_dom(domid);
	if (d) {
		*max_pages = d->max_pages;
		*tot_pages_out = tot_pages(d);
	}
	pthread_mutex_unlock(&fx.lock);
	return d ? 0 : -ESRCH;
}

int fake_xen_set_max_pages(unsigned domid, uint64_t max_pages)
{
	struct fx_dom *d;

	pthread_mutex_lock(&fx.lock);
	d = fx_dom(domid);
	if (d)
		d->max_pages = max_pages;
	pthread_mutex_unlock(&fx.lock);
	return d ? 0 : -ESRCH;
}

void *fake_xen_guest_page(unsigned domid, uint64_t gfn)
{
	struct fx_dom *d;
	void *p = NULL;

	pthread_mutex_lock(&fx.lock);
	d = fx_live_dom(domid);
	if (d && fx_populated_locked(d, gfn))
		p = page_of(d, gfn);
	pthread_mutex_unlock(&fx.lock);
	return p;
}

void *fake_xen_guest_view(unsigned domid, uint64_t gpa, size_t len)
{
	struct fx_dom *d;
	void *p = NULL;

	pthread_mutex_lock(&fx.lock);
	d = fx_dom(domid);
	if (d && gpa < FAKE_XEN_PHYS_LIMIT && len <= FAKE_XEN_PHYS_LIMIT - gpa)
		p = d->phys + gpa;
	pthread_mutex_unlock(&fx.lock);
	return p;
}

int fake_xen_phys_fd(unsigned domid)
{
	struct fx_dom *d;
	int fd = -ESRCH;

	pthread_mutex_lock(&fx.lock);
	d = fx_dom(domid);
	if (d) {
		fd = fcntl(d->physfd, F_DUPFD_CLOEXEC, 0);
		if (fd < 0)
			fd = -errno;
	}
	pthread_mutex_unlock(&fx.lock);
	return fd;
}

bool fake_xen_populated(unsigned domid, uint64_t gfn)
{
	struct fx_dom *d;
	bool r;

	pthread_mutex_lock(&fx.lock);
	d = fx_dom(domid);
	r = d && fx_populated_locked(d, gfn);
	pthread_mutex_unlock(&fx.lock);
	return r;
}

void fx_ctrl_ops(struct xen_ops *o)
{
	o->ctrl_open = f_ctrl_open;
	o->ctrl_close = f_ctrl_close;
	o->ctrl_mem_info = f_ctrl_mem_info;
	o->ctrl_set_max_pages = f_ctrl_set_max_pages;
	o->ctrl_populate = f_ctrl_populate;
	o->ctrl_release = f_ctrl_release;
}
