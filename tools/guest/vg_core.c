/* SPDX-License-Identifier: MIT */
/*
 * The guest core's lifetime and its machinery: the one lock, sleeping
 * with it dropped, the event pump (virtio_media_process_events) and poll
 * (virtio_media_device_poll). See vg_core_priv.h for the file map.
 *
 * Who takes the device's interrupt: whoever holds the lock. A command
 * waits for its answer on the interrupt (vg_vring_call), and may so take
 * an interrupt that announced an event; every path that can take one
 * therefore ends with vg_core_pump(), which reaps the event queue and
 * wakes the sleepers when anything arrived. Sleepers poll the interrupt
 * fd themselves, so an interrupt nobody took still wakes them.
 */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vg_core_priv.h"

#define SLICE_MS 10 /* only without an interrupt fd */

/* Every core, so that a fork can fence them all. */
static pthread_mutex_t all_lock = PTHREAD_MUTEX_INITIALIZER;
static struct vg_core *all_cores;
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;
static volatile bool forked;

bool vg_core_forked(void)
{
	return forked;
}

void vg_core_lock(struct vg_core *c)
{
	pthread_mutex_lock(c->lock);
}

void vg_core_unlock(struct vg_core *c)
{
	pthread_mutex_unlock(c->lock);
}

void vg_core_warn(const struct vg_core *c, const char *fmt, ...)
{
	va_list ap;

	if (!c->verbose)
		return;
	va_start(ap, fmt);
	fprintf(stderr, "vmedia-guest: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
}

/* ---- fork: the child must not drive the parent's virtqueues ---- */

/* Each distinct lock once: cores of one transport share theirs. */
static void for_each_lock(void (*fn)(pthread_mutex_t *))
{
	for (struct vg_core *c = all_cores; c; c = c->next_all) {
		bool seen = false;

		for (struct vg_core *d = all_cores; d != c; d = d->next_all)
			seen |= d->lock == c->lock;
		if (!seen)
			fn(c->lock);
	}
}

static void lock_one(pthread_mutex_t *l)
{
	pthread_mutex_lock(l);
}

static void unlock_one(pthread_mutex_t *l)
{
	pthread_mutex_unlock(l);
}

/* Fork with no core mid-command, so the child's copies are consistent. */
static void atfork_prepare(void)
{
	pthread_mutex_lock(&all_lock);
	for_each_lock(lock_one);
}

static void atfork_parent(void)
{
	for_each_lock(unlock_one);
	pthread_mutex_unlock(&all_lock);
}

static void atfork_child(void)
{
	forked = true;
	atfork_parent();
}

static void register_atfork(void)
{
	pthread_atfork(atfork_prepare, atfork_parent, atfork_child);
}

/* ---- waiting ---- */

int vg_core_irq_fd(const struct vg_core *c)
{
	return c->irq_fd;
}

static void arm_locked(struct vg_core *c, struct vg_core_wait *w, int efd)
{
	w->core = c;
	w->efd = efd;
	w->next = c->waiters;
	c->waiters = w;
	w->armed = true;
}

static void disarm_locked(struct vg_core_wait *w)
{
	struct vg_core_wait **pp = &w->core->waiters;

	if (!w->armed)
		return;
	while (*pp && *pp != w)
		pp = &(*pp)->next;
	if (*pp)
		*pp = w->next;
	w->armed = false;
}

void vg_core_wait_arm(struct vg_core *c, struct vg_core_wait *w, int efd)
{
	vg_core_lock(c);
	arm_locked(c, w, efd);
	vg_core_unlock(c);
}

void vg_core_wait_disarm(struct vg_core_wait *w)
{
	struct vg_core *c = w->core;

	if (!c)
		return;
	vg_core_lock(c);
	disarm_locked(w);
	vg_core_unlock(c);
}

void vg_core_wake(struct vg_core *c)
{
	uint64_t one = 1;

	for (struct vg_core_wait *w = c->waiters; w; w = w->next) {
		/* A full counter still polls readable: nothing is lost. */
		if (write(w->efd, &one, sizeof(one)) < 0 && errno != EAGAIN)
			vg_core_warn(c, "cannot wake a waiter: %s",
				     strerror(errno));
	}
}

static void drain(int efd)
{
	uint64_t v;

	while (read(efd, &v, sizeof(v)) == sizeof(v))
		;
}

/* A thread cancelled in its sleep must not stay on the list. */
static void wait_cleanup(void *arg)
{
	struct vg_core_wait *w = arg;

	vg_core_wait_disarm(w);
}

/* Sleep, unlocked, on the interrupt and our eventfd: 0 or -EINTR. */
static int sleep_unlocked(struct vg_core *c, struct vg_core_wait *w)
{
	struct pollfd pfd[2] = { { .fd = w->efd, .events = POLLIN },
				 { .fd = c->irq_fd, .events = POLLIN } };
	/* volatile: cancellation unwinds through a setjmp in C */
	volatile int err = 0;

	pthread_cleanup_push(wait_cleanup, w);
	if (poll(pfd, c->irq_fd >= 0 ? 2 : 1, c->irq_fd >= 0 ? -1 : SLICE_MS) <
	    0)
		err = -errno;
	pthread_cleanup_pop(0);
	return err;
}

int vg_core_wait_until(struct vg_core *c, bool (*ready)(void *), void *arg)
{
	struct vg_core_wait w = { 0 };
	int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	int r = 0;

	if (efd < 0)
		return -errno;
	for (;;) {
		vg_core_pump(c);
		if (c->broken || forked) {
			r = -EIO;
			break;
		}
		if (ready(arg))
			break;
		arm_locked(c, &w, efd);
		vg_core_unlock(c);
		r = sleep_unlocked(c, &w);
		vg_core_lock(c);
		disarm_locked(&w);
		drain(efd);
		if (r < 0)
			break;
	}
	close(efd);
	return r;
}

int vg_core_check(struct vg_core *c, int r)
{
	int err = c->m->run_err;

	c->m->run_err = 0;
	return err ? vg_core_fail(c, err) : r;
}

int vg_core_fail(struct vg_core *c, int err)
{
	if (!c->broken)
		vg_core_warn(c, "transport failed (%s): device disabled",
			     strerror(-err));
	c->broken = true;
	vg_core_wake(c);
	return -EIO;
}

/* ---- events (virtio_media_process_events) ---- */

static struct vg_file *find_session(struct vg_core *c, uint32_t id)
{
	for (struct vg_file *f = c->files; f; f = f->next) {
		if (f->session == id && !f->dead)
			return f;
	}
	return NULL;
}

/*
 * EVT_ERROR: the driver logs it and closes the session (CLOSE, then frees
 * it while the file stays open). We keep the file, mark it dead and make
 * everything that needs the session fail.
 */
static void session_error(struct vg_file *f, uint32_t err)
{
	struct vg_core *c = f->c;

	vg_core_warn(c, "device reported error %u for session %u", err,
		     f->session);
	f->dead = true;
	vg_buf_release(f);
	vg_core_check(c, vg_media_close(c->m, f->session));
}

static void dispatch(struct vg_core *c, const struct vg_media_event *ev)
{
	const struct virtio_media_event_header *h = &ev->u.hdr;
	struct vg_file *f;

	if (ev->len < sizeof(*h)) {
		vg_core_warn(c, "event too short (%u bytes)", ev->len);
		return;
	}
	f = find_session(c, h->session_id);
	if (!f) {
		vg_core_warn(c, "event %u for unknown session %u", h->event,
			     h->session_id);
		return;
	}
	if (h->event == VIRTIO_MEDIA_EVT_ERROR &&
	    ev->len >= sizeof(ev->u.error))
		session_error(f, ev->u.error.errno_value);
	else if (h->event == VIRTIO_MEDIA_EVT_DQBUF &&
		 ev->len >= VIRTIO_MEDIA_EVENT_MAX_SIZE)
		vg_buf_event(f, &ev->u.dqbuf.b, ev->u.dqbuf.planes);
	else if (h->event == VIRTIO_MEDIA_EVT_EVENT &&
		 ev->len >= sizeof(ev->u.event))
		vg_event_queue(f, &ev->u.event.ev);
	else
		vg_core_warn(c, "bad event %u (%u bytes)", h->event, ev->len);
}

void vg_core_pump(struct vg_core *c)
{
	struct vg_media_event ev;
	bool any = false;
	int r;

	if (c->broken || forked)
		return;
	/* Take the interrupt first: one raised after this still shows. */
	r = vg_virtio_wait_irq(&c->m->dev, 0, NULL);
	while (r >= 0 && (r = vg_media_next_event(c->m, 0, &ev)) == 1) {
		dispatch(c, &ev);
		any = true;
	}
	if (r < 0)
		vg_core_fail(c, r);
	if (any)
		vg_core_wake(c);
}

/* ---- poll (virtio_media_device_poll) ---- */

static unsigned poll_mask(const struct vg_file *f, unsigned req)
{
	uint32_t ct = f->uses_mplane ? V4L2_BUF_TYPE_VIDEO_CAPTURE_MPLANE
				     : V4L2_BUF_TYPE_VIDEO_CAPTURE;
	uint32_t ot = f->uses_mplane ? V4L2_BUF_TYPE_VIDEO_OUTPUT_MPLANE
				     : V4L2_BUF_TYPE_VIDEO_OUTPUT;
	const struct vg_queue *cq = &f->q[ct], *oq = &f->q[ot];
	unsigned rc = 0;

	if (req & (EPOLLIN | EPOLLRDNORM)) {
		if (!cq->streaming || (cq->queued == 0 && cq->head == VG_NONE))
			rc |= EPOLLERR;
		else if (cq->head != VG_NONE)
			rc |= EPOLLIN | EPOLLRDNORM;
	}
	if (req & (EPOLLOUT | EPOLLWRNORM)) {
		if (!oq->streaming)
			rc |= EPOLLERR;
		else if (oq->queued < oq->allocated)
			rc |= EPOLLOUT | EPOLLWRNORM;
	}
	if (f->navailable)
		rc |= EPOLLPRI;
	return rc;
}

unsigned vg_core_poll(struct vg_file *f, unsigned req)
{
	struct vg_core *c = f->c;
	unsigned rc;

	vg_core_lock(c);
	vg_core_pump(c);
	rc = c->broken || forked || f->dead ? EPOLLERR : poll_mask(f, req);
	vg_core_unlock(c);
	return rc;
}

/* ---- priorities (v4l2_prio_*) ---- */

uint32_t vg_core_prio_max(const struct vg_core *c)
{
	for (uint32_t p = V4L2_PRIORITY_RECORD; p > V4L2_PRIORITY_UNSET; p--) {
		if (c->prios[p])
			return p;
	}
	return V4L2_PRIORITY_UNSET;
}

/* ---- lifetime ---- */

/* The driver's probe: vfl_dir from the caps, with its OUTPUT_MPLANE slip. */
static void probe_dir(struct vg_core *c)
{
	uint32_t caps = c->device_caps;

	/*
	 * Linux tests V4L2_BUF_TYPE_VIDEO_OUTPUT_MPLANE (10) where it means
	 * the capability, i.e. VIDEO_OUTPUT | VIDEO_OVERLAY: kept as is.
	 */
	if (caps & (V4L2_CAP_VIDEO_M2M | V4L2_CAP_VIDEO_M2M_MPLANE))
		c->is_rx = c->is_tx = true;
	else if (caps &
		 (V4L2_CAP_VIDEO_OUTPUT | V4L2_BUF_TYPE_VIDEO_OUTPUT_MPLANE))
		c->is_tx = true;
	else
		c->is_rx = true;
}

int vg_core_create(struct vg_media *m, const struct vg_core_opts *o,
		   struct vg_core **out)
{
	const struct vg_device *d = &m->dev.t->dev[m->dev.index];
	struct vg_core *c;

	/* video_register_device() refuses other node types. */
	if (m->config.device_type > 5)
		return -ENODEV;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	pthread_mutex_init(&c->own_lock, NULL);
	c->lock = o && o->lock ? o->lock : &c->own_lock;
	c->m = m;
	snprintf(c->driver, sizeof(c->driver), "%s",
		 o && o->driver_name ? o->driver_name : "virtio-media");
	c->version = o && o->kernel_version ? o->kernel_version
					    : VG_CORE_DEFAULT_KERNEL;
	c->allow_userptr = o && o->allow_userptr;
	c->verbose = o && o->verbose;
	c->device_caps = m->config.device_caps;
	c->vfl_type = m->config.device_type;
	c->irq_fd = d->irq_fd;
	c->shm_fd = d->shm_fd;
	c->shm_fd_offset = d->shm_fd_offset;
	c->sys_mmap = o && o->sys_mmap ? o->sys_mmap : mmap;
	c->sys_munmap = o && o->sys_munmap ? o->sys_munmap : munmap;
	probe_dir(c);
	vg_core_init_valid(c);
	pthread_once(&atfork_once, register_atfork);
	pthread_mutex_lock(&all_lock);
	c->next_all = all_cores;
	all_cores = c;
	pthread_mutex_unlock(&all_lock);
	*out = c;
	return 0;
}

void vg_core_destroy(struct vg_core *c)
{
	struct vg_core **pp;

	if (!c)
		return;
	while (c->files)
		vg_core_close(c->files);
	pthread_mutex_lock(&all_lock);
	for (pp = &all_cores; *pp && *pp != c; pp = &(*pp)->next_all)
		;
	if (*pp)
		*pp = c->next_all;
	pthread_mutex_unlock(&all_lock);
	free(c->maps);
	pthread_mutex_destroy(&c->own_lock);
	free(c);
}

struct vg_core *vg_core_of(const struct vg_file *f)
{
	return f->c;
}

static struct vg_file *file_new(struct vg_core *c, uint32_t session)
{
	struct vg_file *f = calloc(1, sizeof(*f));

	if (!f)
		return NULL;
	f->c = c;
	f->session = session;
	f->prio = V4L2_PRIORITY_DEFAULT; /* v4l2_prio_open() */
	c->prios[f->prio]++;
	f->sequence = UINT32_MAX; /* v4l2_fh_init(): -1 */
	for (unsigned i = 0; i < VG_NUM_QUEUES; i++)
		f->q[i].head = f->q[i].tail = VG_NONE;
	f->next = c->files;
	if (c->files)
		c->files->prev = f;
	c->files = f;
	return f;
}

int vg_core_open(struct vg_core *c, struct vg_file **out)
{
	uint32_t session;
	int r;

	vg_core_lock(c);
	if (c->broken || forked) {
		vg_core_unlock(c);
		return -EIO;
	}
	r = vg_core_check(c, vg_media_open(c->m, &session));
	if (r == 0) {
		*out = file_new(c, session);
		if (!*out) {
			vg_media_close(c->m, session);
			r = -ENOMEM;
		}
	}
	vg_core_pump(c);
	vg_core_unlock(c);
	return r;
}

void vg_core_close(struct vg_file *f)
{
	struct vg_core *c = f->c;

	vg_core_lock(c);
	/* A dead session was closed already; a forked child's is not ours. */
	if (!f->dead && !c->broken && !forked)
		vg_core_check(c, vg_media_close(c->m, f->session));
	f->dead = true;
	vg_buf_release(f);
	vg_event_release(f);
	if (f->prio <= V4L2_PRIORITY_RECORD && c->prios[f->prio])
		c->prios[f->prio]--; /* v4l2_prio_close() */
	if (f->prev)
		f->prev->next = f->next;
	else
		c->files = f->next;
	if (f->next)
		f->next->prev = f->prev;
	vg_core_pump(c);
	vg_core_wake(c);
	vg_core_unlock(c);
	free(f);
}
