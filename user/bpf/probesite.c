// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * probesite.c - a whitelist x86_64 decoder that moves a uprobe from a
 * single-stepped prologue instruction to the first emulated one after it.
 *
 * What the kernel (6.18, arch/x86/kernel/uprobes.c) emulates, and so what
 * EMULATED means here:
 *  - branch_setup_xol_ops: jmp rel8/rel32 (eb, e9), call rel32 (e8),
 *    jcc rel8 (70-7f) and rel32 (0f 80-8f), each without a 66 prefix (a 66
 *    prefix makes the probe fail to register); nops, i.e. an exact copy of
 *    one of the kernel's x86_nops[1..8] or a 90 opcode.
 *  - push_setup_xol_ops: push reg, one byte (50-57), or with exactly the
 *    REX prefix 41 (r8-r15). Any other REX on a push is single-stepped.
 * Prefixes ES/CS/SS/DS/LOCK make uprobe_init_insn refuse the probe, so no
 * such encoding is whitelisted at all (e.g. the 2e-prefixed NOP9..NOP11).
 *
 * The decoder knows only the encodings listed in decode(); it never guesses
 * a length, so it never walks into the middle of an instruction.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "bpf/probesite.h"
#include "target/elf.h"

enum {
	R_AX, R_CX, R_DX, R_BX, R_SP, R_BP, R_SI, R_DI,
	R_8, R_9, R_10, R_11, R_12, R_13, R_14, R_15,
};

static const char *const reg_names[16] = {
	"rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
	"r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15",
};

/* The kernel's x86_nops[] for 64-bit (asm/nops.h), NOP1..NOP8. */
static const struct {
	uint8_t len;
	uint8_t b[8];
} kernel_nops[] = {
	{ 1, { 0x90 } },
	{ 2, { 0x66, 0x90 } },
	{ 3, { 0x0f, 0x1f, 0x00 } },
	{ 4, { 0x0f, 0x1f, 0x40, 0x00 } },
	{ 5, { 0x0f, 0x1f, 0x44, 0x00, 0x00 } },
	{ 6, { 0x66, 0x0f, 0x1f, 0x44, 0x00, 0x00 } },
	{ 7, { 0x0f, 0x1f, 0x80, 0x00, 0x00, 0x00, 0x00 } },
	{ 8, { 0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00 } },
};

struct insn {
	enum probesite_kind kind;
	uint8_t len;
	uint16_t writes;	/* general registers written, bit n = register n */
	bool writes_mem;	/* stores to memory (push/call) */
	bool branch;		/* may transfer control */
	bool nop5;
	const char *name;
};

#define MOD(m)	((m) >> 6)
#define REG(m)	(((m) >> 3) & 7)
#define RM(m)	((m) & 7)

#define REX_W(r)	(((r) >> 3) & 1)
#define REX_R(r)	(((r) >> 2) & 1)
#define REX_B(r)	((r) & 1)

/*
 * Bytes taken by a ModRM byte and what it pulls in (SIB, displacement),
 * or -1 if they do not fit in avail. In 64-bit mode mod=00 rm=101 is
 * rip-relative with a disp32.
 */
static int modrm_len(const uint8_t *c, size_t avail)
{
	uint8_t m;
	int n = 1;

	if (avail < 1)
		return -1;
	m = c[0];
	if (MOD(m) == 3)
		return 1;
	if (RM(m) == 4) {
		if (avail < 2)
			return -1;
		n++;
		if (MOD(m) == 0 && RM(c[1]) == 5)
			n += 4;
	} else if (MOD(m) == 0 && RM(m) == 5) {
		n += 4;
	}
	if (MOD(m) == 1)
		n += 1;
	else if (MOD(m) == 2)
		n += 4;
	return (size_t)n <= avail ? n : -1;
}

static bool is_riprel(uint8_t m)
{
	return MOD(m) == 0 && RM(m) == 5;
}

