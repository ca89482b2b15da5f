// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The control protocol as both ends see it: request lines the daemon
 * parses (each test shows the exact bytes), lines the CLI formats, the
 * line reader between them and the JSON responses.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "ctl/ctl_proto.h"

static struct ctl_request parse_ok(const char *line)
{
	struct ctl_request req;
	char err[CTL_ERR_MAX] = "";

	if (ctl__parse_request(line, strlen(line), &req, err, sizeof(err)))
		fail_msg("'%s' rejected: %s", line, err);
	return req;
}

/* -errno of a line that must fail (length given: it may hold NULs); err gets the message. */
static int parse_fail(const char *line, size_t len, char err[CTL_ERR_MAX])
{
	struct ctl_request req;
	int r;

	err[0] = '\0';
	r = ctl__parse_request(line, len, &req, err, CTL_ERR_MAX);
	assert_true(r < 0);
	assert_true(err[0] != '\0');
	return r;
}

#define ASSERT_REJECTS(line, msg)                                                 \
	do {                                                                      \
		char e_[CTL_ERR_MAX];                                             \
		assert_int_equal(parse_fail(line, strlen(line), e_), -EINVAL);   \
		assert_string_equal(e_, msg);                                     \
	} while (0)

static void assert_request_equal(const struct ctl_request *a, const struct ctl_request *b)
{
	assert_int_equal(a->verb, b->verb);
	assert_int_equal(a->keys, b->keys);
	assert_int_equal(a->sel, b->sel);
	assert_int_equal(a->pid, b->pid);
	assert_string_equal(a->sel_value, b->sel_value);
	assert_int_equal(a->n, b->n);
	assert_int_equal(a->frames, b->frames);
	assert_int_equal(a->growth, b->growth);
	assert_int_equal(a->format, b->format);
	assert_int_equal(a->value, b->value);
}

/* ---- verbs ----------------------------------------------------------- */

static void test_verbs_without_keys_parse_to_their_enum(void **state)
{
	static const struct { const char *line; enum ctl_verb verb; } cases[] = {
		{ "ping", CTL_PING },
		{ "ps", CTL_PS },
		{ "rules", CTL_RULES },
		{ "stats", CTL_STATS },
		{ "reload", CTL_RELOAD },
		{ " \t ping \t ", CTL_PING },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ctl_request req = parse_ok(cases[i].line);

		assert_int_equal(req.verb, cases[i].verb);
		assert_int_equal(req.keys, 0);
		assert_int_equal(req.sel, CTL_SEL_NONE);
	}
}

static void test_verbs_without_keys_refuse_one(void **state)
{
	ASSERT_REJECTS("ping pid=1", "column 6: ping takes no key 'pid'");
	ASSERT_REJECTS("stats n=5", "column 7: stats takes no key 'n'");
	ASSERT_REJECTS("reload format=svg", "column 8: reload takes no key 'format'");
}

static void test_attach_and_detach_take_each_selector(void **state)
{
	struct ctl_request req = parse_ok("attach pid=4242");

	assert_int_equal(req.verb, CTL_ATTACH);
	assert_int_equal(req.sel, CTL_SEL_PID);
	assert_int_equal(req.pid, 4242);
	assert_int_equal(req.keys, CTL_KEY_PID);
	assert_string_equal(req.sel_value, "");

	req = parse_ok("attach comm=leaky*");
	assert_int_equal(req.sel, CTL_SEL_COMM);
	assert_string_equal(req.sel_value, "leaky*");
	assert_int_equal(req.keys, CTL_KEY_COMM);
	assert_int_equal(req.pid, 0);

	req = parse_ok("detach exe=/usr/local/bin/api");
	assert_int_equal(req.verb, CTL_DETACH);
	assert_int_equal(req.sel, CTL_SEL_EXE);
	assert_string_equal(req.sel_value, "/usr/local/bin/api");

	req = parse_ok("detach\tcgroup=/system.slice/api.service");
	assert_int_equal(req.sel, CTL_SEL_CGROUP);
	assert_int_equal(req.keys, CTL_KEY_CGROUP);
	assert_string_equal(req.sel_value, "/system.slice/api.service");

	req = parse_ok("attach pod=web-*");
	assert_int_equal(req.sel, CTL_SEL_POD);
	assert_int_equal(req.keys, CTL_KEY_POD);
	assert_string_equal(req.sel_value, "web-*");
	req = parse_ok("attach namespace=shop");
	assert_int_equal(req.sel, CTL_SEL_NAMESPACE);
	assert_string_equal(ctl__selector_name(req.sel), "namespace");
	req = parse_ok("detach container=api");
	assert_int_equal(req.sel, CTL_SEL_CONTAINER);
	assert_int_equal(req.keys, CTL_KEY_CONTAINER);
	assert_string_equal(req.sel_value, "api");
}

static void test_top_fills_defaults_for_keys_not_given(void **state)
{
	struct ctl_request req = parse_ok("top pid=7");

	assert_int_equal(req.verb, CTL_TOP);
	assert_int_equal(req.sel, CTL_SEL_PID);
	assert_int_equal(req.pid, 7);
	assert_int_equal(req.keys, CTL_KEY_PID);
	assert_int_equal(req.n, CTL_TOP_N_DEFAULT);
	assert_int_equal(req.n, 10);
	assert_int_equal(req.frames, 0);
	assert_false(req.growth);

	req = parse_ok("top growth=1 frames=100000 n=0 pid=4194304");
	assert_int_equal(req.pid, 4194304);
	assert_int_equal(req.n, 0);
	assert_int_equal(req.frames, 100000);
	assert_true(req.growth);
	assert_int_equal(req.keys, CTL_KEY_PID | CTL_KEY_N | CTL_KEY_FRAMES | CTL_KEY_GROWTH);
	req = parse_ok("top pid=7 growth=0");
	assert_false(req.growth);
	assert_int_equal(req.keys, CTL_KEY_PID | CTL_KEY_GROWTH);
	assert_int_equal(req.format, CTL_FMT_NONE);
	ASSERT_REJECTS("top pid=7 value=alloc_bytes", "column 11: top takes no key 'value'");
}

