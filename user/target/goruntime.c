// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * goruntime.c - static reading of Go executables: detection, and
 * .gopclntab symbolisation (function, file:line, inlined calls). The
 * formats are described in goruntime_int.h; the version is gobuildinfo.c's,
 * loading the tables gopclntab.c's.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "target/goruntime_int.h"

/* ---- lookups ------------------------------------------------------- */

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
	err = gobuildinfo__read(b, &c, &blob);
	if (err)
		goto out;
	is_go = blob || b->version[0] || c.has_pclntab || c.has_buildid_note;
	if (!is_go) {
		err = -ENOEXEC;
		goto out;
	}
	b->pcln_err = gopclntab__load(b, &c);
	if (b->pcln_err == -ENOMEM) {
		err = -ENOMEM;
		goto out;
	}
	b->inl_err = gopclntab__load_gofunc(b, &c);
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
