/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * unwind.h - DWARF (CFI) unwinding of a stack copied out of another process.
 *
 * The BPF side copies an allocation's registers and the stack above sp
 * (struct ms_ustack_hdr); this walks it with elfutils' libdwfl, which reads
 * each module's .eh_frame / .debug_frame and falls back to frame pointers in
 * modules that have no CFI, so stacks mixing both unwind. One unwinder per
 * process holds its modules (and libdw's per-module CFI caches) for every
 * sample of that process.
 *
 * Library-like: returns 0 / -errno (or NULL + errno), never logs.
 */
#ifndef MEMSIGHT_UNWIND_H
#define MEMSIGHT_UNWIND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "memsight_abi.h"
#include "target/procfs.h"

/* One copied stack: registers at the moment and the bytes at regs[MS_UREG_SP]. */
struct unwind_sample {
	pid_t tid;
	uint64_t regs[MS_UREG__MAX];
	const uint8_t *stack;
	size_t size;
};

struct unwinder;

/*
 * Module files shared by the unwinders of many processes (the same libc in
 * 200 processes is opened and read once). Optional; not thread-safe: the
 * unwinders sharing one must be used from one thread.
 */
struct unwind_files;

struct unwind_files *unwind_files__new(void);
/* After every unwinder that used it is freed. */
void unwind_files__free(struct unwind_files *f);
/* Files held open. */
size_t unwind_files__count(const struct unwind_files *f);

/*
 * Modules of process pid as in maps (file-backed executable mappings),
 * opened through /proc/PID/root or /proc/PID/map_files (ms_map__open_path),
 * so a process in another mount namespace or running a replaced binary
 * unwinds with its own files. Files are opened lazily, on first use.
 */
struct unwinder *unwinder__new(pid_t pid, const struct ms_maps *maps, struct unwind_files *files);
void unwinder__free(struct unwinder *u);

/*
 * Unwind one sample into return addresses, innermost first: ips[0] is
 * regs[MS_UREG_IP] as given. Stops at the outermost frame, at the first
 * frame it cannot step (no CFI and no usable frame pointer, stack copy too
 * short) or at max frames; what was found until then is the result.
 * 0 with *ret_n >= 1, or -EINVAL for an empty request.
 */
int unwinder__unwind(struct unwinder *u, const struct unwind_sample *s, uint64_t *ips,
		     size_t max, size_t *ret_n);

/* True when addr lies in a module the unwinder knows (false: maps changed, e.g. dlopen). */
bool unwinder__covers(struct unwinder *u, uint64_t addr);

#endif /* MEMSIGHT_UNWIND_H */
