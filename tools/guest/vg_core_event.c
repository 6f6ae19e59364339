/* SPDX-License-Identifier: MIT */
/*
 * V4L2 events and extended controls.
 *
 * Events: the V4L2 core's per-file subscriptions and available list
 * (v4l2-event.c) with what the driver asks of it: one slot per
 * subscription (v4l2_event_subscribe(fh, sub, 1, NULL); SOURCE_CHANGE
 * merges its change flags), the host told after the local subscription,
 * and EVENT events from the device queued as v4l2_event_queue_fh() does:
 * the guest's own sequence number and monotonic timestamp replace the
 * device's.
 *
 * Extended controls: the core's check_ext_ctrls() and the driver's
 * send_ext_controls_ioctl(). Compound payloads (size > 0) go to the
 * device as SG lists; like USERPTR buffers they are bounced through guest
 * RAM (vg_core_bounce.c explains why) and copied back afterwards, since
 * the device may write them (G_EXT_CTRLS, and error sizes).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vg_core_priv.h"
#include "vg_uaccess.h"

/* ---- subscriptions ---- */

static struct vg_sub *find_sub(struct vg_file *f, uint32_t type, uint32_t id)
{
	for (unsigned i = 0; i < f->nsubs; i++) {
		if (f->subs[i].type == type && f->subs[i].id == id)
			return &f->subs[i];
	}
	return NULL;
}

