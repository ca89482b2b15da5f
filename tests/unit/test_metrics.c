// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "export/metrics.h"

static bool is_name_char(char c, bool first)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' ||
	       (!first && c >= '0' && c <= '9');
}

/*
 * One sample line of the text format 0.0.4: name{label="value",...} number,
 * with only \\, \" and \n escaped inside values. Returns 0 if it is one.
 */
static int check_sample_line(const char *s)
{
	char *end;

	if (!is_name_char(*s, true))
		return -1;
	while (is_name_char(*s, false))
		s++;
	if (*s == '{') {
		s++;
		while (*s != '}') {
			if (!is_name_char(*s, true))
				return -2;
			while (is_name_char(*s, false))
				s++;
			if (*s++ != '=' || *s++ != '"')
				return -3;
			while (*s != '"') {
				if (!*s || *s == '\n')
					return -4;
				if (*s == '\\') {
					s++;
					if (*s != '\\' && *s != '"' && *s != 'n')
						return -5;
				}
				s++;
			}
			s++;
			if (*s == ',')
				s++;
			else if (*s != '}')
				return -6;
		}
		s++;
	}
	if (*s++ != ' ')
		return -7;
	strtod(s, &end);
	if (end == s || *end)
		return -8;
	return 0;
}

static char *render(const struct metrics_snapshot *m)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	assert_int_equal(metrics__render(m, f), 0);
	assert_int_equal(fclose(f), 0);
	return buf;
}

