/* SPDX-License-Identifier: MIT */
/*
 * vcam controls, behaving as the kernel's control framework does for a
 * driver with these controls (v4l2-ctrls-api.c): both ioctl families,
 * NEXT_CTRL enumeration, old-style V4L2_CID_PRIVATE_BASE lookups, integer
 * values clamped, menu values out of range refused with ERANGE, error_idx
 * as the framework sets it, and control events to every subscribed
 * session but the one making the change (unless it asked for feedback).
 *
 * The controls are the device's, shared by all its sessions.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "backends/vcam/vcam.h"
#include "vmedia/log.h"

#ifndef V4L2_CTRL_WHICH_MIN_VAL
#define V4L2_CTRL_WHICH_MIN_VAL 0x0f020000
#define V4L2_CTRL_WHICH_MAX_VAL 0x0f030000
#endif

enum {
	C_USER_CLASS,
	C_BRIGHTNESS,
	C_CONTRAST,
	C_SATURATION,
	C_HUE,
	C_INJECT,
	C_IMAGE_CLASS,
	C_PATTERN,
};

struct ctrl_desc {
	uint32_t id;
	uint32_t type;
	const char *name;
	int32_t min, max, step, def;
	uint32_t flags;
};

#define CLASS_FLAGS (V4L2_CTRL_FLAG_READ_ONLY | V4L2_CTRL_FLAG_WRITE_ONLY)

/* Sorted by id: NEXT_CTRL enumeration walks this order. */
static const struct ctrl_desc vcam_ctrls[VCAM_NUM_CTRLS] = {
	[C_USER_CLASS] = { V4L2_CID_USER_CLASS, V4L2_CTRL_TYPE_CTRL_CLASS,
			   "User Controls", 0, 0, 0, 0, CLASS_FLAGS },
	[C_BRIGHTNESS] = { V4L2_CID_BRIGHTNESS, V4L2_CTRL_TYPE_INTEGER,
			   "Brightness", 0, 255, 1, TPG_BRIGHTNESS_DEF,
			   V4L2_CTRL_FLAG_SLIDER },
	[C_CONTRAST] = { V4L2_CID_CONTRAST, V4L2_CTRL_TYPE_INTEGER, "Contrast",
			 0, 255, 1, TPG_CONTRAST_DEF, V4L2_CTRL_FLAG_SLIDER },
	[C_SATURATION] = { V4L2_CID_SATURATION, V4L2_CTRL_TYPE_INTEGER,
			   "Saturation", 0, 255, 1, TPG_SATURATION_DEF,
			   V4L2_CTRL_FLAG_SLIDER },
	[C_HUE] = { V4L2_CID_HUE, V4L2_CTRL_TYPE_INTEGER, "Hue", -128, 127, 1,
		    TPG_HUE_DEF, V4L2_CTRL_FLAG_SLIDER },
	[C_INJECT] = { VCAM_CID_INJECT_ERROR, V4L2_CTRL_TYPE_MENU,
		       "Inject Error", 0, VCAM_INJECT_COUNT - 1, 1,
		       VCAM_INJECT_NONE, 0 },
	[C_IMAGE_CLASS] = { V4L2_CID_IMAGE_PROC_CLASS,
			    V4L2_CTRL_TYPE_CTRL_CLASS,
			    "Image Processing Controls", 0, 0, 0, 0,
			    CLASS_FLAGS },
	[C_PATTERN] = { V4L2_CID_TEST_PATTERN, V4L2_CTRL_TYPE_MENU,
			"Test Pattern", 0, TPG_PAT_COUNT - 1, 1, TPG_PAT_BARS,
			0 },
};

/*
 * The last item is the one v4l2-compliance leaves selected after walking
 * the menu; it is the harmless one (one frame flagged, nothing fails).
 */
static const char *const inject_names[VCAM_INJECT_COUNT] = {
	[VCAM_INJECT_NONE] = "None",
	[VCAM_INJECT_QBUF_EIO] = "Fail Next QBUF (EIO)",
	[VCAM_INJECT_FRAME_ERROR] = "Flag Next Frame as Error",
};

static const char *menu_name(int i, int32_t v)
{
	if (v < vcam_ctrls[i].min || v > vcam_ctrls[i].max)
		return NULL;
	if (i == C_INJECT)
		return inject_names[v];
	if (i == C_PATTERN)
		return tpg_pattern_name((enum tpg_pattern)v);
	return NULL;
}

static bool is_menu(int i)
{
	return vcam_ctrls[i].type == V4L2_CTRL_TYPE_MENU;
}

static int find_exact(uint32_t id)
{
	for (int i = 0; i < VCAM_NUM_CTRLS; i++)
		if (vcam_ctrls[i].id == id)
			return i;
	return -1;
}

