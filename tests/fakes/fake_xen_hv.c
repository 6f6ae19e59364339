/* SPDX-License-Identifier: MIT */
/*
 * The fake's hypervisor side: IOREQ servers (with a real ioreq page the
 * daemon maps), event channels, interrupts, and the guest vCPUs the test
 * drives. Xen's rules are kept where the daemon could get them wrong:
 * freshly bound ports start pending, vp_eport is only valid once a
 * server is enabled, a range end is inclusive, a dead domain fails every
 * operation and loses its servers.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "fakes/fake_xen_int.h"

_Atomic uint8_t *fx_flags_of(struct xen_ioreq *slot)
{
	return (_Atomic uint8_t *)&slot->flags;
}

uint8_t fx_state_of(struct xen_ioreq *slot)
{
	return atomic_load_explicit(fx_flags_of(slot), memory_order_acquire) &
	       XEN_IOREQ_F_STATE;
}

void fx_deadline(struct timespec *ts, int ms)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

/* ---- event channels ------------------------------------------------------ */

void fx_push_pending(struct xen_evtchn *h, uint32_t port)
{
	uint64_t one = 1;

	for (unsigned i = 0; i < h->npending; i++)
		if (h->pending[i] == port)
			return; /* already pending: events coalesce */
	if (h->npending < FX_MAX_PENDING)
		h->pending[h->npending++] = port;
	(void)!write(h->efd, &one, sizeof(one));
}

static void drop_pending(struct xen_evtchn *h, uint32_t port)
{
	for (unsigned i = 0; i < h->npending; i++) {
		if (h->pending[i] != port)
			continue;
		memmove(&h->pending[i], &h->pending[i + 1],
			(h->npending - i - 1) * sizeof(h->pending[0]));
		h->npending--;
		return;
	}
}

static struct fx_port *port_of(struct xen_evtchn *h, uint32_t local)
{
	for (struct fx_port *p = fx.ports; p; p = p->next)
		if (p->h == h && p->local == local)
			return p;
	return NULL;
}

struct fx_port *fx_port_to(unsigned domid, uint32_t remote)
{
	for (struct fx_port *p = fx.ports; p; p = p->next)
		if (p->domid == domid && p->remote == remote)
			return p;
	return NULL;
}

static void free_port(struct fx_port *port)
{
	for (struct fx_port **pp = &fx.ports; *pp; pp = &(*pp)->next) {
		if (*pp == port) {
			*pp = port->next;
			break;
		}
	}
	drop_pending(port->h, port->local);
	free(port);
}

static struct xen_evtchn *f_evtchn_open(void)
{
	struct xen_evtchn *h = calloc(1, sizeof(*h));

	h->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	pthread_mutex_lock(&fx.lock);
	h->next = fx.evtchns;
	fx.evtchns = h;
	fx.handles++;
	pthread_mutex_unlock(&fx.lock);
	return h;
}

static void f_evtchn_close(struct xen_evtchn *h)
{
	pthread_mutex_lock(&fx.lock);
	for (struct fx_port *p = fx.ports, *next; p; p = next) {
		next = p->next;
		if (p->h == h)
			free_port(p);
	}
	for (struct xen_evtchn **pp = &fx.evtchns; *pp; pp = &(*pp)->next) {
		if (*pp == h) {
			*pp = h->next;
			break;
		}
	}
	fx.handles--;
	pthread_mutex_unlock(&fx.lock);
	close(h->efd);
	free(h);
}

static int f_evtchn_fd(struct xen_evtchn *h)
{
	return h->efd;
}

/* The enabled server whose page names `remote` as a vCPU's port. */
static bool remote_is_ioreq_port(unsigned domid, uint32_t remote)
{
	for (struct fx_server *s = fx.servers; s; s = s->next) {
		struct fx_dom *d = fx_dom(domid);

		if (s->domid != domid || s->destroyed || !s->enabled || !d)
			continue;
		for (unsigned v = 0; v < d->nr_vcpus; v++)
			if (s->page[v].vp_eport == remote)
				return true;
	}
	return false;
}

static int f_evtchn_bind(struct xen_evtchn *h, unsigned domid, uint32_t remote)
{
	struct fx_port *p;
	int r;

	pthread_mutex_lock(&fx.lock);
	if (!fx_live_dom(domid)) {
		r = -ESRCH;
	} else if (remote == 0 || !remote_is_ioreq_port(domid, remote)) {
		r = -EINVAL;
	} else {
		p = calloc(1, sizeof(*p));
		p->h = h;
		p->local = ++fx.next_local;
		p->domid = domid;
		p->remote = remote;
		p->next = fx.ports;
		fx.ports = p;
		/* As on Xen, a freshly bound port starts pending. */
		fx_push_pending(h, p->local);
		r = (int)p->local;
	}
	pthread_mutex_unlock(&fx.lock);
	return r;
}

static int f_evtchn_unbind(struct xen_evtchn *h, uint32_t local)
{
	struct fx_port *p;

	pthread_mutex_lock(&fx.lock);
	p = port_of(h, local);
	if (p)
		free_port(p);
	pthread_mutex_unlock(&fx.lock);
	return p ? 0 : -ENOENT;
}

