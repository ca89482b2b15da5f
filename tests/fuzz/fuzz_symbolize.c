// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * fuzz_symbolize - the input is an ELF file a target process could map,
 * optionally followed by "MSDEBUG!" and a second ELF file: its separate
 * debug file. The module is opened and asked everything ms_elf__*()
 * answers; then a few file offsets are symbolised through a fresh symcache
 * twice (the second answer comes from the cache and must be the same).
 *
 * The debug part, when there is one, is planted where the symboliser looks:
 * under the module's build-id in the debug directory, and beside the module
 * under the names the seeds' .gnu_debuglink sections use. Nothing else is
 * in the private directory, so a hostile debuglink or build-id can only
 * lead to these files.
 */
#include <limits.h>

#include "fuzz_common.h"
#include "target/symbolize.h"

#define MARKER "MSDEBUG!"
#define MARKER_LEN 8

static const char *const beside[] = { "module.debug", "sym_fixture.debug",
				      "sym_fixture_nobid.debug" };
static char dir[PATH_MAX], path[PATH_MAX], debug_dir[PATH_MAX];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	snprintf(dir, sizeof(dir), "%s", fuzz_scratch_dir());
	snprintf(path, sizeof(path), "%s/module.so", dir);
	snprintf(debug_dir, sizeof(debug_dir), "%s/debug", dir);
	return 0;
}

/* Write the debug file where the module's build-id and debuglink point; return how many. */
static int plant_debug(const uint8_t *bid, int bid_len, const uint8_t *data, size_t size,
		       char paths[][PATH_MAX])
{
	char hex[2 * 64 + 1], sub[PATH_MAX];
	int i, n = 0;

	for (i = 0; i < (int)(sizeof(beside) / sizeof(beside[0])); i++) {
		snprintf(paths[n], PATH_MAX, "%s/%s", dir, beside[i]);
		fuzz_write_file(paths[n++], data, size);
	}
	if (bid_len < 2)
		return n;
	for (i = 0; i < bid_len; i++)
		snprintf(hex + 2 * i, 3, "%02x", bid[i]);
	mkdir(debug_dir, 0700);
	snprintf(sub, sizeof(sub), "%s/.build-id", debug_dir);
	mkdir(sub, 0700);
	snprintf(sub, sizeof(sub), "%s/.build-id/%.2s", debug_dir, hex);
	mkdir(sub, 0700);
	snprintf(paths[n], PATH_MAX, "%s/%s.debug", sub, hex + 2);
	fuzz_write_file(paths[n++], data, size);
	return n;
}


/* Returns the build-id's length (or <= 0) in bid. */
static int poke_elf(const uint8_t *data, size_t size, uint64_t *ret_func_off, uint8_t bid[64])
{
	static const char *const names[] = { "main", "malloc", "_start", "sym_leak_a" };
	uint8_t small[4], buf[256];
	uint64_t va, sz, off, back;
	struct ms_elf *e;
	size_t i;
	int r, bid_len;

	e = ms_elf__open(path);
	if (!e) {
		FUZZ_CHECK(errno > 0);
		return -1;
	}
	bid_len = ms_elf__build_id(e, bid, 64);
	FUZZ_CHECK(bid_len == -ENOENT || (bid_len > 0 && bid_len <= 64));
	if (bid_len > (int)sizeof(small))
		FUZZ_CHECK(ms_elf__build_id(e, small, sizeof(small)) == -ENOSPC);
	r = ms_elf__is_dyn(e);
	FUZZ_CHECK(r == 0 || r == 1);

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		r = ms_elf__find_func(e, names[i], &va, &sz);
		FUZZ_CHECK(r <= 0);
		if (r)
			continue;
		r = ms_elf__read_vaddr(e, va, buf, sizeof(buf));
		FUZZ_CHECK(r <= (int)sizeof(buf));
		if (ms_elf__vaddr_to_offset(e, va, &off))
			continue;
		*ret_func_off = off;
		/* Any answer will do on a hostile file; it must just not crash. */
		ms_elf__offset_to_vaddr(e, off, &back);
	}
	va = fuzz_elf_entry(data, size);
	if (!ms_elf__vaddr_to_offset(e, va, &off))
		ms_elf__offset_to_vaddr(e, off, &back);
	r = ms_elf__read_vaddr(e, va, buf, 16);
	FUZZ_CHECK(r <= 16);
	r = ms_elf__read_vaddr(e, va, buf, 0);
	FUZZ_CHECK(r <= 0);
	ms_elf__close(e);
	return bid_len;
}

static bool same_str(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct symcache_opts opts = { .debug_dir = debug_dir, .max_modules = 4 };
	char planted[8][PATH_MAX];
	uint64_t offs[6], func_off = 0;
	const uint8_t *mark, *dbg = NULL;
	size_t dbg_size = 0;
	struct symcache_stats st;
	struct ms_sym s1, s2;
	struct symcache *c;
	uint8_t bid[64];
	size_t i, n = 0;
	int r1, r2, bid_len, nplanted = 0;

	mark = memmem(data, size, MARKER, MARKER_LEN);
	if (mark) {
		dbg = mark + MARKER_LEN;
		dbg_size = size - (size_t)(dbg - data);
		size = (size_t)(mark - data);
	}
	fuzz_write_file(path, data, size);
	bid_len = poke_elf(data, size, &func_off, bid);
	if (dbg)
		nplanted = plant_debug(bid, bid_len, dbg, dbg_size, planted);

	c = symcache__new(&opts);
	FUZZ_CHECK(c);
	offs[n++] = 0;
	offs[n++] = func_off;
	offs[n++] = func_off + 3;
	offs[n++] = size / 2;
	offs[n++] = size ? size - 1 : 0;
	/* Any offset at all: the last 8 bytes of the input. */
	offs[n++] = size >= 8 ? fuzz_le(data, size, size - 8, 8) : 0;
	for (i = 0; i < n; i++) {
		r1 = symcache__lookup(c, path, NULL, offs[i], &s1);
		FUZZ_CHECK(r1 <= 0);
		FUZZ_CHECK(s1.module == path);
		if (!r1) {
			if (s1.name)
				FUZZ_CHECK(strlen(s1.name) < (1u << 30));
			if (s1.file)
				FUZZ_CHECK(strlen(s1.file) < (1u << 30));
			FUZZ_CHECK(s1.line >= 0);
		}
		r2 = symcache__lookup(c, path, "/nonexistent-root", offs[i], &s2);
		FUZZ_CHECK(r2 == r1);
		FUZZ_CHECK(same_str(s1.name, s2.name) && same_str(s1.file, s2.file));
		FUZZ_CHECK(s1.offset == s2.offset && s1.vaddr == s2.vaddr && s1.line == s2.line);
	}
	symcache__stats(c, &st);
	FUZZ_CHECK(st.lookups == 2 * n);
	FUZZ_CHECK(st.modules <= 1);
	FUZZ_CHECK(st.symbols <= MS_SYM_MAX_SYMBOLS);
	FUZZ_CHECK(st.hits + st.errors <= st.lookups);
	symcache__free(c);
	while (nplanted)
		unlink(planted[--nplanted]);
	return 0;
}
