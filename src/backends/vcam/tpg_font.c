/* SPDX-License-Identifier: MIT */
/*
 * The stamp, in two colours and no pixel format: the machine-readable
 * strip (layout in tpg.h) and, under it, the sequence and timestamp in a
 * built-in 5x7 font. tpg.c packs these rows into the frame and hands the
 * luma back to tpg_stamp_read(), which decodes and checks the strip.
 *
 * The glyphs are drawn here as pictures so they can be checked by eye;
 * original artwork in the style of the classic 5x7 LCD character sets.
 */
#include "tpg.h"

#include <errno.h>
#include <string.h>

#define FONT_W	   5
#define FONT_H	   7
#define STAMP_SYNC 0xB38Fu
#define TEXT_CHARS 24 /* the longest line, "TS 18446744073.709551615" */

struct glyph {
	char c;
	char rows[FONT_H][FONT_W + 1];
};

/* clang-format off */
static const struct glyph font[] = {
	{ '0', { ".###.",
		 "#...#",
		 "#..##",
		 "#.#.#",
		 "##..#",
		 "#...#",
		 ".###." } },
	{ '1', { "..#..",
		 ".##..",
		 "..#..",
		 "..#..",
		 "..#..",
		 "..#..",
		 ".###." } },
	{ '2', { ".###.",
		 "#...#",
		 "....#",
		 "...#.",
		 "..#..",
		 ".#...",
		 "#####" } },
	{ '3', { "#####",
		 "...#.",
		 "..#..",
		 "...#.",
		 "....#",
		 "#...#",
		 ".###." } },
	{ '4', { "...#.",
		 "..##.",
		 ".#.#.",
		 "#..#.",
		 "#####",
		 "...#.",
		 "...#." } },
	{ '5', { "#####",
		 "#....",
		 "####.",
		 "....#",
		 "....#",
		 "#...#",
		 ".###." } },
	{ '6', { "..##.",
		 ".#...",
		 "#....",
		 "####.",
		 "#...#",
		 "#...#",
		 ".###." } },
	{ '7', { "#####",
		 "....#",
		 "...#.",
		 "..#..",
		 ".#...",
		 ".#...",
		 ".#..." } },
	{ '8', { ".###.",
		 "#...#",
		 "#...#",
		 ".###.",
		 "#...#",
		 "#...#",
		 ".###." } },
	{ '9', { ".###.",
		 "#...#",
		 "#...#",
		 ".####",
		 "....#",
		 "...#.",
		 ".##.." } },
	{ 'A', { ".###.",
		 "#...#",
		 "#...#",
		 "#####",
		 "#...#",
		 "#...#",
		 "#...#" } },
	{ 'B', { "####.",
		 "#...#",
		 "#...#",
		 "####.",
		 "#...#",
		 "#...#",
		 "####." } },
	{ 'C', { ".###.",
		 "#...#",
		 "#....",
		 "#....",
		 "#....",
		 "#...#",
		 ".###." } },
	{ 'D', { "###..",
		 "#..#.",
		 "#...#",
		 "#...#",
		 "#...#",
		 "#..#.",
		 "###.." } },
	{ 'E', { "#####",
		 "#....",
		 "#....",
		 "####.",
		 "#....",
		 "#....",
		 "#####" } },
	{ 'F', { "#####",
		 "#....",
		 "#....",
		 "####.",
		 "#....",
		 "#....",
		 "#...." } },
	{ 'G', { ".###.",
		 "#...#",
		 "#....",
		 "#.###",
		 "#...#",
		 "#...#",
		 ".####" } },
	{ 'H', { "#...#",
		 "#...#",
		 "#...#",
		 "#####",
		 "#...#",
		 "#...#",
		 "#...#" } },
	{ 'I', { ".###.",
		 "..#..",
		 "..#..",
		 "..#..",
		 "..#..",
		 "..#..",
		 ".###." } },
	{ 'J', { "..###",
		 "...#.",
		 "...#.",
		 "...#.",
		 "...#.",
		 "#..#.",
		 ".##.." } },
	{ 'K', { "#...#",
		 "#..#.",
		 "#.#..",
		 "##...",
		 "#.#..",
		 "#..#.",
		 "#...#" } },
	{ 'L', { "#....",
		 "#....",
		 "#....",
		 "#....",
		 "#....",
		 "#....",
		 "#####" } },
	{ 'M', { "#...#",
		 "##.##",
		 "#.#.#",
		 "#.#.#",
		 "#...#",
		 "#...#",
		 "#...#" } },
	{ 'N', { "#...#",
		 "#...#",
		 "##..#",
		 "#.#.#",
		 "#..##",
		 "#...#",
		 "#...#" } },
	{ 'O', { ".###.",
		 "#...#",
		 "#...#",
		 "#...#",
		 "#...#",
		 "#...#",
		 ".###." } },
	{ 'P', { "####.",
		 "#...#",
		 "#...#",
		 "####.",
		 "#....",
		 "#....",
		 "#...." } },
	{ 'Q', { ".###.",
		 "#...#",
		 "#...#",
		 "#...#",
		 "#.#.#",
		 "#..#.",
		 ".##.#" } },
	{ 'R', { "####.",
		 "#...#",
		 "#...#",
		 "####.",
		 "#.#..",
		 "#..#.",
		 "#...#" } },
	{ 'S', { ".####",
		 "#....",
		 "#....",
		 ".###.",
		 "....#",
		 "....#",
		 "####." } },
	{ 'T', { "#####",
		 "..#..",
		 "..#..",
		 "..#..",
		 "..#..",
		 "..#..",
		 "..#.." } },
	{ 'U', { "#...#",
		 "#...#",
		 "#...#",
		 "#...#",
		 "#...#",
		 "#...#",
		 ".###." } },
	{ 'V', { "#...#",
		 "#...#",
		 "#...#",
		 "#...#",
		 "#...#",
		 ".#.#.",
		 "..#.." } },
	{ 'W', { "#...#",
		 "#...#",
		 "#...#",
		 "#.#.#",
		 "#.#.#",
		 "#.#.#",
		 ".#.#." } },
	{ 'X', { "#...#",
		 "#...#",
		 ".#.#.",
		 "..#..",
		 ".#.#.",
		 "#...#",
		 "#...#" } },
	{ 'Y', { "#...#",
		 "#...#",
		 ".#.#.",
		 "..#..",
		 "..#..",
		 "..#..",
		 "..#.." } },
	{ 'Z', { "#####",
		 "....#",
		 "...#.",
		 "..#..",
		 ".#...",
		 "#....",
		 "#####" } },
	{ '.', { ".....",
		 ".....",
		 ".....",
		 ".....",
		 ".....",
		 ".##..",
		 ".##.." } },
	{ ':', { ".....",
		 ".##..",
		 ".##..",
		 ".....",
		 ".##..",
		 ".##..",
		 "....." } },
	{ '-', { ".....",
		 ".....",
		 ".....",
		 "#####",
		 ".....",
		 ".....",
		 "....." } },
	{ '/', { ".....",
		 "....#",
		 "...#.",
		 "..#..",
		 ".#...",
		 "#....",
		 "....." } },
	{ '%', { "##...",
		 "##..#",
		 "...#.",
		 "..#..",
		 ".#...",
		 "#..##",
		 "...##" } },
};
/* clang-format on */

