/* SPDX-License-Identifier: MIT */
/*
 * vcam's test pattern generator. Expected values come from the BT.601
 * equations and the V4L2 format layouts written out here, never from the
 * library, so a shared mistake cannot pass unnoticed.
 */
#include "backends/vcam/tpg.h"

#include <errno.h>
#include <linux/videodev2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tap.h"

/*
 * The layouts by hand: bytes per line of each plane in halves of the width,
 * the vertical chroma divisor, and the exact frame size at each test size.
 */
struct layout {
	uint32_t fourcc;
	const char *name;
	unsigned planes;
	unsigned bpl2[3];
	unsigned vdiv;	   /* rows of planes 1.. = height / vdiv */
	uint32_t total[3]; /* at 640x480, 1920x1080, 3840x2160 */
};

/* clang-format off */
static const struct layout layouts[] = {
	{ V4L2_PIX_FMT_YUYV, "YUYV", 1, { 4 }, 1, { 614400, 4147200, 16588800 } },
	{ V4L2_PIX_FMT_UYVY, "UYVY", 1, { 4 }, 1, { 614400, 4147200, 16588800 } },
	{ V4L2_PIX_FMT_NV12, "NV12", 2, { 2, 2 }, 2,
	  { 460800, 3110400, 12441600 } },
	{ V4L2_PIX_FMT_NV21, "NV21", 2, { 2, 2 }, 2,
	  { 460800, 3110400, 12441600 } },
	{ V4L2_PIX_FMT_NV16, "NV16", 2, { 2, 2 }, 1,
	  { 614400, 4147200, 16588800 } },
	{ V4L2_PIX_FMT_YUV420, "YU12", 3, { 2, 1, 1 }, 2,
	  { 460800, 3110400, 12441600 } },
	{ V4L2_PIX_FMT_YVU420, "YV12", 3, { 2, 1, 1 }, 2,
	  { 460800, 3110400, 12441600 } },
	{ V4L2_PIX_FMT_GREY, "GREY", 1, { 2 }, 1, { 307200, 2073600, 8294400 } },
	{ V4L2_PIX_FMT_RGB24, "RGB24", 1, { 6 }, 1,
	  { 921600, 6220800, 24883200 } },
	{ V4L2_PIX_FMT_BGR24, "BGR24", 1, { 6 }, 1,
	  { 921600, 6220800, 24883200 } },
	{ V4L2_PIX_FMT_XRGB32, "XRGB32", 1, { 8 }, 1,
	  { 1228800, 8294400, 33177600 } },
	{ V4L2_PIX_FMT_ARGB32, "ARGB32", 1, { 8 }, 1,
	  { 1228800, 8294400, 33177600 } },
};
/* clang-format on */

static const uint32_t sizes[][2] = { { 640, 480 },
				     { 1920, 1080 },
				     { 3840, 2160 } };

/* EBU 100/0/75/0 bars, left to right. */
static const int bar_rgb[8][3] = {
	{ 255, 255, 255 }, { 191, 191, 0 }, { 0, 191, 191 }, { 0, 191, 0 },
	{ 191, 0, 191 },   { 191, 0, 0 },   { 0, 0, 191 },   { 0, 0, 0 },
};

static const struct layout *cur; /* the format a parameterised case tests */

/* ---- helpers ------------------------------------------------------------ */

struct img {
	struct tpg_format f;
	uint8_t *buf;
	void *planes[TPG_MAX_PLANES];
	size_t sizes[TPG_MAX_PLANES];
};

static bool img_alloc(struct img *im, uint32_t fourcc, uint32_t w, uint32_t h)
{
	memset(im, 0, sizeof(*im));
	if (tpg_format_init(&im->f, fourcc, w, h))
		return false;
	im->buf = malloc(im->f.total_size);
	if (!im->buf)
		return false;
	tpg_split_buffer(&im->f, im->buf, im->planes, im->sizes);
	return true;
}

static int img_fill(struct img *im, const struct tpg *t, uint32_t seq,
		    uint64_t ts)
{
	size_t size = im->f.total_size;
	void *p[1] = { im->buf };

	return tpg_fill(t, &im->f, seq, ts, p, &size, 1);
}

