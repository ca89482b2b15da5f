// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * symbolize_inline.c - the functions inlined at an address (libdw): the
 * chain of DW_TAG_inlined_subroutine scopes holding it, their names
 * (demangled once per module) and call sites, and a per-module table of
 * chains already walked.
 */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <dwarf.h>

#include "target/symbolize_int.h"

/* DIEs one inline-frame lookup may look at: bounds the cost of a hostile (or huge) CU. */
#define SCOPE_VISIT_BUDGET	(1u << 20)

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
static const char *inline_name(bool demangle, struct sc_module *m, Dwarf_Die *die)
{
	Dwarf_Attribute attr;
	const char *name;

	if ((dwarf_attr_integrate(die, DW_AT_linkage_name, &attr) ||
	     dwarf_attr_integrate(die, DW_AT_MIPS_linkage_name, &attr)) &&
	    (name = attr_string(m, &attr))) {
		if (demangle && name[0] == '_' && name[1] == 'Z')
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
static int module__chain(bool demangle, struct sc_module *m, uint64_t file_off,
			 struct ms_sym *v, uint32_t *ret_n)
{
	Dwarf_Die cudie, inl[MS_SYM_MAX_SCOPES];
	struct ms_sym real = v[0];
	size_t n = 0, i;
	const char *file;
	uint64_t vaddr;
	int err, line;

	err = sc_module__lookup(m, demangle, file_off, &real);
	if (err)
		return err;
	if (m->dw && sc_module__vaddr(m, file_off, &vaddr) && dwarf_addrdie(m->dw, vaddr, &cudie))
		n = inline_chain(&cudie, vaddr, inl);
	file = real.file;
	line = real.line;
	for (i = 0; i < n; i++) {
		v[i] = (struct ms_sym){ .name = inline_name(demangle, m, &inl[i]), .file = file,
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

int sc_module__frames(struct sc_module *m, bool demangle, uint64_t file_off,
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
		err = module__chain(demangle, m, file_off, chain, &n);
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
