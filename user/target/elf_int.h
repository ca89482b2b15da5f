/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * elf_int.h - the ELF reader's own: struct ms_elf, shared by elf.c (open,
 * segments, sections, debug information) and elf_sym.c (symbol tables).
 * Not for other modules: they use elf.h.
 */
#ifndef MEMSIGHT_ELF_INT_H
#define MEMSIGHT_ELF_INT_H

#include "target/elf.h"

struct ms_elf {
	int fd;
	Elf *elf;
	struct stat st;
	GElf_Ehdr ehdr;
	bool have_ehdr;
	GElf_Phdr *phdrs;
	size_t phnum;
	size_t shnum;
	size_t shstrndx;	/* SHN_UNDEF: no section names */
	Elf_Scn *symtab;
	Elf_Scn *dynsym;
	Elf_Scn *versym;
	Elf_Scn *debuglink;
	Elf_Scn *debug_info;	/* .debug_info with contents, if any */
	bool has_dwarf;
	uint8_t build_id[MS_ELF_BUILD_ID_CAP];
	size_t build_id_len;
};

/* ms_elf__section_data() for a bare section handle. */
int ms_elf_scn_data(Elf_Scn *scn, Elf_Data **ret);

#endif /* MEMSIGHT_ELF_INT_H */
