/* SPDX-License-Identifier: MIT */
/*
 * Every call the V4L2 proxy makes into the host's V4L2 stack goes through
 * this table: the real one (host_libv4l2.c) uses libv4l2, the unit tests a
 * fake device (tests/fakes/fake_v4l2_host.c). Nothing else in the proxy
 * touches a host fd.
 */
#ifndef VMEDIA_V4L2_HOST_H
#define VMEDIA_V4L2_HOST_H

#include <stddef.h>
#include <sys/types.h>

struct v4l2_host_ops {
	/* Open for O_RDWR | O_NONBLOCK. Returns an fd the event loop can
	 * watch, or a negative errno. */
	int (*open)(const char *path);
	void (*close)(int fd);
	/* One attempt: 0 or a negative errno (-EINTR included; the proxy
	 * retries that itself). */
	int (*ioctl)(int fd, unsigned long request, void *arg);
	/* A shared read/write mapping of a host MMAP buffer, NULL on error. */
	void *(*mmap)(int fd, size_t len, off_t offset);
	void (*munmap)(void *addr, size_t len);
};

/* The host's V4L2 stack through libv4l2, formats passed through as-is. */
extern const struct v4l2_host_ops v4l2_host_libv4l2;

#endif
