// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * mkseeds OUTDIR - tiny, well-formed ELF files for the fuzzers, written at
 * build time: real binaries are tens of KiB to MiB, and most mutations of
 * those land in code bytes nobody parses. These are a few hundred bytes,
 * every one of them part of a structure the parsers read:
 *
 *   OUTDIR/goruntime/  a Go-looking executable with a 3-function .gopclntab
 *                      in each layout we read (1.16, 1.18, 1.20), both byte
 *                      orders and pointer sizes, buildinfo inline / by
 *                      pointers / absent (runtime.buildVersion), and one
 *                      without section headers;
 *   OUTDIR/symbolize/  an ELF with .symtab, .dynsym + .gnu.version, a
 *                      build-id note and a .gnu_debuglink, plain, with a
 *                      zlib-compressed .symtab, as ELF32 big-endian, and
 *                      without section headers (build-id via PT_NOTE).
 *
 * Layout is ours (ELF_F_LAYOUT): each allocated section's address is
 * BASE + its file offset, covered by PT_LOADs. libelf writes the headers
 * in the target class and byte order; section contents are built in the
 * target byte order here.
 */
#include <elf.h>
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#define BASE	0x400000ull
#define MAXSEC	16

/* ---- target-order byte buffers ---------------------------------------- */

struct buf {
	uint8_t *p;
	size_t len, cap;
	bool be;
	unsigned int ptr;	/* 4 or 8 */
};

