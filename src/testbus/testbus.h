/* SPDX-License-Identifier: MIT */
/*
 * The test transport, daemon side: a Unix socket where each connection is a
 * test guest with its own thread (see include/vmedia/testbus_wire.h).
 */
#ifndef VMEDIA_TESTBUS_H
#define VMEDIA_TESTBUS_H

#include <stdint.h>

#include "daemon/guest.h"
#include "vmedia/evloop.h"
#include "vmedia/guest_mem.h"
#include "vmedia/irq.h"
#include "vmedia/media_device.h"

#define TESTBUS_MAX_DEVICES 11u

struct testbus_device_config {
	const char *backend;	    /* "name[:args]", e.g. "vcam:mplane" */
	uint64_t shm_size;	    /* SHM region 0 bytes; 0 = none (no MMAP) */
	struct media_limits limits; /* zero fields take the defaults */
};

#define TESTBUS_DEFAULT_SHM_SIZE (1ull << 30)

struct testbus_config {
	const char *socket_path;
	unsigned num_devices; /* 1..TESTBUS_MAX_DEVICES */
	struct testbus_device_config device[TESTBUS_MAX_DEVICES];
	unsigned max_guests;
};

struct testbus_server;

/*
 * Listen on cfg->socket_path (an existing socket file there is replaced)
 * and serve each connection as a guest in `guests`. Returns NULL and logs
 * one line saying what failed and what to do.
 */
struct testbus_server *testbus_server_create(const struct testbus_config *cfg,
					     struct evloop *main_loop,
					     struct guest_set *guests);
/* Stops accepting and removes the socket file. Guests are not touched. */
void testbus_server_destroy(struct testbus_server *srv);

/* The per-connection transport (link.c): ops for guest_spawn(). */
extern const struct guest_ops testbus_link_ops;
/* Wraps an accepted connection fd; NULL on allocation failure. */
void *testbus_link_new(int conn_fd, const struct testbus_config *cfg);
/*
 * The guest's name for log lines and its thread ("test-<domid>"), stored
 * in the link so it lives as long as the guest.
 */
const char *testbus_link_name(void *link, int domid);

/* ---- internal to src/testbus/: link.c <-> link_mem.c ------------------ */

/* Most RAM a test guest may share: a sanity cap, not a promise. */
#define TESTBUS_RAM_MAX	  (64ull << 30)
#define TESTBUS_PAGE_SIZE 4096u

/* A test guest's RAM: its memfd, mapped shared into the daemon. */
struct testbus_ram {
	uint8_t *host; /* NULL when not mapped */
	uint64_t base; /* guest address of host[0] */
	uint64_t size;
};

/*
 * Check the guest's memfd and the layout it asks for, then map it. The
 * caller keeps (and closes) memfd. Returns 0, or a negative errno with
 * *why saying what was wrong (for the log line).
 */
int testbus_ram_map(struct testbus_ram *ram, int memfd, uint64_t base,
		    uint64_t size, const char **why);
/* Idempotent. */
void testbus_ram_unmap(struct testbus_ram *ram);

/* gmem over a struct testbus_ram (ctx). */
extern const struct gmem_ops testbus_gmem_ops;

/* An interrupt line: a non-blocking eventfd the guest reads (ctx). */
struct testbus_irq {
	int fd;
};
extern const struct irq_ops testbus_irq_ops;

#endif
