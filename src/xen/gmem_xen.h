/* SPDX-License-Identifier: MIT */
/*
 * Guest memory of one Xen guest (struct gmem), for every device of it:
 *
 * - guest-physical addresses: foreign mappings, kept in a bounded,
 *   page-granular LRU cache so rings and small command buffers are not
 *   remapped on every access. INVALIDATE drops it.
 * - grant addresses (bit 63 set, grant_usage=1 guests): the grant refs
 *   gref.. gref+n-1 mapped for exactly as long as the caller holds the
 *   range, read-only when the device only reads it. Never cached: the
 *   guest ends its grant after the used element is published and a
 *   mapping still held then breaks its device.
 *
 * Used only from the guest's thread.
 */
#ifndef VMEDIA_XEN_GMEM_XEN_H
#define VMEDIA_XEN_GMEM_XEN_H

#include <stdint.h>

#include "vmedia/guest_mem.h"
#include "xen/xen_ops.h"

#define GMEM_XEN_GRANT_BIT (1ull << 63)
#define GMEM_XEN_GPA_LIMIT (1ull << 52)
#define GMEM_XEN_MAX_GREF  UINT32_MAX

/* Defaults for zero fields of gmem_xen_params. */
#define GMEM_XEN_DEFAULT_CACHE_PAGES 1024u   /* 4 MiB kept idle */
#define GMEM_XEN_DEFAULT_MAX_PAGES   262144u /* 1 GiB mapped at once */
#define GMEM_XEN_DEFAULT_MAX_GRANTS  4096u   /* 16 MiB of grants */
/*
 * Every mapping is a VMA of vmediad's, and a process has at most
 * vm.max_map_count (65530) of them for all guests together: a guest whose
 * USERPTR buffers scatter over single pages must not use them all up.
 */
#define GMEM_XEN_DEFAULT_MAX_MAPS 4096u

struct gmem_xen_params {
	const struct xen_ops *ops;
	struct xen_fmem *fmem;
	struct xen_gnttab *gnttab; /* NULL: grant addresses fault */
	unsigned domid;
	unsigned cache_pages; /* idle foreign pages kept mapped */
	unsigned max_pages;   /* foreign pages mapped at once, in use or not */
	unsigned max_grants;  /* grant pages mapped at once */
	unsigned max_maps;    /* mappings (foreign and grant) at once */
};

struct gmem_xen_stats {
	uint64_t mapped_pages; /* foreign pages mapped now */
	uint64_t idle_pages;   /* of which nobody uses (the cache) */
	uint64_t grant_pages;  /* grant pages mapped now */
	uint64_t maps;	       /* mappings now, foreign and grant */
	uint64_t hits, misses, evictions, invalidations;
};

struct gmem_xen;

/* NULL with errno set on allocation failure. */
struct gmem_xen *gmem_xen_create(const struct gmem_xen_params *p);
/*
 * Unmap everything. Every range should have been released by then; any
 * still held is unmapped anyway and logged.
 */
void gmem_xen_destroy(struct gmem_xen *gx);
const struct gmem *gmem_xen_gmem(struct gmem_xen *gx);

/*
 * Xen's mapcache INVALIDATE: the guest's p2m lost RAM pages. Drop every
 * idle mapping; ranges in use keep their (now possibly stale) pages until
 * released, and are never handed out again.
 */
void gmem_xen_invalidate(struct gmem_xen *gx);
/* Drop every idle mapping (a device went away). */
void gmem_xen_trim(struct gmem_xen *gx);
void gmem_xen_get_stats(const struct gmem_xen *gx, struct gmem_xen_stats *st);

#endif
