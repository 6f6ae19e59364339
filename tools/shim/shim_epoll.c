/* SPDX-License-Identifier: MIT */
/*
 * epoll with our fds: they cannot be added to a kernel epoll set (a
 * memfd refuses with EPERM), so their registrations live here, keyed by
 * the epoll fd (and its inode, against reuse of the number); epoll_wait
 * merges them with what the kernel reports for the rest of the set.
 * Level-triggered only: EPOLLET is treated as level-triggered,
 * EPOLLONESHOT is honoured.
 */
#undef _FORTIFY_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "shim.h"
#include "shim_wait.h"
#include "vg_uaccess.h"

/* ---- epoll ---- */

struct ep_reg {
	int epfd;
	ino_t ep_ino;
	int fd;
	struct shim_file *sf; /* not referenced: release removes us */
	struct epoll_event ev;
	bool fired; /* EPOLLONESHOT reported, until EPOLL_CTL_MOD */
	struct ep_reg *next;
};

static pthread_mutex_t ep_lock = PTHREAD_MUTEX_INITIALIZER;
static struct ep_reg *regs;

static ino_t ino_of(int fd)
{
	struct stat st;

	return shim_real.fstat(fd, &st) == 0 ? st.st_ino : 0;
}

void shim_epoll_release(struct shim_file *sf)
{
	pthread_mutex_lock(&ep_lock);
	for (struct ep_reg **pp = &regs; *pp;) {
		struct ep_reg *r = *pp;

		if (r->sf == sf) {
			*pp = r->next;
			free(r);
		} else {
			pp = &r->next;
		}
	}
	pthread_mutex_unlock(&ep_lock);
}

static struct ep_reg **find_reg(int epfd, ino_t ino, int fd,
				const struct shim_file *sf)
{
	struct ep_reg **pp = &regs;

	while (*pp && !((*pp)->epfd == epfd && (*pp)->ep_ino == ino &&
			(*pp)->fd == fd && (*pp)->sf == sf))
		pp = &(*pp)->next;
	return pp;
}

static int ctl_ours(int epfd, int op, int fd, struct shim_file *sf,
		    const struct epoll_event *uev)
{
	ino_t ino = ino_of(epfd);
	struct epoll_event ev = { 0 };
	struct ep_reg **pp, *r;
	int ret = 0;

	if (!ino || epfd == fd)
		return -EBADF;
	if (op != EPOLL_CTL_DEL && vg_copy_from_user(&ev, uev, sizeof(ev)))
		return -EFAULT;
	pthread_mutex_lock(&ep_lock);
	pp = find_reg(epfd, ino, fd, sf);
	if (op == EPOLL_CTL_ADD && *pp) {
		ret = -EEXIST;
	} else if (op == EPOLL_CTL_ADD) {
		r = calloc(1, sizeof(*r));
		if (r)
			*r =
				(struct ep_reg){ epfd, ino,   fd,  sf,
						 ev,   false, regs };
		if (r)
			regs = r;
		ret = r ? 0 : -ENOMEM;
	} else if (!*pp) {
		ret = op == EPOLL_CTL_MOD || op == EPOLL_CTL_DEL ? -ENOENT
								 : -EINVAL;
	} else if (op == EPOLL_CTL_MOD) {
		(*pp)->ev = ev;
		(*pp)->fired = false;
	} else if (op == EPOLL_CTL_DEL) {
		r = *pp;
		*pp = r->next;
		free(r);
	} else {
		ret = -EINVAL;
	}
	pthread_mutex_unlock(&ep_lock);
	return ret;
}

SHIM_EXPORT int epoll_ctl(int epfd, int op, int fd, struct epoll_event *ev)
{
	struct shim_file *sf;
	int r;

	shim_init();
	sf = shim_busy() ? NULL : shim_fd_get(fd);
	if (!sf)
		return shim_real.epoll_ctl(epfd, op, fd, ev);
	r = ctl_ours(epfd, op, fd, sf, ev);
	shim_file_put(sf);
	return shim_err(r);
}

/* A reference to a registered file, unless it is being released. */
static bool get_live(struct shim_file *sf)
{
	int n = atomic_load(&sf->refs);

	while (n > 0) {
		if (atomic_compare_exchange_weak(&sf->refs, &n, n + 1))
			return true;
	}
	return false;
}

