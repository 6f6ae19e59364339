/* SPDX-License-Identifier: MIT */
/*
 * vmedia-probe: be a guest for a moment. Connects to vmediad's test
 * socket, brings up every virtio-media device as a guest driver would and
 * prints what it found, then sends one OPEN on the command queue.
 *
 *   vmedia-probe --socket /run/vmedia/test.sock
 */
#include <errno.h>
#include <getopt.h>
#include <linux/videodev2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vg_connect.h"
#include "vg_ram.h"
#include "vg_transport.h"
#include "vg_virtio.h"
#include "vg_vring.h"
#include "vmedia/compiler.h"
#include "vmedia/virtio_media_wire.h"

#define PROBE_RAM	(16u << 20)
#define PROBE_QUEUE_MAX 64u
/* The Linux guest driver gives each command 5 s; be patient like it. */
#define PROBE_CMD_TIMEOUT_MS 10000

struct probe {
	struct vg_transport *t;
	struct vg_ram ram;
	struct vg_virtio dev;
	struct vg_vring vq[VIRTIO_MEDIA_NUM_QUEUES];
	unsigned nvq;
};

static const struct {
	uint32_t bit;
	const char *name;
} cap_names[] = {
#define CAP(x)                   \
	{                        \
		V4L2_CAP_##x, #x \
	}
	CAP(VIDEO_CAPTURE),
	CAP(VIDEO_OUTPUT),
	CAP(VIDEO_OVERLAY),
	CAP(VBI_CAPTURE),
	CAP(VBI_OUTPUT),
	CAP(SLICED_VBI_CAPTURE),
	CAP(SLICED_VBI_OUTPUT),
	CAP(RDS_CAPTURE),
	CAP(VIDEO_OUTPUT_OVERLAY),
	CAP(HW_FREQ_SEEK),
	CAP(RDS_OUTPUT),
	CAP(VIDEO_CAPTURE_MPLANE),
	CAP(VIDEO_OUTPUT_MPLANE),
	CAP(VIDEO_M2M_MPLANE),
	CAP(VIDEO_M2M),
	CAP(TUNER),
	CAP(AUDIO),
	CAP(RADIO),
	CAP(MODULATOR),
	CAP(SDR_CAPTURE),
	CAP(EXT_PIX_FORMAT),
	CAP(SDR_OUTPUT),
	CAP(META_CAPTURE),
	CAP(READWRITE),
	CAP(STREAMING),
	CAP(META_OUTPUT),
	CAP(TOUCH),
	CAP(IO_MC),
	CAP(DEVICE_CAPS),
#undef CAP
};

static const char *const devnode_types[] = { "video",  "vbi", "radio",
					     "subdev", "sdr", "touch" };

static void usage(FILE *f)
{
	fprintf(f,
		"usage: vmedia-probe --socket PATH | --devmem ADDR[,ADDR...] "
		"[--grants]\n"
		"Brings up vmediad's virtio-media devices as a guest "
		"driver would and prints them:\n"
		"over the test socket, or inside a Xen guest through the "
		"devices' MMIO windows\n"
		"(root; virtio_mmio not loaded; --grants for "
		"grant_usage=1 devices).\n");
}

static void print_features(uint64_t f)
{
	printf("  features:");
	for (unsigned bit = 0; bit < 64; bit++) {
		const char *name = vg_virtio_feature_name(bit);

		if (!(f & (1ull << bit)))
			continue;
		if (name)
			printf(" %s", name);
		else
			printf(" bit%u", bit);
	}
	printf("\n");
}

static void print_caps(uint32_t caps)
{
	printf("  device_caps: %#010x", caps);
	for (size_t i = 0; i < ARRAY_SIZE(cap_names); i++) {
		if (caps & cap_names[i].bit) {
			printf(" %s", cap_names[i].name);
			caps &= ~cap_names[i].bit;
		}
	}
	if (caps)
		printf(" unknown:%#x", caps);
	printf("\n");
}

static int print_config(struct probe *p)
{
	struct virtio_media_config cfg;
	char card[sizeof(cfg.card) + 1];
	int r = vg_virtio_read_config(&p->dev, 0, &cfg, sizeof(cfg));

	if (r < 0)
		return r;
	print_caps(cfg.device_caps);
	printf("  device_type: %u (%s)\n", cfg.device_type,
	       cfg.device_type < ARRAY_SIZE(devnode_types)
		       ? devnode_types[cfg.device_type]
		       : "unknown");
	/* The card need not be terminated on the wire. */
	memcpy(card, cfg.card, sizeof(cfg.card));
	card[sizeof(cfg.card)] = '\0';
	printf("  card: \"%s\"\n", card);
	return 0;
}

static int print_shm(struct probe *p)
{
	uint64_t base, len;
	int r = vg_virtio_shm(&p->dev, VIRTIO_MEDIA_SHM_MMAP, &base, &len);

	if (r < 0)
		return r;
	if (r == 0)
		printf("  shm region 0: none\n");
	else
		printf("  shm region 0: base %#llx len %#llx\n",
		       (unsigned long long)base, (unsigned long long)len);
	return 0;
}

/* Largest power of two <= min(max, PROBE_QUEUE_MAX). */
static uint16_t queue_size(uint16_t max)
{
	uint16_t n = 1;

	while (n * 2u <= max && n * 2u <= PROBE_QUEUE_MAX)
		n = (uint16_t)(n * 2u);
	return n;
}

