/* SPDX-License-Identifier: MIT */
/*
 * fuzz_xs_parse: the parsers of what vmediad reads from xenstore, where a
 * buggy or hostile toolstack (or a driver domain's peer) writes. Each
 * value is handed over as xs_read() returns it: len bytes, maybe with
 * embedded NULs, and a NUL after them, in its own allocation so that
 * reading past it is caught.
 *
 * Input: fields separated by '\n', in this order: a number for
 * xs_parse_u64, one for xs_parse_dec (range from the first two bytes), a
 * bool, the eight keys of a device directory ("\x01" alone: key absent),
 * its domid (decimal), a watch path, a domain name. Missing fields are
 * empty. Checks: accepted values are canonical and in range, verdicts
 * agree with the keys, names and paths come back well-formed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_mem.h"
#include "xen/xs_parse.h"

#define FIELDS 14

struct field {
	char *v; /* NULL: absent */
	size_t len;
};

static void split(const uint8_t *data, size_t size, struct field *f)
{
	size_t start = 0, k = 0;

	memset(f, 0, FIELDS * sizeof(*f));
	for (size_t i = 0; i <= size && k < FIELDS; i++) {
		size_t len;

		if (i < size && data[i] != '\n')
			continue;
		len = i - start;
		f[k].v = malloc(len + 1);
		if (!f[k].v)
			fg_fail("out of memory");
		memcpy(f[k].v, data + start, len);
		f[k].v[len] = 0;
		f[k].len = len;
		k++;
		start = i + 1;
	}
	for (; k < FIELDS; k++) {
		f[k].v = calloc(1, 1);
		if (!f[k].v)
			fg_fail("out of memory");
	}
}

static void check_dec(const struct field *f, unsigned min, unsigned max)
{
	char canon[24];
	unsigned n = 0;

	if (xs_parse_dec(f->v, f->len, min, max, &n))
		return;
	snprintf(canon, sizeof(canon), "%u", n);
	if (n < min || n > max || strlen(canon) != f->len ||
	    memcmp(canon, f->v, f->len))
		fg_fail("xs_parse_dec accepted \"%.*s\" as %u in [%u, %u]",
			(int)f->len, f->v, n, min, max);
}

static void check_numbers(const struct field *f)
{
	uint64_t u = 0;
	unsigned min = f[1].len ? (uint8_t)f[1].v[0] : 0;
	unsigned max = f[1].len > 1 ? (uint8_t)f[1].v[1] * 97u : ~0u;
	bool b;

	if (xs_parse_u64(f[0].v, f[0].len, &u) == 0 &&
	    (f[0].len == 0 || strlen(f[0].v) != f[0].len ||
	     strtoull(f[0].v, NULL, 0) != u))
		fg_fail("xs_parse_u64 accepted \"%.*s\" as %#llx",
			(int)f[0].len, f[0].v, (unsigned long long)u);
	check_dec(&f[1], min, max);
	check_dec(&f[1], XS_IRQ_MIN, XS_IRQ_MAX);
	if (xs_parse_bool(f[2].v, f[2].len, &b) == 0 &&
	    (f[2].len != 1 || f[2].v[0] != (b ? '1' : '0')))
		fg_fail("xs_parse_bool accepted \"%.*s\"", (int)f[2].len,
			f[2].v);
}

static struct xs_value value(const struct field *f)
{
	if (f->len == 1 && f->v[0] == 1)
		return (struct xs_value){ NULL, 0 };
	return (struct xs_value){ f->v, f->len };
}

static void check_device(const struct field *f)
{
	struct xs_dev_raw raw = {
		.state = value(&f[3]),
		.online = value(&f[4]),
		.type = value(&f[5]),
		.transport = value(&f[6]),
		.frontend_id = value(&f[7]),
		.base = value(&f[8]),
		.irq = value(&f[9]),
		.grant_usage = value(&f[10]),
	};
	struct xs_dev_cfg cfg = { 0 };
	unsigned domid = (unsigned)strtoul(f[11].v, NULL, 10);
	const char *why = NULL;
	enum xs_dev_verdict v = xs_parse_device(&raw, domid, &cfg, &why);

	if (v == XS_DEV_BAD && !why)
		fg_fail("device refused without a reason");
	if (v != XS_DEV_OK)
		return;
	if (strcmp(f[5].v, "virtio,device30") || strcmp(f[6].v, "mmio") ||
	    cfg.base == 0 || cfg.base % 4 ||
	    cfg.base > XS_GPA_LIMIT - XS_MMIO_WINDOW || cfg.irq < XS_IRQ_MIN ||
	    cfg.irq > XS_IRQ_MAX || domid == 0 || domid > XS_DOMID_MAX)
		fg_fail("device accepted: base %#llx irq %u domid %u",
			(unsigned long long)cfg.base, cfg.irq, domid);
}

static void check_path(const struct field *f)
{
	struct xs_path p;
	char want[64];

	xs_parse_event_path(f->v, &p);
	if (p.kind == XS_PATH_OTHER || p.kind == XS_PATH_ROOT)
		return;
	if (p.domid > XS_DOMID_MAX || p.devid > XS_DEVID_MAX)
		fg_fail("path \"%s\": domid %u devid %u", f->v, p.domid,
			p.devid);
	if (p.kind == XS_PATH_DEVICE)
		snprintf(want, sizeof(want), "backend/virtio/%u/%u", p.domid,
			 p.devid);
	else
		snprintf(want, sizeof(want), "backend/virtio/%u", p.domid);
	if (!strstr(f->v, want))
		fg_fail("path \"%s\" read as %s", f->v, want);
}

static void check_name_in(const struct field *f, size_t out_len)
{
	char out[80];

	memset(out, 0x7f, sizeof(out));
	xs_clean_name(f->v, f->len, out, out_len);
	if (!out_len)
		return;
	if (!memchr(out, 0, out_len))
		fg_fail("name not terminated within %zu bytes", out_len);
	if (out[0] && (strlen(out) != f->len || memcmp(out, f->v, f->len) ||
		       strspn(out, "abcdefghijklmnopqrstuvwxyz"
				   "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				   "0123456789._-") != f->len))
		fg_fail("name \"%s\" from \"%.*s\"", out, (int)f->len, f->v);
}

/* A roomy buffer, and one sized by the input (often too small). */
static void check_name(const struct field *f)
{
	check_name_in(f, 80);
	check_name_in(f, f->len % 80);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct field f[FIELDS];

	split(data, size, f);
	check_numbers(f);
	check_device(f);
	check_path(&f[12]);
	check_name(&f[13]);
	for (unsigned i = 0; i < FIELDS; i++)
		free(f[i].v);
	return 0;
}
