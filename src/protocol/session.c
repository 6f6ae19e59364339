/* SPDX-License-Identifier: MIT */
/*
 * Sessions: one per guest open(). Ids are unique among open sessions and
 * not reused right away, so a stale id from a closed session is refused
 * instead of reaching a newer one.
 */
#include <errno.h>
#include <stdlib.h>

#include "protocol/media.h"

struct vmedia_session *session_find(struct media_device *md, uint32_t id)
{
	for (struct vmedia_session *s = md->sessions; s; s = s->next)
		if (s->id == id)
			return s;
	return NULL;
}

/* The next id not held by an open session (there are at most a few). */
static uint32_t next_free_id(struct media_device *md)
{
	while (session_find(md, md->next_session_id))
		md->next_session_id++;
	return md->next_session_id++;
}

int session_open(struct media_device *md, struct vmedia_session **out)
{
	struct vmedia_session *s;
	int ret;

	if (md->num_sessions >= md->limits.max_sessions) {
		md_limit_warn(md, 0, "session limit %u reached",
			      md->limits.max_sessions);
		return -EMFILE;
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->md = md;
	s->id = next_free_id(md);
	ret = md->backend->ops->open(md->backend_dev, s, &s->priv);
	if (ret) {
		free(s);
		return ret;
	}
	s->next = md->sessions;
	md->sessions = s;
	md->num_sessions++;
	*out = s;
	return 0;
}

static void unlink_session(struct media_device *md, struct vmedia_session *s)
{
	for (struct vmedia_session **pp = &md->sessions; *pp;
	     pp = &(*pp)->next) {
		if (*pp == s) {
			*pp = s->next;
			md->num_sessions--;
			return;
		}
	}
}

void session_close(struct vmedia_session *s)
{
	struct media_device *md = s->md;

	/* The backend stops and puts its buffers; events stop here. */
	md->backend->ops->close(s->priv);
	for (unsigned q = 0; q < SESSION_QUEUES; q++)
		if (s->queue[q].type)
			session_queue_stopped(s, s->queue[q].type);
	events_purge(md, s->id, 0);
	shm_session_closed(md, s);
	unlink_session(md, s);
	free(s);
}

void session_close_all(struct media_device *md)
{
	while (md->sessions)
		session_close(md->sessions);
}

struct session_queue *session_queue(struct vmedia_session *s, uint32_t type,
				    bool create)
{
	struct session_queue *free_slot = NULL;

	if (type == 0)
		return NULL;
	for (unsigned q = 0; q < SESSION_QUEUES; q++) {
		if (s->queue[q].type == type)
			return &s->queue[q];
		if (!s->queue[q].type && !free_slot)
			free_slot = &s->queue[q];
	}
	if (!create || !free_slot)
		return NULL;
	free_slot->type = type;
	return free_slot;
}

void session_queue_stopped(struct vmedia_session *s, uint32_t type)
{
	struct session_queue *q = session_queue(s, type, false);

	if (!q)
		return;
	q->streaming = false;
	for (unsigned i = 0; i < SESSION_MAX_BUFFERS; i++)
		userptr_unmap(s->md, &q->userptr[i]);
	/* DQBUF events not yet delivered would confuse the guest's counts. */
	events_purge(s->md, s->id, type);
}

/* ---- services for backends ---------------------------------------------- */

uint32_t vmedia_session_id(const struct vmedia_session *s)
{
	return s->id;
}

int vmedia_session_domid(const struct vmedia_session *s)
{
	return s->md->domid;
}
