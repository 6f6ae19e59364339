/* SPDX-License-Identifier: MIT */
#include "fakes/fake_mem.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

struct fake_mapping {
	struct fake_mapping *next;
	uint64_t addr;
	size_t len;
	unsigned access;
	void *ptr;
};

bool fake_mem_contains(const struct fake_mem *fm, uint64_t addr, size_t len)
{
	uint64_t end = fm->base + fm->size; /* cannot wrap: checked at init */

	if (addr < fm->base || addr > end)
		return false;
	return (uint64_t)len <= end - addr;
}

static int fake_map(void *ctx, uint64_t addr, size_t len, unsigned access,
		    struct gmem_map *out)
{
	struct fake_mem *fm = ctx;
	struct fake_mapping *m;

	fm->map_calls++;
	if (fm->fail_at && fm->map_calls == fm->fail_at) {
		fm->fail_at = 0;
		return fm->fail_errno;
	}
	if (len == 0 || access == 0 ||
	    (access & ~(unsigned)(GMEM_READ | GMEM_WRITE))) {
		fm->contract_violations++;
		fprintf(stderr,
			"# fake_mem: map contract broken: addr 0x%llx len %zu "
			"access %u\n",
			(unsigned long long)addr, len, access);
		return -EINVAL;
	}
	/* addr + len wrapping, or any byte outside RAM */
	if (addr + (uint64_t)len < addr || !fake_mem_contains(fm, addr, len)) {
		fm->efaults++;
		return -EFAULT;
	}
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->addr = addr;
	m->len = len;
	m->access = access;
	m->ptr = fm->ram + (addr - fm->base);
	m->next = fm->maps;
	fm->maps = m;
	fm->live++;
	fm->maps_ok++;
	out->ptr = m->ptr;
	out->len = len;
	out->priv = m;
	return 0;
}

static void fake_unmap(void *ctx, struct gmem_map *gm)
{
	struct fake_mem *fm = ctx;
	struct fake_mapping **pp, *m;

	for (pp = &fm->maps; *pp; pp = &(*pp)->next) {
		if (*pp == gm->priv)
			break;
	}
	m = *pp;
	if (!m || m->ptr != gm->ptr || m->len != gm->len) {
		fm->bad_unmaps++;
		fprintf(stderr, "# fake_mem: unmap of unknown mapping %p\n",
			gm->priv);
		return;
	}
	if (fm->on_unmap)
		fm->on_unmap(fm, m->addr, m->len, m->access);
	*pp = m->next;
	free(m);
	fm->live--;
	fm->unmaps++;
}

static const struct gmem_ops fake_mem_ops = {
	.map = fake_map,
	.unmap = fake_unmap,
};

int fake_mem_init(struct fake_mem *fm, uint64_t base, size_t size)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t rounded;
	void *p;

	memset(fm, 0, sizeof(*fm));
	if (size == 0 || base + (uint64_t)size < base)
		return -EINVAL;
	rounded = (size + page - 1) / page * page;
	fm->region_size = rounded + 2 * page;
	p = mmap(NULL, fm->region_size, PROT_NONE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return -errno;
	/*
	 * RAM ends exactly at the upper guard page so that an access one byte
	 * past the end faults (when size is a multiple of the page size).
	 */
	if (mprotect((char *)p + page, rounded, PROT_READ | PROT_WRITE)) {
		int err = -errno;

		munmap(p, fm->region_size);
		return err;
	}
	fm->region = p;
	fm->ram = (uint8_t *)p + page;
	fm->base = base;
	fm->size = size;
	fm->gmem.ops = &fake_mem_ops;
	fm->gmem.ctx = fm;
	return 0;
}

void fake_mem_fini(struct fake_mem *fm)
{
	struct fake_mapping *m = fm->maps, *next;

	while (m) {
		next = m->next;
		free(m);
		m = next;
	}
	fm->maps = NULL;
	if (fm->region)
		munmap(fm->region, fm->region_size);
	fm->region = NULL;
	fm->ram = NULL;
}

void *fake_mem_ptr(struct fake_mem *fm, uint64_t addr, size_t len)
{
	if (!fake_mem_contains(fm, addr, len))
		return NULL;
	return fm->ram + (addr - fm->base);
}

static uint8_t *must_ptr(struct fake_mem *fm, uint64_t addr, size_t len)
{
	uint8_t *p = fake_mem_ptr(fm, addr, len);

	if (!p) {
		fprintf(stderr,
			"fake_mem: test bug: 0x%llx+%zu is outside RAM "
			"[0x%llx, +0x%zx)\n",
			(unsigned long long)addr, len,
			(unsigned long long)fm->base, fm->size);
		abort();
	}
	return p;
}

void fake_mem_write(struct fake_mem *fm, uint64_t addr, const void *src,
		    size_t len)
{
	memcpy(must_ptr(fm, addr, len), src, len);
}

void fake_mem_read(struct fake_mem *fm, uint64_t addr, void *dst, size_t len)
{
	memcpy(dst, must_ptr(fm, addr, len), len);
}

void fake_mem_fill(struct fake_mem *fm, uint64_t addr, int byte, size_t len)
{
	memset(must_ptr(fm, addr, len), byte, len);
}

void fake_mem_fail_nth(struct fake_mem *fm, unsigned nth, int err)
{
	fm->fail_at = nth ? fm->map_calls + nth : 0;
	fm->fail_errno = err;
}

void fake_mem_fail_clear(struct fake_mem *fm)
{
	fm->fail_at = 0;
	fm->fail_errno = 0;
}

unsigned fake_mem_live(const struct fake_mem *fm)
{
	return fm->live;
}

bool fake_mem_find_live(const struct fake_mem *fm, uint64_t addr, size_t *len,
			unsigned *access)
{
	const struct fake_mapping *m;

	for (m = fm->maps; m; m = m->next) {
		if (m->addr == addr) {
			if (len)
				*len = m->len;
			if (access)
				*access = m->access;
			return true;
		}
	}
	return false;
}

unsigned fake_mem_live_overlapping(const struct fake_mem *fm, uint64_t addr,
				   size_t len)
{
	const struct fake_mapping *m;
	unsigned n = 0;

	for (m = fm->maps; m; m = m->next) {
		if (m->addr < addr + len && addr < m->addr + m->len)
			n++;
	}
	return n;
}
