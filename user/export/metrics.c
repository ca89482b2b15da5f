// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "common/textsafe.h"
#include "export/http_auth.h"
#include "export/http_server.h"
#include "export/metrics.h"

struct metrics_snapshot *metrics_snapshot__new(size_t nprocs)
{
	struct metrics_snapshot *m = calloc(1, sizeof(*m) + nprocs * sizeof(m->procs[0]));

	return m;
}

/*
 * A label value: \\ \" \n escaped as the format says, invalid UTF-8 as
 * U+FFFD, and what a terminal would act on (ESC, C1, bidi overrides: someone
 * will curl this) as visible text (common/textsafe.h), its backslash escaped.
 */
static void put_label(FILE *f, const char *v)
{
	const unsigned char *s = (const unsigned char *)v;
	char esc[TEXTSAFE_ESC_MAX];
	size_t n = strlen(v);

	fputc('"', f);
	for (size_t i = 0; i < n;) {
		uint32_t cp;
		size_t l;

		if (s[i] == '\\' || s[i] == '"') {
			fputc('\\', f);
			fputc(s[i++], f);
			continue;
		}
		if (s[i] == '\n') {
			fputs("\\n", f);
			i++;
			continue;
		}
		if (!utf8__decode(s + i, n - i, &cp)) {
			fputs("\xef\xbf\xbd", f);
			i++;
			continue;
		}
		l = textsafe__next(v + i, n - i, esc);
		if (esc[0])
			fprintf(f, "\\%s", esc);
		else
			fwrite(s + i, 1, l, f);
		i += l;
	}
	fputc('"', f);
}

static void head(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void proc_labels(FILE *f, const struct metrics_proc *p)
{
	fprintf(f, "{pid=\"%d\",comm=", p->pid);
	put_label(f, p->comm);
}

/*
 * The exposition is one table: a row per series, in the order they are
 * written. A row says whose figures it shows (the snapshot's, each
 * process's, or each element of a process's list), when a process has a
 * sample, and where each figure is and how it is printed.
 */

#define STR_(x)	#x
#define STR(x)	STR_(x)
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

/* offsetof(T, m) where m must be of type want: a table row that reads a
 * figure as another type does not compile */
#define OFF(T, m, want)	(offsetof(T, m) + 0 * sizeof(char[				\
	__builtin_types_compatible_p(__typeof__(((T *)0)->m), want) ? 1 : -1]))

enum fig_fmt {
	FIG_END,	/* no more figures in the row */
	FIG_U64,
	FIG_U32,
	FIG_SIZE,
	FIG_KB,		/* a uint64_t in KiB, printed in bytes */
	FIG_1F,		/* a double, one decimal */
	FIG_3F,		/* a double, three decimals */
	FIG_ONE,	/* the constant 1: the labels say it all */
	FIG_CG,		/* a struct ms_cg_value, only when its state is OK */
	FIG_CG_US,	/* ... of microseconds, printed in seconds */
	FIG_CG_CENTI,	/* ... of hundredths, printed with two decimals */
	FIG_CG_NA,	/* ... 1 when its state is not OK, its reason as reason= */
};

/* A figure at off, with a label of its own (NULL: none), e.g. type="anon". */
struct fig {
	const char *label;
	enum fig_fmt fmt;
	size_t off;
};

enum scope {
	SC_GLOBAL,	/* figures of struct metrics_snapshot */
	SC_PROC,	/* of struct metrics_proc, a sample per process */
	SC_GO_SITE,	/* of struct metrics_go_site, a sample per site of a process */
	SC_STACK,	/* of struct metrics_stack, a sample per top stack of a process */
};

