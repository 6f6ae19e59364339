/* SPDX-License-Identifier: MIT */
#include "fuzz_mem.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sanitizer/asan_interface.h>
#include <sys/mman.h>

#include "vmedia/log.h"

#define PAGE 4096u

/*
 * The guard runs several times per command: keep libFuzzer's comparison
 * tracing out of its loops, it only steers by the code under test.
 */
#ifdef __clang__
#define FG_HOT __attribute__((no_sanitize("coverage")))
#else
#define FG_HOT
#endif

void fg_log_init(void)
{
	const char *want = getenv("VMEDIA_FUZZ_LOG");
	enum vm_log_level level;

	/*
	 * Silent by default: a broken device logs once per input, and at
	 * thousands of inputs a second that is all a terminal would show.
	 * Below VM_LOG_ERR nothing passes the filter.
	 */
	if (want && vm_log_parse_level(want, &level))
		vm_log_set_level(level);
	else
		vm_log_set_level((enum vm_log_level) - 1);
}

/* ---- the guard ---------------------------------------------------------- */

static bool guarding(const struct fg_mem *m)
{
	return m->guard_depth > 0;
}

/* Poison [p, p + len) but for what live mappings cover. */
FG_HOT static void poison_unmapped(struct fg_mem *m, uint8_t *p, size_t len)
{
	ASAN_POISON_MEMORY_REGION(p, len);
	for (unsigned i = 0; i < m->n_live; i++) {
		const struct fg_live *l = &m->live[i];

		if (l->ptr < p + len && p < l->ptr + l->len)
			ASAN_UNPOISON_MEMORY_REGION(l->ptr, l->len);
	}
}

static size_t pages(const struct fg_mem *m)
{
	return (m->fm.size + PAGE - 1) / PAGE;
}

FG_HOT static void touch(struct fg_mem *m, const uint8_t *p, size_t len)
{
	size_t first = (size_t)(p - m->fm.ram) / PAGE;
	size_t last = (size_t)(p + len - 1 - m->fm.ram) / PAGE;

	first = first ? first - 1 : 0;
	last = last + 1 < pages(m) ? last + 1 : last;
	memset(m->touched + first, 1, last - first + 1);
}

/* (Un)poison the touched pages, in runs. */
FG_HOT static void mark_touched(struct fg_mem *m, bool poison)
{
	size_t n = pages(m), i = 0;

	while (i < n) {
		const uint8_t *next = memchr(m->touched + i, 1, n - i);
		size_t run;

		if (!next)
			return;
		i = (size_t)(next - m->touched);
		for (run = i; run < n && m->touched[run]; run++)
			;
		if (poison)
			ASAN_POISON_MEMORY_REGION(m->fm.ram + i * PAGE,
						  (run - i) * PAGE);
		else
			ASAN_UNPOISON_MEMORY_REGION(m->fm.ram + i * PAGE,
						    (run - i) * PAGE);
		i = run;
	}
}

FG_HOT void fg_mem_guard(struct fg_mem *m, bool on)
{
	if (on && m->guard_depth++ == 0) {
		mark_touched(m, true);
		for (unsigned i = 0; i < m->n_live; i++)
			ASAN_UNPOISON_MEMORY_REGION(m->live[i].ptr,
						    m->live[i].len);
	} else if (!on && --m->guard_depth == 0) {
		mark_touched(m, false);
	}
}

static void live_add(struct fg_mem *m, const struct gmem_map *gm)
{
	if (m->n_live == m->cap_live) {
		unsigned cap = m->cap_live ? m->cap_live * 2 : 64;
		struct fg_live *l = realloc(m->live, cap * sizeof(*l));

		if (!l)
			fg_fail("out of memory");
		m->live = l;
		m->cap_live = cap;
	}
	m->live[m->n_live++] = (struct fg_live){ gm->priv, gm->ptr, gm->len };
	touch(m, gm->ptr, gm->len);
	if (guarding(m))
		ASAN_UNPOISON_MEMORY_REGION(gm->ptr, gm->len);
}

