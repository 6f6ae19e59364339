/* SPDX-License-Identifier: MIT */
/*
 * shim_probe: what libvmedia-shim.so must get right that v4l2-compliance
 * does not check (research/compliance-harness.md 3.3, 3.5). Run under
 * LD_PRELOAD with a vcam device behind /dev/video-vmedia0; prints one
 * "PASS name" or "FAIL name: why" line per check, exit status 1 when any
 * failed. A plain program: everything goes through the libc the shim
 * interposes.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/videodev2.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/select.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define NODE "/dev/video-vmedia0"

static int failures;

static void check(bool ok, const char *name, const char *why)
{
	if (ok)
		printf("PASS %s\n", name);
	else
		printf("FAIL %s: %s (errno %s)\n", name, why, strerror(errno));
	failures += !ok;
}

static long ms_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1000 +
	       (t.tv_nsec - t0->tv_nsec) / 1000000;
}

static void probe_node(void)
{
	struct stat *volatile wild_stat = (struct stat *)16;
	const char *volatile wild_path = (const char *)16;
	struct stat st;
	char line[128];
	bool devname = false;
	FILE *f;

	check(stat(NODE, &st) == 0 && S_ISCHR(st.st_mode) &&
		      major(st.st_rdev) == 81 && minor(st.st_rdev) == 200,
	      "stat: a character device 81:200", "wrong stat");
	f = fopen("/sys/dev/char/81:200/uevent", "r");
	while (f && fgets(line, sizeof(line), f))
		devname |= !strcmp(line, "DEVNAME=video200\n");
	if (f)
		fclose(f);
	check(devname, "uevent names it video200", "no DEVNAME");
	check(stat(NODE, wild_stat) == -1 && errno == EFAULT,
	      "stat into a wild buffer: EFAULT", "no EFAULT");
	check(open(wild_path, O_RDWR) == -1 && errno == EFAULT,
	      "open of a wild path: EFAULT", "no EFAULT");
}

static void probe_ioctl(int fd)
{
	struct v4l2_capability cap;
	struct stat st;
	char c;

	check(fstat(fd, &st) == 0 && S_ISCHR(st.st_mode) &&
		      minor(st.st_rdev) == 200,
	      "fstat of the fd", "wrong fstat");
	check(ioctl(fd, VIDIOC_QUERYCAP, &cap) == 0, "QUERYCAP", "failed");
	check(ioctl(fd, VIDIOC_QUERYCAP, (void *)16) == -1 && errno == EFAULT,
	      "QUERYCAP on a wild pointer: EFAULT", "no EFAULT");
	check(syscall(SYS_ioctl, fd, VIDIOC_QUERYCAP, &cap) == 0,
	      "syscall(SYS_ioctl)", "failed");
	check(read(fd, &c, 1) == -1 && errno == EINVAL, "read: EINVAL",
	      "read worked");
	check(write(fd, &c, 1) == -1 && errno == EINVAL, "write: EINVAL",
	      "write worked");
	check(mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0xdeadb000) ==
		      MAP_FAILED,
	      "mmap of no buffer fails", "mapped");
}

static uint32_t prio_of(int fd)
{
	uint32_t p = 0;

	ioctl(fd, VIDIOC_G_PRIORITY, &p);
	return p;
}

/* A dup shares the session; the last close ends it. */
static void probe_dup(void)
{
	uint32_t rec = V4L2_PRIORITY_RECORD;
	int fd = open(NODE, O_RDWR), fd2, fd3;

	ioctl(fd, VIDIOC_S_PRIORITY, &rec);
	fd2 = dup(fd);
	close(fd);
	check(fd2 >= 0 && prio_of(fd2) == V4L2_PRIORITY_RECORD,
	      "dup keeps the session open", "session gone");
	fd3 = fcntl(fd2, F_DUPFD_CLOEXEC, 0);
	close(fd2);
	check(prio_of(fd3) == V4L2_PRIORITY_RECORD, "F_DUPFD shares it too",
	      "session gone");
	close(fd3);
	fd = open(NODE, O_RDWR);
	check(prio_of(fd) == V4L2_PRIORITY_INTERACTIVE,
	      "the last close released the session", "RECORD still held");
	close(fd);
}

static void probe_poll(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLPRI };
	struct timespec t0;
	struct epoll_event ev = { .events = 0, .data.u32 = 7 };
	struct pollfd *volatile wild = (struct pollfd *)16;
	fd_set r;
	int ep, n;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	n = poll(&p, 1, 150);
	check(n == 0 && ms_since(&t0) >= 140, "poll waits out its timeout",
	      "spurious readiness or early return");
	p.events = POLLIN;
	check(poll(&p, 1, 1000) == 1 && p.revents == POLLERR,
	      "poll: POLLERR when not streaming", "wrong revents");
	FD_ZERO(&r);
	FD_SET(fd, &r);
	check(select(fd + 1, &r, NULL, NULL, NULL) == 1 && FD_ISSET(fd, &r),
	      "select: POLLERR reads as readable", "not readable");
	ep = epoll_create1(EPOLL_CLOEXEC);
	check(epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) == 0 &&
		      epoll_wait(ep, &ev, 1, 0) == 0,
	      "epoll: ADD with no events, nothing reported", "reported");
	ev.events = EPOLLIN;
	check(epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev) == 0 &&
		      epoll_wait(ep, &ev, 1, 1000) == 1 &&
		      ev.events == EPOLLERR && ev.data.u32 == 7,
	      "epoll: MOD to EPOLLIN reports EPOLLERR", "wrong event");
	close(ep);
	check(poll(wild, 1, 0) == -1 && errno == EFAULT,
	      "poll on a wild array: EFAULT", "no EFAULT");
}

static void probe_nonblock_and_fork(int fd)
{
	struct v4l2_requestbuffers rb = { .count = 2,
					  .type = V4L2_BUF_TYPE_VIDEO_CAPTURE,
					  .memory = V4L2_MEMORY_MMAP };
	struct v4l2_buffer b = { .type = V4L2_BUF_TYPE_VIDEO_CAPTURE,
				 .memory = V4L2_MEMORY_MMAP };
	struct v4l2_capability cap;
	int status = -1;
	pid_t pid;

	ioctl(fd, VIDIOC_REQBUFS, &rb);
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	check(ioctl(fd, VIDIOC_DQBUF, &b) == -1 && errno == EAGAIN,
	      "O_NONBLOCK set after open: DQBUF says EAGAIN", "no EAGAIN");
	pid = fork();
	if (pid == 0)
		_exit(ioctl(fd, VIDIOC_QUERYCAP, &cap) == -1 && errno == EIO
			      ? 0
			      : 1);
	waitpid(pid, &status, 0);
	check(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	      "a forked child gets EIO", "child not fenced");
	check(ioctl(fd, VIDIOC_QUERYCAP, &cap) == 0, "the parent goes on",
	      "parent broken");
}

int main(void)
{
	int fd;

	probe_node();
	fd = open(NODE, O_RDWR);
	check(fd >= 0, "open", "failed");
	if (fd < 0)
		return 1;
	probe_ioctl(fd);
	probe_dup();
	probe_poll(fd);
	probe_nonblock_and_fork(fd);
	close(fd);
	fd = (int)syscall(SYS_openat, AT_FDCWD, NODE, O_RDWR);
	check(fd >= 0 && prio_of(fd) == V4L2_PRIORITY_INTERACTIVE,
	      "syscall(SYS_openat) opens the node", "failed");
	close(fd);
	return failures ? 1 : 0;
}
