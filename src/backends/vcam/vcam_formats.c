/* SPDX-License-Identifier: MIT */
/*
 * vcam formats: the format table, G/S/TRY_FMT, frame sizes and intervals,
 * G/S_PARM and the single camera input. TRY_FMT never fails on values: it
 * adjusts them as a capture driver does (unknown pixelformat -> the
 * default, sizes snapped to the nearest supported one, layout computed).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "backends/vcam/vcam.h"

/*
 * Descriptions are the kernel's (v4l_fill_fmtdesc), in the spelling both
 * v4l2-compliance 1.22 and 1.32 accept. Single-memory-plane formats come
 * first; the multi-memory-plane ones exist only for the mplane variant.
 */
static const struct vcam_fmt_info vcam_formats[] = {
	{ V4L2_PIX_FMT_YUYV, V4L2_PIX_FMT_YUYV, 1, false, "YUYV 4:2:2" },
	{ V4L2_PIX_FMT_UYVY, V4L2_PIX_FMT_UYVY, 1, false, "UYVY 4:2:2" },
	{ V4L2_PIX_FMT_NV12, V4L2_PIX_FMT_NV12, 1, false, "Y/CbCr 4:2:0" },
	{ V4L2_PIX_FMT_NV21, V4L2_PIX_FMT_NV21, 1, false, "Y/CrCb 4:2:0" },
	{ V4L2_PIX_FMT_NV16, V4L2_PIX_FMT_NV16, 1, false, "Y/CbCr 4:2:2" },
	{ V4L2_PIX_FMT_YUV420, V4L2_PIX_FMT_YUV420, 1, false,
	  "Planar YUV 4:2:0" },
	{ V4L2_PIX_FMT_YVU420, V4L2_PIX_FMT_YVU420, 1, false,
	  "Planar YVU 4:2:0" },
	{ V4L2_PIX_FMT_GREY, V4L2_PIX_FMT_GREY, 1, false, "8-bit Greyscale" },
	{ V4L2_PIX_FMT_RGB24, V4L2_PIX_FMT_RGB24, 1, true, "24-bit RGB 8-8-8" },
	{ V4L2_PIX_FMT_BGR24, V4L2_PIX_FMT_BGR24, 1, true, "24-bit BGR 8-8-8" },
	{ V4L2_PIX_FMT_XRGB32, V4L2_PIX_FMT_XRGB32, 1, true,
	  "32-bit XRGB 8-8-8-8" },
	/* multi-planar API only */
	{ V4L2_PIX_FMT_NV12M, V4L2_PIX_FMT_NV12, 2, false,
	  "Y/CbCr 4:2:0 (N-C)" },
	{ V4L2_PIX_FMT_NV21M, V4L2_PIX_FMT_NV21, 2, false,
	  "Y/CrCb 4:2:0 (N-C)" },
	{ V4L2_PIX_FMT_NV16M, V4L2_PIX_FMT_NV16, 2, false,
	  "Y/CbCr 4:2:2 (N-C)" },
	{ V4L2_PIX_FMT_YUV420M, V4L2_PIX_FMT_YUV420, 3, false,
	  "Planar YUV 4:2:0 (N-C)" },
	{ V4L2_PIX_FMT_YVU420M, V4L2_PIX_FMT_YVU420, 3, false,
	  "Planar YVU 4:2:0 (N-C)" },
};

static const struct v4l2_frmsize_discrete vcam_sizes[] = {
	{ 320, 240 },	{ 640, 480 },	{ 1280, 720 },
	{ 1920, 1080 }, { 3840, 2160 },
};

#define VCAM_DEFAULT_SIZE 1 /* 640x480 */

/* Frame rates every instance offers, fastest first. */
static const uint32_t vcam_std_fps[] = { 60, 50, 30, 25, 15, 10, 5 };

/* The single-memory-plane formats lead the table. */
static unsigned n_formats(const struct vcam_dev *dev)
{
	unsigned n = 0;

	if (dev->mplane)
		return ARRAY_SIZE(vcam_formats);
	while (n < ARRAY_SIZE(vcam_formats) && vcam_formats[n].mem_planes == 1)
		n++;
	return n;
}

