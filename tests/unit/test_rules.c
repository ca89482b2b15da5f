// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Rule lists are written the way a config file spells them, one rule per
 * line, so each test shows the rules it claims something about. The
 * /proc/PID/cgroup fixtures are described in tests/fixtures/config/README.
 */
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

#include "target/cgroup.h"
#include "daemon/rules.h"

#define PROC "tests/fixtures/config/proc"

/* Rules from newline-separated lines; every line must parse. */
static struct ms_rules rules_of(const char *text)
{
	struct ms_rules rules = { 0 };
	const char *p = text, *nl;
	char err[256];

	while (*p) {
		nl = strchrnul(p, '\n');
		err[0] = '\0';
		if (rules__parse_line(&rules, p, nl - p, err, sizeof(err)))
			fail_msg("rule '%.*s' rejected: %s", (int)(nl - p), p, err);
		p = *nl ? nl + 1 : nl;
	}
	return rules;
}

/* The error message of a line that must not parse, with its -errno. */
static int reject(const char *line, char *err, size_t errlen)
{
	struct ms_rules rules = { 0 };
	int r;

	err[0] = '\0';
	r = rules__parse_line(&rules, line, strlen(line), err, errlen);
	assert_int_equal(rules.n, 0);
	rules__free(&rules);
	return r;
}

static bool watched_comm(const struct ms_rules *r, const char *comm)
{
	return rules__match(r, comm, "/usr/bin/whatever", "/user.slice");
}

/* ---- order ----------------------------------------------------------- */

static void test_an_exclude_before_an_include_carves_out_an_exception(void **state)
{
	struct ms_rules r = rules_of("exclude comm=leaky-test*\n"
				     "include comm=leaky*");

	assert_true(watched_comm(&r, "leaky"));
	assert_true(watched_comm(&r, "leaky-prod"));
	assert_false(watched_comm(&r, "leaky-test1"));
	rules__free(&r);
}

static void test_the_same_rules_reversed_watch_the_exception_too(void **state)
{
	struct ms_rules r = rules_of("include comm=leaky*\n"
				     "exclude comm=leaky-test*");

	/* The include matches first, so the exclude is never reached. */
	assert_true(watched_comm(&r, "leaky-test1"));
	assert_int_equal(rules__first_match(&r, "leaky-test1", NULL, NULL), 0);
	rules__free(&r);
}

static void test_a_process_no_rule_matches_is_not_watched(void **state)
{
	struct ms_rules empty = { 0 };
	struct ms_rules r = rules_of("include comm=nginx\n"
				     "exclude comm=bash");

	assert_false(rules__match(&empty, "nginx", "/usr/sbin/nginx", "/"));
	assert_int_equal(rules__first_match(&empty, "nginx", NULL, NULL), -1);
	assert_false(watched_comm(&r, "postgres"));
	assert_int_equal(rules__first_match(&r, "postgres", "/usr/bin/postgres", "/"), -1);
	rules__free(&r);
}

static void test_rules_on_different_keys_are_checked_in_file_order(void **state)
{
	struct ms_rules r = rules_of("exclude cgroup=/system.slice/batch.service\n"
				     "include exe=/opt/app/*\n"
				     "include comm=python3");

	/* The app under the batch service is excluded by rule 0 before rule 1. */
	assert_int_equal(rules__first_match(&r, "worker", "/opt/app/bin/worker",
					    "/system.slice/batch.service"), 0);
	assert_false(rules__match(&r, "worker", "/opt/app/bin/worker",
				  "/system.slice/batch.service"));
	assert_int_equal(rules__first_match(&r, "worker", "/opt/app/bin/worker",
					    "/system.slice/api.service"), 1);
	assert_true(rules__match(&r, "worker", "/opt/app/bin/worker", "/system.slice/api.service"));
	assert_int_equal(rules__first_match(&r, "python3", "/usr/bin/python3.11", "/"), 2);
	rules__free(&r);
}

