/* SPDX-License-Identifier: MIT */
/*
 * Reading a fuzzer's input as a stream of little-endian fields. Running
 * out of input is not an error: every read past the end yields zeros, so
 * a harness never needs to check lengths and any prefix of an input is
 * itself a valid input (which keeps libFuzzer's minimisation effective).
 */
#ifndef VMEDIA_TESTS_FUZZ_INPUT_H
#define VMEDIA_TESTS_FUZZ_INPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct fz {
	const uint8_t *p;
	size_t n; /* bytes left */
};

static inline void fz_init(struct fz *f, const uint8_t *data, size_t size)
{
	f->p = data;
	f->n = size;
}

static inline bool fz_empty(const struct fz *f)
{
	return f->n == 0;
}

/* Copy up to len bytes into buf, zero-filling what the input lacks. */
static inline void fz_copy(struct fz *f, void *buf, size_t len)
{
	size_t take = len < f->n ? len : f->n;

	memcpy(buf, f->p, take);
	memset((uint8_t *)buf + take, 0, len - take);
	f->p += take;
	f->n -= take;
}

/* Take up to len bytes in place; *got says how many there were. */
static inline const uint8_t *fz_take(struct fz *f, size_t len, size_t *got)
{
	const uint8_t *p = f->p;

	*got = len < f->n ? len : f->n;
	f->p += *got;
	f->n -= *got;
	return p;
}

static inline uint8_t fz_u8(struct fz *f)
{
	uint8_t v;

	fz_copy(f, &v, sizeof(v));
	return v;
}

static inline uint16_t fz_u16(struct fz *f)
{
	uint8_t b[2];

	fz_copy(f, b, sizeof(b));
	return (uint16_t)(b[0] | b[1] << 8);
}

/* Two statements: the order of operands' side effects is unspecified. */
static inline uint32_t fz_u32(struct fz *f)
{
	uint32_t lo = fz_u16(f);

	return lo | (uint32_t)fz_u16(f) << 16;
}

static inline uint64_t fz_u64(struct fz *f)
{
	uint64_t lo = fz_u32(f);

	return lo | (uint64_t)fz_u32(f) << 32;
}

/* Little-endian stores for writers of inputs (the seed recorder). */
static inline void fz_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static inline void fz_put32(uint8_t *p, uint32_t v)
{
	fz_put16(p, (uint16_t)v);
	fz_put16(p + 2, (uint16_t)(v >> 16));
}

static inline void fz_put64(uint8_t *p, uint64_t v)
{
	fz_put32(p, (uint32_t)v);
	fz_put32(p + 4, (uint32_t)(v >> 32));
}

#endif
