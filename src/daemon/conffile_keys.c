/* SPDX-License-Identifier: MIT */
/*
 * What each configuration key accepts. Every check says in its message
 * what would be right, because the admin reads it once, at start-up, with
 * the file open in an editor.
 */
#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "backends/registry.h"
#include "daemon/conffile_parse.h"
#include "testbus/testbus.h"
#include "xen/shm_window.h" /* the window defaults; no Xen headers */

#define MAX_TEST_GUESTS 4096u
#define MAX_SESSIONS	4096u
#define MIN_EVENTS	16u /* the guest itself posts 16 event buffers */
#define MAX_EVENTS	65536u
#define PAGE		4096ull
#define MIN_USERPTR	PAGE
#define MAX_USERPTR	(64ull << 30)
/* The test transport spaces devices' SHM regions 4 GiB apart. */
#define MAX_SHM_SIZE	(4ull << 30)
#define DOMAIN_NAME_MAX 255u

/* ---- values ------------------------------------------------------------- */

/*
 * Strict decimal: at least one digit, no sign, no blanks, no "0x". A value
 * too big for 64 bits saturates, so it fails every range check instead of
 * wrapping into one.
 */
static bool parse_dec(const char *s, const char **end, uint64_t *out)
{
	uint64_t v = 0;

	if (!isdigit((unsigned char)*s))
		return false;
	for (; isdigit((unsigned char)*s); s++) {
		unsigned d = (unsigned)(*s - '0');

		v = v > (UINT64_MAX - d) / 10 ? UINT64_MAX : v * 10 + d;
	}
	*end = s;
	*out = v;
	return true;
}

static int parse_range(struct parser *p, const char *val, unsigned min,
		       unsigned max, unsigned *out)
{
	const char *end;
	uint64_t v;

	if (!parse_dec(val, &end, &v) || *end)
		return config_fail(
			p, "%s = %s: not a whole number; must be %u..%u",
			p->key, val, min, max);
	if (v < min || v > max)
		return config_fail(p, "%s = %s: must be %u..%u", p->key, val,
				   min, max);
	*out = (unsigned)v;
	return 0;
}

/* "*" or a number in 0..max. */
static int parse_id(struct parser *p, const char *val, unsigned max,
		    const char *what, int *out)
{
	const char *end;
	uint64_t v;

	if (strcmp(val, "*") == 0) {
		*out = CONFIG_ANY;
		return 0;
	}
	if (!parse_dec(val, &end, &v) || *end || v > max)
		return config_fail(p, "%s = %s: must be * or %s 0..%u", p->key,
				   val, what, max);
	*out = (int)v;
	return 0;
}

/* A byte count with an optional K, M or G suffix (powers of 1024). */
static bool parse_size(const char *s, uint64_t *out)
{
	const char *end;
	unsigned shift = 0;
	uint64_t v;

	if (!parse_dec(s, &end, &v))
		return false;
	if (*end == 'K' || *end == 'k')
		shift = 10;
	else if (*end == 'M' || *end == 'm')
		shift = 20;
	else if (*end == 'G' || *end == 'g')
		shift = 30;
	else if (*end)
		return false;
	if (shift && end[1])
		return false;
	*out = v > (UINT64_MAX >> shift) ? UINT64_MAX : v << shift;
	return true;
}

/* A size as the admin would write it: the largest exact suffix. */
static const char *fmt_size(uint64_t v, char buf[24])
{
	static const char suffix[] = "GMK";

	for (unsigned i = 0; i < 3; i++) {
		unsigned shift = 30 - 10 * i;

		if (v && v % (1ull << shift) == 0) {
			snprintf(buf, 24, "%llu%c",
				 (unsigned long long)(v >> shift), suffix[i]);
			return buf;
		}
	}
	snprintf(buf, 24, "%llu", (unsigned long long)v);
	return buf;
}

static int size_range(struct parser *p, const char *val, uint64_t min,
		      uint64_t max, uint64_t *out)
{
	char lo[24], hi[24];
	uint64_t v;

	if (!parse_size(val, &v))
		return config_fail(
			p,
			"%s = %s: not a size; write bytes with an optional "
			"K, M or G suffix, %s..%s",
			p->key, val, fmt_size(min, lo), fmt_size(max, hi));
	if (v < min || v > max)
		return config_fail(p, "%s = %s: must be %s..%s", p->key, val,
				   fmt_size(min, lo), fmt_size(max, hi));
	*out = v;
	return 0;
}

