/* SPDX-License-Identifier: MIT */
/*
 * The guest core's insides, shared by its files:
 *
 *   vg_core.c         lifetime, the lock, waits, the event pump, poll
 *   vg_core_ioctl.c   video_usercopy + __video_do_ioctl: the ioctl table,
 *                     copies in and out, valid ioctls, priorities
 *   vg_core_v4l2.c    what the V4L2 core does around the driver's ops:
 *                     formats, identity, priority, parameters
 *   vg_core_v4l2_io.c the same for inputs/outputs, tuners, crop and
 *                     selection, and the control ioctls it emulates
 *   vg_core_fmtdesc.c v4l_fill_fmtdesc's descriptions
 *   vg_core_buf.c     the driver's buffer ioctls and its DQBUF queue
 *   vg_core_bounce.c  USERPTR memory through guest RAM
 *   vg_core_event.c   subscriptions, DQEVENT, ext controls
 *   vg_core_mmap.c    mmap/munmap through CMD_MMAP/CMD_MUNMAP
 *
 * Everything here runs with the core's lock held unless it says not.
 */
#ifndef VMEDIA_VG_CORE_PRIV_H
#define VMEDIA_VG_CORE_PRIV_H

#include <linux/videodev2.h>
#include <stdbool.h>
#include <stdint.h>

#include "vg_core.h"

/* The driver keeps state for buffer types 0..META_OUTPUT. */
#define VG_LAST_QUEUE V4L2_BUF_TYPE_META_OUTPUT
#define VG_NUM_QUEUES (VG_LAST_QUEUE + 1)
#define VG_NONE	      UINT32_MAX
#define VG_IOCTLS     BASE_VIDIOC_PRIVATE /* _IOC_NR range of the core */

/* USERPTR memory of one buffer, bounced through guest RAM. */
struct vg_bounce {
	unsigned n; /* planes with memory */
	struct vg_mem mem[VIDEO_MAX_PLANES];
	uint32_t off[VIDEO_MAX_PLANES]; /* the user pointer's page offset */
	uint32_t len[VIDEO_MAX_PLANES];
	unsigned long uptr[VIDEO_MAX_PLANES];
};

/* struct virtio_media_buffer */
struct vg_buf {
	struct v4l2_buffer b;
	struct v4l2_plane planes[VIDEO_MAX_PLANES];
	bool pending;  /* on the queue's pending list */
	uint32_t next; /* next pending buffer, or VG_NONE */
	struct vg_bounce bounce;
};

/* struct virtio_media_queue_state */
struct vg_queue {
	bool streaming;
	bool is_capture_last;
	uint32_t allocated;
	uint32_t queued;
	struct vg_buf *bufs;
	uint32_t head, tail; /* pending DQBUFs, oldest first */
};

/* One subscription (v4l2_subscribed_event with elems = 1). */
struct vg_sub {
	uint32_t type, id, flags;
	bool pending;	/* holds an event not yet dequeued */
	uint64_t order; /* its place in the file's available list */
	uint64_t ts_ns; /* CLOCK_MONOTONIC when queued */
	struct v4l2_event ev;
};

/* struct virtio_media_session + struct v4l2_fh */
struct vg_file {
	struct vg_core *c;
	struct vg_file *prev, *next;
	uint32_t session;
	bool dead; /* the device sent ERROR: the session is closed */
	bool uses_mplane;
	uint32_t prio;
	struct vg_queue q[VG_NUM_QUEUES];
	struct vg_sub *subs;
	unsigned nsubs, subs_cap;
	unsigned navailable;
	uint32_t sequence; /* fh->sequence, starts at -1 */
	uint64_t order;	   /* next available-list position */
};

/* One range of this process mapped from the SHM region (vg_core_mmap). */
struct vg_map {
	uintptr_t start, end;
	uint64_t shm_addr; /* what CMD_MMAP answered, for CMD_MUNMAP */
	uint32_t id;	   /* the CMD_MMAP this piece belongs to */
};

