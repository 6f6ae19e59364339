/* SPDX-License-Identifier: MIT */
/* vmediad's command line. */
#ifndef VMEDIA_DAEMON_OPTIONS_H
#define VMEDIA_DAEMON_OPTIONS_H

#include <stdbool.h>
#include <stdint.h>

#include "daemon/conffile.h"
#include "testbus/testbus.h"
#include "vmedia/log.h"

struct options {
	struct testbus_config testbus; /* socket_path NULL: no test transport */
	uint64_t shm_size;	       /* per device; 0 = no MMAP buffers */
	enum vm_log_level log_level;
	bool syslog;
	bool serve_xen; /* watch xenstore and serve Xen guests */
	/*
	 * --config FILE, or the defaults without one. It owns the string
	 * testbus.socket_path points at when the file gave it, and holds the
	 * rules the Xen transport matches each guest device against.
	 */
	struct config config;
};

/*
 * Fill opts from argv. Returns 0 to run, 1 when the command is done
 * (--help, --version), or -1 after printing one line about a bad argument.
 */
int options_parse(struct options *opts, int argc, char **argv);
/* Release what options_parse() allocated (the config). */
void options_free(struct options *opts);

#endif
