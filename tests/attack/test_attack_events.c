/* SPDX-License-Identifier: MIT */
/*
 * Attacks on the event path: a guest that never posts event buffers while
 * it keeps frames coming, buffers too small, read-only, cut in pieces,
 * outside RAM or over the guest's own rings, and control-event storms.
 * Events are never silently lost: they wait up to the cap, then the
 * session gets one EVT_ERROR, and the daemon's memory stays bounded.
 */
#include <errno.h>
#include <linux/virtio_config.h>
#include <stdio.h>
#include <string.h>

#include "atk.h"
#include "tap.h"
#include "vmedia/virtio_media_wire.h"

#define RAM_SIZE    (64ull << 20)
#define SP	    0u		/* vcam:unpaced */
#define MAX_EVENTS  1024u	/* the default cap */
#define RSS_SLACK   (16u << 10) /* kB the event FIFO may take, and noise */
#define EVENT_BYTES VIRTIO_MEDIA_EVENT_MAX_SIZE

static struct vg_media m;

/* m with no event buffers posted: events pile up in the daemon. */
static void hungry_up(void)
{
	TAP_EQ(vg_media_init_events(&m, atk_g.t, &atk_g.ram, SP, 0), 0);
}

static void down(void)
{
	vg_media_fini(&m);
}

/* A streaming session: MMAP buffers queued, unpaced frames coming. */
static uint32_t streaming_session(unsigned nbufs)
{
	uint32_t s = atk_open(&m);

	atk_set_fmt(&m, s, 320, 240);
	TAP_EQ(atk_reqbufs(&m, s, V4L2_MEMORY_MMAP, nbufs), (int)nbufs);
	for (unsigned i = 0; i < nbufs; i++)
		TAP_EQ(atk_qbuf_mmap(&m, s, i), 0);
	TAP_EQ(atk_stream(&m, s, true), 0);
	return s;
}

static long daemon_rss_kb(void)
{
	struct atk_stats st;

	return atk_stats(atk_d.pid, &st) == 0 ? st.rss_kb : -1;
}

/* Requeue every buffer done since, until the session is refused. */
static unsigned flood_until_refused(uint32_t s, unsigned nbufs, int *last)
{
	unsigned queued = 0;
	int64_t deadline = atk_now_ms() + 4 * ATK_TIMEOUT_MS;

	*last = 0;
	while (atk_now_ms() < deadline && queued < 50 * MAX_EVENTS) {
		for (unsigned i = 0; i < nbufs; i++) {
			int r = atk_qbuf_mmap(&m, s, i);

			if (r == 0)
				queued++;
			else if (r != -EINVAL) /* EINVAL: still queued */
				*last = r;
		}
		if (*last)
			break;
	}
	return queued;
}

static void test_starved_eventq_cap(void)
{
	struct vg_media_event ev;
	long rss0, rss1;
	unsigned queued, errors = 0, dqbufs = 0;
	uint32_t s;
	int last;

	hungry_up();
	s = streaming_session(4);
	rss0 = daemon_rss_kb();
	queued = flood_until_refused(s, 4, &last);
	rss1 = daemon_rss_kb();
	/* Refused once the cap was reached: the session is dead, EIO. */
	TAP_EQ(last, -EIO);
	/* The 1025th frame done broke the cap; up to 4 were still queued. */
	queued += 4;
	TAP_CHECK(queued > MAX_EVENTS && queued <= MAX_EVENTS + 1 + 4,
		  "%u buffers queued for a cap of %u", queued, MAX_EVENTS);
	TAP_CHECK(rss1 - rss0 < RSS_SLACK, "daemon RSS grew %ld kB",
		  rss1 - rss0);
	tap_diag("%u frames piled up; daemon RSS %ld -> %ld kB", queued, rss0,
		 rss1);
	/* Buffers at last: the session's ERROR, and nothing else of it. */
	TAP_EQ(vg_media_set_event_buffers(&m, VG_MEDIA_EVENT_BUFS), 0);
	while (vg_media_next_event(&m, 300, &ev) == 1) {
		if (ev.u.hdr.session_id != s)
			continue;
		errors += ev.u.hdr.event == VIRTIO_MEDIA_EVT_ERROR;
		dqbufs += ev.u.hdr.event == VIRTIO_MEDIA_EVT_DQBUF;
		if (ev.u.hdr.event == VIRTIO_MEDIA_EVT_ERROR)
			TAP_EQ(ev.u.error.errno_value, ENOSPC);
	}
	TAP_EQ(errors, 1);
	TAP_EQ(dqbufs, 0);
	TAP_EQ(atk_g_fmt(&m, s, V4L2_BUF_TYPE_VIDEO_CAPTURE), -EIO);
	TAP_EQ(vg_media_close(&m, s), 0);
	/* The device is whole: another session streams. */
	TAP_EQ(atk_capture_frames(&m, V4L2_MEMORY_MMAP, 5), 0);
	down();
}

