/* SPDX-License-Identifier: MIT */
/*
 * The shim's devices and its open(): see shim.h for the map.
 *
 * Environment:
 *   VMEDIA_SOCKET          vmediad's test socket, or
 *   VMEDIA_DEVMEM          inside a Xen guest: the devices' MMIO windows
 *                          (0x2000000[,0x2000200...]; needs root)
 *   VMEDIA_GRANTS=1        with VMEDIA_DEVMEM: grant pages to the backend
 *                          (domain VMEDIA_BACKEND_DOMID, default 0)
 *   VMEDIA_ALLOW_USERPTR=1 the driver's allow_userptr parameter
 *   VMEDIA_DRIVER_NAME     the driver's driver_name parameter
 *   VMEDIA_KERNEL_VERSION  kernel to behave like, "6.12" (default 6.18)
 *   VMEDIA_GUEST_RAM_MB    driver RAM (default 256; USERPTR
 *                          and control payloads are bounced through it)
 *   VMEDIA_SCATTER_RAM=1   test transport: scatter the driver's RAM pages
 *                          as a real guest's are (with RAM <= 64 MiB)
 *   VMEDIA_SHIM_VERBOSE=1  report device misbehaviour on stderr
 *
 * The transport is connected at the first open of a node, never in a
 * constructor: LD_PRELOAD reaches every child process (sh, time, ...).
 */
#undef _FORTIFY_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "shim.h"
#include "vg_connect.h"
#include "vg_ram.h"
#include "vg_uaccess.h"
#include "vg_transport.h"

#define DEFAULT_RAM_MB 256u

struct shim_real shim_real;
_Thread_local unsigned shim_depth;
static pthread_once_t real_once = PTHREAD_ONCE_INIT;

#define RESOLVE(name) (*(void **)&shim_real.name = dlsym(RTLD_NEXT, #name))

static void resolve(void)
{
	RESOLVE(open);
	RESOLVE(openat);
	RESOLVE(close);
	RESOLVE(dup);
	RESOLVE(dup2);
	RESOLVE(dup3);
	RESOLVE(fcntl);
	RESOLVE(ioctl);
	RESOLVE(read);
	RESOLVE(write);
	RESOLVE(mmap);
	RESOLVE(munmap);
	RESOLVE(ppoll);
	RESOLVE(select);
	RESOLVE(pselect);
	RESOLVE(epoll_ctl);
	RESOLVE(epoll_pwait);
	RESOLVE(stat);
	RESOLVE(lstat);
	RESOLVE(fstat);
	RESOLVE(fstatat);
	RESOLVE(statx);
	RESOLVE(fopen);
	RESOLVE(syscall);
}

void shim_init(void)
{
	pthread_once(&real_once, resolve);
}

/* ---- devices ---- */

struct shim_dev {
	struct vg_media media;
	struct vg_core *core; /* NULL: not a usable virtio-media device */
};

static pthread_mutex_t dev_lock = PTHREAD_MUTEX_INITIALIZER;
/* One lock for all cores: they share the transport's RAM allocator. */
static pthread_mutex_t core_lock = PTHREAD_MUTEX_INITIALIZER;
static struct vg_transport *transport;
static struct vg_ram ram;
static struct shim_dev devs[VG_MAX_DEVICES];
static unsigned ndevs;

bool shim_peek_path(const char *path, char *buf, size_t size)
{
	size_t done = 0;

	/* Page by page: a short string may end just before a hole. */
	while (path && done < size - 1) {
		uintptr_t at = (uintptr_t)path + done;
		size_t n = VG_PAGE_SIZE - at % VG_PAGE_SIZE;

		if (n > size - 1 - done)
			n = size - 1 - done;
		if (vg_copy_from_user(buf + done, (const void *)at, n))
			return false;
		if (memchr(buf + done, 0, n))
			return true;
		done += n;
	}
	buf[done] = 0;
	return path != NULL;
}

bool shim_is_abs(const char *path)
{
	char c[2];

	return shim_peek_path(path, c, sizeof(c)) && c[0] == '/';
}

bool shim_is_empty(const char *path)
{
	char c[2];

	return shim_peek_path(path, c, sizeof(c)) && !c[0];
}

