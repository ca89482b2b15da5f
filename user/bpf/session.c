// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * session.c - the skeleton's lifecycle (open, size the maps, choose what to
 * load, load, attach the tracepoints, close) and the targets it watches:
 * attach a process (read from /proc, put in the pids filter, probed by
 * attach.c), detach it.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "common/errmsg.h"
#include "target/goproc.h"
#include "target/goruntime.h"
#include "target/govars.h"
#include "target/procfs.h"
#include "bpf/kernel.h"
#include "bpf/session_int.h"
#include "bpf/unwind.h"
#include "memsight.skel.h"
#include "memsight_session.skel.h"

/* Entries of each map whose size depends on the options (0: as the object declares). */
static void size_maps(struct memsight_bpf *skel, const struct ms_session_opts *o)
{
	uint32_t live = o->live_entries ?: MS_DEF_LIVE_ENTRIES;
	uint32_t pids = o->max_pids ?: MS_DEF_PIDS;
	uint32_t ustacks = 4096;

	/* copied stacks need room only where some process may be unwound with DWARF:
	 * most where every allocation of every process may be (--unwind dwarf);
	 * under auto, the rate bound (--dwarf-rate) or the sampling limits them */
	if (o->unwind == MS_UNWIND_DWARF && !o->c_sample_bytes)
		ustacks = o->ustack_ring_bytes ?: MS_DEF_USTACK_RING;
	else if (o->unwind != MS_UNWIND_FP)
		ustacks = o->ustack_ring_bytes ?: MS_DEF_USTACK_RING_SAMPLED;
	const struct {
		struct bpf_map *map;
		uint32_t entries;
	} sizes[] = {
		{ skel->maps.live, live },
		{ skel->maps.stacks, o->stack_entries ?: MS_DEF_STACK_ENTRIES },
		/*
		 * Each live DWARF-unwound allocation holds an aggregate of its own
		 * until freed: unwinding stacks needs room for as many as the live
		 * table, besides the stacks' own (entries cost memory only when
		 * used: BPF_F_NO_PREALLOC). So the live table fills first, and
		 * says so.
		 */
		{ skel->maps.aggs, o->agg_entries ?: o->unwind != MS_UNWIND_FP ?
		  live + MS_DEF_AGG_ENTRIES : MS_DEF_AGG_ENTRIES },
		/* one entry per watched pid in each per-process table: sized together */
		{ skel->maps.pids, pids },
		{ skel->maps.rss, pids },
		{ skel->maps.procstats, pids },
		{ skel->maps.events, o->events_bytes },
		{ skel->maps.ustacks, ustacks },
		{ skel->maps.kptrs, o->kmem ? 0 : 1 },
	};

	for (size_t i = 0; i < MS_ARRAY_LEN(sizes); i++)
		if (sizes[i].entries)
			bpf_map__set_max_entries(sizes[i].map, sizes[i].entries);
}

/*
 * Load only the tracepoint programs (and flavours) the running kernel has;
 * the kmem ones fire for every slab allocation on the host: opt-in.
 */
static void choose_programs(struct memsight_bpf *skel, bool kmem)
{
	const struct ms_kfeatures *kf = ms_kfeatures();
	const struct {
		struct bpf_program *prog;
		bool load;
	} progs[] = {
		{ skel->progs.ms_rss_stat, kf->has[MS_KF_RSS_STAT] },
		{ skel->progs.ms_fault, kf->has[MS_KF_PAGE_FAULT_USER] },
		/* the task flavour is only ever found on a kernel that has the tracepoint */
		{ skel->progs.ms_oom_victim, kf->has[MS_KF_MARK_VICTIM_TASK] },
		{ skel->progs.ms_oom_victim_pid,
		  kf->has[MS_KF_MARK_VICTIM] && !kf->has[MS_KF_MARK_VICTIM_TASK] },
		{ skel->progs.ms_kmalloc, kmem },
		{ skel->progs.ms_kmem_cache_alloc, kmem },
		{ skel->progs.ms_kfree, kmem },
		{ skel->progs.ms_kmem_cache_free, kmem },
	};

	for (size_t i = 0; i < MS_ARRAY_LEN(progs); i++)
		bpf_program__set_autoload(progs[i].prog, progs[i].load);
}

