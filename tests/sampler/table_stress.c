// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * table_stress - the sampler's tables of sampled pointers (sampler/table.c)
 * under threads, built small (a 64-slot near table, a 4096-slot far one) so
 * that most inserts spill into the far table and filter buckets are shared.
 *
 * THREADS threads each insert STEPS pointers of their own, swap each into a
 * random shared cell and remove the one they took out, mostly another
 * thread's, as a program hands blocks between threads: every remove must
 * find its pointer (in whichever table) with its size, and the filter must
 * say "maybe" of it first; a pointer whose insert was dropped must not be
 * found and must be counted. At the end the tables are empty, every filter
 * bucket is back to 0 (or stuck at 255) and nearly all inserts fitted.
 * Prints "ok table_stress ..." or "FAIL ..." lines; exit status 0 or 1.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include "../../sampler/table.h"

extern uint64_t memsight_sampler_dropped;

#define THREADS	4
#define STEPS	200000
#define CELLS	2048	/* live at once: half the far table, 32x the near one */
#define DROPPED	1ull	/* low bit of a cell: its insert found no slot */

static uint64_t cell[CELLS];
static uint64_t drops;

static uint64_t size_of(uint64_t ptr)
{
	return (ptr * 0x9e3779b97f4a7c15ull) >> 40;
}

static void *run(void *arg)
{
	uint64_t t = (uint64_t)(uintptr_t)arg, x = t * 0x2545f4914f6cdd1dull + 1, bad = 0;
	long i;

	for (i = 0; i < STEPS; i++) {
		uint64_t ptr = (t << 40) | ((uint64_t)(i + 1) << 4), v, got = 0;
		int err = table__insert(ptr, size_of(ptr));

		if (err && err != -ENOSPC)
			bad++;
		if (err)
			__atomic_add_fetch(&drops, 1, __ATOMIC_RELAXED);
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		v = __atomic_exchange_n(&cell[x % CELLS], ptr | (err ? DROPPED : 0),
					__ATOMIC_ACQ_REL);
		if (!v)
			continue;
		ptr = v & ~DROPPED;
		if (v & DROPPED) {
			bad += table__remove(ptr, &got) != -ENOENT;
			continue;
		}
		bad += !table__maybe(ptr);
		bad += table__remove(ptr, &got) != 0 || got != size_of(ptr);
		bad += table__remove(ptr, &got) != -ENOENT;	/* once only */
	}
	return (void *)(uintptr_t)bad;
}

int main(void)
{
	pthread_t tid[THREADS];
	uint64_t bad = 0, got, d0 = memsight_sampler_dropped, stuck = 0;
	size_t i;
	void *ret;

	for (i = 0; i < THREADS; i++)
		if (pthread_create(&tid[i], NULL, run, (void *)(uintptr_t)(i + 1)))
			return 1;
	for (i = 0; i < THREADS; i++) {
		pthread_join(tid[i], &ret);
		bad += (uint64_t)(uintptr_t)ret;
	}
	for (i = 0; i < CELLS; i++) {
		uint64_t v = cell[i], ptr = v & ~DROPPED;

		if (v && !(v & DROPPED))
			bad += table__remove(ptr, &got) != 0 || got != size_of(ptr);
	}
	for (i = 0; i < sizeof(table_filter); i++) {
		stuck += table_filter[i] == 255;
		bad += table_filter[i] != 0 && table_filter[i] != 255;
	}
	printf("# %d threads x %d pointers through %d cells: %llu dropped, %llu filter buckets stuck\n",
	       THREADS, STEPS, CELLS, (unsigned long long)drops, (unsigned long long)stuck);
	if (bad || !table__empty() || memsight_sampler_dropped - d0 != drops ||
	    drops > (uint64_t)THREADS * STEPS / 1000) {
		printf("FAIL table_stress: %llu wrong results, %s, dropped %llu counted %llu\n",
		       (unsigned long long)bad, table__empty() ? "empty" : "not empty",
		       (unsigned long long)drops,
		       (unsigned long long)(memsight_sampler_dropped - d0));
		return 1;
	}
	printf("ok table_stress\n");
	return 0;
}
