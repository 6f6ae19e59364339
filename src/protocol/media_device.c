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
#include <stdlib.h>
#include <string.h>

#include "vmedia/log.h"
#include "vmedia/virtio_media_wire.h"
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

struct media_device {
	struct virtio_media_config config;
	struct virtio_mmio *mmio;
	struct virtq_chain chain; /* the command being served */
	int domid;
};

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

/*
 * Answer one command. Returns the number of bytes written into the chain.
 * No command is implemented by this device core yet, so each is answered
 * ENOTTY, the protocol's answer to a command the device does not know.
 */
static uint32_t handle_command(struct media_device *md,
			       const struct virtq_chain *chain)
{
	struct virtio_media_cmd_header cmd;
	struct virtio_media_resp_header resp = { .status = ENOTTY };
	struct virtq_cursor in, out;

	virtq_reader(&in, chain);
	virtq_writer(&out, chain);
	if (virtq_read(&in, &cmd, sizeof(cmd)) < 0)
		resp.status = EINVAL;
	else
		vm_debug(md->domid, "command %u: not supported", cmd.cmd);
	if (virtq_write(&out, &resp, sizeof(resp)) < 0)
		return 0; /* no room for even a header: nothing to say */
	return (uint32_t)out.done;
}

static void serve_commandq(struct media_device *md, struct virtio_mmio *vm)
{
	struct virtq *vq = virtio_mmio_queue(vm, VIRTIO_MEDIA_QUEUE_COMMAND);
	int ret = 0;

	while (vq && (ret = virtq_pop(vq, &md->chain)) > 0) {
		uint32_t written = handle_command(md, &md->chain);

		virtq_push(vq, &md->chain, written);
	}
	if (ret < 0) {
		virtio_mmio_fail(vm, "broken command queue");
		return;
	}
	virtio_mmio_notify_used(vm, VIRTIO_MEDIA_QUEUE_COMMAND);
}

static void media_queue_notify(void *dev, struct virtio_mmio *vm, unsigned q)
{
	struct media_device *md = dev;

	if (q == VIRTIO_MEDIA_QUEUE_COMMAND)
		serve_commandq(md, vm);
	/* eventq kicks only say buffers were posted; they wait for events. */
}

static void media_reset(void *dev, struct virtio_mmio *vm)
{
	(void)dev;
	(void)vm;
	/* Commands are answered synchronously: no chain is ever held. */
}

static const struct virtio_dev_ops media_ops = {
	.read_config = media_read_config,
	.queue_notify = media_queue_notify,
	.reset = media_reset,
};

struct media_device *media_device_create(const struct media_device_params *p)
{
	struct media_device *md = calloc(1, sizeof(*md));
	struct virtio_mmio_params mp = {
		.info = &media_info,
		.ops = &media_ops,
		.mem = p->mem,
		.irq = p->irq,
		.domid = p->domid,
	};

	if (!md)
		return NULL;
	md->domid = p->domid;
	md->config.device_caps = p->device_caps;
	md->config.device_type = p->device_type;
	/* card is NUL-padded and always NUL-terminated within 32 bytes. */
	strncpy((char *)md->config.card, p->card ? p->card : "",
		sizeof(md->config.card) - 1);
	mp.dev = md;
	md->mmio = virtio_mmio_create(&mp);
	if (!md->mmio) {
		free(md);
		return NULL;
	}
	return md;
}

void media_device_destroy(struct media_device *md)
{
	if (!md)
		return;
	virtio_mmio_destroy(md->mmio);
	free(md);
}

struct virtio_mmio *media_device_mmio(struct media_device *md)
{
	return md->mmio;
}
