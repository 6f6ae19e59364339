/* SPDX-License-Identifier: MIT */
/*
 * Guest RAM allocation for the userspace guest driver: rings, indirect
 * tables, command and response buffers. Page-granular first fit over the
 * transport's RAM; each allocation comes back zeroed, with its guest
 * address and a host pointer to it.
 */
#ifndef VMEDIA_VG_RAM_H
#define VMEDIA_VG_RAM_H

#include <stddef.h>
#include <stdint.h>

#include "vg_transport.h"

#define VG_PAGE_SIZE 4096u

struct vg_ram {
	struct vg_transport *t;
	uint64_t npages;
	uint64_t hint;	 /* where the next search starts */
	uint8_t *bitmap; /* one bit per page, set = in use */
};

/* One allocation: [gpa, gpa + size) seen at host. */
struct vg_mem {
	uint64_t gpa;
	void *host;
	size_t size; /* rounded up to pages */
};

/* 0 or -ENOMEM. */
int vg_ram_init(struct vg_ram *r, struct vg_transport *t);
void vg_ram_fini(struct vg_ram *r);

/* size > 0. 0 with *out filled, -EINVAL or -ENOMEM. */
int vg_ram_alloc(struct vg_ram *r, size_t size, struct vg_mem *out);
/* Free an allocation (a zeroed vg_mem is ignored); m is zeroed. */
void vg_ram_free(struct vg_ram *r, struct vg_mem *m);

#endif
