/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * symbolize_int.h - the symboliser's own: one loaded module (its function
 * index, its DWARF, its inline chains), shared by the cache
 * (symbolize.c), the modules (symbolize_module.c) and inline frames
 * (symbolize_inline.c). Not for other modules.
 */
#ifndef MEMSIGHT_SYMBOLIZE_INT_H
#define MEMSIGHT_SYMBOLIZE_INT_H

#include <elfutils/libdw.h>

#include "target/elf.h"
#include "target/symbolize.h"

/* libstdc++'s demangler; C linkage, so no C++ header is needed. */
char *__cxa_demangle(const char *mangled, char *buf, size_t *len, int *status);

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
	uint8_t build_id[MS_ELF_BUILD_ID_CAP];
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

/*
 * Load the module of the ELF *pe (opened from path): its functions (from a
 * debug file under debug_dir / root when it has no .symtab), its DWARF
 * lines. Takes *pe (sets it NULL) when the module keeps the file for its
 * DWARF. Symbols beyond MS_SYM_MAX_SYMBOLS are counted in *dropped.
 */
int sc_module__load(const char *debug_dir, struct ms_elf **pe, const char *path,
		    const char *root, struct sc_module **ret, uint64_t *dropped);
void sc_module__free(struct sc_module *m);
/* A file offset to the module's vaddr; false if no PT_LOAD holds it. */
bool sc_module__vaddr(const struct sc_module *m, uint64_t file_off, uint64_t *ret);
/* symcache__lookup's answer for one module (ret->module is left as it is). */
int sc_module__lookup(struct sc_module *m, bool demangle, uint64_t file_off, struct ms_sym *ret);
/* symcache__lookup_frames' answer for one module; ret[0].module names it. */
int sc_module__frames(struct sc_module *m, bool demangle, uint64_t file_off,
		      struct ms_sym *ret, size_t max, size_t *ret_n);

#endif /* MEMSIGHT_SYMBOLIZE_INT_H */
