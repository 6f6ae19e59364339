/* SPDX-License-Identifier: MIT */
/*
 * vcam's test pattern generator; the contract is in tpg.h.
 *
 * How a frame is made: each row of the pattern is rendered as palette
 * indices (one row on the stack), then a per-format packer turns it into
 * bytes. Patterns have few distinct rows (bars: one, checkers: two), so a
 * row type is rendered once and later rows of that type are memcpy'd from
 * its first copy in the frame itself: no scratch frame, and a 4K frame of
 * bars costs about one memcpy of the frame. The stamp is drawn last, over
 * the top-left corner. The colour maths (doubles) runs only in tpg_set().
 */
#include "tpg.h"

#include <errno.h>
#include <linux/videodev2.h>
#include <string.h>

/* Palette slots; the colours come from the settings (compute_palette). */
enum {
	PAL_GREY = 0,	       /* 256 grey levels, from full-range input */
	PAL_BAR = 256,	       /* the 8 bars, left to right */
	PAL_RED = PAL_BAR + 8, /* 100% primaries for the solid patterns */
	PAL_GREEN,
	PAL_BLUE,
	PAL_STAMP_BLACK, /* fixed: the stamp ignores the controls */
	PAL_STAMP_WHITE,
	PAL_COUNT
};
_Static_assert(PAL_COUNT <= TPG_PAL_SIZE, "TPG_PAL_SIZE too small");

#define PAL_BLACK  (PAL_GREY + 0)
#define PAL_WHITE  (PAL_GREY + 255)
#define PAL_BOX_BG (PAL_GREY + 48)
#define PAL_BOX	   (PAL_BAR + 1) /* yellow, so chroma moves too */

#define CHECKER	   16 /* square side; even keeps 4:2:0 chroma clean */
#define ROW_TYPES  2  /* most distinct repeatable rows in a pattern */
#define TPG_PI	   3.14159265358979323846

/* ---- formats ------------------------------------------------------------ */

enum fmt_kind { PACKED, PLANAR, RGB };

struct fmt_info {
	uint32_t fourcc;
	enum fmt_kind kind;
	uint8_t n_planes;
	uint8_t vsub; /* luma rows per chroma row, 1 without chroma planes */
	uint8_t bpl2[TPG_MAX_PLANES]; /* bytesperline = width * bpl2 / 2 */
	uint8_t step;	/* bytes from one pixel's luma (or G) to the next's */
	uint8_t off[4]; /* packed: Y0 Cb Y1 Cr; RGB: R G B X; planar: Cb Cr */
	uint8_t cb_plane, cr_plane; /* planar: the planes holding Cb, Cr */
};

#define F(name) V4L2_PIX_FMT_##name
/* clang-format off */
static const struct fmt_info fmts[] = {
	/* fourcc, kind, planes, vsub, bpl2, step, off, Cb plane, Cr plane */
	{ F(YUYV),   PACKED, 1, 1, { 4, 0, 0 }, 2, { 0, 1, 2, 3 }, 0, 0 },
	{ F(UYVY),   PACKED, 1, 1, { 4, 0, 0 }, 2, { 1, 0, 3, 2 }, 0, 0 },
	{ F(NV12),   PLANAR, 2, 2, { 2, 2, 0 }, 1, { 0, 1, 0, 0 }, 1, 1 },
	{ F(NV21),   PLANAR, 2, 2, { 2, 2, 0 }, 1, { 1, 0, 0, 0 }, 1, 1 },
	{ F(NV16),   PLANAR, 2, 1, { 2, 2, 0 }, 1, { 0, 1, 0, 0 }, 1, 1 },
	{ F(YUV420), PLANAR, 3, 2, { 2, 1, 1 }, 1, { 0, 0, 0, 0 }, 1, 2 },
	{ F(YVU420), PLANAR, 3, 2, { 2, 1, 1 }, 1, { 0, 0, 0, 0 }, 2, 1 },
	{ F(GREY),   PLANAR, 1, 1, { 2, 0, 0 }, 1, { 0, 0, 0, 0 }, 0, 0 },
	{ F(RGB24),  RGB,    1, 1, { 6, 0, 0 }, 3, { 0, 1, 2, 0 }, 0, 0 },
	{ F(BGR24),  RGB,    1, 1, { 6, 0, 0 }, 3, { 2, 1, 0, 0 }, 0, 0 },
	/* V4L2's 32-bit RGB formats are B, G, R, X/A in memory. */
	{ F(XRGB32), RGB,    1, 1, { 8, 0, 0 }, 4, { 2, 1, 0, 3 }, 0, 0 },
	{ F(ARGB32), RGB,    1, 1, { 8, 0, 0 }, 4, { 2, 1, 0, 3 }, 0, 0 },
};
/* clang-format on */
#undef F

