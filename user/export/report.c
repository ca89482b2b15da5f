// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "memsight_abi.h"
#include "memsight_sampler.h"
#include "common/textsafe.h"
#include "bpf/kernel.h"
#include "export/cgroup_view.h"
#include "export/report.h"

const char *report__human_bytes(uint64_t bytes, char *buf, size_t len)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double v = bytes;
	int u = 0;

	while (v >= 1024 && u < 4) {
		v /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(buf, len, "%" PRIu64 " B", bytes);
	else
		snprintf(buf, len, "%.2f %s", v, units[u]);
	return buf;
}

static const char *base_name(const char *path)
{
	const char *s = path ? strrchr(path, '/') : NULL;

	return s ? s + 1 : path;
}

static void frame_text(const struct ms_frame *f, FILE *out)
{
	char loc[512], col[TEXTSAFE_SIZE(sizeof(loc))];

	if (f->func && f->inlined)
		snprintf(loc, sizeof(loc), "%s (inlined)", f->func);
	else if (f->func)
		snprintf(loc, sizeof(loc), "%s+0x%" PRIx64, f->func, f->func_off);
	else if (f->module)
		/* the file offset: what addr2line and objdump on the module understand */
		snprintf(loc, sizeof(loc), "%.400s+0x%" PRIx64, base_name(f->module),
			 f->addr - f->map_start + f->map_pgoff);
	else
		snprintf(loc, sizeof(loc), "0x%" PRIx64, f->addr);
	/* names, modules and files come from the target's binaries: escaped */
	fprintf(out, "        %s ", textsafe__col(col, sizeof(col), loc, 40));
	textsafe__fputs(f->module ? base_name(f->module) : "[unknown]", out);
	if (f->file && f->line) {
		fputs("  ", out);
		textsafe__fputs(base_name(f->file), out);
		fprintf(out, ":%d", f->line);
	}
	fputc('\n', out);
}

/* A reason for the text view: it may name the target's files or symbols, so escaped. */
static const char *why_text(char *buf, size_t len, const char *why)
{
	return textsafe__str(buf, len, why ?: "unknown reason");
}

/* ", other N" when goroutines are in none of the four states named */
static const char *other_state(const struct ms_go_info *g, char *buf, size_t len)
{
	if (!g->by_state[4])
		return "";
	snprintf(buf, len, ", other %" PRIu64, g->by_state[4]);
	return buf;
}

void report__go_site_text(const struct ms_go_group *gg, FILE *out)
{
	char fn[TEXTSAFE_SIZE(256)], file[TEXTSAFE_SIZE(256)];

	if (gg->main_goroutine)
		fprintf(out, "%8" PRIu64 "  the main goroutine (runtime.main)", gg->count);
	else
		fprintf(out, "%8" PRIu64 "  %s at %s:%d", gg->count,
			textsafe__str(fn, sizeof(fn), gg->func ?: "?"),
			textsafe__str(file, sizeof(file), base_name(gg->file) ?: "?"), gg->line);
	if (gg->start_func && !gg->main_goroutine)
		fprintf(out, ", started in %s", textsafe__str(fn, sizeof(fn), gg->start_func));
	if (gg->wait_reason)
		fprintf(out, " (%" PRIu64 " waiting: %s)", gg->waiting,
			textsafe__str(fn, sizeof(fn), gg->wait_reason));
	fputc('\n', out);
}

/* The goroutines at the sites not shown (or not kept): every one is accounted for. */
static void more_sites(const struct ms_go_info *g, size_t max_sites, FILE *out)
{
	size_t shown = max_sites && max_sites < g->ngroups ? max_sites : g->ngroups;
	size_t n = g->ngroups - shown + g->unlisted_sites;
	uint64_t rest = g->unlisted_goroutines;

	for (size_t i = shown; i < g->ngroups; i++)
		rest += g->groups[i].count;
	if (n)
		fprintf(out, "  %8" PRIu64 "  at %zu more creation site%s\n", rest, n,
			n == 1 ? "" : "s");
}

