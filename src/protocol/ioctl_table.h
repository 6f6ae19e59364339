/* SPDX-License-Identifier: MIT */
/*
 * Every ioctl the guest driver forwards, indexed by _IOC_NR: its payload
 * class and size as the driver lays them out, and a thunk that calls the
 * backend's typed slot (NULL slot = ENOTTY).
 */
#ifndef VMEDIA_PROTOCOL_IOCTL_TABLE_H
#define VMEDIA_PROTOCOL_IOCTL_TABLE_H

#include <stdint.h>

#include "vmedia/backend.h"

enum ioctl_class {
	IOCTL_WR,	/* payload in, payload out */
	IOCTL_R,	/* payload out only */
	IOCTL_W,	/* payload in only */
	IOCTL_BUFFER,	/* v4l2_buffer, planes, USERPTR SG lists */
	IOCTL_EXT_CTRLS /* v4l2_ext_controls, controls, payload SG lists */
};

struct ioctl_desc {
	const char *name; /* NULL: not an ioctl the device serves */
	enum ioctl_class cls;
	uint16_t size; /* payload bytes (64-bit layout) */
	int (*call)(const struct vmedia_ioctl_ops *ops, void *priv, void *arg);
};

/* The descriptor for _IOC_NR code, or NULL. */
const struct ioctl_desc *ioctl_lookup(uint32_t code);

#endif
