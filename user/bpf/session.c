// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>

#include <linux/capability.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include <math.h>

#include "target/goproc.h"
#include "target/govars.h"
#include "bpf/probesite.h"
#include "target/goruntime.h"
#include "bpf/kernel.h"
#include "memsight.skel.h"
#include "memsight_session.skel.h"
#include "common/log.h"
#include "bpf/session.h"
#include "target/elf.h"
#include "bpf/unwind.h"
#include "bpf/ustacks.h"

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

struct probe_set;
struct ms_session;
static void probe_cache_clear(struct ms_session *s);

/* Probe offsets of a library already parsed: attaching to the 100th
 * process using this libc costs no ELF parsing. */
struct probe_cache {
	uint32_t dev_major, dev_minor;
	uint64_t inode, size;
	int64_t mtime_ns;
	struct probe_set *ps;
	struct probe_cache *next;
};

/*
 * Closing a uprobe link waits for an SRCU grace period in the kernel
 * (~0.1 s here). A daemon that detaches from many short-lived processes
 * hands the closing to this thread instead of stalling its event loop; the
 * process has left the pids map already, so the programs ignore it.
 */
struct reaper {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct ms_linkset *queue;	/* linksets to close, chained through ->next */
	bool stop;
};

struct ms_session {
	struct memsight_bpf *skel;
	struct probe_cache *probes;
	unsigned int nprobes_cached;
	struct reaper *reaper;
	struct ms_target *targets;
	struct ms_lib *libs;
	struct bpf_link *tp_links[10];
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
	/* DWARF unwinding */
	enum ms_unwind unwind;
	struct ring_buffer *ustack_rb;
	struct ustacks *us;
	struct unwind_files *ufiles;	/* module files shared by every process's unwinder */
	struct ms_ustack_stats ust;
	struct fp_verdict *fp_cache;
};

/* Frame pointers or not, per module file: judged once, not per process. */
struct fp_verdict {
	uint32_t dev_major, dev_minor;
	uint64_t inode;
	int err;
	bool fp;
	struct fp_verdict *next;
};

/* Functions probed in an allocator module, in priority order: when two
 * names share an address (glibc: aligned_alloc == memalign) the first wins,
 * so one call is never counted twice. The cookie tells ms_entry which it is. */
struct probe_fn {
	const char *name;
	uint64_t cookie;	/* enum ms_alloc_kind, or enum ms_probe */
	bool ret;		/* needs the return value */
};

static const struct probe_fn probe_fns[] = {
	{ "malloc", MS_KIND_MALLOC, true },
	{ "calloc", MS_KIND_CALLOC, true },
	{ "realloc", MS_KIND_REALLOC, true },
	{ "reallocarray", MS_KIND_REALLOCARRAY, true },
	{ "posix_memalign", MS_KIND_POSIX_MEMALIGN, true },
	{ "memalign", MS_KIND_MEMALIGN, true },
	{ "aligned_alloc", MS_KIND_ALIGNED_ALLOC, true },
	{ "valloc", MS_KIND_VALLOC, true },
	{ "pvalloc", MS_KIND_PVALLOC, true },
	{ "mmap", MS_KIND_MMAP, true },
	{ "free", MS_PROBE_FREE, false },
	{ "munmap", MS_PROBE_MUNMAP, false },
};

#define NPROBE_FNS (sizeof(probe_fns) / sizeof(probe_fns[0]))

__attribute__((format(printf, 3, 4)))
static void seterr(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (!buf || !len)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, len, fmt, ap);
	va_end(ap);
}

/* ---- links ---------------------------------------------------------- */

static void linkset_close(struct ms_linkset *ls)
{
	if (!ls)
		return;
	for (size_t i = 0; i < ls->nlinks; i++)
		bpf_link__destroy(ls->links[i]);
	for (size_t i = 0; i < ls->nfds; i++)
		close(ls->fds[i]);
	free(ls->links);
	free(ls->fds);
	memset(ls, 0, sizeof(*ls));
}

static int linkset_add(struct ms_linkset *ls, struct bpf_link *l)
{
	if (ls->nlinks == ls->cap) {
		size_t cap = ls->cap ? ls->cap * 2 : 32;
		struct bpf_link **v = realloc(ls->links, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		ls->links = v;
		ls->cap = cap;
	}
	ls->links[ls->nlinks++] = l;
	return 0;
}

static int linkset_add_fd(struct ms_linkset *ls, int fd)
{
	int *v = realloc(ls->fds, (ls->nfds + 1) * sizeof(*v));

	if (!v)
		return -ENOMEM;
	ls->fds = v;
	ls->fds[ls->nfds++] = fd;
	return 0;
}

static void *reaper_main(void *arg)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct none[2] = {};
	struct reaper *r = arg;

	/* closing fds needs no privilege: this thread keeps none */
	syscall(SYS_capset, &hdr, none);

	pthread_mutex_lock(&r->lock);
	for (;;) {
		struct ms_linkset *ls = r->queue;

		if (!ls) {
			if (r->stop)
				break;
			pthread_cond_wait(&r->cond, &r->lock);
			continue;
		}
		r->queue = ls->next;
		pthread_mutex_unlock(&r->lock);
		linkset_close(ls);
		free(ls);
		pthread_mutex_lock(&r->lock);
	}
	pthread_mutex_unlock(&r->lock);
	return NULL;
}

/* Close (and free) a heap-allocated linkset: now, or on the reaper thread. */
static void linkset_dispose(struct ms_session *s, struct ms_linkset *ls)
{
	struct reaper *r = s->reaper;

	if (!ls)
		return;
	if (!r || (!ls->nlinks && !ls->nfds)) {
		linkset_close(ls);
		free(ls);
		return;
	}
	pthread_mutex_lock(&r->lock);
	ls->next = r->queue;
	r->queue = ls;
	pthread_cond_signal(&r->cond);
	pthread_mutex_unlock(&r->lock);
}

int ms_session__async_detach(struct ms_session *s)
{
	struct reaper *r;
	int err;

	if (s->reaper)
		return 0;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	pthread_mutex_init(&r->lock, NULL);
	pthread_cond_init(&r->cond, NULL);
	err = pthread_create(&r->thread, NULL, reaper_main, r);
	if (err) {
		free(r);
		return -err;
	}
	s->reaper = r;
	return 0;
}

/* Wait until every queued link is closed, then stop the thread. */
static void reaper_stop(struct ms_session *s)
{
	struct reaper *r = s->reaper;

	if (!r)
		return;
	pthread_mutex_lock(&r->lock);
	r->stop = true;
	pthread_cond_signal(&r->cond);
	pthread_mutex_unlock(&r->lock);
	pthread_join(r->thread, NULL);
	pthread_mutex_destroy(&r->lock);
	pthread_cond_destroy(&r->cond);
	free(r);
	s->reaper = NULL;
}

static int uprobe_multi_link(int prog_fd, const char *path, const uint64_t *offsets,
			     const uint64_t *cookies, uint32_t cnt, bool retprobe, pid_t pid)
{
	return ms_uprobe_link(prog_fd, MS_TRACE_UPROBE_MULTI, path, offsets, cookies, cnt,
			      retprobe, pid);
}

/*
 * The session object shares every map of the main one; on any failure
 * (kernel before 6.12: no session links, no bpf_session_is_return) memsight
 * goes on with separate entry and return probes.
 */