static int parse_bool(struct parser *p, const char *val, bool *out)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };

	for (size_t i = 0; i < ARRAY_SIZE(yes); i++) {
		if (strcmp(val, yes[i]) == 0 || strcmp(val, no[i]) == 0) {
			*out = strcmp(val, yes[i]) == 0;
			return 0;
		}
	}
	return config_fail(p, "%s = %s: must be yes or no", p->key, val);
}

static int set_string(struct parser *p, char **dst, const char *val)
{
	char *s = strdup(val);

	if (!s)
		return config_fail(p, "out of memory");
	free(*dst);
	*dst = s;
	return 0;
}

/* ---- [daemon] ----------------------------------------------------------- */

static int set_log_level(struct parser *p, const char *val)
{
	if (!vm_log_parse_level(val, &p->c->log_level))
		return config_fail(
			p, "log-level = %s: must be err, warn, info or debug",
			val);
	return 0;
}

static int set_syslog(struct parser *p, const char *val)
{
	return parse_bool(p, val, &p->c->syslog);
}

static int set_xen(struct parser *p, const char *val)
{
	p->c->xen_given = true;
	return parse_bool(p, val, &p->c->xen);
}

static int set_test_socket(struct parser *p, const char *val)
{
	size_t max = sizeof(((struct sockaddr_un *)NULL)->sun_path) - 1;

	if (val[0] != '/')
		return config_fail(
			p, "test-socket = %s: must be an absolute path", val);
	if (strlen(val) > max)
		return config_fail(
			p,
			"test-socket: the path is %zu bytes long; a Unix "
			"socket path has at most %zu",
			strlen(val), max);
	return set_string(p, &p->c->test_socket, val);
}

static int set_test_devices(struct parser *p, const char *val)
{
	return parse_range(p, val, 1, TESTBUS_MAX_DEVICES, &p->c->test_devices);
}

static int set_max_test_guests(struct parser *p, const char *val)
{
	return parse_range(p, val, 1, MAX_TEST_GUESTS, &p->c->max_test_guests);
}

const struct key config_daemon_keys[] = {
	{ "log-level", set_log_level },
	{ "syslog", set_syslog },
	{ "xen", set_xen },
	{ "test-socket", set_test_socket },
	{ "test-devices", set_test_devices },
	{ "max-test-guests", set_max_test_guests },
};

/* ---- [limits] ----------------------------------------------------------- */

static int set_max_sessions(struct parser *p, const char *val)
{
	return parse_range(p, val, 1, MAX_SESSIONS, &p->c->limits.max_sessions);
}

static int set_max_events(struct parser *p, const char *val)
{
	return parse_range(p, val, MIN_EVENTS, MAX_EVENTS,
			   &p->c->limits.max_events);
}

static int set_max_userptr(struct parser *p, const char *val)
{
	return size_range(p, val, MIN_USERPTR, MAX_USERPTR,
			  &p->c->limits.max_userptr_bytes);
}

/* Whole pages: the region is mapped into the guest page by page. */
static int set_shm_size(struct parser *p, const char *val)
{
	uint64_t v;

	if (size_range(p, val, 0, MAX_SHM_SIZE, &v) < 0)
		return -1;
	if (v % PAGE)
		return config_fail(
			p,
			"shm-size = %s: must be 0 (no MMAP buffers) or a "
			"multiple of 4K",
			val);
	p->c->shm_size = v;
	return 0;
}

const struct key config_limits_keys[] = {
	{ "max-sessions", set_max_sessions },
	{ "max-events", set_max_events },
	{ "max-userptr", set_max_userptr },
	{ "shm-size", set_shm_size },
};

/* ---- [xen] -------------------------------------------------------------- */

/* Window bases and sizes: whole 64K guest pages. */
#define XEN_SHM_MAX_BASE (1ull << 40) /* Arm guests' 40-bit address space */

