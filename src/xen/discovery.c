/* SPDX-License-Identifier: MIT */
/*
 * Discovery: the xenstore side of the Xen transport, on the main thread.
 *
 * Every watch event is only a hint to look again: the directory named by
 * the event's path is re-read and each device in it reconciled with what
 * we know, so lost, repeated or spurious events (xenstored sends some)
 * cannot confuse the handshake. Each <domid>/<devid> is handled on its
 * own: libxl writes each device in its own transaction.
 */
#include "xen/discovery.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xen/xen_ops.h"

#define WATCH_ROOT    "backend/virtio"
#define TOKEN_BACKEND "vmedia:backend"
#define TOKEN_RELEASE "vmedia:release"
/* Entries of one directory listing looked at; the rest is ignored. */
#define DIR_MAX 4096u
/* Watch events taken per wakeup; the loop's other fds get their turn. */
#define WATCH_BATCH 256u
#define PATH_LEN    128u
#define TX_TRIES    8

/* ---- records ------------------------------------------------------------- */

bool xd_rec_active(const struct xrec *rec)
{
	return rec->phase == XREC_STARTING || rec->phase == XREC_SERVED;
}

unsigned xd_count_active(const struct xdom *d)
{
	unsigned n = 0;

	for (const struct xrec *r = d->recs; r; r = r->next)
		n += xd_rec_active(r);
	return n;
}

struct xrec *xd_find_rec(struct xdom *d, unsigned devid)
{
	for (struct xrec *r = d->recs; r; r = r->next)
		if (r->devid == devid)
			return r;
	return NULL;
}

void xd_free_rec(struct xdom *d, struct xrec *rec)
{
	struct xrec **pp = &d->recs;

	while (*pp && *pp != rec)
		pp = &(*pp)->next;
	if (*pp)
		*pp = rec->next;
	free(rec);
}

static struct xrec *new_rec(struct xdom *d, unsigned devid)
{
	struct xrec *rec = calloc(1, sizeof(*rec));

	if (!rec)
		return NULL;
	rec->devid = devid;
	rec->phase = XREC_IDLE;
	rec->next = d->recs;
	d->recs = rec;
	return rec;
}

/* ---- xenstore access ----------------------------------------------------- */

static char *read_key(struct xen_backend *b, uint32_t tx, unsigned domid,
		      unsigned devid, const char *key, size_t *len)
{
	char path[PATH_LEN];

	snprintf(path, sizeof(path), WATCH_ROOT "/%u/%u/%s", domid, devid, key);
	*len = 0;
	return b->ops->xs_read(b->xs, tx, path, len);
}

/* One attempt: 0, -ENOENT (no directory), -EAGAIN (retry) or -errno. */
static int write_state_tx(struct xen_backend *b, const char *path,
			  const char *value)
{
	uint32_t tx = b->ops->xs_tx_start(b->xs);
	size_t len;
	char *cur;
	int r;

	if (!tx)
		return errno ? -errno : -EIO;
	/* Never recreate a directory the toolstack has removed. */
	cur = b->ops->xs_read(b->xs, tx, path, &len);
	if (!cur) {
		b->ops->xs_tx_end(b->xs, tx, true);
		return -ENOENT;
	}
	free(cur);
	r = b->ops->xs_write(b->xs, tx, path, value);
	if (r < 0) {
		b->ops->xs_tx_end(b->xs, tx, true);
		return r;
	}
	return b->ops->xs_tx_end(b->xs, tx, false);
}

int xd_write_state(struct xen_backend *b, unsigned domid, unsigned devid,
		   unsigned state)
{
	char path[PATH_LEN], value[8];
	int r = -EAGAIN;

	snprintf(path, sizeof(path), WATCH_ROOT "/%u/%u/state", domid, devid);
	snprintf(value, sizeof(value), "%u", state);
	for (int i = 0; i < TX_TRIES && r == -EAGAIN; i++)
		r = write_state_tx(b, path, value);
	if (r < 0 && r != -ENOENT)
		vm_warn((int)domid, "device %u: cannot write state %u: %s",
			devid, state, strerror(-r));
	return r;
}

/* ---- one device ---------------------------------------------------------- */

/* Say once why a device stays unserved. */
static void VM_PRINTF(5, 6)
	idle_note(struct xrec *rec, enum vm_log_level lvl, unsigned domid,
		  unsigned devid, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	rec->phase = XREC_IDLE;
	if (rec->logged)
		return;
	rec->logged = true;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	vm_log(lvl, (int)domid, WATCH_ROOT "/%u/%u: %s", domid, devid, msg);
}