/* Beyond the spec: the CLI's `memsight top --json` passes the format to the daemon. */
static void test_top_takes_an_optional_format(void **state)
{
	struct ctl_request req = parse_ok("top pid=7 format=text");

	assert_int_equal(req.format, CTL_FMT_TEXT);
	assert_int_equal(req.keys, CTL_KEY_PID | CTL_KEY_FORMAT);
	ASSERT_REJECTS("top pid=7 format=png",
		       "column 11: unknown format 'png' (pprof, folded, svg, json, text)");
}

static void test_dump_takes_every_format_and_value(void **state)
{
	static const char *const formats[] = { "pprof", "folded", "svg", "json", "text" };
	static const enum ctl_format fmt_enums[] = {
		CTL_FMT_PPROF, CTL_FMT_FOLDED, CTL_FMT_SVG, CTL_FMT_JSON, CTL_FMT_TEXT,
	};
	static const char *const values[] = {
		"inuse_bytes", "alloc_bytes", "inuse_count", "alloc_count",
	};
	static const enum ctl_value val_enums[] = {
		CTL_VAL_INUSE_BYTES, CTL_VAL_ALLOC_BYTES, CTL_VAL_INUSE_COUNT, CTL_VAL_ALLOC_COUNT,
	};
	struct ctl_request req;
	char line[128];
	size_t i;

	for (i = 0; i < 5; i++) {
		snprintf(line, sizeof(line), "dump pid=99 format=%s", formats[i]);
		req = parse_ok(line);
		assert_int_equal(req.verb, CTL_DUMP);
		assert_int_equal(req.pid, 99);
		assert_int_equal(req.format, fmt_enums[i]);
		assert_int_equal(req.value, CTL_VAL_INUSE_BYTES);
		assert_int_equal(req.keys, CTL_KEY_PID | CTL_KEY_FORMAT);
	}
	for (i = 0; i < 4; i++) {
		snprintf(line, sizeof(line), "dump format=\"folded\" value=%s pid=1", values[i]);
		req = parse_ok(line);
		assert_int_equal(req.format, CTL_FMT_FOLDED);
		assert_int_equal(req.value, val_enums[i]);
		assert_int_equal(req.keys, CTL_KEY_PID | CTL_KEY_FORMAT | CTL_KEY_VALUE);
	}
	ASSERT_REJECTS("dump pid=1 format=png",
		       "column 12: unknown format 'png' (pprof, folded, svg, json, text)");
	ASSERT_REJECTS("dump pid=1 format=svg value=bytes",
		       "column 23: unknown value 'bytes' (inuse_bytes, alloc_bytes, inuse_count, "
		       "alloc_count)");
	ASSERT_REJECTS("dump pid=1 format=SVG",
		       "column 12: unknown format 'SVG' (pprof, folded, svg, json, text)");
}

/* ---- quoting ----------------------------------------------------------- */

static void test_quoted_values_keep_spaces_and_unescape_quote_and_backslash(void **state)
{
	struct ctl_request req = parse_ok("attach comm=\"a b\"");

	assert_string_equal(req.sel_value, "a b");
	req = parse_ok("attach exe=\"/opt/my \\\"app\\\"/bin\\\\x\"");
	assert_string_equal(req.sel_value, "/opt/my \"app\"/bin\\x");
	req = parse_ok("attach comm=\"leaky\"");
	assert_string_equal(req.sel_value, "leaky");
	/* Only the first '=' splits key from value. */
	req = parse_ok("attach exe=/opt/a=b");
	assert_string_equal(req.sel_value, "/opt/a=b");
	req = parse_ok("attach cgroup=\"=\"");
	assert_string_equal(req.sel_value, "=");
	/* Bytes above 0x7f are not control characters: UTF-8 paths pass. */
	req = parse_ok("attach exe=/opt/caf\xc3\xa9/bin");
	assert_string_equal(req.sel_value, "/opt/caf\xc3\xa9/bin");
}

static void test_bad_quoting_is_refused_with_its_column(void **state)
{
	ASSERT_REJECTS("attach comm=\"abc", "column 13: unterminated quoted value for comm");
	ASSERT_REJECTS("attach comm=\"a\\nb\"",
		       "column 15: bad escape in quoted value: only \\\" and \\\\");
	ASSERT_REJECTS("attach comm=\"ab\\", "column 16: bad escape in quoted value: only \\\" "
		       "and \\\\");
	ASSERT_REJECTS("attach comm=a\"b", "column 14: '\"' in an unquoted value; quote the "
		       "whole value");
	ASSERT_REJECTS("attach exe=C:\\x", "column 14: '\\' in an unquoted value; quote the "
		       "whole value");
	ASSERT_REJECTS("attach comm=\"a\"b", "column 16: expected a space after the closing quote");
	ASSERT_REJECTS("attach comm=", "column 13: empty value for comm");
	ASSERT_REJECTS("attach comm=\"\"", "column 13: empty value for comm");
}

/* ---- error classes ------------------------------------------------------- */