static void open_sessions(struct ms_session *s)
{
	struct memsight_session_bpf *sk;
	struct bpf_map *m;
	int err;

	if (getenv("MEMSIGHT_NO_SESSION") || !ms_kfeatures()->has[MS_KF_UPROBE_SESSION]) {
		pr_debug("uprobe sessions: not used\n");
		return;
	}
	sk = memsight_session_bpf__open();
	if (!sk)
		return;
	bpf_object__for_each_map(m, sk->obj) {
		const struct bpf_map *mine;

		if (bpf_map__is_internal(m))
			continue;
		mine = bpf_object__find_map_by_name(s->skel->obj, bpf_map__name(m));
		err = mine ? bpf_map__reuse_fd(m, bpf_map__fd(mine)) : -ENOENT;
		if (err) {
			pr_debug("uprobe sessions: map %s: %s\n", bpf_map__name(m), strerror(-err));
			goto fail;
		}
	}
	sk->rodata->c_sample_bytes = s->c_sample_bytes;
	bpf_program__set_expected_attach_type(sk->progs.ms_alloc_session, MS_TRACE_UPROBE_SESSION);
	err = memsight_session_bpf__load(sk);
	if (err) {
		pr_debug("uprobe sessions: cannot load: %s\n", strerror(-err));
		goto fail;
	}
	s->sess = sk;
	return;
fail:
	memsight_session_bpf__destroy(sk);
}

struct probe_set {
	uint32_t moved[NPROBE_FNS];	/* bytes the probe sits past the entry */
	uint64_t offs[NPROBE_FNS];
	uint64_t cookies[NPROBE_FNS];
	const char *names[NPROBE_FNS];
	uint64_t ret_offs[NPROBE_FNS];
	uint32_t n, nret;
};

/* Per-function perf-event uprobes: any kernel, one link (and one teardown) each. */
static int attach_one(struct ms_linkset *ls, struct bpf_program *prog, pid_t pid,
		      const char *path, uint64_t off, uint64_t cookie, bool retprobe)
{
	LIBBPF_OPTS(bpf_uprobe_opts, uo, .bpf_cookie = cookie, .retprobe = retprobe);
	struct bpf_link *l;
	int err;

	l = bpf_program__attach_uprobe_opts(prog, pid, path, off, &uo);
	if (!l)
		return -errno;
	err = linkset_add(ls, l);
	if (err)
		bpf_link__destroy(l);
	return err;
}

/* Attach a module's probe set for pid (-1: every process) into ls. */
static int attach_set(struct ms_session *s, struct ms_linkset *ls, pid_t pid, const char *path,
		      const struct probe_set *ps, char *errbuf, size_t errlen)
{
	for (uint32_t i = 0; i < ps->n; i++)
		if (ps->moved[i])
			pr_debug("%s: probe on %s+%u (emulated, not single-stepped)\n", path,
				 ps->names[i], ps->moved[i]);
	struct bpf_program *entry = s->skel->progs.ms_entry, *ret = s->skel->progs.ms_alloc_ret;
	const char *what = "entry";
	int err = 0, fd;

	if (s->sess) {
		/* allocating functions: one session; free and munmap: entry only */
		uint64_t aoffs[NPROBE_FNS], acookies[NPROBE_FNS], eoffs[NPROBE_FNS], ecookies[NPROBE_FNS];
		uint32_t na = 0, ne = 0;

		for (uint32_t i = 0; i < ps->n; i++) {
			if (ps->cookies[i] < MS_PROBE_FREE) {
				aoffs[na] = ps->offs[i];
				acookies[na++] = ps->cookies[i];
			} else {
				eoffs[ne] = ps->offs[i];
				ecookies[ne++] = ps->cookies[i];
			}
		}
		if (ne) {
			fd = uprobe_multi_link(bpf_program__fd(entry), path, eoffs, ecookies, ne, false,
					       pid);
			if (fd < 0 || (err = linkset_add_fd(ls, fd))) {
				err = fd < 0 ? fd : err;
				goto fail;
			}
		}
		what = "session";
		fd = ms_uprobe_link(bpf_program__fd(s->sess->progs.ms_alloc_session),
				 MS_TRACE_UPROBE_SESSION, path, aoffs, acookies, na, false, pid);
		if (fd < 0 || (err = linkset_add_fd(ls, fd))) {
			err = fd < 0 ? fd : err;
			goto fail;
		}
		return 0;
	}
	if (s->multi) {
		fd = uprobe_multi_link(bpf_program__fd(entry), path, ps->offs, ps->cookies, ps->n,
				       false, pid);
		if (fd < 0 || (err = linkset_add_fd(ls, fd))) {
			err = fd < 0 ? fd : err;
			goto fail;
		}
		what = "return";
		fd = uprobe_multi_link(bpf_program__fd(ret), path, ps->ret_offs, NULL, ps->nret,
				       true, pid);
		if (fd < 0 || (err = linkset_add_fd(ls, fd))) {
			err = fd < 0 ? fd : err;
			goto fail;
		}
		return 0;
	}
	for (uint32_t i = 0; i < ps->n; i++) {
		what = ps->names[i];
		err = attach_one(ls, entry, pid, path, ps->offs[i], ps->cookies[i], false);
		if (err)
			goto fail;
	}
	for (uint32_t i = 0; i < ps->nret; i++) {
		what = "return";
		err = attach_one(ls, ret, pid, path, ps->ret_offs[i], 0, true);
		if (err)
			goto fail;
	}
	return 0;
fail:
	seterr(errbuf, errlen, "cannot attach %s probes in %s: %s", what, path, strerror(-err));
	return err;
}

/* ---- session ---------------------------------------------------------- */

/* Load only the tracepoint programs (and flavours) the running kernel has. */
static void disable_missing_tracepoints(struct memsight_bpf *skel)
{
	const struct ms_kfeatures *kf = ms_kfeatures();

	bpf_program__set_autoload(skel->progs.ms_rss_stat, kf->has[MS_KF_RSS_STAT]);
	bpf_program__set_autoload(skel->progs.ms_fault, kf->has[MS_KF_PAGE_FAULT_USER]);
	/* the task flavour is only ever found on a kernel that has the tracepoint */
	bpf_program__set_autoload(skel->progs.ms_oom_victim, kf->has[MS_KF_MARK_VICTIM_TASK]);
	bpf_program__set_autoload(skel->progs.ms_oom_victim_pid,
				  kf->has[MS_KF_MARK_VICTIM] && !kf->has[MS_KF_MARK_VICTIM_TASK]);
}

/* Exponential gaps with the given mean: entry i is -ln((i + 0.5) / N) * mean. */
static int fill_sample_gaps(int fd, uint64_t mean)
{
	for (uint32_t i = 0; i < MS_SAMPLE_TABLE; i++) {
		double u = (i + 0.5) / MS_SAMPLE_TABLE;
		uint64_t gap = (uint64_t)(-log(u) * (double)mean);

		if (bpf_map_update_elem(fd, &i, &gap, BPF_ANY))
			return -errno;
	}
	return 0;
}

/*
 * Attach every tracepoint program that was loaded: 0, or -errno with the one
 * that failed named (what the user loses without it, and the program).
 */
static int attach_tps(struct ms_session *s, char *errbuf, size_t errlen)
{
	const struct {
		struct bpf_program *prog;
		const char *what;
	} tps[] = {
		{ s->skel->progs.ms_exec, "process exec" },
		{ s->skel->progs.ms_exit, "process exit" },
		{ s->skel->progs.ms_rss_stat, "RSS changes" },
		{ s->skel->progs.ms_fault, "page-fault stacks" },
		{ s->skel->progs.ms_oom_victim, "OOM victim" },
		{ s->skel->progs.ms_oom_victim_pid, "OOM victim" },
		{ s->skel->progs.ms_newtask, "thread counts" },
		{ s->skel->progs.ms_kmalloc, "kernel allocations" },
		{ s->skel->progs.ms_kmem_cache_alloc, "kernel allocations" },
		{ s->skel->progs.ms_kfree, "kernel allocations" },
		{ s->skel->progs.ms_kmem_cache_free, "kernel allocations" },
	};
	size_t n = 0;
	int err;

	for (size_t i = 0; i < sizeof(tps) / sizeof(tps[0]); i++) {
		if (!bpf_program__autoload(tps[i].prog))
			continue;
		if (n >= sizeof(s->tp_links) / sizeof(s->tp_links[0])) {
			seterr(errbuf, errlen, "more tracepoint programs than link slots");
			return -E2BIG;
		}
		s->tp_links[n] = bpf_program__attach(tps[i].prog);
		if (!s->tp_links[n]) {
			err = -errno;
			seterr(errbuf, errlen, "cannot attach the %s tracepoint (%s): %s",
			       tps[i].what, bpf_program__name(tps[i].prog), strerror(-err));
			return err;
		}
		n++;
	}
	return 0;
}

