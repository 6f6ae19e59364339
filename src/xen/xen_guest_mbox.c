/* SPDX-License-Identifier: MIT */
/*
 * One guest's mailboxes: commands from the main thread to the guest's
 * thread (woken through its eventfd), reports back through the hub; and
 * the main thread's side of a guest's life (creation, the wait for its
 * teardown, release).
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "vmedia/log.h"
#include "xen/gmem_xen.h"
#include "xen/xen_guest_int.h"

/* ---- mailbox ------------------------------------------------------------- */

void xg_report(struct xen_guest *xg, unsigned devid, enum xen_report_kind kind)
{
	struct xen_report *r = calloc(1, sizeof(*r));

	if (!r) {
		vm_err((int)xg->domid,
		       "out of memory: device %u state change lost", devid);
		return;
	}
	r->domid = xg->domid;
	r->devid = devid;
	r->kind = kind;
	pthread_mutex_lock(&xg->hub->lock);
	xen_hub_push_locked(xg->hub, r);
	pthread_mutex_unlock(&xg->hub->lock);
	xen_hub_poke(xg->hub);
}

static int post(struct xen_guest *xg, struct xg_cmd *c)
{
	uint64_t one = 1;

	pthread_mutex_lock(&xg->hub->lock);
	*xg->cmd_tail = c;
	xg->cmd_tail = &c->next;
	pthread_mutex_unlock(&xg->hub->lock);
	(void)!write(xg->ctl_fd, &one, sizeof(one));
	return 0;
}

int xen_guest_add(struct xen_guest *xg, const struct xen_dev_spec *spec)
{
	struct xg_cmd *c = calloc(1, sizeof(*c));

	if (!c)
		return -ENOMEM;
	c->spec = *spec;
	return post(xg, c);
}

int xen_guest_remove(struct xen_guest *xg, unsigned devid)
{
	struct xg_cmd *c = calloc(1, sizeof(*c));

	if (!c)
		return -ENOMEM;
	c->remove = true;
	c->spec.devid = devid;
	return post(xg, c);
}

struct xg_cmd *xg_take_cmds(struct xen_guest *xg)
{
	struct xg_cmd *all;

	pthread_mutex_lock(&xg->hub->lock);
	all = xg->cmds;
	xg->cmds = NULL;
	xg->cmd_tail = &xg->cmds;
	pthread_mutex_unlock(&xg->hub->lock);
	return all;
}

/* ---- main thread --------------------------------------------------------- */

struct xen_guest *xen_guest_new(const struct xen_guest_params *p)
{
	struct xen_guest *xg = calloc(1, sizeof(*xg));

	if (!xg)
		return NULL;
	xg->ctl_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	xg->more_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (xg->ctl_fd < 0 || xg->more_fd < 0) {
		int err = errno;

		if (xg->ctl_fd >= 0)
			close(xg->ctl_fd);
		if (xg->more_fd >= 0)
			close(xg->more_fd);
		free(xg);
		errno = err;
		return NULL;
	}
	xg->ops = p->ops;
	xg->domid = p->domid;
	xg->hub = p->hub;
	xg->limits = p->limits;
	xg->cache_pages = p->cache_pages;
	xg->shm_base = p->shm_base;
	xg->shm_size = p->shm_size;
	xg->max_pages = p->max_pages;
	xg->max_grants =
		p->max_grants ? p->max_grants : GMEM_XEN_DEFAULT_MAX_GRANTS;
	xg->cmd_tail = &xg->cmds;
	xen_hub_get(xg->hub);
	return xg;
}

void xen_guest_free(struct xen_guest *xg)
{
	struct xg_cmd *c;

	if (!xg)
		return;
	c = xg_take_cmds(xg);
	while (c) {
		struct xg_cmd *next = c->next;

		free(c);
		c = next;
	}
	close(xg->ctl_fd);
	close(xg->more_fd);
	xen_hub_put(xg->hub);
	free(xg);
}

bool xen_guest_ended(struct xen_guest *xg)
{
	bool ended;

	pthread_mutex_lock(&xg->hub->lock);
	ended = xg->ended;
	pthread_mutex_unlock(&xg->hub->lock);
	return ended;
}

bool xen_guest_wait_ended(struct xen_guest *xg, int deadline_ms)
{
	struct timespec until;
	bool ended;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += deadline_ms / 1000;
	until.tv_nsec += (long)(deadline_ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&xg->hub->lock);
	while (!xg->ended &&
	       pthread_cond_timedwait(&xg->hub->cond, &xg->hub->lock, &until) ==
		       0)
		;
	ended = xg->ended;
	pthread_mutex_unlock(&xg->hub->lock);
	return ended;
}

void xen_guest_on_release(struct xen_guest *xg,
			  void (*fn)(void *ctx, struct xen_guest *xg),
			  void *ctx)
{
	xg->released = fn;
	xg->released_ctx = ctx;
}

unsigned xen_guest_domid(const struct xen_guest *xg)
{
	return xg->domid;
}
