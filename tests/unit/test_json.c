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
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "common/json.h"

/* A writer on a memory buffer; mem_done() returns what it wrote. */
struct mem {
	char *buf;
	size_t len;
	FILE *f;
};

static struct json_writer *mem_open(struct mem *m, bool pretty)
{
	struct json_writer *w;

	m->buf = NULL;
	m->f = open_memstream(&m->buf, &m->len);
	assert_non_null(m->f);
	w = jw__new(m->f);
	assert_non_null(w);
	jw__set_pretty(w, pretty);
	return w;
}

static char *mem_done(struct mem *m, struct json_writer *w)
{
	jw__free(w);
	assert_int_equal(fclose(m->f), 0);
	return m->buf;
}

/* The JSON text of one string value. */
static char *string_json(const char *s)
{
	struct mem m;
	struct json_writer *w = mem_open(&m, false);

	assert_int_equal(jw__string(w, s), 0);
	assert_int_equal(jw__finish(w), 0);
	return mem_done(&m, w);
}

#define assert_string_json(in, out)				\
	do {							\
		char *_got = string_json(in);			\
		assert_string_equal(_got, out "\n");		\
		free(_got);					\
	} while (0)

/* A process record as the exporters would write it. */
static void write_sample(struct json_writer *w)
{
	assert_int_equal(jw__start_object(w), 0);
	assert_int_equal(jw__kv_int(w, "pid", 4972), 0);
	assert_int_equal(jw__kv_string(w, "comm", "a) (b)"), 0);
	assert_int_equal(jw__name(w, "maps"), 0);
	assert_int_equal(jw__start_array(w), 0);
	assert_int_equal(jw__start_object(w), 0);
	assert_int_equal(jw__kv_uint(w, "start", 0x1000), 0);
	assert_int_equal(jw__kv_bool(w, "deleted", true), 0);
	assert_int_equal(jw__kv_string(w, "path", NULL), 0);
	assert_int_equal(jw__end_object(w), 0);
	assert_int_equal(jw__uint(w, 7), 0);
	assert_int_equal(jw__end_array(w), 0);
	assert_int_equal(jw__name(w, "empty"), 0);
	assert_int_equal(jw__start_object(w), 0);
	assert_int_equal(jw__end_object(w), 0);
	assert_int_equal(jw__name(w, "none"), 0);
	assert_int_equal(jw__start_array(w), 0);
	assert_int_equal(jw__end_array(w), 0);
	assert_int_equal(jw__name(w, "ok"), 0);
	assert_int_equal(jw__bool(w, false), 0);
	assert_int_equal(jw__end_object(w), 0);
	assert_int_equal(jw__finish(w), 0);
}

/* The writer places every comma and colon; nothing trails a last member. */
static void test_nested_compact(void **state)
{
	struct mem m;
	struct json_writer *w = mem_open(&m, false);
	char *out;

	write_sample(w);
	out = mem_done(&m, w);
	assert_string_equal(out,
		"{\"pid\":4972,\"comm\":\"a) (b)\",\"maps\":[{\"start\":4096,\"deleted\":true,"
		"\"path\":null},7],\"empty\":{},\"none\":[],\"ok\":false}\n");
	free(out);
}

static void test_nested_pretty(void **state)
{
	struct mem m;
	struct json_writer *w = mem_open(&m, true);
	char *out;

	write_sample(w);
	out = mem_done(&m, w);
	assert_string_equal(out,
		"{\n"
		"  \"pid\": 4972,\n"
		"  \"comm\": \"a) (b)\",\n"
		"  \"maps\": [\n"
		"    {\n"
		"      \"start\": 4096,\n"
		"      \"deleted\": true,\n"
		"      \"path\": null\n"
		"    },\n"
		"    7\n"
		"  ],\n"
		"  \"empty\": {},\n"
		"  \"none\": [],\n"
		"  \"ok\": false\n"
		"}\n");
	free(out);
}

/* Each top-level value is one line: a JSON Lines stream. */
static void test_top_level_values_are_lines(void **state)
{
	struct mem m;
	struct json_writer *w = mem_open(&m, false);
	char *out;

	assert_int_equal(jw__uint(w, 1), 0);
	assert_int_equal(jw__start_array(w), 0);
	assert_int_equal(jw__end_array(w), 0);
	assert_int_equal(jw__string(w, "x"), 0);
	out = mem_done(&m, w);
	assert_string_equal(out, "1\n[]\n\"x\"\n");
	free(out);
}

static void test_escapes(void **state)
{
	assert_string_json("say \"hi\"", "\"say \\\"hi\\\"\"");
	assert_string_json("C:\\dir", "\"C:\\\\dir\"");
	assert_string_json("a\nb\tc\rd\be\ff", "\"a\\nb\\tc\\rd\\be\\ff\"");
	assert_string_json("\x01\x1f", "\"\\u0001\\u001f\"");
	/* a comm "ESC[2J": no byte a terminal acts on, C1 controls in UTF-8 included */
	assert_string_json("\x1b[2J\xc2\x9b" "2J\xc2\x80\xc2\xa0",
			   "\"\\u001b[2J\\u009b2J\\u0080\xc2\xa0\"");
	/* '/' and DEL need no escape in JSON */
	assert_string_json("/x\x7f", "\"/x\x7f\"");
	assert_string_json("", "\"\"");
}

