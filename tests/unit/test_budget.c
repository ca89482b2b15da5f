// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <cmocka.h>

#include "model/budget.h"
#include "model/run_result.h"

static const uint64_t limits[MS_BUDGET_COUNT] = {
	[MS_BUDGET_LEAKED] = 512 * 1024,
	[MS_BUDGET_PEAK_RSS] = 100 << 20,
	[MS_BUDGET_ALLOCATED] = 2 << 20,
};

/* 1 MiB leaked breaks --max-leaked 512K by exactly 512 KiB; the limit itself holds. */
static void test_broken_by_how_much(void **state)
{
	struct ms_budget_figures f = { .have = { true, true, true } };
	const bool given[MS_BUDGET_COUNT] = { true, false, true };
	struct ms_budget_result r[MS_BUDGET_COUNT];
	size_t n;

	f.value[MS_BUDGET_LEAKED] = 1048576;
	f.value[MS_BUDGET_ALLOCATED] = 2 << 20;
	n = budget__check(limits, given, &f, r);
	assert_int_equal(n, 2);
	assert_int_equal(r[0].budget, MS_BUDGET_LEAKED);
	assert_int_equal(r[0].verdict, MS_VERDICT_BROKEN);
	assert_int_equal(r[0].value, 1048576);
	assert_int_equal(r[0].over, 524288);
	assert_int_equal(r[1].budget, MS_BUDGET_ALLOCATED);
	assert_int_equal(r[1].verdict, MS_VERDICT_HELD);
	assert_int_equal(r[1].over, 0);
	assert_true(budget__failed(r, n));
	assert_false(budget__failed(&r[1], 1));
	assert_string_equal(budget__name(MS_BUDGET_LEAKED), "max-leaked");
}

/* A figure not measured, or a held one that is only a lower bound, is not a pass. */
static void test_unknown_fails_the_gate(void **state)
{
	struct ms_budget_figures f = { .have = { true, false, true } };
	const bool given[MS_BUDGET_COUNT] = { true, true, true };
	struct ms_budget_result r[MS_BUDGET_COUNT];

	f.why_not[MS_BUDGET_PEAK_RSS] = "no status";
	f.value[MS_BUDGET_LEAKED] = 1;
	f.value[MS_BUDGET_ALLOCATED] = 3 << 20;
	f.lower_bound = true;
	assert_int_equal(budget__check(limits, given, &f, r), 3);
	/* within the limit, but more may have been leaked than was seen */
	assert_int_equal(r[0].verdict, MS_VERDICT_UNKNOWN);
	assert_int_equal(r[1].verdict, MS_VERDICT_UNKNOWN);
	assert_string_equal(r[1].why_unknown, "no status");
	/* over the limit already: broken whatever was lost */
	assert_int_equal(r[2].verdict, MS_VERDICT_BROKEN);
	assert_true(budget__failed(r, 1));
}

static struct ms_profile *profile(pid_t pid, uint64_t inuse, uint64_t alloc, uint64_t hwm_kb)
{
	struct ms_profile *p = ms_profile__new(pid);
	struct ms_stack big = { .kind = MS_KIND_MALLOC, .alloc_bytes = alloc - inuse / 2,
				.alloc_count = 1, .free_bytes = alloc - inuse / 2 - inuse / 2,
				.free_count = 0 };
	struct ms_stack small = { .kind = MS_KIND_MALLOC, .alloc_bytes = inuse / 2,
				  .alloc_count = 1 };

	struct ms_frame fs = { .addr = 0x1000, .func = "small_leak" };
	struct ms_frame fb = { .addr = 0x2000, .func = "big_churn" };

	assert_non_null(p);
	small.stack_id = 1;
	big.stack_id = 2;
	assert_non_null(ms_profile__add_stack(p, &small, &fs, 1));
	assert_non_null(ms_profile__add_stack(p, &big, &fb, 1));
	ms_profile__finalize(p);
	p->have_status = true;
	p->status.vm_hwm_kb = hwm_kb;
	return p;
}

