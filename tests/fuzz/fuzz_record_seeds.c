/* SPDX-License-Identifier: MIT */
/*
 * fuzz-record: start the real vmediad (two vcam devices, single- and
 * multi-planar, a 16 MiB SHM window), run a few real V4L2 sessions through
 * the userspace guest library, and save what each sent as seeds:
 *
 *   fuzz-record FUZZDIR      (VMEDIAD names the daemon binary)
 *
 * writes FUZZDIR/corpus/<target>/<session>, or regressions/ instead of
 * corpus/ for a session marked so (one that crashes the device today:
 * libFuzzer stops at a crashing seed, and would fuzz nothing else).
 *
 * Sessions are small (320x240 frames, two buffers) so the seeds are a
 * few KiB; together they cover every command and every ioctl class:
 * OPEN/CLOSE, WR/R/W ioctls, buffers with planes, MMAP and USERPTR with
 * SG lists, extended controls with an SG-listed payload, events,
 * CMD_MMAP/MUNMAP, and the error answers.
 */
#include <errno.h>
#include <linux/videodev2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "daemon_proc.h"
#include "fuzz_record.h"
#include "vg_media.h"

#define RAM_SIZE  (2ull << 20) /* FG_RAM_SIZE */
#define WIDTH	  320u
#define HEIGHT	  240u
#define NBUFS	  2u
#define EVENT_MS  5000
#define MAX_PLANE 3u

struct sess {
	struct vg_media *m;
	struct vg_ram *ram;
	bool mplane;
	unsigned events; /* control events to expect */
	uint32_t id, type, memory;
	unsigned planes;
	uint32_t size[MAX_PLANE];
	uint32_t offset[NBUFS][MAX_PLANE];
	uint64_t shm[NBUFS][MAX_PLANE];
	struct vg_mem user[NBUFS][MAX_PLANE];
};

static int failures;

/* A step that went wrong: worth a line, not worth stopping the seed. */
static int check(const char *what, int r)
{
	if (r < 0) {
		printf("    %s: %s\n", what, strerror(-r));
		failures++;
	}
	return r;
}

static int ioctl_wr(struct sess *s, unsigned long req, void *arg, size_t len)
{
	return vg_media_ioctl(s->m, s->id, _IOC_NR(req), arg, len, len);
}

/* ---- formats and buffers ------------------------------------------------ */

static void set_format(struct sess *s, uint32_t fourcc)
{
	struct v4l2_format f = { .type = s->type };

	check("G_FMT", ioctl_wr(s, VIDIOC_G_FMT, &f, sizeof(f)));
	if (s->mplane) {
		f.fmt.pix_mp.width = WIDTH;
		f.fmt.pix_mp.height = HEIGHT;
		f.fmt.pix_mp.pixelformat = fourcc;
	} else {
		f.fmt.pix.width = WIDTH;
		f.fmt.pix.height = HEIGHT;
		f.fmt.pix.pixelformat = fourcc;
	}
	check("S_FMT", ioctl_wr(s, VIDIOC_S_FMT, &f, sizeof(f)));
	s->planes = s->mplane ? f.fmt.pix_mp.num_planes : 1;
	if (s->planes > MAX_PLANE)
		s->planes = MAX_PLANE;
	for (unsigned p = 0; p < s->planes; p++)
		s->size[p] = s->mplane ? f.fmt.pix_mp.plane_fmt[p].sizeimage
				       : f.fmt.pix.sizeimage;
}

static void reqbufs(struct sess *s, uint32_t count)
{
	struct v4l2_requestbuffers r = { .count = count,
					 .type = s->type,
					 .memory = s->memory };

	check("REQBUFS", ioctl_wr(s, VIDIOC_REQBUFS, &r, sizeof(r)));
}

static void init_buf(struct sess *s, unsigned i, struct v4l2_buffer *b,
		     struct v4l2_plane *p)
{
	memset(b, 0, sizeof(*b));
	memset(p, 0, sizeof(*p) * VIDEO_MAX_PLANES);
	b->index = i;
	b->type = s->type;
	b->memory = s->memory;
	if (!s->mplane) {
		b->length = s->size[0];
		b->m.userptr = (unsigned long)s->user[i][0].gpa;
		return;
	}
	b->length = s->planes;
	for (unsigned k = 0; k < s->planes; k++) {
		p[k].length = s->size[k];
		p[k].m.userptr = (unsigned long)s->user[i][k].gpa;
	}
}

