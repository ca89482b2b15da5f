// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * elf_sym.c - the ELF reader's symbol tables (.symtab, .dynsym with its
 * version flags): a walk that yields only named symbols whose names end
 * inside the string table, and the questions asked of it (a function by
 * name, a sample of functions, where a size-0 symbol ends).
 */
#include <errno.h>
#include <limits.h>
#include <string.h>

#include "target/elf_int.h"

#define VERSYM_HIDDEN	0x8000

uint64_t ms_elf__section_end(const struct ms_elf *e, const GElf_Sym *sym)
{
	GElf_Shdr sh;
	Elf_Scn *scn;

	if (sym->st_shndx >= SHN_LORESERVE)
		return UINT64_MAX;
	scn = elf_getscn(e->elf, sym->st_shndx);
	if (!scn || !gelf_getshdr(scn, &sh) || sym->st_value < sh.sh_addr ||
	    sym->st_value - sh.sh_addr >= sh.sh_size)
		return UINT64_MAX;
	return sh.sh_addr + sh.sh_size;
}

/* A symbol table with its strings (and, for .dynsym, version flags). */
struct symview {
	Elf_Data *syms;
	Elf_Data *strs;
	Elf_Data *vers;
	size_t n;
	size_t nvers;
};

static int symview__open(struct ms_elf *e, Elf_Scn *scn, bool dyn, struct symview *v)
{
	Elf_Scn *strscn;
	GElf_Shdr sh;
	size_t entsz;
	int err;

	memset(v, 0, sizeof(*v));
	if (!gelf_getshdr(scn, &sh))
		return -ENOEXEC;
	err = ms_elf_scn_data(scn, &v->syms);
	if (err == -ENOENT)		/* NOBITS: as good as empty */
		return 0;
	if (err || !v->syms)
		return err;
	entsz = gelf_fsize(e->elf, ELF_T_SYM, 1, EV_CURRENT);
	v->n = entsz ? v->syms->d_size / entsz : 0;
	if (!v->n)
		return 0;
	strscn = elf_getscn(e->elf, sh.sh_link);
	if (!strscn || sh.sh_link == 0)
		return -ENOEXEC;
	err = ms_elf_scn_data(strscn, &v->strs);
	if (err)
		return err == -ENOENT ? -ENOEXEC : err;
	/* Version flags are a preference only: ignore them if unreadable. */
	if (dyn && e->versym && !ms_elf_scn_data(e->versym, &v->vers) && v->vers)
		v->nvers = v->vers->d_size / sizeof(GElf_Versym);
	return 0;
}

/* Symbol i if it has a name (terminated inside the string table). */
static bool symview__get(const struct symview *v, size_t i, struct ms_elf_sym *ret)
{
	GElf_Sym *sym = &ret->sym;
	int bind;

	if (!gelf_getsym(v->syms, (int)i, sym))
		return false;
	if (!v->strs || sym->st_name >= v->strs->d_size)
		return false;
	ret->name = (const char *)v->strs->d_buf + sym->st_name;
	if (!memchr(ret->name, '\0', v->strs->d_size - sym->st_name))
		return false;
	ret->len = strcspn(ret->name, "@");
	if (!ret->len)
		return false;
	ret->index = i;
	bind = GELF_ST_BIND(sym->st_info);
	ret->rank = bind == STB_GLOBAL || bind == STB_GNU_UNIQUE ? 0 : bind == STB_WEAK ? 2 : 4;
	if (i < v->nvers) {
		GElf_Versym vs;

		if (gelf_getversym(v->vers, (int)i, &vs) && (vs & VERSYM_HIDDEN))
			ret->rank |= 1;
	}
	return true;
}

bool ms_elf_sym__is_func(const struct ms_elf_sym *s)
{
	int type = GELF_ST_TYPE(s->sym.st_info);

	return (type == STT_FUNC || type == STT_GNU_IFUNC) && s->sym.st_shndx != SHN_UNDEF;
}

