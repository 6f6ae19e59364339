/* SPDX-License-Identifier: MIT */
#include "daemon/options.h"

#include <getopt.h>
#include <limits.h>
#include <linux/videodev2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

#define DEFAULT_CARD	   "vmedia virtual camera"
#define DEFAULT_MAX_GUESTS 64u

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: vmediad [OPTION]...\n"
		"Serve virtio-media devices (ID 48) to guests.\n\n"
		"  -t, --test-socket PATH  serve test guests on a Unix socket\n"
		"                          (the userspace guest driver's "
		"transport)\n"
		"  -n, --devices N         devices per test guest (1-%u, "
		"default 1)\n"
		"  -g, --max-guests N      test guests served at once (default "
		"%u)\n"
		"  -l, --log-level LEVEL   err, warn, info (default) or debug\n"
		"  -s, --syslog            log to syslog instead of stderr\n"
		"  -f, --foreground        accepted for compatibility; "
		"vmediad\n"
		"                          never forks (systemd Type=exec)\n"
		"  -h, --help              this text\n"
		"  -V, --version           print the version\n",
		TESTBUS_MAX_DEVICES, DEFAULT_MAX_GUESTS);
}

/* A whole decimal number in [min, max], or false. */
static bool parse_uint(const char *s, unsigned min, unsigned max, unsigned *out)
{
	char *end;
	unsigned long v;

	if (!*s || *s == '-' || *s == '+')
		return false;
	v = strtoul(s, &end, 10);
	if (*end || v < min || v > max)
		return false;
	*out = (unsigned)v;
	return true;
}

static void set_defaults(struct options *o)
{
	memset(o, 0, sizeof(*o));
	o->log_level = VM_LOG_INFO;
	o->testbus.num_devices = 1;
	o->testbus.max_guests = DEFAULT_MAX_GUESTS;
	for (unsigned i = 0; i < TESTBUS_MAX_DEVICES; i++) {
		o->testbus.device[i] = (struct testbus_device_config){
			.card = DEFAULT_CARD,
			.device_caps =
				V4L2_CAP_VIDEO_CAPTURE | V4L2_CAP_STREAMING,
			.device_type = 0,
		};
	}
}

static int bad_arg(const char *opt, const char *val, const char *want)
{
	fprintf(stderr, "vmediad: bad value '%s' for %s: %s\n", val, opt, want);
	return -1;
}

int options_parse(struct options *o, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "test-socket", required_argument, NULL, 't' },
		{ "devices", required_argument, NULL, 'n' },
		{ "max-guests", required_argument, NULL, 'g' },
		{ "log-level", required_argument, NULL, 'l' },
		{ "syslog", no_argument, NULL, 's' },
		{ "foreground", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	set_defaults(o);
	optind = 1;
	while ((c = getopt_long(argc, argv, "t:n:g:l:sfhV", longopts, NULL)) !=
	       -1) {
		switch (c) {
		case 't':
			o->testbus.socket_path = optarg;
			break;
		case 'n':
			if (!parse_uint(optarg, 1, TESTBUS_MAX_DEVICES,
					&o->testbus.num_devices))
				return bad_arg("--devices", optarg,
					       "a number from 1 to 11");
			break;
		case 'g':
			if (!parse_uint(optarg, 1, 4096,
					&o->testbus.max_guests))
				return bad_arg("--max-guests", optarg,
					       "a number from 1 to 4096");
			break;
		case 'l':
			if (!vm_log_parse_level(optarg, &o->log_level))
				return bad_arg("--log-level", optarg,
					       "one of err, warn, info, debug");
			break;
		case 's':
			o->syslog = true;
			break;
		case 'f':
			break;
		case 'h':
			usage(stdout);
			return 1;
		case 'V':
			printf("vmediad %s\n", PACKAGE_VERSION);
			return 1;
		default:
			fprintf(stderr, "vmediad: try 'vmediad --help'\n");
			return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr,
			"vmediad: unexpected argument '%s'; try 'vmediad "
			"--help'\n",
			argv[optind]);
		return -1;
	}
	return 0;
}
