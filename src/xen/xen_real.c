/* SPDX-License-Identifier: MIT */
/*
 * xen_ops over the stable Xen libraries. With xen_ctrl.c (libxenctrl,
 * the unstable one) and shm_layout.c (the Arm guest layout), the only
 * file in vmedia that includes Xen headers: it builds against Debian 12's
 * libxen-dev (4.17) and uses nothing that changed up to 4.20.
 */
#define __XEN_TOOLS__ 1 /* dm_op.h hides HVM_IOREQSRV_* without it */

#include "xen/xen_ops.h"
#include "xen/xen_ctrl.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <xendevicemodel.h>
#include <xenevtchn.h>
#include <xenforeignmemory.h>
#include <xengnttab.h>
#include <xenstore.h>
#include <xen/hvm/ioreq.h>
#include <xen/memory.h>

/* The mirrored layout in xen_ops.h must be Xen's, field for field. */
_Static_assert(sizeof(ioreq_t) == sizeof(struct xen_ioreq), "ioreq_t size");
_Static_assert(offsetof(ioreq_t, addr) == offsetof(struct xen_ioreq, addr),
	       "ioreq_t.addr");
_Static_assert(offsetof(ioreq_t, data) == offsetof(struct xen_ioreq, data),
	       "ioreq_t.data");
_Static_assert(offsetof(ioreq_t, count) == offsetof(struct xen_ioreq, count),
	       "ioreq_t.count");
_Static_assert(offsetof(ioreq_t, size) == offsetof(struct xen_ioreq, size),
	       "ioreq_t.size");
_Static_assert(offsetof(ioreq_t, vp_eport) ==
		       offsetof(struct xen_ioreq, vp_eport),
	       "ioreq_t.vp_eport");
_Static_assert(offsetof(ioreq_t, type) == offsetof(struct xen_ioreq, type),
	       "ioreq_t.type");
_Static_assert(STATE_IOREQ_READY == XEN_IOREQ_READY &&
		       STATE_IORESP_READY == XEN_IOREQ_RESP_READY &&
		       STATE_IOREQ_NONE == XEN_IOREQ_NONE &&
		       STATE_IOREQ_INPROCESS == XEN_IOREQ_INPROCESS,
	       "ioreq states");
_Static_assert(IOREQ_TYPE_COPY == XEN_IOREQ_TYPE_COPY &&
		       IOREQ_TYPE_INVALIDATE == XEN_IOREQ_TYPE_INVALIDATE &&
		       IOREQ_TYPE_PIO == XEN_IOREQ_TYPE_PIO,
	       "ioreq types");
_Static_assert(IOREQ_READ == 1, "dir 1 is read");
/* gfns are passed straight through: xen_pfn_t must be uint64_t itself. */
_Static_assert(__builtin_types_compatible_p(xen_pfn_t, uint64_t),
	       "xen_pfn_t is uint64_t");

/* The bit-field byte cannot be checked at build time; check it here. */
bool xen_real_layout_ok(void)
{
	ioreq_t r;
	struct xen_ioreq m;

	memset(&r, 0, sizeof(r));
	r.state = 0xf;
	r.data_is_ptr = 1;
	r.dir = 1;
	memcpy(&m, &r, sizeof(m));
	return m.flags == (XEN_IOREQ_F_STATE | XEN_IOREQ_F_DATA_IS_PTR |
			   XEN_IOREQ_F_DIR_READ);
}

static int neg_errno(void)
{
	return errno ? -errno : -EIO;
}

/* The libraries' -1-and-errno convention as 0 or a negative errno. */
static int rc(int r)
{
	return r < 0 ? neg_errno() : 0;
}

/* libxenstore's true/false-and-errno convention, likewise. */
static int xs_rc(bool ok)
{
	return ok ? 0 : neg_errno();
}

/* ---- xenstore ------------------------------------------------------------ */

static struct xen_xs *real_xs_open(void)
{
	return (struct xen_xs *)xs_open(0);
}

static void real_xs_close(struct xen_xs *xs)
{
	xs_close((struct xs_handle *)xs);
}

