/* SPDX-License-Identifier: MIT */
/*
 * The virtio-media device: identity, config space and queue service.
 * Commands are read from the commandq and answered in place; the eventq's
 * buffers stay in the guest's avail ring until there is an event to put
 * in one, so the device holds no guest mapping while idle.
 */
#include "vmedia/media_device.h"

#include <errno.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ring.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/media.h"
#include "vmedia/virtio_mmio.h"

/*
 * ACCESS_PLATFORM: Xen guests using grants refuse a device without it.
 * INDIRECT_DESC: buffer ioctls can need more descriptors than the ring.
 */
#define MEDIA_FEATURES                                                       \
	((1ull << VIRTIO_F_VERSION_1) | (1ull << VIRTIO_F_ACCESS_PLATFORM) | \
	 (1ull << VIRTIO_RING_F_INDIRECT_DESC) |                             \
	 (1ull << VIRTIO_RING_F_EVENT_IDX))

#define MEDIA_QUEUE_SIZE 256u
#define SHM_SIZE_MAX	 (1ull << 32) /* V4L2 mem_offset is 32-bit */

static const struct virtio_dev_info media_info = {
	.device_id = VIRTIO_ID_MEDIA,
	.vendor_id = 0x554d4551, /* "QEMU", as most open devices report */
	.features = MEDIA_FEATURES,
	.num_queues = VIRTIO_MEDIA_NUM_QUEUES,
	.queue_num_max = MEDIA_QUEUE_SIZE,
	.config_len = sizeof(struct virtio_media_config),
};

static void media_read_config(void *dev, uint32_t off, void *buf, uint32_t len)
{
	struct media_device *md = dev;

	memcpy(buf, (const char *)&md->config + off, len);
}

static void serve_commandq(struct media_device *md, struct virtio_mmio *vm)
{
	struct virtq *vq = virtio_mmio_queue(vm, VIRTIO_MEDIA_QUEUE_COMMAND);
	unsigned budget = vq ? vq->num : 0; /* one ring per pass */
	int ret = 0;

	while (vq && budget-- && (ret = virtq_pop(vq, &md->cmd_chain)) > 0) {
		uint32_t written = media_handle_command(md, &md->cmd_chain);

		/*
		 * Events a command raised go out before its answer: after
		 * SUBSCRIBE_EVENT(SEND_INITIAL) the guest reads the eventq
		 * as soon as the ioctl returns.
		 */
		events_flush(md);
		virtq_push(vq, &md->cmd_chain, written);
		/* A reset by the command (CLOSE of a broken session...) */
		vq = virtio_mmio_queue(vm, VIRTIO_MEDIA_QUEUE_COMMAND);
	}
	if (ret < 0) {
		virtio_mmio_fail(vm, "broken command queue");
		return;
	}
	virtio_mmio_notify_used(vm, VIRTIO_MEDIA_QUEUE_COMMAND);
	/* A guest refilling as fast as we drain gets served in batches. */
	if (vq && virtq_has_avail(vq))
		virtio_mmio_rekick(vm, VIRTIO_MEDIA_QUEUE_COMMAND);
}

static void media_queue_notify(void *dev, struct virtio_mmio *vm, unsigned q)
{
	struct media_device *md = dev;

	if (q == VIRTIO_MEDIA_QUEUE_COMMAND)
		serve_commandq(md, vm);
	else
		events_flush(md); /* new event buffers: waiting events go */
}

/* The driver reset the device (or is gone): forget everything of it. */
static void media_reset(void *dev, struct virtio_mmio *vm)
{
	struct media_device *md = dev;

	(void)vm;
	session_close_all(md);
	events_clear(md);
	if (md->shm)
		shm_clear(md);
}

static bool media_shm_region(void *dev, unsigned id, uint64_t *base,
			     uint64_t *len)
{
	struct media_device *md = dev;

	if (id != VIRTIO_MEDIA_SHM_MMAP || !md->shm)
		return false;
	*base = md->shm->base;
	*len = md->shm->size;
	return true;
}

static const struct virtio_dev_ops media_ops = {
	.read_config = media_read_config,
	.queue_notify = media_queue_notify,
	.reset = media_reset,
	.shm_region = media_shm_region,
};

static void set_limits(struct media_device *md, const struct media_limits *l)
{
	md->limits = *l;
	if (!md->limits.max_sessions)
		md->limits.max_sessions = MEDIA_DEFAULT_MAX_SESSIONS;
	if (!md->limits.max_events)
		md->limits.max_events = MEDIA_DEFAULT_MAX_EVENTS;
	if (!md->limits.max_userptr_bytes)
		md->limits.max_userptr_bytes = MEDIA_DEFAULT_MAX_USERPTR_BYTES;
}

static void set_identity(struct media_device *md,
			 const struct vmedia_identity *id)
{
	/* The guest adds these itself; a device must not claim them. */
	md->config.device_caps =
		id->device_caps & ~(V4L2_CAP_DEVICE_CAPS | V4L2_CAP_READWRITE);
	md->config.device_type = id->device_type;
	/* card is NUL-padded and always NUL-terminated within 32 bytes. */
	memcpy(md->config.card, id->card, sizeof(md->config.card) - 1);
	md->config.card[sizeof(md->config.card) - 1] = 0;
}

static int create_backend(struct media_device *md,
			  const struct media_device_params *p)
{
	struct vmedia_identity id = { 0 };
	int ret;

	ret = p->backend->create(p->backend_args ? p->backend_args : "",
				 p->loop, &md->backend_dev, &id, p->err,
				 p->err_len);
	if (ret)
		return ret;
	md->backend = p->backend;
	set_identity(md, &id);
	return 0;
}

static int check_params(const struct media_device_params *p)
{
	if (p->shm && (p->shm->size == 0 || p->shm->size > SHM_SIZE_MAX)) {
		if (p->err)
			snprintf(p->err, p->err_len,
				 "shared memory region of %llu bytes: it must "
				 "be 1 byte to 4 GiB",
				 (unsigned long long)p->shm->size);
		return -EINVAL;
	}
	return 0;
}

struct media_device *media_device_create(const struct media_device_params *p)
{
	struct media_device *md;
	struct virtio_mmio_params mp = {
		.info = &media_info,
		.ops = &media_ops,
		.mem = p->mem,
		.irq = p->irq,
		.domid = p->domid,
	};
	int ret = check_params(p);

	if (ret || !(md = calloc(1, sizeof(*md)))) {
		errno = ret ? -ret : ENOMEM;
		return NULL;
	}
	md->domid = p->domid;
	md->mem = p->mem;
	md->shm = p->shm;
	md->events.tail = &md->events.head;
	md->next_session_id = 1;
	set_limits(md, &p->limits);
	ret = create_backend(md, p);
	mp.dev = md;
	if (ret == 0 && !(md->mmio = virtio_mmio_create(&mp)))
		ret = -errno;
	if (ret) {
		media_device_destroy(md);
		errno = -ret;
		return NULL;
	}
	return md;
}

void media_device_destroy(struct media_device *md)
{
	if (!md)
		return;
	/* Resets the device: sessions close before the backend goes. */
	virtio_mmio_destroy(md->mmio);
	if (md->backend)
		md->backend->destroy(md->backend_dev);
	free(md);
}

struct virtio_mmio *media_device_mmio(struct media_device *md)
{
	return md->mmio;
}
