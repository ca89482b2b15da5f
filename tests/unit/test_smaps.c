// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Fixtures under tests/fixtures/smaps/<case>/<pid>/smaps:
 *   real/4242   /proc/PID/smaps of a small program (kernel 6.18, glibc 2.36)
 *               that malloc'd 100 KB, touched 256 KB of a 1 MiB anonymous
 *               mmap, 64 KB of MAP_SHARED|MAP_ANONYMOUS, a 32 KB memfd, a
 *               16 KB /dev/shm segment, COW-wrote one page of a private
 *               mapping of /etc/services, and ran one thread. Only the
 *               binary's path was edited. Its status said VmRSS: 2004 kB.
 *   edited/77   hand-written records for names this machine does not
 *               produce: [anon:x], [stack:TID], [anon_shmem:x], /SYSV,
 *               [uprobes], a path with spaces, unknown future fields, swap.
 * Malformed inputs are written inline into a temporary root.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "target/smaps.h"

#define FIX "tests/fixtures/smaps/"
#define KB 1024ULL

static const struct ms_smap *find_path(const struct ms_smaps *s, const char *path)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->v[i].path && !strcmp(s->v[i].path, path))
			return &s->v[i];
	return NULL;
}

static void test_real_file_fields(void **state)
{
	struct ms_smaps s;
	const struct ms_smap *m;

	assert_int_equal(smaps__read(FIX "real", 4242, &s), 0);
	assert_int_equal(s.n, 31);

	/* First record: the binary's read-only ELF header page. */
	m = &s.v[0];
	assert_int_equal(m->start, 0x55cc403f9000ULL);
	assert_int_equal(m->end, 0x55cc403fa000ULL);
	assert_string_equal(m->perms, "r--p");
	assert_string_equal(m->path, "/usr/local/bin/rssdemo");
	assert_int_equal(m->size, 4 * KB);

	m = find_path(&s, "[heap]");
	assert_non_null(m);
	assert_int_equal(m->rss, 100 * KB);
	assert_int_equal(m->anonymous, 100 * KB);

	/* Shared anonymous memory is a deleted /dev/zero shmem file. */
	m = find_path(&s, "/dev/zero");
	assert_non_null(m);
	assert_true(m->deleted);
	assert_string_equal(m->perms, "rw-s");
	assert_int_equal(m->rss, 64 * KB);
	assert_int_equal(m->anonymous, 0);

	m = find_path(&s, "/memfd:ms-cache");
	assert_non_null(m);
	assert_true(m->deleted);
	assert_int_equal(m->rss, 32 * KB);

	/* One COW-written page of two resident: Rss 8 kB, Anonymous 4 kB. */
	m = find_path(&s, "/etc/services");
	assert_non_null(m);
	assert_int_equal(m->rss, 8 * KB);
	assert_int_equal(m->anonymous, 4 * KB);
	assert_int_equal(m->private_dirty, 4 * KB);

	/* The 1 MiB mmap merged with its neighbour: 1036 kB, 264 kB touched. */
	m = &s.v[11];
	assert_null(m->path);
	assert_int_equal(m->end - m->start, 1036 * KB);
	assert_int_equal(m->rss, 264 * KB);

	m = &s.v[s.n - 1];
	assert_string_equal(m->path, "[vsyscall]");
	assert_int_equal(m->start, 0xffffffffff600000ULL);
	assert_string_equal(m->perms, "--xp");
	ms_smaps__free(&s);
}

/*
 * Buckets worked out by hand from the fixture's Rss/Anonymous lines:
 *   heap   [heap] 100
 *   stack  [stack] 12 (the thread's stack is plain anon on this kernel)
 *   shmem  /dev/shm/ms-seg 16 + /dev/zero (deleted) 64 + memfd 32 = 112
 *   other  [vdso] 4 ([vvar], [vvar_vclock], [vsyscall] have 0)
 *   anon   unnamed 24+48+264+20+4 = 360, plus the Anonymous part of file
 *          mappings: rssdemo 8, libc 24, services 4, ld.so 16 = 412
 *   file   rssdemo 20-8 + libc 1176-24 + services 8-4 + ld.so 212-16 = 1364
 * and they add up to the 2004 kB VmRSS the process reported.
 */
static void test_real_file_summary_adds_up_to_vmrss(void **state)
{
	struct ms_smaps_summary sum;
	struct ms_smaps s;

	assert_int_equal(smaps__read(FIX "real", 4242, &s), 0);
	assert_int_equal(smaps__summary(&s, &sum), 0);
	assert_int_equal(sum.heap, 100 * KB);
	assert_int_equal(sum.stack, 12 * KB);
	assert_int_equal(sum.shmem, 112 * KB);
	assert_int_equal(sum.other, 4 * KB);
	assert_int_equal(sum.anon, 412 * KB);
	assert_int_equal(sum.file, 1364 * KB);
	assert_int_equal(sum.swap, 0);
	assert_int_equal(sum.rss, 2004 * KB);
	assert_int_equal(sum.heap + sum.stack + sum.anon + sum.file + sum.shmem + sum.other,
			 sum.rss);
	assert_int_equal(sum.mappings, 31);
	assert_true(sum.pss <= sum.rss);
	ms_smaps__free(&s);
}

