/* SPDX-License-Identifier: MIT */
/*
 * Device side of a split virtqueue (virtio 1.2, 2.7).
 *
 * The guest owns the rings and may rewrite them at any moment, from another
 * vCPU, while we read. So: every ring field is loaded exactly once into a
 * local, checked, and only the local is used. Descriptor walks are bounded
 * by the ring size; the chain limit is the ring size too (the spec forbids
 * longer chains), so a loop is just a chain that is too long.
 */
#include "vmedia/virtqueue.h"

#include <errno.h>
#include <linux/virtio_ring.h>
#include <stdatomic.h>
#include <string.h>

/* Ring area sizes for a queue of `num` entries (virtio 1.2, 2.7). */
static size_t desc_area_size(uint16_t num)
{
	return (size_t)num * sizeof(struct vring_desc);
}

static size_t avail_area_size(uint16_t num, bool event_idx)
{
	return 4 + (size_t)num * 2 + (event_idx ? 2 : 0);
}

static size_t used_area_size(uint16_t num, bool event_idx)
{
	return 4 + (size_t)num * sizeof(struct vring_used_elem) +
	       (event_idx ? 2 : 0);
}

/*
 * Loads and stores of guest-shared ring words. Relaxed atomics make each
 * access a single load or store the compiler may not split, repeat or
 * elide; ordering is added by explicit fences where it matters.
 */
static uint16_t load16(const void *p)
{
	return atomic_load_explicit((const _Atomic uint16_t *)p,
				    memory_order_relaxed);
}

static void store16(void *p, uint16_t v)
{
	atomic_store_explicit((_Atomic uint16_t *)p, v, memory_order_relaxed);
}

static void store32(void *p, uint32_t v)
{
	atomic_store_explicit((_Atomic uint32_t *)p, v, memory_order_relaxed);
}

/* One descriptor, copied out of guest memory so it cannot change under us. */
static struct vring_desc copy_desc(const struct vring_desc *table, unsigned i)
{
	struct vring_desc d;

	memcpy(&d, &table[i], sizeof(d));
	return d;
}

void virtq_init(struct virtq *vq, const struct gmem *mem)
{
	memset(vq, 0, sizeof(*vq));
	vq->mem = mem;
}

static bool layout_valid(const struct virtq_layout *l)
{
	if (l->num == 0 || l->num > VIRTQ_NUM_MAX || (l->num & (l->num - 1)))
		return false;
	/* Alignment required by the spec for split rings. */
	return (l->desc % 16) == 0 && (l->avail % 2) == 0 && (l->used % 4) == 0;
}

int virtq_enable(struct virtq *vq, const struct virtq_layout *l)
{
	const struct gmem *mem = vq->mem;
	int ret;

	virtq_disable(vq);
	if (!layout_valid(l))
		return -EINVAL;

	ret = gmem_map(mem, l->desc, desc_area_size(l->num), GMEM_READ,
		       &vq->desc_map);
	if (ret == 0)
		ret = gmem_map(mem, l->avail,
			       avail_area_size(l->num, l->event_idx), GMEM_READ,
			       &vq->avail_map);
	if (ret == 0)
		ret = gmem_map(mem, l->used,
			       used_area_size(l->num, l->event_idx),
			       GMEM_READ | GMEM_WRITE, &vq->used_map);
	if (ret) {
		virtq_disable(vq);
		return ret;
	}
	vq->desc = vq->desc_map.ptr;
	vq->avail = vq->avail_map.ptr;
	vq->used = vq->used_map.ptr;
	vq->num = l->num;
	vq->event_idx = l->event_idx;
	vq->indirect = l->indirect;
	/* A new queue starts at 0 (the driver zeroed its rings). */
	vq->used_idx = 0;
	vq->last_avail = 0;
	vq->enabled = true;
	return 0;
}

