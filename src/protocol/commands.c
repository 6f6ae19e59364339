/* SPDX-License-Identifier: MIT */
/*
 * The command runner: OPEN, CLOSE, IOCTL, MMAP, MUNMAP. Every command is
 * answered (a positive errno in the status), none can fail the thread, and
 * everything a command reads is read before anything is written: the guest
 * driver reuses the same descriptors for an ioctl's input and output.
 */
#include <errno.h>
#include <limits.h>
#include <string.h>

#include "protocol/commands.h"
#include "protocol/ioctl_table.h"
#include "protocol/media.h"

void respond_status(struct virtq_cursor *out, int err)
{
	struct virtio_media_resp_header resp = { .status = (uint32_t)err };

	/* No room for a header: the guest gets a short used length. */
	(void)virtq_write(out, &resp, sizeof(resp));
}

void respond_payload(struct virtq_cursor *out, const void *payload, size_t len)
{
	size_t room = virtq_cursor_left(out);

	if (room < sizeof(struct virtio_media_resp_header) + len) {
		/* The guest checks the used length and fails the ioctl. */
		respond_status(out, EINVAL);
		return;
	}
	respond_status(out, 0);
	(void)virtq_write(out, payload, len);
}

static void cmd_open(struct media_device *md, struct virtq_cursor *out)
{
	struct virtio_media_resp_open resp = { 0 };
	struct vmedia_session *s;
	int ret = session_open(md, &s);

	if (ret) {
		respond_status(out, -ret);
		return;
	}
	resp.session_id = s->id;
	vm_debug(md->domid, "session %u opened", s->id);
	(void)virtq_write(out, &resp, sizeof(resp));
}

static void cmd_close(struct media_device *md, struct virtq_cursor *in)
{
	struct virtio_media_cmd_close cmd;
	struct vmedia_session *s;

	/* CLOSE has no response: an unknown or malformed one is ignored. */
	if (virtq_read(in, &cmd, sizeof(cmd)) < 0)
		return;
	s = session_find(md, cmd.session_id);
	if (!s)
		return;
	vm_debug(md->domid, "session %u closed", s->id);
	session_close(s);
}

/* Payload buffer big enough and aligned for any fixed-size ioctl. */
union ioctl_arg {
	struct v4l2_format fmt;
	struct v4l2_enc_idx enc_idx;
	struct v4l2_create_buffers create;
	struct v4l2_requestbuffers reqbufs;
	uint32_t type;
	uint64_t align;
	uint8_t bytes[2080];
};

/* What a successful ioctl changes in the session's own bookkeeping. */
static void after_ioctl(struct vmedia_session *s, uint32_t code,
			const union ioctl_arg *arg)
{
	struct session_queue *q;

	switch (code) {
	case _IOC_NR(VIDIOC_STREAMON):
		q = session_queue(s, arg->type, true);
		if (q)
			q->streaming = true;
		break;
	case _IOC_NR(VIDIOC_STREAMOFF):
		session_queue_stopped(s, arg->type);
		break;
	case _IOC_NR(VIDIOC_REQBUFS):
		/* Success means not streaming and the old buffers are gone. */
		session_queue_stopped(s, arg->reqbufs.type);
		break;
	}
}

static void simple_ioctl(struct vmedia_session *s, const struct ioctl_desc *d,
			 uint32_t code, struct virtq_cursor *in,
			 struct virtq_cursor *out)
{
	const struct vmedia_ioctl_ops *ops = s->md->backend->ops->ioctl;
	union ioctl_arg arg;
	int ret;

	_Static_assert(sizeof(arg) >= 2072, "largest fixed payload");
	memset(&arg, 0, sizeof(arg));
	if (d->cls != IOCTL_R && virtq_read(in, &arg, d->size) < 0) {
		respond_status(out, EINVAL);
		return;
	}
	ret = d->call(ops, s->priv, &arg);
	if (ret) {
		respond_status(out, -ret);
		return;
	}
	after_ioctl(s, code, &arg);
	if (d->cls == IOCTL_W)
		respond_status(out, 0);
	else
		respond_payload(out, &arg, d->size);
}

