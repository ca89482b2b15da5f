// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "client.h"

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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ps_says_why_go_figures_are_missing),
	};

	return cmocka_run_group_tests_name("client", tests, NULL, NULL);
}