/* A process's lists, for the scopes that have a sample per element. */
static const struct {
	size_t count, base, size;	/* in metrics_proc: how many, where, one's size */
	const char *label_name;
	size_t label;			/* the element's label value */
	bool ranked;			/* rank="1", "2", ... before it */
} lists[] = {
	[SC_GO_SITE] = { OFF(struct metrics_proc, ngo_sites, uint32_t),
			 offsetof(struct metrics_proc, go_sites), sizeof(struct metrics_go_site),
			 "site", OFF(struct metrics_go_site, site, char[METRICS_FRAME_MAX]), false },
	[SC_STACK] = { OFF(struct metrics_proc, nstacks, uint32_t),
		       offsetof(struct metrics_proc, stacks), sizeof(struct metrics_stack),
		       "frame", OFF(struct metrics_stack, frame, char[METRICS_FRAME_MAX]), true },
};

/* A bool of metrics_proc that must be true (is) or false for a process to have samples. */
struct cond {
	size_t off;	/* 0: no condition (pid is there, not a bool) */
	bool is;
};

struct series {
	const char *name, *type, *help;
	enum scope scope;
	struct cond when[2];
	size_t elem_need;	/* SC_GO_SITE, SC_STACK: a bool of the element that must be
				 * true, 0: none */
	size_t reason;		/* SC_PROC: a string of metrics_proc given as reason=,
				 * 0: none */
	bool cgroup_label;	/* SC_PROC: cgroup="<path>" after comm */
	bool container_labels;	/* SC_PROC: container_id=, runtime=, pod_uid= after that */
	struct fig v[10];	/* up to FIG_END */
};

#define P_BOOL(m)	OFF(struct metrics_proc, m, bool)
#define HAS(m)		{ P_BOOL(m), true }
#define LACKS(m)	{ P_BOOL(m), false }
#define P_REASON(m)	OFF(struct metrics_proc, m, char[METRICS_REASON_MAX])
#define P_U64(m)	{ NULL, FIG_U64, OFF(struct metrics_proc, m, uint64_t) }
#define P_U32(m)	{ NULL, FIG_U32, OFF(struct metrics_proc, m, uint32_t) }
#define P_DBL(m, fmt)	{ NULL, fmt, OFF(struct metrics_proc, m, double) }
#define P_KB(lbl, m)	{ lbl, FIG_KB, OFF(struct metrics_proc, status.m, uint64_t) }
#define ONE		{ NULL, FIG_ONE, 0 }
#define SITE(m, t, fmt)	{ NULL, fmt, OFF(struct metrics_go_site, m, t) }
#define STACK(m, t, fmt) { NULL, fmt, OFF(struct metrics_stack, m, t) }
#define G_U64(lbl, m)	{ lbl, FIG_U64, OFF(struct metrics_snapshot, m, uint64_t) }
#define G_U32(lbl, m)	{ lbl, FIG_U32, OFF(struct metrics_snapshot, m, uint32_t) }
#define CG(lbl, m, fmt)	{ lbl, fmt, OFF(struct metrics_proc, cgroup.m, struct ms_cg_value) }
#define CG_NA(name, m)	CG("figure=\"" name "\"", m, FIG_CG_NA)
#define LOST(r, m)	G_U64("reason=\"" r "\"", loss.m)
#define MAP(m, f)	G_U32("map=\"" m "\"", maps.f)