void report__go_text(const struct ms_go_info *g, size_t max_sites, FILE *out)
{
	char a[32], b[32], c[32], d[32], f[32], l[32], other[40];
	char ver[TEXTSAFE_SIZE(64)];
	char why[TEXTSAFE_SIZE(512)];

	if (!g->present)
		return;
	/* the version is read from the target's binary */
	textsafe__str(ver, sizeof(ver), g->version);
	if (g->runtime_err) {
		fprintf(out, "Go %s: goroutines and Go heap unavailable: %s\n", ver,
			why_text(why, sizeof(why), g->runtime_reason));
	}
	if (g->have_goroutines)
		fprintf(out, "Go %s: %" PRIu64 " goroutines (running %" PRIu64 ", runnable %" PRIu64
			", waiting %" PRIu64 ", in syscalls %" PRIu64 "%s)\n", ver, g->goroutines,
			g->by_state[0], g->by_state[1], g->by_state[2], g->by_state[3],
			other_state(g, other, sizeof(other)));
	if (!g->runtime_err && !g->have_goroutines)
		fprintf(out, "Go %s: goroutines unavailable: %s\n", ver,
			why_text(why, sizeof(why), g->goroutines_reason));
	if (!g->runtime_err && !g->have_heap)
		fprintf(out, "Go heap unavailable: %s\n", why_text(why, sizeof(why), g->heap_reason));
	if (g->have_heap) {
		char live[160], goal[160];

		if (g->have_live_after_last_gc)
			snprintf(live, sizeof(live), "%s after the last GC",
				 report__human_bytes(g->live_after_last_gc, l, sizeof(l)));
		else
			snprintf(live, sizeof(live), "after the last GC: unavailable, %s",
				 why_text(why, sizeof(why), g->live_after_last_gc_reason));
		if (g->have_next_gc)
			report__human_bytes(g->next_gc, goal, sizeof(goal));
		else
			snprintf(goal, sizeof(goal), "? (%s)", why_text(why, sizeof(why), g->next_gc_reason));
		fprintf(out, "Go heap: in use %s, idle %s (released to the OS %s), live %s (%s), "
			"next GC at %s, %u GC cycles; goroutine stacks %s\n",
			report__human_bytes(g->heap_inuse, a, sizeof(a)),
			report__human_bytes(g->heap_idle, b, sizeof(b)),
			report__human_bytes(g->heap_released, c, sizeof(c)),
			report__human_bytes(g->heap_alloc, d, sizeof(d)), live, goal, g->num_gc,
			report__human_bytes(g->stack_inuse, f, sizeof(f)));
	}
	if (g->ngroups) {
		fprintf(out, "goroutines by creation site:\n");
		for (size_t i = 0; i < g->ngroups && (!max_sites || i < max_sites); i++) {
			fputs("  ", out);
			report__go_site_text(&g->groups[i], out);
		}
		more_sites(g, max_sites, out);
	}
	if (g->probed && g->runtime_sampler)
		fprintf(out, "note: Go allocations (via go) are the runtime's own samples, one per %s "
			"on average, since attach: estimates%s\n",
			report__human_bytes(g->sample_bytes, a, sizeof(a)),
			g->rate_set ? " (memsight turned the sampler on: runtime.MemProfileRate)" : "");
	else if (g->probed)
		fprintf(out, "note: Go allocations (via go) are sampled every %s on average since "
			"attach by a probe on every mallocgc call: estimates\n",
			report__human_bytes(g->sample_bytes, a, sizeof(a)));
	if (g->heap_profile)
		fprintf(out, "note: Go heap in use by stack (via go-heap) is the runtime's own profile "
			"(every %s, as of the last GC, since the process started): estimates\n",
			report__human_bytes(g->heap_profile_rate, a, sizeof(a)));
	else if (g->heap_profile_reason && !g->runtime_err)
		fprintf(out, "note: no Go heap profile by stack: %s\n",
			why_text(why, sizeof(why), g->heap_profile_reason));
}

void report__go_site_members(const struct ms_go_group *gg, struct json_writer *w)
{
	jw__kv_string(w, "func", gg->func);
	if (gg->main_goroutine)
		jw__kv_bool(w, "main_goroutine", true);
	jw__kv_string(w, "file", gg->file);
	jw__kv_int(w, "line", gg->line);
	jw__kv_string(w, "start_func", gg->start_func);
	jw__kv_uint(w, "count", gg->count);
	jw__kv_uint(w, "running", gg->running);
	jw__kv_uint(w, "runnable", gg->runnable);
	jw__kv_uint(w, "waiting", gg->waiting);
	jw__kv_uint(w, "syscall", gg->syscall);
	jw__kv_string(w, "wait_reason", gg->wait_reason);
}

