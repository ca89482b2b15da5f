/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * probesite.h - pick the cheapest equivalent uprobe site in a function's prologue.
 *
 * An x86_64 uprobe replaces one instruction with int3. On a hit the kernel
 * either EMULATES the displaced instruction (arch/x86/kernel/uprobes.c:
 * branch_setup_xol_ops for jmp/call rel, jcc and nops, push_setup_xol_ops for
 * push reg) or copies it out of line and SINGLE-STEPS it, which costs a second
 * trap: ~5 us against ~1.1 us per hit on our kernel. glibc's free starts with
 * a single-stepped `test %rdi,%rdi`; the `je` right after it is emulated and
 * sees the same registers, stack and memory, so a probe there is equivalent
 * and 4x cheaper.
 *
 * Pure: no I/O, no allocation, no BPF. The decoder is a whitelist of
 * encodings understood exactly (including which of them the kernel
 * emulates); anything else ends the walk and the probe stays at the entry.
 *
 * Assumption (not checkable from a prefix): no branch elsewhere in the
 * function targets a byte in (0, chosen offset]. It holds for prologues that
 * compilers emit (the entry block runs once per call); a loop back-edge into
 * the skipped bytes would make the probe fire more than once per call.
 */
#ifndef MEMSIGHT_PROBESITE_H
#define MEMSIGHT_PROBESITE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The walk never looks further than this: a site must be in the prologue. */
#define PROBESITE_MAX_BYTES	32
#define PROBESITE_MAX_INSNS	8
/*
 * The longest instruction the whitelist knows (movabs $imm64, %reg). A site
 * that starts near byte 31 is only recognised if its bytes are there too:
 * pass PROBESITE_MAX_BYTES + PROBESITE_MAX_ILEN bytes when the function has them.
 */
#define PROBESITE_MAX_ILEN	10
#define PROBESITE_REASON_MAX	128

/* Argument registers the BPF program reads at the probe (SysV order). */
enum probesite_arg {
	PROBESITE_ARG_RDI = 1u << 0,
	PROBESITE_ARG_RSI = 1u << 1,
	PROBESITE_ARG_RDX = 1u << 2,
	PROBESITE_ARG_RCX = 1u << 3,
	PROBESITE_ARG_R8  = 1u << 4,
	PROBESITE_ARG_R9  = 1u << 5,
	PROBESITE_ARG_ALL = (1u << 6) - 1,
};

struct probesite_req {
	uint32_t args;		/* enum probesite_arg bits */
	/*
	 * The probe must be at offset 0: a uretprobe hijacks the return address
	 * at [rsp] on entry, and our nesting logic reads the entry stack pointer.
	 */
	bool at_entry;
};

enum probesite_kind {
	PROBESITE_UNKNOWN = 0,	/* not in the whitelist (or cut short): do not move past it */
	PROBESITE_SINGLE_STEP,	/* the kernel copies it out of line and single-steps it */
	PROBESITE_EMULATED,	/* the kernel emulates it: one trap per hit */
};

struct probesite {
	uint32_t offset;	/* bytes from the function's first byte */
	uint8_t ilen;		/* length of the instruction there; 0 if not decoded */
	uint8_t skipped;	/* single-stepped instructions walked past */
	bool emulated;		/* the instruction at offset is emulated by the kernel */
	/*
	 * It is the 5-byte nop (0f 1f 44 00 00): 6.18 may, after the first hit,
	 * rewrite it into a call to its uprobe trampoline (no trap at all).
	 */
	bool optimizable;
	char reason[PROBESITE_REASON_MAX];	/* why this offset, for logs */
};

/*
 * Choose where to put the probe for a function whose first len bytes are
 * code. Walks from offset 0 past single-stepped instructions that are
 * transparent for the probe (write no register in req->args, nor rsp or
 * rbp, nor memory; transfer no control) and stops at the first emulated one;
 * if the walk meets anything else, or runs past PROBESITE_MAX_BYTES /
 * PROBESITE_MAX_INSNS / len, the probe stays at offset 0.
 *
 * Offset 0 is always a valid answer, so garbage or len == 0 give 0, not an
 * error. Returns 0, or -EINVAL for NULL req/ret, NULL code with len > 0, or
 * bits outside PROBESITE_ARG_ALL.
 */
int probesite__choose(const uint8_t *code, size_t len, const struct probesite_req *req,
		      struct probesite *ret);

/*
 * How the kernel treats a uprobe on the one instruction at code[0]. Sets
 * *ret_ilen to its length (0 when UNKNOWN); ret_ilen may be NULL.
 */
enum probesite_kind probesite__classify(const uint8_t *code, size_t len, size_t *ret_ilen);

/*
 * Whether a function whose first bytes these are sets up a frame pointer:
 * mov %rsp,%rbp (either encoding) anywhere in them, so shrink-wrapped and
 * scheduled prologues count too. Callers pass PROBESITE_FP_SCAN bytes.
 */
#define PROBESITE_FP_SCAN	48
bool probesite__fp_prologue(const uint8_t *code, size_t len);

/*
 * A module's verdict from a sample of its functions: with frame pointers
 * when at least half of those sampled set one up. Too small a sample
 * (under PROBESITE_FP_MIN_SAMPLE) says nothing: false.
 */
#define PROBESITE_FP_MIN_SAMPLE	8
bool probesite__fp_verdict(unsigned int with_fp, unsigned int sampled);

/*
 * Whether the ELF at path was built with frame pointers, judged on up to 64
 * of its functions (probesite__fp_verdict). 0 / -errno (unreadable, not ELF;
 * -ENODATA: too few functions of 16 bytes or more to tell).
 */
int probesite__module_fp(const char *path, bool *ret_fp);

/*
 * A Go function (amd64) starts with a check of its goroutine's stack bound:
 *   [lea -N(%rsp),%r12]  cmp 0x10(%r14),%rsp|%r12   jbe <morestack>   (1.17+)
 *   mov %fs:-8,%rcx  [lea -N(%rsp),%rax]  cmp 0x10(%rcx),%rsp|%rax  jbe   (older)
 * A goroutine whose stack must grow, or that the scheduler or the GC asks to
 * stop (they set the bound so that the next check fails), goes through
 * morestack and runs the function again from its first byte: a probe there
 * fires twice for one call, and counts one allocation twice. The offset just
 * past the jbe runs once per call, with the registers and stack of the entry
 * (the check writes only r12, rax, rcx, none of them an argument there, and
 * not rsp). Returns that offset, or 0 when the prologue is not one of these.
 */
uint32_t probesite__go_past_stack_check(const uint8_t *code, size_t len);

/* "unknown", "single-step", "emulated" */
const char *probesite__kind_name(enum probesite_kind kind);

#endif /* MEMSIGHT_PROBESITE_H */
