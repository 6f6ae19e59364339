/* SPDX-License-Identifier: MIT */
/*
 * Parsers for what vmediad reads from xenstore. Every value is hostile:
 * parsers are strict (the whole string, no sign, no spaces, no embedded
 * NUL, range-checked) and never assert. They take (value, len) as
 * xs_read() returns it.
 */
#ifndef VMEDIA_XEN_XS_PARSE_H
#define VMEDIA_XEN_XS_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* GIC SPIs libxl may hand out (it uses 33..43; the vGIC allows more). */
#define XS_IRQ_MIN 33u
#define XS_IRQ_MAX 988u
/* Ordinary domain ids: DOMID_FIRST_RESERVED is 0x7ff0. */
#define XS_DOMID_MAX 0x7fefu
#define XS_DEVID_MAX 65535u
/* Guest-physical addresses above this are not RAM or MMIO on Arm. */
#define XS_GPA_LIMIT (1ull << 52)
/* The virtio-mmio window libxl gives each device. */
#define XS_MMIO_WINDOW 0x200u

/* XenbusState values the handshake uses. */
enum xs_state {
	XS_STATE_INITIALISING = 1,
	XS_STATE_INIT_WAIT = 2,
	XS_STATE_CONNECTED = 4,
	XS_STATE_CLOSING = 5,
	XS_STATE_CLOSED = 6,
};

/* An unsigned number, hex with 0x or decimal (no octal). 0 or -EINVAL. */
int xs_parse_u64(const char *v, size_t len, uint64_t *out);
/* A decimal number in [min, max]. 0 or -EINVAL / -ERANGE. */
int xs_parse_dec(const char *v, size_t len, unsigned min, unsigned max,
		 unsigned *out);
/* "0" or "1". */
int xs_parse_bool(const char *v, size_t len, bool *out);

/* The raw values of one backend/virtio/<domid>/<devid> directory. */
struct xs_value {
	const char *v; /* NULL: the key is absent */
	size_t len;
};

struct xs_dev_raw {
	struct xs_value state, online, type, transport, frontend_id, base, irq,
		grant_usage;
};

/* One device as vmediad serves it. */
struct xs_dev_cfg {
	uint64_t base; /* the window is [base, base + XS_MMIO_WINDOW) */
	unsigned irq;  /* absolute SPI number */
	bool grants;   /* grant_usage=1 */
};

enum xs_dev_verdict {
	XS_DEV_OK,	 /* ours, well-formed: *cfg filled */
	XS_DEV_NOT_OURS, /* another virtio type or transport: leave it */
	XS_DEV_BAD,	 /* ours but malformed: *why says what */
};

/*
 * Decide about one device directory of guest domid. Only the identity
 * and configuration keys are checked here; state/online drive the
 * handshake (xs_parse_dec / xs_parse_bool on them).
 */
enum xs_dev_verdict xs_parse_device(const struct xs_dev_raw *raw,
				    unsigned domid, struct xs_dev_cfg *cfg,
				    const char **why);

/* What a watch event's path names under backend/virtio. */
enum xs_path_kind {
	XS_PATH_OTHER,	/* not ours, or malformed: ignore */
	XS_PATH_ROOT,	/* backend/virtio itself */
	XS_PATH_DOMAIN, /* backend/virtio/<domid> */
	XS_PATH_DEVICE, /* backend/virtio/<domid>/<devid>[/...] */
};

struct xs_path {
	enum xs_path_kind kind;
	unsigned domid;
	unsigned devid;
};

/*
 * Classify a path, relative ("backend/virtio/...") or absolute
 * ("/local/domain/<n>/backend/virtio/...").
 */
void xs_parse_event_path(const char *path, struct xs_path *out);

/*
 * A domain name fit for logs and configuration lookups: 1..63 characters
 * of [A-Za-z0-9._-]; anything else gives "".
 */
void xs_clean_name(const char *v, size_t len, char *out, size_t out_len);

#endif
