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

static const struct { const unsigned char *start, *end; } files[] = {
	[WEB_INDEX_HTML] = { web_index_html_start, web_index_html_end },
	[WEB_APP_JS] = { web_app_js_start, web_app_js_end },
	[WEB_APP_CSS] = { web_app_css_start, web_app_css_end },
	[WEB_ICON_SVG] = { web_icon_svg_start, web_icon_svg_end },
};

void web_assets__get(enum web_asset_id id, struct web_asset *ret)
{
	ret->data = files[id].start;
	ret->len = (size_t)(files[id].end - files[id].start);
}
