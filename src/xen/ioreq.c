/* SPDX-License-Identifier: MIT */
/*
 * The IOREQ server of one guest.
 *
 * Protocol per vCPU slot: Xen fills the request, then sets READY and
 * signals the vCPU's event channel; we read the request, answer it, set
 * RESP_READY and notify; Xen then moves the slot back to NONE. The state
 * only ever moves forward from our side: Xen crashes the guest on a
 * "weird HVM ioreq state transition".
 */
#include "xen/xen_ioreq.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmedia/log.h"

/* Ports taken per wakeup, so other fds of the loop get their turn. */
#define EVENT_BATCH 64u

struct xen_window {
	uint64_t base, size;
	bool used;
};

struct xen_ioreq_srv {
	const struct xen_ops *ops;
	struct xen_dmod *dm;
	struct xen_fmem *fmem;
	struct xen_evtchn *xce;
	unsigned domid;
	const struct xen_ioreq_client *client;
	void *cctx;
	uint16_t id;
	bool created, enabled;
	struct xen_fres *res;
	struct xen_ioreq *page;
	unsigned nr_vcpus;
	int port[XEN_IOREQ_MAX_VCPUS]; /* local port per vCPU; -1 unbound */
	struct xen_window win[XEN_IOREQ_MAX_WINDOWS];
	struct xen_ioreq_stats st;
	struct vm_ratelimit rl;
};

static _Atomic uint8_t *slot_flags(struct xen_ioreq *slot)
{
	return (_Atomic uint8_t *)&slot->flags;
}

static bool size_ok(uint32_t size)
{
	return size == 1 || size == 2 || size == 4 || size == 8;
}

static uint64_t size_mask(unsigned size)
{
	return size == 8 ? UINT64_MAX : (1ull << (size * 8)) - 1;
}

static void log_bad(struct xen_ioreq_srv *s, const struct xen_ioreq *r,
		    const char *why)
{
	if (vm_ratelimit_ok(&s->rl))
		vm_warn((int)s->domid,
			"ioreq: %s (type %u addr %#llx size %u count %u); "
			"answered with 0",
			why, r->type, (unsigned long long)r->addr, r->size,
			r->count);
}

/* A checked MMIO access; the token for done(), or NULL. */
static void *serve_copy(struct xen_ioreq_srv *s, const struct xen_ioreq *r,
			bool read, uint64_t *val)
{
	void *token;

	/* Only x86 emulation produces these; on Arm they are forged. */
	if ((r->flags & XEN_IOREQ_F_DATA_IS_PTR) || r->count != 1 ||
	    !size_ok(r->size)) {
		s->st.bad++;
		log_bad(s, r, "malformed MMIO request");
		return NULL;
	}
	if (!read)
		*val = r->data & size_mask(r->size);
	token = s->client->access(s->cctx, r->addr, r->size, read, val);
	if (!token) {
		s->st.outside++;
		if (read)
			*val = 0;
		return NULL;
	}
	s->st.served++;
	if (read)
		*val &= size_mask(r->size);
	return token;
}

/* Answer the request in slot v (READY was seen); returns the token. */
static void *answer(struct xen_ioreq_srv *s, const struct xen_ioreq *r,
		    uint64_t *val)
{
	bool read = r->flags & XEN_IOREQ_F_DIR_READ;

	*val = 0;
	switch (r->type) {
	case XEN_IOREQ_TYPE_COPY:
		return serve_copy(s, r, read, val);
	case XEN_IOREQ_TYPE_INVALIDATE:
		/* Drop cached mappings before Xen lets the vCPU go on. */
		s->st.invalidates++;
		s->client->invalidate(s->cctx);
		return NULL;
	default:
		s->st.bad++;
		log_bad(s, r, "unexpected request type");
		return NULL;
	}
}

static void serve_slot(struct xen_ioreq_srv *s, unsigned v)
{
	struct xen_ioreq *slot = &s->page[v];
	struct xen_ioreq req;
	uint64_t val;
	uint8_t f;
	void *token;
	int r;

	f = atomic_load_explicit(slot_flags(slot), memory_order_relaxed);
	if ((f & XEN_IOREQ_F_STATE) != XEN_IOREQ_READY) {
		/* A bound port starts pending; a repeat event; not ours. */
		s->st.stale++;
		return;
	}
	/* Acquire: Xen wrote the request before it set READY. */
	atomic_thread_fence(memory_order_acquire);
	memcpy(&req, slot, sizeof(req));
	req.flags = f;
	token = answer(s, &req, &val);
	if (req.flags & XEN_IOREQ_F_DIR_READ)
		slot->data = val;
	/* Release: the data must be visible before RESP_READY. */
	atomic_thread_fence(memory_order_release);
	atomic_store_explicit(
		slot_flags(slot),
		(uint8_t)((f & ~XEN_IOREQ_F_STATE) | XEN_IOREQ_RESP_READY),
		memory_order_relaxed);
	/* Full: RESP_READY must be visible before Xen sees the event. */
	atomic_thread_fence(memory_order_seq_cst);
	r = s->ops->evtchn_notify(s->xce, (uint32_t)s->port[v]);
	if (r < 0) {
		s->st.notify_errors++;
		if (vm_ratelimit_ok(&s->rl))
			vm_warn((int)s->domid, "ioreq: notify vCPU %u: %s", v,
				strerror(-r));
	}
	/* Only now, with the vCPU running again, the deferred work. */
	if (token)
		s->client->done(s->cctx, token);
}

