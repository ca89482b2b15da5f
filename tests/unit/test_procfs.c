// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Fixtures under tests/fixtures/procfs/<case>/<pid>/ are copies of real
 * /proc files (kernel 6.18) with paths edited:
 *   leaky/4972     comm "a) (b) R 9 9", binary and one library deleted,
 *                  a shared mapping of "/opt/demo/my data/cache file.bin"
 *   escaped/4974   comm "new<LF>line\x" (status prints it escaped)
 *   kthread/2      kthreadd: no Vm lines, empty maps, no exe
 *   kthread/11     a kworker whose name is longer than MS_COMM_LEN
 * Malformed inputs are written inline into a temporary root, so each
 * test shows the bytes it feeds.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <ftw.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "target/procfs.h"

#define FIX "tests/fixtures/procfs/"

/* ---- temporary proc roots ------------------------------------------ */

static char *tmp_root(void)
{
	char *root = strdup("/tmp/ms-procfs-XXXXXX");

	assert_non_null(root);
	assert_non_null(mkdtemp(root));
	/* Traversable by the unprivileged child of the -EACCES test. */
	assert_int_equal(chmod(root, 0755), 0);
	return root;
}

static void put_file(const char *root, pid_t pid, const char *name, const void *data, size_t len)
{
	char path[PATH_MAX];
	int fd;

	snprintf(path, sizeof(path), "%s/%d", root, (int)pid);
	assert_true(mkdir(path, 0755) == 0 || errno == EEXIST);
	snprintf(path, sizeof(path), "%s/%d/%s", root, (int)pid, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
}

static void put_str(const char *root, pid_t pid, const char *name, const char *s)
{
	put_file(root, pid, name, s, strlen(s));
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	return remove(path);
}

static void rm_root(char *root)
{
	assert_int_equal(nftw(root, rm_one, 16, FTW_DEPTH | FTW_PHYS), 0);
	free(root);
}

/* ---- maps -------------------------------------------------------------- */

/* Every kind of line in a real maps file comes out field by field. */
static void test_maps_real_file_all_line_kinds(void **state)
{
	struct ms_maps maps;
	const struct ms_map *m;

	assert_int_equal(procfs__read_maps(FIX "leaky", 4972, &maps), 0);
	assert_int_equal(maps.n, 30);

	/* the deleted main binary: suffix stripped, flag set */
	m = &maps.v[0];
	assert_int_equal(m->start, 0x5631b6463000);
	assert_int_equal(m->end, 0x5631b6464000);
	assert_string_equal(m->perms, "r--p");
	assert_int_equal(m->pgoff, 0);
	assert_int_equal(m->dev_major, 0xfe);
	assert_int_equal(m->dev_minor, 0);
	assert_int_equal(m->inode, 10953862);
	assert_string_equal(m->path, "/opt/demo/bin/leaky");
	assert_true(m->deleted);

	assert_string_equal(maps.v[5].path, "[heap]");
	assert_false(maps.v[5].deleted);
	/* anonymous: the kernel leaves a trailing blank and no path */
	assert_null(maps.v[6].path);
	assert_string_equal(maps.v[6].perms, "---p");

	assert_string_equal(maps.v[12].path, "/usr/lib/x86_64-linux-gnu/libc.so.6");
	assert_int_equal(maps.v[12].pgoff, 0x26000);
	assert_string_equal(maps.v[12].perms, "r-xp");

	assert_string_equal(maps.v[17].path, "/opt/demo/lib/libplugin.so.1");
	assert_true(maps.v[17].deleted);
	assert_int_equal(maps.v[17].pgoff, 0x1000);

	/* blanks inside a path are part of it */
	assert_string_equal(maps.v[18].path, "/opt/demo/my data/cache file.bin");
	assert_string_equal(maps.v[18].perms, "r--s");
	assert_false(maps.v[18].deleted);

	assert_string_equal(maps.v[22].path, "[vdso]");
	assert_string_equal(maps.v[28].path, "[stack]");
	assert_int_equal(maps.v[29].start, 0xffffffffff600000);
	assert_string_equal(maps.v[29].path, "[vsyscall]");
	for (size_t i = 1; i < maps.n; i++)
		assert_true(maps.v[i - 1].end <= maps.v[i].start);
	ms_maps__free(&maps);
	assert_null(maps.v);
	assert_int_equal(maps.n, 0);
}

/* find() returns the one mapping holding addr: [start, end), NULL in gaps */
static void test_maps_find_boundaries_and_gaps(void **state)
{
	struct ms_maps maps;
	const struct ms_map *m;

	assert_int_equal(procfs__read_maps(FIX "leaky", 4972, &maps), 0);

	m = ms_maps__find(&maps, 0x7fca736b9000 + 0x1234);
	assert_non_null(m);
	assert_string_equal(m->path, "/usr/lib/x86_64-linux-gnu/libc.so.6");
	assert_string_equal(m->perms, "r-xp");

	/* end is exclusive: the first byte past libc's r-x is its r-- part */
	m = ms_maps__find(&maps, 0x7fca7380f000);
	assert_int_equal(m->start, 0x7fca7380f000);
	assert_string_equal(m->perms, "r--p");

	assert_ptr_equal(ms_maps__find(&maps, 0x5631b6463000), &maps.v[0]);
	assert_ptr_equal(ms_maps__find(&maps, 0xffffffffff600fff), &maps.v[29]);
	/* gap between the anonymous block and libplugin */
	assert_null(ms_maps__find(&maps, 0x7fca73875000));
	assert_null(ms_maps__find(&maps, 0x7fca7387cfff));
	assert_null(ms_maps__find(&maps, 0x1000));
	assert_null(ms_maps__find(&maps, 0xffffffffff601000));
	assert_null(ms_maps__find(&maps, UINT64_MAX));
	ms_maps__free(&maps);

	/* empty and NULL tables hold nothing */
	assert_null(ms_maps__find(&maps, 0x5631b6463000));
	assert_null(ms_maps__find(NULL, 0));
}

/* A kernel thread has an empty maps file: success with zero entries. */
static void test_maps_kernel_thread_is_empty(void **state)
{
	struct ms_maps maps;

	assert_int_equal(procfs__read_maps(FIX "kthread", 2, &maps), 0);
	assert_int_equal(maps.n, 0);
	assert_null(ms_maps__find(&maps, 0x1000));
	ms_maps__free(&maps);
}

/* Lines out of order (a live file read across an mmap) come back sorted. */
static void test_maps_unsorted_input_is_sorted(void **state)
{
	char *root = tmp_root();
	struct ms_maps maps;

	put_str(root, 7, "maps",
		"7f0000003000-7f0000004000 rw-p 00000000 00:00 0 \n"
		"7f0000001000-7f0000002000 r-xp 00000000 08:01 42    /lib/c\n"
		"7f0000002000-7f0000003000 r--p 00001000 08:01 42    /lib/c"); /* no final LF */
	assert_int_equal(procfs__read_maps(root, 7, &maps), 0);
	assert_int_equal(maps.n, 3);
	assert_int_equal(maps.v[0].start, 0x7f0000001000);
	assert_int_equal(maps.v[1].start, 0x7f0000002000);
	assert_int_equal(maps.v[1].pgoff, 0x1000);
	assert_null(maps.v[2].path);
	assert_ptr_equal(ms_maps__find(&maps, 0x7f0000002abc), &maps.v[1]);
	assert_int_equal(maps.v[1].dev_major, 8);
	assert_int_equal(maps.v[1].dev_minor, 1);
	ms_maps__free(&maps);
	rm_root(root);
}

/* A path longer than PATH_MAX passes: no fixed-size line buffer. */
static void test_maps_very_long_path(void **state)
{
	char *root = tmp_root(), *line, *path;
	size_t plen = 3 * PATH_MAX;
	struct ms_maps maps;

	path = malloc(plen + 1);
	line = malloc(plen + 128);
	assert_non_null(path);
	assert_non_null(line);
	path[0] = '/';
	memset(path + 1, 'p', plen - 1);
	path[plen] = '\0';
	snprintf(line, plen + 128, "1000-2000 r--p 00000000 103:02 7 %s (deleted)\n", path);
	put_str(root, 9, "maps", line);

	assert_int_equal(procfs__read_maps(root, 9, &maps), 0);
	assert_int_equal(maps.n, 1);
	assert_int_equal(strlen(maps.v[0].path), plen);
	assert_string_equal(maps.v[0].path, path);
	assert_true(maps.v[0].deleted);
	assert_int_equal(maps.v[0].dev_major, 0x103);
	ms_maps__free(&maps);
	free(path);
	free(line);
	rm_root(root);
}

/* Each malformed line fails the whole read cleanly and leaves ret empty. */
static void test_maps_malformed_lines_fail(void **state)
{
	static const struct {
		const char *data;
		size_t len;	/* 0: strlen */
		int err;
	} cases[] = {
		{ "7f0000000000-7f0000001000 r-x", 0, -EINVAL },		/* cut mid-line */
		{ "7f0000000000-7f0000001000 rwzp 00000000 00:00 0 \n", 0, -EINVAL },
		{ "7f0000002000-7f0000001000 r--p 00000000 00:00 0 \n", 0, -EINVAL },
		{ "7f0000001000-7f0000001000 r--p 00000000 00:00 0 \n", 0, -EINVAL },
		{ "10000000000000000-10000000000001000 r--p 0 00:00 0 \n", 0, -EINVAL },
		{ "7g00-8000 r--p 00000000 00:00 0 \n", 0, -EINVAL },
		{ "7000-8000 r--p 00000000 00:00 0x12 /lib/a\n", 0, -EINVAL },
		{ "7000-8000 r--p 00000000 -1:00 0 \n", 0, -EINVAL },
		{ "7000-8000 r--p 00000000 00:00 \n", 0, -EINVAL },	/* no inode */
		{ "7000-8000 r--p 0 00:00 0 \n\n8000-9000 r--p 0 00:00 0 \n", 0, -EINVAL },
		{ "7000-8000 r--p 00000000 fe:00 1 /lib/a\0b\n", 41, -EINVAL },
		{ "garbage\n", 0, -EINVAL },
	};
	char *root = tmp_root();
	struct ms_maps maps;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t len = cases[i].len ?: strlen(cases[i].data);

		put_file(root, 3, "maps", cases[i].data, len);
		maps.v = (void *)1;
		maps.n = 99;
		if (procfs__read_maps(root, 3, &maps) != cases[i].err)
			fail_msg("case %zu: %.*s", i, (int)len, cases[i].data);
		assert_null(maps.v);
		assert_int_equal(maps.n, 0);
	}
	rm_root(root);
}

