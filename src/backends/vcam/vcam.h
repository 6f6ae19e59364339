/* SPDX-License-Identifier: MIT */
/*
 * vcam, the built-in virtual camera: internal interfaces between its files.
 *
 * One struct vcam_dev per backend instance (one virtio device of one
 * guest) holds everything a real device would: the format, the controls,
 * the single buffer queue and its frame clock. Every guest open() is a
 * struct vcam_session; the queue belongs to the session that allocated
 * buffers until it frees them or closes (the vb2 "owner" rule).
 *
 *   vcam.c          instance and session lifetime, arguments, ops table
 *   vcam_formats.c  formats, frame sizes and intervals, input, G/S_PARM
 *   vcam_ctrls.c    controls and control events
 *   vcam_buffers.c  REQBUFS, CREATE_BUFS, QUERYBUF, QBUF, PREPARE_BUF
 *   vcam_stream.c   STREAMON/OFF, frame clock, rendering, completion
 *
 * Everything runs on the guest's thread; nothing here blocks or locks.
 */
#ifndef VMEDIA_VCAM_H
#define VMEDIA_VCAM_H

#include <stdbool.h>
#include <stdint.h>

#include "backends/vcam/tpg.h"
#include "vmedia/backend.h"
#include "vmedia/evloop.h"

#define VCAM_MAX_BUFFERS VIDEO_MAX_FRAME /* 32, as vb2 by default */
#define VCAM_MAX_PLANES	 TPG_MAX_PLANES	 /* memory planes of a format */
#define VCAM_MAX_RATES	 8		 /* enumerated frame rates */
#define VCAM_NUM_CTRLS	 8

/* Private control: a one-shot fault for testing the guest's error paths. */
#define VCAM_CID_INJECT_ERROR (V4L2_CID_USER_BASE + 0x1000)
enum vcam_inject {
	VCAM_INJECT_NONE,
	VCAM_INJECT_QBUF_EIO,	 /* the next QBUF fails with EIO */
	VCAM_INJECT_FRAME_ERROR, /* the next frame carries BUF_FLAG_ERROR */
	VCAM_INJECT_COUNT
};

/* One entry of the format table (vcam_formats.c). */
struct vcam_fmt_info {
	uint32_t fourcc;     /* what V4L2 sees */
	uint32_t tpg_fourcc; /* what the pattern generator draws */
	uint8_t mem_planes;  /* 1, or one memory plane per colour plane */
	bool is_rgb;
	const char *desc; /* the kernel's description of the fourcc */
};

/* The current (or a tried) format, with its memory plane layout. */
struct vcam_format {
	const struct vcam_fmt_info *info;
	struct tpg_format tf;
	unsigned mem_planes;
	uint32_t bytesperline[VCAM_MAX_PLANES];
	uint32_t sizeimage[VCAM_MAX_PLANES];
};

enum vcam_buf_state {
	VCAM_BUF_DEQUEUED, /* the guest's (also: done and reported) */
	VCAM_BUF_PREPARED, /* PREPARE_BUF done, not queued */
	VCAM_BUF_QUEUED,   /* waiting for a frame */
};

struct vcam_plane {
	uint32_t length;     /* reported length: setup size or USERPTR's */
	uint32_t min_length; /* what the plane must hold (setup size) */
	uint32_t bytesused;
	/* MMAP */
	bool has_shm;
	uint32_t mem_offset;
	void *host;
	/* USERPTR: the guest's address, and its mapping while queued */
	unsigned long userptr;
	const struct vmedia_userptr *up;
};

struct vcam_buf {
	enum vcam_buf_state state;
	unsigned n_planes;
	struct vcam_plane planes[VCAM_MAX_PLANES];
	uint64_t ts_ns; /* of the last frame, 0 until one was captured */
	uint32_t sequence;
};

struct vcam_session {
	struct vcam_dev *dev;
	struct vmedia_session *vs;
	struct vcam_session *prev, *next;
	uint8_t ev_sub[VCAM_NUM_CTRLS]; /* VCAM_SUB_* per control */
};

#define VCAM_SUB_ON	  0x1
#define VCAM_SUB_FEEDBACK 0x2 /* V4L2_EVENT_SUB_FL_ALLOW_FEEDBACK */

struct vcam_queue {
	struct vcam_session *owner; /* NULL when no buffers exist */
	uint32_t memory;
	unsigned n_bufs;
	struct vcam_buf bufs[VCAM_MAX_BUFFERS];
	/* QBUF order: the frame clock fills the oldest queued buffer first */
	uint8_t fifo[VCAM_MAX_BUFFERS];
	unsigned fifo_head, fifo_len;
	bool streaming;
	/* frame clock */
	uint64_t start_ns;   /* CLOCK_MONOTONIC of frame base_frame's start */
	uint32_t base_frame; /* frame number at start_ns */
	uint32_t next_frame; /* next frame (= sequence) to produce */
	uint64_t dropped;    /* frames with no buffer queued */
	/* USERPTR frames are drawn here when the guest's memory is split */
	uint8_t *scratch;
	size_t scratch_size;
};

struct vcam_dev {
	struct evloop *loop;
	bool mplane;
	bool unpaced;
	uint32_t buf_type;
	char card[32];

