// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Fixtures are built by tests/fixtures/symbolize.mk into
 * $MS_BUILD/fixtures/symbolize/ from tests/fixtures/symbolize/sym_fixture.c
 * (+ a C++ file): plain, non-PIE, no-build-id, stripped copies whose debug
 * file is found each way the symboliser knows (build-id tree, debuglink in
 * <dir>/.debug/, beside the binary by CRC, gdb's global dir), compressed
 * DWARF, and truncated/garbage files. Addresses come from the plain build
 * (ms_elf__find_func) and expected lines from markers in the source text.
 * ELF files with hostile sections are written inline by craft_elf(), so
 * each test shows the bytes it feeds. The inline-frame tests use
 * inl_fixture (-O2, always_inline helpers) and find their addresses by the
 * calls to marker() in its machine code, not by its DWARF.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <cmocka.h>

#include "symfix.h"
#include "target/symbolize.h"

#define SRC "tests/fixtures/symbolize/sym_fixture.c"
#define INL_SRC "tests/fixtures/symbolize/inl_fixture.c"
#define INL_CXX_SRC "tests/fixtures/symbolize/inl_fixture_cxx.cc"
#define BUMP_MANGLED "_ZNK6ms_inl3box4bumpEi"
#define LIBC "/lib/x86_64-linux-gnu/libc.so.6"
#define TWICE_MANGLED "_ZN6ms_fix5twiceIiEET_S1_"
#define POKE_MANGLED "_ZNK6ms_fix6widget4pokeEi"

static char tmpdir[] = "/tmp/ms-symtest-XXXXXX";

static const char *tmp(const char *name)
{
	static char bufs[4][PATH_MAX];
	static int next;
	char *p = bufs[next++ % 4];

	snprintf(p, PATH_MAX, "%s/%s", tmpdir, name);
	return p;
}

/* 1-based line of the fixture source src that holds marker */
static int source_line_in(const char *src, const char *marker)
{
	FILE *f = fopen(src, "r");
	char line[512];
	int n = 0;

	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		n++;
		if (strstr(line, marker)) {
			fclose(f);
			return n;
		}
	}
	fclose(f);
	fail_msg("marker %s not in %s", marker, src);
	return 0;
}

static int source_line(const char *marker)
{
	return source_line_in(SRC, marker);
}

static const char *base(const char *p)
{
	const char *s = p ? strrchr(p, '/') : NULL;

	return s ? s + 1 : p;
}

struct fn {
	uint64_t vaddr;
	uint64_t size;
	uint64_t off;	/* in the variant */
};

/* func's address from the unstripped build ref, as a file offset in variant */
static struct fn func_in(const char *ref, const char *variant, const char *func)
{
	struct ms_elf *r = ms_elf__open(ref), *v;
	struct fn f;

	assert_non_null(r);
	assert_int_equal(ms_elf__find_func(r, func, &f.vaddr, &f.size), 0);
	ms_elf__close(r);
	v = ms_elf__open(variant);
	assert_non_null(v);
	assert_int_equal(ms_elf__vaddr_to_offset(v, f.vaddr, &f.off), 0);
	ms_elf__close(v);
	return f;
}

static void copy_file(const char *from, const char *to)
{
	char buf[8192];
	int in = open(from, O_RDONLY), out = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	ssize_t n;

	assert_true(in >= 0 && out >= 0);
	while ((n = read(in, buf, sizeof(buf))) > 0)
		assert_int_equal(write(out, buf, n), n);
	close(in);
	close(out);
}

/* ---- crafted ELF files ---------------------------------------------- */

struct csym {
	const char *name;
	uint64_t value, size;
	int bind, type;
};

struct dwarf_blob {
	const unsigned char *info, *abbrev, *aranges;
	size_t info_len, abbrev_len, aranges_len;
};

struct craft {
	const struct csym *syms;
	size_t nsyms;		/* 0: a zero-length .symtab */
	bool strtab_bomb;	/* .strtab SHF_COMPRESSED, Chdr claims 1 TiB */
	bool dwarf_bomb;	/* .debug_info likewise, .debug_line plain */
	const struct dwarf_blob *dwarf;	/* hand-made DWARF sections, .debug_line junk */
};

#define BOMB_SIZE (1ull << 40)

struct obuf {
	unsigned char d[16384];
	size_t len;
};

static size_t put(struct obuf *b, const void *p, size_t n, size_t align)
{
	size_t off = (b->len + align - 1) & ~(align - 1);

	assert_true(off + n <= sizeof(b->d));
	memset(b->d + b->len, 0, off - b->len);
	memcpy(b->d + off, p, n);
	b->len = off + n;
	return off;
}

/* A Chdr claiming BOMB_SIZE, followed by a real (tiny) zlib stream. */
static size_t put_bomb(struct obuf *b, size_t *ret_size)
{
	Elf64_Chdr ch = { .ch_type = ELFCOMPRESS_ZLIB, .ch_size = BOMB_SIZE, .ch_addralign = 1 };
	unsigned char zeros[256] = { 0 }, z[512];
	uLongf zlen = sizeof(z);
	size_t off;

	assert_int_equal(compress(z, &zlen, zeros, sizeof(zeros)), Z_OK);
	off = put(b, &ch, sizeof(ch), 8);
	put(b, z, zlen, 1);
	*ret_size = b->len - off;
	return off;
}

/*
 * ET_DYN x86-64: one PT_LOAD mapping file offset == vaddr over [0, 0x400),
 * .text at 0x100..0x300, then .symtab, .strtab, optional DWARF, .shstrtab.
 */
static void put_scn(struct obuf *b, Elf64_Shdr *sh, Elf64_Word name, const void *p, size_t len)
{
	size_t off = put(b, p, len, 1);

	*sh = (Elf64_Shdr){ .sh_name = name, .sh_type = SHT_PROGBITS, .sh_offset = off,
			    .sh_size = len, .sh_addralign = 1 };
}

