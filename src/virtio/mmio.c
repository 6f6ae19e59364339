/* SPDX-License-Identifier: MIT */
/*
 * The virtio-mmio v2 register file (virtio 1.2, 4.2.2).
 *
 * Guest accesses arrive here one by one, on the guest's thread, while the
 * guest's vCPU waits. So accesses do only register bookkeeping; a queue
 * kick is recorded and handled by virtio_mmio_run_pending() once the
 * transport has let the vCPU go.
 */
#include "vmedia/virtio_mmio.h"

#include <errno.h>
#include <linux/virtio_config.h>
#include <linux/virtio_mmio.h>
#include <linux/virtio_ring.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "vmedia/log.h"

#define STATUS_DRIVER_BITS                                         \
	(VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |    \
	 VIRTIO_CONFIG_S_DRIVER_OK | VIRTIO_CONFIG_S_FEATURES_OK | \
	 VIRTIO_CONFIG_S_FAILED)

/* What the driver told us about one queue before enabling it. */
struct queue_regs {
	uint16_t num;
	uint64_t desc, driver, device;
	struct virtq vq;
};

struct virtio_mmio {
	struct virtio_dev_info info;
	const struct virtio_dev_ops *ops;
	void *dev;
	const struct gmem *mem;
	const struct irq_line *irq;
	int domid;

	uint32_t status;
	bool broken; /* NEEDS_RESET: ignore kicks until the driver resets */
	uint32_t dev_features_sel, drv_features_sel;
	uint64_t driver_features;
	uint32_t queue_sel;
	uint32_t shm_sel;
	uint32_t config_generation;
	_Atomic uint32_t isr;
	uint32_t pending; /* queues kicked, not yet handled */
	struct queue_regs q[VIRTIO_DEV_MAX_QUEUES];
	struct vm_ratelimit rl;
};

#define mmio_warn(vm, ...)                                 \
	do {                                               \
		if (vm_ratelimit_ok(&(vm)->rl))            \
			vm_warn((vm)->domid, __VA_ARGS__); \
	} while (0)

struct virtio_mmio *virtio_mmio_create(const struct virtio_mmio_params *p)
{
	struct virtio_mmio *vm;

	if (p->info->num_queues > VIRTIO_DEV_MAX_QUEUES ||
	    p->info->queue_num_max > VIRTQ_NUM_MAX ||
	    p->info->config_len > VIRTIO_DEV_CONFIG_MAX) {
		errno = EINVAL;
		return NULL;
	}
	vm = calloc(1, sizeof(*vm));
	if (!vm)
		return NULL;
	vm->info = *p->info;
	vm->ops = p->ops;
	vm->dev = p->dev;
	vm->mem = p->mem;
	vm->irq = p->irq;
	vm->domid = p->domid;
	for (unsigned i = 0; i < VIRTIO_DEV_MAX_QUEUES; i++)
		virtq_init(&vm->q[i].vq, p->mem);
	return vm;
}

/* Back to the state after power-on: the device forgets the driver. */
static void device_reset(struct virtio_mmio *vm)
{
	if (vm->ops->reset)
		vm->ops->reset(vm->dev, vm);
	for (unsigned i = 0; i < VIRTIO_DEV_MAX_QUEUES; i++) {
		virtq_disable(&vm->q[i].vq);
		vm->q[i] = (struct queue_regs){ .vq = vm->q[i].vq };
	}
	vm->status = 0;
	vm->broken = false;
	vm->dev_features_sel = vm->drv_features_sel = 0;
	vm->driver_features = 0;
	vm->queue_sel = 0;
	vm->shm_sel = 0;
	vm->pending = 0;
	atomic_store(&vm->isr, 0);
}

void virtio_mmio_destroy(struct virtio_mmio *vm)
{
	if (!vm)
		return;
	device_reset(vm);
	free(vm);
}

static void raise_irq(struct virtio_mmio *vm, uint32_t isr_bits)
{
	/* The ISR bit must be set before the guest can take the interrupt. */
	atomic_fetch_or(&vm->isr, isr_bits);
	irq_raise(vm->irq);
}

/* The selected queue's registers, or NULL when QUEUE_SEL is out of range. */
static struct queue_regs *selected_queue(struct virtio_mmio *vm)
{
	if (vm->queue_sel >= vm->info.num_queues)
		return NULL;
	return &vm->q[vm->queue_sel];
}

static uint64_t shm_reg(struct virtio_mmio *vm, bool want_len)
{
	uint64_t base, len;

	/* Linux takes only len == ~0 as "no region" (vm_get_shm_region). */
	if (!vm->ops->shm_region ||
	    !vm->ops->shm_region(vm->dev, vm->shm_sel, &base, &len))
		return ~0ull;
	return want_len ? len : base;
}

