/* SPDX-License-Identifier: MIT */
/*
 * The V4L2 core's ioctl entry (video_usercopy and __video_do_ioctl in
 * drivers/media/v4l2-core/v4l2-ioctl.c, determine_valid_ioctls in
 * v4l2-dev.c) for the virtio-media driver's set of ops, plus the driver's
 * own S_STD/ENUMSTD/QUERYSTD detour around it (virtio_media_device_ioctl).
 *
 * The argument is copied in (only up to the INFO_FL_CLEAR field, the rest
 * zeroed; nothing for _IOR), arrays behind it (planes, controls) are
 * copied in too, the ioctl must be valid for this node and pass the
 * priority check, then the handler runs on the copies; results go back
 * on success, or always for ioctls with arrays or ALWAYS_COPY.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "vg_core_priv.h"
#include "vg_uaccess.h"

#define FL_PRIO	       1u
#define FL_ALWAYS_COPY 2u

/* INFO_FL_CLEAR: bytes up to and including `field` are the input. */
#define CLR(type, field) \
	(offsetof(struct type, field) + sizeof(((struct type *)0)->field))

struct info {
	unsigned cmd;
	uint8_t flags;
	uint16_t clear;
	int (*fn)(struct vg_call *k);
};

#define I(c, f, fl, cl) \
	[_IOC_NR(c)] = { .cmd = (c), .fn = (f), .flags = (fl), .clear = (cl) }