static const struct series series[] = {
	{ "memsight_process_heap_inuse_bytes", "gauge",
	  "Heap bytes in use as memsight top counts them: C allocations since attach not freed "
	  "yet, and a Go process's heap in use by its runtime's profile.",
	  SC_PROC, .v = { P_U64(inuse_bytes) } },
	{ "memsight_process_heap_inuse_allocations", "gauge",
	  "Allocations made since attach and not freed yet.",
	  SC_PROC, .v = { P_U64(inuse_count) } },
	{ "memsight_process_heap_inuse_usable_bytes", "gauge",
	  "The same allocations with the allocator's rounding (its usable sizes).",
	  SC_PROC, { HAS(have_usable) }, .v = { P_U64(inuse_usable_bytes) } },
	{ "memsight_process_heap_usable_unavailable", "gauge",
	  "1 for a process whose allocator's usable sizes are not read; reason says why.",
	  SC_PROC, { LACKS(have_usable) }, .reason = P_REASON(usable_unavailable),
	  .v = { ONE } },
	{ "memsight_process_alloc_bytes_total", "counter", "Bytes allocated since attach.",
	  SC_PROC, .v = { P_U64(alloc_bytes) } },
	{ "memsight_process_allocations_total", "counter", "Allocations made since attach.",
	  SC_PROC, .v = { P_U64(alloc_count) } },
	{ "memsight_process_resident_memory_bytes", "gauge",
	  "Resident memory by type (anon, file, shmem; swap is swapped-out memory).",
	  SC_PROC, { HAS(have_status) },
	  .v = { P_KB("type=\"anon\"", rss_anon_kb), P_KB("type=\"file\"", rss_file_kb),
		 P_KB("type=\"shmem\"", rss_shmem_kb), P_KB("type=\"swap\"", vm_swap_kb) } },
	{ "memsight_process_resident_memory_peak_bytes", "gauge",
	  "Peak resident memory of the process (VmHWM).",
	  SC_PROC, { HAS(have_status) }, .v = { P_KB(NULL, vm_hwm_kb) } },
	{ "memsight_cgroup_memory_limit_bytes", "gauge",
	  "Memory limit of the process's cgroup (memory.max, v1 memory.limit_in_bytes); "
	  "absent when unlimited: see memsight_cgroup_figure_unavailable.",
	  SC_PROC, { HAS(have_cgroup) }, .cgroup_label = true, .v = { CG(NULL, limit, FIG_CG) } },
	{ "memsight_cgroup_memory_high_bytes", "gauge",
	  "Throttling threshold of the process's cgroup (memory.high, v2 only).",
	  SC_PROC, { HAS(have_cgroup) }, .cgroup_label = true, .v = { CG(NULL, high, FIG_CG) } },
	{ "memsight_cgroup_memory_usage_bytes", "gauge",
	  "Memory charged to the process's cgroup (memory.current, v1 memory.usage_in_bytes).",
	  SC_PROC, { HAS(have_cgroup) }, .cgroup_label = true, .v = { CG(NULL, usage, FIG_CG) } },
	{ "memsight_cgroup_memory_peak_bytes", "gauge",
	  "Peak memory charged to the process's cgroup (memory.peak, v1 "
	  "memory.max_usage_in_bytes).",
	  SC_PROC, { HAS(have_cgroup) }, .cgroup_label = true, .v = { CG(NULL, peak, FIG_CG) } },
	{ "memsight_cgroup_memory_swap_bytes", "gauge",
	  "Swap used by the process's cgroup.",
	  SC_PROC, { HAS(have_cgroup) }, .cgroup_label = true, .v = { CG(NULL, swap, FIG_CG) } },
	{ "memsight_cgroup_memory_stat_bytes", "gauge",
	  "What the process's cgroup is charged for, from memory.stat (whole subtree): "
	  "anonymous memory, page cache, kernel memory.",
	  SC_PROC, { HAS(have_cgroup) }, .cgroup_label = true,
	  .v = { CG("type=\"anon\"", anon, FIG_CG), CG("type=\"file\"", file, FIG_CG),
		 CG("type=\"kernel\"", kernel, FIG_CG) } },
	{ "memsight_cgroup_oom_events_total", "counter",
	  "Times the process's cgroup hit its limit and the OOM killer ran (memory.events oom).",
	  SC_PROC, { HAS(have_cgroup) }, .cgroup_label = true, .v = { CG(NULL, oom, FIG_CG) } },
	{ "memsight_cgroup_oom_kills_total", "counter",
	  "Processes the OOM killer killed in the process's cgroup (oom_kill).",
	  SC_PROC, { HAS(have_cgroup) }, .cgroup_label = true,
	  .v = { CG(NULL, oom_kill, FIG_CG) } },
	{ "memsight_cgroup_memory_pressure_seconds_total", "counter",
	  "Time tasks of the process's cgroup stalled on memory (PSI; some: at least one, "
	  "full: all).",
	  SC_PROC, { HAS(have_cgroup) }, .cgroup_label = true,
	  .v = { CG("kind=\"some\"", psi.some_total_us, FIG_CG_US),
		 CG("kind=\"full\"", psi.full_total_us, FIG_CG_US) } },
	{ "memsight_cgroup_memory_pressure_avg10_percent", "gauge",
	  "Share of the last 10 s tasks of the process's cgroup stalled on memory (PSI).",
	  SC_PROC, { HAS(have_cgroup) }, .cgroup_label = true,
	  .v = { CG("kind=\"some\"", psi.some_avg10_centi, FIG_CG_CENTI),
		 CG("kind=\"full\"", psi.full_avg10_centi, FIG_CG_CENTI) } },
	{ "memsight_cgroup_figure_unavailable", "gauge",
	  "1 for a cgroup figure the process's cgroup does not give (unlimited, not in this "
	  "kernel or cgroup version); reason says why.",
	  SC_PROC, { HAS(have_cgroup) }, .cgroup_label = true,
	  .v = { CG_NA("limit", limit), CG_NA("high", high), CG_NA("peak", peak),
		 CG_NA("swap", swap), CG_NA("oom_events", oom), CG_NA("oom_kills", oom_kill),
		 CG_NA("pressure", psi.some_total_us) } },
	{ "memsight_process_container_info", "gauge",
	  "1 for a process in a container: its id, runtime and Kubernetes pod UID (\"\" "
	  "outside Kubernetes), from its cgroup path; on Kubernetes pod, namespace and "
	  "container from the container runtime's state when it is readable.",
	  SC_PROC, { HAS(have_cgroup), HAS(have_container) }, .cgroup_label = true,
	  .container_labels = true, .v = { ONE } },
	{ "memsight_cgroup_unavailable", "gauge",
	  "1 for a process whose memory cgroup cannot be read; reason says why.",
	  SC_PROC, { LACKS(have_cgroup) }, .reason = P_REASON(cgroup_unavailable),
	  .v = { ONE } },
	{ "memsight_process_threads", "gauge", "Threads of the process.",
	  SC_PROC, { HAS(have_status) }, .v = { P_U32(status.threads) } },
	{ "memsight_process_heap_growth_bytes_per_minute", "gauge",
	  "Slope of heap in use over the growth window; absent before two snapshots.",
	  SC_PROC, { HAS(have_growth) }, .v = { P_DBL(growth_per_min, FIG_1F) } },
	{ "memsight_process_lost_events_total", "counter",
	  "Events of the process not fully recorded; its figures are lower bounds when not 0.",
	  SC_PROC, { HAS(have_lost) }, .v = { P_U64(lost) } },
	{ "memsight_go_goroutines", "gauge",
	  "Goroutines of a Go process (as runtime.NumGoroutine).",
	  SC_PROC, { HAS(have_goroutines) }, .v = { P_U64(goroutines) } },
	/* what cannot be read is said, instead of a 0 in the figures' own series */
	{ "memsight_go_goroutines_unavailable", "gauge",
	  "1 for a Go process whose goroutines cannot be read; reason says why.",
	  SC_PROC, { HAS(is_go), LACKS(have_goroutines) }, .reason = P_REASON(go_unavailable),
	  .v = { ONE } },
	{ "memsight_go_goroutines_growth_per_minute", "gauge",
	  "Slope of the goroutine count over the growth window, goroutines per minute.",
	  SC_PROC, { HAS(have_go_growth) }, .v = { P_DBL(go_growth_per_min, FIG_3F) } },
	{ "memsight_go_goroutines_by_site", "gauge",
	  "Goroutines by creation site (the go statement): the " STR(METRICS_GO_SITES) " sites "
	  "with the most per process, the rest summed in site=\"other\".",
	  SC_GO_SITE, .v = { SITE(count, uint64_t, FIG_U64) } },
	{ "memsight_go_goroutines_by_site_growth_per_minute", "gauge",
	  "Slope of a creation site's goroutine count over the growth window (per minute); "
	  "not for site=\"other\".",
	  SC_GO_SITE, .elem_need = OFF(struct metrics_go_site, have_rate, bool),
	  .v = { SITE(per_min, double, FIG_3F) } },
	{ "memsight_go_heap_unavailable", "gauge",
	  "1 for a Go process whose heap figures cannot be read; reason says why.",
	  SC_PROC, { HAS(is_go), LACKS(have_go_heap) }, .reason = P_REASON(go_heap_unavailable),
	  .v = { ONE } },
	{ "memsight_go_heap_alloc_bytes", "gauge",
	  "Go heap bytes of allocated objects, live or not yet collected (HeapAlloc).",
	  SC_PROC, { HAS(have_go_heap) }, .v = { P_U64(go_heap_alloc) } },
	{ "memsight_go_heap_live_bytes", "gauge",
	  "Go heap bytes the last GC marked live (gctrace's third figure); absent before the "
	  "first GC.",
	  SC_PROC, { HAS(have_go_heap), HAS(have_go_heap_live) }, .v = { P_U64(go_heap_live) } },
	{ "memsight_go_heap_inuse_bytes", "gauge", "Go heap spans in use (HeapInuse).",
	  SC_PROC, { HAS(have_go_heap) }, .v = { P_U64(go_heap_inuse) } },
	{ "memsight_go_heap_idle_bytes", "gauge", "Go heap spans idle (HeapIdle).",
	  SC_PROC, { HAS(have_go_heap) }, .v = { P_U64(go_heap_idle) } },
	{ "memsight_go_heap_released_bytes", "gauge", "Go heap returned to the OS (HeapReleased).",
	  SC_PROC, { HAS(have_go_heap) }, .v = { P_U64(go_heap_released) } },
	{ "memsight_go_next_gc_bytes", "gauge", "Heap size of the next Go GC (NextGC).",
	  SC_PROC, { HAS(have_go_heap), HAS(have_go_next_gc) }, .v = { P_U64(go_next_gc) } },
	{ "memsight_go_gc_cycles_total", "counter", "Completed Go GC cycles (NumGC).",
	  SC_PROC, { HAS(have_go_heap) }, .v = { P_U32(go_num_gc) } },
	{ "memsight_stack_inuse_bytes", "gauge",
	  "Heap bytes in use by the top stacks of each process (rank 1 = most).",
	  SC_STACK, .v = { STACK(inuse_bytes, uint64_t, FIG_U64) } },
	{ "memsight_stack_growth_bytes_per_minute", "gauge",
	  "Leak score of the top stacks: slope of their bytes in use.",
	  SC_STACK, .v = { STACK(growth_per_min, double, FIG_1F) } },
	{ "memsight_watched_processes", "gauge", "Processes memsightd watches.",
	  SC_GLOBAL, .v = { { NULL, FIG_SIZE, OFF(struct metrics_snapshot, nprocs, size_t) } } },
	{ "memsight_events_total", "counter", "Allocator events recorded.",
	  SC_GLOBAL, .v = { G_U64("type=\"alloc\"", loss.alloc_events),
			    G_U64("type=\"free\"", loss.free_events) } },
	{ "memsight_lost_events_total", "counter",
	  "Events not fully recorded; figures are lower bounds while this grows.",
	  SC_GLOBAL, .v = { LOST("stack_error", stack_errors),
			    LOST("stack_collision", stack_collisions),
			    LOST("stack_table_full", stack_table_full),
			    LOST("stack_quota", stack_quota),
			    LOST("live_full", live_full),
			    LOST("aggregate_full", agg_full),
			    LOST("inflight_full", inflight_full),
			    LOST("ringbuf_full", events_lost),
			    LOST("dwarf_stack", ustack_lost),
			    LOST("process_table_full", proc_table_full) } },
	{ "memsight_dwarf_stacks_total", "counter",
	  "Allocation stacks copied for DWARF unwinding in user space.",
	  SC_GLOBAL, .v = { G_U64(NULL, loss.ustack_samples) } },
	{ "memsight_dwarf_stacks_over_rate_total", "counter",
	  "Allocation stacks walked by frame pointers instead: the process's DWARF copies per "
	  "second (--dwarf-rate) were spent.",
	  SC_GLOBAL, .v = { G_U64(NULL, loss.ustack_rate) } },
	{ "memsight_map_entries", "gauge", "Entries in use in memsight's BPF maps.",
	  SC_GLOBAL, .v = { MAP("live", live), MAP("aggregates", aggs), MAP("stacks", stacks),
			    MAP("pids", pids) } },
	{ "memsight_map_capacity", "gauge", "Capacity of memsight's BPF maps.",
	  SC_GLOBAL, .v = { MAP("live", live_max), MAP("aggregates", aggs_max),
			    MAP("stacks", stacks_max), MAP("pids", pids_max) } },
	{ "memsight_attach_errors_total", "counter", "Failed attempts to attach to a process.",
	  SC_GLOBAL, .v = { G_U64(NULL, attach_errors) } },
	{ "memsight_oom_incidents_total", "counter", "OOM incidents recorded.",
	  SC_GLOBAL, .v = { G_U64(NULL, oom_incidents) } },
};