/* The uprobe programs, attached as uprobe_multi links when the kernel has them. */
static void expect_multi(struct memsight_bpf *skel)
{
	struct bpf_program *progs[] = {
		skel->progs.ms_go_malloc, skel->progs.ms_go_mprof,
		skel->progs.ms_entry, skel->progs.ms_alloc_ret,
	};

	for (size_t i = 0; i < MS_ARRAY_LEN(progs); i++)
		bpf_program__set_expected_attach_type(progs[i], MS_TRACE_UPROBE_MULTI);
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

	for (size_t i = 0; i < MS_ARRAY_LEN(tps); i++) {
		if (!bpf_program__autoload(tps[i].prog))
			continue;
		if (n >= MS_TP_LINKS)
			return ms_fail(errbuf, errlen, -E2BIG,
				       "more tracepoint programs than link slots");
		s->tp_links[n] = bpf_program__attach(tps[i].prog);
		if (!s->tp_links[n]) {
			err = -errno;
			return ms_fail(errbuf, errlen, err, "cannot attach the %s tracepoint (%s): %s",
				       tps[i].what, bpf_program__name(tps[i].prog), strerror(-err));
		}
		n++;
	}
	return 0;
}

static int load_error(int err, char *errbuf, size_t errlen)
{
	if (err == -EPERM || err == -EACCES)
		return ms_fail(errbuf, errlen, err, "cannot load BPF programs: %s (memsight needs "
			       "root, or CAP_BPF + CAP_PERFMON + CAP_SYS_PTRACE)", strerror(-err));
	return ms_fail(errbuf, errlen, err, "cannot load BPF programs: %s (run with -v for the "
		       "verifier log)", strerror(-err));
}

/* What the session keeps of the options (the rest sizes the maps). */
static void keep_options(struct ms_session *s, const struct ms_session_opts *o)
{
	s->next_gen = 1;
	s->system_scope = o->system_scope;
	s->unwind = o->unwind;
	s->kmem = o->kmem;
	s->c_sample_bytes = o->c_sample_bytes;
	s->go_mallocgc = o->go_mallocgc;
	s->stacks_per_pid = o->stacks_per_pid;
	s->dwarf_rate = o->dwarf_rate;
	s->multi = !o->no_multi && ms_kfeatures()->has[MS_KF_UPROBE_MULTI];
	/* one table of gaps serves both: --sample-bytes sets the mean for both */
	s->go_sample_bytes = o->c_sample_bytes ?: o->go_sample_bytes ?: MS_DEF_GO_SAMPLE_BYTES;
}

int ms_session__open(const struct ms_session_opts *opts, struct ms_session **ret,
		     char *errbuf, size_t errlen)
{
	struct ms_session_opts o = opts ? *opts : (struct ms_session_opts){};
	const char *unusable;
	struct ms_session *s;
	int err;

	/* what memsight cannot do without, said before the verifier says it less clearly */
	unusable = ms_kfeatures__unusable(ms_kfeatures());
	if (unusable)
		return ms_fail(errbuf, errlen, -EOPNOTSUPP, "%s", unusable);
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	keep_options(s, &o);
	s->skel = memsight_bpf__open();
	if (!s->skel) {
		err = -errno;
		ms_fail(errbuf, errlen, err, "cannot open BPF object: %s", strerror(-err));
		goto fail;
	}
	size_maps(s->skel, &o);
	choose_programs(s->skel, o.kmem);
	s->skel->rodata->fault_sample = o.fault_sample ?: MS_DEF_FAULT_SAMPLE;
	s->skel->rodata->c_sample_bytes = o.c_sample_bytes;
	if (s->multi)
		expect_multi(s->skel);
	err = memsight_bpf__load(s->skel);
	if (err) {
		load_error(err, errbuf, errlen);
		goto fail;
	}
	err = fill_sample_gaps(bpf_map__fd(s->skel->maps.sample_gaps), s->go_sample_bytes);
	if (err) {
		ms_fail(errbuf, errlen, err, "cannot set up sampling: %s", strerror(-err));
		goto fail;
	}
	if (s->multi)
		attach__open_sessions(s);
	err = ustack_ring__open(s, errbuf, errlen);
	if (err)
		goto fail;
	/*
	 * Every program that loaded is attached or the session fails: the kernel
	 * has each of them (choose_programs() left out the others, and
	 * "kernel lacks" says so), so a failure here is not a missing feature
	 * but something to report.
	 */
	err = attach_tps(s, errbuf, errlen);
	if (err)
		goto fail;
	*ret = s;
	return 0;
fail:
	ms_session__close(s);
	return err;
}