struct vg_core {
	struct vg_media *m;
	pthread_mutex_t own_lock;
	pthread_mutex_t *lock;
	struct vg_core *next_all; /* every core, for fork */
	char driver[16];
	uint32_t version;
	bool allow_userptr;
	bool verbose;
	/* struct video_device */
	uint32_t device_caps;
	uint32_t vfl_type;
	bool is_rx, is_tx;
	uint8_t valid[VG_IOCTLS / 8];
	unsigned prios[V4L2_PRIORITY_RECORD + 1];
	struct vg_file *files;
	struct vg_core_wait *waiters;
	int irq_fd, shm_fd;
	uint64_t shm_fd_offset; /* SHM offset 0 in shm_fd */
	/* mappings */
	struct vg_map *maps;
	unsigned nmaps, maps_cap;
	uint32_t next_map_id;
	bool broken; /* the transport failed: everything is -EIO */
	void *(*sys_mmap)(void *, size_t, int, int, int, off_t);
	int (*sys_munmap)(void *, size_t);
};

/* One ioctl call, after the arguments were copied in. */
struct vg_call {
	struct vg_core *c;
	struct vg_file *f;
	unsigned long cmd;
	void *p; /* the kernel-side copy of the argument */
	int fflags;
};

/* ---- vg_core.c ---- */
void vg_core_lock(struct vg_core *c);
void vg_core_unlock(struct vg_core *c);
/* Take every event the device sent and hand it to its session. */
void vg_core_pump(struct vg_core *c);
/* Something changed that waiters may be waiting for. */
void vg_core_wake(struct vg_core *c);
/*
 * Sleep (lock dropped) until ready(arg) or, failing that, a signal
 * (-EINTR). Pumps events before each check.
 */
int vg_core_wait_until(struct vg_core *c, bool (*ready)(void *), void *arg);
/* A transport or device failure: the core stops; returns -EIO. */
int vg_core_fail(struct vg_core *c, int err);
/*
 * After a vg_media call that returned r: r, or -EIO when the command
 * itself was lost (then the core stops: the ring's state is unknown).
 */