int shim_path_index(const char *path)
{
	size_t n = strlen(SHIM_PATH_PREFIX);
	char buf[SHIM_PATH_MAX], *end;
	long i;

	if (!shim_peek_path(path, buf, sizeof(buf)) ||
	    strncmp(buf, SHIM_PATH_PREFIX, n) != 0 || buf[n] < '0' ||
	    buf[n] > '9')
		return -1;
	i = strtol(buf + n, &end, 10);
	return *end || i >= VG_MAX_DEVICES ? -1 : (int)i;
}

static bool env_on(const char *name)
{
	const char *v = getenv(name);

	return v && *v && strcmp(v, "0") != 0;
}

static uint32_t kernel_version(void)
{
	const char *v = getenv("VMEDIA_KERNEL_VERSION");
	unsigned a = 0, b = 0, c = 0;

	if (!v || sscanf(v, "%u.%u.%u", &a, &b, &c) < 2 || a > 255 || b > 255 ||
	    c > 255)
		return 0;
	return VG_CORE_VERSION(a, b, c);
}

static void core_opts(struct vg_core_opts *o)
{
	*o = (struct vg_core_opts){
		.driver_name = getenv("VMEDIA_DRIVER_NAME"),
		.allow_userptr = env_on("VMEDIA_ALLOW_USERPTR"),
		.kernel_version = kernel_version(),
		.lock = &core_lock,
		.verbose = env_on("VMEDIA_SHIM_VERBOSE"),
		.sys_mmap = shim_real.mmap,
		.sys_munmap = shim_real.munmap,
	};
}

static uint64_t ram_size(void)
{
	const char *v = getenv("VMEDIA_GUEST_RAM_MB");
	unsigned long mb = v ? strtoul(v, NULL, 10) : 0;

	if (mb == 0 || mb > 16384)
		mb = DEFAULT_RAM_MB;
	return (uint64_t)mb << 20;
}

static int connect_locked(void)
{
	struct vg_where w = { .ram_size = ram_size() };
	struct vg_core_opts o;
	char msg[256];
	int r;

	vg_where_from_env(&w);
	r = vg_connect(&w, &transport, msg, sizeof(msg));
	if (r == 0 && vg_ram_init(&ram, transport) < 0) {
		r = -ENOMEM;
		snprintf(msg, sizeof(msg), "out of memory");
	}
	if (r < 0) {
		fprintf(stderr, "libvmedia-shim: %s\n", msg);
		vg_transport_close(transport);
		transport = NULL;
		return r;
	}
	core_opts(&o);
	for (unsigned i = 0; i < transport->num_devices; i++) {
		/* Not a virtio-media device: the index stays, with no node. */
		if (vg_media_init(&devs[i].media, transport, &ram, i) == 0 &&
		    vg_core_create(&devs[i].media, &o, &devs[i].core) < 0)
			vg_media_fini(&devs[i].media);
	}
	ndevs = transport->num_devices;
	return 0;
}

int shim_devices(void)
{
	int r = 0;

	shim_init();
	pthread_mutex_lock(&dev_lock);
	if (vg_core_forked())
		r = -EIO; /* the parent's transport is not ours to use */
	else if (!transport) {
		shim_enter();
		r = connect_locked(); /* retried until it works */
		shim_leave();
	}
	if (r == 0)
		r = (int)ndevs;
	pthread_mutex_unlock(&dev_lock);
	return r;
}

struct vg_core *shim_core(unsigned i)
{
	struct vg_core *c;

	pthread_mutex_lock(&dev_lock);
	c = i < ndevs ? devs[i].core : NULL;
	pthread_mutex_unlock(&dev_lock);
	return c;
}

unsigned shim_cores(struct vg_core **out, unsigned max)
{
	unsigned n = 0;

	pthread_mutex_lock(&dev_lock);
	for (unsigned i = 0; i < ndevs && n < max; i++) {
		if (devs[i].core)
			out[n++] = devs[i].core;
	}
	pthread_mutex_unlock(&dev_lock);
	return n;
}

bool shim_dev_exists(unsigned i)
{
	/* The first node always exists: stat() must not need the daemon. */
	if (i == 0)
		return true;
	return shim_devices() > (int)i && shim_core(i);
}

