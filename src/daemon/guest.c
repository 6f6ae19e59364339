/* SPDX-License-Identifier: MIT */
/*
 * Guests and their threads. Each guest thread runs its own event loop; the
 * main thread learns that a thread ended (by itself or when asked) through
 * one eventfd shared by all guests, then joins it. No pthread_cancel: a
 * thread ends only by leaving its loop.
 */
#include "daemon/guest.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "vmedia/log.h"

struct guest {
	struct guest *next;
	struct guest_set *set;
	int domid;
	char name[32];
	const struct guest_ops *ops;
	void *ctx;
	struct evloop *loop;
	pthread_t thread;
	atomic_bool exited;
};

struct guest_set {
	struct guest *head;
	unsigned count;
	struct evloop *main_loop;
	int exited_fd; /* eventfd: a guest thread has ended */
	struct evloop_source exited_src;
};

static void signal_exit(struct guest *g)
{
	uint64_t one = 1;

	atomic_store(&g->exited, true);
	(void)!write(g->set->exited_fd, &one, sizeof(one));
}

static void *guest_thread(void *arg)
{
	struct guest *g = arg;
	int ret;

	ret = g->ops->start(g);
	if (ret == 0) {
		vm_info(g->domid, "serving %s", g->name);
		ret = evloop_run(g->loop);
		if (ret)
			vm_err(g->domid, "event loop failed: %s",
			       strerror(-ret));
	} else {
		vm_err(g->domid, "cannot serve %s: %s", g->name,
		       strerror(-ret));
	}
	g->ops->stop(g);
	vm_info(g->domid, "stopped serving %s", g->name);
	signal_exit(g);
	return NULL;
}

static void guest_free(struct guest *g)
{
	if (g->ops->release)
		g->ops->release(g->ctx);
	evloop_destroy(g->loop);
	free(g);
}

/* Join and free every guest whose thread has ended. */
static void reap(struct guest_set *set)
{
	struct guest **pp = &set->head;

	while (*pp) {
		struct guest *g = *pp;

		if (!atomic_load(&g->exited)) {
			pp = &g->next;
			continue;
		}
		*pp = g->next;
		set->count--;
		pthread_join(g->thread, NULL);
		guest_free(g);
	}
}

static void on_guest_exited(void *ctx, uint32_t events)
{
	struct guest_set *set = ctx;
	uint64_t n;

	(void)events;
	(void)!read(set->exited_fd, &n, sizeof(n));
	reap(set);
}

struct guest_set *guest_set_create(struct evloop *main_loop)
{
	struct guest_set *set = calloc(1, sizeof(*set));

	if (!set)
		return NULL;
	set->main_loop = main_loop;
	set->exited_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (set->exited_fd < 0 ||
	    evloop_add(main_loop, &set->exited_src, set->exited_fd, EPOLLIN,
		       on_guest_exited, set) < 0) {
		if (set->exited_fd >= 0)
			close(set->exited_fd);
		free(set);
		return NULL;
	}
	return set;
}

void guest_set_destroy(struct guest_set *set)
{
	if (!set)
		return;
	for (struct guest *g = set->head; g; g = g->next)
		guest_stop(g);
	for (struct guest *g = set->head; g; g = g->next)
		pthread_join(g->thread, NULL);
	while (set->head) {
		struct guest *g = set->head;

		set->head = g->next;
		guest_free(g);
	}
	evloop_del(set->main_loop, &set->exited_src);
	close(set->exited_fd);
	free(set);
}

unsigned guest_set_count(struct guest_set *set)
{
	return set->count;
}

/* Guest threads leave signals to the main thread's signalfd. */
static int start_thread(struct guest *g)
{
	sigset_t all, old;
	int ret;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	ret = pthread_create(&g->thread, NULL, guest_thread, g);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (ret == 0) {
		char tname[16];

		snprintf(tname, sizeof(tname), "vmedia-d%d", g->domid);
		pthread_setname_np(g->thread, tname);
	}
	return -ret;
}

int guest_spawn(struct guest_set *set, const struct guest_params *p)
{
	struct guest *g = calloc(1, sizeof(*g));
	int ret = -ENOMEM;

	if (!g)
		goto fail;
	g->set = set;
	g->domid = p->domid;
	snprintf(g->name, sizeof(g->name), "%s", p->name);
	g->ops = p->ops;
	g->ctx = p->ctx;
	g->loop = evloop_create();
	if (!g->loop)
		goto fail;
	ret = start_thread(g);
	if (ret)
		goto fail;
	g->next = set->head;
	set->head = g;
	set->count++;
	return 0;
fail:
	if (g) {
		evloop_destroy(g->loop);
		free(g);
	}
	if (p->ops->release)
		p->ops->release(p->ctx);
	return ret;
}

void guest_stop(struct guest *g)
{
	evloop_stop(g->loop);
}

struct guest *guest_find(struct guest_set *set, int domid)
{
	for (struct guest *g = set->head; g; g = g->next)
		if (g->domid == domid && !atomic_load(&g->exited))
			return g;
	return NULL;
}

struct evloop *guest_loop(struct guest *g)
{
	return g->loop;
}

void *guest_ctx(struct guest *g)
{
	return g->ctx;
}

int guest_domid(const struct guest *g)
{
	return g->domid;
}

const char *guest_name(const struct guest *g)
{
	return g->name;
}
