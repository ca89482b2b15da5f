// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "common/textsafe.h"
#include "export/pprof.h"
#include "export/report.h"
#include "export/run_report.h"
#include "export/xml.h"

static size_t shown(const struct run_report_opts *o)
{
	return o->top_n && o->top_n < MS_RUN_STACKS_MAX ? o->top_n : MS_RUN_STACKS_MAX;
}

/* "exited with status 3", "was killed by signal 15 (status 143)", ... */
static const char *ending(const struct run_result *r, const struct run_proc *rp, char *buf,
			  size_t len)
{
	if (r->exec_errno && rp == &r->procs[0])
		snprintf(buf, len, "could not be executed: %s (status %d)", strerror(r->exec_errno),
			 r->exit_code);
	else if (!rp->reaped)
		snprintf(buf, len, "was still running when the command ended");
	else if (WIFSIGNALED(rp->wstatus))
		snprintf(buf, len, "was killed by signal %d (%s; status %d)", WTERMSIG(rp->wstatus),
			 strsignal(WTERMSIG(rp->wstatus)), run_result__shell_status(rp->wstatus));
	else
		snprintf(buf, len, "exited with status %d", run_result__shell_status(rp->wstatus));
	return buf;
}

/* A Go process at its exit: goroutines still alive by creation site, its heap. */
static void go_text(const struct ms_profile *p, const struct run_report_opts *o, FILE *out)
{
	char *text = NULL, *line, *nl;
	size_t len = 0;
	FILE *mem = open_memstream(&text, &len);

	if (!mem)
		return;
	report__go_text(&p->go, shown(o), mem);
	if (fclose(mem)) {
		free(text);
		return;
	}
	/* indented under its process, as the lines above it */
	for (line = text; line && *line; line = nl ? nl + 1 : NULL) {
		nl = strchr(line, '\n');
		fprintf(out, "  %.*s\n", nl ? (int)(nl - line) : (int)strlen(line), line);
		if (!nl)
			break;
	}
	free(text);
}

static void proc_text(const struct run_result *r, const struct run_proc *rp,
		      const struct run_report_opts *o, FILE *out)
{
	const struct ms_profile *p = rp->p;
	char a[32], b[32], end[160];
	size_t idx[MS_RUN_STACKS_MAX], n;
	uint64_t left;

	fprintf(out, "\nPID %d", rp->pid);
	if (rp->ppid)
		fprintf(out, " (child of %d)", rp->ppid);
	if (p) {
		char comm[TEXTSAFE_SIZE(sizeof(p->comm))];

		fprintf(out, "  %s  ", textsafe__str(comm, sizeof(comm), p->comm));
		textsafe__fputs(p->exe ?: "?", out);
	}
	fprintf(out, "  %s\n", ending(r, rp, end, sizeof(end)));
	if (!p) {
		fprintf(out, "  figures unavailable: %s\n", rp->why_none ?: "not observed");
		return;
	}
	fprintf(out, "  seen through: %s\n", rp->mechanism);
	fprintf(out, "  still allocated at exit: %" PRIu64 " B (%s) in %" PRIu64 " blocks\n",
		p->inuse_bytes, report__human_bytes(p->inuse_bytes, a, sizeof(a)), p->inuse_count);
	fprintf(out, "  allocated in all: %" PRIu64 " B (%s) in %" PRIu64 " allocations\n",
		p->alloc_bytes, report__human_bytes(p->alloc_bytes, b, sizeof(b)), p->alloc_count);
	if (p->have_heap_peak)
		fprintf(out, "  peak heap in use: %" PRIu64 " B (%s)\n", p->heap_peak_bytes,
			report__human_bytes(p->heap_peak_bytes, a, sizeof(a)));
	else
		fprintf(out, "  peak heap in use: unavailable (%s)\n", ms_profile__c_estimates(p) ||
			p->sampler_usdt ? "sampled: the samples' peak is no estimate of it" :
			"not readable at its exit");
	if (p->have_status) {
		fprintf(out, "  peak RSS: %s", report__human_bytes(p->status.vm_hwm_kb * 1024, a,
								   sizeof(a)));
		if (rp->have_peak_at)
			fprintf(out, ", reached %.3f s after the start", rp->peak_at_s);
		fputc('\n', out);
	} else {
		fprintf(out, "  peak RSS: unavailable (its status was not readable at exit)\n");
	}
	if (p->have_procstats)
		fprintf(out, "  threads: %" PRIu64 " started besides the main one\n",
			p->threads_created);
	else
		fprintf(out, "  threads: unavailable (the per-process table was full)\n");
	if (run_result__goroutines_left(p, &left))
		fprintf(out, "  goroutines alive at exit besides the main one: %" PRIu64 "\n", left);
	else if (p->go.present)
		fprintf(out, "  goroutines alive at exit: unavailable (see below)\n");
	if (p->go.present)
		go_text(p, o, out);
	if (ms_profile__c_estimates(p))
		fprintf(out, "  note: sampled, one sample every %" PRIu64 " B on average: "
			"figures are estimates\n", p->c_sample_bytes);
	if (ms_profile__lower_bound(p))
		fprintf(out, "  warning: events were lost: figures are lower bounds\n");
	n = run_result__stacks_behind(p, MS_BUDGET_LEAKED, idx, shown(o));
	for (size_t i = 0; i < n; i++) {
		fputs(i ? "\n" : "  leaks at exit, by stack:\n", out);
		report__stack_text(p, &p->stacks[idx[i]], i + 1, o->max_frames, out);
	}
}