static void live_remove(struct fg_mem *m, const struct gmem_map *gm)
{
	for (unsigned i = 0; i < m->n_live; i++) {
		if (m->live[i].priv != gm->priv)
			continue;
		m->live[i] = m->live[--m->n_live];
		if (guarding(m))
			poison_unmapped(m, gm->ptr, gm->len);
		return;
	}
}

/* ---- the second vCPU and the gmem --------------------------------------- */

static void tamper_now(struct fg_mem *m)
{
	uint32_t off = m->tamper_off % (m->fm.size - sizeof(m->tamper_bytes));
	uint8_t *p = m->fm.ram + off;

	/* The guest writes where it likes, mapped by the device or not. */
	ASAN_UNPOISON_MEMORY_REGION(p, m->tamper_len);
	memcpy(p, m->tamper_bytes, m->tamper_len);
	if (guarding(m) && m->tamper_len) {
		/* Touched, so that the guard's end unpoisons it again. */
		touch(m, p, m->tamper_len);
		poison_unmapped(m, p, m->tamper_len);
	}
	m->tamper_at = 0;
	m->tampered = true;
	/* It may have hit the driver's rings: stop trusting them. */
	m->tainted = true;
}

static int fg_map(void *ctx, uint64_t addr, size_t len, unsigned access,
		  struct gmem_map *out)
{
	struct fg_mem *m = ctx;
	int ret;

	if (++m->maps == m->tamper_at)
		tamper_now(m);
	if (access == (GMEM_READ | GMEM_WRITE) && addr < m->priv_hi &&
	    addr + len > m->priv_lo && addr != m->rw_ok[0] &&
	    addr != m->rw_ok[1])
		m->tainted = true;
	ret = m->fm.gmem.ops->map(m->fm.gmem.ctx, addr, len, access, out);
	if (ret == 0)
		live_add(m, out);
	return ret;
}

static void fg_unmap(void *ctx, struct gmem_map *gm)
{
	struct fg_mem *m = ctx;

	m->fm.gmem.ops->unmap(m->fm.gmem.ctx, gm);
	live_remove(m, gm);
}

static const struct gmem_ops fg_mem_ops = {
	.map = fg_map,
	.unmap = fg_unmap,
};

void fg_mem_init(struct fg_mem *m, uint64_t base, size_t size)
{
	memset(m, 0, sizeof(*m));
	if (fake_mem_init(&m->fm, base, size))
		fg_fail("cannot make %zu bytes of guest RAM: %s", size,
			strerror(errno));
	m->touched = calloc(pages(m), 1);
	if (!m->touched)
		fg_fail("out of memory");
	m->gmem = (struct gmem){ .ops = &fg_mem_ops, .ctx = m };
}

void fg_mem_reset(struct fg_mem *m)
{
	struct fake_mem *fm = &m->fm;

	/* Anonymous private pages read back as zeroes after DONTNEED. */
	madvise(fm->ram, fm->size, MADV_DONTNEED);
	fm->map_calls = fm->maps_ok = fm->unmaps = fm->efaults = 0;
	fake_mem_fail_clear(fm);
	m->maps = 0;
	m->tamper_at = 0;
	m->tampered = m->tainted = false;
	m->priv_lo = m->priv_hi = 0;
	m->rw_ok[0] = m->rw_ok[1] = 0;
	m->guard_depth = 0;
	m->n_live = 0;
	mark_touched(m, false);
	memset(m->touched, 0, pages(m));
}

void fg_mem_tamper(struct fg_mem *m, unsigned nth, uint32_t off,
		   const uint8_t *bytes, uint8_t len)
{
	if (len > sizeof(m->tamper_bytes))
		len = sizeof(m->tamper_bytes);
	m->tamper_at = nth ? m->maps + nth : 0;
	m->tamper_off = off;
	m->tamper_len = len;
	memcpy(m->tamper_bytes, bytes, len);
}

void fg_mem_check_clean(struct fg_mem *m)
{
	struct fake_mem *fm = &m->fm;

	if (fm->live || fm->bad_unmaps || fm->contract_violations)
		fg_fail("%u guest mappings live, %u bad unmaps, %u gmem "
			"contract violations",
			fm->live, fm->bad_unmaps, fm->contract_violations);
}