/* fn NULL: the driver has no op, so the ioctl is never valid. */
static const struct info infos[VG_IOCTLS] = {
	I(VIDIOC_QUERYCAP, vg_v4l2_querycap, 0, 0),
	I(VIDIOC_ENUM_FMT, vg_v4l2_enum_fmt, 0, 0),
	I(VIDIOC_G_FMT, vg_v4l2_g_fmt, 0, 0),
	I(VIDIOC_S_FMT, vg_v4l2_s_fmt, FL_PRIO, 0),
	I(VIDIOC_REQBUFS, vg_buf_reqbufs, FL_PRIO, 0),
	I(VIDIOC_QUERYBUF, vg_buf_querybuf, 0, CLR(v4l2_buffer, length)),
	I(VIDIOC_G_FBUF, NULL, 0, 0),
	I(VIDIOC_S_FBUF, NULL, FL_PRIO, 0),
	I(VIDIOC_OVERLAY, NULL, FL_PRIO, 0),
	I(VIDIOC_QBUF, vg_buf_qbuf, 0, 0),
	I(VIDIOC_EXPBUF, NULL, 0, CLR(v4l2_exportbuffer, flags)),
	I(VIDIOC_DQBUF, vg_buf_dqbuf, 0, 0),
	I(VIDIOC_STREAMON, vg_buf_streamon, FL_PRIO, 0),
	I(VIDIOC_STREAMOFF, vg_buf_streamoff, FL_PRIO, 0),
	I(VIDIOC_G_PARM, vg_v4l2_g_parm, 0, CLR(v4l2_streamparm, type)),
	I(VIDIOC_S_PARM, vg_v4l2_s_parm, FL_PRIO, 0),
	I(VIDIOC_G_STD, vg_v4l2_forward, 0, 0),
	I(VIDIOC_S_STD, vg_v4l2_forward, FL_PRIO, 0),
	I(VIDIOC_ENUMSTD, vg_v4l2_forward, 0, CLR(v4l2_standard, index)),
	I(VIDIOC_ENUMINPUT, vg_v4l2_enuminput, 0, CLR(v4l2_input, index)),
	I(VIDIOC_G_CTRL, vg_v4l2_ctrl, 0, CLR(v4l2_control, id)),
	I(VIDIOC_S_CTRL, vg_v4l2_ctrl, FL_PRIO, 0),
	I(VIDIOC_G_TUNER, vg_v4l2_tuner, 0, CLR(v4l2_tuner, index)),
	I(VIDIOC_S_TUNER, vg_v4l2_tuner, FL_PRIO, 0),
	I(VIDIOC_G_AUDIO, vg_v4l2_forward, 0, 0),
	I(VIDIOC_S_AUDIO, vg_v4l2_forward, FL_PRIO, 0),
	I(VIDIOC_QUERYCTRL, vg_v4l2_queryctrl, 0, CLR(v4l2_queryctrl, id)),
	I(VIDIOC_QUERYMENU, vg_v4l2_forward, 0, CLR(v4l2_querymenu, index)),
	I(VIDIOC_G_INPUT, vg_v4l2_io_index, 0, 0),
	I(VIDIOC_S_INPUT, vg_v4l2_io_index, FL_PRIO, 0),
	I(VIDIOC_G_EDID, NULL, FL_ALWAYS_COPY, 0),
	I(VIDIOC_S_EDID, NULL, FL_PRIO | FL_ALWAYS_COPY, 0),
	I(VIDIOC_G_OUTPUT, vg_v4l2_io_index, 0, 0),
	I(VIDIOC_S_OUTPUT, vg_v4l2_io_index, FL_PRIO, 0),
	I(VIDIOC_ENUMOUTPUT, vg_v4l2_enumoutput, 0, CLR(v4l2_output, index)),
	I(VIDIOC_G_AUDOUT, vg_v4l2_forward, 0, 0),
	I(VIDIOC_S_AUDOUT, vg_v4l2_forward, FL_PRIO, 0),
	I(VIDIOC_G_MODULATOR, vg_v4l2_tuner, 0, CLR(v4l2_modulator, index)),
	I(VIDIOC_S_MODULATOR, vg_v4l2_tuner, FL_PRIO, 0),
	I(VIDIOC_G_FREQUENCY, vg_v4l2_frequency, 0, CLR(v4l2_frequency, tuner)),
	I(VIDIOC_S_FREQUENCY, vg_v4l2_frequency, FL_PRIO, 0),
	I(VIDIOC_CROPCAP, vg_v4l2_cropcap, 0, CLR(v4l2_cropcap, type)),
	I(VIDIOC_G_CROP, vg_v4l2_crop, 0, CLR(v4l2_crop, type)),
	I(VIDIOC_S_CROP, vg_v4l2_crop, FL_PRIO, 0),
	I(VIDIOC_G_SELECTION, vg_v4l2_selection, 0, CLR(v4l2_selection, r)),
	I(VIDIOC_S_SELECTION, vg_v4l2_selection, FL_PRIO,
	  CLR(v4l2_selection, r)),
	I(VIDIOC_G_JPEGCOMP, NULL, 0, 0),
	I(VIDIOC_S_JPEGCOMP, NULL, FL_PRIO, 0),
	I(VIDIOC_QUERYSTD, vg_v4l2_forward, 0, 0),
	I(VIDIOC_TRY_FMT, vg_v4l2_s_fmt, 0, 0),
	I(VIDIOC_ENUMAUDIO, vg_v4l2_forward, 0, CLR(v4l2_audio, index)),
	I(VIDIOC_ENUMAUDOUT, vg_v4l2_forward, 0, CLR(v4l2_audioout, index)),
	I(VIDIOC_G_PRIORITY, vg_v4l2_g_priority, 0, 0),
	I(VIDIOC_S_PRIORITY, vg_v4l2_s_priority, FL_PRIO, 0),
	I(VIDIOC_G_SLICED_VBI_CAP, vg_v4l2_sliced_vbi_cap, 0,
	  CLR(v4l2_sliced_vbi_cap, type)),
	I(VIDIOC_LOG_STATUS, NULL, 0, 0),
	I(VIDIOC_G_EXT_CTRLS, vg_ext_ctrls, 0, 0),
	I(VIDIOC_S_EXT_CTRLS, vg_ext_ctrls, FL_PRIO, 0),
	I(VIDIOC_TRY_EXT_CTRLS, vg_ext_ctrls, 0, 0),
	I(VIDIOC_ENUM_FRAMESIZES, vg_v4l2_forward, 0,
	  CLR(v4l2_frmsizeenum, pixel_format)),
	I(VIDIOC_ENUM_FRAMEINTERVALS, vg_v4l2_forward, 0,
	  CLR(v4l2_frmivalenum, height)),
	I(VIDIOC_G_ENC_INDEX, vg_v4l2_forward, 0, 0),
	I(VIDIOC_ENCODER_CMD, vg_v4l2_forward, FL_PRIO,
	  CLR(v4l2_encoder_cmd, flags)),
	I(VIDIOC_TRY_ENCODER_CMD, vg_v4l2_forward, 0,
	  CLR(v4l2_encoder_cmd, flags)),
	I(VIDIOC_DECODER_CMD, vg_v4l2_decoder_cmd, FL_PRIO, 0),
	I(VIDIOC_TRY_DECODER_CMD, vg_v4l2_forward, 0, 0),
	I(VIDIOC_DBG_S_REGISTER, NULL, 0, 0),
	I(VIDIOC_DBG_G_REGISTER, NULL, 0, 0),
	I(VIDIOC_S_HW_FREQ_SEEK, vg_v4l2_hw_freq_seek, FL_PRIO, 0),
	I(VIDIOC_S_DV_TIMINGS, vg_v4l2_forward, FL_PRIO,
	  CLR(v4l2_dv_timings, bt.flags)),
	I(VIDIOC_G_DV_TIMINGS, vg_v4l2_forward, 0, 0),
	I(VIDIOC_DQEVENT, vg_event_dqevent, 0, 0),
	I(VIDIOC_SUBSCRIBE_EVENT, vg_event_subscribe, 0, 0),
	I(VIDIOC_UNSUBSCRIBE_EVENT, vg_event_unsubscribe, 0, 0),
	I(VIDIOC_CREATE_BUFS, vg_buf_create_bufs, FL_PRIO, 0),
	I(VIDIOC_PREPARE_BUF, vg_buf_qbuf, 0, 0),
	I(VIDIOC_ENUM_DV_TIMINGS, vg_v4l2_forward, 0,
	  CLR(v4l2_enum_dv_timings, pad)),
	I(VIDIOC_QUERY_DV_TIMINGS, vg_v4l2_forward, FL_ALWAYS_COPY, 0),
	I(VIDIOC_DV_TIMINGS_CAP, vg_v4l2_forward, 0,
	  CLR(v4l2_dv_timings_cap, pad)),
	I(VIDIOC_ENUM_FREQ_BANDS, vg_v4l2_enum_freq_bands, 0, 0),
	I(VIDIOC_DBG_G_CHIP_INFO, NULL, 0, CLR(v4l2_dbg_chip_info, match)),
	I(VIDIOC_QUERY_EXT_CTRL, vg_v4l2_forward, 0,
	  CLR(v4l2_query_ext_ctrl, id)),
};