static void go_json(const struct ms_go_info *g, struct json_writer *w)
{
	if (!g->present)
		return;
	jw__name(w, "go");
	jw__start_object(w);
	jw__kv_string(w, "version", g->version);
	jw__kv_bool(w, "allocations_sampled", g->probed);
	jw__kv_string(w, "sampler", !g->probed ? NULL : g->runtime_sampler ?
		      "runtime (mProf_Malloc)" : "mallocgc probe");
	jw__kv_bool(w, "sampler_turned_on_by_memsight", g->rate_set);
	jw__kv_uint(w, "sample_bytes", g->sample_bytes);
	jw__kv_bool(w, "heap_profile", g->heap_profile);
	if (g->heap_profile)
		jw__kv_int(w, "heap_profile_rate", g->heap_profile_rate);
	else if (g->heap_profile_reason)
		jw__kv_string(w, "heap_profile_unavailable", g->heap_profile_reason);
	if (g->runtime_err)
		jw__kv_string(w, "unavailable", g->runtime_reason);
	if (!g->runtime_err && !g->have_goroutines)
		jw__kv_string(w, "goroutines_unavailable", g->goroutines_reason ?: "unknown reason");
	if (!g->runtime_err && !g->have_heap)
		jw__kv_string(w, "heap_unavailable", g->heap_reason ?: "unknown reason");
	if (g->have_goroutines) {
		jw__kv_uint(w, "goroutines", g->goroutines);
		jw__name(w, "goroutines_by_state");
		jw__start_object(w);
		jw__kv_uint(w, "running", g->by_state[0]);
		jw__kv_uint(w, "runnable", g->by_state[1]);
		jw__kv_uint(w, "waiting", g->by_state[2]);
		jw__kv_uint(w, "syscall", g->by_state[3]);
		jw__kv_uint(w, "other", g->by_state[4]);
		jw__end_object(w);
		if (g->unlisted_sites) {
			/* past the sites kept: counted, not listed */
			jw__kv_uint(w, "unlisted_sites", g->unlisted_sites);
			jw__kv_uint(w, "unlisted_goroutines", g->unlisted_goroutines);
		}
		jw__name(w, "goroutines_by_creation_site");
		jw__start_array(w);
		for (size_t i = 0; i < g->ngroups; i++) {
			const struct ms_go_group *gg = &g->groups[i];

			jw__start_object(w);
			report__go_site_members(gg, w);
			jw__end_object(w);
		}
		jw__end_array(w);
	}
	if (g->have_heap) {
		jw__name(w, "heap");
		jw__start_object(w);
		jw__kv_uint(w, "alloc_bytes", g->heap_alloc);
		jw__kv_uint(w, "inuse_bytes", g->heap_inuse);
		jw__kv_uint(w, "idle_bytes", g->heap_idle);
		jw__kv_uint(w, "released_bytes", g->heap_released);
		jw__kv_uint(w, "sys_bytes", g->heap_sys);
		jw__kv_uint(w, "stack_inuse_bytes", g->stack_inuse);
		if (g->have_sys)
			jw__kv_uint(w, "total_sys_bytes", g->sys);
		if (g->have_next_gc)
			jw__kv_uint(w, "next_gc_bytes", g->next_gc);
		else
			jw__kv_string(w, "next_gc_unavailable", g->next_gc_reason ?: "unknown reason");
		/* what gctrace prints third in "X->Y->Z MB" */
		if (g->have_live_after_last_gc)
			jw__kv_uint(w, "live_after_last_gc_bytes", g->live_after_last_gc);
		else
			jw__kv_string(w, "live_after_last_gc_unavailable",
				      g->live_after_last_gc_reason ?: "unknown reason");
		jw__kv_uint(w, "num_gc", g->num_gc);
		jw__end_object(w);
	}
	jw__end_object(w);
}

/* What the allocations cost with the allocator's rounding, or why that is unknown. */
static void usable_text(const struct ms_profile *p, FILE *out)
{
	const char *why = ms_usable__unavailable(MS_KIND_MALLOC, &p->usable);
	char a[32], b[32];

	if (why) {
		fprintf(out, "with the allocator's rounding: unavailable: %s\n", why);
		return;
	}
	fprintf(out, "with the allocator's rounding: in use %s (allocated %s)\n",
		report__human_bytes(p->usable.inuse_bytes, a, sizeof(a)),
		report__human_bytes(p->usable.alloc_bytes, b, sizeof(b)));
}