static int on_ustack(void *ctx, void *data, size_t size);

int ms_session__open(const struct ms_session_opts *opts, struct ms_session **ret,
		     char *errbuf, size_t errlen)
{
	struct ms_session_opts o = opts ? *opts : (struct ms_session_opts){};
	const char *unusable;
	struct ms_session *s;
	int err;

	/* what memsight cannot do without, said before the verifier says it less clearly */
	unusable = ms_kfeatures__unusable(ms_kfeatures());
	if (unusable) {
		seterr(errbuf, errlen, "%s", unusable);
		return -EOPNOTSUPP;
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->next_gen = 1;
	s->system_scope = o.system_scope;
	s->skel = memsight_bpf__open();
	if (!s->skel) {
		err = -errno;
		seterr(errbuf, errlen, "cannot open BPF object: %s", strerror(-err));
		goto fail;
	}
	bpf_map__set_max_entries(s->skel->maps.live, o.live_entries ?: MS_DEF_LIVE_ENTRIES);
	bpf_map__set_max_entries(s->skel->maps.stacks, o.stack_entries ?: MS_DEF_STACK_ENTRIES);
	/*
	 * Each live DWARF-unwound allocation holds an aggregate of its own until
	 * freed: unwinding every stack needs room for as many as the live table
	 * (entries cost memory only when used: BPF_F_NO_PREALLOC).
	 */
	bpf_map__set_max_entries(s->skel->maps.aggs, o.agg_entries ?:
				 o.unwind == MS_UNWIND_DWARF ||
				 (o.unwind == MS_UNWIND_AUTO && o.c_sample_bytes) ?
				 (o.live_entries ?: MS_DEF_LIVE_ENTRIES) : MS_DEF_AGG_ENTRIES);
	/* one entry per watched pid in each per-process table: sized together */
	bpf_map__set_max_entries(s->skel->maps.pids, o.max_pids ?: MS_DEF_PIDS);
	bpf_map__set_max_entries(s->skel->maps.rss, o.max_pids ?: MS_DEF_PIDS);
	bpf_map__set_max_entries(s->skel->maps.procstats, o.max_pids ?: MS_DEF_PIDS);
	if (o.events_bytes)
		bpf_map__set_max_entries(s->skel->maps.events, o.events_bytes);
	/* copied stacks need room only where some process may be unwound with DWARF */
	s->unwind = o.unwind;
	if (o.unwind == MS_UNWIND_DWARF && !o.c_sample_bytes)
		bpf_map__set_max_entries(s->skel->maps.ustacks,
					 o.ustack_ring_bytes ?: MS_DEF_USTACK_RING);
	else if (o.unwind != MS_UNWIND_FP && o.c_sample_bytes)
		bpf_map__set_max_entries(s->skel->maps.ustacks,
					 o.ustack_ring_bytes ?: MS_DEF_USTACK_RING_SAMPLED);
	else
		bpf_map__set_max_entries(s->skel->maps.ustacks, 4096);
	/* kernels without one of the mm tracepoints still get everything else */
	disable_missing_tracepoints(s->skel);
	/* kmem tracepoints fire for every slab allocation on the host: opt-in */
	s->kmem = o.kmem;
	if (!o.kmem) {
		bpf_program__set_autoload(s->skel->progs.ms_kmalloc, false);
		bpf_program__set_autoload(s->skel->progs.ms_kmem_cache_alloc, false);
		bpf_program__set_autoload(s->skel->progs.ms_kfree, false);
		bpf_program__set_autoload(s->skel->progs.ms_kmem_cache_free, false);
		bpf_map__set_max_entries(s->skel->maps.kptrs, 1);
	}
	s->skel->rodata->fault_sample = o.fault_sample ?: MS_DEF_FAULT_SAMPLE;
	s->c_sample_bytes = o.c_sample_bytes;
	s->go_mallocgc = o.go_mallocgc;
	s->stacks_per_pid = o.stacks_per_pid;
	s->skel->rodata->c_sample_bytes = o.c_sample_bytes;
	s->multi = !o.no_multi && ms_kfeatures()->has[MS_KF_UPROBE_MULTI];
	if (s->multi) {
		bpf_program__set_expected_attach_type(s->skel->progs.ms_go_malloc,
						      MS_TRACE_UPROBE_MULTI);
		bpf_program__set_expected_attach_type(s->skel->progs.ms_go_mprof,
						      MS_TRACE_UPROBE_MULTI);
		bpf_program__set_expected_attach_type(s->skel->progs.ms_entry, MS_TRACE_UPROBE_MULTI);
		bpf_program__set_expected_attach_type(s->skel->progs.ms_alloc_ret,
						      MS_TRACE_UPROBE_MULTI);
	}
	err = memsight_bpf__load(s->skel);
	if (err) {
		if (err == -EPERM || err == -EACCES)
			seterr(errbuf, errlen,
			       "cannot load BPF programs: %s (memsight needs root, or CAP_BPF + "
			       "CAP_PERFMON + CAP_SYS_PTRACE)", strerror(-err));
		else
			seterr(errbuf, errlen, "cannot load BPF programs: %s (run with -v for "
			       "the verifier log)", strerror(-err));
		goto fail;
	}
	/* one table of gaps serves both: --sample-bytes sets the mean for both */
	s->go_sample_bytes = o.c_sample_bytes ?: o.go_sample_bytes ?: MS_DEF_GO_SAMPLE_BYTES;
	err = fill_sample_gaps(bpf_map__fd(s->skel->maps.sample_gaps), s->go_sample_bytes);
	if (err) {
		seterr(errbuf, errlen, "cannot set up sampling: %s", strerror(-err));
		goto fail;
	}
	if (s->multi)
		open_sessions(s);
	s->us = ustacks__new(0, 0);
	s->ufiles = unwind_files__new();
	s->ustack_rb = ring_buffer__new(bpf_map__fd(s->skel->maps.ustacks), on_ustack, s, NULL);
	if (!s->us || !s->ufiles || !s->ustack_rb) {
		err = -errno ?: -ENOMEM;
		seterr(errbuf, errlen, "cannot set up stack unwinding: %s", strerror(-err));
		goto fail;
	}
	/*
	 * Every program that loaded is attached or the session fails: the kernel
	 * has each of them (disable_missing_tracepoints() left out the others,
	 * and says so in "kernel lacks"), so a failure here is not a missing
	 * feature but something to report.
	 */
	err = attach_tps(s, errbuf, errlen);
	if (err)
		goto fail;
	*ret = s;
	return 0;
fail:
	for (size_t i = 0; i < sizeof(s->tp_links) / sizeof(s->tp_links[0]); i++)
		bpf_link__destroy(s->tp_links[i]);
	ring_buffer__free(s->ustack_rb);
	ustacks__free(s->us);
	unwind_files__free(s->ufiles);
	memsight_session_bpf__destroy(s->sess);
	memsight_bpf__destroy(s->skel);
	free(s);
	return err;
}

static void lib_unref(struct ms_session *s, struct ms_lib *lib)
{
	struct ms_lib **pp;
	struct ms_linkset *ls;

	if (!lib || --lib->refs)
		return;
	for (pp = &s->libs; *pp; pp = &(*pp)->next) {
		if (*pp == lib) {
			*pp = lib->next;
			break;
		}
	}
	ls = malloc(sizeof(*ls));
	if (ls) {
		*ls = lib->links;
		linkset_dispose(s, ls);
	} else {
		linkset_close(&lib->links);
	}
	free(lib);
}

static void target_free(struct ms_session *s, struct ms_target *t)
{
	if (!t)
		return;
	linkset_dispose(s, t->links);
	/*
	 * The runtime's sampler was off before memsight turned it on: off again,
	 * if the word still holds our rate (not after an exec, nor if the
	 * program set its own since).
	 */
	if (t->go_rate_set && t->goproc) {
		int64_t now = 0;

		if (goproc__mem_profile_rate(t->goproc, &now) == 0 && now == t->go_rate)
			goproc__set_mem_profile_rate(t->goproc, 0);
	}
	for (size_t i = 0; i < t->nmodules; i++) {
		lib_unref(s, t->modules[i].lib);
		free(t->modules[i].path);
		free(t->modules[i].open_path);
	}
	free(t->modules);
	ms_maps__free(&t->maps);
	go_binary__close(t->gobin);
	goproc__close(t->goproc);
	unwinder__free(t->unw);
	free(t->dwarf_why);
	free(t->exe);
	free(t);
}

/*
 * Delete the keys of this tgid (every generation, or all but keep_gen) from
 * a map keyed by a struct starting with { tgid, ... } and holding gen at
 * gen_off. Keys are gathered in one walk and deleted afterwards: deleting
 * while walking can restart the walk from the first bucket (O(n * buckets)).
 */
static void purge(int fd, size_t key_size, size_t gen_off, uint32_t tgid, bool all,
		  uint32_t keep_gen)
{
	uint8_t key[64], next[64], *keys = NULL;
	size_t n = 0, cap = 0;
	bool have = false;

	if (key_size > sizeof(key))
		return;
	while (bpf_map_get_next_key(fd, have ? key : NULL, next) == 0) {
		uint32_t k_tgid, k_gen;

		memcpy(key, next, key_size);
		have = true;
		memcpy(&k_tgid, next, sizeof(k_tgid));
		memcpy(&k_gen, next + gen_off, sizeof(k_gen));
		if (k_tgid != tgid || (!all && k_gen == keep_gen))
			continue;
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 1024;
			uint8_t *v = realloc(keys, ncap * key_size);

			if (!v)
				break;	/* what we cannot delete ages out with the session */
			keys = v;
			cap = ncap;
		}
		memcpy(keys + n * key_size, next, key_size);
		n++;
	}
	for (size_t i = 0; i < n; i++)
		bpf_map_delete_elem(fd, keys + i * key_size);
	free(keys);
}

