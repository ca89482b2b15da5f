// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Three kinds of evidence for probesite:
 *  - every whitelisted encoding (and its near misses) classified on its
 *    bytes, and the walk's rules on short synthetic prologues;
 *  - the first 32 bytes of this machine's libc allocator functions, read at
 *    test time (ms_elf__find_func + ms_elf__read_vaddr), with the expected
 *    offsets taken from objdump -d of that same file;
 *  - equivalence shown by execution: $MS_BUILD/fixtures/probesite/libpsfix.so
 *    (tests/fixtures/probesite/psfix.c) is dlopen()ed, an int3 is planted at
 *    offset 0 and at the chosen offset in turn, and the SIGTRAP handler
 *    records what a probe would read there: hit count, argument registers,
 *    rsp and rbp. No uprobe, no BPF: int3 is the same trap a uprobe plants.
 */
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>
#include <cmocka.h>

#include "bpf/probesite.h"
#include "target/elf.h"

#define LIBC "/lib/x86_64-linux-gnu/libc.so.6"
/* musl's libc.so, which is also its loader (Debian package musl, via musl-tools) */
#define MUSL_LIBC "/lib/x86_64-linux-musl/libc.so"

#define RDI PROBESITE_ARG_RDI
#define RSI PROBESITE_ARG_RSI
#define RDX PROBESITE_ARG_RDX
#define RCX PROBESITE_ARG_RCX
#define R8 PROBESITE_ARG_R8
#define R9 PROBESITE_ARG_R9

#define B(...) ((const uint8_t[]){ __VA_ARGS__ }), sizeof((const uint8_t[]){ __VA_ARGS__ })

static struct probesite choose(const uint8_t *code, size_t len, uint32_t args, bool at_entry)
{
	struct probesite_req req = { .args = args, .at_entry = at_entry };
	struct probesite ps;

	memset(&ps, 0xa5, sizeof(ps));
	assert_int_equal(probesite__choose(code, len, &req, &ps), 0);
	assert_non_null(memchr(ps.reason, '\0', sizeof(ps.reason)));
	assert_true(ps.reason[0] != '\0');
	return ps;
}

/* ---- one instruction at a time -------------------------------------- */

struct enc {
	const char *what;
	uint8_t b[12];
	size_t len;		/* bytes given to the decoder */
	enum probesite_kind kind;
	size_t ilen;
};

#define D32 0x11, 0x22, 0x33, 0x44

