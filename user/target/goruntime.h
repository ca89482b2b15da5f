/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * goruntime.h - read a Go executable without running it: is it Go, which
 * toolchain built it, and symbolisation from .gopclntab (which survives
 * `-ldflags="-s -w"`, unlike .symtab and DWARF).
 *
 * Library-like: returns 0 / -errno (or NULL + errno), never logs. Input files
 * are treated as hostile: every table size and offset is checked against the
 * bytes actually read, so a truncated or corrupt binary gives an error.
 *
 * Addresses are the ELF's link-time virtual addresses (what .symtab says).
 * For a PIE, subtract the load bias from a runtime PC before lookup.
 */
#ifndef MEMSIGHT_GORUNTIME_H
#define MEMSIGHT_GORUNTIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Limits that protect us from hostile or absurd inputs. */
#define GO_PCLNTAB_MAX		(512u << 20)	/* bytes of .gopclntab we load */
#define GO_BUILDINFO_SCAN	(64u << 10)	/* bytes searched for the buildinfo blob */
#define GO_MODINFO_MAX		(1u << 20)	/* bytes of module info (old pointer format) */
#define GO_VERSION_MAX		128		/* bytes of "go1.19.8" incl. NUL */
#define GO_MAX_PHDRS		256		/* program headers considered */
#define GO_INLINE_MAX		64		/* inlined calls at one PC (else -ELOOP) */

struct go_binary;

struct go_version {
	const char *str;	/* "go1.19.8" (as recorded; may be "devel go1.22-abc ...") */
	int major;		/* 1 */
	int minor;		/* 19 */
	int patch;		/* 8; 0 for "go1.20" */
};

/*
 * Result of a PC lookup. Strings point into the go_binary and stay valid until
 * go_binary__close(). Inline-unaware: name is the outermost (physical)
 * function that contains pc, while file:line come from the pcfile/pcln tables,
 * which record the innermost position, so for an inlined call they name the
 * callee's source line. Frames for people: go_binary__lookup_frames().
 */
struct go_func_info {
	const char *name;	/* "main.leakHandler" (pclntab form, see find_func) */
	uint64_t entry;		/* function's first instruction */
	uint64_t end;		/* next function's entry (covers padding) */
	const char *file;	/* "/src/app/main.go", NULL if the table has none */
	int line;		/* 0 if the table has none */
};

/*
 * Open an ELF file and read its Go metadata. The file is not kept open: what
 * is needed (the pclntab, a few strings) is copied.
 *
 * NULL + errno: ENOENT/EACCES/... from open(), ENOEXEC if the file is not ELF
 * or is an ELF without any Go marker (buildinfo blob, runtime.buildVersion,
 * .gopclntab, .note.go.buildid), EINVAL if its ELF headers are corrupt or
 * truncated, ENOMEM.
 *
 * A Go binary whose .gopclntab is missing, unsupported or corrupt still opens:
 * go_binary__pclntab_status() says why lookups fail.
 */
struct go_binary *go_binary__open(const char *path);
void go_binary__close(struct go_binary *b);

/*
 * Toolchain version, from the .go.buildinfo blob (Go 1.18+ inline strings, or
 * the older pointer format of 1.13-1.17), else from the string data of the
 * runtime.buildVersion symbol when .symtab exists. -ENOENT if neither gives
 * one; major/minor/patch are 0 if the string does not parse as goMAJ.MIN[.PATCH].
 */
int go_binary__version(const struct go_binary *b, struct go_version *ret);

/*
 * Record the version found by other means when the file says none (a
 * stripped binary without .go.buildinfo: govars__version() reads
 * runtime.buildVersion from code). 0; -EEXIST if a version is known
 * already (it stays); -EINVAL if s is not a printable string that fits.
 */
int go_binary__set_version(struct go_binary *b, const char *s, size_t len);

/*
 * From the module info in the buildinfo blob ("path" and "mod" lines), or NULL:
 * main package path ("example.com/leaky/cmd/x") and main module path.
 */