static const struct fmt_info *find_fmt(uint32_t fourcc)
{
	for (size_t i = 0; i < sizeof(fmts) / sizeof(fmts[0]); i++)
		if (fmts[i].fourcc == fourcc)
			return &fmts[i];
	return NULL;
}

bool tpg_format_supported(uint32_t fourcc)
{
	return find_fmt(fourcc) != NULL;
}

static uint32_t plane_vsub(const struct fmt_info *fi, unsigned p)
{
	return p ? fi->vsub : 1;
}

static uint32_t row_bytes(const struct fmt_info *fi, unsigned p, uint32_t w)
{
	return (uint32_t)((uint64_t)w * fi->bpl2[p] / 2);
}

/* Where plane 0 keeps a pixel's luma, or G for RGB. */
static unsigned luma_off(const struct fmt_info *fi)
{
	if (fi->kind == PACKED)
		return fi->off[0];
	return fi->kind == RGB ? fi->off[1] : 0;
}

static bool dims_ok(const struct fmt_info *fi, uint32_t w, uint32_t h)
{
	bool hsub = fi->kind == PACKED || fi->n_planes > 1;

	if (w < 1 || w > TPG_MAX_SIZE || h < 1 || h > TPG_MAX_SIZE)
		return false;
	if (hsub && (w & 1))
		return false;
	return !(fi->vsub == 2 && (h & 1));
}

int tpg_format_init(struct tpg_format *f, uint32_t fourcc, uint32_t width,
		    uint32_t height)
{
	const struct fmt_info *fi = find_fmt(fourcc);
	struct tpg_format nf = { .fourcc = fourcc,
				 .width = width,
				 .height = height };
	uint64_t total = 0;

	if (!f || !fi || !dims_ok(fi, width, height))
		return -EINVAL;
	nf.n_planes = fi->n_planes;
	for (unsigned p = 0; p < fi->n_planes; p++) {
		uint64_t bpl = row_bytes(fi, p, width);
		uint64_t size = bpl * (height / plane_vsub(fi, p));

		nf.bytesperline[p] = (uint32_t)bpl;
		nf.sizeimage[p] = (uint32_t)size;
		nf.offset[p] = (uint32_t)total;
		total += size;
		/* unreachable at TPG_MAX_SIZE; guards a larger limit */
		if (total > UINT32_MAX)
			return -EINVAL;
	}
	nf.total_size = (uint32_t)total;
	*f = nf;
	return 0;
}

/*
 * Every entry point re-checks the format: it may come from a caller who
 * padded it, and a wrong stride must fail, not write out of bounds.
 */
static const struct fmt_info *check_format(const struct tpg_format *f)
{
	const struct fmt_info *fi = f ? find_fmt(f->fourcc) : NULL;

	if (!fi || !dims_ok(fi, f->width, f->height) ||
	    f->n_planes != fi->n_planes)
		return NULL;
	for (unsigned p = 0; p < fi->n_planes; p++) {
		uint64_t rows = f->height / plane_vsub(fi, p);

		if (f->bytesperline[p] < row_bytes(fi, p, f->width) ||
		    (uint64_t)f->bytesperline[p] * rows > f->sizeimage[p] ||
		    (uint64_t)f->offset[p] + f->sizeimage[p] > f->total_size)
			return NULL;
	}
	return fi;
}

unsigned tpg_split_buffer(const struct tpg_format *f, void *buf,
			  void *planes[TPG_MAX_PLANES],
			  size_t sizes[TPG_MAX_PLANES])
{
	for (unsigned p = 0; p < f->n_planes && p < TPG_MAX_PLANES; p++) {
		planes[p] = (uint8_t *)buf + f->offset[p];
		sizes[p] = f->sizeimage[p];
	}
	return f->n_planes;
}

/* ---- settings and palette ---------------------------------------------- */