static const struct enc encodings[] = {
	/* single-stepped, in the whitelist */
	{ "endbr64", { 0xf3, 0x0f, 0x1e, 0xfa }, 4, PROBESITE_SINGLE_STEP, 4 },
	{ "test %rdi,%rdi", { 0x48, 0x85, 0xff }, 3, PROBESITE_SINGLE_STEP, 3 },
	{ "test %edi,%edi", { 0x85, 0xff }, 2, PROBESITE_SINGLE_STEP, 2 },
	{ "test %r8d,%r8d", { 0x45, 0x85, 0xc0 }, 3, PROBESITE_SINGLE_STEP, 3 },
	{ "test %al,%al", { 0x84, 0xc0 }, 2, PROBESITE_SINGLE_STEP, 2 },
	{ "test $0xfff,%r9d", { 0x41, 0xf7, 0xc1, 0xff, 0x0f, 0, 0 }, 7, PROBESITE_SINGLE_STEP, 7 },
	{ "test $1,%cl", { 0xf6, 0xc1, 0x01 }, 3, PROBESITE_SINGLE_STEP, 3 },
	{ "test $1,%al", { 0xa8, 0x01 }, 2, PROBESITE_SINGLE_STEP, 2 },
	{ "test $imm32,%rax", { 0x48, 0xa9, D32 }, 6, PROBESITE_SINGLE_STEP, 6 },
	{ "cmp $0,%rdi", { 0x48, 0x83, 0xff, 0x00 }, 4, PROBESITE_SINGLE_STEP, 4 },
	{ "cmp $imm32,%rdi", { 0x48, 0x81, 0xff, D32 }, 7, PROBESITE_SINGLE_STEP, 7 },
	{ "cmp $0,%bh", { 0x80, 0xff, 0x00 }, 3, PROBESITE_SINGLE_STEP, 3 },
	{ "cmp $5,%al", { 0x3c, 0x05 }, 2, PROBESITE_SINGLE_STEP, 2 },
	{ "cmp $imm32,%eax", { 0x3d, D32 }, 5, PROBESITE_SINGLE_STEP, 5 },
	{ "cmp %rsi,%rdi", { 0x48, 0x39, 0xf7 }, 3, PROBESITE_SINGLE_STEP, 3 },
	{ "cmp %rsi,%rdi (3b)", { 0x48, 0x3b, 0xfe }, 3, PROBESITE_SINGLE_STEP, 3 },
	{ "cmpb $0,d(%rip)", { 0x80, 0x3d, D32, 0x00 }, 7, PROBESITE_SINGLE_STEP, 7 },
	{ "cmpl $0,d(%rip)", { 0x83, 0x3d, D32, 0x00 }, 7, PROBESITE_SINGLE_STEP, 7 },
	{ "cmpq $0,d(%rip)", { 0x48, 0x83, 0x3d, D32, 0x00 }, 8, PROBESITE_SINGLE_STEP, 8 },
	{ "cmpl $imm32,d(%rip)", { 0x81, 0x3d, D32, D32 }, 10, PROBESITE_SINGLE_STEP, 10 },
	{ "add %rsi,%rax", { 0x48, 0x01, 0xf0 }, 3, PROBESITE_SINGLE_STEP, 3 },
	{ "sub $0x18,%rsp", { 0x48, 0x83, 0xec, 0x18 }, 4, PROBESITE_SINGLE_STEP, 4 },
	{ "xor %eax,%eax", { 0x31, 0xc0 }, 2, PROBESITE_SINGLE_STEP, 2 },
	{ "mov %rsi,%rdi", { 0x48, 0x89, 0xf7 }, 3, PROBESITE_SINGLE_STEP, 3 },
	{ "mov %rsi,%rdi (8b)", { 0x48, 0x8b, 0xfe }, 3, PROBESITE_SINGLE_STEP, 3 },
	{ "mov %ecx,%r10d", { 0x41, 0x89, 0xca }, 3, PROBESITE_SINGLE_STEP, 3 },
	{ "mov $0xb,%eax", { 0xb8, 0x0b, 0, 0, 0 }, 5, PROBESITE_SINGLE_STEP, 5 },
	{ "mov $imm32,%r10d", { 0x41, 0xba, D32 }, 6, PROBESITE_SINGLE_STEP, 6 },
	{ "movabs $imm64,%rax", { 0x48, 0xb8, D32, D32 }, 10, PROBESITE_SINGLE_STEP, 10 },
	{ "mov $-1,%rax", { 0x48, 0xc7, 0xc0, 0xff, 0xff, 0xff, 0xff }, 7,
	  PROBESITE_SINGLE_STEP, 7 },
	{ "lea -0x10(%rdi),%rsi", { 0x48, 0x8d, 0x77, 0xf0 }, 4, PROBESITE_SINGLE_STEP, 4 },
	{ "lea d(%rip),%rax", { 0x48, 0x8d, 0x05, D32 }, 7, PROBESITE_SINGLE_STEP, 7 },
	{ "lea 8(%rsp),%rax", { 0x48, 0x8d, 0x44, 0x24, 0x08 }, 5, PROBESITE_SINGLE_STEP, 5 },
	{ "lea d(,%riz),%rax", { 0x48, 0x8d, 0x04, 0x25, D32 }, 8, PROBESITE_SINGLE_STEP, 8 },
	{ "nopl 8(%rax) (not a kernel nop)", { 0x0f, 0x1f, 0x40, 0x08 }, 4,
	  PROBESITE_SINGLE_STEP, 4 },
	{ "nopw 9 bytes, no cs", { 0x66, 0x0f, 0x1f, 0x84, 0, 0, 0, 0, 0 }, 9,
	  PROBESITE_SINGLE_STEP, 9 },
	{ "push %rbp with REX.W", { 0x48, 0x55 }, 2, PROBESITE_SINGLE_STEP, 2 },
	{ "push %r12 with REX.WB", { 0x49, 0x54 }, 2, PROBESITE_SINGLE_STEP, 2 },

	/* emulated: the kernel's x86_nops[1..8] */
	{ "nop", { 0x90 }, 1, PROBESITE_EMULATED, 1 },
	{ "xchg %ax,%ax", { 0x66, 0x90 }, 2, PROBESITE_EMULATED, 2 },
	{ "nopl (%rax)", { 0x0f, 0x1f, 0x00 }, 3, PROBESITE_EMULATED, 3 },
	{ "nopl 0(%rax)", { 0x0f, 0x1f, 0x40, 0x00 }, 4, PROBESITE_EMULATED, 4 },
	{ "nop5", { 0x0f, 0x1f, 0x44, 0x00, 0x00 }, 5, PROBESITE_EMULATED, 5 },
	{ "nop6", { 0x66, 0x0f, 0x1f, 0x44, 0x00, 0x00 }, 6, PROBESITE_EMULATED, 6 },
	{ "nop7", { 0x0f, 0x1f, 0x80, 0, 0, 0, 0 }, 7, PROBESITE_EMULATED, 7 },
	{ "nop8", { 0x0f, 0x1f, 0x84, 0x00, 0, 0, 0, 0 }, 8, PROBESITE_EMULATED, 8 },
	/* emulated: push, jcc, jmp, call */
	{ "push %rbp", { 0x55 }, 1, PROBESITE_EMULATED, 1 },
	{ "push %rax", { 0x50 }, 1, PROBESITE_EMULATED, 1 },
	{ "push %rdi", { 0x57 }, 1, PROBESITE_EMULATED, 1 },
	{ "push %r8", { 0x41, 0x50 }, 2, PROBESITE_EMULATED, 2 },
	{ "push %r15", { 0x41, 0x57 }, 2, PROBESITE_EMULATED, 2 },
	{ "jo rel8", { 0x70, 0x05 }, 2, PROBESITE_EMULATED, 2 },
	{ "je rel8", { 0x74, 0x05 }, 2, PROBESITE_EMULATED, 2 },
	{ "jg rel8", { 0x7f, 0xfe }, 2, PROBESITE_EMULATED, 2 },
	{ "jo rel32", { 0x0f, 0x80, D32 }, 6, PROBESITE_EMULATED, 6 },
	{ "je rel32", { 0x0f, 0x84, 0xbf, 0, 0, 0 }, 6, PROBESITE_EMULATED, 6 },
	{ "jg rel32", { 0x0f, 0x8f, D32 }, 6, PROBESITE_EMULATED, 6 },
	{ "jmp rel8", { 0xeb, 0x05 }, 2, PROBESITE_EMULATED, 2 },
	{ "jmp rel32", { 0xe9, D32 }, 5, PROBESITE_EMULATED, 5 },
	{ "call rel32", { 0xe8, D32 }, 5, PROBESITE_EMULATED, 5 },

	/* outside the whitelist, or not probeable at all */
	{ "callw (66 e8): kernel refuses", { 0x66, 0xe8, 0x00, 0x00 }, 4, PROBESITE_UNKNOWN, 0 },
	{ "ds je (3e): kernel refuses", { 0x3e, 0x74, 0x05 }, 3, PROBESITE_UNKNOWN, 0 },
	{ "REX.W je", { 0x48, 0x74, 0x05 }, 3, PROBESITE_UNKNOWN, 0 },
	{ "cs nopw (NOP9): kernel refuses", { 0x2e, 0x0f, 0x1f, 0x84, 0, 0, 0, 0, 0 }, 9,
	  PROBESITE_UNKNOWN, 0 },
	{ "66 cs nopw (glibc padding)", { 0x66, 0x2e, 0x0f, 0x1f, 0x84, 0, 0, 0, 0, 0 }, 10,
	  PROBESITE_UNKNOWN, 0 },
	{ "syscall", { 0x0f, 0x05 }, 2, PROBESITE_UNKNOWN, 0 },
	{ "ret", { 0xc3 }, 1, PROBESITE_UNKNOWN, 0 },
	{ "int3", { 0xcc }, 1, PROBESITE_UNKNOWN, 0 },
	{ "pause", { 0xf3, 0x90 }, 2, PROBESITE_UNKNOWN, 0 },
	{ "push %ax (66 50)", { 0x66, 0x50 }, 2, PROBESITE_UNKNOWN, 0 },
	{ "mov %rax,(%rdi)", { 0x48, 0x89, 0x07 }, 3, PROBESITE_UNKNOWN, 0 },
	{ "test %rax,(%rdi)", { 0x48, 0x85, 0x07 }, 3, PROBESITE_UNKNOWN, 0 },
	{ "mov %al,%bl (8-bit write)", { 0x88, 0xc3 }, 2, PROBESITE_UNKNOWN, 0 },
	{ "add $1,%bl (8-bit write)", { 0x80, 0xc3, 0x01 }, 3, PROBESITE_UNKNOWN, 0 },
	{ "addb $1,d(%rip) (store)", { 0x80, 0x05, D32, 0x01 }, 7, PROBESITE_UNKNOWN, 0 },
	{ "cmpb $0,(%rdi) (not rip-relative)", { 0x80, 0x3f, 0x00 }, 3, PROBESITE_UNKNOWN, 0 },
	{ "neg %eax", { 0xf7, 0xd8 }, 2, PROBESITE_UNKNOWN, 0 },
	{ "lea with mod=11 (invalid)", { 0x8d, 0xc0 }, 2, PROBESITE_UNKNOWN, 0 },
	{ "REX then 0f 1f", { 0x48, 0x0f, 0x1f, 0x00 }, 4, PROBESITE_UNKNOWN, 0 },
	{ "ff /2 indirect call", { 0xff, 0xd0 }, 2, PROBESITE_UNKNOWN, 0 },
	/* cut short: a decoder that guessed would walk into the next instruction */
	{ "test cut after 85", { 0x48, 0x85 }, 2, PROBESITE_UNKNOWN, 0 },
	{ "je rel32 cut", { 0x0f, 0x84, 0x00, 0x00 }, 4, PROBESITE_UNKNOWN, 0 },
	{ "jcc rel8 cut", { 0x74 }, 1, PROBESITE_UNKNOWN, 0 },
	{ "movabs cut", { 0x48, 0xb8, 0, 0, 0, 0 }, 6, PROBESITE_UNKNOWN, 0 },
	{ "call cut", { 0xe8, 0x00 }, 2, PROBESITE_UNKNOWN, 0 },
	{ "cmpb rip-rel cut before imm", { 0x80, 0x3d, D32 }, 6, PROBESITE_UNKNOWN, 0 },
	{ "lea SIB cut", { 0x48, 0x8d, 0x44 }, 3, PROBESITE_UNKNOWN, 0 },
	{ "nop5 cut to 4", { 0x0f, 0x1f, 0x44, 0x00 }, 4, PROBESITE_UNKNOWN, 0 },
	{ "endbr64 cut", { 0xf3, 0x0f, 0x1e }, 3, PROBESITE_UNKNOWN, 0 },
};

