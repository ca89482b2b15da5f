/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * pprof.h - write a profile as gzip-compressed profile.proto, the format
 * `go tool pprof`, pprof and most profiling UIs read.
 *
 * Sample types, in this order: alloc_objects/count, alloc_space/bytes,
 * inuse_objects/count, inuse_space/bytes (default inuse_space); values are
 * unsampled when the profile has a sample period. Each sample carries a
 * "kind" label with the allocator ("malloc", "mmap", ...), and "process"
 * and "pid" labels (below). The goroutine
 * profile (pprof__write_opts) has one type, goroutine/count.
 */
#ifndef MEMSIGHT_PPROF_H
#define MEMSIGHT_PPROF_H

#include <stdio.h>

#include "model/model.h"

/* Largest uncompressed profile we build; larger gives -EFBIG. */
#define PPROF_MAX_BYTES (1ull << 30)

/* 0, -ENOMEM, -EFBIG, or -EIO when out could not be written. */
int pprof__write(const struct ms_profile *p, FILE *out);

/* The profiles Go's net/http/pprof names (/debug/pprof/NAME). */
enum pprof_profile {
	PPROF_HEAP,		/* the four heap types, default inuse_space */
	PPROF_ALLOCS,		/* the same, default alloc_space */
	PPROF_GOROUTINE,	/* goroutine/count by creation site, label "state" */
};

struct pprof_opts {
	enum pprof_profile profile;
	/*
	 * Heap and allocs: write p minus this earlier profile of the same
	 * process (Go's ?seconds=S delta): allocations made between the two,
	 * and the change of what is in use (negative where it shrank). NULL: none.
	 */
	const struct ms_profile *base;
};

/* As pprof__write; -ENOENT: a goroutine profile of p is unavailable (see below). */
int pprof__write_opts(const struct ms_profile *p, const struct pprof_opts *o, FILE *out);

/*
 * Several processes in one heap profile (memsight run --pprof). Every heap
 * sample, here and above, carries the labels "process" (its process's name
 * as `memsight diff` matches processes: "comm exe-basename") and "pid". Labels rather than a root frame
 * naming the process: the stacks stay the program's own, so `-top`, `-peek`
 * and a diff by function see the same frames whichever process ran them,
 * and `-tagfocus process=...` or `-tags` splits them by process.
 */
struct pprof_run_proc {
	const struct ms_profile *p;
	/* stacks not kept (figures only, no frames), one sample each under the
	 * frame PPROF_DROPPED_FRAME; NULL or entries with zero figures: none */
	const struct ms_stack *dropped;
	size_t ndropped;
};

#define PPROF_DROPPED_FRAME "[stacks not kept]"

/* As pprof__write; n may be 0 (a profile with no samples). */
int pprof__write_procs(const struct pprof_run_proc *v, size_t n, FILE *out);

/* Why p has no goroutine profile (not Go, its runtime unreadable), NULL if it has one. */
const char *pprof__goroutines_unavailable(const struct ms_profile *p);

#endif /* MEMSIGHT_PPROF_H */
