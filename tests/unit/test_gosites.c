// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "model/gosites.h"

#define SEC 1000000000ull
#define WINDOW (60 * SEC)

static struct gosite_sample site(uint64_t pc, const char *func, int line, uint64_t count)
{
	return (struct gosite_sample){ .pc = pc, .func = func, .file = "/src/app/main.go",
				       .line = line, .count = count };
}

static const struct gosite_rank *find_rank(const struct gosite_rank *r, size_t n, const char *func)
{
	for (size_t i = 0; i < n; i++)
		if (func ? r[i].site && r[i].site->func && !strcmp(r[i].site->func, func) : !r[i].site)
			return &r[i];
	return NULL;
}

/*
 * A handler starting one goroutine per request, 10 requests a second, ranks
 * first at +600 goroutines/min with its exact count, above a pool of 50
 * workers that never changes and a site that churns up and down.
 */
static void test_a_leaking_site_ranks_first_with_its_rate_and_count(void **state)
{
	struct gosite_rank r[GOSITES_MAX + 1];
	struct gosites gs;
	size_t n;
	double total;

	gosites__init(&gs);
	for (int i = 0; i <= 10; i++) {
		struct gosite_sample v[] = {
			site(0x1000, "main.workerPool", 20, 50),
			site(0x2000, "main.leakHandler", 35, 100 + 10 * (uint64_t)i),
			site(0x3000, "main.churn", 50, (i % 2) ? 30 : 5),
		};

		assert_int_equal(gosites__add(&gs, 1000 * SEC + i * SEC, WINDOW, v, 3,
					      150 + 10 * (uint64_t)i + ((i % 2) ? 30 : 5)), 0);
	}
	n = gosites__rank(&gs, WINDOW, GOSITES_BY_GROWTH, r);
	assert_int_equal(n, 3);
	assert_string_equal(r[0].site->func, "main.leakHandler");
	assert_int_equal(r[0].count, 200);
	assert_true(r[0].have_rate);
	assert_true(r[0].per_min > 599.999 && r[0].per_min < 600.001);
	assert_true(r[0].span_s == 10.0);
	assert_true(find_rank(r, n, "main.workerPool")->per_min == 0.0);
	/* the churning site nets about nothing */
	assert_true(find_rank(r, n, "main.churn")->per_min < 60.0);
	assert_true(find_rank(r, n, "main.churn")->per_min > -60.0);
	/* by count the pool of 50 comes after the leak's 200 and before churn's 5 */
	n = gosites__rank(&gs, WINDOW, GOSITES_BY_COUNT, r);
	assert_string_equal(r[1].site->func, "main.workerPool");
	assert_true(gosites__total_rate(&gs, WINDOW, &total));
	assert_true(total > 600.0 - 60.0 && total < 600.0 + 60.0);
	assert_int_equal(gs.total, 255);
	assert_int_equal(gs.other, 0);
	gosites__free(&gs);
}

/* One sample gives counts but no rate: the rate is unknown, not 0. */
static void test_one_sample_has_counts_and_no_rate(void **state)
{
	struct gosite_rank r[GOSITES_MAX + 1];
	struct gosite_sample v = site(0x2000, "main.leakHandler", 35, 7);
	struct gosites gs;
	double total = -1;

	gosites__init(&gs);
	assert_int_equal(gosites__rank(&gs, WINDOW, GOSITES_BY_GROWTH, r), 0);
	assert_false(gosites__total_rate(&gs, WINDOW, &total));
	assert_int_equal(gosites__add(&gs, 5 * SEC, WINDOW, &v, 1, 7), 0);
	assert_int_equal(gosites__rank(&gs, WINDOW, GOSITES_BY_GROWTH, r), 1);
	assert_int_equal(r[0].count, 7);
	assert_false(r[0].have_rate);
	assert_false(gosites__total_rate(&gs, WINDOW, &total));
	/* time going back is refused; the state stays */
	assert_int_equal(gosites__add(&gs, 4 * SEC, WINDOW, &v, 1, 7), -EINVAL);
	assert_int_equal(gs.samples, 1);
	gosites__free(&gs);
}

