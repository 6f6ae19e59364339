/* SPDX-License-Identifier: MIT */
/*
 * fuzz_commands: the command runner and every payload codec, through the
 * real virtio-media device and the vcam backend. The queues are set up
 * properly; the fuzzer writes the commands: their readable bytes, how the
 * chain is cut into segments, how much room there is for the answer and
 * where it lies (apart, or over the request as Linux lays out WR
 * ioctls), and when frames are produced. Several commands per input, so
 * sessions, buffers, mappings and events carry from one to the next.
 *
 * Input:
 *   u8 device   bit0 mplane, bit1 no SHM region, bit2 tight limits,
 *               bit3 no EVENT_IDX, bit4 no INDIRECT_DESC,
 *               bit5 do not re-post used event buffers
 *   u8 events   event buffers posted (mod 17)
 *   records until the input ends, each:
 *     u8  shape   low nibble: readable segments (mod 9),
 *                 high nibble: writable segments (mod 9); 0xff: reset
 *                 the device; 0xfe: post event buffers up to the next
 *                 u8 (mod 17), and nothing else in this record
 *     u8  flags   bit0 indirect table, high nibble: frames to produce
 *     u8  faults  low nibble: fail the n-th guest mapping (1..15),
 *                 high nibble: the guest rewrites RAM at the n-th map
 *     u16 length of each readable segment
 *     u16 length, u16 place of each writable segment (place 0xffff:
 *         in the response area, else that offset into the request)
 *     [u32 offset, u8 length, bytes] when the guest rewrites RAM
 *     the readable bytes, back to back
 */
#include <errno.h>
#include <linux/videodev2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_answer.h"
#include "fuzz_guest.h"
#include "fuzz_input.h"
#include "vmedia/virtio_media_wire.h"

#define MAX_SEGS     8u
#define MAX_COMMANDS 128u /* a recorded session is some 40 */

struct command {
	struct rb_seg seg[2 * MAX_SEGS];
	unsigned n;
	bool indirect;
	unsigned frames;
	size_t req_len;
	uint8_t req[FG_AREA_SIZE]; /* the readable bytes, in order */
};

/* Where the readable bytes go: back to back in the request area. */
static void place_readable(struct command *c, struct fz *f, unsigned n_rd)
{
	uint64_t at = FG_RAM_BASE + FG_CMD_OFF;
	size_t used = 0;

	for (unsigned i = 0; i < n_rd; i++) {
		size_t len = fz_u16(f);

		if (len > FG_AREA_SIZE - used)
			len = FG_AREA_SIZE - used;
		c->seg[c->n++] =
			(struct rb_seg){ at + used, (uint32_t)len, false };
		used += len;
	}
	c->req_len = used;
}

static void place_writable(struct command *c, struct fz *f, unsigned n_wr)
{
	uint64_t resp = FG_RAM_BASE + FG_RESP_OFF;
	const uint64_t end = FG_RAM_BASE + FG_RESP_OFF + FG_AREA_SIZE;
	size_t used = 0;

	for (unsigned i = 0; i < n_wr; i++) {
		uint64_t len = fz_u16(f), place = fz_u16(f), at;

		if (place == 0xffff) {
			at = resp + used;
			if (len > FG_AREA_SIZE - used)
				len = FG_AREA_SIZE - used;
			used += len;
		} else {
			/* Over the request, as Linux aliases WR payloads. */
			at = FG_RAM_BASE + FG_CMD_OFF + place % FG_AREA_SIZE;
			if (len > end - at)
				len = end - at;
		}
		c->seg[c->n++] = (struct rb_seg){ at, (uint32_t)len, true };
	}
}

static void faults(struct fg_env *e, struct fz *f, uint8_t spec)
{
	if (spec & 0x0f)
		fake_mem_fail_nth(&e->mem.fm, spec & 0x0f,
				  spec & 1 ? -EFAULT : -ENOMEM);
	if (spec >> 4) {
		uint32_t off = fz_u32(f);
		uint8_t len = fz_u8(f) % 9, bytes[8];

		fz_copy(f, bytes, len);
		fg_mem_tamper(&e->mem, spec >> 4, off, bytes, len);
	}
}

/* Gather the device's answer from the writable segments. */
static size_t read_answer(struct fg_env *e, const struct command *c,
			  uint8_t *out, size_t room, size_t written)
{
	size_t got = 0;

	for (unsigned i = 0; i < c->n && got < written; i++) {
		size_t len = c->seg[i].len;

		if (!c->seg[i].write)
			continue;
		if (len > written - got)
			len = written - got;
		if (len > room - got)
			len = room - got;
		fake_mem_read(&e->mem.fm, c->seg[i].addr, out + got, len);
		got += len;
	}
	return got;
}

