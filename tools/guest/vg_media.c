/* SPDX-License-Identifier: MIT */
/*
 * virtio-media commands, laid out as the Linux guest driver lays them out
 * (research: virtio-media-protocol.md, 2.2-2.5): a readable part with the
 * command and its payload, then SG lists; a writable part with the
 * response header and the payload again, through the very same guest
 * memory for WR ioctls.
 */
#include "vg_media.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The scratch area: command, SG lists and response at fixed places. */
#define SCRATCH_SIZE (1u << 20)
#define CMD_OFF	     0u
#define CMD_MAX	     (64u << 10)
#define SG_OFF	     CMD_MAX
#define SG_MAX	     (768u << 10)
#define RESP_OFF     (SG_OFF + SG_MAX)
#define RESP_MAX     (SCRATCH_SIZE - RESP_OFF)
#define MAX_SEGS     8u

struct sg_entry {
	uint64_t start;
	uint32_t len;
	uint32_t reserved;
};

static uint8_t *scratch(struct vg_media *m, size_t off)
{
	return (uint8_t *)m->scratch.host + off;
}

static uint64_t scratch_gpa(struct vg_media *m, size_t off)
{
	return m->scratch.gpa + off;
}

static unsigned add_flags(struct vg_media *m, unsigned nsegs)
{
	/* Like Linux: indirect when negotiated and the chain is long. */
	return (m->dev.features & VG_F_INDIRECT_DESC) && nsegs > 1
		       ? VG_ADD_INDIRECT
		       : 0;
}

/* Run one chain on the commandq; returns the device's used length. */
static int run(struct vg_media *m, const struct vg_seg *segs, unsigned n,
	       uint32_t *written)
{
	struct vg_used used;
	int r = vg_vring_call(&m->cmdq, segs, n, add_flags(m, n), m->timeout_ms,
			      &used);

	m->run_err = r < 0 ? r : 0;
	if (r < 0)
		return r;
	*written = used.len;
	return 0;
}

/* The response header's status as a negative errno, or -EIO if short. */
static int status(struct vg_media *m, uint32_t written)
{
	struct virtio_media_resp_header h;

	if (written < sizeof(h))
		return -EIO;
	memcpy(&h, scratch(m, RESP_OFF), sizeof(h));
	return -(int)h.status;
}

int vg_media_raw(struct vg_media *m, const void *cmd, size_t cmd_len,
		 void *resp, size_t resp_len, uint32_t *written)
{
	struct vg_seg segs[2];
	unsigned n = 0;
	int r;

	if (cmd_len == 0 || cmd_len > CMD_MAX || resp_len > RESP_MAX)
		return -EINVAL;
	memcpy(scratch(m, CMD_OFF), cmd, cmd_len);
	memset(scratch(m, RESP_OFF), 0, resp_len);
	segs[n++] = (struct vg_seg){ scratch_gpa(m, CMD_OFF), (uint32_t)cmd_len,
				     false };
	if (resp_len)
		segs[n++] = (struct vg_seg){ scratch_gpa(m, RESP_OFF),
					     (uint32_t)resp_len, true };
	r = run(m, segs, n, written);
	if (r == 0 && resp_len)
		memcpy(resp, scratch(m, RESP_OFF), resp_len);
	return r;
}

int vg_media_open(struct vg_media *m, uint32_t *session)
{
	struct virtio_media_cmd_header cmd = { .cmd = VIRTIO_MEDIA_CMD_OPEN };
	struct virtio_media_resp_open resp;
	uint32_t written;
	int r = vg_media_raw(m, &cmd, sizeof(cmd), &resp, sizeof(resp),
			     &written);

	if (r < 0)
		return r;
	if (written < sizeof(resp.hdr))
		return -EIO;
	if (resp.hdr.status)
		return -(int)resp.hdr.status;
	if (written < sizeof(resp))
		return -EIO;
	*session = resp.session_id;
	return 0;
}

int vg_media_close(struct vg_media *m, uint32_t session)
{
	struct virtio_media_cmd_close cmd = {
		.hdr.cmd = VIRTIO_MEDIA_CMD_CLOSE,
		.session_id = session,
	};
	uint32_t written;

	return vg_media_raw(m, &cmd, sizeof(cmd), NULL, 0, &written);
}

static void put_ioctl_cmd(struct vg_media *m, uint32_t session, uint32_t code)
{
	struct virtio_media_cmd_ioctl cmd = {
		.hdr.cmd = VIRTIO_MEDIA_CMD_IOCTL,
		.session_id = session,
		.code = code,
	};

	memcpy(scratch(m, CMD_OFF), &cmd, sizeof(cmd));
}

