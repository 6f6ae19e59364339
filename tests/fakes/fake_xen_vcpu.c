/* SPDX-License-Identifier: MIT */
/*
 * The fake's guest vCPUs: requests put on the ioreq page and signalled as
 * Xen does, waited for until the daemon completes them, and the
 * interrupts it raises.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fakes/fake_xen_int.h"

/* ---- the guest's vCPUs --------------------------------------------------- */

static bool covers(const struct fx_server *s, uint64_t a, uint64_t b)
{
	for (unsigned i = 0; i < s->nranges; i++)
		if (s->start[i] <= a && b <= s->end[i])
			return true;
	return false;
}

static bool wants(const struct fx_server *s, const struct fake_ioreq *rq,
		  bool first)
{
	if (!s->enabled || s->destroyed)
		return false;
	if (rq->type == XEN_IOREQ_TYPE_COPY)
		return rq->size && covers(s, rq->addr, rq->addr + rq->size - 1);
	return rq->type == XEN_IOREQ_TYPE_INVALIDATE || first;
}

static void fill_slot(struct xen_ioreq *slot, const struct fake_ioreq *rq)
{
	uint8_t f = XEN_IOREQ_READY;

	if (rq->read)
		f |= XEN_IOREQ_F_DIR_READ;
	if (rq->data_is_ptr)
		f |= XEN_IOREQ_F_DATA_IS_PTR;
	slot->addr = rq->addr;
	slot->data = rq->data;
	slot->size = rq->size;
	slot->count = rq->count;
	slot->type = rq->type;
	atomic_store_explicit(fx_flags_of(slot), f, memory_order_release);
}

/* One server, one request: 0 or a negative errno. Under fx.lock. */
static int send_locked(struct fx_server *s, struct fx_dom *d, unsigned vcpu,
		       const struct fake_ioreq *rq, uint64_t *data, int ms)
{
	struct xen_ioreq *slot = &s->page[vcpu];
	struct fx_port *port = fx_port_to(d->domid, slot->vp_eport);
	struct timespec until;
	int r = 0;

	if (!port)
		return -ENOTCONN; /* nobody bound it: the vCPU would hang */
	fill_slot(slot, rq);
	fx_push_pending(port->h, port->local);
	fx_deadline(&until, ms);
	while (fx_state_of(slot) != XEN_IOREQ_RESP_READY && d->alive && r == 0)
		r = pthread_cond_timedwait(&fx.cond, &fx.lock, &until);
	if (fx_state_of(slot) != XEN_IOREQ_RESP_READY) {
		atomic_store(fx_flags_of(slot), XEN_IOREQ_NONE);
		return d->alive ? -ETIMEDOUT : -ESRCH;
	}
	if (data)
		*data = slot->data;
	/* Xen consumes the answer and frees the slot. */
	atomic_store(fx_flags_of(slot), XEN_IOREQ_NONE);
	return 0;
}

/* The servers that get rq, held (waiters) so none is freed meanwhile. */
static unsigned pick_servers(unsigned domid, const struct fake_ioreq *rq,
			     struct fx_server **out)
{
	unsigned n = 0;

	for (struct fx_server *s = fx.servers; s && n < FX_MAX_SERVERS;
	     s = s->next) {
		if (s->domid != domid || !wants(s, rq, n == 0))
			continue;
		s->waiters++;
		out[n++] = s;
		if (rq->type != XEN_IOREQ_TYPE_INVALIDATE)
			break;
	}
	return n;
}

int fake_xen_vcpu_request(unsigned domid, unsigned vcpu,
			  const struct fake_ioreq *rq, uint64_t *data,
			  int timeout_ms)
{
	struct fx_server *to[FX_MAX_SERVERS];
	struct fx_dom *d;
	unsigned n = 0;
	int r = 0;

	pthread_mutex_lock(&fx.lock);
	d = fx_live_dom(domid);
	if (!d || vcpu >= d->nr_vcpus)
		r = d ? -EINVAL : -ESRCH;
	if (r == 0)
		n = pick_servers(domid, rq, to);
	for (unsigned i = 0; i < n; i++) {
		if (r == 0)
			r = send_locked(to[i], d, vcpu, rq, data, timeout_ms);
		to[i]->waiters--;
		fx_server_put_locked(to[i]);
	}
	pthread_mutex_unlock(&fx.lock);
	return r ? r : n ? 0 : -ENOENT;
}

