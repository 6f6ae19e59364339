/* SPDX-License-Identifier: MIT */
/*
 * Fake fds. Every open of a node is a memfd: a real fd number the kernel
 * manages (close-on-exec, fork, O_NONBLOCK via fcntl all just work, and
 * dups share the status flags as they share a real open file
 * description). The table maps fd -> struct shim_file, the session; dups
 * share it, and the session is closed (CMD_CLOSE) when its last fd and
 * last call in progress are gone, as release() is called on the last
 * fput(). Each entry remembers the memfd's inode: an fd closed behind our
 * back (fclose of an fdopen'ed fd goes through libc internals) and reused
 * for another file is recognised and forgotten.
 */
#undef _FORTIFY_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "shim.h"

struct entry {
	struct shim_file *sf;
	dev_t dev;
	ino_t ino;
};

static pthread_mutex_t tab_lock = PTHREAD_MUTEX_INITIALIZER;
static struct entry *tab;
static size_t tab_cap;
static atomic_uint nfake;
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

static void tab_lock_fn(void)
{
	pthread_mutex_lock(&tab_lock);
}

static void tab_unlock_fn(void)
{
	pthread_mutex_unlock(&tab_lock);
}

static void register_atfork(void)
{
	pthread_atfork(tab_lock_fn, tab_unlock_fn, tab_unlock_fn);
}

bool shim_fd_any(void)
{
	return atomic_load_explicit(&nfake, memory_order_relaxed) > 0;
}

void shim_file_put(struct shim_file *sf)
{
	if (!sf || atomic_fetch_sub(&sf->refs, 1) != 1)
		return;
	/* The last reference: release(). */
	shim_epoll_release(sf);
	shim_enter();
	vg_core_close(sf->vf);
	shim_leave();
	free(sf);
}

static int grow(size_t fd)
{
	size_t cap = tab_cap ? tab_cap : 256;
	struct entry *n;

	while (cap <= fd)
		cap *= 2;
	if (cap == tab_cap)
		return 0;
	n = realloc(tab, cap * sizeof(*n));
	if (!n)
		return -ENOMEM;
	memset(n + tab_cap, 0, (cap - tab_cap) * sizeof(*n));
	tab = n;
	tab_cap = cap;
	return 0;
}

/* Take fd's entry out (tab_lock held); the caller puts the file. */
static struct shim_file *take(int fd)
{
	struct shim_file *sf = NULL;

	if (fd >= 0 && (size_t)fd < tab_cap && tab[fd].sf) {
		sf = tab[fd].sf;
		tab[fd].sf = NULL;
		atomic_fetch_sub(&nfake, 1);
	}
	return sf;
}

int shim_fd_install(int fd, struct shim_file *sf)
{
	struct shim_file *old;
	struct stat st;
	int r;

	pthread_once(&atfork_once, register_atfork);
	if (fd < 0 || shim_real.fstat(fd, &st) < 0)
		return -EBADF;
	pthread_mutex_lock(&tab_lock);
	r = grow((size_t)fd);
	old = r ? NULL : take(fd);
	if (r == 0) {
		atomic_fetch_add(&sf->refs, 1);
		tab[fd] = (struct entry){ sf, st.st_dev, st.st_ino };
		atomic_fetch_add(&nfake, 1);
	}
	pthread_mutex_unlock(&tab_lock);
	shim_file_put(old);
	return r;
}

struct shim_file *shim_fd_get(int fd)
{
	struct shim_file *sf = NULL, *stale = NULL;
	struct stat st;

	if (fd < 0 || !shim_fd_any())
		return NULL;
	pthread_mutex_lock(&tab_lock);
	if ((size_t)fd < tab_cap && tab[fd].sf) {
		if (shim_real.fstat(fd, &st) == 0 && st.st_ino == tab[fd].ino &&
		    st.st_dev == tab[fd].dev) {
			sf = tab[fd].sf;
			atomic_fetch_add(&sf->refs, 1);
		} else {
			stale = take(fd); /* closed behind our back */
		}
	}
	pthread_mutex_unlock(&tab_lock);
	shim_file_put(stale);
	return sf;
}

void shim_fd_forget(int fd)
{
	struct shim_file *sf;

	if (!shim_fd_any())
		return;
	pthread_mutex_lock(&tab_lock);
	sf = take(fd);
	pthread_mutex_unlock(&tab_lock);
	shim_file_put(sf);
}

SHIM_EXPORT int close(int fd)
{
	shim_init();
	if (!shim_busy())
		shim_fd_forget(fd);
	return shim_real.close(fd);
}

/* newfd now names what oldfd names (after a successful real dup). */
static int dup_result(int oldfd, int newfd)
{
	struct shim_file *sf;

	if (newfd < 0 || newfd == oldfd || shim_busy())
		return newfd;
	sf = shim_fd_get(oldfd);
	if (!sf) {
		shim_fd_forget(newfd); /* a real file replaced one of ours */
		return newfd;
	}
	if (shim_fd_install(newfd, sf) < 0) {
		shim_real.close(newfd);
		newfd = shim_err(-EMFILE);
	}
	shim_file_put(sf);
	return newfd;
}

SHIM_EXPORT int dup(int fd)
{
	shim_init();
	return dup_result(fd, shim_real.dup(fd));
}

SHIM_EXPORT int dup2(int oldfd, int newfd)
{
	shim_init();
	return dup_result(oldfd, shim_real.dup2(oldfd, newfd));
}

SHIM_EXPORT int dup3(int oldfd, int newfd, int flags)
{
	shim_init();
	return dup_result(oldfd, shim_real.dup3(oldfd, newfd, flags));
}

/* Status flags and the rest belong to the memfd; only dups are ours. */
static int do_fcntl(int fd, int cmd, void *arg)
{
	int r = shim_real.fcntl(fd, cmd, arg);

	if ((cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC) && r >= 0)
		return dup_result(fd, r);
	return r;
}

SHIM_EXPORT int fcntl(int fd, int cmd, ...)
{
	va_list ap;
	void *arg;

	shim_init();
	va_start(ap, cmd);
	arg = va_arg(ap, void *);
	va_end(ap);
	return do_fcntl(fd, cmd, arg);
}

SHIM_EXPORT int fcntl64(int fd, int cmd, ...)
{
	va_list ap;
	void *arg;

	shim_init();
	va_start(ap, cmd);
	arg = va_arg(ap, void *);
	va_end(ap);
	return do_fcntl(fd, cmd, arg);
}
