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
	uint64_t mean_off;	/* ... its file offset (the mappings place it) */
};

/*
 * Is the ELF at path the sampler library? 1 and *ret filled, 0 not it
 * (including an unreadable or non-ELF file), -errno when it has the probes
 * but its exports do not read.
 */
int sampler__probe_elf(const char *path, struct ms_sampler_info *ret);

/*
 * Where memsight_sampler_mean_bytes lives in the process whose mappings are
 * maps, the module being the file (dev, inode) of m: 0 and *ret_addr, or
 * -ENOENT when no mapping of that file holds it.
 */
int sampler__mean_addr(const struct ms_maps *maps, const struct ms_map *m,
		       const struct ms_sampler_info *si, uint64_t *ret_addr);

/* The library's mean in process pid, and setting it (0 or -errno). */
int sampler__read_mean(pid_t pid, uint64_t addr, uint64_t *ret);
int sampler__write_mean(pid_t pid, uint64_t addr, uint64_t mean);

#endif /* MEMSIGHT_SAMPLER_H_TARGET */