static void test_every_encoding_is_classified_exactly(void **state)
{
	size_t k, ilen;

	for (k = 0; k < sizeof(encodings) / sizeof(encodings[0]); k++) {
		const struct enc *e = &encodings[k];
		enum probesite_kind kind;

		ilen = 99;
		kind = probesite__classify(e->b, e->len, &ilen);
		if (kind != e->kind || ilen != e->ilen)
			fail_msg("%s: got %s/%zu, want %s/%zu", e->what, probesite__kind_name(kind),
				 ilen, probesite__kind_name(e->kind), e->ilen);
		/* trailing bytes never change the answer for a complete instruction */
		if (e->kind != PROBESITE_UNKNOWN) {
			uint8_t more[PROBESITE_MAX_BYTES];

			memset(more, 0xcc, sizeof(more));
			memcpy(more, e->b, e->len);
			assert_int_equal(probesite__classify(more, sizeof(more), &ilen), e->kind);
			assert_int_equal(ilen, e->ilen);
		}
	}
	assert_int_equal(probesite__classify(NULL, 0, &ilen), PROBESITE_UNKNOWN);
	assert_int_equal(ilen, 0);
	assert_int_equal(probesite__classify(B(0x55), NULL), PROBESITE_EMULATED);
	assert_string_equal(probesite__kind_name(PROBESITE_EMULATED), "emulated");
	assert_string_equal(probesite__kind_name(PROBESITE_SINGLE_STEP), "single-step");
	assert_string_equal(probesite__kind_name(PROBESITE_UNKNOWN), "unknown");
}

/* ---- the walk on synthetic prologues -------------------------------- */

static void test_free_shape_moves_to_the_je(void **state)
{
	/* test %rdi,%rdi; je rel32; push %rbp */
	struct probesite ps = choose(B(0x48, 0x85, 0xff, 0x0f, 0x84, D32, 0x55), RDI, false);

	assert_int_equal(ps.offset, 3);
	assert_int_equal(ps.ilen, 6);
	assert_int_equal(ps.skipped, 1);
	assert_true(ps.emulated);
	assert_false(ps.optimizable);
	assert_non_null(strstr(ps.reason, "jcc"));
}

static void test_endbr64_test_je_moves_to_7(void **state)
{
	struct probesite ps = choose(B(0xf3, 0x0f, 0x1e, 0xfa, 0x48, 0x85, 0xff, 0x74, 0x14),
				     RDI | RSI, false);

	assert_int_equal(ps.offset, 7);
	assert_int_equal(ps.skipped, 2);
	assert_true(ps.emulated);
}

static void test_at_entry_always_stays_at_0(void **state)
{
	struct probesite ps = choose(B(0x48, 0x85, 0xff, 0x0f, 0x84, D32, 0x55), RDI, true);

	assert_int_equal(ps.offset, 0);
	assert_int_equal(ps.ilen, 3);
	assert_false(ps.emulated);	/* test %rdi,%rdi: the single-step is the price */
	assert_non_null(strstr(ps.reason, "entry"));

	/* ... even with no argument read and a free emulated site right behind */
	ps = choose(B(0xf3, 0x0f, 0x1e, 0xfa, 0x55), 0, true);
	assert_int_equal(ps.offset, 0);
	ps = choose(B(0x55), RDI, true);
	assert_int_equal(ps.offset, 0);
	assert_true(ps.emulated);
}

static void test_emulated_entry_stays_at_0(void **state)
{
	/* push %r12; push %rbp (malloc) */
	struct probesite ps = choose(B(0x41, 0x54, 0x55, 0x53), RDI, false);

	assert_int_equal(ps.offset, 0);
	assert_int_equal(ps.ilen, 2);
	assert_int_equal(ps.skipped, 0);
	assert_true(ps.emulated);
}

static void test_writing_a_read_register_stops_the_walk(void **state)
{
	/* mov %rsi,%rdi; push %rbx: rdi at +3 is no longer the caller's rdi */
	const uint8_t code[] = { 0x48, 0x89, 0xf7, 0x53 };
	struct probesite ps = choose(code, sizeof(code), RDI, false);

	assert_int_equal(ps.offset, 0);
	assert_false(ps.emulated);
	assert_non_null(strstr(ps.reason, "rdi"));
	/* a probe that only reads rsi may move: rsi is untouched */
	ps = choose(code, sizeof(code), RSI, false);
	assert_int_equal(ps.offset, 3);
	assert_true(ps.emulated);

	/* each argument register, written by a 32-bit mov (which zero-extends) */
	static const struct {
		uint32_t arg;
		uint8_t b[3];
		size_t n;
	} w[] = {
		{ RDI, { 0x89, 0xc7 }, 2 },		/* mov %eax,%edi */
		{ RSI, { 0x89, 0xc6 }, 2 },		/* mov %eax,%esi */
		{ RDX, { 0x31, 0xd2 }, 2 },		/* xor %edx,%edx */
		{ RCX, { 0x8b, 0xc8 }, 2 },		/* mov %eax,%ecx */
		{ R8, { 0x41, 0x89, 0xc0 }, 3 },	/* mov %eax,%r8d */
		{ R9, { 0x4c, 0x8d, 0x08 }, 3 },	/* lea (%rax),%r9 */
	};
	for (size_t k = 0; k < sizeof(w) / sizeof(w[0]); k++) {
		uint8_t buf[8];

		memcpy(buf, w[k].b, w[k].n);
		buf[w[k].n] = 0x55;
		assert_int_equal(choose(buf, w[k].n + 1, w[k].arg, false).offset, 0);
		assert_int_equal(choose(buf, w[k].n + 1, PROBESITE_ARG_ALL & ~w[k].arg,
					false).offset, w[k].n);
	}
}