void tpg_settings_default(struct tpg_settings *s)
{
	s->pattern = TPG_PAT_BARS;
	s->brightness = TPG_BRIGHTNESS_DEF;
	s->contrast = TPG_CONTRAST_DEF;
	s->saturation = TPG_SATURATION_DEF;
	s->hue = TPG_HUE_DEF;
	s->stamp = true;
}

static const char *const pattern_names[TPG_PAT_COUNT] = {
	[TPG_PAT_BARS] = "75% Colour Bars",
	[TPG_PAT_SOLID_BLACK] = "Solid Black",
	[TPG_PAT_SOLID_WHITE] = "Solid White",
	[TPG_PAT_SOLID_RED] = "Solid Red",
	[TPG_PAT_SOLID_GREEN] = "Solid Green",
	[TPG_PAT_SOLID_BLUE] = "Solid Blue",
	[TPG_PAT_GRADIENT] = "Horizontal Gradient",
	[TPG_PAT_CHECKERS] = "16x16 Checkers",
	[TPG_PAT_NOISE] = "Noise",
	[TPG_PAT_MOVING_BOX] = "Moving Box",
};

const char *tpg_pattern_name(enum tpg_pattern p)
{
	return (unsigned)p < TPG_PAT_COUNT ? pattern_names[p] : NULL;
}

/* Controls folded into the numbers the conversion needs. */
struct ctl {
	double gain;   /* luma gain: contrast */
	double offset; /* luma offset: brightness */
	double cgain;  /* chroma gain: contrast and saturation */
	double hsin, hcos;
};

/* sin(x), |x| <= pi, by Taylor series: saves linking libm for one angle. */
static double sin_pi(double x)
{
	double term, sum;

	if (x > TPG_PI / 2)
		x = TPG_PI - x;
	else if (x < -TPG_PI / 2)
		x = -TPG_PI - x;
	term = sum = x;
	for (int n = 1; n <= 8; n++) {
		term *= -x * x / ((2 * n) * (2 * n + 1));
		sum += term;
	}
	return sum;
}

static void ctl_init(struct ctl *c, const struct tpg_settings *s)
{
	double a = s->hue * TPG_PI / 128, ac = a + TPG_PI / 2;

	c->gain = s->contrast / 128.0;
	c->offset = s->brightness - 128.0;
	c->cgain = c->gain * (s->saturation / 128.0);
	/* exact at hue 0, so default colours are the textbook ones */
	c->hsin = s->hue ? sin_pi(a) : 0.0;
	c->hcos = s->hue ? sin_pi(ac > TPG_PI ? ac - 2 * TPG_PI : ac) : 1.0;
}

