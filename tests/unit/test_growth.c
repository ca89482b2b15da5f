// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "model/growth.h"

#define SEC 1000000000ull
#define MIN (60 * SEC)

/* A stack leaking 1 MiB per minute scores 1 MiB/min; a steady 100 MiB buffer scores 0;
 * a churning stack (up, down, up, down) scores about 0. */
static void test_leak_ranks_above_big_steady_buffer(void **state)
{
	struct growth g;

	growth__init(&g);
	for (int i = 0; i <= 10; i++) {
		struct growth_point pts[3] = {
			{ .stack_id = 1, .kind = 0, .inuse_bytes = (uint64_t)i * 1048576 / 6 },
			{ .stack_id = 2, .kind = 0, .inuse_bytes = 100ull << 20 },
			{ .stack_id = 3, .kind = 1, .inuse_bytes = (i % 2) ? 5000000 : 0 },
		};

		assert_int_equal(growth__add(&g, 1000 * SEC + i * 10 * SEC, pts, 3), 0);
	}
	uint64_t now = 1100 * SEC;

	assert_true(growth__slope(&g, 1, 0, now, 10 * MIN) > 1048575.0);
	assert_true(growth__slope(&g, 1, 0, now, 10 * MIN) < 1048577.0);
	assert_true(growth__slope(&g, 2, 0, now, 10 * MIN) == 0.0);
	assert_true(growth__slope(&g, 3, 1, now, 10 * MIN) < 60000.0);
	assert_true(growth__slope(&g, 3, 1, now, 10 * MIN) > -60000.0);
	/* an unknown stack is 0 in every snapshot */
	assert_true(growth__slope(&g, 99, 0, now, 10 * MIN) == 0.0);
	assert_true(growth__total_slope(&g, now, 10 * MIN) > 1048575.0 - 60000.0);
	assert_true(growth__span_s(&g, now, 10 * MIN) == 100.0);
	growth__free(&g);
}

/* Only snapshots inside the window count; trim frees the older ones. */
/* A row that stands for several stacks (model.c merges stacks shown alike)
 * grows as their sum: 1 MiB/min + 2 MiB/min, the steady one adding 0. */
static void test_row_of_merged_stacks(void **state)
{
	struct growth g;
	int32_t more[2] = { 5, 6 };
	struct ms_stack row = { .kind = 0, .stack_id = 4, .more_ids = more, .nmore_ids = 2 };
	double v;

	growth__init(&g);
	for (int i = 0; i <= 10; i++) {
		struct growth_point pts[3] = {
			{ .stack_id = 4, .inuse_bytes = (uint64_t)i * 1048576 },
			{ .stack_id = 5, .inuse_bytes = (uint64_t)i * 2 * 1048576 },
			{ .stack_id = 6, .inuse_bytes = 7777 },
		};

		assert_int_equal(growth__add(&g, (uint64_t)i * MIN, pts, 3), 0);
	}
	v = growth__row_slope(&g, &row, 10 * MIN, 20 * MIN);
	assert_true(v > 3 * 1048576.0 - 1 && v < 3 * 1048576.0 + 1);
	row.nmore_ids = 0;
	v = growth__row_slope(&g, &row, 10 * MIN, 20 * MIN);
	assert_true(v > 1048576.0 - 1 && v < 1048576.0 + 1);
	growth__free(&g);
}

static void test_window_and_trim(void **state)
{
	struct growth g;

	growth__init(&g);
	/* grows for the first 5 minutes, then flat for 5 */
	for (int i = 0; i <= 10; i++) {
		struct growth_point p = { .stack_id = 7, .inuse_bytes = (uint64_t)(i < 5 ? i : 5) * 1000 };

		assert_int_equal(growth__add(&g, (uint64_t)i * MIN, &p, 1), 0);
	}
	/* the last 4 minutes are flat */
	assert_true(growth__slope(&g, 7, 0, 10 * MIN, 4 * MIN) == 0.0);
	assert_true(growth__slope(&g, 7, 0, 10 * MIN, 20 * MIN) > 0.0);
	growth__trim(&g, 10 * MIN, 4 * MIN);
	assert_int_equal(g.count, 5);
	/* fewer than two points give no slope */
	growth__trim(&g, 30 * MIN, 1 * MIN);
	assert_int_equal(g.count, 0);
	assert_true(growth__total_slope(&g, 30 * MIN, 10 * MIN) == 0.0);
	growth__free(&g);
}

/* Memory stays bounded: the ring holds GROWTH_MAX_SNAPS, a snapshot at most
 * GROWTH_MAX_KEYS stacks (the biggest), and the rest are counted. */
static void test_bounded(void **state)
{
	static struct growth_point pts[GROWTH_MAX_KEYS + 44];
	struct growth g;

	growth__init(&g);
	for (size_t i = 0; i < GROWTH_MAX_KEYS + 44; i++)
		pts[i] = (struct growth_point){ .stack_id = (int32_t)i, .inuse_bytes = i };
	for (int i = 0; i < GROWTH_MAX_SNAPS + 10; i++)
		assert_int_equal(growth__add(&g, (uint64_t)i * SEC, pts, GROWTH_MAX_KEYS + 44), 0);
	assert_int_equal(g.count, GROWTH_MAX_SNAPS);
	assert_int_equal(g.snaps[g.head].t_ns, 10 * SEC);
	assert_int_equal(g.dropped_keys, 44ull * (GROWTH_MAX_SNAPS + 10));
	/* the biggest stack is kept; the smallest (id 0) is not */
	uint32_t last = (g.head + g.count - 1) % GROWTH_MAX_SNAPS;

	assert_int_equal(g.snaps[last].n, GROWTH_MAX_KEYS);
	assert_int_equal(g.snaps[last].v[GROWTH_MAX_KEYS - 1].stack_id, GROWTH_MAX_KEYS + 43);
	assert_int_equal(g.snaps[last].v[0].stack_id, 44);
	/* totals still count every stack */
	assert_int_equal(g.snaps[last].total_bytes,
			 (uint64_t)(GROWTH_MAX_KEYS + 44) * (GROWTH_MAX_KEYS + 43) / 2);
	growth__free(&g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_leak_ranks_above_big_steady_buffer),
		cmocka_unit_test(test_row_of_merged_stacks),
		cmocka_unit_test(test_window_and_trim),
		cmocka_unit_test(test_bounded),
	};

	return cmocka_run_group_tests_name("growth", tests, NULL, NULL);
}
