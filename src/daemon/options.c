/* SPDX-License-Identifier: MIT */
#include "daemon/options.h"

#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/registry.h"
#include "config.h"
#include "vmedia/evloop.h"

#define DEFAULT_MAX_GUESTS 64u

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: vmediad [OPTION]...\n"
		"Serve virtio-media devices (ID 48) to guests.\n\n"
		"  -c, --config FILE       settings and device rules (see "
		"vmediad(8));\n"
		"                          options given here override it\n"
		"  -x, --xen               serve Xen guests (the default "
		"unless\n"
		"                          only a test socket is asked for)\n"
		"  -X, --no-xen            do not serve Xen guests\n"
		"  -t, --test-socket PATH  serve test guests on a Unix socket\n"
		"                          (the userspace guest driver's "
		"transport)\n"
		"  -d, --device SPEC       add a device to each test guest, "
		"served by\n"
		"                          backend SPEC = NAME[:ARGS] (default "
		"vcam;\n"
		"                          vcam args: "
		"mplane,unpaced,fps=N,card=NAME)\n"
		"  -n, --devices N         devices per test guest (1-%u, "
		"default 1);\n"
		"                          devices not given by --device "
		"repeat the\n"
		"                          last one\n"
		"  -m, --shm-size BYTES    shared memory for MMAP buffers per "
		"device\n"
		"                          (default 1G, up to 4G; 0: none)\n"
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
	config_init(&o->config);
	o->log_level = o->config.log_level;
	o->testbus.num_devices = 0;
	o->testbus.max_guests = o->config.max_test_guests;
	o->shm_size = o->config.shm_size;
}

/* What the command line gave, so the config file fills only the rest. */
struct given {
	bool log_level, syslog, max_guests, shm_size;
};

/* Load --config FILE and take from it what the command line left out. */
static int apply_config(struct options *o, const char *path,
			const struct given *g, unsigned *want_devices)
{
	const struct config *c = &o->config;
	char err[512];

	if (config_load(&o->config, path, err, sizeof(err)) < 0) {
		fprintf(stderr, "vmediad: %s\n", err);
		return -1;
	}
	if (!g->log_level)
		o->log_level = c->log_level;
	if (!g->syslog)
		o->syslog = c->syslog;
	if (!g->max_guests)
		o->testbus.max_guests = c->max_test_guests;
	if (!g->shm_size)
		o->shm_size = c->shm_size;
	if (!o->testbus.socket_path)
		o->testbus.socket_path = c->test_socket;
	if (!*want_devices && !o->testbus.num_devices)
		*want_devices = c->test_devices;
	return 0;
}

/* A byte count with an optional K, M or G suffix (powers of 1024). */
static bool parse_size(const char *s, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;
	unsigned shift = 0;

	if (!*s || *s == '-' || *s == '+')
		return false;
	v = strtoull(s, &end, 10);
	if (*end == 'K' || *end == 'k')
		shift = 10;
	else if (*end == 'M' || *end == 'm')
		shift = 20;
	else if (*end == 'G' || *end == 'g')
		shift = 30;
	if (shift)
		end++;
	if (*end || v > (max >> shift))
		return false;
	*out = (uint64_t)v << shift;
	return true;
}

/*
 * Make the backend once and drop it, so a device that cannot work (a
 * camera that is not plugged in, a bad argument) stops vmediad with one
 * line now rather than failing each guest that connects later.
 */
static int check_backend(const char *spec)
{
	const struct vmedia_backend_class *cls;
	struct vmedia_identity id;
	struct evloop *loop;
	const char *args;
	char msg[256] = "";
	void *dev = NULL;
	int ret;

	cls = backend_lookup(spec, &args);
	loop = cls ? evloop_create() : NULL;
	if (!loop)
		return 0; /* unknown names are reported by the caller */
	ret = cls->create(args, loop, &dev, &id, msg, sizeof(msg));
	if (ret == 0)
		cls->destroy(dev);
	evloop_destroy(loop);
	if (ret == 0)
		return 0;
	fprintf(stderr, "vmediad: --device '%s': %s\n", spec,
		msg[0] ? msg : strerror(-ret));
	return -1;
}

static int add_device(struct options *o, const char *spec)
{
	const char *args;
	char known[128];

	if (o->testbus.num_devices >= TESTBUS_MAX_DEVICES) {
		fprintf(stderr, "vmediad: at most %u --device options\n",
			TESTBUS_MAX_DEVICES);
		return -1;
	}
	if (!backend_lookup(spec, &args)) {
		backend_list(known, sizeof(known));
		fprintf(stderr,
			"vmediad: unknown backend in --device '%s'; known: "
			"%s\n",
			spec, known);
		return -1;
	}
	if (check_backend(spec) < 0)
		return -1;
	o->testbus.device[o->testbus.num_devices++].backend = spec;
	return 0;
}

