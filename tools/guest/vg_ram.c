/* SPDX-License-Identifier: MIT */
/*
 * A page bitmap over the guest's RAM. The guest driver allocates little
 * and rarely (rings once, buffers per command), so a first-fit scan with
 * a moving start hint is plenty.
 */
#include "vg_ram.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

static bool page_used(const struct vg_ram *r, uint64_t p)
{
	return r->bitmap[p / 8] & (1u << (p % 8));
}

static void mark(struct vg_ram *r, uint64_t first, uint64_t n, bool used)
{
	for (uint64_t p = first; p < first + n; p++) {
		if (used)
			r->bitmap[p / 8] |= (uint8_t)(1u << (p % 8));
		else
			r->bitmap[p / 8] &= (uint8_t) ~(1u << (p % 8));
	}
}

int vg_ram_init(struct vg_ram *r, struct vg_transport *t)
{
	memset(r, 0, sizeof(*r));
	r->t = t;
	r->npages = t->ram_size / VG_PAGE_SIZE;
	r->bitmap = calloc((size_t)(r->npages + 7) / 8, 1);
	return r->bitmap ? 0 : -ENOMEM;
}

void vg_ram_fini(struct vg_ram *r)
{
	free(r->bitmap);
	r->bitmap = NULL;
}

/* First run of n free pages at or after start, or npages if none. */
static uint64_t find_run(const struct vg_ram *r, uint64_t start, uint64_t n)
{
	uint64_t run = 0;

	for (uint64_t p = start; p < r->npages; p++) {
		run = page_used(r, p) ? 0 : run + 1;
		if (run == n)
			return p + 1 - n;
	}
	return r->npages;
}

int vg_ram_alloc(struct vg_ram *r, size_t size, struct vg_mem *out)
{
	uint64_t n, first;

	if (size == 0 || size > SIZE_MAX - VG_PAGE_SIZE)
		return -EINVAL;
	n = (size + VG_PAGE_SIZE - 1) / VG_PAGE_SIZE;
	if (n > r->npages)
		return -ENOMEM;
	first = find_run(r, r->hint, n);
	if (first == r->npages)
		first = find_run(r, 0, n);
	if (first == r->npages)
		return -ENOMEM;
	mark(r, first, n, true);
	r->hint = first + n;
	out->gpa = r->t->ram_base + first * VG_PAGE_SIZE;
	out->size = (size_t)(n * VG_PAGE_SIZE);
	out->host = vg_ram_ptr(r->t, out->gpa, out->size);
	memset(out->host, 0, out->size);
	return 0;
}

void vg_ram_free(struct vg_ram *r, struct vg_mem *m)
{
	if (m->size) {
		uint64_t first = (m->gpa - r->t->ram_base) / VG_PAGE_SIZE;

		mark(r, first, m->size / VG_PAGE_SIZE, false);
		if (first < r->hint)
			r->hint = first;
	}
	memset(m, 0, sizeof(*m));
}
