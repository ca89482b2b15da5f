// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * fuzz_elf - the input is a file a target could map or run: it is opened
 * by target/elf.c both ways (lenient, as the symboliser does, and
 * MS_ELF_STRICT, as the Go reader does) and asked everything ms_elf__*()
 * answers: segments and the bytes they map, address <-> offset, every
 * section and its (inflated) contents, both symbol tables, build-id,
 * debuglink, CRC, the DWARF checks. A broken file must give an errno,
 * never a crash, a hang or an answer outside what the file holds.
 */
#include <limits.h>
#include <zlib.h>

#include "fuzz_common.h"
#include "target/elf.h"
#include "target/sampler.h"

static char path[PATH_MAX];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	snprintf(path, sizeof(path), "%s/file.elf", fuzz_scratch_dir());
	return 0;
}

static void poke_segments(struct ms_elf *e, uint64_t fsize, bool strict)
{
	uint8_t buf[64];
	size_t i, n = ms_elf__nsegments(e);
	uint64_t off, back;
	int r;

	FUZZ_CHECK(ms_elf__segment(e, n) == NULL);
	for (i = 0; i < n; i++) {
		const GElf_Phdr *ph = ms_elf__segment(e, i);
		uint64_t ends[2] = { ph->p_vaddr, ph->p_vaddr + ph->p_filesz - 1 };

		FUZZ_CHECK(ph);
		if (ph->p_type != PT_LOAD || !ph->p_filesz)
			continue;
		for (int k = 0; k < 2; k++) {
			r = ms_elf__read_vaddr(e, ends[k], buf, sizeof(buf));
			FUZZ_CHECK(r <= (int)sizeof(buf));
			if (ms_elf__vaddr_to_offset(e, ends[k], &off))
				continue;
			/* strict: segments lie in the file, so the offset maps back */
			if (!ms_elf__offset_to_vaddr(e, off, &back) || !strict)
				continue;
			FUZZ_CHECK(!"a strict file's offset does not map back");
			if (r > 0)
				FUZZ_CHECK(off < fsize);
		}
	}
	FUZZ_CHECK(ms_elf__read_vaddr(e, 0, buf, 0) <= 0);
	r = ms_elf__read_offset(e, fsize ? fsize - 1 : 0, buf, sizeof(buf));
	FUZZ_CHECK(r == (fsize ? 1 : 0));
	FUZZ_CHECK(ms_elf__read_offset(e, UINT64_MAX - 3, buf, sizeof(buf)) < 0);
}

static void poke_sections(struct ms_elf *e)
{
	struct ms_elf_section s, byname;
	size_t i;

	for (i = 1; !ms_elf__section(e, i, &s); i++) {
		Elf_Data *d;
		int r;

		FUZZ_CHECK(s.index == i && s.name && s.scn);
		if (s.name[0]) {
			FUZZ_CHECK(!ms_elf__section_by_name(e, s.name, &byname));
			FUZZ_CHECK(!strcmp(byname.name, s.name) && byname.index <= i);
		}
		r = ms_elf__section_data(&s, &d);
		FUZZ_CHECK(r <= 0);
		if (!r && d)
			FUZZ_CHECK(d->d_buf && d->d_size && d->d_size <= MS_ELF_MAX_SECTION);
		if (r == -ENOENT)
			FUZZ_CHECK(s.type == SHT_NOBITS);
	}
	/* (libFuzzer learns compared strings: the file may well have one so named) */
	i = ms_elf__section_by_name(e, "no such section", &byname) ? 0 : 1;
	FUZZ_CHECK(!i || !strcmp(byname.name, "no such section"));
}

struct symstat {
	const struct ms_elf *e;
	size_t n, last;
};

