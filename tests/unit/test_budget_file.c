// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "model/budget_file.h"

static int parse(const char *text, struct ms_budget_set *set, char *err, size_t errlen)
{
	return budget_file__parse(text, strlen(text), "mem.budgets", set, err, errlen);
}

/* Whole-run and per-name budgets, comments, blanks and tabs. */
static void test_a_budgets_file(void **state)
{
	struct ms_budget_set s;
	char err[256] = "";

	assert_int_equal(parse("# memory budgets of make check\n"
			       "\n"
			       "max-leaked 512K   # the whole run\n"
			       "\tmax-peak-rss\t64M\r\n"
			       "max-leaked leakexit=1M\n"
			       "max-allocated sh=2G\n"
			       "max-goroutines-at-exit leak.test=0\n"
			       "max-goroutines-at-exit 12\n"
			       "   # indented comment", &s, err, sizeof(err)), 0);
	assert_true(s.total_given[MS_BUDGET_LEAKED]);
	assert_int_equal(s.total[MS_BUDGET_LEAKED], 512 * 1024);
	assert_true(s.total_given[MS_BUDGET_PEAK_RSS]);
	assert_int_equal(s.total[MS_BUDGET_PEAK_RSS], 64 << 20);
	assert_false(s.total_given[MS_BUDGET_ALLOCATED]);
	assert_int_equal(s.nnamed, 3);
	assert_true(s.total_given[MS_BUDGET_GOROUTINES]);
	assert_int_equal(s.total[MS_BUDGET_GOROUTINES], 12);
	assert_int_equal(s.named[2].budget, MS_BUDGET_GOROUTINES);
	assert_string_equal(s.named[2].who, "leak.test");
	assert_int_equal(s.named[2].limit, 0);
	assert_int_equal(s.named[0].budget, MS_BUDGET_LEAKED);
	assert_string_equal(s.named[0].who, "leakexit");
	assert_int_equal(s.named[0].limit, 1 << 20);
	assert_int_equal(s.named[1].budget, MS_BUDGET_ALLOCATED);
	assert_string_equal(s.named[1].who, "sh");
	assert_int_equal(s.named[1].limit, 2ull << 30);
	/* empty: no budget, not an error */
	assert_int_equal(parse("", &s, err, sizeof(err)), 0);
	assert_int_equal(s.nnamed, 0);
	assert_false(s.total_given[MS_BUDGET_LEAKED]);
	(void)state;
}

/* Each mistake names the file and the line, and leaves no half-read budgets. */
static void test_errors_name_file_and_line(void **state)
{
	static const struct {
		const char *text;
		const char *err;
	} bad[] = {
		{ "max-leaked 1M\nmax-leakd 2M\n",
		  "mem.budgets:2: unknown budget 'max-leakd' (max-leaked, max-peak-rss, "
		  "max-allocated or max-goroutines-at-exit)" },
		{ "\n\nmax-leaked\n", "mem.budgets:3: max-leaked needs a value: SIZE or NAME=SIZE" },
		{ "max-leaked 1M 2M\n", "mem.budgets:1: one value a line: unexpected '2M'" },
		{ "max-leaked lots\n", "mem.budgets:1: invalid max-leaked 'lots': SIZE (4096, 512K, "
		  "1M, 2G) or NAME=SIZE (NAME without '/', under 64 characters)" },
		{ "max-leaked 1M\nmax-leaked 2M\n", "mem.budgets:2: a second max-leaked" },
		{ "max-leaked a=1M\nmax-leaked a=2M\n", "mem.budgets:2: a second max-leaked for a" },
		{ "max-leaked bin/a=1M\n", "mem.budgets:1: invalid max-leaked 'bin/a=1M': SIZE "
		  "(4096, 512K, 1M, 2G) or NAME=SIZE (NAME without '/', under 64 characters)" },
		{ "--max-leaked 1M\n", "mem.budgets:1: unknown budget '--max-leaked' (max-leaked, "
		  "max-peak-rss, max-allocated or max-goroutines-at-exit)" },
		{ "max-goroutines-at-exit 1K\n", "mem.budgets:1: invalid max-goroutines-at-exit "
		  "'1K': COUNT (a number: 0, 10) or NAME=COUNT (NAME without '/', under 64 "
		  "characters)" },
		{ "max-leaked 1\x01M\n", "mem.budgets:1: invalid max-leaked '1?M': SIZE (4096, 512K, "
		  "1M, 2G) or NAME=SIZE (NAME without '/', under 64 characters)" },
	};
	struct ms_budget_set s;
	char err[256];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(parse(bad[i].text, &s, err, sizeof(err)), -EINVAL);
		assert_string_equal(err, bad[i].err);
		assert_false(s.total_given[MS_BUDGET_LEAKED]);
		assert_int_equal(s.nnamed, 0);
	}
	/* a NUL byte inside a line */
	assert_int_equal(budget_file__parse("max-leaked 1M\nmax\0x 1M\n", 23, "f", &s, err,
					    sizeof(err)), -EINVAL);
	assert_string_equal(err, "f:2: a NUL byte");
	(void)state;
}

/* More per-name budgets than kept, or a file too big: refused, not cut. */
static void test_limits(void **state)
{
	char *text = calloc(1, MS_BUDGET_FILE_MAX + 2);
	struct ms_budget_set s;
	char err[256];
	size_t n = 0;

	assert_non_null(text);
	for (int i = 0; i <= MS_BUDGET_NAMED_MAX; i++)
		n += (size_t)sprintf(text + n, "max-leaked p%d=1K\n", i);
	assert_int_equal(parse(text, &s, err, sizeof(err)), -E2BIG);
	assert_string_equal(err, "mem.budgets:17: more than 16 budgets per name");
	memset(text, '#', MS_BUDGET_FILE_MAX + 1);
	assert_int_equal(budget_file__parse(text, MS_BUDGET_FILE_MAX + 1, "big", &s, err,
					    sizeof(err)), -EFBIG);
	assert_string_equal(err, "big: larger than 65536 bytes");
	free(text);
	(void)state;
}

/* From a file on disk; a missing one is an error naming it. */
static void test_load(void **state)
{
	char path[] = "/tmp/test_budget_file.XXXXXX", err[256];
	struct ms_budget_set s, flags = {};
	int fd = mkstemp(path);
	const char *text = "max-leaked 512K\nmax-leaked leakexit=1M\n";

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	assert_int_equal(budget_file__load(path, &s, err, sizeof(err)), 0);
	assert_int_equal(s.total[MS_BUDGET_LEAKED], 512 * 1024);
	/* the flags' budgets win over the file's; the file's others are added */
	assert_int_equal(budget_set__add(&flags, MS_BUDGET_LEAKED, "leakexit=2M"), 0);
	budget_set__under(&flags, &s);
	assert_true(flags.total_given[MS_BUDGET_LEAKED]);
	assert_int_equal(flags.total[MS_BUDGET_LEAKED], 512 * 1024);
	assert_int_equal(flags.nnamed, 1);
	assert_int_equal(flags.named[0].limit, 2 << 20);
	unlink(path);
	assert_int_equal(budget_file__load(path, &s, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "No such file"));
	assert_int_equal(strncmp(err, path, strlen(path)), 0);
	(void)state;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_a_budgets_file),
		cmocka_unit_test(test_errors_name_file_and_line),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_load),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
