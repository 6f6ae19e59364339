/* SPDX-License-Identifier: MIT */
/*
 * epoll-based event loop. A callback may delete any source, including one
 * whose event is still waiting in the current batch: deletion clears that
 * pending entry, so no callback ever runs for freed state.
 */
#include "vmedia/evloop.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#define BATCH 32

struct evloop {
	int epfd;
	int wake_fd;	  /* eventfd: evloop_stop() from any thread */
	_Atomic int stop; /* set by any thread, then the loop is woken */
	struct epoll_event batch[BATCH];
	int batch_len;
	int batch_pos;
	void (*idle)(void *ctx);
	void *idle_ctx;
};

struct evloop *evloop_create(void)
{
	struct evloop *loop = calloc(1, sizeof(*loop));
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };

	if (!loop)
		return NULL;
	loop->epfd = epoll_create1(EPOLL_CLOEXEC);
	loop->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (loop->epfd < 0 || loop->wake_fd < 0 ||
	    epoll_ctl(loop->epfd, EPOLL_CTL_ADD, loop->wake_fd, &ev) < 0) {
		int err = errno;

		evloop_destroy(loop);
		errno = err;
		return NULL;
	}
	return loop;
}

void evloop_destroy(struct evloop *loop)
{
	if (!loop)
		return;
	if (loop->epfd >= 0)
		close(loop->epfd);
	if (loop->wake_fd >= 0)
		close(loop->wake_fd);
	free(loop);
}

int evloop_add(struct evloop *loop, struct evloop_source *src, int fd,
	       uint32_t events, evloop_fn fn, void *ctx)
{
	struct epoll_event ev = { .events = events, .data.ptr = src };

	*src = (struct evloop_source){ .fd = fd, .fn = fn, .ctx = ctx };
	if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
		return -errno;
	src->added = true;
	return 0;
}

int evloop_mod(struct evloop *loop, struct evloop_source *src, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = src };

	if (!src->added)
		return -ENOENT;
	if (epoll_ctl(loop->epfd, EPOLL_CTL_MOD, src->fd, &ev) < 0)
		return -errno;
	return 0;
}

void evloop_del(struct evloop *loop, struct evloop_source *src)
{
	if (!src->added)
		return;
	epoll_ctl(loop->epfd, EPOLL_CTL_DEL, src->fd, NULL);
	src->added = false;
	/* Forget events of this source still waiting in the batch. */
	for (int i = loop->batch_pos; i < loop->batch_len; i++)
		if (loop->batch[i].data.ptr == src)
			loop->batch[i].data.ptr = NULL;
}

void evloop_set_idle(struct evloop *loop, void (*fn)(void *ctx), void *ctx)
{
	loop->idle = fn;
	loop->idle_ctx = ctx;
}

void evloop_stop(struct evloop *loop)
{
	uint64_t one = 1;

	loop->stop = 1;
	/* The counter cannot overflow from a few stops; ignore EAGAIN. */
	(void)!write(loop->wake_fd, &one, sizeof(one));
}

static void dispatch_batch(struct evloop *loop)
{
	for (loop->batch_pos = 0; loop->batch_pos < loop->batch_len;) {
		struct epoll_event *ev = &loop->batch[loop->batch_pos++];
		struct evloop_source *src = ev->data.ptr;

		if (src)
			src->fn(src->ctx, ev->events);
		if (loop->stop)
			break;
	}
	loop->batch_len = loop->batch_pos = 0;
}

int evloop_run(struct evloop *loop)
{
	while (!loop->stop) {
		int n = epoll_wait(loop->epfd, loop->batch, BATCH, -1);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		loop->batch_len = n;
		dispatch_batch(loop);
		if (loop->idle && !loop->stop)
			loop->idle(loop->idle_ctx);
	}
	return 0;
}
