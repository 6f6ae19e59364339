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

#define TESTBUS_MAX_DEVICES 11u

struct testbus_device_config {
	const char *card;
	uint32_t device_caps;
	uint32_t device_type;
};

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

#endif
