/* SPDX-License-Identifier: MIT */
/*
 * What makes a program believe in the node before it opens it: stat()
 * says character device 81:(200 + index), and /sys/dev/char/81:N/uevent
 * names it "videoN" (v4l2-compliance decides the device type from that
 * DEVNAME, not from the path). fstat() of an open fd says the same.
 */
#undef _FORTIFY_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "shim.h"
#include "vg_uaccess.h"

#define UEVENT_FMT "/sys/dev/char/%u:%u/uevent"
#define NODE_INO   0x766d6d30u /* "vmm0": fake, but stable */
#define NODE_GID   44u	       /* Debian's video group */

void shim_fill_stat(unsigned dev, struct stat *st)
{
	static struct timespec born;
	struct stat d;

	if (!born.tv_sec)
		clock_gettime(CLOCK_REALTIME, &born);
	memset(st, 0, sizeof(*st));
	/* On /dev's filesystem, as a real node would be. */
	if (shim_real.stat("/dev", &d) == 0)
		st->st_dev = d.st_dev;
	st->st_ino = NODE_INO + dev;
	st->st_mode = S_IFCHR | 0660;
	st->st_nlink = 1;
	st->st_gid = NODE_GID;
	st->st_rdev = makedev(SHIM_MAJOR, SHIM_MINOR_BASE + dev);
	st->st_blksize = 4096;
	st->st_atim = st->st_mtim = st->st_ctim = born;
}

/* 1 (filled or failed with errno), or 0 when path is not ours. */
static int stat_path(const char *path, struct stat *st, int *ret)
{
	int i = shim_busy() ? -1 : shim_path_index(path);
	struct stat mine;

	if (i < 0)
		return 0;
	if (!shim_dev_exists((unsigned)i)) {
		*ret = shim_err(-ENOENT);
		return 1;
	}
	shim_fill_stat((unsigned)i, &mine);
	*ret = shim_err(vg_copy_to_user(st, &mine, sizeof(mine)));
	return 1;
}

/* 1 when fd is ours (*ret: 0, or -1 with errno), else 0. */
static int stat_fd(int fd, struct stat *st, int *ret)
{
	struct shim_file *sf = shim_busy() ? NULL : shim_fd_get(fd);
	struct stat mine;

	if (!sf)
		return 0;
	shim_fill_stat(sf->dev, &mine);
	shim_file_put(sf);
	*ret = shim_err(vg_copy_to_user(st, &mine, sizeof(mine)));
	return 1;
}

SHIM_EXPORT int stat(const char *path, struct stat *st)
{
	int r;

	shim_init();
	return stat_path(path, st, &r) ? r : shim_real.stat(path, st);
}

/* Same layout on LP64: the *64 names are aliases there. */
_Static_assert(sizeof(struct stat) == sizeof(struct stat64), "stat64");

SHIM_EXPORT int stat64(const char *path, struct stat64 *st)
{
	return stat(path, (struct stat *)st);
}

SHIM_EXPORT int lstat(const char *path, struct stat *st)
{
	int r;

	shim_init();
	return stat_path(path, st, &r) ? r : shim_real.lstat(path, st);
}

SHIM_EXPORT int lstat64(const char *path, struct stat64 *st)
{
	return lstat(path, (struct stat *)st);
}

SHIM_EXPORT int fstat(int fd, struct stat *st)
{
	int r;

	shim_init();
	return stat_fd(fd, st, &r) ? r : shim_real.fstat(fd, st);
}

SHIM_EXPORT int fstat64(int fd, struct stat64 *st)
{
	return fstat(fd, (struct stat *)st);
}

SHIM_EXPORT int fstatat(int dirfd, const char *path, struct stat *st, int flags)
{
	int r;

	shim_init();
	if ((flags & AT_EMPTY_PATH) && shim_is_empty(path) &&
	    stat_fd(dirfd, st, &r))
		return r;
	if (shim_is_abs(path) && stat_path(path, st, &r))
		return r;
	return shim_real.fstatat(dirfd, path, st, flags);
}

SHIM_EXPORT int fstatat64(int dirfd, const char *path, struct stat64 *st,
			  int flags)
{
	return fstatat(dirfd, path, (struct stat *)st, flags);
}

/* The pre-2.33 glibc entry points, for binaries built against them. */
SHIM_EXPORT int __xstat(int ver, const char *path, struct stat *st)
{
	(void)ver;
	return stat(path, st);
}

