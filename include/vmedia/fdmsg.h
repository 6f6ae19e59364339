/* SPDX-License-Identifier: MIT */
/*
 * Fixed-size datagrams with file descriptors attached (SCM_RIGHTS): the
 * test transport's messages, on both its sides.
 */
#ifndef VMEDIA_FDMSG_H
#define VMEDIA_FDMSG_H

#include <stddef.h>

/* More than the protocol ever carries, so extras are seen and closed. */
#define FDMSG_MAX_FDS 4u

struct fdmsg_fds {
	int fd[FDMSG_MAX_FDS];
	unsigned n;
};

/*
 * Receive one datagram that must be exactly len bytes. Returns 1 with the
 * message in buf and its fds in fds (close-on-exec; any beyond
 * FDMSG_MAX_FDS are closed), 0 when nothing is there (EAGAIN), or
 * -ECONNRESET (hangup), -EBADMSG (wrong size or truncated: its fds are
 * closed) or another negative errno. flags go to recvmsg (MSG_DONTWAIT).
 */
int fdmsg_recv(int sock, void *buf, size_t len, int flags,
	       struct fdmsg_fds *fds);
/* Close every fd in fds. */
void fdmsg_close(struct fdmsg_fds *fds);
/*
 * Send len bytes with nfds (0..FDMSG_MAX_FDS) fds attached. 0, -EIO for a
 * short send, or a negative errno; never SIGPIPE.
 */
int fdmsg_send(int sock, const void *buf, size_t len, const int *fd,
	       unsigned nfds, int flags);

#endif
