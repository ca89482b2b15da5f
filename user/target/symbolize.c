// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * symbolize.c - ELF symbol tables, debug-file lookup, DWARF lines and a cache.
 *
 * Every input here may be hostile (a target can map any file), so sizes
 * are checked against the file before anything is allocated from them,
 * compressed sections are capped before they are inflated, and no
 * parse failure is fatal to more than the one module it concerns.
 */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <zlib.h>

#include "target/symbolize.h"

/* libstdc++'s demangler; C linkage, so no C++ header is needed. */
char *__cxa_demangle(const char *mangled, char *buf, size_t *len, int *status);

/* Build-id notes longer than this are ignored (sha1 is 20, uuid/md5 16). */
#define BUILD_ID_CAP	64
/* Aliases nested inside a bigger function are found this many entries back. */
#define NEST_LOOKBACK	8
#define HASH_BUCKETS	8192
#define VERSYM_HIDDEN	0x8000
/* DIEs one inline-frame lookup may look at: bounds the cost of a hostile (or huge) CU. */
#define SCOPE_VISIT_BUDGET	(1u << 20)

struct ms_elf {
	int fd;
	Elf *elf;
	struct stat st;
	GElf_Ehdr ehdr;
	GElf_Phdr *phdrs;
	size_t phnum;
	Elf_Scn *symtab;
	Elf_Scn *dynsym;
	Elf_Scn *versym;
	Elf_Scn *debuglink;
	Elf_Scn *debug_info;	/* .debug_info with contents, if any */
	bool has_dwarf;
	uint8_t build_id[BUILD_ID_CAP];
	size_t build_id_len;
};

/* ---- one ELF file ---------------------------------------------------- */

