// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * mm.bpf.c - where RSS goes, from kernel mm tracepoints (tp_btf: no tracefs,
 * no polling):
 *  - rss_stat: every change of a watched process's RSS counters, kept with
 *    the peak since attach;
 *  - page_fault_user: sampled user page faults with the user stack, i.e. the
 *    code that first touches new memory (RSS growth by stack);
 *  - mark_victim: the OOM killer picked a watched process.
 */
#include "common.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/*
 * Record every Nth fault (set before load; 0 disables fault stacks); a
 * process under the sampler library at its mean (ms_fault_pages).
 */
const volatile __u32 fault_sample = MS_DEF_FAULT_SAMPLE;

/*
 * Per CPU: faults of watched processes still to skip, and how many the next
 * sample stands for (the stride the countdown started from). A sample stands
 * for its window's faults whichever process's fault ends it: the windows'
 * weights add up to every fault, and with the processes' faults interleaved
 * each gets its share in expectation.
 */
struct fault_window {
	__u32 left;
	__u32 weight;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct fault_window);
} fault_left SEC(".maps");

/*
 * The mm's RSS counters changed layout in Linux 6.2: one atomic_long_t per
 * member in struct mm_rss_stat before (6.1 and older), a percpu_counter per
 * member since. Both flavours are compiled in; CO-RE keeps the one the
 * running kernel has (field existence is decided at load, the other branch is
 * dead code to the verifier). On kernels before 6.2 a thread also batches up
 * to 64 of its own changes (SPLIT_RSS_COUNTING) before they reach the mm and
 * fire this tracepoint: the figures are the mm's, as /proc shows them.
 */
struct mm_rss_stat___v61 {
	atomic_long_t count[MS_RSS__MAX];
};

struct mm_struct___v61 {
	struct mm_rss_stat___v61 rss_stat;
} __attribute__((preserve_access_index));

static __always_inline bool read_rss(struct mm_struct *mm, __s64 *pages)
{
	struct mm_struct___v61 *old = (void *)mm;

	/*
	 * 6.1's verifier refuses a plain load of atomic_long_t in the array
	 * ("Type 'atomic_long_t' is not a struct"): one read of the four; since
	 * 6.2 plain loads (the tracepoint's BTF pointer), no helper call each
	 */
	if (bpf_core_field_exists(old->rss_stat.count)) {
		struct mm_rss_stat___v61 st;

		if (bpf_core_read(&st, sizeof(st), &old->rss_stat))
			return false;
		for (int i = 0; i < MS_RSS__MAX; i++)
			pages[i] = st.count[i].counter;
	} else {
		for (int i = 0; i < MS_RSS__MAX; i++)
			pages[i] = mm->rss_stat[i].count;
	}
	return true;
}

/* 6.1 passes the new count as a third argument; the first two are the same */
SEC("tp_btf/rss_stat")
int BPF_PROG(ms_rss_stat, struct mm_struct *mm, int member)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task_btf();
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	struct ms_rss *r, zero = {};
	__s64 total;

	/* only a process changing its own counters: reclaim of others is not ours */
	if (task->mm != mm || !watched(tgid))
		return 0;
	r = bpf_map_lookup_elem(&rss, &tgid);
	if (!r) {
		/* EEXIST: another CPU created it first; anything else (E2BIG: full) is a loss */
		long err = bpf_map_update_elem(&rss, &tgid, &zero, BPF_NOEXIST);

		if (err && err != -EEXIST)
			count(MS_CNT_PROC_TABLE_FULL);
		r = bpf_map_lookup_elem(&rss, &tgid);
		if (!r)
			return 0;
	}
	if (!read_rss(mm, r->pages))
		return 0;
	total = r->pages[MS_RSS_FILE] + r->pages[MS_RSS_ANON] + r->pages[MS_RSS_SHMEM];
	/* the clock read only for a new peak: most changes are not one */
	if (total > r->peak_pages) {
		r->peak_pages = total;
		r->peak_ns = bpf_ktime_get_ns();
	}
	r->updates++;
	return 0;
}

SEC("tp_btf/page_fault_user")
int BPF_PROG(ms_fault, unsigned long address, struct pt_regs *regs, unsigned long error_code)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32, zero = 0, stride, weight;
	struct ms_agg_key ak = { .tgid = tgid, .kind = MS_KIND_FAULT };
	struct ms_pid_cfg *cfg;
	struct ms_agg_val *av;
	struct fault_window *w;

	if (!fault_sample)
		return 0;
	cfg = watched(tgid);
	if (!cfg)
		return 0;
	w = bpf_map_lookup_elem(&fault_left, &zero);
	if (!w)
		return 0;
	if (w->left > 1) {
		w->left--;
		return 0;
	}
	/*
	 * A CPU's first sample is its first fault: it stands for a full stride,
	 * as if a window had just ended (its share of the faults before attach)
	 */
	stride = ms_fault_pages(cfg->usdt_mean, fault_sample);
	weight = w->weight ?: stride;
	w->weight = w->left = stride;
	/*
	 * Not the kernel's walk: in code without frame pointers (Debian's C
	 * servers) its reads of rbp as a frame fault, ~6 us here; a fault sample
	 * of redis-server cost 840 ns per fault on average (bpf_stats, every 8th
	 * one walked)
	 */
	ak.stack_id = regs_stack_id(ctx, regs, tgid, cfg);
	ak.gen = cfg->gen;
	av = agg_get(&ak);
	if (!av) {
		count_lost(cfg, MS_CNT_AGG_FULL);
		return 0;
	}
	/* scaled: each sample stands for its window's faults, of one page each */
	__sync_fetch_and_add(&av->alloc_bytes, (__u64)weight * 4096);
	__sync_fetch_and_add(&av->alloc_count, weight);
	return 0;
}

