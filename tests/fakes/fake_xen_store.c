/* SPDX-License-Identifier: MIT */
/*
 * The fake's xenstore: a flat list of nodes, watches that fire on any
 * change at or below their path (and once when set, as xenstored does),
 * and transactions that always commit.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "fakes/fake_xen_int.h"

/* parent == path, or path lies below parent. */
static bool is_under(const char *parent, const char *path)
{
	size_t n = strlen(parent);

	return strncmp(parent, path, n) == 0 &&
	       (path[n] == 0 || path[n] == '/');
}

static void queue_event(struct xen_xs *xs, const char *path, const char *token)
{
	struct fx_event *e = calloc(1, sizeof(*e));
	uint64_t one = 1;

	if (!e)
		return;
	e->path = strdup(path);
	e->token = strdup(token);
	*xs->tail = e;
	xs->tail = &e->next;
	(void)!write(xs->efd, &one, sizeof(one));
}

void fx_fire_locked(const char *path)
{
	for (struct fx_watch *w = fx.watches; w; w = w->next)
		if (is_under(w->path, path) || strcmp(w->path, path) == 0)
			queue_event(w->xs, path, w->token);
}

static struct fx_node *find_node(const char *path)
{
	for (struct fx_node *n = fx.nodes; n; n = n->next)
		if (strcmp(n->path, path) == 0)
			return n;
	return NULL;
}

static bool has_children(const char *path)
{
	for (struct fx_node *n = fx.nodes; n; n = n->next)
		if (is_under(path, n->path) && strcmp(n->path, path) != 0)
			return true;
	return false;
}

static void write_locked(const char *path, const char *value, bool logged)
{
	struct fx_node *n = find_node(path);

	if (!n) {
		n = calloc(1, sizeof(*n));
		n->path = strdup(path);
		n->next = fx.nodes;
		fx.nodes = n;
	}
	free(n->value);
	n->value = strdup(value);
	n->len = strlen(value);
	if (logged) {
		/* Keep the history of what the daemon wrote here. */
		char log_path[300];
		struct fx_node *l;

		snprintf(log_path, sizeof(log_path), "#log#%s", path);
		l = find_node(log_path);
		if (!l) {
			l = calloc(1, sizeof(*l));
			l->path = strdup(log_path);
			l->value = strdup("");
			l->next = fx.nodes;
			fx.nodes = l;
		}
		l->len = strlen(l->value) + strlen(value) + 2;
		l->value = realloc(l->value, l->len);
		if (l->value[0])
			strcat(l->value, ",");
		strcat(l->value, value);
		l->len = strlen(l->value);
	}
	fx_fire_locked(path);
}

void fake_xs_write(const char *path, const char *value)
{
	pthread_mutex_lock(&fx.lock);
	write_locked(path, value, false);
	pthread_mutex_unlock(&fx.lock);
}

char *fake_xs_read(const char *path)
{
	struct fx_node *n;
	char *v = NULL;

	pthread_mutex_lock(&fx.lock);
	n = find_node(path);
	if (n)
		v = strdup(n->value);
	pthread_mutex_unlock(&fx.lock);
	return v;
}

char *fake_xs_written(const char *path, char *buf, size_t len)
{
	char log_path[300];
	char *v;

	snprintf(log_path, sizeof(log_path), "#log#%s", path);
	v = fake_xs_read(log_path);
	snprintf(buf, len, "%s", v ? v : "");
	free(v);
	return buf;
}

void fake_xs_rm(const char *path)
{
	pthread_mutex_lock(&fx.lock);
	for (struct fx_node **pp = &fx.nodes; *pp;) {
		struct fx_node *n = *pp;

		if (!is_under(path, n->path)) {
			pp = &n->next;
			continue;
		}
		*pp = n->next;
		free(n->path);
		free(n->value);
		free(n);
	}
	fx_fire_locked(path);
	pthread_mutex_unlock(&fx.lock);
}

/* ---- xen_ops ------------------------------------------------------------- */

static struct xen_xs *f_xs_open(void)
{
	struct xen_xs *xs;

