/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * model.h - a symbolised snapshot of one process's allocations.
 *
 * The model is the one place collected data lives in user space: the
 * collector fills it from the BPF maps, exporters (text, JSON, pprof,
 * folded, SVG, metrics) only read it and never touch a map.
 */
#ifndef MEMSIGHT_MODEL_H
#define MEMSIGHT_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "memsight_abi.h"
#include "target/cgroup.h"
#include "target/podinfo.h"
#include "target/procfs.h"

struct ms_frame {
	uint64_t addr;		/* runtime address in the target */
	char *func;		/* demangled function name, NULL if unknown */
	uint64_t func_off;	/* addr - function start */
	char *module;		/* path of the mapped file, NULL if none */
	char *file;		/* source file, NULL if unknown */
	int line;		/* 0 if unknown */
	bool inlined;		/* inlined into the next frame (same addr) */
	/* the mapping containing addr (pprof Mapping) */
	uint64_t map_start;
	uint64_t map_end;
	uint64_t map_pgoff;
	uint8_t build_id[20];
	int build_id_len;
};

/*
 * What allocations cost with the allocator's rounding (its usable sizes),
 * beside the bytes asked for. Known only if missing is 0.
 */
struct ms_usable {
	uint64_t alloc_bytes, free_bytes;
	uint64_t inuse_bytes;	/* derived: alloc - free, clamped at 0 */
	uint64_t missing;	/* allocations whose usable size was not read */
};

struct ms_stack {
	uint32_t kind;		/* enum ms_alloc_kind */
	int32_t stack_id;	/* BPF stack id; < 0: stack unavailable */
	uint32_t nframes;
	struct ms_frame *frames;	/* leaf (allocation site's caller) first */
	uint64_t alloc_bytes;
	uint64_t alloc_count;
	uint64_t free_bytes;
	uint64_t free_count;
	/* derived: alloc - free, clamped at 0 */
	uint64_t inuse_bytes;
	uint64_t inuse_count;
	struct ms_usable usable;
	uint64_t oldest_ns;	/* age of the oldest outstanding allocation, 0 if none */
	double growth_per_min;	/* leak score: in-use slope over the growth window */
	/* other stack ids of this row: stacks that differ only where they are
	 * not shown (they symbolise identically) are one row */
	int32_t *more_ids;
	uint32_t nmore_ids;
};

struct ms_loss {
	uint64_t alloc_events;
	uint64_t free_events;
	uint64_t free_unknown;
	uint64_t stack_errors;
	uint64_t stack_collisions;
	uint64_t stack_table_full;	/* stacks not stored: the stack table was full */
	uint64_t stack_quota;	/* ... a process had its quota of stacks (memsightd) */
	uint64_t live_full;
	uint64_t agg_full;
	uint64_t inflight_full;
	uint64_t inflight_miss;
	uint64_t nested;
	uint64_t failed_alloc;
	uint64_t events_lost;	/* lifecycle events dropped (ring buffer full) */
	uint64_t go_samples;	/* Go allocations sampled */
	uint64_t ustack_samples;	/* stacks copied for DWARF unwinding */
	uint64_t ustack_lost;	/* ... that could not be: frame-pointer stacks instead */
	uint64_t ustack_ring_full;	/* ... of those, because the copy ring was full */
	uint64_t ustack_queue_full;	/* copied but dropped unread: the unwinder's queue was at
					 * its cap; their bytes count under no stack */
	uint64_t ustack_rate;	/* stacks not copied: the process's copies per second were spent */
	uint64_t proc_table_full;	/* pids the per-process tables (rss, procstats) had no room for */
	uint64_t probes_at_risk;	/* main thread exited after a PID-filtered attach: the
					 * kernel may have dropped the probes since */
};

#define MS_GO_GROUPS_MAX 20

/* Goroutines started at one `go` statement. */
struct ms_go_group {
	uint64_t pc;		/* the go statement's return PC (identity of the site) */
	char *func;		/* function containing the go statement */
	char *file;
	int line;
	bool main_goroutine;	/* the main goroutine: func "runtime.main", no file */
	char *start_func;	/* the function they start in; NULL: several, or unknown */
	uint64_t count;
	uint64_t running, runnable, waiting, syscall;
	char *wait_reason;	/* most common, among the waiting */
};