/* Exactly 1,000,000 entries parse; one more gives -E2BIG, not more memory. */
static void test_maps_entry_cap(void **state)
{
	char *root = tmp_root(), path[PATH_MAX];
	struct ms_maps maps;
	FILE *f;

	put_str(root, 5, "maps", "");
	snprintf(path, sizeof(path), "%s/5/maps", root);
	f = fopen(path, "w");
	assert_non_null(f);
	for (unsigned long i = 0; i < 1000000; i++)
		fprintf(f, "%lx-%lx rw-p 0 00:00 0\n", (i + 1) << 12, (i + 2) << 12);
	assert_int_equal(fclose(f), 0);

	assert_int_equal(procfs__read_maps(root, 5, &maps), 0);
	assert_int_equal(maps.n, 1000000);
	assert_ptr_equal(ms_maps__find(&maps, 0xf4240abc), &maps.v[999999]);
	ms_maps__free(&maps);

	f = fopen(path, "a");
	assert_non_null(f);
	fprintf(f, "%lx-%lx rw-p 0 00:00 0\n", 1000001ul << 12, 1000002ul << 12);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(procfs__read_maps(root, 5, &maps), -E2BIG);
	assert_int_equal(maps.n, 0);
	rm_root(root);
}

/* A line of several MiB is not a kernel line: -E2BIG. */
static void test_maps_huge_line_rejected(void **state)
{
	size_t len = 2 * 1024 * 1024;
	char *root = tmp_root(), *data = malloc(len);
	struct ms_maps maps;

	assert_non_null(data);
	memset(data, '/', len);
	memcpy(data, "1000-2000 r--p 0 00:00 0 ", 25);
	put_file(root, 4, "maps", data, len);
	assert_int_equal(procfs__read_maps(root, 4, &maps), -E2BIG);
	free(data);
	rm_root(root);
}

