/* SPDX-License-Identifier: MIT */
#include "fuzz_answer.h"

#include <linux/videodev2.h>
#include <stdbool.h>
#include <string.h>

#include "fuzz_guest.h"
#include "vmedia/virtio_media_wire.h"

#define IOCTL_HDR sizeof(struct virtio_media_cmd_ioctl)
#define RESP_HDR  sizeof(struct virtio_media_resp_header)
#define CTRL_SIZE sizeof(struct v4l2_ext_control)

static uint64_t get64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static uint32_t get32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static bool is_mplane(uint32_t type)
{
	return type == V4L2_BUF_TYPE_VIDEO_CAPTURE_MPLANE ||
	       type == V4L2_BUF_TYPE_VIDEO_OUTPUT_MPLANE;
}

/*
 * Every m value the guest has sent in this input: QBUF of a PREPARED
 * USERPTR buffer answers the address it was prepared with (as vb2 does),
 * which is the guest's own from an earlier command.
 */
#define SENT_MAX 256u
static uint64_t sent_m[SENT_MAX];
static unsigned n_sent;

void fc_reset(void)
{
	n_sent = 0;
}

static void remember(uint64_t m)
{
	if (n_sent < SENT_MAX)
		sent_m[n_sent++] = m;
}

static bool guest_sent(uint64_t m)
{
	for (unsigned i = 0; i < n_sent; i++)
		if (sent_m[i] == m)
			return true;
	return false;
}

/*
 * A pointer-sized field of the answer: the guest's own value back, or a
 * 32-bit MMAP offset. Anything else is host memory's address.
 */
static void check_echo(const char *what, uint64_t sent, uint64_t got)
{
	if (got != sent && got > UINT32_MAX && !guest_sent(got))
		fg_fail("%s: guest sent m = %#llx, got back %#llx", what,
			(unsigned long long)sent, (unsigned long long)got);
}

static void check_planes(const uint8_t *req, size_t req_len,
			 const uint8_t *resp, size_t resp_len)
{
	const size_t b = sizeof(struct v4l2_buffer);
	const size_t m = offsetof(struct v4l2_plane, m);
	uint32_t sent = get32(req + offsetof(struct v4l2_buffer, length));
	uint32_t got = get32(resp + offsetof(struct v4l2_buffer, length));

	if (got > sent || sent > VIDEO_MAX_PLANES)
		fg_fail("buffer answer with %u planes for %u sent", got, sent);
	if (req_len < b + sent * sizeof(struct v4l2_plane) ||
	    resp_len < b + got * sizeof(struct v4l2_plane))
		fg_fail("buffer success with %zu request / %zu answer bytes "
			"for %u planes",
			req_len, resp_len, sent);
	for (uint32_t i = 0; i < got; i++) {
		size_t at = b + i * sizeof(struct v4l2_plane) + m;

		check_echo("buffer plane", get64(req + at), get64(resp + at));
	}
}

static void check_buffer(const uint8_t *req, size_t req_len,
			 const uint8_t *resp, size_t resp_len)
{
	const size_t m = offsetof(struct v4l2_buffer, m);
	uint32_t type;

	if (req_len < sizeof(struct v4l2_buffer) ||
	    resp_len < sizeof(struct v4l2_buffer))
		fg_fail("buffer ioctl succeeded with %zu request / %zu answer "
			"bytes",
			req_len, resp_len);
	type = get32(req + offsetof(struct v4l2_buffer, type));
	check_echo("buffer", get64(req + m), get64(resp + m));
	if (is_mplane(type)) {
		if (get64(resp + m) != get64(req + m))
			fg_fail("multi-planar buffer: planes pointer changed");
		check_planes(req, req_len, resp, resp_len);
	}
}

/* The m values of a buffer request: the buffer's and its planes'. */
static void remember_buffer(const uint8_t *req, size_t req_len)
{
	const size_t b = sizeof(struct v4l2_buffer);
	size_t at;

	if (req_len < b)
		return;
	remember(get64(req + offsetof(struct v4l2_buffer, m)));
	for (at = b; at + sizeof(struct v4l2_plane) <= req_len &&
		     at < b + VIDEO_MAX_PLANES * sizeof(struct v4l2_plane);
	     at += sizeof(struct v4l2_plane))
		remember(get64(req + at + offsetof(struct v4l2_plane, m)));
}

