/* SPDX-License-Identifier: MIT */
#ifndef VMEDIA_BACKENDS_REGISTRY_H
#define VMEDIA_BACKENDS_REGISTRY_H

#include <stddef.h>

#include "vmedia/backend.h"

/*
 * Find the backend a spec "name[:args]" names; *args points at the part
 * after the colon ("" when none). NULL when no backend has that name.
 */
const struct vmedia_backend_class *backend_lookup(const char *spec,
						  const char **args);
/* The known names, comma-separated, for error messages. */
void backend_list(char *buf, size_t len);

#endif
