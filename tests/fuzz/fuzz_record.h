/* SPDX-License-Identifier: MIT */
/*
 * The seed recorder: a vg_transport that sits between the userspace guest
 * library and the test transport to a real vmediad, watches what the
 * guest does to one device and writes it down as fuzzer inputs:
 *
 *   fuzz_mmio       every MMIO access, and before each kick or wait the
 *                   guest RAM the device is about to read (changed
 *                   descriptors and avail rings, indirect tables, the
 *                   readable buffers of new chains)
 *   fuzz_commands   each commandq chain: its readable bytes and how the
 *                   guest cut it into segments, and where the writable
 *                   segments lay (apart, or over the request)
 *   fuzz_virtqueue  the first chains, moved into a small ring image
 *
 * The guest addresses stay as the guest used them (RAM at VG_RAM_BASE,
 * which is FG_RAM_BASE), so USERPTR SG lists replay as recorded.
 */
#ifndef VMEDIA_TESTS_FUZZ_RECORD_H
#define VMEDIA_TESTS_FUZZ_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vg_transport.h"
#include "vg_vring.h"

/* A growing byte buffer. */
struct seed_buf {
	uint8_t *p;
	size_t len, cap;
};

struct rec_ring {
	bool live;
	uint16_t num;
	uint64_t desc, avail, used;
	uint16_t seen; /* avail entries already recorded */
};

#define REC_MAX_SEGS 64u

struct rec_chain {
	unsigned n;
	struct vg_seg seg[REC_MAX_SEGS];
	bool indirect;
};

/* The relocated ring image for fuzz_virtqueue (see fuzz_record.c). */
struct vq_image {
	uint8_t ram[0x8000];
	size_t data_end; /* next free byte of the data area */
	uint16_t next_desc;
	uint16_t chains;
	bool full;
	struct seed_buf ops;
};

struct recorder {
	struct vg_transport t; /* what the guest library is given */
	struct vg_transport *inner;
	unsigned dev;
	uint64_t base; /* the recorded device's MMIO window */
	uint32_t queue_sel;
	struct rec_ring ring[2];
	uint8_t *shadow; /* guest RAM as the mmio seed has written it */
	struct seed_buf mmio, cmds;
	size_t cmd_flags_at; /* the last command record's flags byte */
	bool have_cmd;
	unsigned waits; /* interrupt waits since that command */
	struct vq_image vq;
	int err; /* first failure, sticky */
};

/* How the replaying harness makes the device (FG_DEV_* of fuzz_guest.h). */
#define REC_MPLANE 0x01u /* vcam's multi-planar variant */
#define REC_TIGHT  0x04u /* small limits: replays reach the limit paths */

/*
 * Record device dev of inner; the guest posts event_bufs event buffers.
 * Hand &r->t to the guest library. 0 or -ENOMEM.
 */
int rec_open(struct recorder *r, struct vg_transport *inner, unsigned dev,
	     unsigned flags, unsigned event_bufs);
/* Write corpus/<target>/<name> for each target; 0 or a negative errno. */
int rec_save(struct recorder *r, const char *corpus, const char *name);
/* Free the recorder (not inner). */
void rec_close(struct recorder *r);

/* The relocated ring image (fuzz_record_vq.c). */
void vq_image_init(struct vq_image *v);
void vq_image_add(struct vq_image *v, struct vg_transport *t,
		  const struct rec_chain *c);
int vq_image_write(struct vq_image *v, struct seed_buf *out);

int seed_put(struct seed_buf *b, const void *p, size_t len);
int seed_u8(struct seed_buf *b, uint8_t v);
int seed_u16(struct seed_buf *b, uint16_t v);
int seed_u32(struct seed_buf *b, uint32_t v);
int seed_u64(struct seed_buf *b, uint64_t v);

#endif
