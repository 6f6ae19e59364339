/* SPDX-License-Identifier: MIT */
/*
 * One test guest on its own thread: the socket protocol of
 * include/vmedia/testbus_wire.h in front of media devices.
 *
 * The peer is hostile. Every message is checked; a protocol violation gets
 * ERROR and ends this guest, never the daemon. Nothing here blocks: the
 * socket is non-blocking and a peer that does not drain its answers is
 * treated as broken, as an MMIO access must never stall the thread.
 */
#include "testbus/testbus.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "backends/registry.h"
#include "testbus/shm_memfd.h"
#include "vmedia/fdmsg.h"
#include "vmedia/log.h"
#include "vmedia/media_device.h"
#include "vmedia/testbus_wire.h"
#include "vmedia/virtio_mmio.h"

/* Messages handled per wakeup: the loop's other fds get their turn. */
#define LINK_BATCH    64u
#define LINK_SPEC_MAX 256u

enum link_state { LINK_WAIT_HELLO, LINK_READY, LINK_DEAD };

struct link_dev {
	struct media_device *md;
	struct virtio_mmio *vm;
	struct testbus_irq irq;
	struct irq_line line;
	struct testbus_shm shm; /* shm.fd < 0: no region */
};

struct testbus_link {
	int fd;
	struct guest *g;
	int domid;
	enum link_state state;
	struct evloop_source src;
	struct testbus_ram ram;
	struct gmem mem;
	unsigned num_devices;
	struct testbus_device_config devcfg[TESTBUS_MAX_DEVICES];
	/* Own copies: the link may outlive the configuration it came from. */
	char spec[TESTBUS_MAX_DEVICES][LINK_SPEC_MAX];
	struct link_dev dev[TESTBUS_MAX_DEVICES];
	char name[32];
	const char *why;   /* what the last failed handler found wrong */
	char dev_err[160]; /* media_device_create()'s own explanation */
	int more_fd;	   /* eventfd: a device has queue work left over */
	struct evloop_source more_src;
};

struct link_rx {
	struct testbus_msg msg;
	struct fdmsg_fds fds;
};

/*
 * 1 with a whole message in rx, 0 when there is nothing to read, or a
 * negative errno: -ECONNRESET for a hangup, -EBADMSG for a message of the
 * wrong size (any fds it carried are closed).
 */
static int link_recv(struct testbus_link *l, struct link_rx *rx)
{
	int r = fdmsg_recv(l->fd, &rx->msg, sizeof(rx->msg), MSG_DONTWAIT,
			   &rx->fds);

	return r < 0 && r != -EBADMSG ? -ECONNRESET : r;
}

/* Send one message with nfds fds (0..2); 0 or a negative errno. */
static int link_send_fds(struct testbus_link *l, const struct testbus_msg *m,
			 const int *fds, unsigned nfds)
{
	return fdmsg_send(l->fd, m, sizeof(*m), fds, nfds, MSG_DONTWAIT);
}

static int link_send(struct testbus_link *l, const struct testbus_msg *m,
		     int fd)
{
	return link_send_fds(l, m, &fd, fd >= 0 ? 1 : 0);
}

/*
 * End this guest from its own thread. err > 0 is sent to the peer as
 * ERROR first (a best effort: the peer may be gone).
 */
static void link_end(struct testbus_link *l, int err, const char *why)
{
	if (l->state == LINK_DEAD)
		return;
	if (err > 0) {
		struct testbus_msg m = { .type = TESTBUS_ERROR,
					 .value = (uint64_t)err };

		(void)link_send(l, &m, -1);
		vm_warn(l->domid, "test guest %s: %s (%s); ending it", l->name,
			why, strerror(err));
	} else {
		vm_info(l->domid, "test guest %s: %s; ending it", l->name, why);
	}
	l->state = LINK_DEAD;
	evloop_del(guest_loop(l->g), &l->src);
	guest_stop(l->g);
}

static int link_violation(struct testbus_link *l, int err, const char *why)
{
	l->why = why;
	return -err;
}

