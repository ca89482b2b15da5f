/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * memsight_abi.h - the only types shared between BPF programs and user space.
 *
 * Rules: fixed-width __u* types, explicit padding, no pointers, every struct's
 * size pinned by a _Static_assert so BPF and user space can never disagree.
 */
#ifndef MEMSIGHT_ABI_H
#define MEMSIGHT_ABI_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define MS_MAX_STACK_DEPTH	127	/* frames per stack trace */
#define MS_DEF_LIVE_ENTRIES	(1 << 20)	/* outstanding allocations tracked */
#define MS_DEF_STACK_ENTRIES	(1 << 16)	/* distinct stack traces (of all processes) */
#define MS_DEF_AGG_ENTRIES	(1 << 15)	/* (process, stack, kind) aggregates */
#define MS_DEF_PIDS		1024	/* processes watched at once */
#define MS_INFLIGHT_ENTRIES	(1 << 14)	/* threads inside an allocator call */

/* Which allocator entry point produced an allocation. */
enum ms_alloc_kind {
	MS_KIND_MALLOC = 0,
	MS_KIND_CALLOC,
	MS_KIND_REALLOC,
	MS_KIND_REALLOCARRAY,
	MS_KIND_POSIX_MEMALIGN,
	MS_KIND_ALIGNED_ALLOC,
	MS_KIND_MEMALIGN,
	MS_KIND_VALLOC,
	MS_KIND_PVALLOC,
	MS_KIND_MMAP,
	MS_KIND__MAX_C,		/* kinds below are C allocations matched with frees */
	MS_KIND_GO = MS_KIND__MAX_C,	/* Go allocations: sampled, freed by the GC unseen */
	MS_KIND_GO_INUSE,	/* user space only: the Go runtime's own in-use profile */
	MS_KIND_FAULT,		/* user page faults: code that first touches new memory */
	MS_KIND__MAX,
};

/*
 * The attach cookie of the entry program says which function was hit: an
 * allocating function's cookie is its enum ms_alloc_kind, the others follow;
 * above MS_COOKIE_HEAP_SHIFT, which allocator the function belongs to (enum
 * ms_heap). Whatever switches on the cookie masks it with MS_COOKIE_FN_MASK.
 */
enum ms_probe {
	MS_PROBE_FREE = 64,
	MS_PROBE_MUNMAP,
};

#define MS_COOKIE_HEAP_SHIFT	8
#define MS_COOKIE_FN_MASK	((1u << MS_COOKIE_HEAP_SHIFT) - 1)

/*
 * The allocator behind a probed malloc, as far as its usable size goes
 * (what an allocation costs with the allocator's rounding; see
 * memsight_usable.h): told at attach by the symbols its module exports.
 */
enum ms_heap {
	MS_HEAP_OTHER = 0,	/* usable size not read (musl, tcmalloc, unknown) */
	MS_HEAP_GLIBC,		/* glibc malloc: the chunk header before the block */
	MS_HEAP_JEMALLOC,	/* jemalloc 5: the size class of the request */
};

