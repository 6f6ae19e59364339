/* SPDX-License-Identifier: MIT */
/*
 * vcam's test pattern generator (TPG), in the spirit of the kernel's
 * v4l2-tpg: a pure library. No I/O, no locks, no global mutable state and
 * no allocation; tpg_fill() writes only the planes it is given, never past
 * the sizes it is given, and takes the generator const, so several frames
 * may be filled at once from one struct tpg.
 *
 * Colours: BT.601, limited range for the YUV formats (Y 16..235, Cb/Cr
 * 16..240), full range for RGB. GREY carries the same luma as the YUV
 * formats. The controls act in Y'CbCr; RGB frames get that same picture
 * converted back. All colour maths runs in tpg_set(), into a palette, so
 * filling is table look-ups and memcpy.
 *
 * The stamp (unless settings.stamp is false) sits in the top-left corner:
 *
 *   rows 0..31, columns 0..255: 4 rows of 32 blocks of 8x8 pixels, one bit
 *   per block, white (Y 235, RGB 255) = 1, black (Y 16, RGB 0) = 0, read
 *   row by row, left to right, most significant bit first:
 *     sync 0xB38F (16) | sequence (32) | timestamp in ns (64) |
 *     CRC-16/CCITT-FALSE (16) of the 12 bytes sequence, timestamp (big endian)
 *   below it, on a black box, "SEQ <n>" and "TS <s>.<ns>" in a 5x7 font
 *   scaled with the width, when they fit.
 *
 * Blocks are 8x8 and 8-aligned, so 4:2:0 and 4:2:2 chroma never straddles
 * a bit; the stamp ignores the controls, so it reads back at any setting.
 * Frames smaller than TPG_STAMP_MIN_WIDTH x TPG_STAMP_MIN_HEIGHT (256x32)
 * get no stamp, and tpg_read_stamp() returns -EBADMSG for them.
 *
 * Plane arrays: a format has 1..3 colour planes (struct tpg_format
 * n_planes). tpg_fill() takes either one pointer per colour plane (e.g. Y
 * and UV in two buffers for a multi-planar capture) or a single pointer to
 * a contiguous buffer holding the planes at offset[]. tpg_read_stamp()
 * reads plane 0 only; tpg_to_rgb24() needs one pointer per colour plane
 * (tpg_split_buffer() makes them from a contiguous buffer).
 */
#ifndef VMEDIA_VCAM_TPG_H
#define VMEDIA_VCAM_TPG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TPG_MAX_PLANES	     3
#define TPG_MAX_SIZE	     8192 /* largest width and height */

#define TPG_STAMP_BLOCK	     8 /* pixels per bit, each way */
#define TPG_STAMP_COLS	     32
#define TPG_STAMP_ROWS	     4
#define TPG_STAMP_MIN_WIDTH  (TPG_STAMP_BLOCK * TPG_STAMP_COLS) /* 256 */
#define TPG_STAMP_MIN_HEIGHT (TPG_STAMP_BLOCK * TPG_STAMP_ROWS) /* 32 */

/*
 * One frame's layout, without padding: computed by tpg_format_init().
 * Callers may raise bytesperline/sizeimage (and then offset/total_size)
 * for padded buffers; every function checks the struct is consistent.
 */
struct tpg_format {
	uint32_t fourcc; /* V4L2_PIX_FMT_* */
	uint32_t width;
	uint32_t height;
	unsigned
		n_planes; /* colour planes: 1 packed/GREY, 2 NV*, 3 YU12/YV12 */
	uint32_t bytesperline[TPG_MAX_PLANES];
	uint32_t sizeimage[TPG_MAX_PLANES]; /* bytes of each plane */
	uint32_t offset[TPG_MAX_PLANES];    /* plane start, contiguous layout */
	uint32_t total_size; /* contiguous buffer: V4L2's single-planar
				sizeimage */
};

enum tpg_pattern {
	TPG_PAT_BARS,	     /* 8 bars, EBU 100/0/75/0: white 100%, rest 75% */
	TPG_PAT_SOLID_BLACK, /* solid colours, 100% */
	TPG_PAT_SOLID_WHITE,
	TPG_PAT_SOLID_RED,
	TPG_PAT_SOLID_GREEN,
	TPG_PAT_SOLID_BLUE,
	TPG_PAT_GRADIENT,   /* horizontal black to white ramp */
	TPG_PAT_CHECKERS,   /* 16x16 black and white squares */
	TPG_PAT_NOISE,	    /* grey noise, the same for the same sequence */
	TPG_PAT_MOVING_BOX, /* a box bouncing with the sequence number */
	TPG_PAT_COUNT
};

struct tpg_settings {
	enum tpg_pattern pattern;
	int brightness; /* 0..255, 128: unchanged; adds (b - 128) to Y */
	int contrast;	/* 0..255, 128: gain 1; scales Y - 16 and chroma */
	int saturation; /* 0..255, 128: gain 1; scales chroma */
	int hue;	/* -128..127, rotates chroma by hue * 180/128 degrees */
	bool stamp;	/* draw the sequence/timestamp stamp */
};

#define TPG_BRIGHTNESS_DEF 128
#define TPG_CONTRAST_DEF   128
#define TPG_SATURATION_DEF 128
#define TPG_HUE_DEF	   0