static void cmd_ioctl(struct media_device *md, struct virtq_cursor *in,
		      struct virtq_cursor *out)
{
	struct virtio_media_cmd_ioctl cmd;
	const struct ioctl_desc *d;
	struct vmedia_session *s;

	if (virtq_read(in, &cmd, sizeof(cmd)) < 0) {
		respond_status(out, EINVAL);
		return;
	}
	s = session_find(md, cmd.session_id);
	if (!s) {
		respond_status(out, EINVAL);
		return;
	}
	if (s->broken) {
		respond_status(out, EIO);
		return;
	}
	d = ioctl_lookup(cmd.code);
	if (!d) {
		respond_status(out, ENOTTY);
		return;
	}
	vm_debug(md->domid, "session %u: %s", s->id, d->name);
	if (d->cls == IOCTL_BUFFER)
		ioctl_buffer(s, d, cmd.code, in, out);
	else if (d->cls == IOCTL_EXT_CTRLS)
		ioctl_ext_ctrls(s, d, in, out);
	else
		simple_ioctl(s, d, cmd.code, in, out);
}

static void cmd_mmap(struct media_device *md, struct virtq_cursor *in,
		     struct virtq_cursor *out)
{
	struct virtio_media_cmd_mmap cmd;
	struct virtio_media_resp_mmap resp = { 0 };
	struct vmedia_session *s;
	struct shm_block *b;

	if (virtq_read(in, &cmd, sizeof(cmd)) < 0) {
		respond_status(out, EINVAL);
		return;
	}
	s = session_find(md, cmd.session_id);
	if (!s) {
		respond_status(out, EINVAL);
		return;
	}
	if (!md->shm) {
		respond_status(out, ENOTTY);
		return;
	}
	/* Only the session that owns a buffer may map it. */
	b = shm_find(md, cmd.offset);
	if (!b || b->owner != s || b->guest_maps == UINT_MAX) {
		respond_status(out, EINVAL);
		return;
	}
	b->guest_maps++;
	resp.driver_addr = b->offset;
	resp.len = b->len;
	(void)virtq_write(out, &resp, sizeof(resp));
}

static void cmd_munmap(struct media_device *md, struct virtq_cursor *in,
		       struct virtq_cursor *out)
{
	struct virtio_media_cmd_munmap cmd;
	struct shm_block *b;

	if (virtq_read(in, &cmd, sizeof(cmd)) < 0) {
		respond_status(out, EINVAL);
		return;
	}
	b = md->shm ? shm_find(md, cmd.driver_addr) : NULL;
	if (!b || b->guest_maps == 0) {
		respond_status(out, EINVAL);
		return;
	}
	b->guest_maps--;
	shm_release_if_unused(md, b);
	respond_status(out, 0);
}

uint32_t media_handle_command(struct media_device *md,
			      const struct virtq_chain *chain)
{
	struct virtio_media_cmd_header hdr;
	struct virtq_cursor in, out, peek;

	virtq_reader(&in, chain);
	virtq_writer(&out, chain);
	peek = in;
	if (virtq_read(&peek, &hdr, sizeof(hdr)) < 0) {
		respond_status(&out, EINVAL);
		return (uint32_t)out.done;
	}
	switch (hdr.cmd) {
	case VIRTIO_MEDIA_CMD_OPEN:
		cmd_open(md, &out);
		break;
	case VIRTIO_MEDIA_CMD_CLOSE:
		cmd_close(md, &in);
		break;
	case VIRTIO_MEDIA_CMD_IOCTL:
		cmd_ioctl(md, &in, &out);
		break;
	case VIRTIO_MEDIA_CMD_MMAP:
		cmd_mmap(md, &in, &out);
		break;
	case VIRTIO_MEDIA_CMD_MUNMAP:
		cmd_munmap(md, &in, &out);
		break;
	default:
		respond_status(&out, ENOTTY);
	}
	return (uint32_t)out.done;
}
