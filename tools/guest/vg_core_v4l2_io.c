/* SPDX-License-Identifier: MIT */
/*
 * The V4L2 core around the driver's ops, continued: inputs and outputs,
 * tuners and modulators, crop emulated with the selection API, and (from
 * Linux 6.15) QUERYCTRL/G_CTRL/S_CTRL emulated with QUERY_EXT_CTRL and the
 * ext-control ioctls, since drivers no longer have those ops.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "vg_core_priv.h"

#define VFL_TYPE_RADIO 2u
#define VFL_TYPE_SDR   4u
#define NODE_NAME      "virtio-media" /* video_device.name */

/* ---- inputs and outputs ---- */

int vg_v4l2_enuminput(struct vg_call *k)
{
	struct v4l2_input *p = k->p;

	/* Set before the driver runs: the device's answer may clear it. */
	if (vg_core_is_valid(k->c, VIDIOC_S_STD))
		p->capabilities |= V4L2_IN_CAP_STD;
	if (k->c->device_caps & V4L2_CAP_IO_MC) {
		if (p->index)
			return -EINVAL;
		snprintf((char *)p->name, sizeof(p->name), "%s", NODE_NAME);
		p->type = V4L2_INPUT_TYPE_CAMERA;
		return 0;
	}
	return vg_v4l2_forward(k);
}

int vg_v4l2_enumoutput(struct vg_call *k)
{
	struct v4l2_output *p = k->p;

	if (vg_core_is_valid(k->c, VIDIOC_S_STD))
		p->capabilities |= V4L2_OUT_CAP_STD;
	if (k->c->device_caps & V4L2_CAP_IO_MC) {
		if (p->index)
			return -EINVAL;
		snprintf((char *)p->name, sizeof(p->name), "%s", NODE_NAME);
		p->type = V4L2_OUTPUT_TYPE_ANALOG;
		return 0;
	}
	return vg_v4l2_forward(k);
}

/*
 * G/S_INPUT and G/S_OUTPUT: the driver sends all four as WR with a u32.
 * S_* takes the index by value, so the device's answer is dropped.
 */
int vg_v4l2_io_index(struct vg_call *k)
{
	bool set = k->cmd == VIDIOC_S_INPUT || k->cmd == VIDIOC_S_OUTPUT;
	uint32_t v = *(uint32_t *)k->p;
	int r;

	if (k->c->device_caps & V4L2_CAP_IO_MC) {
		if (set)
			return v ? -EINVAL : 0;
		*(uint32_t *)k->p = 0;
		return 0;
	}
	r = vg_send_ioctl(k->f, k->cmd, &v, sizeof(v), sizeof(v));
	if (r == 0 && !set)
		*(uint32_t *)k->p = v;
	return r;
}

/* ---- tuners, modulators, frequencies ---- */

static uint32_t tuner_type(const struct vg_core *c)
{
	return c->vfl_type == VFL_TYPE_RADIO ? V4L2_TUNER_RADIO
					     : V4L2_TUNER_ANALOG_TV;
}

int vg_v4l2_tuner(struct vg_call *k)
{
	bool radio = k->c->vfl_type == VFL_TYPE_RADIO;
	int r;

	if (k->cmd == VIDIOC_G_TUNER || k->cmd == VIDIOC_S_TUNER)
		((struct v4l2_tuner *)k->p)->type = tuner_type(k->c);
	else if (radio)
		((struct v4l2_modulator *)k->p)->type = V4L2_TUNER_RADIO;
	r = vg_v4l2_forward(k);
	if (r == 0 && k->cmd == VIDIOC_G_TUNER)
		((struct v4l2_tuner *)k->p)->capability |=
			V4L2_TUNER_CAP_FREQ_BANDS;
	if (r == 0 && k->cmd == VIDIOC_G_MODULATOR)
		((struct v4l2_modulator *)k->p)->capability |=
			V4L2_TUNER_CAP_FREQ_BANDS;
	return r;
}