static void craft_elf(const char *path, const struct craft *c)
{
	static const char shstr[] =
		"\0.text\0.symtab\0.strtab\0.debug_info\0.debug_line\0.shstrtab"
		"\0.debug_abbrev\0.debug_aranges";
	enum { N_TEXT = 1, N_SYMTAB = 7, N_STRTAB = 15, N_DINFO = 23, N_DLINE = 35,
	       N_SHSTR = 47, N_DABBREV = 57, N_DARANGES = 71 };
	Elf64_Shdr sh[10] = { { 0 } };
	struct obuf *b = calloc(1, sizeof(*b));
	Elf64_Ehdr eh = { 0 };
	Elf64_Phdr ph = { 0 };
	char strtab[1024] = "";
	size_t strsz = 1, i, n = 1, off, size;
	Elf64_Sym syms[16] = { { 0 } };
	unsigned char line_junk[16] = { 1, 2, 3 };
	int fd;

	assert_non_null(b);
	assert_true(c->nsyms < 16);
	b->len = 0x400;		/* headers, then .text's zero bytes */

	sh[n] = (Elf64_Shdr){ .sh_name = N_TEXT, .sh_type = SHT_PROGBITS,
			      .sh_flags = SHF_ALLOC | SHF_EXECINSTR, .sh_addr = 0x100,
			      .sh_offset = 0x100, .sh_size = 0x200, .sh_addralign = 16 };
	n++;

	for (i = 0; i < c->nsyms; i++) {
		const struct csym *cs = &c->syms[i];

		syms[i + 1] = (Elf64_Sym){ .st_name = (Elf64_Word)strsz,
					   .st_info = ELF64_ST_INFO(cs->bind, cs->type),
					   .st_shndx = 1,	/* .text */
					   .st_value = cs->value, .st_size = cs->size };
		strcpy(strtab + strsz, c->syms[i].name);
		strsz += strlen(c->syms[i].name) + 1;
	}
	off = put(b, syms, c->nsyms ? (c->nsyms + 1) * sizeof(Elf64_Sym) : 0, 8);
	sh[n] = (Elf64_Shdr){ .sh_name = N_SYMTAB, .sh_type = SHT_SYMTAB, .sh_offset = off,
			      .sh_size = c->nsyms ? (c->nsyms + 1) * sizeof(Elf64_Sym) : 0,
			      .sh_link = 3, .sh_info = 1, .sh_addralign = 8,
			      .sh_entsize = sizeof(Elf64_Sym) };
	n++;
	if (c->strtab_bomb) {
		off = put_bomb(b, &size);
		sh[n] = (Elf64_Shdr){ .sh_name = N_STRTAB, .sh_type = SHT_STRTAB,
				      .sh_flags = SHF_COMPRESSED, .sh_offset = off, .sh_size = size,
				      .sh_addralign = 8 };
	} else {
		off = put(b, strtab, strsz, 1);
		sh[n] = (Elf64_Shdr){ .sh_name = N_STRTAB, .sh_type = SHT_STRTAB, .sh_offset = off,
				      .sh_size = strsz, .sh_addralign = 1 };
	}
	n++;
	if (c->dwarf_bomb) {
		off = put_bomb(b, &size);
		sh[n++] = (Elf64_Shdr){ .sh_name = N_DINFO, .sh_type = SHT_PROGBITS,
					.sh_flags = SHF_COMPRESSED, .sh_offset = off,
					.sh_size = size, .sh_addralign = 8 };
		off = put(b, line_junk, sizeof(line_junk), 1);
		sh[n++] = (Elf64_Shdr){ .sh_name = N_DLINE, .sh_type = SHT_PROGBITS,
					.sh_offset = off, .sh_size = sizeof(line_junk),
					.sh_addralign = 1 };
	}
	if (c->dwarf) {
		put_scn(b, &sh[n++], N_DINFO, c->dwarf->info, c->dwarf->info_len);
		put_scn(b, &sh[n++], N_DABBREV, c->dwarf->abbrev, c->dwarf->abbrev_len);
		put_scn(b, &sh[n++], N_DARANGES, c->dwarf->aranges, c->dwarf->aranges_len);
		put_scn(b, &sh[n++], N_DLINE, line_junk, sizeof(line_junk));
	}
	off = put(b, shstr, sizeof(shstr), 1);
	sh[n] = (Elf64_Shdr){ .sh_name = N_SHSTR, .sh_type = SHT_STRTAB, .sh_offset = off,
			      .sh_size = sizeof(shstr), .sh_addralign = 1 };
	eh.e_shstrndx = (Elf64_Half)n++;
	eh.e_shoff = put(b, sh, n * sizeof(Elf64_Shdr), 8);

	memcpy(eh.e_ident, ELFMAG, SELFMAG);
	eh.e_ident[EI_CLASS] = ELFCLASS64;
	eh.e_ident[EI_DATA] = ELFDATA2LSB;
	eh.e_ident[EI_VERSION] = EV_CURRENT;
	eh.e_type = ET_DYN;
	eh.e_machine = EM_X86_64;
	eh.e_version = EV_CURRENT;
	eh.e_entry = 0x100;
	eh.e_phoff = sizeof(eh);
	eh.e_ehsize = sizeof(eh);
	eh.e_phentsize = sizeof(ph);
	eh.e_phnum = 1;
	eh.e_shentsize = sizeof(Elf64_Shdr);
	eh.e_shnum = (Elf64_Half)n;
	ph = (Elf64_Phdr){ .p_type = PT_LOAD, .p_flags = PF_R | PF_X, .p_offset = 0,
			   .p_vaddr = 0, .p_paddr = 0, .p_filesz = 0x400, .p_memsz = 0x400,
			   .p_align = 0x1000 };
	memcpy(b->d, &eh, sizeof(eh));
	memcpy(b->d + sizeof(eh), &ph, sizeof(ph));

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, b->d, b->len), (ssize_t)b->len);
	close(fd);
	free(b);
}

/* ---- ms_elf ----------------------------------------------------------- */

/* The PIE build is ET_DYN, the -no-pie one ET_EXEC; both name their functions. */
static void test_find_func_and_type(void **state)
{
	struct ms_elf *pie = ms_elf__open(fx("sym_fixture"));
	struct ms_elf *exe = ms_elf__open(fx("sym_fixture_nopie"));
	uint64_t a, as, b, bs, s, ss;

	assert_non_null(pie);
	assert_non_null(exe);
	assert_int_equal(ms_elf__is_dyn(pie), 1);
	assert_int_equal(ms_elf__is_dyn(exe), 0);

	assert_int_equal(ms_elf__find_func(pie, "fixture_alpha", &a, &as), 0);
	assert_int_equal(ms_elf__find_func(pie, "fixture_beta", &b, &bs), 0);
	assert_int_equal(ms_elf__find_func(pie, "fixture_static", &s, &ss), 0);
	assert_true(as > 0 && bs > 0 && ss > 0);
	/* source order is link order at -O0: static, alpha, beta, back to back */
	assert_true(s < a && a < b);
	assert_true(s + ss <= a && a + as <= b);
	assert_int_equal(ms_elf__find_func(pie, "fixture_nonexistent", &a, &as), -ENOENT);
	/* data objects are not functions */
	assert_int_equal(ms_elf__find_func(pie, "stdout", &a, &as), -ENOENT);

	/* non-PIE: absolute addresses above the default 0x400000 base */
	assert_int_equal(ms_elf__find_func(exe, "fixture_alpha", &a, &as), 0);
	assert_true(a >= 0x400000);
	ms_elf__close(pie);
	ms_elf__close(exe);
}

/* offset <-> vaddr round-trips, and read_vaddr returns the bytes at .text's file position */
static void test_offsets_and_read(void **state)
{
	const char *path = fx("sym_fixture");
	struct ms_elf *e = ms_elf__open(path);
	uint64_t va, size, off, back;
	unsigned char got[16], want[16];
	Elf64_Ehdr eh;
	Elf64_Shdr sh;
	int fd, i, found = 0;

	assert_non_null(e);
	assert_int_equal(ms_elf__find_func(e, "fixture_beta", &va, &size), 0);
	assert_int_equal(ms_elf__vaddr_to_offset(e, va, &off), 0);
	assert_int_equal(ms_elf__offset_to_vaddr(e, off, &back), 0);
	assert_int_equal(back, va);

	/* independent route: .text's section header, parsed here by hand */
	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(pread(fd, &eh, sizeof(eh), 0), sizeof(eh));
	for (i = 0; i < eh.e_shnum; i++) {
		assert_int_equal(pread(fd, &sh, sizeof(sh), eh.e_shoff + i * sizeof(sh)),
				 sizeof(sh));
		if ((sh.sh_flags & SHF_EXECINSTR) && va >= sh.sh_addr &&
		    va < sh.sh_addr + sh.sh_size) {
			found = 1;
			break;
		}
	}
	assert_true(found);
	assert_int_equal(off, va - sh.sh_addr + sh.sh_offset);
	assert_int_equal(pread(fd, want, sizeof(want), (off_t)off), sizeof(want));
	close(fd);
	assert_int_equal(ms_elf__read_vaddr(e, va, got, sizeof(got)), sizeof(got));
	assert_memory_equal(got, want, sizeof(got));

	/* far beyond every PT_LOAD */
	assert_int_equal(ms_elf__vaddr_to_offset(e, 1ull << 60, &off), -ENOENT);
	assert_int_equal(ms_elf__read_vaddr(e, 1ull << 60, got, sizeof(got)), -ENOENT);
	assert_int_equal(ms_elf__offset_to_vaddr(e, 1ull << 40, &back), -ENOENT);
	ms_elf__close(e);
}

