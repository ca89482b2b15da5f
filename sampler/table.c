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

uint8_t table_filter[1u << FILTER_BITS];

static inline uint32_t table_home(uintptr_t ptr)
{
	/* the hash's low bits: its high ones index the filter */
	return (uint32_t)table_hash(ptr) & (TABLE_SLOTS - 1);
}

/* +1 or -1 on ptr's filter bucket; a bucket that reached 255 stays there */
static void filter_add(uintptr_t ptr, int d)
{
	uint8_t *b = &table_filter[table_hash(ptr) >> (64 - FILTER_BITS)];
	uint8_t v = __atomic_load_n(b, __ATOMIC_RELAXED);

	do {
		if (v == 255)
			return;
	} while (!__atomic_compare_exchange_n(b, &v, (uint8_t)(v + d), 1,
					      __ATOMIC_RELEASE, __ATOMIC_RELAXED));
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
				filter_add(ptr, 1);
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
			filter_add(ptr, -1);
			__atomic_sub_fetch(&table_live, 1, __ATOMIC_RELAXED);
			return 0;
		}
		return -ENOENT;	/* cannot happen: only ptr's owner removes it */
	}
	return -ENOENT;
}
