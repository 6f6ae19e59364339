/* SPDX-License-Identifier: MIT */
/* The event loop: dispatch, deletion inside a batch, cross-thread stop. */
#include <pthread.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "tap.h"
#include "vmedia/evloop.h"

struct counter {
	struct evloop *loop;
	struct evloop_source src;
	int fd;
	int calls;
	struct counter *victim; /* deleted by this source's callback */
	int stop_after;
};

static void bump(int fd)
{
	uint64_t one = 1;

	TAP_CHECK(write(fd, &one, sizeof(one)) == sizeof(one), "eventfd write");
}

static void drain(int fd)
{
	uint64_t v;

	(void)!read(fd, &v, sizeof(v));
}

static void on_event(void *ctx, uint32_t events)
{
	struct counter *c = ctx;

	TAP_CHECK(events & EPOLLIN, "EPOLLIN expected, got %#x", events);
	drain(c->fd);
	c->calls++;
	if (c->victim)
		evloop_del(c->loop, &c->victim->src);
	if (c->stop_after && c->calls >= c->stop_after)
		evloop_stop(c->loop);
}

static void counter_init(struct counter *c, struct evloop *loop)
{
	*c = (struct counter){ .loop = loop };
	c->fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	TAP_CHECK(c->fd >= 0, "eventfd");
	TAP_EQ(evloop_add(loop, &c->src, c->fd, EPOLLIN, on_event, c), 0);
}

static void test_dispatch_and_stop(void)
{
	struct evloop *loop = evloop_create();
	struct counter c;

	counter_init(&c, loop);
	c.stop_after = 1;
	bump(c.fd);
	TAP_EQ(evloop_run(loop), 0);
	TAP_EQ(c.calls, 1);
	evloop_del(loop, &c.src);
	close(c.fd);
	evloop_destroy(loop);
}

static void stop_when_idle(void *ctx)
{
	evloop_stop(ctx);
}

/* Both fds ready in one batch; whichever runs first deletes the other. */
static void test_delete_pending_source(void)
{
	struct evloop *loop = evloop_create();
	struct counter a, b;

	counter_init(&a, loop);
	counter_init(&b, loop);
	a.victim = &b;
	b.victim = &a;
	/* Stop after the first batch, not from a callback, so the batch
	 * runs to its end and would reach the deleted source. */
	evloop_set_idle(loop, stop_when_idle, loop);
	bump(a.fd);
	bump(b.fd);
	TAP_EQ(evloop_run(loop), 0);
	TAP_EQ(a.calls + b.calls, 1);
	TAP_CHECK(!a.src.added || !b.src.added, "one source deleted");
	evloop_del(loop, &a.src);
	evloop_del(loop, &b.src);
	evloop_del(loop, &a.src); /* idempotent */
	close(a.fd);
	close(b.fd);
	evloop_destroy(loop);
}

static void *stopper(void *arg)
{
	evloop_stop(arg);
	return NULL;
}

static void test_stop_from_other_thread(void)
{
	struct evloop *loop = evloop_create();
	pthread_t t;

	TAP_EQ(pthread_create(&t, NULL, stopper, loop), 0);
	TAP_EQ(evloop_run(loop), 0);
	pthread_join(t, NULL);
	evloop_destroy(loop);
}

static int idle_calls;

static void on_idle(void *ctx)
{
	struct counter *c = ctx;

	idle_calls++;
	if (idle_calls < 3)
		bump(c->fd);
	else
		evloop_stop(c->loop);
}

static void test_idle_runs_after_each_batch(void)
{
	struct evloop *loop = evloop_create();
	struct counter c;

	counter_init(&c, loop);
	evloop_set_idle(loop, on_idle, &c);
	bump(c.fd);
	TAP_EQ(evloop_run(loop), 0);
	TAP_EQ(idle_calls, 3);
	TAP_EQ(c.calls, 3);
	evloop_del(loop, &c.src);
	close(c.fd);
	evloop_destroy(loop);
}

static void test_add_bad_fd(void)
{
	struct evloop *loop = evloop_create();
	struct evloop_source src;

	TAP_CHECK(evloop_add(loop, &src, -1, EPOLLIN, on_event, NULL) < 0,
		  "adding fd -1 fails");
	TAP_CHECK(!src.added, "not marked added");
	evloop_del(loop, &src);
	TAP_CHECK(evloop_mod(loop, &src, EPOLLOUT) < 0, "mod of unadded");
	evloop_destroy(loop);
}

int main(void)
{
	tap_run("dispatch and stop from a callback", test_dispatch_and_stop);
	tap_run("delete a source whose event is pending in the batch",
		test_delete_pending_source);
	tap_run("stop from another thread", test_stop_from_other_thread);
	tap_run("idle hook runs after each batch",
		test_idle_runs_after_each_batch);
	tap_run("adding a bad fd fails cleanly", test_add_bad_fd);
	return tap_done();
}
