/* SPDX-License-Identifier: MIT */
#include "daemon_proc.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CONNECT_TIMEOUT_MS 20000
#define MAX_ARGS	   32

int64_t test_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void test_sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

/* In the child: stderr to the log, then exec. Never returns. */
static void exec_daemon(const char *path, const char **argv,
			const char *log_path)
{
	/* Never outlive the test, whatever happens to it. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (log_path) {
		int fd = open(log_path,
			      O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);

		if (fd >= 0)
			dup2(fd, STDERR_FILENO);
	}
	execv(path, (char *const *)argv);
	fprintf(stderr, "cannot run %s: %s\n", path, strerror(errno));
	_exit(127);
}

pid_t daemon_spawn(const char *sock, const char *const *args,
		   const char *log_path)
{
	const char *vmediad = getenv("VMEDIAD");
	const char *argv[MAX_ARGS + 4];
	unsigned n = 0;
	pid_t pid;

	if (!vmediad)
		return -ENOENT;
	argv[n++] = "vmediad";
	argv[n++] = "--test-socket";
	argv[n++] = sock;
	for (unsigned i = 0; args && args[i] && n < MAX_ARGS + 3; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0)
		exec_daemon(vmediad, argv, log_path);
	return pid;
}

int daemon_start(struct daemon_proc *d, const char *const *args)
{
	memset(d, 0, sizeof(*d));
	d->pid = -1;
	snprintf(d->dir, sizeof(d->dir), "/tmp/vmedia-test.XXXXXX");
	if (!mkdtemp(d->dir))
		return -errno;
	snprintf(d->sock, sizeof(d->sock), "%s/sock", d->dir);
	d->pid = daemon_spawn(d->sock, args, NULL);
	return d->pid < 0 ? (int)d->pid : 0;
}

bool daemon_running(struct daemon_proc *d)
{
	int status;

	return d->pid > 0 && waitpid(d->pid, &status, WNOHANG) == 0;
}

int daemon_wait_stop(pid_t *pid, int timeout_ms)
{
	int64_t deadline = test_now_ms() + timeout_ms;
	int status;

	if (*pid <= 0)
		return -1;
	kill(*pid, SIGTERM);
	while (test_now_ms() < deadline) {
		pid_t r = waitpid(*pid, &status, WNOHANG);

		if (r == *pid) {
			*pid = -1;
			return status;
		}
		if (r < 0)
			return -1;
		test_sleep_ms(10);
	}
	return -1;
}

int daemon_stop(struct daemon_proc *d, int timeout_ms)
{
	return daemon_wait_stop(&d->pid, timeout_ms);
}

void daemon_cleanup(struct daemon_proc *d)
{
	if (d->pid > 0) {
		kill(d->pid, SIGKILL);
		waitpid(d->pid, NULL, 0);
		d->pid = -1;
	}
	if (d->sock[0])
		unlink(d->sock);
	if (d->dir[0])
		rmdir(d->dir);
	d->sock[0] = d->dir[0] = 0;
}

int guest_connect(struct daemon_proc *d, struct test_guest *g,
		  uint64_t ram_size)
{
	int64_t deadline = test_now_ms() + CONNECT_TIMEOUT_MS;
	int r;

	memset(g, 0, sizeof(*g));
	for (;;) {
		r = vg_testbus_connect(d->sock, ram_size, &g->t);
		if ((r != -ENOENT && r != -ECONNREFUSED) ||
		    test_now_ms() > deadline || !daemon_running(d))
			break;
		test_sleep_ms(10);
	}
	if (r == 0)
		r = vg_ram_init(&g->ram, g->t);
	return r;
}

void guest_disconnect(struct test_guest *g)
{
	if (!g->t)
		return;
	vg_ram_fini(&g->ram);
	vg_transport_close(g->t);
	memset(g, 0, sizeof(*g));
}
