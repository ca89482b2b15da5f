// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * fuzz_goruntime - the input is an executable memsight checks for Go:
 * open it, read the toolchain version and module info, then look up the
 * entry point, a few runtime functions by name and an arbitrary pc in
 * .gopclntab. Every string handed back must be NUL-terminated, every
 * lookup must land in [entry, end) of the function it names; and the
 * runtime variables are located from its code (govars.c) or refused. Each
 * pc is also expanded into its inlined frames (go_binary__lookup_frames).
 */
#include <limits.h>

#include "fuzz_common.h"
#include "target/goruntime.h"
#include "target/govars.h"

static char path[PATH_MAX];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	snprintf(path, sizeof(path), "%s/gobin", fuzz_scratch_dir());
	return 0;
}

/*
 * The inline expansion of pc: frames innermost first, the last one the real
 * function that go_binary__lookup() names, all strings readable, each
 * frame's pc inside that function.
 */
static void check_frames(struct go_binary *b, uint64_t pc)
{
	struct go_frame fr[8];
	struct go_func_info fi, li;
	size_t n = 0, i;
	int r = go_binary__lookup_frames(b, pc, fr, 8, &n, &fi);

	FUZZ_CHECK(r == 0 || r == -ENOENT || r == -EINVAL || r == -ELOOP || r == -ENOTSUP);
	if (r)
		return;
	FUZZ_CHECK(n >= 1 && n <= 8);
	FUZZ_CHECK(go_binary__lookup(b, pc, &li) == 0 && li.entry == fi.entry);
	FUZZ_CHECK(!strcmp(fr[n - 1].name, li.name) && !fr[n - 1].inlined);
	for (i = 0; i < n; i++) {
		FUZZ_CHECK(fr[i].name && strlen(fr[i].name) < GO_PCLNTAB_MAX);
		FUZZ_CHECK(!fr[i].file || strlen(fr[i].file) < GO_PCLNTAB_MAX);
		FUZZ_CHECK(fr[i].line >= 0 && fi.entry <= fr[i].pc && fr[i].pc < fi.end);
		FUZZ_CHECK(fr[i].inlined == (i + 1 < n));
	}
}

static void check_lookup(struct go_binary *b, uint64_t pc, int status)
{
	struct go_func_info fi;
	int r = go_binary__lookup(b, pc, &fi);

	if (status) {
		FUZZ_CHECK(r == status);
		return;
	}
	FUZZ_CHECK(r == 0 || r == -ENOENT || r == -EINVAL);
	check_frames(b, pc);
	if (r)
		return;
	FUZZ_CHECK(fi.name && strlen(fi.name) < GO_PCLNTAB_MAX);
	FUZZ_CHECK(fi.entry <= pc && pc < fi.end);
	if (fi.file)
		FUZZ_CHECK(strlen(fi.file) < GO_PCLNTAB_MAX);
	FUZZ_CHECK(fi.line >= 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const names[] = {
		"runtime.mallocgc", "main.main", "runtime.goexit", "main.leakHandler",
	};
	struct go_version v;
	struct go_binary *b;
	const char *s;
	uint64_t entry;
	size_t i;
	int r, st;

	fuzz_write_file(path, data, size);
	b = go_binary__open(path);
	if (!b) {
		FUZZ_CHECK(errno == ENOEXEC || errno == EINVAL || errno == ENOMEM);
		return 0;
	}
	r = go_binary__version(b, &v);
	FUZZ_CHECK(r == 0 || r == -ENOENT);
	if (!r) {
		FUZZ_CHECK(v.str && strlen(v.str) < GO_VERSION_MAX && v.str[0]);
		FUZZ_CHECK(v.major >= 0 && v.minor >= 0 && v.patch >= 0);
	}
	s = go_binary__main_path(b);
	if (s)
		FUZZ_CHECK(strlen(s) <= GO_MODINFO_MAX);
	s = go_binary__module_path(b);
	if (s)
		FUZZ_CHECK(strlen(s) <= GO_MODINFO_MAX);

	st = go_binary__pclntab_status(b);
	FUZZ_CHECK(st == 0 || st == -ENOENT || st == -ENOTSUP || st == -EFBIG || st == -EINVAL);
	r = go_binary__inline_status(b);
	FUZZ_CHECK(st ? r == st : (r == 0 || r == -ENOENT || r == -ENOTSUP || r == -EFBIG ||
				   r == -EINVAL));
	check_lookup(b, fuzz_elf_entry(data, size), st);
	check_lookup(b, size >= 8 ? fuzz_le(data, size, size - 8, 8) : 0, st);
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		r = go_binary__find_func(b, names[i], &entry);
		if (st) {
			FUZZ_CHECK(r == st);
			continue;
		}
		FUZZ_CHECK(r == 0 || r == -ENOENT || r == -EINVAL);
		if (r)
			continue;
		check_lookup(b, entry, 0);
		check_lookup(b, entry + 1, 0);
		check_lookup(b, entry - 1, 0);
		/* inside the body, where calls are inlined */
		check_lookup(b, entry + 8 + size % 512, 0);
	}
	for (int v = 0; v < GOVAR_NR; v++) {
		char why[GOVARS_REASON_LEN];
		uint64_t addr, vsize;

		r = govars__locate(path, b, v, &addr, &vsize, why, sizeof(why));
		FUZZ_CHECK(r == 0 || r == -ENOENT || r == -ENOTSUP || r == -EINVAL ||
			   r == -ENOMEM);
		FUZZ_CHECK(strlen(why) < sizeof(why));
		if (!r)
			FUZZ_CHECK(addr != 0 && vsize <= 256 * 16);
	}
	/* the version, from the file's own data when .go.buildinfo says none */
	r = govars__version(path, b, &v);
	FUZZ_CHECK(r == 0 || r == -ENOENT);
	if (!r)
		FUZZ_CHECK(v.str && strlen(v.str) < GO_VERSION_MAX);
	go_binary__close(b);
	return 0;
}