/*
 * Old-style lookups: V4L2_CID_PRIVATE_BASE + n names the n-th driver
 * private user-class control (find_private_ref() in the kernel).
 */
static int find_ctrl(uint32_t id)
{
	uint32_t n;

	if (id < V4L2_CID_PRIVATE_BASE)
		return find_exact(id);
	n = id - V4L2_CID_PRIVATE_BASE;
	for (int i = 0; i < VCAM_NUM_CTRLS; i++) {
		uint32_t cid = vcam_ctrls[i].id;

		if (V4L2_CTRL_ID2WHICH(cid) != V4L2_CTRL_CLASS_USER ||
		    !V4L2_CTRL_DRIVER_PRIV(cid))
			continue;
		if (n-- == 0)
			return i;
	}
	return -1;
}

/* NEXT_CTRL: the first control after id. vcam has no compound controls. */
static int find_next(uint32_t id, uint32_t next_flags)
{
	if (next_flags == V4L2_CTRL_FLAG_NEXT_COMPOUND)
		return -1;
	for (int i = 0; i < VCAM_NUM_CTRLS; i++)
		if (vcam_ctrls[i].id > id)
			return i;
	return -1;
}

static void apply_tpg(struct vcam_dev *dev)
{
	struct tpg_settings s = dev->tpg.s;

	s.brightness = dev->ctrl_val[C_BRIGHTNESS];
	s.contrast = dev->ctrl_val[C_CONTRAST];
	s.saturation = dev->ctrl_val[C_SATURATION];
	s.hue = dev->ctrl_val[C_HUE];
	s.pattern = (enum tpg_pattern)dev->ctrl_val[C_PATTERN];
	/* Values were validated against the same ranges the TPG has. */
	if (tpg_set(&dev->tpg, &s))
		vm_warn(VM_NO_DOM, "vcam: pattern generator refused settings");
}

void vcam_ctrls_init(struct vcam_dev *dev)
{
	for (int i = 0; i < VCAM_NUM_CTRLS; i++)
		dev->ctrl_val[i] = vcam_ctrls[i].def;
	tpg_init(&dev->tpg);
	apply_tpg(dev);
}

static void fill_event(const struct vcam_dev *dev, int i, uint32_t changes,
		       struct v4l2_event *ev)
{
	const struct ctrl_desc *d = &vcam_ctrls[i];

	memset(ev, 0, sizeof(*ev));
	ev->type = V4L2_EVENT_CTRL;
	ev->id = d->id;
	ev->u.ctrl.changes = changes;
	ev->u.ctrl.type = d->type;
	ev->u.ctrl.value64 = dev->ctrl_val[i];
	ev->u.ctrl.flags = d->flags;
	ev->u.ctrl.minimum = d->min;
	ev->u.ctrl.maximum = d->max;
	ev->u.ctrl.step = d->step;
	ev->u.ctrl.default_value = d->def;
}

/* A value changed: tell the subscribers, but not `from` (the changer). */
static void send_change(struct vcam_dev *dev, int i,
			const struct vcam_session *from)
{
	struct v4l2_event ev;

	fill_event(dev, i, V4L2_EVENT_CTRL_CH_VALUE, &ev);
	for (struct vcam_session *s = dev->sessions; s; s = s->next) {
		uint8_t sub = s->ev_sub[i];

		if (!(sub & VCAM_SUB_ON))
			continue;
		if (s == from && !(sub & VCAM_SUB_FEEDBACK))
			continue;
		vmedia_session_event(s->vs, &ev);
	}
}

/* Bring *v into range as the framework's validate_new() does. */
static int validate(int i, int32_t *v)
{
	const struct ctrl_desc *d = &vcam_ctrls[i];

	switch (d->type) {
	case V4L2_CTRL_TYPE_INTEGER:
		if (*v < d->min)
			*v = d->min;
		else if (*v > d->max)
			*v = d->max;
		*v = d->min + (*v - d->min) / d->step * d->step;
		return 0;
	case V4L2_CTRL_TYPE_MENU:
		if (*v < d->min || *v > d->max)
			return -ERANGE;
		return menu_name(i, *v) ? 0 : -EINVAL;
	default:
		*v = 0;
		return 0;
	}
}

static void set_value(struct vcam_session *from, int i, int32_t v)
{
	struct vcam_dev *dev = from->dev;

	if (dev->ctrl_val[i] == v)
		return;
	dev->ctrl_val[i] = v;
	if (i != C_INJECT)
		apply_tpg(dev);
	send_change(dev, i, from);
}

bool vcam_take_injection(struct vcam_dev *dev, enum vcam_inject what)
{
	if (dev->ctrl_val[C_INJECT] != (int32_t)what)
		return false;
	dev->ctrl_val[C_INJECT] = VCAM_INJECT_NONE;
	send_change(dev, C_INJECT, NULL);
	return true;
}

