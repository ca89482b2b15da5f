/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * govars.h - where a Go executable keeps the runtime variables memsight
 * reads, when .symtab is gone (-ldflags=-s, how Go is shipped): each is found
 * in the machine code of a runtime function that .gopclntab still names, as
 * the RIP-relative operand a rule picks (e.g. allglen is what runtime.allgadd
 * stores to last). Every rule is checked against .symtab on unstripped builds
 * of each Go release (tests/unit/test_govars.c).
 *
 * Library-like: 0 / -errno, never logs; the executable is hostile input.
 * x86_64 only (other machines: -ENOTSUP).
 */
#ifndef MEMSIGHT_GOVARS_H
#define MEMSIGHT_GOVARS_H

#include <stddef.h>
#include <stdint.h>

struct go_binary;

enum govar {
	GOVAR_ALLGS,		/* runtime.allgs: []*g */
	GOVAR_ALLGLEN,		/* runtime.allglen: uintptr */
	GOVAR_MEMPROFILERATE,	/* runtime.MemProfileRate: int */
	GOVAR_MBUCKETS,		/* runtime.mbuckets: *bucket, the heap profile's buckets */
	GOVAR_MPROFCYCLE,	/* runtime.mProfCycle: uint32 (1.19+) */
	GOVAR_WAITREASONS,	/* runtime.waitReasonStrings: [N]string */
	GOVAR_MEMSTATS,		/* runtime.memstats (size: from the layout) */
	GOVAR_CLASS_TO_SIZE,	/* the size class table (1.25+: internal/runtime/gc.SizeClassToSize) */
	GOVAR_ALLP,		/* runtime.allp: []*p */
	GOVAR_BUILDVERSION,	/* runtime.buildVersion: string, the toolchain's version */
	GOVAR_GCCONTROLLER,	/* runtime.gcController (size: from the layout) */
	GOVAR_NR
};

#define GOVARS_REASON_LEN	160

/* The runtime name of v ("runtime.allgs"). */
const char *govar__name(enum govar v);

/*
 * Link-time address of v in the executable at path (whose pclntab b holds),
 * from code alone, never from .symtab, and its size in bytes where the code
 * says it (an array's bound), else 0. -ENOENT: the anchor function is not in
 * the binary; -ENOTSUP: its code does not match the rule (another release, or
 * not x86_64); -EINVAL: unreadable code. why (if given) says which.
 */
int govars__locate(const char *path, struct go_binary *b, enum govar v, uint64_t *ret_addr,
		   uint64_t *ret_size, char *why, size_t whylen);

/*
 * The toolchain's version of the executable at path: go_binary__version()'s
 * (.go.buildinfo, or runtime.buildVersion in .symtab), else, for a stripped
 * binary whose .go.buildinfo is gone too, the initial value of
 * runtime.buildVersion located from code (recorded in b, so later
 * go_binary__version() calls say it too). 0 or -ENOENT.
 */
struct go_version;
int govars__version(const char *path, struct go_binary *b, struct go_version *ret);

#endif
