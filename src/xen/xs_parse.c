/* SPDX-License-Identifier: MIT */
/*
 * Strict parsers for xenstore values. The backend directory is written by
 * the toolstack, but a buggy or hostile one must only ever cost the one
 * device: every check here fails closed.
 */
#include "xen/xs_parse.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define MEDIA_TYPE     "virtio,device30" /* virtio-media, ID 48 */
#define MMIO_TRANSPORT "mmio"
#define NAME_MAX_LEN   63u
/* Longest number we accept: "0x" + 16 hex digits, or 20 decimal. */
#define NUM_MAX_LEN 20u

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/*
 * A value fit for strtoull: non-empty, short, no embedded NUL, starting
 * with a digit (no sign or space, which strtoull would accept).
 */
static bool number_shape_ok(const char *v, size_t len)
{
	return v && len > 0 && len <= NUM_MAX_LEN && strlen(v) == len &&
	       is_digit(v[0]);
}

static bool all_chars(const char *v, size_t len, bool hex)
{
	for (size_t i = 0; i < len; i++) {
		char c = v[i];
		bool ok = is_digit(c) || (hex && ((c >= 'a' && c <= 'f') ||
						  (c >= 'A' && c <= 'F')));

		if (!ok)
			return false;
	}
	return len > 0;
}

int xs_parse_u64(const char *v, size_t len, uint64_t *out)
{
	unsigned long long n;
	char *end;
	bool hex;

	if (!number_shape_ok(v, len))
		return -EINVAL;
	hex = len > 2 && v[0] == '0' && (v[1] == 'x' || v[1] == 'X');
	/* "0x..." is hex, "0" is 0; "017" would be octal to strtoull. */
	if (hex ? !all_chars(v + 2, len - 2, true)
		: !all_chars(v, len, false) || (v[0] == '0' && len > 1))
		return -EINVAL;
	errno = 0;
	n = strtoull(v, &end, 0);
	if (errno || end != v + len)
		return -EINVAL;
	*out = n;
	return 0;
}

int xs_parse_dec(const char *v, size_t len, unsigned min, unsigned max,
		 unsigned *out)
{
	unsigned long long n;
	char *end;

	if (!number_shape_ok(v, len))
		return -EINVAL;
	if (v[0] == '0' && len > 1)
		return -EINVAL; /* leading zeros: not what libxl writes */
	errno = 0;
	n = strtoull(v, &end, 10);
	if (errno || end != v + len)
		return -EINVAL;
	if (n < min || n > max)
		return -ERANGE;
	*out = (unsigned)n;
	return 0;
}

int xs_parse_bool(const char *v, size_t len, bool *out)
{
	unsigned n;

	if (xs_parse_dec(v, len, 0, 1, &n))
		return -EINVAL;
	*out = n == 1;
	return 0;
}

static bool value_is(const struct xs_value *val, const char *want)
{
	return val->v && val->len == strlen(want) &&
	       memcmp(val->v, want, val->len) == 0;
}

static int parse_base(const struct xs_value *val, uint64_t *base)
{
	uint64_t b;

	if (xs_parse_u64(val->v, val->len, &b))
		return -EINVAL;
	/* A window must fit below the address limit and be aligned. */
	if (b == 0 || b >= XS_GPA_LIMIT - XS_MMIO_WINDOW || b % 4)
		return -ERANGE;
	*base = b;
	return 0;
}

enum xs_dev_verdict xs_parse_device(const struct xs_dev_raw *raw,
				    unsigned domid, struct xs_dev_cfg *cfg,
				    const char **why)
{
	unsigned fe;

	if (!value_is(&raw->type, MEDIA_TYPE))
		return XS_DEV_NOT_OURS;
	if (!value_is(&raw->transport, MMIO_TRANSPORT))
		return XS_DEV_NOT_OURS;
	if (xs_parse_dec(raw->frontend_id.v, raw->frontend_id.len, 1,
			 XS_DOMID_MAX, &fe) ||
	    fe != domid) {
		*why = "frontend-id is not the directory's domain id";
		return XS_DEV_BAD;
	}
	if (parse_base(&raw->base, &cfg->base)) {
		*why = "base is not a 4-byte aligned address below 2^52 "
		       "(hex 0x... or decimal)";
		return XS_DEV_BAD;
	}
	if (xs_parse_dec(raw->irq.v, raw->irq.len, XS_IRQ_MIN, XS_IRQ_MAX,
			 &cfg->irq)) {
		*why = "irq is not a decimal SPI number in 33..988";
		return XS_DEV_BAD;
	}
	cfg->grants = false;
	/* Absent before Xen 4.18's grant_usage: then grants are not used. */
	if (raw->grant_usage.v &&
	    xs_parse_bool(raw->grant_usage.v, raw->grant_usage.len,
			  &cfg->grants)) {
		*why = "grant_usage is neither 0 nor 1";
		return XS_DEV_BAD;
	}
	return XS_DEV_OK;
}

/* Parse one decimal path component; advance *p past it and one '/'. */
static bool take_component(const char **p, unsigned max, unsigned *out)
{
	const char *s = *p, *slash = strchr(s, '/');
	size_t len = slash ? (size_t)(slash - s) : strlen(s);
	char buf[NUM_MAX_LEN + 1];

	/* Empty components and a trailing '/' are not xenstore paths. */
	if (len == 0 || len > NUM_MAX_LEN || (slash && slash[1] == 0))
		return false;
	memcpy(buf, s, len);
	buf[len] = 0;
	if (xs_parse_dec(buf, len, 0, max, out))
		return false;
	*p = slash ? slash + 1 : s + len;
	return true;
}

/* Strip "/local/domain/<n>/" so absolute paths read as relative ones. */
static const char *relative_part(const char *path)
{
	static const char prefix[] = "/local/domain/";
	unsigned dom;

	if (path[0] != '/')
		return path;
	if (strncmp(path, prefix, sizeof(prefix) - 1) != 0)
		return NULL;
	path += sizeof(prefix) - 1;
	if (!take_component(&path, XS_DOMID_MAX, &dom))
		return NULL;
	return path;
}

void xs_parse_event_path(const char *path, struct xs_path *out)
{
	static const char root[] = "backend/virtio";
	const char *p = path ? relative_part(path) : NULL;

	*out = (struct xs_path){ .kind = XS_PATH_OTHER };
	if (!p || strncmp(p, root, sizeof(root) - 1) != 0)
		return;
	p += sizeof(root) - 1;
	if (*p == 0) {
		out->kind = XS_PATH_ROOT;
		return;
	}
	if (*p++ != '/' || !take_component(&p, XS_DOMID_MAX, &out->domid))
		return;
	if (*p == 0) {
		out->kind = XS_PATH_DOMAIN;
		return;
	}
	if (!take_component(&p, XS_DEVID_MAX, &out->devid))
		return;
	out->kind = XS_PATH_DEVICE;
}

static bool name_char_ok(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       is_digit(c) || c == '.' || c == '_' || c == '-';
}

void xs_clean_name(const char *v, size_t len, char *out, size_t out_len)
{
	if (!out_len)
		return;
	out[0] = 0;
	if (!v || len == 0 || len > NAME_MAX_LEN || len >= out_len ||
	    strlen(v) != len)
		return;
	for (size_t i = 0; i < len; i++)
		if (!name_char_ok(v[i]))
			return;
	memcpy(out, v, len);
	out[len] = 0;
}