	pthread_mutex_lock(&fx.lock);
	if (fx.faults.xs_open) {
		errno = fx.faults.xs_open;
		pthread_mutex_unlock(&fx.lock);
		return NULL;
	}
	xs = calloc(1, sizeof(*xs));
	xs->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	xs->tail = &xs->head;
	xs->next = fx.conns;
	fx.conns = xs;
	pthread_mutex_unlock(&fx.lock);
	return xs;
}

static void free_events(struct xen_xs *xs)
{
	while (xs->head) {
		struct fx_event *e = xs->head;

		xs->head = e->next;
		free(e->path);
		free(e->token);
		free(e);
	}
	xs->tail = &xs->head;
}

static void drop_watches(struct xen_xs *xs, const char *path, const char *token)
{
	for (struct fx_watch **pp = &fx.watches; *pp;) {
		struct fx_watch *w = *pp;

		if (w->xs != xs || (path && (strcmp(w->path, path) ||
					     strcmp(w->token, token)))) {
			pp = &w->next;
			continue;
		}
		*pp = w->next;
		free(w->path);
		free(w->token);
		free(w);
	}
}

static void f_xs_close(struct xen_xs *xs)
{
	pthread_mutex_lock(&fx.lock);
	drop_watches(xs, NULL, NULL);
	free_events(xs);
	for (struct xen_xs **pp = &fx.conns; *pp; pp = &(*pp)->next) {
		if (*pp == xs) {
			*pp = xs->next;
			break;
		}
	}
	close(xs->efd);
	free(xs);
	pthread_mutex_unlock(&fx.lock);
}

static int f_xs_fileno(struct xen_xs *xs)
{
	return xs->efd;
}

static char *f_xs_read(struct xen_xs *xs, uint32_t tx, const char *path,
		       size_t *len)
{
	struct fx_node *n;
	char *v = NULL;

	(void)xs;
	(void)tx;
	pthread_mutex_lock(&fx.lock);
	n = fx.faults.xs_error ? NULL : find_node(path);
	if (fx.faults.xs_error) {
		pthread_mutex_unlock(&fx.lock);
		errno = fx.faults.xs_error;
		return NULL;
	}
	if (n) {
		v = malloc(n->len + 1);
		memcpy(v, n->value, n->len + 1);
		*len = n->len;
	} else if (has_children(path)) {
		v = strdup(""); /* an intermediate directory */
		*len = 0;
	}
	pthread_mutex_unlock(&fx.lock);
	if (!v)
		errno = ENOENT;
	return v;
}

void fake_xs_write_raw(const char *path, const char *value, size_t len)
{
	struct fx_node *n;

	pthread_mutex_lock(&fx.lock);
	write_locked(path, "", false);
	n = find_node(path);
	free(n->value);
	n->value = malloc(len + 1);
	memcpy(n->value, value, len);
	n->value[len] = 0;
	n->len = len;
	pthread_mutex_unlock(&fx.lock);
}

static int f_xs_write(struct xen_xs *xs, uint32_t tx, const char *path,
		      const char *value)
{
	(void)xs;
	(void)tx;
	pthread_mutex_lock(&fx.lock);
	write_locked(path, value, true);
	pthread_mutex_unlock(&fx.lock);
	return 0;
}

/* Names of the children of path: one block, vector then strings. */
static char **children(const char *path, unsigned *num)
{
	size_t plen = strlen(path), bytes = 0;
	unsigned n = 0;
	const char *names[512];
	size_t lens[512];
	char **vec, *s;

	for (struct fx_node *node = fx.nodes; node && n < 512;
	     node = node->next) {
		const char *rest, *slash;
		size_t l;
		bool dup = false;

		if (!is_under(path, node->path) || node->path[plen] != '/')
			continue;
		rest = node->path + plen + 1;
		slash = strchr(rest, '/');
		l = slash ? (size_t)(slash - rest) : strlen(rest);
		for (unsigned i = 0; i < n && !dup; i++)
			dup = lens[i] == l && !strncmp(names[i], rest, l);
		if (dup)
			continue;
		names[n] = rest;
		lens[n++] = l;
		bytes += l + 1;
	}
	vec = malloc(n * sizeof(char *) + bytes + 1);
	s = (char *)(vec + n);
	for (unsigned i = 0; i < n; i++) {
		vec[i] = s;
		memcpy(s, names[i], lens[i]);
		s[lens[i]] = 0;
		s += lens[i] + 1;
	}
	*num = n;
	return vec;
}

