/* SPDX-License-Identifier: MIT */
/*
 * The guest core (tools/guest/vg_core.h) on the real vmediad: one daemon
 * process per environment, a test guest connected to it, one core on its
 * first device, and a capture session to drive it.
 */
#ifndef VMEDIA_TESTS_GUEST_CORE_UTIL_H
#define VMEDIA_TESTS_GUEST_CORE_UTIL_H

#include <linux/videodev2.h>
#include <stdbool.h>

#include "daemon_proc.h"
#include "vg_core.h"

#define GC_MAX_BUFS 8u

struct gc_env {
	struct daemon_proc d;
	struct test_guest g;
	struct vg_media m;
	struct vg_core *c;
	char conf[64]; /* the daemon's config file */
};

/*
 * vmediad with one device `device` (e.g. "vcam:unpaced") and config
 * text conf (NULL: none), then a core on it; event_bufs as
 * vg_media_init_events. 0 or a negative errno.
 */
int gc_start(struct gc_env *e, const char *device, const char *conf,
	     const struct vg_core_opts *o, unsigned event_bufs);
void gc_stop(struct gc_env *e);

/* One capture session with buffers. */
struct gc_stream {
	struct gc_env *e;
	struct vg_file *f;
	uint32_t type, memory;
	bool mp;
	unsigned n;
	uint32_t sizeimage;
	void *map[GC_MAX_BUFS];	 /* MMAP: our mapping */
	void *user[GC_MAX_BUFS]; /* USERPTR: the memory handed over */
	void *alloc[GC_MAX_BUFS];
};

/* Open, S_FMT 640x480 (YUYV / NV12), REQBUFS n, map or allocate. */
int gc_stream_setup(struct gc_env *e, struct gc_stream *s, uint32_t memory,
		    unsigned n);
void gc_stream_close(struct gc_stream *s);
int gc_qbuf(struct gc_stream *s, unsigned i);
int gc_dqbuf(struct gc_stream *s, int fflags, struct v4l2_buffer *b);
int gc_stream_on(struct gc_stream *s, bool on);
/* The frame's bytes (plane 0) of buffer i. */
void *gc_frame(const struct gc_stream *s, unsigned i);
/* Check vcam's stamp in buffer i: its sequence, or a negative errno. */
long gc_stamp(const struct gc_stream *s, unsigned i);

#endif
