// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "export/folded.h"
#include "../fixtures/exporters/profile.h"

/* folded__write() into a string the caller frees */
static char *fold(const struct ms_profile *p, enum folded_value v)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	assert_int_equal(folded__write(p, v, f), 0);
	assert_int_equal(fclose(f), 0);
	return buf;
}

/* in-use bytes, root first, kind as leaf, sorted; the fully freed stack has no line */
static void test_inuse_bytes_exact(void **state)
{
	struct ms_profile *p = sample_profile(0);
	char *out = fold(p, FOLDED_INUSE_BYTES);

	assert_string_equal(out,
		"main;leak_a;malloc 4096000\n"
		"main;leak_b;calloc 50000\n"
		"main;libfoo.so+0x2234;malloc 4000\n"
		"main;std::vector<int, std::allocator<int> >::push_back(int const&);malloc 8192\n"
		"main;weird:name\\nx;malloc 1000\n");
	free(out);
	ms_profile__free(p);
}

/* allocation counts keep what was freed: leak_b allocated 1000 though 500 remain */
static void test_alloc_and_inuse_counts(void **state)
{
	struct ms_profile *p = sample_profile(0);
	char *alloc = fold(p, FOLDED_ALLOC_COUNT), *inuse = fold(p, FOLDED_INUSE_COUNT);
	char *abytes = fold(p, FOLDED_ALLOC_BYTES);

	assert_string_equal(alloc,
		"main;all_freed;malloc 2\n"
		"main;leak_a;malloc 1000\n"
		"main;leak_b;calloc 1000\n"
		"main;libfoo.so+0x2234;malloc 4\n"
		"main;std::vector<int, std::allocator<int> >::push_back(int const&);malloc 2\n"
		"main;weird:name\\nx;malloc 1\n");
	assert_non_null(strstr(inuse, "main;leak_b;calloc 500\n"));
	assert_null(strstr(inuse, "all_freed"));
	assert_non_null(strstr(abytes, "main;leak_b;calloc 100000\n"));
	assert_non_null(strstr(abytes, "main;all_freed;malloc 2000\n"));
	free(alloc);
	free(inuse);
	free(abytes);
	ms_profile__free(p);
}

/*
 * Two call sites in leak_a (different addresses, stack ids) are one folded
 * line with the sum; a frame without module or name is its address; a stack
 * the kernel could not give is "[unknown]".
 */
static void test_identical_lines_merge(void **state)
{
	struct ms_profile *p = ms_profile__new(1);
	struct ms_stack t = { .kind = MS_KIND_MALLOC, .stack_id = 1, .alloc_bytes = 4096000,
			      .alloc_count = 1000 };
	struct ms_frame a[2] = {
		exe_frame(0x401136, "leak_a", 12), exe_frame(0x401300, "main", 40),
	};
	struct ms_frame b[2] = {
		exe_frame(0x401150, "leak_a", 14), exe_frame(0x401310, "main", 41),
	};
	struct ms_frame anon = { .addr = 0xdeadbeef };
	char *out;

	assert_non_null(ms_profile__add_stack(p, &t, a, 2));
	t.stack_id = 2;
	t.alloc_bytes = 4096;
	t.alloc_count = 1;
	assert_non_null(ms_profile__add_stack(p, &t, b, 2));
	t.stack_id = 3;
	assert_non_null(ms_profile__add_stack(p, &t, &anon, 1));
	t.stack_id = -14;	/* -EFAULT from bpf_get_stackid */
	t.kind = MS_KIND_MMAP;
	t.alloc_bytes = 8192;
	assert_non_null(ms_profile__add_stack(p, &t, NULL, 0));
	ms_profile__finalize(p);

	out = fold(p, FOLDED_INUSE_BYTES);

	assert_string_equal(out,
		"0xdeadbeef;malloc 4096\n"
		"[unknown];mmap 8192\n"
		"main;leak_a;malloc 4100096\n");
	free(out);
	ms_profile__free(p);
}

