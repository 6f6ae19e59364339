/* SPDX-License-Identifier: MIT */
/*
 * A test double for struct gmem: one contiguous range of "guest RAM"
 * [base, base + size) backed by an anonymous mapping with PROT_NONE guard
 * pages on both sides.
 *
 * map() checks bounds exactly as a real transport must: any byte outside
 * RAM, or addr + len wrapping past 2^64, is -EFAULT. Every mapping is
 * tracked, so a test can assert that nothing stays mapped (fake_mem_live()),
 * look up how a range was mapped (fake_mem_find_live()), and catch unmaps
 * of things that were never mapped or were already unmapped
 * (fake_mem.bad_unmaps). Calls that break the gmem_ops contract (len 0,
 * access not a non-empty subset of GMEM_READ | GMEM_WRITE) are counted in
 * fake_mem.contract_violations and fail with -EINVAL.
 *
 * Fault injection: fake_mem_fail_nth(fm, n, err) makes the n-th map call
 * from now on (1 = the next one) fail with err, once.
 */
#ifndef VMEDIA_TESTS_FAKE_MEM_H
#define VMEDIA_TESTS_FAKE_MEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmedia/guest_mem.h"

struct fake_mapping;

struct fake_mem {
	struct gmem gmem; /* hand &fm->gmem to the code under test */

	uint64_t base; /* guest address of the first byte of RAM */
	size_t size;   /* bytes of RAM */
	uint8_t *ram;  /* host view of RAM */

	/* statistics (tests read these directly) */
	unsigned live;		      /* mappings made and not yet unmapped */
	unsigned map_calls;	      /* every map() call, failed or not */
	unsigned maps_ok;	      /* map() calls that succeeded */
	unsigned unmaps;	      /* successful unmap() calls */
	unsigned efaults;	      /* map() calls refused with -EFAULT */
	unsigned bad_unmaps;	      /* unmap() of an unknown mapping */
	unsigned contract_violations; /* map() called with len 0, bad access */

	/* fault injection */
	unsigned fail_at; /* map call number (map_calls) to fail; 0 = none */
	int fail_errno;	  /* negative errno returned by that call */

	/*
	 * Called at the start of each unmap, before the mapping is
	 * forgotten (e.g. to check the ring state at that moment).
	 */
	void (*on_unmap)(struct fake_mem *fm, uint64_t addr, size_t len,
			 unsigned access);
	void *user; /* for on_unmap */

	/* private: list of live mappings */
	struct fake_mapping *maps;
	void *region;	    /* whole anonymous mapping incl. guards */
	size_t region_size; /* its size */
};

/*
 * Create RAM of `size` bytes (> 0) seen by the guest at `base`
 * (base + size must not wrap). RAM starts zeroed. Returns 0 or -errno.
 */
int fake_mem_init(struct fake_mem *fm, uint64_t base, size_t size);
/* Free RAM and forget any mapping still live (tests check live first). */
void fake_mem_fini(struct fake_mem *fm);

/*
 * Host pointer to guest range [addr, addr + len), or NULL when any byte of
 * it is outside RAM. For tests that play the driver.
 */
void *fake_mem_ptr(struct fake_mem *fm, uint64_t addr, size_t len);
/* True when [addr, addr + len) lies inside RAM (len 0: addr <= end). */
bool fake_mem_contains(const struct fake_mem *fm, uint64_t addr, size_t len);

/* Copy bytes into / out of guest RAM; abort() when out of range. */
void fake_mem_write(struct fake_mem *fm, uint64_t addr, const void *src,
		    size_t len);
void fake_mem_read(struct fake_mem *fm, uint64_t addr, void *dst, size_t len);
void fake_mem_fill(struct fake_mem *fm, uint64_t addr, int byte, size_t len);

/* Fail the nth map() call from now (1 = next call) with err (< 0), once. */
void fake_mem_fail_nth(struct fake_mem *fm, unsigned nth, int err);
/* Cancel a pending injected failure. */
void fake_mem_fail_clear(struct fake_mem *fm);

/* Mappings made and not yet unmapped. */
unsigned fake_mem_live(const struct fake_mem *fm);
/*
 * Find a live mapping that starts at guest address addr. Returns true and
 * fills *len and *access (either may be NULL) if there is one.
 */
bool fake_mem_find_live(const struct fake_mem *fm, uint64_t addr, size_t *len,
			unsigned *access);
/*
 * Number of live mappings whose guest range overlaps [addr, addr + len).
 */
unsigned fake_mem_live_overlapping(const struct fake_mem *fm, uint64_t addr,
				   size_t len);

#endif
