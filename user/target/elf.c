// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * elf.c - the one ELF reader (libelf): every other module asks it.
 *
 * Every input here may be hostile (a target can map any file), so table
 * sizes are checked against the file before libelf allocates from them,
 * compressed sections are capped before they are inflated, and the file is
 * read, not mapped, so that one truncated under us cannot SIGBUS.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "target/elf.h"

#define VERSYM_HIDDEN	0x8000

struct ms_elf {
	int fd;
	Elf *elf;
	struct stat st;
	GElf_Ehdr ehdr;
	bool have_ehdr;
	GElf_Phdr *phdrs;
	size_t phnum;
	size_t shnum;
	size_t shstrndx;	/* SHN_UNDEF: no section names */
	Elf_Scn *symtab;
	Elf_Scn *dynsym;
	Elf_Scn *versym;
	Elf_Scn *debuglink;
	Elf_Scn *debug_info;	/* .debug_info with contents, if any */
	bool has_dwarf;
	uint8_t build_id[MS_ELF_BUILD_ID_CAP];
	size_t build_id_len;
};

/* ---- opening ---------------------------------------------------------- */

/* libelf trusts e_phnum/e_shnum; a table that cannot fit in the file is corrupt. */
static bool range_fits(const struct ms_elf *e, uint64_t off, uint64_t num, uint64_t entsize)
{
	uint64_t bytes, end;

	if (__builtin_mul_overflow(num, entsize, &bytes) ||
	    __builtin_add_overflow(off, bytes, &end))
		return false;
	return end <= (uint64_t)e->st.st_size;
}

static bool note_build_id(struct ms_elf *e, Elf_Data *data)
{
	size_t off = 0, next, name_off, desc_off;
	GElf_Nhdr nh;

	while (off < data->d_size &&
	       (next = gelf_getnote(data, off, &nh, &name_off, &desc_off)) > 0) {
		if (nh.n_type == NT_GNU_BUILD_ID && nh.n_namesz == 4 &&
		    !memcmp((char *)data->d_buf + name_off, "GNU", 4) &&
		    nh.n_descsz > 0 && nh.n_descsz <= MS_ELF_BUILD_ID_CAP) {
			memcpy(e->build_id, (char *)data->d_buf + desc_off, nh.n_descsz);
			e->build_id_len = nh.n_descsz;
			return true;
		}
		off = next;
	}
	return false;
}

/* Sections first: in a debug file the PT_NOTE segment points at nothing. */
static void read_build_id(struct ms_elf *e)
{
	bool had_note_scn = false;
	Elf_Scn *scn = NULL;
	size_t i;

	while ((scn = elf_nextscn(e->elf, scn))) {
		GElf_Shdr sh;
		Elf_Data *d;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_NOTE)
			continue;
		had_note_scn = true;
		if (sh.sh_flags & SHF_COMPRESSED)
			continue;
		d = elf_getdata(scn, NULL);
		if (d && note_build_id(e, d))
			return;
	}
	if (had_note_scn)
		return;
	for (i = 0; i < e->phnum; i++) {
		const GElf_Phdr *ph = &e->phdrs[i];
		Elf_Data *d;

		if (ph->p_type != PT_NOTE)
			continue;
		d = elf_getdata_rawchunk(e->elf, ph->p_offset, ph->p_filesz,
					 ph->p_align == 8 ? ELF_T_NHDR8 : ELF_T_NHDR);
		if (d && note_build_id(e, d))
			return;
	}
}

