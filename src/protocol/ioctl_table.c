/* SPDX-License-Identifier: MIT */
/*
 * The ioctl table (research: virtio-media-protocol.md, 2.3). Ioctls the
 * guest handles itself (QUERYCAP, DQBUF, DQEVENT, priority, crop, EXPBUF,
 * ...) are absent and so answered ENOTTY.
 */
#include "protocol/ioctl_table.h"

#include <errno.h>
#include <stddef.h>

#include "vmedia/compiler.h"

#define THUNK(slot, type)                                                      \
	static int call_##slot(const struct vmedia_ioctl_ops *ops, void *priv, \
			       void *arg)                                      \
	{                                                                      \
		return ops->slot ? ops->slot(priv, (type *)arg) : -ENOTTY;     \
	}

THUNK(enum_fmt, struct v4l2_fmtdesc)
THUNK(g_fmt, struct v4l2_format)
THUNK(s_fmt, struct v4l2_format)
THUNK(try_fmt, struct v4l2_format)
THUNK(reqbufs, struct v4l2_requestbuffers)
THUNK(create_bufs, struct v4l2_create_buffers)
THUNK(querybuf, struct vmedia_buffer)
THUNK(qbuf, struct vmedia_buffer)
THUNK(prepare_buf, struct vmedia_buffer)
THUNK(g_parm, struct v4l2_streamparm)
THUNK(s_parm, struct v4l2_streamparm)
THUNK(enum_framesizes, struct v4l2_frmsizeenum)
THUNK(enum_frameintervals, struct v4l2_frmivalenum)
THUNK(g_selection, struct v4l2_selection)
THUNK(s_selection, struct v4l2_selection)
THUNK(enuminput, struct v4l2_input)
THUNK(g_input, uint32_t)
THUNK(s_input, uint32_t)
THUNK(enumoutput, struct v4l2_output)
THUNK(g_output, uint32_t)
THUNK(s_output, uint32_t)
THUNK(enumaudio, struct v4l2_audio)
THUNK(g_audio, struct v4l2_audio)
THUNK(s_audio, struct v4l2_audio)
THUNK(enumaudout, struct v4l2_audioout)
THUNK(g_audout, struct v4l2_audioout)
THUNK(s_audout, struct v4l2_audioout)
THUNK(enumstd, struct v4l2_standard)
THUNK(g_std, v4l2_std_id)
THUNK(s_std, v4l2_std_id)
THUNK(querystd, v4l2_std_id)
THUNK(g_dv_timings, struct v4l2_dv_timings)
THUNK(s_dv_timings, struct v4l2_dv_timings)
THUNK(query_dv_timings, struct v4l2_dv_timings)
THUNK(enum_dv_timings, struct v4l2_enum_dv_timings)
THUNK(dv_timings_cap, struct v4l2_dv_timings_cap)
THUNK(g_tuner, struct v4l2_tuner)
THUNK(s_tuner, struct v4l2_tuner)
THUNK(g_modulator, struct v4l2_modulator)
THUNK(s_modulator, struct v4l2_modulator)
THUNK(g_frequency, struct v4l2_frequency)
THUNK(s_frequency, struct v4l2_frequency)
THUNK(enum_freq_bands, struct v4l2_frequency_band)
THUNK(s_hw_freq_seek, struct v4l2_hw_freq_seek)
THUNK(g_sliced_vbi_cap, struct v4l2_sliced_vbi_cap)
THUNK(g_enc_index, struct v4l2_enc_idx)
THUNK(queryctrl, struct v4l2_queryctrl)
THUNK(query_ext_ctrl, struct v4l2_query_ext_ctrl)
THUNK(querymenu, struct v4l2_querymenu)
THUNK(g_ctrl, struct v4l2_control)
THUNK(s_ctrl, struct v4l2_control)
THUNK(g_ext_ctrls, struct v4l2_ext_controls)
THUNK(s_ext_ctrls, struct v4l2_ext_controls)
THUNK(try_ext_ctrls, struct v4l2_ext_controls)
THUNK(subscribe_event, struct v4l2_event_subscription)
THUNK(unsubscribe_event, struct v4l2_event_subscription)
THUNK(encoder_cmd, struct v4l2_encoder_cmd)
THUNK(try_encoder_cmd, struct v4l2_encoder_cmd)
THUNK(decoder_cmd, struct v4l2_decoder_cmd)
THUNK(try_decoder_cmd, struct v4l2_decoder_cmd)