static int f_evtchn_notify(struct xen_evtchn *h, uint32_t local)
{
	struct fx_port *p;
	struct fx_dom *d;
	int r = 0;

	pthread_mutex_lock(&fx.lock);
	p = port_of(h, local);
	d = p ? fx_dom(p->domid) : NULL;
	if (d && fx.faults.die_on_notify_domid == d->domid) {
		fx.faults.die_on_notify_domid = 0;
		fx_kill_locked(d);
	}
	if (!p)
		r = -EINVAL;
	else if (!d || !d->alive)
		r = -ESRCH;
	else
		fx.notifies++;
	pthread_cond_broadcast(&fx.cond);
	pthread_mutex_unlock(&fx.lock);
	return r;
}

static int f_evtchn_pending(struct xen_evtchn *h)
{
	uint64_t n;
	int r = -EAGAIN;

	pthread_mutex_lock(&fx.lock);
	if (h->npending) {
		r = (int)h->pending[0];
		drop_pending(h, h->pending[0]);
	}
	if (!h->npending)
		(void)!read(h->efd, &n, sizeof(n));
	pthread_mutex_unlock(&fx.lock);
	return r;
}

static int f_evtchn_unmask(struct xen_evtchn *h, uint32_t port)
{
	(void)h;
	(void)port;
	return 0;
}

/* ---- device model -------------------------------------------------------- */

static struct xen_dmod *f_dmod_open(void)
{
	struct xen_dmod *dm = NULL;

	pthread_mutex_lock(&fx.lock);
	if (fx.faults.dmod_open) {
		errno = fx.faults.dmod_open;
	} else {
		dm = calloc(1, 1);
		fx.handles++;
	}
	pthread_mutex_unlock(&fx.lock);
	return dm;
}

static void f_dmod_close(struct xen_dmod *dm)
{
	pthread_mutex_lock(&fx.lock);
	fx.handles--;
	pthread_mutex_unlock(&fx.lock);
	free(dm);
}

static struct fx_server *find_server(unsigned domid, uint16_t id)
{
	for (struct fx_server *s = fx.servers; s; s = s->next)
		if (s->domid == domid && s->id == id && !s->destroyed)
			return s;
	return NULL;
}

static int f_dmod_nr_vcpus(struct xen_dmod *dm, unsigned domid, unsigned *vcpus)
{
	struct fx_dom *d;

	(void)dm;
	pthread_mutex_lock(&fx.lock);
	d = fx_live_dom(domid);
	if (d)
		*vcpus = d->nr_vcpus;
	pthread_mutex_unlock(&fx.lock);
	return d ? 0 : -ESRCH;
}

static int create_locked(unsigned domid, uint16_t *id)
{
	struct fx_server *s;
	unsigned n = 0;

	if (fx.faults.create_server)
		return -fx.faults.create_server;
	if (!fx_live_dom(domid))
		return -ESRCH;
	for (s = fx.servers; s; s = s->next)
		n += s->domid == domid && !s->destroyed;
	if (n >= FX_MAX_SERVERS)
		return -ENOSPC;
	s = calloc(1, sizeof(*s));
	s->page = aligned_alloc(XEN_PAGE_SIZE, XEN_PAGE_SIZE);
	memset(s->page, 0, XEN_PAGE_SIZE);
	s->domid = domid;
	s->id = ++fx.next_server;
	s->next = fx.servers;
	fx.servers = s;
	fx.servers_created++;
	*id = s->id;
	return 0;
}

static int f_dmod_create_server(struct xen_dmod *dm, unsigned domid,
				uint16_t *id)
{
	int r;

	(void)dm;
	pthread_mutex_lock(&fx.lock);
	r = create_locked(domid, id);
	pthread_mutex_unlock(&fx.lock);
	return r;
}

static int f_dmod_set_server_state(struct xen_dmod *dm, unsigned domid,
				   uint16_t id, bool enabled)
{
	struct fx_server *s;
	struct fx_dom *d;

	(void)dm;
	pthread_mutex_lock(&fx.lock);
	d = fx_live_dom(domid);
	s = d ? find_server(domid, id) : NULL;
	/* vp_eport is written when the server is enabled, not before. */
	if (s && enabled && !s->enabled)
		for (unsigned v = 0; v < d->nr_vcpus; v++)
			s->page[v].vp_eport = 1000 + ++fx.next_remote;
	if (s)
		s->enabled = enabled;
	pthread_mutex_unlock(&fx.lock);
	return s ? 0 : -ESRCH;
}

static int map_locked(unsigned domid, uint16_t id, uint64_t start, uint64_t end)
{
	struct fx_server *s =
		fx_live_dom(domid) ? find_server(domid, id) : NULL;

	if (!s)
		return -ESRCH;
	if (end < start)
		return -EINVAL;
	for (unsigned i = 0; i < s->nranges; i++)
		if (start <= s->end[i] && s->start[i] <= end)
			return -EEXIST;
	if (s->nranges == FX_MAX_RANGES)
		return -ENOSPC;
	s->start[s->nranges] = start;
	s->end[s->nranges++] = end;
	return 0;
}

