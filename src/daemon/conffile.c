/* SPDX-License-Identifier: MIT */
/*
 * The configuration file parser: one pass, one line at a time, stopping at
 * the first error. vmediad refuses to start on a bad file, so one precise
 * line ("FILE:LINE: what is wrong; what would be right") serves the admin
 * better than a list of knock-on errors. The file is parsed into a scratch
 * config that replaces the caller's only when every line was good.
 */
#include "daemon/conffile.h"

#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "backends/registry.h"
#include "daemon/conffile_parse.h"
#include "testbus/testbus.h"
#include "xen/shm_window.h"

#define DEFAULT_MAX_TEST_GUESTS 64u

int config_fail(struct parser *p, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!p->err || !p->err_len)
		return -1;
	if (p->line)
		n = snprintf(p->err, p->err_len, "%s:%u: ", p->name, p->line);
	else
		n = snprintf(p->err, p->err_len, "%s: ", p->name);
	if (n < 0 || (size_t)n >= p->err_len)
		return -1;
	va_start(ap, fmt);
	vsnprintf(p->err + n, p->err_len - (size_t)n, fmt, ap);
	va_end(ap);
	return -1;
}

/* ---- sections ----------------------------------------------------------- */

static void known_keys(const struct key *keys, size_t n, char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < n && used < len; i++)
		used += (size_t)snprintf(buf + used, len - used, "%s%s",
					 i ? ", " : "", keys[i].name);
}

/* A rule is complete when its section ends: report at its header line. */
static int end_section(struct parser *p)
{
	char known[128];

	if (p->sec != SEC_DEVICE)
		return 0;
	p->line = config_cur_rule(p)->line;
	if (!p->seen[K_DOMAIN] && !p->seen[K_DOMID])
		return config_fail(
			p,
			"%s has no domain or domid; add domain = NAME, "
			"domid = N or domain = *",
			p->sec_name);
	if (!p->seen[K_BACKEND]) {
		backend_list(known, sizeof(known));
		return config_fail(
			p,
			"%s has no backend; add backend = NAME[:ARGS] "
			"(known: %s)",
			p->sec_name, known);
	}
	return 0;
}

static void open_section(struct parser *p, enum section sec,
			 const struct key *keys, size_t n)
{
	p->sec = sec;
	p->keys = keys;
	p->num_keys = n;
	memset(p->seen, 0, sizeof(p->seen));
}

static int open_fixed(struct parser *p, enum section sec, const char *name,
		      const struct key *keys, size_t n)
{
	snprintf(p->sec_name, sizeof(p->sec_name), "[%s]", name);
	if (p->sec_line[sec])
		return config_fail(
			p,
			"%s given twice (first at line %u); put all its "
			"keys in one section",
			p->sec_name, p->sec_line[sec]);
	p->sec_line[sec] = p->line;
	open_section(p, sec, keys, n);
	return 0;
}

static bool valid_rule_name(const char *s, size_t len)
{
	if (len == 0 || len >= CONFIG_NAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr("-_.", s[i]))
			return false;
	return true;
}

/* q is what follows "device": "NAME", quoted. */
static int open_rule(struct parser *p, const char *q)
{
	struct config *c = p->c;
	size_t len = strlen(q);
	struct config_device *r;

	if (len < 2 || q[0] != '"' || q[len - 1] != '"')
		return config_fail(p, "a device rule needs a quoted name: "
				      "[device \"NAME\"]");
	q++;
	len -= 2;
	if (!valid_rule_name(q, len))
		return config_fail(
			p,
			"bad rule name \"%.*s\": use 1..%d letters, digits, "
			"'-', '_' or '.'",
			(int)len, q, CONFIG_NAME_MAX - 1);
	for (unsigned i = 0; i < c->num_devices; i++)
		if (strlen(c->devices[i].name) == len &&
		    memcmp(c->devices[i].name, q, len) == 0)
			return config_fail(
				p,
				"[device \"%s\"] given twice (first at "
				"line %u); rule names must be unique",
				c->devices[i].name, c->devices[i].line);
	if (c->num_devices >= CONFIG_RULES_MAX)
		return config_fail(p, "too many device rules (at most %d)",
				   CONFIG_RULES_MAX);
	r = realloc(c->devices, (c->num_devices + 1) * sizeof(*r));
	if (!r)
		return config_fail(p, "out of memory");
	c->devices = r;
	r = &c->devices[c->num_devices++];
	*r = (struct config_device){ .domid = CONFIG_ANY,
				     .devid = CONFIG_ANY,
				     .line = p->line };
	memcpy(r->name, q, len);
	r->name[len] = '\0';
	snprintf(p->sec_name, sizeof(p->sec_name), "[device \"%s\"]", r->name);
	open_section(p, SEC_DEVICE, config_device_keys, config_num_device_keys);
	return 0;
}

