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
#include <sys/mman.h>
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

/* "the library (build/libmemsight_sampler.so) is found, its ABI, its words exported" */
static void test_library_found(void **state)
{
	struct ms_sampler_info si;

	assert_int_equal(sampler__probe_elf(lib_path(), &si), 1);
	assert_int_equal(si.abi, MEMSIGHT_SAMPLER_ABI);
	assert_true(si.mean_vaddr != 0);
	assert_true(si.dropped_vaddr != 0);
	assert_true(si.pending_vaddr != 0);
	/* one cache line: a sampled event dirties at most one line of them */
	assert_int_equal(si.pending_vaddr % 64, 0);
	assert_int_equal(si.load_delta, 0);
}

/* "an ELF without memsight probes (this test), a missing file, a non-ELF: not the library" */
static void test_not_library(void **state)
{
	struct ms_sampler_info si;

	assert_int_equal(sampler__probe_elf("/proc/self/exe", &si), 0);
	assert_int_equal(sampler__probe_elf("/nonexistent/libmemsight_sampler.so", &si), 0);
	assert_int_equal(sampler__probe_elf("/proc/self/status", &si), 0);
}

/*
 * "a word of the library is placed by its file's mapping at offset 0, and
 * found in a writable mapping: .data (file-backed) or .bss (anonymous)"
 */
static void test_word_addr(void **state)
{
	struct ms_map v[] = {
		{ .start = 0x7f0000000000, .end = 0x7f0000001000, .pgoff = 0, .inode = 7,
		  .dev_major = 254, .perms = "r--p" },
		{ .start = 0x7f0000005000, .end = 0x7f0000006000, .pgoff = 0x4000, .inode = 7,
		  .dev_major = 254, .perms = "rw-p" },
		{ .start = 0x7f0000006000, .end = 0x7f0000019000, .perms = "rw-p" },	/* .bss */
		{ .start = 0x7f1000000000, .end = 0x7f1000001000, .pgoff = 0, .inode = 8,
		  .dev_major = 254, .perms = "r--p" },	/* another file */
	};
	struct ms_maps maps = { .v = v, .n = 4 };
	struct ms_sampler_info si = { .abi = 1, .mean_vaddr = 0x5008, .dropped_vaddr = 0x18020 };
	uint64_t addr = 0;

	assert_int_equal(sampler__word_addr(&maps, &v[0], &si, si.mean_vaddr, &addr), 0);
	assert_int_equal(addr, 0x7f0000005008);
	assert_int_equal(sampler__word_addr(&maps, &v[0], &si, si.dropped_vaddr, &addr), 0);
	assert_int_equal(addr, 0x7f0000018020);
	/* the other file's base is not this one's */
	assert_int_equal(sampler__word_addr(&maps, &v[3], &si, si.mean_vaddr, &addr), -ENOENT);
	/* read-only, or past the last mapping: not there */
	assert_int_equal(sampler__word_addr(&maps, &v[0], &si, 0x10, &addr), -ENOENT);
	assert_int_equal(sampler__word_addr(&maps, &v[0], &si, 0x18ffc, &addr), -ENOENT);
	/* a segment linked above 0: its delta moves every word */
	si.load_delta = 0x1000;
	assert_int_equal(sampler__word_addr(&maps, &v[0], &si, 0x6008, &addr), 0);
	assert_int_equal(addr, 0x7f0000005008);
}

static uint64_t word = 524288;
static uint64_t words[3] = { 1, 2, 3 };

/* "the mean is read and written in a live process; a bad address is an error, not a crash" */
static void test_read_write(void **state)
{
	uint64_t v = 0;

	assert_int_equal(sampler__read_word(getpid(), (uintptr_t)&word, &v), 0);
	assert_int_equal(v, 524288);
	assert_int_equal(sampler__write_word(getpid(), (uintptr_t)&word, 4096), 0);
	assert_int_equal(word, 4096);
	assert_true(sampler__read_word(getpid(), 8, &v) < 0);
	assert_true(sampler__write_word(getpid(), 8, 1) < 0);
}

/* "a free record keeps a user pointer whole and its tag modulo 2^16" */
static void test_record(void **state)
{
	uint64_t ptr = 0x7fffdeadbee0ull, rec = MEMSIGHT_SAMPLER_RECORD(ptr, 0x12345ull);

	assert_int_equal(MEMSIGHT_SAMPLER_RECORD_PTR(rec), ptr);
	assert_int_equal(MEMSIGHT_SAMPLER_RECORD_TAG(rec), 0x2345);
	/* the largest pointer and tag: nothing spills into the other */
	rec = MEMSIGHT_SAMPLER_RECORD((1ull << 48) - 16, 0xffffull);
	assert_int_equal(MEMSIGHT_SAMPLER_RECORD_PTR(rec), (1ull << 48) - 16);
	assert_int_equal(MEMSIGHT_SAMPLER_RECORD_TAG(rec), 0xffff);
	/* a record is never 0, the empty slot: a pointer is not */
	assert_true(MEMSIGHT_SAMPLER_RECORD(16ull, 0ull) != 0);
}

/* "n words read at once; a range running into an unmapped page is an error" */
static void test_read_words(void **state)
{
	uint64_t v[3] = { 0 };
	long page = sysconf(_SC_PAGESIZE);
	char *two = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	assert_int_equal(sampler__read_words(getpid(), (uintptr_t)words, v, 3), 0);
	assert_int_equal(v[0], 1);
	assert_int_equal(v[2], 3);
	assert_true(two != MAP_FAILED);
	assert_int_equal(munmap(two + page, page), 0);
	/* the first word readable, the second not: a short read */
	assert_true(sampler__read_words(getpid(), (uintptr_t)(two + page - 8), v, 2) < 0);
	munmap(two, page);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_library_found),
		cmocka_unit_test(test_not_library),
		cmocka_unit_test(test_word_addr),
		cmocka_unit_test(test_read_write),
		cmocka_unit_test(test_read_words),
		cmocka_unit_test(test_record),
	};

	return cmocka_run_group_tests_name("sampler", tests, NULL, NULL);
}
