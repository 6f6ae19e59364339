/* SPDX-License-Identifier: MIT */
/*
 * vmedia-bench: figures for the test transport, all measured in one run
 * next to a baseline of the same machine (memcpy of a frame).
 *
 *  - G_FMT round trip, and a command the device answers without work
 *    (an unknown command: ENOTTY) for the transport's share; the
 *    difference is the device-side cost of G_FMT;
 *  - unpaced streaming at 1080p and 4K NV12, MMAP and USERPTR.
 *
 * Run against vmediad serving an unpaced single-planar vcam
 * ("--device vcam:unpaced"); scripts/bench.sh does all of it.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vg_capture.h"

#define ROUND_TRIPS 3000u

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* memcpy bandwidth on one frame-sized buffer: frames copied per second. */
static double memcpy_fps(size_t frame, double *gbps)
{
	char *a = malloc(frame), *b = malloc(frame);
	unsigned n = 0;
	double t0, t;

	if (!a || !b) {
		free(a);
		free(b);
		return 0;
	}
	memset(a, 1, frame);
	memset(b, 2, frame);
	t0 = now_s();
	do {
		memcpy(n & 1 ? a : b, n & 1 ? b : a, frame);
		n++;
		t = now_s() - t0;
	} while (t < 0.5);
	/* Keep the copies observable so they are not optimised away. */
	if (a[frame / 2] == 42)
		printf(" ");
	free(a);
	free(b);
	*gbps = (double)frame * n / t / 1e9;
	return n / t;
}

static int round_trip_us(struct vg_media *m, uint32_t session, bool null_cmd,
			 double *us)
{
	struct virtio_media_cmd_header cmd = { .cmd = 99 };
	struct virtio_media_resp_header resp;
	struct v4l2_format f;
	uint32_t written;
	double t0 = now_s();

	for (unsigned i = 0; i < ROUND_TRIPS; i++) {
		int r;

		if (null_cmd) {
			r = vg_media_raw(m, &cmd, sizeof(cmd), &resp,
					 sizeof(resp), &written);
		} else {
			memset(&f, 0, sizeof(f));
			f.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
			r = vg_media_ioctl(m, session, _IOC_NR(VIDIOC_G_FMT),
					   &f, sizeof(f), sizeof(f));
		}
		if (r)
			return r;
	}
	*us = (now_s() - t0) * 1e6 / ROUND_TRIPS;
	return 0;
}

static int stream_fps(struct vg_media *m, uint32_t w, uint32_t h,
		      uint32_t memory, unsigned frames, double *fps)
{
	struct vg_capture_params p = { .fourcc = V4L2_PIX_FMT_NV12,
				       .width = w,
				       .height = h,
				       .memory = memory,
				       .nbufs = 4 };
	struct vg_capture c;
	double t0;
	int r = vg_capture_start(&c, m, &p);

	if (r)
		return r;
	t0 = now_s();
	for (unsigned n = 0; n < frames && r == 0; n++) {
		unsigned index;
		uint32_t seq;
		uint64_t ts;

		r = vg_capture_next(&c, 10000, &index, &seq, &ts);
		if (r == 0)
			r = vg_capture_requeue(&c, index);
	}
	*fps = frames / (now_s() - t0);
	vg_capture_stop(&c);
	return r;
}

static int bench_commands(struct vg_media *m)
{
	double gfmt, null;
	uint32_t s;
	int r = vg_media_open(m, &s);

	if (r == 0)
		r = round_trip_us(m, s, false, &gfmt);
	if (r == 0)
		r = round_trip_us(m, s, true, &null);
	vg_media_close(m, s);
	if (r)
		return r;
	printf("G_FMT round trip:              %8.1f us\n", gfmt);
	printf("null command round trip:       %8.1f us (transport)\n", null);
	printf("G_FMT device-side cost:        %8.1f us (difference)\n",
	       gfmt - null);
	return 0;
}

static int bench_streams(struct vg_media *m)
{
	static const struct {
		const char *name;
		uint32_t w, h;
		unsigned frames;
	} sizes[] = { { "1080p", 1920, 1080, 300 }, { "4K", 3840, 2160, 100 } };

	for (unsigned i = 0; i < 2; i++) {
		double base_gbps = 0,
		       base = memcpy_fps((size_t)sizes[i].w * sizes[i].h * 3 /
						 2,
					 &base_gbps);

		printf("%s NV12 memcpy baseline:     %8.1f frames/s (%.1f "
		       "GB/s)\n",
		       sizes[i].name, base, base_gbps);
		for (unsigned mem = 0; mem < 2; mem++) {
			uint32_t memory =
				mem ? V4L2_MEMORY_USERPTR : V4L2_MEMORY_MMAP;
			double fps;
			int r = stream_fps(m, sizes[i].w, sizes[i].h, memory,
					   sizes[i].frames, &fps);

			if (r)
				return r;
			printf("%s NV12 %-8s unpaced:    %8.1f fps (%.2f x "
			       "memcpy)\n",
			       sizes[i].name, mem ? "USERPTR" : "MMAP", fps,
			       fps / base);
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct vg_transport *t = NULL;
	struct vg_ram ram = { 0 };
	struct vg_media m;
	const char *sock =
		argc == 3 && !strcmp(argv[1], "--socket") ? argv[2] : NULL;
	int r;

	if (!sock) {
		fprintf(stderr, "Usage: vmedia-bench --socket PATH (vmediad "
				"serving --device vcam:unpaced)\n");
		return 2;
	}
	r = vg_testbus_connect(sock, 512ull << 20, &t);
	if (r == 0)
		r = vg_ram_init(&ram, t);
	if (r == 0)
		r = vg_media_init(&m, t, &ram, 0);
	if (r == 0) {
		r = bench_commands(&m);
		if (r == 0)
			r = bench_streams(&m);
		vg_media_fini(&m);
	}
	if (r)
		fprintf(stderr, "vmedia-bench: %s\n", strerror(-r));
	vg_ram_fini(&ram);
	vg_transport_close(t);
	return r ? 1 : 0;
}