static int link_create_shm(struct testbus_link *l, unsigned i)
{
	struct link_dev *d = &l->dev[i];
	int r;

	if (!l->devcfg[i].shm_size)
		return 0;
	r = testbus_shm_create(&d->shm, l->devcfg[i].shm_size,
			       TESTBUS_SHM_BASE +
				       (uint64_t)i * TESTBUS_SHM_STRIDE);
	if (r < 0)
		snprintf(l->dev_err, sizeof(l->dev_err),
			 "cannot make a %llu-byte SHM region: %s",
			 (unsigned long long)l->devcfg[i].shm_size,
			 strerror(-r));
	return r;
}

static int link_create_device(struct testbus_link *l, unsigned i)
{
	struct link_dev *d = &l->dev[i];
	struct media_device_params p = {
		.mem = &l->mem,
		.irq = &d->line,
		.loop = guest_loop(l->g),
		.domid = l->domid,
		.limits = l->devcfg[i].limits,
		.err = l->dev_err,
		.err_len = sizeof(l->dev_err),
	};
	int r;

	p.backend = backend_lookup(l->devcfg[i].backend, &p.backend_args);
	if (!p.backend) {
		snprintf(l->dev_err, sizeof(l->dev_err), "unknown backend '%s'",
			 l->devcfg[i].backend);
		return -EINVAL;
	}
	r = link_create_shm(l, i);
	if (r < 0)
		return r;
	p.shm = d->shm.fd >= 0 ? &d->shm.region : NULL;
	d->irq.fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (d->irq.fd < 0)
		return -errno;
	d->line.ops = &testbus_irq_ops;
	d->line.ctx = &d->irq;
	errno = 0;
	d->md = media_device_create(&p);
	if (!d->md)
		return errno ? -errno : -ENOMEM;
	d->vm = media_device_mmio(d->md);
	return 0;
}

/* Tell the guest about its devices: DEVICE each, then READY. */
static int link_announce(struct testbus_link *l)
{
	struct testbus_msg m;
	int r;

	for (unsigned i = 0; i < l->num_devices; i++) {
		const struct link_dev *d = &l->dev[i];
		int fds[2] = { d->irq.fd, d->shm.fd };
		bool shm = d->shm.fd >= 0;

		m = (struct testbus_msg){
			.type = TESTBUS_DEVICE,
			.size = i,
			.addr = TESTBUS_MMIO_BASE +
				(uint64_t)i * VIRTIO_MMIO_WINDOW,
			.value = VIRTIO_MMIO_WINDOW,
			.version = TESTBUS_VERSION,
			.flags = shm ? TESTBUS_F_SHM : 0,
			.value2 = shm ? d->shm.region.size : 0,
		};
		r = link_send_fds(l, &m, fds, shm ? 2 : 1);
		if (r < 0)
			return r;
	}
	m = (struct testbus_msg){ .type = TESTBUS_READY,
				  .size = l->num_devices };
	return link_send(l, &m, -1);
}

static int link_hello(struct testbus_link *l, struct link_rx *rx)
{
	const struct testbus_msg *m = &rx->msg;
	const char *why = NULL;
	int r;

	if (l->state != LINK_WAIT_HELLO)
		return link_violation(l, EPROTO, "second HELLO");
	if (m->version != TESTBUS_VERSION)
		return link_violation(l, EPROTONOSUPPORT,
				      "HELLO of another protocol version");
	if (rx->fds.n != 1)
		return link_violation(l, EPROTO,
				      "HELLO must carry exactly one fd");
	r = testbus_ram_map(&l->ram, rx->fds.fd[0], m->addr, m->value, &why);
	if (r < 0)
		return link_violation(l, -r, why);
	for (unsigned i = 0; i < l->num_devices; i++) {
		r = link_create_device(l, i);
		if (r < 0)
			return link_violation(
				l, -r,
				l->dev_err[0] ? l->dev_err
					      : "cannot create a device");
	}
	r = link_announce(l);
	if (r < 0) {
		link_end(l, 0,
			 "cannot announce devices (peer gone or not reading)");
		return 0;
	}
	l->state = LINK_READY;
	vm_info(l->domid, "test guest %s: %u device(s), RAM %#llx+%#llx",
		l->name, l->num_devices, (unsigned long long)l->ram.base,
		(unsigned long long)l->ram.size);
	return 0;
}

