/* SPDX-License-Identifier: MIT */
/*
 * The IOREQ server over the fake Xen: setup order, COPY accesses from
 * every vCPU, stale slots, requests outside any window, forged requests,
 * INVALIDATE, and a teardown that leaves no vCPU waiting.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include "fakes/fake_xen.h"
#include "tap.h"
#include "xen/xen_ioreq.h"

#define DOM  9u
#define BASE 0x2000000ull
#define WIN  0x200u

struct client {
	pthread_mutex_t lock;
	unsigned accesses, dones, invalidates;
	uint64_t addr, val;
	unsigned size;
	bool read;
	bool early; /* done() ran before its request was completed */
};

struct rig {
	const struct xen_ops *ops;
	struct xen_evtchn *xce;
	struct xen_dmod *dm;
	struct xen_fmem *fm;
	struct xen_ioreq_srv *srv;
	pthread_t poller;
	atomic_bool stop;
	bool polling;
	struct client c;
	char err[256];
};

static void *c_access(void *ctx, uint64_t addr, unsigned size, bool read,
		      uint64_t *val)
{
	struct client *c = ctx;

	/* Serves one 0x200 window, whatever range Xen routes to us. */
	if (addr < BASE || addr - BASE >= WIN || size > WIN - (addr - BASE))
		return NULL;
	pthread_mutex_lock(&c->lock);
	c->accesses++;
	c->addr = addr;
	c->size = size;
	c->read = read;
	if (read)
		*val = 0x1122334455667788ull; /* wider than any access */
	else
		c->val = *val;
	pthread_mutex_unlock(&c->lock);
	return c;
}

static void c_done(void *ctx, void *token)
{
	struct client *c = ctx;
	struct fake_xen_counts n;

	TAP_CHECK(token == c, "token");
	fake_xen_counts(DOM, &n);
	pthread_mutex_lock(&c->lock);
	/* The (dones+1)-th completion must have been sent already. */
	if (n.notifies < c->dones + 1)
		c->early = true;
	c->dones++;
	pthread_mutex_unlock(&c->lock);
}

static unsigned dones(struct client *c, unsigned want)
{
	unsigned n = 0;

	for (int i = 0; i < 2000; i++) {
		pthread_mutex_lock(&c->lock);
		n = c->dones;
		pthread_mutex_unlock(&c->lock);
		if (n >= want)
			break;
		poll(NULL, 0, 1);
	}
	return n;
}

static void c_invalidate(void *ctx)
{
	struct client *c = ctx;

	pthread_mutex_lock(&c->lock);
	c->invalidates++;
	pthread_mutex_unlock(&c->lock);
}

static const struct xen_ioreq_client client_ops = {
	.access = c_access,
	.done = c_done,
	.invalidate = c_invalidate,
};

static void *poll_thread(void *arg)
{
	struct rig *r = arg;
	struct pollfd pfd = { .fd = xen_ioreq_fd(r->srv), .events = POLLIN };

	while (!atomic_load(&r->stop))
		if (poll(&pfd, 1, 5) > 0)
			xen_ioreq_handle(r->srv);
	return NULL;
}

static void poller_stop(struct rig *r)
{
	if (!r->polling)
		return;
	atomic_store(&r->stop, true);
	pthread_join(r->poller, NULL);
	r->polling = false;
}

static void open_handles(struct rig *r, unsigned vcpus)
{
	memset(r, 0, sizeof(*r));
	pthread_mutex_init(&r->c.lock, NULL);
	fake_xen_init();
	TAP_EQ(fake_xen_domain_create(DOM, "io", vcpus, 16), 0);
	r->ops = fake_xen_ops();
	r->xce = r->ops->evtchn_open();
	r->dm = r->ops->dmod_open();
	r->fm = r->ops->fmem_open();
}

static struct xen_ioreq_srv *create(struct rig *r, int *ret)
{
	struct xen_ioreq_params p = { .ops = r->ops,
				      .dm = r->dm,
				      .fmem = r->fm,
				      .xce = r->xce,
				      .domid = DOM,
				      .client = &client_ops,
				      .client_ctx = &r->c,
				      .err = r->err,
				      .err_len = sizeof(r->err) };

