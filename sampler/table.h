/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * table.h - the sampled pointers still live, so that their free fires the
 * free probe: fixed-size, lock-free open-addressing tables (CAS on the key,
 * tombstones, probe length bounded). A pointer goes to a small near table
 * first and to the large far one only when its probe window in the near one
 * is full; one that finds no free slot in either is not remembered and is
 * counted in memsight_sampler_dropped.
 *
 * Why two: homes are spread by a hash, so every insert into one large table
 * lands on a page of its own. The 4 MiB table alone was touched all over
 * after a few thousand samples: a first-touch page fault each (bench/
 * mallocbench, 5 M pairs at 512 KiB, attached: 868 page faults -> 294, 27.6
 * -> 25.5 ns per pair, medians of 5 interleaved runs) and up to 4 MiB more
 * RSS in the very process memsight measures. The near table's 64 KiB hold
 * the few thousand samples a process keeps live at the default mean; the far
 * one is touched only past that.
 */
#ifndef SAMPLER_TABLE_H
#define SAMPLER_TABLE_H

#include <stddef.h>
#include <stdint.h>

#ifndef TABLE_SLOTS_LOG2	/* the fuzz target builds a tiny table: collisions, drops */
#define TABLE_SLOTS_LOG2 18
#endif
#define TABLE_SLOTS	(1u << TABLE_SLOTS_LOG2)	/* 2^18: 4 MiB of BSS, touched as used */
#ifndef NEAR_SLOTS_LOG2
#define NEAR_SLOTS_LOG2 12
#endif
#define NEAR_SLOTS	(1u << NEAR_SLOTS_LOG2)	/* 2^12: 64 KiB, in front of the far table */
#define TABLE_PROBE	32		/* slots looked at per insert/remove, per table */

/* pointers in the table; a free only looks a pointer up when it is not 0 */
extern uint64_t table_live;

/*
 * A counting filter in front of the table: how many live entries hash to
 * each of FILTER_SLOTS buckets (255 sticks: never decremented again). A
 * free looks the table up only when its bucket is not 0, so the frees of
 * unsampled pointers (nearly all) touch 64 KiB that stay in cache, never the
 * 4 MiB table.
 */
#define FILTER_BITS	16
extern uint8_t table_filter[1u << FILTER_BITS];

static inline uint64_t table_hash(uintptr_t ptr)
{
	/* malloc results are 16-byte aligned: the low bits carry nothing */
	return (uint64_t)(ptr >> 4) * 0x9e3779b97f4a7c15ull;
}

/* 0: ptr is surely not in the table */
static inline int table__maybe(uintptr_t ptr)
{
	return __atomic_load_n(&table_filter[table_hash(ptr) >> (64 - FILTER_BITS)],
			       __ATOMIC_RELAXED) != 0;
}

/* 0, or -ENOSPC when no slot was free (then memsight_sampler_dropped++) */
int table__insert(uintptr_t ptr, uint64_t size);
/* 0 and *ret_size when ptr was in the table (now removed), else -ENOENT */
int table__remove(uintptr_t ptr, uint64_t *ret_size);

static inline int table__empty(void)
{
	return __atomic_load_n(&table_live, __ATOMIC_RELAXED) == 0;
}

#endif /* SAMPLER_TABLE_H */
