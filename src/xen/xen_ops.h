/* SPDX-License-Identifier: MIT */
/*
 * Every Xen library call vmedia makes, behind one table of function
 * pointers. xen_real.c fills it from libxenstore, libxenevtchn,
 * libxenforeignmemory, libxendevicemodel and libxengnttab (the only code
 * that includes Xen headers); the unit tests fill it with a fake. Nothing
 * else in src/xen/ knows which one it runs on.
 *
 * Conventions: functions returning int give 0 (or a non-negative value)
 * on success and a negative errno on failure; functions returning a
 * pointer give NULL with errno set. Handles are opaque and belong to the
 * thread that opened them (the libraries are not thread-safe per handle).
 */
#ifndef VMEDIA_XEN_OPS_H
#define VMEDIA_XEN_OPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define XEN_PAGE_SHIFT 12
#define XEN_PAGE_SIZE  4096u

/*
 * One vCPU's slot on the ioreq page, laid out as Xen's ioreq_t
 * (xen/hvm/ioreq.h; xen_real.c checks the layout at build and start). The
 * state/data_is_ptr/dir/df bit-fields are one byte here, read and written
 * whole with explicit masks so it can be accessed atomically.
 */
struct xen_ioreq {
	uint64_t addr;
	uint64_t data;
	uint32_t count;
	uint32_t size;
	uint32_t vp_eport; /* Xen's; never written by us */
	uint16_t pad0;
	uint8_t flags; /* XEN_IOREQ_F_* */
	uint8_t type;  /* XEN_IOREQ_TYPE_* */
};
_Static_assert(sizeof(struct xen_ioreq) == 32, "ioreq_t is 32 bytes");

#define XEN_IOREQ_F_STATE	0x0fu /* state:4 */
#define XEN_IOREQ_F_DATA_IS_PTR 0x10u /* data_is_ptr:1 */
#define XEN_IOREQ_F_DIR_READ	0x20u /* dir:1, 1 = read */
#define XEN_IOREQ_F_DF		0x40u /* df:1 */

enum xen_ioreq_state {
	XEN_IOREQ_NONE = 0,
	XEN_IOREQ_READY = 1,
	XEN_IOREQ_INPROCESS = 2,
	XEN_IOREQ_RESP_READY = 3,
};

enum xen_ioreq_type {
	XEN_IOREQ_TYPE_PIO = 0,
	XEN_IOREQ_TYPE_COPY = 1, /* MMIO */
	XEN_IOREQ_TYPE_PCI_CONFIG = 2,
	XEN_IOREQ_TYPE_TIMEOFFSET = 7,
	XEN_IOREQ_TYPE_INVALIDATE = 8, /* drop map caches */
};

/* Slots on one ioreq page: 4096 / 32. Arm's GUEST_MAX_VCPUS is 128 too. */
#define XEN_IOREQ_MAX_VCPUS (XEN_PAGE_SIZE / sizeof(struct xen_ioreq))

struct xen_xs;	   /* a xenstore connection */
struct xen_evtchn; /* an event channel handle */
struct xen_fmem;   /* a foreign memory handle */
struct xen_fres;   /* a mapped ioreq server page */
struct xen_dmod;   /* a device model handle */
struct xen_gnttab; /* a grant table handle */
struct xen_ctrl;   /* a libxenctrl handle (guest memory reservation) */

/* Indices into the vector xs_check_watch() returns. */
#define XEN_XS_WATCH_PATH  0
#define XEN_XS_WATCH_TOKEN 1

struct xen_ops {
	/* ---- xenstore (main thread) ---------------------------------- */
	struct xen_xs *(*xs_open)(void);
	void (*xs_close)(struct xen_xs *xs);
	/* Readable while watch events wait. */
	int (*xs_fileno)(struct xen_xs *xs);
	/*
	 * The value at path, malloc'd with a NUL after its *len bytes (it
	 * may hold NULs of its own). NULL with errno ENOENT when absent.
	 */
	char *(*xs_read)(struct xen_xs *xs, uint32_t tx, const char *path,
			 size_t *len);
	int (*xs_write)(struct xen_xs *xs, uint32_t tx, const char *path,
			const char *value);
	/* Child names, one malloc'd block (free() it once). */
	char **(*xs_directory)(struct xen_xs *xs, uint32_t tx, const char *path,
			       unsigned *num);
	int (*xs_watch)(struct xen_xs *xs, const char *path, const char *token);
	int (*xs_unwatch)(struct xen_xs *xs, const char *path,
			  const char *token);
	/*
	 * The next watch event, one malloc'd block indexed by
	 * XEN_XS_WATCH_*, or NULL with errno EAGAIN when there is none.
	 */
	char **(*xs_check_watch)(struct xen_xs *xs);
	/* A transaction id, or 0 with errno set. */
	uint32_t (*xs_tx_start)(struct xen_xs *xs);
	/* -EAGAIN: the transaction raced with another; start again. */
	int (*xs_tx_end)(struct xen_xs *xs, uint32_t tx, bool abort);
	/*
	 * 1 while xenstored knows the domain, 0 once it is gone, or a
	 * negative errno when it cannot tell (never take that for "gone").
	 */
	int (*xs_domain_alive)(struct xen_xs *xs, unsigned domid);

