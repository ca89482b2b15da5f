// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <inttypes.h>
#include <string.h>

#include "model/explain.h"

static const char *const names[EX__MAX] = {
	[EX_MALLOC] = "tracked malloc in use (since attach)",
	[EX_GO_HEAP] = "Go heap in use",
	[EX_GO_IDLE] = "Go heap idle, not yet released",
	[EX_STACKS] = "thread and goroutine stacks",
	[EX_OTHER_ANON] = "other anonymous mappings (direct mmap, arenas)",
	[EX_FILE] = "file-backed",
	[EX_SHMEM] = "shared memory",
	[EX_UNEXPLAINED] = "unexplained",
};

const char *explain__name(enum explain_cat c)
{
	return c < EX__MAX ? names[c] : "?";
}

static uint64_t take(uint64_t *from, uint64_t want)
{
	uint64_t got = want < *from ? want : *from;

	*from -= got;
	return got;
}

/*
 * Attribute every resident byte once, from the most specific source to the
 * least: malloc'd bytes live in [heap] (or, for big or threaded allocations,
 * in anonymous mappings); the Go runtime's heap, idle spans and goroutine
 * stacks live in anonymous mappings; what a bucket cannot cover is left to
 * the next. Each category is clamped to what is resident, so the lines add
 * up to RSS exactly.
 */
void explain__compute(const struct explain_in *in, struct explain *ret)
{
	uint64_t heap = in->smaps.heap, anon = in->smaps.anon, stack = in->smaps.stack;
	uint64_t m;

	memset(ret, 0, sizeof(*ret));
	ret->rss = in->smaps.rss;
	m = take(&heap, in->malloc_inuse);
	m += take(&anon, in->malloc_inuse - m);	/* mmap'd chunks, thread arenas */
	ret->bytes[EX_MALLOC] = m;
	if (in->have_go) {
		ret->bytes[EX_GO_HEAP] = take(&anon, in->go_heap_inuse);
		ret->bytes[EX_GO_IDLE] = take(&anon, in->go_heap_idle > in->go_heap_released ?
					      in->go_heap_idle - in->go_heap_released : 0);
		ret->bytes[EX_STACKS] = take(&anon, in->go_stack_inuse);
		ret->go_released = in->go_heap_released;
	}
	ret->bytes[EX_STACKS] += stack;
	ret->of_which_tracked_mmap = in->mmap_inuse < anon ? in->mmap_inuse : anon;
	ret->bytes[EX_OTHER_ANON] = anon;
	ret->bytes[EX_FILE] = in->smaps.file;
	ret->bytes[EX_SHMEM] = in->smaps.shmem;
	/* brk heap not covered by tracked allocations: allocated before attach,
	 * free chunks malloc keeps, fragmentation; and vdso & co */
	ret->bytes[EX_UNEXPLAINED] = heap + in->smaps.other;
}

void explain__of_profile(const struct ms_profile *p, const struct ms_smaps_summary *sm,
			 struct explain *ret)
{
	struct explain_in in = { .smaps = *sm };

	for (size_t i = 0; i < p->nstacks; i++) {
		const struct ms_stack *st = &p->stacks[i];

		if (st->kind == MS_KIND_MMAP)
			in.mmap_inuse += st->inuse_bytes;
		else if (st->kind < MS_KIND_MMAP)
			in.malloc_inuse += st->inuse_bytes;
	}
	if (p->go.present && p->go.have_heap) {
		in.have_go = 1;
		in.go_heap_inuse = p->go.heap_inuse;
		in.go_heap_idle = p->go.heap_idle;
		in.go_heap_released = p->go.heap_released;
		in.go_stack_inuse = p->go.stack_inuse;
	}
	explain__compute(&in, ret);
}
