/* SPDX-License-Identifier: MIT */
/*
 * The host V4L2 proxy ("v4l2:/dev/videoN"): what the daemon and the unit
 * tests may see of it.
 */
#ifndef VMEDIA_V4L2_PROXY_H
#define VMEDIA_V4L2_PROXY_H

#include <stdbool.h>
#include <stdint.h>

#include "backends/v4l2_proxy/v4l2_host.h"
#include "vmedia/backend.h"

extern const struct vmedia_backend_class v4l2_proxy_backend_class;

/* What the memory translation cost, summed over an instance's sessions. */
struct v4l2_proxy_stats {
	uint64_t copies_to_guest; /* capture data copied host -> guest */
	uint64_t bytes_to_guest;
	uint64_t copies_to_host; /* output data copied guest -> host */
	uint64_t bytes_to_host;
	uint64_t zero_copy_qbufs;  /* planes the host used in place */
	uint64_t bounce_allocs;	   /* bounce buffers made */
	uint64_t host_mmaps;	   /* host MMAP buffers mapped */
	uint64_t bad_host_buffers; /* DQBUF results refused */
};

void v4l2_proxy_get_stats(void *dev, struct v4l2_proxy_stats *out);

/*
 * Tests: the host every later create() uses (NULL: libv4l2), and a
 * session's event-loop callback and interest, so a test can play epoll.
 */
void v4l2_proxy_use_host(const struct v4l2_host_ops *ops);
void v4l2_proxy_poll(void *priv, uint32_t events);
uint32_t v4l2_proxy_interest(void *priv);
bool v4l2_proxy_in_loop(void *priv);
int v4l2_proxy_host_fd(void *priv);

#endif
