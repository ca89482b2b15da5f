// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <string.h>

#include "common/textsafe.h"
#include "export/diff_report.h"
#include "export/xml.h"

/* Frames a stack's one-line name shows; JSON and the JUnit failure give all. */
#define NAME_FRAMES	4

static const char *const state_names[] = {
	[DIFF_BOTH] = "changed", [DIFF_NEW] = "new", [DIFF_GONE] = "vanished",
};

static const char *metric_text(enum diff_metric m)
{
	return m == DIFF_ALLOC ? "allocated bytes" : "in-use bytes";
}

static void pct_text(const struct diff_row *row, char *buf, size_t len)
{
	if (isinf(row->pct))
		snprintf(buf, len, "new");
	else
		snprintf(buf, len, "%+.1f%%", row->pct);
}

/*
 * A stack's key (kind, then frames, '\n'-separated) one segment at a time:
 * calls put(segment, segment length, index, arg) for each, up to max.
 */
static size_t each_segment(const char *key, size_t max,
			   void (*put)(const char *s, size_t n, size_t i, void *arg), void *arg)
{
	size_t i = 0;

	for (const char *s = key; s && i < max; i++) {
		const char *nl = strchr(s, '\n');

		put(s, nl ? (size_t)(nl - s) : strlen(s), i, arg);
		s = nl ? nl + 1 : NULL;
	}
	return i;
}

static size_t segments(const char *key)
{
	size_t n = 1;

	for (; *key; key++)
		n += *key == '\n';
	return n;
}

/* A segment as a NUL-terminated copy (segments are short: keys are capped). */
#define SEGMENT(buf, s, n) (snprintf(buf, sizeof(buf), "%.*s", (int)(n), s), buf)

struct name_arg {
	FILE *out;
	void (*esc)(FILE *out, const char *s);
};

static void put_name_segment(const char *s, size_t n, size_t i, void *arg)
{
	struct name_arg *a = arg;
	char seg[DIFF_MAX_KEY + 1];

	/* the separators through esc too: "<" is markup in XML */
	a->esc(a->out, i == 0 ? "[" : i == 1 ? "] " : " < ");
	a->esc(a->out, SEGMENT(seg, s, n));
}

static void text_esc(FILE *out, const char *s)
{
	textsafe__fputs(s, out);
}

static void xml_esc(FILE *out, const char *s)
{
	xml__put(out, s, SIZE_MAX);
}

/* "[malloc] leak_a leaky.c:57 < main leaky.c:150 < ..." */
static void stack_name(const char *key, FILE *out, void (*esc)(FILE *out, const char *s))
{
	struct name_arg a = { out, esc };
	size_t shown = each_segment(key, NAME_FRAMES + 1, put_name_segment, &a);

	if (shown == 1)
		esc(out, "]");
	if (segments(key) > shown)
		esc(out, " < ...");
}

static void text_row(const struct diff_row *row, const char *mark, FILE *out)
{
	char pct[32];

	pct_text(row, pct, sizeof(pct));
	fprintf(out, "%+14" PRId64 " %9s %14" PRIu64 " %14" PRIu64 "  %-10s ", row->growth, pct,
		row->base, row->new, mark);
}

void diff_report__text(const struct diff_result *r, const struct diff_opts *o,
		       const struct diff_inputs *in, FILE *out)
{
	fprintf(out, "memsight diff: %s, ", metric_text(o->metric));
	textsafe__fputs(in->base_path, out);
	fputs(" -> ", out);
	textsafe__fputs(in->new_path, out);
	fprintf(out, "\ngate: growth > %g%% of BASE and > %" PRIu64 " B\n", o->max_growth_pct,
		o->min_bytes);
	if (in->base->estimates || in->new->estimates)
		fputs("note: some figures are sampled estimates (--sample-bytes, Go's sampler)\n",
		      out);
	if (in->base->lower_bound || in->new->lower_bound)
		fputs("note: a process lost events: its figures are lower bounds\n", out);
	if (in->base->skipped || in->new->skipped)
		fprintf(out, "note: processes without a profile: %u in BASE, %u in NEW\n",
			in->base->skipped, in->new->skipped);
	fprintf(out, "\n%14s %9s %14s %14s  %-10s %s\n", "GROWTH B", "%", "BASE", "NEW", "", "WHAT");
	text_row(&r->total, r->total.over ? "REGRESSION" : "", out);
	fputs("total\n", out);
	for (size_t i = 0; i < r->nprocs; i++) {
		text_row(&r->procs[i], r->procs[i].state == DIFF_BOTH ? "" :
			 state_names[r->procs[i].state], out);
		fputs("process ", out);
		textsafe__fputs(r->procs[i].proc, out);
		fputc('\n', out);
	}
	if (r->nstacks)
		fprintf(out, "\nstacks that changed (%zu), by growth:\n", r->nstacks);
	for (size_t i = 0; i < r->nstacks; i++) {
		const struct diff_row *row = &r->stacks[i];

		text_row(row, row->over ? "REGRESSION" : row->state == DIFF_BOTH ? "" :
			 state_names[row->state], out);
		textsafe__fputs(row->proc, out);
		fputc(' ', out);
		stack_name(row->key, out, text_esc);
		fputc('\n', out);
	}
	fprintf(out, "\n%zu regression%s\n", r->nover, r->nover == 1 ? "" : "s");
}

