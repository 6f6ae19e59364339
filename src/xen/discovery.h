/* SPDX-License-Identifier: MIT */
/*
 * The main thread's side of the Xen transport: what it knows about every
 * backend/virtio/<domid>/<devid> directory, and the guests it runs.
 * Internal to src/xen/: discovery.c reads xenstore and drives each
 * device's handshake; xen_backend.c owns the guests and the hub.
 */
#ifndef VMEDIA_XEN_DISCOVERY_H
#define VMEDIA_XEN_DISCOVERY_H

#include <stdbool.h>

#include "daemon/guest.h"
#include "vmedia/evloop.h"
#include "vmedia/log.h"
#include "xen/xen_backend.h"
#include "xen/xen_guest.h"
#include "xen/xs_parse.h"

enum xrec_phase {
	XREC_IDLE,     /* seen, not served: not ours, malformed, not state 1 */
	XREC_WAITING,  /* valid; the domain's previous thread is ending */
	XREC_STARTING, /* state 2 written, handed to the guest thread */
	XREC_SERVED,   /* state 4 written */
	XREC_CLOSING,  /* asked to stop; state 6 follows the teardown */
	XREC_CLOSED,   /* state 6 written (or the directory is gone) */
};

/* One device directory. */
struct xrec {
	struct xrec *next;
	unsigned devid;
	enum xrec_phase phase;
	bool logged; /* why it stays IDLE was said once */
	bool gone;   /* the directory was removed */
	struct xs_dev_cfg cfg;
};

/* One guest domain with at least one device directory. */
struct xdom {
	struct xdom *next;
	unsigned domid;
	char name[64]; /* "" when unreadable */
	struct xen_guest *xg;
	bool stopping; /* guest_stop() sent; waiting for its release */
	bool rescan;   /* look at its directory again from the main loop */
	struct xrec *recs;
};

struct xen_backend {
	const struct xen_ops *ops;
	struct xen_config cfg;
	char default_backend[XEN_BACKEND_SPEC_MAX];
	struct evloop *loop;
	struct guest_set *guests;
	struct xen_xs *xs;
	struct xen_hub *hub;
	struct evloop_source xs_src, hub_src;
	struct xdom *doms;
	unsigned nguests;
	bool stopping;
	struct vm_ratelimit rl;
};

/* ---- discovery.c --------------------------------------------------------- */
int xd_watch(struct xen_backend *b);
void xd_unwatch(struct xen_backend *b);
void xd_on_watch(void *ctx, uint32_t events);
void xd_rescan_all(struct xen_backend *b);
void xd_rescan_domain(struct xen_backend *b, unsigned domid);
/* Write state if the device's directory still exists; 0 or -errno. */
int xd_write_state(struct xen_backend *b, unsigned domid, unsigned devid,
		   unsigned state);
struct xrec *xd_find_rec(struct xdom *d, unsigned devid);
void xd_free_rec(struct xdom *d, struct xrec *rec);
bool xd_rec_active(const struct xrec *rec);
unsigned xd_count_active(const struct xdom *d);

/* ---- xen_backend.c ------------------------------------------------------- */
struct xdom *xb_find_dom(struct xen_backend *b, unsigned domid);
struct xdom *xb_get_dom(struct xen_backend *b, unsigned domid);
/* Free d if it has no guest and no device left. */
void xb_gc_dom(struct xen_backend *b, struct xdom *d);
/* Hand a valid, state-1 device to its guest (spawning it). */
int xb_serve(struct xen_backend *b, struct xdom *d, struct xrec *rec,
	     const char *spec);
/* Stop serving a device (online=0, state 5, directory gone). */
void xb_unserve(struct xen_backend *b, struct xdom *d, struct xrec *rec);
/* Tear the whole guest down (its domain died). */
void xb_stop_guest(struct xen_backend *b, struct xdom *d);
/* Write 6 (if the directory is there) and mark the device closed. */
void xb_closed(struct xen_backend *b, struct xdom *d, struct xrec *rec);

#endif
