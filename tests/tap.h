/* SPDX-License-Identifier: MIT */
/*
 * A small TAP producer for the automake TAP driver: every named case is a
 * test point, so `make check` counts hostile cases one by one.
 *
 *   static void test_loop(void) { ... TAP_CHECK(cond, "msg %d", x); ... }
 *   int main(void) { tap_run("descriptor loop", test_loop); return tap_done(); }
 *
 * A case passes when no check inside it failed.
 */
#ifndef VMEDIA_TESTS_TAP_H
#define VMEDIA_TESTS_TAP_H

#include <stdbool.h>

#include "vmedia/compiler.h"

/* Run one named case; prints "ok N - name" or "not ok N - name". */
void tap_run(const char *name, void (*fn)(void));
/* Record a failed check inside the running case (use the macro). */
void tap_fail(const char *file, int line, const char *fmt, ...)
	VM_PRINTF(3, 4);
/* A diagnostic line ("# ..."). */
void tap_diag(const char *fmt, ...) VM_PRINTF(1, 2);
/* Print the plan; returns the process exit status (0 = all passed). */
int tap_done(void);
/* Skip the whole program (exit status 0, "1..0 # SKIP why"). */
void tap_skip_all(const char *why) __attribute__((noreturn));

#define TAP_CHECK(cond, ...)                                     \
	do {                                                     \
		if (!(cond))                                     \
			tap_fail(__FILE__, __LINE__, __VA_ARGS__); \
	} while (0)

/* Checks a == b for integers, printing both on failure. */
#define TAP_EQ(a, b)                                                          \
	do {                                                                  \
		long long tap_a_ = (long long)(a), tap_b_ = (long long)(b);   \
		if (tap_a_ != tap_b_)                                         \
			tap_fail(__FILE__, __LINE__, "%s == %s: %lld != %lld", \
				 #a, #b, tap_a_, tap_b_);                     \
	} while (0)

#endif
