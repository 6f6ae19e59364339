/* SPDX-License-Identifier: MIT */
/* Shared by the command runner and the ioctl payload codecs. */
#ifndef VMEDIA_PROTOCOL_COMMANDS_H
#define VMEDIA_PROTOCOL_COMMANDS_H

#include <stddef.h>

#include "protocol/ioctl_table.h"
#include "protocol/media.h"

/* Write a response header with status err (a positive errno, or 0). */
void respond_status(struct virtq_cursor *out, int err);
/* Write a success header and the payload, or EINVAL if it does not fit. */
void respond_payload(struct virtq_cursor *out, const void *payload, size_t len);

/* QUERYBUF, QBUF, PREPARE_BUF: v4l2_buffer, planes, USERPTR SG lists. */
void ioctl_buffer(struct vmedia_session *s, const struct ioctl_desc *d,
		  uint32_t code, struct virtq_cursor *in,
		  struct virtq_cursor *out);
/* G/S/TRY_EXT_CTRLS: controls and SG-listed compound payloads. */
void ioctl_ext_ctrls(struct vmedia_session *s, const struct ioctl_desc *d,
		     struct virtq_cursor *in, struct virtq_cursor *out);

#endif
