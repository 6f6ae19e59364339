/* SPDX-License-Identifier: MIT */
/*
 * One guest's IOREQ server: every MMIO window vmediad serves in that
 * guest, its ioreq page and one event channel per vCPU. Guest accesses
 * come in through the event channels; each is answered through the
 * client and completed before any deferred work runs.
 *
 * Everything on the ioreq page is written by Xen on behalf of a hostile
 * guest: it is read once, checked, and only the checked copy is used.
 */
#ifndef VMEDIA_XEN_XEN_IOREQ_H
#define VMEDIA_XEN_XEN_IOREQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "xen/xen_ops.h"

#define XEN_IOREQ_MAX_WINDOWS 32u

struct xen_ioreq_client {
	/*
	 * A guest MMIO access of `size` 1, 2, 4 or 8 bytes at addr; reads
	 * fill *val. Returns a token for done() when a device's window held
	 * the whole access, NULL when none did (then it reads as 0).
	 */
	void *(*access)(void *ctx, uint64_t addr, unsigned size, bool read,
			uint64_t *val);
	/* The vCPU has been released: run the access's deferred work. */
	void (*done)(void *ctx, void *token);
	/* Xen's mapcache INVALIDATE, before it is completed. */
	void (*invalidate)(void *ctx);
};

struct xen_ioreq_params {
	const struct xen_ops *ops;
	struct xen_dmod *dm;
	struct xen_fmem *fmem;
	struct xen_evtchn *xce;
	unsigned domid;
	const struct xen_ioreq_client *client;
	void *client_ctx;
	char *err; /* on failure: one line saying what and how to fix */
	size_t err_len;
};

struct xen_ioreq_stats {
	uint64_t served;      /* COPY accesses a device answered */
	uint64_t outside;     /* COPY accesses no window held */
	uint64_t bad;	      /* malformed requests, answered with 0 */
	uint64_t stale;	      /* events for a slot not in READY */
	uint64_t invalidates; /* mapcache INVALIDATE requests */
	uint64_t notify_errors;
};

struct xen_ioreq_srv;

/*
 * Create, map, enable and bind. Returns NULL with *ret a negative errno
 * and p->err filled.
 */
struct xen_ioreq_srv *xen_ioreq_create(const struct xen_ioreq_params *p,
				       int *ret);
/*
 * Unmap every window, disable, complete what is still waiting, unbind,
 * unmap the page, destroy. DM errors (a dead domain) are ignored.
 */
void xen_ioreq_destroy(struct xen_ioreq_srv *s);

/* Route [base, base + size) to this server. 0 or a negative errno. */
int xen_ioreq_map_window(struct xen_ioreq_srv *s, uint64_t base, uint64_t size);
void xen_ioreq_unmap_window(struct xen_ioreq_srv *s, uint64_t base);

/* The fd to poll, and what to call when it is readable. */
int xen_ioreq_fd(const struct xen_ioreq_srv *s);
void xen_ioreq_handle(struct xen_ioreq_srv *s);

unsigned xen_ioreq_vcpus(const struct xen_ioreq_srv *s);
void xen_ioreq_get_stats(const struct xen_ioreq_srv *s,
			 struct xen_ioreq_stats *st);

#endif
