/* SPDX-License-Identifier: MIT */
/*
 * Discovery and the xenbus handshake, with the whole Xen transport
 * running over the fake Xen: vmediad's main loop and guest threads on one
 * side, the test playing libxl and the guests on the other.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tap.h"
#include "vmedia/virtio_mmio.h"
#include "fakes/fake_xen_harness.h"

#define WAIT_MS 5000

static void up(struct xh *h, const struct xen_config *cfg)
{
	fake_xen_init();
	TAP_CHECK(xh_start(h, cfg), "backend did not start");
}

static void down(struct xh *h)
{
	xh_stop(h);
	TAP_CHECK(xh_wait_clean(FAKE_XEN_ALL, 0),
		  "daemon left something mapped");
	fake_xen_fini();
}

static uint32_t magic_at(unsigned domid, uint64_t base)
{
	uint64_t v = 0;
	int r = fake_xen_mmio_read(domid, base, 4, &v);

	return r == 0 ? (uint32_t)v : 0;
}

static void test_no_xenstore(void)
{
	struct fake_xen_faults f = { .xs_open = ENOENT };
	struct xen_config cfg = { .default_backend = "vcam" };
	struct evloop *loop;
	struct guest_set *gs;
	char *log;

	fake_xen_init();
	fake_xen_set_faults(&f);
	cfg.ops = fake_xen_ops();
	loop = evloop_create();
	gs = guest_set_create(loop);
	xh_log_begin();
	TAP_CHECK(xen_backend_start(loop, gs, &cfg) == NULL,
		  "started without xenstore");
	log = xh_log_end();
	TAP_EQ(xh_count(log, "\n"), 1);
	TAP_CHECK(strstr(log, "cannot open xenstore") &&
			  strstr(log, "dom0 or a driver domain"),
		  "message: %s", log);
	free(log);
	guest_set_destroy(gs);
	evloop_destroy(loop);
	fake_xen_fini();
}

static void test_handshake(void)
{
	char path[128], buf[64];
	uint64_t s[2], e[2];
	struct xh h;

	up(&h, NULL);
	TAP_EQ(fake_xen_domain_create(5, "guest5", 1, XH_RAM_PAGES), 0);
	xh_add_device(5, 0, XH_BASE(0), XH_IRQ(0), false);
	TAP_CHECK(xh_wait_state(5, 0, "4", WAIT_MS), "never connected");
	xh_dev_path(path, sizeof(path), 5, 0, "state");
	TAP_CHECK(strcmp(fake_xs_written(path, buf, sizeof(buf)), "2,4") == 0,
		  "states written: %s", buf);
	TAP_EQ(fake_xen_ranges(5, s, e, 2), 1);
	TAP_EQ(s[0], XH_BASE(0));
	TAP_EQ(e[0], XH_BASE(0) + VIRTIO_MMIO_WINDOW - 1);
	TAP_EQ(magic_at(5, XH_BASE(0)), VIRTIO_MMIO_MAGIC);
	down(&h);
}

static void test_enumerate_at_start(void)
{
	struct xh h;

	fake_xen_init();
	TAP_EQ(fake_xen_domain_create(6, "early", 2, XH_RAM_PAGES), 0);
	xh_add_device(6, 0, XH_BASE(0), XH_IRQ(0), false);
	xh_add_device(6, 1, XH_BASE(1), XH_IRQ(1), false);
	TAP_CHECK(xh_start(&h, NULL), "backend did not start");
	TAP_CHECK(xh_wait_state(6, 0, "4", WAIT_MS), "dev 0 not picked up");
	TAP_CHECK(xh_wait_state(6, 1, "4", WAIT_MS), "dev 1 not picked up");
	down(&h);
}

static void put(unsigned domid, unsigned devid, const char *key,
		const char *value)
{
	char path[128];

	xh_dev_path(path, sizeof(path), domid, devid, key);
	fake_xs_write(path, value);
}

static void test_malformed(void)
{
	static const char *const bad[][2] = {
		{ "base", "0x2000001" },  { "base", "-1" },
		{ "base", "2000000 " },	  { "irq", "7" },
		{ "irq", "0x21" },	  { "frontend-id", "99" },
		{ "grant_usage", "yes" }, { "online", "2" },
	};
	struct fake_xen_counts c;
	struct xh h;
	char *log;

	up(&h, NULL);
	TAP_EQ(fake_xen_domain_create(7, "bad", 1, XH_RAM_PAGES), 0);
	xh_log_begin();
	for (unsigned i = 0; i < 8; i++) {
		xh_device_keys(7, i, XH_BASE(i), XH_IRQ(i), false);
		put(7, i, bad[i][0], bad[i][1]);
		put(7, i, "state", "1");
		/* More events for the same device: still one line. */
		put(7, i, "state", "1");
	}
	/* An embedded NUL in a value. */
	xh_device_keys(7, 8, XH_BASE(8), XH_IRQ(8), false);
	{
		char path[128];

		xh_dev_path(path, sizeof(path), 7, 8, "irq");
		fake_xs_write_raw(path,
				  "33\0"
				  "9",
				  4);
		put(7, 8, "state", "1");
	}
	/* A good device after them is still served. */
	xh_add_device(7, 9, XH_BASE(9), XH_IRQ(9), false);
	TAP_CHECK(xh_wait_state(7, 9, "4", WAIT_MS), "good device not served");
	usleep(50000);
	log = xh_log_end();
	TAP_EQ(xh_count(log, "ignoring this device"), 9);
	for (unsigned i = 0; i < 9; i++)
		TAP_CHECK(xh_wait_state(7, i, "1", 0), "device %u answered", i);
	fake_xen_counts(7, &c);
	TAP_EQ(c.ranges, 1);
	free(log);
	down(&h);
}

