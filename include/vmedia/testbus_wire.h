/* SPDX-License-Identifier: MIT */
/*
 * The test transport's wire format, shared by vmediad and the userspace
 * guest driver. A "test guest" is a process connected to vmediad's Unix
 * socket (SOCK_SEQPACKET: one message per datagram):
 *
 *   guest  -> HELLO   {addr = RAM base GPA, value = RAM size} + memfd
 *                     (the memfd must carry F_SEAL_SHRINK so the guest
 *                     cannot pull pages from under the daemon, and be a
 *                     plain, non-hugetlb memfd at least that large; the
 *                     size is a nonzero multiple of 4096 up to 64 GiB,
 *                     the base 4096-aligned and clear of the MMIO windows)
 *   daemon -> DEVICE  {addr = MMIO base, value = window size,
 *                      size = device index} + irq eventfd
 *                     (+ a second fd: the SHM region memfd, when the
 *                      device has one; then `flags` has TESTBUS_F_SHM and
 *                      value2 is its size)
 *   daemon -> READY   {size = number of devices}
 *   guest  -> READ    {addr, size}          daemon -> DONE {value}
 *   guest  -> WRITE   {addr, size, value}   daemon -> DONE {}
 *   daemon -> ERROR   {value = errno} and closes, on a protocol violation
 *
 * An access blocks the guest until DONE, as a Xen IOREQ holds the vCPU.
 * DONE echoes the access's addr and size. size is 1, 2, 4 or 8; an access
 * not wholly inside one device's window reads 0 or is dropped, and is
 * still answered (Xen would not route it). DEVICE messages come in index
 * order; the irq eventfd counts interrupts (reading it consumes them).
 * Violations: anything before HELLO but HELLO, a second HELLO, a message
 * not exactly sizeof(struct testbus_msg), fds on any message but HELLO,
 * an unknown type, a bad access size (EPROTO, EBADMSG, EINVAL; EPERM for
 * an unsealed or non-memfd RAM fd, EPROTONOSUPPORT for another version).
 */
#ifndef VMEDIA_TESTBUS_WIRE_H
#define VMEDIA_TESTBUS_WIRE_H

#include <stdint.h>

#define TESTBUS_VERSION 1u

enum testbus_type {
	TESTBUS_HELLO = 1,
	TESTBUS_DEVICE = 2,
	TESTBUS_READY = 3,
	TESTBUS_READ = 4,
	TESTBUS_WRITE = 5,
	TESTBUS_DONE = 6,
	TESTBUS_ERROR = 7,
};

#define TESTBUS_F_SHM 1u

struct testbus_msg {
	uint32_t type;
	uint32_t size; /* access width, device index or count */
	uint64_t addr;
	uint64_t value;
	uint32_t flags;
	uint32_t version; /* TESTBUS_VERSION in HELLO and DEVICE */
	uint64_t value2;
};

_Static_assert(sizeof(struct testbus_msg) == 40, "wire size");

/* Where the test guest's devices sit, like Xen's Arm guest layout. */
#define TESTBUS_MMIO_BASE 0x02000000ull
/*
 * Device i's SHM region 0 is reported at TESTBUS_SHM_BASE + i * 4 GiB, far
 * above any test guest's RAM (the guest maps the memfd it is given).
 */
#define TESTBUS_SHM_BASE   0x10000000000ull
#define TESTBUS_SHM_STRIDE 0x100000000ull

#endif
