/* SPDX-License-Identifier: MIT */
/*
 * A fake host V4L2 device behind struct v4l2_host_ops, for the proxy's
 * unit tests. It behaves like a small vb2 driver: per-open queues with
 * MMAP and/or USERPTR memory, single- or multi-planar formats, streaming,
 * done buffers the test completes by hand, V4L2 events, and readiness
 * the way vb2 computes poll() (so a test can play epoll). Faults are
 * injected on demand: the device vanishing, one failing call, a DQBUF
 * result the proxy must refuse.
 *
 * State is process-wide; fake_v4l2_reset() starts a scenario.
 */
#ifndef VMEDIA_TESTS_FAKE_V4L2_HOST_H
#define VMEDIA_TESTS_FAKE_V4L2_HOST_H

#include <linux/videodev2.h>
#include <stdbool.h>
#include <stdint.h>

#include "backends/v4l2_proxy/v4l2_host.h"

#define FAKE_V4L2_PATH	    "/dev/video-fake"
#define FAKE_V4L2_MAX_FDS   8
#define FAKE_CID_BLOB	    (V4L2_CID_USER_BASE + 0x2000) /* has payload */
#define FAKE_V4L2_MAXPLANES 3

struct fake_v4l2_cfg {
	uint32_t caps; /* device_caps (QUERYCAP adds DEVICE_CAPS) */
	const char *card;
	bool userptr;	     /* queues accept USERPTR */
	bool no_caps_report; /* REQBUFS reports no capabilities (< 4.20) */
	unsigned planes;     /* multi-planar formats: memory planes */
	uint32_t plane_size[FAKE_V4L2_MAXPLANES];
};

extern const struct v4l2_host_ops fake_v4l2_ops;

void fake_v4l2_reset(const struct fake_v4l2_cfg *cfg);

/*
 * Complete the oldest queued buffer of the fd's queue of `type`: each
 * plane gets `fill` in its first bytesused bytes. Returns its index or -1.
 */
int fake_v4l2_complete(int fd, uint32_t type, uint8_t fill, uint32_t bytesused);
/* A V4L2 event for the fd (if it subscribed to the type). */
void fake_v4l2_event(int fd, uint32_t type, uint32_t id);
/* What poll() would answer for the fd, given the events asked for. */
uint32_t fake_v4l2_ready(int fd, uint32_t interest);
/* The device goes away: every call and open fails with ENODEV. */
void fake_v4l2_gone(bool gone);
/* Only this open loses the device (ENODEV, POLLERR | POLLHUP). */
void fake_v4l2_fd_gone(int fd);
/* The next call of `request` fails with -err (n times). */
void fake_v4l2_fail(unsigned long request, int err, unsigned n);

/* Lies the next DQBUF tells (negative: leave that field alone). */
struct fake_v4l2_tamper {
	int index;
	int bytesused;
	int n_planes;
	int data_offset;
};
void fake_v4l2_tamper(const struct fake_v4l2_tamper *t);

/* ---- inspection ---- */
unsigned fake_v4l2_calls(unsigned long request);
unsigned fake_v4l2_calls_total(void);
unsigned fake_v4l2_open_fds(void);
unsigned fake_v4l2_live_maps(void);
/* Host memory of a buffer plane: the USERPTR it was given or its MMAP. */
uint8_t *fake_v4l2_plane_mem(int fd, uint32_t type, unsigned index,
			     unsigned plane);
unsigned long fake_v4l2_plane_userptr(int fd, uint32_t type, unsigned index,
				      unsigned plane);
uint32_t fake_v4l2_memory(int fd, uint32_t type);
/* The format the fd holds for single-planar capture. */
uint32_t fake_v4l2_width(int fd);

#endif