static void test_not_ours(void)
{
	struct fake_xen_counts c;
	struct xh h;

	up(&h, NULL);
	TAP_EQ(fake_xen_domain_create(8, "disk", 1, XH_RAM_PAGES), 0);
	xh_device_keys(8, 0, XH_BASE(0), XH_IRQ(0), false);
	put(8, 0, "type", "virtio,device2"); /* a virtio-blk */
	put(8, 0, "state", "1");
	xh_add_device(8, 1, XH_BASE(1), XH_IRQ(1), false);
	TAP_CHECK(xh_wait_state(8, 1, "4", WAIT_MS), "ours not served");
	TAP_CHECK(xh_wait_state(8, 0, "1", 0), "a virtio-blk was answered");
	fake_xen_counts(8, &c);
	TAP_EQ(c.ranges, 1);
	down(&h);
}

static void test_close_writes_6(void)
{
	char path[128], buf[64];
	struct xh h;
	int ms;

	up(&h, NULL);
	TAP_EQ(fake_xen_domain_create(9, "g9", 1, XH_RAM_PAGES), 0);
	xh_add_device(9, 0, XH_BASE(0), XH_IRQ(0), false);
	TAP_CHECK(xh_wait_state(9, 0, "4", WAIT_MS), "never connected");
	xh_dev_path(path, sizeof(path), 9, 0, "state");
	ms = xh_remove_device(9, 0);
	TAP_CHECK(ms >= 0 && ms < 2000, "state 6 after %d ms (libxl: 10 s)",
		  ms);
	TAP_CHECK(strcmp(fake_xs_written(path, buf, sizeof(buf)), "2,4,6") == 0,
		  "states written: %s", buf);
	TAP_CHECK(xh_wait_servers(9, 0, WAIT_MS), "server left");
	TAP_CHECK(xh_wait_clean(FAKE_XEN_ALL, WAIT_MS), "mappings left");
	/* The directory is gone: nothing may recreate it. */
	usleep(20000);
	TAP_CHECK(xh_wait_value(path, NULL, 0), "state node recreated");
	down(&h);
}

static void test_online_0(void)
{
	struct xh h;

	up(&h, NULL);
	TAP_EQ(fake_xen_domain_create(10, "g10", 1, XH_RAM_PAGES), 0);
	xh_add_device(10, 0, XH_BASE(0), XH_IRQ(0), false);
	TAP_CHECK(xh_wait_state(10, 0, "4", WAIT_MS), "never connected");
	put(10, 0, "online", "0");
	TAP_CHECK(xh_wait_state(10, 0, "6", WAIT_MS), "online=0 not closed");
	TAP_CHECK(xh_wait_servers(10, 0, WAIT_MS), "server left");
	down(&h);
}

