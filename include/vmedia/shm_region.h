/* SPDX-License-Identifier: MIT */
/*
 * A device's shared memory region 0, where MMAP buffers live. The
 * transport provides the memory: the test transport a memfd the guest maps,
 * Xen pages populated into a window of the guest's physical address space.
 * The protocol layer decides offsets; the transport backs them.
 */
#ifndef VMEDIA_SHM_REGION_H
#define VMEDIA_SHM_REGION_H

#include <stddef.h>
#include <stdint.h>

struct shm_region_ops {
	/*
	 * Back [off, off + len) with memory the guest can map, zeroed (fresh
	 * pages may hold another guest's data), and return the host view.
	 * Returns 0 or a negative errno.
	 */
	int (*map)(void *ctx, uint64_t off, size_t len, void **host);
	/*
	 * The guest has unmapped the range and the device dropped it: scrub
	 * and release the memory.
	 */
	void (*unmap)(void *ctx, uint64_t off, size_t len, void *host);
};

struct shm_region {
	const struct shm_region_ops *ops;
	void *ctx;
	uint64_t base; /* guest address reported in SHM_BASE */
	uint64_t size; /* bytes; at most 4 GiB (V4L2 offsets are 32-bit) */
};

#endif
