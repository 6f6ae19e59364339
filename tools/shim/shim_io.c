/* SPDX-License-Identifier: MIT */
/*
 * ioctl, read/write, mmap/munmap on our fds, and syscall(), which libv4l2
 * uses instead of the libc wrappers (libv4lsyscall-priv.h).
 */
#undef _FORTIFY_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "shim.h"

/* Handled by the VFS for any file before the driver sees them. */
static bool vfs_ioctl(unsigned long request)
{
	unsigned cmd = (unsigned)request;

	return cmd == FIOCLEX || cmd == FIONCLEX || cmd == FIONBIO ||
	       cmd == FIOASYNC;
}

static int do_ioctl(int fd, unsigned long request, void *arg)
{
	struct shim_file *sf;
	int r, fl;

	if (shim_busy() || vfs_ioctl(request) || !(sf = shim_fd_get(fd)))
		return shim_real.ioctl(fd, request, arg);
	/* O_NONBLOCK as it is now: fcntl may have changed it since open. */
	fl = shim_real.fcntl(fd, F_GETFL);
	shim_enter();
	r = vg_core_ioctl(sf->vf, request, arg, fl < 0 ? 0 : fl);
	shim_leave();
	shim_file_put(sf);
	return shim_err(r);
}

SHIM_EXPORT int ioctl(int fd, unsigned long request, ...)
{
	va_list ap;
	void *arg;

	shim_init();
	va_start(ap, request);
	arg = va_arg(ap, void *);
	va_end(ap);
	return do_ioctl(fd, request, arg);
}

/* No read/write file operation: v4l2_read/v4l2_write say EINVAL. */
static bool is_ours(int fd)
{
	struct shim_file *sf = shim_busy() ? NULL : shim_fd_get(fd);

	shim_file_put(sf);
	return sf != NULL;
}

SHIM_EXPORT ssize_t read(int fd, void *buf, size_t n)
{
	shim_init();
	if (is_ours(fd))
		return shim_err(-EINVAL);
	return shim_real.read(fd, buf, n);
}

SHIM_EXPORT ssize_t __read_chk(int fd, void *buf, size_t n, size_t buflen)
{
	if (n > buflen)
		abort(); /* what the fortified libc does */
	return read(fd, buf, n);
}

SHIM_EXPORT ssize_t write(int fd, const void *buf, size_t n)
{
	shim_init();
	if (is_ours(fd))
		return shim_err(-EINVAL);
	return shim_real.write(fd, buf, n);
}

/* A MAP_FIXED mapping replaced whatever was there, ours included. */
static void forget_fixed(void *p, size_t len)
{
	struct vg_core *cores[VG_MAX_DEVICES];
	unsigned n = shim_cores(cores, VG_MAX_DEVICES);

	shim_enter();
	for (unsigned i = 0; i < n; i++)
		vg_core_forget_range(cores[i], p, len);
	shim_leave();
}

static void *do_mmap(void *addr, size_t len, int prot, int flags, int fd,
		     off_t off)
{
	struct shim_file *sf = shim_busy() ? NULL : shim_fd_get(fd);
	void *p;
	int r;

	if (shim_busy())
		return shim_real.mmap(addr, len, prot, flags, fd, off);
	if (!sf) {
		p = shim_real.mmap(addr, len, prot, flags, fd, off);
		if (p != MAP_FAILED && (flags & MAP_FIXED) && shim_fd_any())
			forget_fixed(p, len);
		return p;
	}
	if (flags & MAP_FIXED)
		forget_fixed(addr, len);
	shim_enter();
	r = vg_core_mmap(sf->vf, addr, len, prot, flags, off, &p);
	shim_leave();
	shim_file_put(sf);
	if (r < 0) {
		errno = -r;
		return MAP_FAILED;
	}
	return p;
}

SHIM_EXPORT void *mmap(void *addr, size_t len, int prot, int flags, int fd,
		       off_t off)
{
	shim_init();
	return do_mmap(addr, len, prot, flags, fd, off);
}

SHIM_EXPORT void *mmap64(void *addr, size_t len, int prot, int flags, int fd,
			 off_t off)
{
	shim_init();
	return do_mmap(addr, len, prot, flags, fd, off);
}

static int do_munmap(void *addr, size_t len)
{
	struct vg_core *cores[VG_MAX_DEVICES];
	unsigned n = shim_busy() ? 0 : shim_cores(cores, VG_MAX_DEVICES);
	int r = 0;

	/* Mappings outlive their fds: ask every device there is. */
	shim_enter();
	for (unsigned i = 0; i < n && !r; i++)
		r = vg_core_munmap(cores[i], addr, len);
	shim_leave();
	if (r)
		return r < 0 ? shim_err(r) : 0;
	return shim_real.munmap(addr, len);
}

SHIM_EXPORT int munmap(void *addr, size_t len)
{
	shim_init();
	return do_munmap(addr, len);
}

/* ---- syscall(): the calls libv4l2 makes on its device fd ---- */

static long sys_open(int dirfd, const char *path, long flags, long mode)
{
	if (shim_is_abs(path) &&
	    (shim_path_index(path) >= 0 || shim_uevent_index(path) >= 0))
		return open(path, (int)flags, (mode_t)mode);
	return shim_real.syscall(SYS_openat, dirfd, path, flags, mode);
}

static bool fd_call(long nr, long fd)
{
	switch (nr) {
	case SYS_close:
	case SYS_dup:
#ifdef SYS_dup2 /* x86_64 has it; arm64 has only dup3 */
	case SYS_dup2:
#endif
	case SYS_dup3:
	case SYS_fcntl:
	case SYS_ioctl:
	case SYS_read:
	case SYS_write:
		return fd >= 0 && fd <= INT32_MAX && is_ours((int)fd);
	default:
		return false;
	}
}

static long sys_fd(long nr, long a[6])
{
	int fd = (int)a[0];

	switch (nr) {
	case SYS_close:
		return close(fd);
	case SYS_dup:
		return dup(fd);
#ifdef SYS_dup2
	case SYS_dup2:
		return dup2(fd, (int)a[1]);
#endif
	case SYS_dup3:
		return dup3(fd, (int)a[1], (int)a[2]);
	case SYS_fcntl:
		return fcntl(fd, (int)a[1], (void *)a[2]);
	case SYS_ioctl:
		return do_ioctl(fd, (unsigned long)a[1], (void *)a[2]);
	case SYS_read:
		return shim_err(-EINVAL);
	default: /* SYS_write */
		return shim_err(-EINVAL);
	}
}

SHIM_EXPORT long syscall(long nr, ...)
{
	va_list ap;
	long a[6];

	shim_init();
	va_start(ap, nr);
	for (unsigned i = 0; i < 6; i++)
		a[i] = va_arg(ap, long);
	va_end(ap);
	if (shim_busy())
		return shim_real.syscall(nr, a[0], a[1], a[2], a[3], a[4],
					 a[5]);
	if (nr == SYS_openat)
		return sys_open((int)a[0], (const char *)a[1], a[2], a[3]);
#ifdef SYS_open /* arm64 has only openat */
	if (nr == SYS_open)
		return sys_open(AT_FDCWD, (const char *)a[0], a[1], a[2]);
#endif
	if (fd_call(nr, a[0]))
		return sys_fd(nr, a);
	if (nr == SYS_mmap)
		return (long)do_mmap((void *)a[0], (size_t)a[1], (int)a[2],
				     (int)a[3], (int)a[4], (off_t)a[5]);
	if (nr == SYS_munmap)
		return do_munmap((void *)a[0], (size_t)a[1]);
	return shim_real.syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
}