/* Row `row` of c's glyph, bit 4 leftmost; unknown characters are blank. */
static unsigned font_row(char c, unsigned row)
{
	unsigned mask = 0;

	if (c >= 'a' && c <= 'z')
		c = (char)(c - 'a' + 'A');
	for (size_t i = 0; i < sizeof(font) / sizeof(font[0]); i++) {
		if (font[i].c != c)
			continue;
		for (unsigned col = 0; col < FONT_W; col++)
			if (font[i].rows[row][col] == '#')
				mask |= 1u << (FONT_W - 1 - col);
		break;
	}
	return mask;
}

/* ---- the strip ---------------------------------------------------------- */

static uint16_t stamp_crc(uint32_t seq, uint64_t ts)
{
	uint8_t b[12];
	uint16_t crc = 0xffff; /* CRC-16/CCITT-FALSE */

	for (unsigned i = 0; i < 4; i++)
		b[i] = (uint8_t)(seq >> (24 - 8 * i));
	for (unsigned i = 0; i < 8; i++)
		b[4 + i] = (uint8_t)(ts >> (56 - 8 * i));
	for (unsigned i = 0; i < sizeof(b); i++) {
		crc ^= (uint16_t)(b[i] << 8);
		for (int k = 0; k < 8; k++)
			crc = (uint16_t)(crc & 0x8000 ? (crc << 1) ^ 0x1021
						      : crc << 1);
	}
	return crc;
}

