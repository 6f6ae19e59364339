/* SPDX-License-Identifier: MIT */
/*
 * Attacks on sessions: 100 000 OPENs against the cap, the session ids of
 * another guest, a queue owner that leaves mid-stream.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "atk.h"
#include "tap.h"
#include "vmedia/media_device.h"
#include "vmedia/virtio_media_wire.h"

#define RAM_SIZE     (56ull << 20)
#define OTHER_RAM    (20ull << 20)
#define SP	     0u /* vcam:unpaced */
#define MAX_SESSIONS MEDIA_DEFAULT_MAX_SESSIONS
#define OPENS	     100000u

static struct vg_media sp;

static void test_hundred_thousand_opens(void)
{
	uint32_t open[MAX_SESSIONS + 1], last_id = 0;
	unsigned n = 0, head = 0, opened = 0, refused = 0, bad = 0;
	int64_t t0 = atk_now_ms();

	for (unsigned i = 0; i < OPENS; i++) {
		uint32_t id = 0;
		int r = vg_media_open(&sp, &id);

		if (r == 0) {
			opened++;
			/* Ids climb: a closed one is not handed out again. */
			bad += id <= last_id || n >= MAX_SESSIONS;
			last_id = id;
			open[(head + n++) % (MAX_SESSIONS + 1)] = id;
			continue;
		}
		bad += r != -EMFILE || n != MAX_SESSIONS;
		refused++;
		/* Close as we go: the oldest one leaves. */
		TAP_EQ(vg_media_close(&sp, open[head]), 0);
		head = (head + 1) % (MAX_SESSIONS + 1);
		n--;
	}
	tap_diag("%u OPENs: %u opened, %u refused with EMFILE, in %lld ms",
		 OPENS, opened, refused, (long long)(atk_now_ms() - t0));
	TAP_EQ(bad, 0);
	TAP_CHECK(refused > OPENS / 3, "only %u refused", refused);
	TAP_CHECK(atk_now_ms() - t0 < 8 * ATK_TIMEOUT_MS, "took %lld ms",
		  (long long)(atk_now_ms() - t0));
	while (n--) {
		TAP_EQ(vg_media_close(&sp, open[head]), 0);
		head = (head + 1) % (MAX_SESSIONS + 1);
	}
	atk_check_alive(&sp);
}

static void test_other_guests_session_ids(void)
{
	struct atk_guest g2;
	struct vg_media m2;
	struct virtio_media_cmd_mmap mm = { .hdr.cmd = VIRTIO_MEDIA_CMD_MMAP };
	uint32_t mine[5], theirs, off = 0;

	for (unsigned i = 0; i < 5; i++)
		mine[i] = atk_open(&sp);
	TAP_EQ(atk_reqbufs(&sp, mine[4], V4L2_MEMORY_MMAP, 1), 1);
	TAP_EQ(atk_querybuf_off(&sp, mine[4], 0, &off), 0);
	TAP_EQ(atk_guest_connect(&atk_d, &g2, OTHER_RAM), 0);
	TAP_EQ(vg_media_init(&m2, g2.t, &g2.ram, SP), 0);
	theirs = atk_open(&m2);
	/* The other guest uses every id we hold but it does not. */
	for (unsigned i = 0; i < 5; i++) {
		if (mine[i] == theirs)
			continue;
		TAP_EQ(atk_g_fmt(&m2, mine[i], V4L2_BUF_TYPE_VIDEO_CAPTURE),
		       -EINVAL);
		mm.session_id = mine[i];
		mm.offset = off;
		TAP_EQ(atk_raw_status(&m2, &mm, sizeof(mm), 24), -EINVAL);
		TAP_EQ(vg_media_close(&m2, mine[i]), 0);
	}
	/* Closing its own session of a shared id closes only its own. */
	TAP_EQ(vg_media_close(&m2, theirs), 0);
	for (unsigned i = 0; i < 5; i++)
		TAP_EQ(atk_g_fmt(&sp, mine[i], V4L2_BUF_TYPE_VIDEO_CAPTURE), 0);
	vg_media_fini(&m2);
	atk_guest_close(&g2);
	TAP_EQ(atk_reqbufs(&sp, mine[4], V4L2_MEMORY_MMAP, 0), 0);
	for (unsigned i = 0; i < 5; i++)
		TAP_EQ(vg_media_close(&sp, mine[i]), 0);
	/* Ids never handed out at all. */
	TAP_EQ(atk_g_fmt(&sp, 0, V4L2_BUF_TYPE_VIDEO_CAPTURE), -EINVAL);
	TAP_EQ(atk_g_fmt(&sp, 0xffffffffu, V4L2_BUF_TYPE_VIDEO_CAPTURE),
	       -EINVAL);
	TAP_EQ(vg_media_close(&sp, 0xffffffffu), 0);
}

static void test_queue_owner_leaves(void)
{
	uint32_t a = atk_open(&sp), b = atk_open(&sp);

	TAP_EQ(atk_reqbufs(&sp, a, V4L2_MEMORY_MMAP, 2), 2);
	TAP_EQ(atk_qbuf_mmap(&sp, a, 0), 0);
	TAP_EQ(atk_stream(&sp, a, true), 0);
	/* b may not touch a's queue... */
	TAP_EQ(atk_reqbufs(&sp, b, V4L2_MEMORY_MMAP, 2), -EBUSY);
	TAP_EQ(atk_qbuf_mmap(&sp, b, 1), -EBUSY);
	TAP_EQ(atk_stream(&sp, b, false), -EBUSY);
	/* ...until a leaves mid-stream. */
	TAP_EQ(vg_media_close(&sp, a), 0);
	TAP_EQ(atk_reqbufs(&sp, b, V4L2_MEMORY_MMAP, 2), 2);
	TAP_EQ(atk_reqbufs(&sp, b, V4L2_MEMORY_MMAP, 0), 0);
	TAP_EQ(vg_media_close(&sp, b), 0);
	vg_media_fini(&sp);
	TAP_EQ(atk_media_up(&sp, SP), 0);
}

int main(void)
{
	static const char *const args[] = { "--device", "vcam:unpaced", NULL };

	atk_suite_start(args, RAM_SIZE);
	if (atk_media_up(&sp, SP)) {
		printf("Bail out! attacker device did not come up\n");
		return 1;
	}
	atk_run("100 000 OPENs: EMFILE past the cap, closing as we go, ids "
		"never reused, bounded time",
		test_hundred_thousand_opens);
	atk_run("another guest's session ids: EINVAL for ioctl and MMAP, "
		"CLOSE ignored; 0 and 2^32-1",
		test_other_guests_session_ids);
	atk_run("queue owner closes mid-stream: the other session takes the "
		"queue",
		test_queue_owner_leaves);
	vg_media_fini(&sp);
	return atk_suite_end();
}
