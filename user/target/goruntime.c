// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * goruntime.c - static reading of Go executables: detection, toolchain version,
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
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

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

static uint64_t rd_uint(const uint8_t *p, unsigned size, bool be)
{
	uint64_t v = 0;
	unsigned i;

	for (i = 0; i < size; i++)
		v |= (uint64_t)p[be ? i : size - 1 - i] << (8 * (size - 1 - i));
	return v;
}

/* ---- ELF plumbing --------------------------------------------------- */

/*
 * Read up to len bytes at virtual address addr from the file-backed part of a
 * PT_LOAD. Returns bytes read (short at the end of the segment), -ENOENT if addr
 * is not file-backed. (The file was opened MS_ELF_STRICT: segments lie inside it.)
 */
static ssize_t ctx_read_vaddr(const struct elf_ctx *c, uint64_t addr, void *buf, size_t len)
{
	return ms_elf__read_vaddr(c->elf, addr, buf, len);
}

/* Program header i if it is one of the first GO_MAX_PHDRS, a PT_LOAD; else NULL. */
static const GElf_Phdr *ctx_load(const struct elf_ctx *c, size_t i)
{
	const GElf_Phdr *p = i < GO_MAX_PHDRS ? ms_elf__segment(c->elf, i) : NULL;

	return p && p->p_type == PT_LOAD ? p : NULL;
}

static size_t ctx_nsegments(const struct elf_ctx *c)
{
	size_t n = ms_elf__nsegments(c->elf);

	return n < GO_MAX_PHDRS ? n : GO_MAX_PHDRS;
}

/*
 * Read the Go string whose header {data, len} lives at addr into a new
 * NUL-terminated buffer. -E2BIG if longer than max.
 */
static int ctx_read_gostring(const struct elf_ctx *c, uint64_t addr, unsigned ptrsize, bool be,
			     size_t max, char **ret, size_t *ret_len)
{
	uint8_t hdr[16];
	uint64_t data, len;
	ssize_t r;
	char *s;

	if (ptrsize != 4 && ptrsize != 8)
		return -EINVAL;
	r = ctx_read_vaddr(c, addr, hdr, 2 * ptrsize);
	if (r < 0)
		return (int)r;
	if (r != 2 * ptrsize)
		return -EINVAL;
	data = rd_uint(hdr, ptrsize, be);
	len = rd_uint(hdr + ptrsize, ptrsize, be);
	if (len > max)
		return -E2BIG;
	s = malloc(len + 1);
	if (!s)
		return -ENOMEM;
	r = len ? ctx_read_vaddr(c, data, s, len) : 0;
	if (r < 0 || (uint64_t)r != len) {
		free(s);
		return r < 0 ? (int)r : -EINVAL;
	}
	s[len] = '\0';
	*ret = s;
	*ret_len = len;
	return 0;
}

static void ctx_scan(struct elf_ctx *c)
{
	const GElf_Ehdr *eh = ms_elf__ehdr(c->elf);

	c->be = eh->e_ident[EI_DATA] == ELFDATA2MSB;
	c->ptrsize = eh->e_ident[EI_CLASS] == ELFCLASS32 ? 4 : 8;
	/* No section headers (sstrip'ed): not an error, the callers fall back. */
	c->has_buildinfo = !ms_elf__section_by_name(c->elf, ".go.buildinfo", &c->buildinfo);
	/* PIE and external linking move it into RELRO under the second name. */
	c->has_pclntab = !ms_elf__section_by_name(c->elf, ".gopclntab", &c->pclntab) ||
			 !ms_elf__section_by_name(c->elf, ".data.rel.ro.gopclntab", &c->pclntab);
	c->has_text = !ms_elf__section_by_name(c->elf, ".text", &c->text);
	c->has_buildid_note = !ms_elf__section_by_name(c->elf, ".note.go.buildid",
						       &(struct ms_elf_section){ 0 });
}

/* ---- version and module info ---------------------------------------- */

static void parse_version(struct go_binary *b)
{
	const char *s = b->version;
	long v[3] = { 0, 0, 0 };
	int i;

	b->ver.str = b->version;
	if (!strncmp(s, "devel ", 6))
		s += 6;
	if (strncmp(s, "go", 2))
		return;
	s += 2;
	for (i = 0; i < 3; i++) {
		if (*s < '0' || *s > '9')
			break;
		while (*s >= '0' && *s <= '9' && v[i] < 100000)
			v[i] = v[i] * 10 + (*s++ - '0');
		if (*s != '.')
			break;
		s++;
	}
	if (i == 0 && v[0] == 0)
		return;
	b->ver.major = (int)v[0];
	b->ver.minor = (int)v[1];
	b->ver.patch = (int)v[2];
}

