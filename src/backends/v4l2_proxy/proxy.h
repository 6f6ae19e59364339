/* SPDX-License-Identifier: MIT */
/*
 * The host V4L2 proxy: internal interfaces between its files.
 *
 * Each guest open() is one host open() (struct vp_session): the host
 * device keeps every per-open state itself (formats on m2m devices, vb2
 * queue ownership, event subscriptions), so the proxy only translates.
 * What it must own is memory: guest buffers live in shared memory or in
 * guest pages, host buffers in the host driver, and every buffer ioctl
 * maps one onto the other (struct vp_queue, per buffer type).
 *
 *   proxy.c          instance and session lifetime, failure, statistics
 *   proxy_ioctl.c    plain forwarding of every ioctl slot, the ops table
 *   proxy_buffers.c  REQBUFS, CREATE_BUFS, QUERYBUF, QBUF, PREPARE_BUF
 *   proxy_stream.c   STREAMON/OFF, readiness, DQBUF/DQEVENT, host checks
 *   host_libv4l2.c   the real host (struct v4l2_host_ops)
 *
 * Everything runs on the guest's thread; the host fd is non-blocking.
 */
#ifndef VMEDIA_V4L2_PROXY_INT_H
#define VMEDIA_V4L2_PROXY_INT_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include "backends/v4l2_proxy/v4l2_proxy.h"
#include "vmedia/backend.h"
#include "vmedia/evloop.h"
#include "vmedia/log.h"

#define VP_MAX_BUFFERS VIDEO_MAX_FRAME /* what the protocol can index */
#define VP_MAX_QUEUES  2	       /* m2m: OUTPUT and CAPTURE */

/* How a queue's guest memory meets the host's. */
enum vp_mode {
	VP_MODE_NONE,
	VP_MODE_IMPORT,	   /* guest MMAP (SHM) given to the host as USERPTR */
	VP_MODE_MMAP_COPY, /* guest MMAP (SHM), host MMAP, copied */
	VP_MODE_USERPTR,   /* guest USERPTR, host USERPTR: direct or bounce */
	VP_MODE_UP_COPY,   /* guest USERPTR, host MMAP, copied */
};

enum vp_buf_state { VP_BUF_IDLE, VP_BUF_PREPARED, VP_BUF_QUEUED };

struct vp_plane {
	uint32_t length;       /* the host's size for this plane */
	uint32_t guest_length; /* what the guest sees (USERPTR: its own) */
	/* guest MMAP: the shared memory block */
	bool has_shm;
	uint32_t shm_offset;
	void *shm;
	/* host MMAP: our mapping of the host buffer */
	void *hmap;
	size_t hmap_len;
	/* host USERPTR when the guest memory cannot be used in place */
	void *bounce;
	size_t bounce_len;
	/* guest USERPTR: its address, and its pages while queued */
	unsigned long guest_userptr;
	const struct vmedia_userptr *up;
	/* what the host last pinned in place, and for which guest address */
	void *last_direct;
	unsigned long last_guest;
	/* where the host's memory for this plane is, while queued */
	void *host_ptr;
	size_t host_cap;
	bool copy; /* host memory is not the guest's: copy at QBUF/DQBUF */
};

struct vp_buf {
	enum vp_buf_state state;
	unsigned n_planes;
	struct vp_plane p[VIDEO_MAX_PLANES];
};

struct vp_queue {
	uint32_t type;	      /* 0: slot unused */
	uint32_t memory;      /* the guest's */
	uint32_t host_memory; /* the host's */
	enum vp_mode mode;
	bool no_direct; /* the host refused guest pages in place: bounce */
	bool streaming;
	bool last;    /* DQBUF said EPIPE: nothing more until restarted */
	bool stalled; /* POLLERR with nothing to dequeue: wait for a change */
	unsigned n_bufs, n_queued;
	struct vp_buf bufs[VP_MAX_BUFFERS];
};

struct vp_dev;

struct vp_session {
	struct vp_dev *dev;
	struct vmedia_session *vs;
	struct vp_session *prev, *next;
	int fd;
	int dead; /* positive errno once the session failed */
	struct evloop_source src;
	uint32_t interest;
	unsigned err_spins; /* POLLERR wakeups in a row that did nothing */
	struct vp_queue q[VP_MAX_QUEUES];
};

struct vp_dev {
	char path[PATH_MAX];
	struct evloop *loop;
	const struct v4l2_host_ops *host;
	struct vp_session *sessions;
	struct v4l2_proxy_stats stats;
	struct vm_ratelimit rl;
};

int vp_domid(const struct vp_session *s);

/* ---- proxy.c ---- */
/*
 * One host ioctl for a session: EINTR retried, ENODEV fails the session
 * (the device is gone). Returns 0 or a negative errno; -dead once failed.
 */
int vp_ioctl(struct vp_session *s, unsigned long req, void *arg);
/* The session is beyond repair: EVT_ERROR once, fd out of the loop. */
void vp_fail(struct vp_session *s, int err, const char *why);

/* ---- proxy_buffers.c ---- */
struct vp_queue *vp_queue_get(struct vp_session *s, uint32_t type, bool create);
int vp_reqbufs(void *priv, struct v4l2_requestbuffers *r);
int vp_create_bufs(void *priv, struct v4l2_create_buffers *c);
int vp_querybuf(void *priv, struct vmedia_buffer *b);
int vp_qbuf(void *priv, struct vmedia_buffer *b);
int vp_prepare_buf(void *priv, struct vmedia_buffer *b);
/* Free every buffer's memory on our side (host already released it). */
void vp_queue_free(struct vp_session *s, struct vp_queue *q);
/* Where plane p of a dequeued buffer may hold data, in bytes. */
size_t vp_plane_capacity(const struct vp_plane *p);
/* Copy a done capture buffer's data to the guest's memory. */
void vp_copy_to_guest(struct vp_session *s, struct vp_queue *q,
		      struct vp_buf *vb, const struct v4l2_buffer *hb,
		      const struct v4l2_plane *hp);
/* Fill the guest's view of buffer index from the host's answer. */
void vp_to_guest(const struct vp_queue *q, unsigned index,
		 const struct v4l2_buffer *hb, const struct v4l2_plane *hp,
		 struct v4l2_buffer *gb, struct v4l2_plane *gp);

/* ---- proxy_stream.c ---- */
int vp_streamon(void *priv, uint32_t type);
int vp_streamoff(void *priv, uint32_t type);
/* Queue state changed: poll the host fd for what we now wait on. */
void vp_update_interest(struct vp_session *s);
/* Every queued/prepared buffer goes back to idle (STREAMOFF semantics). */
void vp_queue_cancel(struct vp_queue *q);
/* Read every pending host event into the guest's event queue. */
void vp_drain_events(struct vp_session *s);
void vp_on_host(void *ctx, uint32_t events);
/* DECODER_CMD / ENCODER_CMD may restart a drained capture queue. */
void vp_clear_last(struct vp_session *s);

/* ---- proxy_ioctl.c ---- */
extern const struct vmedia_ioctl_ops vp_ioctl_ops;

#endif
