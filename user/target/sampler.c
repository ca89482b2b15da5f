// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * sampler.c - finding memsight's sampler library in a process and its mean
 * (see sampler.h).
 */
#include <errno.h>
#include <string.h>
#include <sys/uio.h>

#include <gelf.h>

#include "target/elf.h"
#include "target/sampler.h"

#define SDT_NOTE_TYPE	3	/* NT_STAPSDT */
#define SDT_PROVIDER	MEMSIGHT_SAMPLER_PROVIDER

/* Does .note.stapsdt hold a probe of provider "memsight"? */
static bool has_memsight_probes(const struct ms_elf *elf)
{
	struct ms_elf_section sec;
	Elf_Data *d;
	GElf_Nhdr nh;
	size_t off = 0, name_off, desc_off, next;

	if (ms_elf__section_by_name(elf, ".note.stapsdt", &sec) || sec.type != SHT_NOTE ||
	    ms_elf__section_data(&sec, &d) || !d)
		return false;
	while ((next = gelf_getnote(d, off, &nh, &name_off, &desc_off)) > 0) {
		const char *desc = (const char *)d->d_buf + desc_off;
		/* desc: pc, base, semaphore (3 x 8 bytes), then "provider\0name\0args\0" */
		size_t plen = sizeof(SDT_PROVIDER);

		if (nh.n_type == SDT_NOTE_TYPE && nh.n_namesz == 8 &&
		    !memcmp((const char *)d->d_buf + name_off, "stapsdt", 8) &&
		    nh.n_descsz >= 24 + plen && !memcmp(desc + 24, SDT_PROVIDER, plen))
			return true;
		off = next;
	}
	return false;
}

struct export_find {
	const char *name;
	GElf_Sym sym;
	bool found;
};

static int export_match(const struct ms_elf_sym *sym, void *arg)
{
	struct export_find *f = arg;

	if (sym->sym.st_shndx == SHN_UNDEF || GELF_ST_TYPE(sym->sym.st_info) != STT_OBJECT ||
	    strlen(f->name) != sym->len || strncmp(sym->name, f->name, sym->len))
		return 0;
	f->sym = sym->sym;
	f->found = true;
	return 1;
}

/* A defined data object name of .dynsym with at least size bytes: 0, or -ENOENT. */
static int find_export(struct ms_elf *elf, const char *name, size_t size, GElf_Sym *ret)
{
	struct export_find f = { .name = name };
	int err = ms_elf__for_each_sym(elf, MS_ELF_DYNSYM, export_match, &f);

	if (err < 0)
		return err;
	if (!f.found || f.sym.st_size < size)
		return -ENOENT;
	*ret = f.sym;
	return 0;
}

/* p_vaddr - p_offset of the PT_LOAD that maps file offset 0: 0, or -ENOEXEC */
static int load_delta(const struct ms_elf *elf, uint64_t *ret)
{
	for (size_t i = 0; i < ms_elf__nsegments(elf); i++) {
		const GElf_Phdr *ph = ms_elf__segment(elf, i);

		if (ph && ph->p_type == PT_LOAD && ph->p_offset == 0) {
			*ret = ph->p_vaddr;
			return 0;
		}
	}
	return -ENOEXEC;
}

int sampler__probe_elf(const char *path, struct ms_sampler_info *ret)
{
	struct ms_elf *elf = ms_elf__open(path);
	GElf_Sym abi, mean, dropped, pending;
	int err;

	memset(ret, 0, sizeof(*ret));
	if (!elf)
		return 0;
	if (!has_memsight_probes(elf)) {
		err = 0;
		goto out;
	}
	err = find_export(elf, MEMSIGHT_SAMPLER_SYM_ABI, MEMSIGHT_SAMPLER_ABI_SIZE, &abi);
	if (!err)
		err = find_export(elf, MEMSIGHT_SAMPLER_SYM_MEAN, MEMSIGHT_SAMPLER_MEAN_SIZE,
				  &mean);
	if (!err && ms_elf__read_vaddr(elf, abi.st_value, &ret->abi, sizeof(ret->abi)) !=
		    (int)sizeof(ret->abi))
		err = -ENOEXEC;
	if (!err)
		err = load_delta(elf, &ret->load_delta);
	/* optional: a library without it has its count unavailable */
	if (!err && find_export(elf, MEMSIGHT_SAMPLER_SYM_DROPPED, MEMSIGHT_SAMPLER_DROPPED_SIZE,
				&dropped) == 0)
		ret->dropped_vaddr = dropped.st_value;
	if (!err && find_export(elf, MEMSIGHT_SAMPLER_SYM_PENDING, MEMSIGHT_SAMPLER_PENDING_SIZE,
				&pending) == 0)
		ret->pending_vaddr = pending.st_value;
	if (err) {
		err = err < 0 ? err : -ENOEXEC;
		goto out;
	}
	ret->mean_vaddr = mean.st_value;
	err = 1;
out:
	ms_elf__close(elf);
	return err;
}

static bool same_file(const struct ms_map *a, const struct ms_map *b)
{
	return a->inode == b->inode && a->dev_major == b->dev_major && a->dev_minor == b->dev_minor;
}

int sampler__word_addr(const struct ms_maps *maps, const struct ms_map *m,
		       const struct ms_sampler_info *si, uint64_t vaddr, uint64_t *ret_addr)
{
	uint64_t addr = 0;
	size_t i;

	for (i = 0; i < maps->n; i++) {
		if (same_file(&maps->v[i], m) && maps->v[i].pgoff == 0) {
			addr = maps->v[i].start - si->load_delta + vaddr;
			break;
		}
	}
	if (i == maps->n)
		return -ENOENT;
	for (i = 0; i < maps->n; i++) {
		const struct ms_map *o = &maps->v[i];

		if (o->perms[1] == 'w' && addr >= o->start && addr + 8 <= o->end) {
			*ret_addr = addr;
			return 0;
		}
	}
	return -ENOENT;
}

int sampler__read_words(pid_t pid, uint64_t addr, uint64_t *ret, size_t n)
{
	struct iovec l = { ret, n * sizeof(*ret) }, r = { (void *)(uintptr_t)addr, n * sizeof(*ret) };
	ssize_t got;

	errno = 0;
	got = process_vm_readv(pid, &l, 1, &r, 1, 0);
	if (got != (ssize_t)(n * sizeof(*ret)))
		return got < 0 && errno ? -errno : -EIO;
	return 0;
}

int sampler__read_word(pid_t pid, uint64_t addr, uint64_t *ret)
{
	return sampler__read_words(pid, addr, ret, 1);
}

int sampler__write_word(pid_t pid, uint64_t addr, uint64_t value)
{
	struct iovec l = { &value, sizeof(value) }, r = { (void *)(uintptr_t)addr, sizeof(value) };

	if (process_vm_writev(pid, &l, 1, &r, 1, 0) != (ssize_t)sizeof(value))
		return errno ? -errno : -EIO;
	return 0;
}