static void test_dir_removed(void)
{
	char path[128];
	struct xh h;

	up(&h, NULL);
	TAP_EQ(fake_xen_domain_create(11, "g11", 1, XH_RAM_PAGES), 0);
	xh_add_device(11, 0, XH_BASE(0), XH_IRQ(0), false);
	TAP_CHECK(xh_wait_state(11, 0, "4", WAIT_MS), "never connected");
	xh_dev_path(path, sizeof(path), 11, 0, NULL);
	fake_xs_rm(path);
	TAP_CHECK(xh_wait_servers(11, 0, WAIT_MS), "server left");
	TAP_CHECK(xh_wait_clean(FAKE_XEN_ALL, WAIT_MS), "mappings left");
	xh_dev_path(path, sizeof(path), 11, 0, "state");
	TAP_CHECK(xh_wait_value(path, NULL, 0), "state node recreated");
	down(&h);
}

static void test_domain_death(void)
{
	struct xh h;

	up(&h, NULL);
	TAP_EQ(fake_xen_domain_create(12, "g12", 2, XH_RAM_PAGES), 0);
	xh_add_device(12, 0, XH_BASE(0), XH_IRQ(0), false);
	xh_add_device(12, 1, XH_BASE(1), XH_IRQ(1), false);
	TAP_CHECK(xh_wait_state(12, 1, "4", WAIT_MS), "never connected");
	/* Crashed, no toolstack cleanup: only @releaseDomain says so. */
	fake_xen_domain_destroy(12);
	TAP_CHECK(xh_wait_clean(FAKE_XEN_ALL, WAIT_MS),
		  "dead guest still held");
	down(&h);
}

static void test_independent(void)
{
	struct fake_xen_counts c;
	struct xh h;

	up(&h, NULL);
	TAP_EQ(fake_xen_domain_create(13, "g13", 1, XH_RAM_PAGES), 0);
	xh_add_device(13, 0, XH_BASE(0), XH_IRQ(0), false);
	TAP_CHECK(xh_wait_state(13, 0, "4", WAIT_MS), "dev 0");
	xh_add_device(13, 1, XH_BASE(1), XH_IRQ(1), false);
	TAP_CHECK(xh_wait_state(13, 1, "4", WAIT_MS), "dev 1 (added later)");
	TAP_CHECK(xh_remove_device(13, 1) >= 0, "dev 1 not closed");
	/* Device 0 keeps its window on the same server. */
	TAP_CHECK(xh_wait_state(13, 0, "4", 0), "dev 0 disturbed");
	TAP_EQ(magic_at(13, XH_BASE(0)), VIRTIO_MMIO_MAGIC);
	fake_xen_counts(13, &c);
	TAP_EQ(c.servers, 1);
	TAP_EQ(c.ranges, 1);
	TAP_EQ(c.servers_created, 1);
	down(&h);
}

static void test_eleven(void)
{
	struct fake_xen_counts c;
	struct xh h;

	up(&h, NULL);
	TAP_EQ(fake_xen_domain_create(14, "many", 4, XH_RAM_PAGES), 0);
	for (unsigned i = 0; i < 11; i++)
		xh_add_device(14, i, XH_BASE(i), XH_IRQ(i), false);
	for (unsigned i = 0; i < 11; i++) {
		TAP_CHECK(xh_wait_state(14, i, "4", WAIT_MS), "dev %u", i);
		TAP_EQ(magic_at(14, XH_BASE(i)), VIRTIO_MMIO_MAGIC);
	}
	fake_xen_counts(14, &c);
	TAP_EQ(c.servers_created, 1);
	TAP_EQ(c.servers, 1);
	TAP_EQ(c.ranges, 11);
	TAP_EQ(c.ports, 4);
	for (unsigned i = 0; i < 11; i++)
		TAP_CHECK(xh_remove_device(14, i) >= 0, "dev %u not closed", i);
	TAP_CHECK(xh_wait_clean(FAKE_XEN_ALL, WAIT_MS), "mappings left");
	down(&h);
}

