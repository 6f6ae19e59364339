/* SPDX-License-Identifier: MIT */
/*
 * The harness's own guest driver: just enough of virtio-mmio bring-up and
 * ring handling to hand the device the commands an input describes, and
 * the checks on what the device hands back.
 */
#include <linux/virtio_config.h>
#include <linux/virtio_mmio.h>
#include <linux/virtio_ring.h>
#include <linux/videodev2.h>
#include <string.h>

#include "fuzz_guest.h"
#include "vmedia/virtio_media_wire.h"
#include "vmedia/virtio_mmio.h"

#define WANTED_FEATURES                                                      \
	((1ull << VIRTIO_F_VERSION_1) | (1ull << VIRTIO_F_ACCESS_PLATFORM) | \
	 (1ull << VIRTIO_RING_F_INDIRECT_DESC) |                             \
	 (1ull << VIRTIO_RING_F_EVENT_IDX))

void fg_mmio_write(struct virtio_mmio *vm, uint32_t off, uint32_t val)
{
	virtio_mmio_write(vm, off, 4, val);
	/* As every transport does once the guest's access is complete. */
	virtio_mmio_run_pending(vm);
}

uint32_t fg_mmio_read(struct virtio_mmio *vm, uint32_t off)
{
	return (uint32_t)virtio_mmio_read(vm, off, 4);
}

static void status_add(struct virtio_mmio *vm, uint32_t bits)
{
	fg_mmio_write(vm, VIRTIO_MMIO_STATUS,
		      fg_mmio_read(vm, VIRTIO_MMIO_STATUS) | bits);
}

