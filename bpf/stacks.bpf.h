/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * stacks.bpf.h - the user stacks of allocations, interned per process.
 *
 * Not the kernel's stack-trace map: that one keeps one stack per hash
 * bucket, so a second stack landing in a taken bucket is dropped (or, with
 * BPF_F_REUSE_STACKID, overwrites the first under aggregates that still name
 * it), and a lookup from user space empties the bucket while it copies, so a
 * colliding stack can take the id meanwhile and its bytes are then shown
 * under the other stack.
 *
 * Here a stack's id is a hash of its frames, the key is (process, id) and
 * the value the whole stack: a stack is only ever found by comparing every
 * frame, a different stack with the same hash tries the next id, and user
 * space reads without changing anything. Stacks of a process are deleted
 * with its data when it is detached, never while it is watched. A process
 * may hold at most ms_pid_cfg.max_stacks of them (memsightd's per-process
 * quota, so one busy process cannot take the table from the others).
 */
#ifndef MEMSIGHT_STACKS_BPF_H
#define MEMSIGHT_STACKS_BPF_H

/* ids tried for one stack before it counts as a collision */
#define MS_STACK_PROBES	4

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MS_DEF_STACK_ENTRIES);
	/* memory grows with the stacks seen, not with the limit */
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct ms_stack_key);
	__type(value, struct ms_stack_val);
} stacks SEC(".maps") __weak;

/* Per CPU: the stack being looked up. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ms_stack_val);
} stack_scratch SEC(".maps") __weak;

static __always_inline bool same_stack(const struct ms_stack_val *a, const struct ms_stack_val *b)
{
	if (a->nr != b->nr)
		return false;
	for (__u32 i = 0; i < MS_MAX_STACK_DEPTH; i++) {
		if (i >= b->nr)
			break;
		if (a->ips[i] != b->ips[i])
			return false;
	}
	return true;
}

/*
 * The id of the user stack in b (b->nr frames) in process tgid, stored if
 * new; or -1, counted, when it cannot be stored.
 */
static __always_inline __s32 intern_stack(struct ms_stack_val *b, __u32 tgid,
					  struct ms_pid_cfg *cfg)
{
	struct ms_stack_key k = { .tgid = tgid };
	struct ms_stack_val *v;
	__u32 nr = b->nr, i;
	__u64 h = 0x9e3779b97f4a7c15ull;
	long err;

	for (i = 0; i < MS_MAX_STACK_DEPTH; i++) {
		if (i >= nr)
			break;
		h = (h ^ b->ips[i]) * 0xff51afd7ed558ccdull;
		h ^= h >> 32;
	}
	h ^= nr;
	for (i = 0; i < MS_STACK_PROBES; i++) {
		k.id = (__u32)(h + i) & (MS_USTACK_ID_BASE - 1);
		v = bpf_map_lookup_elem(&stacks, &k);
		if (!v) {
			if (cfg->max_stacks && cfg->nstacks >= cfg->max_stacks) {
				count_lost(cfg, MS_CNT_STACK_QUOTA);
				return -1;
			}
			err = bpf_map_update_elem(&stacks, &k, b, BPF_NOEXIST);
			if (!err) {
				__sync_fetch_and_add(&cfg->nstacks, 1);
				return k.id;
			}
			if (err != -EEXIST) {
				count_lost(cfg, err == -E2BIG || err == -ENOMEM ?
						MS_CNT_STACK_TABLE_FULL : MS_CNT_STACK_ERR);
				return -1;
			}
			/* another CPU stored a stack under this id just now */
			v = bpf_map_lookup_elem(&stacks, &k);
			if (!v)
				continue;
		}
		if (same_stack(v, b))
			return k.id;
	}
	count_lost(cfg, MS_CNT_STACK_COLLISION);
	return -1;
}

/*
 * The current user stack's id in process tgid, stored if new; or -1,
 * counted, when it cannot be read or stored: the bytes are still counted,
 * under "no stack".
 */
static __always_inline __s32 user_stack_id(void *ctx, __u32 tgid, struct ms_pid_cfg *cfg)
{
	struct ms_stack_val *b;
	__u32 z = 0;
	long n;

	b = bpf_map_lookup_elem(&stack_scratch, &z);
	if (!b)
		return -1;
	n = bpf_get_stack(ctx, b->ips, sizeof(b->ips), BPF_F_USER_STACK);
	if (n <= 0) {
		count_lost(cfg, MS_CNT_STACK_ERR);
		return -1;
	}
	b->nr = n / sizeof(__u64);
	return intern_stack(b, tgid, cfg);
}