struct raw_keys {
	char *v[8];
	struct xs_dev_raw raw;
};

static void read_raw(struct xen_backend *b, unsigned domid, unsigned devid,
		     struct raw_keys *k)
{
	static const char *const names[8] = { "state",	     "online",
					      "type",	     "transport",
					      "frontend-id", "base",
					      "irq",	     "grant_usage" };
	struct xs_value *vals[8] = { &k->raw.state,	  &k->raw.online,
				     &k->raw.type,	  &k->raw.transport,
				     &k->raw.frontend_id, &k->raw.base,
				     &k->raw.irq,	  &k->raw.grant_usage };

	for (unsigned i = 0; i < 8; i++) {
		k->v[i] = read_key(b, 0, domid, devid, names[i], &vals[i]->len);
		vals[i]->v = k->v[i];
	}
}

static void free_raw(struct raw_keys *k)
{
	for (unsigned i = 0; i < 8; i++)
		free(k->v[i]);
}

static const char *pick_backend(struct xen_backend *b, struct xdom *d,
				unsigned devid)
{
	if (!b->cfg.backend_for)
		return b->default_backend;
	return b->cfg.backend_for(b->cfg.backend_ctx, (int)d->domid, d->name,
				  devid);
}

/* Why a device in `state` cannot be served, or NULL when it can. */
static const char *check_new(struct xen_backend *b, struct xdom *d,
			     struct xrec *rec, unsigned state,
			     enum vm_log_level *lvl, char *why, size_t why_len)
{
	struct raw_keys k = { 0 };
	enum xs_dev_verdict verdict;
	const char *bad = "";
	bool online = false;

	*lvl = VM_LOG_DEBUG;
	if (state != XS_STATE_INITIALISING) {
		snprintf(why, why_len,
			 "state %u: only a new device (state 1) is picked up",
			 state);
		return why;
	}
	read_raw(b, d->domid, rec->devid, &k);
	verdict = xs_parse_device(&k.raw, d->domid, &rec->cfg, &bad);
	if (verdict == XS_DEV_OK &&
	    xs_parse_bool(k.raw.online.v, k.raw.online.len, &online)) {
		verdict = XS_DEV_BAD;
		bad = "online is neither 0 nor 1";
	}
	free_raw(&k);
	if (verdict == XS_DEV_NOT_OURS)
		return "not a virtio-media mmio device; left alone";
	*lvl = VM_LOG_WARN;
	if (verdict == XS_DEV_BAD) {
		snprintf(why, why_len, "%s; ignoring this device", bad);
		return why;
	}
	*lvl = VM_LOG_INFO;
	return online ? NULL : "online is 0: not picked up";
}

/* A device not served yet, in `state`: pick it up if it is ours. */
static void consider_new(struct xen_backend *b, struct xdom *d,
			 struct xrec *rec, unsigned state)
{
	enum vm_log_level lvl;
	char buf[160];
	const char *why, *spec;

	why = check_new(b, d, rec, state, &lvl, buf, sizeof(buf));

	if (why) {
		idle_note(rec, lvl, d->domid, rec->devid, "%s", why);
		return;
	}
	if (d->stopping) {
		rec->phase = XREC_WAITING; /* picked up after the release */
		return;
	}
	spec = pick_backend(b, d, rec->devid);
	if (!spec) {
		idle_note(rec, VM_LOG_INFO, d->domid, rec->devid,
			  "no backend configured for domain '%s'; left alone",
			  d->name);
		return;
	}
	if (xb_serve(b, d, rec, spec) < 0 && rec->phase == XREC_IDLE)
		rec->logged = true; /* xb_serve said why */
}

/* Still served: does the toolstack want it closed? */
static void check_closing(struct xen_backend *b, struct xdom *d,
			  struct xrec *rec, unsigned state)
{
	bool online = true;
	size_t len;
	char *v = read_key(b, 0, d->domid, rec->devid, "online", &len);

	/* online gone means offline; garbled or unreadable changes nothing. */
	if (!v)
		online = errno != ENOENT;
	else if (xs_parse_bool(v, len, &online))
		online = true;
	free(v);
	if (!online || state == XS_STATE_CLOSING || state == XS_STATE_CLOSED) {
		vm_info((int)d->domid, "device %u: %s; tearing it down",
			rec->devid, online ? "closing" : "offline");
		xb_unserve(b, d, rec);
	}
}

