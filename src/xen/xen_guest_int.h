/* SPDX-License-Identifier: MIT */
/*
 * Internal to xen_guest.c (the guest's thread) and xen_guest_mbox.c (the
 * mailboxes, and the main thread's side): one guest's state.
 */
#ifndef VMEDIA_XEN_XEN_GUEST_INT_H
#define VMEDIA_XEN_XEN_GUEST_INT_H

#include "vmedia/evloop.h"
#include "xen/irq_xen.h"
#include "xen/xen_guest.h"

struct gmem_xen;
struct xen_ioreq_srv;

struct xg_cmd {
	struct xg_cmd *next;
	bool remove;
	struct xen_dev_spec spec; /* remove: only devid */
};

struct xen_shm_window;

struct xg_dev {
	bool used;
	unsigned devid;
	struct xs_dev_cfg cfg;
	struct media_device *md;
	struct virtio_mmio *vm;
	struct irq_xen irq;
	struct irq_line line;
	struct xen_shm_window *shm; /* NULL: no MMAP buffers */
};

struct xen_guest {
	/* Set by xen_guest_new(), then read-only. */
	const struct xen_ops *ops;
	unsigned domid;
	struct xen_hub *hub;
	struct media_limits limits;
	unsigned cache_pages, max_pages, max_grants;
	uint64_t shm_base, shm_size; /* the devices' SHM windows */
	int ctl_fd;  /* eventfd: commands wait */
	int more_fd; /* eventfd: a device has queue work left over */
	/* Under hub->lock. */
	struct xg_cmd *cmds, **cmd_tail;
	bool ended;
	/* Main thread only. */
	void (*released)(void *ctx, struct xen_guest *xg);
	void *released_ctx;
	/* Guest thread only. */
	struct guest *g;
	struct xen_evtchn *xce;
	struct xen_dmod *dm;
	struct xen_fmem *fmem;
	struct xen_gnttab *gnttab;
	struct xen_ctrl *ctrl; /* NULL: no SHM windows */
	struct gmem_xen *gx;
	struct xen_ioreq_srv *srv;
	struct evloop_source ctl_src, ev_src, more_src;
	struct xg_dev dev[XEN_GUEST_MAX_DEVICES];
	char err[256];
};

/* Guest thread: tell the main thread about a device. */
void xg_report(struct xen_guest *xg, unsigned devid, enum xen_report_kind kind);
/* Guest thread: take the commands waiting, oldest first. */
struct xg_cmd *xg_take_cmds(struct xen_guest *xg);

#endif