static int setup_queues(struct probe *p)
{
	printf("  queues:");
	for (unsigned q = 0; q < VIRTIO_MEDIA_NUM_QUEUES; q++) {
		uint16_t max;
		int r = vg_virtio_queue_max(&p->dev, q, &max);

		if (r == 0 && max == 0)
			r = -ENOENT;
		if (r == 0)
			r = vg_vring_init(&p->vq[q], &p->dev, &p->ram, q,
					  queue_size(max));
		if (r < 0) {
			printf("\n");
			return r;
		}
		p->nvq++;
		printf("%s %s max %u (using %u)", q ? "," : "",
		       q ? "eventq" : "commandq", max, p->vq[q].num);
	}
	printf("\n");
	return 0;
}

/* A command and its response share one page of guest RAM. */
static int send_command(struct probe *p, const void *cmd, uint32_t cmd_len,
			void *resp, uint32_t resp_len, uint32_t *written)
{
	struct vg_mem buf;
	struct vg_seg segs[2];
	struct vg_used used;
	int r = vg_ram_alloc(&p->ram, VG_PAGE_SIZE, &buf);

	if (r < 0)
		return r;
	memcpy(buf.host, cmd, cmd_len);
	segs[0] = (struct vg_seg){ .gpa = buf.gpa, .len = cmd_len };
	segs[1] = (struct vg_seg){ .gpa = buf.gpa + VG_PAGE_SIZE / 2,
				   .len = resp_len,
				   .writable = true };
	r = vg_vring_call(&p->vq[VIRTIO_MEDIA_QUEUE_COMMAND], segs,
			  resp_len ? 2 : 1, 0, PROBE_CMD_TIMEOUT_MS, &used);
	if (r == 0) {
		*written = used.len;
		if (resp_len)
			memcpy(resp, (char *)buf.host + VG_PAGE_SIZE / 2,
			       resp_len);
	}
	vg_ram_free(&p->ram, &buf);
	return r;
}

static int probe_open_close(struct probe *p)
{
	struct virtio_media_cmd_header open = { .cmd = VIRTIO_MEDIA_CMD_OPEN };
	struct virtio_media_resp_open resp = { { 0 } };
	struct virtio_media_cmd_close close = {
		{ .cmd = VIRTIO_MEDIA_CMD_CLOSE }
	};
	uint32_t written = 0;
	int r = send_command(p, &open, sizeof(open), &resp, sizeof(resp),
			     &written);

	if (r < 0)
		return r;
	if (written < sizeof(resp.hdr)) {
		printf("  command OPEN: short response (%u bytes)\n", written);
		return 0;
	}
	printf("  command OPEN: status %u (%s)", resp.hdr.status,
	       resp.hdr.status ? strerror((int)resp.hdr.status) : "success");
	if (resp.hdr.status || written < sizeof(resp)) {
		printf("\n");
		return 0;
	}
	printf(", session %u\n", resp.session_id);
	close.session_id = resp.session_id;
	return send_command(p, &close, sizeof(close), NULL, 0, &written);
}

static int probe_steps(struct probe *p)
{
	int r = vg_virtio_negotiate(&p->dev, VG_F_KNOWN);

	if (r < 0)
		return r;
	print_features(p->dev.features);
	r = setup_queues(p);
	if (r == 0)
		r = vg_virtio_driver_ok(&p->dev);
	if (r == 0)
		r = print_config(p);
	if (r == 0)
		r = print_shm(p);
	if (r == 0)
		r = probe_open_close(p);
	return r;
}

static int probe_device(struct probe *p, unsigned i)
{
	const struct vg_device *d = &p->t->dev[i];
	int r = vg_virtio_open(&p->dev, p->t, i);

	printf("device %u: mmio %#llx size %#llx\n", i,
	       (unsigned long long)d->mmio_base,
	       (unsigned long long)d->mmio_size);
	if (r < 0)
		return r;
	printf("  device id: %u%s, vendor %#x, version %u\n", p->dev.device_id,
	       p->dev.device_id == VIRTIO_ID_MEDIA ? " (virtio-media)" : "",
	       p->dev.vendor_id, p->dev.version);
	p->nvq = 0;
	r = probe_steps(p);
	/* Stop the device before its rings go back to the allocator. */
	if (vg_virtio_reset(&p->dev) < 0 && r == 0)
		r = p->dev.err;
	for (unsigned q = 0; q < p->nvq; q++)
		vg_vring_destroy(&p->vq[q]);
	return r;
}

static void parse_args(int argc, char **argv, struct vg_where *w)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "devmem", required_argument, NULL, 'D' },
		{ "grants", no_argument, NULL, 'G' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "s:h", opts, NULL)) != -1) {
		if (c == 's') {
			w->socket = optarg;
		} else if (c == 'D') {
			w->devmem = optarg;
		} else if (c == 'G') {
			w->grants = true;
		} else if (c == 'h') {
			usage(stdout);
			exit(0);
		} else {
			usage(stderr);
			exit(2);
		}
	}
	if (!w->socket == !w->devmem || optind != argc) {
		usage(stderr);
		exit(2);
	}
}

int main(int argc, char **argv)
{
	struct vg_where w = { .ram_size = PROBE_RAM };
	struct probe p = { 0 };
	char msg[256];
	int r;

	parse_args(argc, argv, &w);
	r = vg_connect(&w, &p.t, msg, sizeof(msg));
	if (r < 0) {
		fprintf(stderr, "vmedia-probe: %s\n", msg);
		return 1;
	}
	r = vg_ram_init(&p.ram, p.t);
	if (r < 0)
		fprintf(stderr, "vmedia-probe: %s\n", strerror(-r));
	for (unsigned i = 0; r == 0 && i < p.t->num_devices; i++) {
		r = probe_device(&p, i);
		if (r < 0)
			fprintf(stderr, "vmedia-probe: device %u: %s\n", i,
				strerror(-r));
	}
	vg_ram_fini(&p.ram);
	vg_transport_close(p.t);
	return r < 0 ? 1 : 0;
}