/* Returns 0 or a positive errno (the constructor sets errno from it). */
static int scan_sections(struct ms_elf *e, unsigned int flags)
{
	bool debug_line = false;
	Elf_Scn *scn = NULL;

	if (elf_getshdrnum(e->elf, &e->shnum))
		return ENOEXEC;
	if (!e->ehdr.e_shoff && !e->shnum)
		return 0;
	/* libelf drops a section table past EOF silently: that is a truncated file */
	if (!e->shnum)
		return ENOEXEC;
	if (e->ehdr.e_shentsize != gelf_fsize(e->elf, ELF_T_SHDR, 1, EV_CURRENT) ||
	    !range_fits(e, e->ehdr.e_shoff, e->shnum, e->ehdr.e_shentsize))
		return ENOEXEC;
	if (elf_getshdrstrndx(e->elf, &e->shstrndx))
		return ENOEXEC;

	while ((scn = elf_nextscn(e->elf, scn))) {
		const char *name;
		GElf_Shdr sh;

		if (!gelf_getshdr(scn, &sh))
			return ENOEXEC;
		if ((flags & MS_ELF_STRICT) && sh.sh_type != SHT_NOBITS &&
		    !range_fits(e, sh.sh_offset, sh.sh_size, 1))
			return ENOEXEC;
		if (sh.sh_type == SHT_SYMTAB && !e->symtab)
			e->symtab = scn;
		else if (sh.sh_type == SHT_DYNSYM && !e->dynsym)
			e->dynsym = scn;
		else if (sh.sh_type == SHT_GNU_versym && !e->versym)
			e->versym = scn;
		/* A corrupt .shstrtab costs the names, not the file. */
		name = elf_strptr(e->elf, e->shstrndx, sh.sh_name);
		if (!name)
			continue;
		if (!strcmp(name, ".gnu_debuglink"))
			e->debuglink = scn;
		else if (sh.sh_type != SHT_NOBITS && !strcmp(name, ".debug_info") && !e->debug_info)
			e->debug_info = scn;
		else if (sh.sh_type != SHT_NOBITS && !strcmp(name, ".debug_line"))
			debug_line = true;
	}
	e->has_dwarf = e->debug_info && debug_line;
	return 0;
}

static int read_phdrs(struct ms_elf *e, unsigned int flags)
{
	size_t i;

	if (elf_getphdrnum(e->elf, &e->phnum))
		return ENOEXEC;
	if (!e->phnum)
		return 0;
	if (e->ehdr.e_phentsize != gelf_fsize(e->elf, ELF_T_PHDR, 1, EV_CURRENT) ||
	    !range_fits(e, e->ehdr.e_phoff, e->phnum, e->ehdr.e_phentsize))
		return ENOEXEC;
	e->phdrs = calloc(e->phnum, sizeof(*e->phdrs));
	if (!e->phdrs)
		return ENOMEM;
	for (i = 0; i < e->phnum; i++) {
		const GElf_Phdr *ph = &e->phdrs[i];

		if (!gelf_getphdr(e->elf, (int)i, &e->phdrs[i]))
			return ENOEXEC;
		if ((flags & MS_ELF_STRICT) && ph->p_type == PT_LOAD &&
		    !range_fits(e, ph->p_offset, ph->p_filesz, 1))
			return ENOEXEC;
	}
	return 0;
}

static int elf_setup(struct ms_elf *e, unsigned int flags)
{
	int err;

	if (elf_version(EV_CURRENT) == EV_NONE)
		return ENOEXEC;
	/* ELF_C_READ, not mmap: a file truncated under us must not SIGBUS. */
	e->elf = elf_begin(e->fd, ELF_C_READ, NULL);
	if (!e->elf || elf_kind(e->elf) != ELF_K_ELF || !gelf_getehdr(e->elf, &e->ehdr))
		return ENOEXEC;
	e->have_ehdr = true;
	if (e->ehdr.e_type != ET_EXEC && e->ehdr.e_type != ET_DYN)
		return ENOEXEC;
	err = read_phdrs(e, flags);
	if (err)
		return err;
	err = scan_sections(e, flags);
	if (err)
		return err;
	read_build_id(e);
	return 0;
}

/* MS_ELF_STRICT: an ELF file (by its magic) that does not parse is broken, not "not ELF". */
static bool is_broken_elf(const struct ms_elf *e)
{
	char ident[SELFMAG];

	if (e->have_ehdr && e->ehdr.e_type != ET_EXEC && e->ehdr.e_type != ET_DYN)
		return false;
	return pread(e->fd, ident, SELFMAG, 0) == SELFMAG && !memcmp(ident, ELFMAG, SELFMAG);
}