/* ALU "op r/m, r" (rm_dst) and "op r, r/m" forms with a register operand. */
static const struct {
	uint8_t op;
	bool rm_dst;
	bool writes;
	const char *name;
} alu_rr[] = {
	{ 0x01, true, true, "add" },	{ 0x03, false, true, "add" },
	{ 0x09, true, true, "or" },	{ 0x0b, false, true, "or" },
	{ 0x21, true, true, "and" },	{ 0x23, false, true, "and" },
	{ 0x29, true, true, "sub" },	{ 0x2b, false, true, "sub" },
	{ 0x31, true, true, "xor" },	{ 0x33, false, true, "xor" },
	{ 0x39, true, false, "cmp" },	{ 0x3b, false, false, "cmp" },
	{ 0x84, true, false, "test" },	{ 0x85, true, false, "test" },
	{ 0x89, true, true, "mov" },	{ 0x8b, false, true, "mov" },
};

static const char *const grp1_names[8] = { "add", "or", "adc", "sbb", "and", "sub", "xor", "cmp" };

static bool fits(size_t have, size_t need)
{
	return need <= have;
}

/* Fill d with one decoded instruction; returns 0, what decode() returns for it. */
static int insn_set(struct insn *d, enum probesite_kind kind, size_t len, uint16_t writes,
		    const char *name)
{
	d->kind = kind;
	d->len = (uint8_t)len;
	d->writes = writes;
	d->name = name;
	return 0;
}

/* Register number of a ModRM field extended by a REX bit. */
static uint16_t reg_bit(unsigned int field, unsigned int rex_bit)
{
	return (uint16_t)(1u << (field | rex_bit << 3));
}

/*
 * The decoders of one family each: 0 and d filled, -1 when the bytes are
 * not (entirely) a whitelisted encoding, 1 when they are not of the family
 * (the next one is asked).
 */

/* Exact forms: every kernel nop, and endbr64. */
static int decode_exact(const uint8_t *c, size_t len, struct insn *d)
{
	size_t i;

	for (i = 0; i < sizeof(kernel_nops) / sizeof(kernel_nops[0]); i++) {
		if (len >= kernel_nops[i].len && !memcmp(c, kernel_nops[i].b, kernel_nops[i].len)) {
			d->nop5 = kernel_nops[i].len == 5;
			return insn_set(d, PROBESITE_EMULATED, kernel_nops[i].len, 0, "nop");
		}
	}
	if (len >= 4 && c[0] == 0xf3 && c[1] == 0x0f && c[2] == 0x1e && c[3] == 0xfa)
		return insn_set(d, PROBESITE_SINGLE_STEP, 4, 0, "endbr64");
	return 1;
}

/*
 * Other nopw/nopl (0f 1f /0, optionally behind one 66): no x86_nops
 * match, so 6.18 single-steps them. They touch nothing. No other
 * 66-prefixed encoding is whitelisted.
 */
static int decode_66_nop(const uint8_t *c, size_t len, struct insn *d)
{
	size_t i = c[0] == 0x66 ? 1 : 0;
	int ml;

	if (fits(len, i + 3) && c[i] == 0x0f && c[i + 1] == 0x1f && REG(c[i + 2]) == 0) {
		ml = modrm_len(c + i + 2, len - i - 2);
		if (ml < 0)
			return -1;
		return insn_set(d, PROBESITE_SINGLE_STEP, i + 2 + ml, 0, "nop");
	}
	return i ? -1 : 1;
}

/* Opcode op at c[i - 1] with no ModRM: push, mov $imm, test/cmp on the accumulator. */
static int decode_no_modrm(const uint8_t *c, size_t len, uint8_t rex, size_t i, uint8_t op,
			   struct insn *d)
{
	size_t imm;