	return xen_ioreq_create(&p, ret);
}

/* A server for DOM routing [BASE, BASE + range), polled on a thread. */
static bool rig_up(struct rig *r, unsigned vcpus, uint64_t range)
{
	int ret = 0;

	open_handles(r, vcpus);
	r->srv = create(r, &ret);
	TAP_CHECK(r->srv, "create: %s", r->err);
	if (!r->srv)
		return false;
	TAP_EQ(xen_ioreq_map_window(r->srv, BASE, range), 0);
	r->polling = pthread_create(&r->poller, NULL, poll_thread, r) == 0;
	return r->polling;
}

static void rig_down(struct rig *r)
{
	struct fake_xen_counts c;

	poller_stop(r);
	xen_ioreq_destroy(r->srv);
	fake_xen_counts(DOM, &c);
	TAP_EQ(c.servers, 0);
	TAP_EQ(c.ports, 0);
	TAP_EQ(c.res_maps, 0);
	TAP_EQ(c.ranges, 0);
	r->ops->fmem_close(r->fm);
	r->ops->dmod_close(r->dm);
	r->ops->evtchn_close(r->xce);
	fake_xen_fini();
	pthread_mutex_destroy(&r->c.lock);
}

static void test_setup(void)
{
	struct rig r;
	struct fake_xen_counts c;
	uint64_t s[4], e[4];

	if (!rig_up(&r, 3, WIN))
		goto out;
	fake_xen_counts(DOM, &c);
	TAP_EQ(c.servers, 1);
	TAP_EQ(c.enabled, 1);
	TAP_EQ(c.res_maps, 1);
	TAP_EQ(c.ports, 3); /* every vCPU, or its accesses would hang */
	TAP_EQ(xen_ioreq_vcpus(r.srv), 3);
	TAP_EQ(fake_xen_ranges(DOM, s, e, 4), 1);
	TAP_EQ(s[0], BASE);
	TAP_EQ(e[0], BASE + WIN - 1); /* end inclusive */
out:
	rig_down(&r);
}

static void test_no_ioreq_server(void)
{
	struct fake_xen_faults f = { .create_server = ENOSYS };
	struct fake_xen_counts c;
	struct rig r;
	int ret = 0;

	open_handles(&r, 1);
	fake_xen_set_faults(&f);
	TAP_CHECK(create(&r, &ret) == NULL, "created without IOREQ support");
	TAP_EQ(ret, -ENOSYS);
	TAP_CHECK(strstr(r.err, "CONFIG_IOREQ_SERVER"), "message: %s", r.err);
	fake_xen_counts(DOM, &c);
	TAP_EQ(c.ports + c.res_maps + c.servers, 0);
	r.srv = NULL;
	rig_down(&r);
}

static void test_copy(void)
{
	struct rig r;
	uint64_t v = 0;

	if (!rig_up(&r, 2, WIN))
		goto out;
	TAP_EQ(fake_xen_mmio_read(DOM, BASE + 8, 4, &v), 0);
	TAP_EQ(v, 0x55667788); /* masked to the access size */
	TAP_EQ(fake_xen_mmio_read(DOM, BASE + 0x100, 1, &v), 0);
	TAP_EQ(v, 0x88);
	TAP_EQ(fake_xen_mmio_write(DOM, BASE + 0x70, 2, 0xabcdef), 0);
	/* Deferred work runs, but only once the vCPU was let go. */
	TAP_EQ(dones(&r.c, 3), 3);
	pthread_mutex_lock(&r.c.lock);
	TAP_EQ(r.c.val, 0xcdef);
	TAP_EQ(r.c.size, 2);
	TAP_EQ(r.c.accesses, 3);
	TAP_CHECK(!r.c.early, "done() ran before completion");
	pthread_mutex_unlock(&r.c.lock);
out:
	rig_down(&r);
}