static int real_xs_fileno(struct xen_xs *xs)
{
	int fd = xs_fileno((struct xs_handle *)xs);

	return fd < 0 ? neg_errno() : fd;
}

static char *real_xs_read(struct xen_xs *xs, uint32_t tx, const char *path,
			  size_t *len)
{
	unsigned n = 0;
	char *v = xs_read((struct xs_handle *)xs, tx, path, &n);

	/* libxenstore NUL-terminates what it returns. */
	if (v)
		*len = n;
	return v;
}

static int real_xs_write(struct xen_xs *xs, uint32_t tx, const char *path,
			 const char *value)
{
	return xs_rc(xs_write((struct xs_handle *)xs, tx, path, value,
			      (unsigned)strlen(value)));
}

static char **real_xs_directory(struct xen_xs *xs, uint32_t tx,
				const char *path, unsigned *num)
{
	return xs_directory((struct xs_handle *)xs, tx, path, num);
}

static int real_xs_watch(struct xen_xs *xs, const char *path, const char *token)
{
	return xs_rc(xs_watch((struct xs_handle *)xs, path, token));
}

static int real_xs_unwatch(struct xen_xs *xs, const char *path,
			   const char *token)
{
	return xs_rc(xs_unwatch((struct xs_handle *)xs, path, token));
}

static char **real_xs_check_watch(struct xen_xs *xs)
{
	_Static_assert(XS_WATCH_PATH == XEN_XS_WATCH_PATH &&
			       XS_WATCH_TOKEN == XEN_XS_WATCH_TOKEN,
		       "watch vector");
	return xs_check_watch((struct xs_handle *)xs);
}

static uint32_t real_xs_tx_start(struct xen_xs *xs)
{
	return xs_transaction_start((struct xs_handle *)xs);
}

static int real_xs_tx_end(struct xen_xs *xs, uint32_t tx, bool abort)
{
	return xs_rc(xs_transaction_end((struct xs_handle *)xs, tx, abort));
}

static int real_xs_domain_alive(struct xen_xs *xs, unsigned domid)
{
	/*
	 * The library answers false both for "F" and for a failed request;
	 * only the latter sets errno.
	 */
	errno = 0;
	if (xs_is_domain_introduced((struct xs_handle *)xs, domid))
		return 1;
	return errno ? -errno : 0;
}

/* ---- event channels ------------------------------------------------------ */

static struct xen_evtchn *real_evtchn_open(void)
{
	xenevtchn_handle *xce = xenevtchn_open(NULL, 0);
	int fd, fl;

	if (!xce)
		return NULL;
	/*
	 * The fd blocks by default; a guest thread must never wait in
	 * read(), so pending() should fail with EAGAIN instead. The header
	 * warns some kernels ignore O_NONBLOCK here: ioreq.c also polls
	 * before each pending().
	 */
	fd = xenevtchn_fd(xce);
	fl = fd < 0 ? -1 : fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
		int err = errno;

		xenevtchn_close(xce);
		errno = err;
		return NULL;
	}
	return (struct xen_evtchn *)xce;
}

static void real_evtchn_close(struct xen_evtchn *xce)
{
	if (xce)
		xenevtchn_close((xenevtchn_handle *)xce);
}

static int real_evtchn_fd(struct xen_evtchn *xce)
{
	return xenevtchn_fd((xenevtchn_handle *)xce);
}

static int real_evtchn_bind(struct xen_evtchn *xce, unsigned domid,
			    uint32_t remote_port)
{
	xenevtchn_port_or_error_t p = xenevtchn_bind_interdomain(
		(xenevtchn_handle *)xce, domid, remote_port);

	return p < 0 ? neg_errno() : (int)p;
}

static int real_evtchn_unbind(struct xen_evtchn *xce, uint32_t port)
{
	return rc(xenevtchn_unbind((xenevtchn_handle *)xce, port));
}

static int real_evtchn_notify(struct xen_evtchn *xce, uint32_t port)
{
	return rc(xenevtchn_notify((xenevtchn_handle *)xce, port));
}