static void test_an_unknown_verb_is_refused(void **state)
{
	ASSERT_REJECTS("attack pid=1", "column 1: unknown verb 'attack'");
	ASSERT_REJECTS("  PING", "column 3: unknown verb 'PING'");
	ASSERT_REJECTS("pid=1", "column 1: unknown verb 'pid=1'");
	ASSERT_REJECTS("", "empty request");
	ASSERT_REJECTS(" \t ", "empty request");
	/* Non-ASCII is echoed as '?', never raw. */
	ASSERT_REJECTS("\xc3\xa9t\xc3\xa9", "column 1: unknown verb '?" "?t?" "?'");
}

static void test_bad_and_unknown_keys_are_refused(void **state)
{
	ASSERT_REJECTS("attach PID=1", "column 8: bad key 'PID': keys are [a-z_]");
	ASSERT_REJECTS("attach p-id=1", "column 8: bad key 'p-id': keys are [a-z_]");
	ASSERT_REJECTS("attach =1", "column 8: a key is 1 to 32 of [a-z_]");
	ASSERT_REJECTS("attach aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa=1",
		       "column 8: a key is 1 to 32 of [a-z_]");
	/* 32 bytes is a well-formed key, just not one we know. */
	ASSERT_REJECTS("attach aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa=1",
		       "column 8: unknown key 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'");
	ASSERT_REJECTS("attach sokcet=/x", "column 8: unknown key 'sokcet'");
	ASSERT_REJECTS("attach pid", "column 8: expected key=value, got 'pid'");
	ASSERT_REJECTS("top pid=1 frames", "column 11: expected key=value, got 'frames'");
	ASSERT_REJECTS("attach n=5", "column 8: attach takes no key 'n'");
	ASSERT_REJECTS("top pid=1 comm=x", "column 11: top takes no key 'comm'");
}

static void test_a_duplicate_key_is_refused(void **state)
{
	ASSERT_REJECTS("top pid=1 n=2 n=3", "column 15: duplicate key 'n'");
	ASSERT_REJECTS("attach pid=1 pid=1", "column 14: duplicate key 'pid'");
	ASSERT_REJECTS("dump pid=1 format=svg format=svg", "column 23: duplicate key 'format'");
}

static void test_a_missing_required_key_is_refused(void **state)
{
	ASSERT_REJECTS("attach", "attach needs one selector: pid=, comm=, exe=, "
		       "cgroup=, pod=, namespace= or container=");
	ASSERT_REJECTS("detach ", "detach needs one selector: pid=, comm=, exe=, "
		       "cgroup=, pod=, namespace= or container=");
	ASSERT_REJECTS("top", "top needs pid=");
	ASSERT_REJECTS("top n=5", "top needs pid=");
	ASSERT_REJECTS("dump pid=1", "dump needs format=");
	ASSERT_REJECTS("dump format=svg", "dump needs pid=");
}

static void test_two_selectors_are_refused(void **state)
{
	ASSERT_REJECTS("attach pid=1 comm=x",
		       "column 14: two selectors, pid= and comm=: give exactly one");
	ASSERT_REJECTS("detach cgroup=/a exe=/b",
		       "column 18: two selectors, cgroup= and exe=: give exactly one");
}

static void test_pids_outside_1_to_4194304_or_not_decimal_are_refused(void **state)
{
	ASSERT_REJECTS("attach pid=0", "column 8: pid 0 is out of range 1..4194304");
	ASSERT_REJECTS("attach pid=-1", "column 8: pid must be a number, got '-1'");
	ASSERT_REJECTS("attach pid=99999999999",
		       "column 8: pid 99999999999 is out of range 1..4194304");
	ASSERT_REJECTS("attach pid=99999999999999999999999999999999",
		       "column 8: pid 99999999999999999999999999999999 is out of range 1..4194304");
	ASSERT_REJECTS("attach pid=12abc", "column 8: pid must be a number, got '12abc'");
	ASSERT_REJECTS("attach pid=4194305", "column 8: pid 4194305 is out of range 1..4194304");
	ASSERT_REJECTS("attach pid=+5", "column 8: pid must be a number, got '+5'");
	ASSERT_REJECTS("attach pid=0x10", "column 8: pid must be a number, got '0x10'");
	ASSERT_REJECTS("attach pid=\" 5\"", "column 8: pid must be a number, got ' 5'");
	assert_int_equal(parse_ok("attach pid=007").pid, 7);
	assert_int_equal(parse_ok("attach pid=\"42\"").pid, 42);
}

static void test_counts_and_flags_outside_their_range_are_refused(void **state)
{
	ASSERT_REJECTS("top pid=1 n=100001", "column 11: n 100001 is out of range 0..100000");
	ASSERT_REJECTS("top pid=1 frames=-3", "column 11: frames must be a number, got '-3'");
	ASSERT_REJECTS("top pid=1 growth=2", "column 11: growth must be 0 or 1, got '2'");
	ASSERT_REJECTS("top pid=1 growth=yes", "column 11: growth must be 0 or 1, got 'yes'");
}

static void test_a_value_over_1024_bytes_is_refused(void **state)
{
	char line[CTL_LINE_MAX], e[CTL_ERR_MAX];
	struct ctl_request req;
	size_t i, n;

	n = (size_t)sprintf(line, "attach comm=");
	memset(line + n, 'v', CTL_VALUE_MAX);
	line[n + CTL_VALUE_MAX] = '\0';
	req = parse_ok(line);
	assert_int_equal(strlen(req.sel_value), CTL_VALUE_MAX);

	line[n + CTL_VALUE_MAX] = 'v';
	line[n + CTL_VALUE_MAX + 1] = '\0';
	assert_int_equal(parse_fail(line, strlen(line), e), -EINVAL);
	assert_string_equal(e, "column 13: value of comm is longer than 1024 bytes");

	/* The limit is on the decoded value: 1024 escaped backslashes take 2050 bytes. */
	n = (size_t)sprintf(line, "attach exe=\"");
	for (i = 0; i < CTL_VALUE_MAX; i++)
		line[n++] = '\\', line[n++] = '\\';
	line[n++] = '"';
	line[n] = '\0';
	req = parse_ok(line);
	assert_int_equal(strlen(req.sel_value), CTL_VALUE_MAX);
	assert_int_equal(strspn(req.sel_value, "\\"), CTL_VALUE_MAX);
}