/* The device's directory disappeared. */
static void rec_gone(struct xen_backend *b, struct xdom *d, struct xrec *rec)
{
	rec->gone = true;
	if (xd_rec_active(rec)) {
		vm_info((int)d->domid, "device %u: removed; tearing it down",
			rec->devid);
		xb_unserve(b, d, rec);
	} else if (rec->phase != XREC_CLOSING) {
		xd_free_rec(d, rec);
	}
}

static void reconcile(struct xen_backend *b, unsigned domid, unsigned devid)
{
	struct xdom *d = xb_find_dom(b, domid);
	struct xrec *rec = d ? xd_find_rec(d, devid) : NULL;
	unsigned state = 0;
	size_t len;
	char *v = read_key(b, 0, domid, devid, "state", &len);

	if (!v) {
		/* Only ENOENT says "removed"; any other failure says nothing.
		 */
		if (rec && errno == ENOENT)
			rec_gone(b, d, rec);
		return;
	}
	/* A garbled state is state 0 (Unknown): never "new", never "close". */
	if (xs_parse_dec(v, len, 0, 255, &state))
		state = 0;
	free(v);
	if (!rec) {
		d = xb_get_dom(b, domid);
		rec = d ? new_rec(d, devid) : NULL;
		if (!rec)
			return;
	}
	switch (rec->phase) {
	case XREC_STARTING:
	case XREC_SERVED:
		check_closing(b, d, rec, state);
		return;
	case XREC_CLOSING:
		return;
	case XREC_CLOSED:
		/* The toolstack set the same device up again. */
		if (state != XS_STATE_INITIALISING)
			return;
		rec->logged = false;
		break;
	case XREC_IDLE:
	case XREC_WAITING:
		break;
	}
	consider_new(b, d, rec, state);
}

/* ---- directories --------------------------------------------------------- */

/*
 * Decimal entries of a listing, in order; *n of them. NULL when the
 * directory is absent (*gone) or could not be read (then nothing may be
 * taken for removed).
 */
static unsigned *list_ids(struct xen_backend *b, const char *path, unsigned max,
			  unsigned *n, bool *gone)
{
	unsigned num = 0, *ids;
	char **dir = b->ops->xs_directory(b->xs, 0, path, &num);

	*n = 0;
	*gone = !dir && errno == ENOENT;
	if (!dir) {
		if (!*gone && vm_ratelimit_ok(&b->rl))
			vm_warn(VM_NO_DOM, "cannot list %s: %s", path,
				strerror(errno));
		return NULL;
	}
	if (num > DIR_MAX) {
		if (vm_ratelimit_ok(&b->rl))
			vm_warn(VM_NO_DOM, "%s has %u entries; looking at %u",
				path, num, DIR_MAX);
		num = DIR_MAX;
	}
	ids = calloc(num ? num : 1, sizeof(*ids));
	for (unsigned i = 0; ids && i < num; i++)
		if (!xs_parse_dec(dir[i], strlen(dir[i]), 0, max, &ids[*n]))
			(*n)++;
	free(dir);
	return ids;
}

static bool has_id(const unsigned *ids, unsigned n, unsigned id)
{
	for (unsigned i = 0; i < n; i++)
		if (ids[i] == id)
			return true;
	return false;
}

void xd_rescan_domain(struct xen_backend *b, unsigned domid)
{
	char path[PATH_LEN];
	unsigned n, *ids;
	struct xdom *d;
	bool gone;

	snprintf(path, sizeof(path), WATCH_ROOT "/%u", domid);
	ids = list_ids(b, path, XS_DEVID_MAX, &n, &gone);
	if (!ids && !gone)
		return; /* unreadable: take nothing for removed */
	for (unsigned i = 0; i < n; i++)
		reconcile(b, domid, ids[i]);
	d = xb_find_dom(b, domid);
	/* Devices we know whose directories are no longer listed. */
	for (struct xrec *r = d ? d->recs : NULL, *next; r; r = next) {
		next = r->next;
		if (!has_id(ids, n, r->devid))
			rec_gone(b, d, r);
	}
	free(ids);
	if (d)
		xb_gc_dom(b, d);
}

void xd_rescan_all(struct xen_backend *b)
{
	unsigned n, nknown = 0, *ids, *known;
	struct xdom *d;
	bool gone;

	ids = list_ids(b, WATCH_ROOT, XS_DOMID_MAX, &n, &gone);
	if (!ids && !gone)
		return;
	for (unsigned i = 0; i < n; i++)
		xd_rescan_domain(b, ids[i]);
	/* Domains we know that are no longer listed: look at each again. */
	for (d = b->doms; d; d = d->next)
		nknown++;
	known = calloc(nknown ? nknown : 1, sizeof(*known));
	nknown = 0;
	for (d = b->doms; known && d; d = d->next)
		if (!has_id(ids, n, d->domid))
			known[nknown++] = d->domid;
	for (unsigned i = 0; i < nknown; i++)
		xd_rescan_domain(b, known[i]);
	free(known);
	free(ids);
}