static void test_edited_names_and_swap(void **state)
{
	struct ms_smaps_summary sum;
	struct ms_smaps s;
	const struct ms_smap *m;

	assert_int_equal(smaps__read(FIX "edited", 77, &s), 0);
	assert_int_equal(s.n, 7);
	assert_string_equal(s.v[0].path, "[anon:ms arena]");
	assert_int_equal(s.v[0].swap, 32 * KB);
	/* Unknown future fields are skipped; the path keeps its space. */
	m = find_path(&s, "/opt/demo/data file.bin");
	assert_non_null(m);
	assert_true(m->deleted);
	assert_int_equal(m->rss, 16 * KB);
	assert_null(s.v[6].path);

	assert_int_equal(smaps__summary(&s, &sum), 0);
	assert_int_equal(sum.heap, 0);
	assert_int_equal(sum.stack, 20 * KB);		/* [stack:4243] */
	assert_int_equal(sum.shmem, (40 + 12) * KB);	/* [anon_shmem:ring], /SYSV */
	assert_int_equal(sum.anon, (96 + 8) * KB);	/* [anon:ms arena], unnamed */
	assert_int_equal(sum.file, 16 * KB);
	assert_int_equal(sum.other, 4 * KB);		/* [uprobes] */
	assert_int_equal(sum.swap, (32 + 8 + 16) * KB);
	assert_int_equal(sum.rss, 196 * KB);
	ms_smaps__free(&s);
}

/* Touching 5 of 16 fresh anonymous pages shows exactly 5 pages resident. */
static void test_live_self_mapping(void **state)
{
	long pg = sysconf(_SC_PAGESIZE);
	struct ms_smaps_summary sum;
	struct ms_smaps s;
	const struct ms_smap *m = NULL;
	char *guard, *p;

	/* PROT_NONE pages either side keep it from merging with a neighbour. */
	guard = mmap(NULL, 18 * pg, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(guard != MAP_FAILED);
	p = guard + pg;
	assert_int_equal(mprotect(p, 16 * pg, PROT_READ | PROT_WRITE), 0);
	for (int i = 0; i < 5; i++)
		p[i * 3 * pg] = 1;
	assert_int_equal(smaps__read("/proc", getpid(), &s), 0);
	for (size_t i = 0; i < s.n; i++)
		if (s.v[i].start == (uintptr_t)p)
			m = &s.v[i];
	assert_non_null(m);
	assert_int_equal(m->end - m->start, 16 * pg);
	assert_null(m->path);
	assert_string_equal(m->perms, "rw-p");
	assert_int_equal(m->rss, 5 * pg);
	assert_int_equal(m->anonymous, 5 * pg);
	assert_int_equal(smaps__summary(&s, &sum), 0);
	assert_true(sum.anon >= 5 * (uint64_t)pg);
	assert_true(find_path(&s, "[stack]") != NULL);
	ms_smaps__free(&s);
	munmap(guard, 18 * pg);
}

/* ---- malformed input --------------------------------------------------- */

static char *tmp_root;

static int setup_root(void **state)
{
	tmp_root = strdup("/tmp/ms-smaps-XXXXXX");
	if (!tmp_root || !mkdtemp(tmp_root))
		return -1;
	return 0;
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	return remove(path);
}

static int teardown_root(void **state)
{
	int err = nftw(tmp_root, rm_one, 16, FTW_DEPTH | FTW_PHYS);

	free(tmp_root);
	return err;
}

static void put(const void *data, size_t len)
{
	char path[PATH_MAX];
	int fd;

	snprintf(path, sizeof(path), "%s/1", tmp_root);
	assert_true(mkdir(path, 0755) == 0 || errno == EEXIST);
	snprintf(path, sizeof(path), "%s/1/smaps", tmp_root);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
}

static int read_str(const char *text)
{
	struct ms_smaps s = { (void *)1, 1 };
	int err;

	put(text, strlen(text));
	err = smaps__read(tmp_root, 1, &s);
	if (err) {
		/* A failed read leaves nothing to free. */
		assert_null(s.v);
		assert_int_equal(s.n, 0);
	}
	ms_smaps__free(&s);
	return err;
}

#define HDR "1000-3000 rw-p 00000000 00:00 0 \n"
#define OK_BODY "Size:                  8 kB\nRss:                   4 kB\n" \
		"Pss:                   4 kB\nAnonymous:             4 kB\nVmFlags: rd wr \n"

static void test_minimal_record_parses(void **state)
{
	struct ms_smaps s;

	put(HDR OK_BODY, strlen(HDR OK_BODY));
	assert_int_equal(smaps__read(tmp_root, 1, &s), 0);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.v[0].rss, 4096);
	assert_null(s.v[0].path);
	ms_smaps__free(&s);
	/* An empty file is a process without mappings, not an error. */
	assert_int_equal(read_str(""), 0);
}