int vg_core_check(struct vg_core *c, int r);
void vg_core_warn(const struct vg_core *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* v4l2_prio_max */
uint32_t vg_core_prio_max(const struct vg_core *c);

/* ---- vg_core_ioctl.c ---- */
bool vg_core_is_valid(const struct vg_core *c, unsigned long cmd);
void vg_core_init_valid(struct vg_core *c);

/* ---- vg_core_v4l2.c: the core around the driver ---- */
int vg_v4l2_querycap(struct vg_call *k);
int vg_v4l2_enum_fmt(struct vg_call *k);
int vg_v4l2_g_fmt(struct vg_call *k);
int vg_v4l2_s_fmt(struct vg_call *k); /* S_FMT and TRY_FMT */
int vg_v4l2_g_priority(struct vg_call *k);
int vg_v4l2_s_priority(struct vg_call *k);
int vg_v4l2_g_parm(struct vg_call *k);
int vg_v4l2_s_parm(struct vg_call *k);
int vg_v4l2_enuminput(struct vg_call *k);
int vg_v4l2_enumoutput(struct vg_call *k);
int vg_v4l2_io_index(struct vg_call *k); /* G/S_INPUT, G/S_OUTPUT */
int vg_v4l2_tuner(struct vg_call *k);	 /* G/S_TUNER, G/S_MODULATOR */
int vg_v4l2_frequency(struct vg_call *k);
int vg_v4l2_hw_freq_seek(struct vg_call *k);
int vg_v4l2_enum_freq_bands(struct vg_call *k);
int vg_v4l2_selection(struct vg_call *k);
int vg_v4l2_crop(struct vg_call *k); /* G/S_CROP */
int vg_v4l2_cropcap(struct vg_call *k);
int vg_v4l2_sliced_vbi_cap(struct vg_call *k);
int vg_v4l2_queryctrl(struct vg_call *k);
int vg_v4l2_ctrl(struct vg_call *k); /* G/S_CTRL */
int vg_v4l2_decoder_cmd(struct vg_call *k);
/* Forward as the driver's SIMPLE_{R,W,WR}_IOCTL does. */
int vg_v4l2_forward(struct vg_call *k);
/* check_fmt(): may this node handle buffer type `type`? */
int vg_v4l2_check_fmt(const struct vg_core *c, uint32_t type);
void vg_v4l2_sanitize_format(struct v4l2_format *f);

/* ---- vg_core_fmtdesc.c ---- */
void vg_fill_fmtdesc(struct v4l2_fmtdesc *f);

/*
 * ---- forwarding (vg_core_v4l2.c) ----
 * The driver's send_{r,w,wr}_ioctl for file f: -EINVAL without sending
 * on a dead session, the transport's failure stops the core.
 */
int vg_send_ioctl(struct vg_file *f, unsigned long cmd, void *p, size_t in,
		  size_t out);

/* ---- vg_core_buf.c ---- */
int vg_buf_reqbufs(struct vg_call *k);
int vg_buf_create_bufs(struct vg_call *k);
int vg_buf_querybuf(struct vg_call *k);
int vg_buf_qbuf(struct vg_call *k); /* QBUF and PREPARE_BUF */
int vg_buf_dqbuf(struct vg_call *k);
int vg_buf_streamon(struct vg_call *k);
int vg_buf_streamoff(struct vg_call *k);
/* A DQBUF event for f. */
void vg_buf_event(struct vg_file *f, const struct v4l2_buffer *b,
		  const struct v4l2_plane *planes);
/* virtio_media_clear_queue() */
void vg_buf_clear_queue(struct vg_file *f, struct vg_queue *q);
/* Free every queue's buffers (close). */
void vg_buf_release(struct vg_file *f);

/* ---- vg_core_bounce.c ---- */
/*
 * Bounce the USERPTR memory b (and planes) describe for QBUF or
 * PREPARE_BUF into guest RAM: out gets the RAM (holding the user's bytes,
 * for the device to read or overwrite), sg its SG lists (sgmem backs
 * them). -EINVAL for memory the application cannot hand over, as the
 * driver answers for a user pointer it cannot pin.
 */
int vg_bounce_get(struct vg_core *c, const struct v4l2_buffer *b,
		  const struct v4l2_plane *planes, struct vg_bounce *out,
		  struct vg_mem sgmem[VIDEO_MAX_PLANES],
		  struct vg_media_sg sg[VIDEO_MAX_PLANES]);
/* The device's bytes back to the user (capture, on DQBUF). */
void vg_bounce_copy_out(struct vg_core *c, const struct vg_bounce *bb,
			const struct v4l2_buffer *b,
			const struct v4l2_plane *planes);
void vg_bounce_put(struct vg_core *c, struct vg_bounce *bb);
/* Does bb hold memory (is any plane's length nonzero)? */
bool vg_bounce_has_mem(const struct vg_bounce *bb);
/* The user's current bytes into bb again (a prepared output buffer). */
int vg_bounce_refill(const struct vg_bounce *bb);

/* ---- vg_core_event.c ---- */
int vg_event_subscribe(struct vg_call *k);
int vg_event_unsubscribe(struct vg_call *k);
int vg_event_dqevent(struct vg_call *k);
/* An EVENT event for f: v4l2_event_queue_fh(). */
void vg_event_queue(struct vg_file *f, const struct v4l2_event *ev);
void vg_event_release(struct vg_file *f);
int vg_ext_ctrls(struct vg_call *k); /* G/S/TRY_EXT_CTRLS */
/* check_ext_ctrls(): may the controls go to the driver for cmd? */
bool vg_check_ext_ctrls(struct v4l2_ext_controls *c, unsigned long cmd);
/* The driver's send_ext_controls_ioctl (also for G/S_CTRL emulation). */
int vg_send_ext_ctrls(struct vg_file *f, unsigned long cmd,
		      struct v4l2_ext_controls *c);

static inline bool vg_type_is_mplane(uint32_t type)
{
	return type == V4L2_BUF_TYPE_VIDEO_CAPTURE_MPLANE ||
	       type == V4L2_BUF_TYPE_VIDEO_OUTPUT_MPLANE;
}

static inline bool vg_type_is_output(uint32_t type)
{
	return type == V4L2_BUF_TYPE_VIDEO_OUTPUT ||
	       type == V4L2_BUF_TYPE_VIDEO_OUTPUT_MPLANE ||
	       type == V4L2_BUF_TYPE_VIDEO_OVERLAY ||
	       type == V4L2_BUF_TYPE_VIDEO_OUTPUT_OVERLAY ||
	       type == V4L2_BUF_TYPE_VBI_OUTPUT ||
	       type == V4L2_BUF_TYPE_SLICED_VBI_OUTPUT ||
	       type == V4L2_BUF_TYPE_SDR_OUTPUT ||
	       type == V4L2_BUF_TYPE_META_OUTPUT;
}

#endif
