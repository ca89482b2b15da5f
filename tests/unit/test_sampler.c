// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * test_sampler.c - target/sampler.c: the sampler library is told from other
 * modules by its ELF (memsight USDT notes and exports), its mean placed in
 * the process by the mapping of its file that holds it, and the mean read
 * and written in a live process (this one).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "target/sampler.h"

static const char *lib_path(void)
{
	static char p[4096];
	const char *b = getenv("MS_BUILD");

	snprintf(p, sizeof(p), "%s/libmemsight_sampler.so", b && *b ? b : "build");
	return p;
}

/* "the library (build/libmemsight_sampler.so) is found, ABI 1, its mean exported" */
static void test_library_found(void **state)
{
	struct ms_sampler_info si;

	assert_int_equal(sampler__probe_elf(lib_path(), &si), 1);
	assert_int_equal(si.abi, MEMSIGHT_SAMPLER_ABI);
	assert_true(si.mean_vaddr != 0);
	assert_true(si.mean_off != 0);
}

/* "an ELF without memsight probes (this test), a missing file, a non-ELF: not the library" */
static void test_not_library(void **state)
{
	struct ms_sampler_info si;

	assert_int_equal(sampler__probe_elf("/proc/self/exe", &si), 0);
	assert_int_equal(sampler__probe_elf("/nonexistent/libmemsight_sampler.so", &si), 0);
	assert_int_equal(sampler__probe_elf("/proc/self/status", &si), 0);
}

/* "the mean sits in the writable mapping of the library's file that covers its offset" */
static void test_mean_addr(void **state)
{
	struct ms_map v[] = {
		{ .start = 0x7f0000000000, .end = 0x7f0000001000, .pgoff = 0, .inode = 7,
		  .dev_major = 254, .perms = "r--p" },
		{ .start = 0x7f0000005000, .end = 0x7f0000006000, .pgoff = 0x4000, .inode = 8,
		  .dev_major = 254, .perms = "rw-p" },	/* another file */
		{ .start = 0x7f0000015000, .end = 0x7f0000016000, .pgoff = 0x4000, .inode = 7,
		  .dev_major = 254, .perms = "rw-p" },
	};
	struct ms_maps maps = { .v = v, .n = 3 };
	struct ms_sampler_info si = { .abi = 1, .mean_off = 0x4070 };
	uint64_t addr = 0;

	assert_int_equal(sampler__mean_addr(&maps, &v[0], &si, &addr), 0);
	assert_int_equal(addr, 0x7f0000015070);
	/* past the mapping (the last 8 bytes must fit), or not mapped writable: not there */
	si.mean_off = 0x4ff9;
	assert_int_equal(sampler__mean_addr(&maps, &v[0], &si, &addr), -ENOENT);
	v[2].perms[1] = '-';
	si.mean_off = 0x4070;
	assert_int_equal(sampler__mean_addr(&maps, &v[0], &si, &addr), -ENOENT);
}

static uint64_t word = 524288;

/* "the mean is read and written in a live process; a bad address is an error, not a crash" */
static void test_read_write(void **state)
{
	uint64_t v = 0;

	assert_int_equal(sampler__read_mean(getpid(), (uintptr_t)&word, &v), 0);
	assert_int_equal(v, 524288);
	assert_int_equal(sampler__write_mean(getpid(), (uintptr_t)&word, 4096), 0);
	assert_int_equal(word, 4096);
	assert_true(sampler__read_mean(getpid(), 8, &v) < 0);
	assert_true(sampler__write_mean(getpid(), 8, 1) < 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_library_found),
		cmocka_unit_test(test_not_library),
		cmocka_unit_test(test_mean_addr),
		cmocka_unit_test(test_read_write),
	};

	return cmocka_run_group_tests_name("sampler", tests, NULL, NULL);
}