static void put_bits(uint8_t *bits, unsigned *pos, uint64_t v, unsigned n)
{
	while (n--)
		bits[(*pos)++] = (uint8_t)((v >> n) & 1);
}

static uint64_t get_bits(const uint8_t *bits, unsigned *pos, unsigned n)
{
	uint64_t v = 0;

	while (n--)
		v = v << 1 | bits[(*pos)++];
	return v;
}

/*
 * Mean of a block's centre 4x4, or -1 when it is neither clearly black nor
 * clearly white: no strip there, or a damaged one.
 */
static int read_block(const uint8_t *luma, size_t bpl, unsigned step,
		      unsigned i)
{
	uint32_t bx = i % TPG_STAMP_COLS * TPG_STAMP_BLOCK + 2;
	uint32_t by = i / TPG_STAMP_COLS * TPG_STAMP_BLOCK + 2;
	unsigned sum = 0;

	for (uint32_t y = by; y < by + 4; y++)
		for (uint32_t x = bx; x < bx + 4; x++)
			sum += luma[y * bpl + (size_t)x * step];
	sum /= 16;
	return sum < 64 ? 0 : sum > 192 ? 1 : -1;
}

int tpg_stamp_read(const uint8_t *luma, size_t bpl, unsigned step,
		   uint32_t *seq, uint64_t *ts_ns)
{
	uint8_t bits[TPG_STAMP_BITS];
	unsigned pos = 0;
	uint32_t s;
	uint64_t ts;

	for (unsigned i = 0; i < TPG_STAMP_BITS; i++) {
		int b = read_block(luma, bpl, step, i);

		if (b < 0)
			return -EBADMSG;
		bits[i] = (uint8_t)b;
	}
	if (get_bits(bits, &pos, 16) != STAMP_SYNC)
		return -EBADMSG;
	s = (uint32_t)get_bits(bits, &pos, 32);
	ts = get_bits(bits, &pos, 64);
	if (get_bits(bits, &pos, 16) != stamp_crc(s, ts))
		return -EBADMSG;
	if (seq)
		*seq = s;
	if (ts_ns)
		*ts_ns = ts;
	return 0;
}

/* ---- the text ----------------------------------------------------------- */

static unsigned put_dec(char *d, uint64_t v, unsigned min_digits)
{
	char tmp[20];
	unsigned n = 0;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v || n < min_digits);
	for (unsigned i = 0; i < n; i++)
		d[i] = tmp[n - 1 - i];
	return n;
}

static void stamp_text(struct tpg_stamp *st, uint32_t seq, uint64_t ts)
{
	char *l0 = st->text[0], *l1 = st->text[1];
	unsigned n;

	memcpy(l0, "SEQ ", 4);
	n = 4 + put_dec(l0 + 4, seq, 1);
	l0[n] = '\0';
	memcpy(l1, "TS ", 3);
	n = 3 + put_dec(l1 + 3, ts / 1000000000u, 1);
	l1[n++] = '.';
	n += put_dec(l1 + n, ts % 1000000000u, 9);
	l1[n] = '\0';
}

/*
 * The largest font scale, up to width/320, whose text box (two lines of
 * TEXT_CHARS, margins) fits under the strip; 0 when none does. Even edges
 * keep 4:2:0 chroma of the box clean.
 */