static int real_evtchn_pending(struct xen_evtchn *xce)
{
	xenevtchn_port_or_error_t p;

	errno = 0;
	p = xenevtchn_pending((xenevtchn_handle *)xce);
	return p < 0 ? neg_errno() : (int)p;
}

static int real_evtchn_unmask(struct xen_evtchn *xce, uint32_t port)
{
	return rc(xenevtchn_unmask((xenevtchn_handle *)xce, port));
}

/* ---- foreign memory ------------------------------------------------------ */

static struct xen_fmem *real_fmem_open(void)
{
	return (struct xen_fmem *)xenforeignmemory_open(NULL, 0);
}

static void real_fmem_close(struct xen_fmem *fm)
{
	if (fm)
		xenforeignmemory_close((xenforeignmemory_handle *)fm);
}

static void *real_fmem_map(struct xen_fmem *fm, unsigned domid, int prot,
			   size_t pages, const uint64_t *gfns, int *err)
{
	return xenforeignmemory_map((xenforeignmemory_handle *)fm, domid, prot,
				    pages, (const xen_pfn_t *)gfns, err);
}

static int real_fmem_unmap(struct xen_fmem *fm, void *addr, size_t pages)
{
	return rc(xenforeignmemory_unmap((xenforeignmemory_handle *)fm, addr,
					 pages));
}

static struct xen_fres *real_fmem_map_ioreq(struct xen_fmem *fm, unsigned domid,
					    unsigned id, unsigned nr_frames,
					    void **addr)
{
	/* Frame 0 is the buffered page (absent with BUFIOREQ_OFF). */
	*addr = NULL;
	return (struct xen_fres *)xenforeignmemory_map_resource(
		(xenforeignmemory_handle *)fm, (domid_t)domid,
		XENMEM_resource_ioreq_server, id,
		XENMEM_resource_ioreq_server_frame_ioreq(0), nr_frames, addr,
		PROT_READ | PROT_WRITE, 0);
}

static int real_fmem_unmap_ioreq(struct xen_fmem *fm, struct xen_fres *res)
{
	return rc(xenforeignmemory_unmap_resource(
		(xenforeignmemory_handle *)fm,
		(xenforeignmemory_resource_handle *)res));
}

/* ---- device model -------------------------------------------------------- */

static struct xen_dmod *real_dmod_open(void)
{
	return (struct xen_dmod *)xendevicemodel_open(NULL, 0);
}

static void real_dmod_close(struct xen_dmod *dm)
{
	if (dm)
		xendevicemodel_close((xendevicemodel_handle *)dm);
}

static int real_dmod_nr_vcpus(struct xen_dmod *dm, unsigned domid,
			      unsigned *vcpus)
{
	return rc(xendevicemodel_nr_vcpus((xendevicemodel_handle *)dm,
					  (domid_t)domid, vcpus));
}

static int real_dmod_create_server(struct xen_dmod *dm, unsigned domid,
				   uint16_t *id)
{
	ioservid_t sid;

	if (xendevicemodel_create_ioreq_server(
		    (xendevicemodel_handle *)dm, (domid_t)domid,
		    HVM_IOREQSRV_BUFIOREQ_OFF, &sid) < 0)
		return neg_errno();
	*id = sid;
	return 0;
}

static int real_dmod_set_server_state(struct xen_dmod *dm, unsigned domid,
				      uint16_t id, bool enabled)
{
	return rc(xendevicemodel_set_ioreq_server_state(
		(xendevicemodel_handle *)dm, (domid_t)domid, id,
		enabled ? 1 : 0));
}

static int real_dmod_map_mmio(struct xen_dmod *dm, unsigned domid, uint16_t id,
			      uint64_t start, uint64_t end)
{
	return rc(xendevicemodel_map_io_range_to_ioreq_server(
		(xendevicemodel_handle *)dm, (domid_t)domid, id, 1, start,
		end));
}

static int real_dmod_unmap_mmio(struct xen_dmod *dm, unsigned domid,
				uint16_t id, uint64_t start, uint64_t end)
{
	return rc(xendevicemodel_unmap_io_range_from_ioreq_server(
		(xendevicemodel_handle *)dm, (domid_t)domid, id, 1, start,
		end));
}

