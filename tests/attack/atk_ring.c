/* SPDX-License-Identifier: MIT */
#include "atk_ring.h"

#include <errno.h>
#include <linux/virtio_config.h>
#include <linux/virtio_mmio.h>
#include <stdatomic.h>
#include <string.h>

#include "atk.h"
#include "tap.h"
#include "vmedia/virtio_media_wire.h"

/* The three areas in one allocation, aligned as the spec wants. */
static size_t used_off(uint16_t num)
{
	size_t desc = 16u * num, avail = 2u * (3u + num);

	return (desc + avail + 3u) & ~(size_t)3u;
}

static int rq_init(struct atk_rq *q, struct vg_virtio *dev, struct vg_ram *ram,
		   unsigned qi, uint16_t num)
{
	size_t total = used_off(num) + 6u + 8u * num;
	int r;

	memset(q, 0, sizeof(*q));
	q->dev = dev;
	q->ram = ram;
	q->q = qi;
	q->num = num;
	r = vg_ram_alloc(ram, total, &q->mem);
	if (r < 0)
		return r;
	q->desc = q->mem.host;
	q->avail = (void *)((char *)q->mem.host + 16u * num);
	q->used = (void *)((char *)q->mem.host + used_off(num));
	q->desc_gpa = q->mem.gpa;
	q->avail_gpa = q->mem.gpa + 16u * num;
	q->used_gpa = q->mem.gpa + used_off(num);
	return vg_virtio_queue_setup(dev, qi, num, q->desc_gpa, q->avail_gpa,
				     q->used_gpa);
}

int atk_rdev_up(struct atk_rdev *r, struct vg_transport *t, struct vg_ram *ram,
		unsigned index, uint64_t features, uint16_t num)
{
	int ret;

	memset(r, 0, sizeof(*r));
	r->ram = ram;
	ret = vg_virtio_open(&r->dev, t, index);
	if (ret == 0)
		ret = vg_virtio_negotiate(&r->dev, features | VG_F_VERSION_1);
	if (ret == 0)
		ret = vg_ram_alloc(ram, ATK_RBUF, &r->buf);
	for (unsigned q = 0; ret == 0 && q < 2; q++)
		ret = rq_init(&r->q[q], &r->dev, ram, q, num);
	if (ret == 0)
		ret = vg_virtio_driver_ok(&r->dev);
	r->up = true;
	if (ret)
		atk_rdev_down(r);
	return ret;
}

void atk_rdev_down(struct atk_rdev *r)
{
	if (!r->up)
		return;
	/* Reset first: the device must let go of the rings before we do. */
	vg_virtio_reset(&r->dev);
	for (unsigned q = 0; q < 2; q++)
		vg_ram_free(r->ram, &r->q[q].mem);
	vg_ram_free(r->ram, &r->buf);
	r->up = false;
}

void atk_rq_desc(struct atk_rq *q, uint16_t i, uint64_t addr, uint32_t len,
		 uint16_t flags, uint16_t next)
{
	q->desc[i].addr = addr;
	q->desc[i].len = len;
	q->desc[i].flags = flags;
	q->desc[i].next = next;
}

void atk_rq_set_avail_idx(struct atk_rq *q, uint16_t idx)
{
	/* Release: descriptors and ring entries before the index. */
	atomic_thread_fence(memory_order_release);
	__atomic_store_n(&q->avail->idx, idx, __ATOMIC_RELEASE);
}

void atk_rq_post(struct atk_rq *q, uint16_t head)
{
	q->avail->ring[q->avail_idx % q->num] = head;
	q->avail_idx++;
	atk_rq_set_avail_idx(q, q->avail_idx);
}

int atk_rq_kick(struct atk_rq *q)
{
	return vg_virtio_notify(q->dev, q->q);
}

uint16_t atk_rq_used_idx(const struct atk_rq *q)
{
	return __atomic_load_n(&q->used->idx, __ATOMIC_ACQUIRE);
}

int atk_rq_take(struct atk_rq *q, struct vring_used_elem *e)
{
	if (atk_rq_used_idx(q) == q->last_used)
		return 0;
	*e = q->used->ring[q->last_used % q->num];
	q->last_used++;
	return 1;
}