/* STREAMON/OFF carry a bare u32 buffer type. */
static int call_streamon(const struct vmedia_ioctl_ops *ops, void *priv,
			 void *arg)
{
	return ops->streamon ? ops->streamon(priv, *(uint32_t *)arg) : -ENOTTY;
}

static int call_streamoff(const struct vmedia_ioctl_ops *ops, void *priv,
			  void *arg)
{
	return ops->streamoff ? ops->streamoff(priv, *(uint32_t *)arg)
			      : -ENOTTY;
}

#define ENTRY(ioc, cls_, type, slot)                      \
	[_IOC_NR(VIDIOC_##ioc)] = { .name = #ioc,         \
				    .cls = IOCTL_##cls_,  \
				    .size = sizeof(type), \
				    .call = call_##slot }

static const struct ioctl_desc table[] = {
	ENTRY(ENUM_FMT, WR, struct v4l2_fmtdesc, enum_fmt),
	ENTRY(G_FMT, WR, struct v4l2_format, g_fmt),
	ENTRY(S_FMT, WR, struct v4l2_format, s_fmt),
	ENTRY(REQBUFS, WR, struct v4l2_requestbuffers, reqbufs),
	ENTRY(QUERYBUF, BUFFER, struct v4l2_buffer, querybuf),
	ENTRY(QBUF, BUFFER, struct v4l2_buffer, qbuf),
	ENTRY(STREAMON, W, uint32_t, streamon),
	ENTRY(STREAMOFF, W, uint32_t, streamoff),
	ENTRY(G_PARM, WR, struct v4l2_streamparm, g_parm),
	ENTRY(S_PARM, WR, struct v4l2_streamparm, s_parm),
	ENTRY(G_STD, R, v4l2_std_id, g_std),
	ENTRY(S_STD, W, v4l2_std_id, s_std),
	ENTRY(ENUMSTD, WR, struct v4l2_standard, enumstd),
	ENTRY(ENUMINPUT, WR, struct v4l2_input, enuminput),
	ENTRY(G_CTRL, WR, struct v4l2_control, g_ctrl),
	ENTRY(S_CTRL, WR, struct v4l2_control, s_ctrl),
	ENTRY(G_TUNER, WR, struct v4l2_tuner, g_tuner),
	ENTRY(S_TUNER, W, struct v4l2_tuner, s_tuner),
	ENTRY(G_AUDIO, R, struct v4l2_audio, g_audio),
	ENTRY(S_AUDIO, W, struct v4l2_audio, s_audio),
	ENTRY(QUERYCTRL, WR, struct v4l2_queryctrl, queryctrl),
	ENTRY(QUERYMENU, WR, struct v4l2_querymenu, querymenu),
	/* _IOR in videodev2.h, but the driver sends a u32 both ways. */
	ENTRY(G_INPUT, WR, uint32_t, g_input),
	ENTRY(S_INPUT, WR, uint32_t, s_input),
	ENTRY(G_OUTPUT, WR, uint32_t, g_output),
	ENTRY(S_OUTPUT, WR, uint32_t, s_output),
	ENTRY(ENUMOUTPUT, WR, struct v4l2_output, enumoutput),
	ENTRY(G_AUDOUT, R, struct v4l2_audioout, g_audout),
	ENTRY(S_AUDOUT, W, struct v4l2_audioout, s_audout),
	ENTRY(G_MODULATOR, WR, struct v4l2_modulator, g_modulator),
	ENTRY(S_MODULATOR, W, struct v4l2_modulator, s_modulator),
	ENTRY(G_FREQUENCY, WR, struct v4l2_frequency, g_frequency),
	ENTRY(S_FREQUENCY, W, struct v4l2_frequency, s_frequency),
	ENTRY(QUERYSTD, R, v4l2_std_id, querystd),
	ENTRY(TRY_FMT, WR, struct v4l2_format, try_fmt),
	ENTRY(ENUMAUDIO, WR, struct v4l2_audio, enumaudio),
	ENTRY(ENUMAUDOUT, WR, struct v4l2_audioout, enumaudout),
	ENTRY(G_SLICED_VBI_CAP, WR, struct v4l2_sliced_vbi_cap,
	      g_sliced_vbi_cap),
	ENTRY(G_EXT_CTRLS, EXT_CTRLS, struct v4l2_ext_controls, g_ext_ctrls),
	ENTRY(S_EXT_CTRLS, EXT_CTRLS, struct v4l2_ext_controls, s_ext_ctrls),
	ENTRY(TRY_EXT_CTRLS, EXT_CTRLS, struct v4l2_ext_controls,
	      try_ext_ctrls),
	ENTRY(ENUM_FRAMESIZES, WR, struct v4l2_frmsizeenum, enum_framesizes),
	ENTRY(ENUM_FRAMEINTERVALS, WR, struct v4l2_frmivalenum,
	      enum_frameintervals),
	ENTRY(G_ENC_INDEX, R, struct v4l2_enc_idx, g_enc_index),
	ENTRY(ENCODER_CMD, WR, struct v4l2_encoder_cmd, encoder_cmd),
	ENTRY(TRY_ENCODER_CMD, WR, struct v4l2_encoder_cmd, try_encoder_cmd),
	ENTRY(S_HW_FREQ_SEEK, W, struct v4l2_hw_freq_seek, s_hw_freq_seek),
	ENTRY(S_DV_TIMINGS, WR, struct v4l2_dv_timings, s_dv_timings),
	ENTRY(G_DV_TIMINGS, WR, struct v4l2_dv_timings, g_dv_timings),
	ENTRY(SUBSCRIBE_EVENT, W, struct v4l2_event_subscription,
	      subscribe_event),
	ENTRY(UNSUBSCRIBE_EVENT, W, struct v4l2_event_subscription,
	      unsubscribe_event),
	ENTRY(CREATE_BUFS, WR, struct v4l2_create_buffers, create_bufs),
	ENTRY(PREPARE_BUF, BUFFER, struct v4l2_buffer, prepare_buf),
	ENTRY(G_SELECTION, WR, struct v4l2_selection, g_selection),
	ENTRY(S_SELECTION, WR, struct v4l2_selection, s_selection),
	ENTRY(DECODER_CMD, WR, struct v4l2_decoder_cmd, decoder_cmd),
	ENTRY(TRY_DECODER_CMD, WR, struct v4l2_decoder_cmd, try_decoder_cmd),
	ENTRY(ENUM_DV_TIMINGS, WR, struct v4l2_enum_dv_timings,
	      enum_dv_timings),
	ENTRY(QUERY_DV_TIMINGS, R, struct v4l2_dv_timings, query_dv_timings),
	ENTRY(DV_TIMINGS_CAP, WR, struct v4l2_dv_timings_cap, dv_timings_cap),
	ENTRY(ENUM_FREQ_BANDS, WR, struct v4l2_frequency_band, enum_freq_bands),
	ENTRY(QUERY_EXT_CTRL, WR, struct v4l2_query_ext_ctrl, query_ext_ctrl),
};

/* The guest sends the 64-bit layouts; these sizes are what it sends. */
_Static_assert(sizeof(struct v4l2_format) == 208, "LP64 v4l2_format");
_Static_assert(sizeof(struct v4l2_buffer) == 88, "LP64 v4l2_buffer");
_Static_assert(sizeof(struct v4l2_plane) == 64, "LP64 v4l2_plane");
_Static_assert(sizeof(struct v4l2_ext_controls) == 32, "LP64 ext_controls");
_Static_assert(sizeof(struct v4l2_ext_control) == 20, "packed ext_control");
_Static_assert(sizeof(struct v4l2_create_buffers) == 256, "create_buffers");
_Static_assert(sizeof(struct v4l2_query_ext_ctrl) == 232, "query_ext_ctrl");
_Static_assert(sizeof(struct v4l2_event) == 136, "LP64 v4l2_event");
_Static_assert(sizeof(struct v4l2_enc_idx) == 2072, "enc_idx");

const struct ioctl_desc *ioctl_lookup(uint32_t code)
{
	if (code >= ARRAY_SIZE(table) || !table[code].name)
		return NULL;
	return &table[code];
}
