/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * goproc.h - read the runtime state of an unmodified, running Go process
 * from the outside: goroutines (count, grouped by `go` statement and by start
 * function, per state), heap statistics close to runtime.ReadMemStats, and
 * the in-use heap profile the runtime keeps for runtime/pprof.
 *
 * How: process_vm_readv() on the target's memory (no probes, no ptrace stop,
 * the target keeps running). Data symbols (runtime.allgs, runtime.memstats,
 * ...) come from the executable's .symtab; struct field offsets from its
 * DWARF, or from a built-in table (go1.19 to go1.27, amd64: user/target/go_layouts.h)
 * when DWARF was stripped with -ldflags=-w. A fully stripped binary (-s -w)
 * has no data symbols (.gopclntab names functions only): its globals are
 * located from code (govars.h); one that is not found makes the queries that
 * need it return -ENOENT, and goproc__reason() says so.
 *
 * The target is hostile input and keeps running while we read it: every
 * pointer, length and count read from it is validated and capped, a
 * pointer that does not read is counted and skipped, and a snapshot whose
 * values contradict each other is retried a few times, then -EAGAIN. The
 * numbers are therefore a consistent-enough sample, not a stop-the-world
 * snapshot like ReadMemStats.
 *
 * Needs the right to read the target's memory (same uid + ptrace_scope 0,
 * or CAP_SYS_PTRACE): otherwise queries return -EPERM.
 *
 * Library-like: 0 / -errno (constructors NULL + errno), never logs.
 * Field names are looked up in DWARF, with the alternatives later releases
 * use; tested on every release of the Go matrix, 1.19 to 1.27, plain and
 * stripped (tests/unit/test_goproc.c; 1.17/1.18's runtime.mProf cycle
 * counter is read untested).
 */
#ifndef MEMSIGHT_GOPROC_H
#define MEMSIGHT_GOPROC_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "target/goruntime.h"

/* Limits against a hostile or racing target. */
#define GOPROC_MAX_GOROUTINES	10000000u	/* g's walked by default */
#define GOPROC_MAX_GROUPS	16384u		/* distinct sites per grouping by default */
#define GOPROC_MAX_PROCS	4096u		/* entries of runtime.allp considered */
#define GOPROC_MAX_WAIT_REASONS	64u		/* waitReason values kept (uint8 in the runtime) */
#define GOPROC_WAIT_REASON_LEN	48u		/* bytes of one wait reason string, incl. NUL */
#define GOPROC_REASON_LEN	256u		/* goproc__reason() buffer */
#define GOPROC_MAX_BUCKETS	(1u << 20)	/* heap profile buckets walked by default */
#define GOPROC_PROF_MAX_STACK	1024u		/* PCs per bucket: maxProfStackDepth (1.23+) */
#define GOPROC_PROF_MAX_STACK_122 32u		/* PCs per bucket up to 1.22: maxStack */

struct goproc;

/* Where the struct layouts came from. */
enum goproc_layout {
	GOPROC_LAYOUT_NONE,	/* neither: queries fail with -ENOTSUP */
	GOPROC_LAYOUT_DWARF,	/* the executable's .debug_info */
	GOPROC_LAYOUT_BUILTIN,	/* built-in table for this Go release and arch */
};

/* Goroutine states as reported, from g.atomicstatus without the _Gscan bit. */
enum goproc_gstate {
	GOPROC_G_RUNNING,	/* _Grunning */
	GOPROC_G_RUNNABLE,	/* _Grunnable */
	GOPROC_G_WAITING,	/* _Gwaiting, and 1.26's _Gleaked (waiting forever) */
	GOPROC_G_SYSCALL,	/* _Gsyscall */
	GOPROC_G_OTHER,		/* _Gcopystack, _Gpreempted, _Gmoribund, ... */
	GOPROC_G_NR
};