/* Accept only printable version strings that fit; anything else is not a version. */
static bool set_version(struct go_binary *b, const char *s, size_t len)
{
	size_t i;

	if (len == 0 || len >= sizeof(b->version))
		return false;
	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] == 0x7f)
			return false;
	memcpy(b->version, s, len);
	b->version[len] = '\0';
	parse_version(b);
	return true;
}

/* Value of the first line "<key>\t<value>[\t...]\n" in modinfo, or NULL. */
static char *modinfo_field(const char *mod, size_t len, const char *key)
{
	size_t klen = strlen(key), pos = 0;

	while (pos < len) {
		const char *line = mod + pos;
		const char *nl = memchr(line, '\n', len - pos);
		size_t llen = nl ? (size_t)(nl - line) : len - pos;

		if (llen > klen && !memcmp(line, key, klen) && line[klen] == '\t') {
			const char *v = line + klen + 1;
			const char *tab = memchr(v, '\t', llen - klen - 1);
			size_t vlen = tab ? (size_t)(tab - v) : llen - klen - 1;

			return vlen ? strndup(v, vlen) : NULL;
		}
		pos += llen + 1;
	}
	return NULL;
}

/* Best effort: module info is optional, so a failed strndup() just leaves it NULL. */
static void set_modinfo(struct go_binary *b, const char *mod, size_t len)
{
	/* cmd/go frames modinfo with 16-byte sentinels; the end one follows a '\n'. */
	if (len < 33 || mod[len - 17] != '\n')
		return;
	mod += 16;
	len -= 32;
	b->main_path = modinfo_field(mod, len, "path");
	b->mod_path = modinfo_field(mod, len, "mod");
}

/* encoding/binary.Uvarint over [*p, end). */
static int uvarint64(const uint8_t **p, const uint8_t *end, uint64_t *ret)
{
	uint64_t v = 0;
	unsigned shift;

	for (shift = 0; shift < 64 && *p < end; shift += 7) {
		uint8_t c = *(*p)++;

		v |= (uint64_t)(c & 0x7f) << shift;
		if (!(c & 0x80)) {
			*ret = v;
			return 0;
		}
	}
	return -EINVAL;
}

static int inline_string(const uint8_t **p, const uint8_t *end, const char **ret, size_t *ret_len)
{
	uint64_t len;

	if (uvarint64(p, end, &len) || len > (uint64_t)(end - *p))
		return -EINVAL;
	*ret = (const char *)*p;
	*ret_len = len;
	*p += len;
	return 0;
}

/* Go 1.18+: version and modinfo follow the header as uvarint-prefixed strings. */
static void decode_inline(struct go_binary *b, const uint8_t *blob, size_t n)
{
	const uint8_t *p = blob + BUILDINFO_HDR, *end = blob + n;
	const char *vers, *mod;
	size_t vlen, mlen;

	if (inline_string(&p, end, &vers, &vlen) || !set_version(b, vers, vlen))
		return;
	if (!inline_string(&p, end, &mod, &mlen))
		set_modinfo(b, mod, mlen);
}

/* Go 1.13-1.17: the header holds addresses of the two Go string headers. */
static void decode_pointers(struct go_binary *b, const struct elf_ctx *c, const uint8_t *blob)
{
	unsigned ptrsize = blob[14];
	bool be = blob[15] & 1;
	char *vers, *mod;
	size_t vlen, mlen;
	bool ok;

	if (ptrsize != 4 && ptrsize != 8)
		return;
	if (ctx_read_gostring(c, rd_uint(blob + 16, ptrsize, be), ptrsize, be, GO_VERSION_MAX - 1,
			      &vers, &vlen))
		return;
	ok = set_version(b, vers, vlen);
	free(vers);
	if (!ok)
		return;
	/* the modinfo sentinels may hold NUL bytes: keep the real length */
	if (!ctx_read_gostring(c, rd_uint(blob + 16 + ptrsize, ptrsize, be), ptrsize, be,
			       GO_MODINFO_MAX, &mod, &mlen)) {
		set_modinfo(b, mod, mlen);
		free(mod);
	}
}

