/* SPDX-License-Identifier: MIT */
/*
 * The guest lifecycle soak: SOAK_CYCLES (default 100) guest processes
 * connect, stream on every device and are SIGKILLed, some mid-stream,
 * some before they even finished connecting, while a witness guest
 * streams throughout. The daemon's fds, RSS, mappings and threads are
 * printed after a warm-up and at the end; they must come back to where
 * they were, give or take a small fixed slack. `make soak` runs 1000.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "atk.h"
#include "tap.h"

#define WARMUP	   10u
#define FD_SLACK   2
#define MAPS_SLACK 8
#define RSS_SLACK  (8l << 10)  /* kB */
#define ASAN_SLACK (48l << 10) /* kB: the sanitizer's own caches */
#define SETTLE_MS  ATK_TIMEOUT_MS

extern char **environ;

static char guest_path[PATH_MAX];
static unsigned cycles = 100;
static struct atk_stats start_st;
static unsigned early_kills, stream_kills, failures;

/* One guest process, its stdout on a pipe; the pid, or -1. */
static pid_t spawn_guest(int *out)
{
	char *argv[] = { guest_path, atk_d.sock, "forever", NULL };
	posix_spawn_file_actions_t fa;
	int p[2];
	pid_t pid = -1;

	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, p[1], STDOUT_FILENO);
	if (posix_spawn(&pid, guest_path, &fa, NULL, argv, environ) != 0)
		pid = -1;
	posix_spawn_file_actions_destroy(&fa);
	close(p[1]);
	if (pid < 0)
		close(p[0]);
	else
		*out = p[0];
	return pid;
}

/* 'R' from the guest: it streams on every device. */
static bool wait_ready(int fd)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	char c = 0;

	return poll(&pfd, 1, ATK_TIMEOUT_MS) == 1 && read(fd, &c, 1) == 1 &&
	       c == 'R';
}

/* Cycle i: every 4th guest dies young, the rest mid-stream. */
static void one_cycle(unsigned i)
{
	int fd = -1;
	pid_t pid = spawn_guest(&fd);

	if (pid < 0) {
		failures++;
		return;
	}
	if (i % 4 == 0) {
		atk_sleep_ms(i % 5);
		early_kills++;
	} else if (wait_ready(fd)) {
		atk_sleep_ms(i % 7);
		stream_kills++;
	} else {
		failures++;
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	close(fd);
}

static void print_stats(const char *when, const struct atk_stats *st)
{
	tap_diag("%s: fds %ld, RSS %ld kB, maps %ld, threads %ld", when,
		 st->fds, st->rss_kb, st->maps, st->threads);
}

/* The daemon reaps guests on its own time: wait until fds are back. */
static void settle(struct atk_stats *st)
{
	int64_t deadline = atk_now_ms() + SETTLE_MS;

	do {
		atk_sleep_ms(50);
		if (atk_stats(atk_d.pid, st) < 0)
			return;
	} while ((st->fds > start_st.fds || st->threads > start_st.threads) &&
		 atk_now_ms() < deadline);
}

static void test_warmup(void)
{
	for (unsigned i = 0; i < WARMUP; i++)
		one_cycle(i);
	settle(&start_st);
	TAP_EQ(atk_stats(atk_d.pid, &start_st), 0);
	print_stats("start (after warm-up)", &start_st);
}

static void test_soak(void)
{
	struct atk_mark mark;
	struct atk_stats end;
	int64_t t0 = atk_now_ms();
	long rss_slack = atk_daemon_is_asan() ? ASAN_SLACK : RSS_SLACK;

	atk_witness_mark(&mark);
	early_kills = stream_kills = failures = 0;
	for (unsigned i = 0; i < cycles; i++)
		one_cycle(i);
	settle(&end);
	tap_diag("%u cycles in %lld ms: %u killed while connecting, %u "
		 "mid-stream, %u failed to stream",
		 cycles, (long long)(atk_now_ms() - t0), early_kills,
		 stream_kills, failures);
	print_stats("end", &end);
	TAP_EQ(failures, 0);
	TAP_CHECK(end.fds <= start_st.fds + FD_SLACK, "fds %ld -> %ld",
		  start_st.fds, end.fds);
	TAP_CHECK(end.maps <= start_st.maps + MAPS_SLACK, "maps %ld -> %ld",
		  start_st.maps, end.maps);
	TAP_CHECK(end.rss_kb <= start_st.rss_kb + rss_slack,
		  "RSS %ld -> %ld kB", start_st.rss_kb, end.rss_kb);
	TAP_EQ(end.threads, start_st.threads);
	atk_witness_check(&mark, "during the soak");
}

/*
 * Under AddressSanitizer freed memory sits in a quarantine of up to
 * 256 MiB before reuse: RSS would measure the quarantine, not leaks.
 * A small one keeps the figure meaningful (leaks proper are LeakSanitizer's
 * business at exit, checked by the last case).
 */
static void small_quarantine(void)
{
	const char *old = getenv("ASAN_OPTIONS");
	char opts[512];

	snprintf(opts, sizeof(opts), "%s%squarantine_size_mb=8", old ? old : "",
		 old && *old ? ":" : "");
	setenv("ASAN_OPTIONS", opts, 1);
}

static void find_guest(const char *self)
{
	char buf[PATH_MAX];

	snprintf(buf, sizeof(buf), "%s", self);
	snprintf(guest_path, sizeof(guest_path), "%s/attack-guest",
		 dirname(buf));
}

int main(int argc, char **argv)
{
	static const char *const args[] = { "--device", "vcam:unpaced",
					    "--device", "vcam:mplane,fps=200",
					    NULL };
	const char *n = getenv("SOAK_CYCLES");

	(void)argc;
	if (n && atoi(n) > 0)
		cycles = (unsigned)atoi(n);
	find_guest(argv[0]);
	small_quarantine();
	if (access(guest_path, X_OK) != 0)
		tap_skip_all("attack-guest not built next to the soak");
	atk_suite_start(args, 16ull << 20);
	tap_diag("%u cycles after %u of warm-up", cycles, WARMUP);
	tap_run("soak: warm-up guests killed, start figures", test_warmup);
	tap_run("soak: guests killed while connecting and mid-stream; fds, "
		"RSS, maps and threads back",
		test_soak);
	return atk_suite_end();
}