static void put(struct buf *b, const void *s, size_t n)
{
	if (b->len + n > b->cap) {
		b->cap = (b->len + n) * 2 + 64;
		b->p = realloc(b->p, b->cap);
		if (!b->p)
			err(1, "realloc");
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
}

static void put_n(struct buf *b, uint64_t v, unsigned int n)
{
	uint8_t x[8];
	unsigned int i;

	for (i = 0; i < n; i++)
		x[b->be ? n - 1 - i : i] = (uint8_t)(v >> (8 * i));
	put(b, x, n);
}

static void put8(struct buf *b, uint8_t v) { put(b, &v, 1); }
static void put16(struct buf *b, uint16_t v) { put_n(b, v, 2); }
static void put32(struct buf *b, uint32_t v) { put_n(b, v, 4); }
static void put_ptr(struct buf *b, uint64_t v) { put_n(b, v, b->ptr); }
static void put_str(struct buf *b, const char *s) { put(b, s, strlen(s) + 1); }

static void put_uvarint(struct buf *b, uint64_t v)
{
	while (v >= 0x80) {
		put8(b, (uint8_t)(v | 0x80));
		v >>= 7;
	}
	put8(b, (uint8_t)v);
}

static void align(struct buf *b, size_t a)
{
	while (b->len % a)
		put8(b, 0);
}

/* Overwrite n bytes at off (fields whose value is known only later). */
static void patch_n(struct buf *b, size_t off, uint64_t v, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		b->p[off + (b->be ? n - 1 - i : i)] = (uint8_t)(v >> (8 * i));
}

/* ---- a tiny ELF writer ------------------------------------------------- */

struct sec {
	const char *name;
	uint32_t type;
	uint64_t flags;
	uint64_t align, entsize;
	uint32_t link, info;	/* section indexes (1-based, as in the file) */
	struct buf data;
	uint64_t off, addr;	/* set by layout() */
};

struct elf_spec {
	bool is32, be;
	uint16_t type, machine;
	struct sec sec[MAXSEC];	/* sec[0] unused: index 0 is SHN_UNDEF */
	unsigned int nsec;	/* highest index used */
	uint64_t entry;
	bool note_phdr;		/* a PT_NOTE for the first SHT_NOTE section */
	unsigned int rw_from;	/* first section of the RW PT_LOAD, 0: one RWX PT_LOAD */
	uint64_t shoff;
};

static struct sec *add_sec(struct elf_spec *s, const char *name, uint32_t type, uint64_t flags,
			   uint64_t align_)
{
	struct sec *x = &s->sec[++s->nsec];

	if (s->nsec >= MAXSEC)
		errx(1, "too many sections");
	memset(x, 0, sizeof(*x));
	x->name = name;
	x->type = type;
	x->flags = flags;
	x->align = align_ ? align_ : 1;
	x->data.be = s->be;
	x->data.ptr = s->is32 ? 4 : 8;
	return x;
}

static unsigned int nphdr(const struct elf_spec *s)
{
	return 1 + (s->rw_from ? 1 : 0) + (s->note_phdr ? 1 : 0);
}

/* File offsets from the (final) sizes; addresses follow offsets. */
static void layout(struct elf_spec *s)
{
	uint64_t off = s->is32 ? sizeof(Elf32_Ehdr) + nphdr(s) * sizeof(Elf32_Phdr) :
				 sizeof(Elf64_Ehdr) + nphdr(s) * sizeof(Elf64_Phdr);
	unsigned int i;

	for (i = 1; i <= s->nsec; i++) {
		struct sec *x = &s->sec[i];

		off = (off + x->align - 1) / x->align * x->align;
		x->off = off;
		x->addr = x->flags & SHF_ALLOC ? BASE + off : 0;
		off += x->data.len;
	}
	s->shoff = (off + 7) / 8 * 8;
}

static void write_elf(const char *path, struct elf_spec *s)
{
	struct buf shstr = { 0 };
	uint32_t names[MAXSEC];
	uint64_t alloc_end = 0, rw_off = 0;
	unsigned int i, ph = 0;
	GElf_Ehdr eh;
	GElf_Phdr p;
	Elf *e;
	int fd;

	/* .shstrtab last, so its own layout does not move the others. */
	put8(&shstr, 0);
	for (i = 1; i <= s->nsec; i++) {
		names[i] = (uint32_t)shstr.len;
		put_str(&shstr, s->sec[i].name);
	}
	names[s->nsec + 1] = (uint32_t)shstr.len;
	put_str(&shstr, ".shstrtab");
	{
		struct sec *x = add_sec(s, ".shstrtab", SHT_STRTAB, 0, 1);

		x->data = shstr;
	}
	layout(s);
	for (i = 1; i <= s->nsec; i++)
		if (s->sec[i].flags & SHF_ALLOC)
			alloc_end = s->sec[i].off + s->sec[i].data.len;
	if (s->rw_from)
		rw_off = s->sec[s->rw_from].off;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0755);
	if (fd < 0)
		err(1, "%s", path);
	e = elf_begin(fd, ELF_C_WRITE, NULL);
	if (!e || !gelf_newehdr(e, s->is32 ? ELFCLASS32 : ELFCLASS64) ||
	    !gelf_newphdr(e, nphdr(s)))
		errx(1, "%s: %s", path, elf_errmsg(-1));
	elf_flagelf(e, ELF_C_SET, ELF_F_LAYOUT);
	gelf_getehdr(e, &eh);
	eh.e_ident[EI_DATA] = s->be ? ELFDATA2MSB : ELFDATA2LSB;
	eh.e_type = s->type;
	eh.e_machine = s->machine;
	eh.e_version = EV_CURRENT;
	eh.e_entry = s->entry;
	eh.e_phoff = s->is32 ? sizeof(Elf32_Ehdr) : sizeof(Elf64_Ehdr);
	eh.e_shoff = s->shoff;
	eh.e_shstrndx = s->nsec;
	gelf_update_ehdr(e, &eh);

	for (i = 1; i <= s->nsec; i++) {
		struct sec *x = &s->sec[i];
		Elf_Scn *scn = elf_newscn(e);
		Elf_Data *d;
		GElf_Shdr sh;

		if (!scn || !(d = elf_newdata(scn)))
			errx(1, "%s: %s", path, elf_errmsg(-1));
		d->d_buf = x->data.p;
		d->d_size = x->data.len;
		d->d_type = ELF_T_BYTE;
		d->d_align = 1;
		d->d_version = EV_CURRENT;
		gelf_getshdr(scn, &sh);
		sh.sh_name = names[i];
		sh.sh_type = x->type;
		sh.sh_flags = x->flags;
		sh.sh_addr = x->addr;
		sh.sh_offset = x->off;
		sh.sh_size = x->data.len;
		sh.sh_link = x->link;
		sh.sh_info = x->info;
		sh.sh_addralign = x->align;
		sh.sh_entsize = x->entsize;
		gelf_update_shdr(scn, &sh);
	}

	memset(&p, 0, sizeof(p));
	p.p_type = PT_LOAD;
	p.p_offset = 0;
	p.p_vaddr = p.p_paddr = BASE;
	p.p_filesz = p.p_memsz = s->rw_from ? rw_off : alloc_end;
	p.p_flags = s->rw_from ? PF_R | PF_X : PF_R | PF_W | PF_X;
	p.p_align = 0x1000;
	gelf_update_phdr(e, ph++, &p);
	if (s->rw_from) {
		p.p_offset = rw_off;
		p.p_vaddr = p.p_paddr = BASE + rw_off;
		p.p_filesz = p.p_memsz = alloc_end - rw_off;
		p.p_flags = PF_R | PF_W;
		gelf_update_phdr(e, ph++, &p);
	}
	if (s->note_phdr) {
		for (i = 1; i <= s->nsec && s->sec[i].type != SHT_NOTE; i++)
			;
		if (i > s->nsec)
			errx(1, "%s: PT_NOTE without a note section", path);
		p.p_type = PT_NOTE;
		p.p_offset = s->sec[i].off;
		p.p_vaddr = p.p_paddr = s->sec[i].addr;
		p.p_filesz = p.p_memsz = s->sec[i].data.len;
		p.p_flags = PF_R;
		p.p_align = 4;
		gelf_update_phdr(e, ph++, &p);
	}
	if (elf_update(e, ELF_C_WRITE) < 0)
		errx(1, "%s: %s", path, elf_errmsg(-1));
	elf_end(e);
	close(fd);
	for (i = 1; i <= s->nsec; i++)
		free(s->sec[i].data.p);
}