static void text_layout(struct tpg_stamp *st, uint32_t w, uint32_t h)
{
	uint32_t s = w / 320;

	for (s = s < 1 ? 1 : s > 16 ? 16 : s; s > 0; s--) {
		uint32_t pad = 2 * s;
		uint32_t x1 =
			(TEXT_CHARS * (FONT_W + 1) * s + 2 * pad + 1) & ~1u;
		uint32_t y1 = (TPG_STAMP_MIN_HEIGHT + 2 * (FONT_H + 1) * s +
			       2 * pad + 1) &
			      ~1u;

		if (x1 <= w && y1 <= h) {
			st->scale = s;
			st->pad = pad;
			st->width = x1 > st->width ? x1 : st->width;
			st->height = y1;
			return;
		}
	}
}

bool tpg_stamp_init(struct tpg_stamp *st, uint32_t width, uint32_t height,
		    uint32_t seq, uint64_t ts_ns)
{
	unsigned pos = 0;

	if (width < TPG_STAMP_MIN_WIDTH || height < TPG_STAMP_MIN_HEIGHT)
		return false;
	put_bits(st->bits, &pos, STAMP_SYNC, 16);
	put_bits(st->bits, &pos, seq, 32);
	put_bits(st->bits, &pos, ts_ns, 64);
	put_bits(st->bits, &pos, stamp_crc(seq, ts_ns), 16);
	st->scale = st->pad = 0;
	st->width = TPG_STAMP_MIN_WIDTH;
	st->height = TPG_STAMP_MIN_HEIGHT;
	text_layout(st, width, height);
	stamp_text(st, seq, ts_ns);
	return true;
}

static void fill(uint16_t *row, uint32_t x0, uint32_t x1, uint16_t v)
{
	for (uint32_t x = x0; x < x1; x++)
		row[x] = v;
}

#define KEY_BLANK TPG_STAMP_ROWS /* keys below: the strip's block rows */

uint32_t tpg_stamp_row_key(const struct tpg_stamp *st, uint32_t y)
{
	uint32_t s = st->scale, cell_h = (FONT_H + 1) * s, rel, line, gy;

	if (y < TPG_STAMP_MIN_HEIGHT)
		return y / TPG_STAMP_BLOCK;
	if (y < TPG_STAMP_MIN_HEIGHT + st->pad)
		return KEY_BLANK;
	rel = y - TPG_STAMP_MIN_HEIGHT - st->pad;
	line = rel / cell_h;
	gy = rel % cell_h / s;
	if (line >= 2 || gy >= FONT_H)
		return KEY_BLANK;
	return KEY_BLANK + 1 + line * FONT_H + gy;
}

/* A text box row: white glyph pixels, each a scale x scale square. */
static uint32_t text_row(const struct tpg_stamp *st, uint32_t y, uint16_t *row,
			 uint16_t off, uint16_t on)
{
	uint32_t s = st->scale, key = tpg_stamp_row_key(st, y), line, gy;
	uint32_t x1 = (TEXT_CHARS * (FONT_W + 1) * s + 2 * st->pad + 1) & ~1u;

	fill(row, 0, x1, off);
	if (key == KEY_BLANK)
		return x1;
	line = (key - KEY_BLANK - 1) / FONT_H;
	gy = (key - KEY_BLANK - 1) % FONT_H;
	for (uint32_t i = 0; st->text[line][i]; i++) {
		unsigned mask = font_row(st->text[line][i], gy);
		uint32_t cx = st->pad + i * (FONT_W + 1) * s;

		for (uint32_t col = 0; col < FONT_W; col++)
			if (mask & (1u << (FONT_W - 1 - col)))
				fill(row, cx + col * s, cx + (col + 1) * s, on);
	}
	return x1;
}

uint32_t tpg_stamp_row(const struct tpg_stamp *st, uint32_t y, uint16_t *row,
		       uint16_t off, uint16_t on)
{
	const uint8_t *b;

	if (y >= TPG_STAMP_MIN_HEIGHT)
		return text_row(st, y, row, off, on);
	b = &st->bits[y / TPG_STAMP_BLOCK * TPG_STAMP_COLS];
	for (uint32_t x = 0; x < TPG_STAMP_MIN_WIDTH; x++)
		row[x] = b[x / TPG_STAMP_BLOCK] ? on : off;
	return TPG_STAMP_MIN_WIDTH;
}