/* Look for the blob in the first GO_BUILDINFO_SCAN bytes at addr; true if found. */
static bool scan_buildinfo_at(struct go_binary *b, const struct elf_ctx *c, uint64_t addr,
			      uint8_t *buf)
{
	ssize_t n = ctx_read_vaddr(c, addr, buf, GO_BUILDINFO_SCAN);
	size_t i;

	if (n < 0)
		return false;
	/* The linker aligns the blob; cmd/go's reader only looks at aligned spots. */
	for (i = 0; i + BUILDINFO_HDR <= (size_t)n; i += BUILDINFO_ALIGN) {
		if (!memcmp(buf + i, BUILDINFO_MAGIC, BUILDINFO_MAGIC_LEN)) {
			if (buf[i + 15] & 2)
				decode_inline(b, buf + i, n - i);
			else
				decode_pointers(b, c, buf + i);
			return true;
		}
	}
	return false;
}

/*
 * Version and module info from the buildinfo blob. *ret_seen tells whether the
 * blob exists (proof of Go even if its strings are unreadable).
 */
static int read_buildinfo(struct go_binary *b, const struct elf_ctx *c, bool *ret_seen)
{
	uint8_t *buf = malloc(GO_BUILDINFO_SCAN);
	bool seen = false;
	size_t i;

	if (!buf)
		return -ENOMEM;
	if (c->has_buildinfo) {
		if (c->buildinfo.type != SHT_NOBITS)
			seen = scan_buildinfo_at(b, c, c->buildinfo.addr, buf);
	} else {
		/* No such section (or no sections): the blob opens a writable data segment. */
		for (i = 0; i < ctx_nsegments(c) && !seen; i++) {
			const GElf_Phdr *p = ctx_load(c, i);

			if (p && (p->p_flags & (PF_X | PF_W)) == PF_W)
				seen = scan_buildinfo_at(b, c, p->p_vaddr, buf);
		}
	}
	free(buf);
	*ret_seen = seen;
	return 0;
}

static int buildversion_sym(const struct ms_elf_sym *s, void *arg)
{
	if (strcmp(s->name, "runtime.buildVersion"))
		return 0;
	*(uint64_t *)arg = s->sym.st_value;
	return 1;
}

/* Older toolchains or a lost buildinfo: runtime.buildVersion is a Go string. */
static bool read_buildversion_sym(struct go_binary *b, const struct elf_ctx *c)
{
	uint64_t addr;
	char *vers;
	size_t vlen;
	bool ok;

	if (ms_elf__for_each_sym(c->elf, MS_ELF_SYMTAB, buildversion_sym, &addr) != 1)
		return false;
	if (ctx_read_gostring(c, addr, c->ptrsize, c->be, GO_VERSION_MAX - 1, &vers, &vlen))
		return false;
	ok = set_version(b, vers, vlen);
	free(vers);
	return ok;
}

/* ---- .gopclntab ----------------------------------------------------- */

static uint64_t pcln_u(const struct go_binary *b, uint64_t off, unsigned size)
{
	return rd_uint(b->pcln + off, size, b->pcln_be);
}

/* Parse and bound-check the header; tables are checked again on each access. */
static int pcln_parse(struct go_binary *b, uint64_t text_addr)
{
	uint64_t size = b->pcln_size, w[8], ftab_bytes;
	uint32_t le = 0, be = 0, magic;
	unsigned i, nwords;

	if (size < 8)
		return -EINVAL;
	le = (uint32_t)rd_uint(b->pcln, 4, false);
	be = (uint32_t)rd_uint(b->pcln, 4, true);
	if (le == PCLN_MAGIC_116 || le == PCLN_MAGIC_118 || le == PCLN_MAGIC_120) {
		magic = le;
	} else if (be == PCLN_MAGIC_116 || be == PCLN_MAGIC_118 || be == PCLN_MAGIC_120) {
		magic = be;
		b->pcln_be = true;
	} else if ((le & 0xfffffff0u) == 0xfffffff0u || (be & 0xfffffff0u) == 0xfffffff0u) {
		return -ENOTSUP;	/* Go <= 1.15, or a layout newer than us */
	} else {
		return -EINVAL;
	}
	b->pcln_rel = magic != PCLN_MAGIC_116;
	b->pcln_120 = magic == PCLN_MAGIC_120;
	b->quantum = b->pcln[6];
	b->ptrsize = b->pcln[7];
	if (b->pcln[4] || b->pcln[5] || (b->quantum != 1 && b->quantum != 2 && b->quantum != 4) ||
	    (b->ptrsize != 4 && b->ptrsize != 8))
		return -EINVAL;

	nwords = b->pcln_rel ? 8 : 7;
	if (size < 8 + (uint64_t)nwords * b->ptrsize)
		return -EINVAL;
	for (i = 0; i < nwords; i++)
		w[i] = pcln_u(b, 8 + (uint64_t)i * b->ptrsize, b->ptrsize);
	b->nfunc = w[0];
	if (b->pcln_rel) {
		/*
		 * The header's textStart is the link-time runtime.text, also in a PIE;
		 * if a linker left it unrelocated (0), .text is the best guess.
		 */
		b->text_start = w[2] ? w[2] : text_addr;
		memmove(&w[2], &w[3], 5 * sizeof(w[0]));
	}
	b->funcname_off = w[2];
	b->cu_off = w[3];
	b->filetab_off = w[4];
	b->pctab_off = w[5];
	b->functab_off = w[6];
	for (i = 2; i < 7; i++)
		if (w[i] > size)
			return -EINVAL;

	b->fieldsz = b->pcln_rel ? 4 : b->ptrsize;
	/* nfunc pairs plus the closing entry must fit after functab_off. */
	if (b->nfunc > (size - b->functab_off) / (2 * b->fieldsz))
		return -EINVAL;
	ftab_bytes = (2 * b->nfunc + 1) * b->fieldsz;
	if (ftab_bytes > size - b->functab_off)
		return -EINVAL;
	return 0;
}

