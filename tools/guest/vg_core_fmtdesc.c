/* SPDX-License-Identifier: MIT */
/*
 * v4l_fill_fmtdesc(): after the driver answered ENUM_FMT, the V4L2 core
 * overwrites the description of every pixel format it knows (and flags
 * the compressed ones), so applications see the kernel's words, not the
 * device's. Transcribed from drivers/media/v4l2-core/v4l2-ioctl.c; only
 * formats this system's <linux/videodev2.h> names are listed (a newer
 * kernel knows more: their descriptions stay the device's).
 */
#include <stdio.h>
#include <string.h>

#include "vg_core_priv.h"

struct fmt_descr {
	uint32_t fourcc;
	const char *descr;
};

static const struct fmt_descr plain[] = {
	{ V4L2_PIX_FMT_RGB332, "8-bit RGB 3-3-2" },
	{ V4L2_PIX_FMT_RGB444, "16-bit A/XRGB 4-4-4-4" },
	{ V4L2_PIX_FMT_ARGB444, "16-bit ARGB 4-4-4-4" },
	{ V4L2_PIX_FMT_XRGB444, "16-bit XRGB 4-4-4-4" },
	{ V4L2_PIX_FMT_RGBA444, "16-bit RGBA 4-4-4-4" },
	{ V4L2_PIX_FMT_RGBX444, "16-bit RGBX 4-4-4-4" },
	{ V4L2_PIX_FMT_ABGR444, "16-bit ABGR 4-4-4-4" },
	{ V4L2_PIX_FMT_XBGR444, "16-bit XBGR 4-4-4-4" },
	{ V4L2_PIX_FMT_BGRA444, "16-bit BGRA 4-4-4-4" },
	{ V4L2_PIX_FMT_BGRX444, "16-bit BGRX 4-4-4-4" },
	{ V4L2_PIX_FMT_RGB555, "16-bit A/XRGB 1-5-5-5" },
	{ V4L2_PIX_FMT_ARGB555, "16-bit ARGB 1-5-5-5" },
	{ V4L2_PIX_FMT_XRGB555, "16-bit XRGB 1-5-5-5" },
	{ V4L2_PIX_FMT_ABGR555, "16-bit ABGR 1-5-5-5" },
	{ V4L2_PIX_FMT_XBGR555, "16-bit XBGR 1-5-5-5" },
	{ V4L2_PIX_FMT_RGBA555, "16-bit RGBA 5-5-5-1" },
	{ V4L2_PIX_FMT_RGBX555, "16-bit RGBX 5-5-5-1" },
	{ V4L2_PIX_FMT_BGRA555, "16-bit BGRA 5-5-5-1" },
	{ V4L2_PIX_FMT_BGRX555, "16-bit BGRX 5-5-5-1" },
	{ V4L2_PIX_FMT_RGB565, "16-bit RGB 5-6-5" },
	{ V4L2_PIX_FMT_RGB555X, "16-bit A/XRGB 1-5-5-5 BE" },
	{ V4L2_PIX_FMT_ARGB555X, "16-bit ARGB 1-5-5-5 BE" },
	{ V4L2_PIX_FMT_XRGB555X, "16-bit XRGB 1-5-5-5 BE" },
	{ V4L2_PIX_FMT_RGB565X, "16-bit RGB 5-6-5 BE" },
	{ V4L2_PIX_FMT_BGR666, "18-bit BGRX 6-6-6-14" },
	{ V4L2_PIX_FMT_BGR24, "24-bit BGR 8-8-8" },
	{ V4L2_PIX_FMT_RGB24, "24-bit RGB 8-8-8" },
	{ V4L2_PIX_FMT_BGR32, "32-bit BGRA/X 8-8-8-8" },
	{ V4L2_PIX_FMT_ABGR32, "32-bit BGRA 8-8-8-8" },
	{ V4L2_PIX_FMT_XBGR32, "32-bit BGRX 8-8-8-8" },
	{ V4L2_PIX_FMT_RGB32, "32-bit A/XRGB 8-8-8-8" },
	{ V4L2_PIX_FMT_ARGB32, "32-bit ARGB 8-8-8-8" },
	{ V4L2_PIX_FMT_XRGB32, "32-bit XRGB 8-8-8-8" },
	{ V4L2_PIX_FMT_BGRA32, "32-bit ABGR 8-8-8-8" },
	{ V4L2_PIX_FMT_BGRX32, "32-bit XBGR 8-8-8-8" },
	{ V4L2_PIX_FMT_RGBA32, "32-bit RGBA 8-8-8-8" },
	{ V4L2_PIX_FMT_RGBX32, "32-bit RGBX 8-8-8-8" },
	{ V4L2_PIX_FMT_GREY, "8-bit Greyscale" },
	{ V4L2_PIX_FMT_Y4, "4-bit Greyscale" },
	{ V4L2_PIX_FMT_Y6, "6-bit Greyscale" },
	{ V4L2_PIX_FMT_Y10, "10-bit Greyscale" },
	{ V4L2_PIX_FMT_Y12, "12-bit Greyscale" },
	{ V4L2_PIX_FMT_Y14, "14-bit Greyscale" },
	{ V4L2_PIX_FMT_Y16, "16-bit Greyscale" },
	{ V4L2_PIX_FMT_Y16_BE, "16-bit Greyscale BE" },
	{ V4L2_PIX_FMT_Y10BPACK, "10-bit Greyscale (Packed)" },
	{ V4L2_PIX_FMT_Y10P, "10-bit Greyscale (MIPI Packed)" },
	{ V4L2_PIX_FMT_Y8I, "Interleaved 8-bit Greyscale" },
	{ V4L2_PIX_FMT_Y12I, "Interleaved 12-bit Greyscale" },
	{ V4L2_PIX_FMT_Z16, "16-bit Depth" },
	{ V4L2_PIX_FMT_INZI, "Planar 10:16 Greyscale Depth" },
	{ V4L2_PIX_FMT_CNF4, "4-bit Depth Confidence (Packed)" },
	{ V4L2_PIX_FMT_PAL8, "8-bit Palette" },
	{ V4L2_PIX_FMT_UV8, "8-bit Chrominance UV 4-4" },
	{ V4L2_PIX_FMT_YVU410, "Planar YVU 4:1:0" },
	{ V4L2_PIX_FMT_YVU420, "Planar YVU 4:2:0" },
	{ V4L2_PIX_FMT_YUYV, "YUYV 4:2:2" },
	{ V4L2_PIX_FMT_YYUV, "YYUV 4:2:2" },
	{ V4L2_PIX_FMT_YVYU, "YVYU 4:2:2" },
	{ V4L2_PIX_FMT_UYVY, "UYVY 4:2:2" },
	{ V4L2_PIX_FMT_VYUY, "VYUY 4:2:2" },
	{ V4L2_PIX_FMT_YUV422P, "Planar YUV 4:2:2" },
	{ V4L2_PIX_FMT_YUV411P, "Planar YUV 4:1:1" },
	{ V4L2_PIX_FMT_Y41P, "YUV 4:1:1 (Packed)" },
	{ V4L2_PIX_FMT_YUV444, "16-bit A/XYUV 4-4-4-4" },
	{ V4L2_PIX_FMT_YUV555, "16-bit A/XYUV 1-5-5-5" },
	{ V4L2_PIX_FMT_YUV565, "16-bit YUV 5-6-5" },
	{ V4L2_PIX_FMT_YUV24, "24-bit YUV 4:4:4 8-8-8" },
	{ V4L2_PIX_FMT_YUV32, "32-bit A/XYUV 8-8-8-8" },
	{ V4L2_PIX_FMT_AYUV32, "32-bit AYUV 8-8-8-8" },
	{ V4L2_PIX_FMT_XYUV32, "32-bit XYUV 8-8-8-8" },
	{ V4L2_PIX_FMT_VUYA32, "32-bit VUYA 8-8-8-8" },
	{ V4L2_PIX_FMT_VUYX32, "32-bit VUYX 8-8-8-8" },
	{ V4L2_PIX_FMT_YUV410, "Planar YUV 4:1:0" },
	{ V4L2_PIX_FMT_YUV420, "Planar YUV 4:2:0" },
	{ V4L2_PIX_FMT_HI240, "8-bit Dithered RGB (BTTV)" },
	{ V4L2_PIX_FMT_HM12, "YUV 4:2:0 (16x16 Macroblocks)" },
	{ V4L2_PIX_FMT_M420, "YUV 4:2:0 (M420)" },
	{ V4L2_PIX_FMT_NV12, "Y/CbCr 4:2:0" },
	{ V4L2_PIX_FMT_NV21, "Y/CrCb 4:2:0" },
	{ V4L2_PIX_FMT_NV16, "Y/CbCr 4:2:2" },
	{ V4L2_PIX_FMT_NV61, "Y/CrCb 4:2:2" },
	{ V4L2_PIX_FMT_NV24, "Y/CbCr 4:4:4" },
	{ V4L2_PIX_FMT_NV42, "Y/CrCb 4:4:4" },
	{ V4L2_PIX_FMT_NV12M, "Y/CbCr 4:2:0 (N-C)" },
	{ V4L2_PIX_FMT_NV21M, "Y/CrCb 4:2:0 (N-C)" },
	{ V4L2_PIX_FMT_NV16M, "Y/CbCr 4:2:2 (N-C)" },
	{ V4L2_PIX_FMT_NV61M, "Y/CrCb 4:2:2 (N-C)" },
	{ V4L2_PIX_FMT_NV12MT, "Y/CbCr 4:2:0 (64x32 MB, N-C)" },
	{ V4L2_PIX_FMT_NV12MT_16X16, "Y/CbCr 4:2:0 (16x16 MB, N-C)" },
	{ V4L2_PIX_FMT_YUV420M, "Planar YUV 4:2:0 (N-C)" },
	{ V4L2_PIX_FMT_YVU420M, "Planar YVU 4:2:0 (N-C)" },
	{ V4L2_PIX_FMT_YUV422M, "Planar YUV 4:2:2 (N-C)" },
	{ V4L2_PIX_FMT_YVU422M, "Planar YVU 4:2:2 (N-C)" },
	{ V4L2_PIX_FMT_YUV444M, "Planar YUV 4:4:4 (N-C)" },
	{ V4L2_PIX_FMT_YVU444M, "Planar YVU 4:4:4 (N-C)" },
	{ V4L2_PIX_FMT_SBGGR8, "8-bit Bayer BGBG/GRGR" },
	{ V4L2_PIX_FMT_SGBRG8, "8-bit Bayer GBGB/RGRG" },
	{ V4L2_PIX_FMT_SGRBG8, "8-bit Bayer GRGR/BGBG" },
	{ V4L2_PIX_FMT_SRGGB8, "8-bit Bayer RGRG/GBGB" },
	{ V4L2_PIX_FMT_SBGGR10, "10-bit Bayer BGBG/GRGR" },
	{ V4L2_PIX_FMT_SGBRG10, "10-bit Bayer GBGB/RGRG" },
	{ V4L2_PIX_FMT_SGRBG10, "10-bit Bayer GRGR/BGBG" },
	{ V4L2_PIX_FMT_SRGGB10, "10-bit Bayer RGRG/GBGB" },
	{ V4L2_PIX_FMT_SBGGR10P, "10-bit Bayer BGBG/GRGR Packed" },
	{ V4L2_PIX_FMT_SGBRG10P, "10-bit Bayer GBGB/RGRG Packed" },
	{ V4L2_PIX_FMT_SGRBG10P, "10-bit Bayer GRGR/BGBG Packed" },
	{ V4L2_PIX_FMT_SRGGB10P, "10-bit Bayer RGRG/GBGB Packed" },
	{ V4L2_PIX_FMT_IPU3_SBGGR10, "10-bit bayer BGGR IPU3 Packed" },
	{ V4L2_PIX_FMT_IPU3_SGBRG10, "10-bit bayer GBRG IPU3 Packed" },
	{ V4L2_PIX_FMT_IPU3_SGRBG10, "10-bit bayer GRBG IPU3 Packed" },
	{ V4L2_PIX_FMT_IPU3_SRGGB10, "10-bit bayer RGGB IPU3 Packed" },
	{ V4L2_PIX_FMT_SBGGR10ALAW8, "8-bit Bayer BGBG/GRGR (A-law)" },
	{ V4L2_PIX_FMT_SGBRG10ALAW8, "8-bit Bayer GBGB/RGRG (A-law)" },
	{ V4L2_PIX_FMT_SGRBG10ALAW8, "8-bit Bayer GRGR/BGBG (A-law)" },
	{ V4L2_PIX_FMT_SRGGB10ALAW8, "8-bit Bayer RGRG/GBGB (A-law)" },
	{ V4L2_PIX_FMT_SBGGR10DPCM8, "8-bit Bayer BGBG/GRGR (DPCM)" },
	{ V4L2_PIX_FMT_SGBRG10DPCM8, "8-bit Bayer GBGB/RGRG (DPCM)" },
	{ V4L2_PIX_FMT_SGRBG10DPCM8, "8-bit Bayer GRGR/BGBG (DPCM)" },
	{ V4L2_PIX_FMT_SRGGB10DPCM8, "8-bit Bayer RGRG/GBGB (DPCM)" },
	{ V4L2_PIX_FMT_SBGGR12, "12-bit Bayer BGBG/GRGR" },
	{ V4L2_PIX_FMT_SGBRG12, "12-bit Bayer GBGB/RGRG" },
	{ V4L2_PIX_FMT_SGRBG12, "12-bit Bayer GRGR/BGBG" },
	{ V4L2_PIX_FMT_SRGGB12, "12-bit Bayer RGRG/GBGB" },
	{ V4L2_PIX_FMT_SBGGR12P, "12-bit Bayer BGBG/GRGR Packed" },
	{ V4L2_PIX_FMT_SGBRG12P, "12-bit Bayer GBGB/RGRG Packed" },
	{ V4L2_PIX_FMT_SGRBG12P, "12-bit Bayer GRGR/BGBG Packed" },
	{ V4L2_PIX_FMT_SRGGB12P, "12-bit Bayer RGRG/GBGB Packed" },
	{ V4L2_PIX_FMT_SBGGR14, "14-bit Bayer BGBG/GRGR" },
	{ V4L2_PIX_FMT_SGBRG14, "14-bit Bayer GBGB/RGRG" },
	{ V4L2_PIX_FMT_SGRBG14, "14-bit Bayer GRGR/BGBG" },
	{ V4L2_PIX_FMT_SRGGB14, "14-bit Bayer RGRG/GBGB" },
	{ V4L2_PIX_FMT_SBGGR14P, "14-bit Bayer BGBG/GRGR Packed" },
	{ V4L2_PIX_FMT_SGBRG14P, "14-bit Bayer GBGB/RGRG Packed" },
	{ V4L2_PIX_FMT_SGRBG14P, "14-bit Bayer GRGR/BGBG Packed" },
	{ V4L2_PIX_FMT_SRGGB14P, "14-bit Bayer RGRG/GBGB Packed" },
	{ V4L2_PIX_FMT_SBGGR16, "16-bit Bayer BGBG/GRGR" },
	{ V4L2_PIX_FMT_SGBRG16, "16-bit Bayer GBGB/RGRG" },
	{ V4L2_PIX_FMT_SGRBG16, "16-bit Bayer GRGR/BGBG" },
	{ V4L2_PIX_FMT_SRGGB16, "16-bit Bayer RGRG/GBGB" },
	{ V4L2_PIX_FMT_SN9C20X_I420, "GSPCA SN9C20X I420" },
	{ V4L2_PIX_FMT_SPCA501, "GSPCA SPCA501" },
	{ V4L2_PIX_FMT_SPCA505, "GSPCA SPCA505" },
	{ V4L2_PIX_FMT_SPCA508, "GSPCA SPCA508" },
	{ V4L2_PIX_FMT_STV0680, "GSPCA STV0680" },
	{ V4L2_PIX_FMT_TM6000, "A/V + VBI Mux Packet" },
	{ V4L2_PIX_FMT_CIT_YYVYUY, "GSPCA CIT YYVYUY" },
	{ V4L2_PIX_FMT_KONICA420, "GSPCA KONICA420" },
	{ V4L2_PIX_FMT_HSV24, "24-bit HSV 8-8-8" },
	{ V4L2_PIX_FMT_HSV32, "32-bit XHSV 8-8-8-8" },
	{ V4L2_SDR_FMT_CU8, "Complex U8" },
	{ V4L2_SDR_FMT_CU16LE, "Complex U16LE" },
	{ V4L2_SDR_FMT_CS8, "Complex S8" },
	{ V4L2_SDR_FMT_CS14LE, "Complex S14LE" },
	{ V4L2_SDR_FMT_RU12LE, "Real U12LE" },
	{ V4L2_SDR_FMT_PCU16BE, "Planar Complex U16BE" },
	{ V4L2_SDR_FMT_PCU18BE, "Planar Complex U18BE" },
	{ V4L2_SDR_FMT_PCU20BE, "Planar Complex U20BE" },
	{ V4L2_TCH_FMT_DELTA_TD16, "16-bit Signed Deltas" },
	{ V4L2_TCH_FMT_DELTA_TD08, "8-bit Signed Deltas" },
	{ V4L2_TCH_FMT_TU16, "16-bit Unsigned Touch Data" },
	{ V4L2_TCH_FMT_TU08, "8-bit Unsigned Touch Data" },
	{ V4L2_META_FMT_VSP1_HGO, "R-Car VSP1 1-D Histogram" },
	{ V4L2_META_FMT_VSP1_HGT, "R-Car VSP1 2-D Histogram" },
	{ V4L2_META_FMT_UVC, "UVC Payload Header Metadata" },
	{ V4L2_META_FMT_D4XX, "Intel D4xx UVC Metadata" },
	{ V4L2_META_FMT_VIVID, "Vivid Metadata" },
	{ V4L2_META_FMT_RK_ISP1_PARAMS, "Rockchip ISP1 3A Parameters" },
	{ V4L2_META_FMT_RK_ISP1_STAT_3A, "Rockchip ISP1 3A Statistics" },
};

