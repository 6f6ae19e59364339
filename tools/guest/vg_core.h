/* SPDX-License-Identifier: MIT */
/*
 * The guest kernel's side of one virtio-media device, in userspace: the
 * subset of the V4L2 core (v4l2-ioctl.c, v4l2-event.c, v4l2-dev.c) and
 * the virtio-media guest driver (virtio_media_ioctls.c,
 * virtio_media_driver.c) that an application sees through a device node.
 * It sits on vg_media, which lays the commands out as the driver does.
 *
 * A struct vg_file is one open file description (one session on the
 * device). Its users (the LD_PRELOAD shim, tests) call in from any thread:
 * every entry point takes the core's one mutex, and a blocking call
 * (DQBUF, DQEVENT) drops it while it sleeps. Functions return 0 or a
 * negative errno, as the kernel's file operations do. The application's
 * pointers (ioctl arguments, USERPTR memory, control payloads) are
 * checked: a bad one gives -EFAULT (or -EINVAL where the kernel says so),
 * never a crash.
 *
 * Deliberate differences from the Linux guest driver and V4L2 core are
 * listed in tools/guest/vg_core_diffs.md.
 */
#ifndef VMEDIA_VG_CORE_H
#define VMEDIA_VG_CORE_H

#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "vg_media.h"

#define VG_CORE_VERSION(a, b, c) (((a) << 16) + ((b) << 8) + (c))
/* The kernel we behave like (QUERYCAP version, control emulation). */
#define VG_CORE_DEFAULT_KERNEL VG_CORE_VERSION(6, 18, 0)

struct vg_core;
struct vg_file;

struct vg_core_opts {
	/* QUERYCAP driver (the driver_name module parameter); NULL: ours. */
	const char *driver_name;
	/* The allow_userptr module parameter (default off, as Linux). */
	bool allow_userptr;
	/*
	 * Kernel version to behave like (VG_CORE_VERSION; 0: default).
	 * Before 6.15 QUERYCTRL/G_CTRL/S_CTRL go to the device; from 6.15
	 * the core emulates them with QUERY_EXT_CTRL and the ext-control
	 * ioctls, as Linux does.
	 */
	uint32_t kernel_version;
	/*
	 * The mutex of this core. Cores of devices of one transport must
	 * share one (they share its guest RAM allocator). NULL: its own.
	 */
	pthread_mutex_t *lock;
	/* Log device misbehaviour to stderr. */
	bool verbose;
	/*
	 * The mmap/munmap to map SHM ranges with (NULL: libc's). An
	 * interposer that wraps mmap/munmap passes the real ones here.
	 */
	void *(*sys_mmap)(void *addr, size_t len, int prot, int flags, int fd,
			  off_t off);
	int (*sys_munmap)(void *addr, size_t len);
};

/*
 * Take over device m (brought up with vg_media_init; the caller keeps it
 * and frees it after vg_core_destroy). 0 with *out, or -ENOMEM.
 */
int vg_core_create(struct vg_media *m, const struct vg_core_opts *o,
		   struct vg_core **out);
/* Close what is still open (sending CLOSE) and free the core. */
void vg_core_destroy(struct vg_core *c);

/* open(2) of the node: a new session (CMD_OPEN). */
int vg_core_open(struct vg_core *c, struct vg_file **out);
/* release(): the last close of the open file description (CMD_CLOSE). */
void vg_core_close(struct vg_file *f);
struct vg_core *vg_core_of(const struct vg_file *f);

/*
 * ioctl(2): request and arg as the application passed them; fflags are
 * the open file description's status flags now (O_NONBLOCK decides
 * whether DQBUF/DQEVENT block). Returns 0 or a negative errno; -ENOTTY
 * for requests the node does not implement, without touching arg.
 */
int vg_core_ioctl(struct vg_file *f, unsigned long request, void *arg,
		  int fflags);

/*
 * mmap(2) of a MMAP buffer: off is the buffer's mem_offset (page
 * aligned). Sends CMD_MMAP and maps the returned range of the SHM region
 * into this process at addr (a hint, or fixed with MAP_FIXED). 0 with
 * *out, or a negative errno.
 */
int vg_core_mmap(struct vg_file *f, void *addr, size_t len, int prot, int flags,
		 off_t off, void **out);
/*
 * munmap(2) of [addr, addr + len): unmaps it and sends CMD_MUNMAP for
 * every mapping of this core that is now wholly gone. Returns 1 when the
 * range touched one of our mappings, 0 when not (nothing done), or a
 * negative errno from munmap.
 */
int vg_core_munmap(struct vg_core *c, void *addr, size_t len);
/*
 * The range was replaced behind our back (a MAP_FIXED mapping over it):
 * account the old mappings there as unmapped.
 */
void vg_core_forget_range(struct vg_core *c, void *addr, size_t len);

/*
 * poll(): the EPOLL* events of f among req (the kernel's poll_table key:
 * the events asked for, plus EPOLLERR|EPOLLHUP for poll/epoll, or the
 * select sets' bits), computed as virtio_media_device_poll does after
 * taking every event the device sent. Never blocks.
 */
unsigned vg_core_poll(struct vg_file *f, unsigned req);

/*
 * Waiting next to other files (poll/select/epoll in the shim). A thread
 * that found nothing ready arms a wait on each core it watches, then
 * sleeps in poll(2) on the core's interrupt fd and its own eventfd efd
 * (plus whatever else it watches) with no core lock held, then disarms
 * and looks again. Any change that may make a file ready (an event from
 * the device, a STREAMOFF, a close) writes efd; an interrupt that nobody
 * has taken makes the interrupt fd readable.
 */
struct vg_core_wait {
	struct vg_core *core;
	int efd;
	struct vg_core_wait *next;
	bool armed;
};
/* The fd to poll for the device's interrupt (POLLIN), or -1. */
int vg_core_irq_fd(const struct vg_core *c);
void vg_core_wait_arm(struct vg_core *c, struct vg_core_wait *w, int efd);
void vg_core_wait_disarm(struct vg_core_wait *w);

/* The child of a fork: every core stops using the transport (-EIO). */
bool vg_core_forked(void);

#endif
