/* SPDX-License-Identifier: MIT */
/*
 * vcam: instance and session lifetime, argument parsing and the ioctl
 * table. The ioctl handlers live in the other vcam_*.c files.
 */
#include "backends/vcam/vcam.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmedia/log.h"

#define VCAM_DEFAULT_CARD "vmedia virtual camera"
#define VCAM_DEFAULT_FPS  30
#define VCAM_ARGS_HELP	  "valid: mplane, unpaced, fps=N (1..1000), card=NAME"

struct vcam_args {
	bool mplane;
	bool unpaced;
	uint32_t fps;
	char card[32];
};

int vcam_domid(const struct vcam_session *s)
{
	return s && s->vs ? vmedia_session_domid(s->vs) : VM_NO_DOM;
}

static bool parse_fps(const char *v, size_t len, uint32_t *fps)
{
	uint32_t n = 0;

	if (len == 0 || len > 4)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (v[i] < '0' || v[i] > '9')
			return false;
		n = n * 10 + (uint32_t)(v[i] - '0');
	}
	if (n < 1 || n > VCAM_FPS_MAX)
		return false;
	*fps = n;
	return true;
}

/* The card name is shown by every V4L2 tool: printable, fits with a NUL. */
static bool parse_card(const char *v, size_t len, char card[32])
{
	if (len == 0 || len > 31)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!isprint((unsigned char)v[i]))
			return false;
	memcpy(card, v, len);
	card[len] = '\0';
	return true;
}

static bool word_is(const char *w, size_t len, const char *name)
{
	return strlen(name) == len && memcmp(w, name, len) == 0;
}

/* One comma-separated word; false when it is not understood. */
static bool parse_word(const char *w, size_t len, struct vcam_args *a)
{
	if (word_is(w, len, "mplane"))
		a->mplane = true;
	else if (word_is(w, len, "unpaced"))
		a->unpaced = true;
	else if (len > 4 && memcmp(w, "fps=", 4) == 0)
		return parse_fps(w + 4, len - 4, &a->fps);
	else if (len > 5 && memcmp(w, "card=", 5) == 0)
		return parse_card(w + 5, len - 5, a->card);
	else
		return false;
	return true;
}

static int parse_args(const char *args, struct vcam_args *a, char *msg,
		      size_t msg_len)
{
	const char *p = args ? args : "";

	*a = (struct vcam_args){ .fps = VCAM_DEFAULT_FPS };
	snprintf(a->card, sizeof(a->card), "%s", VCAM_DEFAULT_CARD);
	while (*p) {
		size_t len = strcspn(p, ",");

		/* Empty words ("a,,b", a trailing comma) are harmless. */
		if (len && !parse_word(p, len, a)) {
			if (msg && msg_len)
				snprintf(msg, msg_len,
					 "vcam: bad argument '%.*s' (%s)",
					 (int)(len > 64 ? 64 : len), p,
					 VCAM_ARGS_HELP);
			return -EINVAL;
		}
		p += len;
		if (*p == ',')
			p++;
	}
	return 0;
}

static int vcam_create(const char *args, struct evloop *loop, void **devp,
		       struct vmedia_identity *id, char *msg, size_t msg_len)
{
	struct vcam_args a;
	struct vcam_dev *dev;
	int ret = parse_args(args, &a, msg, msg_len);

	if (ret)
		return ret;
	if (!loop || !devp || !id) {
		if (msg && msg_len)
			snprintf(msg, msg_len, "vcam: no event loop given");
		return -EINVAL;
	}
	dev = calloc(1, sizeof(*dev));
	if (!dev)
		return -ENOMEM;
	dev->loop = loop;
	dev->mplane = a.mplane;
	dev->unpaced = a.unpaced;
	dev->buf_type = a.mplane ? V4L2_BUF_TYPE_VIDEO_CAPTURE_MPLANE
				 : V4L2_BUF_TYPE_VIDEO_CAPTURE;
	memcpy(dev->card, a.card, sizeof(dev->card));
	vcam_formats_init(dev, a.fps);
	vcam_ctrls_init(dev);
	ret = vcam_stream_init(dev);
	if (ret) {
		if (msg && msg_len)
			snprintf(msg, msg_len, "vcam: cannot make timers: %s",
				 strerror(-ret));
		free(dev);
		return ret;
	}
	*id = (struct vmedia_identity){
		.device_caps = (a.mplane ? V4L2_CAP_VIDEO_CAPTURE_MPLANE
					 : V4L2_CAP_VIDEO_CAPTURE) |
			       V4L2_CAP_STREAMING,
		.device_type = 0,
	};
	memcpy(id->card, dev->card, sizeof(id->card));
	*devp = dev;
	return 0;
}