/* Global loss / event counters, indexes into the per-CPU "counters" array. */
enum ms_counter {
	MS_CNT_ALLOC_EVENTS = 0,	/* allocations recorded */
	MS_CNT_FREE_EVENTS,		/* frees that matched a tracked allocation */
	MS_CNT_FREE_UNKNOWN,		/* frees of pointers we never saw (pre-attach) */
	MS_CNT_STACK_ERR,		/* the user stack could not be read or stored */
	MS_CNT_STACK_COLLISION,		/* every id tried for a stack held another one */
	MS_CNT_LIVE_FULL,		/* live-allocation table full: alloc untracked */
	MS_CNT_AGG_FULL,		/* aggregate table full: alloc unaccounted */
	MS_CNT_INFLIGHT_FULL,		/* no slot for an in-progress call */
	MS_CNT_INFLIGHT_MISS,		/* a return without its entry */
	MS_CNT_NESTED,			/* allocator calls made inside another */
	MS_CNT_FAILED_ALLOC,		/* allocator returned NULL / error */
	MS_CNT_EVENTS_LOST,		/* ring buffer full: lifecycle event dropped */
	MS_CNT_GO_SAMPLES,		/* Go allocations sampled */
	MS_CNT_USTACK_SAMPLES,		/* user stacks copied for DWARF unwinding */
	MS_CNT_USTACK_LOST,		/* ... that could not be (ring full, unreadable
					 * stack): frame-pointer stack used instead */
	MS_CNT_USTACK_RING_FULL,	/* ... of those, because the ring was full */
	MS_CNT_PROC_TABLE_FULL,		/* a per-process table (rss) had no room for a pid */
	MS_CNT_STACK_TABLE_FULL,	/* the stack table was full: stack not stored */
	MS_CNT_STACK_QUOTA,		/* a process had its quota of stacks: not stored */
	MS_CNT_USTACK_RATE,		/* stacks not copied for DWARF unwinding: the
					 * process's copies per second were spent
					 * (frame-pointer stack instead) */
	MS_CNT_USDT_SAMPLES,		/* sampler-library (USDT) allocations recorded */
	MS_CNT_USDT_MEAN_OTHER,		/* ... of those, drawn with another mean than
					 * the process's ms_pid_cfg.usdt_mean (a
					 * countdown drawn before the mean changed):
					 * scaled with their own */
	MS_CNT_FREE_STALE,		/* sampler-library free records whose pointer was
					 * sampled again meanwhile (another tag): the
					 * newer sample kept */
	MS_CNT__MAX,
};

/* Key of the live-allocation table: one outstanding allocation. */
struct ms_live_key {
	__u32 tgid;
	__u32 gen;		/* ms_pid_cfg.gen at allocation: PID reuse and exec never mix */
	__u64 addr;
};

struct ms_live_val {
	__u64 size;
	__u64 ts_ns;		/* bpf_ktime_get_ns() at allocation */
	__s32 stack_id;		/* negative: no stack */
	__u16 kind;		/* enum ms_alloc_kind */
	__u16 tag;		/* the sampler library's tag of this sample
				 * (memsight_sampler.h); 0 elsewhere */
	__u64 usable;		/* the allocator's usable size; 0: not read */
	__u64 period;		/* ms_agg_key.period of its aggregate */
};

/*
 * The stack table (bpf/stacks.bpf.h): a process's user stack under an id of
 * its own, a hash of the frames below MS_USTACK_ID_BASE.
 */
struct ms_stack_key {
	__u32 tgid;
	__u32 id;
};

struct ms_stack_val {
	__u32 nr;		/* frames in ips; the rest are 0 */
	__u32 __pad;
	__u64 ips[MS_MAX_STACK_DEPTH];
};

/* Key of the aggregate table: one (process, call stack, allocator) triple. */
struct ms_agg_key {
	__u32 tgid;
	__s32 stack_id;
	__u32 kind;
	__u32 gen;		/* ms_pid_cfg.gen */
	/*
	 * Sampler library (USDT): the mean its samples were drawn with (the
	 * probe's third argument), so each is scaled with its own even when
	 * the mean changed while they were drawn; 0: recorded by the uprobes
	 * (every call, or memsight's own --sample-bytes: the session's mean).
	 */
	__u64 period;
};

/*
 * Running totals; in use = alloc - free. Updated with atomic adds so one
 * hash entry serves every CPU.
 */
struct ms_agg_val {
	__u64 alloc_bytes;
	__u64 alloc_count;
	__u64 free_bytes;
	__u64 free_count;
	/* the allocator's usable sizes of the allocations whose size was read */
	__u64 alloc_usable;
	__u64 free_usable;
	/* allocations (and their frees) whose usable size was not read */
	__u64 alloc_nousable;
	__u64 free_nousable;
};