/* A detached process's stacks go with its data (never those of a watched one). */
static void purge_stacks(struct ms_session *s, uint32_t tgid)
{
	int fd = bpf_map__fd(s->skel->maps.stacks);
	struct ms_stack_key k, n, *dead = NULL;
	size_t ndead = 0, cap = 0;
	bool have = false;

	while (bpf_map_get_next_key(fd, have ? &k : NULL, &n) == 0) {
		k = n;
		have = true;
		if (n.tgid != tgid)
			continue;
		if (ndead == cap) {
			size_t ncap = cap ? cap * 2 : 256;
			struct ms_stack_key *v = realloc(dead, ncap * sizeof(*v));

			if (!v)
				break;
			dead = v;
			cap = ncap;
		}
		dead[ndead++] = n;
	}
	for (size_t i = 0; i < ndead; i++)
		bpf_map_delete_elem(fd, &dead[i]);
	free(dead);
}

static void purge_target(struct ms_session *s, uint32_t tgid, bool all, uint32_t keep_gen)
{
	purge(bpf_map__fd(s->skel->maps.live), sizeof(struct ms_live_key),
	      offsetof(struct ms_live_key, gen), tgid, all, keep_gen);
	purge(bpf_map__fd(s->skel->maps.aggs), sizeof(struct ms_agg_key),
	      offsetof(struct ms_agg_key, gen), tgid, all, keep_gen);
	ustacks__forget(s->us, tgid, all, keep_gen);
	if (all) {
		bpf_map_delete_elem(bpf_map__fd(s->skel->maps.rss), &tgid);
		bpf_map_delete_elem(bpf_map__fd(s->skel->maps.procstats), &tgid);
		purge_stacks(s, tgid);
	}
}

void ms_session__detach(struct ms_session *s, struct ms_target *t)
{
	struct ms_target **pp;
	uint32_t tgid;

	if (!s || !t)
		return;
	for (pp = &s->targets; *pp; pp = &(*pp)->next) {
		if (*pp == t) {
			*pp = t->next;
			break;
		}
	}
	tgid = t->pid;
	/* out of the filter first: the programs ignore it from now on, so the
	 * links may close later (on the reaper thread) */
	bpf_map_delete_elem(bpf_map__fd(s->skel->maps.pids), &tgid);
	purge_target(s, tgid, true, 0);
	target_free(s, t);
}

void ms_session__close(struct ms_session *s)
{
	if (!s)
		return;
	while (s->targets)
		ms_session__detach(s, s->targets);
	reaper_stop(s);
	probe_cache_clear(s);
	for (size_t i = 0; i < sizeof(s->tp_links) / sizeof(s->tp_links[0]); i++)
		bpf_link__destroy(s->tp_links[i]);
	ring_buffer__free(s->ustack_rb);
	ustacks__free(s->us);
	/* after every target (and its unwinder) is gone */
	unwind_files__free(s->ufiles);
	while (s->fp_cache) {
		struct fp_verdict *v = s->fp_cache;

		s->fp_cache = v->next;
		free(v);
	}
	memsight_session_bpf__destroy(s->sess);
	memsight_bpf__destroy(s->skel);
	free(s);
}

struct ms_target *ms_session__targets(struct ms_session *s)
{
	return s->targets;
}

struct ms_target *ms_session__find(struct ms_session *s, pid_t pid)
{
	for (struct ms_target *t = s->targets; t; t = t->next)
		if (t->pid == pid)
			return t;
	return NULL;
}

bool ms_session__current_gen(struct ms_session *s, const struct ms_target *t, uint32_t *ret)
{
	struct ms_pid_cfg cfg;
	uint32_t tgid = t->pid;

	if (bpf_map_lookup_elem(bpf_map__fd(s->skel->maps.pids), &tgid, &cfg))
		return false;
	*ret = cfg.gen;
	return true;
}

bool ms_target__alive(const struct ms_target *t)
{
	uint64_t ticks;

	if (procfs__read_start_time("/proc", t->pid, &ticks))
		return false;
	return ticks == t->start_ticks;
}

