/* SPDX-License-Identifier: MIT */
/*
 * The recording transport (see fuzz_record.h). It learns the rings'
 * places from the guest's own register writes, so it needs nothing from
 * the guest library but its MMIO accesses and interrupt waits.
 */
#include "fuzz_record.h"

#include <errno.h>
#include <linux/virtio_mmio.h>
#include <linux/virtio_ring.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz_input.h"
#include "vmedia/compiler.h"

/* ---- seed buffers ------------------------------------------------------- */

int seed_put(struct seed_buf *b, const void *p, size_t len)
{
	if (b->len + len > b->cap) {
		size_t cap = (b->len + len) * 2 + 256;
		uint8_t *q = realloc(b->p, cap);

		if (!q)
			return -ENOMEM;
		b->p = q;
		b->cap = cap;
	}
	memcpy(b->p + b->len, p, len);
	b->len += len;
	return 0;
}

int seed_u8(struct seed_buf *b, uint8_t v)
{
	return seed_put(b, &v, 1);
}

int seed_u16(struct seed_buf *b, uint16_t v)
{
	uint8_t le[2];

	fz_put16(le, v);
	return seed_put(b, le, sizeof(le));
}

int seed_u32(struct seed_buf *b, uint32_t v)
{
	uint8_t le[4];

	fz_put32(le, v);
	return seed_put(b, le, sizeof(le));
}

int seed_u64(struct seed_buf *b, uint64_t v)
{
	uint8_t le[8];

	fz_put64(le, v);
	return seed_put(b, le, sizeof(le));
}

/* ---- the fuzz_mmio seed ------------------------------------------------- */

static struct recorder *rec_of(struct vg_transport *t)
{
	return container_of(t, struct recorder, t);
}

static void fail(struct recorder *r, int err)
{
	if (!r->err)
		r->err = err;
}

static void log_access(struct recorder *r, bool write, uint32_t off,
		       unsigned size, uint64_t val)
{
	struct seed_buf *b = &r->mmio;
	int e;

	/* Aligned 32-bit accesses are what drivers make: the short form. */
	if (size == 4 && off % 4 == 0) {
		e = seed_u8(b, write ? 0 : 1) | seed_u8(b, (uint8_t)(off / 4));
		if (write)
			e |= seed_u32(b, (uint32_t)val);
	} else {
		e = seed_u8(b, write ? 2 | 8 : 2) | seed_u16(b, (uint16_t)off) |
		    seed_u8(b, (uint8_t)size) | seed_u64(b, val);
	}
	if (e)
		fail(r, -ENOMEM);
}

/* RAM the device will read: op 3, offset from the RAM base, bytes. */
static void log_ram(struct recorder *r, uint64_t gpa, size_t len)
{
	while (len) {
		size_t n = len > 0xffff ? 0xffff : len;
		const void *p = vg_ram_ptr(r->inner, gpa, n);

		if (!p || seed_u8(&r->mmio, 3) ||
		    seed_u32(&r->mmio, (uint32_t)(gpa - r->t.ram_base)) ||
		    seed_u16(&r->mmio, (uint16_t)n) ||
		    seed_put(&r->mmio, p, n)) {
			fail(r, -EFAULT);
			return;
		}
		gpa += n;
		len -= n;
	}
}

/*
 * Rings the guest rewrites in place (descriptors, avail): only what
 * changed since the seed last wrote it, so a seed stays a few KiB.
 */
static void log_ram_changes(struct recorder *r, uint64_t gpa, size_t len)
{
	const uint8_t *p = vg_ram_ptr(r->inner, gpa, len);
	uint8_t *s = r->shadow + (gpa - r->t.ram_base);
	size_t i = 0;

	if (!p) {
		fail(r, -EFAULT);
		return;
	}
	while (i < len) {
		size_t start = i;

		if (p[i] == s[i]) {
			i++;
			continue;
		}
		while (i < len && p[i] != s[i])
			i++;
		log_ram(r, gpa + start, i - start);
		memcpy(s + start, p + start, i - start);
	}
}

static void log_rings(struct recorder *r)
{
	for (unsigned q = 0; q < 2; q++) {
		struct rec_ring *g = &r->ring[q];

		if (!g->live)
			continue;
		log_ram_changes(r, g->desc, (size_t)g->num * 16);
		log_ram_changes(r, g->avail, 6 + (size_t)g->num * 2);
	}
}

/* ---- chains the guest made available ------------------------------------ */

static bool read_desc(struct recorder *r, uint64_t table, unsigned i,
		      struct vring_desc *d)
{
	const void *p = vg_ram_ptr(r->inner, table + i * 16ull, sizeof(*d));

	if (!p)
		return false;
	memcpy(d, p, sizeof(*d));
	return true;
}

/* Follow a chain from a descriptor table; our own guest's, so sane. */
static int walk(struct recorder *r, uint64_t table, unsigned max, unsigned i,
		struct rec_chain *c)
{
	struct vring_desc d;