static const struct info *known(unsigned cmd)
{
	unsigned nr = _IOC_NR(cmd);

	if (_IOC_TYPE(cmd) != 'V' || nr >= VG_IOCTLS || infos[nr].cmd != cmd)
		return NULL;
	return &infos[nr];
}

/* ---- valid ioctls: determine_valid_ioctls() for the driver's ops ---- */

static void set_valid(struct vg_core *c, unsigned cmd)
{
	unsigned nr = _IOC_NR(cmd);

	if (infos[nr].fn)
		c->valid[nr / 8] |= (uint8_t)(1u << (nr % 8));
}

static void set_valid_list(struct vg_core *c, const unsigned *cmds, size_t n)
{
	for (size_t i = 0; i < n; i++)
		set_valid(c, cmds[i]);
}

#define SET_ALL(c, ...)                                            \
	do {                                                       \
		static const unsigned l_[] = { __VA_ARGS__ };      \
		set_valid_list(c, l_, sizeof(l_) / sizeof(l_[0])); \
	} while (0)

static void valid_common(struct vg_core *c, bool is_tch)
{
	SET_ALL(c, VIDIOC_QUERYCAP, VIDIOC_G_PRIORITY, VIDIOC_S_PRIORITY,
		VIDIOC_QUERYCTRL, VIDIOC_QUERY_EXT_CTRL, VIDIOC_G_CTRL,
		VIDIOC_S_CTRL, VIDIOC_G_EXT_CTRLS, VIDIOC_S_EXT_CTRLS,
		VIDIOC_TRY_EXT_CTRLS, VIDIOC_QUERYMENU, VIDIOC_DQEVENT,
		VIDIOC_SUBSCRIBE_EVENT, VIDIOC_UNSUBSCRIBE_EVENT,
		VIDIOC_ENUM_FREQ_BANDS);
	if (!is_tch)
		SET_ALL(c, VIDIOC_G_FREQUENCY, VIDIOC_S_FREQUENCY);
}

