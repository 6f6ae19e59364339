/* SPDX-License-Identifier: MIT */
/*
 * Where the userspace guest driver finds its devices: vmediad's test
 * socket, or, inside a Xen guest, the devices' MMIO windows. One place
 * that the shim and the tools share, so that every one of them takes the
 * same settings (and the same environment variables).
 */
#ifndef VMEDIA_VG_CONNECT_H
#define VMEDIA_VG_CONNECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vg_transport.h"

struct vg_where {
	const char *socket; /* VMEDIA_SOCKET: the test transport */
	const char *devmem; /* VMEDIA_DEVMEM: "0x2000000[,0x2000200...]" */
	bool grants;	    /* VMEDIA_GRANTS=1: grant pages to the backend */
	uint16_t backend_domid; /* VMEDIA_BACKEND_DOMID (default 0) */
	uint64_t ram_size;	/* bytes of guest RAM for the driver */
	/* VMEDIA_SCATTER_RAM=1: test transport with scattered pages */
	bool scatter;
};

/* Fill w from the environment (ram_size is left alone). */
void vg_where_from_env(struct vg_where *w);

/*
 * Connect as w says (devmem wins over socket; VMEDIA_GUEST_RAM_MB, when
 * set, overrides ram_size). 0 with *out, or a negative errno with one
 * line in msg saying what failed and what to check.
 */
int vg_connect(const struct vg_where *w, struct vg_transport **out, char *msg,
	       size_t msg_len);

#endif