/* Two processes: leaks and allocations add up, the peak RSS is the larger one's. */
static void test_run_figures_over_processes(void **state)
{
	struct run_result r = {};
	struct run_proc *a = run_result__add(&r, 100, 0), *b;

	a->p = profile(100, 1000, 5000, 2048);
	b = run_result__add(&r, 101, 100);
	b->p = profile(101, 600, 600, 4096);
	run_result__figures(&r);
	assert_true(r.fig.have[MS_BUDGET_LEAKED]);
	assert_int_equal(r.fig.value[MS_BUDGET_LEAKED], 1600);
	assert_int_equal(r.fig.value[MS_BUDGET_ALLOCATED], 5600);
	assert_int_equal(r.fig.value[MS_BUDGET_PEAK_RSS], 4096 * 1024);
	assert_false(r.fig.estimate);
	/* a process that could not be read makes every total unavailable, with its reason */
	b = run_result__add(&r, 102, 100);
	b->why_none = "its data could not be read";
	run_result__figures(&r);
	assert_false(r.fig.have[MS_BUDGET_LEAKED]);
	assert_int_equal(r.fig.value[MS_BUDGET_LEAKED], 0);
	assert_string_equal(r.fig.why_not[MS_BUDGET_ALLOCATED], "its data could not be read");
	/* one still running when the command ended is left out, not a hole */
	b->running_at_end = true;
	run_result__figures(&r);
	assert_true(r.fig.have[MS_BUDGET_LEAKED]);
	assert_int_equal(r.fig.value[MS_BUDGET_LEAKED], 1600);
	run_result__free(&r);
}

/* A Go process: n goroutines at exit, the main one among them, in sites of these counts. */
static void go_at_exit(struct ms_profile *p, uint64_t n, const uint64_t *sites, size_t nsites)
{
	p->go.present = true;
	p->go.have_goroutines = true;
	p->go.goroutines = n;
	p->go.main_goroutine = 1;
	/* collect.c's order: biggest first, the main goroutine's site among them */
	for (size_t i = 0; i < nsites; i++) {
		p->go.groups[i].count = sites[i];
		p->go.groups[i].func = strdup(sites[i] == 1 && i == nsites - 1 ? "runtime.main" :
					      "main.leak");
		p->go.groups[i].main_goroutine = i == nsites - 1;
	}
	p->go.ngroups = nsites;
}

/*
 * Goroutines alive at exit: summed over the Go processes, each one's main
 * goroutine left out (it is the process); a C process has none; one whose
 * goroutines could not be read makes the figure unavailable, with its reason.
 */
static void test_goroutines_at_exit(void **state)
{
	static const uint64_t sites_a[] = { 7, 1 }, sites_b[] = { 2, 1 };
	struct run_result r = {};
	struct run_proc *a = run_result__add(&r, 100, 0), *b, *c;
	size_t idx[4];

	(void)state;
	a->p = profile(100, 0, 0, 2048);
	go_at_exit(a->p, 8, sites_a, 2);
	b = run_result__add(&r, 101, 100);
	b->p = profile(101, 600, 600, 4096);	/* C: no goroutines */
	c = run_result__add(&r, 102, 100);
	c->p = profile(102, 0, 0, 4096);
	go_at_exit(c->p, 3, sites_b, 2);
	run_result__figures(&r);
	assert_true(r.fig.have[MS_BUDGET_GOROUTINES]);
	assert_int_equal(r.fig.value[MS_BUDGET_GOROUTINES], 7 + 2);
	/* the sites behind it: not the main goroutine's */
	assert_int_equal(run_result__sites_behind(a->p, idx, 4), 1);
	assert_int_equal(idx[0], 0);
	assert_int_equal(a->p->go.groups[idx[0]].count, 7);
	assert_int_equal(run_result__sites_behind(a->p, idx, 0), 0);
	assert_int_equal(run_result__sites_behind(b->p, idx, 4), 0);
	/* exact so far; a go-heap stack (the runtime's samples) makes the byte figures estimates */
	assert_false(r.fig.estimate);
	{
		struct ms_stack gs = { .kind = MS_KIND_GO_INUSE, .alloc_bytes = 524288,
				       .alloc_count = 1, .stack_id = 3 };
		struct ms_frame f = { .addr = 0x3000, .func = "main.alloc" };

		assert_non_null(ms_profile__add_stack(c->p, &gs, &f, 1));
		ms_profile__finalize(c->p);
	}
	run_result__figures(&r);
	assert_true(r.fig.estimate);
	/* unreadable goroutines: the goroutine figure is unknown, the others are not */
	c->p->go.have_goroutines = false;
	c->p->go.goroutines_reason = strdup("runtime.allgs did not read");
	run_result__figures(&r);
	assert_false(r.fig.have[MS_BUDGET_GOROUTINES]);
	assert_string_equal(r.fig.why_not[MS_BUDGET_GOROUTINES], "runtime.allgs did not read");
	assert_true(r.fig.have[MS_BUDGET_LEAKED]);
	run_result__free(&r);
}

