/* SPDX-License-Identifier: MIT */
/*
 * A fake Xen behind struct xen_ops: xenstore (nodes, watches,
 * transactions), domains with memfd-backed RAM and grant tables, IOREQ
 * servers with a real ioreq page, event channels, foreign and grant
 * mappings (real mmaps of the guest's memfd, with the asked protection),
 * and interrupt injection, and guest memory reservation (populated pages
 * for SHM windows, with Xen's accounting: shm-window-probe.md). Thread-safe:
 * the daemon's threads and the test (playing toolstack and guest vCPUs) use
 * it at once.
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
/* libxl's slack: a new domain's max_pages is its RAM pages + this. */
#define FAKE_XEN_SLACK_PAGES 256u
/*
 * Populated frames lie below this guest-physical address (-EINVAL above):
 * the hole below RAM0 and RAM0 itself. The guest's view of it is one
 * mapping per domain; more does not fit valgrind's address space.
 */
#define FAKE_XEN_PHYS_LIMIT (4ull << 30)
/* What a freshly populated page holds (Xen does not scrub them). */
#define FAKE_XEN_GARBAGE 0xA5

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

/*
 * Guest memory reservation, as Xen counts it: tot_pages is the RAM pages
 * plus the populated ones plus pages released while still foreign-mapped
 * (freed only at unmap, as measured on real Xen). 0 or -ESRCH (no such
 * domain; a dead one still answers here, unlike ctrl_mem_info).
 */
int fake_xen_mem_info(unsigned domid, uint64_t *max_pages, uint64_t *tot_pages);
/* `xl mem-max`: any value, even below tot_pages (as Xen allows). */
int fake_xen_set_max_pages(unsigned domid, uint64_t max_pages);
/*
 * The guest's view of populated frame gfn (its /dev/mem), valid until the
 * frame is released; NULL when the frame is not populated (or the domain
 * is dead): on real Xen a guest touching it is killed, so tests look
 * through this. The whole view is one mapping that is PROT_NONE wherever
 * nothing is populated, so a stray access crashes the test.
 */
void *fake_xen_guest_page(unsigned domid, uint64_t gfn);
/*
 * The guest's view of [gpa, gpa + len) (below FAKE_XEN_PHYS_LIMIT), NULL
 * otherwise. Unpopulated pages in it are PROT_NONE.
 */
void *fake_xen_guest_view(unsigned domid, uint64_t gpa, size_t len);
/*
 * A new fd of the guest's physical memory file (gpa = file offset, as
 * /dev/mem), populated frames only; -errno.
 */
int fake_xen_phys_fd(unsigned domid);
/* Is gfn populated now? */
bool fake_xen_populated(unsigned domid, uint64_t gfn);
/*
 * Call fn(ctx, domid, gfn, page) for each frame ctrl_release is about to
 * take back, page being the guest's view of it (single-threaded tests or
 * a thread-safe fn; called with the fake's lock held: call nothing of
 * the fake from it). NULL: stop.
 */
void fake_xen_on_release(void (*fn)(void *ctx, unsigned domid, uint64_t gfn,
				    const void *page),
			 void *ctx);

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
	/* Guest memory reservation (per domain, or summed). */
	unsigned ctrl_handles;	  /* ctrl handles open (also in handles) */
	unsigned populated;	  /* pages populated now (live domains) */
	unsigned zombies;	  /* released, still foreign-mapped */
	unsigned populates;	  /* successful ctrl_populate calls, ever */
	unsigned populate_fails;  /* failed ones, ever */
	unsigned releases;	  /* successful ctrl_release calls, ever */
	unsigned release_fails;	  /* failed ones, ever */
	unsigned pages_populated; /* pages, ever */
	unsigned pages_released;  /* pages, ever */
	unsigned dirty_released;  /* pages released holding non-zero bytes */
	unsigned set_max_calls;	  /* ctrl_set_max_pages calls, ever */
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
	int ctrl_open;	   /* ctrl_open fails so */
	int populate;	   /* every ctrl_populate fails so (no change) */
	int release;	   /* every ctrl_release fails so (no change) */
	int set_max_pages; /* every ctrl_set_max_pages fails so */
	/* fmem_map: err[i] = -this for each populated frame it maps. */
	int map_populated;
};
void fake_xen_set_faults(const struct fake_xen_faults *f);

#endif
