/* SPDX-License-Identifier: MIT */
/*
 * The test transport's listening socket, on the main thread: every
 * accepted connection becomes a test guest with its own thread.
 */
#include "testbus/testbus.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "vmedia/log.h"

/* Connections taken per wakeup, so one flood cannot hog the main loop. */
#define ACCEPT_BATCH 16u
/* Test domids stay in Xen's range of ordinary domain ids. */
#define TEST_DOMID_MAX 0x7fef

struct testbus_server {
	int fd;
	const struct testbus_config *cfg;
	struct evloop *loop;
	struct guest_set *guests;
	struct evloop_source src;
	int next_domid;
	bool bound; /* the socket file is ours to remove */
	struct vm_ratelimit refuse_rl;
	struct sockaddr_un addr;
};

/* 1, 2, 3 ...; after a wrap, skip any still in use. */
static int next_domid(struct testbus_server *srv)
{
	for (int tries = 0; tries < TEST_DOMID_MAX; tries++) {
		int id = srv->next_domid;

		srv->next_domid = id >= TEST_DOMID_MAX ? 1 : id + 1;
		if (!guest_find(srv->guests, id))
			return id;
	}
	return -1;
}

static bool server_full(struct testbus_server *srv)
{
	return srv->cfg->max_guests &&
	       guest_set_count(srv->guests) >= srv->cfg->max_guests;
}

static void refuse(struct testbus_server *srv, int fd, const char *why)
{
	close(fd);
	if (vm_ratelimit_ok(&srv->refuse_rl))
		vm_warn(VM_NO_DOM, "test socket: refused a connection: %s",
			why);
}

static void serve(struct testbus_server *srv, int fd)
{
	struct guest_params p = { .ops = &testbus_link_ops };
	int r;

	if (server_full(srv)) {
		refuse(srv, fd, "max guests reached");
		return;
	}
	p.domid = next_domid(srv);
	if (p.domid < 0) {
		refuse(srv, fd, "no free domid");
		return;
	}
	p.ctx = testbus_link_new(fd, srv->cfg);
	if (!p.ctx) {
		refuse(srv, fd, strerror(errno));
		return;
	}
	p.name = testbus_link_name(p.ctx, p.domid);
	/* On failure guest_spawn() released the link, closing fd. */
	r = guest_spawn(srv->guests, &p);
	if (r < 0)
		vm_err(p.domid, "cannot start test guest %s: %s", p.name,
		       strerror(-r));
}

static void on_listen(void *ctx, uint32_t events)
{
	struct testbus_server *srv = ctx;

	(void)events;
	for (unsigned i = 0; i < ACCEPT_BATCH; i++) {
		int fd = accept4(srv->fd, NULL, NULL,
				 SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK &&
			    errno != EINTR && errno != ECONNABORTED &&
			    vm_ratelimit_ok(&srv->refuse_rl))
				vm_warn(VM_NO_DOM, "test socket: accept: %s",
					strerror(errno));
			return;
		}
		serve(srv, fd);
	}
}

/* Replace a stale socket file, but never anything else. */
static int clear_path(const char *path)
{
	struct stat st;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode)) {
		vm_err(VM_NO_DOM,
		       "test socket %s exists and is not a socket; "
		       "refusing to replace it (choose another path)",
		       path);
		return -EEXIST;
	}
	return unlink(path) < 0 ? -errno : 0;
}

static int server_listen(struct testbus_server *srv)
{
	const char *path = srv->cfg->socket_path;

	srv->fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC,
			 0);
	if (srv->fd < 0)
		return -errno;
	if (bind(srv->fd, (struct sockaddr *)&srv->addr, sizeof(srv->addr)) < 0)
		return -errno;
	srv->bound = true;
	/* Before listen(): nobody else may connect as a guest meanwhile. */
	if (chmod(path, 0600) < 0 || listen(srv->fd, 16) < 0)
		return -errno;
	return 0;
}

static int server_setup(struct testbus_server *srv)
{
	const char *path = srv->cfg->socket_path;
	int r;

	if (strlen(path) >= sizeof(srv->addr.sun_path)) {
		vm_err(VM_NO_DOM, "test socket path %s is too long (max %zu)",
		       path, sizeof(srv->addr.sun_path) - 1);
		return -ENAMETOOLONG;
	}
	srv->addr.sun_family = AF_UNIX;
	memcpy(srv->addr.sun_path, path, strlen(path) + 1);
	r = clear_path(path);
	if (r == -EEXIST)
		return r; /* already logged */
	if (r == 0)
		r = server_listen(srv);
	if (r == 0)
		r = evloop_add(srv->loop, &srv->src, srv->fd, EPOLLIN,
			       on_listen, srv);
	if (r < 0)
		vm_err(VM_NO_DOM, "cannot listen on test socket %s: %s", path,
		       strerror(-r));
	return r;
}

struct testbus_server *testbus_server_create(const struct testbus_config *cfg,
					     struct evloop *main_loop,
					     struct guest_set *guests)
{
	struct testbus_server *srv;

	if (cfg->num_devices == 0 || cfg->num_devices > TESTBUS_MAX_DEVICES) {
		vm_err(VM_NO_DOM,
		       "test socket: %u devices asked, 1..%u allowed",
		       cfg->num_devices, TESTBUS_MAX_DEVICES);
		return NULL;
	}
	srv = calloc(1, sizeof(*srv));
	if (!srv) {
		vm_err(VM_NO_DOM, "test socket: out of memory");
		return NULL;
	}
	srv->fd = -1;
	srv->cfg = cfg;
	srv->loop = main_loop;
	srv->guests = guests;
	srv->next_domid = 1;
	if (server_setup(srv) < 0) {
		if (srv->fd >= 0)
			close(srv->fd);
		if (srv->bound)
			unlink(srv->addr.sun_path);
		free(srv);
		return NULL;
	}
	vm_info(VM_NO_DOM, "test socket listening on %s", cfg->socket_path);
	return srv;
}

void testbus_server_destroy(struct testbus_server *srv)
{
	if (!srv)
		return;
	evloop_del(srv->loop, &srv->src);
	close(srv->fd);
	unlink(srv->addr.sun_path);
	free(srv);
}
