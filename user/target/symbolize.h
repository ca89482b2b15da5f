/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * symbolize.h - address -> symbol: ELF symbol tables, debug files, DWARF lines and
 * inlined frames, through a per-build-id cache of modules.
 *
 * Library-like: returns 0 / -errno (or NULL + errno), never logs.
 */
#ifndef MEMSIGHT_SYMBOLIZE_H
#define MEMSIGHT_SYMBOLIZE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "target/elf.h"

/* Limits that protect us from hostile or absurd inputs. */
#define MS_SYM_MAX_SYMBOLS	(8u << 20)	/* symbols kept per module */
#define MS_SYM_MAX_SECTION	MS_ELF_MAX_SECTION	/* bytes of one (decompressed) section */
#define MS_SYM_MAX_MODULES	4096		/* modules held by one cache */

/* ---- the cache: address -> symbol ----------------------------------- */

struct ms_sym {
	const char *name;	/* demangled; owned by the cache; NULL if unknown */
	uint64_t offset;	/* address - symbol start */
	const char *module;	/* path of the module as given to lookup */
	const char *file;	/* source file, or NULL (DWARF line info) */
	int line;		/* 0 if unknown */
	uint64_t vaddr;		/* the address translated to the ELF's vaddr space */
};

struct symcache_opts {
	const char *debug_dir;	/* default "/usr/lib/debug" */
	bool no_demangle;
	unsigned int max_modules;	/* 0: MS_SYM_MAX_MODULES; lower values bound memory (and tests) */
};

struct symcache;

struct symcache *symcache__new(const struct symcache_opts *opts);
void symcache__free(struct symcache *cache);

/*
 * Symbolise a location given as (module file, file offset) — what
 * /proc/PID/maps gives: file_off = addr - map.start + map.pgoff.
 *
 * path: the module as openable by us (e.g. "/proc/PID/root/usr/lib/libc.so.6");
 * root: prefix for debug-file search inside the target's mount namespace
 * (e.g. "/proc/PID/root"), or NULL for the host's.
 *
 * Modules are cached by build-id (falling back to path+size+mtime), so the
 * same libc in 100 processes is read once. Returns 0 with ret->name == NULL
 * when the module is readable but has no symbol covering the address;
 * -errno when the module cannot be opened or parsed (the error is cached
 * too, so a broken file is not re-read for every frame).
 */
int symcache__lookup(struct symcache *cache, const char *path, const char *root,
		     uint64_t file_off, struct ms_sym *ret);

/* Inline-frame expansion never follows DWARF scopes deeper than this. */
#define MS_SYM_MAX_SCOPES	64
/* Demangled inlined-function names kept per module; beyond it they stay mangled. */
#define MS_SYM_MAX_INLINE_NAMES	(64u << 10)

/*
 * Like symcache__lookup, but expands the functions inlined at the address:
 * ret[0] is the innermost (the inlined function whose code is at the
 * address, with the file:line of the address), ret[1..] its callers
 * outward, each with the file:line of the call site of the one inside it;
 * the last is the real (out-of-line) function from the symbol table, named
 * and offset as symcache__lookup gives it, with the file:line of its call
 * of the outermost inlined function. Inlined names come from DWARF
 * (demangled unless no_demangle); their offset is 0, as they have no
 * symbol of their own. All entries share module and vaddr.
 *
 * Without DWARF, or with nothing inlined at the address, *ret_n = 1 and
 * ret[0] is exactly symcache__lookup's result. At most max entries are
 * written: when the chain is longer, the innermost max - 1 are kept, then
 * the real function (so max = 1 gives only the real function, at its call
 * site of the outermost inlined one). max == 0 is -EINVAL.
 *
 * Returns 0 / -errno as symcache__lookup; on error *ret_n = 0. Strings
 * are owned by the cache, valid as long as symcache__lookup's.
 */
int symcache__lookup_frames(struct symcache *cache, const char *path, const char *root,
			    uint64_t file_off, struct ms_sym *ret, size_t max, size_t *ret_n);

struct symcache_stats {
	uint64_t modules;
	uint64_t symbols;
	uint64_t lookups;
	uint64_t hits;		/* served from an already-loaded module */
	uint64_t errors;
	uint64_t dropped_symbols;	/* beyond MS_SYM_MAX_SYMBOLS */
};

void symcache__stats(const struct symcache *cache, struct symcache_stats *ret);

#endif /* MEMSIGHT_SYMBOLIZE_H */