	struct vcam_format fmt;
	struct v4l2_fract tpf;	       /* current timeperframe */
	struct v4l2_fract default_tpf; /* from the fps= argument */
	struct v4l2_fract
		rates[VCAM_MAX_RATES]; /* as intervals, fastest first */
	unsigned n_rates;

	int32_t ctrl_val[VCAM_NUM_CTRLS];
	struct tpg tpg;

	struct vcam_session *sessions; /* every open session */
	struct vcam_queue q;

	int timer_fd; /* paced mode: fires at the next frame's end */
	int kick_fd;  /* unpaced mode: an eventfd, "a buffer is waiting" */
	bool kick_pending;
	struct evloop_source timer_src, kick_src;
};

static inline struct vcam_dev *vcam_dev_of(void *priv)
{
	return ((struct vcam_session *)priv)->dev;
}

/* The vb2 owner rule: a session holding buffers owns the queue. */
static inline bool vcam_busy_for(const struct vcam_dev *dev,
				 const struct vcam_session *s)
{
	return dev->q.owner && dev->q.owner != s;
}

int vcam_domid(const struct vcam_session *s);

/* ---- vcam.c ---- */
extern const struct vmedia_backend_class vcam_backend_class;

/* ---- vcam_formats.c ---- */
#define VCAM_FPS_MAX 1000
/*
 * The default format (YUYV 640x480) and the frame rates: the standard ones
 * plus fps (1..VCAM_FPS_MAX), which is also the default rate.
 */
void vcam_formats_init(struct vcam_dev *dev, uint32_t fps);
int vcam_enum_fmt(void *priv, struct v4l2_fmtdesc *f);
int vcam_g_fmt(void *priv, struct v4l2_format *f);
int vcam_s_fmt(void *priv, struct v4l2_format *f);
int vcam_try_fmt(void *priv, struct v4l2_format *f);
int vcam_enum_framesizes(void *priv, struct v4l2_frmsizeenum *f);
int vcam_enum_frameintervals(void *priv, struct v4l2_frmivalenum *f);
int vcam_g_parm(void *priv, struct v4l2_streamparm *p);
int vcam_s_parm(void *priv, struct v4l2_streamparm *p);
int vcam_enuminput(void *priv, struct v4l2_input *i);
int vcam_g_input(void *priv, uint32_t *i);
int vcam_s_input(void *priv, uint32_t *i);

/* ---- vcam_ctrls.c ---- */
void vcam_ctrls_init(struct vcam_dev *dev);
int vcam_queryctrl(void *priv, struct v4l2_queryctrl *q);
int vcam_query_ext_ctrl(void *priv, struct v4l2_query_ext_ctrl *q);
int vcam_querymenu(void *priv, struct v4l2_querymenu *m);
int vcam_g_ctrl(void *priv, struct v4l2_control *c);
int vcam_s_ctrl(void *priv, struct v4l2_control *c);
int vcam_g_ext_ctrls(void *priv, struct v4l2_ext_controls *c);
int vcam_s_ext_ctrls(void *priv, struct v4l2_ext_controls *c);
int vcam_try_ext_ctrls(void *priv, struct v4l2_ext_controls *c);
int vcam_subscribe_event(void *priv, struct v4l2_event_subscription *s);
int vcam_unsubscribe_event(void *priv, struct v4l2_event_subscription *s);
/* Take the armed fault if it is `what`, disarming it (with an event). */
bool vcam_take_injection(struct vcam_dev *dev, enum vcam_inject what);

/* ---- vcam_buffers.c ---- */
int vcam_reqbufs(void *priv, struct v4l2_requestbuffers *r);
int vcam_create_bufs(void *priv, struct v4l2_create_buffers *c);
int vcam_querybuf(void *priv, struct vmedia_buffer *b);
int vcam_qbuf(void *priv, struct vmedia_buffer *b);
int vcam_prepare_buf(void *priv, struct vmedia_buffer *b);
/* Free every buffer (MMAP memory back to the owner) and forget the owner. */
void vcam_queue_release(struct vcam_dev *dev);
/* Fill a v4l2_buffer (and planes) from the buffer's state, as vb2 does. */
void vcam_buf_to_v4l2(const struct vcam_dev *dev, unsigned index,
		      struct v4l2_buffer *b, struct v4l2_plane *planes);

/* ---- vcam_stream.c ---- */
int vcam_stream_init(struct vcam_dev *dev);
void vcam_stream_fini(struct vcam_dev *dev);
int vcam_streamon(void *priv, uint32_t type);
int vcam_streamoff(void *priv, uint32_t type);
/* Stop streaming and return every queued or prepared buffer, silently. */
void vcam_stream_cancel(struct vcam_dev *dev);
/* A buffer was queued: in unpaced mode, schedule a frame. */
void vcam_stream_buffer_queued(struct vcam_dev *dev);
/* The frame rate changed: restart the clock from now. */
void vcam_stream_rate_changed(struct vcam_dev *dev);
/* CLOCK_MONOTONIC in ns: the clock of frame timestamps. */
uint64_t vcam_now_ns(void);

#endif
