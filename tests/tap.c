/* SPDX-License-Identifier: MIT */
#include "tap.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

static unsigned tap_count;
static unsigned tap_failed_cases;
static bool tap_case_failed;

void tap_run(const char *name, void (*fn)(void))
{
	tap_case_failed = false;
	fn();
	tap_count++;
	if (tap_case_failed)
		tap_failed_cases++;
	printf("%sok %u - %s\n", tap_case_failed ? "not " : "", tap_count,
	       name);
	fflush(stdout);
}

void tap_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	tap_case_failed = true;
	printf("# FAIL %s:%d: ", file, line);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

void tap_diag(const char *fmt, ...)
{
	va_list ap;

	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

int tap_done(void)
{
	printf("1..%u\n", tap_count);
	return tap_failed_cases ? 1 : 0;
}

void tap_skip_all(const char *why)
{
	printf("1..0 # SKIP %s\n", why);
	exit(0);
}
