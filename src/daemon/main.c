/* SPDX-License-Identifier: MIT */
/*
 * vmediad: the main thread. It owns configuration, the transports'
 * listeners and signals (through a signalfd: no work in signal handlers),
 * and starts, stops and joins one thread per guest.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "daemon/guest.h"
#include "daemon/options.h"
#include "testbus/testbus.h"
#include "xen/shm_window.h"
#include "xen/xen_backend.h"
#include "vmedia/evloop.h"
#include "vmedia/log.h"

struct daemon {
	struct options opts;
	struct evloop *loop;
	struct guest_set *guests;
	struct testbus_server *testbus;
	struct xen_backend *xen;
	int sig_fd;
	struct evloop_source sig_src;
};

static void on_signal(void *ctx, uint32_t events)
{
	struct daemon *d = ctx;
	struct signalfd_siginfo si;

	(void)events;
	while (read(d->sig_fd, &si, sizeof(si)) == sizeof(si)) {
		vm_info(VM_NO_DOM, "%s: shutting down",
			strsignal((int)si.ssi_signo));
		evloop_stop(d->loop);
	}
}

/* Signals arrive through a signalfd; every thread started later inherits
 * the blocked mask, so only this loop sees them. */
static int setup_signals(struct daemon *d)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	if (pthread_sigmask(SIG_BLOCK, &set, NULL) != 0)
		return -1;
	/* A guest that vanishes must not kill us through a write. */
	signal(SIGPIPE, SIG_IGN);
	d->sig_fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (d->sig_fd < 0)
		return -1;
	return evloop_add(d->loop, &d->sig_src, d->sig_fd, EPOLLIN, on_signal,
			  d) < 0
		       ? -1
		       : 0;
}

static void teardown(struct daemon *d)
{
	/* Xen first: it answers libxl (state 6) for every device it served. */
	xen_backend_stop(d->xen);
	testbus_server_destroy(d->testbus);
	guest_set_destroy(d->guests);
	if (d->sig_fd >= 0) {
		evloop_del(d->loop, &d->sig_src);
		close(d->sig_fd);
	}
	evloop_destroy(d->loop);
}

/* Each Xen guest device gets the backend its config rule names. */
static const char *backend_for(void *ctx, int domid, const char *domain_name,
			       unsigned devid)
{
	return config_backend(ctx, domid, domain_name, devid);
}

/* Logs one line saying what is missing when Xen cannot be served. */
static int start_xen(struct daemon *d)
{
	struct xen_config xc = {
		.backend_for = backend_for,
		.backend_ctx = &d->opts.config,
		.limits = d->opts.config.limits,
		.shm_base = d->opts.config.xen_shm_base,
		.shm_size = d->opts.config.xen_shm_size,
	};
	char msg[256];

	/* A window that cannot work is a config error, not a guest's. */
	if (xc.shm_size &&
	    xen_shm_layout_check(xc.shm_base, xc.shm_size, msg, sizeof(msg))) {
		vm_err(VM_NO_DOM, "%s: [xen] shm-base/shm-size: %s",
		       d->opts.config.path ? d->opts.config.path : "defaults",
		       msg);
		return -1;
	}

	d->xen = xen_backend_start(d->loop, d->guests, &xc);
	if (!d->xen)
		return -1;
	vm_info(VM_NO_DOM, "serving Xen guests (backend/virtio)");
	return 0;
}

static int start(struct daemon *d)
{
	d->loop = evloop_create();
	if (!d->loop || setup_signals(d) < 0) {
		vm_err(VM_NO_DOM, "cannot set up the main loop: %s",
		       strerror(errno));
		return -1;
	}
	d->guests = guest_set_create(d->loop);
	if (!d->guests) {
		vm_err(VM_NO_DOM, "out of memory");
		return -1;
	}
	if (!d->opts.testbus.socket_path && !d->opts.serve_xen) {
		vm_err(VM_NO_DOM, "nothing to serve: Xen is off (--no-xen or "
				  "xen = no) and "
				  "no --test-socket PATH was given");
		return -1;
	}
	if (d->opts.serve_xen && start_xen(d) < 0)
		return -1;
	if (!d->opts.testbus.socket_path)
		return 0;
	d->testbus =
		testbus_server_create(&d->opts.testbus, d->loop, d->guests);
	if (!d->testbus)
		return -1;
	vm_info(VM_NO_DOM, "test transport on %s, %u device(s) per guest",
		d->opts.testbus.socket_path, d->opts.testbus.num_devices);
	return 0;
}

int main(int argc, char **argv)
{
	struct daemon d = { .sig_fd = -1 };
	int ret;

	ret = options_parse(&d.opts, argc, argv);
	if (ret) {
		options_free(&d.opts);
		return ret > 0 ? EXIT_SUCCESS : EXIT_FAILURE;
	}
	vm_log_set_level(d.opts.log_level);
	vm_log_use_syslog(d.opts.syslog);

	if (d.opts.config.path)
		vm_info(VM_NO_DOM, "config %s: %u device rule(s)",
			d.opts.config.path, d.opts.config.num_devices);
	ret = start(&d);
	if (ret == 0) {
		ret = evloop_run(d.loop);
		if (ret)
			vm_err(VM_NO_DOM, "main loop failed: %s",
			       strerror(-ret));
	}
	teardown(&d);
	options_free(&d.opts);
	vm_info(VM_NO_DOM, "exited %s", ret ? "with errors" : "cleanly");
	return ret ? EXIT_FAILURE : EXIT_SUCCESS;
}