static uint64_t leaked_of(const struct run_proc *rp)
{
	return rp->p ? rp->p->inuse_bytes : 0;
}

/* Goroutines besides the main one alive at its exit (a Go test's leak). */
static bool goroutines_left(const struct run_proc *rp)
{
	uint64_t n;

	return run_result__goroutines_left(rp->p, &n) && n;
}

/*
 * The command, then its descendants: those whose figures are missing or
 * that left goroutines, and of the others the top_n that leaked most (a
 * make check runs hundreds).
 */
static void procs_text(const struct run_result *r, const struct run_report_opts *o, FILE *out)
{
	size_t limit = shown(o), n = 0, idx[MS_RUN_STACKS_MAX], hidden = 0;

	if (!r->nprocs)
		return;
	proc_text(r, &r->procs[0], o, out);
	for (size_t i = 1; i < r->nprocs; i++) {
		const struct run_proc *rp = &r->procs[i];
		size_t at;

		if (!rp->p || goroutines_left(rp)) {
			proc_text(r, rp, o, out);
			continue;
		}
		for (at = n; at > 0 && leaked_of(&r->procs[idx[at - 1]]) < leaked_of(rp); at--)
			;
		if (at >= limit) {
			hidden++;
			continue;
		}
		if (n == limit)
			hidden++;
		else
			n++;
		memmove(&idx[at + 1], &idx[at], (n - 1 - at) * sizeof(*idx));
		idx[at] = i;
	}
	for (size_t i = 0; i < n; i++)
		proc_text(r, &r->procs[idx[i]], o, out);
	if (hidden)
		fprintf(out, "\n%zu more process%s, which leaked no more (all of them in "
			"--report)\n", hidden, hidden == 1 ? "" : "es");
}

/* A budget's figure: "7 goroutines", "4096 B (4.00 KiB)". */
static const char *amount(enum ms_budget b, uint64_t v, char *buf, size_t len)
{
	char h[32];

	if (budget__is_count(b))
		snprintf(buf, len, "%" PRIu64, v);
	else
		snprintf(buf, len, "%" PRIu64 " B (%s)", v, report__human_bytes(v, h, sizeof(h)));
	return buf;
}

