/* SPDX-License-Identifier: MIT */
/*
 * One Xen guest on its own thread: guest_ops over an IOREQ server, the
 * guest's memory and its media devices. Everything here runs on the
 * guest's thread (the mailboxes are in xen_guest_mbox.c).
 *
 * Nothing on this thread blocks: the event channel fd is non-blocking,
 * every DM op is a short hypercall, and media work runs after the
 * guest's access has been completed.
 */
#include "xen/xen_guest_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "backends/registry.h"
#include "vmedia/log.h"
#include "vmedia/virtio_mmio.h"
#include "xen/gmem_xen.h"
#include "xen/irq_xen.h"
#include "xen/shm_window.h"
#include "xen/xen_ioreq.h"

/* ---- devices ------------------------------------------------------------- */

static struct xg_dev *find_dev(struct xen_guest *xg, unsigned devid)
{
	for (unsigned i = 0; i < XEN_GUEST_MAX_DEVICES; i++)
		if (xg->dev[i].used && xg->dev[i].devid == devid)
			return &xg->dev[i];
	return NULL;
}

static bool windows_overlap(uint64_t a, uint64_t b)
{
	return a < b + XS_MMIO_WINDOW && b < a + XS_MMIO_WINDOW;
}

/* A free slot for spec, or NULL with xg->err saying why not. */
static struct xg_dev *claim_slot(struct xen_guest *xg,
				 const struct xen_dev_spec *spec)
{
	struct xg_dev *free_slot = NULL;

	for (unsigned i = 0; i < XEN_GUEST_MAX_DEVICES; i++) {
		struct xg_dev *d = &xg->dev[i];

		if (!d->used) {
			free_slot = free_slot ? free_slot : d;
			continue;
		}
		if (d->devid == spec->devid ||
		    windows_overlap(d->cfg.base, spec->cfg.base)) {
			snprintf(xg->err, sizeof(xg->err),
				 "window %#llx overlaps device %u's",
				 (unsigned long long)spec->cfg.base, d->devid);
			return NULL;
		}
	}
	if (!free_slot)
		snprintf(xg->err, sizeof(xg->err),
			 "more than %u devices in one guest",
			 XEN_GUEST_MAX_DEVICES);
	return free_slot;
}

/*
 * The device's SHM window, if the guest can have one: without it the
 * device still works, with USERPTR buffers only (SHM_LEN reads ~0).
 */
static void create_window(struct xen_guest *xg, struct xg_dev *d,
			  const struct xen_dev_spec *spec)
{
	struct xen_shm_params p = {
		.ops = xg->ops,
		.ctrl = xg->ctrl,
		.fmem = xg->fmem,
		.domid = xg->domid,
		.base = xg->shm_base + (uint64_t)spec->devid * xg->shm_size,
		.size = xg->shm_size,
	};
	char msg[256];

	if (!xg->shm_size || !xg->ctrl)
		return;
	/* Past any guest's address space: refused, never wrapped. */
	if (spec->devid >= (1ull << 40) / xg->shm_size)
		p.base = 1ull << 40; /* refused below, with a message */
	d->shm = xen_shm_window_create(&p, msg, sizeof(msg));
	if (!d->shm)
		vm_warn((int)xg->domid,
			"device %u: no MMAP buffers: %s (see [xen] shm-base "
			"and shm-size in vmediad.conf)",
			spec->devid, msg);
}

static int create_media(struct xen_guest *xg, struct xg_dev *d,
			const struct xen_dev_spec *spec)
{
	struct media_device_params p = {
		.loop = guest_loop(xg->g),
		.mem = gmem_xen_gmem(xg->gx),
		.irq = &d->line,
		.limits = xg->limits,
		.domid = (int)xg->domid,
		.err = xg->err,
		.err_len = sizeof(xg->err),
	};

	p.backend = backend_lookup(spec->backend, &p.backend_args);
	if (!p.backend) {
		snprintf(xg->err, sizeof(xg->err), "unknown backend '%.200s'",
			 spec->backend);
		return -EINVAL;
	}
	irq_xen_init(&d->irq, xg->ops, xg->dm, xg->domid, spec->cfg.irq);
	d->line = irq_xen_line(&d->irq);
	create_window(xg, d, spec);
	p.shm = d->shm ? xen_shm_window_region(d->shm) : NULL;
	errno = 0;
	d->md = media_device_create(&p);
	if (!d->md) {
		int r = errno ? -errno : -ENOMEM;

		xen_shm_window_destroy(d->shm);
		d->shm = NULL;
		return r;
	}
	d->vm = media_device_mmio(d->md);
	return 0;
}