/*
 * Open pid for reading: its executable (/proc/PID/exe, also when deleted),
 * .symtab, DWARF or built-in layouts, and the load bias of a PIE from
 * /proc/PID/maps. NULL + errno: ESRCH (no such process), EACCES/EPERM (its
 * exe is not readable), ENOEXEC (not a Go executable), EINVAL (corrupt ELF),
 * ENOMEM. A Go executable that cannot be read (no .symtab, no layout) still
 * opens: goproc__status() says why, and every query returns that error.
 */
struct goproc *goproc__open(pid_t pid);
void goproc__close(struct goproc *gp);

/*
 * 0 if queries can work; -ENOENT if a required data symbol is missing (a
 * stripped, -s, executable) or the executable is not mapped in the process,
 * -ENOTSUP if there is no layout for this binary (DWARF lacks the runtime's
 * types, or there is none, and there is no built-in table for its Go
 * release/arch), -EINVAL if its .symtab is corrupt. The layout is DWARF's
 * when the runtime types are there, else the built-in table's.
 */
int goproc__status(const struct goproc *gp);

/*
 * Human-readable reason of the last failure of goproc__open()'s checks or of
 * a query ("no .symtab (stripped with -s?): runtime.allgs has no address;
 * .gopclntab names functions only"). Never NULL; "" if nothing failed. Valid
 * until the next call on gp.
 */
const char *goproc__reason(const struct goproc *gp);

enum goproc_layout goproc__layout(const struct goproc *gp);

/* Load bias subtracted from runtime addresses before pclntab lookups (PIE). */
uint64_t goproc__load_bias(const struct goproc *gp);

/* Toolchain version of the target (see govars__version(): also without .go.buildinfo). */
int goproc__version(const struct goproc *gp, struct go_version *ret);

/*
 * The runtime fields goproc reads, for diagnosis and for checking a
 * built-in table against a binary's DWARF. type is the DWARF struct name
 * ("runtime.g"), path the member path ("gFree.n"; atomic wrappers are
 * looked through; "" is the struct itself: offset 0, size its sizeof), as the
 * 1.17-1.22 runtime names it also where a later release's name resolved
 * ("gFree.size" in 1.25+). count/stride describe arrays (count 0 for scalars).
 */
struct goproc_field {
	const char *type;
	const char *path;
	bool present;		/* false: absent from this layout (optional field) */
	uint32_t offset;
	uint32_t size;		/* of the scalar, or of one array element */
	uint32_t count;
	uint32_t stride;
};

/* Number of fields (index range of goproc__field()). */
unsigned goproc__nr_fields(void);
/* Field i of gp's layout; -ERANGE past the end, -ENOTSUP if gp has none. */
int goproc__field(const struct goproc *gp, unsigned i, struct goproc_field *ret);
/*
 * The DWARF layout of the Go executable at path, without a process: fields
 * 0 .. min(n, goproc__nr_fields()) into ret (what goproc__field() reports for
 * a process running it). 0, or -ENOENT (no DWARF), -ENOTSUP (DWARF lacks a
 * runtime type goproc needs), -EINVAL (not ELF), -ENOMEM, open(2)'s -errno.
 * For scripts/go-layouts.sh, which generates the built-in tables.
 */
int goproc__dwarf_layout_of(const char *path, struct goproc_field *ret, unsigned n);
/*
 * Field i of the built-in table for Go major.minor on ELF machine
 * (EM_X86_64...); -ENOTSUP if there is no table for that combination.
 */
int goproc__builtin_field(int go_major, int go_minor, int elf_machine, unsigned i,
			  struct goproc_field *ret);

/* ---- goroutines ---- */

struct goproc_opts {
	uint64_t max_goroutines;	/* 0: GOPROC_MAX_GOROUTINES */
	uint32_t max_groups;		/* 0: GOPROC_MAX_GROUPS, per grouping; at most 1 << 20 */
};

/*
 * Live goroutines sharing one site. Strings point into gp's symbol tables and
 * stay valid until goproc__close().
 */
#define GOPROC_MAIN_GOROUTINE_PC	(~0ull)	/* the main goroutine's group's pc */