static void test_control_characters_are_refused_even_inside_quotes(void **state)
{
	ASSERT_REJECTS("ping\r", "column 5: control character 0x0d in request");
	ASSERT_REJECTS("attach comm=a\x1b[31m", "column 14: control character 0x1b in request");
	ASSERT_REJECTS("attach comm=a\x7f", "column 14: control character 0x7f in request");
	/* A tab separates tokens, so inside quotes it is caught as part of the value. */
	ASSERT_REJECTS("attach comm=\"a\tb\"",
		       "column 15: control character 0x09 in the value of comm");
	assert_string_equal(parse_ok("attach\tcomm=a\t").sel_value, "a");
}

static void test_an_embedded_nul_is_refused(void **state)
{
	static const char line[] = "attach comm=a\0b";
	char e[CTL_ERR_MAX];

	assert_int_equal(parse_fail(line, sizeof(line) - 1, e), -EINVAL);
	assert_string_equal(e, "column 14: NUL byte in request");
	assert_int_equal(parse_fail("\0ping", 5, e), -EINVAL);
	assert_string_equal(e, "column 1: NUL byte in request");
}

static void test_17_arguments_are_refused_before_their_meaning_is_checked(void **state)
{
	char line[256], e[CTL_ERR_MAX];
	int i, n = sprintf(line, "ping");

	for (i = 0; i < 16; i++)
		n += sprintf(line + n, " a=%d", i % 10);
	/* 16 args pass the count, then fail on meaning. */
	assert_int_equal(parse_fail(line, n, e), -EINVAL);
	assert_string_equal(e, "column 6: unknown key 'a'");
	n += sprintf(line + n, " a=6");
	assert_int_equal(parse_fail(line, n, e), -EINVAL);
	assert_string_equal(e, "column 70: more than 16 arguments");
}

static void test_a_line_over_4096_bytes_with_newline_is_refused(void **state)
{
	char line[CTL_LINE_MAX + 1], e[CTL_ERR_MAX];
	struct ctl_request req;

	memset(line, ' ', sizeof(line));
	memcpy(line, "ping", 4);
	/* 4095 bytes + '\n' = 4096: the longest request there is. */
	assert_int_equal(ctl__parse_request(line, CTL_LINE_MAX - 1, &req, e, sizeof(e)), 0);
	assert_int_equal(req.verb, CTL_PING);
	assert_int_equal(parse_fail(line, CTL_LINE_MAX, e), -E2BIG);
	assert_string_equal(e, "request of 4097 bytes is over the limit of 4096 with its newline");
}

static void test_errors_without_an_err_buffer_still_return_the_code(void **state)
{
	struct ctl_request req;
	char one[1] = { 'x' };

	assert_int_equal(ctl__parse_request("attack", 6, &req, NULL, 0), -EINVAL);
	assert_int_equal(ctl__parse_request("attack", 6, &req, one, 1), -EINVAL);
	assert_int_equal(one[0], '\0');
}

static uint64_t xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void test_garbage_bytes_give_an_error_never_a_request(void **state)
{
	char line[512], e[CTL_ERR_MAX];
	struct ctl_request req;
	uint64_t seed = 0x6d656d7369676874ULL;
	size_t len, i, j;
	int r;

	for (i = 0; i < 2000; i++) {
		len = xorshift(&seed) % sizeof(line);
		for (j = 0; j < len; j++)
			line[j] = (char)xorshift(&seed);
		/* Half the lines start with a real verb so the arg parser gets garbage too. */
		if (i % 2 && len > 7)
			memcpy(line, "attach ", 7);
		e[0] = '\0';
		r = ctl__parse_request(line, len, &req, e, sizeof(e));
		assert_int_equal(r, -EINVAL);
		/* The message is printable ASCII whatever came in. */
		for (j = 0; e[j]; j++)
			assert_true(e[j] >= 0x20 && e[j] < 0x7f);
		assert_true(j > 0);
	}
}

/* ---- the client side --------------------------------------------------- */

static void test_hostile_values_survive_format_then_parse(void **state)
{
	static const char *const hostile[] = {
		"a b", "\"", "\\", "\\\"", "a\"b\\c d", "=", "x=y", " lead", "trail ",
		"'single'", "#;[]{}", "caf\xc3\xa9 \xff\xfe", "\"\"\"", "\\\\\\ ",
	};
	static const enum ctl_selector sels[] = { CTL_SEL_COMM, CTL_SEL_EXE, CTL_SEL_CGROUP };
	static const unsigned int bits[] = { CTL_KEY_COMM, CTL_KEY_EXE, CTL_KEY_CGROUP };
	char buf[CTL_LINE_MAX + 1], e[CTL_ERR_MAX];
	struct ctl_request req, back;
	size_t i, s;
	int n;

	for (i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++)
		for (s = 0; s < 3; s++) {
			ctl__request_init(&req, s == 1 ? CTL_DETACH : CTL_ATTACH);
			req.sel = sels[s];
			req.keys = bits[s];
			strcpy(req.sel_value, hostile[i]);
			n = ctl__format_request(buf, sizeof(buf), &req, e, sizeof(e));
			assert_true(n > 0);
			assert_int_equal(n, strlen(buf));
			assert_int_equal(buf[n - 1], '\n');
			assert_null(memchr(buf, '\n', n - 1));
			if (ctl__parse_request(buf, n - 1, &back, e, sizeof(e)))
				fail_msg("'%s' rejected: %s", buf, e);
			assert_request_equal(&back, &req);
		}
}

