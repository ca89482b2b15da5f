// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "model/diff.h"

static const struct diff_opts gate = { .metric = DIFF_INUSE, .max_growth_pct = 10,
				       .min_bytes = 65536 };

/* A stack of key with in-use bytes inuse (allocated: twice that) in process name. */
static void add(struct diff_report *r, const char *name, const char *key, uint64_t inuse)
{
	struct diff_proc *p = diff_report__proc(r, name);
	uint64_t b[DIFF_METRICS] = { [DIFF_INUSE] = inuse, [DIFF_ALLOC] = 2 * inuse };

	assert_non_null(p);
	p->total[DIFF_INUSE] += inuse;
	p->total[DIFF_ALLOC] += 2 * inuse;
	assert_int_equal(diff_report__add_stack(r, p, key, b), 0);
}

static const struct diff_row *row_of(const struct diff_result *res, const char *key)
{
	for (size_t i = 0; i < res->nstacks; i++)
		if (!strcmp(res->stacks[i].key, key))
			return &res->stacks[i];
	return NULL;
}

/*
 * leak_a grew 20% (4096000 -> 4915200 B): over 10% and 64 KiB, a regression;
 * leak_b grew 20% but only 10000 B: under the noise floor; the total grew
 * 829200 B (19.7%): a regression. Two regressions, leak_a's first.
 */
static void test_growth_over_both_thresholds(void **state)
{
	struct diff_report b = {}, n = {};
	struct diff_result res;
	const struct diff_row *a, *lb;

	add(&b, "leaky leaky", "malloc\nleak_a leaky.c:61\nmain leaky.c:174", 4096000);
	add(&b, "leaky leaky", "calloc\nleak_b leaky.c:69\nmain leaky.c:175", 50000);
	add(&b, "leaky leaky", "realloc\nleak_c leaky.c:77\nmain leaky.c:176", 65536);
	add(&n, "leaky leaky", "realloc\nleak_c leaky.c:77\nmain leaky.c:176", 65536);
	add(&n, "leaky leaky", "calloc\nleak_b leaky.c:69\nmain leaky.c:175", 60000);
	add(&n, "leaky leaky", "malloc\nleak_a leaky.c:61\nmain leaky.c:174", 4915200);
	diff_report__finish(&b);
	diff_report__finish(&n);
	assert_int_equal(diff__compute(&b, &n, &gate, &res), 0);
	assert_int_equal(res.nover, 2);
	assert_true(res.total.over);
	assert_int_equal(res.total.growth, 829200);
	/* unchanged stacks are not rows; leak_a first, by growth */
	assert_int_equal(res.nstacks, 2);
	a = &res.stacks[0];
	assert_string_equal(a->key, "malloc\nleak_a leaky.c:61\nmain leaky.c:174");
	assert_int_equal(a->base, 4096000);
	assert_int_equal(a->new, 4915200);
	assert_int_equal(a->growth, 819200);
	assert_true(a->pct == 20.0);
	assert_true(a->over);
	assert_int_equal(a->state, DIFF_BOTH);
	lb = row_of(&res, "calloc\nleak_b leaky.c:69\nmain leaky.c:175");
	assert_non_null(lb);
	assert_int_equal(lb->growth, 10000);
	assert_false(lb->over);
	assert_int_equal(res.nprocs, 1);
	assert_string_equal(res.procs[0].proc, "leaky leaky");
	assert_int_equal(res.procs[0].growth, 829200);
	diff_result__free(&res);

	/* 20% passes a 25% gate; 819200 B passes a 1 MiB floor */
	struct diff_opts o = gate;

	o.max_growth_pct = 25;
	assert_int_equal(diff__compute(&b, &n, &o, &res), 0);
	assert_int_equal(res.nover, 0);
	diff_result__free(&res);
	o = gate;
	o.min_bytes = 1 << 20;
	assert_int_equal(diff__compute(&b, &n, &o, &res), 0);
	assert_int_equal(res.nover, 0);
	diff_result__free(&res);
	/* allocated bytes: twice as much here, so the same shape */
	o = gate;
	o.metric = DIFF_ALLOC;
	assert_int_equal(diff__compute(&b, &n, &o, &res), 0);
	assert_int_equal(res.total.base, 2 * 4211536);
	assert_int_equal(res.stacks[0].growth, 2 * 819200);
	diff_result__free(&res);
	diff_report__free(&b);
	diff_report__free(&n);
}

/* The same report on both sides: nothing changed, no row, exit-0 material. */
static void test_same_report_passes(void **state)
{
	struct diff_report b = {};
	struct diff_result res;

	add(&b, "app app", "malloc\nf a.c:1", 1 << 20);
	add(&b, "app app", "malloc\ng a.c:2", 0);
	diff_report__finish(&b);
	assert_int_equal(diff__compute(&b, &b, &gate, &res), 0);
	assert_int_equal(res.nover, 0);
	assert_int_equal(res.nstacks, 0);
	assert_int_equal(res.total.growth, 0);
	assert_true(res.total.pct == 0.0);
	diff_result__free(&res);
	diff_report__free(&b);
}

/*
 * A stack only in NEW holding 100000 B grew by an infinite percentage: a
 * regression; one of 1000 B is noise. A stack only in BASE vanished: listed,
 * never a regression, last by growth.
 */