static int vcpu_of(const struct xen_ioreq_srv *s, int port)
{
	for (unsigned v = 0; v < s->nr_vcpus; v++)
		if (s->port[v] == port)
			return (int)v;
	return -1;
}

/* Readable now? (poll with a zero timeout never waits.) */
static bool fd_ready(int fd)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };

	return poll(&pfd, 1, 0) > 0 && (pfd.revents & POLLIN);
}

void xen_ioreq_handle(struct xen_ioreq_srv *s)
{
	int fd = s->ops->evtchn_fd(s->xce);

	for (unsigned i = 0; i < EVENT_BATCH; i++) {
		int port, v;

		/*
		 * libxenevtchn: pending() may block even on a non-blocking
		 * fd with some kernels, so ask poll() before every call.
		 */
		if (i > 0 && !fd_ready(fd))
			return;
		port = s->ops->evtchn_pending(s->xce);
		if (port < 0) {
			if (port != -EAGAIN && vm_ratelimit_ok(&s->rl))
				vm_warn((int)s->domid, "ioreq: pending: %s",
					strerror(-port));
			return;
		}
		/* Unmask first: an event during the answer is not lost. */
		s->ops->evtchn_unmask(s->xce, (uint32_t)port);
		v = vcpu_of(s, port);
		if (v >= 0)
			serve_slot(s, (unsigned)v);
	}
}

/* Complete whatever waits in a slot (teardown: the guest gets 0). */
static void drain(struct xen_ioreq_srv *s)
{
	for (unsigned v = 0; v < s->nr_vcpus; v++)
		if (s->port[v] >= 0)
			serve_slot(s, v);
}

static void VM_PRINTF(2, 3)
	fail(const struct xen_ioreq_params *p, const char *fmt, ...)
{
	va_list ap;

	if (!p->err || !p->err_len)
		return;
	va_start(ap, fmt);
	vsnprintf(p->err, p->err_len, fmt, ap);
	va_end(ap);
}

static int create_server(struct xen_ioreq_srv *s,
			 const struct xen_ioreq_params *p)
{
	int r = s->ops->dmod_create_server(s->dm, s->domid, &s->id);

	if (r == -ENOSYS || r == -EOPNOTSUPP)
		fail(p,
		     "IOREQ server not available (%s): the hypervisor lacks "
		     "CONFIG_IOREQ_SERVER; rebuild Xen with CONFIG_EXPERT=y "
		     "and CONFIG_IOREQ_SERVER=y",
		     strerror(-r));
	else if (r == -EPERM || r == -EACCES)
		fail(p,
		     "not allowed to create an IOREQ server for this guest "
		     "(%s): run vmediad in dom0, or make this driver domain "
		     "the guest's device model (xc_domain_set_target or XSM)",
		     strerror(-r));
	else if (r < 0)
		fail(p, "cannot create an IOREQ server: %s", strerror(-r));
	s->created = r == 0;
	return r;
}

static int count_vcpus(struct xen_ioreq_srv *s,
		       const struct xen_ioreq_params *p)
{
	unsigned n = 0;
	int r = s->ops->dmod_nr_vcpus(s->dm, s->domid, &n);

	if (r < 0) {
		fail(p, "cannot read the guest's vCPU count: %s", strerror(-r));
		return r;
	}
	if (n == 0 || n > XEN_IOREQ_MAX_VCPUS) {
		fail(p, "guest has %u vCPUs; 1 to %zu are supported", n,
		     (size_t)XEN_IOREQ_MAX_VCPUS);
		return -ERANGE;
	}
	s->nr_vcpus = n;
	return 0;
}

static int bind_vcpus(struct xen_ioreq_srv *s, const struct xen_ioreq_params *p)
{
	for (unsigned v = 0; v < s->nr_vcpus; v++) {
		/* Written by Xen when the server was enabled; read once. */
		uint32_t remote = s->page[v].vp_eport;
		int port = s->ops->evtchn_bind(s->xce, s->domid, remote);

		if (port < 0) {
			fail(p, "cannot bind the event channel of vCPU %u: %s",
			     v, strerror(-port));
			return port;
		}
		s->port[v] = port;
	}
	return 0;
}