/* ---- status ------------------------------------------------------------ */

static void test_status_user_process(void **state)
{
	struct ms_proc_status st;

	assert_int_equal(procfs__read_status(FIX "leaky", 4972, &st), 0);
	assert_string_equal(st.name, "a) (b) R 9 9");
	assert_int_equal(st.tgid, 4972);
	assert_int_equal(st.ppid, 1);
	assert_int_equal(st.threads, 3);
	assert_int_equal(st.vm_size_kb, 70084);
	assert_int_equal(st.vm_rss_kb, 32184);
	assert_int_equal(st.vm_hwm_kb, 32184);
	assert_int_equal(st.rss_anon_kb, 30840);
	assert_int_equal(st.rss_file_kb, 1344);
	assert_int_equal(st.rss_shmem_kb, 0);
	assert_int_equal(st.vm_swap_kb, 0);
}

/* Name stays as the kernel escaped it: a newline is the two bytes "\n". */
static void test_status_name_kept_escaped(void **state)
{
	struct ms_proc_status st;

	assert_int_equal(procfs__read_status(FIX "escaped", 4974, &st), 0);
	assert_string_equal(st.name, "new\\nline\\\\x");
	assert_int_equal(st.tgid, 4974);
	assert_int_equal(st.threads, 3);
}