static void test_an_unknown_field_matches_no_rule_on_it_and_falls_through(void **state)
{
	struct ms_rules r = rules_of("exclude exe=*\n"
				     "exclude cgroup=/\n"
				     "include comm=kworker*");

	/* A kernel thread: no exe, and say its cgroup could not be read. */
	assert_true(rules__match(&r, "kworker/0:1", NULL, NULL));
	assert_int_equal(rules__first_match(&r, "kworker/0:1", NULL, NULL), 2);
	assert_false(rules__match(&r, NULL, NULL, NULL));
	rules__free(&r);
}

static void test_an_inserted_rule_at_index_0_overrides_the_config(void **state)
{
	struct ms_rules r = rules_of("exclude comm=leaky*");
	char err[128];

	assert_false(watched_comm(&r, "leaky"));
	assert_int_equal(rules__insert(&r, 0, MS_RULE_INCLUDE, MS_RULE_COMM, "leaky", err,
				       sizeof(err)), 0);
	assert_int_equal(r.n, 2);
	assert_string_equal(r.v[0].pattern, "leaky");
	assert_string_equal(r.v[1].pattern, "leaky*");
	assert_true(watched_comm(&r, "leaky"));
	assert_false(watched_comm(&r, "leaky2"));
	assert_int_equal(rules__insert(&r, 3, MS_RULE_INCLUDE, MS_RULE_COMM, "x", err,
				       sizeof(err)), -EINVAL);
	rules__free(&r);
}

/* ---- globs ----------------------------------------------------------- */

static void test_comm_globs_follow_fnmatch(void **state)
{
	struct ms_rules q = rules_of("include comm=leak?");
	struct ms_rules set = rules_of("include comm=[lm]eaky");
	struct ms_rules star = rules_of("include comm=*");
	struct ms_rules lit = rules_of("include comm=leaky");

	assert_true(watched_comm(&q, "leaky"));
	assert_false(watched_comm(&q, "leakyy"));
	assert_false(watched_comm(&q, "leak"));
	assert_true(watched_comm(&set, "meaky"));
	assert_false(watched_comm(&set, "peaky"));
	assert_true(watched_comm(&star, "anything at all"));
	assert_true(watched_comm(&star, ""));
	/* No glob: the whole comm must be equal, not just a prefix. */
	assert_true(watched_comm(&lit, "leaky"));
	assert_false(watched_comm(&lit, "leaky2"));
	assert_false(watched_comm(&lit, "Leaky"));
	rules__free(&q);
	rules__free(&set);
	rules__free(&star);
	rules__free(&lit);
}

static void test_an_exe_glob_star_crosses_directories(void **state)
{
	struct ms_rules tree = rules_of("include exe=/opt/app/*");
	struct ms_rules any = rules_of("include exe=*/python3");
	struct ms_rules exact = rules_of("include exe=/usr/bin/python3");

	assert_true(rules__match(&tree, "x", "/opt/app/x", NULL));
	assert_true(rules__match(&tree, "x", "/opt/app/bin/deep/x", NULL));
	assert_false(rules__match(&tree, "x", "/opt/application/x", NULL));
	assert_true(rules__match(&any, "x", "/usr/local/bin/python3", NULL));
	assert_false(rules__match(&any, "x", "/usr/bin/python3.11", NULL));
	assert_true(rules__match(&exact, "x", "/usr/bin/python3", NULL));
	assert_false(rules__match(&exact, "x", "/usr/bin/python3.11", NULL));
	assert_false(rules__match(&exact, "x", "/usr/local/usr/bin/python3", NULL));
	rules__free(&tree);
	rules__free(&any);
	rules__free(&exact);
}

/* ---- cgroup prefixes -------------------------------------------------- */

