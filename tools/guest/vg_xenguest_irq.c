/* SPDX-License-Identifier: MIT */
/*
 * Interrupts without an interrupt: the device's SPI reaches the guest
 * kernel, but Debian's kernels have no driver that would hand a bare SPI
 * to userspace. What an interrupt means here is "a used ring moved", and
 * the used rings are in our own RAM, so a thread watches them and writes
 * the device's eventfd, which everything above waits on as it waits on the
 * test transport's interrupt eventfd. Watching costs no trap; the driver
 * still acknowledges through InterruptStatus/InterruptACK as usual.
 *
 * The watcher learns where the rings are from the driver's own register
 * writes (QueueSel, QueueDevice, QueueReady, Status = 0), which pass
 * through this transport anyway.
 */
#include <errno.h>
#include <linux/virtio_mmio.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "vg_xenguest.h"

/* Poll fast while rings move, back off to this when idle. */
#define WATCH_MIN_US 50
#define WATCH_MAX_US 1000

static void forget_queues(struct xg_dev *d)
{
	for (unsigned q = 0; q < XG_MAX_QUEUES; q++)
		d->q[q] = (struct xg_queue){ 0 };
}

static void queue_ready(struct vg_xenguest *g, struct xg_dev *d, bool ready)
{
	struct xg_queue *q;

	if (d->queue_sel >= XG_MAX_QUEUES)
		return;
	q = &d->q[d->queue_sel];
	q->used_idx = NULL;
	if (ready) {
		uint8_t *used =
			xg_ram_host_of(&g->ram, q->used_hi << 32 | q->used_lo);

		/* used->idx follows used->flags */
		if (used)
			q->used_idx = (const volatile uint16_t *)(used + 2);
		q->seen = q->used_idx ? *q->used_idx : 0;
	}
}

void xg_irq_snoop(struct vg_xenguest *g, unsigned dev, uint64_t off,
		  uint64_t val)
{
	struct xg_dev *d = &g->dev[dev];

	pthread_mutex_lock(&g->lock);
	switch (off) {
	case VIRTIO_MMIO_QUEUE_SEL:
		d->queue_sel = (uint32_t)val;
		break;
	case VIRTIO_MMIO_QUEUE_USED_LOW:
		if (d->queue_sel < XG_MAX_QUEUES)
			d->q[d->queue_sel].used_lo = (uint32_t)val;
		break;
	case VIRTIO_MMIO_QUEUE_USED_HIGH:
		if (d->queue_sel < XG_MAX_QUEUES)
			d->q[d->queue_sel].used_hi = (uint32_t)val;
		break;
	case VIRTIO_MMIO_QUEUE_READY:
		queue_ready(g, d, val & 1);
		break;
	case VIRTIO_MMIO_STATUS:
		if (val == 0)
			forget_queues(d);
		break;
	}
	pthread_mutex_unlock(&g->lock);
}

/* One look at every ring; true if any moved. */
static bool scan(struct vg_xenguest *g)
{
	bool any = false;

	pthread_mutex_lock(&g->lock);
	for (unsigned i = 0; i < g->t.num_devices; i++) {
		struct xg_dev *d = &g->dev[i];
		bool moved = false;

		for (unsigned k = 0; k < XG_MAX_QUEUES; k++) {
			struct xg_queue *q = &d->q[k];
			uint16_t idx;

			if (!q->used_idx)
				continue;
			idx = __atomic_load_n(q->used_idx, __ATOMIC_ACQUIRE);
			if (idx != q->seen) {
				q->seen = idx;
				moved = true;
			}
		}
		if (moved) {
			uint64_t one = 1;

			if (write(d->irq_fd, &one, sizeof(one)) < 0) {
				/* the counter is full: a wake-up is pending */
			}
			any = true;
		}
	}
	pthread_mutex_unlock(&g->lock);
	return any;
}

static void *watch(void *arg)
{
	struct vg_xenguest *g = arg;
	long us = WATCH_MAX_US;

	while (!g->stop) {
		struct timespec ts = { 0, us * 1000 };

		us = scan(g) ? WATCH_MIN_US : us * 2;
		if (us > WATCH_MAX_US)
			us = WATCH_MAX_US;
		nanosleep(&ts, NULL);
	}
	return NULL;
}

int xg_irq_start(struct vg_xenguest *g)
{
	for (unsigned i = 0; i < g->t.num_devices; i++) {
		g->dev[i].irq_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (g->dev[i].irq_fd < 0)
			return -errno;
		g->t.dev[i].irq_fd = g->dev[i].irq_fd;
	}
	g->stop = false;
	if (pthread_create(&g->watcher, NULL, watch, g))
		return -EAGAIN;
	g->watching = true;
	return 0;
}

void xg_irq_stop(struct vg_xenguest *g)
{
	if (g->watching) {
		g->stop = true;
		pthread_join(g->watcher, NULL);
		g->watching = false;
	}
	for (unsigned i = 0; i < VG_MAX_DEVICES; i++) {
		if (g->dev[i].irq_fd >= 0)
			close(g->dev[i].irq_fd);
		g->dev[i].irq_fd = g->t.dev[i].irq_fd = -1;
	}
}

int xg_irq_wait(struct vg_xenguest *g, unsigned dev, int timeout_ms)
{
	if (dev >= g->t.num_devices)
		return -EINVAL;
	return vg_eventfd_take(g->dev[dev].irq_fd, timeout_ms);
}