/* Drop the section header table (as sstrip does): only program headers remain. */
static void drop_shdrs(const char *path, bool is32)
{
	uint8_t zero[8] = { 0 };
	int fd = open(path, O_WRONLY);

	if (fd < 0 ||
	    pwrite(fd, zero, is32 ? 4 : 8, is32 ? 0x20 : 0x28) < 0 ||	/* e_shoff */
	    pwrite(fd, zero, 6, is32 ? 0x2e : 0x3a) < 0)	/* e_shentsize, e_shnum, e_shstrndx */
		err(1, "%s", path);
	close(fd);
}

/* ---- Go ---------------------------------------------------------------- */

#define NFUNC	3
#define FUNC_SZ	0x40

static const char *const go_funcs[NFUNC] = { "main.main", "main.leakHandler", "runtime.mallocgc" };
static const uint8_t go_sentinel_start[16] = "0w\xaf\x0c\x92t\x08\x02" "A\xe1\xc1\x07\xe6\xd6\x18\xe6";
static const uint8_t go_sentinel_end[16] = "\xf9" "2C1\x86\x18 r\x00\x82" "B\x10" "A\x16\xd8\xf2";

struct go_variant {
	const char *name;
	bool is32, be;
	uint32_t magic;		/* 0xfffffffa 1.16, 0xfffffff0 1.18, 0xfffffff1 1.20 */
	unsigned int quantum;
	enum { BI_INLINE, BI_POINTERS, BI_NONE } buildinfo;
	bool no_shdrs;
};

/* pc-value table: (zig-zag value delta, pc delta / quantum) pairs, 0-terminated. */
static void pcvalue_step(struct buf *b, int32_t vdelta, uint32_t pcdelta, unsigned int quantum)
{
	uint32_t uv = vdelta < 0 ? ((uint32_t)~vdelta << 1) | 1 : (uint32_t)vdelta << 1;

	put_uvarint(b, uv);
	put_uvarint(b, pcdelta / quantum);
}