static void usable_json(struct json_writer *w, uint32_t kind, const struct ms_usable *u)
{
	const char *why = ms_usable__unavailable(kind, u);

	if (why) {
		jw__kv_string(w, "usable_unavailable", why);
		return;
	}
	jw__kv_uint(w, "inuse_usable_bytes", u->inuse_bytes);
	jw__kv_uint(w, "alloc_usable_bytes", u->alloc_bytes);
	jw__kv_uint(w, "free_usable_bytes", u->free_bytes);
}

/* the fault view counts a page a fault: a huge page fault maps 512 of them */
static bool fault_bytes_lower_bound(const struct ms_profile *p)
{
	return p->thp != MS_THP_NEVER;
}

void report__text_header(const struct ms_profile *p, FILE *out)
{
	char comm[TEXTSAFE_SIZE(sizeof(p->comm))], probe[64];

	/* both come from the target: escaped */
	fprintf(out, "PID %d  %s  ", p->pid, textsafe__str(comm, sizeof(comm), p->comm));
	textsafe__fputs(p->exe, out);
	fputc('\n', out);
	/* said when it is not the usual uprobes */
	if (p->sampler_usdt)
		fprintf(out, "allocator probe: %s\n",
			ms_allocator_probe(true, p->c_sample_bytes, probe, sizeof(probe)));
}

/* how many of this process's events were lost, or "some" when not known */
static const char *lost_text(const struct ms_profile *p, char *buf, size_t len)
{
	if (!p->have_lost)
		return "some";
	snprintf(buf, len, "%" PRIu64, p->lost);
	return buf;
}

void report__frames_text(const struct ms_stack *s, unsigned int max_frames, FILE *out)
{
	unsigned int nf = s->nframes;

	if (!nf)
		fprintf(out, "        [stack unavailable]\n");
	if (max_frames && nf > max_frames)
		nf = max_frames;
	for (unsigned int j = 0; j < nf; j++)
		frame_text(&s->frames[j], out);
	if (nf < s->nframes)
		fprintf(out, "        ... %u more frames\n", s->nframes - nf);
}

void report__stack_text(const struct ms_profile *p, const struct ms_stack *s, unsigned int rank,
			unsigned int max_frames, FILE *out)
{
	char a[32];

	fprintf(out, "#%u in use %" PRIu64 " B (%s) in %" PRIu64 " allocs; allocated %" PRIu64
		" B in %" PRIu64 "; via %s", rank, s->inuse_bytes,
		report__human_bytes(s->inuse_bytes, a, sizeof(a)), s->inuse_count, s->alloc_bytes,
		s->alloc_count, ms_kind__name(s->kind));
	if (s->oldest_ns)
		fprintf(out, "; oldest %.1f s", s->oldest_ns / 1e9);
	if (p->have_growth)
		fprintf(out, "; growth %+.0f B/min", s->growth_per_min);
	fputc('\n', out);
	report__frames_text(s, max_frames, out);
}

