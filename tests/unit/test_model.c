// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "memsight_abi.h"
#include "model.h"

static void add(struct ms_profile *p, int id, uint64_t ab, uint64_t ac, uint64_t fb, uint64_t fc,
		const char *fn)
{
	struct ms_stack t = { .kind = MS_KIND_MALLOC, .stack_id = id, .alloc_bytes = ab,
			      .alloc_count = ac, .free_bytes = fb, .free_count = fc };
	struct ms_frame f = { .addr = 0x1000 + id, .func = (char *)fn, .module = "/bin/x" };

	assert_non_null(ms_profile__add_stack(p, &t, &f, 1));
}

/* finalize() derives in-use = alloc - free and orders stacks by it */
static void test_finalize_orders_by_inuse(void **state)
{
	struct ms_profile *p = ms_profile__new(42);

	assert_non_null(p);
	add(p, 1, 1000, 10, 1000, 10, "all_freed");
	add(p, 2, 4096000, 1000, 0, 0, "leak_a");
	add(p, 3, 100000, 1000, 50000, 500, "leak_b");
	ms_profile__finalize(p);
	assert_int_equal(p->nstacks, 3);
	assert_string_equal(p->stacks[0].frames[0].func, "leak_a");
	assert_int_equal(p->stacks[0].inuse_bytes, 4096000);
	assert_string_equal(p->stacks[1].frames[0].func, "leak_b");
	assert_int_equal(p->stacks[1].inuse_bytes, 50000);
	assert_int_equal(p->stacks[1].inuse_count, 500);
	assert_int_equal(p->stacks[2].inuse_bytes, 0);
	assert_int_equal(p->inuse_bytes, 4146000);
	assert_int_equal(p->alloc_count, 2010);
	ms_profile__free(p);
}

/* strings are copied: the caller's buffers may be reused at once */
static void test_add_copies_strings(void **state)
{
	struct ms_profile *p = ms_profile__new(1);
	char name[16] = "first";
	struct ms_stack t = { .stack_id = 7 };
	struct ms_frame f = { .func = name };

	assert_non_null(ms_profile__add_stack(p, &t, &f, 1));
	strcpy(name, "second");
	assert_string_equal(p->stacks[0].frames[0].func, "first");
	assert_null(p->stacks[0].frames[0].module);
	ms_profile__free(p);
}

static void test_kind_names(void **state)
{
	assert_string_equal(ms_kind__name(MS_KIND_CALLOC), "calloc");
	assert_string_equal(ms_kind__name(MS_KIND_MMAP), "mmap");
	assert_string_equal(ms_kind__name(9999), "unknown");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_finalize_orders_by_inuse),
		cmocka_unit_test(test_add_copies_strings),
		cmocka_unit_test(test_kind_names),
	};

	return cmocka_run_group_tests_name("model", tests, NULL, NULL);
}