static void budget_line(const struct ms_budget_result *b, bool estimate, FILE *out)
{
	char l[32], v[64], d[64];
	/* estimates are of tracked bytes; a count read from memory is none */
	bool est = estimate && !budget__is_count(b->budget);

	fprintf(out, "  --%s ", budget__name(b->budget));
	if (b->who[0]) {
		textsafe__fputs(b->who, out);
		fputc('=', out);
	}
	if (budget__is_count(b->budget))
		fprintf(out, "%" PRIu64 ": ", b->limit);
	else
		fprintf(out, "%s: ", report__human_bytes(b->limit, l, sizeof(l)));
	switch (b->verdict) {
	case MS_VERDICT_HELD:
		if (budget__is_count(b->budget))
			snprintf(v, sizeof(v), "%" PRIu64, b->value);
		else
			snprintf(v, sizeof(v), "%" PRIu64 " B, %s", b->value,
				 report__human_bytes(b->value, l, sizeof(l)));
		fprintf(out, "held (%s %s%s)\n", budget__what(b->budget), v,
			est ? ", estimated" : "");
		break;
	case MS_VERDICT_BROKEN:
		fprintf(out, "BROKEN by %s: %s %s%s\n", amount(b->budget, b->over, d, sizeof(d)),
			budget__what(b->budget), amount(b->budget, b->value, v, sizeof(v)),
			est ? ", estimated" : "");
		break;
	case MS_VERDICT_UNKNOWN:
		fprintf(out, "NOT CHECKED: %s\n", b->why_unknown);
		break;
	}
}

/* A total of the run: exact bytes and for humans, or unavailable. */
static void total_text(const struct run_result *r, enum ms_budget b, FILE *out)
{
	char h[32];

	if (r->fig.have[b])
		fprintf(out, "%" PRIu64 " B (%s)", r->fig.value[b],
			report__human_bytes(r->fig.value[b], h, sizeof(h)));
	else
		fprintf(out, "unavailable");
}

static bool any_go(const struct run_result *r)
{
	for (size_t i = 0; i < r->nprocs; i++)
		if (r->procs[i].p && r->procs[i].p->go.present)
			return true;
	return false;
}

void run_report__text(const struct run_result *r, const struct run_report_opts *o, FILE *out)
{
	fprintf(out, "memsight run: ");
	for (size_t i = 0; r->argv && r->argv[i]; i++) {
		fputs(i ? " " : "", out);
		textsafe__fputs(r->argv[i], out);
	}
	fprintf(out, " (%.2f s, %zu process%s)\n", r->elapsed_s, r->nprocs,
		r->nprocs == 1 ? "" : "es");
	procs_text(r, o, out);
	if (r->nprocs > 1) {
		fprintf(out, "\nin total: still allocated at exit ");
		total_text(r, MS_BUDGET_LEAKED, out);
		fprintf(out, ", allocated ");
		total_text(r, MS_BUDGET_ALLOCATED, out);
		if (any_go(r)) {
			fprintf(out, ", goroutines alive at exit ");
			if (r->fig.have[MS_BUDGET_GOROUTINES])
				fprintf(out, "%" PRIu64, r->fig.value[MS_BUDGET_GOROUTINES]);
			else
				fprintf(out, "unavailable");
		}
		fputc('\n', out);
	}
	if (!r->nbudgets)
		return;
	fprintf(out, "\nbudgets:\n");
	for (size_t i = 0; i < r->nbudgets; i++)
		budget_line(&r->budgets[i], r->fig.estimate, out);
	if (r->failed)
		fprintf(out, "memsight run: a budget was not kept: exit status %d\n",
			MS_EXIT_BUDGET);
}

/* The creation sites behind a broken goroutines budget, as JSON objects. */
static void sites_json(const struct run_result *r, const struct ms_budget_result *b,
		       const struct run_report_opts *o, struct json_writer *w)
{
	size_t idx[MS_RUN_STACKS_MAX];

	for (size_t i = 0; i < r->nprocs; i++) {
		const struct ms_profile *p = r->procs[i].p;
		size_t n;

		if (!p || !run_result__is_named(&r->procs[i], b->who))
			continue;
		n = run_result__sites_behind(p, idx, shown(o));
		for (size_t j = 0; j < n; j++) {
			jw__start_object(w);
			jw__kv_int(w, "pid", p->pid);
			/* into its goroutines_by_creation_site */
			jw__kv_uint(w, "site_index", idx[j]);
			report__go_site_members(&p->go.groups[idx[j]], w);
			jw__end_object(w);
		}
	}
}