void report__text(const struct ms_profile *p, const struct report_opts *o, FILE *out)
{
	char a[32], b[32], c[32], d[32], e[32], lost[32], why[TEXTSAFE_SIZE(512)];
	unsigned int shown = 0;

	report__text_header(p, out);
	if (p->exec_unprobed)
		fprintf(out, "tracked heap: unavailable: the process exec'd a program whose "
			"allocator (%s) was not probed at attach: attach again\n",
			textsafe__str(why, sizeof(why), p->exec_unprobed));
	else
		fprintf(out, "tracked heap in use: %s in %" PRIu64 " allocations "
			"(allocated %s in %" PRIu64 " during %.1f s)\n",
			report__human_bytes(p->inuse_bytes, a, sizeof(a)), p->inuse_count,
			report__human_bytes(p->alloc_bytes, b, sizeof(b)), p->alloc_count,
			p->duration_ns / 1e9);
	usable_text(p, out);
	if (p->have_status) {
		fprintf(out, "RSS %s (anon %s, file %s, shmem %s), peak %s, threads %u\n",
			report__human_bytes(p->status.vm_rss_kb * 1024, a, sizeof(a)),
			report__human_bytes(p->status.rss_anon_kb * 1024, b, sizeof(b)),
			report__human_bytes(p->status.rss_file_kb * 1024, c, sizeof(c)),
			report__human_bytes(p->status.rss_shmem_kb * 1024, d, sizeof(d)),
			report__human_bytes(p->status.vm_hwm_kb * 1024, e, sizeof(e)),
			p->status.threads);
		if (p->have_rss_events)
			fprintf(out, "RSS peak since attach %s (%" PRIu64 " changes seen by rss_stat%s)\n",
				report__human_bytes(p->rss_peak_bytes, a, sizeof(a)), p->rss_updates,
				p->rss_batched ? "; this kernel batches up to 64 of a thread's "
				"changes" : "");
		if (p->kmem)
			fprintf(out, "kernel (slab) memory allocated in its context, still in use: %s "
				"(%" PRIu64 " allocations, %" PRIu64 " frees since attach)\n",
				report__human_bytes(p->kmem_inuse > 0 ? p->kmem_inuse : 0, a, sizeof(a)),
				p->kmem_allocs, p->kmem_frees);
	} else if (p->exited) {
		fprintf(out, "process exited during observation: figures are up to its exit\n");
	}
	if (p->cgroup || p->cgroup_err)	/* neither: not a live process's profile */
		cgroup_view__text(p->cgroup, p->cgroup_err, p->have_status ? &p->status : NULL, out);
	cgroup_view__pod_text(p->in_pod ? &p->pod : NULL, p->pod_err, out);
	report__go_text(&p->go, 5, out);
	if (p->execed)
		fprintf(out, "note: the process exec'd a new program; figures are for the new one\n");
	if (p->loss.probes_at_risk)
		fprintf(out, "note: the main thread exited after attach: the kernel may have dropped "
			"the probes since (it filtered them by that thread's memory); figures are a "
			"lower bound: attach again to count exactly\n");
	fprintf(out, "note: only allocations made after attach are counted\n");
	if (ms_profile__c_estimates(p))
		fprintf(out, "note: sampled mode, one sample every %s on average%s: figures are "
			"estimates\n", report__human_bytes(p->c_sample_bytes, e, sizeof(e)),
			p->c_other_means ? " (some drawn with the mean before it changed, each "
			"scaled with its own)" : "");
	if (p->sampler_usdt && !p->have_sampler_dropped)
		fprintf(out, "note: the sampler library's count of samples it could not remember is "
			"unavailable: in use may be over-counted\n");
	else if (p->sampler_usdt && p->sampler_dropped)
		fprintf(out, "warning: the sampler library could not remember %" PRIu64 " samples (its "
			"table was full): their frees are unseen, in use is over-counted\n",
			p->sampler_dropped);
	/* a process that called exit() sent them (the library's destructor) */
	if (p->sampler_usdt && p->sampler_pending_err && !p->exited)
		fprintf(out, "note: the sampler library's pending frees could not be read (%s): up "
			"to %d samples already freed may count as in use\n",
			strerror(-p->sampler_pending_err), MEMSIGHT_SAMPLER_PENDING);
	if (o->growth && p->have_growth)
		fprintf(out, "growth: %+.0f B/min in use over the last %.0f s; stacks ranked by growth\n",
			p->total_growth_per_min, p->growth_window_s);
	else if (o->growth)
		fprintf(out, "growth: not enough snapshots yet (need two); stacks ranked by bytes in use\n");
	/* the reason names a module of the target */
	if (p->dwarf)
		fprintf(out, "note: C allocation stacks unwound with DWARF (%s)\n",
			why_text(why, sizeof(why), p->unwind_reason ?: "no frame pointers"));
	else if (p->unwind_reason)
		fprintf(out, "note: C allocation stacks walked by frame pointers (%s)\n",
			why_text(why, sizeof(why), p->unwind_reason));
	if (p->stacks_cut)
		fprintf(out, "note: %" PRIu64 " stacks end where their frame-pointer walk left the "
			"process's code (code built without frame pointers)%s\n", p->stacks_cut,
			p->dwarf ? "" : ": --unwind dwarf gives whole stacks");
	if (p->dwarf && p->loss.ustack_rate)
		fprintf(out, "note: %" PRIu64 " stacks came faster than the DWARF copies allowed per "
			"second (--dwarf-rate): those have frame-pointer stacks, possibly shorter\n",
			p->loss.ustack_rate);
	if (p->dwarf && p->loss.ustack_lost)
		fprintf(out, "note: %" PRIu64 " stacks could not be copied for unwinding (%" PRIu64
			" with the ring full, %" PRIu64 " unreadable): those have frame-pointer "
			"stacks, possibly shorter\n", p->loss.ustack_lost, p->loss.ustack_ring_full,
			p->loss.ustack_lost - p->loss.ustack_ring_full);
	if (p->dwarf && p->loss.ustack_queue_full)
		fprintf(out, "note: %" PRIu64 " copied stacks came faster than they could be unwound "
			"and were dropped: their bytes count under no stack\n", p->loss.ustack_queue_full);
	if (ms_profile__lower_bound(p))
		fprintf(out, "warning: %s events of this process were not fully recorded (all "
			"processes: stack errors %" PRIu64 ", stack collisions %" PRIu64 ", stack "
			"table full %" PRIu64 ", stack quota %" PRIu64 ", live table full %" PRIu64
			", aggregate table full %" PRIu64 "): figures are lower bounds\n",
			lost_text(p, lost, sizeof(lost)), p->loss.stack_errors,
			p->loss.stack_collisions, p->loss.stack_table_full, p->loss.stack_quota,
			p->loss.live_full, p->loss.agg_full);
	if (p->loss.proc_table_full)
		fprintf(out, "warning: %" PRIu64 " RSS or thread updates found the per-process tables "
			"full (more processes than max_processes?): those figures may be missing\n",
			p->loss.proc_table_full);

	if (o->faults)
		fprintf(out, "page faults by stack: the code that first touched new memory "
			"(one fault in %u sampled, scaled: 4 KiB a fault%s)\n", p->fault_pages,
			fault_bytes_lower_bound(p) ?
			"; transparent huge pages are on here, a fault may map 2 MiB: bytes are "
			"lower bounds" : "");
	for (size_t i = 0; i < p->nstacks; i++) {
		const struct ms_stack *s = &p->stacks[i];

		if (o->faults != (s->kind == MS_KIND_FAULT))
			continue;
		if (o->top_n && shown >= o->top_n)
			break;
		shown++;
		fputc('\n', out);
		if (o->faults) {
			fprintf(out, "#%u faulted in %" PRIu64 " B (%s), %" PRIu64 " pages\n", shown,
				s->alloc_bytes, report__human_bytes(s->alloc_bytes, a, sizeof(a)),
				s->alloc_count);
			report__frames_text(s, o->max_frames, out);
			continue;
		}
		report__stack_text(p, s, shown, o->max_frames, out);
	}
	if (!p->nstacks)
		fprintf(out, "\nno allocations seen since attach\n");
}

