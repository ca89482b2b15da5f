/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * session.h - owns the BPF skeleton and the processes attached to it.
 *
 * Lifecycle (libbpf-bootstrap style): open -> size maps -> load -> attach
 * per target. Every probe is an fd-owned link: when the owner exits, the
 * kernel drops every probe, nothing stays attached.
 *
 * Two scopes:
 *  - process (default): each target gets its own links, filtered to its PID
 *    by the kernel, so no other process ever takes a trap;
 *  - system: one set of links per allocator library for every process
 *    (pid -1), shared by all targets using that library; the in-kernel pids
 *    map decides who is counted. Cheaper to add a process, but every
 *    process mapping a probed library traps while any target uses it.
 */
#ifndef MEMSIGHT_SESSION_H
#define MEMSIGHT_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "memsight_abi.h"
#include "target/procfs.h"

struct go_binary;
struct goproc;

/*
 * Stacks copied for DWARF unwinding per second and process, by default: each
 * costs the target ~5 us and memsight ~9 us of CPU here (README "Overhead").
 */
#define MS_DEF_DWARF_RATE	25000
#define MS_DWARF_RATE_MAX	1000000
#define MS_DWARF_UNBOUNDED	UINT32_MAX	/* --dwarf-rate 0 */

/* How C allocation stacks are walked. */
enum ms_unwind {
	/*
	 * DWARF for a process with any module built without frame pointers
	 * (Debian's libc, distro C/C++), sampled or not: at most dwarf_rate
	 * stacks per second and process are copied (the bound on the cost),
	 * the others walked by frame pointers. Frame pointers otherwise.
	 */
	MS_UNWIND_AUTO = 0,
	MS_UNWIND_FP,		/* in the kernel, by frame pointers only */
	MS_UNWIND_DWARF,	/* every recorded allocation, sampled or not */
};

struct ms_session_opts {
	uint32_t live_entries;		/* 0: MS_DEF_LIVE_ENTRIES */
	uint32_t stack_entries;		/* 0: MS_DEF_STACK_ENTRIES */
	uint32_t stacks_per_pid;	/* stacks one process may store; 0: no quota */
	uint32_t agg_entries;		/* 0: MS_DEF_AGG_ENTRIES */
	uint32_t max_pids;		/* 0: MS_DEF_PIDS */
	bool no_multi;			/* force per-function links (old kernels, tests) */
	bool system_scope;		/* pid -1 links per library + in-kernel filter */
	uint64_t go_sample_bytes;	/* 0: MS_DEF_GO_SAMPLE_BYTES */
	uint32_t fault_sample;		/* 0: MS_DEF_FAULT_SAMPLE (every Nth page fault) */
	bool kmem;			/* also count slab allocations per process */
	uint64_t c_sample_bytes;	/* sampled mode for C allocations; 0: every call.
					 * Also the Go sampling mean when set. */
	uint32_t events_bytes;		/* lifecycle ring buffer; 0: 256 KiB (power of 2, >= 4096) */
	bool go_mallocgc;		/* Go: probe every mallocgc call instead of the
					 * runtime's own sampler (never writes the target) */
	enum ms_unwind unwind;
	/* stacks copied for DWARF unwinding per second and process at most; past
	 * it, frame-pointer stacks (counted). 0: MS_DEF_DWARF_RATE. */
	uint32_t dwarf_rate;
	uint32_t ustack_ring_bytes;	/* copied stacks in flight; 0: MS_DEF_USTACK_RING,
					 * or ..._SAMPLED in sampled mode */
};

struct ms_linkset;
struct ms_lib;

/* One allocator library (or static executable) probed for a target. */
struct ms_module {
	char *path;		/* as mapped in the target ("/usr/lib/.../libc.so.6") */
	char *open_path;	/* how we reached it ("/proc/PID/root/...", map_files) */
	uint64_t inode;
	uint32_t dev_major, dev_minor;
	unsigned int nprobes;
	struct ms_lib *lib;	/* system scope: the shared link set used */
};