	while (c->n < REC_MAX_SEGS && i < max && read_desc(r, table, i, &d)) {
		if (d.flags & VRING_DESC_F_INDIRECT) {
			c->indirect = true;
			log_ram(r, d.addr, d.len);
			return walk(r, d.addr, d.len / 16, 0, c);
		}
		c->seg[c->n++] =
			(struct vg_seg){ d.addr, d.len,
					 d.flags & VRING_DESC_F_WRITE };
		if (!(d.flags & VRING_DESC_F_NEXT))
			return 0;
		i = d.next;
	}
	return -EINVAL;
}

/* Where a writable segment lies in the harness: over request bytes? */
static uint16_t place_of(const struct rec_chain *c, const struct vg_seg *w)
{
	size_t off = 0;

	for (unsigned i = 0; i < c->n && !c->seg[i].writable; i++) {
		const struct vg_seg *s = &c->seg[i];

		if (w->gpa >= s->gpa && w->gpa < s->gpa + s->len)
			return (uint16_t)(off + (w->gpa - s->gpa));
		off += s->len;
	}
	return 0xffff;
}

/* One fuzz_commands record (format in fuzz_commands.c). */
static int log_command(struct recorder *r, const struct rec_chain *c)
{
	struct seed_buf *b = &r->cmds;
	unsigned n_rd = 0, n_wr = 0;
	int e = 0;

	for (unsigned i = 0; i < c->n; i++) {
		if (c->seg[i].len > 0xffff)
			return -E2BIG;
		if (c->seg[i].writable)
			n_wr++;
		else
			n_rd++;
	}
	if (n_rd > 8 || n_wr > 8)
		return -E2BIG;
	e |= seed_u8(b, (uint8_t)(n_rd | n_wr << 4));
	r->cmd_flags_at = b->len;
	r->have_cmd = true;
	/*
	 * Time passes after any command: vcam draws what is queued, one
	 * frame per wakeup (two: a STREAMON finds both buffers queued).
	 */
	r->waits = 2;
	e |= seed_u8(b, (uint8_t)(c->indirect | 2 << 4)) | seed_u8(b, 0);
	for (unsigned i = 0; i < n_rd; i++)
		e |= seed_u16(b, (uint16_t)c->seg[i].len);
	for (unsigned i = n_rd; i < c->n; i++)
		e |= seed_u16(b, (uint16_t)c->seg[i].len) |
		     seed_u16(b, place_of(c, &c->seg[i]));
	for (unsigned i = 0; i < n_rd; i++) {
		const void *p =
			vg_ram_ptr(r->inner, c->seg[i].gpa, c->seg[i].len);

		e |= p ? seed_put(b, p, c->seg[i].len) : -EFAULT;
	}
	return e ? -ENOMEM : 0;
}

/* Before a kick of the commandq: its new chains, in every seed. */
static void record_commands(struct recorder *r)
{
	struct rec_ring *g = &r->ring[0];
	const uint16_t *avail = vg_ram_ptr(r->inner, g->avail, 4 + 2u * g->num);

	if (!g->live || !avail)
		return;
	for (; g->seen != avail[1]; g->seen++) {
		struct rec_chain c = { 0 };
		uint16_t head = avail[2 + g->seen % g->num];

		if (walk(r, g->desc, g->num, head, &c)) {
			fail(r, -EINVAL);
			return;
		}
		for (unsigned i = 0; i < c.n; i++)
			if (!c.seg[i].writable)
				log_ram(r, c.seg[i].gpa, c.seg[i].len);
		if (log_command(r, &c))
			fail(r, -E2BIG);
		vq_image_add(&r->vq, r->inner, &c);
	}
}

/* ---- the transport ------------------------------------------------------ */

static void track_queue_reg(struct recorder *r, uint32_t off, uint32_t val)
{
	struct rec_ring *g = r->queue_sel < 2 ? &r->ring[r->queue_sel] : NULL;

	if (off == VIRTIO_MMIO_QUEUE_SEL)
		r->queue_sel = val;
	if (!g)
		return;
	switch (off) {
	case VIRTIO_MMIO_QUEUE_NUM:
		g->num = (uint16_t)val;
		break;
	case VIRTIO_MMIO_QUEUE_DESC_LOW:
		g->desc = (g->desc & ~0xffffffffull) | val;
		break;
	case VIRTIO_MMIO_QUEUE_DESC_HIGH:
		g->desc = (g->desc & 0xffffffffull) | (uint64_t)val << 32;
		break;
	case VIRTIO_MMIO_QUEUE_AVAIL_LOW:
		g->avail = (g->avail & ~0xffffffffull) | val;
		break;
	case VIRTIO_MMIO_QUEUE_AVAIL_HIGH:
		g->avail = (g->avail & 0xffffffffull) | (uint64_t)val << 32;
		break;
	case VIRTIO_MMIO_QUEUE_READY:
		g->live = val & 1;
		g->seen = 0;
		break;
	}
}