/* names: function, else module basename + file offset, else address; cut on a UTF-8 boundary */
static void test_frame_names(void **state)
{
	struct ms_frame lib = lib_frame(0x7f1000001234ull);
	struct ms_frame outside = lib_frame(0x7f2000000000ull);
	struct ms_frame utf = exe_frame(0x401000, "f\xc3\xa9\xc3\xa9", 1);	/* "féé" */
	char buf[FOLDED_NAME_MAX + 1];
	char *big = malloc(3 * FOLDED_NAME_MAX);
	struct ms_frame huge;

	assert_int_equal(folded__frame_name(&lib, buf, sizeof(buf)), strlen("libfoo.so+0x2234"));
	assert_string_equal(buf, "libfoo.so+0x2234");
	folded__frame_name(&outside, buf, sizeof(buf));
	assert_string_equal(buf, "0x7f2000000000");
	/* 5 bytes would split the second 'é' (bytes 3-4): keep "fé" */
	assert_int_equal(folded__frame_name(&utf, buf, 5), 3);
	assert_string_equal(buf, "f\xc3\xa9");

	memset(big, 'x', 3 * FOLDED_NAME_MAX - 1);
	big[3 * FOLDED_NAME_MAX - 1] = '\0';
	huge = exe_frame(0x401000, big, 1);
	assert_int_equal(folded__frame_name(&huge, buf, sizeof(buf)), FOLDED_NAME_MAX);
	free(big);
}

/* a sampled profile's folded values are the unsampled ones pprof would show */
/* A symbol from a hostile binary: ESC, a raw C1 CSI byte, U+009B in UTF-8, a newline and ';'
 * come out as visible text: one frame, one line, nothing a terminal acts on. */
static void test_hostile_frame_name(void **state)
{
	struct ms_frame f = exe_frame(0x401000, "a\x1b[2J\x9b" "2J\xc2\x9b" "2J;b\nc", 1);
	char buf[FOLDED_NAME_MAX + 1];

	folded__frame_name(&f, buf, sizeof(buf));
	assert_string_equal(buf, "a\\x1b[2J\\x9b2J\\u009b2J:b\\nc");
}

static void test_sampled_profile_is_scaled(void **state)
{
	struct ms_profile *p = sample_profile(524288);
	char *out = fold(p, FOLDED_ALLOC_COUNT);
	char expect[64];

	snprintf(expect, sizeof(expect), "main;leak_a;malloc %llu\n",
		 (unsigned long long)(1000 / (1.0 - exp(-4096.0 / 524288.0))));
	assert_non_null(strstr(out, expect));
	free(out);
	ms_profile__free(p);
}

static void test_parse_value(void **state)
{
	enum folded_value v;

	assert_int_equal(folded__parse_value("inuse_space", &v), 0);
	assert_int_equal(v, FOLDED_INUSE_BYTES);
	assert_int_equal(folded__parse_value("alloc_objects", &v), 0);
	assert_int_equal(v, FOLDED_ALLOC_COUNT);
	assert_int_equal(folded__parse_value("alloc_bytes", &v), 0);
	assert_int_equal(v, FOLDED_ALLOC_BYTES);
	assert_int_equal(folded__parse_value("bogus", &v), -EINVAL);
	assert_string_equal(folded__value_name(FOLDED_INUSE_COUNT), "inuse_count");
	assert_string_equal(folded__value_name(99), "unknown");
}

/* an empty profile is an empty file; a full disk is -EIO, not silence */
static void test_empty_and_write_error(void **state)
{
	struct ms_profile *empty = ms_profile__new(1), *p = sample_profile(0);
	char *out;
	FILE *full;

	ms_profile__finalize(empty);
	out = fold(empty, FOLDED_INUSE_BYTES);
	assert_string_equal(out, "");
	free(out);

	full = fopen("/dev/full", "w");
	if (!full) {
		ms_profile__free(empty);
		ms_profile__free(p);
		skip();
	}
	assert_int_equal(folded__write(p, FOLDED_INUSE_BYTES, full), -EIO);
	fclose(full);
	ms_profile__free(empty);
	ms_profile__free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_inuse_bytes_exact),
		cmocka_unit_test(test_alloc_and_inuse_counts),
		cmocka_unit_test(test_identical_lines_merge),
		cmocka_unit_test(test_frame_names),
		cmocka_unit_test(test_hostile_frame_name),
		cmocka_unit_test(test_sampled_profile_is_scaled),
		cmocka_unit_test(test_parse_value),
		cmocka_unit_test(test_empty_and_write_error),
	};

	return cmocka_run_group_tests_name("folded", tests, NULL, NULL);
}