	/* push reg: emulated only as 50-57 or 41 50-57 */
	if (op >= 0x50 && op <= 0x57) {
		d->writes_mem = true;
		return insn_set(d, (!rex || rex == 0x41) ? PROBESITE_EMULATED : PROBESITE_SINGLE_STEP,
				i, 1u << R_SP, "push");
	}
	/* mov $imm, r32 (or movabs $imm64, r64 with REX.W) */
	if (op >= 0xb8 && op <= 0xbf) {
		imm = REX_W(rex) ? 8 : 4;
		if (!fits(len, i + imm))
			return -1;
		return insn_set(d, PROBESITE_SINGLE_STEP, i + imm, reg_bit(op & 7, REX_B(rex)),
				"mov");
	}
	/* test/cmp accumulator, imm: read only */
	if (op == 0xa8 || op == 0x3c || op == 0xa9 || op == 0x3d) {
		imm = (op == 0xa8 || op == 0x3c) ? 1 : 4;
		if (!fits(len, i + imm))
			return -1;
		return insn_set(d, PROBESITE_SINGLE_STEP, i + imm, 0,
				(op == 0xa8 || op == 0xa9) ? "test" : "cmp");
	}
	return 1;
}

/* Branches without any prefix (REX included: that is off the whitelist). */
static int decode_branch(const uint8_t *c, size_t len, uint8_t op, struct insn *d)
{
	size_t n;

	if (op >= 0x70 && op <= 0x7f)
		n = 2;
	else if (op == 0xeb || op == 0xe9 || op == 0xe8)
		n = op == 0xeb ? 2 : 5;
	else if (op == 0x0f && fits(len, 2) && c[1] >= 0x80 && c[1] <= 0x8f)
		n = 6;
	else
		return 1;
	if (!fits(len, n))
		return -1;
	d->branch = true;
	d->writes_mem = op == 0xe8;
	return insn_set(d, PROBESITE_EMULATED, n, op == 0xe8 ? 1u << R_SP : 0,
			op == 0xe8 ? "call" : op == 0xe9 || op == 0xeb ? "jmp" : "jcc");
}

/* ALU "op r/m, r" and "op r, r/m" with register operands only (alu_rr[]). */
static int decode_alu_rr(uint8_t rex, size_t i, uint8_t op, uint8_t m, struct insn *d)
{
	unsigned int k;

	for (k = 0; k < sizeof(alu_rr) / sizeof(alu_rr[0]); k++) {
		if (alu_rr[k].op != op)
			continue;
		if (MOD(m) != 3)	/* memory operands: not whitelisted */
			return -1;
		return insn_set(d, PROBESITE_SINGLE_STEP, i + 1,
				!alu_rr[k].writes ? 0 : alu_rr[k].rm_dst ? reg_bit(RM(m), REX_B(rex))
									 : reg_bit(REG(m), REX_R(rex)),
				alu_rr[k].name);
	}
	return 1;
}

/* Group 1 with an immediate (80 r/m8 imm8: only cmp, a read; 81 imm32; 83 imm8). */
static int decode_grp1(size_t len, uint8_t rex, size_t i, uint8_t op, uint8_t m, int ml,
		       struct insn *d)
{
	size_t imm = op == 0x81 ? 4 : 1;
	uint16_t writes = 0;

	if (!fits(len, i + ml + imm))
		return -1;
	if (MOD(m) == 3) {
		if (op == 0x80 && REG(m) != 7)	/* byte writes: not whitelisted */
			return -1;
		if (REG(m) != 7)
			writes = reg_bit(RM(m), REX_B(rex));
	} else if (!is_riprel(m) || REG(m) != 7) {
		/* memory: only cmp $imm, disp32(%rip), which reads */
		return -1;
	}
	return insn_set(d, PROBESITE_SINGLE_STEP, i + ml + imm, writes, grp1_names[REG(m)]);
}

/* The other ModRM forms: test $imm, mov $imm32 to a register, lea. */
static int decode_modrm_other(size_t len, uint8_t rex, size_t i, uint8_t op, uint8_t m, int ml,
			      struct insn *d)
{
	size_t imm;

