/* SPDX-License-Identifier: MIT */
/*
 * The configuration file parser: good files, every error message (pinned
 * word for word, because the message is the interface an admin sees), and
 * which rule a guest device matches.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/conffile.h"
#include "tap.h"
#include "unit/config_cases.h"

#define NAME "test.conf"

static char err[512];

/* Parse text (len bytes, so a test can embed NUL) into c. */
static int load_n(struct config *c, const char *text, size_t len)
{
	FILE *f;
	int ret;

	err[0] = '\0';
	/* fmemopen() refuses a zero size: an empty file is a read of "". */
	f = len ? fmemopen((void *)text, len, "r") : fopen("/dev/null", "r");
	if (!f) {
		tap_fail(__FILE__, __LINE__, "fmemopen: %s", strerror(errno));
		return -2;
	}
	ret = config_load_stream(c, f, NAME, err, sizeof(err));
	fclose(f);
	return ret;
}

static int load(struct config *c, const char *text)
{
	return load_n(c, text, strlen(text));
}

/* ---- good files --------------------------------------------------------- */

static void check_defaults(const struct config *c)
{
	TAP_EQ(c->log_level, VM_LOG_INFO);
	TAP_EQ(c->syslog, false);
	TAP_EQ(c->xen, true);
	TAP_CHECK(c->test_socket == NULL, "test_socket %s", c->test_socket);
	TAP_EQ(c->test_devices, 1);
	TAP_EQ(c->max_test_guests, 64);
	TAP_EQ(c->limits.max_sessions, 256);
	TAP_EQ(c->limits.max_events, 1024);
	TAP_EQ(c->limits.max_userptr_bytes, 1ull << 30);
	TAP_EQ(c->shm_size, 1ull << 30);
	TAP_EQ(c->xen_shm_base, 0x3A000000ull);
	TAP_EQ(c->xen_shm_size, 32ull << 20);
	TAP_EQ(c->num_devices, 0);
}

static void test_defaults(void)
{
	struct config c;

	config_init(&c);
	check_defaults(&c);
	TAP_CHECK(c.path == NULL, "path set before a load");
	TAP_CHECK(config_match(&c, 5, "guest", 0) == NULL, "a rule matched");
	TAP_CHECK(strcmp(config_backend(&c, 5, "guest", 0), "vcam") == 0,
		  "default backend");
	config_free(&c);
}

static void test_empty_file(void)
{
	struct config c;

	config_init(&c);
	TAP_EQ(load(&c, ""), 0);
	check_defaults(&c);
	TAP_CHECK(c.path && strcmp(c.path, NAME) == 0, "path %s", c.path);
	config_free(&c);
}

static void test_comments_only(void)
{
	struct config c;

	config_init(&c);
	TAP_EQ(load(&c, "# vmediad\n\n   \t\n  # indented\n\t\n"), 0);
	check_defaults(&c);
	config_free(&c);
}

static const char full_file[] =
	"# /etc/vmedia/vmediad.conf\n"
	"[daemon]\n"
	"log-level = debug          # err|warn|info|debug\n"
	"syslog = yes\n"
	"test-socket = /run/vmedia/test.sock   # optional\n"
	"test-devices = 3\n"
	"max-test-guests = 8\n"
	"xen = no\n"
	"[limits]\n"
	"max-sessions = 16\n"
	"max-events = 4096\n"
	"max-userptr = 2G\n"
	"shm-size = 256M\n"
	"[device \"cam0\"]\n"
	"domain = media-guest\n"
	"devid = 0\n"
	"backend = vcam:mplane,fps=15\n"
	"[device \"by-id\"]\n"
	"domid = 7\n"
	"backend = vcam\n"
	"[device \"rest\"]\n"
	"domain = *\n"
	"devid = *\n"
	"backend = vcam:unpaced\n"
	"[xen]\n"
	"shm-base = 0x800000000  # high in RAM1: refused later, not here\n"
	"shm-size = 16M\n";