/* ---- queries ---- */

static void fill_query(int i, struct v4l2_query_ext_ctrl *q)
{
	const struct ctrl_desc *d = &vcam_ctrls[i];

	memset(q, 0, sizeof(*q));
	q->id = d->id;
	q->type = d->type;
	snprintf(q->name, sizeof(q->name), "%s", d->name);
	q->minimum = d->min;
	q->maximum = d->max;
	q->step = (uint64_t)d->step;
	q->default_value = d->def;
	q->flags = d->flags;
	q->elem_size = sizeof(int32_t);
	q->elems = 1;
}

int vcam_query_ext_ctrl(void *priv, struct v4l2_query_ext_ctrl *q)
{
	const uint32_t next_mask =
		V4L2_CTRL_FLAG_NEXT_CTRL | V4L2_CTRL_FLAG_NEXT_COMPOUND;
	uint32_t next = q->id & next_mask;
	uint32_t id = q->id & V4L2_CTRL_ID_MASK;
	int i = next ? find_next(id, next) : find_ctrl(id);

	(void)priv;
	if (i < 0)
		return -EINVAL;
	fill_query(i, q);
	/* An old-style private id is answered under that id. */
	if (!next && id >= V4L2_CID_PRIVATE_BASE)
		q->id = id;
	return 0;
}

int vcam_queryctrl(void *priv, struct v4l2_queryctrl *q)
{
	struct v4l2_query_ext_ctrl e = { .id = q->id };
	int ret = vcam_query_ext_ctrl(priv, &e);

	if (ret)
		return ret;
	memset(q, 0, sizeof(*q));
	q->id = e.id;
	q->type = e.type;
	memcpy(q->name, e.name, sizeof(q->name));
	q->flags = e.flags;
	if (e.type == V4L2_CTRL_TYPE_INTEGER || e.type == V4L2_CTRL_TYPE_MENU) {
		q->minimum = (int32_t)e.minimum;
		q->maximum = (int32_t)e.maximum;
		q->step = (int32_t)e.step;
		q->default_value = (int32_t)e.default_value;
	}
	return 0;
}

int vcam_querymenu(void *priv, struct v4l2_querymenu *m)
{
	int i = find_ctrl(m->id);
	const char *name;

	(void)priv;
	if (i < 0 || !is_menu(i) || m->index > INT32_MAX)
		return -EINVAL;
	name = menu_name(i, (int32_t)m->index);
	if (!name || !name[0])
		return -EINVAL;
	memset(m->name, 0, sizeof(m->name));
	snprintf((char *)m->name, sizeof(m->name), "%s", name);
	m->reserved = 0;
	return 0;
}

/* ---- the old family ---- */

int vcam_g_ctrl(void *priv, struct v4l2_control *c)
{
	const struct vcam_dev *dev = vcam_dev_of(priv);
	int i = find_ctrl(c->id);

	if (i < 0)
		return -EINVAL;
	if (vcam_ctrls[i].flags & V4L2_CTRL_FLAG_WRITE_ONLY)
		return -EACCES;
	c->value = dev->ctrl_val[i];
	return 0;
}

int vcam_s_ctrl(void *priv, struct v4l2_control *c)
{
	int i = find_ctrl(c->id);
	int32_t v = c->value;
	int ret;

	if (i < 0)
		return -EINVAL;
	if (vcam_ctrls[i].flags & V4L2_CTRL_FLAG_READ_ONLY)
		return -EACCES;
	ret = validate(i, &v);
	if (ret)
		return ret;
	set_value(priv, i, v);
	c->value = v;
	return 0;
}

/* ---- the extended family ---- */

enum ext_op { EXT_GET, EXT_TRY, EXT_SET };

static bool class_exists(uint32_t which)
{
	return find_exact(which | 1) >= 0;
}

/* 1: current values, 2: defaults, 3: one class's current values, 0: bad. */
static int which_kind(uint32_t which)
{
	if (which == V4L2_CTRL_WHICH_CUR_VAL)
		return 1;
	if (which == V4L2_CTRL_WHICH_DEF_VAL)
		return 2;
	if (which < V4L2_CTRL_WHICH_DEF_VAL && !(which & 0xf000ffff))
		return 3;
	return 0; /* REQUEST_VAL, MIN_VAL, MAX_VAL (no such flag), junk */
}

/*
 * Check every control before touching any (prepare_ext_ctrls() and
 * validate_ctrls()); values are clamped in place as the kernel does.
 * On error *bad is the offending index.
 */
