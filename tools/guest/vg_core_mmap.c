/* SPDX-License-Identifier: MIT */
/*
 * mmap of MMAP buffers (virtio_media_device_mmap, virtio_media_vma_close).
 *
 * CMD_MMAP turns the buffer's mem_offset into an offset in SHM region 0;
 * the Linux driver then maps that guest-physical range into the process.
 * Here the transport hands us the region's backing as a file, so the
 * range is mapped from it: the application reads the very memory the
 * device writes. CMD_MUNMAP goes out when the last page of a mapping is
 * unmapped (Linux sends one per VMA close, so a split mapping sends one
 * per piece: a deliberate difference, the device sees one MUNMAP per
 * MMAP). Mappings belong to the device, not to a file: they outlive it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "vg_core_priv.h"

static size_t page_align(uint64_t n)
{
	return (size_t)((n + VG_PAGE_SIZE - 1) & ~(uint64_t)(VG_PAGE_SIZE - 1));
}

static int add_piece(struct vg_core *c, struct vg_map m)
{
	if (c->nmaps == c->maps_cap) {
		unsigned cap = c->maps_cap ? 2 * c->maps_cap : 16;
		struct vg_map *n = realloc(c->maps, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		c->maps = n;
		c->maps_cap = cap;
	}
	c->maps[c->nmaps++] = m;
	return 0;
}

static bool id_alive(const struct vg_core *c, uint32_t id)
{
	for (unsigned i = 0; i < c->nmaps; i++) {
		if (c->maps[i].id == id)
			return true;
	}
	return false;
}

static void send_munmap(struct vg_core *c, uint64_t shm_addr)
{
	int r;

	if (c->broken || vg_core_forked())
		return;
	c->m->run_err = 0;
	r = vg_core_check(c, vg_media_munmap(c->m, shm_addr));
	if (r)
		vg_core_warn(c, "MUNMAP of 0x%llx: %d",
			     (unsigned long long)shm_addr, r);
}

/*
 * [a, b) is gone from this process: trim our pieces, and tell the device
 * about every mapping with nothing left. Returns whether any overlapped.
 */
static bool cut(struct vg_core *c, uintptr_t a, uintptr_t b)
{
	bool hit = false;

	for (unsigned i = 0; i < c->nmaps;) {
		struct vg_map m = c->maps[i];

		if (m.end <= a || m.start >= b) {
			i++;
			continue;
		}
		hit = true;
		c->maps[i] = c->maps[--c->nmaps];
		if (m.start < a)
			add_piece(c, (struct vg_map){ m.start, a, m.shm_addr,
						      m.id });
		if (m.end > b)
			add_piece(c, (struct vg_map){ b, m.end, m.shm_addr,
						      m.id });
		if (!id_alive(c, m.id))
			send_munmap(c, m.shm_addr);
	}
	return hit;
}

/* CMD_MMAP: 0 with the SHM range, or a negative errno. */
static int cmd_mmap(struct vg_file *f, int prot, off_t off, size_t len,
		    uint64_t *shm_addr)
{
	struct vg_core *c = f->c;
	uint64_t mlen;
	int r;

	if (c->broken)
		return -EIO;
	if (f->dead)
		return -EINVAL; /* the device would not know the session */
	c->m->run_err = 0;
	r = vg_media_mmap(c->m, f->session,
			  (prot & PROT_WRITE) ? VIRTIO_MEDIA_MMAP_FLAG_RW : 0,
			  (uint32_t)off, shm_addr, &mlen);
	r = vg_core_check(c, r);
	if (r)
		return r;
	/* Not larger than the buffer; and we need the region to map it. */
	if (len > page_align(mlen)) {
		r = -EINVAL;
	} else if (c->shm_fd < 0 || *shm_addr > c->m->shm_len ||
		   len > c->m->shm_len - *shm_addr) {
		vg_core_warn(c, "MMAP answered a range outside SHM region 0");
		r = -ENODEV;
	}
	if (r)
		send_munmap(c, *shm_addr);
	return r;
}

int vg_core_mmap(struct vg_file *f, void *addr, size_t len, int prot, int flags,
		 off_t off, void **out)
{
	struct vg_core *c = f->c;
	uint64_t shm_addr;
	void *p;
	int r;

	if (vg_core_forked())
		return -EIO;
	if (!(flags & MAP_SHARED) || !(prot & (PROT_READ | PROT_WRITE)))
		return -EINVAL;
	if (len == 0 || off < 0 || (off & (VG_PAGE_SIZE - 1)))
		return -EINVAL; /* what mmap(2) checks before any driver */
	vg_core_lock(c);
	r = cmd_mmap(f, prot, off, len, &shm_addr);
	vg_core_unlock(c);
	if (r)
		return r;
	/* Unlocked: a MAP_FIXED mapping may make an interposer call us. */
	p = c->sys_mmap(addr, len, prot, flags, c->shm_fd,
			(off_t)(c->shm_fd_offset + shm_addr));
	r = p == MAP_FAILED ? -errno : 0;
	vg_core_lock(c);
	if (r == 0 && (flags & MAP_FIXED))
		cut(c, (uintptr_t)p, (uintptr_t)p + page_align(len));
	if (r == 0)
		r = add_piece(c,
			      (struct vg_map){ (uintptr_t)p,
					       (uintptr_t)p + page_align(len),
					       shm_addr, c->next_map_id++ });
	if (r) {
		if (p != MAP_FAILED)
			c->sys_munmap(p, len);
		send_munmap(c, shm_addr);
	}
	vg_core_unlock(c);
	if (r == 0)
		*out = p;
	return r;
}

int vg_core_munmap(struct vg_core *c, void *addr, size_t len)
{
	uintptr_t a = (uintptr_t)addr, b = a + page_align(len);
	bool ours = false;
	int r = 0;

	/* Every munmap of the process comes here: skip the lock if we can. */
	if (!__atomic_load_n(&c->nmaps, __ATOMIC_RELAXED))
		return 0;
	vg_core_lock(c);
	for (unsigned i = 0; i < c->nmaps && !ours; i++)
		ours = c->maps[i].end > a && c->maps[i].start < b;
	if (ours) {
		r = c->sys_munmap(addr, len) ? -errno : 1;
		if (r == 1)
			cut(c, a, b);
	}
	vg_core_unlock(c);
	return r;
}

void vg_core_forget_range(struct vg_core *c, void *addr, size_t len)
{
	uintptr_t a = (uintptr_t)addr;

	if (!__atomic_load_n(&c->nmaps, __ATOMIC_RELAXED))
		return;
	vg_core_lock(c);
	cut(c, a, a + page_align(len));
	vg_core_unlock(c);
}