static void test_stack_and_frame_pointer_are_always_kept(void **state)
{
	/* sub $0x18,%rsp; push: the stack the probe would see moved */
	struct probesite ps = choose(B(0x48, 0x83, 0xec, 0x18, 0x55), 0, false);

	assert_int_equal(ps.offset, 0);
	assert_non_null(strstr(ps.reason, "rsp"));
	/* mov %rsp,%rbp; push: frame-pointer stack walks would change */
	ps = choose(B(0x48, 0x89, 0xe5, 0x55), 0, false);
	assert_int_equal(ps.offset, 0);
	assert_non_null(strstr(ps.reason, "rbp"));
	/* push with a REX other than 41 is single-stepped, and it stores */
	ps = choose(B(0x48, 0x55, 0x55), 0, false);
	assert_int_equal(ps.offset, 0);
	assert_non_null(strstr(ps.reason, "memory"));
}

static void test_other_registers_are_free_to_change(void **state)
{
	/* mmap: mov %ecx,%r10d; test $0xfff,%r9d; jne: r10 is no argument */
	struct probesite ps = choose(B(0x41, 0x89, 0xca, 0x41, 0xf7, 0xc1, 0xff, 0x0f, 0, 0,
				       0x75, 0x14), PROBESITE_ARG_ALL, false);

	assert_int_equal(ps.offset, 10);
	assert_int_equal(ps.skipped, 2);
	/* xor %eax,%eax; lea d(%rip),%r11; cmpb $0,d(%rip); call */
	ps = choose(B(0x31, 0xc0, 0x4c, 0x8d, 0x1d, D32, 0x80, 0x3d, D32, 0x00, 0xe8, D32),
		    PROBESITE_ARG_ALL, false);
	assert_int_equal(ps.offset, 16);
	assert_int_equal(ps.ilen, 5);
	assert_int_equal(ps.skipped, 3);
}

static void test_sites_of_every_emulated_kind(void **state)
{
	/* after endbr64, each emulated instruction is a site */
	static const struct {
		uint8_t b[8];
		size_t n;
		bool nop5;
	} sites[] = {
		{ { 0x90 }, 1, false },
		{ { 0x66, 0x90 }, 2, false },
		{ { 0x0f, 0x1f, 0x44, 0x00, 0x00 }, 5, true },
		{ { 0x0f, 0x1f, 0x84, 0x00, 0, 0, 0, 0 }, 8, false },
		{ { 0x53 }, 1, false },
		{ { 0x41, 0x57 }, 2, false },
		{ { 0x7e, 0x10 }, 2, false },
		{ { 0x0f, 0x8e, D32 }, 6, false },
		{ { 0xeb, 0x10 }, 2, false },
		{ { 0xe9, D32 }, 5, false },
		{ { 0xe8, D32 }, 5, false },
	};

	for (size_t k = 0; k < sizeof(sites) / sizeof(sites[0]); k++) {
		uint8_t buf[16] = { 0xf3, 0x0f, 0x1e, 0xfa };
		struct probesite ps;

		memcpy(buf + 4, sites[k].b, sites[k].n);
		ps = choose(buf, 4 + sites[k].n, RDI, false);
		assert_int_equal(ps.offset, 4);
		assert_int_equal(ps.ilen, sites[k].n);
		assert_true(ps.emulated);
		assert_int_equal(ps.optimizable, sites[k].nop5);
	}
}

static void test_walk_is_bounded(void **state)
{
	uint8_t buf[64];
	struct probesite ps;
	size_t k;

	/* 7 x test %rdi,%rdi then push: the 8th instruction is reachable */
	for (k = 0; k < 7; k++)
		memcpy(buf + 3 * k, (uint8_t[]){ 0x48, 0x85, 0xff }, 3);
	buf[21] = 0x55;
	ps = choose(buf, 22, RDI, false);
	assert_int_equal(ps.offset, 21);
	assert_int_equal(ps.skipped, 7);

	/* 8 of them: the push is the 9th instruction, past PROBESITE_MAX_INSNS */
	for (k = 0; k < 8; k++)
		memcpy(buf + 3 * k, (uint8_t[]){ 0x48, 0x85, 0xff }, 3);
	buf[24] = 0x55;
	ps = choose(buf, 25, RDI, false);
	assert_int_equal(ps.offset, 0);
	assert_non_null(strstr(ps.reason, "within"));

	/* 5 x lea d(%rip),%rax (7 bytes): the push at +35 is past 32 bytes */
	for (k = 0; k < 5; k++)
		memcpy(buf + 7 * k, (uint8_t[]){ 0x48, 0x8d, 0x05, D32 }, 7);
	buf[35] = 0x55;
	ps = choose(buf, 36, RDI, false);
	assert_int_equal(ps.offset, 0);
	/* ... and with 4 of them, at +28 it is inside */
	buf[28] = 0x55;
	ps = choose(buf, 29, RDI, false);
	assert_int_equal(ps.offset, 28);

	/* the buffer ends where the walk would continue */
	ps = choose(B(0x48, 0x85, 0xff), RDI, false);
	assert_int_equal(ps.offset, 0);
	assert_int_equal(ps.ilen, 3);
}