static uint32_t read_reg(struct virtio_mmio *vm, uint32_t off)
{
	struct queue_regs *q = selected_queue(vm);

	switch (off) {
	case VIRTIO_MMIO_MAGIC_VALUE:
		return VIRTIO_MMIO_MAGIC;
	case VIRTIO_MMIO_VERSION:
		return 2;
	case VIRTIO_MMIO_DEVICE_ID:
		return vm->info.device_id;
	case VIRTIO_MMIO_VENDOR_ID:
		return vm->info.vendor_id;
	case VIRTIO_MMIO_DEVICE_FEATURES:
		if (vm->dev_features_sel > 1)
			return 0;
		return (uint32_t)(vm->info.features >>
				  (32 * vm->dev_features_sel));
	case VIRTIO_MMIO_QUEUE_NUM_MAX:
		return q ? vm->info.queue_num_max : 0;
	case VIRTIO_MMIO_QUEUE_READY:
		return q ? q->vq.enabled : 0;
	case VIRTIO_MMIO_INTERRUPT_STATUS:
		return atomic_load(&vm->isr);
	case VIRTIO_MMIO_STATUS:
		return vm->status;
	case VIRTIO_MMIO_CONFIG_GENERATION:
		return vm->config_generation;
	case VIRTIO_MMIO_SHM_LEN_LOW:
		return (uint32_t)shm_reg(vm, true);
	case VIRTIO_MMIO_SHM_LEN_HIGH:
		return (uint32_t)(shm_reg(vm, true) >> 32);
	case VIRTIO_MMIO_SHM_BASE_LOW:
		return (uint32_t)shm_reg(vm, false);
	case VIRTIO_MMIO_SHM_BASE_HIGH:
		return (uint32_t)(shm_reg(vm, false) >> 32);
	default:
		/* Write-only, legacy-only or unknown: reads as 0. */
		return 0;
	}
}

static uint64_t read_config(struct virtio_mmio *vm, uint32_t off, unsigned size)
{
	uint64_t val = 0;

	if (off > vm->info.config_len || size > vm->info.config_len - off) {
		mmio_warn(vm, "config read of %u bytes at %#x beyond %u bytes",
			  size, off, vm->info.config_len);
		return 0;
	}
	/* Little-endian guest, little-endian host: bytes land in order. */
	vm->ops->read_config(vm->dev, off, &val, size);
	return val;
}

static bool size_ok(unsigned size)
{
	return size == 1 || size == 2 || size == 4 || size == 8;
}

uint64_t virtio_mmio_read(struct virtio_mmio *vm, uint32_t off, unsigned size)
{
	if (!size_ok(size) || off >= VIRTIO_MMIO_WINDOW ||
	    size > VIRTIO_MMIO_WINDOW - off || off % size) {
		mmio_warn(vm, "ignored %u-byte read at %#x", size, off);
		return 0;
	}
	if (off >= VIRTIO_MMIO_CONFIG)
		return read_config(vm, off - VIRTIO_MMIO_CONFIG, size);
	if (size != 4) {
		mmio_warn(vm, "ignored %u-byte register read at %#x", size,
			  off);
		return 0;
	}
	return read_reg(vm, off);
}

/* FEATURES_OK is granted only for a subset of what we offered. */
static bool features_acceptable(const struct virtio_mmio *vm)
{
	uint64_t f = vm->driver_features;

	return !(f & ~vm->info.features) && (f & (1ull << VIRTIO_F_VERSION_1));
}

static void write_status(struct virtio_mmio *vm, uint32_t val)
{
	uint32_t prev = vm->status, next;

	if (val == 0) {
		device_reset(vm);
		return;
	}
	/*
	 * Bits only accumulate until a reset (the driver must not clear
	 * one, virtio 1.2, 2.1.2), and NEEDS_RESET belongs to the device.
	 */
	next = prev | (val & STATUS_DRIVER_BITS);
	if ((next & VIRTIO_CONFIG_S_FEATURES_OK) &&
	    !(prev & VIRTIO_CONFIG_S_FEATURES_OK) && !features_acceptable(vm)) {
		mmio_warn(vm, "refused features %#llx (offered %#llx)",
			  (unsigned long long)vm->driver_features,
			  (unsigned long long)vm->info.features);
		next &= ~VIRTIO_CONFIG_S_FEATURES_OK;
	}
	if (!(next & VIRTIO_CONFIG_S_FEATURES_OK))
		next &= ~VIRTIO_CONFIG_S_DRIVER_OK;
	vm->status = next;
	if ((next & VIRTIO_CONFIG_S_DRIVER_OK) &&
	    !(prev & VIRTIO_CONFIG_S_DRIVER_OK) && !vm->broken &&
	    vm->ops->driver_ok)
		vm->ops->driver_ok(vm->dev, vm);
}

