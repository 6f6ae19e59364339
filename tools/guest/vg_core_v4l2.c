/* SPDX-License-Identifier: MIT */
/*
 * What the V4L2 core does around the driver's ops (the v4l_* handlers of
 * drivers/media/v4l2-core/v4l2-ioctl.c), and the driver's forwarding of
 * fixed-size ioctls (SIMPLE_{R,W,WR}_IOCTL in virtio_media_ioctls.c).
 * Order matters: the core prepares the argument, the device answers into
 * it (a WR answer overwrites every field), then the core fixes it up.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "vg_core_priv.h"

/* Zero the struct after `field`, as CLEAR_AFTER_FIELD/memset_after. */
#define CLEAR_AFTER(p, field)                                       \
	memset((uint8_t *)(p) + offsetof(__typeof__(*(p)), field) + \
		       sizeof((p)->field),                          \
	       0,                                                   \
	       sizeof(*(p)) - offsetof(__typeof__(*(p)), field) -   \
		       sizeof((p)->field))

int vg_send_ioctl(struct vg_file *f, unsigned long cmd, void *p, size_t in,
		  size_t out)
{
	struct vg_core *c = f->c;

	/* The device closed the session: it would answer EINVAL. */
	if (f->dead)
		return -EINVAL;
	c->m->run_err = 0;
	return vg_core_check(
		c, vg_media_ioctl(c->m, f->session, _IOC_NR(cmd), p, in, out));
}

/* SIMPLE_R_IOCTL (_IOR), SIMPLE_W_IOCTL (_IOW), SIMPLE_WR_IOCTL. */
int vg_v4l2_forward(struct vg_call *k)
{
	size_t n = _IOC_SIZE(k->cmd);

	switch (_IOC_DIR(k->cmd)) {
	case _IOC_READ:
		return vg_send_ioctl(k->f, k->cmd, k->p, 0, n);
	case _IOC_WRITE:
		return vg_send_ioctl(k->f, k->cmd, k->p, n, 0);
	default:
		return vg_send_ioctl(k->f, k->cmd, k->p, n, n);
	}
}

/* ---- formats ---- */

int vg_v4l2_check_fmt(const struct vg_core *c, uint32_t type)
{
	const uint32_t vid_caps =
		V4L2_CAP_VIDEO_CAPTURE | V4L2_CAP_VIDEO_CAPTURE_MPLANE |
		V4L2_CAP_VIDEO_OUTPUT | V4L2_CAP_VIDEO_OUTPUT_MPLANE |
		V4L2_CAP_VIDEO_M2M | V4L2_CAP_VIDEO_M2M_MPLANE;
	const uint32_t meta_caps = V4L2_CAP_META_CAPTURE | V4L2_CAP_META_OUTPUT;
	bool is_vid = c->vfl_type == 0 && (c->device_caps & vid_caps);
	bool is_meta = c->vfl_type == 0 && (c->device_caps & meta_caps);
	bool is_vbi = c->vfl_type == 1, is_sdr = c->vfl_type == 4;
	bool is_tch = c->vfl_type == 5;
	bool ok = false;

	/* The driver has every format op, so only node type and direction. */
	switch (type) {
	case V4L2_BUF_TYPE_VIDEO_CAPTURE:
	case V4L2_BUF_TYPE_VIDEO_CAPTURE_MPLANE:
		ok = (is_vid || is_tch) && c->is_rx;
		break;
	case V4L2_BUF_TYPE_VIDEO_OVERLAY:
		ok = is_vid && c->is_rx;
		break;
	case V4L2_BUF_TYPE_VIDEO_OUTPUT:
	case V4L2_BUF_TYPE_VIDEO_OUTPUT_MPLANE:
	case V4L2_BUF_TYPE_VIDEO_OUTPUT_OVERLAY:
		ok = is_vid && c->is_tx;
		break;
	case V4L2_BUF_TYPE_VBI_CAPTURE:
	case V4L2_BUF_TYPE_SLICED_VBI_CAPTURE:
		ok = is_vbi && c->is_rx;
		break;
	case V4L2_BUF_TYPE_VBI_OUTPUT:
	case V4L2_BUF_TYPE_SLICED_VBI_OUTPUT:
		ok = is_vbi && c->is_tx;
		break;
	case V4L2_BUF_TYPE_SDR_CAPTURE:
		ok = is_sdr && c->is_rx;
		break;
	case V4L2_BUF_TYPE_SDR_OUTPUT:
		ok = is_sdr && c->is_tx;
		break;
	case V4L2_BUF_TYPE_META_CAPTURE:
		ok = is_meta && c->is_rx;
		break;
	case V4L2_BUF_TYPE_META_OUTPUT:
		ok = is_meta && c->is_tx;
		break;
	}
	return ok ? 0 : -EINVAL;
}