/* A kernel thread has no Vm/Rss lines: all zero, still success. */
static void test_status_kernel_thread(void **state)
{
	struct ms_proc_status st;

	memset(&st, 0xff, sizeof(st));
	assert_int_equal(procfs__read_status(FIX "kthread", 2, &st), 0);
	assert_string_equal(st.name, "kthreadd");
	assert_int_equal(st.tgid, 2);
	assert_int_equal(st.ppid, 0);
	assert_int_equal(st.threads, 1);
	assert_int_equal(st.vm_size_kb, 0);
	assert_int_equal(st.vm_rss_kb, 0);
	assert_int_equal(st.vm_hwm_kb, 0);
	assert_int_equal(st.rss_anon_kb, 0);
	assert_int_equal(st.rss_file_kb, 0);
	assert_int_equal(st.rss_shmem_kb, 0);
	assert_int_equal(st.vm_swap_kb, 0);
}

/*
 * Workqueue kworkers print names past MS_COMM_LEN: status keeps the whole
 * name, comm gives it to a big enough buffer, -ERANGE else.
 */
static void test_long_kworker_name(void **state)
{
	struct ms_proc_status st;
	char comm[64], small[MS_COMM_LEN + 1];

	assert_int_equal(procfs__read_status(FIX "kthread", 11, &st), 0);
	assert_string_equal(st.name, "kworker/0:1-virtio_vsock");
	assert_int_equal(st.ppid, 2);
	assert_int_equal(procfs__read_comm(FIX "kthread", 11, comm, sizeof(comm)), 0);
	assert_string_equal(comm, "kworker/0:1-virtio_vsock");
	assert_int_equal(procfs__read_comm(FIX "kthread", 11, small, sizeof(small)), -ERANGE);
}

/* Cutting an escaped name never leaves half of a "\\" escape. */
static void test_status_name_cut_keeps_escapes_whole(void **state)
{
	char *root = tmp_root();
	struct ms_proc_status st;

	char line[512], want[128];

	/* 126 plain bytes then "\n": 129 bytes do not fit 128, the escape is dropped */
	memset(want, 'x', 126);
	want[126] = 0;
	snprintf(line, sizeof(line), "Name:\t%s\\n\nTgid:\t8\nPPid:\t1\nThreads:\t1\n", want);
	put_str(root, 8, "status", line);
	assert_int_equal(procfs__read_status(root, 8, &st), 0);
	assert_string_equal(st.name, want);
	/* names may end in blanks and contain tabs; both are kept */
	put_str(root, 8, "status", "Name:\ta\tb \nTgid:\t8\nPPid:\t1\nThreads:\t1\n");
	assert_int_equal(procfs__read_status(root, 8, &st), 0);
	assert_string_equal(st.name, "a\tb ");
	rm_root(root);
}

static void test_status_malformed_fails(void **state)
{
	static const struct {
		const char *data;
		int err;
	} cases[] = {
		/* cut before Threads: the Vm block may be incomplete */
		{ "Name:\tx\nTgid:\t8\nPPid:\t1\nVmSize:\t 10 kB\n", -EINVAL },
		{ "Name:\tx\nTgid:\t8\nPPid:\t1\nVmRSS:\t abc kB\nThreads:\t1\n", -EINVAL },
		{ "Name:\tx\nTgid:\t8\nPPid:\t1\nVmRSS:\t 12 MB\nThreads:\t1\n", -EINVAL },
		{ "Name:\tx\nTgid:\t99999999999\nPPid:\t1\nThreads:\t1\n", -EINVAL },
		{ "Name:\tx\nTgid:\t-8\nPPid:\t1\nThreads:\t1\n", -EINVAL },
		{ "Name:\tx\nTgid:\t8\nPPid:\t1\nThreads:\t1", -EINVAL },	/* no final LF */
		{ "Name:x\nTgid:\t8\nPPid:\t1\nThreads:\t1\n", -EINVAL },
		{ "Name:\tx\nPPid:\t1\nThreads:\t1\n", -EINVAL },		/* no Tgid */
		{ "VmSize:\t 99999999999999999999999 kB\n", -EINVAL },
		{ "", -EINVAL },
	};
	char *root = tmp_root(), *big;
	struct ms_proc_status st;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		put_str(root, 6, "status", cases[i].data);
		if (procfs__read_status(root, 6, &st) != cases[i].err)
			fail_msg("case %zu: %s", i, cases[i].data);
	}
	/* a status file of 1 MiB is not procfs */
	big = malloc(1 << 20);
	assert_non_null(big);
	memset(big, '\n', 1 << 20);
	put_file(root, 6, "status", big, 1 << 20);
	assert_int_equal(procfs__read_status(root, 6, &st), -E2BIG);
	free(big);
	rm_root(root);
}

