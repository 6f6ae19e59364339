/* SPDX-License-Identifier: MIT */
/*
 * The hub: guest threads report to the main thread here. A list under a
 * mutex and an eventfd in the main loop; reference-counted so a guest
 * thread that outlives the backend (daemon shutdown) never writes to a
 * closed fd.
 */
#include "xen/xen_hub.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

struct xen_hub *xen_hub_create(void)
{
	struct xen_hub *hub = calloc(1, sizeof(*hub));

	if (!hub)
		return NULL;
	hub->fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (hub->fd < 0) {
		int err = errno;

		free(hub);
		errno = err;
		return NULL;
	}
	pthread_mutex_init(&hub->lock, NULL);
	pthread_cond_init(&hub->cond, NULL);
	hub->tail = &hub->head;
	hub->refs = 1;
	return hub;
}

void xen_hub_get(struct xen_hub *hub)
{
	pthread_mutex_lock(&hub->lock);
	hub->refs++;
	pthread_mutex_unlock(&hub->lock);
}

void xen_hub_put(struct xen_hub *hub)
{
	unsigned left;

	if (!hub)
		return;
	pthread_mutex_lock(&hub->lock);
	left = --hub->refs;
	pthread_mutex_unlock(&hub->lock);
	if (left)
		return;
	while (hub->head) {
		struct xen_report *r = hub->head;

		hub->head = r->next;
		free(r);
	}
	close(hub->fd);
	pthread_cond_destroy(&hub->cond);
	pthread_mutex_destroy(&hub->lock);
	free(hub);
}

int xen_hub_fd(struct xen_hub *hub)
{
	return hub->fd;
}

void xen_hub_poke(struct xen_hub *hub)
{
	uint64_t one = 1;

	/* Only fails when the counter would overflow: a wakeup is due. */
	(void)!write(hub->fd, &one, sizeof(one));
}

void xen_hub_clear(struct xen_hub *hub)
{
	uint64_t n;

	(void)!read(hub->fd, &n, sizeof(n));
}

/* Under hub->lock. */
void xen_hub_push_locked(struct xen_hub *hub, struct xen_report *r)
{
	r->next = NULL;
	*hub->tail = r;
	hub->tail = &r->next;
}

struct xen_report *xen_hub_take(struct xen_hub *hub)
{
	struct xen_report *all;

	pthread_mutex_lock(&hub->lock);
	all = hub->head;
	hub->head = NULL;
	hub->tail = &hub->head;
	pthread_mutex_unlock(&hub->lock);
	return all;
}
