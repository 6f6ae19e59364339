/* SPDX-License-Identifier: MIT */
/*
 * A guest process for the soak and the valgrind check: it connects to a
 * running vmediad and streams.
 *
 *   attack-guest SOCKET once N     N frames in MMAP, then N in USERPTR, on
 *                                  every device; exit 0 when all arrived
 *                                  in sequence
 *   attack-guest SOCKET forever    stream on every device (MMAP on even
 *                                  ones, USERPTR on odd ones), write 'R'
 *                                  to stdout after the first frame of
 *                                  each, and go on until killed
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "atk.h"

#define GUEST_RAM (48ull << 20)
#define MAX_DEVS  4u

static struct atk_guest g;
static struct vg_media dev[MAX_DEVS];
static struct vg_capture cap[MAX_DEVS];
static unsigned ndev;

static int start(unsigned i, uint32_t memory)
{
	struct vg_capture_params p = { .fourcc = V4L2_PIX_FMT_YUYV,
				       .width = 320,
				       .height = 240,
				       .memory = memory,
				       .nbufs = 4 };

	if (dev[i].config.device_caps & V4L2_CAP_VIDEO_CAPTURE_MPLANE)
		p.fourcc = V4L2_PIX_FMT_NV12;
	return vg_capture_start(&cap[i], &dev[i], &p);
}

/*
 * The next frame of device i, requeued. Its sequence is *next or later:
 * a paced camera drops the frames that end while its thread is late.
 */
static int frame(unsigned i, uint32_t *next)
{
	unsigned index;
	uint32_t seq;
	uint64_t ts;
	int r = vg_capture_next(&cap[i], ATK_TIMEOUT_MS, &index, &seq, &ts);

	if (r == 0 && seq < *next) {
		fprintf(stderr, "attack-guest: device %u: frame %u after %u\n",
			i, seq, *next);
		r = -EILSEQ;
	}
	*next = seq + 1;
	return r ? r : vg_capture_requeue(&cap[i], index);
}

static int run_once(unsigned n)
{
	static const uint32_t mem[2] = { V4L2_MEMORY_MMAP,
					 V4L2_MEMORY_USERPTR };

	for (unsigned m = 0; m < 2; m++) {
		for (unsigned i = 0; i < ndev; i++) {
			uint32_t next = 0;
			int r = start(i, mem[m]);

			for (uint32_t f = 0; r == 0 && f < n; f++)
				r = frame(i, &next);
			vg_capture_stop(&cap[i]);
			if (r) {
				fprintf(stderr,
					"attack-guest: device %u, %s: %s\n", i,
					m ? "USERPTR" : "MMAP", strerror(-r));
				return 1;
			}
		}
	}
	return 0;
}

static int run_forever(void)
{
	uint32_t next[MAX_DEVS] = { 0 };

	for (unsigned i = 0; i < ndev; i++) {
		if (start(i, i % 2 ? V4L2_MEMORY_USERPTR : V4L2_MEMORY_MMAP) ||
		    frame(i, &next[i]))
			return 1;
	}
	if (write(STDOUT_FILENO, "R", 1) != 1)
		return 1;
	for (;;) {
		for (unsigned i = 0; i < ndev; i++)
			if (frame(i, &next[i]))
				return 1;
	}
}

int main(int argc, char **argv)
{
	int r;

	if (argc < 3 ||
	    (strcmp(argv[2], "once") && strcmp(argv[2], "forever"))) {
		fprintf(stderr,
			"usage: attack-guest SOCKET once N | forever\n");
		return 2;
	}
	r = vg_testbus_connect(argv[1], GUEST_RAM, &g.t);
	if (r == 0)
		r = vg_ram_init(&g.ram, g.t);
	for (unsigned i = 0; r == 0 && i < g.t->num_devices && i < MAX_DEVS;
	     i++, ndev++)
		r = vg_media_init(&dev[i], g.t, &g.ram, i);
	if (r) {
		fprintf(stderr, "attack-guest: cannot bring up: %s\n",
			strerror(-r));
		return 1;
	}
	if (argv[2][0] == 'o')
		r = run_once(argc > 3 ? (unsigned)atoi(argv[3]) : 10);
	else
		r = run_forever();
	for (unsigned i = 0; i < ndev; i++)
		vg_media_fini(&dev[i]);
	vg_ram_fini(&g.ram);
	vg_transport_close(g.t);
	return r;
}