static const struct vcam_fmt_info *find_format(const struct vcam_dev *dev,
					       uint32_t fourcc)
{
	for (unsigned i = 0; i < n_formats(dev); i++)
		if (vcam_formats[i].fourcc == fourcc)
			return &vcam_formats[i];
	return NULL;
}

static bool size_supported(uint32_t w, uint32_t h)
{
	for (unsigned i = 0; i < ARRAY_SIZE(vcam_sizes); i++)
		if (vcam_sizes[i].width == w && vcam_sizes[i].height == h)
			return true;
	return false;
}

static uint64_t dist(uint32_t a, uint32_t b)
{
	return a > b ? (uint64_t)a - b : (uint64_t)b - a;
}

/* The supported size nearest to w x h, as v4l2_find_nearest_size(). */
static const struct v4l2_frmsize_discrete *nearest_size(uint32_t w, uint32_t h)
{
	const struct v4l2_frmsize_discrete *best = &vcam_sizes[0];
	uint64_t best_err = UINT64_MAX;

	for (unsigned i = 0; i < ARRAY_SIZE(vcam_sizes); i++) {
		uint64_t err = dist(vcam_sizes[i].width, w) +
			       dist(vcam_sizes[i].height, h);

		if (err < best_err) {
			best_err = err;
			best = &vcam_sizes[i];
		}
	}
	return best;
}

/* Lay out info at w x h; every table size suits every table format. */
static int format_make(struct vcam_format *vf, const struct vcam_fmt_info *info,
		       uint32_t w, uint32_t h)
{
	int ret = tpg_format_init(&vf->tf, info->tpg_fourcc, w, h);

	if (ret)
		return ret;
	vf->info = info;
	if (info->mem_planes > 1 && info->mem_planes == vf->tf.n_planes) {
		vf->mem_planes = info->mem_planes;
		for (unsigned p = 0; p < vf->mem_planes; p++) {
			vf->bytesperline[p] = vf->tf.bytesperline[p];
			vf->sizeimage[p] = vf->tf.sizeimage[p];
		}
		return 0;
	}
	/* One memory plane holds all colour planes; V4L2 reports luma bpl. */
	vf->mem_planes = 1;
	vf->bytesperline[0] = vf->tf.bytesperline[0];
	vf->sizeimage[0] = vf->tf.total_size;
	return 0;
}

static void fill_colorimetry(const struct vcam_format *vf, uint32_t *cs,
			     uint32_t *ycbcr, uint32_t *quant, uint32_t *xfer)
{
	/* What the TPG draws: BT.601 limited YUV, full range RGB. */
	*cs = V4L2_COLORSPACE_SRGB;
	*ycbcr = V4L2_YCBCR_ENC_601;
	*quant = vf->info->is_rgb ? V4L2_QUANTIZATION_FULL_RANGE
				  : V4L2_QUANTIZATION_LIM_RANGE;
	*xfer = V4L2_XFER_FUNC_SRGB;
}

/* Write vf into f, every other byte of the format union zeroed. */
static void format_to_v4l2(const struct vcam_dev *dev,
			   const struct vcam_format *vf, struct v4l2_format *f)
{
	uint32_t cs, ycbcr, quant, xfer;

	fill_colorimetry(vf, &cs, &ycbcr, &quant, &xfer);
	memset(&f->fmt, 0, sizeof(f->fmt));
	if (dev->mplane) {
		struct v4l2_pix_format_mplane *mp = &f->fmt.pix_mp;

		mp->width = vf->tf.width;
		mp->height = vf->tf.height;
		mp->pixelformat = vf->info->fourcc;
		mp->field = V4L2_FIELD_NONE;
		mp->colorspace = cs;
		mp->num_planes = (uint8_t)vf->mem_planes;
		for (unsigned p = 0; p < vf->mem_planes; p++) {
			mp->plane_fmt[p].sizeimage = vf->sizeimage[p];
			mp->plane_fmt[p].bytesperline = vf->bytesperline[p];
		}
		mp->ycbcr_enc = (uint8_t)ycbcr;
		mp->quantization = (uint8_t)quant;
		mp->xfer_func = (uint8_t)xfer;
		return;
	}
	f->fmt.pix.width = vf->tf.width;
	f->fmt.pix.height = vf->tf.height;
	f->fmt.pix.pixelformat = vf->info->fourcc;
	f->fmt.pix.field = V4L2_FIELD_NONE;
	f->fmt.pix.bytesperline = vf->bytesperline[0];
	f->fmt.pix.sizeimage = vf->sizeimage[0];
	f->fmt.pix.colorspace = cs;
	/* As the V4L2 core sets it: the fields after priv are valid. */
	f->fmt.pix.priv = V4L2_PIX_FMT_PRIV_MAGIC;
	f->fmt.pix.ycbcr_enc = ycbcr;
	f->fmt.pix.quantization = quant;
	f->fmt.pix.xfer_func = xfer;
}