/* " value\n" of the figure fig of the struct at base. */
static void put_fig(FILE *f, const struct fig *fig, const void *base)
{
	const void *v = (const char *)base + fig->off;

	switch (fig->fmt) {
	case FIG_U64:
		fprintf(f, " %" PRIu64 "\n", *(const uint64_t *)v);
		break;
	case FIG_U32:
		fprintf(f, " %" PRIu32 "\n", *(const uint32_t *)v);
		break;
	case FIG_SIZE:
		fprintf(f, " %zu\n", *(const size_t *)v);
		break;
	case FIG_KB:
		fprintf(f, " %" PRIu64 "\n", *(const uint64_t *)v * 1024);
		break;
	case FIG_1F:
		fprintf(f, " %.1f\n", *(const double *)v);
		break;
	case FIG_3F:
		fprintf(f, " %.3f\n", *(const double *)v);
		break;
	case FIG_ONE:
	case FIG_CG_NA:
		fputs(" 1\n", f);
		break;
	case FIG_CG:
		fprintf(f, " %" PRIu64 "\n", ((const struct ms_cg_value *)v)->v);
		break;
	case FIG_CG_US:
		fprintf(f, " %.6f\n", ((const struct ms_cg_value *)v)->v / 1e6);
		break;
	case FIG_CG_CENTI:
		fprintf(f, " %.2f\n", ((const struct ms_cg_value *)v)->v / 100.0);
		break;
	case FIG_END:
		break;
	}
}