int vg_v4l2_frequency(struct vg_call *k)
{
	struct v4l2_frequency *p = k->p;
	bool sdr = k->c->vfl_type == VFL_TYPE_SDR;

	if (k->cmd == VIDIOC_G_FREQUENCY) {
		p->type = sdr ? V4L2_TUNER_SDR : tuner_type(k->c);
	} else if (sdr) {
		if (p->type != V4L2_TUNER_SDR && p->type != V4L2_TUNER_RF)
			return -EINVAL;
	} else if (p->type != tuner_type(k->c)) {
		return -EINVAL;
	}
	return vg_v4l2_forward(k);
}

int vg_v4l2_hw_freq_seek(struct vg_call *k)
{
	struct v4l2_hw_freq_seek *p = k->p;

	if (k->c->vfl_type == VFL_TYPE_SDR || p->type != tuner_type(k->c))
		return -EINVAL;
	return vg_v4l2_forward(k);
}

/* v4l_enum_freq_bands: the driver's op, else one band from G_TUNER. */
static int band_from_tuner(struct vg_call *k, uint32_t type)
{
	struct v4l2_frequency_band *p = k->p;
	struct v4l2_tuner t = { .index = p->tuner, .type = type };
	int r;

	if (p->index)
		return -EINVAL;
	r = vg_send_ioctl(k->f, VIDIOC_G_TUNER, &t, sizeof(t), sizeof(t));
	if (r)
		return r;
	p->capability = t.capability | V4L2_TUNER_CAP_FREQ_BANDS;
	p->rangelow = t.rangelow;
	p->rangehigh = t.rangehigh;
	p->modulation = type == V4L2_TUNER_RADIO ? V4L2_BAND_MODULATION_FM
						 : V4L2_BAND_MODULATION_VSB;
	return 0;
}

static int band_from_modulator(struct vg_call *k, uint32_t type)
{
	struct v4l2_frequency_band *p = k->p;
	struct v4l2_modulator m = { .index = p->tuner };
	int r;

	if (type != V4L2_TUNER_RADIO || p->index)
		return -EINVAL;
	r = vg_send_ioctl(k->f, VIDIOC_G_MODULATOR, &m, sizeof(m), sizeof(m));
	if (r)
		return r;
	p->capability = m.capability | V4L2_TUNER_CAP_FREQ_BANDS;
	p->rangelow = m.rangelow;
	p->rangehigh = m.rangehigh;
	p->modulation = V4L2_BAND_MODULATION_FM;
	return 0;
}

int vg_v4l2_enum_freq_bands(struct vg_call *k)
{
	struct v4l2_frequency_band *p = k->p;
	uint32_t type;
	int r;

	if (k->c->vfl_type == VFL_TYPE_SDR) {
		if (p->type != V4L2_TUNER_SDR && p->type != V4L2_TUNER_RF)
			return -EINVAL;
		type = p->type;
	} else {
		type = tuner_type(k->c);
		if (p->type != type)
			return -EINVAL;
	}
	r = vg_v4l2_forward(k);
	if (r != -ENOTTY)
		return r;
	if (vg_core_is_valid(k->c, VIDIOC_G_TUNER))
		return band_from_tuner(k, type);
	if (vg_core_is_valid(k->c, VIDIOC_G_MODULATOR))
		return band_from_modulator(k, type);
	return -ENOTTY;
}

/* ---- selection and crop ---- */

/* Drivers see the single-planar type: v4l_g/s_selection. */
static int send_selection(struct vg_file *f, unsigned long cmd,
			  struct v4l2_selection *s)
{
	uint32_t type = s->type;
	int r;

	if (type == V4L2_BUF_TYPE_VIDEO_CAPTURE_MPLANE)
		s->type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
	else if (type == V4L2_BUF_TYPE_VIDEO_OUTPUT_MPLANE)
		s->type = V4L2_BUF_TYPE_VIDEO_OUTPUT;
	r = vg_send_ioctl(f, cmd, s, sizeof(*s), sizeof(*s));
	s->type = type;
	return r;
}

int vg_v4l2_selection(struct vg_call *k)
{
	return send_selection(k->f, k->cmd, k->p);
}