void vg_v4l2_sanitize_format(struct v4l2_format *f)
{
	size_t off = offsetof(struct v4l2_pix_format, priv) +
		     sizeof(f->fmt.pix.priv);

	if (vg_type_is_mplane(f->type) &&
	    f->fmt.pix_mp.num_planes > VIDEO_MAX_PLANES)
		f->fmt.pix_mp.num_planes = VIDEO_MAX_PLANES;
	if (f->type != V4L2_BUF_TYPE_VIDEO_CAPTURE &&
	    f->type != V4L2_BUF_TYPE_VIDEO_OUTPUT)
		return;
	/* Applications that do not know the extended fields: zero them. */
	if (f->fmt.pix.priv == V4L2_PIX_FMT_PRIV_MAGIC)
		return;
	f->fmt.pix.priv = V4L2_PIX_FMT_PRIV_MAGIC;
	memset((uint8_t *)&f->fmt.pix + off, 0, sizeof(f->fmt.pix) - off);
}

int vg_v4l2_enum_fmt(struct vg_call *k)
{
	struct v4l2_fmtdesc *p = k->p;
	uint32_t mp_caps;
	int r = vg_v4l2_check_fmt(k->c, p->type);

	if (r)
		return r;
	if (!(k->c->device_caps & V4L2_CAP_IO_MC))
		p->mbus_code = 0;
	{
		uint32_t mbus_code = p->mbus_code;

		CLEAR_AFTER(p, type);
		p->mbus_code = mbus_code;
	}
	/* Single- and multi-planar types must match the node's API. */
	if (p->type == V4L2_BUF_TYPE_VIDEO_CAPTURE ||
	    p->type == V4L2_BUF_TYPE_VIDEO_CAPTURE_MPLANE) {
		mp_caps = V4L2_CAP_VIDEO_CAPTURE_MPLANE |
			  V4L2_CAP_VIDEO_M2M_MPLANE;
		if (!!(k->c->device_caps & mp_caps) !=
		    (p->type == V4L2_BUF_TYPE_VIDEO_CAPTURE_MPLANE))
			return -EINVAL;
	} else if (p->type == V4L2_BUF_TYPE_VIDEO_OUTPUT ||
		   p->type == V4L2_BUF_TYPE_VIDEO_OUTPUT_MPLANE) {
		mp_caps = V4L2_CAP_VIDEO_OUTPUT_MPLANE |
			  V4L2_CAP_VIDEO_M2M_MPLANE;
		if (!!(k->c->device_caps & mp_caps) !=
		    (p->type == V4L2_BUF_TYPE_VIDEO_OUTPUT_MPLANE))
			return -EINVAL;
	} else if (p->type != V4L2_BUF_TYPE_VIDEO_OVERLAY &&
		   p->type != V4L2_BUF_TYPE_SDR_CAPTURE &&
		   p->type != V4L2_BUF_TYPE_SDR_OUTPUT &&
		   p->type != V4L2_BUF_TYPE_META_CAPTURE &&
		   p->type != V4L2_BUF_TYPE_META_OUTPUT) {
		return -EINVAL; /* no enum_fmt op for VBI types */
	}
	r = vg_v4l2_forward(k);
	if (r == 0)
		vg_fill_fmtdesc(p);
	return r;
}

static bool is_pix(uint32_t type)
{
	return type == V4L2_BUF_TYPE_VIDEO_CAPTURE ||
	       type == V4L2_BUF_TYPE_VIDEO_OUTPUT;
}

int vg_v4l2_g_fmt(struct vg_call *k)
{
	struct v4l2_format *p = k->p;
	int r = vg_v4l2_check_fmt(k->c, p->type);

	if (r)
		return r;
	if (p->type == V4L2_BUF_TYPE_VIDEO_OVERLAY ||
	    p->type == V4L2_BUF_TYPE_VIDEO_OUTPUT_OVERLAY) {
		struct v4l2_window w = p->fmt.win;

		memset(&p->fmt, 0, sizeof(p->fmt));
		p->fmt.win.clips = w.clips;
		p->fmt.win.clipcount = w.clipcount;
		p->fmt.win.bitmap = w.bitmap;
	} else {
		memset(&p->fmt, 0, sizeof(p->fmt));
	}
	if (is_pix(p->type))
		p->fmt.pix.priv = V4L2_PIX_FMT_PRIV_MAGIC;
	r = vg_v4l2_forward(k);
	if (is_pix(p->type))
		p->fmt.pix.priv = V4L2_PIX_FMT_PRIV_MAGIC;
	return r;
}