static void test_other_vcpu(void)
{
	struct fake_ioreq rq = { .type = XEN_IOREQ_TYPE_COPY,
				 .read = true,
				 .addr = BASE + 4,
				 .size = 4,
				 .count = 1 };
	struct rig r;
	uint64_t v = 0;

	if (!rig_up(&r, 4, WIN))
		goto out;
	for (unsigned cpu = 0; cpu < 4; cpu++) {
		v = 0;
		TAP_EQ(fake_xen_vcpu_request(DOM, cpu, &rq, &v, 2000), 0);
		TAP_EQ(v, 0x55667788);
	}
out:
	rig_down(&r);
}

static void test_stale(void)
{
	struct xen_ioreq_stats st;
	struct rig r;

	if (!rig_up(&r, 2, WIN))
		goto out;
	/* Handled here, not on the poller, to count events exactly. */
	poller_stop(&r);
	xen_ioreq_handle(r.srv);
	xen_ioreq_get_stats(r.srv, &st);
	/* Bound ports start pending: the first event of each is stale. */
	TAP_EQ(st.stale, 2);
	/* A slot that is not READY: the event is ignored, the slot kept. */
	TAP_EQ(fake_xen_slot_set(DOM, 1, XEN_IOREQ_RESP_READY, 42), 0);
	TAP_EQ(fake_xen_vcpu_kick(DOM, 1), 0);
	TAP_EQ(fake_xen_slot_set(DOM, 0, XEN_IOREQ_INPROCESS, 43), 0);
	TAP_EQ(fake_xen_vcpu_kick(DOM, 0), 0);
	xen_ioreq_handle(r.srv);
	xen_ioreq_get_stats(r.srv, &st);
	TAP_EQ(st.stale, 4);
	TAP_EQ(fake_xen_slot_state(DOM, 1), XEN_IOREQ_RESP_READY);
	TAP_EQ(fake_xen_slot_data(DOM, 1), 42);
	TAP_EQ(fake_xen_slot_state(DOM, 0), XEN_IOREQ_INPROCESS);
	TAP_EQ(st.served, 0);
	TAP_EQ(r.c.accesses, 0);
	fake_xen_slot_set(DOM, 0, XEN_IOREQ_NONE, 0);
	fake_xen_slot_set(DOM, 1, XEN_IOREQ_NONE, 0);
out:
	rig_down(&r);
}

static void test_outside(void)
{
	struct xen_ioreq_stats st;
	struct rig r;
	uint64_t v = 1;

	/* Xen routes 0x400 bytes to us; only 0x200 belong to a device. */
	if (!rig_up(&r, 1, 2 * WIN))
		goto out;
	TAP_EQ(fake_xen_mmio_read(DOM, BASE + 0x300, 4, &v), 0);
	TAP_EQ(v, 0);
	v = 1;
	TAP_EQ(fake_xen_mmio_read(DOM, BASE + WIN - 2, 4, &v), 0);
	TAP_EQ(v, 0); /* straddles the window's end */
	TAP_EQ(fake_xen_mmio_write(DOM, BASE + 0x300, 4, 7), 0);
	poller_stop(&r);
	xen_ioreq_get_stats(r.srv, &st);
	TAP_EQ(st.outside, 3);
	TAP_EQ(r.c.accesses, 0);
	TAP_EQ(r.c.dones, 0);
	/* Nobody routed this: Xen would fault the guest, not ask us. */
	TAP_EQ(fake_xen_mmio_read(DOM, BASE + 0x1000, 4, &v), -ENOENT);
out:
	rig_down(&r);
}