static char **f_xs_directory(struct xen_xs *xs, uint32_t tx, const char *path,
			     unsigned *num)
{
	char **vec = NULL;

	(void)xs;
	(void)tx;
	pthread_mutex_lock(&fx.lock);
	if (!fx.faults.xs_error && (find_node(path) || has_children(path)))
		vec = children(path, num);
	errno = fx.faults.xs_error ? fx.faults.xs_error : ENOENT;
	pthread_mutex_unlock(&fx.lock);
	return vec;
}

static int f_xs_watch(struct xen_xs *xs, const char *path, const char *token)
{
	struct fx_watch *w = calloc(1, sizeof(*w));

	pthread_mutex_lock(&fx.lock);
	w->xs = xs;
	w->path = strdup(path);
	w->token = strdup(token);
	w->next = fx.watches;
	fx.watches = w;
	/* A new watch fires once at once, as xenstored's do. */
	queue_event(xs, path, token);
	pthread_mutex_unlock(&fx.lock);
	return 0;
}

static int f_xs_unwatch(struct xen_xs *xs, const char *path, const char *token)
{
	pthread_mutex_lock(&fx.lock);
	drop_watches(xs, path, token);
	pthread_mutex_unlock(&fx.lock);
	return 0;
}

static char **f_xs_check_watch(struct xen_xs *xs)
{
	struct fx_event *e;
	char **vec = NULL;
	uint64_t n;

	pthread_mutex_lock(&fx.lock);
	e = xs->head;
	if (e) {
		size_t pl = strlen(e->path) + 1, tl = strlen(e->token) + 1;

		xs->head = e->next;
		if (!xs->head)
			xs->tail = &xs->head;
		vec = malloc(2 * sizeof(char *) + pl + tl);
		vec[0] = (char *)(vec + 2);
		vec[1] = vec[0] + pl;
		memcpy(vec[0], e->path, pl);
		memcpy(vec[1], e->token, tl);
		free(e->path);
		free(e->token);
		free(e);
	}
	if (!xs->head)
		(void)!read(xs->efd, &n, sizeof(n));
	pthread_mutex_unlock(&fx.lock);
	if (!vec)
		errno = EAGAIN;
	return vec;
}

static uint32_t f_xs_tx_start(struct xen_xs *xs)
{
	uint32_t tx;

	(void)xs;
	pthread_mutex_lock(&fx.lock);
	tx = ++fx.next_tx;
	pthread_mutex_unlock(&fx.lock);
	return tx;
}

static int f_xs_tx_end(struct xen_xs *xs, uint32_t tx, bool abort)
{
	(void)xs;
	(void)tx;
	(void)abort;
	return 0;
}

static int f_xs_domain_alive(struct xen_xs *xs, unsigned domid)
{
	struct fx_dom *d;
	int r;

	(void)xs;
	pthread_mutex_lock(&fx.lock);
	d = fx_dom(domid);
	r = fx.faults.domain_alive ? -fx.faults.domain_alive : (d && d->alive);
	pthread_mutex_unlock(&fx.lock);
	return r;
}

void fx_free_store_locked(void)
{
	while (fx.nodes) {
		struct fx_node *n = fx.nodes;

		fx.nodes = n->next;
		free(n->path);
		free(n->value);
		free(n);
	}
	while (fx.conns) {
		struct xen_xs *xs = fx.conns;

		fx.conns = xs->next;
		drop_watches(xs, NULL, NULL);
		free_events(xs);
		close(xs->efd);
		free(xs);
	}
}

void fx_store_ops(struct xen_ops *o)
{
	o->xs_open = f_xs_open;
	o->xs_close = f_xs_close;
	o->xs_fileno = f_xs_fileno;
	o->xs_read = f_xs_read;
	o->xs_write = f_xs_write;
	o->xs_directory = f_xs_directory;
	o->xs_watch = f_xs_watch;
	o->xs_unwatch = f_xs_unwatch;
	o->xs_check_watch = f_xs_check_watch;
	o->xs_tx_start = f_xs_tx_start;
	o->xs_tx_end = f_xs_tx_end;
	o->xs_domain_alive = f_xs_domain_alive;
}
