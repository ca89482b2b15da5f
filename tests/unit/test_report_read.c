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

#include "export/report_read.h"

/* A dump's profile as report.c writes it, trimmed to what diff reads plus some noise. */
#define PROFILE(pid, exe, a_addr, a_bytes)						\
	"{\"pid\":" #pid ",\"comm\":\"leaky\",\"exe\":\"" exe "\",\"exited\":false,"	\
	"\"tracked\":{\"inuse_bytes\":" #a_bytes ",\"alloc_bytes\":9000000,"		\
	"\"estimates\":false},\"events\":{\"lower_bound\":false},\"stacks\":["		\
	"{\"kind\":\"malloc\",\"stack_id\":7,\"inuse_bytes\":" #a_bytes ","		\
	"\"alloc_bytes\":" #a_bytes ",\"frames\":["					\
	"{\"addr\":\"" a_addr "\",\"func\":\"leak_a\",\"offset\":12,"			\
	"\"module\":\"" exe "\",\"module_offset\":\"0x1234\",\"file\":\"/src/t/leaky.c\","\
	"\"line\":61},"									\
	"{\"addr\":\"0x7f0000001000\",\"func\":null,\"offset\":0,"			\
	"\"module\":\"/usr/lib/libc.so.6\",\"module_offset\":\"0x2724a\"},"		\
	"{\"addr\":\"0x10\",\"func\":null,\"offset\":0,\"module\":null}]}]}"

static int parse(const char *json, struct diff_report *r, char *err)
{
	return report_read__parse(json, strlen(json), 0, r, err, 256);
}

/*
 * One dump: the process is "comm exe-basename"; the stack's key is its kind
 * and frames by function and file:line, module+offset, or "?": never the
 * address, so two runs at other addresses (and other build paths) match.
 */
static void test_one_dump(void **state)
{
	struct diff_report r;
	char err[256];

	assert_int_equal(parse(PROFILE(42, "/build/1/leaky", "0x55550000a000", 4096000), &r, err),
			 0);
	assert_int_equal(r.nprocs, 1);
	assert_string_equal(r.procs[0].name, "leaky leaky");
	assert_int_equal(r.procs[0].total[DIFF_INUSE], 4096000);
	assert_int_equal(r.procs[0].total[DIFF_ALLOC], 9000000);
	assert_int_equal(r.procs[0].nstacks, 1);
	assert_string_equal(r.procs[0].stacks[0].key,
			    "malloc\nleak_a leaky.c:61\nlibc.so.6+0x2724a\n?");
	assert_false(r.estimates);
	diff_report__free(&r);
	/* --match functions: the same frames, without file:line */
	static const char moved[] = PROFILE(42, "/b/leaky", "0x1", 1);

	assert_int_equal(report_read__parse(moved, sizeof(moved) - 1, REPORT_READ_FUNCS_ONLY, &r,
					    err, sizeof(err)), 0);
	assert_string_equal(r.procs[0].stacks[0].key, "malloc\nleak_a\nlibc.so.6+0x2724a\n?");
	diff_report__free(&r);
}

/* An array, run's {"processes": [...]} and JSON Lines: the processes of each, summed by name. */
static void test_shapes(void **state)
{
	static const char *const shapes[] = {
		"[" PROFILE(1, "/a/leaky", "0x1000", 100) "," PROFILE(2, "/b/leaky", "0x2000", 200) "]",
		"{\"command\":[\"make\",\"check\"],\"processes\":[{\"pid\":1,\"profile\":"
			PROFILE(1, "/a/leaky", "0x1000", 100) "},{\"pid\":3,\"profile_unavailable\":"
			"\"exited before attach\"},{\"pid\":2,\"profile\":"
			PROFILE(2, "/b/leaky", "0x2000", 200) "}]}",
		PROFILE(1, "/a/leaky", "0x1000", 100) "\n" PROFILE(2, "/b/leaky", "0x2000", 200) "\n",
	};

	for (size_t i = 0; i < 3; i++) {
		struct diff_report r;
		char err[256];

		assert_int_equal(parse(shapes[i], &r, err), 0);
		assert_int_equal(r.nprocs, 1);
		assert_int_equal(r.procs[0].merged, 2);
		assert_int_equal(r.procs[0].total[DIFF_INUSE], 300);
		/* one stack: the frames are the same at other addresses */
		assert_int_equal(r.procs[0].nstacks, 1);
		assert_int_equal(r.procs[0].stacks[0].bytes[DIFF_INUSE], 300);
		assert_int_equal(r.skipped, i == 1);
		diff_report__free(&r);
	}
}