/* Every line of the exposition is a comment or a well-formed sample. */
static void assert_exposition_valid(char *text)
{
	char *save = NULL, *copy = strdup(text);

	assert_non_null(copy);
	for (char *l = strtok_r(copy, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		if (l[0] == '#')
			continue;
		if (check_sample_line(l)) {
			fprintf(stderr, "bad sample line: %s\n", l);
			fail();
		}
	}
	free(copy);
}

static struct metrics_snapshot *two_go_processes(void)
{
	struct metrics_snapshot *m = metrics_snapshot__new(2);
	struct metrics_proc *p;

	assert_non_null(m);
	m->nprocs = 2;
	p = &m->procs[0];
	p->pid = 41;
	snprintf(p->comm, sizeof(p->comm), "svc");
	p->is_go = true;
	p->have_goroutines = true;
	p->goroutines = 312;
	p->have_go_growth = true;
	p->go_growth_per_min = 600;
	p->ngo_sites = 3;
	snprintf(p->go_sites[0].site, sizeof(p->go_sites[0].site), "main.leakHandler main.go:35");
	p->go_sites[0].count = 300;
	p->go_sites[0].have_rate = true;
	p->go_sites[0].per_min = 600;
	/* a function name a hostile binary could carry: quotes, newline, brace, bad UTF-8 */
	snprintf(p->go_sites[1].site, sizeof(p->go_sites[1].site),
		 "main.\"evil\"}\n1 fake_metric{a=\"b\\ \xff x.go:1");
	p->go_sites[1].count = 10;
	p->go_sites[1].have_rate = true;
	p->go_sites[1].per_min = -1.5;
	snprintf(p->go_sites[2].site, sizeof(p->go_sites[2].site), "other");
	p->go_sites[2].count = 2;
	p = &m->procs[1];
	p->pid = 42;
	snprintf(p->comm, sizeof(p->comm), "stripped");
	p->is_go = true;
	snprintf(p->go_unavailable, sizeof(p->go_unavailable),
		 "no .symtab: \"runtime.allgs\"\nhas no address");
	return m;
}

/*
 * Per-site series are escaped so a hostile function name stays one label
 * value; "other" holds the rest and has no growth series; a process whose
 * goroutines cannot be read has a series saying why and no goroutine series.
 */
static void test_goroutine_sites_are_escaped_bounded_and_said_unavailable(void **state)
{
	struct metrics_snapshot *m = two_go_processes();
	char *text = render(m);

	assert_exposition_valid(text);
	assert_non_null(strstr(text, "memsight_go_goroutines{pid=\"41\",comm=\"svc\"} 312\n"));
	assert_non_null(strstr(text, "memsight_go_goroutines_by_site{pid=\"41\",comm=\"svc\","
			       "site=\"main.leakHandler main.go:35\"} 300\n"));
	assert_non_null(strstr(text, "memsight_go_goroutines_by_site{pid=\"41\",comm=\"svc\","
			       "site=\"main.\\\"evil\\\"}\\n1 fake_metric{a=\\\"b\\\\ \xef\xbf\xbd x.go:1\"} 10\n"));
	assert_non_null(strstr(text, "memsight_go_goroutines_by_site{pid=\"41\",comm=\"svc\","
			       "site=\"other\"} 2\n"));
	assert_non_null(strstr(text, "memsight_go_goroutines_by_site_growth_per_minute{pid=\"41\","
			       "comm=\"svc\",site=\"main.leakHandler main.go:35\"} 600.000\n"));
	assert_non_null(strstr(text, "site=\"main.\\\"evil\\\"}\\n1 fake_metric{a=\\\"b\\\\ \xef\xbf\xbd "
			       "x.go:1\"} -1.500\n"));
	assert_null(strstr(text, "memsight_go_goroutines_by_site_growth_per_minute{pid=\"41\","
			   "comm=\"svc\",site=\"other\"}"));
	assert_null(strstr(text, "\nfake_metric"));
	assert_non_null(strstr(text, "memsight_go_goroutines_growth_per_minute{pid=\"41\","
			       "comm=\"svc\"} 600.000\n"));
	/* the unreadable one: why, and no made-up 0 */
	assert_non_null(strstr(text, "memsight_go_goroutines_unavailable{pid=\"42\",comm=\"stripped\","
			       "reason=\"no .symtab: \\\"runtime.allgs\\\"\\nhas no address\"} 1\n"));
	assert_null(strstr(text, "memsight_go_goroutines{pid=\"42\""));
	assert_null(strstr(text, "memsight_go_goroutines_growth_per_minute{pid=\"42\""));
	assert_null(strstr(text, "memsight_go_goroutines_by_site{pid=\"42\""));
	assert_null(strstr(text, "memsight_go_goroutines_unavailable{pid=\"41\""));
	/* the cap is said where the series are described */
	assert_non_null(strstr(text, "# HELP memsight_go_goroutines_by_site Goroutines by creation "
			       "site (the go statement): the 5 sites"));
	free(text);
	free(m);
}

/*
 * Go heap: what was read has series; the live heap only after a GC marked it
 * (absent, not 0, before); a heap that cannot be read has a series saying why.
 */
static void test_go_heap_series_absent_when_unknown_and_said_why(void **state)
{
	struct metrics_snapshot *m = two_go_processes();
	struct metrics_proc *p = &m->procs[0];
	char *text;

	p->have_go_heap = true;
	p->go_heap_alloc = 8133064;
	p->go_heap_inuse = 10010624;
	p->go_num_gc = 0;
	snprintf(m->procs[1].go_heap_unavailable, sizeof(m->procs[1].go_heap_unavailable),
		 "no built-in layout for \"go1.99\"");
	text = render(m);
	assert_exposition_valid(text);
	assert_non_null(strstr(text, "memsight_go_heap_alloc_bytes{pid=\"41\",comm=\"svc\"} 8133064\n"));
	assert_non_null(strstr(text, "memsight_go_heap_inuse_bytes{pid=\"41\",comm=\"svc\"} 10010624\n"));
	assert_null(strstr(text, "memsight_go_heap_live_bytes{"));
	assert_null(strstr(text, "memsight_go_next_gc_bytes{"));
	assert_non_null(strstr(text, "memsight_go_heap_unavailable{pid=\"42\",comm=\"stripped\","
			       "reason=\"no built-in layout for \\\"go1.99\\\"\"} 1\n"));
	assert_null(strstr(text, "memsight_go_heap_unavailable{pid=\"41\""));
	assert_null(strstr(text, "memsight_go_heap_alloc_bytes{pid=\"42\""));
	free(text);

	p->have_go_heap_live = true;
	p->go_heap_live = 8127048;
	text = render(m);
	assert_non_null(strstr(text, "memsight_go_heap_live_bytes{pid=\"41\",comm=\"svc\"} 8127048\n"));
	free(text);
	free(m);
}

/* A snapshot of n processes, pids 7, 8, ... named by comms[]. */
static struct metrics_snapshot *processes(unsigned int n, const char *const *comms)
{
	struct metrics_snapshot *m = metrics_snapshot__new(n);

	assert_non_null(m);
	m->nprocs = n;
	for (unsigned int i = 0; i < n; i++) {
		m->procs[i].pid = 7 + i;
		snprintf(m->procs[i].comm, sizeof(m->procs[i].comm), "%s", comms[i]);
	}
	return m;
}

/* A C process has no Go series at all, not even "unavailable". */
static void test_a_c_process_has_no_go_series(void **state)
{
	struct metrics_snapshot *m = processes(1, (const char *const[]){ "leaky" });
	char *text;

	text = render(m);
	assert_exposition_valid(text);
	for (const char *p = text; (p = strstr(p, "\nmemsight_go_")); p++)
		fail_msg("unexpected Go series: %.60s", p + 1);
	/* no family is announced without a sample of it */
	for (const char *p = text; (p = strstr(p, "# HELP memsight_go_")); p++)
		fail_msg("Go family without a sample: %.60s", p);
	free(text);
	free(m);
}

/*
 * Growth before two snapshots is absent, not 0; the lost events counted are
 * the process's own (another's do not show on it); a family with no sample
 * at all (here: growth) has no HELP or TYPE line either.
 */
static void test_growth_absent_until_known_and_losses_per_process(void **state)
{
	struct metrics_snapshot *m = processes(2, (const char *const[]){ "quiet", "busy" });
	char *text;

	m->procs[0].have_lost = true;
	m->procs[1].have_lost = true;
	m->procs[1].lost = 1234;
	m->loss.stack_quota = 1234;
	text = render(m);
	assert_exposition_valid(text);
	assert_null(strstr(text, "memsight_process_heap_growth_bytes_per_minute"));
	assert_non_null(strstr(text, "memsight_process_lost_events_total{pid=\"7\","
			       "comm=\"quiet\"} 0\n"));
	assert_non_null(strstr(text, "memsight_process_lost_events_total{pid=\"8\","
			       "comm=\"busy\"} 1234\n"));
	free(text);
	m->procs[1].have_growth = true;
	m->procs[1].growth_per_min = 4096;
	text = render(m);
	assert_exposition_valid(text);
	assert_non_null(strstr(text, "# HELP memsight_process_heap_growth_bytes_per_minute "));
	assert_non_null(strstr(text, "memsight_process_heap_growth_bytes_per_minute{pid=\"8\","
			       "comm=\"busy\"} 4096.0\n"));
	assert_null(strstr(text, "memsight_process_heap_growth_bytes_per_minute{pid=\"7\""));
	free(text);
	free(m);
}

/*
 * A comm set to ESC[31mESC[2J, a quote and a newline: one label value, on one
 * line, with nothing a terminal acts on (curl /metrics): the ESC as the text
 * "\x1b", its backslash escaped as the format says.
 */
static void test_hostile_comm_label(void **state)
{
	struct metrics_snapshot *m = processes(1, (const char *const[]){ "\x1b[31m\x1b[2J\"\n" });
	char *text;

	text = render(m);
	assert_exposition_valid(text);
	assert_null(strchr(text, '\x1b'));
	assert_non_null(strstr(text, "memsight_process_heap_inuse_bytes{pid=\"7\","
			       "comm=\"\\\\x1b[31m\\\\x1b[2J\\\"\\n\"}"));
	free(text);
	free(m);
}

/* In use with the allocator's rounding where it was read, else why not (no 0). */
static void test_usable_series_or_said_why(void **state)
{
	struct metrics_snapshot *m = processes(2, (const char *const[]){ "redis-server", "musl" });
	char *text;

	m->procs[0].have_usable = true;
	m->procs[0].inuse_usable_bytes = 2295512;
	snprintf(m->procs[1].usable_unavailable, sizeof(m->procs[1].usable_unavailable),
		 "not read");
	text = render(m);
	assert_exposition_valid(text);
	assert_non_null(strstr(text, "memsight_process_heap_inuse_usable_bytes{pid=\"7\","
			       "comm=\"redis-server\"} 2295512\n"));
	assert_null(strstr(text, "memsight_process_heap_inuse_usable_bytes{pid=\"8\""));
	assert_non_null(strstr(text, "memsight_process_heap_usable_unavailable{pid=\"8\","
			       "comm=\"musl\",reason=\"not read\"} 1\n"));
	assert_null(strstr(text, "memsight_process_heap_usable_unavailable{pid=\"7\""));
	free(text);
	free(m);
}

/*
 * A process in the v1 fixture cgroup (64 MiB limit) gets its cgroup's
 * figures with a cgroup label; what v1 lacks (high, OOM events, PSI) is a
 * figure_unavailable sample with its reason, never a 0; a process whose
 * cgroup cannot be read says why, and an unlimited limit is not exported.
 */
static void test_cgroup_series_or_said_why(void **state)
{
	struct metrics_snapshot *m = processes(2, (const char *const[]){ "inbox", "nobox" });
	struct ms_cgroup_env env = { "tests/fixtures/cgroup/v1-limited/proc",
				     "tests/fixtures/cgroup/v1-limited/mountinfo",
				     "tests/fixtures/cgroup/v1-limited" };
	char *text;

	(void)state;
	assert_int_equal(cgroup__read(&env, 4242, &m->procs[0].cgroup), 0);
	m->procs[0].have_cgroup = true;
	snprintf(m->procs[1].cgroup_unavailable, sizeof(m->procs[1].cgroup_unavailable),
		 "the process is gone");
	text = render(m);
	assert_exposition_valid(text);
	assert_non_null(strstr(text, "\nmemsight_cgroup_memory_limit_bytes{pid=\"7\",comm=\"inbox\","
			       "cgroup=\"/ms-fixture/job\"} 67108864\n"));
	assert_non_null(strstr(text, "\nmemsight_cgroup_memory_usage_bytes{pid=\"7\",comm=\"inbox\","
			       "cgroup=\"/ms-fixture/job\"} 409600\n"));
	assert_non_null(strstr(text, "\nmemsight_cgroup_memory_peak_bytes{pid=\"7\",comm=\"inbox\","
			       "cgroup=\"/ms-fixture/job\"} 28684288\n"));
	assert_non_null(strstr(text, "\nmemsight_cgroup_oom_kills_total{pid=\"7\",comm=\"inbox\","
			       "cgroup=\"/ms-fixture/job\"} 0\n"));
	assert_non_null(strstr(text, "cgroup=\"/ms-fixture/job\",reason=\"cgroup v1 has no "
			       "memory.high\",figure=\"high\"} 1\n"));
	assert_null(strstr(text, "memsight_cgroup_memory_high_bytes"));
	assert_null(strstr(text, "memsight_cgroup_oom_events_total"));
	assert_null(strstr(text, "memsight_cgroup_memory_pressure_seconds_total"));
	assert_non_null(strstr(text, "\nmemsight_cgroup_unavailable{pid=\"8\",comm=\"nobox\","
			       "reason=\"the process is gone\"} 1\n"));
	free(text);
	m->procs[0].cgroup.limit.state = MS_CG_UNLIMITED;
	m->procs[0].cgroup.limit.why = "unlimited";
	text = render(m);
	assert_exposition_valid(text);
	assert_null(strstr(text, "memsight_cgroup_memory_limit_bytes"));
	assert_non_null(strstr(text, "reason=\"unlimited\",figure=\"limit\"} 1\n"));
	free(text);
	free(m);
}

/* A process in a containerd pod gets one info sample naming its container and pod. */
static void test_container_info(void **state)
{
	struct metrics_snapshot *m = processes(2, (const char *const[]){ "api", "host" });
	struct ms_cgroup_env env = { "tests/fixtures/cgroup/v2-limited/proc",
				     "tests/fixtures/cgroup/v2-limited/mountinfo",
				     "tests/fixtures/cgroup/v2-limited" };
	char *text, *l;

	(void)state;
	assert_int_equal(cgroup__read(&env, 31337, &m->procs[0].cgroup), 0);
	m->procs[0].have_cgroup = true;
	m->procs[0].have_container =
		!container__from_cgroup_path(m->procs[0].cgroup.path, &m->procs[0].container);
	assert_true(m->procs[0].have_container);
	snprintf(m->procs[1].cgroup.path, sizeof(m->procs[1].cgroup.path), "/system.slice/x");
	m->procs[1].have_cgroup = true;
	text = render(m);
	assert_exposition_valid(text);
	l = strstr(text, "\nmemsight_process_container_info{pid=\"7\",comm=\"api\",cgroup=\"/kubepods");
	assert_non_null(l);
	assert_non_null(strstr(l, ",container_id=\"0123456789abcdef0123456789abcdef0123456789abcdef"
			       "0123456789abcdef\",runtime=\"containerd\",pod_uid=\"1f2e3d4c-5b6a-"
			       "4789-8abc-def012345678\"} 1\n"));
	assert_null(strstr(text, "memsight_process_container_info{pid=\"8\""));
	free(text);
	free(m);
}

/*
 * Its pod, namespace and container (read from the containerd fixture) are
 * labels of the info sample and of no other series: bounded cardinality.
 */
static void test_pod_labels_on_container_info_only(void **state)
{
	struct metrics_snapshot *m = processes(1, (const char *const[]){ "api" });
	struct metrics_proc *p = &m->procs[0];
	char *text, *l;
	const char *q;
	int n = 0;

	(void)state;
	snprintf(p->cgroup.path, sizeof(p->cgroup.path), "/kubepods/burstable/pod"
		 "5b0e4a3c-2f1d-4e6b-9a87-0c1d2e3f4a5b/"
		 "3f1c9a0e5b7d2468ace0135792468bdf0e1a2b3c4d5e6f708192a3b4c5d6e7f8");
	p->have_cgroup = true;
	p->have_container = !container__from_cgroup_path(p->cgroup.path, &p->container);
	assert_true(p->have_container);
	assert_int_equal(podinfo__read("tests/fixtures/container/host", &p->container, &p->pod), 0);
	p->have_pod = true;
	text = render(m);
	assert_exposition_valid(text);
	l = strstr(text, "\nmemsight_process_container_info{pid=\"7\"");
	assert_non_null(l);
	q = strstr(l, ",pod=\"web-7d9f8c6b5-x2k4q\",namespace=\"shop\",container=\"api\"} 1\n");
	assert_non_null(q);
	assert_true(q < strchr(l + 1, '\n'));
	/* one series in the whole exposition has them */
	for (const char *r = text; (r = strstr(r, ",pod=\"")); r++)
		n++;
	assert_int_equal(n, 1);
	assert_ptr_equal(strstr(text, "namespace=\""), q + strlen(",pod=\"web-7d9f8c6b5-x2k4q\","));
	free(text);
	free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_goroutine_sites_are_escaped_bounded_and_said_unavailable),
		cmocka_unit_test(test_go_heap_series_absent_when_unknown_and_said_why),
		cmocka_unit_test(test_a_c_process_has_no_go_series),
		cmocka_unit_test(test_hostile_comm_label),
		cmocka_unit_test(test_usable_series_or_said_why),
		cmocka_unit_test(test_cgroup_series_or_said_why),
		cmocka_unit_test(test_container_info),
		cmocka_unit_test(test_pod_labels_on_container_info_only),
		cmocka_unit_test(test_growth_absent_until_known_and_losses_per_process),
	};

	return cmocka_run_group_tests_name("metrics", tests, NULL, NULL);
}