void virtq_disable(struct virtq *vq)
{
	const struct gmem *mem = vq->mem;

	gmem_unmap(mem, &vq->desc_map);
	gmem_unmap(mem, &vq->avail_map);
	gmem_unmap(mem, &vq->used_map);
	virtq_init(vq, mem);
}

bool virtq_has_avail(struct virtq *vq)
{
	if (!vq->enabled)
		return false;
	return load16(&vq->avail->idx) != vq->last_avail;
}

void virtq_chain_release(struct virtq *vq, struct virtq_chain *chain)
{
	unsigned n = chain->n_out + chain->n_in;

	for (unsigned i = 0; i < n; i++)
		gmem_unmap(vq->mem, &chain->map[i]);
	chain->n_out = chain->n_in = 0;
}

/* Map one guest buffer as the chain's next segment. */
static int add_segment(struct virtq *vq, struct virtq_chain *chain,
		       const struct vring_desc *d)
{
	bool writable = d->flags & VRING_DESC_F_WRITE;
	unsigned n = chain->n_out + chain->n_in;
	struct gmem_map *m;
	int ret;

	if (d->len == 0)
		return -EINVAL;
	/* Readable segments must all come before the writable ones. */
	if (!writable && chain->n_in)
		return -EINVAL;
	if (n >= vq->num)
		return -ELOOP;
	m = &chain->map[n];
	ret = gmem_map(vq->mem, d->addr, d->len,
		       writable ? GMEM_WRITE : GMEM_READ, m);
	if (ret)
		return ret;
	chain->iov[n].base = m->ptr;
	chain->iov[n].len = d->len;
	if (writable)
		chain->n_in++;
	else
		chain->n_out++;
	return 0;
}

/*
 * Walk an indirect table: a private copy is taken descriptor by
 * descriptor, so the guest rewriting the table changes nothing we act on.
 */
static int walk_indirect(struct virtq *vq, struct virtq_chain *chain,
			 const struct vring_desc *ind)
{
	struct gmem_map table_map;
	const struct vring_desc *table;
	unsigned count, i, steps = 0;
	int ret;

	if (!vq->indirect || (ind->flags & VRING_DESC_F_NEXT))
		return -EINVAL;
	if (ind->len == 0 || ind->len % sizeof(struct vring_desc))
		return -EINVAL;
	count = ind->len / sizeof(struct vring_desc);
	if (count > vq->num)
		return -ELOOP;
	ret = gmem_map(vq->mem, ind->addr, ind->len, GMEM_READ, &table_map);
	if (ret)
		return ret;
	table = table_map.ptr;
	i = 0;
	for (;;) {
		struct vring_desc d = copy_desc(table, i);

		if (++steps > count) {
			ret = -ELOOP;
			break;
		}
		if (d.flags & VRING_DESC_F_INDIRECT) {
			ret = -EINVAL; /* no indirect inside indirect */
			break;
		}
		ret = add_segment(vq, chain, &d);
		if (ret || !(d.flags & VRING_DESC_F_NEXT))
			break;
		if (d.next >= count) {
			ret = -EINVAL;
			break;
		}
		i = d.next;
	}
	gmem_unmap(vq->mem, &table_map);
	return ret;
}

static int walk_chain(struct virtq *vq, struct virtq_chain *chain,
		      uint16_t head)
{
	unsigned i = head, steps = 0;

	for (;;) {
		struct vring_desc d = copy_desc(vq->desc, i);
		int ret;

		if (++steps > vq->num)
			return -ELOOP;
		if (d.flags & VRING_DESC_F_INDIRECT) {
			/* An indirect descriptor must be the whole chain. */
			if (steps != 1)
				return -EINVAL;
			return walk_indirect(vq, chain, &d);
		}
		ret = add_segment(vq, chain, &d);
		if (ret)
			return ret;
		if (!(d.flags & VRING_DESC_F_NEXT))
			return 0;
		if (d.next >= vq->num)
			return -EINVAL;
		i = d.next;
	}
}

