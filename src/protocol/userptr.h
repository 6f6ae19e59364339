/* SPDX-License-Identifier: MIT */
#ifndef VMEDIA_PROTOCOL_USERPTR_H
#define VMEDIA_PROTOCOL_USERPTR_H

#include "protocol/media.h"

/*
 * Read the SG lists of n_planes planes from `in` and map them. A plane of
 * length 0 has no list. Returns 0 with *out set, or a negative errno with
 * nothing mapped.
 */
int userptr_map_buffer(struct media_device *md, struct virtq_cursor *in,
		       const uint32_t *plane_len, unsigned n_planes,
		       struct userptr_map **out);

#endif
