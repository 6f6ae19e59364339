/* SPDX-License-Identifier: MIT */
/*
 * USERPTR memory through guest RAM: a deliberate difference from Linux.
 *
 * The Linux driver pins the application's pages and sends their guest
 * physical addresses; the device then reads and writes the application's
 * memory directly. Here the application's memory is this process's
 * private memory, which the device (another process, or dom0) cannot
 * see: only the transport's RAM is guest RAM. So each USERPTR plane is
 * bounced through a guest RAM allocation of the same length, placed at
 * the same offset within its first page (the SG list then starts mid-page
 * with a short first entry, as pinned user pages do, and continues in
 * page-sized entries). The user's bytes are copied in at QBUF and
 * PREPARE_BUF (output data; for capture they are just what the device
 * may leave alone), and the device's bytes are copied back at DQBUF
 * (capture: up to bytesused of each plane).
 *
 * "Pinning" checks what the driver's vb2_create_framevec(..., write=true)
 * checks: every byte must be mapped and writable, whatever the direction;
 * if not, -EINVAL (the driver turns the -EFAULT into -EINVAL too).
 */
#include <errno.h>
#include <string.h>

#include "vg_core_priv.h"
#include "vg_uaccess.h"

/* Larger planes than this are refused rather than eating guest RAM. */
#define BOUNCE_MAX (256u << 20)

void vg_bounce_put(struct vg_core *c, struct vg_bounce *bb)
{
	for (unsigned i = 0; i < VIDEO_MAX_PLANES; i++)
		vg_ram_free(c->m->ram, &bb->mem[i]);
	memset(bb, 0, sizeof(*bb));
}

static int bounce_plane(struct vg_core *c, struct vg_bounce *bb, unsigned i,
			unsigned long uptr, uint32_t len)
{
	uint32_t off = (uint32_t)(uptr & (VG_PAGE_SIZE - 1));
	void *user = (void *)uptr;
	uint8_t *host;

	if (len > BOUNCE_MAX)
		return -EINVAL;
	if (vg_ram_alloc(c->m->ram, (size_t)off + len, &bb->mem[i]))
		return -ENOMEM;
	host = (uint8_t *)bb->mem[i].host + off;
	if (vg_copy_from_user(host, user, len) ||
	    vg_copy_to_user(user, host, len))
		return -EINVAL;
	bb->off[i] = off;
	bb->len[i] = len;
	bb->uptr[i] = uptr;
	return 0;
}

/* SG list of plane i: entries end on page boundaries (vg_media_sg.seg). */
static void plane_sg(const struct vg_bounce *bb, unsigned i,
		     struct vg_mem *sgmem, struct vg_media_sg *sg)
{
	*sgmem = (struct vg_mem){ .gpa = bb->mem[i].gpa + bb->off[i],
				  .host = (uint8_t *)bb->mem[i].host +
					  bb->off[i],
				  .size = bb->len[i] };
	*sg = (struct vg_media_sg){ .mem = sgmem,
				    .len = bb->len[i],
				    .seg = VG_PAGE_SIZE };
}

int vg_bounce_get(struct vg_core *c, const struct v4l2_buffer *b,
		  const struct v4l2_plane *planes, struct vg_bounce *out,
		  struct vg_mem sgmem[VIDEO_MAX_PLANES],
		  struct vg_media_sg sg[VIDEO_MAX_PLANES])
{
	bool mp = vg_type_is_mplane(b->type);
	unsigned n = mp ? b->length : 1;

	memset(out, 0, sizeof(*out));
	memset(sg, 0, sizeof(*sg) * VIDEO_MAX_PLANES);
	if (n > VIDEO_MAX_PLANES)
		return -EINVAL;
	for (unsigned i = 0; i < n; i++) {
		unsigned long uptr = mp ? planes[i].m.userptr : b->m.userptr;
		uint32_t len = mp ? planes[i].length : b->length;
		int r;

		if (len == 0)
			continue;
		r = bounce_plane(c, out, i, uptr, len);
		if (r) {
			vg_bounce_put(c, out);
			return r;
		}
		plane_sg(out, i, &sgmem[i], &sg[i]);
	}
	out->n = n;
	return 0;
}

void vg_bounce_copy_out(struct vg_core *c, const struct vg_bounce *bb,
			const struct v4l2_buffer *b,
			const struct v4l2_plane *planes)
{
	bool mp = vg_type_is_mplane(b->type);

	for (unsigned i = 0; i < bb->n; i++) {
		uint32_t used = mp ? planes[i].bytesused : b->bytesused;
		uint32_t n = used < bb->len[i] ? used : bb->len[i];
		const uint8_t *host =
			(const uint8_t *)bb->mem[i].host + bb->off[i];

		if (!bb->len[i] || (mp && i >= b->length))
			continue;
		/* Pinned pages would have taken the data; we can only try. */
		if (vg_copy_to_user((void *)bb->uptr[i], host, n))
			vg_core_warn(c, "USERPTR plane %u went away", i);
	}
}

bool vg_bounce_has_mem(const struct vg_bounce *bb)
{
	for (unsigned i = 0; i < VIDEO_MAX_PLANES; i++) {
		if (bb->len[i])
			return true;
	}
	return false;
}

int vg_bounce_refill(const struct vg_bounce *bb)
{
	for (unsigned i = 0; i < bb->n; i++) {
		uint8_t *host = (uint8_t *)bb->mem[i].host + bb->off[i];

		if (bb->len[i] &&
		    vg_copy_from_user(host, (void *)bb->uptr[i], bb->len[i]))
			return -EINVAL;
	}
	return 0;
}