struct ms_target {
	pid_t pid;
	uint32_t gen;			/* data generation (ms_pid_cfg.gen) */
	uint64_t start_ticks;		/* identity: pid + start time */
	char comm[MS_COMM_LEN + 1];
	char *exe;
	struct ms_maps maps;		/* snapshot at attach, for symbolising after exit */
	struct ms_module *modules;
	size_t nmodules;
	struct ms_linkset *links;	/* process scope */
	/* Go: the executable's runtime, if it is a Go program */
	struct go_binary *gobin;	/* pclntab symbols (stripped binaries too) */
	char go_version[32];
	bool go_probed;			/* a Go allocation probe is attached */
	bool pid_filtered;		/* probes filtered by the kernel on the main thread's mm */
	bool go_mprof;			/* ... on runtime.mProf_Malloc (the runtime's sampler) */
	bool go_rate_set;		/* memsight turned the runtime's sampler on */
	int64_t go_rate;		/* runtime.MemProfileRate the samples come at */
	struct goproc *goproc;		/* live runtime reader, opened on first use */
	/* C: the sampler library's USDT sites instead of the malloc uprobes */
	bool usdt;
	bool sampler_mean_set;		/* memsight wrote the library's mean */
	uint64_t sampler_mean;		/* mean bytes between samples; 1: every allocation */
	uint64_t sampler_mean_orig;	/* the library's before memsight set it */
	uint64_t sampler_mean_addr;	/* memsight_sampler_mean_bytes in the process */
	uint64_t sampler_dropped_addr;	/* memsight_sampler_dropped; 0: not exported */
	uint64_t sampler_pending_addr;	/* memsight_sampler_pending; 0: not exported */
	uint64_t sampler_inode;		/* the library's file: its frames are hidden */
	uint32_t sampler_dev_major, sampler_dev_minor;
	/* DWARF unwinding of C allocation stacks (MS_PIDF_DWARF) */
	bool dwarf;
	char *dwarf_why;		/* why DWARF or frame pointers: the module that has no
					 * frame pointers, the option, or that all have them */
	struct unwinder *unw;		/* built on the first copied stack */
	uint64_t unw_built_ns;
	uint32_t unw_gen;		/* the generation (image) it was built for */
	void *user;			/* owner's per-target state */
	struct ms_target *next;
};

struct ms_session;

/* Open, size and load the BPF programs. -errno; *errbuf says why. */
int ms_session__open(const struct ms_session_opts *opts, struct ms_session **ret,
		     char *errbuf, size_t errlen);
void ms_session__close(struct ms_session *s);

/*
 * Attach the allocator probes to a running process. Finds every mapped ELF
 * that defines malloc (libc, jemalloc, a static executable), attaches
 * through /proc/PID/root (or /proc/PID/map_files when the file on disk is
 * not the one mapped), and starts counting. On failure nothing stays
 * attached and *errbuf says why. The calling process itself (any of its
 * threads) is refused: -EINVAL, "<program> does not watch itself".
 */
int ms_session__attach(struct ms_session *s, pid_t pid, struct ms_target **ret,
		       char *errbuf, size_t errlen);

/* Remove the probes (process scope) or the process from the filter, and
 * this process's map entries. */
void ms_session__detach(struct ms_session *s, struct ms_target *t);

/*
 * t has just exec'd a Go program that will map the C library probed before
 * (a cgo program, dynamically linked): its allocator probes stay, and the Go
 * runtime read from it (goroutines, heap: t->gobin, t->goproc) is now the
 * new program's. Its Go allocations are not sampled (t->go_probed false).
 * 0, -ENOEXEC (not a Go program).
 */
int ms_session__exec_go(struct ms_session *s, struct ms_target *t);

/* The process's current generation from the pids map; false if not there
 * (it exited). */
bool ms_session__current_gen(struct ms_session *s, const struct ms_target *t, uint32_t *ret);

struct ms_target *ms_session__targets(struct ms_session *s);
struct ms_target *ms_session__find(struct ms_session *s, pid_t pid);

/* True while the same process (pid + start time) is alive. */
bool ms_target__alive(const struct ms_target *t);
/*
 * t's main thread exited after its probes were attached with the kernel's
 * PID filter, which matches that thread's memory: the kernel may drop them
 * (whenever a probe on the same function is added or removed anywhere), so
 * they must be attached again, unfiltered, to keep the figures right.
 */
bool ms_session__probes_at_risk(const struct ms_session *s, const struct ms_target *t);
/* Read t's comm and exe from /proc again: at attach, and after an exec. */
void ms_target__read_names(struct ms_target *t);

/*
 * Close detached processes' links on background threads, and delete their
 * map entries in batches, at ms_session__purge_pending() (daemon use).
 */
int ms_session__async_detach(struct ms_session *s);

/* Delete the map entries of processes detached since the last call. */
void ms_session__purge_pending(struct ms_session *s);

/* Links (file descriptors) of detached processes handed to those threads. */
struct ms_link_stats {
	uint64_t closing;	/* queued or being closed now */
	uint64_t closing_max;	/* the most at once since start */
	uint64_t closed;
	unsigned int closers;	/* threads closing them */
};

void ms_session__link_stats(struct ms_session *s, struct ms_link_stats *ret);

/* Mean bytes between two sampled C allocations; 0: every allocation recorded. */
uint64_t ms_session__c_sample_bytes(const struct ms_session *s);

/* Mean bytes between two sampled Go allocations. */
uint64_t ms_session__go_sample_bytes(const struct ms_session *s);
/* One user page fault sampled in this many, in a process under the sampler at SAMPLER_MEAN (or 0) */
uint32_t ms_session__fault_pages(const struct ms_session *s, uint64_t sampler_mean);

