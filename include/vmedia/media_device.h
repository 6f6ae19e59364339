/* SPDX-License-Identifier: MIT */
/*
 * A virtio-media device: device ID 48 behind a virtio-mmio register file,
 * its 40-byte config space, and its two queues. Transports create one per
 * window they serve and feed its register file.
 */
#ifndef VMEDIA_MEDIA_DEVICE_H
#define VMEDIA_MEDIA_DEVICE_H

#include <stddef.h>
#include <stdint.h>

#include "vmedia/guest_mem.h"
#include "vmedia/irq.h"

struct media_device;
struct virtio_mmio;

/* What one guest may hold on one device (0 = the default). */
struct media_limits {
	unsigned max_sessions;	    /* open sessions; default 256 */
	unsigned max_events;	    /* events waiting for the guest; 1024 */
	uint64_t max_userptr_bytes; /* guest memory mapped for USERPTR; 1 GiB */
};

/* v4l2-compliance opens a node 100 times at once; so may applications. */
#define MEDIA_DEFAULT_MAX_SESSIONS	256u
#define MEDIA_DEFAULT_MAX_EVENTS	1024u
#define MEDIA_DEFAULT_MAX_USERPTR_BYTES (1ull << 30)

struct vmedia_backend_class;
struct shm_region;
struct evloop;

struct media_device_params {
	const struct vmedia_backend_class *backend;
	const char *backend_args; /* the backend's own arguments, may be "" */
	struct evloop *loop;	  /* the guest's thread's loop */
	const struct gmem *mem;
	const struct irq_line *irq;
	const struct shm_region *shm; /* NULL: no MMAP buffers */
	struct media_limits limits;   /* zero fields take the defaults */
	int domid;
	char *err; /* on failure: one line saying what and how to fix */
	size_t err_len;
};

/* Returns NULL with errno set on failure. */
struct media_device *media_device_create(const struct media_device_params *p);
void media_device_destroy(struct media_device *md);
struct virtio_mmio *media_device_mmio(struct media_device *md);

#endif