/* Keys are strings too and get the same treatment. */
static void test_keys_are_escaped(void **state)
{
	struct mem m;
	struct json_writer *w = mem_open(&m, false);
	char *out;

	assert_int_equal(jw__start_object(w), 0);
	assert_int_equal(jw__kv_uint(w, "k\"\n\xff", 1), 0);
	assert_int_equal(jw__end_object(w), 0);
	out = mem_done(&m, w);
	assert_string_equal(out, "{\"k\\\"\\n\\ufffd\":1}\n");
	free(out);
}

/*
 * Invalid UTF-8 becomes U+FFFD, one per maximal ill-formed subsequence
 * (Unicode 3.9 / W3C practice); valid multi-byte text passes as is.
 */
static void test_invalid_utf8_replaced(void **state)
{
	assert_string_json("\xff\xfe", "\"\\ufffd\\ufffd\"");
	/* truncated 3-byte sequence: one U+FFFD, the next byte survives */
	assert_string_json("\xe2\x82x", "\"\\ufffdx\"");
	assert_string_json("ab\xe2\x82", "\"ab\\ufffd\"");
	/* overlong '/' (C0 AF) and overlong 3-byte '/' (E0 80 AF) */
	assert_string_json("\xc0\xaf", "\"\\ufffd\\ufffd\"");
	assert_string_json("\xe0\x80\xaf", "\"\\ufffd\\ufffd\\ufffd\"");
	/* UTF-16 surrogate D800 and U+110000 are not scalar values */
	assert_string_json("\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\"");
	assert_string_json("\xf4\x90\x80\x80", "\"\\ufffd\\ufffd\\ufffd\\ufffd\"");
	/* lone continuation byte, and a 4-byte lead cut by a quote */
	assert_string_json("\x80", "\"\\ufffd\"");
	assert_string_json("\xf0\x9f\x98\"", "\"\\ufffd\\\"\"");
	/* é, €, U+10FFFF and an emoji are kept raw */
	assert_string_json("\xc3\xa9\xe2\x82\xac\xf4\x8f\xbf\xbf\xf0\x9f\x98\x80",
			   "\"\xc3\xa9\xe2\x82\xac\xf4\x8f\xbf\xbf\xf0\x9f\x98\x80\"");
}

static void test_numbers(void **state)
{
	struct mem m;
	struct json_writer *w = mem_open(&m, false);
	char *out;

	assert_int_equal(jw__start_array(w), 0);
	assert_int_equal(jw__uint(w, UINT64_MAX), 0);
	assert_int_equal(jw__int(w, INT64_MIN), 0);
	assert_int_equal(jw__int(w, -1), 0);
	assert_int_equal(jw__uint(w, 0), 0);
	assert_int_equal(jw__double(w, 0.1), 0);
	assert_int_equal(jw__double(w, -2.5e-300), 0);
	assert_int_equal(jw__double(w, 3.0), 0);
	assert_int_equal(jw__double(w, 1.0 / 3), 0);
	assert_int_equal(jw__double(w, NAN), 0);
	assert_int_equal(jw__double(w, -INFINITY), 0);
	assert_int_equal(jw__null(w), 0);
	assert_int_equal(jw__end_array(w), 0);
	out = mem_done(&m, w);
	assert_string_equal(out, "[18446744073709551615,-9223372036854775808,-1,0,0.1,-2.5e-300,3,"
				 "0.3333333333333333,null,null,null]\n");
	free(out);
}

/* Misuse is refused, and the error sticks so the document is never half-right. */
static void test_misuse_is_sticky_einval(void **state)
{
	struct mem m;
	struct json_writer *w;
	char *out;

	/* value in an object without a name */
	w = mem_open(&m, false);
	assert_int_equal(jw__start_object(w), 0);
	assert_int_equal(jw__uint(w, 1), -EINVAL);
	assert_int_equal(jw__kv_uint(w, "a", 1), -EINVAL);
	assert_int_equal(jw__end_object(w), -EINVAL);
	assert_int_equal(jw__finish(w), -EINVAL);
	out = mem_done(&m, w);
	assert_string_equal(out, "{");
	free(out);

	/* a name inside an array, or at top level */
	w = mem_open(&m, false);
	assert_int_equal(jw__name(w, "top"), -EINVAL);
	free(mem_done(&m, w));
	w = mem_open(&m, false);
	assert_int_equal(jw__start_array(w), 0);
	assert_int_equal(jw__name(w, "a"), -EINVAL);
	free(mem_done(&m, w));

	/* closing the wrong container, a name left without value, too many closes */
	w = mem_open(&m, false);
	assert_int_equal(jw__start_array(w), 0);
	assert_int_equal(jw__end_object(w), -EINVAL);
	free(mem_done(&m, w));
	w = mem_open(&m, false);
	assert_int_equal(jw__start_object(w), 0);
	assert_int_equal(jw__name(w, "a"), 0);
	assert_int_equal(jw__end_object(w), -EINVAL);
	free(mem_done(&m, w));
	w = mem_open(&m, false);
	assert_int_equal(jw__end_array(w), -EINVAL);
	free(mem_done(&m, w));

	/* an unfinished document is not finished */
	w = mem_open(&m, false);
	assert_int_equal(jw__start_array(w), 0);
	assert_int_equal(jw__finish(w), -EINVAL);
	assert_int_equal(jw__end_array(w), 0);
	assert_int_equal(jw__finish(w), 0);
	free(mem_done(&m, w));

	assert_int_equal(jw__uint(NULL, 1), -EINVAL);
	assert_null(jw__new(NULL));
	assert_int_equal(errno, EINVAL);
}

