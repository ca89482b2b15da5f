// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * alloc.bpf.c - uprobes on the C allocator family: an entry program for
 * every probed function and a return program (see alloc.bpf.h); and the
 * sampler library's USDT sites (include/memsight_sampler.h), which replace
 * them in a process that has it loaded.
 */
#include "alloc.bpf.h"
#include <bpf/usdt.bpf.h>
#include "memsight_sampler.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/*
 * One entry program for every probed function: the attach cookie says which
 * one, so a whole module's probes fit in one uprobe_multi link (one link to
 * tear down, not twenty).
 */
SEC("uprobe")
int ms_entry(struct pt_regs *ctx)
{
	__u64 cookie = bpf_get_attach_cookie(ctx);

	switch (cookie & MS_COOKIE_FN_MASK) {
	case MS_PROBE_FREE:
		return on_free(PT_REGS_PARM1(ctx));
	case MS_PROBE_MUNMAP:
		return on_munmap(PT_REGS_PARM1(ctx));
	}
	/* a return probe always follows: what enter() says is for sessions */
	alloc_entry(ctx, cookie, false);
	return 0;
}

/* One return probe serves every allocating function: the kind is in inflight. */
SEC("uretprobe")
int BPF_KRETPROBE(ms_alloc_ret, __u64 ret)
{
	return leave(ctx, ret);
}

/*
 * The sampler library's free records (memsight_sampler.h): n of them at
 * recs in the process, each cancelling the sample it was made for.
 */
static __always_inline void usdt_frees(__u32 tgid, struct ms_pid_cfg *cfg, const void *recs,
				       __u64 n)
{
	__u64 r[MEMSIGHT_SAMPLER_PENDING + 1];

	if (!n)
		return;
	if (n > MEMSIGHT_SAMPLER_PENDING + 1)
		n = MEMSIGHT_SAMPLER_PENDING + 1;	/* not the library's */
	if (bpf_probe_read_user(r, n * sizeof(r[0]), recs)) {
		count(MS_CNT_FREE_UNKNOWN);
		return;
	}
	for (__u32 i = 0; i < MEMSIGHT_SAMPLER_PENDING + 1 && i < n; i++)
		account_free(tgid, cfg, MEMSIGHT_SAMPLER_RECORD_PTR(r[i]),
			     (int)MEMSIGHT_SAMPLER_RECORD_TAG(r[i]));
}

/*
 * memsight:alloc(ptr, size, mean, tag, frees, nfrees): an allocation the
 * library sampled (it returned non-NULL), drawn with mean bytes between
 * samples, after the free records that rode on it. Recorded like an
 * allocation of the uprobe path, stack walked (or copied) here, never
 * sampled again, under its mean (ms_agg_key.period): user space scales each
 * sample with the mean it was drawn with, so one drawn before the mean
 * changed (a thread's countdown runs out first) is neither lost nor scaled
 * wrong; such samples are counted.
 */
SEC("usdt")
int BPF_USDT(ms_usdt_alloc, void *ptr, __u64 size, __u64 mean, __u64 tag, const void *frees,
	     __u64 nfrees)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	struct ms_pid_cfg *cfg = watched(tgid);

	if (!cfg)
		return 0;
	usdt_frees(tgid, cfg, frees, nfrees);
	if (!ptr)
		return 0;
	count(MS_CNT_USDT_SAMPLES);
	if (mean != cfg->usdt_mean)
		count(MS_CNT_USDT_MEAN_OTHER);
	account_alloc(ctx, tgid, (__u64)ptr, size, MS_KIND_MALLOC, MS_HEAP_OTHER, mean,
		      (__u16)tag, cfg);
	return 0;
}

/* memsight:free(frees, nfrees): free records the pending slots had no room for */
SEC("usdt")
int BPF_USDT(ms_usdt_free, const void *frees, __u64 nfrees)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	struct ms_pid_cfg *cfg = watched(tgid);

	if (cfg)
		usdt_frees(tgid, cfg, frees, nfrees);
	return 0;
}