static void test_garbage_and_truncation_stay_at_entry(void **state)
{
	uint8_t junk[PROBESITE_MAX_BYTES];
	struct probesite ps;
	unsigned int seed = 12345, moved = 0;
	/* bytes that start or continue whitelisted encodings */
	static const uint8_t pool[] = { 0x48, 0x41, 0x85, 0xff, 0xc0, 0x0f, 0x1f, 0x44, 0x00,
					0x84, 0x55, 0x54, 0x80, 0x3d, 0x74, 0x66, 0x90, 0xb8,
					0x8d, 0x89, 0xf7, 0x83, 0xe8, 0xeb, 0xf3, 0x1e, 0xfa };

	/* a jcc cut in half behind a test */
	ps = choose(B(0x48, 0x85, 0xff, 0x0f, 0x84, 0x00), RDI, false);
	assert_int_equal(ps.offset, 0);
	assert_int_equal(ps.ilen, 3);
	assert_non_null(strstr(ps.reason, "+3"));
	/* ud2, int3, all-ones */
	assert_int_equal(choose(B(0x0f, 0x0b, 0x55), RDI, false).offset, 0);
	assert_int_equal(choose(B(0xcc, 0x55), RDI, false).offset, 0);
	memset(junk, 0xff, sizeof(junk));
	ps = choose(junk, sizeof(junk), RDI, false);
	assert_int_equal(ps.offset, 0);
	assert_int_equal(ps.ilen, 0);
	assert_false(ps.emulated);
	/*
	 * Random bytes in a heap buffer of exactly len (so a sanitizer build sees
	 * any read past it): the answer is 0 or the start of an emulated
	 * instruction that ends within len.
	 */
	for (int round = 0; round < 2000; round++) {
		size_t len = (size_t)(rand_r(&seed) % (sizeof(junk) + 1)), ilen;
		uint8_t *buf = malloc(len ? len : 1);

		assert_non_null(buf);
		for (size_t k = 0; k < len; k++)
			buf[k] = rand_r(&seed) & 1 ? pool[rand_r(&seed) % sizeof(pool)]
						   : (uint8_t)rand_r(&seed);
		ps = choose(buf, len, RDI, false);
		assert_true(ps.offset < PROBESITE_MAX_BYTES);
		if (ps.offset) {
			enum probesite_kind kind;

			kind = probesite__classify(buf + ps.offset, len - ps.offset, &ilen);
			assert_int_equal(kind, PROBESITE_EMULATED);
			assert_int_equal(ilen, ps.ilen);
			assert_true(ps.offset + ps.ilen <= len);
			moved++;
		}
		free(buf);
	}
	/* the bytes were biased towards the whitelist so that the walk did run */
	print_message("  %u of 2000 random prologues moved the probe\n", moved);
	assert_true(moved >= 20);
}

static void test_empty_and_invalid_input(void **state)
{
	struct probesite_req req = { .args = RDI };
	struct probesite ps;

	ps = choose(NULL, 0, RDI, false);
	assert_int_equal(ps.offset, 0);
	assert_int_equal(ps.ilen, 0);
	assert_false(ps.emulated);
	ps = choose((const uint8_t *)"", 0, RDI, true);
	assert_int_equal(ps.offset, 0);

	assert_int_equal(probesite__choose(NULL, 4, &req, &ps), -EINVAL);
	assert_int_equal(probesite__choose(B(0x55), NULL, &ps), -EINVAL);
	assert_int_equal(probesite__choose(B(0x55), &req, NULL), -EINVAL);
	req.args = PROBESITE_ARG_ALL + 1;
	assert_int_equal(probesite__choose(B(0x55), &req, &ps), -EINVAL);
}

/* ---- this machine's libc -------------------------------------------- */

struct libc_case {
	const char *func;
	uint32_t args;
	bool at_entry;
	/* what objdump -d shows on this machine's libc, up to the site */
	uint8_t prologue[16];
	size_t prologue_len;
	uint32_t offset;
	bool emulated;
	const char *why;
};

static const struct libc_case libc_cases[] = {
	{ "free", RDI, false, { 0x48, 0x85, 0xff, 0x0f, 0x84 }, 5, 3, true,
	  "test %rdi,%rdi only reads rdi; the je right after it is emulated" },
	{ "free", RDI, true, { 0x48, 0x85, 0xff }, 3, 0, false,
	  "at entry, free pays for the single-stepped test" },
	{ "malloc", RDI, true, { 0x41, 0x54 }, 2, 0, true,
	  "push %r12 at entry is emulated already" },
	{ "malloc", RDI, false, { 0x41, 0x54 }, 2, 0, true,
	  "push %r12 at entry is emulated already" },
	{ "calloc", RDI | RSI, false, { 0x41, 0x55 }, 2, 0, true, "push %r13 at entry" },
	{ "realloc", RDI | RSI, false, { 0x41, 0x57 }, 2, 0, true, "push %r15 at entry" },
	{ "posix_memalign", RDI | RSI | RDX, false,
	  { 0x80, 0x3d, 0x01, 0x02, 0x14, 0x00, 0x00, 0x41, 0x54 }, 9, 7, true,
	  "cmpb $0x0,d(%rip) only reads memory; push %r12 at +7" },
	{ "memalign", RDI | RSI, false, { 0x80, 0x3d }, 2, 7, true,
	  "cmpb $0x0,d(%rip), then je rel8 at +7" },
	{ "munmap", RDI | RSI, false, { 0xb8, 0x0b, 0, 0, 0, 0x0f, 0x05 }, 7, 0, false,
	  "mov $0xb,%eax is transparent but syscall at +5 is no site: the kernel "
	  "refuses to probe it, and past it munmap has already happened" },
	{ "mmap", RDI | RSI, false, { 0x41, 0x89, 0xca, 0x41, 0xf7, 0xc1 }, 6, 10, true,
	  "mov %ecx,%r10d; test $0xfff,%r9d, then jne rel8 at +10" },
	{ "mmap", PROBESITE_ARG_ALL, false, { 0x41, 0x89, 0xca }, 3, 10, true,
	  "r10 is not an argument register, so even all six may be read at +10" },
	{ "mmap", RSI, true, { 0x41, 0x89, 0xca }, 3, 0, false, "uretprobe: at entry" },
};

/*
 * musl 1.2.3 (mallocng): free, malloc, realloc and memalign are each one
 * jmp rel32 to the implementation (or aligned_alloc@plt), emulated right at
 * entry, so no probe moves; the others start with an emulated push.
 */
static const struct libc_case musl_cases[] = {
	{ "free", RDI, false, { 0xe9 }, 1, 0, true,
	  "jmp __libc_free at entry is emulated: nothing to walk past" },
	{ "malloc", RDI, true, { 0xe9 }, 1, 0, true, "jmp to the implementation" },
	{ "realloc", RDI | RSI, true, { 0xe9 }, 1, 0, true, "jmp to the implementation" },
	{ "memalign", RDI | RSI, true, { 0xe9 }, 1, 0, true, "jmp aligned_alloc@plt" },
	{ "calloc", RDI | RSI, true, { 0x41, 0x54 }, 2, 0, true, "push %r12 at entry" },
	{ "aligned_alloc", RDI | RSI, true, { 0x55 }, 1, 0, true, "push %rbp at entry" },
	{ "posix_memalign", RDI | RSI | RDX, true, { 0x53 }, 1, 0, true, "push %rbx at entry" },
	{ "munmap", RDI | RSI, false, { 0x55 }, 1, 0, true, "push %rbp at entry" },
};