static int load_pclntab(struct go_binary *b, const struct elf_ctx *c)
{
	const struct ms_elf_section *s = &c->pclntab;
	Elf_Data *d;

	if (!c->has_pclntab)
		return -ENOENT;
	if (s->type == SHT_NOBITS)
		return -EINVAL;
	if (s->flags & SHF_COMPRESSED)
		return -ENOTSUP;
	if (s->size > GO_PCLNTAB_MAX)
		return -EFBIG;
	if (ms_elf__section_data(s, &d) || (d ? d->d_size : 0) != s->size)
		return -EINVAL;
	b->pcln = malloc(s->size ? s->size : 1);
	if (!b->pcln)
		return -ENOMEM;
	if (d)
		memcpy(b->pcln, d->d_buf, d->d_size);
	b->pcln_size = s->size;
	b->pcln_addr = s->addr;
	return pcln_parse(b, c->has_text ? c->text.addr : 0);
}

/* ---- moduledata.gofunc ---------------------------------------------- */

/*
 * Word indexes in runtime.moduledata: rodata, gofunc and (1.27+) epclntab.
 * 1.20 added covctrs/ecovctrs before end; 1.27 typedesclen after types and
 * itaboffset/itabsize before rodata, and epclntab after gofunc.
 */
struct md_layout {
	unsigned rodata, gofunc, epclntab;
};

static const struct md_layout md_118 = { 37, 38, 0 };
static const struct md_layout md_120 = { 39, 40, 0 };
static const struct md_layout md_127 = { 42, 43, 44 };

/*
 * Is w[] (MD_WORDS words) the moduledata of this pclntab? Its pcHeader,
 * funcnametab and text must be ours. Then its gofunc, by layout.
 */
static bool md_match(const struct go_binary *b, const uint64_t *w, uint64_t *ret_gofunc)
{
	const struct md_layout *l;

	if (w[0] != b->pcln_addr || w[1] != b->pcln_addr + b->funcname_off ||
	    w[MD_TEXT] != b->text_start)
		return false;
	if (!b->pcln_120)
		l = &md_118;
	else if (w[md_127.epclntab] == b->pcln_addr + b->pcln_size)
		l = &md_127;
	else
		l = &md_120;
	if (w[l->gofunc] < w[l->rodata] || !w[l->gofunc])
		return false;
	*ret_gofunc = w[l->gofunc];
	return true;
}

/* Find the moduledata in the file-backed writable segments: it points at .gopclntab. */
static int find_gofunc(const struct go_binary *b, const struct elf_ctx *c, uint64_t *ret)
{
	unsigned ps = b->ptrsize;
	size_t i;

	for (i = 0; i < ctx_nsegments(c); i++) {
		const GElf_Phdr *p = ctx_load(c, i);
		uint64_t n = p ? p->p_filesz : 0, off, w[MD_WORDS];
		uint8_t *buf;
		ssize_t r;

		if (!p || !(p->p_flags & PF_W) || n < MD_WORDS * ps || n > GO_PCLNTAB_MAX)
			continue;
		buf = malloc(n);
		if (!buf)
			return -ENOMEM;
		r = ctx_read_vaddr(c, p->p_vaddr, buf, n);
		for (off = 0; r == (ssize_t)n && off + MD_WORDS * ps <= n; off += ps) {
			unsigned k;

			if (rd_uint(buf + off, ps, b->pcln_be) != b->pcln_addr)
				continue;
			for (k = 0; k < MD_WORDS; k++)
				w[k] = rd_uint(buf + off + k * ps, ps, b->pcln_be);
			if (md_match(b, w, ret)) {
				free(buf);
				return 0;
			}
		}
		free(buf);
	}
	return -ENOENT;
}

