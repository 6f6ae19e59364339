/* SPDX-License-Identifier: MIT */
/*
 * poll, ppoll, select, pselect and epoll over a mix of our fds and real
 * ones. A memfd is always "ready" to the kernel, so our fds never reach
 * it: their readiness comes from vg_core_poll() with the key the kernel
 * would have passed to the driver's poll (poll/epoll: the events asked
 * for plus EPOLLERR|EPOLLHUP; select: POLLEX_SET plus POLLIN_SET and/or
 * POLLOUT_SET). When nothing is ready the thread sleeps in the real
 * ppoll() on the real fds, on each device's interrupt fd and on its own
 * eventfd, which the core writes when a file may have become ready: no
 * time slices, exact timeouts, and EINTR when a signal comes.
 */
#undef _FORTIFY_SOURCE
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "shim.h"
#include "shim_wait.h"
#include "vg_uaccess.h"

/* ---- poll ---- */

static int do_poll(struct pollfd *ufds, nfds_t n, const struct timespec *tmo,
		   const sigset_t *mask)
{
	struct pollfd *fds;
	struct split sp;
	int r, ready = 0;

	if (shim_busy() || !shim_fd_any() || n == 0 || n > 1u << 20)
		return shim_real.ppoll(ufds, n, tmo, mask);
	fds = malloc(n * sizeof(*fds));
	if (!fds || vg_copy_from_user(fds, ufds, n * sizeof(*fds)) ||
	    shim_split_alloc(&sp, n)) {
		free(fds);
		return shim_real.ppoll(ufds, n, tmo, mask); /* EFAULT, ENOMEM */
	}
	for (nfds_t i = 0; i < n; i++) {
		unsigned key =
			(unsigned)(uint16_t)fds[i].events | POLLERR | POLLHUP;

		shim_split_add(&sp, i, fds[i].fd, fds[i].events, key, key);
	}
	sp.ws.sigmask = mask;
	shim_split_timeout(&sp, tmo);
	r = sp.ws.nw ? shim_wait_ready(&sp.ws) : -EAGAIN;
	if (r == -EAGAIN) { /* none of ours after all */
		shim_split_free(&sp);
		free(fds);
		return shim_real.ppoll(ufds, n, tmo, mask);
	}
	for (nfds_t i = 0; r >= 0 && i < n; i++) {
		fds[i].revents =
			fds[i].fd < 0
				? 0
				: shim_split_revents(&sp, i, fds[i].events);
		ready += fds[i].revents != 0;
	}
	if (r >= 0 && vg_copy_to_user(ufds, fds, n * sizeof(*fds)))
		r = -EFAULT;
	shim_split_free(&sp);
	free(fds);
	return r < 0 ? shim_err(r) : ready;
}

SHIM_EXPORT int poll(struct pollfd *fds, nfds_t n, int timeout)
{
	struct timespec ts = { timeout / 1000, (timeout % 1000) * 1000000L };

	shim_init();
	return do_poll(fds, n, timeout >= 0 ? &ts : NULL, NULL);
}

SHIM_EXPORT int __poll_chk(struct pollfd *fds, nfds_t n, int timeout,
			   size_t fdslen)
{
	if (fdslen / sizeof(*fds) < n)
		abort();
	return poll(fds, n, timeout);
}

SHIM_EXPORT int ppoll(struct pollfd *fds, nfds_t n, const struct timespec *tmo,
		      const sigset_t *mask)
{
	shim_init();
	return do_poll(fds, n, tmo, mask);
}

SHIM_EXPORT int __ppoll_chk(struct pollfd *fds, nfds_t n,
			    const struct timespec *tmo, const sigset_t *mask,
			    size_t fdslen)
{
	if (fdslen / sizeof(*fds) < n)
		abort();
	return ppoll(fds, n, tmo, mask);
}

/* ---- select ---- */

struct sets {
	fd_set r, w, e;
	bool has_r, has_w, has_e;
};

static int sets_in(struct sets *s, fd_set *r, fd_set *w, fd_set *e)
{
	memset(s, 0, sizeof(*s));
	s->has_r = r, s->has_w = w, s->has_e = e;
	if ((r && vg_copy_from_user(&s->r, r, sizeof(*r))) ||
	    (w && vg_copy_from_user(&s->w, w, sizeof(*w))) ||
	    (e && vg_copy_from_user(&s->e, e, sizeof(*e))))
		return -EFAULT;
	return 0;
}

static bool any_ours(int nfds, const struct sets *s)
{
	for (int fd = 0; fd < nfds; fd++) {
		struct shim_file *sf;

		if (!FD_ISSET(fd, &s->r) && !FD_ISSET(fd, &s->w) &&
		    !FD_ISSET(fd, &s->e))
			continue;
		sf = shim_fd_get(fd);
		shim_file_put(sf);
		if (sf)
			return true;
	}
	return false;
}

