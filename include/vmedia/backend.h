/* SPDX-License-Identifier: MIT */
/*
 * What serves the V4L2 API behind a virtio-media device: a backend (the
 * built-in camera, the host V4L2 proxy, ...). The protocol layer decodes
 * and checks every command and hands the backend typed V4L2 arguments; a
 * backend never sees descriptor chains, guest addresses or the transport.
 *
 * Threading: every call into a backend, and every call a backend makes to
 * the services below, happens on the guest's thread. Nothing may block.
 */
#ifndef VMEDIA_BACKEND_H
#define VMEDIA_BACKEND_H

#include <linux/videodev2.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "vmedia/evloop.h"

struct vmedia_session; /* the protocol layer's session (one guest open) */

/* ---- buffers ------------------------------------------------------------ */

/* Guest memory behind one USERPTR plane: mapped segments covering len. */
struct vmedia_userptr {
	const struct iovec *iov;
	unsigned n;
	size_t len; /* the plane's length; the segments cover at least this */
};

/*
 * A v4l2_buffer as decoded from the guest. For multi-planar types the
 * planes are in planes[0..num_planes); b.m.planes is NULL and b.length
 * equals num_planes. For single-planar types num_planes is 0.
 * For USERPTR QBUF/PREPARE_BUF, userptr[i] maps plane i (single-planar:
 * userptr[0] maps the buffer); the mapping stays valid until the backend
 * reports the buffer done (vmedia_session_dqbuf) or STREAMOFF, REQBUFS or
 * close returns, whichever comes first.
 * On return the protocol writes b and planes back to the guest, with the
 * guest's own m.userptr / m.planes values restored.
 */
struct vmedia_buffer {
	struct v4l2_buffer b;
	struct v4l2_plane planes[VIDEO_MAX_PLANES];
	unsigned num_planes;
	const struct vmedia_userptr *userptr[VIDEO_MAX_PLANES];
};

static inline bool vmedia_type_is_mplane(uint32_t type)
{
	return type == V4L2_BUF_TYPE_VIDEO_CAPTURE_MPLANE ||
	       type == V4L2_BUF_TYPE_VIDEO_OUTPUT_MPLANE;
}

/*
 * Extended controls: `controls` points to `count` host copies; a control
 * with size > 0 has ptr pointing at a host copy of its payload (size
 * bytes), copied back into guest memory after the call, on success and on
 * error alike (error_idx, sizes and payloads are reported either way).
 */

/* ---- the ioctls a backend may implement (NULL = ENOTTY) ----------------- */

struct vmedia_ioctl_ops {
	int (*enum_fmt)(void *priv, struct v4l2_fmtdesc *f);
	int (*g_fmt)(void *priv, struct v4l2_format *f);
	int (*s_fmt)(void *priv, struct v4l2_format *f);
	int (*try_fmt)(void *priv, struct v4l2_format *f);
	int (*reqbufs)(void *priv, struct v4l2_requestbuffers *r);
	int (*create_bufs)(void *priv, struct v4l2_create_buffers *c);
	int (*querybuf)(void *priv, struct vmedia_buffer *b);
	int (*qbuf)(void *priv, struct vmedia_buffer *b);
	int (*prepare_buf)(void *priv, struct vmedia_buffer *b);
	int (*streamon)(void *priv, uint32_t type);
	int (*streamoff)(void *priv, uint32_t type);
	int (*g_parm)(void *priv, struct v4l2_streamparm *p);
	int (*s_parm)(void *priv, struct v4l2_streamparm *p);
	int (*enum_framesizes)(void *priv, struct v4l2_frmsizeenum *f);
	int (*enum_frameintervals)(void *priv, struct v4l2_frmivalenum *f);
	int (*g_selection)(void *priv, struct v4l2_selection *s);
	int (*s_selection)(void *priv, struct v4l2_selection *s);

	int (*enuminput)(void *priv, struct v4l2_input *i);
	int (*g_input)(void *priv, uint32_t *i);
	int (*s_input)(void *priv, uint32_t *i);
	int (*enumoutput)(void *priv, struct v4l2_output *o);
	int (*g_output)(void *priv, uint32_t *o);
	int (*s_output)(void *priv, uint32_t *o);
	int (*enumaudio)(void *priv, struct v4l2_audio *a);
	int (*g_audio)(void *priv, struct v4l2_audio *a);
	int (*s_audio)(void *priv, struct v4l2_audio *a);
	int (*enumaudout)(void *priv, struct v4l2_audioout *a);
	int (*g_audout)(void *priv, struct v4l2_audioout *a);
	int (*s_audout)(void *priv, struct v4l2_audioout *a);

	int (*enumstd)(void *priv, struct v4l2_standard *s);
	int (*g_std)(void *priv, v4l2_std_id *std);
	int (*s_std)(void *priv, v4l2_std_id *std);
	int (*querystd)(void *priv, v4l2_std_id *std);
	int (*g_dv_timings)(void *priv, struct v4l2_dv_timings *t);
	int (*s_dv_timings)(void *priv, struct v4l2_dv_timings *t);
	int (*query_dv_timings)(void *priv, struct v4l2_dv_timings *t);
	int (*enum_dv_timings)(void *priv, struct v4l2_enum_dv_timings *t);
	int (*dv_timings_cap)(void *priv, struct v4l2_dv_timings_cap *c);