/*
 * Past GOSITES_MAX sites, the smallest are folded into "other", which says
 * how many sites it holds: the per-site counts plus "other" are all the
 * goroutines, and goroutines the reader could not group are in "other" too.
 */
static void test_sites_over_the_cap_fold_into_other_and_nothing_is_dropped(void **state)
{
	static char names[GOSITES_MAX + 10][32];
	struct gosite_sample v[GOSITES_MAX + 10];
	struct gosite_rank r[GOSITES_MAX + 1];
	const struct gosite_rank *o;
	struct gosites gs;
	uint64_t sum = 0, total = 0;
	size_t n;

	gosites__init(&gs);
	for (size_t i = 0; i < GOSITES_MAX + 10; i++) {
		snprintf(names[i], sizeof(names[i]), "main.f%zu", i);
		/* site i has 100 + i goroutines: the 10 smallest fold */
		v[i] = site(0x1000 + i, names[i], (int)i, 100 + i);
		total += 100 + i;
	}
	/* and 3 goroutines the reader could not group */
	for (int t = 0; t < 3; t++)
		assert_int_equal(gosites__add(&gs, (10 + t) * SEC, WINDOW, v, GOSITES_MAX + 10,
					      total + 3), 0);
	assert_int_equal(gs.n, GOSITES_MAX);
	assert_int_equal(gs.other_sites, 10);
	/* 100..109 and the 3 ungrouped */
	assert_int_equal(gs.other, 1045 + 3);
	n = gosites__rank(&gs, WINDOW, GOSITES_BY_COUNT, r);
	assert_int_equal(n, GOSITES_MAX + 1);
	for (size_t i = 0; i < n; i++)
		sum += r[i].count;
	assert_int_equal(sum, total + 3);
	o = find_rank(r, n, NULL);
	assert_non_null(o);
	assert_int_equal(o->count, 1048);
	/* "other" was the same in every sample: it grows by 0, known */
	assert_true(o->have_rate);
	assert_true(o->per_min == 0.0);
	/* the biggest folded site is not tracked; the smallest tracked one is */
	assert_null(find_rank(r, n, "main.f9"));
	assert_non_null(find_rank(r, n, "main.f10"));
	/* a bounded export: the 5 biggest, and all the rest in one figure */
	{
		struct gosite_rank top[5];
		uint64_t rest = 0;

		assert_int_equal(gosites__top(&gs, WINDOW, 5, top, &rest), 5);
		assert_string_equal(top[0].site->func, "main.f41");
		assert_string_equal(top[4].site->func, "main.f37");
		assert_int_equal(top[0].count, 141);
		assert_int_equal(rest, total + 3 - (141 + 140 + 139 + 138 + 137));
		/* fewer sites than asked: all of them, and "other" alone in the rest */
		assert_int_equal(gosites__top(&gs, WINDOW, 100, r, &rest), GOSITES_MAX);
		assert_int_equal(rest, 1048);
	}
	gosites__free(&gs);
}

/*
 * With the table full, a leak that starts late still gets a slot: a site
 * gone for the whole window frees its slot, and a new site more than twice
 * the smallest tracked one takes that one's; its rate counts only from then.
 */
