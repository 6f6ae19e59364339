/* SPDX-License-Identifier: MIT */
/*
 * A test double for the protocol services a backend calls (the bottom of
 * vmedia/backend.h), so a backend can be tested alone through its ops
 * table:
 *
 *  - sessions: fake_session_new() makes a struct vmedia_session to pass to
 *    the backend's open();
 *  - events: every vmedia_session_dqbuf/event/error call is recorded in
 *    order, with its session, for the test to inspect; an optional hook
 *    runs on each (e.g. to stop an event loop after N frames);
 *  - shared memory: vmedia_shm_alloc() hands out page-aligned, zeroed
 *    ranges of one malloc'd region and tracks every allocation, so a test
 *    can check nothing leaked (fake_shm_live()) and that nothing was put
 *    twice, put by the wrong session or never allocated
 *    (fake_shm_bad_puts()). Allocation can be made to fail.
 *
 * State is process-wide (a backend test runs one scenario at a time);
 * fake_session_reset() starts a new scenario.
 */
#ifndef VMEDIA_TESTS_FAKE_SESSION_H
#define VMEDIA_TESTS_FAKE_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmedia/backend.h"

#define FAKE_SHM_PAGE 4096u

enum fake_ev_kind { FAKE_EV_DQBUF, FAKE_EV_EVENT, FAKE_EV_ERROR };

struct fake_event {
	enum fake_ev_kind kind;
	const struct vmedia_session *s;
	/* FAKE_EV_DQBUF */
	struct v4l2_buffer b;
	struct v4l2_plane planes[VIDEO_MAX_PLANES];
	unsigned n_planes;
	/* FAKE_EV_EVENT */
	struct v4l2_event ev;
	/* FAKE_EV_ERROR */
	int err;
};

/* Forget all events and allocations; a fresh region of shm_size bytes. */
int fake_session_reset(size_t shm_size);

struct vmedia_session *fake_session_new(uint32_t id, int domid);
void fake_session_free(struct vmedia_session *s);

/* ---- events ---- */
unsigned fake_events_count(void);
const struct fake_event *fake_event_at(unsigned i);
/* Events of one kind, for one session (NULL: any session). */
unsigned fake_events_count_kind(const struct vmedia_session *s,
				enum fake_ev_kind kind);
/* The i-th event of that kind and session, or NULL. */
const struct fake_event *fake_event_nth(const struct vmedia_session *s,
					enum fake_ev_kind kind, unsigned i);
void fake_events_clear(void);
void fake_events_set_hook(void (*fn)(const struct fake_event *e, void *ctx),
			  void *ctx);

/* ---- shared memory ---- */
/* false: vmedia_shm_alloc() answers -ENOTTY (no region). */
void fake_shm_set_enabled(bool on);
/* The next n allocations succeed, later ones fail with -ENOMEM; -1: all. */
void fake_shm_fail_after(int n);
unsigned fake_shm_live(void);
unsigned fake_shm_live_for(const struct vmedia_session *s);
unsigned fake_shm_allocs(void); /* successful allocations since reset */
unsigned fake_shm_bad_puts(void);
/* Host view of the live allocation at offset (its length in *len). */
void *fake_shm_host(uint32_t offset, size_t *len);

#endif