static void build_pclntab(struct buf *t, const struct go_variant *v, uint64_t text)
{
	bool rel = v->magic != 0xfffffffau;
	unsigned int ptr = t->ptr, nwords = rel ? 8 : 7, i, fsz = rel ? 4 : ptr;
	size_t words, funcname, cu, filetab, pctab, pcfile[NFUNC], pcln[NFUNC], functab;
	size_t funcoff[NFUNC], nameoff[NFUNC];

	put32(t, v->magic);
	put8(t, 0);
	put8(t, 0);
	put8(t, (uint8_t)v->quantum);
	put8(t, (uint8_t)ptr);
	words = t->len;
	for (i = 0; i < nwords; i++)
		put_ptr(t, 0);

	funcname = t->len;
	for (i = 0; i < NFUNC; i++) {
		nameoff[i] = t->len - funcname;
		put_str(t, go_funcs[i]);
	}
	align(t, 4);
	cu = t->len;
	put32(t, 0);		/* file 0 of CU 0 is at filetab + 0 */
	filetab = t->len;
	put_str(t, "/src/app/main.go");
	pctab = t->len;
	put8(t, 0);		/* offset 0 is the empty table */
	for (i = 0; i < NFUNC; i++) {
		pcfile[i] = t->len - pctab;
		pcvalue_step(t, 1, FUNC_SZ, v->quantum);	/* file -1 -> 0 */
		put8(t, 0);
		pcln[i] = t->len - pctab;
		pcvalue_step(t, 11 + 10 * (int32_t)i, FUNC_SZ / 2, v->quantum);	/* line 10+10i */
		pcvalue_step(t, 2, FUNC_SZ / 2, v->quantum);	/* then 2 lines on */
		put8(t, 0);
	}
	align(t, ptr);
	functab = t->len;
	/* nfunc {entry, funcoff} pairs, the end entry, then the _func records. */
	for (i = 0; i < 2 * NFUNC + 1; i++)
		put_n(t, 0, fsz);
	align(t, 4);
	for (i = 0; i < NFUNC; i++) {
		uint64_t entry = text + i * FUNC_SZ;

		funcoff[i] = t->len - functab;
		if (rel)
			put32(t, (uint32_t)(entry - text));
		else
			put_ptr(t, entry);
		put32(t, (uint32_t)nameoff[i]);
		put32(t, 0);		/* args */
		put32(t, 0);		/* deferreturn */
		put32(t, 0);		/* pcsp */
		put32(t, (uint32_t)pcfile[i]);
		put32(t, (uint32_t)pcln[i]);
		put32(t, 0);		/* npcdata */
		put32(t, 0);		/* cuOffset */
		put32(t, 0);		/* startLine, funcID, flag, nfuncdata */
		put32(t, 0);
	}
	for (i = 0; i < NFUNC; i++) {
		uint64_t entry = text + i * FUNC_SZ;

		patch_n(t, functab + 2 * i * fsz, rel ? entry - text : entry, fsz);
		patch_n(t, functab + (2 * i + 1) * fsz, funcoff[i], fsz);
	}
	patch_n(t, functab + 2 * NFUNC * fsz, rel ? NFUNC * FUNC_SZ : text + NFUNC * FUNC_SZ, fsz);

	{
		uint64_t w[8] = { NFUNC, 1 }, *o = w + 2;

		if (rel)
			*o++ = text;
		*o++ = funcname;
		*o++ = cu;
		*o++ = filetab;
		*o++ = pctab;
		*o++ = functab;
		for (i = 0; i < nwords; i++)
			patch_n(t, words + i * ptr, w[i], ptr);
	}
}

static void put_modinfo(struct buf *b)
{
	static const char mod[] = "path\texample.com/leaky/cmd/x\n"
				  "mod\texample.com/leaky\t(devel)\t\n";

	put(b, go_sentinel_start, 16);
	put(b, mod, strlen(mod));
	put(b, go_sentinel_end, 16);
}

static void build_buildinfo(struct buf *b, const struct go_variant *v, uint64_t addr)
{
	static const char vers[] = "go1.21.5";
	unsigned int ptr = b->ptr;
	struct buf mod = { .be = b->be };

	put_modinfo(&mod);
	put(b, "\xff Go buildinf:", 14);
	put8(b, (uint8_t)ptr);
	put8(b, (uint8_t)((v->buildinfo == BI_INLINE ? 2 : 0) | (v->be ? 1 : 0)));
	if (v->buildinfo == BI_INLINE) {
		put(b, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 16);
		put_uvarint(b, strlen(vers));
		put(b, vers, strlen(vers));
		put_uvarint(b, mod.len);
		put(b, mod.p, mod.len);
	} else {
		/* Two pointers to Go string headers {data, len}, which follow. */
		uint64_t hdr1 = 32, hdr2 = 32 + 2 * ptr, d1 = 32 + 4 * ptr, d2 = d1 + 16;

		put_ptr(b, addr + hdr1);
		put_ptr(b, addr + hdr2);
		align(b, 16);
		put_ptr(b, addr + d1);
		put_ptr(b, strlen(vers));
		put_ptr(b, addr + d2);
		put_ptr(b, mod.len);
		put(b, vers, strlen(vers));
		align(b, 16);
		put(b, mod.p, mod.len);
	}
	free(mod.p);
}

