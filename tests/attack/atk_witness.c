/* SPDX-License-Identifier: MIT */
/*
 * The witness: a well-behaved guest on its own connection, streaming from
 * an unpaced vcam for the whole suite. Unpaced, every queued buffer is
 * filled in turn, so the sequence has no gaps however slow the machine is:
 * a gap, an ERROR flag, a bad stamp or an EVT_ERROR means another guest's
 * attack reached it. The thread never touches TAP state; cases read its
 * counters through marks.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "atk.h"
#include "backends/vcam/tpg.h"
#include "tap.h"

#define WITNESS_RAM	 (24ull << 20)
#define WITNESS_W	 320u
#define WITNESS_H	 240u
#define WITNESS_BUFS	 4u
#define WITNESS_PAUSE_MS 3 /* between frames: keeps the CPU for others */
#define WITNESS_PROGRESS 3 /* frames a case must see go by */

struct witness {
	pthread_t thread;
	bool running;
	atomic_bool stop;
	_Atomic uint64_t frames, errors;
	pthread_mutex_t lock;
	char last_err[200];
	struct atk_guest g;
	struct vg_media m;
	struct vg_capture c;
	struct tpg_format fmt;
	uint32_t next_seq;
};

static struct witness w = { .lock = PTHREAD_MUTEX_INITIALIZER };

static void problem(const char *fmt, ...) VM_PRINTF(1, 2);

static void problem(const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&w.lock);
	va_start(ap, fmt);
	vsnprintf(w.last_err, sizeof(w.last_err), fmt, ap);
	va_end(ap);
	pthread_mutex_unlock(&w.lock);
	atomic_fetch_add(&w.errors, 1);
}

/* The frame's stamp says what the DQBUF event says. */
static void check_stamp(const struct vg_media_event *ev)
{
	const struct v4l2_buffer *b = &ev->u.dqbuf.b;
	void *planes[TPG_MAX_PLANES];
	size_t sizes[TPG_MAX_PLANES];
	uint64_t ts = 0, ev_us;
	uint32_t seq = ~0u;

	tpg_split_buffer(&w.fmt, w.c.frame[b->index], planes, sizes);
	if (tpg_read_stamp(&w.fmt, planes, &seq, &ts) != 0) {
		problem("frame %u: unreadable stamp (index %u)", b->sequence,
			b->index);
		return;
	}
	ev_us = (uint64_t)b->timestamp.tv_sec * 1000000u +
		(uint64_t)b->timestamp.tv_usec;
	if (seq != b->sequence || ts / 1000 != ev_us)
		problem("stamp says frame %u, event says %u", seq, b->sequence);
}

static void check_frame(const struct vg_media_event *ev)
{
	const struct v4l2_buffer *b = &ev->u.dqbuf.b;

	if (ev->u.hdr.event == VIRTIO_MEDIA_EVT_ERROR) {
		problem("EVT_ERROR %u on session %u", ev->u.error.errno_value,
			ev->u.hdr.session_id);
		return;
	}
	if (ev->u.hdr.event != VIRTIO_MEDIA_EVT_DQBUF)
		return;
	if (b->index >= w.c.nbufs) {
		problem("DQBUF of index %u of %u", b->index, w.c.nbufs);
		return;
	}
	if (b->sequence != w.next_seq)
		problem("sequence gap: got %u, expected %u", b->sequence,
			w.next_seq);
	if (b->flags & V4L2_BUF_FLAG_ERROR)
		problem("frame %u has the ERROR flag", b->sequence);
	if (b->bytesused != w.c.sizeimage)
		problem("bytesused %u, not %u", b->bytesused, w.c.sizeimage);
	check_stamp(ev);
	w.next_seq = b->sequence + 1;
	atomic_fetch_add(&w.frames, 1);
	atk_sleep_ms(WITNESS_PAUSE_MS);
	if (vg_capture_requeue(&w.c, b->index) != 0)
		problem("requeue of %u failed (frame %u)", b->index,
			b->sequence);
}

static void *witness_main(void *arg)
{
	(void)arg;
	while (!atomic_load(&w.stop)) {
		struct vg_media_event ev;
		int r = vg_media_next_event(&w.m, 200, &ev);

		if (r < 0) {
			problem("event queue failed: %d", r);
			atk_sleep_ms(100);
		} else if (r == 1) {
			check_frame(&ev);
		}
	}
	return NULL;
}

int atk_witness_start(struct atk_daemon *d, unsigned index, uint32_t memory)
{
	struct vg_capture_params p = { .fourcc = V4L2_PIX_FMT_YUYV,
				       .width = WITNESS_W,
				       .height = WITNESS_H,
				       .memory = memory,
				       .nbufs = WITNESS_BUFS };
	int r = atk_guest_connect(d, &w.g, WITNESS_RAM);

	if (r == 0)
		r = vg_media_init(&w.m, w.g.t, &w.g.ram, index);
	if (r == 0)
		r = vg_capture_start(&w.c, &w.m, &p);
	if (r == 0)
		r = tpg_format_init(&w.fmt, w.c.fourcc, w.c.width, w.c.height);
	if (r == 0)
		r = -pthread_create(&w.thread, NULL, witness_main, NULL);
	w.running = r == 0;
	return r;
}

void atk_witness_mark(struct atk_mark *m)
{
	m->frames = atomic_load(&w.frames);
	m->errors = atomic_load(&w.errors);
}

uint64_t atk_witness_frames(void)
{
	return atomic_load(&w.frames);
}

void atk_witness_check(const struct atk_mark *m, const char *after)
{
	int64_t deadline = atk_now_ms() + ATK_TIMEOUT_MS;
	uint64_t errors;

	if (!w.running) {
		TAP_CHECK(false, "no witness is streaming");
		return;
	}
	while (atomic_load(&w.frames) < m->frames + WITNESS_PROGRESS &&
	       atk_now_ms() < deadline)
		atk_sleep_ms(5);
	TAP_CHECK(atomic_load(&w.frames) >= m->frames + WITNESS_PROGRESS,
		  "witness stalled %s (%llu frames, %llu before)", after,
		  (unsigned long long)atomic_load(&w.frames),
		  (unsigned long long)m->frames);
	errors = atomic_load(&w.errors);
	pthread_mutex_lock(&w.lock);
	TAP_CHECK(errors == m->errors, "witness disturbed %s: %s", after,
		  w.last_err);
	pthread_mutex_unlock(&w.lock);
}

uint64_t atk_witness_stop(void)
{
	if (w.running) {
		atomic_store(&w.stop, true);
		pthread_join(w.thread, NULL);
		w.running = false;
		vg_capture_stop(&w.c);
		vg_media_fini(&w.m);
	}
	atk_guest_close(&w.g);
	return atomic_load(&w.errors);
}
