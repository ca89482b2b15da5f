// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Runtime variables of stripped Go executables: for every release of the Go
 * matrix (tests/fixtures/gomatrix.mk), the code-based rules find in the plain
 * build exactly the address and size .symtab gives, and in the -s -w build of
 * the same source the same place within the same data section.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <gelf.h>
#include <libelf.h>

#include "target/goruntime.h"
#include "target/govars.h"

/* name's value (and size) in path's .symtab, or 0 */
static uint64_t symtab_sym(const char *path, const char *name, uint64_t *ret_size)
{
	Elf_Scn *scn = NULL;
	uint64_t addr = 0;
	int fd = open(path, O_RDONLY);
	Elf *elf;

	assert_true(fd >= 0);
	elf_version(EV_CURRENT);
	elf = elf_begin(fd, ELF_C_READ, NULL);
	assert_non_null(elf);
	while (!addr && (scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		Elf_Data *d;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_SYMTAB || !sh.sh_entsize)
			continue;
		d = elf_getdata(scn, NULL);
		for (size_t i = 0; d && i < d->d_size / sh.sh_entsize; i++) {
			GElf_Sym s;
			const char *n;

			if (gelf_getsym(d, (int)i, &s) && (n = elf_strptr(elf, sh.sh_link, s.st_name)) &&
			    !strcmp(n, name)) {
				addr = s.st_value;
				if (ret_size)
					*ret_size = s.st_size;
				break;
			}
		}
	}
	elf_end(elf);
	close(fd);
	return addr;
}

/*
 * Start of path's section called name, or (name NULL) of the one holding
 * addr, whose name goes to ret_name; 0 if none.
 */
static uint64_t section(const char *path, const char *name, uint64_t addr, char *ret_name,
			size_t len)
{
	Elf_Scn *scn = NULL;
	uint64_t start = 0;
	int fd = open(path, O_RDONLY);
	size_t shstrndx;
	Elf *elf;

	assert_true(fd >= 0);
	elf = elf_begin(fd, ELF_C_READ, NULL);
	assert_non_null(elf);
	assert_int_equal(elf_getshdrstrndx(elf, &shstrndx), 0);
	while ((scn = elf_nextscn(elf, scn))) {
		const char *n;
		GElf_Shdr sh;

		if (!gelf_getshdr(scn, &sh) || !(n = elf_strptr(elf, shstrndx, sh.sh_name)))
			continue;
		if (name ? !strcmp(n, name) : (sh.sh_flags & SHF_ALLOC) && addr >= sh.sh_addr &&
		    addr < sh.sh_addr + sh.sh_size) {
			start = sh.sh_addr;
			if (ret_name)
				snprintf(ret_name, len, "%s", n);
			break;
		}
	}
	elf_end(elf);
	close(fd);
	return start;
}

static uint64_t symtab_addr(const char *path, const char *name)
{
	return symtab_sym(path, name, NULL);
}

static uint64_t located(const char *path, enum govar v, uint64_t *ret_size)
{
	struct go_binary *b = go_binary__open(path);
	char why[GOVARS_REASON_LEN] = "";
	uint64_t addr = 0, size = 0;
	int err;

	assert_non_null(b);
	err = govars__locate(path, b, v, &addr, &size, why, sizeof(why));
	go_binary__close(b);
	if (err)
		fprintf(stderr, "%s: %s\n", path, why);
	if (ret_size)
		*ret_size = size;
	return err ? 0 : addr;
}

/* every release of the matrix, each variable, stripped and plain */
static void test_stripped_finds_what_symtab_says_in_every_release(void **state)
{
	const char *o = getenv("MS_BUILD") ?: "build";
	char dir[PATH_MAX], plain[PATH_MAX + 32], stripped[PATH_MAX + 32];
	char *releases[64], line[64];
	size_t n = 0;
	FILE *f;

	snprintf(dir, sizeof(dir), "%s/fixtures/gomatrix", o);
	snprintf(plain, sizeof(plain), "%s/releases", dir);
	f = fopen(plain, "r");
	assert_non_null(f);
	while (n < 64 && fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = 0;
		if (line[0])
			releases[n++] = strdup(line);
	}
	fclose(f);
	/* go1.19 and the eight releases after it (tests/fixtures/gomatrix.mk) */
	assert_int_equal(n, 9);
	for (size_t i = 0; i < n; i++) {
		snprintf(plain, sizeof(plain), "%s/%s/target", dir, releases[i]);
		snprintf(stripped, sizeof(stripped), "%s/%s/target-stripped", dir, releases[i]);
		assert_int_equal(symtab_addr(stripped, "runtime.allgs"), 0);	/* really stripped */
		for (int v = 0; v < GOVAR_NR; v++) {
			uint64_t size = 0, truth_size = 0, plain_size = 0, want;
			uint64_t truth = symtab_sym(plain, govar__name(v), &truth_size);

			/* 1.25 moved the size class table into internal/runtime/gc */
			if (!truth && v == GOVAR_CLASS_TO_SIZE)
				truth = symtab_sym(plain, "internal/runtime/gc.SizeClassToSize",
						   &truth_size);
			uint64_t found = located(stripped, v, &size);
			char sec[64] = "";

			/*
			 * Some linkers (go1.19) move the data sections when they drop the
			 * symbols: the variable keeps its place within its section.
			 */
			want = truth - section(plain, NULL, truth, sec, sizeof(sec)) +
			       section(stripped, sec, 0, NULL, 0);
			printf("%-10s %-26s .symtab 0x%lx (%lu B) in %s, stripped: 0x%lx expected, "
			       "found 0x%lx (%lu B)\n", releases[i], govar__name(v),
			       (unsigned long)truth, (unsigned long)truth_size, sec,
			       (unsigned long)want, (unsigned long)found, (unsigned long)size);
			assert_true(truth != 0);
			assert_int_equal(located(plain, v, &plain_size), truth);
			assert_int_equal(found, want);
			/* memstats', gcController's, the size classes' sizes: from the layout */
			if (v == GOVAR_MEMSTATS || v == GOVAR_CLASS_TO_SIZE ||
			    v == GOVAR_GCCONTROLLER) {
				assert_int_equal(size, 0);
			} else {
				assert_int_equal(plain_size, truth_size);
				assert_int_equal(size, truth_size);
			}
		}
		free(releases[i]);
	}
}

