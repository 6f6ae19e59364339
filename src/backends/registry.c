/* SPDX-License-Identifier: MIT */
/*
 * The backends vmediad knows, in one explicit table: a device's backend is
 * named in the configuration as "name" or "name:arguments".
 */
#include "backends/registry.h"

#include <string.h>

#include "vmedia/compiler.h"

extern const struct vmedia_backend_class vcam_backend_class;
extern const struct vmedia_backend_class v4l2_proxy_backend_class;

static const struct vmedia_backend_class *const backends[] = {
	&vcam_backend_class,
	&v4l2_proxy_backend_class,
};

const struct vmedia_backend_class *backend_lookup(const char *spec,
						  const char **args)
{
	const char *colon = strchr(spec, ':');
	size_t len = colon ? (size_t)(colon - spec) : strlen(spec);

	for (size_t i = 0; i < ARRAY_SIZE(backends); i++) {
		if (strlen(backends[i]->name) == len &&
		    strncmp(backends[i]->name, spec, len) == 0) {
			*args = colon ? colon + 1 : "";
			return backends[i];
		}
	}
	return NULL;
}

void backend_list(char *buf, size_t len)
{
	size_t used = 0;

	if (len)
		buf[0] = 0;
	for (size_t i = 0; i < ARRAY_SIZE(backends) && used < len; i++) {
		size_t n = strlen(backends[i]->name);

		if (used + n + 2 >= len)
			break;
		if (used)
			buf[used++] = ',';
		memcpy(buf + used, backends[i]->name, n + 1);
		used += n;
	}
}