int atk_rq_wait(struct atk_rq *q, int timeout_ms, struct vring_used_elem *e)
{
	int64_t deadline = atk_now_ms() + timeout_ms;

	for (;;) {
		if (atk_rq_take(q, e))
			return 1;
		if (atk_now_ms() > deadline)
			return -ETIMEDOUT;
		atk_sleep_ms(1);
	}
}

uint64_t atk_rbuf_gpa(const struct atk_rdev *r, uint32_t off)
{
	return r->buf.gpa + off;
}

void *atk_rbuf(const struct atk_rdev *r, uint32_t off)
{
	return (char *)r->buf.host + off;
}

uint32_t atk_rdev_status(struct atk_rdev *r)
{
	uint32_t st = 0;

	vg_virtio_status(&r->dev, &st);
	return st;
}

uint32_t atk_rdev_isr(struct atk_rdev *r)
{
	uint32_t isr = 0;

	vg_virtio_ack_irq(&r->dev, &isr);
	return isr;
}

/* One command on descriptors 0 (readable) and 1 (writable). */
int atk_rdev_call(struct atk_rdev *r, const void *cmd, uint32_t len,
		  uint32_t resp_len, struct vring_used_elem *e)
{
	struct atk_rq *q = &r->q[VIRTIO_MEDIA_QUEUE_COMMAND];

	memcpy(atk_rbuf(r, 0), cmd, len);
	memset(atk_rbuf(r, 4096), 0, resp_len);
	atk_rq_desc(q, 0, atk_rbuf_gpa(r, 0), len, VRING_DESC_F_NEXT, 1);
	atk_rq_desc(q, 1, atk_rbuf_gpa(r, 4096), resp_len, VRING_DESC_F_WRITE,
		    0);
	atk_rq_post(q, 0);
	atk_rq_kick(q);
	return atk_rq_wait(q, ATK_TIMEOUT_MS, e);
}

int atk_rdev_roundtrip(struct atk_rdev *r)
{
	struct virtio_media_cmd_header open = { .cmd = VIRTIO_MEDIA_CMD_OPEN };
	struct virtio_media_cmd_close close = {
		.hdr.cmd = VIRTIO_MEDIA_CMD_CLOSE
	};
	struct virtio_media_resp_open resp;
	struct vring_used_elem e;
	int ret = atk_rdev_call(r, &open, sizeof(open), sizeof(resp), &e);

	if (ret < 0)
		return ret;
	memcpy(&resp, atk_rbuf(r, 4096), sizeof(resp));
	if (e.id != 0 || e.len != sizeof(resp) || resp.hdr.status)
		return -EIO;
	close.session_id = resp.session_id;
	ret = atk_rdev_call(r, &close, sizeof(close), 8, &e);
	return ret < 0 ? ret : (e.id == 0 && e.len == 0 ? 0 : -EIO);
}

void atk_expect_broken(struct atk_rdev *r, unsigned q, uint16_t used_before)
{
	uint32_t st = atk_rdev_status(r);
	uint32_t isr = atk_rdev_isr(r);
	struct vg_transport *t = r->dev.t;
	unsigned index = r->dev.index;

	TAP_CHECK(st & VIRTIO_CONFIG_S_NEEDS_RESET,
		  "no NEEDS_RESET (status %#x)", st);
	TAP_CHECK(isr & VIRTIO_MMIO_INT_CONFIG, "no config interrupt (isr %#x)",
		  isr);
	TAP_EQ(atk_rq_used_idx(&r->q[q]), used_before);
	/* Kicks are ignored while broken: still nothing published. */
	atk_rq_kick(&r->q[q]);
	TAP_EQ(atk_rq_used_idx(&r->q[q]), used_before);
	atk_rdev_down(r);
	TAP_EQ(atk_rdev_up(r, t, r->ram, index, VG_F_INDIRECT_DESC, 16), 0);
	TAP_EQ(atk_rdev_roundtrip(r), 0);
	atk_rdev_down(r);
}