int vg_media_ioctl(struct vg_media *m, uint32_t session, uint32_t code,
		   void *payload, size_t in_len, size_t out_len)
{
	const size_t pay = CMD_OFF + sizeof(struct virtio_media_cmd_ioctl);
	struct vg_seg segs[3];
	uint32_t written;
	unsigned n = 0;
	int r;

	if (in_len > CMD_MAX - pay || out_len > CMD_MAX - pay)
		return -EINVAL;
	put_ioctl_cmd(m, session, code);
	memcpy(scratch(m, pay), payload, in_len);
	segs[n++] = (struct vg_seg){ scratch_gpa(m, CMD_OFF),
				     (uint32_t)(pay + in_len), false };
	segs[n++] = (struct vg_seg){ scratch_gpa(m, RESP_OFF),
				     sizeof(struct virtio_media_resp_header),
				     true };
	/* WR: the response payload lands where the request payload was. */
	if (out_len)
		segs[n++] = (struct vg_seg){ scratch_gpa(m, pay),
					     (uint32_t)out_len, true };
	r = run(m, segs, n, &written);
	if (r < 0)
		return r;
	r = status(m, written);
	if (r == 0 && out_len) {
		if (written < sizeof(struct virtio_media_resp_header) + out_len)
			return -EIO;
		memcpy(payload, scratch(m, pay), out_len);
	}
	return r;
}

/*
 * Run an ioctl whose command and body sit at CMD_OFF and whose SG lists
 * (if any) end at sg_off: the body comes back through the same memory,
 * as Linux aliases the payload descriptors.
 */
static int run_payload(struct vg_media *m, size_t body, size_t sg_off,
		       uint32_t *written)
{
	const size_t pay = CMD_OFF + sizeof(struct virtio_media_cmd_ioctl);
	struct vg_seg segs[4];
	unsigned n = 0;

	segs[n++] = (struct vg_seg){ scratch_gpa(m, CMD_OFF),
				     (uint32_t)(pay + body), false };
	if (sg_off > SG_OFF)
		segs[n++] =
			(struct vg_seg){ scratch_gpa(m, SG_OFF),
					 (uint32_t)(sg_off - SG_OFF), false };
	segs[n++] = (struct vg_seg){ scratch_gpa(m, RESP_OFF),
				     sizeof(struct virtio_media_resp_header),
				     true };
	segs[n++] =
		(struct vg_seg){ scratch_gpa(m, pay), (uint32_t)body, true };
	return run(m, segs, n, written);
}

/*
 * Append plane p's SG list at *sg_off; returns the entries written.
 * Entries end on seg-aligned guest addresses, as pinned user pages do:
 * a buffer starting mid-page gets a short first entry.
 */
static int put_sg(struct vg_media *m, const struct vg_media_sg *sg,
		  size_t *sg_off)
{
	struct vg_transport *t = m->dev.t;
	/* Device addresses may be contiguous only within a page. */
	size_t seg = vg_dma_paged(t) ? VG_PAGE_SIZE : sg->seg;
	size_t done = 0, step = seg ? seg : sg->len;
	int n = 0;

	while (done < sg->len) {
		uint64_t gpa = sg->mem->gpa + done;
		struct sg_entry e = { .start = vg_dma(t, gpa) };
		size_t room = seg ? step - (size_t)(gpa % step) : step;
		size_t len = sg->len - done < room ? sg->len - done : room;

		/* Device-contiguous pages go in one entry. */
		if (vg_dma_paged(t))
			len = vg_dma_run(t, gpa, sg->len - done, &e.start);

		if (*sg_off + sizeof(e) > SG_OFF + SG_MAX)
			return -E2BIG;
		e.len = (uint32_t)len;
		memcpy(scratch(m, *sg_off), &e, sizeof(e));
		*sg_off += sizeof(e);
		done += len;
		n++;
	}
	return n;
}

static bool is_mplane(uint32_t type)
{
	return type == V4L2_BUF_TYPE_VIDEO_CAPTURE_MPLANE ||
	       type == V4L2_BUF_TYPE_VIDEO_OUTPUT_MPLANE;
}

/* The SG lists of a USERPTR buffer, for each plane of nonzero length. */
static int put_userptr(struct vg_media *m, const struct v4l2_buffer *b,
		       const struct v4l2_plane *planes,
		       const struct vg_media_sg *sg, size_t *sg_off)
{
	unsigned n = is_mplane(b->type) ? b->length : 1;

	for (unsigned i = 0; i < n; i++) {
		uint32_t len =
			is_mplane(b->type) ? planes[i].length : b->length;
		int r;

		if (len == 0)
			continue;
		if (!sg || !sg[i].mem)
			return -EFAULT;
		r = put_sg(m, &sg[i], sg_off);
		if (r < 0)
			return r;
	}
	return 0;
}