static bool negotiate(struct fg_driver *d, unsigned flags)
{
	struct virtio_mmio *vm = d->g->vm;
	uint64_t offered, want = WANTED_FEATURES;

	if (flags & FG_DRV_NO_EVENT_IDX)
		want &= ~(1ull << VIRTIO_RING_F_EVENT_IDX);
	if (flags & FG_DRV_NO_INDIRECT)
		want &= ~(1ull << VIRTIO_RING_F_INDIRECT_DESC);
	fg_mmio_write(vm, VIRTIO_MMIO_STATUS, 0);
	status_add(vm, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
	fg_mmio_write(vm, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	offered = (uint64_t)fg_mmio_read(vm, VIRTIO_MMIO_DEVICE_FEATURES) << 32;
	fg_mmio_write(vm, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	offered |= fg_mmio_read(vm, VIRTIO_MMIO_DEVICE_FEATURES);
	d->features = offered & want;
	fg_mmio_write(vm, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	fg_mmio_write(vm, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)d->features);
	fg_mmio_write(vm, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	fg_mmio_write(vm, VIRTIO_MMIO_DRIVER_FEATURES,
		      (uint32_t)(d->features >> 32));
	status_add(vm, VIRTIO_CONFIG_S_FEATURES_OK);
	return fg_mmio_read(vm, VIRTIO_MMIO_STATUS) &
	       VIRTIO_CONFIG_S_FEATURES_OK;
}

static bool queue_setup(struct fg_driver *d, unsigned q,
			struct ring_builder *rb)
{
	struct virtio_mmio *vm = d->g->vm;

	fg_mmio_write(vm, VIRTIO_MMIO_QUEUE_SEL, q);
	fg_mmio_write(vm, VIRTIO_MMIO_QUEUE_NUM, rb->num);
	fg_mmio_write(vm, VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)rb->desc);
	fg_mmio_write(vm, VIRTIO_MMIO_QUEUE_DESC_HIGH,
		      (uint32_t)(rb->desc >> 32));
	fg_mmio_write(vm, VIRTIO_MMIO_QUEUE_AVAIL_LOW, (uint32_t)rb->avail);
	fg_mmio_write(vm, VIRTIO_MMIO_QUEUE_AVAIL_HIGH,
		      (uint32_t)(rb->avail >> 32));
	fg_mmio_write(vm, VIRTIO_MMIO_QUEUE_USED_LOW, (uint32_t)rb->used);
	fg_mmio_write(vm, VIRTIO_MMIO_QUEUE_USED_HIGH,
		      (uint32_t)(rb->used >> 32));
	fg_mmio_write(vm, VIRTIO_MMIO_QUEUE_READY, 1);
	return fg_mmio_read(vm, VIRTIO_MMIO_QUEUE_READY) == 1;
}

static uint64_t evbuf_addr(unsigned i)
{
	return FG_RAM_BASE + FG_EVBUF_OFF + (uint64_t)i * 0x400;
}

/* The kick: the device serves the queue, touching guest RAM. */
static void notify(struct fg_driver *d, unsigned q)
{
	struct fg_mem *m = &d->g->env->mem;

	fg_mem_guard(m, true);
	fg_mmio_write(d->g->vm, VIRTIO_MMIO_QUEUE_NOTIFY, q);
	fg_mem_guard(m, false);
}

void fg_driver_post_events(struct fg_driver *d, unsigned n)
{
	unsigned from = d->event_bufs;

	if (!d->ok || n > FG_EVENT_BUFS || n <= from)
		return;
	for (unsigned i = from; i < n; i++) {
		rb_set_desc(&d->evq, i, evbuf_addr(i),
			    VIRTIO_MEDIA_EVENT_MAX_SIZE, VRING_DESC_F_WRITE, 0);
		rb_publish(&d->evq, (uint16_t)i);
	}
	d->event_bufs = n;
	notify(d, 1);
}

bool fg_driver_up(struct fg_driver *d, struct fg_media *g, unsigned flags,
		  unsigned event_bufs)
{
	struct fake_mem *fm = &g->env->mem.fm;
	bool recycle = d->recycle_events;

	memset(d, 0, sizeof(*d));
	d->g = g;
	d->flags = flags;
	d->recycle_events = recycle;
	event_bufs = event_bufs > FG_EVENT_BUFS ? FG_EVENT_BUFS : event_bufs;
	rb_init_at(&d->cmdq, fm, FG_QUEUE_NUM, FG_RAM_BASE + FG_CMDQ_OFF);
	rb_init_at(&d->evq, fm, FG_QUEUE_NUM, FG_RAM_BASE + FG_EVQ_OFF);
	g->env->mem.priv_lo = FG_RAM_BASE;
	g->env->mem.priv_hi = FG_RAM_BASE + FG_CMD_OFF;
	g->env->mem.rw_ok[0] = d->cmdq.used;
	g->env->mem.rw_ok[1] = d->evq.used;
	if (!negotiate(d, flags) || !queue_setup(d, 0, &d->cmdq) ||
	    !queue_setup(d, 1, &d->evq))
		return false;
	status_add(g->vm, VIRTIO_CONFIG_S_DRIVER_OK);
	d->ok = true;
	fg_driver_post_events(d, event_bufs);
	return true;
}

bool fg_driver_reset(struct fg_driver *d)
{
	return fg_driver_up(d, d->g, d->flags, d->event_bufs);
}

static uint64_t writable_total(const struct rb_seg *segs, unsigned n)
{
	uint64_t total = 0;

	for (unsigned i = 0; i < n; i++)
		if (segs[i].write)
			total += segs[i].len;
	return total;
}

int64_t fg_driver_command(struct fg_driver *d, const struct rb_seg *segs,
			  unsigned n, bool indirect)
{
	uint64_t table = FG_RAM_BASE + FG_INDIRECT_OFF;
	uint16_t head = 0, before = rb_used_idx(&d->cmdq);
	uint32_t id, len;

	if (!d->ok || n == 0 || n > FG_QUEUE_NUM)
		return -1;
	if (indirect) {
		rb_table_chain(d->cmdq.mem, table, segs, n);
		rb_set_indirect(&d->cmdq, head, table, n * 16u);
	} else {
		head = rb_chain_seq(&d->cmdq, head, segs, n);
	}
	rb_publish(&d->cmdq, head);
	notify(d, 0);
	if (d->g->env->mem.tainted) {
		/* The rings may hold anything now: take what is there. */
		while (rb_take_used(&d->cmdq, &id, &len))
			;
		d->ok = !virtio_mmio_broken(d->g->vm);
		return d->ok ? 0 : -1;
	}
	if (!rb_take_used(&d->cmdq, &id, &len)) {
		if (!virtio_mmio_broken(d->g->vm))
			fg_fail("command not answered, device not broken");
		d->ok = false;
		return -1;
	}
	if (id != head || rb_used_idx(&d->cmdq) != (uint16_t)(before + 1))
		fg_fail("used ring: id %u (head %u), idx %u after %u", id, head,
			rb_used_idx(&d->cmdq), before);
	if (len > writable_total(segs, n))
		fg_fail("used length %u above the %llu writable bytes", len,
			(unsigned long long)writable_total(segs, n));
	return len;
}

/* ---- events ------------------------------------------------------------- */

static bool is_mplane(uint32_t type)
{
	return type == V4L2_BUF_TYPE_VIDEO_CAPTURE_MPLANE ||
	       type == V4L2_BUF_TYPE_VIDEO_OUTPUT_MPLANE;
}

/* An m value that is not a guest's: an offset fits 32 bits, a host
 * pointer does not. */
static void check_m(const char *what, uint64_t m, bool must_be_zero)
{
	if (must_be_zero ? m != 0 : m > UINT32_MAX)
		fg_fail("%s: m = %#llx reaches the guest (host pointer?)", what,
			(unsigned long long)m);
}

/* A DQBUF event must carry no host pointer (research: the guest restores m). */
static void check_dqbuf(const uint8_t *ev)
{
	struct v4l2_buffer b;
	struct v4l2_plane p;
	uint64_t m;
	bool user;

	memcpy(&b, ev + sizeof(struct virtio_media_event_header), sizeof(b));
	memcpy(&m, &b.m, sizeof(m));
	user = b.memory == V4L2_MEMORY_USERPTR;
	check_m("DQBUF event", m, user || is_mplane(b.type));
	if (b.index >= VIDEO_MAX_FRAME || (b.flags & V4L2_BUF_FLAG_QUEUED) ||
	    !(b.flags & V4L2_BUF_FLAG_DONE))
		fg_fail("DQBUF event: index %u flags %#x", b.index, b.flags);
	if (!is_mplane(b.type))
		return;
	if (b.length > VIDEO_MAX_PLANES)
		fg_fail("DQBUF event with %u planes", b.length);
	for (unsigned i = 0; i < b.length; i++) {
		memcpy(&p, ev + 96 + i * sizeof(p), sizeof(p));
		memcpy(&m, &p.m, sizeof(m));
		check_m("DQBUF event plane", m, user);
	}
}

static void check_event(const uint8_t *ev, uint32_t len)
{
	struct virtio_media_event_header h;

	memcpy(&h, ev, sizeof(h));
	if ((h.event == VIRTIO_MEDIA_EVT_ERROR && len == 16) ||
	    (h.event == VIRTIO_MEDIA_EVT_EVENT && len == 144))
		return;
	if (h.event == VIRTIO_MEDIA_EVT_DQBUF &&
	    len == VIRTIO_MEDIA_EVENT_MAX_SIZE) {
		check_dqbuf(ev);
		return;
	}
	fg_fail("event type %u with length %u", h.event, len);
}

void fg_driver_events(struct fg_driver *d)
{
	struct fake_mem *fm = &d->g->env->mem.fm;
	uint8_t ev[VIRTIO_MEDIA_EVENT_MAX_SIZE];
	bool reposted = false;
	uint32_t id, len;

	if (!d->ok || d->g->env->mem.tainted)
		return;
	while (rb_take_used(&d->evq, &id, &len)) {
		if (id >= d->event_bufs)
			fg_fail("eventq: used id %u never posted", id);
		fake_mem_read(fm, evbuf_addr(id), ev, sizeof(ev));
		check_event(ev, len);
		d->events_seen++;
		if (!d->recycle_events)
			continue;
		rb_publish(&d->evq, (uint16_t)id);
		reposted = true;
	}
	if (reposted)
		notify(d, 1);
}
