/* SPDX-License-Identifier: MIT */
/*
 * The protocol layer's private state, shared by its files: the device,
 * its sessions, its event FIFO and its shared-memory allocations.
 */
#ifndef VMEDIA_PROTOCOL_MEDIA_H
#define VMEDIA_PROTOCOL_MEDIA_H

#include <stdbool.h>
#include <stdint.h>

#include "vmedia/backend.h"
#include "vmedia/guest_mem.h"
#include "vmedia/log.h"
#include "vmedia/media_device.h"
#include "vmedia/shm_region.h"
#include "vmedia/virtio_media_wire.h"
#include "vmedia/virtqueue.h"

struct virtio_mmio;

/* ---- guest memory behind USERPTR buffers (userptr.c) -------------------- */

struct userptr_map {
	unsigned n_planes;
	struct vmedia_userptr plane[VIDEO_MAX_PLANES];
	unsigned n_segs;
	struct iovec *iov;     /* n_segs host views */
	struct gmem_map *maps; /* n_segs mappings */
};

/* Buffer queues a session may stream on, found by V4L2 buffer type. */
#define SESSION_QUEUES	    4u
#define SESSION_MAX_BUFFERS VIDEO_MAX_FRAME

struct session_queue {
	uint32_t type; /* 0 = slot unused */
	bool streaming;
	struct userptr_map *userptr[SESSION_MAX_BUFFERS];
};

/* ---- sessions (session.c) ----------------------------------------------- */

struct vmedia_session {
	struct vmedia_session *next;
	struct media_device *md;
	uint32_t id;
	void *priv;  /* the backend's */
	bool broken; /* EVT_ERROR sent; waiting for the guest's CLOSE */
	struct session_queue queue[SESSION_QUEUES];
};

/* ---- shared memory allocations (shm.c) ---------------------------------- */

struct shm_block {
	struct shm_block *next; /* sorted by offset */
	uint64_t offset;
	uint64_t len;
	void *host;
	struct vmedia_session *owner; /* NULL once the backend let go */
	unsigned guest_maps;	      /* CMD_MMAP minus CMD_MUNMAP */
};

/* ---- events waiting for eventq buffers (events.c) ----------------------- */

struct media_event {
	struct media_event *next;
	uint32_t session_id;
	uint32_t buf_type; /* DQBUF events: the queue, to purge on STREAMOFF */
	uint32_t len;
	union {
		struct virtio_media_event_header hdr;
		uint8_t bytes[VIRTIO_MEDIA_EVENT_MAX_SIZE];
	} u;
};

struct event_fifo {
	struct media_event *head, **tail;
	unsigned count;
};

/* ---- the device --------------------------------------------------------- */

struct media_device {
	struct virtio_media_config config;
	struct virtio_mmio *mmio;
	struct virtq_chain cmd_chain;	/* the command being served */
	struct virtq_chain event_chain; /* an event buffer being filled */
	int domid;
	const struct gmem *mem;
	const struct vmedia_backend_class *backend;
	void *backend_dev;
	struct media_limits limits;

	struct vmedia_session *sessions;
	unsigned num_sessions;
	uint32_t next_session_id;

	struct event_fifo events;

	const struct shm_region *shm; /* NULL: no region, MMAP is ENOTTY */
	struct shm_block *blocks;
	uint64_t userptr_bytes; /* guest memory mapped for USERPTR now */

	struct vm_ratelimit rl;
	bool limit_logged[4]; /* once per guest per limit */
};

#define md_limit_warn(md, which, ...)                      \
	do {                                               \
		if (!(md)->limit_logged[which]) {          \
			(md)->limit_logged[which] = true;  \
			vm_warn((md)->domid, __VA_ARGS__); \
		}                                          \
	} while (0)

#define md_warn(md, ...)                                   \
	do {                                               \
		if (vm_ratelimit_ok(&(md)->rl))            \
			vm_warn((md)->domid, __VA_ARGS__); \
	} while (0)

/* session.c */
struct vmedia_session *session_find(struct media_device *md, uint32_t id);
int session_open(struct media_device *md, struct vmedia_session **out);
void session_close(struct vmedia_session *s);
void session_close_all(struct media_device *md);
struct session_queue *session_queue(struct vmedia_session *s, uint32_t type,
				    bool create);
/* The queue of `type` stopped (STREAMOFF, REQBUFS): forget its buffers. */
void session_queue_stopped(struct vmedia_session *s, uint32_t type);

/* userptr.c */
void userptr_unmap(struct media_device *md, struct userptr_map **slot);

/* events.c */
void events_push(struct media_device *md, struct media_event *ev);
void events_flush(struct media_device *md);
void events_purge(struct media_device *md, uint32_t session_id,
		  uint32_t buf_type);
void events_clear(struct media_device *md);

/* shm.c */
struct shm_block *shm_find(struct media_device *md, uint64_t offset);
void shm_release_if_unused(struct media_device *md, struct shm_block *b);
void shm_session_closed(struct media_device *md, struct vmedia_session *s);
void shm_clear(struct media_device *md);

/* commands.c: answer one command; returns bytes written to the chain. */
uint32_t media_handle_command(struct media_device *md,
			      const struct virtq_chain *chain);

#endif
