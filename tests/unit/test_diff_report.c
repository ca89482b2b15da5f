// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "export/diff_report.h"

/* A function name a hostile target can have: markup, quotes, a terminal escape, a newline. */
#define EVIL "evil<\"&'>\033[2J\x01"

struct views {
	char *text, *json, *junit;
	size_t ntext, njson, njunit;
};

/* BASE: f grew 1 MiB -> 2 MiB under EVIL; NEW adds g. Text, JSON and JUnit of the diff. */
static void render(struct views *v)
{
	struct diff_report b = {}, n = {};
	struct diff_opts o = { .metric = DIFF_INUSE, .max_growth_pct = 10, .min_bytes = 65536 };
	uint64_t one[DIFF_METRICS] = { 1 << 20, 1 << 20 }, two[DIFF_METRICS] = { 2 << 20, 2 << 20 };
	struct diff_inputs in = { "base\033.json", "new.json", &b, &n };
	struct diff_result res;
	struct diff_proc *p;
	struct json_writer *w;
	FILE *f;

	p = diff_report__proc(&b, "app\033 app");
	p->total[DIFF_INUSE] = 1 << 20;
	assert_int_equal(diff_report__add_stack(&b, p, "malloc\n" EVIL " a.c:1\nmain a.c:9", one), 0);
	p = diff_report__proc(&n, "app\033 app");
	p->total[DIFF_INUSE] = 3 << 20;
	assert_int_equal(diff_report__add_stack(&n, p, "malloc\n" EVIL " a.c:1\nmain a.c:9", two), 0);
	assert_int_equal(diff_report__add_stack(&n, p, "calloc\ng", one), 0);
	diff_report__finish(&b);
	diff_report__finish(&n);
	assert_int_equal(diff__compute(&b, &n, &o, &res), 0);
	assert_int_equal(res.nover, 3);

	f = open_memstream(&v->text, &v->ntext);
	diff_report__text(&res, &o, &in, f);
	fclose(f);
	f = open_memstream(&v->json, &v->njson);
	w = jw__new(f);
	assert_int_equal(diff_report__json(&res, &o, &in, w), 0);
	jw__free(w);
	fclose(f);
	f = open_memstream(&v->junit, &v->njunit);
	assert_int_equal(diff_report__junit(&res, &o, f), 0);
	fclose(f);
	diff_result__free(&res);
	diff_report__free(&b);
	diff_report__free(&n);
}

static bool has_byte(const char *s, size_t n, char c)
{
	return memchr(s, c, n) != NULL;
}

/* Names from targets reach no output raw: no escape byte anywhere, no markup in XML. */
static void test_names_escaped_in_every_view(void **state)
{
	struct views v = {};

	render(&v);
	assert_false(has_byte(v.text, v.ntext, '\033'));
	assert_false(has_byte(v.text, v.ntext, '\x01'));
	assert_non_null(strstr(v.text, "[malloc] evil<\"&'>\\x1b[2J\\x01 a.c:1 < main a.c:9"));
	assert_false(has_byte(v.json, v.njson, '\033'));
	assert_non_null(strstr(v.json, "\"evil<\\\"&'>\\u001b[2J\\u0001 a.c:1\""));
	assert_false(has_byte(v.junit, v.njunit, '\033'));
	assert_non_null(strstr(v.junit, "name=\"stack app\\x1b app [malloc] "
				"evil&lt;&quot;&amp;&apos;&gt;\\x1b[2J\\x01 a.c:1 &lt; main a.c:9\""));
	/* the only '<' in the JUnit are tags' */
	for (const char *s = v.junit; (s = strchr(s, '<')); s++)
		assert_true(s[1] == '/' || s[1] == '?' || !strncmp(s + 1, "test", 4) ||
			    !strncmp(s + 1, "failure", 7));
	free(v.text);
	free(v.json);
	free(v.junit);
}

/* JUnit: the total and each regressing stack a testcase, failures counted; text says how many. */
static void test_junit_cases(void **state)
{
	struct views v = {};
	size_t cases = 0, failures = 0;

	render(&v);
	for (const char *s = v.junit; (s = strstr(s, "<testcase ")); s++)
		cases++;
	for (const char *s = v.junit; (s = strstr(s, "<failure ")); s++)
		failures++;
	assert_int_equal(cases, 3);
	assert_int_equal(failures, 3);
	assert_non_null(strstr(v.junit, "tests=\"3\" failures=\"3\""));
	assert_non_null(strstr(v.junit, "grew by 1048576 B (+100.0%), over 10% and 65536 B"));
	assert_non_null(strstr(v.junit, "name=\"stack app\\x1b app [calloc] g\""));
	assert_non_null(strstr(v.text, "\n3 regressions\n"));
	assert_non_null(strstr(v.json, "\"regressions\":3"));
	assert_non_null(strstr(v.json, "\"growth_pct_unavailable\":\"not in BASE\""));
	free(v.text);
	free(v.json);
	free(v.junit);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names_escaped_in_every_view),
		cmocka_unit_test(test_junit_cases),
	};

	return cmocka_run_group_tests_name("diff_report", tests, NULL, NULL);
}
