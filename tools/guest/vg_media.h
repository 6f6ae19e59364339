/* SPDX-License-Identifier: MIT */
/*
 * The virtio-media part of the userspace guest driver: commands laid out
 * in descriptor chains exactly as the Linux guest driver lays them out,
 * and the event queue. It knows nothing of file descriptors or the V4L2
 * core; those sit on top of it.
 *
 * Functions return 0, a negative errno from the device's status (the
 * device answers positive errnos), or -EIO/-ETIMEDOUT when the transport
 * or the device misbehaved.
 */
#ifndef VMEDIA_VG_MEDIA_H
#define VMEDIA_VG_MEDIA_H

#include <linux/videodev2.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vg_ram.h"
#include "vg_virtio.h"
#include "vg_vring.h"
#include "vmedia/virtio_media_wire.h"

#define VG_MEDIA_EVENT_BUFS 16u /* as the Linux driver posts */
#define VG_MEDIA_EVENT_FIFO 1024u
#define VG_MEDIA_TIMEOUT_MS 5000 /* the Linux driver's command timeout */

struct vg_media_event {
	uint32_t len;
	union {
		struct virtio_media_event_header hdr;
		struct virtio_media_event_error error;
		struct {
			struct virtio_media_event_header hdr;
			struct v4l2_buffer b;
			struct v4l2_plane planes[VIDEO_MAX_PLANES];
		} dqbuf;
		struct {
			struct virtio_media_event_header hdr;
			struct v4l2_event ev;
		} event;
		uint8_t bytes[VIRTIO_MEDIA_EVENT_MAX_SIZE];
	} u;
};

struct vg_media {
	struct vg_virtio dev;
	struct vg_ram *ram;
	struct vg_vring cmdq, evq;
	struct virtio_media_config config;
	/* SHM region 0 as the guest sees it; host NULL when absent. */
	uint64_t shm_base, shm_len;
	uint8_t *shm_host;
	struct vg_mem scratch; /* one command at a time lives here */
	struct vg_mem evbuf[VG_MEDIA_EVENT_BUFS];
	bool evbuf_posted[VG_MEDIA_EVENT_BUFS];
	unsigned evbufs_wanted;	     /* how many event buffers to keep posted */
	struct vg_media_event *fifo; /* received, not yet taken */
	unsigned fifo_head, fifo_count;
	int timeout_ms;
	/*
	 * The last command's own fate: 0 when the device answered (whatever
	 * its status), else the transport's error (-ETIMEDOUT, -EIO, ...),
	 * which the status alone cannot tell from a device's errno.
	 */
	int run_err;
};

/*
 * Bring up device `index` of transport t: negotiate, set up both queues,
 * post event buffers, read the config. -ENODEV when it is not device 48.
 */
int vg_media_init(struct vg_media *m, struct vg_transport *t,
		  struct vg_ram *ram, unsigned index);
/* The same, keeping event_bufs (0..16) event buffers posted. */
int vg_media_init_events(struct vg_media *m, struct vg_transport *t,
			 struct vg_ram *ram, unsigned index,
			 unsigned event_bufs);
void vg_media_fini(struct vg_media *m);

int vg_media_open(struct vg_media *m, uint32_t *session);
int vg_media_close(struct vg_media *m, uint32_t session);

/*
 * A fixed-size ioctl (_IOC_NR code): in_len bytes of payload go to the
 * device, out_len come back into payload, through the same guest memory
 * as the Linux driver does for WR ioctls (so the device must read before
 * it writes).
 */
int vg_media_ioctl(struct vg_media *m, uint32_t session, uint32_t code,
		   void *payload, size_t in_len, size_t out_len);

/* Guest memory behind one USERPTR plane, as SG entries of guest RAM. */
struct vg_media_sg {
	const struct vg_mem *mem;
	size_t len;
	size_t seg; /* split into entries of at most this (0: one entry) */
};

/*
 * QUERYBUF/QBUF/PREPARE_BUF. planes holds b->length entries for
 * multi-planar types; sg[i] describes plane i's USERPTR memory (single
 * planar: sg[0]) and is only used for USERPTR QBUF/PREPARE_BUF.
 */
int vg_media_ioctl_buffer(struct vg_media *m, uint32_t session, uint32_t code,
			  struct v4l2_buffer *b, struct v4l2_plane *planes,
			  const struct vg_media_sg *sg);

/*
 * G/S/TRY_EXT_CTRLS. Compound payloads (size > 0) travel through guest
 * memory: payload_mem[i] holds control i's payload (NULL for size 0).
 */
int vg_media_ioctl_ext_ctrls(struct vg_media *m, uint32_t session,
			     uint32_t code, struct v4l2_ext_controls *c,
			     struct v4l2_ext_control *ctrls,
			     const struct vg_mem *const *payload_mem);

int vg_media_mmap(struct vg_media *m, uint32_t session, uint32_t flags,
		  uint32_t offset, uint64_t *addr, uint64_t *len);
int vg_media_munmap(struct vg_media *m, uint64_t addr);

/*
 * Any bytes as a command: cmd_len readable, resp_len writable. 0 with
 * *written (the device's used length) and resp filled, or -EIO/-ETIMEDOUT.
 */
int vg_media_raw(struct vg_media *m, const void *cmd, size_t cmd_len,
		 void *resp, size_t resp_len, uint32_t *written);

/*
 * The next event: 1 with *ev, 0 when none came within timeout_ms (0: do
 * not wait), or a negative errno.
 */
int vg_media_next_event(struct vg_media *m, int timeout_ms,
			struct vg_media_event *ev);
/*
 * Keep n (0..16) event buffers posted from now on; fewer starves the
 * device (buffers already posted stay with it until it uses them).
 */
int vg_media_set_event_buffers(struct vg_media *m, unsigned n);

/* Host view of [addr, addr + len) of SHM region 0, or NULL. */
void *vg_media_shm_ptr(struct vg_media *m, uint64_t addr, uint64_t len);

#endif
