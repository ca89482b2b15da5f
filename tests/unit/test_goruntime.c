// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Reading real Go binaries built by tests/fixtures/goruntime.mk from
 * tests/fixtures/goruntime/leaky: plain (.symtab + DWARF), stripped (-s -w)
 * and PIE. Expected values come from the unstripped binary's .symtab and DWARF
 * (via libelf/libdw, independent of the code under test) and from
 * $(O)/fixtures/goruntime/expect.h, which make derives from the toolchain
 * (`go env GOVERSION`) and the Go sources (the line of `func leakHandler(`).
 * Corrupt inputs are copies patched in a temporary directory.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <elfutils/libdw.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fixtures/goruntime/expect.h"
#include "target/goruntime.h"

static char g_plain[512], g_stripped[512], g_pie[512], g_tmpdir[64];

static void fixture_path(char *buf, size_t len, const char *name)
{
	const char *o = getenv("MS_BUILD");

	snprintf(buf, len, "%s/fixtures/goruntime/%s", o && *o ? o : "build", name);
}

static void tmp_path(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s", g_tmpdir, name);
}

static int group_setup(void **state)
{
	fixture_path(g_plain, sizeof(g_plain), "leaky");
	fixture_path(g_stripped, sizeof(g_stripped), "leaky-stripped");
	fixture_path(g_pie, sizeof(g_pie), "leaky-pie");
	if (access(g_plain, R_OK) || access(g_stripped, R_OK) || access(g_pie, R_OK)) {
		fprintf(stderr, "goruntime fixtures missing under %s (set MS_BUILD)\n", g_plain);
		return -1;
	}
	snprintf(g_tmpdir, sizeof(g_tmpdir), "/tmp/ms-goruntime-XXXXXX");
	if (!mkdtemp(g_tmpdir))
		return -1;
	elf_version(EV_CURRENT);
	return 0;
}

static int group_teardown(void **state)
{
	const char *names[] = { "trunc", "patched", "go116" };
	char p[128];
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		tmp_path(p, sizeof(p), names[i]);
		unlink(p);
	}
	rmdir(g_tmpdir);
	return 0;
}

/* ---- independent ELF helpers (libelf), for expected values and patching ---- */

struct file_buf {
	uint8_t *data;
	size_t size;
};

static void file_read(const char *path, struct file_buf *ret)
{
	struct stat st;
	int fd = open(path, O_RDONLY);

	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	ret->size = st.st_size;
	ret->data = malloc(ret->size);
	assert_non_null(ret->data);
	assert_int_equal(pread(fd, ret->data, ret->size, 0), (ssize_t)ret->size);
	close(fd);
}

static void file_write(const char *path, const void *data, size_t size)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, size), (ssize_t)size);
	close(fd);
}

/* Value and size of a symbol in .symtab; false if absent. */
static bool symtab_lookup(const char *path, const char *name, uint64_t *ret_value,
			  uint64_t *ret_size)
{
	int fd = open(path, O_RDONLY);
	Elf *e = elf_begin(fd, ELF_C_READ, NULL);
	Elf_Scn *scn = NULL;
	bool found = false;

	assert_non_null(e);
	while (!found && (scn = elf_nextscn(e, scn))) {
		GElf_Shdr sh;
		Elf_Data *d;
		size_t i;

		gelf_getshdr(scn, &sh);
		if (sh.sh_type != SHT_SYMTAB)
			continue;
		d = elf_getdata(scn, NULL);
		for (i = 0; i < sh.sh_size / sh.sh_entsize; i++) {
			GElf_Sym sym;
			const char *n;

			gelf_getsym(d, (int)i, &sym);
			n = elf_strptr(e, sh.sh_link, sym.st_name);
			if (n && !strcmp(n, name)) {
				*ret_value = sym.st_value;
				*ret_size = sym.st_size;
				found = true;
				break;
			}
		}
	}
	elf_end(e);
	close(fd);
	return found;
}

struct section {
	uint64_t offset, size, addr;
	uint64_t shdr_offset;	/* file offset of its section header */
};

static bool section_find(const char *path, const char *name, struct section *ret)
{
	int fd = open(path, O_RDONLY);
	Elf *e = elf_begin(fd, ELF_C_READ, NULL);
	Elf_Scn *scn = NULL;
	GElf_Ehdr eh;
	size_t shstrndx;
	bool found = false;

	assert_non_null(e);
	gelf_getehdr(e, &eh);
	elf_getshdrstrndx(e, &shstrndx);
	while ((scn = elf_nextscn(e, scn))) {
		GElf_Shdr sh;

		gelf_getshdr(scn, &sh);
		if (strcmp(elf_strptr(e, shstrndx, sh.sh_name), name))
			continue;
		ret->offset = sh.sh_offset;
		ret->size = sh.sh_size;
		ret->addr = sh.sh_addr;
		ret->shdr_offset = eh.e_shoff + elf_ndxscn(scn) * eh.e_shentsize;
		found = true;
		break;
	}
	elf_end(e);
	close(fd);
	return found;
}

