/* SPDX-License-Identifier: MIT */
#include "fuzz_guest.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sanitizer/asan_interface.h>
#include <sys/mman.h>

#include "backends/vcam/vcam.h"
#include "protocol/media.h"
#include "vmedia/evloop.h"
#include "vmedia/media_device.h"
#include "vmedia/virtio_mmio.h"

#define SHM_PAGE 4096u

/* ---- SHM region 0 ------------------------------------------------------- */

/*
 * The protocol layer promises page-aligned, non-overlapping blocks inside
 * the region, each unmapped exactly once: an overlap would hand one
 * guest buffer's memory to another.
 */
static int fg_shm_map(void *ctx, uint64_t off, size_t len, void **host)
{
	struct fg_shm *s = ctx;

	if (off % SHM_PAGE || len == 0 || off > FG_SHM_SIZE ||
	    len > FG_SHM_SIZE - off)
		fg_fail("SHM map of [%#llx, +%#zx) outside the region",
			(unsigned long long)off, len);
	for (uint64_t p = off / SHM_PAGE;
	     p < (off + len + SHM_PAGE - 1) / SHM_PAGE; p++) {
		if (s->page_used[p])
			fg_fail("SHM map of [%#llx, +%#zx) overlaps a live "
				"block",
				(unsigned long long)off, len);
		s->page_used[p] = 1;
	}
	s->live++;
	*host = s->mem + off;
	/* Only live blocks may be touched: the rest is poisoned for ASan. */
	ASAN_UNPOISON_MEMORY_REGION(*host, len);
	return 0;
}

static void fg_shm_unmap(void *ctx, uint64_t off, size_t len, void *host)
{
	struct fg_shm *s = ctx;

	if (host != s->mem + off || off > FG_SHM_SIZE ||
	    len > FG_SHM_SIZE - off)
		fg_fail("SHM unmap of [%#llx, +%#zx) not as mapped",
			(unsigned long long)off, len);
	for (uint64_t p = off / SHM_PAGE;
	     p < (off + len + SHM_PAGE - 1) / SHM_PAGE; p++) {
		if (!s->page_used[p])
			fg_fail("SHM unmap of [%#llx, +%#zx): page %#llx not "
				"mapped",
				(unsigned long long)off, len,
				(unsigned long long)p);
		s->page_used[p] = 0;
	}
	s->live--;
	ASAN_POISON_MEMORY_REGION(host, len);
	/* Scrub, as the transports must: the next block starts zeroed. */
	madvise(s->mem + off, len, MADV_DONTNEED);
}

static const struct shm_region_ops fg_shm_ops = {
	.map = fg_shm_map,
	.unmap = fg_shm_unmap,
};

/* ---- the environment ---------------------------------------------------- */

