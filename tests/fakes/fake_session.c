/* SPDX-License-Identifier: MIT */
#include "fakes/fake_session.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define FAKE_SHM_MAX_ALLOCS 1024

struct vmedia_session {
	uint32_t id;
	int domid;
};

struct fake_alloc {
	bool live;
	uint32_t offset;
	size_t len;
	const struct vmedia_session *s;
};

static struct {
	struct fake_event *events;
	unsigned n_events, cap_events;
	void (*hook)(const struct fake_event *e, void *ctx);
	void *hook_ctx;

	uint8_t *shm;
	size_t shm_size;
	uint8_t *page_used; /* one byte per page */
	bool shm_enabled;
	int fail_after;
	struct fake_alloc allocs[FAKE_SHM_MAX_ALLOCS];
	unsigned n_allocs_ok;
	unsigned bad_puts;
} fk = { .shm_enabled = true, .fail_after = -1 };

int fake_session_reset(size_t shm_size)
{
	free(fk.events);
	free(fk.shm);
	free(fk.page_used);
	memset(&fk, 0, sizeof(fk));
	fk.shm_enabled = true;
	fk.fail_after = -1;
	shm_size =
		(shm_size + FAKE_SHM_PAGE - 1) / FAKE_SHM_PAGE * FAKE_SHM_PAGE;
	if (!shm_size)
		return 0;
	fk.shm = malloc(shm_size);
	fk.page_used = calloc(shm_size / FAKE_SHM_PAGE, 1);
	if (!fk.shm || !fk.page_used)
		return -ENOMEM;
	fk.shm_size = shm_size;
	return 0;
}

struct vmedia_session *fake_session_new(uint32_t id, int domid)
{
	struct vmedia_session *s = calloc(1, sizeof(*s));

	if (s) {
		s->id = id;
		s->domid = domid;
	}
	return s;
}

void fake_session_free(struct vmedia_session *s)
{
	free(s);
}

uint32_t vmedia_session_id(const struct vmedia_session *s)
{
	return s->id;
}

int vmedia_session_domid(const struct vmedia_session *s)
{
	return s->domid;
}

/* ---- events ---- */

static struct fake_event *event_new(const struct vmedia_session *s,
				    enum fake_ev_kind kind)
{
	struct fake_event *e;

	if (fk.n_events == fk.cap_events) {
		unsigned cap = fk.cap_events ? fk.cap_events * 2 : 64;
		struct fake_event *n = realloc(fk.events, cap * sizeof(*n));

		if (!n)
			abort(); /* a test double may give up */
		fk.events = n;
		fk.cap_events = cap;
	}
	e = &fk.events[fk.n_events++];
	memset(e, 0, sizeof(*e));
	e->kind = kind;
	e->s = s;
	return e;
}

static void event_done(unsigned i)
{
	/* The hook may record more events: pass a copy, not a pointer in. */
	struct fake_event copy = fk.events[i];

	if (fk.hook)
		fk.hook(&copy, fk.hook_ctx);
}

void vmedia_session_dqbuf(struct vmedia_session *s, const struct v4l2_buffer *b,
			  const struct v4l2_plane *planes, unsigned n_planes)
{
	struct fake_event *e = event_new(s, FAKE_EV_DQBUF);

	e->b = *b;
	if (n_planes > VIDEO_MAX_PLANES)
		n_planes = VIDEO_MAX_PLANES;
	if (planes && n_planes)
		memcpy(e->planes, planes, n_planes * sizeof(*planes));
	e->n_planes = n_planes;
	/* What the protocol layer does to every DQBUF event. */
	e->b.flags = (e->b.flags & ~V4L2_BUF_FLAG_QUEUED) | V4L2_BUF_FLAG_DONE;
	event_done(fk.n_events - 1);
}

void vmedia_session_event(struct vmedia_session *s, const struct v4l2_event *ev)
{
	struct fake_event *e = event_new(s, FAKE_EV_EVENT);

	e->ev = *ev;
	event_done(fk.n_events - 1);
}

void vmedia_session_error(struct vmedia_session *s, int err)
{
	struct fake_event *e = event_new(s, FAKE_EV_ERROR);

	e->err = err;
	event_done(fk.n_events - 1);
}

unsigned fake_events_count(void)
{
	return fk.n_events;
}

const struct fake_event *fake_event_at(unsigned i)
{
	return i < fk.n_events ? &fk.events[i] : NULL;
}