struct goproc_group {
	uint64_t pc;		/* runtime address: g.gopc (return PC of the `go`
				 * statement's call) or g.startpc */
	const char *func;	/* function containing pc (gopc - 1 for the creation
				 * site), NULL if pclntab knows none */
	const char *file;	/* NULL if unknown */
	int line;		/* of the `go` statement / of the function entry; 0 */
	const char *start_func;	/* by_creator only: the function its goroutines
				 * start in (g.startpc), NULL if they start in
				 * several or pclntab knows none */
	uint64_t count;		/* live goroutines */
	bool main_goroutine;	/* by_creator only: the main goroutine, which the
				 * runtime starts (func "runtime.main", no file,
				 * pc GOPROC_MAIN_GOROUTINE_PC) */
	uint64_t system;	/* of which system goroutines (see below) */
	uint64_t by_state[GOPROC_G_NR];
	uint64_t user_by_state[GOPROC_G_NR];	/* of the non-system ones */
	int top_wait_reason;	/* most common g.waitreason among the waiting, -1 if none */
	const char *top_wait_reason_str;	/* its text from the target's
						 * runtime.waitReasonStrings, NULL if unknown */
	uint64_t top_wait_count;
};

/*
 * Counts. "live" is every g in runtime.allgs whose status is neither _Gidle
 * nor _Gdead. A "system" goroutine is what runtime.isSystemGoroutine(g,
 * false) calls one: its start function is in package runtime, except
 * runtime.main (runfinq, the finalizer goroutine, counts as system, as it
 * does in sched.ngsys). So user = live - system is what NumGoroutine()
 * counts, and gcount is NumGoroutine's own formula on the runtime's counters:
 *   allglen - sched.gFree.n - sched.ngsys - sum(allp[i].gFree.n), at least 1
 * (1.25+: sched.gFree.stack.size + .noStack.size, allp[i].gFree.size).
 * At rest the two agree; they differ while goroutines start or exit during
 * the walk, since neither is read atomically with the other.
 */
struct goproc_goroutines {
	uint64_t allglen;	/* runtime.allglen as read */
	uint64_t walked;	/* g pointers examined */
	bool truncated;		/* stopped at opts.max_goroutines */
	uint64_t unreadable;	/* g pointers that were NULL, unaligned, did not
				 * read, or held an impossible status */
	uint64_t live;
	uint64_t user;
	uint64_t system;
	uint64_t dead;		/* _Gdead, _Gidle (free-list g's) or 1.26's
				 * _Gdeadextra (parked on a cgo extra M) */
	uint64_t by_state[GOPROC_G_NR];	/* of the live */
	uint64_t user_by_state[GOPROC_G_NR];	/* of the user ones: they add up to user */
	int64_t gcount;
	int gcount_err;		/* 0, or -errno if gcount could not be computed */
	uint64_t ungrouped;	/* live g's not grouped because max_groups was hit */
	size_t nr_by_creator;
	struct goproc_group *by_creator;	/* by g.gopc, count descending */
	size_t nr_by_start;
	struct goproc_group *by_start;		/* by g.startpc, count descending */
};

/*
 * Walk runtime.allgs. opts may be NULL. *ret is allocated; free it with
 * goproc_goroutines__free(). Errors: goproc__status()'s, -ESRCH (target
 * gone), -EPERM (not allowed to read it), -EFAULT (allgs or its header do not
 * read: wrong layout or target exiting), -E2BIG (allgs is not a sane slice),
 * -ENOMEM.
 */
int goproc__goroutines(struct goproc *gp, const struct goproc_opts *opts,
		       struct goproc_goroutines **ret);
void goproc_goroutines__free(struct goproc_goroutines *g);

/* ---- heap ---- */

/* goproc_heap.valid bits for the fields that may be unavailable. */
#define GOPROC_HEAP_SYS		(1u << 0)	/* sys */
#define GOPROC_HEAP_NEXT_GC	(1u << 1)	/* next_gc */
#define GOPROC_HEAP_MCACHE	(1u << 2)	/* mcache_unflushed was computed */
#define GOPROC_HEAP_LIVE	(1u << 3)	/* live_after_last_gc */

