/* SPDX-License-Identifier: MIT */
/* Small language helpers shared by every layer. */
#ifndef VMEDIA_COMPILER_H
#define VMEDIA_COMPILER_H

#include <stddef.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#define container_of(ptr, type, member) \
	((type *)(void *)((char *)(ptr)-offsetof(type, member)))

#define VM_MUST_CHECK	     __attribute__((warn_unused_result))
#define VM_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#define VM_UNUSED	     __attribute__((unused))

#endif
