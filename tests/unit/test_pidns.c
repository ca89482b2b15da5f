// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * pidns: the NSpid line of /proc/PID/status (hostile text), and PIDs of this
 * process seen from its own namespace and from a child namespace's process.
 */
#include <errno.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "target/pidns.h"
#include "target/procfs.h"

static void test_nspid_levels(void **state)
{
	pid_t v[PIDNS_LEVELS];
	unsigned int n;

	assert_int_equal(pidns__parse_nspid("Name:\tx\nNSpid:\t4974\nThreads:\t1\n", v, 4, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(v[0], 4974);
	/* outermost first: host 812, container 7, nested 1; last line without a newline */
	assert_int_equal(pidns__parse_nspid("Tgid:\t812\nNSpid:\t812\t7\t1", v, 4, &n), 0);
	assert_int_equal(n, 3);
	assert_int_equal(v[0], 812);
	assert_int_equal(v[1], 7);
	assert_int_equal(v[2], 1);
}

static void test_nspid_hostile(void **state)
{
	static const char *const bad[] = {
		"NSpid:\n",			/* no PID at all */
		"NSpid:\t0\n",			/* PID 0 is nobody */
		"NSpid:\t-5\n",
		"NSpid:\t12x\n",
		"NSpid:\t99999999999\n",	/* beyond pid_t */
		"NSpid:\t1 2 3 4 5\n",		/* more levels than the caller holds */
	};
	pid_t v[4];
	unsigned int n;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_true(pidns__parse_nspid(bad[i], v, 4, &n) < 0);
	assert_int_equal(pidns__parse_nspid("Name:\tNSpid\nPid:\t3\n", v, 4, &n), -ENOENT);
	assert_int_equal(pidns__parse_nspid("", v, 4, &n), -ENOENT);
}

/* From our own namespace every process is itself. */
static void test_same_namespace_is_identity(void **state)
{
	struct pidns_view v;
	pid_t p;

	assert_int_equal(pidns__view_of("/proc", getpid(), &v), 0);
	assert_int_equal(pidns__to_view("/proc", &v, getpid(), &p), 0);
	assert_int_equal(p, getpid());
	assert_int_equal(pidns__from_view("/proc", &v, getpid(), &p), 0);
	assert_int_equal(p, getpid());
	assert_int_equal(pidns__from_view("/proc", &v, 0, &p), -ESRCH);
}

/*
 * A child namespace's first process is PID 1 there: it maps both ways, and
 * this process (outside its namespace) is invisible to it.
 */
static void test_child_namespace(void **state)
{
	int go[2], status;
	struct pidns_view v;
	pid_t mid, in = 0, p;
	char c;

	if (procfs__self_in_initial_pidns("/proc") != 1 || geteuid())
		skip();
	assert_int_equal(pipe(go), 0);
	mid = fork();
	assert_true(mid >= 0);
	if (!mid) {
		/* unshare in a child: this test process's later children stay here */
		if (unshare(CLONE_NEWPID) || (in = fork()) < 0)
			_exit(2);
		if (!in) {
			close(go[1]);
			_exit(read(go[0], &c, 1) < 0);	/* wait until the parent looked */
		}
		close(go[1]);	/* only the parent may hold the write end: its close is "go" */
		_exit(waitpid(in, &status, 0) == in ? 0 : 3);
	}
	close(go[0]);
	/* the process in the new namespace is mid's only child */
	for (int i = 0; i < 1000 && !in; i++) {
		char path[64];
		FILE *f;

		snprintf(path, sizeof(path), "/proc/%d/task/%d/children", mid, mid);
		f = fopen(path, "re");
		if (f) {
			if (fscanf(f, "%d", &in) != 1)
				in = 0;
			fclose(f);
		}
		if (!in)
			usleep(1000);
	}
	assert_true(in > 0);
	assert_int_equal(pidns__view_of("/proc", in, &v), 0);
	assert_int_equal(v.level, 1);
	assert_int_equal(pidns__to_view("/proc", &v, in, &p), 0);
	assert_int_equal(p, 1);
	assert_int_equal(pidns__from_view("/proc", &v, 1, &p), 0);
	assert_int_equal(p, in);
	assert_int_equal(pidns__to_view("/proc", &v, getpid(), &p), -ESRCH);
	assert_int_equal(pidns__to_view("/proc", &v, mid, &p), -ESRCH);
	assert_int_equal(pidns__from_view("/proc", &v, 2, &p), -ESRCH);
	close(go[1]);
	assert_int_equal(waitpid(mid, &status, 0), mid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nspid_levels),
		cmocka_unit_test(test_nspid_hostile),
		cmocka_unit_test(test_same_namespace_is_identity),
		cmocka_unit_test(test_child_namespace),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