static void test_full_file(void)
{
	struct config c;
	const struct config_device *r;

	config_init(&c);
	TAP_CHECK(load(&c, full_file) == 0, "%s", err);
	TAP_EQ(c.log_level, VM_LOG_DEBUG);
	TAP_EQ(c.syslog, true);
	TAP_EQ(c.xen, false);
	TAP_CHECK(c.test_socket &&
			  !strcmp(c.test_socket, "/run/vmedia/test.sock"),
		  "test_socket %s", c.test_socket);
	TAP_EQ(c.test_devices, 3);
	TAP_EQ(c.max_test_guests, 8);
	TAP_EQ(c.limits.max_sessions, 16);
	TAP_EQ(c.limits.max_events, 4096);
	TAP_EQ(c.limits.max_userptr_bytes, 2ull << 30);
	TAP_EQ(c.shm_size, 256ull << 20);
	TAP_EQ(c.xen_shm_base, 0x800000000ull);
	TAP_EQ(c.xen_shm_size, 16ull << 20);
	TAP_EQ(c.num_devices, 3);
	if (c.num_devices == 3) {
		r = &c.devices[0];
		TAP_CHECK(!strcmp(r->name, "cam0"), "name %s", r->name);
		TAP_CHECK(r->domain && !strcmp(r->domain, "media-guest"),
			  "domain %s", r->domain);
		TAP_EQ(r->devid, 0);
		TAP_CHECK(!strcmp(r->backend, "vcam:mplane,fps=15"), "%s",
			  r->backend);
		TAP_EQ(r->line, 14);
		r = &c.devices[1];
		TAP_CHECK(r->domain == NULL, "by-id has a domain");
		TAP_EQ(r->domid, 7);
		TAP_EQ(r->devid, CONFIG_ANY);
		r = &c.devices[2];
		TAP_CHECK(r->domain && !strcmp(r->domain, "*"), "rest domain");
		TAP_EQ(r->devid, CONFIG_ANY);
	}
	config_free(&c);
	check_defaults(&c);
}

static void test_whitespace(void)
{
	struct config c;

	config_init(&c);
	TAP_CHECK(load(&c, "  [ limits ]  \r\n"
			   "\tmax-sessions=5\t# tab, no blanks around '='\r\n"
			   "max-events   =   20   \r\n"
			   "[device\t  \"x.y_z-1\"]\n"
			   "  domain=guest#comment right after the value\n"
			   "backend = vcam:card=My Camera\n") == 0,
		  "%s", err);
	TAP_EQ(c.limits.max_sessions, 5);
	TAP_EQ(c.limits.max_events, 20);
	TAP_EQ(c.num_devices, 1);
	if (c.num_devices == 1) {
		TAP_CHECK(!strcmp(c.devices[0].name, "x.y_z-1"), "name");
		TAP_CHECK(!strcmp(c.devices[0].domain, "guest"), "domain '%s'",
			  c.devices[0].domain);
		TAP_CHECK(!strcmp(c.devices[0].backend, "vcam:card=My Camera"),
			  "backend '%s'", c.devices[0].backend);
	}
	config_free(&c);
}

static void test_booleans(void)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };
	char text[64];
	struct config c;

	for (size_t i = 0; i < 4; i++) {
		config_init(&c);
		snprintf(text, sizeof(text), "[daemon]\nsyslog = %s\n", yes[i]);
		TAP_CHECK(load(&c, text) == 0 && c.syslog, "%s: %s", yes[i],
			  err);
		snprintf(text, sizeof(text), "[daemon]\nxen = %s\n", no[i]);
		TAP_CHECK(load(&c, text) == 0 && !c.xen, "%s: %s", no[i], err);
		config_free(&c);
	}
}

static void test_sizes(void)
{
	static const struct {
		const char *text;
		uint64_t bytes;
	} cases[] = {
		{ "0", 0 },	      { "4096", 4096 },
		{ "8k", 8192 },	      { "16M", 16ull << 20 },
		{ "1g", 1ull << 30 }, { "4G", 4ull << 30 },
		{ "0004K", 4096 },
	};
	char text[64];
	struct config c;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		config_init(&c);
		snprintf(text, sizeof(text), "[limits]\nshm-size = %s\n",
			 cases[i].text);
		TAP_CHECK(load(&c, text) == 0, "%s: %s", cases[i].text, err);
		TAP_EQ(c.shm_size, cases[i].bytes);
		config_free(&c);
	}
}