/* Each case's function in the ELF at path starts with its prologue and gets its site. */
static void check_allocators(const char *path, const struct libc_case *cases, size_t ncases)
{
	struct ms_elf *elf = ms_elf__open(path);
	size_t k;

	if (!elf)
		fail_msg("cannot open %s (scripts/deps.sh installs it): %s", path, strerror(errno));
	for (k = 0; k < ncases; k++) {
		const struct libc_case *c = &cases[k];
		uint8_t code[PROBESITE_MAX_BYTES];
		uint64_t vaddr, size;
		struct probesite ps;
		int n;

		assert_int_equal(ms_elf__find_func(elf, c->func, &vaddr, &size), 0);
		n = ms_elf__read_vaddr(elf, vaddr, code,
				       size < sizeof(code) ? size : sizeof(code));
		assert_true(n >= (int)c->prologue_len);
		if (memcmp(code, c->prologue, c->prologue_len))
			fail_msg("%s in %s no longer starts as this test was written for; "
				 "re-read objdump -d and update its cases", c->func, path);
		ps = choose(code, (size_t)n, c->args, c->at_entry);
		if (ps.offset != c->offset || ps.emulated != c->emulated)
			fail_msg("%s (args %#x%s): chose +%u (%s), want +%u: %s (reason: %s)",
				 c->func, c->args, c->at_entry ? ", at entry" : "", ps.offset,
				 ps.emulated ? "emulated" : "single-step", c->offset, c->why,
				 ps.reason);
		print_message("  %-15s args=%#04x %-8s -> +%-2u %-11s %s\n", c->func, c->args,
			      c->at_entry ? "at-entry" : "", ps.offset,
			      ps.emulated ? "emulated" : "single-step", ps.reason);
	}
	ms_elf__close(elf);
}

static void test_libc_allocators_on_this_machine(void **state)
{
	check_allocators(LIBC, libc_cases, sizeof(libc_cases) / sizeof(libc_cases[0]));
}

static void test_musl_allocators_start_with_an_emulated_instruction(void **state)
{
	check_allocators(MUSL_LIBC, musl_cases, sizeof(musl_cases) / sizeof(musl_cases[0]));
}

/* ---- frame pointers ------------------------------------------------- */

static const char *build_dir(void)
{
	const char *b = getenv("MS_BUILD");

	return b && *b ? b : "build";
}

static void test_fp_prologue_patterns(void **state)
{
	static const uint8_t plain[] = { 0x55, 0x48, 0x89, 0xe5, 0x48, 0x83 };
	static const uint8_t cet[] = { 0xf3, 0x0f, 0x1e, 0xfa, 0x55, 0x48, 0x8b, 0xec };
	static const uint8_t nofp[] = { 0xf3, 0x0f, 0x1e, 0xfa, 0x41, 0x57, 0x41, 0x56 };
	static const uint8_t push_only[] = { 0x55, 0x53, 0x48, 0x83, 0xec, 0x08 };

	assert_true(probesite__fp_prologue(plain, sizeof(plain)));
	assert_true(probesite__fp_prologue(cet, sizeof(cet)));
	assert_false(probesite__fp_prologue(nofp, sizeof(nofp)));
	/* push %rbp alone is a callee-saved register, not a frame */
	assert_false(probesite__fp_prologue(push_only, sizeof(push_only)));
	assert_false(probesite__fp_prologue(plain, 3));
	/* scheduled: push %rbp; mov $3,%eax; mov %rsp,%rbp (gcc -O2) */
	{
		static const uint8_t sched[] = { 0x55, 0xb8, 0x03, 0, 0, 0, 0x48, 0x89, 0xe5 };

		assert_true(probesite__fp_prologue(sched, sizeof(sched)));
	}
	assert_false(probesite__fp_prologue(cet, 6));
	assert_false(probesite__fp_prologue(NULL, 8));
	assert_true(probesite__fp_verdict(8, 8));
	assert_true(probesite__fp_verdict(32, 64));
	assert_false(probesite__fp_verdict(31, 64));
	assert_false(probesite__fp_verdict(7, 7));	/* too few to tell */
}

/* The same source built both ways gets both verdicts; so do real modules. */
static void test_module_frame_pointer_verdicts(void **state)
{
	char path[512];
	bool fp = false;

	snprintf(path, sizeof(path), "%s/fixtures/probesite/libfpfix-fp.so", build_dir());
	assert_int_equal(probesite__module_fp(path, &fp), 0);
	assert_true(fp);
	snprintf(path, sizeof(path), "%s/fixtures/probesite/libfpfix-nofp.so", build_dir());
	assert_int_equal(probesite__module_fp(path, &fp), 0);
	assert_false(fp);
	/* this test binary: the Makefile builds user code with -fno-omit-frame-pointer */
	assert_int_equal(probesite__module_fp("/proc/self/exe", &fp), 0);
	assert_true(fp);
	/* Debian's libc has none: the reason memsight unwinds with DWARF */
	assert_int_equal(probesite__module_fp(LIBC, &fp), 0);
	assert_false(fp);
	assert_int_equal(probesite__module_fp("/nonexistent/lib.so", &fp), -ENOENT);
	assert_int_equal(probesite__module_fp("/proc/self/status", &fp), -ENOEXEC);
	/* a handful of functions says nothing either way */
	snprintf(path, sizeof(path), "%s/fixtures/probesite/libpsfix.so", build_dir());
	assert_int_equal(probesite__module_fp(path, &fp), -ENODATA);
}

/* ---- equivalence by execution --------------------------------------- */

struct hit {
	unsigned int n;		/* times this breakpoint fired during one call */
	uint64_t args[6];	/* rdi rsi rdx rcx r8 r9 at the first hit */
	uint64_t rsp, rbp;
};

/* Two breakpoints in the same call: the entry and the candidate site. */
struct bp {
	uint8_t *addr;
	uint8_t orig;
	struct hit hit;
};

static struct bp bps[2];
static volatile int bp_armed;
static struct bp *volatile bp_stepping;
static volatile unsigned int bp_unexpected;

static struct bp *bp_at(uintptr_t rip_after_int3)
{
	for (int k = 0; k < 2; k++)
		if (bps[k].addr && (uintptr_t)bps[k].addr + 1 == rip_after_int3)
			return &bps[k];
	return NULL;
}

/*
 * A hit records the registers, puts the original byte back and single-steps
 * it (TF); the step's trap re-plants int3. So every pass counts, as with a
 * uprobe, and a back-edge onto a site would show up as n > 1.
 */
