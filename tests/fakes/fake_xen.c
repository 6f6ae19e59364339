/* SPDX-License-Identifier: MIT */
/* The fake Xen's domains, bookkeeping and ops table. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fakes/fake_xen_int.h"
#include "tap.h"

struct fake_xen fx;
static struct xen_ops ops;

struct fx_dom *fx_dom(unsigned domid)
{
	for (struct fx_dom *d = fx.doms; d; d = d->next)
		if (d->domid == domid)
			return d;
	return NULL;
}

struct fx_dom *fx_live_dom(unsigned domid)
{
	struct fx_dom *d = fx_dom(domid);

	return d && d->alive ? d : NULL;
}

void fake_xen_init(void)
{
	pthread_condattr_t ca;

	memset(&fx, 0, sizeof(fx));
	pthread_mutex_init(&fx.lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&fx.cond, &ca);
	pthread_condattr_destroy(&ca);
	fx_store_ops(&ops);
	fx_hv_ops(&ops);
	fx_mem_ops(&ops);
	fx_ctrl_ops(&ops);
}

const struct xen_ops *fake_xen_ops(void)
{
	return &ops;
}

static void free_doms(void)
{
	while (fx.doms) {
		struct fx_dom *d = fx.doms;

		fx.doms = d->next;
		munmap(d->ram, d->ram_pages * XEN_PAGE_SIZE);
		close(d->memfd);
		fx_phys_free(d);
		free(d);
	}
}

void fake_xen_fini(void)
{
	struct fake_xen_counts c;

	fake_xen_counts(FAKE_XEN_ALL, &c);
	if (c.servers || c.ports || c.fmem_pages || c.grant_pages ||
	    c.res_maps || c.handles || c.populated || c.zombies)
		tap_diag("fake xen left: %u servers, %u ports, %u foreign "
			 "pages, %u grant pages, %u ioreq pages, %u handles "
			 "(%u ctrl), %u populated pages in live domains, %u "
			 "released pages still mapped",
			 c.servers, c.ports, c.fmem_pages, c.grant_pages,
			 c.res_maps, c.handles, c.ctrl_handles, c.populated,
			 c.zombies);
	pthread_mutex_lock(&fx.lock);
	fx_free_maps_locked();
	fx_free_hv_locked();
	fx_free_store_locked();
	while (fx.watches) {
		struct fx_watch *w = fx.watches;

		fx.watches = w->next;
		free(w->path);
		free(w->token);
		free(w);
	}
	free_doms();
	pthread_mutex_unlock(&fx.lock);
	pthread_cond_destroy(&fx.cond);
	pthread_mutex_destroy(&fx.lock);
}

static int make_ram(struct fx_dom *d, uint64_t pages)
{
	d->memfd = memfd_create("fake-xen-ram", MFD_CLOEXEC);
	if (d->memfd < 0)
		return -errno;
	if (ftruncate(d->memfd, (off_t)(pages * XEN_PAGE_SIZE)) < 0)
		return -errno;
	d->ram = mmap(NULL, pages * XEN_PAGE_SIZE, PROT_READ | PROT_WRITE,
		      MAP_SHARED, d->memfd, 0);
	if (d->ram == MAP_FAILED)
		return -errno;
	d->ram_pages = pages;
	return 0;
}

int fake_xen_domain_create(unsigned domid, const char *name, unsigned nr_vcpus,
			   uint64_t ram_pages)
{
	struct fx_dom *d = calloc(1, sizeof(*d));
	char path[64];
	int r;

	if (!d)
		return -ENOMEM;
	d->domid = domid;
	d->alive = true;
	d->nr_vcpus = nr_vcpus;
	d->memfd = d->physfd = d->zfd = -1;
	d->max_pages = ram_pages + FAKE_XEN_SLACK_PAGES;
	r = make_ram(d, ram_pages);
	if (r == 0)
		r = fx_phys_init(d);
	if (r < 0) {
		if (d->memfd >= 0)
			close(d->memfd);
		fx_phys_free(d);
		free(d);
		return r;
	}
	pthread_mutex_lock(&fx.lock);
	d->next = fx.doms;
	fx.doms = d;
	pthread_mutex_unlock(&fx.lock);
	snprintf(path, sizeof(path), "/local/domain/%u/name", domid);
	fake_xs_write(path, name);
	return 0;
}

void fake_xen_domain_destroy(unsigned domid)
{
	char path[64];
	struct fx_dom *d;

	snprintf(path, sizeof(path), "/local/domain/%u", domid);
	fake_xs_rm(path);
	pthread_mutex_lock(&fx.lock);
	d = fx_dom(domid);
	if (d && d->alive)
		fx_kill_locked(d);
	pthread_mutex_unlock(&fx.lock);
}

void *fake_xen_ram(unsigned domid, uint64_t gpa, size_t len)
{
	uint64_t base = FAKE_XEN_RAM_GFN * XEN_PAGE_SIZE, size;
	struct fx_dom *d;
	void *p = NULL;

	pthread_mutex_lock(&fx.lock);
	d = fx_dom(domid);
	size = d ? d->ram_pages * XEN_PAGE_SIZE : 0;
	if (d && gpa >= base && gpa - base <= size &&
	    len <= size - (gpa - base))
		p = d->ram + (gpa - base);
	pthread_mutex_unlock(&fx.lock);
	return p;
}

static void count_servers(unsigned domid, struct fake_xen_counts *c)
{
	for (struct fx_server *s = fx.servers; s; s = s->next) {
		if (domid != FAKE_XEN_ALL && s->domid != domid)
			continue;
		c->res_maps += s->res_maps;
		if (s->destroyed)
			continue;
		c->servers++;
		c->enabled += s->enabled;
		c->ranges += s->nranges;
	}
}

void fake_xen_counts(unsigned domid, struct fake_xen_counts *c)
{
	memset(c, 0, sizeof(*c));
	pthread_mutex_lock(&fx.lock);
	count_servers(domid, c);
	for (struct fx_port *p = fx.ports; p; p = p->next)
		c->ports += domid == FAKE_XEN_ALL || p->domid == domid;
	for (struct fx_map *m = fx.maps; m; m = m->next)
		if (m->grant && (domid == FAKE_XEN_ALL || m->domid == domid))
			c->grant_pages += (unsigned)m->pages;
	for (struct fx_dom *d = fx.doms; d; d = d->next) {
		if (domid != FAKE_XEN_ALL && d->domid != domid)
			continue;
		c->irqs += d->irq_total;
		if (d->alive)
			c->populated += (unsigned)d->npop;
		c->zombies += d->zombies;
		c->populates += d->populates;
		c->populate_fails += d->populate_fails;
		c->releases += d->releases;
		c->release_fails += d->release_fails;
		c->pages_populated += d->pages_populated;
		c->pages_released += d->pages_released;
		c->dirty_released += d->dirty_released;
		c->set_max_calls += d->set_max_calls;
	}
	c->ctrl_handles = fx.ctrl_handles;
	c->fmem_pages = fx_fmem_pages_locked(domid);
	c->fmem_peak = fx.fmem_peak;
	c->fmem_maps = fx.fmem_maps;
	c->handles = fx.handles;
	c->servers_created = fx.servers_created;
	c->bad_unmaps = fx.bad_unmaps;
	c->notifies = fx.notifies;
	pthread_mutex_unlock(&fx.lock);
}

unsigned fake_xen_ranges(unsigned domid, uint64_t *start, uint64_t *end,
			 unsigned n)
{
	unsigned got = 0;

	pthread_mutex_lock(&fx.lock);
	for (struct fx_server *s = fx.servers; s; s = s->next) {
		if (s->domid != domid || s->destroyed)
			continue;
		for (unsigned i = 0; i < s->nranges && got < n; i++) {
			start[got] = s->start[i];
			end[got++] = s->end[i];
		}
	}
	pthread_mutex_unlock(&fx.lock);
	return got;
}

void fake_xen_set_faults(const struct fake_xen_faults *f)
{
	pthread_mutex_lock(&fx.lock);
	fx.faults = *f;
	pthread_mutex_unlock(&fx.lock);
}