/* What is wrong, and where, for each kind of malformed report; nothing kept. */
static void test_malformed(void **state)
{
	static const struct {
		const char *json, *err;
	} cases[] = {
		{ "", "no process profile" },
		{ "{\"a\":", "the value from byte 0 is not JSON: unexpected end" },
		{ "{\"tracked\":{\"inuse_bytes\":1,\"alloc_bytes\":0},\"stacks\":[]}\n x",
		  "value 2, process 0: the value from byte 59 is not JSON" },
		{ "\"text\"", "neither a profile" },
		{ "{\"pid\":1}", "not a profile" },
		{ "[1]", "not an object" },
		{ "{\"tracked\":{\"inuse_bytes\":-1,\"alloc_bytes\":0},\"stacks\":[]}",
		  "tracked: inuse_bytes" },
		{ "{\"tracked\":{\"inuse_bytes\":1,\"alloc_bytes\":0},\"stacks\":[{\"kind\":"
		  "\"malloc\",\"inuse_bytes\":1,\"alloc_bytes\":1}]}", "stacks[0]: no frames" },
		{ "{\"tracked\":{\"inuse_bytes\":1,\"alloc_bytes\":0},\"stacks\":[{\"kind\":"
		  "\"malloc\",\"inuse_bytes\":1.5,\"alloc_bytes\":1,\"frames\":[]}]}",
		  "stacks[0]: inuse_bytes" },
		{ "{\"tracked\":{\"inuse_bytes\":1,\"alloc_bytes\":0},\"stacks\":[{\"kind\":"
		  "\"malloc\",\"inuse_bytes\":1,\"alloc_bytes\":1,\"frames\":[{\"func\":7}]}]}",
		  "frame 0: func" },
		{ "{\"comm\":[],\"tracked\":{\"inuse_bytes\":1,\"alloc_bytes\":0},\"stacks\":[]}",
		  "comm or exe" },
		{ "{\"processes\":[{\"profile\":{\"tracked\":{}}}]}", "not a profile" },
		{ "{\"tracked\":{\"unavailable\":\"not probed\",\"inuse_bytes\":0,\"alloc_bytes\":0},"
		  "\"stacks\":[]}", "tracked figures unavailable" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct diff_report r;
		char err[256];

		assert_int_equal(parse(cases[i].json, &r, err), -EINVAL);
		if (!strstr(err, cases[i].err))
			fail_msg("case %zu: '%s' does not say '%s'", i, err, cases[i].err);
		assert_int_equal(r.nprocs, 0);
		assert_null(r.procs);
	}
}

/* Nesting past REPORT_READ_MAX_DEPTH and a stack name past DIFF_MAX_KEY are refused. */
static void test_limits(void **state)
{
	size_t n = 100000;
	char *deep = malloc(2 * n + 1), *big, err[256];
	struct diff_report r;

	memset(deep, '[', n);
	memset(deep + n, ']', n);
	deep[2 * n] = '\0';
	assert_int_equal(parse(deep, &r, err), -EINVAL);
	assert_non_null(strstr(err, "is not JSON"));
	free(deep);

	big = malloc(DIFF_MAX_KEY + 512);
	n = (size_t)snprintf(big, 512, "{\"tracked\":{\"inuse_bytes\":1,\"alloc_bytes\":0},"
			     "\"stacks\":[{\"kind\":\"malloc\",\"inuse_bytes\":1,\"alloc_bytes\":1,"
			     "\"frames\":[{\"func\":\"");
	memset(big + n, 'x', DIFF_MAX_KEY);
	strcpy(big + n + DIFF_MAX_KEY, "\"}]}]}");
	assert_int_equal(parse(big, &r, err), -E2BIG);
	assert_non_null(strstr(err, "frames longer than"));
	free(big);
}

/* A file: read whole, errors without the path (the caller names it). */
static void test_file(void **state)
{
	char path[] = "/tmp/test_report_read.XXXXXX", err[256];
	struct diff_report r;
	int fd = mkstemp(path);
	FILE *f = fdopen(fd, "w");

	assert_non_null(f);
	fputs(PROFILE(1, "/a/leaky", "0x1000", 100), f);
	fclose(f);
	assert_int_equal(report_read__file(path, 0, &r, err, sizeof(err)), 0);
	assert_int_equal(r.procs[0].total[DIFF_INUSE], 100);
	diff_report__free(&r);
	unlink(path);
	assert_int_equal(report_read__file(path, 0, &r, err, sizeof(err)), -ENOENT);
	assert_string_equal(err, "No such file or directory");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_dump),
		cmocka_unit_test(test_shapes),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_file),
	};

	return cmocka_run_group_tests_name("report_read", tests, NULL, NULL);
}
