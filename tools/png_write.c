/* SPDX-License-Identifier: MIT */
#include "png_write.h"

#include <errno.h>
#include <png.h>
#include <stdio.h>

int png_write_rgb24(const char *path, const uint8_t *rgb, uint32_t width,
		    uint32_t height)
{
	png_structp png = NULL;
	png_infop info = NULL;
	FILE *f = fopen(path, "wb");
	int ret = -EIO;

	if (!f)
		return -errno;
	png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
	if (png)
		info = png_create_info_struct(png);
	if (!png || !info)
		goto out;
	/* libpng reports errors by longjmp: land here and clean up. */
	if (setjmp(png_jmpbuf(png)))
		goto out;
	png_init_io(png, f);
	png_set_IHDR(png, info, width, height, 8, PNG_COLOR_TYPE_RGB,
		     PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
		     PNG_FILTER_TYPE_DEFAULT);
	png_set_compression_level(png, 1);
	png_write_info(png, info);
	for (uint32_t y = 0; y < height; y++)
		png_write_row(png,
			      (png_const_bytep)(rgb + (size_t)y * width * 3));
	png_write_end(png, NULL);
	ret = 0;
out:
	png_destroy_write_struct(&png, &info);
	if (fclose(f) != 0 && ret == 0)
		ret = -errno;
	return ret;
}
