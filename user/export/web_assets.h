/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * web_assets.h - the web view's files (web/ in the source tree), built into
 * the binary so that memsightd serves them without reading any file.
 */
#ifndef MEMSIGHT_WEB_ASSETS_H
#define MEMSIGHT_WEB_ASSETS_H

#include <stddef.h>

struct web_asset {
	const unsigned char *data;
	size_t len;
};

enum web_asset_id { WEB_INDEX_HTML, WEB_APP_JS, WEB_APP_CSS, WEB_ICON_SVG };

void web_assets__get(enum web_asset_id id, struct web_asset *ret);

#endif
