// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * alloc.bpf.c - uprobes on the C allocator family: an entry program for
 * every probed function and a return program (see alloc.bpf.h).
 */
#include "alloc.bpf.h"

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