/* Our armed registrations on epfd, as watches; data kept alongside. */
static size_t collect(int epfd, struct split *sp, epoll_data_t *data,
		      size_t max)
{
	ino_t ino = ino_of(epfd);
	size_t n = 0;

	pthread_mutex_lock(&ep_lock);
	for (struct ep_reg *r = regs; r && n < max; r = r->next) {
		unsigned key = r->ev.events | EPOLLERR | EPOLLHUP;

		if (r->epfd != epfd || r->ep_ino != ino || r->fired ||
		    !get_live(r->sf))
			continue;
		sp->w[n] = (struct watch){ r->sf, key, key, 0 };
		data[n++] = r->ev.data;
	}
	pthread_mutex_unlock(&ep_lock);
	sp->ws.nw = n;
	return n;
}

static void mark_fired(int epfd, const struct watch *w)
{
	pthread_mutex_lock(&ep_lock);
	for (struct ep_reg *r = regs; r; r = r->next) {
		if (r->epfd == epfd && r->sf == w->sf &&
		    (r->ev.events & EPOLLONESHOT))
			r->fired = true;
	}
	pthread_mutex_unlock(&ep_lock);
}

static int count_regs(int epfd)
{
	int n = 0;

	pthread_mutex_lock(&ep_lock);
	for (struct ep_reg *r = regs; r; r = r->next)
		n += r->epfd == epfd;
	pthread_mutex_unlock(&ep_lock);
	return n;
}

/* Ours first, then what the kernel has for the real fds of the set. */
static int ep_report(int epfd, struct split *sp, const epoll_data_t *data,
		     struct epoll_event *uev, int max)
{
	int n = 0, k;

	for (size_t i = 0; i < sp->ws.nw && n < max; i++) {
		struct watch *w = &sp->w[i];
		struct epoll_event e = { .events = w->mask & w->want,
					 .data = data[i] };

		if (!e.events)
			continue;
		if (vg_copy_to_user(&uev[n], &e, sizeof(e)))
			return -EFAULT;
		mark_fired(epfd, w);
		n++;
	}
	if (n < max && (sp->real[0].revents & POLLIN)) {
		k = shim_real.epoll_pwait(epfd, uev + n, max - n, 0, NULL);
		if (k > 0)
			n += k;
	}
	return n;
}

static int do_epoll_wait(int epfd, struct epoll_event *ev, int max,
			 const struct timespec *tmo, const sigset_t *mask)
{
	int nregs = !shim_busy() && shim_fd_any() ? count_regs(epfd) : 0;
	epoll_data_t *data;
	struct split sp;
	int r;

	if (max <= 0 || nregs == 0 || shim_split_alloc(&sp, (size_t)nregs))
		return -ENOSYS; /* the caller asks the kernel */
	data = calloc((size_t)nregs, sizeof(*data));
	collect(epfd, &sp, data, data ? (size_t)nregs : 0);
	sp.real[0] = (struct pollfd){ .fd = epfd, .events = POLLIN };
	sp.ws.nreal = 1;
	sp.ws.sigmask = mask;
	shim_split_timeout(&sp, tmo);
	r = sp.ws.nw ? shim_wait_ready(&sp.ws) : -ENOSYS;
	if (r >= 0)
		r = ep_report(epfd, &sp, data, ev, max);
	free(data);
	shim_split_free(&sp);
	return r;
}

static int epoll_common(int epfd, struct epoll_event *ev, int max,
			const struct timespec *tmo, const sigset_t *mask,
			int ms)
{
	int r = do_epoll_wait(epfd, ev, max, tmo, mask);

	if (r != -ENOSYS)
		return shim_err(r);
	if (ms != -2)
		return shim_real.epoll_pwait(epfd, ev, max, ms, mask);
	/* epoll_pwait2's nanosecond timeout, rounded up to milliseconds. */
	return shim_real.epoll_pwait(
		epfd, ev, max,
		(int)(tmo->tv_sec * 1000 + (tmo->tv_nsec + 999999) / 1000000),
		mask);
}

SHIM_EXPORT int epoll_wait(int epfd, struct epoll_event *ev, int max, int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	shim_init();
	return epoll_common(epfd, ev, max, ms >= 0 ? &ts : NULL, NULL,
			    ms >= 0 ? ms : -1);
}

SHIM_EXPORT int epoll_pwait(int epfd, struct epoll_event *ev, int max, int ms,
			    const sigset_t *mask)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	shim_init();
	return epoll_common(epfd, ev, max, ms >= 0 ? &ts : NULL, mask,
			    ms >= 0 ? ms : -1);
}

SHIM_EXPORT int epoll_pwait2(int epfd, struct epoll_event *ev, int max,
			     const struct timespec *tmo, const sigset_t *mask)
{
	shim_init();
	return epoll_common(epfd, ev, max, tmo, mask, tmo ? -2 : -1);
}