/*
 * The device whose window holds the whole access, or NULL (then, as on
 * Xen, nobody serves it). *off is the offset inside the window.
 */
static struct link_dev *link_route(struct testbus_link *l, uint64_t addr,
				   unsigned size, uint32_t *off)
{
	uint64_t rel, i;

	if (addr < TESTBUS_MMIO_BASE)
		return NULL;
	rel = addr - TESTBUS_MMIO_BASE;
	i = rel / VIRTIO_MMIO_WINDOW;
	if (i >= l->num_devices)
		return NULL;
	*off = (uint32_t)(rel % VIRTIO_MMIO_WINDOW);
	if (*off + size > VIRTIO_MMIO_WINDOW)
		return NULL;
	return &l->dev[i];
}

static bool valid_size(uint32_t size)
{
	return size == 1 || size == 2 || size == 4 || size == 8;
}

/* Come back for left-over queue work after the loop's other sources. */
static void link_more(struct testbus_link *l)
{
	uint64_t one = 1;

	(void)!write(l->more_fd, &one, sizeof(one));
}

static void link_on_more(void *ctx, uint32_t events)
{
	struct testbus_link *l = ctx;
	bool again = false;
	uint64_t n;

	(void)events;
	(void)!read(l->more_fd, &n, sizeof(n));
	for (unsigned i = 0; i < l->num_devices && l->state == LINK_READY;
	     i++) {
		if (!l->dev[i].vm || !virtio_mmio_has_pending(l->dev[i].vm))
			continue;
		virtio_mmio_run_pending(l->dev[i].vm);
		again |= virtio_mmio_has_pending(l->dev[i].vm);
	}
	if (again)
		link_more(l);
}

static int link_access(struct testbus_link *l, const struct testbus_msg *m)
{
	struct testbus_msg done = { .type = TESTBUS_DONE,
				    .size = m->size,
				    .addr = m->addr };
	struct link_dev *d;
	uint32_t off = 0;

	if (l->state != LINK_READY)
		return link_violation(l, EPROTO, "access before HELLO");
	if (!valid_size(m->size))
		return link_violation(l, EINVAL, "access size not 1/2/4/8");
	d = link_route(l, m->addr, m->size, &off);
	if (d && m->type == TESTBUS_READ) {
		done.value = virtio_mmio_read(d->vm, off, m->size);
	} else if (d) {
		/* Only the access's bytes travel, as on a real bus. */
		uint64_t mask =
			m->size == 8 ? UINT64_MAX : (1ull << (m->size * 8)) - 1;

		virtio_mmio_write(d->vm, off, m->size, m->value & mask);
	}
	if (link_send(l, &done, -1) < 0) {
		link_end(l, 0,
			 "cannot answer an access (peer gone or not reading)");
		return 0;
	}
	/* Deferred queue work runs once the access is complete, as on Xen. */
	if (d)
		virtio_mmio_run_pending(d->vm);
	if (d && virtio_mmio_has_pending(d->vm))
		link_more(l);
	return 0;
}

/* 0, or a negative errno for a protocol violation (l->why says what). */
static int link_handle(struct testbus_link *l, struct link_rx *rx)
{
	uint32_t type = rx->msg.type;
	int r;

	if (type == TESTBUS_HELLO) {
		r = link_hello(l, rx);
		fdmsg_close(&rx->fds); /* the mapping keeps the RAM */
		return r;
	}
	if (rx->fds.n) {
		fdmsg_close(&rx->fds);
		return link_violation(l, EPROTO,
				      "fd on a message other than HELLO");
	}
	if (type == TESTBUS_READ || type == TESTBUS_WRITE)
		return link_access(l, &rx->msg);
	return link_violation(l, EPROTO, "unexpected message type");
}

