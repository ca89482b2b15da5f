// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "ctl/client.h"

static char *ps_text(const char *line)
{
	struct ms_reply r = { .line = (char *)line };
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	assert_int_equal(client__print_ps(&r, f), 0);
	assert_int_equal(fclose(f), 0);
	return buf;
}

/*
 * ps: a Go process whose goroutines and heap cannot be read shows "?" in
 * their columns and the reasons under it, never a 0 or a blank figure.
 */
static void test_ps_says_why_go_figures_are_missing(void **state)
{
	char *t = ps_text("{\"ok\":true,\"processes\":[{\"pid\":42,\"comm\":\"svc\","
			  "\"reason\":\"pid\",\"heap_inuse_bytes\":0,\"goroutines\":null,"
			  "\"goroutines_unavailable\":\"no built-in layout for go1.99\","
			  "\"go_heap_unavailable\":\"no built-in layout for go1.99\"}]}");
	char *row = strstr(t, "\n      42 svc");
	size_t n, q = 0;

	assert_non_null(row);
	row++;
	assert_non_null(strstr(t, "goroutines unavailable: no built-in layout for go1.99\n"));
	assert_non_null(strstr(t, "Go heap unavailable: no built-in layout for go1.99\n"));
	/* both Go columns of the row say "?" (GOROUTINES/MIN too: not known) */
	n = strcspn(row, "\n");
	for (size_t i = 0; i < n; i++)
		q += row[i] == '?';
	assert_true(q >= 2);
	free(t);

	t = ps_text("{\"ok\":true,\"processes\":[{\"pid\":43,\"comm\":\"svc\",\"reason\":\"pid\","
		    "\"goroutines\":12,\"go_heap_inuse_bytes\":4194304}]}");
	assert_non_null(strstr(t, "4.00 MiB"));
	assert_null(strstr(t, "unavailable"));
	free(t);
}

/*
 * ps: the cgroup under each process, its limit and the RSS share from the
 * daemon's JSON; what the cgroup lacks is said (n/a and why), never 0.
 */
static void test_ps_cgroup_line(void **state)
{
	char *t = ps_text("{\"ok\":true,\"processes\":[{\"pid\":42,\"comm\":\"svc\","
			  "\"reason\":\"pid\",\"cgroup\":{\"version\":1,\"path\":\"/job\","
			  "\"limit_bytes\":67108864,\"usage_bytes\":1048576,\"oom_kills\":2,"
			  "\"rss_share_of_limit_basis_points\":1250}},"
			  "{\"pid\":43,\"comm\":\"svc\",\"reason\":\"pid\",\"cgroup\":{\"version\":2,"
			  "\"path\":\"/free\",\"limit_unavailable\":\"unlimited\",\"usage_bytes\":1,"
			  "\"oom_kills_unavailable\":\"this kernel does not report it\"}},"
			  "{\"pid\":44,\"comm\":\"svc\",\"reason\":\"pid\","
			  "\"cgroup_unavailable\":\"the process is gone\"}]}");

	(void)state;
	assert_non_null(strstr(t, " cgroup v1 /job: limit 64.00 MiB (RSS 12.50%), usage 1.00 MiB, "
			       "OOM kills 2\n"));
	assert_non_null(strstr(t, " cgroup v2 /free: limit n/a (unlimited), usage 1 B, OOM kills "
			       "n/a (this kernel does not report it)\n"));
	assert_non_null(strstr(t, " cgroup unavailable: the process is gone\n"));
	free(t);
}

/* ps: the pod under the cgroup line, or why it is not known; a hostile name stays text. */
static void test_ps_pod_line(void **state)
{
	char *t = ps_text("{\"ok\":true,\"processes\":[{\"pid\":42,\"comm\":\"api\","
			  "\"reason\":\"pid\",\"cgroup\":{\"version\":1,\"path\":\"/k\"},"
			  "\"pod\":{\"name\":\"web-1\",\"namespace\":\"shop\",\"container\":\"api\","
			  "\"source\":\"containerd\"}},"
			  "{\"pid\":43,\"comm\":\"db\",\"reason\":\"pid\",\"cgroup\":{\"version\":1,"
			  "\"path\":\"/k\"},\"pod_unavailable\":\"no state\\u001b[2J\"},"
			  "{\"pid\":44,\"comm\":\"x\",\"reason\":\"pid\",\"cgroup\":{\"version\":1,"
			  "\"path\":\"/h\"}}]}");
	int n = 0;

	(void)state;
	assert_non_null(strstr(t, "\n         pod shop/web-1 container api\n"));
	assert_non_null(strstr(t, "\n         pod unavailable: no state\\x1b[2J\n"));
	assert_null(strchr(t, '\x1b'));
	/* outside Kubernetes (PID 44): no pod line */
	for (const char *c = t; (c = strstr(c, "\n         pod ")); c++)
		n++;
	assert_int_equal(n, 2);
	free(t);
}

