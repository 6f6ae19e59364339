/* SPDX-License-Identifier: MIT */
/*
 * Every per-guest limit of [limits] (vmediad --config) against two guests
 * that run into it thousands of times: the limit holds with its errno, the
 * guest recovers once it lets go, and dom0's log gets one line per guest
 * per limit, however hard the guest insists.
 */
#include <errno.h>
#include <linux/virtio_config.h>
#include <stdio.h>
#include <string.h>

#include "atk.h"
#include "tap.h"
#include "vmedia/virtio_media_wire.h"

#define RAM_SIZE   (48ull << 20)
#define OTHER_RAM  (28ull << 20)
#define SP	   0u /* vcam:unpaced */
#define SESSIONS   4u
#define EVENTS	   16u
#define USERPTR	   (1u << 20)
#define SHM	   (4u << 20)
#define INSISTENCE 2000u /* refused attempts per guest */

static const char conf[] = "[limits]\n"
			   "max-sessions = 4\n"
			   "max-events = 16\n"
			   "max-userptr = 1M\n"
			   "shm-size = 4M\n";

static struct atk_guest g2;
static struct atk_guest *guests[2];
static struct vg_media dev[2];

static unsigned dom_lines(unsigned g, const char *what)
{
	char dom[32];

	snprintf(dom, sizeof(dom),
		 "dom%d:", atk_log_domid(&atk_d, guests[g]->ram_size));
	return atk_log_count(&atk_d, dom, what);
}

/* One line per guest for the limit named by `what`. */
static void check_logged_once(const char *what)
{
	for (unsigned g = 0; g < 2; g++) {
		unsigned n = dom_lines(g, what);

		TAP_CHECK(n == 1, "guest %u: %u log lines about \"%s\"", g, n,
			  what);
	}
}

static void test_session_limit(void)
{
	for (unsigned g = 0; g < 2; g++) {
		uint32_t s[SESSIONS];
		unsigned refused = 0;

		for (unsigned i = 0; i < SESSIONS; i++)
			s[i] = atk_open(&dev[g]);
		for (unsigned i = 0; i < INSISTENCE; i++) {
			uint32_t x;

			refused += vg_media_open(&dev[g], &x) == -EMFILE;
		}
		TAP_EQ(refused, INSISTENCE);
		TAP_EQ(vg_media_close(&dev[g], s[0]), 0);
		s[0] = atk_open(&dev[g]);
		for (unsigned i = 0; i < SESSIONS; i++)
			TAP_EQ(vg_media_close(&dev[g], s[i]), 0);
	}
	check_logged_once("session limit");
}

/* 20 buffers queued before STREAMON, no event buffers: 20 frames done. */
static void overflow_events(unsigned g)
{
	struct vg_media h;
	struct vg_media_event ev;
	unsigned errors = 0, dqbufs = 0;
	uint32_t s;

	vg_media_fini(&dev[g]);
	TAP_EQ(vg_media_init_events(&h, guests[g]->t, &guests[g]->ram, SP, 0),
	       0);
	s = atk_open(&h);
	atk_set_fmt(&h, s, 320, 240);
	TAP_EQ(atk_reqbufs(&h, s, V4L2_MEMORY_MMAP, 20), 20);
	for (unsigned i = 0; i < 20; i++)
		TAP_EQ(atk_qbuf_mmap(&h, s, i), 0);
	TAP_EQ(atk_stream(&h, s, true), 0);
	/* The 17th frame done fails the session: its ioctls get EIO. */
	for (int64_t end = atk_now_ms() + ATK_TIMEOUT_MS;
	     atk_g_fmt(&h, s, V4L2_BUF_TYPE_VIDEO_CAPTURE) != -EIO &&
	     atk_now_ms() < end;)
		atk_sleep_ms(5);
	TAP_EQ(vg_media_set_event_buffers(&h, VG_MEDIA_EVENT_BUFS), 0);
	while (vg_media_next_event(&h, 300, &ev) == 1) {
		errors += ev.u.hdr.event == VIRTIO_MEDIA_EVT_ERROR;
		dqbufs += ev.u.hdr.event == VIRTIO_MEDIA_EVT_DQBUF;
		if (ev.u.hdr.event == VIRTIO_MEDIA_EVT_ERROR)
			TAP_EQ(ev.u.error.errno_value, ENOSPC);
	}
	/* The cap held the first 16; the 17th failed the session. */
	TAP_EQ(errors, 1);
	TAP_EQ(dqbufs, 0);
	vg_media_fini(&h);
	TAP_EQ(vg_media_init(&dev[g], guests[g]->t, &guests[g]->ram, SP), 0);
}

static void test_event_limit(void)
{
	for (unsigned round = 0; round < 3; round++)
		for (unsigned g = 0; g < 2; g++)
			overflow_events(g);
	check_logged_once("events waiting");
}