static int buffer_ioctl(struct sess *s, unsigned long req, unsigned i,
			struct v4l2_buffer *b, struct v4l2_plane *p)
{
	/* Page-sized SG entries, as pinned user pages are. */
	struct vg_media_sg sg[MAX_PLANE];

	for (unsigned k = 0; k < MAX_PLANE; k++)
		sg[k] = (struct vg_media_sg){ .mem = &s->user[i][k],
					      .len = s->size[k],
					      .seg = 4096 };
	init_buf(s, i, b, p);
	return vg_media_ioctl_buffer(s->m, s->id, _IOC_NR(req), b, p, sg);
}

static void map_buffer(struct sess *s, unsigned i)
{
	struct v4l2_plane p[VIDEO_MAX_PLANES];
	struct v4l2_buffer b;
	uint64_t len;

	check("QUERYBUF", buffer_ioctl(s, VIDIOC_QUERYBUF, i, &b, p));
	for (unsigned k = 0; k < s->planes; k++) {
		s->offset[i][k] = s->mplane ? p[k].m.mem_offset : b.m.offset;
		check("MMAP",
		      vg_media_mmap(s->m, s->id, VIRTIO_MEDIA_MMAP_FLAG_RW,
				    s->offset[i][k], &s->shm[i][k], &len));
	}
}

static void alloc_user(struct sess *s, unsigned i)
{
	for (unsigned k = 0; k < s->planes; k++)
		check("RAM", vg_ram_alloc(s->ram, s->size[k], &s->user[i][k]));
}

static void qbuf(struct sess *s, unsigned long req, unsigned i)
{
	struct v4l2_plane p[VIDEO_MAX_PLANES];
	struct v4l2_buffer b;

	check(req == VIDIOC_QBUF ? "QBUF" : "PREPARE_BUF",
	      buffer_ioctl(s, req, i, &b, p));
}

static void stream(struct sess *s, unsigned long req)
{
	uint32_t type = s->type;

	check("STREAMON/OFF", vg_media_ioctl(s->m, s->id, _IOC_NR(req), &type,
					     sizeof(type), 0));
}

static void wait_events(struct sess *s, unsigned n)
{
	struct vg_media_event ev;

	for (unsigned i = 0; i < n; i++)
		if (check("event", vg_media_next_event(s->m, EVENT_MS, &ev)) !=
		    1)
			return;
}

/* ---- the sessions ------------------------------------------------------- */

static void capture(struct sess *s, uint32_t fourcc)
{
	check("OPEN", vg_media_open(s->m, &s->id));
	set_format(s, fourcc);
	reqbufs(s, NBUFS);
	for (unsigned i = 0; i < NBUFS; i++) {
		if (s->memory == V4L2_MEMORY_MMAP)
			map_buffer(s, i);
		else
			alloc_user(s, i);
	}
	qbuf(s, VIDIOC_PREPARE_BUF, 0);
	for (unsigned i = 0; i < NBUFS; i++)
		qbuf(s, VIDIOC_QBUF, i);
	stream(s, VIDIOC_STREAMON);
	wait_events(s, NBUFS);
	qbuf(s, VIDIOC_QBUF, 0);
	wait_events(s, 1);
	stream(s, VIDIOC_STREAMOFF);
	reqbufs(s, 0);
	for (unsigned i = 0; i < NBUFS; i++)
		for (unsigned k = 0; k < s->planes; k++)
			if (s->memory == V4L2_MEMORY_MMAP)
				check("MUNMAP",
				      vg_media_munmap(s->m, s->shm[i][k]));
	check("CLOSE", vg_media_close(s->m, s->id));
	for (unsigned i = 0; i < NBUFS; i++)
		for (unsigned k = 0; k < s->planes; k++)
			vg_ram_free(s->ram, &s->user[i][k]);
}

static void mmap_single(struct sess *s)
{
	s->memory = V4L2_MEMORY_MMAP;
	capture(s, V4L2_PIX_FMT_GREY);
}

static void userptr_single(struct sess *s)
{
	s->memory = V4L2_MEMORY_USERPTR;
	capture(s, V4L2_PIX_FMT_GREY);
}

static void mmap_mplane(struct sess *s)
{
	s->memory = V4L2_MEMORY_MMAP;
	capture(s, V4L2_PIX_FMT_NV12M);
}

static void userptr_mplane(struct sess *s)
{
	s->memory = V4L2_MEMORY_USERPTR;
	capture(s, V4L2_PIX_FMT_YUV420M);
}