struct ms_elf *ms_elf__open_flags(const char *path, unsigned int flags)
{
	struct ms_elf *e;
	int err;

	if (!path) {
		errno = EINVAL;
		return NULL;
	}
	e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	/* O_NONBLOCK: a FIFO planted at a module path must not hang us. */
	e->fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (e->fd < 0) {
		err = errno;
		goto fail;
	}
	if (fstat(e->fd, &e->st)) {
		err = errno;
		goto fail;
	}
	if (!S_ISREG(e->st.st_mode)) {
		err = S_ISDIR(e->st.st_mode) ? EISDIR : ENOEXEC;
		goto fail;
	}
	err = elf_setup(e, flags);
	if (err == ENOEXEC && (flags & MS_ELF_STRICT) && is_broken_elf(e))
		err = EINVAL;
	if (err)
		goto fail;
	return e;
fail:
	ms_elf__close(e);
	errno = err;
	return NULL;
}

struct ms_elf *ms_elf__open(const char *path)
{
	return ms_elf__open_flags(path, 0);
}

void ms_elf__close(struct ms_elf *e)
{
	if (!e)
		return;
	if (e->elf)
		elf_end(e->elf);
	if (e->fd >= 0)
		close(e->fd);
	free(e->phdrs);
	free(e);
}

const GElf_Ehdr *ms_elf__ehdr(const struct ms_elf *e)
{
	return &e->ehdr;
}

Elf *ms_elf__handle(const struct ms_elf *e)
{
	return e->elf;
}

const struct stat *ms_elf__stat(const struct ms_elf *e)
{
	return &e->st;
}

int ms_elf__is_dyn(const struct ms_elf *e)
{
	return e->ehdr.e_type == ET_DYN;
}

bool ms_elf__same_file(const struct ms_elf *a, const struct ms_elf *b)
{
	return a->st.st_dev == b->st.st_dev && a->st.st_ino == b->st.st_ino;
}

int ms_elf__build_id(const struct ms_elf *e, uint8_t *buf, size_t len)
{
	if (!e->build_id_len)
		return -ENOENT;
	if (len < e->build_id_len)
		return -ENOSPC;
	memcpy(buf, e->build_id, e->build_id_len);
	return (int)e->build_id_len;
}

/* ---- segments and bytes ------------------------------------------------ */

size_t ms_elf__nsegments(const struct ms_elf *e)
{
	return e->phnum;
}

const GElf_Phdr *ms_elf__segment(const struct ms_elf *e, size_t i)
{
	return i < e->phnum ? &e->phdrs[i] : NULL;
}

/* The file-backed PT_LOAD holding vaddr, or NULL. */
static const GElf_Phdr *load_of_vaddr(const struct ms_elf *e, uint64_t vaddr)
{
	size_t i;

	for (i = 0; i < e->phnum; i++) {
		const GElf_Phdr *ph = &e->phdrs[i];

		if (ph->p_type == PT_LOAD && vaddr >= ph->p_vaddr &&
		    vaddr - ph->p_vaddr < ph->p_filesz)
			return ph;
	}
	return NULL;
}

int ms_elf__vaddr_to_offset(const struct ms_elf *e, uint64_t vaddr, uint64_t *ret_off)
{
	const GElf_Phdr *ph = load_of_vaddr(e, vaddr);

	if (!ph)
		return -ENOENT;
	*ret_off = vaddr - ph->p_vaddr + ph->p_offset;
	return 0;
}

int ms_elf__offset_to_vaddr(const struct ms_elf *e, uint64_t off, uint64_t *ret_vaddr)
{
	size_t i;

	for (i = 0; i < e->phnum; i++) {
		const GElf_Phdr *ph = &e->phdrs[i];

		if (ph->p_type == PT_LOAD && off >= ph->p_offset &&
		    off - ph->p_offset < ph->p_filesz) {
			*ret_vaddr = off - ph->p_offset + ph->p_vaddr;
			return 0;
		}
	}
	return -ENOENT;
}