/*
 * Make the bytes at gofunc readable: inside .gopclntab (1.26+) a view of
 * pcln; else a copy up to the end of its segment's file data, or to
 * .gopclntab if that follows in the same segment (go:func.* ends rodata).
 */
static int load_gofunc(struct go_binary *b, const struct elf_ctx *c)
{
	uint64_t g, n = 0;
	uint8_t *buf;
	size_t i;
	ssize_t r;
	int err;

	if (b->pcln_err)
		return b->pcln_err;
	if (!b->pcln_rel)
		return -ENOTSUP;	/* 1.16/1.17: funcdata are absolute pointers */
	err = find_gofunc(b, c, &g);
	if (err)
		return err;
	if (g >= b->pcln_addr && g - b->pcln_addr < b->pcln_size) {
		b->gofunc = b->pcln + (g - b->pcln_addr);
		b->gofunc_size = b->pcln_size - (g - b->pcln_addr);
		return 0;
	}
	for (i = 0; i < ctx_nsegments(c); i++) {
		const GElf_Phdr *p = ctx_load(c, i);

		if (p && g >= p->p_vaddr && g - p->p_vaddr < p->p_filesz)
			n = p->p_filesz - (g - p->p_vaddr);
	}
	if (b->pcln_addr > g && b->pcln_addr - g < n)
		n = b->pcln_addr - g;
	if (n == 0)
		return -ENOENT;
	if (n > GO_PCLNTAB_MAX)
		return -EFBIG;
	buf = malloc(n);
	if (!buf)
		return -ENOMEM;
	r = ctx_read_vaddr(c, g, buf, n);
	if (r != (ssize_t)n) {
		free(buf);
		return r < 0 ? (int)r : -EINVAL;
	}
	b->gofunc = buf;
	b->gofunc_size = n;
	b->gofunc_own = true;
	return 0;
}

int go_binary__pclntab_status(const struct go_binary *b)
{
	return b->pcln_err;
}

static uint64_t ft_pc(const struct go_binary *b, uint64_t i)
{
	uint64_t v = pcln_u(b, b->functab_off + 2 * i * b->fieldsz, b->fieldsz);

	return b->pcln_rel ? b->text_start + v : v;
}

struct func_rec {
	uint32_t f[FUNC_NFIELDS + 1];	/* indexed by FUNC_* */
	uint64_t off;			/* of the record in pcln */
	uint64_t avail;			/* bytes from off to the end of pcln */
};

/* Read function i's _func record, checking it lies inside the table and agrees on entry. */
static int func_rec(const struct go_binary *b, uint64_t i, struct func_rec *ret)
{
	uint64_t funcoff = pcln_u(b, b->functab_off + (2 * i + 1) * b->fieldsz, b->fieldsz);
	unsigned sz0 = b->pcln_rel ? 4 : b->ptrsize;
	uint64_t recsz = sz0 + 4 * FUNC_NFIELDS, off, entry;
	unsigned n;

	if (funcoff > b->pcln_size - b->functab_off ||
	    b->pcln_size - b->functab_off - funcoff < recsz)
		return -EINVAL;
	off = b->functab_off + funcoff;
	entry = pcln_u(b, off, sz0);
	if (b->pcln_rel)
		entry += b->text_start;
	if (entry != ft_pc(b, i))
		return -EINVAL;
	for (n = 1; n <= FUNC_NFIELDS; n++)
		ret->f[n] = (uint32_t)pcln_u(b, off + sz0 + 4 * (n - 1), 4);
	ret->off = off;
	ret->avail = b->pcln_size - off;
	return 0;
}

/* NUL-terminated string at base+off inside the pclntab, or NULL. */
static const char *pcln_str(const struct go_binary *b, uint64_t base, uint64_t off)
{
	const uint8_t *s;

	if (base > b->pcln_size || off >= b->pcln_size - base)
		return NULL;
	s = b->pcln + base + off;
	if (!memchr(s, 0, b->pcln_size - base - off))
		return NULL;
	return (const char *)s;
}

