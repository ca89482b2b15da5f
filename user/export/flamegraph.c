// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "common/textsafe.h"
#include "export/flamegraph.h"
#include "export/xml.h"

#define FONT_SIZE	12
#define FONT_WIDTH	0.59	/* average glyph width per pixel of font size (Verdana) */
#define PAD_TOP		(FONT_SIZE * 3)
#define PAD_BOTTOM	(FONT_SIZE * 2 + 10)
#define PLOT_WIDTH	(FLAMEGRAPH_WIDTH - 2 * FLAMEGRAPH_XPAD)

struct node {
	const char *name;	/* owned by the folded set */
	uint32_t depth;		/* 0: the "all" root */
	uint64_t start;		/* sum of the values left of this frame */
	uint64_t value;
};

/* The label a frame of width w pixels has room for: all of it, a cut "xyz..", or nothing. */
static void put_label(FILE *out, const char *name, double w)
{
	double fit = (w - 3) / (FONT_SIZE * FONT_WIDTH);
	size_t chars;

	if (fit < 3)
		return;
	chars = (size_t)fit;
	if (textsafe__width(name) <= chars) {
		xml__put(out, name, SIZE_MAX);
		return;
	}
	xml__put(out, name, chars - 2);
	fputs("..", out);
}

static void put_thousands(FILE *out, uint64_t v)
{
	char digits[24];
	int n = snprintf(digits, sizeof(digits), "%" PRIu64, v);

	for (int i = 0; i < n; i++) {
		if (i && (n - i) % 3 == 0)
			fputc(',', out);
		fputc(digits[i], out);
	}
}

/* A warm colour that depends only on the name, so a function keeps it across graphs. */
static void put_colour(FILE *out, const char *name)
{
	uint32_t h = 2166136261u;

	for (const unsigned char *s = (const unsigned char *)name; *s; s++) {
		h ^= *s;
		h *= 16777619u;
	}
	fprintf(out, "rgb(%u,%u,%u)", 205 + 50 * ((h >> 16) & 0xff) / 255,
		230 * (h & 0xff) / 255, 55 * ((h >> 8) & 0xff) / 255);
}

/* Sorted stacks are a depth-first walk of the frame tree: one pass lays it out. */
static int build_tree(const struct folded_set *set, struct node **ret_nodes, size_t *ret_n,
		      uint32_t *ret_maxdepth)
{
	size_t total_frames = 1, n = 0;
	uint32_t maxframes = 0, maxdepth = 0;
	struct node *nodes;
	size_t *path;
	uint64_t off = 0;

	for (size_t i = 0; i < set->n; i++) {
		total_frames += set->v[i].nframes;
		if (set->v[i].nframes > maxframes)
			maxframes = set->v[i].nframes;
	}
	nodes = calloc(total_frames, sizeof(*nodes));
	path = calloc((size_t)maxframes + 1, sizeof(*path));
	if (!nodes || !path) {
		free(nodes);
		free(path);
		return -ENOMEM;
	}
	nodes[n++] = (struct node){ .name = "all", .value = set->total };
	for (size_t i = 0; i < set->n; i++) {
		const struct folded_stack *fs = &set->v[i], *prev = i ? &set->v[i - 1] : NULL;
		uint32_t common = 0;

		while (prev && common < prev->nframes && common < fs->nframes &&
		       !strcmp(prev->frames[common], fs->frames[common]))
			common++;
		for (uint32_t d = 0; d < common; d++)
			nodes[path[d + 1]].value += fs->value;
		for (uint32_t d = common; d < fs->nframes; d++) {
			path[d + 1] = n;
			nodes[n++] = (struct node){ .name = fs->frames[d], .depth = d + 1,
						    .start = off, .value = fs->value };
		}
		if (fs->nframes > maxdepth)
			maxdepth = fs->nframes;
		off += fs->value;
	}
	free(path);
	*ret_nodes = nodes;
	*ret_n = n;
	*ret_maxdepth = maxdepth;
	return 0;
}