	switch (op) {
	case 0xf6:	/* test r/m8, imm8 */
	case 0xf7:	/* test r/m32/64, imm32 */
		imm = op == 0xf6 ? 1 : 4;
		if (MOD(m) != 3 || REG(m) != 0 || !fits(len, i + 1 + imm))
			return -1;
		return insn_set(d, PROBESITE_SINGLE_STEP, i + 1 + imm, 0, "test");
	case 0xc7:	/* mov $imm32, r/m32/64 */
		if (MOD(m) != 3 || REG(m) != 0 || !fits(len, i + 1 + 4))
			return -1;
		return insn_set(d, PROBESITE_SINGLE_STEP, i + 1 + 4, reg_bit(RM(m), REX_B(rex)),
				"mov");
	case 0x8d:	/* lea: computes an address, touches no memory */
		if (MOD(m) == 3)
			return -1;
		return insn_set(d, PROBESITE_SINGLE_STEP, i + ml, reg_bit(REG(m), REX_R(rex)),
				"lea");
	}
	return -1;
}

/*
 * Decode one whitelisted instruction. Returns 0 and fills d, or -1 when
 * the bytes are not (entirely) one of the encodings of the decoders above.
 */
static int decode(const uint8_t *c, size_t len, struct insn *d)
{
	uint8_t rex = 0, op, m;
	size_t i = 0;
	int r, ml;

	memset(d, 0, sizeof(*d));
	if (!c || len == 0)
		return -1;
	r = decode_exact(c, len, d);
	if (r <= 0)
		return r;
	r = decode_66_nop(c, len, d);
	if (r <= 0)
		return r;

	if (c[0] >= 0x40 && c[0] <= 0x4f) {
		rex = c[0];
		i = 1;
	}
	if (!fits(len, i + 1))
		return -1;
	op = c[i++];
	r = decode_no_modrm(c, len, rex, i, op, d);
	if (r <= 0)
		return r;
	if (!rex) {
		r = decode_branch(c, len, op, d);
		if (r <= 0)
			return r;
	}

	/* Everything below has a ModRM byte. */
	if (!fits(len, i + 1))
		return -1;
	m = c[i];
	ml = modrm_len(c + i, len - i);
	if (ml < 0)
		return -1;
	r = decode_alu_rr(rex, i, op, m, d);
	if (r <= 0)
		return r;
	if (op == 0x80 || op == 0x81 || op == 0x83)
		return decode_grp1(len, rex, i, op, m, ml, d);
	return decode_modrm_other(len, rex, i, op, m, ml, d);
}

enum probesite_kind probesite__classify(const uint8_t *code, size_t len, size_t *ret_ilen)
{
	struct insn d;

	if (decode(code, len, &d)) {
		if (ret_ilen)
			*ret_ilen = 0;
		return PROBESITE_UNKNOWN;
	}
	if (ret_ilen)
		*ret_ilen = d.len;
	return d.kind;
}

const char *probesite__kind_name(enum probesite_kind kind)
{
	switch (kind) {
	case PROBESITE_SINGLE_STEP:
		return "single-step";
	case PROBESITE_EMULATED:
		return "emulated";
	default:
		return "unknown";
	}
}

static uint16_t args_to_regs(uint32_t args)
{
	static const uint8_t reg_of_arg[6] = { R_DI, R_SI, R_DX, R_CX, R_8, R_9 };
	uint16_t regs = 0;
	unsigned int k;

	for (k = 0; k < 6; k++)
		if (args & (1u << k))
			regs |= 1u << reg_of_arg[k];
	return regs;
}

static const char *first_reg(uint16_t regs)
{
	unsigned int k;

	for (k = 0; k < 16; k++)
		if (regs & (1u << k))
			return reg_names[k];
	return "?";
}