/* A failed load changes nothing: the daemon keeps what it had. */
static void test_failed_load_keeps_config(void)
{
	struct config c;

	config_init(&c);
	TAP_EQ(load(&c, "[limits]\nmax-sessions = 7\n"), 0);
	TAP_EQ(load(&c, "[limits]\nmax-sessions = 9\nbogus = 1\n"), -1);
	TAP_EQ(c.limits.max_sessions, 7);
	TAP_EQ(load(&c, "[device \"a\"]\ndomain = *\nbackend = vcam\n"), 0);
	TAP_EQ(c.limits.max_sessions, 256); /* a reload starts from defaults */
	TAP_EQ(c.num_devices, 1);
	config_free(&c);
}

/* ---- every error message ------------------------------------------------ */

static const struct err_case *cur_case;

static void run_err_case(void)
{
	struct config c;

	config_init(&c);
	TAP_EQ(load(&c, cur_case->text), -1);
	TAP_CHECK(strcmp(err, cur_case->want) == 0, "got  '%s'\n# want '%s'",
		  err, cur_case->want);
	TAP_CHECK(!strchr(err, '\n'), "the message is more than one line");
	check_defaults(&c);
	config_free(&c);
}

static void test_nul_byte(void)
{
	static const char text[] = "[daemon]\nsyslog = no\0yes\n";
	struct config c;

	config_init(&c);
	TAP_EQ(load_n(&c, text, sizeof(text) - 1), -1);
	TAP_CHECK(!strcmp(err, "test.conf:2: control character 0x00 in the "
			       "line; the file must be plain text"),
		  "%s", err);
	config_free(&c);
}

static void test_huge_line(void)
{
	size_t len = 1u << 20;
	char *text = malloc(len + 16);
	struct config c;

	if (!text) {
		tap_fail(__FILE__, __LINE__, "out of memory");
		return;
	}
	memcpy(text, "[daemon]\n# ", 11);
	memset(text + 11, 'x', len);
	memcpy(text + 11 + len, "\n", 2);
	config_init(&c);
	TAP_EQ(load(&c, text), -1);
	TAP_CHECK(!strcmp(err, "test.conf:2: line is 1048578 characters long; "
			       "at most 1024"),
		  "%s", err);
	/* The longest line allowed still parses. */
	memset(text + 11, 'x', CONFIG_LINE_MAX - 2);
	memcpy(text + 9 + CONFIG_LINE_MAX, "\n", 2);
	TAP_CHECK(load(&c, text) == 0, "%s", err);
	config_free(&c);
	free(text);
}

static void test_too_many_rules(void)
{
	size_t cap = (CONFIG_RULES_MAX + 1) * 64, used = 0;
	char *text = malloc(cap);
	struct config c;

	if (!text) {
		tap_fail(__FILE__, __LINE__, "out of memory");
		return;
	}
	for (unsigned i = 0; i <= CONFIG_RULES_MAX; i++)
		used += (size_t)snprintf(text + used, cap - used,
					 "[device \"r%u\"]\ndomid = %u\n"
					 "backend = vcam\n",
					 i, i % 100);
	config_init(&c);
	TAP_EQ(load(&c, text), -1);
	TAP_CHECK(!strcmp(err, "test.conf:3073: too many device rules (at "
			       "most 1024)"),
		  "%s", err);
	config_free(&c);
	free(text);
}

static void test_cannot_open(void)
{
	struct config c;

	config_init(&c);
	TAP_EQ(config_load(&c, "/nonexistent/vmediad.conf", err, sizeof(err)),
	       -1);
	TAP_CHECK(!strcmp(err, "/nonexistent/vmediad.conf: cannot open: No "
			       "such file or directory"),
		  "%s", err);
	TAP_EQ(config_load(&c, "/", err, sizeof(err)), -1);
	TAP_CHECK(!strcmp(err, "/: cannot read: Is a directory"), "%s", err);
	config_free(&c);
}

