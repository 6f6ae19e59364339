/* SPDX-License-Identifier: MIT */
/*
 * One guest domain, served by one thread. The thread runs an event loop
 * over the transport's fds (Xen: event channels; test transport: the
 * guest's socket) and every session's backend fd. Transports plug in
 * through guest_ops; the main thread creates, stops and reaps guests.
 */
#ifndef VMEDIA_DAEMON_GUEST_H
#define VMEDIA_DAEMON_GUEST_H

#include <stdbool.h>

#include "vmedia/evloop.h"

struct guest;
struct guest_set;

struct guest_ops {
	/*
	 * On the guest's thread before its loop runs: set up the transport
	 * (register fds in guest_loop(g), create devices). Returns 0, or a
	 * negative errno and then the thread ends without running the loop
	 * (stop() is still called).
	 */
	int (*start)(struct guest *g);
	/* On the guest's thread after the loop ended: undo start(). */
	void (*stop)(struct guest *g);
	/* On the main thread after the thread was joined: free ctx. */
	void (*release)(void *ctx);
};

struct guest_params {
	int domid;
	const char *name; /* for log lines and the thread name */
	const struct guest_ops *ops;
	void *ctx; /* the transport's per-guest state */
};

/* Guests of one daemon; reaps guests whose thread ended by itself. */
struct guest_set *guest_set_create(struct evloop *main_loop);
/* Stops and joins every guest, then frees. */
void guest_set_destroy(struct guest_set *set);
unsigned guest_set_count(struct guest_set *set);

/*
 * Start a thread for a new guest. Returns 0 or a negative errno (then
 * ops->release(ctx) has been called).
 */
int guest_spawn(struct guest_set *set, const struct guest_params *p);

/* Ask the guest's thread to stop; it is reaped on the main thread. */
void guest_stop(struct guest *g);
/* Find a running guest by domid (main thread only). */
struct guest *guest_find(struct guest_set *set, int domid);

/* For the transport, on the guest's thread. */
struct evloop *guest_loop(struct guest *g);
void *guest_ctx(struct guest *g);
int guest_domid(const struct guest *g);
const char *guest_name(const struct guest *g);

#endif
