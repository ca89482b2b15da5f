// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * target/elf.c on the symboliser's fixtures ($MS_BUILD/fixtures/symbolize/,
 * tests/fixtures/symbolize.mk): sections and their bytes, symbol
 * iteration, the CRC, and what a strict open refuses that a lenient one
 * takes. test_symbolize.c covers find_func, offsets, build-ids and the bad
 * files the symboliser meets.
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
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <cmocka.h>

#include "symfix.h"
#include "target/elf.h"

static char tmpdir[] = "/tmp/ms-elftest-XXXXXX";

static const char *tmp(const char *name)
{
	static char p[PATH_MAX];

	snprintf(p, sizeof(p), "%s/%s", tmpdir, name);
	return p;
}

static uint8_t *slurp(const char *path, size_t *ret_len)
{
	struct stat st;
	uint8_t *buf;
	int fd = open(path, O_RDONLY);

	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	buf = malloc(st.st_size);
	assert_non_null(buf);
	assert_int_equal(pread(fd, buf, st.st_size, 0), st.st_size);
	close(fd);
	*ret_len = st.st_size;
	return buf;
}

static void spill(const char *path, const uint8_t *buf, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, buf, len), (ssize_t)len);
	close(fd);
}

/* Every section by index, each found again by name; .text's data are the bytes at its vaddr. */
static void test_sections(void **state)
{
	struct ms_elf *e = ms_elf__open(fx("sym_fixture"));
	struct ms_elf_section s, t;
	uint8_t code[64];
	Elf_Data *d;
	size_t i;

	assert_non_null(e);
	for (i = 0; !ms_elf__section(e, i, &s); i++) {
		assert_int_equal(s.index, i);
		if (!s.name[0])
			continue;
		assert_int_equal(ms_elf__section_by_name(e, s.name, &t), 0);
		assert_string_equal(t.name, s.name);
	}
	assert_int_equal(i, ms_elf__ehdr(e)->e_shnum);
	assert_int_equal(ms_elf__section_by_name(e, ".no-such", &t), -ENOENT);

	assert_int_equal(ms_elf__section_by_name(e, ".text", &t), 0);
	assert_int_equal(t.type, SHT_PROGBITS);
	assert_true(t.flags & SHF_EXECINSTR);
	assert_int_equal(ms_elf__section_data(&t, &d), 0);
	assert_non_null(d);
	assert_int_equal(d->d_size, t.size);
	assert_int_equal(ms_elf__read_vaddr(e, t.addr, code, sizeof(code)), sizeof(code));
	assert_memory_equal(code, d->d_buf, sizeof(code));

	/* .bss has no bytes in the file */
	assert_int_equal(ms_elf__section_by_name(e, ".bss", &t), 0);
	assert_int_equal(ms_elf__section_data(&t, &d), -ENOENT);
	ms_elf__close(e);
}

struct seen {
	unsigned int funcs, calls;
	uint64_t alpha;
};

static int count_funcs(const struct ms_elf_sym *s, void *arg)
{
	struct seen *n = arg;

	n->calls++;
	if (!ms_elf_sym__is_func(s))
		return 0;
	n->funcs++;
	if (!strcmp(s->name, "fixture_alpha"))
		n->alpha = s->sym.st_value;
	return 0;
}

static int stop_at_first(const struct ms_elf_sym *s, void *arg)
{
	(*(unsigned int *)arg)++;
	return 42;
}

/* The walk sees what find_func finds, hands back a callback's stop value, and knows no table. */
static void test_symbols(void **state)
{
	struct ms_elf *e = ms_elf__open(fx("sym_fixture"));
	struct ms_elf *stripped = ms_elf__open(fx("bid/sym_fixture"));
	struct seen n = { 0 };
	unsigned int calls = 0;
	uint64_t alpha;

	assert_non_null(e);
	assert_non_null(stripped);
	assert_int_equal(ms_elf__for_each_sym(e, MS_ELF_SYMTAB, count_funcs, &n), 0);
	assert_int_equal(ms_elf__find_func(e, "fixture_alpha", &alpha, NULL), 0);
	assert_int_equal(n.alpha, alpha);
	/* fixture_static, _alpha, _beta, main and the C runtime's at least */
	assert_true(n.funcs >= 4 && n.calls > n.funcs);

	assert_int_equal(ms_elf__for_each_sym(e, MS_ELF_SYMTAB, stop_at_first, &calls), 42);
	assert_int_equal(calls, 1);

	assert_false(ms_elf__has_symtab(stripped, MS_ELF_SYMTAB));
	assert_true(ms_elf__has_symtab(stripped, MS_ELF_DYNSYM));
	assert_int_equal(ms_elf__for_each_sym(stripped, MS_ELF_SYMTAB, count_funcs, &n), -ENOENT);
	ms_elf__close(e);
	ms_elf__close(stripped);
}

