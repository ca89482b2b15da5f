/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* collect.h - turn the BPF maps of one target into a symbolised ms_profile. */
#ifndef MEMSIGHT_COLLECT_H
#define MEMSIGHT_COLLECT_H

#include "model/model.h"
#include "bpf/session.h"
#include "target/symbolize.h"

struct ms_collect_opts {
	uint64_t duration_ns;	/* observation window to record in the profile */
	bool no_ages;		/* skip scanning live allocations for their age */
	const char *host_root;	/* read the pod of a Kubernetes container under it (NULL: not) */
};

int ms_collect__profile(struct ms_session *s, struct ms_target *t, struct symcache *cache,
			const struct ms_collect_opts *opts, struct ms_profile **ret);

/* Sum the per-CPU counters into loss. */
/* How the target's records were sampled (what ms_figures__of_agg() undoes). */
void ms_collect__sampling(struct ms_session *s, const struct ms_target *t,
			  struct ms_sampling *ret);

int ms_collect__counters(struct ms_session *s, struct ms_loss *ret);

/*
 * A Go target's heap in use by the runtime's own profile, as the go-heap
 * stacks of its profile add up (what `top` counts besides the probes'
 * figures). 0 or -errno (t->goproc not open, or the profile unreadable).
 */
int ms_collect__go_heap(struct ms_target *t, struct ms_figures *ret);

#endif