static void write_driver_features(struct virtio_mmio *vm, uint32_t val)
{
	unsigned shift;

	/* Features are frozen once FEATURES_OK is set (virtio 1.2, 3.1.1). */
	if (vm->status & VIRTIO_CONFIG_S_FEATURES_OK ||
	    vm->drv_features_sel > 1)
		return;
	shift = 32 * vm->drv_features_sel;
	vm->driver_features &= ~(0xffffffffull << shift);
	vm->driver_features |= (uint64_t)val << shift;
}

static void set_half(uint64_t *reg, bool high, uint32_t val)
{
	unsigned shift = high ? 32 : 0;

	*reg = (*reg & ~(0xffffffffull << shift)) | ((uint64_t)val << shift);
}

static bool has_feature(const struct virtio_mmio *vm, unsigned bit)
{
	return vm->driver_features & (1ull << bit);
}

static void enable_queue(struct virtio_mmio *vm, struct queue_regs *q)
{
	struct virtq_layout layout = {
		.num = q->num,
		.desc = q->desc,
		.avail = q->driver,
		.used = q->device,
		.event_idx = has_feature(vm, VIRTIO_RING_F_EVENT_IDX),
		.indirect = has_feature(vm, VIRTIO_RING_F_INDIRECT_DESC),
	};
	int ret;

	if (!(vm->status & VIRTIO_CONFIG_S_FEATURES_OK)) {
		mmio_warn(vm, "queue %u enabled before FEATURES_OK",
			  vm->queue_sel);
		return;
	}
	if (q->num > vm->info.queue_num_max) {
		mmio_warn(vm, "queue %u: size %u above %u", vm->queue_sel,
			  q->num, vm->info.queue_num_max);
		return;
	}
	ret = virtq_enable(&q->vq, &layout);
	if (ret)
		mmio_warn(vm, "queue %u: rings unusable (%s)", vm->queue_sel,
			  strerror(-ret));
}

static void write_queue_ready(struct virtio_mmio *vm, struct queue_regs *q,
			      uint32_t val)
{
	if (val & 1) {
		if (!q->vq.enabled)
			enable_queue(vm, q);
		return;
	}
	if (!q->vq.enabled)
		return;
	/*
	 * Pulling a live queue away would leave the device holding chains
	 * of a ring that no longer exists; without VIRTIO_F_RING_RESET that
	 * is a driver error.
	 */
	if (vm->status & VIRTIO_CONFIG_S_DRIVER_OK) {
		virtio_mmio_fail(vm, "queue disabled while the device is live");
		return;
	}
	virtq_disable(&q->vq);
}

/* Queue layout registers: writable only while that queue is disabled. */
static void write_queue_reg(struct virtio_mmio *vm, uint32_t off, uint32_t val)
{
	struct queue_regs *q = selected_queue(vm);

	if (!q) {
		mmio_warn(vm,
			  "queue register %#x with QUEUE_SEL %u out of range",
			  off, vm->queue_sel);
		return;
	}
	if (off == VIRTIO_MMIO_QUEUE_READY) {
		write_queue_ready(vm, q, val);
		return;
	}
	if (q->vq.enabled) {
		mmio_warn(vm, "queue %u register %#x written while ready",
			  vm->queue_sel, off);
		return;
	}
	switch (off) {
	case VIRTIO_MMIO_QUEUE_NUM:
		q->num = val > UINT16_MAX ? 0 : (uint16_t)val;
		break;
	case VIRTIO_MMIO_QUEUE_DESC_LOW:
	case VIRTIO_MMIO_QUEUE_DESC_HIGH:
		set_half(&q->desc, off == VIRTIO_MMIO_QUEUE_DESC_HIGH, val);
		break;
	case VIRTIO_MMIO_QUEUE_AVAIL_LOW:
	case VIRTIO_MMIO_QUEUE_AVAIL_HIGH:
		set_half(&q->driver, off == VIRTIO_MMIO_QUEUE_AVAIL_HIGH, val);
		break;
	case VIRTIO_MMIO_QUEUE_USED_LOW:
	case VIRTIO_MMIO_QUEUE_USED_HIGH:
		set_half(&q->device, off == VIRTIO_MMIO_QUEUE_USED_HIGH, val);
		break;
	}
}

static void write_notify(struct virtio_mmio *vm, uint32_t q)
{
	if (q >= vm->info.num_queues || !vm->q[q].vq.enabled ||
	    !(vm->status & VIRTIO_CONFIG_S_DRIVER_OK) || vm->broken) {
		mmio_warn(vm, "ignored notify of queue %u", q);
		return;
	}
	vm->pending |= 1u << q;
}