static void on_sigtrap(int sig, siginfo_t *si, void *uctx)
{
	greg_t *g = ((ucontext_t *)uctx)->uc_mcontext.gregs;
	struct bp *b;

	if (bp_stepping) {
		*bp_stepping->addr = 0xcc;
		bp_stepping = NULL;
		g[REG_EFL] &= ~0x100;
		return;
	}
	b = bp_armed ? bp_at((uintptr_t)g[REG_RIP]) : NULL;
	if (!b) {
		bp_unexpected++;
		g[REG_EFL] &= ~0x100;
		return;
	}
	if (b->hit.n++ == 0) {
		b->hit.args[0] = g[REG_RDI];
		b->hit.args[1] = g[REG_RSI];
		b->hit.args[2] = g[REG_RDX];
		b->hit.args[3] = g[REG_RCX];
		b->hit.args[4] = g[REG_R8];
		b->hit.args[5] = g[REG_R9];
		b->hit.rsp = g[REG_RSP];
		b->hit.rbp = g[REG_RBP];
	}
	*b->addr = b->orig;
	g[REG_RIP] = (greg_t)b->addr;
	g[REG_EFL] |= 0x100;
	bp_stepping = b;
}

typedef long (*fn6_t)(long, long, long, long, long, long);

/* One call of fn with int3 at fn+0 and fn+site; what each saw lands in ret[]. */
static long run_probed(uint8_t *fn, uint32_t site, const long a[6], struct hit ret[2])
{
	long r;

	assert_true(site > 0 && site < PROBESITE_MAX_BYTES);
	memset(bps, 0, sizeof(bps));
	bps[0].addr = fn;
	bps[1].addr = fn + site;
	for (int k = 0; k < 2; k++) {
		bps[k].orig = *bps[k].addr;
		*bps[k].addr = 0xcc;
	}
	bp_armed = 1;
	r = ((fn6_t)(void *)fn)(a[0], a[1], a[2], a[3], a[4], a[5]);
	bp_armed = 0;
	for (int k = 0; k < 2; k++) {
		*bps[k].addr = bps[k].orig;
		ret[k] = bps[k].hit;
	}
	return r;
}

struct ps_node {
	struct ps_node *next;
	long val;
};

struct psfix {
	void *dl;
	struct sigaction old;
	long pagesz;
};

static int psfix_setup(void **state)
{
	static struct psfix fx;
	const char *b = getenv("MS_BUILD");
	char path[PATH_MAX];
	struct sigaction sa;

	snprintf(path, sizeof(path), "%s/fixtures/probesite/libpsfix.so", b && *b ? b : "build");
	fx.dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!fx.dl) {
		print_error("dlopen %s: %s\n", path, dlerror());
		return -1;
	}
	fx.pagesz = sysconf(_SC_PAGESIZE);
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_sigtrap;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGTRAP, &sa, &fx.old))
		return -1;
	*state = &fx;
	return 0;
}

static int psfix_teardown(void **state)
{
	struct psfix *fx = *state;

	sigaction(SIGTRAP, &fx->old, NULL);
	dlclose(fx->dl);
	return 0;
}

/* The fixture's text, made writable (private COW copy) around fn's prologue. */
static uint8_t *psfix_func(struct psfix *fx, const char *name)
{
	uint8_t *fn = dlsym(fx->dl, name);
	uintptr_t lo, hi;

	assert_non_null(fn);
	lo = (uintptr_t)fn & ~(uintptr_t)(fx->pagesz - 1);
	hi = ((uintptr_t)fn + PROBESITE_MAX_BYTES + fx->pagesz - 1) & ~(uintptr_t)(fx->pagesz - 1);
	assert_int_equal(mprotect((void *)lo, hi - lo, PROT_READ | PROT_WRITE | PROT_EXEC), 0);
	return fn;
}

/*
 * For each input, one call with int3 at 0 and at site: both fire exactly
 * once and see the same argument registers (those in args) and the same
 * rsp and rbp; a return value is what the unprobed function returns.
 */
static void assert_site_equivalent(uint8_t *fn, uint32_t site, uint32_t args, bool returns,
				   const long inputs[][6], size_t n_inputs)
{
	for (size_t i = 0; i < n_inputs; i++) {
		const long *a = inputs[i];
		struct hit h[2];
		long r;

		r = run_probed(fn, site, a, h);
		assert_int_equal(bp_unexpected, 0);
		long plain = ((fn6_t)(void *)fn)(a[0], a[1], a[2], a[3], a[4], a[5]);

		/* rax after a void function is noise */
		if (returns)
			assert_int_equal(r, plain);
		assert_int_equal(h[0].n, 1);
		assert_int_equal(h[1].n, 1);
		for (int k = 0; k < 6; k++) {
			/* offset 0 sees the call's arguments: the harness itself works */
			assert_int_equal(h[0].args[k], (uint64_t)a[k]);
			if (args & (1u << k))
				assert_int_equal(h[1].args[k], h[0].args[k]);
		}
		assert_int_equal(h[1].rsp, h[0].rsp);
		assert_int_equal(h[1].rbp, h[0].rbp);
	}
}

static void test_compiled_null_check_prologue_is_equivalent_at_the_je(void **state)
{
	struct psfix *fx = *state;
	struct ps_node c = { NULL, 30 }, b = { &c, 20 }, a = { &b, 10 };
	const long inputs[][6] = {
		{ 0, 1, 2, 3, 4, 5 },				/* je taken */
		{ (long)&a, 11, 22, 33, 44, 55 },		/* falls through, loops */
		{ (long)&c, -1, -2, -3, -4, -5 },
	};
	const char *names[] = { "ps_sum", "ps_release" };
	const bool returns[] = { true, false };

	for (size_t k = 0; k < 2; k++) {
		uint8_t *fn = psfix_func(fx, names[k]);
		struct probesite ps = choose(fn, PROBESITE_MAX_BYTES, RDI, false);
		size_t ilen;

		/* gcc -O2 -fcf-protection gave: endbr64; test %rdi,%rdi; je rel8 */
		assert_memory_equal(fn, ((uint8_t[]){ 0xf3, 0x0f, 0x1e, 0xfa, 0x48, 0x85, 0xff }),
				    7);
		assert_int_equal(probesite__classify(fn + 7, 8, &ilen), PROBESITE_EMULATED);
		assert_int_equal(ps.offset, 7);
		assert_true(ps.emulated);
		assert_site_equivalent(fn, ps.offset, RDI, returns[k], inputs, 3);
	}
	/* sanity: the calls really ran the code (ps_release sank 10+11 and 30+31) */
	assert_int_equal(*(long *)dlsym(fx->dl, "ps_sunk"), 2 * (21 + 61));
}