static void test_new_and_vanished_stacks(void **state)
{
	struct diff_report b = {}, n = {};
	struct diff_result res;
	const struct diff_row *r;

	add(&b, "app app", "malloc\nkeep a.c:1", 1000000);
	add(&b, "app app", "malloc\ngone a.c:2", 500000);
	add(&n, "app app", "malloc\nkeep a.c:1", 1000000);
	add(&n, "app app", "malloc\nbig a.c:3", 100000);
	add(&n, "app app", "malloc\nsmall a.c:4", 1000);
	diff_report__finish(&b);
	diff_report__finish(&n);
	assert_int_equal(diff__compute(&b, &n, &gate, &res), 0);
	assert_int_equal(res.nstacks, 3);
	r = row_of(&res, "malloc\nbig a.c:3");
	assert_int_equal(r->state, DIFF_NEW);
	assert_true(isinf(r->pct));
	assert_true(r->over);
	r = row_of(&res, "malloc\nsmall a.c:4");
	assert_int_equal(r->state, DIFF_NEW);
	assert_false(r->over);
	r = &res.stacks[2];
	assert_string_equal(r->key, "malloc\ngone a.c:2");
	assert_int_equal(r->state, DIFF_GONE);
	assert_int_equal(r->growth, -500000);
	assert_false(r->over);
	/* the total shrank: 1500000 -> 1101000 */
	assert_false(res.total.over);
	assert_int_equal(res.nover, 1);
	diff_result__free(&res);
	diff_report__free(&b);
	diff_report__free(&n);
}

/*
 * Processes of one name are summed (a make check's many runs of one test),
 * and so are stacks of one key; a process only in NEW is new, its stacks too.
 */
static void test_processes_matched_by_name_and_summed(void **state)
{
	struct diff_report b = {}, n = {};
	struct diff_result res;

	add(&b, "t t", "malloc\nf a.c:1", 100000);
	add(&b, "t t", "malloc\nf a.c:1", 100000);
	add(&n, "t t", "malloc\nf a.c:1", 200000);
	add(&n, "other other", "malloc\nh b.c:1", 70000);
	assert_int_equal(b.nprocs, 1);
	assert_int_equal(b.procs[0].merged, 2);
	diff_report__finish(&b);
	diff_report__finish(&n);
	assert_int_equal(b.procs[0].nstacks, 1);
	assert_int_equal(b.procs[0].stacks[0].bytes[DIFF_INUSE], 200000);
	assert_int_equal(diff__compute(&b, &n, &gate, &res), 0);
	assert_int_equal(res.nprocs, 2);
	assert_string_equal(res.procs[0].proc, "other other");
	assert_int_equal(res.procs[0].state, DIFF_NEW);
	assert_int_equal(res.procs[1].growth, 0);
	assert_int_equal(res.nstacks, 1);
	assert_string_equal(res.stacks[0].proc, "other other");
	assert_true(res.stacks[0].over);
	/* total 200000 -> 270000: +35%, +70000 B > 65536 */
	assert_true(res.total.over);
	assert_int_equal(res.nover, 2);
	diff_result__free(&res);
	diff_report__free(&b);
	diff_report__free(&n);
}

/* The gate's edges: strictly more than both thresholds; huge figures saturate. */
static void test_thresholds_are_strict_and_sums_saturate(void **state)
{
	struct diff_opts o = { .max_growth_pct = 10, .min_bytes = 100 };
	struct diff_report b = {}, n = {};
	struct diff_result res;

	assert_false(diff__over(&o, 1000, 1100));	/* exactly 10%, exactly 100 B */
	assert_true(diff__over(&o, 1000, 1101));
	assert_false(diff__over(&o, 10000, 10101));	/* 101 B but 1.01% */
	assert_false(diff__over(&o, 0, 100));		/* new, but 100 B */
	assert_true(diff__over(&o, 0, 101));
	assert_false(diff__over(&o, 5000, 0));
	o.max_growth_pct = 0;
	assert_true(diff__over(&o, 1000000, 1000101));
	assert_int_equal(diff__sat_add(UINT64_MAX - 1, 5), UINT64_MAX);

	add(&b, "x x", "malloc\nf", 0);
	add(&n, "x x", "malloc\nf", UINT64_MAX / 2);
	add(&n, "x x", "malloc\nf", UINT64_MAX / 2);
	add(&n, "x x", "malloc\nf", UINT64_MAX / 2);
	diff_report__finish(&b);
	diff_report__finish(&n);
	assert_int_equal(n.procs[0].stacks[0].bytes[DIFF_INUSE], UINT64_MAX);
	assert_int_equal(diff__compute(&b, &n, &gate, &res), 0);
	assert_int_equal(res.stacks[0].growth, INT64_MAX);
	diff_result__free(&res);
	/* nonsense options are refused */
	o.max_growth_pct = NAN;
	assert_int_equal(diff__compute(&b, &n, &o, &res), -EINVAL);
	diff_report__free(&b);
	diff_report__free(&n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_growth_over_both_thresholds),
		cmocka_unit_test(test_same_report_passes),
		cmocka_unit_test(test_new_and_vanished_stacks),
		cmocka_unit_test(test_processes_matched_by_name_and_summed),
		cmocka_unit_test(test_thresholds_are_strict_and_sums_saturate),
	};

	return cmocka_run_group_tests_name("diff", tests, NULL, NULL);
}
