/* SPDX-License-Identifier: MIT */
/*
 * Guest RAM for the fuzz targets, with a hostile guest's tricks, and the
 * way the harnesses report a broken invariant.
 *
 * Oracles call fg_fail(), which aborts with a message, so libFuzzer
 * records the input as a crash like any sanitizer report. Only the
 * fuzzers check these; nothing in src/ asserts.
 */
#ifndef VMEDIA_TESTS_FUZZ_MEM_H
#define VMEDIA_TESTS_FUZZ_MEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fakes/fake_mem.h"

void fg_fail(const char *fmt, ...)
	__attribute__((noreturn, format(printf, 1, 2)));

/* Log level from $VMEDIA_FUZZ_LOG (err, warn, info, debug); default off. */
void fg_log_init(void);

/* A live mapping, as the guard needs to know it. */
struct fg_live {
	void *priv; /* fake_mem's token */
	uint8_t *ptr;
	size_t len;
};

/*
 * A gmem in front of the fake RAM that plays a second vCPU: at the n-th
 * map() from now it rewrites a few bytes of RAM (the guest changing a
 * ring or a payload while the device walks it). fake_mem's own fault
 * injection (fake_mem_fail_nth) makes maps fail.
 *
 * The guard: while the device runs (fg_mem_guard on), every byte of RAM
 * outside a live mapping is poisoned for AddressSanitizer. A device that
 * touches guest memory it did not map, or keeps using a mapping after
 * unmapping it, is reported on the spot with its stack; on Xen that
 * access would hit an unmapped page, or whatever got mapped there next.
 */
struct fg_mem {
	struct gmem gmem; /* what the code under test gets */
	struct fake_mem fm;
	unsigned maps;	    /* map() calls since the reset */
	unsigned tamper_at; /* maps value that triggers, 0 = none */
	uint32_t tamper_off;
	uint8_t tamper_len;
	uint8_t tamper_bytes[8];
	bool tampered; /* it happened (the caller clears this) */
	/*
	 * The harness driver's private area (rings, event buffers). A
	 * hostile input may point USERPTR or control payloads there; the
	 * device then writes over the driver's rings, which is the guest's
	 * own doing, and the checks on what the driver reads back are off
	 * for the rest of the input (tainted).
	 */
	uint64_t priv_lo, priv_hi;
	uint64_t rw_ok[2]; /* the used rings: mapped read-write legitimately */
	bool tainted;
	/* the guard */
	unsigned guard_depth;
	struct fg_live *live;
	unsigned n_live, cap_live;
	/*
	 * Pages mapped at some time in this input, and one either side:
	 * only there can a stale pointer or a short overrun land, so only
	 * they are poisoned (all of RAM would cost more than the device).
	 */
	uint8_t *touched;
};

/* RAM of size bytes at guest address base; aborts if it cannot. */
void fg_mem_init(struct fg_mem *m, uint64_t base, size_t size);
/* Zeroed RAM, counters and tricks cleared (nothing may be mapped). */
void fg_mem_reset(struct fg_mem *m);
/* Arm the second vCPU: len (<= 8) bytes at RAM offset off, n-th map. */
void fg_mem_tamper(struct fg_mem *m, unsigned nth, uint32_t off,
		   const uint8_t *bytes, uint8_t len);
/* The device runs from here to the matching off (calls nest). */
void fg_mem_guard(struct fg_mem *m, bool on);
/* No mapping live, no bogus unmap, no broken gmem contract. */
void fg_mem_check_clean(struct fg_mem *m);

#endif