/*
 * Same meaning as the runtime.MemStats fields of the same names. The
 * cumulative and in-use numbers are the sum of the three generations of
 * memstats.heapStats (what the runtime's unsafeRead() sums), plus what the
 * per-P caches have allocated but not flushed yet (ReadMemStats flushes them
 * first; we cannot, so we count their spans' used slots instead).
 */
struct goproc_heap {
	uint64_t heap_alloc;
	uint64_t total_alloc;
	uint64_t mallocs;
	uint64_t frees;
	uint64_t heap_objects;
	uint64_t heap_inuse;
	uint64_t heap_idle;
	uint64_t heap_released;
	uint64_t heap_sys;
	uint64_t stack_inuse;
	uint64_t sys;
	uint64_t next_gc;
	uint32_t num_gc;
	/*
	 * The heap the last finished GC marked live (gcController.heapMarked:
	 * gctrace's third figure in "X->Y->Z MB", runtime/metrics'
	 * /gc/heap/live:bytes). What the program really holds, without the
	 * garbage heap_alloc still counts until the next GC.
	 */
	uint64_t live_after_last_gc;
	uint64_t mcache_unflushed;	/* bytes in heap_alloc that came from P caches */
	unsigned valid;			/* GOPROC_HEAP_* */
	/* why next_gc / live_after_last_gc is not valid: static strings, or NULL */
	const char *next_gc_why;
	const char *live_why;
};

/*
 * Read heap statistics. Errors: goproc__status()'s, -ESRCH, -EPERM,
 * -EFAULT (a runtime global does not read), -EAGAIN (three snapshots in a
 * row contradicted themselves: the target was too busy).
 */
int goproc__heap(struct goproc *gp, struct goproc_heap *ret);

/* ---- heap profile ---- */

/*
 * The runtime samples about one allocation per runtime.MemProfileRate bytes
 * (512 KiB by default) and keeps, per allocation stack and size, a bucket in
 * the list runtime.mbuckets. goproc reads that list as runtime.MemProfile()
 * would report it, i.e. what `go tool pprof` shows for /debug/pprof/heap:
 * the "active" cycle, complete as of the last finished GC (so up to two
 * cycles old), plus the cycle a GC is publishing right now; if no GC has
 * published anything yet, every cycle recorded so far (MemProfile does the
 * same). Counts are of SAMPLED objects; see goproc__heap_unsample().
 */

/* One frame of a bucket's stack. */
struct goproc_frame {
	uint64_t pc;		/* as recorded: a return address (runtime address) */
	const char *func;	/* innermost function at pc - 1 (the call), NULL if
				 * pclntab knows none: the runtime records one PC per
				 * inlined call, so each is one frame, as in pprof */
	const char *file;	/* of pc - 1, NULL if unknown */
	int line;		/* of pc - 1, 0 if unknown */
	bool inlined;		/* func is inlined into the next frame's function */
};

/* Counts as runtime.MemProfileRecord has them: in-use = allocated - freed. */
struct goproc_heap_counts {
	int64_t alloc_objects;
	int64_t alloc_bytes;
	int64_t inuse_objects;
	int64_t inuse_bytes;
};

struct goproc_heap_bucket {
	uint64_t addr;		/* of the runtime's bucket in the target */
	uint64_t size;		/* bucket.size: the size of every object sampled here */
	struct goproc_heap_counts sampled;
	uint32_t nr_frames;	/* bucket.nstk (at most GOPROC_PROF_MAX_STACK, 32
				 * up to 1.22), less the runtime's leading frames */
	struct goproc_frame *frames;	/* [0] is the leaf: the function that
					 * allocated. Like runtime/pprof, the
					 * leading frames of package runtime and
					 * internal/runtime/... (1.26 records
					 * mallocgc's helpers) are dropped unless
					 * every frame is the runtime's */
};