static int open_dev(struct vg_core *c, unsigned i, int flags)
{
	struct shim_file *sf;
	int fd, r;

	sf = calloc(1, sizeof(*sf));
	if (!sf)
		return -ENOMEM;
	sf->dev = i;
	r = vg_core_open(c, &sf->vf);
	if (r < 0) {
		free(sf);
		return r;
	}
	/* A memfd: a real, unique fd whose status flags dups share. */
	fd = memfd_create("vmedia-video",
			  (flags & O_CLOEXEC) ? MFD_CLOEXEC : 0);
	if (fd < 0 || ((flags & O_NONBLOCK) &&
		       shim_real.fcntl(fd, F_SETFL, O_NONBLOCK) < 0)) {
		r = -errno;
		if (fd >= 0)
			shim_real.close(fd);
		vg_core_close(sf->vf);
		free(sf);
		return r;
	}
	r = shim_fd_install(fd, sf);
	if (r < 0) {
		shim_real.close(fd);
		vg_core_close(sf->vf);
		free(sf);
		return r;
	}
	return fd;
}

int shim_open_dev(unsigned i, int flags)
{
	struct vg_core *c;
	int n = shim_devices(), r;

	if (n < 0)
		return n;
	c = (int)i < n ? shim_core(i) : NULL;
	if (!c)
		return -ENOENT;
	shim_enter();
	r = open_dev(c, i, flags);
	shim_leave();
	return r;
}

/* ---- open() and friends ---- */

/* Ours to open: the node or its uevent. 1 with *fd, else 0. */
static int open_ours(const char *path, int flags, int *fd)
{
	int i = shim_path_index(path);

	if (i >= 0) {
		*fd = shim_err(shim_open_dev((unsigned)i, flags));
		return 1;
	}
	i = shim_uevent_index(path);
	if (i >= 0) {
		*fd = shim_err(shim_uevent_fd((unsigned)i, flags));
		return 1;
	}
	return 0;
}

static mode_t open_mode(int flags, va_list ap)
{
	bool needs = (flags & O_CREAT) || (flags & __O_TMPFILE) == __O_TMPFILE;

	return needs ? va_arg(ap, mode_t) : 0;
}

SHIM_EXPORT int open(const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;
	int fd;

	shim_init();
	va_start(ap, flags);
	mode = open_mode(flags, ap);
	va_end(ap);
	if (!shim_busy() && open_ours(path, flags, &fd))
		return fd;
	return shim_real.open(path, flags, mode);
}

SHIM_EXPORT int open64(const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;
	int fd;

	shim_init();
	va_start(ap, flags);
	mode = open_mode(flags, ap);
	va_end(ap);
	if (!shim_busy() && open_ours(path, flags, &fd))
		return fd;
	return shim_real.open(path, flags | O_LARGEFILE, mode);
}

/* The fortified opens: flags without O_CREAT, so no mode. */
SHIM_EXPORT int __open_2(const char *path, int flags)
{
	return open(path, flags);
}

SHIM_EXPORT int __open64_2(const char *path, int flags)
{
	return open64(path, flags);
}

SHIM_EXPORT int openat(int dirfd, const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;
	int fd;

	shim_init();
	va_start(ap, flags);
	mode = open_mode(flags, ap);
	va_end(ap);
	/* Only absolute paths name our nodes; dirfd is then ignored. */
	if (!shim_busy() && shim_is_abs(path) && open_ours(path, flags, &fd))
		return fd;
	return shim_real.openat(dirfd, path, flags, mode);
}

SHIM_EXPORT int openat64(int dirfd, const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;

	va_start(ap, flags);
	mode = open_mode(flags, ap);
	va_end(ap);
	return openat(dirfd, path, flags | O_LARGEFILE, mode);
}

SHIM_EXPORT int __openat_2(int dirfd, const char *path, int flags)
{
	return openat(dirfd, path, flags);
}

SHIM_EXPORT int __openat64_2(int dirfd, const char *path, int flags)
{
	return openat64(dirfd, path, flags);
}

/*
 * fopen of the uevent: a real fd under the FILE (libstdc++'s ifstream
 * reads through fileno()), so not fmemopen.
 */
SHIM_EXPORT FILE *fopen(const char *path, const char *mode)
{
	FILE *f;
	int fd;

	shim_init();
	if (shim_busy() || !open_ours(path, O_RDWR, &fd))
		return shim_real.fopen(path, mode);
	if (fd < 0)
		return NULL;
	f = fdopen(fd, mode);
	if (!f)
		close(fd);
	return f;
}

SHIM_EXPORT FILE *fopen64(const char *path, const char *mode)
{
	return fopen(path, mode);
}