static void test_a_cgroup_prefix_must_end_at_a_component_boundary(void **state)
{
	struct ms_rules r = rules_of("include cgroup=/system.slice/api");

	assert_true(rules__match(&r, "x", NULL, "/system.slice/api"));
	assert_true(rules__match(&r, "x", NULL, "/system.slice/api/x"));
	assert_true(rules__match(&r, "x", NULL, "/system.slice/api/x/y"));
	assert_false(rules__match(&r, "x", NULL, "/system.slice/apix"));
	assert_false(rules__match(&r, "x", NULL, "/system.slice/api.service"));
	assert_false(rules__match(&r, "x", NULL, "/system.slice"));
	assert_false(rules__match(&r, "x", NULL, "/other/system.slice/api"));
	rules__free(&r);
}

static void test_a_trailing_slash_on_a_cgroup_pattern_changes_nothing(void **state)
{
	struct ms_rules r = rules_of("include cgroup=/system.slice/api//");

	assert_string_equal(r.v[0].pattern, "/system.slice/api");
	assert_true(rules__match(&r, "x", NULL, "/system.slice/api"));
	assert_true(rules__match(&r, "x", NULL, "/system.slice/api/x"));
	assert_false(rules__match(&r, "x", NULL, "/system.slice/apix"));
	rules__free(&r);
}

static void test_the_root_cgroup_pattern_matches_every_cgroup(void **state)
{
	struct ms_rules r = rules_of("include cgroup=/");

	assert_string_equal(r.v[0].pattern, "/");
	assert_true(rules__match(&r, "x", NULL, "/"));
	assert_true(rules__match(&r, "x", NULL, "/system.slice/api.service"));
	/* A cgroup glob is not a thing: '*' is an ordinary byte there. */
	rules__free(&r);
	r = rules_of("include cgroup=/system.slice/*");
	assert_false(rules__match(&r, "x", NULL, "/system.slice/api.service"));
	assert_true(rules__match(&r, "x", NULL, "/system.slice/*/x"));
	rules__free(&r);
}

/* ---- parsing ----------------------------------------------------------- */

static void test_a_rule_line_gives_action_key_and_pattern(void **state)
{
	struct ms_rules r = rules_of("include comm=leaky*\n"
				     "\texclude \t exe = /opt/my app/bin/tool  \t\n"
				     "exclude cgroup=/system.slice/x.service");

	assert_int_equal(r.n, 3);
	assert_int_equal(r.v[0].action, MS_RULE_INCLUDE);
	assert_int_equal(r.v[0].key, MS_RULE_COMM);
	assert_string_equal(r.v[0].pattern, "leaky*");
	/* Spaces inside the pattern stay; those around it go. */
	assert_int_equal(r.v[1].action, MS_RULE_EXCLUDE);
	assert_int_equal(r.v[1].key, MS_RULE_EXE);
	assert_string_equal(r.v[1].pattern, "/opt/my app/bin/tool");
	assert_int_equal(r.v[2].key, MS_RULE_CGROUP);
	assert_string_equal(r.v[2].pattern, "/system.slice/x.service");
	rules__free(&r);
}

/* Kubernetes names: globs; a process whose pod is not known matches none. */
static void test_pod_namespace_and_container_rules(void **state)
{
	struct ms_rules r = rules_of("exclude container=istio-proxy\n"
				     "include namespace=shop\n"
				     "include pod=db-*\n");
	struct ms_rule_subject api = { "api", "/app/api", "/kubepods/x", "web-1", "shop", "api" };
	struct ms_rule_subject sidecar = api, db = api, unknown = api;

	(void)state;
	sidecar.container = "istio-proxy";
	db.namespace = "data";
	db.pod = "db-0";
	unknown.pod = unknown.namespace = unknown.container = NULL;
	assert_int_equal(r.v[1].key, MS_RULE_NAMESPACE);
	assert_int_equal(rules__first_match_subject(&r, &api), 1);
	assert_int_equal(rules__first_match_subject(&r, &sidecar), 0);
	assert_int_equal(rules__first_match_subject(&r, &db), 2);
	db.pod = "web-db";
	assert_int_equal(rules__first_match_subject(&r, &db), -1);
	assert_int_equal(rules__first_match_subject(&r, &unknown), -1);
	/* the subject-less form knows no pod */
	assert_int_equal(rules__first_match(&r, "api", "/app/api", "/kubepods/x"), -1);
	rules__free(&r);
}

