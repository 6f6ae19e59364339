/* SPDX-License-Identifier: MIT */
/*
 * The V4L2 proxy test rig: the proxy through its ops table, over the fake
 * host device (tests/fakes/fake_v4l2_host.c) and the fake protocol
 * services (tests/fakes/fake_session.c). The test plays epoll: pump()
 * asks the fake what poll() would answer for the proxy's interest and
 * calls the proxy's callback with it, as the event loop would.
 */
#ifndef VMEDIA_TESTS_V4L2_PROXY_RIG_H
#define VMEDIA_TESTS_V4L2_PROXY_RIG_H

#include <sys/epoll.h>

#include "backends/v4l2_proxy/v4l2_proxy.h"
#include "fakes/fake_session.h"
#include "fakes/fake_v4l2_host.h"
#include "tap.h"

#define RIG_SHM	 (16u << 20)
#define SIZE_SP	 8192u /* single-planar sizeimage */
#define SIZE_MP0 8192u
#define SIZE_MP1 4096u

#define CAP	 V4L2_BUF_TYPE_VIDEO_CAPTURE
#define OUT	 V4L2_BUF_TYPE_VIDEO_OUTPUT
#define CAP_MP	 V4L2_BUF_TYPE_VIDEO_CAPTURE_MPLANE
#define OUT_MP	 V4L2_BUF_TYPE_VIDEO_OUTPUT_MPLANE
#define MMAP	 V4L2_MEMORY_MMAP
#define UPTR	 V4L2_MEMORY_USERPTR

struct rig {
	struct evloop *loop;
	void *dev;
	struct vmedia_identity id;
	const struct vmedia_ioctl_ops *io;
	char msg[256];
};

struct sess {
	struct vmedia_session *vs;
	void *priv;
	int fd;
};

/* Guest USERPTR memory: one segment, or split in two far-apart halves. */
struct guest_mem {
	struct iovec iov[2];
	struct vmedia_userptr up;
	void *a, *b;
};

/* A capture camera: single-planar, USERPTR on the host as asked. */
struct fake_v4l2_cfg cfg_camera(bool host_userptr);
struct fake_v4l2_cfg cfg_m2m_mplane(bool host_userptr);

bool rig_up(struct rig *r, const struct fake_v4l2_cfg *cfg);
/* Destroys, then checks nothing leaked: SHM, host fds, host mappings. */
void rig_down(struct rig *r);
void sess_open(struct rig *r, struct sess *s, uint32_t id);
void sess_close(struct rig *r, struct sess *s);
uint32_t pump(struct sess *s);

int reqbufs(struct rig *r, struct sess *s, uint32_t type, uint32_t mem,
	    uint32_t count);
void buf_init(struct vmedia_buffer *b, uint32_t type, uint32_t mem,
	      uint32_t index);
int qbuf(struct rig *r, struct sess *s, uint32_t type, uint32_t index);
int querybuf(struct rig *r, struct sess *s, uint32_t type, uint32_t index,
	     struct vmedia_buffer *b);
/* The SHM host view of plane p of an MMAP buffer (via QUERYBUF). */
uint8_t *shm_of(struct rig *r, struct sess *s, uint32_t type, uint32_t index,
		unsigned p);

void gmem_init(struct guest_mem *g, size_t len, bool split);
void gmem_free(struct guest_mem *g);
bool all_bytes(const uint8_t *p, size_t n, uint8_t v);

void proxy_hostile_tests(void);

#endif
