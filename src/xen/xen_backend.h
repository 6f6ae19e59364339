/* SPDX-License-Identifier: MIT */
/*
 * The Xen transport, as the daemon sees it: start it on the main loop and
 * it finds every virtio-media device ("virtio,device30", transport mmio)
 * that the toolstack writes under backend/virtio in xenstore, serves each
 * guest domain from its own thread in `guests`, and answers the xenbus
 * handshake (2 on discovery, 4 once served, 6 after teardown).
 */
#ifndef VMEDIA_XEN_BACKEND_H
#define VMEDIA_XEN_BACKEND_H

#include "daemon/guest.h"
#include "vmedia/evloop.h"
#include "vmedia/media_device.h"

struct xen_ops;

struct xen_config {
	/* NULL: the Xen libraries. Tests pass a fake. */
	const struct xen_ops *ops;
	/*
	 * The backend spec ("name[:args]", e.g. "vcam:mplane") serving one
	 * device, or NULL to leave that device alone. Called on the main
	 * thread; the string is copied at once. domain_name is "" when it
	 * cannot be read. NULL callback: default_backend for every device.
	 */
	const char *(*backend_for)(void *ctx, int domid,
				   const char *domain_name, unsigned devid);
	void *backend_ctx;
	const char *default_backend;
	/* Per device; zero fields take the defaults. */
	struct media_limits limits;
	/* Per guest; 0 = default (see gmem_xen.h). */
	unsigned map_cache_pages;  /* idle foreign pages kept mapped */
	unsigned max_mapped_pages; /* foreign pages mapped at once */
	unsigned max_grant_pages;  /* grant pages mapped at once */
	unsigned max_guests;	   /* 0 = no limit */
	/*
	 * SHM windows for MMAP buffers: device devid of every guest gets
	 * [shm_base + devid * shm_size, + shm_size) of its physical address
	 * space (shm_window.h). shm_size 0: no window, MMAP is ENOTTY.
	 */
	uint64_t shm_base, shm_size;
};

struct xen_backend;

/*
 * Open xenstore, watch backend/virtio and @releaseDomain, and pick up the
 * devices already there. On the main thread, before its loop runs.
 * Returns NULL after logging one line that says what failed and what to
 * do (e.g. no xenstore on this machine).
 */
struct xen_backend *xen_backend_start(struct evloop *main_loop,
				      struct guest_set *guests,
				      const struct xen_config *cfg);

/*
 * Stop discovery, stop every guest this backend runs, wait (up to a few
 * seconds) until their threads have unmapped everything, answer state 6
 * for each device served, and close xenstore. On the main thread after
 * its loop returned, before guest_set_destroy() (the other order works
 * too). NULL is accepted.
 */
void xen_backend_stop(struct xen_backend *xb);

/* Guests with a thread now (main thread only: for logs). */
unsigned xen_backend_guests(const struct xen_backend *xb);

#endif