static __always_inline struct ms_event *oom_victim_event(__u32 tgid)
{
	struct ms_event *e;

	if (!watched(tgid))
		return NULL;
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count(MS_CNT_EVENTS_LOST);
		return NULL;
	}
	__builtin_memset(e, 0, sizeof(*e));
	e->type = MS_EV_OOM_VICTIM;
	e->pid = tgid;
	e->flags = MS_EVF_WATCHED;
	return e;
}

/* Linux 6.8+: the victim's task (and uid) */
SEC("tp_btf/mark_victim")
int BPF_PROG(ms_oom_victim, struct task_struct *task, uid_t uid)
{
	struct ms_event *e = oom_victim_event(BPF_CORE_READ(task, tgid));

	if (!e)
		return 0;
	e->start_ns = BPF_CORE_READ(task, group_leader, start_boottime);
	BPF_CORE_READ_STR_INTO(&e->comm, task, comm);
	bpf_ringbuf_submit(e, 0);
	return 0;
}

/* before 6.8 the tracepoint gives the victim's pid alone; user space picks the flavour */
SEC("tp_btf/mark_victim")
int BPF_PROG(ms_oom_victim_pid, int pid)
{
	struct ms_event *e = oom_victim_event(pid);

	if (e)
		bpf_ringbuf_submit(e, 0);
	return 0;
}

/*
 * Optional (off by default): slab allocations made in a watched process's
 * context. These fire for every kmalloc on the host, so they load only when
 * asked for. Frees happen anywhere (RCU callbacks, other tasks): the pointer
 * says whose allocation it was. Raw tracepoints: kernels before 6.3 refuse a
 * tp_btf program that reads a `void *` argument (the pointer here), and the
 * arguments these read have kept their order from 6.1 to now.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, MS_KPTR_ENTRIES);
	__type(key, __u64);
	__type(value, struct ms_kptr_val);
} kptrs SEC(".maps");

static __always_inline void kmem_alloc(const void *ptr, __u64 size)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	struct ms_kptr_val v = { .tgid = tgid, .size = size };
	struct ms_proc_stats *ps;
	__u64 key = (__u64)ptr;

	if (!ptr || !watched(tgid))
		return;
	ps = bpf_map_lookup_elem(&procstats, &tgid);
	if (!ps || bpf_map_update_elem(&kptrs, &key, &v, BPF_ANY))
		return;
	__sync_fetch_and_add(&ps->kmem_inuse, size);
	__sync_fetch_and_add(&ps->kmem_allocs, 1);
}

static __always_inline void kmem_free(const void *ptr)
{
	__u64 key = (__u64)ptr;
	struct ms_kptr_val *v = bpf_map_lookup_elem(&kptrs, &key);
	struct ms_proc_stats *ps;
	__u32 tgid;
	__u64 size;

	if (!v)
		return;
	tgid = v->tgid;
	size = v->size;
	if (bpf_map_delete_elem(&kptrs, &key))
		return;
	ps = bpf_map_lookup_elem(&procstats, &tgid);
	if (ps) {
		__sync_fetch_and_add(&ps->kmem_inuse, -(__s64)size);
		__sync_fetch_and_add(&ps->kmem_frees, 1);
	}
}

SEC("raw_tp/kmalloc")
int BPF_PROG(ms_kmalloc, unsigned long call_site, const void *ptr, size_t bytes_req,
	     size_t bytes_alloc, gfp_t gfp, int node)
{
	kmem_alloc(ptr, bytes_alloc);
	return 0;
}

SEC("raw_tp/kmem_cache_alloc")
int BPF_PROG(ms_kmem_cache_alloc, unsigned long call_site, const void *ptr, struct kmem_cache *s,
	     gfp_t gfp, int node)
{
	kmem_alloc(ptr, BPF_CORE_READ(s, size));
	return 0;
}

SEC("raw_tp/kfree")
int BPF_PROG(ms_kfree, unsigned long call_site, const void *ptr)
{
	kmem_free(ptr);
	return 0;
}

SEC("raw_tp/kmem_cache_free")
int BPF_PROG(ms_kmem_cache_free, unsigned long call_site, const void *ptr,
	     const struct kmem_cache *s)
{
	kmem_free(ptr);
	return 0;
}