static void valid_formats(struct vg_core *c)
{
	SET_ALL(c, VIDIOC_ENUM_FMT, VIDIOC_G_FMT, VIDIOC_S_FMT, VIDIOC_TRY_FMT);
}

static void valid_video(struct vg_core *c)
{
	/* The driver has every format op, for either direction. */
	valid_formats(c);
	SET_ALL(c, VIDIOC_G_ENC_INDEX, VIDIOC_ENCODER_CMD,
		VIDIOC_TRY_ENCODER_CMD, VIDIOC_DECODER_CMD,
		VIDIOC_TRY_DECODER_CMD, VIDIOC_ENUM_FRAMESIZES,
		VIDIOC_ENUM_FRAMEINTERVALS, VIDIOC_G_CROP, VIDIOC_CROPCAP,
		VIDIOC_S_CROP, VIDIOC_G_SELECTION, VIDIOC_S_SELECTION);
}

static void valid_streaming(struct vg_core *c)
{
	SET_ALL(c, VIDIOC_REQBUFS, VIDIOC_QUERYBUF, VIDIOC_QBUF, VIDIOC_DQBUF,
		VIDIOC_CREATE_BUFS, VIDIOC_PREPARE_BUF, VIDIOC_STREAMON,
		VIDIOC_STREAMOFF);
}

static void valid_vid_vbi_meta(struct vg_core *c)
{
	SET_ALL(c, VIDIOC_ENUMSTD, VIDIOC_S_STD, VIDIOC_G_STD, VIDIOC_G_PARM,
		VIDIOC_S_PARM, VIDIOC_S_DV_TIMINGS, VIDIOC_G_DV_TIMINGS,
		VIDIOC_ENUM_DV_TIMINGS, VIDIOC_DV_TIMINGS_CAP);
	if (c->is_rx)
		SET_ALL(c, VIDIOC_QUERYSTD, VIDIOC_ENUMINPUT, VIDIOC_G_INPUT,
			VIDIOC_S_INPUT, VIDIOC_ENUMAUDIO, VIDIOC_G_AUDIO,
			VIDIOC_S_AUDIO, VIDIOC_QUERY_DV_TIMINGS);
	if (c->is_tx)
		SET_ALL(c, VIDIOC_ENUMOUTPUT, VIDIOC_G_OUTPUT, VIDIOC_S_OUTPUT,
			VIDIOC_ENUMAUDOUT, VIDIOC_G_AUDOUT, VIDIOC_S_AUDOUT);
}