/* Old and extended controls, events, a payload through an SG list. */
static void controls_body(struct sess *s)
{
	struct v4l2_queryctrl qc = { .id = V4L2_CID_BRIGHTNESS };
	struct v4l2_query_ext_ctrl qe = { .id = V4L2_CTRL_FLAG_NEXT_CTRL };
	struct v4l2_querymenu qm = { .id = V4L2_CID_TEST_PATTERN, .index = 1 };
	struct v4l2_control c = { .id = V4L2_CID_CONTRAST, .value = 100 };
	struct v4l2_event_subscription sub = {
		.type = V4L2_EVENT_CTRL,
		.id = V4L2_CID_BRIGHTNESS,
		.flags = s->events ? V4L2_EVENT_SUB_FL_SEND_INITIAL |
					     V4L2_EVENT_SUB_FL_ALLOW_FEEDBACK
				   : 0,
	};
	struct v4l2_ext_control x[2] = {
		{ .id = V4L2_CID_BRIGHTNESS, .value = 99 },
		{ .id = V4L2_CID_HUE, .size = 64 },
	};
	struct v4l2_ext_controls xs = { .which = V4L2_CTRL_WHICH_CUR_VAL,
					.count = 1 };
	const struct vg_mem *payload[2] = { NULL, NULL };
	struct vg_mem mem;

	check("OPEN", vg_media_open(s->m, &s->id));
	check("QUERYCTRL", ioctl_wr(s, VIDIOC_QUERYCTRL, &qc, sizeof(qc)));
	check("QUERY_EXT_CTRL",
	      ioctl_wr(s, VIDIOC_QUERY_EXT_CTRL, &qe, sizeof(qe)));
	check("QUERYMENU", ioctl_wr(s, VIDIOC_QUERYMENU, &qm, sizeof(qm)));
	check("S_CTRL", ioctl_wr(s, VIDIOC_S_CTRL, &c, sizeof(c)));
	check("G_CTRL", ioctl_wr(s, VIDIOC_G_CTRL, &c, sizeof(c)));
	check("SUBSCRIBE",
	      vg_media_ioctl(s->m, s->id, _IOC_NR(VIDIOC_SUBSCRIBE_EVENT), &sub,
			     sizeof(sub), 0));
	wait_events(s, s->events);
	check("S_EXT_CTRLS",
	      vg_media_ioctl_ext_ctrls(s->m, s->id, _IOC_NR(VIDIOC_S_EXT_CTRLS),
				       &xs, x, payload));
	wait_events(s, s->events);
	check("RAM", vg_ram_alloc(s->ram, 4096, &mem));
	payload[1] = &mem;
	xs.count = 2;
	/* A compound-style payload: vcam refuses it, after decoding it. */
	(void)vg_media_ioctl_ext_ctrls(
		s->m, s->id, _IOC_NR(VIDIOC_TRY_EXT_CTRLS), &xs, x, payload);
	xs.count = 1;
	check("G_EXT_CTRLS",
	      vg_media_ioctl_ext_ctrls(s->m, s->id, _IOC_NR(VIDIOC_G_EXT_CTRLS),
				       &xs, x, payload));
	check("UNSUBSCRIBE",
	      vg_media_ioctl(s->m, s->id, _IOC_NR(VIDIOC_UNSUBSCRIBE_EVENT),
			     &sub, sizeof(sub), 0));
	check("CLOSE", vg_media_close(s->m, s->id));
	vg_ram_free(s->ram, &mem);
}

static void controls(struct sess *s)
{
	controls_body(s);
}

/*
 * The same with control events raised inside the ioctl (the initial
 * event of SUBSCRIBE_EVENT, feedback of S_EXT_CTRLS): these once made
 * the device answer on the wrong chain (regressions/README.md).
 */
static void control_events(struct sess *s)
{
	s->events = 1;
	controls_body(s);
}

/*
 * A guest that posts no event buffer and subscribes to every control
 * with initial events: the events wait. Replayed with small limits, the
 * session fails with an ERROR event; then the guest posts buffers.
 */