SHIM_EXPORT int __xstat64(int ver, const char *path, struct stat *st)
{
	(void)ver;
	return stat(path, st);
}

SHIM_EXPORT int __lxstat(int ver, const char *path, struct stat *st)
{
	(void)ver;
	return lstat(path, st);
}

SHIM_EXPORT int __lxstat64(int ver, const char *path, struct stat *st)
{
	(void)ver;
	return lstat(path, st);
}

SHIM_EXPORT int __fxstat(int ver, int fd, struct stat *st)
{
	(void)ver;
	return fstat(fd, st);
}

SHIM_EXPORT int __fxstat64(int ver, int fd, struct stat *st)
{
	(void)ver;
	return fstat(fd, st);
}

SHIM_EXPORT int __fxstatat(int ver, int dirfd, const char *path,
			   struct stat *st, int flags)
{
	(void)ver;
	return fstatat(dirfd, path, st, flags);
}

SHIM_EXPORT int __fxstatat64(int ver, int dirfd, const char *path,
			     struct stat *st, int flags)
{
	(void)ver;
	return fstatat(dirfd, path, st, flags);
}

static void to_statx(const struct stat *st, struct statx *sx)
{
	memset(sx, 0, sizeof(*sx));
	sx->stx_mask = STATX_BASIC_STATS;
	sx->stx_blksize = (uint32_t)st->st_blksize;
	sx->stx_nlink = (uint32_t)st->st_nlink;
	sx->stx_uid = st->st_uid;
	sx->stx_gid = st->st_gid;
	sx->stx_mode = (uint16_t)st->st_mode;
	sx->stx_ino = st->st_ino;
	sx->stx_atime.tv_sec = st->st_atim.tv_sec;
	sx->stx_mtime.tv_sec = st->st_mtim.tv_sec;
	sx->stx_ctime.tv_sec = st->st_ctim.tv_sec;
	sx->stx_rdev_major = major(st->st_rdev);
	sx->stx_rdev_minor = minor(st->st_rdev);
	sx->stx_dev_major = major(st->st_dev);
	sx->stx_dev_minor = minor(st->st_dev);
}

SHIM_EXPORT int statx(int dirfd, const char *path, int flags, unsigned mask,
		      struct statx *sx)
{
	struct stat st;
	bool have = false;
	int r;

	shim_init();
	if ((flags & AT_EMPTY_PATH) && shim_is_empty(path)) {
		have = stat_fd(dirfd, &st, &r);
	} else if (shim_is_abs(path) && stat_path(path, &st, &r)) {
		if (r)
			return r;
		have = true;
	}
	if (have) {
		struct statx out;

		to_statx(&st, &out);
		return shim_err(vg_copy_to_user(sx, &out, sizeof(out)));
	}
	if (!shim_real.statx)
		return shim_err(-ENOSYS);
	return shim_real.statx(dirfd, path, flags, mask, sx);
}

/* ---- sysfs ---- */

int shim_uevent_index(const char *upath)
{
	char path[SHIM_PATH_MAX], want[64];
	unsigned maj, min;

	if (!shim_peek_path(upath, path, sizeof(path)) ||
	    sscanf(path, UEVENT_FMT, &maj, &min) != 2 || maj != SHIM_MAJOR ||
	    min < SHIM_MINOR_BASE || min >= SHIM_MINOR_BASE + VG_MAX_DEVICES)
		return -1;
	snprintf(want, sizeof(want), UEVENT_FMT, maj, min);
	if (strcmp(path, want) != 0)
		return -1;
	return shim_dev_exists(min - SHIM_MINOR_BASE)
		       ? (int)(min - SHIM_MINOR_BASE)
		       : -1;
}

int shim_uevent_fd(unsigned dev, int flags)
{
	char text[96];
	int n = snprintf(text, sizeof(text),
			 "MAJOR=%u\nMINOR=%u\nDEVNAME=video%u\n", SHIM_MAJOR,
			 SHIM_MINOR_BASE + dev, SHIM_MINOR_BASE + dev);
	int fd = memfd_create("vmedia-uevent",
			      (flags & O_CLOEXEC) ? MFD_CLOEXEC : 0);

	if (fd < 0)
		return -errno;
	if (shim_real.write(fd, text, (size_t)n) != n ||
	    lseek(fd, 0, SEEK_SET) != 0) {
		int err = -errno;

		shim_real.close(fd);
		return err ? err : -EIO;
	}
	return fd;
}
