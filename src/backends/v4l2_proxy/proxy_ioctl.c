/* SPDX-License-Identifier: MIT */
/*
 * Plain forwarding: the protocol layer already decoded and checked the
 * guest's struct, and none of these carries a pointer the host would
 * follow, so most go to the host as they are. The exceptions are below:
 * overlay formats (pointers to clip lists), control requests (an fd of
 * ours) and read()/write() fields the guest cannot use.
 */
#include <errno.h>
#include <string.h>

#include "backends/v4l2_proxy/proxy.h"

#define VP_FWD(name, REQ, type)                           \
	static int vp_##name(void *priv, type *arg)       \
	{                                                 \
		return vp_ioctl(priv, VIDIOC_##REQ, arg); \
	}

/* ---- formats: no overlay (v4l2_window holds pointers into the caller) - */

static bool fmt_type_ok(uint32_t type)
{
	return type != V4L2_BUF_TYPE_VIDEO_OVERLAY &&
	       type != V4L2_BUF_TYPE_VIDEO_OUTPUT_OVERLAY;
}

#define VP_FMT(name, REQ)                                       \
	static int vp_##name(void *priv, struct v4l2_format *f) \
	{                                                       \
		if (!fmt_type_ok(f->type))                      \
			return -EINVAL;                         \
		return vp_ioctl(priv, VIDIOC_##REQ, f);         \
	}

/* The overlay capabilities are stripped: so are their formats. */
static int vp_enum_fmt(void *priv, struct v4l2_fmtdesc *f)
{
	if (!fmt_type_ok(f->type))
		return -EINVAL;
	return vp_ioctl(priv, VIDIOC_ENUM_FMT, f);
}

VP_FMT(g_fmt, G_FMT)
VP_FMT(s_fmt, S_FMT)
VP_FMT(try_fmt, TRY_FMT)

/* ---- streaming parameters: no read()/write() buffers to announce ------- */

static void parm_fixup(struct v4l2_streamparm *p)
{
	if (V4L2_TYPE_IS_OUTPUT(p->type))
		p->parm.output.writebuffers = 0;
	else
		p->parm.capture.readbuffers = 0;
}

static int vp_g_parm(void *priv, struct v4l2_streamparm *p)
{
	int ret = vp_ioctl(priv, VIDIOC_G_PARM, p);

	if (!ret)
		parm_fixup(p);
	return ret;
}

static int vp_s_parm(void *priv, struct v4l2_streamparm *p)
{
	int ret;

	parm_fixup(p);
	ret = vp_ioctl(priv, VIDIOC_S_PARM, p);
	if (!ret)
		parm_fixup(p);
	return ret;
}

VP_FWD(enum_framesizes, ENUM_FRAMESIZES, struct v4l2_frmsizeenum)
VP_FWD(enum_frameintervals, ENUM_FRAMEINTERVALS, struct v4l2_frmivalenum)
VP_FWD(g_selection, G_SELECTION, struct v4l2_selection)
VP_FWD(s_selection, S_SELECTION, struct v4l2_selection)

VP_FWD(enuminput, ENUMINPUT, struct v4l2_input)
VP_FWD(g_input, G_INPUT, uint32_t)
VP_FWD(s_input, S_INPUT, uint32_t)
VP_FWD(enumoutput, ENUMOUTPUT, struct v4l2_output)
VP_FWD(g_output, G_OUTPUT, uint32_t)
VP_FWD(s_output, S_OUTPUT, uint32_t)
VP_FWD(enumaudio, ENUMAUDIO, struct v4l2_audio)
VP_FWD(g_audio, G_AUDIO, struct v4l2_audio)
VP_FWD(s_audio, S_AUDIO, struct v4l2_audio)
VP_FWD(enumaudout, ENUMAUDOUT, struct v4l2_audioout)
VP_FWD(g_audout, G_AUDOUT, struct v4l2_audioout)
VP_FWD(s_audout, S_AUDOUT, struct v4l2_audioout)

VP_FWD(enumstd, ENUMSTD, struct v4l2_standard)
VP_FWD(g_std, G_STD, v4l2_std_id)
VP_FWD(s_std, S_STD, v4l2_std_id)
VP_FWD(querystd, QUERYSTD, v4l2_std_id)
VP_FWD(g_dv_timings, G_DV_TIMINGS, struct v4l2_dv_timings)
VP_FWD(s_dv_timings, S_DV_TIMINGS, struct v4l2_dv_timings)
VP_FWD(query_dv_timings, QUERY_DV_TIMINGS, struct v4l2_dv_timings)
VP_FWD(enum_dv_timings, ENUM_DV_TIMINGS, struct v4l2_enum_dv_timings)
VP_FWD(dv_timings_cap, DV_TIMINGS_CAP, struct v4l2_dv_timings_cap)

VP_FWD(g_tuner, G_TUNER, struct v4l2_tuner)
VP_FWD(s_tuner, S_TUNER, struct v4l2_tuner)
VP_FWD(g_modulator, G_MODULATOR, struct v4l2_modulator)
VP_FWD(s_modulator, S_MODULATOR, struct v4l2_modulator)
VP_FWD(g_frequency, G_FREQUENCY, struct v4l2_frequency)
VP_FWD(s_frequency, S_FREQUENCY, struct v4l2_frequency)
VP_FWD(enum_freq_bands, ENUM_FREQ_BANDS, struct v4l2_frequency_band)
VP_FWD(s_hw_freq_seek, S_HW_FREQ_SEEK, struct v4l2_hw_freq_seek)
VP_FWD(g_sliced_vbi_cap, G_SLICED_VBI_CAP, struct v4l2_sliced_vbi_cap)
VP_FWD(g_enc_index, G_ENC_INDEX, struct v4l2_enc_idx)

VP_FWD(queryctrl, QUERYCTRL, struct v4l2_queryctrl)
VP_FWD(query_ext_ctrl, QUERY_EXT_CTRL, struct v4l2_query_ext_ctrl)
VP_FWD(querymenu, QUERYMENU, struct v4l2_querymenu)
VP_FWD(g_ctrl, G_CTRL, struct v4l2_control)
VP_FWD(s_ctrl, S_CTRL, struct v4l2_control)

/* ---- extended controls -------------------------------------------------- */

/*
 * A control with a payload arrives with ptr pointing at the protocol's
 * host copy. Were it not a payload control, the host would take that
 * pointer as the value and the guest could read our address back: only
 * controls the host says carry a payload may come with one. Requests are
 * not part of virtio-media, and request_fd would name an fd of ours.
 */
static int ext_ctrls_check(struct vp_session *s, struct v4l2_ext_controls *c)
{
	if (c->which == V4L2_CTRL_WHICH_REQUEST_VAL)
		return -EINVAL;
	c->request_fd = 0;
	for (uint32_t i = 0; i < c->count; i++) {
		struct v4l2_query_ext_ctrl q = { .id = c->controls[i].id };
		int ret;

		if (!c->controls[i].size)
			continue;
		ret = vp_ioctl(s, VIDIOC_QUERY_EXT_CTRL, &q);
		if (ret == -ENODEV)
			return ret;
		if (ret || !(q.flags & V4L2_CTRL_FLAG_HAS_PAYLOAD)) {
			c->error_idx = i;
			return -EINVAL;
		}
	}
	return 0;
}

#define VP_EXT(name, REQ)                                             \
	static int vp_##name(void *priv, struct v4l2_ext_controls *c) \
	{                                                             \
		int ret = ext_ctrls_check(priv, c);                   \
		return ret ? ret : vp_ioctl(priv, VIDIOC_##REQ, c);   \
	}

VP_EXT(g_ext_ctrls, G_EXT_CTRLS)
VP_EXT(s_ext_ctrls, S_EXT_CTRLS)
VP_EXT(try_ext_ctrls, TRY_EXT_CTRLS)

/* ---- events: initial events are read before the guest asks -------------- */

static int vp_subscribe_event(void *priv, struct v4l2_event_subscription *sub)
{
	int ret = vp_ioctl(priv, VIDIOC_SUBSCRIBE_EVENT, sub);

	if (!ret)
		vp_drain_events(priv);
	return ret;
}

VP_FWD(unsubscribe_event, UNSUBSCRIBE_EVENT, struct v4l2_event_subscription)

/* ---- codec commands: START restarts a capture queue that ended (LAST) --- */

static int vp_encoder_cmd(void *priv, struct v4l2_encoder_cmd *c)
{
	int ret = vp_ioctl(priv, VIDIOC_ENCODER_CMD, c);

	if (!ret)
		vp_clear_last(priv);
	return ret;
}

static int vp_decoder_cmd(void *priv, struct v4l2_decoder_cmd *c)
{
	int ret = vp_ioctl(priv, VIDIOC_DECODER_CMD, c);

	if (!ret)
		vp_clear_last(priv);
	return ret;
}

VP_FWD(try_encoder_cmd, TRY_ENCODER_CMD, struct v4l2_encoder_cmd)
VP_FWD(try_decoder_cmd, TRY_DECODER_CMD, struct v4l2_decoder_cmd)

const struct vmedia_ioctl_ops vp_ioctl_ops = {
	.enum_fmt = vp_enum_fmt,
	.g_fmt = vp_g_fmt,
	.s_fmt = vp_s_fmt,
	.try_fmt = vp_try_fmt,
	.reqbufs = vp_reqbufs,
	.create_bufs = vp_create_bufs,
	.querybuf = vp_querybuf,
	.qbuf = vp_qbuf,
	.prepare_buf = vp_prepare_buf,
	.streamon = vp_streamon,
	.streamoff = vp_streamoff,
	.g_parm = vp_g_parm,
	.s_parm = vp_s_parm,
	.enum_framesizes = vp_enum_framesizes,
	.enum_frameintervals = vp_enum_frameintervals,
	.g_selection = vp_g_selection,
	.s_selection = vp_s_selection,

	.enuminput = vp_enuminput,
	.g_input = vp_g_input,
	.s_input = vp_s_input,
	.enumoutput = vp_enumoutput,
	.g_output = vp_g_output,
	.s_output = vp_s_output,
	.enumaudio = vp_enumaudio,
	.g_audio = vp_g_audio,
	.s_audio = vp_s_audio,
	.enumaudout = vp_enumaudout,
	.g_audout = vp_g_audout,
	.s_audout = vp_s_audout,

	.enumstd = vp_enumstd,
	.g_std = vp_g_std,
	.s_std = vp_s_std,
	.querystd = vp_querystd,
	.g_dv_timings = vp_g_dv_timings,
	.s_dv_timings = vp_s_dv_timings,
	.query_dv_timings = vp_query_dv_timings,
	.enum_dv_timings = vp_enum_dv_timings,
	.dv_timings_cap = vp_dv_timings_cap,

	.g_tuner = vp_g_tuner,
	.s_tuner = vp_s_tuner,
	.g_modulator = vp_g_modulator,
	.s_modulator = vp_s_modulator,
	.g_frequency = vp_g_frequency,
	.s_frequency = vp_s_frequency,
	.enum_freq_bands = vp_enum_freq_bands,
	.s_hw_freq_seek = vp_s_hw_freq_seek,
	.g_sliced_vbi_cap = vp_g_sliced_vbi_cap,
	.g_enc_index = vp_g_enc_index,

	.queryctrl = vp_queryctrl,
	.query_ext_ctrl = vp_query_ext_ctrl,
	.querymenu = vp_querymenu,
	.g_ctrl = vp_g_ctrl,
	.s_ctrl = vp_s_ctrl,
	.g_ext_ctrls = vp_g_ext_ctrls,
	.s_ext_ctrls = vp_s_ext_ctrls,
	.try_ext_ctrls = vp_try_ext_ctrls,

	.subscribe_event = vp_subscribe_event,
	.unsubscribe_event = vp_unsubscribe_event,

	.encoder_cmd = vp_encoder_cmd,
	.try_encoder_cmd = vp_try_encoder_cmd,
	.decoder_cmd = vp_decoder_cmd,
	.try_decoder_cmd = vp_try_decoder_cmd,
};
