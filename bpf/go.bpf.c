// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * go.bpf.c - Go allocations: an entry uprobe on runtime.mallocgc.
 *
 * Entry only. Never a uretprobe on Go code: a uretprobe rewrites the return
 * address on the goroutine's stack, and the runtime moves and scans those
 * stacks; the target would crash. The GC frees Go memory without a call we
 * could see, so this gives the allocation profile (who allocates how much);
 * what is still in use comes from the runtime's own profile buckets, read
 * from user space.
 *
 * Sampled by bytes before any stack walk: most calls cost one map lookup
 * and a subtraction. Go binaries keep frame pointers, so the stack walk is
 * complete (mallocgc's immediate caller, runtime.newobject & co, is skipped
 * by the walk at function entry; the user function above it is kept).
 */
#include "common.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Book one sampled Go allocation of size bytes under the current stack. */
static __always_inline int go_record(struct pt_regs *ctx, struct ms_pid_cfg *cfg, __u32 tgid,
				     __u64 size)
{
	struct ms_agg_key ak = { .tgid = tgid, .kind = MS_KIND_GO, .gen = cfg->gen };
	struct ms_agg_val *av;
	long sid;

	count(MS_CNT_GO_SAMPLES);
	sid = bpf_get_stackid(ctx, &stacks, BPF_F_USER_STACK);
	if (sid == -EEXIST)
		count(MS_CNT_STACK_COLLISION);
	else if (sid < 0)
		count(MS_CNT_STACK_ERR);
	ak.stack_id = sid < 0 ? -1 : sid;
	av = bpf_map_lookup_elem(&aggs, &ak);
	if (!av) {
		static const struct ms_agg_val z;

		bpf_map_update_elem(&aggs, &ak, &z, BPF_NOEXIST);
		av = bpf_map_lookup_elem(&aggs, &ak);
		if (!av) {
			count(MS_CNT_AGG_FULL);
			return 0;
		}
	}
	/* raw sample: user space unsamples with the sample period */
	__sync_fetch_and_add(&av->alloc_bytes, size);
	__sync_fetch_and_add(&av->alloc_count, 1);
	return 0;
}

/* Every Go allocation: costs a trap each, even when not sampled. */
SEC("uprobe")
int ms_go_malloc(struct pt_regs *ctx)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	struct ms_pid_cfg *cfg = watched(tgid);
	__u64 size;

	if (!cfg)
		return 0;
	if (cfg->flags & MS_PIDF_GO_STACK_ABI) {
		/* Go < 1.17: size is the first stack argument */
		if (bpf_probe_read_user(&size, sizeof(size), (void *)(PT_REGS_SP(ctx) + 8)))
			return 0;
	} else {
		size = ctx->ax;
	}
	if (!sample_take(0, size))
		return 0;
	return go_record(ctx, cfg, tgid, size);
}

/*
 * runtime.mProf_Malloc(p, size): the runtime's own sampler already chose
 * this allocation (one per runtime.MemProfileRate bytes), so the probe traps
 * only that often: the cheap way to profile a busy Go service.
 */
SEC("uprobe")
int ms_go_mprof(struct pt_regs *ctx)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	struct ms_pid_cfg *cfg = watched(tgid);
	__u64 size;

	if (!cfg)
		return 0;
	if (cfg->flags & MS_PIDF_GO_STACK_ABI) {
		if (bpf_probe_read_user(&size, sizeof(size), (void *)(PT_REGS_SP(ctx) + 16)))
			return 0;
	} else {
		size = ctx->bx;
	}
	return go_record(ctx, cfg, tgid, size);
}