/* stripping and compressing keep the build-id; only the no-build-id build lacks one */
static void test_build_id_survives_strip(void **state)
{
	const char *same[] = { "linked/sym_fixture", "sym_fixture.debug", "sym_fixture_zdebug",
			       "bid/sym_fixture" };
	uint8_t ref[MS_BUILD_ID_MAX], id[MS_BUILD_ID_MAX], small[4];
	struct ms_elf *e = ms_elf__open(fx("sym_fixture"));
	int len;
	size_t i;

	assert_non_null(e);
	len = ms_elf__build_id(e, ref, sizeof(ref));
	assert_int_equal(len, 20);	/* --build-id=sha1 */
	assert_int_equal(ms_elf__build_id(e, small, sizeof(small)), -ENOSPC);
	ms_elf__close(e);
	for (i = 0; i < sizeof(same) / sizeof(same[0]); i++) {
		e = ms_elf__open(fx(same[i]));
		assert_non_null(e);
		assert_int_equal(ms_elf__build_id(e, id, sizeof(id)), len);
		assert_memory_equal(id, ref, len);
		ms_elf__close(e);
	}
	e = ms_elf__open(fx("sym_fixture_nobid"));
	assert_non_null(e);
	assert_int_equal(ms_elf__build_id(e, id, sizeof(id)), -ENOENT);
	ms_elf__close(e);
}

/* broken files are refused with the errno the header promises, and never crash */
static void test_open_bad_files(void **state)
{
	const char *noexec[] = { "trunc_hdr", "trunc_shdr", "garbage", "empty" };
	size_t i;

	for (i = 0; i < sizeof(noexec) / sizeof(noexec[0]); i++) {
		errno = 0;
		assert_null(ms_elf__open(fx(noexec[i])));
		assert_int_equal(errno, ENOEXEC);
	}
	errno = 0;
	assert_null(ms_elf__open(fx("no-such-file")));
	assert_int_equal(errno, ENOENT);
	errno = 0;
	assert_null(ms_elf__open(fx("")));	/* the fixture directory */
	assert_int_equal(errno, EISDIR);
	errno = 0;
	assert_null(ms_elf__open("/dev/null"));
	assert_int_equal(errno, ENOEXEC);
}

/* ---- symcache on the fixture variants ------------------------------- */

struct expect {
	const char *name;	/* NULL: no symbol */
	uint64_t offset;
	int line;		/* 0: no line info expected */
};

static void expect_lookup(struct symcache *c, const char *path, const char *root, uint64_t off,
			  const struct expect *x)
{
	struct ms_sym s;

	assert_int_equal(symcache__lookup(c, path, root, off, &s), 0);
	assert_string_equal(s.module, path);
	if (x->name) {
		assert_non_null(s.name);
		assert_string_equal(s.name, x->name);
		assert_int_equal(s.offset, x->offset);
	} else {
		assert_null(s.name);
	}
	if (x->line) {
		assert_non_null(s.file);
		assert_string_equal(base(s.file), "sym_fixture.c");
		assert_int_equal(s.line, x->line);
	} else {
		assert_null(s.file);
		assert_int_equal(s.line, 0);
	}
}

/*
 * The three claims every variant is held to: alpha's first byte is
 * fixture_alpha+0 at its signature line, its last byte (ret) is at its
 * closing brace, and static+3 is fixture_static+3. want_static/want_lines
 * say what a variant without a usable debug file loses.
 */
static void check_variant(struct symcache *c, const char *ref, const char *path, const char *root,
			  bool want_static, bool want_lines)
{
	struct fn a = func_in(ref, path, "fixture_alpha");
	struct fn s = func_in(ref, path, "fixture_static");
	int l_alpha = want_lines ? source_line("LINE:alpha */") : 0;
	int l_end = want_lines ? source_line("LINE:alpha_end") : 0;
	struct ms_sym sym;

	expect_lookup(c, path, root, a.off, &(struct expect){ "fixture_alpha", 0, l_alpha });
	expect_lookup(c, path, root, a.off + a.size - 1,
		      &(struct expect){ "fixture_alpha", a.size - 1, l_end });
	if (want_static) {
		expect_lookup(c, path, root, s.off + 3, &(struct expect){ "fixture_static", 3,
			      want_lines ? source_line("LINE:static") : 0 });
	} else {
		/* no symbol: the function is still found, from its .eh_frame entry */
		char sub_name[32];

		snprintf(sub_name, sizeof(sub_name), "sub_%" PRIx64, s.vaddr);
		expect_lookup(c, path, root, s.off + 3, &(struct expect){ sub_name, 3, 0 });
	}
	/* vaddr is the link-time address, whatever the variant's file layout */
	assert_int_equal(symcache__lookup(c, path, root, a.off + 1, &sym), 0);
	assert_int_equal(sym.vaddr, a.vaddr + 1);
}

static struct symcache *cache_with(const char *debug_dir)
{
	struct symcache_opts o = { .debug_dir = debug_dir };
	struct symcache *c = symcache__new(&o);

	assert_non_null(c);
	return c;
}

/* A debug dir with nothing in it: variants only see their own files. */
#define NO_DEBUG_DIR (tmpdir)

static void test_plain_and_nopie(void **state)
{
	struct symcache *c = cache_with(NO_DEBUG_DIR);

	check_variant(c, fx("sym_fixture"), fx("sym_fixture"), NULL, true, true);
	check_variant(c, fx("sym_fixture_nopie"), fx("sym_fixture_nopie"), NULL, true, true);
	symcache__free(c);
}

/* a second lookup in a loaded module is served from the cache */
static void test_second_lookup_is_hit(void **state)
{
	struct symcache *c = cache_with(NO_DEBUG_DIR);
	struct fn a = func_in(fx("sym_fixture"), fx("sym_fixture"), "fixture_alpha");
	struct fn b = func_in(fx("sym_fixture"), fx("sym_fixture"), "fixture_beta");
	struct symcache_stats st;
	struct ms_sym s;

	assert_int_equal(symcache__lookup(c, fx("sym_fixture"), NULL, a.off, &s), 0);
	symcache__stats(c, &st);
	assert_int_equal(st.lookups, 1);
	assert_int_equal(st.hits, 0);
	assert_int_equal(st.modules, 1);
	assert_true(st.symbols >= 6);	/* alpha beta static main cxx_entry twice poke */
	assert_int_equal(st.dropped_symbols, 0);
	assert_int_equal(symcache__lookup(c, fx("sym_fixture"), NULL, b.off + 2, &s), 0);
	assert_string_equal(s.name, "fixture_beta");
	assert_int_equal(s.offset, 2);
	symcache__stats(c, &st);
	assert_int_equal(st.lookups, 2);
	assert_int_equal(st.hits, 1);
	assert_int_equal(st.modules, 1);
	assert_int_equal(st.errors, 0);
	symcache__free(c);
}

