// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * elf.c - the one ELF reader (libelf): every other module asks it. Symbol
 * tables are elf_sym.c's.
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

#include "target/elf_int.h"

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

int ms_elf_scn_data(Elf_Scn *scn, Elf_Data **ret)
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
	return ms_elf_scn_data(s->scn, ret);
}

/* ---- debug information ---------------------------------------------------- */

int ms_elf__debuglink(const struct ms_elf *e, char *name, size_t namesz, uint32_t *ret_crc)
{
	const unsigned char *p, *c;
	size_t len, crc_off;
	Elf_Data *d;

	/* .gnu_debuglink: NUL-terminated basename, padding to 4, CRC32 of the debug file. */
	if (!e->debuglink || ms_elf_scn_data(e->debuglink, &d) || !d)
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
		if (ms_elf_scn_data(s.scn, &d))
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
