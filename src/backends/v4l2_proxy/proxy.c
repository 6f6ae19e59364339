/* SPDX-License-Identifier: MIT */
/*
 * The host V4L2 proxy: instance and session lifetime, session failure and
 * statistics. create() opens the device once to learn what it is; every
 * guest open() then gets its own host open().
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include "backends/v4l2_proxy/proxy.h"

/*
 * What the guest may be told the device can do. read()/write() and async
 * I/O do not exist in virtio-media, overlays need pointers into the
 * caller's memory, and there is no media controller behind the guest's
 * node; DEVICE_CAPS is added by the guest driver itself.
 */
#define VP_CAPS_DROP                                                    \
	(V4L2_CAP_READWRITE | V4L2_CAP_ASYNCIO | V4L2_CAP_DEVICE_CAPS | \
	 V4L2_CAP_VIDEO_OVERLAY | V4L2_CAP_VIDEO_OUTPUT_OVERLAY |       \
	 V4L2_CAP_IO_MC)

static const struct v4l2_host_ops *next_host;

void v4l2_proxy_use_host(const struct v4l2_host_ops *ops)
{
	next_host = ops;
}

int vp_domid(const struct vp_session *s)
{
	return s && s->vs ? vmedia_session_domid(s->vs) : VM_NO_DOM;
}

void vp_fail(struct vp_session *s, int err, const char *why)
{
	if (s->dead)
		return;
	s->dead = err;
	evloop_del(s->dev->loop, &s->src);
	s->interest = 0;
	if (vm_ratelimit_ok(&s->dev->rl))
		vm_warn(vp_domid(s), "v4l2: %s: session %u: %s (%s)",
			s->dev->path, vmedia_session_id(s->vs), why,
			strerror(err));
	vmedia_session_error(s->vs, err);
}

int vp_ioctl(struct vp_session *s, unsigned long req, void *arg)
{
	int ret;

	if (s->dead)
		return -s->dead;
	do
		ret = s->dev->host->ioctl(s->fd, req, arg);
	while (ret == -EINTR);
	if (ret == -ENODEV)
		vp_fail(s, ENODEV, "host device gone");
	return ret;
}

/* ---- create / destroy ---------------------------------------------------- */

static void open_error(const char *path, int err, char *msg, size_t len)
{
	const char *hint = "";

	if (err == ENOENT || err == ENODEV || err == ENXIO)
		hint = " (is the camera plugged in? ls /dev/v4l/by-id)";
	else if (err == EACCES || err == EPERM)
		hint = " (vmediad needs read/write access: the video group)";
	else if (err == EBUSY)
		hint = " (another program holds the device)";
	else if (err == ENOTTY || err == EINVAL)
		hint = " (not a V4L2 device)";
	snprintf(msg, len, "cannot open %s: %s%s", path, strerror(err), hint);
}

/* Fill *id from the host's QUERYCAP; one line in msg when unusable. */
static int probe_identity(const struct v4l2_host_ops *host, const char *path,
			  struct vmedia_identity *id, char *msg, size_t len)
{
	struct v4l2_capability cap;
	uint32_t caps;
	int fd = host->open(path), ret;

	if (fd < 0) {
		open_error(path, -fd, msg, len);
		return fd;
	}
	memset(&cap, 0, sizeof(cap));
	do
		ret = host->ioctl(fd, VIDIOC_QUERYCAP, &cap);
	while (ret == -EINTR);
	host->close(fd);
	if (ret) {
		snprintf(msg, len,
			 "%s is not a V4L2 video device (QUERYCAP: %s)", path,
			 strerror(-ret));
		return -ENODEV;
	}
	caps = cap.capabilities & V4L2_CAP_DEVICE_CAPS ? cap.device_caps
						       : cap.capabilities;
	if (!(caps & V4L2_CAP_STREAMING)) {
		snprintf(msg, len,
			 "%s cannot stream (no V4L2_CAP_STREAMING): "
			 "virtio-media has no read()/write()",
			 path);
		return -ENODEV;
	}
	*id = (struct vmedia_identity){ .device_caps = caps & ~VP_CAPS_DROP,
					.device_type = 0 };
	memcpy(id->card, cap.card, sizeof(id->card) - 1);
	id->card[sizeof(id->card) - 1] = '\0';
	return 0;
}

static int vp_create(const char *args, struct evloop *loop, void **devp,
		     struct vmedia_identity *id, char *msg, size_t msg_len)
{
	char scratch[8];
	struct vp_dev *dev;
	int ret;

