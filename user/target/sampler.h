/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * sampler.h - memsight's sampler library (include/memsight_sampler.h) in a
 * target process: is a mapped module the library, and its sampling mean,
 * read and written in the running process with process_vm_readv/writev
 * (as goproc does for runtime.MemProfileRate).
 *
 * A module is the library when its ELF has a .note.stapsdt probe of
 * provider "memsight" and its .dynsym exports memsight_sampler_abi (the ABI
 * number, read from the file) and memsight_sampler_mean_bytes.
 */
#ifndef MEMSIGHT_SAMPLER_H_TARGET
#define MEMSIGHT_SAMPLER_H_TARGET

#include <stdint.h>
#include <sys/types.h>

#include "memsight_sampler.h"
#include "target/procfs.h"

struct ms_sampler_info {
	uint32_t abi;		/* memsight_sampler_abi as the file has it */
	uint64_t mean_vaddr;	/* memsight_sampler_mean_bytes' link-time address */
	uint64_t dropped_vaddr;	/* memsight_sampler_dropped's (.bss); 0: not exported */
	uint64_t pending_vaddr;	/* memsight_sampler_pending's (.bss); 0: not exported */
	uint64_t load_delta;	/* p_vaddr - p_offset of the segment at file offset 0 */
};

/*
 * Is the ELF at path the sampler library? 1 and *ret filled, 0 not it
 * (including an unreadable or non-ELF file), -errno when it has the probes
 * but its exports do not read.
 */
int sampler__probe_elf(const char *path, struct ms_sampler_info *ret);

/*
 * Where the module's 8-byte word at link-time address vaddr lives in the
 * process whose mappings are maps, the module being the file (dev, inode)
 * of m, placed by the file's mapping at offset 0 (the load bias): 0 and
 * *ret_addr, or -ENOENT when that mapping is not there or the word is not
 * in a writable mapping (file-backed .data or the anonymous .bss).
 */
int sampler__word_addr(const struct ms_maps *maps, const struct ms_map *m,
		       const struct ms_sampler_info *si, uint64_t vaddr, uint64_t *ret_addr);

/* A word of the library (its mean, its dropped count) in process pid, read or set: 0 or -errno. */
int sampler__read_word(pid_t pid, uint64_t addr, uint64_t *ret);
/* n words from addr in the process: 0, or -errno (a short read: -EIO) */
int sampler__read_words(pid_t pid, uint64_t addr, uint64_t *ret, size_t n);
int sampler__write_word(pid_t pid, uint64_t addr, uint64_t value);

#endif /* MEMSIGHT_SAMPLER_H_TARGET */
