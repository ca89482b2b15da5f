// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "model/explain.h"
#include "export/explain_report.h"

#define MIB (1024ull * 1024)

static uint64_t sum(const struct explain *e)
{
	uint64_t s = 0;

	for (int c = 0; c < EX__MAX; c++)
		s += e->bytes[c];
	return s;
}

/* 200 MiB mapped with mmap and touched: all of it is "other anonymous
 * mappings", and memsight says it came from tracked mmap calls. */
static void test_mmap_toucher(void **state)
{
	struct explain_in in = { .smaps = { .rss = 202 * MIB, .heap = 0, .stack = 132 * 1024,
					    .anon = 200 * MIB + 40 * 1024,
					    .file = 2 * MIB - 172 * 1024 },
				 .mmap_inuse = 200 * MIB };
	struct explain e;

	explain__compute(&in, &e);
	assert_int_equal(e.bytes[EX_OTHER_ANON], 200 * MIB + 40 * 1024);
	assert_int_equal(e.of_which_tracked_mmap, 200 * MIB);
	assert_int_equal(e.bytes[EX_MALLOC], 0);
	assert_int_equal(sum(&e), e.rss);
}

/* malloc'd bytes fill [heap] first, the rest is in anonymous mappings; heap
 * not covered by tracked allocations is unexplained. */
static void test_malloc_heap_then_anon(void **state)
{
	struct explain_in in = { .smaps = { .rss = 20 * MIB, .heap = 6 * MIB, .anon = 10 * MIB,
					    .file = 4 * MIB },
				 .malloc_inuse = 8 * MIB };
	struct explain e;

	explain__compute(&in, &e);
	assert_int_equal(e.bytes[EX_MALLOC], 8 * MIB);
	assert_int_equal(e.bytes[EX_OTHER_ANON], 8 * MIB);
	assert_int_equal(e.bytes[EX_UNEXPLAINED], 0);
	in.malloc_inuse = 1 * MIB;
	explain__compute(&in, &e);
	assert_int_equal(e.bytes[EX_UNEXPLAINED], 5 * MIB);
	assert_int_equal(sum(&e), e.rss);
}

/* Go: heap in use, idle-not-released and goroutine stacks come out of
 * anonymous memory; released memory is not resident; never more than there is. */
static void test_go_and_clamping(void **state)
{
	struct explain_in in = { .smaps = { .rss = 30 * MIB, .anon = 24 * MIB, .stack = MIB,
					    .file = 5 * MIB },
				 .have_go = 1, .go_heap_inuse = 12 * MIB, .go_heap_idle = 10 * MIB,
				 .go_heap_released = 4 * MIB, .go_stack_inuse = 3 * MIB };
	struct explain e;

	explain__compute(&in, &e);
	assert_int_equal(e.bytes[EX_GO_HEAP], 12 * MIB);
	assert_int_equal(e.bytes[EX_GO_IDLE], 6 * MIB);
	assert_int_equal(e.bytes[EX_STACKS], 4 * MIB);
	assert_int_equal(e.bytes[EX_OTHER_ANON], 3 * MIB);
	assert_int_equal(e.go_released, 4 * MIB);
	assert_int_equal(sum(&e), e.rss);
	/* the runtime claims more than is resident: clamped, still adds up */
	in.go_heap_inuse = 100 * MIB;
	explain__compute(&in, &e);
	assert_int_equal(e.bytes[EX_GO_HEAP], 24 * MIB);
	assert_int_equal(e.bytes[EX_OTHER_ANON], 0);
	assert_int_equal(sum(&e), e.rss);
}

static char *render(const struct explain *e, const struct ms_profile *p, bool json)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	if (json) {
		struct json_writer *w = jw__new(f);

		assert_non_null(w);
		explain__json(e, p, w);
		jw__free(w);
	} else {
		explain__text(e, p, f);
	}
	assert_int_equal(fclose(f), 0);
	return buf;
}

/*
 * A Go process whose heap could not be read: its Go lines say so with the
 * reason, in text and JSON, and are never a 0.
 */
static void test_go_heap_unavailable_is_said(void **state)
{
	struct explain_in in = { .smaps = { .rss = 30 * MIB, .anon = 24 * MIB, .file = 6 * MIB } };
	struct ms_profile p = { .pid = 7, .comm = "svc" };
	struct explain e;
	char *t;

	p.go.present = true;
	p.go.have_heap = false;
	p.go.heap_reason = "no built-in layout for go1.99";
	explain__compute(&in, &e);
	t = render(&e, &p, false);
	assert_non_null(strstr(t, "Go heap in use: unavailable (no built-in layout for go1.99)"));
	assert_non_null(strstr(t, "Go heap idle, not yet released: unavailable (no built-in"));
	assert_null(strstr(t, "0 B    0.0%  Go heap"));
	free(t);
	t = render(&e, &p, true);
	assert_null(strstr(t, "\"go_heap_inuse\""));
	assert_null(strstr(t, "\"go_heap_idle_unreleased\""));
	assert_non_null(strstr(t, "\"go_heap_unavailable\":\"no built-in layout for go1.99\""));
	free(t);

	/* read: the figures, and no unavailable key */
	p.go.have_heap = true;
	t = render(&e, &p, true);
	assert_non_null(strstr(t, "\"go_heap_inuse\":0"));
	assert_null(strstr(t, "go_heap_unavailable"));
	free(t);
}

/*
 * Lower bounds are the process's own: events another process lost (the
 * daemon-wide counters) do not flag it; its own do, in text and JSON.
 */
static void test_lower_bound_is_the_process_own(void **state)
{
	struct explain_in in = { .smaps = { .rss = 30 * MIB, .anon = 24 * MIB, .file = 6 * MIB } };
	struct ms_profile p = { .pid = 7, .comm = "quiet" };
	struct explain e;
	char *t;

	p.loss.stack_quota = 18000;	/* a neighbour overflowed its quota */
	p.have_lost = true;
	explain__compute(&in, &e);
	t = render(&e, &p, false);
	assert_null(strstr(t, "lower bounds"));
	free(t);
	t = render(&e, &p, true);
	assert_non_null(strstr(t, "\"lower_bound\":false"));
	free(t);
	p.lost = 3;
	t = render(&e, &p, false);
	assert_non_null(strstr(t, "tracked bytes are lower bounds"));
	free(t);
	t = render(&e, &p, true);
	assert_non_null(strstr(t, "\"lower_bound\":true"));
	free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mmap_toucher),
		cmocka_unit_test(test_malloc_heap_then_anon),
		cmocka_unit_test(test_go_and_clamping),
		cmocka_unit_test(test_go_heap_unavailable_is_said),
		cmocka_unit_test(test_lower_bound_is_the_process_own),
	};

	return cmocka_run_group_tests_name("explain", tests, NULL, NULL);
}
