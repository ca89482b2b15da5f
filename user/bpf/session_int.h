/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * session_int.h - what the parts of a session share, for them only: the
 * state of struct ms_session and the calls one part makes into another.
 * session.c loads the skeleton and owns the targets; links.c holds probe
 * links and closes them (on the reaper thread when asked); attach.c finds
 * allocators and Go runtimes and attaches to them; ustack_ring.c receives
 * copied stacks and unwinds them; maps_read.c reads and purges the maps.
 *
 * The skeletons' types stay opaque here: a .c file that reads skel->maps
 * or skel->progs includes "memsight.skel.h" itself (the Makefile orders the
 * BPF build before the modules that name it).
 */
#ifndef MEMSIGHT_SESSION_INT_H
#define MEMSIGHT_SESSION_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "bpf/session.h"

struct bpf_link;
struct memsight_bpf;
struct memsight_session_bpf;
struct ring_buffer;
struct ustacks;
struct ustack_drain;
struct unwind_files;
struct probe_cache;
struct reaper;
struct fp_verdict;

/* Links owned together: per-function perf links and/or uprobe_multi fds. */
struct ms_linkset {
	struct bpf_link **links;
	size_t nlinks, cap;
	int *fds;
	size_t nfds;
	struct ms_linkset *next;	/* reaper queue */
};

/* System scope: one allocator library's probes, shared by its targets. */
struct ms_lib {
	uint32_t dev_major, dev_minor;
	uint64_t inode;
	unsigned int refs;
	unsigned int nprobes;
	struct ms_linkset links;
	struct ms_lib *next;
};

#define MS_TP_LINKS 10

struct ms_session {
	struct memsight_bpf *skel;
	struct probe_cache *probes;
	unsigned int nprobes_cached;
	struct reaper *reaper;
	/*
	 * Detached processes whose map entries are still to be deleted: with the
	 * reaper (the daemon), in one walk of each map for all of them
	 * (maps__purge_pending), not one walk each.
	 */
	uint32_t *purge_tgids;
	size_t npurge, purge_cap;
	struct ms_target *targets;
	struct ms_lib *libs;
	struct bpf_link *tp_links[MS_TP_LINKS];
	uint64_t procstats_full;	/* attaches whose procstats entry found no room */
	bool kmem;
	uint32_t next_gen;
	bool multi;		/* uprobe_multi links (kernel >= 6.6) */
	/* uprobe sessions (kernel >= 6.12): entry decides whether the return traps */
	struct memsight_session_bpf *sess;
	bool system_scope;
	uint64_t go_sample_bytes;
	uint64_t c_sample_bytes;
	bool go_mallocgc;
	uint32_t stacks_per_pid;	/* 0: no quota */
	uint32_t dwarf_rate;		/* ms_session_opts.dwarf_rate */
	/* DWARF unwinding */
	enum ms_unwind unwind;
	struct ustack_drain *ustack_drain;	/* the ring, emptied on its own thread */
	struct ustacks *us;
	struct unwind_files *ufiles;	/* module files shared by every process's unwinder */
	struct ms_ustack_stats ust;
	struct fp_verdict *fp_cache;
};

static inline uint64_t ms_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

/* links.c */
void linkset__close(struct ms_linkset *ls);
int linkset__add(struct ms_linkset *ls, struct bpf_link *l);
/* A new uprobe_multi or session link (MS_TRACE_UPROBE_*) owned by ls: 0 or -errno. */
int linkset__add_multi(struct ms_linkset *ls, int prog_fd, uint32_t type, const char *path,
		       const uint64_t *offsets, const uint64_t *cookies, uint32_t cnt,
		       bool retprobe, pid_t pid);
/* Close (and free) a heap-allocated linkset: now, or on the reaper thread. */
void linkset__dispose(struct ms_session *s, struct ms_linkset *ls);
/* Wait until every queued link is closed, then stop the thread. */
void reaper__stop(struct ms_session *s);

/* attach.c */
/* Load the uprobe session programs if the kernel has them (else: without). */
void attach__open_sessions(struct ms_session *s);
/* Every allocator module of t and its Go runtime: 0, or -errno and nothing attached. */
int attach__target(struct ms_session *s, struct ms_target *t, char *errbuf, size_t errlen);
void attach__lib_unref(struct ms_session *s, struct ms_lib *lib);
void attach__cache_clear(struct ms_session *s);
/* The pid the kernel filters t's probes by (-1: every process, BPF filters). */
pid_t attach__probe_pid(struct ms_target *t);

/* attach_usdt.c */
/*
 * If t has the sampler library loaded, attach its USDT sites (and set or
 * read its mean): 1 attached, 0 no usable sampler (the uprobe path then),
 * -errno with *errbuf when it is there but cannot be attached.
 */
int attach__sampler(struct ms_session *s, struct ms_target *t, char *errbuf, size_t errlen);
/* Put the library's mean back if memsight changed it and it still holds ours. */
void attach__sampler_restore(struct ms_target *t);

/* ustack_ring.c */
int ustack_ring__open(struct ms_session *s, char *errbuf, size_t errlen);
/* After every target (and its unwinder) is gone. */
void ustack_ring__close(struct ms_session *s);
/* Unwind t's stacks with DWARF? Sets t->dwarf and t->dwarf_why if so. */
bool ustack_ring__wants_dwarf(struct ms_session *s, struct ms_target *t);

/* maps_read.c */
/* Delete tgid's entries: every generation (all) or all but keep_gen. */
void maps__purge_target(struct ms_session *s, uint32_t tgid, bool all, uint32_t keep_gen);
/* Every entry of a detached process: now, or queued for maps__purge_pending(). */
void maps__purge_detached(struct ms_session *s, uint32_t tgid);
/* Is tgid's purge still queued? */
bool maps__purge_queued(const struct ms_session *s, uint32_t tgid);

#endif /* MEMSIGHT_SESSION_INT_H */