struct tpg_colour {
	uint8_t y, cb, cr; /* BT.601 limited range */
	uint8_t r, g, b;   /* full range */
};

#define TPG_PAL_SIZE 272

/*
 * Callers own the storage; read s freely, change it only with tpg_set(),
 * which recomputes the palette when a colour control changed.
 */
struct tpg {
	struct tpg_settings s;
	struct tpg_colour pal[TPG_PAL_SIZE];
};

void tpg_settings_default(struct tpg_settings *s);
/* Default settings: 75% bars, neutral controls, stamp on. */
void tpg_init(struct tpg *t);
/* Returns 0 or -EINVAL (a value out of range; t is then unchanged). */
int tpg_set(struct tpg *t, const struct tpg_settings *s);
/* A name for a menu control; NULL when p is out of range. */
const char *tpg_pattern_name(enum tpg_pattern p);

/*
 * Formats: YUYV, UYVY, NV12, NV21, NV16, YUV420 (YU12), YVU420 (YV12),
 * GREY, RGB24, BGR24, XRGB32, ARGB32 (alpha 0xff). Width and height are
 * 1..TPG_MAX_SIZE, width even for chroma-subsampled formats, height even
 * for 4:2:0. Returns 0 or -EINVAL.
 */
int tpg_format_init(struct tpg_format *f, uint32_t fourcc, uint32_t width,
		    uint32_t height);
/* True when tpg_format_init() accepts fourcc at some size. */
bool tpg_format_supported(uint32_t fourcc);

/*
 * Point planes[]/sizes[] at the colour planes inside one contiguous buffer
 * of f->total_size bytes. Returns f->n_planes.
 */
unsigned tpg_split_buffer(const struct tpg_format *f, void *buf,
			  void *planes[TPG_MAX_PLANES],
			  size_t sizes[TPG_MAX_PLANES]);

/*
 * Draw frame `seq` (its stamp carries seq and ts_ns). n_planes is
 * f->n_planes (one buffer per colour plane) or 1 (a contiguous buffer).
 * Returns 0; -EINVAL for a bad format or plane count; -ENOSPC when a plane
 * size is short of what the format needs (nothing is written then).
 */
int tpg_fill(const struct tpg *t, const struct tpg_format *f, uint32_t seq,
	     uint64_t ts_ns, void *const planes[], const size_t plane_sizes[],
	     unsigned n_planes);

/*
 * Decode the stamp from the luma (G for RGB) of plane 0, which must hold
 * f->sizeimage[0] bytes. Returns 0, -EBADMSG when the strip is missing,
 * unreadable or fails its checksum, or -EINVAL for a bad format.
 */
int tpg_read_stamp(const struct tpg_format *f, void *const planes[],
		   uint32_t *seq, uint64_t *ts_ns);

/*
 * Convert a frame (one pointer per colour plane, each holding
 * f->sizeimage[p] bytes) to packed RGB24, width * 3 bytes a row.
 * Returns 0, -ENOSPC when rgb_size is short, or -EINVAL.
 */
int tpg_to_rgb24(const struct tpg_format *f, void *const planes[], uint8_t *rgb,
		 size_t rgb_size);

/*
 * Internal, shared by tpg.c and tpg_font.c: the stamp as a two-colour
 * picture, without any pixel format: tpg.c packs its rows like pattern rows
 * and finds the luma that tpg_stamp_read() samples.
 */
#define TPG_STAMP_BITS (TPG_STAMP_COLS * TPG_STAMP_ROWS)
#define TPG_STAMP_TEXT 32 /* "TS 18446744073.709551615" and a NUL fit */

struct tpg_stamp {
	uint8_t bits[TPG_STAMP_BITS]; /* the strip, 0 or 1 per block */
	char text[2][TPG_STAMP_TEXT];
	uint32_t scale;	 /* text font scale; 0 when the text does not fit */
	uint32_t pad;	 /* text box margin */
	uint32_t width;	 /* widest stamp row, even */
	uint32_t height; /* rows covered from the top, even */
};

/* Lay out the stamp for a width x height frame; false: it does not fit. */
bool tpg_stamp_init(struct tpg_stamp *st, uint32_t width, uint32_t height,
		    uint32_t seq, uint64_t ts_ns);
/*
 * Stamp row y (< st->height) as `off`/`on` values into row[]; returns how
 * many pixels it wrote (even, at most st->width).
 */
uint32_t tpg_stamp_row(const struct tpg_stamp *st, uint32_t y, uint16_t *row,
		       uint16_t off, uint16_t on);
/* Rows y with equal keys are equal, so tpg.c may copy instead of draw. */
uint32_t tpg_stamp_row_key(const struct tpg_stamp *st, uint32_t y);
/*
 * Read the strip back from a frame of at least the minimum size: luma
 * points at pixel (0, 0)'s luma (or G) byte, bpl bytes a row, step bytes a
 * pixel. Checks the sync and the CRC; returns 0 or -EBADMSG.
 */
int tpg_stamp_read(const uint8_t *luma, size_t bpl, unsigned step,
		   uint32_t *seq, uint64_t *ts_ns);

#endif