/*
 * A hit never reopens the file: overwrite a cached copy with garbage of
 * the same size, put its mtime back, and it still symbolises as before.
 * A second copy (another inode, same build-id) shares the loaded module.
 */
static void test_hit_does_not_reopen(void **state)
{
	const char *t1 = tmp("copy1"), *t2 = tmp("copy2");
	struct symcache *c = cache_with(NO_DEBUG_DIR);
	struct fn a = func_in(fx("sym_fixture"), fx("sym_fixture"), "fixture_alpha");
	struct symcache_stats st;
	struct timespec times[2];
	struct ms_sym s;
	struct stat sb;
	char junk[4096];
	off_t done;
	int fd;

	copy_file(fx("sym_fixture"), t1);
	assert_int_equal(symcache__lookup(c, t1, NULL, a.off, &s), 0);
	assert_string_equal(s.name, "fixture_alpha");

	assert_int_equal(stat(t1, &sb), 0);
	memset(junk, 'J', sizeof(junk));
	fd = open(t1, O_WRONLY);
	assert_true(fd >= 0);
	for (done = 0; done < sb.st_size; done += sizeof(junk))
		assert_true(pwrite(fd, junk, sb.st_size - done < (off_t)sizeof(junk) ?
				   (size_t)(sb.st_size - done) : sizeof(junk), done) > 0);
	times[0] = sb.st_atim;
	times[1] = sb.st_mtim;
	assert_int_equal(futimens(fd, times), 0);
	close(fd);
	assert_null(ms_elf__open(t1));	/* it really is garbage now */

	assert_int_equal(symcache__lookup(c, t1, NULL, a.off, &s), 0);
	assert_string_equal(s.name, "fixture_alpha");
	symcache__stats(c, &st);
	assert_int_equal(st.hits, 1);

	copy_file(fx("sym_fixture"), t2);
	assert_int_equal(symcache__lookup(c, t2, NULL, a.off, &s), 0);
	assert_string_equal(s.name, "fixture_alpha");
	assert_string_equal(s.module, t2);
	symcache__stats(c, &st);
	assert_int_equal(st.modules, 1);
	assert_int_equal(st.lookups, 3);
	symcache__free(c);
	unlink(t1);
	unlink(t2);
}

/* the C++ names come back demangled, or raw when asked */
static void test_cxx_demangle(void **state)
{
	struct symcache_opts raw_opts = { .debug_dir = NO_DEBUG_DIR, .no_demangle = true };
	struct symcache *c = cache_with(NO_DEBUG_DIR), *raw = symcache__new(&raw_opts);
	struct fn tw = func_in(fx("sym_fixture"), fx("sym_fixture"), TWICE_MANGLED);
	struct fn pk = func_in(fx("sym_fixture"), fx("sym_fixture"), POKE_MANGLED);
	struct ms_sym s;

	assert_non_null(raw);
	assert_int_equal(symcache__lookup(c, fx("sym_fixture"), NULL, tw.off + 1, &s), 0);
	assert_string_equal(s.name, "int ms_fix::twice<int>(int)");
	assert_int_equal(s.offset, 1);
	assert_int_equal(symcache__lookup(c, fx("sym_fixture"), NULL, pk.off, &s), 0);
	assert_string_equal(s.name, "ms_fix::widget::poke(int) const");
	/* the demangled string is cached: the same pointer the second time */
	{
		const char *first = s.name;

		assert_int_equal(symcache__lookup(c, fx("sym_fixture"), NULL, pk.off, &s), 0);
		assert_ptr_equal(s.name, first);
	}
	assert_int_equal(symcache__lookup(raw, fx("sym_fixture"), NULL, pk.off, &s), 0);
	assert_string_equal(s.name, POKE_MANGLED);
	symcache__free(c);
	symcache__free(raw);
}

/* stripped, .gnu_debuglink -> <dir>/.debug/sym_fixture.debug: everything comes back */
static void test_debuglink_dot_debug(void **state)
{
	struct symcache *c = cache_with(NO_DEBUG_DIR);

	check_variant(c, fx("sym_fixture"), fx("linked/sym_fixture"), NULL, true, true);
	symcache__free(c);
}

/* as make's $(abspath): joined to the cwd, symlinks kept */
static void abs_path(const char *rel, char *out)
{
	char cwd[PATH_MAX];

	if (rel[0] == '/') {
		snprintf(out, PATH_MAX, "%s", rel);
		return;
	}
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_true(snprintf(out, PATH_MAX, "%s/%s", cwd, rel) < PATH_MAX);
}

/* stripped, debuglink resolved in <debug_dir>/<absolute dir of the binary>/ */
static void test_debuglink_global_dir(void **state)
{
	char path[PATH_MAX], dbg[PATH_MAX];
	struct symcache *c;

	abs_path(fx("gdb/sym_fixture"), path);
	abs_path(fx("gdbdebug"), dbg);
	c = cache_with(dbg);
	check_variant(c, fx("sym_fixture"), path, NULL, true, true);
	symcache__free(c);
}

/* stripped, no debuglink: the build-id tree under a root, or under debug_dir */
static void test_build_id_tree(void **state)
{
	char root[PATH_MAX], dir[PATH_MAX + 32];
	struct symcache *c = cache_with(NULL);	/* default /usr/lib/debug, inside root */

	assert_non_null(realpath(fx("rootfs"), root));
	check_variant(c, fx("sym_fixture"), fx("bid/sym_fixture"), root, true, true);
	symcache__free(c);

	snprintf(dir, sizeof(dir), "%s/usr/lib/debug", root);
	c = cache_with(dir);
	check_variant(c, fx("sym_fixture"), fx("bid/sym_fixture"), NULL, true, true);
	symcache__free(c);

	/* without the tree only .dynsym is left: globals named, no static, no lines */
	c = cache_with(NO_DEBUG_DIR);
	check_variant(c, fx("sym_fixture"), fx("bid/sym_fixture"), NULL, false, false);
	symcache__free(c);
}

/*
 * A build-id path holding another build's debug file is rejected, though
 * that file (same code, same layout, other build-id) would name everything.
 */
static void test_build_id_mismatch_rejected(void **state)
{
	uint8_t id[MS_BUILD_ID_MAX], other[MS_BUILD_ID_MAX];
	struct symcache *c = cache_with(NULL);
	struct ms_elf *e, *o;
	char root[PATH_MAX];
	uint64_t va, ova;

	e = ms_elf__open(fx("sym_fixture"));
	o = ms_elf__open(fx("sym_fixture_otherbid"));
	assert_non_null(e);
	assert_non_null(o);
	assert_int_equal(ms_elf__build_id(e, id, sizeof(id)), 20);
	assert_int_equal(ms_elf__build_id(o, other, sizeof(other)), 20);
	assert_memory_not_equal(id, other, 20);
	assert_int_equal(ms_elf__find_func(e, "fixture_static", &va, NULL), 0);
	assert_int_equal(ms_elf__find_func(o, "fixture_static", &ova, NULL), 0);
	assert_int_equal(va, ova);
	ms_elf__close(e);
	ms_elf__close(o);

	assert_non_null(realpath(fx("badroot"), root));
	check_variant(c, fx("sym_fixture"), fx("bid/sym_fixture"), root, false, false);
	symcache__free(c);
}

