/* SPDX-License-Identifier: MIT */
/*
 * Split virtqueue, driver side (virtio 1.2, 2.7). The device is another
 * process (or another domain) reading and writing the same RAM right now,
 * so every publication and every observation is ordered explicitly: the
 * fences below pair with the device's and each says what it orders.
 */
#include "vg_vring.h"

#include <endian.h>
#include <errno.h>
#include <linux/virtio_ring.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Layout of the three areas in one allocation (alignment 16 / 2 / 4). */
static size_t desc_bytes(uint16_t num)
{
	return sizeof(struct vring_desc) * num;
}

static size_t avail_bytes(uint16_t num)
{
	/* flags, idx, ring[num], used_event */
	return sizeof(uint16_t) * (3u + num);
}

static size_t used_offset(uint16_t num)
{
	return (desc_bytes(num) + avail_bytes(num) + 3u) & ~(size_t)3u;
}

static size_t used_bytes(uint16_t num)
{
	/* flags, idx, ring[num], avail_event */
	return sizeof(uint16_t) * 3u + sizeof(struct vring_used_elem) * num;
}

/* The EVENT_IDX words that follow each ring. */
static uint16_t *used_event_word(struct vg_vring *vr)
{
	return (uint16_t *)&vr->avail->ring[vr->num];
}

static uint16_t *avail_event_word(struct vg_vring *vr)
{
	return (uint16_t *)&vr->used->ring[vr->num];
}

static void init_free_list(struct vg_vring *vr)
{
	for (uint16_t i = 0; i < vr->num; i++)
		vr->desc[i].next = htole16((uint16_t)(i + 1));
	vr->free_head = 0;
	vr->num_free = vr->num;
}

/* Does [off, off + len) of the ring allocation stay within one page? */
static bool in_one_page(size_t off, size_t len)
{
	return off / VG_PAGE_SIZE == (off + len - 1) / VG_PAGE_SIZE;
}

/*
 * Program the device with the three areas' device addresses. Where the
 * transport only promises contiguity within a page, each area must sit
 * in one page (true for the queue sizes the driver uses, up to 256).
 */
static int setup_device(struct vg_vring *vr)
{
	struct vg_transport *t = vr->dev->t;
	uint16_t num = vr->num;

	if (vg_dma_paged(t) &&
	    (!in_one_page(0, desc_bytes(num)) ||
	     !in_one_page(desc_bytes(num), avail_bytes(num)) ||
	     !in_one_page(used_offset(num), used_bytes(num))))
		return -EINVAL;
	return vg_virtio_queue_setup(vr->dev, vr->q, num,
				     vg_dma(t, vr->mem.gpa),
				     vg_dma(t, vr->mem.gpa + desc_bytes(num)),
				     vg_dma(t, vr->mem.gpa + used_offset(num)));
}

int vg_vring_init(struct vg_vring *vr, struct vg_virtio *dev,
		  struct vg_ram *ram, unsigned q, uint16_t num)
{
	uint8_t *base;
	int r;

	memset(vr, 0, sizeof(*vr));
	if (num == 0 || (num & (num - 1)))
		return -EINVAL;
	vr->dev = dev;
	vr->ram = ram;
	vr->q = q;
	vr->num = num;
	vr->event_idx = dev->features & VG_F_EVENT_IDX;
	vr->indirect = dev->features & VG_F_INDIRECT_DESC;
	vr->slot = calloc(num, sizeof(*vr->slot));
	if (!vr->slot)
		return -ENOMEM;
	r = vg_ram_alloc(ram, used_offset(num) + used_bytes(num), &vr->mem);
	if (r < 0) {
		vg_vring_destroy(vr);
		return r;
	}
	base = vr->mem.host;
	vr->desc = (struct vring_desc *)base;
	vr->avail = (struct vring_avail *)(base + desc_bytes(num));
	vr->used = (struct vring_used *)(base + used_offset(num));
	init_free_list(vr);
	r = setup_device(vr);
	if (r < 0)
		vg_vring_destroy(vr);
	return r;
}

void vg_vring_destroy(struct vg_vring *vr)
{
	if (vr->slot) {
		for (uint16_t i = 0; i < vr->num; i++)
			vg_ram_free(vr->ram, &vr->slot[i].indirect);
	}
	free(vr->slot);
	vr->slot = NULL;
	if (vr->ram)
		vg_ram_free(vr->ram, &vr->mem);
}

static void fill_desc(struct vring_desc *d, const struct vg_seg *s,
		      uint16_t flags, uint16_t next)
{
	if (s->writable)
		flags |= VRING_DESC_F_WRITE;
	d->addr = htole64(s->gpa);
	d->len = htole32(s->len);
	d->flags = htole16(flags);
	d->next = htole16(next);
}

