/* SPDX-License-Identifier: MIT */
/* Xenstore value parsers: strict, range-checked, never trusting. */
#include <errno.h>
#include <string.h>

#include "tap.h"
#include "xen/xen_ops.h"
#include "xen/xs_parse.h"

static int u64(const char *s, uint64_t *out)
{
	return xs_parse_u64(s, s ? strlen(s) : 0, out);
}

static void test_u64_accepts(void)
{
	uint64_t v = 0;

	TAP_EQ(u64("0x2000000", &v), 0);
	TAP_EQ(v, 0x2000000);
	TAP_EQ(u64("0X1f", &v), 0);
	TAP_EQ(v, 0x1f);
	TAP_EQ(u64("33554432", &v), 0);
	TAP_EQ(v, 33554432);
	TAP_EQ(u64("0", &v), 0);
	TAP_EQ(v, 0);
	TAP_EQ(u64("0xffffffffffffffff", &v), 0);
	TAP_CHECK(v == UINT64_MAX, "max");
}

static void test_u64_rejects(void)
{
	static const char *const bad[] = {
		"",
		"-1",
		"+1",
		" 1",
		"1 ",
		"0x",
		"0x-1",
		"0x 1",
		"010",
		"1e3",
		"12a",
		"0xg",
		"18446744073709551616",
		"0x10000000000000000",
		"00",
		"0x1 ",
		"123456789012345678901",
	};
	uint64_t v = 7;

	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		TAP_CHECK(u64(bad[i], &v) < 0, "accepted '%s'", bad[i]);
	TAP_CHECK(xs_parse_u64(NULL, 0, &v) < 0, "NULL accepted");
	/* An embedded NUL: xenstore values carry a length. */
	TAP_CHECK(xs_parse_u64("12\0"
			       "3",
			       4, &v) < 0,
		  "embedded NUL");
	TAP_EQ(v, 7);
}

static void test_dec_ranges(void)
{
	unsigned v = 0;

	TAP_EQ(xs_parse_dec("33", 2, XS_IRQ_MIN, XS_IRQ_MAX, &v), 0);
	TAP_EQ(v, 33);
	TAP_EQ(xs_parse_dec("988", 3, XS_IRQ_MIN, XS_IRQ_MAX, &v), 0);
	TAP_EQ(xs_parse_dec("32", 2, XS_IRQ_MIN, XS_IRQ_MAX, &v), -ERANGE);
	TAP_EQ(xs_parse_dec("989", 3, XS_IRQ_MIN, XS_IRQ_MAX, &v), -ERANGE);
	TAP_CHECK(xs_parse_dec("033", 3, 0, 100, &v) < 0, "leading zero");
	TAP_CHECK(xs_parse_dec("0x21", 4, 0, 100, &v) < 0, "hex");
	TAP_CHECK(xs_parse_dec("4294967296", 10, 0, UINT32_MAX, &v) < 0,
		  "above unsigned");
	TAP_EQ(xs_parse_dec("0", 1, 0, 1, &v), 0);
	TAP_EQ(v, 0);
}

static void test_bool(void)
{
	bool b = false;

	TAP_EQ(xs_parse_bool("1", 1, &b), 0);
	TAP_CHECK(b, "1 is true");
	TAP_EQ(xs_parse_bool("0", 1, &b), 0);
	TAP_CHECK(!b, "0 is false");
	TAP_CHECK(xs_parse_bool("2", 1, &b) < 0, "2");
	TAP_CHECK(xs_parse_bool("yes", 3, &b) < 0, "yes");
	TAP_CHECK(xs_parse_bool(NULL, 0, &b) < 0, "absent");
}

#define VAL(s) ((struct xs_value){ .v = (s), .len = strlen(s) })
#define NOVAL  ((struct xs_value){ .v = NULL, .len = 0 })

