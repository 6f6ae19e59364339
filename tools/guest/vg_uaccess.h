/* SPDX-License-Identifier: MIT */
/*
 * Touching an application's memory the way the kernel does: a bad
 * pointer is an error (-EFAULT), never a crash. The guest core runs inside
 * the application's process, so "user memory" is this process's memory;
 * the copies go through process_vm_readv/writev on ourselves, which the
 * kernel checks page by page.
 */
#ifndef VMEDIA_VG_UACCESS_H
#define VMEDIA_VG_UACCESS_H

#include <stdbool.h>
#include <stddef.h>

/* n bytes from the application's src into dst: 0 or -EFAULT. */
int vg_copy_from_user(void *dst, const void *src, size_t n);
/* n bytes from src into the application's dst: 0 or -EFAULT. */
int vg_copy_to_user(void *dst, const void *src, size_t n);
/*
 * Is [p, p + n) readable, and (if write) writable too? Writability is
 * checked by writing the bytes back unchanged: call it only on memory the
 * application handed over (a queued buffer), never on live data.
 */
bool vg_user_access_ok(void *p, size_t n, bool write);

#endif