static void test_a_maximal_value_of_backslashes_formats_within_the_line_limit(void **state)
{
	char buf[CTL_LINE_MAX + 1];
	struct ctl_request req, back;
	int n;

	ctl__request_init(&req, CTL_DETACH);
	req.sel = CTL_SEL_CGROUP;
	req.keys = CTL_KEY_CGROUP;
	memset(req.sel_value, '\\', CTL_VALUE_MAX);
	n = ctl__format_request(buf, sizeof(buf), &req, NULL, 0);
	/* "detach cgroup=" + quotes + 2 bytes per backslash + '\n' */
	assert_int_equal(n, 14 + 2 + 2 * CTL_VALUE_MAX + 1);
	assert_true(n <= CTL_LINE_MAX);
	assert_int_equal(ctl__parse_request(buf, n - 1, &back, NULL, 0), 0);
	assert_request_equal(&back, &req);
}

static void test_every_parsed_request_formats_back_to_an_equal_one(void **state)
{
	static const char *const lines[] = {
		"ping", "ps", "rules", "stats", "reload",
		"attach pid=1", "detach pid=4194304", "attach comm=leaky*",
		"top pid=7", "top pid=7 n=0 frames=3 growth=1", "top pid=7 growth=0",
		"top pid=7 n=5 format=json",
		"dump pid=9 format=pprof", "dump pid=9 format=text value=alloc_count",
	};
	char buf[CTL_LINE_MAX + 1];
	struct ctl_request req, back;
	size_t i;
	int n;

	for (i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		req = parse_ok(lines[i]);
		n = ctl__format_request(buf, sizeof(buf), &req, NULL, 0);
		assert_true(n > 0);
		/* Canonical lines come back byte for byte. */
		assert_int_equal(n, strlen(lines[i]) + 1);
		assert_memory_equal(buf, lines[i], n - 1);
		assert_int_equal(ctl__parse_request(buf, n - 1, &back, NULL, 0), 0);
		assert_request_equal(&back, &req);
	}
}

static void test_format_refuses_requests_the_daemon_would_refuse(void **state)
{
	char buf[CTL_LINE_MAX + 1], small[12], e[CTL_ERR_MAX];
	struct ctl_request req;

	ctl__request_init(&req, CTL_ATTACH);
	assert_int_equal(ctl__format_request(buf, sizeof(buf), &req, e, sizeof(e)), -EINVAL);
	assert_string_equal(e, "attach needs a selector");

	req.sel = CTL_SEL_PID;
	assert_int_equal(ctl__format_request(buf, sizeof(buf), &req, e, sizeof(e)), -EINVAL);
	assert_string_equal(e, "pid 0 is out of range 1..4194304");

	req.sel = CTL_SEL_COMM;
	strcpy(req.sel_value, "a\nping");
	assert_int_equal(ctl__format_request(buf, sizeof(buf), &req, e, sizeof(e)), -EINVAL);
	assert_string_equal(e, "control character 0x0a in comm value");

	req.sel_value[0] = '\0';
	assert_int_equal(ctl__format_request(buf, sizeof(buf), &req, e, sizeof(e)), -EINVAL);
	assert_string_equal(e, "comm value must be 1 to 1024 bytes");
	memset(req.sel_value, 'x', CTL_VALUE_MAX + 1);
	assert_int_equal(ctl__format_request(buf, sizeof(buf), &req, e, sizeof(e)), -EINVAL);

	strcpy(req.sel_value, "leaky");
	assert_int_equal(ctl__format_request(small, sizeof(small), &req, e, sizeof(e)), -ENOSPC);
	/* "attach comm=leaky\n" is 18 bytes and needs 19 with the NUL. */
	assert_int_equal(ctl__format_request(small, 18, &req, e, sizeof(e)), -ENOSPC);
	assert_int_equal(ctl__format_request(buf, 19, &req, e, sizeof(e)), 18);
	assert_string_equal(buf, "attach comm=leaky\n");

	ctl__request_init(&req, CTL_PING);
	req.keys = CTL_KEY_N;
	assert_int_equal(ctl__format_request(buf, sizeof(buf), &req, e, sizeof(e)), -EINVAL);
	assert_string_equal(e, "ping takes no such key");

	ctl__request_init(&req, CTL_DUMP);
	req.pid = 5;
	assert_int_equal(ctl__format_request(buf, sizeof(buf), &req, e, sizeof(e)), -EINVAL);
	assert_string_equal(e, "dump needs a format");

	ctl__request_init(&req, CTL_TOP);
	req.pid = 5;
	req.keys = CTL_KEY_FORMAT;
	assert_int_equal(ctl__format_request(buf, sizeof(buf), &req, e, sizeof(e)), -EINVAL);
	assert_string_equal(e, "top needs a format");
	req.keys = CTL_KEY_N;
	req.n = CTL_COUNT_MAX + 1;
	assert_int_equal(ctl__format_request(buf, sizeof(buf), &req, e, sizeof(e)), -EINVAL);
	assert_string_equal(e, "n 100001 is out of range 0..100000");

	req.verb = CTL_VERB_COUNT;
	assert_int_equal(ctl__format_request(buf, sizeof(buf), &req, e, sizeof(e)), -EINVAL);
}