static bool proc_wanted(const struct series *s, const struct metrics_proc *p)
{
	for (size_t c = 0; c < ARRAY_SIZE(s->when); c++)
		if (s->when[c].off &&
		    *(const bool *)((const char *)p + s->when[c].off) != s->when[c].is)
			return false;
	return true;
}

/*
 * Only on memsight_process_container_info: one series per watched process,
 * so pod, namespace and container add no series; join on pid to filter others.
 */
static void container_labels(FILE *f, const struct metrics_proc *p)
{
	fputs(",container_id=", f);
	put_label(f, p->container.id);
	fputs(",runtime=", f);
	put_label(f, p->container.runtime);
	fputs(",pod_uid=", f);
	put_label(f, p->container.pod_uid);
	if (!p->have_pod)
		return;
	fputs(",pod=", f);
	put_label(f, p->pod.name);
	fputs(",namespace=", f);
	put_label(f, p->pod.namespace);
	fputs(",container=", f);
	put_label(f, p->pod.container);
}

/* A cgroup figure is written only in the state its format wants. */
static bool fig_present(const struct fig *fig, const void *base)
{
	const struct ms_cg_value *v = (const void *)((const char *)base + fig->off);

	switch (fig->fmt) {
	case FIG_CG:
	case FIG_CG_US:
	case FIG_CG_CENTI:
		return v->state == MS_CG_OK;
	case FIG_CG_NA:
		return v->state != MS_CG_OK;
	default:
		return true;
	}
}

