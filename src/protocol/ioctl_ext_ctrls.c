/* SPDX-License-Identifier: MIT */
/*
 * Extended controls. The guest sends
 *   v4l2_ext_controls (32) | count x v4l2_ext_control (20, packed) |
 *   one SG list per control with size > 0, covering its payload
 * and receives the controls struct and array back (on error too: the
 * guest reads error_idx and sizes). Compound payloads never travel in the
 * chain: they are copied from guest memory and written back into it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include "protocol/commands.h"
#include "protocol/userptr.h"

/* As the kernel's V4L2_CID_MAX_CTRLS; payloads are bounded too. */
#define EXT_CTRLS_MAX		    1024u
#define EXT_CTRL_PAYLOAD_MAX	    (1u << 20)
#define EXT_CTRLS_PAYLOAD_TOTAL_MAX (4u << 20)

struct ext_ctrls_call {
	struct v4l2_ext_controls hdr;
	struct v4l2_ext_control *ctrls; /* host copies */
	struct v4l2_ext_control *guest; /* as the guest sent them */
	struct userptr_map **maps;	/* guest memory of each payload */
	void **payload;			/* host copies of payloads */
};

static void call_free(struct media_device *md, struct ext_ctrls_call *c)
{
	for (uint32_t i = 0; c->maps && c->payload && i < c->hdr.count; i++) {
		userptr_unmap(md, &c->maps[i]);
		free(c->payload[i]);
	}
	free(c->maps);
	free(c->payload);
	free(c->ctrls);
	free(c->guest);
}

static void copy_iov(const struct vmedia_userptr *u, void *buf, size_t len,
		     bool to_guest)
{
	char *p = buf;

	for (unsigned i = 0; i < u->n && len; i++) {
		size_t chunk =
			u->iov[i].iov_len < len ? u->iov[i].iov_len : len;

		if (to_guest)
			memcpy(u->iov[i].iov_base, p, chunk);
		else
			memcpy(p, u->iov[i].iov_base, chunk);
		p += chunk;
		len -= chunk;
	}
}

/* Map the payload of control i and copy it in. */
static int read_payload(struct media_device *md, struct virtq_cursor *in,
			struct ext_ctrls_call *c, uint32_t i, size_t *total)
{
	uint32_t size = c->guest[i].size;
	int ret;

	if (size > EXT_CTRL_PAYLOAD_MAX ||
	    *total + size > EXT_CTRLS_PAYLOAD_TOTAL_MAX)
		return -ENOMEM;
	*total += size;
	ret = userptr_map_buffer(md, in, &size, 1, &c->maps[i]);
	if (ret)
		return ret;
	c->payload[i] = malloc(size);
	if (!c->payload[i])
		return -ENOMEM;
	copy_iov(&c->maps[i]->plane[0], c->payload[i], size, false);
	c->ctrls[i].ptr = c->payload[i];
	return 0;
}

static int read_call(struct media_device *md, struct virtq_cursor *in,
		     struct ext_ctrls_call *c, uint64_t *guest_controls)
{
	size_t total = 0;
	uint32_t n;

	if (virtq_read(in, &c->hdr, sizeof(c->hdr)) < 0)
		return -EINVAL;
	memcpy(guest_controls, &c->hdr.controls, sizeof(*guest_controls));
	n = c->hdr.count;
	if (n > EXT_CTRLS_MAX)
		return -EINVAL;
	c->hdr.controls = NULL;
	if (n == 0)
		return 0;
	c->guest = calloc(n, sizeof(*c->guest));
	c->ctrls = calloc(n, sizeof(*c->ctrls));
	c->maps = calloc(n, sizeof(*c->maps));
	c->payload = calloc(n, sizeof(*c->payload));
	if (!c->guest || !c->ctrls || !c->maps || !c->payload)
		return -ENOMEM;
	if (virtq_read(in, c->guest, n * sizeof(*c->guest)) < 0)
		return -EINVAL;
	memcpy(c->ctrls, c->guest, n * sizeof(*c->ctrls));
	c->hdr.controls = c->ctrls;
	for (uint32_t i = 0; i < n; i++) {
		int ret = c->guest[i].size ? read_payload(md, in, c, i, &total)
					   : 0;

		if (ret)
			return ret;
	}
	return 0;
}

/*
 * Copy payloads back into guest memory and put the guest's own pointers
 * back in the array; the count is the guest's (a larger one would make the
 * guest fail the call with ENOSPC).
 */
static void finish_call(struct ext_ctrls_call *c, uint32_t count,
			uint64_t guest_controls)
{
	for (uint32_t i = 0; i < count; i++) {
		if (!c->guest[i].size)
			continue;
		copy_iov(&c->maps[i]->plane[0], c->payload[i], c->guest[i].size,
			 true);
		memcpy(&c->ctrls[i].ptr, &c->guest[i].ptr,
		       sizeof(c->ctrls[i].ptr));
	}
	c->hdr.count = count;
	memcpy(&c->hdr.controls, &guest_controls, sizeof(guest_controls));
}

static void respond_ext_ctrls(struct virtq_cursor *out, int err,
			      const struct ext_ctrls_call *c)
{
	size_t array = c->hdr.count * sizeof(*c->ctrls);

	if (virtq_cursor_left(out) <
	    sizeof(struct virtio_media_resp_header) + sizeof(c->hdr) + array) {
		respond_status(out, err ? err : EINVAL);
		return;
	}
	respond_status(out, err);
	(void)virtq_write(out, &c->hdr, sizeof(c->hdr));
	if (array)
		(void)virtq_write(out, c->ctrls, array);
}

void ioctl_ext_ctrls(struct vmedia_session *s, const struct ioctl_desc *d,
		     struct virtq_cursor *in, struct virtq_cursor *out)
{
	const struct vmedia_ioctl_ops *ops = s->md->backend->ops->ioctl;
	struct ext_ctrls_call c;
	uint64_t guest_controls = 0;
	uint32_t count;
	int ret;

	memset(&c, 0, sizeof(c));
	ret = read_call(s->md, in, &c, &guest_controls);
	if (ret) {
		call_free(s->md, &c);
		respond_status(out, -ret);
		return;
	}
	count = c.hdr.count;
	ret = d->call(ops, s->priv, &c.hdr);
	finish_call(&c, count, guest_controls);
	respond_ext_ctrls(out, -ret, &c);
	call_free(s->md, &c);
}
