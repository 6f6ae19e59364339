/* SPDX-License-Identifier: MIT */
/*
 * The Xen transport's main-thread half: start and stop, the table of
 * guest domains, their threads, and the reports those threads send back.
 *
 * State 6 is written only once nothing of the device is mapped any more:
 * for a device removed from a guest that keeps others, when its thread
 * reports it gone; for a guest's last device, once the guest's thread
 * has torn the whole IOREQ server down (its release, after the join).
 */
#include "xen/discovery.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include "xen/xen_ops.h"

/* How long stop waits for guest threads to unmap everything. */
#define STOP_WAIT_MS 5000

/* ---- domains ------------------------------------------------------------- */

struct xdom *xb_find_dom(struct xen_backend *b, unsigned domid)
{
	for (struct xdom *d = b->doms; d; d = d->next)
		if (d->domid == domid)
			return d;
	return NULL;
}

static void read_name(struct xen_backend *b, struct xdom *d)
{
	char path[64];
	size_t len = 0;
	char *v;

	snprintf(path, sizeof(path), "/local/domain/%u/name", d->domid);
	v = b->ops->xs_read(b->xs, 0, path, &len);
	xs_clean_name(v, len, d->name, sizeof(d->name));
	free(v);
}

struct xdom *xb_get_dom(struct xen_backend *b, unsigned domid)
{
	struct xdom *d = xb_find_dom(b, domid);

	if (d)
		return d;
	d = calloc(1, sizeof(*d));
	if (!d)
		return NULL;
	d->domid = domid;
	read_name(b, d);
	d->next = b->doms;
	b->doms = d;
	return d;
}

void xb_gc_dom(struct xen_backend *b, struct xdom *d)
{
	struct xdom **pp = &b->doms;

	if (d->xg || d->recs)
		return;
	while (*pp && *pp != d)
		pp = &(*pp)->next;
	if (*pp)
		*pp = d->next;
	free(d);
}

/* ---- guests -------------------------------------------------------------- */

static void on_released(void *ctx, struct xen_guest *xg);

static struct xen_guest *spawn(struct xen_backend *b, struct xdom *d)
{
	struct xen_guest_params gp = {
		.ops = b->ops,
		.domid = d->domid,
		.hub = b->hub,
		.limits = b->cfg.limits,
		.cache_pages = b->cfg.map_cache_pages,
		.max_pages = b->cfg.max_mapped_pages,
		.max_grants = b->cfg.max_grant_pages,
		.shm_base = b->cfg.shm_base,
		.shm_size = b->cfg.shm_size,
	};
	struct guest_params p = { .domid = (int)d->domid,
				  .ops = &xen_guest_ops };
	char name[32];
	int r;

	if (b->cfg.max_guests && b->nguests >= b->cfg.max_guests) {
		vm_warn((int)d->domid, "already serving %u guests (the limit)",
			b->nguests);
		return NULL;
	}
	snprintf(name, sizeof(name), "%.31s", d->name[0] ? d->name : "xen");
	p.name = name;
	p.ctx = xen_guest_new(&gp);
	if (!p.ctx) {
		vm_err((int)d->domid, "cannot set up the guest: %s",
		       strerror(errno));
		return NULL;
	}
	/* On failure guest_spawn() has released (freed) it. */
	r = guest_spawn(b->guests, &p);
	if (r < 0) {
		vm_err((int)d->domid, "cannot start the guest's thread: %s",
		       strerror(-r));
		return NULL;
	}
	xen_guest_on_release(p.ctx, on_released, b);
	b->nguests++;
	return p.ctx;
}

void xb_stop_guest(struct xen_backend *b, struct xdom *d)
{
	struct guest *g = guest_find(b->guests, (int)d->domid);

	/* Not found: its thread ended by itself; the release follows. */
	if (g)
		guest_stop(g);
	d->stopping = true;
}

int xb_serve(struct xen_backend *b, struct xdom *d, struct xrec *rec,
	     const char *spec)
{
	struct xen_dev_spec ds = { .devid = rec->devid, .cfg = rec->cfg };
	int r;

	if (strlen(spec) >= sizeof(ds.backend)) {
		vm_warn((int)d->domid, "device %u: backend spec too long",
			rec->devid);
		return -ENAMETOOLONG;
	}
	memcpy(ds.backend, spec, strlen(spec) + 1);
	r = xd_write_state(b, d->domid, rec->devid, XS_STATE_INIT_WAIT);
	if (r < 0)
		return r; /* gone already, or xenstore failed (logged) */
	if (!d->xg)
		d->xg = spawn(b, d);
	r = d->xg ? xen_guest_add(d->xg, &ds) : -EAGAIN;
	rec->phase = XREC_STARTING;
	if (r < 0)
		xb_closed(b, d, rec);
	return r;
}