/* The per-type part of v4l_s_fmt/v4l_try_fmt's clearing. */
static void clear_fmt(struct v4l2_format *p)
{
	switch (p->type) {
	case V4L2_BUF_TYPE_VIDEO_CAPTURE:
	case V4L2_BUF_TYPE_VIDEO_OUTPUT:
		CLEAR_AFTER(p, fmt.pix);
		break;
	case V4L2_BUF_TYPE_VIDEO_CAPTURE_MPLANE:
	case V4L2_BUF_TYPE_VIDEO_OUTPUT_MPLANE:
		CLEAR_AFTER(p, fmt.pix_mp.xfer_func);
		for (unsigned i = 0; i < p->fmt.pix_mp.num_planes; i++)
			CLEAR_AFTER(&p->fmt.pix_mp.plane_fmt[i], bytesperline);
		break;
	case V4L2_BUF_TYPE_VIDEO_OVERLAY:
	case V4L2_BUF_TYPE_VIDEO_OUTPUT_OVERLAY:
		CLEAR_AFTER(p, fmt.win);
		break;
	case V4L2_BUF_TYPE_VBI_CAPTURE:
	case V4L2_BUF_TYPE_VBI_OUTPUT:
		CLEAR_AFTER(p, fmt.vbi.flags);
		break;
	case V4L2_BUF_TYPE_SLICED_VBI_CAPTURE:
	case V4L2_BUF_TYPE_SLICED_VBI_OUTPUT:
		CLEAR_AFTER(p, fmt.sliced.io_size);
		break;
	case V4L2_BUF_TYPE_SDR_CAPTURE:
	case V4L2_BUF_TYPE_SDR_OUTPUT:
		CLEAR_AFTER(p, fmt.sdr.buffersize);
		break;
	default: /* META */
		CLEAR_AFTER(p, fmt.meta);
		break;
	}
}

int vg_v4l2_s_fmt(struct vg_call *k)
{
	struct v4l2_format *p = k->p;
	int r = vg_v4l2_check_fmt(k->c, p->type);

	if (r)
		return r;
	vg_v4l2_sanitize_format(p);
	clear_fmt(p);
	r = vg_v4l2_forward(k);
	if (is_pix(p->type))
		p->fmt.pix.priv = V4L2_PIX_FMT_PRIV_MAGIC;
	return r;
}

/* ---- identity and priority ---- */

int vg_v4l2_querycap(struct vg_call *k)
{
	struct v4l2_capability *cap = k->p;
	const struct vg_core *c = k->c;

	/* v4l_querycap, then the driver's virtio_media_querycap. */
	cap->version = c->version;
	snprintf((char *)cap->bus_info, sizeof(cap->bus_info), "%s",
		 "platform:virtio-media");
	snprintf((char *)cap->driver, sizeof(cap->driver), "%s", c->driver);
	memcpy(cap->card, c->m->config.card, sizeof(cap->card));
	cap->device_caps = c->device_caps;
	cap->capabilities = c->device_caps | V4L2_CAP_DEVICE_CAPS;
	cap->capabilities |= V4L2_CAP_EXT_PIX_FORMAT;
	cap->device_caps |= V4L2_CAP_EXT_PIX_FORMAT;
	return 0;
}

int vg_v4l2_g_priority(struct vg_call *k)
{
	*(uint32_t *)k->p = vg_core_prio_max(k->c);
	return 0;
}

/* v4l2_prio_change() */
int vg_v4l2_s_priority(struct vg_call *k)
{
	uint32_t want = *(uint32_t *)k->p;
	struct vg_file *f = k->f;

	if (want < V4L2_PRIORITY_BACKGROUND || want > V4L2_PRIORITY_RECORD)
		return -EINVAL;
	if (f->prio == want)
		return 0;
	k->c->prios[want]++;
	if (k->c->prios[f->prio])
		k->c->prios[f->prio]--;
	f->prio = want;
	return 0;
}

/* ---- streaming parameters and decoder commands ---- */

int vg_v4l2_g_parm(struct vg_call *k)
{
	struct v4l2_streamparm *p = k->p;
	int r = vg_v4l2_check_fmt(k->c, p->type);

	return r ? r : vg_v4l2_forward(k);
}

int vg_v4l2_s_parm(struct vg_call *k)
{
	struct v4l2_streamparm *p = k->p;
	int r = vg_v4l2_check_fmt(k->c, p->type);

	if (r)
		return r;
	if (vg_type_is_output(p->type)) {
		memset(p->parm.output.reserved, 0,
		       sizeof(p->parm.output.reserved));
		p->parm.output.extendedmode = 0;
		p->parm.output.outputmode &= V4L2_MODE_HIGHQUALITY;
	} else {
		memset(p->parm.capture.reserved, 0,
		       sizeof(p->parm.capture.reserved));
		p->parm.capture.extendedmode = 0;
		p->parm.capture.capturemode &= V4L2_MODE_HIGHQUALITY;
	}
	return vg_v4l2_forward(k);
}

int vg_v4l2_decoder_cmd(struct vg_call *k)
{
	struct v4l2_decoder_cmd *cmd = k->p;
	int r = vg_v4l2_forward(k);

	/* A START makes the CAPTURE queue dequeue again after LAST. */
	if (r == 0 && cmd->cmd == V4L2_DEC_CMD_START) {
		k->f->q[V4L2_BUF_TYPE_VIDEO_CAPTURE].is_capture_last = false;
		k->f->q[V4L2_BUF_TYPE_VIDEO_CAPTURE_MPLANE].is_capture_last =
			false;
	}
	return r;
}

int vg_v4l2_sliced_vbi_cap(struct vg_call *k)
{
	struct v4l2_sliced_vbi_cap *p = k->p;
	int r = vg_v4l2_check_fmt(k->c, p->type);

	if (r)
		return r;
	memset(p, 0, offsetof(struct v4l2_sliced_vbi_cap, type));
	return vg_v4l2_forward(k);
}