static struct tpg gen(enum tpg_pattern pat, bool stamp)
{
	struct tpg t;
	struct tpg_settings s;

	tpg_init(&t);
	s = t.s;
	s.pattern = pat;
	s.stamp = stamp;
	tpg_set(&t, &s);
	return t;
}

static int rnd(double v)
{
	return (int)(v < 0 ? v - 0.5 : v + 0.5);
}

static int clampi(int v, int lo, int hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

/* BT.601, limited range, from the textbook matrix. */
static void bt601(const int c[3], double *y, double *cb, double *cr)
{
	*y = 16 + 219.0 * (0.299 * c[0] + 0.587 * c[1] + 0.114 * c[2]) / 255;
	*cb = 128 +
	      224.0 * (-0.168736 * c[0] - 0.331264 * c[1] + 0.5 * c[2]) / 255;
	*cr = 128 +
	      224.0 * (0.5 * c[0] - 0.418688 * c[1] - 0.081312 * c[2]) / 255;
}

/* The byte holding pixel (x, y)'s luma, or G for RGB (V4L2 layouts). */
static uint8_t *luma_at(const struct img *im, uint32_t x, uint32_t y)
{
	uint8_t *row = (uint8_t *)im->planes[0] + y * im->f.bytesperline[0];

	switch (im->f.fourcc) {
	case V4L2_PIX_FMT_YUYV:
		return row + x * 2;
	case V4L2_PIX_FMT_UYVY:
		return row + x * 2 + 1;
	case V4L2_PIX_FMT_RGB24:
	case V4L2_PIX_FMT_BGR24:
		return row + x * 3 + 1;
	case V4L2_PIX_FMT_XRGB32:
	case V4L2_PIX_FMT_ARGB32:
		return row + x * 4 + 1;
	default:
		return row + x;
	}
}

static void get_yuv(const struct img *im, uint32_t x, uint32_t y, int v[3])
{
	const struct tpg_format *f = &im->f;
	uint8_t *row = (uint8_t *)im->planes[0] + y * f->bytesperline[0];
	uint8_t *c1 = f->n_planes > 1 ? im->planes[1] : NULL;
	uint8_t *c2 = f->n_planes > 2 ? im->planes[2] : NULL;
	uint32_t cy = f->fourcc == V4L2_PIX_FMT_NV16 ? y : y / 2;
	uint32_t pair = (x & ~1u) * 2;

	v[0] = *luma_at(im, x, y);
	v[1] = v[2] = 128;
	if (f->fourcc == V4L2_PIX_FMT_YUYV || f->fourcc == V4L2_PIX_FMT_UYVY) {
		unsigned o = f->fourcc == V4L2_PIX_FMT_UYVY ? 0 : 1;

		v[1] = row[pair + o];
		v[2] = row[pair + o + 2];
	} else if (f->n_planes == 2) {
		uint8_t *c = c1 + cy * f->bytesperline[1] + x / 2 * 2;
		int swap = f->fourcc == V4L2_PIX_FMT_NV21;

		v[1] = c[swap];
		v[2] = c[!swap];
	} else if (f->n_planes == 3) {
		uint8_t *u = f->fourcc == V4L2_PIX_FMT_YUV420 ? c1 : c2;
		uint8_t *w = f->fourcc == V4L2_PIX_FMT_YUV420 ? c2 : c1;

		v[1] = u[cy * f->bytesperline[1] + x / 2];
		v[2] = w[cy * f->bytesperline[2] + x / 2];
	}
}

static void get_rgb(const struct img *im, uint32_t x, uint32_t y, int v[3])
{
	uint8_t *g = luma_at(im, x, y);
	bool bgr = im->f.fourcc != V4L2_PIX_FMT_RGB24;

	v[0] = bgr ? g[1] : g[-1];
	v[1] = g[0];
	v[2] = bgr ? g[-1] : g[1];
}

static bool is_rgb(uint32_t fourcc)
{
	return fourcc == V4L2_PIX_FMT_RGB24 || fourcc == V4L2_PIX_FMT_BGR24 ||
	       fourcc == V4L2_PIX_FMT_XRGB32 || fourcc == V4L2_PIX_FMT_ARGB32;
}

static uint32_t bar_centre(uint32_t w, unsigned i)
{
	return (uint32_t)((2 * i + 1) * (uint64_t)w / 16);
}

/* ---- formats ------------------------------------------------------------ */

static void test_sizes(void)
{
	for (unsigned s = 0; s < 3; s++) {
		uint32_t w = sizes[s][0], h = sizes[s][1], off = 0;
		struct tpg_format f;

		TAP_EQ(tpg_format_init(&f, cur->fourcc, w, h), 0);
		TAP_EQ(f.n_planes, cur->planes);
		TAP_EQ(f.total_size, cur->total[s]);
		for (unsigned p = 0; p < cur->planes; p++) {
			uint32_t rows = p ? h / cur->vdiv : h;

			TAP_EQ(f.bytesperline[p], w * cur->bpl2[p] / 2);
			TAP_EQ(f.sizeimage[p], w * cur->bpl2[p] / 2 * rows);
			TAP_EQ(f.offset[p], off);
			off += f.sizeimage[p];
		}
		TAP_EQ(off, f.total_size);
	}
}

static void test_bad_sizes(void)
{
	struct tpg_format f;

	TAP_EQ(tpg_format_init(&f, V4L2_PIX_FMT_NV12, 641, 480), -EINVAL);
	TAP_EQ(tpg_format_init(&f, V4L2_PIX_FMT_YUV420, 641, 480), -EINVAL);
	TAP_EQ(tpg_format_init(&f, V4L2_PIX_FMT_NV12, 640, 481), -EINVAL);
	TAP_EQ(tpg_format_init(&f, V4L2_PIX_FMT_YVU420, 640, 481), -EINVAL);
	TAP_EQ(tpg_format_init(&f, V4L2_PIX_FMT_YUYV, 641, 480), -EINVAL);
	TAP_EQ(tpg_format_init(&f, V4L2_PIX_FMT_NV16, 641, 480), -EINVAL);
	TAP_EQ(tpg_format_init(&f, V4L2_PIX_FMT_NV16, 640, 481), 0);
	TAP_EQ(tpg_format_init(&f, V4L2_PIX_FMT_RGB24, 641, 481), 0);
	TAP_EQ(tpg_format_init(&f, V4L2_PIX_FMT_NV12, 0, 480), -EINVAL);
	TAP_EQ(tpg_format_init(&f, V4L2_PIX_FMT_GREY, 640, 0), -EINVAL);
	TAP_EQ(tpg_format_init(&f, V4L2_PIX_FMT_MJPEG, 640, 480), -EINVAL);
	TAP_EQ(tpg_format_init(NULL, V4L2_PIX_FMT_NV12, 640, 480), -EINVAL);
	TAP_CHECK(!tpg_format_supported(V4L2_PIX_FMT_MJPEG), "MJPEG");
}

static void test_overflow_sizes(void)
{
	static const uint32_t big[] = { 8194, 65536, 0x80000000u, 0xfffffffeu };
	struct tpg_format f;

	for (size_t i = 0; i < sizeof(big) / sizeof(big[0]); i++) {
		TAP_EQ(tpg_format_init(&f, V4L2_PIX_FMT_XRGB32, big[i], 8),
		       -EINVAL);
		TAP_EQ(tpg_format_init(&f, V4L2_PIX_FMT_XRGB32, 8, big[i]),
		       -EINVAL);
		TAP_EQ(tpg_format_init(&f, V4L2_PIX_FMT_NV12, big[i], big[i]),
		       -EINVAL);
	}
	TAP_EQ(tpg_format_init(&f, V4L2_PIX_FMT_GREY, 8193, 1), -EINVAL);
	TAP_EQ(tpg_format_init(&f, V4L2_PIX_FMT_GREY, 1, UINT32_MAX), -EINVAL);
	TAP_EQ(tpg_format_init(&f, V4L2_PIX_FMT_XRGB32, 8192, 8192), 0);
	TAP_EQ(f.total_size, 8192u * 8192u * 4u);
}

/* ---- colours ------------------------------------------------------------ */

static void test_bars(void)
{
	struct tpg t = gen(TPG_PAT_BARS, true);
	struct img im;

	if (!img_alloc(&im, cur->fourcc, 640, 480)) {
		TAP_CHECK(0, "alloc");
		return;
	}
	TAP_EQ(img_fill(&im, &t, 0, 0), 0);
	for (unsigned i = 0; i < 8; i++) {
		uint32_t x = bar_centre(640, i);
		double e[3];
		int v[3];

		bt601(bar_rgb[i], &e[0], &e[1], &e[2]);
		if (is_rgb(cur->fourcc)) {
			get_rgb(&im, x, 240, v);
			for (int k = 0; k < 3; k++)
				TAP_EQ(v[k], bar_rgb[i][k]);
			continue;
		}
		get_yuv(&im, x, 240, v);
		TAP_EQ(v[0], rnd(e[0]));
		if (cur->fourcc == V4L2_PIX_FMT_GREY)
			continue;
		TAP_EQ(v[1], rnd(e[1]));
		TAP_EQ(v[2], rnd(e[2]));
	}
	if (cur->fourcc == V4L2_PIX_FMT_ARGB32)
		TAP_EQ(luma_at(&im, 100, 240)[2], 0xff); /* opaque alpha */
	free(im.buf);
}

/* Bars under `s`, checked against the textbook maths with the controls. */
static void check_controls(const struct tpg_settings *s)
{
	double c = s->contrast / 128.0, sat = c * s->saturation / 128.0;
	double hs = s->hue == 64 ? 1 : 0, hc = s->hue == 64 ? 0 : 1;
	struct tpg t;
	struct img im;

	TAP_CHECK(s->hue == 0 || s->hue == 64, "hue %d not modelled", s->hue);
	tpg_init(&t);
	TAP_EQ(tpg_set(&t, s), 0);
	if (!img_alloc(&im, V4L2_PIX_FMT_NV12, 640, 480)) {
		TAP_CHECK(0, "alloc");
		return;
	}
	TAP_EQ(img_fill(&im, &t, 0, 0), 0);
	for (unsigned i = 0; i < 8; i++) {
		double y, cb, cr;
		int v[3];

		bt601(bar_rgb[i], &y, &cb, &cr);
		cb -= 128;
		cr -= 128;
		get_yuv(&im, bar_centre(640, i), 300, v);
		TAP_EQ(v[0],
		       clampi(rnd(16 + (y - 16) * c + s->brightness - 128), 16,
			      235));
		TAP_EQ(v[1],
		       clampi(rnd(128 + sat * (cb * hc - cr * hs)), 16, 240));
		TAP_EQ(v[2],
		       clampi(rnd(128 + sat * (cb * hs + cr * hc)), 16, 240));
	}
	free(im.buf);
}

static void test_brightness_contrast(void)
{
	static const int b[] = { 160, 64, 128, 128, 200, 0 };
	static const int c[] = { 128, 128, 64, 200, 100, 255 };
	struct tpg_settings s;

	tpg_settings_default(&s);
	for (unsigned i = 0; i < sizeof(b) / sizeof(b[0]); i++) {
		s.brightness = b[i];
		s.contrast = c[i];
		check_controls(&s);
	}
}

static void test_saturation_hue(void)
{
	struct tpg_settings s;
	struct tpg t;

	tpg_settings_default(&s);
	s.saturation = 0;
	check_controls(&s);
	s.saturation = 200;
	check_controls(&s);
	s.saturation = 128;
	s.hue = 64; /* +90 degrees: (Cb, Cr) -> (-Cr, Cb) */
	check_controls(&s);
	tpg_init(&t);
	s.hue = 128;
	TAP_EQ(tpg_set(&t, &s), -EINVAL);
	s.hue = 0;
	s.contrast = 256;
	TAP_EQ(tpg_set(&t, &s), -EINVAL);
	s.contrast = 128;
	s.pattern = TPG_PAT_COUNT;
	TAP_EQ(tpg_set(&t, &s), -EINVAL);
	TAP_EQ(t.s.hue, 0);
	TAP_CHECK(tpg_pattern_name(TPG_PAT_NOISE) != NULL, "name");
	TAP_CHECK(tpg_pattern_name(TPG_PAT_COUNT) == NULL, "name");
}

static void test_to_rgb24(void)
{
	struct tpg t = gen(TPG_PAT_BARS, true);
	struct img im;
	uint8_t *rgb = malloc(640 * 480 * 3);

	if (!rgb || !img_alloc(&im, cur->fourcc, 640, 480)) {
		TAP_CHECK(0, "alloc");
		free(rgb);
		return;
	}
	TAP_EQ(img_fill(&im, &t, 0, 0), 0);
	TAP_EQ(tpg_to_rgb24(&im.f, im.planes, rgb, 640 * 480 * 3 - 1), -ENOSPC);
	TAP_EQ(tpg_to_rgb24(&im.f, im.planes, rgb, 640 * 480 * 3), 0);
	for (unsigned i = 0; i < 8; i++) {
		const uint8_t *px = rgb + (240 * 640 + bar_centre(640, i)) * 3;
		const int *e = bar_rgb[i];
		int grey = rnd(0.299 * e[0] + 0.587 * e[1] + 0.114 * e[2]);

		for (int k = 0; k < 3; k++) {
			int want =
				cur->fourcc == V4L2_PIX_FMT_GREY ? grey : e[k];

			TAP_CHECK(abs(px[k] - want) <= 2,
				  "bar %u channel %d: %d, want %d", i, k, px[k],
				  want);
		}
	}
	free(im.buf);
	free(rgb);
}

/* ---- the stamp ---------------------------------------------------------- */

static const uint32_t stamp_seq[] = { 0, 1, 0xffffffffu, 123456789 };
static const uint64_t stamp_ts[] = { 0, 33333333, UINT64_MAX,
				     1700000000123456789ull };

static void roundtrip(struct img *im, enum tpg_pattern pat)
{
	struct tpg t = gen(pat, true);

	for (unsigned i = 0; i < 4; i++) {
		uint32_t seq = 0;
		uint64_t ts = 0;

		TAP_EQ(img_fill(im, &t, stamp_seq[i], stamp_ts[i]), 0);
		TAP_EQ(tpg_read_stamp(&im->f, im->planes, &seq, &ts), 0);
		TAP_CHECK(seq == stamp_seq[i] && ts == stamp_ts[i],
			  "%s %ux%u: got %u/%llu, want %u/%llu", cur->name,
			  im->f.width, im->f.height, seq,
			  (unsigned long long)ts, stamp_seq[i],
			  (unsigned long long)stamp_ts[i]);
	}
}

static void test_stamp_roundtrip(void)
{
	for (unsigned s = 0; s < 3; s++) {
		struct img im;

		if (!img_alloc(&im, cur->fourcc, sizes[s][0], sizes[s][1])) {
			TAP_CHECK(0, "alloc");
			return;
		}
		roundtrip(&im, s == 1 ? TPG_PAT_NOISE : TPG_PAT_CHECKERS);
		free(im.buf);
	}
}

static void test_stamp_small(void)
{
	struct tpg t = gen(TPG_PAT_SOLID_WHITE, true);
	struct img im;

	cur = &layouts[2]; /* NV12 */
	if (img_alloc(&im, V4L2_PIX_FMT_NV12, 256, 32)) {
		roundtrip(&im, TPG_PAT_BARS); /* the documented minimum */
		free(im.buf);
	}
	if (img_alloc(&im, V4L2_PIX_FMT_RGB24, 257, 33)) {
		roundtrip(&im, TPG_PAT_SOLID_WHITE);
		free(im.buf);
	}
	if (img_alloc(&im, V4L2_PIX_FMT_NV12, 64, 32)) {
		TAP_EQ(img_fill(&im, &t, 5, 5), 0);
		TAP_EQ(tpg_read_stamp(&im.f, im.planes, NULL, NULL), -EBADMSG);
		free(im.buf);
	}
	if (img_alloc(&im, V4L2_PIX_FMT_NV12, 256, 30)) {
		TAP_EQ(img_fill(&im, &t, 5, 5), 0);
		TAP_EQ(tpg_read_stamp(&im.f, im.planes, NULL, NULL), -EBADMSG);
		free(im.buf);
	}
}

/* Inverting any one block must fail the sync or the CRC. */
static void test_stamp_corrupt(void)
{
	static const uint32_t fcc[] = { V4L2_PIX_FMT_NV12, V4L2_PIX_FMT_UYVY,
					V4L2_PIX_FMT_BGR24 };
	struct tpg t = gen(TPG_PAT_BARS, true), off = gen(TPG_PAT_BARS, false);
	struct img im;

	for (unsigned k = 0; k < 3; k++) {
		if (!img_alloc(&im, fcc[k], 640, 480))
			continue;
		TAP_EQ(img_fill(&im, &off, 9, 9), 0);
		TAP_EQ(tpg_read_stamp(&im.f, im.planes, NULL, NULL), -EBADMSG);
		for (unsigned bit = 0; bit < 128; bit += 7) {
			uint32_t bx = bit % 32 * 8, by = bit / 32 * 8;

			TAP_EQ(img_fill(&im, &t, 42, 4242), 0);
			for (uint32_t y = by; y < by + 8; y++)
				for (uint32_t x = bx; x < bx + 8; x++) {
					uint8_t *l = luma_at(&im, x, y);

					*l = *l > 128 ? 16 : 235;
				}
			TAP_CHECK(tpg_read_stamp(&im.f, im.planes, NULL,
						 NULL) == -EBADMSG,
				  "bit %u flipped still decodes", bit);
		}
		free(im.buf);
	}
}

/* ---- buffers ------------------------------------------------------------ */

#define GUARD 64

static bool untouched(const void *v, size_t n)
{
	const uint8_t *p = v;

	for (size_t i = 0; i < n; i++)
		if (p[i] != 0xA5)
			return false;
	return true;
}

static void test_nospc(void)
{
	struct tpg t = gen(TPG_PAT_MOVING_BOX, true);
	struct tpg_format f;
	void *b[3] = { NULL, NULL, NULL };
	size_t sz[3];

	TAP_EQ(tpg_format_init(&f, cur->fourcc, 640, 480), 0);
	for (unsigned p = 0; p < f.n_planes; p++) {
		b[p] = malloc(f.sizeimage[p] + GUARD);
		memset(b[p], 0xA5, f.sizeimage[p] + GUARD);
		sz[p] = f.sizeimage[p];
	}
	for (unsigned p = 0; p < f.n_planes; p++) {
		sz[p]--;
		TAP_EQ(tpg_fill(&t, &f, 1, 1, b, sz, f.n_planes), -ENOSPC);
		TAP_CHECK(untouched(b[p], f.sizeimage[p] + GUARD),
			  "plane %u written", p);
		sz[p]++;
	}
	TAP_EQ(tpg_fill(&t, &f, 1, 1, b, sz, f.n_planes + 1), -EINVAL);
	TAP_EQ(tpg_fill(&t, &f, 1, 1, b, sz, f.n_planes), 0);
	for (unsigned p = 0; p < f.n_planes; p++) {
		TAP_CHECK(untouched((uint8_t *)b[p] + f.sizeimage[p], GUARD),
			  "guard of plane %u", p);
		free(b[p]);
	}
	/* one contiguous buffer */
	b[0] = malloc(f.total_size + GUARD);
	memset(b[0], 0xA5, f.total_size + GUARD);
	sz[0] = f.total_size - 1;
	TAP_EQ(tpg_fill(&t, &f, 1, 1, b, sz, 1), -ENOSPC);
	TAP_CHECK(untouched(b[0], f.total_size + GUARD), "contiguous written");
	sz[0]++;
	TAP_EQ(tpg_fill(&t, &f, 1, 1, b, sz, 1), 0);
	TAP_CHECK(untouched((uint8_t *)b[0] + f.total_size, GUARD),
		  "contiguous guard");
	free(b[0]);
}

static void test_separate_planes(void)
{
	struct tpg t = gen(TPG_PAT_MOVING_BOX, true);

	for (unsigned i = 0; i < sizeof(layouts) / sizeof(layouts[0]); i++) {
		struct img im;
		void *b[3];

		if (layouts[i].planes == 1 ||
		    !img_alloc(&im, layouts[i].fourcc, 1920, 1080))
			continue;
		for (unsigned p = 0; p < im.f.n_planes; p++)
			b[p] = malloc(im.f.sizeimage[p]);
		TAP_EQ(img_fill(&im, &t, 77, 7777), 0);
		TAP_EQ(tpg_fill(&t, &im.f, 77, 7777, b, im.sizes,
				im.f.n_planes),
		       0);
		for (unsigned p = 0; p < im.f.n_planes; p++) {
			TAP_CHECK(!memcmp(b[p], im.planes[p], im.sizes[p]),
				  "%s plane %u differs", layouts[i].name, p);
			free(b[p]);
		}
		free(im.buf);
	}
}

/* ---- patterns ----------------------------------------------------------- */

static void test_noise(void)
{
	struct tpg t = gen(TPG_PAT_NOISE, false);
	struct img a, b;
	unsigned seen[256] = { 0 }, distinct = 0;

	if (!img_alloc(&a, V4L2_PIX_FMT_NV12, 640, 480) ||
	    !img_alloc(&b, V4L2_PIX_FMT_NV12, 640, 480)) {
		TAP_CHECK(0, "alloc");
		return;
	}
	TAP_EQ(img_fill(&a, &t, 7, 1), 0);
	TAP_EQ(img_fill(&b, &t, 7, 2), 0);
	TAP_CHECK(!memcmp(a.buf, b.buf, a.f.total_size), "same seq differs");
	TAP_EQ(img_fill(&b, &t, 8, 1), 0);
	TAP_CHECK(memcmp(a.buf, b.buf, a.f.sizeimage[0]), "seq 8 == seq 7");
	for (size_t i = 0; i < a.f.sizeimage[0]; i++)
		distinct += !seen[a.buf[i]]++;
	TAP_CHECK(distinct >= 200, "only %u luma levels", distinct);
	free(a.buf);
	free(b.buf);
}

static void test_moving_box(void)
{
	struct tpg t = gen(TPG_PAT_MOVING_BOX, false);
	struct img a, b;

	if (!img_alloc(&a, V4L2_PIX_FMT_YUYV, 640, 480) ||
	    !img_alloc(&b, V4L2_PIX_FMT_YUYV, 640, 480)) {
		TAP_CHECK(0, "alloc");
		return;
	}
	TAP_EQ(img_fill(&a, &t, 0, 0), 0);
	TAP_EQ(img_fill(&b, &t, 10, 0), 0);
	TAP_CHECK(memcmp(a.buf, b.buf, a.f.total_size), "box did not move");
	TAP_EQ(img_fill(&b, &t, 0, 99), 0);
	TAP_CHECK(!memcmp(a.buf, b.buf, a.f.total_size), "not deterministic");
	free(a.buf);
	free(b.buf);
}

/* Checker rows are copied, not drawn: check every pixel in a few formats. */
static void test_checkers_exact(void)
{
	static const uint32_t fcc[] = { V4L2_PIX_FMT_NV12, V4L2_PIX_FMT_YUYV,
					V4L2_PIX_FMT_YVU420,
					V4L2_PIX_FMT_XRGB32 };
	struct tpg t = gen(TPG_PAT_CHECKERS, false);
	unsigned bad = 0;

	for (unsigned k = 0; k < 4; k++) {
		bool rgb = is_rgb(fcc[k]);
		struct img im;

		if (!img_alloc(&im, fcc[k], 640, 480) ||
		    img_fill(&im, &t, 1, 1)) {
			TAP_CHECK(0, "alloc/fill");
			return;
		}
		for (uint32_t y = 0; y < 480; y++)
			for (uint32_t x = 0; x < 640; x++) {
				bool white = ((x / 16) ^ (y / 16)) & 1;
				int v[3], lo = rgb ? 0 : 16,
					  hi = rgb ? 255 : 235;

				if (rgb)
					get_rgb(&im, x, y, v);
				else
					get_yuv(&im, x, y, v);
				bad += v[0] != (white ? hi : lo) ||
				       v[1] != (rgb ? v[0] : 128) ||
				       v[2] != (rgb ? v[0] : 128);
			}
		free(im.buf);
	}
	TAP_EQ(bad, 0);
}

/* Every pattern in every format at awkward sizes, for the sanitizers. */
static void test_all_patterns(void)
{
	static const uint32_t odd[][2] = {
		{ 2, 2 }, { 258, 34 },	{ 322, 242 },
		{ 1, 1 }, { 333, 201 }, { 8192, 4 }
	};

	for (unsigned i = 0; i < sizeof(layouts) / sizeof(layouts[0]); i++)
		for (unsigned s = 0; s < 6; s++) {
			struct img im;

			if (!img_alloc(&im, layouts[i].fourcc, odd[s][0],
				       odd[s][1]))
				continue;
			for (int p = 0; p < TPG_PAT_COUNT; p++) {
				struct tpg t = gen((enum tpg_pattern)p, true);

				TAP_EQ(img_fill(&im, &t, 3, 3), 0);
			}
			free(im.buf);
		}
}

/* ---- throughput (informational) ---------------------------------------- */

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void bench(const char *what, enum tpg_pattern pat, uint32_t w,
		  uint32_t h)
{
	struct tpg t = gen(pat, true);
	struct img im;
	unsigned n = 0;
	double t0, dt;

	if (!img_alloc(&im, V4L2_PIX_FMT_NV12, w, h))
		return;
	img_fill(&im, &t, 0, 0); /* fault the pages in */
	t0 = now();
	do {
		img_fill(&im, &t, n, n);
		n++;
		dt = now() - t0;
	} while (dt < 0.3);
	tap_diag("fill %s NV12 %ux%u: %.0f MB/s, %.0f frames/s", what, w, h,
		 (double)im.f.total_size * n / dt / 1e6, n / dt);
	free(im.buf);
}

static void run_per_format(const char *what, void (*fn)(void))
{
	char name[96];

	for (unsigned i = 0; i < sizeof(layouts) / sizeof(layouts[0]); i++) {
		cur = &layouts[i];
		snprintf(name, sizeof(name), "%s: %s", what, cur->name);
		tap_run(name, fn);
	}
}

int main(void)
{
	run_per_format("format sizes at 640x480, 1080p, 4K", test_sizes);
	tap_run("odd width/height for 4:2:x is -EINVAL", test_bad_sizes);
	tap_run("overflowing sizes are -EINVAL", test_overflow_sizes);
	run_per_format("colour bars match BT.601 at bar centres", test_bars);
	tap_run("brightness and contrast move luma", test_brightness_contrast);
	tap_run("saturation and hue act on chroma", test_saturation_hue);
	run_per_format("to_rgb24 of colour bars within 2", test_to_rgb24);
	run_per_format("stamp round-trips at 640x480, 1080p, 4K",
		       test_stamp_roundtrip);
	tap_run("stamp at the minimum size; none below it", test_stamp_small);
	tap_run("a flipped stamp bit is -EBADMSG", test_stamp_corrupt);
	run_per_format("short plane is -ENOSPC, guards untouched", test_nospc);
	tap_run("separate-plane fill equals contiguous fill",
		test_separate_planes);
	tap_run("noise is deterministic per sequence", test_noise);
	tap_run("moving box moves with the sequence", test_moving_box);
	tap_run("checkers are exact in every pixel", test_checkers_exact);
	tap_run("every pattern fills every format", test_all_patterns);
	bench("bars", TPG_PAT_BARS, 1920, 1080);
	bench("bars", TPG_PAT_BARS, 3840, 2160);
	bench("noise", TPG_PAT_NOISE, 1920, 1080);
	return tap_done();
}
