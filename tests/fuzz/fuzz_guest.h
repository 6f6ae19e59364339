/* SPDX-License-Identifier: MIT */
/*
 * What the fuzz targets share: one hostile guest's RAM, shared memory
 * region and interrupt line, a real virtio-media device with the vcam
 * backend on them, and the few driver-side steps (negotiation, queue
 * setup, event buffers) that a command-level target needs to reach the
 * protocol layer at all.
 *
 * Everything is created once per process and put back to its zeroed
 * state per input, so that an input always replays the same way. Broken
 * invariants go to fg_fail() (fuzz_mem.h).
 */
#ifndef VMEDIA_TESTS_FUZZ_GUEST_H
#define VMEDIA_TESTS_FUZZ_GUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fakes/fake_irq.h"
#include "fakes/ring_builder.h"
#include "fuzz_mem.h"
#include "vmedia/shm_region.h"

/*
 * Guest RAM exactly where the userspace guest driver puts it, so that
 * guest addresses in recorded seeds (USERPTR SG lists) stay valid.
 */
#define FG_RAM_BASE 0x40000000ull
#define FG_RAM_SIZE (2u << 20)	  /* the recorder's guest has as much */
#define FG_SHM_BASE 0x3a000000ull /* the window the Xen rig uses */
#define FG_SHM_SIZE (16u << 20)

/* Where the harness's own driver keeps things (offsets into RAM). */
#define FG_CMDQ_OFF	0x0000u
#define FG_EVQ_OFF	0x1000u
#define FG_EVBUF_OFF	0x2000u /* 16 event buffers, 1 KiB apart */
#define FG_INDIRECT_OFF 0x8000u
#define FG_CMD_OFF	0x10000u /* readable part of a command */
#define FG_RESP_OFF	0x20000u /* writable part, when not aliased */
#define FG_AREA_SIZE	0x10000u
#define FG_QUEUE_NUM	64u
#define FG_EVENT_BUFS	16u

/* ---- SHM region 0, checking the allocator's promises -------------------- */

struct fg_shm {
	struct shm_region region;
	uint8_t *mem;
	uint8_t *page_used; /* one flag per 4 KiB page: mapped now */
	unsigned live;	    /* map() minus unmap() */
};

struct fg_env {
	struct fg_mem mem;
	struct fg_shm shm;
	struct fake_irq irq;
};

/* The process's environment, made on first use; aborts if it cannot. */
struct fg_env *fg_env(void);
/* Back to zeroed RAM and SHM with nothing mapped: call per input. */
void fg_env_reset(struct fg_env *e);
/* Everything unmapped and no contract broken: call after teardown. */
void fg_env_check_clean(struct fg_env *e);

/* ---- a virtio-media device with vcam ------------------------------------ */

struct evloop;
struct media_device;
struct virtio_mmio;

#define FG_DEV_MPLANE 0x01u /* vcam:mplane */
#define FG_DEV_NO_SHM 0x02u /* no SHM region: MMAP is ENOTTY */
#define FG_DEV_TIGHT  0x04u /* small session/event/USERPTR limits */

struct fg_media {
	struct fg_env *env;
	struct evloop *loop;
	struct media_device *md;
	struct virtio_mmio *vm;
};

/* Create the device; aborts on failure (the harness cannot go on). */
void fg_media_create(struct fg_media *g, struct fg_env *e, unsigned flags);
void fg_media_destroy(struct fg_media *g);
/*
 * Let vcam produce up to n frames, as its event loop would: unpaced vcam
 * draws one queued buffer per wakeup of its eventfd.
 */
void fg_media_pump(struct fg_media *g, unsigned n);
/*
 * Guest mappings the device should hold right now: 3 per enabled queue
 * plus the segments of every queued USERPTR buffer. Also checks that the
 * device's USERPTR byte count and SHM blocks agree with what is mapped.
 */
unsigned fg_media_expected_maps(struct fg_media *g);
void fg_media_check_maps(struct fg_media *g);

/* ---- the driver side: bring-up, commands, events ------------------------ */

#define FG_DRV_NO_EVENT_IDX 0x01u
#define FG_DRV_NO_INDIRECT  0x02u

struct fg_driver {
	struct fg_media *g;
	struct ring_builder cmdq, evq;
	unsigned flags; /* FG_DRV_* */
	uint64_t features;
	bool ok;	      /* DRIVER_OK reached, queues live */
	unsigned event_bufs;  /* posted at bring-up */
	bool recycle_events;  /* re-post event buffers once used */
	uint32_t events_seen; /* used event buffers taken */
};

/* Negotiate, set up both queues, post event buffers; false if refused. */
bool fg_driver_up(struct fg_driver *d, struct fg_media *g, unsigned flags,
		  unsigned event_bufs);
/* Post event buffers up to n in all (a guest that posted too few). */
void fg_driver_post_events(struct fg_driver *d, unsigned n);
/* Status 0 and bring-up again (the Linux driver's reset path). */
bool fg_driver_reset(struct fg_driver *d);

/*
 * Put segs (struct rb_seg: guest address, length, device-writable) on the
 * commandq (as an indirect table when asked), kick and let the device serve it.
 * Checks the used element the device returns. Returns the used length, or -1
 * when the device did not answer (it refused the chain and is broken now).
 */
int64_t fg_driver_command(struct fg_driver *d, const struct rb_seg *segs,
			  unsigned n, bool indirect);
/* Take used event buffers, check them, re-post if recycling; kick. */
void fg_driver_events(struct fg_driver *d);

void fg_mmio_write(struct virtio_mmio *vm, uint32_t off, uint32_t val);
uint32_t fg_mmio_read(struct virtio_mmio *vm, uint32_t off);

#endif
