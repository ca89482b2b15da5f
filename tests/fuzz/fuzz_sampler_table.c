// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * fuzz_sampler_table - the sampler's tables of sampled pointers
 * (sampler/table.c, built with 8 near and 64 far slots so that homes
 * collide, inserts spill into the far table, tombstones pile up and inserts
 * are dropped) against a plain model, driven by the
 * input as a sequence of 3-byte operations: insert or remove one of 256
 * 16-byte-aligned pointers. An insert that succeeds must come back from its
 * remove with its size; a dropped one must count in memsight_sampler_dropped
 * and never come back; a pointer never inserted must not be found; the
 * filter must never say "surely not" of a pointer in the table; table_live
 * is the model's count.
 */
#include "fuzz_common.h"
#include <errno.h>
#include "../../sampler/table.h"

extern uint64_t memsight_sampler_dropped;

#define POOL 256

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint64_t model[POOL];	/* size + 1 of a live entry, 0: not in the table */
	uint64_t live = 0, dropped0 = memsight_sampler_dropped, dropped = 0;
	size_t i;
	int k;

	/* start empty: remove whatever an earlier input left (its model says what) */
	for (k = 0; k < POOL; k++) {
		uint64_t sz;

		if (model[k])
			FUZZ_CHECK(table__remove(0x10000 + (uintptr_t)k * 16 * 97, &sz) == 0);
		model[k] = 0;
	}
	FUZZ_CHECK(table__empty());
	for (i = 0; i + 3 <= size; i += 3) {
		int idx = data[i + 1];
		uintptr_t ptr = 0x10000 + (uintptr_t)idx * 16 * 97;
		uint64_t sz = (uint64_t)data[i + 2] * 1000 + 1, got = 0;
		int ret;

		if (data[i] & 1) {
			if (model[idx])
				continue;	/* a pointer is live once */
			ret = table__insert(ptr, sz);
			FUZZ_CHECK(ret == 0 || ret == -ENOSPC);
			if (ret == 0) {
				model[idx] = sz + 1;
				live++;
			} else {
				dropped++;
			}
		} else {
			ret = table__remove(ptr, &got);
			if (model[idx]) {
				FUZZ_CHECK(ret == 0 && got == model[idx] - 1);
				model[idx] = 0;
				live--;
			} else {
				FUZZ_CHECK(ret == -ENOENT);
			}
		}
		FUZZ_CHECK(__atomic_load_n(&table_live, __ATOMIC_RELAXED) == live);
		FUZZ_CHECK(memsight_sampler_dropped - dropped0 == dropped);
		if (model[idx])
			FUZZ_CHECK(table__maybe(ptr));
	}
	for (k = 0; k < POOL; k++)
		if (model[k])
			FUZZ_CHECK(table__maybe(0x10000 + (uintptr_t)k * 16 * 97));
	return 0;
}
