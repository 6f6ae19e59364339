/* SPDX-License-Identifier: MIT */
/*
 * Waiting on our fds and real ones together (shim_wait.c), shared by
 * poll/select (shim_poll.c) and epoll (shim_epoll.c).
 */
#ifndef VMEDIA_SHIM_WAIT_H
#define VMEDIA_SHIM_WAIT_H

#include "shim.h"

#define POLLIN_SET  (EPOLLRDNORM | EPOLLRDBAND | EPOLLIN | EPOLLHUP | EPOLLERR)
#define POLLOUT_SET (EPOLLWRBAND | EPOLLWRNORM | EPOLLOUT | EPOLLERR)
#define POLLEX_SET  (EPOLLPRI)

/* One of our fds being waited for. */
struct watch {
	struct shim_file *sf;
	unsigned key;  /* the poll_table key */
	unsigned want; /* what the caller will report */
	unsigned mask; /* result */
};

struct waitset {
	struct pollfd *real;
	nfds_t nreal;
	struct watch *w;
	size_t nw;
	const struct timespec *deadline; /* CLOCK_MONOTONIC; NULL: none */
	const sigset_t *sigmask;
};

/*
 * The caller's fds split into ours (watches) and real ones; where[i] says
 * where fd i went: >= 0 a real index, < 0 the watch -(where + 1).
 */
struct split {
	struct waitset ws;
	struct watch *w;
	struct pollfd *real;
	long *where;
	struct timespec dl;
};

/*
 * Sleep until one of ours is ready (mask & want), a real fd is, the
 * deadline passes or a signal comes: the ready count, 0 at the deadline,
 * or a negative errno (-EINTR).
 */
int shim_wait_ready(struct waitset *ws);
int shim_split_alloc(struct split *sp, size_t n);
void shim_split_free(struct split *sp);
/* Add fd: one of ours becomes a watch, any other a real pollfd. */
void shim_split_add(struct split *sp, size_t i, int fd, short events,
		    unsigned key, unsigned want);
/* The wait ends tmo from now (NULL: never). */
void shim_split_timeout(struct split *sp, const struct timespec *tmo);
/* revents of caller's fd i after the wait (poll's filtering). */
short shim_split_revents(const struct split *sp, size_t i, short events);
/* Time left until the deadline d (zero when past). */
struct timespec shim_left_until(const struct timespec *d);

#endif
