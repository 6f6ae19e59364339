/* SPDX-License-Identifier: MIT */
/*
 * Guest memory: the one way every layer above the transport touches guest
 * RAM. A transport (Xen foreign/grant mapping, the test transport's memfd)
 * implements these ops; the virtio layer and the protocol layer only see
 * host pointers to ranges that the transport has checked.
 */
#ifndef VMEDIA_GUEST_MEM_H
#define VMEDIA_GUEST_MEM_H

#include <stddef.h>
#include <stdint.h>

#define GMEM_READ  1u /* the device reads the range */
#define GMEM_WRITE 2u /* the device writes the range */

/* One mapped guest range: [addr, addr + len) seen at ptr. */
struct gmem_map {
	void *ptr;
	size_t len;
	void *priv; /* the transport's token for unmap */
};

struct gmem_ops {
	/*
	 * Map [addr, addr + len) with the given GMEM_* access. len is > 0.
	 * Returns 0, or -EFAULT when any byte lies outside memory the guest
	 * owns (or addr + len overflows), or another negative errno when
	 * the transport cannot map now. out is untouched on failure.
	 */
	int (*map)(void *ctx, uint64_t addr, size_t len, unsigned access,
		   struct gmem_map *out);
	/* Release a mapping made by map(). */
	void (*unmap)(void *ctx, struct gmem_map *m);
};

struct gmem {
	const struct gmem_ops *ops;
	void *ctx;
};

static inline int gmem_map(const struct gmem *mem, uint64_t addr, size_t len,
			   unsigned access, struct gmem_map *out)
{
	return mem->ops->map(mem->ctx, addr, len, access, out);
}

static inline void gmem_unmap(const struct gmem *mem, struct gmem_map *m)
{
	if (m->ptr)
		mem->ops->unmap(mem->ctx, m);
	m->ptr = NULL;
	m->len = 0;
	m->priv = NULL;
}

#endif