const char *go_binary__main_path(const struct go_binary *b);
const char *go_binary__module_path(const struct go_binary *b);

/*
 * 0 if .gopclntab was loaded and its header is sane; -ENOENT if there is no
 * .gopclntab section (or no section headers at all); -ENOTSUP for a pclntab
 * layout we do not read (Go <= 1.15, an unknown future magic, a compressed
 * section); -EFBIG if larger than GO_PCLNTAB_MAX; -EINVAL if its header or
 * tables do not fit in the section. Supported magics:
 * 0xfffffffa (Go 1.16/1.17), 0xfffffff0 (1.18/1.19), 0xfffffff1 (1.20+).
 */
int go_binary__pclntab_status(const struct go_binary *b);

/*
 * Symbolise pc (link-time address) via .gopclntab. Neither this nor
 * go_binary__find_func() modifies b, so concurrent lookups are safe.
 * -ENOENT if pc is outside every function; any go_binary__pclntab_status()
 * error; -EINVAL if this function's record or its pc-value tables run out of
 * bounds.
 */
int go_binary__lookup(struct go_binary *b, uint64_t pc, struct go_func_info *ret);

/*
 * One frame of a PC's inline expansion (go_binary__lookup_frames), as
 * runtime.CallersFrames and pprof show it. Strings point into the go_binary.
 */
struct go_frame {
	const char *name;	/* the inlined function, or the real one (last frame) */
	const char *file;	/* NULL if the table has none */
	int line;		/* 0 if the table has none */
	bool inlined;		/* inlined into the next frame */
	uint64_t pc;		/* where file:line are from: pc itself for [0], else the
				 * call site of the inlined call before, in the real
				 * function; runtime.Callers records pc + 1 for it */
};

/*
 * 0 if go_binary__lookup_frames() expands inlined calls; else why not:
 * any go_binary__pclntab_status() error, -ENOTSUP for Go 1.16/1.17 (their
 * funcdata are absolute pointers; not read), -ENOENT if runtime.moduledata
 * (which locates go:func.*, where the inline trees are) was not found in the
 * file's writable data, -EFBIG if go:func.* is absurdly large.
 */
int go_binary__inline_status(const struct go_binary *b);

/*
 * Symbolise pc with its inlined calls expanded, from the inline tree
 * (FUNCDATA_InlTree and PCDATA_InlTreeIndex): ret[0] is the innermost
 * function at pc, each next one its caller, the last the real function
 * (inlined == false), file:line of each at its own pc. *ret_n >= 1; if the
 * chain is longer than max, the innermost max - 1 inlined calls and the real
 * function are kept. Without inline data (go_binary__inline_status() != 0)
 * or at a PC outside inlined code, one frame, as go_binary__lookup(). ret_func
 * (may be NULL): the real function, with its entry/end and its own position.
 * -EINVAL if max == 0 or the inline tree is out of bounds (or names a call
 * site outside the function); -ELOOP if deeper than GO_INLINE_MAX (a cycle);
 * the errors of go_binary__lookup().
 */
int go_binary__lookup_frames(struct go_binary *b, uint64_t pc, struct go_frame *ret, size_t max,
			     size_t *ret_n, struct go_func_info *ret_func);

/*
 * Entry address of the function called exactly name (e.g. "runtime.mallocgc")
 * from .gopclntab, so uprobes can be placed on stripped binaries. Names are
 * pclntab's, as in Go tracebacks: no ".abi0" suffix, and a generic
 * instantiation is "pkg.F[...]". An assembly function and its ABIInternal
 * wrapper share one name there; the lowest address wins (for the runtime's
 * assembly, the ABI0 body every caller reaches). Linear scan over all functions
 * (O(nfunc); cache the answer). -ENOENT if absent.
 */
int go_binary__find_func(struct go_binary *b, const char *name, uint64_t *ret_entry);

#endif /* MEMSIGHT_GORUNTIME_H */
