/* SPDX-License-Identifier: MIT */
/*
 * Logging: one line per message, prefixed with the guest domain so an
 * integrator can tell which guest a line is about.
 */
#include "vmedia/log.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#define RATELIMIT_INTERVAL_NS 5000000000ull
#define RATELIMIT_BURST	      10u

static _Atomic int log_level = VM_LOG_INFO;
static _Atomic bool log_syslog;

static const char *const level_names[] = {
	[VM_LOG_ERR] = "err",
	[VM_LOG_WARN] = "warn",
	[VM_LOG_INFO] = "info",
	[VM_LOG_DEBUG] = "debug",
};

static const int syslog_prio[] = {
	[VM_LOG_ERR] = LOG_ERR,
	[VM_LOG_WARN] = LOG_WARNING,
	[VM_LOG_INFO] = LOG_INFO,
	[VM_LOG_DEBUG] = LOG_DEBUG,
};

void vm_log_set_level(enum vm_log_level level)
{
	atomic_store(&log_level, (int)level);
}

enum vm_log_level vm_log_get_level(void)
{
	return (enum vm_log_level)atomic_load(&log_level);
}

void vm_log_use_syslog(bool on)
{
	if (on)
		openlog("vmediad", LOG_PID, LOG_DAEMON);
	atomic_store(&log_syslog, on);
}

bool vm_log_parse_level(const char *word, enum vm_log_level *out)
{
	for (unsigned i = 0; i < ARRAY_SIZE(level_names); i++) {
		if (strcmp(word, level_names[i]) == 0) {
			*out = (enum vm_log_level)i;
			return true;
		}
	}
	return false;
}

void vm_log(enum vm_log_level level, int domid, const char *fmt, ...)
{
	char msg[512], dom[24] = "";
	va_list ap;

	if ((int)level > atomic_load(&log_level))
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (domid != VM_NO_DOM)
		snprintf(dom, sizeof(dom), "dom%d: ", domid);
	if (atomic_load(&log_syslog)) {
		syslog(syslog_prio[level], "%s%s", dom, msg);
		return;
	}
	/* One fprintf per line so lines from guest threads never interleave. */
	fprintf(stderr, "vmediad: %s: %s%s\n", level_names[level], dom, msg);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

bool vm_ratelimit_ok(struct vm_ratelimit *rl)
{
	uint64_t now = now_ns();

	if (now - rl->window_start_ns >= RATELIMIT_INTERVAL_NS) {
		if (rl->suppressed)
			vm_log(VM_LOG_WARN, VM_NO_DOM,
			       "%u similar messages suppressed",
			       rl->suppressed);
		rl->window_start_ns = now;
		rl->printed = 0;
		rl->suppressed = 0;
	}
	if (rl->printed < RATELIMIT_BURST) {
		rl->printed++;
		return true;
	}
	rl->suppressed++;
	return false;
}