static void test_clobbered_argument_shows_why_the_walk_stops(void **state)
{
	struct psfix *fx = *state;
	uint8_t *fn = psfix_func(fx, "ps_clobber");
	const long in[6] = { 0x1111, 0x2222, 3, 4, 5, 6 };
	struct probesite ps;
	struct hit h[2];

	/* endbr64; mov %rsi,%rdi; push %rbx */
	assert_memory_equal(fn, ((uint8_t[]){ 0xf3, 0x0f, 0x1e, 0xfa, 0x48, 0x89, 0xf7, 0x53 }), 8);
	ps = choose(fn, PROBESITE_MAX_BYTES, RDI, false);
	assert_int_equal(ps.offset, 0);

	/* in one call, a probe at the push would have read b for rdi, not a */
	assert_int_equal(run_probed(fn, 7, in, h), 0x2222);
	assert_int_equal(h[0].n, 1);
	assert_int_equal(h[1].n, 1);
	assert_int_equal(h[0].args[0], 0x1111);
	assert_int_equal(h[1].args[0], 0x2222);

	/* a probe reading only rsi may go to the push, and sees the same rsi */
	ps = choose(fn, PROBESITE_MAX_BYTES, RSI, false);
	assert_int_equal(ps.offset, 7);
	assert_site_equivalent(fn, ps.offset, RSI, true, &in, 1);
}

/*
 * Go prologues, as the Go matrix's toolchains emit them for runtime.mallocgc
 * and runtime.mProf_Malloc: the probe goes just past the jbe to morestack.
 */
static void test_go_past_stack_check(void **state)
{
	/* go1.24-1.27: cmp 0x10(%r14),%rsp; jbe rel32; push %rbp */
	static const uint8_t plain[] = { 0x49, 0x3b, 0x66, 0x10, 0x0f, 0x86, 0x87, 0x01, 0x00, 0x00,
					 0x55, 0x48, 0x89, 0xe5 };
	/* go1.19 mProf_Malloc: lea -0xf0(%rsp),%r12; cmp 0x10(%r14),%r12; jbe rel32 */
	static const uint8_t lea32[] = { 0x4c, 0x8d, 0xa4, 0x24, 0x10, 0xff, 0xff, 0xff,
					 0x4d, 0x3b, 0x66, 0x10, 0x0f, 0x86, 0xaa, 0x01, 0x00, 0x00,
					 0x48, 0x81, 0xec, 0x70, 0x01, 0x00, 0x00 };
	/* go1.23 mallocgc: lea -0x18(%rsp),%r12; cmp 0x10(%r14),%r12; jbe rel32 */
	static const uint8_t lea8[] = { 0x4c, 0x8d, 0x64, 0x24, 0xe8, 0x4d, 0x3b, 0x66, 0x10,
					0x0f, 0x86, 0xbc, 0x09, 0x00, 0x00, 0x55 };
	/* before the register ABI: mov %fs:-8,%rcx; cmp 0x10(%rcx),%rsp; jbe rel8 */
	static const uint8_t tls[] = { 0x64, 0x48, 0x8b, 0x0c, 0x25, 0xf8, 0xff, 0xff, 0xff,
				       0x48, 0x3b, 0x61, 0x10, 0x76, 0x40, 0x48, 0x83, 0xec, 0x28 };
	/* ... with a large frame: lea -0x100(%rsp),%rax; cmp 0x10(%rcx),%rax; jbe rel32 */
	static const uint8_t tls_lea[] = { 0x64, 0x48, 0x8b, 0x0c, 0x25, 0xf8, 0xff, 0xff, 0xff,
					   0x48, 0x8d, 0x84, 0x24, 0x00, 0xff, 0xff, 0xff,
					   0x48, 0x3b, 0x41, 0x10, 0x0f, 0x86, 0x10, 0x02, 0x00, 0x00 };
	/* a C function, a check against another register, and cut short */
	static const uint8_t c_fn[] = { 0x55, 0x48, 0x89, 0xe5, 0x48, 0x83, 0xec, 0x10 };
	static const uint8_t other[] = { 0x49, 0x3b, 0x67, 0x10, 0x0f, 0x86, 0x87, 0x01, 0x00, 0x00 };

	assert_int_equal(probesite__go_past_stack_check(plain, sizeof(plain)), 10);
	assert_int_equal(probesite__go_past_stack_check(lea32, sizeof(lea32)), 18);
	assert_int_equal(probesite__go_past_stack_check(lea8, sizeof(lea8)), 15);
	assert_int_equal(probesite__go_past_stack_check(tls, sizeof(tls)), 15);
	assert_int_equal(probesite__go_past_stack_check(tls_lea, sizeof(tls_lea)), 27);
	assert_int_equal(probesite__go_past_stack_check(c_fn, sizeof(c_fn)), 0);
	assert_int_equal(probesite__go_past_stack_check(other, sizeof(other)), 0);
	for (size_t n = 0; n < 10; n++)
		assert_int_equal(probesite__go_past_stack_check(plain, n), 0);
	assert_int_equal(probesite__go_past_stack_check(NULL, 10), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_encoding_is_classified_exactly),
		cmocka_unit_test(test_free_shape_moves_to_the_je),
		cmocka_unit_test(test_endbr64_test_je_moves_to_7),
		cmocka_unit_test(test_at_entry_always_stays_at_0),
		cmocka_unit_test(test_emulated_entry_stays_at_0),
		cmocka_unit_test(test_writing_a_read_register_stops_the_walk),
		cmocka_unit_test(test_stack_and_frame_pointer_are_always_kept),
		cmocka_unit_test(test_other_registers_are_free_to_change),
		cmocka_unit_test(test_sites_of_every_emulated_kind),
		cmocka_unit_test(test_walk_is_bounded),
		cmocka_unit_test(test_garbage_and_truncation_stay_at_entry),
		cmocka_unit_test(test_empty_and_invalid_input),
		cmocka_unit_test(test_libc_allocators_on_this_machine),
		cmocka_unit_test(test_musl_allocators_start_with_an_emulated_instruction),
		cmocka_unit_test(test_fp_prologue_patterns),
		cmocka_unit_test(test_module_frame_pointer_verdicts),
		cmocka_unit_test_setup_teardown(
			test_compiled_null_check_prologue_is_equivalent_at_the_je,
			psfix_setup, psfix_teardown),
		cmocka_unit_test_setup_teardown(test_clobbered_argument_shows_why_the_walk_stops,
						psfix_setup, psfix_teardown),
		cmocka_unit_test(test_go_past_stack_check),
	};

	return cmocka_run_group_tests_name("probesite", tests, NULL, NULL);
}
