/* SPDX-License-Identifier: MIT */
/*
 * The hub: how guest threads report to the main thread (xen_hub.c). One
 * lock guards the reports and, for xen_guest.c, each guest's command
 * list and "ended" flag, so the main thread waits on one condition.
 */
#ifndef VMEDIA_XEN_XEN_HUB_H
#define VMEDIA_XEN_XEN_HUB_H

#include <pthread.h>

enum xen_report_kind {
	XEN_REPORT_SERVING, /* the window is served: write state 4 */
	XEN_REPORT_FAILED,  /* cannot serve it (logged): write state 6 */
	XEN_REPORT_REMOVED, /* unmapped and gone: write state 6 */
};

struct xen_report {
	struct xen_report *next;
	unsigned domid;
	unsigned devid;
	enum xen_report_kind kind;
};

/* ---- the hub: reports from every guest thread to the main thread --------- */
struct xen_hub;

struct xen_hub *xen_hub_create(void);
void xen_hub_get(struct xen_hub *hub);
void xen_hub_put(struct xen_hub *hub);
int xen_hub_fd(struct xen_hub *hub);
/* Main thread: take every waiting report (oldest first); free() each. */
struct xen_report *xen_hub_take(struct xen_hub *hub);
/* Main thread: consume the eventfd's count. */
void xen_hub_clear(struct xen_hub *hub);
/* Any thread: wake the main loop without a report. */
void xen_hub_poke(struct xen_hub *hub);

struct xen_hub {
	pthread_mutex_t lock;
	pthread_cond_t cond; /* broadcast when a guest thread ends */
	int fd;		     /* eventfd in the main loop */
	unsigned refs;
	struct xen_report *head, **tail;
};

/* Queue a report; the caller holds hub->lock and pokes afterwards. */
void xen_hub_push_locked(struct xen_hub *hub, struct xen_report *r);

#endif