/* CRC32 of the whole file, as .gnu_debuglink has it; reads stop at EOF and after drop_fd. */
static void test_crc_and_reads(void **state)
{
	struct ms_elf *e = ms_elf__open(fx("sym_fixture"));
	uint32_t crc;
	uint8_t buf[64];
	size_t len;
	uint8_t *file = slurp(fx("sym_fixture"), &len);

	assert_non_null(e);
	assert_int_equal(ms_elf__crc32(e, &crc), 0);
	assert_int_equal(crc, (uint32_t)crc32(crc32(0, Z_NULL, 0), file, (uInt)len));
	assert_int_equal(ms_elf__read_offset(e, len - 10, buf, sizeof(buf)), 10);
	assert_memory_equal(buf, file + len - 10, 10);
	assert_int_equal(ms_elf__read_offset(e, UINT64_MAX - 8, buf, sizeof(buf)), -EINVAL);
	ms_elf__drop_fd(e);
	assert_int_equal(ms_elf__read_offset(e, 0, buf, 4), -EBADF);
	assert_int_equal(ms_elf__crc32(e, &crc), -EBADF);
	ms_elf__close(e);
	free(file);
}

/*
 * A section claiming more bytes than the file has: the symboliser still
 * reads the rest (lenient), the Go reader refuses it (strict, EINVAL). Not
 * ELF at all is ENOEXEC both ways; a cut ELF header is EINVAL when strict.
 */
static void test_strict(void **state)
{
	struct ms_elf_section s;
	struct ms_elf *e;
	size_t len;
	uint8_t *file = slurp(fx("sym_fixture"), &len);
	const GElf_Ehdr *eh;
	uint64_t huge = 1ull << 40, shoff;

	e = ms_elf__open(fx("sym_fixture"));
	assert_non_null(e);
	eh = ms_elf__ehdr(e);
	assert_int_equal(eh->e_ident[EI_CLASS], ELFCLASS64);
	assert_int_equal(ms_elf__section_by_name(e, ".comment", &s), 0);
	shoff = eh->e_shoff + s.index * sizeof(Elf64_Shdr) + offsetof(Elf64_Shdr, sh_size);
	ms_elf__close(e);
	memcpy(file + shoff, &huge, sizeof(huge));
	spill(tmp("bigsection"), file, len);

	e = ms_elf__open(tmp("bigsection"));
	assert_non_null(e);
	assert_int_equal(ms_elf__find_func(e, "fixture_alpha", NULL, NULL), 0);
	ms_elf__close(e);
	errno = 0;
	assert_null(ms_elf__open_flags(tmp("bigsection"), MS_ELF_STRICT));
	assert_int_equal(errno, EINVAL);
	assert_non_null(e = ms_elf__open_flags(fx("sym_fixture"), MS_ELF_STRICT));
	ms_elf__close(e);

	errno = 0;
	assert_null(ms_elf__open_flags(fx("garbage"), MS_ELF_STRICT));
	assert_int_equal(errno, ENOEXEC);
	errno = 0;
	assert_null(ms_elf__open_flags(fx("trunc_hdr"), MS_ELF_STRICT));
	assert_int_equal(errno, EINVAL);
	errno = 0;
	assert_null(ms_elf__open(fx("trunc_hdr")));
	assert_int_equal(errno, ENOEXEC);
	free(file);
}

/* A FIFO where a module should be: refused at once, not waited on for a writer. */
static void test_fifo_does_not_block(void **state)
{
	assert_int_equal(mkfifo(tmp("fifo"), 0600), 0);
	errno = 0;
	assert_null(ms_elf__open(tmp("fifo")));
	assert_int_equal(errno, ENOEXEC);
	errno = 0;
	assert_null(ms_elf__open_flags(tmp("fifo"), MS_ELF_STRICT));
	assert_int_equal(errno, ENOEXEC);
}

static int setup(void **state)
{
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
	unlink(tmp("bigsection"));
	unlink(tmp("fifo"));
	return rmdir(tmpdir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sections),
		cmocka_unit_test(test_symbols),
		cmocka_unit_test(test_crc_and_reads),
		cmocka_unit_test(test_strict),
		cmocka_unit_test(test_fifo_does_not_block),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