/* Find the allocator functions of the ELF at open_path. 0 and ps->n == 0: none. */
static int find_probes(const char *open_path, const char *shown, struct probe_set *ps,
		       char *errbuf, size_t errlen)
{
	uint64_t vaddrs[NPROBE_FNS], vaddr, size, off;
	struct ms_elf *elf;
	int err = 0;

	memset(ps, 0, sizeof(*ps));
	elf = ms_elf__open(open_path);
	if (!elf)
		return -errno;
	if (ms_elf__find_func(elf, "malloc", &vaddr, &size) != 0)
		goto out;	/* not an allocator provider */
	for (size_t i = 0; i < NPROBE_FNS; i++) {
		const struct probe_fn *fn = &probe_fns[i];
		bool dup = false;

		if (ms_elf__find_func(elf, fn->name, &vaddr, &size) != 0)
			continue;
		for (uint32_t j = 0; j < ps->n; j++)
			dup |= vaddrs[j] == vaddr;
		if (dup)
			continue;
		err = ms_elf__vaddr_to_offset(elf, vaddr, &off);
		if (err) {
			seterr(errbuf, errlen, "%s: %s has no file offset", shown, fn->name);
			goto out;
		}
		vaddrs[ps->n] = vaddr;
		ps->names[ps->n] = fn->name;
		ps->cookies[ps->n] = fn->cookie;
		ps->moved[ps->n] = 0;
		if (fn->ret) {
			ps->ret_offs[ps->nret++] = off;
		} else {
			/*
			 * Entry-only probes may sit on the first instruction the
			 * kernel emulates instead of single-steps (glibc free:
			 * test %rdi,%rdi is stepped, the je after it is emulated,
			 * ~4x cheaper), as long as nothing before it touches what
			 * the program reads. Probes with a return probe stay at
			 * entry: the return probe and the nesting check need it.
			 */
			struct probesite_req rq = { .args = PROBESITE_ARG_RDI, .at_entry = false };
			struct probesite site;
			uint8_t code[42];
			int nb = ms_elf__read_vaddr(elf, vaddr, code, sizeof(code));

			if (nb > 0 && probesite__choose(code, nb, &rq, &site) == 0)
				ps->moved[ps->n] = site.offset;
		}
		ps->offs[ps->n] = off + ps->moved[ps->n];
		ps->n++;
	}
out:
	ms_elf__close(elf);
	return err;
}

#define PROBE_CACHE_MAX 1024

static void probe_cache_clear(struct ms_session *s)
{
	while (s->probes) {
		struct probe_cache *pc = s->probes;

		s->probes = pc->next;
		free(pc->ps);
		free(pc);
	}
	s->nprobes_cached = 0;
}

/* find_probes() through a cache keyed by the file's identity. */
static int cached_probes(struct ms_session *s, const char *open_path, const struct ms_map *m,
			 struct probe_set *ps, char *errbuf, size_t errlen)
{
	struct probe_cache *pc;
	struct stat st;
	int64_t mt;
	int err;

	if (stat(open_path, &st))
		return find_probes(open_path, m->path, ps, errbuf, errlen);
	mt = st.st_mtim.tv_sec * 1000000000ll + st.st_mtim.tv_nsec;
	for (pc = s->probes; pc; pc = pc->next) {
		if (pc->inode == m->inode && pc->dev_major == m->dev_major &&
		    pc->dev_minor == m->dev_minor && pc->size == (uint64_t)st.st_size &&
		    pc->mtime_ns == mt) {
			*ps = *pc->ps;
			return 0;
		}
	}
	err = find_probes(open_path, m->path, ps, errbuf, errlen);
	if (err)
		return err;
	/* not-an-allocator answers are cached too: most modules are not */
	if (s->nprobes_cached >= PROBE_CACHE_MAX)
		probe_cache_clear(s);	/* a host runs many programs: start over */
	pc = calloc(1, sizeof(*pc));
	if (pc)
		pc->ps = malloc(sizeof(*pc->ps));
	if (!pc || !pc->ps) {
		free(pc);
		return 0;
	}
	*pc->ps = *ps;
	pc->dev_major = m->dev_major;
	pc->dev_minor = m->dev_minor;
	pc->inode = m->inode;
	pc->size = st.st_size;
	pc->mtime_ns = mt;
	pc->next = s->probes;
	s->probes = pc;
	s->nprobes_cached++;
	return 0;
}

static struct ms_lib *lib_find(struct ms_session *s, const struct ms_map *m)
{
	for (struct ms_lib *l = s->libs; l; l = l->next)
		if (l->inode == m->inode && l->dev_major == m->dev_major &&
		    l->dev_minor == m->dev_minor)
			return l;
	return NULL;
}

/* Attach every allocator function this module defines. 0 if none, >0 probes, -errno. */
static int attach_module(struct ms_session *s, struct ms_target *t, const struct ms_map *m,
			 char *errbuf, size_t errlen)
{
	struct ms_lib *lib = NULL;
	struct probe_set ps;
	struct ms_module *mod;
	char *open_path;
	int err;

	if (s->system_scope && (lib = lib_find(s, m)) != NULL) {
		lib->refs++;	/* already probed for every process */
		open_path = ms_map__open_path(t->pid, m);
		ps.n = lib->nprobes;
		ps.nret = 0;
		goto record;
	}
	open_path = ms_map__open_path(t->pid, m);
	if (!open_path)
		return -ENOMEM;
	err = cached_probes(s, open_path, m, &ps, errbuf, errlen);
	if (err || !ps.n) {
		/* a module we cannot read may simply not be an allocator: not fatal */
		free(open_path);
		return err;
	}
	if (s->system_scope) {
		lib = calloc(1, sizeof(*lib));
		if (!lib) {
			free(open_path);
			return -ENOMEM;
		}
		err = attach_set(s, &lib->links, -1, open_path, &ps, errbuf, errlen);
		if (err) {
			linkset_close(&lib->links);
			free(lib);
			free(open_path);
			return err;
		}
		lib->dev_major = m->dev_major;
		lib->dev_minor = m->dev_minor;
		lib->inode = m->inode;
		lib->refs = 1;
		lib->nprobes = ps.n + ps.nret;
		lib->next = s->libs;
		s->libs = lib;
	} else {
		err = attach_set(s, t->links, t->pid, open_path, &ps, errbuf, errlen);
		if (err) {
			free(open_path);
			return err;
		}
	}
record:
	mod = realloc(t->modules, (t->nmodules + 1) * sizeof(*mod));
	if (!mod) {
		lib_unref(s, lib);
		free(open_path);
		return -ENOMEM;
	}
	t->modules = mod;
	mod = &t->modules[t->nmodules++];
	memset(mod, 0, sizeof(*mod));
	mod->path = strdup(m->path);
	mod->open_path = open_path;
	mod->inode = m->inode;
	mod->dev_major = m->dev_major;
	mod->dev_minor = m->dev_minor;
	mod->nprobes = ps.n + ps.nret;
	mod->lib = lib;
	return mod->nprobes;
}

/*
 * If the executable is a Go program, probe runtime.mallocgc (found through
 * .gopclntab, so stripped binaries work too). Entry only: see go.bpf.c.
 * 1 attached, 0 not Go, -errno.
 */