/* Total length of a chain must fit the 32-bit used.len accounting. */
static bool chain_len_ok(const struct virtq_chain *chain)
{
	uint64_t total = 0;

	for (unsigned i = 0; i < (unsigned)chain->n_out + chain->n_in; i++)
		total += chain->iov[i].len;
	return total <= UINT32_MAX;
}

int virtq_pop(struct virtq *vq, struct virtq_chain *chain)
{
	uint16_t avail_idx, head;
	int ret;

	chain->n_out = chain->n_in = 0;
	if (!vq->enabled)
		return 0;
	if (vq->event_idx) {
		/*
		 * Ask to be kicked for the entry after the last we took
		 * (avail_event), then look at avail->idx: the full barrier
		 * orders the store before the load, so either we see the
		 * driver's new entry now or the driver sees our avail_event
		 * and kicks.
		 */
		store16(&vq->used->ring[vq->num], vq->last_avail);
		atomic_thread_fence(memory_order_seq_cst);
	}
	avail_idx = load16(&vq->avail->idx);
	if (avail_idx == vq->last_avail)
		return 0;
	/* The driver can never be more than a ring ahead of us. */
	if ((uint16_t)(avail_idx - vq->last_avail) > vq->num)
		return -EOVERFLOW;
	/*
	 * Pairs with the driver's write barrier between filling the ring
	 * entry (and descriptors) and bumping avail->idx: read them only
	 * after we saw the index.
	 */
	atomic_thread_fence(memory_order_acquire);
	head = load16(&vq->avail->ring[vq->last_avail % vq->num]);
	if (head >= vq->num)
		return -EINVAL;
	ret = walk_chain(vq, chain, head);
	if (ret == 0 && !chain_len_ok(chain))
		ret = -EMSGSIZE;
	if (ret) {
		virtq_chain_release(vq, chain);
		return ret;
	}
	chain->head = head;
	vq->last_avail++;
	return 1;
}

/* Bytes the device may write into the chain. */
static uint64_t writable_len(const struct virtq_chain *chain)
{
	uint64_t total = 0;

	for (unsigned i = chain->n_out;
	     i < (unsigned)chain->n_out + chain->n_in; i++)
		total += chain->iov[i].len;
	return total;
}

void virtq_push(struct virtq *vq, struct virtq_chain *chain, uint32_t written)
{
	struct vring_used_elem *elem;

	/* Never claim more than the driver gave us room for. */
	if (written > writable_len(chain))
		written = (uint32_t)writable_len(chain);

	/* Grant mappings must be gone before the driver may reuse them. */
	virtq_chain_release(vq, chain);
	if (!vq->enabled)
		return;
	elem = &vq->used->ring[vq->used_idx % vq->num];
	store32(&elem->id, chain->head);
	store32(&elem->len, written);
	/*
	 * The element must be visible before the index that publishes it:
	 * pairs with the driver's read barrier after it reads used->idx.
	 */
	atomic_thread_fence(memory_order_release);
	vq->used_idx++;
	store16(&vq->used->idx, vq->used_idx);
}

bool virtq_should_notify(struct virtq *vq)
{
	uint16_t old, now, event;
	bool was_valid;

	if (!vq->enabled)
		return false;
	/*
	 * Our used->idx store must be visible before we read the driver's
	 * suppression state, or both sides may decide the other will act
	 * (virtio 1.2, 2.7.7.2): a full barrier, not just release.
	 */
	atomic_thread_fence(memory_order_seq_cst);
	if (!vq->event_idx)
		return !(load16(&vq->avail->flags) &
			 VRING_AVAIL_F_NO_INTERRUPT);

	was_valid = vq->signalled_valid;
	old = vq->signalled_used;
	now = vq->used_idx;
	vq->signalled_used = now;
	vq->signalled_valid = true;
	event = load16(&vq->avail->ring[vq->num]); /* used_event */
	/* vring_need_event(): did used_idx pass event since the last signal? */
	return !was_valid ||
	       (uint16_t)(now - event - 1) < (uint16_t)(now - old);
}