/* Click to zoom, "Reset Zoom" to undo, hover shows the frame in the details line. */
static const char script[] =
	"(function () {\n"
	"\tvar W = %d, X0 = %d, FW = %.2f, E = 0.05, frames = [], reset, details;\n"
	"\tfunction fit(name, w) {\n"
	"\t\tvar n = Math.floor((w - 3) / FW);\n"
	"\t\tif (n < 3)\n"
	"\t\t\treturn \"\";\n"
	"\t\treturn name.length <= n ? name : name.substring(0, n - 2) + \"..\";\n"
	"\t}\n"
	"\tfunction place(f, x, w) {\n"
	"\t\tf.r.setAttribute(\"x\", x.toFixed(2));\n"
	"\t\tf.r.setAttribute(\"width\", w.toFixed(2));\n"
	"\t\tf.t.setAttribute(\"x\", (x + 3).toFixed(2));\n"
	"\t\tf.t.textContent = fit(f.name, w);\n"
	"\t\tf.g.style.display = \"\";\n"
	"\t}\n"
	"\tfunction zoom(z) {\n"
	"\t\tvar s = W / z.w;\n"
	"\t\tframes.forEach(function (f) {\n"
	"\t\t\tif (f.y >= z.y && f.x <= z.x + E && f.x + f.w >= z.x + z.w - E)\n"
	"\t\t\t\tplace(f, X0, W);\n"
	"\t\t\telse if (f.y < z.y && f.x >= z.x - E && f.x + f.w <= z.x + z.w + E)\n"
	"\t\t\t\tplace(f, X0 + (f.x - z.x) * s, f.w * s);\n"
	"\t\t\telse\n"
	"\t\t\t\tf.g.style.display = \"none\";\n"
	"\t\t});\n"
	"\t\treset.style.display = \"\";\n"
	"\t}\n"
	"\tfunction unzoom() {\n"
	"\t\tframes.forEach(function (f) { place(f, f.x, f.w); });\n"
	"\t\treset.style.display = \"none\";\n"
	"\t}\n"
	"\tfunction frameOf(e) {\n"
	"\t\tfor (var n = e.target; n && n.nodeType === 1; n = n.parentNode)\n"
	"\t\t\tif (n.__f)\n"
	"\t\t\t\treturn n.__f;\n"
	"\t\treturn null;\n"
	"\t}\n"
	"\twindow.addEventListener(\"load\", function () {\n"
	"\t\tvar gs = document.getElementsByTagName(\"g\");\n"
	"\t\treset = document.getElementById(\"reset\");\n"
	"\t\tdetails = document.getElementById(\"details\");\n"
	"\t\tfor (var i = 0; i < gs.length; i++) {\n"
	"\t\t\tvar g = gs[i], r, info;\n"
	"\t\t\tif (g.getAttribute(\"class\") !== \"f\")\n"
	"\t\t\t\tcontinue;\n"
	"\t\t\tr = g.getElementsByTagName(\"rect\")[0];\n"
	"\t\t\tinfo = g.getElementsByTagName(\"title\")[0].textContent;\n"
	"\t\t\tg.__f = { g: g, r: r, t: g.getElementsByTagName(\"text\")[0], info: info,\n"
	"\t\t\t\tname: info.substring(0, info.lastIndexOf(\" (\")),\n"
	"\t\t\t\tx: +r.getAttribute(\"x\"), w: +r.getAttribute(\"width\"),\n"
	"\t\t\t\ty: +r.getAttribute(\"y\") };\n"
	"\t\t\tframes.push(g.__f);\n"
	"\t\t}\n"
	"\t\tdocument.addEventListener(\"click\", function (e) {\n"
	"\t\t\tvar f = frameOf(e);\n"
	"\t\t\tif (e.target === reset)\n"
	"\t\t\t\tunzoom();\n"
	"\t\t\telse if (f)\n"
	"\t\t\t\tzoom(f);\n"
	"\t\t});\n"
	"\t\tdocument.addEventListener(\"mouseover\", function (e) {\n"
	"\t\t\tvar f = frameOf(e);\n"
	"\t\t\tdetails.textContent = f ? f.info : \" \";\n"
	"\t\t});\n"
	"\t});\n"
	"})();\n";