/* Adjust the guest's request into a format we produce. */
static int format_try(const struct vcam_dev *dev, const struct v4l2_format *f,
		      struct vcam_format *vf)
{
	const struct v4l2_frmsize_discrete *sz;
	const struct vcam_fmt_info *info;
	uint32_t fourcc, w, h;

	if (f->type != dev->buf_type)
		return -EINVAL;
	if (dev->mplane) {
		fourcc = f->fmt.pix_mp.pixelformat;
		w = f->fmt.pix_mp.width;
		h = f->fmt.pix_mp.height;
	} else {
		fourcc = f->fmt.pix.pixelformat;
		w = f->fmt.pix.width;
		h = f->fmt.pix.height;
	}
	info = find_format(dev, fourcc);
	if (!info)
		info = &vcam_formats[0];
	sz = nearest_size(w, h);
	return format_make(vf, info, sz->width, sz->height);
}

void vcam_formats_init(struct vcam_dev *dev, uint32_t fps)
{
	const struct v4l2_frmsize_discrete *sz = &vcam_sizes[VCAM_DEFAULT_SIZE];
	bool added = false;

	/* Cannot fail: the default is a table entry at a table size. */
	(void)format_make(&dev->fmt, &vcam_formats[0], sz->width, sz->height);
	dev->n_rates = 0;
	for (unsigned i = 0; i < ARRAY_SIZE(vcam_std_fps); i++) {
		/* Slot the configured rate in, keeping fastest first. */
		if (!added && fps >= vcam_std_fps[i]) {
			dev->rates[dev->n_rates++] =
				(struct v4l2_fract){ 1, fps };
			added = true;
			if (fps == vcam_std_fps[i])
				continue;
		}
		dev->rates[dev->n_rates++] =
			(struct v4l2_fract){ 1, vcam_std_fps[i] };
	}
	if (!added)
		dev->rates[dev->n_rates++] = (struct v4l2_fract){ 1, fps };
	dev->default_tpf = (struct v4l2_fract){ 1, fps };
	dev->tpf = dev->default_tpf;
}

int vcam_enum_fmt(void *priv, struct v4l2_fmtdesc *f)
{
	const struct vcam_dev *dev = vcam_dev_of(priv);
	const struct vcam_fmt_info *info;
	uint32_t index = f->index, type = f->type;

	if (type != dev->buf_type || index >= n_formats(dev))
		return -EINVAL;
	info = &vcam_formats[index];
	memset(f, 0, sizeof(*f));
	f->index = index;
	f->type = type;
	f->pixelformat = info->fourcc;
	snprintf((char *)f->description, sizeof(f->description), "%s",
		 info->desc);
	return 0;
}

int vcam_g_fmt(void *priv, struct v4l2_format *f)
{
	const struct vcam_dev *dev = vcam_dev_of(priv);

	if (f->type != dev->buf_type)
		return -EINVAL;
	format_to_v4l2(dev, &dev->fmt, f);
	return 0;
}

int vcam_try_fmt(void *priv, struct v4l2_format *f)
{
	const struct vcam_dev *dev = vcam_dev_of(priv);
	struct vcam_format vf;
	int ret = format_try(dev, f, &vf);

	if (ret)
		return ret;
	format_to_v4l2(dev, &vf, f);
	return 0;
}

int vcam_s_fmt(void *priv, struct v4l2_format *f)
{
	struct vcam_dev *dev = vcam_dev_of(priv);
	struct vcam_format vf;
	int ret = format_try(dev, f, &vf);

	if (ret)
		return ret;
	/* As vb2_is_busy(): buffers were sized for the current format. */
	if (dev->q.n_bufs)
		return -EBUSY;
	dev->fmt = vf;
	format_to_v4l2(dev, &vf, f);
	return 0;
}