static void target_free(struct ms_session *s, struct ms_target *t)
{
	if (!t)
		return;
	linkset__dispose(s, t->links);
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
	attach__sampler_restore(t);
	for (size_t i = 0; i < t->nmodules; i++) {
		attach__lib_unref(s, t->modules[i].lib);
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

/* Out of the filter first: the programs ignore it from now on, so the links
 * may close later (on the reaper thread). */
static void target_forget(struct ms_session *s, struct ms_target *t)
{
	uint32_t tgid = t->pid;

	bpf_map_delete_elem(bpf_map__fd(s->skel->maps.pids), &tgid);
	maps__purge_detached(s, tgid);
	target_free(s, t);
}

void ms_session__detach(struct ms_session *s, struct ms_target *t)
{
	struct ms_target **pp;

	if (!s || !t)
		return;
	for (pp = &s->targets; *pp; pp = &(*pp)->next) {
		if (*pp == t) {
			*pp = t->next;
			break;
		}
	}
	target_forget(s, t);
}

void ms_session__close(struct ms_session *s)
{
	if (!s)
		return;
	while (s->targets)
		ms_session__detach(s, s->targets);
	ms_session__purge_pending(s);
	free(s->purge_tgids);
	reaper__stop(s);
	attach__cache_clear(s);
	for (size_t i = 0; i < MS_TP_LINKS; i++)
		bpf_link__destroy(s->tp_links[i]);
	ustack_ring__close(s);
	memsight_session_bpf__destroy(s->sess);
	memsight_bpf__destroy(s->skel);
	free(s);
}

/* A process as /proc shows it now, not watched yet. 0 or -errno, *errbuf says why. */
static int target_read(struct ms_session *s, pid_t pid, struct ms_target **ret,
		       char *errbuf, size_t errlen)
{
	struct ms_target *t;
	int err;

	t = calloc(1, sizeof(*t));
	if (!t)
		return ms_fail(errbuf, errlen, -ENOMEM, "out of memory");
	t->pid = pid;
	t->links = calloc(1, sizeof(*t->links));
	if (!t->links) {
		free(t);
		return ms_fail(errbuf, errlen, -ENOMEM, "out of memory");
	}
	err = procfs__read_start_time("/proc", pid, &t->start_ticks);
	if (err) {
		ms_fail(errbuf, errlen, err, err == -ESRCH ? "no such process: %d" :
			"cannot read /proc/%d: %s", pid, strerror(-err));
		goto fail;
	}
	ms_target__read_names(t);
	err = procfs__read_maps("/proc", pid, &t->maps);
	if (err) {
		ms_fail(errbuf, errlen, err, err == -ESRCH ? "no such process: %d" :
			"cannot read /proc/%d/maps: %s", pid, strerror(-err));
		goto fail;
	}
	if (!t->maps.n) {
		err = ms_fail(errbuf, errlen, -EINVAL,
			      "process %d has no user memory (kernel thread?)", pid);
		goto fail;
	}
	*ret = t;
	return 0;
fail:
	target_free(s, t);
	return err;
}

/* The DWARF copies a process may make per second (0: no bound): --dwarf-rate
 * if given, else none under --unwind dwarf (every stack, as asked), else the
 * default bound. */
static uint32_t dwarf_per_s(const struct ms_session *s)
{
	if (s->dwarf_rate)
		return s->dwarf_rate == MS_DWARF_UNBOUNDED ? 0 : s->dwarf_rate;
	return s->unwind == MS_UNWIND_DWARF ? 0 : MS_DEF_DWARF_RATE;
}

/* Put t in the pids filter (a new generation) and its thread count in procstats. */
static int target_watch(struct ms_session *s, struct ms_target *t, char *errbuf, size_t errlen)
{
	struct ms_pid_cfg cfg = {};
	struct ms_proc_stats ps = {};
	struct ms_proc_status st;
	uint32_t tgid = t->pid;
	int err;

	/* a reused PID: the stacks of the process before it go first (they have no gen) */
	if (maps__purge_queued(s, tgid))
		ms_session__purge_pending(s);
	if (ustack_ring__wants_dwarf(s, t))
		cfg.flags |= MS_PIDF_DWARF;
	t->gen = cfg.gen = s->next_gen++;
	cfg.max_stacks = s->stacks_per_pid;
	cfg.dwarf_per_s = dwarf_per_s(s);
	if (bpf_map_update_elem(bpf_map__fd(s->skel->maps.pids), &tgid, &cfg, BPF_ANY)) {
		err = -errno;
		return ms_fail(errbuf, errlen, err, "cannot watch PID %d: %s (more processes than "
			       "the pids table holds?)", t->pid, strerror(-err));
	}
	/* threads that exist now; BPF counts creations and exits from here */
	if (procfs__read_status("/proc", t->pid, &st) == 0)
		ps.threads = st.threads;
	/* thread counts are not worth refusing the attach for: counted, shown lost */
	if (bpf_map_update_elem(bpf_map__fd(s->skel->maps.procstats), &tgid, &ps, BPF_ANY))
		s->procstats_full++;
	return 0;
}

/* pid is this process (or one of its threads): its probes would see their own handling. */
static bool is_self(pid_t pid)
{
	struct ms_proc_status st;

	if (pid == getpid())
		return true;
	return !procfs__read_status("/proc", pid, &st) && st.tgid == getpid();
}

int ms_session__attach(struct ms_session *s, pid_t pid, struct ms_target **ret,
		       char *errbuf, size_t errlen)
{
	struct ms_target *t = NULL;
	int err;

	if (pid <= 0)
		return ms_fail(errbuf, errlen, -EINVAL, "invalid PID %d", pid);
	if (is_self(pid))
		return ms_fail(errbuf, errlen, -EINVAL, "%s does not watch itself (PID %d is %s)",
			       program_invocation_short_name, pid, program_invocation_short_name);
	/* BPF names processes by their host PIDs: ours would match none, silently */
	if (procfs__self_in_initial_pidns("/proc") == 0)
		return ms_fail(errbuf, errlen, -EOPNOTSUPP, "memsight runs in a PID namespace of "
			       "its own, not the host's: BPF sees host PIDs, so the events of PID "
			       "%d here would not be found; run it in the host's PID namespace",
			       pid);
	if (ms_session__find(s, pid))
		return ms_fail(errbuf, errlen, -EALREADY, "PID %d is already attached", pid);
	err = target_read(s, pid, &t, errbuf, errlen);
	if (err)
		return err;
	/* the filter entry first, so no event between two attaches is dropped */
	err = target_watch(s, t, errbuf, errlen);
	if (err) {
		target_free(s, t);
		return err;
	}
	err = attach__target(s, t, errbuf, errlen);
	if (err) {
		target_forget(s, t);	/* all or nothing */
		return err;
	}
	t->next = s->targets;
	s->targets = t;
	*ret = t;
	return 0;
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

bool ms_session__probes_at_risk(const struct ms_session *s, const struct ms_target *t)
{
	pid_t tid;

	return !s->system_scope && t->pid_filtered && procfs__mm_task("/proc", t->pid, &tid) == 0 &&
	       tid != t->pid;
}

int ms_session__exec_go(struct ms_session *s, struct ms_target *t)
{
	struct go_version v = {};
	struct go_binary *b;
	char path[64];

	(void)s;
	snprintf(path, sizeof(path), "/proc/%d/exe", t->pid);
	b = go_binary__open(path);
	if (!b)
		return -ENOEXEC;
	go_binary__close(t->gobin);
	t->gobin = b;
	/* the old program's runtime went with its memory: nothing to restore in it */
	goproc__close(t->goproc);
	t->goproc = NULL;
	t->go_probed = t->go_mprof = t->go_rate_set = false;
	t->go_rate = 0;
	if (govars__version(path, b, &v) == 0)
		snprintf(t->go_version, sizeof(t->go_version), "%s", v.str);
	else
		snprintf(t->go_version, sizeof(t->go_version), "go (version unknown)");
	return 0;
}

void ms_target__read_names(struct ms_target *t)
{
	char buf[4096];

	procfs__read_comm("/proc", t->pid, t->comm, sizeof(t->comm));
	free(t->exe);
	t->exe = procfs__read_exe("/proc", t->pid, buf, sizeof(buf)) ? NULL : strdup(buf);
}

bool ms_target__alive(const struct ms_target *t)
{
	uint64_t ticks;

	if (procfs__read_start_time("/proc", t->pid, &ticks))
		return false;
	return ticks == t->start_ticks;
}

uint64_t ms_session__c_sample_bytes(const struct ms_session *s)
{
	return s->c_sample_bytes;
}

uint32_t ms_session__fault_pages(const struct ms_session *s, uint64_t sampler_mean)
{
	return ms_fault_pages(sampler_mean, s->skel->rodata->fault_sample);
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

uint64_t ms_session__procstats_full(const struct ms_session *s)
{
	return s->procstats_full;
}

bool ms_session__kmem(const struct ms_session *s)
{
	return s->kmem;
}