static void budget_json(const struct run_result *r, const struct ms_budget_result *b,
			const struct run_report_opts *o, struct json_writer *w)
{
	static const char *const verdicts[] = {
		[MS_VERDICT_HELD] = "held", [MS_VERDICT_BROKEN] = "broken",
		[MS_VERDICT_UNKNOWN] = "not_checked",
	};
	bool count = budget__is_count(b->budget);
	size_t idx[MS_RUN_STACKS_MAX], n;

	jw__start_object(w);
	jw__kv_string(w, "budget", budget__name(b->budget));
	if (b->who[0])
		jw__kv_string(w, "process_name", b->who);
	jw__kv_uint(w, count ? "limit_goroutines" : "limit_bytes", b->limit);
	jw__kv_string(w, "verdict", verdicts[b->verdict]);
	if (b->verdict == MS_VERDICT_UNKNOWN) {
		jw__kv_string(w, "value_unavailable", b->why_unknown);
	} else {
		jw__kv_uint(w, count ? "value_goroutines" : "value_bytes", b->value);
		jw__kv_uint(w, count ? "over_goroutines" : "over_bytes", b->over);
		jw__kv_bool(w, "estimate", r->fig.estimate && !count);
	}
	/* what is behind it: creation sites (goroutines), or process and index into its "stacks" */
	jw__name(w, count ? "creation_sites" : "stacks");
	jw__start_array(w);
	if (b->verdict == MS_VERDICT_BROKEN && count)
		sites_json(r, b, o, w);
	for (size_t i = 0; b->verdict == MS_VERDICT_BROKEN && !count && i < r->nprocs; i++) {
		const struct ms_profile *p = r->procs[i].p;

		if (!p || !run_result__is_named(&r->procs[i], b->who))
			continue;
		n = run_result__stacks_behind(p, b->budget, idx, shown(o));
		for (size_t j = 0; j < n; j++) {
			const struct ms_stack *s = &p->stacks[idx[j]];

			jw__start_object(w);
			jw__kv_int(w, "pid", p->pid);
			jw__kv_uint(w, "bytes", b->budget == MS_BUDGET_ALLOCATED ? s->alloc_bytes :
				    s->inuse_bytes);
			jw__kv_string(w, "func", s->nframes && s->frames[0].func ?
				      s->frames[0].func : NULL);
			jw__kv_uint(w, "stack_index", idx[j]);
			jw__end_object(w);
		}
	}
	jw__end_array(w);
	jw__end_object(w);
}

static void proc_json(const struct run_result *r, const struct run_proc *rp,
		      struct json_writer *w)
{
	/* every stack: the JSON is for tools, which choose for themselves */
	struct report_opts ro = { 0 };
	uint64_t left;

	jw__start_object(w);
	jw__kv_int(w, "pid", rp->pid);
	jw__kv_int(w, "ppid", rp->ppid);
	if (rp->reaped) {
		jw__kv_int(w, "exit_status", run_result__shell_status(rp->wstatus));
		if (WIFSIGNALED(rp->wstatus))
			jw__kv_int(w, "signal", WTERMSIG(rp->wstatus));
	} else {
		jw__kv_string(w, "exit_status_unavailable", rp == &r->procs[0] && r->exec_errno ?
			      "not executed" : "still running when the command ended");
	}
	if (!rp->p) {
		jw__kv_string(w, "profile_unavailable", rp->why_none ?: "not observed");
		jw__end_object(w);
		return;
	}
	jw__kv_string(w, "mechanism", rp->mechanism);
	/* stacks no budget could name, beyond the MS_RUN_STACKS_MAX kept */
	jw__kv_uint(w, "stacks_dropped", rp->stacks_dropped);
	if (rp->p->have_status)
		jw__kv_uint(w, "peak_rss_bytes", rp->p->status.vm_hwm_kb * 1024);
	else
		jw__kv_string(w, "peak_rss_unavailable", "status not readable at exit");
	if (rp->have_peak_at) {
		jw__name(w, "peak_rss_at_s");
		jw__double(w, rp->peak_at_s);
	}
	if (run_result__goroutines_left(rp->p, &left))
		jw__kv_uint(w, "goroutines_at_exit", left);
	if (rp->p->have_heap_peak)
		jw__kv_uint(w, "peak_heap_inuse_bytes", rp->p->heap_peak_bytes);
	else
		jw__kv_string(w, "peak_heap_inuse_unavailable", "sampled, or not readable at exit");
	jw__name(w, "profile");
	report__json_value(rp->p, &ro, w);
	jw__end_object(w);
}

