/* SPDX-License-Identifier: MIT */
/*
 * A small capture client over vg_media: one session, a format, N buffers
 * in MMAP or USERPTR memory, frames handed to a callback. The demo and the
 * benchmark use it; it is what a V4L2 capture program does, minus the fd.
 */
#ifndef VMEDIA_VG_CAPTURE_H
#define VMEDIA_VG_CAPTURE_H

#include <stdbool.h>
#include <stdint.h>

#include "vg_media.h"

#define VG_CAPTURE_MAX_BUFS 16u

struct vg_capture {
	struct vg_media *m;
	uint32_t session;
	uint32_t type;
	uint32_t memory;
	bool mplane;
	uint32_t fourcc, width, height;
	uint32_t sizeimage;
	unsigned nbufs;
	void *frame[VG_CAPTURE_MAX_BUFS];	 /* where each buffer is seen */
	uint64_t shm_addr[VG_CAPTURE_MAX_BUFS];	 /* MMAP: SHM offsets mapped */
	struct vg_mem user[VG_CAPTURE_MAX_BUFS]; /* USERPTR: guest RAM */
	bool streaming;
};

struct vg_capture_params {
	uint32_t fourcc, width, height;
	uint32_t memory; /* V4L2_MEMORY_MMAP or _USERPTR */
	unsigned nbufs;
};

/*
 * Open a session on m, set the format (the device may adjust width and
 * height; c says what it chose), allocate and map the buffers, queue them
 * all and start streaming.
 */
int vg_capture_start(struct vg_capture *c, struct vg_media *m,
		     const struct vg_capture_params *p);

/*
 * Wait for the next frame: its buffer index, sequence and timestamp.
 * Requeue it with vg_capture_requeue() when done with it.
 */
int vg_capture_next(struct vg_capture *c, int timeout_ms, unsigned *index,
		    uint32_t *sequence, uint64_t *ts_ns);
int vg_capture_requeue(struct vg_capture *c, unsigned index);

/* Stop streaming, free and unmap the buffers, close the session. */
void vg_capture_stop(struct vg_capture *c);

#endif