	int (*g_tuner)(void *priv, struct v4l2_tuner *t);
	int (*s_tuner)(void *priv, struct v4l2_tuner *t);
	int (*g_modulator)(void *priv, struct v4l2_modulator *m);
	int (*s_modulator)(void *priv, struct v4l2_modulator *m);
	int (*g_frequency)(void *priv, struct v4l2_frequency *f);
	int (*s_frequency)(void *priv, struct v4l2_frequency *f);
	int (*enum_freq_bands)(void *priv, struct v4l2_frequency_band *b);
	int (*s_hw_freq_seek)(void *priv, struct v4l2_hw_freq_seek *s);
	int (*g_sliced_vbi_cap)(void *priv, struct v4l2_sliced_vbi_cap *c);
	int (*g_enc_index)(void *priv, struct v4l2_enc_idx *e);

	/* Both control families: guests before Linux 6.15 use the old one. */
	int (*queryctrl)(void *priv, struct v4l2_queryctrl *q);
	int (*query_ext_ctrl)(void *priv, struct v4l2_query_ext_ctrl *q);
	int (*querymenu)(void *priv, struct v4l2_querymenu *m);
	int (*g_ctrl)(void *priv, struct v4l2_control *c);
	int (*s_ctrl)(void *priv, struct v4l2_control *c);
	int (*g_ext_ctrls)(void *priv, struct v4l2_ext_controls *c);
	int (*s_ext_ctrls)(void *priv, struct v4l2_ext_controls *c);
	int (*try_ext_ctrls)(void *priv, struct v4l2_ext_controls *c);

	/*
	 * Subscribing with V4L2_EVENT_SUB_FL_SEND_INITIAL: queue the initial
	 * events (vmedia_session_event) before returning; the guest driver
	 * reads them right after the ioctl completes.
	 */
	int (*subscribe_event)(void *priv, struct v4l2_event_subscription *s);
	int (*unsubscribe_event)(void *priv, struct v4l2_event_subscription *s);

	int (*encoder_cmd)(void *priv, struct v4l2_encoder_cmd *c);
	int (*try_encoder_cmd)(void *priv, struct v4l2_encoder_cmd *c);
	int (*decoder_cmd)(void *priv, struct v4l2_decoder_cmd *c);
	int (*try_decoder_cmd)(void *priv, struct v4l2_decoder_cmd *c);
};

/* ---- a backend ---------------------------------------------------------- */

/* What the guest sees in the device's config space. */
struct vmedia_identity {
	uint32_t device_caps; /* V4L2_CAP_*, without DEVICE_CAPS/READWRITE */
	uint32_t device_type; /* vfl_devnode_type; 0 = video */
	char card[32];
};

struct vmedia_backend_ops {
	/*
	 * A guest open(): make the session's state. *priv is passed to every
	 * ioctl of this session. Returns 0 or a negative errno.
	 */
	int (*open)(void *dev, struct vmedia_session *s, void **priv);
	/*
	 * The session ends (CLOSE, device reset, guest gone): stop streaming,
	 * drop buffers (vmedia_shm_put for MMAP ones) and timers. Queue no
	 * event for it from here on.
	 */
	void (*close)(void *priv);
	const struct vmedia_ioctl_ops *ioctl;
};

/* One kind of backend, found by name in the daemon's configuration. */
struct vmedia_backend_class {
	const char *name; /* "vcam", ... */
	/*
	 * Make a backend instance serving one device from `args` (the part
	 * of the config after "name:", may be ""). Fills *id. On error
	 * returns a negative errno and, in msg (if not NULL), one line
	 * saying what is wrong and how to fix it.
	 */
	int (*create)(const char *args, struct evloop *loop, void **dev,
		      struct vmedia_identity *id, char *msg, size_t msg_len);
	void (*destroy)(void *dev);
	const struct vmedia_backend_ops *ops;
};

/* ---- services the protocol layer offers a backend's session ------------ */

/*
 * A buffer is done: queue a DQBUF event. b (and planes[0..n_planes) for
 * multi-planar types) describe the result; the QUEUED flag is cleared and
 * DONE set by the protocol layer. Events are never dropped: they wait in
 * order until the guest posts event buffers. Ignored after STREAMOFF,
 * REQBUFS(0) or close of that queue, as the guest driver requires.
 */
void vmedia_session_dqbuf(struct vmedia_session *s, const struct v4l2_buffer *b,
			  const struct v4l2_plane *planes, unsigned n_planes);
/* Queue a V4L2 event (control change, end of stream, source change...). */
void vmedia_session_event(struct vmedia_session *s,
			  const struct v4l2_event *ev);
/* The session is broken beyond repair: EVT_ERROR; the guest will CLOSE. */
void vmedia_session_error(struct vmedia_session *s, int err);

uint32_t vmedia_session_id(const struct vmedia_session *s);
int vmedia_session_domid(const struct vmedia_session *s);

/*
 * MMAP buffer memory in the device's shared memory region 0. On success
 * *offset is a page-aligned offset into the region (what QUERYBUF reports
 * as m.offset / mem_offset and the guest passes to CMD_MMAP) and *host
 * the memory, zeroed. The allocation belongs to the session; the guest may
 * map it with CMD_MMAP, and it lives until the backend's reference is put
 * AND the guest unmapped it. -ENOTTY when the device has no region,
 * -ENOMEM when it is full.
 */
int vmedia_shm_alloc(struct vmedia_session *s, size_t len, uint32_t *offset,
		     void **host);
/* Drop the backend's reference to an allocation. */
void vmedia_shm_put(struct vmedia_session *s, uint32_t offset);

#endif