void report__loss_members(const struct ms_loss *l, struct json_writer *w)
{
	jw__kv_uint(w, "allocs", l->alloc_events);
	jw__kv_uint(w, "frees", l->free_events);
	jw__kv_uint(w, "frees_untracked", l->free_unknown);
	jw__kv_uint(w, "nested_calls", l->nested);
	jw__kv_uint(w, "failed_allocs", l->failed_alloc);
	jw__kv_uint(w, "go_samples", l->go_samples);
	jw__kv_uint(w, "dwarf_stacks", l->ustack_samples);
	jw__kv_uint(w, "dwarf_stacks_lost", l->ustack_lost);
	jw__kv_uint(w, "dwarf_stacks_lost_ring_full", l->ustack_ring_full);
	jw__kv_uint(w, "dwarf_stacks_over_rate", l->ustack_rate);
	jw__kv_uint(w, "dwarf_stacks_dropped_unwinding", l->ustack_queue_full);
	jw__kv_uint(w, "process_table_full", l->proc_table_full);
	jw__kv_uint(w, "stack_errors", l->stack_errors);
	jw__kv_uint(w, "stack_collisions", l->stack_collisions);
	jw__kv_uint(w, "stack_table_full", l->stack_table_full);
	jw__kv_uint(w, "stack_quota", l->stack_quota);
	jw__kv_uint(w, "live_table_full", l->live_full);
	jw__kv_uint(w, "aggregate_table_full", l->agg_full);
	jw__kv_uint(w, "inflight_full", l->inflight_full);
	jw__kv_uint(w, "inflight_missing", l->inflight_miss);
	jw__kv_uint(w, "events_lost", l->events_lost);
	jw__kv_uint(w, "probes_at_risk", l->probes_at_risk);
}