static int local_subscribe(struct vg_file *f,
			   const struct v4l2_event_subscription *s)
{
	if (s->type == V4L2_EVENT_ALL)
		return -EINVAL;
	if (find_sub(f, s->type, s->id))
		return 0; /* already listening */
	if (f->nsubs == f->subs_cap) {
		unsigned cap = f->subs_cap ? 2 * f->subs_cap : 8;
		struct vg_sub *n = realloc(f->subs, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		f->subs = n;
		f->subs_cap = cap;
	}
	f->subs[f->nsubs++] = (struct vg_sub){ .type = s->type,
					       .id = s->id,
					       .flags = s->flags };
	return 0;
}

static void drop_sub(struct vg_file *f, unsigned i)
{
	if (f->subs[i].pending)
		f->navailable--;
	f->subs[i] = f->subs[--f->nsubs];
}

static void local_unsubscribe(struct vg_file *f,
			      const struct v4l2_event_subscription *s)
{
	for (unsigned i = f->nsubs; i-- > 0;) {
		if (s->type == V4L2_EVENT_ALL ||
		    (f->subs[i].type == s->type && f->subs[i].id == s->id))
			drop_sub(f, i);
	}
}

void vg_event_release(struct vg_file *f)
{
	free(f->subs);
	f->subs = NULL;
	f->nsubs = f->subs_cap = 0;
	f->navailable = 0;
}

int vg_event_subscribe(struct vg_call *k)
{
	struct v4l2_event_subscription *s = k->p;
	int r = local_subscribe(k->f, s);

	if (r)
		return r;
	r = vg_send_ioctl(k->f, k->cmd, s, sizeof(*s), 0);
	if (r) {
		local_unsubscribe(k->f, s);
		return r;
	}
	/* The initial event may be waiting already: take it now. */
	if (s->flags & V4L2_EVENT_SUB_FL_SEND_INITIAL)
		vg_core_pump(k->c);
	return 0;
}

int vg_event_unsubscribe(struct vg_call *k)
{
	struct v4l2_event_subscription *s = k->p;
	int r = vg_send_ioctl(k->f, k->cmd, s, sizeof(*s), 0);

	if (r == 0)
		local_unsubscribe(k->f, s);
	return r;
}

/* ---- the available list ---- */

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* __v4l2_event_queue_fh() with one slot per subscription. */
void vg_event_queue(struct vg_file *f, const struct v4l2_event *ev)
{
	struct vg_sub *s = find_sub(f, ev->type, ev->id);
	bool copy_payload = true;

	if (!s)
		return; /* not subscribed: dropped */
	f->sequence++;
	if (s->pending) {
		/* The slot is full: the oldest (only) event makes room. */
		f->navailable--;
		if (s->type == V4L2_EVENT_SOURCE_CHANGE) {
			uint32_t old = s->ev.u.src_change.changes;

			s->ev.u.src_change = ev->u.src_change;
			s->ev.u.src_change.changes |= old;
			copy_payload = false;
		}
	}
	s->ev.type = ev->type;
	if (copy_payload)
		s->ev.u = ev->u;
	s->ev.id = ev->id;
	s->ev.sequence = f->sequence;
	s->ts_ns = now_ns();
	s->order = f->order++;
	s->pending = true;
	f->navailable++;
}

struct ev_wait {
	struct vg_file *f;
};

static bool ev_ready(void *arg)
{
	const struct ev_wait *w = arg;

	return w->f->navailable || w->f->dead;
}

static struct vg_sub *oldest(struct vg_file *f)
{
	struct vg_sub *best = NULL;

	for (unsigned i = 0; i < f->nsubs; i++) {
		if (f->subs[i].pending &&
		    (!best || f->subs[i].order < best->order))
			best = &f->subs[i];
	}
	return best;
}

int vg_event_dqevent(struct vg_call *k)
{
	struct v4l2_event *ev = k->p;
	struct ev_wait w = { k->f };
	struct vg_sub *s;
	int r;

	if (!(k->fflags & O_NONBLOCK)) {
		r = vg_core_wait_until(k->c, ev_ready, &w);
		if (r)
			return r;
	}
	s = oldest(k->f);
	if (!s)
		return -ENOENT;
	s->pending = false;
	k->f->navailable--;
	*ev = s->ev;
	ev->pending = k->f->navailable;
	ev->timestamp.tv_sec = (time_t)(s->ts_ns / 1000000000u);
	ev->timestamp.tv_nsec = (long)(s->ts_ns % 1000000000u);
	return 0;
}

/* ---- extended controls ---- */

bool vg_check_ext_ctrls(struct v4l2_ext_controls *c, unsigned long cmd)
{
	c->reserved[0] = 0;
	for (uint32_t i = 0; i < c->count; i++)
		c->controls[i].reserved2[0] = 0;
	switch (c->which) {
	case V4L2_CID_PRIVATE_BASE:
		if (cmd == VIDIOC_G_CTRL || cmd == VIDIOC_S_CTRL)
			return false;
		break;
	case V4L2_CTRL_WHICH_DEF_VAL:
		if (cmd == VIDIOC_S_EXT_CTRLS || cmd == VIDIOC_TRY_EXT_CTRLS) {
			c->error_idx = c->count;
			return false;
		}
		return true;
	case V4L2_CTRL_WHICH_CUR_VAL:
		return true;
	case V4L2_CTRL_WHICH_REQUEST_VAL:
		c->error_idx = c->count;
		return false;
	}
	/* All controls from the one class. */
	for (uint32_t i = 0; i < c->count; i++) {
		if (V4L2_CTRL_ID2WHICH(c->controls[i].id) != c->which) {
			c->error_idx =
				cmd == VIDIOC_TRY_EXT_CTRLS ? i : c->count;
			return false;
		}
	}
	return true;
}

int vg_ext_ctrls(struct vg_call *k)
{
	struct v4l2_ext_controls *p = k->p;

	p->error_idx = p->count;
	if (!vg_check_ext_ctrls(p, k->cmd))
		return -EINVAL;
	return vg_send_ext_ctrls(k->f, k->cmd, p);
}

struct payloads {
	struct vg_mem *mem;	    /* one per control; size 0 if none */
	const struct vg_mem **ptrs; /* what vg_media wants */
};

static void payloads_free(struct vg_core *c, struct payloads *pl, uint32_t n)
{
	for (uint32_t i = 0; pl->mem && i < n; i++)
		vg_ram_free(c->m->ram, &pl->mem[i]);
	free(pl->mem);
	free(pl->ptrs);
}

/* Bounce every compound payload; -EINVAL when one cannot be pinned. */
static int payloads_get(struct vg_core *c, const struct v4l2_ext_controls *x,
			struct payloads *pl)
{
	pl->mem = calloc(x->count ? x->count : 1, sizeof(*pl->mem));
	pl->ptrs = calloc(x->count ? x->count : 1, sizeof(*pl->ptrs));
	if (!pl->mem || !pl->ptrs)
		return -ENOMEM;
	for (uint32_t i = 0; i < x->count; i++) {
		const struct v4l2_ext_control *e = &x->controls[i];

		if (e->size == 0)
			continue;
		if (vg_ram_alloc(c->m->ram, e->size, &pl->mem[i]))
			return -ENOMEM;
		/* Pinned for writing, as the driver's userptr helper does. */
		if (vg_copy_from_user(pl->mem[i].host, e->ptr, e->size) ||
		    vg_copy_to_user(e->ptr, pl->mem[i].host, e->size))
			return -EINVAL;
		pl->ptrs[i] = &pl->mem[i];
	}
	return 0;
}

static void payloads_put_back(struct vg_core *c, const struct payloads *pl,
			      const struct v4l2_ext_control *saved, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		if (saved[i].size &&
		    vg_copy_to_user(saved[i].ptr, pl->mem[i].host,
				    saved[i].size))
			vg_core_warn(c, "control payload %u went away", i);
	}
}

int vg_send_ext_ctrls(struct vg_file *f, unsigned long cmd,
		      struct v4l2_ext_controls *x)
{
	struct vg_core *c = f->c;
	struct v4l2_ext_control none = { 0 },
				*ctrls = x->count ? x->controls : &none;
	struct v4l2_ext_control *saved = NULL, *orig = x->controls;
	struct payloads pl = { 0 };
	uint32_t n = x->count;
	int r;

	if (f->dead)
		return -EINVAL;
	saved = malloc(sizeof(*saved) * (n ? n : 1));
	r = saved ? payloads_get(c, x, &pl) : -ENOMEM;
	if (r == 0) {
		memcpy(saved, ctrls, sizeof(*saved) * n);
		c->m->run_err = 0;
		r = vg_media_ioctl_ext_ctrls(c->m, f->session, _IOC_NR(cmd), x,
					     ctrls, pl.ptrs);
		r = vg_core_check(c, r);
		x->controls = orig; /* whatever the device wrote there */
		if (!c->broken)
			payloads_put_back(c, &pl, saved, n);
		if (x->count > n)
			r = -ENOSPC;
	}
	payloads_free(c, &pl, n);
	free(saved);
	return r;
}
