/* SPDX-License-Identifier: MIT */
/* How every harness reports a broken invariant (see fuzz_mem.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "fuzz_mem.h"

void fg_fail(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "\n==FUZZ ORACLE== ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	abort();
}