static int f_dmod_map_mmio(struct xen_dmod *dm, unsigned domid, uint16_t id,
			   uint64_t start, uint64_t end)
{
	int r;

	(void)dm;
	pthread_mutex_lock(&fx.lock);
	r = map_locked(domid, id, start, end);
	pthread_mutex_unlock(&fx.lock);
	return r;
}

static int f_dmod_unmap_mmio(struct xen_dmod *dm, unsigned domid, uint16_t id,
			     uint64_t start, uint64_t end)
{
	struct fx_server *s;
	int r = -ENOENT;

	(void)dm;
	pthread_mutex_lock(&fx.lock);
	s = fx_live_dom(domid) ? find_server(domid, id) : NULL;
	for (unsigned i = 0; s && i < s->nranges; i++) {
		if (s->start[i] != start || s->end[i] != end)
			continue;
		s->start[i] = s->start[s->nranges - 1];
		s->end[i] = s->end[--s->nranges];
		r = 0;
		break;
	}
	pthread_mutex_unlock(&fx.lock);
	return s ? r : -ESRCH;
}

/* Free a destroyed server once nobody maps its page or waits on it. */
void fx_server_put_locked(struct fx_server *s)
{
	if (!s->destroyed || s->res_maps || s->waiters)
		return;
	for (struct fx_server **pp = &fx.servers; *pp; pp = &(*pp)->next) {
		if (*pp == s) {
			*pp = s->next;
			break;
		}
	}
	free(s->page);
	free(s);
}

/* Gone from Xen; the page lives on while somebody maps it. */
static void destroy_locked(struct fx_server *s)
{
	s->destroyed = true;
	s->enabled = false;
	s->nranges = 0;
	fx_server_put_locked(s);
}

static int f_dmod_destroy_server(struct xen_dmod *dm, unsigned domid,
				 uint16_t id)
{
	struct fx_server *s;

	(void)dm;
	pthread_mutex_lock(&fx.lock);
	s = fx_live_dom(domid) ? find_server(domid, id) : NULL;
	if (s)
		destroy_locked(s);
	pthread_mutex_unlock(&fx.lock);
	return s ? 0 : -ESRCH;
}

static int f_dmod_set_irq_level(struct xen_dmod *dm, unsigned domid,
				unsigned irq, unsigned level)
{
	struct fx_dom *d;
	int r = 0;

	(void)dm;
	pthread_mutex_lock(&fx.lock);
	d = fx_dom(domid);
	if (d && fx.faults.die_on_irq_domid == domid) {
		fx.faults.die_on_irq_domid = 0;
		fx_kill_locked(d);
	}
	if (!d || !d->alive) {
		r = -ESRCH;
	} else if (irq < 32 || irq >= FX_MAX_IRQ || level > 1) {
		r = -EINVAL;
	} else if (level) {
		d->irqs[irq]++;
		d->irq_total++;
	}
	pthread_cond_broadcast(&fx.cond);
	pthread_mutex_unlock(&fx.lock);
	return r;
}

void fx_kill_locked(struct fx_dom *d)
{
	d->alive = false;
	/* Xen destroys a dying domain's ioreq servers itself. */
	for (struct fx_server *s = fx.servers, *next; s; s = next) {
		next = s->next;
		if (s->domid == d->domid && !s->destroyed)
			destroy_locked(s);
	}
	fx_fire_locked("@releaseDomain");
	pthread_cond_broadcast(&fx.cond);
}

void fx_free_hv_locked(void)
{
	while (fx.ports)
		free_port(fx.ports);
	while (fx.evtchns) {
		struct xen_evtchn *h = fx.evtchns;

		fx.evtchns = h->next;
		close(h->efd);
		free(h);
	}
	while (fx.servers) {
		struct fx_server *s = fx.servers;

		fx.servers = s->next;
		free(s->page);
		free(s);
	}
}

void fx_hv_ops(struct xen_ops *o)
{
	o->evtchn_open = f_evtchn_open;
	o->evtchn_close = f_evtchn_close;
	o->evtchn_fd = f_evtchn_fd;
	o->evtchn_bind = f_evtchn_bind;
	o->evtchn_unbind = f_evtchn_unbind;
	o->evtchn_notify = f_evtchn_notify;
	o->evtchn_pending = f_evtchn_pending;
	o->evtchn_unmask = f_evtchn_unmask;
	o->dmod_open = f_dmod_open;
	o->dmod_close = f_dmod_close;
	o->dmod_nr_vcpus = f_dmod_nr_vcpus;
	o->dmod_create_server = f_dmod_create_server;
	o->dmod_set_server_state = f_dmod_set_server_state;
	o->dmod_map_mmio = f_dmod_map_mmio;
	o->dmod_unmap_mmio = f_dmod_unmap_mmio;
	o->dmod_destroy_server = f_dmod_destroy_server;
	o->dmod_set_irq_level = f_dmod_set_irq_level;
}