static void test_malformed_inputs_are_einval(void **state)
{
	static const char nul[] = HDR "Size:    8 kB\0\nRss: 4 kB\nVmFlags: rd\n";

	/* Cut before the closing VmFlags line. */
	assert_int_equal(read_str(HDR "Size:                  8 kB\nRss:    4 kB\n"), -EINVAL);
	/* Last line without its newline. */
	assert_int_equal(read_str(HDR "Size: 8 kB\nRss: 4 kB\nVmFlags: rd"), -EINVAL);
	/* A field before any header. */
	assert_int_equal(read_str("Rss: 4 kB\n" HDR OK_BODY), -EINVAL);
	/* A field after the closing line. */
	assert_int_equal(read_str(HDR OK_BODY "Rss: 4 kB\n"), -EINVAL);
	/* Header with no fields at all, followed by another record. */
	assert_int_equal(read_str(HDR HDR OK_BODY), -EINVAL);
	/* Duplicate key. */
	assert_int_equal(read_str(HDR "Size: 8 kB\nRss: 4 kB\nRss: 4 kB\nVmFlags: rd\n"), -EINVAL);
	/* Rss bigger than the mapping, Anonymous bigger than Rss, Size != end - start. */
	assert_int_equal(read_str(HDR "Size: 8 kB\nRss: 12 kB\nVmFlags: rd\n"), -EINVAL);
	assert_int_equal(read_str(HDR "Size: 8 kB\nRss: 4 kB\nAnonymous: 8 kB\nVmFlags: rd\n"),
			 -EINVAL);
	assert_int_equal(read_str(HDR "Size: 4 kB\nRss: 4 kB\nVmFlags: rd\n"), -EINVAL);
	/* Numbers: not kB, negative, beyond 2^64 bytes after the kB scaling. */
	assert_int_equal(read_str(HDR "Size: 8 kB\nRss: 4 MB\nVmFlags: rd\n"), -EINVAL);
	assert_int_equal(read_str(HDR "Size: 8 kB\nRss: -4 kB\nVmFlags: rd\n"), -EINVAL);
	assert_int_equal(read_str(HDR "Size: 8 kB\nSwap: 18014398509481984 kB\nRss: 4 kB\n"
				  "VmFlags: rd\n"), -EINVAL);
	/* Broken headers: end before start, bad perms, garbage. */
	assert_int_equal(read_str("3000-1000 rw-p 00000000 00:00 0 \n" OK_BODY), -EINVAL);
	assert_int_equal(read_str("1000-3000 rwzp 00000000 00:00 0 \n" OK_BODY), -EINVAL);
	assert_int_equal(read_str("hello world\n" OK_BODY), -EINVAL);
	/* Embedded NUL. */
	put(nul, sizeof(nul) - 1);
	{
		struct ms_smaps s;

		assert_int_equal(smaps__read(tmp_root, 1, &s), -EINVAL);
	}
}

static void test_huge_line_is_e2big(void **state)
{
	size_t n = 2 * 1024 * 1024;
	char *buf = malloc(n + 64);

	assert_non_null(buf);
	strcpy(buf, "1000-3000 rw-p 00000000 00:00 0 /");
	memset(buf + strlen(buf), 'a', n);
	strcpy(buf + n, "\n");
	assert_int_equal(read_str(buf), -E2BIG);
	free(buf);
}

static void test_missing_process_and_bad_args(void **state)
{
	struct ms_smaps_summary sum;
	struct ms_smaps s;

	assert_int_equal(smaps__read(tmp_root, 999999, &s), -ESRCH);
	assert_int_equal(smaps__read(NULL, 1, &s), -EINVAL);
	assert_int_equal(smaps__read(tmp_root, 1, NULL), -EINVAL);
	assert_int_equal(smaps__summary(NULL, &sum), -EINVAL);
	ms_smaps__free(NULL);
}

/* Overlapping hand-built mappings whose Rss sums past 2^64 are refused, not wrapped. */
static void test_summary_overflow(void **state)
{
	struct ms_smap v[2] = {
		{ .start = 0, .end = UINT64_MAX, .rss = UINT64_MAX - 10 },
		{ .start = 0, .end = UINT64_MAX, .rss = UINT64_MAX - 10 },
	};
	struct ms_smaps s = { v, 2 };
	struct ms_smaps_summary sum;

	assert_int_equal(smaps__summary(&s, &sum), -EOVERFLOW);
	s.n = 1;
	assert_int_equal(smaps__summary(&s, &sum), 0);
	assert_int_equal(sum.anon, UINT64_MAX - 10);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_real_file_fields),
		cmocka_unit_test(test_real_file_summary_adds_up_to_vmrss),
		cmocka_unit_test(test_edited_names_and_swap),
		cmocka_unit_test(test_live_self_mapping),
		cmocka_unit_test(test_minimal_record_parses),
		cmocka_unit_test(test_malformed_inputs_are_einval),
		cmocka_unit_test(test_huge_line_is_e2big),
		cmocka_unit_test(test_missing_process_and_bad_args),
		cmocka_unit_test(test_summary_overflow),
	};

	return cmocka_run_group_tests_name("smaps", tests, setup_root, teardown_root);
}