static void put_le(uint8_t *p, uint64_t v, unsigned size)
{
	unsigned i;

	for (i = 0; i < size; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_le(const uint8_t *p, unsigned size)
{
	uint64_t v = 0;
	unsigned i;

	for (i = 0; i < size; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static void expect_version(struct go_binary *b)
{
	struct go_version v;
	int maj = -1, min = -1, patch = 0;

	assert_int_equal(go_binary__version(b, &v), 0);
	assert_string_equal(v.str, GORT_GOVERSION);
	assert_true(sscanf(GORT_GOVERSION, "go%d.%d.%d", &maj, &min, &patch) >= 2);
	assert_int_equal(v.major, maj);
	assert_int_equal(v.minor, min);
	assert_int_equal(v.patch, patch);
}

/* ---- detection and version ---- */

/* The plain build reports the toolchain that built it and its module, from .go.buildinfo. */
static void test_plain_binary_reports_go_version_and_module(void **state)
{
	struct go_binary *b = go_binary__open(g_plain);

	assert_non_null(b);
	expect_version(b);
	assert_string_equal(go_binary__module_path(b), GORT_MODULE);
	assert_string_equal(go_binary__main_path(b), GORT_MODULE);
	assert_int_equal(go_binary__pclntab_status(b), 0);
	go_binary__close(b);
}

/* -s -w drops .symtab, yet version, module and pclntab are all still there. */
static void test_stripped_binary_keeps_version_and_pclntab(void **state)
{
	struct section s;
	uint64_t v, sz;
	struct go_binary *b;

	assert_false(section_find(g_stripped, ".symtab", &s));
	assert_false(symtab_lookup(g_stripped, "main.leakHandler", &v, &sz));
	b = go_binary__open(g_stripped);
	assert_non_null(b);
	expect_version(b);
	assert_string_equal(go_binary__module_path(b), GORT_MODULE);
	assert_int_equal(go_binary__pclntab_status(b), 0);
	go_binary__close(b);
}

/* A C program, a text file and a missing path are "not Go" / "no file", cleanly. */
static void test_non_go_files_are_rejected(void **state)
{
	char src[512];

	errno = 0;
	assert_null(go_binary__open("/bin/true"));
	assert_int_equal(errno, ENOEXEC);

	snprintf(src, sizeof(src), "tests/fixtures/goruntime/leaky/main.go");
	errno = 0;
	assert_null(go_binary__open(src));
	assert_int_equal(errno, ENOEXEC);

	errno = 0;
	assert_null(go_binary__open("/nonexistent/memsight-go"));
	assert_int_equal(errno, ENOENT);
}

/* A FIFO named as the executable is "not Go" at once: the open used to wait for a writer. */
static void test_fifo_is_rejected_without_blocking(void **state)
{
	char p[128];

	tmp_path(p, sizeof(p), "fifo");
	unlink(p);
	assert_int_equal(mkfifo(p, 0600), 0);
	errno = 0;
	assert_null(go_binary__open(p));
	assert_int_equal(errno, ENOEXEC);
	unlink(p);
}

/* ---- symbolisation ---- */

/*
 * The entry of main.leakHandler taken from the plain build's .symtab names,
 * in the stripped build, main.leakHandler at handler.go:<line of "func leakHandler(">.
 */
static void test_stripped_lookup_of_leak_handler(void **state)
{
	struct go_binary *b = go_binary__open(g_stripped);
	struct go_func_info fi, last;
	uint64_t entry, size;
	char file[512];

	assert_non_null(b);
	assert_true(symtab_lookup(g_plain, "main.leakHandler", &entry, &size));
	assert_true(size > 0);

	assert_int_equal(go_binary__lookup(b, entry, &fi), 0);
	assert_string_equal(fi.name, "main.leakHandler");
	assert_int_equal(fi.entry, entry);
	assert_true(fi.end >= entry + size);
	assert_non_null(fi.file);
	snprintf(file, sizeof(file), "%s", fi.file);
	assert_string_equal(basename(file), GORT_LEAK_FILE);
	assert_int_equal(fi.line, GORT_LEAK_LINE);

	/* its last byte still belongs to it, the byte before its entry does not */
	assert_int_equal(go_binary__lookup(b, entry + size - 1, &last), 0);
	assert_string_equal(last.name, "main.leakHandler");
	assert_int_equal(go_binary__lookup(b, entry - 1, &last), 0);
	assert_string_not_equal(last.name, "main.leakHandler");
	assert_true(last.end == entry);
	go_binary__close(b);
}

/* runtime.mallocgc/newproc1 found by name in the stripped build sit where .symtab says. */
static void test_stripped_find_func_matches_symtab(void **state)
{
	const char *names[] = { "runtime.mallocgc", "runtime.newproc1", "main.leakHandler",
				"main.main" };
	struct go_binary *b = go_binary__open(g_stripped);
	uint64_t entry, want, size;
	size_t i;

	assert_non_null(b);
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		assert_true(symtab_lookup(g_plain, names[i], &want, &size));
		entry = 0;
		assert_int_equal(go_binary__find_func(b, names[i], &entry), 0);
		assert_int_equal(entry, want);
	}
	assert_int_equal(go_binary__find_func(b, "main.noSuchFunc", &entry), -ENOENT);
	/* a prefix of a real name is not a match */
	assert_int_equal(go_binary__find_func(b, "runtime.malloc", &entry), -ENOENT);
	go_binary__close(b);
}

/*
 * The name pclntab gives a .symtab function: the linker drops the ".abi0" of
 * assembly bodies and, as runtime tracebacks do, shows brackets as "[...]"
 * (cmd/link funcNameForRuntime).
 */
static void runtime_name(const char *sym, char *buf, size_t len)
{
	const char *open = strchr(sym, '['), *close = strrchr(sym, ']');
	size_t n;

	if (open && close > open)
		snprintf(buf, len, "%.*s[...]%s", (int)(open - sym), sym, close + 1);
	else
		snprintf(buf, len, "%s", sym);
	n = strlen(buf);
	if (n > 5 && !strcmp(buf + n - 5, ".abi0"))
		buf[n - 5] = '\0';
}

struct fsym {
	char name[256];		/* runtime_name() */
	uint64_t value;
};

/*
 * Every sized function in the plain build's .symtab is named identically by a
 * stripped-binary lookup of its entry, and find_func on that name returns the
 * lowest entry of the functions sharing it (an assembly body and its
 * ABIInternal wrapper do).
 */
static void test_every_symtab_function_agrees_with_pclntab(void **state)
{
	struct go_binary *b = go_binary__open(g_stripped);
	int fd = open(g_plain, O_RDONLY);
	Elf *e = elf_begin(fd, ELF_C_READ, NULL);
	Elf_Scn *scn = NULL;
	struct fsym *syms = NULL;
	size_t n = 0, i, j, bad = 0, shared = 0;

	assert_non_null(b);
	assert_non_null(e);
	while ((scn = elf_nextscn(e, scn))) {
		GElf_Shdr sh;
		Elf_Data *d;

		gelf_getshdr(scn, &sh);
		if (sh.sh_type != SHT_SYMTAB)
			continue;
		d = elf_getdata(scn, NULL);
		syms = calloc(sh.sh_size / sh.sh_entsize, sizeof(*syms));
		assert_non_null(syms);
		for (i = 0; i < sh.sh_size / sh.sh_entsize; i++) {
			GElf_Sym sym;

			gelf_getsym(d, (int)i, &sym);
			if (GELF_ST_TYPE(sym.st_info) != STT_FUNC || sym.st_size == 0)
				continue;
			runtime_name(elf_strptr(e, sh.sh_link, sym.st_name), syms[n].name,
				     sizeof(syms[n].name));
			syms[n++].value = sym.st_value;
		}
	}
	assert_true(n > 1000);
	for (i = 0; i < n; i++) {
		struct go_func_info fi;
		uint64_t entry = 0, want = syms[i].value;

		for (j = 0; j < n; j++)
			if (!strcmp(syms[j].name, syms[i].name) && syms[j].value < want)
				want = syms[j].value;
		shared += want != syms[i].value;
		if (go_binary__lookup(b, syms[i].value, &fi) || strcmp(fi.name, syms[i].name) ||
		    fi.entry != syms[i].value) {
			fprintf(stderr, "lookup mismatch: %s\n", syms[i].name);
			bad++;
		}
		if (go_binary__find_func(b, syms[i].name, &entry) || entry != want) {
			fprintf(stderr, "find_func mismatch: %s\n", syms[i].name);
			bad++;
		}
	}
	assert_int_equal(bad, 0);
	assert_true(shared > 0);	/* the wrapper case was exercised */
	free(syms);
	elf_end(e);
	close(fd);
	go_binary__close(b);
}

/*
 * The CU holding pc: Go writes no .debug_aranges, which dwarf_addrdie() needs
 * in this libdw, so walk the CUs.
 */
static bool dwarf_cu_of(Dwarf *dw, uint64_t pc, Dwarf_Die *ret)
{
	Dwarf_Off off = 0, next;
	size_t hsz;

	while (dwarf_nextcu(dw, off, &next, &hsz, NULL, NULL, NULL) == 0) {
		if (dwarf_offdie(dw, off + hsz, ret) && dwarf_haspc(ret, pc) == 1)
			return true;
		off = next;
	}
	return false;
}

/* Go's DWARF line table (plain build) at pc, or -1. */
static int dwarf_line_at(Dwarf_Die *cu, uint64_t pc, const char **ret_file)
{
	Dwarf_Line *l = dwarf_getsrc_die(cu, pc);
	int line;

	if (!l || dwarf_lineno(l, &line))
		return -1;
	*ret_file = dwarf_linesrc(l, NULL, NULL);
	return line;
}

/*
 * For every byte of main.leakHandler (which has padded() inlined) and main.main,
 * file:line decoded from the stripped build's pcfile/pcln tables equal what the
 * plain build's DWARF line table says.
 */
static void test_stripped_lines_match_dwarf_of_plain_build(void **state)
{
	const char *fns[] = { "main.leakHandler", "main.main", "main.retained" };
	struct go_binary *b = go_binary__open(g_stripped);
	int fd = open(g_plain, O_RDONLY);
	Dwarf *dw = dwarf_begin(fd, DWARF_C_READ);
	size_t i, checked = 0, inlined = 0;

	assert_non_null(b);
	assert_non_null(dw);
	for (i = 0; i < sizeof(fns) / sizeof(fns[0]); i++) {
		uint64_t entry, size, pc;

		Dwarf_Die cu;

		assert_true(symtab_lookup(g_plain, fns[i], &entry, &size));
		assert_true(dwarf_cu_of(dw, entry, &cu));
		for (pc = entry; pc < entry + size; pc++) {
			struct go_func_info fi;
			const char *dfile = NULL;
			int dline = dwarf_line_at(&cu, pc, &dfile);

			assert_int_equal(go_binary__lookup(b, pc, &fi), 0);
			assert_string_equal(fi.name, fns[i]);
			assert_true(dline > 0);
			assert_int_equal(fi.line, dline);
			assert_non_null(fi.file);
			assert_string_equal(fi.file, dfile);
			checked++;
			/* padded()'s body line, reported inside leakHandler */
			if (fi.line == GORT_PADDED_LINE && !strcmp(fns[i], "main.leakHandler"))
				inlined++;
		}
	}
	assert_true(checked > 100);
	assert_true(inlined > 0);
	dwarf_end(dw);
	close(fd);
	go_binary__close(b);
}

/* A PIE keeps pclntab in .data.rel.ro.gopclntab and resolves like its own .symtab. */
static void test_pie_lookup_matches_its_symtab(void **state)
{
	struct go_binary *b = go_binary__open(g_pie);
	struct go_func_info fi;
	uint64_t entry, size, found;
	struct section s;

	assert_non_null(b);
	assert_true(section_find(g_pie, ".data.rel.ro.gopclntab", &s));
	assert_true(symtab_lookup(g_pie, "main.leakHandler", &entry, &size));
	assert_int_equal(go_binary__lookup(b, entry + 1, &fi), 0);
	assert_string_equal(fi.name, "main.leakHandler");
	assert_int_equal(fi.entry, entry);
	assert_int_equal(go_binary__find_func(b, "runtime.mallocgc", &found), 0);
	assert_true(symtab_lookup(g_pie, "runtime.mallocgc", &entry, &size));
	assert_int_equal(found, entry);

	/*
	 * The PIE's moduledata is found too (the file holds link-time addresses):
	 * every PC of mallocgc expands, ending in mallocgc, and some are inlined.
	 */
	assert_int_equal(go_binary__inline_status(b), 0);
	found = 0;
	for (uint64_t pc = entry; pc < entry + size; pc++) {
		struct go_frame fr[GO_INLINE_MAX];
		size_t n = 0;

		assert_int_equal(go_binary__lookup_frames(b, pc, fr, GO_INLINE_MAX, &n, NULL), 0);
		assert_string_equal(fr[n - 1].name, "runtime.mallocgc");
		found += n > 1;
	}
	assert_true(found > 0);
	go_binary__close(b);
}

/* ---- fallbacks ---- */

/*
 * With the buildinfo magic wiped, the plain build's version still comes from
 * runtime.buildVersion in .symtab (module info is lost); the stripped build
 * has no such symbol, so it is Go (pclntab) without a version.
 */
static void test_version_falls_back_to_buildversion_symbol(void **state)
{
	struct go_binary *b;
	struct go_version v;
	struct file_buf f;
	struct section s;
	char p[128];

	tmp_path(p, sizeof(p), "patched");

	file_read(g_plain, &f);
	assert_true(section_find(g_plain, ".go.buildinfo", &s));
	memset(f.data + s.offset, 0, 16);
	file_write(p, f.data, f.size);
	free(f.data);
	b = go_binary__open(p);
	assert_non_null(b);
	expect_version(b);
	assert_null(go_binary__module_path(b));
	go_binary__close(b);

	file_read(g_stripped, &f);
	assert_true(section_find(g_stripped, ".go.buildinfo", &s));
	memset(f.data + s.offset, 0, 16);
	file_write(p, f.data, f.size);
	free(f.data);
	b = go_binary__open(p);
	assert_non_null(b);
	assert_int_equal(go_binary__version(b, &v), -ENOENT);
	assert_int_equal(go_binary__pclntab_status(b), 0);
	go_binary__close(b);
}

/*
 * The pre-1.18 pointer format: rewrite the blob to point at the runtime.buildVersion
 * and runtime.modinfo string headers (flags 0 = little endian, no inline strings).
 * Module info, which only the blob carries, proves the pointers were followed.
 */
static void test_old_pointer_buildinfo_format(void **state)
{
	uint64_t vers_addr, mod_addr, size;
	struct go_binary *b;
	struct file_buf f;
	struct section s;
	char p[128];

	assert_true(symtab_lookup(g_plain, "runtime.buildVersion", &vers_addr, &size));
	assert_true(symtab_lookup(g_plain, "runtime.modinfo", &mod_addr, &size));
	assert_true(section_find(g_plain, ".go.buildinfo", &s));
	file_read(g_plain, &f);
	assert_int_equal(f.data[s.offset + 14], 8);
	f.data[s.offset + 15] = 0;
	put_le(f.data + s.offset + 16, vers_addr, 8);
	put_le(f.data + s.offset + 24, mod_addr, 8);
	tmp_path(p, sizeof(p), "patched");
	file_write(p, f.data, f.size);
	free(f.data);

	b = go_binary__open(p);
	assert_non_null(b);
	expect_version(b);
	assert_non_null(go_binary__module_path(b));
	assert_string_equal(go_binary__module_path(b), GORT_MODULE);
	go_binary__close(b);
}

/*
 * Without section headers the blob is found by scanning writable segments, but
 * .gopclntab can only be located by name: -ENOENT for lookups.
 */
static void test_no_section_headers(void **state)
{
	struct go_binary *b;
	struct go_func_info fi;
	struct file_buf f;
	uint64_t entry, size;
	char p[128];

	assert_true(symtab_lookup(g_plain, "main.leakHandler", &entry, &size));
	file_read(g_stripped, &f);
	put_le(f.data + offsetof(Elf64_Ehdr, e_shoff), 0, 8);
	put_le(f.data + offsetof(Elf64_Ehdr, e_shnum), 0, 2);
	put_le(f.data + offsetof(Elf64_Ehdr, e_shstrndx), 0, 2);
	tmp_path(p, sizeof(p), "patched");
	file_write(p, f.data, f.size);
	free(f.data);

	b = go_binary__open(p);
	assert_non_null(b);
	expect_version(b);
	assert_int_equal(go_binary__pclntab_status(b), -ENOENT);
	assert_int_equal(go_binary__lookup(b, entry, &fi), -ENOENT);
	assert_int_equal(go_binary__find_func(b, "runtime.mallocgc", &entry), -ENOENT);
	go_binary__close(b);
}

/* ---- hostile input ---- */

/*
 * Truncated copies of the stripped binary fail with EINVAL, not a crash or
 * "not Go": inside the ELF header, the section headers, .gopclntab, and the
 * last byte of .data (what follows it is page padding).
 */
static void test_truncated_binary_is_einval(void **state)
{
	size_t cuts[] = { 10, 100, 4096, 0, 0 };
	struct file_buf f;
	struct section s;
	char p[128];
	size_t i;

	file_read(g_stripped, &f);
	assert_true(section_find(g_stripped, ".gopclntab", &s));
	cuts[3] = s.offset + s.size / 2;
	assert_true(section_find(g_stripped, ".data", &s));
	cuts[4] = s.offset + s.size - 1;
	tmp_path(p, sizeof(p), "trunc");
	for (i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
		file_write(p, f.data, cuts[i]);
		errno = 0;
		assert_null(go_binary__open(p));
		assert_int_equal(errno, EINVAL);
	}
	free(f.data);
}

/* Write a copy of the stripped binary with fn applied to its pclntab bytes; open it. */
static struct go_binary *open_patched(void (*fn)(uint8_t *pcln, uint64_t size, void *arg),
				      void *arg)
{
	struct file_buf f;
	struct section s;
	char p[128];
	struct go_binary *b;

	file_read(g_stripped, &f);
	assert_true(section_find(g_stripped, ".gopclntab", &s));
	fn(f.data + s.offset, s.size, arg);
	tmp_path(p, sizeof(p), "patched");
	file_write(p, f.data, f.size);
	free(f.data);
	b = go_binary__open(p);
	assert_non_null(b);	/* still Go: the buildinfo blob is intact */
	return b;
}

static void set_magic(uint8_t *pcln, uint64_t size, void *arg)
{
	put_le(pcln, *(uint32_t *)arg, 4);
}

static void huge_nfunc(uint8_t *pcln, uint64_t size, void *arg)
{
	put_le(pcln + 8, 0x10000000, 8);
}

static void offsets_past_end(uint8_t *pcln, uint64_t size, void *arg)
{
	put_le(pcln + 8 + 7 * 8, size + 1, 8);	/* pclnOffset (1.18 layout, 64-bit) */
}

/* Every byte of the pc-value tables becomes a never-ending varint. */
static void smash_pctab(uint8_t *pcln, uint64_t size, void *arg)
{
	uint64_t pctab = get_le(pcln + 8 + 6 * 8, 8), functab = get_le(pcln + 8 + 7 * 8, 8);

	assert_true(pctab < functab && functab <= size);
	memset(pcln + pctab + 1, 0x80, functab - pctab - 1);
}

static void test_corrupt_pclntab_headers(void **state)
{
	uint32_t magic;
	struct go_binary *b;
	struct go_func_info fi;
	uint64_t entry, size, e2;

	assert_true(symtab_lookup(g_plain, "main.leakHandler", &entry, &size));

	/* Go 1.2-1.15 layout: recognised, not read */
	magic = 0xfffffffb;
	b = open_patched(set_magic, &magic);
	assert_int_equal(go_binary__pclntab_status(b), -ENOTSUP);
	assert_int_equal(go_binary__lookup(b, entry, &fi), -ENOTSUP);
	go_binary__close(b);

	/* not a pclntab at all */
	magic = 0x12345678;
	b = open_patched(set_magic, &magic);
	assert_int_equal(go_binary__pclntab_status(b), -EINVAL);
	assert_int_equal(go_binary__find_func(b, "main.leakHandler", &e2), -EINVAL);
	go_binary__close(b);

	/* a function count the section cannot hold */
	b = open_patched(huge_nfunc, NULL);
	assert_int_equal(go_binary__pclntab_status(b), -EINVAL);
	go_binary__close(b);

	/* a table offset past the end */
	b = open_patched(offsets_past_end, NULL);
	assert_int_equal(go_binary__pclntab_status(b), -EINVAL);
	assert_int_equal(go_binary__lookup(b, entry, &fi), -EINVAL);
	go_binary__close(b);

	/* Go 1.20's magic with the same layout reads the same */
	magic = 0xfffffff1;
	b = open_patched(set_magic, &magic);
	assert_int_equal(go_binary__lookup(b, entry, &fi), 0);
	assert_string_equal(fi.name, "main.leakHandler");
	assert_int_equal(fi.line, GORT_LEAK_LINE);
	go_binary__close(b);

	/* bad pc-value tables: names still resolve, file:line decoding fails */
	b = open_patched(smash_pctab, NULL);
	assert_int_equal(go_binary__pclntab_status(b), 0);
	assert_int_equal(go_binary__find_func(b, "main.leakHandler", &e2), 0);
	assert_int_equal(e2, entry);
	assert_int_equal(go_binary__lookup(b, entry, &fi), -EINVAL);
	go_binary__close(b);
}

/* .gopclntab's section header says 64 bytes: every table is then out of bounds. */
static void test_pclntab_cut_short_is_einval(void **state)
{
	struct go_binary *b;
	struct go_func_info fi;
	struct file_buf f;
	struct section s;
	uint64_t entry, size;
	char p[128];

	assert_true(symtab_lookup(g_plain, "main.leakHandler", &entry, &size));
	file_read(g_stripped, &f);
	assert_true(section_find(g_stripped, ".gopclntab", &s));
	put_le(f.data + s.shdr_offset + offsetof(Elf64_Shdr, sh_size), 64, 8);
	tmp_path(p, sizeof(p), "patched");
	file_write(p, f.data, f.size);
	free(f.data);

	b = go_binary__open(p);
	assert_non_null(b);
	expect_version(b);
	assert_int_equal(go_binary__pclntab_status(b), -EINVAL);
	assert_int_equal(go_binary__lookup(b, entry, &fi), -EINVAL);
	go_binary__close(b);
}

/*
 * Rewrite the stripped build's Go 1.18 pclntab in the Go 1.16/1.17 layout
 * (magic 0xfffffffa): no textStart word, functab entries and the first _func
 * field are pointer-sized absolute PCs. Names, cutab, filetab and pctab stay
 * byte for byte at their offsets; new functab and records replace the old.
 */
static void convert_to_go116(const uint8_t *src, uint64_t size, struct file_buf *ret)
{
	uint64_t nfunc = get_le(src + 8, 8), text = get_le(src + 24, 8);
	uint64_t funcname = get_le(src + 32, 8), ftab = get_le(src + 64, 8);
	uint64_t recs = ftab + (2 * nfunc + 1) * 8, i;
	uint8_t *d;

	assert_int_equal(get_le(src, 4), 0xfffffff0);
	assert_true(funcname >= 8 + 7 * 8);	/* the shorter header fits */
	ret->size = recs + nfunc * 40;
	ret->data = d = calloc(1, ret->size);
	assert_non_null(d);
	memcpy(d, src, ftab);
	put_le(d, 0xfffffffa, 4);
	/* words: nfunc, nfiles, funcname, cu, filetab, pctab, pcln */
	memmove(d + 8 + 2 * 8, src + 8 + 3 * 8, 5 * 8);
	for (i = 0; i <= nfunc; i++) {
		uint64_t pc = text + get_le(src + ftab + 8 * i, 4), off, rec = recs + 40 * i;

		put_le(d + ftab + 16 * i, pc, 8);
		if (i == nfunc)
			break;
		off = get_le(src + ftab + 8 * i + 4, 4);
		assert_true(ftab + off + 36 <= size);
		put_le(d + ftab + 16 * i + 8, rec - ftab, 8);
		put_le(d + rec, pc, 8);
		memcpy(d + rec + 8, src + ftab + off + 4, 32);	/* nameoff .. cuOffset */
	}
}

/* A minimal ELF holding only a .gopclntab section. */
static void write_pclntab_elf(const char *path, uint8_t *pcln, size_t n)
{
	static char shstr[] = "\0.gopclntab\0.shstrtab";
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	Elf *e = elf_begin(fd, ELF_C_WRITE, NULL);
	Elf64_Ehdr *eh;
	Elf64_Shdr *sh;
	Elf_Scn *scn;
	Elf_Data *d;

	assert_non_null(e);
	eh = elf64_newehdr(e);
	assert_non_null(eh);
	memcpy(eh->e_ident, ELFMAG, SELFMAG);
	eh->e_ident[EI_CLASS] = ELFCLASS64;
	eh->e_ident[EI_DATA] = ELFDATA2LSB;
	eh->e_ident[EI_VERSION] = EV_CURRENT;
	eh->e_type = ET_EXEC;
	eh->e_machine = EM_X86_64;
	eh->e_version = EV_CURRENT;

	scn = elf_newscn(e);
	d = elf_newdata(scn);
	d->d_buf = pcln;
	d->d_size = n;
	d->d_align = 32;
	d->d_type = ELF_T_BYTE;
	d->d_version = EV_CURRENT;
	sh = elf64_getshdr(scn);
	sh->sh_name = 1;
	sh->sh_type = SHT_PROGBITS;
	sh->sh_flags = SHF_ALLOC;
	sh->sh_addr = 0x4b0000;

	scn = elf_newscn(e);
	d = elf_newdata(scn);
	d->d_buf = shstr;
	d->d_size = sizeof(shstr);
	d->d_align = 1;
	d->d_type = ELF_T_BYTE;
	d->d_version = EV_CURRENT;
	sh = elf64_getshdr(scn);
	sh->sh_name = 12;
	sh->sh_type = SHT_STRTAB;
	eh->e_shstrndx = elf_ndxscn(scn);

	assert_true(elf_update(e, ELF_C_WRITE) > 0);
	elf_end(e);
	close(fd);
}

/*
 * The same functions in the Go 1.16/1.17 layout symbolise exactly as in the
 * 1.18 original: every function's entry and midpoint give the same name,
 * bounds, file and line. (No Go 1.16 toolchain here, hence the conversion.)
 */
static void test_go116_layout_reads_like_go118(void **state)
{
	struct file_buf f, conv;
	struct section s;
	struct go_binary *orig, *old;
	uint64_t nfunc, text, ftab, i, checked = 0, found, want, size;
	char p[128];

	file_read(g_stripped, &f);
	assert_true(section_find(g_stripped, ".gopclntab", &s));
	convert_to_go116(f.data + s.offset, s.size, &conv);
	tmp_path(p, sizeof(p), "go116");
	write_pclntab_elf(p, conv.data, conv.size);

	orig = go_binary__open(g_stripped);
	old = go_binary__open(p);
	assert_non_null(orig);
	assert_non_null(old);	/* Go by its .gopclntab alone */
	assert_int_equal(go_binary__pclntab_status(old), 0);
	nfunc = get_le(f.data + s.offset + 8, 8);
	text = get_le(f.data + s.offset + 24, 8);
	ftab = get_le(f.data + s.offset + 64, 8);
	for (i = 0; i < nfunc; i++) {
		uint64_t entry = text + get_le(f.data + s.offset + ftab + 8 * i, 4);
		uint64_t end = text + get_le(f.data + s.offset + ftab + 8 * (i + 1), 4);
		uint64_t pcs[2] = { entry, entry + (end - entry) / 2 };
		unsigned k;

		for (k = 0; k < 2; k++) {
			struct go_func_info a, b;

			assert_int_equal(go_binary__lookup(orig, pcs[k], &a), 0);
			assert_int_equal(go_binary__lookup(old, pcs[k], &b), 0);
			assert_string_equal(a.name, b.name);
			assert_int_equal(a.entry, b.entry);
			assert_int_equal(a.end, b.end);
			assert_int_equal(a.line, b.line);
			assert_true((!a.file && !b.file) || !strcmp(a.file, b.file));
			checked++;
		}
	}
	assert_int_equal(checked, 2 * nfunc);
	assert_int_equal(go_binary__find_func(old, "main.leakHandler", &found), 0);
	assert_true(symtab_lookup(g_plain, "main.leakHandler", &want, &size));
	assert_int_equal(found, want);
	go_binary__close(orig);
	go_binary__close(old);
	free(conv.data);
	free(f.data);
}

static uint64_t xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/*
 * Random byte damage to the header, the function table and anywhere else in
 * .gopclntab (fixed seed): every call returns 0 or a documented -errno, and
 * what a successful lookup returns is readable (valgrind checks the reads).
 */
static void test_random_pclntab_damage_never_crashes(void **state)
{
	const char *names[] = { "main.leakHandler", "runtime.mallocgc", "main.main" };
	uint64_t seed = 0x9e3779b97f4a7c15ull, pcs[3], size;
	size_t round, i, ok = 0, einval = 0;
	struct file_buf f;
	struct section s;
	char p[128];

	for (i = 0; i < 3; i++)
		assert_true(symtab_lookup(g_plain, names[i], &pcs[i], &size));
	file_read(g_stripped, &f);
	assert_true(section_find(g_stripped, ".gopclntab", &s));
	tmp_path(p, sizeof(p), "patched");
	for (round = 0; round < 60; round++) {
		uint8_t *pcln = f.data + s.offset, saved[12];
		uint64_t where[12], functab = get_le(pcln + 8 + 7 * 8, 8);
		struct go_binary *b;

		for (i = 0; i < 12; i++) {
			if (i < 2)
				where[i] = xorshift(&seed) % 72;
			else if (i < 6)
				where[i] = functab + xorshift(&seed) % (s.size - functab);
			else
				where[i] = xorshift(&seed) % s.size;
		}
		for (i = 0; i < 12; i++) {
			saved[i] = pcln[where[i]];
			pcln[where[i]] = (uint8_t)xorshift(&seed);
		}
		file_write(p, f.data, f.size);
		for (i = 12; i-- > 0;)
			pcln[where[i]] = saved[i];

		b = go_binary__open(p);
		assert_non_null(b);
		for (i = 0; i < 3; i++) {
			struct go_func_info fi;
			uint64_t e;
			int r = go_binary__lookup(b, pcs[i] + 3, &fi);

			assert_true(r == 0 || r == -ENOENT || r == -EINVAL || r == -ENOTSUP);
			if (r == 0) {
				ok++;
				assert_true(strlen(fi.name) < s.size);
				assert_true(!fi.file || strlen(fi.file) < s.size);
			}
			einval += r == -EINVAL;
			r = go_binary__find_func(b, names[i], &e);
			assert_true(r == 0 || r == -ENOENT || r == -EINVAL || r == -ENOTSUP);
		}
		go_binary__close(b);
	}
	free(f.data);
	/* both outcomes happened: the damage was seen, and often harmless */
	assert_true(ok > 0);
	assert_true(einval > 0);
}

/* ---- inline expansion against runtime.CallersFrames --------------------- */

#define INL_MAX_PCS 64

/* One runtime.Callers stack of the goinline fixture and what CallersFrames said. */
struct inl_stack {
	size_t n;
	uint64_t pc[INL_MAX_PCS];
	char func[INL_MAX_PCS][128];
	char file[INL_MAX_PCS][256];
	int line[INL_MAX_PCS];
};

static void goinline_path(char *buf, size_t len, const char *rel)
{
	const char *o = getenv("MS_BUILD");

	snprintf(buf, len, "%s/fixtures/goinline/%s", o && *o ? o : "build", rel);
}

/* Parse a .frames file: stacks separated by blank lines. Returns the count. */
static size_t read_frames(const char *path, struct inl_stack *st, size_t max)
{
	FILE *f = fopen(path, "r");
	char line[512];
	size_t n = 0;

	assert_non_null(f);
	memset(st, 0, max * sizeof(*st));
	while (fgets(line, sizeof(line), f)) {
		struct inl_stack *s = &st[n];
		unsigned long long pc;

		if (line[0] == '\n') {
			if (s->n)
				n++;
			assert_true(n < max);
			continue;
		}
		assert_true(s->n < INL_MAX_PCS);
		assert_int_equal(sscanf(line, "%llx\t%127[^\t]\t%255[^\t]\t%d", &pc,
					s->func[s->n], s->file[s->n], &s->line[s->n]), 4);
		s->pc[s->n++] = pc;
	}
	fclose(f);
	if (st[n].n)
		n++;
	return n;
}

/*
 * Walk one stack as memsight does: expand the physical PC at i (the call is
 * at pc - 1) into its inlined frames, which must be the next CallersFrames
 * frames, each outer one at the PC runtime.Callers recorded for it (its call
 * site + 1); then continue after them. Returns the deepest expansion seen.
 */
static size_t check_stack(struct go_binary *b, const struct inl_stack *s, const char *what)
{
	size_t i = 0, deepest = 0;

	while (i < s->n) {
		struct go_frame fr[16];
		struct go_func_info fi;
		size_t n = 0, j;
		int r = go_binary__lookup_frames(b, s->pc[i] - 1, fr, 16, &n, &fi);

		if (r)
			fail_msg("%s: pc %#lx: %d", what, (unsigned long)s->pc[i], r);
		assert_true(n >= 1 && i + n <= s->n);
		for (j = 0; j < n; j++) {
			if (strcmp(fr[j].name, s->func[i + j]) || !fr[j].file ||
			    strcmp(fr[j].file, s->file[i + j]) || fr[j].line != s->line[i + j])
				fail_msg("%s: pc %#lx frame %zu: %s %s:%d, CallersFrames: %s %s:%d",
					 what, (unsigned long)s->pc[i], j, fr[j].name,
					 fr[j].file ?: "?", fr[j].line, s->func[i + j],
					 s->file[i + j], s->line[i + j]);
			assert_int_equal(fr[j].inlined, j + 1 < n);
			if (j > 0)
				assert_int_equal(fr[j].pc + 1, s->pc[i + j]);
		}
		assert_string_equal(fi.name, fr[n - 1].name);
		assert_true(fi.entry <= s->pc[i] - 1 && s->pc[i] - 1 < fi.end);
		deepest = n > deepest ? n : deepest;
		i += n;
	}
	return deepest;
}

/*
 * For every release of the matrix, plain and stripped: the frames our reader
 * expands from .gopclntab are exactly runtime.CallersFrames' for the same
 * PCs, in the program that recorded them. inner/middle/outer give four
 * frames at one PC, the method chain and the closure three.
 */
static void test_inline_frames_match_callersframes(void **state)
{
	static const char *const kinds[] = { "target", "target-stripped" };
	static const size_t want_depth[] = { 4, 3, 3 };
	char rel[64], path[512];
	FILE *f;
	size_t nrel = 0;

	goinline_path(path, sizeof(path), "releases");
	f = fopen(path, "r");
	assert_non_null(f);
	while (fgets(rel, sizeof(rel), f)) {
		rel[strcspn(rel, "\n")] = '\0';
		for (size_t k = 0; k < 2; k++) {
			static struct inl_stack st[4];
			char bin[256], what[256];
			struct go_binary *b;
			size_t n;

			snprintf(bin, sizeof(bin), "%s/%s", rel, kinds[k]);
			snprintf(what, sizeof(what), "%s", bin);
			goinline_path(path, sizeof(path), bin);
			b = go_binary__open(path);
			assert_non_null(b);
			assert_int_equal(go_binary__inline_status(b), 0);
			strcat(path, ".frames");
			n = read_frames(path, st, 4);
			assert_int_equal(n, 3);
			for (size_t i = 0; i < n; i++) {
				size_t d = check_stack(b, &st[i], what);

				if (d != want_depth[i])
					fail_msg("%s: stack %zu: deepest expansion %zu, want %zu",
						 what, i, d, want_depth[i]);
			}
			go_binary__close(b);
		}
		nrel++;
	}
	fclose(f);
	assert_true(nrel >= 2);
}

/* The line of the .frames file that names func (first stack), its PC. */
static uint64_t truth_pc(const char *rel_bin, const char *func)
{
	static struct inl_stack st[4];
	char path[512];
	size_t n, i, j;

	goinline_path(path, sizeof(path), rel_bin);
	strcat(path, ".frames");
	n = read_frames(path, st, 4);
	for (i = 0; i < n; i++)
		for (j = 0; j < st[i].n; j++)
			if (!strcmp(st[i].func[j], func))
				return st[i].pc[j];
	fail_msg("%s not in %s", func, path);
	return 0;
}

/* A PC outside inlined code is one frame, the real function, as go_binary__lookup has it. */
static void test_pc_outside_inlined_code_is_one_frame(void **state)
{
	char path[512];
	struct go_binary *b;
	struct go_func_info fi, li;
	struct go_frame fr[8];
	uint64_t pc = truth_pc("go1.27.4/target-stripped", "main.main") - 1;
	size_t n = 0;

	goinline_path(path, sizeof(path), "go1.27.4/target-stripped");
	b = go_binary__open(path);
	assert_non_null(b);
	assert_int_equal(go_binary__lookup_frames(b, pc, fr, 8, &n, &fi), 0);
	assert_int_equal(n, 1);
	assert_false(fr[0].inlined);
	assert_int_equal(go_binary__lookup(b, pc, &li), 0);
	assert_string_equal(fr[0].name, "main.main");
	assert_string_equal(fr[0].name, li.name);
	assert_string_equal(fr[0].file, li.file);
	assert_int_equal(fr[0].line, li.line);
	/* max 1: only the real function; max 0: -EINVAL */
	pc = truth_pc("go1.27.4/target-stripped", "main.inner") - 1;
	assert_int_equal(go_binary__lookup_frames(b, pc, fr, 1, &n, NULL), 0);
	assert_int_equal(n, 1);
	assert_string_equal(fr[0].name, "main.viaFuncs");
	assert_int_equal(go_binary__lookup_frames(b, pc, fr, 0, &n, NULL), -EINVAL);
	go_binary__close(b);
}

/* File offset of runtime.moduledata in a stripped 64-bit binary: the word holding .gopclntab's address. */
static uint64_t moduledata_off(const struct file_buf *f, const char *path)
{
	struct section pcln, nd;
	uint64_t off;

	assert_true(section_find(path, ".gopclntab", &pcln));
	assert_true(section_find(path, ".noptrdata", &nd));
	for (off = nd.offset; off + 8 <= nd.offset + nd.size; off += 8)
		if (get_le(f->data + off, 8) == pcln.addr &&
		    get_le(f->data + off + 8, 8) > pcln.addr)
			return off;
	fail_msg("no moduledata in %s", path);
	return 0;
}

static struct go_binary *open_patched_file(const struct file_buf *f)
{
	char p[128];
	struct go_binary *b;

	tmp_path(p, sizeof(p), "patched");
	file_write(p, f->data, f->size);
	b = go_binary__open(p);
	assert_non_null(b);
	return b;
}

/*
 * Damaged inline data: moduledata not found (inline expansion is unavailable
 * with -ENOENT, lookups still give the real function), go:func.* cut short
 * (the inline tree is out of bounds: -EINVAL), random bytes in .gopclntab
 * where 1.27 keeps go:func.* (only documented errors; never a crash).
 */
static void test_damaged_inline_data(void **state)
{
	char path[512];
	struct file_buf f;
	struct go_binary *b;
	struct go_frame fr[8];
	struct go_func_info fi;
	uint64_t md, pc, seed = 0x2545f4914f6cdd1dull;
	struct section pcln;
	size_t n = 0, ok = 0;

	goinline_path(path, sizeof(path), "go1.19/target-stripped");
	pc = truth_pc("go1.19/target-stripped", "main.inner") - 1;
	file_read(path, &f);
	md = moduledata_off(&f, path);
	assert_true(section_find(path, ".gopclntab", &pcln));

	put_le(f.data + md, 0, 8);	/* pcHeader: this is no longer our moduledata */
	b = open_patched_file(&f);
	assert_int_equal(go_binary__inline_status(b), -ENOENT);
	assert_int_equal(go_binary__lookup_frames(b, pc, fr, 8, &n, &fi), 0);
	assert_int_equal(n, 1);
	assert_string_equal(fr[0].name, "main.viaFuncs");
	go_binary__close(b);
	put_le(f.data + md, pcln.addr, 8);

	/* 1.19: gofunc is word 38; 16 bytes before .gopclntab leave no room for any tree */
	put_le(f.data + md + 38 * 8, pcln.addr - 16, 8);
	b = open_patched_file(&f);
	assert_int_equal(go_binary__inline_status(b), 0);
	assert_int_equal(go_binary__lookup_frames(b, pc, fr, 8, &n, &fi), -EINVAL);
	assert_int_equal(go_binary__lookup(b, pc, &fi), 0);
	go_binary__close(b);
	free(f.data);

	goinline_path(path, sizeof(path), "go1.27.4/target-stripped");
	pc = truth_pc("go1.27.4/target-stripped", "main.inner") - 1;
	file_read(path, &f);
	assert_true(section_find(path, ".gopclntab", &pcln));
	for (int round = 0; round < 40; round++) {
		uint64_t where[16];
		uint8_t saved[16];
		int i, r;

		for (i = 0; i < 16; i++) {
			where[i] = pcln.offset + 72 + xorshift(&seed) % (pcln.size - 72);
			saved[i] = f.data[where[i]];
			f.data[where[i]] = (uint8_t)xorshift(&seed);
		}
		b = open_patched_file(&f);
		for (i = 16; i-- > 0;)
			f.data[where[i]] = saved[i];
		r = go_binary__lookup_frames(b, pc, fr, 8, &n, &fi);
		assert_true(r == 0 || r == -ENOENT || r == -EINVAL || r == -ELOOP);
		if (r == 0) {
			ok++;
			assert_true(n >= 1 && n <= 8);
			for (size_t j = 0; j < n; j++)
				assert_true(strlen(fr[j].name) < pcln.size);
		}
		go_binary__close(b);
	}
	free(f.data);
	assert_true(ok > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_binary_reports_go_version_and_module),
		cmocka_unit_test(test_stripped_binary_keeps_version_and_pclntab),
		cmocka_unit_test(test_non_go_files_are_rejected),
		cmocka_unit_test(test_fifo_is_rejected_without_blocking),
		cmocka_unit_test(test_stripped_lookup_of_leak_handler),
		cmocka_unit_test(test_stripped_find_func_matches_symtab),
		cmocka_unit_test(test_every_symtab_function_agrees_with_pclntab),
		cmocka_unit_test(test_stripped_lines_match_dwarf_of_plain_build),
		cmocka_unit_test(test_pie_lookup_matches_its_symtab),
		cmocka_unit_test(test_version_falls_back_to_buildversion_symbol),
		cmocka_unit_test(test_old_pointer_buildinfo_format),
		cmocka_unit_test(test_no_section_headers),
		cmocka_unit_test(test_truncated_binary_is_einval),
		cmocka_unit_test(test_corrupt_pclntab_headers),
		cmocka_unit_test(test_pclntab_cut_short_is_einval),
		cmocka_unit_test(test_go116_layout_reads_like_go118),
		cmocka_unit_test(test_random_pclntab_damage_never_crashes),
		cmocka_unit_test(test_inline_frames_match_callersframes),
		cmocka_unit_test(test_pc_outside_inlined_code_is_one_frame),
		cmocka_unit_test(test_damaged_inline_data),
	};

	return cmocka_run_group_tests_name("goruntime", tests, group_setup, group_teardown);
}