static Elf_Scn *symtab_scn(const struct ms_elf *e, enum ms_elf_symtab which)
{
	return which == MS_ELF_DYNSYM ? e->dynsym : e->symtab;
}

bool ms_elf__has_symtab(const struct ms_elf *e, enum ms_elf_symtab which)
{
	return symtab_scn(e, which) != NULL;
}

int ms_elf__for_each_sym(struct ms_elf *e, enum ms_elf_symtab which,
			 int (*fn)(const struct ms_elf_sym *sym, void *arg), void *arg)
{
	Elf_Scn *scn = symtab_scn(e, which);
	struct ms_elf_sym s;
	struct symview v;
	size_t i;
	int err;

	if (!scn)
		return -ENOENT;
	err = symview__open(e, scn, which == MS_ELF_DYNSYM, &v);
	if (err)
		return err;
	for (i = 0; i < v.n; i++) {
		if (!symview__get(&v, i, &s))
			continue;
		err = fn(&s, arg);
		if (err)
			return err;
	}
	return 0;
}

struct find_func {
	const char *name;
	size_t len;
	unsigned int best_rank;
	GElf_Sym best;
};

static int find_func_one(const struct ms_elf_sym *s, void *arg)
{
	struct find_func *f = arg;

	if (!ms_elf_sym__is_func(s) || s->len != f->len || memcmp(s->name, f->name, s->len) ||
	    s->rank >= f->best_rank)
		return 0;
	f->best = s->sym;
	f->best_rank = s->rank;
	return f->best_rank == 0;	/* nothing can beat it */
}

int ms_elf__find_func(struct ms_elf *e, const char *name, uint64_t *ret_vaddr, uint64_t *ret_size)
{
	static const enum ms_elf_symtab tabs[2] = { MS_ELF_SYMTAB, MS_ELF_DYNSYM };
	int t;

	if (!name)
		return -EINVAL;
	for (t = 0; t < 2; t++) {
		struct find_func f = { name, strlen(name), UINT_MAX, { 0 } };
		int err;

		if (!ms_elf__has_symtab(e, tabs[t]))
			continue;
		err = ms_elf__for_each_sym(e, tabs[t], find_func_one, &f);
		if (err < 0)
			return err;
		if (f.best_rank != UINT_MAX) {
			if (ret_vaddr)
				*ret_vaddr = f.best.st_value;
			if (ret_size)
				*ret_size = f.best.st_size;
			return 0;
		}
	}
	return -ENOENT;
}

struct sample {
	uint64_t min_size;
	uint64_t *vaddrs;
	size_t max, n, step;
};

static int sample_one(const struct ms_elf_sym *s, void *arg)
{
	struct sample *sm = arg;
	size_t i = s->index;

	/* spread over the table, but take the next function when one is not */
	if (i % sm->step && sm->n * sm->step >= i)
		return 0;
	if (!ms_elf_sym__is_func(s) || s->sym.st_size < sm->min_size)
		return 0;
	sm->vaddrs[sm->n++] = s->sym.st_value;
	return sm->n == sm->max;
}

int ms_elf__sample_funcs(struct ms_elf *e, uint64_t min_size, uint64_t *ret_vaddrs, size_t max)
{
	enum ms_elf_symtab which = e->symtab ? MS_ELF_SYMTAB : MS_ELF_DYNSYM;
	struct sample sm = { min_size, ret_vaddrs, max, 0, 1 };
	size_t entsz, nsyms;
	Elf_Data *d;
	int err;

	if (!symtab_scn(e, which) || !max)
		return 0;
	/* the step needs the table's length before the walk */
	err = ms_elf_scn_data(symtab_scn(e, which), &d);
	if (err == -ENOENT || (!err && !d))
		return 0;
	if (err)
		return err;
	entsz = gelf_fsize(e->elf, ELF_T_SYM, 1, EV_CURRENT);
	nsyms = entsz ? d->d_size / entsz : 0;
	sm.step = nsyms / max > 1 ? nsyms / max : 1;
	err = ms_elf__for_each_sym(e, which, sample_one, &sm);
	return err < 0 ? err : (int)sm.n;
}