/* runtime.readvarint: at most 5 bytes for a u32. */
static int pcln_varint(const struct go_binary *b, uint64_t *pos, uint32_t *ret)
{
	uint32_t v = 0;
	unsigned shift;

	for (shift = 0; shift < 35; shift += 7) {
		uint8_t c;

		if (*pos >= b->pcln_size)
			return -EINVAL;
		c = b->pcln[(*pos)++];
		v |= (uint32_t)(c & 0x7f) << shift;
		if (!(c & 0x80)) {
			*ret = v;
			return 0;
		}
	}
	return -EINVAL;
}

/*
 * Value of the pc-value table at pctab+tab for targetpc in the function starting
 * at entry; -1 if the table has no value there. Each step eats >= 2 bytes, so the
 * loop is bounded by the table size.
 */
static int pcvalue(const struct go_binary *b, uint32_t tab, uint64_t entry, uint64_t targetpc,
		   int32_t *ret)
{
	uint64_t pos, pc = entry;
	int32_t val = -1;

	*ret = -1;
	if (tab == 0)		/* offset 0 is the empty table */
		return 0;
	if (b->pctab_off > b->pcln_size || tab >= b->pcln_size - b->pctab_off)
		return -EINVAL;
	pos = b->pctab_off + tab;
	for (;;) {
		uint32_t uv, pcdelta, vdelta;

		if (pcln_varint(b, &pos, &uv))
			return -EINVAL;
		if (uv == 0 && pc != entry)
			return 0;
		vdelta = (uv & 1) ? ~(uv >> 1) : uv >> 1;
		if (pcln_varint(b, &pos, &pcdelta))
			return -EINVAL;
		pc += (uint64_t)pcdelta * b->quantum;
		val = (int32_t)((uint32_t)val + vdelta);
		if (targetpc < pc) {
			*ret = val;
			return 0;
		}
	}
}

/* Index of the function containing pc and its record. */
static int find_func_at(const struct go_binary *b, uint64_t pc, uint64_t *ret_i,
			struct func_rec *ret_rec)
{
	uint64_t lo, hi;

	if (b->pcln_err)
		return b->pcln_err;
	if (b->nfunc == 0 || pc < ft_pc(b, 0) || pc >= ft_pc(b, b->nfunc))
		return -ENOENT;
	/* Largest i with ft_pc(i) <= pc; terminates even if a hostile table is unsorted. */
	lo = 0;
	hi = b->nfunc;
	while (hi - lo > 1) {
		uint64_t mid = lo + (hi - lo) / 2;

		if (ft_pc(b, mid) <= pc)
			lo = mid;
		else
			hi = mid;
	}
	*ret_i = lo;
	return func_rec(b, lo, ret_rec);
}

/* Source position of pc in the function of rec (entry): file NULL and line 0 if unknown. */
static int func_pos(const struct go_binary *b, const struct func_rec *rec, uint64_t entry,
		    uint64_t pc, const char **ret_file, int *ret_line)
{
	int32_t fno, line;
	int err;

	*ret_file = NULL;
	*ret_line = 0;
	err = pcvalue(b, rec->f[FUNC_PCFILE], entry, pc, &fno);
	if (err)
		return err;
	if (fno >= 0) {
		uint64_t idx = (uint64_t)rec->f[FUNC_CUOFF] + (uint32_t)fno, foff;

		if (b->cu_off > b->pcln_size || idx >= (b->pcln_size - b->cu_off) / 4)
			return -EINVAL;
		foff = pcln_u(b, b->cu_off + idx * 4, 4);
		if (foff != UINT32_MAX) {
			*ret_file = pcln_str(b, b->filetab_off, foff);
			if (!*ret_file)
				return -EINVAL;
		}
	}
	err = pcvalue(b, rec->f[FUNC_PCLN], entry, pc, &line);
	if (err)
		return err;
	*ret_line = line > 0 ? line : 0;
	return 0;
}

int go_binary__lookup(struct go_binary *b, uint64_t pc, struct go_func_info *ret)
{
	struct func_rec rec;
	uint64_t i;
	int err;

	err = find_func_at(b, pc, &i, &rec);
	if (err)
		return err;
	memset(ret, 0, sizeof(*ret));
	ret->entry = ft_pc(b, i);
	ret->end = ft_pc(b, i + 1);
	ret->name = pcln_str(b, b->funcname_off, rec.f[FUNC_NAMEOFF]);
	if (!ret->name)
		return -EINVAL;
	return func_pos(b, &rec, ret->entry, pc, &ret->file, &ret->line);
}

