/* SPDX-License-Identifier: MIT */
#ifndef VMEDIA_TOOLS_PNG_WRITE_H
#define VMEDIA_TOOLS_PNG_WRITE_H

#include <stdint.h>

/* Write packed RGB24 rows as an 8-bit RGB PNG. 0 or a negative errno. */
int png_write_rgb24(const char *path, const uint8_t *rgb, uint32_t width,
		    uint32_t height);

#endif