/* Create, map the ioreq page, enable, then bind (vp_eport is set then). */
static int setup(struct xen_ioreq_srv *s, const struct xen_ioreq_params *p)
{
	void *addr = NULL;
	int r;

	r = count_vcpus(s, p);
	if (r == 0)
		r = create_server(s, p);
	if (r < 0)
		return r;
	s->res = s->ops->fmem_map_ioreq(s->fmem, s->domid, s->id, 1, &addr);
	if (!s->res) {
		r = errno ? -errno : -EIO;
		fail(p, "cannot map the IOREQ page: %s", strerror(-r));
		return r;
	}
	s->page = addr;
	r = s->ops->dmod_set_server_state(s->dm, s->domid, s->id, true);
	if (r < 0) {
		fail(p, "cannot enable the IOREQ server: %s", strerror(-r));
		return r;
	}
	s->enabled = true;
	return bind_vcpus(s, p);
}

struct xen_ioreq_srv *xen_ioreq_create(const struct xen_ioreq_params *p,
				       int *ret)
{
	struct xen_ioreq_srv *s = calloc(1, sizeof(*s));

	if (!s) {
		*ret = -ENOMEM;
		fail(p, "cannot set up an IOREQ server: %s", strerror(-*ret));
		return NULL;
	}
	s->ops = p->ops;
	s->dm = p->dm;
	s->fmem = p->fmem;
	s->xce = p->xce;
	s->domid = p->domid;
	s->client = p->client;
	s->cctx = p->client_ctx;
	for (unsigned v = 0; v < XEN_IOREQ_MAX_VCPUS; v++)
		s->port[v] = -1;
	*ret = setup(s, p);
	if (*ret < 0) {
		xen_ioreq_destroy(s);
		return NULL;
	}
	return s;
}

void xen_ioreq_destroy(struct xen_ioreq_srv *s)
{
	if (!s)
		return;
	for (unsigned i = 0; i < XEN_IOREQ_MAX_WINDOWS; i++)
		if (s->win[i].used)
			xen_ioreq_unmap_window(s, s->win[i].base);
	/*
	 * Disabled, Xen sends us nothing new (not even INVALIDATE); what it
	 * sent before is answered next, so no vCPU stays blocked on us.
	 */
	if (s->enabled)
		s->ops->dmod_set_server_state(s->dm, s->domid, s->id, false);
	if (s->page)
		drain(s);
	for (unsigned v = 0; v < s->nr_vcpus; v++)
		if (s->port[v] >= 0)
			s->ops->evtchn_unbind(s->xce, (uint32_t)s->port[v]);
	if (s->res)
		s->ops->fmem_unmap_ioreq(s->fmem, s->res);
	if (s->created)
		s->ops->dmod_destroy_server(s->dm, s->domid, s->id);
	free(s);
}

int xen_ioreq_map_window(struct xen_ioreq_srv *s, uint64_t base, uint64_t size)
{
	struct xen_window *w = NULL;
	int r;

	if (size == 0 || base > UINT64_MAX - (size - 1))
		return -EINVAL;
	for (unsigned i = 0; i < XEN_IOREQ_MAX_WINDOWS && !w; i++)
		if (!s->win[i].used)
			w = &s->win[i];
	if (!w)
		return -ENOSPC;
	/* end is inclusive. */
	r = s->ops->dmod_map_mmio(s->dm, s->domid, s->id, base,
				  base + size - 1);
	if (r < 0)
		return r;
	*w = (struct xen_window){ .base = base, .size = size, .used = true };
	return 0;
}

void xen_ioreq_unmap_window(struct xen_ioreq_srv *s, uint64_t base)
{
	for (unsigned i = 0; i < XEN_IOREQ_MAX_WINDOWS; i++) {
		struct xen_window *w = &s->win[i];

		if (!w->used || w->base != base)
			continue;
		s->ops->dmod_unmap_mmio(s->dm, s->domid, s->id, w->base,
					w->base + w->size - 1);
		w->used = false;
	}
}

int xen_ioreq_fd(const struct xen_ioreq_srv *s)
{
	return s->ops->evtchn_fd(s->xce);
}

unsigned xen_ioreq_vcpus(const struct xen_ioreq_srv *s)
{
	return s->nr_vcpus;
}

void xen_ioreq_get_stats(const struct xen_ioreq_srv *s,
			 struct xen_ioreq_stats *st)
{
	*st = s->st;
}
