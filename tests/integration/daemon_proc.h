/* SPDX-License-Identifier: MIT */
/*
 * The real vmediad as a child process of an integration test, on a
 * private socket, and test guests connected to it.
 */
#ifndef VMEDIA_TESTS_DAEMON_PROC_H
#define VMEDIA_TESTS_DAEMON_PROC_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "vg_ram.h"
#include "vg_transport.h"

struct daemon_proc {
	pid_t pid;
	char dir[64];
	char sock[96];
};

/*
 * Start $VMEDIAD --test-socket <private path> ARGS... (args ends with
 * NULL). Returns 0 or a negative errno.
 */
int daemon_start(struct daemon_proc *d, const char *const *args);
bool daemon_running(struct daemon_proc *d);
/* SIGTERM and wait; the exit status (as waitpid's), or -1 on timeout. */
int daemon_stop(struct daemon_proc *d, int timeout_ms);
/* Kill if still running and remove the socket; safe to call twice. */
void daemon_cleanup(struct daemon_proc *d);

struct test_guest {
	struct vg_transport *t;
	struct vg_ram ram;
};

/* Connect (retrying while the daemon creates its socket). */
int guest_connect(struct daemon_proc *d, struct test_guest *g,
		  uint64_t ram_size);
void guest_disconnect(struct test_guest *g);

int64_t test_now_ms(void);
void test_sleep_ms(long ms);

/*
 * The primitives under daemon_start/daemon_stop, for tests that keep their
 * own records: fork $VMEDIAD --test-socket sock ARGS... (stderr appended
 * to log_path when it is not NULL); the child pid or a negative errno.
 */
pid_t daemon_spawn(const char *sock, const char *const *args,
		   const char *log_path);
/* SIGTERM *pid and wait; its wait status (then *pid = -1) or -1. */
int daemon_wait_stop(pid_t *pid, int timeout_ms);

#endif
