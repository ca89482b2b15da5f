// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "common/size.h"

#define MAX	(1ull << 60)

static uint64_t parsed(const char *s)
{
	uint64_t v = 12345;

	assert_int_equal(size__parse(s, MAX, &v), 0);
	return v;
}

/* Sizes as CI files write them: binary units, with or without B or iB, any case. */
static void test_units_are_binary(void **state)
{
	assert_int_equal(parsed("0"), 0);
	assert_int_equal(parsed("4096"), 4096);
	assert_int_equal(parsed("4096B"), 4096);
	assert_int_equal(parsed("512K"), 512 * 1024);
	assert_int_equal(parsed("512k"), 512 * 1024);
	assert_int_equal(parsed("512KiB"), 512 * 1024);
	assert_int_equal(parsed("512KB"), 512 * 1024);
	assert_int_equal(parsed("512kib"), 512 * 1024);
	assert_int_equal(parsed("1M"), 1048576);
	assert_int_equal(parsed("2G"), 2ull << 30);
	assert_int_equal(parsed("3T"), 3ull << 40);
	assert_int_equal(parsed("1E"), 1ull << 60);
}

/* A fraction of a unit, rounded down to whole bytes. */
static void test_fractions(void **state)
{
	assert_int_equal(parsed("1.5M"), 1572864);
	assert_int_equal(parsed("0.5K"), 512);
	assert_int_equal(parsed("1.1K"), 1126);	/* 1126.4 */
	assert_int_equal(parsed("0.000001K"), 0);
	assert_int_equal(parsed("2.25G"), (2ull << 30) + (1ull << 28));
}

/* Malformed sizes are refused, never read as something else. */
static void test_malformed_refused(void **state)
{
	static const char *const bad[] = {
		"", "K", "-1", "+1", " 1", "1 ", "1.5", "1.", ".5K", "1KK", "1Q", "1Mx", "1iB",
		"0x10", "1e3", "1,5M", "1.5.5M",
	};
	uint64_t v = 7;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(size__parse(bad[i], MAX, &v), -EINVAL);
		assert_int_equal(v, 7);
	}
	assert_int_equal(size__parse(NULL, MAX, &v), -EINVAL);
}

/* Past the limit, or past 64 bits in digits or by the unit: -ERANGE. */
static void test_range(void **state)
{
	uint64_t v = 7;

	assert_int_equal(size__parse("2E", MAX, &v), -ERANGE);
	assert_int_equal(size__parse("16E", UINT64_MAX, &v), -ERANGE);
	assert_int_equal(size__parse("99999999999999999999999", UINT64_MAX, &v), -ERANGE);
	assert_int_equal(size__parse("1025", 1024, &v), -ERANGE);
	assert_int_equal(v, 7);
	assert_int_equal(size__parse("1K", 1024, &v), 0);
	assert_int_equal(v, 1024);
	assert_int_equal(size__parse("15.999999E", UINT64_MAX, &v), 0);
	assert_true(v > (15ull << 60));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_units_are_binary),
		cmocka_unit_test(test_fractions),
		cmocka_unit_test(test_malformed_refused),
		cmocka_unit_test(test_range),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
