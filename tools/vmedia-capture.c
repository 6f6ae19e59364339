/* SPDX-License-Identifier: MIT */
/*
 * vmedia-capture: the demo. A test guest captures frames from a
 * virtio-media device served by vmediad, checks each frame's stamp
 * (sequence drawn into the picture by vcam), writes them as PNG files and
 * prints the frame rate.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "backends/vcam/tpg.h"
#include "png_write.h"
#include "vg_capture.h"
#include "vg_connect.h"

struct opts {
	struct vg_where where;
	const char *out;
	unsigned frames;
	unsigned device;
	struct vg_capture_params cap;
};

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: vmedia-capture (--socket PATH | --devmem ADDR) "
		"[OPTION]...\n"
		"Capture frames from a virtio-media device as a guest.\n\n"
		"  -s, --socket PATH    vmediad's test socket\n"
		"      --devmem ADDR    inside a Xen guest: the device's MMIO "
		"window\n"
		"                       (needs root; virtio_mmio not loaded)\n"
		"      --grants         with --devmem: grant memory to the "
		"backend\n"
		"  -d, --device N       device index (default 0)\n"
		"  -n, --frames N       frames to capture (default 30)\n"
		"  -o, --out DIR        write frame-NNN.png there (default: "
		"none)\n"
		"  -S, --size WxH       frame size (default 640x480)\n"
		"  -f, --format FOURCC  YUYV (default), NV12, YU12, RGB3, ...\n"
		"  -u, --userptr        USERPTR buffers in guest RAM (default "
		"MMAP)\n");
}

static bool parse_size(const char *s, uint32_t *w, uint32_t *h)
{
	return sscanf(s, "%ux%u", w, h) == 2 && *w && *h;
}

static int parse(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "devmem", required_argument, NULL, 'D' },
		{ "grants", no_argument, NULL, 'G' },
		{ "device", required_argument, NULL, 'd' },
		{ "frames", required_argument, NULL, 'n' },
		{ "out", required_argument, NULL, 'o' },
		{ "size", required_argument, NULL, 'S' },
		{ "format", required_argument, NULL, 'f' },
		{ "userptr", no_argument, NULL, 'u' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	*o = (struct opts){ .where = { .ram_size = 256ull << 20 },
			    .frames = 30,
			    .cap = { .fourcc = V4L2_PIX_FMT_YUYV,
				     .width = 640,
				     .height = 480,
				     .memory = V4L2_MEMORY_MMAP,
				     .nbufs = 4 } };
	while ((c = getopt_long(argc, argv, "s:d:n:o:S:f:uh", lo, NULL)) !=
	       -1) {
		switch (c) {
		case 's':
			o->where.socket = optarg;
			break;
		case 'D':
			o->where.devmem = optarg;
			break;
		case 'G':
			o->where.grants = true;
			break;
		case 'd':
			o->device = (unsigned)atoi(optarg);
			break;
		case 'n':
			o->frames = (unsigned)atoi(optarg);
			break;
		case 'o':
			o->out = optarg;
			break;
		case 'S':
			if (!parse_size(optarg, &o->cap.width,
					&o->cap.height)) {
				fprintf(stderr,
					"vmedia-capture: bad --size '%s' (want "
					"WxH)\n",
					optarg);
				return -1;
			}
			break;
		case 'f':
			if (strlen(optarg) != 4) {
				fprintf(stderr,
					"vmedia-capture: bad --format '%s' "
					"(want a fourcc like NV12)\n",
					optarg);
				return -1;
			}
			o->cap.fourcc = v4l2_fourcc(optarg[0], optarg[1],
						    optarg[2], optarg[3]);
			break;
		case 'u':
			o->cap.memory = V4L2_MEMORY_USERPTR;
			break;
		case 'h':
			usage(stdout);
			return 1;
		default:
			usage(stderr);
			return -1;
		}
	}
	if (!o->where.socket == !o->where.devmem) {
		fprintf(stderr, "vmedia-capture: give --socket PATH or "
				"--devmem ADDR\n");
		return -1;
	}
	return 0;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Check the stamp and, if asked, write the frame as a PNG. */
