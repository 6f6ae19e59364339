/* SPDX-License-Identifier: MIT */
/*
 * libvmedia-shim.so: unmodified V4L2 programs on a virtio-media device
 * served by vmediad, with no kernel driver. LD_PRELOAD it and the program
 * finds /dev/video-vmedia0 (…1, …2 for more devices of the transport):
 * a character device that answers V4L2 through the userspace guest core
 * (tools/guest/vg_core.h) over the test transport (VMEDIA_SOCKET).
 *
 *   vmedia_shim.c  environment, devices (connected at the first open),
 *                  the real functions, open/fopen
 *   shim_fd.c      fake fds: a memfd per open, sessions shared by dups,
 *                  close/dup/fcntl
 *   shim_io.c      ioctl, read/write, mmap/munmap, syscall()
 *   shim_wait.c    waiting on our fds and real ones together
 *   shim_poll.c    poll/ppoll/select/pselect
 *   shim_epoll.c   epoll_ctl/epoll_wait/epoll_pwait/epoll_pwait2
 *   shim_stat.c    stat family, the sysfs uevent that names the node
 *
 * Every function a program calls is the libc one unless it names our
 * device, one of our fds, or one of our mappings.
 */
#ifndef VMEDIA_SHIM_H
#define VMEDIA_SHIM_H

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "vg_core.h"

#define SHIM_EXPORT __attribute__((visibility("default")))

/* The node: char major 81 (video4linux), minors no real node uses here. */
#define SHIM_MAJOR	 81u
#define SHIM_MINOR_BASE	 200u
#define SHIM_PATH_PREFIX "/dev/video-vmedia"

/* ---- the real functions (dlsym RTLD_NEXT) ---- */
struct shim_real {
	int (*open)(const char *, int, ...);
	int (*openat)(int, const char *, int, ...);
	int (*close)(int);
	int (*dup)(int);
	int (*dup2)(int, int);
	int (*dup3)(int, int, int);
	int (*fcntl)(int, int, ...);
	int (*ioctl)(int, unsigned long, ...);
	ssize_t (*read)(int, void *, size_t);
	ssize_t (*write)(int, const void *, size_t);
	void *(*mmap)(void *, size_t, int, int, int, off_t);
	int (*munmap)(void *, size_t);
	int (*ppoll)(struct pollfd *, nfds_t, const struct timespec *,
		     const sigset_t *);
	int (*select)(int, fd_set *, fd_set *, fd_set *, struct timeval *);
	int (*pselect)(int, fd_set *, fd_set *, fd_set *,
		       const struct timespec *, const sigset_t *);
	int (*epoll_ctl)(int, int, int, struct epoll_event *);
	int (*epoll_pwait)(int, struct epoll_event *, int, int,
			   const sigset_t *);
	int (*stat)(const char *, struct stat *);
	int (*lstat)(const char *, struct stat *);
	int (*fstat)(int, struct stat *);
	int (*fstatat)(int, const char *, struct stat *, int);
	int (*statx)(int, const char *, int, unsigned, struct statx *);
	FILE *(*fopen)(const char *, const char *);
	long (*syscall)(long, ...);
};
extern struct shim_real shim_real;
/* Resolve the real functions (once; safe from any hook). */
void shim_init(void);

/* ---- devices (vmedia_shim.c) ---- */
/* Longest path of ours (the sysfs uevent), with its NUL. */
#define SHIM_PATH_MAX 48
/*
 * Copy up to size - 1 bytes of the application's path string into buf
 * (NUL-terminated), without trusting it: false when it cannot be read
 * (then libc's own call reports EFAULT).
 */
bool shim_peek_path(const char *path, char *buf, size_t size);
/*
 * Device index of path (/dev/video-vmediaN), or -1 when it is not ours.
 * Connects no transport.
 */
int shim_path_index(const char *path);
/* Connect (once) and return the number of devices, or a negative errno. */
int shim_devices(void);
struct vg_core *shim_core(unsigned i);
/* Every core there is (for munmap and MAP_FIXED), up to max. */
unsigned shim_cores(struct vg_core **out, unsigned max);
/* open() of device i with flags: an fd, or a negative errno. */
int shim_open_dev(unsigned i, int flags);
/* Does device i exist? Connects when i > 0. */
bool shim_dev_exists(unsigned i);

/* ---- fake fds (shim_fd.c) ---- */

/* One open file description of the device: a session. */
struct shim_file {
	struct vg_file *vf;
	unsigned dev;
	atomic_int refs; /* fds naming it + calls in progress */
};

/* Record fd as naming sf (takes a reference). */
int shim_fd_install(int fd, struct shim_file *sf);
/* The file fd names, with a reference for the call, or NULL. */
struct shim_file *shim_fd_get(int fd);
void shim_file_put(struct shim_file *sf);
/* Quick check that is false whenever no fake fd exists. */
bool shim_fd_any(void);
/* fd stopped naming anything of ours (closed, or dup2'ed over). */
void shim_fd_forget(int fd);

/* ---- epoll (shim_epoll.c) ---- */
/* A file released: its epoll registrations go with it. */
void shim_epoll_release(struct shim_file *sf);

/* ---- stat (shim_stat.c) ---- */
void shim_fill_stat(unsigned dev, struct stat *st);
/*
 * sysfs uevent path of one of our nodes: the device index, else -1.
 * shim_uevent_fd() opens its content as a readable memfd.
 */
int shim_uevent_index(const char *path);
int shim_uevent_fd(unsigned dev, int flags);

/* glibc entry points its headers do not declare (fortified, old ABI). */
int __open_2(const char *path, int flags);
int __open64_2(const char *path, int flags);
int __openat_2(int dirfd, const char *path, int flags);
int __openat64_2(int dirfd, const char *path, int flags);
ssize_t __read_chk(int fd, void *buf, size_t n, size_t buflen);
int __poll_chk(struct pollfd *fds, nfds_t n, int timeout, size_t fdslen);
int __ppoll_chk(struct pollfd *fds, nfds_t n, const struct timespec *tmo,
		const sigset_t *mask, size_t fdslen);
int __xstat(int ver, const char *path, struct stat *st);
int __xstat64(int ver, const char *path, struct stat *st);
int __lxstat(int ver, const char *path, struct stat *st);
int __lxstat64(int ver, const char *path, struct stat *st);
int __fxstat(int ver, int fd, struct stat *st);
int __fxstat64(int ver, int fd, struct stat *st);
int __fxstatat(int ver, int dirfd, const char *path, struct stat *st,
	       int flags);
int __fxstatat64(int ver, int dirfd, const char *path, struct stat *st,
		 int flags);

/*
 * Path tests that are not folded away: libc declares the path arguments
 * of the functions we define nonnull, but a program may still pass NULL.
 */
bool shim_is_abs(const char *path);
bool shim_is_empty(const char *path);

/*
 * Calls into the guest core (and the transport under it) make libc calls
 * of their own: poll, read, close, mmap... Those must reach libc, not our
 * hooks, or a hook could take a lock its caller holds. So every call into
 * the core is bracketed by shim_enter/shim_leave, and a hook that finds
 * its thread inside just calls the real function.
 */
extern _Thread_local unsigned shim_depth;

static inline void shim_enter(void)
{
	shim_depth++;
}

static inline void shim_leave(void)
{
	shim_depth--;
}

static inline bool shim_busy(void)
{
	return shim_depth != 0;
}

/* Set errno from a negative errno and return -1. */
static inline int shim_err(int r)
{
	if (r < 0) {
		errno = -r;
		return -1;
	}
	return r;
}

#endif