static double clampd(double v, double lo, double hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

static uint8_t round_u8(double v) /* v already clamped to 0..255 */
{
	return (uint8_t)(v + 0.5);
}

/* From unrounded Y'CbCr, so RGB frames are not rounded twice. */
static struct tpg_colour colour_from_ycbcr(double y, double cb, double cr)
{
	double ey = (y - 16) / 219, pb = (cb - 128) / 224,
	       pr = (cr - 128) / 224;
	double r = ey + 1.402 * pr, b = ey + 1.772 * pb;
	double g = (ey - 0.299 * r - 0.114 * b) / 0.587;
	struct tpg_colour c = {
		.y = round_u8(y),
		.cb = round_u8(cb),
		.cr = round_u8(cr),
		.r = round_u8(clampd(255 * r, 0, 255)),
		.g = round_u8(clampd(255 * g, 0, 255)),
		.b = round_u8(clampd(255 * b, 0, 255)),
	};
	return c;
}

/* BT.601 from full-range R'G'B', then the controls, clamped to range. */
static struct tpg_colour make_colour(const struct ctl *c, int r, int g, int b)
{
	double ey = (0.299 * r + 0.587 * g + 0.114 * b) / 255;
	double pb = (b / 255.0 - ey) / 1.772, pr = (r / 255.0 - ey) / 1.402;
	double hb = pb * c->hcos - pr * c->hsin,
	       hr = pb * c->hsin + pr * c->hcos;
	double y = 16 + 219 * ey * c->gain + c->offset;

	return colour_from_ycbcr(clampd(y, 16, 235),
				 clampd(128 + 224 * c->cgain * hb, 16, 240),
				 clampd(128 + 224 * c->cgain * hr, 16, 240));
}

static void compute_palette(struct tpg *t)
{
	static const uint8_t bars[8][3] = {
		{ 255, 255, 255 }, { 191, 191, 0 }, { 0, 191, 191 },
		{ 0, 191, 0 },	   { 191, 0, 191 }, { 191, 0, 0 },
		{ 0, 0, 191 },	   { 0, 0, 0 },
	};
	struct ctl c;

	ctl_init(&c, &t->s);
	for (int i = 0; i < 256; i++)
		t->pal[PAL_GREY + i] = make_colour(&c, i, i, i);
	for (int i = 0; i < 8; i++)
		t->pal[PAL_BAR + i] =
			make_colour(&c, bars[i][0], bars[i][1], bars[i][2]);
	t->pal[PAL_RED] = make_colour(&c, 255, 0, 0);
	t->pal[PAL_GREEN] = make_colour(&c, 0, 255, 0);
	t->pal[PAL_BLUE] = make_colour(&c, 0, 0, 255);
	t->pal[PAL_STAMP_BLACK] = colour_from_ycbcr(16, 128, 128);
	t->pal[PAL_STAMP_WHITE] = colour_from_ycbcr(235, 128, 128);
}

static bool settings_valid(const struct tpg_settings *s)
{
	return (unsigned)s->pattern < TPG_PAT_COUNT && s->brightness >= 0 &&
	       s->brightness <= 255 && s->contrast >= 0 && s->contrast <= 255 &&
	       s->saturation >= 0 && s->saturation <= 255 && s->hue >= -128 &&
	       s->hue <= 127;
}

void tpg_init(struct tpg *t)
{
	tpg_settings_default(&t->s);
	compute_palette(t);
}

int tpg_set(struct tpg *t, const struct tpg_settings *s)
{
	bool dirty;

	if (!t || !s || !settings_valid(s))
		return -EINVAL;
	/* The palette is the costly part; the pattern and stamp need none. */
	dirty = s->brightness != t->s.brightness ||
		s->contrast != t->s.contrast ||
		s->saturation != t->s.saturation || s->hue != t->s.hue;
	t->s = *s;
	if (dirty)
		compute_palette(t);
	return 0;
}

/* ---- packing rows of palette indices ------------------------------------ */

struct frame {
	const struct tpg_format *f;
	const struct fmt_info *fi;
	const struct tpg_colour *pal;
	uint8_t *p[TPG_MAX_PLANES];
};

static uint8_t *plane_row(const struct frame *fr, unsigned p, uint32_t row)
{
	return fr->p[p] + (size_t)row * fr->f->bytesperline[p];
}

/* Chroma of a pixel pair comes from its left pixel: edges are even. */
static void pack_packed_yuv(const struct frame *fr, const uint16_t *idx,
			    uint32_t y, uint32_t n)
{
	const uint8_t *o = fr->fi->off;
	uint8_t *d = plane_row(fr, 0, y);

	for (uint32_t x = 0; x < n; x += 2, d += 4) {
		const struct tpg_colour *c = &fr->pal[idx[x]];

		d[o[0]] = c->y;
		d[o[1]] = c->cb;
		d[o[2]] = fr->pal[idx[x + 1]].y;
		d[o[3]] = c->cr;
	}
}

static void pack_planar_yuv(const struct frame *fr, const uint16_t *idx,
			    uint32_t y, uint32_t n)
{
	const struct fmt_info *fi = fr->fi;
	uint8_t *d = plane_row(fr, 0, y), *cb, *cr;
	size_t step;

	for (uint32_t x = 0; x < n; x++)
		d[x] = fr->pal[idx[x]].y;
	if (fi->n_planes == 1 || y % fi->vsub)
		return;
	step = fi->bpl2[fi->cb_plane]; /* 2 interleaved, 1 planar */
	cb = plane_row(fr, fi->cb_plane, y / fi->vsub) + fi->off[0];
	cr = plane_row(fr, fi->cr_plane, y / fi->vsub) + fi->off[1];
	for (uint32_t x = 0; x < n; x += 2) {
		const struct tpg_colour *c = &fr->pal[idx[x]];

		cb[x / 2 * step] = c->cb;
		cr[x / 2 * step] = c->cr;
	}
}

static void pack_rgb(const struct frame *fr, const uint16_t *idx, uint32_t y,
		     uint32_t n)
{
	const uint8_t *o = fr->fi->off;
	unsigned step = fr->fi->step;
	uint8_t *d = plane_row(fr, 0, y);

	for (uint32_t x = 0; x < n; x++, d += step) {
		const struct tpg_colour *c = &fr->pal[idx[x]];

		d[o[0]] = c->r;
		d[o[1]] = c->g;
		d[o[2]] = c->b;
		if (step == 4)
			d[o[3]] = 0xff;
	}
}

/* Write pixels 0..n-1 of row y, and its chroma row if it has one. */
static void pack_row(const struct frame *fr, const uint16_t *idx, uint32_t y,
		     uint32_t n)
{
	if (fr->fi->kind == PACKED)
		pack_packed_yuv(fr, idx, y, n);
	else if (fr->fi->kind == PLANAR)
		pack_planar_yuv(fr, idx, y, n);
	else
		pack_rgb(fr, idx, y, n);
}

/* ---- patterns ----------------------------------------------------------- */

struct pat {
	enum tpg_pattern pattern;
	uint32_t w, seq;
	uint32_t box_x0, box_x1, box_y0, box_y1;
};

static void fill_idx(uint16_t *idx, uint32_t x0, uint32_t x1, unsigned v)
{
	for (uint32_t x = x0; x < x1; x++)
		idx[x] = (uint16_t)v;
}

/* A triangle wave 0..range..0 of pos, even so chroma stays aligned. */
static uint32_t bounce(uint64_t pos, uint32_t range)
{
	uint64_t period = 2 * (uint64_t)range, p;

	if (!range)
		return 0;
	p = pos % period;
	return (uint32_t)(p <= range ? p : period - p) & ~1u;
}

static void pat_init(struct pat *pc, const struct tpg *t,
		     const struct tpg_format *f, uint32_t seq)
{
	uint32_t w = f->width, h = f->height, m = w < h ? w : h;
	uint32_t side = (m / 4) & ~1u, sx = (w / 160) & ~1u,
		 sy = (h / 120) & ~1u;

	if (!side)
		side = m;
	pc->pattern = t->s.pattern;
	pc->w = w;
	pc->seq = seq;
	pc->box_x0 = bounce((uint64_t)seq * (sx ? sx : 2), w - side);
	pc->box_y0 = bounce((uint64_t)seq * (sy ? sy : 2), h - side);
	pc->box_x1 = pc->box_x0 + side;
	pc->box_y1 = pc->box_y0 + side;
}

/* Rows of one type are identical; -1: every row differs (noise). */
static int row_type(const struct pat *pc, uint32_t y)
{
	switch (pc->pattern) {
	case TPG_PAT_CHECKERS:
		return (y / CHECKER) & 1;
	case TPG_PAT_NOISE:
		return -1;
	case TPG_PAT_MOVING_BOX:
		return y >= pc->box_y0 && y < pc->box_y1;
	default:
		return 0;
	}
}

static uint64_t splitmix64(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* Seeded by (seq, row): the same frame again is the same noise. */
static void render_noise(const struct pat *pc, uint32_t y, uint16_t *idx)
{
	uint64_t s = (uint64_t)pc->seq << 32 | y, r = 0;

	for (uint32_t x = 0; x < pc->w; x++) {
		if (!(x & 7))
			r = splitmix64(&s);
		idx[x] = (uint16_t)(PAL_GREY + (r & 0xff));
		r >>= 8;
	}
}

static void render_bars(const struct pat *pc, uint16_t *idx)
{
	uint32_t x0 = 0;

	for (unsigned i = 0; i < 8; i++) {
		uint32_t x1 =
			i == 7 ? pc->w
			       : (uint32_t)((uint64_t)pc->w * (i + 1) / 8) &
					 ~1u;
		fill_idx(idx, x0, x1, PAL_BAR + i);
		x0 = x1;
	}
}

static void render_row(const struct pat *pc, uint32_t y, uint16_t *idx)
{
	static const uint16_t solid[] = { PAL_BLACK, PAL_WHITE, PAL_RED,
					  PAL_GREEN, PAL_BLUE };
	uint32_t w = pc->w;

	switch (pc->pattern) {
	case TPG_PAT_BARS:
		render_bars(pc, idx);
		break;
	case TPG_PAT_GRADIENT:
		for (uint32_t x = 0; x < w; x++)
			idx[x] = (uint16_t)(PAL_GREY +
					    (w > 1 ? x * 255 / (w - 1) : 0));
		break;
	case TPG_PAT_CHECKERS:
		for (uint32_t x = 0; x < w; x++)
			idx[x] = ((x / CHECKER) ^ (y / CHECKER)) & 1
					 ? PAL_WHITE
					 : PAL_BLACK;
		break;
	case TPG_PAT_NOISE:
		render_noise(pc, y, idx);
		break;
	case TPG_PAT_MOVING_BOX:
		fill_idx(idx, 0, w, PAL_BOX_BG);
		if (y >= pc->box_y0 && y < pc->box_y1)
			fill_idx(idx, pc->box_x0, pc->box_x1, PAL_BOX);
		break;
	default:
		fill_idx(idx, 0, w, solid[pc->pattern - TPG_PAT_SOLID_BLACK]);
		break;
	}
}

/*
 * ref[p]: the row of plane p that already holds this row type, or -1.
 * Copies row y from there when every plane row y touches has one.
 */
static bool copy_row(const struct frame *fr, const int32_t ref[], uint32_t y,
		     uint32_t n)
{
	const struct fmt_info *fi = fr->fi;

	for (unsigned p = 0; p < fi->n_planes; p++)
		if (y % plane_vsub(fi, p) == 0 && ref[p] < 0)
			return false;
	for (unsigned p = 0; p < fi->n_planes; p++) {
		uint32_t vs = plane_vsub(fi, p);

		if (y % vs == 0)
			memcpy(plane_row(fr, p, y / vs),
			       plane_row(fr, p, (uint32_t)ref[p]),
			       row_bytes(fi, p, n));
	}
	return true;
}

static void note_row(const struct frame *fr, int32_t ref[], uint32_t y)
{
	for (unsigned p = 0; p < fr->fi->n_planes; p++) {
		uint32_t vs = plane_vsub(fr->fi, p);

		if (y % vs == 0 && ref[p] < 0)
			ref[p] = (int32_t)(y / vs);
	}
}

static void draw_pattern(const struct frame *fr, const struct pat *pc,
			 uint16_t *idx)
{
	int32_t ref[ROW_TYPES][TPG_MAX_PLANES];

	memset(ref, 0xff, sizeof(ref)); /* all -1 */
	for (uint32_t y = 0; y < fr->f->height; y++) {
		int type = row_type(pc, y);

		if (type >= 0 && copy_row(fr, ref[type], y, pc->w))
			continue;
		render_row(pc, y, idx);
		pack_row(fr, idx, y, pc->w);
		if (type >= 0)
			note_row(fr, ref[type], y);
	}
}

/* ---- the stamp ---------------------------------------------------------- */

/*
 * Over the top-left corner; its picture comes from tpg_font.c. Stamp rows
 * repeat too (8 per block row, `scale` per glyph row), so runs of equal
 * rows are copied like pattern rows: at 4K this is most of the stamp.
 */
static void draw_stamp(const struct frame *fr, uint32_t seq, uint64_t ts,
		       uint16_t *idx)
{
	struct tpg_stamp st;
	int32_t ref[TPG_MAX_PLANES];
	uint32_t key = UINT32_MAX, n = 0;

	if (!tpg_stamp_init(&st, fr->f->width, fr->f->height, seq, ts))
		return;
	for (uint32_t y = 0; y < st.height; y++) {
		uint32_t k = tpg_stamp_row_key(&st, y);

		if (k != key) {
			memset(ref, 0xff, sizeof(ref)); /* a new run */
			key = k;
		} else if (copy_row(fr, ref, y, n)) {
			continue;
		}
		n = tpg_stamp_row(&st, y, idx, PAL_STAMP_BLACK,
				  PAL_STAMP_WHITE);
		pack_row(fr, idx, y, n);
		note_row(fr, ref, y);
	}
}

/* ---- entry points ------------------------------------------------------- */

static int frame_setup(struct frame *fr, const struct tpg *t,
		       const struct tpg_format *f, void *const planes[],
		       const size_t sizes[], unsigned n)
{
	fr->f = f;
	fr->fi = check_format(f);
	fr->pal = t ? t->pal : NULL;
	if (!fr->fi || !planes || !sizes || !fr->pal ||
	    (n != 1 && n != f->n_planes))
		return -EINVAL;
	for (unsigned p = 0; p < n; p++)
		if (!planes[p])
			return -EINVAL;
	if (n == 1 && f->n_planes > 1) { /* one contiguous buffer */
		if (sizes[0] < f->total_size)
			return -ENOSPC;
		for (unsigned p = 0; p < f->n_planes; p++)
			fr->p[p] = (uint8_t *)planes[0] + f->offset[p];
		return 0;
	}
	for (unsigned p = 0; p < n; p++) {
		if (sizes[p] < f->sizeimage[p])
			return -ENOSPC;
		fr->p[p] = planes[p];
	}
	return 0;
}

int tpg_fill(const struct tpg *t, const struct tpg_format *f, uint32_t seq,
	     uint64_t ts_ns, void *const planes[], const size_t plane_sizes[],
	     unsigned n_planes)
{
	uint16_t idx[TPG_MAX_SIZE]; /* one row of palette indices, 16 KiB */
	struct frame fr;
	struct pat pc;
	int ret = frame_setup(&fr, t, f, planes, plane_sizes, n_planes);

	if (ret)
		return ret;
	pat_init(&pc, t, f, seq);
	draw_pattern(&fr, &pc, idx);
	if (t->s.stamp)
		draw_stamp(&fr, seq, ts_ns, idx);
	return 0;
}

int tpg_read_stamp(const struct tpg_format *f, void *const planes[],
		   uint32_t *seq, uint64_t *ts_ns)
{
	const struct fmt_info *fi = check_format(f);

	if (!fi || !planes || !planes[0])
		return -EINVAL;
	if (f->width < TPG_STAMP_MIN_WIDTH || f->height < TPG_STAMP_MIN_HEIGHT)
		return -EBADMSG;
	return tpg_stamp_read((const uint8_t *)planes[0] + luma_off(fi),
			      f->bytesperline[0], fi->step, seq, ts_ns);
}

static uint8_t clamp8(int32_t v)
{
	return v < 0 ? 0 : v > 255 ? 255 : (uint8_t)v;
}

/* BT.601 limited range to full-range RGB, 16.16 fixed point. */
static void ycbcr_to_rgb(int y, int cb, int cr, uint8_t *d)
{
	int32_t l = 76309 * (y - 16) + 32768;

	cb -= 128;
	cr -= 128;
	d[0] = clamp8((l + 104597 * cr) / 65536);
	d[1] = clamp8((l - 25675 * cb - 53279 * cr) / 65536);
	d[2] = clamp8((l + 132201 * cb) / 65536);
}

static void unpack_row(const struct frame *fr, uint32_t y, uint8_t *d)
{
	const struct fmt_info *fi = fr->fi;
	const uint8_t *o = fi->off, *row = plane_row(fr, 0, y);
	const uint8_t *cb = NULL, *cr = NULL;
	size_t cs = 0; /* chroma step: 2 interleaved, 1 planar */

	if (fi->kind == PLANAR && fi->n_planes > 1) {
		cs = fi->bpl2[fi->cb_plane];
		cb = plane_row(fr, fi->cb_plane, y / fi->vsub) + o[0];
		cr = plane_row(fr, fi->cr_plane, y / fi->vsub) + o[1];
	}
	for (uint32_t x = 0; x < fr->f->width; x++, d += 3) {
		const uint8_t *px = row + (size_t)x * fi->step;
		const uint8_t *pair = row + (size_t)(x & ~1u) * 2;

		if (fi->kind == RGB) {
			d[0] = px[o[0]];
			d[1] = px[o[1]];
			d[2] = px[o[2]];
		} else if (fi->kind == PACKED) {
			ycbcr_to_rgb(pair[x & 1 ? o[2] : o[0]], pair[o[1]],
				     pair[o[3]], d);
		} else if (cb && cr) {
			ycbcr_to_rgb(px[0], cb[x / 2 * cs], cr[x / 2 * cs], d);
		} else {
			ycbcr_to_rgb(px[0], 128, 128, d);
		}
	}
}

int tpg_to_rgb24(const struct tpg_format *f, void *const planes[], uint8_t *rgb,
		 size_t rgb_size)
{
	struct frame fr = { .f = f, .fi = check_format(f) };

	if (!fr.fi || !planes || !rgb)
		return -EINVAL;
	if ((uint64_t)f->width * f->height * 3 > rgb_size)
		return -ENOSPC;
	for (unsigned p = 0; p < f->n_planes; p++) {
		if (!planes[p])
			return -EINVAL;
		fr.p[p] = planes[p];
	}
	for (uint32_t y = 0; y < f->height; y++)
		unpack_row(&fr, y, rgb + (size_t)y * f->width * 3);
	return 0;
}
