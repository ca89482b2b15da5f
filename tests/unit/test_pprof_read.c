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

#include "export/pprof.h"
#include "export/pprof_read.h"
#include "export/report_read.h"

/*
 * Fixtures (tests/fixtures/pprof/): run-sh-leakexit.pb is `memsight run
 * --pprof` of `sh -c leakexit` gunzipped (sh and its child leakexit, which
 * holds 1 MiB at exit under leak_here, 16 x 64 KiB, and allocated 100 x
 * 1000 B more in churn); prometheus-heap.pb.gz is a real Prometheus's
 * /debug/pprof/heap as Go's runtime wrote it.
 */
static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = malloc(1 << 20);

	assert_non_null(f);
	assert_non_null(buf);
	*len = fread(buf, 1, 1 << 20, f);
	assert_true(*len > 0 && *len < (1 << 20));
	fclose(f);
	return buf;
}

static const struct diff_proc *proc(const struct diff_report *r, const char *name)
{
	for (size_t i = 0; i < r->nprocs; i++)
		if (!strcmp(r->procs[i].name, name))
			return &r->procs[i];
	return NULL;
}

/* The stack of p whose key's first frame starts with func (after the kind line). */
static const struct diff_stack *stack(const struct diff_proc *p, const char *func)
{
	size_t n = strlen(func);

	for (size_t i = 0; i < p->nstacks; i++) {
		const char *nl = strchr(p->stacks[i].key, '\n');

		if (nl && !strncmp(nl + 1, func, n) && nl[1 + n] == ' ')
			return &p->stacks[i];
	}
	return NULL;
}

/*
 * memsight's own: each process by its "process" label, exact bytes per
 * stack, frames keyed "func file:line" as a JSON report's are.
 */
static void test_run_profile(void **state)
{
	struct diff_report r;
	const struct diff_proc *le;
	const struct diff_stack *s;
	char err[256];
	size_t len;
	char *buf = slurp("tests/fixtures/pprof/run-sh-leakexit.pb", &len);

	assert_true(pprof_read__is_pprof(buf, len));
	assert_int_equal(pprof_read__parse(buf, len, 0, &r, err, sizeof(err)), 0);
	assert_int_equal(r.nprocs, 2);
	le = proc(&r, "leakexit leakexit");
	assert_non_null(le);
	assert_non_null(proc(&r, "sh dash"));
	assert_int_equal(le->total[DIFF_INUSE], 1048576);
	assert_int_equal(le->total[DIFF_ALLOC], 1148576);
	s = stack(le, "leak_here");
	assert_non_null(s);
	assert_int_equal(s->bytes[DIFF_INUSE], 1048576);
	assert_non_null(strstr(s->key, "malloc\nleak_here leakexit.c:26\nmain leakexit.c:"));
	s = stack(le, "churn");
	assert_non_null(s);
	assert_int_equal(s->bytes[DIFF_INUSE], 0);
	assert_int_equal(s->bytes[DIFF_ALLOC], 100000);
	diff_report__free(&r);

	/* functions alone: no file:line in the key */
	assert_int_equal(pprof_read__parse(buf, len, REPORT_READ_FUNCS_ONLY, &r, err,
					   sizeof(err)), 0);
	assert_non_null(strstr(proc(&r, "leakexit leakexit")->stacks[0].key, "\nmain\n"));
	diff_report__free(&r);
	free(buf);
}

/*
 * Go's own heap profile, gzipped: no labels, so one process named by the
 * first mapping's file, kind go-heap; inlined calls (several Lines in one
 * location) are frames of their own.
 */
static void test_go_heap_profile(void **state)
{
	struct diff_report r;
	char err[256];
	size_t len, lines = 0;
	char *buf = slurp("tests/fixtures/pprof/prometheus-heap.pb.gz", &len);

	assert_true(pprof_read__is_pprof(buf, len));
	assert_int_equal(pprof_read__parse(buf, len, 0, &r, err, sizeof(err)), 0);
	assert_int_equal(r.nprocs, 1);
	assert_string_equal(r.procs[0].name, "? prometheus");
	assert_true(r.procs[0].nstacks > 10);
	assert_true(r.procs[0].total[DIFF_ALLOC] > 1048576);
	for (size_t i = 0; i < r.procs[0].nstacks; i++) {
		const char *k = r.procs[0].stacks[i].key;

		assert_memory_equal(k, "go-heap\n", 8);
		lines += strstr(k, ".go:") != NULL;
	}
	assert_int_equal(lines, r.procs[0].nstacks);
	diff_report__free(&r);
	free(buf);
}

