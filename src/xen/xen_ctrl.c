/* SPDX-License-Identifier: MIT */
/*
 * Guest memory reservation through libxenctrl (see xen_ctrl.h): the
 * domain's memory limit, and pages added to or taken from its physical
 * address space. The only file that includes xenctrl.h.
 */
#include "xen/xen_ctrl.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <xenctrl.h>

/* KiB per page: xc_domain_setmaxmem() takes KiB. */
#define KIB_PER_PAGE (XEN_PAGE_SIZE / 1024u)

struct xen_ctrl {
	xc_interface *xch;
};

static int neg_errno(void)
{
	return errno ? -errno : -EIO;
}

struct xen_ctrl *xen_ctrl_open(void)
{
	struct xen_ctrl *xc = calloc(1, sizeof(*xc));

	if (!xc)
		return NULL;
	/* No logger: failures come back as errno and we log them once. */
	xc->xch = xc_interface_open(NULL, NULL, 0);
	if (!xc->xch) {
		int e = errno ? errno : EIO;

		free(xc);
		errno = e;
		return NULL;
	}
	return xc;
}

void xen_ctrl_close(struct xen_ctrl *xc)
{
	if (!xc)
		return;
	xc_interface_close(xc->xch);
	free(xc);
}

int xen_ctrl_mem_info(struct xen_ctrl *xc, unsigned domid, uint64_t *max_pages,
		      uint64_t *tot_pages)
{
	xc_domaininfo_t info;
	int n = xc_domain_getinfolist(xc->xch, domid, 1, &info);

	if (n < 0)
		return neg_errno();
	/* getinfolist starts at domid: the first one found may be later. */
	if (n == 0 || info.domain != domid)
		return -ESRCH;
	*max_pages = info.max_pages;
	*tot_pages = info.tot_pages;
	return 0;
}

int xen_ctrl_set_max_pages(struct xen_ctrl *xc, unsigned domid,
			   uint64_t max_pages)
{
	if (max_pages > UINT64_MAX / KIB_PER_PAGE)
		return -EINVAL;
	return xc_domain_setmaxmem(xc->xch, domid, max_pages * KIB_PER_PAGE)
		       ? neg_errno()
		       : 0;
}

/* The call wants a writable xen_pfn_t array (it reports back through it). */
static xen_pfn_t *pfn_copy(size_t n, const uint64_t *gfns)
{
	xen_pfn_t *p = calloc(n ? n : 1, sizeof(*p));

	for (size_t i = 0; p && i < n; i++)
		p[i] = (xen_pfn_t)gfns[i];
	return p;
}

/*
 * All or none: the _exact call fails after a partial success and leaves
 * the pages it did add in the guest, so count them and take them back.
 */
int xen_ctrl_populate(struct xen_ctrl *xc, unsigned domid, size_t n,
		      const uint64_t *gfns)
{
	xen_pfn_t *p = pfn_copy(n, gfns);
	int done, r = 0;

	if (!p)
		return -ENOMEM;
	done = xc_domain_populate_physmap(xc->xch, domid, n, 0, 0, p);
	if (done < 0) {
		r = neg_errno();
	} else if ((size_t)done < n) {
		r = -ENOMEM;
		free(p);
		p = pfn_copy((size_t)done, gfns);
		if (done && p)
			xc_domain_decrease_reservation_exact(
				xc->xch, domid, (unsigned long)done, 0, p);
	}
	free(p);
	return r;
}

int xen_ctrl_release(struct xen_ctrl *xc, unsigned domid, size_t n,
		     const uint64_t *gfns)
{
	xen_pfn_t *p = pfn_copy(n, gfns);
	int r;

	if (!p)
		return -ENOMEM;
	r = xc_domain_decrease_reservation_exact(xc->xch, domid, n, 0, p);
	r = r ? neg_errno() : 0;
	free(p);
	return r;
}
