/* SPDX-License-Identifier: MIT */
/* The Xen transport over the fake Xen, for the unit tests. */
#include "fakes/fake_xen_harness.h"

#include <stdio.h>
#include <sys/mman.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tap.h"
#include "vmedia/evloop.h"

long xh_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static void *loop_thread(void *arg)
{
	struct xh *h = arg;

	evloop_run(h->loop);
	return NULL;
}

bool xh_start(struct xh *h, const struct xen_config *cfg)
{
	struct xen_config def = { .default_backend = "vcam" };

	memset(h, 0, sizeof(*h));
	def.ops = fake_xen_ops();
	h->loop = evloop_create();
	h->guests = h->loop ? guest_set_create(h->loop) : NULL;
	if (!h->guests)
		return false;
	h->xb = xen_backend_start(h->loop, h->guests, cfg ? cfg : &def);
	if (!h->xb)
		return false;
	h->running = pthread_create(&h->thread, NULL, loop_thread, h) == 0;
	return h->running;
}

void xh_stop(struct xh *h)
{
	if (h->running) {
		evloop_stop(h->loop);
		pthread_join(h->thread, NULL);
	}
	xen_backend_stop(h->xb);
	if (h->guests)
		guest_set_destroy(h->guests);
	evloop_destroy(h->loop);
	memset(h, 0, sizeof(*h));
}

void xh_dev_path(char *buf, size_t len, unsigned domid, unsigned devid,
		 const char *key)
{
	snprintf(buf, len, "backend/virtio/%u/%u%s%s", domid, devid,
		 key ? "/" : "", key ? key : "");
}

static void put(unsigned domid, unsigned devid, const char *key,
		const char *value)
{
	char path[128];

	xh_dev_path(path, sizeof(path), domid, devid, key);
	fake_xs_write(path, value);
}

void xh_device_keys(unsigned domid, unsigned devid, uint64_t base, unsigned irq,
		    bool grants)
{
	char v[64];

	snprintf(v, sizeof(v), "/local/domain/%u/device/virtio/%u", domid,
		 devid);
	put(domid, devid, "frontend", v);
	snprintf(v, sizeof(v), "%u", domid);
	put(domid, devid, "frontend-id", v);
	put(domid, devid, "online", "1");
	snprintf(v, sizeof(v), "%u", irq);
	put(domid, devid, "irq", v);
	snprintf(v, sizeof(v), "%#llx", (unsigned long long)base);
	put(domid, devid, "base", v);
	put(domid, devid, "type", "virtio,device30");
	put(domid, devid, "transport", "mmio");
	put(domid, devid, "grant_usage", grants ? "1" : "0");
}

void xh_add_device(unsigned domid, unsigned devid, uint64_t base, unsigned irq,
		   bool grants)
{
	xh_device_keys(domid, devid, base, irq, grants);
	/* Last, as the whole directory lands in one transaction. */
	put(domid, devid, "state", "1");
}

bool xh_wait_value(const char *path, const char *want, int ms)
{
	long until = xh_now_ms() + ms;

	for (;;) {
		char *v = fake_xs_read(path);
		bool ok = want ? v && strcmp(v, want) == 0 : !v;

		free(v);
		if (ok)
			return true;
		if (xh_now_ms() > until)
			return false;
		usleep(1000);
	}
}

bool xh_wait_state(unsigned domid, unsigned devid, const char *want, int ms)
{
	char path[128];

	xh_dev_path(path, sizeof(path), domid, devid, "state");
	return xh_wait_value(path, want, ms);
}

int xh_remove_device(unsigned domid, unsigned devid)
{
	char path[128];
	long t0;
	bool closed;

	snprintf(path, sizeof(path), "/local/domain/%u/device/virtio/%u", domid,
		 devid);
	fake_xs_rm(path);
	t0 = xh_now_ms();
	/*
	 * libxl writes both in one transaction; written one by one, state
	 * goes first so the daemon's 6 cannot be overwritten by our 5.
	 */
	put(domid, devid, "state", "5");
	put(domid, devid, "online", "0");
	closed = xh_wait_state(domid, devid, "6", 10000);
	t0 = xh_now_ms() - t0;
	xh_dev_path(path, sizeof(path), domid, devid, NULL);
	fake_xs_rm(path);
	return closed ? (int)t0 : -1;
}

bool xh_wait_servers(unsigned domid, unsigned servers, int ms)
{
	long until = xh_now_ms() + ms;
	struct fake_xen_counts c;

	for (;;) {
		fake_xen_counts(domid, &c);
		if (c.servers == servers)
			return true;
		if (xh_now_ms() > until)
			return false;
		usleep(1000);
	}
}

bool xh_wait_clean(unsigned domid, int ms)
{
	long until = xh_now_ms() + ms;
	struct fake_xen_counts c;

	for (;;) {
		fake_xen_counts(domid, &c);
		/* Handles are not per domain. */
		if (domid != FAKE_XEN_ALL)
			c.handles = 0;
		if (!c.servers && !c.ports && !c.fmem_pages && !c.grant_pages &&
		    !c.res_maps && !c.handles)
			return true;
		if (xh_now_ms() > until) {
			tap_diag("still held: %u servers %u ports %u fpages "
				 "%u gpages %u res %u handles",
				 c.servers, c.ports, c.fmem_pages,
				 c.grant_pages, c.res_maps, c.handles);
			return false;
		}
		usleep(1000);
	}
}

static int log_fd = -1, saved_stderr = -1;

void xh_log_begin(void)
{
	fflush(stderr);
	log_fd = memfd_create("xh-log", MFD_CLOEXEC);
	saved_stderr = dup(STDERR_FILENO);
	dup2(log_fd, STDERR_FILENO);
}

char *xh_log_end(void)
{
	off_t len;
	char *buf;

	fflush(stderr);
	dup2(saved_stderr, STDERR_FILENO);
	close(saved_stderr);
	len = lseek(log_fd, 0, SEEK_END);
	buf = calloc(1, (size_t)len + 1);
	if (buf && pread(log_fd, buf, (size_t)len, 0) < 0)
		buf[0] = 0;
	close(log_fd);
	/* Let the test's output show what was logged, too. */
	if (buf)
		fputs(buf, stderr);
	return buf;
}

unsigned xh_count(const char *haystack, const char *needle)
{
	unsigned n = 0;

	for (const char *p = haystack; p && (p = strstr(p, needle)); p++)
		n++;
	return n;
}