int run_report__json(const struct run_result *r, const struct run_report_opts *o,
		     struct json_writer *w)
{
	static const char *const names[MS_BUDGET_COUNT] = {
		[MS_BUDGET_LEAKED] = "leaked_bytes", [MS_BUDGET_PEAK_RSS] = "peak_rss_bytes",
		[MS_BUDGET_ALLOCATED] = "allocated_bytes",
		[MS_BUDGET_GOROUTINES] = "goroutines_at_exit",
	};

	jw__start_object(w);
	jw__name(w, "command");
	jw__start_array(w);
	for (size_t i = 0; r->argv && r->argv[i]; i++)
		jw__string(w, r->argv[i]);
	jw__end_array(w);
	jw__kv_int(w, "exit_status", r->exit_code);
	if (r->exec_errno)
		jw__kv_string(w, "exec_error", strerror(r->exec_errno));
	jw__name(w, "elapsed_s");
	jw__double(w, r->elapsed_s);
	jw__kv_uint(w, "sample_bytes", r->sample_bytes);
	jw__name(w, "total");
	jw__start_object(w);
	for (int b = 0; b < MS_BUDGET_COUNT; b++) {
		char key[64];

		if (r->fig.have[b]) {
			jw__kv_uint(w, names[b], r->fig.value[b]);
			continue;
		}
		snprintf(key, sizeof(key), "%s_unavailable", names[b]);
		jw__kv_string(w, key, r->fig.why_not[b] ?: "not measured");
	}
	jw__kv_bool(w, "estimate", r->fig.estimate);
	jw__kv_bool(w, "lower_bound", r->fig.lower_bound);
	jw__end_object(w);
	jw__name(w, "budgets");
	jw__start_array(w);
	for (size_t i = 0; i < r->nbudgets; i++)
		budget_json(r, &r->budgets[i], o, w);
	jw__end_array(w);
	jw__kv_bool(w, "budgets_failed", r->failed);
	jw__name(w, "processes");
	jw__start_array(w);
	for (size_t i = 0; i < r->nprocs; i++)
		proc_json(r, &r->procs[i], w);
	jw__end_array(w);
	jw__end_object(w);
	return jw__finish(w);
}

/* The failure's text: the stacks behind a broken budget, each process's. */
static void junit_stacks(const struct run_result *r, const struct ms_budget_result *b,
			 const struct run_report_opts *o, FILE *out)
{
	size_t idx[MS_RUN_STACKS_MAX], n;

	for (size_t i = 0; i < r->nprocs; i++) {
		const struct ms_profile *p = r->procs[i].p;

		if (!p || !run_result__is_named(&r->procs[i], b->who))
			continue;
		if (budget__is_count(b->budget)) {
			n = run_result__sites_behind(p, idx, shown(o));
			if (n)
				fprintf(out, "PID %d %s: goroutines by creation site:\n", p->pid,
					p->comm);
			for (size_t j = 0; j < n; j++)
				report__go_site_text(&p->go.groups[idx[j]], out);
			continue;
		}
		n = run_result__stacks_behind(p, b->budget, idx, shown(o));
		if (!n)
			continue;
		fprintf(out, "PID %d %s:\n", p->pid, p->comm);
		for (size_t j = 0; j < n; j++)
			report__stack_text(p, &p->stacks[idx[j]], j + 1, o->max_frames, out);
	}
}

/* s (a target's text, perhaps) as XML character data, its line breaks kept */
static void xml_text(FILE *out, const char *s)
{
	const char *nl;
	char *line;

	while ((nl = strchr(s, '\n'))) {
		line = strndup(s, (size_t)(nl - s));
		if (!line)
			return;
		xml__put(out, line, SIZE_MAX);
		fputc('\n', out);
		free(line);
		s = nl + 1;
	}
	xml__put(out, s, SIZE_MAX);
}

/* "4096 B" or "7": the JUnit message's figures */
static const char *unit_amount(enum ms_budget b, uint64_t v, char *buf, size_t len)
{
	snprintf(buf, len, "%" PRIu64 "%s", v, budget__is_count(b) ? "" : " B");
	return buf;
}