/* True when probes are attached as uprobe_multi links. */
bool ms_session__multi(const struct ms_session *s);
/* ... and the allocating functions as uprobe sessions (a return traps only when needed). */
bool ms_session__sessions(const struct ms_session *s);
/* How probes are attached, for messages. */
const char *ms_session__link_kind(const struct ms_session *s);
/* Ask the BPF side to report every exec (rules need them). */
void ms_session__notify_exec(struct ms_session *s, bool on);


/*
 * Copied stacks (DWARF unwinding): the ring's epoll fd, and a drain that
 * unwinds what arrived. Reports drain first themselves; a loop that waits
 * should drain whenever the fd is readable, so the ring never fills.
 * Returns records handled or -errno.
 */
int ms_session__ustack_fd(const struct ms_session *s);
int ms_session__poll_ustacks(struct ms_session *s);

/*
 * Call fn for every (key, value) of the BPF hash map fd, read in batches of
 * 4096 (the syscalls are slow on this class of VM: size/4096 of them, not
 * 2 * size), or walked on kernels without batch operations. fn returns 0 to
 * go on, or -errno to stop, which is returned.
 */
int ms_map__for_each(int fd, size_t key_size, size_t val_size,
		     int (*fn)(const void *key, const void *val, void *ctx), void *ctx);

/* One (process, stack, kind) aggregate, with sample ids resolved. */
struct ms_agg_entry {
	struct ms_agg_key k;
	struct ms_agg_val v;
};

struct ms_aggs {
	struct ms_agg_entry *v;
	size_t n, cap;
};

/*
 * Every aggregate of process tgid (all processes if 0), sorted by (tgid,
 * gen, stack_id, kind): DWARF samples folded into their unwound stacks,
 * freed samples' totals included (their BPF entries are retired here to
 * bound the table). The copied-stack ring is drained first.
 */
int ms_session__read_aggs(struct ms_session *s, uint32_t tgid, struct ms_aggs *ret);
void ms_aggs__free(struct ms_aggs *a);

/* The stack id a live-table entry's stack_id stands for (sample ids resolved;
 * others unchanged, -1 for an unknown sample). */
int32_t ms_session__resolve_stack(const struct ms_session *s, int32_t stack_id);

/* Frames (return addresses, innermost first) of a resolved stack id: the
 * kernel's stack map or an unwound stack. Returns how many (0: none). */
uint32_t ms_session__stack_frames(const struct ms_session *s, uint32_t tgid, int32_t stack_id,
				  uint64_t *ips, uint32_t max);

struct ms_ustack_stats {
	uint64_t records;		/* copied stacks received */
	uint64_t unwound_frames;	/* frames found in them */
	uint64_t bad_records;		/* malformed or of no known process */
	uint64_t unbound;		/* could not be stored (table full, quota) */
	uint64_t queue_full;		/* dropped unread: the unwinder's queue at its cap */
	uint64_t quota_full;		/* ... of those, their process had its quota */
	uint64_t stacks, bindings, retired;	/* held now */
	uint64_t files;			/* module files open for unwinding */
};

void ms_session__ustack_stats(const struct ms_session *s, struct ms_ustack_stats *ret);

struct ms_map_usage {
	uint32_t live, aggs, stacks, pids;		/* entries in use */
	uint32_t live_max, aggs_max, stacks_max, pids_max;
	/*
	 * Memory the kernel charges for the maps now (their fdinfo's memlock):
	 * a hash map's bucket array is sized by max_entries up front, 16 B an
	 * entry rounded up to a power of two, even without preallocation; its
	 * elements cost when used. have_memlock false: not readable.
	 */
	bool have_memlock;
	uint64_t live_memlock, memlock;
};

/* Count map entries (walks the maps: not for hot paths). */
int ms_session__map_usage(struct ms_session *s, struct ms_map_usage *ret);

int ms_session__live_fd(const struct ms_session *s);
int ms_session__counters_fd(const struct ms_session *s);
/* Watched pids the procstats table had no room for (user space inserts those). */
uint64_t ms_session__procstats_full(const struct ms_session *s);
int ms_session__events_fd(const struct ms_session *s);
/* RSS as the rss_stat tracepoint saw it (-ENOENT before its first change). */
int ms_session__rss(const struct ms_session *s, pid_t pid, struct ms_rss *ret);
int ms_session__procstats(const struct ms_session *s, pid_t pid, struct ms_proc_stats *ret);
bool ms_session__kmem(const struct ms_session *s);
/*
 * The most bytes process pid held in tracked allocations at once (malloc
 * family, anonymous mmap) since attach or its exec: of the samples only when
 * sampled. -ENOENT: not watched.
 */
int ms_session__heap_peak(const struct ms_session *s, pid_t pid, uint64_t *ret);
/* Events of process pid not fully recorded (ms_pid_cfg.lost); -ENOENT: not watched. */
int ms_session__lost(const struct ms_session *s, pid_t pid, uint64_t *ret);

#endif /* MEMSIGHT_SESSION_H */