/* libelf trusts e_phnum/e_shnum; a table that cannot fit in the file is corrupt. */
static bool table_fits(const struct ms_elf *e, uint64_t off, uint64_t num, uint64_t entsize)
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
		    nh.n_descsz > 0 && nh.n_descsz <= BUILD_ID_CAP) {
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
static int scan_sections(struct ms_elf *e)
{
	bool debug_line = false;
	size_t shnum, shstrndx;
	Elf_Scn *scn = NULL;

	if (elf_getshdrnum(e->elf, &shnum))
		return ENOEXEC;
	if (!e->ehdr.e_shoff && !shnum)
		return 0;
	/* libelf drops a section table past EOF silently: that is a truncated file */
	if (!shnum)
		return ENOEXEC;
	if (e->ehdr.e_shentsize != gelf_fsize(e->elf, ELF_T_SHDR, 1, EV_CURRENT) ||
	    !table_fits(e, e->ehdr.e_shoff, shnum, e->ehdr.e_shentsize))
		return ENOEXEC;
	if (elf_getshdrstrndx(e->elf, &shstrndx))
		return ENOEXEC;

	while ((scn = elf_nextscn(e->elf, scn))) {
		const char *name;
		GElf_Shdr sh;

		if (!gelf_getshdr(scn, &sh))
			return ENOEXEC;
		if (sh.sh_type == SHT_SYMTAB && !e->symtab)
			e->symtab = scn;
		else if (sh.sh_type == SHT_DYNSYM && !e->dynsym)
			e->dynsym = scn;
		else if (sh.sh_type == SHT_GNU_versym && !e->versym)
			e->versym = scn;
		/* A corrupt .shstrtab costs the names, not the file. */
		name = elf_strptr(e->elf, shstrndx, sh.sh_name);
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

static int elf_setup(struct ms_elf *e)
{
	size_t i;
	int err;

	if (elf_version(EV_CURRENT) == EV_NONE)
		return ENOEXEC;
	/* ELF_C_READ, not mmap: a file truncated under us must not SIGBUS. */
	e->elf = elf_begin(e->fd, ELF_C_READ, NULL);
	if (!e->elf || elf_kind(e->elf) != ELF_K_ELF || !gelf_getehdr(e->elf, &e->ehdr))
		return ENOEXEC;
	if (e->ehdr.e_type != ET_EXEC && e->ehdr.e_type != ET_DYN)
		return ENOEXEC;
	if (elf_getphdrnum(e->elf, &e->phnum))
		return ENOEXEC;
	if (e->phnum) {
		if (e->ehdr.e_phentsize != gelf_fsize(e->elf, ELF_T_PHDR, 1, EV_CURRENT) ||
		    !table_fits(e, e->ehdr.e_phoff, e->phnum, e->ehdr.e_phentsize))
			return ENOEXEC;
		e->phdrs = calloc(e->phnum, sizeof(*e->phdrs));
		if (!e->phdrs)
			return ENOMEM;
		for (i = 0; i < e->phnum; i++)
			if (!gelf_getphdr(e->elf, i, &e->phdrs[i]))
				return ENOEXEC;
	}
	err = scan_sections(e);
	if (err)
		return err;
	read_build_id(e);
	return 0;
}

struct ms_elf *ms_elf__open(const char *path)
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
	err = elf_setup(e);
	if (err)
		goto fail;
	return e;
fail:
	ms_elf__close(e);
	errno = err;
	return NULL;
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

int ms_elf__build_id(const struct ms_elf *e, uint8_t *buf, size_t len)
{
	if (!e->build_id_len)
		return -ENOENT;
	if (len < e->build_id_len)
		return -ENOSPC;
	memcpy(buf, e->build_id, e->build_id_len);
	return (int)e->build_id_len;
}

int ms_elf__is_dyn(const struct ms_elf *e)
{
	return e->ehdr.e_type == ET_DYN;
}

/*
 * Section contents, inflated if SHF_COMPRESSED. The declared size is
 * checked before libelf allocates it: a 100-byte section may claim 1 TiB.
 * *ret is NULL for an empty section.
 */
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
		if (ch.ch_size > MS_SYM_MAX_SECTION)
			return -EFBIG;
		if (elf_compress(scn, 0, 0) < 0)
			return -ENOEXEC;
	} else if (sh.sh_size > MS_SYM_MAX_SECTION) {
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

/*
 * Symbol i if it is a defined function: its name (not NUL-terminated at
 * *ret_len when it carries an "@VERSION" suffix) and a rank, lower is
 * preferred among aliases: global < weak < local, default < hidden version.
 */
static const char *symview__func(const struct symview *v, size_t i, GElf_Sym *sym,
				 size_t *ret_len, unsigned int *ret_rank)
{
	const char *name;
	unsigned int rank;
	int type, bind;
	size_t avail;

	if (!gelf_getsym(v->syms, i, sym))
		return NULL;
	type = GELF_ST_TYPE(sym->st_info);
	if ((type != STT_FUNC && type != STT_GNU_IFUNC) || sym->st_shndx == SHN_UNDEF)
		return NULL;
	if (!v->strs || sym->st_name >= v->strs->d_size)
		return NULL;
	name = (const char *)v->strs->d_buf + sym->st_name;
	avail = v->strs->d_size - sym->st_name;
	if (!memchr(name, '\0', avail))
		return NULL;
	*ret_len = strcspn(name, "@");
	if (!*ret_len)
		return NULL;

	bind = GELF_ST_BIND(sym->st_info);
	rank = bind == STB_GLOBAL || bind == STB_GNU_UNIQUE ? 0 : bind == STB_WEAK ? 2 : 4;
	if (i < v->nvers) {
		GElf_Versym vs;

		if (gelf_getversym(v->vers, (int)i, &vs) && (vs & VERSYM_HIDDEN))
			rank |= 1;
	}
	*ret_rank = rank;
	return name;
}

int ms_elf__find_func(struct ms_elf *e, const char *name, uint64_t *ret_vaddr, uint64_t *ret_size)
{
	Elf_Scn *tabs[2] = { e->symtab, e->dynsym };
	size_t qlen;
	int t;

	if (!name)
		return -EINVAL;
	qlen = strlen(name);
	for (t = 0; t < 2; t++) {
		unsigned int best_rank = UINT_MAX, rank;
		GElf_Sym sym, best;
		struct symview v;
		const char *n;
		size_t i, len;
		int err;

		if (!tabs[t])
			continue;
		err = symview__open(e, tabs[t], t == 1, &v);
		if (err)
			return err;
		for (i = 0; i < v.n && best_rank; i++) {
			n = symview__func(&v, i, &sym, &len, &rank);
			if (!n || len != qlen || memcmp(n, name, len) || rank >= best_rank)
				continue;
			best = sym;
			best_rank = rank;
		}
		if (best_rank != UINT_MAX) {
			if (ret_vaddr)
				*ret_vaddr = best.st_value;
			if (ret_size)
				*ret_size = best.st_size;
			return 0;
		}
	}
	return -ENOENT;
}

int ms_elf__vaddr_to_offset(const struct ms_elf *e, uint64_t vaddr, uint64_t *ret_off)
{
	size_t i;

	for (i = 0; i < e->phnum; i++) {
		const GElf_Phdr *ph = &e->phdrs[i];

		if (ph->p_type == PT_LOAD && vaddr >= ph->p_vaddr &&
		    vaddr - ph->p_vaddr < ph->p_filesz) {
			*ret_off = vaddr - ph->p_vaddr + ph->p_offset;
			return 0;
		}
	}
	return -ENOENT;
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

int ms_elf__sample_funcs(struct ms_elf *e, uint64_t min_size, uint64_t *ret_vaddrs, size_t max)
{
	Elf_Scn *scn = e->symtab ?: e->dynsym;
	struct symview v;
	size_t n = 0, step;
	int err;

	if (!scn || !max)
		return 0;
	err = symview__open(e, scn, scn == e->dynsym, &v);
	if (err)
		return err;
	step = v.n / max > 1 ? v.n / max : 1;
	for (size_t i = 0; i < v.n && n < max; i++) {
		GElf_Sym sym;
		size_t len;
		unsigned int rank;

		/* spread over the table, but take the next function when one is not */
		if (i % step && n * step >= i)
			continue;
		if (!symview__func(&v, i, &sym, &len, &rank) || sym.st_size < min_size)
			continue;
		ret_vaddrs[n++] = sym.st_value;
	}
	return (int)n;
}

int ms_elf__read_vaddr(const struct ms_elf *e, uint64_t vaddr, void *buf, size_t len)
{
	size_t i, done = 0;

	if (len > INT_MAX)
		len = INT_MAX;
	for (i = 0; i < e->phnum; i++) {
		const GElf_Phdr *ph = &e->phdrs[i];
		uint64_t rel = vaddr - ph->p_vaddr;

		if (ph->p_type != PT_LOAD || vaddr < ph->p_vaddr || rel >= ph->p_filesz)
			continue;
		/* Bytes past p_filesz are .bss: not in the file. */
		if (len > ph->p_filesz - rel)
			len = ph->p_filesz - rel;
		while (done < len) {
			ssize_t n = pread(e->fd, (char *)buf + done, len - done,
					  (off_t)(ph->p_offset + rel + done));

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
	return -ENOENT;
}

/* ---- debug files --------------------------------------------------- */

static int file_crc32(int fd, uint32_t *ret)
{
	const size_t chunk = 64 << 10;
	uLong crc = crc32(0, Z_NULL, 0);
	unsigned char *buf;
	off_t off = 0;
	ssize_t n;

	buf = malloc(chunk);
	if (!buf)
		return -ENOMEM;
	for (;;) {
		n = pread(fd, buf, chunk, off);
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

/* .gnu_debuglink: NUL-terminated basename, padding to 4, CRC32 of the debug file. */
static int read_debuglink(struct ms_elf *e, char *name, size_t namesz, uint32_t *ret_crc)
{
	const unsigned char *p, *c;
	size_t len, crc_off;
	Elf_Data *d;

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

/*
 * Open a debug-file candidate and accept it only if it belongs to e: equal
 * build-ids when both have one, else (debuglink only) the link's CRC32.
 */
static struct ms_elf *debug_candidate(const char *path, const struct ms_elf *e,
				      bool by_link, uint32_t crc)
{
	struct ms_elf *d = ms_elf__open(path);
	uint32_t got;

	if (!d)
		return NULL;
	if (d->st.st_dev == e->st.st_dev && d->st.st_ino == e->st.st_ino)
		goto reject;
	if (e->build_id_len && d->build_id_len) {
		if (e->build_id_len == d->build_id_len &&
		    !memcmp(e->build_id, d->build_id, e->build_id_len))
			return d;
		goto reject;
	}
	if (by_link && !file_crc32(d->fd, &got) && got == crc)
		return d;
reject:
	ms_elf__close(d);
	return NULL;
}

static struct ms_elf *find_debug_file(const char *debug_dir, struct ms_elf *e, const char *path,
				      const char *root)
{
	char p[PATH_MAX], dir[PATH_MAX], name[NAME_MAX + 1];
	char hex[2 * BUILD_ID_CAP + 1];
	const char *slash, *in;
	struct ms_elf *d;
	size_t i, rootlen;
	uint32_t crc;
	int n;

	root = root ? root : "";
	rootlen = strlen(root);
	while (rootlen && root[rootlen - 1] == '/')
		rootlen--;

	if (e->build_id_len) {
		for (i = 0; i < e->build_id_len; i++)
			snprintf(hex + 2 * i, 3, "%02x", e->build_id[i]);
		n = snprintf(p, sizeof(p), "%.*s%s/.build-id/%.2s/%s.debug", (int)rootlen, root,
			     debug_dir, hex, hex + 2);
		if (n > 0 && (size_t)n < sizeof(p) && (d = debug_candidate(p, e, false, 0)))
			return d;
	}

	if (read_debuglink(e, name, sizeof(name), &crc))
		return NULL;
	slash = strrchr(path, '/');
	if (!slash)
		snprintf(dir, sizeof(dir), ".");
	else if ((size_t)(slash - path) >= sizeof(dir))
		return NULL;
	else
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);

	n = snprintf(p, sizeof(p), "%s/%s", dir, name);
	if (n > 0 && (size_t)n < sizeof(p) && (d = debug_candidate(p, e, true, crc)))
		return d;
	n = snprintf(p, sizeof(p), "%s/.debug/%s", dir, name);
	if (n > 0 && (size_t)n < sizeof(p) && (d = debug_candidate(p, e, true, crc)))
		return d;
	/* gdb's global directory mirrors the module's path inside its root. */
	if (dir[0] != '/')
		return NULL;
	in = dir;
	if (rootlen && !strncmp(dir, root, rootlen) && dir[rootlen] == '/')
		in = dir + rootlen;
	n = snprintf(p, sizeof(p), "%.*s%s%s/%s", (int)rootlen, root, debug_dir, in, name);
	if (n > 0 && (size_t)n < sizeof(p) && (d = debug_candidate(p, e, true, crc)))
		return d;
	return NULL;
}

/* ---- modules: one loaded ELF's function index ---------------------- */

#define SYM_SIZE0	1	/* no st_size: ends at the next symbol */
#define SYM_DEMANGLED	2	/* demangling tried */

struct sc_sym {
	uint64_t start;
	uint64_t end;		/* exclusive */
	uint32_t name;		/* offset into module strs */
	uint8_t rank;
	uint8_t flags;
};

/* A demangled inlined-function name, keyed by its raw string in libdw's data. */
struct sc_iname {
	const char *raw;
	char *name;	/* NULL: demangling failed, use raw */
};

struct sc_load {
	uint64_t off;
	uint64_t filesz;
	uint64_t vaddr;
};

struct sc_module {
	struct sc_module *prev, *next;
	unsigned int refs;
	uint8_t build_id[BUILD_ID_CAP];
	size_t build_id_len;
	struct sc_load *loads;
	size_t nloads;
	struct sc_sym *syms;
	size_t nsyms, syms_cap;
	char *strs;
	size_t strs_len, strs_cap;
	char **demangled;	/* per symbol, allocated on first C++ name */
	struct ms_elf *dw_elf;	/* owner of dw's data; its fd is closed */
	Dwarf *dw;
	Elf_Data *dw_info;	/* .debug_info as libdw reads it: bounds DW_FORM_string */
	struct sc_iname *inames;	/* open addressing, inames_cap a power of 2 */
	size_t ninames, inames_cap;
	struct sc_chain *chains;	/* inline chains already walked, by file offset */
	size_t nchains, chains_cap;
};

/*
 * One address's inline chain as module__frames found it: n inlined
 * functions (innermost first), then the real function; .module unset.
 * Walking a CU's DIEs costs ~30 us, a report asks for the same return
 * addresses again and again.
 */
struct sc_chain {
	uint64_t off;
	struct ms_sym *v;	/* NULL: free slot */
	uint32_t n;
};

#define CHAINS_MAX	(1u << 16)

static void module__free(struct sc_module *m)
{
	size_t i;

	if (!m)
		return;
	if (m->demangled) {
		for (i = 0; i < m->nsyms; i++)
			free(m->demangled[i]);
		free(m->demangled);
	}
	for (i = 0; i < m->inames_cap; i++)
		free(m->inames[i].name);
	free(m->inames);
	for (i = 0; i < m->chains_cap; i++)
		free(m->chains[i].v);
	free(m->chains);
	if (m->dw)
		dwarf_end(m->dw);
	ms_elf__close(m->dw_elf);
	free(m->loads);
	free(m->syms);
	free(m->strs);
	free(m);
}

static int module__add_sym(struct sc_module *m, const char *name, size_t len, uint64_t start,
			   uint64_t end, bool size0, unsigned int rank)
{
	struct sc_sym *s;

	if (m->nsyms == m->syms_cap) {
		size_t cap = m->syms_cap ? m->syms_cap * 2 : 256;

		if (cap > MS_SYM_MAX_SYMBOLS)
			cap = MS_SYM_MAX_SYMBOLS;
		s = reallocarray(m->syms, cap, sizeof(*s));
		if (!s)
			return -ENOMEM;
		m->syms = s;
		m->syms_cap = cap;
	}
	if (m->strs_len + len + 1 > m->strs_cap) {
		size_t cap = m->strs_cap ? m->strs_cap : 4096;
		char *p;

		while (cap < m->strs_len + len + 1)
			cap *= 2;
		p = realloc(m->strs, cap);
		if (!p)
			return -ENOMEM;
		m->strs = p;
		m->strs_cap = cap;
	}
	s = &m->syms[m->nsyms++];
	s->start = start;
	s->end = end;
	s->name = (uint32_t)m->strs_len;
	s->rank = (uint8_t)rank;
	s->flags = size0 ? SYM_SIZE0 : 0;
	memcpy(m->strs + m->strs_len, name, len);
	m->strs[m->strs_len + len] = '\0';
	m->strs_len += len + 1;
	return 0;
}

/* End of the section holding a size-0 symbol: it must not cover .rodata. */
static uint64_t section_end(Elf *elf, const GElf_Sym *sym)
{
	GElf_Shdr sh;
	Elf_Scn *scn;

	if (sym->st_shndx >= SHN_LORESERVE)
		return UINT64_MAX;
	scn = elf_getscn(elf, sym->st_shndx);
	if (!scn || !gelf_getshdr(scn, &sh) || sym->st_value < sh.sh_addr ||
	    sym->st_value - sh.sh_addr >= sh.sh_size)
		return UINT64_MAX;
	return sh.sh_addr + sh.sh_size;
}

/* Add one table's functions; on failure the module is left as it was. */
static int module__collect(struct sc_module *m, struct ms_elf *e, Elf_Scn *scn, bool dyn,
			   uint64_t *dropped)
{
	size_t nsyms = m->nsyms, strs_len = m->strs_len, i, len;
	unsigned int rank;
	struct symview v;
	const char *name;
	GElf_Sym sym;
	int err;

	err = symview__open(e, scn, dyn, &v);
	if (err)
		return err;
	for (i = 0; i < v.n; i++) {
		uint64_t end;
		bool size0;

		name = symview__func(&v, i, &sym, &len, &rank);
		if (!name)
			continue;
		if (m->nsyms >= MS_SYM_MAX_SYMBOLS || m->strs_len + len + 1 > UINT32_MAX) {
			(*dropped)++;
			continue;
		}
		size0 = sym.st_size == 0;
		if (size0)
			end = section_end(e->elf, &sym);
		else if (__builtin_add_overflow(sym.st_value, sym.st_size, &end))
			end = UINT64_MAX;
		err = module__add_sym(m, name, len, sym.st_value, end, size0, rank);
		if (err) {
			m->nsyms = nsyms;
			m->strs_len = strs_len;
			return err;
		}
	}
	return 0;
}

static unsigned int leading_underscores(const char *s)
{
	unsigned int n = 0;

	while (s[n] == '_')
		n++;
	return n;
}

/* Address order; at one address the preferred alias first, by a total order. */
static int sym_cmp(const void *pa, const void *pb, void *arg)
{
	const struct sc_sym *a = pa, *b = pb;
	const char *strs = arg, *na = strs + a->name, *nb = strs + b->name;
	unsigned int ua, ub;

	if (a->start != b->start)
		return a->start < b->start ? -1 : 1;
	if (a->rank != b->rank)
		return a->rank < b->rank ? -1 : 1;
	/* "malloc" over "__libc_malloc": the name a user called */
	ua = leading_underscores(na);
	ub = leading_underscores(nb);
	if (ua != ub)
		return ua < ub ? -1 : 1;
	return strcmp(na, nb);
}

static void module__finalize(struct sc_module *m)
{
	size_t i, j, out = 0;

	if (!m->nsyms)
		return;
	qsort_r(m->syms, m->nsyms, sizeof(*m->syms), sym_cmp, m->strs);
	for (i = 0; i < m->nsyms; i = j) {
		struct sc_sym best = m->syms[i];
		uint64_t sized_end = best.flags & SYM_SIZE0 ? 0 : best.end;

		/* An unsized preferred alias borrows the size of a sized one. */
		for (j = i + 1; j < m->nsyms && m->syms[j].start == best.start; j++)
			if (!(m->syms[j].flags & SYM_SIZE0) && m->syms[j].end > sized_end)
				sized_end = m->syms[j].end;
		if (sized_end) {
			best.end = sized_end;
			best.flags &= ~SYM_SIZE0;
		}
		m->syms[out++] = best;
	}
	m->nsyms = out;
	for (i = 0; i + 1 < out; i++)
		if ((m->syms[i].flags & SYM_SIZE0) && m->syms[i + 1].start < m->syms[i].end)
			m->syms[i].end = m->syms[i + 1].start;
}

static const struct sc_sym *module__find(const struct sc_module *m, uint64_t vaddr)
{
	size_t lo = 0, hi = m->nsyms, k;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (m->syms[mid].start <= vaddr)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (k = lo; k > 0 && lo - k < NEST_LOOKBACK; k--)
		if (vaddr < m->syms[k - 1].end)
			return &m->syms[k - 1];
	return NULL;
}

static const char *module__name(struct sc_module *m, const struct sc_sym *cs, bool demangle)
{
	size_t idx = (size_t)(cs - m->syms);
	struct sc_sym *s = &m->syms[idx];
	const char *raw = m->strs + s->name;
	int status;

	if (!demangle || raw[0] != '_' || raw[1] != 'Z')
		return raw;
	if (!(s->flags & SYM_DEMANGLED)) {
		if (!m->demangled) {
			m->demangled = calloc(m->nsyms, sizeof(*m->demangled));
			if (!m->demangled)
				return raw;
		}
		s->flags |= SYM_DEMANGLED;
		m->demangled[idx] = __cxa_demangle(raw, NULL, NULL, &status);
		if (status) {
			free(m->demangled[idx]);
			m->demangled[idx] = NULL;
		}
	}
	return m->demangled[idx] ? m->demangled[idx] : raw;
}

/* Runs after the size checks: inflating here is what libdw would do next anyway. */
static bool strings_terminated(struct ms_elf *e, size_t shstrndx)
{
	Elf_Scn *scn = NULL;

	while ((scn = elf_nextscn(e->elf, scn))) {
		const char *name;
		GElf_Shdr sh;
		Elf_Data *d;

		if (!gelf_getshdr(scn, &sh))
			return false;
		name = elf_strptr(e->elf, shstrndx, sh.sh_name);
		if (!name || (strcmp(name, ".debug_str") && strcmp(name, ".debug_line_str")))
			continue;
		if (scn_data(scn, &d))
			return false;
		if (d && ((const char *)d->d_buf)[d->d_size - 1] != '\0')
			return false;
	}
	return true;
}

/*
 * libdw inflates every debug section at begin: check the claims first.
 * libdw 0.188 also strlen()s into .debug_str/.debug_line_str without a
 * bound, so those must end in a NUL.
 */
static bool dwarf_sane(struct ms_elf *e)
{
	size_t shstrndx;
	Elf_Scn *scn = NULL;

	if (elf_getshdrstrndx(e->elf, &shstrndx))
		return false;
	while ((scn = elf_nextscn(e->elf, scn))) {
		const char *name;
		GElf_Shdr sh;
		GElf_Chdr ch;

		if (!gelf_getshdr(scn, &sh))
			return false;
		name = elf_strptr(e->elf, shstrndx, sh.sh_name);
		if (!name || strncmp(name, ".debug_", 7) || sh.sh_type == SHT_NOBITS)
			continue;
		if (!(sh.sh_flags & SHF_COMPRESSED)) {
			if (sh.sh_size > MS_SYM_MAX_SECTION)
				return false;
			continue;
		}
		if (!gelf_getchdr(scn, &ch) || ch.ch_type != ELFCOMPRESS_ZLIB ||
		    ch.ch_size > MS_SYM_MAX_SECTION)
			return false;
	}
	return strings_terminated(e, shstrndx);
}

/* libdw inflated it in place at dwarf_begin_elf, so this is the buffer its DIEs point into. */
static Elf_Data *debug_info_data(struct ms_elf *e)
{
	return e->debug_info ? elf_getdata(e->debug_info, NULL) : NULL;
}

/* Takes *pe on success. Lines are optional: any failure just leaves m->dw NULL. */
static void module__open_dwarf(struct sc_module *m, struct ms_elf **pe)
{
	struct ms_elf *e = *pe;
	Dwarf *dw;

	if (!e || !e->has_dwarf || !dwarf_sane(e))
		return;
	dw = dwarf_begin_elf(e->elf, DWARF_C_READ, NULL);
	if (!dw)
		return;
	/*
	 * libdw has read the debug sections; drop the fd so a cache of
	 * thousands of modules does not hold thousands of descriptors.
	 */
	elf_cntl(e->elf, ELF_C_FDDONE);
	close(e->fd);
	e->fd = -1;
	m->dw = dw;
	m->dw_elf = e;
	m->dw_info = debug_info_data(e);
	*pe = NULL;
}

/* Takes *pe (sets it NULL) when the module keeps the file for its DWARF. */
static int module__load(const char *debug_dir, struct ms_elf **pe, const char *path,
			const char *root, struct sc_module **ret, uint64_t *dropped)
{
	struct ms_elf *e = *pe, *dbg = NULL;
	struct sc_module *m;
	size_t i;
	int err;

	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	memcpy(m->build_id, e->build_id, e->build_id_len);
	m->build_id_len = e->build_id_len;
	m->loads = calloc(e->phnum ? e->phnum : 1, sizeof(*m->loads));
	if (!m->loads) {
		err = -ENOMEM;
		goto fail;
	}
	for (i = 0; i < e->phnum; i++) {
		const GElf_Phdr *ph = &e->phdrs[i];

		if (ph->p_type == PT_LOAD && ph->p_filesz)
			m->loads[m->nloads++] = (struct sc_load){ ph->p_offset, ph->p_filesz,
								  ph->p_vaddr };
	}

	if (e->symtab) {
		err = module__collect(m, e, e->symtab, false, dropped);
		if (err)
			goto fail;
	}
	if (e->dynsym) {
		err = module__collect(m, e, e->dynsym, true, dropped);
		if (err)
			goto fail;
	}
	if (!e->symtab || !e->has_dwarf)
		dbg = find_debug_file(debug_dir, e, path, root);
	/* A broken debug file costs its symbols, not the module. */
	if (!e->symtab && dbg && dbg->symtab)
		module__collect(m, dbg, dbg->symtab, false, dropped);
	module__finalize(m);

	if (e->has_dwarf)
		module__open_dwarf(m, pe);
	else
		module__open_dwarf(m, &dbg);
	ms_elf__close(dbg);
	*ret = m;
	return 0;
fail:
	ms_elf__close(dbg);
	module__free(m);
	return err;
}

/* ---- the cache ------------------------------------------------------ */

/*
 * Entries map a file (by dev/ino/size/mtime, so the same libc seen via
 * /proc/A/root and /proc/B/root is one entry) to a module or an error.
 * Files we cannot even stat are keyed by path.
 */
struct sc_entry {
	struct sc_entry *hnext;
	uint64_t used;
	char *path;
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtim;
	struct sc_module *mod;
	int err;
};

struct symcache {
	char *debug_dir;
	bool demangle;
	size_t max_entries;
	struct sc_entry *buckets[HASH_BUCKETS];
	size_t nentries;
	struct sc_module *mods;
	uint64_t tick;
	struct symcache_stats stats;
};

static size_t hash_stat(const struct stat *st)
{
	uint64_t h = (uint64_t)st->st_ino * 0x9e3779b97f4a7c15ull;

	h ^= (uint64_t)st->st_dev + ((uint64_t)st->st_size << 7) + (uint64_t)st->st_mtim.tv_nsec;
	h ^= h >> 29;
	return (size_t)(h % HASH_BUCKETS);
}

static size_t hash_path(const char *p)
{
	uint64_t h = 0xcbf29ce484222325ull;

	while (*p)
		h = (h ^ (unsigned char)*p++) * 0x100000001b3ull;
	return (size_t)(h % HASH_BUCKETS);
}

static bool entry_is(const struct sc_entry *ent, const struct stat *st, const char *path)
{
	if (!st)
		return ent->path && !strcmp(ent->path, path);
	return !ent->path && ent->dev == st->st_dev && ent->ino == st->st_ino &&
	       ent->size == st->st_size && ent->mtim.tv_sec == st->st_mtim.tv_sec &&
	       ent->mtim.tv_nsec == st->st_mtim.tv_nsec;
}

static size_t entry_bucket(const struct sc_entry *ent)
{
	struct stat st;

	if (ent->path)
		return hash_path(ent->path);
	memset(&st, 0, sizeof(st));
	st.st_dev = ent->dev;
	st.st_ino = ent->ino;
	st.st_size = ent->size;
	st.st_mtim = ent->mtim;
	return hash_stat(&st);
}

static struct sc_entry *cache_find(struct symcache *c, const struct stat *st, const char *path)
{
	struct sc_entry *ent = c->buckets[st ? hash_stat(st) : hash_path(path)];

	for (; ent; ent = ent->hnext)
		if (entry_is(ent, st, path))
			return ent;
	return NULL;
}

static void cache_put_module(struct symcache *c, struct sc_module *m)
{
	if (--m->refs)
		return;
	if (m->prev)
		m->prev->next = m->next;
	else
		c->mods = m->next;
	if (m->next)
		m->next->prev = m->prev;
	c->stats.modules--;
	c->stats.symbols -= m->nsyms;
	module__free(m);
}

static void entry_free(struct symcache *c, struct sc_entry *ent)
{
	if (ent->mod)
		cache_put_module(c, ent->mod);
	free(ent->path);
	free(ent);
}

/* Least recently used entry: O(entries), but only paid on a miss when full. */
static void cache_evict_one(struct symcache *c)
{
	struct sc_entry **victim = NULL, **pp;
	struct sc_entry *ent;
	size_t b;

	for (b = 0; b < HASH_BUCKETS; b++)
		for (pp = &c->buckets[b]; *pp; pp = &(*pp)->hnext)
			if (!victim || (*pp)->used < (*victim)->used)
				victim = pp;
	if (!victim)
		return;
	ent = *victim;
	*victim = ent->hnext;
	c->nentries--;
	entry_free(c, ent);
}

static int cache_add(struct symcache *c, const struct stat *st, const char *path,
		     struct sc_module *m, int err)
{
	struct sc_entry *ent = calloc(1, sizeof(*ent));
	size_t b;

	if (!ent)
		return -ENOMEM;
	if (st) {
		ent->dev = st->st_dev;
		ent->ino = st->st_ino;
		ent->size = st->st_size;
		ent->mtim = st->st_mtim;
	} else {
		ent->path = strdup(path);
		if (!ent->path) {
			free(ent);
			return -ENOMEM;
		}
	}
	ent->used = c->tick;
	ent->err = err;
	ent->mod = m;
	if (m)
		m->refs++;
	b = entry_bucket(ent);
	ent->hnext = c->buckets[b];
	c->buckets[b] = ent;
	c->nentries++;
	return 0;
}

/* The module for path: shared with an identical build, or loaded. */
static int cache_get_module(struct symcache *c, const char *path, const char *root,
			    struct sc_module **ret)
{
	struct sc_module *m;
	struct ms_elf *e;
	int err;

	e = ms_elf__open(path);
	if (!e)
		return -errno;
	for (m = e->build_id_len ? c->mods : NULL; m; m = m->next) {
		if (m->build_id_len == e->build_id_len &&
		    !memcmp(m->build_id, e->build_id, e->build_id_len)) {
			ms_elf__close(e);
			*ret = m;
			return 0;
		}
	}
	err = module__load(c->debug_dir, &e, path, root, &m, &c->stats.dropped_symbols);
	ms_elf__close(e);	/* NULL when the module kept it for DWARF */
	if (err)
		return err;
	m->next = c->mods;
	if (c->mods)
		c->mods->prev = m;
	c->mods = m;
	c->stats.modules++;
	c->stats.symbols += m->nsyms;
	*ret = m;
	return 0;
}

static bool module__vaddr(const struct sc_module *m, uint64_t file_off, uint64_t *ret)
{
	size_t i;

	for (i = 0; i < m->nloads; i++) {
		const struct sc_load *l = &m->loads[i];

		if (file_off >= l->off && file_off - l->off < l->filesz) {
			*ret = file_off - l->off + l->vaddr;
			return true;
		}
	}
	return false;
}

static int module__lookup(struct symcache *c, struct sc_module *m, uint64_t file_off,
			  struct ms_sym *ret)
{
	const struct sc_sym *s;
	Dwarf_Die cudie;
	Dwarf_Line *line;

	if (!module__vaddr(m, file_off, &ret->vaddr))
		return 0;
	s = module__find(m, ret->vaddr);
	if (s) {
		ret->name = module__name(m, s, c->demangle);
		ret->offset = ret->vaddr - s->start;
	}
	if (m->dw && dwarf_addrdie(m->dw, ret->vaddr, &cudie) &&
	    (line = dwarf_getsrc_die(&cudie, ret->vaddr))) {
		ret->file = dwarf_linesrc(line, NULL, NULL);
		if (dwarf_lineno(line, &ret->line))
			ret->line = 0;
	}
	return 0;
}

/* A frame in an already-seen file costs one stat(), never an open(). */
static int cache_module(struct symcache *c, const char *path, const char *root,
			struct sc_module **ret)
{
	struct sc_module *m = NULL;
	struct sc_entry *ent;
	struct stat st;
	int err;

	c->stats.lookups++;
	c->tick++;

	if (stat(path, &st)) {
		err = -errno;
		ent = cache_find(c, NULL, path);
		if (ent) {
			ent->used = c->tick;
			err = ent->err;
		} else {
			if (c->nentries >= c->max_entries)
				cache_evict_one(c);
			cache_add(c, NULL, path, NULL, err);
		}
		c->stats.errors++;
		return err;
	}

	ent = cache_find(c, &st, NULL);
	if (ent) {
		ent->used = c->tick;
		if (!ent->mod) {
			c->stats.errors++;
			return ent->err;
		}
		c->stats.hits++;
		*ret = ent->mod;
		return 0;
	}

	/* Make room first: eviction must not free the module we are about to use. */
	if (c->nentries >= c->max_entries)
		cache_evict_one(c);
	err = cache_get_module(c, path, root, &m);
	if (err == -ENOMEM) {	/* not a property of the file: do not cache it */
		c->stats.errors++;
		return err;
	}
	if (cache_add(c, &st, NULL, m, err)) {
		if (m && !m->refs) {
			m->refs = 1;
			cache_put_module(c, m);
		}
		c->stats.errors++;
		return -ENOMEM;
	}
	if (err) {
		c->stats.errors++;
		return err;
	}
	*ret = m;
	return 0;
}

/* Both lookups start alike: ret cleared and naming the module, the module cached. */
static int lookup_start(struct symcache *c, const char *path, const char *root,
			struct ms_sym *ret, struct sc_module **ret_m)
{
	if (!ret)
		return -EINVAL;
	memset(ret, 0, sizeof(*ret));
	if (!c || !path)
		return -EINVAL;
	ret->module = path;
	return cache_module(c, path, root, ret_m);
}

int symcache__lookup(struct symcache *c, const char *path, const char *root, uint64_t file_off,
		     struct ms_sym *ret)
{
	struct sc_module *m;
	int err = lookup_start(c, path, root, ret, &m);

	return err ? err : module__lookup(c, m, file_off, ret);
}

/* ---- inline frames -------------------------------------------------- */

static size_t iname_slot(const struct sc_iname *tab, size_t cap, const char *raw)
{
	size_t h = (size_t)(((uintptr_t)raw >> 3) * 0x9e3779b97f4a7c15ull) & (cap - 1);

	while (tab[h].raw && tab[h].raw != raw)
		h = (h + 1) & (cap - 1);
	return h;
}

static int module__grow_inames(struct sc_module *m)
{
	size_t cap = m->inames_cap ? m->inames_cap * 2 : 64, i;
	struct sc_iname *tab = calloc(cap, sizeof(*tab));

	if (!tab)
		return -ENOMEM;
	for (i = 0; i < m->inames_cap; i++)
		if (m->inames[i].raw)
			tab[iname_slot(tab, cap, m->inames[i].raw)] = m->inames[i];
	free(m->inames);
	m->inames = tab;
	m->inames_cap = cap;
	return 0;
}

/*
 * raw demangled once per module, so every lookup returns the same string.
 * A full table or no memory leaves the name mangled: still a name.
 */
static const char *module__inline_name(struct sc_module *m, const char *raw)
{
	size_t slot;
	int status;
	char *d;

	if (m->inames_cap) {
		slot = iname_slot(m->inames, m->inames_cap, raw);
		if (m->inames[slot].raw)
			return m->inames[slot].name ? m->inames[slot].name : raw;
	}
	if (m->ninames >= MS_SYM_MAX_INLINE_NAMES)
		return raw;
	if (2 * (m->ninames + 1) > m->inames_cap && module__grow_inames(m))
		return raw;
	d = __cxa_demangle(raw, NULL, NULL, &status);
	if (status) {
		free(d);
		d = NULL;
	}
	slot = iname_slot(m->inames, m->inames_cap, raw);
	m->inames[slot] = (struct sc_iname){ raw, d };
	m->ninames++;
	return d ? d : raw;
}

/*
 * libdw returns a DW_FORM_string as a bare pointer into .debug_info: in a
 * hostile file it may run off the section's end.
 */
static const char *attr_string(const struct sc_module *m, Dwarf_Attribute *attr)
{
	const char *s = dwarf_formstring(attr), *start, *end;

	if (!s || dwarf_whatform(attr) != DW_FORM_string)
		return s;
	if (!m->dw_info)
		return NULL;
	start = m->dw_info->d_buf;
	end = start + m->dw_info->d_size;
	if (s < start || s >= end || !memchr(s, '\0', (size_t)(end - s)))
		return NULL;
	return s;
}

/* Through DW_AT_abstract_origin / DW_AT_specification: the linkage name if any, as symbols are. */
static const char *inline_name(struct symcache *c, struct sc_module *m, Dwarf_Die *die)
{
	Dwarf_Attribute attr;
	const char *name;

	if ((dwarf_attr_integrate(die, DW_AT_linkage_name, &attr) ||
	     dwarf_attr_integrate(die, DW_AT_MIPS_linkage_name, &attr)) &&
	    (name = attr_string(m, &attr))) {
		if (c->demangle && name[0] == '_' && name[1] == 'Z')
			return module__inline_name(m, name);
		return name;
	}
	if (dwarf_attr_integrate(die, DW_AT_name, &attr))
		return attr_string(m, &attr);
	return NULL;
}

/* Where the inlined instance die was called from: file (NULL if unknown) and line (or 0). */
static void call_site(Dwarf_Die *die, Dwarf_Die *cudie, const char **ret_file, int *ret_line)
{
	Dwarf_Attribute attr;
	Dwarf_Files *files;
	Dwarf_Word v;
	Dwarf_Die cu;
	size_t nfiles;

	*ret_file = NULL;
	*ret_line = 0;
	if (dwarf_attr(die, DW_AT_call_line, &attr) && !dwarf_formudata(&attr, &v) && v <= INT_MAX)
		*ret_line = (int)v;
	if (!dwarf_attr(die, DW_AT_call_file, &attr) || dwarf_formudata(&attr, &v))
		return;
	/* the file table is that of the unit holding die, which dwz may have moved */
	if (!dwarf_diecu(die, &cu, NULL, NULL))
		cu = *cudie;
	if (!dwarf_getsrcfiles(&cu, &files, &nfiles) && v < nfiles)
		*ret_file = dwarf_filesrc(files, v, NULL, NULL);
}

/* DIEs whose address ranges nest the scopes inside them. */
static bool scope_has_pc(int tag)
{
	switch (tag) {
	case DW_TAG_subprogram:
	case DW_TAG_inlined_subroutine:
	case DW_TAG_lexical_block:
	case DW_TAG_try_block:
	case DW_TAG_catch_block:
	case DW_TAG_with_stmt:
		return true;
	default:
		return false;
	}
}

/* DIEs without addresses that may hold functions (GCC nests them in namespaces). */
static bool scope_holds_funcs(int tag)
{
	switch (tag) {
	case DW_TAG_namespace:
	case DW_TAG_module:
	case DW_TAG_class_type:
	case DW_TAG_structure_type:
	case DW_TAG_union_type:
		return true;
	default:
		return false;
	}
}

/* A DW_AT_sibling pointing backwards would loop for ever. */
static bool next_sibling(Dwarf_Die *die)
{
	Dwarf_Off off = dwarf_dieoffset(die);
	Dwarf_Die next;

	if (dwarf_siblingof(die, &next) || dwarf_dieoffset(&next) <= off)
		return false;
	*die = next;
	return true;
}

/*
 * The DW_TAG_inlined_subroutine instances containing vaddr inside its
 * innermost subprogram, innermost first, into ret (MS_SYM_MAX_SCOPES).
 * Our own walk rather than dwarf_getscopes: that recurses once per level
 * of DIE nesting, and a hostile CU nests as deep as its bytes allow; here
 * the depth is an array's, the work a budget's. Scopes containing vaddr
 * never overlap their siblings, so the walk descends into the first one
 * and never comes back; it only backtracks out of namespaces, classes and
 * imported (dwz) units that held nothing.
 */
static size_t inline_chain(Dwarf_Die *cudie, uint64_t vaddr, Dwarf_Die *ret)
{
	Dwarf_Die stack[MS_SYM_MAX_SCOPES], chain[MS_SYM_MAX_SCOPES];
	unsigned int budget = SCOPE_VISIT_BUDGET;
	size_t nchain = 0, n = 0, i;
	int sp = 0;

	if (dwarf_child(cudie, &stack[0]))
		return 0;
	while (sp >= 0 && budget--) {
		Dwarf_Die *d = &stack[sp], unit, *into = NULL;
		Dwarf_Attribute attr;
		int tag = dwarf_tag(d);

		if (scope_has_pc(tag) && dwarf_haspc(d, vaddr) > 0) {
			chain[nchain++] = *d;
			if (nchain == MS_SYM_MAX_SCOPES || dwarf_child(d, &stack[0]))
				break;
			sp = 0;
			continue;
		}
		if (scope_holds_funcs(tag))
			into = d;
		else if (tag == DW_TAG_imported_unit && dwarf_attr(d, DW_AT_import, &attr) &&
			 dwarf_formref_die(&attr, &unit))
			into = &unit;	/* its children count as d's siblings */
		if (into && sp + 1 < MS_SYM_MAX_SCOPES && !dwarf_child(into, &stack[sp + 1])) {
			sp++;
			continue;
		}
		while (sp >= 0 && !next_sibling(&stack[sp]))
			sp--;
	}
	for (i = nchain; i > 0; i--) {
		int tag = dwarf_tag(&chain[i - 1]);

		if (tag == DW_TAG_subprogram)
			break;
		if (tag == DW_TAG_inlined_subroutine)
			ret[n++] = chain[i - 1];
	}
	return n;
}

static struct sc_chain *chain_slot(struct sc_module *m, uint64_t off)
{
	size_t mask = m->chains_cap - 1, i = (size_t)(off * 0x9e3779b97f4a7c15ull) & mask;

	while (m->chains[i].v && m->chains[i].off != off)
		i = (i + 1) & mask;
	return &m->chains[i];
}

/* Remember a chain (owned by the table from now on); false: not kept. */
static bool chain_put(struct sc_module *m, uint64_t off, struct ms_sym *v, uint32_t n)
{
	struct sc_chain *slot;

	if ((m->nchains + 1) * 4 > m->chains_cap * 3) {
		size_t cap = m->chains_cap ? m->chains_cap * 2 : 256;
		struct sc_chain *old = m->chains, *nv;
		size_t old_cap = m->chains_cap;

		if (cap > CHAINS_MAX)
			return false;	/* full: later addresses are walked each time */
		nv = calloc(cap, sizeof(*nv));
		if (!nv)
			return false;
		m->chains = nv;
		m->chains_cap = cap;
		for (size_t i = 0; i < old_cap; i++)
			if (old[i].v)
				*chain_slot(m, old[i].off) = old[i];
		free(old);
	}
	slot = chain_slot(m, off);
	*slot = (struct sc_chain){ .off = off, .v = v, .n = n };
	m->nchains++;
	return true;
}

/* The whole chain at file_off into v[0..n] (n inlined, then the real function). */
static int module__chain(struct symcache *c, struct sc_module *m, uint64_t file_off,
			 struct ms_sym *v, uint32_t *ret_n)
{
	Dwarf_Die cudie, inl[MS_SYM_MAX_SCOPES];
	struct ms_sym real = v[0];
	size_t n = 0, i;
	const char *file;
	uint64_t vaddr;
	int err, line;

	err = module__lookup(c, m, file_off, &real);
	if (err)
		return err;
	if (m->dw && module__vaddr(m, file_off, &vaddr) && dwarf_addrdie(m->dw, vaddr, &cudie))
		n = inline_chain(&cudie, vaddr, inl);
	file = real.file;
	line = real.line;
	for (i = 0; i < n; i++) {
		v[i] = (struct ms_sym){ .name = inline_name(c, m, &inl[i]), .file = file,
					.line = line, .vaddr = real.vaddr };
		/* where the next one out is */
		call_site(&inl[i], &cudie, &file, &line);
	}
	v[n] = real;
	v[n].file = file;
	v[n].line = line;
	*ret_n = (uint32_t)n;
	return 0;
}

static int module__frames(struct symcache *c, struct sc_module *m, uint64_t file_off,
			  struct ms_sym *ret, size_t max, size_t *ret_n)
{
	struct ms_sym chain[MS_SYM_MAX_SCOPES + 1], *v = chain;
	const char *module = ret[0].module;
	struct sc_chain *hit = m->chains_cap ? chain_slot(m, file_off) : NULL;
	uint32_t n;
	size_t keep;
	int err;

	if (hit && hit->v) {
		v = hit->v;
		n = hit->n;
	} else {
		chain[0] = ret[0];
		err = module__chain(c, m, file_off, chain, &n);
		if (err)
			return err;
		/* only DWARF modules pay for walking: the others are as fast as the cache */
		if (m->dw) {
			struct ms_sym *copy = malloc((n + 1) * sizeof(*copy));

			if (copy) {
				memcpy(copy, chain, (n + 1) * sizeof(*copy));
				if (!chain_put(m, file_off, copy, n))
					free(copy);
			}
		}
	}
	/* the innermost max - 1 inlined ones, then always the real function */
	keep = n < max - 1 ? n : max - 1;
	for (size_t i = 0; i < keep; i++)
		ret[i] = v[i];
	ret[keep] = v[n];
	for (size_t i = 0; i <= keep; i++)
		ret[i].module = module;
	*ret_n = keep + 1;
	return 0;
}

int symcache__lookup_frames(struct symcache *c, const char *path, const char *root,
			    uint64_t file_off, struct ms_sym *ret, size_t max, size_t *ret_n)
{
	struct sc_module *m;
	int err;

	if (!ret_n)
		return -EINVAL;
	*ret_n = 0;
	if (!max)
		return -EINVAL;
	err = lookup_start(c, path, root, ret, &m);
	return err ? err : module__frames(c, m, file_off, ret, max, ret_n);
}

struct symcache *symcache__new(const struct symcache_opts *opts)
{
	const char *dir = opts && opts->debug_dir ? opts->debug_dir : "/usr/lib/debug";
	struct symcache *c;

	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->debug_dir = strdup(dir);
	if (!c->debug_dir) {
		free(c);
		return NULL;
	}
	c->demangle = !(opts && opts->no_demangle);
	c->max_entries = MS_SYM_MAX_MODULES;
	if (opts && opts->max_modules && opts->max_modules < MS_SYM_MAX_MODULES)
		c->max_entries = opts->max_modules;
	return c;
}

void symcache__free(struct symcache *c)
{
	struct sc_entry *ent, *next;
	size_t b;

	if (!c)
		return;
	for (b = 0; b < HASH_BUCKETS; b++) {
		for (ent = c->buckets[b]; ent; ent = next) {
			next = ent->hnext;
			entry_free(c, ent);
		}
	}
	free(c->debug_dir);
	free(c);
}

void symcache__stats(const struct symcache *c, struct symcache_stats *ret)
{
	*ret = c->stats;
}