/* The device must see every readable segment before any writable one. */
static bool valid_chain(const struct vg_seg *segs, unsigned n)
{
	for (unsigned i = 1; i < n; i++) {
		if (segs[i - 1].writable && !segs[i].writable)
			return false;
	}
	return true;
}

/* Chain n ring descriptors from the free list; returns the head. */
static uint16_t add_direct(struct vg_vring *vr, const struct vg_seg *segs,
			   unsigned n)
{
	uint16_t head = vr->free_head, i = head;

	for (unsigned k = 0; k < n; k++) {
		uint16_t next = le16toh(vr->desc[i].next);
		bool last = k + 1 == n;

		fill_desc(&vr->desc[i], &segs[k], last ? 0 : VRING_DESC_F_NEXT,
			  last ? 0 : next);
		if (last)
			vr->free_head = next;
		i = next;
	}
	vr->num_free = (uint16_t)(vr->num_free - n);
	vr->slot[head].ndesc = (uint16_t)n;
	return head;
}

/* One ring descriptor pointing at a table of n in guest RAM. */
static int add_indirect(struct vg_vring *vr, const struct vg_seg *segs,
			unsigned n, uint16_t *head)
{
	struct vg_seg table_seg;
	struct vg_mem table;
	struct vring_desc *t;
	int r = vg_ram_alloc(vr->ram, n * sizeof(*t), &table);

	if (r < 0)
		return r;
	t = table.host;
	for (unsigned k = 0; k < n; k++)
		fill_desc(&t[k], &segs[k], k + 1 < n ? VRING_DESC_F_NEXT : 0,
			  (uint16_t)(k + 1 < n ? k + 1 : 0));
	*head = vr->free_head;
	vr->free_head = le16toh(vr->desc[*head].next);
	vr->num_free--;
	table_seg = (struct vg_seg){ .gpa = vg_dma(vr->dev->t, table.gpa),
				     .len = (uint32_t)(n * sizeof(*t)) };
	fill_desc(&vr->desc[*head], &table_seg, VRING_DESC_F_INDIRECT, 0);
	vr->slot[*head].ndesc = 1;
	vr->slot[*head].indirect = table;
	return 0;
}

static int add_chain(struct vg_vring *vr, const struct vg_seg *segs, unsigned n,
		     unsigned flags, void *token);

/* Device-side pieces of one segment: at most one per page it touches. */
static unsigned pages_of(const struct vg_seg *s)
{
	uint64_t first = s->gpa / VG_PAGE_SIZE;
	uint64_t last = (s->gpa + (s->len ? s->len - 1 : 0)) / VG_PAGE_SIZE;

	return (unsigned)(last - first + 1);
}

/*
 * The chain as the device must see it: on a transport whose device
 * addresses are contiguous only within a page, each segment becomes one
 * piece per run of device-contiguous pages (as a scatterlist of
 * non-contiguous pages becomes several descriptors). *out is segs itself
 * or a new array the caller frees; NULL on -ENOMEM.
 */
static struct vg_seg *device_chain(struct vg_vring *vr,
				   const struct vg_seg *segs, unsigned *n)
{
	struct vg_transport *t = vr->dev->t;
	struct vg_seg *x;
	unsigned total = 0, k = 0;

	if (!vg_dma_paged(t))
		return (struct vg_seg *)segs;
	for (unsigned i = 0; i < *n; i++)
		total += pages_of(&segs[i]);
	x = calloc(total, sizeof(*x));
	if (!x)
		return NULL;
	for (unsigned i = 0; i < *n; i++) {
		uint64_t gpa = segs[i].gpa, end = gpa + segs[i].len;

		do {
			uint64_t addr;
			size_t run =
				vg_dma_run(t, gpa, (size_t)(end - gpa), &addr);

			x[k++] = (struct vg_seg){ addr, (uint32_t)run,
						  segs[i].writable };
			gpa += run;
		} while (gpa < end);
	}
	*n = k;
	return x;
}

int vg_vring_add(struct vg_vring *vr, const struct vg_seg *segs, unsigned n,
		 unsigned flags, void *token)
{
	struct vg_seg *dev_segs;
	int r;

	if (n == 0 || n > vr->num || !valid_chain(segs, n))
		return -EINVAL;
	dev_segs = device_chain(vr, segs, &n);
	if (!dev_segs)
		return -ENOMEM;
	r = add_chain(vr, dev_segs, n, flags, token);
	if (dev_segs != segs)
		free(dev_segs);
	return r;
}