/* no build-ids anywhere: the debuglink CRC decides */
static void test_debuglink_crc(void **state)
{
	struct symcache *c = cache_with(NO_DEBUG_DIR);

	check_variant(c, fx("sym_fixture_nobid"), fx("crc/sym_fixture_nobid"), NULL, true, true);
	/* one byte appended to the debug file: CRC mismatch, only .dynsym */
	check_variant(c, fx("sym_fixture_nobid"), fx("badcrc/sym_fixture_nobid"), NULL, false,
		      false);
	symcache__free(c);
}

/* a debuglink to a file that does not exist falls back to .dynsym */
static void test_debuglink_missing(void **state)
{
	struct symcache *c = cache_with(NO_DEBUG_DIR);
	struct symcache_stats st;

	check_variant(c, fx("sym_fixture"), fx("missing/sym_fixture"), NULL, false, false);
	symcache__stats(c, &st);
	assert_int_equal(st.errors, 0);
	symcache__free(c);
}

/* DWARF in SHF_COMPRESSED sections still gives file:line */
static void test_compressed_dwarf(void **state)
{
	struct symcache *c = cache_with(NO_DEBUG_DIR);

	check_variant(c, fx("sym_fixture"), fx("sym_fixture_zdebug"), NULL, true, true);
	symcache__free(c);
}

/* broken files give -errno, counted, and the failure itself is cached */
static void test_lookup_bad_files(void **state)
{
	struct symcache *c = cache_with(NO_DEBUG_DIR);
	struct symcache_stats st;
	struct ms_sym s;

	assert_int_equal(symcache__lookup(c, fx("trunc_hdr"), NULL, 0, &s), -ENOEXEC);
	assert_null(s.name);
	assert_int_equal(symcache__lookup(c, fx("trunc_shdr"), NULL, 0x1000, &s), -ENOEXEC);
	assert_int_equal(symcache__lookup(c, fx("garbage"), NULL, 0, &s), -ENOEXEC);
	assert_int_equal(symcache__lookup(c, fx("garbage"), NULL, 0, &s), -ENOEXEC);
	assert_int_equal(symcache__lookup(c, fx("empty"), NULL, 0, &s), -ENOEXEC);
	assert_int_equal(symcache__lookup(c, fx("no-such-file"), NULL, 0, &s), -ENOENT);
	assert_int_equal(symcache__lookup(c, fx("no-such-file"), NULL, 0, &s), -ENOENT);
	symcache__stats(c, &st);
	assert_int_equal(st.lookups, 7);
	assert_int_equal(st.errors, 7);
	assert_int_equal(st.modules, 0);
	assert_int_equal(st.hits, 0);
	assert_int_equal(symcache__lookup(c, NULL, NULL, 0, &s), -EINVAL);
	symcache__free(c);
}

/* an offset outside every PT_LOAD is not an error, just unknown */
static void test_offset_outside_loads(void **state)
{
	struct symcache *c = cache_with(NO_DEBUG_DIR);
	struct ms_sym s;

	assert_int_equal(symcache__lookup(c, fx("sym_fixture"), NULL, 1ull << 40, &s), 0);
	assert_null(s.name);
	assert_null(s.file);
	assert_string_equal(s.module, fx("sym_fixture"));
	symcache__free(c);
}

/* max_modules bounds the cache; the least recently used module goes first */
static void test_cache_bound_evicts_oldest(void **state)
{
	struct symcache_opts o = { .debug_dir = NO_DEBUG_DIR, .max_modules = 2 };
	struct symcache *c = symcache__new(&o);
	struct symcache_stats st;
	struct ms_sym s;

	assert_non_null(c);
	assert_int_equal(symcache__lookup(c, fx("sym_fixture"), NULL, 0x1000, &s), 0);
	assert_int_equal(symcache__lookup(c, fx("sym_fixture_nopie"), NULL, 0x1000, &s), 0);
	assert_int_equal(symcache__lookup(c, fx("sym_fixture"), NULL, 0x1000, &s), 0);	/* hit */
	assert_int_equal(symcache__lookup(c, fx("sym_fixture_nobid"), NULL, 0x1000, &s), 0);
	symcache__stats(c, &st);
	assert_int_equal(st.modules, 2);
	assert_int_equal(st.hits, 1);
	/* nopie was the least recently used: it was evicted, so this reloads it */
	assert_int_equal(symcache__lookup(c, fx("sym_fixture_nopie"), NULL, 0x1000, &s), 0);
	symcache__stats(c, &st);
	assert_int_equal(st.hits, 1);
	assert_int_equal(st.modules, 2);
	assert_int_equal(symcache__lookup(c, fx("sym_fixture_nopie"), NULL, 0x1000, &s), 0);
	symcache__stats(c, &st);
	assert_int_equal(st.hits, 2);
	symcache__free(c);
}

/* ---- crafted files ---------------------------------------------------- */

/* a .strtab whose Chdr claims 1 TiB is refused before anything is inflated */
static void test_decompression_bomb(void **state)
{
	const struct csym syms[] = { { "bomb_func", 0x100, 0x20, STB_GLOBAL, STT_FUNC } };
	const char *p = tmp("bomb");
	struct symcache *c = cache_with(NO_DEBUG_DIR);
	struct ms_elf *e;
	uint64_t va;
	struct ms_sym s;

	craft_elf(p, &(struct craft){ .syms = syms, .nsyms = 1, .strtab_bomb = true });
	e = ms_elf__open(p);
	assert_non_null(e);
	assert_int_equal(ms_elf__find_func(e, "bomb_func", &va, NULL), -EFBIG);
	ms_elf__close(e);
	assert_int_equal(symcache__lookup(c, p, NULL, 0x110, &s), -EFBIG);
	assert_int_equal(symcache__lookup(c, p, NULL, 0x110, &s), -EFBIG);	/* cached */
	symcache__free(c);
	unlink(p);
}

/* the same bomb in .debug_info costs the lines, not the lookup */
static void test_dwarf_bomb_costs_only_lines(void **state)
{
	const struct csym syms[] = { { "bomb_func", 0x100, 0x20, STB_GLOBAL, STT_FUNC } };
	const char *p = tmp("dwarfbomb");
	struct symcache *c = cache_with(NO_DEBUG_DIR);
	struct ms_sym s;

	craft_elf(p, &(struct craft){ .syms = syms, .nsyms = 1, .dwarf_bomb = true });
	assert_int_equal(symcache__lookup(c, p, NULL, 0x110, &s), 0);
	assert_string_equal(s.name, "bomb_func");
	assert_int_equal(s.offset, 0x10);
	assert_null(s.file);
	symcache__free(c);
	unlink(p);
}

/* a zero-length .symtab is a module without symbols, not an error */
static void test_zero_length_symtab(void **state)
{
	const char *p = tmp("nosyms");
	struct symcache *c = cache_with(NO_DEBUG_DIR);
	struct symcache_stats st;
	struct ms_elf *e;
	struct ms_sym s;
	uint64_t va;

	craft_elf(p, &(struct craft){ .nsyms = 0 });
	e = ms_elf__open(p);
	assert_non_null(e);
	assert_int_equal(ms_elf__find_func(e, "anything", &va, NULL), -ENOENT);
	ms_elf__close(e);
	assert_int_equal(symcache__lookup(c, p, NULL, 0x110, &s), 0);
	assert_null(s.name);
	assert_int_equal(s.vaddr, 0x110);
	symcache__stats(c, &st);
	assert_int_equal(st.modules, 1);
	assert_int_equal(st.symbols, 0);
	symcache__free(c);
	unlink(p);
}

