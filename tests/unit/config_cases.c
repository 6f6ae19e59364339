/* SPDX-License-Identifier: MIT */
/*
 * Files the configuration parser must refuse, each with the one line it
 * must print: the message is the interface an admin sees, so it is pinned
 * word for word.
 */
#include "unit/config_cases.h"

#include "vmedia/compiler.h"

#define DEV "[device \"d\"]\ndomain = *\n"

const struct err_case config_err_cases[] = {
	{ "unknown section", "[deamon]\n",
	  "test.conf:1: unknown section [deamon] (known: [daemon], [limits], "
	  "[xen], [device \"NAME\"])" },
	{ "unterminated section header", "\n[daemon\n",
	  "test.conf:2: '[daemon' is not a section header; write [daemon], "
	  "[limits], [xen] or [device \"NAME\"]" },
	{ "xen shm-base not hex", "[xen]\nshm-base = 973078528\n",
	  "test.conf:2: shm-base = 973078528: must be a guest-physical "
	  "address like 0x3A000000, a multiple of 0x10000 below 1 TiB" },
	{ "xen shm-base not 64K aligned", "[xen]\nshm-base = 0x3A001000\n",
	  "test.conf:2: shm-base = 0x3A001000: must be a guest-physical "
	  "address like 0x3A000000, a multiple of 0x10000 below 1 TiB" },
	{ "xen shm-base past 1 TiB", "[xen]\nshm-base = 0x10000000000\n",
	  "test.conf:2: shm-base = 0x10000000000: must be a guest-physical "
	  "address like 0x3A000000, a multiple of 0x10000 below 1 TiB" },
	{ "xen shm-size not 64K pages", "[xen]\nshm-size = 4K\n",
	  "test.conf:2: shm-size = 4K: must be 0 (no MMAP buffers for Xen "
	  "guests) or a multiple of 64K" },
	{ "xen shm-size too big", "[xen]\nshm-size = 5G\n",
	  "test.conf:2: shm-size = 5G: must be 0..4G" },
	{ "unknown key in [xen]", "[xen]\nshm = 1\n",
	  "test.conf:2: unknown key 'shm' in [xen] (known: shm-base, "
	  "shm-size)" },
	{ "device rule without a name", "[device]\n",
	  "test.conf:1: a device rule needs a quoted name: [device \"NAME\"]" },
	{ "device rule name not quoted", "[device cam0]\n",
	  "test.conf:1: a device rule needs a quoted name: [device \"NAME\"]" },
	{ "device rule name with a blank", "[device \"a b\"]\n",
	  "test.conf:1: bad rule name \"a b\": use 1..31 letters, digits, "
	  "'-', '_' or '.'" },
	{ "device rule name too long",
	  "[device \"abcdefghijklmnopqrstuvwxyz012345\"]\n",
	  "test.conf:1: bad rule name \"abcdefghijklmnopqrstuvwxyz012345\": "
	  "use 1..31 letters, digits, '-', '_' or '.'" },
	{ "section given twice", "[daemon]\n[limits]\n[daemon]\n",
	  "test.conf:3: [daemon] given twice (first at line 1); put all its "
	  "keys in one section" },
	{ "duplicate rule name",
	  DEV "backend = vcam\n[device \"e\"]\ndomid = 1\nbackend = vcam\n" DEV,
	  "test.conf:7: [device \"d\"] given twice (first at line 1); rule "
	  "names must be unique" },
	{ "unknown key in [daemon]", "[daemon]\nlog-levle = info\n",
	  "test.conf:2: unknown key 'log-levle' in [daemon] (known: log-level, "
	  "syslog, xen, test-socket, test-devices, max-test-guests)" },
	{ "unknown key in [limits]", "[limits]\nmax-session = 3\n",
	  "test.conf:2: unknown key 'max-session' in [limits] (known: "
	  "max-sessions, max-events, max-userptr, shm-size)" },
	{ "unknown key in a rule", DEV "backnd = vcam\n",
	  "test.conf:3: unknown key 'backnd' in [device \"d\"] (known: domain, "
	  "domid, devid, backend)" },
	{ "key outside any section", "log-level = info\n",
	  "test.conf:1: 'log-level' is outside any section; put it under "
	  "[daemon], [limits] or [device \"NAME\"]" },
	{ "missing '='", "[daemon]\nlog-level info\n",
	  "test.conf:2: missing '=' in 'log-level info'; write KEY = VALUE" },
	{ "missing key", "[daemon]\n = info\n",
	  "test.conf:2: '= info' has no key; write KEY = VALUE" },
	{ "missing value", "[daemon]\nsyslog =   # nothing\n",
	  "test.conf:2: 'syslog' has no value; write syslog = VALUE" },
	{ "key given twice", "[daemon]\nsyslog = no\n\nsyslog = yes\n",
	  "test.conf:4: 'syslog' given twice in [daemon] (first at line 2)" },
	{ "bad number", "[limits]\nmax-sessions = 3x\n",
	  "test.conf:2: max-sessions = 3x: not a whole number; must be "
	  "1..4096" },
	{ "signed number", "[limits]\nmax-sessions = +3\n",
	  "test.conf:2: max-sessions = +3: not a whole number; must be "
	  "1..4096" },
	{ "hex number", "[limits]\nmax-events = 0x100\n",
	  "test.conf:2: max-events = 0x100: not a whole number; must be "
	  "16..65536" },
	{ "number with a blank", "[daemon]\ntest-devices = 1 2\n",
	  "test.conf:2: test-devices = 1 2: not a whole number; must be "
	  "1..11" },
	{ "max-sessions 0", "[limits]\nmax-sessions = 0\n",
	  "test.conf:2: max-sessions = 0: must be 1..4096" },
	{ "max-sessions too big", "[limits]\nmax-sessions = 4097\n",
	  "test.conf:2: max-sessions = 4097: must be 1..4096" },
	{ "number beyond 64 bits",
	  "[limits]\nmax-events = 99999999999999999999999\n",
	  "test.conf:2: max-events = 99999999999999999999999: must be "
	  "16..65536" },
	{ "test-devices 12", "[daemon]\ntest-devices = 12\n",
	  "test.conf:2: test-devices = 12: must be 1..11" },
	{ "max-test-guests 0", "[daemon]\nmax-test-guests = 0\n",
	  "test.conf:2: max-test-guests = 0: must be 1..4096" },
	{ "bad size suffix", "[limits]\nmax-userptr = 12Q\n",
	  "test.conf:2: max-userptr = 12Q: not a size; write bytes with an "
	  "optional K, M or G suffix, 4K..64G" },
	{ "size with KB", "[limits]\nshm-size = 1KB\n",
	  "test.conf:2: shm-size = 1KB: not a size; write bytes with an "
	  "optional K, M or G suffix, 0..4G" },
	{ "negative size", "[limits]\nshm-size = -1M\n",
	  "test.conf:2: shm-size = -1M: not a size; write bytes with an "
	  "optional K, M or G suffix, 0..4G" },
	{ "size too big", "[limits]\nmax-userptr = 65G\n",
	  "test.conf:2: max-userptr = 65G: must be 4K..64G" },
	{ "size too small", "[limits]\nmax-userptr = 1\n",
	  "test.conf:2: max-userptr = 1: must be 4K..64G" },
	{ "size overflowing 64 bits", "[limits]\nshm-size = 99999999999G\n",
	  "test.conf:2: shm-size = 99999999999G: must be 0..4G" },
	{ "shm-size not whole pages", "[limits]\nshm-size = 1000\n",
	  "test.conf:2: shm-size = 1000: must be 0 (no MMAP buffers) or a "
	  "multiple of 4K" },
	{ "bad boolean", "[daemon]\nsyslog = maybe\n",
	  "test.conf:2: syslog = maybe: must be yes or no" },
	{ "bad log level", "[daemon]\nlog-level = verbose\n",
	  "test.conf:2: log-level = verbose: must be err, warn, info or "
	  "debug" },
	{ "relative test socket", "[daemon]\ntest-socket = run/t.sock\n",
	  "test.conf:2: test-socket = run/t.sock: must be an absolute path" },
	{ "test socket path too long",
	  "[daemon]\ntest-socket = /run/vmedia/0123456789012345678901234567890"
	  "123456789012345678901234567890123456789012345678901234567890.sock\n",
	  "test.conf:2: test-socket: the path is 108 bytes long; a Unix "
	  "socket path has at most 107" },
	{ "unknown backend", DEV "backend = vcm\n",
	  "test.conf:3: unknown backend 'vcm' (known: vcam,v4l2)" },
	{ "unknown backend with arguments", DEV "backend = vcm:mplane\n",
	  "test.conf:3: unknown backend 'vcm' (known: vcam,v4l2)" },
	{ "backend without a name", DEV "backend = :mplane\n",
	  "test.conf:3: unknown backend '' (known: vcam,v4l2)" },
	{ "both domain and domid", DEV "domid = 3\n",
	  "test.conf:3: [device \"d\"] has both domain and domid (the other "
	  "at line 2); give one of them" },
	{ "bad domid", "[device \"d\"]\ndomid = guest\n",
	  "test.conf:2: domid = guest: must be * or a domain ID 0..32751" },
	{ "reserved domid", "[device \"d\"]\ndomid = 32752\n",
	  "test.conf:2: domid = 32752: must be * or a domain ID 0..32751" },
	{ "bad devid", DEV "devid = -1\n",
	  "test.conf:3: devid = -1: must be * or a device number 0..65535" },
	{ "quoted domain name", "[device \"d\"]\ndomain = \"media\"\n",
	  "test.conf:2: domain = \"media\": write the name without quotes or "
	  "blanks, e.g. domain = media-guest" },
	{ "domain with brackets", "[device \"d\"]\ndomain = cam[12]\n",
	  "test.conf:2: domain = cam[12]: only * and ? are wildcards; '[', "
	  "']' and '\\' are not allowed" },
	{ "rule without a backend", "[device \"d\"]\ndomid = 4\n\n[limits]\n",
	  "test.conf:1: [device \"d\"] has no backend; add backend = "
	  "NAME[:ARGS] (known: vcam,v4l2)" },
	{ "rule without a backend at the end", "[daemon]\n" DEV,
	  "test.conf:2: [device \"d\"] has no backend; add backend = "
	  "NAME[:ARGS] (known: vcam,v4l2)" },
	{ "rule without a domain", "[device \"d\"]\nbackend = vcam\n",
	  "test.conf:1: [device \"d\"] has no domain or domid; add domain = "
	  "NAME, domid = N or domain = *" },
	{ "control character", "[daemon]\nsyslog = no\x1b[2J\n",
	  "test.conf:2: control character 0x1b in the line; the file must be "
	  "plain text" },
};

const size_t config_num_err_cases = ARRAY_SIZE(config_err_cases);