static void test_64_guests(void)
{
	struct fake_xen_counts c;
	struct xh h;
	char name[16];

	up(&h, NULL);
	for (unsigned d = 1; d <= 64; d++) {
		snprintf(name, sizeof(name), "vm%u", d);
		TAP_EQ(fake_xen_domain_create(d, name, 1, 64), 0);
		xh_add_device(d, 0, XH_BASE(0), XH_IRQ(0), false);
	}
	for (unsigned d = 1; d <= 64; d++)
		TAP_CHECK(xh_wait_state(d, 0, "4", 20000), "guest %u", d);
	fake_xen_counts(FAKE_XEN_ALL, &c);
	TAP_EQ(c.servers, 64);
	TAP_EQ(c.ports, 64);
	for (unsigned d = 1; d <= 64; d++)
		TAP_EQ(magic_at(d, XH_BASE(0)), VIRTIO_MMIO_MAGIC);
	/* Half go the libxl way, half just die. */
	for (unsigned d = 1; d <= 64; d++) {
		if (d % 2)
			TAP_CHECK(xh_remove_device(d, 0) >= 0, "guest %u", d);
		fake_xen_domain_destroy(d);
	}
	TAP_CHECK(xh_wait_clean(FAKE_XEN_ALL, 20000), "guests still held");
	down(&h);
}

static void test_reboot(void)
{
	struct fake_xen_counts c;
	struct xh h;

	up(&h, NULL);
	TAP_EQ(fake_xen_domain_create(20, "rebooter", 1, XH_RAM_PAGES), 0);
	xh_add_device(20, 0, XH_BASE(0), XH_IRQ(0), false);
	TAP_CHECK(xh_wait_state(20, 0, "4", WAIT_MS), "first boot");
	/* xl reboot: destroy (devices first), then a new domid. */
	TAP_CHECK(xh_remove_device(20, 0) >= 0, "old device not closed");
	fake_xen_domain_destroy(20);
	TAP_EQ(fake_xen_domain_create(21, "rebooter", 1, XH_RAM_PAGES), 0);
	xh_add_device(21, 0, XH_BASE(0), XH_IRQ(0), false);
	TAP_CHECK(xh_wait_state(21, 0, "4", WAIT_MS), "second boot");
	TAP_EQ(magic_at(21, XH_BASE(0)), VIRTIO_MMIO_MAGIC);
	TAP_CHECK(xh_wait_servers(20, 0, WAIT_MS), "old server left");
	fake_xen_counts(21, &c);
	TAP_EQ(c.servers, 1);
	down(&h);
}

static void test_no_ioreq_support(void)
{
	struct fake_xen_faults f = { .create_server = ENOSYS };
	char path[128], buf[64];
	struct xh h;
	char *log;

	up(&h, NULL);
	fake_xen_set_faults(&f);
	TAP_EQ(fake_xen_domain_create(22, "g22", 1, XH_RAM_PAGES), 0);
	xh_log_begin();
	xh_add_device(22, 0, XH_BASE(0), XH_IRQ(0), false);
	TAP_CHECK(xh_wait_state(22, 0, "6", WAIT_MS), "failure not answered");
	log = xh_log_end();
	TAP_EQ(xh_count(log, "IOREQ server not available"), 1);
	TAP_CHECK(strstr(log, "CONFIG_IOREQ_SERVER"), "no hint: %s", log);
	xh_dev_path(path, sizeof(path), 22, 0, "state");
	TAP_CHECK(strcmp(fake_xs_written(path, buf, sizeof(buf)), "2,6") == 0,
		  "states written: %s", buf);
	free(log);
	down(&h);
}

static const char *pick(void *ctx, int domid, const char *name, unsigned devid)
{
	(void)ctx;
	(void)domid;
	if (strcmp(name, "camera-vm") == 0)
		return devid == 0 ? "vcam:mplane" : "nosuch";
	return NULL;
}

