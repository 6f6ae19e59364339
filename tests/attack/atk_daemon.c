/* SPDX-License-Identifier: MIT */
/*
 * The real vmediad as a child of the test, its stderr in a file the cases
 * count lines in, and its /proc figures (fds, RSS, mappings).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "atk.h"
#include "daemon_proc.h"

int64_t atk_now_ms(void)
{
	return test_now_ms();
}

void atk_sleep_ms(long ms)
{
	test_sleep_ms(ms);
}

int atk_daemon_prepare(struct atk_daemon *d, const char *conf_text)
{
	FILE *f;

	if (!d->dir[0]) {
		memset(d, 0, sizeof(*d));
		d->pid = -1;
		d->exit_status = -1;
		snprintf(d->dir, sizeof(d->dir), "/tmp/vmedia-attack.XXXXXX");
		if (!mkdtemp(d->dir))
			return -errno;
		snprintf(d->sock, sizeof(d->sock), "%s/sock", d->dir);
		snprintf(d->log, sizeof(d->log), "%s/stderr", d->dir);
	}
	if (!conf_text)
		return 0;
	snprintf(d->conf, sizeof(d->conf), "%s/vmediad.conf", d->dir);
	f = fopen(d->conf, "w");
	if (!f)
		return -errno;
	fputs(conf_text, f);
	return fclose(f) == 0 ? 0 : -EIO;
}

int atk_daemon_start(struct atk_daemon *d, const char *const *args)
{
	int r = atk_daemon_prepare(d, NULL);

	if (r < 0)
		return r;
	d->pid = daemon_spawn(d->sock, args, d->log);
	return d->pid < 0 ? (int)d->pid : 0;
}

bool atk_daemon_alive(struct atk_daemon *d)
{
	int status;

	return d->pid > 0 && waitpid(d->pid, &status, WNOHANG) == 0;
}

int atk_daemon_stop(struct atk_daemon *d, int timeout_ms)
{
	int status = daemon_wait_stop(&d->pid, timeout_ms);

	if (d->pid < 0)
		d->exit_status = status;
	return status;
}

void atk_daemon_cleanup(struct atk_daemon *d)
{
	if (d->pid > 0) {
		kill(d->pid, SIGKILL);
		waitpid(d->pid, NULL, 0);
		d->pid = -1;
	}
	/* Keep the log when asked to, for a look after a failure. */
	if (getenv("ATTACK_KEEP_LOG") && d->log[0]) {
		fprintf(stderr, "# daemon log kept in %s\n", d->log);
		return;
	}
	if (d->sock[0])
		unlink(d->sock);
	if (d->log[0])
		unlink(d->log);
	if (d->conf[0])
		unlink(d->conf);
	if (d->dir[0])
		rmdir(d->dir);
	d->sock[0] = d->log[0] = d->conf[0] = d->dir[0] = 0;
}

unsigned atk_log_count(const struct atk_daemon *d, const char *w1,
		       const char *w2)
{
	char line[1024];
	unsigned n = 0;
	FILE *f = fopen(d->log, "r");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		if ((!w1 || strstr(line, w1)) && (!w2 || strstr(line, w2)))
			n++;
	}
	fclose(f);
	return n;
}

int atk_log_domid(const struct atk_daemon *d, uint64_t ram_size)
{
	char line[1024], want[64];
	int domid = -1;
	FILE *f = fopen(d->log, "r");

	if (!f)
		return -1;
	/* link.c logs "test guest test-N: ... RAM 0x40000000+<size>". */
	snprintf(want, sizeof(want), "+%#llx", (unsigned long long)ram_size);
	while (fgets(line, sizeof(line), f)) {
		const char *p = strstr(line, "test guest test-");
		char *nl = strchr(line, '\n');

		if (nl)
			*nl = 0;
		if (p && strlen(line) >= strlen(want) &&
		    strcmp(line + strlen(line) - strlen(want), want) == 0)
			domid = atoi(p + strlen("test guest test-"));
	}
	fclose(f);
	return domid;
}

void atk_log_dump(const struct atk_daemon *d, unsigned lines)
{
	char line[1024];
	unsigned total = atk_log_count(d, NULL, NULL), n = 0;
	FILE *f = fopen(d->log, "r");

	if (!f)
		return;
	while (fgets(line, sizeof(line), f))
		if (n++ + lines >= total)
			printf("# vmediad: %s", line);
	fclose(f);
}

static long count_dir(const char *path)
{
	DIR *dir = opendir(path);
	struct dirent *e;
	long n = 0;

	if (!dir)
		return -1;
	while ((e = readdir(dir)))
		n += e->d_name[0] != '.';
	closedir(dir);
	return n;
}

static long count_lines(const char *path)
{
	FILE *f = fopen(path, "r");
	long n = 0;
	int c;

	if (!f)
		return -1;
	while ((c = getc(f)) != EOF)
		n += c == '\n';
	fclose(f);
	return n;
}

/* "Key:   123 kB" from /proc/pid/status. */
static long status_field(pid_t pid, const char *key)
{
	char path[64], line[256];
	long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, key, strlen(key)) == 0) {
			v = strtol(line + strlen(key), NULL, 10);
			break;
		}
	}
	fclose(f);
	return v;
}

int atk_stats(pid_t pid, struct atk_stats *st)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	st->fds = count_dir(path);
	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	st->maps = count_lines(path);
	st->rss_kb = status_field(pid, "VmRSS:");
	st->threads = status_field(pid, "Threads:");
	return st->fds < 0 || st->maps < 0 || st->rss_kb < 0 ? -ESRCH : 0;
}

/* The sanitizer runtime leaves its name in the binary. */
bool atk_daemon_is_asan(void)
{
	const char *path = getenv("VMEDIAD");
	static const char needle[] = "__asan_init";
	char buf[65536 + sizeof(needle)];
	size_t keep = 0, n;
	bool found = false;
	FILE *f = path ? fopen(path, "rb") : NULL;

	if (!f)
		return false;
	while (!found && (n = fread(buf + keep, 1, 65536, f)) > 0) {
		size_t len = keep + n;

		found = memmem(buf, len, needle, sizeof(needle) - 1) != NULL;
		keep = len < sizeof(needle) ? len : sizeof(needle) - 1;
		memmove(buf, buf + len - keep, keep);
	}
	fclose(f);
	return found;
}
