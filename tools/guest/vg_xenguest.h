/* SPDX-License-Identifier: MIT */
/*
 * The real-guest transport's parts (vg_xenguest*.c): a userspace driver
 * inside a Xen guest, with no kernel driver for the device.
 *
 * - registers: the MMIO window mapped through /dev/mem (possible while no
 *   kernel driver claims the window: don't load virtio_mmio);
 * - RAM: one locked pool whose pages the device reaches either by their
 *   guest-physical frame numbers (/proc/self/pagemap; the backend maps
 *   them by foreign mapping) or by grants to the backend
 *   (/dev/xen/gntalloc). Pages are contiguous for the device only within
 *   themselves, so the driver splits everything at page boundaries
 *   (vg_transport_ops.dma_addr);
 * - interrupts: Debian's kernels have no UIO driver for a bare SPI, so a
 *   thread watches the used rings the driver programs (seen as register
 *   writes) and signals an eventfd per device, as the interrupt would;
 * - the SHM region: mapped through /dev/mem once the device reports one.
 */
#ifndef VMEDIA_VG_XENGUEST_H
#define VMEDIA_VG_XENGUEST_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "vg_transport.h"

#define XG_PAGE	      4096u
#define XG_MAX_QUEUES 8u /* virtio-media has 2 */

/* The locked pool and each page's device address. */
struct xg_ram {
	uint8_t *base;
	uint64_t pages;
	uint64_t *dma; /* per page: frame address or grant address */
	int gnt_fd;    /* /dev/xen/gntalloc in grant mode, else -1 */
	uint64_t gnt_index;
};

/* 0 or a negative errno with one line in msg. */
int xg_ram_open(struct xg_ram *r, uint64_t size, bool grants,
		uint16_t backend_domid, char *msg, size_t msg_len);
void xg_ram_close(struct xg_ram *r);
/* The pool address of a device address, or NULL if not in the pool. */
void *xg_ram_host_of(const struct xg_ram *r, uint64_t dma);

/* What the interrupt emulation knows of one queue. */
struct xg_queue {
	uint64_t used_lo, used_hi;	   /* QueueDevice as written */
	const volatile uint16_t *used_idx; /* NULL while not ready */
	uint16_t seen;
};

struct xg_dev {
	volatile uint8_t *regs; /* the window */
	void *map;		/* the page(s) mapped for it */
	size_t map_len;
	uint32_t queue_sel;
	struct xg_queue q[XG_MAX_QUEUES];
	int irq_fd; /* eventfd: written when a used ring moved */
};

struct vg_xenguest {
	struct vg_transport t;
	int mem_fd; /* /dev/mem */
	struct xg_ram ram;
	struct xg_dev dev[VG_MAX_DEVICES];
	/* Guards the queue tables against the watcher thread. */
	pthread_mutex_t lock;
	pthread_t watcher;
	bool watching;
	volatile bool stop;
	pid_t owner;		  /* the process whose pages these are */
	struct vg_xenguest *next; /* live transports (reset at exit) */
};

/* Start and stop the used-ring watcher (the emulated interrupts). */
int xg_irq_start(struct vg_xenguest *g);
void xg_irq_stop(struct vg_xenguest *g);
/* A register write the watcher must know of (QueueSel, QueueReady...). */
void xg_irq_snoop(struct vg_xenguest *g, unsigned dev, uint64_t off,
		  uint64_t val);
int xg_irq_wait(struct vg_xenguest *g, unsigned dev, int timeout_ms);

#endif