static struct xs_dev_raw good_raw(void)
{
	return (struct xs_dev_raw){
		.state = VAL("1"),
		.online = VAL("1"),
		.type = VAL("virtio,device30"),
		.transport = VAL("mmio"),
		.frontend_id = VAL("5"),
		.base = VAL("0x2000200"),
		.irq = VAL("34"),
		.grant_usage = VAL("1"),
	};
}

static void test_device_good(void)
{
	struct xs_dev_raw raw = good_raw();
	struct xs_dev_cfg cfg;
	const char *why = NULL;

	TAP_EQ(xs_parse_device(&raw, 5, &cfg, &why), XS_DEV_OK);
	TAP_EQ(cfg.base, 0x2000200);
	TAP_EQ(cfg.irq, 34);
	TAP_CHECK(cfg.grants, "grant_usage=1");
	/* Before grant_usage existed (4.17 harnesses): no grants. */
	raw.grant_usage = NOVAL;
	raw.base = VAL("33554944"); /* decimal, as libxl once wrote */
	TAP_EQ(xs_parse_device(&raw, 5, &cfg, &why), XS_DEV_OK);
	TAP_CHECK(!cfg.grants, "absent grant_usage");
	TAP_EQ(cfg.base, 0x2000200);
}

static void test_device_not_ours(void)
{
	struct xs_dev_raw raw = good_raw();
	struct xs_dev_cfg cfg;
	const char *why = NULL;

	raw.type = VAL("virtio,device1a");
	TAP_EQ(xs_parse_device(&raw, 5, &cfg, &why), XS_DEV_NOT_OURS);
	raw.type = VAL("virtio,device30 ");
	TAP_EQ(xs_parse_device(&raw, 5, &cfg, &why), XS_DEV_NOT_OURS);
	raw.type = NOVAL;
	TAP_EQ(xs_parse_device(&raw, 5, &cfg, &why), XS_DEV_NOT_OURS);
	raw = good_raw();
	raw.transport = VAL("pci");
	TAP_EQ(xs_parse_device(&raw, 5, &cfg, &why), XS_DEV_NOT_OURS);
}

static void expect_bad(struct xs_dev_raw raw, const char *what)
{
	struct xs_dev_cfg cfg;
	const char *why = NULL;

	TAP_CHECK(xs_parse_device(&raw, 5, &cfg, &why) == XS_DEV_BAD,
		  "%s accepted", what);
	TAP_CHECK(why && *why, "%s: no reason", what);
}

static void test_device_malformed(void)
{
	struct xs_dev_raw raw;

	raw = good_raw();
	raw.frontend_id = VAL("6");
	expect_bad(raw, "frontend-id of another domain");
	raw = good_raw();
	raw.frontend_id = NOVAL;
	expect_bad(raw, "no frontend-id");
	raw = good_raw();
	raw.base = VAL("0");
	expect_bad(raw, "base 0");
	raw = good_raw();
	raw.base = VAL("0x2000001");
	expect_bad(raw, "unaligned base");
	raw = good_raw();
	raw.base = VAL("0xfffffffffffffe00");
	expect_bad(raw, "base above 2^52");
	raw = good_raw();
	raw.base = VAL("0x");
	expect_bad(raw, "base 0x");
	raw = good_raw();
	raw.irq = VAL("7");
	expect_bad(raw, "irq 7 (not an SPI)");
	raw = good_raw();
	raw.irq = VAL("abc");
	expect_bad(raw, "irq abc");
	raw = good_raw();
	raw.irq = NOVAL;
	expect_bad(raw, "no irq");
	raw = good_raw();
	raw.grant_usage = VAL("2");
	expect_bad(raw, "grant_usage 2");
}

