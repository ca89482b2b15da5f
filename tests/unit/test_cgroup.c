// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Fixtures under tests/fixtures/cgroup/<case>/ (proc/, mountinfo, and the
 * cgroup files below the mount points the mountinfo names):
 *   v1-limited    copied from this machine (kernel 6.18, hybrid v1 memory +
 *                 v2 beside it): a v1 memory cgroup with a 64 MiB limit
 *                 holding a sleep after a python had allocated 20 MiB in it
 *                 (only the cgroup's name was edited).
 *   v2-limited    hand-written in the format of kernel 6.x: a containerd pod
 *                 container seen from a memsightd whose own /sys/fs/cgroup is
 *                 its namespaced cgroup and which has the host's cgroup2
 *                 mounted at /host/sys/fs/cgroup; every file present.
 *   v2-unlimited  a systemd service on a pure v2 host of an older kernel:
 *                 memory.max "max", no memory.peak, no swap accounting, no
 *                 "kernel" key in memory.stat, no PSI.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "target/cgroup.h"
#include "target/cgroup_int.h"

#define FIX "tests/fixtures/cgroup/"
#define MIB (1024ULL * 1024)

static void read_case(const char *name, pid_t pid, struct ms_cgroup_mem *cg)
{
	char proc[256], mi[256], pre[256];
	struct ms_cgroup_env env = { proc, mi, pre };

	snprintf(proc, sizeof(proc), FIX "%s/proc", name);
	snprintf(mi, sizeof(mi), FIX "%s/mountinfo", name);
	snprintf(pre, sizeof(pre), FIX "%s", name);
	assert_int_equal(cgroup__read(&env, pid, cg), 0);
}

static void assert_ok(const struct ms_cg_value *v, uint64_t want)
{
	assert_int_equal(v->state, MS_CG_OK);
	assert_int_equal(v->v, want);
}

static void assert_na(const struct ms_cg_value *v, enum ms_cg_state st, const char *why_part)
{
	assert_int_equal(v->state, st);
	assert_int_equal(v->v, 0);
	assert_non_null(strstr(ms_cg_value__why(v), why_part));
}

static void test_v1_limited_matches_its_files(void **state)
{
	struct ms_cgroup_mem *cg = malloc(sizeof(*cg));
	uint32_t bp;

	(void)state;
	read_case("v1-limited", 4242, cg);
	assert_int_equal(cg->version, 1);
	assert_string_equal(cg->path, "/ms-fixture/job");
	assert_string_equal(cg->dir, FIX "v1-limited/sys/fs/cgroup/memory/ms-fixture/job");
	assert_ok(&cg->limit, 64 * MIB);
	assert_na(&cg->high, MS_CG_MISSING, "v1 has no memory.high");
	assert_ok(&cg->usage, 409600);
	assert_ok(&cg->peak, 28684288);
	assert_ok(&cg->oom_kill, 0);
	assert_na(&cg->oom, MS_CG_MISSING, "v1 counts OOM kills only");
	assert_ok(&cg->swap, 0);
	assert_ok(&cg->anon, 106496);
	assert_ok(&cg->file, 0);
	assert_int_equal(cg->kernel.state, MS_CG_OK);
	assert_na(&cg->psi.some_avg10_centi, MS_CG_MISSING, "PSI");
	/* 16 MiB of a 64 MiB limit is 25.00 %. */
	assert_int_equal(cgroup__share_of_limit(cg, 16 * MIB, &bp), 0);
	assert_int_equal(bp, 2500);
	free(cg);
}

static void test_v2_container_through_host_mount(void **state)
{
	struct ms_cgroup_mem *cg = malloc(sizeof(*cg));
	uint32_t bp;

	(void)state;
	read_case("v2-limited", 31337, cg);
	assert_int_equal(cg->version, 2);
	/* The host mount (root "/") resolves it, not the namespaced one at /sys/fs/cgroup. */
	assert_non_null(strstr(cg->dir, FIX "v2-limited/host/sys/fs/cgroup/kubepods.slice/"));
	assert_ok(&cg->limit, 256 * MIB);
	assert_ok(&cg->high, 192 * MIB);
	assert_ok(&cg->usage, 144 * MIB);
	assert_ok(&cg->peak, 250 * MIB);
	assert_ok(&cg->swap, 4 * MIB);
	assert_ok(&cg->oom, 5);
	assert_ok(&cg->oom_kill, 2);
	assert_ok(&cg->anon, 100 * MIB);
	assert_ok(&cg->file, 32 * MIB);
	assert_ok(&cg->kernel, 8 * MIB);
	assert_ok(&cg->psi.some_avg10_centi, 125);
	assert_ok(&cg->psi.full_avg10_centi, 50);
	assert_ok(&cg->psi.some_total_us, 5123456);
	assert_ok(&cg->psi.full_total_us, 2045678);
	assert_int_equal(cgroup__share_of_limit(cg, 100 * MIB, &bp), 0);
	assert_int_equal(bp, 3906);	/* 100/256 = 39.0625 % */
	free(cg);
}

static void test_v2_unlimited_and_missing_are_not_zero(void **state)
{
	struct ms_cgroup_mem *cg = malloc(sizeof(*cg));
	uint32_t bp;

	(void)state;
	read_case("v2-unlimited", 77, cg);
	assert_string_equal(cg->dir, FIX "v2-unlimited/sys/fs/cgroup/system.slice/app.service");
	assert_na(&cg->limit, MS_CG_UNLIMITED, "unlimited");
	assert_na(&cg->high, MS_CG_UNLIMITED, "unlimited");
	assert_ok(&cg->usage, 50 * MIB);
	assert_na(&cg->peak, MS_CG_MISSING, "no such cgroup file");
	assert_na(&cg->swap, MS_CG_MISSING, "swap accounting is off");
	assert_ok(&cg->oom_kill, 0);
	assert_na(&cg->kernel, MS_CG_MISSING, "does not report");
	assert_na(&cg->psi.full_total_us, MS_CG_MISSING, "PSI");
	assert_int_equal(cgroup__share_of_limit(cg, MIB, &bp), -ENODATA);
	free(cg);
}

static void test_proc_cgroup_lines(void **state)
{
	char p[64];
	int v;

	(void)state;
	/* v1 memory wins over the v2 line; "memory" must be a whole token. */
	assert_int_equal(cgroup__parse_proc_cgroup("4:memory:/a\n0::/b\n", &v, p, sizeof(p)), 0);
	assert_int_equal(v, 1);
	assert_string_equal(p, "/a");
	assert_int_equal(cgroup__parse_proc_cgroup("3:cpu,memory:/c", &v, p, sizeof(p)), 0);
	assert_string_equal(p, "/c");
	assert_int_equal(cgroup__parse_proc_cgroup("4:memoryx:/a\n0::/b\n", &v, p, sizeof(p)), 0);
	assert_int_equal(v, 2);
	assert_string_equal(p, "/b");
	/* A path with ':' in it is the kernel's to print; only the first two split. */
	assert_int_equal(cgroup__parse_proc_cgroup("0::/x:y\n", &v, p, sizeof(p)), 0);
	assert_string_equal(p, "/x:y");
	assert_int_equal(cgroup__parse_proc_cgroup("1:cpu:/\n", &v, p, sizeof(p)), -ENOENT);
	assert_int_equal(cgroup__parse_proc_cgroup("", &v, p, sizeof(p)), -ENOENT);
	assert_int_equal(cgroup__parse_proc_cgroup("garbage\n", &v, p, sizeof(p)), -EINVAL);
	assert_int_equal(cgroup__parse_proc_cgroup("0::\n", &v, p, sizeof(p)), -EINVAL);
	assert_int_equal(cgroup__parse_proc_cgroup("0::/0123456789", &v, p, 8), -ENAMETOOLONG);
}

static void test_resolve_dir(void **state)
{
	const char *mi =
		"30 22 0:27 / /sys/fs/cgroup rw - tmpfs tmpfs rw\n"
		"34 30 0:31 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n"
		"35 30 0:99 /a /mnt/a\\040b rw shared:3 - cgroup cgroup rw,memory\n"
		"40 30 0:37 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n"
		"41 30 0:38 / /x rw - cgroup cgroup rw,memoryless\n";
	char d[128];

	(void)state;
	assert_int_equal(cgroup__resolve_dir(mi, 1, "/", "/j", d, sizeof(d)), 0);
	assert_string_equal(d, "/sys/fs/cgroup/memory/j");
	/* The mount whose root is the longest prefix wins; \040 is a space. */
	assert_int_equal(cgroup__resolve_dir(mi, 1, "/", "/a/j", d, sizeof(d)), 0);
	assert_string_equal(d, "/mnt/a b/j");
	assert_int_equal(cgroup__resolve_dir(mi, 1, "/", "/ab", d, sizeof(d)), 0);
	assert_string_equal(d, "/sys/fs/cgroup/memory/ab");
	assert_int_equal(cgroup__resolve_dir(mi, 2, "/", "/", d, sizeof(d)), 0);
	assert_string_equal(d, "/sys/fs/cgroup/unified/");
	assert_int_equal(cgroup__resolve_dir("1 0 0:1 / / rw - ext4 x rw\n", 2, "/", "/", d, sizeof(d)),
			 -ENOENT);
	/* A path outside our cgroup namespace never climbs out of the mount. */
	assert_int_equal(cgroup__resolve_dir(mi, 1, "/", "/../../x", d, sizeof(d)), -EINVAL);
	assert_int_equal(cgroup__resolve_dir(mi, 1, "/", "/a/..", d, sizeof(d)), -EINVAL);
	assert_int_equal(cgroup__resolve_dir(mi, 1, "/", "/j", d, 10), -ENAMETOOLONG);
	/* a root above our namespace's (the host's hierarchy in a pod) in host terms */
	assert_int_equal(cgroup__resolve_dir("1 0 0:28 / /sys/fs/cgroup ro - cgroup2 c rw\n"
					     "2 0 0:28 /../.. /host/cg ro - cgroup2 c rw\n", 2,
					     "/kube/me", "/kube/other/c", d, sizeof(d)), 0);
	assert_string_equal(d, "/host/cg/kube/other/c");
	assert_int_equal(cgroup__resolve_dir("1 0 0:28 / /sys/fs/cgroup ro - cgroup2 c rw\n"
					     "2 0 0:28 /../.. /host/cg ro - cgroup2 c rw\n", 2,
					     "/kube/me", "/kube/me/sub", d, sizeof(d)), 0);
	assert_string_equal(d, "/sys/fs/cgroup/sub");
	/* Cut and malformed lines are skipped, not trusted. */
	assert_int_equal(cgroup__resolve_dir("34 30 0:31 / /m rw - cgroup\n1 2\n\\\n", 1, "/", "/j",
					     d, sizeof(d)), -ENOENT);
	assert_int_equal(cgroup__resolve_dir("34 30 0:31 / /m\\09 rw - cgroup c memory\n", 1,
					     "/", "/j", d, sizeof(d)), -ENOENT);
}

static void test_absolute(void **state)
{
	char p[64];

	(void)state;
	assert_int_equal(cgroup__absolute("/", "/a/b", p, sizeof(p)), 0);
	assert_string_equal(p, "/a/b");
	assert_int_equal(cgroup__absolute("/", "/", p, sizeof(p)), 0);
	assert_string_equal(p, "/");
	assert_int_equal(cgroup__absolute("/k/me/c", "/", p, sizeof(p)), 0);
	assert_string_equal(p, "/k/me/c");
	assert_int_equal(cgroup__absolute("/k/me/c", "/sub", p, sizeof(p)), 0);
	assert_string_equal(p, "/k/me/c/sub");
	assert_int_equal(cgroup__absolute("/k/me/c", "/../../pod/x", p, sizeof(p)), 0);
	assert_string_equal(p, "/k/pod/x");
	assert_int_equal(cgroup__absolute("/k/me/c", "/../../..", p, sizeof(p)), 0);
	assert_string_equal(p, "/");
	assert_int_equal(cgroup__absolute("/k/me/c/", "/..", p, sizeof(p)), 0);
	assert_string_equal(p, "/k/me");
	/* above the root: where our namespace is was not found */
	assert_int_equal(cgroup__absolute("/", "/../x", p, sizeof(p)), -EXDEV);
	assert_int_equal(cgroup__absolute("/k", "/../../x", p, sizeof(p)), -EXDEV);
	/* ".." only leads; a name starting with ".." is a name */
	assert_int_equal(cgroup__absolute("/k", "/../x/../y", p, sizeof(p)), -EINVAL);
	assert_int_equal(cgroup__absolute("/k", "/..x", p, sizeof(p)), 0);
	assert_string_equal(p, "/k/..x");
	assert_int_equal(cgroup__absolute("/k", "x", p, sizeof(p)), -EINVAL);
	assert_int_equal(cgroup__absolute("/k/..", "/x", p, sizeof(p)), -EINVAL);
	assert_int_equal(cgroup__absolute("/k/me", "/0123456789", p, 12), -ENAMETOOLONG);
}

/* write text to dir/name, making dir */
static void put(const char *dir, const char *name, const char *text)
{
	char cmd[1024], path[1024];
	FILE *f;

	snprintf(cmd, sizeof(cmd), "mkdir -p '%s'", dir);
	assert_int_equal(system(cmd), 0);
	if (!name)
		return;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

/*
 * memsightd in a pod with a cgroup namespace of its own (containerd's default
 * on cgroup v2): /proc/PID/cgroup of another pod's process reads
 * "/../../kubepods-burstable.slice/...", its own /sys/fs/cgroup is its
 * namespace's root, and the DaemonSet mounts the host's hierarchy (mountinfo
 * root "/../../.."). Before: "outside memsight's cgroup namespace" for every
 * process but its own.
 */
static void test_v2_in_cgroup_namespace(void **state)
{
	char t[] = "/tmp/ms-cgns.XXXXXX", d[512], proc[600], mi[600], ns[600], text[1024];
	struct ms_cgroup_env env = { proc, mi, t };
	struct ms_cgroup_mem *cg = malloc(sizeof(*cg));
	char nsroot[256];

	(void)state;
	assert_non_null(mkdtemp(t));
	snprintf(d, sizeof(d), "%s/host/kubepods.slice/kubepods-besteffort.slice/memsightd.scope", t);
	put(d, NULL, NULL);
	snprintf(d, sizeof(d), "%s/host/kubepods.slice/kubepods-burstable.slice/pod1.slice/c.scope", t);
	put(d, "memory.max", "268435456\n");
	put(d, "memory.current", "1048576\n");
	snprintf(d, sizeof(d), "%s/host/system.slice/a.service", t);
	put(d, NULL, NULL);
	snprintf(ns, sizeof(ns), "%s/ns", t);
	assert_int_equal(symlink("host/kubepods.slice/kubepods-besteffort.slice/memsightd.scope", ns), 0);
	snprintf(d, sizeof(d), "%s/proc/4242", t);
	put(d, "cgroup", "0::/../../kubepods-burstable.slice/pod1.slice/c.scope\n");
	snprintf(proc, sizeof(proc), "%s/proc", t);
	snprintf(mi, sizeof(mi), "%s/mountinfo", t);
	put(t, "mountinfo", "1030 1021 0:28 / /ns ro - cgroup2 cgroup ro\n"
			    "1031 1021 0:28 /../../.. /host ro - cgroup2 cgroup2 rw\n");
	snprintf(text, sizeof(text), "1030 1021 0:28 / /ns ro - cgroup2 cgroup ro\n"
				     "1031 1021 0:28 /../../.. /host ro - cgroup2 cgroup2 rw\n");
	assert_int_equal(cgroup__ns_root(text, 2, t, nsroot, sizeof(nsroot)), 0);
	assert_string_equal(nsroot, "/kubepods.slice/kubepods-besteffort.slice/memsightd.scope");
	assert_int_equal(cgroup__read(&env, 4242, cg), 0);
	assert_string_equal(cg->path, "/kubepods.slice/kubepods-burstable.slice/pod1.slice/c.scope");
	assert_ok(&cg->limit, 256 * MIB);
	assert_ok(&cg->usage, 1 * MIB);
	/* without the host's hierarchy: unavailable, saying why */
	put(t, "mountinfo", "1030 1021 0:28 / /ns ro - cgroup2 cgroup ro\n");
	assert_int_equal(cgroup__read(&env, 4242, cg), -EXDEV);
	/* the host's hierarchy mounted, our namespace's root nowhere below it */
	assert_int_equal(cgroup__ns_root("1031 1021 0:28 /../../.. /host ro - cgroup2 c rw\n"
					 "1030 1021 0:28 / /host/system.slice ro - cgroup2 c ro\n",
					 2, t, nsroot, sizeof(nsroot)), -ENOENT);
	snprintf(d, sizeof(d), "rm -rf '%s'", t);
	assert_int_equal(system(d), 0);
	free(cg);
}

/*
 * Our own mountinfo is read once and again only when the mount table changes
 * (snapshots read it for every process): a mount made and taken away in
 * between is seen both times. In a child with a mount namespace of its own.
 */
static int mountinfo_follows_mounts(void)
{
	char dir[] = "/tmp/ms-mi.XXXXXX", *buf = NULL;
	size_t cap = 0;
	int r = 0;

	if (unshare(CLONE_NEWNS) || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL))
		return 77;
	if (!mkdtemp(dir))
		return 1;
	if (cgroup_read_mountinfo(MS_CG_LIVE_MOUNTINFO, &buf, &cap) || strstr(buf, dir))
		r = 2;
	if (!r && cgroup_read_mountinfo(MS_CG_LIVE_MOUNTINFO, &buf, &cap))
		r = 3;
	if (!r && mount("none", dir, "tmpfs", 0, NULL))
		r = 77;
	if (!r && (cgroup_read_mountinfo(MS_CG_LIVE_MOUNTINFO, &buf, &cap) || !strstr(buf, dir)))
		r = 4;
	if (!r && (umount(dir) || cgroup_read_mountinfo(MS_CG_LIVE_MOUNTINFO, &buf, &cap) ||
		   strstr(buf, dir)))
		r = 5;
	rmdir(dir);
	free(buf);
	return r;
}

static void test_live_mountinfo_cache(void **state)
{
	pid_t pid;
	int st;

	(void)state;
	pid = fork();
	assert_true(pid >= 0);
	if (!pid)
		_exit(mountinfo_follows_mounts());
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	if (WEXITSTATUS(st) == 77) {
		fprintf(stderr, "SKIPPED (loudly): no mount namespace here (not root?)\n");
		skip();
	}
	assert_int_equal(WEXITSTATUS(st), 0);
}

static void test_values(void **state)
{
	struct ms_cg_value v;
	struct ms_cg_psi psi;
	uint64_t x;

	(void)state;
	assert_int_equal(cgroup__parse_limit("max\n", &v), 0);
	assert_int_equal(v.state, MS_CG_UNLIMITED);
	assert_int_equal(cgroup__parse_limit("9223372036854771712\n", &v), 0);
	assert_int_equal(v.state, MS_CG_UNLIMITED);
	assert_int_equal(cgroup__parse_limit("0\n", &v), 0);
	assert_int_equal(v.state, MS_CG_OK);
	assert_int_equal(cgroup__parse_limit("-1\n", &v), -EINVAL);
	assert_int_equal(cgroup__parse_limit("12x\n", &v), -EINVAL);
	assert_int_equal(cgroup__parse_limit("99999999999999999999999\n", &v), -EINVAL);
	assert_int_equal(cgroup__parse_limit("", &v), -EINVAL);

	assert_int_equal(cgroup__flat_key("oom 1\noom_kill 7\n", "oom_kill", &x), 0);
	assert_int_equal(x, 7);
	assert_int_equal(cgroup__flat_key("oom_kill_disable 0\noom_kill 3", "oom_kill", &x), 0);
	assert_int_equal(x, 3);
	assert_int_equal(cgroup__flat_key("oom 1\n", "oom_kill", &x), -ENOENT);
	assert_int_equal(cgroup__flat_key("oom_kill x\n", "oom_kill", &x), -EINVAL);
	assert_int_equal(cgroup__flat_key("oom_kill 1 2\n", "oom_kill", &x), -EINVAL);

	assert_int_equal(cgroup__parse_psi("some avg10=0.00 avg60=0.00 avg300=0.00 total=9\n", &psi),
			 0);
	assert_int_equal(psi.some_total_us.v, 9);
	assert_int_equal(psi.full_total_us.state, MS_CG_MISSING);
	assert_int_equal(cgroup__parse_psi("some avg10=100.00 avg60=0 total=1\n", &psi), 0);
	assert_int_equal(psi.some_avg10_centi.v, 10000);
	assert_int_equal(cgroup__parse_psi("some avg10=101.00 total=1\n", &psi), -EINVAL);
	assert_int_equal(cgroup__parse_psi("some avg10=1.5 total=1\n", &psi), -EINVAL);
	assert_int_equal(cgroup__parse_psi("full avg10=1.00 total=1\n", &psi), -EINVAL);
	assert_int_equal(cgroup__parse_psi("some avg10=1.00\n", &psi), -EINVAL);
}

static void test_gone_process_and_missing_mount(void **state)
{
	struct ms_cgroup_mem *cg = malloc(sizeof(*cg));
	struct ms_cgroup_env env = { FIX "v1-limited/proc", FIX "v1-limited/mountinfo", "" };
	struct ms_cgroup_env nomount = { FIX "v1-limited/proc", FIX "v2-unlimited/mountinfo", "" };

	(void)state;
	assert_int_equal(cgroup__read(&env, 999999, cg), -ESRCH);
	assert_int_equal(cgroup__read(&nomount, 4242, cg), -ENOENT);
	free(cg);
}

/* A node with many pods: a mountinfo of ~1 MiB, the cgroup mount last, is read whole. */
static void test_large_mountinfo(void **state)
{
	struct ms_cgroup_mem *cg = malloc(sizeof(*cg));
	char mi[] = "/tmp/test_cgroup_mountinfo.XXXXXX";
	struct ms_cgroup_env env = { FIX "v1-limited/proc", mi, FIX "v1-limited" };
	int fd = mkstemp(mi);
	FILE *f;

	(void)state;
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	for (int i = 0; i < 8000; i++)
		fprintf(f, "%d 26 0:%d / /var/lib/kubelet/pods/%08x-0000-4000-8000-000000000000/"
			"volumes/kubernetes.io~projected/kube-api-access-x rw,relatime - tmpfs tmpfs "
			"rw,size=1024k\n", 100 + i, 500 + i, i);
	fprintf(f, "34 30 0:31 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n");
	assert_int_equal(fclose(f), 0);
	assert_int_equal(cgroup__read(&env, 4242, cg), 0);
	assert_int_equal(cg->limit.v, 64 * MIB);
	unlink(mi);
	free(cg);
}

/* Files that exist but do not parse are ERROR with a reason, not MISSING, never 0. */
static void test_corrupt_files_are_errors(void **state)
{
	struct ms_cgroup_mem *cg = malloc(sizeof(*cg));
	char root[] = "/tmp/test_cgroup_root.XXXXXX", d[256], p[256], m[256];
	struct ms_cgroup_env env = { p, m, root };

	(void)state;
	assert_non_null(mkdtemp(root));
	snprintf(p, sizeof(p), "%s/proc", root);
	snprintf(m, sizeof(m), "%s/mountinfo", root);
	snprintf(d, sizeof(d), "%s/proc", root);
	assert_int_equal(mkdir(d, 0700), 0);
	snprintf(d, sizeof(d), "%s/proc/1", root);
	assert_int_equal(mkdir(d, 0700), 0);
	put(d, "cgroup", "0::/x\n");
	put(root, "mountinfo", "1 0 0:1 / /cg rw - cgroup2 cgroup2 rw\n");
	snprintf(d, sizeof(d), "%s/cg", root);
	assert_int_equal(mkdir(d, 0700), 0);
	snprintf(d, sizeof(d), "%s/cg/x", root);
	assert_int_equal(mkdir(d, 0700), 0);
	put(d, "memory.max", "12abc\n");
	put(d, "memory.current", "5\n");
	put(d, "memory.pressure", "garbage\n");
	put(d, "memory.events", "oom_kill x\n");
	assert_int_equal(cgroup__read(&env, 1, cg), 0);
	assert_na(&cg->limit, MS_CG_ERROR, "did not parse");
	assert_ok(&cg->usage, 5);
	assert_na(&cg->psi.some_avg10_centi, MS_CG_ERROR, "did not parse");
	assert_na(&cg->oom_kill, MS_CG_ERROR, "did not parse");
	assert_na(&cg->oom, MS_CG_MISSING, "does not report");
	assert_na(&cg->anon, MS_CG_MISSING, "no such cgroup file");
	free(cg);
	snprintf(d, sizeof(d), "rm -rf '%s'", root);
	assert_int_equal(system(d), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_v1_limited_matches_its_files),
		cmocka_unit_test(test_v2_container_through_host_mount),
		cmocka_unit_test(test_v2_unlimited_and_missing_are_not_zero),
		cmocka_unit_test(test_proc_cgroup_lines),
		cmocka_unit_test(test_resolve_dir),
		cmocka_unit_test(test_absolute),
		cmocka_unit_test(test_v2_in_cgroup_namespace),
		cmocka_unit_test(test_live_mountinfo_cache),
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_gone_process_and_missing_mount),
		cmocka_unit_test(test_large_mountinfo),
		cmocka_unit_test(test_corrupt_files_are_errors),
	};

	return cmocka_run_group_tests_name("cgroup", tests, NULL, NULL);
}