static void test_wire_names_and_enums_map_both_ways(void **state)
{
	enum ctl_verb v;
	enum ctl_format f;
	enum ctl_value val;
	int i;

	for (i = 0; i < CTL_VERB_COUNT; i++) {
		assert_int_equal(ctl__verb_from_name(ctl__verb_name(i), &v), 0);
		assert_int_equal(v, i);
	}
	for (i = CTL_FMT_PPROF; i <= CTL_FMT_TEXT; i++) {
		assert_int_equal(ctl__format_from_name(ctl__format_name(i), &f), 0);
		assert_int_equal(f, i);
	}
	for (i = CTL_VAL_INUSE_BYTES; i <= CTL_VAL_ALLOC_COUNT; i++) {
		assert_int_equal(ctl__value_from_name(ctl__value_name(i), &val), 0);
		assert_int_equal(val, i);
	}
	assert_string_equal(ctl__verb_name(CTL_DUMP), "dump");
	assert_string_equal(ctl__format_name(CTL_FMT_FOLDED), "folded");
	assert_string_equal(ctl__value_name(CTL_VAL_ALLOC_COUNT), "alloc_count");
	assert_null(ctl__verb_name(CTL_VERB_COUNT));
	assert_null(ctl__format_name(CTL_FMT_NONE));
	assert_null(ctl__value_name((enum ctl_value)4));
	assert_int_equal(ctl__verb_from_name("pong", &v), -EINVAL);
	assert_int_equal(ctl__format_from_name("", &f), -EINVAL);
	assert_int_equal(ctl__value_from_name("inuse", &val), -EINVAL);
}

/* ---- line reader ------------------------------------------------------- */

static void test_a_line_split_across_many_feeds_comes_out_whole(void **state)
{
	static const char wire[] = "attach comm=\"a b\"\n";
	struct ctl_linebuf lb;
	const char *line;
	size_t i, len;

	ctl_linebuf__init(&lb);
	for (i = 0; i < sizeof(wire) - 2; i++) {
		assert_int_equal(ctl_linebuf__feed(&lb, wire + i, 1), 1);
		assert_int_equal(ctl_linebuf__next(&lb, &line, &len), 0);
		assert_int_equal(ctl_linebuf__pending(&lb), i + 1);
	}
	assert_int_equal(ctl_linebuf__feed(&lb, wire + i, 1), 1);
	assert_int_equal(ctl_linebuf__next(&lb, &line, &len), 1);
	assert_int_equal(len, sizeof(wire) - 2);
	assert_string_equal(line, "attach comm=\"a b\"");
	assert_string_equal(parse_ok(line).sel_value, "a b");
	assert_int_equal(ctl_linebuf__next(&lb, &line, &len), 0);
	assert_int_equal(ctl_linebuf__pending(&lb), 0);
}

static void test_two_lines_in_one_feed_come_out_one_at_a_time(void **state)
{
	struct ctl_linebuf lb;
	const char *line;
	size_t len;

	ctl_linebuf__init(&lb);
	assert_int_equal(ctl_linebuf__feed(&lb, "ping\nstats\nto", 13), 13);
	assert_int_equal(ctl_linebuf__next(&lb, &line, &len), 1);
	assert_int_equal(len, 4);
	assert_string_equal(line, "ping");
	assert_int_equal(ctl_linebuf__next(&lb, &line, &len), 1);
	assert_string_equal(line, "stats");
	assert_int_equal(ctl_linebuf__next(&lb, &line, &len), 0);
	assert_int_equal(ctl_linebuf__pending(&lb), 2);
	assert_int_equal(ctl_linebuf__feed(&lb, "p pid=1\n\n", 9), 9);
	assert_int_equal(ctl_linebuf__next(&lb, &line, &len), 1);
	assert_string_equal(line, "top pid=1");
	/* An empty line is a line (the parser says "empty request"). */
	assert_int_equal(ctl_linebuf__next(&lb, &line, &len), 1);
	assert_int_equal(len, 0);
	assert_int_equal(ctl_linebuf__next(&lb, &line, &len), 0);
}

static void test_a_4096_byte_line_with_its_newline_fits(void **state)
{
	static char wire[CTL_LINE_MAX];
	struct ctl_linebuf lb;
	const char *line;
	size_t len;

	memset(wire, 'a', sizeof(wire));
	wire[CTL_LINE_MAX - 1] = '\n';
	ctl_linebuf__init(&lb);
	assert_int_equal(ctl_linebuf__feed(&lb, wire, sizeof(wire)), CTL_LINE_MAX);
	assert_int_equal(ctl_linebuf__next(&lb, &line, &len), 1);
	assert_int_equal(len, CTL_LINE_MAX - 1);
	assert_int_equal(ctl_linebuf__next(&lb, &line, &len), 0);
	/* And the buffer is reusable at full size afterwards. */
	assert_int_equal(ctl_linebuf__feed(&lb, wire, sizeof(wire)), CTL_LINE_MAX);
	assert_int_equal(ctl_linebuf__next(&lb, &line, &len), 1);
	assert_int_equal(len, CTL_LINE_MAX - 1);
}

static void test_a_4097_byte_line_is_refused_for_good(void **state)
{
	static char wire[CTL_LINE_MAX + 1];
	struct ctl_linebuf lb;
	const char *line;
	size_t len;

	memset(wire, 'a', sizeof(wire));
	wire[CTL_LINE_MAX] = '\n';
	ctl_linebuf__init(&lb);
	/* Only 4096 bytes fit, none of them a newline. */
	assert_int_equal(ctl_linebuf__feed(&lb, wire, sizeof(wire)), CTL_LINE_MAX);
	assert_int_equal(ctl_linebuf__next(&lb, &line, &len), -E2BIG);
	/* Sticky: the tail with its '\n' must not read as a fresh line. */
	assert_int_equal(ctl_linebuf__feed(&lb, "\nping\n", 6), 0);
	assert_int_equal(ctl_linebuf__next(&lb, &line, &len), -E2BIG);
}

