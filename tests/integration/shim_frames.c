/* SPDX-License-Identifier: MIT */
/*
 * shim_frames FILE FOURCC WIDTH HEIGHT COUNT
 *
 * Checks what `v4l2-ctl --stream-to=FILE` wrote through the shim: COUNT
 * whole frames of vcam's format, each carrying a valid stamp (sync and
 * CRC), with sequence numbers and timestamps strictly increasing.
 * Prints one line; exit status 0 when every frame is good.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/vcam/tpg.h"

static uint32_t fourcc_of(const char *s)
{
	return (uint32_t)s[0] | (uint32_t)s[1] << 8 | (uint32_t)s[2] << 16 |
	       (uint32_t)s[3] << 24;
}

/* One frame: 0, or 1 with a message. */
static int check_frame(const struct tpg_format *f, uint8_t *buf, unsigned i,
		       uint32_t *last_seq, uint64_t *last_ts)
{
	void *planes[TPG_MAX_PLANES];
	size_t sizes[TPG_MAX_PLANES];
	uint64_t ts;
	uint32_t seq;
	int r;

	tpg_split_buffer(f, buf, planes, sizes);
	r = tpg_read_stamp(f, planes, &seq, &ts);
	if (r) {
		printf("frame %u: no valid stamp (%s)\n", i, strerror(-r));
		return 1;
	}
	if (i > 0 && (seq <= *last_seq || ts <= *last_ts)) {
		printf("frame %u: sequence %u after %u, ts %llu after %llu\n",
		       i, seq, *last_seq, (unsigned long long)ts,
		       (unsigned long long)*last_ts);
		return 1;
	}
	*last_seq = seq;
	*last_ts = ts;
	return 0;
}

int main(int argc, char **argv)
{
	struct tpg_format f;
	uint32_t last_seq = 0;
	uint64_t last_ts = 0;
	unsigned count, i, bad = 0;
	uint8_t *buf;
	FILE *in;

	if (argc != 6 || strlen(argv[2]) != 4) {
		fprintf(stderr, "usage: %s FILE FOURCC WIDTH HEIGHT COUNT\n",
			argv[0]);
		return 2;
	}
	count = (unsigned)strtoul(argv[5], NULL, 10);
	if (tpg_format_init(&f, fourcc_of(argv[2]),
			    (uint32_t)strtoul(argv[3], NULL, 10),
			    (uint32_t)strtoul(argv[4], NULL, 10))) {
		fprintf(stderr, "unsupported format\n");
		return 2;
	}
	in = fopen(argv[1], "rb");
	buf = malloc(f.total_size);
	if (!in || !buf) {
		perror(argv[1]);
		return 2;
	}
	for (i = 0; i < count; i++) {
		if (fread(buf, 1, f.total_size, in) != f.total_size) {
			printf("only %u of %u frames\n", i, count);
			return 1;
		}
		bad += check_frame(&f, buf, i, &last_seq, &last_ts);
	}
	if (fread(buf, 1, 1, in) != 0) {
		printf("more than %u frames\n", count);
		bad++;
	}
	printf("%u frames, %u bad, sequences up to %u\n", count, bad, last_seq);
	free(buf);
	fclose(in);
	return bad ? 1 : 0;
}