/* Post one event buffer of our own; the head. */
static int post(uint64_t gpa, uint32_t len, bool writable)
{
	struct vg_seg seg = { gpa, len, writable };
	int head = vg_vring_add(&m.evq, &seg, 1, 0, NULL);

	if (head >= 0)
		vg_vring_kick(&m.evq);
	return head;
}

static int take(struct vg_used *u)
{
	return vg_vring_wait(&m.evq, ATK_TIMEOUT_MS, u);
}

static void test_small_and_readonly_buffers(void)
{
	struct vg_mem buf;
	struct vg_used u;
	struct virtio_media_event_header h;
	uint32_t s;

	hungry_up();
	TAP_EQ(vg_ram_alloc(&atk_g.ram, 4096, &buf), 0);
	s = streaming_session(1);
	/* Too small for any event, then not writable: handed back empty. */
	TAP_EQ(post(buf.gpa, 8, true) >= 0, 1);
	TAP_EQ(take(&u), 1);
	TAP_EQ(u.len, 0);
	TAP_EQ(post(buf.gpa, EVENT_BYTES, false) >= 0, 1);
	TAP_EQ(take(&u), 1);
	TAP_EQ(u.len, 0);
	/* The event was kept for a real buffer. */
	TAP_EQ(post(buf.gpa, EVENT_BYTES, true) >= 0, 1);
	TAP_EQ(take(&u), 1);
	TAP_EQ(u.len, EVENT_BYTES);
	memcpy(&h, buf.host, sizeof(h));
	TAP_EQ(h.event, VIRTIO_MEDIA_EVT_DQBUF);
	TAP_EQ(h.session_id, s);
	TAP_EQ(atk_status(&m) & VIRTIO_CONFIG_S_NEEDS_RESET, 0);
	down();
	vg_ram_free(&atk_g.ram, &buf);
}

static void test_buffer_in_pieces(void)
{
	struct vg_mem buf;
	struct vg_seg segs[16];
	struct vg_used u;
	struct v4l2_buffer b;
	uint32_t s;
	int head;

	hungry_up();
	TAP_EQ(vg_ram_alloc(&atk_g.ram, 65536, &buf), 0);
	memset(buf.host, 0xee, 65536);
	s = streaming_session(1);
	/* 16 pieces of 38 bytes, each on its own page, indirect. */
	for (unsigned i = 0; i < 16; i++)
		segs[i] = (struct vg_seg){ buf.gpa + i * 4096 + 4096 - 38, 38,
					   true };
	head = vg_vring_add(&m.evq, segs, 16, VG_ADD_INDIRECT, NULL);
	TAP_CHECK(head >= 0, "add: %d", head);
	vg_vring_kick(&m.evq);
	TAP_EQ(take(&u), 1);
	TAP_EQ(u.len, EVENT_BYTES);
	/* The v4l2_buffer straddles pieces: gather it back. */
	{
		uint8_t ev[EVENT_BYTES];

		for (unsigned i = 0; i < 16; i++)
			memcpy(ev + i * 38,
			       (uint8_t *)buf.host + i * 4096 + 4096 - 38, 38);
		memcpy(&b, ev + 8, sizeof(b));
		TAP_EQ(((struct virtio_media_event_header *)ev)->session_id, s);
	}
	TAP_EQ(b.index, 0);
	TAP_EQ(b.sequence, 0);
	TAP_EQ(b.type, V4L2_BUF_TYPE_VIDEO_CAPTURE);
	down();
	vg_ram_free(&atk_g.ram, &buf);
}