int go_binary__inline_status(const struct go_binary *b)
{
	return b->pcln_err ? b->pcln_err : b->inl_err;
}

/*
 * The function's inline tree: the pcdata table that maps a PC to a node
 * (*ret_tab, 0 if none) and the nodes (*ret_tree, *ret_nnodes; NULL if the
 * function inlines nothing). Layout after the fixed fields: a u32 with funcID
 * and, in its last byte, nfuncdata; pcdata[npcdata] u32; funcdata[nfuncdata]
 * u32 offsets from gofunc (~0: none).
 */
static int inline_tree(const struct go_binary *b, const struct func_rec *rec, uint32_t *ret_tab,
		       const uint8_t **ret_tree, uint64_t *ret_nnodes)
{
	unsigned idword = b->pcln_120 ? FUNC_IDWORD_120 : FUNC_IDWORD_118;
	unsigned nodesz = b->pcln_120 ? INLCALL_SIZE_120 : INLCALL_SIZE_118;
	uint64_t base = (b->pcln_rel ? 4 : b->ptrsize) + 4ull * (idword - 1);
	uint64_t npcdata = rec->f[7], nfuncdata, need, toff;

	*ret_tab = 0;
	*ret_tree = NULL;
	*ret_nnodes = 0;
	if (rec->avail < base + 4)
		return -EINVAL;
	nfuncdata = b->pcln[rec->off + base + 3];
	/* pcdata and funcdata must fit in the section */
	need = base + 4 + 4 * npcdata + 4 * nfuncdata;
	if (npcdata > rec->avail / 4 || rec->avail < need)
		return -EINVAL;
	if (npcdata <= PCDATA_INLTREE || nfuncdata <= FUNCDATA_INLTREE)
		return 0;
	*ret_tab = (uint32_t)pcln_u(b, rec->off + base + 4 + 4 * PCDATA_INLTREE, 4);
	toff = pcln_u(b, rec->off + base + 4 + 4 * npcdata + 4 * FUNCDATA_INLTREE, 4);
	if (toff == UINT32_MAX || *ret_tab == 0)
		return 0;
	if (toff >= b->gofunc_size)
		return -EINVAL;
	*ret_tree = b->gofunc + toff;
	*ret_nnodes = (b->gofunc_size - toff) / nodesz;
	return 0;
}

/* Node idx of the tree: the inlined function's name offset and its call site (from entry). */
static int inline_node(const struct go_binary *b, const uint8_t *tree, uint64_t nnodes,
		       int32_t idx, uint32_t *ret_nameoff, int32_t *ret_parentpc)
{
	const uint8_t *n;

	if (idx < 0 || (uint64_t)idx >= nnodes)
		return -EINVAL;
	if (b->pcln_120) {
		n = tree + (uint64_t)idx * INLCALL_SIZE_120;
		*ret_nameoff = (uint32_t)rd_uint(n + 4, 4, b->pcln_be);
		*ret_parentpc = (int32_t)rd_uint(n + 8, 4, b->pcln_be);
	} else {
		n = tree + (uint64_t)idx * INLCALL_SIZE_118;
		*ret_nameoff = (uint32_t)rd_uint(n + 12, 4, b->pcln_be);
		*ret_parentpc = (int32_t)rd_uint(n + 16, 4, b->pcln_be);
	}
	return 0;
}