static void env_make(struct fg_env *e)
{
	void *shm = mmap(NULL, FG_SHM_SIZE, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	if (shm == MAP_FAILED)
		fg_fail("cannot make the SHM region: %s", strerror(errno));
	fg_mem_init(&e->mem, FG_RAM_BASE, FG_RAM_SIZE);
	e->shm.mem = shm;
	ASAN_POISON_MEMORY_REGION(shm, FG_SHM_SIZE);
	e->shm.page_used = calloc(FG_SHM_SIZE / SHM_PAGE, 1);
	if (!e->shm.page_used)
		fg_fail("out of memory");
	e->shm.region = (struct shm_region){ .ops = &fg_shm_ops,
					     .ctx = &e->shm,
					     .base = FG_SHM_BASE,
					     .size = FG_SHM_SIZE };
	fake_irq_init(&e->irq);
	fg_log_init();
}

struct fg_env *fg_env(void)
{
	static struct fg_env env;
	static bool made;

	if (!made) {
		env_make(&env);
		made = true;
	}
	return &env;
}

void fg_env_reset(struct fg_env *e)
{
	fg_mem_reset(&e->mem);
	madvise(e->shm.mem, FG_SHM_SIZE, MADV_DONTNEED);
	memset(e->shm.page_used, 0, FG_SHM_SIZE / SHM_PAGE);
	e->shm.live = 0;
	fake_irq_take(&e->irq);
}

void fg_env_check_clean(struct fg_env *e)
{
	fg_mem_check_clean(&e->mem);
	if (e->shm.live)
		fg_fail("after teardown: %u SHM blocks still mapped",
			e->shm.live);
}

/* ---- the device --------------------------------------------------------- */

void fg_media_create(struct fg_media *g, struct fg_env *e, unsigned flags)
{
	char err[256] = "";
	struct media_device_params p = {
		.backend = &vcam_backend_class,
		/* unpaced: frames come from fg_media_pump(), not a clock */
		.backend_args =
			flags & FG_DEV_MPLANE ? "mplane,unpaced" : "unpaced",
		.mem = &e->mem.gmem,
		.irq = &e->irq.line,
		.shm = flags & FG_DEV_NO_SHM ? NULL : &e->shm.region,
		.domid = 1,
		.err = err,
		.err_len = sizeof(err),
	};

	if (flags & FG_DEV_TIGHT)
		p.limits = (struct media_limits){ .max_sessions = 2,
						  .max_events = 4,
						  .max_userptr_bytes = 256u
								       << 10 };
	memset(g, 0, sizeof(*g));
	g->env = e;
	g->loop = evloop_create();
	if (!g->loop)
		fg_fail("evloop_create: %s", strerror(errno));
	p.loop = g->loop;
	g->md = media_device_create(&p);
	if (!g->md)
		fg_fail("media_device_create: %s (%s)", strerror(errno), err);
	g->vm = media_device_mmio(g->md);
}

void fg_media_destroy(struct fg_media *g)
{
	media_device_destroy(g->md);
	evloop_destroy(g->loop);
	g->md = NULL;
	g->loop = NULL;
	g->vm = NULL;
}

void fg_media_pump(struct fg_media *g, unsigned n)
{
	struct vcam_dev *dev = g->md->backend_dev;

	fg_mem_guard(&g->env->mem, true);
	for (unsigned i = 0; i < n && dev->kick_pending; i++)
		dev->kick_src.fn(dev->kick_src.ctx, EPOLLIN);
	fg_mem_guard(&g->env->mem, false);
}

static unsigned session_maps(struct vmedia_session *s, uint64_t *bytes)
{
	unsigned n = 0;

	for (unsigned q = 0; q < SESSION_QUEUES; q++) {
		for (unsigned i = 0; i < SESSION_MAX_BUFFERS; i++) {
			const struct userptr_map *m = s->queue[q].userptr[i];

			if (!m)
				continue;
			n += m->n_segs;
			for (unsigned k = 0; k < m->n_segs; k++)
				*bytes += m->maps[k].len;
		}
	}
	return n;
}

unsigned fg_media_expected_maps(struct fg_media *g)
{
	struct media_device *md = g->md;
	uint64_t bytes = 0;
	unsigned n = 0;

	for (unsigned q = 0; q < VIRTIO_MEDIA_NUM_QUEUES; q++)
		if (virtio_mmio_queue(g->vm, q))
			n += 3;
	for (struct vmedia_session *s = md->sessions; s; s = s->next)
		n += session_maps(s, &bytes);
	if (bytes != md->userptr_bytes)
		fg_fail("USERPTR accounting: %llu bytes mapped, device "
			"counts %llu",
			(unsigned long long)bytes,
			(unsigned long long)md->userptr_bytes);
	return n;
}

static void check_shm_blocks(struct fg_media *g)
{
	const struct shm_block *b;
	uint64_t end = 0;
	unsigned n = 0;

	for (b = g->md->blocks; b; b = b->next, n++) {
		if (b->offset < end)
			fg_fail("SHM blocks out of order or overlapping at "
				"%#llx",
				(unsigned long long)b->offset);
		end = b->offset + b->len;
	}
	if (n != g->env->shm.live)
		fg_fail("SHM: device lists %u blocks, %u are mapped", n,
			g->env->shm.live);
}

void fg_media_check_maps(struct fg_media *g)
{
	struct fake_mem *fm = &g->env->mem.fm;
	unsigned want = fg_media_expected_maps(g);

	if (fm->live != want)
		fg_fail("guest mappings: %u live, %u expected (rings and "
			"queued USERPTR buffers)",
			fm->live, want);
	if (fm->bad_unmaps || fm->contract_violations)
		fg_fail("%u bad unmaps, %u gmem contract violations",
			fm->bad_unmaps, fm->contract_violations);
	check_shm_blocks(g);
}