/*
 * A thread that is inside an allocator call (entry seen, return pending).
 *
 * Nesting (reallocarray -> realloc, malloc -> mmap) is told apart by the
 * stack pointer, not a depth counter: a call entered deeper than the
 * recorded one (lower sp) is nested and ignored; a return whose sp is above
 * the recorded entry sp is the outer call's. State left behind by a thread
 * that died mid-call can therefore never swallow later calls for long: it
 * is replaced by the next call entered at or above its sp, or once stale.
 */
struct ms_inflight {
	__u64 size;		/* requested bytes (n * size for calloc) */
	__u64 old_addr;		/* realloc: the pointer being resized */
	__u64 out_ptr;		/* posix_memalign: where the result is stored */
	__u64 sp;		/* stack pointer at entry */
	__u64 ts_ns;		/* entry time, to expire stale state */
	__u64 ret_addr;		/* MS_INF_NORET: the return address at sp on entry */
	__u16 kind;		/* enum ms_alloc_kind */
	__u16 heap;		/* enum ms_heap */
	__u32 flags;		/* MS_INF_* */
};

#define MS_INF_IGNORE		(1u << 0)	/* tracked for nesting only (file mmap, unsampled) */
#define MS_INF_FREE_ONLY	(1u << 1)	/* unsampled realloc: only free the old block */
/*
 * Uprobe session: this call's return is not probed (its state is left
 * behind). It is still running exactly while its return address is still
 * at its entry sp: once it returned, the next call from its caller pushed
 * another over it, so a deeper call later is not taken for a nested one.
 */
#define MS_INF_NORET		(1u << 2)
#define MS_INFLIGHT_STALE_NS	(2ull * 1000 * 1000 * 1000)

/* Per-process settings; presence in the pid filter map means "watched". */
struct ms_pid_cfg {
	__u32 flags;
	/*
	 * Generation of this process's data: user space sets a fresh one at
	 * attach, BPF bumps it at exec (a new address space). Keys carry it,
	 * so data of an earlier process with the same PID, or of the image
	 * before exec, is never merged into the current one.
	 */
	__u32 gen;
	__u32 max_stacks;	/* stacks this process may store; 0: no quota */
	__u32 nstacks;		/* stacks it stored (BPF counts) */
	/*
	 * MS_PIDF_DWARF: stacks copied per second at most (0: no bound); past
	 * it, frame-pointer stacks (counted). BPF keeps the window.
	 */
	__u32 dwarf_per_s;
	__u32 dwarf_in_window;
	__u64 dwarf_window_ns;
	/*
	 * Events of this process not fully recorded (BPF counts): an
	 * allocation under "no stack" or not counted at all, as the daemon-wide
	 * counters of ms_loss__lower_bound() count them. Its figures are lower
	 * bounds when this is not 0; other processes' losses do not make them so.
	 */
	__u64 lost;
	/*
	 * Sampler library (USDT): the mean memsight set (or found); a sample
	 * drawn with another one is counted (MS_CNT_USDT_MEAN_OTHER) and
	 * recorded with its own (ms_agg_key.period).
	 */
	__u64 usdt_mean;
	/*
	 * Bytes of its live entries (the allocations in use that memsight
	 * tracks: malloc family, anonymous mmap) and their peak, BPF-kept;
	 * both start again at exec. Of the samples only, when sampled.
	 */
	__s64 heap_inuse;
	__u64 heap_peak;
};

#define MS_PIDF_NO_STACKS	(1u << 0)
#define MS_PIDF_GO_STACK_ABI	(1u << 1)	/* Go < 1.17: mallocgc's size is on the stack */
#define MS_PIDF_DWARF		(1u << 2)	/* C allocations: copy the user stack for
						 * DWARF unwinding in user space */
#define MS_PIDF_GO_MPROF_MP	(1u << 3)	/* Go >= 1.23: mProf_Malloc(mp, p, size):
						 * size is the third argument */