/* A thread's stack mapping as last found: [start, end) */
struct stack_range {
	__u64 start, end;
};

/*
 * Per thread, its stack's mapping, so that bpf_find_vma runs once a thread
 * (and again when sp leaves the range: a main-thread stack grown down, a
 * signal stack). find_vma is not cheap where it matters most: at a page
 * fault the tracepoint runs with interrupts off, so it unlocks the mm
 * through an irq_work (a self-IPI), ~3 us of program and more after it a
 * fault here (bench/sampler.sh, "first-touch page faults"). A range gone
 * stale (the mapping unmapped or split) only bounds reads that then fail.
 */
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct stack_range);
} stack_ranges SEC(".maps") __weak;

/* bpf_find_vma callback: the mapping found */
static long stack_vma_range(struct task_struct *task, struct vm_area_struct *vma, void *data)
{
	struct stack_range *r = data;

	r->start = vma->vm_start;
	r->end = vma->vm_end;
	return 0;
}

/*
 * The end of the mapping sp is in (the current thread's stack), 0 when not
 * known: kernels before 5.17 have no bpf_find_vma (decided at load by a
 * CO-RE enum check: the call never reaches them), and find_vma only
 * try-locks the mm (another thread mapping memory makes it fail).
 */
static __always_inline __u64 stack_end(struct task_struct *task, __u64 sp)
{
	struct stack_range *r, found = {};

	r = bpf_task_storage_get(&stack_ranges, task, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (r && sp >= r->start && sp < r->end)
		return r->end;
	if (!bpf_core_enum_value_exists(enum bpf_func_id, BPF_FUNC_find_vma) ||
	    bpf_find_vma(task, sp, stack_vma_range, &found, 0) || found.end <= sp)
		return 0;
	if (r)
		*r = found;
	return found.end;
}

/*
 * user_stack_id() for a probe inside a function (not at its entry: the
 * sampler library's USDT sites), by frame pointers as the kernel walks them
 * (the IP, then each frame's return address), but never outside the stack's
 * mapping. A chain ends in code built without frame pointers (libc's
 * start_thread, __libc_start_call_main), whose rbp is no frame: the
 * kernel's walker reads there and the read faults, which costs most of a
 * sample (README, "C/C++ services: the sampler library"). A frame outside
 * [sp, end of sp's mapping) ends the stack here without a read. When the
 * mapping cannot be found (find_vma only try-locks the mm), the kernel's walk.
 * ctx is the program's context (for that walk), regs the user registers
 * (the same for a probe; the faulting ones for a page fault).
 */
static __always_inline __s32 regs_stack_id(void *ctx, struct pt_regs *regs, __u32 tgid,
					   struct ms_pid_cfg *cfg)
{
	struct task_struct *task = bpf_get_current_task_btf();
	__u64 sp = PT_REGS_SP(regs), fp = PT_REGS_FP(regs), end, frame[2];
	struct ms_stack_val *b;
	__u32 z = 0, n = 1;

	end = stack_end(task, sp);
	if (end < sp + 16)
		return user_stack_id(ctx, tgid, cfg);
	b = bpf_map_lookup_elem(&stack_scratch, &z);
	if (!b)
		return -1;
	b->ips[0] = PT_REGS_IP(regs);
	for (__u32 i = 1; i < MS_MAX_STACK_DEPTH; i++) {
		if (fp < sp || fp > end - 16 || (fp & 7))
			break;
		if (bpf_probe_read_user(frame, sizeof(frame), (void *)fp) || !frame[1])
			break;
		b->ips[i] = frame[1];
		n = i + 1;
		fp = frame[0];
	}
	b->nr = n;
	return intern_stack(b, tgid, cfg);
}

/* the user registers of a probe: its context */
static __always_inline __s32 inner_stack_id(struct pt_regs *ctx, __u32 tgid,
					    struct ms_pid_cfg *cfg)
{
	return regs_stack_id(ctx, ctx, tgid, cfg);
}

#endif /* MEMSIGHT_STACKS_BPF_H */
