/* SPDX-License-Identifier: MIT */
/*
 * A fake Xen behind struct xen_ops: xenstore (nodes, watches,
 * transactions), domains with memfd-backed RAM and grant tables, IOREQ
 * servers with a real ioreq page, event channels, foreign and grant
 * mappings (real mmaps of the guest's memfd, with the asked protection),
 * and interrupt injection. Thread-safe: the daemon's threads and the test
 * (playing toolstack and guest vCPUs) use it at once.
 *
 * One fake at a time (fake_xen_init / fake_xen_fini).
 */
#ifndef VMEDIA_TESTS_FAKE_XEN_H
#define VMEDIA_TESTS_FAKE_XEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "xen/xen_ops.h"

#define FAKE_XEN_RAM_GFN 0x40000ull /* guest RAM at 0x40000000, as on Arm */

void fake_xen_init(void);
/* Frees everything; says (as a TAP diagnostic) what was left behind. */
void fake_xen_fini(void);
/* The ops to put in xen_config.ops. */
const struct xen_ops *fake_xen_ops(void);

/* ---- the toolstack's side ------------------------------------------------ */
/* Writes /local/domain/<domid>/name too. 0 or a negative errno. */
int fake_xen_domain_create(unsigned domid, const char *name, unsigned nr_vcpus,
			   uint64_t ram_pages);
/* The domain dies: every later op on it fails; @releaseDomain fires. */
void fake_xen_domain_destroy(unsigned domid);
/* Host view of guest RAM [gpa, gpa + len), or NULL. */
void *fake_xen_ram(unsigned domid, uint64_t gpa, size_t len);
/* Grant ref `ref` of domid for frame gfn. */
int fake_xen_grant(unsigned domid, uint32_t ref, uint64_t gfn, bool readonly);

/* Xenstore as the toolstack writes it (fires watches; not logged). */
void fake_xs_write(const char *path, const char *value);
/* A value with embedded NULs (hostile-value tests). */
void fake_xs_write_raw(const char *path, const char *value, size_t len);
/* malloc'd value or NULL. */
char *fake_xs_read(const char *path);
/* Remove path and everything below it (fires watches). */
void fake_xs_rm(const char *path);
/*
 * The values the daemon wrote to path, comma-separated ("2,4,6"), into
 * buf. Returns buf.
 */
char *fake_xs_written(const char *path, char *buf, size_t len);

/* ---- a guest vCPU -------------------------------------------------------- */
struct fake_ioreq {
	uint8_t type; /* XEN_IOREQ_TYPE_* */
	bool read;
	uint64_t addr;
	uint32_t size;
	uint32_t count;
	bool data_is_ptr;
	uint64_t data;
};

/*
 * Send one request from vCPU `vcpu` as Xen would and wait (up to
 * timeout_ms) for its completion. COPY goes to the server whose range
 * holds it (-ENOENT when none: the guest would fault); INVALIDATE to
 * every enabled server; any other type to the first enabled server.
 * 0 with *data (if given) the answer, -ETIMEDOUT, or -ESRCH.
 */
int fake_xen_vcpu_request(unsigned domid, unsigned vcpu,
			  const struct fake_ioreq *rq, uint64_t *data,
			  int timeout_ms);
/* An event on vCPU's port with nothing in its slot (a stale event). */
int fake_xen_vcpu_kick(unsigned domid, unsigned vcpu);
/* The state of vcpu's slot on the domain's first server, or -1. */
int fake_xen_slot_state(unsigned domid, unsigned vcpu);
/* Force a slot's state and data (a slot the daemon must leave alone). */
int fake_xen_slot_set(unsigned domid, unsigned vcpu, uint8_t state,
		      uint64_t data);
uint64_t fake_xen_slot_data(unsigned domid, unsigned vcpu);
/* Shorthands for COPY. */
int fake_xen_mmio_read(unsigned domid, uint64_t addr, unsigned size,
		       uint64_t *val);
int fake_xen_mmio_write(unsigned domid, uint64_t addr, unsigned size,
			uint64_t val);

/*
 * Wait up to timeout_ms for a raise of SPI irq and consume it: 1, 0 on
 * timeout, -ESRCH once the domain is dead.
 */
int fake_xen_irq_wait(unsigned domid, unsigned irq, int timeout_ms);

/* ---- what the daemon holds ----------------------------------------------- */
struct fake_xen_counts {
	unsigned servers;	  /* live ioreq servers */
	unsigned enabled;	  /* of which enabled */
	unsigned ranges;	  /* MMIO ranges mapped to them */
	unsigned res_maps;	  /* ioreq pages mapped */
	unsigned ports;		  /* bound event channels */
	unsigned fmem_pages;	  /* foreign pages mapped now */
	unsigned fmem_peak;	  /* most foreign pages mapped at once */
	unsigned fmem_maps;	  /* foreign map calls */
	unsigned grant_pages;	  /* grant pages mapped now */
	unsigned handles;	  /* evtchn/fmem/dmod/gnttab handles open */
	unsigned servers_created; /* ever */
	unsigned irqs;		  /* interrupts raised, ever */
	unsigned bad_unmaps;	  /* unmaps of something never mapped */
	unsigned notifies;	  /* completions sent (all domains) */
};
/* For one domain, or every domain with domid FAKE_XEN_ALL. */
#define FAKE_XEN_ALL (~0u)
void fake_xen_counts(unsigned domid, struct fake_xen_counts *c);
/* Protection of the live grant mapping of ref (PROT_*), or -1. */
int fake_xen_grant_prot(unsigned domid, uint32_t ref);
/*
 * Call fn(ctx, first ref) as each grant mapping is about to be unmapped
 * (single-threaded tests only; NULL: stop).
 */
void fake_xen_on_grant_unmap(void (*fn)(void *ctx, uint32_t ref), void *ctx);
/* Protection of the tracked mapping holding ptr (PROT_*), or -1. */
int fake_xen_map_prot(const void *ptr);
/* Ranges mapped for domid: start/end pairs, up to n; returns how many. */
unsigned fake_xen_ranges(unsigned domid, uint64_t *start, uint64_t *end,
			 unsigned n);

/* ---- failure injection (errno values; 0 = off) --------------------------- */
struct fake_xen_faults {
	int xs_open;
	int dmod_open;
	int create_server;
	int domain_alive; /* xs_domain_alive answers -this */
	int xs_error;	  /* every xs_read / xs_directory fails so */
	/* Kill the domain inside its next notify / set_irq_level. */
	unsigned die_on_notify_domid;
	unsigned die_on_irq_domid;
};
void fake_xen_set_faults(const struct fake_xen_faults *f);

#endif