static int attach_go(struct ms_session *s, struct ms_target *t, char *errbuf, size_t errlen)
{
	struct bpf_program *prog = s->skel->progs.ms_go_malloc;
	const struct ms_map *exe_map = NULL;
	struct ms_pid_cfg cfg;
	struct go_version v = {};
	struct ms_elf *elf = NULL;
	uint64_t entry, off;
	char *path;
	uint32_t tgid = t->pid;
	int err = 0, fd;

	for (size_t i = 0; i < t->maps.n && !exe_map; i++) {
		const struct ms_map *m = &t->maps.v[i];
		size_t n = m->path ? strlen(m->path) : 0;

		/* /proc/PID/exe may end in " (deleted)"; maps has the bare path */
		if (n && t->exe && !strncmp(t->exe, m->path, n) &&
		    (t->exe[n] == 0 || !strcmp(t->exe + n, " (deleted)")))
			exe_map = m;
	}
	if (!exe_map)
		return 0;
	path = ms_map__open_path(t->pid, exe_map);
	if (!path)
		return -ENOMEM;
	t->gobin = go_binary__open(path);
	if (!t->gobin)
		goto out;	/* not Go: nothing to do */
	if (govars__version(path, t->gobin, &v) == 0)
		snprintf(t->go_version, sizeof(t->go_version), "%s", v.str);
	else
		snprintf(t->go_version, sizeof(t->go_version), "go (version unknown)");
	/*
	 * Prefer the runtime's own allocation sampler: probing mProf_Malloc
	 * traps once per MemProfileRate bytes, mallocgc once per allocation
	 * (a busy service loses most of its throughput to that). When the
	 * sampler is off (the linker turns it off in programs without pprof),
	 * turn it on through its public knob, runtime.MemProfileRate.
	 */
	/*
	 * Which argument of mProf_Malloc is the size depends on the release
	 * (1.23 added mp first): no version, no probe on it.
	 */
	if (!s->go_mallocgc && v.major == 1 && v.minor > 0 &&
	    (t->goproc = goproc__open(t->pid)) != NULL) {
		int64_t rate = 0;
		int rc = goproc__mem_profile_rate(t->goproc, &rate);

		if (rc == -ENODATA &&
		    goproc__set_mem_profile_rate(t->goproc, s->go_sample_bytes) == 0) {
			rate = s->go_sample_bytes;
			t->go_rate_set = true;
			rc = 0;
		}
		if (rc == 0 && rate > 0 &&
		    go_binary__find_func(t->gobin, "runtime.mProf_Malloc", &entry) == 0) {
			t->go_mprof = true;
			t->go_rate = rate;
			prog = s->skel->progs.ms_go_mprof;
		}
	}
	if (!t->go_mprof && go_binary__find_func(t->gobin, "runtime.mallocgc", &entry)) {
		seterr(errbuf, errlen, "%s is a Go program but runtime.mallocgc was not found",
		       exe_map->path);
		err = -ENOENT;
		goto out;
	}
	elf = ms_elf__open(path);
	if (!elf || ms_elf__vaddr_to_offset(elf, entry, &off)) {
		seterr(errbuf, errlen, "%s: cannot place runtime.mallocgc in the file", exe_map->path);
		err = -ENOEXEC;
		goto out;
	}
	if (((v.major == 1 && v.minor > 0 && v.minor < 17) ||
	     (t->go_mprof && v.major == 1 && v.minor >= 23)) &&
	    bpf_map_lookup_elem(bpf_map__fd(s->skel->maps.pids), &tgid, &cfg) == 0) {
		cfg.flags |= v.minor < 17 ? MS_PIDF_GO_STACK_ABI : MS_PIDF_GO_MPROF_MP;
		bpf_map_update_elem(bpf_map__fd(s->skel->maps.pids), &tgid, &cfg, BPF_ANY);
	}
	if (s->multi) {
		fd = uprobe_multi_link(bpf_program__fd(prog), path, &off, NULL, 1, false, t->pid);
		err = fd < 0 ? fd : linkset_add_fd(t->links, fd);
		if (fd >= 0 && err)
			close(fd);
	} else {
		err = attach_one(t->links, prog, t->pid, path, off, 0, false);
	}
	if (err) {
		seterr(errbuf, errlen, "cannot attach to %s in %s: %s",
		       t->go_mprof ? "runtime.mProf_Malloc" : "runtime.mallocgc", exe_map->path,
		       strerror(-err));
		goto out;
	}
	t->go_probed = true;
	err = 1;
out:
	ms_elf__close(elf);
	free(path);
	return err;
}

/* ---- DWARF unwinding ---------------------------------------------- */

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static const struct fp_verdict *module_fp(struct ms_session *s, pid_t pid, const struct ms_map *m)
{
	struct fp_verdict *v;
	char *path;

	for (v = s->fp_cache; v; v = v->next)
		if (v->inode == m->inode && v->dev_major == m->dev_major &&
		    v->dev_minor == m->dev_minor)
			return v;
	v = calloc(1, sizeof(*v));
	if (!v)
		return NULL;
	v->inode = m->inode;
	v->dev_major = m->dev_major;
	v->dev_minor = m->dev_minor;
	path = ms_map__open_path(pid, m);
	v->err = path ? probesite__module_fp(path, &v->fp) : -ENOMEM;
	free(path);
	v->next = s->fp_cache;
	s->fp_cache = v;
	return v;
}

/*
 * Copy this process's stacks for DWARF unwinding? --unwind dwarf: yes;
 * fp: no; auto: when allocations are sampled and some module with code has
 * no frame pointers (a module we cannot read counts as such: its frames
 * would cut a frame-pointer walk short just the same).
 */
static bool wants_dwarf(struct ms_session *s, struct ms_target *t)
{
	if (s->unwind == MS_UNWIND_FP)
		return false;
	if (s->unwind == MS_UNWIND_DWARF) {
		t->dwarf = true;
		t->dwarf_why = strdup("--unwind dwarf");
		return true;
	}
	if (!s->c_sample_bytes)
		return false;
	/* a module known to lack frame pointers is the better reason to give */
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < t->maps.n; i++) {
			const struct ms_map *m = &t->maps.v[i];
			const struct fp_verdict *v;
			int rc;

			if (!m->path || m->path[0] != '/' || m->perms[2] != 'x')
				continue;
			v = module_fp(s, t->pid, m);
			if (v && !v->err && v->fp)
				continue;
			if (pass == 0 && (!v || v->err))
				continue;
			t->dwarf = true;
			if (pass == 0)
				rc = asprintf(&t->dwarf_why, "%s has no frame pointers", m->path);
			else
				rc = asprintf(&t->dwarf_why, "cannot tell whether %s has frame pointers: %s",
					      m->path, !v ? strerror(ENOMEM) : v->err == -ENODATA ?
					      "too few functions" : strerror(-v->err));
			if (rc < 0)
				t->dwarf_why = NULL;
			return true;
		}
	}
	return false;
}

/* The target a copied stack belongs to, with an unwinder that knows its pc's module. */
static struct ms_target *ustack_target(struct ms_session *s, const struct ms_ustack_hdr *h)
{
	struct ms_target *t = ms_session__find(s, (pid_t)h->tgid);
	struct ms_maps maps = {};
	uint64_t now;

	if (!t)
		return NULL;
	/*
	 * An exec'd process has new modules: rebuild for its newer generation.
	 * A late record of the image before (purged soon anyway) is unwound
	 * with what there is rather than rebuilding back and forth.
	 */
	if (t->unw && h->gen <= t->unw_gen && unwinder__covers(t->unw, h->regs[MS_UREG_IP]))
		return t;
	/* first sample, or a library mapped since (dlopen): at most once a second */
	now = mono_ns();
	if (t->unw_built_ns && h->gen <= t->unw_gen && now - t->unw_built_ns < 1000000000ull)
		return t;	/* also when building failed: not for every record */
	if (procfs__read_maps("/proc", t->pid, &maps)) {
		t->unw_built_ns = now;
		return t;	/* gone: keep what we have */
	}
	unwinder__free(t->unw);
	t->unw = unwinder__new(t->pid, &maps, s->ufiles);
	t->unw_built_ns = now;
	t->unw_gen = h->gen;
	ms_maps__free(&maps);
	return t;
}

static int on_ustack(void *ctx, void *data, size_t size)
{
	struct ms_session *s = ctx;
	const struct ms_ustack_hdr *h = data;
	struct unwind_sample us;
	uint64_t ips[MS_MAX_STACK_DEPTH];
	size_t n = 0;
	struct ms_target *t;

	s->ust.records++;
	if (size < sizeof(*h) || h->size > size - sizeof(*h) || h->sid < MS_SAMPLE_SID_BASE) {
		s->ust.bad_records++;
		return 0;
	}
	t = ustack_target(s, h);
	if (!t) {
		/* detached meanwhile: its aggregates went with it */
		s->ust.bad_records++;
		return 0;
	}
	us = (struct unwind_sample){ .tid = h->tid, .stack = (const uint8_t *)(h + 1),
				     .size = h->size };
	memcpy(us.regs, h->regs, sizeof(us.regs));
	if (!t->unw || unwinder__unwind(t->unw, &us, ips, MS_MAX_STACK_DEPTH, &n)) {
		ips[0] = h->regs[MS_UREG_IP];
		n = 1;
	}
	s->ust.unwound_frames += n;
	if (ustacks__bind(s->us, h->tgid, h->gen, h->sid, ips, (uint32_t)n, mono_ns()))
		s->ust.unbound++;
	return 0;
}