static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
		*--e = '\0';
	return s;
}

/* s: a trimmed line starting with '['. */
static int start_section(struct parser *p, char *s)
{
	size_t len = strlen(s);
	unsigned line = p->line;

	if (s[len - 1] != ']')
		return config_fail(
			p,
			"'%s' is not a section header; write [daemon], "
			"[limits], [xen] or [device \"NAME\"]",
			s);
	s[len - 1] = '\0';
	s = trim(s + 1);
	if (end_section(p) < 0)
		return -1;
	p->line = line;
	if (strcmp(s, "daemon") == 0)
		return open_fixed(p, SEC_DAEMON, s, config_daemon_keys,
				  config_num_daemon_keys);
	if (strcmp(s, "limits") == 0)
		return open_fixed(p, SEC_LIMITS, s, config_limits_keys,
				  config_num_limits_keys);
	if (strcmp(s, "xen") == 0)
		return open_fixed(p, SEC_XEN, s, config_xen_keys,
				  config_num_xen_keys);
	if (strncmp(s, "device", 6) == 0 &&
	    (s[6] == '\0' || s[6] == ' ' || s[6] == '\t'))
		return open_rule(p, trim(s + 6));
	return config_fail(p,
			   "unknown section [%s] (known: [daemon], [limits], "
			   "[xen], [device \"NAME\"])",
			   s);
}

/* s: a trimmed line that is not a section header. */
static int set_key(struct parser *p, char *s)
{
	char *eq = strchr(s, '='), *key, *val, known[160];

	if (!eq)
		return config_fail(p, "missing '=' in '%s'; write KEY = VALUE",
				   s);
	*eq = '\0';
	key = trim(s);
	val = trim(eq + 1);
	if (!*key)
		return config_fail(p, "'= %s' has no key; write KEY = VALUE",
				   val);
	if (p->sec == SEC_NONE)
		return config_fail(p,
				   "'%s' is outside any section; put it under "
				   "[daemon], [limits] or [device \"NAME\"]",
				   key);
	for (size_t i = 0; i < p->num_keys; i++) {
		if (strcmp(key, p->keys[i].name) != 0)
			continue;
		if (p->seen[i])
			return config_fail(
				p, "'%s' given twice in %s (first at line %u)",
				key, p->sec_name, p->seen[i]);
		if (!*val)
			return config_fail(
				p, "'%s' has no value; write %s = VALUE", key,
				key);
		p->key = key;
		if (p->keys[i].set(p, val) < 0)
			return -1;
		p->seen[i] = p->line;
		return 0;
	}
	known_keys(p->keys, p->num_keys, known, sizeof(known));
	return config_fail(p, "unknown key '%s' in %s (known: %s)", key,
			   p->sec_name, known);
}

static int parse_line(struct parser *p, char *line, size_t len)
{
	char *s;

	/* A CRLF file edited elsewhere is still a good file. */
	if (len && line[len - 1] == '\n')
		line[--len] = '\0';
	if (len && line[len - 1] == '\r')
		line[--len] = '\0';
	if (len > CONFIG_LINE_MAX)
		return config_fail(p, "line is %zu characters long; at most %d",
				   len, CONFIG_LINE_MAX);
	/* Control bytes (NUL among them) mean a binary or damaged file. */
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)line[i];

		if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
			return config_fail(
				p,
				"control character 0x%02x in the line; "
				"the file must be plain text",
				ch);
	}
	s = strchr(line, '#');
	if (s)
		*s = '\0';
	s = trim(line);
	if (!*s)
		return 0;
	return *s == '[' ? start_section(p, s) : set_key(p, s);
}