void xb_closed(struct xen_backend *b, struct xdom *d, struct xrec *rec)
{
	if (!rec->gone &&
	    xd_write_state(b, d->domid, rec->devid, XS_STATE_CLOSED) == 0)
		vm_info((int)d->domid, "device %u: closed (state 6)",
			rec->devid);
	rec->phase = XREC_CLOSED;
	if (rec->gone)
		xd_free_rec(d, rec);
}

void xb_unserve(struct xen_backend *b, struct xdom *d, struct xrec *rec)
{
	rec->phase = XREC_CLOSING;
	if (!d->xg) {
		xb_closed(b, d, rec);
		return;
	}
	/* The last device: the whole guest goes, 6 after its teardown. */
	if (xd_count_active(d) == 0 || xen_guest_remove(d->xg, rec->devid) < 0)
		xb_stop_guest(b, d);
}

/* ---- reports ------------------------------------------------------------- */

static void on_report(struct xen_backend *b, const struct xen_report *r)
{
	struct xdom *d = xb_find_dom(b, r->domid);
	struct xrec *rec = d ? xd_find_rec(d, r->devid) : NULL;

	if (!rec || d->stopping)
		return; /* the release settles everything */
	if (r->kind == XEN_REPORT_SERVING && rec->phase == XREC_STARTING) {
		rec->phase = XREC_SERVED;
		if (xd_write_state(b, d->domid, rec->devid,
				   XS_STATE_CONNECTED) == 0)
			vm_info((int)d->domid, "device %u: connected (state 4)",
				rec->devid);
		return;
	}
	if (r->kind == XEN_REPORT_SERVING)
		return;
	if (rec->phase == XREC_STARTING || rec->phase == XREC_CLOSING ||
	    (r->kind == XEN_REPORT_FAILED && rec->phase == XREC_SERVED))
		xb_closed(b, d, rec);
	/* No device left to serve: no reason to keep the IOREQ server. */
	if (d->xg && xd_count_active(d) == 0)
		xb_stop_guest(b, d);
}

static void take_reports(struct xen_backend *b)
{
	struct xen_report *r = xen_hub_take(b->hub);

	while (r) {
		struct xen_report *next = r->next;

		if (!b->stopping)
			on_report(b, r);
		free(r);
		r = next;
	}
}

/* After the join: nothing of the guest is mapped any more. */
static void on_released(void *ctx, struct xen_guest *xg)
{
	struct xen_backend *b = ctx;
	struct xdom *d = xb_find_dom(b, xen_guest_domid(xg));

	take_reports(b);
	b->nguests--;
	if (d && d->xg == xg) {
		for (struct xrec *r = d->recs, *next; r; r = next) {
			next = r->next;
			if (xd_rec_active(r) || r->phase == XREC_CLOSING)
				xb_closed(b, d, r);
		}
		d->xg = NULL;
		d->stopping = false;
		/*
		 * Devices that arrived meanwhile are picked up from the
		 * main loop: this may run inside guest_set code, which must
		 * not see a new guest spawned under it.
		 */
		d->rescan = true;
		xen_hub_poke(b->hub);
	}
	xen_guest_free(xg);
}

static void on_hub(void *ctx, uint32_t events)
{
	struct xen_backend *b = ctx;
	struct xdom *d;

	(void)events;
	xen_hub_clear(b->hub);
	take_reports(b);
	/* A rescan may free domains: restart the walk after each. */
	do {
		for (d = b->doms; d && !d->rescan; d = d->next)
			;
		if (d) {
			d->rescan = false;
			xd_rescan_domain(b, d->domid);
		}
	} while (d);
}

/* ---- start / stop -------------------------------------------------------- */

