// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * web_assets.c - web/'s files as bytes of this object (.incbin; the Makefile
 * rebuilds it when one of them changes). Paths are from the top of the tree,
 * where make runs the compiler.
 */
#include "export/web_assets.h"

#define WEB_INCBIN(sym, file)							\
	__asm__(".section .rodata\n"						\
		".balign 16\n"							\
		#sym "_start:\n"						\
		".incbin \"" file "\"\n"					\
		#sym "_end:\n"							\
		".byte 0\n"							\
		".previous\n");							\
	extern const unsigned char sym##_start[], sym##_end[]

WEB_INCBIN(web_index_html, "web/index.html");
WEB_INCBIN(web_app_js, "web/app.js");
WEB_INCBIN(web_app_css, "web/app.css");
WEB_INCBIN(web_icon_svg, "web/icon.svg");

void web_assets__get(enum web_asset_id id, struct web_asset *ret)
{
	switch (id) {
	case WEB_INDEX_HTML:
		*ret = (struct web_asset){ web_index_html_start,
					   (size_t)(web_index_html_end - web_index_html_start) };
		break;
	case WEB_APP_JS:
		*ret = (struct web_asset){ web_app_js_start,
					   (size_t)(web_app_js_end - web_app_js_start) };
		break;
	case WEB_APP_CSS:
		*ret = (struct web_asset){ web_app_css_start,
					   (size_t)(web_app_css_end - web_app_css_start) };
		break;
	case WEB_ICON_SVG:
		*ret = (struct web_asset){ web_icon_svg_start,
					   (size_t)(web_icon_svg_end - web_icon_svg_start) };
		break;
	}
}
