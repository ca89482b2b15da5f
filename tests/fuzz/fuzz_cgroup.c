// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * fuzz_cgroup - the memory cgroup parsers (target/cgroup.h) on hostile text:
 * the first byte picks one (0 /proc/PID/cgroup, 1 mountinfo, 2 memory.stat
 * style flat keys, 3 a limit file, 4 memory.pressure), the rest is the file.
 * A parsed /proc/PID/cgroup path also goes through container.c and is made
 * absolute under a few namespace roots.
 * Accepted output must be in range: paths NUL-terminated, absolute, within
 * the buffer and never climbing with "/../"; PSI averages at most 100 %.
 */
#include "fuzz_common.h"
#include "target/cgroup.h"
#include "target/container.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	return 0;
}

/* A container named by the path: a full id, a well-formed pod UID or none. */
static void check_container(const char *path)
{
	struct ms_container c;
	int r = container__from_cgroup_path(path, &c);

	FUZZ_CHECK(r == 0 || r == -ENOENT);
	FUZZ_CHECK(strlen(c.id) == (r ? 0 : MS_CONTAINER_ID_LEN));
	FUZZ_CHECK(strlen(c.pod_uid) == 0 || strlen(c.pod_uid) == MS_POD_UID_LEN);
	FUZZ_CHECK(c.runtime != NULL);
}

static void check_mountinfo(const char *text)
{
	static const char *const paths[] = { "/", "/a", "/a/b c", "/kubepods.slice/x.scope" };
	static const char *const nsroots[] = { "/", "/kubepods.slice/me.scope" };
	char dir[256];

	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
		for (int v = 1; v <= 2; v++) {
			int r = cgroup__resolve_dir(text, v, nsroots[i & 1], paths[i], dir,
						    sizeof(dir));

			FUZZ_CHECK(r == 0 || r == -ENOENT || r == -ENAMETOOLONG);
			if (r)
				continue;
			FUZZ_CHECK(strlen(dir) < sizeof(dir));
			FUZZ_CHECK(dir[0] != '\0');
		}
}

/* A namespace-relative path made absolute never climbs and stays in the buffer. */
static void check_absolute(const char *path)
{
	static const char *const nsroots[] = { "/", "/a", "/kubepods.slice/b/me.scope" };
	char abs[48];

	for (size_t i = 0; i < sizeof(nsroots) / sizeof(nsroots[0]); i++) {
		int r = cgroup__absolute(nsroots[i], path, abs, sizeof(abs));

		FUZZ_CHECK(r == 0 || r == -EXDEV || r == -EINVAL || r == -ENAMETOOLONG);
		if (r)
			continue;
		FUZZ_CHECK(abs[0] == '/' && strlen(abs) < sizeof(abs));
		FUZZ_CHECK(!strstr(abs, "/../") && strcmp(abs + strlen(abs) - (strlen(abs) >= 3 ? 3 : 0), "/.."));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ms_cg_value lim;
	struct ms_cg_psi psi;
	char *text, path[64];
	uint64_t x;
	int r, v;

	if (size < 1)
		return 0;
	text = malloc(size);
	if (!text)
		return 0;
	memcpy(text, data + 1, size - 1);
	text[size - 1] = '\0';
	switch (data[0] % 5) {
	case 0:
		r = cgroup__parse_proc_cgroup(text, &v, path, sizeof(path));
		FUZZ_CHECK(r == 0 || r == -ENOENT || r == -EINVAL || r == -ENAMETOOLONG);
		if (!r) {
			FUZZ_CHECK(v == 1 || v == 2);
			FUZZ_CHECK(path[0] == '/' && strlen(path) < sizeof(path));
			FUZZ_CHECK(!strchr(path, '\n'));
			check_container(path);
			check_absolute(path);
		}
		break;
	case 1:
		check_mountinfo(text);
		break;
	case 2:
		r = cgroup__flat_key(text, "oom_kill", &x);
		FUZZ_CHECK(r == 0 || r == -ENOENT || r == -EINVAL || r == -ERANGE);
		break;
	case 3:
		r = cgroup__parse_limit(text, &lim);
		FUZZ_CHECK(r == 0 || r == -EINVAL);
		if (!r)
			FUZZ_CHECK(lim.state == MS_CG_OK || lim.state == MS_CG_UNLIMITED);
		break;
	case 4:
		memset(&psi, 0, sizeof(psi));
		r = cgroup__parse_psi(text, &psi);
		FUZZ_CHECK(r == 0 || r == -EINVAL);
		if (!r) {
			FUZZ_CHECK(psi.some_avg10_centi.state == MS_CG_OK);
			FUZZ_CHECK(psi.some_avg10_centi.v <= 10000);
			FUZZ_CHECK(psi.full_avg10_centi.state != MS_CG_OK ||
				   psi.full_avg10_centi.v <= 10000);
		}
		break;
	}
	free(text);
	return 0;
}