static int check_config(struct xen_backend *b, const struct xen_config *cfg)
{
	const char *def = cfg->default_backend;

	if (!cfg->backend_for && !def) {
		vm_err(VM_NO_DOM, "xen: no backend configured for guest "
				  "devices (give a default backend)");
		return -EINVAL;
	}
	if (def && strlen(def) >= sizeof(b->default_backend)) {
		vm_err(VM_NO_DOM, "xen: backend spec '%.32s...' is too long",
		       def);
		return -EINVAL;
	}
	if (def)
		memcpy(b->default_backend, def, strlen(def) + 1);
	if (b->ops == &xen_real_ops && !xen_real_layout_ok()) {
		vm_err(VM_NO_DOM, "xen: this build's ioreq_t layout does not "
				  "match the mirror in src/xen/xen_ops.h");
		return -EINVAL;
	}
	return 0;
}

/* Fail early, in one line, when this is no place to run a backend. */
static int probe(struct xen_backend *b)
{
	struct xen_dmod *dm;

	b->xs = b->ops->xs_open();
	if (!b->xs) {
		vm_err(VM_NO_DOM,
		       "cannot open xenstore: %s (is this dom0 or a driver "
		       "domain with xenstored running?)",
		       strerror(errno));
		return -ENODEV;
	}
	dm = b->ops->dmod_open();
	if (!dm) {
		vm_err(VM_NO_DOM,
		       "cannot open the Xen device model interface "
		       "(/dev/xen/privcmd): %s (load xen-privcmd; run as root)",
		       strerror(errno));
		return -ENODEV;
	}
	b->ops->dmod_close(dm);
	return 0;
}

static int setup(struct xen_backend *b)
{
	int r = probe(b);

	if (r < 0)
		return r;
	b->hub = xen_hub_create();
	if (!b->hub)
		return -ENOMEM;
	r = evloop_add(b->loop, &b->hub_src, xen_hub_fd(b->hub), EPOLLIN,
		       on_hub, b);
	if (r == 0)
		r = b->ops->xs_fileno(b->xs);
	if (r >= 0)
		r = evloop_add(b->loop, &b->xs_src, r, EPOLLIN, xd_on_watch, b);
	if (r == 0)
		r = xd_watch(b);
	if (r < 0)
		vm_err(VM_NO_DOM, "cannot watch backend/virtio in xenstore: %s",
		       strerror(-r));
	return r;
}

static void free_all(struct xen_backend *b)
{
	evloop_del(b->loop, &b->xs_src);
	evloop_del(b->loop, &b->hub_src);
	while (b->doms) {
		struct xdom *d = b->doms;

		b->doms = d->next;
		while (d->recs)
			xd_free_rec(d, d->recs);
		free(d);
	}
	if (b->xs)
		b->ops->xs_close(b->xs);
	xen_hub_put(b->hub);
	free(b);
}

struct xen_backend *xen_backend_start(struct evloop *main_loop,
				      struct guest_set *guests,
				      const struct xen_config *cfg)
{
	struct xen_backend *b = calloc(1, sizeof(*b));

	if (!b) {
		vm_err(VM_NO_DOM, "xen: out of memory");
		return NULL;
	}
	b->cfg = *cfg;
	b->ops = cfg->ops ? cfg->ops : &xen_real_ops;
	b->loop = main_loop;
	b->guests = guests;
	if (check_config(b, cfg) < 0 || setup(b) < 0) {
		free_all(b);
		return NULL;
	}
	vm_info(VM_NO_DOM, "xen: watching backend/virtio for virtio-media "
			   "devices");
	xd_rescan_all(b);
	return b;
}

/* Stop every guest thread and wait until each has unmapped everything. */
static void stop_guests(struct xen_backend *b)
{
	for (struct xdom *d = b->doms; d; d = d->next)
		if (d->xg && !d->stopping)
			xb_stop_guest(b, d);
	for (struct xdom *d = b->doms; d; d = d->next) {
		if (!d->xg)
			continue;
		if (xen_guest_wait_ended(d->xg, STOP_WAIT_MS)) {
			for (struct xrec *r = d->recs, *next; r; r = next) {
				next = r->next;
				if (xd_rec_active(r) ||
				    r->phase == XREC_CLOSING)
					xb_closed(b, d, r);
			}
		} else {
			vm_err((int)d->domid, "guest thread did not stop in "
					      "time; its devices stay open");
		}
		/* The guest_set frees it after the join. */
		xen_guest_on_release(d->xg, NULL, NULL);
		d->xg = NULL;
	}
}

void xen_backend_stop(struct xen_backend *xb)
{
	if (!xb)
		return;
	xb->stopping = true;
	xd_unwatch(xb);
	stop_guests(xb);
	take_reports(xb);
	free_all(xb);
}

unsigned xen_backend_guests(const struct xen_backend *xb)
{
	return xb->nguests;
}