static void gen_go(const char *dir, const struct go_variant *v)
{
	struct elf_spec s = { .is32 = v->is32, .be = v->be, .type = ET_EXEC,
			      .machine = v->is32 ? (v->be ? EM_PPC : EM_386) :
					   (v->be ? EM_PPC64 : EM_X86_64) };
	struct sec *text, *pcln, *bi = NULL, *data = NULL, *note, *symtab = NULL, *strtab = NULL;
	unsigned int ptr = v->is32 ? 4 : 8, i;
	char path[8192];

	text = add_sec(&s, ".text", SHT_PROGBITS, SHF_ALLOC | SHF_EXECINSTR, 16);
	for (i = 0; i < NFUNC * FUNC_SZ; i++)
		put8(&text->data, 0xcc);
	pcln = add_sec(&s, ".gopclntab", SHT_PROGBITS, SHF_ALLOC, 32);
	note = add_sec(&s, ".note.go.buildid", SHT_NOTE, SHF_ALLOC, 4);
	put32(&note->data, 4);
	put32(&note->data, 8);
	put32(&note->data, 4);	/* ELF_NOTE_GOBUILDID_TAG */
	put(&note->data, "Go\0\0", 4);
	put(&note->data, "abcdefgh", 8);
	if (v->buildinfo != BI_NONE) {
		bi = add_sec(&s, ".go.buildinfo", SHT_PROGBITS, SHF_ALLOC | SHF_WRITE, 16);
		s.rw_from = s.nsec;
	} else {
		data = add_sec(&s, ".data", SHT_PROGBITS, SHF_ALLOC | SHF_WRITE, 16);
		s.rw_from = s.nsec;
		symtab = add_sec(&s, ".symtab", SHT_SYMTAB, 0, ptr);
		strtab = add_sec(&s, ".strtab", SHT_STRTAB, 0, 1);
	}

	/* Sizes do not depend on addresses: build once at 0 for the layout, then for real. */
	build_pclntab(&pcln->data, v, 0);
	if (bi)
		build_buildinfo(&bi->data, v, 0);
	if (data) {
		put_ptr(&data->data, 0);
		put_ptr(&data->data, 0);
		put(&data->data, "go1.15.15", 9);
	}
	if (symtab) {
		/* null symbol + runtime.buildVersion, a Go string header in .data */
		unsigned int n = v->is32 ? 16 : 24;

		for (i = 0; i < 2 * n; i++)
			put8(&symtab->data, 0);
		put8(&strtab->data, 0);
		put_str(&strtab->data, "runtime.buildVersion");
		symtab->entsize = n;
		symtab->link = s.nsec;
		symtab->info = 1;
	}
	layout(&s);
	pcln->data.len = 0;
	build_pclntab(&pcln->data, v, text->addr);
	if (bi) {
		bi->data.len = 0;
		build_buildinfo(&bi->data, v, bi->addr);
	}
	if (data) {
		data->data.len = 0;
		put_ptr(&data->data, data->addr + 2 * ptr);
		put_ptr(&data->data, 9);
		put(&data->data, "go1.15.15", 9);
	}
	if (symtab) {
		struct buf *b = &symtab->data;

		b->len = 0;
		for (i = 0; i < (v->is32 ? 16u : 24u); i++)
			put8(b, 0);
		if (v->is32) {
			put32(b, 1);
			put32(b, (uint32_t)data->addr);
			put32(b, 2 * ptr);
			put8(b, GELF_ST_INFO(STB_GLOBAL, STT_OBJECT));
			put8(b, 0);
			put16(b, (uint16_t)(data - s.sec));
		} else {
			put32(b, 1);
			put8(b, GELF_ST_INFO(STB_GLOBAL, STT_OBJECT));
			put8(b, 0);
			put16(b, (uint16_t)(data - s.sec));
			put_n(b, data->addr, 8);
			put_n(b, 2 * ptr, 8);
		}
	}
	s.entry = text->addr + 2 * FUNC_SZ + 4;	/* inside runtime.mallocgc */
	snprintf(path, sizeof(path), "%s/%s", dir, v->name);
	write_elf(path, &s);
	if (v->no_shdrs)
		drop_shdrs(path, v->is32);
}

/* ---- symbolize ------------------------------------------------------- */

struct fsym {
	const char *name;
	uint64_t off, size;	/* off from .text */
	int bind, type;
	uint16_t versym;
};