/* 64 levels nest; the 65th is refused with -E2BIG and nothing is written. */
static void test_depth_limit(void **state)
{
	struct mem m;
	struct json_writer *w = mem_open(&m, false);
	char *out;
	size_t n = 0;

	for (int i = 0; i < JW_MAX_DEPTH; i++)
		assert_int_equal(jw__start_array(w), 0);
	assert_int_equal(jw__start_array(w), -E2BIG);
	assert_int_equal(jw__end_array(w), -E2BIG);
	out = mem_done(&m, w);
	for (char *p = out; *p; p++)
		n += *p == '[';
	assert_int_equal(n, 64);
	assert_int_equal(strlen(out), 64);
	free(out);
}

/* A full disk shows as -ENOSPC from the failing call on, not as a silent cut. */
static void test_write_error_is_reported(void **state)
{
	FILE *f = fopen("/dev/full", "w");
	struct json_writer *w;

	if (!f)
		skip();
	setvbuf(f, NULL, _IONBF, 0);
	w = jw__new(f);
	assert_non_null(w);
	assert_int_equal(jw__start_array(w), -ENOSPC);
	assert_int_equal(jw__uint(w, 1), -ENOSPC);
	assert_int_equal(jw__finish(w), -ENOSPC);
	jw__free(w);
	fclose(f);
}

/*
 * Hostile process names written through the writer straight into jq:
 * jq accepts the document, and decodes the name back to the original
 * bytes with U+FFFD where the input was not UTF-8.
 */
static void test_jq_reads_hostile_output(void **state)
{
	char path[] = "/tmp/ms-json-XXXXXX", cmd[128], name[300], want[600], got[700];
	struct json_writer *w;
	size_t n = 0, wn = 0;
	FILE *f, *p;
	int fd;

	if (system("jq --version >/dev/null 2>&1") != 0)
		skip();
	/* every byte 0x01..0xff in one name, then a valid "é" */
	for (int c = 1; c < 256; c++)
		name[n++] = c;
	name[n++] = '\xc3';
	name[n++] = '\xa9';
	name[n] = '\0';
	/* expected decoding: ASCII as is, each byte 0x80..0xff alone is one U+FFFD */
	for (int c = 1; c < 0x80; c++)
		want[wn++] = c;
	for (int c = 0x80; c < 0x100; c++) {
		memcpy(want + wn, "\xef\xbf\xbd", 3);
		wn += 3;
	}
	memcpy(want + wn, "\xc3\xa9", 2);
	wn += 2;

	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	w = jw__new(f);
	assert_non_null(w);
	jw__set_pretty(w, true);
	assert_int_equal(jw__start_object(w), 0);
	assert_int_equal(jw__kv_string(w, "name", name), 0);
	assert_int_equal(jw__kv_string(w, name, "as key"), 0);
	assert_int_equal(jw__kv_uint(w, "max", UINT64_MAX), 0);
	assert_int_equal(jw__end_object(w), 0);
	assert_int_equal(jw__finish(w), 0);
	jw__free(w);
	assert_int_equal(fclose(f), 0);

	snprintf(cmd, sizeof(cmd), "jq . %s >/dev/null 2>&1", path);
	assert_int_equal(system(cmd), 0);
	snprintf(cmd, sizeof(cmd), "jq -j '.name, (keys | length)' %s", path);
	p = popen(cmd, "r");
	assert_non_null(p);
	n = fread(got, 1, sizeof(got), p);
	assert_int_equal(pclose(p), 0);
	unlink(path);
	/* name decoded, then "3": the hostile key is a distinct member */
	assert_int_equal(n, wn + 1);
	assert_memory_equal(got, want, wn);
	assert_int_equal(got[wn], '3');
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nested_compact),
		cmocka_unit_test(test_nested_pretty),
		cmocka_unit_test(test_top_level_values_are_lines),
		cmocka_unit_test(test_escapes),
		cmocka_unit_test(test_keys_are_escaped),
		cmocka_unit_test(test_invalid_utf8_replaced),
		cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_misuse_is_sticky_einval),
		cmocka_unit_test(test_depth_limit),
		cmocka_unit_test(test_write_error_is_reported),
		cmocka_unit_test(test_jq_reads_hostile_output),
	};

	return cmocka_run_group_tests_name("json", tests, NULL, NULL);
}
