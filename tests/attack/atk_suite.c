/* SPDX-License-Identifier: MIT */
/*
 * One attack program: the daemon, the witness streaming on its own guest
 * from the first case to the last, and the attacker's guest. Every case
 * runs between a witness mark and a check, so "the other guest was not
 * disturbed" is asserted case by case, not once at the end.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>

#include "atk.h"
#include "tap.h"

struct atk_daemon atk_d;
struct atk_guest atk_g;

static void (*case_body)(void);
static const char *case_name;

static void cleanup(void)
{
	atk_witness_stop();
	atk_guest_close(&atk_g);
	atk_daemon_cleanup(&atk_d);
}

void atk_suite_start_conf(const char *conf, const char *const *args,
			  uint64_t ram_size)
{
	const char *full[40];
	unsigned n = 0;
	int r;

	if (!getenv("VMEDIAD"))
		tap_skip_all("VMEDIAD not set (run through make check)");
	signal(SIGPIPE, SIG_IGN);
	if (atk_daemon_prepare(&atk_d, conf) < 0)
		tap_skip_all("cannot make a temporary directory");
	if (conf) {
		full[n++] = "--config";
		full[n++] = atk_d.conf;
	}
	for (unsigned i = 0; args && args[i] && n < 38; i++)
		full[n++] = args[i];
	full[n] = NULL;
	atexit(cleanup);
	r = atk_daemon_start(&atk_d, full);
	if (r == 0)
		r = atk_witness_start(&atk_d, 0, V4L2_MEMORY_MMAP);
	if (r == 0)
		r = atk_guest_connect(&atk_d, &atk_g, ram_size);
	if (r < 0) {
		printf("Bail out! daemon, witness or guest failed: %d\n", r);
		atk_log_dump(&atk_d, 40);
		exit(1);
	}
}

void atk_suite_start(const char *const *args, uint64_t ram_size)
{
	atk_suite_start_conf(NULL, args, ram_size);
}

long atk_daemon_fds(void)
{
	struct atk_stats st;

	return atk_stats(atk_d.pid, &st) == 0 ? st.fds : -1;
}

void atk_check_fds_back(long before, const char *what)
{
	int64_t deadline = atk_now_ms() + ATK_TIMEOUT_MS;
	long now = atk_daemon_fds();

	/* The daemon reaps a departed guest on its own time. */
	while (now > before && atk_now_ms() < deadline) {
		atk_sleep_ms(10);
		now = atk_daemon_fds();
	}
	TAP_CHECK(now >= 0 && now <= before, "%s: daemon fds %ld -> %ld", what,
		  before, now);
}

static void wrapped_case(void)
{
	struct atk_mark m;

	atk_witness_mark(&m);
	case_body();
	if (atk_d.pid > 0 && !atk_daemon_alive(&atk_d)) {
		TAP_CHECK(false, "vmediad died during the case");
		atk_log_dump(&atk_d, 40);
		return;
	}
	if (atk_d.pid > 0)
		atk_witness_check(&m, case_name);
}

void atk_run(const char *name, void (*fn)(void))
{
	case_body = fn;
	case_name = name;
	tap_run(name, wrapped_case);
}

static void final_case(void)
{
	uint64_t problems = atk_witness_stop();
	int status;

	TAP_EQ(problems, 0);
	tap_diag("witness saw %llu frames",
		 (unsigned long long)atk_witness_frames());
	atk_guest_close(&atk_g);
	/* A case may have stopped it already (and checked how). */
	status = atk_d.pid > 0 ? atk_daemon_stop(&atk_d, ATK_TIMEOUT_MS)
			       : atk_d.exit_status;
	TAP_CHECK(status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0,
		  "vmediad did not exit 0 on SIGTERM (status %#x)", status);
	if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status))
		atk_log_dump(&atk_d, 40);
}

int atk_suite_end(void)
{
	tap_run("the witness was never disturbed; vmediad exits 0 on SIGTERM",
		final_case);
	return tap_done();
}