static bool proc_any_fig(const struct series *s, const struct metrics_proc *p)
{
	for (size_t k = 0; k < ARRAY_SIZE(s->v) && s->v[k].fmt != FIG_END; k++)
		if (fig_present(&s->v[k], p))
			return true;
	return false;
}

/* The samples of s for one process: one per figure, or one per element of a list. */
static void proc_samples(FILE *f, const struct series *s, const struct metrics_proc *p)
{
	const char *base = (const char *)p;
	uint32_t n;

	if (s->scope == SC_PROC) {
		for (size_t k = 0; k < ARRAY_SIZE(s->v) && s->v[k].fmt != FIG_END; k++) {
			if (!fig_present(&s->v[k], p))
				continue;
			fputs(s->name, f);
			proc_labels(f, p);
			if (s->cgroup_label) {
				fputs(",cgroup=", f);
				put_label(f, p->cgroup.path);
			}
			if (s->container_labels)
				container_labels(f, p);
			if (s->reason) {
				fputs(",reason=", f);
				put_label(f, base + s->reason);
			}
			if (s->v[k].fmt == FIG_CG_NA) {
				fputs(",reason=", f);
				put_label(f, ms_cg_value__why((const void *)(base + s->v[k].off)));
			}
			if (s->v[k].label)
				fprintf(f, ",%s", s->v[k].label);
			fputc('}', f);
			put_fig(f, &s->v[k], p);
		}
		return;
	}
	n = *(const uint32_t *)(base + lists[s->scope].count);
	for (uint32_t k = 0; k < n; k++) {
		const char *e = base + lists[s->scope].base + k * lists[s->scope].size;

		if (s->elem_need && !*(const bool *)(e + s->elem_need))
			continue;
		fputs(s->name, f);
		proc_labels(f, p);
		if (lists[s->scope].ranked)
			fprintf(f, ",rank=\"%u\"", k + 1);
		fprintf(f, ",%s=", lists[s->scope].label_name);
		put_label(f, e + lists[s->scope].label);
		fputc('}', f);
		put_fig(f, &s->v[0], e);
	}
}

