/* SPDX-License-Identifier: MIT */
/* Internal state of the fake Xen, shared by tests/fakes/fake_xen*.c. */
#ifndef VMEDIA_TESTS_FAKE_XEN_INT_H
#define VMEDIA_TESTS_FAKE_XEN_INT_H

#include <pthread.h>
#include <time.h>

#include "fakes/fake_xen.h"

#define FX_MAX_SERVERS 8u /* MAX_NR_IOREQ_SERVERS */
#define FX_MAX_RANGES  64u
#define FX_MAX_GRANTS  256u
#define FX_MAX_IRQ     1020u
#define FX_MAX_PENDING 1024u

struct fx_node {
	struct fx_node *next;
	char *path;
	char *value;
	size_t len;
	bool logged; /* written by the daemon */
};

struct fx_event {
	struct fx_event *next;
	char *path, *token;
};

struct xen_xs {
	struct xen_xs *next;
	int efd;
	struct fx_event *head, **tail;
};

struct fx_watch {
	struct fx_watch *next;
	struct xen_xs *xs;
	char *path, *token;
};

struct fx_server {
	struct fx_server *next;
	unsigned domid;
	uint16_t id;
	bool enabled;
	bool destroyed;
	unsigned res_maps;
	unsigned waiters; /* vCPUs waiting on its page */
	struct xen_ioreq *page;
	unsigned nranges;
	uint64_t start[FX_MAX_RANGES], end[FX_MAX_RANGES];
};

struct fx_grant {
	bool used, ro;
	uint32_t ref;
	uint64_t gfn;
};

struct fx_dom {
	struct fx_dom *next;
	unsigned domid;
	bool alive;
	unsigned nr_vcpus;
	int memfd;
	uint64_t ram_pages;
	uint8_t *ram; /* the test's view */
	struct fx_grant grants[FX_MAX_GRANTS];
	unsigned irqs[FX_MAX_IRQ]; /* raised, not yet waited for */
	unsigned irq_total;
	/* ---- memory reservation (fake_xen_ctrl.c) ---- */
	uint64_t max_pages;
	int physfd;    /* populated frames, at offset gpa (sparse) */
	uint8_t *phys; /* the guest's view of physfd: PROT_NONE unless populated
			*/
	uint64_t *pop; /* populated gfns, sorted */
	size_t npop, pop_cap;
	int zfd;	  /* pages released while foreign-mapped */
	uint64_t zslots;  /* slots of zfd handed out */
	unsigned *zrefs;  /* per slot: foreign mapping pages on it */
	unsigned zombies; /* slots with zrefs > 0 */
	unsigned populates, populate_fails, releases, release_fails,
		pages_populated, pages_released, dirty_released, set_max_calls;
};

struct xen_evtchn {
	struct xen_evtchn *next;
	int efd;
	uint32_t pending[FX_MAX_PENDING];
	unsigned npending;
};

struct fx_port {
	struct fx_port *next;
	struct xen_evtchn *h;
	uint32_t local;
	unsigned domid;
	uint32_t remote;
};

/* A mapping handed out (foreign, grant or ioreq page). */
struct fx_map {
	struct fx_map *next;
	void *addr;
	size_t pages;
	unsigned domid;
	int prot;
	bool grant;
	uint32_t ref;	/* grant: first ref */
	uint64_t *gfns; /* foreign: the frames mapped */
	int64_t *zslot; /* foreign: per page, zombie slot it now maps, or -1 */
};

struct xen_fres {
	struct fx_server *srv;
};

struct fake_xen {
	pthread_mutex_t lock;
	pthread_cond_t cond; /* notify, irq, state changes */
	struct fx_node *nodes;
	struct fx_watch *watches;
	struct xen_xs *conns;
	struct fx_dom *doms;
	struct fx_server *servers;
	struct xen_evtchn *evtchns;
	struct fx_port *ports;
	struct fx_map *maps;
	uint32_t next_local, next_remote, next_tx;
	uint16_t next_server;
	unsigned handles, servers_created, fmem_maps, fmem_peak, bad_unmaps,
		notifies, ctrl_handles;
	struct fake_xen_faults faults;
};

extern struct fake_xen fx;

/* Under fx.lock. */
struct fx_dom *fx_dom(unsigned domid);
struct fx_dom *fx_live_dom(unsigned domid);
void fx_fire_locked(const char *path);
void fx_kill_locked(struct fx_dom *d);
_Atomic uint8_t *fx_flags_of(struct xen_ioreq *slot);
uint8_t fx_state_of(struct xen_ioreq *slot);
/* CLOCK_MONOTONIC (fx.cond's clock) now + ms. */
void fx_deadline(struct timespec *ts, int ms);
void fx_push_pending(struct xen_evtchn *h, uint32_t port);
struct fx_port *fx_port_to(unsigned domid, uint32_t remote);
void fx_server_put_locked(struct fx_server *s);
unsigned fx_fmem_pages_locked(unsigned domid);
void fx_free_store_locked(void);
void fx_free_hv_locked(void);
void fx_free_maps_locked(void);
/* Fill the xenstore / hypervisor slots of the ops table. */
void fx_store_ops(struct xen_ops *o);
void fx_hv_ops(struct xen_ops *o);
void fx_mem_ops(struct xen_ops *o);
void fx_ctrl_ops(struct xen_ops *o);

/* ---- memory reservation (fake_xen_ctrl.c), under fx.lock ---- */
int fx_phys_init(struct fx_dom *d);
void fx_phys_free(struct fx_dom *d);
bool fx_populated_locked(struct fx_dom *d, uint64_t gfn);
/* A foreign mapping page on zombie slot `slot` went away. */
void fx_zombie_put_locked(struct fx_dom *d, int64_t slot);

#endif