static int handle_frame(const struct opts *o, struct vg_capture *c,
			const struct tpg_format *f, uint8_t *rgb, unsigned n,
			unsigned index, uint32_t seq)
{
	void *planes[3];
	size_t sizes[3];
	uint32_t stamp_seq;
	uint64_t ts;
	char path[4096];

	tpg_split_buffer(f, c->frame[index], planes, sizes);
	if (tpg_read_stamp(f, planes, &stamp_seq, &ts) || stamp_seq != seq) {
		fprintf(stderr,
			"vmedia-capture: frame %u: picture stamp does not "
			"match sequence %u\n",
			n, seq);
		return -EBADMSG;
	}
	if (!o->out)
		return 0;
	snprintf(path, sizeof(path), "%s/frame-%03u.png", o->out, n);
	if (tpg_to_rgb24(f, planes, rgb, (size_t)f->width * f->height * 3) ||
	    png_write_rgb24(path, rgb, f->width, f->height)) {
		fprintf(stderr, "vmedia-capture: cannot write %s\n", path);
		return -EIO;
	}
	return 0;
}

static int capture(const struct opts *o, struct vg_capture *c)
{
	struct tpg_format f;
	uint8_t *rgb;
	double t0;
	int r = tpg_format_init(&f, c->fourcc, c->width, c->height);

	if (r) {
		fprintf(stderr,
			"vmedia-capture: format %.4s is not one this tool "
			"decodes\n",
			(const char *)&c->fourcc);
		return r;
	}
	rgb = malloc((size_t)f.width * f.height * 3);
	if (!rgb)
		return -ENOMEM;
	t0 = now_s();
	for (unsigned n = 0; n < o->frames && r == 0; n++) {
		unsigned index;
		uint32_t seq;
		uint64_t ts;

		r = vg_capture_next(c, 10000, &index, &seq, &ts);
		if (r == 0)
			r = handle_frame(o, c, &f, rgb, n, index, seq);
		if (r == 0)
			r = vg_capture_requeue(c, index);
	}
	if (r == 0)
		printf("captured %u frames of %ux%u %.4s (%s) in %.2f s: %.1f "
		       "fps%s%s\n",
		       o->frames, c->width, c->height, (const char *)&c->fourcc,
		       c->memory == V4L2_MEMORY_MMAP ? "MMAP" : "USERPTR",
		       now_s() - t0, o->frames / (now_s() - t0),
		       o->out ? ", PNGs in " : "", o->out ? o->out : "");
	free(rgb);
	return r;
}

int main(int argc, char **argv)
{
	struct opts o;
	struct vg_transport *t = NULL;
	struct vg_ram ram;
	struct vg_media m;
	struct vg_capture c;
	char msg[256];
	int r = parse(argc, argv, &o);

	if (r)
		return r > 0 ? 0 : 2;
	if (o.out && mkdir(o.out, 0755) < 0 && errno != EEXIST) {
		fprintf(stderr, "vmedia-capture: cannot create %s: %s\n", o.out,
			strerror(errno));
		return 1;
	}
	r = vg_connect(&o.where, &t, msg, sizeof(msg));
	if (r) {
		fprintf(stderr, "vmedia-capture: %s\n", msg);
		return 1;
	}
	r = vg_ram_init(&ram, t);
	if (r == 0)
		r = vg_media_init(&m, t, &ram, o.device);
	if (r == 0) {
		printf("device %u: \"%s\"\n", o.device,
		       (const char *)m.config.card);
		r = vg_capture_start(&c, &m, &o.cap);
		if (r)
			fprintf(stderr,
				"vmedia-capture: cannot start streaming: %s\n",
				strerror(-r));
		else
			r = capture(&o, &c);
		vg_capture_stop(&c);
		vg_media_fini(&m);
	} else {
		fprintf(stderr, "vmedia-capture: device %u: %s\n", o.device,
			strerror(-r));
	}
	vg_ram_fini(&ram);
	vg_transport_close(t);
	return r ? 1 : 0;
}