int vcam_enum_framesizes(void *priv, struct v4l2_frmsizeenum *f)
{
	const struct vcam_dev *dev = vcam_dev_of(priv);
	uint32_t index = f->index, fourcc = f->pixel_format;

	if (!find_format(dev, fourcc) || index >= ARRAY_SIZE(vcam_sizes))
		return -EINVAL;
	memset(f, 0, sizeof(*f));
	f->index = index;
	f->pixel_format = fourcc;
	f->type = V4L2_FRMSIZE_TYPE_DISCRETE;
	f->discrete = vcam_sizes[index];
	return 0;
}

int vcam_enum_frameintervals(void *priv, struct v4l2_frmivalenum *f)
{
	const struct vcam_dev *dev = vcam_dev_of(priv);
	uint32_t index = f->index, fourcc = f->pixel_format;
	uint32_t w = f->width, h = f->height;

	if (!find_format(dev, fourcc) || !size_supported(w, h) ||
	    index >= dev->n_rates)
		return -EINVAL;
	memset(f, 0, sizeof(*f));
	f->index = index;
	f->pixel_format = fourcc;
	f->width = w;
	f->height = h;
	f->type = V4L2_FRMIVAL_TYPE_DISCRETE;
	f->discrete = dev->rates[index];
	return 0;
}

/* |n/d - 1/fps| compared without division: |n * fps - d| / fps. */
static const struct v4l2_fract *nearest_rate(const struct vcam_dev *dev,
					     uint32_t n, uint32_t d)
{
	const struct v4l2_fract *best = &dev->rates[0];
	uint64_t best_num = UINT64_MAX, best_den = 1;

	for (unsigned i = 0; i < dev->n_rates; i++) {
		uint64_t fps = dev->rates[i].denominator;
		uint64_t nf = (uint64_t)n * fps;
		uint64_t num = nf > d ? nf - d : d - nf;

		/* num / fps < best_num / best_den */
		if (best_num == UINT64_MAX || num * best_den < best_num * fps) {
			best_num = num;
			best_den = fps;
			best = &dev->rates[i];
		}
	}
	return best;
}

static void parm_fill(const struct vcam_dev *dev, struct v4l2_streamparm *p)
{
	memset(&p->parm, 0, sizeof(p->parm));
	p->parm.capture.capability = V4L2_CAP_TIMEPERFRAME;
	p->parm.capture.timeperframe = dev->tpf;
}

int vcam_g_parm(void *priv, struct v4l2_streamparm *p)
{
	const struct vcam_dev *dev = vcam_dev_of(priv);

	if (p->type != dev->buf_type)
		return -EINVAL;
	parm_fill(dev, p);
	return 0;
}

int vcam_s_parm(void *priv, struct v4l2_streamparm *p)
{
	struct vcam_dev *dev = vcam_dev_of(priv);
	struct v4l2_fract want, got;

	if (p->type != dev->buf_type)
		return -EINVAL;
	want = p->parm.capture.timeperframe;
	/* A zero numerator or denominator asks for the default. */
	if (!want.numerator || !want.denominator)
		got = dev->default_tpf;
	else
		got = *nearest_rate(dev, want.numerator, want.denominator);
	if (got.numerator != dev->tpf.numerator ||
	    got.denominator != dev->tpf.denominator) {
		dev->tpf = got;
		vcam_stream_rate_changed(dev);
	}
	parm_fill(dev, p);
	return 0;
}

int vcam_enuminput(void *priv, struct v4l2_input *i)
{
	(void)priv;
	if (i->index != 0)
		return -EINVAL;
	memset(i, 0, sizeof(*i));
	snprintf((char *)i->name, sizeof(i->name), "Camera");
	i->type = V4L2_INPUT_TYPE_CAMERA;
	return 0;
}

int vcam_g_input(void *priv, uint32_t *i)
{
	(void)priv;
	*i = 0;
	return 0;
}

int vcam_s_input(void *priv, uint32_t *i)
{
	(void)priv;
	return *i == 0 ? 0 : -EINVAL;
}
