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
 *   memsight:alloc(void *ptr, size_t size, uint64_t mean)
 *	a sampled allocation, fired after the real allocator returned
 *	non-NULL; size is the size asked for (calloc: nmemb * size), mean the
 *	mean in bytes this sample was drawn with. realloc fires free of the
 *	old pointer (if it was sampled) then alloc of the new (if sampled).
 *   memsight:free(void *ptr, size_t size)
 *	the free (or realloc away) of a pointer that was sampled while the
 *	alloc semaphore was raised; size as allocated.
 *
 * While the alloc semaphore is 0 (nobody attached) the library only runs
 * the thread-local countdown: no pointer is remembered, no probe reached.
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
 *   memsight_sampler_dropped		sampled pointers not remembered because the
 *					table was full: their alloc fired, their
 *					free will not (a leak-looking over-count
 *					the observer should report).
 */
#ifndef MEMSIGHT_SAMPLER_H
#define MEMSIGHT_SAMPLER_H

#include <stdint.h>

#define MEMSIGHT_SAMPLER_ABI		1u
#define MEMSIGHT_SAMPLER_DEFAULT_MEAN	524288ull
#define MEMSIGHT_SAMPLER_ENV		"MEMSIGHT_SAMPLE_BYTES"
#define MEMSIGHT_SAMPLER_SONAME		"libmemsight_sampler.so"

/* USDT names, as bpf_program__attach_usdt(prog, pid, path, provider, name) */
#define MEMSIGHT_SAMPLER_PROVIDER	"memsight"
#define MEMSIGHT_SAMPLER_PROBE_ALLOC	"alloc"	/* (void *ptr, size_t size, uint64_t mean) */
#define MEMSIGHT_SAMPLER_PROBE_FREE	"free"	/* (void *ptr, size_t size) */
#define MEMSIGHT_SAMPLER_ALLOC_NARGS	3
#define MEMSIGHT_SAMPLER_FREE_NARGS	2

/* symbol names in .dynsym, for an observer that looks them up in the ELF */
#define MEMSIGHT_SAMPLER_SYM_ABI	"memsight_sampler_abi"
#define MEMSIGHT_SAMPLER_SYM_MEAN	"memsight_sampler_mean_bytes"
#define MEMSIGHT_SAMPLER_SYM_DROPPED	"memsight_sampler_dropped"

/* sizes of the globals as the observer reads/writes them */
#define MEMSIGHT_SAMPLER_ABI_SIZE	4	/* uint32_t */
#define MEMSIGHT_SAMPLER_MEAN_SIZE	8	/* uint64_t */
#define MEMSIGHT_SAMPLER_DROPPED_SIZE	8	/* uint64_t */

#ifdef MEMSIGHT_SAMPLER_DECLARE_GLOBALS
/* for code linked with the library (its tests); the observer never links it */
extern const uint32_t memsight_sampler_abi;
extern uint64_t memsight_sampler_mean_bytes;
extern uint64_t memsight_sampler_dropped;
#endif

#endif /* MEMSIGHT_SAMPLER_H */
