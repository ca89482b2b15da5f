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
 * The current user stack's id in process tgid, stored if new; or -1,
 * counted, when it cannot be read or stored: the bytes are still counted,
 * under "no stack".
 */
static __always_inline __s32 user_stack_id(void *ctx, __u32 tgid, struct ms_pid_cfg *cfg)
{
	struct ms_stack_key k = { .tgid = tgid };
	struct ms_stack_val *b, *v;
	__u32 z = 0, nr, i;
	__u64 h = 0x9e3779b97f4a7c15ull;
	long n, err;

	b = bpf_map_lookup_elem(&stack_scratch, &z);
	if (!b)
		return -1;
	n = bpf_get_stack(ctx, b->ips, sizeof(b->ips), BPF_F_USER_STACK);
	if (n <= 0) {
		count_lost(cfg, MS_CNT_STACK_ERR);
		return -1;
	}
	nr = n / sizeof(__u64);
	b->nr = nr;
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

#endif /* MEMSIGHT_STACKS_BPF_H */