int fake_xen_vcpu_kick(unsigned domid, unsigned vcpu)
{
	int r = -ENOENT;

	pthread_mutex_lock(&fx.lock);
	for (struct fx_server *s = fx.servers; s; s = s->next) {
		struct fx_port *p;

		if (s->domid != domid || !s->enabled || vcpu >= 128)
			continue;
		p = fx_port_to(domid, s->page[vcpu].vp_eport);
		if (p) {
			fx_push_pending(p->h, p->local);
			r = 0;
		}
	}
	pthread_mutex_unlock(&fx.lock);
	return r;
}

/* The first live server's slot of vcpu, or NULL. Under fx.lock. */
static struct xen_ioreq *slot_of(unsigned domid, unsigned vcpu)
{
	for (struct fx_server *s = fx.servers; s; s = s->next)
		if (s->domid == domid && !s->destroyed &&
		    vcpu < XEN_IOREQ_MAX_VCPUS)
			return &s->page[vcpu];
	return NULL;
}

int fake_xen_slot_state(unsigned domid, unsigned vcpu)
{
	struct xen_ioreq *slot;
	int st = -1;

	pthread_mutex_lock(&fx.lock);
	slot = slot_of(domid, vcpu);
	if (slot)
		st = fx_state_of(slot);
	pthread_mutex_unlock(&fx.lock);
	return st;
}

int fake_xen_slot_set(unsigned domid, unsigned vcpu, uint8_t state,
		      uint64_t data)
{
	struct xen_ioreq *slot;

	pthread_mutex_lock(&fx.lock);
	slot = slot_of(domid, vcpu);
	if (slot) {
		slot->data = data;
		atomic_store(fx_flags_of(slot), state);
	}
	pthread_mutex_unlock(&fx.lock);
	return slot ? 0 : -ENOENT;
}

uint64_t fake_xen_slot_data(unsigned domid, unsigned vcpu)
{
	struct xen_ioreq *slot;
	uint64_t v = 0;

	pthread_mutex_lock(&fx.lock);
	slot = slot_of(domid, vcpu);
	if (slot)
		v = slot->data;
	pthread_mutex_unlock(&fx.lock);
	return v;
}

int fake_xen_mmio_read(unsigned domid, uint64_t addr, unsigned size,
		       uint64_t *val)
{
	struct fake_ioreq rq = { .type = XEN_IOREQ_TYPE_COPY,
				 .read = true,
				 .addr = addr,
				 .size = size,
				 .count = 1 };

	return fake_xen_vcpu_request(domid, 0, &rq, val, 5000);
}

int fake_xen_mmio_write(unsigned domid, uint64_t addr, unsigned size,
			uint64_t val)
{
	struct fake_ioreq rq = { .type = XEN_IOREQ_TYPE_COPY,
				 .addr = addr,
				 .size = size,
				 .count = 1,
				 .data = val };

	return fake_xen_vcpu_request(domid, 0, &rq, NULL, 5000);
}

int fake_xen_irq_wait(unsigned domid, unsigned irq, int timeout_ms)
{
	struct timespec until;
	struct fx_dom *d;
	int got = 0, r = 0;

	if (irq >= FX_MAX_IRQ)
		return -EINVAL;
	fx_deadline(&until, timeout_ms);
	pthread_mutex_lock(&fx.lock);
	d = fx_dom(domid);
	while (d && d->alive && !d->irqs[irq] && r == 0 && timeout_ms != 0)
		r = pthread_cond_timedwait(&fx.cond, &fx.lock, &until);
	if (d && d->irqs[irq]) {
		d->irqs[irq]--;
		got = 1;
	} else if (!d || !d->alive) {
		got = -ESRCH; /* a dead guest waits for nothing */
	}
	pthread_mutex_unlock(&fx.lock);
	return got;
}