/* A Go process's runtime, read from its memory (no probes). */
struct ms_go_info {
	bool present;			/* the executable is a Go program */
	char version[32];
	bool probed;			/* Go allocations sampled */
	bool runtime_sampler;		/* ... through the runtime's own sampler (mProf_Malloc) */
	bool rate_set;			/* memsight turned the runtime's sampler on */
	uint64_t sample_bytes;		/* mean bytes between samples */
	int runtime_err;		/* 0, or why goroutines/heap are missing */
	char *runtime_reason;
	/* readable runtime, but one part not (a stripped binary's heap globals...) */
	char *goroutines_reason;	/* why no goroutines, when have_goroutines is false */
	char *heap_reason;		/* why no Go heap, when have_heap is false */
	bool have_goroutines;
	uint64_t goroutines;		/* user goroutines, as runtime.NumGoroutine */
	uint64_t main_goroutine;	/* of which the main goroutine (runtime.main): 1 or 0 */
	uint64_t by_state[5];		/* running, runnable, waiting, syscall, other
				 * (preempted, copying its stack, ...): they add
				 * up to goroutines */
	size_t ngroups;
	struct ms_go_group groups[MS_GO_GROUPS_MAX];	/* by creation site, biggest first */
	size_t unlisted_sites;		/* sites past MS_GO_GROUPS_MAX, not in groups */
	uint64_t unlisted_goroutines;	/* ... and the goroutines there */
	bool heap_profile;		/* go-heap stacks from the runtime's profile */
	int64_t heap_profile_rate;	/* runtime.MemProfileRate */
	char *heap_profile_reason;	/* why there is none */
	bool have_heap;
	uint64_t heap_alloc, heap_inuse, heap_idle, heap_released, heap_sys;
	uint64_t stack_inuse, sys, next_gc;
	bool have_sys, have_next_gc;	/* their globals read */
	const char *next_gc_reason;	/* why not have_next_gc (static string) */
	uint64_t live_after_last_gc;	/* marked live by the last GC (gctrace's third figure) */
	bool have_live_after_last_gc;
	const char *live_after_last_gc_reason;	/* why not (static string) */
	uint32_t num_gc;
};

struct ms_profile {
	pid_t pid;
	char comm[MS_COMM_LEN + 1];
	char *exe;
	uint64_t start_time_ticks;	/* /proc/PID/stat start time: pid + this = identity */
	uint64_t duration_ns;		/* how long allocations were observed */
	uint64_t sample_period;		/* bytes per sample; 0 = every allocation */
	uint64_t c_sample_bytes;	/* C allocations were sampled (figures unsampled) */
	bool sampler_usdt;		/* ... by the sampler library (USDT), at c_sample_bytes */
	uint32_t fault_pages;		/* one user page fault sampled in this many */
	bool c_other_means;		/* ... some samples at another mean above 1 (drawn
					 * before it changed), each scaled with its own */
	/*
	 * The library's memsight_sampler_dropped: samples it could not
	 * remember (its table full), whose frees are never seen, so in use is
	 * over-counted. Read at collection; not known when have_ is false.
	 */
	bool have_sampler_dropped;
	uint64_t sampler_dropped;
	/*
	 * The library's pending free records (frees it made that ride on its
	 * next sample) whose samples were still live at collection: counted
	 * as freed. sampler_pending_err: they could not be read (-errno; the
	 * process gone), and then up to MEMSIGHT_SAMPLER_PENDING samples
	 * already freed still count as in use.
	 */
	uint32_t sampler_pending;
	int sampler_pending_err;
	bool exited;			/* target exited during observation */
	bool execed;			/* target exec'd: figures are for the new image */
	/* target exec'd into a program whose allocator (this path) was not
	 * probed at attach: the tracked figures are unavailable */
	char *exec_unprobed;
	bool have_growth;		/* growth_per_min filled in */
	double growth_window_s;		/* span the growth slopes cover */
	double total_growth_per_min;
	bool have_status;
	struct ms_proc_status status;	/* RSS etc. at snapshot time */
	struct ms_cgroup_mem *cgroup;	/* its memory cgroup at snapshot time, or NULL: */
	int cgroup_err;			/* ... why not (-errno of cgroup__read) */
	bool in_pod;			/* the cgroup names a Kubernetes container: */
	struct ms_pod pod;		/* its pod when pod_err is 0 */
	int pod_err;			/* ... why not (-errno of podinfo__read) */
	bool have_rss_events;		/* from the rss_stat tracepoint */
	uint64_t rss_peak_bytes;	/* peak of file + anon + shmem since attach */
	uint64_t rss_peak_ns;		/* when it was reached (CLOCK_MONOTONIC ns) */
	/* the most tracked bytes in use at once (malloc family, anonymous mmap); known
	 * only when every allocation was recorded */
	bool have_heap_peak;
	uint64_t heap_peak_bytes;
	uint64_t rss_updates;		/* RSS changes seen */
	bool rss_batched;		/* the kernel batches each thread's changes (<= 6.1) */
	/*
	 * Transparent huge pages (enum ms_thp) where the process runs: unless
	 * "never", a fault may map 2 MiB while the fault view counts 4 KiB.
	 */
	int thp;
	bool have_procstats;		/* threads (and kmem) counted by BPF */
	/*
	 * Events of this process not fully recorded (loss holds the
	 * daemon-wide counters): its figures are lower bounds when not 0.
	 */
	uint64_t lost;
	bool have_lost;
	int64_t threads;
	uint64_t threads_created;
	bool kmem;			/* kmem tracing was on */
	int64_t kmem_inuse;
	uint64_t kmem_allocs, kmem_frees;
	struct ms_loss loss;		/* global counters at snapshot time */
	uint64_t stacks_cut;		/* stacks that ended at a frame outside the process's code
					 * (a frame-pointer walk through code without them) */
	bool dwarf;			/* C allocation stacks unwound with DWARF */
	char *unwind_reason;		/* why (or NULL) */
	struct ms_go_info go;
	size_t nstacks;
	size_t cap;
	struct ms_stack *stacks;
	/* totals over all stacks */
	uint64_t inuse_bytes;
	uint64_t inuse_count;
	uint64_t alloc_bytes;
	uint64_t alloc_count;
	struct ms_usable usable;
};