/*
 * Aliases: at 0x100 a local, a weak and a global name: the global wins
 * whatever the table order. A size-0 symbol at 0x140 reaches the next one
 * at 0x160; a sized one at 0x180 (16 bytes) leaves 0x190.. unnamed.
 * "ver_func@@V1" matches "ver_func" and is reported without the version.
 */
static void test_alias_choice_and_extents(void **state)
{
	const struct csym syms[] = {
		{ "zz_local", 0x100, 0x20, STB_LOCAL, STT_FUNC },
		{ "aa_weak", 0x100, 0x20, STB_WEAK, STT_FUNC },
		{ "mm_global", 0x100, 0x20, STB_GLOBAL, STT_FUNC },
		{ "unsized", 0x140, 0, STB_GLOBAL, STT_FUNC },
		{ "ver_func@@V1", 0x160, 0x10, STB_GLOBAL, STT_GNU_IFUNC },
		{ "sized", 0x180, 0x10, STB_GLOBAL, STT_FUNC },
		{ "an_object", 0x1a0, 0x10, STB_GLOBAL, STT_OBJECT },
	};
	const char *p = tmp("aliases");
	struct symcache *c = cache_with(NO_DEBUG_DIR);
	struct ms_elf *e;
	struct ms_sym s;
	uint64_t va, sz;

	craft_elf(p, &(struct craft){ .syms = syms, .nsyms = 7 });
	e = ms_elf__open(p);
	assert_non_null(e);
	assert_int_equal(ms_elf__find_func(e, "ver_func", &va, &sz), 0);
	assert_int_equal(va, 0x160);
	assert_int_equal(sz, 0x10);
	assert_int_equal(ms_elf__find_func(e, "an_object", &va, &sz), -ENOENT);
	ms_elf__close(e);

	assert_int_equal(symcache__lookup(c, p, NULL, 0x104, &s), 0);
	assert_string_equal(s.name, "mm_global");
	assert_int_equal(s.offset, 4);
	assert_int_equal(symcache__lookup(c, p, NULL, 0x15f, &s), 0);
	assert_string_equal(s.name, "unsized");
	assert_int_equal(s.offset, 0x1f);
	assert_int_equal(symcache__lookup(c, p, NULL, 0x160, &s), 0);
	assert_string_equal(s.name, "ver_func");
	assert_int_equal(symcache__lookup(c, p, NULL, 0x18f, &s), 0);
	assert_string_equal(s.name, "sized");
	assert_int_equal(symcache__lookup(c, p, NULL, 0x190, &s), 0);
	assert_null(s.name);
	assert_int_equal(symcache__lookup(c, p, NULL, 0x1a4, &s), 0);
	assert_null(s.name);	/* objects are not functions */
	assert_int_equal(symcache__lookup(c, p, NULL, 0x120, &s), 0);
	assert_null(s.name);	/* past mm_global's 0x20 bytes, before unsized */
	symcache__free(c);
	unlink(p);
}

/* ---- inline frames ---------------------------------------------------- */

/*
 * File offset of the one "call marker" (e8 rel32) inside func: that
 * instruction is the inlined helpers' code, whatever the compiler laid out
 * around it.
 */
static uint64_t marker_call(const char *path, const char *func)
{
	struct ms_elf *e = ms_elf__open(path);
	uint64_t va, size, mk, off, found = 0;
	unsigned char code[512];
	int got, i, hits = 0;

	assert_non_null(e);
	assert_int_equal(ms_elf__find_func(e, func, &va, &size), 0);
	assert_int_equal(ms_elf__find_func(e, "marker", &mk, NULL), 0);
	assert_true(size >= 5 && size <= sizeof(code));
	got = ms_elf__read_vaddr(e, va, code, size);
	assert_int_equal(got, (int)size);
	for (i = 0; i + 5 <= got; i++) {
		int32_t rel;

		memcpy(&rel, code + i + 1, sizeof(rel));
		if (code[i] == 0xe8 && va + i + 5 + (int64_t)rel == mk) {
			found = va + i;
			hits++;
		}
	}
	assert_int_equal(hits, 1);
	assert_int_equal(ms_elf__vaddr_to_offset(e, found, &off), 0);
	ms_elf__close(e);
	return off;
}

static void expect_frame(const struct ms_sym *f, const char *name, const char *file, int line)
{
	assert_non_null(f->name);
	assert_string_equal(f->name, name);
	assert_non_null(f->file);
	assert_string_equal(base(f->file), file);
	assert_int_equal(f->line, line);
}

/* what symcache__lookup says about the same location, field by field */
static void expect_same_as_lookup(const struct ms_sym *f, const struct ms_sym *s)
{
	assert_ptr_equal(f->name, s->name);
	assert_int_equal(f->offset, s->offset);
	assert_ptr_equal(f->module, s->module);
	assert_ptr_equal(f->file, s->file);
	assert_int_equal(f->line, s->line);
	assert_int_equal(f->vaddr, s->vaddr);
}

/*
 * marker()'s call in inl_caller is inner_helper's code at its call line,
 * inlined into outer_helper at its call of inner_helper, inlined into
 * inl_caller at its call of outer_helper: three frames, innermost first.
 */
static void test_frames_inline_chain(void **state)
{
	const char *path = fx("inl_fixture");
	struct symcache *c = cache_with(NO_DEBUG_DIR);
	uint64_t off = marker_call(path, "inl_caller");
	struct ms_sym f[8], again[8], s;
	size_t n, i;

	assert_int_equal(symcache__lookup_frames(c, path, NULL, off, f, 8, &n), 0);
	assert_int_equal(n, 3);
	expect_frame(&f[0], "inner_helper", "inl_fixture.c",
		     source_line_in(INL_SRC, "LINE:inner_body"));
	expect_frame(&f[1], "outer_helper", "inl_fixture.c",
		     source_line_in(INL_SRC, "LINE:outer_call"));
	expect_frame(&f[2], "inl_caller", "inl_fixture.c",
		     source_line_in(INL_SRC, "LINE:caller_call"));

	/* the last is symcache__lookup's symbol; the innermost has its file:line */
	assert_int_equal(symcache__lookup(c, path, NULL, off, &s), 0);
	assert_ptr_equal(f[2].name, s.name);
	assert_int_equal(f[2].offset, s.offset);
	assert_true(s.offset > 0);
	assert_ptr_equal(f[0].file, s.file);
	assert_int_equal(f[0].line, s.line);
	for (i = 0; i < n; i++) {
		assert_string_equal(f[i].module, path);
		assert_int_equal(f[i].vaddr, s.vaddr);
		if (i + 1 < n)
			assert_int_equal(f[i].offset, 0);	/* no symbol of their own */
	}

	/* served from the cache, the same strings */
	assert_int_equal(symcache__lookup_frames(c, path, NULL, off, again, 8, &n), 0);
	assert_int_equal(n, 3);
	for (i = 0; i < n; i++) {
		assert_ptr_equal(again[i].name, f[i].name);
		assert_ptr_equal(again[i].file, f[i].file);
	}

	/* "sq" is short enough to be a DW_FORM_string, inside .debug_info itself */
	off = marker_call(path, "short_caller");
	assert_int_equal(symcache__lookup_frames(c, path, NULL, off, f, 8, &n), 0);
	assert_int_equal(n, 2);
	expect_frame(&f[0], "sq", "inl_fixture.c", source_line_in(INL_SRC, "LINE:sq_body"));
	expect_frame(&f[1], "short_caller", "inl_fixture.c",
		     source_line_in(INL_SRC, "LINE:short_call"));
	symcache__free(c);
}