static int ext_check(struct v4l2_ext_controls *c, enum ext_op op, uint32_t *bad)
{
	int kind = which_kind(c->which);

	/* First every id (prepare_ext_ctrls), ... */
	for (uint32_t n = 0; n < c->count; n++) {
		struct v4l2_ext_control *x = &c->controls[n];

		*bad = n;
		x->reserved2[0] = 0;
		if (find_exact(x->id & V4L2_CTRL_ID_MASK) < 0 ||
		    (kind == 3 && V4L2_CTRL_ID2WHICH(x->id) != c->which))
			return -EINVAL;
	}
	/* ... then access and values (validate_ctrls). */
	for (uint32_t n = 0; n < c->count; n++) {
		struct v4l2_ext_control *x = &c->controls[n];
		int i = find_exact(x->id & V4L2_CTRL_ID_MASK);
		int32_t v;
		int ret;

		*bad = n;
		if (op == EXT_GET) {
			if (vcam_ctrls[i].flags & V4L2_CTRL_FLAG_WRITE_ONLY)
				return -EACCES;
			continue;
		}
		if (vcam_ctrls[i].flags & V4L2_CTRL_FLAG_READ_ONLY)
			return -EACCES;
		v = x->value; /* v4l2_ext_control is packed */
		ret = validate(i, &v);
		if (ret)
			return ret;
		x->value = v;
	}
	return 0;
}

static int ext_ctrls(struct vcam_session *s, struct v4l2_ext_controls *c,
		     enum ext_op op)
{
	struct vcam_dev *dev = s->dev;
	int kind = which_kind(c->which);
	uint32_t bad = c->count;
	int ret;

	c->reserved[0] = 0;
	c->error_idx = c->count;
	/* Defaults, minima and maxima cannot be written; junk is refused. */
	if (kind == 0 || (kind == 2 && op != EXT_GET))
		return -EINVAL;
	if (c->count == 0)
		return kind != 3 || class_exists(c->which) ? 0 : -EINVAL;
	if (!c->controls)
		return -EINVAL;
	ret = ext_check(c, op, &bad);
	if (ret) {
		/* Only TRY points at the culprit; GET and SET report count. */
		c->error_idx = op == EXT_TRY ? bad : c->count;
		return ret;
	}
	for (uint32_t n = 0; n < c->count; n++) {
		struct v4l2_ext_control *x = &c->controls[n];
		int i = find_exact(x->id & V4L2_CTRL_ID_MASK);

		if (op == EXT_GET)
			x->value = kind == 2 ? vcam_ctrls[i].def
					     : dev->ctrl_val[i];
		else if (op == EXT_SET)
			set_value(s, i, x->value);
	}
	return 0;
}

int vcam_g_ext_ctrls(void *priv, struct v4l2_ext_controls *c)
{
	return ext_ctrls(priv, c, EXT_GET);
}

int vcam_try_ext_ctrls(void *priv, struct v4l2_ext_controls *c)
{
	return ext_ctrls(priv, c, EXT_TRY);
}

int vcam_s_ext_ctrls(void *priv, struct v4l2_ext_controls *c)
{
	return ext_ctrls(priv, c, EXT_SET);
}

/* ---- events ---- */

int vcam_subscribe_event(void *priv, struct v4l2_event_subscription *sub)
{
	struct vcam_session *s = priv;
	struct v4l2_event ev;
	uint32_t changes = V4L2_EVENT_CTRL_CH_FLAGS;
	int i;

	/* Only control events: no EOS, no source changes on a camera. */
	if (sub->type != V4L2_EVENT_CTRL)
		return -EINVAL;
	i = find_exact(sub->id);
	if (i < 0)
		return -EINVAL;
	if (s->ev_sub[i] & VCAM_SUB_ON)
		return 0; /* already listening: no second initial event */
	s->ev_sub[i] = VCAM_SUB_ON;
	if (sub->flags & V4L2_EVENT_SUB_FL_ALLOW_FEEDBACK)
		s->ev_sub[i] |= VCAM_SUB_FEEDBACK;
	if (!(sub->flags & V4L2_EVENT_SUB_FL_SEND_INITIAL) ||
	    vcam_ctrls[i].type == V4L2_CTRL_TYPE_CTRL_CLASS)
		return 0;
	if (!(vcam_ctrls[i].flags & V4L2_CTRL_FLAG_WRITE_ONLY))
		changes |= V4L2_EVENT_CTRL_CH_VALUE;
	/* Queued now, so the guest finds it right after this ioctl. */
	fill_event(s->dev, i, changes, &ev);
	vmedia_session_event(s->vs, &ev);
	return 0;
}

int vcam_unsubscribe_event(void *priv, struct v4l2_event_subscription *sub)
{
	struct vcam_session *s = priv;
	int i;

	if (sub->type == V4L2_EVENT_ALL) {
		memset(s->ev_sub, 0, sizeof(s->ev_sub));
		return 0;
	}
	if (sub->type != V4L2_EVENT_CTRL)
		return 0;
	i = find_exact(sub->id);
	if (i >= 0)
		s->ev_sub[i] = 0;
	return 0;
}