/*
 * Without .go.buildinfo (objcopy removed it, as some release binaries ship)
 * the file says no version, and govars__version() reads the one the
 * toolchain gave runtime.buildVersion: what `go env GOVERSION` says, for
 * every release; with buildinfo both agree.
 */
static void test_version_without_buildinfo_is_runtime_buildversion(void **state)
{
	const char *o = getenv("MS_BUILD") ?: "build";
	char path[PATH_MAX + 64], want[64], line[64];
	struct go_version v;
	struct go_binary *b;
	FILE *f, *rf;
	size_t n = 0;

	snprintf(path, sizeof(path), "%s/fixtures/gomatrix/releases", o);
	rf = fopen(path, "r");
	assert_non_null(rf);
	while (fgets(line, sizeof(line), rf)) {
		line[strcspn(line, "\n")] = 0;
		if (!line[0])
			continue;
		snprintf(path, sizeof(path), "%s/fixtures/gomatrix/%s/goversion", o, line);
		f = fopen(path, "r");
		assert_non_null(f);
		assert_non_null(fgets(want, sizeof(want), f));
		fclose(f);
		want[strcspn(want, "\n")] = 0;

		snprintf(path, sizeof(path), "%s/fixtures/gomatrix/%s/target-nobuildinfo", o, line);
		b = go_binary__open(path);
		assert_non_null(b);
		assert_int_equal(go_binary__version(b, &v), -ENOENT);
		assert_int_equal(govars__version(path, b, &v), 0);
		printf("%-10s without .go.buildinfo: %s (go env GOVERSION: %s)\n", line, v.str,
		       want);
		assert_string_equal(v.str, want);
		assert_int_equal(v.major, 1);
		/* recorded: the file's reader says it from now on */
		assert_int_equal(go_binary__version(b, &v), 0);
		assert_string_equal(v.str, want);
		go_binary__close(b);

		snprintf(path, sizeof(path), "%s/fixtures/gomatrix/%s/target-stripped", o, line);
		b = go_binary__open(path);
		assert_non_null(b);
		assert_int_equal(govars__version(path, b, &v), 0);
		assert_string_equal(v.str, want);
		go_binary__close(b);
		n++;
	}
	fclose(rf);
	assert_int_equal(n, 9);
}

/* a binary whose anchor function is missing, or that is not Go code at all */
static void test_missing_anchor_and_foreign_code_are_refused(void **state)
{
	const char *o = getenv("MS_BUILD") ?: "build";
	char path[PATH_MAX], why[GOVARS_REASON_LEN];
	struct go_binary *b;
	uint64_t addr = 0, size = 0;

	/* a C program passing for Go (goproc's impostor): no runtime functions */
	snprintf(path, sizeof(path), "%s/fixtures/goproc/impostor", o);
	b = go_binary__open(path);
	assert_non_null(b);
	assert_int_equal(govars__locate(path, b, GOVAR_ALLGLEN, &addr, &size, why, sizeof(why)), -ENOENT);
	assert_non_null(strstr(why, "runtime.allgadd"));
	assert_int_equal(addr, 0);
	go_binary__close(b);
	assert_string_equal(govar__name(GOVAR_MEMPROFILERATE), "runtime.MemProfileRate");
	assert_string_equal(govar__name(GOVAR_NR), "?");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stripped_finds_what_symtab_says_in_every_release),
		cmocka_unit_test(test_version_without_buildinfo_is_runtime_buildversion),
		cmocka_unit_test(test_missing_anchor_and_foreign_code_are_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