static void test_a_late_leak_takes_a_slot_when_the_table_is_full(void **state)
{
	static char names[GOSITES_MAX][32];
	struct gosite_sample v[GOSITES_MAX + 1];
	struct gosite_rank r[GOSITES_MAX + 1];
	const struct gosite_rank *leak;
	struct gosites gs;
	uint64_t t = 100 * SEC, total;
	size_t n;

	gosites__init(&gs);
	for (size_t i = 0; i < GOSITES_MAX; i++) {
		snprintf(names[i], sizeof(names[i]), "main.steady%zu", i);
		v[i] = site(0x1000 + i, names[i], (int)i, 5);
	}
	total = 5 * GOSITES_MAX;
	assert_int_equal(gosites__add(&gs, t, WINDOW, v, GOSITES_MAX, total), 0);
	/* the leak starts at 4: in "other" while not twice the smallest (5) */
	for (uint64_t k = 0; k < 6; k++) {
		t += SEC;
		v[GOSITES_MAX] = site(0x9000, "main.leakHandler", 35, 4 + 4 * k);
		assert_int_equal(gosites__add(&gs, t, WINDOW, v, GOSITES_MAX + 1,
					      total + 4 + 4 * k), 0);
		n = gosites__rank(&gs, WINDOW, GOSITES_BY_GROWTH, r);
		leak = find_rank(r, n, "main.leakHandler");
		if (k < 2) {
			assert_null(leak);
			assert_int_equal(gs.other, 4 + 4 * k);
		}
	}
	/* it took a slot at 12 (k = 2): 4 samples since, 12 16 20 24 */
	assert_int_equal(gs.replaced, 1);
	assert_int_equal(gs.n, GOSITES_MAX);
	assert_non_null(leak);
	assert_int_equal(leak->count, 24);
	assert_true(leak->have_rate);
	assert_true(leak->span_s == 3.0);
	assert_true(leak->per_min > 239.999 && leak->per_min < 240.001);
	assert_ptr_equal(leak, &r[0]);
	/* the replaced site's 5 goroutines are in "other" now */
	assert_int_equal(gs.other, 5);

	/* a site absent for the whole window frees its slot for a small new one */
	t += WINDOW + SEC;
	v[0] = site(0x7000, "main.newcomer", 70, 1);
	assert_int_equal(gosites__add(&gs, t, WINDOW, v, GOSITES_MAX, total - 4), 0);
	n = gosites__rank(&gs, WINDOW, GOSITES_BY_GROWTH, r);
	assert_non_null(find_rank(r, n, "main.newcomer"));
	assert_null(find_rank(r, n, "main.leakHandler"));
	gosites__free(&gs);
}

/* Hostile or missing names: labels are bounded and never NULL. */
static void test_labels(void **state)
{
	struct gosite_sample v[2] = {
		{ .pc = 1, .func = NULL, .file = NULL, .line = 0, .count = 1 },
		{ .pc = 2, .func = "main.(*T).run", .file = "/a/b/c.go", .line = 9, .count = 2 },
	};
	struct gosite_rank r[GOSITES_MAX + 1];
	char big[600], label[GOSITES_LABEL_MAX];
	struct gosites gs;

	gosites__init(&gs);
	assert_int_equal(gosites__add(&gs, SEC, WINDOW, v, 2, 3), 0);
	assert_int_equal(gosites__rank(&gs, WINDOW, GOSITES_BY_COUNT, r), 2);
	gosites__label(r[0].site, label, sizeof(label));
	assert_string_equal(label, "main.(*T).run c.go:9");
	gosites__label(r[1].site, label, sizeof(label));
	assert_string_equal(label, "? ?:0");
	gosites__label(NULL, label, sizeof(label));
	assert_string_equal(label, "other");
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	v[0].func = big;
	v[0].pc = 3;
	assert_int_equal(gosites__add(&gs, 2 * SEC, WINDOW, v, 1, 1), 0);
	assert_int_equal(gosites__rank(&gs, WINDOW, GOSITES_BY_COUNT, r), 1);
	assert_int_equal(r[0].site->pc, 3);
	gosites__label(r[0].site, label, sizeof(label));
	assert_int_equal(strlen(label), GOSITES_LABEL_MAX - 1);
	/* a name longer than any function's is kept only up to GOSITES_NAME_MAX */
	{
		static char huge[GOSITES_NAME_MAX * 2];

		memset(huge, 'y', sizeof(huge) - 1);
		v[0].func = huge;
		v[0].pc = 4;
		assert_int_equal(gosites__add(&gs, 3 * SEC, WINDOW, v, 1, 1), 0);
		assert_int_equal(gosites__rank(&gs, WINDOW, GOSITES_BY_COUNT, r), 1);
		assert_int_equal(strlen(r[0].site->func), GOSITES_NAME_MAX);
	}
	gosites__free(&gs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_a_leaking_site_ranks_first_with_its_rate_and_count),
		cmocka_unit_test(test_one_sample_has_counts_and_no_rate),
		cmocka_unit_test(test_sites_over_the_cap_fold_into_other_and_nothing_is_dropped),
		cmocka_unit_test(test_a_late_leak_takes_a_slot_when_the_table_is_full),
		cmocka_unit_test(test_labels),
	};

	return cmocka_run_group_tests_name("gosites", tests, NULL, NULL);
}