/* Crop means compose for output devices. */
int vg_v4l2_crop(struct vg_call *k)
{
	struct v4l2_crop *p = k->p;
	struct v4l2_selection s = { .type = p->type, .r = p->c };
	int r;

	s.target = vg_type_is_output(p->type) ? V4L2_SEL_TGT_COMPOSE
					      : V4L2_SEL_TGT_CROP;
	if (k->cmd == VIDIOC_S_CROP)
		return send_selection(k->f, VIDIOC_S_SELECTION, &s);
	memset(&s.r, 0, sizeof(s.r));
	r = send_selection(k->f, VIDIOC_G_SELECTION, &s);
	if (r == 0)
		p->c = s.r;
	return r;
}

int vg_v4l2_cropcap(struct vg_call *k)
{
	struct v4l2_cropcap *p = k->p;
	bool out = vg_type_is_output(p->type);
	struct v4l2_selection s = { .type = p->type };
	int r;

	/* No g_pixelaspect op: square pixels. */
	p->pixelaspect.numerator = 1;
	p->pixelaspect.denominator = 1;
	s.target = out ? V4L2_SEL_TGT_COMPOSE_BOUNDS : V4L2_SEL_TGT_CROP_BOUNDS;
	r = send_selection(k->f, VIDIOC_G_SELECTION, &s);
	if (r)
		return r;
	p->bounds = s.r;
	s.target =
		out ? V4L2_SEL_TGT_COMPOSE_DEFAULT : V4L2_SEL_TGT_CROP_DEFAULT;
	r = send_selection(k->f, VIDIOC_G_SELECTION, &s);
	if (r)
		return r;
	p->defrect = s.r;
	return 0;
}

/* ---- controls ---- */

static bool emulates_ctrls(const struct vg_core *c)
{
	return c->version >= VG_CORE_VERSION(6, 15, 0);
}

/* v4l2_query_ext_ctrl_to_v4l2_queryctrl() */
static void ext_to_queryctrl(struct v4l2_queryctrl *to,
			     const struct v4l2_query_ext_ctrl *from)
{
	to->id = from->id;
	to->type = from->type;
	to->flags = from->flags;
	memcpy(to->name, from->name, sizeof(to->name));
	to->name[sizeof(to->name) - 1] = 0;
	switch (from->type) {
	case V4L2_CTRL_TYPE_INTEGER:
	case V4L2_CTRL_TYPE_BOOLEAN:
	case V4L2_CTRL_TYPE_MENU:
	case V4L2_CTRL_TYPE_INTEGER_MENU:
	case V4L2_CTRL_TYPE_STRING:
	case V4L2_CTRL_TYPE_BITMASK:
		to->minimum = (int32_t)from->minimum;
		to->maximum = (int32_t)from->maximum;
		to->step = (int32_t)from->step;
		to->default_value = (int32_t)from->default_value;
		break;
	default:
		to->minimum = to->maximum = to->step = to->default_value = 0;
		break;
	}
}

int vg_v4l2_queryctrl(struct vg_call *k)
{
	struct v4l2_queryctrl *p = k->p;
	struct v4l2_query_ext_ctrl qec = { .id = p->id };
	int r;

	if (!emulates_ctrls(k->c))
		return vg_v4l2_forward(k);
	r = vg_send_ioctl(k->f, VIDIOC_QUERY_EXT_CTRL, &qec, sizeof(qec),
			  sizeof(qec));
	if (r == 0)
		ext_to_queryctrl(p, &qec);
	return r;
}

int vg_v4l2_ctrl(struct vg_call *k)
{
	struct v4l2_control *p = k->p;
	bool get = k->cmd == VIDIOC_G_CTRL;
	struct v4l2_ext_control ctrl = { .id = p->id, .value = p->value };
	struct v4l2_ext_controls ctrls = {
		.which = V4L2_CTRL_ID2WHICH(p->id),
		.count = 1,
		.controls = &ctrl,
	};
	int r;

	if (!emulates_ctrls(k->c))
		return vg_v4l2_forward(k);
	if (!vg_check_ext_ctrls(&ctrls, k->cmd))
		return -EINVAL;
	r = vg_send_ext_ctrls(
		k->f, get ? VIDIOC_G_EXT_CTRLS : VIDIOC_S_EXT_CTRLS, &ctrls);
	/* S_CTRL reports the value as set (clamped), even on error. */
	if (r == 0 || !get)
		p->value = ctrl.value;
	return r;
}