	if (!msg || !msg_len) {
		msg = scratch;
		msg_len = sizeof(scratch);
	}
	if (!args || !*args || args[0] != '/' || strlen(args) >= PATH_MAX) {
		snprintf(msg, msg_len,
			 "v4l2: give the device as v4l2:/dev/videoN "
			 "(or a /dev/v4l/by-id or by-path name)");
		return -EINVAL;
	}
	if (!loop || !devp || !id) {
		snprintf(msg, msg_len, "v4l2: no event loop given");
		return -EINVAL;
	}
	dev = calloc(1, sizeof(*dev));
	if (!dev)
		return -ENOMEM;
	dev->host = next_host ? next_host : &v4l2_host_libv4l2;
	dev->loop = loop;
	snprintf(dev->path, sizeof(dev->path), "%s", args);
	ret = probe_identity(dev->host, dev->path, id, msg, msg_len);
	if (ret) {
		free(dev);
		return ret;
	}
	*devp = dev;
	return 0;
}

static void vp_close(void *priv);

static void vp_destroy(void *devp)
{
	struct vp_dev *dev = devp;

	if (!dev)
		return;
	if (dev->sessions)
		vm_warn(VM_NO_DOM, "v4l2: destroyed with sessions still open");
	while (dev->sessions)
		vp_close(dev->sessions);
	free(dev);
}

/* ---- sessions ------------------------------------------------------------ */

static int vp_open(void *devp, struct vmedia_session *vs, void **priv)
{
	struct vp_dev *dev = devp;
	struct vp_session *s;
	int ret;

	if (!dev || !vs || !priv)
		return -EINVAL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->dev = dev;
	s->vs = vs;
	s->fd = dev->host->open(dev->path);
	if (s->fd < 0) {
		ret = s->fd;
		vm_warn(vmedia_session_domid(vs), "v4l2: cannot open %s: %s",
			dev->path, strerror(-ret));
		free(s);
		return ret;
	}
	/* Events only: readiness is asked for once buffers are queued. */
	s->interest = EPOLLPRI;
	ret = evloop_add(dev->loop, &s->src, s->fd, s->interest, vp_on_host, s);
	if (ret) {
		dev->host->close(s->fd);
		free(s);
		return ret;
	}
	s->next = dev->sessions;
	if (dev->sessions)
		dev->sessions->prev = s;
	dev->sessions = s;
	*priv = s;
	return 0;
}

static void session_unlink(struct vp_session *s)
{
	if (s->prev)
		s->prev->next = s->next;
	else
		s->dev->sessions = s->next;
	if (s->next)
		s->next->prev = s->prev;
	s->prev = s->next = NULL;
}

static void log_stats(const struct vp_session *s)
{
	const struct v4l2_proxy_stats *st = &s->dev->stats;

	vm_debug(vp_domid(s),
		 "v4l2: %s: session %u closed; device totals: %llu copies "
		 "(%llu bytes) to guest, %llu (%llu bytes) to host, %llu "
		 "zero-copy planes, %llu bounce buffers",
		 s->dev->path, vmedia_session_id(s->vs),
		 (unsigned long long)st->copies_to_guest,
		 (unsigned long long)st->bytes_to_guest,
		 (unsigned long long)st->copies_to_host,
		 (unsigned long long)st->bytes_to_host,
		 (unsigned long long)st->zero_copy_qbufs,
		 (unsigned long long)st->bounce_allocs);
}

static void vp_close(void *priv)
{
	struct vp_session *s = priv;

	if (!s)
		return;
	evloop_del(s->dev->loop, &s->src);
	/*
	 * Closing the host fd stops streaming and releases the host's hold on
	 * our memory (USERPTR pins): only then may that memory go.
	 */
	s->dev->host->close(s->fd);
	for (unsigned i = 0; i < VP_MAX_QUEUES; i++)
		if (s->q[i].type)
			vp_queue_free(s, &s->q[i]);
	log_stats(s);
	session_unlink(s);
	free(s);
}

void v4l2_proxy_get_stats(void *devp, struct v4l2_proxy_stats *out)
{
	const struct vp_dev *dev = devp;

	*out = dev->stats;
}

void v4l2_proxy_poll(void *priv, uint32_t events)
{
	vp_on_host(priv, events);
}

uint32_t v4l2_proxy_interest(void *priv)
{
	return ((struct vp_session *)priv)->interest;
}

bool v4l2_proxy_in_loop(void *priv)
{
	return ((struct vp_session *)priv)->src.added;
}

int v4l2_proxy_host_fd(void *priv)
{
	return ((struct vp_session *)priv)->fd;
}

static const struct vmedia_backend_ops vp_backend_ops = {
	.open = vp_open,
	.close = vp_close,
	.ioctl = &vp_ioctl_ops,
};

const struct vmedia_backend_class v4l2_proxy_backend_class = {
	.name = "v4l2",
	.create = vp_create,
	.destroy = vp_destroy,
	.ops = &vp_backend_ops,
};