int ms_elf__read_offset(const struct ms_elf *e, uint64_t off, void *buf, size_t len)
{
	size_t done = 0;

	if (e->fd < 0)
		return -EBADF;
	if (len > INT_MAX)
		len = INT_MAX;
	if (off > (uint64_t)INT64_MAX - len)
		return -EINVAL;
	while (done < len) {
		ssize_t n = pread(e->fd, (char *)buf + done, len - done, (off_t)(off + done));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)	/* file shorter than its headers say */
			break;
		done += (size_t)n;
	}
	return (int)done;
}

int ms_elf__read_vaddr(const struct ms_elf *e, uint64_t vaddr, void *buf, size_t len)
{
	const GElf_Phdr *ph = load_of_vaddr(e, vaddr);
	uint64_t rel;

	if (!ph)
		return -ENOENT;
	rel = vaddr - ph->p_vaddr;
	/* Bytes past p_filesz are .bss: not in the file. */
	if (len > ph->p_filesz - rel)
		len = ph->p_filesz - rel;
	return ms_elf__read_offset(e, ph->p_offset + rel, buf, len);
}

/* ---- sections ----------------------------------------------------------- */

static int section_fill(const struct ms_elf *e, Elf_Scn *scn, struct ms_elf_section *ret)
{
	const char *name = NULL;
	GElf_Shdr sh;

	if (!gelf_getshdr(scn, &sh))
		return -ENOEXEC;
	if (e->shstrndx)
		name = elf_strptr(e->elf, e->shstrndx, sh.sh_name);
	ret->name = name ? name : "";
	ret->scn = scn;
	ret->index = elf_ndxscn(scn);
	ret->type = sh.sh_type;
	ret->flags = sh.sh_flags;
	ret->addr = sh.sh_addr;
	ret->offset = sh.sh_offset;
	ret->size = sh.sh_size;
	ret->link = sh.sh_link;
	return 0;
}

int ms_elf__section(const struct ms_elf *e, size_t i, struct ms_elf_section *ret)
{
	Elf_Scn *scn;

	if (i >= e->shnum || !(scn = elf_getscn(e->elf, i)))
		return -ENOENT;
	return section_fill(e, scn, ret);
}

int ms_elf__section_by_name(const struct ms_elf *e, const char *name,
			    struct ms_elf_section *ret)
{
	size_t i;

	for (i = 1; i < e->shnum; i++)
		if (!ms_elf__section(e, i, ret) && !strcmp(ret->name, name))
			return 0;
	return -ENOENT;
}

static int scn_data(Elf_Scn *scn, Elf_Data **ret)
{
	GElf_Shdr sh;
	Elf_Data *d;

	*ret = NULL;
	if (!gelf_getshdr(scn, &sh))
		return -ENOEXEC;
	if (sh.sh_type == SHT_NOBITS)
		return -ENOENT;
	if (sh.sh_flags & SHF_COMPRESSED) {
		GElf_Chdr ch;

		if (!gelf_getchdr(scn, &ch))
			return -ENOEXEC;
		if (ch.ch_type != ELFCOMPRESS_ZLIB)
			return -EOPNOTSUPP;
		if (ch.ch_size > MS_ELF_MAX_SECTION)
			return -EFBIG;
		if (elf_compress(scn, 0, 0) < 0)
			return -ENOEXEC;
	} else if (sh.sh_size > MS_ELF_MAX_SECTION) {
		return -EFBIG;
	} else if (!sh.sh_size) {
		return 0;
	}
	d = elf_getdata(scn, NULL);
	if (!d)
		return -ENOEXEC;
	*ret = d->d_size ? d : NULL;
	return 0;
}

int ms_elf__section_data(const struct ms_elf_section *s, Elf_Data **ret)
{
	return scn_data(s->scn, ret);
}

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

/* ---- symbols ------------------------------------------------------------- */

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
	err = scn_data(scn, &v->syms);
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
	err = scn_data(strscn, &v->strs);
	if (err)
		return err == -ENOENT ? -ENOEXEC : err;
	/* Version flags are a preference only: ignore them if unreadable. */
	if (dyn && e->versym && !scn_data(e->versym, &v->vers) && v->vers)
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
	err = scn_data(symtab_scn(e, which), &d);
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