static void link_on_conn(void *ctx, uint32_t events)
{
	struct testbus_link *l = ctx;

	if (events & (EPOLLHUP | EPOLLRDHUP | EPOLLERR)) {
		link_end(l, 0, "peer hung up");
		return;
	}
	for (unsigned i = 0; i < LINK_BATCH && l->state != LINK_DEAD; i++) {
		struct link_rx rx;
		int r = link_recv(l, &rx);

		if (r == 0)
			return;
		if (r == -ECONNRESET) {
			link_end(l, 0, "peer hung up");
			return;
		}
		if (r < 0) {
			link_end(l, -r, "truncated or wrong-sized message");
			return;
		}
		r = link_handle(l, &rx);
		if (r < 0)
			link_end(l, -r, l->why);
	}
}

static int link_start(struct guest *g)
{
	struct testbus_link *l = guest_ctx(g);

	l->g = g;
	l->domid = guest_domid(g);
	l->more_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (l->more_fd < 0 ||
	    evloop_add(guest_loop(g), &l->more_src, l->more_fd, EPOLLIN,
		       link_on_more, l) < 0)
		return -EMFILE;
	return evloop_add(guest_loop(g), &l->src, l->fd, EPOLLIN | EPOLLRDHUP,
			  link_on_conn, l);
}

static void link_stop(struct guest *g)
{
	struct testbus_link *l = guest_ctx(g);

	l->state = LINK_DEAD;
	evloop_del(guest_loop(g), &l->src);
	if (l->more_fd >= 0) {
		evloop_del(guest_loop(g), &l->more_src);
		close(l->more_fd);
		l->more_fd = -1;
	}
	/* Devices first: a reset may still unmap chains in guest RAM. */
	for (unsigned i = 0; i < l->num_devices; i++) {
		struct link_dev *d = &l->dev[i];

		if (d->md)
			media_device_destroy(d->md);
		d->md = NULL;
		d->vm = NULL;
		if (d->irq.fd >= 0)
			close(d->irq.fd);
		d->irq.fd = -1;
		testbus_shm_destroy(&d->shm);
	}
	testbus_ram_unmap(&l->ram);
	if (l->fd >= 0)
		close(l->fd);
	l->fd = -1;
}

static void link_release(void *ctx)
{
	struct testbus_link *l = ctx;

	if (l->fd >= 0)
		close(l->fd);
	free(l);
}

const struct guest_ops testbus_link_ops = {
	.start = link_start,
	.stop = link_stop,
	.release = link_release,
};

void *testbus_link_new(int conn_fd, const struct testbus_config *cfg)
{
	struct testbus_link *l;

	if (cfg->num_devices == 0 || cfg->num_devices > TESTBUS_MAX_DEVICES) {
		errno = EINVAL;
		return NULL;
	}
	l = calloc(1, sizeof(*l));
	if (!l)
		return NULL;
	l->fd = conn_fd;
	l->more_fd = -1;
	l->domid = VM_NO_DOM;
	l->state = LINK_WAIT_HELLO;
	l->mem = (struct gmem){ .ops = &testbus_gmem_ops, .ctx = &l->ram };
	l->num_devices = cfg->num_devices;
	for (unsigned i = 0; i < l->num_devices; i++) {
		l->devcfg[i] = cfg->device[i];
		snprintf(l->spec[i], sizeof(l->spec[i]), "%s",
			 cfg->device[i].backend ? cfg->device[i].backend : "");
		l->devcfg[i].backend = l->spec[i];
		l->dev[i].irq.fd = -1;
		l->dev[i].shm.fd = -1;
	}
	snprintf(l->name, sizeof(l->name), "test-?");
	return l;
}

const char *testbus_link_name(void *link, int domid)
{
	struct testbus_link *l = link;

	snprintf(l->name, sizeof(l->name), "test-%d", domid);
	return l->name;
}