void vg_core_init_valid(struct vg_core *c)
{
	const uint32_t vid_caps =
		V4L2_CAP_VIDEO_CAPTURE | V4L2_CAP_VIDEO_CAPTURE_MPLANE |
		V4L2_CAP_VIDEO_OUTPUT | V4L2_CAP_VIDEO_OUTPUT_MPLANE |
		V4L2_CAP_VIDEO_M2M | V4L2_CAP_VIDEO_M2M_MPLANE;
	const uint32_t meta_caps = V4L2_CAP_META_CAPTURE | V4L2_CAP_META_OUTPUT;
	/* enum vfl_devnode_type: VIDEO 0, VBI 1, RADIO 2, SUBDEV 3, SDR 4 */
	bool is_vid = c->vfl_type == 0 && (c->device_caps & vid_caps);
	bool is_meta = c->vfl_type == 0 && (c->device_caps & meta_caps);
	bool is_vbi = c->vfl_type == 1, is_radio = c->vfl_type == 2;
	bool is_sdr = c->vfl_type == 4, is_tch = c->vfl_type == 5;

	memset(c->valid, 0, sizeof(c->valid));
	valid_common(c, is_tch);
	if (is_vid)
		valid_video(c);
	if (is_meta || is_tch || is_sdr)
		valid_formats(c);
	if (is_vbi) {
		valid_formats(c);
		set_valid(c, VIDIOC_G_SLICED_VBI_CAP);
	}
	if (is_tch)
		SET_ALL(c, VIDIOC_G_PARM, VIDIOC_ENUM_FRAMESIZES,
			VIDIOC_ENUM_FRAMEINTERVALS, VIDIOC_ENUMINPUT,
			VIDIOC_G_INPUT, VIDIOC_S_INPUT);
	if (c->device_caps & V4L2_CAP_STREAMING)
		valid_streaming(c);
	if (is_vid || is_vbi || is_meta)
		valid_vid_vbi_meta(c);
	if (c->is_tx && (is_radio || is_sdr))
		SET_ALL(c, VIDIOC_G_MODULATOR, VIDIOC_S_MODULATOR);
	if (c->is_rx && !is_tch)
		SET_ALL(c, VIDIOC_G_TUNER, VIDIOC_S_TUNER,
			VIDIOC_S_HW_FREQ_SEEK);
}

bool vg_core_is_valid(const struct vg_core *c, unsigned long cmd)
{
	unsigned nr = _IOC_NR(cmd);

	return known((unsigned)cmd) && (c->valid[nr / 8] & (1u << (nr % 8)));
}

/* ---- the driver's detour: S_STD, ENUMSTD, QUERYSTD ---- */

/*
 * virtio_media_device_ioctl() sends these before video_ioctl2() sees
 * them (no valid or priority check), and a bad pointer is -EINVAL there.
 */
static int std_detour(struct vg_file *f, unsigned cmd, void *arg)
{
	union {
		v4l2_std_id id;
		struct v4l2_standard std;
	} u = { 0 };
	size_t n = cmd == VIDIOC_ENUMSTD ? sizeof(u.std) : sizeof(u.id);
	int r;

	if (cmd != VIDIOC_QUERYSTD && vg_copy_from_user(&u, arg, n))
		return -EINVAL;
	if (cmd == VIDIOC_S_STD)
		return vg_send_ioctl(f, cmd, &u, n, 0);
	r = vg_send_ioctl(f, cmd, &u, cmd == VIDIOC_ENUMSTD ? n : 0, n);
	if (r == 0 && vg_copy_to_user(arg, &u, n))
		r = -EINVAL;
	return r;
}

/* ---- video_usercopy ---- */

struct args {
	unsigned cmd;
	void *uarg;	 /* the application's argument */
	void *p;	 /* our copy */
	void *uarray;	 /* the application's array, if any */
	void *array;	 /* our copy of it */
	size_t array_sz; /* its size */
};

/* check_array_args(): 1 with the array described, 0 without, or -errno. */
static int array_of(struct args *a)
{
	struct v4l2_buffer *b = a->p;
	struct v4l2_ext_controls *x = a->p;

	switch (a->cmd) {
	case VIDIOC_PREPARE_BUF:
	case VIDIOC_QUERYBUF:
	case VIDIOC_QBUF:
	case VIDIOC_DQBUF:
		if (!vg_type_is_mplane(b->type) || b->length == 0)
			return 0;
		if (b->length > VIDEO_MAX_PLANES)
			return -EINVAL;
		a->uarray = b->m.planes;
		a->array_sz = sizeof(struct v4l2_plane) * b->length;
		return 1;
	case VIDIOC_G_EXT_CTRLS:
	case VIDIOC_S_EXT_CTRLS:
	case VIDIOC_TRY_EXT_CTRLS:
		if (x->count == 0)
			return 0;
		if (x->count > V4L2_CID_MAX_CTRLS)
			return -EINVAL;
		a->uarray = x->controls;
		a->array_sz = sizeof(struct v4l2_ext_control) * x->count;
		return 1;
	default:
		return 0;
	}
}