int go_binary__lookup_frames(struct go_binary *b, uint64_t pc, struct go_frame *ret, size_t max,
			     size_t *ret_n, struct go_func_info *ret_func)
{
	const uint8_t *tree = NULL;
	uint64_t i, nnodes = 0, entry, end, cur = pc;
	struct func_rec rec;
	const char *fname;
	uint32_t tab = 0;
	size_t n = 0, depth;
	int32_t idx = -1;
	int err;

	if (max == 0)
		return -EINVAL;
	err = find_func_at(b, pc, &i, &rec);
	if (err)
		return err;
	entry = ft_pc(b, i);
	end = ft_pc(b, i + 1);
	fname = pcln_str(b, b->funcname_off, rec.f[FUNC_NAMEOFF]);
	if (!fname)
		return -EINVAL;
	if (!b->inl_err) {
		err = inline_tree(b, &rec, &tab, &tree, &nnodes);
		if (!err && tree)
			err = pcvalue(b, tab, entry, cur, &idx);
		if (err)
			return err;
	}
	/* each inlined call: the callee at cur, then its call site in the parent */
	for (depth = 0; idx >= 0; depth++) {
		struct go_frame fr = { .inlined = true, .pc = cur };
		uint32_t nameoff;
		int32_t ppc;

		if (depth >= GO_INLINE_MAX)
			return -ELOOP;
		err = inline_node(b, tree, nnodes, idx, &nameoff, &ppc);
		if (err)
			return err;
		fr.name = pcln_str(b, b->funcname_off, nameoff);
		if (!fr.name || ppc < 0 || (uint64_t)ppc >= end - entry)
			return -EINVAL;
		err = func_pos(b, &rec, entry, cur, &fr.file, &fr.line);
		if (err)
			return err;
		/* the innermost max - 1, like symcache__lookup_frames */
		if (n + 1 < max)
			ret[n++] = fr;
		cur = entry + (uint64_t)ppc;
		err = pcvalue(b, tab, entry, cur, &idx);
		if (err)
			return err;
	}
	ret[n] = (struct go_frame){ .name = fname, .pc = cur };
	err = func_pos(b, &rec, entry, cur, &ret[n].file, &ret[n].line);
	if (err)
		return err;
	*ret_n = n + 1;
	if (ret_func)
		*ret_func = (struct go_func_info){ .name = fname, .entry = entry, .end = end,
						   .file = ret[n].file, .line = ret[n].line };
	return 0;
}

int go_binary__find_func(struct go_binary *b, const char *name, uint64_t *ret_entry)
{
	size_t len = strlen(name);
	uint64_t i;

	if (b->pcln_err)
		return b->pcln_err;
	for (i = 0; i < b->nfunc; i++) {
		struct func_rec rec;
		uint64_t off;
		int err = func_rec(b, i, &rec);

		if (err)
			return err;
		off = b->funcname_off + rec.f[FUNC_NAMEOFF];
		if (off > b->pcln_size || b->pcln_size - off < len + 1)
			continue;
		if (!memcmp(b->pcln + off, name, len) && b->pcln[off + len] == '\0') {
			*ret_entry = ft_pc(b, i);
			return 0;
		}
	}
	return -ENOENT;
}

/* ---- open / close --------------------------------------------------- */

const char *go_binary__main_path(const struct go_binary *b)
{
	return b->main_path;
}

const char *go_binary__module_path(const struct go_binary *b)
{
	return b->mod_path;
}

int go_binary__version(const struct go_binary *b, struct go_version *ret)
{
	if (!b->version[0])
		return -ENOENT;
	*ret = b->ver;
	return 0;
}

int go_binary__set_version(struct go_binary *b, const char *s, size_t len)
{
	if (b->version[0])
		return -EEXIST;
	return set_version(b, s, len) ? 0 : -EINVAL;
}

void go_binary__close(struct go_binary *b)
{
	if (!b)
		return;
	if (b->gofunc_own)
		free((void *)b->gofunc);
	free(b->pcln);
	free(b->main_path);
	free(b->mod_path);
	free(b);
}

struct go_binary *go_binary__open(const char *path)
{
	struct go_binary *b = NULL;
	struct elf_ctx c = { 0 };
	bool is_go, blob;
	int err = 0;

	/* strict: a truncated or broken ELF is EINVAL, not "not Go" */
	c.elf = ms_elf__open_flags(path, MS_ELF_STRICT);
	if (!c.elf) {
		err = errno == EISDIR ? -ENOEXEC : -errno;
		goto out;
	}
	ctx_scan(&c);

	b = calloc(1, sizeof(*b));
	if (!b) {
		err = -ENOMEM;
		goto out;
	}
	err = read_buildinfo(b, &c, &blob);
	if (err)
		goto out;
	if (!b->version[0])
		read_buildversion_sym(b, &c);
	is_go = blob || b->version[0] || c.has_pclntab || c.has_buildid_note;
	if (!is_go) {
		err = -ENOEXEC;
		goto out;
	}
	b->pcln_err = load_pclntab(b, &c);
	if (b->pcln_err == -ENOMEM) {
		err = -ENOMEM;
		goto out;
	}
	b->inl_err = load_gofunc(b, &c);
	if (b->inl_err == -ENOMEM) {
		err = -ENOMEM;
		goto out;
	}
out:
	ms_elf__close(c.elf);
	if (err) {
		go_binary__close(b);
		errno = -err;
		return NULL;
	}
	return b;
}