/* These also get V4L2_FMT_FLAG_COMPRESSED. */
static const struct fmt_descr compressed[] = {
	{ V4L2_PIX_FMT_MJPEG, "Motion-JPEG" },
	{ V4L2_PIX_FMT_JPEG, "JFIF JPEG" },
	{ V4L2_PIX_FMT_DV, "1394" },
	{ V4L2_PIX_FMT_MPEG, "MPEG-1/2/4" },
	{ V4L2_PIX_FMT_H264, "H.264" },
	{ V4L2_PIX_FMT_H264_NO_SC, "H.264 (No Start Codes)" },
	{ V4L2_PIX_FMT_H264_MVC, "H.264 MVC" },
	{ V4L2_PIX_FMT_H264_SLICE, "H.264 Parsed Slice Data" },
	{ V4L2_PIX_FMT_H263, "H.263" },
	{ V4L2_PIX_FMT_MPEG1, "MPEG-1 ES" },
	{ V4L2_PIX_FMT_MPEG2, "MPEG-2 ES" },
	{ V4L2_PIX_FMT_MPEG2_SLICE, "MPEG-2 Parsed Slice Data" },
	{ V4L2_PIX_FMT_MPEG4, "MPEG-4 Part 2 ES" },
	{ V4L2_PIX_FMT_XVID, "Xvid" },
	{ V4L2_PIX_FMT_VC1_ANNEX_G, "VC-1 (SMPTE 412M Annex G)" },
	{ V4L2_PIX_FMT_VC1_ANNEX_L, "VC-1 (SMPTE 412M Annex L)" },
	{ V4L2_PIX_FMT_VP8, "VP8" },
	{ V4L2_PIX_FMT_VP8_FRAME, "VP8 Frame" },
	{ V4L2_PIX_FMT_VP9, "VP9" },
	{ V4L2_PIX_FMT_HEVC, "HEVC" },
	{ V4L2_PIX_FMT_HEVC_SLICE, "HEVC Parsed Slice Data" },
	{ V4L2_PIX_FMT_FWHT, "FWHT" },
	{ V4L2_PIX_FMT_FWHT_STATELESS, "FWHT Stateless" },
	{ V4L2_PIX_FMT_CPIA1, "GSPCA CPiA YUV" },
	{ V4L2_PIX_FMT_WNVA, "WNVA" },
	{ V4L2_PIX_FMT_SN9C10X, "GSPCA SN9C10X" },
	{ V4L2_PIX_FMT_PWC1, "Raw Philips Webcam Type (Old)" },
	{ V4L2_PIX_FMT_PWC2, "Raw Philips Webcam Type (New)" },
	{ V4L2_PIX_FMT_ET61X251, "GSPCA ET61X251" },
	{ V4L2_PIX_FMT_SPCA561, "GSPCA SPCA561" },
	{ V4L2_PIX_FMT_PAC207, "GSPCA PAC207" },
	{ V4L2_PIX_FMT_MR97310A, "GSPCA MR97310A" },
	{ V4L2_PIX_FMT_JL2005BCD, "GSPCA JL2005BCD" },
	{ V4L2_PIX_FMT_SN9C2028, "GSPCA SN9C2028" },
	{ V4L2_PIX_FMT_SQ905C, "GSPCA SQ905C" },
	{ V4L2_PIX_FMT_PJPG, "GSPCA PJPG" },
	{ V4L2_PIX_FMT_OV511, "GSPCA OV511" },
	{ V4L2_PIX_FMT_OV518, "GSPCA OV518" },
	{ V4L2_PIX_FMT_JPGL, "JPEG Lite" },
	{ V4L2_PIX_FMT_SE401, "GSPCA SE401" },
	{ V4L2_PIX_FMT_S5C_UYVY_JPG, "S5C73MX interleaved UYVY/JPEG" },
	{ V4L2_PIX_FMT_MT21C, "Mediatek Compressed Format" },
	{ V4L2_PIX_FMT_SUNXI_TILED_NV12, "Sunxi Tiled NV12 Format" },
};

