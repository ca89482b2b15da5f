// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * session/alloc.bpf.c - the allocating functions as one uprobe session
 * (kernel >= 6.12): the same program runs at entry and at return, and the
 * entry decides whether the return traps at all. In sampled mode most calls
 * are not sampled, and a call with nothing to do at its return (unsampled,
 * nested, not watched) saves that trap: two of the three traps of an
 * unsampled malloc+free pair become one... plus free's.
 *
 * Built as an object of its own (memsight_session.skel.h): its kfunc is
 * missing on older kernels, and libbpf 1.1 has no weak kfuncs, so only this
 * object fails to load there. User space gives it the main object's maps.
 */
#include "alloc.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

extern bool bpf_session_is_return(void) __ksym;

SEC("uprobe")
int ms_alloc_session(struct pt_regs *ctx)
{
	if (bpf_session_is_return())
		return leave(ctx, PT_REGS_RC(ctx));
	return alloc_entry(ctx, bpf_get_attach_cookie(ctx), true);
}
