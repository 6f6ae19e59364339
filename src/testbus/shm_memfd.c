/* SPDX-License-Identifier: MIT */
/*
 * The memfd is sized once and sealed against shrinking and growing, so a
 * guest holding the fd cannot truncate pages from under the daemon. Pages
 * are allocated when first touched and punched out when a buffer is
 * released, which both frees them and guarantees the next buffer placed
 * there starts zeroed.
 */
#include "testbus/shm_memfd.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

static int shm_map(void *ctx, uint64_t off, size_t len, void **host)
{
	struct testbus_shm *shm = ctx;

	if (off > shm->region.size || len > shm->region.size - off)
		return -EINVAL;
	/* Zero already: never touched, or punched out on release. */
	*host = (char *)shm->base + off;
	return 0;
}

static void shm_unmap(void *ctx, uint64_t off, size_t len, void *host)
{
	struct testbus_shm *shm = ctx;

	(void)host;
	fallocate(shm->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
		  (off_t)off, (off_t)len);
}

static const struct shm_region_ops shm_ops = {
	.map = shm_map,
	.unmap = shm_unmap,
};

int testbus_shm_create(struct testbus_shm *shm, uint64_t size,
		       uint64_t guest_base)
{
	int err;

	*shm = (struct testbus_shm){ .fd = -1, .base = MAP_FAILED };
	shm->fd = memfd_create("vmedia-shm", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (shm->fd < 0)
		return -errno;
	if (ftruncate(shm->fd, (off_t)size) < 0 ||
	    fcntl(shm->fd, F_ADD_SEALS,
		  F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) < 0)
		goto fail;
	shm->base = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED,
			 shm->fd, 0);
	if (shm->base == MAP_FAILED)
		goto fail;
	shm->region = (struct shm_region){ .ops = &shm_ops,
					   .ctx = shm,
					   .base = guest_base,
					   .size = size };
	return 0;
fail:
	err = -errno;
	testbus_shm_destroy(shm);
	return err;
}

void testbus_shm_destroy(struct testbus_shm *shm)
{
	if (shm->base != MAP_FAILED && shm->base)
		munmap(shm->base, shm->region.size);
	if (shm->fd >= 0)
		close(shm->fd);
	shm->base = MAP_FAILED;
	shm->fd = -1;
}