/* vg_vring_add() on a chain of device addresses. */
static int add_chain(struct vg_vring *vr, const struct vg_seg *segs, unsigned n,
		     unsigned flags, void *token)
{
	bool indirect = flags & VG_ADD_INDIRECT;
	uint16_t head;
	int r;

	/* The spec bounds any chain, indirect or not, by the queue size. */
	if (n == 0 || n > vr->num || !valid_chain(segs, n))
		return -EINVAL;
	if (indirect && !vr->indirect)
		return -ENOTSUP;
	if (vr->num_free < (indirect ? 1u : n))
		return -ENOSPC;
	if (indirect) {
		r = add_indirect(vr, segs, n, &head);
		if (r < 0)
			return r;
	} else {
		head = add_direct(vr, segs, n);
	}
	vr->slot[head].token = token;
	vr->slot[head].busy = true;
	vr->avail->ring[vr->avail_idx % vr->num] = htole16(head);
	vr->avail_idx++;
	/*
	 * Release: the descriptors and the ring entry written above are
	 * visible before the device can see the new avail->idx.
	 */
	__atomic_store_n(&vr->avail->idx, htole16(vr->avail_idx),
			 __ATOMIC_RELEASE);
	return head;
}

int vg_vring_kick(struct vg_vring *vr)
{
	uint16_t old = vr->kicked_idx, now = vr->avail_idx;
	bool need;

	vr->kicked_idx = now;
	/*
	 * Full barrier: our avail->idx store must be globally visible before
	 * we read the device's suppression state, or we could skip a kick
	 * the device is about to wait for (it orders the other way round).
	 */
	atomic_thread_fence(memory_order_seq_cst);
	if (vr->event_idx) {
		uint16_t ev = le16toh(__atomic_load_n(avail_event_word(vr),
						      __ATOMIC_RELAXED));

		need = vring_need_event(ev, now, old);
	} else {
		uint16_t fl = le16toh(
			__atomic_load_n(&vr->used->flags, __ATOMIC_RELAXED));

		need = !(fl & VRING_USED_F_NO_NOTIFY);
	}
	return need ? vg_virtio_notify(vr->dev, vr->q) : 0;
}

/* Put chain `head` back on the free list. */
static void free_chain(struct vg_vring *vr, uint16_t head)
{
	struct vg_vring_slot *s = &vr->slot[head];
	uint16_t last = head;

	for (uint16_t k = 1; k < s->ndesc; k++)
		last = le16toh(vr->desc[last].next);
	vr->desc[last].next = htole16(vr->free_head);
	vr->free_head = head;
	vr->num_free = (uint16_t)(vr->num_free + s->ndesc);
	vg_ram_free(vr->ram, &s->indirect);
	s->busy = false;
	s->token = NULL;
	s->ndesc = 0;
}

int vg_vring_reap(struct vg_vring *vr, struct vg_used *out)
{
	/*
	 * Acquire: the used element (and the data the device wrote into our
	 * buffers) is read only after we saw the idx that covers it.
	 */
	uint16_t idx =
		le16toh(__atomic_load_n(&vr->used->idx, __ATOMIC_ACQUIRE));
	struct vring_used_elem e;

	if (idx == vr->last_used)
		return 0;
	/* More than we ever made available: the device is broken. */
	if ((uint16_t)(idx - vr->last_used) > vr->num)
		return -EIO;
	e = vr->used->ring[vr->last_used % vr->num];
	e.id = le32toh(e.id);
	if (e.id >= vr->num || !vr->slot[e.id].busy)
		return -EIO;
	out->id = (uint16_t)e.id;
	out->len = le32toh(e.len);
	out->token = vr->slot[e.id].token;
	free_chain(vr, out->id);
	vr->last_used++;
	if (vr->event_idx) {
		/*
		 * Ask for an interrupt at the next used element. Full barrier:
		 * the store must be visible before we next look at used->idx,
		 * or an element published meanwhile could go unsignalled.
		 */
		__atomic_store_n(used_event_word(vr), htole16(vr->last_used),
				 __ATOMIC_RELAXED);
		atomic_thread_fence(memory_order_seq_cst);
	}
	return 1;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int vg_vring_wait(struct vg_vring *vr, int timeout_ms, struct vg_used *out)
{
	int64_t deadline = now_ms() + timeout_ms;

	for (;;) {
		int64_t left;
		/*
		 * Reap before sleeping: the interrupt eventfd counts, so a
		 * completion after this check still wakes the wait below.
		 */
		int r = vg_vring_reap(vr, out);

		if (r != 0)
			return r;
		left = deadline - now_ms();
		if (timeout_ms >= 0 && left <= 0)
			return -ETIMEDOUT;
		r = vg_virtio_wait_irq(vr->dev, timeout_ms < 0 ? -1 : (int)left,
				       NULL);
		if (r < 0)
			return r;
	}
}

int vg_vring_call(struct vg_vring *vr, const struct vg_seg *segs, unsigned n,
		  unsigned flags, int timeout_ms, struct vg_used *out)
{
	int head = vg_vring_add(vr, segs, n, flags, NULL);
	int r;

	if (head < 0)
		return head;
	r = vg_vring_kick(vr);
	if (r == 0)
		r = vg_vring_wait(vr, timeout_ms, out);
	if (r < 0)
		return r;
	return out->id == head ? 0 : -EIO;
}
