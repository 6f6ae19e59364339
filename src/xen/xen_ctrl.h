/* SPDX-License-Identifier: MIT */
/*
 * The xen_ops slots that need libxenctrl (xen_ctrl.c), kept apart from
 * xen_real.c: libxenctrl is the one Xen library whose interface and
 * soname change with every release, so all of its use sits in one small
 * file that is the only one to adapt.
 */
#ifndef VMEDIA_XEN_CTRL_H
#define VMEDIA_XEN_CTRL_H

#include "xen/xen_ops.h"

struct xen_ctrl *xen_ctrl_open(void);
void xen_ctrl_close(struct xen_ctrl *xc);
int xen_ctrl_mem_info(struct xen_ctrl *xc, unsigned domid, uint64_t *max_pages,
		      uint64_t *tot_pages);
int xen_ctrl_set_max_pages(struct xen_ctrl *xc, unsigned domid,
			   uint64_t max_pages);
int xen_ctrl_populate(struct xen_ctrl *xc, unsigned domid, size_t n,
		      const uint64_t *gfns);
int xen_ctrl_release(struct xen_ctrl *xc, unsigned domid, size_t n,
		     const uint64_t *gfns);

#endif
