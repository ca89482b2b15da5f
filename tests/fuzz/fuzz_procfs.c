// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * fuzz_procfs - the input is one /proc/PID file: its first byte picks
 * which (maps, status, stat, comm, cgroup), the rest is written as
 * <root>/<pid>/<file> and parsed. An accepted maps file must come back
 * sorted with start < end and findable by address; the other parsers'
 * outputs must be NUL-terminated and in range.
 */
#include <limits.h>

#include "fuzz_common.h"
#include "target/procfs.h"
#include "target/cgroup.h"

#define PID 4242

static const char *const files[] = { "maps", "status", "stat", "comm", "cgroup" };
static char root[PATH_MAX], paths[sizeof(files) / sizeof(files[0])][PATH_MAX];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char dir[PATH_MAX];
	size_t i;

	snprintf(root, sizeof(root), "%s", fuzz_scratch_dir());
	snprintf(dir, sizeof(dir), "%s/%d", root, PID);
	if (mkdir(dir, 0700)) {
		perror(dir);
		abort();
	}
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		snprintf(paths[i], sizeof(paths[i]), "%s/%s", dir, files[i]);
	return 0;
}

static void check_maps(void)
{
	struct ms_maps maps;
	const struct ms_map *m;
	size_t i;
	int r;

	r = procfs__read_maps(root, PID, &maps);
	FUZZ_CHECK(r == 0 || r == -EINVAL || r == -E2BIG);
	if (r) {
		FUZZ_CHECK(maps.v == NULL && maps.n == 0);
		return;
	}
	for (i = 0; i < maps.n; i++) {
		const struct ms_map *v = &maps.v[i];

		FUZZ_CHECK(v->start < v->end);
		FUZZ_CHECK(strlen(v->perms) == 4);
		if (v->path)
			FUZZ_CHECK(strlen(v->path) < (1u << 20));
		if (i)
			FUZZ_CHECK(maps.v[i - 1].start <= v->start);
		/* A hostile file may overlap mappings: find() owes us one that contains addr. */
		m = ms_maps__find(&maps, v->start);
		FUZZ_CHECK(m && m->start <= v->start && v->start < m->end);
		m = ms_maps__find(&maps, v->end - 1);
		if (m)
			FUZZ_CHECK(m->start <= v->end - 1 && v->end - 1 < m->end);
	}
	FUZZ_CHECK(ms_maps__find(&maps, 0) == NULL || maps.v[0].start == 0);
	ms_maps__free(&maps);
	FUZZ_CHECK(maps.v == NULL && maps.n == 0);
}

static void check_status(void)
{
	struct ms_proc_status st;
	int r = procfs__read_status(root, PID, &st);

	FUZZ_CHECK(r == 0 || r == -EINVAL || r == -E2BIG);
	if (r)
		return;
	FUZZ_CHECK(strlen(st.name) < sizeof(st.name));
	FUZZ_CHECK(st.tgid >= 0 && st.ppid >= 0);
}

static void check_stat(void)
{
	uint64_t ticks;
	int r = procfs__read_start_time(root, PID, &ticks);

	FUZZ_CHECK(r == 0 || r == -EINVAL || r == -E2BIG);
}

static void check_comm(void)
{
	char comm[MS_COMM_LEN], big[256];
	int r = procfs__read_comm(root, PID, comm, sizeof(comm));

	FUZZ_CHECK(r == 0 || r == -EINVAL || r == -E2BIG || r == -ERANGE);
	/* comm is printed raw: it may hold a '\n' of its own (prctl(PR_SET_NAME)). */
	if (!r)
		FUZZ_CHECK(strlen(comm) < sizeof(comm));
	r = procfs__read_comm(root, PID, big, sizeof(big));
	if (!r)
		FUZZ_CHECK(strlen(big) < sizeof(big));
}

static void check_cgroup(void)
{
	char path[PATH_MAX], tiny[8];
	int r = cgroup__unified_of(root, PID, path, sizeof(path));

	FUZZ_CHECK(r == 0 || r == -EINVAL || r == -ENODATA || r == -ENAMETOOLONG || r == -EFBIG);
	if (!r)
		FUZZ_CHECK(strlen(path) < sizeof(path));
	r = cgroup__unified_of(root, PID, tiny, sizeof(tiny));
	if (!r)
		FUZZ_CHECK(strlen(tiny) < sizeof(tiny));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static void (*const check[])(void) = {
		check_maps, check_status, check_stat, check_comm, check_cgroup,
	};
	size_t which;

	if (!size)
		return 0;
	which = data[0] % (sizeof(files) / sizeof(files[0]));
	fuzz_write_file(paths[which], data + 1, size - 1);
	check[which]();
	return 0;
}