/*
 * Fill the device list up to `want` (0: as given, at least one). Without
 * --device, test guest device i takes the config's rule for domain "test"
 * (CONFIG_DEFAULT_BACKEND when none matches).
 */
static void finish_devices(struct options *o, unsigned want)
{
	struct testbus_config *t = &o->testbus;
	const char *last =
		t->num_devices ? t->device[t->num_devices - 1].backend : NULL;

	if (want == 0)
		want = t->num_devices ? t->num_devices : 1;
	for (unsigned i = t->num_devices; i < want; i++)
		t->device[i].backend =
			last ? last
			     : config_backend(&o->config, CONFIG_NO_DOMID,
					      CONFIG_TEST_DOMAIN, i);
	t->num_devices = want;
	for (unsigned i = 0; i < t->num_devices; i++) {
		t->device[i].shm_size = o->shm_size;
		t->device[i].limits = o->config.limits;
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
		{ "config", required_argument, NULL, 'c' },
		{ "xen", no_argument, NULL, 'x' },
		{ "no-xen", no_argument, NULL, 'X' },
		{ "test-socket", required_argument, NULL, 't' },
		{ "device", required_argument, NULL, 'd' },
		{ "devices", required_argument, NULL, 'n' },
		{ "shm-size", required_argument, NULL, 'm' },
		{ "max-guests", required_argument, NULL, 'g' },
		{ "log-level", required_argument, NULL, 'l' },
		{ "syslog", no_argument, NULL, 's' },
		{ "foreground", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned want_devices = 0;
	enum { XEN_AUTO, XEN_ON, XEN_OFF } xen = XEN_AUTO;
	const char *config_path = NULL;
	struct given given = { false };
	int c;

	set_defaults(o);
	optind = 1;
	while ((c = getopt_long(argc, argv, "c:xXt:d:n:m:g:l:sfhV", longopts,
				NULL)) != -1) {
		switch (c) {
		case 'c':
			config_path = optarg;
			break;
		case 'x':
			xen = XEN_ON;
			break;
		case 'X':
			xen = XEN_OFF;
			break;
		case 't':
			o->testbus.socket_path = optarg;
			break;
		case 'd':
			if (add_device(o, optarg) < 0)
				return -1;
			break;
		case 'n':
			if (!parse_uint(optarg, 1, TESTBUS_MAX_DEVICES,
					&want_devices))
				return bad_arg("--devices", optarg,
					       "a number from 1 to 11");
			break;
		case 'm':
			if (!parse_size(optarg, 1ull << 32, &o->shm_size))
				return bad_arg(
					"--shm-size", optarg,
					"bytes (K, M, G suffixes) up to 4G");
			given.shm_size = true;
			break;
		case 'g':
			if (!parse_uint(optarg, 1, 4096,
					&o->testbus.max_guests))
				return bad_arg("--max-guests", optarg,
					       "a number from 1 to 4096");
			given.max_guests = true;
			break;
		case 'l':
			if (!vm_log_parse_level(optarg, &o->log_level))
				return bad_arg("--log-level", optarg,
					       "one of err, warn, info, debug");
			given.log_level = true;
			break;
		case 's':
			o->syslog = true;
			given.syslog = true;
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
	if (config_path &&
	    apply_config(o, config_path, &given, &want_devices) < 0)
		return -1;
	if (want_devices && want_devices < o->testbus.num_devices) {
		fprintf(stderr,
			"vmediad: --devices %u is fewer than the %u --device "
			"options given\n",
			want_devices, o->testbus.num_devices);
		return -1;
	}
	finish_devices(o, want_devices);
	/*
	 * Xen is vmediad's job; a test socket alone (tests, the demo) is the
	 * one case where it stays off unless asked for.
	 */
	if (xen == XEN_AUTO && o->config.xen_given)
		xen = o->config.xen ? XEN_ON : XEN_OFF;
	if (xen == XEN_AUTO)
		o->serve_xen = !o->testbus.socket_path;
	else
		o->serve_xen = xen == XEN_ON;
	if (optind < argc) {
		fprintf(stderr,
			"vmediad: unexpected argument '%s'; try 'vmediad "
			"--help'\n",
			argv[optind]);
		return -1;
	}
	return 0;
}

void options_free(struct options *o)
{
	config_free(&o->config);
}