/* JSON is JSON by its first character; anything else (gzip, protobuf) is pprof. */
static void test_detection(void **state)
{
	assert_false(pprof_read__is_pprof(" \n{\"stacks\": []}", 16));
	assert_false(pprof_read__is_pprof("[]", 2));
	assert_true(pprof_read__is_pprof("\x1f\x8b", 2));
	assert_true(pprof_read__is_pprof("\x0a\x04\x08\x01\x10\x02", 6));
	assert_true(pprof_read__is_pprof("", 0));
}

static void bad(const char *buf, size_t len, int want, const char *msg)
{
	struct diff_report r;
	char err[256] = "";

	assert_int_equal(pprof_read__parse(buf, len, 0, &r, err, sizeof(err)), want);
	if (!strstr(err, msg))
		fail_msg("error '%s' does not say '%s'", err, msg);
	assert_int_equal(r.nprocs, 0);
	assert_null(r.procs);
}

/*
 * Hostile profiles: every index checked, every failure said, nothing kept.
 * Hand-made protobuf: sample_type {type: 1 "inuse_space"}, string_table.
 */
#define ST_INUSE	"\x0a\x02\x08\x01"
#define STRINGS		"\x32\x00\x32\x0binuse_space"
static void test_hostile(void **state)
{
	size_t len;
	char *buf = slurp("tests/fixtures/pprof/prometheus-heap.pb.gz", &len);

	bad(buf, len / 2, -EINVAL, "not valid gzip");
	bad("\x1f\x8b\x08\x00garbage", 12, -EINVAL, "not valid gzip");
	bad("\xff\xff\xff", 3, -EINVAL, "does not decode");
	/* no string table, or its first string not "" */
	bad(ST_INUSE, 4, -EINVAL, "string_table[0]");
	/* no heap sample type */
	bad("\x0a\x02\x08\x01\x32\x00\x32\x03" "cpu", 11, -EINVAL, "not a heap profile");
	/* a sample type out of the string table */
	bad("\x0a\x02\x08\x09" STRINGS, 4 + 15, -EINVAL, "not a heap profile");
	/* no sample */
	bad(ST_INUSE STRINGS, 4 + 15, -EINVAL, "no sample");
	/* a sample at a location that is not there */
	bad(ST_INUSE STRINGS "\x12\x05\x0a\x01\x07\x10\x05", 4 + 15 + 7, -EINVAL,
	    "no location 7");
	/* fewer values than sample types */
	bad(ST_INUSE STRINGS "\x12\x00", 4 + 15 + 2, -EINVAL, "0 values for 1 sample types");
	/* a negative value: a delta profile */
	bad(ST_INUSE STRINGS "\x12\x0c\x12\x0a\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", 4 + 15 + 14,
	    -EINVAL, "negative");
	/* a label whose key is out of the string table */
	bad(ST_INUSE STRINGS "\x12\x07\x12\x01\x05\x1a\x02\x08\x63", 4 + 15 + 9, -EINVAL,
	    "label out of the string table");
	/* a function's name out of it: location 1 -> function 1 -> name 99 */
	bad(ST_INUSE STRINGS "\x22\x06\x08\x01\x22\x02\x08\x01\x2a\x04\x08\x01\x10\x63"
	    "\x12\x05\x0a\x01\x01\x10\x05", 4 + 15 + 14 + 7, -EINVAL, "function 1");
	free(buf);
}

/*
 * A small profile that names one long function from 17,000 samples: its
 * keys would take 272 MB; they stop at what a JSON report may hold.
 */
static void test_keys_capped(void **state)
{
	static const char head[] = ST_INUSE "\x32\x00\x32\x0binuse_space";
	static const char tail[] = "\x2a\x04\x08\x01\x10\x02"	/* function 1: name 2 */
				   "\x22\x06\x08\x01\x22\x02\x08\x01";	/* location 1 */
	static const char sample[] = "\x12\x06\x0a\x01\x01\x12\x01\x01";
	size_t n = 17000, name = 16000, at = 0, len = 4 + 15 + 3 + name + 14 + 8 * n;
	char *buf = malloc(len);

	assert_non_null(buf);
	memcpy(buf, head, 4 + 15);
	at = 4 + 15;
	buf[at++] = 0x32;	/* string 2: 16000 'f's (varint 0x80 0x7d) */
	buf[at++] = (char)0x80;
	buf[at++] = 0x7d;
	memset(buf + at, 'f', name);
	at += name;
	memcpy(buf + at, tail, 14);
	at += 14;
	for (size_t i = 0; i < n; i++, at += 8)
		memcpy(buf + at, sample, 8);
	assert_int_equal(at, len);
	bad(buf, len, -E2BIG, "add up to more than");
	free(buf);
}