static void write_reg(struct virtio_mmio *vm, uint32_t off, uint32_t val)
{
	switch (off) {
	case VIRTIO_MMIO_DEVICE_FEATURES_SEL:
		vm->dev_features_sel = val;
		break;
	case VIRTIO_MMIO_DRIVER_FEATURES_SEL:
		vm->drv_features_sel = val;
		break;
	case VIRTIO_MMIO_DRIVER_FEATURES:
		write_driver_features(vm, val);
		break;
	case VIRTIO_MMIO_QUEUE_SEL:
		vm->queue_sel = val;
		break;
	case VIRTIO_MMIO_QUEUE_NUM:
	case VIRTIO_MMIO_QUEUE_READY:
	case VIRTIO_MMIO_QUEUE_DESC_LOW:
	case VIRTIO_MMIO_QUEUE_DESC_HIGH:
	case VIRTIO_MMIO_QUEUE_AVAIL_LOW:
	case VIRTIO_MMIO_QUEUE_AVAIL_HIGH:
	case VIRTIO_MMIO_QUEUE_USED_LOW:
	case VIRTIO_MMIO_QUEUE_USED_HIGH:
		write_queue_reg(vm, off, val);
		break;
	case VIRTIO_MMIO_QUEUE_NOTIFY:
		write_notify(vm, val);
		break;
	case VIRTIO_MMIO_INTERRUPT_ACK:
		atomic_fetch_and(&vm->isr, ~val);
		break;
	case VIRTIO_MMIO_STATUS:
		write_status(vm, val);
		break;
	case VIRTIO_MMIO_SHM_SEL:
		vm->shm_sel = val;
		break;
	default:
		mmio_warn(vm, "ignored write of %#x to register %#x", val, off);
	}
}

void virtio_mmio_write(struct virtio_mmio *vm, uint32_t off, unsigned size,
		       uint64_t val)
{
	if (!size_ok(size) || off >= VIRTIO_MMIO_WINDOW ||
	    size > VIRTIO_MMIO_WINDOW - off || off % size) {
		mmio_warn(vm, "ignored %u-byte write at %#x", size, off);
		return;
	}
	if (off >= VIRTIO_MMIO_CONFIG) {
		/* virtio-media's config space is read-only to the driver. */
		mmio_warn(vm, "ignored config write at %#x", off);
		return;
	}
	if (size != 4) {
		mmio_warn(vm, "ignored %u-byte register write at %#x", size,
			  off);
		return;
	}
	write_reg(vm, off, (uint32_t)val);
}

bool virtio_mmio_has_pending(const struct virtio_mmio *vm)
{
	return vm->pending != 0;
}

void virtio_mmio_run_pending(struct virtio_mmio *vm)
{
	/* Kicks re-armed by a handler (more work left) wait for next time. */
	uint32_t todo = vm->pending;

	vm->pending = 0;
	while (todo && !vm->broken) {
		unsigned q = (unsigned)__builtin_ctz(todo);

		todo &= ~(1u << q);
		/* A reset by an earlier handler may have disabled it. */
		if (vm->q[q].vq.enabled)
			vm->ops->queue_notify(vm->dev, vm, q);
	}
	if (vm->broken)
		vm->pending = 0;
}

void virtio_mmio_rekick(struct virtio_mmio *vm, unsigned q)
{
	if (q < vm->info.num_queues && !vm->broken)
		vm->pending |= 1u << q;
}

struct virtq *virtio_mmio_queue(struct virtio_mmio *vm, unsigned q)
{
	if (q >= vm->info.num_queues || !vm->q[q].vq.enabled)
		return NULL;
	return &vm->q[q].vq;
}

void virtio_mmio_notify_used(struct virtio_mmio *vm, unsigned q)
{
	struct virtq *vq = virtio_mmio_queue(vm, q);

	if (vq && virtq_should_notify(vq))
		raise_irq(vm, VIRTIO_MMIO_INT_VRING);
}

void virtio_mmio_config_changed(struct virtio_mmio *vm)
{
	vm->config_generation++;
	if (vm->status & VIRTIO_CONFIG_S_DRIVER_OK)
		raise_irq(vm, VIRTIO_MMIO_INT_CONFIG);
}

void virtio_mmio_fail(struct virtio_mmio *vm, const char *why)
{
	if (vm->broken)
		return;
	if (vm_ratelimit_ok(&vm->rl))
		vm_err(vm->domid, "device needs reset: %s", why);
	vm->broken = true;
	vm->pending = 0;
	vm->status |= VIRTIO_CONFIG_S_NEEDS_RESET;
	if (vm->status & VIRTIO_CONFIG_S_DRIVER_OK)
		raise_irq(vm, VIRTIO_MMIO_INT_CONFIG);
}

uint32_t virtio_mmio_status(const struct virtio_mmio *vm)
{
	return vm->status;
}

uint64_t virtio_mmio_driver_features(const struct virtio_mmio *vm)
{
	return vm->driver_features;
}

bool virtio_mmio_broken(const struct virtio_mmio *vm)
{
	return vm->broken;
}