static void expect_path(const char *path, enum xs_path_kind kind,
			unsigned domid, unsigned devid)
{
	struct xs_path p;
	const char *shown = path ? path : "(null)";

	xs_parse_event_path(path, &p);
	TAP_CHECK(p.kind == kind, "%s: kind %d, want %d", shown, p.kind, kind);
	if (kind >= XS_PATH_DOMAIN)
		TAP_CHECK(p.domid == domid, "%s: domid %u", shown, p.domid);
	if (kind == XS_PATH_DEVICE)
		TAP_CHECK(p.devid == devid, "%s: devid %u", shown, p.devid);
}

static void test_event_paths(void)
{
	expect_path("backend/virtio", XS_PATH_ROOT, 0, 0);
	expect_path("backend/virtio/5", XS_PATH_DOMAIN, 5, 0);
	expect_path("backend/virtio/5/0", XS_PATH_DEVICE, 5, 0);
	expect_path("backend/virtio/5/3/state", XS_PATH_DEVICE, 5, 3);
	expect_path("/local/domain/0/backend/virtio/7/1/online", XS_PATH_DEVICE,
		    7, 1);
	expect_path("/local/domain/3/backend/virtio", XS_PATH_ROOT, 0, 0);
	expect_path("backend/virtiox", XS_PATH_OTHER, 0, 0);
	expect_path("backend/virtio/abc", XS_PATH_OTHER, 0, 0);
	expect_path("backend/virtio/5/x/state", XS_PATH_OTHER, 0, 0);
	expect_path("backend/virtio/99999", XS_PATH_OTHER, 0, 0);
	expect_path("backend/virtio/05", XS_PATH_OTHER, 0, 0);
	expect_path("backend/virtio/5/", XS_PATH_OTHER, 0, 0);
	expect_path("@releaseDomain", XS_PATH_OTHER, 0, 0);
	expect_path("/local/domain/x/backend/virtio", XS_PATH_OTHER, 0, 0);
	expect_path("/vm/backend/virtio", XS_PATH_OTHER, 0, 0);
	expect_path("", XS_PATH_OTHER, 0, 0);
	expect_path(NULL, XS_PATH_OTHER, 0, 0);
}

static void test_names(void)
{
	char out[64];
	char longname[80];

	xs_clean_name("guest-1.cam_0", 13, out, sizeof(out));
	TAP_CHECK(strcmp(out, "guest-1.cam_0") == 0, "clean name: %s", out);
	xs_clean_name("bad name", 8, out, sizeof(out));
	TAP_CHECK(out[0] == 0, "space kept: %s", out);
	xs_clean_name("a\0b", 3, out, sizeof(out));
	TAP_CHECK(out[0] == 0, "NUL kept");
	xs_clean_name("x%n", 3, out, sizeof(out));
	TAP_CHECK(out[0] == 0, "format chars kept");
	memset(longname, 'a', 64);
	longname[64] = 0;
	xs_clean_name(longname, 64, out, sizeof(out));
	TAP_CHECK(out[0] == 0, "64 characters kept");
	xs_clean_name(NULL, 0, out, sizeof(out));
	TAP_CHECK(out[0] == 0, "absent");
}

static void test_real_layout(void)
{
	/* The mirrored ioreq_t bit-fields match this build's ABI. */
	TAP_CHECK(xen_real_layout_ok(), "ioreq_t flag byte layout");
}

int main(void)
{
	tap_run("u64: hex and decimal", test_u64_accepts);
	tap_run("u64: signs, spaces, octal, overflow, NUL refused",
		test_u64_rejects);
	tap_run("decimal: ranges and strictness", test_dec_ranges);
	tap_run("bool: 0 or 1 only", test_bool);
	tap_run("device: well-formed", test_device_good);
	tap_run("device: other types and transports left alone",
		test_device_not_ours);
	tap_run("device: malformed values refused with a reason",
		test_device_malformed);
	tap_run("watch paths: relative, absolute, malformed", test_event_paths);
	tap_run("domain names: only safe characters", test_names);
	tap_run("xen_real: ioreq_t mirror matches", test_real_layout);
	return tap_done();
}