static int real_dmod_destroy_server(struct xen_dmod *dm, unsigned domid,
				    uint16_t id)
{
	return rc(xendevicemodel_destroy_ioreq_server(
		(xendevicemodel_handle *)dm, (domid_t)domid, id));
}

static int real_dmod_set_irq_level(struct xen_dmod *dm, unsigned domid,
				   unsigned irq, unsigned level)
{
	return rc(xendevicemodel_set_irq_level((xendevicemodel_handle *)dm,
					       (domid_t)domid, irq, level));
}

/* ---- grant tables -------------------------------------------------------- */

static struct xen_gnttab *real_gnttab_open(void)
{
	return (struct xen_gnttab *)xengnttab_open(NULL, 0);
}

static void real_gnttab_close(struct xen_gnttab *gt)
{
	if (gt)
		xengnttab_close((xengnttab_handle *)gt);
}

static int real_gnttab_set_max_grants(struct xen_gnttab *gt, uint32_t count)
{
	return rc(xengnttab_set_max_grants((xengnttab_handle *)gt, count));
}

static void *real_gnttab_map(struct xen_gnttab *gt, unsigned domid,
			     uint32_t count, const uint32_t *refs, int prot)
{
	/* The library takes a non-const array it does not modify. */
	return xengnttab_map_domain_grant_refs((xengnttab_handle *)gt, count,
					       domid, (uint32_t *)refs, prot);
}

static int real_gnttab_unmap(struct xen_gnttab *gt, void *addr, uint32_t count)
{
	return rc(xengnttab_unmap((xengnttab_handle *)gt, addr, count));
}

const struct xen_ops xen_real_ops = {
	.xs_open = real_xs_open,
	.xs_close = real_xs_close,
	.xs_fileno = real_xs_fileno,
	.xs_read = real_xs_read,
	.xs_write = real_xs_write,
	.xs_directory = real_xs_directory,
	.xs_watch = real_xs_watch,
	.xs_unwatch = real_xs_unwatch,
	.xs_check_watch = real_xs_check_watch,
	.xs_tx_start = real_xs_tx_start,
	.xs_tx_end = real_xs_tx_end,
	.xs_domain_alive = real_xs_domain_alive,
	.evtchn_open = real_evtchn_open,
	.evtchn_close = real_evtchn_close,
	.evtchn_fd = real_evtchn_fd,
	.evtchn_bind = real_evtchn_bind,
	.evtchn_unbind = real_evtchn_unbind,
	.evtchn_notify = real_evtchn_notify,
	.evtchn_pending = real_evtchn_pending,
	.evtchn_unmask = real_evtchn_unmask,
	.fmem_open = real_fmem_open,
	.fmem_close = real_fmem_close,
	.fmem_map = real_fmem_map,
	.fmem_unmap = real_fmem_unmap,
	.fmem_map_ioreq = real_fmem_map_ioreq,
	.fmem_unmap_ioreq = real_fmem_unmap_ioreq,
	.dmod_open = real_dmod_open,
	.dmod_close = real_dmod_close,
	.dmod_nr_vcpus = real_dmod_nr_vcpus,
	.dmod_create_server = real_dmod_create_server,
	.dmod_set_server_state = real_dmod_set_server_state,
	.dmod_map_mmio = real_dmod_map_mmio,
	.dmod_unmap_mmio = real_dmod_unmap_mmio,
	.dmod_destroy_server = real_dmod_destroy_server,
	.dmod_set_irq_level = real_dmod_set_irq_level,
	.gnttab_open = real_gnttab_open,
	.gnttab_close = real_gnttab_close,
	.gnttab_set_max_grants = real_gnttab_set_max_grants,
	.gnttab_map = real_gnttab_map,
	.gnttab_unmap = real_gnttab_unmap,
	.ctrl_open = xen_ctrl_open,
	.ctrl_close = xen_ctrl_close,
	.ctrl_mem_info = xen_ctrl_mem_info,
	.ctrl_set_max_pages = xen_ctrl_set_max_pages,
	.ctrl_populate = xen_ctrl_populate,
	.ctrl_release = xen_ctrl_release,
};