static const char *lookup(const struct fmt_descr *t, size_t n, uint32_t fcc)
{
	for (size_t i = 0; i < n; i++) {
		if (t[i].fourcc == fcc)
			return t[i].descr;
	}
	return NULL;
}

/* The kernel's %p4cc: "ABCD little-endian (0x44434241)". */
static void print_4cc(char *out, size_t size, uint32_t fcc)
{
	char c[5];

	for (unsigned i = 0; i < 4; i++) {
		unsigned char ch = (unsigned char)(fcc >> (8 * i)) & 0x7f;

		c[i] = ch >= 0x20 && ch < 0x7f ? (char)ch : '.';
	}
	c[4] = 0;
	snprintf(out, size, "%s %s-endian (0x%08x)", c,
		 (fcc & (1u << 31)) ? "big" : "little", fcc);
}

void vg_fill_fmtdesc(struct v4l2_fmtdesc *f)
{
	const size_t sz = sizeof(f->description);
	const char *d =
		lookup(plain, sizeof(plain) / sizeof(plain[0]), f->pixelformat);
	uint32_t flags = 0;

	if (!d) {
		d = lookup(compressed,
			   sizeof(compressed) / sizeof(compressed[0]),
			   f->pixelformat);
		flags = V4L2_FMT_FLAG_COMPRESSED;
	}
	if (!d) {
		/* Unknown: the driver's words, or the fourcc spelled out. */
		if (f->description[0])
			return;
		print_4cc((char *)f->description, sz, f->pixelformat);
		return;
	}
	snprintf((char *)f->description, sz, "%s", d);
	f->flags |= flags;
}
