/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * elf.h - the one reader of ELF files: opened safely (no FIFO hangs, no
 * SIGBUS on a file truncated under us, every table checked against the
 * file's size), then asked for its headers, segments, sections, symbols,
 * build-id, debuglink and bytes at a virtual address.
 *
 * Library-like: returns 0 / -errno (or NULL + errno), never logs.
 */
#ifndef MEMSIGHT_ELF_H
#define MEMSIGHT_ELF_H

#include <gelf.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#define MS_BUILD_ID_MAX 20
/* Build-id notes longer than this are ignored (sha1 is 20, uuid/md5 16). */
#define MS_ELF_BUILD_ID_CAP	64

/* Bytes of one (decompressed) section we read: a 100-byte section may claim 1 TiB. */
#define MS_ELF_MAX_SECTION	(512ull << 20)

struct ms_elf;

/*
 * MS_ELF_STRICT: every PT_LOAD and every section with contents must lie
 * inside the file, and a file that starts with the ELF magic but does not
 * parse is EINVAL (broken) rather than ENOEXEC (not ELF). Without it a
 * truncated file still gives what it holds (symbolisation of a library
 * cut short on disk).
 */
#define MS_ELF_STRICT	1u

/*
 * Open and validate an executable or shared object (ET_EXEC, ET_DYN).
 * NULL + errno: ENOENT, EACCES, EISDIR, ENOEXEC (not ELF, not EXEC/DYN,
 * corrupt headers), EINVAL (MS_ELF_STRICT: broken), ENOMEM.
 */
struct ms_elf *ms_elf__open(const char *path);
struct ms_elf *ms_elf__open_flags(const char *path, unsigned int flags);
void ms_elf__close(struct ms_elf *elf);

/* The ELF header; libelf's handle (for libdw); the file's stat at open. */
const GElf_Ehdr *ms_elf__ehdr(const struct ms_elf *elf);
Elf *ms_elf__handle(const struct ms_elf *elf);
const struct stat *ms_elf__stat(const struct ms_elf *elf);
/* 1 if ET_DYN (shared object or PIE), 0 if ET_EXEC. */
int ms_elf__is_dyn(const struct ms_elf *elf);
/* True if both were opened from the same file (device and inode). */
bool ms_elf__same_file(const struct ms_elf *a, const struct ms_elf *b);

/* Copy the GNU build-id into buf; returns its length, or -ENOENT if absent. */
int ms_elf__build_id(const struct ms_elf *elf, uint8_t *buf, size_t len);

/* ---- segments -------------------------------------------------------- */

size_t ms_elf__nsegments(const struct ms_elf *elf);
/* Program header i, or NULL past the end. */
const GElf_Phdr *ms_elf__segment(const struct ms_elf *elf, size_t i);

/* Translate a virtual address to a file offset via the PT_LOAD headers. */
int ms_elf__vaddr_to_offset(const struct ms_elf *elf, uint64_t vaddr, uint64_t *ret_off);
/* And back: file offset to virtual address. */
int ms_elf__offset_to_vaddr(const struct ms_elf *elf, uint64_t off, uint64_t *ret_vaddr);

/*
 * Read up to len bytes of the file's contents at virtual address vaddr
 * (e.g. a function's first instructions), stopping at the end of the
 * file-backed part of its PT_LOAD. Returns bytes read, -ENOENT if vaddr is
 * not file-backed, or -errno.
 */
int ms_elf__read_vaddr(const struct ms_elf *elf, uint64_t vaddr, void *buf, size_t len);
/* Read up to len bytes at file offset off; returns bytes read (short at EOF) or -errno. */
int ms_elf__read_offset(const struct ms_elf *elf, uint64_t off, void *buf, size_t len);

/* ---- sections -------------------------------------------------------- */

struct ms_elf_section {
	const char *name;	/* "" when .shstrtab does not name it */
	Elf_Scn *scn;
	size_t index;
	uint32_t type;		/* SHT_* */
	uint64_t flags;		/* SHF_* */
	uint64_t addr, offset, size;
	uint32_t link;
};

/* Section i (0 is the null section); -ENOENT past the end. */
int ms_elf__section(const struct ms_elf *elf, size_t i, struct ms_elf_section *ret);
/* The first section called name; -ENOENT if there is none. */
int ms_elf__section_by_name(const struct ms_elf *elf, const char *name,
			    struct ms_elf_section *ret);
/*
 * A section's contents, inflated if SHF_COMPRESSED (zlib); the declared
 * size is checked against MS_ELF_MAX_SECTION before anything is allocated.
 * *ret is NULL for an empty section; -ENOENT for SHT_NOBITS, -EFBIG,
 * -EOPNOTSUPP (other compression), -ENOEXEC (unreadable).
 */
int ms_elf__section_data(const struct ms_elf_section *s, Elf_Data **ret);

/* ---- symbols --------------------------------------------------------- */

enum ms_elf_symtab {
	MS_ELF_SYMTAB,		/* .symtab */
	MS_ELF_DYNSYM,		/* .dynsym */
};

struct ms_elf_sym {
	const char *name;	/* NUL-terminated; may carry an "@VERSION" suffix */
	size_t len;		/* length before any '@' (never 0) */
	GElf_Sym sym;
	size_t index;
	/* Preference among aliases, lower is better: global < weak < local, default < hidden. */
	unsigned int rank;
};

bool ms_elf__has_symtab(const struct ms_elf *elf, enum ms_elf_symtab which);

/*
 * Call fn for each named symbol of the table, in table order, until fn
 * returns non-zero: that value is returned. 0 when all were seen; -ENOENT
 * if there is no such table; -errno if it does not read.
 */
int ms_elf__for_each_sym(struct ms_elf *elf, enum ms_elf_symtab which,
			 int (*fn)(const struct ms_elf_sym *sym, void *arg), void *arg);

/* A defined function (STT_FUNC or STT_GNU_IFUNC, not SHN_UNDEF)? */
bool ms_elf_sym__is_func(const struct ms_elf_sym *sym);

/*
 * End of the section holding sym (for a symbol without st_size, which must
 * not run over the rest of .text or .rodata); UINT64_MAX if unknown.
 */
uint64_t ms_elf__section_end(const struct ms_elf *elf, const GElf_Sym *sym);

/*
 * Find a defined function symbol by exact name in .symtab, then .dynsym;
 * versioned dynsym names ("malloc@@GLIBC_2.2.5") match their base name.
 */
int ms_elf__find_func(struct ms_elf *elf, const char *name,
		      uint64_t *ret_vaddr, uint64_t *ret_size);

/*
 * Up to max function start addresses (vaddr) spread evenly over the symbol
 * table (.symtab, else .dynsym), skipping functions under min_size bytes:
 * a sample for telling how the module was compiled. Returns how many, or -errno.
 */
int ms_elf__sample_funcs(struct ms_elf *elf, uint64_t min_size, uint64_t *ret_vaddrs, size_t max);

/* ---- debug information ------------------------------------------------ */

/*
 * .gnu_debuglink: the debug file's basename (never with a '/') and its
 * CRC32. -ENOENT if absent or malformed.
 */
int ms_elf__debuglink(const struct ms_elf *elf, char *name, size_t namesz, uint32_t *ret_crc);
/* CRC32 (zlib's, as .gnu_debuglink uses) of the whole file. */
int ms_elf__crc32(const struct ms_elf *elf, uint32_t *ret);

/* .debug_info and .debug_line both have contents. */
bool ms_elf__has_dwarf(const struct ms_elf *elf);
/*
 * Are the debug sections safe to give libdw, which inflates every one of
 * them at dwarf_begin_elf and strlen()s into .debug_str/.debug_line_str?
 * Sizes under MS_ELF_MAX_SECTION, zlib only, string sections NUL-ended.
 */
bool ms_elf__dwarf_sane(struct ms_elf *elf);
/* .debug_info's data as libdw reads it (inflated in place), or NULL. */
Elf_Data *ms_elf__debug_info(const struct ms_elf *elf);
/*
 * Once libdw has read what it needs: close the descriptor (a cache of
 * thousands of modules must not hold thousands of them). Only the data
 * already read stays usable.
 */
void ms_elf__drop_fd(struct ms_elf *elf);

#endif /* MEMSIGHT_ELF_H */
