/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * goruntime_int.h - the Go executable reader's own: struct go_binary and
 * what its three files share (goruntime.c: open and lookups; gobuildinfo.c:
 * version and module info; gopclntab.c: loading .gopclntab and gofunc).
 * Not for other modules.
 *
 * module info, and .gopclntab symbolisation.
 *
 * Formats (learned from the Go sources: runtime/symtab.go, runtime/runtime2.go,
 * debug/gosym/pclntab.go, debug/buildinfo/buildinfo.go):
 *
 *  .go.buildinfo: 16-byte-aligned 32-byte header "\xff Go buildinf:" + ptrsize +
 *  flags. flags&2: the header is followed by two uvarint-length-prefixed strings
 *  (version, modinfo). Else two pointers (endianness flags&1) to Go string
 *  headers {data, len} elsewhere in the image.
 *
 *  .gopclntab (1.16+): pcHeader {magic u32, 0, 0, minLC, ptrSize, then words:
 *  nfunc, nfiles, [textStart (1.18+)], funcnameOffset, cuOffset, filetabOffset,
 *  pctabOffset, pclnOffset}. At pclnOffset: functab, nfunc pairs {entry, funcoff}
 *  and one closing entry (end of text); 1.18+ stores u32 offsets from textStart,
 *  1.16 stores pointer-sized absolute entries. funcoff is relative to pclnOffset
 *  and points at an _func whose first field is the entry (u32 offset or pointer)
 *  followed by u32 fields: nameoff, args, deferreturn, pcsp, pcfile, pcln, npcdata,
 *  cuOffset. pcfile/pcln are offsets into pctab of pc-value tables: pairs of
 *  uvarints (zig-zag value delta, pc delta / minLC) starting from value -1 at the
 *  entry, ended by a zero value delta (except on the first step).
 *
 *  Inlined calls (runtime/symtabinl.go, cmd/link/internal/ld/pcln.go): after
 *  cuOffset (and 1.20's startLine) a u32 {funcID, flag, _, nfuncdata}, then
 *  pcdata[npcdata] (pctab offsets) and funcdata[nfuncdata] (1.18+: u32 offsets
 *  from moduledata.gofunc). pcdata[2] maps a PC to a node of the inline tree
 *  at funcdata[3] (-1: not inlined); a node names the inlined function and
 *  the call site in the real function (parentPc from entry), where the walk
 *  continues with the caller's position and node.
 */
#ifndef MEMSIGHT_GORUNTIME_INT_H
#define MEMSIGHT_GORUNTIME_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "target/elf.h"
#include "target/goruntime.h"

#define PCLN_MAGIC_116	0xfffffffau
#define PCLN_MAGIC_118	0xfffffff0u
#define PCLN_MAGIC_120	0xfffffff1u

#define BUILDINFO_MAGIC		"\xff Go buildinf:"
#define BUILDINFO_MAGIC_LEN	14
#define BUILDINFO_HDR		32
#define BUILDINFO_ALIGN		16

/* _func fields after the entry, in u32 units (debug/gosym funcData.field()). */
#define FUNC_NAMEOFF	1
#define FUNC_PCFILE	5
#define FUNC_PCLN	6
#define FUNC_CUOFF	8
#define FUNC_NFIELDS	8
/* the u32 holding funcID and nfuncdata (low byte first in memory): 9, 1.20+ 10 (startLine) */
#define FUNC_IDWORD_118	9
#define FUNC_IDWORD_120	10

/* runtime's _PCDATA_InlTreeIndex and _FUNCDATA_InlTree (1.12 to now) */
#define PCDATA_INLTREE	2
#define FUNCDATA_INLTREE	3
/* runtime.inlinedCall: 1.18/1.19 {parent i16, funcID, _, file, line, func_, parentPc}; 1.20+
 * {funcID, _[3], nameOff, parentPc, startLine} */
#define INLCALL_SIZE_118	20
#define INLCALL_SIZE_120	16

/* runtime.moduledata: words before text (pcHeader, six slices, findfunctab, minpc, maxpc) */
#define MD_TEXT		22
#define MD_WORDS	45	/* up to 1.27's epclntab */

struct go_binary {
	char version[GO_VERSION_MAX];	/* "" if unknown */
	struct go_version ver;
	char *main_path;
	char *mod_path;

	/* .gopclntab, copied */
	uint8_t *pcln;
	uint64_t pcln_size;
	uint64_t pcln_addr;		/* link-time address of .gopclntab */
	int pcln_err;
	bool pcln_be;
	bool pcln_rel;			/* 1.18+: functab entries are offsets from text_start */
	bool pcln_120;			/* 1.20+ _func and inlinedCall layouts */
	unsigned ptrsize;
	unsigned quantum;
	unsigned fieldsz;		/* size of one functab field */
	uint64_t nfunc;
	uint64_t text_start;
	uint64_t funcname_off, cu_off, filetab_off, pctab_off, functab_off;

	/*
	 * moduledata.gofunc (go:func.*), which 1.18+ funcdata offsets are
	 * relative to: gofunc_size bytes from that address, a copy (gofunc_own)
	 * or, from 1.26 on where the linker puts it inside .gopclntab, a view
	 * into pcln. inl_err: why inlined calls cannot be expanded (0: they can).
	 */
	const uint8_t *gofunc;
	uint64_t gofunc_size;
	bool gofunc_own;
	int inl_err;
};

/* What open() needs while the file is open; dropped before it returns. */
struct elf_ctx {
	struct ms_elf *elf;
	bool be;
	unsigned ptrsize;
	struct ms_elf_section buildinfo, pclntab, text;
	bool has_buildinfo, has_pclntab, has_text, has_buildid_note;
};
static inline uint64_t rd_uint(const uint8_t *p, unsigned size, bool be)
{
	uint64_t v = 0;
	unsigned i;

	for (i = 0; i < size; i++)
		v |= (uint64_t)p[be ? i : size - 1 - i] << (8 * (size - 1 - i));
	return v;
}

static inline uint64_t pcln_u(const struct go_binary *b, uint64_t off, unsigned size)
{
	return rd_uint(b->pcln + off, size, b->pcln_be);
}


/*
 * Read up to len bytes at virtual address addr from the file-backed part of a
 * PT_LOAD. Returns bytes read (short at the end of the segment), -ENOENT if addr
 * is not file-backed. (The file was opened MS_ELF_STRICT: segments lie inside it.)
 */
static inline ssize_t ctx_read_vaddr(const struct elf_ctx *c, uint64_t addr, void *buf, size_t len)
{
	return ms_elf__read_vaddr(c->elf, addr, buf, len);
}

/* Program header i if it is one of the first GO_MAX_PHDRS, a PT_LOAD; else NULL. */
static inline const GElf_Phdr *ctx_load(const struct elf_ctx *c, size_t i)
{
	const GElf_Phdr *p = i < GO_MAX_PHDRS ? ms_elf__segment(c->elf, i) : NULL;

	return p && p->p_type == PT_LOAD ? p : NULL;
}

static inline size_t ctx_nsegments(const struct elf_ctx *c)
{
	size_t n = ms_elf__nsegments(c->elf);

	return n < GO_MAX_PHDRS ? n : GO_MAX_PHDRS;
}

/* gobuildinfo.c: version and module info (buildinfo blob, else runtime.buildVersion);
 * *ret_seen tells whether the blob exists (proof of Go even if unreadable). */
int gobuildinfo__read(struct go_binary *b, const struct elf_ctx *c, bool *ret_seen);
/* Set b's version from the Go version string s (len bytes); false if it is not one. */
bool gobuildinfo__set_version(struct go_binary *b, const char *s, size_t len);

/* gopclntab.c: copy and check .gopclntab; then find moduledata.gofunc (inline trees). */
int gopclntab__load(struct go_binary *b, const struct elf_ctx *c);
int gopclntab__load_gofunc(struct go_binary *b, const struct elf_ctx *c);

#endif /* MEMSIGHT_GORUNTIME_INT_H */