/*
 * A budget per name counts the processes of that comm or executable basename
 * only: the leaking child's 600 B, not its parent's 1000 B.
 */
static void test_figures_of_one_name(void **state)
{
	struct run_result r = {};
	struct run_proc *a = run_result__add(&r, 100, 0), *b;
	struct ms_budget_figures f;
	struct ms_budget_result res;

	a->p = profile(100, 1000, 5000, 2048);
	snprintf(a->p->comm, sizeof(a->p->comm), "sh");
	b = run_result__add(&r, 101, 100);
	b->p = profile(101, 600, 600, 4096);
	snprintf(b->p->comm, sizeof(b->p->comm), "leakexit");
	b->p->exe = strdup("/work/build/tests/targets/leakexit-long-name");
	assert_non_null(b->p->exe);
	run_result__figures_of(&r, "leakexit", &f);
	assert_true(f.have[MS_BUDGET_LEAKED]);
	assert_int_equal(f.value[MS_BUDGET_LEAKED], 600);
	assert_int_equal(f.value[MS_BUDGET_PEAK_RSS], 4096 * 1024);
	/* by the executable's basename too (a comm is cut at 15 characters) */
	run_result__figures_of(&r, "leakexit-long-name", &f);
	assert_int_equal(f.value[MS_BUDGET_ALLOCATED], 600);
	run_result__figures_of(&r, "sh", &f);
	assert_int_equal(f.value[MS_BUDGET_LEAKED], 1000);
	budget__check_one(MS_BUDGET_LEAKED, 999, "sh", &f, &res);
	assert_int_equal(res.verdict, MS_VERDICT_BROKEN);
	assert_int_equal(res.over, 1);
	assert_string_equal(res.who, "sh");
	/* a name no process had: nothing proves the budget held */
	run_result__figures_of(&r, "make", &f);
	assert_false(f.have[MS_BUDGET_LEAKED]);
	budget__check_one(MS_BUDGET_LEAKED, 1 << 20, "make", &f, &res);
	assert_int_equal(res.verdict, MS_VERDICT_UNKNOWN);
	assert_string_equal(res.why_unknown, "no process of that name ran");
	/* a process not observed could have been of any name */
	b = run_result__add(&r, 102, 100);
	b->why_none = "its data could not be read";
	run_result__figures_of(&r, "leakexit", &f);
	assert_false(f.have[MS_BUDGET_LEAKED]);
	assert_string_equal(f.why_not[MS_BUDGET_LEAKED], "its data could not be read");
	run_result__free(&r);
	(void)state;
}