static int dev_add(struct xen_guest *xg, const struct xen_dev_spec *spec)
{
	struct xg_dev *d;
	int r;

	xg->err[0] = 0;
	if (spec->cfg.grants && !xg->gnttab) {
		snprintf(xg->err, sizeof(xg->err),
			 "the guest uses grants but /dev/xen/gntdev is not "
			 "usable (load the xen-gntdev module)");
		return -ENODEV;
	}
	d = claim_slot(xg, spec);
	if (!d)
		return -EEXIST;
	r = create_media(xg, d, spec);
	/* The device exists before the guest can reach its window. */
	if (r == 0) {
		r = xen_ioreq_map_window(xg->srv, spec->cfg.base,
					 XS_MMIO_WINDOW);
		if (r < 0)
			snprintf(xg->err, sizeof(xg->err),
				 "cannot route window %#llx to the IOREQ "
				 "server: %s",
				 (unsigned long long)spec->cfg.base,
				 strerror(-r));
	}
	if (r < 0) {
		media_device_destroy(d->md);
		xen_shm_window_destroy(d->shm);
		*d = (struct xg_dev){ 0 };
		return r;
	}
	d->used = true;
	d->devid = spec->devid;
	d->cfg = spec->cfg;
	vm_info((int)xg->domid, "device %u: window %#llx, SPI %u, %s, %s",
		d->devid, (unsigned long long)d->cfg.base, d->cfg.irq,
		d->cfg.grants ? "grants" : "foreign mapping", spec->backend);
	if (d->shm)
		vm_info((int)xg->domid, "device %u: SHM window %#llx+%#llx",
			d->devid,
			(unsigned long long)xen_shm_window_region(d->shm)->base,
			(unsigned long long)xg->shm_size);
	return 0;
}

/* Unroute the window, then free the device (unmapping its rings). */
static void dev_remove(struct xen_guest *xg, struct xg_dev *d)
{
	xen_ioreq_unmap_window(xg->srv, d->cfg.base);
	media_device_destroy(d->md);
	/* After the media device: it gave every buffer back first. */
	xen_shm_window_destroy(d->shm);
	*d = (struct xg_dev){ 0 };
	/* No cached page of the guest outlives the device needing it. */
	gmem_xen_trim(xg->gx);
}

static void run_cmd(struct xen_guest *xg, const struct xg_cmd *c)
{
	struct xg_dev *d;
	int r;

	if (c->remove) {
		d = find_dev(xg, c->spec.devid);
		if (d)
			dev_remove(xg, d);
		xg_report(xg, c->spec.devid, XEN_REPORT_REMOVED);
		return;
	}
	r = dev_add(xg, &c->spec);
	if (r < 0) {
		vm_err((int)xg->domid, "device %u: %s", c->spec.devid,
		       xg->err[0] ? xg->err : strerror(-r));
		xg_report(xg, c->spec.devid, XEN_REPORT_FAILED);
		return;
	}
	xg_report(xg, c->spec.devid, XEN_REPORT_SERVING);
}

static void on_ctl(void *ctx, uint32_t events)
{
	struct xen_guest *xg = ctx;
	struct xg_cmd *c;
	uint64_t n;

	(void)events;
	(void)!read(xg->ctl_fd, &n, sizeof(n));
	c = xg_take_cmds(xg);
	while (c) {
		struct xg_cmd *next = c->next;

		run_cmd(xg, c);
		free(c);
		c = next;
	}
}

/* ---- the IOREQ client ---------------------------------------------------- */