/*
 * DWARF unwinding. Code without frame pointers (Debian's libc, most distro
 * C/C++) cannot be walked in the kernel, so for a process flagged
 * MS_PIDF_DWARF the BPF side copies the registers the unwinder needs and the
 * stack from sp up (at most MS_USTACK_MAX bytes, never past the stack's
 * mapping) into the "ustacks" ring buffer; user space unwinds it with the
 * modules' CFI (.eh_frame / .debug_frame).
 *
 * Such an allocation cannot be aggregated by stack in the kernel (its stack
 * is not known there), so it gets an aggregate of its own under a sample id,
 * MS_SAMPLE_SID_BASE + a sequence number, in the stack_id field; user space
 * maps sample ids to unwound stacks and folds them together. Ids below
 * MS_USTACK_ID_BASE are the kernel stack map's; user space names unwound
 * stacks MS_USTACK_ID_BASE + n.
 */
#define MS_USTACK_MAX		(16 * 1024)
#define MS_USTACK_ID_BASE	(1 << 29)
#define MS_SAMPLE_SID_BASE	(1 << 30)
/*
 * Ring for copied stacks. Its pages are mapped twice into the consumer (for
 * records that wrap), so it costs up to twice its size in RSS: 8 MiB when
 * every stack is copied (--unwind dwarf), 2 MiB under auto (where
 * --dwarf-rate bounds the copies) and for samples.
 */
#define MS_DEF_USTACK_RING	(8 * 1024 * 1024)
#define MS_DEF_USTACK_RING_SAMPLED	(2 * 1024 * 1024)

/* x86-64 registers an unwinder needs: pc, sp and the callee-saved ones. */
enum ms_ureg {
	MS_UREG_IP = 0,
	MS_UREG_SP,
	MS_UREG_BP,
	MS_UREG_BX,
	MS_UREG_R12,
	MS_UREG_R13,
	MS_UREG_R14,
	MS_UREG_R15,
	MS_UREG__MAX,
};

/*
 * One copied stack: this header, then `size` bytes read from regs[MS_UREG_SP]
 * (the ring's record may be longer: its room is reserved before the copy).
 */
struct ms_ustack_hdr {
	__u32 tgid;
	__u32 tid;
	__u32 gen;		/* ms_pid_cfg.gen */
	__s32 sid;		/* the sample id its aggregate is kept under */
	__u64 regs[MS_UREG__MAX];
	__u32 size;
	__u32 kind;		/* enum ms_alloc_kind */
};

/*
 * Poisson sampling by bytes: the gap to the next sample is exponential with
 * mean sample_bytes. BPF has no logarithm, so user space fills a table of
 * -ln(u) * sample_bytes for u spread over (0, 1]; BPF picks an entry at random.
 */
#define MS_SAMPLE_TABLE		1024
#define MS_DEF_GO_SAMPLE_BYTES	(512 * 1024)

/* Process lifecycle events, BPF -> user space through the "events" ring buffer. */
enum ms_event_type {
	MS_EV_EXEC = 1,
	MS_EV_EXIT = 2,
	MS_EV_OOM_VICTIM = 3,	/* the OOM killer chose a watched process */
};

/* RSS of a watched process from the rss_stat tracepoint (pages). The mm's
 * counters are per-CPU: these are the kernel's own approximate sums, off by
 * at most the per-CPU batch (32 pages x CPUs). */
enum ms_rss_member { MS_RSS_FILE = 0, MS_RSS_ANON, MS_RSS_SWAP, MS_RSS_SHMEM, MS_RSS__MAX };

struct ms_rss {
	__s64 pages[MS_RSS__MAX];
	__s64 peak_pages;	/* max of file + anon + shmem since attach (or exec) */
	__u64 updates;
	__u64 peak_ns;		/* when peak_pages was reached (bpf_ktime_get_ns) */
};