/* The answer when the probe stays at the entry; reason set by the caller. */
static void at_offset_zero(const uint8_t *code, size_t len, struct probesite *ret)
{
	struct insn d;

	memset(ret, 0, sizeof(*ret));
	if (!decode(code, len, &d)) {
		ret->ilen = d.len;
		ret->emulated = d.kind == PROBESITE_EMULATED;
		ret->optimizable = d.nop5;
	}
}

int probesite__choose(const uint8_t *code, size_t len, const struct probesite_req *req,
		      struct probesite *ret)
{
	/* Stack and frame pointer stay as at entry so stack walks see the same frames. */
	const uint16_t keep_stack = 1u << R_SP | 1u << R_BP;
	size_t off = 0, limit;
	unsigned int n = 0;
	uint16_t keep;
	struct insn d;

	if (!req || !ret || (!code && len) || (req->args & ~(uint32_t)PROBESITE_ARG_ALL))
		return -EINVAL;

	at_offset_zero(code, len, ret);
	if (req->at_entry) {
		snprintf(ret->reason, sizeof(ret->reason),
			 "must be at entry (uretprobe / entry stack pointer)");
		return 0;
	}
	if (len == 0) {
		snprintf(ret->reason, sizeof(ret->reason), "no code bytes: entry");
		return 0;
	}

	keep = args_to_regs(req->args) | keep_stack;
	limit = len < PROBESITE_MAX_BYTES ? len : PROBESITE_MAX_BYTES;
	while (off < limit && n < PROBESITE_MAX_INSNS) {
		if (decode(code + off, len - off, &d)) {
			snprintf(ret->reason, sizeof(ret->reason),
				 "+%zu: byte %02x starts no whitelisted instruction: entry",
				 off, code[off]);
			return 0;
		}
		if (d.kind == PROBESITE_EMULATED) {
			if (off == 0) {
				snprintf(ret->reason, sizeof(ret->reason),
					 "entry instruction (%s) is emulated", d.name);
				return 0;
			}
			ret->offset = off;
			ret->ilen = d.len;
			ret->skipped = n;
			ret->emulated = true;
			ret->optimizable = d.nop5;
			snprintf(ret->reason, sizeof(ret->reason),
				 "+%zu: %s is emulated; %u single-stepped instruction(s) before it "
				 "leave the probe's inputs alone", off, d.name, n);
			return 0;
		}
		if (d.writes_mem || d.branch) {
			snprintf(ret->reason, sizeof(ret->reason),
				 "+%zu: single-stepped %s %s: entry", off, d.name,
				 d.writes_mem ? "stores to memory" : "branches");
			return 0;
		}
		if (d.writes & keep) {
			snprintf(ret->reason, sizeof(ret->reason), "+%zu: %s writes %s: entry",
				 off, d.name, first_reg(d.writes & keep));
			return 0;
		}
		off += d.len;
		n++;
	}
	snprintf(ret->reason, sizeof(ret->reason),
		 "no emulated instruction within %zu bytes / %u instructions: entry", off, n);
	return 0;
}

bool probesite__fp_prologue(const uint8_t *code, size_t len)
{
	if (!code)
		return false;
	/*
	 * Not only at the entry and not only right after push %rbp: gcc
	 * shrink-wraps (the frame is set up after an early-exit test) and
	 * schedules other instructions in between. mov %rsp,%rbp (48 89 e5 or
	 * 48 8b ec) is the frame itself; code without frame pointers has it only
	 * in the odd function with alloca, and a verdict takes half of a module.
	 */
	for (size_t i = 0; i + 3 <= len; i++)
		if (code[i] == 0x48 && ((code[i + 1] == 0x89 && code[i + 2] == 0xe5) ||
					(code[i + 1] == 0x8b && code[i + 2] == 0xec)))
			return true;
	return false;
}

bool probesite__fp_verdict(unsigned int with_fp, unsigned int sampled)
{
	return sampled >= PROBESITE_FP_MIN_SAMPLE && with_fp * 2 >= sampled;
}