static int qbuf_user(unsigned g, uint32_t s, uint32_t i, struct vg_mem *mem,
		     uint32_t len)
{
	struct vg_media_sg sg = { .mem = mem, .len = len, .seg = 4096 };

	return atk_qbuf_user(&dev[g], s, _IOC_NR(VIDIOC_QBUF), i, len, &sg);
}

static void test_userptr_limit(void)
{
	for (unsigned g = 0; g < 2; g++) {
		uint32_t s = atk_open(&dev[g]);
		uint32_t size = atk_set_fmt(&dev[g], s, 320, 240);
		unsigned fit = USERPTR / size, refused = 0;
		struct vg_mem mem;

		TAP_EQ(vg_ram_alloc(&guests[g]->ram, size, &mem), 0);
		TAP_EQ(atk_reqbufs(&dev[g], s, V4L2_MEMORY_USERPTR, 32), 32);
		for (uint32_t i = 0; i < fit; i++)
			TAP_EQ(qbuf_user(g, s, i, &mem, size), 0);
		for (unsigned i = 0; i < INSISTENCE; i++)
			refused += qbuf_user(g, s, fit + i % 8, &mem, size) ==
				   -ENOMEM;
		TAP_EQ(refused, INSISTENCE);
		/* Let go of them: room again. */
		TAP_EQ(atk_reqbufs(&dev[g], s, V4L2_MEMORY_USERPTR, 0), 0);
		TAP_EQ(atk_reqbufs(&dev[g], s, V4L2_MEMORY_USERPTR, 8), 8);
		TAP_EQ(qbuf_user(g, s, 0, &mem, size), 0);
		TAP_EQ(vg_media_close(&dev[g], s), 0);
		vg_ram_free(&guests[g]->ram, &mem);
	}
	check_logged_once("USERPTR");
}

static void test_shm_limit(void)
{
	for (unsigned g = 0; g < 2; g++) {
		uint32_t s = atk_open(&dev[g]), off;
		uint64_t addr[32], len;
		unsigned refused = 0;
		int n;

		atk_set_fmt(&dev[g], s, 320, 240);
		/* 4 MiB of 192 KiB blocks: 21 of 32 made, then no more. */
		n = atk_reqbufs(&dev[g], s, V4L2_MEMORY_MMAP, 32);
		TAP_EQ(n, SHM / (192u << 10));
		for (int i = 0; i < n && i < 32; i++) {
			TAP_EQ(atk_querybuf_off(&dev[g], s, (uint32_t)i, &off),
			       0);
			TAP_EQ(vg_media_mmap(&dev[g], s, 0, off, &addr[i],
					     &len),
			       0);
		}
		TAP_EQ(atk_reqbufs(&dev[g], s, V4L2_MEMORY_MMAP, 0), 0);
		for (unsigned i = 0; i < INSISTENCE; i++)
			refused += atk_reqbufs(&dev[g], s, V4L2_MEMORY_MMAP,
					       1) == -ENOMEM;
		TAP_EQ(refused, INSISTENCE);
		for (int i = 0; i < n && i < 32; i++)
			TAP_EQ(vg_media_munmap(&dev[g], addr[i]), 0);
		TAP_EQ(atk_reqbufs(&dev[g], s, V4L2_MEMORY_MMAP, 4), 4);
		TAP_EQ(vg_media_close(&dev[g], s), 0);
	}
	check_logged_once("memory");
}

int main(void)
{
	static const char *const args[] = { "--device", "vcam:unpaced", NULL };

	atk_suite_start_conf(conf, args, RAM_SIZE);
	guests[0] = &atk_g;
	guests[1] = &g2;
	if (atk_guest_connect(&atk_d, &g2, OTHER_RAM) ||
	    vg_media_init(&dev[0], atk_g.t, &atk_g.ram, SP) ||
	    vg_media_init(&dev[1], g2.t, &g2.ram, SP)) {
		printf("Bail out! guests did not come up\n");
		return 1;
	}
	atk_run("max-sessions=4: EMFILE 2000 times per guest, one log line "
		"per guest",
		test_session_limit);
	atk_run("max-events=16: the 17th event fails the session with "
		"ENOSPC, 3 times per guest, one log line per guest",
		test_event_limit);
	atk_run("max-userptr=1M: ENOMEM 2000 times per guest, room again "
		"after REQBUFS(0), one log line per guest",
		test_userptr_limit);
	atk_run("shm-size=4M: ENOMEM 2000 times per guest, room again after "
		"MUNMAP, one log line per guest",
		test_shm_limit);
	vg_media_fini(&dev[0]);
	vg_media_fini(&dev[1]);
	atk_guest_close(&g2);
	return atk_suite_end();
}