static void starved_events(struct sess *s)
{
	static const uint32_t ids[] = { V4L2_CID_BRIGHTNESS, V4L2_CID_CONTRAST,
					V4L2_CID_SATURATION, V4L2_CID_HUE,
					V4L2_CID_TEST_PATTERN };
	struct v4l2_event_subscription sub = {
		.type = V4L2_EVENT_CTRL,
		.flags = V4L2_EVENT_SUB_FL_SEND_INITIAL,
	};
	struct v4l2_control c = { .id = V4L2_CID_HUE, .value = 5 };

	check("OPEN", vg_media_open(s->m, &s->id));
	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		sub.id = ids[i];
		check("SUBSCRIBE",
		      vg_media_ioctl(s->m, s->id,
				     _IOC_NR(VIDIOC_SUBSCRIBE_EVENT), &sub,
				     sizeof(sub), 0));
	}
	check("S_CTRL", ioctl_wr(s, VIDIOC_S_CTRL, &c, sizeof(c)));
	check("event buffers", vg_media_set_event_buffers(s->m, 16));
	wait_events(s, 5);
	check("CLOSE", vg_media_close(s->m, s->id));
}

/* Enumerations, parameters, inputs, CREATE_BUFS, ioctls vcam lacks. */
static void formats(struct sess *s)
{
	struct v4l2_fmtdesc fd = { .index = 1, .type = s->type };
	struct v4l2_frmsizeenum fs = { .pixel_format = V4L2_PIX_FMT_YUYV };
	struct v4l2_frmivalenum fi = { .pixel_format = V4L2_PIX_FMT_YUYV,
				       .width = 640,
				       .height = 480 };
	struct v4l2_streamparm parm = { .type = s->type };
	struct v4l2_input in = { .index = 0 };
	struct v4l2_create_buffers cb = { .count = 1,
					  .memory = V4L2_MEMORY_MMAP,
					  .format.type = s->type };
	struct v4l2_selection sel = { .type = s->type };
	uint32_t input = 0;
	v4l2_std_id std;

	check("OPEN", vg_media_open(s->m, &s->id));
	check("ENUM_FMT", ioctl_wr(s, VIDIOC_ENUM_FMT, &fd, sizeof(fd)));
	check("ENUM_FRAMESIZES",
	      ioctl_wr(s, VIDIOC_ENUM_FRAMESIZES, &fs, sizeof(fs)));
	check("ENUM_FRAMEINTERVALS",
	      ioctl_wr(s, VIDIOC_ENUM_FRAMEINTERVALS, &fi, sizeof(fi)));
	check("G_PARM", ioctl_wr(s, VIDIOC_G_PARM, &parm, sizeof(parm)));
	parm.parm.capture.timeperframe = (struct v4l2_fract){ 1, 15 };
	check("S_PARM", ioctl_wr(s, VIDIOC_S_PARM, &parm, sizeof(parm)));
	check("ENUMINPUT", ioctl_wr(s, VIDIOC_ENUMINPUT, &in, sizeof(in)));
	check("G_INPUT", ioctl_wr(s, VIDIOC_G_INPUT, &input, sizeof(input)));
	check("S_INPUT", ioctl_wr(s, VIDIOC_S_INPUT, &input, sizeof(input)));
	check("G_FMT",
	      ioctl_wr(s, VIDIOC_G_FMT, &cb.format, sizeof(cb.format)));
	check("TRY_FMT",
	      ioctl_wr(s, VIDIOC_TRY_FMT, &cb.format, sizeof(cb.format)));
	check("CREATE_BUFS", ioctl_wr(s, VIDIOC_CREATE_BUFS, &cb, sizeof(cb)));
	/* Not served: the answers are ENOTTY (WR and R classes). */
	(void)ioctl_wr(s, VIDIOC_G_SELECTION, &sel, sizeof(sel));
	(void)vg_media_ioctl(s->m, s->id, _IOC_NR(VIDIOC_G_STD), &std, 0,
			     sizeof(std));
	s->memory = V4L2_MEMORY_MMAP;
	reqbufs(s, 0);
	check("CLOSE", vg_media_close(s->m, s->id));
}