static void test_a_rule_formats_back_to_the_line_that_parses_to_it(void **state)
{
	static const char *const lines[] = {
		"include pod=web-*",
		"exclude namespace=kube-system",
		"include container=api",
		"include comm=leaky*",
		"exclude exe=/opt/my app/bin/tool",
		"include cgroup=/",
		"exclude cgroup=/system.slice/x.service",
	};
	char buf[MS_RULE_LINE_MAX], small[8];
	size_t i;

	for (i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		struct ms_rules r = rules_of(lines[i]);

		assert_int_equal(rules__format(&r.v[0], buf, sizeof(buf)), strlen(lines[i]));
		assert_string_equal(buf, lines[i]);
		assert_int_equal(rules__format(&r.v[0], small, sizeof(small)), -ENOSPC);
		rules__free(&r);
	}
}

static void test_bad_rule_lines_are_rejected_with_a_reason(void **state)
{
	char err[256], line[MS_RULE_PATTERN_MAX + 64];

	assert_int_equal(reject("watch comm=x", err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "expected 'include' or 'exclude', got 'watch'");
	assert_int_equal(reject("include pid=3", err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "expected comm=, exe= or cgroup= after include, got 'pid'");
	assert_int_equal(reject("include comm", err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "expected '=' after comm");
	assert_int_equal(reject("exclude comm=  ", err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "empty comm pattern");
	assert_int_equal(reject("", err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "expected 'include' or 'exclude', got ''");
	assert_int_equal(reject("include exe=bin/app", err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "exe 'bin/app' must be an absolute path or start with a glob");
	assert_int_equal(reject("include cgroup=system.slice", err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "cgroup 'system.slice' must start with '/'");
	assert_int_equal(reject("include comm=a\x01" "b", err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "control character 0x01 in comm pattern");
	assert_int_equal(rules__parse_line(&(struct ms_rules){ 0 }, "include comm=a\0b", 16, err,
					   sizeof(err)), -EINVAL);
	assert_string_equal(err, "NUL byte in rule");

	memset(line, 0, sizeof(line));
	strcpy(line, "include exe=/");
	memset(line + strlen(line), 'a', MS_RULE_PATTERN_MAX);
	assert_int_equal(reject(line, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "exe pattern is longer than 1024 bytes");
}

static void test_a_literal_comm_longer_than_the_kernel_keeps_is_refused(void **state)
{
	struct ms_rules r = { 0 };
	char err[256];

	/* The kernel would show "my-long-service" (15 bytes): the rule could never match. */
	assert_int_equal(reject("include comm=my-long-service-d", err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "comm 'my-long-service-d' is longer than 15 bytes and can "
			    "never match (the kernel truncates comm)");
	/* 15 bytes is fine, and so is a longer glob (it may match by its wildcards). */
	assert_int_equal(rules__parse_line(&r, "include comm=my-long-service", 28, err,
					   sizeof(err)), 0);
	assert_int_equal(rules__add(&r, MS_RULE_INCLUDE, MS_RULE_COMM, "[mM][yY]-long-service*",
				    err, sizeof(err)), 0);
	assert_true(watched_comm(&r, "My-long-service"));
	rules__free(&r);
}

static void test_the_1025th_rule_is_refused(void **state)
{
	struct ms_rules r = { 0 };
	char err[128], pat[32];
	int i;

	for (i = 0; i < MS_RULES_MAX; i++) {
		snprintf(pat, sizeof(pat), "c%d", i);
		assert_int_equal(rules__add(&r, MS_RULE_INCLUDE, MS_RULE_COMM, pat, err,
					    sizeof(err)), 0);
	}
	assert_int_equal(rules__add(&r, MS_RULE_INCLUDE, MS_RULE_COMM, "one-more", err,
				    sizeof(err)), -ENOSPC);
	assert_string_equal(err, "more than 1024 rules");
	assert_int_equal(r.n, MS_RULES_MAX);
	assert_true(watched_comm(&r, "c1023"));
	assert_false(watched_comm(&r, "one-more"));
	rules__free(&r);
	assert_null(r.v);
	assert_int_equal(r.n, 0);
	rules__free(NULL);
}

/* ---- removal ----------------------------------------------------------- */

static void test_remove_drops_every_identical_rule_and_keeps_the_order(void **state)
{
	struct ms_rules r = rules_of("include comm=a\n"
				     "include comm=leaky\n"
				     "exclude comm=leaky\n"
				     "include exe=/leaky\n"
				     "include comm=leaky\n"
				     "include comm=b");

	assert_int_equal(rules__remove(&r, MS_RULE_INCLUDE, MS_RULE_COMM, "leaky"), 0);
	assert_int_equal(r.n, 4);
	assert_string_equal(r.v[0].pattern, "a");
	/* Same pattern, other action or key: kept. */
	assert_int_equal(r.v[1].action, MS_RULE_EXCLUDE);
	assert_string_equal(r.v[1].pattern, "leaky");
	assert_int_equal(r.v[2].key, MS_RULE_EXE);
	assert_string_equal(r.v[3].pattern, "b");
	assert_false(watched_comm(&r, "leaky"));
	assert_int_equal(rules__remove(&r, MS_RULE_INCLUDE, MS_RULE_COMM, "leaky"), -ENOENT);
	assert_int_equal(rules__remove(&r, MS_RULE_INCLUDE, MS_RULE_COMM, "leaky*"), -ENOENT);
	assert_int_equal(r.n, 4);
	rules__free(&r);
}

static void test_removing_a_cgroup_ignores_a_trailing_slash(void **state)
{
	struct ms_rules r = rules_of("include cgroup=/system.slice/api.service");

	assert_int_equal(rules__remove(&r, MS_RULE_INCLUDE, MS_RULE_CGROUP,
				       "/system.slice/api.service/"), 0);
	assert_int_equal(r.n, 0);
	rules__free(&r);
}

/* ---- /proc/PID/cgroup -------------------------------------------------- */

static void test_cgroup_path_is_read_from_the_v2_line(void **state)
{
	char buf[256];

	assert_int_equal(cgroup__unified_of(PROC, 1200, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/system.slice/api.service");
	/* Hybrid host: the v1 lines before it name other paths and are skipped. */
	assert_int_equal(cgroup__unified_of(PROC, 1300, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/user.slice/user-1000.slice/session-3.scope");
	assert_int_equal(cgroup__unified_of(PROC, 1500, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/");
}

static void test_cgroup_path_errors_say_what_is_missing(void **state)
{
	char buf[256], small[25];

	assert_int_equal(cgroup__unified_of(PROC, 1400, buf, sizeof(buf)), -ENODATA);
	assert_int_equal(cgroup__unified_of(PROC, 1600, buf, sizeof(buf)), -EINVAL);
	assert_int_equal(cgroup__unified_of(PROC, 999, buf, sizeof(buf)), -ESRCH);
	assert_int_equal(cgroup__unified_of(PROC, 0, buf, sizeof(buf)), -EINVAL);
	assert_int_equal(cgroup__unified_of(PROC, -1, buf, sizeof(buf)), -EINVAL);
	/* "/system.slice/api.service" is 25 bytes: no room for its NUL. */
	assert_int_equal(cgroup__unified_of(PROC, 1200, small, sizeof(small)), -ENAMETOOLONG);
	assert_int_equal(cgroup__unified_of(PROC, 1200, buf, 26), 0);
	assert_string_equal(buf, "/system.slice/api.service");
}

static void test_cgroup_path_of_this_process_is_its_0_line_in_proc(void **state)
{
	char buf[4096], line[4096], want[4096] = "";
	FILE *f = fopen("/proc/self/cgroup", "r");

	assert_non_null(f);
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "0::", 3)) {
			line[strcspn(line, "\n")] = '\0';
			strcpy(want, line + 3);
		}
	fclose(f);
	if (!want[0])
		skip();	/* a v1-only host has no v2 path to read */
	assert_int_equal(cgroup__unified_of("/proc", getpid(), buf, sizeof(buf)), 0);
	assert_string_equal(buf, want);
}

static void test_a_cgroup_rule_matches_the_path_read_from_proc(void **state)
{
	struct ms_rules r = rules_of("exclude cgroup=/user.slice/user-1000.slice/session-3.scope\n"
				     "include cgroup=/user.slice");
	char cg[256];

	assert_int_equal(cgroup__unified_of(PROC, 1300, cg, sizeof(cg)), 0);
	assert_false(rules__match(&r, "bash", "/usr/bin/bash", cg));
	assert_int_equal(cgroup__unified_of(PROC, 1200, cg, sizeof(cg)), 0);
	assert_false(rules__match(&r, "api", "/usr/bin/api", cg));
	assert_true(rules__match(&r, "bash", "/usr/bin/bash", "/user.slice/user-1000.slice"));
	rules__free(&r);
}

/* Found by fuzzing: "cgroup=/a /" would have been stored as "/a " (the '/'
 * dropped, the space kept), which formats back as a different rule. */
static void test_cgroup_trailing_slash_leaves_valid_pattern(void **state)
{
	struct ms_rules r = {};
	char err[256];

	assert_int_equal(rules__parse_line(&r, "exclude cgroup=/a /", 19, err, sizeof(err)), -EINVAL);
	assert_int_equal(r.n, 0);
	assert_int_equal(rules__parse_line(&r, "exclude cgroup=/a/", 18, err, sizeof(err)), 0);
	assert_string_equal(r.v[0].pattern, "/a");
	rules__free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cgroup_trailing_slash_leaves_valid_pattern),
		cmocka_unit_test(test_an_exclude_before_an_include_carves_out_an_exception),
		cmocka_unit_test(test_the_same_rules_reversed_watch_the_exception_too),
		cmocka_unit_test(test_a_process_no_rule_matches_is_not_watched),
		cmocka_unit_test(test_rules_on_different_keys_are_checked_in_file_order),
		cmocka_unit_test(test_an_unknown_field_matches_no_rule_on_it_and_falls_through),
		cmocka_unit_test(test_an_inserted_rule_at_index_0_overrides_the_config),
		cmocka_unit_test(test_comm_globs_follow_fnmatch),
		cmocka_unit_test(test_an_exe_glob_star_crosses_directories),
		cmocka_unit_test(test_a_cgroup_prefix_must_end_at_a_component_boundary),
		cmocka_unit_test(test_a_trailing_slash_on_a_cgroup_pattern_changes_nothing),
		cmocka_unit_test(test_the_root_cgroup_pattern_matches_every_cgroup),
		cmocka_unit_test(test_a_rule_line_gives_action_key_and_pattern),
		cmocka_unit_test(test_pod_namespace_and_container_rules),
		cmocka_unit_test(test_a_rule_formats_back_to_the_line_that_parses_to_it),
		cmocka_unit_test(test_bad_rule_lines_are_rejected_with_a_reason),
		cmocka_unit_test(test_a_literal_comm_longer_than_the_kernel_keeps_is_refused),
		cmocka_unit_test(test_the_1025th_rule_is_refused),
		cmocka_unit_test(test_remove_drops_every_identical_rule_and_keeps_the_order),
		cmocka_unit_test(test_removing_a_cgroup_ignores_a_trailing_slash),
		cmocka_unit_test(test_cgroup_path_is_read_from_the_v2_line),
		cmocka_unit_test(test_cgroup_path_errors_say_what_is_missing),
		cmocka_unit_test(test_cgroup_path_of_this_process_is_its_0_line_in_proc),
		cmocka_unit_test(test_a_cgroup_rule_matches_the_path_read_from_proc),
	};

	return cmocka_run_group_tests_name("rules", tests, NULL, NULL);
}
