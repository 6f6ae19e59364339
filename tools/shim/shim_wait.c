/* SPDX-License-Identifier: MIT */
/*
 * The wait under poll, select and epoll: our fds' readiness comes from
 * the core (vg_core_poll); when nothing is ready the thread sleeps in the
 * real ppoll() on the real fds, each device's interrupt fd and its own
 * eventfd, which the core writes when a file may have become ready. No
 * time slices: timeouts are exact and a signal interrupts the wait.
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

static struct timespec mono_now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t;
}

static struct timespec deadline_in(const struct timespec *rel)
{
	struct timespec t = mono_now();

	t.tv_sec += rel->tv_sec;
	t.tv_nsec += rel->tv_nsec;
	if (t.tv_nsec >= 1000000000) {
		t.tv_sec++;
		t.tv_nsec -= 1000000000;
	}
	return t;
}

/* Time left until d (zero when past). */
struct timespec shim_left_until(const struct timespec *d)
{
	struct timespec n = mono_now(), r = { 0, 0 };

	if (n.tv_sec > d->tv_sec ||
	    (n.tv_sec == d->tv_sec && n.tv_nsec >= d->tv_nsec))
		return r;
	r.tv_sec = d->tv_sec - n.tv_sec;
	r.tv_nsec = d->tv_nsec - n.tv_nsec;
	if (r.tv_nsec < 0) {
		r.tv_sec--;
		r.tv_nsec += 1000000000;
	}
	return r;
}

static unsigned watched_cores(const struct waitset *ws, struct vg_core **c)
{
	unsigned n = 0;

	for (size_t i = 0; i < ws->nw; i++) {
		struct vg_core *core = vg_core_of(ws->w[i].sf->vf);
		bool seen = false;

		for (unsigned k = 0; k < n; k++)
			seen |= c[k] == core;
		if (!seen && n < VG_MAX_DEVICES)
			c[n++] = core;
	}
	return n;
}

static size_t fake_ready(struct waitset *ws)
{
	size_t n = 0;

	shim_enter();
	for (size_t i = 0; i < ws->nw; i++) {
		struct watch *w = &ws->w[i];

		w->mask = vg_core_poll(w->sf->vf, w->key);
		n += (w->mask & w->want) != 0;
	}
	shim_leave();
	return n;
}

static void drain(int efd)
{
	uint64_t v;

	while (shim_real.read(efd, &v, sizeof(v)) == sizeof(v))
		;
}

/* One sleep: armed on every core, then the real ppoll. */
static int sleep_once(struct waitset *ws, struct pollfd *pfd,
		      struct vg_core **cores, unsigned nc, int efd,
		      size_t *nfake)
{
	struct vg_core_wait waits[VG_MAX_DEVICES] = { 0 };
	struct timespec ts = { 0, 0 }, *tp = NULL;
	int n, err;

	shim_enter();
	for (unsigned i = 0; i < nc; i++)
		vg_core_wait_arm(cores[i], &waits[i], efd);
	shim_leave();
	*nfake = fake_ready(ws);
	if (!*nfake && ws->deadline) {
		ts = shim_left_until(ws->deadline);
		tp = &ts;
	} else if (*nfake) {
		tp = &ts;
	}
	n = shim_real.ppoll(pfd, ws->nreal + 1 + nc, tp, ws->sigmask);
	err = errno;
	shim_enter();
	for (unsigned i = 0; i < nc; i++)
		vg_core_wait_disarm(&waits[i]);
	shim_leave();
	drain(efd);
	errno = err;
	return n;
}

/* Ready count (ours plus real), 0 at the deadline, or a negative errno. */
int shim_wait_ready(struct waitset *ws)
{
	struct vg_core *cores[VG_MAX_DEVICES];
	unsigned nc = watched_cores(ws, cores);
	struct pollfd *pfd = calloc(ws->nreal + 1 + nc, sizeof(*pfd));
	int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK), r = 0;

	if (!pfd || efd < 0) {
		r = -(errno ? errno : ENOMEM);
		goto out;
	}
	memcpy(pfd, ws->real, ws->nreal * sizeof(*pfd));
	pfd[ws->nreal] = (struct pollfd){ .fd = efd, .events = POLLIN };
	for (unsigned i = 0; i < nc; i++)
		pfd[ws->nreal + 1 + i] =
			(struct pollfd){ .fd = vg_core_irq_fd(cores[i]),
					 .events = POLLIN };
	for (;;) {
		size_t nfake, nreal = 0;
		int n = sleep_once(ws, pfd, cores, nc, efd, &nfake);

		if (n < 0) {
			r = -errno;
			break;
		}
		for (nfds_t i = 0; i < ws->nreal; i++) {
			ws->real[i].revents = pfd[i].revents;
			nreal += pfd[i].revents != 0;
		}
		/* Woken by a device only: look at our fds again. */
		if (nfake || nreal || n == 0) {
			r = (int)(nfake + nreal);
			break;
		}
	}
out:
	free(pfd);
	if (efd >= 0)
		shim_real.close(efd);
	return r;
}

static void put_watches(struct watch *w, size_t n)
{
	for (size_t i = 0; i < n; i++)
		shim_file_put(w[i].sf);
	free(w);
}

void shim_split_free(struct split *sp)
{
	put_watches(sp->w, sp->ws.nw);
	free(sp->real);
	free(sp->where);
}

int shim_split_alloc(struct split *sp, size_t n)
{
	memset(sp, 0, sizeof(*sp));
	sp->w = calloc(n ? n : 1, sizeof(*sp->w));
	sp->real = calloc(n ? n : 1, sizeof(*sp->real));
	sp->where = calloc(n ? n : 1, sizeof(*sp->where));
	if (!sp->w || !sp->real || !sp->where) {
		shim_split_free(sp);
		return -ENOMEM;
	}
	sp->ws.w = sp->w;
	sp->ws.real = sp->real;
	return 0;
}

void shim_split_add(struct split *sp, size_t i, int fd, short events,
		    unsigned key, unsigned want)
{
	struct shim_file *sf = fd >= 0 ? shim_fd_get(fd) : NULL;

	if (sf) {
		sp->w[sp->ws.nw] = (struct watch){ sf, key, want, 0 };
		sp->where[i] = -(long)++sp->ws.nw;
		return;
	}
	sp->real[sp->ws.nreal] = (struct pollfd){ .fd = fd, .events = events };
	sp->where[i] = (long)sp->ws.nreal++;
}

void shim_split_timeout(struct split *sp, const struct timespec *tmo)
{
	if (tmo) {
		sp->dl = deadline_in(tmo);
		sp->ws.deadline = &sp->dl;
	}
}

short shim_split_revents(const struct split *sp, size_t i, short events)
{
	const struct watch *w;

	if (sp->where[i] >= 0)
		return sp->real[sp->where[i]].revents;
	w = &sp->w[-sp->where[i] - 1];
	return (short)(w->mask & ((unsigned)events | POLLERR | POLLHUP));
}