/* $VMEDIA_FUZZ_TRACE: one line per command, to read a seed or a crash. */
static bool trace;

static void trace_command(const struct command *c, const uint8_t *resp,
			  size_t n)
{
	uint32_t cmd = 0, code = 0, status = 0;

	memcpy(&cmd, c->req, c->req_len < 4 ? c->req_len : 4);
	if (cmd == VIRTIO_MEDIA_CMD_IOCTL && c->req_len >= 16)
		memcpy(&code, c->req + 12, sizeof(code));
	if (n >= 4)
		memcpy(&status, resp, sizeof(status));
	fprintf(stderr, "cmd %u ioctl %u: %zu bytes in, %zu out, status %u\n",
		cmd, code, c->req_len, n, status);
}

static void run_command(struct fg_driver *d, struct command *c)
{
	static uint8_t resp[2 * FG_AREA_SIZE];
	struct fg_env *e = d->g->env;
	int64_t written;
	bool checkable;
	size_t n;

	/* The guest wrote the request before it made the chain available. */
	fake_mem_write(&e->mem.fm, FG_RAM_BASE + FG_CMD_OFF, c->req,
		       c->req_len);
	written = fg_driver_command(d, c->seg, c->n, c->indirect);
	fake_mem_fail_clear(&e->mem.fm);
	e->mem.tamper_at = 0;
	/* The device may have read what the guest rewrote: no oracle then. */
	checkable = !e->mem.tampered;
	e->mem.tampered = false;
	if (written < 0) {
		/* The device refused the chain: reset it, as Linux would. */
		fg_driver_reset(d);
		return;
	}
	n = read_answer(e, c, resp, sizeof(resp), (size_t)written);
	if (trace)
		trace_command(c, resp, n);
	if (checkable)
		fc_check_answer(c->req, c->req_len, resp, n);
}

static void one_record(struct fg_driver *d, struct fz *f)
{
	static struct command c;
	uint8_t shape = fz_u8(f), flags, fault_spec;

	if (shape == 0xff) {
		fg_driver_reset(d);
		return;
	}
	if (shape == 0xfe) {
		fg_driver_post_events(d, fz_u8(f) % (FG_EVENT_BUFS + 1));
		fg_driver_events(d);
		return;
	}
	flags = fz_u8(f);
	fault_spec = fz_u8(f);
	c.n = 0;
	c.indirect = flags & 1;
	c.frames = flags >> 4;
	place_readable(&c, f, (shape & 0x0f) % (MAX_SEGS + 1));
	place_writable(&c, f, (shape >> 4) % (MAX_SEGS + 1));
	faults(d->g->env, f, fault_spec);
	fz_copy(f, c.req, c.req_len);
	if (c.n == 0) {
		/* No chain: the faults meant for it must not hit the next. */
		fake_mem_fail_clear(&d->g->env->mem.fm);
		d->g->env->mem.tamper_at = 0;
		return;
	}
	run_command(d, &c);
	fg_driver_events(d);
	for (unsigned i = 0; i < c.frames; i++) {
		fg_media_pump(d->g, 1);
		fg_driver_events(d);
	}
	fg_media_check_maps(d->g);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fg_env *e = fg_env();
	struct fg_media g;
	struct fg_driver d = { 0 };
	struct fz f;
	uint8_t dev, events;
	unsigned drv_flags;

	trace = getenv("VMEDIA_FUZZ_TRACE") != NULL;
	fc_reset();
	fz_init(&f, data, size);
	dev = fz_u8(&f);
	events = fz_u8(&f);
	drv_flags = (dev & 0x08 ? FG_DRV_NO_EVENT_IDX : 0) |
		    (dev & 0x10 ? FG_DRV_NO_INDIRECT : 0);
	fg_env_reset(e);
	fg_media_create(&g, e, dev & 0x07);
	d.recycle_events = !(dev & 0x20);
	if (fg_driver_up(&d, &g, drv_flags, events % (FG_EVENT_BUFS + 1)))
		for (unsigned i = 0; i < MAX_COMMANDS && !fz_empty(&f); i++)
			one_record(&d, &f);
	fg_media_destroy(&g);
	fg_env_check_clean(e);
	return 0;
}