static void test_a_full_line_behind_a_short_one_fits_once_the_short_one_is_read(void **state)
{
	static char wire[5000];
	struct ctl_linebuf lb;
	const char *line;
	size_t len, took, off = 0;

	/* "ping\n", then a 4095-byte line and its newline, in one 4101-byte write. */
	memcpy(wire, "ping\n", 5);
	memset(wire + 5, 'b', CTL_LINE_MAX - 1);
	wire[5 + CTL_LINE_MAX - 1] = '\n';
	ctl_linebuf__init(&lb);
	took = ctl_linebuf__feed(&lb, wire, 5 + CTL_LINE_MAX);
	assert_int_equal(took, CTL_LINE_MAX);
	off += took;
	assert_int_equal(ctl_linebuf__next(&lb, &line, &len), 1);
	assert_string_equal(line, "ping");
	assert_int_equal(ctl_linebuf__next(&lb, &line, &len), 0);
	/* After draining, the rest fits: feed moved the partial line to the front. */
	assert_int_equal(ctl_linebuf__feed(&lb, wire + off, 5 + CTL_LINE_MAX - off),
			 5 + CTL_LINE_MAX - off);
	assert_int_equal(ctl_linebuf__next(&lb, &line, &len), 1);
	assert_int_equal(len, CTL_LINE_MAX - 1);
	assert_int_equal(strspn(line, "b"), CTL_LINE_MAX - 1);
}

static void test_the_line_reader_passes_nul_bytes_for_the_parser_to_refuse(void **state)
{
	struct ctl_linebuf lb;
	const char *line;
	char e[CTL_ERR_MAX];
	size_t len;

	ctl_linebuf__init(&lb);
	assert_int_equal(ctl_linebuf__feed(&lb, "pi\0ng\n", 6), 6);
	assert_int_equal(ctl_linebuf__next(&lb, &line, &len), 1);
	assert_int_equal(len, 5);
	assert_int_equal(parse_fail(line, len, e), -EINVAL);
	assert_string_equal(e, "column 3: NUL byte in request");
}

static void test_random_chunks_of_random_bytes_reassemble_into_the_same_lines(void **state)
{
	static char wire[64 * 1024], out[64 * 1024];
	struct ctl_linebuf lb;
	uint64_t seed = 42;
	size_t i, off = 0, outlen = 0, chunk, took, len, lines = 0;
	const char *line;
	int r;

	/* Binary garbage with a '\n' at least every 4000 bytes so no line is too long. */
	for (i = 0; i < sizeof(wire); i++) {
		wire[i] = (char)xorshift(&seed);
		if (i % 4000 == 3999)
			wire[i] = '\n';
	}
	wire[sizeof(wire) - 1] = '\n';
	ctl_linebuf__init(&lb);
	while (off < sizeof(wire)) {
		chunk = 1 + xorshift(&seed) % 3000;
		if (chunk > sizeof(wire) - off)
			chunk = sizeof(wire) - off;
		took = ctl_linebuf__feed(&lb, wire + off, chunk);
		off += took;
		while ((r = ctl_linebuf__next(&lb, &line, &len)) == 1) {
			memcpy(out + outlen, line, len);
			outlen += len;
			out[outlen++] = '\n';
			lines++;
		}
		assert_int_equal(r, 0);
	}
	assert_int_equal(outlen, sizeof(wire));
	assert_memory_equal(out, wire, sizeof(wire));
	assert_true(lines > 16);
}

/* ---- responses --------------------------------------------------------- */

/* What fn wrote to a memory stream, as a string the caller frees. */
#define CAPTURE(out, call)                                                  \
	do {                                                                \
		size_t n_;                                                  \
		FILE *f = open_memstream(&(out), &n_);                      \
		assert_non_null(f);                                         \
		assert_int_equal((call), 0);                                \
		assert_int_equal(fclose(f), 0);                             \
	} while (0)

static void test_responses_are_one_json_object_per_line(void **state)
{
	struct json_writer *w;
	char *s;

	CAPTURE(s, ctl__write_ok(f));
	assert_string_equal(s, "{\"ok\":true}\n");
	free(s);

	CAPTURE(s, ctl__write_error(f, CTL_E_BAD_REQUEST, "column 1: unknown verb 'x\"\\'\n"));
	assert_string_equal(s, "{\"ok\":false,\"code\":\"bad_request\",\"error\":\"column 1: unknown verb 'x\\\"\\\\'\\n\"}\n");
	free(s);

	CAPTURE(s, (ctl__ok_begin(f, &w) ?: (jw__kv_uint(w, "pid", 42),
					     jw__kv_string(w, "comm", "leaky"),
					     ctl__ok_end(w))));
	assert_string_equal(s, "{\"ok\":true,\"pid\":42,\"comm\":\"leaky\"}\n");
	free(s);
}

static void test_an_error_reply_carries_a_code_the_client_reads_back(void **state)
{
	char *s;
	int r;

	CAPTURE(s, ctl__write_error(f, CTL_E_NOT_WATCHED, "PID 42 is not watched"));
	assert_string_equal(s, "{\"ok\":false,\"code\":\"not_watched\","
			    "\"error\":\"PID 42 is not watched\"}\n");
	free(s);
	/* every code has its own name, and the name reads back as the code */
	for (int c = 0; c < CTL_E_COUNT; c++) {
		assert_non_null(ctl__errcode_name(c));
		assert_int_equal(ctl__errcode_from_name(ctl__errcode_name(c)), c);
		for (int o = 0; o < c; o++)
			assert_string_not_equal(ctl__errcode_name(c), ctl__errcode_name(o));
	}
	/* a code from a newer daemon, or none at all, is unknown, never another code */
	assert_int_equal(ctl__errcode_from_name("out_of_cheese"), CTL_E_UNKNOWN);
	assert_int_equal(ctl__errcode_from_name(""), CTL_E_UNKNOWN);
	assert_int_equal(ctl__errcode_from_name(NULL), CTL_E_UNKNOWN);
	assert_null(ctl__errcode_name(CTL_E_COUNT));
	assert_null(ctl__errcode_name((enum ctl_errcode)-1));
	/* an out-of-range code writes nothing */
	CAPTURE(s, (r = ctl__write_error(f, CTL_E_COUNT, "x")) == -EINVAL ? 0 : -1);
	assert_string_equal(s, "");
	free(s);
	(void)state;
}

