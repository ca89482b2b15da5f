/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * table.c - the lock-free tables of sampled pointers.
 *
 * A key goes EMPTY -> ptr (insert's CAS) -> TOMB (remove's CAS) -> ptr ...;
 * it never goes back to EMPTY, so a lookup may stop at the first EMPTY slot.
 * Tombstones are reused by inserts, and no key lives more than TABLE_PROBE
 * slots from its home, so a lookup never looks at more than TABLE_PROBE
 * slots of a table however many tombstones there are. A pointer is inserted
 * before the program sees it and removed before it is handed back to the
 * allocator, so one pointer is never inserted and removed at once: its
 * remove sees the table its insert chose (the far one only when far_used,
 * set before that insert, says any pointer went there).
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

struct level {
	struct slot *slots;
	uint32_t mask;
	unsigned shift;		/* which bits of the hash make the home */
};

static struct slot near_slots[NEAR_SLOTS];
static struct slot far_slots[TABLE_SLOTS];
/* the near home from the hash's bits above the far one's, the filter's on top */
static const struct level near = { near_slots, NEAR_SLOTS - 1, TABLE_SLOTS_LOG2 };
static const struct level far = { far_slots, TABLE_SLOTS - 1, 0 };
static int far_used;	/* sticky: some pointer went to the far table */
uint64_t table_live;
__attribute__((visibility("default"))) uint64_t memsight_sampler_dropped;

uint8_t table_filter[1u << FILTER_BITS];

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

static int level_insert(const struct level *l, uintptr_t ptr, uint64_t size)
{
	uint32_t i = (uint32_t)(table_hash(ptr) >> l->shift) & l->mask;
	unsigned n;

	for (n = 0; n < TABLE_PROBE; n++, i = (i + 1) & l->mask) {
		struct slot *s = &l->slots[i];
		uintptr_t k = __atomic_load_n(&s->key, __ATOMIC_RELAXED);

		while (k == KEY_EMPTY || k == KEY_TOMB) {
			/* the size after the key: only ptr's owner removes it, later */
			if (__atomic_compare_exchange_n(&s->key, &k, ptr, 0,
							__ATOMIC_ACQ_REL, __ATOMIC_RELAXED)) {
				__atomic_store_n(&s->size, size, __ATOMIC_RELEASE);
				return 0;
			}
		}
	}
	return -ENOSPC;
}

static int level_remove(const struct level *l, uintptr_t ptr, uint64_t *ret_size)
{
	uint32_t i = (uint32_t)(table_hash(ptr) >> l->shift) & l->mask;
	unsigned n;

	for (n = 0; n < TABLE_PROBE; n++, i = (i + 1) & l->mask) {
		struct slot *s = &l->slots[i];
		uintptr_t k = __atomic_load_n(&s->key, __ATOMIC_ACQUIRE);

		if (k == KEY_EMPTY)
			return -ENOENT;
		if (k != ptr)
			continue;
		*ret_size = __atomic_load_n(&s->size, __ATOMIC_ACQUIRE);
		if (__atomic_compare_exchange_n(&s->key, &k, KEY_TOMB, 0,
						__ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
			return 0;
		return -ENOENT;	/* cannot happen: only ptr's owner removes it */
	}
	return -ENOENT;
}

int table__insert(uintptr_t ptr, uint64_t size)
{
	int err = level_insert(&near, ptr, size);

	if (err) {
		__atomic_store_n(&far_used, 1, __ATOMIC_RELEASE);
		err = level_insert(&far, ptr, size);
	}
	if (err) {
		__atomic_add_fetch(&memsight_sampler_dropped, 1, __ATOMIC_RELAXED);
		return -ENOSPC;
	}
	filter_add(ptr, 1);
	__atomic_add_fetch(&table_live, 1, __ATOMIC_RELAXED);
	return 0;
}

int table__remove(uintptr_t ptr, uint64_t *ret_size)
{
	int err = level_remove(&near, ptr, ret_size);

	if (err && __atomic_load_n(&far_used, __ATOMIC_ACQUIRE))
		err = level_remove(&far, ptr, ret_size);
	if (err)
		return -ENOENT;
	filter_add(ptr, -1);
	__atomic_sub_fetch(&table_live, 1, __ATOMIC_RELAXED);
	return 0;
}
