/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * explain.h - where a process's RSS is: /proc/PID/smaps buckets reconciled
 * with what memsight tracked (malloc, mmap) and what the Go runtime says.
 * Pure arithmetic, so it is tested on numbers, not processes.
 */
#ifndef MEMSIGHT_EXPLAIN_H
#define MEMSIGHT_EXPLAIN_H

#include <stdint.h>
#include <stdio.h>

#include "model/model.h"
#include "target/smaps.h"

enum explain_cat {
	EX_MALLOC,		/* tracked malloc-family bytes in use */
	EX_GO_HEAP,		/* Go heap spans in use */
	EX_GO_IDLE,		/* Go heap idle, not yet returned to the OS */
	EX_STACKS,		/* main/thread stacks and goroutine stacks */
	EX_OTHER_ANON,		/* other anonymous mappings: direct mmap, arenas */
	EX_FILE,		/* file-backed pages (binaries, libraries, mapped files) */
	EX_SHMEM,		/* shared memory */
	EX_UNEXPLAINED,		/* the rest: heap not covered by tracked allocations, ... */
	EX__MAX,
};

struct explain_in {
	struct ms_smaps_summary smaps;
	uint64_t malloc_inuse;		/* tracked in use, kinds other than mmap */
	uint64_t mmap_inuse;		/* tracked anonymous mmap in use */
	int have_go;
	uint64_t go_heap_inuse, go_heap_idle, go_heap_released, go_stack_inuse;
};

struct explain {
	uint64_t rss;
	uint64_t bytes[EX__MAX];	/* sums to rss */
	uint64_t of_which_tracked_mmap;	/* part of EX_OTHER_ANON */
	uint64_t go_released;		/* not resident: shown for completeness */
};

void explain__compute(const struct explain_in *in, struct explain *ret);
/* The same for profile p, whose /proc/PID/smaps summary is sm. */
void explain__of_profile(const struct ms_profile *p, const struct ms_smaps_summary *sm,
			 struct explain *ret);
const char *explain__name(enum explain_cat c);

#endif