static void check_ext_ctrls(const uint8_t *req, size_t req_len,
			    const uint8_t *resp, size_t resp_len)
{
	const size_t hdr = sizeof(struct v4l2_ext_controls);
	const size_t ptr = offsetof(struct v4l2_ext_control, ptr);
	const size_t size = offsetof(struct v4l2_ext_control, size);
	const size_t controls = offsetof(struct v4l2_ext_controls, controls);
	const size_t count = offsetof(struct v4l2_ext_controls, count);
	uint32_t n;

	if (resp_len < hdr)
		return; /* refused before decoding: status only */
	if (req_len < hdr)
		fg_fail("ext ctrls answered from a %zu-byte request", req_len);
	if (get64(resp + controls) != get64(req + controls))
		fg_fail("ext ctrls: controls pointer %#llx came back as %#llx",
			(unsigned long long)get64(req + controls),
			(unsigned long long)get64(resp + controls));
	n = get32(resp + count);
	if (n != get32(req + count))
		fg_fail("ext ctrls: count %u came back as %u",
			get32(req + count), n);
	for (uint32_t i = 0; i < n; i++) {
		size_t at = hdr + (size_t)i * CTRL_SIZE;

		if (at + CTRL_SIZE > resp_len || at + CTRL_SIZE > req_len)
			break;
		if (get32(req + at + size) &&
		    get64(resp + at + ptr) != get64(req + at + ptr))
			fg_fail("ext ctrl %u: payload pointer %#llx came back "
				"as %#llx",
				i, (unsigned long long)get64(req + at + ptr),
				(unsigned long long)get64(resp + at + ptr));
	}
}

static void check_ioctl(const uint8_t *req, size_t req_len, const uint8_t *resp,
			size_t resp_len)
{
	struct virtio_media_cmd_ioctl cmd;
	uint32_t status = get32(resp);

	memcpy(&cmd, req, sizeof(cmd));
	req += IOCTL_HDR;
	req_len -= IOCTL_HDR;
	resp += RESP_HDR;
	resp_len -= RESP_HDR;
	switch (cmd.code) {
	case _IOC_NR(VIDIOC_QUERYBUF):
	case _IOC_NR(VIDIOC_QBUF):
	case _IOC_NR(VIDIOC_PREPARE_BUF):
		remember_buffer(req, req_len);
		if (status == 0)
			check_buffer(req, req_len, resp, resp_len);
		break;
	case _IOC_NR(VIDIOC_G_EXT_CTRLS):
	case _IOC_NR(VIDIOC_S_EXT_CTRLS):
	case _IOC_NR(VIDIOC_TRY_EXT_CTRLS):
		check_ext_ctrls(req, req_len, resp, resp_len);
		break;
	}
}

static void check_mmap(const uint8_t *resp, size_t resp_len)
{
	struct virtio_media_resp_mmap r;

	if (resp_len < sizeof(r) || get32(resp) != 0)
		return;
	memcpy(&r, resp, sizeof(r));
	if (r.driver_addr % 4096 || r.len == 0 || r.driver_addr > FG_SHM_SIZE ||
	    r.len > FG_SHM_SIZE - r.driver_addr)
		fg_fail("MMAP answered [%#llx, +%#llx) in a %#x-byte region",
			(unsigned long long)r.driver_addr,
			(unsigned long long)r.len, FG_SHM_SIZE);
}

void fc_check_answer(const uint8_t *req, size_t req_len, const uint8_t *resp,
		     size_t resp_len)
{
	struct virtio_media_cmd_header h;

	if (req_len < sizeof(h) || resp_len < RESP_HDR)
		return;
	memcpy(&h, req, sizeof(h));
	if (h.cmd == VIRTIO_MEDIA_CMD_IOCTL && req_len >= IOCTL_HDR)
		check_ioctl(req, req_len, resp, resp_len);
	else if (h.cmd == VIRTIO_MEDIA_CMD_MMAP)
		check_mmap(resp, resp_len);
}
