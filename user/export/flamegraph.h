/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * flamegraph.h - a self-contained SVG flame graph, drawn by us.
 *
 * Root ("all") at the bottom, callers below callees, the allocator kind as
 * the top-most frame; widths proportional to the chosen value; frames
 * narrower than FLAMEGRAPH_MIN_WIDTH pixels are not drawn. Clicking a
 * frame zooms to it, "Reset Zoom" undoes it (a small embedded script).
 */
#ifndef MEMSIGHT_FLAMEGRAPH_H
#define MEMSIGHT_FLAMEGRAPH_H

#include <stdio.h>

#include "export/folded.h"
#include "model/model.h"

#define FLAMEGRAPH_WIDTH	1200	/* image width, pixels */
#define FLAMEGRAPH_XPAD		10	/* margin left and right of the frames */
#define FLAMEGRAPH_FRAME_H	16	/* height of one stack level */
#define FLAMEGRAPH_MIN_WIDTH	0.1	/* narrower frames are dropped */

/* title NULL: "memsight: COMM (pid N) VALUE". 0, -ENOMEM or -EIO. */
int flamegraph__write_svg(const struct ms_profile *p, enum folded_value v, const char *title,
			  FILE *out);

#endif /* MEMSIGHT_FLAMEGRAPH_H */