/* ---- debug information ---------------------------------------------------- */

int ms_elf__debuglink(const struct ms_elf *e, char *name, size_t namesz, uint32_t *ret_crc)
{
	const unsigned char *p, *c;
	size_t len, crc_off;
	Elf_Data *d;

	/* .gnu_debuglink: NUL-terminated basename, padding to 4, CRC32 of the debug file. */
	if (!e->debuglink || scn_data(e->debuglink, &d) || !d)
		return -ENOENT;
	p = d->d_buf;
	len = strnlen((const char *)p, d->d_size);
	crc_off = (len + 4) & ~(size_t)3;
	/* A '/' would let the file steer us out of the search directories. */
	if (!len || len >= namesz || crc_off + 4 > d->d_size || memchr(p, '/', len))
		return -ENOENT;
	memcpy(name, p, len);
	name[len] = '\0';
	c = p + crc_off;
	if (e->ehdr.e_ident[EI_DATA] == ELFDATA2MSB)
		*ret_crc = (uint32_t)c[0] << 24 | (uint32_t)c[1] << 16 | (uint32_t)c[2] << 8 | c[3];
	else
		*ret_crc = (uint32_t)c[3] << 24 | (uint32_t)c[2] << 16 | (uint32_t)c[1] << 8 | c[0];
	return 0;
}

int ms_elf__crc32(const struct ms_elf *e, uint32_t *ret)
{
	const size_t chunk = 64 << 10;
	uLong crc = crc32(0, Z_NULL, 0);
	unsigned char *buf;
	off_t off = 0;
	ssize_t n;

	if (e->fd < 0)
		return -EBADF;
	buf = malloc(chunk);
	if (!buf)
		return -ENOMEM;
	for (;;) {
		n = pread(e->fd, buf, chunk, off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		crc = crc32(crc, buf, (uInt)n);
		off += n;
	}
	free(buf);
	if (n < 0)
		return -EIO;
	*ret = (uint32_t)crc;
	return 0;
}

bool ms_elf__has_dwarf(const struct ms_elf *e)
{
	return e->has_dwarf;
}

/* Runs after the size checks: inflating here is what libdw would do next anyway. */
static bool strings_terminated(struct ms_elf *e)
{
	struct ms_elf_section s;
	size_t i;

	for (i = 1; i < e->shnum; i++) {
		Elf_Data *d;

		if (ms_elf__section(e, i, &s))
			return false;
		if (strcmp(s.name, ".debug_str") && strcmp(s.name, ".debug_line_str"))
			continue;
		if (scn_data(s.scn, &d))
			return false;
		if (d && ((const char *)d->d_buf)[d->d_size - 1] != '\0')
			return false;
	}
	return true;
}

bool ms_elf__dwarf_sane(struct ms_elf *e)
{
	struct ms_elf_section s;
	size_t i;

	for (i = 1; i < e->shnum; i++) {
		GElf_Chdr ch;

		if (ms_elf__section(e, i, &s))
			return false;
		if (!s.name[0] || strncmp(s.name, ".debug_", 7) || s.type == SHT_NOBITS)
			continue;
		if (!(s.flags & SHF_COMPRESSED)) {
			if (s.size > MS_ELF_MAX_SECTION)
				return false;
			continue;
		}
		if (!gelf_getchdr(s.scn, &ch) || ch.ch_type != ELFCOMPRESS_ZLIB ||
		    ch.ch_size > MS_ELF_MAX_SECTION)
			return false;
	}
	return strings_terminated(e);
}

Elf_Data *ms_elf__debug_info(const struct ms_elf *e)
{
	return e->debug_info ? elf_getdata(e->debug_info, NULL) : NULL;
}

void ms_elf__drop_fd(struct ms_elf *e)
{
	if (e->fd < 0)
		return;
	elf_cntl(e->elf, ELF_C_FDDONE);
	close(e->fd);
	e->fd = -1;
}