/* The counters of all processes, and whether this one's figures are lower bounds. */
static void loss_json(const struct ms_profile *p, struct json_writer *w)
{
	jw__name(w, "events");
	jw__start_object(w);
	report__loss_members(&p->loss, w);
	if (p->have_lost)
		jw__kv_uint(w, "lost_by_this_process", p->lost);
	else
		jw__kv_string(w, "lost_by_this_process_unavailable",
			      "not watched any more: lower_bound is that of all processes");
	jw__kv_bool(w, "lower_bound", ms_profile__lower_bound(p));
	jw__end_object(w);
}

int report__json(const struct ms_profile *p, const struct report_opts *o, struct json_writer *w)
{
	report__json_value(p, o, w);
	return jw__finish(w);
}

void report__json_value(const struct ms_profile *p, const struct report_opts *o,
			struct json_writer *w)
{
	jw__start_object(w);
	report__json_members(p, o, w);
	jw__end_object(w);
}

void report__json_members(const struct ms_profile *p, const struct report_opts *o,
			  struct json_writer *w)
{
	unsigned int shown = 0;
	char hex[32], probe[64];

	jw__kv_int(w, "pid", p->pid);
	jw__kv_string(w, "comm", p->comm);
	jw__kv_string(w, "exe", p->exe);
	jw__kv_bool(w, "exited", p->exited);
	jw__kv_bool(w, "execed", p->execed);
	jw__name(w, "duration_s");
	jw__double(w, p->duration_ns / 1e9);
	jw__name(w, "tracked");
	jw__start_object(w);
	if (p->exec_unprobed)
		jw__kv_string(w, "unavailable", "the process exec'd a program whose allocator "
			      "was not probed at attach: attach again");
	jw__kv_string(w, "unprobed_allocator", p->exec_unprobed);
	jw__kv_uint(w, "inuse_bytes", p->inuse_bytes);
	jw__kv_uint(w, "inuse_count", p->inuse_count);
	jw__kv_uint(w, "alloc_bytes", p->alloc_bytes);
	jw__kv_uint(w, "alloc_count", p->alloc_count);
	usable_json(w, MS_KIND_MALLOC, &p->usable);
	/* the Go runtime's heap profile goes back to the process's start */
	jw__kv_bool(w, "since_attach_only", !p->go.heap_profile);
	jw__kv_uint(w, "sample_bytes", p->c_sample_bytes);
	jw__kv_string(w, "allocator_probe", ms_allocator_probe(p->sampler_usdt,
							       p->c_sample_bytes, probe, sizeof(probe)));
	jw__kv_bool(w, "estimates", ms_profile__c_estimates(p));
	if (p->sampler_usdt && p->have_sampler_dropped)
		jw__kv_uint(w, "sampler_dropped", p->sampler_dropped);
	else if (p->sampler_usdt)
		jw__kv_string(w, "sampler_dropped_unavailable", "the library does not export "
			      "memsight_sampler_dropped, or the process is gone");
	if (p->sampler_usdt && !p->sampler_pending_err)
		jw__kv_uint(w, "sampler_pending_frees", p->sampler_pending);
	else if (p->sampler_usdt)
		jw__kv_string(w, "sampler_pending_frees_unavailable", strerror(-p->sampler_pending_err));
	jw__kv_string(w, "unwind", p->dwarf ? "dwarf" : "frame-pointers");
	if (p->unwind_reason)
		jw__kv_string(w, "unwind_reason", p->unwind_reason);
	jw__end_object(w);
	if (p->have_status) {
		jw__name(w, "rss");
		jw__start_object(w);
		jw__kv_uint(w, "total_bytes", p->status.vm_rss_kb * 1024);
		jw__kv_uint(w, "anon_bytes", p->status.rss_anon_kb * 1024);
		jw__kv_uint(w, "file_bytes", p->status.rss_file_kb * 1024);
		jw__kv_uint(w, "shmem_bytes", p->status.rss_shmem_kb * 1024);
		jw__kv_uint(w, "swap_bytes", p->status.vm_swap_kb * 1024);
		jw__kv_uint(w, "peak_bytes", p->status.vm_hwm_kb * 1024);
		if (p->have_rss_events) {
			jw__kv_uint(w, "peak_since_attach_bytes", p->rss_peak_bytes);
			jw__kv_uint(w, "changes_seen", p->rss_updates);
			jw__kv_bool(w, "changes_batched_per_thread", p->rss_batched);
		}
		jw__kv_string(w, "transparent_hugepages", ms_thp__name(p->thp));
		jw__kv_bool(w, "fault_bytes_lower_bound", fault_bytes_lower_bound(p));
		jw__kv_uint(w, "fault_sample_pages", p->fault_pages);
		jw__end_object(w);
		jw__kv_uint(w, "threads", p->status.threads);
	}
	if (p->cgroup || p->cgroup_err)
		cgroup_view__json(w, p->cgroup, p->cgroup_err, p->have_status ? &p->status : NULL);
	cgroup_view__pod_json(w, p->in_pod ? &p->pod : NULL, p->pod_err);
	if (p->have_procstats) {
		jw__kv_int(w, "threads_counted", p->threads);
		jw__kv_uint(w, "threads_created", p->threads_created);
	}
	if (p->kmem) {
		jw__name(w, "kmem");
		jw__start_object(w);
		jw__kv_int(w, "inuse_bytes", p->kmem_inuse);
		jw__kv_uint(w, "allocs", p->kmem_allocs);
		jw__kv_uint(w, "frees", p->kmem_frees);
		jw__end_object(w);
	}
	loss_json(p, w);
	jw__kv_uint(w, "stacks_cut_outside_code", p->stacks_cut);
	go_json(&p->go, w);
	if (p->have_growth) {
		jw__name(w, "growth_window_s");
		jw__double(w, p->growth_window_s);
		jw__name(w, "growth_bytes_per_min");
		jw__double(w, p->total_growth_per_min);
	}
	jw__name(w, "stacks");
	jw__start_array(w);
	for (size_t i = 0; i < p->nstacks; i++) {
		const struct ms_stack *s = &p->stacks[i];
		unsigned int nf = s->nframes;

		if (o->top_n && shown >= o->top_n)
			break;
		shown++;
		if (o->max_frames && nf > o->max_frames)
			nf = o->max_frames;
		jw__start_object(w);
		jw__kv_string(w, "kind", ms_kind__name(s->kind));
		jw__kv_int(w, "stack_id", s->stack_id);
		jw__kv_uint(w, "inuse_bytes", s->inuse_bytes);
		jw__kv_uint(w, "inuse_count", s->inuse_count);
		jw__kv_uint(w, "alloc_bytes", s->alloc_bytes);
		jw__kv_uint(w, "alloc_count", s->alloc_count);
		jw__kv_uint(w, "free_bytes", s->free_bytes);
		jw__kv_uint(w, "free_count", s->free_count);
		usable_json(w, s->kind, &s->usable);
		jw__name(w, "oldest_age_s");
		jw__double(w, s->oldest_ns / 1e9);
		if (p->have_growth) {
			jw__name(w, "growth_bytes_per_min");
			jw__double(w, s->growth_per_min);
		}
		jw__name(w, "frames");
		jw__start_array(w);
		for (unsigned int j = 0; j < nf; j++) {
			const struct ms_frame *f = &s->frames[j];

			jw__start_object(w);
			snprintf(hex, sizeof(hex), "0x%" PRIx64, f->addr);
			jw__kv_string(w, "addr", hex);
			jw__kv_string(w, "func", f->func);
			jw__kv_uint(w, "offset", f->func_off);
			jw__kv_string(w, "module", f->module);
			if (f->module) {
				snprintf(hex, sizeof(hex), "0x%" PRIx64,
					 f->addr - f->map_start + f->map_pgoff);
				jw__kv_string(w, "module_offset", hex);
			}
			if (f->file) {
				jw__kv_string(w, "file", f->file);
				jw__kv_int(w, "line", f->line);
			}
			if (f->inlined)
				jw__kv_bool(w, "inlined", true);
			jw__end_object(w);
		}
		jw__end_array(w);
		jw__end_object(w);
	}
	jw__end_array(w);
}