static void test_forged(void)
{
	struct fake_ioreq bad[] = {
		{ .type = XEN_IOREQ_TYPE_COPY,
		  .read = true,
		  .addr = BASE,
		  .size = 4,
		  .count = 1,
		  .data_is_ptr = true,
		  .data = 0x1000 },
		{ .type = XEN_IOREQ_TYPE_COPY,
		  .read = true,
		  .addr = BASE,
		  .size = 4,
		  .count = 2 },
		{ .type = XEN_IOREQ_TYPE_COPY,
		  .read = true,
		  .addr = BASE,
		  .size = 3,
		  .count = 1 },
		{ .type = XEN_IOREQ_TYPE_PIO,
		  .read = true,
		  .addr = 0x3f8,
		  .size = 1,
		  .count = 1 },
		{ .type = XEN_IOREQ_TYPE_PCI_CONFIG,
		  .read = true,
		  .size = 4,
		  .count = 1 },
		{ .type = 0xff, .read = true, .size = 4, .count = 1 },
	};
	struct xen_ioreq_stats st;
	struct rig r;

	if (!rig_up(&r, 1, WIN))
		goto out;
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint64_t v = 99;

		TAP_EQ(fake_xen_vcpu_request(DOM, 0, &bad[i], &v, 2000), 0);
		TAP_CHECK(v == 0, "forged request %u answered %#llx", i,
			  (unsigned long long)v);
	}
	poller_stop(&r);
	xen_ioreq_get_stats(r.srv, &st);
	TAP_EQ(st.bad, 6);
	TAP_EQ(r.c.accesses, 0);
out:
	rig_down(&r);
}

static void test_invalidate(void)
{
	struct fake_ioreq inv = { .type = XEN_IOREQ_TYPE_INVALIDATE,
				  .size = 4,
				  .count = 1,
				  .data = ~0ull };
	struct xen_ioreq_stats st;
	struct rig r;

	if (!rig_up(&r, 2, WIN))
		goto out;
	/* Xen holds the vCPU until every server completed it. */
	TAP_EQ(fake_xen_vcpu_request(DOM, 1, &inv, NULL, 2000), 0);
	poller_stop(&r);
	xen_ioreq_get_stats(r.srv, &st);
	TAP_EQ(st.invalidates, 1);
	TAP_EQ(r.c.invalidates, 1);
	TAP_EQ(r.c.accesses, 0); /* not an MMIO write */
out:
	rig_down(&r);
}

struct waiter {
	int ret;
	uint64_t val;
};

static void *wait_request(void *arg)
{
	struct waiter *w = arg;

	w->ret = fake_xen_mmio_read(DOM, BASE + 4, 4, &w->val);
	return NULL;
}

static void test_teardown_completes(void)
{
	struct waiter w = { .ret = 1 };
	struct rig r;
	pthread_t t;

	if (!rig_up(&r, 1, WIN))
		goto out;
	poller_stop(&r);
	TAP_EQ(pthread_create(&t, NULL, wait_request, &w), 0);
	for (int i = 0;
	     i < 2000 && fake_xen_slot_state(DOM, 0) != XEN_IOREQ_READY; i++)
		poll(NULL, 0, 1);
	TAP_EQ(fake_xen_slot_state(DOM, 0), XEN_IOREQ_READY);
	/* The vCPU is blocked on us: teardown must answer, not strand it. */
	xen_ioreq_destroy(r.srv);
	r.srv = NULL;
	pthread_join(t, NULL);
	TAP_EQ(w.ret, 0);
out:
	rig_down(&r);
}

static void test_dead_domain(void)
{
	struct rig r;

	if (!rig_up(&r, 2, WIN))
		goto out;
	poller_stop(&r);
	/* Xen has destroyed the server itself; our DM ops now fail. */
	fake_xen_domain_destroy(DOM);
out:
	rig_down(&r);
}

int main(void)
{
	tap_run("setup: server, page, enable, one port per vCPU, end inclusive",
		test_setup);
	tap_run("no CONFIG_IOREQ_SERVER: one line saying so, nothing left",
		test_no_ioreq_server);
	tap_run("COPY reads and writes, masked, work after completion",
		test_copy);
	tap_run("accesses from every vCPU", test_other_vcpu);
	tap_run("stale ioreq: slot not READY left alone", test_stale);
	tap_run("request outside any window reads 0", test_outside);
	tap_run("forged requests answered with 0, never dispatched",
		test_forged);
	tap_run("INVALIDATE reaches the client and completes", test_invalidate);
	tap_run("teardown completes a request a vCPU waits on",
		test_teardown_completes);
	tap_run("teardown after the domain died", test_dead_domain);
	return tap_done();
}
