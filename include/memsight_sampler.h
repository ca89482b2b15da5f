/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * memsight_sampler.h - the contract between libmemsight_sampler.so (loaded
 * into a C/C++ target with LD_PRELOAD) and memsight/memsightd (which find it
 * and attach to its USDT probes). Both sides include this header; nothing
 * here depends on either side's code.
 *
 * Sampling: each thread counts down the bytes it allocates; when the count
 * crosses zero the allocation is sampled and a new count is drawn from an
 * exponential distribution of mean memsight_sampler_mean_bytes (a Poisson
 * process over allocated bytes, as Go's runtime and tcmalloc do). An
 * allocation of size s drawn with mean m stands for s / (1 - exp(-s / m))
 * bytes (the observer computes this weight); mean 1 samples every
 * allocation, and then the weight is exactly s.
 *
 * USDT probes (provider MEMSIGHT_SAMPLER_PROVIDER), each with a semaphore
 * (<provider>_<name>_semaphore in the library's .probes section; libbpf's
 * bpf_program__attach_usdt() raises it through the kernel's ref_ctr):
 *
 *   memsight:alloc(void *ptr, size_t size, uint64_t mean, uint64_t tag,
 *		    const uint64_t *frees, uint64_t nfrees)
 *	a sampled allocation, fired after the real allocator returned
 *	non-NULL; size is the size asked for (calloc: nmemb * size), mean the
 *	mean in bytes this sample was drawn with, tag its ticket (below).
 *	frees[0..nfrees) (nfrees <= MEMSIGHT_SAMPLER_PENDING) are free records
 *	that were pending (below), to be applied before this allocation.
 *	realloc frees the old pointer (if it was sampled), then fires alloc of
 *	the new (if sampled).
 *   memsight:free(const uint64_t *frees, uint64_t nfrees)
 *	free records (nfrees <= MEMSIGHT_SAMPLER_PENDING + 1): fired when a
 *	sampled pointer is freed while every pending slot is taken (the
 *	pending ones and this one), and by the library's destructor at exit.
 *
 * A free record is a sampled pointer that was freed (or realloc'ed away)
 * and its tag: MEMSIGHT_SAMPLER_RECORD(ptr, tag). Tags are the low 16 bits
 * of a process-wide count of samples: a record cancels the sample of ptr
 * only if that sample has the record's tag, so a record applied late (its
 * address already allocated and sampled again) never cancels the newer
 * sample. A pointer (or a size) at or above 2^48 cannot be recorded: such
 * a sample fires alloc and is counted in memsight_sampler_dropped.
 *
 * Pending frees: the free of a sampled pointer does not reach a probe; its
 * record goes to a free slot of memsight_sampler_pending and rides on the
 * next sampled allocation of any thread (one probe hit where there were
 * two). An observer reading the process in between reads the pending
 * records too (they are frees already made).
 *
 * While the alloc semaphore is 0 (nobody attached) the library only runs
 * the thread-local countdown: no pointer is remembered, no probe reached.
 *
 * A free whose pointer the observer never saw (sampled before it attached)
 * is to be ignored. A realloc that fails after its free was recorded fires
 * alloc of the old pointer again (a new sample, at the thread's current
 * mean).
 *
 * fork: a child forked while the semaphores were raised reaches no probe
 * site until it execs (on 6.18 fork does not copy the optimised uprobe's
 * trampoline page: such a child died on its first probe hit); it starts
 * with no pending records.
 *
 * Each probe site is a 5-byte nop (nopl 0x0(%rax,%rax,1)), not sdt.h's
 * 1-byte nop, so the kernel can optimise the uprobe (no trap emulation).
 *
 * Exported globals (default visibility, in the library's .dynsym; the
 * observer reads and writes them with process_vm_readv/writev):
 *   memsight_sampler_abi		MEMSIGHT_SAMPLER_ABI; the observer refuses
 *					a library with another number.
 *   memsight_sampler_mean_bytes	the mean; MEMSIGHT_SAMPLER_ENV at load,
 *					else MEMSIGHT_SAMPLER_DEFAULT_MEAN. Read
 *					(relaxed atomic) whenever a thread draws a
 *					new countdown, so a write takes effect
 *					within one sample per thread. 1 = every
 *					allocation; 0 is read as 1.
 *   memsight_sampler_dropped		sampled pointers not remembered (the table
 *					was full, or the pointer >= 2^48): their
 *					alloc fired, their free will not (a
 *					leak-looking over-count the observer
 *					should report).
 *   memsight_sampler_pending		MEMSIGHT_SAMPLER_PENDING free records not
 *					applied yet (0: an empty slot), in one
 *					cache line.
 */
#ifndef MEMSIGHT_SAMPLER_H
#define MEMSIGHT_SAMPLER_H

#ifndef __bpf__		/* BPF uses the names and the record macros only */
#include <stdint.h>
#endif

#define MEMSIGHT_SAMPLER_ABI		2u	/* 1: one probe hit per sampled free */
#define MEMSIGHT_SAMPLER_DEFAULT_MEAN	524288ull
#define MEMSIGHT_SAMPLER_ENV		"MEMSIGHT_SAMPLE_BYTES"
#define MEMSIGHT_SAMPLER_SONAME		"libmemsight_sampler.so"

/* USDT names, as bpf_program__attach_usdt(prog, pid, path, provider, name) */
#define MEMSIGHT_SAMPLER_PROVIDER	"memsight"
#define MEMSIGHT_SAMPLER_PROBE_ALLOC	"alloc"	/* (ptr, size, mean, tag, frees, nfrees) */
#define MEMSIGHT_SAMPLER_PROBE_FREE	"free"	/* (frees, nfrees) */

/* free records: a pointer below 2^48 and its sample's tag in the bits above */
#define MEMSIGHT_SAMPLER_PENDING	8
#define MEMSIGHT_SAMPLER_TAG_SHIFT	48
#define MEMSIGHT_SAMPLER_TAG_MASK	0xffffull
#define MEMSIGHT_SAMPLER_RECORD(ptr, tag) \
	((ptr) | ((tag) & MEMSIGHT_SAMPLER_TAG_MASK) << MEMSIGHT_SAMPLER_TAG_SHIFT)
#define MEMSIGHT_SAMPLER_RECORD_PTR(rec) \
	((rec) & ((1ull << MEMSIGHT_SAMPLER_TAG_SHIFT) - 1))
#define MEMSIGHT_SAMPLER_RECORD_TAG(rec) \
	(((rec) >> MEMSIGHT_SAMPLER_TAG_SHIFT) & MEMSIGHT_SAMPLER_TAG_MASK)

/* symbol names in .dynsym, for an observer that looks them up in the ELF */
#define MEMSIGHT_SAMPLER_SYM_ABI	"memsight_sampler_abi"
#define MEMSIGHT_SAMPLER_SYM_MEAN	"memsight_sampler_mean_bytes"
#define MEMSIGHT_SAMPLER_SYM_DROPPED	"memsight_sampler_dropped"
#define MEMSIGHT_SAMPLER_SYM_PENDING	"memsight_sampler_pending"

/* sizes of the globals as the observer reads/writes them */
#define MEMSIGHT_SAMPLER_ABI_SIZE	4	/* uint32_t */
#define MEMSIGHT_SAMPLER_MEAN_SIZE	8	/* uint64_t */
#define MEMSIGHT_SAMPLER_DROPPED_SIZE	8	/* uint64_t */
#define MEMSIGHT_SAMPLER_PENDING_SIZE	(8 * MEMSIGHT_SAMPLER_PENDING)	/* uint64_t[] */

#ifdef MEMSIGHT_SAMPLER_DECLARE_GLOBALS
/* for the library and code linked with it (its tests); the observer never links it */
extern const uint32_t memsight_sampler_abi;
extern uint64_t memsight_sampler_mean_bytes;
extern uint64_t memsight_sampler_dropped;
extern uint64_t memsight_sampler_pending[MEMSIGHT_SAMPLER_PENDING];
#endif

#endif /* MEMSIGHT_SAMPLER_H */