static void test_load_from_path(void)
{
	char path[] = "/tmp/vmedia-test-config-XXXXXX";
	int fd = mkstemp(path);
	struct config c;

	if (fd < 0) {
		tap_fail(__FILE__, __LINE__, "mkstemp: %s", strerror(errno));
		return;
	}
	TAP_CHECK(write(fd, full_file, strlen(full_file)) ==
			  (ssize_t)strlen(full_file),
		  "write");
	close(fd);
	config_init(&c);
	TAP_CHECK(config_load(&c, path, err, sizeof(err)) == 0, "%s", err);
	TAP_CHECK(c.path && !strcmp(c.path, path), "path %s", c.path);
	TAP_EQ(c.num_devices, 3);
	config_free(&c);
	unlink(path);
}

/* The commented example shipped for Xen hosts must stay valid. */
static void test_shipped_example(void)
{
	const char *srcdir = getenv("srcdir"); /* set by the automake harness */
	char path[4096];
	struct config c;

	snprintf(path, sizeof(path), "%s/xen-config/vmediad.conf",
		 srcdir ? srcdir : ".");
	config_init(&c);
	TAP_CHECK(config_load(&c, path, err, sizeof(err)) == 0, "%s", err);
	TAP_EQ(c.num_devices, 3);
	TAP_EQ(c.xen, true);
	TAP_CHECK(!strcmp(config_backend(&c, 3, "media-guest", 1),
			  "vcam:mplane,fps=60"),
		  "media-guest device 1");
	TAP_CHECK(!strcmp(config_backend(&c, 4, "cam7", 0), "vcam:fps=15"),
		  "cam7");
	config_free(&c);
}

/* A message that does not fit is cut, never overrun. */
static void test_small_err_buffer(void)
{
	char small[12];
	struct config c;
	FILE *f = fmemopen((void *)"[bogus]\n", 8, "r");

	config_init(&c);
	memset(small, 'Z', sizeof(small));
	TAP_EQ(config_load_stream(&c, f, NAME, small, 8), -1);
	TAP_CHECK(small[7] == '\0' && small[8] == 'Z', "buffer overrun");
	fclose(f);
	config_free(&c);
}

/* ---- matching ----------------------------------------------------------- */

static const char rules[] = "[device \"exact\"]\n"
			    "domain = media-guest\n"
			    "devid = 1\n"
			    "backend = vcam:mplane\n"
			    "[device \"by-id\"]\n"
			    "domid = 5\n"
			    "backend = vcam:fps=5\n"
			    "[device \"glob\"]\n"
			    "domain = media-*\n"
			    "devid = *\n"
			    "backend = vcam:fps=10\n"
			    "[device \"one-char\"]\n"
			    "domain = cam?\n"
			    "backend = vcam:fps=20\n"
			    "[device \"tests\"]\n"
			    "domain = test\n"
			    "devid = 2\n"
			    "backend = vcam:unpaced\n";

static const char *rule_of(const struct config *c, int domid,
			   const char *domain, unsigned devid)
{
	const struct config_device *r = config_match(c, domid, domain, devid);

	return r ? r->name : "(none)";
}

static void match_is(int line, const struct config *c, int domid,
		     const char *dom, unsigned devid, const char *want)
{
	const char *got = rule_of(c, domid, dom, devid);

	if (strcmp(got, want) != 0)
		tap_fail(__FILE__, line, "(%d, %s, %u) matched %s, want %s",
			 domid, dom ? dom : "-", devid, got, want);
}

#define MATCH(c, domid, dom, devid, want) \
	match_is(__LINE__, c, domid, dom, devid, want)

static void test_match_order(void)
{
	struct config c;

	config_init(&c);
	TAP_CHECK(load(&c, rules) == 0, "%s", err);
	/* Both "exact" and "glob" match: the first in the file wins. */
	MATCH(&c, 9, "media-guest", 1, "exact");
	MATCH(&c, 9, "media-guest", 0, "glob");
	MATCH(&c, 9, "media-guest", 7, "glob");
	MATCH(&c, 9, "media-", 0, "glob");
	MATCH(&c, 9, "other", 0, "(none)");
	TAP_CHECK(
		!strcmp(config_backend(&c, 9, "media-guest", 1), "vcam:mplane"),
		"backend of exact");
	TAP_CHECK(!strcmp(config_backend(&c, 9, "other", 0), "vcam"),
		  "the default backend");
	config_free(&c);
}

