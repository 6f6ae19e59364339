/* SPDX-License-Identifier: MIT */
/*
 * make check without clang: a fuzz target's harness, linked against the
 * ordinary libraries instead of libFuzzer, runs every input of its seed
 * corpus and its regressions once, with all of the harness's checks (and
 * the sanitizers, in a --enable-sanitizers build). One TAP point per
 * input; a broken check aborts the program, which the TAP driver reports.
 *
 * FUZZ_NAME (the target) and FUZZ_DIR (tests/fuzz in the source tree)
 * come from the build.
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static unsigned points;

static int read_file(const char *path, uint8_t **data, size_t *size)
{
	FILE *f = fopen(path, "rb");
	long len;

	if (!f)
		return -errno;
	if (fseek(f, 0, SEEK_END) || (len = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET)) {
		fclose(f);
		return -EIO;
	}
	*data = malloc(len ? (size_t)len : 1);
	*size = (size_t)len;
	if (!*data || fread(*data, 1, *size, f) != *size) {
		free(*data);
		fclose(f);
		return -EIO;
	}
	fclose(f);
	return 0;
}

static void replay(const char *path)
{
	uint8_t *data = NULL;
	size_t size = 0;
	int r = read_file(path, &data, &size);

	if (r) {
		printf("not ok %u - %s: %s\n", ++points, path, strerror(-r));
		return;
	}
	/* Flushed first: if the input aborts, the log shows which. */
	printf("# replaying %s\n", path);
	fflush(stdout);
	LLVMFuzzerTestOneInput(data, size);
	free(data);
	printf("ok %u - %s\n", ++points, path);
}

/* Every regular file of dir/FUZZ_NAME but notes (README.md). */
static void replay_dir(const char *dir)
{
	char path[1024];
	struct dirent *e;
	DIR *d;

	snprintf(path, sizeof(path), "%s/%s/%s", FUZZ_DIR, dir, FUZZ_NAME);
	d = opendir(path);
	if (!d)
		return; /* no inputs of this kind */
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.' || strstr(e->d_name, ".md"))
			continue;
		snprintf(path, sizeof(path), "%s/%s/%s/%s", FUZZ_DIR, dir,
			 FUZZ_NAME, e->d_name);
		replay(path);
	}
	closedir(d);
}

int main(void)
{
	replay_dir("corpus");
	replay_dir("regressions");
	if (!points)
		printf("1..0 # SKIP no inputs for %s\n", FUZZ_NAME);
	else
		printf("1..%u\n", points);
	return 0;
}