/* Does s have a sample for some process? A family without one is left out whole. */
static bool has_samples(const struct series *s, const struct metrics_snapshot *m)
{
	for (size_t k = 0; k < m->nprocs; k++) {
		const char *base = (const char *)&m->procs[k];
		uint32_t n;

		if (!proc_wanted(s, &m->procs[k]))
			continue;
		if (s->scope == SC_PROC) {
			if (proc_any_fig(s, &m->procs[k]))
				return true;
			continue;
		}
		n = *(const uint32_t *)(base + lists[s->scope].count);
		for (uint32_t e = 0; e < n; e++)
			if (!s->elem_need || *(const bool *)(base + lists[s->scope].base +
							     e * lists[s->scope].size + s->elem_need))
				return true;
	}
	return false;
}

int metrics__render(const struct metrics_snapshot *m, FILE *f)
{
	for (size_t i = 0; i < ARRAY_SIZE(series); i++) {
		const struct series *s = &series[i];

		if (s->scope != SC_GLOBAL && !has_samples(s, m))
			continue;
		head(f, s->name, s->type, s->help);
		if (s->scope != SC_GLOBAL) {
			for (size_t k = 0; k < m->nprocs; k++)
				if (proc_wanted(s, &m->procs[k]))
					proc_samples(f, s, &m->procs[k]);
			continue;
		}
		for (size_t k = 0; k < ARRAY_SIZE(s->v) && s->v[k].fmt != FIG_END; k++) {
			fputs(s->name, f);
			if (s->v[k].label)
				fprintf(f, "{%s}", s->v[k].label);
			put_fig(f, &s->v[k], m);
		}
	}
	return ferror(f) ? -EIO : 0;
}