static void json_row_members(const struct diff_row *row, struct json_writer *w)
{
	jw__kv_uint(w, "base_bytes", row->base);
	jw__kv_uint(w, "new_bytes", row->new);
	jw__kv_int(w, "growth_bytes", row->growth);
	if (isinf(row->pct)) {
		jw__kv_string(w, "growth_pct_unavailable", "not in BASE");
	} else {
		jw__name(w, "growth_pct");
		jw__double(w, row->pct);
	}
	jw__kv_bool(w, "regression", row->over);
}

static void json_frame(const char *s, size_t n, size_t i, void *arg)
{
	char seg[DIFF_MAX_KEY + 1];

	if (i)	/* the first segment is the kind */
		jw__string(arg, SEGMENT(seg, s, n));
}

static void json_stack(const struct diff_row *row, struct json_writer *w)
{
	char kind[DIFF_MAX_KEY + 1];
	const char *nl = strchr(row->key, '\n');

	jw__start_object(w);
	jw__kv_string(w, "process", row->proc);
	jw__kv_string(w, "state", state_names[row->state]);
	jw__kv_string(w, "kind", nl ? SEGMENT(kind, row->key, nl - row->key) : row->key);
	jw__name(w, "frames");
	jw__start_array(w);
	each_segment(row->key, SIZE_MAX, json_frame, w);
	jw__end_array(w);
	json_row_members(row, w);
	jw__end_object(w);
}

int diff_report__json(const struct diff_result *r, const struct diff_opts *o,
		      const struct diff_inputs *in, struct json_writer *w)
{
	jw__start_object(w);
	jw__kv_string(w, "base", in->base_path);
	jw__kv_string(w, "new", in->new_path);
	jw__kv_string(w, "metric", diff_metric__name(o->metric));
	jw__name(w, "max_growth_pct");
	jw__double(w, o->max_growth_pct);
	jw__kv_uint(w, "min_bytes", o->min_bytes);
	jw__kv_bool(w, "estimates", in->base->estimates || in->new->estimates);
	jw__kv_bool(w, "lower_bound", in->base->lower_bound || in->new->lower_bound);
	jw__kv_uint(w, "regressions", r->nover);
	jw__name(w, "total");
	jw__start_object(w);
	json_row_members(&r->total, w);
	jw__end_object(w);
	jw__name(w, "processes");
	jw__start_array(w);
	for (size_t i = 0; i < r->nprocs; i++) {
		jw__start_object(w);
		jw__kv_string(w, "process", r->procs[i].proc);
		jw__kv_string(w, "state", state_names[r->procs[i].state]);
		json_row_members(&r->procs[i], w);
		jw__end_object(w);
	}
	jw__end_array(w);
	jw__name(w, "stacks");
	jw__start_array(w);
	for (size_t i = 0; i < r->nstacks; i++)
		json_stack(&r->stacks[i], w);
	jw__end_array(w);
	jw__end_object(w);
	return jw__finish(w);
}

static void junit_frame(const char *s, size_t n, size_t i, void *arg)
{
	char seg[DIFF_MAX_KEY + 1];

	fputs(i ? "\n  " : "kind ", arg);
	xml__put(arg, SEGMENT(seg, s, n), SIZE_MAX);
}

static void junit_failure(const struct diff_row *row, const struct diff_opts *o, FILE *out)
{
	char pct[32];

	pct_text(row, pct, sizeof(pct));
	fprintf(out, "    <failure message=\"grew by %" PRId64 " B (%s), over %g%% and %" PRIu64
		" B\" type=\"regression\">", row->growth, pct, o->max_growth_pct, o->min_bytes);
	fprintf(out, "%s %" PRIu64 " B -> %" PRIu64 " B\n", metric_text(o->metric), row->base,
		row->new);
	if (row->key)
		each_segment(row->key, SIZE_MAX, junit_frame, out);
	fputs("</failure>\n", out);
}

int diff_report__junit(const struct diff_result *r, const struct diff_opts *o, FILE *out)
{
	size_t tests = 1;

	for (size_t i = 0; i < r->nstacks; i++)
		tests += r->stacks[i].over;
	fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", out);
	fprintf(out, "<testsuites>\n<testsuite name=\"memsight diff\" tests=\"%zu\" "
		"failures=\"%zu\">\n", tests, r->nover);
	fprintf(out, "  <testcase classname=\"memsight.diff\" name=\"total %s\">\n",
		metric_text(o->metric));
	if (r->total.over)
		junit_failure(&r->total, o, out);
	fputs("  </testcase>\n", out);
	for (size_t i = 0; i < r->nstacks; i++) {
		const struct diff_row *row = &r->stacks[i];

		if (!row->over)
			continue;
		fputs("  <testcase classname=\"memsight.diff\" name=\"stack ", out);
		xml__put(out, row->proc, SIZE_MAX);
		fputc(' ', out);
		stack_name(row->key, out, xml_esc);
		fputs("\">\n", out);
		junit_failure(row, o, out);
		fputs("  </testcase>\n", out);
	}
	fputs("</testsuite>\n</testsuites>\n", out);
	return ferror(out) ? -EIO : 0;
}