/* Point the copied argument at our copy of the array (or back). */
static void set_array_ptr(struct args *a, void *ptr)
{
	if (a->cmd == VIDIOC_G_EXT_CTRLS || a->cmd == VIDIOC_S_EXT_CTRLS ||
	    a->cmd == VIDIOC_TRY_EXT_CTRLS)
		((struct v4l2_ext_controls *)a->p)->controls = ptr;
	else
		((struct v4l2_buffer *)a->p)->m.planes = ptr;
}

static int copy_in(struct args *a, const struct info *in)
{
	size_t size = _IOC_SIZE(a->cmd), n = size;
	int r;

	if (!(_IOC_DIR(a->cmd) & _IOC_WRITE)) {
		memset(a->p, 0, size);
		return 0;
	}
	if (in && in->clear)
		n = in->clear;
	if (vg_copy_from_user(a->p, a->uarg, n))
		return -EFAULT;
	memset((uint8_t *)a->p + n, 0, size - n);
	r = array_of(a);
	if (r <= 0)
		return r;
	a->array = malloc(a->array_sz);
	if (!a->array)
		return -ENOMEM;
	if (vg_copy_from_user(a->array, a->uarray, a->array_sz))
		return -EFAULT;
	set_array_ptr(a, a->array);
	return 0;
}

static int copy_out(struct args *a, int err, const struct info *in)
{
	if (a->array) {
		set_array_ptr(a, a->uarray);
		if (vg_copy_to_user(a->uarray, a->array, a->array_sz))
			err = -EFAULT;
	} else if (err < 0 && !(in && (in->flags & FL_ALWAYS_COPY))) {
		return err;
	}
	if ((_IOC_DIR(a->cmd) & _IOC_READ) &&
	    vg_copy_to_user(a->uarg, a->p, _IOC_SIZE(a->cmd)))
		err = -EFAULT;
	return err;
}

/* __video_do_ioctl: the valid and priority checks, then the handler. */
static int do_ioctl(struct vg_file *f, const struct info *in, struct args *a,
		    int fflags)
{
	struct vg_call k = {
		.c = f->c, .f = f, .cmd = a->cmd, .p = a->p, .fflags = fflags
	};

	if (!in || !vg_core_is_valid(f->c, a->cmd))
		return -ENOTTY;
	if ((in->flags & FL_PRIO) && f->prio < vg_core_prio_max(f->c))
		return -EBUSY;
	return in->fn(&k);
}

static int usercopy(struct vg_file *f, unsigned cmd, void *uarg, int fflags)
{
	const struct info *in = known(cmd);
	uint64_t small[64];
	struct args a = { .cmd = cmd, .uarg = uarg, .p = small };
	int r;

	if (_IOC_SIZE(cmd) > sizeof(small)) {
		a.p = malloc(_IOC_SIZE(cmd));
		if (!a.p)
			return -ENOMEM;
	}
	r = copy_in(&a, in);
	if (r == 0) {
		r = do_ioctl(f, in, &a, fflags);
		if (r != -ENOTTY)
			r = copy_out(&a, r, in);
	}
	free(a.array);
	if (a.p != small)
		free(a.p);
	return r;
}

int vg_core_ioctl(struct vg_file *f, unsigned long request, void *arg,
		  int fflags)
{
	struct vg_core *c = f->c;
	unsigned cmd = (unsigned)request; /* the kernel's cmd is 32 bits */
	int r;

	if (vg_core_forked())
		return -EIO;
	vg_core_lock(c);
	vg_core_pump(c);
	if (c->broken)
		r = -EIO;
	else if (cmd == VIDIOC_S_STD || cmd == VIDIOC_ENUMSTD ||
		 cmd == VIDIOC_QUERYSTD)
		r = std_detour(f, cmd, arg);
	else
		r = usercopy(f, cmd, arg, fflags);
	vg_core_pump(c);
	vg_core_unlock(c);
	return r;
}