static int check_sym(const struct ms_elf_sym *s, void *arg)
{
	struct symstat *st = arg;

	FUZZ_CHECK(s->name && s->len && s->len <= strlen(s->name));
	FUZZ_CHECK(s->rank <= 5);
	FUZZ_CHECK(st->n == 0 || s->index > st->last);
	st->last = s->index;
	st->n++;
	if (!s->sym.st_size)
		ms_elf__section_end(st->e, &s->sym);
	/* a stop value is handed back as is */
	return st->n == 100000 ? 7 : 0;
}

static void poke_symbols(struct ms_elf *e)
{
	static const char *const names[] = { "main", "malloc", "_start", "runtime.mallocgc" };
	uint64_t va, sz, sample[16];
	size_t i;
	int r;

	for (int t = MS_ELF_SYMTAB; t <= MS_ELF_DYNSYM; t++) {
		struct symstat st = { e, 0, 0 };

		r = ms_elf__for_each_sym(e, t, check_sym, &st);
		FUZZ_CHECK(r <= 0 || r == 7);
		if (r == -ENOENT)
			FUZZ_CHECK(!ms_elf__has_symtab(e, t));
	}
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		r = ms_elf__find_func(e, names[i], &va, &sz);
		FUZZ_CHECK(r <= 0);
	}
	r = ms_elf__sample_funcs(e, 16, sample, 16);
	FUZZ_CHECK(r <= 16);
}

static void poke_debug(struct ms_elf *e, const uint8_t *data, size_t size)
{
	char name[256];
	uint8_t bid[MS_ELF_BUILD_ID_CAP], small[2];
	uint32_t crc;
	int r;

	r = ms_elf__build_id(e, bid, sizeof(bid));
	FUZZ_CHECK(r == -ENOENT || (r > 0 && r <= MS_ELF_BUILD_ID_CAP));
	if (r > (int)sizeof(small))
		FUZZ_CHECK(ms_elf__build_id(e, small, sizeof(small)) == -ENOSPC);
	if (!ms_elf__debuglink(e, name, sizeof(name), &crc))
		FUZZ_CHECK(name[0] && strlen(name) < sizeof(name) && !strchr(name, '/'));
	FUZZ_CHECK(!ms_elf__crc32(e, &crc));
	FUZZ_CHECK(crc == (uint32_t)crc32(crc32(0, Z_NULL, 0), data, (uInt)size));
	if (ms_elf__has_dwarf(e) && ms_elf__dwarf_sane(e))
		ms_elf__debug_info(e);
	ms_elf__drop_fd(e);
	FUZZ_CHECK(ms_elf__read_offset(e, 0, small, 1) == -EBADF);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const unsigned int modes[2] = { 0, MS_ELF_STRICT };
	bool opened[2];

	fuzz_write_file(path, data, size);
	for (int m = 0; m < 2; m++) {
		struct ms_elf *e = ms_elf__open_flags(path, modes[m]);
		int r;

		opened[m] = e != NULL;
		if (!e) {
			FUZZ_CHECK(errno == ENOEXEC || errno == EINVAL || errno == ENOMEM);
			FUZZ_CHECK(errno != EINVAL || modes[m] == MS_ELF_STRICT);
			continue;
		}
		FUZZ_CHECK((uint64_t)ms_elf__stat(e)->st_size == size);
		r = ms_elf__is_dyn(e);
		FUZZ_CHECK(r == (ms_elf__ehdr(e)->e_type == ET_DYN));
		poke_segments(e, size, modes[m] == MS_ELF_STRICT);
		poke_sections(e);
		poke_symbols(e);
		poke_debug(e, data, size);
		ms_elf__close(e);
	}
	/* strict accepts nothing lenient refuses */
	FUZZ_CHECK(!opened[1] || opened[0]);
	/* the sampler library's notes and exports: an answer, never a crash */
	{
		struct ms_sampler_info si;
		int r = sampler__probe_elf(path, &si);

		FUZZ_CHECK(r == 0 || r == 1 || r < 0);
		FUZZ_CHECK(r == 1 || si.mean_vaddr == 0);
	}
	return 0;
}