#define MS_DEF_FAULT_SAMPLE	8	/* record every Nth user page fault */

/*
 * One user page fault in this many is sampled: every Nth (the session's
 * fault_sample), or, in a process under the sampler library at
 * SAMPLER_MEAN bytes (0 for any other), one per mean bytes of pages first
 * touched (512 KiB: every 128th), never more often than every Nth, at most
 * 2^20 pages (4 GiB) apart. Such a service pays one stack walk per mean
 * bytes of new memory, as for its allocations, not one per 32 KiB. 0: none
 * (fault stacks off). BPF samples with it, user space reports it.
 */
static inline __u32 ms_fault_pages(__u64 sampler_mean, __u32 every_nth)
{
	__u64 pages = sampler_mean / 4096;

	if (!every_nth || pages <= every_nth)
		return every_nth;
	return pages < (1u << 20) ? (__u32)pages : 1u << 20;
}

/* Per watched process, kept by BPF: threads (seeded from /proc at attach, then
 * task creation/exit) and, when kmem tracing is on, kernel allocations. */
struct ms_proc_stats {
	__s64 threads;
	__u64 threads_created;
	__s64 kmem_inuse;	/* bytes of slab allocations made in this process's
				 * context and not yet freed (freed anywhere) */
	__u64 kmem_allocs;
	__u64 kmem_frees;
};

struct ms_kptr_val {
	__u32 tgid;
	__u32 __pad;
	__u64 size;
};

#define MS_KPTR_ENTRIES		(1 << 17)

#define MS_EVF_WATCHED		(1u << 0)	/* the process was in the pids map */
#define MS_EV_FILENAME_LEN	256

struct ms_event {
	__u32 type;		/* enum ms_event_type */
	__u32 pid;		/* tgid */
	__u32 ppid;
	__u32 gen;		/* exec of a watched process: its new generation */
	__u64 start_ns;		/* task->start_boottime: with pid, the process's identity */
	__u32 exit_code;	/* exit: task->exit_code (signal in the low 7 bits) */
	__u32 flags;		/* MS_EVF_* */
	char comm[16];
	char filename[MS_EV_FILENAME_LEN];	/* exec: the path executed */
};

#ifdef __cplusplus
#define MS_STATIC_ASSERT static_assert
#else
#define MS_STATIC_ASSERT _Static_assert
#endif
MS_STATIC_ASSERT(sizeof(struct ms_live_key) == 16, "ms_live_key ABI");
MS_STATIC_ASSERT(sizeof(struct ms_live_val) == 40, "ms_live_val ABI");
MS_STATIC_ASSERT(sizeof(struct ms_agg_key) == 24, "ms_agg_key ABI");
MS_STATIC_ASSERT(sizeof(struct ms_agg_val) == 64, "ms_agg_val ABI");
MS_STATIC_ASSERT(sizeof(struct ms_inflight) == 56, "ms_inflight ABI");
MS_STATIC_ASSERT(sizeof(struct ms_pid_cfg) == 64, "ms_pid_cfg ABI");
MS_STATIC_ASSERT(sizeof(struct ms_stack_key) == 8, "ms_stack_key ABI");
MS_STATIC_ASSERT(sizeof(struct ms_stack_val) == 8 + 8 * MS_MAX_STACK_DEPTH, "ms_stack_val ABI");
MS_STATIC_ASSERT(sizeof(struct ms_event) == 304, "ms_event ABI");
MS_STATIC_ASSERT(sizeof(struct ms_rss) == 56, "ms_rss ABI");
MS_STATIC_ASSERT(sizeof(struct ms_proc_stats) == 40, "ms_proc_stats ABI");
MS_STATIC_ASSERT(sizeof(struct ms_kptr_val) == 16, "ms_kptr_val ABI");
MS_STATIC_ASSERT(sizeof(struct ms_ustack_hdr) == 88, "ms_ustack_hdr ABI");

#endif /* MEMSIGHT_ABI_H */