static void test_backend_choice(void)
{
	struct xen_config cfg = { .backend_for = pick };
	struct xh h;

	fake_xen_init();
	cfg.ops = fake_xen_ops();
	TAP_CHECK(xh_start(&h, &cfg), "start");
	TAP_EQ(fake_xen_domain_create(23, "camera-vm", 1, XH_RAM_PAGES), 0);
	TAP_EQ(fake_xen_domain_create(24, "other-vm", 1, XH_RAM_PAGES), 0);
	xh_add_device(23, 0, XH_BASE(0), XH_IRQ(0), false);
	xh_add_device(23, 1, XH_BASE(1), XH_IRQ(1), false);
	xh_add_device(24, 0, XH_BASE(0), XH_IRQ(0), false);
	TAP_CHECK(xh_wait_state(23, 0, "4", WAIT_MS), "configured device");
	/* An unknown backend: the device is closed, not left hanging. */
	TAP_CHECK(xh_wait_state(23, 1, "6", WAIT_MS), "unknown backend");
	TAP_CHECK(xh_wait_state(24, 0, "1", 0), "unconfigured guest served");
	TAP_CHECK(xh_wait_servers(24, 0, 0), "server for unconfigured guest");
	down(&h);
}

static void test_xs_errors(void)
{
	struct fake_xen_faults f = { .xs_error = EACCES };
	struct xh h;

	up(&h, NULL);
	TAP_EQ(fake_xen_domain_create(26, "g26", 1, XH_RAM_PAGES), 0);
	TAP_EQ(fake_xen_domain_create(27, "g27", 1, XH_RAM_PAGES), 0);
	xh_add_device(26, 0, XH_BASE(0), XH_IRQ(0), false);
	TAP_CHECK(xh_wait_state(26, 0, "4", WAIT_MS), "never connected");
	/* Unreadable xenstore: an event must not look like a removal. */
	fake_xen_set_faults(&f);
	put(26, 0, "frontend", "/somewhere/else");
	fake_xs_write("backend/virtio/26", "");
	usleep(50000);
	memset(&f, 0, sizeof(f));
	f.domain_alive = EIO;
	fake_xen_set_faults(&f);
	/* ...nor "cannot tell" a death, when another domain dies. */
	fake_xen_domain_destroy(27);
	usleep(50000);
	TAP_CHECK(xh_wait_servers(26, 1, 0), "torn down on an error");
	TAP_EQ(magic_at(26, XH_BASE(0)), VIRTIO_MMIO_MAGIC);
	memset(&f, 0, sizeof(f));
	fake_xen_set_faults(&f);
	down(&h);
}

static void test_stop_answers(void)
{
	char path[128];
	struct xh h;

	up(&h, NULL);
	TAP_EQ(fake_xen_domain_create(25, "g25", 1, XH_RAM_PAGES), 0);
	xh_add_device(25, 0, XH_BASE(0), XH_IRQ(0), false);
	TAP_CHECK(xh_wait_state(25, 0, "4", WAIT_MS), "never connected");
	xh_stop(&h);
	xh_dev_path(path, sizeof(path), 25, 0, "state");
	TAP_CHECK(xh_wait_value(path, "6", 0), "daemon stop left state 4");
	TAP_CHECK(xh_wait_clean(FAKE_XEN_ALL, 0), "daemon stop left mappings");
	fake_xen_fini();
}

int main(void)
{
	tap_run("no xenstore: start fails with one line saying what to do",
		test_no_xenstore);
	tap_run("handshake: 1, then 2 on discovery, 4 once served",
		test_handshake);
	tap_run("devices present at start are enumerated",
		test_enumerate_at_start);
	tap_run("malformed xenstore values ignored, one log line each",
		test_malformed);
	tap_run("other virtio devices left alone", test_not_ours);
	tap_run("online=0 + state=5: torn down, 6 well within 10 s",
		test_close_writes_6);
	tap_run("online=0 alone closes the device", test_online_0);
	tap_run("directory removal tears down, recreates nothing",
		test_dir_removed);
	tap_run("domain death (@releaseDomain) tears down", test_domain_death);
	tap_run("devices of one guest are independent", test_independent);
	tap_run("11 devices in one guest on one ioreq server", test_eleven);
	tap_run("64 guests (threads) discovered and torn down", test_64_guests);
	tap_run("reboot: a new domid is a new guest", test_reboot);
	tap_run("no IOREQ support: one clear line, device closed",
		test_no_ioreq_support);
	tap_run("backend chosen per guest and device", test_backend_choice);
	tap_run("xenstore errors are never taken for removal or death",
		test_xs_errors);
	tap_run("daemon stop tears down and answers 6", test_stop_answers);
	return tap_done();
}
