/* SPDX-License-Identifier: MIT */
/*
 * Bringing a virtio-media device up and down, and its event queue: the
 * guest keeps event buffers posted (16 of 608 bytes, as Linux does), and
 * received events wait in a FIFO until taken.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vg_media.h"

#define SCRATCH_SIZE (1u << 20)
#define QUEUE_SIZE   64u

static int post_event_buf(struct vg_media *m, unsigned i)
{
	struct vg_seg seg = { m->evbuf[i].gpa, VIRTIO_MEDIA_EVENT_MAX_SIZE,
			      true };
	int r = vg_vring_add(&m->evq, &seg, 1, 0, (void *)(uintptr_t)(i + 1));

	if (r < 0)
		return r;
	m->evbuf_posted[i] = true;
	return 0;
}

static unsigned posted_count(const struct vg_media *m)
{
	unsigned n = 0;

	for (unsigned i = 0; i < VG_MEDIA_EVENT_BUFS; i++)
		n += m->evbuf_posted[i];
	return n;
}

/* Top the eventq up to the wanted number of buffers. */
static int refill(struct vg_media *m)
{
	bool added = false;

	for (unsigned i = 0;
	     i < VG_MEDIA_EVENT_BUFS && posted_count(m) < m->evbufs_wanted;
	     i++) {
		int r;

		if (m->evbuf_posted[i])
			continue;
		r = post_event_buf(m, i);
		if (r < 0)
			return r;
		added = true;
	}
	return added ? vg_vring_kick(&m->evq) : 0;
}

/* Move every event the device returned into the FIFO. */
static int reap_events(struct vg_media *m)
{
	struct vg_used u;
	int r;

	while ((r = vg_vring_reap(&m->evq, &u)) == 1) {
		uintptr_t tok = (uintptr_t)u.token;
		struct vg_media_event *ev;

		if (tok == 0 || tok > VG_MEDIA_EVENT_BUFS ||
		    u.len > VIRTIO_MEDIA_EVENT_MAX_SIZE ||
		    m->fifo_count == VG_MEDIA_EVENT_FIFO)
			return -EIO;
		m->evbuf_posted[tok - 1] = false;
		if (u.len == 0)
			continue; /* the device gave the buffer back unused */
		ev = &m->fifo[(m->fifo_head + m->fifo_count) %
			      VG_MEDIA_EVENT_FIFO];
		memset(ev, 0, sizeof(*ev));
		ev->len = u.len;
		memcpy(ev->u.bytes, m->evbuf[tok - 1].host, u.len);
		m->fifo_count++;
	}
	if (r < 0)
		return r;
	return refill(m);
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int vg_media_next_event(struct vg_media *m, int timeout_ms,
			struct vg_media_event *ev)
{
	int64_t deadline = now_ms() + timeout_ms;

	for (;;) {
		int64_t left;
		int r = reap_events(m);

		if (r < 0)
			return r;
		if (m->fifo_count) {
			*ev = m->fifo[m->fifo_head];
			m->fifo_head = (m->fifo_head + 1) % VG_MEDIA_EVENT_FIFO;
			m->fifo_count--;
			return 1;
		}
		left = deadline - now_ms();
		if (timeout_ms == 0 || left <= 0)
			return 0;
		r = vg_virtio_wait_irq(&m->dev, (int)left, NULL);
		if (r < 0)
			return r;
	}
}

int vg_media_set_event_buffers(struct vg_media *m, unsigned n)
{
	if (n > VG_MEDIA_EVENT_BUFS)
		return -EINVAL;
	m->evbufs_wanted = n;
	return reap_events(m);
}

static int setup_queues(struct vg_media *m)
{
	int r = vg_vring_init(&m->cmdq, &m->dev, m->ram,
			      VIRTIO_MEDIA_QUEUE_COMMAND, QUEUE_SIZE);

	if (r == 0)
		r = vg_vring_init(&m->evq, &m->dev, m->ram,
				  VIRTIO_MEDIA_QUEUE_EVENT, QUEUE_SIZE);
	return r;
}

static int alloc_buffers(struct vg_media *m)
{
	int r = vg_ram_alloc(m->ram, SCRATCH_SIZE, &m->scratch);

	for (unsigned i = 0; r == 0 && i < VG_MEDIA_EVENT_BUFS; i++)
		r = vg_ram_alloc(m->ram, VIRTIO_MEDIA_EVENT_MAX_SIZE,
				 &m->evbuf[i]);
	if (r == 0) {
		m->fifo = calloc(VG_MEDIA_EVENT_FIFO, sizeof(*m->fifo));
		if (!m->fifo)
			r = -ENOMEM;
	}
	return r;
}

static int read_identity(struct vg_media *m, struct vg_transport *t,
			 unsigned index)
{
	int r = vg_virtio_read_config(&m->dev, 0, &m->config,
				      sizeof(m->config));

	if (r < 0)
		return r;
	r = vg_virtio_shm(&m->dev, VIRTIO_MEDIA_SHM_MMAP, &m->shm_base,
			  &m->shm_len);
	if (r < 0)
		return r;
	if (r == 1 && t->dev[index].shm_host &&
	    t->dev[index].shm_size >= m->shm_len)
		m->shm_host = t->dev[index].shm_host;
	else
		m->shm_len = 0;
	return 0;
}

int vg_media_init(struct vg_media *m, struct vg_transport *t,
		  struct vg_ram *ram, unsigned index)
{
	return vg_media_init_events(m, t, ram, index, VG_MEDIA_EVENT_BUFS);
}

int vg_media_init_events(struct vg_media *m, struct vg_transport *t,
			 struct vg_ram *ram, unsigned index,
			 unsigned event_bufs)
{
	int r;

	memset(m, 0, sizeof(*m));
	if (event_bufs > VG_MEDIA_EVENT_BUFS)
		return -EINVAL;
	m->ram = ram;
	m->timeout_ms = VG_MEDIA_TIMEOUT_MS;
	m->evbufs_wanted = event_bufs;
	r = vg_virtio_open(&m->dev, t, index);
	if (r == 0 && m->dev.device_id != VIRTIO_ID_MEDIA)
		r = -ENODEV;
	if (r == 0)
		r = vg_virtio_negotiate(&m->dev, VG_F_KNOWN);
	if (r == 0)
		r = alloc_buffers(m);
	if (r == 0)
		r = setup_queues(m);
	if (r == 0)
		r = vg_virtio_driver_ok(&m->dev);
	if (r == 0)
		r = read_identity(m, t, index);
	if (r == 0)
		r = refill(m);
	if (r < 0)
		vg_media_fini(m);
	return r;
}

void vg_media_fini(struct vg_media *m)
{
	if (m->dev.t)
		vg_virtio_reset(&m->dev);
	if (m->cmdq.dev)
		vg_vring_destroy(&m->cmdq);
	if (m->evq.dev)
		vg_vring_destroy(&m->evq);
	for (unsigned i = 0; i < VG_MEDIA_EVENT_BUFS; i++)
		vg_ram_free(m->ram, &m->evbuf[i]);
	if (m->ram)
		vg_ram_free(m->ram, &m->scratch);
	free(m->fifo);
	m->fifo = NULL;
}
