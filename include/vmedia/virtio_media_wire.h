/* SPDX-License-Identifier: MIT */
/*
 * virtio-media on the wire, as the Linux guest driver speaks it today
 * (device ID 48, 20-byte MMAP command, SHM offsets). Little-endian; V4L2
 * payloads use the 64-bit struct layouts. Sizes are checked at compile
 * time because the guest checks them at run time.
 */
#ifndef VMEDIA_VIRTIO_MEDIA_WIRE_H
#define VMEDIA_VIRTIO_MEDIA_WIRE_H

#include <stdint.h>

#define VIRTIO_ID_MEDIA		   48u

#define VIRTIO_MEDIA_QUEUE_COMMAND 0u
#define VIRTIO_MEDIA_QUEUE_EVENT   1u
#define VIRTIO_MEDIA_NUM_QUEUES	   2u

#define VIRTIO_MEDIA_SHM_MMAP	   0u

/* Device configuration space. */
struct virtio_media_config {
	uint32_t device_caps; /* V4L2_CAP_* */
	uint32_t device_type; /* enum vfl_devnode_type, 0 = video */
	uint8_t card[32];
};
_Static_assert(sizeof(struct virtio_media_config) == 40, "config size");

enum virtio_media_cmd {
	VIRTIO_MEDIA_CMD_OPEN = 1,
	VIRTIO_MEDIA_CMD_CLOSE = 2,
	VIRTIO_MEDIA_CMD_IOCTL = 3,
	VIRTIO_MEDIA_CMD_MMAP = 4,
	VIRTIO_MEDIA_CMD_MUNMAP = 5,
};

struct virtio_media_cmd_header {
	uint32_t cmd;
	uint32_t reserved;
};

struct virtio_media_resp_header {
	uint32_t status; /* positive errno, 0 = success */
	uint32_t reserved;
};

struct virtio_media_resp_open {
	struct virtio_media_resp_header hdr;
	uint32_t session_id;
	uint32_t reserved;
};

struct virtio_media_cmd_close {
	struct virtio_media_cmd_header hdr;
	uint32_t session_id;
	uint32_t reserved;
};

struct virtio_media_cmd_ioctl {
	struct virtio_media_cmd_header hdr;
	uint32_t session_id;
	uint32_t code; /* _IOC_NR of the VIDIOC_ request */
};

#define VIRTIO_MEDIA_MMAP_FLAG_RW 1u

struct virtio_media_cmd_mmap {
	struct virtio_media_cmd_header hdr;
	uint32_t session_id;
	uint32_t flags;
	uint32_t offset;
};

struct virtio_media_resp_mmap {
	struct virtio_media_resp_header hdr;
	uint64_t driver_addr; /* offset into SHM region 0 */
	uint64_t len;
};

struct virtio_media_cmd_munmap {
	struct virtio_media_cmd_header hdr;
	uint64_t driver_addr;
};

enum virtio_media_event_type {
	VIRTIO_MEDIA_EVT_ERROR = 0,
	VIRTIO_MEDIA_EVT_DQBUF = 1,
	VIRTIO_MEDIA_EVT_EVENT = 2,
};

struct virtio_media_event_header {
	uint32_t event;
	uint32_t session_id;
};

struct virtio_media_event_error {
	struct virtio_media_event_header hdr;
	uint32_t errno_value;
	uint32_t reserved;
};

_Static_assert(sizeof(struct virtio_media_cmd_header) == 8, "cmd hdr");
_Static_assert(sizeof(struct virtio_media_resp_open) == 16, "resp open");
_Static_assert(sizeof(struct virtio_media_cmd_close) == 16, "cmd close");
_Static_assert(sizeof(struct virtio_media_cmd_ioctl) == 16, "cmd ioctl");
_Static_assert(sizeof(struct virtio_media_cmd_mmap) == 20, "cmd mmap");
_Static_assert(sizeof(struct virtio_media_resp_mmap) == 24, "resp mmap");
_Static_assert(sizeof(struct virtio_media_cmd_munmap) == 16, "cmd munmap");
_Static_assert(sizeof(struct virtio_media_event_error) == 16, "evt error");

/* The guest posts event buffers of this size (sizeof the DQBUF event). */
#define VIRTIO_MEDIA_EVENT_MAX_SIZE 608u

#endif
