/* SPDX-License-Identifier: MIT */
/*
 * Shared memory region 0 of a test guest's device: a sealed memfd the
 * daemon maps whole and hands to the guest, which maps it too.
 */
#ifndef VMEDIA_TESTBUS_SHM_MEMFD_H
#define VMEDIA_TESTBUS_SHM_MEMFD_H

#include <stdint.h>

#include "vmedia/shm_region.h"

struct testbus_shm {
	struct shm_region region;
	int fd;
	void *base;
};

/* Returns 0 or a negative errno. */
int testbus_shm_create(struct testbus_shm *shm, uint64_t size,
		       uint64_t guest_base);
void testbus_shm_destroy(struct testbus_shm *shm);

#endif
