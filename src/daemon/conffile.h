/* SPDX-License-Identifier: MIT */
/*
 * vmediad's configuration file (--config FILE): daemon settings, per-device
 * limits, and the rules that choose each guest device's backend. The
 * format is documented in doc/vmediad.8 and xen-config/vmediad.conf:
 *
 *   [daemon]                      log-level, syslog, xen, test-socket,
 *                                 test-devices, max-test-guests
 *   [limits]                      max-sessions, max-events, max-userptr,
 *                                 shm-size
 *   [device "NAME"]               a rule: domain or domid, devid, backend
 *
 * Parsing is strict: an unknown section or key, a bad or out-of-range
 * value, a key given twice or an unknown backend fails the whole file with
 * one line "FILE:LINE: what is wrong; what would be right", because a typo
 * that silently falls back to a default would hand a guest the wrong
 * device.
 */
#ifndef VMEDIA_DAEMON_CONFFILE_H
#define VMEDIA_DAEMON_CONFFILE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "vmedia/log.h"
#include "vmedia/media_device.h"

/* The backend of a device no rule matches. */
#define CONFIG_DEFAULT_BACKEND "vcam"

/* A domid or devid field that matches anything ("*"). */
#define CONFIG_ANY (-1)
/* config_match()'s domid for guests that have none (test guests). */
#define CONFIG_NO_DOMID (-1)
/* Test-transport guests are matched by this domain name. */
#define CONFIG_TEST_DOMAIN "test"

/* Xen's first reserved domid is 0x7ff0 (DOMID_FIRST_RESERVED). */
#define CONFIG_DOMID_MAX 32751
#define CONFIG_DEVID_MAX 65535
#define CONFIG_NAME_MAX	 32 /* rule names: 1..31 characters + NUL */
/* Longer lines are refused rather than cut: a cut line would parse. */
#define CONFIG_LINE_MAX	 1024
#define CONFIG_RULES_MAX 1024

/* One [device "NAME"] rule. */
struct config_device {
	char name[CONFIG_NAME_MAX];
	char *domain;  /* glob (* and ?) on the domain name; NULL: by domid */
	int domid;     /* CONFIG_ANY, or the domid when domain is NULL */
	int devid;     /* CONFIG_ANY or 0..CONFIG_DEVID_MAX */
	char *backend; /* "name[:args]", name known to backend_lookup() */
	unsigned line; /* of the [device] header, for messages */
};

struct config {
	char *path; /* as given to config_load(); NULL before */

	/* [daemon] */
	enum vm_log_level log_level; /* default info */
	bool syslog;		     /* default no */
	bool xen;		     /* serve Xen guests; default yes */
	bool xen_given;		     /* the file said so (xen = ...) */
	char *test_socket;	     /* NULL: no test transport */
	unsigned test_devices;	     /* per test guest, default 1 */
	unsigned max_test_guests;    /* default 64 */

	/* [limits]: per guest device */
	struct media_limits limits; /* always filled (never 0 = default) */
	uint64_t shm_size;	    /* SHM region 0; 0 = no MMAP buffers */

	/*
	 * [xen]: where Xen guests' SHM windows go. Device devid's window is
	 * [xen_shm_base + devid * xen_shm_size, + xen_shm_size); size 0:
	 * no MMAP buffers for Xen guests.
	 */
	uint64_t xen_shm_base;
	uint64_t xen_shm_size;

	/* [device "NAME"] rules, in file order: the first match wins. */
	struct config_device *devices;
	unsigned num_devices;
};

/* Fill c with the defaults (no rules). config_free() is still required. */
void config_init(struct config *c);

/*
 * Read the file at path into c (which config_init() prepared; values the
 * file does not give take their defaults). Returns 0, or -1 with one line
 * in err: "PATH:LINE: ..." for a bad line, "PATH: ..." when the file
 * cannot be read. On failure c is left as it was.
 */
int config_load(struct config *c, const char *path, char *err, size_t err_len);
/* The same from an open stream; name is used in messages. */
int config_load_stream(struct config *c, FILE *f, const char *name, char *err,
		       size_t err_len);

/* Release what config_load() allocated; c is back to its defaults. */
void config_free(struct config *c);

/*
 * The first rule matching a guest device, or NULL (serve
 * CONFIG_DEFAULT_BACKEND). domid is CONFIG_NO_DOMID for guests that have
 * none; domain_name may be NULL when unknown (then only "domain = *" and
 * domid rules can match).
 */
const struct config_device *config_match(const struct config *c, int domid,
					 const char *domain_name,
					 unsigned devid);

/* The backend spec for a guest device: the matching rule's, or the default. */
const char *config_backend(const struct config *c, int domid,
			   const char *domain_name, unsigned devid);

#endif