static const struct fsym static_syms[] = {
	{ "main", 0x10, 0x20, STB_GLOBAL, STT_FUNC, 0 },
	{ "sym_leak_a", 0x30, 0x10, STB_LOCAL, STT_FUNC, 0 },
	{ "_start", 0x0, 0, STB_GLOBAL, STT_FUNC, 0 },
	{ "_ZN6ms_fix5twiceIiEET_S1_", 0x40, 0x18, STB_WEAK, STT_FUNC, 0 },
	{ "resolver", 0x58, 0x8, STB_GLOBAL, STT_GNU_IFUNC, 0 },
	{ "data_obj", 0x60, 0x8, STB_GLOBAL, STT_OBJECT, 0 },
};

static const struct fsym dyn_syms[] = {
	{ "malloc", 0x80, 0x20, STB_GLOBAL, STT_FUNC, 2 },
	{ "__libc_malloc", 0x80, 0x20, STB_GLOBAL, STT_FUNC, 2 },
	{ "old_malloc", 0x80, 0x20, STB_GLOBAL, STT_FUNC, 0x8003 },
	{ "free@@GLIBC_2.2.5", 0xa0, 0x10, STB_GLOBAL, STT_FUNC, 2 },
	{ "undef", 0, 0, STB_GLOBAL, STT_FUNC, 1 },
};

static void put_sym(struct buf *b, bool is32, uint32_t name, uint64_t value, uint64_t size,
		    int bind, int type, uint16_t shndx)
{
	if (is32) {
		put32(b, name);
		put32(b, (uint32_t)value);
		put32(b, (uint32_t)size);
		put8(b, (uint8_t)GELF_ST_INFO(bind, type));
		put8(b, 0);
		put16(b, shndx);
	} else {
		put32(b, name);
		put8(b, (uint8_t)GELF_ST_INFO(bind, type));
		put8(b, 0);
		put16(b, shndx);
		put_n(b, value, 8);
		put_n(b, size, 8);
	}
}

static void fill_syms(struct sec *tab, struct sec *str, struct sec *ver, const struct fsym *v,
		      size_t n, bool is32, uint64_t text, uint16_t text_idx)
{
	size_t i, locals = 1;

	put_sym(&tab->data, is32, 0, 0, 0, 0, 0, 0);
	put8(&str->data, 0);
	if (ver)
		put16(&ver->data, 0);
	/* locals first, as the ELF spec wants (sh_info = first non-local) */
	for (int pass = 0; pass < 2; pass++) {
		for (i = 0; i < n; i++) {
			bool local = v[i].bind == STB_LOCAL;

			if (local != (pass == 0))
				continue;
			put_sym(&tab->data, is32, (uint32_t)str->data.len,
				v[i].versym == 1 ? 0 : text + v[i].off, v[i].size, v[i].bind,
				v[i].type, v[i].versym == 1 ? SHN_UNDEF : text_idx);
			put_str(&str->data, v[i].name);
			if (ver)
				put16(&ver->data, v[i].versym);
			locals += local;
		}
	}
	tab->info = (uint32_t)locals;
	tab->entsize = is32 ? 16 : 24;
}

/* SHF_COMPRESSED: an Elf_Chdr then the zlib stream (the deflated section). */
static void compress_sec(struct sec *x, bool is32)
{
	uLongf zlen = compressBound(x->data.len);
	struct buf out = { .be = x->data.be, .ptr = x->data.ptr };
	uint8_t *z = malloc(zlen);

	if (!z || compress2(z, &zlen, x->data.p, x->data.len, 9) != Z_OK)
		errx(1, "compress");
	put32(&out, ELFCOMPRESS_ZLIB);
	if (is32) {
		put32(&out, (uint32_t)x->data.len);
		put32(&out, (uint32_t)x->align);
	} else {
		put32(&out, 0);
		put_n(&out, x->data.len, 8);
		put_n(&out, x->align, 8);
	}
	put(&out, z, zlen);
	free(z);
	free(x->data.p);
	x->data = out;
	x->flags |= SHF_COMPRESSED;
	x->align = is32 ? 4 : 8;
}

