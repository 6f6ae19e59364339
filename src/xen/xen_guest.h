/* SPDX-License-Identifier: MIT */
/*
 * One Xen guest domain on its own thread (daemon/guest.h): the IOREQ
 * server, the guest's memory, and a media device per served window.
 *
 * The main thread (discovery) and the guest's thread talk through two
 * mailboxes under one lock: commands to the guest (serve / stop serving
 * a device) wake it through its eventfd; reports back (serving, failed,
 * removed) go into the hub, whose eventfd wakes the main loop.
 */
#ifndef VMEDIA_XEN_XEN_GUEST_H
#define VMEDIA_XEN_XEN_GUEST_H

#include <stdbool.h>

#include "daemon/guest.h"
#include "vmedia/media_device.h"
#include "xen/xen_hub.h"
#include "xen/xen_ops.h"
#include "xen/xs_parse.h"

/* Devices one guest may have (libxl itself stops at 11). */
#define XEN_GUEST_MAX_DEVICES 32u
#define XEN_BACKEND_SPEC_MAX  256u

/* What the main thread asks a guest to serve. */
struct xen_dev_spec {
	unsigned devid;
	struct xs_dev_cfg cfg;
	char backend[XEN_BACKEND_SPEC_MAX]; /* "name[:args]" */
};

/* ---- one guest ----------------------------------------------------------- */
struct xen_guest_params {
	const struct xen_ops *ops;
	unsigned domid;
	struct xen_hub *hub;
	struct media_limits limits;
	unsigned cache_pages, max_pages, max_grants; /* gmem_xen_params */
	/* Device devid's SHM window: base + devid * size; size 0 = none. */
	uint64_t shm_base, shm_size;
};

struct xen_guest;

/* Main thread. NULL with errno set. Holds a reference on the hub. */
struct xen_guest *xen_guest_new(const struct xen_guest_params *p);
/* Main thread, once the thread has ended (or never started). */
void xen_guest_free(struct xen_guest *xg);

/* Main thread: serve / stop serving a device. 0 or -ENOMEM. */
int xen_guest_add(struct xen_guest *xg, const struct xen_dev_spec *spec);
int xen_guest_remove(struct xen_guest *xg, unsigned devid);

/* Any thread: the guest thread has torn everything down. */
bool xen_guest_ended(struct xen_guest *xg);
/* Main thread: wait until it has, up to deadline_ms; true if it has. */
bool xen_guest_wait_ended(struct xen_guest *xg, int deadline_ms);

/*
 * Main thread: who to tell when the guest_set releases it (after the
 * join). NULL: release just frees it.
 */
void xen_guest_on_release(struct xen_guest *xg,
			  void (*fn)(void *ctx, struct xen_guest *xg),
			  void *ctx);
unsigned xen_guest_domid(const struct xen_guest *xg);

/* ops for guest_spawn(); ctx is the struct xen_guest. */
extern const struct guest_ops xen_guest_ops;

#endif