/*
 * Aggregates to figures: the one place what BPF counted becomes the bytes
 * and counts memsight reports (`top`, `dump`, `ps`, /metrics, growth).
 */

/* How the records were sampled: mean bytes between samples, 0 = every one. */
struct ms_sampling {
	uint64_t c_bytes;	/* C allocations (--sample-bytes) */
	uint64_t go_bytes;	/* Go samples (the runtime's rate or memsight's) */
};

struct ms_figures {
	uint64_t alloc_bytes, alloc_count;
	uint64_t free_bytes, free_count;
	/* alloc - free, clamped at 0; 0 for kinds whose frees are not seen */
	uint64_t inuse_bytes, inuse_count;
	struct ms_usable usable;
};

/*
 * One aggregate's figures, unsampled where its kind was sampled: sampled C
 * allocations are estimated in use and in all (frees are what separates the
 * two estimates, so in use never exceeds allocated), Go samples in all.
 */
/* Were events lost so that some figures are lower bounds (allocations
 * counted under "no stack", or not at all)? */
bool ms_loss__lower_bound(const struct ms_loss *l);

/*
 * Are this profile's figures lower bounds: its own process lost events
 * (when that is not known, any process did)?
 */
bool ms_profile__lower_bound(const struct ms_profile *p);
/* Are the C figures estimates (sampled with a mean above 1, or by the uprobes' sampled mode)? */
bool ms_profile__c_estimates(const struct ms_profile *p);

void ms_figures__of_agg(uint32_t kind, const struct ms_agg_val *v, const struct ms_sampling *smp,
			struct ms_figures *ret);
/* The same for the aggregate under k: a C sample's own mean (k->period) if it has one */
void ms_figures__of_key(const struct ms_agg_key *k, const struct ms_agg_val *v,
			const struct ms_sampling *smp, struct ms_figures *ret);

/* Fill in inuse_* from alloc_* and free_* (the rule of_agg() follows too). */
void ms_figures__derive_inuse(uint32_t kind, struct ms_figures *f);

/*
 * Add one stack's figures to a process's totals: in use as derived, and
 * allocations except page faults (RSS growth, not allocations). A go-heap
 * stack (MS_KIND_GO_INUSE) adds its in-use figures only.
 */
void ms_figures__add(struct ms_figures *total, uint32_t kind, const struct ms_figures *f);

/*
 * Why figures of this kind have no usable size (NULL: they have one): the
 * allocator's size was not read for some, or the kind has none.
 */
const char *ms_usable__unavailable(uint32_t kind, const struct ms_usable *u);

struct ms_profile *ms_profile__new(pid_t pid);
void ms_profile__free(struct ms_profile *p);

/* Append a stack with frames copied in (strings duplicated). Returns the
 * new entry or NULL + errno. */
struct ms_stack *ms_profile__add_stack(struct ms_profile *p, const struct ms_stack *tmpl,
				       const struct ms_frame *frames, uint32_t nframes);

/* Recompute derived fields and totals, then sort stacks by in-use bytes
 * (descending), ties by alloc bytes, then stack id: a stable order. */
void ms_profile__finalize(struct ms_profile *p);

/*
 * Free the stacks whose keep[i] is false, the others keep their order; the
 * totals stay those of every stack. Returns how many went.
 */
size_t ms_profile__keep_stacks(struct ms_profile *p, const bool *keep);

/* Order by growth_per_min (descending), ties by in-use bytes. */
void ms_profile__sort_by_growth(struct ms_profile *p);

/* Free the strings inside one frame (not the frame itself). */
void ms_frame__clear(struct ms_frame *f);

const char *ms_kind__name(uint32_t kind);

/*
 * How a process's C allocations are seen, as every view names it:
 * "uprobes", or "sampler library (USDT), mean N bytes" (mean: the
 * library's, 1 = every allocation). Returns buf.
 */
const char *ms_allocator_probe(bool usdt, uint64_t mean, char *buf, size_t len);

/*
 * Whether a kind's records are allocations matched with frees (so alloc -
 * free is memory in use). Go samples (the GC frees unseen) and page faults
 * (RSS growth, not allocations) are not.
 */
static inline bool ms_kind__tracks_inuse(uint32_t kind)
{
	return kind < MS_KIND__MAX_C;
}

/* Are its figures allocations? Not the go-heap view (in use as the Go runtime
 * reports it) nor page faults (RSS growth, shown apart with --faults). */
static inline bool ms_kind__is_allocation(uint32_t kind)
{
	return kind != MS_KIND_GO_INUSE && kind != MS_KIND_FAULT;
}

#endif /* MEMSIGHT_MODEL_H */