static int rec_mmio_write(struct vg_transport *t, uint64_t addr, unsigned size,
			  uint64_t val)
{
	struct recorder *r = rec_of(t);
	uint32_t off = (uint32_t)(addr - r->base);

	if (addr < r->base || addr - r->base >= 0x200)
		return vg_mmio_write(r->inner, addr, size, val);
	track_queue_reg(r, off, (uint32_t)val);
	if (off == VIRTIO_MMIO_STATUS && val == 0)
		r->ring[0].live = r->ring[1].live = false;
	if (off == VIRTIO_MMIO_QUEUE_NOTIFY) {
		/*
		 * Between two commands the daemon's loop ran: frames of
		 * buffers queued before are drawn (a pump of two frames in
		 * the replay, as after a command in fuzz_commands).
		 */
		if (val == 0 && seed_u8(&r->mmio, 4 | 1 << 4))
			fail(r, -ENOMEM);
		if (val == 0)
			record_commands(r);
		/* Event buffers posted after bring-up: fuzz_commands' 0xfe. */
		if (val == 1 && r->have_cmd &&
		    (seed_u8(&r->cmds, 0xfe) || seed_u8(&r->cmds, 16)))
			fail(r, -ENOMEM);
		log_rings(r);
	}
	log_access(r, true, off, size, val);
	return vg_mmio_write(r->inner, addr, size, val);
}

static int rec_mmio_read(struct vg_transport *t, uint64_t addr, unsigned size,
			 uint64_t *val)
{
	struct recorder *r = rec_of(t);

	if (addr >= r->base && addr - r->base < 0x200)
		log_access(r, false, (uint32_t)(addr - r->base), size, 0);
	return vg_mmio_read(r->inner, addr, size, val);
}

/*
 * The guest waits for the device: the device is producing (a frame, an
 * event); in the replay that is a pump of vcam. Event buffers re-posted
 * without a kick must be in RAM by then.
 */
static int rec_irq_wait(struct vg_transport *t, unsigned dev, int timeout_ms)
{
	struct recorder *r = rec_of(t);

	if (dev == r->dev) {
		log_rings(r);
		if (seed_u8(&r->mmio, 4))
			fail(r, -ENOMEM);
		r->waits++;
		if (r->have_cmd)
			r->cmds.p[r->cmd_flags_at] =
				(uint8_t)((r->cmds.p[r->cmd_flags_at] & 0x0f) |
					  (r->waits > 15 ? 15u : r->waits)
						  << 4);
	}
	return vg_irq_wait(r->inner, dev, timeout_ms);
}

static void *rec_ram_ptr(struct vg_transport *t, uint64_t gpa, size_t len)
{
	return vg_ram_ptr(rec_of(t)->inner, gpa, len);
}

static void rec_close_transport(struct vg_transport *t)
{
	(void)t; /* the recorder's owner closes inner itself */
}

static const struct vg_transport_ops rec_ops = {
	.mmio_read = rec_mmio_read,
	.mmio_write = rec_mmio_write,
	.irq_wait = rec_irq_wait,
	.ram_ptr = rec_ram_ptr,
	.close = rec_close_transport,
};

int rec_open(struct recorder *r, struct vg_transport *inner, unsigned dev,
	     unsigned flags, unsigned event_bufs)
{
	memset(r, 0, sizeof(*r));
	r->t = *inner;
	r->t.ops = &rec_ops;
	r->inner = inner;
	r->dev = dev;
	r->base = inner->dev[dev].mmio_base;
	r->shadow = calloc(1, inner->ram_size);
	if (!r->shadow)
		return -ENOMEM;
	vq_image_init(&r->vq);
	/* fuzz_mmio: the media device; fuzz_commands: device, events. */
	if (seed_u8(&r->mmio, (uint8_t)(flags << 1)) ||
	    seed_u8(&r->cmds, (uint8_t)flags) ||
	    seed_u8(&r->cmds, (uint8_t)event_bufs))
		return -ENOMEM;
	return 0;
}

static int save_one(const char *corpus, const char *target, const char *name,
		    const struct seed_buf *b)
{
	char path[512];
	FILE *f;
	size_t n;

	mkdir(corpus, 0755);
	snprintf(path, sizeof(path), "%s/%s", corpus, target);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/%s/%s", corpus, target, name);
	f = fopen(path, "wb");
	if (!f)
		return -errno;
	n = fwrite(b->p, 1, b->len, f);
	if (fclose(f) || n != b->len)
		return -EIO;
	printf("  %s/%s: %zu bytes\n", target, name, b->len);
	return 0;
}

int rec_save(struct recorder *r, const char *corpus, const char *name)
{
	struct seed_buf vq = { 0 };
	int e;

	if (r->err)
		return r->err;
	e = vq_image_write(&r->vq, &vq);
	if (!e)
		e = save_one(corpus, "fuzz_mmio", name, &r->mmio);
	if (!e)
		e = save_one(corpus, "fuzz_commands", name, &r->cmds);
	/* Ring-level seeds belong in the corpus only: they crash nothing. */
	if (!e && r->vq.chains && !strstr(corpus, "regressions"))
		e = save_one(corpus, "fuzz_virtqueue", name, &vq);
	free(vq.p);
	return e;
}

void rec_close(struct recorder *r)
{
	free(r->shadow);
	free(r->mmio.p);
	free(r->cmds.p);
	free(r->vq.ops.p);
	r->shadow = NULL;
	r->mmio.p = r->cmds.p = r->vq.ops.p = NULL;
}