static void *client_access(void *ctx, uint64_t addr, unsigned size, bool read,
			   uint64_t *val)
{
	struct xen_guest *xg = ctx;

	for (unsigned i = 0; i < XEN_GUEST_MAX_DEVICES; i++) {
		struct xg_dev *d = &xg->dev[i];
		uint64_t off;

		if (!d->used || addr < d->cfg.base)
			continue;
		off = addr - d->cfg.base;
		if (off >= XS_MMIO_WINDOW || size > XS_MMIO_WINDOW - off)
			continue;
		if (read)
			*val = virtio_mmio_read(d->vm, (uint32_t)off, size);
		else
			virtio_mmio_write(d->vm, (uint32_t)off, size, *val);
		return d;
	}
	return NULL;
}

/* Come back for left-over queue work after the loop's other sources. */
static void want_more(struct xen_guest *xg)
{
	uint64_t one = 1;

	(void)!write(xg->more_fd, &one, sizeof(one));
}

/*
 * Queue work runs after the vCPU was released. A guest that refills its
 * ring as fast as the device drains it is served a ring's worth at a
 * time, with the rest deferred here, so the thread still answers other
 * vCPUs, event channels and teardown.
 */
static void client_done(void *ctx, void *token)
{
	struct xen_guest *xg = ctx;
	struct xg_dev *d = token;

	if (!d->used)
		return;
	virtio_mmio_run_pending(d->vm);
	if (virtio_mmio_has_pending(d->vm))
		want_more(xg);
}

static void on_more(void *ctx, uint32_t events)
{
	struct xen_guest *xg = ctx;
	bool again = false;
	uint64_t n;

	(void)events;
	(void)!read(xg->more_fd, &n, sizeof(n));
	for (unsigned i = 0; i < XEN_GUEST_MAX_DEVICES; i++) {
		struct xg_dev *d = &xg->dev[i];

		if (!d->used || !virtio_mmio_has_pending(d->vm))
			continue;
		virtio_mmio_run_pending(d->vm);
		again |= virtio_mmio_has_pending(d->vm);
	}
	if (again)
		want_more(xg);
}

static void client_invalidate(void *ctx)
{
	struct xen_guest *xg = ctx;

	gmem_xen_invalidate(xg->gx);
}

static const struct xen_ioreq_client ioreq_client = {
	.access = client_access,
	.done = client_done,
	.invalidate = client_invalidate,
};

static void on_event(void *ctx, uint32_t events)
{
	struct xen_guest *xg = ctx;

	(void)events;
	xen_ioreq_handle(xg->srv);
}

/* ---- guest_ops ----------------------------------------------------------- */

static int open_gnttab(struct xen_guest *xg)
{
	int r;

	xg->gnttab = xg->ops->gnttab_open();
	if (!xg->gnttab) {
		vm_warn((int)xg->domid,
			"grant mapping unavailable (/dev/xen/gntdev: %s); "
			"devices with grant_usage=1 will not be served",
			strerror(errno));
		return 0;
	}
	/* Must come before any other call on the handle. */
	r = xg->ops->gnttab_set_max_grants(xg->gnttab, xg->max_grants);
	if (r < 0)
		vm_warn((int)xg->domid,
			"cannot raise the grant limit to %u: %s",
			xg->max_grants, strerror(-r));
	return 0;
}

/* Without it the guest's devices get no SHM window: USERPTR only. */
static void open_ctrl(struct xen_guest *xg)
{
	if (!xg->shm_size || !xg->ops->ctrl_open)
		return;
	xg->ctrl = xg->ops->ctrl_open();
	if (!xg->ctrl)
		vm_warn((int)xg->domid,
			"no MMAP buffers: cannot open libxenctrl (%s); run "
			"vmediad in dom0 or give the driver domain the "
			"privilege to populate the guest's memory",
			strerror(errno));
}

static int open_handles(struct xen_guest *xg)
{
	const char *what = NULL;

	xg->xce = xg->ops->evtchn_open();
	if (!xg->xce)
		what = "the event channel device /dev/xen/evtchn";
	if (!what && !(xg->dm = xg->ops->dmod_open()))
		what = "the device model interface /dev/xen/privcmd";
	if (!what && !(xg->fmem = xg->ops->fmem_open()))
		what = "foreign memory mapping /dev/xen/privcmd";
	if (what) {
		int r = errno ? -errno : -EIO;

		snprintf(xg->err, sizeof(xg->err), "cannot open %s: %s", what,
			 strerror(-r));
		return r;
	}
	open_ctrl(xg);
	return open_gnttab(xg);
}

