// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* explain_report.c - "where RSS goes" (model/explain.h) as text and JSON. */
#include <inttypes.h>
#include <string.h>

#include "common/textsafe.h"
#include "export/cgroup_view.h"
#include "export/explain_report.h"
#include "export/report.h"

/* A Go process whose heap figures could not be read: why (else NULL). */
static const char *go_unavailable(const struct ms_profile *p)
{
	if (!p->go.present || (!p->go.runtime_err && p->go.have_heap))
		return NULL;
	if (p->go.runtime_err)
		return p->go.runtime_reason ?: "the Go runtime cannot be read";
	return p->go.heap_reason ?: "unknown reason";
}

void explain__text(const struct explain *e, const struct ms_profile *p, FILE *out)
{
	const char *go_why = go_unavailable(p);
	char a[32], why[TEXTSAFE_SIZE(512)];

	report__text_header(p, out);
	fprintf(out, "RSS %s, of which:\n", report__human_bytes(e->rss, a, sizeof(a)));
	for (int c = 0; c < EX__MAX; c++) {
		if (c >= EX_GO_HEAP && c <= EX_GO_IDLE && !p->go.present)
			continue;
		if (c >= EX_GO_HEAP && c <= EX_GO_IDLE && go_why) {
			/* the reason may name the target's symbols: escaped */
			fprintf(out, "  %12s  %6s  %s: unavailable (%s)\n", "?", "?", explain__name(c),
				textsafe__str(why, sizeof(why), go_why));
			continue;
		}
		fprintf(out, "  %12s  %5.1f%%  %s", report__human_bytes(e->bytes[c], a, sizeof(a)),
			e->rss ? 100.0 * e->bytes[c] / e->rss : 0.0, explain__name(c));
		if (c == EX_OTHER_ANON && e->of_which_tracked_mmap)
			fprintf(out, " (%s from tracked mmap calls)",
				report__human_bytes(e->of_which_tracked_mmap, a, sizeof(a)));
		fputc('\n', out);
	}
	if (go_why)
		fprintf(out, "note: the Go heap could not be read, so it is counted under other "
			"anonymous mappings and goroutine stacks are not separated\n");
	else if (p->go.present)
		fprintf(out, "  (Go heap released to the OS, not resident: %s)\n",
			report__human_bytes(e->go_released, a, sizeof(a)));
	if (p->cgroup || p->cgroup_err)
		cgroup_view__explain_text(p->cgroup, p->cgroup_err,
					  p->have_status ? &p->status : NULL, out);
	fprintf(out, "note: malloc bytes are those allocated since attach; older ones count as "
		"unexplained\n");
	if (ms_profile__lower_bound(p))
		fprintf(out, "warning: events of this process were not fully recorded: tracked "
			"bytes are lower bounds, the rest counts as unexplained\n");
}

void explain__json(const struct explain *e, const struct ms_profile *p, struct json_writer *w)
{
	const char *go_why = go_unavailable(p);
	char probe[64];
	static const char *const keys[EX__MAX] = {
		"malloc_inuse", "go_heap_inuse", "go_heap_idle_unreleased", "stacks",
		"other_anonymous", "file_backed", "shmem", "unexplained",
	};

	jw__start_object(w);
	jw__kv_int(w, "pid", p->pid);
	jw__kv_string(w, "comm", p->comm);
	jw__kv_uint(w, "rss_bytes", e->rss);
	jw__name(w, "bytes");
	jw__start_object(w);
	for (int c = 0; c < EX__MAX; c++) {
		if (c >= EX_GO_HEAP && c <= EX_GO_IDLE && (!p->go.present || go_why))
			continue;	/* not a Go process, or not known: absent, never 0 */
		jw__kv_uint(w, keys[c], e->bytes[c]);
	}
	jw__end_object(w);
	jw__kv_uint(w, "other_anonymous_from_tracked_mmap", e->of_which_tracked_mmap);
	jw__kv_string(w, "allocator_probe", ms_allocator_probe(p->sampler_usdt, p->c_sample_bytes,
							       probe, sizeof(probe)));
	/* this process's own losses, not another's */
	jw__kv_bool(w, "lower_bound", ms_profile__lower_bound(p));
	if (go_why)
		jw__kv_string(w, "go_heap_unavailable", go_why);
	else if (p->go.present)
		jw__kv_uint(w, "go_heap_released_not_resident", e->go_released);
	if (p->cgroup || p->cgroup_err)
		cgroup_view__explain_json(w, p->cgroup, p->cgroup_err,
					  p->have_status ? &p->status : NULL);
	jw__end_object(w);
	jw__finish(w);
}