static void test_match_wildcards(void)
{
	struct config c;

	config_init(&c);
	TAP_CHECK(load(&c, rules) == 0, "%s", err);
	MATCH(&c, 9, "cam1", 0, "one-char");
	MATCH(&c, 9, "cam1", 65535, "one-char"); /* devid left out = any */
	MATCH(&c, 9, "cam", 0, "(none)");
	MATCH(&c, 9, "cam12", 0, "(none)");
	TAP_CHECK(load(&c, "[device \"all\"]\ndomain = *\nbackend = vcam\n") ==
			  0,
		  "%s", err);
	MATCH(&c, 0, "x", 0, "all");
	MATCH(&c, CONFIG_NO_DOMID, NULL, 3, "all"); /* even without a name */
	TAP_CHECK(load(&c, "[device \"ids\"]\ndomid = *\ndevid = 4\n"
			   "backend = vcam\n") == 0,
		  "%s", err);
	MATCH(&c, 12, NULL, 4, "ids");
	MATCH(&c, CONFIG_NO_DOMID, "test", 4, "ids");
	MATCH(&c, 12, NULL, 3, "(none)");
	config_free(&c);
}

static void test_match_domid_vs_name(void)
{
	struct config c;

	config_init(&c);
	TAP_CHECK(load(&c, rules) == 0, "%s", err);
	MATCH(&c, 5, "anything", 0, "by-id");
	MATCH(&c, 5, NULL, 0, "by-id");
	/* A name rule ahead of the domid rule still wins for its name. */
	MATCH(&c, 5, "media-guest", 1, "exact");
	/* A domid rule never matches by name, nor a guest without one. */
	MATCH(&c, 6, "5", 0, "(none)");
	MATCH(&c, CONFIG_NO_DOMID, NULL, 0, "(none)");
	/* A name rule needs a name. */
	MATCH(&c, 9, NULL, 1, "(none)");
	/* Test guests: no domid, named "test". */
	MATCH(&c, CONFIG_NO_DOMID, CONFIG_TEST_DOMAIN, 2, "tests");
	MATCH(&c, CONFIG_NO_DOMID, CONFIG_TEST_DOMAIN, 1, "(none)");
	TAP_CHECK(load(&c, "[device \"dom0\"]\ndomid = 0\nbackend = vcam\n") ==
			  0,
		  "%s", err);
	MATCH(&c, 0, NULL, 0, "dom0");
	MATCH(&c, CONFIG_NO_DOMID, NULL, 0, "(none)");
	config_free(&c);
}

int main(void)
{
	tap_run("defaults", test_defaults);
	tap_run("empty file", test_empty_file);
	tap_run("comments and blank lines only", test_comments_only);
	tap_run("full valid file", test_full_file);
	tap_run("comments, blanks, tabs and CRLF", test_whitespace);
	tap_run("booleans", test_booleans);
	tap_run("sizes with K, M, G suffixes", test_sizes);
	tap_run("a failed load keeps the config",
		test_failed_load_keeps_config);
	for (size_t i = 0; i < config_num_err_cases; i++) {
		char name[96];

		cur_case = &config_err_cases[i];
		snprintf(name, sizeof(name), "error: %s", cur_case->name);
		tap_run(name, run_err_case);
	}
	tap_run("error: NUL byte", test_nul_byte);
	tap_run("error: huge line", test_huge_line);
	tap_run("error: too many rules", test_too_many_rules);
	tap_run("error: file cannot be opened or read", test_cannot_open);
	tap_run("error: message cut to the buffer", test_small_err_buffer);
	tap_run("load from a path", test_load_from_path);
	tap_run("the shipped xen-config/vmediad.conf", test_shipped_example);
	tap_run("match: first rule wins", test_match_order);
	tap_run("match: wildcards", test_match_wildcards);
	tap_run("match: domid rules vs name rules", test_match_domid_vs_name);
	return tap_done();
}