/* "NAME=SIZE": the name and the bytes; anything else is refused. */
/* A goroutines budget is a plain count: no units, no sign; a broken one says by how many. */
static void test_goroutines_count(void **state)
{
	struct ms_budget_figures f = { .have = { [MS_BUDGET_GOROUTINES] = true },
				       .value = { [MS_BUDGET_GOROUTINES] = 7 },
				       .lower_bound = true };
	struct ms_budget_named nb;
	struct ms_budget_result r;
	uint64_t v;

	(void)state;
	assert_true(budget__is_count(MS_BUDGET_GOROUTINES));
	assert_false(budget__is_count(MS_BUDGET_LEAKED));
	assert_string_equal(budget__name(MS_BUDGET_GOROUTINES), "max-goroutines-at-exit");
	assert_int_equal(budget__parse_limit(MS_BUDGET_GOROUTINES, "10", &v), 0);
	assert_int_equal(v, 10);
	assert_int_equal(budget__parse_limit(MS_BUDGET_GOROUTINES, "0", &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(budget__parse_limit(MS_BUDGET_GOROUTINES, "1K", &v), -EINVAL);
	assert_int_equal(budget__parse_limit(MS_BUDGET_GOROUTINES, "-1", &v), -EINVAL);
	assert_int_equal(budget__parse_limit(MS_BUDGET_GOROUTINES, " 1", &v), -EINVAL);
	assert_int_equal(budget__parse_limit(MS_BUDGET_GOROUTINES, "", &v), -EINVAL);
	assert_int_equal(budget__parse_limit(MS_BUDGET_GOROUTINES, "1099511627777", &v), -ERANGE);
	assert_int_equal(budget__parse_limit(MS_BUDGET_GOROUTINES, "99999999999999999999999", &v),
			 -ERANGE);
	assert_int_equal(budget__parse_named(MS_BUDGET_GOROUTINES, "leak.test=3", &nb), 0);
	assert_string_equal(nb.who, "leak.test");
	assert_int_equal(nb.limit, 3);
	/* 7 alive, at most 6: broken by 1; events lost do not make a count read from memory unknown */
	budget__check_one(MS_BUDGET_GOROUTINES, 6, NULL, &f, &r);
	assert_int_equal(r.verdict, MS_VERDICT_BROKEN);
	assert_int_equal(r.over, 1);
	budget__check_one(MS_BUDGET_GOROUTINES, 7, NULL, &f, &r);
	assert_int_equal(r.verdict, MS_VERDICT_HELD);
}

static void test_parse_named(void **state)
{
	struct ms_budget_named nb;
	char longname[MS_BUDGET_WHO_LEN + 8];

	assert_int_equal(budget__parse_named(MS_BUDGET_PEAK_RSS, "leakexit=1M", &nb), 0);
	assert_int_equal(nb.budget, MS_BUDGET_PEAK_RSS);
	assert_string_equal(nb.who, "leakexit");
	assert_int_equal(nb.limit, 1 << 20);
	assert_int_equal(budget__parse_named(MS_BUDGET_LEAKED, "a=b=1M", &nb),
			 -EINVAL);
	assert_int_equal(budget__parse_named(MS_BUDGET_LEAKED, "=1M", &nb),
			 -EINVAL);
	assert_int_equal(budget__parse_named(MS_BUDGET_LEAKED, "1M", &nb),
			 -EINVAL);
	assert_int_equal(budget__parse_named(MS_BUDGET_LEAKED, "bin/x=1M", &nb),
			 -EINVAL);
	assert_int_equal(budget__parse_named(MS_BUDGET_LEAKED, "x=", &nb),
			 -EINVAL);
	assert_int_equal(budget__parse_named(MS_BUDGET_LEAKED, "x=2000000000000000000", &nb),
			 -ERANGE);
	memset(longname, 'n', sizeof(longname));
	strcpy(&longname[MS_BUDGET_WHO_LEN], "=1M");
	assert_int_equal(budget__parse_named(MS_BUDGET_LEAKED, longname, &nb),
			 -EINVAL);
	strcpy(&longname[MS_BUDGET_WHO_LEN - 1], "=1M");
	assert_int_equal(budget__parse_named(MS_BUDGET_LEAKED, longname, &nb),
			 0);
	assert_int_equal(strlen(nb.who), MS_BUDGET_WHO_LEN - 1);
	(void)state;
}

/* The stacks behind a budget, most first: by bytes in use, or by bytes allocated. */
static void test_stacks_behind(void **state)
{
	struct ms_profile *p = profile(1, 1000, 5000, 1);
	size_t idx[4];

	/* in use: 500 each (small: 500 allocated, big: 4500 allocated, 500 in use) */
	assert_int_equal(run_result__stacks_behind(p, MS_BUDGET_ALLOCATED, idx, 4), 2);
	assert_int_equal(p->stacks[idx[0]].alloc_bytes, 4500);
	assert_string_equal(p->stacks[idx[0]].frames[0].func, "big_churn");
	assert_int_equal(p->stacks[idx[1]].alloc_bytes, 500);
	assert_int_equal(run_result__stacks_behind(p, MS_BUDGET_ALLOCATED, idx, 1), 1);
	assert_int_equal(p->stacks[idx[0]].alloc_bytes, 4500);
	assert_int_equal(run_result__stacks_behind(p, MS_BUDGET_LEAKED, idx, 4), 2);
	assert_int_equal(p->stacks[idx[0]].inuse_bytes, 500);
	ms_profile__free(p);
}

/*
 * A process keeps only the stacks a budget could name: the most in use at
 * exit and the most allocated; the totals stay those of all its stacks.
 */
static void test_trim_keeps_what_budgets_name(void **state)
{
	struct ms_profile *p = ms_profile__new(1);
	struct run_proc rp = { .pid = 1 };
	size_t idx[4];

	assert_non_null(p);
	for (int i = 0; i < 10; i++) {
		/* stack i: i * 100 B in use, (10 - i) * 1000 B allocated */
		struct ms_stack s = { .kind = MS_KIND_MALLOC, .stack_id = i + 1,
				      .alloc_bytes = (10 - i) * 1000, .alloc_count = 2,
				      .free_bytes = (10 - i) * 1000 - i * 100, .free_count = 1 };
		static const char *const names[] = { "f0", "f1", "f2", "f3", "f4", "f5", "f6",
						     "f7", "f8", "f9" };
		struct ms_frame f = { .addr = 0x1000 + i, .func = (char *)names[i] };

		assert_non_null(ms_profile__add_stack(p, &s, &f, 1));
	}
	ms_profile__finalize(p);
	rp.p = p;
	assert_int_equal(p->inuse_bytes, 4500);
	assert_int_equal(run_result__trim(&rp, 2), 0);
	/* in use 900 and 800 (stacks 9, 8); allocated 10000 and 9000 (stacks 0, 1) */
	assert_int_equal(p->nstacks, 4);
	assert_int_equal(rp.stacks_dropped, 6);
	assert_int_equal(p->inuse_bytes, 4500);
	assert_int_equal(run_result__stacks_behind(p, MS_BUDGET_LEAKED, idx, 4), 3);
	assert_int_equal(p->stacks[idx[0]].inuse_bytes, 900);
	assert_int_equal(run_result__stacks_behind(p, MS_BUDGET_ALLOCATED, idx, 1), 1);
	assert_int_equal(p->stacks[idx[0]].alloc_bytes, 10000);
	/* the dropped stacks 2..7 summed for a profile of every stack (run --pprof) */
	assert_int_equal(rp.dropped[MS_KIND_MALLOC].inuse_bytes, 2700);
	assert_int_equal(rp.dropped[MS_KIND_MALLOC].inuse_count, 6);
	assert_int_equal(rp.dropped[MS_KIND_MALLOC].alloc_bytes, 33000);
	assert_int_equal(rp.dropped[MS_KIND_MALLOC].alloc_count, 12);
	assert_int_equal(rp.dropped[MS_KIND_MALLOC].kind, MS_KIND_MALLOC);
	assert_int_equal(rp.dropped[MS_KIND_CALLOC].alloc_count, 0);
	/* fewer stacks than kept: nothing to do */
	assert_int_equal(run_result__trim(&rp, 8), 0);
	assert_int_equal(p->nstacks, 4);
	ms_profile__free(p);
	(void)state;
}

/* The status a shell would give: the code, or 128 + the signal. */
static void test_shell_status(void **state)
{
	assert_int_equal(run_result__shell_status(3 << 8), 3);
	assert_int_equal(run_result__shell_status(15), 143);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_broken_by_how_much),
		cmocka_unit_test(test_unknown_fails_the_gate),
		cmocka_unit_test(test_run_figures_over_processes),
		cmocka_unit_test(test_goroutines_at_exit),
		cmocka_unit_test(test_figures_of_one_name),
		cmocka_unit_test(test_parse_named),
		cmocka_unit_test(test_goroutines_count),
		cmocka_unit_test(test_stacks_behind),
		cmocka_unit_test(test_trim_keeps_what_budgets_name),
		cmocka_unit_test(test_shell_status),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
