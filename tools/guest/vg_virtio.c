/* SPDX-License-Identifier: MIT */
/*
 * virtio-mmio v2, driver side, following the initialization sequence of
 * the virtio 1.2 spec (3.1.1, 4.2.3) as the Linux virtio_mmio driver does.
 */
#include "vg_virtio.h"

#include <endian.h>
#include <errno.h>
#include <linux/virtio_config.h>
#include <linux/virtio_mmio.h>
#include <string.h>

#include "vmedia/virtio_mmio.h"

/* Bounded waits on the device, counted in MMIO round trips. */
#define RESET_POLLS  1000
#define CONFIG_TRIES 16

static uint32_t rd(struct vg_virtio *d, uint32_t off, unsigned size)
{
	uint64_t v = 0;
	int r;

	if (d->err)
		return 0;
	r = vg_mmio_read(d->t, d->base + off, size, &v);
	if (r < 0)
		d->err = r;
	return (uint32_t)v;
}

static uint32_t rd32(struct vg_virtio *d, uint32_t off)
{
	return rd(d, off, 4);
}

static void wr32(struct vg_virtio *d, uint32_t off, uint32_t val)
{
	int r;

	if (d->err)
		return;
	r = vg_mmio_write(d->t, d->base + off, 4, val);
	if (r < 0)
		d->err = r;
}

static void wr64(struct vg_virtio *d, uint32_t lo, uint32_t hi, uint64_t val)
{
	wr32(d, lo, (uint32_t)val);
	wr32(d, hi, (uint32_t)(val >> 32));
}

static uint64_t rd64(struct vg_virtio *d, uint32_t lo, uint32_t hi)
{
	uint64_t low = rd32(d, lo);

	return low | (uint64_t)rd32(d, hi) << 32;
}

int vg_virtio_open(struct vg_virtio *d, struct vg_transport *t, unsigned index)
{
	memset(d, 0, sizeof(*d));
	if (index >= t->num_devices)
		return -ENODEV;
	d->t = t;
	d->index = index;
	d->base = t->dev[index].mmio_base;
	if (rd32(d, VIRTIO_MMIO_MAGIC_VALUE) != VIRTIO_MMIO_MAGIC && !d->err)
		return -ENODEV;
	d->version = rd32(d, VIRTIO_MMIO_VERSION);
	d->device_id = rd32(d, VIRTIO_MMIO_DEVICE_ID);
	d->vendor_id = rd32(d, VIRTIO_MMIO_VENDOR_ID);
	if (d->err)
		return d->err;
	/* Version 1 is the legacy layout; device ID 0 is an empty slot. */
	return d->version == 2 && d->device_id != 0 ? 0 : -ENODEV;
}

int vg_virtio_status(struct vg_virtio *d, uint32_t *status)
{
	*status = rd32(d, VIRTIO_MMIO_STATUS);
	return d->err;
}

static void set_status(struct vg_virtio *d, uint32_t bits)
{
	wr32(d, VIRTIO_MMIO_STATUS, rd32(d, VIRTIO_MMIO_STATUS) | bits);
}

int vg_virtio_reset(struct vg_virtio *d)
{
	wr32(d, VIRTIO_MMIO_STATUS, 0);
	for (int i = 0; i < RESET_POLLS && !d->err; i++) {
		if (rd32(d, VIRTIO_MMIO_STATUS) == 0)
			return d->err;
	}
	return d->err ? d->err : -ETIMEDOUT;
}

