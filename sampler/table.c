/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * table.c - the lock-free table of sampled pointers.
 *
 * A key goes EMPTY -> ptr (insert's CAS) -> TOMB (remove's CAS) -> ptr ...;
 * it never goes back to EMPTY, so a lookup may stop at the first EMPTY slot.
 * Tombstones are reused by inserts, and no key lives more than TABLE_PROBE
 * slots from its home, so a lookup never looks at more than TABLE_PROBE
 * slots however many tombstones there are. A pointer is inserted before
 * the program sees it and removed before it is handed back to the
 * allocator, so one pointer is never inserted and removed at once.
 */
#include <errno.h>
#include "table.h"
#include "../include/memsight_sampler.h"

#define KEY_EMPTY	0
#define KEY_TOMB	1	/* never a malloc result: not aligned */

struct slot {
	uintptr_t key;
	uint64_t size;
};

static struct slot slots[TABLE_SLOTS];
uint64_t table_live;
__attribute__((visibility("default"))) uint64_t memsight_sampler_dropped;

static inline uint32_t table_home(uintptr_t ptr)
{
	/* malloc results are 16-byte aligned: the low bits carry nothing */
	return (uint32_t)(((uint64_t)(ptr >> 4) * 0x9e3779b97f4a7c15ull) >> 46) &
	       (TABLE_SLOTS - 1);
}

int table__insert(uintptr_t ptr, uint64_t size)
{
	uint32_t i = table_home(ptr);
	unsigned n;

	for (n = 0; n < TABLE_PROBE; n++, i = (i + 1) & (TABLE_SLOTS - 1)) {
		uintptr_t k = __atomic_load_n(&slots[i].key, __ATOMIC_RELAXED);

		while (k == KEY_EMPTY || k == KEY_TOMB) {
			/* the size after the key: only ptr's owner removes it, later */
			if (__atomic_compare_exchange_n(&slots[i].key, &k, ptr, 0,
							__ATOMIC_ACQ_REL, __ATOMIC_RELAXED)) {
				__atomic_store_n(&slots[i].size, size, __ATOMIC_RELEASE);
				__atomic_add_fetch(&table_live, 1, __ATOMIC_RELAXED);
				return 0;
			}
		}
	}
	__atomic_add_fetch(&memsight_sampler_dropped, 1, __ATOMIC_RELAXED);
	return -ENOSPC;
}

int table__remove(uintptr_t ptr, uint64_t *ret_size)
{
	uint32_t i = table_home(ptr);
	unsigned n;

	for (n = 0; n < TABLE_PROBE; n++, i = (i + 1) & (TABLE_SLOTS - 1)) {
		uintptr_t k = __atomic_load_n(&slots[i].key, __ATOMIC_ACQUIRE);

		if (k == KEY_EMPTY)
			return -ENOENT;
		if (k != ptr)
			continue;
		*ret_size = __atomic_load_n(&slots[i].size, __ATOMIC_ACQUIRE);
		if (__atomic_compare_exchange_n(&slots[i].key, &k, KEY_TOMB, 0,
						__ATOMIC_ACQ_REL, __ATOMIC_RELAXED)) {
			__atomic_sub_fetch(&table_live, 1, __ATOMIC_RELAXED);
			return 0;
		}
		return -ENOENT;	/* cannot happen: only ptr's owner removes it */
	}
	return -ENOENT;
}