int probesite__module_fp(const char *path, bool *ret_fp)
{
	enum { SAMPLE = 64 };
	struct ms_elf *elf = ms_elf__open(path);
	uint64_t vaddrs[SAMPLE];
	unsigned int with = 0, sampled = 0;
	int n;

	if (!elf)
		return -errno;
	/* tiny functions (stubs, thunks) have no frame either way */
	n = ms_elf__sample_funcs(elf, 16, vaddrs, SAMPLE);
	for (int i = 0; i < n; i++) {
		uint8_t code[PROBESITE_FP_SCAN];
		int got = ms_elf__read_vaddr(elf, vaddrs[i], code, sizeof(code));

		if (got <= 0)
			continue;
		sampled++;
		with += probesite__fp_prologue(code, (size_t)got);
	}
	ms_elf__close(elf);
	if (n < 0)
		return n;
	if (sampled < PROBESITE_FP_MIN_SAMPLE)
		return -ENODATA;
	*ret_fp = probesite__fp_verdict(with, sampled);
	return 0;
}

/* code[*at..] starts with the n bytes of pat: step past them. */
static bool take(const uint8_t *code, size_t len, size_t *at, const uint8_t *pat, size_t n)
{
	if (*at + n > len || memcmp(code + *at, pat, n))
		return false;
	*at += n;
	return true;
}

/* lea disp8/disp32(%rsp),reg: rex + 8d + modrm 0x64/0xa4 (reg encoded) + sib 24 + disp */
static bool take_lea_rsp(const uint8_t *code, size_t len, size_t *at, uint8_t rex, uint8_t modrm8)
{
	size_t n;

	if (*at + 4 > len || code[*at] != rex || code[*at + 1] != 0x8d || code[*at + 3] != 0x24)
		return false;
	if (code[*at + 2] == modrm8)
		n = 5;
	else if (code[*at + 2] == (uint8_t)(modrm8 + 0x40))
		n = 8;
	else
		return false;
	if (*at + n > len)
		return false;
	*at += n;
	return true;
}

uint32_t probesite__go_past_stack_check(const uint8_t *code, size_t len)
{
	static const uint8_t cmp_r14_rsp[] = { 0x49, 0x3b, 0x66, 0x10 };
	static const uint8_t cmp_r14_r12[] = { 0x4d, 0x3b, 0x66, 0x10 };
	static const uint8_t mov_fs_rcx[] = { 0x64, 0x48, 0x8b, 0x0c, 0x25, 0xf8, 0xff, 0xff, 0xff };
	static const uint8_t cmp_rcx_rsp[] = { 0x48, 0x3b, 0x61, 0x10 };
	static const uint8_t cmp_rcx_rax[] = { 0x48, 0x3b, 0x41, 0x10 };
	size_t at = 0;

	if (!code)
		return 0;
	if (take(code, len, &at, mov_fs_rcx, sizeof(mov_fs_rcx))) {
		/* before the register ABI: g from TLS in rcx */
		if (!take(code, len, &at, cmp_rcx_rsp, sizeof(cmp_rcx_rsp)) &&
		    !(take_lea_rsp(code, len, &at, 0x48, 0x44) &&
		      take(code, len, &at, cmp_rcx_rax, sizeof(cmp_rcx_rax))))
			return 0;
	} else if (!take(code, len, &at, cmp_r14_rsp, sizeof(cmp_r14_rsp)) &&
		   !(take_lea_rsp(code, len, &at, 0x4c, 0x64) &&
		     take(code, len, &at, cmp_r14_r12, sizeof(cmp_r14_r12)))) {
		return 0;
	}
	/* jbe rel8 / jbe rel32 */
	if (at + 2 <= len && code[at] == 0x76)
		return (uint32_t)(at + 2);
	if (at + 6 <= len && code[at] == 0x0f && code[at + 1] == 0x86)
		return (uint32_t)(at + 6);
	return 0;
}
