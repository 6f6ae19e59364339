/* SPDX-License-Identifier: MIT */
/*
 * The event loop every daemon thread runs: epoll over fds, each with a
 * callback. One loop per thread; nothing here is thread-safe except
 * evloop_stop(), which any thread may call.
 */
#ifndef VMEDIA_EVLOOP_H
#define VMEDIA_EVLOOP_H

#include <stdbool.h>
#include <stdint.h>

#include "vmedia/compiler.h"

struct evloop;

typedef void (*evloop_fn)(void *ctx, uint32_t events);

/*
 * A watched fd. The caller owns the storage and keeps it alive until
 * evloop_del(); deleting a source from inside any callback is safe, even
 * one whose event is still pending in the current batch.
 */
struct evloop_source {
	int fd;
	evloop_fn fn;
	void *ctx;
	bool added;
};

VM_MUST_CHECK struct evloop *evloop_create(void);
void evloop_destroy(struct evloop *loop);

/* events: EPOLLIN etc. Returns 0 or a negative errno. */
VM_MUST_CHECK int evloop_add(struct evloop *loop, struct evloop_source *src,
			     int fd, uint32_t events, evloop_fn fn, void *ctx);
int evloop_mod(struct evloop *loop, struct evloop_source *src, uint32_t events);
/* Idempotent. */
void evloop_del(struct evloop *loop, struct evloop_source *src);

/*
 * Dispatch until evloop_stop(). Between batches runs the idle hook, if
 * set (the place for work deferred out of callbacks). Returns 0, or a
 * negative errno if epoll itself failed.
 */
int evloop_run(struct evloop *loop);
void evloop_set_idle(struct evloop *loop, void (*fn)(void *ctx), void *ctx);
/* Thread-safe: wakes the loop and makes evloop_run() return. */
void evloop_stop(struct evloop *loop);

#endif
