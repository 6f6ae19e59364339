/* SPDX-License-Identifier: MIT */
#ifndef VMEDIA_TESTS_CAPTURE_HOSTILE_H
#define VMEDIA_TESTS_CAPTURE_HOSTILE_H

#include "daemon_proc.h"
#include "vg_media.h"

/*
 * The protocol's hostile cases against a running daemon: dev[0] serves
 * single-planar vcam, dev[1] multi-planar, both unpaced; `starved` is a
 * two single-planar vcams of other guests that posted no event buffers.
 */
void capture_hostile_cases(struct vg_media *dev, struct test_guest *g,
			   struct vg_media starved[2]);

#endif