/*
 * Memory: about 40 bytes per frame and 100 per bucket walked. Up to 1.22 a
 * bucket has at most 32 frames (1.4 KiB); since 1.23 up to 1024 (the
 * default records 128), so a hostile target could make a bucket cost 40
 * KiB: lower max_buckets for such targets. Real programs have thousands of
 * buckets of ~10-30 frames.
 */
struct goproc_heap_profile_opts {
	uint64_t max_buckets;	/* 0: GOPROC_MAX_BUCKETS; at most 1 << 24 */
	bool inuse_only;	/* drop buckets whose bytes were all freed
				 * (MemProfile(p, false)); default: keep them (pprof) */
};

struct goproc_heap_profile {
	int64_t rate;		/* runtime.MemProfileRate as read now; like pprof
				 * we assume it never changed */
	uint64_t walked;	/* buckets read from the list */
	bool truncated;		/* stopped at opts.max_buckets */
	bool looped;		/* the list came back to a bucket already read:
				 * walk stopped there, every bucket kept once */
	bool torn;		/* a GC published a cycle during each of 3 walks:
				 * buckets may straddle it */
	bool unpublished;	/* no GC has published a cycle yet: counts are
				 * every recorded cycle (as MemProfile reports) */
	int stop_err;		/* why the walk stopped early (goproc__reason()
				 * says where): 0 the list ended (or truncated,
				 * looped); -EFAULT a bucket did not read; -EINVAL
				 * a bucket that is not a memory-profile bucket
				 * (type, more PCs than the release records,
				 * misaligned) */
	uint64_t skipped_zero;	/* buckets dropped by opts.inuse_only */
	struct goproc_heap_counts total_sampled;	/* sum over buckets */
	struct goproc_heap_counts total_unsampled;	/* sum of each bucket unsampled */
	size_t nr_buckets;
	struct goproc_heap_bucket *buckets;	/* inuse_bytes descending */
	size_t nr_frames;
	struct goproc_frame *frames;	/* storage of every bucket's frames */
};

/*
 * Read the heap profile into *ret (zeroed first; free its contents with
 * goproc_heap_profile__free(), also after an error). Strings point into gp's
 * symbol tables and stay valid until goproc__close(). o may be NULL.
 * Errors: goproc__status()'s, -ENOENT (runtime.mbuckets or MemProfileRate
 * is not in .symtab), -ENOTSUP (no layout for runtime.bucket/memRecord),
 * -ENODATA (memory profiling is off: MemProfileRate <= 0; the reason says
 * whether the linker turned it off), -ESRCH, -EPERM, -EFAULT (the list head
 * does not read), -ENOMEM. A list that breaks off is not an error: see
 * stop_err.
 */
int goproc__heap_profile(struct goproc *gp, const struct goproc_heap_profile_opts *o,
			 struct goproc_heap_profile *ret);
void goproc_heap_profile__free(struct goproc_heap_profile *p);

/*
 * Estimate the unsampled counts from sampled ones, as pprof does
 * (runtime/pprof's scaleHeapSample): each (objects, bytes) pair is scaled by
 * 1 / (1 - exp(-avg / rate)), avg = bytes / objects; a pair with a zero is
 * (0, 0); rate <= 1 leaves it unscaled. Apply it per bucket (all objects of
 * a bucket have one size), not to totals.
 */
/* runtime.MemProfileRate: 0 and *ret > 0 when the runtime samples allocations;
 * -ENODATA (reason says why) when profiling is off. */
int goproc__mem_profile_rate(struct goproc *gp, int64_t *ret);
/*
 * Set runtime.MemProfileRate, the runtime's public knob for its own
 * allocation sampler (what a program importing net/http/pprof keeps on);
 * 0 turns it off again. The only write memsight ever makes into a target.
 */
int goproc__set_mem_profile_rate(struct goproc *gp, int64_t rate);

void goproc__heap_unsample(const struct goproc_heap_counts *sampled, int64_t rate,
			   struct goproc_heap_counts *ret);

#endif /* MEMSIGHT_GOPROC_H */