/* @releaseDomain: some domain died; tear down the ones we serve. */
static void check_domains(struct xen_backend *b)
{
	struct xdom *d = b->doms, *next;

	for (; d; d = next) {
		int alive = b->ops->xs_domain_alive(b->xs, d->domid);

		next = d->next;
		if (alive != 0)
			continue; /* alive, or unknown: never guess "dead" */
		vm_info((int)d->domid, "domain is gone; tearing it down");
		for (struct xrec *r = d->recs, *rn; r; r = rn) {
			rn = r->next;
			if (xd_rec_active(r))
				r->phase = XREC_CLOSING;
			else if (r->phase != XREC_CLOSING)
				xd_free_rec(d, r);
		}
		if (d->xg && !d->stopping)
			xb_stop_guest(b, d);
		xb_gc_dom(b, d);
	}
}

/* ---- watches ------------------------------------------------------------- */

int xd_watch(struct xen_backend *b)
{
	int r = b->ops->xs_watch(b->xs, WATCH_ROOT, TOKEN_BACKEND);

	if (r == 0)
		r = b->ops->xs_watch(b->xs, "@releaseDomain", TOKEN_RELEASE);
	return r;
}

void xd_unwatch(struct xen_backend *b)
{
	b->ops->xs_unwatch(b->xs, WATCH_ROOT, TOKEN_BACKEND);
	b->ops->xs_unwatch(b->xs, "@releaseDomain", TOKEN_RELEASE);
}

/* What one wakeup has to look at again, once every event is taken. */
#define TODO_MAX 64u

struct todo {
	bool all, domains;
	unsigned ndoms, ndevs;
	unsigned dom[TODO_MAX];
	struct xs_path dev[TODO_MAX];
};

static void note_domain(struct todo *t, unsigned domid)
{
	if (has_id(t->dom, t->ndoms, domid))
		return;
	if (t->ndoms == TODO_MAX)
		t->all = true;
	else
		t->dom[t->ndoms++] = domid;
}

static void note_device(struct todo *t, const struct xs_path *p)
{
	for (unsigned i = 0; i < t->ndevs; i++)
		if (t->dev[i].domid == p->domid && t->dev[i].devid == p->devid)
			return;
	if (t->ndevs == TODO_MAX)
		t->all = true;
	else
		t->dev[t->ndevs++] = *p;
}

static void note_event(struct todo *t, const char *path)
{
	struct xs_path p;

	xs_parse_event_path(path, &p);
	if (p.kind == XS_PATH_ROOT)
		t->all = true;
	else if (p.kind == XS_PATH_DOMAIN)
		note_domain(t, p.domid);
	else if (p.kind == XS_PATH_DEVICE)
		note_device(t, &p);
}

/*
 * Reads happen after the events are drained, so they see every write
 * that caused one; a write after that wakes the loop again.
 */
static void run_todo(struct xen_backend *b, const struct todo *t)
{
	if (t->all) {
		xd_rescan_all(b);
	} else {
		for (unsigned i = 0; i < t->ndoms; i++)
			xd_rescan_domain(b, t->dom[i]);
		for (unsigned i = 0; i < t->ndevs; i++)
			if (!has_id(t->dom, t->ndoms, t->dev[i].domid))
				reconcile(b, t->dev[i].domid, t->dev[i].devid);
	}
	if (t->domains)
		check_domains(b);
}

void xd_on_watch(void *ctx, uint32_t events)
{
	struct xen_backend *b = ctx;
	struct todo t;

	(void)events;
	t.all = t.domains = false;
	t.ndoms = t.ndevs = 0;
	for (unsigned i = 0; i < WATCH_BATCH; i++) {
		char **ev = b->ops->xs_check_watch(b->xs);

		if (!ev) {
			if (errno != EAGAIN && vm_ratelimit_ok(&b->rl))
				vm_warn(VM_NO_DOM, "xenstore watch: %s",
					strerror(errno));
			break;
		}
		if (strcmp(ev[XEN_XS_WATCH_TOKEN], TOKEN_RELEASE) == 0)
			t.domains = true;
		else if (strcmp(ev[XEN_XS_WATCH_TOKEN], TOKEN_BACKEND) == 0)
			note_event(&t, ev[XEN_XS_WATCH_PATH]);
		free(ev);
	}
	run_todo(b, &t);
}
