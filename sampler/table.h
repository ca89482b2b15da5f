/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * table.h - the sampled pointers still live, so that their free fires the
 * free probe: a fixed-size, lock-free open-addressing table (CAS on the key,
 * tombstones, probe length bounded). A pointer that finds no free slot within
 * the bound is not remembered and counted in memsight_sampler_dropped.
 */
#ifndef SAMPLER_TABLE_H
#define SAMPLER_TABLE_H

#include <stddef.h>
#include <stdint.h>

#define TABLE_SLOTS	(1u << 18)	/* 4 MiB of BSS, touched only as used */
#define TABLE_PROBE	32		/* slots looked at per insert/remove */

/* pointers in the table; a free only looks a pointer up when it is not 0 */
extern uint64_t table_live;

/* 0, or -ENOSPC when no slot was free (then memsight_sampler_dropped++) */
int table__insert(uintptr_t ptr, uint64_t size);
/* 0 and *ret_size when ptr was in the table (now removed), else -ENOENT */
int table__remove(uintptr_t ptr, uint64_t *ret_size);

static inline int table__empty(void)
{
	return __atomic_load_n(&table_live, __ATOMIC_RELAXED) == 0;
}

#endif /* SAMPLER_TABLE_H */