static int set_xen_shm_base(struct parser *p, const char *val)
{
	char *end;
	uint64_t v;

	errno = 0;
	v = strtoull(val, &end, 16);
	if (strncmp(val, "0x", 2) != 0 || errno || *end ||
	    v >= XEN_SHM_MAX_BASE || v % XEN_SHM_ALIGN)
		return config_fail(p,
				   "shm-base = %s: must be a guest-physical "
				   "address like 0x3A000000, a multiple of "
				   "0x10000 below 1 TiB",
				   val);
	p->c->xen_shm_base = v;
	return 0;
}

static int set_xen_shm_size(struct parser *p, const char *val)
{
	uint64_t v;

	if (size_range(p, val, 0, MAX_SHM_SIZE, &v) < 0)
		return -1;
	if (v % XEN_SHM_ALIGN)
		return config_fail(p,
				   "shm-size = %s: must be 0 (no MMAP buffers "
				   "for Xen guests) or a multiple of 64K",
				   val);
	p->c->xen_shm_size = v;
	return 0;
}

const struct key config_xen_keys[] = {
	{ "shm-base", set_xen_shm_base },
	{ "shm-size", set_xen_shm_size },
};

/* ---- [device "NAME"] ---------------------------------------------------- */

static int both_domain_and_domid(struct parser *p, int other)
{
	if (!p->seen[other])
		return 0;
	return config_fail(
		p,
		"%s has both domain and domid (the other at line %u); "
		"give one of them",
		p->sec_name, p->seen[other]);
}

/*
 * A domain name, or a pattern with * and ? only: other fnmatch syntax and
 * quotes would make a rule that silently never matches.
 */
static int set_domain(struct parser *p, const char *val)
{
	size_t len = strlen(val);

	if (both_domain_and_domid(p, K_DOMID) < 0)
		return -1;
	if (len > DOMAIN_NAME_MAX)
		return config_fail(
			p, "domain: the name is %zu bytes long; at most %u",
			len, DOMAIN_NAME_MAX);
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)val[i];

		if (isspace(ch) || ch == '"' || ch == '\'')
			return config_fail(
				p,
				"domain = %s: write the name without "
				"quotes or blanks, e.g. domain = media-guest",
				val);
		if (ch == '[' || ch == ']' || ch == '\\')
			return config_fail(
				p,
				"domain = %s: only * and ? are wildcards; "
				"'[', ']' and '\\' are not allowed",
				val);
	}
	return set_string(p, &config_cur_rule(p)->domain, val);
}

static int set_domid(struct parser *p, const char *val)
{
	if (both_domain_and_domid(p, K_DOMAIN) < 0)
		return -1;
	return parse_id(p, val, CONFIG_DOMID_MAX, "a domain ID",
			&config_cur_rule(p)->domid);
}

static int set_devid(struct parser *p, const char *val)
{
	return parse_id(p, val, CONFIG_DEVID_MAX, "a device number",
			&config_cur_rule(p)->devid);
}

static int set_backend(struct parser *p, const char *val)
{
	const char *args;
	char known[128];

	if (!backend_lookup(val, &args)) {
		backend_list(known, sizeof(known));
		return config_fail(p, "unknown backend '%.*s' (known: %s)",
				   (int)strcspn(val, ":"), val, known);
	}
	return set_string(p, &config_cur_rule(p)->backend, val);
}

const struct key config_device_keys[] = {
	[K_DOMAIN] = { "domain", set_domain },
	[K_DOMID] = { "domid", set_domid },
	[K_DEVID] = { "devid", set_devid },
	[K_BACKEND] = { "backend", set_backend },
};

/* parser.seen[] holds one line per key of the open section. */
static_assert(ARRAY_SIZE(config_daemon_keys) <= MAX_KEYS &&
		      ARRAY_SIZE(config_limits_keys) <= MAX_KEYS &&
		      ARRAY_SIZE(config_xen_keys) <= MAX_KEYS &&
		      ARRAY_SIZE(config_device_keys) <= MAX_KEYS,
	      "a section has more keys than parser.seen[] holds");
const size_t config_num_daemon_keys = ARRAY_SIZE(config_daemon_keys);
const size_t config_num_limits_keys = ARRAY_SIZE(config_limits_keys);
const size_t config_num_xen_keys = ARRAY_SIZE(config_xen_keys);
const size_t config_num_device_keys = ARRAY_SIZE(config_device_keys);