int ms_session__ustack_fd(const struct ms_session *s)
{
	return ring_buffer__epoll_fd(s->ustack_rb);
}

int ms_session__poll_ustacks(struct ms_session *s)
{
	return ring_buffer__consume(s->ustack_rb);
}

int32_t ms_session__resolve_stack(const struct ms_session *s, int32_t stack_id)
{
	int32_t id;

	if (stack_id < MS_SAMPLE_SID_BASE)
		return stack_id;
	return ustacks__resolve(s->us, stack_id, &id, NULL) ? -1 : id;
}

uint32_t ms_session__stack_frames(const struct ms_session *s, uint32_t tgid, int32_t stack_id,
				  uint64_t *ips, uint32_t max)
{
	struct ms_stack_key k = { .tgid = tgid, .id = (uint32_t)stack_id };
	struct ms_stack_val raw;
	const uint64_t *v;
	uint32_t n = 0;

	if (stack_id < 0)
		return 0;
	if (stack_id >= MS_USTACK_ID_BASE) {
		if (ustacks__frames(s->us, stack_id, &v, &n))
			return 0;
		if (n > max)
			n = max;
		memcpy(ips, v, n * sizeof(*ips));
		return n;
	}
	if (bpf_map_lookup_elem(bpf_map__fd(s->skel->maps.stacks), &k, &raw))
		return 0;
	for (; n < max && n < raw.nr && n < MS_MAX_STACK_DEPTH; n++)
		ips[n] = raw.ips[n];
	return n;
}

static int aggs_push(struct ms_aggs *a, const struct ms_agg_key *k, const struct ms_agg_val *v)
{
	if (a->n == a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 256;
		struct ms_agg_entry *nv = realloc(a->v, cap * sizeof(*nv));

		if (!nv)
			return -ENOMEM;
		a->v = nv;
		a->cap = cap;
	}
	a->v[a->n].k = *k;
	a->v[a->n].v = *v;
	a->n++;
	return 0;
}

struct retired_ctx {
	struct ms_aggs *a;
	int err;
};

static void push_retired(const struct ms_agg_key *k, const struct ms_agg_val *v, void *ctx)
{
	struct retired_ctx *rc = ctx;

	if (!rc->err)
		rc->err = aggs_push(rc->a, k, v);
}

static int cmp_entry(const void *a, const void *b)
{
	return ms_agg_key__cmp(&((const struct ms_agg_entry *)a)->k,
			       &((const struct ms_agg_entry *)b)->k);
}

/* A sample that never got its bytes counted (live table full) after this long is dead. */
#define EMPTY_SAMPLE_NS (2ull * 1000 * 1000 * 1000)

int ms_map__for_each(int fd, size_t key_size, size_t val_size,
		     int (*fn)(const void *key, const void *val, void *ctx), void *ctx)
{
	enum { BATCH = 4096 };
	char *keys = calloc(BATCH, key_size), *vals = calloc(BATCH, val_size);
	char *key = malloc(key_size), *next = malloc(key_size);
	uint8_t in[16], tok[16];
	bool first = true, have = false;
	int err = 0;

	if (!keys || !vals || !key || !next) {
		err = -ENOMEM;
		goto out;
	}
	for (;;) {
		__u32 count = BATCH;
		int rc = bpf_map_lookup_batch(fd, first ? NULL : in, tok, keys, vals, &count, NULL);

		if (rc && errno != ENOENT) {
			if (first && (errno == EINVAL || errno == ENOTSUP || errno == EOPNOTSUPP))
				goto walk;
			err = -errno;
			goto out;
		}
		for (__u32 i = 0; i < count && !err; i++)
			err = fn(keys + i * key_size, vals + i * val_size, ctx);
		if (rc || err)
			goto out;	/* ENOENT: that was the last batch */
		memcpy(in, tok, sizeof(in));
		first = false;
	}
walk:
	while (!err && bpf_map_get_next_key(fd, have ? key : NULL, next) == 0) {
		memcpy(key, next, key_size);
		have = true;
		/* deleted meanwhile: skipped */
		if (bpf_map_lookup_elem(fd, next, vals) == 0)
			err = fn(next, vals, ctx);
	}
out:
	free(keys);
	free(vals);
	free(key);
	free(next);
	return err;
}

struct raw_aggs_ctx {
	uint32_t tgid;
	struct ms_aggs *out;
};

static int push_raw_agg(const void *key, const void *val, void *ctx)
{
	const struct ms_agg_key *k = key;
	struct raw_aggs_ctx *rc = ctx;

	return rc->tgid && k->tgid != rc->tgid ? 0 : aggs_push(rc->out, k, val);
}

struct doomed_keys {
	struct ms_agg_key *v;
	size_t n, cap;
};

/*
 * A sample's aggregate: its stack id put in place of the sample id (-1
 * while its stack is still in the ring, or was never stored), or, once
 * freed or never counted, its figures retired and its key queued for
 * deletion: false, drop it from the list.
 */
static bool resolve_sample(struct ms_session *s, struct ms_agg_entry *e, uint64_t now,
			   struct doomed_keys *d)
{
	const struct ms_agg_val *v = &e->v;
	int32_t id;
	uint64_t bound;

	if (ustacks__resolve(s->us, e->k.stack_id, &id, &bound)) {
		e->k.stack_id = -1;
		return true;
	}
	/* freed (one allocation per sample), or never counted */
	if (v->alloc_count ? v->free_count >= v->alloc_count : now - bound > EMPTY_SAMPLE_NS) {
		if (d->n == d->cap) {
			size_t cap = d->cap ? d->cap * 2 : 256;
			struct ms_agg_key *nv = realloc(d->v, cap * sizeof(*nv));

			if (!nv)
				goto keep;	/* retired at a later read */
			d->v = nv;
			d->cap = cap;
		}
		d->v[d->n++] = e->k;
		if (v->alloc_count)
			ustacks__retire(s->us, e->k.stack_id, e->k.kind, v);
		else
			ustacks__unbind(s->us, e->k.stack_id);
		return false;
	}
keep:
	e->k.stack_id = id;
	return true;
}

int ms_session__read_aggs(struct ms_session *s, uint32_t tgid, struct ms_aggs *ret)
{
	int fd = bpf_map__fd(s->skel->maps.aggs);
	struct doomed_keys doomed = {};
	size_t out = 0, keep = 0;
	struct retired_ctx rc = { .a = ret };
	uint64_t now = mono_ns();
	int err;

	ret->n = 0;
	ms_session__poll_ustacks(s);
	err = ms_map__for_each(fd, sizeof(struct ms_agg_key), sizeof(struct ms_agg_val), push_raw_agg,
			       &(struct raw_aggs_ctx){ .tgid = tgid, .out = ret });
	if (err)
		goto out;
	/* resolve sample ids in place; retire the freed ones */
	for (size_t i = 0; i < ret->n; i++) {
		struct ms_agg_entry *e = &ret->v[i];

		if (e->k.stack_id >= MS_SAMPLE_SID_BASE && !resolve_sample(s, e, now, &doomed))
			continue;
		ret->v[keep++] = *e;
	}
	ret->n = keep;
	for (size_t i = 0; i < doomed.n; i++)
		bpf_map_delete_elem(fd, &doomed.v[i]);
	ustacks__for_each_retired(s->us, tgid, push_retired, &rc);
	err = rc.err;
	if (err)
		goto out;
	/* fold entries that now share a key */
	qsort(ret->v, ret->n, sizeof(*ret->v), cmp_entry);
	for (size_t i = 0; i < ret->n; i++) {
		if (out && !cmp_entry(&ret->v[out - 1], &ret->v[i])) {
			ms_agg_val__add(&ret->v[out - 1].v, &ret->v[i].v);
			continue;
		}
		ret->v[out++] = ret->v[i];
	}
	ret->n = out;
out:
	free(doomed.v);
	return err;
}

