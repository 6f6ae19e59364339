/* SPDX-License-Identifier: MIT */
/*
 * The Xen transport running for real over the fake Xen: a main loop on
 * its own thread with a guest_set and xen_backend_start(), while the test
 * thread plays the toolstack (xenstore writes) and the guests' vCPUs.
 */
#ifndef VMEDIA_TESTS_FAKE_XEN_HARNESS_H
#define VMEDIA_TESTS_FAKE_XEN_HARNESS_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "daemon/guest.h"
#include "fakes/fake_xen.h"
#include "xen/xen_backend.h"

#define XH_BASE(n)   (0x2000000ull + 0x200ull * (n)) /* libxl's windows */
#define XH_IRQ(n)    (33u + (n))		     /* libxl's SPIs */
#define XH_RAM_PAGES 1024u			     /* 4 MiB per guest */

struct xh {
	struct evloop *loop;
	struct guest_set *guests;
	struct xen_backend *xb;
	pthread_t thread;
	bool running;
};

/*
 * Start the backend over the fake (fake_xen_init() done) with cfg (NULL:
 * "vcam" for every device) and run its loop on a thread. false if start
 * failed; call xh_stop either way.
 */
bool xh_start(struct xh *h, const struct xen_config *cfg);
/* Stop the loop, xen_backend_stop, guest_set_destroy (not the fake). */
void xh_stop(struct xh *h);

/* Every key of a device directory but state (online 1). */
void xh_device_keys(unsigned domid, unsigned devid, uint64_t base, unsigned irq,
		    bool grants);
/* The device directory as libxl writes it (state 1, online 1). */
void xh_add_device(unsigned domid, unsigned devid, uint64_t base, unsigned irq,
		   bool grants);
void xh_dev_path(char *buf, size_t len, unsigned domid, unsigned devid,
		 const char *key);
/* Wait up to ms for a node to read `want` (NULL: to be absent). */
bool xh_wait_value(const char *path, const char *want, int ms);
bool xh_wait_state(unsigned domid, unsigned devid, const char *want, int ms);
/*
 * libxl's device removal: frontend gone, online=0 + state=5, wait for 6
 * (at most 10 s, libxl's timeout), remove the backend directory. The
 * milliseconds it took until 6, or -1 when 6 never came.
 */
int xh_remove_device(unsigned domid, unsigned devid);
/* Wait up to ms until fake_xen_counts(domid) has `servers` servers. */
bool xh_wait_servers(unsigned domid, unsigned servers, int ms);
/* Wait until nothing of domid (FAKE_XEN_ALL: of any) is held any more. */
bool xh_wait_clean(unsigned domid, int ms);
long xh_now_ms(void);
/* Capture what the daemon logs (stderr) between begin and end. */
void xh_log_begin(void);
/* The captured text (malloc'd), also echoed to stderr. */
char *xh_log_end(void);
unsigned xh_count(const char *haystack, const char *needle);

#endif
