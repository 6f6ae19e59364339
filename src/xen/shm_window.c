/* SPDX-License-Identifier: MIT */
/*
 * A device's SHM window on Xen (see shm_window.h): buffer pages populated
 * into the guest's physical address space and foreign-mapped here.
 */
#include "xen/shm_window.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "vmedia/log.h"

/* One populated buffer. */
struct shm_piece {
	uint64_t off;
	size_t len;
	void *host;
	struct shm_piece *next;
};

struct xen_shm_window {
	struct shm_region region;
	struct xen_shm_params p;
	struct shm_piece *pieces;
	uint64_t pages;
	struct vm_ratelimit log_rl; /* the guest can make these fail often */
};

static uint64_t *piece_gfns(const struct xen_shm_window *w, uint64_t off,
			    size_t pages)
{
	uint64_t *gfns = calloc(pages, sizeof(*gfns));
	uint64_t first = (w->p.base + off) >> XEN_PAGE_SHIFT;

	for (size_t i = 0; gfns && i < pages; i++)
		gfns[i] = first + i;
	return gfns;
}

/*
 * Move the guest's memory limit by delta pages, from a fresh reading: an
 * administrator's `xl mem-max` meanwhile must not be undone.
 */
static int move_limit(struct xen_shm_window *w, int64_t delta)
{
	const struct xen_ops *o = w->p.ops;
	uint64_t max, tot;
	int r = o->ctrl_mem_info(w->p.ctrl, w->p.domid, &max, &tot);

	if (r < 0)
		return r;
	if (delta < 0 && max < (uint64_t)-delta)
		return -ERANGE;
	return o->ctrl_set_max_pages(w->p.ctrl, w->p.domid,
				     max + (uint64_t)delta);
}

/* A failed mapping's pages that did map are scrubbed before going back. */
static void scrub_and_unmap(struct xen_shm_window *w, void *p, size_t pages,
			    const int *err)
{
	for (size_t i = 0; i < pages; i++)
		if (!err[i])
			memset((uint8_t *)p + i * XEN_PAGE_SIZE, 0,
			       XEN_PAGE_SIZE);
	w->p.ops->fmem_unmap(w->p.fmem, p, pages);
}

/* Populate the pages and map them; on failure nothing is left behind. */
static int add_pages(struct xen_shm_window *w, const uint64_t *gfns,
		     size_t pages, void **host)
{
	const struct xen_ops *o = w->p.ops;
	int *err = calloc(pages, sizeof(*err));
	void *p = NULL;
	int r = err ? move_limit(w, (int64_t)pages) : -ENOMEM;

	if (r == 0) {
		r = o->ctrl_populate(w->p.ctrl, w->p.domid, pages, gfns);
		if (r < 0)
			move_limit(w, -(int64_t)pages);
	}
	if (r == 0) {
		p = o->fmem_map(w->p.fmem, w->p.domid, PROT_READ | PROT_WRITE,
				pages, gfns, err);
		for (size_t i = 0; p && i < pages && r == 0; i++)
			r = err[i] ? (err[i] < 0 ? err[i] : -err[i]) : 0;
		if (!p)
			r = errno ? -errno : -EIO;
		if (r < 0) {
			if (p)
				scrub_and_unmap(w, p, pages, err);
			o->ctrl_release(w->p.ctrl, w->p.domid, pages, gfns);
			move_limit(w, -(int64_t)pages);
		}
	}
	free(err);
	*host = p;
	return r;
}

static int window_map(void *ctx, uint64_t off, size_t len, void **host)
{
	struct xen_shm_window *w = ctx;
	size_t pages = len >> XEN_PAGE_SHIFT;
	struct shm_piece *piece = calloc(1, sizeof(*piece));
	uint64_t *gfns = piece_gfns(w, off, pages);
	int r = piece && gfns ? 0 : -ENOMEM;

	if (r == 0 &&
	    (len % XEN_PAGE_SIZE || off > w->p.size || len > w->p.size - off))
		r = -EINVAL;
	if (r == 0)
		r = add_pages(w, gfns, pages, host);
	free(gfns);
	if (r < 0) {
		if (vm_ratelimit_ok(&w->log_rl))
			vm_warn((int)w->p.domid,
				"SHM window: cannot add %zu pages at %#llx: %s",
				pages, (unsigned long long)(w->p.base + off),
				strerror(-r));
		free(piece);
		return r;
	}
	/* Fresh pages hold what their last owner left there. */
	memset(*host, 0, len);
	*piece = (struct shm_piece){ off, len, *host, w->pieces };
	w->pieces = piece;
	w->pages += pages;
	return 0;
}

/* Scrub, unmap and give back one piece. */
static void release_piece(struct xen_shm_window *w, struct shm_piece *piece)
{
	const struct xen_ops *o = w->p.ops;
	size_t pages = piece->len >> XEN_PAGE_SHIFT;
	uint64_t *gfns = piece_gfns(w, piece->off, pages);
	int r;

	/* Xen does not scrub pages a live domain gives back. */
	memset(piece->host, 0, piece->len);
	o->fmem_unmap(w->p.fmem, piece->host, pages);
	r = gfns ? o->ctrl_release(w->p.ctrl, w->p.domid, pages, gfns)
		 : -ENOMEM;
	if (r == 0)
		r = move_limit(w, -(int64_t)pages);
	/* A dead domain's pages go with it: nothing to say then. */
	if (r < 0 && r != -ESRCH && vm_ratelimit_ok(&w->log_rl))
		vm_warn((int)w->p.domid,
			"SHM window: cannot give back %zu pages at %#llx: %s "
			"(guest memory limit stays raised)",
			pages, (unsigned long long)(w->p.base + piece->off),
			strerror(-r));
	free(gfns);
	w->pages -= pages;
}

static void window_unmap(void *ctx, uint64_t off, size_t len, void *host)
{
	struct xen_shm_window *w = ctx;

	for (struct shm_piece **pp = &w->pieces; *pp; pp = &(*pp)->next) {
		struct shm_piece *piece = *pp;

		if (piece->off != off || piece->len != len ||
		    piece->host != host)
			continue;
		*pp = piece->next;
		release_piece(w, piece);
		free(piece);
		return;
	}
	vm_warn((int)w->p.domid, "SHM window: unmap of unknown range %#llx+%zu",
		(unsigned long long)off, len);
}

static const struct shm_region_ops window_ops = {
	.map = window_map,
	.unmap = window_unmap,
};

struct xen_shm_window *xen_shm_window_create(const struct xen_shm_params *p,
					     char *msg, size_t msg_len)
{
	struct xen_shm_window *w;
	int r = xen_shm_layout_check(p->base, p->size, msg, msg_len);

	if (r < 0) {
		errno = -r;
		return NULL;
	}
	w = calloc(1, sizeof(*w));
	if (!w) {
		snprintf(msg, msg_len, "out of memory");
		errno = ENOMEM;
		return NULL;
	}
	w->p = *p;
	w->region = (struct shm_region){
		.ops = &window_ops,
		.ctx = w,
		.base = p->base,
		.size = p->size,
	};
	return w;
}

void xen_shm_window_destroy(struct xen_shm_window *w)
{
	if (!w)
		return;
	while (w->pieces) {
		struct shm_piece *piece = w->pieces;

		w->pieces = piece->next;
		release_piece(w, piece);
		free(piece);
	}
	free(w);
}

const struct shm_region *xen_shm_window_region(struct xen_shm_window *w)
{
	return &w->region;
}

uint64_t xen_shm_window_pages(const struct xen_shm_window *w)
{
	return w->pages;
}