void ms_aggs__free(struct ms_aggs *a)
{
	free(a->v);
	a->v = NULL;
	a->n = a->cap = 0;
}

void ms_session__ustack_stats(const struct ms_session *s, struct ms_ustack_stats *ret)
{
	struct ustacks_stats us;

	*ret = s->ust;
	ustacks__stats(s->us, &us);
	ret->files = unwind_files__count(s->ufiles);
	ret->stacks = us.stacks;
	ret->bindings = us.bindings;
	ret->retired = us.retired;
}

int ms_session__attach(struct ms_session *s, pid_t pid, struct ms_target **ret,
		       char *errbuf, size_t errlen)
{
	struct ms_pid_cfg cfg = {};
	struct ms_target *t;
	char buf[4096];
	uint32_t tgid = pid;
	int err, last_err = 0;
	size_t probes = 0;

	if (pid <= 0) {
		seterr(errbuf, errlen, "invalid PID %d", pid);
		return -EINVAL;
	}
	if (ms_session__find(s, pid)) {
		seterr(errbuf, errlen, "PID %d is already attached", pid);
		return -EALREADY;
	}
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->pid = pid;
	t->links = calloc(1, sizeof(*t->links));
	if (!t->links) {
		free(t);
		return -ENOMEM;
	}
	err = procfs__read_start_time("/proc", pid, &t->start_ticks);
	if (err) {
		seterr(errbuf, errlen, err == -ESRCH ? "no such process: %d" :
		       "cannot read /proc/%d: %s", pid, strerror(-err));
		goto fail;
	}
	procfs__read_comm("/proc", pid, t->comm, sizeof(t->comm));
	if (procfs__read_exe("/proc", pid, buf, sizeof(buf)) == 0)
		t->exe = strdup(buf);
	err = procfs__read_maps("/proc", pid, &t->maps);
	if (err) {
		seterr(errbuf, errlen, err == -ESRCH ? "no such process: %d" :
		       "cannot read /proc/%d/maps: %s", pid, strerror(-err));
		goto fail;
	}
	if (!t->maps.n) {
		seterr(errbuf, errlen, "process %d has no user memory (kernel thread?)", pid);
		err = -EINVAL;
		goto fail;
	}
	if (wants_dwarf(s, t))
		cfg.flags |= MS_PIDF_DWARF;
	/* the filter entry first, so no event between two attaches is dropped */
	t->gen = cfg.gen = s->next_gen++;
	cfg.max_stacks = s->stacks_per_pid;
	err = bpf_map_update_elem(bpf_map__fd(s->skel->maps.pids), &tgid, &cfg, BPF_ANY);
	if (err) {
		err = -errno;
		seterr(errbuf, errlen, "cannot watch PID %d: %s (more processes than the pids "
		       "table holds?)", pid, strerror(-err));
		goto fail;
	}
	{
		/* threads that exist now; BPF counts creations and exits from here */
		struct ms_proc_stats ps = {};
		struct ms_proc_status st;

		if (procfs__read_status("/proc", pid, &st) == 0)
			ps.threads = st.threads;
		/* thread counts are not worth refusing the attach for: counted, shown lost */
		if (bpf_map_update_elem(bpf_map__fd(s->skel->maps.procstats), &tgid, &ps, BPF_ANY))
			s->procstats_full++;
	}
	for (size_t i = 0; i < t->maps.n; i++) {
		const struct ms_map *m = &t->maps.v[i];
		bool seen = false;

		if (!m->path || m->path[0] != '/' || m->perms[2] != 'x')
			continue;
		for (size_t j = 0; j < t->nmodules; j++)
			seen |= t->modules[j].inode == m->inode && !strcmp(t->modules[j].path, m->path);
		if (seen)
			continue;
		err = attach_module(s, t, m, errbuf, errlen);
		if (err > 0)
			probes += err;
		else if (err < 0 && t->nmodules)
			goto fail_filter;	/* all or nothing */
		else if (err < 0)
			last_err = err;
	}
	err = attach_go(s, t, errbuf, errlen);
	if (err < 0)
		goto fail_filter;
	probes += err;
	if (!probes) {
		err = last_err ?: -ENOENT;
		seterr(errbuf, errlen, "no allocator found in process %d (%s): no mapped ELF defines "
		       "malloc%s", pid, t->exe ?: t->comm,
		       last_err ? " (some modules could not be read)" : " (stripped static binary?)");
		goto fail_filter;
	}
	t->next = s->targets;
	s->targets = t;
	*ret = t;
	return 0;
fail_filter:
	bpf_map_delete_elem(bpf_map__fd(s->skel->maps.pids), &tgid);
	purge_target(s, tgid, true, 0);
fail:
	target_free(s, t);
	return err;
}

uint64_t ms_session__c_sample_bytes(const struct ms_session *s)
{
	return s->c_sample_bytes;
}

uint64_t ms_session__go_sample_bytes(const struct ms_session *s)
{
	return s->go_sample_bytes;
}

bool ms_session__multi(const struct ms_session *s)
{
	return s->multi;
}

bool ms_session__sessions(const struct ms_session *s)
{
	return s->sess != NULL;
}

const char *ms_session__link_kind(const struct ms_session *s)
{
	return s->sess ? "uprobe_multi links, allocators as uprobe sessions" :
	       s->multi ? "uprobe_multi links" : "per-function links";
}

void ms_session__notify_exec(struct ms_session *s, bool on)
{
	s->skel->bss->notify_exec = on;
}

static uint32_t count_keys(int fd, size_t key_size)
{
	uint8_t key[64], next[64];
	uint32_t n = 0;
	bool have = false;

	while (bpf_map_get_next_key(fd, have ? key : NULL, next) == 0) {
		memcpy(key, next, key_size);
		have = true;
		n++;
	}
	return n;
}

int ms_session__map_usage(struct ms_session *s, struct ms_map_usage *ret)
{
	struct memsight_bpf *k = s->skel;

	ret->live = count_keys(bpf_map__fd(k->maps.live), sizeof(struct ms_live_key));
	ret->aggs = count_keys(bpf_map__fd(k->maps.aggs), sizeof(struct ms_agg_key));
	ret->stacks = count_keys(bpf_map__fd(k->maps.stacks), sizeof(struct ms_stack_key));
	ret->pids = count_keys(bpf_map__fd(k->maps.pids), sizeof(uint32_t));
	ret->live_max = bpf_map__max_entries(k->maps.live);
	ret->aggs_max = bpf_map__max_entries(k->maps.aggs);
	ret->stacks_max = bpf_map__max_entries(k->maps.stacks);
	ret->pids_max = bpf_map__max_entries(k->maps.pids);
	return 0;
}

int ms_session__live_fd(const struct ms_session *s)
{
	return bpf_map__fd(s->skel->maps.live);
}

uint64_t ms_session__procstats_full(const struct ms_session *s)
{
	return s->procstats_full;
}

int ms_session__counters_fd(const struct ms_session *s)
{
	return bpf_map__fd(s->skel->maps.counters);
}

int ms_session__procstats(const struct ms_session *s, pid_t pid, struct ms_proc_stats *ret)
{
	uint32_t tgid = pid;

	return bpf_map_lookup_elem(bpf_map__fd(s->skel->maps.procstats), &tgid, ret) ? -errno : 0;
}

bool ms_session__kmem(const struct ms_session *s)
{
	return s->kmem;
}

int ms_session__rss(const struct ms_session *s, pid_t pid, struct ms_rss *ret)
{
	uint32_t tgid = pid;

	return bpf_map_lookup_elem(bpf_map__fd(s->skel->maps.rss), &tgid, ret) ? -errno : 0;
}

int ms_session__events_fd(const struct ms_session *s)
{
	return bpf_map__fd(s->skel->maps.events);
}
