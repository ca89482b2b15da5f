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

	count(MS_CNT_GO_SAMPLES);
	ak.stack_id = user_stack_id(ctx, tgid, cfg);
	av = agg_get(&ak);
	if (!av) {
		count_lost(cfg, MS_CNT_AGG_FULL);
		return 0;
	}
	/* raw sample: user space unsamples with the sample period */
	__sync_fetch_and_add(&av->alloc_bytes, size);
	__sync_fetch_and_add(&av->alloc_count, 1);
	return 0;
}

/*
 * A uintptr argument: in register reg (Go >= 1.17 register ABI), or in
 * stack slot n (older stack ABI: slot 0 is the first argument).
 */
static __always_inline int go_arg(struct pt_regs *ctx, struct ms_pid_cfg *cfg, __u64 reg,
				  int n, __u64 *ret)
{
	if (!(cfg->flags & MS_PIDF_GO_STACK_ABI)) {
		*ret = reg;
		return 0;
	}
	return bpf_probe_read_user(ret, sizeof(*ret), (void *)(PT_REGS_SP(ctx) + 8 + 8 * n));
}

/* Every Go allocation: costs a trap each, even when not sampled. */
SEC("uprobe")
int ms_go_malloc(struct pt_regs *ctx)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	struct ms_pid_cfg *cfg = watched(tgid);
	__u64 size;

	/* mallocgc(size, typ, needzero) */
	if (!cfg || go_arg(ctx, cfg, MS_GO_ARG1(ctx), 0, &size))
		return 0;
	if (!sample_take(0, size))
		return 0;
	return go_record(ctx, cfg, tgid, size);
}

/*
 * runtime.mProf_Malloc(p, size), since 1.23 mProf_Malloc(mp, p, size): the
 * runtime's own sampler already chose this allocation (one per
 * runtime.MemProfileRate bytes), so the probe traps only that often: the
 * cheap way to profile a busy Go service.
 */
SEC("uprobe")
int ms_go_mprof(struct pt_regs *ctx)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	struct ms_pid_cfg *cfg = watched(tgid);
	__u64 size;
	int err;

	if (!cfg)
		return 0;
	if (cfg->flags & MS_PIDF_GO_MPROF_MP)
		err = go_arg(ctx, cfg, MS_GO_ARG3(ctx), 2, &size);
	else
		err = go_arg(ctx, cfg, MS_GO_ARG2(ctx), 1, &size);
	if (err)
		return 0;
	return go_record(ctx, cfg, tgid, size);
}