static void put_frame(FILE *out, const struct node *nd, uint64_t total, enum folded_value v,
		      int height)
{
	double x = FLAMEGRAPH_XPAD + (double)nd->start / (double)total * PLOT_WIDTH;
	double w = (double)nd->value / (double)total * PLOT_WIDTH;
	int y = height - PAD_BOTTOM - (int)(nd->depth + 1) * FLAMEGRAPH_FRAME_H;

	fputs("<g class=\"f\"><title>", out);
	xml__put(out, nd->name, SIZE_MAX);
	fputs(" (", out);
	put_thousands(out, nd->value);
	fprintf(out, " %s, %.2f%%)</title>", folded__value_is_bytes(v) ? "bytes" : "allocations",
		100.0 * (double)nd->value / (double)total);
	fprintf(out, "<rect x=\"%.2f\" y=\"%d\" width=\"%.2f\" height=\"%d\" fill=\"", x, y, w,
		FLAMEGRAPH_FRAME_H - 1);
	put_colour(out, nd->name);
	fprintf(out, "\" rx=\"2\" ry=\"2\"/><text x=\"%.2f\" y=\"%.1f\">", x + 3,
		y + FLAMEGRAPH_FRAME_H - 4.5);
	put_label(out, nd->name, w);
	fputs("</text></g>\n", out);
}

int flamegraph__write_svg(const struct ms_profile *p, enum folded_value v, const char *title,
			  FILE *out)
{
	struct folded_set set;
	struct node *nodes = NULL;
	uint32_t maxdepth = 0, drawn_depth = 0;
	size_t n = 0;
	int height, err;

	err = folded__collect(p, v, &set);
	if (err)
		return err;
	if (set.total) {
		err = build_tree(&set, &nodes, &n, &maxdepth);
		if (err)
			goto out;
	}
	/* size the image for the frames that are drawn, not for cut-off slivers */
	for (size_t i = 0; i < n; i++) {
		double w = (double)nodes[i].value / (double)set.total * PLOT_WIDTH;

		if (w >= FLAMEGRAPH_MIN_WIDTH && nodes[i].depth > drawn_depth)
			drawn_depth = nodes[i].depth;
	}
	height = (int)(drawn_depth + 1) * FLAMEGRAPH_FRAME_H + PAD_TOP + PAD_BOTTOM;

	fputs("<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>\n", out);
	fprintf(out, "<svg version=\"1.1\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
		"xmlns=\"http://www.w3.org/2000/svg\">\n", FLAMEGRAPH_WIDTH, height,
		FLAMEGRAPH_WIDTH, height);
	fputs("<style type=\"text/css\">\n"
	      "text { font-family: Verdana, sans-serif; font-size: 12px; fill: rgb(0,0,0); }\n"
	      "#title { text-anchor: middle; font-size: 17px; }\n"
	      "#reset { cursor: pointer; }\n"
	      "g.f { cursor: pointer; }\n"
	      "g.f:hover rect { stroke: rgb(0,0,0); stroke-width: 0.5; }\n"
	      "</style>\n", out);
	fprintf(out, "<rect x=\"0\" y=\"0\" width=\"%d\" height=\"%d\" "
		"fill=\"rgb(250,250,245)\"/>\n", FLAMEGRAPH_WIDTH, height);
	fprintf(out, "<text id=\"title\" x=\"%d\" y=\"%d\">", FLAMEGRAPH_WIDTH / 2, FONT_SIZE * 2);
	if (title) {
		xml__put(out, title, SIZE_MAX);
	} else {
		fputs("memsight: ", out);
		xml__put(out, p->comm, SIZE_MAX);
		fprintf(out, " (pid %d) %s", (int)p->pid, folded__value_name(v));
	}
	fputs("</text>\n", out);
	fprintf(out, "<text id=\"reset\" x=\"%d\" y=\"%d\" style=\"display:none\">"
		"Reset Zoom</text>\n", FLAMEGRAPH_XPAD, FONT_SIZE * 2);
	fprintf(out, "<text id=\"details\" x=\"%d\" y=\"%d\"> </text>\n", FLAMEGRAPH_XPAD,
		height - FONT_SIZE);
	if (!set.total)
		fprintf(out, "<text x=\"%d\" y=\"%d\">no %s to show</text>\n", FLAMEGRAPH_XPAD,
			PAD_TOP + FONT_SIZE, folded__value_name(v));
	for (size_t i = 0; i < n; i++) {
		if ((double)nodes[i].value / (double)set.total * PLOT_WIDTH < FLAMEGRAPH_MIN_WIDTH)
			continue;
		put_frame(out, &nodes[i], set.total, v, height);
	}
	fputs("<script type=\"text/ecmascript\"><![CDATA[\n", out);
	fprintf(out, script, PLOT_WIDTH, FLAMEGRAPH_XPAD, FONT_SIZE * FONT_WIDTH);
	fputs("]]></script>\n</svg>\n", out);
	if (fflush(out) || ferror(out))
		err = -EIO;
out:
	free(nodes);
	folded_set__free(&set);
	return err;
}
