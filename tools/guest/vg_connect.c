/* SPDX-License-Identifier: MIT */
#include "vg_connect.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool env_on(const char *name)
{
	const char *v = getenv(name);

	return v && *v && strcmp(v, "0") != 0;
}

void vg_where_from_env(struct vg_where *w)
{
	const char *dom = getenv("VMEDIA_BACKEND_DOMID");

	w->socket = getenv("VMEDIA_SOCKET");
	w->devmem = getenv("VMEDIA_DEVMEM");
	w->grants = env_on("VMEDIA_GRANTS");
	w->scatter = env_on("VMEDIA_SCATTER_RAM");
	w->backend_domid = dom ? (uint16_t)strtoul(dom, NULL, 0) : 0;
}

static int connect_devmem(const struct vg_where *w, struct vg_transport **out,
			  char *msg, size_t msg_len)
{
	struct vg_xenguest_opts o = {
		.ram_size = w->ram_size,
		.grants = w->grants,
		.backend_domid = w->backend_domid,
	};

	if (vg_xenguest_parse_bases(w->devmem, &o) < 0) {
		snprintf(msg, msg_len,
			 "bad device windows '%s': want addresses like "
			 "0x2000000,0x2000200",
			 w->devmem);
		return -EINVAL;
	}
	return vg_xenguest_connect(&o, out, msg, msg_len);
}

/*
 * VMEDIA_GUEST_RAM_MB, when set, sizes every tool's driver RAM: inside a
 * small Xen guest the tools' defaults would lock more than it has.
 */
static uint64_t ram_size(const struct vg_where *w)
{
	const char *v = getenv("VMEDIA_GUEST_RAM_MB");
	unsigned long mb = v ? strtoul(v, NULL, 10) : 0;

	return mb && mb <= 16384 ? (uint64_t)mb << 20 : w->ram_size;
}

int vg_connect(const struct vg_where *cw, struct vg_transport **out, char *msg,
	       size_t msg_len)
{
	struct vg_where where = *cw, *w = &where;
	int r;

	w->ram_size = ram_size(cw);

	if (w->devmem && *w->devmem)
		return connect_devmem(w, out, msg, msg_len);
	if (!w->socket || !*w->socket) {
		snprintf(msg, msg_len,
			 "no devices: set VMEDIA_SOCKET (vmediad's test "
			 "socket) or VMEDIA_DEVMEM (device windows in a Xen "
			 "guest)");
		return -ENOENT;
	}
	r = vg_testbus_connect2(w->socket, w->ram_size, w->scatter, out);
	if (r < 0)
		snprintf(msg, msg_len, "cannot reach %s: %s%s", w->socket,
			 strerror(-r),
			 r == -ENOENT || r == -ECONNREFUSED
				 ? " (is vmediad running with --test-socket?)"
				 : "");
	return r;
}
