/* SPDX-License-Identifier: MIT */
/*
 * Inside the configuration parser: the state conffile.c keeps while reading
 * a file, shared with conffile_keys.c, which knows what each key accepts.
 */
#ifndef VMEDIA_DAEMON_CONFFILE_PARSE_H
#define VMEDIA_DAEMON_CONFFILE_PARSE_H

#include <stddef.h>

#include "daemon/conffile.h"
#include "vmedia/compiler.h"

enum section { SEC_NONE, SEC_DAEMON, SEC_LIMITS, SEC_XEN, SEC_DEVICE };

struct parser;

/* A key of a section and what sets it; val is trimmed and non-empty. */
struct key {
	const char *name;
	int (*set)(struct parser *p, const char *val);
};

#define MAX_KEYS 8

struct parser {
	struct config *c;
	const char *name; /* the file, for messages */
	unsigned line;	  /* 0: the message is about the whole file */
	char *err;
	size_t err_len;
	enum section sec;
	const struct key *keys; /* the open section's keys */
	size_t num_keys;
	unsigned seen[MAX_KEYS]; /* line each key was given on, 0 = not yet */
	unsigned sec_line[SEC_DEVICE]; /* first [daemon]/[limits]/[xen] line */
	char sec_name[CONFIG_NAME_MAX + 16]; /* "[daemon]", "[device \"x\"]" */
	const char *key; /* the key being set, for messages */
};

/* Record one line "NAME:LINE: ..." (or "NAME: ..." when line is 0); -1. */
int config_fail(struct parser *p, const char *fmt, ...) VM_PRINTF(2, 3);

/* The rule being read (only in a [device] section). */
static inline struct config_device *config_cur_rule(struct parser *p)
{
	return &p->c->devices[p->c->num_devices - 1];
}

/* The keys of each section; a device rule's are indexed by these. */
enum { K_DOMAIN, K_DOMID, K_DEVID, K_BACKEND };

extern const struct key config_daemon_keys[];
extern const struct key config_limits_keys[];
extern const struct key config_xen_keys[];
extern const struct key config_device_keys[];
extern const size_t config_num_daemon_keys, config_num_limits_keys,
	config_num_xen_keys, config_num_device_keys;

#endif
