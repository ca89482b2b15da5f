// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * gopclntab.c - loading a Go executable's .gopclntab (copied, its header
 * checked against its size) and finding runtime.moduledata's gofunc, which
 * inline trees are relative to. Lookups in them are goruntime.c's.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "target/goruntime_int.h"

/* ---- .gopclntab ----------------------------------------------------- */

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

int gopclntab__load(struct go_binary *b, const struct elf_ctx *c)
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
int gopclntab__load_gofunc(struct go_binary *b, const struct elf_ctx *c)
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