static void session_unlink(struct vcam_session *s)
{
	struct vcam_dev *dev = s->dev;

	if (s->prev)
		s->prev->next = s->next;
	else
		dev->sessions = s->next;
	if (s->next)
		s->next->prev = s->prev;
	s->prev = s->next = NULL;
}

static void vcam_close(void *priv)
{
	struct vcam_session *s = priv;
	struct vcam_dev *dev;

	if (!s)
		return;
	dev = s->dev;
	/* The owner's buffers die with it; nothing is reported to it. */
	if (dev->q.owner == s) {
		vcam_stream_cancel(dev);
		vcam_queue_release(dev);
	}
	session_unlink(s);
	free(s);
}

static void vcam_destroy(void *devp)
{
	struct vcam_dev *dev = devp;

	if (!dev)
		return;
	/* The protocol closes sessions first; this only guards against leaks.
	 */
	if (dev->sessions)
		vm_warn(VM_NO_DOM, "vcam: destroyed with sessions still open");
	while (dev->sessions)
		vcam_close(dev->sessions);
	vcam_stream_fini(dev);
	free(dev->q.scratch);
	free(dev);
}

static int vcam_open(void *devp, struct vmedia_session *vs, void **priv)
{
	struct vcam_dev *dev = devp;
	struct vcam_session *s;

	if (!dev || !vs || !priv)
		return -EINVAL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->dev = dev;
	s->vs = vs;
	s->next = dev->sessions;
	if (dev->sessions)
		dev->sessions->prev = s;
	dev->sessions = s;
	*priv = s;
	return 0;
}

static const struct vmedia_ioctl_ops vcam_ioctl_ops = {
	.enum_fmt = vcam_enum_fmt,
	.g_fmt = vcam_g_fmt,
	.s_fmt = vcam_s_fmt,
	.try_fmt = vcam_try_fmt,
	.reqbufs = vcam_reqbufs,
	.create_bufs = vcam_create_bufs,
	.querybuf = vcam_querybuf,
	.qbuf = vcam_qbuf,
	.prepare_buf = vcam_prepare_buf,
	.streamon = vcam_streamon,
	.streamoff = vcam_streamoff,
	.g_parm = vcam_g_parm,
	.s_parm = vcam_s_parm,
	.enum_framesizes = vcam_enum_framesizes,
	.enum_frameintervals = vcam_enum_frameintervals,
	.enuminput = vcam_enuminput,
	.g_input = vcam_g_input,
	.s_input = vcam_s_input,
	.queryctrl = vcam_queryctrl,
	.query_ext_ctrl = vcam_query_ext_ctrl,
	.querymenu = vcam_querymenu,
	.g_ctrl = vcam_g_ctrl,
	.s_ctrl = vcam_s_ctrl,
	.g_ext_ctrls = vcam_g_ext_ctrls,
	.s_ext_ctrls = vcam_s_ext_ctrls,
	.try_ext_ctrls = vcam_try_ext_ctrls,
	.subscribe_event = vcam_subscribe_event,
	.unsubscribe_event = vcam_unsubscribe_event,
};

static const struct vmedia_backend_ops vcam_backend_ops = {
	.open = vcam_open,
	.close = vcam_close,
	.ioctl = &vcam_ioctl_ops,
};

const struct vmedia_backend_class vcam_backend_class = {
	.name = "vcam",
	.create = vcam_create,
	.destroy = vcam_destroy,
	.ops = &vcam_backend_ops,
};