/* The selected fds as a split; where[fd] indexes them. */
static void sets_split(struct split *sp, int nfds, const struct sets *s)
{
	for (int fd = 0; fd < nfds; fd++) {
		bool r = FD_ISSET(fd, &s->r), w = FD_ISSET(fd, &s->w);
		bool e = FD_ISSET(fd, &s->e);
		unsigned key = POLLEX_SET | (r ? POLLIN_SET : 0) |
			       (w ? POLLOUT_SET : 0);
		unsigned want = (r ? POLLIN_SET : 0) | (w ? POLLOUT_SET : 0) |
				(e ? POLLEX_SET : 0);

		if (!r && !w && !e) {
			sp->where[fd] = LONG_MIN;
			continue;
		}
		shim_split_add(sp, (size_t)fd, fd,
			       (short)((r ? POLLIN : 0) | (w ? POLLOUT : 0) |
				       (e ? POLLPRI : 0)),
			       key, want);
	}
}

/* The ready sets; -EBADF for a closed real fd, as select says. */
static int sets_out(const struct split *sp, int nfds, struct sets *s)
{
	struct sets in = *s;
	int n = 0;

	FD_ZERO(&s->r);
	FD_ZERO(&s->w);
	FD_ZERO(&s->e);
	for (int fd = 0; fd < nfds; fd++) {
		unsigned m;

		if (sp->where[fd] == LONG_MIN)
			continue;
		if (sp->where[fd] >= 0) {
			short re = sp->real[sp->where[fd]].revents;

			if (re & POLLNVAL)
				return -EBADF;
			m = (unsigned)(uint16_t)re;
		} else {
			m = sp->w[-sp->where[fd] - 1].mask;
		}
		if (FD_ISSET(fd, &in.r) && (m & POLLIN_SET) && ++n)
			FD_SET(fd, &s->r);
		if (FD_ISSET(fd, &in.w) && (m & POLLOUT_SET) && ++n)
			FD_SET(fd, &s->w);
		if (FD_ISSET(fd, &in.e) && (m & POLLEX_SET) && ++n)
			FD_SET(fd, &s->e);
	}
	return n;
}

static int sets_back(const struct sets *s, fd_set *r, fd_set *w, fd_set *e)
{
	if ((r && vg_copy_to_user(r, &s->r, sizeof(*r))) ||
	    (w && vg_copy_to_user(w, &s->w, sizeof(*w))) ||
	    (e && vg_copy_to_user(e, &s->e, sizeof(*e))))
		return -EFAULT;
	return 0;
}

/* 1 with the result in *ret when our fds were involved, else 0. */
static int do_select(int nfds, fd_set *r, fd_set *w, fd_set *e,
		     const struct timespec *tmo, const sigset_t *mask,
		     struct timespec *left, int *ret)
{
	struct sets s;
	struct split sp;
	int n;

	if (shim_busy() || !shim_fd_any() || nfds <= 0 || nfds > FD_SETSIZE ||
	    sets_in(&s, r, w, e) || !any_ours(nfds, &s) ||
	    shim_split_alloc(&sp, (size_t)nfds))
		return 0;
	sets_split(&sp, nfds, &s);
	sp.ws.sigmask = mask;
	shim_split_timeout(&sp, tmo);
	n = shim_wait_ready(&sp.ws);
	if (n >= 0)
		n = sets_out(&sp, nfds, &s);
	if (n >= 0 && sets_back(&s, r, w, e))
		n = -EFAULT;
	if (left && sp.ws.deadline)
		*left = shim_left_until(sp.ws.deadline);
	shim_split_free(&sp);
	*ret = shim_err(n);
	return 1;
}

SHIM_EXPORT int select(int nfds, fd_set *r, fd_set *w, fd_set *e,
		       struct timeval *tv)
{
	struct timespec ts, left;
	int ret;

	shim_init();
	if (tv) {
		ts.tv_sec = tv->tv_sec;
		ts.tv_nsec = tv->tv_usec * 1000L;
	}
	if (!do_select(nfds, r, w, e, tv ? &ts : NULL, NULL, &left, &ret))
		return shim_real.select(nfds, r, w, e, tv);
	/* Linux's select leaves the time not slept in *tv. */
	if (tv) {
		tv->tv_sec = left.tv_sec;
		tv->tv_usec = left.tv_nsec / 1000;
	}
	return ret;
}

SHIM_EXPORT int pselect(int nfds, fd_set *r, fd_set *w, fd_set *e,
			const struct timespec *tmo, const sigset_t *mask)
{
	int ret;

	shim_init();
	if (!do_select(nfds, r, w, e, tmo, mask, NULL, &ret))
		return shim_real.pselect(nfds, r, w, e, tmo, mask);
	return ret;
}