static void test_buffer_outside_ram(void)
{
	uint32_t st;

	hungry_up();
	(void)streaming_session(1);
	/* The event is waiting; the buffer it gets is not the guest's. */
	TAP_EQ(post(0x1000, EVENT_BYTES, true) >= 0, 1);
	st = atk_wait_status(&m, VIRTIO_CONFIG_S_NEEDS_RESET, ATK_TIMEOUT_MS);
	TAP_CHECK(st & VIRTIO_CONFIG_S_NEEDS_RESET, "status %#x", st);
	down();
	TAP_EQ(atk_media_up(&m, SP), 0);
	TAP_EQ(atk_capture_frames(&m, V4L2_MEMORY_MMAP, 3), 0);
	down();
}

static void test_buffer_over_own_rings(void)
{
	struct vg_used u;

	hungry_up();
	(void)streaming_session(1);
	/* Events written over the guest's own commandq ring. */
	TAP_EQ(post(m.cmdq.mem.gpa, EVENT_BYTES, true) >= 0, 1);
	(void)vg_vring_wait(&m.evq, 300, &u);
	down();
	TAP_EQ(atk_media_up(&m, SP), 0);
	TAP_EQ(atk_capture_frames(&m, V4L2_MEMORY_MMAP, 3), 0);
	down();
}

static void test_ctrl_event_storm(void)
{
	struct v4l2_event_subscription sub = { .type = V4L2_EVENT_CTRL,
					       .id = V4L2_CID_HUE };
	struct vg_media_event ev;
	uint32_t a, b;
	unsigned answered = 0, errors = 0;

	hungry_up();
	a = atk_open(&m);
	b = atk_open(&m);
	TAP_EQ(vg_media_ioctl(&m, a, _IOC_NR(VIDIOC_SUBSCRIBE_EVENT), &sub,
			      sizeof(sub), 0),
	       0);
	/* b changes the hue; each change queues an event for a. */
	for (int i = 0; i < (int)MAX_EVENTS + 50; i++) {
		struct v4l2_control c = { .id = V4L2_CID_HUE,
					  .value = i % 2 ? 10 : -10 };

		answered += vg_media_ioctl(&m, b, _IOC_NR(VIDIOC_S_CTRL), &c,
					   sizeof(c), sizeof(c)) == 0;
		if (answered != (unsigned)i + 1)
			break;
	}
	TAP_EQ(answered, MAX_EVENTS + 50);
	TAP_EQ(vg_media_set_event_buffers(&m, VG_MEDIA_EVENT_BUFS), 0);
	while (vg_media_next_event(&m, 300, &ev) == 1) {
		if (ev.u.hdr.session_id == a &&
		    ev.u.hdr.event == VIRTIO_MEDIA_EVT_ERROR)
			errors++;
	}
	TAP_EQ(errors, 1);
	/* b was never the one not reading: it is fine. */
	TAP_EQ(atk_g_fmt(&m, b, V4L2_BUF_TYPE_VIDEO_CAPTURE), 0);
	down();
}

int main(void)
{
	static const char *const args[] = { "--device", "vcam:unpaced", NULL };

	atk_suite_start(args, RAM_SIZE);
	atk_run("eventq never posted while streaming: frames up to the cap, "
		"then one EVT_ERROR(ENOSPC), RSS bounded",
		test_starved_eventq_cap);
	atk_run("event buffers of 8 bytes and read-only: handed back empty, "
		"the event waits",
		test_small_and_readonly_buffers);
	atk_run("event buffer in 16 pieces of 38 bytes: event gathered whole",
		test_buffer_in_pieces);
	atk_run("event buffer outside RAM: NEEDS_RESET at delivery; reuse",
		test_buffer_outside_ram);
	atk_run("event buffer over the guest's own commandq ring: only it is "
		"hurt",
		test_buffer_over_own_rings);
	atk_run("control-event storm past the cap, eventq starved: every "
		"S_CTRL answered, one EVT_ERROR",
		test_ctrl_event_storm);
	return atk_suite_end();
}