	/* ---- event channels (one handle per guest thread) ------------- */
	/*
	 * The handle's fd is made non-blocking, but call pending() only
	 * when poll() says the fd is readable (libxenevtchn's advice).
	 */
	struct xen_evtchn *(*evtchn_open)(void);
	void (*evtchn_close)(struct xen_evtchn *xce);
	int (*evtchn_fd)(struct xen_evtchn *xce);
	/* The local port, or a negative errno. */
	int (*evtchn_bind)(struct xen_evtchn *xce, unsigned domid,
			   uint32_t remote_port);
	int (*evtchn_unbind)(struct xen_evtchn *xce, uint32_t port);
	int (*evtchn_notify)(struct xen_evtchn *xce, uint32_t port);
	/* A pending local port, or -EAGAIN when none is (see above). */
	int (*evtchn_pending)(struct xen_evtchn *xce);
	int (*evtchn_unmask)(struct xen_evtchn *xce, uint32_t port);

	/* ---- foreign memory ------------------------------------------- */
	struct xen_fmem *(*fmem_open)(void);
	void (*fmem_close)(struct xen_fmem *fm);
	/*
	 * Map `pages` guest frames contiguously with prot (PROT_*). err[i]
	 * is set per page; on a partial failure the call still succeeds
	 * and the caller must check err[] (and unmap).
	 */
	void *(*fmem_map)(struct xen_fmem *fm, unsigned domid, int prot,
			  size_t pages, const uint64_t *gfns, int *err);
	int (*fmem_unmap)(struct xen_fmem *fm, void *addr, size_t pages);
	/*
	 * Map frames 0..nr_frames-1 of ioreq server id's synchronous ioreq
	 * pages (acquire_resource) read-write; *addr gets the mapping.
	 */
	struct xen_fres *(*fmem_map_ioreq)(struct xen_fmem *fm, unsigned domid,
					   unsigned id, unsigned nr_frames,
					   void **addr);
	int (*fmem_unmap_ioreq)(struct xen_fmem *fm, struct xen_fres *res);

	/* ---- device model --------------------------------------------- */
	struct xen_dmod *(*dmod_open)(void);
	void (*dmod_close)(struct xen_dmod *dm);
	int (*dmod_nr_vcpus)(struct xen_dmod *dm, unsigned domid,
			     unsigned *vcpus);
	/* An ioreq server without buffered ioreqs (all Arm allows). */
	int (*dmod_create_server)(struct xen_dmod *dm, unsigned domid,
				  uint16_t *id);
	int (*dmod_set_server_state)(struct xen_dmod *dm, unsigned domid,
				     uint16_t id, bool enabled);
	/* An MMIO range [start, end], end inclusive. */
	int (*dmod_map_mmio)(struct xen_dmod *dm, unsigned domid, uint16_t id,
			     uint64_t start, uint64_t end);
	int (*dmod_unmap_mmio)(struct xen_dmod *dm, unsigned domid, uint16_t id,
			       uint64_t start, uint64_t end);
	int (*dmod_destroy_server)(struct xen_dmod *dm, unsigned domid,
				   uint16_t id);
	int (*dmod_set_irq_level)(struct xen_dmod *dm, unsigned domid,
				  unsigned irq, unsigned level);

	/* ---- grant tables ---------------------------------------------- */
	struct xen_gnttab *(*gnttab_open)(void);
	void (*gnttab_close)(struct xen_gnttab *gt);
	int (*gnttab_set_max_grants)(struct xen_gnttab *gt, uint32_t count);
	/* Map count grant refs of domid contiguously with prot (PROT_*). */
	void *(*gnttab_map)(struct xen_gnttab *gt, unsigned domid,
			    uint32_t count, const uint32_t *refs, int prot);
	int (*gnttab_unmap)(struct xen_gnttab *gt, void *addr, uint32_t count);

	/*
	 * ---- guest memory reservation (libxenctrl, see xen_ctrl.c) -------
	 * For the SHM window: MMAP buffers are pages added to the guest's
	 * physical address space and taken back. libxenctrl's interface
	 * changes between Xen releases, so only xen_ctrl.c calls it.
	 */
	struct xen_ctrl *(*ctrl_open)(void);
	void (*ctrl_close)(struct xen_ctrl *xc);
	/* The domain's memory limit (max_pages) and its pages (tot_pages). */
	int (*ctrl_mem_info)(struct xen_ctrl *xc, unsigned domid,
			     uint64_t *max_pages, uint64_t *tot_pages);
	int (*ctrl_set_max_pages)(struct xen_ctrl *xc, unsigned domid,
				  uint64_t max_pages);
	/*
	 * Give the domain n fresh pages at guest frames gfns (all or none;
	 * their content is whatever the page held before: clear it).
	 */
	int (*ctrl_populate)(struct xen_ctrl *xc, unsigned domid, size_t n,
			     const uint64_t *gfns);
	/* Take the pages at gfns back from the domain (all or none). */
	int (*ctrl_release)(struct xen_ctrl *xc, unsigned domid, size_t n,
			    const uint64_t *gfns);
};

/* The real libraries (xen_real.c). */
extern const struct xen_ops xen_real_ops;

/*
 * Check, once, that the mirrored ioreq layout matches this build's
 * ioreq_t bit-fields. False means the build is broken for this ABI.
 */
bool xen_real_layout_ok(void);

#endif
