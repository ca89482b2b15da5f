// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * symbolize_module.c - one module's function index: the functions of its
 * symbol tables (or its debug file's), sorted with the preferred alias of
 * each address first, C++ names demangled on first use, and its DWARF
 * lines. No parse failure is fatal to more than the one module.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dwarf.h>

#include "target/debugfile.h"
#include "target/symbolize_int.h"

/* Aliases nested inside a bigger function are found this many entries back. */
#define NEST_LOOKBACK	8

void sc_module__free(struct sc_module *m)
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

struct collect {
	struct sc_module *m;
	const struct ms_elf *e;
	uint64_t *dropped;
};

static int collect_one(const struct ms_elf_sym *s, void *arg)
{
	struct collect *c = arg;
	struct sc_module *m = c->m;
	bool size0;
	uint64_t end;

	if (!ms_elf_sym__is_func(s))
		return 0;
	if (m->nsyms >= MS_SYM_MAX_SYMBOLS || m->strs_len + s->len + 1 > UINT32_MAX) {
		(*c->dropped)++;
		return 0;
	}
	size0 = s->sym.st_size == 0;
	/* a size-0 symbol ends at its section's end at most: it must not cover .rodata */
	if (size0)
		end = ms_elf__section_end(c->e, &s->sym);
	else if (__builtin_add_overflow(s->sym.st_value, s->sym.st_size, &end))
		end = UINT64_MAX;
	return module__add_sym(m, s->name, s->len, s->sym.st_value, end, size0, s->rank);
}

/* Add one table's functions; on failure the module is left as it was. */
static int module__collect(struct sc_module *m, struct ms_elf *e, enum ms_elf_symtab which,
			   uint64_t *dropped)
{
	struct collect c = { m, e, dropped };
	size_t nsyms = m->nsyms, strs_len = m->strs_len;
	int err;

	err = ms_elf__for_each_sym(e, which, collect_one, &c);
	if (err) {
		m->nsyms = nsyms;
		m->strs_len = strs_len;
	}
	return err;
}

/* Where the PT_LOAD holding vaddr ends (0: none). */
static uint64_t load_end(const struct sc_module *m, uint64_t vaddr)
{
	for (size_t i = 0; i < m->nloads; i++)
		if (vaddr >= m->loads[i].vaddr && vaddr - m->loads[i].vaddr < m->loads[i].filesz)
			return m->loads[i].vaddr + m->loads[i].filesz;
	return 0;
}

/*
 * A stripped module names its exported functions only: a static function's
 * frames would be bare offsets, two addresses in one function two frames.
 * .eh_frame_hdr lists where every function with unwind information starts,
 * sorted: each start without a symbol becomes "sub_<vaddr>" (a symbol at
 * the same address wins: it ranks last), up to the next start. Only the
 * table layout linkers write is read (version 1, a 4-byte .eh_frame
 * pointer, a udata4 count, datarel sdata4 pairs); anything else adds nothing.
 */
static void module__add_fde_starts(struct sc_module *m, struct ms_elf *e)
{
	struct ms_elf_section sec;
	Elf_Data *d;
	const uint8_t *p;
	uint32_t count;

	if (ms_elf__section_by_name(e, ".eh_frame_hdr", &sec) || ms_elf__section_data(&sec, &d) ||
	    !d || d->d_size < 12)
		return;
	p = d->d_buf;
	if (p[0] != 1 || ((p[1] & 0x0f) != 0x03 && (p[1] & 0x0f) != 0x0b) || p[2] != 0x03 ||
	    p[3] != 0x3b)
		return;
	memcpy(&count, p + 8, sizeof(count));
	if (count > (d->d_size - 12) / 8)
		return;
	for (uint32_t i = 0; i < count && m->nsyms < MS_SYM_MAX_SYMBOLS; i++) {
		int32_t loc, next;
		uint64_t start, end;
		char name[32];
		int len;

		memcpy(&loc, p + 12 + 8 * (size_t)i, sizeof(loc));
		start = sec.addr + (int64_t)loc;
		if (i + 1 < count) {
			memcpy(&next, p + 12 + 8 * ((size_t)i + 1), sizeof(next));
			end = sec.addr + (int64_t)next;
		} else {
			end = load_end(m, start);
		}
		if (end <= start || !load_end(m, start))
			continue;
		len = snprintf(name, sizeof(name), "sub_%" PRIx64, start);
		if (module__add_sym(m, name, (size_t)len, start, end, false, UINT8_MAX))
			return;
	}
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

/* Takes *pe on success. Lines are optional: any failure just leaves m->dw NULL. */
static void module__open_dwarf(struct sc_module *m, struct ms_elf **pe)
{
	struct ms_elf *e = *pe;
	Dwarf *dw;

	if (!e || !ms_elf__has_dwarf(e) || !ms_elf__dwarf_sane(e))
		return;
	dw = dwarf_begin_elf(ms_elf__handle(e), DWARF_C_READ, NULL);
	if (!dw)
		return;
	/*
	 * libdw has read the debug sections; drop the fd so a cache of
	 * thousands of modules does not hold thousands of descriptors.
	 */
	ms_elf__drop_fd(e);
	m->dw = dw;
	m->dw_elf = e;
	/* libdw inflated it in place at dwarf_begin_elf: the buffer its DIEs point into */
	m->dw_info = ms_elf__debug_info(e);
	*pe = NULL;
}

/* Takes *pe (sets it NULL) when the module keeps the file for its DWARF. */
int sc_module__load(const char *debug_dir, struct ms_elf **pe, const char *path,
		    const char *root, struct sc_module **ret, uint64_t *dropped)
{
	struct ms_elf *e = *pe, *dbg = NULL;
	bool has_symtab = ms_elf__has_symtab(e, MS_ELF_SYMTAB);
	struct sc_module *m;
	size_t i, nph;
	int err, bid_len;

	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	bid_len = ms_elf__build_id(e, m->build_id, sizeof(m->build_id));
	m->build_id_len = bid_len > 0 ? (size_t)bid_len : 0;
	nph = ms_elf__nsegments(e);
	m->loads = calloc(nph ? nph : 1, sizeof(*m->loads));
	if (!m->loads) {
		err = -ENOMEM;
		goto fail;
	}
	for (i = 0; i < nph; i++) {
		const GElf_Phdr *ph = ms_elf__segment(e, i);

		if (ph->p_type == PT_LOAD && ph->p_filesz)
			m->loads[m->nloads++] = (struct sc_load){ ph->p_offset, ph->p_filesz,
								  ph->p_vaddr };
	}

	if (has_symtab) {
		err = module__collect(m, e, MS_ELF_SYMTAB, dropped);
		if (err)
			goto fail;
	}
	if (ms_elf__has_symtab(e, MS_ELF_DYNSYM)) {
		err = module__collect(m, e, MS_ELF_DYNSYM, dropped);
		if (err)
			goto fail;
	}
	if (!has_symtab || !ms_elf__has_dwarf(e))
		dbg = debugfile__find(debug_dir, e, path, root);
	/* A broken debug file costs its symbols, not the module. */
	if (!has_symtab && dbg && ms_elf__has_symtab(dbg, MS_ELF_SYMTAB))
		module__collect(m, dbg, MS_ELF_SYMTAB, dropped);
	else if (!has_symtab)
		module__add_fde_starts(m, e);
	module__finalize(m);

	if (ms_elf__has_dwarf(e))
		module__open_dwarf(m, pe);
	else
		module__open_dwarf(m, &dbg);
	ms_elf__close(dbg);
	*ret = m;
	return 0;
fail:
	ms_elf__close(dbg);
	sc_module__free(m);
	return err;
}

bool sc_module__vaddr(const struct sc_module *m, uint64_t file_off, uint64_t *ret)
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

int sc_module__lookup(struct sc_module *m, bool demangle, uint64_t file_off, struct ms_sym *ret)
{
	const struct sc_sym *s;
	Dwarf_Die cudie;
	Dwarf_Line *line;

	if (!sc_module__vaddr(m, file_off, &ret->vaddr))
		return 0;
	s = module__find(m, ret->vaddr);
	if (s) {
		ret->name = module__name(m, s, demangle);
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
