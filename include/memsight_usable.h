/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * memsight_usable.h - what an allocation costs with the allocator's rounding
 * (its usable size, what malloc_usable_size() says), computed the same way
 * by the BPF programs and by the unit tests: plain integer code, no loops,
 * no calls, so the verifier of any kernel takes it.
 */
#ifndef MEMSIGHT_USABLE_H
#define MEMSIGHT_USABLE_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/* glibc malloc (2.26 and later, x86_64): the size field before the block */
#define MS_GLIBC_SIZE_BITS	7ull	/* PREV_INUSE | IS_MMAPPED | NON_MAIN_ARENA */
#define MS_GLIBC_IS_MMAPPED	2ull
#define MS_GLIBC_SIZE_SZ	8ull	/* SIZE_SZ; a chunk header is two of them */

/*
 * glibc's musable() of an in-use chunk from its size field (the 8 bytes
 * before the block): an mmapped chunk gives all but its header, a heap chunk
 * also the next chunk's prev_size field. 0 when the field cannot be a chunk
 * holding req bytes (then the size is not known).
 */
static inline __u64 ms_glibc_usable(__u64 size_field, __u64 req)
{
	__u64 sz = size_field & ~MS_GLIBC_SIZE_BITS;
	__u64 usable;

	if (sz < 4 * MS_GLIBC_SIZE_SZ)	/* below MINSIZE: not a chunk */
		return 0;
	usable = sz - ((size_field & MS_GLIBC_IS_MMAPPED) ? 2 : 1) * MS_GLIBC_SIZE_SZ;
	return usable >= req ? usable : 0;
}

/* jemalloc 5 (x86_64 builds: LG_QUANTUM 4, LG_PAGE 12, SC_LG_NGROUP 2) */
#define MS_JE_LG_QUANTUM	4
#define MS_JE_LG_NGROUP		2
#define MS_JE_TINY_MIN		8ull			/* the one tiny class */
#define MS_JE_LARGE_MAX		0x7000000000000000ull	/* SC_LARGE_MAXCLASS */

/* floor(log2(x)) for x > 0, without a loop or a clz instruction (BPF has none) */
static inline __u32 ms_lg_floor(__u64 x)
{
	__u32 r = 0;

	if (x >> 32) { x >>= 32; r += 32; }
	if (x >> 16) { x >>= 16; r += 16; }
	if (x >> 8) { x >>= 8; r += 8; }
	if (x >> 4) { x >>= 4; r += 4; }
	if (x >> 2) { x >>= 2; r += 2; }
	if (x >> 1) r += 1;
	return r;
}

/*
 * jemalloc 5's sz_s2u(): the size class a request of size bytes is served
 * from (malloc(0) is served as 1 byte). Up to 16 bytes: 8 and 16; then four
 * classes per doubling, the same rule for small (slab) and large (page
 * multiple) classes. 0 for a size no class holds (the allocation fails).
 */
static inline __u64 ms_jemalloc_usable(__u64 size)
{
	__u32 x, lg_delta;
	__u64 mask;

	if (size <= MS_JE_TINY_MIN)
		return MS_JE_TINY_MIN;
	if (size > MS_JE_LARGE_MAX)
		return 0;
	x = ms_lg_floor((size << 1) - 1);
	lg_delta = x < MS_JE_LG_NGROUP + MS_JE_LG_QUANTUM + 1 ? MS_JE_LG_QUANTUM :
		   x - MS_JE_LG_NGROUP - 1;
	mask = (1ull << lg_delta) - 1;
	return (size + mask) & ~mask;
}

/* An anonymous mapping costs whole pages. */
static inline __u64 ms_mmap_usable(__u64 len)
{
	return (len + 4095) & ~4095ull;
}

#endif /* MEMSIGHT_USABLE_H */