/* The smallest valid one: one sample of 5 bytes at no location. */
static void test_minimal(void **state)
{
	struct diff_report r;
	char err[256];

	assert_int_equal(pprof_read__parse(ST_INUSE STRINGS "\x12\x02\x10\x05", 4 + 15 + 4, 0, &r,
					   err, sizeof(err)), 0);
	assert_int_equal(r.nprocs, 1);
	assert_string_equal(r.procs[0].name, "? ?");
	assert_int_equal(r.procs[0].total[DIFF_INUSE], 5);
	assert_int_equal(r.procs[0].total[DIFF_ALLOC], 0);
	assert_string_equal(r.procs[0].stacks[0].key, "go-heap");
	diff_report__free(&r);
}

/* A process with one stack: leak_here holding inuse of alloc bytes, in blocks of 1000 B. */
static struct ms_profile *one_stack(pid_t pid, const char *comm, uint64_t inuse, uint64_t alloc)
{
	struct ms_profile *p = ms_profile__new(pid);
	struct ms_stack s = { .kind = MS_KIND_MALLOC, .stack_id = 1, .alloc_bytes = alloc,
			      .alloc_count = alloc / 1000, .free_bytes = alloc - inuse,
			      .free_count = (alloc - inuse) / 1000 };
	struct ms_frame f = { .addr = 0x1234, .func = "leak_here", .file = "/src/leak.c",
			      .line = 7 };

	assert_non_null(p);
	snprintf(p->comm, sizeof(p->comm), "%s", comm);
	p->exe = strdup(comm);
	assert_non_null(ms_profile__add_stack(p, &s, &f, 1));
	ms_profile__finalize(p);
	return p;
}

/*
 * A run's profile written (pprof__write_procs) and read back: each process
 * by its label, its stacks and the stacks the run did not keep, so each
 * process's totals are all of its bytes.
 */
static void test_run_profile_round_trip(void **state)
{
	struct ms_profile *a = one_stack(10, "alpha", 3000, 5000);
	struct ms_profile *b = one_stack(11, "beta", 1000, 1000);
	struct ms_stack dropped[MS_KIND__MAX] = {};
	struct pprof_run_proc v[2] = { { a, dropped, MS_KIND__MAX }, { b, NULL, 0 } };
	const struct diff_proc *pa;
	struct diff_report r;
	char err[256], *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	dropped[MS_KIND_CALLOC] = (struct ms_stack){ .kind = MS_KIND_CALLOC, .alloc_bytes = 700,
						     .alloc_count = 7, .inuse_bytes = 200,
						     .inuse_count = 2 };
	assert_non_null(f);
	assert_int_equal(pprof__write_procs(v, 2, f), 0);
	fclose(f);
	assert_int_equal(pprof_read__parse(buf, len, 0, &r, err, sizeof(err)), 0);
	assert_int_equal(r.nprocs, 2);
	pa = proc(&r, "alpha alpha");
	assert_non_null(pa);
	assert_int_equal(pa->total[DIFF_INUSE], 3200);
	assert_int_equal(pa->total[DIFF_ALLOC], 5700);
	assert_int_equal(pa->nstacks, 2);
	assert_string_equal(pa->stacks[0].key, "calloc\n" PPROF_DROPPED_FRAME);
	assert_string_equal(pa->stacks[1].key, "malloc\nleak_here leak.c:7");
	assert_int_equal(proc(&r, "beta beta")->total[DIFF_INUSE], 1000);
	diff_report__free(&r);
	free(buf);
	ms_profile__free(a);
	ms_profile__free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_run_profile),
		cmocka_unit_test(test_go_heap_profile),
		cmocka_unit_test(test_detection),
		cmocka_unit_test(test_hostile),
		cmocka_unit_test(test_minimal),
		cmocka_unit_test(test_keys_capped),
		cmocka_unit_test(test_run_profile_round_trip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
