/* SPDX-License-Identifier: MIT */
/*
 * The real host: libv4l2 with conversion disabled, so the guest sees the
 * device's own formats and its own buffers (libv4l2 still brings plugins
 * and quirk handling). The only file that includes libv4l2.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <libv4l2.h>
#include <pthread.h>
#include <stdbool.h>
#include <linux/videodev2.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "backends/v4l2_proxy/v4l2_host.h"

/*
 * libv4l2 tracks at most this many fds per process (V4L2_MAX_DEVICES in
 * its source) and prints an error for every one past it. The fds it
 * tracks are counted here, so that the rest go direct without the noise.
 */
#define LIBV4L2_MAX_FDS 16

static pthread_mutex_t tracked_lock = PTHREAD_MUTEX_INITIALIZER;
static int tracked[LIBV4L2_MAX_FDS] = { -1, -1, -1, -1, -1, -1, -1, -1,
					-1, -1, -1, -1, -1, -1, -1, -1 };

/* A free slot for fd, or false when libv4l2 is full. */
static bool track(int fd)
{
	bool ok = false;

	pthread_mutex_lock(&tracked_lock);
	for (unsigned i = 0; i < LIBV4L2_MAX_FDS && !ok; i++) {
		if (tracked[i] < 0) {
			tracked[i] = fd;
			ok = true;
		}
	}
	pthread_mutex_unlock(&tracked_lock);
	return ok;
}

static void untrack(int fd)
{
	pthread_mutex_lock(&tracked_lock);
	for (unsigned i = 0; i < LIBV4L2_MAX_FDS; i++)
		if (tracked[i] == fd)
			tracked[i] = -1;
	pthread_mutex_unlock(&tracked_lock);
}

static int host_open(const char *path)
{
	int fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	struct v4l2_capability cap;
	int lfd, err;

	if (fd < 0)
		return -errno;
	/* Not a V4L2 node: say so ourselves, before libv4l2 prints noise. */
	memset(&cap, 0, sizeof(cap));
	if (ioctl(fd, VIDIOC_QUERYCAP, &cap) < 0) {
		err = errno;
		close(fd);
		return -err;
	}
	/*
	 * libv4l2 tracks a fixed number of devices per process (16), and a
	 * guest may open far more sessions (v4l2-compliance opens 100). An
	 * fd it does not track goes straight to the kernel in every v4l2_*
	 * call, which with conversion off differs only in plugins: use it.
	 */
	if (!track(fd))
		return fd;
	lfd = v4l2_fd_open(fd, V4L2_DISABLE_CONVERSION);
	if (lfd < 0)
		untrack(fd);
	return lfd < 0 ? fd : lfd;
}

static void host_close(int fd)
{
	untrack(fd);
	(void)v4l2_close(fd);
}

static int host_ioctl(int fd, unsigned long request, void *arg)
{
	return v4l2_ioctl(fd, request, arg) < 0 ? -errno : 0;
}

static void *host_mmap(int fd, size_t len, off_t offset)
{
	void *p = v4l2_mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
			    (int64_t)offset);

	return p == MAP_FAILED ? NULL : p;
}

static void host_munmap(void *addr, size_t len)
{
	(void)v4l2_munmap(addr, len);
}

const struct v4l2_host_ops v4l2_host_libv4l2 = {
	.open = host_open,
	.close = host_close,
	.ioctl = host_ioctl,
	.mmap = host_mmap,
	.munmap = host_munmap,
};