int vg_media_ioctl_buffer(struct vg_media *m, uint32_t session, uint32_t code,
			  struct v4l2_buffer *b, struct v4l2_plane *planes,
			  const struct vg_media_sg *sg)
{
	const size_t pay = CMD_OFF + sizeof(struct virtio_media_cmd_ioctl);
	size_t nplanes = is_mplane(b->type) ? b->length : 0;
	size_t body = sizeof(*b) + nplanes * sizeof(*planes);
	size_t sg_off = SG_OFF;
	uint32_t written;
	int r;

	if (nplanes > VIDEO_MAX_PLANES)
		return -EINVAL;
	put_ioctl_cmd(m, session, code);
	memcpy(scratch(m, pay), b, sizeof(*b));
	if (nplanes)
		memcpy(scratch(m, pay + sizeof(*b)), planes,
		       nplanes * sizeof(*planes));
	if (b->memory == V4L2_MEMORY_USERPTR &&
	    code != _IOC_NR(VIDIOC_QUERYBUF)) {
		r = put_userptr(m, b, planes, sg, &sg_off);
		if (r < 0)
			return r;
	}
	r = run_payload(m, body, sg_off, &written);
	if (r < 0)
		return r;
	r = status(m, written);
	if (r)
		return r;
	if (written < sizeof(struct virtio_media_resp_header) + sizeof(*b))
		return -EIO;
	memcpy(b, scratch(m, pay), sizeof(*b));
	if (nplanes)
		memcpy(planes, scratch(m, pay + sizeof(*b)),
		       nplanes * sizeof(*planes));
	return 0;
}

int vg_media_ioctl_ext_ctrls(struct vg_media *m, uint32_t session,
			     uint32_t code, struct v4l2_ext_controls *c,
			     struct v4l2_ext_control *ctrls,
			     const struct vg_mem *const *payload_mem)
{
	const size_t pay = CMD_OFF + sizeof(struct virtio_media_cmd_ioctl);
	size_t body = sizeof(*c) + (size_t)c->count * sizeof(*ctrls);
	size_t sg_off = SG_OFF;
	uint32_t written;
	int r;

	if (body > CMD_MAX - pay)
		return -E2BIG;
	put_ioctl_cmd(m, session, code);
	memcpy(scratch(m, pay), c, sizeof(*c));
	if (c->count)
		memcpy(scratch(m, pay + sizeof(*c)), ctrls,
		       c->count * sizeof(*ctrls));
	for (uint32_t i = 0; i < c->count; i++) {
		struct vg_media_sg sg = { .len = ctrls[i].size };

		if (!ctrls[i].size)
			continue;
		sg.mem = payload_mem ? payload_mem[i] : NULL;
		if (!sg.mem)
			return -EFAULT;
		r = put_sg(m, &sg, &sg_off);
		if (r < 0)
			return r;
	}
	r = run_payload(m, body, sg_off, &written);
	if (r < 0)
		return r;
	/* The payload comes back on error too (error_idx, sizes). */
	if (written >= sizeof(struct virtio_media_resp_header) + body) {
		uint32_t count = c->count;

		memcpy(c, scratch(m, pay), sizeof(*c));
		if (count)
			memcpy(ctrls, scratch(m, pay + sizeof(*c)),
			       count * sizeof(*ctrls));
		if (c->count != count)
			return -EIO;
	}
	return status(m, written);
}

int vg_media_mmap(struct vg_media *m, uint32_t session, uint32_t flags,
		  uint32_t offset, uint64_t *addr, uint64_t *len)
{
	struct virtio_media_cmd_mmap cmd = {
		.hdr.cmd = VIRTIO_MEDIA_CMD_MMAP,
		.session_id = session,
		.flags = flags,
		.offset = offset,
	};
	struct virtio_media_resp_mmap resp;
	uint32_t written;
	int r = vg_media_raw(m, &cmd, sizeof(cmd), &resp, sizeof(resp),
			     &written);

	if (r < 0)
		return r;
	r = status(m, written);
	if (r)
		return r;
	if (written < sizeof(resp))
		return -EIO;
	*addr = resp.driver_addr;
	*len = resp.len;
	return 0;
}

int vg_media_munmap(struct vg_media *m, uint64_t addr)
{
	struct virtio_media_cmd_munmap cmd = {
		.hdr.cmd = VIRTIO_MEDIA_CMD_MUNMAP,
		.driver_addr = addr,
	};
	struct virtio_media_resp_header resp;
	uint32_t written;
	int r = vg_media_raw(m, &cmd, sizeof(cmd), &resp, sizeof(resp),
			     &written);

	return r < 0 ? r : status(m, written);
}

void *vg_media_shm_ptr(struct vg_media *m, uint64_t addr, uint64_t len)
{
	if (!m->shm_host || addr > m->shm_len || len > m->shm_len - addr)
		return NULL;
	return m->shm_host + addr;
}