/* The client decides on the reply's code; the text is only shown. */
/*
 * ps: a comm "ESC[31mESC[2J" + newline from the daemon's JSON is shown as
 * visible text, the table keeps one line per process, and the COMM column is
 * as wide as the escaped name, so every row's later columns line up.
 */
static void test_ps_escapes_comm_and_keeps_columns(void **state)
{
	char *t = ps_text("{\"ok\":true,\"processes\":["
			  "{\"pid\":42,\"comm\":\"\\u001b[31m\\u001b[2J\\n\",\"reason\":\"pid\","
			  "\"heap_inuse_bytes\":4096},"
			  "{\"pid\":43,\"comm\":\"bash\",\"reason\":\"pid\",\"heap_inuse_bytes\":4096}]}");
	char *hostile = strstr(t, "\n      42 \\x1b[31m\\x1b[2J\\n ");
	char *plain = strstr(t, "\n      43 bash ");
	size_t lines = 0;

	assert_null(strchr(t, '\x1b'));
	for (char *c = t; *c; c++)
		lines += *c == '\n';
	assert_int_equal(lines, 3);
	assert_non_null(hostile);
	assert_non_null(plain);
	/* same layout on both rows: the same line length, HEAP INUSE at the same place */
	assert_int_equal(strcspn(hostile + 1, "\n"), strcspn(plain + 1, "\n"));
	assert_int_equal(strstr(hostile, "4.00 KiB") - hostile, strstr(plain, "4.00 KiB") - plain);
	assert_int_equal(strcspn(t, "\n"), strcspn(plain + 1, "\n") -
			 strlen("  pid") + strlen("  WATCHED BECAUSE"));
	free(t);
}

static void test_a_refusal_is_told_apart_by_its_code_not_its_text(void **state)
{
	struct ms_reply r = { .line = "{\"ok\":false,\"code\":\"not_watched\","
				       "\"error\":\"PID 7 n'est pas surveill\u00e9\"}" };
	enum ctl_errcode code = CTL_E_COUNT;
	char err[128];

	assert_false(client__reply_ok(&r, &code, err, sizeof(err)));
	assert_int_equal(code, CTL_E_NOT_WATCHED);
	assert_string_equal(err, "PID 7 n'est pas surveill\xc3\xa9");
	/* the old text without a code is not taken for "not watched" */
	r.line = "{\"ok\":false,\"error\":\"PID 7 is not watched\"}";
	assert_false(client__reply_ok(&r, &code, err, sizeof(err)));
	assert_int_equal(code, CTL_E_UNKNOWN);
	r.line = "{\"ok\":false,\"code\":7,\"error\":\"x\"}";
	assert_false(client__reply_ok(&r, &code, err, sizeof(err)));
	assert_int_equal(code, CTL_E_UNKNOWN);
	r.line = "{\"ok\":true}";
	assert_true(client__reply_ok(&r, &code, err, sizeof(err)));
	assert_int_equal(code, CTL_E_UNKNOWN);
	r.line = "not json";
	assert_false(client__reply_ok(&r, NULL, err, sizeof(err)));
	assert_string_equal(err, "memsightd sent something that is not JSON");
	(void)state;
}

/* A deadline that is not whole seconds in range is refused, never read as 0 (no wait). */
static void test_the_call_deadline_comes_from_memsight_timeout(void **state)
{
	static const char *const bad[] = { "abc", "0", "-1", "5s", " 5", "", "86401",
					   "99999999999999999999" };
	unsigned int s = 0;

	(void)state;
	unsetenv("MEMSIGHT_TIMEOUT");
	assert_int_equal(client__timeout_s(&s), 0);
	assert_int_equal(s, 60);
	setenv("MEMSIGHT_TIMEOUT", "5", 1);
	assert_int_equal(client__timeout_s(&s), 0);
	assert_int_equal(s, 5);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		setenv("MEMSIGHT_TIMEOUT", bad[i], 1);
		s = 0;
		/* "" is as if unset: the default */
		assert_int_equal(client__timeout_s(&s), *bad[i] ? -EINVAL : 0);
		assert_int_equal(s, 60);
	}
	unsetenv("MEMSIGHT_TIMEOUT");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ps_says_why_go_figures_are_missing),
		cmocka_unit_test(test_ps_cgroup_line),
		cmocka_unit_test(test_ps_pod_line),
		cmocka_unit_test(test_ps_escapes_comm_and_keeps_columns),
		cmocka_unit_test(test_a_refusal_is_told_apart_by_its_code_not_its_text),
		cmocka_unit_test(test_the_call_deadline_comes_from_memsight_timeout),
	};

	return cmocka_run_group_tests_name("client", tests, NULL, NULL);
}
