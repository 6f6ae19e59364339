/* SPDX-License-Identifier: MIT */
/*
 * Logging. Every line names where it comes from: the guest domain and, when
 * there is one, the session. Lines go to stderr (or syslog once selected).
 */
#ifndef VMEDIA_LOG_H
#define VMEDIA_LOG_H

#include <stdbool.h>
#include <stdint.h>

#include "vmedia/compiler.h"

enum vm_log_level { VM_LOG_ERR, VM_LOG_WARN, VM_LOG_INFO, VM_LOG_DEBUG };

/* No domain / no session. */
#define VM_NO_DOM (-1)

void vm_log_set_level(enum vm_log_level level);
enum vm_log_level vm_log_get_level(void);
void vm_log_use_syslog(bool on);
/* Parses "err", "warn", "info", "debug"; false when the word is unknown. */
bool vm_log_parse_level(const char *word, enum vm_log_level *out);

void vm_log(enum vm_log_level level, int domid, const char *fmt, ...)
	VM_PRINTF(3, 4);

#define vm_err(dom, ...)   vm_log(VM_LOG_ERR, (dom), __VA_ARGS__)
#define vm_warn(dom, ...)  vm_log(VM_LOG_WARN, (dom), __VA_ARGS__)
#define vm_info(dom, ...)  vm_log(VM_LOG_INFO, (dom), __VA_ARGS__)
#define vm_debug(dom, ...) vm_log(VM_LOG_DEBUG, (dom), __VA_ARGS__)

/*
 * A guest can make the same mistake a million times a second; a limiter
 * lets the first few through per interval and counts the rest.
 */
struct vm_ratelimit {
	uint64_t window_start_ns;
	unsigned printed;
	unsigned suppressed;
};

/* True when the caller may log now. */
bool vm_ratelimit_ok(struct vm_ratelimit *rl);

#endif