struct metrics_server {
	struct http_server *http;
	struct http_site sites[1 + METRICS_SITES_MORE];	/* /metrics, and what the listener
							 * serves besides */
	pthread_mutex_t lock;
	char *text;		/* the last rendered exposition */
	size_t len;
	uint32_t top_stacks;
};

/* A scrape: a copy of the last rendered text (the HTTP thread never renders). */
static int get_metrics(void *cls, char **body, size_t *len)
{
	struct metrics_server *srv = cls;
	int ret = 0;

	pthread_mutex_lock(&srv->lock);
	*len = srv->len;
	*body = malloc(srv->len ?: 1);
	if (*body)
		memcpy(*body, srv->text ?: "", srv->len);
	else
		ret = -ENOMEM;
	pthread_mutex_unlock(&srv->lock);
	return ret;
}

static const struct http_route metrics_routes[] = {
	{ .path = "/metrics", .content_type = "text/plain; version=0.0.4; charset=utf-8",
	  .get = get_metrics },
};

int metrics_server__start(const char *host, uint16_t port, uint32_t top_stacks,
			  const struct http_site *more, size_t nmore,
			  const struct http_access *acc, struct metrics_server **ret,
			  char *err, size_t errlen)
{
	struct metrics_server *srv = calloc(1, sizeof(*srv));
	int rc;

	if (!srv || nmore > METRICS_SITES_MORE) {
		free(srv);
		http_auth__free(acc ? acc->auth : NULL);
		return srv ? -E2BIG : -ENOMEM;
	}
	pthread_mutex_init(&srv->lock, NULL);
	srv->top_stacks = top_stacks > METRICS_TOP_MAX ? METRICS_TOP_MAX : top_stacks;
	srv->sites[0] = (struct http_site){ metrics_routes, ARRAY_SIZE(metrics_routes), srv };
	for (size_t i = 0; i < nmore; i++)
		srv->sites[1 + i] = more[i];
	rc = http_server__start(host, port, srv->sites, 1 + nmore, acc, &srv->http, err, errlen);
	if (rc) {
		pthread_mutex_destroy(&srv->lock);
		free(srv);
		return rc;
	}
	*ret = srv;
	return 0;
}

void metrics_server__set_auth(struct metrics_server *srv, struct http_auth *auth)
{
	http_server__set_auth(srv->http, auth);
}

void metrics_server__publish(struct metrics_server *srv, struct metrics_snapshot *m)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (f) {
		metrics__render(m, f);
		if (fclose(f)) {
			free(buf);
			buf = NULL;
		}
	}
	free(m);
	if (!buf)
		return;	/* keep serving the previous text */
	pthread_mutex_lock(&srv->lock);
	free(srv->text);
	srv->text = buf;
	srv->len = len;
	pthread_mutex_unlock(&srv->lock);
}

uint32_t metrics_server__top_stacks(const struct metrics_server *srv)
{
	return srv->top_stacks;
}

void metrics_server__stop(struct metrics_server *srv)
{
	if (!srv)
		return;
	http_server__stop(srv->http);
	pthread_mutex_destroy(&srv->lock);
	free(srv->text);
	free(srv);
}
