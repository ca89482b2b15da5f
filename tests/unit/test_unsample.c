// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "common/unsample.h"
#include "memsight_abi.h"

/* pprof's heap unsampling: x / (1 - exp(-avg/period)); period 0 or 1 leaves values alone */
static void test_unsample(void **state)
{
	uint64_t c, b;
	double scale = 1.0 / (1.0 - exp(-4096.0 / 524288.0));

	ms_unsample(1000, 4096000, 0, &c, &b);
	assert_int_equal(c, 1000);
	assert_int_equal(b, 4096000);
	ms_unsample(1000, 4096000, 1, &c, &b);
	assert_int_equal(c, 1000);
	ms_unsample(1000, 4096000, 524288, &c, &b);
	/* 4 KiB objects sampled every 512 KiB on average: each seen one stands for ~128.5 */
	assert_true(scale > 128 && scale < 129);
	assert_int_equal(c, (uint64_t)(1000 * scale));
	assert_int_equal(b, (uint64_t)(4096000 * scale));
	/* objects far above the period are always sampled: no scaling */
	ms_unsample(10, 10ull << 30, 524288, &c, &b);
	assert_int_equal(c, 10);
	assert_int_equal(b, 10ull << 30);
	ms_unsample(0, 100, 524288, &c, &b);
	assert_int_equal(c, 0);
	assert_int_equal(b, 0);
}

/* a scale that overflows 64 bits saturates instead of wrapping */
static void test_unsample_saturates(void **state)
{
	uint64_t c, b;

	/* 1-byte objects every 2^40 bytes: each seen one stands for ~2^40 */
	ms_unsample(1ull << 40, 1ull << 40, 1ull << 40, &c, &b);
	assert_int_equal(c, UINT64_MAX);
	assert_int_equal(b, UINT64_MAX);
}

/*
 * Page faults: every Nth, or one per sampler mean of pages for a process
 * under the sampler library, never more often than every Nth, at most 2^20
 */
static void test_fault_pages(void **state)
{
	assert_int_equal(ms_fault_pages(0, MS_DEF_FAULT_SAMPLE), MS_DEF_FAULT_SAMPLE);
	assert_int_equal(ms_fault_pages(1, 8), 8);
	assert_int_equal(ms_fault_pages(4096, 8), 8);
	assert_int_equal(ms_fault_pages(65536, 8), 16);
	assert_int_equal(ms_fault_pages(524288, 8), 128);
	/* a mean not a multiple of a page: whole pages */
	assert_int_equal(ms_fault_pages(524288 + 4095, 8), 128);
	assert_int_equal(ms_fault_pages(1ull << 32, 8), 1u << 20);
	assert_int_equal(ms_fault_pages(UINT64_MAX, 8), 1u << 20);
	/* fault stacks off stay off */
	assert_int_equal(ms_fault_pages(524288, 0), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unsample),
		cmocka_unit_test(test_unsample_saturates),
		cmocka_unit_test(test_fault_pages),
	};

	return cmocka_run_group_tests_name("unsample", tests, NULL, NULL);
}