/* ---- public ------------------------------------------------------------- */

void config_init(struct config *c)
{
	*c = (struct config){
		.log_level = VM_LOG_INFO,
		.xen = true,
		.test_devices = 1,
		.max_test_guests = DEFAULT_MAX_TEST_GUESTS,
		.limits = { .max_sessions = MEDIA_DEFAULT_MAX_SESSIONS,
			    .max_events = MEDIA_DEFAULT_MAX_EVENTS,
			    .max_userptr_bytes =
				    MEDIA_DEFAULT_MAX_USERPTR_BYTES },
		.shm_size = TESTBUS_DEFAULT_SHM_SIZE,
		.xen_shm_base = XEN_SHM_DEFAULT_BASE,
		.xen_shm_size = XEN_SHM_DEFAULT_SIZE,
	};
}

void config_free(struct config *c)
{
	for (unsigned i = 0; i < c->num_devices; i++) {
		free(c->devices[i].domain);
		free(c->devices[i].backend);
	}
	free(c->devices);
	free(c->test_socket);
	free(c->path);
	config_init(c);
}

int config_load_stream(struct config *c, FILE *f, const char *name, char *err,
		       size_t err_len)
{
	struct config tmp;
	struct parser p = {
		.c = &tmp, .name = name, .err = err, .err_len = err_len
	};
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int ret = 0;

	config_init(&tmp);
	errno = 0;
	while ((n = getline(&line, &cap, f)) >= 0) {
		p.line++;
		ret = parse_line(&p, line, (size_t)n);
		if (ret < 0)
			break;
		errno = 0;
	}
	if (ret == 0 && ferror(f)) {
		int e = errno ? errno : EIO;

		p.line = 0;
		ret = config_fail(&p, "cannot read: %s", strerror(e));
	}
	if (ret == 0)
		ret = end_section(&p);
	free(line);
	if (ret == 0) {
		tmp.path = strdup(name);
		if (!tmp.path) {
			p.line = 0;
			ret = config_fail(&p, "out of memory");
		}
	}
	if (ret < 0) {
		config_free(&tmp);
		return -1;
	}
	config_free(c);
	*c = tmp;
	return 0;
}

int config_load(struct config *c, const char *path, char *err, size_t err_len)
{
	FILE *f = fopen(path, "re");
	int ret;

	if (!f) {
		struct parser p = { .name = path,
				    .err = err,
				    .err_len = err_len };

		return config_fail(&p, "cannot open: %s", strerror(errno));
	}
	ret = config_load_stream(c, f, path, err, err_len);
	fclose(f);
	return ret;
}

static bool rule_matches(const struct config_device *r, int domid,
			 const char *domain_name, unsigned devid)
{
	if (r->devid != CONFIG_ANY && (unsigned)r->devid != devid)
		return false;
	if (r->domain)
		return strcmp(r->domain, "*") == 0 ||
		       (domain_name &&
			fnmatch(r->domain, domain_name, FNM_NOESCAPE) == 0);
	return r->domid == CONFIG_ANY || (domid >= 0 && r->domid == domid);
}

const struct config_device *config_match(const struct config *c, int domid,
					 const char *domain_name,
					 unsigned devid)
{
	for (unsigned i = 0; i < c->num_devices; i++)
		if (rule_matches(&c->devices[i], domid, domain_name, devid))
			return &c->devices[i];
	return NULL;
}

const char *config_backend(const struct config *c, int domid,
			   const char *domain_name, unsigned devid)
{
	const struct config_device *r =
		config_match(c, domid, domain_name, devid);

	return r ? r->backend : CONFIG_DEFAULT_BACKEND;
}
