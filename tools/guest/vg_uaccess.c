/* SPDX-License-Identifier: MIT */
#include "vg_uaccess.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

/*
 * process_vm_readv/writev on our own pid: the kernel walks the pages and
 * stops at the first one that is not mapped (or not writable), instead of
 * delivering SIGSEGV. Where the call is refused (a seccomp filter, an old
 * kernel) we fall back to plain copies that only reject NULL.
 */
static int vm_copy(void *dst, const void *src, size_t n, bool to_user)
{
	struct iovec local, remote;
	size_t done = 0;

	if (n == 0)
		return 0;
	while (done < n) {
		ssize_t r;

		local.iov_base =
			to_user ? (uint8_t *)src + done : (uint8_t *)dst + done;
		remote.iov_base =
			to_user ? (uint8_t *)dst + done : (uint8_t *)src + done;
		local.iov_len = remote.iov_len = n - done;
		r = to_user ? process_vm_writev(getpid(), &local, 1, &remote, 1,
						0)
			    : process_vm_readv(getpid(), &local, 1, &remote, 1,
					       0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && (errno == ENOSYS || errno == EPERM)) {
			if (!dst || !src)
				return -EFAULT;
			memcpy((uint8_t *)dst + done,
			       (const uint8_t *)src + done, n - done);
			return 0;
		}
		if (r <= 0)
			return -EFAULT;
		done += (size_t)r;
	}
	return 0;
}

int vg_copy_from_user(void *dst, const void *src, size_t n)
{
	return vm_copy(dst, src, n, false);
}

int vg_copy_to_user(void *dst, const void *src, size_t n)
{
	return vm_copy(dst, src, n, true);
}

bool vg_user_access_ok(void *p, size_t n, bool write)
{
	uint8_t chunk[4096];
	size_t done = 0;

	if (!p && n)
		return false;
	while (done < n) {
		size_t len =
			n - done < sizeof(chunk) ? n - done : sizeof(chunk);
		uint8_t *at = (uint8_t *)p + done;

		if (vg_copy_from_user(chunk, at, len) ||
		    (write && vg_copy_to_user(at, chunk, len)))
			return false;
		done += len;
	}
	return true;
}