const struct fake_event *fake_event_nth(const struct vmedia_session *s,
					enum fake_ev_kind kind, unsigned i)
{
	for (unsigned k = 0; k < fk.n_events; k++) {
		const struct fake_event *e = &fk.events[k];

		if (e->kind != kind || (s && e->s != s))
			continue;
		if (i-- == 0)
			return e;
	}
	return NULL;
}

unsigned fake_events_count_kind(const struct vmedia_session *s,
				enum fake_ev_kind kind)
{
	unsigned n = 0;

	for (unsigned k = 0; k < fk.n_events; k++)
		if (fk.events[k].kind == kind && (!s || fk.events[k].s == s))
			n++;
	return n;
}

void fake_events_clear(void)
{
	fk.n_events = 0;
}

void fake_events_set_hook(void (*fn)(const struct fake_event *e, void *ctx),
			  void *ctx)
{
	fk.hook = fn;
	fk.hook_ctx = ctx;
}

/* ---- shared memory ---- */

void fake_shm_set_enabled(bool on)
{
	fk.shm_enabled = on;
}

void fake_shm_fail_after(int n)
{
	fk.fail_after = n;
}

/* First fit over whole pages; returns the first page or -1. */
static long find_pages(size_t pages)
{
	size_t total = fk.shm_size / FAKE_SHM_PAGE, run = 0;

	for (size_t p = 0; p < total; p++) {
		run = fk.page_used[p] ? 0 : run + 1;
		if (run == pages)
			return (long)(p + 1 - pages);
	}
	return -1;
}

int vmedia_shm_alloc(struct vmedia_session *s, size_t len, uint32_t *offset,
		     void **host)
{
	size_t pages = (len + FAKE_SHM_PAGE - 1) / FAKE_SHM_PAGE;
	struct fake_alloc *a = NULL;
	long first;

	if (!fk.shm_enabled || !fk.shm)
		return -ENOTTY;
	if (!s || !len || !offset || !host)
		return -EINVAL;
	if (fk.fail_after == 0)
		return -ENOMEM;
	for (unsigned i = 0; i < FAKE_SHM_MAX_ALLOCS && !a; i++)
		if (!fk.allocs[i].live)
			a = &fk.allocs[i];
	first = find_pages(pages);
	if (!a || first < 0)
		return -ENOMEM;
	if (fk.fail_after > 0)
		fk.fail_after--;
	memset(fk.page_used + first, 1, pages);
	*a = (struct fake_alloc){ .live = true,
				  .offset = (uint32_t)first * FAKE_SHM_PAGE,
				  .len = len,
				  .s = s };
	memset(fk.shm + a->offset, 0, pages * FAKE_SHM_PAGE);
	*offset = a->offset;
	*host = fk.shm + a->offset;
	fk.n_allocs_ok++;
	return 0;
}

static struct fake_alloc *find_live(uint32_t offset)
{
	for (unsigned i = 0; i < FAKE_SHM_MAX_ALLOCS; i++)
		if (fk.allocs[i].live && fk.allocs[i].offset == offset)
			return &fk.allocs[i];
	return NULL;
}

void vmedia_shm_put(struct vmedia_session *s, uint32_t offset)
{
	struct fake_alloc *a = find_live(offset);
	size_t pages;

	if (!a || a->s != s) {
		fk.bad_puts++;
		return;
	}
	pages = (a->len + FAKE_SHM_PAGE - 1) / FAKE_SHM_PAGE;
	memset(fk.page_used + offset / FAKE_SHM_PAGE, 0, pages);
	a->live = false;
}

unsigned fake_shm_live(void)
{
	return fake_shm_live_for(NULL);
}

unsigned fake_shm_live_for(const struct vmedia_session *s)
{
	unsigned n = 0;

	for (unsigned i = 0; i < FAKE_SHM_MAX_ALLOCS; i++)
		if (fk.allocs[i].live && (!s || fk.allocs[i].s == s))
			n++;
	return n;
}

unsigned fake_shm_allocs(void)
{
	return fk.n_allocs_ok;
}

unsigned fake_shm_bad_puts(void)
{
	return fk.bad_puts;
}

void *fake_shm_host(uint32_t offset, size_t *len)
{
	struct fake_alloc *a = find_live(offset);

	if (!a)
		return NULL;
	if (len)
		*len = a->len;
	return fk.shm + offset;
}