static void junit_case(const struct run_result *r, const struct ms_budget_result *b,
		       const struct run_report_opts *o, FILE *out)
{
	char lim[32], msg[512], val[32], over[32], limit[32], *text = NULL;
	size_t len = 0;
	FILE *mem;

	if (budget__is_count(b->budget))
		snprintf(lim, sizeof(lim), "%" PRIu64, b->limit);
	else
		report__human_bytes(b->limit, lim, sizeof(lim));
	fprintf(out, "    <testcase classname=\"memsight.budget\" name=\"%s ",
		budget__name(b->budget));
	if (b->who[0]) {
		xml_text(out, b->who);
		fputc('=', out);
	}
	fprintf(out, "%s\">\n", lim);
	if (b->verdict == MS_VERDICT_HELD) {
		fprintf(out, "    </testcase>\n");
		return;
	}
	if (b->verdict == MS_VERDICT_UNKNOWN) {
		fprintf(out, "      <error type=\"not_checked\" message=\"");
		xml_text(out, b->why_unknown);
		fprintf(out, "\"/>\n    </testcase>\n");
		return;
	}
	snprintf(msg, sizeof(msg), "%s%s%s%s %s%s, over the budget of %s by %s",
		 b->who[0] ? "processes named " : "", b->who, b->who[0] ? ": " : "",
		 budget__what(b->budget), unit_amount(b->budget, b->value, val, sizeof(val)),
		 r->fig.estimate && !budget__is_count(b->budget) ? " (estimated)" : "",
		 unit_amount(b->budget, b->limit, limit, sizeof(limit)),
		 unit_amount(b->budget, b->over, over, sizeof(over)));
	fprintf(out, "      <failure type=\"budget\" message=\"");
	xml_text(out, msg);
	fprintf(out, "\">");
	mem = open_memstream(&text, &len);
	if (mem) {
		fprintf(mem, "%s\n", msg);
		junit_stacks(r, b, o, mem);
		fclose(mem);
		xml_text(out, text);
	}
	free(text);
	fprintf(out, "</failure>\n    </testcase>\n");
}

int run_report__junit(const struct run_result *r, const struct run_report_opts *o, FILE *out)
{
	size_t failures = 0, errors = 0;
	char *cmd = NULL;
	size_t len = 0;
	FILE *mem;

	for (size_t i = 0; i < r->nbudgets; i++) {
		failures += r->budgets[i].verdict == MS_VERDICT_BROKEN;
		errors += r->budgets[i].verdict == MS_VERDICT_UNKNOWN;
	}
	mem = open_memstream(&cmd, &len);
	if (!mem)
		return -ENOMEM;
	for (size_t i = 0; r->argv && r->argv[i]; i++)
		fprintf(mem, "%s%s", i ? " " : "", r->argv[i]);
	fclose(mem);
	fprintf(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
	fprintf(out, "<testsuites name=\"memsight run\" tests=\"%zu\" failures=\"%zu\" "
		"errors=\"%zu\" time=\"%.3f\">\n", r->nbudgets, failures, errors, r->elapsed_s);
	fprintf(out, "  <testsuite name=\"memsight budgets: ");
	xml_text(out, cmd ?: "");
	fprintf(out, "\" tests=\"%zu\" failures=\"%zu\" errors=\"%zu\" time=\"%.3f\">\n",
		r->nbudgets, failures, errors, r->elapsed_s);
	free(cmd);
	for (size_t i = 0; i < r->nbudgets; i++)
		junit_case(r, &r->budgets[i], o, out);
	fprintf(out, "  </testsuite>\n</testsuites>\n");
	return ferror(out) ? -EIO : 0;
}

int run_report__pprof(const struct run_result *r, FILE *out)
{
	struct pprof_run_proc *v = calloc(r->nprocs ?: 1, sizeof(*v));
	size_t n = 0;
	int err;

	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < r->nprocs; i++) {
		if (!r->procs[i].p)
			continue;
		v[n].p = r->procs[i].p;
		v[n].dropped = r->procs[i].dropped;
		v[n++].ndropped = MS_KIND__MAX;
	}
	err = pprof__write_procs(v, n, out);
	free(v);
	return err;
}