/* an inlined C++ member function is named like a symbol: demangled, or raw when asked */
static void test_frames_cxx_demangled(void **state)
{
	struct symcache_opts raw_opts = { .debug_dir = NO_DEBUG_DIR, .no_demangle = true };
	struct symcache *c = cache_with(NO_DEBUG_DIR), *raw = symcache__new(&raw_opts);
	const char *path = fx("inl_fixture");
	uint64_t off = marker_call(path, "inl_cxx_caller");
	struct ms_sym f[4], again[4];
	size_t n;

	assert_non_null(raw);
	assert_int_equal(symcache__lookup_frames(c, path, NULL, off, f, 4, &n), 0);
	assert_int_equal(n, 2);
	expect_frame(&f[0], "ms_inl::box::bump(int) const", "inl_fixture_cxx.cc",
		     source_line_in(INL_CXX_SRC, "LINE:cxx_inner"));
	expect_frame(&f[1], "inl_cxx_caller", "inl_fixture_cxx.cc",
		     source_line_in(INL_CXX_SRC, "LINE:cxx_call"));
	/* demangled once: the cache's string, the same pointer the second time */
	assert_int_equal(symcache__lookup_frames(c, path, NULL, off, again, 4, &n), 0);
	assert_ptr_equal(again[0].name, f[0].name);

	assert_int_equal(symcache__lookup_frames(raw, path, NULL, off, f, 4, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(f[0].name, BUMP_MANGLED);
	symcache__free(c);
	symcache__free(raw);
}

/*
 * max shorter than the chain keeps the innermost max - 1 and then the real
 * function, at its own call site; nothing is written past max.
 */
static void test_frames_truncated(void **state)
{
	const char *path = fx("inl_fixture");
	struct symcache *c = cache_with(NO_DEBUG_DIR);
	uint64_t off = marker_call(path, "inl_caller");
	int l_inner = source_line_in(INL_SRC, "LINE:inner_body");
	int l_caller = source_line_in(INL_SRC, "LINE:caller_call");
	struct ms_sym f[4], guard;
	size_t n;

	memset(&guard, 0x5a, sizeof(guard));
	f[1] = guard;
	assert_int_equal(symcache__lookup_frames(c, path, NULL, off, f, 1, &n), 0);
	assert_int_equal(n, 1);
	expect_frame(&f[0], "inl_caller", "inl_fixture.c", l_caller);
	assert_memory_equal(&f[1], &guard, sizeof(guard));

	f[2] = guard;
	assert_int_equal(symcache__lookup_frames(c, path, NULL, off, f, 2, &n), 0);
	assert_int_equal(n, 2);
	expect_frame(&f[0], "inner_helper", "inl_fixture.c", l_inner);
	expect_frame(&f[1], "inl_caller", "inl_fixture.c", l_caller);
	assert_memory_equal(&f[2], &guard, sizeof(guard));

	f[3] = guard;
	assert_int_equal(symcache__lookup_frames(c, path, NULL, off, f, 3, &n), 0);
	assert_int_equal(n, 3);
	assert_string_equal(f[1].name, "outer_helper");
	assert_memory_equal(&f[3], &guard, sizeof(guard));
	symcache__free(c);
}

/* nothing inlined at the address: one frame, exactly symcache__lookup's */
static void test_frames_no_inlining(void **state)
{
	const char *path = fx("inl_fixture");
	struct symcache *c = cache_with(NO_DEBUG_DIR);
	uint64_t off = marker_call(path, "plain_func");
	struct ms_sym f[4], s;
	size_t n;

	assert_int_equal(symcache__lookup_frames(c, path, NULL, off, f, 4, &n), 0);
	assert_int_equal(n, 1);
	expect_frame(&f[0], "plain_func", "inl_fixture.c",
		     source_line_in(INL_SRC, "LINE:plain_call"));
	assert_int_equal(symcache__lookup(c, path, NULL, off, &s), 0);
	expect_same_as_lookup(&f[0], &s);
	symcache__free(c);
}

/*
 * The inlined address of test_frames_inline_chain in the same binary
 * without DWARF (its own cache: the build-id is the same), and a DWARF
 * bomb: one frame, symcache__lookup's.
 */
static void test_frames_without_dwarf(void **state)
{
	const struct csym syms[] = { { "bomb_func", 0x100, 0x20, STB_GLOBAL, STT_FUNC } };
	const char *path = fx("inl_fixture_nodwarf"), *bomb = tmp("framebomb");
	struct symcache *c = cache_with(NO_DEBUG_DIR);
	uint64_t off = marker_call(path, "inl_caller");
	struct ms_sym f[4], s;
	size_t n;

	assert_int_equal(symcache__lookup_frames(c, path, NULL, off, f, 4, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(f[0].name, "inl_caller");
	assert_null(f[0].file);
	assert_int_equal(symcache__lookup(c, path, NULL, off, &s), 0);
	expect_same_as_lookup(&f[0], &s);

	craft_elf(bomb, &(struct craft){ .syms = syms, .nsyms = 1, .dwarf_bomb = true });
	assert_int_equal(symcache__lookup_frames(c, bomb, NULL, 0x110, f, 4, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(f[0].name, "bomb_func");
	assert_int_equal(f[0].offset, 0x10);
	assert_null(f[0].file);
	symcache__free(c);
	unlink(bomb);
}

static size_t put_le(unsigned char *p, uint64_t v, size_t bytes)
{
	size_t i;

	for (i = 0; i < bytes; i++)
		p[i] = (unsigned char)(v >> (8 * i));
	return bytes;
}

#define DEEP_NEST 400

/*
 * DWARF 4 by hand: a CU and a subprogram over bomb_func's [0x100, 0x120),
 * holding DEEP_NEST inlined_subroutines nested in each other over the same
 * range (no names, call lines 1, 2, ...). The walk stops at
 * MS_SYM_MAX_SCOPES; max still bounds what is written.
 */
static void test_frames_deep_nesting_bounded(void **state)
{
	static const unsigned char abbrev[] = {
		1, 0x11, 1, 0x11, 0x01, 0x12, 0x07, 0, 0,	/* CU: low_pc addr, high_pc data8 */
		2, 0x2e, 1, 0x11, 0x01, 0x12, 0x07, 0, 0,	/* subprogram, the same */
		3, 0x1d, 1, 0x11, 0x01, 0x12, 0x07, 0x59, 0x0b, 0, 0,	/* + call_line data1 */
		0,
	};
	const struct csym syms[] = { { "bomb_func", 0x100, 0x20, STB_GLOBAL, STT_FUNC } };
	static unsigned char info[11 + 17 * 2 + 18 * DEEP_NEST + DEEP_NEST + 2];
	unsigned char aranges[48] = { 0 };
	const char *p = tmp("deepdwarf");
	struct symcache *c = cache_with(NO_DEBUG_DIR);
	struct ms_sym f[MS_SYM_MAX_SCOPES + 8];
	size_t len = 11, n, i;

	for (i = 0; i < 2; i++) {	/* CU, subprogram */
		info[len++] = (unsigned char)(i + 1);
		len += put_le(info + len, 0x100, 8);
		len += put_le(info + len, 0x20, 8);
	}
	for (i = 0; i < DEEP_NEST; i++) {
		info[len++] = 3;
		len += put_le(info + len, 0x100, 8);
		len += put_le(info + len, 0x20, 8);
		info[len++] = (unsigned char)(i % 200 + 1);
	}
	len += DEEP_NEST + 2;	/* every DIE's children end: zeros */
	assert_int_equal(len, sizeof(info));
	put_le(info, len - 4, 4);	/* unit_length */
	put_le(info + 4, 4, 2);		/* version; abbrev offset 0 */
	info[10] = 8;			/* address size */
	put_le(aranges, sizeof(aranges) - 4, 4);
	put_le(aranges + 4, 2, 2);	/* version; CU offset 0 */
	aranges[10] = 8;		/* address size; segment size 0, pad to 16 */
	put_le(aranges + 16, 0x100, 8);
	put_le(aranges + 24, 0x20, 8);	/* then the (0, 0) terminator */

	craft_elf(p, &(struct craft){ .syms = syms, .nsyms = 1,
				     .dwarf = &(struct dwarf_blob){ info, abbrev, aranges,
								    sizeof(info), sizeof(abbrev),
								    sizeof(aranges) } });
	assert_int_equal(symcache__lookup_frames(c, p, NULL, 0x110, f, sizeof(f) / sizeof(f[0]),
						 &n), 0);
	assert_true(n > 1 && n <= MS_SYM_MAX_SCOPES);	/* the DWARF was read, and cut */
	assert_string_equal(f[n - 1].name, "bomb_func");
	assert_int_equal(f[n - 1].offset, 0x10);
	for (i = 0; i + 1 < n; i++)
		assert_null(f[i].name);	/* no DW_AT_abstract_origin, no name */

	assert_int_equal(symcache__lookup_frames(c, p, NULL, 0x110, f, 4, &n), 0);
	assert_int_equal(n, 4);
	assert_string_equal(f[3].name, "bomb_func");
	symcache__free(c);
	unlink(p);
}

/* bad arguments and files: -errno and no frames; unknown addresses: one empty frame */
static void test_frames_errors(void **state)
{
	const char *path = fx("inl_fixture");
	struct symcache *c = cache_with(NO_DEBUG_DIR);
	struct symcache_stats st;
	struct ms_sym f[2];
	size_t n = 7;

	assert_int_equal(symcache__lookup_frames(c, path, NULL, 0, f, 0, &n), -EINVAL);
	assert_int_equal(n, 0);
	assert_int_equal(symcache__lookup_frames(c, path, NULL, 0, f, 2, NULL), -EINVAL);
	n = 7;
	assert_int_equal(symcache__lookup_frames(c, path, NULL, 0, NULL, 2, &n), -EINVAL);
	assert_int_equal(n, 0);
	assert_int_equal(symcache__lookup_frames(NULL, path, NULL, 0, f, 2, &n), -EINVAL);
	assert_int_equal(symcache__lookup_frames(c, NULL, NULL, 0, f, 2, &n), -EINVAL);
	n = 7;
	assert_int_equal(symcache__lookup_frames(c, fx("no-such-file"), NULL, 0, f, 2, &n),
			 -ENOENT);
	assert_int_equal(n, 0);
	assert_int_equal(symcache__lookup_frames(c, fx("garbage"), NULL, 0, f, 2, &n), -ENOEXEC);
	assert_int_equal(n, 0);

	assert_int_equal(symcache__lookup_frames(c, path, NULL, 1ull << 40, f, 2, &n), 0);
	assert_int_equal(n, 1);
	assert_null(f[0].name);
	assert_null(f[0].file);
	assert_string_equal(f[0].module, path);
	symcache__stats(c, &st);
	assert_int_equal(st.lookups, 3);	/* the calls that got past their arguments */
	assert_int_equal(st.errors, 2);
	symcache__free(c);
}

/* ---- the system libc ------------------------------------------------ */

static void test_libc(void **state)
{
	struct symcache *c;
	struct ms_elf *e = ms_elf__open(LIBC);
	uint64_t m, ms, f, a, al, off, back;
	struct ms_sym s;

	if (!e)
		skip();
	assert_int_equal(ms_elf__is_dyn(e), 1);
	assert_int_equal(ms_elf__find_func(e, "malloc", &m, &ms), 0);
	assert_int_equal(ms_elf__find_func(e, "free", &f, NULL), 0);
	assert_true(m != 0 && f != 0 && m != f && ms > 0);
	/* aliases of one implementation */
	assert_int_equal(ms_elf__find_func(e, "aligned_alloc", &a, NULL), 0);
	assert_int_equal(ms_elf__find_func(e, "memalign", &al, NULL), 0);
	assert_int_equal(a, al);

	/* malloc's entry symbolises to a name that really lives there, preferably "malloc" */
	assert_int_equal(ms_elf__vaddr_to_offset(e, m, &off), 0);
	c = symcache__new(NULL);
	assert_non_null(c);
	assert_int_equal(symcache__lookup(c, LIBC, NULL, off + 4, &s), 0);
	assert_non_null(s.name);
	assert_int_equal(s.offset, 4);
	assert_int_equal(ms_elf__find_func(e, s.name, &back, NULL), 0);
	assert_int_equal(back, m);
	assert_string_equal(s.name, "malloc");	/* over __libc_malloc: fewer underscores */
	symcache__free(c);
	ms_elf__close(e);
}

static int setup(void **state)
{
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	return remove(path);
}

/* files a failed test left behind go too */
static int teardown(void **state)
{
	return nftw(tmpdir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_find_func_and_type),
		cmocka_unit_test(test_offsets_and_read),
		cmocka_unit_test(test_build_id_survives_strip),
		cmocka_unit_test(test_open_bad_files),
		cmocka_unit_test(test_plain_and_nopie),
		cmocka_unit_test(test_second_lookup_is_hit),
		cmocka_unit_test(test_hit_does_not_reopen),
		cmocka_unit_test(test_cxx_demangle),
		cmocka_unit_test(test_debuglink_dot_debug),
		cmocka_unit_test(test_debuglink_global_dir),
		cmocka_unit_test(test_build_id_tree),
		cmocka_unit_test(test_build_id_mismatch_rejected),
		cmocka_unit_test(test_debuglink_crc),
		cmocka_unit_test(test_debuglink_missing),
		cmocka_unit_test(test_compressed_dwarf),
		cmocka_unit_test(test_lookup_bad_files),
		cmocka_unit_test(test_offset_outside_loads),
		cmocka_unit_test(test_cache_bound_evicts_oldest),
		cmocka_unit_test(test_decompression_bomb),
		cmocka_unit_test(test_dwarf_bomb_costs_only_lines),
		cmocka_unit_test(test_zero_length_symtab),
		cmocka_unit_test(test_alias_choice_and_extents),
		cmocka_unit_test(test_frames_inline_chain),
		cmocka_unit_test(test_frames_cxx_demangled),
		cmocka_unit_test(test_frames_truncated),
		cmocka_unit_test(test_frames_no_inlining),
		cmocka_unit_test(test_frames_without_dwarf),
		cmocka_unit_test(test_frames_deep_nesting_bounded),
		cmocka_unit_test(test_frames_errors),
		cmocka_unit_test(test_libc),
	};

	return cmocka_run_group_tests_name("symbolize", tests, setup, teardown);
}