static void test_a_payload_header_round_trips_and_nothing_else_reads_as_one(void **state)
{
	uint64_t n = 0;
	char *s;

	CAPTURE(s, ctl__write_payload_header(f, 123456));
	assert_string_equal(s, "{\"ok\":true,\"payload_bytes\":123456}\n");
	assert_int_equal(ctl__parse_payload_header(s, strlen(s) - 1, &n), 1);
	assert_int_equal(n, 123456);
	free(s);

	CAPTURE(s, ctl__write_payload_header(f, UINT64_MAX));
	assert_int_equal(ctl__parse_payload_header(s, strlen(s) - 1, &n), 1);
	assert_true(n == UINT64_MAX);
	free(s);

#define HEADER(s) ctl__parse_payload_header(s, strlen(s), &n)
	n = 7;
	assert_int_equal(HEADER("{\"ok\":true,\"payload_bytes\":0}"), 1);
	assert_int_equal(n, 0);
	n = 7;
	assert_int_equal(HEADER("{\"ok\":true}"), 0);
	assert_int_equal(HEADER("{\"ok\":false,\"error\":\"x\"}"), 0);
	assert_int_equal(HEADER("{\"ok\":true,\"payload_bytes\":}"), 0);
	assert_int_equal(HEADER("{\"ok\":true,\"payload_bytes\":12"), 0);
	assert_int_equal(HEADER("{\"ok\":true,\"payload_bytes\":1}x"), 0);
	assert_int_equal(HEADER("{\"ok\":true,\"payload_bytes\":-1}"), 0);
	assert_int_equal(HEADER("{\"ok\":true,\"payload_bytes\":18446744073709551616}"), 0);
	assert_int_equal(n, 7);
#undef HEADER
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_verbs_without_keys_parse_to_their_enum),
		cmocka_unit_test(test_verbs_without_keys_refuse_one),
		cmocka_unit_test(test_attach_and_detach_take_each_selector),
		cmocka_unit_test(test_top_fills_defaults_for_keys_not_given),
		cmocka_unit_test(test_top_takes_an_optional_format),
		cmocka_unit_test(test_dump_takes_every_format_and_value),
		cmocka_unit_test(test_quoted_values_keep_spaces_and_unescape_quote_and_backslash),
		cmocka_unit_test(test_bad_quoting_is_refused_with_its_column),
		cmocka_unit_test(test_an_unknown_verb_is_refused),
		cmocka_unit_test(test_bad_and_unknown_keys_are_refused),
		cmocka_unit_test(test_a_duplicate_key_is_refused),
		cmocka_unit_test(test_a_missing_required_key_is_refused),
		cmocka_unit_test(test_two_selectors_are_refused),
		cmocka_unit_test(test_pids_outside_1_to_4194304_or_not_decimal_are_refused),
		cmocka_unit_test(test_counts_and_flags_outside_their_range_are_refused),
		cmocka_unit_test(test_a_value_over_1024_bytes_is_refused),
		cmocka_unit_test(test_control_characters_are_refused_even_inside_quotes),
		cmocka_unit_test(test_an_embedded_nul_is_refused),
		cmocka_unit_test(test_17_arguments_are_refused_before_their_meaning_is_checked),
		cmocka_unit_test(test_a_line_over_4096_bytes_with_newline_is_refused),
		cmocka_unit_test(test_errors_without_an_err_buffer_still_return_the_code),
		cmocka_unit_test(test_garbage_bytes_give_an_error_never_a_request),
		cmocka_unit_test(test_hostile_values_survive_format_then_parse),
		cmocka_unit_test(test_a_maximal_value_of_backslashes_formats_within_the_line_limit),
		cmocka_unit_test(test_every_parsed_request_formats_back_to_an_equal_one),
		cmocka_unit_test(test_format_refuses_requests_the_daemon_would_refuse),
		cmocka_unit_test(test_wire_names_and_enums_map_both_ways),
		cmocka_unit_test(test_a_line_split_across_many_feeds_comes_out_whole),
		cmocka_unit_test(test_two_lines_in_one_feed_come_out_one_at_a_time),
		cmocka_unit_test(test_a_4096_byte_line_with_its_newline_fits),
		cmocka_unit_test(test_a_4097_byte_line_is_refused_for_good),
		cmocka_unit_test(test_a_full_line_behind_a_short_one_fits_once_the_short_one_is_read),
		cmocka_unit_test(test_the_line_reader_passes_nul_bytes_for_the_parser_to_refuse),
		cmocka_unit_test(test_random_chunks_of_random_bytes_reassemble_into_the_same_lines),
		cmocka_unit_test(test_responses_are_one_json_object_per_line),
		cmocka_unit_test(test_an_error_reply_carries_a_code_the_client_reads_back),
		cmocka_unit_test(test_a_payload_header_round_trips_and_nothing_else_reads_as_one),
	};

	return cmocka_run_group_tests_name("ctl_proto", tests, NULL, NULL);
}