static void gen_sym(const char *dir, const char *name, bool is32, bool be, bool zsymtab,
		    bool no_shdrs)
{
	struct elf_spec s = { .is32 = is32, .be = be, .type = ET_DYN,
			      .machine = is32 ? EM_PPC : EM_X86_64, .note_phdr = true };
	struct sec *text, *note, *dynsym, *dynstr, *ver, *symtab, *strtab, *link;
	unsigned int i;
	char path[8192];

	text = add_sec(&s, ".text", SHT_PROGBITS, SHF_ALLOC | SHF_EXECINSTR, 16);
	for (i = 0; i < 0x100; i++)
		put8(&text->data, 0x90);
	note = add_sec(&s, ".note.gnu.build-id", SHT_NOTE, SHF_ALLOC, 4);
	put32(&note->data, 4);
	put32(&note->data, 20);
	put32(&note->data, NT_GNU_BUILD_ID);
	put(&note->data, "GNU", 4);
	for (i = 0; i < 20; i++)
		put8(&note->data, (uint8_t)(0xa0 + i));
	dynsym = add_sec(&s, ".dynsym", SHT_DYNSYM, SHF_ALLOC, is32 ? 4 : 8);
	dynstr = add_sec(&s, ".dynstr", SHT_STRTAB, SHF_ALLOC, 1);
	ver = add_sec(&s, ".gnu.version", SHT_GNU_versym, SHF_ALLOC, 2);
	link = add_sec(&s, ".gnu_debuglink", SHT_PROGBITS, 0, 4);
	symtab = add_sec(&s, ".symtab", SHT_SYMTAB, 0, is32 ? 4 : 8);
	strtab = add_sec(&s, ".strtab", SHT_STRTAB, 0, 1);
	dynsym->link = 4;
	ver->link = 3;
	ver->entsize = 2;
	symtab->link = 8;

	/* .text lands at the same offset whatever the contents: lay out with it first. */
	fill_syms(dynsym, dynstr, ver, dyn_syms, sizeof(dyn_syms) / sizeof(dyn_syms[0]), is32, 0,
		  1);
	fill_syms(symtab, strtab, NULL, static_syms, sizeof(static_syms) / sizeof(static_syms[0]),
		  is32, 0, 1);
	put(&link->data, "module.debug\0\0\0\0", 16);
	put32(&link->data, 0x12345678);
	layout(&s);
	dynsym->data.len = dynstr->data.len = ver->data.len = 0;
	symtab->data.len = strtab->data.len = 0;
	fill_syms(dynsym, dynstr, ver, dyn_syms, sizeof(dyn_syms) / sizeof(dyn_syms[0]), is32,
		  text->addr, 1);
	fill_syms(symtab, strtab, NULL, static_syms, sizeof(static_syms) / sizeof(static_syms[0]),
		  is32, text->addr, 1);
	if (zsymtab)
		compress_sec(symtab, is32);
	s.entry = text->addr;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	write_elf(path, &s);
	if (no_shdrs)
		drop_shdrs(path, is32);
}

static void mkdir_p(const char *a, const char *b, char *out, size_t len)
{
	snprintf(out, len, "%s/%s", a, b);
	if (mkdir(a, 0755) && errno != EEXIST)
		err(1, "%s", a);
	if (mkdir(out, 0755) && errno != EEXIST)
		err(1, "%s", out);
}

int main(int argc, char **argv)
{
	static const struct go_variant go[] = {
		{ "go120-le64-inline", false, false, 0xfffffff1u, 1, BI_INLINE, false },
		{ "go118-le64-pointers", false, false, 0xfffffff0u, 1, BI_POINTERS, false },
		{ "go116-le64-symtab", false, false, 0xfffffffau, 1, BI_NONE, false },
		{ "go120-be32-inline", true, true, 0xfffffff1u, 4, BI_INLINE, false },
		{ "go116-be64-pointers", false, true, 0xfffffffau, 4, BI_POINTERS, false },
		{ "go120-le64-noshdrs", false, false, 0xfffffff1u, 1, BI_INLINE, true },
	};
	char dir[4096];
	size_t i;

	if (argc != 2)
		errx(2, "usage: mkseeds OUTDIR");
	if (elf_version(EV_CURRENT) == EV_NONE)
		errx(1, "libelf: %s", elf_errmsg(-1));
	mkdir_p(argv[1], "goruntime", dir, sizeof(dir));
	for (i = 0; i < sizeof(go) / sizeof(go[0]); i++)
		gen_go(dir, &go[i]);
	mkdir_p(argv[1], "symbolize", dir, sizeof(dir));
	gen_sym(dir, "tiny-le64", false, false, false, false);
	gen_sym(dir, "tiny-le64-zsymtab", false, false, true, false);
	gen_sym(dir, "tiny-be32", true, true, false, false);
	gen_sym(dir, "tiny-le64-noshdrs", false, false, false, true);
	return 0;
}