/* ---- stat, comm, exe ---------------------------------------------------- */

/*
 * Field 22 counts from the last ')': comm "a) (b) R 9 9" would make a
 * parser stopping at the first ')' read fields shifted by four.
 */
static void test_start_time_comm_with_parens(void **state)
{
	uint64_t ticks = 0;

	assert_int_equal(procfs__read_start_time(FIX "leaky", 4972, &ticks), 0);
	assert_int_equal(ticks, 32263);
	/* comm holding a raw newline: stat must not be read line by line */
	assert_int_equal(procfs__read_start_time(FIX "escaped", 4974, &ticks), 0);
	assert_int_equal(ticks, 32264);
	assert_int_equal(procfs__read_start_time(FIX "kthread", 2, &ticks), 0);
	assert_int_equal(ticks, 13);
}

static void test_start_time_malformed_fails(void **state)
{
	static const char *const cases[] = {
		"5 noparens S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 777 0\n",
		"5 (x) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0\n",	/* cut at field 21 */
		"5 (x) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 77a 0\n",
		"5 (x) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 99999999999999999999 0\n",
		"5 (x) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 -7 0\n",
		"5 (x) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 777",	/* cut in field 22 */
		"5 (x) S  1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 777 0\n",	/* empty field */
		"5 )x( S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 777 0\n",
		"",
	};
	char *root = tmp_root();
	uint64_t ticks = 4242;

	put_str(root, 5, "stat", "5 ()) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 777 0\n");
	assert_int_equal(procfs__read_start_time(root, 5, &ticks), 0);
	assert_int_equal(ticks, 777);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		put_str(root, 5, "stat", cases[i]);
		ticks = 4242;
		if (procfs__read_start_time(root, 5, &ticks) != -EINVAL)
			fail_msg("case %zu: %s", i, cases[i]);
		assert_int_equal(ticks, 4242);
	}
	rm_root(root);
}