/* Several sessions, stale ids and malformed commands. */
static void sessions(struct sess *s)
{
	static const uint8_t unknown[8] = { 9 }, shortcmd[4] = { 3 };
	struct v4l2_format f = { .type = s->type };
	uint8_t resp[64];
	uint32_t id[3], written;
	uint64_t addr, len;

	for (unsigned i = 0; i < 3; i++)
		check("OPEN", vg_media_open(s->m, &id[i]));
	s->id = id[1];
	check("G_FMT", ioctl_wr(s, VIDIOC_G_FMT, &f, sizeof(f)));
	check("CLOSE", vg_media_close(s->m, id[1]));
	/* Answers EINVAL: the session is gone, the offset unknown. */
	(void)ioctl_wr(s, VIDIOC_G_FMT, &f, sizeof(f));
	(void)vg_media_mmap(s->m, id[0], 0, 0x10000, &addr, &len);
	(void)vg_media_munmap(s->m, 0x10000);
	(void)vg_media_raw(s->m, unknown, sizeof(unknown), resp, sizeof(resp),
			   &written);
	(void)vg_media_raw(s->m, shortcmd, sizeof(shortcmd), resp, sizeof(resp),
			   &written);
	check("CLOSE", vg_media_close(s->m, id[0]));
	check("CLOSE", vg_media_close(s->m, id[2]));
}

/* ---- recording ---------------------------------------------------------- */

struct scenario {
	const char *name;
	void (*run)(struct sess *s);
	unsigned flags;	     /* REC_* */
	unsigned event_bufs; /* posted at bring-up */
	const char *dir;     /* under FUZZDIR: the corpus, or regressions */
};

static const struct scenario scenarios[] = {
	{ "mmap_single", mmap_single, 0, 16, "corpus" },
	{ "userptr_single", userptr_single, 0, 16, "corpus" },
	{ "mmap_mplane", mmap_mplane, REC_MPLANE, 16, "corpus" },
	{ "userptr_mplane", userptr_mplane, REC_MPLANE, 16, "corpus" },
	{ "controls", controls, 0, 16, "corpus" },
	{ "control_events", control_events, 0, 16, "corpus" },
	{ "starved_events", starved_events, REC_TIGHT, 0, "corpus" },
	{ "formats", formats, REC_MPLANE, 16, "corpus" },
	{ "sessions", sessions, REC_TIGHT, 16, "corpus" },
};

static int connect_guest(struct daemon_proc *d, struct vg_transport **t)
{
	int64_t deadline = test_now_ms() + 20000;
	int r;

	for (;;) {
		r = vg_testbus_connect(d->sock, RAM_SIZE, t);
		if ((r != -ENOENT && r != -ECONNREFUSED) ||
		    test_now_ms() > deadline || !daemon_running(d))
			return r;
		nanosleep(&(struct timespec){ 0, 10000000 }, NULL);
	}
}

static int record(struct daemon_proc *d, const struct scenario *sc,
		  const char *fuzzdir)
{
	char corpus[512];
	static struct recorder rec;
	struct vg_transport *t;
	struct vg_ram ram;
	struct vg_media m;
	bool mplane = sc->flags & REC_MPLANE;
	struct sess s = { .m = &m, .ram = &ram, .mplane = mplane };
	unsigned dev = mplane ? 1 : 0;
	int r = connect_guest(d, &t);

	snprintf(corpus, sizeof(corpus), "%s/%s", fuzzdir, sc->dir);
	if (r)
		return r;
	r = rec_open(&rec, t, dev, sc->flags, sc->event_bufs);
	if (!r)
		r = vg_ram_init(&ram, &rec.t);
	if (!r && !(r = vg_media_init_events(&m, &rec.t, &ram, dev,
					     sc->event_bufs))) {
		s.type = mplane ? V4L2_BUF_TYPE_VIDEO_CAPTURE_MPLANE
				: V4L2_BUF_TYPE_VIDEO_CAPTURE;
		printf("%s:\n", sc->name);
		sc->run(&s);
		vg_media_fini(&m);
		r = rec_save(&rec, corpus, sc->name);
	}
	vg_ram_fini(&ram);
	rec_close(&rec);
	vg_transport_close(t);
	return r;
}

int main(int argc, char **argv)
{
	static const char *const args[] = { "--device",	  "vcam:unpaced",
					    "--device",	  "vcam:mplane,unpaced",
					    "--shm-size", "16M",
					    NULL };
	struct daemon_proc d;
	int r;

	if (argc != 2) {
		fprintf(stderr, "usage: VMEDIAD=path fuzz-record FUZZDIR\n");
		return 2;
	}
	r = daemon_start(&d, args);
	for (size_t i = 0;
	     r == 0 && i < sizeof(scenarios) / sizeof(scenarios[0]); i++)
		r = record(&d, &scenarios[i], argv[1]);
	daemon_stop(&d, 10000);
	daemon_cleanup(&d);
	if (r) {
		fprintf(stderr, "fuzz-record: %s\n", strerror(-r));
		return 1;
	}
	printf("%d steps failed\n", failures);
	return 0;
}