static int start_server(struct xen_guest *xg)
{
	struct gmem_xen_params mp = {
		.ops = xg->ops,
		.fmem = xg->fmem,
		.gnttab = xg->gnttab,
		.domid = xg->domid,
		.cache_pages = xg->cache_pages,
		.max_pages = xg->max_pages,
		.max_grants = xg->max_grants,
	};
	struct xen_ioreq_params ip = {
		.ops = xg->ops,
		.dm = xg->dm,
		.fmem = xg->fmem,
		.xce = xg->xce,
		.domid = xg->domid,
		.client = &ioreq_client,
		.client_ctx = xg,
		.err = xg->err,
		.err_len = sizeof(xg->err),
	};
	int r;

	xg->gx = gmem_xen_create(&mp);
	if (!xg->gx) {
		snprintf(xg->err, sizeof(xg->err), "out of memory");
		return -ENOMEM;
	}
	xg->srv = xen_ioreq_create(&ip, &r);
	return xg->srv ? 0 : r;
}

static int xg_start(struct guest *g)
{
	struct xen_guest *xg = guest_ctx(g);
	struct evloop *loop = guest_loop(g);
	int r;

	xg->g = g;
	r = open_handles(xg);
	if (r == 0)
		r = start_server(xg);
	if (r == 0)
		r = evloop_add(loop, &xg->ev_src, xen_ioreq_fd(xg->srv),
			       EPOLLIN, on_event, xg);
	if (r == 0)
		r = evloop_add(loop, &xg->ctl_src, xg->ctl_fd, EPOLLIN, on_ctl,
			       xg);
	if (r == 0)
		r = evloop_add(loop, &xg->more_src, xg->more_fd, EPOLLIN,
			       on_more, xg);
	if (r < 0) {
		vm_err((int)xg->domid, "%s",
		       xg->err[0] ? xg->err : strerror(-r));
		return r;
	}
	vm_info((int)xg->domid, "IOREQ server up, %u vCPU(s)",
		xen_ioreq_vcpus(xg->srv));
	on_ctl(xg, EPOLLIN); /* the devices queued before the thread ran */
	return 0;
}

/* Safe order: devices (and their mappings), server, memory, handles. */
static void xg_stop(struct guest *g)
{
	struct xen_guest *xg = guest_ctx(g);
	struct evloop *loop = guest_loop(g);

	evloop_del(loop, &xg->ev_src);
	evloop_del(loop, &xg->ctl_src);
	evloop_del(loop, &xg->more_src);
	for (unsigned i = 0; i < XEN_GUEST_MAX_DEVICES; i++)
		if (xg->dev[i].used)
			dev_remove(xg, &xg->dev[i]);
	xen_ioreq_destroy(xg->srv);
	xg->srv = NULL;
	gmem_xen_destroy(xg->gx);
	xg->gx = NULL;
	if (xg->gnttab)
		xg->ops->gnttab_close(xg->gnttab);
	if (xg->ctrl)
		xg->ops->ctrl_close(xg->ctrl);
	xg->ctrl = NULL;
	if (xg->fmem)
		xg->ops->fmem_close(xg->fmem);
	if (xg->dm)
		xg->ops->dmod_close(xg->dm);
	if (xg->xce)
		xg->ops->evtchn_close(xg->xce);
	xg->gnttab = NULL;
	xg->fmem = NULL;
	xg->dm = NULL;
	xg->xce = NULL;
	pthread_mutex_lock(&xg->hub->lock);
	xg->ended = true;
	pthread_cond_broadcast(&xg->hub->cond);
	pthread_mutex_unlock(&xg->hub->lock);
	xen_hub_poke(xg->hub);
}

static void xg_release(void *ctx)
{
	struct xen_guest *xg = ctx;

	if (xg->released)
		xg->released(xg->released_ctx, xg);
	else
		xen_guest_free(xg);
}

const struct guest_ops xen_guest_ops = {
	.start = xg_start,
	.stop = xg_stop,
	.release = xg_release,
};