/* comm drops only the final newline; one inside the name is kept raw. */
static void test_comm(void **state)
{
	char buf[MS_COMM_LEN + 1], *root;

	assert_int_equal(procfs__read_comm(FIX "leaky", 4972, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "a) (b) R 9 9");
	assert_int_equal(procfs__read_comm(FIX "escaped", 4974, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "new\nline\\x");
	/* 12 bytes + NUL need 13 */
	assert_int_equal(procfs__read_comm(FIX "leaky", 4972, buf, 12), -ERANGE);
	assert_int_equal(procfs__read_comm(FIX "leaky", 4972, buf, 13), 0);

	root = tmp_root();
	put_str(root, 5, "comm", "cut");
	assert_int_equal(procfs__read_comm(root, 5, buf, sizeof(buf)), -EINVAL);
	put_str(root, 5, "comm", "");
	assert_int_equal(procfs__read_comm(root, 5, buf, sizeof(buf)), -EINVAL);
	put_file(root, 5, "comm", "a\0b\n", 4);
	assert_int_equal(procfs__read_comm(root, 5, buf, sizeof(buf)), -EINVAL);
	rm_root(root);
}

/* exe keeps the kernel's " (deleted)"; a kernel thread has none: -ENOENT. */
static void test_exe(void **state)
{
	char buf[PATH_MAX];

	assert_int_equal(procfs__read_exe(FIX "leaky", 4972, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/opt/demo/bin/leaky (deleted)");
	assert_int_equal(procfs__read_exe(FIX "escaped", 4974, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/opt/demo/bin/gen");
	assert_int_equal(procfs__read_exe(FIX "kthread", 2, buf, sizeof(buf)), -ENOENT);
	/* 17 bytes + NUL do not fit 17 */
	assert_int_equal(procfs__read_exe(FIX "escaped", 4974, buf, 17), -ERANGE);
	assert_int_equal(procfs__read_exe(FIX "escaped", 4974, buf, 18), 0);
	assert_string_equal(buf, "/opt/demo/bin/gen");
}

/* ---- errors ------------------------------------------------------------ */

static void assert_all_esrch(const char *root, pid_t pid)
{
	struct ms_maps maps;
	struct ms_proc_status st;
	uint64_t ticks;
	char buf[64];

	assert_int_equal(procfs__pid_exists(root, pid), -ESRCH);
	assert_int_equal(procfs__read_maps(root, pid, &maps), -ESRCH);
	assert_int_equal(procfs__read_status(root, pid, &st), -ESRCH);
	assert_int_equal(procfs__read_start_time(root, pid, &ticks), -ESRCH);
	assert_int_equal(procfs__read_comm(root, pid, buf, sizeof(buf)), -ESRCH);
	assert_int_equal(procfs__read_exe(root, pid, buf, sizeof(buf)), -ESRCH);
}

static void test_missing_pid_is_esrch(void **state)
{
	assert_int_equal(procfs__pid_exists(FIX "leaky", 4972), 0);
	assert_all_esrch(FIX "leaky", 4973);
	assert_all_esrch(FIX "no-such-root", 4972);
}

/* ---- a process whose main thread exited --------------------------------- */

/* <root>/<pid>/task/<tid>/<name> holding str (directories made as needed). */
static void put_task(const char *root, pid_t pid, pid_t tid, const char *name, const char *str)
{
	char path[PATH_MAX];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%d", root, (int)pid);
	assert_true(mkdir(path, 0755) == 0 || errno == EEXIST);
	snprintf(path, sizeof(path), "%s/%d/task", root, (int)pid);
	assert_true(mkdir(path, 0755) == 0 || errno == EEXIST);
	snprintf(path, sizeof(path), "%s/%d/task/%d", root, (int)pid, (int)tid);
	assert_true(mkdir(path, 0755) == 0 || errno == EEXIST);
	snprintf(path, sizeof(path), "%s/%d/task/%d/%s", root, (int)pid, (int)tid, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(str, f);
	assert_int_equal(fclose(f), 0);
}

#define ZSTAT(p)	#p " (orphan) Z 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 2 0 777 0 0\n"
#define SSTAT(p)	#p " (orphan) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 2 0 778 0 0\n"
#define STATUS(rss)	"Name:\torphan\nTgid:\t100\nPPid:\t1\n" rss "Threads:\t2\n"

/* The zombie leader shows no memory: its maps and status come from a live thread. */
static void test_main_thread_exited_reads_live_thread(void **state)
{
	char *root = tmp_root();
	struct ms_proc_status st;
	struct ms_maps maps;
	pid_t tid;

	put_task(root, 100, 100, "stat", ZSTAT(100));
	put_task(root, 100, 101, "stat", ZSTAT(101));	/* exiting too: skipped */
	put_task(root, 100, 102, "stat", SSTAT(102));
	put_task(root, 100, 102, "maps", "00400000-00401000 r-xp 00000000 08:01 42 /bin/orphan\n");
	put_task(root, 100, 102, "status", STATUS("VmRSS:\t    5000 kB\n"));
	put_str(root, 100, "stat", ZSTAT(100));
	put_str(root, 100, "maps", "");
	put_str(root, 100, "status", STATUS(""));

	assert_int_equal(procfs__mm_task(root, 100, &tid), 0);
	assert_int_equal(tid, 102);
	assert_int_equal(procfs__read_maps(root, 100, &maps), 0);
	assert_int_equal(maps.n, 1);
	assert_string_equal(maps.v[0].path, "/bin/orphan");
	ms_maps__free(&maps);
	assert_int_equal(procfs__read_status(root, 100, &st), 0);
	assert_int_equal(st.vm_rss_kb, 5000);
	assert_int_equal(st.threads, 2);
	/* the process's own identity stays the leader's */
	assert_int_equal(procfs__read_start_time(root, 100, &(uint64_t){ 0 }), 0);

	/* every thread exiting: the leader's (empty) view, not an error */
	put_task(root, 100, 102, "stat", ZSTAT(102));
	assert_int_equal(procfs__mm_task(root, 100, &tid), 0);
	assert_int_equal(tid, 100);
	assert_int_equal(procfs__read_maps(root, 100, &maps), 0);
	assert_int_equal(maps.n, 0);
	ms_maps__free(&maps);
	rm_root(root);
}

/* A live leader is read directly, whatever its threads do. */
static void test_live_leader_is_its_own_mm_task(void **state)
{
	pid_t tid;

	assert_int_equal(procfs__mm_task("/proc", getpid(), &tid), 0);
	assert_int_equal(tid, getpid());
	assert_int_equal(procfs__mm_task(FIX "leaky", 4972, &tid), 0);	/* no task dir */
	assert_int_equal(tid, 4972);
	assert_int_equal(procfs__mm_task(FIX "leaky", 4973, &tid), -ESRCH);
}

static void test_same_pidns(void **state)
{
	assert_int_equal(procfs__same_pidns("/proc", getpid(), getppid()), 1);
	assert_int_equal(procfs__same_pidns("/proc", getpid(), 0), -ESRCH);
	assert_int_equal(procfs__same_pidns(FIX "leaky", 4972, 4972), -ENOENT);
}

/* A child in a PID namespace of its own is not in the host's (BPF's) one. */
static void test_initial_pidns(void **state)
{
	int status;
	pid_t pid;

	if (procfs__self_in_initial_pidns("/proc") != 1 || geteuid())
		skip();	/* already in a container, or no right to make one */
	pid = fork();
	assert_true(pid >= 0);
	if (!pid) {
		/* a child unshares, so this process's later children stay where they are;
		 * its own next child is the first of the new namespace */
		pid_t in;

		if (unshare(CLONE_NEWPID) || (in = fork()) < 0)
			_exit(2);
		if (!in)
			_exit(procfs__self_in_initial_pidns("/proc") == 0 ? 0 : 1);
		_exit(waitpid(in, &status, 0) == in && WIFEXITED(status) ?
		      WEXITSTATUS(status) : 3);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_int_equal(procfs__self_in_initial_pidns("/proc"), 1);
	assert_int_equal(procfs__self_in_initial_pidns(FIX "no-such-root"), -ENOENT);
}

/* A child that exited and was reaped is gone from live /proc. */
static void test_live_reaped_child_is_esrch(void **state)
{
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (!pid)
		_exit(0);
	assert_int_equal(waitpid(pid, NULL, 0), pid);
	assert_all_esrch("/proc", pid);
}

/* An unreadable maps/status gives the open error, -EACCES. */
static void test_unreadable_is_eacces(void **state)
{
	char *root = tmp_root(), path[PATH_MAX];
	struct ms_maps maps;
	struct ms_proc_status st;
	int fds[2], errs[2] = { 1, 1 };
	pid_t pid;

	put_str(root, 12, "maps", "1000-2000 r--p 0 00:00 0 \n");
	put_str(root, 12, "status", "Name:\tx\nTgid:\t12\nPPid:\t1\nThreads:\t1\n");
	snprintf(path, sizeof(path), "%s/12/maps", root);
	assert_int_equal(chmod(path, 0), 0);
	snprintf(path, sizeof(path), "%s/12/status", root);
	assert_int_equal(chmod(path, 0), 0);

	/*
	 * root reads anything: check as "nobody" in a child, which reports
	 * through a pipe (its exit status is valgrind's when run under it).
	 */
	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (!pid) {
		close(fds[0]);
		if (geteuid() == 0 && (setgid(65534) || setuid(65534)))
			_exit(1);
		errs[0] = procfs__read_maps(root, 12, &maps);
		errs[1] = procfs__read_status(root, 12, &st);
		_exit(write(fds[1], errs, sizeof(errs)) != sizeof(errs));
	}
	close(fds[1]);
	assert_int_equal(read(fds[0], errs, sizeof(errs)), sizeof(errs));
	close(fds[0]);
	assert_int_equal(waitpid(pid, NULL, 0), pid);
	assert_int_equal(errs[0], -EACCES);
	assert_int_equal(errs[1], -EACCES);
	rm_root(root);
}

static void test_bad_arguments(void **state)
{
	char buf[8];

	assert_int_equal(procfs__read_maps(FIX "leaky", 4972, NULL), -EINVAL);
	assert_int_equal(procfs__read_status(NULL, 4972, (void *)buf), -EINVAL);
	assert_int_equal(procfs__read_comm(FIX "leaky", 4972, buf, 0), -EINVAL);
	assert_int_equal(procfs__pid_exists(FIX "leaky", -1), -EINVAL);
}

/* ---- live ------------------------------------------------------------- */

static int live_marker(void)
{
	return 42;
}

/*
 * On our own live /proc entry: tgid is getpid(), the name we set with
 * prctl() comes back from status and comm, the address of a function of
 * this test lies in an executable mapping of the test binary, and start
 * time is before now. Holds under valgrind too, where exe is the tool.
 */
static void test_live_self(void **state)
{
	char exe[PATH_MAX], bin[PATH_MAX], comm[64], saved[MS_COMM_LEN + 1] = "";
	struct ms_proc_status st;
	struct ms_maps maps;
	const struct ms_map *m;
	uint64_t start, now_ticks;
	struct timespec ts;
	int local = live_marker();
	bool exe_mapped = false;

	assert_non_null(realpath((const char *)getauxval(AT_EXECFN), bin));
	assert_int_equal(prctl(PR_GET_NAME, saved), 0);
	assert_int_equal(prctl(PR_SET_NAME, "ms) (live"), 0);

	assert_int_equal(procfs__read_status("/proc", getpid(), &st), 0);
	assert_int_equal(procfs__read_comm("/proc", getpid(), comm, sizeof(comm)), 0);
	prctl(PR_SET_NAME, saved);
	assert_string_equal(st.name, "ms) (live");
	assert_string_equal(comm, "ms) (live");
	assert_int_equal(st.tgid, getpid());
	assert_int_equal(st.ppid, getppid());
	assert_true(st.threads >= 1);
	assert_true(st.vm_rss_kb > 0);
	assert_true(st.vm_size_kb >= st.vm_rss_kb);
	assert_true(st.vm_hwm_kb >= st.vm_rss_kb);
	assert_int_equal(st.vm_rss_kb, st.rss_anon_kb + st.rss_file_kb + st.rss_shmem_kb);

	assert_int_equal(procfs__read_exe("/proc", getpid(), exe, sizeof(exe)), 0);
	assert_int_equal(exe[0], '/');

	assert_int_equal(procfs__read_maps("/proc", getpid(), &maps), 0);
	assert_true(maps.n > 5);
	m = ms_maps__find(&maps, (uint64_t)(uintptr_t)live_marker);
	assert_non_null(m);
	assert_string_equal(m->path, bin);
	assert_false(m->deleted);
	assert_string_equal(m->perms, "r-xp");
	m = ms_maps__find(&maps, (uint64_t)(uintptr_t)&local);
	assert_non_null(m);
	assert_int_equal(m->perms[0], 'r');
	assert_int_equal(m->perms[1], 'w');
	for (size_t i = 0; i < maps.n; i++)
		exe_mapped |= maps.v[i].path && !strcmp(maps.v[i].path, exe);
	assert_true(exe_mapped);
	ms_maps__free(&maps);

	assert_int_equal(procfs__read_start_time("/proc", getpid(), &start), 0);
	assert_int_equal(clock_gettime(CLOCK_BOOTTIME, &ts), 0);
	now_ticks = ts.tv_sec * (uint64_t)sysconf(_SC_CLK_TCK) +
		    ts.tv_nsec / (1000000000 / sysconf(_SC_CLK_TCK));
	assert_true(start > 0);
	assert_true(start <= now_ticks);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_maps_real_file_all_line_kinds),
		cmocka_unit_test(test_maps_find_boundaries_and_gaps),
		cmocka_unit_test(test_maps_kernel_thread_is_empty),
		cmocka_unit_test(test_maps_unsorted_input_is_sorted),
		cmocka_unit_test(test_maps_very_long_path),
		cmocka_unit_test(test_maps_malformed_lines_fail),
		cmocka_unit_test(test_maps_entry_cap),
		cmocka_unit_test(test_maps_huge_line_rejected),
		cmocka_unit_test(test_status_user_process),
		cmocka_unit_test(test_status_name_kept_escaped),
		cmocka_unit_test(test_status_kernel_thread),
		cmocka_unit_test(test_long_kworker_name),
		cmocka_unit_test(test_status_name_cut_keeps_escapes_whole),
		cmocka_unit_test(test_status_malformed_fails),
		cmocka_unit_test(test_start_time_comm_with_parens),
		cmocka_unit_test(test_start_time_malformed_fails),
		cmocka_unit_test(test_comm),
		cmocka_unit_test(test_exe),
		cmocka_unit_test(test_missing_pid_is_esrch),
		cmocka_unit_test(test_live_reaped_child_is_esrch),
		cmocka_unit_test(test_main_thread_exited_reads_live_thread),
		cmocka_unit_test(test_live_leader_is_its_own_mm_task),
		cmocka_unit_test(test_same_pidns),
		cmocka_unit_test(test_initial_pidns),
		cmocka_unit_test(test_unreadable_is_eacces),
		cmocka_unit_test(test_bad_arguments),
		cmocka_unit_test(test_live_self),
	};

	return cmocka_run_group_tests_name("procfs", tests, NULL, NULL);
}