static uint64_t read_device_features(struct vg_virtio *d)
{
	uint64_t lo, hi;

	wr32(d, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	lo = rd32(d, VIRTIO_MMIO_DEVICE_FEATURES);
	wr32(d, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	hi = rd32(d, VIRTIO_MMIO_DEVICE_FEATURES);
	return lo | hi << 32;
}

static void write_driver_features(struct vg_virtio *d, uint64_t f)
{
	wr32(d, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	wr32(d, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)f);
	wr32(d, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	wr32(d, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(f >> 32));
}

int vg_virtio_negotiate(struct vg_virtio *d, uint64_t wanted)
{
	int r = vg_virtio_reset(d);

	if (r < 0)
		return r;
	set_status(d, VIRTIO_CONFIG_S_ACKNOWLEDGE);
	set_status(d, VIRTIO_CONFIG_S_DRIVER);
	d->device_features = read_device_features(d);
	d->features = d->device_features & wanted & VG_F_KNOWN;
	if (d->err)
		return d->err;
	/* A modern device must offer VERSION_1; we speak nothing else. */
	if (!(d->features & VG_F_VERSION_1)) {
		set_status(d, VIRTIO_CONFIG_S_FAILED);
		return d->err ? d->err : -ENOTSUP;
	}
	write_driver_features(d, d->features);
	set_status(d, VIRTIO_CONFIG_S_FEATURES_OK);
	/* The device clears FEATURES_OK when it cannot accept the set. */
	if (!(rd32(d, VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_FEATURES_OK) &&
	    !d->err) {
		set_status(d, VIRTIO_CONFIG_S_FAILED);
		return d->err ? d->err : -ENOTSUP;
	}
	return d->err;
}

int vg_virtio_queue_max(struct vg_virtio *d, unsigned q, uint16_t *num_max)
{
	uint32_t max;

	wr32(d, VIRTIO_MMIO_QUEUE_SEL, q);
	max = rd32(d, VIRTIO_MMIO_QUEUE_NUM_MAX);
	*num_max = max > UINT16_MAX ? UINT16_MAX : (uint16_t)max;
	return d->err;
}

int vg_virtio_queue_setup(struct vg_virtio *d, unsigned q, uint16_t num,
			  uint64_t desc, uint64_t driver, uint64_t device)
{
	uint16_t max;
	int r = vg_virtio_queue_max(d, q, &max); /* also selects q */

	if (r < 0)
		return r;
	if (max == 0)
		return -ENOENT;
	if (num == 0 || num > max)
		return -EINVAL;
	if (rd32(d, VIRTIO_MMIO_QUEUE_READY) != 0)
		return d->err ? d->err : -EBUSY;
	wr32(d, VIRTIO_MMIO_QUEUE_NUM, num);
	wr64(d, VIRTIO_MMIO_QUEUE_DESC_LOW, VIRTIO_MMIO_QUEUE_DESC_HIGH, desc);
	wr64(d, VIRTIO_MMIO_QUEUE_AVAIL_LOW, VIRTIO_MMIO_QUEUE_AVAIL_HIGH,
	     driver);
	wr64(d, VIRTIO_MMIO_QUEUE_USED_LOW, VIRTIO_MMIO_QUEUE_USED_HIGH,
	     device);
	wr32(d, VIRTIO_MMIO_QUEUE_READY, 1);
	if (rd32(d, VIRTIO_MMIO_QUEUE_READY) != 1)
		return d->err ? d->err : -EIO;
	return d->err;
}

int vg_virtio_driver_ok(struct vg_virtio *d)
{
	set_status(d, VIRTIO_CONFIG_S_DRIVER_OK);
	return d->err;
}

/* One pass over the config bytes: 32-bit reads where aligned. */
static void read_config_once(struct vg_virtio *d, uint32_t off, uint8_t *buf,
			     uint32_t len)
{
	uint32_t i = 0;

	while (i < len && !d->err) {
		uint32_t at = VIRTIO_MMIO_CONFIG + off + i;

		if (at % 4 == 0 && len - i >= 4) {
			uint32_t v = htole32(rd(d, at, 4));

			memcpy(buf + i, &v, 4);
			i += 4;
		} else {
			buf[i++] = (uint8_t)rd(d, at, 1);
		}
	}
}

int vg_virtio_read_config(struct vg_virtio *d, uint32_t off, void *buf,
			  uint32_t len)
{
	if (off > VIRTIO_MMIO_WINDOW - VIRTIO_MMIO_CONFIG ||
	    len > VIRTIO_MMIO_WINDOW - VIRTIO_MMIO_CONFIG - off)
		return -EINVAL;
	for (int i = 0; i < CONFIG_TRIES; i++) {
		uint32_t gen = rd32(d, VIRTIO_MMIO_CONFIG_GENERATION);

		read_config_once(d, off, buf, len);
		/* A config change in between would give a torn read. */
		if (rd32(d, VIRTIO_MMIO_CONFIG_GENERATION) == gen || d->err)
			return d->err;
	}
	return -EAGAIN;
}

int vg_virtio_shm(struct vg_virtio *d, unsigned id, uint64_t *base,
		  uint64_t *len)
{
	wr32(d, VIRTIO_MMIO_SHM_SEL, id);
	*len = rd64(d, VIRTIO_MMIO_SHM_LEN_LOW, VIRTIO_MMIO_SHM_LEN_HIGH);
	*base = rd64(d, VIRTIO_MMIO_SHM_BASE_LOW, VIRTIO_MMIO_SHM_BASE_HIGH);
	if (d->err)
		return d->err;
	/* The spec says an absent region reads ~0 (not 0). */
	return *len == UINT64_MAX ? 0 : 1;
}

int vg_virtio_notify(struct vg_virtio *d, unsigned q)
{
	wr32(d, VIRTIO_MMIO_QUEUE_NOTIFY, q);
	return d->err;
}

int vg_virtio_ack_irq(struct vg_virtio *d, uint32_t *status)
{
	uint32_t s = rd32(d, VIRTIO_MMIO_INTERRUPT_STATUS);

	if (s)
		wr32(d, VIRTIO_MMIO_INTERRUPT_ACK, s);
	if (status)
		*status = s;
	return d->err;
}

int vg_virtio_wait_irq(struct vg_virtio *d, int timeout_ms, uint32_t *status)
{
	int r;

	if (d->err)
		return d->err;
	r = vg_irq_wait(d->t, d->index, timeout_ms);
	if (r <= 0)
		return r;
	r = vg_virtio_ack_irq(d, status);
	return r < 0 ? r : 1;
}

const char *vg_virtio_feature_name(unsigned bit)
{
	switch (bit) {
	case 28:
		return "INDIRECT_DESC";
	case 29:
		return "EVENT_IDX";
	case 32:
		return "VERSION_1";
	case 33:
		return "ACCESS_PLATFORM";
	case 34:
		return "RING_PACKED";
	case 35:
		return "IN_ORDER";
	case 36:
		return "ORDER_PLATFORM";
	case 37:
		return "SR_IOV";
	case 38:
		return "NOTIFICATION_DATA";
	case 40:
		return "RING_RESET";
	default:
		return NULL;
	}
}
